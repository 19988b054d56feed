//go:build js && wasm

package app

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall/js"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// jobFormHost draws the Jobs page's form alone (the page's OnMount reads
// the URL and the server).
type jobFormHost struct {
	app.Compo
	ctx app.Context
	j   *Jobs
}

func (h *jobFormHost) OnMount(ctx app.Context) { h.ctx = ctx }
func (h *jobFormHost) Render() app.UI          { return h.j.renderForm() }

// TestJobFormGlyphsAfterLoss: glyph classes typed and refused, then the
// loss triplet chosen, which takes none: the field, disabled, shows 0
// and no mark; another loss chosen then: the field shows the settings'
// glyph classes, with no mark. Before, the disabled field kept the text
// refused where the value drawn stayed 0, and the loss chosen after it
// showed that text marked again, or the mark on the preset's 500.
func TestJobFormGlyphsAfterLoss(t *testing.T) {
	for _, preset := range []string{"none", "digits"} { // glyph classes 0, 500
		h := &jobFormHost{j: NewJobs()}
		e, field := mountInDocument(t, h)
		edit := func(key, value string) {
			h.ctx.Dispatch(func(app.Context) { h.j.edit(key, value) })
			e.ConsumeAll()
		}
		edit("preset", preset)
		glyphs := field("job-glyphs").Get("value").String()
		field("job-glyphs").Set("value", "x")
		edit("glyphs", "x")
		if in := field("job-glyphs"); in.Get("attrs").Get("aria-invalid").IsUndefined() {
			t.Fatalf("preset %s, glyphs x typed: the field is not marked invalid", preset)
		}
		for _, c := range []struct{ loss, value string }{{"triplet", "0"}, {"arcface", glyphs}} {
			edit("loss", c.loss)
			in := field("job-glyphs")
			value, marked, disabled := in.Get("value").String(), !in.Get("attrs").Get("aria-invalid").IsUndefined(), in.Get("disabled").Truthy()
			if value != c.value || marked || disabled != (c.loss == "triplet") {
				t.Errorf("preset %s, glyphs x typed, then %s: the field shows %q, marked %v, disabled %v; want %q, unmarked, disabled %v",
					preset, c.loss, value, marked, disabled, c.value, c.loss == "triplet")
			}
		}
	}
}

// jobsHost draws the Jobs page without its OnMount.
type jobsHost struct {
	app.Compo
	ctx app.Context
	j   *Jobs
}

func (h *jobsHost) OnMount(ctx app.Context) { h.ctx = ctx }
func (h *jobsHost) Render() app.UI          { return h.j.Render() }

