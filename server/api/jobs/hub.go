//go:build !js

package jobs

import (
	"sync"

	"metriclab/core/msg"
)

// subBuffer is the number of messages a subscriber may fall behind before
// it is dropped.
const subBuffer = 64

// hub fans one job's messages out to its subscribers. Publishing never
// blocks: a subscriber whose buffer is full is dropped (its channel closed
// without a final state), so a slow client cannot slow training down.
type hub struct {
	id string

	mu     sync.Mutex
	subs   map[chan msg.Message]struct{}
	state  msg.Message  // the last state message
	last   *msg.Message // the last step's progress, sent or not (progress)
	snap   *msg.Message // the last snapshot message
	closed bool
}

func newHub(id, state string) *hub {
	return &hub{id: id, subs: make(map[chan msg.Message]struct{}), state: stateMessage(id, state)}
}

// subscribe returns what a new subscriber sees first (the current state,
// then the last progress and snapshot when there are any), the channel of
// what follows, and false when the hub has finished.
func (h *hub) subscribe() ([]msg.Message, chan msg.Message, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, false
	}
	first := []msg.Message{h.state}
	if h.last != nil {
		first = append(first, *h.last)
	}
	if h.snap != nil {
		first = append(first, *h.snap)
	}
	ch := make(chan msg.Message, subBuffer)
	h.subs[ch] = struct{}{}
	return first, ch, true
}

// unsubscribe removes ch, if the hub has not dropped it already.
func (h *hub) unsubscribe(ch chan msg.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[ch]; ok {
		delete(h.subs, ch)
		close(ch)
	}
}

// subscribers returns the number of subscribers.
func (h *hub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// publish sends m to every subscriber, dropping those that are full, and
// remembers it for later subscribers.
func (h *hub) publish(m msg.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.publishLocked(m)
}

// progress makes m, a progress message, what later subscribers see
// first, and sends it to the current ones only when send is true: a run
// records every step's progress here, and sends one at most every
// ProgressEvery.
func (h *hub) progress(m msg.Message, send bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case send:
		h.publishLocked(m)
	case !h.closed:
		h.last = &m
	}
}

func (h *hub) publishLocked(m msg.Message) {
	if h.closed {
		return
	}
	switch m.Type {
	case msg.TypeState:
		h.state = m
	case msg.TypeProgress:
		h.last = &m
	case msg.TypeSnapshot:
		h.snap = &m
	}
	for ch := range h.subs {
		select {
		case ch <- m:
		default:
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// finish publishes the job's final state, then its reason (when reason is
// not empty: why it failed or was interrupted, how a done job ended), and
// closes every subscriber's channel. The reason comes after the state, as
// Runner.Subscribe gives a job that has ended: an error before it would
// read as the failure of a job still running. A subscriber gets both or
// neither: one without room for them is dropped first, to subscribe again
// and read them from the store, rather than have its stream end on the
// state without its reason.
func (h *hub) finish(state, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	final := 1
	if reason != "" {
		final = 2
	}
	for ch := range h.subs {
		// Its room only grows while h.mu is held: only publishLocked sends.
		if cap(ch)-len(ch) < final {
			delete(h.subs, ch)
			close(ch)
		}
	}
	h.publishLocked(stateMessage(h.id, state))
	if reason != "" {
		h.publishLocked(msg.Message{V: msg.SchemaVersion, Type: msg.TypeError, Trainer: h.id, Error: reason})
	}
	for ch := range h.subs {
		close(ch)
	}
	h.subs = nil
	h.closed = true
}

// stateMessage is the message of a job's state (see store's State*).
func stateMessage(id, state string) msg.Message {
	return msg.Message{V: msg.SchemaVersion, Type: msg.TypeState, Trainer: id, State: state}
}
