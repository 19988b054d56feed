//go:build !js

package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"metriclab/core/msg"
)

// Card describes a registered model: what the models page lists and
// GET /api/models/{id} answers (the wire type msg.ModelCard). Check fills
// it from the model file; the store sets ID, Name, Created, Size and JobID.
type Card = msg.ModelCard

// ModelCheck validates a model file written to a temporary path and
// returns its card. Its error refuses the model; AddModel returns it
// wrapped, so callers can tell it with errors.As or errors.Is.
type ModelCheck func(path string) (Card, error)

// ErrNameTaken is the error of a name that a person chose for a model
// (AddNamedModel, RenameModel) when another model has it; it is wrapped
// with the other model's id. The names the server gives (a job's model,
// "uploaded model") may repeat: the pages tell those apart by id.
var ErrNameTaken = errors.New("name taken")

// AddModel registers a model: write fills its file, check validates the
// written file (see ModelCheck), then the file is renamed into place and its
// row inserted. name is a label for people (not a path), which other
// models may have too.
func (s *Store) AddModel(name string, write func(io.Writer) error, check ModelCheck) (Card, error) {
	return s.addModel(name, "", write, check, nil)
}

// AddNamedModel is AddModel for a name a person chose: it refuses a name
// another model has (ErrNameTaken), checked in the transaction that
// inserts the row, and the file written is removed.
func (s *Store) AddNamedModel(name string, write func(io.Writer) error, check ModelCheck) (Card, error) {
	return s.addModel(name, "", write, check, func(tx *sql.Tx, c Card) error { return nameFree(tx, name, c.ID) })
}

// nameFree returns ErrNameTaken, with the model's id, when a model other
// than id is named name (compared exactly, as stored).
func nameFree(tx *sql.Tx, name, id string) error {
	var other string
	err := tx.QueryRow("SELECT id FROM models WHERE name = ? AND id != ? LIMIT 1", name, id).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("%w: model %s is named %q already", ErrNameTaken, other, name)
}

