//go:build !js

package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"log"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/job"
	"metriclab/core/msg"
	"metriclab/server/api/store"
)

func TestHosts(t *testing.T) {
	h, err := NewHosts("mybox.lan:8000", []string{"Class.Example.org", ".school.edu", ""})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"127.0.0.1:8000": true, "localhost:8000": true, "LOCALHOST": true, "app.localhost:8000": true,
		"[::1]:8000": true, "192.168.1.20:8000": true, "10.0.0.1": true, "": true,
		"mybox.lan:8000": true, "mybox.lan.:8000": true, "class.example.org": true, "school.edu:80": true, "lab.school.edu": true,
		"attacker.example:8000": false, "localhost.attacker.example": false, "example.org": false, "evilschool.edu": false,
		"mybox.lan.attacker.example": false, "127.0.0.1.nip.io:8000": false,
	} {
		if got := h.Allowed(host); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", host, got, want)
		}
	}
	// Without a configuration: loopback names and addresses only.
	var none *Hosts
	if !none.Allowed("localhost:1") || !none.Allowed("127.0.0.1:1") || none.Allowed("mybox.lan:8000") {
		t.Error("nil Hosts: want localhost and IPs, not names")
	}
	for _, bad := range []string{"http://x.org", "x.org:80", "a b", "."} {
		if _, err := NewHosts("", []string{bad}); err == nil {
			t.Errorf("NewHosts accepted %q", bad)
		}
	}
	if _, err := NewHosts("nohost", nil); err == nil {
		t.Error("NewHosts accepted an address without a port")
	}
}

// TestForgedHost sends every write, and the event stream, with the Host
// and Origin of a DNS-rebinding page (attacker.example re-pointed at
// 127.0.0.1): each is refused with 403 before its handler runs, so
// nothing changes; the same requests with the real host work.
func TestForgedHost(t *testing.T) {
	cfg := testConfig(t)
	_, ts := newTestServer(t, cfg)
	// A model and an interrupted-looking job to aim at.
	code, b := call(t, "POST", ts.URL+"/api/models", "", bytes.NewReader(modelBytes(t, 3, 2, 0.1)))
	if code != 201 {
		t.Fatalf("upload: %d %s", code, b)
	}
	var card msg.ModelCard
	decode(t, b, &card)
	_, b = postJSON(t, ts.URL+"/api/jobs", tinyJob(1))
	var job msg.Created
	decode(t, b, &job)
	waitJob(t, ts.URL, job.ID, 30*time.Second, ended)

	forged := []string{"Host", "attacker.example:8000", "Origin", "http://attacker.example:8000"}
	ct, body := sampleBody(t, []string{"identity", "x"}, pngBytes(t, 8, 8, 1))
	for _, tc := range []struct {
		method, path, contentType string
		body                      io.Reader
	}{
		{"POST", "/api/jobs", "application/json", strings.NewReader(`{"data":"tiny","arch":"mlp","loss":"arcface","dim":3,"epochs":1,"batch":4}`)},
		{"DELETE", "/api/jobs/" + job.ID, "", nil},
		{"POST", "/api/jobs/" + job.ID + "/resume", "", nil},
		{"POST", "/api/models", "", bytes.NewReader(modelBytes(t, 3, 2, 0.1))},
		{"DELETE", "/api/models/" + card.ID, "", nil},
		{"POST", "/api/datasets/faces/samples", ct, body},
		{"GET", "/api/jobs/" + job.ID + "/events", "", nil},
		{"GET", "/api/models/" + card.ID + "/file", "", nil},
	} {
		code, b := call(t, tc.method, ts.URL+tc.path, tc.contentType, tc.body, forged...)
		if code != 403 || !strings.Contains(errorOf(t, b), "attacker.example") {
			t.Errorf("%s %s with a forged Host: %d %s, want 403", tc.method, tc.path, code, b)
		}
	}
	// Nothing changed: one job, the model still there, no data set.
	_, b = call(t, "GET", ts.URL+"/api/jobs", "", nil)
	var jobs []msg.Job
	decode(t, b, &jobs)
	if len(jobs) != 1 || jobs[0].State != msg.JobDone {
		t.Errorf("after the forged requests: jobs %+v", jobs)
	}
	if code, _ := call(t, "GET", ts.URL+"/api/models/"+card.ID, "", nil); code != 200 {
		t.Errorf("the model is gone: %d", code)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "datasets", "faces")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a forged upload made the data set: %v", err)
	}
	// The real host, and a classroom's name when allowed.
	if code, b := call(t, "DELETE", ts.URL+"/api/models/"+card.ID, "", nil, "Host", "localhost"); code != 204 {
		t.Errorf("DELETE from localhost: %d %s", code, b)
	}
	hosts, _ := NewHosts("", []string{"class.example.org"})
	cfg = testConfig(t)
	cfg.Hosts = hosts
	_, ts = newTestServer(t, cfg)
	if code, b := call(t, "GET", ts.URL+"/api/jobs", "", nil, "Host", "class.example.org:8000"); code != 200 {
		t.Errorf("an allowed name: %d %s", code, b)
	}
}

// TestRefusedHostNosniff: the 403 of a Host that is not allowed, from the
// API and from Guard (which serve puts before every page), says
// "nosniff" as every other answer of the API; before, neither did, and
// the body quotes the Host the client chose.
func TestRefusedHostNosniff(t *testing.T) {
	s, ts := newTestServer(t, testConfig(t))
	for what, h := range map[string]http.Handler{"the API": s, "Guard": (*Hosts)(nil).Guard(s)} {
		req := httptest.NewRequest("GET", "/api/health", nil)
		req.Host = "attacker.example"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 403 || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s, a forged Host: %d X-Content-Type-Options %q, want 403 with nosniff", what, rec.Code, rec.Header().Get("X-Content-Type-Options"))
		}
	}
	resp, _ := callResp(t, "GET", ts.URL+"/api/health", "", nil)
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("an allowed Host: X-Content-Type-Options %q, want nosniff", resp.Header.Get("X-Content-Type-Options"))
	}
	// A Host of 60 kB is quoted shortened to hostQuoteRunes (its start
	// and end around " … "), as a name a client sends is in every error
	// of the API (msg.Shorten), and the message keeps what to do; before,
	// the Host took the whole line but its end.
	req := httptest.NewRequest("GET", "/api/health", nil)
	req.Host = strings.Repeat("a", 60000) + ".example"
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	const want = `this server does not answer to the host name "aaa`
	text := errorOf(t, rec.Body.Bytes())
	quoted := regexp.MustCompile(`"([^"]*)"`).FindStringSubmatch(text)
	if rec.Code != 403 || !strings.HasPrefix(text, want) || !strings.HasSuffix(text, "(start it with --allowed-hosts NAME to allow it)") ||
		quoted == nil || utf8.RuneCountInString(quoted[1]) != hostQuoteRunes || !strings.Contains(quoted[1], " … ") || !strings.HasSuffix(quoted[1], "a.example") {
		t.Errorf("a Host of 60 kB: %d %q, want 403 quoting the Host shortened to %d characters, then what to do", rec.Code, text, hostQuoteRunes)
	}
	// A Host of a usual length is quoted whole.
	req.Host = "attacker.example:8000"
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if text := errorOf(t, rec.Body.Bytes()); rec.Code != 403 || !strings.Contains(text, `"attacker.example:8000"`) {
		t.Errorf("a forged Host: %d %q, want 403 quoting it whole", rec.Code, text)
	}
}

// slowRequest sends the headers of method path with a body of n bytes,
// then the body a chunk every gap, and returns the status line and how
// long the server took to answer, or that it closed the connection.
func slowRequest(t *testing.T, addr, method, path, contentType string, n int, gap time.Duration) (status string, took time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", method, path, contentType, n)
	answered := make(chan string, 1)
	go func() {
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			line = "closed: " + err.Error()
		}
		answered <- strings.TrimSpace(line)
	}()
	for sent := 0; sent < n; sent += 10 {
		select {
		case s := <-answered:
			return s, time.Since(start)
		case <-time.After(gap):
			c.Write(bytes.Repeat([]byte(" "), 10))
		}
	}
	select {
	case s := <-answered:
		return s, time.Since(start)
	case <-time.After(10 * time.Second):
		return "no answer", time.Since(start)
	}
}

// TestSlowBody sends bodies slowly: a job request, and an upload, that
// dribble 10 bytes every 50 ms are cut off with 408 once their time is up
// (BodyTimeout 300 ms and a rate of at least 1 kB/s), long before they
// would end; a body sent at once is read.
func TestSlowBody(t *testing.T) {
	cfg := testConfig(t)
	cfg.BodyTimeout = 300 * time.Millisecond
	cfg.MinBodyRate = 1 << 10
	_, ts := newTestServer(t, cfg)
	addr := strings.TrimPrefix(ts.URL, "http://")
	for _, tc := range []struct {
		path, contentType string
		n                 int
	}{
		{"/api/jobs", "application/json", 1000}, // 0.3 s + 1 s allowed, 5 s to send
		{"/api/datasets/faces/samples", "multipart/form-data; boundary=x", 1000},
		{"/api/models", "application/octet-stream", 1000},
	} {
		status, took := slowRequest(t, addr, "POST", tc.path, tc.contentType, tc.n, 50*time.Millisecond)
		t.Logf("%s: %q after %v", tc.path, status, took.Round(time.Millisecond))
		if !strings.Contains(status, "408") || took > 3*time.Second {
			t.Errorf("%s sent slowly: %q after %v, want 408 within the 1.3 s allowed", tc.path, status, took)
		}
	}
	// The same length at once is read (and refused for what it says).
	if code, b := call(t, "POST", ts.URL+"/api/jobs", "application/json", strings.NewReader(strings.Repeat(" ", 999)+"x")); code != 400 {
		t.Errorf("a body at once: %d %s, want 400 for its content", code, b)
	}
}

// TestEventStreamOutlastsTimeouts runs the API behind an HTTP server with
// read and write timeouts of 300 ms: an event stream stays open past
// them (it clears its read deadline, and sets a write deadline per event)
// until the job is canceled 1.5 s later; a stream ends after
// MaxSSEDuration.
func TestEventStreamOutlastsTimeouts(t *testing.T) {
	cfg := testConfig(t)
	cfg.ProgressEvery = 50 * time.Millisecond
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s)
	ts.Config.ReadTimeout, ts.Config.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond
	ts.Start()
	t.Cleanup(func() { ts.Close(); s.Close() })
	_, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(1000))
	var job msg.Created
	decode(t, b, &job)
	start := time.Now()
	resp, err := http.Get(ts.URL + "/api/jobs/" + job.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	// Cancel the job after 1.5 s, five times the timeouts: the stream must
	// still be there to say so. The cancel goes through a server without
	// them: its answer waits for the run to stop, which a loaded machine
	// takes longer than 300 ms to do, and the write timeout then cut it
	// (the DELETE got EOF).
	plain := httptest.NewServer(s)
	defer plain.Close()
	cancel := time.AfterFunc(1500*time.Millisecond, func() {
		if code, b := call(t, "DELETE", plain.URL+"/api/jobs/"+job.ID, "", nil); code != 200 {
			t.Errorf("the cancel: %d %s", code, b)
		}
	})
	defer cancel.Stop() // a stream that ended early: no cancel after the test
	evs := sseEvents(t, resp.Body, 0)
	resp.Body.Close()
	took := time.Since(start)
	if took < 1500*time.Millisecond || len(evs) < 3 || evs[len(evs)-1].State != msg.JobCanceled {
		t.Fatalf("the stream lasted %v with %d events, the last %+v: want it past the 300 ms timeouts, to the cancel", took, len(evs), evs[len(evs)-1])
	}
	t.Logf("stream of %d events over %v behind timeouts of 300 ms", len(evs), took.Round(time.Millisecond))

	cfg = testConfig(t)
	cfg.MaxSSEDuration = 200 * time.Millisecond
	_, ts2 := newTestServer(t, cfg)
	_, b = postJSON(t, ts2.URL+"/api/jobs", tinyJob(1000))
	decode(t, b, &job)
	start = time.Now()
	resp, err = http.Get(ts2.URL + "/api/jobs/" + job.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	evs = sseEvents(t, resp.Body, 0)
	resp.Body.Close()
	if took := time.Since(start); took > 5*time.Second || len(evs) == 0 || evs[len(evs)-1].State == msg.JobDone {
		t.Errorf("a stream of MaxSSEDuration 200 ms lasted %v (%d events), want it cut before the job's end", took, len(evs))
	}
	call(t, "DELETE", ts2.URL+"/api/jobs/"+job.ID, "", nil)
}

// TestEventStreamsPerClient opens event streams from one address until
// the per-client bound, then one more: 429; another address's stream is
// still taken while the first client's are open, and a closed stream
// frees its place.
func TestEventStreamsPerClient(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxSSEPerClient = 2
	s, ts := newTestServer(t, cfg)
	_, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(1000))
	var job msg.Created
	decode(t, b, &job)
	defer call(t, "DELETE", ts.URL+"/api/jobs/"+job.ID, "", nil)
	path := "/api/jobs/" + job.ID + "/events"
	var open []*http.Response
	for i := 0; i < 2; i++ {
		resp, err := http.Get(ts.URL + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("stream %d: %v %v", i, resp.StatusCode, err)
		}
		open = append(open, resp)
	}
	code, b := call(t, "GET", ts.URL+path, "", nil)
	if code != 429 || !strings.Contains(errorOf(t, b), "from this address") {
		t.Errorf("a third stream from one address: %d %s, want 429", code, b)
	}
	// Another address (the handler sees RemoteAddr): taken.
	other := httptest.NewRequest("GET", path, nil)
	other.RemoteAddr = "192.0.2.7:1234"
	other.Host = "127.0.0.1"
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, other.WithContext(ctx))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "data: ") {
		t.Errorf("another address's stream: %d %.100s", rec.Code, rec.Body.String())
	}
	open[0].Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(ts.URL + path)
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if err == nil {
			resp.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed stream did not free its place")
		}
		time.Sleep(20 * time.Millisecond)
	}
	open[1].Body.Close()
}

// TestEventStreamsClassroom: with the defaults, a classroom of 32
// students, each with DefaultMaxSSEPerClient streams open (a few tabs of
// the Jobs page), is served, and a student's stream beyond those is
// refused 429. Before, 32 streams in all were: 8 students with 4 each
// refused every other viewer for the whole job.
func TestEventStreamsClassroom(t *testing.T) {
	const students = 32
	cfg := testConfig(t)
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} // each student named by X-Forwarded-For
	_, ts := newTestServer(t, cfg)
	var job msg.Created
	for range 2 { // the second stays queued behind the first: its streams idle
		_, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(1000))
		decode(t, b, &job)
		defer call(t, "DELETE", ts.URL+"/api/jobs/"+job.ID, "", nil)
	}
	path := ts.URL + "/api/jobs/" + job.ID + "/events"
	stream := func(student int) *http.Response {
		req, err := http.NewRequest("GET", path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.0.%d.%d", student/250, student%250+1))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for i := range students {
		for k := range DefaultMaxSSEPerClient {
			resp := stream(i)
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("student %d's stream %d: %d %s, want 200 (a classroom of %d, %d streams each)", i+1, k+1, resp.StatusCode, b, students, DefaultMaxSSEPerClient)
			}
			sseEvents(t, resp.Body, 1) // open: its first event came
		}
	}
	resp := stream(0)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || !strings.Contains(errorOf(t, b), "from this address") {
		t.Errorf("a student's stream %d: %d %s, want 429 from this address", DefaultMaxSSEPerClient+1, resp.StatusCode, b)
	}
}

