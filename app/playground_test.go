//go:build !js

package app

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"metriclab/core/msg"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// state is the JSON of a state message of trainer t<i>.
func state(i int, s string) string {
	return `{"v":1,"type":"state","trainer":"t` + itoa(i) + `","state":"` + s + `"}`
}

// TestPlaygroundLockedWhileLoading: the first start of a trainer loads
// MNIST (state "loading") before it trains; the run has started with the
// settings of that moment, so the form stays fixed. It was editable while
// loading: a loss chosen then relabelled the panel of the run that went on
// training the old one, and compare mode turned on made trainer 0's panel
// say softmax.
func TestPlaygroundLockedWhileLoading(t *testing.T) {
	p := NewPlayground()
	p.receive(0, state(0, msg.StateIdle))
	p.command(msg.OpStart)
	p.receive(0, state(0, msg.StateLoading))
	if !p.locked() {
		t.Errorf("a trainer loading the data of its run: the settings are not locked")
	}
}

// TestPlaygroundTrainStartsTrainersNotReady: in compare mode the trainers'
// workers get ready one after the other; Train pressed when only some of
// them are starts the others as soon as they are ready (autostart does the
// same). It started only those ready, the others stayed idle, and Reset
// forgets such a start.
func TestPlaygroundTrainStartsTrainersNotReady(t *testing.T) {
	p := NewPlayground()
	p.settings.Compare = DefaultCompare()
	p.resize()
	p.receive(0, state(0, msg.StateIdle))
	p.command(msg.OpStart)
	p.receive(1, state(1, msg.StateIdle))
	for i, want := range []string{msg.StateRunning, msg.StateRunning, StateStarting, StateStarting} {
		if got := p.trainers[i].run.State; got != want {
			t.Errorf("after Train with trainer 0 ready, then trainer 1: trainer %d %q, want %q", i, got, want)
		}
	}
	p.command(msg.OpReset)
	p.receive(2, state(2, msg.StateIdle))
	if got := p.trainers[2].run.State; got != msg.StateIdle {
		t.Errorf("after Reset, trainer 2 ready: %q, want idle (the start was forgotten)", got)
	}
}

// TestPlaygroundLossChangedAfterRun: a finished run whose trainer is given
// another loss has nothing to show of the new loss: its panel is idle
// (ready to train), not "done" with the figures of nothing and an Export
// of the old loss's model under the new loss's name. A crash keeps its
// reason.
func TestPlaygroundLossChangedAfterRun(t *testing.T) {
	for _, end := range []string{msg.StateDone, msg.StateFailed} {
		p := NewPlayground()
		p.receive(0, state(0, msg.StateIdle))
		p.command(msg.OpStart)
		p.receive(0, `{"v":1,"type":"progress","trainer":"t0","progress":{"epoch":1,"step":10,"steps":10,"loss":0.5}}`)
		p.receive(0, state(0, end))
		s := p.settings.WithLoss("cosface")
		p.change(s)
		r := p.trainers[0].run
		if r.Loss != "cosface" || r.State != msg.StateIdle || r.Can(msg.OpExport) || len(r.LossLine) != 0 {
			t.Errorf("%s arcface run, loss changed to cosface: loss %s, state %q (status %q), can export %v; want cosface, idle",
				end, r.Loss, r.State, r.Status(), r.Can(msg.OpExport))
		}
	}
	p := NewPlayground()
	p.trainers[0].run.Crash("the trainer's worker stopped: out of memory")
	p.change(p.settings.WithLoss("cosface"))
	if r := p.trainers[0].run; r.State != StateCrashed || r.Err == "" || !r.Can("restart") {
		t.Errorf("crashed trainer, loss changed: state %q, error %q; want crashed with its reason", r.State, r.Err)
	}
}

// TestPlaygroundUncheckLoss: in compare mode a loss unchecked takes its
// own panel away; the other trainers keep their runs, their workers, not
// reset, and their panels' places, ids and viewer channels (a hidden place
// stands for the panel gone: go-app matches elements by their place, and
// a panel moved would load its viewer again, empty). Runs were matched to
// the losses by place: arcface unchecked, its panel was given softmax's
// loss and softmax's cosface's, each run cleared and its trainer reset.
func TestPlaygroundUncheckLoss(t *testing.T) {
	p := NewPlayground()
	p.nonce = "n" // as OnMount sets it
	p.settings.Compare = []string{"arcface", "softmax", "cosface"}
	p.resize()
	p.trainers[0].worker = &worker{terminated: true} // outside a browser it has no Worker
	kept := []*postedJS{{}, {}}
	p.trainers[1].worker, p.trainers[2].worker = kept[0].worker(), kept[1].worker()
	workers := make([]*worker, len(p.trainers))
	for i := range p.trainers {
		workers[i] = p.trainers[i].worker
	}
	for i := range p.trainers {
		p.receive(i, state(i, msg.StateIdle))
	}
	p.command(msg.OpStart)
	for i := range p.trainers {
		p.receive(i, `{"v":1,"type":"progress","trainer":"t`+itoa(i)+`","progress":{"epoch":1,"step":10,"steps":10,"loss":0.5}}`)
		p.receive(i, state(i, msg.StateDone))
	}
	s := p.settings
	s.Compare = []string{"softmax", "cosface"}
	p.change(s)
	if len(p.trainers) != 2 {
		t.Fatalf("arcface unchecked: %d runs, want 2", len(p.trainers))
	}
	for i, loss := range []string{"softmax", "cosface"} {
		r, slot := p.trainers[i].run, i+1
		if r.Loss != loss || r.Trainer != "t"+itoa(slot) || r.State != msg.StateDone || len(r.LossLine) != 1 || p.trainers[i].worker != workers[slot] {
			t.Errorf("arcface unchecked: run %d %s %s %q with %d loss points, its worker kept %v; want %s t%d done with 1, kept",
				i, r.Loss, r.Trainer, r.State, len(r.LossLine), p.trainers[i].worker == workers[slot], loss, slot)
		}
		if ops := kept[i].ops(t); !slices.Equal(ops, []string{msg.OpStart}) || kept[i].terminated {
			t.Errorf("arcface unchecked: %s's trainer was sent %q, terminated %v; want only its start, not terminated", loss, ops, kept[i].terminated)
		}
	}
	panels := p.panels()
	if len(panels) != 2 {
		t.Fatalf("arcface unchecked: %d panels, want 2", len(panels))
	}
	for i, loss := range []string{"softmax", "cosface"} {
		panel, ok := panels[i].(*TrainerPanel)
		if want := "metriclab-n-" + itoa(i+1); !ok || panel.Index != i || panel.Run.Loss != loss || panel.Channel != want {
			t.Errorf("arcface unchecked: panel %d %#v, want %s's on channel %s (its run's)", i, panels[i], loss, want)
		}
	}
	// A loss checked again comes last, with a new run on the id free.
	s.Compare = []string{"softmax", "cosface", "arcface"}
	p.change(s)
	if r := p.trainers[2].run; len(p.trainers) != 3 || r.Loss != "arcface" || r.Trainer != "t0" || r.State == msg.StateDone {
		t.Errorf("arcface checked again: runs %v, want the third a new run of arcface, t0", p.trainers)
	}
}