// TestJobsErrorsKeepLayout: an error line (the API's, the list's, the
// event stream's) or the note that come or go leave the elements drawn
// after them as they are: the watched job's viewer, the form's fields,
// the Train button. go-app matches an element's children by their
// place, and these were drawn in the place after the lines: before,
// each line that came or went (the list unread for a moment, "job j9
// queued") drew the layout again, the job's viewer reloaded (its sphere
// started anew, with no picture until the next snapshot) and what was
// typed in a field lost. The alerts keep theirs too: before, the form's
// error that came took the element of the Cancel's or the job's alert
// drawn after it, and theirs were drawn anew, which a screen reader
// read again as new alerts (seen: "#jobs-job-error was drawn again").
func TestJobsErrorsKeepLayout(t *testing.T) {
	j := NewJobs()
	w := NewJobWatch(msg.Job{ID: "j1", State: msg.JobRunning})
	j.watch, j.channel = &w, "metriclab-job-test"
	j.actErr, j.jobErr = "cancel j1: job j1 is done (409)", "the job was not queued: the server is busy"
	h := &jobsHost{j: j}
	e, field := mountInDocument(t, h)
	for _, step := range []struct {
		what string
		do   func()
	}{
		{"the form's error before the alerts shown", func() { j.err = "epochs=x is not a whole number: not used" }},
		{"the form's error gone", func() { j.err = "" }},
	} {
		for _, id := range redrawn(t, e, field, h.ctx, []string{"jobs-act-error", "jobs-job-error"}, step.do) {
			t.Errorf("%s: #%s was drawn again", step.what, id)
		}
	}
	h.ctx.Dispatch(func(app.Context) { j.actErr, j.jobErr = "", "" })
	e.ConsumeAll()
	// The polite lines too: the alerts came before them, and took their
	// elements, a screen reader's live regions, as they came.
	ids := []string{"jobs-list-error", "jobs-sets-error", "jobs-events-error", "jobs-watch-error", "jobs-note", "jobs-error", "jobs-act-error", "jobs-job-error", "job-viewer", "job-classes", "job-seed", "job-token", "btn-submit"}
	for _, step := range []struct {
		what string
		do   func()
	}{
		{"an error", func() { j.err = "epochs=x is not a whole number: not used" }},
		{"a job not queued", func() { j.jobErr = "the job was not queued: the server is busy" }},
		{"the list unread", func() { j.listErr = "the job list could not be read" }},
		{"the data sets unread", func() { j.setsErr = "the data sets could not be read: the server could not be reached" }},
		{"the events unread", func() { j.eventsErr = "the job's events could not be read" }},
		{"an event not taken", func() { j.watchErr = "an event of job j1 was not taken: app: unknown job state" }},
		{"a cancel refused", func() { j.actErr = "cancel j1: job j1 is done (409)" }},
		{"a note", func() { j.note = "job j9 queued" }},
		{"all gone", func() {
			j.err, j.jobErr, j.actErr, j.listErr, j.setsErr, j.eventsErr, j.watchErr, j.note = "", "", "", "", "", "", "", ""
		}},
	} {
		for _, id := range redrawn(t, e, field, h.ctx, ids, step.do) {
			t.Errorf("%s: #%s was drawn again", step.what, id)
		}
	}
}

// TestJobFormInURL: each field of the Jobs form taken is written to the
// page's URL hash, as the playground writes its settings, so that a
// reload, or Back from the playground that "Open these settings in the
// playground" opened, shows the form as the user left it (OnMount reads
// the hash back); a field refused writes nothing. Before, the hash stayed
// the one the page was opened with, and the form came back without the
// user's changes. Under node, with a stand-in history.
func TestJobFormInURL(t *testing.T) {
	js.Global().Call("eval", `globalThis.history = { url: "", replaceState(state, title, url) { this.url = url } }`)
	defer js.Global().Delete("history")
	url := func() string { return js.Global().Get("history").Get("url").String() }
	j := NewJobs()
	for _, c := range [][2]string{{"loss", "cosface"}, {"epochs", "3"}, {"wd", "0.001"}} {
		j.edit(c[0], c[1])
	}
	s, notices := ParseHash(url())
	if s = jobSettings(s); len(notices) > 0 || s.Hash() != j.form.Hash() || s.Loss != "cosface" || s.Epochs != 3 || s.WeightDecay == nil || *s.WeightDecay != 0.001 {
		t.Errorf("the URL after the form's edits: %q (notices %q), read back as %q; want the form's %q", url(), notices, s.Hash(), j.form.Hash())
	}
	written := url()
	j.edit("epochs", "x")
	if url() != written {
		t.Errorf("epochs x, refused, wrote the URL %q; want it as it was, %q", url(), written)
	}
}

