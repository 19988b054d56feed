//go:build unix

package data

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

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

// TestImageFolderQuotesNames: a file that does not decode or open, in a
// folder or of a name that is not UTF-8 or holds a control character
// (Linux takes any byte but / and NUL), is named in Go's quotes; before,
// the error put the raw bytes on the terminal: an invalid byte, or an
// escape sequence that the terminal obeys.
func TestImageFolderQuotesNames(t *testing.T) {
	in := core.Input{Channels: 1, Height: 2, Width: 2}
	for _, tc := range []struct{ identity, file string }{
		{"a", "x\xff.png"},
		{"b\xfe", "y.jpg"},
		{"a", "\x1b[2Jz.jpg"},
	} {
		dir := t.TempDir()
		writeImage(t, filepath.Join(dir, tc.identity, "ok.png"), grey(2, 2, func(x, y int) uint8 { return 0 }))
		path := filepath.Join(dir, tc.identity, tc.file)
		if err := os.WriteFile(path, []byte("not an image"), 0o644); err != nil {
			t.Skip(err) // a file system of UTF-8 names (macOS's)
		}
		_, err := ImageFolder(dir, in)
		want := "data: " + strconv.Quote(path) + ": cannot decode"
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: error %q, want one starting %q", path, err, want)
			continue
		}
		if msg := err.Error(); !utf8.ValidString(msg) || strings.ContainsFunc(msg, unicode.IsControl) {
			t.Errorf("%q: error %q: want valid UTF-8 without control characters", path, msg)
		}
	}
	// A link to nowhere does not open: the os package's error, quoted.
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "a", "ok.png"), grey(2, 2, func(x, y int) uint8 { return 0 }))
	link := filepath.Join(dir, "a", "gone\xff.png")
	if err := os.Symlink(filepath.Join(dir, "gone"), link); err != nil {
		t.Fatal(err)
	}
	want := "data: open " + strconv.Quote(link) + ": no such file or directory"
	if _, err := ImageFolder(dir, in); err == nil || err.Error() != want {
		t.Errorf("a link to nowhere: error %q, want %q", err, want)
	}
}
