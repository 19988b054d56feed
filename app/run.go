package app

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"time"

	"metriclab/core/msg"
)

// States of a trainer as the page sees it: the trainer's own (msg.StateIdle,
// msg.StateLoading, …) and two of the page's: "starting" before there is a
// worker, and "crashed" when the worker died.
const (
	StateStarting = "starting"
	StateCrashed  = "crashed"
)

// maxCurvePoints bounds the points a curve keeps: past it every other
// point is dropped (the curve keeps its shape, the page its speed).
const maxCurvePoints = 512

// Point is one point of a curve: training step, value.
type Point struct{ X, Y float64 }

// EpochFigures are the verification figures of one epoch end, at its
// step.
type EpochFigures struct {
	Epoch, Step int
	msg.VerificationSummary
}

// Run is the state of one trainer as its panel shows it, changed only by
// the trainer's messages (Apply) and by what happens to its worker (Crash,
// Reset). Its zero value is a trainer that is loading.
type Run struct {
	Trainer string // the trainer's id in messages
	Loss    string // the loss it trains

	State    string
	Progress msg.Progress // the latest
	LossLine []Point      // training loss by step
	AccLine  []Point      // the head's accuracy on the snapshot's images by step (AccuracyTitle)
	Epochs   []EpochFigures

	// Of the latest snapshot: angle histograms over [0°, 180°] and the
	// verification threshold, when a verification has chosen one.
	Genuine, Impostor []int
	Threshold         Threshold
	HasSnapshot       bool

	Err string // why the trainer failed or crashed

	Workers int // the data-parallel Web Workers of the current run (0: not started)

	// Request is what the current run trains, as the page sent it; nil
	// before a run and after a reset.
	Request *msg.TrainRequest
}

// NewRun returns the run of trainer id training loss, starting.
func NewRun(id, loss string) Run { return Run{Trainer: id, Loss: loss, State: StateStarting} }

// Apply changes r by the message m from its trainer. Messages of another
// trainer are ignored; an unknown type or state is an error, one line for
// a note however long the name it quotes (msg.ErrorLine), and changes
// nothing. An error message is kept as Err and changes no state: a
// trainer whose run ends posts the state failed after it (wasm/trainer's
// fail, web/trainer.js), and Status then gives it, as it gives the note of
// a run that early stopping ended where it diverged (job.Job.Diverged),
// which comes before the state done; others (an export that
// failed, a command the worker could not take) leave the run as it was,
// for the page to show as it sees fit.
func (r *Run) Apply(m *PageMessage) error {
	if m.Trainer != "" && r.Trainer != "" && m.Trainer != r.Trainer {
		return nil
	}
	switch m.Type {
	case msg.TypeState:
		switch m.State {
		case msg.StateIdle, msg.StateLoading, msg.StateRunning, msg.StatePaused, msg.StateDone, msg.StateFailed:
		default:
			return errors.New(msg.ErrorLine(fmt.Sprintf("app: unknown trainer state %q", m.State)))
		}
		if m.State == msg.StateIdle && r.State != StateStarting && r.State != msg.StateIdle {
			r.Clear() // the trainer was reset
		}
		r.State = m.State
		if m.State != msg.StateFailed && m.State != msg.StateDone {
			r.Err = ""
		}
	case msg.TypeProgress:
		if m.Progress == nil {
			return errors.New("app: progress message without progress")
		}
		p := *m.Progress
		r.Progress = p
		if r.State == StateStarting || r.State == msg.StateIdle || r.State == msg.StateLoading {
			r.State = msg.StateRunning
		}
		x := float64(p.Step)
		if finite(p.Loss) {
			r.LossLine = appendPoint(r.LossLine, Point{x, p.Loss})
		}
		if finite(p.Accuracy) {
			r.AccLine = appendPoint(r.AccLine, Point{x, p.Accuracy})
		}
		if p.Verification != nil {
			f := EpochFigures{Epoch: p.Epoch, Step: p.Step, VerificationSummary: *p.Verification}
			if n := len(r.Epochs); n > 0 && r.Epochs[n-1].Epoch == p.Epoch {
				r.Epochs[n-1] = f
			} else {
				r.Epochs = append(r.Epochs, f)
			}
		}
	case msg.TypeSnapshot:
		if m.Snapshot == nil {
			return errors.New("app: snapshot message without a snapshot")
		}
		r.Genuine, r.Impostor = m.Snapshot.Genuine, m.Snapshot.Impostor
		r.Threshold = Threshold{Cos: m.Snapshot.Threshold, Set: m.Snapshot.HasThreshold}
		r.HasSnapshot = true
	case msg.TypeError:
		r.Err = cmp.Or(m.Error, "the trainer reported an error")
	case msg.TypeCommand, msg.TypeExport, msg.TypeEmbeddings:
		// Commands are the page's own; exports and embeddings are handled
		// by the page.
	default:
		return errors.New(msg.ErrorLine(fmt.Sprintf("app: unknown message type %q", m.Type)))
	}
	return nil
}

// AccuracyTitle is the title of the accuracy curve of a run of req
// (nil: none yet, the playground's MNIST), named by the images its points
// are measured on: those of the viewer's snapshots (job.Job.Embeddings),
// a fixed sample of up to 2,000 of the data's test images; for the
// webcam's enrolled faces, which have no test split, enrolled images (the
// held-out ones, or all of them when none could be held out); for a
// server's folder, its test images or its held-out ones as it has them,
// which the page does not know: the viewer's.
func AccuracyTitle(req *msg.TrainRequest) string {
	data := "mnist"
	if req != nil {
		data = req.Data
	}
	switch data {
	case "mnist":
		return "accuracy (test images)"
	case msg.DataEnrolled:
		return "accuracy (enrolled images)"
	}
	return "accuracy (viewer's images)"
}

