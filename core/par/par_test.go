package par

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestForCoversOnce: every index of [0, n) is visited exactly once, for
// thread counts below, at and above n, and for grains that force fewer
// ranges than threads.
func TestForCoversOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		p := NewPool(threads)
		for _, n := range []int{0, 1, 2, 7, 64, 1001} {
			for _, grain := range []int{0, 1, 5, 100} {
				seen := make([]int32, n)
				var ranges atomic.Int32
				For(p, n, grain, t, func(t *testing.T, lo, hi int) {
					ranges.Add(1)
					if hi-lo < max(grain, 1) && hi-lo != n {
						t.Errorf("threads %d n %d grain %d: range [%d,%d) below the grain", threads, n, grain, lo, hi)
					}
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&seen[i], 1)
					}
				})
				for i, s := range seen {
					if s != 1 {
						t.Fatalf("threads %d n %d grain %d: index %d visited %d times", threads, n, grain, i, s)
					}
				}
				if int(ranges.Load()) > threads {
					t.Errorf("threads %d n %d: %d ranges, more than the threads", threads, n, ranges.Load())
				}
			}
		}
		p.Close()
		p.Close()
	}
}

// TestNilPool runs inline with one thread.
func TestNilPool(t *testing.T) {
	var p *Pool
	if p.Threads() != 1 {
		t.Fatalf("nil pool has %d threads, want 1", p.Threads())
	}
	calls := 0
	For(p, 10, 1, &calls, func(calls *int, lo, hi int) {
		*calls++
		if lo != 0 || hi != 10 {
			t.Errorf("nil pool range [%d,%d), want [0,10)", lo, hi)
		}
	})
	if calls != 1 {
		t.Errorf("nil pool: %d calls, want 1", calls)
	}
	p.Close()
}

// TestForInlineAllocatesNothing: a loop on one thread with a method
// expression and a pointer argument allocates nothing.
func TestForInlineAllocatesNothing(t *testing.T) {
	s := &summer{x: make([]float64, 100)}
	for _, p := range []*Pool{nil, NewPool(1)} {
		if a := testing.AllocsPerRun(10, func() { For(p, len(s.x), 1, s, (*summer).add) }); a != 0 {
			t.Errorf("%d threads: %v allocations per loop, want 0", p.Threads(), a)
		}
	}
}

type summer struct {
	x   []float64
	sum float64
}

func (s *summer) add(lo, hi int) {
	for _, v := range s.x[lo:hi] {
		s.sum += v
	}
}

// TestForPanicReachesCaller: a body that panics on a worker's range (a
// kernel's bug, an index out of range) panics For's caller with the same
// value once every range has returned, as it would on one thread, so that
// a recover there (the server's runner fails the job) catches it; the
// pool's workers go on with the next loop. Before, the worker's panic
// ended the process.
func TestForPanicReachesCaller(t *testing.T) {
	p := NewPool(4)
	defer p.Close()
	for _, bad := range []int{0, 99} { // the caller's range, a worker's
		var done atomic.Int64
		got := func() (r any) {
			defer func() { r = recover() }()
			For(p, 100, 1, 0, func(_, lo, hi int) {
				if lo <= bad && bad < hi {
					panic("par test: a bug")
				}
				time.Sleep(10 * time.Millisecond) // still running when the bad range panics
				done.Add(int64(hi - lo))
			})
			return nil
		}()
		if got != "par test: a bug" {
			t.Errorf("index %d panicked: For's caller recovered %v, want the body's panic", bad, got)
		}
		if n := done.Load(); n != 75 {
			t.Errorf("index %d panicked: %d indices done when For panicked, want the other ranges' 75", bad, n)
		}
	}
	n := atomic.Int64{}
	For(p, 100, 1, 0, func(_, lo, hi int) { n.Add(int64(hi - lo)) })
	if n.Load() != 100 {
		t.Errorf("after the panics, a loop covered %d indices, want 100", n.Load())
	}
}
