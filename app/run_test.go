package app

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"metriclab/core/msg"
)

// apply decodes the JSON of a message and applies it to r.
func apply(t *testing.T, r *Run, js string) error {
	t.Helper()
	m, err := DecodeMessage(js)
	if err != nil {
		t.Fatalf("DecodeMessage(%s): %v", js, err)
	}
	return r.Apply(m)
}

func TestRunLifecycle(t *testing.T) {
	r := NewRun("t0", "arcface")
	if r.State != StateStarting || r.Can("start") || !strings.Contains(r.Status(), "starting") {
		t.Fatalf("new run: %+v, status %q", r, r.Status())
	}
	apply(t, &r, `{"v":1,"type":"state","trainer":"t0","state":"idle"}`)
	if !r.Can("start") || r.Can("pause") || r.Status() != "idle: ready to train" {
		t.Fatalf("idle: can start %v, status %q", r.Can("start"), r.Status())
	}
	apply(t, &r, `{"v":1,"type":"state","trainer":"t0","state":"running"}`)
	for step := 10; step <= 30; step += 10 {
		apply(t, &r, `{"v":1,"type":"progress","trainer":"t0","progress":{"epoch":1,"step":`+itoa(step)+`,"steps":937,"loss":`+itoa(30-step/2)+`.5,"accuracy":0.5,"img_per_s":640,"eta_s":95}}`)
	}
	want := "running: epoch 1, step 30/937, loss 15.5000, 640 img/s, 1m35s left"
	if got := r.Status(); got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	if len(r.LossLine) != 3 || r.LossLine[2] != (Point{30, 15.5}) || !r.Can("pause") || r.Can("step") {
		t.Errorf("loss line %v, can pause %v", r.LossLine, r.Can("pause"))
	}
	apply(t, &r, `{"v":1,"type":"progress","trainer":"t0","progress":{"epoch":1,"step":937,"steps":937,"loss":0.4,"epoch_end":true,
		"verification":{"accuracy":0.97,"eer":0.031,"threshold":0.42,"tar_at_far":{"0.001":0.8}}}}`)
	apply(t, &r, `{"v":1,"type":"snapshot","trainer":"t0","snapshot":{"dim":3,"points":[1,0,0],"labels":[1],"threshold":0.42,"has_threshold":true,"genuine":[5,3,1],"impostor":[0,2,7]}}`)
	apply(t, &r, `{"v":1,"type":"state","trainer":"t0","state":"paused"}`)
	if !r.Can("step") || !r.Can("resume") || !r.Can("export") || r.Can("pause") {
		t.Errorf("paused: step %v resume %v export %v", r.Can("step"), r.Can("resume"), r.Can("export"))
	}
	if !strings.HasPrefix(r.Status(), "paused: epoch 1, step 937/937, loss 0.4000") {
		t.Errorf("paused status %q", r.Status())
	}
	if len(r.Epochs) != 1 || r.Epochs[0].EER != 0.031 || !r.HasSnapshot || r.Threshold != (Threshold{0.42, true}) || len(r.Impostor) != 3 {
		t.Errorf("epochs %+v, snapshot %v %v %v", r.Epochs, r.HasSnapshot, r.Threshold, r.Impostor)
	}
	apply(t, &r, `{"v":1,"type":"state","trainer":"t0","state":"done"}`)
	if got := r.Status(); !strings.HasSuffix(got, "verification accuracy 97.0%") {
		t.Errorf("done status %q", got)
	}
	// A reset: the trainer says idle again, and the curves go.
	apply(t, &r, `{"v":1,"type":"state","trainer":"t0","state":"idle"}`)
	if len(r.LossLine) != 0 || len(r.Epochs) != 0 || r.HasSnapshot || r.State != msg.StateIdle || r.Loss != "arcface" {
		t.Errorf("after reset: %+v", r)
	}
}

// TestRunClearWorkers: a run cleared (its trainer reset, or given another
// loss) forgets its Web Workers with its figures: the panel says "–", as
// before a run. Clear kept them, and the panel went on showing the
// workers of the run gone.
func TestRunClearWorkers(t *testing.T) {
	r := NewRun("t0", "arcface")
	apply(t, &r, `{"v":1,"type":"state","trainer":"t0","state":"idle"}`)
	r.State, r.Workers = msg.StateRunning, 3 // as the page's start sets them
	apply(t, &r, `{"v":1,"type":"state","trainer":"t0","state":"done"}`)
	apply(t, &r, `{"v":1,"type":"state","trainer":"t0","state":"idle"}`) // a reset
	if r.Workers != 0 || workersText(r.Workers) != "–" {
		t.Errorf("a run of 3 workers reset: workers %d (%q), want 0 (–)", r.Workers, workersText(r.Workers))
	}
	r.Workers = 3
	if r.Clear(); r.Workers != 0 {
		t.Errorf("a run of 3 workers cleared: workers %d, want 0", r.Workers)
	}
}

