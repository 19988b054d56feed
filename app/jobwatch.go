package app

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// JobWatch is a server job as the jobs page shows it while it watches the
// job's event stream: the job's own state (Job*), and a Run that draws its
// curves and histograms as the playground draws a browser trainer's.
type JobWatch struct {
	Job      msg.Job // as the job list gave it last
	State    string  // the job's state, from its events
	Run      Run
	Snapshot string // the latest snapshot message as received, for the viewer
	Progress string // the latest progress message as received, for a viewer that loads later
	// Gone says that the server no longer has the job: its event stream
	// was refused, and the job list does not hold it (Jobs.SetJobs).
	Gone bool
	// Unseen says that the job's event stream is down (the server
	// stopped, or cannot be reached, or the tab was in the background):
	// a running or queued job is shown as last seen, with no rate or
	// time left, which count down for a job the page cannot see, until
	// its next event (Receive), or in the list's state once the list has
	// it ended (Status).
	Unseen bool
	// Note is what the running job's data set's load skipped, from its
	// state running (the error it carries), for Status. Once the job has
	// ended, its error gives it first (then why it ended so).
	Note string
}

// NewJobWatch returns the watch of job j, before any event.
func NewJobWatch(j msg.Job) JobWatch {
	return JobWatch{Job: j, State: j.State, Run: NewRun(j.ID, j.Config.Loss)}
}

// Receive applies one event of the job's stream (the data of an SSE
// event, a msg.Message as JSON) and returns what the page posts for it on
// the viewer's channel, in order: the event as received, but for a
// progress report of the step drawn last (the stream repeats the last
// one when it is opened again), which changes nothing, and for what the
// viewer does not draw. The job's states go as they are, the Job* ones
// that are no trainer's too (the viewer shows any state but idle, which
// clears its picture and is no job's). An error that comes after the
// state done, failed, interrupted or canceled, as a job's does (core/msg),
// is followed by that state again: the viewer says how a run ended from
// the error just before its state ("failed: REASON", "done; NOTE",
// "interrupted: REASON", "canceled; NOTE"), as a trainer sends them. An
// unknown state is an error, one line however long the name it quotes
// (msg.ErrorLine).
func (w *JobWatch) Receive(data string) (post []string, err error) {
	m, err := DecodeMessage(data)
	if err != nil {
		return nil, err
	}
	if m.Trainer != "" && m.Trainer != w.Job.ID {
		return nil, nil
	}
	w.Unseen = false
	switch m.Type {
	case msg.TypeState:
		switch m.State {
		case msg.JobQueued, msg.JobCanceled, msg.JobInterrupted:
			// Not a trainer's state: the Run keeps its curves.
		case msg.JobRunning, msg.JobDone, msg.JobFailed:
			if err := w.Run.Apply(m); err != nil {
				return nil, err
			}
		default:
			return nil, errors.New(msg.ErrorLine(fmt.Sprintf("app: unknown job state %q", m.State)))
		}
		w.State = m.State
		if m.State == msg.JobRunning {
			w.Note = m.Error
		}
		return []string{data}, nil
	case msg.TypeProgress:
		if n := len(w.Run.LossLine); m.Progress != nil && n > 0 {
			switch step := float64(m.Progress.Step); {
			case step == w.Run.LossLine[n-1].X:
				return nil, nil
			case step < w.Run.LossLine[n-1].X:
				// A step before the last drawn: the job resumed from its
				// checkpoint while the stream was down (the page never
				// heard it interrupted: watchJob cuts the curves then),
				// drawn again from there.
				w.resumedFrom(m.Progress.Step - 1)
			}
		}
		if err := w.Run.Apply(m); err != nil {
			return nil, err
		}
		w.Progress = data
		return []string{data}, nil
	case msg.TypeSnapshot:
		// Kept and forwarded only once the Run took it: one without its
		// snapshot would stand in for the last good one.
		if err := w.Run.Apply(m); err != nil {
			return nil, err
		}
		w.Snapshot = data
		return []string{data}, nil
	case msg.TypeError:
		// The reason of the job's final state, which it follows (core/msg):
		// why it failed or was interrupted ("resume the job to save it"),
		// how a done job ended, a canceled one's note. It is no state of its own: taken for a
		// failure, one that came before its state showed a done job
		// failed, and for good when the stream dropped between the two.
		if err := w.Run.Apply(m); err != nil {
			return nil, err
		}
		if w.ended() {
			return []string{data, w.stateLine()}, nil
		}
		return []string{data}, nil
	}
	return nil, w.Run.Apply(m)
}

// resumedFrom cuts w at step, the checkpoint the job resumed from: its
// curves and epoch ends past it (Run.CutAfter), and the latest progress
// and snapshot kept for a viewer that loads later, of steps the job
// trains again. Such a viewer shows no picture until the job's next
// snapshot, as the server gives none of the resumed run before (its
// stream, opened, tells its last): one of the weights the resume threw
// away, captioned with a later step, would pass for the job's. A viewer
// already open keeps the picture it has, as the page its histograms.
func (w *JobWatch) resumedFrom(step int) {
	w.Run.CutAfter(step)
	w.Progress, w.Snapshot = "", ""
}