// TestJobsPlaygroundLink: a link of the playground opened on the Jobs
// page, whose form trains one loss on the server. Its compare= is not
// taken, and the error line (an alert, as the link's other settings not
// used) says so and which loss the form trains; its workers= (the
// playground's Web Workers, of no meaning to a server job) is dropped,
// without a word, from the links the form writes: the page's URL after an
// edit, and "Open these settings in the playground" (the playground then
// takes its own default, the browser's cores). Before, the form queued
// the link's loss alone without a word, and kept workers= in its links.
// Under node, with a stand-in history.
func TestJobsPlaygroundLink(t *testing.T) {
	for _, c := range []struct {
		hash, err string
	}{
		{"#loss=arcface&dim=2&compare=softmax,cosface&workers=4", "compare=softmax,cosface is the playground's: this form trains one loss (arcface)"},
		{"#loss=cosface&compare=1", "compare=softmax,sphereface,cosface,arcface is the playground's: this form trains one loss (cosface)"},
		{"#loss=cosface&compare=1&dim=5", "dim=5 is not one of 2, 3, 8, 16, 64, 128: using 3; compare=softmax,sphereface,cosface,arcface is the playground's: this form trains one loss (cosface)"},
		{"#loss=arcface&workers=4", ""},
	} {
		j := NewJobs()
		h := &jobsHost{j: j}
		e, field := mountInDocument(t, h)
		js.Global().Call("eval", `globalThis.history = { url: "", replaceState(state, title, url) { this.url = url } }`)
		h.ctx.Dispatch(func(app.Context) { j.open(c.hash) })
		e.ConsumeAll()
		if j.err != c.err {
			t.Errorf("%s: the error line %q, want %q", c.hash, j.err, c.err)
		}
		if alert := js.Global().Get("document").Call("getElementById", "jobs-error"); !alert.Truthy() || nodeText(alert) != c.err || alert.Get("attrs").Get("role").String() != "alert" {
			t.Errorf("%s: #jobs-error %v, want an alert of %q", c.hash, alert, c.err)
		}
		playground := field("job-playground").Get("attrs").Get("href").String()
		h.ctx.Dispatch(func(app.Context) { j.edit("epochs", "2") })
		e.ConsumeAll()
		for what, link := range map[string]string{"the playground's link": playground, "the URL after an edit": js.Global().Get("history").Get("url").String()} {
			s, _ := ParseHash(strings.TrimPrefix(link, "/"))
			if strings.Contains(link, "workers=") || strings.Contains(link, "compare=") || s.Loss != j.form.Loss || s.Dim != j.form.Dim {
				t.Errorf("%s: %s %q; want the form's loss and D, no workers= nor compare=", c.hash, what, link)
			}
		}
	}
}

// jobsLinkHost draws the Jobs page, reads its link as its OnMount does
// (readLink; OnMount also reads the server's list every few seconds, a
// goroutine the test engine would wait for), and is dismounted as the
// page is.
type jobsLinkHost struct {
	app.Compo
	ctx app.Context
	j   *Jobs
}

func (h *jobsLinkHost) OnMount(ctx app.Context) {
	h.ctx, h.j.mounted = ctx, ctx
	h.j.readLink(ctx)
}
func (h *jobsLinkHost) OnDismount()    { h.j.OnDismount() }
func (h *jobsLinkHost) Render() app.UI { return h.j.Render() }

// standInLocation gives the window under node a location of fragment
// hash, listeners, and metriclabHash(hash), which sets the fragment and
// says hashchange, as a browser does when a link of the page's path is
// pasted in the address bar; once mounted (mountInDocument gives its own
// history), standInHistory's replaceState sets the fragment and, as a
// browser's, says nothing.
func standInLocation(t *testing.T, hash string) {
	t.Helper()
	js.Global().Call("eval", `globalThis.metriclabListeners = []
	globalThis.addEventListener = (type, f) => { metriclabListeners.push({ type, f }) }
	globalThis.removeEventListener = (type, f) => { metriclabListeners = metriclabListeners.filter(l => l.type !== type || l.f !== f) }
	globalThis.location = { hash: "" }
	globalThis.metriclabHash = hash => {
		location.hash = hash
		for (const l of metriclabListeners.filter(l => l.type === "hashchange")) l.f.call(globalThis, {})
	}`)
	js.Global().Get("location").Set("hash", hash)
	t.Cleanup(func() {
		js.Global().Call("eval", `for (const k of ["metriclabListeners", "addEventListener", "removeEventListener", "location", "metriclabHash"]) delete globalThis[k]`)
	})
}

func standInHistory() {
	js.Global().Call("eval", `globalThis.history = { state: null, replaceState(state, title, url) { location.hash = new URL(url, "http://metriclab/jobs" + location.hash).hash } }`)
}

