//go:build !js

package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// fakeAPI answers as server/api does, with the wire types of core/msg:
// one model, POST /api/jobs (with the token "secret"), the event stream
// of job j9, and samples of data set "faces" (which it records).
func fakeAPI(t *testing.T, samples *[]msg.Sample) http.Handler {
	t.Helper()
	write := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if err := json.NewEncoder(w).Encode(v); err != nil {
			t.Error(err)
		}
	}
	mux := http.NewServeMux()
	stored := map[string]bool{} // the samples', by data set, identity and image
	mux.HandleFunc("GET /api/models", func(w http.ResponseWriter, r *http.Request) {
		c := card()
		c.Input = msg.Input{Channels: 1, Height: 28, Width: 28, Mean: 0.13, Std: 0.3}
		c.Metrics.TARAtFAR = map[string]float64{"0.001": 0.8}
		write(w, 200, []msg.ModelCard{c})
	})
	mux.HandleFunc("GET /api/models/{id}/file", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "m 7" {
			write(w, 404, msg.ErrorBody{Error: "not found"})
			return
		}
		w.Write([]byte{1, 2, 3})
	})
	mux.HandleFunc("POST /api/jobs", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer secret" {
			write(w, 401, msg.ErrorBody{Error: "this server needs its token for changes"})
			return
		}
		var req msg.TrainRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Arch != "mlp" || req.Classes != "0-1" {
			write(w, 400, msg.ErrorBody{Error: "bad config"})
			return
		}
		write(w, 201, msg.Created{ID: "j9"})
	})
	mux.HandleFunc("GET /api/jobs/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "j9" {
			write(w, 404, msg.ErrorBody{Error: "not found"})
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, state := range []string{msg.JobRunning, msg.JobDone} {
			b, _ := json.Marshal(msg.Message{V: msg.SchemaVersion, Type: msg.TypeState, Trainer: "j9", State: state})
			fmt.Fprintf(w, "data: %s\n\n: ping\n\n", b)
		}
	})
	mux.HandleFunc("POST /api/datasets/{name}/samples", func(w http.ResponseWriter, r *http.Request) {
		f, _, err := r.FormFile("image")
		if err != nil {
			write(w, 400, msg.ErrorBody{Error: "no image"})
			return
		}
		img, _ := io.ReadAll(f)
		s := msg.Sample{ID: fmt.Sprint(len(img)), Dataset: r.PathValue("name"), Identity: r.FormValue("identity")}
		// One image of an identity is stored once, as server/api keeps it.
		key := s.Dataset + "\x00" + s.Identity + "\x00" + string(img)
		if stored[key] {
			s.Existed = true
			write(w, 200, s)
			return
		}
		stored[key] = true
		*samples = append(*samples, s)
		write(w, 201, s)
	})
	return mux
}