// TestPlaygroundLinkOrder: a link's compared losses are the panels'
// order, the page's first trainer taking the first of them.
func TestPlaygroundLinkOrder(t *testing.T) {
	p := NewPlayground()
	p.open("#compare=softmax,sphereface,cosface,arcface")
	for i, loss := range []string{"softmax", "sphereface", "cosface", "arcface"} {
		if r := p.trainers[i].run; r.Loss != loss || r.Trainer != "t"+itoa(i) {
			t.Errorf("panel %d: %s %s, want %s t%d", i, r.Loss, r.Trainer, loss, i)
		}
	}
}

// trainedPlayground is a playground whose run (trainer t0) trained to
// its end, its Export buttons shown.
func trainedPlayground() *Playground {
	p := NewPlayground()
	p.receive(0, state(0, msg.StateIdle))
	p.command(msg.OpStart)
	p.receive(0, state(0, msg.StateDone))
	return p
}

// TestPlaygroundPanelNamesItsRun: settings changed after a run leave its
// figures on its panel until the next Train; the panel's D and the names
// of its exported files are those of the run, not of the form. They were
// the form's: a D = 3 model exported after D was set to 8 was called
// metriclab-arcface-d8.safetensors.
func TestPlaygroundPanelNamesItsRun(t *testing.T) {
	p := trainedPlayground()
	s := p.settings
	s.Dim, s.Views = 8, "whole,upper"
	p.change(s)
	if got, want := p.fileName(0, ""), "metriclab-arcface-d3"; got != want {
		t.Errorf("a D = 3 run, D then set to 2 views × 8: file name %q, want %q", got, want)
	}
	if got, want := p.panelDim(0), "3"; got != want {
		t.Errorf("a D = 3 run, D then set to 2 views × 8: panel's D %q, want %q", got, want)
	}
	// Reset: the panel has no run, and says the form's D.
	p.command(msg.OpReset)
	p.receive(0, state(0, msg.StateIdle))
	if got, want := p.panelDim(0), "2 × 8 (whole, upper)"; got != want {
		t.Errorf("after Reset: panel's D %q, want %q", got, want)
	}
}

// TestPlaygroundExportsInOrder: every export click is answered by one
// export message, in order; each answer is saved as the kind asked for
// it. The page remembered only the latest kind: Model then vectors.tsv
// clicked before the first answer (it embeds the test set: seconds) saved
// the TSV files for the first answer and nothing for the second, and an
// export that failed, or whose worker was replaced, left its kind to the
// next answer.
func TestPlaygroundExportsInOrder(t *testing.T) {
	const answer = `{"v":1,"type":"export","trainer":"t0","export":{"model":"AAAA","vectors":"1\t0\n","metadata":"3\n"}}`
	p := trainedPlayground()
	p.export(0, "model")
	p.export(0, "tsv")
	p.receive(0, answer)
	if got := exportsAsked(p, 0); len(got) != 1 || got[0] != "tsv" {
		t.Errorf("Model, vectors.tsv, then the first answer: exports still asked %q, want [tsv]", got)
	}
	p.receive(0, answer)
	if got := exportsAsked(p, 0); len(got) != 0 {
		t.Errorf("both answered: exports still asked %q, want none", got)
	}
	p.export(0, "model")
	p.receive(0, `{"v":1,"type":"error","trainer":"t0","error":"no model"}`)
	if got := exportsAsked(p, 0); len(got) != 0 {
		t.Errorf("an export answered by an error: exports still asked %q, want none", got)
	}
	p.export(0, "tsv")
	p.restart(0)
	if got := exportsAsked(p, 0); len(got) != 0 {
		t.Errorf("an export, then the trainer restarted: exports still asked %q, want none", got)
	}
}

// exportsAsked returns the export kinds trainer i was asked for and has
// not answered yet.
func exportsAsked(p *Playground, i int) []string {
	var kinds []string
	for _, e := range p.trainers[i].exports {
		kinds = append(kinds, e.kind)
	}
	return kinds
}

