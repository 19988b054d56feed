//go:build !js

package app

import (
	"cmp"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/face"
	"metriclab/core/msg"
)

// The accessibility checks of the four pages (WCAG 2.1, the basics): each
// page drawn in a state that shows its controls and lines that come and
// go, then two rules read off its HTML.

// tagRE matches an opening or closing tag: its slash, name and attributes
// (values quoted as go-app's HTMLString writes them, '>' and escaped
// quotes in them).
var tagRE = regexp.MustCompile(`<(/?)([a-z0-9]+)((?:[^>"]|"(?:[^"\\]|\\.)*")*)>`)

// attr returns the value of the attribute name in the attributes of a
// tag, "" when it has none.
func attr(attrs, name string) string {
	m := regexp.MustCompile(`\s` + name + `="((?:[^"\\]|\\.)*)"`).FindStringSubmatch(attrs)
	if m == nil {
		return ""
	}
	return m[1]
}

// unnamedControls returns the opening tags of the form controls (input,
// select, textarea, button) in h without an accessible name: none has an
// aria-label, a <label for> of its id, a <label> around it, nor, for a
// button, text of its own (an image's alt names the picture, not what
// the button does).
func unnamedControls(h string) []string {
	forIDs := map[string]bool{}
	for _, m := range tagRE.FindAllStringSubmatch(h, -1) {
		if m[1] == "" && m[2] == "label" {
			forIDs[attr(m[3], "for")] = true
		}
	}
	type open struct {
		name, tag string
		end       int // where its content begins
	}
	var stack []open
	var unnamed []string
	for _, i := range tagRE.FindAllStringSubmatchIndex(h, -1) {
		closing, name, attrs, tag := h[i[2]:i[3]] == "/", h[i[4]:i[5]], h[i[6]:i[7]], h[i[0]:i[1]]
		if closing {
			// Pop to the element closed, and check a button's text.
			for len(stack) > 0 {
				o := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if o.name == name {
					if name == "button" && attr(o.tag, "aria-label") == "" && strings.TrimSpace(tagRE.ReplaceAllString(h[o.end:i[0]], "")) == "" {
						unnamed = append(unnamed, o.tag)
					}
					break
				}
			}
			continue
		}
		labelled := attr(attrs, "aria-label") != "" || forIDs[attr(attrs, "id")] && attr(attrs, "id") != "" ||
			slices.ContainsFunc(stack, func(o open) bool { return o.name == "label" })
		switch name {
		case "input", "select", "textarea":
			if !labelled && attr(attrs, "type") != "hidden" {
				unnamed = append(unnamed, tag)
			}
		case "button":
			if labelled {
				attrs += ` aria-label="(label)"` // named: its text need not be checked
				tag = "<button" + attrs + ">"
			}
		}
		if name == "input" || name == "img" || name == "br" || strings.HasSuffix(attrs, "/") {
			continue // void: no closing tag
		}
		stack = append(stack, open{name, tag, i[1]})
	}
	return unnamed
}

// wantRole checks that the element of id in the HTML of c is a live
// region of role ("status" or "alert"), or none ("") where its text
// changes at each progress message.
func wantRole(t *testing.T, page string, c app.UI, id, role string) {
	t.Helper()
	tag, _, ok := element(t, c, id)
	if !ok {
		t.Errorf("%s: no #%s", page, id)
		return
	}
	if got := attr(tag, "role"); got != role || attr(tag, "aria-live") != "" {
		t.Errorf("%s: %s, want role %q", page, tag, role)
	}
}