func TestRunErrors(t *testing.T) {
	r := NewRun("t1", "cosface")
	apply(t, &r, `{"v":1,"type":"state","trainer":"t1","state":"running"}`)
	// An error is the reason of the state failed that comes after it when
	// the run ends (wasm/trainer's fail): alone it changes no state.
	apply(t, &r, `{"v":1,"type":"error","trainer":"t1","error":"out of memory"}`)
	if r.State != msg.StateRunning || r.Err != "out of memory" {
		t.Errorf("after an error message: %q, error %q; want still running, the error kept", r.State, r.Err)
	}
	apply(t, &r, `{"v":1,"type":"state","trainer":"t1","state":"failed"}`)
	if r.State != msg.StateFailed || r.Status() != "failed: out of memory" || !r.Can("restart") || !r.Can("start") {
		t.Errorf("after an error message, then failed: %q, restart %v", r.Status(), r.Can("restart"))
	}
	r.Crash("the trainer's worker stopped: RuntimeError: unreachable")
	if r.State != StateCrashed || !strings.Contains(r.Status(), "crashed: the trainer's worker stopped") || !r.Can("restart") || r.Can("start") {
		t.Errorf("after a crash: %q", r.Status())
	}
	r.Reset()
	if r.State != StateStarting || r.Trainer != "t1" || r.Loss != "cosface" || r.Err != "" {
		t.Errorf("after Reset: %+v", r)
	}
	// Another trainer's message is ignored; a bad one changes nothing.
	before := r
	if err := apply(t, &r, `{"v":1,"type":"state","trainer":"t2","state":"running"}`); err != nil || r.State != before.State {
		t.Errorf("a message of t2 changed t1: %v, %q", err, r.State)
	}
	for _, js := range []string{
		`{"v":1,"type":"state","trainer":"t1","state":"dancing"}`,
		`{"v":1,"type":"telepathy","trainer":"t1"}`,
		`{"v":1,"type":"progress","trainer":"t1"}`,
		`{"v":1,"type":"snapshot","trainer":"t1"}`,
	} {
		if err := apply(t, &r, js); err == nil || r.State != before.State {
			t.Errorf("%s: err %v, state %q", js, err, r.State)
		}
	}
	if _, err := DecodeMessage(`{"v":2,"type":"state","state":"idle"}`); err == nil || !strings.Contains(err.Error(), "v2") {
		t.Errorf("a message of schema v2 decoded: %v", err)
	}
	if _, err := DecodeMessage(`not json`); err == nil {
		t.Error("garbage decoded")
	}
}

func TestRunCurveBounded(t *testing.T) {
	r := NewRun("t0", "softmax")
	for i := 1; i <= 3*maxCurvePoints; i++ {
		r.Apply(&PageMessage{Message: msg.Message{V: 1, Type: msg.TypeProgress, Progress: &msg.Progress{Step: i, Loss: float64(i)}}})
	}
	n := len(r.LossLine)
	if n > maxCurvePoints || n < maxCurvePoints/2 {
		t.Errorf("%d points kept, want in [%d, %d]", n, maxCurvePoints/2, maxCurvePoints)
	}
	if first, last := r.LossLine[0], r.LossLine[n-1]; first.X != 1 || last.X != 3*maxCurvePoints {
		t.Errorf("curve spans %v..%v, want steps 1..%d", first, last, 3*maxCurvePoints)
	}
	for i := 1; i < n; i++ {
		if r.LossLine[i].X <= r.LossLine[i-1].X {
			t.Fatalf("steps out of order at %d: %v", i, r.LossLine[i-1:i+1])
		}
	}
}

func TestCommand(t *testing.T) {
	req := DefaultSettings().Request("arcface")
	var m msg.Message
	if err := json.Unmarshal([]byte(Command("t3", "start", &req, "metriclab-x-3")), &m); err != nil {
		t.Fatal(err)
	}
	if m.V != msg.SchemaVersion || m.Type != "command" || m.Trainer != "t3" || m.Command.Op != "start" ||
		m.Command.Channel != "metriclab-x-3" || m.Command.Config.Loss != "arcface" || m.Command.Config.Dim != 3 {
		t.Errorf("start command decodes as %+v %+v", m, m.Command)
	}
	if s := Command("t0", "pause", nil, ""); strings.Contains(s, "config") || strings.Contains(s, "channel") {
		t.Errorf("pause command %s carries a config or channel", s)
	}
}

