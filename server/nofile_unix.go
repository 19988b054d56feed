//go:build unix

package main

import "syscall"

// fileLimit returns the process's limit of open files (RLIMIT_NOFILE, its
// soft limit, which Go raises to the hard one as it starts), or 0 where
// it cannot be read.
func fileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return uint64(rl.Cur)
}
