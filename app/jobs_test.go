package app

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"metriclab/core/msg"
)

func TestJobWatchReceive(t *testing.T) {
	w := NewJobWatch(msg.Job{ID: "j1", State: msg.JobQueued, Step: 0, Steps: 40, Config: jobConfig()})
	if got := w.Status(); got != "queued: waiting for the device" {
		t.Errorf("queued status %q", got)
	}
	events := []string{
		`{"v":1,"type":"state","trainer":"j1","state":"queued"}`,
		`{"v":1,"type":"state","trainer":"j1","state":"running"}`,
		`{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":0,"step":10,"steps":40,"loss":2.5,"accuracy":0.25}}`,
		`{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":0,"step":20,"steps":40,"loss":1.5,"accuracy":0.5}}`,
		// A stream opened again repeats the last progress: not a new point.
		`{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":0,"step":20,"steps":40,"loss":1.5,"accuracy":0.5}}`,
		// Another job's message is not this one's.
		`{"v":1,"type":"progress","trainer":"j2","progress":{"epoch":0,"step":30,"steps":40,"loss":9}}`,
	}
	for _, e := range events {
		if _, err := w.Receive(e); err != nil {
			t.Fatalf("Receive(%s): %v", e, err)
		}
	}
	if len(w.Run.LossLine) != 2 || w.Run.LossLine[1] != (Point{20, 1.5}) {
		t.Errorf("loss line %v, want 2 points ending at (20, 1.5)", w.Run.LossLine)
	}
	if w.State != msg.JobRunning || w.Final() || !strings.HasPrefix(w.Status(), "running: epoch 0, step 20/40, loss 1.5000") {
		t.Errorf("state %q final %v status %q", w.State, w.Final(), w.Status())
	}
	snap := `{"v":1,"type":"snapshot","trainer":"j1","snapshot":{"dim":3,"threshold":0.5,"has_threshold":true,"genuine":[3,1],"impostor":[0,4],"points":[1,0,0],"labels":[0]}}`
	if post, err := w.Receive(snap); err != nil || !slices.Equal(post, []string{snap}) {
		t.Fatalf("snapshot: %q, %v, want the snapshot to forward", post, err)
	}
	if w.Snapshot != snap || !w.Run.HasSnapshot || w.Run.Threshold != (Threshold{0.5, true}) || !slices.Equal(w.Run.Impostor, []int{0, 4}) {
		t.Errorf("after the snapshot: %+v", w.Run)
	}
	if _, err := w.Receive(`{"v":1,"type":"state","trainer":"j1","state":"canceled"}`); err != nil {
		t.Fatal(err)
	}
	if !w.Final() || w.Status() != "canceled at step 20" || len(w.Run.LossLine) != 2 {
		t.Errorf("canceled: final %v status %q, curve %d points", w.Final(), w.Status(), len(w.Run.LossLine))
	}
	if _, err := w.Receive(`{"v":1,"type":"state","trainer":"j1","state":"exploded"}`); err == nil {
		t.Error("an unknown job state was taken")
	}
	if _, err := w.Receive(`{"v":2,"type":"state","trainer":"j1","state":"done"}`); err == nil {
		t.Error("a message of another schema was taken")
	}
}

func TestJobWatchEnds(t *testing.T) {
	// A job that ended before this server started: only its state and error
	// come on the stream; the figures are the job's own.
	job := msg.Job{ID: "j3", State: msg.JobDone, Step: 40, Steps: 40, Loss: 0.25, Config: jobConfig()}
	w := NewJobWatch(job)
	if _, err := w.Receive(`{"v":1,"type":"state","trainer":"j3","state":"done"}`); err != nil {
		t.Fatal(err)
	}
	if got := w.Status(); got != "done: step 40/40, loss 0.2500" || !w.Final() {
		t.Errorf("status %q, final %v", got, w.Final())
	}
	if w.Figures() != nil {
		t.Error("figures without any")
	}
	// The reason after the state, as the server sends it; before it, as
	// an older server did.
	failed := `{"v":1,"type":"state","trainer":"j4","state":"failed"}`
	why := `{"v":1,"type":"error","trainer":"j4","error":"out of memory"}`
	for _, events := range [][]string{{failed, why}, {why, failed}} {
		f := NewJobWatch(msg.Job{ID: "j4", State: msg.JobRunning, Config: jobConfig()})
		for _, e := range events {
			if _, err := f.Receive(e); err != nil {
				t.Fatal(err)
			}
		}
		if f.Status() != "failed: out of memory" || !f.Final() {
			t.Errorf("failed, %s first: status %q", events[0], f.Status())
		}
	}
	i := NewJobWatch(msg.Job{ID: "j5", State: msg.JobInterrupted, Step: 130, CkptStep: 100, Config: jobConfig()})
	if want := "interrupted at step 130: resume it to go on from its checkpoint at step 100"; i.Status() != want {
		t.Errorf("interrupted: %q, want %q", i.Status(), want)
	}
	// Cut off before its first checkpoint (every 100 steps): no
	// checkpoint "at step 0" to go on from (before, it said there was).
	i = NewJobWatch(msg.Job{ID: "j5", State: msg.JobInterrupted, Step: 60, Config: jobConfig()})
	if want := "interrupted at step 60: it has no checkpoint, resume it to train again from the start"; i.Status() != want {
		t.Errorf("interrupted without a checkpoint: %q, want %q", i.Status(), want)
	}
}