func TestClient(t *testing.T) {
	var samples []msg.Sample
	token := ""
	c := &Client{T: HandlerTransport(fakeAPI(t, &samples)), Token: func() string { return token }}
	ctx := context.Background()
	cards, err := c.Models(ctx)
	if err != nil || len(cards) != 1 || cards[0].ID != "m7" || cards[0].Input.Height != 28 || cards[0].Metrics.TARAtFAR["0.001"] != 0.8 {
		t.Fatalf("Models = %+v, %v", cards, err)
	}
	req := jobConfig()
	if _, err := c.Submit(ctx, req); err == nil || err.Error() != "this server needs its token for changes (401)" {
		t.Errorf("Submit without the token: %v, want the server's error with its status", err)
	}
	token = "secret"
	if id, err := c.Submit(ctx, req); err != nil || id != "j9" {
		t.Errorf("Submit = %q, %v, want j9", id, err)
	}
	var states []string
	err = c.Events(ctx, "j9", func(d string) {
		m, err := DecodeMessage(d)
		if err != nil {
			t.Error(err)
			return
		}
		states = append(states, m.State)
	})
	if err != nil || strings.Join(states, ",") != "running,done" {
		t.Errorf("Events: states %v, %v", states, err)
	}
	if err := c.Events(ctx, "nope", func(string) {}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Events of an unknown job: %v", err)
	}
	if err := c.Cancel(ctx, "j9"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("Cancel on a server without the route: %v, want the 404", err)
	}
	// A path-escaped id, and the bytes of a file.
	if b, err := c.ModelFile(ctx, "m 7"); err != nil || string(b) != "\x01\x02\x03" {
		t.Errorf("ModelFile = %v, %v", b, err)
	}
	if _, err := c.ModelFile(ctx, "m8"); err == nil || !strings.Contains(err.Error(), "not found (404)") {
		t.Errorf("ModelFile of an unknown model: %v", err)
	}
	// An upload: multipart with the identity as typed and the PNG.
	png := CropPNG(crop(1, 4, 4), 1, 4, 4)
	s, err := c.UploadSample(ctx, "faces", "José Ann", png)
	if err != nil || len(samples) != 1 || samples[0].Identity != "José Ann" || samples[0].Dataset != "faces" || s.ID != fmt.Sprint(len(png)) {
		t.Errorf("UploadSample = %+v, %v; the server got %+v", s, err, samples)
	}
	// A transport without an answer: one line, "could not be reached".
	none := &Client{T: NewClient().T}
	if _, err := none.Jobs(ctx); err == nil || !strings.HasPrefix(err.Error(), "the server could not be reached") {
		t.Errorf("Jobs without a server: %v", err)
	}
}

// busyAPI answers as server/api does when it reads too many bodies at
// once: 503, Retry-After retryAfter (none when "") and the one-line
// error, to its first busy requests (all when busy < 0), then as then;
// it counts the requests.
type busyAPI struct {
	status     int // the busy answer's: 503, or another to see it is not retried
	retryAfter string
	busy       int
	then       http.Handler
	n          atomic.Int32
}

func (a *busyAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if n := int(a.n.Add(1)); a.busy >= 0 && n > a.busy {
		a.then.ServeHTTP(w, r)
		return
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	io.WriteString(w, `{"error":"the server is reading too many uploads at once: try again in a few seconds"}`+"\n")
}

// TestClientRetriesBusy: a call answered 503 with Retry-After (server/api
// reads too many bodies at once, and read and stored none) is sent again
// after those seconds, its waits told to Waiting, 3 times in all at most;
// then the error is the server's. A 503 without Retry-After, or with one
// that is not seconds or asks more than 30 s in all or more than the
// call's deadline leaves, and any other status, is not sent again.
// Before, the first 503 was the call's error: the Verify page's upload
// and the Jobs page's submit stopped there.
func TestClientRetriesBusy(t *testing.T) {
	var samples []msg.Sample
	busy := &busyAPI{status: 503, retryAfter: "1", busy: 1, then: fakeAPI(t, &samples)}
	var waits []time.Duration
	c := (&Client{T: HandlerTransport(busy), Token: func() string { return "secret" }}).Waiting(func(d time.Duration) { waits = append(waits, d) })
	start := time.Now()
	if id, err := c.Submit(context.Background(), jobConfig()); err != nil || id != "j9" {
		t.Errorf("Submit once busy: %q, %v; want j9", id, err)
	}
	if took := time.Since(start); busy.n.Load() != 2 || !slices.Equal(waits, []time.Duration{time.Second, 0}) || took < time.Second {
		t.Errorf("Submit once busy: %d requests in %v, waits told %v; want 2 in 1 s, waits [1s 0]", busy.n.Load(), took, waits)
	}
	png := CropPNG(crop(1, 4, 4), 1, 4, 4)
	busy = &busyAPI{status: 503, retryAfter: "0", busy: 2, then: fakeAPI(t, &samples)}
	if _, err := (&Client{T: HandlerTransport(busy)}).UploadSample(context.Background(), "faces", "ann", png); err != nil || busy.n.Load() != 3 || len(samples) != 1 {
		t.Errorf("UploadSample twice busy: %v after %d requests, %d stored; want it stored after 3", err, busy.n.Load(), len(samples))
	}

	const busyErr = "the server is reading too many uploads at once: try again in a few seconds"
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		timeout    time.Duration
		requests   int32
	}{
		{"always busy", 503, "0", 0, 3},
		{"no Retry-After", 503, "", 0, 1},
		{"Retry-After a date", 503, "Wed, 21 Oct 2026 07:28:00 GMT", 0, 1},
		{"Retry-After over 30 s", 503, "31", 0, 1},
		{"Retry-After past the deadline", 503, "1", 500 * time.Millisecond, 1},
		{"500", 500, "0", 0, 1},
		{"429", 429, "0", 0, 1},
	} {
		busy := &busyAPI{status: tc.status, retryAfter: tc.retryAfter, busy: -1}
		ctx := context.Background()
		if tc.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, tc.timeout)
			defer cancel()
		}
		_, err := (&Client{T: HandlerTransport(busy)}).UploadSample(ctx, "faces", "ann", png)
		if want := fmt.Sprintf("%s (%d)", busyErr, tc.status); err == nil || err.Error() != want || busy.n.Load() != tc.requests {
			t.Errorf("%s: %v after %d requests; want %q after %d", tc.name, err, busy.n.Load(), want, tc.requests)
		}
	}
}