// a11yPages returns each page drawn in a state that shows most of what
// it can: a note, errors, each kind of button.
func a11yPages() map[string]app.UI {
	pg := NewPlayground()
	pg.notices, pg.note = []string{"a notice"}, "a note"
	pg.trainers[0].run.State, pg.trainers[0].run.Err = StateCrashed, "out of memory"
	compare := NewPlayground()
	compare.settings.Compare = DefaultCompare()
	compare.resize()

	models := NewModels()
	asked := card() // its Delete pressed: Keep and Confirm delete
	asked.ID, asked.Name = "m8", "asked"
	models.SetCards([]msg.ModelCard{card(), asked}, nil)
	models.confirm.row, models.note, models.delErr = "m8", "deleted m6", "could not delete m5: not found (404)"

	jobs := NewJobs()
	jobs.SetJobs([]msg.Job{
		{ID: "j1", State: msg.JobRunning, Config: jobConfig(), Created: "2"},
		{ID: "j2", State: msg.JobInterrupted, Error: "the server stopped", Config: jobConfig(), Created: "1"},
	}, nil)
	jobs.watchJob(app.Context{}, jobs.jobs[0]) // no client: no stream followed
	jobs.err, jobs.jobErr, jobs.actErr = "epochs=x not used", "not queued", "not canceled"
	jobs.listErr, jobs.eventsErr, jobs.watchErr, jobs.note = "list unread", "events lost", "an event of job j1 was not taken: bad", "a note"

	verify := NewVerify()
	verify.st = enrolled()
	verify.st.Train()
	verify.st.Receive(stateMsg("done"))
	verify.st.Receive(embMsg(galleryID(verify.st.gallerySeq), 2, galleryEmbs()))
	okFrame(&verify.st, 1)
	verify.st.Note, verify.st.ModelNote = "a note", "a model note"
	verify.st.Aside = []string{asidePrefix + "1"}
	verify.st.Models = []msg.ModelCard{card()}

	return map[string]app.UI{
		"/":               &WithNav{Current: "/", Page: pg},
		"/ (compare)":     &WithNav{Current: "/", Page: compare},
		"/models":         &WithNav{Current: "/models", Page: models},
		"/jobs":           &WithNav{Current: "/jobs", Page: jobs},
		"/verify":         &WithNav{Current: "/verify", Page: verify},
		"/verify (empty)": &WithNav{Current: "/verify", Page: NewVerify()},
	}
}

// headingRE matches a heading's opening tag, its level.
var headingRE = regexp.MustCompile(`<h([1-6])[\s>]`)

// TestPagesControlsNamed: every input, select, textarea and button of
// each page has an accessible name, and every column of a table a
// header; each page has one <h1> first, and no heading a level below the
// one before it skipped (h2 then h4).
func TestPagesControlsNamed(t *testing.T) {
	for page, ui := range a11yPages() {
		h := app.HTMLString(ui)
		for _, tag := range unnamedControls(h) {
			t.Errorf("%s: %s has no accessible name", page, tag)
		}
		if n := regexp.MustCompile(`<th[^>]*>\s*</th>`).FindAllString(h, -1); len(n) > 0 {
			t.Errorf("%s: an empty table header, %q", page, n)
		}
		level := 0
		for i, m := range headingRE.FindAllStringSubmatch(h, -1) {
			l := int(m[1][0] - '0')
			if (i == 0) != (l == 1) || l > level+1 {
				t.Errorf("%s: heading %d is an <h%d> after an <h%d>, want one <h1> first and no level skipped", page, i+1, l, level)
			}
			level = l
		}
	}
}

// controlNames returns the accessible names of the buttons and links in
// h, in order: the aria-label of each, else its text (its tags left
// out, its spaces collapsed).
func controlNames(h string) []string {
	var names []string
	for _, c := range controlsOf(h) {
		names = append(names, cmp.Or(c.label, c.text))
	}
	return names
}

// A control is a button or a link of a page's HTML: its aria-label and
// its text, the words of its content.
type control struct{ label, text string }

