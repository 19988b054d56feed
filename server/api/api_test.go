//go:build !js

package api

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/msg"
	"metriclab/server/api/store"
)

func TestHealthAndDevices(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	code, b := call(t, "GET", ts.URL+"/api/health", "", nil)
	var h struct {
		OK      bool   `json:"ok"`
		Version string `json:"version"`
	}
	decode(t, b, &h)
	if code != 200 || !h.OK || h.Version != "test" {
		t.Errorf("health: %d %s", code, b)
	}
	code, b = call(t, "GET", ts.URL+"/api/devices", "", nil)
	var d struct {
		Devices []device `json:"devices"`
	}
	decode(t, b, &d)
	if code != 200 || len(d.Devices) != 2 || d.Devices[0].ID != "cpu" || !d.Devices[0].Available ||
		d.Devices[1].Kind != "cuda" || d.Devices[1].Available || d.Devices[1].Reason == "" {
		t.Errorf("devices: %d %s", code, b)
	}
	// Unknown paths, and paths that are not clean (the mux redirected
	// those with a page of HTML): JSON.
	for _, p := range []string{"/api/nothing", "/api", "/api//jobs", "/api/./health", "/api/jobs/../health"} {
		code, b = call(t, "GET", ts.URL+p, "", nil)
		if code != 404 || errorOf(t, b) != "not found" {
			t.Errorf("GET %s: %d %s, want 404 not found", p, code, b)
		}
	}
}

// finishJob posts req to the server at base, waits for the job to end
// done and returns it, its model's card and the card as sent.
func finishJob(t *testing.T, base string, req msg.TrainRequest) (jobView, msg.ModelCard, []byte) {
	t.Helper()
	code, b := postJSON(t, base+"/api/jobs", req)
	if code != 201 {
		t.Fatalf("POST /api/jobs: %d %s", code, b)
	}
	var created struct{ ID string }
	decode(t, b, &created)
	j := waitJob(t, base, created.ID, 60*time.Second, ended)
	if j.State != "done" || j.ModelID == "" {
		t.Fatalf("job ended as %+v, want done with a model", j)
	}
	code, b = call(t, "GET", base+"/api/models/"+j.ModelID, "", nil)
	if code != 200 {
		t.Fatalf("GET the model: %d %s", code, b)
	}
	var card msg.ModelCard
	decode(t, b, &card)
	return j, card, b
}

// TestEarlyStopCardFigures: with early stopping the registered model is
// the best epoch's, and so are the figures beside it, on the job and on
// its card: the threshold the card recommends is its verification's
// (they were the last epoch's, another epoch's than the weights').
func TestEarlyStopCardFigures(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	req := tinyJob(12)
	req.LR, req.EarlyStop = 0.05, 1
	j, card, b := finishJob(t, ts.URL, req)
	if card.Metrics == nil || card.Threshold != card.Metrics.Threshold || card.FAR != card.Metrics.FAR ||
		j.Metrics.Threshold != card.Threshold || j.Metrics.Accuracy != card.Metrics.Accuracy {
		t.Errorf("card %s, job metrics %+v: want the threshold, FAR and figures of one epoch, the model's", b, j.Metrics)
	}
	code, file := call(t, "GET", ts.URL+"/api/models/"+j.ModelID+"/file", "", nil)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := os.WriteFile(path, file, 0o644); code != 200 || err != nil {
		t.Fatalf("model file: %d, %v", code, err)
	}
	m, err := core.ReadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	last := (j.Step + j.Steps/req.Epochs - 1) / (j.Steps / req.Epochs)
	t.Logf("best epoch %d of %d run", m.Meta.Provenance.BestEpoch, last)
	if m.Meta.Provenance.BestEpoch == 0 || m.Meta.Provenance.BestEpoch == last {
		t.Errorf("best epoch %d of %d run: want an earlier one, which this test is about", m.Meta.Provenance.BestEpoch, last)
	}
}

// TestCropOnCard: a model that looks at a window of the image says so on
// its card and in its name (they read as the whole image's before).
func TestCropOnCard(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	req := tinyJob(1)
	req.Crop = msg.Crops["lower"]
	_, card, b := finishJob(t, ts.URL, req)
	if card.Crop != msg.Crops["lower"] || card.Name != "mlp arcface D=3 (crop lower) on tiny" {
		t.Errorf("card %s: want the crop lower in it and in its name", b)
	}
}

func TestJobLifecycle(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	code, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(2))
	if code != 201 {
		t.Fatalf("POST /api/jobs: %d %s", code, b)
	}
	var created struct{ ID string }
	decode(t, b, &created)
	j := waitJob(t, ts.URL, created.ID, 30*time.Second, ended)
	if j.State != "done" || j.Step != 54 || j.Steps != 54 || j.ModelID == "" || j.Metrics == nil || j.Metrics.Accuracy < 0.9 {
		t.Fatalf("job ended as %+v, want done after 54 steps with a model and verification accuracy ≥ 0.9", j)
	}
	// The model is registered with the job's figures and loads.
	code, b = call(t, "GET", ts.URL+"/api/models/"+j.ModelID, "", nil)
	var card struct {
		Arch, Loss string
		Dim        int
		Threshold  float64
		Metrics    *struct{ Accuracy float64 }
		JobID      string `json:"job_id"`
		Size       int64
	}
	decode(t, b, &card)
	if code != 200 || card.Arch != "mlp" || card.Loss != "arcface" || card.Dim != 3 || card.JobID != created.ID ||
		card.Metrics == nil || card.Metrics.Accuracy != j.Metrics.Accuracy || card.Threshold != j.Metrics.Threshold {
		t.Errorf("model card %d %s does not match job %+v", code, b, j)
	}
	resp, file := callResp(t, "GET", ts.URL+"/api/models/"+j.ModelID+"/file", "", nil)
	if code = resp.StatusCode; code != 200 || int64(len(file)) != card.Size {
		t.Fatalf("model file: %d, %d bytes, card says %d", code, len(file), card.Size)
	}
	// Named by its loss and D, as the playground names a model it
	// exports, and its id (it was the id alone: several downloaded read
	// alike).
	if got, want := resp.Header.Get("Content-Disposition"), `attachment; filename="metriclab-arcface-d3-`+j.ModelID+`.safetensors"`; got != want {
		t.Errorf("model file's Content-Disposition %q, want %q", got, want)
	}
	// Readable by anyone who reaches the server (students load models on
	// the Verify page), but not by another site's page.
	if got := resp.Header.Get("Cross-Origin-Resource-Policy"); got != "same-origin" {
		t.Errorf("model file's Cross-Origin-Resource-Policy %q, want same-origin", got)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	os.WriteFile(path, file, 0o644)
	m, err := core.ReadModel(path)
	if err != nil || m.Meta.Provenance.Steps != 54 {
		t.Fatalf("downloaded model: %v, %+v", err, m)
	}
	// A job trains on its data set's training split, as train --split
	// train does: eval tells of its test images as unseen by the model.
	if m.Meta.Provenance.Split != "train" {
		t.Errorf("downloaded model's split %q, want train", m.Meta.Provenance.Split)
	}
	// Listing.
	code, b = call(t, "GET", ts.URL+"/api/jobs", "", nil)
	var list []jobView
	decode(t, b, &list)
	if code != 200 || len(list) != 1 || list[0].ID != created.ID {
		t.Errorf("GET /api/jobs: %d %s", code, b)
	}
	// A done job cannot be canceled or resumed: a plain DELETE (a Cancel)
	// is a 409 that says how to remove the record, and removes nothing.
	if code, b := call(t, "DELETE", ts.URL+"/api/jobs/"+created.ID, "", nil); code != 409 || !strings.HasSuffix(errorOf(t, b), "; DELETE /api/jobs/"+created.ID+"?remove=1 removes its record") {
		t.Errorf("DELETE done job: %d %s, want 409 with the way to remove it", code, b)
	}
	if code, _ := call(t, "GET", ts.URL+"/api/jobs/"+created.ID, "", nil); code != 200 {
		t.Errorf("the done job after a DELETE: %d, want its record kept", code)
	}
	if code, b := call(t, "POST", ts.URL+"/api/jobs/"+created.ID+"/resume", "", nil); code != 409 {
		t.Errorf("resume done job: %d %s, want 409", code, b)
	}
	// Events of an ended job: its state, then the stream ends.
	resp, err = http.Get(ts.URL + "/api/jobs/" + created.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	evs := sseEvents(t, resp.Body, 0)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" || len(evs) != 1 || evs[0].State != "done" || evs[0].V != 1 {
		t.Errorf("events of a done job: %s %+v", resp.Header.Get("Content-Type"), evs)
	}
	// DELETE ?remove=1 removes a done job's record, and keeps its model.
	if code, b := call(t, "DELETE", ts.URL+"/api/jobs/"+created.ID+"?remove=1", "", nil); code != 204 {
		t.Errorf("DELETE ?remove=1 of the done job: %d %s, want 204", code, b)
	}
	if code, _ := call(t, "GET", ts.URL+"/api/jobs/"+created.ID, "", nil); code != 404 {
		t.Errorf("the deleted job: %d, want 404", code)
	}
	if code, _ := call(t, "GET", ts.URL+"/api/models/"+j.ModelID, "", nil); code != 200 {
		t.Errorf("the deleted job's model: %d, want it kept", code)
	}
}

// TestJobOfViews: a job of views trains a model of views, which the
// registry's card describes (D of a view, its windows) and whose file
// embeds V·D wide.
func TestJobOfViews(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	req := tinyJob(1)
	req.Views = []msg.Crop{{}, msg.Crops["upper"]}
	j := runJob(t, ts.URL, req)
	code, b := call(t, "GET", ts.URL+"/api/models/"+j.ModelID, "", nil)
	var card msg.ModelCard
	decode(t, b, &card)
	if code != 200 || card.Dim != 3 || msg.FormatViews(card.Views) != "whole,upper" || !strings.Contains(card.Name, "D=2×3 (whole,upper)") {
		t.Errorf("model card %d %s: want D 3 of the views whole,upper", code, b)
	}
	_, file := call(t, "GET", ts.URL+"/api/models/"+j.ModelID+"/file", "", nil)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	os.WriteFile(path, file, 0o644)
	m, err := core.ReadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Meta.Spec.EmbedDim() != 6 {
		t.Fatalf("downloaded model of views %v embeds %d wide, want 6", m.Meta.Spec.Views, m.Meta.Spec.EmbedDim())
	}
	if _, ok := m.Params["views.1.encoder.fc2.weight"]; !ok {
		t.Error("the model has no views.1.encoder.fc2.weight")
	}
}

