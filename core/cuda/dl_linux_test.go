//go:build linux

package cuda

import (
	"strings"
	"sync"
	"testing"

	"github.com/ebitengine/purego"
)

// TestDlopenReasonOnEveryThread opens a missing library from many
// goroutines at once: every error must carry the loader's reason, which
// dlerror keeps per thread (a goroutine that moved between dlopen and
// dlerror would read an empty one).
func TestDlopenReasonOnEveryThread(t *testing.T) {
	const goroutines, tries = 16, 300
	var wg sync.WaitGroup
	bad := make(chan string, goroutines*tries)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < tries; i++ {
				_, err := dlopen("libmetriclab-missing.so.1", purego.RTLD_NOW)
				switch {
				case err == nil:
					bad <- "no error"
				case !isNotFound(err) || !strings.Contains(err.Error(), "libmetriclab-missing.so.1"):
					bad <- err.Error()
				}
			}
		}()
	}
	wg.Wait()
	close(bad)
	n, first := 0, ""
	for s := range bad {
		if n == 0 {
			first = s
		}
		n++
	}
	if n > 0 {
		t.Errorf("%d of %d errors lack the loader's reason; first %q", n, goroutines*tries, first)
	}
}