// controlsOf returns the buttons and the links (a with an href) of the
// HTML h, in order.
func controlsOf(h string) []control {
	var cs []control
	for _, i := range tagRE.FindAllStringSubmatchIndex(h, -1) {
		name, attrs := h[i[4]:i[5]], h[i[6]:i[7]]
		if h[i[2]:i[3]] == "/" || name != "button" && (name != "a" || attr(attrs, "href") == "") {
			continue
		}
		text, _, _ := strings.Cut(h[i[1]:], "</"+name+">")
		cs = append(cs, control{attr(attrs, "aria-label"), strings.Join(strings.Fields(tagRE.ReplaceAllString(text, "")), " ")})
	}
	return cs
}

// TestLabelInName: a control named by an aria-label has its visible text
// in its name (WCAG 2.5.3, Label in Name), so that a user of voice
// control who says what the control shows reaches it. Before, "Open in
// playground" was named "open model NAME in the playground" and "Use for
// verify" "use model NAME for verify".
func TestLabelInName(t *testing.T) {
	pages := a11yPages()
	for _, page := range slices.Sorted(maps.Keys(pages)) {
		for _, c := range controlsOf(app.HTMLString(pages[page])) {
			if c.label != "" && c.text != "" && !strings.Contains(strings.ToLower(c.label), strings.ToLower(c.text)) {
				t.Errorf("%s: a control that shows %q is named %q", page, c.text, c.label)
			}
		}
	}
}

// TestRowControlsNamedApart: on the pages of one row per model or job,
// no two buttons or links have the same accessible name: a screen
// reader lists a page's links and buttons apart from their rows, and
// read "Download, Download" or "Watch, Watch". Two models of one name
// are told apart by their ids (nameOf). Before, only a model's Delete
// named its model.
func TestRowControlsNamedApart(t *testing.T) {
	pages := a11yPages()
	twins := NewModels()
	a, b := card(), card()
	b.ID = "m9" // of a's name
	twins.SetCards([]msg.ModelCard{a, b}, nil)
	pages["/models (one name twice)"] = &WithNav{Current: "/models", Page: twins}
	for _, page := range []string{"/models", "/models (one name twice)", "/jobs"} {
		names := controlNames(app.HTMLString(pages[page]))
		if len(names) < 6 {
			t.Errorf("%s: %d buttons and links (%q), want a row's of each of two", page, len(names), names)
		}
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				t.Errorf("%s: two buttons or links named %q", page, n)
			}
			seen[n] = true
		}
	}
	for _, c := range []struct{ html, want string }{
		{`<a class="btn" href="/x" aria-label="download model a">Download</a>`, "download model a"},
		{`<button id="b"> Watch <span>job</span></button>`, "Watch job"},
		{`<a id="nohref">Text</a>`, ""},
	} {
		if got := strings.Join(controlNames(c.html), "|"); got != c.want {
			t.Errorf("controlNames(%s) = %q, want %q", c.html, got, c.want)
		}
	}
}

// TestUnnamedControls: the checker itself, on each way of naming and
// each way of not.
func TestUnnamedControls(t *testing.T) {
	named := `<label class="field"><span>Seed</span><input id="a" type="number"></label>` +
		`<label for="b">Import</label><input id="b" type="file">` +
		`<select aria-label="loss" id="c"></select>` +
		`<button id="d">Train</button><button aria-label="delete"><img alt="x"></button>` +
		`<svg><rect x="1"/></svg><input type="hidden" id="e">`
	if got := unnamedControls(named); len(got) != 0 {
		t.Errorf("unnamedControls(named) = %q, want none", got)
	}
	unnamed := `<span>Seed</span><input id="a" type="number">` + `<label for="x">X</label><select id="c"></select>` +
		`<button class="thumb" title="delete"><img alt="alice"></button><textarea></textarea>`
	want := []string{`<input id="a" type="number">`, `<select id="c">`, `<button class="thumb" title="delete">`, `<textarea>`}
	if got := unnamedControls(unnamed); !slices.Equal(got, want) {
		t.Errorf("unnamedControls(unnamed) = %q, want %q", got, want)
	}
}

