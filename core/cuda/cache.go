//go:build !js

package cuda

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CacheKey is the name of a compiled kernel in the cache:
// hex(SHA-256(arch ‖ 0x00 ‖ source)), so the same source compiled for
// another architecture ("sm_80", "sm_90") gets another entry.
func CacheKey(source, arch string) string {
	h := sha256.New()
	h.Write([]byte(arch))
	h.Write([]byte{0})
	h.Write([]byte(source))
	return hex.EncodeToString(h.Sum(nil))
}

// CacheDir returns the kernel cache folder: $XDG_CACHE_HOME/metriclab/cuda,
// or ~/.cache/metriclab/cuda when XDG_CACHE_HOME is unset or not absolute
// (os.UserCacheDir's rule on Linux). It does not create it.
func CacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cuda: kernel cache: %v", err)
	}
	return filepath.Join(base, "metriclab", "cuda"), nil
}

// Cache is an on-disk store of compiled kernels (CUBIN) by CacheKey.
type Cache struct {
	Dir string
}

// path returns the file of key. It panics on a key that is not a CacheKey.
func (c Cache) path(key string) string {
	if len(key) != 2*sha256.Size {
		panic(fmt.Sprintf("cuda: cache key %q is not a CacheKey", key))
	}
	if _, err := hex.DecodeString(key); err != nil {
		panic(fmt.Sprintf("cuda: cache key %q is not a CacheKey", key))
	}
	return filepath.Join(c.Dir, key+".cubin")
}

// Load returns the stored kernel of key; ok is false when there is none.
func (c Cache) Load(key string) (data []byte, ok bool, err error) {
	data, err = os.ReadFile(c.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cuda: kernel cache: %v", err)
	}
	return data, true, nil
}

// Store writes the kernel of key, creating the folder when needed. It
// writes a temporary file and renames it into place, so that concurrent
// processes never read a partial kernel.
func (c Cache) Store(key string, data []byte) error {
	p := c.path(key)
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("cuda: kernel cache: %v", err)
	}
	f, err := os.CreateTemp(c.Dir, "."+key+".tmp-*")
	if err != nil {
		return fmt.Errorf("cuda: kernel cache: %v", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("cuda: kernel cache: %v", err)
	}
	return nil
}
