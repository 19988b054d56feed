package view

import (
	"encoding/json"
	"errors"
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
	Clear  bool      // the trainer has no run (state idle): the last run's picture and progress go
	// Ended says that State, done, failed, or a server job's interrupted
	// or canceled, ends with how the run ended: the trainer's error just
	// before it (a failure's or an interruption's reason, the note of a
	// run that early stopping ended where training diverged, or of a
	// canceled job's data set's load), whose notice (ErrorNotice) the
	// state's line takes the place of.
	Ended bool
}

// ErrorNotice begins the notice of a trainer's error.
const ErrorNotice = "trainer error: "

// Offer queues b on raw without blocking (a JS callback must not). When
// raw is full, the oldest message waiting that the viewer can lose is
// dropped for it: a progress or a snapshot, of which newer ones follow;
// a trainer's state, an error and a ping are kept, so that the screen
// does not stay "paused" while the steps climb, nor "running" after the
// run ended. Only when every message waiting is one of those is the
// oldest dropped. It reports whether a message was dropped. Offer must be
// raw's only sender; on an unbuffered raw that no one reads, b is dropped.
func Offer(raw chan []byte, b []byte) (dropped bool) {
	select {
	case raw <- b:
		return false
	default:
	}
	var waiting [][]byte
drain:
	for len(waiting) < cap(raw) {
		select {
		case w := <-raw:
			waiting = append(waiting, w)
		default: // the decoder took the rest meanwhile
			break drain
		}
	}
	if len(waiting) > 0 && len(waiting) == cap(raw) { // still full: make room
		drop := 0
		for i, w := range waiting {
			if losable(w) {
				drop = i
				break
			}
		}
		waiting, dropped = append(waiting[:drop], waiting[drop+1:]...), true
	}
	for _, w := range append(waiting, b) {
		select {
		case raw <- w: // room: the decoder only takes, and Offer alone sends
		default:
			return true
		}
	}
	return dropped
}

// losable reports whether the raw message b is one a viewer behind can
// lose (Offer): a progress or a snapshot, which newer ones replace. What
// cannot be read is kept, for the decoder to say so.
func losable(b []byte) bool {
	var m struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	return m.Type == msg.TypeProgress || m.Type == msg.TypeSnapshot
}

// maxShown is the most bytes of a trainer's state or error that the
// caption shows: about the width of a viewer beside its trainer's panel
// in ebiten's debug font (6 pixels a character).
const maxShown = 120

// maxEnded is the most bytes of the error that a state done, failed,
// interrupted or canceled says it ended with (Event.Ended): a line the
// caption wraps, long enough for the note of a run that early stopping
// ended where training diverged (about 130 bytes).
const maxEnded = 2 * maxShown

// Pump decodes the raw messages from raw and sends what the game needs to
// out, until raw is closed; then it closes out. It answers pings through
// reply. When snapshots arrive faster than they can be placed, only the
// latest of those waiting is placed (PCA is the slow part). It is meant to
// run on its own goroutine, so that decoding and PCA stay out of Update;
// its Placer (and so the PCA basis) belongs to it. A trainer's state
// "idle" (it has no run) clears the picture. A state done, failed or
// interrupted, or canceled (a server's job) that comes just after an
// error (nothing between) says it: "done; NOTE", "failed: REASON",
// "interrupted: REASON", "canceled; NOTE" (Event.Ended).
func Pump(raw <-chan []byte, out chan<- Event, reply func([]byte)) {
	defer close(out)
	var pl Placer
	why := "" // the trainer's error just before a state: how a run that ends with it ended
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
			*latest, why = m.Snapshot, ""
		case m.Type == msg.TypeProgress && m.Progress != nil:
			why = ""
			out <- Event{Prog: m.Progress}
		case m.Type == msg.TypeState && m.State == msg.StateIdle:
			// Reset, or the page reset it for a new loss: of the run before,
			// a snapshot waiting and the PCA axes go too.
			*latest, pl, why = nil, Placer{}, ""
			out <- Event{State: m.State, Clear: true}
		case m.Type == msg.TypeState && m.Trainer != "viz": // not another viewer's hello
			e := Event{State: oneLine(m.State, maxShown)}
			switch {
			case why == "":
			case m.State == msg.StateDone, m.State == msg.JobCanceled: // a note, as the page's status has it
				e.State, e.Ended = e.State+"; "+why, true
			case m.State == msg.StateFailed, m.State == msg.JobInterrupted:
				e.State, e.Ended = e.State+": "+why, true
			}
			why = ""
			out <- e
		case m.Type == msg.TypeError:
			why = oneLine(m.Error, maxEnded)
			out <- Event{Notice: ErrorNotice + oneLine(m.Error, maxShown)}
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