// TestPlaygroundCrashStopsHelpers: when the worker of a data-parallel
// run dies, its helper workers, which wait for it for good and each hold
// a copy of MNIST, are stopped. They were kept until Restart.
func TestPlaygroundCrashStopsHelpers(t *testing.T) {
	p := NewPlayground()
	p.receive(0, state(0, msg.StateRunning))
	p.trainers[0].helpers = []*worker{{terminated: true}} // one helper (terminated: outside a browser it has no Worker)
	p.crashed(0, "the trainer's worker stopped: out of memory")
	if p.trainers[0].helpers != nil || p.trainers[0].run.State != StateCrashed {
		t.Errorf("worker 0 died: helpers %v, state %q; want none, crashed", p.trainers[0].helpers, p.trainers[0].run.State)
	}
}

// TestPlaygroundFollowsLink: a link opened in the page itself (pasted or
// edited in the address bar: only the fragment changes, and the browser
// does not reload) is applied, autostart included. It was ignored: the
// page went on showing the old settings, and its next change wrote them
// over the link. While training is under way the link is not applied,
// and a notice says so.
func TestPlaygroundFollowsLink(t *testing.T) {
	p := NewPlayground()
	p.trainers[0].pending = true // the first link's autostart=1, trainer 0 not ready yet
	p.follow("#loss=sphereface")
	if p.settings.Loss != "sphereface" || p.trainers[0].pending {
		t.Errorf("a link without autostart after one with: loss %s, start pending %v; want sphereface, none", p.settings.Loss, p.trainers[0].pending)
	}
	p.receive(0, state(0, msg.StateIdle))
	p.follow("#loss=cosface&dim=2&compare=cosface,arcface&autostart=1")
	if s := p.settings; s.Loss != "cosface" || s.Dim != 2 || len(p.trainers) != 2 || p.trainers[0].run.Loss != "cosface" {
		t.Fatalf("after a link to cosface and arcface at D = 2: settings %+v, runs %+v", s, p.trainers)
	}
	if p.trainers[0].run.State != msg.StateRunning || !p.trainers[1].pending {
		t.Errorf("the link says autostart=1: trainer 0 %q, trainer 1 pending %v; want running, pending", p.trainers[0].run.State, p.trainers[1].pending)
	}
	before := p.settings.Hash()
	p.follow("#loss=triplet")
	if p.settings.Hash() != before || len(p.notices) != 1 {
		t.Errorf("a link opened while training: settings %q, notices %q; want %q kept and a notice", p.settings.Hash(), p.notices, before)
	}
	p.follow("#loss=bogus")
	if len(p.notices) != 1 {
		t.Errorf("a bad link opened while training: notices %q", p.notices)
	}
}

// TestPlaygroundAutostartRefusedSettings: a link with autostart=1 some of
// whose settings were refused (their defaults stand in) does not start
// training, at the page's load (OnMount opens it) or followed in the page:
// it would train another comparison than the link's. Its notices stay,
// one more says training was not started, and the settings written back
// do not autostart. Before, the defaults were trained at once.
func TestPlaygroundAutostartRefusedSettings(t *testing.T) {
	const link = "#loss=cosface&compare=softmax,cosface,nonsense&autostart=1"
	p := NewPlayground()
	p.open(link)
	p.receive(0, state(0, msg.StateIdle))
	p.receive(1, state(1, msg.StateIdle))
	if got := p.trainers[0].run.State; got != msg.StateIdle || p.trainers[0].pending || p.trainers[1].pending {
		t.Errorf("a link with a refused setting and autostart=1, trainers ready: trainer 0 %q, pending %v; want idle, none", got, []bool{p.trainers[0].pending, p.trainers[1].pending})
	}
	if n := len(p.notices); n != 2 || !strings.Contains(p.notices[0], "nonsense") || !strings.Contains(p.notices[1], "not started") {
		t.Errorf("notices %q; want the refused setting's, then that training was not started", p.notices)
	}
	if p.settings.Autostart || p.settings.Loss != "cosface" || len(p.trainers) != 2 {
		t.Errorf("settings %+v; want the link's but nonsense, without autostart", p.settings)
	}
	p.command(msg.OpStart)
	if got := p.trainers[0].run.State; got != msg.StateRunning {
		t.Errorf("Train pressed: trainer 0 %q, want running", got)
	}
	p.command(msg.OpReset)
	p.receive(0, state(0, msg.StateIdle))
	p.receive(1, state(1, msg.StateIdle))

	// The same link without its bad setting starts.
	p.follow("#loss=cosface&compare=softmax,cosface&autostart=1")
	if got := p.trainers[0].run.State; got != msg.StateRunning || len(p.notices) != 0 {
		t.Errorf("a link of good settings and autostart=1: trainer 0 %q, notices %q; want running, none", got, p.notices)
	}
}

// TestPlaygroundAutostartBadValue: a link that says autostart=1 and then
// autostart= something else does not start (its notice stops it), and
// no notice says it starts. Before, the bad value's notice said
// "autostart=maybe is not 1 or 0: starting" above the one that said
// training was not started.
func TestPlaygroundAutostartBadValue(t *testing.T) {
	p := NewPlayground()
	p.open("#autostart=1&autostart=maybe")
	p.receive(0, state(0, msg.StateIdle))
	if got := p.trainers[0].run.State; got != msg.StateIdle || p.trainers[0].pending || p.settings.Autostart {
		t.Errorf("autostart=1&autostart=maybe: trainer 0 %q, pending %v, autostart %v; want idle, none, false", got, p.trainers[0].pending, p.settings.Autostart)
	}
	if len(p.notices) == 0 || !strings.HasSuffix(p.notices[0], "not starting") {
		t.Errorf("autostart=1&autostart=maybe: notices %q; want the first to end \"not starting\"", p.notices)
	}
}

