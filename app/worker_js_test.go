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

// TestControlsFieldsAfterLink: values typed and not taken (classes
// refused, numbers out of range) stay in the fields as typed until a
// link is opened, which writes the settings' values in every field, all
// classes (empty) too. They stayed, but for the classes: go-app writes a
// field only when the value it draws changes, and an empty one not at
// all. The document is a stand-in, under node, with the fields as typed.
func TestControlsFieldsAfterLink(t *testing.T) {
	js.Global().Call("eval", `globalThis.metriclabFields = {}
	globalThis.document = { getElementById(id) { return metriclabFields[id] ?? null }, querySelectorAll() { return [] } }`)
	defer js.Global().Delete("document")
	defer js.Global().Delete("metriclabFields")
	typed := map[string]string{"ctl-classes": "12", "ctl-batch": "99999", "ctl-lr": "20", "ctl-epochs": "0", "ctl-seed": "-1", "ctl-param-m": "7"}
	fields := js.Global().Get("metriclabFields")
	for id, v := range typed {
		fields.Set(id, map[string]any{"value": v})
	}
	c := &Controls{Settings: DefaultSettings(), OnChange: func(Settings) {}}
	c.setClasses("12")
	c.OnUpdate(app.Context{}) // a change of the form
	for id, v := range typed {
		if got := fields.Get(id).Get("value").String(); got != v {
			t.Errorf("%s typed, then the form changed: the field %q, want %q", id, got, v)
		}
	}
	if c.classesNote == "" {
		t.Error("classes 12 typed, then the form changed: no note")
	}
	c.Links++
	c.OnUpdate(app.Context{}) // a link to the settings (all classes, ArcFace's m at D = 3 its default 0.5)
	want := map[string]string{"ctl-classes": "", "ctl-batch": "64", "ctl-lr": "0.01", "ctl-epochs": "1", "ctl-seed": "1", "ctl-param-m": "0.5"}
	for id, v := range want {
		if got := fields.Get(id).Get("value").String(); got != v {
			t.Errorf("%s typed, then a link to the settings: the field %q, want %q", typed[id], got, v)
		}
	}
	if c.classesNote != "" {
		t.Errorf("classes 12 typed, then a link to all classes: note %q", c.classesNote)
	}
}

// TestControlsParamsAfterLinkToAnotherLoss: go-app keeps the loss
// parameters' inputs by place, and a link to another loss gives each the
// id of the new loss's parameter at its place, writing its value only
// when the one drawn changes: l2softmax's alpha, 999 typed and refused,
// becomes normsoftmax's s, whose default is alpha's, 16, and kept 999.
// Written by id before go-app drew the form, the settings' value went to
// no input (there was no s yet). The document is a stand-in, under node,
// with the parameters' inputs in their order.
func TestControlsParamsAfterLinkToAnotherLoss(t *testing.T) {
	js.Global().Call("eval", `globalThis.metriclabParams = [{id: "ctl-param-alpha", value: "999"}]
	globalThis.document = {
		getElementById(id) { return metriclabParams.find((f) => f.id === id) ?? null },
		querySelectorAll(sel) { return sel === "fieldset.params input" ? metriclabParams : [] },
	}`)
	defer js.Global().Delete("document")
	defer js.Global().Delete("metriclabParams")
	from, _ := ParseHash("#loss=l2softmax")
	to, _ := ParseHash("#loss=normsoftmax")
	c := &Controls{Settings: from, OnChange: func(Settings) {}}
	c.Settings, c.Links = to, c.Links+1
	c.OnUpdate(app.Context{})
	want := FormatNumber(to.Param(LossParams(to.Loss, to.Dim)[0]))
	if got := js.Global().Get("metriclabParams").Index(0).Get("value").String(); got != want {
		t.Errorf("l2softmax's alpha 999 typed, then a link to normsoftmax: the first parameter's input (s once drawn) %q, want %q", got, want)
	}
}