// TestJobWatchForwards: what the Jobs page posts to the watched job's
// viewer for each event of its stream, and to a viewer that loads after
// them (CatchUp): its progress (not one repeated), states and errors as
// well as its snapshots, in the stream's order, so that the viewer's
// caption says the step and epoch ("step 1095 (epoch 2)") and the job's
// state; the state done, failed, interrupted or canceled again after the
// error that follows it, for the viewer's "failed: REASON", "done; NOTE",
// "interrupted: REASON" and "canceled; NOTE" (view.Pump reads the reason
// from the error just before the state); the states no trainer has as
// they are, and never idle, which clears the viewer's picture. Before,
// the viewer got the snapshots alone: "D=3, 2000 points, step -" at step
// 1095, with no state, and a viewer that loaded late the latest snapshot
// alone; then an interrupted job's reason, and a canceled job's note,
// came after its state, which the viewer showed as a passing notice
// only.
func TestJobWatchForwards(t *testing.T) {
	const (
		snap = `{"v":1,"type":"snapshot","trainer":"j1","snapshot":{"dim":3,"threshold":0.5,"genuine":[3,1],"impostor":[0,4],"points":[1,0,0],"labels":[0]}}`
		note = "early stopping: training diverged at epoch 3"
	)
	progress := func(epoch, step int) string {
		return fmt.Sprintf(`{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":%d,"step":%d,"steps":2000,"loss":1.5,"accuracy":0.5}}`, epoch, step)
	}
	state := func(s string) string { return `{"v":1,"type":"state","trainer":"j1","state":"` + s + `"}` }
	failure := func(e string) string { return `{"v":1,"type":"error","trainer":"j1","error":"` + e + `"}` }
	live := []string{
		state(msg.JobQueued), `{"v":1,"type":"state","trainer":"j1","state":"running","error":"skipped 3 images"}`,
		progress(0, 10), snap, progress(2, 1095),
		progress(2, 1095), // the stream opened again repeats it
		`{"v":1,"type":"progress","trainer":"j2","progress":{"epoch":0,"step":30,"steps":40,"loss":9}}`, // another job's
	}
	livePosts := []string{"state queued", "state running", "progress 10:0", "snapshot", "progress 1095:2"}
	for _, c := range []struct {
		name        string
		end         []string // after live
		posts       []string // after livePosts
		caughtUp    []string // after the snapshot and progress 1095:2
		final, done bool
	}{
		{"running", nil, nil, []string{"state running"}, false, false},
		{"failed", []string{state(msg.JobFailed), failure("out of memory")},
			[]string{"state failed", "error out of memory", "state failed"}, []string{"error out of memory", "state failed"}, true, true},
		{"failed, its reason first (an older server)", []string{failure("out of memory"), state(msg.JobFailed)},
			[]string{"error out of memory", "state failed"}, []string{"error out of memory", "state failed"}, true, true},
		{"done with a note", []string{state(msg.JobDone), failure(note)},
			[]string{"state done", "error " + note, "state done"}, []string{"error " + note, "state done"}, true, true},
		{"done", []string{state(msg.JobDone)}, []string{"state done"}, []string{"state done"}, true, true},
		{"interrupted", []string{state(msg.JobInterrupted), failure("the server stopped: resume the job to save it")},
			[]string{"state interrupted", "error the server stopped: resume the job to save it", "state interrupted"},
			[]string{"error the server stopped: resume the job to save it", "state interrupted"}, true, false},
		{"interrupted without a reason", []string{state(msg.JobInterrupted)}, []string{"state interrupted"}, []string{"state interrupted"}, true, false},
		{"canceled", []string{state(msg.JobCanceled)}, []string{"state canceled"}, []string{"state canceled"}, true, false},
		{"canceled with its data's note", []string{state(msg.JobCanceled), failure("skipped 3 images")},
			[]string{"state canceled", "error skipped 3 images", "state canceled"}, []string{"error skipped 3 images", "state canceled"}, true, false},
	} {
		w := NewJobWatch(msg.Job{ID: "j1", State: msg.JobQueued, Steps: 2000, Config: jobConfig()})
		if got := said(t, w.CatchUp()); !slices.Equal(got, []string{"state queued"}) {
			t.Errorf("%s: a viewer that loads before any event is told %q, want the job's state, queued", c.name, got)
		}
		var posts []string
		for _, e := range append(slices.Clip(live), c.end...) {
			post, err := w.Receive(e)
			if err != nil {
				t.Fatalf("%s: Receive(%s): %v", c.name, e, err)
			}
			posts = append(posts, post...)
		}
		if got, want := said(t, posts), append(slices.Clip(livePosts), c.posts...); !slices.Equal(got, want) {
			t.Errorf("%s: the viewer was posted\n%q, want\n%q", c.name, got, want)
		}
		if got, want := said(t, w.CatchUp()), append([]string{"snapshot", "progress 1095:2"}, c.caughtUp...); !slices.Equal(got, want) {
			t.Errorf("%s: a viewer that loads after them is told\n%q, want\n%q", c.name, got, want)
		}
		if w.Final() != c.final {
			t.Errorf("%s: final %v, want %v", c.name, w.Final(), c.final)
		}
	}
}