// TestJobsLinkChanged: a link of the Jobs page pasted in the address bar
// while the page is open changes only the URL's fragment, which loads
// nothing: the browser says hashchange, and the form takes the new
// link's settings as a link opened fresh does (open), with its notes in
// #jobs-error, each text field showing its setting (a text typed and
// refused before, marked, is gone); the list and the watched job stay as
// they were, the job's viewer not drawn again. An empty fragment, or "#",
// leaves the form as it is. Once the page is dismounted the window has no
// hashchange listener left. Before, OnMount alone read the link: the form
// kept the first link's settings, and Train queued them. Under node, with
// a stand-in window, location and history.
func TestJobsLinkChanged(t *testing.T) {
	standInLocation(t, "#loss=arcface&epochs=3")
	j := NewJobs()
	h := &jobsLinkHost{j: j}
	e, field := mountInDocument(t, h)
	standInHistory()
	if j.form.Loss != "arcface" || field("job-epochs").Get("value").String() != "3" {
		t.Fatalf("mounted at #loss=arcface&epochs=3: the form's loss %s, epochs %q", j.form.Loss, field("job-epochs").Get("value").String())
	}
	job := msg.Job{ID: "a", State: msg.JobRunning, Config: jobConfig(), Created: "1"}
	h.ctx.Dispatch(func(ctx app.Context) {
		j.SetJobs([]msg.Job{job}, nil)
		j.watchJob(ctx, job) // no Client: no stream
	})
	e.ConsumeAll()
	field("job-batch").Set("value", "x")
	h.ctx.Dispatch(func(app.Context) { j.edit("batch", "x") })
	e.ConsumeAll()
	if field("job-batch").Get("attrs").Get("aria-invalid").IsUndefined() {
		t.Fatal("batch x typed: the field is not marked invalid")
	}
	row, viewer, watch := field("job-a"), field("job-viewer"), j.watch

	js.Global().Call("metriclabHash", "#loss=cosface&epochs=7&dim=5")
	e.ConsumeAll()
	note := "dim=5 is not one of 2, 3, 8, 16, 64, 128: using 3"
	if j.form.Loss != "cosface" || j.form.Epochs != 7 || j.form.Dim != 3 || field("job-epochs").Get("value").String() != "7" {
		t.Errorf("#loss=cosface&epochs=7&dim=5 pasted: the form's loss %s, epochs %d (shown %q), D %d; want cosface, 7, 3",
			j.form.Loss, j.form.Epochs, field("job-epochs").Get("value").String(), j.form.Dim)
	}
	if alert := field("jobs-error"); !alert.Truthy() || nodeText(alert) != note {
		t.Errorf("#loss=cosface&epochs=7&dim=5 pasted: #jobs-error %v, want %q", alert, note)
	}
	batch := field("job-batch")
	if value, marked := batch.Get("value").String(), !batch.Get("attrs").Get("aria-invalid").IsUndefined(); value != strconv.Itoa(j.form.Batch) || marked || len(j.refused) > 0 {
		t.Errorf("a link pasted after batch x was refused: the field shows %q, marked %v (refused %v); want %d, unmarked", value, marked, j.refused, j.form.Batch)
	}
	if len(j.jobs) != 1 || j.watch != watch || j.watch.Job.ID != "a" || !field("job-a").Equal(row) || !field("job-viewer").Equal(viewer) {
		t.Errorf("a link pasted: the list %v, watched %v; want job a listed and watched, its row and viewer as they were", j.jobs, j.watch.Job.ID)
	}

	for _, empty := range []string{"", "#"} {
		js.Global().Call("metriclabHash", empty)
		e.ConsumeAll()
		if j.form.Loss != "cosface" || j.form.Epochs != 7 || j.err != note {
			t.Errorf("fragment %q: the form's loss %s, epochs %d, error %q; want the form as it was", empty, j.form.Loss, j.form.Epochs, j.err)
		}
	}

	if err := e.Load(&blankPage{}); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	if n := js.Global().Call("eval", `metriclabListeners.filter(l => l.type === "hashchange").length`).Int(); n != 0 {
		t.Errorf("the page dismounted: the window has %d hashchange listeners, want none", n)
	}
}

