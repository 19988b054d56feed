//go:build unix

package data

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"metriclab/core"
)

// TestImageFolderSpecialFiles: a named pipe or a device with an image's
// name (a link to one too) is refused, naming it, before it is opened:
// reading a pipe waited for a writer for ever, and a link to /dev/zero
// read until memory ran out.
func TestImageFolderSpecialFiles(t *testing.T) {
	in := core.Input{Channels: 1, Height: 2, Width: 2}
	load := func(dir string) error {
		done := make(chan error, 1)
		go func() {
			_, err := ImageFolder(dir, in)
			done <- err
		}()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatalf("ImageFolder(%s) still reading after 5 s", dir)
			return nil
		}
	}
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "a", "x.png"), grey(2, 2, func(x, y int) uint8 { return 0 }))
	pipe := filepath.Join(dir, "a", "y.png")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Skip(err)
	}
	if err := load(dir); err == nil || err.Error() != "data: "+pipe+": not a regular file" {
		t.Errorf("a named pipe: error %v, want %q", err, "data: "+pipe+": not a regular file")
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		return
	}
	os.Remove(pipe)
	zero := filepath.Join(dir, "a", "z.jpg")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	if err := load(dir); err == nil || !strings.HasSuffix(err.Error(), zero+": not a regular file") {
		t.Errorf("a link to /dev/zero: error %v, want one ending %q", err, zero+": not a regular file")
	}
}
