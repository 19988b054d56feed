//go:build !unix

package main

import "io"

// termWidth is the width in columns of terminal w: unknown here.
func termWidth(io.Writer) int { return 0 }
