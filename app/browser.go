package app

import (
	"context"
	"fmt"
	"net/url"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The page's small browser helpers: downloads, file inputs, the viewer's
// canvas, the URL fragment, performance marks, the page's visibility.
// Outside a browser they do nothing.

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

// confirmed asks the user text in the browser's dialog and reports
// whether they confirmed it.
func confirmed(text string) bool {
	return app.Window().Call("confirm", text).Bool()
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

// Marks of the playground's start on the page's performance timeline
// (performance.mark), which the browser test reads: app.wasm's main
// started (compiled, instantiated, its packages initialised), the page
// mounted, and its first trainer ready (Train enabled).
const (
	MarkMain         = "metriclab-main"
	MarkMounted      = "metriclab-mounted"
	MarkTrainerReady = "metriclab-trainer-ready"
)

// MarkMainStarted puts MarkMain on the page's timeline: app.wasm's main
// calls it first.
func MarkMainStarted() { mark(MarkMain) }

// mark puts name on the page's performance timeline.
func mark(name string) {
	if app.IsClient {
		app.Window().Get("performance").Call("mark", name)
	}
}

// locationHash returns the page's URL fragment, with its "#".
func locationHash() string {
	h := app.Window().Get("location").Get("hash")
	if h.Type() != app.TypeString {
		return ""
	}
	return h.String()
}

// visibility says whether the page is seen, as every reads it: the
// browser's document (watchVisibility), or a test's.
type visibility interface {
	Hidden() bool           // the page is hidden now: its tab in the background, its window minimised
	Shown() <-chan struct{} // receives when the page is shown after it was hidden
}

// documentVisibility is the document's visibility: its visibilityState,
// and its visibilitychange events, which onChange passes to shown.
type documentVisibility struct {
	shown    chan struct{}
	onChange app.Func
}

// watchVisibility follows the document's visibility until c is done.
// Outside a browser the page is never hidden.
func watchVisibility(c context.Context) *documentVisibility {
	v := &documentVisibility{shown: make(chan struct{}, 1)}
	if !app.IsClient {
		return v
	}
	v.onChange = app.FuncOf(func(this app.Value, args []app.Value) any {
		if !v.Hidden() {
			select {
			case v.shown <- struct{}{}:
			default: // one is there already
			}
		}
		return nil
	})
	doc := app.Window().Get("document")
	doc.Call("addEventListener", "visibilitychange", v.onChange)
	context.AfterFunc(c, func() {
		doc.Call("removeEventListener", "visibilitychange", v.onChange)
		v.onChange.Release()
	})
	return v
}

// Hidden reports whether the document is hidden.
func (v *documentVisibility) Hidden() bool {
	return app.IsClient && app.Window().Get("document").Get("visibilityState").String() == "hidden"
}

// Shown receives when the document is shown after it was hidden.
func (v *documentVisibility) Shown() <-chan struct{} { return v.shown }

// replaceHash sets the page's URL fragment without a navigation or a new
// history entry, keeping the entry's state (WithNav's stamp, navEntry).
func replaceHash(hash string) {
	h := app.Window().Get("history")
	h.Call("replaceState", h.Get("state"), "", hash)
}

// replacePageURL sets the page's address to u through go-app's
// p.ReplaceURL, which tells go-app's page (its URL, og:url) and, in the
// browser, replaces the entry's state with null; the state before it
// (WithNav's stamp, navEntry) is written back.
func replacePageURL(p app.Page, u *url.URL) {
	h := app.Window().Get("history")
	state := h.Get("state")
	p.ReplaceURL(u)
	h.Call("replaceState", state, "")
}

// The largest files the page reads: a file is copied into the page's
// memory (4 GiB at most for wasm), and a model is copied again to its
// worker.
const (
	maxModelFile   = 256 << 20 // as the server's default --max-upload
	maxGalleryFile = 64 << 20  // thousands of 64×64 crops
)

// readFile reads the first file of the file input in as bytes and calls
// done on the browser's event loop; a file larger than max bytes is an
// error, before it is read.
func readFile(in app.Value, max int64, done func([]byte, error)) {
	files := in.Get("files")
	if !files.Truthy() || files.Length() == 0 {
		done(nil, fmt.Errorf("no file chosen"))
		return
	}
	if size := int64(files.Index(0).Get("size").Float()); size > max {
		in.Set("value", "")
		done(nil, fmt.Errorf("the file is %s; this page reads files of at most %s", mib(size), mib(max)))
		return
	}
	var ok, fail app.Func
	release := func() { ok.Release(); fail.Release() }
	ok = app.FuncOf(func(this app.Value, args []app.Value) any {
		release()
		arr := app.Window().Get("Uint8Array").New(args[0])
		b := make([]byte, arr.Length())
		app.CopyBytesToGo(b, arr)
		done(b, nil)
		return nil
	})
	fail = app.FuncOf(func(this app.Value, args []app.Value) any {
		release()
		done(nil, fmt.Errorf("%s", args[0].Call("toString").String()))
		return nil
	})
	files.Index(0).Call("arrayBuffer").Call("then", ok).Call("catch", fail)
	in.Set("value", "")
}

// nfc returns s in Unicode normal form C (the browser's
// String.prototype.normalize), so that "José" typed as e and a combining
// accent is the same name as with é; s itself outside a browser.
func nfc(s string) string {
	if !app.IsClient {
		return s
	}
	return app.Window().Get("String").Get("prototype").Get("normalize").Call("call", s, "NFC").String()
}

// nfkc returns s in Unicode normal form KC, the form names are compared
// in (msg.NameKey: "ａｌｉｃｅ" is "alice"), as the server's norm.NFKC
// gives it; s itself outside a browser.
func nfkc(s string) string {
	if !app.IsClient {
		return s
	}
	return app.Window().Get("String").Get("prototype").Get("normalize").Call("call", s, "NFKC").String()
}

// mib writes n bytes in MB (MiB), one decimal under 10.
func mib(n int64) string {
	if m := float64(n) / (1 << 20); m < 10 {
		return fmt.Sprintf("%.1f MB", m)
	}
	return fmt.Sprintf("%d MB", n>>20)
}
