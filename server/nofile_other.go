//go:build !unix

package main

// fileLimit returns 0, unknown: Windows has no such limit per process
// that a listener would reach first, and js none at all.
func fileLimit() uint64 { return 0 }