// said returns the messages posted to a viewer as "state STATE", "error
// ERROR", "progress STEP:EPOCH" or their type ("snapshot"), each checked
// to be of the schema and of job j1.
func said(t *testing.T, posts []string) []string {
	t.Helper()
	var out []string
	for _, p := range posts {
		m, err := DecodeMessage(p)
		if err != nil || m.Trainer != "j1" {
			t.Fatalf("posted %s: %v, trainer %q; want a message of job j1", p, err, m.Trainer)
		}
		switch {
		case m.Type == msg.TypeState:
			out = append(out, "state "+m.State)
		case m.Type == msg.TypeError:
			out = append(out, "error "+m.Error)
		case m.Progress != nil:
			out = append(out, fmt.Sprintf("progress %d:%d", m.Progress.Step, m.Progress.Epoch))
		default:
			out = append(out, m.Type)
		}
	}
	return out
}

func TestIsViewerReady(t *testing.T) {
	// The message of wasm/viz/view.ReadyMessage.
	if !IsViewerReady(`{"v":1,"type":"state","trainer":"viz","state":"viz-ready"}`) {
		t.Error("the viewer's ready message not recognised")
	}
	for _, s := range []string{`{"v":1,"type":"state","trainer":"j1","state":"running"}`, `not json`, `{"v":1,"type":"snapshot","trainer":"viz"}`} {
		if IsViewerReady(s) {
			t.Errorf("%s taken for the viewer's ready message", s)
		}
	}
}

func TestEditSettings(t *testing.T) {
	s := jobSettings(DefaultSettings())
	s.Params = map[string]float64{"m": 0.3}
	tests := []struct {
		key, value string
		ok         bool
		check      func(Settings) bool
	}{
		{"batch", "128", true, func(s Settings) bool { return s.Batch == 128 && s.Params["m"] == 0.3 }},
		{"batch", "4", false, nil}, // below minBatch
		{"lr", "abc", false, nil},
		{"classes", "0-1", true, func(s Settings) bool { return s.Classes == "0-1" }},
		{"classes", "7", false, nil}, // one class
		{"classes", "0 - 4", true, func(s Settings) bool { return s.Classes == "0 - 4" }}, // as the server takes it
		{"classes", "", true, func(s Settings) bool { return s.Classes == "" }},
		{"classes", "all", true, func(s Settings) bool { return s.Classes == "" }}, // the field's placeholder
		{"loss", "cosface", true, func(s Settings) bool { return s.Loss == "cosface" && s.Params == nil }},
		{"dim", "5", false, nil},
		{"dim", "2", true, func(s Settings) bool { return s.Dim == 2 && s.Params["m"] == 0.3 }},
		{"loss", "magic", false, nil},
		{"arch", "mlp", true, func(s Settings) bool { return s.Arch == "mlp" }},
		{"schedule", "step", true, func(s Settings) bool { return s.Schedule == "step" }},
		{"schedule", "linear", false, nil},
		{"embed-bn", "yes", true, func(s Settings) bool { return s.EmbedBN }},
		{"embed-bn", "maybe", false, nil},
		{"flip-test", "yes", true, func(s Settings) bool { return s.FlipTest }},
		{"flip-test", "no", true, func(s Settings) bool { return !s.FlipTest }},
		{"flip-test", "maybe", false, nil},
		{"compose", "2x1", true, func(s Settings) bool { return s.Compose == "2x1" }},
		{"compose", "halves", false, nil},
		{"views", "whole,upper,lower", true, func(s Settings) bool {
			r := s.Request(s.Loss)
			return s.Views == "whole,upper,lower" && len(r.Views) == 3 && r.Views[1] == msg.Crops["upper"]
		}},
		{"views", "whole", true, func(s Settings) bool { return s.Views == "" && s.Request(s.Loss).Views == nil }},
		{"views", "upper", false, nil},
		{"views", "whole,middle", false, nil},
		{"turns", "4", true, func(s Settings) bool { return s.Turns == 4 }},
		{"turns", "3", false, nil},
		{"glyphs", "300", true, func(s Settings) bool { return s.Glyphs == 300 }},
		{"glyphs", "0", true, func(s Settings) bool { return s.Glyphs == 0 }},
		{"glyphs", "1001", false, nil},
		{"glyphs", "-1", false, nil},
		{"wd", "0.001", true, func(s Settings) bool { return s.WeightDecay != nil && *s.WeightDecay == 0.001 }},
		{"wd", "", true, func(s Settings) bool { return s.WeightDecay == nil }},
		{"wd", "-1", false, nil},
		{"early-stop", "3", true, func(s Settings) bool { return s.EarlyStop == 3 }},
		{"early-stop", "x", false, nil},
	}
	for _, tt := range tests {
		got, err := EditSettings(s, tt.key, tt.value, nil)
		if (err == nil) != tt.ok {
			t.Errorf("%s=%s: error %v, want ok %v", tt.key, tt.value, err, tt.ok)
			continue
		}
		if !tt.ok {
			if got.Batch != s.Batch || got.LR != s.LR || got.Dim != s.Dim || got.Classes != s.Classes || got.Loss != s.Loss || got.Params["m"] != 0.3 {
				t.Errorf("%s=%s: refused, but the settings changed: %+v", tt.key, tt.value, got)
			}
			continue
		}
		if !tt.check(got) {
			t.Errorf("%s=%s: got %+v", tt.key, tt.value, got)
		}
	}
}

