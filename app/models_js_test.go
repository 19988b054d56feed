//go:build js && wasm

package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall/js"
	"testing"
	"time"

	"metriclab/core/msg"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// modelsHost draws the Models page's list alone (the page's OnMount
// reads the server every modelsRefresh).
type modelsHost struct {
	app.Compo
	ctx app.Context
	m   *Models
}

func (h *modelsHost) OnMount(ctx app.Context) { h.ctx = ctx }
func (h *modelsHost) Render() app.UI          { return h.m.Render() }

// TestModelsRowsKeyed: a refresh that lists a model registered meanwhile
// (newest first: at the top), or leaves out one deleted in another tab,
// leaves each row's links to their own model. Before, go-app updated the
// rows by their place: the link of model a that had the keyboard's focus
// became b's "Use for verify" (or Download), and Enter opened b.
func TestModelsRowsKeyed(t *testing.T) {
	a := msg.ModelCard{ID: "a", Name: "first", Loss: "arcface", Dim: 3, Created: "2025-01-01T10:00:00Z"}
	b := msg.ModelCard{ID: "b", Name: "second", Loss: "arcface", Dim: 3, Created: "2025-01-01T11:00:00Z"}
	c := msg.ModelCard{ID: "c", Name: "third", Loss: "arcface", Dim: 3, Created: "2025-01-01T12:00:00Z"}
	for _, tt := range []struct {
		name          string
		before, after []msg.ModelCard
	}{
		{"a model registered", []msg.ModelCard{a, b}, []msg.ModelCard{a, b, c}},
		{"the newest model deleted", []msg.ModelCard{a, b, c}, []msg.ModelCard{a, b}},
	} {
		h := &modelsHost{m: NewModels()}
		e, field := mountInDocument(t, h)
		set := func(cards []msg.ModelCard) {
			h.ctx.Dispatch(func(app.Context) { h.m.SetCards(cards, nil) })
			e.ConsumeAll()
		}
		set(tt.before)
		var ids []string // the links of the models listed before and after
		for _, m := range tt.after {
			if slices.ContainsFunc(tt.before, func(o msg.ModelCard) bool { return o.ID == m.ID }) {
				ids = append(ids, "verify-"+m.ID, "download-"+m.ID, "open-"+m.ID)
			}
		}
		links := make([]js.Value, len(ids))
		hrefs := make([]string, len(ids))
		for i, id := range ids {
			links[i] = field(id)
			hrefs[i] = links[i].Get("attrs").Get("href").String()
		}
		set(tt.after)
		for i, id := range ids {
			// The element focused before: still its model's, or gone
			// (drawn anew).
			if got, href := links[i].Get("attrs").Get("id").String(), links[i].Get("attrs").Get("href").String(); got != id || href != hrefs[i] {
				t.Errorf("%s: the element of #%s (%s) is now #%s (%s)", tt.name, id, hrefs[i], got, href)
			}
		}
		for _, m := range tt.after {
			if got := field("verify-" + m.ID).Get("attrs").Get("href").String(); got != VerifyLink(m.ID) {
				t.Errorf("%s: #verify-%s links to %s", tt.name, m.ID, got)
			}
		}
	}
}

// mountModelsInDocument draws the Models page, its client f, in a stand-in
// document with a stand-in focus, showing f's cards.
func mountModelsInDocument(t *testing.T, f *modelsTransport) (e app.TestEngine, field func(id string) js.Value) {
	t.Helper()
	h := &modelsHost{m: NewModels()}
	h.m.Client = &Client{T: f}
	e, field = mountInDocument(t, h)
	h.m.mounted = h.ctx // as the page's OnMount sets it
	h.ctx.Dispatch(func(app.Context) { h.m.SetCards(f.cards, nil) })
	e.ConsumeAll()
	standInFocus(t)
	return e, field
}

// modelsTransport answers the Models page in the browser's fetch's place:
// the list, and each DELETE, refused with refuse (401) when it is not "",
// else done (204).
type modelsTransport struct {
	Transport // no event stream

	mu      sync.Mutex
	cards   []msg.ModelCard
	deletes []string // the paths of the DELETEs, as sent
	refuse  string
	posts   []string // the paths of the uploads and renames, as sent
	bodies  []string // the uploads' bodies
}

