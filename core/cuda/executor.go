//go:build !js

package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// ErrClosed is returned by calls on a closed Executor or Device.
var ErrClosed = errors.New("cuda: device closed")

// Executor runs functions, one at a time and in the order they were
// queued, on a single goroutine locked to its OS thread
// (runtime.LockOSThread): the thread on which a CUDA context stays current.
// Do may be called from any goroutine.
type Executor struct {
	calls chan func()
	mu    sync.Mutex // guards closed and the send on calls
	done  chan struct{}

	closed bool
}

// NewExecutor starts the executor's goroutine.
func NewExecutor() *Executor {
	e := &Executor{calls: make(chan func()), done: make(chan struct{})}
	go e.loop()
	return e
}

func (e *Executor) loop() {
	runtime.LockOSThread()
	// The thread is never unlocked: when the goroutine ends, the runtime
	// ends the thread with it, and with it any context left current there.
	defer close(e.done)
	for f := range e.calls {
		f()
	}
}

// Do runs f on the executor's thread and returns its error. A panic in f
// is returned as an error, and the executor goes on. Do on a closed
// executor returns ErrClosed. Do must not be called from within f.
func (e *Executor) Do(f func() error) error {
	res := make(chan error, 1)
	call := func() {
		defer func() {
			if p := recover(); p != nil {
				res <- fmt.Errorf("cuda: panic on the executor: %v", p)
			}
		}()
		res <- f()
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	e.calls <- call
	e.mu.Unlock()
	return <-res
}

// Close stops the executor after the queued calls; it waits for the
// goroutine to end. Closing twice is a no-op.
func (e *Executor) Close() {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.calls)
	}
	e.mu.Unlock()
	<-e.done
}