// TestEventStreamHead: a HEAD of a job's events answers the stream's
// status and headers, then ends and gives its place back. Before, it held
// its place until the job ended (net/http drops what a HEAD writes): the
// client, allowed one stream here, could not open it, and the HEAD's
// connection answered nothing else meanwhile.
func TestEventStreamHead(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxSSEPerClient = 1
	_, ts := newTestServer(t, cfg)
	_, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(1000))
	var job msg.Created
	decode(t, b, &job)
	defer call(t, "DELETE", ts.URL+"/api/jobs/"+job.ID, "", nil)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	url := ts.URL + "/api/jobs/" + job.ID + "/events"
	resp, err := client.Head(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("HEAD of the events: %d %q, want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, err := client.Head(ts.URL + "/api/jobs/0123456789abcdef/events"); err != nil {
		t.Error(err)
	} else if resp.StatusCode != 404 {
		t.Errorf("HEAD of a missing job's events: %d, want 404", resp.StatusCode)
	}
	// The HEAD's connection, for the one stream allowed.
	resp, err = client.Get(url)
	if err != nil {
		t.Fatalf("the stream after a HEAD: %v", err)
	}
	evs := sseEvents(t, resp.Body, 1)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(evs) != 1 {
		t.Errorf("the stream after a HEAD: %d with %d events, want 200 and the job's state", resp.StatusCode, len(evs))
	}
}

// TestResumeCountsTowardLimit: resuming an interrupted job is a
// submission of the client who resumes it, refused (429) past the
// per-client limit.
func TestResumeCountsTowardLimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxJobsPerClient = 1
	// A job cut off by a restart: the first server stops while it runs.
	s1, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts1 := httptest.NewServer(s1)
	_, b := postJSON(t, ts1.URL+"/api/jobs", tinyJob(1000))
	var first msg.Created
	decode(t, b, &first)
	waitJob(t, ts1.URL, first.ID, 30*time.Second, func(j jobView) bool { return j.Step > 0 })
	ts1.Close()
	s1.Close()
	_, ts := newTestServer(t, cfg)
	if j := getJob(t, ts.URL, first.ID); j.State != msg.JobInterrupted {
		t.Fatalf("after the restart: %+v, want interrupted", j)
	}
	// The client's other job holds its one place.
	code, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(1000))
	if code != 201 {
		t.Fatalf("second job: %d %s", code, b)
	}
	var second msg.Created
	decode(t, b, &second)
	code, b = call(t, "POST", ts.URL+"/api/jobs/"+first.ID+"/resume", "", nil)
	if code != 429 {
		t.Errorf("resume past the limit: %d %s, want 429", code, b)
	}
	if j := getJob(t, ts.URL, first.ID); j.State != msg.JobInterrupted {
		t.Errorf("the refused resume changed the job: %+v", j)
	}
	call(t, "DELETE", ts.URL+"/api/jobs/"+second.ID, "", nil)
	waitJob(t, ts.URL, second.ID, 10*time.Second, ended)
	if code, b := call(t, "POST", ts.URL+"/api/jobs/"+first.ID+"/resume", "", nil); code != 200 {
		t.Errorf("resume within the limit: %d %s", code, b)
	}
	call(t, "DELETE", ts.URL+"/api/jobs/"+first.ID, "", nil)
}

// TestDevicesProbedOnce: GET /api/devices probes CUDA at the first
// request only.
func TestDevicesProbedOnce(t *testing.T) {
	cfg := testConfig(t)
	probes := 0
	cfg.ProbeCUDA = func() (string, error) { probes++; return "", errors.New("cuda: no driver") }
	_, ts := newTestServer(t, cfg)
	for i := 0; i < 3; i++ {
		code, b := call(t, "GET", ts.URL+"/api/devices", "", nil)
		if code != 200 || !strings.Contains(string(b), "cuda: no driver; device auto trains on the CPU") {
			t.Fatalf("devices: %d %s", code, b)
		}
	}
	if probes != 1 {
		t.Errorf("CUDA probed %d times for 3 requests, want 1", probes)
	}
}

// TestCutOffBody sends each kind of body, half of it, then closes its
// side of the connection: each is refused with 400 (the client's doing,
// not an internal error), and nothing is left in the data directory, not
// even a temporary file.
func TestCutOffBody(t *testing.T) {
	cfg := testConfig(t)
	_, ts := newTestServer(t, cfg)
	addr := strings.TrimPrefix(ts.URL, "http://")
	ct, sample := sampleBody(t, []string{"identity", "ann"}, pngBytes(t, 16, 16, 9))
	for _, tc := range []struct {
		path, contentType string
		body              []byte
		want              string
	}{
		{"/api/models", "application/octet-stream", modelBytes(t, 3, 2, 0.01), "cut off"},
		{"/api/datasets/faces/samples", ct, sample.Bytes(), "cut off"},
		{"/api/jobs", "application/json", []byte(mustJSON(t, tinyJob(1))), "cut off"},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", tc.path, tc.contentType, len(tc.body))
		c.Write(tc.body[:len(tc.body)/2])
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		c.Close()
		if resp.StatusCode != 400 || !strings.Contains(errorOf(t, b), tc.want) {
			t.Errorf("%s cut off: %d %s, want 400 saying %q", tc.path, resp.StatusCode, b, tc.want)
		}
	}
	filepath.WalkDir(cfg.DataDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Dir(path) != cfg.DataDir {
			t.Errorf("a cut-off body left %s", path)
		}
		return nil
	})
	for _, p := range []string{"/api/models", "/api/jobs"} {
		if code, b := call(t, "GET", ts.URL+p, "", nil); code != 200 || strings.TrimSpace(string(b)) != "[]" {
			t.Errorf("GET %s after the cut-off bodies: %d %s, want []", p, code, b)
		}
	}
}

// TestResetBody sends each kind of body, half of it, then resets the
// connection: each is answered (to no one) as a cut-off body, 400, and
// nothing is logged or stored. Before, a model upload's reset was a 500
// "internal error" logged as the server's ("writing model: read tcp …:
// connection reset by peer"), a job's and a sample's a 400 under another
// error.
func TestResetBody(t *testing.T) {
	cfg := testConfig(t)
	var logged bytes.Buffer
	cfg.Logger = log.New(&logged, "", 0)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	started, answered := make(chan struct{}, 1), make(chan *answerOf, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := &answerOf{ResponseWriter: w}
		started <- struct{}{}
		s.ServeHTTP(a, r)
		answered <- a
	}))
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	addr := strings.TrimPrefix(ts.URL, "http://")
	ct, sample := sampleBody(t, []string{"identity", "ann"}, pngBytes(t, 16, 16, 9))
	for _, tc := range []struct {
		path, contentType string
		body              []byte
	}{
		{"/api/models", "application/octet-stream", modelBytes(t, 3, 2, 0.01)},
		{"/api/datasets/faces/samples", ct, sample.Bytes()},
		{"/api/jobs", "application/json", []byte(mustJSON(t, tinyJob(1)))},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", tc.path, tc.contentType, len(tc.body))
		c.Write(tc.body[:len(tc.body)/2])
		<-started
		c.(*net.TCPConn).SetLinger(0) // Close sends a reset
		c.Close()
		a := <-answered
		if want := "the request body was cut off before its end"; a.code != 400 || errorOf(t, a.body.Bytes()) != want {
			t.Errorf("%s reset: %d %s, want 400 saying %q", tc.path, a.code, a.body.Bytes(), want)
		}
	}
	if logged.Len() > 0 {
		t.Errorf("logged as the server's errors: %s", logged.String())
	}
	filepath.WalkDir(cfg.DataDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Dir(path) != cfg.DataDir {
			t.Errorf("a reset body left %s", path)
		}
		return nil
	})
}

// answerOf is a ResponseWriter that keeps the status and the body it
// was given.
type answerOf struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (a *answerOf) WriteHeader(code int) {
	a.code = code
	a.ResponseWriter.WriteHeader(code)
}

func (a *answerOf) Write(b []byte) (int, error) {
	a.body.Write(b)
	return a.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (a *answerOf) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// TestMalformedChunks sends each kind of body chunked, with a chunk's
// length not in hex, then with a chunk longer than its length: each is
// refused with 400 saying so, and nothing is stored. Before, a model
// upload's was a 500 "internal error", logged as the server's, and a
// job's and a sample's said net/http's words under another error's.
func TestMalformedChunks(t *testing.T) {
	cfg := testConfig(t)
	var logged bytes.Buffer
	cfg.Logger = log.New(&logged, "", 0)
	_, ts := newTestServer(t, cfg)
	addr := strings.TrimPrefix(ts.URL, "http://")
	ct, _ := sampleBody(t, []string{"identity", "ann"}, pngBytes(t, 16, 16, 9))
	for _, tc := range []struct{ path, contentType string }{
		{"/api/models", "application/octet-stream"},
		{"/api/datasets/faces/samples", ct},
		{"/api/jobs", "application/json"},
	} {
		for _, chunks := range []string{"zz\r\n{}\r\n0\r\n\r\n", "2\r\n{}XX\r\n0\r\n\r\n"} {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n%s", tc.path, tc.contentType, chunks)
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("%s: %v", tc.path, err)
			}
			b, _ := io.ReadAll(resp.Body)
			c.Close()
			if want := "the request body's chunked encoding is malformed"; resp.StatusCode != 400 || errorOf(t, b) != want {
				t.Errorf("%s, chunks %q: %d %s, want 400 saying %q", tc.path, chunks, resp.StatusCode, b, want)
			}
		}
	}
	if logged.Len() > 0 {
		t.Errorf("logged as the server's errors: %s", logged.String())
	}
	for _, p := range []string{"/api/models", "/api/jobs"} {
		if code, b := call(t, "GET", ts.URL+p, "", nil); code != 200 || strings.TrimSpace(string(b)) != "[]" {
			t.Errorf("GET %s after the malformed bodies: %d %s, want []", p, code, b)
		}
	}
}

// TestEncodedBody sends each kind of body gzipped, with Content-Encoding:
// gzip: each is refused with 415 saying so, and Accept-Encoding: identity
// (RFC 9110, 12.5.3), and nothing is stored; Content-Encoding: identity is
// a body as any other. Before, the compressed bytes were read as they
// came: a model's was stored, then refused as "not a valid safetensors
// file", a job's as invalid JSON, a sample's as a malformed multipart body.
func TestEncodedBody(t *testing.T) {
	cfg := testConfig(t)
	_, ts := newTestServer(t, cfg)
	ct, sample := sampleBody(t, []string{"identity", "ann"}, pngBytes(t, 16, 16, 9))
	for _, tc := range []struct {
		path, contentType string
		body              []byte
	}{
		{"/api/models", "application/octet-stream", modelBytes(t, 3, 2, 0.01)},
		{"/api/datasets/faces/samples", ct, sample.Bytes()},
		{"/api/jobs", "application/json", []byte(mustJSON(t, tinyJob(1)))},
	} {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(tc.body)
		zw.Close()
		resp, b := callResp(t, "POST", ts.URL+tc.path, tc.contentType, &gz, "Content-Encoding", "gzip")
		if want := "the request body must not be compressed: send it as it is, without Content-Encoding"; resp.StatusCode != 415 || errorOf(t, b) != want {
			t.Errorf("%s gzipped: %d %s, want 415 saying %q", tc.path, resp.StatusCode, b, want)
		}
		if got := resp.Header.Get("Accept-Encoding"); got != "identity" {
			t.Errorf("%s gzipped: Accept-Encoding %q, want identity", tc.path, got)
		}
	}
	filepath.WalkDir(cfg.DataDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Dir(path) != cfg.DataDir {
			t.Errorf("a gzipped body left %s", path)
		}
		return nil
	})
	for _, p := range []string{"/api/models", "/api/jobs"} {
		if code, b := call(t, "GET", ts.URL+p, "", nil); code != 200 || strings.TrimSpace(string(b)) != "[]" {
			t.Errorf("GET %s after the gzipped bodies: %d %s, want []", p, code, b)
		}
	}
	if code, b := call(t, "POST", ts.URL+"/api/jobs", "application/json", strings.NewReader(mustJSON(t, tinyJob(1))), "Content-Encoding", "identity"); code != 201 {
		t.Errorf("a job with Content-Encoding: identity: %d %s, want 201", code, b)
	}
}

// TestDownloadErrors asks for parts of a model's file that do not exist
// and with preconditions that fail: each answer is the API's one-line JSON
// error, without the file's name (a browser would save the error as the
// model) or its year-long caching; ranges that exist are served.
func TestDownloadErrors(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	good := modelBytes(t, 3, 2, 0.01)
	url := ts.URL + "/api/models/" + uploadModel(t, ts.URL, good) + "/file"
	get := func(header ...string) (*http.Response, []byte) { return callResp(t, "GET", url, "", nil, header...) }
	for _, tc := range []struct {
		header []string
		code   int
		want   string
	}{
		{[]string{"Range", "bytes=999999-"}, 416, fmt.Sprintf("the file has %d bytes", len(good))},
		{[]string{"Range", "bytes=9-2"}, 416, "range not satisfiable"},
		// The last 0 bytes: net/http answered 206 with "bytes N-(N−1)/N".
		{[]string{"Range", "bytes=-0"}, 416, fmt.Sprintf("the file has %d bytes", len(good))},
		{[]string{"Range", "bytes=-00, -0"}, 416, "range not satisfiable"},
		{[]string{"Range", "bytes=-0,"}, 416, "range not satisfiable"}, // an empty element is no range
		{[]string{"Range", "bytes=- 0"}, 416, "range not satisfiable"},
		{[]string{"Range", "bytes=-+0"}, 416, "range not satisfiable"},
		{[]string{"If-Match", `"other"`}, 412, "If-Match"},
		{[]string{"If-Unmodified-Since", "Mon, 01 Jan 2001 00:00:00 GMT"}, 412, "If-Unmodified-Since"},
	} {
		resp, body := get(tc.header...)
		h := resp.Header
		if resp.StatusCode != tc.code || h.Get("Content-Type") != "application/json" || !strings.Contains(errorOf(t, body), tc.want) ||
			bytes.Count(body, []byte("\n")) != 1 || h.Get("Content-Disposition") != "" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%v: %d %q %s (Content-Disposition %q, Cache-Control %q), want %d with a JSON error saying %q, not cached",
				tc.header, resp.StatusCode, h.Get("Content-Type"), body, h.Get("Content-Disposition"), h.Get("Cache-Control"), tc.code, tc.want)
		}
		// RFC 9110, 15.5.17: a 416 gives the size, for a malformed range
		// too (net/http set it only for one past the end).
		if want := fmt.Sprintf("bytes */%d", len(good)); tc.code == 416 && h.Get("Content-Range") != want {
			t.Errorf("%v: Content-Range %q, want %q", tc.header, h.Get("Content-Range"), want)
		}
	}
	resp, body := get("Range", "bytes=4-11")
	if resp.StatusCode != 206 || !bytes.Equal(body, good[4:12]) || resp.Header.Get("Content-Disposition") == "" {
		t.Errorf("bytes 4-11: %d, %d bytes, want 206 with those 8 bytes of the file", resp.StatusCode, len(body))
	}
	resp, body = get("Range", "bytes=-0,4-11")
	if resp.StatusCode != 206 || !bytes.Equal(body, good[4:12]) || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 4-11/%d", len(good)) {
		t.Errorf("bytes -0,4-11: %d, %d bytes, Content-Range %q, want 206 with bytes 4-11 alone", resp.StatusCode, len(body), resp.Header.Get("Content-Range"))
	}
	if resp, _ := get("If-None-Match", "*"); resp.StatusCode != 304 {
		t.Errorf("If-None-Match *: %d, want 304 (the file exists)", resp.StatusCode)
	}
}

