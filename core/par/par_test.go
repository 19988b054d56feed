package par

import (
	"sync/atomic"
	"testing"
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
