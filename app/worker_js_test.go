//go:build js && wasm

package app

import (
	"slices"
	"syscall/js"
	"testing"

	"metriclab/core/msg"
)

// standInWorker puts a stand-in for the browser's Worker in place until
// t ends: the latest one made is metriclabTestWorker, which keeps what
// it is posted (posted) and whose events a test fires (onmessage,
// onerror, onmessageerror).
func standInWorker(t *testing.T) {
	js.Global().Call("eval", `globalThis.Worker = class {
		constructor(url) { globalThis.metriclabTestWorker = this; this.posted = [] }
		postMessage(m) { this.posted.push(m) }
		terminate() {}
	}`)
	t.Cleanup(func() {
		js.Global().Delete("Worker")
		js.Global().Delete("metriclabTestWorker")
	})
}

// TestWorkerMessageError: a message of the worker that the browser could
// not deserialise (its messageerror event) is that message's error,
// errUnreadMessage, and the worker lives; an error event is its death.
// Before, a messageerror was taken for the worker's death: the Verify page
// dropped its encoder and the worker, the playground's run crashed. The
// worker is a stand-in for the browser's Worker, under node.
func TestWorkerMessageError(t *testing.T) {
	standInWorker(t)
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
	standInWorker(t)
	for _, end := range []string{msg.StateDone, msg.StateFailed} {
		p := NewPlayground()
		p.trainers[0].worker = newWorker(false, func(string) {}, func(error) {}, func(string) {})
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
		p.trainers[0].worker.terminate()
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
		p.trainers[0].worker = newWorker(false, func(string) {}, func(error) {}, func(string) {})
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
		p.trainers[0].worker.terminate()
	}
}
