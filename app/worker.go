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

// download offers data to the user as a file called name, of MIME type
// mime, through a temporary object URL.
func download(name, mime string, data []byte) {
	arr := app.Window().Get("Uint8Array").New(len(data))
	app.CopyBytesToJS(arr, data)
	blob := app.Window().Get("Blob").New([]any{arr}, map[string]any{"type": mime})
	url := app.Window().Get("URL").Call("createObjectURL", blob)
	downloadURL(name, url.String())
	var revoke app.Func
	revoke = app.FuncOf(func(this app.Value, args []app.Value) any {
		app.Window().Get("URL").Call("revokeObjectURL", url)
		revoke.Release()
		return nil
	})
	app.Window().Call("setTimeout", revoke, 10000)
}

// downloadURL offers the resource at url (an object or data URL) as a file
// called name.
func downloadURL(name, url string) {
	doc := app.Window().Get("document")
	a := doc.Call("createElement", "a")
	a.Set("href", url)
	a.Set("download", name)
	a.Get("style").Set("display", "none")
	doc.Get("body").Call("appendChild", a)
	a.Call("click")
	a.Call("remove")
}

// canvasPNG returns the viewer's canvas in the iframe of id as a PNG data
// URL, or "" when the iframe or its canvas is not there (yet).
func canvasPNG(iframeID string) string {
	f := app.Window().Get("document").Call("getElementById", iframeID)
	if !f.Truthy() {
		return ""
	}
	doc := f.Get("contentDocument")
	if !doc.Truthy() {
		return ""
	}
	c := doc.Call("querySelector", "canvas")
	if !c.Truthy() {
		return ""
	}
	return c.Call("toDataURL", "image/png").String()
}

// locationHash returns the page's URL fragment, with its "#".
func locationHash() string {
	h := app.Window().Get("location").Get("hash")
	if h.Type() != app.TypeString {
		return ""
	}
	return h.String()
}

// replaceHash sets the page's URL fragment without a navigation or a new
// history entry.
func replaceHash(hash string) {
	app.Window().Get("history").Call("replaceState", nil, "", hash)
}
