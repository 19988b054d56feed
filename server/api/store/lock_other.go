//go:build !unix && !windows && !js

package store

import "os"

// lockDir takes no lock outside Unix systems and Windows (Plan 9,
// WASI): the user must not start two servers on one data directory there.
func lockDir(dir string) (*os.File, error) { return nil, nil }