// RenameModel names model id name and returns its card, or ErrNotFound,
// or ErrNameTaken when another model has the name (its own is no
// change). The row alone changes, its name and its card's, in one
// transaction: the file is named by the id, as everything that refers to
// a model is (a job's model_id, a download's file name, the pages' links
// and the Verify page's choice), so none of it changes. The card keeps
// the fields this version does not know (a newer server's).
func (s *Store) RenameModel(id, name string) (Card, error) {
	var c Card
	err := s.tx(func(tx *sql.Tx) error {
		var raw string
		err := tx.QueryRow("SELECT card FROM models WHERE id = ?", id).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := nameFree(tx, name, id); err != nil {
			return err
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal([]byte(raw), &fields); err != nil {
			return err
		}
		if fields["name"], err = json.Marshal(name); err != nil {
			return err
		}
		out, err := json.Marshal(fields)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(out, &c); err != nil {
			return err
		}
		_, err = tx.Exec("UPDATE models SET name = ?, card = ? WHERE id = ?", name, string(out), id)
		return err
	})
	if err != nil {
		return Card{}, err
	}
	return boundCard(c), nil
}

// addModel writes and checks a model file and inserts its row; inTx, when
// not nil, runs in the same transaction (FinishJob's job update,
// AddNamedModel's check of the name).
func (s *Store) addModel(name, jobID string, write func(io.Writer) error, check ModelCheck, inTx func(tx *sql.Tx, c Card) error) (Card, error) {
	id := newID()
	rel := filepath.Join(modelsDir, id+modelExt)
	path := filepath.Join(s.dir, rel)
	tmp, err := writeTemp(filepath.Dir(path), filepath.Base(path), write)
	if err != nil {
		return Card{}, fmt.Errorf("writing model: %w", err)
	}
	card, err := check(tmp)
	if err != nil {
		os.Remove(tmp)
		return Card{}, fmt.Errorf("checking model: %w", err)
	}
	st, err := os.Stat(tmp)
	if err != nil {
		os.Remove(tmp)
		return Card{}, err
	}
	card.ID, card.Name, card.JobID, card.Size, card.Created = id, name, jobID, st.Size(), now()
	raw, err := json.Marshal(card)
	if err != nil {
		os.Remove(tmp)
		return Card{}, err
	}
	if err := commit(tmp, path); err != nil {
		return Card{}, err
	}
	err = s.tx(func(tx *sql.Tx) error {
		if _, err := tx.Exec("INSERT INTO models (id, name, card, file, size, created) VALUES (?, ?, ?, ?, ?, ?)",
			id, name, string(raw), rel, card.Size, card.Created); err != nil {
			return err
		}
		if inTx != nil {
			return inTx(tx, card)
		}
		return nil
	})
	if err != nil {
		os.Remove(path)
		return Card{}, err
	}
	return card, nil
}

// boundCard is c as a card carries its model's metadata (msg.MaxCardClasses,
// msg.MaxCardText): its first class names, each shortened, all of them
// counted in NumClasses, its Data and Preset shortened and made one line
// (msg.ErrorLine: a model file may give them any text, its class names
// are checked printable by core.Model.Validate). A card stored before
// the bounds (whole, NumClasses 0) is bounded as it is read.
func boundCard(c Card) Card {
	if c.NumClasses == 0 {
		c.NumClasses = len(c.Classes)
	}
	if len(c.Classes) > msg.MaxCardClasses {
		c.Classes = c.Classes[:msg.MaxCardClasses]
	}
	for i, name := range c.Classes {
		c.Classes[i] = msg.Shorten(name, msg.MaxCardText)
	}
	c.Data = msg.ErrorLine(msg.Shorten(c.Data, msg.MaxCardText))
	c.Preset = msg.ErrorLine(msg.Shorten(c.Preset, msg.MaxCardText))
	return c
}

// Models returns the cards of every model, oldest first, but those whose
// card cannot be read (a row damaged while the server runs; Open removes
// such rows): their errors, each naming its model, are in unreadable, so
// that one such row does not hide the others.
func (s *Store) Models() (cards []Card, unreadable []error, err error) {
	rows, err := s.db.Query("SELECT id, card FROM models ORDER BY rowid")
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cards = []Card{}
	for rows.Next() {
		var id, raw string
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, nil, err
		}
		var c Card
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			unreadable = append(unreadable, fmt.Errorf("model %s: its card cannot be read: %w", id, err))
			continue
		}
		cards = append(cards, boundCard(c))
	}
	return cards, unreadable, rows.Err()
}

// Model returns the card of model id and the path of its file, or
// ErrNotFound.
func (s *Store) Model(id string) (Card, string, error) {
	var raw, file string
	err := s.db.QueryRow("SELECT card, file FROM models WHERE id = ?", id).Scan(&raw, &file)
	if errors.Is(err, sql.ErrNoRows) {
		return Card{}, "", ErrNotFound
	}
	if err != nil {
		return Card{}, "", err
	}
	var c Card
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return Card{}, "", err
	}
	return boundCard(c), filepath.Join(s.dir, file), nil
}

// DeleteModel removes model id (row first, then file), or returns
// ErrNotFound. A file it cannot remove leaves the model deleted, the file
// without a row (Open moves it to lost+found): left says why. (The file
// first would list, when the row's removal then fails, a model whose file
// is gone.) A download already open keeps reading the removed file.
func (s *Store) DeleteModel(id string) (left, err error) {
	var file string
	err = s.tx(func(tx *sql.Tx) error {
		err := tx.QueryRow("SELECT file FROM models WHERE id = ?", id).Scan(&file)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec("DELETE FROM models WHERE id = ?", id); err != nil {
			return err
		}
		_, err = tx.Exec("UPDATE jobs SET model_id = '' WHERE model_id = ?", id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := os.Remove(filepath.Join(s.dir, file)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err, nil
	}
	return nil, nil
}

// tx runs f in a transaction, committing when it returns nil.
func (s *Store) tx(f func(tx *sql.Tx) error) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