// TestPagesLiveRegions: the lines that change while the user is
// elsewhere on the page are live regions: polite (status) for states and
// notes, assertive (alert) for the errors of what the user asked for.
// The lines that change at each progress message (ten a second) are not:
// a screen reader would read each; a line for it beside each
// (StateLine: the state, not the step) is. So on the Verify page:
// #enroll-count, which changes at each snapshot of a hold, has
// #enroll-live (what the hold recorded, once it ends); the probe's note,
// which numbers each probe, #probe-live (why, once it held); and
// #suggested changes at each step of the FAR's slider, which says its own
// value. Before, #enroll-live and #probe-live were not there.
func TestPagesLiveRegions(t *testing.T) {
	pages := a11yPages()
	for _, c := range []struct {
		page, id, role string
	}{
		{"/", "status", ""},
		{"/", "panel-status-0", ""},
		{"/", "status-live", "status"},
		{"/", "notices", "alert"},
		{"/", "note", "status"},
		{"/ (compare)", "status-1", ""},
		{"/models", "models-status", "status"},
		{"/models", "models-error", "alert"},
		{"/models", "models-note", "status"},
		{"/jobs", "jobs-status", "status"},
		{"/jobs", "jobs-error", "alert"},
		{"/jobs", "jobs-act-error", "alert"},
		{"/jobs", "jobs-job-error", "alert"},
		{"/jobs", "jobs-list-error", "status"},
		{"/jobs", "jobs-sets-error", "status"},
		{"/jobs", "jobs-events-error", "status"},
		{"/jobs", "jobs-watch-error", "status"},
		{"/jobs", "jobs-note", "status"},
		{"/jobs", "job-status", ""},
		{"/jobs", "job-status-live", "status"},
		{"/verify", "verify-status", "status"},
		{"/verify", "verify-note", "status"},
		{"/verify", "model-note", "status"},
		{"/verify", "verdict", ""},
		{"/verify", "verdict-live", "status"},
		{"/verify", "enroll-count", ""},
		{"/verify", "enroll-live", "status"},
		{"/verify", "probe-live", "status"},
		{"/verify", "suggested", ""},
		{"/verify", "upload-status", "status"},
		{"/verify", "train-status", ""},
		{"/verify", "train-status-live", "status"},
	} {
		wantRole(t, c.page, pages[c.page], c.id, c.role)
	}
}

// TestLiveRegionsBeforeText: the polite live regions that come with a
// note or an error are drawn, empty, before they have one: a screen
// reader reads a change of a live region already there, and may say
// nothing of one inserted with its text (only alerts are read so).
// Before, each came and went with its text (app.If). The Jobs page's
// alerts too, in the slot with the polite lines: one that came before
// another took its element (go-app matches children by their place),
// which a screen reader read again as a new alert; before, they came and
// went with their text. The Verify page's #enroll-live and #probe-live,
// new, are there as the page opens.
func TestLiveRegionsBeforeText(t *testing.T) {
	pages := map[string]app.UI{
		"/":       &WithNav{Current: "/", Page: NewPlayground()},
		"/models": &WithNav{Current: "/models", Page: NewModels()},
		"/jobs":   &WithNav{Current: "/jobs", Page: NewJobs()},
		"/verify": &WithNav{Current: "/verify", Page: NewVerify()},
	}
	for _, c := range []struct{ page, id, role string }{
		{"/", "note", "status"},
		{"/models", "models-note", "status"},
		{"/jobs", "jobs-list-error", "status"},
		{"/jobs", "jobs-sets-error", "status"},
		{"/jobs", "jobs-events-error", "status"},
		{"/jobs", "jobs-watch-error", "status"},
		{"/jobs", "jobs-note", "status"},
		{"/jobs", "jobs-error", "alert"},
		{"/jobs", "jobs-act-error", "alert"},
		{"/jobs", "jobs-job-error", "alert"},
		{"/verify", "verify-note", "status"},
		{"/verify", "model-note", "status"},
		{"/verify", "enroll-live", "status"},
		{"/verify", "probe-live", "status"},
	} {
		wantRole(t, c.page, pages[c.page], c.id, c.role)
	}
}

