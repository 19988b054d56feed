package store

import "syscall"

// Windows says a disk is full with its own codes, which syscall.ENOSPC,
// a stand-in there, does not match: ERROR_HANDLE_DISK_FULL (39) and
// ERROR_DISK_FULL (112).
func init() {
	diskFullErrnos = append(diskFullErrnos, syscall.Errno(39), syscall.Errno(112))
}