// TestPlaygroundErrorThatDoesNotEndTheRun: an error the worker posts
// without ending its run (an export that failed, a command it could not
// take) is a note, naming the trainer in compare mode; the run stays as
// it was, done with its Export buttons or training. Before, every error
// marked the run failed, so a done run lost its Export buttons and a
// training one read "failed" while it trained on. An error that ends the
// run comes with the state failed, and the panel says it.
func TestPlaygroundErrorThatDoesNotEndTheRun(t *testing.T) {
	p := trainedPlayground()
	p.export(0, "model")
	p.receive(0, `{"v":1,"type":"error","trainer":"t0","error":"encoding the model: disk full"}`)
	if r := p.trainers[0].run; r.State != msg.StateDone || p.note != "encoding the model: disk full" {
		t.Errorf("an export that failed: run %q, note %q; want done, the error", r.State, p.note)
	}
	p.receive(0, state(0, msg.StateRunning))
	p.receive(0, `{"v":1,"type":"error","trainer":"t0","error":"step 12: loss is NaN (lr too high?)"}`)
	p.receive(0, state(0, msg.StateFailed))
	if r := p.trainers[0].run; r.State != msg.StateFailed || r.Status() != "failed: step 12: loss is NaN (lr too high?)" || p.note != "" {
		t.Errorf("a run that failed: run %q, status %q, note %q; want failed, its reason, no note (the panel says it)", r.State, r.Status(), p.note)
	}
	c := NewPlayground()
	c.follow("#compare=softmax,cosface")
	c.receive(1, state(1, msg.StateRunning))
	c.receive(1, `{"v":1,"type":"error","trainer":"t1","error":"too many commands waiting; dropped one"}`)
	if r := c.trainers[1].run; r.State != msg.StateRunning || c.note != "trainer 2 (cosface): too many commands waiting; dropped one" {
		t.Errorf("compare mode, a command dropped: run %q, note %q; want running, the error naming trainer 2", r.State, c.note)
	}
}

// TestTrainerErrorOneLine: a trainer's error that breaks the schema's one
// line (a trainer of another version: line breaks, 5000 bytes) reaches a
// note as one line of at most msg.MaxErrorRunes characters, its control
// characters as spaces and its middle left out, as the server's errors do
// (TestClientErrorOneLine); so does the browser's reason for a worker's
// death. Before, the playground's note, the Verify page's probe note and
// a run's failure showed them whole, a line for each line break.
func TestTrainerErrorOneLine(t *testing.T) {
	text := "disk\nfull\r\n" + strings.Repeat("x", 5000) + ": free some space"
	// 148 characters of the start, " … ", 149 of the end: 300.
	want := "disk full  " + strings.Repeat("x", 148-11) + " … " + strings.Repeat("x", 149-17) + ": free some space"
	errorMsg := func(trainer, id string) string {
		b, _ := json.Marshal(msg.Message{V: msg.SchemaVersion, Type: msg.TypeError, Trainer: trainer, ID: id, Error: text})
		return string(b)
	}

	p := trainedPlayground()
	p.export(0, "model")
	p.receive(0, errorMsg("t0", ""))
	if p.note != want {
		t.Errorf("the playground's note: %.400q, want %q", p.note, want)
	}
	p.crashed(0, "the trainer's worker stopped: Uncaught RangeError: out of memory\n    at grow (wasm_exec.js:1)")
	if got, want := p.trainers[0].run.Status(), "crashed: the trainer's worker stopped: Uncaught RangeError: out of memory     at grow (wasm_exec.js:1)"; got != want {
		t.Errorf("a crash: status %q, want %q", got, want)
	}

	s := enrolled()
	s.Train()
	s.Receive(stateMsg(msg.StateDone))
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	okFrame(&s, 10)
	s.Receive(errorMsg(verifyTrainer, "probe-1"))
	if got, want := s.ProbeNote, "probe 1 could not be embedded: "+want; got != want {
		t.Errorf("the Verify page's probe note: %.400q, want %q", got, want)
	}
	s.Receive(errorMsg(verifyTrainer, ""))
	s.Receive(stateMsg(msg.StateFailed))
	if got, want := s.TrainStatus(), "failed: "+want; got != want {
		t.Errorf("the Verify page's failed run: %.400q, want %q", got, want)
	}
}

// TestPlaygroundUnreadMessage: a message of the trainer that the browser
// could not deserialise may have been an export's answer: the exports
// asked are forgotten, and the answer of the next is saved as its own
// kind. Before, the next export's answer was saved as the lost one's kind
// (the model file for the projector's files), and its own stayed asked.
func TestPlaygroundUnreadMessage(t *testing.T) {
	p := trainedPlayground()
	p.export(0, "model")
	p.unread(0, errUnreadMessage)
	if p.note != errUnreadMessage.Error() {
		t.Errorf("note %q, want %q", p.note, errUnreadMessage)
	}
	p.export(0, "tsv")
	if got := exportsAsked(p, 0); len(got) != 1 || got[0] != "tsv" {
		t.Errorf("after an unread message and an export of tsv: exports asked %q, want [tsv]", got)
	}
}

// TestPlaygroundExportJSONUnreadable: an export's answer whose JSON the
// page cannot read (its model not base64) is forgotten as an unread
// message is: the next export's answer is saved as its own kind. Before,
// receive only set the note, and the tsv asked next took the lost model's
// place in the queue.
func TestPlaygroundExportJSONUnreadable(t *testing.T) {
	p := trainedPlayground()
	p.export(0, "model")
	p.receive(0, `{"v":1,"type":"export","trainer":"`+p.trainers[0].run.Trainer+`","export":{"model":"!!"}}`)
	if !strings.HasPrefix(p.note, "app: bad message from the trainer: ") {
		t.Errorf("note %q, want the JSON error", p.note)
	}
	p.export(0, "tsv")
	if got := exportsAsked(p, 0); len(got) != 1 || got[0] != "tsv" {
		t.Errorf("after an unreadable export answer and an export of tsv: exports asked %q, want [tsv]", got)
	}
}

