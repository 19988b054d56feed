//go:build windows

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// lockAt is where lockDir's lock lies in DIR/lock, far past the process
// id the file holds: Windows' locks are mandatory, and a lock on the id's
// bytes would keep a refused server from reading whose it is.
const lockAt = 1 << 40

// lockDir takes an exclusive lock (LockFileEx) on a byte of DIR/lock, held
// as long as the returned file stays open, and writes this process's id in
// the file. A data directory that another process holds, or another Store
// (the lock is the open file's), is refused, with that process's id: two
// servers on one directory would each take the other's running job for a
// crashed one. Windows releases the lock when the file is closed or the
// process ends, however it ends; the file stays.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	ol := windows.Overlapped{OffsetHigh: lockAt >> 32}
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if err != nil {
		defer f.Close()
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
			return nil, inUse(dir, f)
		}
		return nil, fmt.Errorf("store: locking %s: %w", path, err)
	}
	return holdLock(f)
}
