//go:build !(js && wasm)

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"metriclab/core/data"
	"metriclab/core/msg"
)

// TestWorkerInNode builds trainer.wasm and runs web/trainer.js with it in
// node, posing as a Web Worker (testdata/harness.js): a message sent
// before Go is ready starts an MNIST run (the worker first says it is
// ready: state "idle" with no trainer id) (mlp, classes 0-1, one epoch),
// the harness pauses it, steps once, resumes it and exports at the end.
func TestWorkerInNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds trainer.wasm and trains in node")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	mnist, err := data.MNISTDir()
	if err != nil {
		t.Skip(err)
	}
	wasm := filepath.Join(t.TempDir(), "trainer.wasm")
	build := exec.Command("go", "build", "-o", wasm, ".")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building trainer.wasm: %v\n%s", err, out)
	}
	out, err := exec.Command(node, "testdata/harness.js", "../../web", wasm, wasmExecDir(t), mnist).Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got struct {
		Ready              string
		States             []string
		Progress           int
		Snapshots          int
		Broadcast          int
		Errors             []string
		EpochEnd           *struct{ Step, Steps int }
		ExportBytes        int
		ExportVectors      int
		ExportMetadataHead string
		PauseMs            int
		StepWhilePaused    int
		Trainers           []string
		LastSnapshot       struct{ Dim, Points, Labels, Weights, Genuine, Impostor int }
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("harness output %q: %v", out, err)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
	if len(got.Errors) > 0 {
		t.Errorf("errors: %q", got.Errors)
	}
	if got.Ready != "idle" {
		t.Errorf("the worker's first message says state %q, want idle (ready) with no trainer id", got.Ready)
	}
	if want := []string{"loading", "running", "paused", "running", "done"}; !slices.Equal(got.States, want) {
		t.Errorf("states %q, want %q", got.States, want)
	}
	if got.PauseMs < 0 || got.PauseMs > 1000 {
		t.Errorf("pause took %d ms to act", got.PauseMs)
	}
	if got.StepWhilePaused != 1 {
		t.Errorf("%d progress messages after a step while paused, want 1", got.StepWhilePaused)
	}
	// Classes 0 and 1: 12,665 images, 1,266 held out, 11,399 trained on in
	// 178 batches of 64.
	if got.EpochEnd == nil || got.EpochEnd.Step != 178 || got.EpochEnd.Steps != 178 {
		t.Errorf("epoch end progress %+v, want step 178 of 178 with verification", got.EpochEnd)
	}
	s := got.LastSnapshot
	if got.Snapshots < 2 || got.Broadcast != got.Snapshots || s.Dim != 3 || s.Points != 3*s.Labels || s.Weights != 2*3 || s.Genuine == 0 || s.Genuine != s.Impostor {
		t.Errorf("%d snapshots, %d on the channel, last %+v", got.Snapshots, got.Broadcast, s)
	}
	if got.ExportBytes < 784*256*4 || got.ExportVectors != s.Labels || got.ExportMetadataHead != "label\tclass" {
		t.Errorf("export: %d model bytes, %d vectors, metadata header %q", got.ExportBytes, got.ExportVectors, got.ExportMetadataHead)
	}
	if !slices.Equal(got.Trainers, []string{"t1"}) {
		t.Errorf("messages from trainers %q, want t1 only", got.Trainers)
	}
}

// TestWorkerLoadFailure runs web/trainer.js in node with trainer.wasm
// missing (HTTP 404): the worker says it failed, then answers every
// command, the one queued while it loaded and those sent after, with an
// error and the state failed under the command's trainer id (before, the
// commands were queued for ever and the page waited on "starting…").
func TestWorkerLoadFailure(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	out, err := exec.Command(node, "testdata/fail_harness.js", "../../web", wasmExecDir(t)).Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got []struct{ Type, Trainer, State, Error string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("harness output %q: %v", out, err)
	}
	var seen []string
	for i := 0; i+1 < len(got); i += 2 {
		e, s := got[i], got[i+1]
		if e.Type != "error" || !strings.Contains(e.Error, "trainer.wasm failed to load") || !strings.Contains(e.Error, "404") ||
			s.Type != "state" || s.State != "failed" || s.Trainer != e.Trainer {
			t.Errorf("messages %d, %d: %+v, %+v; want an error naming the failure and the state failed, one trainer", i, i+1, e, s)
		}
		seen = append(seen, e.Trainer)
	}
	if want := []string{"", "t1", "t2", ""}; len(got) != 2*len(want) || !slices.Equal(seen, want) {
		t.Errorf("answered trainers %q (%d messages), want %q: the failure, the queued command, the later one, a message that is no command", seen, len(got), want)
	}
}