func TestJobBadInput(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxBody = 1 << 10
	_, ts := newTestServer(t, cfg)
	bad := tinyJob(1)
	bad.Batch = 1
	unknownData := tinyJob(1)
	unknownData.Data = "nope"
	cuda := tinyJob(1)
	cuda.Device = "cuda"
	loss := tinyJob(1)
	loss.Loss = "magic"
	glyphs := tinyJob(1)
	glyphs.Glyphs = 1001
	miner := tinyJob(1)
	miner.Miner = "hard"
	distance := tinyJob(1)
	distance.Distance = "bogus"
	views := tinyJob(1)
	views.Views = []msg.Crop{{}, msg.Crops["upper"], msg.Crops["upper"]}
	for _, tc := range []struct {
		name string
		body string
		code int
		want string // in the error
	}{
		{"not json", "{", 400, "not valid JSON"},
		{"null", " null", 400, "not a valid training configuration: want a JSON object"},
		{"empty", "", 400, "not a valid training configuration: want a JSON object"},
		{"an array", "[{}]", 400, "not a valid training configuration: want a JSON object"},
		{"unknown field", `{"data":"tiny","colour":"red"}`, 400, `"colour" is not a field of the training configuration`},
		{"trailing", `{"data":"tiny"} {}`, 400, "after its JSON object"},
		{"a brace too many", `{"data":"tiny"}}`, 400, "after its JSON object"},
		{"a bracket after", "{\"data\":\"tiny\"}\n]", 400, "after its JSON object"},
		{"a field in capitals", `{"data":"tiny","arch":"mlp","loss":"arcface","dim":3,"batch":4,"epochs":1,"DATA":"other"}`, 400, `field "DATA" is not spelt as the configuration's`},
		{"a field twice", `{"data":"tiny","arch":"mlp","loss":"arcface","dim":3,"batch":4,"epochs":1,"batch":8}`, 400, `field "batch" is given twice`},
		{"a loss parameter twice", `{"data":"tiny","arch":"mlp","loss":"arcface","dim":3,"batch":4,"epochs":1,"loss_params":{"m":0.5,"s":30,"m":0.2}}`, 400, `request body: key "m" appears twice in loss_params`},
		{"batch", mustJSON(t, bad), 400, "batch 1"},
		{"epochs", `{"data":"tiny","arch":"mlp","loss":"arcface","dim":3,"batch":4,"epochs":0}`, 400, "epochs 0"},
		{"data", mustJSON(t, unknownData), 400, "unknown data set"},
		{"cuda", mustJSON(t, cuda), 400, "no CUDA device"},
		{"loss", mustJSON(t, loss), 400, "magic"},
		{"glyphs", mustJSON(t, glyphs), 400, "glyphs 1001 out of range [0, 1000]"},
		{"miner", mustJSON(t, miner), 400, "takes no miner"},
		{"distance", mustJSON(t, distance), 400, "takes no distance"},
		{"views", mustJSON(t, views), 400, "view 2 (upper) repeats view 1"},
		{"a view of three numbers", `{"data":"tiny","arch":"mlp","loss":"arcface","dim":3,"batch":4,"epochs":1,"views":[[0,0,1,1],[0,0,1]]}`, 400, `"views": 3 numbers: a window is`},
		{"too large", `{"data":"` + strings.Repeat("x", 2000) + `"}`, 413, "larger than"},
	} {
		code, b := call(t, "POST", ts.URL+"/api/jobs", "application/json", strings.NewReader(tc.body))
		if code != tc.code || !strings.Contains(errorOf(t, b), tc.want) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, code, b, tc.code, tc.want)
		}
	}
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/jobs/0123456789abcdef"}, {"GET", "/api/jobs/x/events"}, {"DELETE", "/api/jobs/nope"},
		{"POST", "/api/jobs/nope/resume"}, {"GET", "/api/models/nope"}, {"GET", "/api/models/nope/file"},
		{"DELETE", "/api/models/nope"},
	} {
		if code, b := call(t, tc.method, ts.URL+tc.path, "", nil); code != 404 || errorOf(t, b) != "not found" {
			t.Errorf("%s %s: %d %s, want 404", tc.method, tc.path, code, b)
		}
	}
}

func mustJSON(t testing.TB, v any) string {
	var b bytes.Buffer
	if err := jsonEncode(&b, v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestCancelAndEvents(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	// A long job runs; a second one waits in the queue.
	_, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(2000))
	var long, queued struct{ ID string }
	decode(t, b, &long)
	_, b = postJSON(t, ts.URL+"/api/jobs", tinyJob(1))
	decode(t, b, &queued)
	waitJob(t, ts.URL, long.ID, 10*time.Second, func(j jobView) bool { return j.Step > 30 })
	if j := getJob(t, ts.URL, queued.ID); j.State != "queued" {
		t.Fatalf("second job %+v, want queued behind the running one", j)
	}
	resp, err := http.Get(ts.URL + "/api/jobs/" + long.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := sseEvents(t, resp.Body, 3)
	if len(first) != 3 || first[0].Type != "state" || first[0].State != "running" || first[1].Type != "progress" ||
		first[1].Progress.Step < 30 || first[0].Trainer != long.ID {
		t.Fatalf("first events %+v, want the running state then progress", first)
	}
	// Cancel the queued job, then the running one.
	code, b := call(t, "DELETE", ts.URL+"/api/jobs/"+queued.ID, "", nil)
	var j jobView
	decode(t, b, &j)
	if code != 200 || j.State != "canceled" {
		t.Fatalf("cancel queued: %d %s", code, b)
	}
	code, b = call(t, "DELETE", ts.URL+"/api/jobs/"+long.ID, "", nil)
	decode(t, b, &j)
	if code != 200 || j.State != "canceled" || j.ModelID != "" || j.Step >= 2000*27 {
		t.Fatalf("cancel running: %d %s", code, b)
	}
	// A second DELETE of each answers as the first (it was a 409 once
	// the run had stopped; for a while it removed the record): a Cancel
	// clicked twice, or in two tabs, keeps the job.
	for _, id := range []string{queued.ID, long.ID} {
		var again jobView
		code, b = call(t, "DELETE", ts.URL+"/api/jobs/"+id, "", nil)
		if decode(t, b, &again); code != 200 || again.State != "canceled" {
			t.Errorf("second cancel of %s: %d %s, want 200 and the job canceled", id, code, b)
		}
	}
	rest := sseEvents(t, resp.Body, 0)
	if len(rest) == 0 || rest[len(rest)-1].Type != "state" || rest[len(rest)-1].State != "canceled" {
		t.Errorf("the stream did not end with the canceled state: %d events, last %+v", len(rest), rest[len(rest)-1:])
	}
	code, b = call(t, "GET", ts.URL+"/api/models", "", nil)
	if code != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("a canceled job registered a model: %s", b)
	}
}

// TestCancelKeepsProgress: a running job canceled between checkpoints
// ends at the step it reached (it read step 0 and no loss: only the run
// held its progress since the last checkpoint, and none was written yet).
func TestCancelKeepsProgress(t *testing.T) {
	cfg := testConfig(t)
	cfg.CheckpointEvery = 1 << 20
	_, ts := newTestServer(t, cfg)
	_, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(2000))
	var long struct{ ID string }
	decode(t, b, &long)
	waitJob(t, ts.URL, long.ID, 10*time.Second, func(j jobView) bool { return j.Step > 30 })
	if code, b := call(t, "DELETE", ts.URL+"/api/jobs/"+long.ID, "", nil); code != 200 {
		t.Fatalf("cancel: %d %s", code, b)
	}
	j := waitJob(t, ts.URL, long.ID, 10*time.Second, func(j jobView) bool { return j.State == "canceled" && j.Step > 30 })
	if !(j.Loss > 0) {
		t.Errorf("canceled job %+v: want the step and loss it reached", j)
	}
}

func TestModelUpload(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxUpload = 128 << 10
	_, ts := newTestServer(t, cfg)
	good := modelBytes(t, 3, 2, 0.01)
	code, b := call(t, "POST", ts.URL+"/api/models?name=mine", "application/octet-stream", bytes.NewReader(good))
	if code != 201 {
		t.Fatalf("upload: %d %s", code, b)
	}
	var card struct {
		ID, Name, Arch string
		Dim            int
		Size           int64
		Classes        []string
	}
	decode(t, b, &card)
	if card.Name != "mine" || card.Arch != "mlp" || card.Dim != 3 || card.Size != int64(len(good)) || len(card.Classes) != 2 {
		t.Errorf("card %s", b)
	}
	code, b = call(t, "GET", ts.URL+"/api/models/"+card.ID+"/file", "", nil)
	if code != 200 || sha256.Sum256(b) != sha256.Sum256(good) {
		t.Errorf("download differs from upload (%d)", code)
	}
	code, b = call(t, "GET", ts.URL+"/api/models", "", nil)
	if code != 200 || !strings.Contains(string(b), card.ID) {
		t.Errorf("list: %d %s", code, b)
	}

	// Bad uploads: each refused with 400 (413 for size), nothing stored.
	nan := modelBytes(t, 3, 2, float32(nanValue()))
	wrongHead := modelBytesHead(t, 3, 2, 3, 0.01)
	truncated := good[:len(good)-4]
	// A file whose spec asks for a side above msg.MaxSide: the encoder
	// refuses to write one, so the header of a good file is rewritten.
	tooWide := withHeader(t, good, `\"width\":8,`, `\"width\":300,`)
	for _, tc := range []struct {
		name string
		body []byte
		code int
		want string
	}{
		{"empty", nil, 400, "model: an empty file, not a model file"},
		{"garbage", []byte("hello world, not a model"), 400, "not a valid safetensors"},
		{"truncated", truncated, 400, "not a valid safetensors"},
		{"nan", nan, 400, "not finite"},
		{"huge weights", modelBytes(t, 3, 2, 1e30), 400, "model: encoder.fc1.bias holds 1e+30: want values in [-1e+06, 1e+06]"},
		{"a loss parameter twice", withHeader(t, good, `\"loss_params\":null`, `\"loss_params\":{\"m\":0.5,\"m\":0.2}`), 400, `key "m" appears twice in loss_params`},
		{"head", wrongHead, 400, "head.weight"},
		{"side above the bound", tooWide, 400, "sides of at most 256"},
		{"unknown loss", withHeader(t, good, `\"loss\":\"arcface\"`, `\"loss\":\"bogus\"`), 400, `unknown loss "bogus"`},
		{"a class twice", withHeader(t, good, `\"classes\":[\"0\",\"1\"]`, `\"classes\":[\"0\",\"0\"]`), 400, `class "0" is named twice`},
		{"false accept rate", withHeader(t, good, `\"far\":0`, `\"far\":-3`), 400, "false accept rate -3"},
		{"too large", make([]byte, 129<<10), 413, "larger than"},
	} {
		code, b := call(t, "POST", ts.URL+"/api/models", "application/octet-stream", bytes.NewReader(tc.body))
		if code != tc.code || !strings.Contains(errorOf(t, b), tc.want) || strings.Contains(string(b), ".tmp-") {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, code, b, tc.code, tc.want)
		}
	}
	if code, b := call(t, "POST", ts.URL+"/api/models?name="+strings.Repeat("n", 101), "", bytes.NewReader(good)); code != 400 {
		t.Errorf("long name: %d %s", code, b)
	}
	entries, _ := os.ReadDir(filepath.Join(cfg.DataDir, "models"))
	if len(entries) != 1 {
		t.Errorf("models folder holds %d files, want the one good model", len(entries))
	}

	if code, b := call(t, "DELETE", ts.URL+"/api/models/"+card.ID, "", nil); code != 204 {
		t.Fatalf("delete: %d %s", code, b)
	}
	if code, _ := call(t, "GET", ts.URL+"/api/models/"+card.ID, "", nil); code != 404 {
		t.Errorf("deleted model still there: %d", code)
	}
	if entries, _ := os.ReadDir(filepath.Join(cfg.DataDir, "models")); len(entries) != 0 {
		t.Errorf("deleted model's file still there")
	}
}

