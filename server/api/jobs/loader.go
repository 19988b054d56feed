//go:build !js

package jobs

import (
	"errors"
	"strings"
	"sync"

	"metriclab/core"
	"metriclab/core/data"
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
func StoreLoader(st *store.Store) Loader {
	var (
		mu            sync.Mutex
		mTrain, mTest *data.Set
	)
	return func(name string, in core.Input) (*data.Set, *data.Set, error) {
		if name == "mnist" {
			if in != (core.Input{}) && (in.Channels != 1 || in.Height != 28 || in.Width != 28) {
				return nil, nil, invalid("input %d×%d×%d: mnist images are 1×28×28", in.Channels, in.Height, in.Width)
			}
			mu.Lock()
			defer mu.Unlock()
			if mTrain == nil {
				train, err := data.Load("mnist", "train", core.MNISTInput)
				if err != nil {
					return nil, nil, err
				}
				test, err := data.Load("mnist", "test", core.MNISTInput)
				if err != nil {
					return nil, nil, err
				}
				mTrain, mTest = train, test
			}
			return mTrain, mTest, nil
		}
		dir, err := st.DatasetDir(name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, invalid("unknown data set %q (want mnist or an uploaded data set, GET /api/datasets)", name)
		}
		if err != nil {
			return nil, nil, err
		}
		if in == (core.Input{}) {
			in = FolderInput
		}
		train, err := data.Load(dir, "train", in)
		if err != nil {
			return nil, nil, invalid("data set %s: %s", name, strings.ReplaceAll(err.Error(), dir, name))
		}
		test, err := data.Load(dir, "test", in)
		if err != nil {
			return nil, nil, invalid("data set %s: %s", name, strings.ReplaceAll(err.Error(), dir, name))
		}
		return train, test, nil
	}
}