// TestEditSettingsKeepsClearedWeightDecay: with a preset that sets a
// weight decay, the form's field emptied (the optimiser's default) stays
// empty through the next edit; the next edit brought the preset's back
// (the form's link left wd out, so the preset's stood in).
func TestEditSettingsKeepsClearedWeightDecay(t *testing.T) {
	s, err := EditSettings(jobSettings(DefaultSettings()), "preset", "digits", nil)
	if err != nil || s.WeightDecay == nil {
		t.Fatalf("preset digits: %+v, %v; want its weight decay", s, err)
	}
	if s, err = EditSettings(s, "wd", "", nil); err != nil || s.WeightDecay != nil {
		t.Fatalf("wd emptied: %v, %v; want the optimiser's default (nil)", s.WeightDecay, err)
	}
	if s, err = EditSettings(s, "batch", "64", nil); err != nil || s.Batch != 64 || s.WeightDecay != nil {
		t.Errorf("batch 64 after wd emptied: batch %d, weight decay %q, %v; want 64 and the optimiser's default (\"\")", s.Batch, wdText(s.WeightDecay), err)
	}
}

// TestJobExperimentPreset: a job's row (and its watch's heading) names
// the preset of its record with the fields its record lists as changed
// from the preset's recipe (preset_changes, as the server worked them
// out); a job of no preset names none. Before, the preset was not shown.
func TestJobExperimentPreset(t *testing.T) {
	job := msg.Job{ID: "j1", Config: jobConfig()}
	if got, want := jobExperiment(job), JobSummary(jobConfig()); got != want {
		t.Errorf("a job of no preset: %q, want %q", got, want)
	}
	job.Config.Preset = "digits"
	if got, want := jobExperiment(job), JobSummary(jobConfig())+" · preset digits"; got != want {
		t.Errorf("a job of the digits recipe: %q, want %q", got, want)
	}
	job.PresetChanges = []string{"arch", "dim"}
	if got, want := jobExperiment(job), JobSummary(jobConfig())+" · preset digits, changed: arch, dim"; got != want {
		t.Errorf("digits with its arch and dim changed: %q, want %q", got, want)
	}
}

func TestJobSummaryAndOrder(t *testing.T) {
	if got, want := JobSummary(jobConfig()), "mlp · arcface · D = 3 · mnist 0-1 · 1 epoch"; got != want {
		t.Errorf("JobSummary = %q, want %q", got, want)
	}
	faces := msg.TrainRequest{Data: "webcam", Arch: "lenet-m", Loss: "cosface", Dim: 128, Epochs: 200, Input: "1x48x48"}
	if got, want := JobSummary(faces), "lenet-m · cosface · D = 128 · webcam 1x48x48 · 200 epochs"; got != want {
		t.Errorf("JobSummary = %q, want %q", got, want)
	}
	faces.Crop = msg.Crops["lower"]
	if got, want := JobSummary(faces), "lenet-m · cosface · D = 128 (crop lower) · webcam 1x48x48 · 200 epochs"; got != want {
		t.Errorf("JobSummary = %q, want %q", got, want)
	}
	faces.Crop, faces.Views = msg.Crop{}, []msg.Crop{{}, msg.Crops["upper"], msg.Crops["lower"]}
	if got, want := JobSummary(faces), "lenet-m · cosface · D = 3 × 128 (whole, upper, lower) · webcam 1x48x48 · 200 epochs"; got != want {
		t.Errorf("JobSummary = %q, want %q", got, want)
	}
	jobs := []msg.Job{
		{ID: "a", State: msg.JobDone, Created: "2025-01-01T10:00:00Z"},
		{ID: "b", State: msg.JobQueued, Created: "2025-01-01T11:00:00Z"},
		{ID: "c", State: msg.JobRunning, Created: "2025-01-01T09:00:00Z"},
		{ID: "d", State: msg.JobQueued, Created: "2025-01-01T12:00:00Z"},
	}
	sorted := NewestFirst(jobs)
	var ids []string
	for _, j := range sorted {
		ids = append(ids, j.ID)
	}
	if !slices.Equal(ids, []string{"d", "b", "a", "c"}) || jobs[0].ID != "a" {
		t.Errorf("NewestFirst order %v (input changed: %v)", ids, jobs[0].ID != "a")
	}
	// The running job comes before the newer queued ones.
	if j, ok := ActiveJob(sorted); !ok || j.ID != "c" {
		t.Errorf("ActiveJob = %v %v, want c", j.ID, ok)
	}
	if _, ok := ActiveJob(jobs[:1]); ok {
		t.Error("ActiveJob found a job among done ones")
	}
	// Three jobs queued within one second, as the server lists them
	// (oldest first) and writes their times (RFC 3339, the fraction's
	// trailing zeros dropped): as text, "…:00Z" came first and "…:00.1Z"
	// before "…:00.12Z".
	jobs = []msg.Job{
		{ID: "e", State: msg.JobQueued, Created: "2025-01-01T12:00:00Z"},
		{ID: "f", State: msg.JobQueued, Created: "2025-01-01T12:00:00.1Z"},
		{ID: "g", State: msg.JobQueued, Created: "2025-01-01T12:00:00.12Z"},
	}
	sorted, ids = NewestFirst(jobs), nil
	for _, j := range sorted {
		ids = append(ids, j.ID)
	}
	if !slices.Equal(ids, []string{"g", "f", "e"}) {
		t.Errorf("NewestFirst order %v of jobs queued within a second, want [g f e]", ids)
	}
	if j, ok := ActiveJob(sorted); !ok || j.ID != "g" {
		t.Errorf("ActiveJob = %v %v, want g, the newest queued", j.ID, ok)
	}
}