// TestSampleStoredOnce: a sample is stored once for the bytes of its
// image and its identity in a data set. The same image sent again (a
// second "Send to server" of the Verify page, or the retry of a send cut
// off part-way) is answered 200 with "existed": true and the sample
// stored before, and adds no file; another image of the identity, and
// the same image of another identity, are stored (201, "existed":
// false). Before, every post was stored under a new random name: a
// second send doubled each identity's folder (R19: 19/20/20 images
// became 38/40/40).
func TestSampleStoredOnce(t *testing.T) {
	cfg := testConfig(t)
	_, ts := newTestServer(t, cfg)
	post := func(identity string, img []byte) (int, msg.Sample, []byte) {
		t.Helper()
		ct, body := sampleBody(t, []string{"identity", identity}, img)
		code, b := call(t, "POST", ts.URL+"/api/datasets/faces/samples", ct, body)
		var smp msg.Sample
		if code/100 == 2 {
			decode(t, b, &smp)
		}
		return code, smp, b
	}
	ann, ann2 := pngBytes(t, 16, 16, 9), pngBytes(t, 16, 16, 30)
	code, first, b := post("Ann", ann)
	if code != 201 || first.Existed || first.ID == "" {
		t.Fatalf("the first sample: %d %s, want 201 with existed false", code, b)
	}
	code, again, b := post("Ann", ann)
	if code != 200 || !again.Existed || again.ID != first.ID || again.Identity != "Ann" || again.Created != first.Created {
		t.Errorf("the same sample again: %d %s, want 200 with existed true and the first's id %s", code, b, first.ID)
	}
	if code, other, b := post("Ann", ann2); code != 201 || other.Existed || other.ID == first.ID {
		t.Errorf("another image of Ann: %d %s, want 201 stored under its own id", code, b)
	}
	if code, bob, b := post("Bob", ann); code != 201 || bob.Existed || bob.Identity != "Bob" {
		t.Errorf("Ann's image as Bob: %d %s, want 201 stored for Bob", code, b)
	}
	_, b = call(t, "GET", ts.URL+"/api/datasets", "", nil)
	var sets []msg.Dataset
	decode(t, b, &sets)
	if i := slices.IndexFunc(sets, func(d msg.Dataset) bool { return d.Name == "faces" }); i < 0 || sets[i].Identities != 2 || sets[i].Samples != 3 {
		t.Errorf("data sets %s, want faces with 2 identities, 3 samples", b)
	}
	for id, want := range map[string]int{"Ann": 2, "Bob": 1} {
		if files, _ := os.ReadDir(filepath.Join(cfg.DataDir, "datasets", "faces", id)); len(files) != want {
			t.Errorf("%s's folder holds %d files, want %d", id, len(files), want)
		}
	}
}

func TestSamplesAndTrainingOnThem(t *testing.T) {
	cfg := testConfig(t)
	cfg.Load = nil // the real loader: uploaded data sets
	cfg.MaxSample = 32 << 10
	_, ts := newTestServer(t, cfg)
	for id, shade := range map[string]uint8{"alice": 20, "bob": 200} {
		for i := 0; i < 10; i++ {
			ct, body := sampleBody(t, []string{"identity", id}, pngBytes(t, 16, 16, shade+uint8(i)))
			if code, b := call(t, "POST", ts.URL+"/api/datasets/faces/samples", ct, body); code != 201 {
				t.Fatalf("sample: %d %s", code, b)
			}
		}
	}
	code, b := call(t, "GET", ts.URL+"/api/datasets", "", nil)
	var sets []msg.Dataset
	decode(t, b, &sets)
	var faces *msg.Dataset
	for i := range sets {
		if sets[i].Name == "faces" {
			faces = &sets[i]
		}
	}
	if code != 200 || faces == nil || faces.Identities != 2 || faces.Samples != 20 {
		t.Fatalf("datasets: %d %s", code, b)
	}

	for _, tc := range []struct {
		name, path string
		fields     []string
		img        []byte
		code       int
	}{
		{"traversal name", "/api/datasets/..%2Fetc/samples", []string{"identity", "x"}, pngBytes(t, 8, 8, 1), 400},
		{"mnist", "/api/datasets/mnist/samples", []string{"identity", "x"}, pngBytes(t, 8, 8, 1), 400},
		{"traversal identity", "/api/datasets/faces/samples", []string{"identity", "../../x"}, pngBytes(t, 8, 8, 1), 400},
		{"reserved identity", "/api/datasets/faces/samples", []string{"identity", "train"}, pngBytes(t, 8, 8, 1), 400},
		// With "test" beside it, or in another case where the file system
		// ignores case, the data set would load as one split in train/ and
		// test/ (core/data), and every job on it would fail.
		{"reserved identity in another case", "/api/datasets/faces/samples", []string{"identity", "Test"}, pngBytes(t, 8, 8, 1), 400},
		{"reserved identity, new data set", "/api/datasets/split/samples", []string{"identity", "TRAIN"}, pngBytes(t, 8, 8, 1), 400},
		{"no identity", "/api/datasets/faces/samples", nil, pngBytes(t, 8, 8, 1), 400},
		{"no image", "/api/datasets/faces/samples", []string{"identity", "x"}, nil, 400},
		{"not an image", "/api/datasets/faces/samples", []string{"identity", "x"}, []byte("GIF89a nope"), 400},
		{"too large", "/api/datasets/faces/samples", []string{"identity", "x"}, make([]byte, 40<<10), 413},
	} {
		ct, body := sampleBody(t, tc.fields, tc.img)
		if code, b := call(t, "POST", ts.URL+tc.path, ct, body); code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, code, b, tc.code)
		} else {
			errorOf(t, b)
		}
	}
	if code, b := call(t, "POST", ts.URL+"/api/datasets/faces/samples", "text/plain", strings.NewReader("x")); code != 400 {
		t.Errorf("not multipart: %d %s", code, b)
	}
	// Nothing refused was stored: faces as it was, and no data set "split".
	code, b = call(t, "GET", ts.URL+"/api/datasets", "", nil)
	var after []msg.Dataset
	decode(t, b, &after)
	if code != 200 || !slices.Equal(after, sets) {
		t.Errorf("datasets after the refused samples: %d %s, want %+v", code, b, sets)
	}

	// Train on the uploaded folder (16 training images, 4 test images).
	req := tinyJob(2)
	req.Data, req.Dim = "faces", 2
	j := runJob(t, ts.URL, req)
	code, b = call(t, "GET", ts.URL+"/api/models/"+j.ModelID, "", nil)
	if code != 200 || !strings.Contains(string(b), `"data":"faces"`) || !strings.Contains(string(b), `"height":32`) {
		t.Errorf("model of faces: %s", b)
	}

	// The request's input (a preset's) resizes the uploads to it; one the
	// loader cannot make is a bad request.
	for _, bad := range []string{"48x48", "1x4x4", "2x20x20", "1x20x1000"} {
		req.Input = bad
		if code, b := postJSON(t, ts.URL+"/api/jobs", req); code != 400 || !strings.Contains(errorOf(t, b), `input "`+bad+`"`) {
			t.Errorf("input %q: %d %s, want 400 naming the input", bad, code, b)
		}
	}
	req.Input = "1x20x24"
	j = runJob(t, ts.URL, req)
	code, b = call(t, "GET", ts.URL+"/api/models/"+j.ModelID, "", nil)
	if code != 200 || !strings.Contains(string(b), `"height":20,"width":24`) {
		t.Errorf("job on faces at 1x20x24: %+v, model %s", j, b)
	}
}

