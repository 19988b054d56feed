//go:build !js

package store

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// A migration brings the schema from the version before it to its own.
// The version is SQLite's user_version: 0 for a database made before
// versions (or none yet), then len(migrations) once Open is done.
type migration struct {
	what string // what it changes, for its error: "adding the jobs' note column"
	up   func(tx *sql.Tx) error
}

// migrations are the schema's versions, in order: migrations[i] makes
// version i+1. Never change one that has shipped; add the next.
//
// A database from before versions (user_version 0) may hold version 1's
// tables already, and version 2's column (which Open added, when missing,
// in the binaries between): each migration makes what is missing.
var migrations = []migration{
	{"creating the tables", createTables},
	{"adding the jobs' note column", addJobNote},
	{"adding the jobs' files column", addJobFiles},
}

// schemaV1 is the schema as the store first created it (db894fc). Times are
// RFC 3339 strings in UTC; JSON columns hold the JSON of the types in this
// package.
const schemaV1 = `
CREATE TABLE IF NOT EXISTS models (
	id      TEXT PRIMARY KEY,
	name    TEXT NOT NULL,
	card    TEXT NOT NULL,
	file    TEXT NOT NULL,
	size    INTEGER NOT NULL,
	created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
	id         TEXT PRIMARY KEY,
	client     TEXT NOT NULL,
	config     TEXT NOT NULL,
	state      TEXT NOT NULL,
	step       INTEGER NOT NULL DEFAULT 0,
	steps      INTEGER NOT NULL DEFAULT 0,
	loss       REAL NOT NULL DEFAULT 0,
	metrics    TEXT NOT NULL DEFAULT '',
	model_id   TEXT NOT NULL DEFAULT '',
	checkpoint TEXT NOT NULL DEFAULT '',
	ckpt_step  INTEGER NOT NULL DEFAULT 0,
	error      TEXT NOT NULL DEFAULT '',
	created    TEXT NOT NULL,
	updated    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE TABLE IF NOT EXISTS datasets (
	name    TEXT PRIMARY KEY,
	created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS samples (
	id       TEXT PRIMARY KEY,
	dataset  TEXT NOT NULL REFERENCES datasets(name),
	identity TEXT NOT NULL,
	file     TEXT NOT NULL,
	created  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_dataset ON samples(dataset);
`

// createTables is version 1: schemaV1, whose tables a database from
// before versions may have already.
func createTables(tx *sql.Tx) error {
	_, err := tx.Exec(schemaV1)
	return err
}

// addJobNote is version 2: the jobs' note (Job.Note), empty for the jobs
// there, unless a binary from before versions added it.
func addJobNote(tx *sql.Tx) error { return addJobsText(tx, "note") }

// addJobFiles is version 3: the images of a job's data set that its
// first run loaded (SetJobFiles), empty for the jobs there (a resumed one
// loads its whole data set, as before), unless a version's step is run
// again on a database that has it (a user_version set back by hand).
func addJobFiles(tx *sql.Tx) error { return addJobsText(tx, "files") }

// addJobsText adds the text column name, empty, to the jobs table, unless
// it is there already. name is one of ours, never a user's.
func addJobsText(tx *sql.Tx, name string) error {
	var n int
	if err := tx.QueryRow("SELECT COUNT(*) FROM pragma_table_info('jobs') WHERE name = ?", name).Scan(&n); err != nil || n > 0 {
		return err
	}
	_, err := tx.Exec("ALTER TABLE jobs ADD COLUMN " + name + " TEXT NOT NULL DEFAULT ''")
	return err
}

