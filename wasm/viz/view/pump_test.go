package view

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func snapshotJSON(t *testing.T, s *Snapshot) []byte {
	t.Helper()
	b, err := json.Marshal(message{V: SchemaVersion, Type: "snapshot", Snapshot: s})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOffer: a message offered to a full queue takes the place of the
// oldest progress or snapshot waiting, so that the trainer's states reach
// a viewer whose decoder fell behind (a large snapshot's PCA): before,
// the newest was dropped, and a run that ended meanwhile could stay
// "running" on screen; dropping the oldest whatever it was would lose a
// "running" that came before the steps, leaving "paused" on screen.
func TestOffer(t *testing.T) {
	state := func(s string) string { return `{"v":1,"type":"state","trainer":"w1","state":"` + s + `"}` }
	progress := func(n int) string { return `{"v":1,"type":"progress","progress":{"step":` + strconv.Itoa(n) + `}}` }
	for _, tc := range []struct {
		name        string
		offered     []string
		want        []string
		wantDropped []bool
	}{
		{"the newest state after progress", []string{progress(1), progress(2), state("done")},
			[]string{progress(2), state("done")}, []bool{false, false, true}},
		{"a state before the steps", []string{state("running"), progress(1), progress(2)},
			[]string{state("running"), progress(2)}, []bool{false, false, true}},
		{"states only", []string{state("running"), state("paused"), state("running")},
			[]string{state("paused"), state("running")}, []bool{false, false, true}},
	} {
		raw := make(chan []byte, 2)
		var dropped []bool
		for _, m := range tc.offered {
			dropped = append(dropped, Offer(raw, []byte(m)))
		}
		close(raw)
		var got []string
		for b := range raw {
			got = append(got, string(b))
		}
		if !slices.Equal(got, tc.want) || !slices.Equal(dropped, tc.wantDropped) {
			t.Errorf("%s: queued %q, dropped %v; want %q, %v", tc.name, got, dropped, tc.want, tc.wantDropped)
		}
	}
}

// TestOfferUnbuffered: on a queue without room that no one reads, Offer
// drops the message and returns, as a JS callback must (before, it spun,
// then panicked on the empty queue it drained).
func TestOfferUnbuffered(t *testing.T) {
	if !Offer(make(chan []byte), []byte(`{"v":1,"type":"state","state":"done"}`)) {
		t.Error("Offer on an unbuffered queue: nothing dropped, want the message dropped")
	}
}

func TestPump(t *testing.T) {
	// Messages queued before the pump runs arrive in one burst: of the two
	// snapshots only the later is placed, and everything else comes through
	// in order.
	raw := make(chan []byte, 16)
	raw <- []byte(`{"v":1,"type":"ping"}`)
	raw <- snapshotJSON(t, DemoSnapshot(3, 50, 5, 1))
	raw <- []byte(`{"v":1,"type":"progress","progress":{"epoch":1,"step":40}}`)
	raw <- snapshotJSON(t, DemoSnapshot(2, 30, 4, 2))
	raw <- []byte(`{"v":2,"type":"progress","progress":{"step":41}}`)
	raw <- []byte(`{"v":1,"type":"state","trainer":"w1","state":"paused"}`)
	raw <- []byte(`{"v":1,"type":"state","trainer":"viz","state":"viz-ready"}`) // another viewer
	raw <- []byte(`{"v":1,"type":"error","error":"out of memory"}`)
	close(raw)

	out := make(chan Event, 16)
	var replies []string
	Pump(raw, out, func(b []byte) { replies = append(replies, string(b)) })

	var got []Event
	for e := range out {
		got = append(got, e)
	}
	if len(replies) != 1 || replies[0] != string(ReadyMessage()) {
		t.Errorf("replies %q, want one ready message", replies)
	}
	if len(got) != 5 {
		t.Fatalf("%d events, want 5: %+v", len(got), got)
	}
	if got[0].Prog == nil || got[0].Prog.Step != 40 {
		t.Errorf("event 0 = %+v, want progress step 40", got[0])
	}
	if !strings.Contains(got[1].Notice, "v2") {
		t.Errorf("event 1 = %+v, want a schema notice", got[1])
	}
	if got[2].State != "paused" {
		t.Errorf("event 2 = %+v, want state paused", got[2])
	}
	if !strings.Contains(got[3].Notice, "out of memory") {
		t.Errorf("event 3 = %+v, want the trainer's error", got[3])
	}
	if d := got[4].Data; d == nil || d.Dim != 2 || len(d.Points) != 30 {
		t.Errorf("event 4 = %+v, want the later snapshot (D=2, 30 points)", got[4])
	}
}

// TestPumpOneLine: a trainer's error or state that breaks the schema's one
// line (line breaks, a megabyte) is shown as one short line: before, each
// line break took a line of the caption and a long one ran off the screen.
func TestPumpOneLine(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	raw := make(chan []byte, 3)
	raw <- []byte(`{"v":1,"type":"error","error":"disk\nfull\r\n` + long + `"}`)
	raw <- []byte(`{"v":1,"type":"state","trainer":"w1","state":"paused\n` + long + `"}`)
	raw <- []byte(`{"v":1,"type":"error","error":"הדיסק מלא"}`) // shown as it is, Hebrew (ebiten's debug font made it "?")
	close(raw)
	out := make(chan Event, 3)
	Pump(raw, out, func([]byte) {})
	var shown []string
	for e := range out {
		shown = append(shown, e.Notice+e.State)
	}
	if len(shown) != 3 || !strings.HasPrefix(shown[0], "trainer error: disk full") || !strings.HasPrefix(shown[1], "paused x") || shown[2] != "trainer error: הדיסק מלא" {
		t.Fatalf("shown %.80q, want the errors and the state", shown)
	}
	for _, s := range shown {
		if strings.ContainsAny(s, "\r\n") || len(s) > 200 {
			t.Errorf("shown %.80q… (%d bytes), want one line of at most 200 bytes", s, len(s))
		}
	}
}

func TestPumpKeepsPCAAxes(t *testing.T) {
	// The same 8-D snapshot twice, one at a time: the second placement
	// starts from the first basis, so every point lands where it did, up to
	// the tolerance of subspace iteration (sin² of the angles < 1e-15, so
	// about 3e-8; 1e-6 is a thousandth of a pixel on a 1000-pixel sphere).
	s := DemoSnapshot(8, 200, 6, 3)
	raw := make(chan []byte)
	out := make(chan Event)
	go Pump(raw, out, func([]byte) {})
	raw <- snapshotJSON(t, s)
	first := <-out
	raw <- snapshotJSON(t, s)
	second := <-out
	close(raw)
	for i := range first.Data.Points {
		for k := range 3 {
			if d := first.Data.Points[i][k] - second.Data.Points[i][k]; d > 1e-6 || d < -1e-6 {
				t.Fatalf("point %d moved from %v to %v", i, first.Data.Points[i], second.Data.Points[i])
			}
		}
	}
	if _, ok := <-out; ok {
		t.Error("out not closed after raw")
	}
}

// TestPumpIdleClears: a trainer that goes idle (reset, or reset by the
// playground when its panel's loss changed) has no run to show: the pump
// says to clear the picture, and a snapshot of the run before that waits
// with the state is not placed after it. The viewer showed the previous
// run's sphere until the next run's first snapshot.
func TestPumpIdleClears(t *testing.T) {
	raw := make(chan []byte, 16)
	raw <- snapshotJSON(t, DemoSnapshot(3, 50, 5, 1))
	raw <- []byte(`{"v":1,"type":"state","trainer":"t0","state":"idle"}`)
	close(raw)
	out := make(chan Event, 16)
	Pump(raw, out, func([]byte) {})
	var got []Event
	for e := range out {
		got = append(got, e)
	}
	if len(got) != 1 || !got[0].Clear || got[0].State != "idle" {
		t.Errorf("a snapshot, then state idle: events %+v, want one that clears the picture (state idle)", got)
	}
}

// TestPumpEnded: the error just before a state done (the note of a run
// that early stopping ended where training diverged, which a viewer that
// loads late is also sent before the state) or failed (the reason) is how
// the run ended: the state's line says it, in place of the error's notice
// ("done; NOTE", "failed: REASON"), as of a server's job interrupted
// ("interrupted: REASON") or canceled ("canceled; NOTE", the images its
// data set's load skipped). Before, the caption said "trainer error:
// NOTE" for a few seconds, as of a failure, then "trainer: done" with no
// word of how (and "trainer: interrupted" for a job interrupted,
// "trainer: canceled" for one canceled). An error with progress after it
// is no such note.
func TestPumpEnded(t *testing.T) {
	const note = "training diverged (step 3: loss is NaN (lr too high?)): early stopping ended the run at step 2 with the model of the best epoch, 1"
	const skipped = "data set bars: 36 images, 1 skipped: 1 under 8 pixels a side"
	const stopped = skipped + "; the server stopped: resume the job to go on from its checkpoint at step 100"
	progress := `{"v":1,"type":"progress","progress":{"epoch":1,"step":2}}`
	snapshot := string(snapshotJSON(t, DemoSnapshot(3, 50, 5, 1)))
	errorOf := func(s string) string { return `{"v":1,"type":"error","trainer":"t1","error":"` + s + `"}` }
	state := func(s string) string { return `{"v":1,"type":"state","trainer":"t1","state":"` + s + `"}` }
	for _, c := range []struct {
		name  string
		msgs  []string
		state string // the last event's
		ended bool
	}{
		{"a run that diverged, and a viewer that loads after it", []string{progress, snapshot, errorOf(note), state("done")}, "done; " + note, true},
		{"an export refused, then Stop", []string{progress, errorOf("nothing to export"), snapshot, state("done")}, "done", false},
		{"a run that failed", []string{progress, errorOf("out of memory"), state("failed")}, "failed: out of memory", true},
		{"a job interrupted", []string{progress, errorOf(stopped), state("interrupted")}, "interrupted: " + stopped, true},
		{"a job canceled, its data's note before the state", []string{progress, errorOf(skipped), state("canceled")}, "canceled; " + skipped, true},
		{"a job canceled", []string{progress, state("canceled")}, "canceled", false},
		{"an error during the run", []string{errorOf("unknown command"), progress, state("done")}, "done", false},
		{"an error and a pause", []string{progress, errorOf("unknown command"), state("paused")}, "paused", false},
	} {
		raw := make(chan []byte, len(c.msgs))
		for _, m := range c.msgs {
			raw <- []byte(m)
		}
		close(raw)
		out := make(chan Event, 16)
		Pump(raw, out, func([]byte) {})
		var last Event
		for e := range out {
			if e.State != "" {
				last = e
			}
		}
		if last.State != c.state || last.Ended != c.ended {
			t.Errorf("%s: state %q (ended %v), want %q (%v)", c.name, last.State, last.Ended, c.state, c.ended)
		}
	}
}