// TestJobsOwnFragment: the form's edits write its settings in the URL's
// fragment (replaceHash), which says no hashchange; a hashchange that
// names the form's own fragment all the same (the link of the settings
// shown) leaves the form as it is: a text typed and refused keeps its
// text, its mark and the error line, and no field is drawn again (the
// one being typed in would lose the focus). Before the listener compared
// the fragment with the form's, such a one was opened as a new link.
// Under node, with a stand-in window, location and history.
func TestJobsOwnFragment(t *testing.T) {
	standInLocation(t, "#loss=arcface")
	j := NewJobs()
	h := &jobsLinkHost{j: j}
	e, field := mountInDocument(t, h)
	standInHistory()
	edit := func(key, value string) {
		field("job-"+key).Set("value", value)
		h.ctx.Dispatch(func(app.Context) { j.edit(key, value) })
		e.ConsumeAll()
	}
	edit("epochs", "9")
	own := js.Global().Get("location").Get("hash").String()
	if own != j.form.Hash() || j.form.Epochs != 9 {
		t.Fatalf("epochs 9: the fragment %q, the form's epochs %d; want the form's %q, 9", own, j.form.Epochs, j.form.Hash())
	}
	edit("batch", "x")
	err := j.err
	ids := []string{"job-epochs", "job-batch", "job-lr", "job-loss"}
	before := make([]js.Value, len(ids))
	for i, id := range ids {
		before[i] = field(id)
	}
	js.Global().Call("metriclabHash", own)
	e.ConsumeAll()
	batch := field("job-batch")
	if j.form.Epochs != 9 || j.err != err || err == "" || batch.Get("value").String() != "x" || batch.Get("attrs").Get("aria-invalid").IsUndefined() {
		t.Errorf("a hashchange of the form's own fragment: epochs %d, error %q, batch shows %q marked %v; want 9, %q, x marked",
			j.form.Epochs, j.err, batch.Get("value").String(), !batch.Get("attrs").Get("aria-invalid").IsUndefined(), err)
	}
	for i, id := range ids {
		if !field(id).Equal(before[i]) {
			t.Errorf("a hashchange of the form's own fragment: #%s drawn again", id)
		}
	}
}

// ctxHost is a component that keeps its context.
type ctxHost struct {
	app.Compo
	ctx app.Context
}

func (h *ctxHost) OnMount(ctx app.Context) { h.ctx = ctx }
func (h *ctxHost) Render() app.UI          { return app.Span() }

// heldStream is a server whose event stream sends events, then stays
// open until its context is done.
type heldStream struct {
	Transport
	events []string
}

func (s heldStream) Events(ctx context.Context, _ string, each func(string)) error {
	for _, e := range s.events {
		each(e)
	}
	<-ctx.Done()
	return ctx.Err()
}

