package store

import "errors"

// ErrInUse is wrapped by the error of Open of a data directory that
// another process holds (lockDir, on Unix systems and Windows), which a command tells
// from a failure at run time: the directory --data-dir names cannot be
// used, as an address in use. Unlike the store, it is built for js too,
// where the layout check lists serve, which names it (TestLayout).
var ErrInUse = errors.New("in use by another metriclab serve")

// ErrNewerSchema is wrapped by the error of Open of a data directory
// whose database a newer metriclab wrote (its schema version past this
// binary's): as ErrInUse, the directory --data-dir names cannot be used.
var ErrNewerSchema = errors.New("use a newer metriclab")
