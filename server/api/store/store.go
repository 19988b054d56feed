//go:build !js

// Package store keeps the server's models, training jobs and data sets in a
// data directory: metadata in SQLite (modernc.org/sqlite, pure Go, so the
// binary builds with CGO_ENABLED=0) and the files beside it:
//
//	DIR/lock                                  held by the process that has the store open
//	DIR/metriclab.db                          the metadata (WAL journal)
//	DIR/models/ID.safetensors                 registered models
//	DIR/checkpoints/JOB.safetensors           the last checkpoint of a job
//	DIR/datasets/NAME/IDENTITY/ID.png|jpg     uploaded samples (an image folder)
//
// Every write is atomic: a file is written to a hidden temporary file in its
// folder (a sample's in DIR/datasets, so that a refused name makes no
// folder), synced and renamed into place (its folder synced, and a new
// folder in the one above), and only then is its row written, in a
// transaction. Removal goes the other way (row first, then file). So after
// a crash a row never points at a missing or half-written file; at worst a
// file has no row or a temporary file is left. Open removes temporary files
// (and empty folders: the data sets', which would fail their loading, and
// those in models and checkpoints, which hold files alone) and moves files
// without a row to DIR/lost+found (a database deleted, or
// copied without its -wal file, would otherwise cost every model): recovery
// never removes a file of the store's own. A model file whose size is not
// the one its row records (truncated), or whose row's card no longer
// decodes, loses its row and goes there too.
// Open also marks jobs that were running as interrupted, and fails the
// unfinished jobs whose row cannot be read (see Unreadable).
//
// The database records its schema's version (SQLite's user_version; see
// migrate.go): Open brings an older one, a data directory from before
// versions included, to this binary's, one migration at a time, each in
// the transaction that records its version, and refuses a newer one (a
// newer metriclab's) before it writes anything to it.
//
// One process at a time has a data directory open: Open takes an exclusive
// lock on DIR/lock (flock on Unix systems, LockFileEx on Windows) and
// refuses a directory already open, before its recovery takes the other
// server's running job for a crashed one.
package store

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"metriclab/core/msg"
)

// Errors of the store's lookups and state changes.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// SQLite's primary result codes: SQLITE_FULL, the database's disk is full;
// SQLITE_NOTADB, the file is not a database.
const (
	sqliteFull   = 13
	sqliteNotADB = 26
)

// DiskFull reports whether err is a write the store could not make for
// want of space: the file system's (ENOSPC, or EDQUOT, a quota) or
// SQLite's (SQLITE_FULL). What the store was writing is not stored: its
// files go through a temporary file, its rows through a transaction.
func DiskFull(err error) bool {
	for _, full := range diskFullErrnos {
		if errors.Is(err, full) {
			return true
		}
	}
	return sqliteCode(err) == sqliteFull
}

// diskFullErrnos are the file system's errors of a disk or quota with no
// room left (Windows adds its own in diskfull_windows.go).
var diskFullErrnos = []error{syscall.ENOSPC, syscall.EDQUOT}

