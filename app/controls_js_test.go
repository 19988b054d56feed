//go:build js && wasm

package app

import (
	"reflect"
	"syscall/js"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// TestControlsParamsAfterLoss: a loss parameter typed and not taken (out
// of range: ArcFace's s, l2softmax's α), then another loss or D chosen,
// in the menu or by a link: the parameters' fields show the settings.
// The field in the place of the one typed in kept the text typed when
// its value drawn was the same, under the new loss's name (go-app
// updates an input by position, writing its value only when the one
// drawn changes; a link wrote the fields by id before the new ones were
// drawn).
func TestControlsParamsAfterLoss(t *testing.T) {
	for _, c := range []struct {
		from, typed string // the loss's link, the parameter typed 500 (out of range)
		name        string
		change      func(h *controlsHost)
		want        map[string]string
	}{
		{"", "s", "l2softmax chosen", func(h *controlsHost) { h.s = h.s.WithLoss("l2softmax") }, map[string]string{"ctl-param-alpha": "16"}},
		{"", "s", "a link to l2softmax", func(h *controlsHost) { h.s, _ = ParseHash("#loss=l2softmax"); h.links++ }, map[string]string{"ctl-param-alpha": "16"}},
		{"#loss=l2softmax", "alpha", "a link to normsoftmax", func(h *controlsHost) { h.s, _ = ParseHash("#loss=normsoftmax"); h.links++ }, map[string]string{"ctl-param-s": "16"}},
		{"", "s", "cosface chosen", func(h *controlsHost) { h.s = h.s.WithLoss("cosface") }, map[string]string{"ctl-param-s": "16", "ctl-param-m": "0.35"}},
		{"", "s", "D = 2 chosen", func(h *controlsHost) { h.s.Dim = 2 }, map[string]string{"ctl-param-s": "16", "ctl-param-m": "0.2"}},
	} {
		h, e, field := mountControls(t)
		h.ctx.Dispatch(func(app.Context) { h.s, _ = ParseHash(c.from) })
		e.ConsumeAll()
		field("ctl-param-"+c.typed).Set("value", "500")
		h.ctx.Dispatch(func(app.Context) { c.change(h) })
		e.ConsumeAll()
		for id, want := range c.want {
			if in := field(id); in.IsNull() {
				t.Errorf("%s typed 500, then %s: no %s", c.typed, c.name, id)
			} else if got := in.Get("value").String(); got != want {
				t.Errorf("%s typed 500, then %s: %s shows %q, want %q", c.typed, c.name, id, got, want)
			}
		}
	}
}

// TestControlsFieldsAfterNote: numbers typed and not taken (out of
// range), then the note of classes refused shown or gone: the fields
// after it are the same elements, each showing its setting, or what was
// typed in it. go-app matches an element's children by their place, and
// the note came in the place of the field after it: before, it drew each
// field after it again, or another's in its place (the epochs' field
// showed the seed typed), and the field the user had tabbed to from the
// classes lost the focus, with what was typed in it.
func TestControlsFieldsAfterNote(t *testing.T) {
	h, e, field := mountControls(t)
	ids := []string{"ctl-arch", "ctl-loss", "ctl-dim", "ctl-batch", "ctl-epochs", "ctl-seed"}
	field("ctl-seed").Set("value", "-1")
	for _, id := range redrawn(t, e, field, h.ctx, ids, func() { h.c.setClasses("12") }) {
		t.Errorf("classes 12 refused: #%s was drawn again", id)
	}
	epochs, seed := field("ctl-epochs").Get("value").String(), field("ctl-seed").Get("value").String()
	if epochs != "1" || seed != "-1" || h.c.classesNote == "" {
		t.Errorf("seed -1 typed, then classes 12: the epochs' field %q, the seed's %q, note %q; want 1, -1, the note", epochs, seed, h.c.classesNote)
	}
	field("ctl-epochs").Set("value", "0")
	for _, id := range redrawn(t, e, field, h.ctx, ids, func() { h.c.setClasses("0-4") }) {
		t.Errorf("classes 0-4 taken: #%s was drawn again", id)
	}
	epochs, seed = field("ctl-epochs").Get("value").String(), field("ctl-seed").Get("value").String()
	if epochs != "0" || seed != "-1" || h.c.classesNote != "" {
		t.Errorf("epochs 0 typed, then classes 0-4: the epochs' field %q, the seed's %q, note %q; want 0, -1, no note", epochs, seed, h.c.classesNote)
	}
}

// TestControlsFieldsAfterCompare: compare mode switched on, which
// hides the loss and its parameters, and off, which shows them, leaves
// the fields after them and the switch itself as they are. go-app
// matches an element's children by their place: before, each field
// after them was drawn again, or another's in its place, a number typed
// and not taken lost, and the switch just pressed lost the focus.
func TestControlsFieldsAfterCompare(t *testing.T) {
	h, e, field := mountControls(t)
	ids := []string{"ctl-dim", "ctl-batch", "ctl-seed", "ctl-compare"}
	for _, step := range []struct {
		what    string
		compare []string
	}{{"compare on", DefaultCompare()}, {"compare off", nil}} {
		for _, id := range redrawn(t, e, field, h.ctx, ids, func() { h.s.Compare = step.compare }) {
			t.Errorf("%s: #%s was drawn again", step.what, id)
		}
	}
}

// TestControlsFieldsAfterLink: values typed and not taken (numbers out
// of range, classes refused) stay in the fields as typed until a link is
// opened, after which every field shows the settings, all classes
// (empty) too. They stayed: go-app writes a value only when the one
// drawn changes, and an empty one not at all.
func TestControlsFieldsAfterLink(t *testing.T) {
	h, e, field := mountControls(t)
	typed := map[string]string{"ctl-batch": "99999", "ctl-lr": "20", "ctl-epochs": "0", "ctl-seed": "-1", "ctl-param-m": "7"}
	for id, v := range typed {
		field(id).Set("value", v)
	}
	h.ctx.Dispatch(func(app.Context) { h.s.Opt = "sgd" }) // a change of the form
	e.ConsumeAll()
	for id, v := range typed {
		if got := field(id).Get("value").String(); got != v {
			t.Errorf("%s typed, then the form changed: the field %q, want %q", id, got, v)
		}
	}
	h.ctx.Dispatch(func(app.Context) { h.s = DefaultSettings(); h.links++ }) // ArcFace's m at D = 3 its default 0.5
	e.ConsumeAll()
	want := map[string]string{"ctl-batch": "64", "ctl-lr": "0.01", "ctl-epochs": "1", "ctl-seed": "1", "ctl-param-m": "0.5"}
	for id, v := range want {
		if got := field(id).Get("value").String(); got != v {
			t.Errorf("%s typed, then a link to the settings: the field %q, want %q", typed[id], got, v)
		}
	}
	h.ctx.Dispatch(func(app.Context) { h.c.setClasses("12") })
	e.ConsumeAll()
	field("ctl-classes").Set("value", "12")
	h.ctx.Dispatch(func(app.Context) { h.links++ }) // a link to all classes
	e.ConsumeAll()
	if got := field("ctl-classes").Get("value").String(); got != "" || h.c.classesNote != "" {
		t.Errorf("classes 12 typed, then a link to all classes: the field %q, note %q; want it empty, no note", got, h.c.classesNote)
	}
}

// TestControlsParamOfPresetAtDefault: a loss parameter that the preset
// sets, typed at the loss's default, is read back from the link as set:
// the settings after the edit are those its link gives, and a D chosen
// then keeps the value typed, reloaded or not. The form dropped it as
// a default, which then followed D, while the link wrote it (else the
// preset's value would stand in): after the faces preset (CosFace, m =
// 0.2) and m = 0.35 typed at D = 128, D = 2 gave m = 0.14 on the page
// and 0.35 after a reload of its link.
func TestControlsParamOfPresetAtDefault(t *testing.T) {
	h, e, field := mountControls(t)
	h.ctx.Dispatch(func(app.Context) { h.s, _ = ParseHash("#preset=faces"); h.links++ })
	e.ConsumeAll()
	change := func(id, v string) {
		t.Helper()
		in := field(id)
		if in.IsNull() {
			t.Fatalf("no #%s", id)
		}
		in.Set("value", v)
		in.Get("listeners").Call("change", map[string]any{})
		e.ConsumeAll()
	}
	change("ctl-param-m", "0.35") // CosFace's default at D = 128
	if back, notices := ParseHash(h.s.Hash()); len(notices) > 0 || !reflect.DeepEqual(back, h.s) {
		t.Errorf("faces, m = 0.35 typed: settings %+v, its link %q reads back as %+v, %q", h.s, h.s.Hash(), back, notices)
	}
	reloaded, _ := ParseHash(h.s.Hash())
	change("ctl-dim", "2")
	reloaded.Dim = 2
	m := LossParams("cosface", 2)[1]
	if got, after := h.s.Param(m), reloaded.Param(m); got != 0.35 || after != 0.35 {
		t.Errorf("faces, m = 0.35 typed, then D = 2: m = %g, %g after a reload; want 0.35", got, after)
	}
}

// mountControls draws Controls of the default settings (ArcFace at
// D = 3) in a stand-in document (mountInDocument).
func mountControls(t *testing.T) (h *controlsHost, e app.TestEngine, field func(id string) js.Value) {
	t.Helper()
	h = &controlsHost{s: DefaultSettings()}
	e, field = mountInDocument(t, h)
	return h, e, field
}

// mountInDocument draws c in a stand-in document, under node: elements
// with their attributes and listeners (one of a type: listeners.click is
// what a click calls), an input's value ("" when new), an app.Raw's HTML
// as one element that holds it, enough for go-app's engine to draw and
// update a page, a title, a sessionStorage that holds nothing, and a
// history whose replaceState does nothing (the Jobs form writes the URL). field
// returns the element of an id, null when there is none.
func mountInDocument(t *testing.T, c app.Composer) (e app.TestEngine, field func(id string) js.Value) {
	t.Helper()
	js.Global().Call("eval", `{
	class Node {
		constructor(tag) {
			this.tagName = tag; this.childNodes = []; this.attrs = {}
			if (tag === "INPUT") this.value = ""
		}
		get firstChild() { return this.childNodes[0] ?? null }
		get firstElementChild() { return this.childNodes.find(n => n.tagName) ?? null }
		set innerHTML(html) { const n = new Node("RAW"); n.html = html; this.childNodes = [n] }
		appendChild(c) { this.childNodes.push(c); return c }
		replaceChild(n, o) { this.childNodes[this.childNodes.indexOf(o)] = n; return o }
		removeChild(c) { this.childNodes.splice(this.childNodes.indexOf(c), 1); return c }
		setAttribute(k, v) { this.attrs[k] = String(v) }
		removeAttribute(k) { delete this.attrs[k] }
		addEventListener(type, f) { (this.listeners ??= {})[type] = f }
		removeEventListener(type, f) { if (this.listeners?.[type] === f) delete this.listeners[type] }
		find(id) { return this.attrs.id === id ? this : this.childNodes.reduce((f, c) => f ?? c.find(id), null) }
	}
	const body = new Node("BODY")
	body.appendChild(new Node("DIV"))
	globalThis.document = {
		body, head: new Node("HEAD"), title: "",
		querySelector() { return null }, // the page's title sets a meta it makes (WithNav)
		createElement(tag) { return new Node(tag.toUpperCase()) },
		createTextNode(text) { const n = new Node(); n.nodeValue = text; return n },
		getElementById(id) { return body.find(id) },
	}
	globalThis.sessionStorage = { getItem() { return null }, setItem() {}, removeItem() {} }
	globalThis.history = { replaceState() {} }
	}`)
	t.Cleanup(func() {
		js.Global().Delete("document")
		js.Global().Delete("sessionStorage")
		js.Global().Delete("history")
	})
	e = app.NewTestEngine()
	if err := e.Load(c); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	return e, func(id string) js.Value { return js.Global().Get("document").Call("getElementById", id) }
}

// redrawn dispatches do on ctx and draws the page, and returns the ids
// of ids whose element is another after it: go-app drew it again, which
// reloads an <iframe>, leaves a <video>'s stream in an element no longer
// shown, and loses what was typed in a field and not yet taken. go-app
// matches an element's children by their place, so whatever comes and
// goes before them is drawn in a slot of its own (a div of display:
// contents), there when empty. An id with no element before fails t.
func redrawn(t *testing.T, e app.TestEngine, field func(id string) js.Value, ctx app.Context, ids []string, do func()) []string {
	t.Helper()
	before := make([]js.Value, len(ids))
	for i, id := range ids {
		if before[i] = field(id); before[i].IsNull() {
			t.Fatalf("no #%s", id)
		}
	}
	ctx.Dispatch(func(app.Context) { do() })
	e.ConsumeAll()
	var again []string
	for i, id := range ids {
		if !field(id).Equal(before[i]) {
			again = append(again, id)
		}
	}
	return again
}
