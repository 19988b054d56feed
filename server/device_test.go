//go:build !js

package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDeviceCUDAWithoutGPU checks --device cuda on a machine without CUDA:
// status 2 and one line with the library's reason.
func TestDeviceCUDAWithoutGPU(t *testing.T) {
	_, probe := probeCUDA()
	if probe == nil {
		t.Skip("CUDA is present on this machine")
	}
	for _, cmd := range []string{"bench", "train"} {
		code, _, stderr := runCLI(t, cmd, "--device", "cuda", "--out", t.TempDir()+"/m.safetensors")
		if cmd == "bench" {
			code, _, stderr = runCLI(t, cmd, "--device", "cuda")
		}
		if code != 2 {
			t.Errorf("%s --device cuda: exit %d, want 2", cmd, code)
		}
		if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, probe.Error()) || !strings.Contains(stderr, ".so") {
			t.Errorf("%s --device cuda: stderr %q, want one line naming the missing library (%v)", cmd, stderr, probe)
		}
	}
}

// TestDeviceAutoFallsBackToCPU runs a short benchmark with --device auto:
// it trains on the CPU, says why on stderr and reports device cpu.
func TestDeviceAutoFallsBackToCPU(t *testing.T) {
	code, stdout, stderr := runCLI(t, "bench", "--device", "auto", "--arch", "mlp", "--batch", "8",
		"--seconds", "0.05", "--warmup", "1", "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var r benchResult
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	if r.Device != "cpu" || r.Steps < 1 || !(r.ImgPerS > 0) {
		t.Errorf("bench result %+v: want device cpu and a throughput", r)
	}
	if !strings.HasPrefix(stderr, "device auto: ") || !strings.Contains(stderr, "using the CPU") {
		t.Errorf("stderr %q: want the note on the fallback", stderr)
	}
	if code, _, stderr := runCLI(t, "bench", "--device", "tpu"); code != 2 || !strings.Contains(stderr, "tpu") {
		t.Errorf("--device tpu: exit %d, stderr %q", code, stderr)
	}
}