// TestDownloadRangeUnits: a Range names its unit in any case, and a
// Range of a unit the server does not know is ignored (RFC 9110, 14.1 and
// 14.2): the whole file, 200. Before, net/http answered both with 416.
func TestDownloadRangeUnits(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	good := modelBytes(t, 3, 2, 0.01)
	url := ts.URL + "/api/models/" + uploadModel(t, ts.URL, good) + "/file"
	for _, tc := range []struct {
		rg   string
		code int
		want []byte
	}{
		{"bytes=4-11", 206, good[4:12]},
		{"Bytes=4-11", 206, good[4:12]},
		{"BYTES=-4", 206, good[len(good)-4:]},
		{"BYTES=999999-", 416, nil},
		{"items=0-3", 200, good},
		{"none", 200, good},
	} {
		resp, body := callResp(t, "GET", url, "", nil, "Range", tc.rg)
		if resp.StatusCode != tc.code || tc.want != nil && !bytes.Equal(body, tc.want) {
			t.Errorf("Range %s: %d with %d bytes (Content-Range %q), want %d with %d bytes",
				tc.rg, resp.StatusCode, len(body), resp.Header.Get("Content-Range"), tc.code, len(tc.want))
		}
	}
}

// TestDownloadETag: a model's file has the model's id as its ETag, which
// If-None-Match revalidates (304) and If-Range resumes with (206; another
// tag: the whole file); before, it had none, and If-Range took only the
// file's time, and If-None-Match only "*".
func TestDownloadETag(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	good := modelBytes(t, 3, 2, 0.01)
	id := uploadModel(t, ts.URL, good)
	url := ts.URL + "/api/models/" + id + "/file"
	tag := `"` + id + `"`
	if resp, body := callResp(t, "GET", url, "", nil); resp.StatusCode != 200 || resp.Header.Get("ETag") != tag || !bytes.Equal(body, good) {
		t.Fatalf("GET: %d, ETag %q, want 200 with the file and ETag %s", resp.StatusCode, resp.Header.Get("ETag"), tag)
	}
	for _, tc := range []struct {
		header []string
		code   int
		want   []byte
	}{
		{[]string{"If-None-Match", tag}, 304, nil},
		{[]string{"If-None-Match", `"0123456789abcdef"`}, 200, good},
		{[]string{"Range", "bytes=4-11", "If-Range", tag}, 206, good[4:12]},
		{[]string{"Range", "bytes=4-11", "If-Range", `"0123456789abcdef"`}, 200, good},
		{[]string{"If-Match", tag}, 200, good},
	} {
		resp, body := callResp(t, "GET", url, "", nil, tc.header...)
		if resp.StatusCode != tc.code || !bytes.Equal(body, tc.want) {
			t.Errorf("%v: %d with %d bytes, want %d with %d", tc.header, resp.StatusCode, len(body), tc.code, len(tc.want))
		}
	}
}

// TestDownloadRangeBeyondInt64: RFC 9110 (14.1.2) bounds no position of
// a byte range: a last position past the end asks for the rest of the
// file, a suffix longer than it for the whole file, and a range that
// starts past the end is skipped beside one that is satisfiable. Before,
// a number of more digits than an int64 holds got 416 for the whole
// Range; one that fits was already read so.
func TestDownloadRangeBeyondInt64(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	good := modelBytes(t, 3, 2, 0.01)
	url := ts.URL + "/api/models/" + uploadModel(t, ts.URL, good) + "/file"
	const huge = "99999999999999999999" // > 2⁶³−1
	n := len(good)
	for _, tc := range []struct {
		rg           string
		code         int
		want         []byte
		contentRange string
	}{
		{"bytes=0-99999999999", 206, good, fmt.Sprintf("bytes 0-%d/%d", n-1, n)},
		{"bytes=0-" + huge, 206, good, fmt.Sprintf("bytes 0-%d/%d", n-1, n)},
		{"bytes=4- " + huge, 206, good[4:], fmt.Sprintf("bytes 4-%d/%d", n-1, n)},
		{"bytes=-" + huge, 206, good, fmt.Sprintf("bytes 0-%d/%d", n-1, n)},
		{"bytes=" + huge + "-,4-11", 206, good[4:12], fmt.Sprintf("bytes 4-11/%d", n)},
		{"bytes=" + huge + "-", 416, nil, fmt.Sprintf("bytes */%d", n)},
		{"bytes=4--" + huge, 416, nil, fmt.Sprintf("bytes */%d", n)}, // a negative position is no position: invalid, as net/http reads it
	} {
		resp, body := callResp(t, "GET", url, "", nil, "Range", tc.rg)
		if resp.StatusCode != tc.code || tc.want != nil && !bytes.Equal(body, tc.want) || resp.Header.Get("Content-Range") != tc.contentRange {
			t.Errorf("Range %s: %d with %d bytes (Content-Range %q), want %d with %d bytes (%q)",
				tc.rg, resp.StatusCode, len(body), resp.Header.Get("Content-Range"), tc.code, len(tc.want), tc.contentRange)
		}
	}
}

// TestLongNamesInErrors sends names of tens of kilobytes: the refusal
// quotes their start and still says what is wrong, in a line of bounded
// length, not the whole name back.
func TestLongNamesInErrors(t *testing.T) {
	cfg := testConfig(t)
	cfg.Load = nil // the server's loader and its words
	cfg.MaxSample = 1 << 20
	_, ts := newTestServer(t, cfg)
	long := strings.Repeat("x", 50000)
	req := tinyJob(1)
	req.Data = long
	code, b := postJSON(t, ts.URL+"/api/jobs", req)
	checkShort := func(what string, code int, b []byte, want string) {
		t.Helper()
		e := errorOf(t, b)
		if code != 400 || len(b) > 1000 || !strings.Contains(e, `"xxxx`) || !strings.HasSuffix(e, want) {
			t.Errorf("%s: %d, a body of %d bytes (%.80s…), want 400 with a short error that ends %q", what, code, len(b), b, want)
		}
	}
	checkShort("job on a long data set name", code, b, "(want mnist or an uploaded data set, GET /api/datasets)")
	ct, body := sampleBody(t, []string{"identity", long}, pngBytes(t, 8, 8, 1))
	code, b = call(t, "POST", ts.URL+"/api/datasets/faces/samples", ct, body)
	checkShort("sample of a long identity", code, b, "a name is at most 64 characters")
}

// TestSampleIdentityNFC: an identity's name is taken in Unicode normal
// form C: "José" sent as e and a combining accent (NFD, as macOS names
// files) then with é (NFC, as the page sends a typed name) is one
// identity, "José" with é, in one folder; 40 accented letters in NFD (80
// code points) are 40 characters, not over the 64 a name may have. Before,
// the two forms were two identities of the data set (one person trained as
// two classes, in two folders side by side), and the long name refused.
func TestSampleIdentityNFC(t *testing.T) {
	cfg := testConfig(t)
	_, ts := newTestServer(t, cfg)
	const nfc, nfd = "Jos\u00e9", "Jose\u0301"
	long := strings.Repeat("e\u0301", 40)
	for i, tc := range []struct{ sent, want string }{{nfd, nfc}, {nfc, nfc}, {long, strings.Repeat("\u00e9", 40)}} {
		// An image each: one image of one person is stored once (TestSampleStoredOnce).
		ct, body := sampleBody(t, []string{"identity", tc.sent}, pngBytes(t, 16, 16, 9+uint8(i)))
		code, b := call(t, "POST", ts.URL+"/api/datasets/faces/samples", ct, body)
		var smp msg.Sample
		decode(t, b, &smp)
		if code != 201 || smp.Identity != tc.want {
			t.Errorf("a sample of %+q: %d %s, want 201 of the identity %+q", tc.sent, code, b, tc.want)
		}
	}
	_, b := call(t, "GET", ts.URL+"/api/datasets", "", nil)
	var sets []msg.Dataset
	decode(t, b, &sets)
	if i := slices.IndexFunc(sets, func(d msg.Dataset) bool { return d.Name == "faces" }); i < 0 || sets[i].Identities != 2 || sets[i].Samples != 3 {
		t.Errorf("data sets %s, want faces with 2 identities, 3 samples", b)
	}
	if folders, _ := os.ReadDir(filepath.Join(cfg.DataDir, "datasets", "faces")); len(folders) != 2 || folders[0].Name() != nfc {
		t.Errorf("folders of faces: %v, want %+q and the long name's", folders, nfc)
	}
}

// TestErrorsOneLine: an error that quotes what the client sent with a line
// break in it (a model file with a parameter named "extra\nlayer") is
// answered as the API's one line, its control characters as spaces, as a
// page shows it (msg.ErrorLine). Before, the break went out as it was:
// the answer was shortened, not made one line.
func TestErrorsOneLine(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	m, err := core.DecodeModel(bytes.NewReader(modelBytes(t, 3, 2, 0.01)))
	if err != nil {
		t.Fatal(err)
	}
	m.Params["extra\nlayer\t2"] = core.Tensor{Shape: []int{1}, Data: []float32{0}}
	var file bytes.Buffer
	if err := core.EncodeModel(&file, m); err != nil {
		t.Fatal(err)
	}
	code, b := call(t, "POST", ts.URL+"/api/models", "application/octet-stream", &file)
	if want := "model: unexpected parameter extra layer 2 (shape [1])"; code != 400 || errorOf(t, b) != want {
		t.Errorf("a model with a parameter named %q: %d %s, want 400 %q", "extra\nlayer\t2", code, b, want)
	}
}