// TestPlaygroundExportWithoutFiles: an export answer without its files
// answers the first export asked, as one with them does, and the note
// says nothing was saved. Before, it was dropped and that export stayed
// asked, so the next answer was saved as its kind: Vectors asked after a
// Model file got the model file.
func TestPlaygroundExportWithoutFiles(t *testing.T) {
	p := trainedPlayground()
	p.export(0, "model")
	p.export(0, "tsv")
	p.receive(0, `{"v":1,"type":"export","trainer":"t0"}`)
	if got := exportsAsked(p, 0); len(got) != 1 || got[0] != "tsv" {
		t.Errorf("the model's answer without files: exports still asked %q, want [tsv]", got)
	}
	if want := "the trainer's export came without its files: nothing was saved"; p.note != want {
		t.Errorf("note %q, want %q", p.note, want)
	}
}

// TestPlaygroundNoTrainWhileTraining: in compare mode a trainer that is
// done while another still trains (or is paused) is not started again:
// Train is disabled until no trainer trains. It was enabled, and started
// the finished trainer again alone, its figures gone, while the other
// went on.
func TestPlaygroundNoTrainWhileTraining(t *testing.T) {
	for _, other := range []string{msg.StateRunning, msg.StatePaused, msg.StateLoading} {
		p := NewPlayground()
		p.settings.Compare = []string{"arcface", "cosface"}
		p.resize()
		p.receive(0, state(0, msg.StateIdle))
		p.receive(1, state(1, msg.StateIdle))
		p.command(msg.OpStart)
		p.receive(0, `{"v":1,"type":"progress","trainer":"t0","progress":{"epoch":1,"step":10,"steps":10,"loss":0.5}}`)
		p.receive(0, state(0, msg.StateDone))
		p.receive(1, state(1, other))
		if p.can(msg.OpStart) {
			t.Errorf("trainer 0 done, trainer 1 %s: Train enabled", other)
		}
		p.command(msg.OpStart)
		if r := p.trainers[0].run; r.State != msg.StateDone || len(r.LossLine) != 1 {
			t.Errorf("trainer 0 done, trainer 1 %s, Train: trainer 0 %q with %d loss points, want done with 1", other, r.State, len(r.LossLine))
		}
	}
}

// TestPlaygroundPauseBeforeReady: in compare mode Train pressed with
// only trainer 0 ready, then Pause, pauses trainer 1 too as soon as its
// worker is ready and starts it: start, then pause. It started trainer 1
// alone, running while the page offered Resume (paused), and its Pause
// button waited for trainer 0 to be resumed.
func TestPlaygroundPauseBeforeReady(t *testing.T) {
	p, w := comparePlayground()
	p.receive(0, state(0, msg.StateIdle))
	p.command(msg.OpStart)
	p.command(msg.OpPause)
	p.receive(0, state(0, msg.StatePaused))
	p.receive(1, state(1, msg.StateIdle))
	ops := w.ops(t)
	if want := []string{msg.OpStart, msg.OpPause}; strings.Join(ops, " ") != strings.Join(want, " ") {
		t.Errorf("Train, Pause, then trainer 1 ready: trainer 1 was sent %q, want %q", ops, want)
	}
	// Trainer 1's pause answered: the page is paused, Resume resumes both.
	p.receive(1, state(1, msg.StatePaused))
	if !p.paused() || !p.trainers[1].run.Can(msg.OpResume) {
		t.Errorf("both paused: page paused %v, trainer 1 %q", p.paused(), p.trainers[1].run.State)
	}
}

// TestPlaygroundPauseBeforeConfirmed: in compare mode Train pressed with
// only trainer 0 ready, then Pause before trainer 0 said it was paused,
// pauses trainer 1 too as soon as its worker is ready and starts it; and
// Resume pressed before trainer 0 said it was running again starts a
// trainer ready later unpaused. Whether the page was paused was read
// from the trainers' states: trainer 1 was started alone, running, and
// after a Resume started paused.
func TestPlaygroundPauseBeforeConfirmed(t *testing.T) {
	p, w := comparePlayground()
	p.receive(0, state(0, msg.StateIdle))
	p.command(msg.OpStart)
	p.command(msg.OpPause)
	p.receive(1, state(1, msg.StateIdle))
	if ops, want := w.ops(t), []string{msg.OpStart, msg.OpPause}; !slices.Equal(ops, want) {
		t.Errorf("Train, Pause, then trainer 1 ready before trainer 0 said paused: trainer 1 was sent %q, want %q", ops, want)
	}

	p, w = comparePlayground()
	p.receive(0, state(0, msg.StateIdle))
	p.command(msg.OpStart)
	p.command(msg.OpPause)
	p.receive(0, state(0, msg.StatePaused))
	p.command(msg.OpResume)
	p.receive(1, state(1, msg.StateIdle))
	if ops, want := w.ops(t), []string{msg.OpStart}; !slices.Equal(ops, want) {
		t.Errorf("Train, Pause, Resume, then trainer 1 ready before trainer 0 said running: trainer 1 was sent %q, want %q", ops, want)
	}
}

// TestPlaygroundPauseWhileLoading: in compare mode Pause pressed while
// some trainers train and others still load their data (each worker
// fetches MNIST at its first run) pauses those too, as soon as they have
// loaded, and Resume takes that back. Pause went to the trainers
// training only: the others then trained alone while the page offered
// Pause again.
func TestPlaygroundPauseWhileLoading(t *testing.T) {
	p, w := comparePlayground()
	p.receive(0, state(0, msg.StateIdle))
	p.receive(1, state(1, msg.StateIdle))
	p.command(msg.OpStart)
	p.receive(0, state(0, msg.StateRunning))
	p.receive(1, state(1, msg.StateLoading))
	p.command(msg.OpPause)
	p.receive(0, state(0, msg.StatePaused))
	p.command(msg.OpResume)
	ops := w.ops(t)
	if want := []string{msg.OpStart, msg.OpPause, msg.OpResume}; strings.Join(ops, " ") != strings.Join(want, " ") {
		t.Errorf("trainer 1 loading, Pause, Resume: trainer 1 was sent %q, want %q", ops, want)
	}
}

