package view

import (
	"errors"
	"fmt"
	"strings"

	"metriclab/core/msg"
)

// Event is what the decoding goroutine hands to the game's Update; the
// fields that are set say what happened.
type Event struct {
	Data   *Placed   // a new snapshot, placed on the sphere
	Prog   *Progress // a progress report
	State  string    // a trainer's state
	Notice string    // something to show for a few seconds
}

// Offer queues b on raw without blocking (a JS callback must not):
// when raw is full, the oldest message waiting is dropped for it, so
// that what is shown is the newest (the trainer's last state and
// snapshot), not what was sent before the decoder fell behind. It
// reports whether a message was dropped. Only one goroutine may send on
// raw.
func Offer(raw chan []byte, b []byte) (dropped bool) {
	for {
		select {
		case raw <- b:
			return dropped
		default:
		}
		select {
		case <-raw:
			dropped = true
		default: // the decoder took one meanwhile
		}
	}
}

// Pump decodes the raw messages from raw and sends what the game needs to
// out, until raw is closed; then it closes out. It answers pings through
// reply. When snapshots arrive faster than they can be placed, only the
// latest of those waiting is placed (PCA is the slow part). It is meant to
// run on its own goroutine, so that decoding and PCA stay out of Update;
// its Placer (and so the PCA basis) belongs to it.
func Pump(raw <-chan []byte, out chan<- Event, reply func([]byte)) {
	defer close(out)
	var pl Placer
	handle := func(b []byte, latest **Snapshot) {
		m, err := decodeMessage(b)
		switch {
		case errors.Is(err, errSchema):
			out <- Event{Notice: "ignored: " + strings.TrimPrefix(err.Error(), "viz: ")}
			return
		case err != nil:
			out <- Event{Notice: err.Error()}
			return
		}
		switch {
		case isPing(m):
			reply(ReadyMessage())
		case m.Type == msg.TypeSnapshot:
			*latest = m.Snapshot
		case m.Type == msg.TypeProgress && m.Progress != nil:
			out <- Event{Prog: m.Progress}
		case m.Type == msg.TypeState && m.Trainer != "viz": // not another viewer's hello
			out <- Event{State: m.State}
		case m.Type == msg.TypeError:
			out <- Event{Notice: fmt.Sprintf("trainer error: %s", m.Error)}
		}
	}
	for b := range raw {
		var latest *Snapshot
		handle(b, &latest)
	drain:
		for {
			select {
			case b, ok := <-raw:
				if !ok {
					break drain
				}
				handle(b, &latest)
			default:
				break drain
			}
		}
		if latest != nil {
			out <- Event{Data: pl.Place(latest)}
		}
	}
}