// TestImageDecodesBounded: sample images are decoded one per core at a
// time (a 69-byte PNG that declares 4096×4096 16-bit pixels makes the
// decoder allocate 128 MiB; forty at once took a fresh server on 2 cores
// to 1.7 GB resident at its peak, VmHWM, and 0.68 GB with the bound): an
// upload waits while every slot is taken, and goes on when one frees.
func TestImageDecodesBounded(t *testing.T) {
	s, ts := newTestServer(t, testConfig(t))
	for i := 0; i < cap(s.decodes); i++ {
		s.decodes <- struct{}{}
	}
	done := make(chan int, 1)
	go func() {
		ct, body := sampleBody(t, []string{"identity", "ann"}, pngBytes(t, 8, 8, 1))
		code, _ := call(t, "POST", ts.URL+"/api/datasets/faces/samples", ct, body)
		done <- code
	}()
	select {
	case code := <-done:
		t.Fatalf("an upload was decoded (%d) while every slot was taken", code)
	case <-time.After(300 * time.Millisecond):
	}
	<-s.decodes
	select {
	case code := <-done:
		if code != 201 {
			t.Errorf("the upload after a slot freed: %d, want 201", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the upload did not go on when a slot freed")
	}
	for len(s.decodes) > 0 {
		<-s.decodes
	}
}

// TestJobChecksDecodeBounded: a new job's check, which decodes its
// uploaded data set image by image, takes one of the decoding slots
// (Server.decodes), as a sample's upload does, and a job that finds none
// within decodeWait is answered 503 with Retry-After (16 jobs of one
// client submitted at once on 8 samples of 4096×4096 took a fresh server
// on 2 cores to 4.4 GB resident, VmHWM, each check decoding the whole
// set). Of six jobs submitted at once with two slots, two are checked
// (held in the loader, which counts the checks at once) and four
// answered, and so is a sample sent while the two are checked.
func TestJobChecksDecodeBounded(t *testing.T) {
	const slots, jobs = 2, 6
	var inside, most atomic.Int32
	entered, release := make(chan struct{}, 2*jobs), make(chan struct{})
	cfg := testConfig(t)
	cfg.Load = func(name string, in core.Input) (*data.Set, *data.Set, string, error) {
		n := inside.Add(1)
		defer inside.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		entered <- struct{}{}
		<-release
		return tinyLoader(name, in)
	}
	s, ts := newTestServer(t, cfg)
	s.decodes = make(chan struct{}, slots)
	s.decodeWait = 100 * time.Millisecond
	req, err := json.Marshal(tinyJob(1))
	if err != nil {
		t.Fatal(err)
	}
	answers := make(chan *http.Response, jobs)
	for range jobs {
		go func() {
			resp, err := http.Post(ts.URL+"/api/jobs", "application/json", bytes.NewReader(req))
			if err != nil {
				t.Error(err)
				answers <- &http.Response{}
				return
			}
			resp.Body.Close()
			answers <- resp
		}()
	}
	// Each job is being checked (held in the loader) or answered.
	var checked int
	var got []*http.Response
	for checked+len(got) < jobs {
		select {
		case <-entered:
			checked++
		case resp := <-answers:
			got = append(got, resp)
		}
	}
	atOnce := most.Load() // before a job is queued, which the runner loads too
	// A sample's upload shares the slots: both held, it is answered.
	ct, body := sampleBody(t, []string{"identity", "ann"}, pngBytes(t, 8, 8, 1))
	resp, b := callResp(t, "POST", ts.URL+"/api/datasets/faces/samples", ct, body)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != busyRetry {
		t.Errorf("a sample while two jobs are checked: %d %s, Retry-After %q; want 503, %q", resp.StatusCode, b, resp.Header.Get("Retry-After"), busyRetry)
	}
	close(release)
	for len(got) < jobs {
		got = append(got, <-answers)
	}
	if atOnce > slots {
		t.Errorf("%d jobs were checked at once, want at most %d (the decoding slots)", atOnce, slots)
	}
	codes := map[int]int{}
	for _, resp := range got {
		codes[resp.StatusCode]++
		if resp.StatusCode == 503 && resp.Header.Get("Retry-After") != busyRetry {
			t.Errorf("a 503 with Retry-After %q, want %q", resp.Header.Get("Retry-After"), busyRetry)
		}
	}
	if codes[201] != slots || codes[503] != jobs-slots {
		t.Errorf("answers %v, want %d × 201 and %d × 503", codes, slots, jobs-slots)
	}
}

// TestDecodeSlotsByMemory: the decoding slots are one per core and no
// more than the memory holds at decodeBytes (1152 MiB) each, at least
// one: one per core alone let 16 jobs' checks take a server on 2 cores
// to 4.4 GB, so a host of many cores and little memory was out of it.
// The memory is given, as New takes it from DefaultMaxJobMemory.
func TestDecodeSlotsByMemory(t *testing.T) {
	for _, c := range []struct {
		cores  int
		memory int64
		want   int
	}{
		{16, 1 << 30, 1},   // less than one decoding's worth: still one
		{16, 4 << 30, 3},   // 4096 MiB / 1152 MiB
		{64, 16 << 30, 14}, // a 64-core host with 32 GiB, half of it
		{64, 8 << 30, 7},   // DefaultMaxJobMemory where the memory is unknown
		{2, 64 << 30, 2},   // plenty of memory: one per core
		{4, 0, 1},
	} {
		if got := decodeSlots(c.cores, c.memory); got != c.want {
			t.Errorf("decodeSlots(%d cores, %d MiB) = %d, want %d", c.cores, c.memory>>20, got, c.want)
		}
	}
	// New sizes its slots so, by this machine's memory, on 64 cores.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(64))
	s, _ := newTestServer(t, testConfig(t))
	if want := decodeSlots(64, DefaultMaxJobMemory()); cap(s.decodes) != want {
		t.Errorf("a server on 64 cores with %d MiB for decoding has %d slots, want %d", DefaultMaxJobMemory()>>20, cap(s.decodes), want)
	}
}

// TestModelUploadName: the name of an upload counts characters, not
// bytes (60 accented letters are a name), and a name that is not UTF-8,
// a query that does not parse, or a name given twice is refused rather
// than stored as U+FFFD or replaced by "uploaded model" without a word; a
// name too long and one that holds a character not printable are told
// apart (a family emoji, of joiners, was told "at most 100 printable
// characters").
func TestModelUploadName(t *testing.T) {
	cfg := testConfig(t)
	_, ts := newTestServer(t, cfg)
	good := modelBytes(t, 3, 2, 0.01)
	accents := strings.Repeat("é", 60)
	code, b := call(t, "POST", ts.URL+"/api/models?name="+url.QueryEscape(accents), "", bytes.NewReader(good))
	var card struct{ Name string }
	decode(t, b, &card)
	if code != 201 || card.Name != accents {
		t.Errorf("60 accented letters: %d %s, want 201 with that name", code, b)
	}
	for _, tc := range []struct{ query, want string }{
		{"name=%ff%fe", "printable characters"},
		{"name=" + strings.Repeat("%C3%A9", 101), "101 characters, at most 100"},
		// Five characters, one of them a joiner: not "at most 100".
		{"name=" + url.QueryEscape("👨‍👩‍👧"), "name: it holds a character that is not printable"},
		{"name=a%0Ab", "name: it holds a character that is not printable"},
		{"name=50%", "query: invalid URL escape"},
		{"name=a&name=b", "name given twice"},
	} {
		code, b := call(t, "POST", ts.URL+"/api/models?"+tc.query, "", bytes.NewReader(good))
		if code != 400 || !strings.Contains(errorOf(t, b), tc.want) {
			t.Errorf("?%s: %d %s, want 400 saying %q", tc.query, code, b, tc.want)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(cfg.DataDir, "models")); len(entries) != 1 {
		t.Errorf("models folder holds %d files, want the one named model", len(entries))
	}
}

// TestModelUploadForm: a model file sent in a multipart form (curl -F
// file=@model.safetensors, a browser's form) is refused with 415 saying
// to send the file as the body; it was read as the model's bytes and
// refused as "is it a model file?", of a file that was one. Nothing is
// stored.
func TestModelUploadForm(t *testing.T) {
	cfg := testConfig(t)
	_, ts := newTestServer(t, cfg)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(modelBytes(t, 3, 2, 0.01))
	mw.Close()
	code, b := call(t, "POST", ts.URL+"/api/models?name=form", mw.FormDataContentType(), &body)
	if e := errorOf(t, b); code != 415 || e != "the model file goes as the request body itself (curl --data-binary @model.safetensors), not in a multipart form" {
		t.Errorf("a model in a form: %d %s, want 415 saying to send the file as the body", code, b)
	}
	if entries, _ := os.ReadDir(filepath.Join(cfg.DataDir, "models")); len(entries) != 0 {
		t.Errorf("models folder holds %d files, want none", len(entries))
	}
}

// TestConflictsSayWhy: a cancel of a job that has ended, and a resume of
// one that was not interrupted, are 409s that say the job's state and
// what the request needs, not a bare "conflict"; the cancel's says how
// to remove the job's record instead. (Just after the job's end, a cancel
// may meet the runner still finishing it: it then says that it ended
// before the cancel reached it.)
func TestConflictsSayWhy(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	_, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(1))
	var job msg.Created
	decode(t, b, &job)
	waitJob(t, ts.URL, job.ID, 30*time.Second, ended)
	hint := "; DELETE /api/jobs/" + job.ID + "?remove=1 removes its record"
	for _, tc := range []struct{ method, path, want, orWant string }{
		{"DELETE", "/api/jobs/" + job.ID, "only a queued, running or interrupted job can be canceled" + hint, "it ended before the cancel reached it" + hint},
		{"POST", "/api/jobs/" + job.ID + "/resume", "only an interrupted job can be resumed", ""},
	} {
		code, b := call(t, tc.method, ts.URL+tc.path, "", nil)
		e := errorOf(t, b)
		if code != 409 || (e != "job "+job.ID+" is done: "+tc.want && e != "job "+job.ID+" is done: "+tc.orWant) {
			t.Errorf("%s %s: %d %s, want 409 %q", tc.method, tc.path, code, b, "job "+job.ID+" is done: "+tc.want)
		}
	}
}

// TestSampleImageErrors: a PNG or JPEG whose header does not decode is
// called so, not "want a PNG or JPEG file", which is kept for what is
// neither.
func TestSampleImageErrors(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	png := pngBytes(t, 8, 8, 1)
	zeroWide := append([]byte(nil), png...)
	copy(zeroWide[16:20], []byte{0, 0, 0, 0}) // IHDR's width
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		img  []byte
		want string
	}{
		{"a PNG of width 0", zeroWide, "image: the png file does not decode"},
		{"a JPEG cut in its header", jpg.Bytes()[:40], "image: the jpeg file does not decode"},
		{"a PNG cut in its signature", png[:6], "image: want a PNG or JPEG file"},
		{"text", []byte("hello"), "image: want a PNG or JPEG file"},
	} {
		ct, body := sampleBody(t, []string{"identity", "ann"}, tc.img)
		if code, b := call(t, "POST", ts.URL+"/api/datasets/faces/samples", ct, body); code != 400 || errorOf(t, b) != tc.want {
			t.Errorf("%s: %d %s, want 400 %q", tc.name, code, b, tc.want)
		}
	}
}

// TestSampleSides: a sample with a side under msg.MinSide pixels is
// refused at upload with the sides a sample takes, as one above
// MaxImageSide is, and nothing is stored: every job's input has sides of
// msg.MinSide at least, and core/data skips an image it would scale up
// from under that, so such a sample would be left out of every job's
// training without a word (before, a 4×4 PNG was stored: 201). Sides of
// msg.MinSide are taken.
func TestSampleSides(t *testing.T) {
	cfg := testConfig(t)
	_, ts := newTestServer(t, cfg)
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 64, 7)), nil); err != nil {
		t.Fatal(err)
	}
	want := func(w, h int) string {
		return fmt.Sprintf("image: %d×%d, want %d to %d pixels a side", w, h, msg.MinSide, MaxImageSide)
	}
	for _, tc := range []struct {
		name string
		img  []byte
		want string
	}{
		{"a PNG of one pixel", pngBytes(t, 1, 1, 1), want(1, 1)},
		{"a 4×4 PNG", pngBytes(t, 4, 4, 1), want(4, 4)},
		{"a PNG 7 pixels wide", pngBytes(t, 7, 64, 1), want(7, 64)},
		{"a JPEG 7 pixels high", jpg.Bytes(), want(64, 7)},
		{"a PNG wider than MaxImageSide", pngBytes(t, MaxImageSide+1, 8, 1), want(MaxImageSide+1, 8)},
	} {
		ct, body := sampleBody(t, []string{"identity", "ann"}, tc.img)
		if code, b := call(t, "POST", ts.URL+"/api/datasets/faces/samples", ct, body); code != 400 || errorOf(t, b) != tc.want {
			t.Errorf("%s: %d %s, want 400 %q", tc.name, code, b, tc.want)
		}
	}
	if code, b := call(t, "GET", ts.URL+"/api/datasets", "", nil); code != 200 || strings.Contains(string(b), `"faces"`) {
		t.Errorf("datasets after refused samples: %d %s, want no faces", code, b)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "datasets", "faces")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused samples left a folder: %v", err)
	}
	for _, wh := range [][2]int{{msg.MinSide, msg.MinSide}, {msg.MinSide, MaxImageSide}} {
		ct, body := sampleBody(t, []string{"identity", "ann"}, pngBytes(t, wh[0], wh[1], 1))
		if code, b := call(t, "POST", ts.URL+"/api/datasets/faces/samples", ct, body); code != 201 {
			t.Errorf("a PNG of %d×%d: %d %s, want 201", wh[0], wh[1], code, b)
		}
	}
}

// TestSampleLookAlikeNames: a new identity that is a stored one in
// Unicode's form KC and case (the fullwidth "ａｌｉｃｅ" beside "alice") is
// refused with the one-line 400 of "ALICE" beside it, and "ｔｒａｉｎ" as
// "TRAIN" is (R22: both were stored, two people named alike); a name of
// another script that looks alike (Cyrillic а) is another person.
func TestSampleLookAlikeNames(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	post := func(identity string, shade uint8) (int, []byte) {
		ct, body := sampleBody(t, []string{"identity", identity}, pngBytes(t, 8, 8, shade))
		return call(t, "POST", ts.URL+"/api/datasets/faces/samples", ct, body)
	}
	if code, b := post("alice", 1); code != 201 {
		t.Fatalf("alice: %d %s", code, b)
	}
	for _, tc := range []struct{ name, want string }{
		{"ALICE", `identity "ALICE": the identity "alice" exists: names that differ only in case would share a folder`},
		{"ａｌｉｃｅ", `identity "ａｌｉｃｅ": the identity "alice" exists: names that differ only in the form of a character (ａ for a, ﬁ for fi), or in case, read as one person`},
		{"Ａlice", `identity "Ａlice": the identity "alice" exists: names that differ only in the form of a character`},
		{"TRAIN", `identity "TRAIN": "train" and "test" are not names, in any case or form`},
		{"ｔｒａｉｎ", `identity "ｔｒａｉｎ": "train" and "test" are not names, in any case or form`},
	} {
		code, b := post(tc.name, 2)
		if got := errorOf(t, b); code != 400 || !strings.HasPrefix(got, tc.want) || strings.ContainsAny(got, "\n\r") {
			t.Errorf("%s beside alice: %d %s, want 400 %q", tc.name, code, b, tc.want)
		}
	}
	if code, b := post("\u0430lice", 3); code != 201 {
		t.Errorf("аlice (Cyrillic а) beside alice: %d %s, want 201: another script is not compared", code, b)
	}
}