// TestJobTellsSkippedImages: a job on a stored data set that holds images
// a load skips (under 8 pixels a side, stored before the upload refused
// them: here written to the store directly) says so in its error, the
// note of a job done, which its row and its events show, and from its
// load on while it runs: its GET and the list's row give it as its error,
// and its events' state running as its own (before, a running job said
// nothing of it until it was done); one whose
// identity is left without an image to train on is refused at its check,
// 400, as a data set with an identity of no image is. Before, both
// trained on the images left without a word (the loader dropped the
// counts).
func TestJobTellsSkippedImages(t *testing.T) {
	cfg := testConfig(t)
	cfg.Load = nil // the real loader: stored data sets
	srv, ts := newTestServer(t, cfg)
	add := func(dataset, identity string, img []byte) {
		t.Helper()
		if _, err := srv.store.AddSample(dataset, identity, ".png", func(w io.Writer) error {
			_, err := w.Write(img)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		add("faces", "alice", pngBytes(t, 16, 16, 20+uint8(i)))
		add("faces", "bob", pngBytes(t, 16, 16, 200+uint8(i)))
		add("few", "alice", pngBytes(t, 16, 16, 20+uint8(i)))
	}
	for i := range 2 { // images of their own: the store keeps an image of a person once
		add("faces", "bob", pngBytes(t, 4, 4, 1+uint8(i)))
	}
	for i := range 3 {
		add("few", "carl", pngBytes(t, 4, 4, 1+uint8(i)))
	}

	const note = "data set faces: 20 images, 2 skipped: 2 under 8 pixels a side"
	req := tinyJob(1000)
	req.Data, req.Dim = "faces", 2
	code, b := postJSON(t, ts.URL+"/api/jobs", req)
	if code != 201 {
		t.Fatalf("long job on faces: %d %s", code, b)
	}
	var long jobView
	decode(t, b, &long)
	running := waitJob(t, ts.URL, long.ID, 10*time.Second, func(j jobView) bool { return j.Step > 0 })
	if running.State != msg.JobRunning || running.Error != note {
		t.Errorf("job on faces, running: %s, error %q; want running, the note %q", running.State, running.Error, note)
	}
	var list []jobView
	_, b = call(t, "GET", ts.URL+"/api/jobs", "", nil)
	if decode(t, b, &list); len(list) != 1 || list[0].Error != note {
		t.Errorf("the list while the job on faces runs: %s; want its row with the note %q", b, note)
	}
	resp, err := http.Get(ts.URL + "/api/jobs/" + long.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	first := sseEvents(t, resp.Body, 1)
	resp.Body.Close()
	if len(first) != 1 || first[0].Type != msg.TypeState || first[0].State != msg.JobRunning || first[0].Error != note {
		t.Errorf("first event of the running job on faces: %+v, want the state running with the note", first)
	}
	if code, b := call(t, "DELETE", ts.URL+"/api/jobs/"+long.ID, "", nil); code != 200 {
		t.Fatalf("cancel of the long job: %d %s", code, b)
	}

	req.Epochs = 1
	j := runJob(t, ts.URL, req)
	if j.Error != note {
		t.Errorf("job on faces: error %q, want the note %q", j.Error, note)
	}
	resp, err = http.Get(ts.URL + "/api/jobs/" + j.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	evs := sseEvents(t, resp.Body, 0)
	resp.Body.Close()
	if len(evs) != 2 || evs[0].State != msg.JobDone || evs[1].Type != msg.TypeError || evs[1].Error != note {
		t.Errorf("events of the job on faces: %+v, want done and the note", evs)
	}

	req.Data = "few"
	const refused = `data set few: no usable image of "carl" to train on (3 skipped: 3 under 8 pixels a side): upload others of 8 pixels a side or more`
	if code, b := postJSON(t, ts.URL+"/api/jobs", req); code != 400 || errorOf(t, b) != refused {
		t.Errorf("job on few: %d %s, want 400 %q", code, b, refused)
	}

	// An identity whose training images were all skipped is refused too,
	// though its one test image (the 5th by name: renamed to sort last)
	// is usable: its class would be trained on nothing as well. Before,
	// the job was queued, the note counting the skipped images alone.
	for i := range 10 {
		add("late", "alice", pngBytes(t, 16, 16, 20+uint8(i)))
	}
	for i := range 4 {
		add("late", "dave", pngBytes(t, 4, 4, 1+uint8(i)))
	}
	good, err := srv.store.AddSample("late", "dave", ".png", func(w io.Writer) error {
		_, err := w.Write(pngBytes(t, 16, 16, 99))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := srv.store.DatasetDir("late")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "dave", good.ID+".png"), filepath.Join(dir, "dave", "zz.png")); err != nil {
		t.Fatal(err)
	}
	req.Data = "late"
	const late = `data set late: no usable image of "dave" to train on (4 skipped: 4 under 8 pixels a side): upload others of 8 pixels a side or more`
	if code, b := postJSON(t, ts.URL+"/api/jobs", req); code != 400 || errorOf(t, b) != late {
		t.Errorf("job on late: %d %s, want 400 %q", code, b, late)
	}
}

func TestClassroomMode(t *testing.T) {
	cfg := testConfig(t)
	cfg.Token = "s3cret"
	cfg.MaxJobsPerClient = 2
	cfg.MaxSSE = 1
	_, ts := newTestServer(t, cfg)
	auth := []string{"Authorization", "Bearer s3cret"}
	// Reads need no token.
	if code, _ := call(t, "GET", ts.URL+"/api/jobs", "", nil); code != 200 {
		t.Errorf("read without token: %d", code)
	}
	// Writes do. A token given that is not the server's (a classroom
	// token mistyped in the page's field) is told apart from none.
	for _, h := range [][]string{nil, {"Authorization", "Bearer wrong"}, {"Authorization", "s3cret"}} {
		code, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(1), h...)
		want := "this server needs its token for changes"
		if h != nil {
			want = "the token given is not this server's"
		}
		if code != 401 || !strings.HasPrefix(errorOf(t, b), want) {
			t.Errorf("write with %v: %d %s, want 401 %q", h, code, b, want)
		}
	}
	if code, _ := call(t, "DELETE", ts.URL+"/api/models/x", "", nil); code != 401 {
		t.Errorf("DELETE without token: %d", code)
	}
	// Cross-origin writes are refused even with the token.
	for _, h := range [][]string{{"Origin", "http://evil.example"}, {"Origin", "null"}, {"Sec-Fetch-Site", "cross-site"}} {
		if code, _ := postJSON(t, ts.URL+"/api/jobs", tinyJob(1), append(h, auth...)...); code != 403 {
			t.Errorf("write with %v: %d, want 403", h, code)
		}
	}
	// Same origin with the token: accepted, up to the per-client limit.
	host := strings.TrimPrefix(ts.URL, "http://")
	var ids []string
	for i := 0; i < 3; i++ {
		code, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(2000), append([]string{"Origin", "http://" + host}, auth...)...)
		switch {
		case i < 2 && code == 201:
			var c struct{ ID string }
			decode(t, b, &c)
			ids = append(ids, c.ID)
		case i == 2 && code == 429:
		default:
			t.Errorf("job %d: %d %s", i, code, b)
		}
	}
	// One event stream at a time.
	resp, err := http.Get(ts.URL + "/api/jobs/" + ids[0] + "/events")
	if err != nil {
		t.Fatal(err)
	}
	sseEvents(t, resp.Body, 1)
	if code, b := call(t, "GET", ts.URL+"/api/jobs/"+ids[0]+"/events", "", nil); code != 429 {
		t.Errorf("second stream: %d %s, want 429", code, b)
	}
	resp.Body.Close()
	for i, id := range ids {
		h := auth
		if i == 1 {
			h = []string{"Authorization", "bearer s3cret"} // the scheme in any case (RFC 9110)
		}
		if code, b := call(t, "DELETE", ts.URL+"/api/jobs/"+id, "", nil, h...); code != 200 {
			t.Errorf("cancel with %v: %d %s", h, code, b)
		}
	}
}

func TestRequireToken(t *testing.T) {
	for _, tc := range []struct {
		addr, token string
		want        string // "" none, "gen" generated, else that token
		err         bool
	}{
		{"127.0.0.1:8000", "", "", false},
		{"localhost:8000", "", "", false},
		{"[::1]:8000", "", "", false},
		{"127.0.0.1:8000", "t", "t", false},
		{"0.0.0.0:8000", "", "gen", false},
		{":8000", "", "gen", false},
		{"192.168.1.5:8000", "given", "given", false},
		{"nonsense", "", "", true},
		{"0.0.0.0:8000", "a\nb", "", true}, // no header carries it
		{"127.0.0.1:8000", "two words", "", true},
		{"0.0.0.0:8000", "zoë", "", true},
	} {
		tok, gen, err := RequireToken(tc.addr, tc.token)
		switch {
		case (err != nil) != tc.err:
			t.Errorf("%s: error %v", tc.addr, err)
		case tc.want == "gen" && (!gen || len(tok) != 32):
			t.Errorf("%s: %q %v, want a generated 32-digit token", tc.addr, tok, gen)
		case tc.want != "gen" && (gen || tok != tc.want):
			t.Errorf("%s %q: %q %v, want %q", tc.addr, tc.token, tok, gen, tc.want)
		}
	}
	a, _, _ := RequireToken("0.0.0.0:1", "")
	b, _, _ := RequireToken("0.0.0.0:1", "")
	if a == b {
		t.Error("two generated tokens are equal")
	}
}

// TestShutdownInterrupts closes a server during a job: the job writes a
// checkpoint of the step it reached and is interrupted; a new server on the
// same directory resumes it to done.
func TestShutdownInterrupts(t *testing.T) {
	cfg := testConfig(t)
	cfg.CheckpointEvery = 1000
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	j, err := s.runner.Submit("me", tinyJob(2000), 0)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if cur, _ := s.runner.Job(j.ID); cur.Step > 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the job did not start")
		}
	}
	s.Close()

	_, ts := newTestServer(t, cfg)
	got := getJob(t, ts.URL, j.ID)
	if got.State != "interrupted" || got.CkptStep <= 10 || got.CkptStep != got.Step {
		t.Fatalf("after shutdown: %+v, want interrupted with a checkpoint of its last step", got)
	}
	if code, b := call(t, "POST", ts.URL+"/api/jobs/"+j.ID+"/resume", "", nil); code != 200 {
		t.Fatalf("resume: %d %s", code, b)
	}
	if code, b := call(t, "POST", ts.URL+"/api/jobs/"+j.ID+"/resume", "", nil); code != 409 {
		t.Errorf("second resume: %d %s, want 409", code, b)
	}
	call(t, "DELETE", ts.URL+"/api/jobs/"+j.ID, "", nil)
}

// TestCancelRecordedAtOnce: a running job whose step takes long (here its
// data loading, held) is canceled in the store when the cancel is
// accepted, before the run stops: a server killed meanwhile restarts with
// the job canceled (the store's recovery turns running jobs into
// interrupted, resumable ones: the cancel was lost). A second cancel
// meanwhile is accepted too. When the run does stop, its event stream
// ends with the state canceled, and the job keeps no checkpoint.
func TestCancelRecordedAtOnce(t *testing.T) {
	cfg := testConfig(t)
	release := make(chan struct{})
	var calls atomic.Int32
	cfg.Load = func(name string, in core.Input) (*data.Set, *data.Set, string, error) {
		if calls.Add(1) > 1 { // the first load checks the request
			<-release
		}
		return tinyLoader(name, in)
	}
	s, ts := newTestServer(t, cfg)
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	_, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(5))
	var created struct{ ID string }
	decode(t, b, &created)
	waitJob(t, ts.URL, created.ID, 10*time.Second, func(j jobView) bool { return j.State == "running" })
	_, events, unsubscribe, err := s.runner.Subscribe(created.ID)
	if err != nil || events == nil {
		t.Fatalf("subscribing to the running job: %v", err)
	}
	defer unsubscribe()
	for i := range 2 {
		if j, err := s.runner.Cancel(created.ID, 10*time.Millisecond); err != nil || j.State != "canceled" {
			t.Fatalf("cancel %d while the run is still loading: %q, %v", i+1, j.State, err)
		}
	}
	if j, err := s.store.Job(created.ID); err != nil || j.State != "canceled" {
		t.Fatalf("while the run is still loading: the store has %q (%v), want canceled", j.State, err)
	}
	// What a restart sees: the database as a server killed now leaves it
	// (a copy: the running server holds its data directory), its recovery
	// run.
	crashed := t.TempDir()
	for _, name := range []string{"metriclab.db", "metriclab.db-wal"} {
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, name))
		if err == nil {
			err = os.WriteFile(filepath.Join(crashed, name), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	again, _, err := store.Open(crashed)
	if err != nil {
		t.Fatal(err)
	}
	if j, _ := again.Job(created.ID); j.State != "canceled" {
		t.Errorf("after recovery (a restart): %q, want canceled", j.State)
	}
	again.Close()
	close(release)
	released = true
	last, closed := lastEvent(events, 10*time.Second)
	if !closed {
		t.Fatal("the run did not stop within 10 s of its release")
	}
	if last.Type != msg.TypeState || last.State != "canceled" {
		t.Errorf("the event stream ended with %+v, want the state canceled", last)
	}
	if j, _ := s.store.Job(created.ID); j.State != "canceled" || j.Checkpoint != "" {
		t.Errorf("after the run stopped: %q, checkpoint %q; want canceled, none", j.State, j.Checkpoint)
	}
	if entries, _ := os.ReadDir(filepath.Join(cfg.DataDir, "checkpoints")); len(entries) != 0 {
		t.Errorf("checkpoints left: %v", entries)
	}
}

// TestJobMemoryBound: a CPU job whose training would take more memory than
// MaxJobMemory is refused with the estimate (an iresnet18 of batch 4096
// was accepted and grew the server by gigabytes before its first step);
// the same job fits a larger bound, and a negative bound sets none.
func TestJobMemoryBound(t *testing.T) {
	for _, tc := range []struct {
		bound int64
		code  int
	}{{1 << 10, 400}, {1 << 30, 201}, {-1, 201}} {
		cfg := testConfig(t)
		cfg.MaxJobMemory = tc.bound
		_, ts := newTestServer(t, cfg)
		code, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(1))
		if code != tc.code {
			t.Errorf("bound %d: %d %s, want %d", tc.bound, code, b, tc.code)
		}
		if code == 400 && !strings.Contains(errorOf(t, b), "more than is allowed (1.0 KiB)") {
			t.Errorf("bound %d: %s", tc.bound, b)
		}
	}
}

