package app

import (
	"testing"

	"metriclab/core/msg"
)

// TestLeaveStops: what leaving a page stops (stopper), which the
// navigation's links and the window's beforeunload ask about. The
// playground names the trainers running or paused (a paused run is lost
// too); done, idle or loading their data, none is asked about. The Verify page names its encoder's
// training, and then the export that keeps the encoder trained in
// IndexedDB; a snapshot being recorded (Record held) is not asked about,
// nor the encoder once kept. The Models and Jobs pages stop nothing in
// the browser (a job runs on the server).
func TestLeaveStops(t *testing.T) {
	p := NewPlayground()
	p.settings.Compare = []string{"arcface", "cosface", "softmax"}
	p.resize()
	for _, c := range []struct {
		states []string
		want   string
	}{
		{[]string{msg.StateRunning, msg.StateRunning, msg.StateRunning}, "Training arcface, cosface, softmax"},
		{[]string{msg.StateDone, msg.StateRunning, msg.StatePaused}, "Training cosface, softmax (paused)"},
		{[]string{msg.StatePaused, msg.StatePaused, msg.StateDone}, "Training arcface (paused), cosface (paused)"},
		{[]string{msg.StateIdle, msg.StateLoading, StateStarting}, ""},
		{[]string{msg.StateFailed, StateCrashed, msg.StateDone}, ""},
	} {
		for i, s := range c.states {
			p.trainers[i].run.State = s
		}
		if got := p.Stops(); got != c.want {
			t.Errorf("the playground's trainers %v: Stops() = %q, want %q", c.states, got, c.want)
		}
	}

	s := enrolled()
	s.Record(true)
	if got := s.Stops(); got != "" {
		t.Errorf("Verify recording: Stops() = %q, want none", got)
	}
	s.Record(false)
	s.Train()
	if got := s.Stops(); got != "Training the encoder" {
		t.Errorf("Verify training: Stops() = %q, want Training the encoder", got)
	}
	s.Receive(stateMsg(msg.StateDone))
	if got := s.Stops(); got != "Saving the encoder just trained" {
		t.Errorf("Verify trained, its export asked for: Stops() = %q, want Saving the encoder just trained", got)
	}
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	s.Receive(exportMsg([]byte("model")))
	if got := s.Stops(); got != "" {
		t.Errorf("Verify's encoder trained and exported: Stops() = %q, want none", got)
	}

	for _, page := range []any{NewModels(), NewJobs()} {
		if _, ok := page.(stopper); ok {
			t.Errorf("%T says what leaving it stops: it trains nothing in the browser", page)
		}
	}
}
