//go:build linux

package cuda

import (
	"sync"
	"syscall"
	"testing"
)

// TestExecutorOneThread checks that every call runs on the same OS thread,
// whichever goroutine queued it, and not on the caller's.
func TestExecutorOneThread(t *testing.T) {
	e := NewExecutor()
	defer e.Close()
	var first int
	e.Do(func() error { first = syscall.Gettid(); return nil })
	var mu sync.Mutex
	tids := map[int]int{}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				e.Do(func() error {
					tid := syscall.Gettid()
					mu.Lock()
					tids[tid]++
					mu.Unlock()
					return nil
				})
			}
		}()
	}
	wg.Wait()
	if len(tids) != 1 || tids[first] != 160 {
		t.Errorf("calls ran on threads %v, want all 160 on %d", tids, first)
	}
	if caller := syscall.Gettid(); caller == first {
		t.Logf("caller shares the executor's thread id %d (cannot happen while it is locked)", caller)
		t.Fail()
	}
}
