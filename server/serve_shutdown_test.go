//go:build !(js && wasm)

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"metriclab/core/data"
)

// TestServeStopsWithOpenStream: Ctrl-C (the context's end) while a client
// follows a running job's events stops serve at once and cleanly. Before,
// the HTTP server's Shutdown waited for the stream, which ends only with
// its job, until its 5-second limit, and serve exited with status 1.
func TestServeStopsWithOpenStream(t *testing.T) {
	if _, err := data.MNISTDir(); err != nil {
		t.Skipf("MNIST not found: %v", err)
	}
	dir := t.TempDir()
	web := emptyWebDir(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"serve", "--web", web, "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--threads", "1"}, w, io.Discard)
		w.Close()
	}()
	lines := bufio.NewScanner(out)
	var base string
	for lines.Scan() {
		if m := regexp.MustCompile(`serving the playground on (http://\S+)`).FindStringSubmatch(lines.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatal("serve did not say where it serves")
	}
	go io.Copy(io.Discard, out) // the rest of stdout
	body := `{"data":"mnist","classes":"0,1","arch":"lenet-s","loss":"arcface","dim":3,"epochs":50,"batch":64,"device":"cpu"}`
	resp, err := http.Post(base+"/api/jobs", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var job struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&job)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK || job.ID == "" {
		t.Fatalf("POST /api/jobs: status %d, id %q", resp.StatusCode, job.ID)
	}
	stream, err := http.Get(base + "/api/jobs/" + job.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if _, err := bufio.NewReader(stream.Body).ReadString('\n'); err != nil {
		t.Fatalf("the event stream: %v", err)
	}
	start := time.Now()
	cancel()
	select {
	case c := <-code:
		if took := time.Since(start); c != 0 || took > 3*time.Second {
			t.Errorf("serve stopped with status %d in %v with an event stream open, want 0 within 3 s", c, took.Round(time.Millisecond))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20 s of Ctrl-C")
	}
}
