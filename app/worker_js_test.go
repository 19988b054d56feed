//go:build js && wasm

package app

import (
	"slices"
	"syscall/js"
	"testing"

	"metriclab/core/msg"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// TestWorkerMessageError: a message of the worker that the browser could
// not deserialise (its messageerror event) is that message's error,
// errUnreadMessage, and the worker lives; an error event is its death.
// Before, a messageerror was taken for the worker's death: the Verify page
// dropped its encoder and the worker, the playground's run crashed. The
// worker is a stand-in for the browser's Worker, under node.
func TestWorkerMessageError(t *testing.T) {
	js.Global().Call("eval", `globalThis.Worker = class {
		constructor(url) { globalThis.metriclabTestWorker = this }
		postMessage() {}
		terminate() {}
	}`)
	defer js.Global().Delete("Worker")
	defer js.Global().Delete("metriclabTestWorker")
	var got, unread, crashes []string
	w := newWorker(false,
		func(data string) { got = append(got, data) },
		func(err error) { unread = append(unread, err.Error()) },
		func(reason string) { crashes = append(crashes, reason) })
	defer w.terminate()
	fake := js.Global().Get("metriclabTestWorker")

	fake.Call("onmessageerror", js.Global().Get("MessageEvent").New("messageerror"))
	fake.Call("onmessage", js.Global().Get("MessageEvent").New("message", map[string]any{"data": `{"v":1}`}))
	if want := []string{errUnreadMessage.Error()}; !slices.Equal(unread, want) || len(crashes) > 0 || !slices.Equal(got, []string{`{"v":1}`}) {
		t.Errorf("after a messageerror and a message: unread %q, crashes %q, messages %q; want unread %q, no crash, the message", unread, crashes, got, want)
	}
	fake.Call("onerror", js.Global().Call("eval", `({message: "out of memory", preventDefault() {}})`))
	if want := []string{"the trainer's worker stopped: out of memory"}; !slices.Equal(crashes, want) {
		t.Errorf("after an error: crashes %q, want %q", crashes, want)
	}
}

// TestEarlyTrainerMessageError: the messages that the worker the page's
// HTML started early (EarlyTrainer, server: startScript) posted before the
// page took it and that the browser could not deserialise are handed over
// as the later ones are, errUnreadMessage each, after its messages, and
// the worker lives. Before, startScript did not listen for messageerror
// and the page said nothing of them.
func TestEarlyTrainerMessageError(t *testing.T) {
	js.Global().Call("eval", `globalThis.metriclabTestWorker = { postMessage() {}, terminate() {} }`)
	defer js.Global().Delete("metriclabTestWorker")
	fake := js.Global().Get("metriclabTestWorker")
	js.Global().Set(EarlyTrainer, map[string]any{"worker": fake, "messages": []any{`{"v":1}`}, "unread": 2, "error": ""})
	defer js.Global().Delete(EarlyTrainer)
	var got, unread, crashes []string
	w := newWorker(true,
		func(data string) { got = append(got, data) },
		func(err error) { unread = append(unread, err.Error()) },
		func(reason string) { crashes = append(crashes, reason) })
	defer w.terminate()
	want := []string{errUnreadMessage.Error(), errUnreadMessage.Error()}
	if !slices.Equal(unread, want) || len(crashes) > 0 || !slices.Equal(got, []string{`{"v":1}`}) {
		t.Errorf("an early worker with a message and two unread: unread %q, crashes %q, messages %q; want unread %q, no crash, the message", unread, crashes, got, want)
	}
}

// TestPlaygroundLossChangeResetsTrainer: a finished run whose panel is
// given another loss loses its figures, and its trainer is sent a reset,
// which its viewer hears as the state "idle" and clears the run's sphere.
// Before, the trainer kept the run and the viewer showed its sphere until
// the next run's first snapshot. The worker is a stand-in for the
// browser's Worker, under node, that keeps what it is posted.
func TestPlaygroundLossChangeResetsTrainer(t *testing.T) {
	js.Global().Call("eval", `globalThis.Worker = class {
		constructor(url) { globalThis.metriclabTestWorker = this; this.posted = [] }
		postMessage(m) { this.posted.push(m) }
		terminate() {}
	}`)
	defer js.Global().Delete("Worker")
	defer js.Global().Delete("metriclabTestWorker")
	for _, end := range []string{msg.StateDone, msg.StateFailed} {
		p := NewPlayground()
		p.workers[0] = newWorker(false, func(string) {}, func(error) {}, func(string) {})
		posted := js.Global().Get("metriclabTestWorker").Get("posted")
		p.receive(0, `{"v":1,"type":"state","trainer":"t0","state":"idle"}`)
		p.receive(0, `{"v":1,"type":"progress","trainer":"t0","progress":{"epoch":1,"step":10,"steps":10,"loss":0.5}}`)
		p.receive(0, `{"v":1,"type":"state","trainer":"t0","state":"`+end+`"}`)
		p.settings = p.settings.WithLoss("cosface")
		p.resize()
		var ops []string
		for i := range posted.Length() {
			m, err := DecodeMessage(posted.Index(i).String())
			if err != nil || m.Command == nil {
				t.Fatalf("posted %s: %v", posted.Index(i).String(), err)
			}
			ops = append(ops, m.Command.Op)
		}
		if want := []string{msg.OpReset}; !slices.Equal(ops, want) {
			t.Errorf("%s run, loss changed: the trainer was sent %q, want %q", end, ops, want)
		}
		p.workers[0].terminate()
	}
}

// TestPlaygroundExportNamesItsRun: an export is saved under the name of
// the run shown when it was asked, whatever changed before its answer
// came (it embeds the test set: seconds): the loss, or a run of another
// D started by Train. It took the name of the moment the answer came:
// the arcface model of D = 3, asked, then the loss set to cosface, was
// saved as metriclab-cosface-d3.safetensors. The worker and the
// document are stand-ins, under node, that keep what they are given.
func TestPlaygroundExportNamesItsRun(t *testing.T) {
	js.Global().Call("eval", `globalThis.Worker = class { postMessage() {} terminate() {} }
	globalThis.metriclabNavigator = Object.getOwnPropertyDescriptor(globalThis, "navigator")
	Object.defineProperty(globalThis, "navigator", { value: { hardwareConcurrency: 1 }, configurable: true })
	globalThis.metriclabSaved = []
	globalThis.document = {
		body: { appendChild() {} },
		createElement() { return { style: {}, click() { metriclabSaved.push(this.download) }, remove() {} } },
	}`)
	defer js.Global().Delete("Worker")
	defer js.Global().Delete("document")
	defer js.Global().Call("eval", `delete globalThis.navigator
		if (metriclabNavigator) Object.defineProperty(globalThis, "navigator", metriclabNavigator)
		delete globalThis.metriclabNavigator`)
	defer js.Global().Delete("metriclabSaved")
	const answer = `{"v":1,"type":"export","trainer":"t0","export":{"model":"AAAA","vectors":"1\t0\n","metadata":"3\n"}}`
	for _, then := range []string{"the loss set to cosface", "Train at D = 8"} {
		p := NewPlayground()
		p.workers[0] = newWorker(false, func(string) {}, func(error) {}, func(string) {})
		p.receive(0, `{"v":1,"type":"state","trainer":"t0","state":"idle"}`)
		p.command(msg.OpStart)
		p.receive(0, `{"v":1,"type":"state","trainer":"t0","state":"done"}`)
		p.export(0, "model")
		if then == "Train at D = 8" {
			p.settings.Dim = 8
			p.command(msg.OpStart)
		} else {
			p.settings = p.settings.WithLoss("cosface")
			p.resize()
		}
		js.Global().Set("metriclabSaved", js.Global().Get("Array").New())
		p.receive(0, answer)
		saved := js.Global().Get("metriclabSaved")
		var got []string
		for i := range saved.Length() {
			got = append(got, saved.Index(i).String())
		}
		if want := []string{"metriclab-arcface-d3.safetensors"}; !slices.Equal(got, want) {
			t.Errorf("the model of the arcface run of D = 3 asked, then %s: saved %q, want %q", then, got, want)
		}
		p.workers[0].terminate()
	}
}

// TestControlsClassesFieldAfterLink: classes refused stay in the field
// as typed until a link is opened, which writes the settings' classes
// in it, all classes (empty) too. They stayed: go-app writes a field
// only when the value it draws changes, and an empty one not at all.
// The document is a stand-in, under node, with the field as typed.
func TestControlsClassesFieldAfterLink(t *testing.T) {
	js.Global().Call("eval", `globalThis.metriclabClasses = { value: "" }
	globalThis.document = { getElementById(id) { return id === "ctl-classes" ? metriclabClasses : null } }`)
	defer js.Global().Delete("document")
	defer js.Global().Delete("metriclabClasses")
	field := js.Global().Get("metriclabClasses")
	c := &Controls{Settings: DefaultSettings(), OnChange: func(Settings) {}}
	field.Set("value", "12")
	c.setClasses("12")
	c.OnUpdate(app.Context{}) // a change of the form
	if got := field.Get("value").String(); got != "12" || c.classesNote == "" {
		t.Errorf("classes 12 typed, then the form changed: the field %q, note %q; want 12, the note", got, c.classesNote)
	}
	c.Links++
	c.OnUpdate(app.Context{}) // a link to all classes
	if got := field.Get("value").String(); got != "" || c.classesNote != "" {
		t.Errorf("classes 12 typed, then a link to all classes: the field %q, note %q; want it empty, no note", got, c.classesNote)
	}
}

// TestPlaygroundHelperFailedStaysCrashed: a trainer whose data-parallel
// helper failed stays crashed, its reason shown, until Restart, as one
// whose own worker died does; a change of the settings starts no worker
// for it. The next change started its worker again without a word: the
// new worker's "idle" cleared the reason, and the panel said "idle:
// ready to train". The Worker is a stand-in, under node, that counts
// those started; the history a stand-in too.
func TestPlaygroundHelperFailedStaysCrashed(t *testing.T) {
	js.Global().Call("eval", `globalThis.metriclabStarted = 0
	globalThis.Worker = class { constructor(url) { metriclabStarted++ } postMessage() {} terminate() {} }
	globalThis.history = { replaceState() {} }
	globalThis.metriclabNavigator = Object.getOwnPropertyDescriptor(globalThis, "navigator")
	Object.defineProperty(globalThis, "navigator", { value: { hardwareConcurrency: 1 }, configurable: true })`)
	defer js.Global().Delete("Worker")
	defer js.Global().Delete("metriclabStarted")
	defer js.Global().Delete("history")
	defer js.Global().Call("eval", `delete globalThis.navigator
		if (metriclabNavigator) Object.defineProperty(globalThis, "navigator", metriclabNavigator)
		delete globalThis.metriclabNavigator`)
	started := func() int { return js.Global().Get("metriclabStarted").Int() }
	p := NewPlayground()
	p.workers[0] = newWorker(false, func(string) {}, func(error) {}, func(string) {})
	p.receive(0, `{"v":1,"type":"state","trainer":"t0","state":"idle"}`)
	p.command(msg.OpStart)
	p.helpers[0] = []*worker{newWorker(false, func(string) {}, func(error) {}, func(string) {})}
	p.receive(0, `{"v":1,"type":"state","trainer":"t0","state":"running"}`)
	p.receiveHelper(0, 1, `{"v":1,"type":"error","trainer":"t0","error":"out of memory"}`)
	const want = "crashed: data-parallel worker 1: out of memory"
	if got := p.runs[0].Status(); got != want {
		t.Fatalf("a helper failed: trainer 0 %q, want %q", got, want)
	}
	n := started()
	s := p.settings
	s.LR = 0.01
	p.change(s)
	if got := p.runs[0].Status(); started() != n || p.workers[0] != nil || got != want || !p.runs[0].Can("restart") {
		t.Errorf("a helper failed, then the settings changed: %d workers started, trainer 0 %q; want none, %q, Restart offered", started()-n, got, want)
	}
	p.restart(0)
	if started() != n+1 || p.workers[0] == nil || p.runs[0].State != StateStarting {
		t.Errorf("then Restart: %d workers started, trainer 0 %q; want one, starting", started()-n, p.runs[0].State)
	}
	p.workers[0].terminate()
}