// jobConfig is a tiny job's configuration.
func jobConfig() msg.TrainRequest {
	return msg.TrainRequest{Data: "mnist", Arch: "mlp", Loss: "arcface", Dim: 3, Epochs: 1, Batch: 64, LR: 0.001, Opt: "adam", Classes: "0-1", Seed: 1}
}

// TestEditSettingsLossWithPreset: with the digits preset chosen, any loss
// can be chosen, and its parameters are the preset's for the preset's
// loss and the defaults for the others (before, triplet, softmax and
// contrastive were refused: `unknown setting "s" ignored`, the preset's
// s = 16 carried over; and a new D dropped the preset's s).
func TestEditSettingsLossWithPreset(t *testing.T) {
	s, err := NewJobs().form.WithPreset("digits")
	if err != nil {
		t.Fatal(err)
	}
	for _, loss := range []string{"triplet", "softmax", "contrastive", "arcface", "normsoftmax"} {
		got, err := EditSettings(s, "loss", loss, nil)
		if err != nil {
			t.Errorf("loss %s: %v", loss, err)
			continue
		}
		want := map[string]float64(nil)
		if loss == "normsoftmax" {
			want = map[string]float64{"s": 16}
		}
		if got.Loss != loss || !maps.Equal(got.Params, want) || got.Preset != "digits" {
			t.Errorf("loss %s: loss %s, params %v, preset %q; want params %v", loss, got.Loss, got.Params, got.Preset, want)
		}
		// And back to the preset's loss.
		if back, err := EditSettings(got, "loss", "normsoftmax", nil); err != nil || back.Params["s"] != 16 {
			t.Errorf("%s, then normsoftmax: params %v (%v), want s = 16", loss, back.Params, err)
		}
	}
	if got, err := EditSettings(s, "dim", "64", nil); err != nil || got.Dim != 64 || got.Params["s"] != 16 {
		t.Errorf("dim 64: D %d, params %v (%v), want the preset's s = 16", got.Dim, got.Params, err)
	}
}

// TestJobWatchInterruptedWithReason: a job interrupted with a reason (its
// model could not be saved) stays interrupted, and says why, whichever
// order its stream gives the state and the reason (the server sends the
// reason after the state, live or once the job has ended; an older
// server sent it first, live), and is never shown failed on the way:
// each message's status is checked, as a stream that drops after it
// leaves it. Before, the watch took the job for failed
// ("failed: the model could not be saved …") from the reason until the
// state came, and for good when the stream dropped between them.
func TestJobWatchInterruptedWithReason(t *testing.T) {
	const reason = "the model could not be saved (the server's log says why); the run is kept: resume the job to save it"
	job := msg.Job{ID: "j6", State: msg.JobRunning, Step: 40, Steps: 40, Config: jobConfig()}
	running := `{"v":1,"type":"state","trainer":"j6","state":"running"}`
	state := `{"v":1,"type":"state","trainer":"j6","state":"interrupted"}`
	why := `{"v":1,"type":"error","trainer":"j6","error":"` + reason + `"}`
	for name, events := range map[string][]string{
		"live":         {running, state, why},
		"reason first": {running, why, state},
		"ended":        {state, why}, // runner.Subscribe of a job that has ended
	} {
		w := NewJobWatch(job)
		if name == "ended" {
			w = NewJobWatch(msg.Job{ID: "j6", State: msg.JobInterrupted, Step: 40, Steps: 40, CkptStep: 40, Error: reason, Config: jobConfig()})
		}
		receiveNeverFailed(t, name, &w, events)
		if want := "interrupted at step 40: " + reason; w.State != msg.JobInterrupted || !w.Final() || w.Status() != want {
			t.Errorf("%s: state %q, final %v, status %q; want interrupted, final, %q", name, w.State, w.Final(), w.Status(), want)
		}
	}
}