// TestVerdictHeld: the screen readers' line of the live verdict
// (VerdictLine, #verdict-live) says it once it has held for
// verdictHeldAfter of frame time, and not while a score at the threshold
// flips it at each probe; it goes quiet when the face goes. Before,
// #verdict itself was the live region, read at each flip.
func TestVerdictHeld(t *testing.T) {
	s := enrolled()
	s.Threshold = 0.5
	score := func(x float64) { s.HasScore, s.Score = true, x }
	frames := func(from, to float64, each func(now float64)) {
		for now := from; now <= to; now += 50 {
			if each != nil {
				each(now)
			}
			s.Frame(now, face.OK, make([]float32, s.Input.Size()))
		}
	}
	claim := s.ClaimedName()
	score(0.9)
	frames(0, 900, nil)
	if got := s.VerdictLine(); got != "" {
		t.Errorf("accept for 0.9 s: VerdictLine %q, want none yet", got)
	}
	frames(950, 1100, nil)
	if got, want := s.VerdictLine(), claim+": accept"; got != want {
		t.Errorf("accept for 1.1 s: VerdictLine %q, want %q", got, want)
	}
	flip := 0
	frames(1150, 4000, func(float64) { // a score at the threshold: each probe's verdict the other
		flip++
		score(0.5 + 0.01*float64(flip%2*2-1))
	})
	if got, want := s.VerdictLine(), claim+": accept"; got != want {
		t.Errorf("flipping for 3 s: VerdictLine %q, want it still %q", got, want)
	}
	score(0.1)
	frames(4050, 5100, nil)
	if got, want := s.VerdictLine(), claim+": reject"; got != want {
		t.Errorf("reject for 1 s: VerdictLine %q, want %q", got, want)
	}
	s.HasScore = false
	frames(5150, 6200, nil)
	if got := s.VerdictLine(); got != "" {
		t.Errorf("no score for 1 s: VerdictLine %q, want none", got)
	}
}

// TestRecordedSaid: the screen readers' line of the enrollment
// (RecordedLine, #enroll-live) says nothing while a hold records, as
// #enroll-count changes at each snapshot, and what the hold recorded once
// it ends: let go, or at its last snapshot; a hold that took none says
// so. Before, there was no such line: a hold from the keyboard was
// silent.
func TestRecordedSaid(t *testing.T) {
	s := enrolled() // alice and bob, three snapshots each
	s.SetName("Ann Smith")
	s.Record(true)
	for now := 0.0; now < 8*50; now += 50 {
		okFrame(&s, now)
		if s.RecordedLine != "" {
			t.Fatalf("recording, %d snapshots: RecordedLine %q, want none", s.Recorded, s.RecordedLine)
		}
	}
	s.Record(false)
	if got, want := s.RecordedLine, "recorded 8 snapshots of Ann Smith (3 identities, 14 snapshots)"; got != want {
		t.Errorf("let go: RecordedLine %q, want %q", got, want)
	}
	s.Record(true)
	if s.RecordedLine != "" {
		t.Errorf("a new hold: RecordedLine %q, want none", s.RecordedLine)
	}
	s.Record(false)
	if got, want := s.RecordedLine, "recorded 0 snapshots of Ann Smith (3 identities, 14 snapshots)"; got != want {
		t.Errorf("let go with no face: RecordedLine %q, want %q", got, want)
	}
	s.Snapshots = 2
	s.Record(true)
	okFrame(&s, 1000)
	okFrame(&s, 1050)
	if got, want := s.RecordedLine, "recorded 2 snapshots of Ann Smith (3 identities, 16 snapshots)"; got != want || s.Recording {
		t.Errorf("a hold's last snapshot: RecordedLine %q, recording %v; want %q, the hold ended", got, s.Recording, want)
	}
}

