//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockDir takes an exclusive advisory lock (flock) on DIR/lock, held as
// long as the returned file stays open, and writes this process's id in
// the file. A data directory that another process holds is refused, with
// that process's id: two servers on one directory would each take the
// other's running job for a crashed one. The system releases the lock when
// the process ends, however it ends; the file stays.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, inUse(dir, f)
		}
		return nil, fmt.Errorf("store: locking %s: %w", path, err)
	}
	return holdLock(f)
}
