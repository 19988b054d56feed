//go:build !js

package api

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/job"
	"metriclab/core/msg"
	"metriclab/server/api/jobs"
)

// tinySet is a synthetic data set of classes classes of perClass 1×8×8
// images: class c is bright in its own rows, plus noise, so that an mlp
// separates them in a few steps.
func tinySet(classes, perClass int, seed uint64) *data.Set {
	s := stripedSet(8, classes, perClass, seed)
	for c := range classes {
		s.Classes[c] = fmt.Sprintf("c%d", c)
	}
	return s
}

// stripedSet is a synthetic set of classes classes (named 0, 1, …) of
// perClass 1×side×side images: class c is bright in the rows r with r
// mod classes = c, plus noise.
func stripedSet(side, classes, perClass int, seed uint64) *data.Set {
	in := core.Input{Channels: 1, Height: side, Width: side}
	s := &data.Set{N: classes * perClass, Input: in}
	rng := rand.New(rand.NewPCG(seed, 1))
	for c := range classes {
		s.Classes = append(s.Classes, fmt.Sprint(c))
	}
	for i := range s.N {
		c := i % classes
		for p := range in.Size() {
			v := 0.1 * rng.Float32()
			if (p/side)%classes == c {
				v += 0.8
			}
			s.X = append(s.X, v)
		}
		s.Labels = append(s.Labels, c)
	}
	return s
}

// tinyLoader knows the data set "tiny" (3 classes of 40 images of its own
// shape: a request may not name another).
func tinyLoader(name string, in core.Input) (*data.Set, *data.Set, string, error) {
	if name != "tiny" {
		return nil, nil, "", fmt.Errorf("%w: unknown data set %q", jobs.ErrInvalid, name)
	}
	if in != (core.Input{}) {
		return nil, nil, "", fmt.Errorf("%w: tiny has no input %d×%d×%d", jobs.ErrInvalid, in.Channels, in.Height, in.Width)
	}
	return tinySet(3, 40, 1), tinySet(3, 10, 2), "", nil
}

// tinyJob is a request that trains an mlp on "tiny" for epochs epochs of
// 27 steps (108 training images, 12 held out, batch 4).
func tinyJob(epochs int) msg.TrainRequest {
	return msg.TrainRequest{Data: "tiny", Arch: "mlp", Loss: "arcface", Dim: 3, Epochs: epochs, Batch: 4, LR: 0.01,
		Opt: "adam", Seed: 1, Device: "cpu"}
}

// testConfig is a Config for tests: a temporary data directory, the tiny
// loader, small snapshots, a quiet logger.
func testConfig(t testing.TB) Config {
	return Config{DataDir: t.TempDir(), Version: "test", Load: tinyLoader,
		JobOptions:      job.Options{SnapshotPoints: 30, SnapshotPairs: 20},
		CheckpointEvery: 5, ProgressEvery: time.Millisecond,
		Logger: log.New(io.Discard, "", 0)}
}

// newTestServer starts the API of cfg behind an httptest server.
func newTestServer(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

// call sends a request and returns the status and body.
func call(t testing.TB, method, url, contentType string, body io.Reader, header ...string) (int, []byte) {
	t.Helper()
	resp, b := callResp(t, method, url, contentType, body, header...)
	return resp.StatusCode, b
}

// callResp sends a request and returns the response (its body closed)
// and the body.
func callResp(t testing.TB, method, url, contentType string, body io.Reader, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1] // the client sends req.Host, not Header["Host"]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// uploadModel uploads the model file b and returns its id.
func uploadModel(t testing.TB, base string, b []byte) string {
	t.Helper()
	code, body := call(t, "POST", base+"/api/models", "application/octet-stream", bytes.NewReader(b))
	if code != 201 {
		t.Fatalf("upload: %d %s", code, body)
	}
	var card struct{ ID string }
	decode(t, body, &card)
	return card.ID
}

// postJSON posts v as JSON.
func postJSON(t testing.TB, url string, v any, header ...string) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return call(t, "POST", url, "application/json", bytes.NewReader(b), header...)
}

// decode unmarshals b into v.
func decode(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

// errorOf returns the "error" of a JSON error body, failing when the body
// is not one.
func errorOf(t testing.TB, b []byte) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	decode(t, b, &e)
	if e.Error == "" {
		t.Fatalf("no error in %s", b)
	}
	return e.Error
}

// jobView is a job as the page reads it: the wire type.
type jobView = msg.Job

// getJob fetches a job.
func getJob(t testing.TB, base, id string) jobView {
	t.Helper()
	code, b := call(t, "GET", base+"/api/jobs/"+id, "", nil)
	if code != 200 {
		t.Fatalf("GET job %s: %d %s", id, code, b)
	}
	var j jobView
	decode(t, b, &j)
	return j
}