// TestSampleDeviceNameFirst: a new data set named as a Windows device is
// refused before its body is read (a body that is not even multipart gets
// the name's error), while one stored before the rule keeps taking
// samples.
func TestSampleDeviceNameFirst(t *testing.T) {
	cfg := testConfig(t)
	// A data set stored before the rule: its row, as an older server wrote it.
	st, _, err := store.Open(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", filepath.Join(cfg.DataDir, "metriclab.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO datasets (name, created) VALUES ('aux', ?)", time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	srv, ts := newTestServer(t, cfg)
	for _, name := range []string{"nul", "NUL", "com1"} {
		code, b := call(t, "POST", ts.URL+"/api/datasets/"+name+"/samples", "text/plain", strings.NewReader("not a form"))
		if want := "data set \"" + name + "\": a name Windows keeps for a device"; code != 400 || !strings.HasPrefix(errorOf(t, b), want) {
			t.Errorf("%s: %d %s, want 400 %q…", name, code, b, want)
		}
	}
	if _, err := srv.store.DatasetDir("nul"); err == nil {
		t.Error("a refused data set was created")
	}
	ct, body := sampleBody(t, []string{"identity", "ann"}, pngBytes(t, 8, 8, 1))
	if code, b := call(t, "POST", ts.URL+"/api/datasets/aux/samples", ct, body); code != 201 {
		t.Errorf("a data set stored before the rule: %d %s, want 201", code, b)
	}
}

// TestWrongMethod: a method that a path does not take is a 405 that
// lists the ones it takes (Allow), HEAD with GET (before, HEAD was left
// out, though every GET route answers it), not a 404 that says the path
// is not there; a path with no route stays a 404. OPTIONS is answered 204
// with Allow (it was a 405).
func TestWrongMethod(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	for _, tc := range []struct{ method, path, allow string }{
		{"PUT", "/api/jobs", "GET, HEAD, POST, OPTIONS"},
		{"PATCH", "/api/models/0123456789abcdef", "GET, HEAD, DELETE, OPTIONS"},
		{"POST", "/api/health", "GET, HEAD, OPTIONS"},
		{"GET", "/api/jobs/x/resume", "POST, OPTIONS"},
		{"DELETE", "/api/datasets/faces/samples", "GET, HEAD, POST, OPTIONS"},
		{"POST", "/api/datasets/faces", "DELETE, OPTIONS"},
	} {
		resp, b := callResp(t, tc.method, ts.URL+tc.path, "", nil)
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != tc.allow || errorOf(t, b) != "method "+tc.method+" not allowed ("+tc.allow+")" {
			t.Errorf("%s %s: %d Allow %q %s, want 405 allowing %s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), b, tc.allow)
		}
		resp, b = callResp(t, "OPTIONS", ts.URL+tc.path, "", nil, "Origin", "http://elsewhere.example", "Access-Control-Request-Method", "POST")
		if resp.StatusCode != 204 || resp.Header.Get("Allow") != tc.allow || len(b) != 0 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("OPTIONS %s: %d Allow %q %q (Access-Control-Allow-Origin %q), want 204 allowing %s, no CORS",
				tc.path, resp.StatusCode, resp.Header.Get("Allow"), b, resp.Header.Get("Access-Control-Allow-Origin"), tc.allow)
		}
	}
	for _, method := range []string{"PUT", "OPTIONS"} {
		if code, b := call(t, method, ts.URL+"/api/nothing", "", nil); code != 404 || errorOf(t, b) != "not found" {
			t.Errorf("%s /api/nothing: %d %s, want 404", method, code, b)
		}
	}
}

// TestUnreadableJobRow damages the config of a queued job and of a done
// one, as a hand-edited database would: serve still starts, failing the
// queued one, and GET /api/jobs lists both as failed with the error
// "unreadable record", beside the readable job, instead of answering 500.
func TestUnreadableJobRow(t *testing.T) {
	cfg := testConfig(t)
	st, _, err := store.Open(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := st.CreateJob("1.2.3.4", tinyJob(1), 27, 0)
	st.Transition(good.ID, []string{store.StateQueued}, store.StateCanceled, "")
	queued, _ := st.CreateJob("1.2.3.4", tinyJob(1), 27, 0)
	done, _ := st.CreateJob("1.2.3.4", tinyJob(1), 27, 0)
	st.Close()
	db, err := sql.Open("sqlite", filepath.Join(cfg.DataDir, "metriclab.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE jobs SET state = ? WHERE id = ?", store.StateDone, done.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE jobs SET config = '{bad' WHERE id IN (?, ?)", queued.ID, done.ID); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, ts := newTestServer(t, cfg) // fails the test if New refuses to start
	code, b := call(t, "GET", ts.URL+"/api/jobs", "", nil)
	var js []msg.Job
	if code != 200 || json.Unmarshal(b, &js) != nil || len(js) != 3 {
		t.Fatalf("GET /api/jobs: %d %s, want 200 with 3 jobs", code, b)
	}
	want := map[string][2]string{good.ID: {store.StateCanceled, ""},
		queued.ID: {store.StateFailed, store.Unreadable}, done.ID: {store.StateFailed, store.Unreadable}}
	for _, j := range js {
		if w := want[j.ID]; j.State != w[0] || j.Error != w[1] {
			t.Errorf("job %s: %s %q, want %s %q", j.ID, j.State, j.Error, w[0], w[1])
		}
	}
	if code, b := call(t, "GET", ts.URL+"/api/jobs/"+done.ID, "", nil); code != 200 {
		t.Errorf("GET /api/jobs/%s: %d %s, want 200", done.ID, code, b)
	}
}

// TestTruncatedModelFile truncates a model's file while the server runs:
// its download answers 500 with an error that says so, instead of 200
// with the short file; after a restart the model is no longer listed.
func TestTruncatedModelFile(t *testing.T) {
	cfg := testConfig(t)
	s, ts := newTestServer(t, cfg)
	id := uploadModel(t, ts.URL, modelBytes(t, 3, 2, 0.01))
	if err := os.Truncate(filepath.Join(cfg.DataDir, "models", id+".safetensors"), 100); err != nil {
		t.Fatal(err)
	}
	code, b := call(t, "GET", ts.URL+"/api/models/"+id+"/file", "", nil)
	if code != 500 || !strings.Contains(errorOf(t, b), "damaged") {
		t.Errorf("download of a truncated file: %d, %d bytes (%.80q), want 500 saying it is damaged", code, len(b), b)
	}
	ts.Close()
	s.Close()

	_, ts = newTestServer(t, cfg)
	code, b = call(t, "GET", ts.URL+"/api/models", "", nil)
	var cards []msg.ModelCard
	if code != 200 || json.Unmarshal(b, &cards) != nil || len(cards) != 0 {
		t.Errorf("models after a restart: %d %s, want none", code, b)
	}
	if code, _ := call(t, "GET", ts.URL+"/api/models/"+id+"/file", "", nil); code != 404 {
		t.Errorf("download after a restart: %d, want 404", code)
	}
}

// TestUnreadableCardLeftOut damages one model's card in the database while
// the server runs: the list answers the other model, and the server's log
// says, on one line, which one it left out and why, once however many
// lists follow, and once more when its card is damaged otherwise; GET of
// that model answers its own error. Before, the list failed (500), and the
// Models and Verify pages showed no model at all; then the log told it
// again at every list (a page that polls filled it).
func TestUnreadableCardLeftOut(t *testing.T) {
	cfg, _, ts, logged := loggedTestServer(t)
	kept := uploadModel(t, ts.URL, modelBytes(t, 3, 2, 0.01))
	bad := uploadModel(t, ts.URL, modelBytes(t, 3, 2, 0.02))
	db, err := sql.Open("sqlite", filepath.Join(cfg.DataDir, "metriclab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, damaged := range []struct{ card, says string }{{"{bad", "invalid character"}, {"[1]", "cannot unmarshal array"}} {
		if _, err := db.Exec("UPDATE models SET card = ? WHERE id = ?", damaged.card, bad); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			code, b := call(t, "GET", ts.URL+"/api/models", "", nil)
			var cards []msg.ModelCard
			if code != 200 || json.Unmarshal(b, &cards) != nil || len(cards) != 1 || cards[0].ID != kept {
				t.Errorf("models with the card %s: %d %s, want 200 and %s alone", damaged.card, code, b, kept)
			}
		}
		if lines := strings.Split(strings.TrimSpace(logged.String()), "\n"); len(lines) != i+1 ||
			!strings.Contains(lines[i], bad) || !strings.Contains(lines[i], damaged.says) {
			t.Errorf("the card %s, three lists: log %q, want one line more, naming %s and its error", damaged.card, logged.String(), bad)
		}
	}
	if code, b := call(t, "GET", ts.URL+"/api/models/"+bad, "", nil); code != 500 {
		t.Errorf("the damaged model: %d %s, want 500", code, b)
	}
}

// TestDeleteModelFileLeft puts a folder in a model's file's place, which
// the store cannot remove: DELETE answers 204, the model deleted (a second
// DELETE 404, the list without it), and the log names the file left
// behind. Before, it answered 500 although the model was deleted, and a
// retry got 404.
func TestDeleteModelFileLeft(t *testing.T) {
	cfg, _, ts, logged := loggedTestServer(t)
	id := uploadModel(t, ts.URL, modelBytes(t, 3, 2, 0.01))
	path := filepath.Join(cfg.DataDir, "models", id+".safetensors")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, b := call(t, "DELETE", ts.URL+"/api/models/"+id, "", nil); code != 204 {
		t.Errorf("delete with its file unremovable: %d %s, want 204", code, b)
	}
	if !strings.Contains(logged.String(), path) {
		t.Errorf("log %q, want the file left behind, %s", logged.String(), path)
	}
	if code, b := call(t, "DELETE", ts.URL+"/api/models/"+id, "", nil); code != 404 {
		t.Errorf("deleted again: %d %s, want 404", code, b)
	}
	if code, b := call(t, "GET", ts.URL+"/api/models", "", nil); code != 200 || string(b) != "[]\n" {
		t.Errorf("models: %d %s, want none", code, b)
	}
}

// serverWithWriteTimeout starts the API of cfg behind an HTTP server whose
// write timeout is cfg.WriteTimeout, as serve wires them.
func serverWithWriteTimeout(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s)
	ts.Config.WriteTimeout = cfg.WriteTimeout
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return ts
}

// TestSlowUploadIsAnswered: a model upload at a rate the API accepts (1
// kB/s here, 1.5 s for 70 kB) that outlasts the server's write timeout
// (0.5 s) is answered 201. Before, the model was registered and the
// client got no answer (the connection closed): it would upload again.
func TestSlowUploadIsAnswered(t *testing.T) {
	cfg := testConfig(t)
	cfg.BodyTimeout = time.Second
	cfg.MinBodyRate = 1 << 10
	cfg.WriteTimeout = 500 * time.Millisecond
	ts := serverWithWriteTimeout(t, cfg)
	b := modelBytes(t, 3, 3, 0.1)
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", len(b))
	for part := range slices.Chunk(b, len(b)/6+1) {
		c.Write(part)
		time.Sleep(250 * time.Millisecond)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if !strings.Contains(line, " 201 ") {
		_, models := call(t, "GET", ts.URL+"/api/models", "", nil)
		t.Errorf("an upload at the accepted rate, longer than the write timeout: answer %q (%v), want 201; the models: %s", strings.TrimSpace(line), err, models)
	}
}

// TestSlowDownloadGetsServerTime: a model's download has at least the
// server's write timeout, as every answer ("a model download more, by its
// size"). Before, it had BodyTimeout plus its size at MinBodyRate, less
// for a small model: 0.5 s here, where the server gives 10 s.
func TestSlowDownloadGetsServerTime(t *testing.T) {
	cfg := testConfig(t)
	cfg.BodyTimeout = 200 * time.Millisecond
	cfg.MinBodyRate = 64 << 20 // 21 MB: a third of a second
	cfg.WriteTimeout = 10 * time.Second
	b := modelBytes(t, 8, 500000, 0.1) // more than the connection's buffers hold
	// Stored before the server starts, not uploaded: under the race
	// detector, storing and checking this model (its 500,000 class names:
	// 5 s for the check alone) took more than the 10 s that the upload's
	// answer has, which cut it off (EOF) before the download began.
	st, _, err := store.Open(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	card, err := st.AddModel("big", func(w io.Writer) error { _, err := w.Write(b); return err }, store.CheckModel)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	ts := serverWithWriteTimeout(t, cfg)
	resp, err := http.Get(ts.URL + "/api/models/" + card.ID + "/file")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// Read in 2 s.
	n, buf := 0, make([]byte, 64<<10)
	for err == nil {
		var k int
		k, err = resp.Body.Read(buf)
		n += k
		time.Sleep(2 * time.Second * time.Duration(k) / time.Duration(len(b)))
	}
	if n != len(b) || err != io.EOF {
		t.Errorf("a download read in 2 s from a server that gives 10 s: %d of %d bytes (%v)", n, len(b), err)
	}
}

// TestSubmitAtLimitReadsNoData: a client at its limit is refused (429)
// before the data set its job names is read: an uploaded one is decoded
// at every read, work that a refused job would waste.
func TestSubmitAtLimitReadsNoData(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxJobsPerClient = 1
	var reads atomic.Int32 // of "counted", which only the refused job names
	cfg.Load = func(name string, in core.Input) (*data.Set, *data.Set, string, error) {
		if name == "counted" {
			reads.Add(1)
			name = "tiny"
		}
		return tinyLoader(name, in)
	}
	_, ts := newTestServer(t, cfg)
	code, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(1000))
	if code != 201 {
		t.Fatalf("a job: %d %s", code, b)
	}
	var running msg.Created
	decode(t, b, &running)
	defer call(t, "DELETE", ts.URL+"/api/jobs/"+running.ID, "", nil)
	req := tinyJob(1)
	req.Data = "counted"
	code, b = postJSON(t, ts.URL+"/api/jobs", req)
	if code != 429 || errorOf(t, b) != "too many jobs queued or running for this client (at most 1): wait for one to end, or cancel one" {
		t.Errorf("a job past the limit: %d %s, want 429 and why", code, b)
	}
	if n := reads.Load(); n != 0 {
		t.Errorf("the refused job's data set was read %d times, want none", n)
	}
}

// TestResumeAtLimitSaysWhy: a client at its limit that resumes a job that
// does not exist, or one that is not interrupted, is told so (404, 409),
// not that it has too many jobs (429): only a resume that would queue a
// job counts toward the limit.
func TestResumeAtLimitSaysWhy(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxJobsPerClient = 1
	_, ts := newTestServer(t, cfg)
	code, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(1000))
	if code != 201 {
		t.Fatalf("a job: %d %s", code, b)
	}
	var running msg.Created
	decode(t, b, &running)
	defer call(t, "DELETE", ts.URL+"/api/jobs/"+running.ID, "", nil)
	for _, tc := range []struct {
		id   string
		want int
	}{{"0123456789abcdef", 404}, {running.ID, 409}} {
		if code, b := call(t, "POST", ts.URL+"/api/jobs/"+tc.id+"/resume", "", nil); code != tc.want {
			t.Errorf("resume of %s at the limit: %d %s, want %d", tc.id, code, b, tc.want)
		}
	}
}

// TestDiskFullAnswer: a write the store had no room for (store.DiskFull)
// is answered 507 with what to do, where it was 500 "internal error"; it
// is still logged for the operator.
func TestDiskFullAnswer(t *testing.T) {
	s, _ := newTestServer(t, testConfig(t))
	var logged bytes.Buffer
	s.log.SetOutput(&logged)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/api/datasets/faces/identities/ann/samples", nil)
	s.fail(rec, req, fmt.Errorf("store: %w", &os.PathError{Op: "write", Path: "x.tmp", Err: syscall.ENOSPC}))
	want := `{"error":"the server's disk is full: nothing was stored (free some space on it, then try again)"}` + "\n"
	if rec.Code != http.StatusInsufficientStorage || rec.Body.String() != want {
		t.Errorf("a full disk: %d %s, want 507 %s", rec.Code, rec.Body, want)
	}
	if !strings.Contains(logged.String(), "no space left on device") {
		t.Errorf("a full disk is not logged: %q", logged.String())
	}
}

// TestFailLogOneLine: an error that fail logs for the operator (a full
// disk, an internal error) is one line of the log however many its text
// holds (a file's name with a line break in an OS error), quoted as the
// path before it. Before, it was written as it was: a line of the log
// for each of its lines, the second of which looked like a line of its
// own.
func TestFailLogOneLine(t *testing.T) {
	s, _ := newTestServer(t, testConfig(t))
	var logged bytes.Buffer
	s.log.SetOutput(&logged)
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("store: %w", &os.PathError{Op: "write", Path: "a\nb.tmp", Err: syscall.ENOSPC}),
			`api: POST "/api/datasets/faces/identities/ann/samples": "store: write a\nb.tmp: no space left on device"` + "\n"},
		{fmt.Errorf("store: %w", &os.PathError{Op: "open", Path: "a\nb.tmp", Err: syscall.EACCES}),
			`api: POST "/api/datasets/faces/identities/ann/samples": "store: open a\nb.tmp: permission denied"` + "\n"},
	} {
		logged.Reset()
		s.fail(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/datasets/faces/identities/ann/samples", nil), c.err)
		if logged.String() != c.want {
			t.Errorf("%q logged %q, want %q", c.err, logged.String(), c.want)
		}
	}
}

// TestBodiesBounded holds MaxBodies (2) uploads open, half sent: a third
// body of each kind (a job, a sample, a model) is answered at once with
// 503, Retry-After and a one-line error, and nothing is stored; once one
// of the held uploads ends, the next body is read. Before, every body
// was read, as many as clients opened.
func TestBodiesBounded(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxBodies = 2
	s, ts := newTestServer(t, cfg)
	model := modelBytes(t, 3, 2, 0.01)
	held := holdUploads(t, ts.URL, model, make([][]string, cfg.MaxBodies)...)
	waitBodies(t, s, cfg.MaxBodies)

	refusedBodies(t, ts.URL, model, "too many uploads", fmt.Sprintf("with %d bodies being read", cfg.MaxBodies))
	for _, p := range []string{"/api/models", "/api/jobs"} {
		if code, b := call(t, "GET", ts.URL+p, "", nil); code != 200 || strings.TrimSpace(string(b)) != "[]" {
			t.Errorf("GET %s after the refused bodies: %d %s, want []", p, code, b)
		}
	}

	// One held upload ends: its place is the next body's.
	endHeld(t, held[0], model)
	waitBodies(t, s, cfg.MaxBodies-1)
	if code, b := call(t, "POST", ts.URL+"/api/jobs", "application/json", strings.NewReader(mustJSON(t, tinyJob(1)))); code != 201 {
		t.Errorf("a job once a body's place freed: %d %s, want 201", code, b)
	}
}

// holdUploads opens a connection to the server at url for each of
// headers (its header's names and values, as call's: X-Test-Peer for
// peerServer, none where empty) and sends on each the start of a model
// upload of model, its headers and half its bytes, so that the server
// reads a body until endHeld sends the rest.
func holdUploads(t *testing.T, url string, model []byte, headers ...[]string) []net.Conn {
	t.Helper()
	held := make([]net.Conn, len(headers))
	for i, header := range headers {
		c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		var lines strings.Builder
		for j := 0; j+1 < len(header); j += 2 {
			fmt.Fprintf(&lines, "%s: %s\r\n", header[j], header[j+1])
		}
		fmt.Fprintf(c, "POST /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", lines.String(), len(model))
		c.Write(model[:len(model)/2])
		held[i] = c
	}
	return held
}

// endHeld sends the rest of a model upload holdUploads began on c and
// wants it taken, 201.
func endHeld(t *testing.T, c net.Conn, model []byte) {
	t.Helper()
	c.Write(model[len(model)/2:])
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("the held upload, ended: %v %v, want 201", resp, err)
	}
}

// refusedBodies sends a job, a sample of a new data set (faces) and
// model to the server at url and wants each answered at once with 503,
// Retry-After and an error that says why, and the sample not stored;
// while says what holds the places, for the messages.
func refusedBodies(t *testing.T, url string, model []byte, why, while string) {
	t.Helper()
	ct, sample := sampleBody(t, []string{"identity", "ann"}, pngBytes(t, 16, 16, 9))
	for _, tc := range []struct {
		path, contentType string
		body              []byte
	}{
		{"/api/jobs", "application/json", []byte(mustJSON(t, tinyJob(1)))},
		{"/api/datasets/faces/samples", ct, sample.Bytes()},
		{"/api/models", "application/octet-stream", model},
	} {
		resp, b := callResp(t, "POST", url+tc.path, tc.contentType, bytes.NewReader(tc.body))
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != busyRetry || !strings.Contains(errorOf(t, b), why) {
			t.Errorf("%s %s: %d, Retry-After %q, %s; want 503, Retry-After %s and why", tc.path, while, resp.StatusCode, resp.Header.Get("Retry-After"), b, busyRetry)
		}
	}
	if _, b := call(t, "GET", url+"/api/datasets", "", nil); strings.Contains(string(b), "faces") {
		t.Errorf("the refused sample was stored: %s", b)
	}
}

// waitBodies waits until s reads n request bodies.
func waitBodies(t *testing.T, s *Server, n int) {
	t.Helper()
	reading := func() int {
		s.bodies.mu.Lock()
		defer s.bodies.mu.Unlock()
		return s.bodies.total
	}
	for deadline := time.Now().Add(10 * time.Second); reading() != n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d bodies being read, want %d", reading(), n)
		}
	}
}

