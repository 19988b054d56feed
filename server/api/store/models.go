//go:build !js

package store

import (
	"bytes"
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
// another model has, in any case or form (ErrNameTaken, nameFree), checked in the transaction that
// inserts the row, and the file written is removed.
func (s *Store) AddNamedModel(name string, write func(io.Writer) error, check ModelCheck) (Card, error) {
	return s.addModel(name, "", write, check, func(tx *sql.Tx, c Card) error { return nameFree(tx, name, c.ID) })
}

// ErrSameBytes is the error of an upload under a name (AddUpload) whose
// bytes another model, of another name, has: it is wrapped with that
// model's id and name.
var ErrSameBytes = errors.New("same bytes")

// AddUpload registers an uploaded model file, as AddModel (named false:
// name is the server's label) or AddNamedModel (named: a name a person
// chose) do, unless a model stored has the same bytes: then nothing is
// added, and its card is answered with existed true, as a sample sent
// twice is (AddSample), for an upload without a name or under the name
// that model has; under another name, ErrSameBytes, which names it (a
// rename gives it the name). A retried upload, a page's send repeated,
// a trained model's download uploaded back, so makes no second model of
// its own id that differs in nothing. The bytes are compared with those
// of the models of the same size, in the transaction that would insert
// the row (two uploads of one file at once make one model); models
// differ early in their header (the provenance's time), so a file is
// read through only when it is the same.
func (s *Store) AddUpload(name string, named bool, write func(io.Writer) error, check ModelCheck) (card Card, existed bool, err error) {
	var same Card
	card, err = s.addModel(name, "", write, check, func(tx *sql.Tx, c Card) error {
		found, err := s.sameModel(tx, c)
		if err != nil {
			return err
		}
		if found != nil {
			if named && found.Name != name {
				return fmt.Errorf("%w: model %s, named %q, is this file already: rename it to give it this name (POST /api/models/%s/rename?name=…)", ErrSameBytes, found.ID, found.Name, found.ID)
			}
			same = *found
			return errExisted
		}
		if named {
			return nameFree(tx, name, c.ID)
		}
		return nil
	})
	if errors.Is(err, errExisted) {
		return same, true, nil
	}
	return card, false, err
}

// errExisted rolls back the insert of a model that AddUpload found stored.
var errExisted = errors.New("existed")

// sameModel returns the card of a model other than c whose file has the
// same bytes as c's (its row inserted in tx), or nil.
func (s *Store) sameModel(tx *sql.Tx, c Card) (*Card, error) {
	rows, err := tx.Query("SELECT id, card, file FROM models WHERE size = ? AND id != ? ORDER BY rowid", c.Size, c.ID)
	if err != nil {
		return nil, err
	}
	type candidate struct{ id, card, file string }
	var cands []candidate
	for rows.Next() {
		var k candidate
		if err := rows.Scan(&k.id, &k.card, &k.file); err != nil {
			rows.Close()
			return nil, err
		}
		cands = append(cands, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	path := filepath.Join(s.dir, modelsDir, c.ID+modelExt)
	for _, k := range cands {
		var other Card
		if json.Unmarshal([]byte(k.card), &other) != nil {
			continue // Models leaves it out; Open removes its row
		}
		same, err := sameFile(path, filepath.Join(s.dir, k.file))
		if err != nil {
			return nil, err
		}
		if same {
			other = boundCard(other)
			return &other, nil
		}
	}
	return nil, nil
}

// sameFile reports whether the files a and b, of one size, hold the same
// bytes, reading them until they differ. A file gone (b deleted meanwhile)
// is not the same.
func sameFile(a, b string) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer fb.Close()
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, errA := io.ReadFull(fa, ba)
		nb, errB := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		endA := errors.Is(errA, io.EOF) || errors.Is(errA, io.ErrUnexpectedEOF)
		endB := errors.Is(errB, io.EOF) || errors.Is(errB, io.ErrUnexpectedEOF)
		switch {
		case errA != nil && !endA:
			return false, errA
		case errB != nil && !endB:
			return false, errB
		case endA || endB:
			return endA && endB, nil
		}
	}
}

// nameFree returns ErrNameTaken, with the model's id and name, when a
// model other than id has name's key (nameKey: case and a character's
// form, "Digits" and the fullwidth "ｄｉｇｉｔｓ" beside "digits"), as an
// identity's name is refused beside one that reads as it. The keys are
// compared in Go over every model's name, in tx: a registry holds a few
// thousand models at most, and SQLite has no NFKC to compare them in SQL.
func nameFree(tx *sql.Tx, name, id string) error {
	rows, err := tx.Query("SELECT id, name FROM models WHERE id != ? ORDER BY rowid", id)
	if err != nil {
		return err
	}
	defer rows.Close()
	key := nameKey(name)
	for rows.Next() {
		var other, its string
		if err := rows.Scan(&other, &its); err != nil {
			return err
		}
		switch {
		case its == name:
			return fmt.Errorf("%w: model %s is named %q already", ErrNameTaken, other, its)
		case nameKey(its) == key:
			return fmt.Errorf("%w: model %s is named %q already, a name that differs from %q %s", ErrNameTaken, other, its, name, msg.Alike(its, name))
		}
	}
	return rows.Err()
}

// RenameModel names model id name and returns its card, or ErrNotFound,
// or ErrNameTaken when another model has the name in any case or form
// (nameFree; its own is no change, and the name is stored as sent). The row alone changes, its name and its card's, in one
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