func (f *modelsTransport) Do(ctx context.Context, r Request) (Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == "GET" && r.Path == "/api/models":
		b, _ := json.Marshal(f.cards)
		return Response{Status: 200, Body: b}, nil
	case r.Method == "POST" && strings.HasPrefix(r.Path, "/api/models?"):
		f.posts, f.bodies = append(f.posts, r.Path), append(f.bodies, string(r.Body))
		c := msg.ModelCard{ID: "u", Name: strings.TrimPrefix(r.Path, "/api/models?name="), Created: "2026-01-01T00:00:00Z"}
		f.cards = append(f.cards, c)
		b, _ := json.Marshal(c)
		return Response{Status: 201, Body: b}, nil
	case r.Method == "POST":
		f.posts = append(f.posts, r.Path)
		id, name, _ := strings.Cut(strings.TrimPrefix(r.Path, "/api/models/"), "/rename?name=")
		name, _ = url.QueryUnescape(name)
		for i := range f.cards {
			if f.cards[i].ID == id {
				f.cards[i].Name = name
				b, _ := json.Marshal(f.cards[i])
				return Response{Status: 200, Body: b}, nil
			}
		}
	case r.Method == "DELETE":
		f.deletes = append(f.deletes, r.Path)
		if f.refuse != "" {
			b, _ := json.Marshal(msg.ErrorBody{Error: f.refuse})
			return Response{Status: 401, Body: b}, nil
		}
		id := strings.TrimPrefix(r.Path, "/api/models/")
		f.cards = slices.DeleteFunc(f.cards, func(c msg.ModelCard) bool { return c.ID == id })
		return Response{Status: 204}, nil
	}
	return Response{Status: 404, Body: []byte(`{"error":"no route"}`)}, nil
}

// standInFocus makes the elements of mountInDocument's stand-in
// document take the focus, and say their id, as a browser's do.
func standInFocus(t *testing.T) {
	js.Global().Call("eval", `{
		const proto = Object.getPrototypeOf(document.body)
		proto.focus = function() { document.activeElement = this }
		Object.defineProperty(proto, "id", { get() { return this.attrs.id ?? "" }, configurable: true })
		document.activeElement = document.body
	}`)
	t.Cleanup(func() {
		proto := js.Global().Get("Object").Call("getPrototypeOf", js.Global().Get("document").Get("body"))
		proto.Delete("focus")
		proto.Delete("id")
	})
}

// focusedID returns the id of the element that has the focus in
// standInFocus's stand-in document.
func focusedID() string {
	return js.Global().Get("document").Get("activeElement").Get("id").String()
}

// TestModelsDeleteKeys: a row's Delete, from the keyboard as a screen
// reader's user presses it (its two steps: TestConfirmStep). Confirm
// delete sends DELETE /api/models/ID, the row goes, the note says so,
// and the focus goes to the next row's Delete (the row before's for the
// last row; the heading for the last model), not to <body> with the
// row's buttons; where the user has moved it meanwhile, it stays. A
// refusal keeps the row, and says why. Before, the page had no Delete.
func TestModelsDeleteKeys(t *testing.T) {
	a := msg.ModelCard{ID: "a", Name: "first", Loss: "arcface", Dim: 3, Created: "2025-01-01T10:00:00Z"}
	b := msg.ModelCard{ID: "b", Name: "second", Loss: "arcface", Dim: 3, Created: "2025-01-01T11:00:00Z"}
	c := msg.ModelCard{ID: "c", Name: "third", Loss: "arcface", Dim: 3, Created: "2025-01-01T12:00:00Z"}
	f := &modelsTransport{cards: []msg.ModelCard{a, b, c}}
	e, field := mountModelsInDocument(t, f)
	press := func(id string) { t.Helper(); clickOn(t, e, field, id) }
	there := func(id string) bool { return !field(id).IsNull() }

	press("delete-b")
	press("confirm-delete-b")
	if there("model-b") || !slices.Equal(f.deletes, []string{"/api/models/b"}) || focusedID() != "delete-a" {
		t.Errorf("after Confirm delete of b: its row there %v, DELETEs %q, the focus on #%s; want the row gone, DELETE /api/models/b, the focus on a's Delete", there("model-b"), f.deletes, focusedID())
	}
	if got := nodeText(field("models-note")); got != "deleted second" {
		t.Errorf("#models-note %q, want deleted second", got)
	}

	// The focus moved meanwhile, to a link of another row, stays there.
	press("delete-a")
	field("confirm-delete-a").Call("focus")
	field("confirm-delete-a").Get("listeners").Call("click", map[string]any{})
	field("open-c").Call("focus")
	e.ConsumeAll()
	if there("model-a") || focusedID() != "open-c" {
		t.Errorf("after Confirm delete of a, the focus moved to #open-c: row a there %v, the focus on #%s; want it gone, the focus left on #open-c", there("model-a"), focusedID())
	}

	f.refuse = "this server needs its token for changes (Authorization: Bearer TOKEN)"
	press("delete-c")
	press("confirm-delete-c")
	want := "could not delete third: " + f.refuse + " (401)"
	if !there("model-c") || nodeText(field("models-error")) != want || focusedID() != "delete-c" {
		t.Errorf("a delete refused: row c there %v, #models-error %q, the focus on #%s; want the row kept, %q, the focus on its Delete", there("model-c"), nodeText(field("models-error")), focusedID(), want)
	}
	f.refuse = ""
	press("delete-c")
	press("confirm-delete-c")
	if there("model-c") || focusedID() != "models-title" || !field("models-error").IsNull() {
		t.Errorf("after the delete of the last model: row there %v, the focus on #%s, #models-error there %v; want none, the focus on the heading, no error", there("model-c"), focusedID(), !field("models-error").IsNull())
	}
}