// receiveNeverFailed has w receive events, of a job that does not fail,
// and fails t when a status on the way says failed, or the watch is final
// before the job's final state came (a stream that drops then is opened
// again, to get it).
func receiveNeverFailed(t *testing.T, name string, w *JobWatch, events []string) {
	t.Helper()
	final := w.Final()
	for _, e := range events {
		if _, err := w.Receive(e); err != nil {
			t.Fatal(err)
		}
		if m, _ := DecodeMessage(e); m.Type == msg.TypeState && m.State != msg.JobQueued && m.State != msg.JobRunning {
			final = true
		}
		if w.State == msg.JobFailed || strings.HasPrefix(w.Status(), "failed") || w.Final() != final {
			t.Errorf("%s: after %s: state %q, final %v, status %q; want it never failed, final %v", name, e, w.State, w.Final(), w.Status(), final)
		}
	}
}

// TestJobWatchBadSnapshot: a snapshot event without its snapshot is an
// error and changes nothing: the viewer is not sent it, and the snapshot
// kept for a viewer that loads later is still the last good one (it took
// the bad one's place, and a reloaded viewer got nothing to draw).
func TestJobWatchBadSnapshot(t *testing.T) {
	w := NewJobWatch(msg.Job{ID: "j1", State: msg.JobRunning, Steps: 40, Config: jobConfig()})
	good := `{"v":1,"type":"snapshot","trainer":"j1","snapshot":{"dim":3,"threshold":0.5,"has_threshold":true,"genuine":[3,1],"impostor":[0,4],"points":[1,0,0],"labels":[0]}}`
	if post, err := w.Receive(good); err != nil || !slices.Equal(post, []string{good}) {
		t.Fatalf("snapshot: %q, %v", post, err)
	}
	for _, bad := range []string{
		`{"v":1,"type":"snapshot","trainer":"j1"}`,
		`{"v":1,"type":"snapshot","trainer":"j1","snapshot":null}`,
	} {
		post, err := w.Receive(bad)
		if err == nil || len(post) > 0 {
			t.Errorf("Receive(%s) = %q, %v; want an error and nothing to forward", bad, post, err)
		}
		if w.Snapshot != good || w.Run.Threshold != (Threshold{0.5, true}) {
			t.Errorf("after %s: the snapshot kept is %s (threshold %v), want the last good one", bad, w.Snapshot, w.Run.Threshold)
		}
	}
}

// TestJobWatchDivergedNote: a job that early stopping ended where training
// diverged is done, and its note (the error the server sends after the
// state done, live or once the job has ended, and keeps in the job's row;
// an older server sent it first, live) ends its status, and it is never
// shown failed on the way. Before, a watch of the ended job said
// "done: step 5/12, loss 0.4000", the note dropped, and a live one
// "failed: training diverged …" from the note until the state came.
func TestJobWatchDivergedNote(t *testing.T) {
	const note = "training diverged (step 6: loss is NaN (lr too high?)): early stopping ended the run at step 5 with the model of the best epoch, 1"
	job := msg.Job{ID: "j7", State: msg.JobRunning, Steps: 12, Config: jobConfig()}
	running := `{"v":1,"type":"state","trainer":"j7","state":"running"}`
	progress := `{"v":1,"type":"progress","trainer":"j7","progress":{"epoch":2,"step":5,"steps":12,"loss":0.4}}`
	done := `{"v":1,"type":"state","trainer":"j7","state":"done"}`
	why := `{"v":1,"type":"error","trainer":"j7","error":"` + note + `"}`
	for name, events := range map[string][]string{
		"live":       {running, progress, done, why},
		"note first": {running, progress, why, done},
		"ended":      {done, why}, // runner.Subscribe of a job that has ended
	} {
		w := NewJobWatch(job)
		if name == "ended" {
			w = NewJobWatch(msg.Job{ID: "j7", State: msg.JobDone, Step: 5, Steps: 12, Loss: 0.4, Error: note, Config: jobConfig()})
		}
		receiveNeverFailed(t, name, &w, events)
		if w.State != msg.JobDone || !w.Final() || !strings.HasPrefix(w.Status(), "done: ") || !strings.HasSuffix(w.Status(), "; "+note) {
			t.Errorf("%s: state %q, final %v, status %q; want done, final, the status ending with the note", name, w.State, w.Final(), w.Status())
		}
	}
}