// TestClientErrorOneLine: an {"error"} answer that breaks the API's one
// line of at most msg.MaxErrorRunes characters (a server of another
// version, a proxy: line breaks, 5000 bytes) is shown as such a line, its
// control characters as spaces and its middle left out, as the server
// shortens its own; before, a page's note showed it whole, a line for each
// line break. One the server may send (300 characters) is shown whole. A
// call, a file and an event stream read them alike.
func TestClientErrorOneLine(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{
			text: "disk\nfull\r\n" + strings.Repeat("x", 5000) + ": free some space",
			// 148 characters of the start, " … ", 149 of the end: 300.
			want: "disk full  " + strings.Repeat("x", 148-11) + " … " + strings.Repeat("x", 149-17) + ": free some space (502)",
		},
		{text: strings.Repeat("é", 299) + ".", want: strings.Repeat("é", 299) + ". (502)"},
	} {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(502)
			json.NewEncoder(w).Encode(msg.ErrorBody{Error: tc.text})
		})
		c := &Client{T: HandlerTransport(h)}
		ctx := context.Background()
		_, jobs := c.Jobs(ctx)
		_, file := c.ModelFile(ctx, "m7")
		events := c.Events(ctx, "j9", func(string) {})
		for what, err := range map[string]error{"Jobs": jobs, "ModelFile": file, "Events": events} {
			if err == nil || err.Error() != tc.want {
				t.Errorf("%s of %.40q: %.400q; want %q", what, tc.text, err, tc.want)
			}
		}
	}
}

