//go:build !js

// The test engine of go-app needs a DOM under js/wasm: components are
// tested natively (the page itself is checked in a browser).

package app

import (
	"html"
	"maps"
	"regexp"
	"strings"
	"testing"

	"metriclab/core/msg"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// mount loads c into a test engine and processes its updates.
func mount(t *testing.T, c app.Composer) {
	t.Helper()
	e := app.NewTestEngine()
	if err := e.Load(c); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
}

func TestPlaygroundRender(t *testing.T) {
	p := NewPlayground()
	mount(t, p)
	// Root div > header > the status line, saying that the trainer loads.
	if err := app.Match(app.P().ID("status").Class("status").Text("starting the trainer…"), p, 0, 0, 1); err != nil {
		t.Error(err)
	}
	if len(p.trainers) != 1 || p.trainers[0].run.Loss != "arcface" {
		t.Errorf("runs %+v, want one arcface trainer", p.trainers)
	}
	// The panel's status is not the page's: it has an id of its own.
	panel := &TrainerPanel{Index: 0, Run: p.trainers[0].run, Channel: "c", Dim: "3"}
	mount(t, panel)
	if err := app.Match(app.P().ID("panel-status-0").Class("status").Text("starting the trainer…"), panel, 0, 0, 1); err != nil {
		t.Error(err)
	}
	if err := app.Match(app.IFrame().ID("viewer-0").Class("viewer").Title("hypersphere of arcface").Src("/web/viz.html?channel=c"), panel, 0, 2); err != nil {
		t.Error(err)
	}
}

// TestPlaygroundWaitsForTrainer: Train stays disabled, an autostart waits
// and the viewer has no page until the trainer says it is ready (state
// idle); then Train is enabled (or the autostart goes out) and the viewer
// loads.
func TestPlaygroundWaitsForTrainer(t *testing.T) {
	ready := `{"v":1,"type":"state","trainer":"","state":"idle"}`
	for _, autostart := range []bool{false, true} {
		p := NewPlayground()
		p.nonce = "n" // as OnMount sets it
		p.trainers[0].pending = autostart
		if p.can(msg.OpStart) || p.viewerChannel(0) != "" {
			t.Errorf("autostart %v, before the trainer is ready: can start %v, viewer channel %q; want false, none", autostart, p.can(msg.OpStart), p.viewerChannel(0))
		}
		p.receive(0, ready)
		if got, want := p.trainers[0].run.State, map[bool]string{false: msg.StateIdle, true: msg.StateRunning}[autostart]; got != want || p.trainers[0].pending {
			t.Errorf("autostart %v, after the trainer is ready: state %q (pending %v), want %q", autostart, got, p.trainers[0].pending, want)
		}
		if p.can(msg.OpStart) == autostart {
			t.Errorf("autostart %v, after the trainer is ready: can start %v", autostart, p.can(msg.OpStart))
		}
		if got, want := p.viewerChannel(0), p.channel(0); got != want || got == "" {
			t.Errorf("autostart %v, after the trainer is ready: viewer channel %q, want %q", autostart, got, want)
		}
	}
}

func TestPlaygroundCompare(t *testing.T) {
	p := NewPlayground()
	s := DefaultSettings()
	s.Compare = DefaultCompare()
	p.settings = s
	p.resize()
	mount(t, p)
	if len(p.trainers) != 4 {
		t.Fatalf("%d runs, want 4", len(p.trainers))
	}
	for i, want := range DefaultCompare() {
		if p.trainers[i].run.Loss != want || p.trainers[i].run.Trainer != "t"+itoa(i) {
			t.Errorf("run %d: %s %s, want %s t%d", i, p.trainers[i].run.Loss, p.trainers[i].run.Trainer, want, i)
		}
		panel := &TrainerPanel{Index: i, Compare: true, Run: p.trainers[i].run, Channel: "c" + itoa(i), Dim: "3"}
		mount(t, panel)
		if err := app.Match(app.P().ID("status-"+itoa(i)).Class("status").Text("starting the trainer…"), panel, 0, 0, 1); err != nil {
			t.Error(err)
		}
		// Four viewers share the page's thread: they do not auto-rotate.
		if err := app.Match(app.IFrame().ID(ViewerID(i)).Class("viewer").Title("hypersphere of "+want).Src("/web/viz.html?channel=c"+itoa(i)+"&rotate=0"), panel, 0, 2); err != nil {
			t.Error(err)
		}
	}
	want := "softmax: starting the trainer… | sphereface: starting the trainer… | cosface: starting the trainer… | arcface: starting the trainer…"
	if got := p.Status(); got != want {
		t.Errorf("Status() = %q, want %q", got, want)
	}
	// Back to one trainer: the others go, the first stays.
	p.settings.Compare = nil
	p.resize()
	if len(p.trainers) != 1 || p.trainers[0].run.Loss != "arcface" {
		t.Errorf("after compare off: %+v", p.trainers)
	}
}

// TestPlaygroundFileName: exported files name the loss and the embedding's
// width, V×D for an encoder of views.
func TestPlaygroundFileName(t *testing.T) {
	for _, c := range []struct{ views, want string }{
		{"", "metriclab-arcface-d3-sphere"},
		{"whole,upper,lower", "metriclab-arcface-d3x3-sphere"},
	} {
		p := NewPlayground()
		p.settings = DefaultSettings()
		p.settings.Views = c.views
		p.resize()
		if got := p.fileName(0, "sphere"); got != c.want {
			t.Errorf("views %q: file name %q, want %q", c.views, got, c.want)
		}
	}
}

func TestPlaygroundStartsWhenIdle(t *testing.T) {
	p := NewPlayground()
	p.trainers[0].pending = true
	p.receive(0, `{"v":1,"type":"state","trainer":"t0","state":"idle"}`)
	// Outside a browser the worker is nil; the start is still recorded.
	if p.trainers[0].pending || p.trainers[0].run.State != msg.StateRunning {
		t.Errorf("pending %v, state %q: want the start sent", p.trainers[0].pending, p.trainers[0].run.State)
	}
	p.receive(0, `{"v":7,"type":"state","state":"idle"}`)
	if p.note == "" {
		t.Error("a message of another schema left no note")
	}
}

// TestPlaygroundResetKeepsHelpers: a reset of a data-parallel run keeps
// the helper workers until worker 0 has answered it. Worker 0 reads the
// reset only between steps; inside one it waits for every helper's
// gradient (wasm/trainer group.step), so a helper stopped before it sent
// its own left worker 0 waiting for good: the run stayed "running" and
// Reset did nothing.
func TestPlaygroundResetKeepsHelpers(t *testing.T) {
	p := NewPlayground()
	p.receive(0, `{"v":1,"type":"state","trainer":"t0","state":"running"}`)
	p.trainers[0].helpers = []*worker{{terminated: true}} // one helper (terminated: outside a browser it has no Worker)
	p.command(msg.OpReset)
	if len(p.trainers[0].helpers) != 1 {
		t.Fatalf("after Reset, before worker 0 answered: %d helpers, want the one kept", len(p.trainers[0].helpers))
	}
	p.receive(0, `{"v":1,"type":"state","trainer":"t0","state":"idle"}`)
	if p.trainers[0].helpers != nil || p.trainers[0].run.State != msg.StateIdle {
		t.Errorf("after worker 0 answered the reset: helpers %v, state %q; want none, idle", p.trainers[0].helpers, p.trainers[0].run.State)
	}
}

func TestControlsHideAndParams(t *testing.T) {
	s, _ := ParseHash("#loss=cosface&dim=2&hide=preset,data,classes,arch,dim,batch,lr,opt,augment,epochs,seed,compare")
	c := &Controls{Settings: s, Can: func(op string) bool { return op == "start" }}
	mount(t, c)
	// Left: the buttons, the classes note's slot (empty), the slot of
	// the loss and its parameters.
	if err := app.Match(app.Button().ID("btn-train").Type("button").Class("btn btn-train").Disabled(false).Text("Train").OnClick(noop), c, 0, 0, 0); err != nil {
		t.Error(err)
	}
	if err := app.Match(app.Button().ID("btn-pause").Type("button").Class("btn btn-pause").Disabled(true).Text("Pause").OnClick(noop), c, 0, 0, 1); err != nil {
		t.Error(err)
	}
	if err := app.Match(app.Span().Text("Loss"), c, 0, 2, 0, 0); err != nil {
		t.Error(err)
	}
	// CosFace at D = 2: s and m, m's default 0.14 in the input (the
	// fieldset and each field in a keyed, the 0 after each).
	if err := app.Match(app.Legend().Text("cosface parameters at D = 2"), c, 0, 2, 1, 0, 0); err != nil {
		t.Error(err)
	}
	if err := app.Match(app.Span().Text("m"), c, 0, 2, 1, 0, 2, 0, 0); err != nil {
		t.Error(err)
	}
	// Nothing else is drawn.
	if err := app.Match(app.Span(), c, 0, 3); err == nil {
		t.Error("a hidden control was drawn")
	}
	// A change goes to OnChange with the new settings.
	var got Settings
	c.OnChange = func(s Settings) { got = s }
	c.change(func(s *Settings) { s.Loss, s.Params = "arcface", nil })
	if got.Loss != "arcface" || got.Dim != 2 {
		t.Errorf("OnChange got %+v", got)
	}
}

// TestControlsClassesNote: classes the parser refuses are not taken (the
// settings keep the classes before), and the input's message and the
// line under it give the parser's reason; classes it reads clear it.
// Before, the field was only marked invalid ("not a class subset"), and
// Train used the classes before without a word.
func TestControlsClassesNote(t *testing.T) {
	s, _ := ParseHash("#classes=0-4")
	var got Settings
	c := &Controls{Settings: s, OnChange: func(s Settings) { got = s }}
	c.setClasses("0-4,3")
	want := `class 3 is selected twice, by "0-4" and by "3"; give each class once: using 0-4`
	if why := c.classesNote; why != want || got.Classes != "0-4" {
		t.Errorf("classes 0-4,3: %q, classes %q; want %q, 0-4 kept", why, got.Classes, want)
	}
	mount(t, c)
	wantText(t, c, "ctl-classes-note", want)
	if c.setClasses("5-9"); c.classesNote != "" || got.Classes != "5-9" {
		t.Errorf("classes 5-9: note %q, classes %q; want taken, no note", c.classesNote, got.Classes)
	}
	// "all", as a link's classes= and the jobs form take it: it was "not
	// a digit 0–9", the classes before kept.
	if c.setClasses("all"); c.classesNote != "" || got.Classes != "" {
		t.Errorf("classes all: note %q, classes %q; want taken (all classes), no note", c.classesNote, got.Classes)
	}
}

// TestControlsClassesNoteAfterLink: the note of classes refused says
// which classes are used, and the input is marked invalid; a link
// followed since with other classes (the playground's settings replaced;
// a preset keeps the classes), or classes typed that are taken, leave the
// note untrue, and it goes, with the mark, for good: a link back to the
// classes it named does not bring it back under the link's text. The mark,
// the browser's validity message set when the classes were typed, stayed
// until the field was typed in again: the link's valid 0-4 was shown
// invalid; and the note came back with a link to all classes.
func TestControlsClassesNoteAfterLink(t *testing.T) {
	const refused = `"12" is not a digit 0–9 or a range like 0-4: using all classes`
	for _, c := range []struct {
		name  string
		valid func(h *controlsHost)
	}{
		{"a link to classes 0-4", func(h *controlsHost) { h.s, _ = ParseHash("#classes=0-4"); h.links++ }},
		{"a link to a preset and classes 5-9", func(h *controlsHost) { h.s, _ = ParseHash("#preset=digits&classes=5-9"); h.links++ }},
		{"classes 3,5 typed", func(h *controlsHost) { h.c.setClasses("3,5") }},
	} {
		h := &controlsHost{s: DefaultSettings()}
		e := app.NewTestEngine()
		if err := e.Load(h); err != nil {
			t.Fatal(err)
		}
		e.ConsumeAll()
		h.c.setClasses("12")
		h.ctx.Dispatch(func(app.Context) {})
		e.ConsumeAll()
		wantText(t, h, "ctl-classes-note", refused)
		if tag := classesInput(t, h); !strings.Contains(tag, " aria-invalid") || !strings.Contains(tag, `title="\"12\" is not`) {
			t.Errorf("classes 12 typed: the input %s; want it marked invalid, saying why", tag)
		}
		h.ctx.Dispatch(func(app.Context) { c.valid(h) })
		e.ConsumeAll()
		if _, text, ok := element(t, h, "ctl-classes-note"); ok {
			t.Errorf("after %s the note says %q", c.name, text)
		}
		if tag := classesInput(t, h); strings.Contains(tag, "aria-invalid") || strings.Contains(tag, "title=") {
			t.Errorf("after %s the input %s; want it valid", c.name, tag)
		}
		// A link back to the classes the note said were used: it does
		// not come back, the input shows the link's.
		h.ctx.Dispatch(func(app.Context) { h.s = DefaultSettings(); h.links++ })
		e.ConsumeAll()
		_, note, noted := element(t, h, "ctl-classes-note")
		if tag := classesInput(t, h); strings.Contains(tag, "aria-invalid") || noted {
			t.Errorf("after %s, then a link to all classes: the input %s, note %q; want it valid, no note", c.name, tag, note)
		}
	}
}

// TestControlsClassesAfterLinkOfSameClasses: classes refused keep their
// note and mark until a link is opened, one that keeps the settings'
// classes (all, here) too: the link's settings are all there is to say.
// They stayed, the note going only with a link that changed the classes
// (the field itself: TestControlsFieldsAfterLink, under node).
func TestControlsClassesAfterLinkOfSameClasses(t *testing.T) {
	h := &controlsHost{s: DefaultSettings()}
	e := app.NewTestEngine()
	if err := e.Load(h); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	h.c.setClasses("12")
	h.ctx.Dispatch(func(app.Context) { h.s.Loss = "cosface" }) // a change of the form keeps them
	e.ConsumeAll()
	if _, _, noted := element(t, h, "ctl-classes-note"); !noted || !strings.Contains(classesInput(t, h), " aria-invalid") {
		t.Errorf("classes 12 typed, then the loss changed: the input %s, noted %v; want it marked invalid, the note", classesInput(t, h), noted)
	}
	h.ctx.Dispatch(func(app.Context) { h.s, _ = ParseHash("#loss=cosface"); h.links++ })
	e.ConsumeAll()
	_, note, noted := element(t, h, "ctl-classes-note")
	if tag := classesInput(t, h); strings.Contains(tag, "aria-invalid") || noted {
		t.Errorf("classes 12 typed, then a link to all classes: the input %s, note %q; want it valid, no note", tag, note)
	}
}

// classesInput returns the start tag of the classes input of c (go-app
// writes aria-invalid="true" as aria-invalid, a value quoted as Go does).
func classesInput(t *testing.T, c app.UI) string {
	t.Helper()
	tag, _, ok := element(t, c, "ctl-classes")
	if !ok {
		t.Fatal("no classes input")
	}
	return tag
}

func TestKeepParams(t *testing.T) {
	got := keepParams("arcface", 3, map[string]float64{"m": 0.4, "s": 500, "alpha": 3})
	if len(got) != 1 || got["m"] != 0.4 {
		t.Errorf("keepParams = %v, want only m = 0.4", got)
	}
	if l := toggle([]string{"a", "b"}, "a"); len(l) != 1 || l[0] != "b" {
		t.Errorf("toggle off: %v", l)
	}
	if l := toggle([]string{"a"}, "c"); len(l) != 2 || l[1] != "c" {
		t.Errorf("toggle on: %v", l)
	}
}

// noop stands for an event handler in the expected elements of Match.
func noop(app.Context, app.Event) {}

// TestControlsSeedInFull: a seed up to 2⁵³ − 1, which a link and the
// Seed field take (maxSeed), is drawn in full; before, one over 10¹⁵ was
// drawn as 9.007199255e+15, another seed, which the field marked invalid
// (above its max).
func TestControlsSeedInFull(t *testing.T) {
	for _, seed := range []string{"1000000000000000", "9007199254740991"} {
		s, notices := ParseHash("#seed=" + seed)
		if len(notices) > 0 {
			t.Fatal(notices)
		}
		c := &Controls{Settings: s}
		mount(t, c)
		if tag, _, _ := element(t, c, "ctl-seed"); !strings.Contains(tag, ` value="`+seed+`"`) {
			t.Errorf("seed=%s: the seed input %s", seed, tag)
		}
	}
}

// TestNumberFieldBounds: a number field's min and max are its range, in
// full, so that the browser marks a value out of it invalid; before, lr's
// min 1e-6 was written min="0.0000" (go-app writes a float64 with four
// decimals), and lr 0 typed was not taken, yet not marked invalid.
func TestNumberFieldBounds(t *testing.T) {
	c := &Controls{Settings: DefaultSettings()}
	mount(t, c)
	for id, want := range map[string][2]string{"ctl-lr": {"1e-06", "10"}, "ctl-seed": {"0", "9007199254740991"}, "ctl-param-m": {"0", "1.5"}} {
		if tag, _, _ := element(t, c, id); !strings.Contains(tag, ` min="`+want[0]+`"`) || !strings.Contains(tag, ` max="`+want[1]+`"`) {
			t.Errorf("%s: %s, want min %s, max %s", id, tag, want[0], want[1])
		}
	}
}

// TestSphereExportNeedsSnapshot: the panel's Sphere (PNG) is enabled once
// its viewer has something to draw, the run's first snapshot, and stays
// so while the viewer keeps the run's last picture (a run done, or its
// worker crashed); a reset, which clears the viewer, disables it again.
// It was enabled from the trainer's first "idle", and saved the empty
// viewer's dark square.
func TestSphereExportNeedsSnapshot(t *testing.T) {
	snap := &PageMessage{Message: msg.Message{Type: msg.TypeSnapshot}, Snapshot: &SnapshotHead{Dim: 3}}
	r := NewRun("t0", "arcface")
	for _, step := range []struct {
		what    string
		do      func()
		enabled bool
	}{
		{"starting", func() {}, false},
		{"ready", func() { r.State = msg.StateIdle }, false},
		{"loading the data", func() { r.State = msg.StateLoading }, false},
		{"running, no snapshot yet", func() { r.State = msg.StateRunning }, false},
		{"a snapshot", func() {
			if err := r.Apply(snap); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"crashed", func() { r.Crash("out of memory") }, true},
		{"reset", func() { r.Reset(); r.State = msg.StateIdle }, false},
	} {
		step.do()
		tag, _, ok := element(t, &TrainerPanel{Index: 0, Run: r, Channel: "c", Dim: "3"}, "btn-export-png-0")
		if !ok {
			t.Fatalf("%s: no #btn-export-png-0", step.what)
		}
		if enabled := !disabledTag(tag); enabled != step.enabled {
			t.Errorf("%s: Sphere (PNG) %s, want enabled %v", step.what, tag, step.enabled)
		}
	}
}

// disabledTag reports whether the attributes of a tag, as go-app's
// HTMLString writes them, disable it: disabled, not disabled="false".
func disabledTag(attrs string) bool {
	return strings.Contains(attrs, " disabled") && attr(attrs, "disabled") != "false"
}

// TestComparePanelsSayParams: a loss's parameters set by a link train
// that loss's panel in compare mode (Settings.Request), where the form
// shows no parameters, and each panel's heading says them after its
// loss: "arcface (s = 30, m = 0.3) · D = 3". The heading said "arcface ·
// D = 3", and nothing on the page said that it trained with s = 30 and
// m = 0.3. A loss at its defaults is named alone.
func TestComparePanelsSayParams(t *testing.T) {
	s, notices := ParseHash("#loss=arcface&s=30&m=0.3&compare=softmax,arcface")
	if len(notices) > 0 {
		t.Fatal(notices)
	}
	p := NewPlayground()
	p.settings = s
	p.resize()
	if got := p.settings.Request("arcface").LossParams; !maps.Equal(got, map[string]float64{"s": 30, "m": 0.3}) {
		t.Fatalf("arcface trains with %v, want s = 30, m = 0.3", got)
	}
	if h := app.HTMLString(&Controls{Settings: s}); strings.Contains(h, "ctl-param-") {
		t.Fatalf("compare mode: the form shows loss parameters: %s", h)
	}
	heading := regexp.MustCompile(`<h2>([^<]*)</h2>`)
	for i, want := range []string{"softmax · D = 3", "arcface (s = 30, m = 0.3) · D = 3"} {
		m := heading.FindStringSubmatch(app.HTMLString(p.panels()[i]))
		if m == nil || html.UnescapeString(m[1]) != want {
			t.Errorf("panel %d: heading %q, want %q", i, m, want)
		}
	}
	// A run started says what it trains, whatever the form says since.
	req := s.Request("arcface")
	req.LossParams = map[string]float64{"m": 0.4}
	p.trainers[1].run.Request = &req
	if m := heading.FindStringSubmatch(app.HTMLString(p.panels()[1])); m == nil || html.UnescapeString(m[1]) != "arcface (m = 0.4) · D = 3" {
		t.Errorf("a run of m = 0.4: heading %q", m)
	}
}