// TestJobWatchRunningNote: a running job whose data set's load skipped
// images says so from its load on, its state running carrying the note
// (a new stream's first event): the watch's status gives it beside the
// progress, never as a failure, and, done, gives the final note instead.
// Before, the running watch said nothing of it until the job was done.
func TestJobWatchRunningNote(t *testing.T) {
	const note = "data set faces: 20 images, 2 skipped: 2 under 8 pixels a side"
	w := NewJobWatch(msg.Job{ID: "j8", State: msg.JobRunning, Steps: 12, Config: jobConfig()})
	receiveNeverFailed(t, "running", &w, []string{
		`{"v":1,"type":"state","trainer":"j8","state":"running","error":"` + note + `"}`,
		`{"v":1,"type":"progress","trainer":"j8","progress":{"epoch":0,"step":5,"steps":12,"loss":0.4}}`,
	})
	if got := w.Status(); !strings.HasPrefix(got, "running: epoch 0, step 5/12, loss 0.4000") || !strings.HasSuffix(got, "; "+note) {
		t.Errorf("running: status %q, want the progress, then the note", got)
	}
	receiveNeverFailed(t, "done", &w, []string{
		`{"v":1,"type":"state","trainer":"j8","state":"done"}`,
		`{"v":1,"type":"error","trainer":"j8","error":"` + note + `"}`,
	})
	if got := w.Status(); !strings.HasPrefix(got, "done: ") || strings.Count(got, note) != 1 {
		t.Errorf("done: status %q, want done with the note once", got)
	}
}

// A running job's row gives its data's note as its error (the server's
// merge): the watch of a job listed so, which the stream then says
// interrupted without a reason (a server stopped), does not give the
// note as why it was interrupted, while the list still has it running.
func TestJobWatchInterruptedAfterNote(t *testing.T) {
	const note = "data set faces: 20 images, 2 skipped: 2 under 8 pixels a side"
	w := NewJobWatch(msg.Job{ID: "j9", State: msg.JobRunning, Step: 120, Steps: 400, CkptStep: 100, Error: note, Config: jobConfig()})
	receiveNeverFailed(t, "interrupted", &w, []string{
		`{"v":1,"type":"state","trainer":"j9","state":"running","error":"` + note + `"}`,
		`{"v":1,"type":"progress","trainer":"j9","progress":{"epoch":0,"step":130,"steps":400,"loss":0.4}}`,
		`{"v":1,"type":"state","trainer":"j9","state":"interrupted"}`,
	})
	if want := "interrupted at step 130: resume it to go on from its checkpoint at step 100"; w.Status() != want {
		t.Errorf("interrupted after the note: status %q, want %q", w.Status(), want)
	}
}

// TestJobWatchCanceledNote: a job whose data set's load skipped images
// keeps that note once canceled, as the error after its final state (the
// server's, as for a failed or interrupted job, where it comes before
// why): the watch's status gives it after the step it was canceled at,
// from the stream and from the list. Before, a canceled job's status
// said nothing of it.
func TestJobWatchCanceledNote(t *testing.T) {
	const note = "data set faces: 20 images, 2 skipped: 2 under 8 pixels a side"
	w := NewJobWatch(msg.Job{ID: "j10", State: msg.JobRunning, Steps: 400, Error: note, Config: jobConfig()})
	receiveNeverFailed(t, "canceled", &w, []string{
		`{"v":1,"type":"state","trainer":"j10","state":"running","error":"` + note + `"}`,
		`{"v":1,"type":"progress","trainer":"j10","progress":{"epoch":0,"step":130,"steps":400,"loss":0.4}}`,
		`{"v":1,"type":"state","trainer":"j10","state":"canceled"}`,
		`{"v":1,"type":"error","trainer":"j10","error":"` + note + `"}`,
	})
	if want := "canceled at step 130; " + note; w.Status() != want {
		t.Errorf("canceled, from the stream: status %q, want %q", w.Status(), want)
	}
	listed := NewJobWatch(msg.Job{ID: "j10", State: msg.JobCanceled, Step: 130, Steps: 400, Error: note, Config: jobConfig()})
	if want := "canceled at step 130; " + note; listed.Status() != want {
		t.Errorf("canceled, from the list: status %q, want %q", listed.Status(), want)
	}
	failed := "failed: " + note + "; step 12: loss is NaN"
	if w := NewJobWatch(msg.Job{ID: "j11", State: msg.JobFailed, Step: 12, Error: note + "; step 12: loss is NaN", Config: jobConfig()}); w.Status() != failed {
		t.Errorf("failed, from the list: status %q, want %q", w.Status(), failed)
	}
}

