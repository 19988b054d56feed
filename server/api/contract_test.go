//go:build !js

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"metriclab/app"
	"metriclab/core/job"
	"metriclab/core/msg"
)

// strictDecode decodes raw, an answer of the server, into v (a wire type
// of core/msg, as the page reads it) refusing fields v does not have, and
// checks that v marshals back to the same JSON value: the page's type
// holds every field the server wrote, under the same name and type.
func strictDecode(t *testing.T, what string, raw []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: the page's %T cannot read the server's answer: %v\n%s", what, v, err, raw)
	}
	back, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(back, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%s: the server wrote\n%s\nand the page's %T keeps\n%s", what, raw, v, back)
	}
}

// TestContract holds the server and the page to one schema: the page's
// API client (app.Client, the code the browser runs, here over
// app.HandlerTransport) calls the real API, and every answer decodes into
// the wire types of core/msg with unknown fields refused and nothing lost.
// Renaming or adding a field on one side only fails here.
// uploadFaces uploads through the page's client c a data set "faces" of
// alice, bob and carol, four 16×16 images each.
func uploadFaces(t *testing.T, ctx context.Context, c *app.Client) {
	t.Helper()
	for _, id := range []string{"alice", "bob", "carol"} {
		for i := range 4 {
			if _, err := c.UploadSample(ctx, "faces", id, pngBytes(t, 16, 16, uint8(40*len(id)+i))); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestContractFolderJob: the Jobs page's request of a job on a data set
// uploaded to the server, with the classes as the form takes them,
// typed, and the faces preset's input shape (Settings.Request), is the
// server's to check: classes it refuses are one line (400), which the
// page shows in #jobs-job-error after "the job was not queued: "; those
// of the folder's identities, by name, are queued.
func TestContractFolderJob(t *testing.T) {
	cfg := testConfig(t)
	cfg.Load = nil // the real loader: uploaded data sets
	s, _ := newTestServer(t, cfg)
	c := &app.Client{T: app.HandlerTransport(s)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	uploadFaces(t, ctx, c)
	req := msg.TrainRequest{Data: "faces", Arch: "mlp", Loss: "arcface", Dim: 3, Epochs: 1, Batch: 4, LR: 0.01, Opt: "adam", Seed: 1, Device: "cpu",
		Classes: "s01-s20", Input: "1x48x48"}
	_, err := c.Submit(ctx, req)
	var refused *app.StatusError
	if !errors.As(err, &refused) || refused.Status != 400 || strings.ContainsAny(refused.Text, "\r\n") || !strings.Contains(refused.Text, "s01") {
		t.Errorf("classes s01-s20 of a folder of alice, bob and carol: %v; want the server's 400, one line naming s01", err)
	}
	req.Classes = "alice-bob"
	if _, err := c.Submit(ctx, req); err != nil {
		t.Errorf("classes alice-bob, input 1x48x48: %v; want it queued", err)
	}
}

// TestContractPresetFieldsOff: a Jobs page's job of a preset whose form
// turned off fields the preset sets (the faces preset's embedding batch
// norm, flip test, augmentation, views and weight decay) trains them off:
// the page's client (app.Client.Submit of app.JobRequest, the form's
// request) says them, and the server, which fills a field left out from
// the preset (job.FillRequest), records the form's request. Before, the
// page's JSON left their zero values out, and the job took the preset's
// (embed_bn true, flip_test true, augment faces, four views, 5e-4).
func TestContractPresetFieldsOff(t *testing.T) {
	cfg := testConfig(t)
	cfg.Load = nil // the real loader: uploaded data sets
	s, ts := newTestServer(t, cfg)
	c := &app.Client{T: app.HandlerTransport(s)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	uploadFaces(t, ctx, c)
	form := app.DefaultSettings()
	for _, edit := range [][2]string{{"data", "faces"}, {"preset", "faces"}, {"epochs", "1"},
		{"embed-bn", "no"}, {"flip-test", "no"}, {"augment", "none"}, {"views", "whole"}, {"wd", ""}} {
		var err error
		if form, err = app.EditSettings(form, edit[0], edit[1], []string{"faces"}); err != nil {
			t.Fatalf("%s=%s: %v", edit[0], edit[1], err)
		}
	}
	req := app.JobRequest(form)
	if req.Preset != "faces" || req.EmbedBN || req.FlipTest || req.Augment != "" || len(req.Views) != 0 || req.WeightDecay != nil {
		t.Fatalf("the form's request %+v: want the faces preset with those fields off", req)
	}
	id, err := c.Submit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	j := getJob(t, ts.URL, id)
	if err := c.Cancel(ctx, id); err != nil { // its record is what this test reads
		t.Fatal(err)
	}
	want, got := job.ResolveOpt(req), j.Config
	want.Device = got.Device // auto: the server's
	if got.Augment == "none" {
		got.Augment = ""
	}
	if len(got.Views) == 0 {
		got.Views = nil
	}
	if !reflect.DeepEqual(got, want) || !slices.Contains(j.PresetChanges, "embed_bn") {
		t.Errorf("the server records\n%+v, changes %q;\nthe form's request\n%+v, embed_bn among the changes", got, j.PresetChanges, want)
	}
}

func TestContract(t *testing.T) {
	cfg := testConfig(t)
	s, ts := newTestServer(t, cfg)
	c := &app.Client{T: app.HandlerTransport(s)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The page's training request, decoded by the server with unknown
	// fields refused.
	req := tinyJob(2)
	req.LossParams = map[string]float64{"m": 0.4}
	req.Classes = "0-2"
	req.Schedule = "cosine"
	id, err := c.Submit(ctx, req)
	if err != nil {
		t.Fatalf("the server refused the page's request: %v", err)
	}
	var states []string
	if err := c.Events(ctx, id, func(data string) {
		m, err := app.DecodeMessage(data)
		if err != nil {
			t.Error(err)
			return
		}
		if m.Type == msg.TypeState {
			states = append(states, m.State)
		}
	}); err != nil {
		t.Fatalf("events: %v", err)
	}
	if len(states) == 0 || states[len(states)-1] != msg.JobDone {
		t.Fatalf("the page read the states %v, want the stream to end with done", states)
	}
	jobs, err := c.Jobs(ctx)
	if err != nil || len(jobs) != 1 || jobs[0].ID != id || jobs[0].State != msg.JobDone || jobs[0].ModelID == "" ||
		jobs[0].Config.LossParams["m"] != 0.4 || jobs[0].Metrics == nil || jobs[0].Steps != jobs[0].Step {
		t.Fatalf("the page read the jobs %+v, %v", jobs, err)
	}
	cards, err := c.Models(ctx)
	if err != nil || len(cards) != 1 || cards[0].ID != jobs[0].ModelID || cards[0].JobID != id || cards[0].Input.Height != 8 ||
		len(cards[0].Classes) != 3 || cards[0].Metrics == nil || cards[0].Size == 0 {
		t.Fatalf("the page read the models %+v, %v", cards, err)
	}
	if b, err := c.ModelFile(ctx, cards[0].ID); err != nil || int64(len(b)) != cards[0].Size {
		t.Errorf("model file: %d bytes, %v; the card says %d", len(b), err, cards[0].Size)
	}
	smp, err := c.UploadSample(ctx, "faces", "Ann Smith", pngBytes(t, 16, 16, 40))
	if err != nil || smp.Identity != "Ann Smith" || smp.Dataset != "faces" || smp.ID == "" {
		t.Errorf("the page's upload: %+v, %v", smp, err)
	}
	// The Jobs page's Data select: the folder the upload made, with its
	// one identity and image.
	sets, err := c.Datasets(ctx)
	if i := slices.IndexFunc(sets, func(d msg.Dataset) bool { return d.Name == "faces" }); err != nil || i < 0 || sets[i].Identities != 1 || sets[i].Samples != 1 || sets[i].Builtin {
		t.Errorf("the page's data sets: %+v, %v; want faces of 1 identity, 1 image", sets, err)
	}
	if _, err := c.Submit(ctx, msg.TrainRequest{Data: "tiny"}); err == nil || !strings.HasSuffix(err.Error(), "(400)") {
		t.Errorf("a bad request: %v, want the server's error with 400", err)
	}

	// Every answer, as the server writes it, into the page's types.
	for _, tc := range []struct {
		what, path string
		v          any
	}{
		{"GET /api/jobs", "/api/jobs", &[]msg.Job{}},
		{"GET /api/jobs/{id}", "/api/jobs/" + id, &msg.Job{}},
		{"GET /api/models", "/api/models", &[]msg.ModelCard{}},
		{"GET /api/models/{id}", "/api/models/" + cards[0].ID, &msg.ModelCard{}},
		{"GET /api/datasets", "/api/datasets", &[]msg.Dataset{}},
		{"an error", "/api/jobs/nope", &msg.ErrorBody{}},
	} {
		_, raw := call(t, "GET", ts.URL+tc.path, "", nil)
		strictDecode(t, tc.what, raw, tc.v)
	}
	code, raw := postJSON(t, ts.URL+"/api/jobs", tinyJob(1))
	if code != 201 {
		t.Fatalf("POST /api/jobs: %d %s", code, raw)
	}
	strictDecode(t, "POST /api/jobs", raw, &msg.Created{})
	ct, body := sampleBody(t, []string{"identity", "José"}, pngBytes(t, 16, 16, 90))
	code, raw = call(t, "POST", ts.URL+"/api/datasets/faces/samples", ct, body)
	if code != 201 {
		t.Fatalf("POST sample: %d %s", code, raw)
	}
	strictDecode(t, "POST /api/datasets/{name}/samples", raw, &msg.Sample{})

	// The Models page's Delete: the model goes, and a second delete is
	// the server's not found, a 404 the page takes as the model gone
	// (app.StatusError).
	if err := c.DeleteModel(ctx, cards[0].ID); err != nil {
		t.Fatalf("the page's delete of model %s: %v", cards[0].ID, err)
	}
	if left, err := c.Models(ctx); err != nil || len(left) != 0 {
		t.Errorf("after the page's delete: models %+v, %v; want none", left, err)
	}
	var status *app.StatusError
	if err := c.DeleteModel(ctx, cards[0].ID); !errors.As(err, &status) || status.Status != 404 || !strings.HasSuffix(err.Error(), "(404)") {
		t.Errorf("the page's delete of a model deleted: %v, want the server's error with 404", err)
	}
}

// TestContractModelUploadRename: the Models page's upload and rename
// (app.Client.UploadModel, RenameModel) as the real API takes them: the
// file's bytes as the body, the name in the query (spaces, accents and
// "&" escaped); a file that is no model, and a name another model has,
// are the server's one line with its status, which the page shows.
func TestContractModelUploadRename(t *testing.T) {
	s, _ := newTestServer(t, testConfig(t))
	c := &app.Client{T: app.HandlerTransport(s)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	good := modelBytes(t, 3, 2, 0.01)
	mine, err := c.UploadModel(ctx, "José & co", good)
	if err != nil || mine.Name != "José & co" || mine.Size != int64(len(good)) || mine.Arch != "mlp" {
		t.Fatalf("upload: %+v %v; want the model named José & co", mine, err)
	}
	// The same file again is the model stored: 200, its card.
	if again, err := c.UploadModel(ctx, "", good); err != nil || again.ID != mine.ID {
		t.Errorf("the same file again: %+v %v; want model %s", again, err, mine.ID)
	}
	plain, err := c.UploadModel(ctx, "", modelBytes(t, 3, 2, 0.02))
	if err != nil || plain.Name != "uploaded model" {
		t.Fatalf("upload without a name: %+v %v; want it named uploaded model", plain, err)
	}
	var refused *app.StatusError
	if _, err := c.UploadModel(ctx, "x", []byte("not a model")); !errors.As(err, &refused) || refused.Status != 400 || !strings.HasPrefix(refused.Text, "model: ") {
		t.Errorf("upload of no model: %v; want the server's 400 about the model", err)
	}
	if _, err := c.RenameModel(ctx, plain.ID, "José & co"); !errors.As(err, &refused) || refused.Status != 409 || !strings.Contains(refused.Text, mine.ID) {
		t.Errorf("rename to a name taken: %v; want the server's 409 naming %s", err, mine.ID)
	}
	card, err := c.RenameModel(ctx, plain.ID, "a/b?c=d#e")
	if err != nil || card.Name != "a/b?c=d#e" || card.ID != plain.ID {
		t.Errorf("rename: %+v %v; want %s named a/b?c=d#e", card, err, plain.ID)
	}
	cards, err := c.Models(ctx)
	if err != nil || len(cards) != 2 || cards[1].Name != "a/b?c=d#e" {
		t.Errorf("the list after the rename: %+v %v", cards, err)
	}
}