// TestModelsNoteKeepsElement: the polite #models-note keeps its element
// while the alert of a refused delete comes and goes, so that a screen
// reader, which reads a live region's changes, reads "deleted NAME" as
// the note's. go-app matches an element's children by their place: the
// alert was drawn before the note, and when it came the note's element
// became the alert, the note drawn anew; when it went, the alert's
// element became the note again, its role turned back as its text came.
func TestModelsNoteKeepsElement(t *testing.T) {
	h := &modelsHost{m: NewModels()}
	e, field := mountInDocument(t, h)
	h.ctx.Dispatch(func(app.Context) { h.m.SetCards([]msg.ModelCard{{ID: "a", Name: "first"}}, nil) })
	e.ConsumeAll()
	for _, step := range []struct {
		what string
		do   func()
	}{
		{"a delete refused", func() { h.m.delErr, h.m.note = "could not delete first: no (401)", "" }},
		{"the next one done", func() { h.m.delErr, h.m.note = "", "deleted first" }},
	} {
		for _, id := range redrawn(t, e, field, h.ctx, []string{"models-note"}, step.do) {
			t.Errorf("%s: #%s was drawn again", step.what, id)
		}
	}
	if el := field("models-note"); el.Get("attrs").Get("role").String() != "status" || nodeText(el) != "deleted first" {
		t.Errorf("#models-note: role %s, %q; want status, deleted first", el.Get("attrs").Get("role"), nodeText(el))
	}
}