// TestJobWatchResumedUnseen: a job resumed (by another page, or client)
// while the page's stream of it was down (the server stopped, the tab in
// the background), so that the watch never heard it interrupted, starts
// again from its checkpoint, below the steps drawn: its progress is drawn
// and posted from there, the curves cut before it, not dropped as a
// repeat until it passes the step it had reached. The repeat of the last
// progress as the stream opens again is still dropped.
func TestJobWatchResumedUnseen(t *testing.T) {
	progress := func(step int) string {
		return fmt.Sprintf(`{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":0,"step":%d,"steps":2000,"loss":1.5,"accuracy":0.5}}`, step)
	}
	w := NewJobWatch(msg.Job{ID: "j1", State: msg.JobRunning, Steps: 2000, Config: jobConfig()})
	var posts []string
	for _, e := range []string{
		`{"v":1,"type":"state","trainer":"j1","state":"running"}`, progress(500), progress(1095),
		// The stream opened again: the job resumed from its checkpoint at 500.
		`{"v":1,"type":"state","trainer":"j1","state":"running"}`, progress(600), progress(600), progress(700),
	} {
		post, err := w.Receive(e)
		if err != nil {
			t.Fatalf("Receive(%s): %v", e, err)
		}
		posts = append(posts, post...)
	}
	want := []string{"state running", "progress 500:0", "progress 1095:0", "state running", "progress 600:0", "progress 700:0"}
	if got := said(t, posts); !slices.Equal(got, want) {
		t.Errorf("the viewer was posted\n%q, want\n%q", got, want)
	}
	var xs []float64
	for _, p := range w.Run.LossLine {
		xs = append(xs, p.X)
	}
	if !slices.Equal(xs, []float64{500, 600, 700}) || w.Run.Progress.Step != 700 {
		t.Errorf("the loss curve's steps %v, progress at step %d; want [500 600 700], step 700", xs, w.Run.Progress.Step)
	}
}

// TestEditSettingsServerFolder: the Jobs form takes data= of a data set
// the server listed ("faces", from the Verify page's uploads), whose
// classes it takes as typed, trimmed, for the server to check
// (data.ParseClasses: names, ranges of names, positions); every other
// edit keeps the folder; a preset gives the job its input shape, as
// `metriclab train --preset faces --data DIR` does. The playground
// (ParseHash, no sets) still refuses the folder. Before, data=faces was
// refused ("is not one of mnist") and the request had no input.
func TestEditSettingsServerFolder(t *testing.T) {
	sets := []string{"faces"}
	if _, err := EditSettings(jobSettings(DefaultSettings()), "data", "faces", nil); err == nil {
		t.Error("data=faces with no data sets listed: taken, want it refused")
	}
	s, err := EditSettings(jobSettings(DefaultSettings()), "data", "faces", sets)
	if err != nil || s.Data != "faces" {
		t.Fatalf("data=faces listed: %+v, %v", s, err)
	}
	for _, c := range []struct{ typed, want string }{
		{" s01-s20 ", "s01-s20"}, {"Ann Smith, 3", "Ann Smith, 3"}, {"all", ""}, {"", ""}, {"7", "7"},
	} {
		got, err := EditSettings(s, "classes", c.typed, sets)
		if err != nil || got.Classes != c.want || got.Data != "faces" {
			t.Errorf("faces, classes %q: classes %q, data %q, %v; want %q on faces", c.typed, got.Classes, got.Data, err, c.want)
		}
	}
	if s, err = EditSettings(s, "classes", "s01-s20", sets); err != nil {
		t.Fatal(err)
	}
	// Edits of other fields, and a preset, keep the folder and its
	// classes, the list or not (the form's own data set stands).
	for _, e := range [][2]string{{"epochs", "3"}, {"loss", "cosface"}, {"preset", "faces"}} {
		if s, err = EditSettings(s, e[0], e[1], nil); err != nil || s.Data != "faces" || s.Classes != "s01-s20" {
			t.Fatalf("faces s01-s20, then %s=%s: %+v, %v; want faces s01-s20 kept", e[0], e[1], s, err)
		}
	}
	r := s.Request(s.Loss)
	faces, _ := msg.PresetByName("faces")
	if r.Data != "faces" || r.Classes != "s01-s20" || r.Input != faces.Input || r.Input != "1x48x48" {
		t.Errorf("the faces preset on the folder faces: data %q, classes %q, input %q; want faces, s01-s20, 1x48x48", r.Data, r.Classes, r.Input)
	}
	// No preset: the server's default shape, as the command line's; MNIST
	// takes no input whatever the preset (its images are 1x28x28 only).
	if none, _ := s.WithPreset("none"); none.Request(none.Loss).Input != "" {
		t.Errorf("no preset on a folder: input %q, want \"\" (the server's 1x32x32)", none.Request(none.Loss).Input)
	}
	if back, err := EditSettings(s, "classes", "", sets); err != nil {
		t.Fatal(err)
	} else if mnist, err := EditSettings(back, "data", "mnist", sets); err != nil || mnist.Request(mnist.Loss).Input != "" {
		t.Errorf("the faces preset on mnist: %v, input %q; want none", err, mnist.Request(mnist.Loss).Input)
	}
	// Back to MNIST, classes its rule refuses are refused, not queued.
	if got, err := EditSettings(s, "data", "mnist", sets); err == nil {
		t.Errorf("faces s01-s20, then data=mnist: %+v taken; want s01-s20 refused", got)
	}
	// The playground's link keeps refusing a folder.
	if p, notices := ParseHash("#data=faces&classes=s01-s20"); p.Data != "mnist" || p.Classes != "" || len(notices) != 2 {
		t.Errorf("the playground's #data=faces&classes=s01-s20: data %q, classes %q, notices %q; want mnist, all, two notices", p.Data, p.Classes, notices)
	}
}
