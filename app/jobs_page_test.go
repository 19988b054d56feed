//go:build !js

package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// TestJobFormGlyphs: the form shows the glyph classes the job will train
// with: the digits preset's 500 for its own loss, and none, disabled, for
// triplet, whose request leaves them out (before, it showed 500).
func TestJobFormGlyphs(t *testing.T) {
	for _, c := range []struct {
		loss     string
		glyphs   int
		disabled bool
	}{{"normsoftmax", 500, false}, {"arcface", 500, false}, {"triplet", 0, true}} {
		j := NewJobs()
		s, err := j.form.WithPreset("digits")
		if err == nil {
			s, err = EditSettings(s, "loss", c.loss, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		j.form = s
		if got := s.Request(c.loss).Glyphs; got != c.glyphs {
			t.Fatalf("%s: the request has %d glyph classes, want %d", c.loss, got, c.glyphs)
		}
		mount(t, j)
		tag, _, ok := element(t, j, "job-glyphs")
		if !ok {
			t.Fatalf("%s: no #job-glyphs", c.loss)
		}
		if want := fmt.Sprintf(`value="%d"`, c.glyphs); !strings.Contains(tag, want) {
			t.Errorf("%s: %s, want %s", c.loss, tag, want)
		}
		if got := disabled(t, j, "job-glyphs"); got != c.disabled {
			t.Errorf("%s: disabled %v, want %v", c.loss, got, c.disabled)
		}
	}
}

// jobsAPI answers the Jobs page as server/api does: the list, POST
// /api/jobs (job j9), DELETE of a queued, interrupted or canceled job and
// resume of an interrupted one (409 once it is not), the models and the
// data sets, counting the requests.
type jobsAPI struct {
	apiCalls  // "POST /api/jobs", "DELETE j1", "resume j2", "GET /api/models", "GET /api/datasets"
	jobs      []msg.Job
	models    []msg.ModelCard
	sets      []msg.Dataset
	setsErr   string // GET /api/datasets is answered 500 with it when not ""
	created   string // POST's answer when not "" (the job queued all the same), else {"id":"j9"}
	busy      int    // POSTs answered 503, Retry-After busyAfter, as server/api does when it reads too many bodies, first
	busyAfter string
	posted    []msg.TrainRequest // the bodies of the POSTs of a job, as sent
	bodies    [][]byte           // and their bytes
}

func newJobsAPI(jobs ...msg.Job) *jobsAPI {
	return &jobsAPI{jobs: jobs, apiCalls: apiCalls{calls: map[string]int{}}}
}

// apiCalls counts the requests a stand-in of server/api is sent, by
// name, under its lock, which its ServeHTTP holds.
type apiCalls struct {
	mu    sync.Mutex
	calls map[string]int
}

func (a *apiCalls) count(call string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[call]
}

// writeJSON answers status with v as JSON, as server/api does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (a *jobsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	// to moves job id from one of the states from to state to, or
	// answers 409.
	to := func(id string, from []string, to, call string) {
		a.calls[call+" "+id]++
		for i := range a.jobs {
			if a.jobs[i].ID != id {
				continue
			}
			if !slices.Contains(from, a.jobs[i].State) {
				text := fmt.Sprintf("job %s is %s", id, a.jobs[i].State)
				if call == "DELETE" { // as server/api's cancelJob says it
					text += fmt.Sprintf(": only a queued, running or interrupted job can be canceled; DELETE /api/jobs/%s?remove=1 removes its record", id)
				}
				writeJSON(w, 409, msg.ErrorBody{Error: text})
				return
			}
			a.jobs[i].State = to
			writeJSON(w, 200, a.jobs[i])
			return
		}
		writeJSON(w, 404, msg.ErrorBody{Error: "not found"})
	}
	id, op, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/api/jobs/"), "/")
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/jobs":
		writeJSON(w, 200, a.jobs)
	case r.Method == "GET" && r.URL.Path == "/api/models":
		a.calls["GET /api/models"]++
		writeJSON(w, 200, a.models)
	case r.Method == "GET" && r.URL.Path == "/api/datasets":
		a.calls["GET /api/datasets"]++
		if a.setsErr != "" {
			writeJSON(w, 500, msg.ErrorBody{Error: a.setsErr})
			return
		}
		writeJSON(w, 200, append([]msg.Dataset{}, a.sets...)) // [] for none, as the server writes it
	case r.Method == "POST" && r.URL.Path == "/api/jobs":
		var req msg.TrainRequest
		body, err := io.ReadAll(r.Body)
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		if err != nil {
			writeJSON(w, 400, msg.ErrorBody{Error: "request body is not a valid training configuration: " + err.Error()})
			return
		}
		a.posted, a.bodies = append(a.posted, req), append(a.bodies, body)
		if a.calls["POST /api/jobs"]++; a.calls["POST /api/jobs"] <= a.busy {
			w.Header().Set("Retry-After", a.busyAfter)
			writeJSON(w, 503, msg.ErrorBody{Error: "the server is reading too many uploads at once: try again in a few seconds"})
			return
		}
		a.jobs = append(a.jobs, msg.Job{ID: "j9", Config: jobConfig(), State: msg.JobQueued, Created: "9"})
		if a.created != "" {
			w.WriteHeader(201)
			w.Write([]byte(a.created))
			return
		}
		writeJSON(w, 201, msg.Created{ID: "j9"})
	case r.Method == "DELETE" && op == "" && r.URL.Query().Get("remove") == "1":
		a.calls["remove "+id]++
		i := slices.IndexFunc(a.jobs, func(j msg.Job) bool { return j.ID == id })
		switch {
		case i < 0:
			writeJSON(w, 404, msg.ErrorBody{Error: "not found"})
		case !slices.Contains([]string{msg.JobDone, msg.JobFailed, msg.JobCanceled}, a.jobs[i].State):
			writeJSON(w, 409, msg.ErrorBody{Error: fmt.Sprintf("job %s is %s: cancel it first (DELETE /api/jobs/%s), then remove its record", id, a.jobs[i].State, id)})
		default:
			a.jobs = slices.Delete(a.jobs, i, i+1)
			w.WriteHeader(204)
		}
	case r.Method == "DELETE" && op == "":
		to(id, []string{msg.JobQueued, msg.JobInterrupted, msg.JobCanceled}, msg.JobCanceled, "DELETE")
	case r.Method == "POST" && op == "resume":
		to(id, []string{msg.JobInterrupted}, msg.JobQueued, "resume")
	default:
		writeJSON(w, 404, msg.ErrorBody{Error: "no route"})
	}
}

// jobsHost holds the Jobs page beside a probe, whose context stands for a
// button's: gone (dismounted) when the probe is.
type jobsHost struct {
	app.Compo
	ctx   app.Context
	page  *Jobs
	probe *ctxProbe
	shown bool
}

func (h *jobsHost) Render() app.UI {
	return app.Div().Body(h.page, app.If(h.shown, func() app.UI { return h.probe }))
}

// OnPreRender, which go-app calls outside a browser where it would call
// OnMount, gives the host's context.
func (h *jobsHost) OnPreRender(ctx app.Context) { h.ctx = ctx }

type ctxProbe struct {
	app.Compo
	ctx app.Context
}

func (p *ctxProbe) OnPreRender(ctx app.Context) { p.ctx = ctx }
func (p *ctxProbe) Render() app.UI              { return app.Span() }

// mountJobs mounts the Jobs page of api, and returns its engine, a
// context that stays mounted, and the context of an element no longer
// there, as a clicked Cancel button's is once the list shows its job
// canceled.
func mountJobs(t *testing.T, api *jobsAPI) (j *Jobs, e app.TestEngine, live, gone app.Context) {
	t.Helper()
	j = NewJobs()
	j.Client = &Client{T: HandlerTransport(api)}
	h := &jobsHost{page: j, probe: &ctxProbe{}, shown: true}
	e = app.NewTestEngine()
	if err := e.Load(h); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	j.mounted = h.ctx // as OnMount sets it, in a browser: one mounted as long as the page
	live, gone = h.ctx, h.probe.ctx
	gone.Dispatch(func(app.Context) { h.shown = false })
	e.ConsumeAll()
	if h.probe.Mounted() {
		t.Fatal("the probe is still mounted")
	}
	jobs, err := j.Client.Jobs(context.Background())
	j.SetJobs(jobs, err)
	return j, e, live, gone
}

// TestJobsAnswerAfterTheButtonIsGone: the answer of a Cancel or Resume
// reaches the page after its button is gone (the list read meanwhile
// shows the job canceled, or a row of another job took its place): the
// note, the fresh list, and the watch of the resumed job (before, go-app
// dropped them with the button, and the resumed job's watch followed no
// event).
func TestJobsAnswerAfterTheButtonIsGone(t *testing.T) {
	api := newJobsAPI(
		msg.Job{ID: "j1", State: msg.JobQueued, Config: jobConfig(), Created: "1"},
		msg.Job{ID: "j2", State: msg.JobInterrupted, Step: 130, CkptStep: 100, Config: jobConfig(), Created: "2"},
	)
	j, e, _, gone := mountJobs(t, api)
	j.act(gone, j.jobs[1], "cancel")
	e.ConsumeAll()
	if j.note != "job j1 canceled" || j.err+j.actErr != "" || j.jobs[1].State != msg.JobCanceled {
		t.Errorf("after Cancel: note %q, error %q, j1 %s; want the note, no error, canceled", j.note, j.err+j.actErr, j.jobs[1].State)
	}
	j.act(gone, j.jobs[0], "resume")
	e.ConsumeAll()
	if j.note != "job j2 resumed" || j.watch == nil || j.watch.Job.ID != "j2" {
		t.Errorf("after Resume: note %q, watch %v; want the note and j2 watched", j.note, j.watch)
	}
}

// TestJobsSubmitAnswerUnread: when the server took the job (201) but its
// answer could not be read (a proxy's page, or no id), the page does not
// say the job was not queued, as it did: it may have been, and here it
// was; the list shows it.
func TestJobsSubmitAnswerUnread(t *testing.T) {
	for _, body := range []string{"<html>gateway</html>", "{}"} {
		api := newJobsAPI()
		api.created = body
		j, e, ctx, _ := mountJobs(t, api)
		j.submit(ctx)
		e.ConsumeAll()
		if !strings.Contains(j.jobErr, "the job may have been queued") || strings.Contains(j.jobErr, "not queued") || j.submitting {
			t.Errorf("answer %q: error %q, submitting %v; want it said that the job may be queued", body, j.jobErr, j.submitting)
		}
		if n := api.count("POST /api/jobs"); n != 1 {
			t.Errorf("answer %q: POST sent %d times, want once", body, n)
		}
	}
}

// TestJobsLinkKeepsJobError: a link opened while the page shows why the
// job sent last may not have been queued (a link pasted in the address
// bar, hashchange) says which of its settings were not used in the
// form's error line, and leaves that one: the page still does not know
// whether the job was queued. Before, open wrote the link's notes over
// it, and the user lost it.
func TestJobsLinkKeepsJobError(t *testing.T) {
	api := newJobsAPI()
	api.created = "{}" // queued, no id in the answer
	j, e, ctx, _ := mountJobs(t, api)
	j.submit(ctx)
	e.ConsumeAll()
	h := app.HTMLString(j.Render())
	i := strings.Index(h, "the job may have been queued")
	if i < 0 {
		t.Fatalf("the answer unread: no error says the job may have been queued: %s", h)
	}
	shown := h[i : strings.Index(h[i:], "<")+i]
	j.linkChanged("#loss=cosface&dim=5")
	h = app.HTMLString(j.Render())
	note := "dim=5 is not one of 2, 3, 8, 16, 64, 128: using 3"
	if j.form.Loss != "cosface" || !strings.Contains(h, ">"+shown+"<") || !strings.Contains(h, ">"+note+"<") {
		t.Errorf("a link opened after the answer was unread: loss %s; want cosface, and %q and %q shown: %s", j.form.Loss, shown, note, h)
	}
	wantText(t, j.Render(), "jobs-error", note)
}

// TestJobsCompareNoticeCapped: the form's note that a link's compare= is
// not queued takes the place of one of the link's own notes when
// ParseHash gave maxNotices, the last counting one more of them: the
// error line keeps to maxNotices, and says the compare= one. Before, it
// came after the maxNotices, one too many.
func TestJobsCompareNoticeCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("#loss=cosface&compare=1")
	for i := range 20 {
		fmt.Fprintf(&b, "&knob%d=1", i)
	}
	j := NewJobs()
	j.open(b.String())
	notices := strings.Split(j.err, "; ")
	compare := "compare=softmax,sphereface,cosface,arcface is the playground's: this form trains one loss (cosface)"
	counted := fmt.Sprintf("and %d more settings of the link were not used", 20-(maxNotices-2))
	if len(notices) != maxNotices || notices[len(notices)-1] != compare || notices[len(notices)-2] != counted {
		t.Errorf("20 unknown settings and compare=: %d notices %q; want %d, the last two %q and %q", len(notices), notices, maxNotices, counted, compare)
	}
	j.open("#loss=cosface&compare=1&knob=1")
	if want := `unknown setting "knob" ignored; ` + compare; j.err != want {
		t.Errorf("one unknown setting and compare=: %q, want %q", j.err, want)
	}
}