// migrate brings the store's database from the version it records to the
// last of steps, each step in one transaction with its version, so that a
// step that fails (or a crash) leaves the version before it whole. A
// version past steps is newerSchema's error, and nothing is written.
//
// Each step reads the version again inside its transaction, which takes
// the write lock as it begins (openDB's _txlock=immediate): a second
// store opening the same database at once, where the data directory's
// lock does not hold (a network file system that ignores it), waits for
// the first's step, then finds it done, rather than running it again.
func (s *Store) migrate(steps []migration) error {
	for {
		v, read := 0, false
		err := s.tx(func(tx *sql.Tx) error {
			if err := tx.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
				return err
			}
			read = true
			if v >= len(steps) {
				return nil
			}
			if err := steps[v].up(tx); err != nil {
				return err
			}
			// PRAGMA takes no parameters; v is an int.
			_, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", v+1))
			return err
		})
		if err != nil && read && v < len(steps) { // the step, its version or its commit
			return fmt.Errorf("store: schema version %d, %s: %w", v+1, steps[v].what, err)
		}
		if err != nil {
			return fmt.Errorf("store: reading the schema version: %w", err)
		}
		switch {
		case v > len(steps):
			return newerSchema(s.dir, v, len(steps))
		case v == len(steps):
			return nil
		}
	}
}

// schemaVersion returns the version of the database at path, 0 where
// there is none yet, without writing to it and without making a file
// beside it: a data directory refused stays as it was. A read-only
// connection sets no journal mode and, at its close, writes no WAL back to
// the database; but on a database in WAL mode it makes a -wal and a -shm
// (the WAL's index) where there are none, and leaves them. So:
//
//   - with no journal holding anything (the store closed), the database
//     file holds every commit, and is read alone as if on read-only media
//     (immutable: no lock, no WAL looked for, nothing made);
//   - with a WAL and its index (a store open, or killed), it is read in
//     place, read-only, which makes nothing: both are there;
//   - with a WAL and no index (a copy of a killed store's), a copy of the
//     two is read, in a temporary folder: reading a WAL needs its index,
//     and one made here, removed after, could be another process's by
//     then;
//   - with a rollback journal (another program's, killed in a
//     transaction: the store's journal is a WAL), a copy of the two is
//     read, in a temporary folder: the journal, hot, must be rolled back
//     before the database is read, which a read-only connection refuses
//     ("attempt to write a readonly database") and the store's own
//     connection does in place.
func schemaVersion(path string) (int, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	wal, journal := hasContent(path+"-wal"), hasContent(path+"-journal")
	switch _, err := os.Lstat(path + "-shm"); {
	case journal:
		return copyVersion(path, "-journal")
	case !wal:
		return readVersion("file:" + uriPath(path) + "?immutable=1")
	case errors.Is(err, fs.ErrNotExist):
		return copyVersion(path, "-wal")
	}
	return readVersion("file:" + uriPath(path) + "?mode=ro&_pragma=busy_timeout(5000)")
}

// readVersion returns the user_version of the database at the SQLite URI
// filename dsn.
func readVersion(dsn string) (int, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var v int
	err = db.QueryRow("PRAGMA user_version").Scan(&v)
	return v, err
}

// copyVersion returns the version of the database at path and its
// journal, path+suffix (its WAL, -wal, or its rollback journal,
// -journal), as read from a copy of the two in a temporary folder
// (schemaVersion), where SQLite may write: it rolls a rollback journal
// back into the copy before reading it.
func copyVersion(path, suffix string) (int, error) {
	tmp, err := os.MkdirTemp("", "metriclab-version-*")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	copied := filepath.Join(tmp, dbName)
	for _, suffix := range []string{"", suffix} {
		if err := copyFile(copied+suffix, path+suffix); err != nil {
			return 0, err
		}
	}
	return readVersion("file:" + uriPath(copied))
}

// copyFile copies the file src to the new file dst.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// hasContent reports whether the file at path exists and is not empty.
func hasContent(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Size() > 0
}

// newerSchema is Open's error for the data directory dir whose database
// is at version v, past known, this binary's last: a newer metriclab's,
// which this one could damage.
func newerSchema(dir string, v, known int) error {
	return fmt.Errorf("data directory %s has schema version %d; this metriclab knows up to %d: %w", dir, v, known, ErrNewerSchema)
}