// TestJobsViewerHearsJob: the watched job's viewer is posted, on its
// BroadcastChannel, the job's progress, states and errors as well as its
// snapshots, in the stream's order, and its state failed again after the
// error that follows it (the viewer reads "failed: REASON" from the error
// just before the state); a viewer that loads after them is posted the
// latest snapshot, progress, error and state. Before, it was posted the
// snapshots alone: its caption read "step -" while the job ran on, with
// no state, and a viewer that loaded late got the snapshot alone. Under
// node, with its BroadcastChannel.
func TestJobsViewerHearsJob(t *testing.T) {
	job := msg.Job{ID: "j1", State: msg.JobRunning, Steps: 2000, Config: jobConfig(), Created: "1"}
	j := NewJobs()
	j.nonce = "hears"
	j.Client = &Client{T: heldStream{events: []string{
		`{"v":1,"type":"state","trainer":"j1","state":"running"}`,
		`{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":0,"step":10,"steps":2000,"loss":2.5,"accuracy":0.25}}`,
		`{"v":1,"type":"snapshot","trainer":"j1","snapshot":{"dim":3,"threshold":0.5,"genuine":[3,1],"impostor":[0,4],"points":[1,0,0],"labels":[0]}}`,
		`{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":2,"step":1095,"steps":2000,"loss":1.5,"accuracy":0.5}}`,
		`{"v":1,"type":"state","trainer":"j1","state":"failed"}`,
		`{"v":1,"type":"error","trainer":"j1","error":"out of memory"}`,
	}}}
	h := &jobsHost{j: j}
	e, _ := mountInDocument(t, h)
	js.Global().Call("eval", `Object.assign(document, { visibilityState: "visible", addEventListener() {}, removeEventListener() {} })`) // watchVisibility's
	j.mounted = h.ctx
	// The stream's goroutine (ctx.Async) is another engine's: e's
	// ConsumeAll waits for its own, and this one reads until the watch
	// stops.
	streams, other := &ctxHost{}, app.NewTestEngine()
	if err := other.Load(streams); err != nil {
		t.Fatal(err)
	}
	other.ConsumeAll()
	channel := "metriclab-job-j1-hears" // watchJob's
	// heard waits until listen heard n messages, for 5 s at most, the
	// page taking what it was dispatched meanwhile.
	heard := func(listen func() []string, n int) []string {
		for end := time.Now().Add(5 * time.Second); len(listen()) < n && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
			e.ConsumeAll()
		}
		time.Sleep(50 * time.Millisecond) // anything more that would come
		e.ConsumeAll()
		time.Sleep(50 * time.Millisecond)
		return listen()
	}

	listen, _, stop := viewerOn(t, channel)
	defer stop()
	j.watchJob(streams.ctx, job)
	defer j.unwatch()
	want := []string{"j1 state running", "j1 progress 10", "j1 snapshot", "j1 progress 1095", "j1 state failed", "j1 error out of memory", "j1 state failed"}
	if got := heard(listen, len(want)); !slices.Equal(got, want) {
		t.Errorf("the viewer heard\n%q, want\n%q", got, want)
	}

	late, say, stopLate := viewerOn(t, channel)
	defer stopLate()
	say(`{"v":1,"type":"state","trainer":"viz","state":"viz-ready"}`)
	want = []string{"j1 snapshot", "j1 progress 1095", "j1 error out of memory", "j1 state failed"}
	if got := heard(late, len(want)); !slices.Equal(got, want) {
		t.Errorf("a viewer that loaded after them heard\n%q, want\n%q", got, want)
	}
}

// TestJobFormParamsAfterLoss: a loss parameter typed and refused, then
// another loss of a parameter of that name and value chosen (arcface's s
// and cosface's, 16 at D = 3): its field shows the setting, unmarked, not
// the text refused (the fields are keyed by the loss and D: go-app writes
// a value only when the one drawn changes).
func TestJobFormParamsAfterLoss(t *testing.T) {
	h := &jobFormHost{j: NewJobs()}
	e, field := mountInDocument(t, h)
	edit := func(key, value string) {
		h.ctx.Dispatch(func(app.Context) { h.j.edit(key, value) })
		e.ConsumeAll()
	}
	field("job-param-s").Set("value", "x")
	edit("s", "x")
	if in := field("job-param-s"); in.Get("attrs").Get("aria-invalid").IsUndefined() {
		t.Fatal("arcface, s = x typed: the field is not marked invalid")
	}
	edit("loss", "cosface")
	in := field("job-param-s")
	if value, marked := in.Get("value").String(), !in.Get("attrs").Get("aria-invalid").IsUndefined(); value != "16" || marked {
		t.Errorf("arcface, s = x typed, then cosface: the field shows %q, marked %v; want \"16\", unmarked", value, marked)
	}
}

// TestJobsRowsKeyed: a refresh that lists a job queued meanwhile (newest
// first: at the top) leaves each row's buttons to their own job. Before,
// go-app updated the rows by their place: the Cancel button of job a that
// had the keyboard's focus became b's, and Enter canceled b (each button's
// handler follows its row's job since jobScope; the element did not).
func TestJobsRowsKeyed(t *testing.T) {
	a := msg.Job{ID: "a", State: msg.JobRunning, Created: "2025-01-01T10:00:00Z"}
	b := msg.Job{ID: "b", State: msg.JobQueued, Created: "2025-01-01T11:00:00Z"}
	j := NewJobs()
	h := &jobsHost{j: j}
	e, field := mountInDocument(t, h)
	set := func(jobs ...msg.Job) {
		h.ctx.Dispatch(func(app.Context) { j.SetJobs(jobs, nil) })
		e.ConsumeAll()
	}
	set(a)
	cancel, watch := field("cancel-a"), field("watch-a")
	set(a, b)
	for _, el := range []struct {
		id string
		v  js.Value
	}{{"cancel-a", cancel}, {"watch-a", watch}} {
		if got := el.v.Get("attrs").Get("id").String(); got != el.id {
			t.Errorf("a job queued: the element of #%s is now #%s", el.id, got)
		}
	}
}

