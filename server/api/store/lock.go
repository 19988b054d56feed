//go:build unix || windows

package store

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// inUse is lockDir's error for a data directory locked by another process,
// whose id f holds (none yet if that process has only just locked it).
func inUse(dir string, f *os.File) error {
	var b [32]byte
	n, _ := f.ReadAt(b[:], 0)
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n]))); err == nil {
		return fmt.Errorf("data directory %s is %w (pid %d)", dir, ErrInUse, pid)
	}
	return fmt.Errorf("data directory %s is %w", dir, ErrInUse)
}

// holdLock finishes lockDir once f, DIR/lock, is locked: it writes this
// process's id in it, for inUse, and returns f, closed on an error.
func holdLock(f *os.File) (*os.File, error) {
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.WriteAt(pid, 0); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