// comparePlayground returns a playground comparing arcface and cosface,
// its trainer 1's worker one that keeps what it is posted.
func comparePlayground() (*Playground, *postedJS) {
	p := NewPlayground()
	p.settings.Compare = []string{"arcface", "cosface"}
	p.resize()
	w := &postedJS{}
	p.trainers[1].worker = w.worker()
	return p, w
}

// TestPlaygroundCrashedStopsWorker: a worker whose error event said it
// died is stopped, as the Verify page stops its own. It was kept: were
// it alive, it would answer for a run the page takes for crashed, and
// its viewer beside the page's answers (tellViewerCrashed).
func TestPlaygroundCrashedStopsWorker(t *testing.T) {
	p := NewPlayground()
	dead := &postedJS{}
	p.trainers[0].worker = dead.worker()
	p.crashed(0, "the trainer's worker stopped: out of memory")
	if !dead.terminated || p.trainers[0].run.State != StateCrashed {
		t.Errorf("after its error event: worker terminated %v, run %q; want true, %q", dead.terminated, p.trainers[0].run.State, StateCrashed)
	}
}

// postedJS is a Web Worker's JavaScript object that keeps the messages
// posted to it, and whether it was terminated.
type postedJS struct {
	app.Value
	posts      []string
	terminated bool
}

// worker returns the page's handle on w.
func (w *postedJS) worker() *worker {
	none := app.FuncOf(nil) // outside a browser a no-op
	return &worker{js: w, onMessage: none, onMessageError: none, onError: none}
}

func (w *postedJS) Call(m string, args ...any) app.Value {
	switch m {
	case "postMessage":
		w.posts = append(w.posts, args[0].(string))
	case "terminate":
		w.terminated = true
	}
	return nil
}

func (w *postedJS) Set(string, any) {}

// TestPlaygroundHelperFailedForgetsExports: a helper worker that fails
// while an export of its paused run is asked stops worker 0, which never
// answers it; the trainer's next worker (Restart starts it; a settings
// change did too, before the trainer stayed crashed) saves its first
// export's answer as the kind asked then. It was saved
// as the kind of the export asked before the failure, and each later
// answer as the kind of the one before.
func TestPlaygroundHelperFailedForgetsExports(t *testing.T) {
	const answer = `{"v":1,"type":"export","trainer":"t0","export":{"model":"AAAA","vectors":"1\t0\n","metadata":"3\n"}}`
	p := NewPlayground()
	p.receive(0, state(0, msg.StateIdle))
	p.command(msg.OpStart)
	p.receive(0, state(0, msg.StatePaused))
	p.export(0, "tsv")
	p.receiveHelper(0, 1, `{"v":1,"type":"error","trainer":"t0","error":"out of memory"}`)
	if p.trainers[0].run.State != StateCrashed {
		t.Fatalf("a helper failed: trainer 0 %q, want crashed", p.trainers[0].run.State)
	}
	p.restart(0) // starts trainer 0's worker again
	p.receive(0, `{"v":1,"type":"state","state":"idle"}`)
	p.command(msg.OpStart)
	p.receive(0, state(0, msg.StateDone))
	p.export(0, "model")
	p.receive(0, answer)
	if got := exportsAsked(p, 0); len(got) != 0 {
		t.Errorf("Model asked of the new worker and answered: exports still asked %q, want none", got)
	}
}

// ops returns the commands posted to w.
func (w *postedJS) ops(t *testing.T) []string {
	t.Helper()
	var ops []string
	for _, s := range w.posts {
		var m msg.Message
		if err := json.Unmarshal([]byte(s), &m); err != nil || m.Command == nil {
			t.Fatalf("posted %q: %v", s, err)
		}
		ops = append(ops, m.Command.Op)
	}
	return ops
}

// TestPlaygroundHelperRefusedStart: a data-parallel start that every
// worker refuses (settings too large to train) ends the run as failed,
// whichever worker's error comes first, and worker 0 is kept: the
// settings can be fixed and trained again. A helper's error that came
// before worker 0's stopped worker 0 and said "crashed", to be restarted.
// A worker 0 that begins the run after a helper failed waits for that
// helper for good: it is stopped then, as before.
func TestPlaygroundHelperRefusedStart(t *testing.T) {
	const refused = `{"v":1,"type":"error","trainer":"t0","error":"training this job takes about 9 GiB of memory, more than is allowed"}`
	p := NewPlayground()
	w0 := &worker{terminated: true} // outside a browser it has no Worker
	p.trainers[0].worker = w0
	p.receive(0, state(0, msg.StateIdle))
	p.command(msg.OpStart)
	p.trainers[0].helpers = []*worker{{terminated: true}}
	p.receive(0, state(0, msg.StateLoading))
	p.receiveHelper(0, 1, refused)
	if p.trainers[0].worker != w0 || p.trainers[0].run.State != msg.StateLoading {
		t.Fatalf("a start refused by the helper: worker 0 kept %v, trainer 0 %q, want kept, loading until worker 0 answers", p.trainers[0].worker == w0, p.trainers[0].run.Status())
	}
	p.receive(0, refused)
	p.receive(0, state(0, msg.StateFailed))
	if !p.trainers[0].run.Can(msg.OpStart) || !strings.HasPrefix(p.trainers[0].run.Status(), "failed: training this job") {
		t.Errorf("a start refused by the helper, then by worker 0: trainer 0 %q, want failed", p.trainers[0].run.Status())
	}
	p.command(msg.OpStart)
	p.trainers[0].helpers = []*worker{{terminated: true}}
	p.receiveHelper(0, 1, `{"v":1,"type":"error","trainer":"t0","error":"loading MNIST: network error"}`)
	p.receive(0, state(0, msg.StateRunning))
	if p.trainers[0].worker != nil || p.trainers[0].run.Status() != "crashed: data-parallel worker 1: loading MNIST: network error" {
		t.Errorf("a helper failed, then worker 0 began the run: worker 0 kept %v, trainer 0 %q, want stopped, crashed", p.trainers[0].worker == w0, p.trainers[0].run.Status())
	}
}

