//go:build !js

package api

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"metriclab/core"
	"metriclab/core/job"
)

// helperEnv names the data directory of TestHelperProcess's server.
const helperEnv = "METRICLAB_API_HELPER_DIR"

// TestHelperProcess is not a test: re-executed by TestCrashRecovery with
// helperEnv set, it serves the API on a loopback port of its own (printed
// as "ADDR host:port") until it is killed.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process of TestCrashRecovery")
	}
	s, err := New(Config{DataDir: dir, Version: "crash", Load: tinyLoader, CheckpointEvery: 50,
		JobOptions: job.Options{SnapshotPoints: 30, SnapshotPairs: 20}, Logger: log.New(os.Stderr, "helper: ", 0)})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("ADDR", ln.Addr())
	http.Serve(ln, s)
	os.Exit(0)
}

// startHelper starts the helper server on dir and returns its process and
// base URL.
func startHelper(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		t.Fatalf("helper said %q, %v", line, err)
	}
	go io.Copy(io.Discard, out)
	return cmd, "http://" + strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))
}

// TestCrashRecovery kills the server with SIGKILL during a job, restarts it
// on the same data directory and checks that the job is interrupted, that
// it resumes from its checkpoint to done with the same weights, bit for
// bit, as the same job run through without a crash, and that every stored
// model loads.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	cmd, base := startHelper(t, dir)

	// A finished job first, so that a model is stored before the crash.
	_, b := postJSON(t, base+"/api/jobs", tinyJob(1))
	var first, long struct{ ID string }
	decode(t, b, &first)
	waitJob(t, base, first.ID, 30*time.Second, ended)
	// 40 epochs of 27 steps: about a second, checkpointed every 50 steps.
	_, b = postJSON(t, base+"/api/jobs", tinyJob(40))
	decode(t, b, &long)
	before := waitJob(t, base, long.ID, 30*time.Second, func(j jobView) bool { return j.CkptStep >= 100 || ended(j) })
	if before.State != "running" {
		t.Fatalf("job %+v before the kill, want running", before)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	_, base = startHelper(t, dir)
	j := getJob(t, base, long.ID)
	if j.State != "interrupted" || j.CkptStep < before.CkptStep || j.CkptStep%50 != 0 || j.ModelID != "" {
		t.Fatalf("after the restart the job is %+v, want interrupted with a checkpoint at ≥ %d", j, before.CkptStep)
	}
	if code, b := call(t, "POST", base+"/api/jobs/"+long.ID+"/resume", "", nil); code != 200 {
		t.Fatalf("resume: %d %s", code, b)
	}
	j = waitJob(t, base, long.ID, 120*time.Second, ended)
	if j.State != "done" || j.Step != 40*27 || j.ModelID == "" {
		t.Fatalf("resumed job ended as %+v, want done after %d steps", j, 40*27)
	}
	// The same job, run through: the same weights, bit for bit.
	var through struct{ ID string }
	_, b = postJSON(t, base+"/api/jobs", tinyJob(40))
	decode(t, b, &through)
	u := waitJob(t, base, through.ID, 120*time.Second, ended)
	if u.State != "done" {
		t.Fatalf("the uninterrupted job ended as %+v", u)
	}
	resumed, err := core.ReadModel(filepath.Join(dir, "models", j.ModelID+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := core.ReadModel(filepath.Join(dir, "models", u.ModelID+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if len(resumed.Params) != len(whole.Params) {
		t.Fatalf("%d and %d parameters", len(resumed.Params), len(whole.Params))
	}
	for name, w := range whole.Params {
		if !slices.Equal(resumed.Params[name].Data, w.Data) {
			t.Errorf("%s of the job killed at step ≥ %d and resumed from its checkpoint at %d differs from the uninterrupted job's", name, before.Step, before.CkptStep)
		}
	}

	// Every stored model loads, from the API and from the data directory;
	// no checkpoint or temporary file is left.
	_, b = call(t, "GET", base+"/api/models", "", nil)
	var cards []struct{ ID string }
	decode(t, b, &cards)
	if len(cards) != 3 {
		t.Fatalf("%d models, want 3: %s", len(cards), b)
	}
	for _, c := range cards {
		code, file := call(t, "GET", base+"/api/models/"+c.ID+"/file", "", nil)
		path := filepath.Join(t.TempDir(), c.ID+".safetensors")
		os.WriteFile(path, file, 0o644)
		if _, err := core.ReadModel(path); code != 200 || err != nil {
			t.Errorf("model %s: %d, %v", c.ID, code, err)
		}
		if _, err := core.ReadModel(filepath.Join(dir, "models", c.ID+".safetensors")); err != nil {
			t.Errorf("stored model %s: %v", c.ID, err)
		}
	}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.Contains(d.Name(), ".tmp-") || strings.Contains(path, "checkpoints"+string(filepath.Separator))) {
			t.Errorf("left behind: %s", path)
		}
		return nil
	})
}