// TestJobsSubmitSaysPresetFieldsOff: the job of a form of the faces
// preset whose embedding batch norm was turned off says embed_bn false:
// the server fills a field left out from the preset (POST /api/jobs), and
// encoding/json leaves a false of an omitempty field out, so the job
// trained with the preset's batch norm, which the form did not show. (The
// server's side: server/api's TestContractPresetFieldsOff.)
func TestJobsSubmitSaysPresetFieldsOff(t *testing.T) {
	api := newJobsAPI()
	j, e, ctx, _ := mountJobs(t, api)
	j.edit("preset", "faces")
	j.edit("embed-bn", "no")
	if j.err != "" || j.form.Preset != "faces" || j.form.EmbedBN {
		t.Fatalf("faces, then embed-bn no: error %q, preset %q, embed-bn %v", j.err, j.form.Preset, j.form.EmbedBN)
	}
	j.submit(ctx)
	e.ConsumeAll()
	if len(api.bodies) != 1 {
		t.Fatalf("%d POSTs of a job, want 1 (note %q, error %q)", len(api.bodies), j.note, j.err+j.jobErr)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(api.bodies[0], &fields); err != nil {
		t.Fatal(err)
	}
	if got, ok := fields["embed_bn"]; !ok || string(got) != "false" {
		t.Errorf("the job's body %s: embed_bn %s (given %v), want false", api.bodies[0], got, ok)
	}
}

// TestJobsSubmitBusy: a job the server is too busy to read (503,
// Retry-After) is sent again after the seconds it asks, the note saying
// so meanwhile, and queued; a server busy at every try is said to have
// not queued it after 3, with its own error. Before, the first 503 was
// "the job was not queued", and the user had to send it again.
func TestJobsSubmitBusy(t *testing.T) {
	api := newJobsAPI()
	api.busy, api.busyAfter = 1, "1"
	j, e, ctx, _ := mountJobs(t, api)
	j.submit(ctx)
	e.ConsumeNext() // the note the wait dispatched
	if want := "the server is busy: submitting again in 1 s…"; j.note != want || !j.submitting {
		t.Errorf("while the server is busy: note %q, submitting %v; want %q", j.note, j.submitting, want)
	}
	e.ConsumeAll()
	if j.note != "job j9 queued" || j.err+j.jobErr != "" || api.count("POST /api/jobs") != 2 {
		t.Errorf("after the busy answer: note %q, error %q, %d POSTs; want j9 queued after 2", j.note, j.err+j.jobErr, api.count("POST /api/jobs"))
	}

	api = newJobsAPI()
	api.busy, api.busyAfter = 3, "0"
	j, e, ctx, _ = mountJobs(t, api)
	j.submit(ctx)
	e.ConsumeAll()
	if want := "the job was not queued: the server is reading too many uploads at once: try again in a few seconds (503)"; j.jobErr != want || j.submitting || api.count("POST /api/jobs") != 3 {
		t.Errorf("a server busy at every try: error %q, submitting %v, %d POSTs; want %q after 3", j.jobErr, j.submitting, api.count("POST /api/jobs"), want)
	}
}

// TestJobsOneRequestAtATime: a second click on Train, Cancel or Resume
// while the first one's request is on its way does nothing, and the
// buttons say so (before, a double click queued two jobs, and a second
// Cancel or Resume was refused, its error shown after the first was
// done).
func TestJobsOneRequestAtATime(t *testing.T) {
	api := newJobsAPI(
		msg.Job{ID: "j1", State: msg.JobQueued, Config: jobConfig(), Created: "1"},
		msg.Job{ID: "j2", State: msg.JobInterrupted, Step: 130, CkptStep: 100, Config: jobConfig(), Created: "2"},
	)
	j, e, ctx, _ := mountJobs(t, api)
	j2, j1 := j.jobs[0], j.jobs[1]
	j.submit(ctx)
	j.submit(ctx)
	j.act(ctx, j1, "cancel")
	j.act(ctx, j1, "cancel")
	j.act(ctx, j2, "resume")
	j.act(ctx, j2, "resume")
	e.ConsumeAll()
	for _, call := range []string{"POST /api/jobs", "DELETE j1", "resume j2"} {
		if n := api.count(call); n != 1 {
			t.Errorf("%s sent %d times, want once", call, n)
		}
	}
	if j.err+j.actErr != "" || j.submitting || len(j.acting) > 0 {
		t.Errorf("error %q, submitting %v, acting %v; want none", j.err+j.actErr, j.submitting, j.acting)
	}
	// While a request is on its way, its button is disabled.
	p := NewJobs()
	p.SetJobs(api.jobs, nil)
	p.submitting, p.acting = true, map[string]bool{"j2": true}
	mount(t, p)
	for _, id := range []string{"btn-submit", "cancel-j2"} {
		if !disabled(t, p, id) {
			t.Errorf("#%s enabled while its request is on its way", id)
		}
	}
	if disabled(t, p, "cancel-j9") {
		t.Error("#cancel-j9 disabled, with no request of its own")
	}
}

// TestJobsCancelInterrupted: an interrupted job has Cancel beside Resume,
// which cancels it (the server takes DELETE of an interrupted job, and
// removes its checkpoint); before, only a queued or running one had it,
// and an interrupted job whose resume is refused (a CUDA job on a server
// without one) stayed in the list with its checkpoint on the disk.
func TestJobsCancelInterrupted(t *testing.T) {
	api := newJobsAPI(msg.Job{ID: "j2", State: msg.JobInterrupted, Step: 130, CkptStep: 100, Config: jobConfig(), Created: "2"})
	j, e, ctx, _ := mountJobs(t, api)
	p := NewJobs()
	p.SetJobs(api.jobs, nil)
	mount(t, p)
	for _, id := range []string{"cancel-j2", "resume-j2"} {
		if _, _, ok := element(t, p, id); !ok {
			t.Errorf("an interrupted job has no #%s", id)
		}
	}
	j.act(ctx, j.jobs[0], "cancel")
	e.ConsumeAll()
	if api.count("DELETE j2") != 1 || j.err+j.actErr != "" || j.jobs[0].State != msg.JobCanceled {
		t.Errorf("Cancel of the interrupted job: %d DELETE, error %q, state %s; want it canceled", api.count("DELETE j2"), j.err+j.actErr, j.jobs[0].State)
	}
}

// TestJobsActRefusedShowsList: a Cancel or Resume the server refuses
// because the job changed since the list was read (done meanwhile,
// resumed in another tab) shows the list read after it, with the job as
// it is now and its buttons, beside the refusal. Before, the row kept
// the state read before, and the button just refused, until the next
// read of the list.
func TestJobsActRefusedShowsList(t *testing.T) {
	api := newJobsAPI(
		msg.Job{ID: "j1", State: msg.JobDone, Config: jobConfig(), Created: "1"},
		msg.Job{ID: "j2", State: msg.JobQueued, Config: jobConfig(), Created: "2"},
	)
	j, e, ctx, _ := mountJobs(t, api)
	j.SetJobs([]msg.Job{ // as the page read it before
		{ID: "j1", State: msg.JobRunning, Config: jobConfig(), Created: "1"},
		{ID: "j2", State: msg.JobInterrupted, Config: jobConfig(), Created: "2"},
	}, nil)
	for _, c := range []struct{ op, id, state, button, actErr, note string }{
		// A Cancel that meets the job's end says so, not the API's hint
		// (TestJobsCancelMeetsEnd).
		{"cancel", "j1", msg.JobDone, "cancel-j1", "", "job j1 had already ended (done) before the cancel reached it"},
		{"resume", "j2", msg.JobQueued, "resume-j2", "resume j2: ", ""},
	} {
		i := jobIndex(j, c.id)
		j.act(ctx, j.jobs[i], c.op)
		e.ConsumeAll()
		if (c.actErr == "") != (j.actErr == "") || !strings.HasPrefix(j.actErr, c.actErr) || (c.note != "" && j.note != c.note) || j.jobs[i].State != c.state {
			t.Errorf("%s of %s, refused: error %q, note %q, the row says %s; want error %q…, note %q, and %s", c.op, c.id, j.actErr, j.note, j.jobs[i].State, c.actErr, c.note, c.state)
		}
		p := NewJobs()
		p.SetJobs(j.jobs, nil)
		mount(t, p)
		if _, _, ok := element(t, p, c.button); ok {
			t.Errorf("%s of %s, refused: #%s still there", c.op, c.id, c.button)
		}
	}
}

// TestJobsActClearsItsOwnError: a Cancel or Resume done clears the
// refusal of the one before, and leaves the form's error as it was, as
// a refused one does; the job the form queues leaves the refusal. Before,
// both were one line, which a Cancel done cleared: the field refused
// ("epochs x") stayed marked invalid, its reason gone.
func TestJobsActClearsItsOwnError(t *testing.T) {
	api := newJobsAPI(
		msg.Job{ID: "j1", State: msg.JobDone, Config: jobConfig(), Created: "1"},
		msg.Job{ID: "j2", State: msg.JobQueued, Config: jobConfig(), Created: "2"},
	)
	j, e, ctx, _ := mountJobs(t, api)
	j.edit("epochs", "x")
	formErr := j.err
	if formErr == "" {
		t.Fatal("epochs x: no error")
	}
	job := func(id string) msg.Job {
		return j.jobs[slices.IndexFunc(j.jobs, func(job msg.Job) bool { return job.ID == id })]
	}
	for _, c := range []struct{ op, id, actErr string }{
		// refused (a Cancel that meets the job's end is no refusal:
		// TestJobsCancelMeetsEnd)
		{"resume", "j2", "resume j2: job j2 is queued (409)"},
		{"cancel", "j2", ""},
	} {
		j.act(ctx, job(c.id), c.op)
		e.ConsumeAll()
		if j.err != formErr || j.actErr != c.actErr {
			t.Errorf("%s of %s: the form's error %q, the action's %q; want %q kept, and %q", c.op, c.id, j.err, j.actErr, formErr, c.actErr)
		}
	}
	j.act(ctx, job("j2"), "resume") // canceled: refused
	e.ConsumeAll()
	j.edit("epochs", "3")
	j.submit(ctx)
	e.ConsumeAll()
	if j.err != "" || !strings.HasPrefix(j.actErr, "resume j2: ") || j.note != "job j9 queued" {
		t.Errorf("a job queued after a refused cancel: the form's error %q, the action's %q, note %q; want no form error, the refusal kept, j9 queued", j.err, j.actErr, j.note)
	}
	p := NewJobs()
	p.err, p.actErr = formErr, j.actErr
	mount(t, p)
	wantText(t, p, "jobs-error", formErr)
	wantText(t, p, "jobs-act-error", j.actErr)
}

// TestJobsWatchGone: the watched job's event stream is refused and the
// job list no longer holds it (the server started again on another data
// directory): the page stops opening the stream and says the job is gone;
// before, it opened it again every 2 s for as long as the page was open,
// showing the refusal. A refused stream of a listed job, or an unread
// list, is retried as before.
func TestJobsWatchGone(t *testing.T) {
	j1 := msg.Job{ID: "j1", State: msg.JobQueued, Config: jobConfig(), Created: "1"}
	j2 := msg.Job{ID: "j2", State: msg.JobDone, Config: jobConfig(), Created: "2"}
	refused := errors.New("the server refused the event stream, or is not there")
	j := NewJobs()
	j.SetJobs([]msg.Job{j1, j2}, nil)
	j.watchJob(app.Context{}, j1) // outside a browser: no stream
	w := j.watch
	for _, list := range []struct {
		jobs []msg.Job
		err  error
	}{{[]msg.Job{j1, j2}, nil}, {nil, errors.New("the server could not be reached")}} {
		if j.streamEnded(w, refused) {
			t.Fatal("a refused stream of a job that may still be there is final")
		}
		j.SetJobs(list.jobs, list.err)
		if w.Gone || j.eventsErr == "" {
			t.Errorf("list %v (%v): gone %v, events error %q; want the stream retried, and its error shown", list.jobs, list.err, w.Gone, j.eventsErr)
		}
	}
	j.SetJobs([]msg.Job{j2}, nil)
	if !j.streamEnded(w, refused) || w.Status() != "gone: the server no longer has this job" || j.eventsErr != "" {
		t.Errorf("refused, and not listed: final %v, status %q, events error %q; want final, gone, no error", w.Final(), w.Status(), j.eventsErr)
	}

	// A job whose stream reads is kept, even when a list read before it
	// was queued does not hold it.
	j.watchJob(app.Context{}, j1)
	if j.streamEnded(j.watch, nil) {
		t.Error("the end of a queued job's stream is final")
	}
	j.SetJobs([]msg.Job{j2}, nil)
	if j.watch.Gone {
		t.Error("a job whose stream read, missing from a list, is gone")
	}
}

// TestJobsWatchNextWhenGone: once the watched job is gone (the server no
// longer has it), the page's next read of the list watches the active job
// there is, as it does when it watches none; a watched job still there,
// ended or not, is kept. Before, a gone job stayed watched until the
// page was loaded again.
func TestJobsWatchNextWhenGone(t *testing.T) {
	j1 := msg.Job{ID: "j1", State: msg.JobRunning, Config: jobConfig(), Created: "1"}
	j2 := msg.Job{ID: "j2", State: msg.JobDone, Config: jobConfig(), Created: "2"}
	j3 := msg.Job{ID: "j3", State: msg.JobRunning, Config: jobConfig(), Created: "3"}
	j := NewJobs()
	j.SetJobs([]msg.Job{j1, j2}, nil)
	if job, ok := j.toWatch(); !ok || job.ID != "j1" {
		t.Fatalf("no watch: the page would watch %q (%v), want the running j1", job.ID, ok)
	}
	j.watchJob(app.Context{}, j2) // a done job, chosen by its Watch button
	if job, ok := j.toWatch(); ok {
		t.Errorf("watching the done j2, still listed: the page would switch to %q", job.ID)
	}
	j.streamEnded(j.watch, errors.New("refused"))
	j.SetJobs([]msg.Job{j3}, nil) // j2 is gone
	if !j.watch.Gone {
		t.Fatal("j2, refused and not listed, is not gone")
	}
	if job, ok := j.toWatch(); !ok || job.ID != "j3" {
		t.Errorf("watching the gone j2: the page would watch %q (%v), want the running j3", job.ID, ok)
	}
	j.SetJobs(nil, nil)
	if _, ok := j.toWatch(); ok {
		t.Error("no job listed: the page would watch one")
	}
}

// resumeWays are the ways the page learns that the interrupted job it
// watches (watchingInterrupted) was resumed: from the list, the job
// resumed elsewhere, and by its own Resume.
func resumeWays() map[string]func(j *Jobs, job msg.Job) {
	return map[string]func(j *Jobs, job msg.Job){
		"resumed elsewhere": func(j *Jobs, job msg.Job) {
			job.State = msg.JobQueued
			j.SetJobs([]msg.Job{job}, nil)
			got, _ := j.toWatch()
			j.watchJob(app.Context{}, got)
		},
		"resumed by the page": func(j *Jobs, job msg.Job) {
			job.State = msg.JobQueued
			j.watchJob(app.Context{}, job)
		},
	}
}

// watchingInterrupted returns a Jobs page that watches job j1, listed
// running, whose stream has drawn steps 100, 200 (its checkpoint) and 250,
// then said interrupted.
func watchingInterrupted(t *testing.T) (*Jobs, msg.Job) {
	t.Helper()
	job := msg.Job{ID: "j1", State: msg.JobRunning, Config: jobConfig(), Created: "1", Step: 250, Steps: 400, CkptStep: 200}
	j := NewJobs()
	j.SetJobs([]msg.Job{job}, nil)
	j.watchJob(app.Context{}, job)
	for _, step := range []int{100, 200, 250} {
		receive(t, j.watch, fmt.Sprintf(`{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":0,"step":%d,"steps":400,"loss":1,"accuracy":0.5}}`, step))
	}
	receive(t, j.watch, `{"v":1,"type":"state","trainer":"j1","state":"interrupted"}`)
	return j, job
}

// receive gives w the event data, and fails t on an error.
func receive(t *testing.T, w *JobWatch, data string) {
	t.Helper()
	if _, err := w.Receive(data); err != nil {
		t.Fatal(err)
	}
}

// TestJobsRewatchKeepsCurves: the job watched again after its stream said
// interrupted keeps the curves drawn so far, as its stream sends only the
// last progress: all of them once canceled elsewhere, those up to its
// checkpoint once resumed (it trains the steps past it again, here or
// elsewhere), and then a viewer that loads is told no progress of a step
// past the checkpoint until the next. Before, the watch started empty: a
// canceled job's chart was blank. Another job's watch starts empty.
func TestJobsRewatchKeepsCurves(t *testing.T) {
	steps := func(line []Point) (xs []float64) {
		for _, p := range line {
			xs = append(xs, p.X)
		}
		return xs
	}
	j, job := watchingInterrupted(t)
	canceled := job
	canceled.State = msg.JobCanceled
	j.SetJobs([]msg.Job{canceled}, nil)
	got, _ := j.toWatch()
	j.watchJob(app.Context{}, got)
	receive(t, j.watch, `{"v":1,"type":"state","trainer":"j1","state":"canceled"}`)
	receive(t, j.watch, `{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":0,"step":250,"steps":400,"loss":1,"accuracy":0.5}}`)
	if xs := steps(j.watch.Run.LossLine); !slices.Equal(xs, []float64{100, 200, 250}) {
		t.Errorf("j1 canceled elsewhere, watched again: loss at steps %v, want 100, 200, 250", xs)
	}

	for _, resumed := range []func(j *Jobs){
		func(j *Jobs) { // by another page or client
			job := job
			job.State = msg.JobQueued
			j.SetJobs([]msg.Job{job}, nil)
			got, _ := j.toWatch()
			j.watchJob(app.Context{}, got)
		},
		func(j *Jobs) { // by this page's Resume (act)
			job := job
			job.State = msg.JobQueued
			j.watchJob(app.Context{}, job)
		},
	} {
		j, _ := watchingInterrupted(t)
		resumed(j)
		for _, s := range j.watch.CatchUp() {
			if strings.Contains(s, `"type":"progress"`) {
				t.Errorf("j1 resumed from step 200: a viewer that loads now is told %s, want no progress before the next", s)
			}
		}
		receive(t, j.watch, `{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":0,"step":210,"steps":400,"loss":1,"accuracy":0.5}}`)
		if xs, ys := steps(j.watch.Run.LossLine), steps(j.watch.Run.AccLine); !slices.Equal(xs, []float64{100, 200, 210}) || !slices.Equal(ys, xs) {
			t.Errorf("j1 resumed from step 200, then step 210: loss at steps %v, accuracy at %v; want 100, 200, 210", xs, ys)
		}
	}

	j.watchJob(app.Context{}, msg.Job{ID: "j2", State: msg.JobRunning, Config: jobConfig()})
	if n := len(j.watch.Run.LossLine); n != 0 {
		t.Errorf("watching j2 after j1: %d points of loss, want none", n)
	}
}

// TestJobsResumeDropsSnapshot: once the watched job resumed from its
// checkpoint (by this page's Resume, watched again once resumed
// elsewhere, or found so by its stream opened again), a viewer that loads
// is told no snapshot until the job's next: the one kept is of weights the
// resume threw away. Before, CatchUp gave it, the stream's case captioned
// with the resumed run's step. A snapshot after the resume is told.
func TestJobsResumeDropsSnapshot(t *testing.T) {
	const snapshot = `{"v":1,"type":"snapshot","trainer":"j1","snapshot":{"dim":3,"points":[],"labels":[],"genuine":[1],"impostor":[1],"threshold":0.5}}`
	snapshots := func(j *Jobs) (n int) {
		for _, s := range j.watch.CatchUp() {
			if strings.Contains(s, `"type":"snapshot"`) {
				n++
			}
		}
		return n
	}
	ways := resumeWays()
	ways["stream opened again"] = func(j *Jobs, job msg.Job) {
		receive(t, j.watch, `{"v":1,"type":"state","trainer":"j1","state":"running"}`)
		receive(t, j.watch, `{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":0,"step":210,"steps":400,"loss":1,"accuracy":0.5}}`)
	}
	for name, resumed := range ways {
		j, job := watchingInterrupted(t)
		receive(t, j.watch, snapshot)
		if n := snapshots(j); n != 1 {
			t.Fatalf("%s: before the resume, a viewer that loads is told %d snapshots, want 1", name, n)
		}
		resumed(j, job)
		if n := snapshots(j); n != 0 {
			t.Errorf("%s: a viewer that loads is told %d snapshots from before the resume, want none", name, n)
		}
		receive(t, j.watch, snapshot)
		if n := snapshots(j); n != 1 {
			t.Errorf("%s, then a snapshot: a viewer that loads is told %d snapshots, want 1", name, n)
		}
	}
}

// TestJobsWatchResumedElsewhere: a watched job whose stream said
// interrupted, then listed queued or running (resumed by another page or
// client) or canceled, is watched again at the page's next read of the
// list. Before, its stream, final, was not opened again, and the page
// showed it interrupted, "resume it", while the list had it training.
func TestJobsWatchResumedElsewhere(t *testing.T) {
	j, job := watchingInterrupted(t)
	interrupted := job
	interrupted.State = msg.JobInterrupted
	j.SetJobs([]msg.Job{interrupted}, nil)
	if got, ok := j.toWatch(); ok {
		t.Errorf("watching j1, interrupted and listed so: the page would watch %q", got.ID)
	}
	for _, state := range []string{msg.JobQueued, msg.JobRunning, msg.JobCanceled} {
		resumed := job
		resumed.State = state
		j.SetJobs([]msg.Job{resumed}, nil)
		got, ok := j.toWatch()
		if !ok || got.ID != "j1" || got.State != state {
			t.Errorf("j1 interrupted on its stream, listed %s: the page would watch %q %q (%v), want j1 again", state, got.ID, got.State, ok)
		}
	}
	j.SetJobs([]msg.Job{job}, nil) // running again
	j.watchJob(app.Context{}, j.jobs[0])
	if j.watch.State != msg.JobRunning || j.watch.Final() {
		t.Errorf("watching j1 again: state %q, final %v; want running, not final", j.watch.State, j.watch.Final())
	}
	if _, ok := j.toWatch(); ok {
		t.Error("j1 watched again: the page would switch again at the next read")
	}
}

// TestJobsNoRewatchOnStaleList: a list that could not be read is no news
// of the watched job: a job whose stream said interrupted (a server that
// stopped) is not watched again, as running, on the list read before.
func TestJobsNoRewatchOnStaleList(t *testing.T) {
	j, _ := watchingInterrupted(t)
	j.SetJobs(nil, errors.New("connection refused")) // the server is down
	if got, ok := j.toWatch(); ok {
		t.Errorf("list not read: the page would watch %q (%s) again, on the list read before", got.ID, got.State)
	}
}

// TestJobsResumeCutsEpochs: a job resumed from its checkpoint drops, with
// its curves, the epoch ends past the checkpoint (Run.CutAfter): it
// trains those steps again, and its stream sends those epoch ends again.
// Before, they were kept: the page showed the figures of an epoch end
// past the checkpoint until the run came to it again, and each came
// back twice in the Run's epochs.
func TestJobsResumeCutsEpochs(t *testing.T) {
	job := msg.Job{ID: "j1", State: msg.JobRunning, Config: jobConfig(), Created: "1", Step: 250, Steps: 400, CkptStep: 200}
	j := NewJobs()
	j.SetJobs([]msg.Job{job}, nil)
	j.watchJob(app.Context{}, job)
	// Epochs of 25 steps; epoch e's verification accuracy is e/10.
	end := func(epoch int) string {
		return fmt.Sprintf(`{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":%d,"step":%d,"steps":400,"loss":1,"accuracy":0.5,"epoch_end":true,"verification":{"accuracy":%g}}}`,
			epoch, 25*epoch, float64(epoch)/10)
	}
	for _, e := range []int{7, 8, 9, 10} {
		receive(t, j.watch, end(e))
	}
	receive(t, j.watch, `{"v":1,"type":"state","trainer":"j1","state":"interrupted"}`)
	job.State = msg.JobQueued
	j.watchJob(app.Context{}, job) // resumed, by this page's Resume
	epochs := func() (es []int) {
		for _, f := range j.watch.Run.Epochs {
			es = append(es, f.Epoch)
		}
		return es
	}
	if es, f := epochs(), j.watch.Figures(); !slices.Equal(es, []int{7, 8}) || f == nil || f.Accuracy != 0.8 {
		t.Errorf("j1 resumed from step 200: epochs %v, figures %+v; want epochs 7 and 8 (step 200), the figures of 8", es, f)
	}
	for _, e := range []int{9, 10} {
		receive(t, j.watch, end(e))
	}
	if es := epochs(); !slices.Equal(es, []int{7, 8, 9, 10}) {
		t.Errorf("j1 resumed, past epoch 10 again: epochs %v, want 7 to 10 once each", es)
	}
}

// TestJobsResumeStatus: a job resumed from its checkpoint (by this page's
// Resume, or watched again once resumed elsewhere) forgets, with its
// curves, its latest progress, of a step it trains again (Run.CutAfter):
// once running, its status says it is starting until its next progress.
// Before, it said the step reached before the resume, 250, and that
// step's rate and time left.
func TestJobsResumeStatus(t *testing.T) {
	for name, resumed := range resumeWays() {
		j, job := watchingInterrupted(t)
		resumed(j, job)
		receive(t, j.watch, `{"v":1,"type":"state","trainer":"j1","state":"running"}`)
		if got, want := j.watch.Status(), "running: starting…"; got != want {
			t.Errorf("%s from step 200, running: status %q, want %q", name, got, want)
		}
		receive(t, j.watch, `{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":0,"step":210,"steps":400,"loss":1,"accuracy":0.5}}`)
		if got, want := j.watch.Status(), "running: epoch 0, step 210/400, loss 1.0000"; got != want {
			t.Errorf("%s, then step 210: status %q, want %q", name, got, want)
		}
	}
	// A cut at or past the latest progress keeps its step, not its rate
	// and time left: those were of the run before the resume, which
	// the panel's figures and the status would show until the next
	// progress.
	r := NewRun("j1", "arcface")
	r.Progress = msg.Progress{Step: 200, Steps: 400, Loss: 1, ImgPerS: 500, ETA: 60}
	r.LossLine = []Point{{200, 1}}
	r.State = msg.StateRunning
	r.CutAfter(200)
	if p := r.Progress; p.Step != 200 || p.ImgPerS != 0 || p.ETA != 0 {
		t.Errorf("progress of step 200 at 500 img/s cut at 200: step %d, %g img/s, %g s left; want step 200 kept, no rate, no time left", p.Step, p.ImgPerS, p.ETA)
	}
	if got, want := r.Status(), "running: epoch 0, step 200/400, loss 1.0000"; got != want {
		t.Errorf("cut at 200: status %q, want %q", got, want)
	}
}

// TestJobsResumedElsewhereEnded: the watched job, interrupted on its
// stream, resumed by another page or client and ended (done or failed)
// before the page's next read of the list (its tab in the background
// reads none), is watched again with its curves, progress and snapshot
// of the steps the resume threw away dropped, as once resumed: its
// stream, of a job that ended, gives its state and error alone. Before,
// its status said the step reached before the resume, "done: epoch 0,
// step 250/400, loss 1.0000" where the list says 400, and a viewer that
// loads was told that progress and that snapshot as the job's.
func TestJobsResumedElsewhereEnded(t *testing.T) {
	const snapshot = `{"v":1,"type":"snapshot","trainer":"j1","snapshot":{"dim":3,"points":[],"labels":[],"genuine":[1],"impostor":[1],"threshold":0.5}}`
	for _, c := range []struct{ state, event, want string }{
		{msg.JobDone, `{"v":1,"type":"state","trainer":"j1","state":"done"}`, "done: step 400/400, loss 0.5000"},
		{msg.JobFailed, `{"v":1,"type":"state","trainer":"j1","state":"failed"}`, "failed: out of memory"},
	} {
		j, job := watchingInterrupted(t)
		receive(t, j.watch, snapshot)
		job.State, job.Step, job.Loss, job.CkptStep = c.state, 400, 0.5, 0 // the store drops an ended job's checkpoint
		if c.state == msg.JobFailed {
			job.Step, job.Error = 230, "out of memory"
		}
		j.SetJobs([]msg.Job{job}, nil)
		got, ok := j.toWatch()
		if !ok {
			t.Fatalf("j1 interrupted on its stream, listed %s: not watched again", c.state)
		}
		j.watchJob(app.Context{}, got)
		receive(t, j.watch, c.event)
		if got := j.watch.Status(); got != c.want {
			t.Errorf("j1 resumed elsewhere from step 200, then %s: status %q, want %q", c.state, got, c.want)
		}
		for _, s := range j.watch.CatchUp() {
			if strings.Contains(s, `"type":"progress"`) || strings.Contains(s, `"type":"snapshot"`) {
				t.Errorf("j1 resumed elsewhere from step 200, then %s: a viewer that loads is told %s, of the run before the resume", c.state, s)
			}
		}
		for _, p := range j.watch.Run.LossLine {
			if p.X > 200 {
				t.Errorf("j1 resumed elsewhere from step 200, then %s: loss drawn at step %v, past the checkpoint", c.state, p.X)
			}
		}
	}
}

// TestJobsDoneWhileStreamDown: the watched job done while its stream was
// down (a tab in the background opens it again only once shown), whose
// stream, opened again, gives its state and note alone, says the list's
// step and loss, those of its end. Before, its status said the last
// progress its stream gave, "done: epoch 0, step 1800/2000, …", where the
// list says 2000, and the figures of its epoch end at 1800, not the
// job's. A job whose stream gave its last step says that one.
func TestJobsDoneWhileStreamDown(t *testing.T) {
	const note = "data set bars: 36 images, 1 skipped"
	progress := func(step int, loss float64) string {
		return fmt.Sprintf(`{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":0,"step":%d,"steps":2000,"loss":%g,"accuracy":0.5}}`, step, loss)
	}
	epochEnd := func(step int, loss, accuracy float64) string { // epochs of 200 steps
		return fmt.Sprintf(`{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":%d,"step":%d,"steps":2000,"loss":%g,"accuracy":0.5,"epoch_end":true,"verification":{"accuracy":%g}}}`, step/200, step, loss, accuracy)
	}
	for _, c := range []struct {
		name     string
		last     []string // after the stream opened again
		want     string
		accuracy float64
	}{
		{"its end unseen", nil, "done: step 2000/2000, loss 0.3000; " + note, 0.9},
		{"its end seen", []string{epochEnd(2000, 0.3, 0.9)}, "done: epoch 10, step 2000/2000, loss 0.3000, verification accuracy 90.0%; " + note, 0.9},
	} {
		job := msg.Job{ID: "j1", State: msg.JobRunning, Config: jobConfig(), Created: "1", Step: 1800, Steps: 2000}
		j := NewJobs()
		j.SetJobs([]msg.Job{job}, nil)
		j.watchJob(app.Context{}, job)
		for _, e := range append([]string{`{"v":1,"type":"state","trainer":"j1","state":"running"}`, progress(100, 1), epochEnd(1800, 0.5, 0.7)}, c.last...) {
			receive(t, j.watch, e)
		}
		job.State, job.Step, job.Loss, job.Error = msg.JobDone, 2000, 0.3, note
		job.Metrics = &msg.VerificationSummary{Accuracy: 0.9}
		j.SetJobs([]msg.Job{job}, nil)
		receive(t, j.watch, `{"v":1,"type":"state","trainer":"j1","state":"done"}`)
		receive(t, j.watch, `{"v":1,"type":"error","trainer":"j1","error":"`+note+`"}`)
		if got := j.watch.Status(); got != c.want {
			t.Errorf("%s: status %q, want %q", c.name, got, c.want)
		}
		if f := j.watch.Figures(); f == nil || f.Accuracy != c.accuracy {
			t.Errorf("%s: figures %+v, want accuracy %g", c.name, f, c.accuracy)
		}
	}
}

// TestJobsModelNames: a job's model is named as the Models list and the
// Verify page name it, "name (id)", from the server's models, read once
// for the models listed; one the models do not have (deleted since) by
// its id. Before, every one was shown by its id alone.
func TestJobsModelNames(t *testing.T) {
	api := newJobsAPI(
		msg.Job{ID: "j1", State: msg.JobDone, ModelID: "0123456789abcdef", Config: jobConfig(), Created: "1"},
		msg.Job{ID: "j2", State: msg.JobDone, ModelID: "fedcba9876543210", Config: jobConfig(), Created: "2"},
	)
	api.models = []msg.ModelCard{{ID: "0123456789abcdef", Name: "mlp arcface D=3 on mnist"}}
	j, e, ctx, _ := mountJobs(t, api)
	for range 2 { // as at two reads of the list
		j.nameModels(ctx)
		e.ConsumeAll()
	}
	p := NewJobs()
	p.SetJobs(j.jobs, nil)
	p.models = j.models
	mount(t, p)
	wantText(t, p, "job-model-j1", "mlp arcface D=3 on mnist (0123456789abcdef)")
	wantText(t, p, "job-model-j2", "fedcba9876543210")
	if n := api.count("GET /api/models"); n != 1 {
		t.Errorf("the models were read %d times, want once", n)
	}
}

// heldModels passes requests to its Transport, and holds the answer of
// the first read of the models (first is closed once it has it) until
// the second has its own: the first answer comes last.
type heldModels struct {
	Transport
	mu            sync.Mutex
	reads         int
	first, second chan struct{}
}

func (h *heldModels) Do(ctx context.Context, r Request) (Response, error) {
	resp, err := h.Transport.Do(ctx, r)
	if r.Path != "/api/models" {
		return resp, err
	}
	h.mu.Lock()
	h.reads++
	n := h.reads
	h.mu.Unlock()
	switch n {
	case 1:
		close(h.first)
		<-h.second
		time.Sleep(50 * time.Millisecond) // the second's answer is dispatched meanwhile
	case 2:
		close(h.second)
	}
	return resp, err
}

// TestJobsModelNamesLatestRead: of two reads of the models, the list
// having shown a new model between them, the page keeps the later's
// models whatever the order of their answers: an answer that comes after
// that of a read asked since is dropped. Before, the first read's models,
// come last, were kept, without the new model, which stayed named by its
// id alone (its id was not read for again).
func TestJobsModelNamesLatestRead(t *testing.T) {
	api := newJobsAPI(msg.Job{ID: "j1", State: msg.JobDone, ModelID: "m1", Config: jobConfig(), Created: "1"})
	api.models = []msg.ModelCard{{ID: "m1", Name: "one"}}
	j, e, ctx, _ := mountJobs(t, api)
	held := &heldModels{Transport: j.Client.T, first: make(chan struct{}), second: make(chan struct{})}
	j.Client = &Client{T: held}
	j.nameModels(ctx)
	<-held.first // the models without m2, held
	api.mu.Lock()
	api.jobs = append(api.jobs, msg.Job{ID: "j2", State: msg.JobDone, ModelID: "m2", Config: jobConfig(), Created: "2"})
	api.models = append(api.models, msg.ModelCard{ID: "m2", Name: "two"})
	api.mu.Unlock()
	jobs, err := j.Client.Jobs(context.Background())
	j.SetJobs(jobs, err)
	j.nameModels(ctx)
	e.ConsumeAll()
	if got := modelNameIn(j.models, "m2"); got != "two (m2)" {
		t.Errorf("the job of m2 names it %q, want %q", got, "two (m2)")
	}
}

// TestJobsModelRenamed: a model renamed on the Models page (or by the
// API) is named by its new name on the Jobs page once its models are
// read again, modelsRefresh after the last read, and not at every read
// of the list before then. Before, they were read once for each model,
// and the page named it by its old name until a reload.
func TestJobsModelRenamed(t *testing.T) {
	defer func(d time.Duration) { modelsRefresh = d }(modelsRefresh)
	modelsRefresh = 200 * time.Millisecond
	api := newJobsAPI(msg.Job{ID: "j1", State: msg.JobDone, ModelID: "m1", Config: jobConfig(), Created: "1"})
	api.models = []msg.ModelCard{{ID: "m1", Name: "one"}}
	j, e, ctx, _ := mountJobs(t, api)
	j.nameModels(ctx)
	e.ConsumeAll()
	api.mu.Lock()
	api.models = []msg.ModelCard{{ID: "m1", Name: "uno"}}
	api.mu.Unlock()
	j.nameModels(ctx) // a read of the list at once: too soon
	e.ConsumeAll()
	if got, n := modelNameIn(j.models, "m1"), api.count("GET /api/models"); got != "one (m1)" || n != 1 {
		t.Errorf("at once after the rename: %q, the models read %d times; want one (m1), read once", got, n)
	}
	time.Sleep(modelsRefresh)
	j.nameModels(ctx)
	e.ConsumeAll()
	if got := modelNameIn(j.models, "m1"); got != "uno (m1)" {
		t.Errorf("modelsRefresh after the rename, the job names its model %q, want uno (m1)", got)
	}
}

// TestJobsSubmitWithFieldMarkedInvalid: a form of a field marked invalid
// (its text refused, the setting keeping its value before) is not
// submitted: the job would train on a value the form does not show. The
// error says which field; once the field takes a value, the job goes.
// Before, the browser's own check refused such a form (the field's
// validity message, setCustomValidity); since the mark is the page's
// (aria-invalid), the job was queued with the epochs before the text.
func TestJobsSubmitWithFieldMarkedInvalid(t *testing.T) {
	api := newJobsAPI()
	j, e, ctx, _ := mountJobs(t, api)
	j.edit("epochs", "x")
	j.submit(ctx)
	e.ConsumeAll()
	if n := api.count("POST /api/jobs"); n != 0 || !strings.Contains(j.err, "epochs=x") || j.submitting {
		t.Errorf("epochs x refused, then submitted: POST sent %d times, error %q, submitting %v; want none sent, the error naming epochs", n, j.err, j.submitting)
	}
	j.edit("epochs", "3")
	j.submit(ctx)
	e.ConsumeAll()
	if n := api.count("POST /api/jobs"); n != 1 || j.err != "" {
		t.Errorf("epochs 3 taken, then submitted: POST sent %d times, error %q; want it sent once", n, j.err)
	}
	// Glyph classes refused, then the loss triplet chosen: the field,
	// disabled, shows 0 unmarked (glyphsField), and the job goes. Before,
	// it was held back for the text refused in a field that could not
	// be changed.
	j.edit("glyphs", "x")
	j.edit("loss", "triplet")
	j.submit(ctx)
	e.ConsumeAll()
	if n := api.count("POST /api/jobs"); n != 2 || j.err != "" {
		t.Errorf("glyphs x refused, then triplet chosen and submitted: POST sent %d times in all, error %q; want it sent", n, j.err)
	}
	// Held back after a job was queued: the note of that job goes, which
	// beside the error read as this one's ("job j9 queued", "the job was
	// not queued").
	j.edit("epochs", "x")
	j.submit(ctx)
	e.ConsumeAll()
	if n := api.count("POST /api/jobs"); n != 2 || j.note != "" || !strings.Contains(j.err, "epochs=x") {
		t.Errorf("a job queued, then epochs x refused and submitted: POST sent %d times in all, note %q, error %q; want no more sent, no note, the error", n, j.note, j.err)
	}
}

// heldList passes requests to its Transport, and holds the answer of the
// first read of the job list (held is closed once it has it) until
// release is closed.
type heldList struct {
	Transport
	reads         atomic.Int64
	held, release chan struct{}
}

func (h *heldList) Do(ctx context.Context, r Request) (Response, error) {
	resp, err := h.Transport.Do(ctx, r)
	if r.Method == "GET" && r.Path == "/api/jobs" && h.reads.Add(1) == 1 {
		close(h.held)
		<-h.release
	}
	return resp, err
}

// TestJobsListAnswersInOrder: a read of the list every few seconds that
// was under way when Cancel was clicked answers after the Cancel's own
// read (a slow server, a long list): the page keeps the Cancel's list,
// the job canceled; and a read under way when a job is queued does not
// take it out of the list. Before, the late answer showed the job
// canceled queued again, with its Cancel button, and the job queued
// gone, until the next read.
func TestJobsListAnswersInOrder(t *testing.T) {
	api := newJobsAPI(msg.Job{ID: "j1", State: msg.JobQueued, Config: jobConfig(), Created: "1"})
	j, e, ctx, _ := mountJobs(t, api)
	for _, op := range []string{"cancel", "submit"} {
		held := &heldList{Transport: HandlerTransport(api), held: make(chan struct{}), release: make(chan struct{})}
		j.Client = &Client{T: held}
		read := make(chan struct{})
		go func() { // as the page's reads every few seconds
			defer close(read)
			j.readList(ctx, context.Background(), j.Client)
		}()
		<-held.held // j1 queued; no j9
		if op == "cancel" {
			j.act(ctx, j.jobs[0], "cancel")
		} else {
			j.submit(ctx)
		}
		e.ConsumeAll()
		close(held.release)
		<-read
		e.ConsumeAll()
		var ids, states []string
		for _, job := range j.jobs {
			ids, states = append(ids, job.ID), append(states, job.State)
		}
		want := []string{"j1"}
		if op == "submit" {
			want = []string{"j9", "j1"}
		}
		if !slices.Equal(ids, want) || states[len(states)-1] != msg.JobCanceled {
			t.Errorf("after %s and a late answer of a read before it: jobs %v %v, want %v, j1 canceled", op, ids, states, want)
		}
	}
}

// TestJobsCancelWatchedInterrupted: the page's own Cancel of the watched
// job, interrupted, shows it canceled at once, its curves kept, as the
// list's next read would. Before, the watch said "interrupted …: resume
// it" beside the note "job j1 canceled" until that read, seconds later.
func TestJobsCancelWatchedInterrupted(t *testing.T) {
	api := newJobsAPI(msg.Job{ID: "j1", State: msg.JobInterrupted, Config: jobConfig(), Created: "1", Step: 250, Steps: 400, CkptStep: 200})
	w, _ := watchingInterrupted(t)
	j, e, ctx, _ := mountJobs(t, api)
	j.watch = w.watch
	j.act(ctx, j.jobs[0], "cancel")
	e.ConsumeAll()
	if got, want := j.watch.Status(), "canceled at step 250"; j.note != "job j1 canceled" || got != want || len(j.watch.Run.LossLine) != 3 {
		t.Errorf("after Cancel: note %q, watch %q with %d points of loss; want %q with 3", j.note, got, len(j.watch.Run.LossLine), want)
	}
}

// TestJobsCancelWatchedInterruptedReason: the watched job, interrupted
// with its reason on its stream ("resume the job …"), then canceled by
// the page, says no more of that reason, no longer true: its status is
// the canceled job's, with the note the server gives it (its error once
// canceled) and nothing else. Before, the watch kept the reason of the
// interruption from its stream (its Run's error) and said "canceled at
// step 250; the server stopped: resume the job …".
func TestJobsCancelWatchedInterruptedReason(t *testing.T) {
	const (
		note   = "data set bars: 36 images, 1 skipped: 1 under 8 pixels a side"
		reason = "the server stopped: resume the job to go on from its checkpoint at step 200"
	)
	for _, c := range []struct{ note, want string }{
		{"", "canceled at step 250"},
		{note, "canceled at step 250; " + note},
	} {
		api := newJobsAPI(msg.Job{ID: "j1", State: msg.JobInterrupted, Config: jobConfig(), Created: "1", Step: 250, Steps: 400, CkptStep: 200, Error: c.note})
		w, _ := watchingInterrupted(t)
		receive(t, w.watch, `{"v":1,"type":"error","trainer":"j1","error":"`+reason+`"}`)
		j, e, ctx, _ := mountJobs(t, api)
		j.watch = w.watch
		j.act(ctx, j.jobs[0], "cancel")
		e.ConsumeAll()
		if got := j.watch.Status(); got != c.want {
			t.Errorf("note %q, after Cancel: watch %q, want %q", c.note, got, c.want)
		}
	}
}

// stalledTransport takes every request and never answers it, until its
// context is done: a server that accepts a connection and hangs.
type stalledTransport struct{}

func (stalledTransport) Do(ctx context.Context, _ Request) (Response, error) {
	<-ctx.Done()
	return Response{}, ctx.Err()
}

func (stalledTransport) Events(ctx context.Context, _ string, _ func(string)) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestPagesStalledServer: a server that never answers the Jobs page's
// list read, or the Models page's load, is told as the page's error
// after requestTimeout. Before, the read waited for good: the Jobs
// page's refresh stopped without a word, and the Models page said
// "loading the models…" forever.
func TestPagesStalledServer(t *testing.T) {
	defer func(d time.Duration) { requestTimeout = d }(requestTimeout)
	requestTimeout = 50 * time.Millisecond
	j, e, live, _ := mountJobs(t, newJobsAPI())
	stalled := &Client{T: stalledTransport{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		j.readList(live, context.Background(), stalled)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the Jobs page's list read still waits for a server that never answers")
	}
	e.ConsumeAll()
	if !strings.Contains(j.listErr, context.DeadlineExceeded.Error()) {
		t.Errorf("the Jobs page after a list read that timed out: error %q, want it said", j.listErr)
	}

	m := NewModels()
	done = make(chan struct{})
	go func() {
		defer close(done)
		m.load(live, context.Background(), stalled)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the Models page's load still waits for a server that never answers")
	}
	e.ConsumeAll()
	if m.loading || !strings.Contains(m.err, context.DeadlineExceeded.Error()) {
		t.Errorf("the Models page after a load that timed out: loading %v, error %q; want the error said", m.loading, m.err)
	}
}

// flakyModels passes requests to its Transport, and fails the reads of
// the models while down, counting them.
type flakyModels struct {
	Transport
	down  atomic.Bool
	reads atomic.Int64
}

func (f *flakyModels) Do(ctx context.Context, r Request) (Response, error) {
	if r.Path == "/api/models" {
		f.reads.Add(1)
		if f.down.Load() {
			return Response{}, errors.New("connection refused")
		}
	}
	return f.Transport.Do(ctx, r)
}

// TestModelsRefresh: the Models page reads the registry again every
// modelsRefresh: a first read that failed is followed by the models, a
// model deleted elsewhere goes, a read that fails says so beside the
// models last read, and OnDismount stops the reads. Before, the page read
// the registry once, at mount: after an error, or a deletion in another
// tab, it showed the same until a reload.
func TestModelsRefresh(t *testing.T) {
	defer func(d time.Duration) { modelsRefresh = d }(modelsRefresh)
	modelsRefresh = 10 * time.Millisecond
	api := newJobsAPI()
	api.models = []msg.ModelCard{{ID: "m1", Created: "2025-01-01T10:00:00Z"}, {ID: "m2", Created: "2025-01-01T11:00:00Z"}}
	_, e, live, _ := mountJobs(t, api)
	flaky := &flakyModels{Transport: HandlerTransport(api)}
	flaky.down.Store(true)
	m := NewModels()
	c, stop := context.WithCancel(context.Background())
	defer stop()
	m.stop = stop // as OnMount sets it
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.refresh(live, c, &Client{T: flaky}, &fakePage{})
	}()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			e.ConsumeAll()
			if ok() {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: none after 5 s; the page shows %d models, error %q", what, len(m.cards), m.err)
			}
		}
	}
	waitFor("the error of the first read", func() bool { return strings.HasSuffix(m.err, "the server could not be reached") })
	flaky.down.Store(false)
	waitFor("the models once the server answers", func() bool { return m.err == "" && len(m.cards) == 2 })
	api.mu.Lock()
	api.models = api.models[1:]
	api.mu.Unlock()
	waitFor("m1 gone once deleted", func() bool { return len(m.cards) == 1 && m.cards[0].ID == "m2" })
	flaky.down.Store(true)
	waitFor("the error of a later read", func() bool { return m.err != "" })
	if len(m.cards) != 1 {
		t.Errorf("a read that failed left %d models shown, want the 1 read before", len(m.cards))
	}
	m.OnDismount()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the page still reads the registry after OnDismount")
	}
	reads := flaky.reads.Load()
	time.Sleep(10 * modelsRefresh)
	if got := flaky.reads.Load(); got != reads {
		t.Errorf("%d reads of the registry after OnDismount", got-reads)
	}
}