// TestFiguresWrap: the row of figures under a viewer (img/s, time left,
// epoch, lr, workers) wraps in a narrow panel, as the export buttons do.
// At 375 px it ran 8 px past the panel, "workers" cut off and the page
// scrolling sideways. The rule as web/metriclab.css writes it: how a
// browser lays it out is not checked here.
func TestFiguresWrap(t *testing.T) {
	for _, sel := range []string{".figures", ".export"} {
		if got := cssRule(t, sel)["flex-wrap"]; got != "wrap" {
			t.Errorf("metriclab.css: %s's flex-wrap is %q, want wrap", sel, got)
		}
	}
}

// TestPlaygroundPresetsOfItsData: the playground trains MNIST, and its
// Preset offers the recipes of MNIST's images (digits); those of a
// server's folders of face crops (faces, face-photos) are shown disabled,
// saying what they are for and where they train. A link that names one
// is read without it, with a notice that says why (and does not start):
// its other settings stand. Before, faces trained on MNIST without a
// word: lenet-m, 4 × 128, "step 1/343600 … over 99h left".
func TestPlaygroundPresetsOfItsData(t *testing.T) {
	h := app.HTMLString(&Controls{Settings: DefaultSettings()})
	for _, name := range PresetNames() {
		m := regexp.MustCompile(`<option([^>]*)value="` + name + `"([^>]*)>([^<]*)</option>`).FindStringSubmatch(h)
		if m == nil {
			t.Errorf("no option %s in the Preset field", name)
			continue
		}
		folders := name == "faces" || name == "face-photos"
		if disabled := disabledTag(m[1] + m[2]); disabled != folders {
			t.Errorf("preset %s: option %q disabled %v, want %v", name, m[0], disabled, folders)
		}
		if folders && !strings.Contains(m[3], "folders") || folders && !strings.Contains(m[3], "Jobs page") {
			t.Errorf("preset %s: option text %q; want what it is for and where it trains", name, m[3])
		}
	}
	p := NewPlayground()
	p.open("#preset=faces&epochs=3&loss=cosface&autostart=1")
	want := DefaultSettings()
	want.Epochs, want.Loss = 3, "cosface"
	if !reflect.DeepEqual(p.settings, want) {
		t.Errorf("#preset=faces&epochs=3&loss=cosface&autostart=1: settings %+v, want %+v", p.settings, want)
	}
	if len(p.notices) != 2 || !strings.Contains(p.notices[0], "preset=faces") || !strings.Contains(p.notices[0], "Jobs page") || !strings.Contains(p.notices[1], "not started") {
		t.Errorf("notices %q; want one that says why faces is not used, then that training was not started", p.notices)
	}
	p.open("#pre%73et=face-photos")
	if p.settings.Preset != "" || p.settings.Arch != "lenet-s" || len(p.notices) != 1 || strings.Contains(p.notices[0], "…") {
		t.Errorf("#pre%%73et=face-photos: preset %q, arch %q, notices %q; want none, lenet-s, one, whole", p.settings.Preset, p.settings.Arch, p.notices)
	}
	p.open("#preset=digits&epochs=3")
	if p.settings.Preset != "digits" || len(p.notices) != 0 {
		t.Errorf("#preset=digits: preset %q, notices %q", p.settings.Preset, p.notices)
	}
}

// TestCompareStatusLines: in compare mode the page's status (id="status")
// gives each trainer a line of its own, each whole and wrapping, "cosface:
// running: epoch 1, step 420/938, loss 0.1234, 612 img/s, 52s left".
// Before, the four were joined on one line, which the stylesheet cut with
// "…" (nowrap, text-overflow: ellipsis) after about the first: the steps
// and losses of the others were not shown. The rule as web/metriclab.css
// writes it: how a browser lays it out is not checked here.
func TestCompareStatusLines(t *testing.T) {
	p := NewPlayground()
	s := DefaultSettings()
	s.Compare = DefaultCompare()
	p.change(s)
	for i := range p.trainers {
		p.receive(i, state(i, "running"))
		p.receive(i, `{"v":1,"type":"progress","trainer":"t`+itoa(i)+`","progress":{"epoch":1,"step":`+itoa(100*i+120)+`,"steps":938,"loss":0.1234,"img_per_s":612,"eta_s":52}}`)
	}
	h := app.HTMLString(p)
	tag, inner, ok := elementOf(h, "p", "status")
	if !ok {
		t.Fatalf("no element id=status: %s", h)
	}
	lines := regexp.MustCompile(`<span class="status-line">([^<]*)</span>`).FindAllStringSubmatch(inner, -1)
	if len(lines) != len(p.trainers) || !strings.Contains(tag, `class="status status-lines"`) {
		t.Fatalf("#status (%s) holds %d lines, want one per trainer (%d) in class status-lines: %s", tag, len(lines), len(p.trainers), inner)
	}
	for i, l := range lines {
		r := &p.trainers[i].run
		if want := r.Loss + ": " + r.Status(); html.UnescapeString(l[1]) != want || !strings.Contains(want, "step "+itoa(100*i+120)+"/938") {
			t.Errorf("line %d: %q, want %q", i, l[1], want)
		}
	}
	if got := cssRule(t, ".top .status-lines")["white-space"]; got != "normal" {
		t.Errorf("metriclab.css: .top .status-lines's white-space is %q, want normal (the lines wrap)", got)
	}
	if got := cssRule(t, ".top .status-line")["display"]; got != "block" {
		t.Errorf("metriclab.css: .top .status-line's display is %q, want block (a line each)", got)
	}
}