// TestModelsRenameKeys: a row's Rename from the keyboard. Rename gives
// the focus to the form's field, which holds the model's name; Escape in
// it (or on Cancel) closes the form, the focus back on Rename, nothing
// sent. The name typed and submitted (Enter in the field: the form's
// submit, its default prevented) is sent, the row shows it, and the
// focus is back on Rename. Before, the page had no Rename.
func TestModelsRenameKeys(t *testing.T) {
	a := msg.ModelCard{ID: "a", Name: "first", Loss: "arcface", Dim: 3, Created: "2025-01-01T10:00:00Z"}
	b := msg.ModelCard{ID: "b", Name: "second", Loss: "arcface", Dim: 3, Created: "2025-01-01T11:00:00Z"}
	f := &modelsTransport{cards: []msg.ModelCard{a, b}}
	e, field := mountModelsInDocument(t, f)
	there := func(id string) bool { return !field(id).IsNull() }
	send := func(id, event string, ev any) {
		t.Helper()
		el := field(id)
		if el.IsNull() {
			t.Fatalf("no #%s", id)
		}
		el.Get("listeners").Call(event, ev)
		e.ConsumeAll()
	}
	rename := func() {
		t.Helper()
		field("rename-b").Call("focus")
		send("rename-b", "click", map[string]any{})
	}

	rename()
	if there("rename-b") || focusedID() != "rename-name-b" || field("rename-name-b").Get("value").String() != "second" {
		t.Errorf("after Rename of b: #rename-b there %v, the focus on #%s; want the form, the focus on its field holding second", there("rename-b"), focusedID())
	}
	for _, on := range []string{"rename-name-b", "rename-cancel-b"} {
		send(on, "keydown", map[string]any{"key": "Escape"})
		if !there("rename-b") || there("rename-form-b") || focusedID() != "rename-b" || len(f.posts) != 0 {
			t.Errorf("Escape on #%s: #rename-b there %v, the form %v, the focus on #%s, sent %q; want Rename back with the focus, nothing sent", on, there("rename-b"), there("rename-form-b"), focusedID(), f.posts)
		}
		rename()
	}
	field("rename-name-b").Set("value", "the second")
	send("rename-name-b", "input", map[string]any{})
	prevented := js.Global().Call("eval", `({ defaultPrevented: false, preventDefault() { this.defaultPrevented = true } })`)
	send("rename-form-b", "submit", prevented)
	if !prevented.Get("defaultPrevented").Bool() {
		t.Error("the rename form's submit was not prevented: the browser would load the page again")
	}
	want := "/api/models/b/rename?name=the+second"
	if !slices.Equal(f.posts, []string{want}) || there("rename-form-b") || focusedID() != "rename-b" || nodeText(field("models-note")) != "renamed second to the second" {
		t.Errorf("after the rename: sent %q, the form there %v, the focus on #%s, note %q; want %s, the form closed, the focus on Rename, its note",
			f.posts, there("rename-form-b"), focusedID(), nodeText(field("models-note")), want)
	}
	if got := nodeText(field("model-b")); !strings.Contains(got, "the second") {
		t.Errorf("row b reads %q, want the new name", got)
	}
}

// TestModelsDropUpload: a file dropped on the page is read and uploaded
// as the server takes it (its bytes as the body, named by the file's
// name), the drop's default (the browser opening the file) prevented;
// the model shows. A drop of no file sends nothing. Before, the page
// took no file.
func TestModelsDropUpload(t *testing.T) {
	f := &modelsTransport{}
	e, field := mountModelsInDocument(t, f)
	drop := func(files string) js.Value {
		ev := js.Global().Call("eval", `({ defaultPrevented: false, preventDefault() { this.defaultPrevented = true }, dataTransfer: { files: `+files+` } })`)
		field("models-page").Get("listeners").Call("drop", ev)
		e.ConsumeAll()
		return ev
	}
	if ev := drop(`[]`); !ev.Get("defaultPrevented").Bool() || len(f.posts) != 0 {
		t.Errorf("a drop of no file: prevented %v, sent %q; want prevented, nothing sent", ev.Get("defaultPrevented").Bool(), f.posts)
	}
	ev := drop(`[{ name: "mine.safetensors", size: 5, arrayBuffer() { return Promise.resolve(new TextEncoder().encode("bytes").buffer) } }]`)
	for i := 0; i < 100 && len(f.cards) == 0; i++ { // the file's promise, then the upload's
		time.Sleep(10 * time.Millisecond)
		e.ConsumeAll()
	}
	for i := 0; i < 100 && !there(field, "model-u"); i++ {
		time.Sleep(10 * time.Millisecond)
		e.ConsumeAll()
	}
	if !ev.Get("defaultPrevented").Bool() || !slices.Equal(f.posts, []string{"/api/models?name=mine"}) || !slices.Equal(f.bodies, []string{"bytes"}) || !there(field, "model-u") {
		t.Errorf("a drop of mine.safetensors: prevented %v, sent %q with %q, its row there %v; want prevented, POST /api/models?name=mine of its bytes, its row",
			ev.Get("defaultPrevented").Bool(), f.posts, f.bodies, there(field, "model-u"))
	}
}

// there reports whether the stand-in document has an element of id.
func there(field func(id string) js.Value, id string) bool { return !field(id).IsNull() }

