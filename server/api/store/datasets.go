//go:build !js

package store

import (
	"cmp"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/text/unicode/norm"

	"metriclab/core/msg"
)

// Dataset is an uploaded data set (msg.Dataset): an image folder with one
// sub-folder per identity.
type Dataset = msg.Dataset

// Sample is one uploaded image (msg.Sample).
type Sample = msg.Sample

// AddSample stores one image of identity in data set dataset (created on
// its first sample), as DIR/datasets/DATASET/IDENTITY/ID.ext: ext is the
// file extension (".png" or ".jpg"), write fills the file. A new data
// set's name must pass msg.DatasetProblem, a new identity's
// msg.IdentityProblem (any printable name, "Ann Smith" or "José", that is
// safe as a folder name, so that the folder is named as the person); a
// data set or identity already stored needs only their path rules
// (msg.DatasetPathProblem, msg.IdentityPathProblem), so that one named
// before the rules for Windows' device names takes more samples (stored:
// a row of the data set, a sample of the identity). The identity is taken
// in Unicode normal form C (IdentityName): "José" sent as e and a
// combining accent (NFD) is the identity "José" sent with é, one person
// in one folder; one stored in another form before names were normalised
// takes the samples of its name in any form, under its stored name (the
// Sample's Identity). A data set's name is ASCII (msg.DatasetPathProblem),
// in one form only. A new name that differs from a stored one only in
// case or in the form of a character (one in normal form KC and case,
// msg.NameKey: "ALICE" or "ａｌｉｃｅ" beside "alice") is refused, also when
// the two arrive at once; the name stored is the one sent, in form C. A
// bad name is a NameError, which matches ErrInvalidName.
//
// A sample is stored once: its ID is named by its content (sampleID: the
// data set, the identity as stored and the SHA-256 of the bytes), so the
// same image of the same identity sent again, a second send of one
// gallery or the retry of a send cut off part-way, finds its row and adds
// nothing; the Sample answered is the stored one, with Existed set. (Its
// file is written again should it have gone from the folder.) The names
// stay stable, as a job's listing of its data set's files needs
// (SetJobFiles). Samples stored before, under random IDs, stay as they
// are, and are not compared with: the same image sent again to those is
// stored once more, once.
func (s *Store) AddSample(dataset, identity, ext string, write func(io.Writer) error) (Sample, error) {
	// Refused before the sample is written, and again once it is, under
	// s.names with the rename and the row: two first samples of "Ann" and
	// "ann" at once would both pass a look at the stored names alone.
	identity = IdentityName(identity)
	if _, err := s.checkSampleNames(dataset, identity); err != nil {
		return Sample{}, err
	}
	if ext != ".png" && ext != ".jpg" {
		panic("store: AddSample: extension " + ext)
	}
	// Written beside the data sets' folders, so that a refused name makes
	// no folder; the rename moves it into its own, which the check under
	// s.names names (a form stored before normalising). The bytes are
	// hashed as they are written.
	sum := sha256.New()
	tmp, err := writeTemp(filepath.Join(s.dir, datasetsDir), "sample"+ext, func(w io.Writer) error {
		return write(io.MultiWriter(w, sum))
	})
	if err != nil {
		return Sample{}, fmt.Errorf("writing sample: %w", err)
	}
	s.names.Lock()
	defer s.names.Unlock()
	identity, err = s.checkSampleNames(dataset, identity)
	if err != nil {
		os.Remove(tmp)
		return Sample{}, err
	}
	smp := Sample{ID: sampleID(dataset, identity, sum.Sum(nil)), Dataset: dataset, Identity: identity, Created: now()}
	rel := filepath.Join(datasetsDir, dataset, identity, smp.ID+ext)
	path := filepath.Join(s.dir, rel)
	switch err := s.db.QueryRow("SELECT created FROM samples WHERE id = ?", smp.ID).Scan(&smp.Created); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		os.Remove(tmp)
		return Sample{}, err
	default:
		there, err := present(path)
		if err != nil || there {
			os.Remove(tmp)
			smp.Existed = true
			return smp, err
		}
		// Its row without its file (removed by hand): the file goes back.
		if err := mkdirs(filepath.Dir(path), s.syncDir); err != nil {
			os.Remove(tmp)
			return Sample{}, err
		}
		if err := commit(tmp, path); err != nil {
			return Sample{}, err
		}
		return smp, nil
	}
	if err := mkdirs(filepath.Dir(path), s.syncDir); err != nil {
		os.Remove(tmp)
		return Sample{}, err
	}
	if err := commit(tmp, path); err != nil {
		removeEmptyUp(filepath.Dir(path), filepath.Join(s.dir, datasetsDir))
		return Sample{}, err
	}
	err = s.tx(func(tx *sql.Tx) error {
		if _, err := tx.Exec("INSERT OR IGNORE INTO datasets (name, created) VALUES (?, ?)", dataset, smp.Created); err != nil {
			return err
		}
		_, err := tx.Exec("INSERT INTO samples (id, dataset, identity, file, created) VALUES (?, ?, ?, ?, ?)",
			smp.ID, dataset, identity, rel, smp.Created)
		return err
	})
	if err != nil {
		os.Remove(path)
		removeEmptyUp(filepath.Dir(path), filepath.Join(s.dir, datasetsDir))
		return Sample{}, err
	}
	return smp, nil
}