// TestCheckpointWriteFails: a periodic checkpoint that cannot be written
// (here its folder replaced by a file, as a full disk would refuse it) is
// logged and the job trains on to its model. Before, the job failed and
// its last good checkpoint was removed with it.
func TestCheckpointWriteFails(t *testing.T) {
	cfg, _, ts, logged := loggedTestServer(t)
	_, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(40))
	var created struct{ ID string }
	decode(t, b, &created)
	waitJob(t, ts.URL, created.ID, 10*time.Second, func(j jobView) bool { return j.Step > 12 })
	ckpts := filepath.Join(cfg.DataDir, "checkpoints")
	// Renamed, not removed: the job writes into the folder meanwhile.
	if err := os.Rename(ckpts, ckpts+".gone"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ckpts, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	j := waitJob(t, ts.URL, created.ID, 60*time.Second, func(j jobView) bool { return j.State != "running" && j.State != "queued" })
	if j.State != "done" || j.ModelID == "" {
		t.Errorf("with its checkpoints unwritable the job ended %q (model %q, error %q), want done with a model", j.State, j.ModelID, j.Error)
	}
	if n := strings.Count(logged.String(), "checkpoint at step"); n != 1 {
		t.Errorf("the failed checkpoints were logged %d times, want once (the same error again is not repeated): %q", n, logged.String())
	}
}

// loggedTestServer is newTestServer of testConfig with the server's log
// kept.
func loggedTestServer(t *testing.T) (cfg Config, s *Server, ts *httptest.Server, logged *lockedBuffer) {
	cfg = testConfig(t)
	logged = &lockedBuffer{}
	cfg.Logger = log.New(logged, "", 0)
	s, ts = newTestServer(t, cfg)
	return cfg, s, ts, logged
}

// failJobWrites makes every update of the jobs table of the database in
// dataDir fail while reads work, as on a full disk (a trigger added
// through a second connection), and returns the function that lifts it.
func failJobWrites(t *testing.T, dataDir string) (repair func()) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dataDir, "metriclab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TRIGGER full_disk BEFORE UPDATE ON jobs BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := db.Exec("DROP TRIGGER full_disk"); err != nil {
			t.Fatal(err)
		}
	}
}

// lastEvent reads events until the channel closes and returns the last
// message, and whether it closed within timeout.
func lastEvent(events <-chan msg.Message, timeout time.Duration) (last msg.Message, closed bool) {
	deadline := time.After(timeout)
	for {
		select {
		case m, ok := <-events:
			if !ok {
				return last, true
			}
			last = m
		case <-deadline:
			return last, false
		}
	}
}

// waitLog waits until the log holds s.
func waitLog(t *testing.T, logged *lockedBuffer, s string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !strings.Contains(logged.String(), s); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the log has no %q after %v: %q", s, timeout, logged.String())
		}
	}
}

// lockedBuffer is a bytes.Buffer for a logger that other goroutines write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestJobStartStoreFails: while the store cannot mark a queued job running
// (its writes fail, its reads work: a full disk), the worker waits longer
// and longer between tries instead of retrying at once, and starts the job
// once the store works again. The failure is a trigger added to the
// server's database through a second connection.
func TestJobStartStoreFails(t *testing.T) {
	cfg, _, ts, logged := loggedTestServer(t)
	repair := failJobWrites(t, cfg.DataDir)
	_, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(1))
	var created struct{ ID string }
	decode(t, b, &created)
	time.Sleep(2500 * time.Millisecond) // tries at 0, 1 s, 3 s, …
	tries := strings.Count(logged.String(), "jobs: starting "+created.ID)
	if tries < 1 || tries > 3 {
		t.Errorf("the worker tried to start the job %d times in 2.5 s, want 1 to 3: %q", tries, logged.String())
	}
	if j := getJob(t, ts.URL, created.ID); j.State != "queued" {
		t.Errorf("the job is %q while the store fails, want queued", j.State)
	}
	repair()
	if j := waitJob(t, ts.URL, created.ID, 20*time.Second, ended); j.State != "done" {
		t.Errorf("with the store working again the job ended %q (%q), want done", j.State, j.Error)
	}
}

// TestFinishJobFails: when a finished run's model cannot be saved (the
// models folder replaced by a file), the job is interrupted with its run
// kept as a checkpoint, and resuming it saves the model without training
// again: the model of the resumed job has the first run's step and loss.
func TestFinishJobFails(t *testing.T) {
	cfg, _, ts, logged := loggedTestServer(t)
	models := filepath.Join(cfg.DataDir, "models")
	if err := os.Rename(models, models+".gone"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(models, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(2))
	var created struct{ ID string }
	decode(t, b, &created)
	first := waitJob(t, ts.URL, created.ID, 30*time.Second, ended)
	if first.State != "interrupted" || !strings.Contains(first.Error, "resume the job") || first.Step != first.Steps {
		t.Fatalf("with the model unsaveable the job ended %q at step %d of %d (%q), want interrupted at its last step, resumable", first.State, first.Step, first.Steps, first.Error)
	}
	if !strings.Contains(logged.String(), "saving the model") {
		t.Errorf("the log does not say why: %q", logged.String())
	}
	if err := os.Remove(models); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(models+".gone", models); err != nil {
		t.Fatal(err)
	}
	if code, b := call(t, "POST", ts.URL+"/api/jobs/"+created.ID+"/resume", "", nil); code != 200 {
		t.Fatalf("resume: %d %s", code, b)
	}
	j := waitJob(t, ts.URL, created.ID, 30*time.Second, func(j jobView) bool { return j.State != "queued" && ended(j) })
	if j.State != "done" || j.ModelID == "" {
		t.Fatalf("resumed, the job ended %q (model %q, %q), want done with a model", j.State, j.ModelID, j.Error)
	}
	if j.Step != first.Step || j.Loss != first.Loss {
		t.Errorf("the saved model is of step %d, loss %g; the run ended at step %d, loss %g", j.Step, j.Loss, first.Step, first.Loss)
	}
}

// TestJobStartStoreFailsKeepsStream: while the worker waits to try again
// to start a job the store could not start, the job is queued, and its
// event stream is a queued job's: it stays open and carries the job's
// states to its end (a cancel during the wait ends it canceled), rather
// than ending at once on the state queued.
func TestJobStartStoreFailsKeepsStream(t *testing.T) {
	for _, cancel := range []bool{false, true} {
		cfg, s, ts, logged := loggedTestServer(t)
		repair := failJobWrites(t, cfg.DataDir)
		_, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(1))
		var created struct{ ID string }
		decode(t, b, &created)
		waitLog(t, logged, "jobs: starting "+created.ID, 5*time.Second)
		first, events, unsubscribe, err := s.runner.Subscribe(created.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer unsubscribe()
		if events == nil {
			t.Fatalf("cancel=%v: a queued job waiting for the store has no event stream (first %+v)", cancel, first)
		}
		repair()
		want := "done"
		if cancel {
			want = "canceled"
			if j, err := s.runner.Cancel(created.ID, time.Second); err != nil || j.State != "canceled" {
				t.Fatalf("cancel during the wait: %q, %v", j.State, err)
			}
		}
		last, closed := lastEvent(events, 20*time.Second)
		if !closed {
			t.Fatalf("cancel=%v: the event stream did not end within 20 s", cancel)
		}
		if last.Type != msg.TypeState || last.State != want {
			t.Errorf("cancel=%v: the event stream ended with %+v, want the state %s", cancel, last, want)
		}
	}
}

// TestJobStartRetriesOnNewJob: a job submitted while the worker waits to
// try again a job the store could not start (the store working again)
// starts them both at once, not after the rest of the wait.
func TestJobStartRetriesOnNewJob(t *testing.T) {
	cfg, _, ts, logged := loggedTestServer(t)
	repair := failJobWrites(t, cfg.DataDir)
	_, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(1))
	var first struct{ ID string }
	decode(t, b, &first)
	waitLog(t, logged, "trying again in 4s", 10*time.Second) // three failures: the wait is now 4 s
	repair()
	start := time.Now()
	_, b = postJSON(t, ts.URL+"/api/jobs", tinyJob(1))
	var second struct{ ID string }
	decode(t, b, &second)
	waitJob(t, ts.URL, first.ID, 20*time.Second, func(j jobView) bool { return j.State != "queued" })
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the waiting job started %v after a new one was queued, want at once", took.Round(time.Millisecond))
	}
	for _, id := range []string{first.ID, second.ID} {
		if j := waitJob(t, ts.URL, id, 30*time.Second, ended); j.State != "done" {
			t.Errorf("job %s ended %q (%q), want done", id, j.State, j.Error)
		}
	}
}

