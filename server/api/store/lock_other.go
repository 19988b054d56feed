//go:build !unix && !windows && !js

package store

import "os"

// lockDir takes no lock outside Unix systems and Windows, where the store
// does not build today (modernc.org/libc has no port there): should it,
// the user must not start two servers on one data directory.
func lockDir(dir string) (*os.File, error) { return nil, nil }