// CatchUp returns what the page posts to a viewer that loads while the
// job is watched (IsViewerReady), which missed what was posted before:
// the latest snapshot and progress, and the job's state, after the error
// that says how it ended when it is done, failed, interrupted or canceled
// (Receive), so that its picture and caption are the job's at once.
func (w *JobWatch) CatchUp() []string {
	var post []string
	for _, s := range []string{w.Snapshot, w.Progress} {
		if s != "" {
			post = append(post, s)
		}
	}
	if w.ended() && w.Run.Err != "" {
		post = append(post, viewerLine(w.Job.ID, msg.Message{Type: msg.TypeError, Error: w.Run.Err}))
	}
	if w.State != "" {
		post = append(post, w.stateLine())
	}
	return post
}

// ended reports whether the job is done, failed, interrupted or canceled:
// the states whose line on the viewer says how the run ended.
func (w *JobWatch) ended() bool {
	switch w.State {
	case msg.JobDone, msg.JobFailed, msg.JobInterrupted, msg.JobCanceled:
		return true
	}
	return false
}

// stateLine is the job's state as its stream says it to the viewer.
func (w *JobWatch) stateLine() string {
	return viewerLine(w.Job.ID, msg.Message{Type: msg.TypeState, State: w.State})
}

// Final reports whether the job will send nothing more: done, failed,
// canceled, interrupted (until it is resumed), or gone.
func (w *JobWatch) Final() bool {
	if w.Gone {
		return true
	}
	switch w.State {
	case msg.JobDone, msg.JobFailed, msg.JobCanceled, msg.JobInterrupted:
		return true
	}
	return false
}

// StateLine is Status for a screen reader (a live region, role=status),
// as Run.StateLine: a running job is "running" (and what its data set's
// load skipped), not its step, which changes at each progress event.
func (w *JobWatch) StateLine() string {
	if w.Gone || w.state() != msg.JobRunning || w.Unseen {
		return w.Status()
	}
	if w.Note != "" {
		return "running; " + w.Note
	}
	return "running"
}

// Status says the job's state in words, for the element id="job-status".
// Its step is the latest the page knows of, its stream's or the list's:
// a stream that dropped before the job's last steps (the server stopped)
// said step 2 of a job interrupted at 3, its checkpoint, which its row
// says (the server records a running job's step at each checkpoint, and
// its last progress on a cancel). A job whose stream is down (Unseen),
// running or queued as last seen, says so, without the rate and time
// left of a run it cannot see.
func (w *JobWatch) Status() string {
	step := max(w.Run.Progress.Step, w.Job.Step)
	if w.Gone {
		return "gone: the server no longer has this job"
	}
	state := w.state()
	switch {
	case w.Unseen && state == msg.JobQueued:
		return "last seen queued: waiting for the device"
	case w.Unseen && state == msg.JobRunning && w.Run.State == msg.StateRunning:
		r := w.Run
		r.Progress.ImgPerS, r.Progress.ETA = 0, 0
		return "last seen " + r.Status() // "last seen running: epoch 2, step 2/10, loss 0.7163"
	case w.Unseen && state == msg.JobRunning:
		return "last seen running"
	}
	switch state {
	case msg.JobQueued:
		return "queued: waiting for the device"
	case msg.JobRunning, msg.JobDone:
		if state == msg.JobRunning && w.Note != "" {
			return w.Run.Status() + "; " + w.Note
		}
		if len(w.Run.LossLine) > 0 && !w.endUnseen() || state == msg.JobRunning {
			return w.Run.Status()
		}
		s := fmt.Sprintf("done: step %d/%d, loss %.4f", w.Job.Step, w.Job.Steps, w.Job.Loss)
		if note := cmp.Or(w.Run.Err, w.listedError()); note != "" { // the images its data set's load skipped, how it ended (early stopping where training diverged)
			s += "; " + note
		}
		return s
	case msg.JobFailed:
		reason := cmp.Or(w.Run.Err, w.listedError())
		if reason == "" {
			reason = "the job failed"
		}
		return "failed: " + reason
	case msg.JobCanceled:
		s := fmt.Sprintf("canceled at step %d", step)
		if note := cmp.Or(w.Run.Err, w.listedError()); note != "" { // the images its data set's load skipped
			s += "; " + note
		}
		return s
	case msg.JobInterrupted:
		if reason := cmp.Or(w.Run.Err, w.listedError()); reason != "" {
			return fmt.Sprintf("interrupted at step %d: %s", step, reason)
		}
		if w.Job.CkptStep == 0 { // cut off before its first checkpoint
			return fmt.Sprintf("interrupted at step %d: it has no checkpoint, resume it to train again from the start", step)
		}
		return fmt.Sprintf("interrupted at step %d: resume it to go on from its checkpoint at step %d", step, w.Job.CkptStep)
	}
	return state
}