// TestClientUnreachable: a call the server gave no answer says so in
// one line, the same on every page, without the transport's words (a
// browser's fetch rejects with "TypeError: Failed to fetch"), which it
// keeps for errors.Is; a call its context ended says that. Before:
// "the server could not be reached: TypeError: Failed to fetch", in the
// Jobs page's lines and the Verify page's send.
func TestClientUnreachable(t *testing.T) {
	fetch := errors.New("TypeError: Failed to fetch")
	c := &Client{T: &downTransport{t: HandlerTransport(newJobsAPI())}}
	c.T.(*downTransport).down.Store(true)
	ctx := context.Background()
	_, jobs := c.Jobs(ctx)
	_, file := c.ModelFile(ctx, "m7")
	_, sample := c.UploadSample(ctx, "webcam", "Ann", []byte{1})
	for what, err := range map[string]error{"Jobs": jobs, "ModelFile": file, "UploadSample": sample} {
		if err == nil || err.Error() != "the server could not be reached" || !isUnreachable(err) {
			t.Errorf("%s without a server: %v; want %q", what, err, "the server could not be reached")
		}
	}
	if err := unreachable(fetch); !errors.Is(err, fetch) {
		t.Errorf("unreachable(%v) = %v, which does not wrap it", fetch, err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := unreachable(done.Err()); err != context.Canceled || isUnreachable(err) {
		t.Errorf("unreachable(context.Canceled) = %v, want context.Canceled", err)
	}
}

func TestNavRender(t *testing.T) {
	n := &Nav{Current: "/models"}
	mount(t, n)
	if err := app.Match(app.A().ID("nav-playground").Href("/").Text("Playground").OnClick(n.leave), n, 0, 1); err != nil {
		t.Error(err)
	}
	if err := app.Match(app.A().ID("nav-models").Href("/models").Text("Models").Class("current").Aria("current", "page"), n, 0, 2); err != nil {
		t.Error(err)
	}
}

// TestModelsPlaygroundOfMNIST: Open in playground is offered for a model
// trained on MNIST, the playground's data, only. A webcam faces model's
// opened an MNIST experiment (/#data=mnist&…&views=whole,upper,lower,centre).
func TestModelsPlaygroundOfMNIST(t *testing.T) {
	faces := card()
	faces.ID, faces.Data = "f1", "webcam"
	m := NewModels()
	m.SetCards([]msg.ModelCard{card(), faces}, nil)
	mount(t, m)
	h := app.HTMLString(m)
	if !strings.Contains(h, `id="open-m7"`) || strings.Contains(h, `id="open-f1"`) || !strings.Contains(h, `id="verify-f1"`) {
		t.Errorf("Open in playground of the mnist model %v, of the webcam model %v (Use for verify %v); want true, false (true)",
			strings.Contains(h, `id="open-m7"`), strings.Contains(h, `id="open-f1"`), strings.Contains(h, `id="verify-f1"`))
	}
}

func TestModelsRender(t *testing.T) {
	m := NewModels()
	mount(t, m)
	if err := app.Match(app.P().ID("models-status").Class("status").Role("status").Text("loading the models…"), m, 0, 0, 1); err != nil {
		t.Error(err)
	}
	// No model, no "Use for verify" button: nothing for the hint to explain.
	if h := app.HTMLString(m); strings.Contains(h, "Use for verify") {
		t.Errorf("the hint on “Use for verify” is shown without a model: %s", h)
	}
	m = NewModels()
	m.SetCards([]msg.ModelCard{card()}, nil)
	mount(t, m)
	if err := app.Match(app.P().ID("models-status").Class("status").Role("status").Text("1 model"), m, 0, 0, 1); err != nil {
		t.Error(err)
	}
	// Table (after the header and the slot of the note) > tbody > the
	// row's keyed > the row > its last cell: the actions.
	link := PlaygroundLink(card())
	if err := app.Match(app.A().ID("open-m7").Class("btn").Href(link).Aria("label", "open in playground: model arcface d3").Text("Open in playground"), m, 0, 2, 1, 0, 0, 7, 0); err != nil {
		t.Error(err)
	}
	if err := app.Match(app.P().ID("models-hint").Class("note").Text("“Use for verify” opens the webcam Verify page with the model as its encoder."), m, 0, 3); err != nil {
		t.Error(err)
	}
	if err := app.Match(app.A().ID("download-m7").Class("btn").Href("/api/models/m7/file").Attr("download", "metriclab-arcface-d3-m7.safetensors").Title("1.2 MB").Aria("label", "download model arcface d3").Text("Download"), m, 0, 2, 1, 0, 0, 7, 1); err != nil {
		t.Error(err)
	}
	m.SetCards(nil, errors.New("boom"))
	if got := m.status(); got != "the models could not be read: boom" {
		t.Errorf("status %q", got)
	}
}

// TestJobsListErrorClears: the list that could not be read says so until
// it is read again (the error stayed beside the fresh list).
func TestJobsListErrorClears(t *testing.T) {
	j := NewJobs()
	j.SetJobs(nil, errors.New("the server could not be reached"))
	if j.listErr != "the jobs could not be read: the server could not be reached" {
		t.Errorf("after a failed read: %q", j.listErr)
	}
	j.SetJobs([]msg.Job{{ID: "j1", State: msg.JobDone, Config: jobConfig(), Created: "1"}}, nil)
	if j.listErr != "" || len(j.jobs) != 1 {
		t.Errorf("after a read: error %q, %d jobs; want none and 1", j.listErr, len(j.jobs))
	}
}

func TestJobsRender(t *testing.T) {
	j := NewJobs()
	mount(t, j)
	if err := app.Match(app.P().ID("jobs-empty").Class("note").Text("no jobs yet"), j, 0, 2, 1, 0); err != nil {
		t.Error(err)
	}
	j = NewJobs()
	j.SetJobs([]msg.Job{
		{ID: "j1", State: msg.JobDone, Step: 40, Steps: 40, Loss: 0.5, ModelID: "m1", Config: jobConfig(), Created: "1"},
		{ID: "j2", State: msg.JobInterrupted, Step: 12, Steps: 40, Loss: 1.25, Config: jobConfig(), Created: "2"},
	}, nil)
	mount(t, j)
	if got := j.status(); got != "2 jobs: 0 running, 0 queued" {
		t.Errorf("status %q", got)
	}
	one := NewJobs()
	one.SetJobs([]msg.Job{{ID: "j3", State: msg.JobQueued, Config: jobConfig(), Created: "3"}}, nil)
	if got, want := one.status(), "1 job: 0 running, 1 queued"; got != want { // not "1 jobs"
		t.Errorf("status %q, want %q", got, want)
	}
	// Newest first: j2, interrupted, with Resume, then Cancel (the row
	// in its keyed).
	row := []int{0, 2, 1, 0, 1, 0, 0}
	if err := app.Match(app.Td().Class("job-state").DataSet("label", "state").Text(msg.JobInterrupted), j, append(row, 2)...); err != nil {
		t.Error(err)
	}
	if err := app.Match(app.Td().DataSet("label", "step").Text("12/40"), j, append(row, 3)...); err != nil {
		t.Error(err)
	}
	if err := app.Match(app.Button().ID("resume-j2").Type("button").Class("btn").Disabled(false).Aria("label", "resume job j2").Text("Resume").OnClick(noop), j, append(row, 6, 1)...); err != nil {
		t.Error(err)
	}
	if err := app.Match(app.Button().ID("cancel-j2").Type("button").Class("btn").Disabled(false).Aria("label", "cancel job j2").Text("Cancel").OnClick(noop), j, append(row, 6, 2)...); err != nil {
		t.Error(err)
	}
	// Watching j1 (outside a browser: no stream) shows its panel.
	j.watchJob(app.Context{}, j.jobs[1])
	if j.watch == nil || j.watch.Status() != "done: step 40/40, loss 0.5000" {
		t.Fatalf("watch %+v", j.watch)
	}
	// A bad form value is refused with the playground's words, and its
	// field is marked invalid until it takes a value.
	j.edit("batch", "3")
	if j.form.Batch != 64 || !strings.Contains(j.err, "batch=3") {
		t.Errorf("batch=3: form batch %d, error %q", j.form.Batch, j.err)
	}
	invalid := func() bool {
		tag, _, _ := element(t, j.Render(), "job-batch")
		return strings.Contains(tag, " aria-invalid")
	}
	if !invalid() {
		t.Errorf("batch=3: the field is not marked invalid")
	}
	if j.edit("epochs", "2"); !invalid() {
		t.Errorf("batch=3, then epochs 2: the batch field is no longer marked invalid")
	}
	if j.edit("batch", "32"); invalid() {
		t.Errorf("batch 32 after batch=3: the field is still marked invalid")
	}
	// A preset that sets a refused field's value clears its mark; one
	// that leaves the value shown keeps it.
	marked := func(id string) bool {
		tag, _, _ := element(t, j.Render(), id)
		return strings.Contains(tag, " aria-invalid")
	}
	j.edit("epochs", "x")
	j.edit("seed", "x")
	if !marked("job-epochs") || !marked("job-seed") {
		t.Fatalf("epochs=x and seed=x: the fields are not marked invalid")
	}
	if j.edit("preset", "faces"); marked("job-epochs") || !marked("job-seed") {
		t.Errorf("preset faces after epochs=x and seed=x: epochs marked %v, seed marked %v; want the epochs the preset set unmarked, the seed marked",
			marked("job-epochs"), marked("job-seed"))
	}
}
