//go:build !js

package jobs

import (
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/server/api/store"
)

// TestStoreLoaderFolderChanged: the loader lists a data set's folder
// once, and reads its training and test splits apart, each of that
// listing: an identity renamed by hand between the two is invalid, in one
// line naming an image gone; one uploaded is left out of both (it is for
// the next load). Before, each split listed the folder: "bob" renamed
// "aaron", its test images were labelled 0, "alice"'s class in training,
// and "alice"'s 1, "bob"'s, silently; "abe" uploaded, the job failed on
// job.New's "the test set has 3 classes …, the training set 2" (then,
// since, on "changed while loading: identity "abe" is new").
func TestStoreLoaderFolderChanged(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(st *store.Store, dir string) error
		want   string // the error's start; "": loaded, of alice and bob
	}{
		{"renamed", func(_ *store.Store, dir string) error {
			return os.Rename(filepath.Join(dir, "bob"), filepath.Join(dir, "aaron"))
		}, "data set bars: data: bars/bob/"},
		{"uploaded", func(st *store.Store, _ string) error {
			return addBars(st, "bars", "abe", 5)
		}, ""},
	} {
		st, _, err := store.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for _, id := range []string{"alice", "bob"} {
			if err := addBars(st, "bars", id, 5); err != nil {
				t.Fatal(err)
			}
		}
		load := storeLoader(st, func(dir, split string, in core.Input, files []string) (*data.Set, data.Skipped, error) {
			set, skipped, err := data.LoadListed(dir, split, in, files)
			if err == nil && split == "train" {
				err = c.change(st, dir)
			}
			return set, skipped, err
		})
		train, test, _, listed, err := load("bars", core.Input{}, nil)
		if c.want == "" {
			if err != nil || !slices.Equal(train.Classes, []string{"alice", "bob"}) || !slices.Equal(test.Classes, train.Classes) || len(listed) != 10 {
				t.Errorf("%s: error %v, listed %d images; want alice and bob's 10 loaded", c.name, err, len(listed))
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: loaded the training split of %q, the test split of %q: want an error", c.name, train.Classes, test.Classes)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) || !errors.Is(err, ErrInvalid) || !strings.HasSuffix(err.Error(), data.ErrGone.Error()) {
			t.Errorf("%s: error %q, want the invalid %q…: %s", c.name, err, c.want, data.ErrGone)
		}
	}
}

// barsAdded counts the images addBars made, which it marks each with.
var barsAdded atomic.Uint32

// addBars uploads n images of identity id, 16×16 grey with a bar, to the
// data set of st named dataset.

func addBars(st *store.Store, dataset, id string, n int) error {
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 16, 16))
		for k := range 16 {
			img.SetGray(k, i%16, color.Gray{200})
		}
		// An image of its own, in this call and the next: the store keeps
		// an image of a person once.
		img.SetGray(0, 15-i%16, color.Gray{uint8(barsAdded.Add(1))})
		if _, err := st.AddSample(dataset, id, ".png", func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
			return err
		}
	}
	return nil
}

// TestValidateClassesNamedByNumber: POST /api/jobs's classes (Validate,
// the check before a job is queued, job.New as its run) among uploaded
// identities all named by number are those names, as train's --classes:
// "1-2" of 01 … 04 is 01 and 02, and "0-1" is refused, no identity being
// named 0. Before, a number was a position: both were taken, "1-2" as 02
// and 03, and "0-1" as 01 and 02.
func TestValidateClassesNamedByNumber(t *testing.T) {
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range []string{"01", "02", "03", "04"} {
		if err := addBars(st, "bars", id, 5); err != nil {
			t.Fatal(err)
		}
	}
	r := New(Config{Store: st, Load: StoreLoader(st), Logger: log.New(io.Discard, "", 0)})
	req := barRequest(1)
	req.Classes = "1-2"
	if _, err := r.Validate(req); err != nil {
		t.Errorf("classes 1-2 of 01 … 04: %v", err)
	}
	req.Classes = "0-1"
	want := `classes "0-1": no class is named 0 (the classes are named by number, 01 to 04, and selected by those numbers)`
	if _, err := r.Validate(req); err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrInvalid) {
		t.Errorf("classes 0-1 of 01 … 04: %v; want invalid, with %q", err, want)
	}
}