// TestProbeNoteHeld: the screen readers' line of the probes refused
// (ProbeLine, #probe-live) says why once the same reason has held for
// verdictHeldAfter of frame time, without the probe's number, which
// #probe-note (ProbeNote) gives and which changes at each probe; a
// refusal now and then between scored probes is not said, and the line
// goes quiet once probes are scored again. Before, there was no such
// line.
func TestProbeNoteHeld(t *testing.T) {
	const why = "its values overflow"
	s := enrolled()
	s.Train()
	s.Receive(stateMsg(msg.StateDone))
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	// probes sends a probe at each frame from from to to, 50 ms apart,
	// and answers it: refused when refuse says so, else scored.
	probes := func(from, to float64, refuse func(n int) bool) {
		for now := from; now <= to; now += 50 {
			okFrame(&s, now)
			if refuse(s.probeSeq) {
				s.Receive(refusedMsg(probeID(s.probeSeq), why))
			} else {
				s.Receive(embMsg(probeID(s.probeSeq), 2, []float32{1, 0}))
			}
		}
	}
	always := func(int) bool { return true }
	probes(0, 900, always)
	if got := s.ProbeLine(); got != "" || !strings.HasSuffix(s.ProbeNote, why) {
		t.Errorf("refused for 0.9 s: ProbeLine %q (ProbeNote %q), want none yet", got, s.ProbeNote)
	}
	probes(950, 1100, always)
	if got, want := s.ProbeLine(), "probes could not be embedded: "+why; got != want {
		t.Errorf("refused for 1.1 s: ProbeLine %q, want %q", got, want)
	}
	probes(1150, 3000, func(n int) bool { return n%2 == 0 }) // one in two refused
	if got, want := s.ProbeLine(), "probes could not be embedded: "+why; got != want {
		t.Errorf("one in two refused for 2 s: ProbeLine %q, want it still %q", got, want)
	}
	probes(3050, 4100, func(int) bool { return false })
	if got := s.ProbeLine(); got != "" || s.VerdictText() == "–" {
		t.Errorf("scored for 1 s: ProbeLine %q, verdict %q; want none, a verdict", got, s.VerdictText())
	}
	probes(4150, 6000, func(n int) bool { return n%2 == 0 })
	if got := s.ProbeLine(); got != "" {
		t.Errorf("one in two refused for 2 s after none: ProbeLine %q, want none", got)
	}
}

// TestStateLine: the live lines say a run's state, the same at each
// step, and what the visible line says once it pauses, ends or fails.
func TestStateLine(t *testing.T) {
	r := NewRun("t", "arcface")
	r.State, r.LossLine = msg.StateRunning, []Point{{1, 2}}
	var lines []string
	for step := 1; step <= 2; step++ {
		r.Progress = msg.Progress{Epoch: 1, Step: step, Steps: 10, Loss: 2}
		if !strings.Contains(r.Status(), "step "+itoa(step)+"/10") {
			t.Errorf("Status() = %q, want its step", r.Status())
		}
		lines = append(lines, r.StateLine())
	}
	if lines[0] != "running" || lines[1] != "running" {
		t.Errorf("StateLine() at steps 1 and 2 = %q, want running at each", lines)
	}
	for _, state := range []string{msg.StatePaused, msg.StateDone, msg.StateFailed, msg.StateIdle} {
		r.State = state
		if r.StateLine() != r.Status() {
			t.Errorf("%s: StateLine() = %q, want Status() %q", state, r.StateLine(), r.Status())
		}
	}

	w := NewJobWatch(msg.Job{ID: "j1", State: msg.JobRunning, Config: jobConfig()})
	w.Run.LossLine, w.Run.Progress = []Point{{1, 2}}, msg.Progress{Step: 3, Steps: 10}
	if w.StateLine() != "running" {
		t.Errorf("a running job's StateLine() = %q, want running", w.StateLine())
	}
	if w.Note = "data set faces: 2 images skipped"; w.StateLine() != "running; "+w.Note {
		t.Errorf("with a note, StateLine() = %q, want running and the note", w.StateLine())
	}
	if w.State = msg.JobFailed; w.StateLine() != w.Status() {
		t.Errorf("a failed job's StateLine() = %q, want Status() %q", w.StateLine(), w.Status())
	}

	p := NewPlayground()
	p.settings.Compare = []string{"softmax", "arcface"}
	p.resize()
	p.trainers[0].run.State, p.trainers[0].run.LossLine = msg.StateRunning, []Point{{1, 2}}
	if got, want := p.StateLine(), "softmax: running | arcface: starting the trainer…"; got != want {
		t.Errorf("compare mode's StateLine() = %q, want %q", got, want)
	}

	s := enrolled()
	s.Train()
	s.Run.State, s.Run.LossLine, s.Run.Progress = msg.StateRunning, []Point{{1, 2}}, msg.Progress{Step: 3}
	if got := s.TrainStateLine(); got != "training: running" || !strings.Contains(s.TrainStatus(), "step 3") {
		t.Errorf("while training: TrainStateLine() = %q, want training: running (TrainStatus %q)", got, s.TrainStatus())
	}
}