// TestBodiesPerClient holds MaxBodiesPerClient (2) uploads of one
// address open, half sent, of MaxBodies 32: a third body of that address
// (a job, a sample, a model) is answered at once with 503, Retry-After
// and a one-line error that says whose, nothing stored, while another
// address's job is taken; once one held upload ends, the address's next
// body is read. Before, one client took as many places as MaxBodies: 32
// connections that send a byte every 14 s held every upload off for
// minutes.
func TestBodiesPerClient(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxBodiesPerClient = 2
	s, ts := newTestServer(t, cfg)
	model := modelBytes(t, 3, 2, 0.01)
	held := holdUploads(t, ts.URL, model, make([][]string, cfg.MaxBodiesPerClient)...)
	waitBodies(t, s, cfg.MaxBodiesPerClient)

	refusedBodies(t, ts.URL, model, "too many uploads from this address", fmt.Sprintf("with %d bodies of its address being read", cfg.MaxBodiesPerClient))
	// Another address (the handler sees RemoteAddr): its job is taken.
	other := httptest.NewRequest("POST", "/api/jobs", strings.NewReader(mustJSON(t, tinyJob(1))))
	other.RemoteAddr = "192.0.2.7:1234"
	other.Host = "127.0.0.1"
	other.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, other)
	if rec.Code != 201 {
		t.Errorf("another address's job while the first holds its places: %d %s, want 201", rec.Code, rec.Body)
	}
	if code, b := call(t, "GET", ts.URL+"/api/models", "", nil); code != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("GET /api/models after the refused bodies: %d %s, want []", code, b)
	}
	var jobs []msg.Job
	_, b := call(t, "GET", ts.URL+"/api/jobs", "", nil)
	if decode(t, b, &jobs); len(jobs) != 1 {
		t.Errorf("GET /api/jobs after the refused bodies: %s, want the other address's job alone", b)
	}

	// One held upload ends: its place is the address's next body's.
	endHeld(t, held[0], model)
	waitBodies(t, s, cfg.MaxBodiesPerClient-1)
	if code, b := call(t, "POST", ts.URL+"/api/jobs", "application/json", strings.NewReader(mustJSON(t, tinyJob(1)))); code != 201 {
		t.Errorf("a job once a body's place of its address freed: %d %s, want 201", code, b)
	}
}

// peerServer serves s behind an httptest server that takes a request's
// peer address (RemoteAddr) from its X-Test-Peer header when it has one,
// so that one test is as many clients, of any address, as it names. It
// returns the server's URL.
func peerServer(t *testing.T, s *Server) string {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.Header.Get("X-Test-Peer"); p != "" {
			r.RemoteAddr = p
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestClientsByIPv6Prefix: each per-client limit (jobs, event streams,
// bodies read at once), set to 1, counts an IPv6 client by its /64 and
// an IPv4-mapped IPv6 address as its IPv4 one. With a place taken by
// 2001:db8:1:2::1 and one by ::ffff:192.0.2.7, another address of
// 2001:db8:1:2::/64 and 192.0.2.7 are refused, while 2001:db8:1:3::1
// (the next /64) and 192.0.2.8 are served. Before, each IPv6 address was
// a client of its own, so a host, given a /64, was 2⁶⁴ clients.
func TestClientsByIPv6Prefix(t *testing.T) {
	holders := []string{"[2001:db8:1:2::1]:40000", "[::ffff:192.0.2.7]:40000"}
	probes := []struct {
		peer    string
		refused bool
	}{
		{"[2001:db8:1:2:ffff:ffff:ffff:fffe]:40001", true}, // the first holder's /64
		{"192.0.2.7:40001", true},                          // the second holder, unmapped
		{"[2001:db8:1:3::1]:40000", false},                 // the next /64
		{"192.0.2.8:40000", false},
	}
	check := func(t *testing.T, try func(peer string) int, refused, taken int) {
		t.Helper()
		for _, p := range probes {
			want := taken
			if p.refused {
				want = refused
			}
			if code := try(p.peer); code != want {
				t.Errorf("%s while %v hold their places: %d, want %d", p.peer, holders, code, want)
			}
		}
	}

	t.Run("jobs", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.MaxJobsPerClient = 1
		s, _ := newTestServer(t, cfg)
		base := peerServer(t, s)
		submit := func(peer string) int {
			code, _ := postJSON(t, base+"/api/jobs", tinyJob(1000), "X-Test-Peer", peer)
			return code
		}
		for _, h := range holders {
			if code := submit(h); code != 201 {
				t.Fatalf("%s's job: %d, want 201", h, code)
			}
		}
		check(t, submit, 429, 201)
	})

	t.Run("event streams", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.MaxSSEPerClient = 1
		s, _ := newTestServer(t, cfg)
		base := peerServer(t, s)
		_, b := postJSON(t, base+"/api/jobs", tinyJob(1000))
		var job msg.Created
		decode(t, b, &job)
		open := func(peer string) *http.Response {
			req, err := http.NewRequest("GET", base+"/api/jobs/"+job.ID+"/events", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Test-Peer", peer)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		for _, h := range holders {
			resp := open(h)
			t.Cleanup(func() { resp.Body.Close() })
			if resp.StatusCode != 200 {
				t.Fatalf("%s's stream: %d, want 200", h, resp.StatusCode)
			}
		}
		check(t, func(peer string) int {
			resp := open(peer)
			resp.Body.Close()
			return resp.StatusCode
		}, 429, 200)
	})

	t.Run("bodies", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.MaxBodiesPerClient = 1
		s, _ := newTestServer(t, cfg)
		base := peerServer(t, s)
		for _, h := range holders {
			holdUploads(t, base, modelBytes(t, 3, 2, 0.01), []string{"X-Test-Peer", h})
		}
		waitBodies(t, s, len(holders))
		check(t, func(peer string) int {
			code, _ := postJSON(t, base+"/api/jobs", tinyJob(1), "X-Test-Peer", peer)
			return code
		}, 503, 201)
	})
}

// TestClientOf: the keys the per-client limits count, by peer address.
func TestClientOf(t *testing.T) {
	for _, tc := range []struct{ remote, want string }{
		{"192.0.2.7:1234", "192.0.2.7"},
		{"127.0.0.1:1234", "127.0.0.1"},
		{"[::1]:1234", "::1"},                                // loopback as it is
		{"[::ffff:192.0.2.7]:1234", "192.0.2.7"},             // IPv4-mapped
		{"[2001:db8:1:2:3:4:5:6]:1234", "2001:db8:1:2::/64"}, // its /64
		{"[2001:db8:1:2::]:1234", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:1234", "fe80::/64"}, // link-local: its /64, without the zone
		{"pipe", "pipe"},                     // not host:port: as it is
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if got := (&Server{}).clientOf(r); got != tc.want {
			t.Errorf("clientOf(RemoteAddr %q) = %q, want %q", tc.remote, got, tc.want)
		}
	}
}

// TestClientOfTrustedProxies: the keys the per-client limits count for
// requests through the reverse proxies of TrustedProxies (127.0.0.1, and
// 10.0.0.0/8 in front of it): the right-most address of X-Forwarded-For
// that is not a proxy's, keyed as a peer's; the peer's own for a peer
// that is no proxy, whatever it sends, and for a proxy's request without
// the header, or with one whose addresses read are not addresses, which
// is logged once.
func TestClientOfTrustedProxies(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"127.0.0.1", " 10.1.2.3/8", ""})
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	s := &Server{cfg: Config{TrustedProxies: trusted}, log: log.New(&logged, "", 0)}
	for _, tc := range []struct {
		remote string
		xff    []string // the X-Forwarded-For lines
		want   string
	}{
		{"127.0.0.1:1234", []string{"192.0.2.7"}, "192.0.2.7"},
		{"[::ffff:127.0.0.1]:1234", []string{"192.0.2.7"}, "192.0.2.7"}, // the proxy, IPv4-mapped
		{"127.0.0.1:1234", nil, "127.0.0.1"},                            // no header: the proxy's own request
		{"192.0.2.7:1234", []string{"192.0.2.99"}, "192.0.2.7"},         // no proxy: its header is not read
		{"192.0.2.7:1234", []string{"192.0.2.99, 10.0.0.2"}, "192.0.2.7"},
		{"127.0.0.1:1234", []string{"192.0.2.99, 192.0.2.7"}, "192.0.2.7"},                     // the client's own header, the proxy's address appended
		{"127.0.0.1:1234", []string{"192.0.2.99, 192.0.2.7, 10.0.0.2, 10.9.9.9"}, "192.0.2.7"}, // a chain of proxies
		{"127.0.0.1:1234", []string{"192.0.2.99", "192.0.2.7, 10.0.0.2"}, "192.0.2.7"},         // two lines: one list
		{"127.0.0.1:1234", []string{"10.0.0.5, 10.0.0.2"}, "10.0.0.5"},                         // every address a proxy's: the left-most
		{"127.0.0.1:1234", []string{"192.0.2.7:4711"}, "192.0.2.7"},                            // with a port
		{"127.0.0.1:1234", []string{"[2001:db8:1:2::7]:4711"}, "2001:db8:1:2::/64"},
		{"127.0.0.1:1234", []string{"2001:db8:1:2::7"}, "2001:db8:1:2::/64"},
		{"127.0.0.1:1234", []string{"::ffff:192.0.2.7"}, "192.0.2.7"},
		{"127.0.0.1:1234", []string{"junk, 192.0.2.7"}, "192.0.2.7"}, // left of the client: not read
		{"127.0.0.1:1234", []string{"unknown"}, "127.0.0.1"},         // not an address: the proxy
		{"127.0.0.1:1234", []string{"192.0.2.7, unknown"}, "127.0.0.1"},
		{"127.0.0.1:1234", []string{""}, "127.0.0.1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientOf(r); got != tc.want {
			t.Errorf("clientOf(RemoteAddr %q, X-Forwarded-For %q) = %q, want %q", tc.remote, tc.xff, got, tc.want)
		}
	}
	if l := logged.String(); strings.Count(l, "\n") != 1 || !strings.Contains(l, `"unknown" is not an IP address`) {
		t.Errorf("log %q: want one line naming the first header that is not a list of addresses", l)
	}
}

// TestForwardedClientLongHeader: the client's X-Forwarded-For is read
// from the right and no further than its client, so that a header as
// long as serve's MaxHeaderBytes (64 KiB) of what the client sent, empty
// items here, costs no copy: before, it was joined and split whole, a
// slice of 16 bytes an item, 1 MiB for each per-client limit a request
// is counted against.
func TestForwardedClientLongHeader(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"127.0.0.1", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	xff := []string{strings.Repeat(",", 64<<10-len("192.0.2.7, 10.0.0.2")) + "192.0.2.7", "10.0.0.2"}
	var client netip.Addr
	allocs := testing.AllocsPerRun(10, func() { client, err = forwardedClient(xff, trusted) })
	if err != nil || client != netip.MustParseAddr("192.0.2.7") || allocs != 0 {
		t.Errorf("a 64 KiB X-Forwarded-For: client %v, %v, %v allocations a read; want 192.0.2.7 and none", client, err, allocs)
	}
}

// TestParseTrustedProxies: addresses and CIDR ranges, as given or with
// their host bits, spaces or empty items; anything else is refused,
// named, and so is a range of every address of its family, as given or
// as its IPv4-mapped one, with its host bits or not: every client would
// name itself (before, 0.0.0.0/0 was taken, and any client escaped the
// per-client limits by its own X-Forwarded-For).
func TestParseTrustedProxies(t *testing.T) {
	// An IPv4-mapped range is its IPv4 one, as an address is: clientOf
	// reads a peer's "::ffff:10.0.0.1" as 10.0.0.1, which ::ffff:0:0/104
	// as it is would not hold.
	got, err := ParseTrustedProxies([]string{" 127.0.0.1", "::1", "::ffff:10.0.0.1", "10.1.2.3/8", "", "fd00::/8", "::ffff:192.168.0.0/112", "::ffff:0:0/104", "0.0.0.0/1"})
	if want := "[127.0.0.1/32 ::1/128 10.0.0.1/32 10.0.0.0/8 fd00::/8 192.168.0.0/16 0.0.0.0/8 0.0.0.0/1]"; err != nil || fmt.Sprint(got) != want {
		t.Errorf("ParseTrustedProxies = %v, %v; want %s", got, err, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.lan", "10.0.0.1-10.0.0.9", "fe80::1%eth0", "127.0.0.1:443", "*"} {
		if _, err := ParseTrustedProxies([]string{"127.0.0.1", bad}); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("trusted proxy %q: want an IP address or a CIDR range", bad)) {
			t.Errorf("ParseTrustedProxies(%q): %v, want it refused, named", bad, err)
		}
	}
	for bad, family := range map[string]string{"0.0.0.0/0": "IPv4", "10.1.2.3/0": "IPv4", "::ffff:0:0/96": "IPv4", "::/0": "IPv6", "2001:db8::/0": "IPv6"} {
		want := fmt.Sprintf("trusted proxy %q holds every %s address: any client could name itself in X-Forwarded-For and escape the per-client limits; give the proxies' addresses or their network's range (127.0.0.1 for one on this machine)", bad, family)
		if _, err := ParseTrustedProxies([]string{"127.0.0.1", bad}); err == nil || err.Error() != want {
			t.Errorf("ParseTrustedProxies(%q): %v, want %q", bad, err, want)
		}
	}
}

