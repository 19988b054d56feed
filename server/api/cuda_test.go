//go:build linux

package api

import (
	"path/filepath"
	"testing"
	"time"

	"metriclab/core/cuda"
	"metriclab/core/msg"
)

// TestJobOnCUDAEngine runs a job on device "cuda" and one on "auto" with
// the CUDA engine on the CPU emulation of its kernels (the GPU's code
// path without a GPU): both train to the CPU job's quality and register
// their model, and "auto" is recorded as "cuda".
func TestJobOnCUDAEngine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "emu")
	if _, err := cuda.NewEmu(dir); err != nil {
		t.Skipf("no CPU emulation of the CUDA kernels: %v", err)
	}
	cfg := testConfig(t)
	cfg.CUDA = cuda.NewEngineFunc(func() (cuda.Backend, error) { return cuda.NewEmu(dir) }, cuda.Options{})
	_, ts := newTestServer(t, cfg)
	for _, device := range []string{"cuda", "auto"} {
		req := tinyJob(2)
		req.Device = device
		code, b := postJSON(t, ts.URL+"/api/jobs", req)
		if code != 201 {
			t.Fatalf("POST /api/jobs on %s: %d %s", device, code, b)
		}
		var created struct{ ID string }
		decode(t, b, &created)
		j := waitJob(t, ts.URL, created.ID, 2*time.Minute, ended)
		if j.State != "done" || j.Step != 54 || j.ModelID == "" || j.Metrics == nil || j.Metrics.Accuracy < 0.9 {
			t.Fatalf("%s job ended as %+v, want done after 54 steps with verification accuracy ≥ 0.9", device, j)
		}
		code, b = call(t, "GET", ts.URL+"/api/jobs/"+created.ID, "", nil)
		var full struct {
			Config msg.TrainRequest `json:"config"`
		}
		decode(t, b, &full)
		if code != 200 || full.Config.Device != "cuda" {
			t.Errorf("%s job recorded device %q, want cuda", device, full.Config.Device)
		}
	}
}
