//go:build !unix && !js

package store

import "os"

// lockDir takes no lock outside Unix systems (the server is built and
// tested on Linux): the user must not start two servers on one data
// directory there.
func lockDir(dir string) (*os.File, error) { return nil, nil }