// fakePage stands for the browser's document in the tests of every:
// hidden while hidden is set; show clears it and says so on shown, as a
// visibilitychange event does.
type fakePage struct {
	hidden atomic.Bool
	shown  chan struct{}
}

func (p *fakePage) Hidden() bool           { return p.hidden.Load() }
func (p *fakePage) Shown() <-chan struct{} { return p.shown }

func (p *fakePage) show() {
	p.hidden.Store(false)
	select {
	case p.shown <- struct{}{}:
	default:
	}
}

// TestEveryWhileHidden: the pages' reads of the server's lists (every)
// stop while the page is hidden, its tab in the background, and one is
// made at once when it is shown again; a page opened hidden reads
// nothing until it is shown. Before, the Jobs page read its list every
// 3 s, and the Models page the registry every 10 s, in a tab no one
// looked at.
func TestEveryWhileHidden(t *testing.T) {
	waitFor := func(what string, reads *atomic.Int64, n int64) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); reads.Load() < n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d reads after 5 s, want %d", what, reads.Load(), n)
			}
		}
	}
	const d = 5 * time.Millisecond
	page := &fakePage{shown: make(chan struct{}, 1)}
	page.hidden.Store(true)
	var reads atomic.Int64
	c, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		every(c, d, page, func() {
			if reads.Add(1) == 3 {
				page.hidden.Store(true) // the tab put in the background
			}
		})
	}()
	time.Sleep(20 * d)
	if n := reads.Load(); n != 0 {
		t.Errorf("a page opened hidden read %d times, want none until it is shown", n)
	}
	page.show()
	waitFor("shown", &reads, 3)
	time.Sleep(20 * d)
	if n := reads.Load(); n != 3 {
		t.Errorf("%d reads while hidden, after the third, every %v; want none", n-3, d)
	}
	page.show()
	waitFor("shown again", &reads, 4)
	stop()
	<-done

	// Shown again, the page reads at once, not d after the read before.
	page = &fakePage{shown: make(chan struct{}, 1)}
	reads.Store(0)
	c, stop = context.WithCancel(context.Background())
	defer stop()
	go every(c, time.Hour, page, func() { reads.Add(1) })
	waitFor("the first read", &reads, 1)
	page.hidden.Store(true)
	page.show()
	waitFor("shown again, an hour before the next read", &reads, 2)
}