// sqliteCode returns the primary result code of SQLite's error err (the
// extended code's low byte), or 0 when err is not one.
func sqliteCode(err error) int {
	var se interface{ Code() int }
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// Folders of the data directory.
const (
	lockName       = "lock"
	dbName         = "metriclab.db"
	modelsDir      = "models"
	checkpointsDir = "checkpoints"
	datasetsDir    = "datasets"
	lostFoundDir   = "lost+found" // files without a row, put aside by Open
	modelExt       = ".safetensors"
)

// Store is an open data directory. Its methods are safe for concurrent use.
type Store struct {
	dir  string
	db   *sql.DB
	lock *os.File // DIR/lock, locked while open (nil where lockDir takes none)
	// names makes AddSample's check of a new name against the stored ones
	// (case aside) one step with its sample's rename and row.
	names sync.Mutex
	// syncDir syncs a folder whose entries changed (the function syncDir;
	// tests record the calls).
	syncDir func(dir string)
}

// Recovery says what Open repaired.
type Recovery struct {
	TempFiles       int // temporary files of interrupted writes, removed
	StrayFiles      int // model, checkpoint and sample files without a row, moved to LostFound
	MissingRows     int // rows whose file was missing, removed (or a job's checkpoint cleared)
	Interrupted     int // jobs that were running, now interrupted
	WrongSize       int // models whose file's size is not their row's: row removed, file moved to LostFound (one of StrayFiles)
	UnreadableCards int // models whose row's card cannot be read: row removed, file moved to LostFound (one of StrayFiles)
	UnreadableJobs  int // queued, running or interrupted jobs whose row cannot be read, now failed (see Unreadable)
}

// Describe says what was repaired, for a log: the counts that are not
// zero, each of its kind ("1 temporary file removed, 2 jobs
// interrupted"), the files moved naming lostFound, where they went; ""
// when nothing was.
func (r Recovery) Describe(lostFound string) string {
	var parts []string
	add := func(n int, one, many, what string) {
		if n > 0 {
			parts = append(parts, msg.Plural(n, one, many)+" "+what)
		}
	}
	add(r.TempFiles, "temporary file", "temporary files", "removed")
	stray := "moved to " + lostFound
	var why []string // the stray files that had a row, and why it went
	for _, c := range []struct {
		n         int
		one, many string
	}{
		{r.WrongSize, "a model whose file had another size than its row's", "models whose files had another size than their rows'"},
		{r.UnreadableCards, "a model whose row could not be read", "models whose rows could not be read"},
	} {
		switch {
		case c.n == 0:
		case c.n == r.StrayFiles && c.n == 1:
			why = append(why, c.one)
		case c.n == r.StrayFiles:
			why = append(why, c.many)
		default:
			why = append(why, fmt.Sprintf("%d of them %s", c.n, c.many))
		}
	}
	if len(why) > 0 {
		stray = "(" + strings.Join(why, "; ") + ") " + stray
	}
	add(r.StrayFiles, "file without a row", "files without rows", stray)
	add(r.MissingRows, "row without a file", "rows without files", "removed")
	add(r.Interrupted, "job", "jobs", "interrupted")
	add(r.UnreadableJobs, "job", "jobs", "failed as "+Unreadable)
	return strings.Join(parts, ", ")
}

// Open opens (creating it if needed) the data directory dir, locked until
// Close, brings its database to the last schema version (migrations), and
// repairs what a crash may have left: see Recovery. A directory already
// open, in another process or another Store, is refused, its files left
// as they are; so is one whose schema version is newer than this binary's,
// its database left byte for byte and nothing made in it.
func Open(dir string) (_ *Store, rec Recovery, err error) {
	// The version first, read without writing, before anything is made
	// or locked: a newer metriclab's data directory is left as it is.
	// migrate reads it again under the lock. A dir that is not a folder
	// yet is mkdirs' to make, or to say why it cannot.
	path := filepath.Join(dir, dbName)
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		v, err := schemaVersion(path)
		if err != nil {
			return nil, rec, openError(path, fmt.Errorf("store: reading the schema version of %s: %w", path, err))
		}
		if v > len(migrations) {
			return nil, rec, newerSchema(dir, v, len(migrations))
		}
	}
	for _, d := range []string{dir, filepath.Join(dir, modelsDir), filepath.Join(dir, checkpointsDir), filepath.Join(dir, datasetsDir)} {
		if err := mkdirs(d, syncDir); err != nil {
			return nil, rec, err
		}
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, rec, err
	}
	defer func() {
		if err != nil && lock != nil {
			lock.Close()
		}
	}()
	db, err := openDB(path)
	if err != nil {
		return nil, rec, err
	}
	s := &Store{dir: dir, db: db, lock: lock, syncDir: syncDir}
	if err := s.migrate(migrations); err != nil {
		db.Close()
		return nil, rec, openError(path, err)
	}
	if rec, err = s.recover(); err != nil {
		db.Close()
		return nil, rec, err
	}
	return s, rec, nil
}