// jobsStandIn answers the Jobs page under node as server/api does: no
// jobs nor models, the data sets sets, and a job posted queued as j9,
// its request kept; its event streams stay open, sending nothing.
type jobsStandIn struct {
	sets   []msg.Dataset
	mu     sync.Mutex
	posted []msg.TrainRequest
}

func (s *jobsStandIn) Do(ctx context.Context, r Request) (Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == "GET" && (r.Path == "/api/jobs" || r.Path == "/api/models"):
		return Response{Status: 200, Body: []byte("[]")}, nil
	case r.Method == "GET" && r.Path == "/api/datasets":
		b, err := json.Marshal(s.sets)
		return Response{Status: 200, Body: b}, err
	case r.Method == "POST" && r.Path == "/api/jobs":
		var req msg.TrainRequest
		if err := json.Unmarshal(r.JSON, &req); err != nil {
			return Response{Status: 400, Body: []byte(`{"error":"not a training request"}`)}, nil
		}
		s.posted = append(s.posted, req)
		return Response{Status: 201, Body: []byte(`{"id":"j9"}`)}, nil
	}
	return Response{Status: 404, Body: []byte(`{"error":"no route"}`)}, nil
}

func (s *jobsStandIn) Events(ctx context.Context, _ string, _ func(string)) error {
	<-ctx.Done()
	return ctx.Err()
}

func (s *jobsStandIn) sent() []msg.TrainRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.posted)
}

// TestJobsDataSetsInSelect: the Jobs page opened on a link of a data set
// of the server's (faces, sent from the Verify page), before the server's
// data sets are read: once they are, its Data select shows MNIST, then
// faces with its identities and images, selected; the Classes field shows
// the link's s01-s20 with a placeholder of names; Train posts data=faces,
// the classes as typed and the faces preset's input. Before, the select
// offered MNIST alone and the link's faces was refused. Under node, with
// a stand-in window, location, history and server.
func TestJobsDataSetsInSelect(t *testing.T) {
	standInLocation(t, "#preset=faces&data=faces&classes=s01-s20&epochs=2")
	api := &jobsStandIn{sets: []msg.Dataset{{Name: "mnist", Identities: 10, Samples: 70000, Builtin: true}, {Name: "faces", Identities: 12, Samples: 240}}}
	j := NewJobs()
	j.Client = &Client{T: api}
	h := &jobsLinkHost{j: j}
	e, field := mountInDocument(t, h)
	standInHistory()
	j.readList(h.ctx, context.Background(), j.Client) // as OnMount's first read
	e.ConsumeAll()

	var texts []string
	selected := ""
	for _, o := range nodes(field("job-data").Get("childNodes")) {
		texts = append(texts, nodeText(o))
		if o.Get("selected").Truthy() || !o.Get("attrs").Get("selected").IsUndefined() {
			selected = nodeText(o)
		}
	}
	if want := []string{"mnist", "faces (12 identities, 240 images)"}; !slices.Equal(texts, want) || selected != want[1] {
		t.Errorf("the Data select: %q, %q selected; want %q, faces selected", texts, selected, want)
	}
	classes := field("job-classes")
	if v, p := classes.Get("value").String(), classes.Get("attrs").Get("placeholder").String(); v != "s01-s20" || p != "all, or names (s01-s20) or numbers" {
		t.Errorf("the Classes field: %q, placeholder %q", v, p)
	}
	if err := nodeText(js.Global().Get("document").Call("getElementById", "jobs-error")); err != "" {
		t.Errorf("#jobs-error %q, want none", err)
	}

	// Train: its answer goes to another engine's context, never
	// consumed, so that the watch of the job queued reads no stream that
	// e would wait for.
	other, streams := app.NewTestEngine(), &ctxHost{}
	if err := other.Load(streams); err != nil {
		t.Fatal(err)
	}
	other.ConsumeAll()
	j.mounted = streams.ctx
	j.submit(streams.ctx)
	for end := time.Now().Add(5 * time.Second); len(api.sent()) == 0 && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
	}
	if sent := api.sent(); len(sent) != 1 || sent[0].Data != "faces" || sent[0].Classes != "s01-s20" || sent[0].Input != "1x48x48" || sent[0].Preset != "faces" {
		t.Errorf("Train posted %+v; want one job on faces, classes s01-s20, input 1x48x48, preset faces", sent)
	}
}

