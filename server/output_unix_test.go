//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOutNotRegularFile: a named pipe or a device given as --out is
// refused before training and left as it was (the model's rename replaced
// a FIFO by a regular file, and, run as root, would have replaced
// /dev/null).
func TestOutNotRegularFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	wantBadInput(t, "--out "+fifo+" is not a regular file (a named pipe)", "train", "--out", fifo)
	if st, err := os.Stat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the named pipe is gone or replaced: %v", err)
	}
	wantBadInput(t, "--out "+os.DevNull+" is not a regular file (a character device)", "train", "--out", os.DevNull)
	if st, err := os.Stat(os.DevNull); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("%s is no longer a device: %v", os.DevNull, err)
	}
}