// clickOn focuses the element of id of the stand-in document and clicks
// it, as a click on a button does, and lets the page take what comes of
// it.
func clickOn(t *testing.T, e app.TestEngine, field func(id string) js.Value, id string) {
	t.Helper()
	el := field(id)
	if el.IsNull() {
		t.Fatalf("no #%s", id)
	}
	el.Call("focus")
	el.Get("listeners").Call("click", map[string]any{})
	e.ConsumeAll()
}

// TestUploadProgressXHR: an upload that asks for its progress goes by
// XMLHttpRequest (fetch tells nothing of a body's progress), as fetch
// would send it: POST /api/models?name=, the token, the file's bytes as
// an octet stream; the browser's upload.onprogress reaches the caller,
// and the answer is read as fetch's is, a refusal in the server's words
// with its status. Its context done aborts it (xhr.abort), and the call
// returns context.Canceled. Before, the page's upload went by fetch, and
// nothing told how much of it had gone.
func TestUploadProgressXHR(t *testing.T) {
	js.Global().Call("eval", `globalThis.XMLHttpRequest = class {
		constructor() { this.headers = {}; this.upload = {}; globalThis.lastXHR = this }
		open(method, url) { this.method = method; this.url = url }
		setRequestHeader(k, v) { this.headers[k] = v }
		getResponseHeader(k) { return null }
		send(body) {
			this.body = new TextDecoder().decode(body)
			setTimeout(() => {
				this.upload.onprogress({ lengthComputable: true, loaded: 2, total: 5 })
				const a = globalThis.xhrAnswer
				if (!a) return // held until aborted
				this.status = a.status
				this.response = new TextEncoder().encode(a.body).buffer
				this.onload({})
			}, 0)
		}
		abort() { this.aborted = true; setTimeout(() => this.onabort({}), 0) }
	}`)
	t.Cleanup(func() {
		js.Global().Delete("XMLHttpRequest")
		js.Global().Delete("lastXHR")
		js.Global().Delete("xhrAnswer")
	})
	c := &Client{T: fetchTransport{}, Token: func() string { return "tok" }}
	var told [][2]int64
	progress := func(sent, total int64) { told = append(told, [2]int64{sent, total}) }

	js.Global().Set("xhrAnswer", map[string]any{"status": 201, "body": `{"id":"u","name":"mine"}`})
	card, err := c.UploadModelProgress(context.Background(), "mine", []byte("bytes"), progress)
	x := js.Global().Get("lastXHR")
	if x.IsUndefined() {
		t.Fatalf("no XMLHttpRequest was sent (the upload: %+v, %v)", card, err)
	}
	if err != nil || card.ID != "u" || card.Name != "mine" {
		t.Errorf("the upload: card %+v, %v; want u, named mine", card, err)
	}
	if x.Get("method").String() != "POST" || x.Get("url").String() != "/api/models?name=mine" || x.Get("body").String() != "bytes" ||
		x.Get("headers").Get("Authorization").String() != "Bearer tok" || x.Get("headers").Get("Content-Type").String() != "application/octet-stream" {
		t.Errorf("sent %s %s with %q, headers %s; want POST /api/models?name=mine of the file's bytes, with the token, as an octet stream",
			x.Get("method"), x.Get("url"), x.Get("body"), js.Global().Get("JSON").Call("stringify", x.Get("headers")))
	}
	if !slices.Equal(told, [][2]int64{{2, 5}}) {
		t.Errorf("progress told %v, want 2 of 5", told)
	}

	js.Global().Set("xhrAnswer", map[string]any{"status": 409, "body": `{"error":"name taken: model b is named \"mine\" already"}`})
	if _, err := c.UploadModelProgress(context.Background(), "mine", []byte("bytes"), progress); err == nil || err.Error() != `name taken: model b is named "mine" already (409)` {
		t.Errorf("a refused upload: %v; want the server's words with 409", err)
	}

	js.Global().Delete("xhrAnswer")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = c.UploadModelProgress(ctx, "mine", []byte("bytes"), progress)
	if !errors.Is(err, context.Canceled) || !js.Global().Get("lastXHR").Get("aborted").Truthy() {
		t.Errorf("an upload whose context is done: %v, aborted %v; want context.Canceled, the request aborted", err, js.Global().Get("lastXHR").Get("aborted"))
	}
}