// endingStream is a server whose event streams end as soon as they are
// opened (a proxy that closes them, a server restarting); opened is told
// the count of the opens at each.
type endingStream struct {
	Transport
	opens  atomic.Int64
	opened func(n int64)
}

func (s *endingStream) Events(context.Context, string, func(string)) error {
	s.opened(s.opens.Add(1))
	return nil
}

// TestJobsWatchWhileHidden: the watched job's event stream, dropped
// while the page is hidden (its tab in the background), is opened again
// only once the page is shown, and then at once, not watchRetry after it
// dropped. Before, it was opened again every watchRetry in a tab no one
// looked at.
func TestJobsWatchWhileHidden(t *testing.T) {
	defer func(d time.Duration) { watchRetry = d }(watchRetry)
	job := msg.Job{ID: "j1", State: msg.JobQueued, Config: jobConfig(), Created: "1"}
	j, e, live, _ := mountJobs(t, newJobsAPI(job))
	j.watchJob(live, job) // outside a browser: no stream, follow below reads it
	// follow reads stream as watchJob would, with page for the document,
	// until the returned func is called.
	follow := func(stream *endingStream, page *fakePage) (stop func()) {
		c, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			j.follow(live, c, &Client{T: stream}, page, job.ID, j.watch)
		}()
		return func() { cancel(); <-done }
	}
	waitFor := func(what string, stream *endingStream, n int64) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); stream.opens.Load() < n; time.Sleep(time.Millisecond) {
			e.ConsumeAll() // follow waits for the page to take each end
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d opens of the stream after 5 s, want %d", what, stream.opens.Load(), n)
			}
		}
	}

	watchRetry = 5 * time.Millisecond
	page := &fakePage{shown: make(chan struct{}, 1)}
	stream := &endingStream{opened: func(n int64) {
		if n == 3 {
			page.hidden.Store(true) // the tab put in the background
		}
	}}
	stop := follow(stream, page)
	waitFor("seen", stream, 3)
	for end := time.Now().Add(20 * watchRetry); time.Now().Before(end); time.Sleep(time.Millisecond) {
		e.ConsumeAll()
	}
	if n := stream.opens.Load(); n != 3 {
		t.Errorf("the stream opened again %d times while the page was hidden, every %v; want none", n-3, watchRetry)
	}
	page.show()
	waitFor("shown again", stream, 4)
	stop()

	// Shown again, the page opens the stream at once, not an hour after
	// it dropped.
	watchRetry = time.Hour
	page = &fakePage{shown: make(chan struct{}, 1)}
	stream = &endingStream{opened: func(n int64) {
		if n == 1 {
			page.hidden.Store(true)
		}
	}}
	stop = follow(stream, page)
	defer stop()
	waitFor("the first open", stream, 1)
	page.show()
	waitFor("shown again, an hour before the next open", stream, 2)
}

