//go:build unix

package core

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteFileMode: a new file gets the mode asked less the umask, as
// os.OpenFile gives it, and a file replaced keeps its own, within the
// mode asked (before, both were 0644 whatever the umask and the old file:
// face models, which name people, readable by every user under umask 077,
// and a model made private with chmod 600 opened again by a new train).
func TestWriteFileMode(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	write := func(path string, perm os.FileMode) os.FileMode {
		t.Helper()
		if err := WriteFile(path, perm, func(w io.Writer) error { _, err := io.WriteString(w, "model"); return err }); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Mode().Perm()
	}
	if got := write(filepath.Join(dir, "new.safetensors"), 0o666); got != 0o600 {
		t.Errorf("a new file under umask 077: mode %v, want 0600", got)
	}
	syscall.Umask(0o022)
	replaced := filepath.Join(dir, "private.safetensors")
	if err := os.WriteFile(replaced, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := write(replaced, 0o666); got != 0o600 {
		t.Errorf("a 0600 file replaced: mode %v, want 0600 kept", got)
	}
	if err := os.Chmod(replaced, 0o664); err != nil {
		t.Fatal(err)
	}
	if got := write(replaced, 0o640); got != 0o640 {
		t.Errorf("a 0664 file replaced with 0640 asked: mode %v, want 0640, no wider than asked", got)
	}
	if got := write(filepath.Join(dir, "shared.safetensors"), 0o666); got != 0o644 {
		t.Errorf("a new file under umask 022: mode %v, want 0644", got)
	}
}