// Crash marks the worker as dead, for reason, kept as one line as an
// error message's (msg.ErrorLine): the browser's words for a worker's
// death may run over several.
func (r *Run) Crash(reason string) {
	r.State = StateCrashed
	r.Err = msg.ErrorLine(reason)
}

// Reset returns r to a trainer that is starting, keeping its id and loss.
func (r *Run) Reset() { *r = NewRun(r.Trainer, r.Loss) }

// CutAfter drops the points of r's curves, its epoch ends and its
// latest progress, past step: a job resumed from its checkpoint at step
// trains those steps again. Until its next progress, Status says it is
// starting. A progress it keeps loses its rate and time left, which
// were the run's before the resume.
func (r *Run) CutAfter(step int) {
	r.LossLine, r.AccLine = pointsTo(r.LossLine, step), pointsTo(r.AccLine, step)
	if r.Progress.Step > step {
		r.Progress = msg.Progress{}
	}
	r.Progress.ImgPerS, r.Progress.ETA = 0, 0
	n := 0
	for n < len(r.Epochs) && r.Epochs[n].Step <= step {
		n++
	}
	r.Epochs = r.Epochs[:n:n]
}

// Can reports whether the command op makes sense in r's state: the page
// enables its buttons by it.
func (r *Run) Can(op string) bool {
	switch op {
	case msg.OpStart:
		return r.State == msg.StateIdle || r.State == msg.StateDone || r.State == msg.StateFailed
	case msg.OpPause:
		return r.State == msg.StateRunning
	case msg.OpResume, msg.OpStep:
		return r.State == msg.StatePaused
	case msg.OpReset:
		return r.State == msg.StateLoading || r.State == msg.StateRunning || r.State == msg.StatePaused || r.State == msg.StateDone || r.State == msg.StateFailed
	case msg.OpExport:
		return r.State == msg.StatePaused || r.State == msg.StateDone
	case "restart":
		return r.State == StateCrashed || r.State == msg.StateFailed
	}
	return false
}

// Status says r's state in words, for the element id="status": while
// training "running: epoch E, step N/M, loss X, …".
func (r *Run) Status() string {
	p := r.Progress
	steps := fmt.Sprintf("step %d", p.Step)
	if p.Steps > 0 {
		steps += fmt.Sprintf("/%d", p.Steps)
	}
	at := fmt.Sprintf("epoch %d, %s, loss %.4f", p.Epoch, steps, p.Loss)
	switch r.State {
	case StateStarting:
		return "starting the trainer…"
	case msg.StateLoading:
		return "loading the data…"
	case msg.StateIdle:
		return "idle: ready to train"
	case msg.StateRunning:
		if len(r.LossLine) == 0 || r.Progress.Step == 0 { // no progress yet, or none since CutAfter
			return "running: starting…"
		}
		s := "running: " + at
		if p.ImgPerS > 0 {
			s += fmt.Sprintf(", %.0f img/s", p.ImgPerS)
		}
		if p.ETA > 0 {
			s += ", " + Duration(p.ETA) + " left"
		}
		return s
	case msg.StatePaused:
		if len(r.LossLine) == 0 {
			return "paused"
		}
		return "paused: " + at
	case msg.StateDone:
		s := "done: " + at
		if n := len(r.Epochs); n > 0 {
			s += fmt.Sprintf(", verification accuracy %.1f%%", 100*r.Epochs[n-1].Accuracy)
		}
		if r.Err != "" { // a note on how the run ended (early stopping after it diverged)
			s += "; " + r.Err
		}
		return s
	case msg.StateFailed:
		return "failed: " + cmp.Or(r.Err, "the trainer gave no reason")
	case StateCrashed:
		return "crashed: " + r.Err
	}
	return r.State
}

// StateLine is Status for a screen reader (a live region, role=status):
// a running run is "running" alone. Status changes at each progress
// message, ten a second, and a live region of it would be read out at
// each; this changes with the state, and says where a run paused or how
// it ended.
func (r *Run) StateLine() string {
	if r.State == msg.StateRunning {
		return "running"
	}
	return r.Status()
}

// Clear forgets the progress of a run, as after a reset, and its
// workers, keeping its id, loss and state.
func (r *Run) Clear() {
	*r = Run{Trainer: r.Trainer, Loss: r.Loss, State: r.State}
}

// Duration writes seconds as "42s", "3m05s" or "1h02m"; from 100 hours
// on (and for NaN, as a rate of zero gives an ETA) "over 99h", below 0
// "0s". A message's ETA is any float64, and time.Duration of 1e300 wraps.
func Duration(seconds float64) string {
	switch {
	case !(seconds < maxDuration.Seconds()):
		return "over 99h"
	case seconds < 0:
		seconds = 0
	}
	d := time.Duration(math.Round(seconds)) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// maxDuration is the first time Duration does not write in hours and
// minutes.
const maxDuration = 100 * time.Hour

// appendPoint appends p to line, halving the line when it is full.
func appendPoint(line []Point, p Point) []Point {
	if len(line) >= maxCurvePoints {
		half := make([]Point, 0, maxCurvePoints/2+1) // a new array: copies of a Run share the old one
		for i := 0; i < len(line); i += 2 {
			half = append(half, line[i])
		}
		line = half
	}
	return append(line, p)
}

// pointsTo returns the points of line up to step, with no room past
// them: the next append copies, as copies of a Run share the array.
func pointsTo(line []Point, step int) []Point {
	n := 0
	for n < len(line) && line[n].X <= float64(step) {
		n++
	}
	return line[:n:n]
}

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
