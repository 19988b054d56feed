//go:build !js

package store

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// tempMark is in the name of every temporary file: "." + base + tempMark + random.
const tempMark = ".tmp-"

// isTemp reports whether a file name is one of writeTemp's.
func isTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMark)
}

// writeTemp writes a hidden temporary file in dir for the final name base:
// write fills it, then it is synced and closed. It returns the temporary
// file's path; on error, or a panic of write, nothing is left behind.
func writeTemp(dir, base string, write func(w io.Writer) error) (tmp string, err error) {
	f, err := os.CreateTemp(dir, "."+base+tempMark+"*")
	if err != nil {
		return "", err
	}
	// The file's own name: a failed return sets the result tmp to "", and
	// a write that panics leaves it "".
	name := f.Name()
	defer func() {
		if tmp == "" {
			f.Close()
			os.Remove(name)
		}
	}()
	if err := write(f); err != nil {
		return "", err
	}
	// CreateTemp makes the file 0600; models and samples are meant to be shared.
	if err := f.Chmod(0o644); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return name, nil
}

// commit renames tmp to path and syncs the folder, so the rename itself is
// durable where the system allows syncing a folder.
func commit(tmp, path string) error {
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir syncs a folder, ignoring systems that cannot.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// mkdirs makes the folder dir and the folders above it that are missing,
// as os.MkdirAll does, and syncs (with sync) the folder each new one is
// in: a file renamed into a new folder is durable only once the folder's
// own name is, and the rows that name the file are committed right after.
func mkdirs(dir string, sync func(dir string)) error {
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirs(parent, sync); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		st, serr := os.Stat(dir)
		switch {
		case serr == nil && st.IsDir():
			return nil // made meanwhile
		case serr == nil: // Mkdir's "file exists" reads as if the folder were there
			return &os.PathError{Op: "mkdir", Path: dir, Err: errors.New("a file is there, not a folder")}
		}
		return err
	}
	sync(parent)
	return nil
}
