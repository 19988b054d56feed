package app

import (
	"errors"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// TrainerScript is the URL of the Web Worker that runs a trainer
// (web/trainer.js, which loads trainer.wasm).
const TrainerScript = "/web/trainer.js"

// worker is the page's handle on one trainer's Web Worker. Its callbacks
// run on the browser's event loop and hand their work to the page with
// ctx.Dispatch. Outside a browser every call is a no-op.
type worker struct {
	js             app.Value
	onMessage      app.Func
	onMessageError app.Func
	onError        app.Func
	terminated     bool
}

// errUnreadMessage is the error of a message of the worker that the
// browser could not deserialise (its messageerror event): the worker
// lives, and that one message is lost, as a message the page cannot read.
var errUnreadMessage = errors.New("app: bad message from the trainer: the browser could not deserialise it")

// EarlyTrainer is the property of window under which the playground's
// first HTML leaves the Web Worker of TrainerScript that it started before
// app.wasm loaded (server: startScript), so that trainer.wasm
// compiles on another core meanwhile: {worker, messages (the data of the
// messages it posted so far), unread (how many more it posted that the
// browser could not deserialise), error (why it died, "" while it lives)}.
const EarlyTrainer = "metriclabEarlyTrainer"

// PageStarted is the function of window that the page calls once it has
// started (the playground: when its first trainer is ready); the server's
// first HTML defines it and registers the service worker then.
const PageStarted = "metriclabStarted"

// pageStarted calls window[PageStarted], when there is one.
func pageStarted() {
	if !app.IsClient {
		return
	}
	if f := app.Window().Get(PageStarted); f.Type() == app.TypeFunction {
		f.Invoke()
	}
}

// takeEarlyTrainer returns the worker of EarlyTrainer and forgets it there
// (one page takes it, once); ok is false when there is none.
func takeEarlyTrainer() (early app.Value, ok bool) {
	early = app.Window().Get(EarlyTrainer)
	if early.Type() != app.TypeObject || early.Get("worker").Type() != app.TypeObject {
		return early, false
	}
	app.Window().Set(EarlyTrainer, nil)
	return early, true
}

// newWorker starts the Web Worker of TrainerScript, or takes the one of
// EarlyTrainer when early is set and there is one. onMessage receives each
// message as a string (JSON), onUnread errUnreadMessage for a message
// that could not be deserialised, onCrash the reason the worker died; the
// early worker's messages, those the browser could not deserialise and
// its death so far are handed over first.
func newWorker(early bool, onMessage func(data string), onUnread func(err error), onCrash func(reason string)) *worker {
	pre, adopted := app.Value(nil), false
	if early {
		pre, adopted = takeEarlyTrainer()
	}
	w := &worker{}
	if adopted {
		w.js = pre.Get("worker")
	} else {
		w.js = app.Window().Get("Worker").New(TrainerScript)
	}
	w.onMessage = app.FuncOf(func(this app.Value, args []app.Value) any {
		data := args[0].Get("data")
		if data.Type() != app.TypeString {
			data = app.Window().Get("JSON").Call("stringify", data)
		}
		onMessage(data.String())
		return nil
	})
	w.onMessageError = app.FuncOf(func(this app.Value, args []app.Value) any {
		onUnread(errUnreadMessage)
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
	w.js.Set("onmessageerror", w.onMessageError)
	if adopted {
		msgs := pre.Get("messages")
		for i := range msgs.Length() {
			d := msgs.Index(i)
			if d.Type() != app.TypeString {
				d = app.Window().Get("JSON").Call("stringify", d)
			}
			onMessage(d.String())
		}
		if n := pre.Get("unread"); n.Type() == app.TypeNumber {
			for range n.Int() {
				onUnread(errUnreadMessage)
			}
		}
		if e := pre.Get("error"); e.Type() == app.TypeString && e.String() != "" {
			onCrash("the trainer's worker stopped: " + e.String())
		}
	}
	return w
}

// spawnWorker starts a trainer's Web Worker (or, when early is set, takes
// the one of EarlyTrainer if there is one) whose messages and death are
// handed to the page's goroutine (ctx.Dispatch), to onMessage, onUnread
// and onCrash (newWorker), for as long as current says the worker is still
// the page's: a message of a worker since replaced is dropped. Outside a
// browser it returns nil.
func spawnWorker(ctx app.Context, early bool, current func(*worker) bool, onMessage func(data string), onUnread func(err error), onCrash func(reason string)) *worker {
	if !app.IsClient {
		return nil
	}
	var w *worker
	w = newWorker(early,
		func(data string) {
			ctx.Dispatch(func(app.Context) {
				if current(w) {
					onMessage(data)
				}
			})
		},
		func(err error) {
			ctx.Dispatch(func(app.Context) {
				if current(w) {
					onUnread(err)
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

// postPorts sends the message s (JSON) to the worker with MessagePorts in
// its transfer list.
func (w *worker) postPorts(s string, ports []app.Value) {
	if w == nil || w.terminated {
		return
	}
	list := make([]any, len(ports))
	for i, p := range ports {
		list[i] = p
	}
	w.js.Call("postMessage", s, list)
}

// linkWorkers starts a data-parallel run: start (a "start" command of
// Workers = len(ws), built by cmd for worker k) goes to every worker, with
// a MessageChannel between worker 0 and each other worker: worker 0 gets
// the first ports, in worker order, worker k the second port of its
// channel.
func linkWorkers(ws []*worker, cmd func(k int) string) {
	if !app.IsClient || len(ws) == 0 {
		return
	}
	lead := make([]app.Value, 0, len(ws)-1)
	other := make([]app.Value, len(ws))
	for k := 1; k < len(ws); k++ {
		mc := app.Window().Get("MessageChannel").New()
		lead = append(lead, mc.Get("port1"))
		other[k] = mc.Get("port2")
	}
	ws[0].postPorts(cmd(0), lead)
	for k := 1; k < len(ws); k++ {
		ws[k].postPorts(cmd(k), []app.Value{other[k]})
	}
}

// browserCores returns navigator.hardwareConcurrency, 1 outside a browser
// or when the browser does not say.
func browserCores() int {
	if !app.IsClient {
		return 1
	}
	n := app.Window().Get("navigator").Get("hardwareConcurrency")
	if n.Type() != app.TypeNumber || n.Int() < 1 {
		return 1
	}
	return n.Int()
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
	w.onMessageError.Release()
	w.onError.Release()
}