// refusedOnce is a server that refuses the first event stream of job j1,
// done, and sends its state on the next ones, which then end.
type refusedOnce struct {
	Transport
	opens atomic.Int64
}

func (s *refusedOnce) Events(_ context.Context, _ string, each func(string)) error {
	if s.opens.Add(1) == 1 {
		return errors.New("the server refused the event stream, or is not there")
	}
	each(`{"v":1,"type":"state","trainer":"j1","state":"done"}`)
	return nil
}

// TestJobsWatchDoneRefused: the stream of a job that has ended, watched
// (its Watch button), refused once (the server's streams all taken,
// restarting), is opened again as a running job's is, and its error goes
// once it reads. Before, the page took the job's end for the stream's and
// did not open it again: the error stayed beside a list read well since,
// and the Watch button, disabled for the job watched, offered no retry.
func TestJobsWatchDoneRefused(t *testing.T) {
	defer func(d time.Duration) { watchRetry = d }(watchRetry)
	watchRetry = 5 * time.Millisecond
	job := msg.Job{ID: "j1", State: msg.JobDone, Config: jobConfig(), Created: "1"}
	j, e, live, _ := mountJobs(t, newJobsAPI(job))
	j.watchJob(live, job) // outside a browser: no stream, follow below reads it
	stream := &refusedOnce{}
	c, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		j.follow(live, c, &Client{T: stream}, &fakePage{}, job.ID, j.watch)
	}()
	ended := func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	for deadline := time.Now().Add(5 * time.Second); !ended(); time.Sleep(time.Millisecond) {
		e.ConsumeAll() // follow waits for the page to take each end
		if time.Now().After(deadline) {
			t.Fatalf("the stream of the done job still followed after 5 s, %d opens", stream.opens.Load())
		}
	}
	e.ConsumeAll()
	if n := stream.opens.Load(); n != 2 || j.eventsErr != "" || j.watch.State != msg.JobDone {
		t.Errorf("a done job's stream refused once: %d opens, events error %q, state %s; want 2, none, done", n, j.eventsErr, j.watch.State)
	}
}