// openDB opens the database at path, creating it if needed, with the
// store's settings.
func openDB(path string) (*sql.DB, error) {
	// One connection: SQLite serialises writers anyway, and a single
	// connection never meets SQLITE_BUSY from itself. Transactions take
	// the write lock as they begin (_txlock=immediate): each is a write,
	// and another process's writer makes it wait (busy_timeout) rather
	// than fail at its first write with its snapshot stale.
	dsn := "file:" + uriPath(path) +
		"?_txlock=immediate&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// uriPath is path as the path of a SQLite URI filename ("file:"), which
// reads '?' as the query's start, '#' as the fragment's and '%' as an
// escape's: a data directory "C#/data" would otherwise have its database
// at "C", beside the folder C#.
func uriPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// openError is Open's error err of the database at path: one that is not
// SQLite is named, with what to do.
func openError(path string, err error) error {
	if sqliteCode(err) == sqliteNotADB {
		return fmt.Errorf("store: %s is not a SQLite database (another program's file, or damaged): move it aside to start a new one, which puts the files it listed in lost+found", path)
	}
	return err
}

// Close closes the database, then releases the data directory.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.lock != nil {
		s.lock.Close()
	}
	return err
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// LostFound returns the folder where Open puts files that have no row,
// under the path they had in the data directory.
func (s *Store) LostFound() string { return filepath.Join(s.dir, lostFoundDir) }

