// Package par runs the loops of metriclab's kernels on several cores.
//
// A Pool is a fixed set of worker goroutines that a Trainer (or an Encoder)
// owns and hands to its ops; nothing here is global, so two trainers with
// different thread counts can run side by side. A nil *Pool is valid and
// runs everything on the calling goroutine: the browser's build (one thread)
// and tests use it.
//
// Determinism: For hands out fixed, contiguous index ranges, and the kernels
// give every output element to exactly one index, with the reduction order
// of each element fixed by the kernel and not by the split. Results are
// therefore identical, bit for bit, for every thread count.
package par

import (
	"runtime"
	"sync"
	"time"
)

// Pool runs For loops on Threads goroutines (the caller's and Threads−1
// workers). It is safe for concurrent use; Close stops its workers.
type Pool struct {
	threads int
	tasks   chan task
	once    sync.Once
}

// task is one range of a For loop.
type task struct {
	body   func(lo, hi int)
	lo, hi int
	loop   *loop
}

// loop is what the ranges of one For loop share: the wait for them all,
// and the first panic of their bodies, for For's caller.
type loop struct {
	wg       sync.WaitGroup
	mu       sync.Mutex
	panicked bool
	value    any
}

// do runs body(lo, hi), keeping its panic in l for the loop's caller.
func (l *loop) do(body func(lo, hi int), lo, hi int) {
	defer func() {
		if r := recover(); r != nil {
			l.mu.Lock()
			if !l.panicked {
				l.panicked, l.value = true, r
			}
			l.mu.Unlock()
		}
	}()
	body(lo, hi)
}

// NewPool returns a pool of n threads; n ≤ 0 means one per CPU
// (runtime.NumCPU). A pool of one thread starts no goroutine.
func NewPool(n int) *Pool {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	p := &Pool{threads: n}
	if n > 1 {
		p.tasks = make(chan task, n)
		for i := 1; i < n; i++ {
			go p.work()
		}
	}
	return p
}

// Threads returns the number of threads of p: 1 for a nil pool.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// Close stops the workers. Calling For after Close panics; Close is
// idempotent. A nil pool's Close does nothing.
func (p *Pool) Close() {
	if p == nil || p.tasks == nil {
		return
	}
	p.once.Do(func() { close(p.tasks) })
}

func (p *Pool) work() {
	for {
		t, ok := p.next()
		if !ok {
			return
		}
		t.loop.do(t.body, t.lo, t.hi)
		t.loop.wg.Done()
	}
}

// spinWait is how long an idle worker keeps looking for its next range
// before it parks. Waking a parked worker took 140 µs on average on the
// 2-core machine this was measured on (a LeNet++ step at two threads, 52
// parallel loops, lost 7 ms to it out of 200), while an engine's loops
// follow each other within tens of microseconds; OpenMP runtimes spin
// the same way. With 200 µs the wait fell to 3–4 ms a step.
const spinWait = 200 * time.Microsecond

// next returns the next range, or false once the pool is closed: it polls
// the queue for spinWait, yielding between looks, then blocks.
func (p *Pool) next() (task, bool) {
	for deadline := time.Now().Add(spinWait); time.Now().Before(deadline); runtime.Gosched() {
		select {
		case t, ok := <-p.tasks:
			return t, ok
		default:
		}
	}
	t, ok := <-p.tasks
	return t, ok
}

// For calls body(arg, lo, hi) on disjoint ranges that cover [0, n), at
// most p.Threads() of them at once, each range contiguous and of at least
// grain indices (grain < 1 counts as 1), and returns when all have
// returned. The split depends on n, grain and the thread count only. A
// body that panics, on whichever goroutine, panics For's caller with the
// same value once all have returned, as on one thread: a worker's panic
// would otherwise end the process, past any recover of the caller's.
//
// body is meant to be a function or a method expression and arg a pointer
// or a small struct passed by value, rather than a closure: a loop that
// runs on one thread (a nil pool, or a range below two grains) then
// allocates nothing; one that runs on several allocates the tasks' shared
// state (a few dozen bytes).
func For[A any](p *Pool, n, grain int, arg A, body func(A, int, int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	parts := min(p.Threads(), n/grain)
	if parts <= 1 {
		body(arg, 0, n)
		return
	}
	a := arg // a copy declared here, so that only this branch moves it to the heap
	p.run(n, parts, func(lo, hi int) { body(a, lo, hi) })
}

// run hands parts−1 ranges to the workers, runs the first itself and
// waits; then it panics with a body's first panic, if one did.
func (p *Pool) run(n, parts int, body func(lo, hi int)) {
	l := new(loop)
	l.wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		p.tasks <- task{body: body, lo: i * n / parts, hi: (i + 1) * n / parts, loop: l}
	}
	l.do(body, 0, n/parts)
	l.wg.Wait()
	if l.panicked {
		panic(l.value)
	}
}