// TestModelCardBounded: a model card carries at most msg.MaxCardClasses
// class names, each of at most msg.MaxCardText characters, and counts
// them all; its data and preset are of msg.MaxCardText characters at most.
// The model is not refused: train writes a class per identity, of any
// number. A card carried its model's metadata whole, megabytes of it sent
// in every GET /api/models.
func TestModelCardBounded(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxUpload = 16 << 20
	_, ts := newTestServer(t, cfg)
	m, err := core.DecodeModel(bytes.NewReader(modelBytes(t, 3, 300, 0.01)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Meta.Classes {
		m.Meta.Classes[i] = fmt.Sprintf("%03d", i) + strings.Repeat("x", core.MaxClassName-3)
	}
	m.Meta.Provenance.Data = strings.Repeat("d", 1<<20)
	m.Meta.Provenance.Preset = strings.Repeat("p", 1<<20)
	c, b, list, size := uploadCard(t, ts.URL, m)
	if c.NumClasses != 300 || len(c.Classes) != msg.MaxCardClasses || !strings.HasPrefix(c.Classes[1], "001x") {
		t.Errorf("card of %d classes listing %d (the second %.10q…), want 300 listing the first %d", c.NumClasses, len(c.Classes), c.Classes[1], msg.MaxCardClasses)
	}
	for _, s := range append([]string{c.Data, c.Preset}, c.Classes...) {
		if n := utf8.RuneCountInString(s); n > msg.MaxCardText {
			t.Fatalf("a text of %d characters in the card (%.20q…), want at most %d", n, s, msg.MaxCardText)
		}
	}
	if len(list) > 64<<10 || len(b) > 64<<10 {
		t.Errorf("the list is %d bytes, the upload's answer %d, of a model of %d bytes of metadata", len(list), len(b), size)
	}
}

// uploadCard uploads m, the only model, to the server at base, and returns
// its card as the list gives it, the upload's and the list's answers and
// the file's size.
func uploadCard(t *testing.T, base string, m *core.Model) (card msg.ModelCard, upload, list []byte, size int) {
	t.Helper()
	var file bytes.Buffer
	if err := core.EncodeModel(&file, m); err != nil {
		t.Fatal(err)
	}
	code, upload := call(t, "POST", base+"/api/models", "application/octet-stream", bytes.NewReader(file.Bytes()))
	if code != 201 {
		t.Fatalf("upload: %d %s", code, msg.Shorten(string(upload), 300))
	}
	code, list = call(t, "GET", base+"/api/models", "", nil)
	var cards []msg.ModelCard
	decode(t, list, &cards)
	if code != 200 || len(cards) != 1 {
		t.Fatalf("list: %d, %d cards", code, len(cards))
	}
	return cards[0], upload, list, file.Len()
}

// TestModelCardOneLine: the data and preset of an uploaded model's
// provenance, which the Models page shows in its training column, are
// one line on the card: their control characters, line separators and
// bidirectional overrides as spaces, as an error's line has them
// (msg.ErrorLine). Before, the card carried them as the file gave them,
// unlike the upload's name (refused) and class names (core.Model.Validate):
// a U+202E turned the rest of the column's text around.
func TestModelCardOneLine(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	m, err := core.DecodeModel(bytes.NewReader(modelBytes(t, 3, 3, 0.01)))
	if err != nil {
		t.Fatal(err)
	}
	m.Meta.Provenance.Data = "mnist\u202egnp.exe\x00"
	m.Meta.Provenance.Preset = "digits\nnext\u2028line\u2066"
	if c, _, _, _ := uploadCard(t, ts.URL, m); c.Data != "mnist gnp.exe " || c.Preset != "digits next line " {
		t.Errorf("card: data %q, preset %q; want %q, %q", c.Data, c.Preset, "mnist gnp.exe ", "digits next line ")
	}
}

// TestModelRename: POST /api/models/{id}/rename?name= renames a model
// with the rules of an upload's name, refuses a name another model has
// (409, as an upload with that name is, which keeps nothing), and
// changes the model's name alone: its id, file, download name and the
// list's other models stay.
func TestModelRename(t *testing.T) {
	cfg := testConfig(t)
	_, ts := newTestServer(t, cfg)
	shade := float32(0.01)
	upload := func(query string) msg.ModelCard {
		t.Helper()
		shade += 0.01 // files of their own: the same bytes are the same model (TestModelUploadSameBytes)
		code, b := call(t, "POST", ts.URL+"/api/models"+query, "application/octet-stream", bytes.NewReader(modelBytes(t, 3, 2, shade)))
		if code != 201 {
			t.Fatalf("upload %s: %d %s", query, code, b)
		}
		var c msg.ModelCard
		decode(t, b, &c)
		return c
	}
	a, b := upload("?name=a"), upload("?name=b")
	upload("")
	upload("") // "uploaded model" twice: the server's name may repeat
	rename := func(id, query string) (int, []byte) {
		t.Helper()
		return call(t, "POST", ts.URL+"/api/models/"+id+"/rename"+query, "", nil)
	}

	if code, body := rename(a.ID, "?name=b"); code != 409 || errorOf(t, body) != `name taken: model `+b.ID+` is named "b" already` {
		t.Errorf("rename a to b: %d %s, want 409 naming model %s", code, body, b.ID)
	}
	// A name that is b's but for case or a character's form (msg.NameKey)
	// is b's too, as an identity's is.
	for _, alike := range []string{"B", "ｂ", "Ｂ"} {
		if code, body := rename(a.ID, "?name="+url.QueryEscape(alike)); code != 409 || !regexp.MustCompile(`^name taken: model `+b.ID+` is named "b" already, `).MatchString(errorOf(t, body)) {
			t.Errorf("rename a to %q: %d %s, want 409 naming model %s and its name", alike, code, body, b.ID)
		}
		if code, body := call(t, "POST", ts.URL+"/api/models?name="+url.QueryEscape(alike), "application/octet-stream", bytes.NewReader(modelBytes(t, 3, 2, 0.6))); code != 409 || !strings.Contains(errorOf(t, body), `is named "b" already`) {
			t.Errorf("upload named %q: %d %s, want 409", alike, code, body)
		}
	}
	if code, body := rename(b.ID, "?name=B"); code != 200 || !strings.Contains(string(body), `"name":"B"`) {
		t.Errorf("rename b to B, its own name's key: %d %s, want 200, named B as sent", code, body)
	}
	if code, _ := rename(b.ID, "?name=b"); code != 200 {
		t.Fatalf("rename b back to b: %d", code)
	}
	code, body := rename(a.ID, "?name="+url.QueryEscape("  the new name "))
	var renamed msg.ModelCard
	decode(t, body, &renamed)
	if code != 200 || renamed.ID != a.ID || renamed.Name != "the new name" || renamed.Arch != a.Arch || renamed.Size != a.Size || renamed.Created != a.Created {
		t.Errorf("rename a: %d %s, want 200 with a's card named %q", code, body, "the new name")
	}
	if code, body := rename(a.ID, "?name=the+new+name"); code != 200 {
		t.Errorf("rename a to its own name: %d %s, want 200", code, body)
	}
	code, body = call(t, "GET", ts.URL+"/api/models/"+a.ID, "", nil)
	var got msg.ModelCard
	decode(t, body, &got)
	if code != 200 || got.Name != "the new name" || got.FileName() != a.FileName() {
		t.Errorf("GET the renamed model: %d %s", code, body)
	}
	if code, file := call(t, "GET", ts.URL+"/api/models/"+a.ID+"/file", "", nil); code != 200 || !bytes.Equal(file, modelBytes(t, 3, 2, 0.02)) { // a's, the first upload
		t.Errorf("the renamed model's file: %d, %d bytes, want 200 and the file uploaded", code, len(file))
	}
	// The name a had is free again; b's is still b's.
	if c := upload("?name=a"); c.Name != "a" {
		t.Errorf("upload named a after the rename: %+v", c)
	}
	if code, body := call(t, "POST", ts.URL+"/api/models?name=b", "application/octet-stream", bytes.NewReader(modelBytes(t, 3, 2, 0.5))); code != 409 || !strings.Contains(errorOf(t, body), `is named "b" already`) {
		t.Errorf("upload named b: %d %s, want 409", code, body)
	}
	for _, tc := range []struct{ id, query, want string }{
		{a.ID, "", "name: none given: ?name=NEW names the model"},
		{a.ID, "?name=+", "name: none given: ?name=NEW names the model"},
		{a.ID, "?name=" + strings.Repeat("n", 101), "name: 101 characters, at most 100"},
		{a.ID, "?name=x%E2%80%8Dy", "name: it holds a character that is not printable (a control or format character): printable characters only"},
		{a.ID, "?name=%FF", "name: not text (UTF-8): printable characters only"},
		{a.ID, "?name=x&name=y", "name given twice"},
		{a.ID, "?nmae=x", `unknown query parameter "nmae" (takes: name)`},
	} {
		if code, body := rename(tc.id, tc.query); code != 400 || errorOf(t, body) != tc.want {
			t.Errorf("rename%s: %d %s, want 400 %q", tc.query, code, body, tc.want)
		}
	}
	if code, body := rename("nope", "?name=x"); code != 404 {
		t.Errorf("rename of no model: %d %s, want 404", code, body)
	}
	code, body = call(t, "GET", ts.URL+"/api/models", "", nil)
	var cards []msg.ModelCard
	decode(t, body, &cards)
	var names []string
	for _, c := range cards {
		names = append(names, c.Name)
	}
	if want := []string{"the new name", "b", "uploaded model", "uploaded model", "a"}; code != 200 || !slices.Equal(names, want) {
		t.Errorf("the models' names: %d %q, want %q", code, names, want)
	}
	// The refused upload kept nothing: five files, none temporary.
	entries, _ := os.ReadDir(filepath.Join(cfg.DataDir, "models"))
	if len(entries) != 5 {
		t.Errorf("models folder holds %d files, want the five models", len(entries))
	}
}

// TestDeleteDatasetsSamplesJobs: the API deletes what it stores (R20's
// finding 4: DELETE /api/datasets/NAME was a 404, GET of its samples a
// 405, DELETE of a done job a 409, so a photo sent under the wrong
// identity stayed for good and the job list only grew). A data set's
// samples are listed by pages (?limit, ?after: the page's next); one is
// deleted by its id, the data set by its name, unless a job that is not
// over trains on it (409 naming the job); DELETE of a job cancels it, and
// only DELETE ?remove=1 removes its record, once it has ended, its model
// kept (for a while a plain DELETE did, so a Cancel that met the job's
// end, or clicked twice, lost the record). Deletes need the classroom
// token as every write does.
func TestDeleteDatasetsSamplesJobs(t *testing.T) {
	cfg := testConfig(t)
	cfg.Token = "s3cret"
	_, ts := newTestServer(t, cfg)
	auth := []string{"Authorization", "Bearer s3cret"}
	// "tiny", the name the test loader trains on: a job can run on it.
	post := func(identity string, shade uint8) msg.Sample {
		t.Helper()
		ct, body := sampleBody(t, []string{"identity", identity}, pngBytes(t, 16, 16, shade))
		code, b := call(t, "POST", ts.URL+"/api/datasets/tiny/samples", ct, body, auth...)
		var smp msg.Sample
		if code != 201 {
			t.Fatalf("sample: %d %s", code, b)
		}
		decode(t, b, &smp)
		return smp
	}
	post("Ann", 10)
	post("Ann", 40)
	wrong := post("Bob", 70) // Ann's photo, sent as Bob's
	// Who was sent is people's names: the list needs the token, as a
	// write does (R22), 401 before anything is looked up.
	for _, path := range []string{"/api/datasets/tiny/samples", "/api/datasets/tiny/samples?limit=2", "/api/datasets/none/samples"} {
		for _, h := range [][]string{nil, {"Authorization", "Bearer wrong"}} {
			want := "this server needs its token for people's photos and names"
			if h != nil {
				want = "the token given is not this server's"
			}
			resp, b := callResp(t, "GET", ts.URL+path, "", nil, h...)
			if resp.StatusCode != 401 || !strings.HasPrefix(errorOf(t, b), want) || resp.Header.Get("WWW-Authenticate") == "" || strings.Contains(string(b), "Ann") {
				t.Errorf("GET %s with %v: %d %s, want 401 %q with WWW-Authenticate", path, h, resp.StatusCode, b, want)
			}
		}
	}
	type page struct {
		Samples []struct{ ID, Identity, Created string }
		Next    string
	}
	var p page
	code, b := call(t, "GET", ts.URL+"/api/datasets/tiny/samples?limit=2", "", nil, auth...)
	if decode(t, b, &p); code != 200 || len(p.Samples) != 2 || p.Next != p.Samples[1].ID {
		t.Fatalf("first page of samples: %d %s, want 2 and next", code, b)
	}
	seen := []string{p.Samples[0].ID, p.Samples[1].ID}
	code, b = call(t, "GET", ts.URL+"/api/datasets/tiny/samples?limit=2&after="+p.Next, "", nil, auth...)
	p = page{}
	if decode(t, b, &p); code != 200 || len(p.Samples) != 1 || p.Next != "" || slices.Contains(seen, p.Samples[0].ID) {
		t.Fatalf("second page: %d %s, want the third sample alone", code, b)
	}
	for q, want := range map[string]int{"?limit=0": 400, "?limit=x": 400, "?limit=1001": 400, "?page=2": 400} {
		if code, b := call(t, "GET", ts.URL+"/api/datasets/tiny/samples"+q, "", nil, auth...); code != want {
			t.Errorf("samples%s: %d %s, want %d", q, code, b, want)
		}
	}
	if code, b := call(t, "GET", ts.URL+"/api/datasets/none/samples", "", nil, auth...); code != 404 {
		t.Errorf("samples of no data set: %d %s, want 404", code, b)
	}
	// Without the token: refused, nothing removed.
	for _, path := range []string{"/api/datasets/tiny/samples/" + wrong.ID, "/api/datasets/tiny"} {
		if code, b := call(t, "DELETE", ts.URL+path, "", nil); code != 401 {
			t.Errorf("DELETE %s without the token: %d %s, want 401", path, code, b)
		}
	}
	code, b = call(t, "DELETE", ts.URL+"/api/datasets/tiny/samples/"+wrong.ID, "", nil, auth...)
	if code != 204 {
		t.Fatalf("delete of Bob's sample: %d %s, want 204", code, b)
	}
	if code, b := call(t, "DELETE", ts.URL+"/api/datasets/tiny/samples/"+wrong.ID, "", nil, auth...); code != 404 {
		t.Errorf("deleted again: %d %s, want 404", code, b)
	}
	_, b = call(t, "GET", ts.URL+"/api/datasets", "", nil)
	var sets []msg.Dataset
	decode(t, b, &sets)
	if i := slices.IndexFunc(sets, func(d msg.Dataset) bool { return d.Name == "tiny" }); i < 0 || sets[i].Identities != 1 || sets[i].Samples != 2 {
		t.Errorf("data sets %s, want tiny with Ann's 2 samples", b)
	}

	// A job on the data set: it cannot go while the job runs.
	code, b = postJSON(t, ts.URL+"/api/jobs", tinyJob(2000), auth...)
	var job struct{ ID string }
	if decode(t, b, &job); code != 201 {
		t.Fatalf("job: %d %s", code, b)
	}
	waitJob(t, ts.URL, job.ID, 10*time.Second, func(j jobView) bool { return j.State == "running" })
	code, b = call(t, "DELETE", ts.URL+"/api/datasets/tiny", "", nil, auth...)
	if want := `data set "tiny": job ` + job.ID + ` (running) trains on it`; code != 409 || !strings.HasPrefix(errorOf(t, b), want) {
		t.Errorf("delete of tiny with a job on it: %d %s, want 409 %q", code, b, want)
	}
	// ?remove=1 of a job not over is refused, and cancels nothing.
	code, b = call(t, "DELETE", ts.URL+"/api/jobs/"+job.ID+"?remove=1", "", nil, auth...)
	if want := "job " + job.ID + " is running: cancel it first (DELETE /api/jobs/" + job.ID + "), then remove its record"; code != 409 || errorOf(t, b) != want {
		t.Errorf("DELETE ?remove=1 of the running job: %d %s, want 409 %q", code, b, want)
	}
	if j := getJob(t, ts.URL, job.ID); j.State != "running" {
		t.Errorf("the job after DELETE ?remove=1: %+v, want it running still", j)
	}
	if code, b := call(t, "DELETE", ts.URL+"/api/jobs/"+job.ID, "", nil, auth...); code != 200 || !strings.Contains(string(b), `"state":"canceled"`) {
		t.Fatalf("DELETE of the running job: %d %s, want it canceled", code, b)
	}
	if code, b := call(t, "DELETE", ts.URL+"/api/datasets/tiny", "", nil, auth...); code != 204 {
		t.Errorf("delete of tiny, its job canceled: %d %s, want 204", code, b)
	}
	if code, b := call(t, "GET", ts.URL+"/api/datasets/tiny/samples", "", nil, auth...); code != 404 {
		t.Errorf("samples of the deleted data set: %d %s, want 404", code, b)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "datasets", "tiny")); !os.IsNotExist(err) {
		t.Errorf("the deleted data set's folder: %v, want it gone", err)
	}
	// A second DELETE of the canceled job answers it again, its record
	// kept; DELETE ?remove=1 removes it.
	if code, b := call(t, "DELETE", ts.URL+"/api/jobs/"+job.ID, "", nil, auth...); code != 200 || !strings.Contains(string(b), `"state":"canceled"`) {
		t.Errorf("second DELETE of the canceled job: %d %s, want 200 and the job canceled", code, b)
	}
	if code, b := call(t, "DELETE", ts.URL+"/api/jobs/"+job.ID+"?remove=1", "", nil, auth...); code != 204 {
		t.Errorf("DELETE ?remove=1 of the canceled job: %d %s, want 204", code, b)
	}
	if code, _ := call(t, "GET", ts.URL+"/api/jobs/"+job.ID, "", nil); code != 404 {
		t.Errorf("the deleted job: %d, want 404", code)
	}
	code, b = postJSON(t, ts.URL+"/api/jobs", tinyJob(1), auth...)
	if decode(t, b, &job); code != 201 {
		t.Fatalf("job: %d %s", code, b)
	}
	done := waitJob(t, ts.URL, job.ID, 30*time.Second, ended)
	if done.State != "done" || done.ModelID == "" {
		t.Fatalf("job %+v, want done with a model", done)
	}
	if code, b := call(t, "DELETE", ts.URL+"/api/jobs/"+job.ID+"?remove=1", "", nil); code != 401 {
		t.Errorf("DELETE ?remove=1 of a job without the token: %d %s, want 401", code, b)
	}
	// A plain DELETE of the done job (a Cancel that came too late) is a
	// 409 that says how to remove it, and removes nothing.
	code, b = call(t, "DELETE", ts.URL+"/api/jobs/"+job.ID, "", nil, auth...)
	if hint := "; DELETE /api/jobs/" + job.ID + "?remove=1 removes its record"; code != 409 || !strings.HasPrefix(errorOf(t, b), "job "+job.ID+" is done: ") || !strings.HasSuffix(errorOf(t, b), hint) {
		t.Errorf("DELETE of the done job: %d %s, want 409 ending %q", code, b, hint)
	}
	if j := getJob(t, ts.URL, job.ID); j.State != "done" || j.ModelID != done.ModelID {
		t.Errorf("the done job after a plain DELETE: %+v, want it kept", j)
	}
	for _, q := range []string{"?remove=0", "?remove=", "?remove=true", "?remove=1&remove=1"} {
		if code, b := call(t, "DELETE", ts.URL+"/api/jobs/"+job.ID+q, "", nil, auth...); code != 400 || !strings.Contains(errorOf(t, b), "remove") {
			t.Errorf("DELETE %s of the done job: %d %s, want 400 about remove", q, code, b)
		}
	}
	if code, b := call(t, "DELETE", ts.URL+"/api/jobs/"+job.ID+"?remove=1", "", nil, auth...); code != 204 {
		t.Errorf("DELETE ?remove=1 of the done job: %d %s, want 204", code, b)
	}
	if code, b := call(t, "GET", ts.URL+"/api/models/"+done.ModelID, "", nil); code != 200 || !strings.Contains(string(b), `"job_id":"`+job.ID+`"`) {
		t.Errorf("the deleted job's model: %d %s, want it kept", code, b)
	}
	for _, q := range []string{"", "?remove=1"} {
		if code, b := call(t, "DELETE", ts.URL+"/api/jobs/"+job.ID+q, "", nil, auth...); code != 404 {
			t.Errorf("DELETE%s of the deleted job: %d %s, want 404", q, code, b)
		}
	}
}

// TestSampleImage: GET /api/datasets/{name}/samples/{id} answers the
// sample's image as it was stored, so that the photo a DELETE would remove
// can be seen first (before, the API listed samples by id and identity
// alone): its bytes, its Content-Type (PNG or JPEG), its id as a strong
// ETag (304 to If-None-Match), ranges, a Cache-Control that revalidates
// (a deleted person's photo must not stay in a browser's cache),
// HEAD without the bytes, and a Cross-Origin-Resource-Policy that keeps
// it out of another site's <img>. A person's photo: in classroom mode it
// needs the token, as a write does (R22: anyone on the LAN downloaded every
// face), and without one (loopback) it does not; the Host check, and no
// query parameter, as every route; 404 in the API's JSON for a sample of
// another data set, of no data set, deleted, or whose file is gone.
func TestSampleImage(t *testing.T) {
	cfg := testConfig(t)
	cfg.Token = "s3cret"
	_, ts := newTestServer(t, cfg)
	auth := []string{"Authorization", "Bearer s3cret"}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 16, 12)), nil); err != nil {
		t.Fatal(err)
	}
	post := func(set, identity string, img []byte) msg.Sample {
		t.Helper()
		ct, body := sampleBody(t, []string{"identity", identity}, img)
		code, b := call(t, "POST", ts.URL+"/api/datasets/"+set+"/samples", ct, body, auth...)
		var smp msg.Sample
		if code != 201 {
			t.Fatalf("sample: %d %s", code, b)
		}
		decode(t, b, &smp)
		return smp
	}
	pngImg := pngBytes(t, 16, 16, 30)
	ann := post("tiny", "Ann", pngImg)
	bob := post("tiny", "Bob", jpg.Bytes())
	other := post("other", "Cy", pngBytes(t, 16, 16, 90))

	for _, tc := range []struct {
		smp      msg.Sample
		img      []byte
		wantType string
	}{{ann, pngImg, "image/png"}, {bob, jpg.Bytes(), "image/jpeg"}} {
		imgURL := ts.URL + "/api/datasets/tiny/samples/" + tc.smp.ID
		resp, b := callResp(t, "GET", imgURL, "", nil, auth...)
		h := resp.Header
		if resp.StatusCode != 200 || !bytes.Equal(b, tc.img) {
			t.Errorf("GET %s's sample: %d, %d bytes, want 200 and the %d bytes posted", tc.smp.Identity, resp.StatusCode, len(b), len(tc.img))
		}
		if got := h.Get("Content-Type"); got != tc.wantType {
			t.Errorf("%s's sample: Content-Type %q, want %q", tc.smp.Identity, got, tc.wantType)
		}
		if got := h.Get("Cache-Control"); got != "private, no-cache" {
			t.Errorf("%s's sample: Cache-Control %q, want private, no-cache", tc.smp.Identity, got)
		}
		if got := h.Get("Cross-Origin-Resource-Policy"); got != "same-origin" {
			t.Errorf("%s's sample: Cross-Origin-Resource-Policy %q, want same-origin (no <img> of another site)", tc.smp.Identity, got)
		}
		// A person's photo needs the token, as a write does (R22).
		for _, h := range [][]string{nil, {"Authorization", "Bearer wrong"}} {
			for _, method := range []string{"GET", "HEAD"} {
				if code, b := call(t, method, imgURL, "", nil, h...); code != 401 || bytes.Contains(b, tc.img) {
					t.Errorf("%s %s's sample with %v: %d, %d bytes, want 401 without the image", method, tc.smp.Identity, h, code, len(b))
				}
			}
		}
		etag := h.Get("ETag")
		if etag != `"`+tc.smp.ID+`"` {
			t.Errorf("%s's sample: ETag %q, want its id quoted", tc.smp.Identity, etag)
		}
		if code, b := call(t, "GET", imgURL, "", nil, append([]string{"If-None-Match", etag}, auth...)...); code != 304 || len(b) != 0 {
			t.Errorf("GET with If-None-Match its ETag: %d, %d bytes, want 304 and none", code, len(b))
		}
		if code, b := call(t, "GET", imgURL, "", nil, append([]string{"Range", "bytes=0-3"}, auth...)...); code != 206 || !bytes.Equal(b, tc.img[:4]) {
			t.Errorf("GET of its first 4 bytes: %d %q, want 206 %q", code, b, tc.img[:4])
		}
		head, b := callResp(t, "HEAD", imgURL, "", nil, auth...)
		if head.StatusCode != 200 || len(b) != 0 || head.Header.Get("Content-Length") != strconv.Itoa(len(tc.img)) || head.Header.Get("Content-Type") != tc.wantType {
			t.Errorf("HEAD %s's sample: %d, %d bytes, Content-Length %q, Content-Type %q; want 200, none, %d, %q",
				tc.smp.Identity, head.StatusCode, len(b), head.Header.Get("Content-Length"), head.Header.Get("Content-Type"), len(tc.img), tc.wantType)
		}
	}
	for _, path := range []string{
		"/api/datasets/tiny/samples/" + other.ID, // another data set's
		"/api/datasets/none/samples/" + ann.ID,
		"/api/datasets/tiny/samples/0123456789abcdef",
	} {
		if code, b := call(t, "GET", ts.URL+path, "", nil, auth...); code != 404 || errorOf(t, b) != "not found" {
			t.Errorf("GET %s: %d %s, want 404 not found", path, code, b)
		}
	}
	imgURL := ts.URL + "/api/datasets/tiny/samples/" + ann.ID
	if code, b := call(t, "GET", imgURL+"?size=64", "", nil, auth...); code != 400 || errorOf(t, b) != `unknown query parameter "size" (takes none)` {
		t.Errorf("GET ?size=64: %d %s, want 400", code, b)
	}
	if code, b := call(t, "GET", imgURL, "", nil, "Host", "attacker.example:8000"); code != 403 || !strings.Contains(errorOf(t, b), "attacker.example") {
		t.Errorf("GET with a forged Host: %d %s, want 403", code, b)
	}
	// Its file gone (removed by hand): 404, not 500.
	files, err := filepath.Glob(filepath.Join(cfg.DataDir, "datasets", "tiny", "Bob", bob.ID+".*"))
	if err != nil || len(files) != 1 {
		t.Fatalf("Bob's file: %v %v", files, err)
	}
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	if code, b := call(t, "GET", ts.URL+"/api/datasets/tiny/samples/"+bob.ID, "", nil, auth...); code != 404 || errorOf(t, b) != "not found" {
		t.Errorf("GET of a sample whose file is gone: %d %s, want 404 not found", code, b)
	}
	// Deleted: 404, and no caching of the error.
	if code, b := call(t, "DELETE", imgURL, "", nil, auth...); code != 204 {
		t.Fatalf("DELETE: %d %s", code, b)
	}
	resp, b := callResp(t, "GET", imgURL, "", nil, auth...)
	if resp.StatusCode != 404 || errorOf(t, b) != "not found" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("GET of the deleted sample: %d %s, Cache-Control %q; want 404 not found, no-store", resp.StatusCode, b, resp.Header.Get("Cache-Control"))
	}

	// A server without a token (loopback) serves the list and the photo
	// to anyone who reaches it, as before.
	open := testConfig(t)
	_, ots := newTestServer(t, open)
	ct, body := sampleBody(t, []string{"identity", "Di"}, pngImg)
	code, b := call(t, "POST", ots.URL+"/api/datasets/tiny/samples", ct, body)
	var di msg.Sample
	if decode(t, b, &di); code != 201 {
		t.Fatalf("sample without a token: %d %s", code, b)
	}
	if code, b := call(t, "GET", ots.URL+"/api/datasets/tiny/samples", "", nil); code != 200 || !strings.Contains(string(b), `"Di"`) {
		t.Errorf("samples without a token on a server without one: %d %s, want 200 with Di", code, b)
	}
	if code, b := call(t, "GET", ots.URL+"/api/datasets/tiny/samples/"+di.ID, "", nil); code != 200 || !bytes.Equal(b, pngImg) {
		t.Errorf("Di's image on a server without a token: %d, %d bytes, want 200 and its bytes", code, len(b))
	}
}