// TestHideCoversWhatSetsIt: hide=NAME hides every control that changes
// NAME's setting, not only NAME's own field: for each name, a preset of
// the playground's that changes its setting is hidden with it, and
// hide=loss hides compare mode's switch, which trains other losses.
// Before, hide=loss left the Compare checkbox and the Preset field (the
// digits preset trains normsoftmax), and hide=dim the Preset field
// (digits: D = 128), for a class to change what the lesson fixed.
func TestHideCoversWhatSetsIt(t *testing.T) {
	setting := map[string]func(Settings) string{
		"data": func(s Settings) string { return s.Data }, "classes": func(s Settings) string { return s.Classes },
		"arch": func(s Settings) string { return s.Arch }, "loss": func(s Settings) string { return strings.Join(s.Losses(), ",") },
		"params": func(s Settings) string { return fmt.Sprint(s.Params) }, "dim": func(s Settings) string { return fmt.Sprint(s.Dim) },
		"batch": func(s Settings) string { return fmt.Sprint(s.Batch) }, "lr": func(s Settings) string { return fmt.Sprint(s.LR) },
		"opt": func(s Settings) string { return s.Opt }, "epochs": func(s Settings) string { return fmt.Sprint(s.Epochs) },
		"seed": func(s Settings) string { return fmt.Sprint(s.Seed) }, "augment": func(s Settings) string { return s.Augment },
	}
	// What each control can make of the default settings.
	changes := map[string][]Settings{}
	for _, p := range msg.Presets() {
		if presetOnMNIST(p) {
			s, err := DefaultSettings().WithPreset(p.Name)
			if err != nil {
				t.Fatal(err)
			}
			changes["preset"] = append(changes["preset"], s)
		}
	}
	compare := DefaultSettings()
	compare.Compare = DefaultCompare()
	changes["compare"] = []Settings{compare}
	for name, get := range setting {
		s := DefaultSettings()
		s.Hide = []string{name}
		h := app.HTMLString(&Controls{Settings: s})
		if strings.Contains(h, `id="ctl-`+name+`"`) {
			t.Errorf("hide=%s: its field is drawn", name)
		}
		for ctl, outs := range changes {
			for _, out := range outs {
				if get(out) != get(DefaultSettings()) && strings.Contains(h, `id="ctl-`+ctl+`"`) {
					t.Errorf("hide=%s: the %s control is drawn, which changes it (%s to %s)", name, ctl, get(DefaultSettings()), get(out))
				}
			}
		}
	}
}

// TestREADMEHideTable: the README lists hide='s names, with what each
// hides, as HideTable writes them (between blank lines; copy the table
// this test prints when a control changes).
func TestREADMEHideTable(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if table := HideTable(); !strings.Contains(string(b), "\n\n"+table+"\n") {
		t.Errorf("README.md does not hold the table of hide='s names, between blank lines; it is now:\n%s", table)
	}
}

// TestPlaygroundResultsOfOtherSettings: settings changed after a run,
// whose results the panels still show, are said: the page names the
// results' settings, with their link, beside the link of the form's. It
// goes with the next Train or a Reset. Before, the panels showed the
// epochs=1 run's figures beside a link of epochs=2, without a word.
func TestPlaygroundResultsOfOtherSettings(t *testing.T) {
	p := NewPlayground()
	p.receive(0, state(0, msg.StateIdle))
	p.command(msg.OpStart)
	p.receive(0, `{"v":1,"type":"progress","trainer":"t0","progress":{"epoch":1,"step":10,"steps":10,"loss":0.5}}`)
	p.receive(0, state(0, msg.StateDone))
	ran := p.settings.Hash()
	if h := app.HTMLString(p); strings.Contains(h, `id="results-of"`) {
		t.Errorf("settings as run: the page says the results are of others: %s", h)
	}
	s := p.settings
	s.Epochs = 2
	p.change(s)
	h := app.HTMLString(p)
	_, inner, ok := elementOf(h, "p", "results-of")
	if !ok || !strings.Contains(inner, `href="`+ran+`"`) || !strings.Contains(inner, "before your changes") {
		t.Errorf("epochs changed after the run: no line that says the results are of the settings before, with their link %q: %q", ran, inner)
	}
	if tag, _, _ := elementOf(h, "a", "permalink"); !strings.Contains(tag, `href="`+p.settings.Hash()+`"`) {
		t.Errorf("the permalink %s is not the form's settings' %q", tag, p.settings.Hash())
	}
	// Back to the settings of the run: nothing to say.
	s.Epochs = 1
	if p.change(s); strings.Contains(app.HTMLString(p), `id="results-of"`) {
		t.Error("settings back to the run's: the page says the results are of others")
	}
	// A reset takes the results away, and the line with them.
	s.Epochs = 3
	p.change(s)
	p.command(msg.OpReset)
	p.receive(0, state(0, msg.StateIdle))
	if strings.Contains(app.HTMLString(p), `id="results-of"`) {
		t.Error("after Reset: the page says the results are of other settings")
	}
}

// elementOf returns the start tag and the content of the element tag
// of id in the HTML h (one that holds no element of its own tag), whose
// attributes go-app writes in any order.
func elementOf(h, tag, id string) (start, inner string, ok bool) {
	for _, m := range regexp.MustCompile(`(?s)(<`+tag+`\b[^>]*>)(.*?)</`+tag+`>`).FindAllStringSubmatch(h, -1) {
		if strings.Contains(m[1], ` id="`+id+`"`) {
			return m[1], m[2], true
		}
	}
	return "", "", false
}
