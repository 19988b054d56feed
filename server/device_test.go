//go:build !js

package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestDeviceCUDAWithoutGPU checks --device cuda on a machine without CUDA:
// status 2 and one line with the library's reason, named once (it was
// "device cuda: cuda: libcuda.so.1 not found: …").
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
		reason := strings.TrimPrefix(probe.Error(), "cuda: ")
		if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "device cuda: "+reason) || !strings.Contains(stderr, ".so") {
			t.Errorf("%s --device cuda: stderr %q, want one line naming the missing library: device cuda: %s", cmd, stderr, reason)
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
	if !strings.HasPrefix(stderr, "device auto: ") || strings.HasPrefix(stderr, "device auto: cuda:") || !strings.Contains(stderr, "using the CPU") {
		t.Errorf("stderr %q: want the note on the fallback", stderr)
	}
	if code, _, stderr := runCLI(t, "bench", "--device", "tpu"); code != 2 || !strings.Contains(stderr, "tpu") {
		t.Errorf("--device tpu: exit %d, stderr %q", code, stderr)
	}
}

// TestCUDAEngineOnEmulation trains and benchmarks with --device cuda-emu:
// the CUDA engine's whole path (kernels, buffers, graph capture) on the
// CPU emulation of its kernels. Training on an image folder must lower
// the loss and write a model that eval reads; bench reports the device.
func TestCUDAEngineOnEmulation(t *testing.T) {
	if _, err := exec.LookPath("g++"); err != nil || runtime.GOARCH != "amd64" {
		t.Skip("the CPU emulation of the CUDA kernels needs g++ on amd64")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the emulated kernels are built there
	dir := t.TempDir()
	writeShapes(t, filepath.Join(dir, "shapes"), 30)
	model := filepath.Join(dir, "m.safetensors")
	code, stdout, stderr := runCLI(t, "train", "--device", "cuda-emu", "--data", filepath.Join(dir, "shapes"), "--arch", "lenet-s",
		"--loss", "arcface", "--dim", "4", "--epochs", "4", "--batch", "16", "--val", "15", "--json", "--out", model)
	if code != 0 {
		t.Fatalf("train --device cuda-emu: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	lines = lines[:len(lines)-1] // the last names the model (TestTrainJSONNamesModel)
	var first, last progress
	if len(lines) == 0 || json.Unmarshal([]byte(lines[0]), &first) != nil || json.Unmarshal([]byte(lines[len(lines)-1]), &last) != nil {
		t.Fatalf("progress lines %q", stdout)
	}
	if !last.EpochEnd || last.Epoch != 4 || !(last.Loss < first.Loss) {
		t.Errorf("progress from %+v to %+v: want 4 epochs with the loss falling", first, last)
	}
	if code, _, stderr := runCLI(t, "eval", "--model", model, "--data", filepath.Join(dir, "shapes"), "--json"); code != 0 {
		t.Errorf("eval of the emulated engine's model: exit %d: %s", code, stderr)
	}
	code, stdout, stderr = runCLI(t, "bench", "--device", "cuda-emu", "--arch", "mlp", "--batch", "8",
		"--seconds", "0.1", "--warmup", "3", "--json")
	var r benchResult
	if code != 0 || json.Unmarshal([]byte(stdout), &r) != nil || r.Device != "cuda-emu" || r.Steps < 1 || !(r.ImgPerS > 0) {
		t.Errorf("bench --device cuda-emu: exit %d, %q, %q", code, stdout, stderr)
	}
}

// TestBenchCUDAFlagsOnTheirDevice: on a device of the CUDA engine, bench
// refuses --threads (the CPU engine's; before, taken and unread), and on
// the emulation --tf32 (before, taken and dropped: the result said no
// TF32); its line of text names no threads there (before, "cuda-emu (0
// threads)"), and one thread of the CPU is "1 thread", one step "1 step"
// (before, "1 threads" and "over 1 steps").
func TestBenchCUDAFlagsOnTheirDevice(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // where the emulated kernels would be built
	wantBadInput(t, "--threads is the CPU engine's, and device cuda-emu runs the CUDA engine, which does not read it",
		"bench", "--device", "cuda-emu", "--threads", "2", "--arch", "mlp")
	wantBadInput(t, "--tf32 is for the cuda device: the CPU emulation of the kernels computes in float32",
		"bench", "--device", "cuda-emu", "--tf32", "--arch", "mlp")
	args := []string{"bench", "--arch", "mlp", "--batch", "8", "--seconds", "1e-300", "--warmup", "1"}
	if code, stdout, stderr := runCLI(t, append(args, "--threads", "1")...); code != 0 || !strings.HasPrefix(stdout, "cpu (1 thread) mlp ") || !strings.HasSuffix(stdout, " over 1 step)\n") {
		t.Errorf("bench --threads 1: exit %d, %q, %q: want a line that starts \"cpu (1 thread) mlp \" and ends \" over 1 step)\"", code, stdout, stderr)
	}
	if _, err := exec.LookPath("g++"); err != nil || runtime.GOARCH != "amd64" {
		t.Skip("the CPU emulation of the CUDA kernels needs g++ on amd64")
	}
	if code, stdout, stderr := runCLI(t, append(args, "--device", "cuda-emu")...); code != 0 || !strings.HasPrefix(stdout, "cuda-emu mlp ") {
		t.Errorf("bench --device cuda-emu: exit %d, %q, %q: want a line that starts \"cuda-emu mlp \"", code, stdout, stderr)
	}
}

// TestBenchEngineFlagsByDeviceAsked: bench takes or refuses a flag of one
// engine by the device asked for, whatever this machine has: auto takes
// --tf32, --resident and --threads, and the result says which applied;
// cuda refuses --threads before looking for a GPU (before, auto refused
// --tf32 and --resident where it found none and --threads where it found
// one, and cuda --threads was refused for its flag only on a machine with
// a GPU).
func TestBenchEngineFlagsByDeviceAsked(t *testing.T) {
	wantBadInput(t, "--threads is the CPU engine's, and device cuda runs the CUDA engine, which does not read it",
		"bench", "--device", "cuda", "--threads", "2", "--arch", "mlp")
	wantBadInput(t, "--resident is for the cuda devices", "bench", "--device", "cpu", "--resident", "--arch", "mlp")
	// train refuses --threads on a CUDA device as bench does, before any
	// device is looked for (cuda-emu needs none).
	for _, dev := range []string{"cuda", "cuda-emu"} {
		wantBadInput(t, "--threads is the CPU engine's, and device "+dev+" runs the CUDA engine", "train", "--device", dev, "--threads", "2", "--out", filepath.Join(t.TempDir(), "m.safetensors"))
	}
	code, stdout, stderr := runCLI(t, "bench", "--device", "auto", "--tf32", "--resident", "--threads", "1",
		"--arch", "mlp", "--batch", "8", "--seconds", "1e-300", "--warmup", "1", "--json")
	var r benchResult
	if code != 0 || json.Unmarshal([]byte(stdout), &r) != nil {
		t.Fatalf("bench --device auto --tf32 --resident --threads 1: exit %d, %q, %q", code, stdout, stderr)
	}
	// The CUDA engine's flags apply on cuda, the CPU engine's on the cpu.
	cuda := r.Device == "cuda"
	if r.TF32 != cuda || r.Resident != cuda || (r.Threads == 1) == cuda {
		t.Errorf("bench --device auto --tf32 --resident --threads 1 measured %+v: want on cuda tf32 and resident, on the cpu one thread", r)
	}
}