// TestModelUploadSameBytes: the same model file uploaded again is the
// model stored (200, "existed": true, its card), not a second model with
// its own id (R20's finding 11); under a name that model does not have,
// 409 naming it; the job's model downloaded and uploaded back is the
// job's model.
func TestModelUploadSameBytes(t *testing.T) {
	cfg := testConfig(t)
	_, ts := newTestServer(t, cfg)
	good := modelBytes(t, 3, 2, 0.01)
	type answer struct {
		ID, Name string
		Existed  bool
	}
	upload := func(query string, b []byte) (int, answer, []byte) {
		t.Helper()
		code, body := call(t, "POST", ts.URL+"/api/models"+query, "application/octet-stream", bytes.NewReader(b))
		var a answer
		if code/100 == 2 {
			decode(t, body, &a)
		}
		return code, a, body
	}
	code, first, b := upload("?name=mine", good)
	if code != 201 || first.Existed {
		t.Fatalf("first upload: %d %s, want 201 with existed false", code, b)
	}
	if code, again, b := upload("", good); code != 200 || !again.Existed || again.ID != first.ID || again.Name != "mine" {
		t.Errorf("the same file again: %d %s, want 200 with existed true and model %s", code, b, first.ID)
	}
	if code, again, b := upload("?name=mine", good); code != 200 || !again.Existed || again.ID != first.ID {
		t.Errorf("the same file under its name: %d %s, want 200 with existed true", code, b)
	}
	code, _, b = upload("?name=yours", good)
	if want := "model " + first.ID + `, named "mine", is this file already`; code != 409 || !strings.Contains(errorOf(t, b), want) {
		t.Errorf("the same file under another name: %d %s, want 409 %q", code, b, want)
	}
	if code, other, b := upload("", modelBytes(t, 3, 2, 0.02)); code != 201 || other.Existed || other.ID == first.ID {
		t.Errorf("another file of the same size: %d %s, want 201, a model of its own", code, b)
	}
	j := runJob(t, ts.URL, tinyJob(1))
	_, file := call(t, "GET", ts.URL+"/api/models/"+j.ModelID+"/file", "", nil)
	if code, back, b := upload("", file); code != 200 || back.ID != j.ModelID {
		t.Errorf("the job's model uploaded back: %d %s, want 200 and model %s", code, b, j.ModelID)
	}
	if entries, _ := os.ReadDir(filepath.Join(cfg.DataDir, "models")); len(entries) != 3 {
		t.Errorf("models folder holds %d files, want 3", len(entries))
	}
}

