//go:build !js

package store

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Dataset is an uploaded data set: an image folder with one sub-folder per
// identity.
type Dataset struct {
	Name       string `json:"name"`
	Identities int    `json:"identities"`
	Samples    int    `json:"samples"`
	Created    string `json:"created"`
}

// Sample is one uploaded image.
type Sample struct {
	ID       string `json:"id"`
	Dataset  string `json:"dataset"`
	Identity string `json:"identity"`
	Created  string `json:"created"`
}

// reservedIdentities would make an image folder look split into train/ and
// test/ (see data.Load).
var reservedIdentities = map[string]bool{"train": true, "test": true}

// AddSample stores one image of identity in data set dataset (created on
// its first sample); ext is the file extension (".png" or ".jpg"), write
// fills the file. Names must be ValidName; "train" and "test" cannot be
// identities. A bad name is ErrInvalidName.
func (s *Store) AddSample(dataset, identity, ext string, write func(io.Writer) error) (Sample, error) {
	if !ValidName(dataset) || !ValidName(identity) || reservedIdentities[identity] {
		return Sample{}, ErrInvalidName
	}
	if ext != ".png" && ext != ".jpg" {
		panic("store: AddSample: extension " + ext)
	}
	smp := Sample{ID: newID(), Dataset: dataset, Identity: identity, Created: now()}
	rel := filepath.Join(datasetsDir, dataset, identity, smp.ID+ext)
	path := filepath.Join(s.dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return Sample{}, err
	}
	tmp, err := writeTemp(filepath.Dir(path), filepath.Base(path), write)
	if err != nil {
		return Sample{}, fmt.Errorf("writing sample: %w", err)
	}
	if err := commit(tmp, path); err != nil {
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
		return Sample{}, err
	}
	return smp, nil
}

// ErrInvalidName is AddSample's error for a data set or identity name that
// ValidName rejects (or a reserved one).
var ErrInvalidName = errors.New("invalid name")

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

// DatasetDir returns the image folder of data set name, or ErrNotFound.
func (s *Store) DatasetDir(name string) (string, error) {
	if !ValidName(name) {
		return "", ErrNotFound
	}
	var n int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM datasets WHERE name = ?", name).Scan(&n); err != nil {
		return "", err
	}
	if n == 0 {
		return "", ErrNotFound
	}
	return filepath.Join(s.dir, datasetsDir, name), nil
}
