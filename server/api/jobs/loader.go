//go:build !js

package jobs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/msg"
	"metriclab/server/api/store"
)

// FolderInput is the shape uploaded data sets are resized to unless a
// request names another: grey 32×32, the default of `metriclab train` for
// a folder.
var FolderInput = core.Input{Channels: 1, Height: 32, Width: 32}

// StoreLoader returns the Loader of the server: "mnist" is MNIST (loaded
// once, on first use, and kept; in must be zero or 1×28×28), any other
// name an uploaded data set of st, read from its folder at every call
// (samples may have been added) and resized to in (zero: FolderInput).
// The images such a load skips (one under msg.MinSide pixels a side,
// stored before the upload refused it; a file put in the folder by hand
// that is not read) are the note, "data set NAME: N images, K skipped:
// …"; an identity left without an image to train on (a usable 5th, in
// the test split, or not) is an invalid data set, as one without images
// is (data.Load): its class would be trained on nothing.
//
// An uploaded data set's images are those of files (data.Listing), the
// data set as a job's first run found it, or, nil, those of the folder
// now, listed once; listed is that list, for a later run of the job.
// Both splits are loaded of it, apart: images added since the listing
// (by then, or in between) are left out (and told in the note, "added
// since the first load"), and an image of it that is gone (removed, or
// renamed by hand, by then or in between) is an invalid data set naming
// it (data.ErrGone), rather than test images labelled by other
// identities than the training split's.
func StoreLoader(st *store.Store) Loader {
	return storeLoader(st, func(dir, split string, in core.Input, files []string) (*data.Set, data.Skipped, error) {
		return data.LoadListed(dir, split, in, files)
	})
}

// storeLoader is StoreLoader, the splits of an uploaded data set read
// from its folder dir by load.
func storeLoader(st *store.Store, load func(dir, split string, in core.Input, files []string) (*data.Set, data.Skipped, error)) Loader {
	var (
		mu            sync.Mutex
		mTrain, mTest *data.Set
	)
	return func(name string, in core.Input, files []string) (*data.Set, *data.Set, string, []string, error) {
		if name == "mnist" {
			if in != (core.Input{}) && (in.Channels != 1 || in.Height != 28 || in.Width != 28) {
				return nil, nil, "", nil, invalid("input %d×%d×%d: mnist images are 1×28×28", in.Channels, in.Height, in.Width)
			}
			mu.Lock()
			defer mu.Unlock()
			if mTrain == nil {
				train, err := data.Load("mnist", "train", core.MNISTInput)
				if err != nil {
					return nil, nil, "", nil, err
				}
				test, err := data.Load("mnist", "test", core.MNISTInput)
				if err != nil {
					return nil, nil, "", nil, err
				}
				mTrain, mTest = train, test
			}
			return mTrain, mTest, "", nil, nil
		}
		dir, err := st.DatasetDir(name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, "", nil, invalid("unknown data set %q (want mnist or an uploaded data set, GET /api/datasets)", name)
		}
		if err != nil {
			return nil, nil, "", nil, err
		}
		if in == (core.Input{}) {
			in = FolderInput
		}
		if files == nil {
			if files, err = data.Listing(dir); err != nil {
				return nil, nil, "", nil, invalid("data set %s: %s", name, strings.ReplaceAll(err.Error(), dir, name))
			}
		}
		train, skipped, err := load(dir, "train", in, files)
		if err != nil {
			return nil, nil, "", nil, invalid("data set %s: %s", name, strings.ReplaceAll(err.Error(), dir, name))
		}
		test, testSkipped, err := load(dir, "test", in, files)
		if err != nil {
			return nil, nil, "", nil, invalid("data set %s: %s", name, strings.ReplaceAll(err.Error(), dir, name))
		}
		// Each load lists the folder, of files: the test split's labels
		// are of the training split's classes only when the two listed
		// the same (an image of files gone is data.ErrGone before).
		if change := data.ClassesChanged(train.Classes, test.Classes); change != "" {
			return nil, nil, "", nil, invalid("data set %s changed while loading: %s", name, change)
		}
		// What the folder holds that is not read is in both splits' counts.
		for reason, n := range testSkipped.Refused() {
			skipped[reason] += n
		}
		if empty := emptyIdentities(train); len(empty) > 0 {
			return nil, nil, "", nil, invalid("data set %s: no usable image of %s to train on (%s): upload others of %d pixels a side or more", name, strings.Join(empty, ", "), skipped, msg.MinSide)
		}
		note := ""
		if len(skipped) > 0 {
			note = fmt.Sprintf("data set %s: %s, %s", name, msg.Plural(train.N+test.N, "image", "images"), skipped)
		}
		return train, test, note, files, nil
	}
}

// emptyIdentities returns the identities of the training split train of
// a data set, quoted, that have no image in it: every identity folder
// holds an image file (data.Load), and the training split takes the
// first 4 of every 5, so all of its were skipped, those of the test
// split too but for a 5th whose class would be trained on nothing.
func emptyIdentities(train *data.Set) []string {
	has := make([]bool, len(train.Classes))
	for _, l := range train.Labels {
		has[l] = true
	}
	var empty []string
	for c, ok := range has {
		if !ok {
			empty = append(empty, strconv.Quote(train.Classes[c]))
		}
	}
	return empty
}