// state is the job's state to show: its stream's, or, while the stream
// is down (Unseen), the list's when the list has the job ended since (a
// server stopped, which interrupted it, and started again): the row
// says it, and the stream, opened again, will.
func (w *JobWatch) state() string {
	if w.Unseen && (w.State == msg.JobRunning || w.State == msg.JobQueued) {
		switch w.Job.State {
		case msg.JobDone, msg.JobFailed, msg.JobCanceled, msg.JobInterrupted:
			return w.Job.State
		}
	}
	return w.State
}

// listedError is the error the job list gave the job (Job.Error), but for
// a job it listed running: a running job's is its data's note (the
// images its data set's load skipped), not why the job the stream has
// since ended failed or was interrupted (a server stopped says no
// reason, and the list is read again only after).
func (w *JobWatch) listedError() string {
	if w.Job.State == msg.JobRunning {
		return ""
	}
	return w.Job.Error
}

// endUnseen reports whether the list has the job done past the last
// progress of its stream: it ended while the stream was down, and the
// stream, opened again, gives no progress of a job that ended. Its step,
// loss and figures are the list's.
func (w *JobWatch) endUnseen() bool {
	return w.Job.State == msg.JobDone && w.Run.Progress.Step < w.Job.Step
}

// Figures returns the verification figures to show: those of the latest
// epoch end seen on the stream, else (and of a job done unseen) the
// job's own, else nil.
func (w *JobWatch) Figures() *msg.VerificationSummary {
	if n := len(w.Run.Epochs); n > 0 && !w.endUnseen() {
		return &w.Run.Epochs[n-1].VerificationSummary
	}
	return w.Job.Metrics
}

// IsViewerReady reports whether data, a message on a viewer's
// BroadcastChannel, is the viewer saying it is ready (it has just loaded,
// and missed what was posted before).
func IsViewerReady(data string) bool {
	var m msg.Message
	return json.Unmarshal([]byte(data), &m) == nil && m.Type == msg.TypeState && m.Trainer == "viz" && m.State == "viz-ready"
}

// broadcast is the page's end of a viewer's BroadcastChannel. Its
// callback runs on the browser's event loop. Outside a browser every call
// is a no-op.
type broadcast struct {
	js        app.Value
	onMessage app.Func
	closed    bool
}

// openBroadcast opens the BroadcastChannel name; onMessage receives what
// others post on it, as a string. It returns nil when the browser has no
// BroadcastChannel.
func openBroadcast(name string, onMessage func(data string)) *broadcast {
	ctor := app.Window().Get("BroadcastChannel")
	if !ctor.Truthy() {
		return nil
	}
	b := &broadcast{js: ctor.New(name)}
	b.onMessage = app.FuncOf(func(this app.Value, args []app.Value) any {
		if data := args[0].Get("data"); data.Type() == app.TypeString {
			onMessage(data.String())
		}
		return nil
	})
	b.js.Set("onmessage", b.onMessage)
	return b
}

// tellViewerCrashed tells the viewer on channel, in the place of r's dead
// worker, what that worker would have said: r's error and the state
// failed (the trainer's states know no "crashed"). The viewer showed the
// run's last picture as if it ran on. It tells a viewer that loads later
// (its ready message: IsViewerReady) the same, which no worker answers
// now, until the channel it returns is closed (the trainer restarted).
// No channel (""): no viewer, nil.
func tellViewerCrashed(channel string, r Run) *broadcast {
	if channel == "" {
		return nil
	}
	said := []string{
		viewerLine(r.Trainer, msg.Message{Type: msg.TypeError, Error: r.Err}),
		viewerLine(r.Trainer, msg.Message{Type: msg.TypeState, State: msg.StateFailed}),
	}
	var bc *broadcast
	bc = openBroadcast(channel, func(data string) {
		if IsViewerReady(data) {
			for _, s := range said {
				bc.post(s)
			}
		}
	})
	for _, s := range said {
		bc.post(s)
	}
	return bc
}

// tellViewerIdle tells the viewer on channel that trainer has no run: the
// state idle, which clears its picture, as a reset does. A trainer's
// worker replaced (Restart, the Verify page's next worker after a crash)
// says nothing there until it starts a run, and the viewer went on
// showing the run before it, failed. No channel (""): no viewer.
func tellViewerIdle(channel, trainer string) {
	if channel == "" {
		return
	}
	bc := openBroadcast(channel, func(string) {})
	bc.post(viewerLine(trainer, msg.Message{Type: msg.TypeState, State: msg.StateIdle}))
	bc.close()
}

// viewerLine returns m as trainer posts it on its viewer's channel.
func viewerLine(trainer string, m msg.Message) string {
	m.V, m.Trainer = msg.SchemaVersion, trainer
	b, err := json.Marshal(m)
	if err != nil {
		panic("app: " + err.Error()) // strings always marshal
	}
	return string(b)
}

// post sends s to the viewer.
func (b *broadcast) post(s string) {
	if b == nil || b.closed {
		return
	}
	b.js.Call("postMessage", s)
}

// close closes the channel and frees its callback.
func (b *broadcast) close() {
	if b == nil || b.closed {
		return
	}
	b.closed = true
	b.js.Set("onmessage", nil)
	b.js.Call("close")
	b.onMessage.Release()
}