// TestWorkerProtocol runs web/trainer.js with trainer.wasm in node
// (testdata/protocol_harness.js) and sends it commands that are malformed,
// out of order or out of range, between runs on enrolled images: each is
// answered with a one-line error (or, in order, with what it asks for)
// under the trainer id of its time ("" before the first start), and the
// worker goes on. The line is the schema's (msg.ErrorLine): a JavaScript
// error of two lines and a tab, and an unknown command of 5000
// characters, are answered without control characters, in at most
// msg.MaxErrorRunes characters (before, only "\n" was replaced). Before, a message object JSON.stringify cannot write (a
// BigInt) ended the Go program, and every later command was answered
// "trainer.wasm failed to load"; so did a data-parallel peer's message
// that was not {step, loss, grad} (a panic in the port's callback), and
// a peer more than a step ahead blocked the callback, and with it the
// worker's event loop: now each fails the run with an error. A start
// refused after a run (no configuration, other data, too few ports)
// fails without dropping the run's model: the export and the embed that
// follow use it (before, both were answered that there was none); the
// ports that came with it are closed (before, none was), and so are
// those that come with a message that takes none: a bad one, another
// command, a start of one worker, a command dropped from a full queue
// (before, they stayed open). A load without samples is answered by the
// state idle with the load's ID (before, with none: the Verify page could
// not tell the answer of a load it sent again from a late one). A run
// whose first update overflows the weights fails at the snapshot after
// it, with one error (before, "encoding a message: json: unsupported
// value: NaN" came first, and the run failed at the next step). A start
// refused, or that fails (too large to train), after a failed one is
// answered by the state failed again (before, by none: the playground
// showed the run it had started as "running: starting…", its settings
// locked, until Reset). A viewer that loads after a run failed hears its
// error before the state failed, as the page had it (before, the state
// only; and nothing where it failed before its first snapshot); one that
// loads after a run that early stopping ended where training diverged
// hears its note before the state done (before, the state only). An
// export refused carries the export's ID (before, none: the Verify page,
// which asks for its encoder's file to keep it, took it for the worker's
// own failure).
func TestWorkerProtocol(t *testing.T) {
	if testing.Short() {
		t.Skip("builds trainer.wasm and trains in node")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	wasm := filepath.Join(t.TempDir(), "trainer.wasm")
	build := exec.Command("go", "build", "-o", wasm, ".")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building trainer.wasm: %v\n%s", err, out)
	}
	out, err := exec.Command(node, "testdata/protocol_harness.js", "../../web", wasm, wasmExecDir(t)).Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var steps []struct {
		Name   string
		Msgs   []struct{ Type, Trainer, State, Error, ID string }
		Closed int // ports of the step that the worker closed
	}
	if err := json.Unmarshal(out, &steps); err != nil {
		t.Fatalf("harness output %q: %v", out, err)
	}
	// The answers of each step: "error: " and a part of the error, "state
	// " and the state, or the type. An error that refuses an embed or a
	// load carries the command's ID (refusedID), so that the Verify page
	// tells a refused probe from a refused gallery, as does one that
	// refuses an export (the page keeps its encoder), and so does the error
	// of an embed dropped from a full queue; no other error has one.
	want := map[string][]string{
		"not json":                                         {"error: bad message"},
		"an object JSON cannot write":                      {"error: bad message: JavaScript error"},
		"an object whose JSON throws two lines":            {"error: bad message: JavaScript error: line one   line two"},
		"an unknown command of 5000 characters":            {"error: unknown command \"xxx"},
		"another schema":                                   {"error: schema version 2"},
		"not a command":                                    {"error: only takes commands"},
		"step before start":                                nil,
		"export before start":                              {"error: nothing to export"},
		"embed before start":                               {"error: nothing to embed with"},
		"load no model":                                    {"error: the model could not be loaded"},
		"start without config":                             {"error: without a training configuration", "state failed"},
		"start of other data":                              {"error: data \"cifar\"", "state failed"},
		"start without samples":                            {"error: no samples", "state failed"},
		"start of huge samples":                            {"error: samples of shape 1×1000000000×1000000000", "state failed"},
		"start of huge counts":                             {"error: epochs 1000000000 out of range", "state failed"},
		"start of unknown names":                           {"error: unknown augmentation", "state failed"},
		"start too large to train":                         {"error: more than is allowed", "state failed"},
		"start of missing ports":                           {"error: got 0 message ports", "state failed"},
		"start of a group, a null message":                 {"state running", "error: worker 1: a bad message from worker 0: null, not {step, loss, grad}", "state failed"},
		"start of a group, a gradient of odd bytes":        {"state running", "error: grad of 5 bytes, not float32s", "state failed"},
		"start of a group, a gradient of text":             {"state running", "error: grad string, not an ArrayBuffer", "state failed"},
		"start of a group, a peer steps ahead":             {"state running", "error: worker 1: worker 0 sent more messages than steps", "state failed"},
		"start of a group, a peer that answers":            {"state running", "state done"},
		"lead of a group, a peer's loss of NaN":            {"state running", "error: worker 0: a bad message from worker 1: loss NaN, not a finite number", "state failed"},
		"start, a learning rate that diverges":             {"state running", "error: step 1: the snapshot's embeddings are not all finite numbers (lr too high?)", "state failed"},
		"triplet, a class without images":                  {"state running", "state done"},
		"start without config, after a run":                {"error: without a training configuration", "state failed"},
		"start of other data, after a run":                 {"error: data \"cifar\"", "state failed"},
		"start of too few ports, after a run":              {"error: got 1 message ports, wants 2", "state failed"},
		"export after the run":                             {"export"},
		"embed other shapes":                               {"error: the encoder takes 1×16×16"},
		"reset":                                            {"state idle"},
		"export after reset":                               {"error: nothing to export"},
		"start, paused":                                    {"state running", "state paused"},
		"embed while paused":                               {"embeddings"},
		"stop":                                             {"state done"},
		"start, an embed dropped":                          {"state running", "error: too many commands waiting; dropped one", "state done"},
		"start refused while running":                      {"state running", "error: without a training configuration", "state failed"},
		"stop after the refused start":                     {"state done"},
		"load, nothing to embed":                           {"state idle"},
		"a viewer that loads after the runs":               {"snapshot", "state done"}, // the last run stopped before its first progress
		"a viewer that loads after a reset":                nil,
		"a viewer that loads after a refused start":        {"error: without a training configuration", "state failed"},
		"a viewer that loads after a run failed":           {"progress", "snapshot", "error: worker 0: a bad message from worker 1: loss NaN", "state failed"},
		"a run that diverged after its best epoch":         {"state running", "error: training diverged (step 3: loss is NaN (lr too high?)): early stopping ended the run at step 2 with the model of the best epoch, 1", "state done"},
		"a viewer that loads after a run that diverged":    {"progress", "snapshot", "error: training diverged (step 3: loss is NaN (lr too high?)): early stopping ended the run at step 2 with the model of the best epoch, 1", "state done"},
		"a viewer when the Go program stops":               {"error: trainer.wasm stopped", "state failed"},
		"a viewer that loads after the Go program stopped": {"error: trainer.wasm stopped", "state failed"},
	}
	refusedID := map[string]string{"embed before start": "e0", "load no model": "l0", "embed other shapes": "e1", "start, an embed dropped": "e3", "export after reset": "x0"}
	// The state idle that says a load without samples took carries the
	// load's ID, so that the page tells its latest load's answer from a
	// late one; no other state has one.
	loadedID := map[string]string{"load, nothing to embed": "l1"}
	// The ports of a refused start are closed: the worker keeps none; so
	// are those sent with a message that takes none (all but the start
	// of a group): a bad message, another command, a start of one worker,
	// a command dropped from a full queue. Those of a group's start are
	// kept for its run, and closed by the next start that takes.
	closed := map[string]int{"start of other data, after a run": 1, "start of too few ports, after a run": 1,
		"not json": 1, "an object JSON cannot write": 1, "another schema": 1, "not a command": 1, "step before start": 1,
		"export before start": 1, "embed before start": 1, "load no model": 1, "reset": 1, "start, paused": 1, "start, an embed dropped": 1,
		"start of a group, a gradient of odd bytes": 1, "start of a group, a gradient of text": 1, "start of a group, a peer steps ahead": 1,
		"start of a group, a peer that answers": 1, "lead of a group, a peer's loss of NaN": 1, "start, a learning rate that diverges": 1,
		"a run that diverged after its best epoch": 1}
	if len(steps) != len(want) {
		t.Errorf("%d steps answered, want %d", len(steps), len(want))
	}
	started := false
	for _, s := range steps {
		w, ok := want[s.Name]
		if !ok {
			t.Errorf("step %q: %+v", s.Name, s.Msgs)
			continue
		}
		started = started || strings.HasPrefix(s.Name, "start")
		if s.Closed != closed[s.Name] {
			t.Errorf("step %q: %d of its ports closed, want %d", s.Name, s.Closed, closed[s.Name])
		}
		var got []string
		for _, m := range s.Msgs {
			switch m.Type {
			case "error":
				got = append(got, "error: "+m.Error)
			case "state":
				got = append(got, "state "+m.State)
			default:
				got = append(got, m.Type)
			}
			if id := map[bool]string{false: "", true: "t1"}[started]; m.Trainer != id || strings.ContainsFunc(m.Error, unicode.IsControl) || utf8.RuneCountInString(m.Error) > msg.MaxErrorRunes {
				t.Errorf("step %q: %+v, want one line from trainer %q", s.Name, m, id)
			}
			if m.Type == "error" && m.ID != refusedID[s.Name] {
				t.Errorf("step %q: error of ID %q, want %q", s.Name, m.ID, refusedID[s.Name])
			}
			if m.Type == "state" && m.ID != loadedID[s.Name] {
				t.Errorf("step %q: state %s of ID %q, want %q", s.Name, m.State, m.ID, loadedID[s.Name])
			}
		}
		match := len(got) == len(w)
		for i := 0; match && i < len(w); i++ {
			pre, part, _ := strings.Cut(w[i], ": ")
			match = got[i] == w[i] || strings.HasPrefix(got[i], pre+": ") && strings.Contains(got[i], part)
		}
		if !match {
			t.Errorf("step %q: answers %q, want %q", s.Name, got, w)
		}
	}
}

// wasmExecDir is the folder of the Go toolchain's wasm_exec.js, which the
// harnesses load: $(go env GOROOT)/lib/wasm, the toolchain that builds
// the worker (runtime.GOROOT is empty in a binary built with -trimpath).
func wasmExecDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "lib", "wasm")
}