// TestBuiltinDatasetRoutes: mnist, which GET /api/datasets lists with
// "builtin": true, has no samples to list, show or delete and is not
// deleted: those routes answer 400 with one line saying it is built in,
// as the upload of a sample to it does. Before, they answered 404 "not
// found", as if the data set listed did not exist.
func TestBuiltinDatasetRoutes(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	_, post := call(t, "POST", ts.URL+"/api/datasets/mnist/samples", "multipart/form-data; boundary=x", strings.NewReader("--x--\r\n"))
	if e := errorOf(t, post); !strings.Contains(e, `"mnist" is built in`) {
		t.Fatalf("POST of a sample to mnist: %q, want it built in", e)
	}
	for _, c := range []struct{ method, path, says string }{
		{"GET", "/api/datasets/mnist/samples", "no samples to list"},
		{"DELETE", "/api/datasets/mnist", "cannot be deleted"},
		{"GET", "/api/datasets/mnist/samples/abc", "no samples"},
		{"DELETE", "/api/datasets/mnist/samples/abc", "no samples"},
	} {
		code, b := call(t, c.method, ts.URL+c.path, "", nil)
		e := errorOf(t, b)
		if code != 400 || !strings.Contains(e, `"mnist" is built in`) || !strings.Contains(e, c.says) || strings.Contains(e, "\n") {
			t.Errorf("%s %s: %d %q, want 400, one line saying mnist is built in and %s", c.method, c.path, code, e, c.says)
		}
	}
}