// TestTextContrast: the page's text colours against the backgrounds they
// are drawn on keep WCAG's 4.5:1 (the contrast of relative luminances,
// (L1 + 0.05) / (L2 + 0.05)), read from web/metriclab.css: a colour is a
// custom property of :root (--muted) or the colour or fill of a rule's
// selector (.model-id).
func TestTextContrast(t *testing.T) {
	b, err := os.ReadFile("../web/metriclab.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	colour := func(name string) string {
		t.Helper()
		if strings.HasPrefix(name, "#") {
			return name
		}
		re := `(?:^|[;\s{])` + regexp.QuoteMeta(name) + `:\s*(#[0-9a-fA-F]{3,6})\b` // a custom property
		if !strings.HasPrefix(name, "--") {
			re = `(?m)^` + regexp.QuoteMeta(name) + `\s*\{[^}]*?\b(?:color|fill):\s*(#[0-9a-fA-F]{3,6})\b`
		}
		m := regexp.MustCompile(re).FindStringSubmatch(css)
		if m == nil {
			t.Fatalf("no colour of %s in metriclab.css", name)
		}
		return m[1]
	}
	for _, c := range []struct{ text, on string }{
		{"--ink", "--bg"}, {"--ink", "--panel"},
		{"--muted", "--bg"}, {"--muted", "--panel"}, {"--muted", "#fafbfc"}, // notes, labels, the charts' frame
		{"--warn", "#fff6ec"}, // .notices
		{"--bad", "#fdf0ef"},  // .crash
		{"--accent-ink", "--accent"},
		{".btn-delete", "--bad"}, // a model's Confirm delete
		{".model-id", "--bg"}, {".model-id", "--panel"},
		{".job-error", "--panel"},
		{"tspan.genuine", "#fafbfc"}, {"tspan.impostor", "#fafbfc"},
		{".verify-page .verdict.accept", "--panel"}, {".verify-page .verdict.reject", "--panel"},
		{".top .status", "--viewer"}, {".top .subtitle", "--viewer"},
	} {
		fg, bg := colour(c.text), colour(c.on)
		if r := contrast(fg, bg); r < 4.5 {
			t.Errorf("%s (%s) on %s (%s): contrast %.2f:1, want 4.5:1 or more", c.text, fg, c.on, bg, r)
		}
	}
}

// contrast is WCAG 2.1's contrast ratio of two colours #rgb or #rrggbb.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// luminance is the relative luminance of a colour #rgb or #rrggbb (sRGB).
func luminance(hex string) float64 {
	h := hex[1:]
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	var l float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += w * c
	}
	return l
}