// TestClientsBehindTrustedProxy: each per-client limit (jobs, event
// streams, bodies read at once), set to 1, counts the clients of a
// trusted reverse proxy (10.0.0.1, in TrustedProxies with 10.0.0.2 in
// front of it) by the address its X-Forwarded-For names. With a place
// taken by 192.0.2.7 through the proxy and one by 192.0.2.50, no proxy:
// 192.0.2.8 through the proxy, 192.0.2.9 through both and the proxy's
// own request are served; 192.0.2.7 is refused, whatever its own header
// said before the proxy's address, and so is 192.0.2.50, whatever
// X-Forwarded-For it sends. Before, every client of the proxy was the
// proxy: a class behind one shared one client's limits.
func TestClientsBehindTrustedProxy(t *testing.T) {
	const proxy = "10.0.0.1:40000"
	holders := [][]string{
		{"X-Test-Peer", proxy, "X-Forwarded-For", "192.0.2.7"},
		{"X-Test-Peer", "192.0.2.50:40000"},
	}
	probes := []struct {
		header  []string
		refused bool
	}{
		// The refused first: a probe served takes its client's place.
		{[]string{"X-Test-Peer", proxy, "X-Forwarded-For", "192.0.2.7"}, true},
		{[]string{"X-Test-Peer", proxy, "X-Forwarded-For", "192.0.2.8, 192.0.2.7"}, true},
		{[]string{"X-Test-Peer", proxy, "X-Forwarded-For", "192.0.2.7, 10.0.0.2"}, true},
		{[]string{"X-Test-Peer", "192.0.2.50:40001", "X-Forwarded-For", "192.0.2.51"}, true},
		{[]string{"X-Test-Peer", "192.0.2.50:40001", "X-Forwarded-For", "192.0.2.51, 10.0.0.2"}, true},
		{[]string{"X-Test-Peer", proxy, "X-Forwarded-For", "192.0.2.8"}, false},
		{[]string{"X-Test-Peer", proxy, "X-Forwarded-For", "192.0.2.9, 10.0.0.2"}, false},
		{[]string{"X-Test-Peer", proxy}, false},
	}
	config := func(t *testing.T) Config {
		cfg := testConfig(t)
		var err error
		if cfg.TrustedProxies, err = ParseTrustedProxies([]string{"10.0.0.1", "10.0.0.2"}); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	check := func(t *testing.T, try func(header []string) int, refused, taken int) {
		t.Helper()
		for _, p := range probes {
			want := taken
			if p.refused {
				want = refused
			}
			if code := try(p.header); code != want {
				t.Errorf("%q while %q hold their places: %d, want %d", p.header, holders, code, want)
			}
		}
	}

	t.Run("jobs", func(t *testing.T) {
		cfg := config(t)
		cfg.MaxJobsPerClient = 1
		s, _ := newTestServer(t, cfg)
		base := peerServer(t, s)
		submit := func(header []string) int {
			code, _ := postJSON(t, base+"/api/jobs", tinyJob(1000), header...)
			return code
		}
		for _, h := range holders {
			if code := submit(h); code != 201 {
				t.Fatalf("%q's job: %d, want 201", h, code)
			}
		}
		check(t, submit, 429, 201)
	})

	t.Run("event streams", func(t *testing.T) {
		cfg := config(t)
		cfg.MaxSSEPerClient = 1
		s, _ := newTestServer(t, cfg)
		base := peerServer(t, s)
		_, b := postJSON(t, base+"/api/jobs", tinyJob(1000))
		var job msg.Created
		decode(t, b, &job)
		open := func(header []string) *http.Response {
			req, err := http.NewRequest("GET", base+"/api/jobs/"+job.ID+"/events", nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		for _, h := range holders {
			resp := open(h)
			t.Cleanup(func() { resp.Body.Close() })
			if resp.StatusCode != 200 {
				t.Fatalf("%q's stream: %d, want 200", h, resp.StatusCode)
			}
		}
		check(t, func(header []string) int {
			resp := open(header)
			resp.Body.Close()
			return resp.StatusCode
		}, 429, 200)
	})

	t.Run("bodies", func(t *testing.T) {
		cfg := config(t)
		cfg.MaxBodiesPerClient = 1
		s, _ := newTestServer(t, cfg)
		base := peerServer(t, s)
		holdUploads(t, base, modelBytes(t, 3, 2, 0.01), holders...)
		waitBodies(t, s, len(holders))
		check(t, func(header []string) int {
			code, _ := postJSON(t, base+"/api/jobs", tinyJob(1), header...)
			return code
		}, 503, 201)
	})
}

// TestUnknownQueryAndParts: every endpoint refuses a query parameter it
// does not take, and the samples upload a form part it does not take, with
// a 400 naming it and what it takes, and nothing stored; a query it takes
// still works, and an empty one is none. Before, they were passed over: a
// model uploaded with ?nmae=mine was stored as "uploaded model" (201),
// and a sample with a part "extra" was stored, while an unknown JSON field
// of a job was refused.
func TestUnknownQueryAndParts(t *testing.T) {
	cfg := testConfig(t)
	_, ts := newTestServer(t, cfg)
	good := modelBytes(t, 3, 2, 0.01)
	for _, route := range []string{
		"GET /api/health", "GET /api/devices",
		"POST /api/jobs", "GET /api/jobs", "GET /api/jobs/j1", "GET /api/jobs/j1/events", "POST /api/jobs/j1/resume",
		"GET /api/models", "GET /api/models/m1", "GET /api/models/m1/file", "DELETE /api/models/m1",
		"GET /api/datasets", "POST /api/datasets/faces/samples", "GET /api/datasets/faces/samples/s1",
	} {
		method, path, _ := strings.Cut(route, " ")
		code, b := call(t, method, ts.URL+path+"?v=2", "", nil)
		if want := `unknown query parameter "v" (takes none)`; code != 400 || errorOf(t, b) != want {
			t.Errorf("%s?v=2: %d %s, want 400 %q", route, code, b, want)
		}
	}
	if code, b := call(t, "DELETE", ts.URL+"/api/jobs/j1?v=2", "", nil); code != 400 || errorOf(t, b) != `unknown query parameter "v" (takes: remove)` {
		t.Errorf("DELETE /api/jobs/j1?v=2: %d %s, want 400 %q", code, b, `unknown query parameter "v" (takes: remove)`)
	}
	for _, tc := range []struct{ query, want string }{
		{"nmae=mine", `unknown query parameter "nmae" (takes: name)`},
		{"name=mine&Name=mine", `unknown query parameter "Name" (takes: name)`},
		{"name=mine&token=t", `unknown query parameter "token" (takes: name)`},
	} {
		code, b := call(t, "POST", ts.URL+"/api/models?"+tc.query, "", bytes.NewReader(good))
		if code != 400 || errorOf(t, b) != tc.want {
			t.Errorf("POST /api/models?%s: %d %s, want 400 %q", tc.query, code, b, tc.want)
		}
	}
	ct, body := sampleBody(t, []string{"identity", "ann", "extra", "1"}, pngBytes(t, 16, 16, 9))
	code, b := call(t, "POST", ts.URL+"/api/datasets/faces/samples", ct, body)
	if want := `unknown form part "extra" (takes: identity, image)`; code != 400 || errorOf(t, b) != want {
		t.Errorf("a sample with a part extra: %d %s, want 400 %q", code, b, want)
	}
	if code, b := call(t, "GET", ts.URL+"/api/datasets", "", nil); code != 200 || strings.Contains(string(b), "faces") {
		t.Errorf("data sets after the refused sample: %d %s, want no faces", code, b)
	}
	if entries, _ := os.ReadDir(filepath.Join(cfg.DataDir, "models")); len(entries) != 0 {
		t.Errorf("models folder holds %d files after refused uploads, want none", len(entries))
	}

	// What the endpoints take still works; "?" alone is no parameter.
	code, b = call(t, "POST", ts.URL+"/api/models?name=mine", "", bytes.NewReader(good))
	var card msg.ModelCard
	decode(t, b, &card)
	if code != 201 || card.Name != "mine" {
		t.Errorf("POST /api/models?name=mine: %d %s, want 201 named mine", code, b)
	}
	if code, b := call(t, "GET", ts.URL+"/api/models?", "", nil); code != 200 {
		t.Errorf("GET /api/models?: %d %s, want 200", code, b)
	}
}

// TestJobBodyErrorsSayTheField: a training configuration that does not
// decode is refused with one line that names the field by its JSON name
// ("views", not "crop") and says what it takes, in words: never
// encoding/json's, which name Go's types and fields. Windows are taken by
// name, as the command line's --crop and --views take them, or as four
// numbers.
func TestJobBodyErrorsSayTheField(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	const base = `"data":"tiny","arch":"mlp","loss":"arcface","dim":3,"batch":4`
	goWords := regexp.MustCompile(`Go |json:|\bint(64)?\b|float64|TrainRequest|msg\.|struct|unmarshal|\[\]`)
	for _, tc := range []struct{ body, field, want string }{
		{`{` + base + `,"epochs":1,"views":["whole","upper","nope"]}`, `"views"`, `no window "nope"`},
		{`{` + base + `,"epochs":1,"views":"whole,upper"}`, `"views"`, "a list of windows"},
		{`{` + base + `,"epochs":1,"crop":"middle"}`, `"crop"`, "centre, left, lower, right, upper"},
		{`{` + base + `,"epochs":1,"crop":[0,0,1]}`, `"crop"`, "four numbers"},
		{`{` + base + `,"epochs":1e9}`, `"epochs"`, "takes a whole number"},
		{`{` + base + `,"epochs":1.5}`, `"epochs"`, "takes a whole number"},
		{`{` + base + `,"epochs":"1"}`, `"epochs"`, "takes a whole number"},
		{`{` + base + `,"epochs":1,"lr":"NaN"}`, `"lr"`, "takes a number"},
		{`{` + base + `,"epochs":1,"seed":99999999999999999999}`, `"seed"`, "takes a whole number"},
		{`{` + base + `,"epochs":1,"weight_decay":"0"}`, `"weight_decay"`, "takes a number"},
		{`{` + base + `,"epochs":1,"embed_bn":1}`, `"embed_bn"`, "takes true or false"},
		{`{` + base + `,"epochs":1,"loss_params":{"s":"30"}}`, `"loss_params"`, "takes an object of numbers by name"},
		{`{` + base + `,"epochs":1,"loss_params":[30]}`, `"loss_params"`, "takes an object of numbers by name"},
		{`{` + base + `,"epochs":1,"miner":7}`, `"miner"`, "takes a string"},
		{`{` + base + `,"epochs":1,"colour":"red"}`, `"colour"`, "is not a field"},
		{`{` + base + `,"epochs":1,`, "", "not valid JSON"},
	} {
		code, b := call(t, "POST", ts.URL+"/api/jobs", "application/json", strings.NewReader(tc.body))
		e := errorOf(t, b)
		if code != 400 || !strings.Contains(e, tc.field) || !strings.Contains(e, tc.want) || goWords.MatchString(e) || strings.Contains(e, "\n") {
			t.Errorf("%s: %d %q, want 400 naming %s with %q and no Go words", tc.body, code, e, tc.field, tc.want)
		}
	}
	for _, body := range []string{
		`{` + base + `,"epochs":1,"views":["whole","upper"]}`,
		`{` + base + `,"epochs":1,"views":["whole",[0,0.45,1,1]]}`,
		`{` + base + `,"epochs":1,"crop":"centre"}`,
	} {
		code, b := call(t, "POST", ts.URL+"/api/jobs", "application/json", strings.NewReader(body))
		if code != 201 {
			t.Errorf("%s: %d %s, want 201", body, code, b)
			continue
		}
		var c msg.Created
		decode(t, b, &c)
		_, b = call(t, "GET", ts.URL+"/api/jobs/"+c.ID, "", nil)
		var j msg.Job
		decode(t, b, &j)
		if strings.Contains(body, "crop") && j.Config.Crop != msg.Crops["centre"] || strings.Contains(body, "views") && (len(j.Config.Views) != 2 || j.Config.Views[1] != msg.Crops["lower"] && j.Config.Views[1] != msg.Crops["upper"]) {
			t.Errorf("%s: stored as crop %v, views %v", body, j.Config.Crop, j.Config.Views)
		}
	}
}

// TestJobRecordsWhatTrains: a job's config is what trained, not what was
// sent: the optimiser, learning rate, schedule and weight decay the job
// took by default are written in it, and a missing seed is 1, as on the
// command line (0 given stays 0). Posted again, the config trains the
// same run (the same loss, bit for bit), and so does the request without
// the defaults: the record is no other run.
func TestJobRecordsWhatTrains(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	const sent = `{"data":"tiny","arch":"mlp","loss":"arcface","dim":3,"batch":4,"epochs":2}`
	code, b := call(t, "POST", ts.URL+"/api/jobs", "application/json", strings.NewReader(sent))
	if code != 201 {
		t.Fatalf("POST: %d %s", code, b)
	}
	var c msg.Created
	decode(t, b, &c)
	first := waitJob(t, ts.URL, c.ID, 30*time.Second, ended)
	cfg := first.Config
	if first.State != msg.JobDone || cfg.Opt != "adam" || cfg.LR != 0.01 || cfg.Schedule != "cosine" || cfg.WeightDecay == nil || *cfg.WeightDecay != 0 || cfg.Seed != 1 || cfg.Device != "cpu" {
		t.Fatalf("job of %s recorded %+v (%s), want adam at lr 0.01, cosine, weight decay 0, seed 1, cpu", sent, cfg, first.State)
	}
	again := runJob(t, ts.URL, cfg)
	if again.Loss != first.Loss || !reflect.DeepEqual(again.Config, cfg) {
		t.Errorf("its config posted again: loss %v, config %+v; want %v, %+v", again.Loss, again.Config, first.Loss, cfg)
	}
	zero := strings.Replace(sent, `"epochs":2`, `"epochs":2,"seed":0`, 1)
	code, b = call(t, "POST", ts.URL+"/api/jobs", "application/json", strings.NewReader(zero))
	if code != 201 {
		t.Fatalf("POST: %d %s", code, b)
	}
	decode(t, b, &c)
	if j := waitJob(t, ts.URL, c.ID, 30*time.Second, ended); j.Config.Seed != 0 || j.Loss == first.Loss {
		t.Errorf("seed 0 given: recorded seed %d, loss %v (seed 1's %v)", j.Config.Seed, j.Loss, first.Loss)
	}
}

// TestJobDefaultsAsTrain: a field that the body of POST /api/jobs leaves
// out takes the value `metriclab train` takes without its flag
// (msg.TrainDefaults, which train's flags are registered with), and the
// job's config records it; data alone is required. Before, {"data":…}
// alone was refused, 400, with "epochs 0 out of range [1, 10000]" (then
// "unknown loss", then "batch 0 out of range"). The README's example
// body (its curl line of POST /api/jobs) is such a body, and trains.
func TestJobDefaultsAsTrain(t *testing.T) {
	cfg := testConfig(t)
	cfg.Load = func(name string, in core.Input) (*data.Set, *data.Set, string, error) {
		if name != "mnist" {
			return tinyLoader(name, in)
		}
		return digitsLike(3, 40, 1), digitsLike(3, 10, 2), "", nil // lenet-s takes 28×28, not tiny's 8×8
	}
	_, ts := newTestServer(t, cfg)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example := regexp.MustCompile("`curl [^`]*-d '(\\{[^']*\\})' [^`]*/api/jobs`").FindSubmatch(readme)
	if example == nil {
		t.Fatal("README: no curl example of POST /api/jobs with a body (-d '{…}')")
	}
	d := msg.TrainDefaults()
	for _, body := range []string{`{"data":"mnist"}`, string(example[1])} {
		code, b := call(t, "POST", ts.URL+"/api/jobs", "application/json", strings.NewReader(body))
		if code != 201 {
			t.Fatalf("POST %s: %d %s", body, code, b)
		}
		var c msg.Created
		decode(t, b, &c)
		j := waitJob(t, ts.URL, c.ID, 60*time.Second, ended)
		var given map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body), &given); err != nil {
			t.Fatal(err)
		}
		var sent msg.TrainRequest
		decode(t, []byte(body), &sent)
		want := sent
		if _, ok := given["arch"]; !ok {
			want.Arch = d.Arch
		}
		if _, ok := given["loss"]; !ok {
			want.Loss = d.Loss
		}
		if _, ok := given["dim"]; !ok {
			want.Dim = d.Dim
		}
		if _, ok := given["epochs"]; !ok {
			want.Epochs = d.Epochs
		}
		if _, ok := given["batch"]; !ok {
			want.Batch, want.BatchDefault = d.Batch, true
		}
		if _, ok := given["seed"]; !ok {
			want.Seed = d.Seed
		}
		got := j.Config
		if j.State != msg.JobDone || got.Arch != want.Arch || got.Loss != want.Loss || got.Dim != want.Dim || got.Epochs != want.Epochs ||
			got.Batch != want.Batch || got.BatchDefault != want.BatchDefault || got.Seed != want.Seed || got.Opt != d.Opt || got.Schedule != d.Schedule {
			t.Errorf("%s: job %s recorded %+v; want train's defaults for the fields left out: %+v", body, j.State, got, want)
		}
	}
}

// digitsLike is a synthetic set of classes classes of perClass 1×28×28
// images, MNIST's shape: class c is bright in its own rows, plus noise.
func digitsLike(classes, perClass int, seed uint64) *data.Set {
	return stripedSet(28, classes, perClass, seed)
}

// TestJobPresetIsChecked: a job's preset is checked, an unknown one
// refused with one line naming the presets; a preset with fields given
// beside it, which win (as on the command line, and as the Jobs page
// posts its form after a preset's fields were edited), is recorded as
// that preset with those changes: preset_changes names them, and not the
// caller's fields (data, seed, device).
func TestJobPresetIsChecked(t *testing.T) {
	_, ts := newTestServer(t, testConfig(t))
	// input "": tiny's own images, not the preset's shape (tinyLoader).
	const base = `"data":"tiny","arch":"mlp","loss":"arcface","dim":3,"batch":4,"epochs":1,"input":""`
	code, b := call(t, "POST", ts.URL+"/api/jobs", "application/json", strings.NewReader(`{`+base+`,"preset":"digitz"}`))
	if e := errorOf(t, b); code != 400 || !strings.Contains(e, `unknown preset "digitz"`) || !strings.Contains(e, strings.Join(msg.PresetNames(), ", ")) {
		t.Errorf("unknown preset: %d %q, want 400 naming the presets", code, e)
	}
	code, b = call(t, "POST", ts.URL+"/api/jobs", "application/json", strings.NewReader(`{`+base+`,"preset":"digits"}`))
	if code != 201 {
		t.Fatalf("POST: %d %s", code, b)
	}
	var c msg.Created
	decode(t, b, &c)
	for _, j := range []msg.Job{getJob(t, ts.URL, c.ID), listed(t, ts.URL, c.ID)} {
		ch := j.PresetChanges
		if j.Config.Preset != "digits" || !slices.Contains(ch, "arch") || !slices.Contains(ch, "dim") || !slices.Contains(ch, "loss") ||
			slices.Contains(ch, "data") || slices.Contains(ch, "seed") || slices.Contains(ch, "device") || slices.Contains(ch, "lr") {
			t.Errorf("digits with mlp, arcface, D=3: preset %q, changes %q; want digits with arch, loss, dim among the changes", j.Config.Preset, ch)
		}
	}
	_, b = call(t, "GET", ts.URL+"/api/jobs/"+c.ID, "", nil)
	if !strings.Contains(string(b), `"preset_changes":["arch","loss",`) {
		t.Errorf("the record reads %s", b)
	}
	plain := runJob(t, ts.URL, tinyJob(1))
	if plain.PresetChanges != nil {
		t.Errorf("a job of no preset: changes %q", plain.PresetChanges)
	}
}

// TestJobPresetFillsLeftOut: a field that the body of POST /api/jobs
// leaves out beside a preset takes the preset's value, as `metriclab train
// --preset` takes it for a flag not given (job.FillRequest; the server
// package's TestTrainDefaultsAreTheJobsAPIs compares the two), and a
// field given wins, its zero and null too: {"data":"mnist","preset":"digits"}
// records the digits recipe, no field changed. Before, it trained
// lenet-s, arcface, D = 3 for 3 epochs (train's defaults, as with no
// preset) and its preset_changes listed nearly every field.
func TestJobPresetFillsLeftOut(t *testing.T) {
	cfg := testConfig(t)
	cfg.Load = func(name string, in core.Input) (*data.Set, *data.Set, string, error) {
		if name != "mnist" {
			return tinyLoader(name, in)
		}
		return digitsLike(3, 40, 1), digitsLike(3, 10, 2), "", nil
	}
	_, ts := newTestServer(t, cfg)
	digits, _ := msg.PresetByName("digits")
	for _, c := range []struct {
		body    string
		given   func(r *msg.TrainRequest) // the fields given, on the preset's recipe
		changes []string
	}{
		{`{"data":"mnist","preset":"digits"}`, func(*msg.TrainRequest) {}, nil},
		{`{"data":"mnist","preset":"digits","dim":16,"augment":"none","glyphs":0,"weight_decay":null}`,
			func(r *msg.TrainRequest) { r.Dim, r.Augment, r.Glyphs, r.WeightDecay = 16, "", 0, nil },
			[]string{"dim", "augment", "glyphs", "weight_decay"}},
	} {
		code, b := call(t, "POST", ts.URL+"/api/jobs", "application/json", strings.NewReader(c.body))
		if code != 201 {
			t.Fatalf("POST %s: %d %s", c.body, code, b)
		}
		var created msg.Created
		decode(t, b, &created)
		j := getJob(t, ts.URL, created.ID)
		if code, b := call(t, "DELETE", ts.URL+"/api/jobs/"+created.ID, "", nil); code != 200 { // its record is what this test reads
			t.Fatalf("DELETE: %d %s", code, b)
		}
		want := digits.Request
		want.Data, want.Preset, want.Seed, want.BatchDefault, want.Device = "mnist", "digits", msg.DefaultSeed, true, j.Config.Device
		c.given(&want)
		want = job.ResolveOpt(want)
		got := j.Config
		if got.Augment == "none" {
			got.Augment = ""
		}
		if !reflect.DeepEqual(got, want) || !slices.Equal(j.PresetChanges, c.changes) {
			t.Errorf("%s: the job records\n%+v, changes %q;\nwant\n%+v, changes %q", c.body, got, j.PresetChanges, want, c.changes)
		}
	}
}

// listed returns job id as GET /api/jobs lists it.
func listed(t testing.TB, base, id string) msg.Job {
	t.Helper()
	_, b := call(t, "GET", base+"/api/jobs", "", nil)
	var js []msg.Job
	decode(t, b, &js)
	for _, j := range js {
		if j.ID == id {
			return j
		}
	}
	t.Fatalf("job %s not listed: %s", id, b)
	return msg.Job{}
}

// TestOldRecordPresetChanges: a job stored before its record held the
// optimiser, learning rate and schedule it took by default (opt "", lr 0,
// schedule "") trained them as the digits preset sets them: its record
// lists no change of them. (It listed lr, opt and schedule.)
func TestOldRecordPresetChanges(t *testing.T) {
	digits, _ := msg.PresetByName("digits")
	old := digits.Request
	old.Data, old.Preset, old.Seed, old.Device = "mnist", "digits", 1, "cpu"
	old.Opt, old.LR, old.Schedule = "", 0, ""
	if c := presetChanges(old); c != nil {
		t.Errorf("an old record of the digits recipe: changes %q, want none", c)
	}
	old.Arch, old.WeightDecay = "mlp", nil // adam's weight decay, 0, is not the preset's
	if c := presetChanges(old); !slices.Equal(c, []string{"arch", "weight_decay"}) {
		t.Errorf("an old record of digits with mlp and no weight decay: changes %q, want arch, weight_decay", c)
	}
}

// TestTokenGuesses: after maxWrongTokens wrong tokens from one client
// within a minute, its writes, and its reads that need the token, are
// answered 429 with Retry-After for a minute, the right token's too, and
// the log says so once; its other reads, and another client's writes,
// are served. Fewer wrong tokens in a
// minute, or writes without a token, start no block. Before, a
// keep-alive connection tried 2,500 tokens a second, unlogged.
func TestTokenGuesses(t *testing.T) {
	cfg := testConfig(t)
	const token = "a-classroom-token-of-some-length"
	cfg.Token = token
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} // X-Forwarded-For names another client
	logs := &lockedBuffer{}
	cfg.Logger = log.New(logs, "", 0)
	s, ts := newTestServer(t, cfg)
	var elapsed atomic.Int64 // the fake clock's time since t0
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	s.guesses.now = func() time.Time { return t0.Add(time.Duration(elapsed.Load())) }
	advance := func(d time.Duration) { elapsed.Add(int64(d)) }
	write := func(bearer string, header ...string) (int, http.Header) {
		t.Helper()
		if bearer != "" {
			header = append(header, "Authorization", "Bearer "+bearer)
		}
		resp, _ := callResp(t, "DELETE", ts.URL+"/api/models/nosuchmodel", "", nil, header...) // 404 once past the token
		return resp.StatusCode, resp.Header
	}

	// Writes without a token are no guesses; wrong ones spread over more
	// than a minute start no block.
	for range 2 * maxWrongTokens {
		if code, _ := write(""); code != 401 {
			t.Fatalf("a write without a token: %d, want 401", code)
		}
	}
	for range maxWrongTokens - 1 {
		write("wrong")
	}
	advance(wrongTokenWindow)
	if code, _ := write("wrong"); code != 401 {
		t.Errorf("wrong token %d, a minute after the first: %d, want 401 (no block)", maxWrongTokens, code)
	}
	if code, _ := write(token); code != 404 {
		t.Errorf("the right token after %d wrong ones over more than a minute: %d, want 404 (served)", maxWrongTokens, code)
	}
	advance(wrongTokenWindow)

	// maxWrongTokens within a minute: 401 each, then the block.
	for i := range maxWrongTokens {
		if i > 0 {
			advance(time.Second) // 9 s in all: within the minute
		}
		if code, _ := write("wrong-" + strconv.Itoa(i)); code != 401 {
			t.Errorf("wrong token %d: %d, want 401", i+1, code)
		}
	}
	for _, bearer := range []string{"wrong", token, ""} {
		code, h := write(bearer)
		if code != 429 || h.Get("Retry-After") != "60" {
			t.Errorf("a write with token %q after %d wrong ones: %d, Retry-After %q; want 429, 60", bearer, maxWrongTokens, code, h.Get("Retry-After"))
		}
	}
	if code, _ := call(t, "GET", ts.URL+"/api/models", "", nil); code != 200 {
		t.Errorf("a read of the blocked client: %d, want 200", code)
	}
	// A read that needs the token (withToken) is refused as a write.
	if resp, _ := callResp(t, "GET", ts.URL+"/api/datasets/faces/samples", "", nil, "Authorization", "Bearer "+token); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" {
		t.Errorf("a list of samples with the token from the blocked client: %d, Retry-After %q; want 429, 60", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if code, _ := write(token, "X-Forwarded-For", "192.0.2.7"); code != 404 {
		t.Errorf("another client's write with the token: %d, want 404 (served)", code)
	}
	advance(tokenBlock / 2)
	if code, h := write(token); code != 429 || h.Get("Retry-After") != "30" {
		t.Errorf("half the block later: %d, Retry-After %q; want 429, 30", code, h.Get("Retry-After"))
	}
	advance(tokenBlock / 2)
	if code, _ := write(token); code != 404 {
		t.Errorf("the right token once the block passed: %d, want 404 (served)", code)
	}
	want := regexp.MustCompile(`^api: 10 wrong tokens from 127\.0\.0\.1: refusing its requests that need the token for 60 s\n$`)
	if got := logs.String(); !want.MatchString(got) {
		t.Errorf("log:\n%s\nwant one line %q", got, want)
	}

	// Wrong tokens given to a read that needs the token count as a
	// write's do.
	for i := range maxWrongTokens {
		if code, _ := call(t, "GET", ts.URL+"/api/datasets/faces/samples/x", "", nil, "Authorization", "Bearer wrong", "X-Forwarded-For", "192.0.2.8"); code != 401 {
			t.Errorf("a sample's image with wrong token %d: %d, want 401", i+1, code)
		}
	}
	if code, _ := write(token, "X-Forwarded-For", "192.0.2.8"); code != 429 {
		t.Errorf("a write after %d wrong tokens given to reads: %d, want 429", maxWrongTokens, code)
	}
}

// TestTokenGuessesLoopback: a loopback peer that is not a trusted proxy
// (the machine serve runs on, whose user reads the token on its console)
// starts no block: its wrong tokens are answered 401, uncounted, and its
// right token is served after any number of them, as another loopback
// address's (::1, 127.0.0.5) is; a peer of another address is still
// blocked. Before, a student's wrong tokens through a proxy on the same
// machine (not in --trusted-proxies) locked the teacher out with them.
// With loopback a trusted proxy, TestTokenGuesses has the forwarded
// client counted.
func TestTokenGuessesLoopback(t *testing.T) {
	cfg := testConfig(t)
	const token = "a-classroom-token-of-some-length"
	cfg.Token = token
	logs := &lockedBuffer{}
	cfg.Logger = log.New(logs, "", 0)
	s, ts := newTestServer(t, cfg)
	write := func(peer, bearer string) int {
		t.Helper()
		if peer == "" { // through the test server, from 127.0.0.1
			code, _ := call(t, "DELETE", ts.URL+"/api/models/nosuchmodel", "", nil, "Authorization", "Bearer "+bearer)
			return code
		}
		r := httptest.NewRequest("DELETE", "/api/models/nosuchmodel", nil)
		r.RemoteAddr, r.Host = peer, strings.TrimPrefix(ts.URL, "http://") // a Host that Config.Hosts allows
		r.Header.Set("Authorization", "Bearer "+bearer)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code
	}
	for _, peer := range []string{"", "[::1]:4321", "127.0.0.5:4321"} {
		for i := range 2 * maxWrongTokens {
			if code := write(peer, "wrong-"+strconv.Itoa(i)); code != 401 {
				t.Errorf("peer %q: wrong token %d: %d, want 401", peer, i+1, code)
			}
		}
		if code := write(peer, token); code != 404 {
			t.Errorf("peer %q: the right token after %d wrong ones: %d, want 404 (served: loopback is not blocked)", peer, 2*maxWrongTokens, code)
		}
	}
	if got := logs.String(); got != "" {
		t.Errorf("log: %q, want none (no block)", got)
	}
	for range maxWrongTokens {
		write("192.0.2.9:4321", "wrong")
	}
	if code := write("192.0.2.9:4321", token); code != 429 {
		t.Errorf("a peer of another address, after %d wrong tokens: %d, want 429", maxWrongTokens, code)
	}
}