// sampleID is the ID, and the file's name, of a sample of identity (as
// stored) in dataset whose bytes have the SHA-256 sum: the first 8 bytes
// of the SHA-256 of the three, in hex, as newID's IDs are (validID). The
// names are NUL-terminated, which no name holds, so that no two pairs of
// names hash alike.
func sampleID(dataset, identity string, sum []byte) string {
	h := sha256.New()
	io.WriteString(h, dataset+"\x00"+identity+"\x00")
	h.Write(sum)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// removeEmptyUp removes the folder dir, then the folders above it, up to
// root (kept), while they are empty: a new identity's folder that its
// first sample did not reach would fail every load of its data set
// ("identity … has no images"). (Under Store.names: no sample is renamed
// into them meanwhile.)
func removeEmptyUp(dir, root string) {
	for dir != root && strings.HasPrefix(dir, root+string(filepath.Separator)) {
		if os.Remove(dir) != nil { // not empty
			return
		}
		dir = filepath.Dir(dir)
	}
}

// removeEmptyFolders removes the folders below dir that are empty, or
// hold only empty folders; dir stays. (Open's: a sample put aside may
// leave its identity's folder empty, which removeEmptyUp says fails its
// data set.)
func removeEmptyFolders(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		if err := removeEmptyFolders(sub); err != nil {
			return err
		}
		left, err := os.ReadDir(sub)
		if err != nil {
			return err
		}
		if len(left) == 0 {
			if err := os.Remove(sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// IdentityName returns an identity's name as the store keeps it: in
// Unicode normal form C (é as one character, as the page takes a typed
// name), so that one person named in two forms is one identity.
func IdentityName(name string) string { return norm.NFC.String(name) }

// checkSampleNames returns the name AddSample stores a sample of identity
// (in normal form C: IdentityName) under in dataset, by the names stored
// now: identity, or the same name stored in another form before names
// were normalised; or its NameError.
func (s *Store) checkSampleNames(dataset, identity string) (string, error) {
	if p := msg.DatasetPathProblem(dataset); p != "" {
		return "", NameError{"data set", dataset, p}
	}
	if p := msg.IdentityPathProblem(identity); p != "" {
		return "", NameError{"identity", identity, p}
	}
	// Stored means a row, compared exactly (a folder found by a file
	// system that ignores case, or a trailing ".", could be another name's).
	stored, err := s.HasDataset(dataset)
	if err != nil {
		return "", err
	}
	var samples int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM (SELECT 1 FROM samples WHERE dataset = ? AND identity = ? LIMIT 1)", dataset, identity).Scan(&samples); err != nil {
		return "", err
	}
	if p := msg.DatasetProblem(dataset); !stored && p != "" {
		return "", NameError{"data set", dataset, p}
	}
	// A new name that differs from a stored one only in case would share
	// its folder on a file system that ignores case (macOS's, Windows').
	if !stored {
		if _, other, err := s.matchName("SELECT name FROM datasets", dataset); err != nil || other != "" {
			return "", cmp.Or(err, error(NameError{"data set", dataset, alikeProblem("data set", other, dataset)}))
		}
	}
	if samples > 0 {
		return identity, nil
	}
	same, other, err := s.matchName("SELECT DISTINCT identity FROM samples WHERE dataset = ?", identity, dataset)
	switch {
	case err != nil:
		return "", err
	case same != "":
		return same, nil
	}
	if p := msg.IdentityProblem(identity, norm.NFKC.String); p != "" {
		return "", NameError{"identity", identity, p}
	}
	if other != "" {
		return "", NameError{"identity", identity, alikeProblem("identity", other, identity)}
	}
	return identity, nil
}

// alikeProblem is why a new name of kind ("identity", "data set") is
// refused beside stored, one person's name or one folder's to the store
// (msg.NameKey): two that differ only in case would share a folder on a
// file system that ignores case (macOS's, Windows'), and two that differ
// in the form of a character (fullwidth "ａｌｉｃｅ" beside "alice") read as
// one name. A data set's name is ASCII: only its case differs.
func alikeProblem(kind, stored, name string) string {
	if strings.EqualFold(stored, name) {
		return fmt.Sprintf("the %s %q exists: names that differ only in case would share a folder", kind, stored)
	}
	return fmt.Sprintf("the %s %q exists: names that differ %s, read as one person", kind, stored, msg.Alike(stored, name))
}

// nameKey is msg.NameKey with the normal form KC of package norm.
func nameKey(name string) string { return msg.NameKey(name, norm.NFKC.String) }

// matchName compares name, in normal form C, with the names of query (one
// column; args its arguments) in normal form C: same is the first that is
// name in another form (stored before names were normalised), other the
// first that is one with name in form KC and case (nameKey: "ALICE" or
// "ａｌｉｃｅ" beside "alice") but is not name; "" for none.
func (s *Store) matchName(query, name string, args ...any) (same, other string, err error) {
	rows, err := s.db.Query(query, args...)
	if err != nil {
		return "", "", err
	}
	defer rows.Close()
	for rows.Next() {
		var stored string
		if err := rows.Scan(&stored); err != nil {
			return "", "", err
		}
		switch n := IdentityName(stored); {
		case n == name && same == "":
			same = stored
		case n != name && other == "" && nameKey(n) == nameKey(name):
			other = stored
		}
	}
	return same, other, rows.Err()
}

// ErrInvalidName is matched by AddSample's errors about a name.
var ErrInvalidName = errors.New("invalid name")

// NameError is a name that the rules of package msg refuse: what it names
// ("data set", "identity"), the name, and why.
type NameError struct{ Kind, Name, Problem string }

func (e NameError) Error() string        { return fmt.Sprintf("%s %q: %s", e.Kind, e.Name, e.Problem) }
func (e NameError) Is(target error) bool { return target == ErrInvalidName }

// Datasets returns the data sets with their numbers of identities and
// samples, by name.
func (s *Store) Datasets() ([]Dataset, error) {
	rows, err := s.db.Query(`SELECT d.name, d.created, COUNT(DISTINCT s.identity), COUNT(s.id)
		FROM datasets d LEFT JOIN samples s ON s.dataset = d.name GROUP BY d.name ORDER BY d.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Dataset{}
	for rows.Next() {
		var d Dataset
		if err := rows.Scan(&d.Name, &d.Created, &d.Identities, &d.Samples); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// HasDataset reports whether data set name has its row.
func (s *Store) HasDataset(name string) (bool, error) {
	var n int
	err := s.db.QueryRow("SELECT COUNT(*) FROM datasets WHERE name = ?", name).Scan(&n)
	return n > 0, err
}

// DatasetDir returns the image folder of data set name, or ErrNotFound.
func (s *Store) DatasetDir(name string) (string, error) {
	if !ValidName(name) {
		return "", ErrNotFound
	}
	stored, err := s.HasDataset(name)
	if err != nil {
		return "", err
	}
	if !stored {
		return "", ErrNotFound
	}
	return filepath.Join(s.dir, datasetsDir, name), nil
}

// InUseError is the refusal of a change to a data set that a queued,
// running or interrupted job trains on (its run, or its resume, reads the
// data set's files): DeleteDataset's and DeleteSample's. It matches
// ErrConflict.
type InUseError struct{ Dataset, JobID, State string }

func (e InUseError) Error() string {
	return fmt.Sprintf("data set %q: job %s (%s) trains on it: wait for it to end, or cancel it (DELETE /api/jobs/%s)", e.Dataset, e.JobID, e.State, e.JobID)
}
func (e InUseError) Is(target error) bool { return target == ErrConflict }

// datasetInUse returns the InUseError of data set name when a queued,
// running or interrupted job trains on it (its config's data), the
// oldest such job, or nil; as tx reads the jobs.
func datasetInUse(tx *sql.Tx, name string) error {
	var id, state string
	err := tx.QueryRow("SELECT id, state FROM jobs WHERE state IN (?, ?, ?) AND json_valid(config) AND json_extract(config, '$.data') = ? ORDER BY created, rowid LIMIT 1",
		StateQueued, StateRunning, StateInterrupted, name).Scan(&id, &state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return InUseError{name, id, state}
}

// DeleteDataset removes data set name, its samples' rows and its folder
// (rows first, in one transaction, then the folder), or returns
// ErrNotFound, or an InUseError when a job that is not over trains on it.
// A file it cannot remove leaves the data set deleted, the file without a
// row (Open moves it to lost+found): left says why, as DeleteModel's. A
// sample of its name sent meanwhile waits (Store.names), then makes a new
// data set.
func (s *Store) DeleteDataset(name string) (left, err error) {
	if !ValidName(name) {
		return nil, ErrNotFound
	}
	s.names.Lock()
	defer s.names.Unlock()
	err = s.tx(func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRow("SELECT COUNT(*) FROM datasets WHERE name = ?", name).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		if err := datasetInUse(tx, name); err != nil {
			return err
		}
		if _, err := tx.Exec("DELETE FROM samples WHERE dataset = ?", name); err != nil {
			return err
		}
		_, err := tx.Exec("DELETE FROM datasets WHERE name = ?", name)
		return err
	})
	if err != nil {
		return nil, err
	}
	root := filepath.Join(s.dir, datasetsDir)
	if err := os.RemoveAll(filepath.Join(root, name)); err != nil {
		return err, nil
	}
	s.syncDir(root)
	return nil, nil
}

// SampleRow is a stored sample as a data set's list gives it: its ID (the
// name of its file), its identity as stored, and when it was stored.
type SampleRow struct {
	ID       string `json:"id"`
	Identity string `json:"identity"`
	Created  string `json:"created"`
}

// Samples returns at most limit samples of data set name whose IDs come
// after after ("" for the first), by ID, and more, whether others follow;
// or ErrNotFound for no such data set.
func (s *Store) Samples(name, after string, limit int) (rows []SampleRow, more bool, err error) {
	stored, err := s.HasDataset(name)
	if err != nil {
		return nil, false, err
	}
	if !stored {
		return nil, false, ErrNotFound
	}
	q, err := s.db.Query("SELECT id, identity, created FROM samples WHERE dataset = ? AND id > ? ORDER BY id LIMIT ?", name, after, limit+1)
	if err != nil {
		return nil, false, err
	}
	defer q.Close()
	rows = []SampleRow{}
	for q.Next() {
		var r SampleRow
		if err := q.Scan(&r.ID, &r.Identity, &r.Created); err != nil {
			return nil, false, err
		}
		rows = append(rows, r)
	}
	if err := q.Err(); err != nil {
		return nil, false, err
	}
	if len(rows) > limit {
		return rows[:limit], true, nil
	}
	return rows, false, nil
}

// SampleFile returns the path of the file of sample id of data set name
// (DIR/datasets/NAME/IDENTITY/ID.png|jpg, the bytes its upload sent), or
// ErrNotFound when the data set has no such sample (none when there is no
// such data set). The file may have gone since (removed by hand).
func (s *Store) SampleFile(name, id string) (string, error) {
	var file string
	err := s.db.QueryRow("SELECT file FROM samples WHERE id = ? AND dataset = ?", id, name).Scan(&file)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	return filepath.Join(s.dir, file), nil
}

// DeleteSample removes sample id of data set name (row first, then its
// file; its identity's folder too once empty), or returns ErrNotFound, or
// an InUseError when a job that is not over trains on the data set. The
// data set stays, with no samples left too. left is as DeleteDataset's.
func (s *Store) DeleteSample(name, id string) (left, err error) {
	s.names.Lock()
	defer s.names.Unlock()
	var file string
	err = s.tx(func(tx *sql.Tx) error {
		err := tx.QueryRow("SELECT file FROM samples WHERE id = ? AND dataset = ?", id, name).Scan(&file)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := datasetInUse(tx, name); err != nil {
			return err
		}
		_, err = tx.Exec("DELETE FROM samples WHERE id = ?", id)
		return err
	})
	if err != nil {
		return nil, err
	}
	path := filepath.Join(s.dir, file)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err, nil
	}
	s.syncDir(filepath.Dir(path))
	removeEmptyUp(filepath.Dir(path), filepath.Join(s.dir, datasetsDir))
	return nil, nil
}
