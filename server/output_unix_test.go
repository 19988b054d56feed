//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
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

// TestOutLongName: a --out of 250 bytes, a name the file system takes,
// gets its model (its temporary file's name, the name and 16 bytes more,
// did not fit in 255, and train refused it before training: "cannot
// write in the output folder"); one of 300 bytes is refused before
// training, saying its name is too long.
func TestOutLongName(t *testing.T) {
	dir, _, train := shapesTrainer(t)
	long := strings.Repeat("m", 238) + ".safetensors"
	if _, err := os.Stat(train(long)); err != nil {
		t.Errorf("the model of a 250-byte name: %v", err)
	}
	tooLong := filepath.Join(dir, strings.Repeat("m", 288)+".safetensors")
	wantBadInput(t, "--out "+tooLong+": file name too long", "train", "--out", tooLong)
}
