//go:build !js

package store

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"metriclab/core/msg"
)

// oldSchema is the schema exactly as every metriclab before migrations
// created it (db894fc up to 8179ace, which added the note column at Open):
// its user_version stayed 0.
const oldSchema = `
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

// oldJob is the job row oldDataDir writes.
var oldJob = Job{Job: msg.Job{ID: "0123456789abcdef", Config: msg.TrainRequest{Data: "faces", Arch: "mlp", Loss: "arcface", Dim: 8, Epochs: 3},
	State: StateQueued, Steps: 30, Created: "2026-12-01T10:00:00Z", Updated: "2026-12-01T10:00:00Z"}, Client: "a"}

// oldDataDir makes a data directory as a metriclab from before migrations
// left it: oldSchema, user_version 0, one queued job (oldJob), in WAL mode
// as the store set it; withNote, the note column too, as the binaries of
// 8179ace added it (ALTER TABLE at Open, user_version still 0).
func oldDataDir(t *testing.T, withNote bool) string {
	t.Helper()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, dbName)+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	config, _ := json.Marshal(oldJob.Config)
	stmts := []string{oldSchema}
	if withNote {
		stmts = append(stmts, "ALTER TABLE jobs ADD COLUMN note TEXT NOT NULL DEFAULT ''")
	}
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("INSERT INTO jobs (id, client, config, state, steps, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
		oldJob.ID, oldJob.Client, string(config), oldJob.State, oldJob.Steps, oldJob.Created, oldJob.Updated); err != nil {
		t.Fatal(err)
	}
	return dir
}

// userVersion returns the schema version db records.
func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// hasNote reports whether the jobs table of db has the note column.
func hasNote(t *testing.T, db *sql.DB) bool {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM pragma_table_info('jobs') WHERE name = 'note'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// TestSchemaFresh: a new data directory's database records the last
// schema version, 3 (the jobs' files column). Before, no version at all
// (user_version 0), as a directory of before the note column has.
func TestSchemaFresh(t *testing.T) {
	s, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := userVersion(t, s.db); v != len(migrations) || v != 3 {
		t.Errorf("schema version %d, want %d", v, len(migrations))
	}
	if !hasNote(t, s.db) {
		t.Error("no note column")
	}
}

// TestSchemaFromBeforeVersions: a data directory from before schema
// versions (user_version 0, the old CREATE statements' tables and a job),
// with or without the note column (added by the binaries of 8179ace on),
// opens at the last version, the column there, its job kept as it was
// with no note. Before, it stayed at version 0.
func TestSchemaFromBeforeVersions(t *testing.T) {
	for _, withNote := range []bool{false, true} {
		t.Run(fmt.Sprintf("note column %v", withNote), func(t *testing.T) {
			dir := oldDataDir(t, withNote)
			s, rec, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if rec != (Recovery{}) {
				t.Errorf("recovery %+v, want nothing repaired", rec)
			}
			if v := userVersion(t, s.db); v != len(migrations) {
				t.Errorf("schema version %d, want %d", v, len(migrations))
			}
			if !hasNote(t, s.db) {
				t.Error("no note column")
			}
			jobs, err := s.Jobs()
			if err != nil || len(jobs) != 1 {
				t.Fatalf("jobs %+v, %v; want the old job alone", jobs, err)
			}
			if got, want := fmt.Sprintf("%+v", jobs[0]), fmt.Sprintf("%+v", oldJob); got != want {
				t.Errorf("the old job reads\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestSchemaNewer: a data directory whose schema version is past the ones
// this metriclab knows (a newer metriclab's) is refused with one line
// naming both versions, and its database is left byte for byte and its
// folder as it was, no file added: in WAL mode, as the store leaves it; in
// another journal mode (which the store's own connection would switch to
// WAL); and with a WAL the newer metriclab did not checkpoint (killed),
// which a writable connection checkpoints into the database as it closes,
// with its wal-index (-shm) or without it (a copy). Before, it was opened
// as any other; and then its version was read by a read-only connection,
// which left an empty -wal and a -shm beside a database that had none, and
// a -shm beside a WAL without one.
func TestSchemaNewer(t *testing.T) {
	const newer = 5 // past len(migrations)
	for _, c := range []struct {
		name    string
		journal string
		crashed bool // copy the database with its WAL from under an open connection
		shm     bool // and its -shm
		hot     bool // copy the database with its rollback journal from under a transaction that wrote to it
	}{
		{"WAL", "WAL", false, false, false},
		{"rollback journal", "DELETE", false, false, false},
		{"WAL not checkpointed", "WAL", true, false, false},
		{"WAL not checkpointed, with its index", "WAL", true, true, false},
		{"hot rollback journal", "DELETE", false, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := t.TempDir()
			db, err := sql.Open("sqlite", "file:"+filepath.Join(src, dbName)+"?_pragma=journal_mode("+c.journal+")&_pragma=wal_autocheckpoint(0)")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			for _, stmt := range []string{oldSchema, "CREATE TABLE future (x TEXT)", "INSERT INTO future VALUES ('kept')", fmt.Sprintf("PRAGMA user_version = %d", newer)} {
				if _, err := db.Exec(stmt); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			files := []string{dbName}
			if c.hot { // a writer killed in a transaction: its journal holds the pages as committed, the database some written over
				files = append(files, dbName+"-journal")
				tx, err := db.Begin()
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				for _, stmt := range []string{"PRAGMA cache_size = 1", "PRAGMA user_version = 1", "CREATE TABLE spill (x BLOB)"} {
					if _, err := tx.Exec(stmt); err != nil {
						t.Fatal(err)
					}
				}
				for range 64 { // past the cache: pages go to the database before the commit
					if _, err := tx.Exec("INSERT INTO spill VALUES (randomblob(4000))"); err != nil {
						t.Fatal(err)
					}
				}
			} else if c.crashed {
				files = append(files, dbName+"-wal")
				if c.shm {
					files = append(files, dbName+"-shm")
				}
			} else if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			before := make(map[string][]byte)
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(src, f))
				if err != nil {
					t.Fatal(err)
				}
				if (c.crashed && f == dbName+"-wal" || c.hot && f == dbName+"-journal") && len(b) == 0 {
					t.Fatalf("%s is empty", f)
				}
				if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
					t.Fatal(err)
				}
				before[f] = b
			}
			listed := listDir(t, dir)
			s, _, err := Open(dir)
			if err == nil {
				s.Close()
				t.Fatalf("a data directory at schema version %d opened", newer)
			}
			if got := listDir(t, dir); !slices.Equal(got, listed) {
				t.Errorf("the refused directory holds %q, want %q as before", got, listed)
			}
			want := fmt.Sprintf("data directory %s has schema version %d; this metriclab knows up to %d: use a newer metriclab", dir, newer, len(migrations))
			if err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			for f, b := range before {
				if f == dbName+"-shm" {
					continue // the WAL's index, which every reader of it updates
				}
				if got, err := os.ReadFile(filepath.Join(dir, f)); err != nil || !bytes.Equal(got, b) {
					t.Errorf("%s changed (%d bytes, was %d; %v)", f, len(got), len(b), err)
				}
			}
			for _, f := range []string{modelsDir, checkpointsDir, datasetsDir, lockName} {
				if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
					t.Errorf("%s made in the refused directory", f)
				}
			}
			if s, _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "use a newer metriclab") {
				if err == nil {
					s.Close()
				}
				t.Errorf("opened again: %v, want refused again", err)
			}
		})
	}
}

// listDir is the names of the files in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}

// TestMigrateFails: a migration that fails leaves what it wrote undone and
// the version before it, the migrations before it done: a data directory
// from before versions, whose version 2 fails after adding its column,
// stays at version 1 without the column, its job kept, and opens at the
// last version after; a version 3 that fails after making a table leaves
// version 2 and no table.
func TestMigrateFails(t *testing.T) {
	failing := func(stmt string) migration {
		return migration{"failing", func(tx *sql.Tx) error {
			if _, err := tx.Exec(stmt); err != nil {
				return err
			}
			_, err := tx.Exec("INSERT INTO nowhere VALUES (1)")
			return err
		}}
	}
	dir := oldDataDir(t, false)
	db, err := openDB(filepath.Join(dir, dbName))
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{dir: dir, db: db}
	err = s.migrate([]migration{migrations[0], failing("ALTER TABLE jobs ADD COLUMN note TEXT NOT NULL DEFAULT ''")})
	if err == nil || !strings.HasPrefix(err.Error(), "store: schema version 2, failing: ") || !strings.Contains(err.Error(), "no such table: nowhere") {
		t.Errorf("version 2 failing: %v", err)
	}
	if v := userVersion(t, db); v != 1 || hasNote(t, db) {
		t.Errorf("after version 2 failed: version %d, note column %v; want version 1, none", v, hasNote(t, db))
	}
	db.Close()

	s, _, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if j, err := s.Job(oldJob.ID); err != nil || j.State != StateQueued || !hasNote(t, s.db) || userVersion(t, s.db) != len(migrations) {
		t.Errorf("opened after: job %+v, %v; note column %v, version %d", j, err, hasNote(t, s.db), userVersion(t, s.db))
	}
	err = s.migrate(append(migrations[:len(migrations):len(migrations)], failing("CREATE TABLE extra (x TEXT)")))
	if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("store: schema version %d, failing: ", len(migrations)+1)) {
		t.Errorf("version %d failing: %v", len(migrations)+1, err)
	}
	var n int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE name = 'extra'").Scan(&n); err != nil || n != 0 {
		t.Errorf("table extra: %d, %v; want none", n, err)
	}
	if v := userVersion(t, s.db); v != len(migrations) {
		t.Errorf("version %d, want %d", v, len(migrations))
	}
	s.Close()
}

// TestMigrateTwoAtOnce: two stores opening one database at once, as two
// serves may where the data directory's lock does not hold (before
// 8ea3934, on Windows, none was taken), run each migration once:
// the second waits for the first's step and finds its version done.
// Before, each read the version outside the step's transaction, and both
// ran the step: one that is not idempotent (this one's ALTER TABLE without
// a check) was applied twice, or failed the second serve.
func TestMigrateTwoAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), dbName)
	var (
		mu      sync.Mutex
		calls   int
		entered = make(chan struct{})
		release = make(chan struct{})
	)
	steps := []migration{migrations[0], {"adding a column", func(tx *sql.Tx) error {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first { // hold the step open while the other store migrates
			close(entered)
			<-release
		}
		_, err := tx.Exec("ALTER TABLE models ADD COLUMN extra TEXT NOT NULL DEFAULT ''")
		return err
	}}}
	open := func() *Store {
		db, err := openDB(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return &Store{dir: filepath.Dir(path), db: db}
	}
	a, b := open(), open()
	errs := make(chan error, 2)
	go func() { errs <- a.migrate(steps) }()
	<-entered
	go func() { errs <- b.migrate(steps) }()
	time.Sleep(300 * time.Millisecond) // b runs the step, or waits for a's
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("migrate: %v", err)
		}
	}
	if calls != 1 || userVersion(t, a.db) != 2 || userVersion(t, b.db) != 2 {
		t.Errorf("the step ran %d times, versions %d and %d; want once, 2 and 2", calls, userVersion(t, a.db), userVersion(t, b.db))
	}
}