// badEvent is a server whose event stream of each job sends one event
// the page cannot take (a state it does not know) and then stays open
// until it is closed.
type badEvent struct{ Transport }

func (badEvent) Events(c context.Context, _ string, each func(string)) error {
	each(`{"v":1,"type":"state","state":"exploded"}`)
	<-c.Done()
	return c.Err()
}

// TestJobsWatchEventErrorFollowsJob: why an event of the watched job
// could not be taken is shown, with the job's id, as long as that job is
// watched: the Watch of another job takes it away. Before, it was the
// Train's error line (jobErr), which only the next Train cleared, and did
// not name the job: beside the other job watched, it still stood.
func TestJobsWatchEventErrorFollowsJob(t *testing.T) {
	j1 := msg.Job{ID: "j1", State: msg.JobRunning, Config: jobConfig(), Created: "1"}
	j2 := msg.Job{ID: "j2", State: msg.JobDone, Config: jobConfig(), Created: "2"}
	j, e, live, _ := mountJobs(t, newJobsAPI(j1, j2))
	j.watchJob(live, j1) // outside a browser: no stream, follow below reads it
	c, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		j.follow(live, c, &Client{T: badEvent{}}, &fakePage{}, j1.ID, j.watch)
	}()
	defer func() { stop(); <-done }()
	// shown returns the text of the page's lines that hold an error.
	shown := func() string {
		var b strings.Builder
		for _, id := range []string{"jobs-error", "jobs-act-error", "jobs-job-error", "jobs-watch-error", "jobs-list-error", "jobs-events-error"} {
			if _, text, ok := element(t, j.Render(), id); ok {
				b.WriteString(text)
			}
		}
		return b.String()
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(shown(), "exploded"); time.Sleep(time.Millisecond) {
		e.ConsumeAll()
		if time.Now().After(deadline) {
			t.Fatalf("the event of j1 not taken: no error shown after 5 s (%q)", shown())
		}
	}
	if got := shown(); !strings.Contains(got, "j1") {
		t.Errorf("the event of j1 not taken: the error %q does not name j1", got)
	}
	j.watchJob(live, j2) // its Watch button
	if got := shown(); got != "" {
		t.Errorf("j2 watched: the error %q still shown, of an event of j1", got)
	}
}

// TestJobsUnreadableRecord: a job whose record the server could not read
// (failed, error "unreadable record", its configuration empty, as
// server/api's TestUnreadableJobRow lists it) says so in its row and,
// watched, in the heading. Before, both summarised the empty
// configuration: " ·  · D = 0 ·  · 0 epochs".
func TestJobsUnreadableRecord(t *testing.T) {
	bad := msg.Job{ID: "j1", State: msg.JobFailed, Error: msg.JobUnreadable, Steps: 27, Created: "2025-01-01T10:00:00Z"}
	j, e, live, _ := mountJobs(t, newJobsAPI(bad, msg.Job{ID: "j2", State: msg.JobDone, Config: jobConfig(), Created: "2025-01-01T11:00:00Z"}))
	j.watchJob(live, bad)
	e.ConsumeAll()
	h := app.HTMLString(j.Render())
	if strings.Contains(h, "D = 0") || !strings.Contains(h, `<td data-label="experiment">unknown: unreadable record</td>`) ||
		!strings.Contains(h, "job j1 · unknown: unreadable record") {
		t.Errorf("the page of a job of an unreadable record:\n%s\nwant its row's experiment and its heading %q", h, "unknown: unreadable record")
	}
	if !strings.Contains(h, `<td data-label="experiment">`+JobSummary(jobConfig())+"</td>") {
		t.Errorf("the readable job's row lost its experiment %q", JobSummary(jobConfig()))
	}
}

// TestJobsRowError: a job's row says why it failed or was interrupted,
// or how a done job ended, as GET /api/jobs gives it (error): one line
// under the state, whole in its title; when long, each of its parts ("; "
// between them) keeps its start and end, so that a job whose data set's
// load skipped images, its note first, still shows the start of why it
// failed (j7). A job of no error, or of an unreadable record (its
// experiment says so), has none. Before, only the watch said why; then
// the line was shortened as one, its note's start and its reason's end
// kept, the reason's start lost.
func TestJobsRowError(t *testing.T) {
	long := "the job cannot start now: data set faces: " + strings.Repeat("x", 100) + "; its checkpoint is kept: resume the job once that is fixed (the data set restored, say), or cancel it"
	noted := "data set faces: 20 images, 2 skipped: 2 under 8 pixels a side; step 12: loss is NaN (lr too high? try a learning rate of 0.01 or below)"
	j := NewJobs()
	j.SetJobs([]msg.Job{
		{ID: "j1", State: msg.JobFailed, Error: "step 12: loss is NaN", Config: jobConfig(), Created: "1"},
		{ID: "j2", State: msg.JobInterrupted, Error: long, Config: jobConfig(), Created: "2"},
		{ID: "j3", State: msg.JobDone, Error: "diverged at step 30:\nstopped early,\tthe model of step 20 kept", Config: jobConfig(), Created: "3"},
		{ID: "j4", State: msg.JobDone, Config: jobConfig(), Created: "4"},
		{ID: "j5", State: msg.JobFailed, Error: msg.JobUnreadable, Created: "5"},
		{ID: "j6", State: msg.JobRunning, Error: "data set faces: 20 images, 2 skipped: 2 under 8 pixels a side", Config: jobConfig(), Created: "6"},
		{ID: "j7", State: msg.JobFailed, Error: noted, Config: jobConfig(), Created: "7"},
	}, nil)
	mount(t, j)
	for id, want := range map[string]struct{ text, title string }{
		"j1": {"step 12: loss is NaN", "step 12: loss is NaN"},
		"j2": {"the job cannot sta … xxxxxxxxxxxxxxxxxx; its checkpoint is  … say), or cancel it", long},
		"j7": {"data set faces: 20 … er 8 pixels a side; step 12: loss is N …  of 0.01 or below)", noted},
		"j3": {"diverged at step 30: stopped early, the model of step 20 kept", "diverged at step 30: stopped early, the model of step 20 kept"},
		"j6": {"data set faces: 20 images, 2 skipped: 2 under 8 pixels a side", "data set faces: 20 images, 2 skipped: 2 under 8 pixels a side"},
	} {
		tag, text, ok := element(t, j, "job-error-"+id)
		if !ok {
			t.Errorf("%s: no #job-error-%s in its row", id, id)
			continue
		}
		if text != want.text || !strings.Contains(tag, "title="+strconv.Quote(want.title)) {
			t.Errorf("%s: %s%s; want the text %q, the title %q", id, tag, text, want.text, want.title)
		}
		if n := utf8.RuneCountInString(text); n > jobErrorRunes {
			t.Errorf("%s: %d characters shown, want at most %d", id, n, jobErrorRunes)
		}
	}
	for _, id := range []string{"j4", "j5"} {
		if _, text, ok := element(t, j, "job-error-"+id); ok {
			t.Errorf("%s: #job-error-%s says %q, want none", id, id, text)
		}
	}
	if strings.Count(app.HTMLString(j), msg.JobUnreadable) != 1 {
		t.Errorf("the job of an unreadable record says so %d times, want once (its experiment)", strings.Count(app.HTMLString(j), msg.JobUnreadable))
	}
}