// TestDeletedSaid: a snapshot deleted from the gallery is said on the
// screen readers' line of the enrollment (#enroll-live), with the counts
// that #enroll-count shows, and an import, which #verify-note says,
// empties it. Before, the line kept the last hold's counts, which no
// longer held, and a deletion was said nowhere.
func TestDeletedSaid(t *testing.T) {
	s := enrolled() // alice and bob, three snapshots each
	s.SetName("Ann Smith")
	s.Record(true)
	okFrame(&s, 0)
	s.Record(false)
	s.DeleteCrop(0, 1)
	if got, want := s.RecordedLine, "deleted a snapshot of alice (3 identities, 6 snapshots)"; got != want {
		t.Errorf("one of alice's deleted: RecordedLine %q, want %q", got, want)
	}
	s.DeleteCrop(2, 0)
	if got, want := s.RecordedLine, "deleted the last snapshot of Ann Smith (2 identities, 5 snapshots)"; got != want {
		t.Errorf("Ann Smith's only one deleted: RecordedLine %q, want %q", got, want)
	}
	s.Import(enrolled().Gallery, nil)
	if s.RecordedLine != "" || s.Note != "imported 2 identities, 6 snapshots" {
		t.Errorf("imported: RecordedLine %q, Note %q; want none, and the note saying it", s.RecordedLine, s.Note)
	}
}

// cssRule returns the declarations of the rule of web/metriclab.css
// whose selectors (a list, split at its commas) include selector, at the
// top level or in an @media block, by property; nil when there is none.
func cssRule(t *testing.T, selector string) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../web/metriclab.css")
	if err != nil {
		t.Fatal(err)
	}
	css := regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(string(b), "")
	for _, m := range regexp.MustCompile(`(?m)^\s*([^@{}][^{}]*)\{([^}]*)\}`).FindAllStringSubmatch(css, -1) {
		if !slices.ContainsFunc(strings.Split(m[1], ","), func(s string) bool { return strings.Join(strings.Fields(s), " ") == selector }) {
			continue
		}
		decl := map[string]string{}
		for _, d := range strings.Split(m[2], ";") {
			if k, v, ok := strings.Cut(d, ":"); ok {
				decl[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		return decl
	}
	return nil
}

// TestDisabledFieldsLookDisabled: while training the form's fields are
// disabled, and its text and number inputs look so as its selects do:
// one rule of the stylesheet for both, a background other than the
// enabled fields', and the value still readable at WCAG's 4.5:1. The
// inputs kept the enabled fields' white (.field input), and looked
// editable beside greyed selects.
func TestDisabledFieldsLookDisabled(t *testing.T) {
	root := cssRule(t, ":root")
	value := func(v string) string {
		if name, ok := strings.CutPrefix(v, "var("); ok {
			return root[strings.TrimSuffix(name, ")")]
		}
		return v
	}
	enabled := cssRule(t, ".field input")
	input, sel := cssRule(t, ".field input:disabled"), cssRule(t, ".field select:disabled")
	if input == nil || sel == nil {
		t.Fatalf("metriclab.css: disabled inputs %v, disabled selects %v; want a rule of each", input, sel)
	}
	if !maps.Equal(input, sel) {
		t.Errorf("metriclab.css: disabled inputs %v, disabled selects %v; want them drawn alike", input, sel)
	}
	bg, fg := value(cmp.Or(input["background"], input["background-color"])), value(input["color"])
	if bg == "" || bg == value(enabled["background"]) {
		t.Errorf("a disabled input's background %q, an enabled one's %q; want another", bg, enabled["background"])
	}
	if input["opacity"] != "1" {
		t.Errorf("a disabled field's opacity %q, want 1: a browser's own dimming of one kind of field would tell them apart and lower the contrast", input["opacity"])
	}
	if !strings.HasPrefix(fg, "#") || !strings.HasPrefix(bg, "#") {
		t.Fatalf("a disabled field's colour %q on %q: want both #rgb or #rrggbb", fg, bg)
	}
	if r := contrast(fg, bg); r < 4.5 {
		t.Errorf("a disabled field's value (%s) on its background (%s): contrast %.2f:1, want 4.5:1 or more", fg, bg, r)
	}
}