// waitJob polls job id until done(j) or the timeout.
// runJob posts req, waits for the job to end and fails the test unless it
// is done with a model.
func runJob(t testing.TB, base string, req msg.TrainRequest) jobView {
	t.Helper()
	code, b := postJSON(t, base+"/api/jobs", req)
	if code != 201 {
		t.Fatalf("POST /api/jobs (data %s): %d %s", req.Data, code, b)
	}
	var created struct{ ID string }
	decode(t, b, &created)
	j := waitJob(t, base, created.ID, 30*time.Second, ended)
	if j.State != "done" || j.ModelID == "" {
		t.Fatalf("job on %s ended as %+v, want done with a model", req.Data, j)
	}
	return j
}

func waitJob(t testing.TB, base, id string, timeout time.Duration, done func(jobView) bool) jobView {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j := getJob(t, base, id)
		if done(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: still %+v after %v", id, j, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ended(j jobView) bool {
	switch j.State {
	case msg.JobDone, msg.JobFailed, msg.JobCanceled, msg.JobInterrupted:
		return true
	}
	return false
}

// modelBytes encodes a valid model of spec mlp, D=dim, 1×8×8 input, with a
// head of classes rows, every value v.
func modelBytes(t testing.TB, dim, classes int, v float32) []byte {
	t.Helper()
	return modelBytesHead(t, dim, classes, classes, v)
}

// modelBytesHead is modelBytes with a head of rows rows.
func modelBytesHead(t testing.TB, dim, classes, rows int, v float32) []byte {
	t.Helper()
	spec := core.Spec{Arch: "mlp", Input: core.Input{Channels: 1, Height: 8, Width: 8, Mean: 0.5, Std: 0.5}, Dim: dim}
	m := &core.Model{Meta: core.Metadata{Spec: spec, Loss: "arcface", Threshold: 0.3}, Params: map[string]core.Tensor{}}
	for name, shape := range spec.ParamShapes() {
		n := 1
		for _, d := range shape {
			n *= d
		}
		d := make([]float32, n)
		for i := range d {
			d[i] = v
		}
		m.Params[name] = core.Tensor{Shape: shape, Data: d}
	}
	for c := 0; c < classes; c++ {
		m.Meta.Classes = append(m.Meta.Classes, fmt.Sprint(c))
	}
	m.Params["head.weight"] = core.Tensor{Shape: []int{rows, dim}, Data: make([]float32, rows*dim)}
	var buf bytes.Buffer
	if err := core.EncodeModel(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withHeader is safetensors file b with old replaced by new once in its
// JSON header (the header's length rewritten to match).
func withHeader(t testing.TB, b []byte, old, new string) []byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(b)
	header := string(b[8 : 8+n])
	if !strings.Contains(header, old) {
		t.Fatalf("the header holds no %s: %s", old, header)
	}
	header = strings.Replace(header, old, new, 1)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), b[8+n:]...)
}

// pngBytes is a w×h grey PNG whose pixels are shade.
func pngBytes(t testing.TB, w, h int, shade uint8) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = shade + uint8(i%7)
	}
	img.Set(0, 0, color.Gray{Y: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sampleBody is a multipart body with the given fields (name, value) and
// an image file part when img is not nil.
func sampleBody(t testing.TB, fields []string, img []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := mw.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if img != nil {
		fw, err := mw.CreateFormFile("image", "snap.png")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(img)
	}
	mw.Close()
	return mw.FormDataContentType(), &buf
}

// sseEvents reads the "data:" events of a stream until it ends or n events
// arrived (n ≤ 0: until it ends).
func sseEvents(t testing.TB, body io.Reader, n int) []msg.Message {
	t.Helper()
	b := make([]byte, 0, 1<<16)
	var out []msg.Message
	buf := make([]byte, 32<<10)
	for {
		k, err := body.Read(buf)
		b = append(b, buf[:k]...)
		for {
			i := bytes.Index(b, []byte("\n\n"))
			if i < 0 {
				break
			}
			ev := string(b[:i])
			b = b[i+2:]
			if strings.HasPrefix(ev, "data: ") {
				var m msg.Message
				if err := json.Unmarshal([]byte(ev[len("data: "):]), &m); err != nil {
					t.Errorf("bad event %q: %v", ev, err)
					return out
				}
				out = append(out, m)
				if n > 0 && len(out) >= n {
					return out
				}
			}
		}
		if err != nil {
			return out
		}
	}
}

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

func nanValue() float64 { return math.NaN() }
