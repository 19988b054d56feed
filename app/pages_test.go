//go:build !js

package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// fakeAPI answers as server/api does, for the client's requests.
func fakeAPI(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/models", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `[{"id":"m7","name":"n","arch":"mlp","loss":"arcface","dim":3,"input":{"channels":1,"height":28,"width":28,"mean":0.13,"std":0.3},"classes":["0","1"],"threshold":0.5,"far":0.001,"metrics":{"accuracy":0.9,"eer":0.1,"threshold":0.5,"tar_at_far":{"0.001":0.8},"far":0.001,"nearest_centre_accuracy":0.95},"steps":10,"data":"mnist","size":100,"created":"2025-01-01T00:00:00Z"}]`)
	})
	mux.HandleFunc("POST /api/jobs", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer secret" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"this server needs its token for changes"}`)
			return
		}
		var req msg.TrainRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Arch != "mlp" || req.Classes != "0-1" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"bad config"}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"j9"}`)
	})
	mux.HandleFunc("GET /api/jobs/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "j9" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"not found"}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"v\":1,\"type\":\"state\",\"trainer\":\"j9\",\"state\":\"running\"}\n\n: ping\n\n")
		io.WriteString(w, "data: {\"v\":1,\"type\":\"state\",\"trainer\":\"j9\",\"state\":\"done\"}\n\n")
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestClient(t *testing.T) {
	s := fakeAPI(t)
	c := &Client{Base: s.URL}
	ctx := context.Background()
	cards, err := c.Models(ctx)
	if err != nil || len(cards) != 1 || cards[0].ID != "m7" || cards[0].Input.Height != 28 || cards[0].Metrics.TARAtFAR["0.001"] != 0.8 {
		t.Fatalf("Models = %+v, %v", cards, err)
	}
	req := jobConfig()
	if _, err := c.Submit(ctx, req); err == nil || err.Error() != "this server needs its token for changes (401)" {
		t.Errorf("Submit without the token: %v, want the server's error with its status", err)
	}
	c.Token = "secret"
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
}

func TestNavRender(t *testing.T) {
	n := &Nav{Current: "/models"}
	mount(t, n)
	if err := app.Match(app.A().ID("nav-playground").Href("/").Text("Playground"), n, 0, 1); err != nil {
		t.Error(err)
	}
	if err := app.Match(app.A().ID("nav-models").Href("/models").Text("Models").Class("current").Aria("current", "page"), n, 0, 2); err != nil {
		t.Error(err)
	}
}

func TestModelsRender(t *testing.T) {
	m := NewModels()
	mount(t, m)
	if err := app.Match(app.P().ID("models-status").Class("status").Text("loading the models…"), m, 0, 0, 1); err != nil {
		t.Error(err)
	}
	m = NewModels()
	m.SetCards([]ModelCard{card()}, nil)
	mount(t, m)
	if err := app.Match(app.P().ID("models-status").Class("status").Text("1 model"), m, 0, 0, 1); err != nil {
		t.Error(err)
	}
	// Table > tbody > the row > its last cell: the actions.
	link := PlaygroundLink(card())
	if err := app.Match(app.A().ID("open-m7").Class("btn").Href(link).Text("Open in playground"), m, 0, 1, 1, 0, 7, 0); err != nil {
		t.Error(err)
	}
	if err := app.Match(app.A().ID("download-m7").Class("btn").Href("/api/models/m7/file").Attr("download", "m7.safetensors").Title("1.2 MB").Text("Download"), m, 0, 1, 1, 0, 7, 1); err != nil {
		t.Error(err)
	}
	m.SetCards(nil, errors.New("boom"))
	if got := m.status(); got != "the models could not be read: boom" {
		t.Errorf("status %q", got)
	}
}

func TestJobsRender(t *testing.T) {
	j := NewJobs()
	mount(t, j)
	if err := app.Match(app.P().ID("jobs-empty").Class("note").Text("no jobs yet"), j, 0, 1, 1, 0); err != nil {
		t.Error(err)
	}
	j = NewJobs()
	j.SetJobs([]Job{
		{ID: "j1", State: JobDone, Step: 40, Steps: 40, Loss: 0.5, ModelID: "m1", Config: jobConfig(), Created: "1"},
		{ID: "j2", State: JobInterrupted, Step: 12, Steps: 40, Loss: 1.25, Config: jobConfig(), Created: "2"},
	}, nil)
	mount(t, j)
	if got := j.status(); got != "2 jobs: 0 running, 0 queued" {
		t.Errorf("status %q", got)
	}
	// Newest first: j2, interrupted, with Resume and no Cancel.
	row := []int{0, 1, 1, 0, 1, 0}
	if err := app.Match(app.Td().Class("job-state").Text(JobInterrupted), j, append(row, 2)...); err != nil {
		t.Error(err)
	}
	if err := app.Match(app.Td().Text("12/40"), j, append(row, 3)...); err != nil {
		t.Error(err)
	}
	if err := app.Match(app.Button().ID("resume-j2").Type("button").Class("btn").Text("Resume").OnClick(noop), j, append(row, 6, 1)...); err != nil {
		t.Error(err)
	}
	// Watching j1 (outside a browser: no stream) shows its panel.
	j.watchJob(app.Context{}, j.jobs[1])
	if j.watch == nil || j.watch.Status() != "done: step 40/40, loss 0.5000" {
		t.Fatalf("watch %+v", j.watch)
	}
	// A bad form value is refused with the playground's words.
	j.edit("batch", "3")
	if j.form.Batch != 64 || !strings.Contains(j.err, "batch=3") {
		t.Errorf("batch=3: form batch %d, error %q", j.form.Batch, j.err)
	}
}