// recover removes temporary files and rows without files, moves files
// without rows to lost+found, and marks running jobs interrupted.
func (s *Store) recover() (Recovery, error) {
	var rec Recovery
	// Temporary files of interrupted writes, anywhere in the tree but what
	// was put aside.
	lostFound := s.LostFound()
	err := filepath.WalkDir(s.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path == lostFound {
			return filepath.SkipDir
		}
		if !d.IsDir() && isTemp(d.Name()) {
			if err := os.Remove(path); err != nil {
				return err
			}
			rec.TempFiles++
		}
		return nil
	})
	if err != nil {
		return rec, fmt.Errorf("store: removing temporary files: %w", err)
	}

	// Models: rows without files go, files without rows are put aside.
	n, err := s.pruneRows("models", "id", "file")
	rec.MissingRows += n
	if err != nil {
		return rec, err
	}
	// A file of another size than its row's is damaged (truncated, or
	// replaced): its row goes, and putAside below moves the file.
	n, err = s.pruneResized()
	rec.WrongSize += n
	if err != nil {
		return rec, err
	}
	// A row whose card cannot be read (a database edited by hand, or
	// damaged) would fail every list of the models: it goes too.
	n, err = s.pruneUnreadableCards()
	rec.UnreadableCards += n
	if err != nil {
		return rec, err
	}
	n, err = s.putAside(filepath.Join(s.dir, modelsDir), "SELECT file FROM models")
	rec.StrayFiles += n
	if err != nil {
		return rec, err
	}
	// A job that cannot be read cannot run: it fails (its checkpoint is
	// put aside below, as an ended job's).
	n, err = s.failUnreadable()
	rec.UnreadableJobs += n
	if err != nil {
		return rec, err
	}
	// Checkpoints: a job whose checkpoint is missing starts over.
	rows, err := s.db.Query("SELECT id, checkpoint FROM jobs WHERE checkpoint != ''")
	if err != nil {
		return rec, err
	}
	var lost []string
	for rows.Next() {
		var id, file string
		if err := rows.Scan(&id, &file); err != nil {
			rows.Close()
			return rec, err
		}
		ok, err := present(filepath.Join(s.dir, file))
		if err != nil {
			rows.Close()
			return rec, err
		}
		if !ok {
			lost = append(lost, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rec, err
	}
	for _, id := range lost {
		if _, err := s.db.Exec("UPDATE jobs SET checkpoint = '', ckpt_step = 0 WHERE id = ?", id); err != nil {
			return rec, err
		}
		rec.MissingRows++
	}
	// A checkpoint of an ended job (kept by earlier versions) is a stray.
	if _, err := s.db.Exec("UPDATE jobs SET checkpoint = '', ckpt_step = 0 WHERE checkpoint != '' AND state IN (?, ?, ?)",
		StateCanceled, StateFailed, StateDone); err != nil {
		return rec, err
	}
	n, err = s.putAside(filepath.Join(s.dir, checkpointsDir), "SELECT checkpoint FROM jobs WHERE checkpoint != ''")
	rec.StrayFiles += n
	if err != nil {
		return rec, err
	}
	// Samples.
	n, err = s.pruneRows("samples", "id", "file")
	rec.MissingRows += n
	if err != nil {
		return rec, err
	}
	n, err = s.putAside(filepath.Join(s.dir, datasetsDir), "SELECT file FROM samples")
	rec.StrayFiles += n
	if err != nil {
		return rec, err
	}
	// Folders emptied above, or empty: an identity's would fail every job
	// on its data set; the models and checkpoints hold files alone (a
	// folder left where a deleted model's file was, its files put aside).
	for _, d := range []string{modelsDir, checkpointsDir, datasetsDir} {
		if err := removeEmptyFolders(filepath.Join(s.dir, d)); err != nil {
			return rec, fmt.Errorf("store: removing empty folders: %w", err)
		}
	}
	// A model row removed above leaves its job without a model.
	if _, err := s.db.Exec("UPDATE jobs SET model_id = '' WHERE model_id != '' AND model_id NOT IN (SELECT id FROM models)"); err != nil {
		return rec, err
	}
	n, err = s.interruptRunning()
	rec.Interrupted += n
	return rec, err
}

// interruptRunning marks interrupted the jobs left running by a server
// that died (killed, crashed), each with the error its graceful stop
// gives (Stopped: its note, then how to resume it, from its checkpoint
// as the recovery left it), and returns how many it marked.
func (s *Store) interruptRunning() (int, error) {
	rows, err := s.db.Query("SELECT id, note, ckpt_step FROM jobs WHERE state = ?", StateRunning)
	if err != nil {
		return 0, err
	}
	type running struct {
		id, note string
		step     int
	}
	var jobs []running
	for rows.Next() {
		var j running
		if err := rows.Scan(&j.id, &j.note, &j.step); err != nil {
			rows.Close()
			return 0, err
		}
		jobs = append(jobs, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, j := range jobs {
		res, err := s.db.Exec("UPDATE jobs SET state = ?, error = ?, updated = ? WHERE id = ? AND state = ?",
			StateInterrupted, Stopped(j.note, j.step), now(), j.id, StateRunning)
		if err != nil {
			return n, err
		}
		m, _ := res.RowsAffected()
		n += int(m)
	}
	return n, nil
}

// failUnreadable marks failed, with the error Unreadable, the queued,
// running and interrupted jobs whose row cannot be read, and returns how
// many it marked.
func (s *Store) failUnreadable() (int, error) {
	return s.eachPicked("SELECT "+jobColumns+" FROM jobs WHERE state IN (?, ?, ?)", []any{StateQueued, StateRunning, StateInterrupted},
		func(rows *sql.Rows) (string, bool, error) {
			j, readable, err := scanJob(rows)
			return j.ID, !readable, err
		},
		"UPDATE jobs SET state = ?, error = ?, updated = ? WHERE id = ?", StateFailed, Unreadable, now())
}

// eachPicked runs query with qargs, picks rows with pick (its id, and
// whether the row is picked), then runs stmt with sargs and each picked id
// as its last argument, and returns how many it picked. The statements
// wait for the query's end: the store has one connection.
func (s *Store) eachPicked(query string, qargs []any, pick func(*sql.Rows) (string, bool, error), stmt string, sargs ...any) (int, error) {
	rows, err := s.db.Query(query, qargs...)
	if err != nil {
		return 0, err
	}
	var ids []string
	for rows.Next() {
		id, picked, err := pick(rows)
		if err != nil {
			rows.Close()
			return 0, err
		}
		if picked {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := s.db.Exec(stmt, append(sargs[:len(sargs):len(sargs)], id)...); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// pruneRows deletes the rows of table whose file (relative to the data
// directory) does not exist, and returns how many it deleted.
func (s *Store) pruneRows(table, idCol, fileCol string) (int, error) {
	return s.eachPicked("SELECT "+idCol+", "+fileCol+" FROM "+table, nil, func(rows *sql.Rows) (string, bool, error) {
		var id, file string
		if err := rows.Scan(&id, &file); err != nil {
			return "", false, err
		}
		ok, err := present(filepath.Join(s.dir, file))
		return id, !ok, err
	}, "DELETE FROM "+table+" WHERE "+idCol+" = ?")
}

// pruneResized deletes the rows of models whose file's size differs from
// the size the row records, and returns how many it deleted; their files,
// now without a row, are putAside's. (pruneRows has removed the rows whose
// file is missing.)
func (s *Store) pruneResized() (int, error) {
	return s.eachPicked("SELECT id, file, size FROM models", nil, func(rows *sql.Rows) (string, bool, error) {
		var id, file string
		var size int64
		if err := rows.Scan(&id, &file, &size); err != nil {
			return "", false, err
		}
		st, err := os.Stat(filepath.Join(s.dir, file))
		if err != nil {
			return "", false, fmt.Errorf("store: checking a row's file: %w", err)
		}
		return id, st.Size() != size, nil
	}, "DELETE FROM models WHERE id = ?")
}

// pruneUnreadableCards deletes the rows of models whose card is not a
// card's JSON, and returns how many it deleted; their files, now without
// a row, are putAside's.
func (s *Store) pruneUnreadableCards() (int, error) {
	return s.eachPicked("SELECT id, card FROM models", nil, func(rows *sql.Rows) (string, bool, error) {
		var id, raw string
		if err := rows.Scan(&id, &raw); err != nil {
			return "", false, err
		}
		var c Card
		return id, json.Unmarshal([]byte(raw), &c) != nil, nil
	}, "DELETE FROM models WHERE id = ?")
}

// putAside moves the regular files under root that no row of query (one
// column of paths relative to the data directory) names to lost+found, at
// their path relative to the data directory, and returns how many it moved.
// Empty folders are left.
func (s *Store) putAside(root, query string) (int, error) {
	rows, err := s.db.Query(query)
	if err != nil {
		return 0, err
	}
	known := make(map[string]bool)
	for rows.Next() {
		var file string
		if err := rows.Scan(&file); err != nil {
			rows.Close()
			return 0, err
		}
		known[filepath.Clean(file)] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(s.dir, path)
		if err != nil {
			return err
		}
		if !known[rel] {
			if err := s.moveToLostFound(path, rel); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// moveToLostFound moves the file at path (rel in the data directory) to
// lost+found/rel, or, when that name is taken, to the first free name with
// "-1", "-2", … before its extension: it never replaces a file. (The look
// and the rename are two steps; the directory's lock keeps other servers
// out between them.)
func (s *Store) moveToLostFound(path, rel string) error {
	dst := filepath.Join(s.LostFound(), rel)
	if err := mkdirs(filepath.Dir(dst), s.syncDir); err != nil {
		return err
	}
	ext := filepath.Ext(dst)
	stem := strings.TrimSuffix(dst, ext)
	for i := 1; ; i++ {
		_, err := os.Lstat(dst)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return err
		}
		dst = fmt.Sprintf("%s-%d%s", stem, i, ext)
	}
	if err := os.Rename(path, dst); err != nil {
		return err
	}
	syncDir(filepath.Dir(dst))
	syncDir(filepath.Dir(path))
	return nil
}

// ValidName reports whether s may name a stored data set:
// msg.DatasetPathProblem's rule, 1 to 64 ASCII letters, digits, '_' or
// '-' (so never a path, never hidden), and not a built-in name (a new data
// set also passes msg.DatasetProblem; see AddSample).
func ValidName(s string) bool { return msg.DatasetPathProblem(s) == "" }

// newID returns a random identifier of 16 hex digits.
func newID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("store: crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// validID reports whether id has the form of newID's identifiers, so that
// it can be part of a file name.
func validID(id string) bool {
	if len(id) != 16 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// present reports whether path is a regular file. Only a file that does
// not exist is missing: any other error (a folder that cannot be read) is
// returned, naming the file, so that Open fails rather than drop the row of
// a file that may be there.
func present(path string) (bool, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: checking a row's file: %w", err)
	}
	return st.Mode().IsRegular(), nil
}