func TestDuration(t *testing.T) {
	for s, want := range map[float64]string{0: "0s", 42.4: "42s", 59.6: "1m00s", 185: "3m05s", 3720: "1h02m",
		359999: "99h59m", 360000: "over 99h", 1e300: "over 99h", math.Inf(1): "over 99h", math.NaN(): "over 99h", -5: "0s", math.Inf(-1): "0s"} {
		if got := Duration(s); got != want {
			t.Errorf("Duration(%g) = %q, want %q", s, got, want)
		}
	}
}

// TestSnapshotHead holds SnapshotHead, the part of a snapshot the page
// decodes, to msg.Snapshot: every field of it is a field of msg.Snapshot
// of the same type and JSON name, and a real snapshot decodes into it.
func TestSnapshotHead(t *testing.T) {
	full := reflect.TypeOf(msg.Snapshot{})
	head := reflect.TypeOf(SnapshotHead{})
	for i := 0; i < head.NumField(); i++ {
		h := head.Field(i)
		f, ok := full.FieldByName(h.Name)
		if !ok || f.Type != h.Type || f.Tag.Get("json") != h.Tag.Get("json") {
			t.Errorf("SnapshotHead.%s %s `%s` is not msg.Snapshot's", h.Name, h.Type, h.Tag)
		}
	}
	b, _ := json.Marshal(msg.Message{V: msg.SchemaVersion, Type: msg.TypeSnapshot, Snapshot: &msg.Snapshot{Dim: 2, Points: []float32{1, 0}, Threshold: 0.25, HasThreshold: true, Genuine: []int{1, 2}, Impostor: []int{3}}})
	m, err := DecodeMessage(string(b))
	if err != nil || m.Snapshot == nil || m.Snapshot.Dim != 2 || m.Snapshot.Threshold != 0.25 || !m.Snapshot.HasThreshold || !slices.Equal(m.Snapshot.Genuine, []int{1, 2}) || !slices.Equal(m.Snapshot.Impostor, []int{3}) {
		t.Errorf("a snapshot decodes as %+v, %v", m, err)
	}
}

// itoa is strconv.Itoa, short for the tests' strings.
func itoa(n int) string { return strconv.Itoa(n) }

// TestRunFailedWithoutReason: a trainer that says failed without an error
// before it (or whose error could not be read) fails for a reason the
// status names as unknown. Before, the status read "failed: ", and the
// verify page's "failed: " too.
func TestRunFailedWithoutReason(t *testing.T) {
	r := NewRun("t1", "cosface")
	apply(t, &r, `{"v":1,"type":"state","trainer":"t1","state":"running"}`)
	apply(t, &r, `{"v":1,"type":"state","trainer":"t1","state":"failed"}`)
	if want := "failed: the trainer gave no reason"; r.Status() != want {
		t.Errorf("status %q, want %q", r.Status(), want)
	}
}

// TestMessageErrorsBounded: the page's own errors about a trainer's or a
// job's message that quote it (a state or a type it does not know, a
// number JSON cannot read) are notes of one line of at most
// msg.MaxErrorRunes characters, their start kept, however long the quote.
// Before, a state of 5000 characters made a note of 5000.
func TestMessageErrorsBounded(t *testing.T) {
	long := strings.Repeat("x", 5000)
	r := NewRun("t1", "cosface")
	w := NewJobWatch(msg.Job{ID: "j1", State: msg.JobQueued, Steps: 40, Config: jobConfig()})
	_, decodeErr := DecodeMessage(`{"v":1` + strings.Repeat("0", 5000) + `}`)
	_, jobErr := w.Receive(`{"v":1,"type":"state","trainer":"j1","state":"` + long + `"}`)
	for _, c := range []struct {
		err   error
		start string
	}{
		{decodeErr, "app: bad message from the trainer: json: cannot unmarshal number 1000"},
		{apply(t, &r, `{"v":1,"type":"state","trainer":"t1","state":"`+long+`"}`), `app: unknown trainer state "xxx`},
		{apply(t, &r, `{"v":1,"type":"`+long+`","trainer":"t1"}`), `app: unknown message type "xxx`},
		{jobErr, `app: unknown job state "xxx`},
	} {
		if c.err == nil {
			t.Errorf("no error, want one that starts %q", c.start)
			continue
		}
		if e := c.err.Error(); !strings.HasPrefix(e, c.start) || utf8.RuneCountInString(e) > msg.MaxErrorRunes || strings.ContainsFunc(e, unicode.IsControl) {
			t.Errorf("error %.400q (%d characters), want one line of at most %d characters that starts %q", e, utf8.RuneCountInString(e), msg.MaxErrorRunes, c.start)
		}
	}
}

