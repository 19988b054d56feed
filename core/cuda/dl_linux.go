//go:build linux

package cuda

import (
	"errors"
	"runtime"

	"github.com/ebitengine/purego"
)

// dlopen opens a shared library (purego.Dlopen) on one OS thread. The
// reason of a failure comes from dlerror, which is per thread: were the
// goroutine to move between the two calls, the reason would be lost (an
// empty message, or another thread's).
func dlopen(path string, mode int) (uintptr, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	h, err := purego.Dlopen(path, mode)
	return h, withReason(err)
}

// dlsym looks a symbol up (purego.Dlsym) on one OS thread, for the same
// reason as dlopen.
func dlsym(lib uintptr, name string) (uintptr, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p, err := purego.Dlsym(lib, name)
	return p, withReason(err)
}

// dlclose closes a library of dlopen (purego.Dlclose) on one OS thread,
// for the same reason as dlopen.
func dlclose(lib uintptr) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return withReason(purego.Dlclose(lib))
}

// withReason gives a loader error with no message one that says so.
func withReason(err error) error {
	if err != nil && err.Error() == "" {
		return errors.New("the dynamic loader gave no reason")
	}
	return err
}