// removeStandIn answers the Jobs page's list and its DELETE
// ?remove=1 under node, as server/api does for an ended job (204), the
// DELETEs' paths kept; its event streams stay open, sending nothing.
type removeStandIn struct {
	mu      sync.Mutex
	jobs    []msg.Job
	deletes []string
}

func (s *removeStandIn) Do(ctx context.Context, r Request) (Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == "GET" && r.Path == "/api/jobs":
		b, err := json.Marshal(s.jobs)
		return Response{Status: 200, Body: b}, err
	case r.Method == "GET":
		return Response{Status: 200, Body: []byte("[]")}, nil
	case r.Method == "DELETE" && strings.HasSuffix(r.Path, "?remove=1"):
		s.deletes = append(s.deletes, r.Path)
		id := strings.TrimSuffix(strings.TrimPrefix(r.Path, "/api/jobs/"), "?remove=1")
		s.jobs = slices.DeleteFunc(s.jobs, func(j msg.Job) bool { return j.ID == id })
		return Response{Status: 204}, nil
	}
	return Response{Status: 404, Body: []byte(`{"error":"no route"}`)}, nil
}

func (s *removeStandIn) Events(ctx context.Context, _ string, _ func(string)) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestJobsRemoveKeys: an ended job's Remove, from the keyboard, as the
// Models page's Delete (TestModelsDeleteKeys; its two steps:
// TestConfirmStep): ended jobs alone have one; Confirm remove sends
// DELETE /api/jobs/ID?remove=1, the row goes, the note says so, and the
// focus goes to the next row's Watch, not to <body> with the row's
// buttons. Before, the page had no Remove. Under node, with a stand-in
// document.
func TestJobsRemoveKeys(t *testing.T) {
	f := &removeStandIn{jobs: []msg.Job{
		{ID: "j1", State: msg.JobRunning, Config: jobConfig(), Created: "1"},
		{ID: "j2", State: msg.JobDone, ModelID: "m2", Config: jobConfig(), Created: "2"},
		{ID: "j3", State: msg.JobCanceled, Config: jobConfig(), Created: "3"},
	}}
	j := NewJobs()
	j.Client = &Client{T: f}
	h := &jobsHost{j: j}
	e, field := mountInDocument(t, h)
	j.mounted = h.ctx // as the page's OnMount sets it
	h.ctx.Dispatch(func(app.Context) { j.SetJobs(slices.Clone(f.jobs), nil) })
	e.ConsumeAll()
	standInFocus(t)
	there := func(id string) bool { return !field(id).IsNull() }
	deletes := func() []string { f.mu.Lock(); defer f.mu.Unlock(); return slices.Clone(f.deletes) }

	if there("remove-j1") || !there("remove-j2") || !there("remove-j3") {
		t.Errorf("Remove of j1 (running) %v, j2 (done) %v, j3 (canceled) %v; want the ended jobs' alone", there("remove-j1"), there("remove-j2"), there("remove-j3"))
	}
	clickOn(t, e, field, "remove-j2")
	clickOn(t, e, field, "confirm-remove-j2")
	if there("job-j2") || !slices.Equal(deletes(), []string{"/api/jobs/j2?remove=1"}) || focusedID() != "watch-j1" {
		t.Errorf("after Confirm remove of j2: its row there %v, DELETEs %q, the focus on #%s; want the row gone, DELETE /api/jobs/j2?remove=1, the focus on j1's Watch", there("job-j2"), deletes(), focusedID())
	}
	if got, want := nodeText(field("jobs-note")), "removed job j2; its model stays on the Models page"; got != want {
		t.Errorf("#jobs-note %q, want %q", got, want)
	}
}