// TestRunDivergedNote: when early stopping ends a run that diverged after
// its best epoch, wasm/trainer posts the note (job.Diverged) as an error
// just before the state done (its step); the panel's status of the done
// run says so, rather than dropping it with the done.
func TestRunDivergedNote(t *testing.T) {
	r := NewRun("t1", "cosface")
	const note = "training diverged (step 3: loss is NaN (lr too high?)): early stopping ended the run at step 2 with the model of the best epoch, 1"
	for _, js := range []string{
		`{"v":1,"type":"state","trainer":"t1","state":"running"}`,
		`{"v":1,"type":"progress","trainer":"t1","progress":{"epoch":1,"step":2,"steps":8,"loss":0.5}}`,
		`{"v":1,"type":"error","trainer":"t1","error":"` + note + `"}`,
		`{"v":1,"type":"state","trainer":"t1","state":"done"}`,
	} {
		if err := apply(t, &r, js); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
	}
	if r.State != msg.StateDone || !strings.Contains(r.Status(), note) {
		t.Errorf("done after the diverged note: status %q, error %q; want the note in the status", r.Status(), r.Err)
	}
	apply(t, &r, `{"v":1,"type":"state","trainer":"t1","state":"idle"}`)
	if r.Err != "" || strings.Contains(r.Status(), "diverged") {
		t.Errorf("after a reset: status %q, error %q; want the note gone", r.Status(), r.Err)
	}
}

// TestAccuracyTitle: the accuracy curve names the images it is measured
// on, the snapshot's (R18: it said "batch accuracy", and was of test
// images taken at each viewer update).
func TestAccuracyTitle(t *testing.T) {
	for _, tc := range []struct {
		req  *msg.TrainRequest
		want string
	}{
		{nil, "accuracy (test images)"},
		{&msg.TrainRequest{Data: "mnist"}, "accuracy (test images)"},
		{&msg.TrainRequest{Data: msg.DataEnrolled}, "accuracy (enrolled images)"},
		{&msg.TrainRequest{Data: "faces"}, "accuracy (viewer's images)"},
	} {
		if got := AccuracyTitle(tc.req); got != tc.want {
			t.Errorf("AccuracyTitle(%+v) = %q, want %q", tc.req, got, tc.want)
		}
	}
}

// TestR18NoThresholdBeforeVerification: a snapshot taken before any
// verification chose a threshold draws none (R18: it drew "threshold
// 90°", cos 0, the snapshot's Threshold left 0).
func TestR18NoThresholdBeforeVerification(t *testing.T) {
	r := NewRun("t0", "arcface")
	if err := r.Apply(&PageMessage{Message: msg.Message{Type: msg.TypeSnapshot}, Snapshot: &SnapshotHead{
		Dim: 3, Genuine: []int{4, 1, 0}, Impostor: []int{0, 1, 4},
	}}); err != nil {
		t.Fatal(err)
	}
	h := HistogramSVG(r.Genuine, r.Impostor, r.Threshold, r.HasSnapshot)
	if strings.Contains(h, `class="threshold"`) {
		t.Errorf("a snapshot before any verification draws a threshold line")
	}
	// One after a verification that chose cos 0 draws it, at 90°.
	b, _ := json.Marshal(msg.Message{V: msg.SchemaVersion, Type: msg.TypeSnapshot, Trainer: "t0", Snapshot: &msg.Snapshot{
		Dim: 3, HasThreshold: true, Genuine: []int{4, 1, 0}, Impostor: []int{0, 1, 4}}})
	m, err := DecodeMessage(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(m); err != nil {
		t.Fatal(err)
	}
	if h := HistogramSVG(r.Genuine, r.Impostor, r.Threshold, r.HasSnapshot); !strings.Contains(h, `class="threshold"`) || !strings.Contains(h, "threshold 90°") {
		t.Errorf("a threshold of cos 0 after verification: %s", h)
	}
}
