package app

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// TrainerScript is the URL of the Web Worker that runs a trainer
// (web/trainer.js, which loads trainer.wasm).
const TrainerScript = "/web/trainer.js"

// worker is the page's handle on one trainer's Web Worker. Its callbacks
// run on the browser's event loop and hand their work to the page with
// ctx.Dispatch. Outside a browser every call is a no-op.
type worker struct {
	js         app.Value
	onMessage  app.Func
	onError    app.Func
	terminated bool
}

// newWorker starts the Web Worker of TrainerScript. onMessage receives each
// message as a string (JSON), onCrash the reason the worker died.
func newWorker(onMessage func(data string), onCrash func(reason string)) *worker {
	w := &worker{js: app.Window().Get("Worker").New(TrainerScript)}
	w.onMessage = app.FuncOf(func(this app.Value, args []app.Value) any {
		data := args[0].Get("data")
		if data.Type() != app.TypeString {
			data = app.Window().Get("JSON").Call("stringify", data)
		}
		onMessage(data.String())
		return nil
	})
	w.onError = app.FuncOf(func(this app.Value, args []app.Value) any {
		e := args[0]
		reason := "the trainer's worker stopped"
		if m := e.Get("message"); m.Type() == app.TypeString && m.String() != "" {
			reason += ": " + m.String()
		}
		e.Call("preventDefault")
		onCrash(reason)
		return nil
	})
	w.js.Set("onmessage", w.onMessage)
	w.js.Set("onerror", w.onError)
	w.js.Set("onmessageerror", w.onError)
	return w
}

// spawnWorker starts a trainer's Web Worker whose messages and death are
// handed to the page's goroutine (ctx.Dispatch), to onMessage and onCrash,
// for as long as current says the worker is still the page's: a message of
// a worker since replaced is dropped. Outside a browser it returns nil.
func spawnWorker(ctx app.Context, current func(*worker) bool, onMessage func(data string), onCrash func(reason string)) *worker {
	if !app.IsClient {
		return nil
	}
	var w *worker
	w = newWorker(
		func(data string) {
			ctx.Dispatch(func(app.Context) {
				if current(w) {
					onMessage(data)
				}
			})
		},
		func(reason string) {
			ctx.Dispatch(func(app.Context) {
				if current(w) {
					onCrash(reason)
				}
			})
		},
	)
	return w
}

// post sends the message s (JSON) to the worker.
func (w *worker) post(s string) {
	if w == nil || w.terminated {
		return
	}
	w.js.Call("postMessage", s)
}

// terminate stops the worker and frees its callbacks.
func (w *worker) terminate() {
	if w == nil || w.terminated {
		return
	}
	w.terminated = true
	w.js.Call("terminate")
	w.js.Set("onmessage", nil)
	w.js.Set("onerror", nil)
	w.js.Set("onmessageerror", nil)
	w.onMessage.Release()
	w.onError.Release()
}