// TestJobErrorOneLine: the reason in a job's row (.job-error, whole in
// its title: TestJobsRowError) keeps to one line in the page's
// stylesheet, cut with an ellipsis at a bounded width, so that a long one
// does not make its row tall or the state column wide. Before, it wrapped
// in its cell. The rule as web/metriclab.css writes it: how a browser
// lays it out is not checked here.
func TestJobErrorOneLine(t *testing.T) {
	css, err := os.ReadFile("../web/metriclab.css")
	if err != nil {
		t.Fatal(err)
	}
	rule := regexp.MustCompile(`(?m)^\.job-error \{([^}]*)\}`).FindStringSubmatch(string(css))
	if rule == nil {
		t.Fatal("web/metriclab.css has no rule .job-error")
	}
	decl := map[string]string{}
	for _, d := range strings.Split(rule[1], ";") {
		if k, v, ok := strings.Cut(d, ":"); ok {
			decl[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	for k, want := range map[string]string{"white-space": "nowrap", "overflow": "hidden", "text-overflow": "ellipsis"} {
		if decl[k] != want {
			t.Errorf(".job-error's %s is %q, want %q", k, decl[k], want)
		}
	}
	if decl["max-width"] == "" {
		t.Error(".job-error has no max-width: its line, not wrapped, would widen the state column to its length")
	}
}

// TestJobsButtonsWrap: a job's buttons wrap in their cell where its row
// would run off the window (web/metriclab.css), as a model's do: in a
// window over the width under which the rows are cards, the table beside
// the form, an interrupted job's three (Watch, Resume, Cancel) on one
// line ran the page 60 px off a window of 1001 to about 1060 px
// (measured in headless Chromium: 1065 px wide in a window of 1024). The
// rule as the stylesheet writes it: how a browser lays it out is not
// checked here.
func TestJobsButtonsWrap(t *testing.T) {
	b, err := os.ReadFile("../web/metriclab.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	cards := regexp.MustCompile(`(?m)^@media \(max-width: (\d+)px\) \{\n  table\.registry, `).FindStringSubmatch(css)
	wrap := regexp.MustCompile(`(?m)^@media \(min-width: (\d+)px\) and \(max-width: \d+px\) \{\n  \.jobs-page table\.registry td\.actions \{ white-space: normal; \}`).FindStringSubmatch(css)
	if cards == nil || wrap == nil {
		t.Fatalf("metriclab.css: the cards' rule %q, the jobs' buttons' %q; want an @media (max-width) of the cards, and one of the width after it that wraps .jobs-page table.registry td.actions", cards, wrap)
	}
	if n, m := atoi(t, cards[1]), atoi(t, wrap[1]); m != n+1 {
		t.Errorf("metriclab.css: the jobs' buttons wrap from %d px, the rows are cards up to %d px; want them to wrap from %d px", m, n, n+1)
	}
}

// atoi returns the integer s.
func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestJobFormLossParams: the loss parameters of the form's settings, a
// link's or a preset's, are fields of the form, and the job is posted
// with what they show; one typed is posted, one typed at its default
// follows D as the playground's does (Settings.WithParam), and one
// refused, then a loss without it chosen, holds nothing back. Before,
// the form had no such field: "#loss=arcface&s=64&m=0.5" queued a job of
// s = 64 and m = 0.5 that the form showed nowhere and could not change.
func TestJobFormLossParams(t *testing.T) {
	value := func(j *Jobs, id string) string {
		t.Helper()
		tag, _, ok := element(t, j.renderForm(), id) // the form as the page's state draws it now
		if !ok {
			t.Fatalf("no #%s in the form", id)
		}
		m := regexp.MustCompile(`value="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			t.Fatalf("#%s has no value: %s", id, tag)
		}
		return m[1]
	}
	for _, c := range []struct {
		hash string
		want map[string]string // field id: value shown
	}{
		{"#loss=arcface&s=64&m=0.5&dim=2", map[string]string{"job-param-s": "64", "job-param-m": "0.5", "job-param-easy_margin": "0"}},
		{"#preset=faces", map[string]string{"job-param-s": "16", "job-param-m": "0.2"}},
		{"#loss=cosface&dim=2", map[string]string{"job-param-s": "16", "job-param-m": "0.14"}}, // the defaults at D = 2
		{"#loss=cosface&m=0.123456789012", map[string]string{"job-param-m": "0.123456789012"}}, // whole, as posted
	} {
		s, notices := ParseHash(c.hash)
		if len(notices) > 0 {
			t.Fatalf("%s: %q", c.hash, notices)
		}
		api := newJobsAPI()
		j, e, ctx, _ := mountJobs(t, api)
		j.form = jobSettings(s)
		for id, want := range c.want {
			if got := value(j, id); got != want {
				t.Errorf("%s: #%s shows %q, want %q", c.hash, id, got, want)
			}
		}
		j.submit(ctx)
		e.ConsumeAll()
		if len(api.posted) != 1 {
			t.Fatalf("%s: %d jobs posted, want 1 (error %q)", c.hash, len(api.posted), j.err)
		}
		for k, v := range api.posted[0].LossParams {
			if got := value(j, "job-param-"+k); got != strconv.FormatFloat(v, 'g', -1, 64) {
				t.Errorf("%s: posted %s = %g, the form shows %q", c.hash, k, v, got)
			}
		}
	}

	api := newJobsAPI()
	j, e, ctx, _ := mountJobs(t, api)
	j.edit("loss", "cosface")
	j.edit("m", "0.4")
	j.edit("s", "16") // its default at D = 3: follows D
	j.edit("dim", "128")
	if got := value(j, "job-param-m") + " " + value(j, "job-param-s"); got != "0.4 64" || j.err != "" {
		t.Errorf("cosface, m = 0.4 and s = 16 (its default) typed at D = 3, then D = 128: the form shows m, s = %q (error %q), want \"0.4 64\"", got, j.err)
	}
	j.edit("s", "x")
	if _, set := j.form.Params["s"]; !strings.Contains(j.err, "s=x") || set || j.refused["s"] == "" {
		t.Errorf("s = x typed: error %q, s set %v, marked %q; want it refused, marked, s following D", j.err, set, j.refused["s"])
	}
	j.edit("loss", "softmax") // no s: nothing left marked
	j.submit(ctx)
	e.ConsumeAll()
	if len(api.posted) != 1 || j.err != "" || len(api.posted[0].LossParams) != 0 {
		t.Errorf("s = x refused, then softmax: %d posted (%+v), error %q; want one softmax job of no parameter", len(api.posted), api.posted, j.err)
	}
}

// TestJobsServerDataSets: the Jobs page lists the server's data sets
// (GET /api/datasets) in its Data select, after MNIST, each with its
// identities and images; a link of a folder opened before they are read
// keeps it, and Train posts it with its classes as typed and the preset's
// input shape; a folder the server does not list is not used once they
// are read, and said so; from a folder back to MNIST, the folder's
// classes are marked refused on the Classes field, which still shows
// them, and hold the job back; and a read that fails says so in one
// line, the select offering MNIST. Before, the page had no such read, its
// select offered MNIST alone and a link's data=faces was refused.
func TestJobsServerDataSets(t *testing.T) {
	sets := []msg.Dataset{{Name: "mnist", Identities: 10, Samples: 70000, Builtin: true}, {Name: "faces", Identities: 12, Samples: 240}}
	api := newJobsAPI()
	api.sets = sets
	j, e, ctx, _ := mountJobs(t, api)
	read := func() {
		j.readList(ctx, context.Background(), j.Client)
		e.ConsumeAll()
	}
	j.open("#preset=faces&data=faces&classes=s01-s20&epochs=2")
	if j.form.Data != "faces" || j.form.Classes != "s01-s20" || j.err != "" {
		t.Fatalf("#data=faces&classes=s01-s20 before the data sets are read: data %q, classes %q, error %q; want them taken", j.form.Data, j.form.Classes, j.err)
	}
	read()
	if texts, selected := dataOptionTexts(j); j.form.Data != "faces" || j.err != "" || api.count("GET /api/datasets") != 1 ||
		!slices.Equal(texts, []string{"mnist", "faces (12 identities, 240 images)"}) || selected != texts[1] {
		t.Errorf("the data sets read: data %q, error %q, the select %q, %q selected; want mnist, then faces with its counts, selected", j.form.Data, j.err, texts, selected)
	}
	if tag, _, _ := element(t, j.renderForm(), "job-classes"); !strings.Contains(tag, `placeholder="all, or names (s01-s20) or numbers"`) || !strings.Contains(tag, `value="s01-s20"`) {
		t.Errorf("the classes of a folder: %s", tag)
	}
	j.submit(ctx)
	e.ConsumeAll()
	if len(api.posted) != 1 || api.posted[0].Data != "faces" || api.posted[0].Classes != "s01-s20" || api.posted[0].Input != "1x48x48" {
		t.Fatalf("Train on faces: posted %+v (error %q); want data faces, classes s01-s20, input 1x48x48", api.posted, j.err)
	}

	// Back to MNIST: s01-s20 is refused on the field, which shows it,
	// and holds the job back; back to faces, it is taken again.
	j.edit("data", "mnist")
	if tag, _, _ := element(t, j.renderForm(), "job-classes"); j.form.Data != "mnist" || j.form.Classes != "" || j.refused["classes"] == "" ||
		!strings.Contains(tag, `value="s01-s20"`) || !regexp.MustCompile(`\saria-invalid[\s=>]`).MatchString(tag) || !strings.Contains(j.err, "s01-s20") {
		t.Errorf("faces s01-s20, then mnist: data %q, classes %q, marked %q, error %q, field %s; want mnist, s01-s20 shown refused", j.form.Data, j.form.Classes, j.refused["classes"], j.err, tag)
	}
	j.submit(ctx)
	e.ConsumeAll()
	if len(api.posted) != 1 || !strings.Contains(j.err, "a field marked invalid") {
		t.Errorf("Train with s01-s20 refused on mnist: %d posted, error %q; want none", len(api.posted), j.err)
	}
	j.edit("data", "faces")
	if j.form.Data != "faces" || j.form.Classes != "s01-s20" || len(j.refused) != 0 || j.err != "" {
		t.Errorf("then faces again: data %q, classes %q, marked %q, error %q; want faces s01-s20, nothing marked", j.form.Data, j.form.Classes, j.refused, j.err)
	}

	// A folder the server does not list, opened before the read, and a
	// read that fails.
	api = newJobsAPI()
	api.sets = sets
	j, e, ctx, _ = mountJobs(t, api)
	j.open("#data=cats&classes=s01-s20")
	read()
	if j.form.Data != "mnist" || j.form.Classes != "" || !strings.Contains(j.err, "data=cats is not one of mnist, faces") {
		t.Errorf("#data=cats, not listed: data %q, classes %q, error %q; want mnist, all, and why", j.form.Data, j.form.Classes, j.err)
	}
	api = newJobsAPI()
	api.setsErr = "the data folder cannot be read"
	j, e, ctx, _ = mountJobs(t, api)
	read()
	if texts, _ := dataOptionTexts(j); j.setsErr != "the data sets could not be read: the data folder cannot be read (500)" || !slices.Equal(texts, []string{"mnist"}) {
		t.Errorf("a read that fails: %q, the select %q; want it said, mnist alone offered", j.setsErr, texts)
	}
	if _, text, _ := element(t, j.Render(), "jobs-sets-error"); text != j.setsErr {
		t.Errorf("#jobs-sets-error %q, want %q", text, j.setsErr)
	}
}

// dataOptionTexts returns the texts of the options of the Jobs form's
// Data select, and that of the one selected.
func dataOptionTexts(j *Jobs) (texts []string, selected string) {
	for _, m := range regexp.MustCompile(`<option([^>]*)>([^<]*)</option>`).FindAllStringSubmatch(app.HTMLString(j.dataField()), -1) {
		texts = append(texts, m[2])
		if regexp.MustCompile(`\sselected(\s|$)`).MatchString(m[1]) {
			selected = m[2]
		}
	}
	return texts, selected
}

// TestJobsModelCellNoModel: a job without a model yet (queued, running,
// canceled) shows "–" in its model cell, as its loss before a step: the
// cell was empty, and a card (a narrow window) drew its "model" label
// with nothing after it (R17).
func TestJobsModelCellNoModel(t *testing.T) {
	j := NewJobs()
	j.SetJobs([]msg.Job{{ID: "j1", State: msg.JobRunning, Step: 3, Steps: 40, Config: jobConfig(), Created: "1"}}, nil)
	h := app.HTMLString(j)
	row := regexp.MustCompile(`(?s)<tr[^>]*\sid="job-j1"[^>]*>(.*?)</tr>`).FindStringSubmatch(h)
	if row == nil {
		t.Fatalf("no row #job-j1:\n%s", h)
	}
	cell := regexp.MustCompile(`(?s)<td[^>]*\sdata-label="model"[^>]*>(.*?)</td>`).FindStringSubmatch(row[1])
	if cell == nil || strings.TrimSpace(cell[1]) != "–" {
		t.Errorf("the model cell of a job without a model: %q, want –", cell)
	}
}

// TestJobsBatchDefault: the job of the Verify page's link to a data set
// of the server (/jobs#data=webcam&preset=faces), its batch untouched, is
// posted with the preset's batch as a default, which the server lowers to
// the training images of a small data set; so is the form's own 64 with
// no preset. A batch typed is the user's, posted as given. Before, the
// page posted every batch as given, and the server refused the preset's
// 32 on two enrolled people's 28 training images.
func TestJobsBatchDefault(t *testing.T) {
	api := newJobsAPI()
	api.sets = []msg.Dataset{{Name: "webcam", Identities: 2, Samples: 40}}
	j, e, ctx, _ := mountJobs(t, api)
	j.SetDatasets(api.sets, nil)
	for _, c := range []struct {
		link, batch string // batch: typed after the link is opened, "" for none
		want        int
		isDefault   bool
	}{
		{"#data=webcam&preset=faces", "", 32, true},
		{"#data=webcam", "", 64, true},
		{"#data=webcam&preset=faces", "16", 16, false},
		{"#data=webcam", "128", 128, false},
	} {
		j.open(c.link)
		if c.batch != "" {
			j.edit("batch", c.batch)
		}
		j.submit(ctx)
		e.ConsumeAll()
		if len(api.posted) == 0 {
			t.Fatalf("%s, batch %q typed: nothing posted (%s)", c.link, c.batch, j.jobErr)
		}
		got := api.posted[len(api.posted)-1]
		if got.Data != "webcam" || got.Batch != c.want || got.BatchDefault != c.isDefault {
			t.Errorf("%s, batch %q typed: posted data %s, batch %d, default %v; want webcam, %d, %v", c.link, c.batch, got.Data, got.Batch, got.BatchDefault, c.want, c.isDefault)
		}
	}
}

// downTransport is t while down is unset, and a stopped server while it
// is set: no answer, as a browser's fetch says it, and a refused stream.
type downTransport struct {
	t    Transport
	down atomic.Bool
}

func (d *downTransport) Do(ctx context.Context, r Request) (Response, error) {
	if d.down.Load() {
		return Response{}, errors.New("TypeError: Failed to fetch")
	}
	return d.t.Do(ctx, r)
}

func (d *downTransport) Events(ctx context.Context, path string, each func(string)) error {
	if d.down.Load() {
		return errors.New("the server refused the event stream, or is not there")
	}
	return d.t.Events(ctx, path, each)
}

// TestJobsServerUnreachable: the server stops under a running job (step
// 2 of 10 seen, 9 s left) and comes back with it interrupted at its
// checkpoint, step 3 (the server's stop saves one). While it cannot be
// reached, one line says so, without the browser's "TypeError: Failed to
// fetch"; the header, the job's row and its status say the job as last
// seen, with no time left. Once back, the row and the status say the
// server's step, 3, before and after the stream says interrupted; the
// note "job j1 queued" went once the list had it running. Before, three
// banners ended in "TypeError: Failed to fetch" and "the server refused
// the event stream", the status said "running: …, 9s left" and the row
// "running", then "interrupted at step 2: resume it to go on from its
// checkpoint at step 3" beside the row's 3/10, under "job j1 queued".
func TestJobsServerUnreachable(t *testing.T) {
	j1 := msg.Job{ID: "j1", State: msg.JobRunning, Config: jobConfig(), Created: "2", Step: 2, Steps: 10, Loss: 0.7163}
	j2 := msg.Job{ID: "j2", State: msg.JobDone, Config: jobConfig(), Created: "1", Step: 10, Steps: 10, Loss: 0.2239}
	api := newJobsAPI(j1, j2)
	tr := &downTransport{t: HandlerTransport(api)}
	j := NewJobs()
	j.Client = &Client{T: tr}
	read := func() { // as readList reads
		c := context.Background()
		jobs, err := j.Client.Jobs(c)
		sets, setsErr := j.Client.Datasets(c)
		j.SetDatasets(sets, setsErr)
		j.SetJobs(jobs, err)
	}
	text := func(id string) string {
		t.Helper()
		_, s, ok := element(t, j.Render(), id)
		if !ok {
			t.Fatalf("no #%s", id)
		}
		return s
	}
	j.note, j.noteJob = "job j1 queued", "j1" // as submit says it
	read()
	j.watchJob(app.Context{}, j1)
	receive(t, j.watch, `{"v":1,"type":"state","trainer":"j1","state":"running"}`)
	receive(t, j.watch, `{"v":1,"type":"progress","trainer":"j1","progress":{"epoch":2,"step":2,"steps":10,"loss":0.7163,"accuracy":0.5,"img_per_s":29,"eta_s":9}}`)
	if s := text("job-status"); !strings.HasSuffix(s, "9s left") {
		t.Fatalf("running: status %q, want its time left", s)
	}

	tr.down.Store(true)
	read()
	j.streamEnded(j.watch, errors.New("the server refused the event stream, or is not there")) // as follow
	h := app.HTMLString(j.Render())
	if n := strings.Count(h, "could not be reached"); n != 1 || strings.Contains(h, "TypeError") || strings.Contains(h, "refused the event stream") {
		t.Errorf("server stopped: %d lines say it cannot be reached, want 1, and no TypeError nor refused stream:\n%s", n, h)
	}
	if s := text("jobs-list-error"); !strings.HasPrefix(s, "the server could not be reached: the jobs below are as it listed them at ") {
		t.Errorf("server stopped: list line %q", s)
	}
	for id, want := range map[string]string{
		"job-status":      "last seen running: epoch 2, step 2/10, loss 0.7163",
		"job-status-live": "last seen running: epoch 2, step 2/10, loss 0.7163",
		"jobs-note":       "",
	} {
		if s := text(id); s != want {
			t.Errorf("server stopped: #%s %q, want %q", id, s, want)
		}
	}
	// go-app writes a cell's attributes in either order.
	if !regexp.MustCompile(`<td [^>]*class="job-state"[^>]*>last seen running</td>`).MatchString(h) {
		t.Errorf("server stopped: j1's row does not say it running as last seen:\n%s", h)
	}
	if s := text("jobs-status"); !strings.HasPrefix(s, "2 jobs as of ") || !strings.HasSuffix(s, ": 1 running, 0 queued") {
		t.Errorf("server stopped: header %q, want the jobs as of the last read", s)
	}

	api.mu.Lock()
	j1.State, j1.Step, j1.CkptStep, j1.Loss = msg.JobInterrupted, 3, 3, 0.8991
	api.jobs[0] = j1
	api.mu.Unlock()
	tr.down.Store(false)
	read()
	const want = "interrupted at step 3: resume it to go on from its checkpoint at step 3"
	h = app.HTMLString(j.Render())
	if strings.Contains(h, "could not be reached") || strings.Contains(h, "last seen") || !strings.Contains(h, `<td data-label="step">3/10</td>`) {
		t.Errorf("server back: the page still says it cannot be reached, or j1 as last seen, or not at step 3:\n%s", h)
	}
	if s := text("job-status"); s != want {
		t.Errorf("server back, the stream not yet open: status %q, want %q", s, want)
	}
	receive(t, j.watch, `{"v":1,"type":"state","trainer":"j1","state":"interrupted"}`)
	if s := text("job-status"); s != want {
		t.Errorf("server back, the stream says interrupted: status %q, want %q", s, want)
	}
}

// TestJobsCancelMeetsEnd: a Cancel that reaches a job just done or
// failed (the server's 409, which ends with how to remove its record,
// curl's words) reads the job again and says in plain words that it had
// ended, its row showing it so, with its Remove. Before, the alert showed
// the API's text: "cancel j1: job j1 is done: …; DELETE
// /api/jobs/j1?remove=1 removes its record (409)".
func TestJobsCancelMeetsEnd(t *testing.T) {
	for _, state := range []string{msg.JobDone, msg.JobFailed} {
		api := newJobsAPI(msg.Job{ID: "j1", State: state, Config: jobConfig(), Created: "1"})
		j, e, ctx, _ := mountJobs(t, api)
		j.SetJobs([]msg.Job{{ID: "j1", State: msg.JobRunning, Config: jobConfig(), Created: "1"}}, nil) // as read before
		j.act(ctx, j.jobs[0], "cancel")
		e.ConsumeAll()
		want := "job j1 had already ended (" + state + ") before the cancel reached it"
		if j.note != want || j.actErr != "" || j.jobs[0].State != state {
			t.Errorf("cancel of j1, %s meanwhile: note %q, alert %q, row %s; want note %q, no alert, %s", state, j.note, j.actErr, j.jobs[0].State, want, state)
		}
		if _, _, ok := element(t, j.Render(), "remove-j1"); !ok {
			t.Errorf("cancel of j1, %s meanwhile: no #remove-j1", state)
		}
	}
}

// askRemove presses the Remove of job id, keepJob its Keep: the
// handlers' calls.
func askRemove(j *Jobs, id string) { j.confirm.ask(j.removeSlot(j.jobs[jobIndex(j, id)])) }
func keepJob(j *Jobs, id string)   { j.confirm.keep(j.removeSlot(j.jobs[jobIndex(j, id)])) }

// jobIndex is the row of job id on j, -1 for none.
func jobIndex(j *Jobs, id string) int {
	return slices.IndexFunc(j.jobs, func(o msg.Job) bool { return o.ID == id })
}

// TestJobsRemove: an ended job's row has Remove (named for its job), and
// no active one's; Remove asks first, Keep and Confirm remove, the focus
// on Keep, the confirmation saying that the model stays; Confirm remove
// sends DELETE ?remove=1 and the row goes, the note saying so, the focus
// on the next row's Watch. A list read before the removal and answered
// after it does not bring the row back.
func TestJobsRemove(t *testing.T) {
	api := newJobsAPI(
		msg.Job{ID: "j1", State: msg.JobRunning, Config: jobConfig(), Created: "1"},
		msg.Job{ID: "j2", State: msg.JobDone, ModelID: "m2", Config: jobConfig(), Created: "2"},
		msg.Job{ID: "j3", State: msg.JobFailed, Config: jobConfig(), Created: "3"},
		msg.Job{ID: "j4", State: msg.JobCanceled, Config: jobConfig(), Created: "4"},
	)
	j, e, ctx, _ := mountJobs(t, api)
	before := slices.Clone(api.jobs)
	for _, id := range []string{"j2", "j3", "j4"} {
		tag, text, ok := element(t, j.Render(), "remove-"+id)
		if !ok || text != "Remove" || !strings.Contains(tag, ` aria-label="remove job `+id+`"`) || !strings.Contains(tag, ` type="button"`) {
			t.Errorf("#remove-%s: %q %q (there: %v); want a button Remove named \"remove job %s\"", id, tag, text, ok, id)
		}
	}
	if _, _, ok := element(t, j.Render(), "remove-j1"); ok {
		t.Error("#remove-j1 there, for a running job")
	}
	askRemove(j, "j2")
	if _, _, ok := element(t, j.Render(), "remove-j2"); ok || j.focused != "keep-job-j2" {
		t.Errorf("after Remove: #remove-j2 there %v, focus %q; want Keep and Confirm remove, the focus on #keep-job-j2", ok, j.focused)
	}
	tag, text, ok := element(t, j.Render(), "confirm-remove-j2")
	if !ok || text != "Confirm remove" || !strings.Contains(tag, ` aria-label="confirm remove of job j2"`) {
		t.Errorf("#confirm-remove-j2: %q %q (there: %v)", tag, text, ok)
	}
	if _, hint, _ := element(t, j.Render(), "remove-hint-j2"); !strings.Contains(hint, "its model stays on the Models page") {
		t.Errorf("#remove-hint-j2 = %q, want it to say the model stays", hint)
	}
	keepJob(j, "j2")
	if _, _, ok := element(t, j.Render(), "remove-j2"); !ok || j.focused != "remove-j2" {
		t.Errorf("after Keep: #remove-j2 there %v, focus %q; want Remove back, focused", ok, j.focused)
	}
	askRemove(j, "j2")
	j.remove(ctx, j.jobs[2]) // newest first: j4, j3, j2, j1
	e.ConsumeAll()
	if api.count("remove j2") != 1 || api.count("DELETE j2") != 0 {
		t.Errorf("Confirm remove sent %d DELETE ?remove=1 and %d plain DELETE; want 1 and 0", api.count("remove j2"), api.count("DELETE j2"))
	}
	if _, _, ok := element(t, j.Render(), "job-j2"); ok || j.note != "removed job j2; its model stays on the Models page" || j.actErr != "" {
		t.Errorf("after Confirm remove: row there %v, note %q, alert %q; want the row gone and the note", ok, j.note, j.actErr)
	}
	if j.focused != "watch-j1" {
		t.Errorf("after Confirm remove: focus %q, want #watch-j1 (the next row's)", j.focused)
	}
	j.SetJobs(before, nil) // a read started before the removal
	if _, _, ok := element(t, j.Render(), "job-j2"); ok {
		t.Error("a list read before the removal brought #job-j2 back")
	}
}

// TestJobsRemoveResumedMeanwhile: a Remove of a job resumed since the
// list was read (409) says so in plain words as the page's alert, and the
// row shows the job as it is now, with its Cancel.
func TestJobsRemoveResumedMeanwhile(t *testing.T) {
	api := newJobsAPI(msg.Job{ID: "j1", State: msg.JobQueued, Config: jobConfig(), Created: "1"})
	j, e, ctx, _ := mountJobs(t, api)
	j.SetJobs([]msg.Job{{ID: "j1", State: msg.JobCanceled, Config: jobConfig(), Created: "1"}}, nil) // as read before
	askRemove(j, "j1")
	j.remove(ctx, j.jobs[0])
	e.ConsumeAll()
	want := "job j1 was not removed: it is queued again (resumed meanwhile); cancel it first to remove it"
	if j.actErr != want || j.note != "" || len(j.jobs) != 1 || j.jobs[0].State != msg.JobQueued {
		t.Errorf("Remove of a job resumed meanwhile: alert %q, note %q, jobs %v; want alert %q and j1 queued", j.actErr, j.note, j.jobs, want)
	}
	if _, _, ok := element(t, j.Render(), "cancel-j1"); !ok || j.focused != "watch-j1" {
		t.Errorf("after the refusal: #cancel-j1 there %v, focus %q; want Cancel back, the focus on #watch-j1", ok, j.focused)
	}
	if _, text, _ := element(t, j.Render(), "jobs-act-error"); text != want {
		t.Errorf("#jobs-act-error = %q, want %q", text, want)
	}
}

// TestJobsRemoveFocusNext: after a removal the focus goes to the next
// row's Remove when its job has ended (as a model's Delete leads to the
// next Delete), and to the Cancel of a watched job, whose Watch is
// disabled and would take no focus (the focus lost on <body>).
func TestJobsRemoveFocusNext(t *testing.T) {
	api := newJobsAPI(
		msg.Job{ID: "j1", State: msg.JobRunning, Config: jobConfig(), Created: "1"},
		msg.Job{ID: "j2", State: msg.JobFailed, Config: jobConfig(), Created: "2"},
		msg.Job{ID: "j3", State: msg.JobDone, Config: jobConfig(), Created: "3"},
	)
	j, e, ctx, _ := mountJobs(t, api)
	j.watchJob(ctx, j.jobs[2]) // j1
	for _, c := range []struct{ id, want string }{{"j3", "remove-j2"}, {"j2", "cancel-j1"}} {
		askRemove(j, c.id)
		j.remove(ctx, j.jobs[jobIndex(j, c.id)])
		e.ConsumeAll()
		if j.focused != c.want || api.count("remove "+c.id) != 1 {
			t.Errorf("after the removal of %s: focus %q, %d DELETE ?remove=1; want #%s, 1", c.id, j.focused, api.count("remove "+c.id), c.want)
		}
	}
}
