package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"metriclab/app"
	"metriclab/assets"
)

// newTestServer builds a web root of small fake binaries (app.wasm and
// viz.wasm precompressed, trainer.wasm with only a stale .gz) and fake
// MNIST files, and serves them.
func newTestServer(t *testing.T) (srv *httptest.Server, raw map[string][]byte, mnist string) {
	t.Helper()
	web, mnist := t.TempDir(), t.TempDir()
	raw = map[string][]byte{}
	for i, name := range wasmNames {
		b := bytes.Repeat([]byte("\x00asm fake binary "+name+" "), 200+100*i)
		raw[name] = b
		p := filepath.Join(web, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if name != "trainer.wasm" {
			if err := precompressFile(context.Background(), p); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A copy older than its binary must not be served.
	stale := filepath.Join(web, "trainer.wasm.gz")
	if err := os.WriteFile(stale, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := mustStat(t, filepath.Join(web, "trainer.wasm")).ModTime().Add(-3600e9)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"viz.html", "trainer.js", "metriclab.css"} {
		if err := os.WriteFile(filepath.Join(web, f), []byte("/* "+f+" */"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range mnistFiles {
		if err := os.WriteFile(filepath.Join(mnist, f), []byte("mnist "+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := newServer(serveConfig{WebDir: web, MNISTDir: mnist, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, raw, mnist
}

func mustStat(t *testing.T, p string) os.FileInfo {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// get requests path with the given Accept-Encoding (none: ""), with the
// transport's own decompression off, and returns the response and its
// body as sent.
func get(t *testing.T, srv *httptest.Server, path, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	return getWith(t, srv, path, "Accept-Encoding", acceptEncoding)
}

// getWith requests path with the headers given as name, value, …, a
// value "" leaving its header out, as get does.
func getWith(t *testing.T, srv *httptest.Server, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] != "" {
			req.Header.Set(header[i], header[i+1])
		}
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestServeWasmEncodings(t *testing.T) {
	srv, raw, _ := newTestServer(t)
	version := srv.Config.Handler.(*server).current().version
	cases := []struct {
		path, accept, wantEnc string
		file                  string
	}{
		{"/web/app.wasm", "gzip, deflate, br, zstd", "br", "app.wasm"},
		{"/web/app.wasm", "gzip, deflate", "gzip", "app.wasm"},
		{"/web/app.wasm", "br;q=0, gzip", "gzip", "app.wasm"},
		{"/web/app.wasm", "", "", "app.wasm"},
		{"/web/app.wasm", "identity", "", "app.wasm"},
		{"/app.wasm", "br", "br", "app.wasm"},
		{"/web/viz.wasm", "*", "br", "viz.wasm"},
		{"/web/viz.wasm?v=" + version, "gzip", "gzip", "viz.wasm"},
		{"/web/trainer.wasm", "gzip, br", "", "trainer.wasm"}, // only a stale .gz: served raw
	}
	for _, c := range cases {
		resp, body := get(t, srv, c.path, c.accept)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s (%q): status %d", c.path, c.accept, resp.StatusCode)
		}
		h := resp.Header
		if got := h.Get("Content-Encoding"); got != c.wantEnc {
			t.Errorf("%s (%q): Content-Encoding %q, want %q", c.path, c.accept, got, c.wantEnc)
		}
		if got := h.Get("Content-Type"); got != "application/wasm" {
			t.Errorf("%s: Content-Type %q", c.path, got)
		}
		if got := h.Get("Vary"); got != "Accept-Encoding" {
			t.Errorf("%s: Vary %q", c.path, got)
		}
		wantCache := cacheRevalid
		if strings.Contains(c.path, "?v="+version) {
			wantCache = cacheImmutable
		}
		if got := h.Get("Cache-Control"); got != wantCache {
			t.Errorf("%s: Cache-Control %q, want %q", c.path, got, wantCache)
		}
		if etag := h.Get("ETag"); !strings.Contains(etag, version) {
			t.Errorf("%s: ETag %q does not carry the version %q", c.path, etag, version)
		}
		got := decode(t, c.wantEnc, body)
		if !bytes.Equal(got, raw[c.file]) {
			t.Errorf("%s (%q): decoded %d bytes differ from the %d of %s", c.path, c.accept, len(got), len(raw[c.file]), c.file)
		}
		if c.wantEnc != "" && len(body) >= len(raw[c.file]) {
			t.Errorf("%s (%q): %d bytes sent for %d raw: not compressed", c.path, c.accept, len(body), len(raw[c.file]))
		}
	}
	// A revalidation by ETag answers 304.
	resp, _ := get(t, srv, "/web/app.wasm", "br")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/web/app.wasm", nil)
	req.Header.Set("Accept-Encoding", "br")
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	r2, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: status %d, want 304", r2.StatusCode)
	}
}

// TestServeEncodedLength: a precompressed binary's whole answer, to GET
// and HEAD, says its size in Content-Length, as a plain one's does;
// before, http.ServeContent left it out for any Content-Encoding: the
// binary went chunked and a HEAD said no size. A range, a 304 and a 412
// are answered as before.
func TestServeEncodedLength(t *testing.T) {
	srv, _, _ := newTestServer(t)
	h := srv.Config.Handler.(*server)
	// Copies larger than what net/http buffers before it sends a body
	// chunked (it measures a smaller one itself).
	bin := make([]byte, 64<<10)
	rand.NewChaCha8([32]byte{}).Read(bin)
	if err := os.WriteFile(h.current().wasm["app.wasm"].path, bin, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := precompressFile(context.Background(), h.current().wasm["app.wasm"].path); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	do := func(method, accept string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+"/web/app.wasm", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", accept)
		for i := 0; i < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s %s: %v", method, accept, err)
		}
		return resp, body
	}
	for _, enc := range []struct{ accept, ext string }{{"br", ".br"}, {"gzip", ".gz"}, {"identity", ""}} {
		size := mustStat(t, h.current().wasm["app.wasm"].path+enc.ext).Size()
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			resp, body := do(method, enc.accept)
			if resp.StatusCode != http.StatusOK || resp.ContentLength != size || len(resp.TransferEncoding) > 0 {
				t.Errorf("%s (%s): %d, Content-Length %d, Transfer-Encoding %q; want 200 with the file's %d bytes", method, enc.accept, resp.StatusCode, resp.ContentLength, resp.TransferEncoding, size)
			}
			if method == http.MethodGet && int64(len(body)) != size {
				t.Errorf("GET (%s): %d bytes, want %d", enc.accept, len(body), size)
			}
		}
		etag := `"` + h.current().version + "-" + enc.accept + `"`
		for _, tc := range []struct {
			header     []string
			code       int
			wantLength int64
		}{
			{[]string{"Range", "bytes=2-5"}, http.StatusPartialContent, 4},
			{[]string{"If-None-Match", etag}, http.StatusNotModified, 0},
			{[]string{"If-Match", `"other"`}, http.StatusPreconditionFailed, 0},
		} {
			resp, body := do(http.MethodGet, enc.accept, tc.header...)
			if resp.StatusCode != tc.code || int64(len(body)) != tc.wantLength || resp.ContentLength > 0 && resp.ContentLength != tc.wantLength {
				t.Errorf("%s %s (%s): %d, Content-Length %d, %d bytes; want %d with %d", tc.header[0], tc.header[1], enc.accept, resp.StatusCode, resp.ContentLength, len(body), tc.code, tc.wantLength)
			}
		}
	}
}

// decode undoes the content encoding enc.
func decode(t *testing.T, enc string, body []byte) []byte {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	switch enc {
	case "br":
		r = brotli.NewReader(r)
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding %s: %v", enc, err)
	}
	return b
}

func TestServeMNIST(t *testing.T) {
	srv, _, _ := newTestServer(t)
	for _, f := range mnistFiles {
		resp, body := get(t, srv, "/data/mnist/"+f, "gzip")
		if resp.StatusCode != http.StatusOK || string(body) != "mnist "+f {
			t.Errorf("%s: status %d, body %q", f, resp.StatusCode, body)
		}
		if got := resp.Header.Get("Content-Type"); got != "application/octet-stream" {
			t.Errorf("%s: Content-Type %q", f, got)
		}
		if got := resp.Header.Get("Content-Encoding"); got != "" {
			t.Errorf("%s: Content-Encoding %q: the gzipped file must arrive as bytes", f, got)
		}
		if got := resp.Header.Get("Cache-Control"); got != cacheData {
			t.Errorf("%s: Cache-Control %q", f, got)
		}
	}
}

// TestServeCascadeRevalidated: a cascade carries an ETag of its
// contents, the same at each request and another for the other cascade,
// so that the browser revalidates its copy: If-None-Match gets a 304
// without the cascade, and If-Range the range asked for. Before, it had
// no validator (the binary carries it, with no time): a copy past its
// week was fetched again whole, and If-Range always got the whole file.
func TestServeCascadeRevalidated(t *testing.T) {
	srv, _, _ := newTestServer(t)
	do := func(p string, header ...string) (*http.Response, []byte) {
		t.Helper()
		return getWith(t, srv, p, header...)
	}
	etags := map[string]bool{}
	for _, p := range []string{app.FaceFinderPath, app.PupLocPath} {
		resp, _ := do(p)
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(etag, `"`) || etags[etag] {
			t.Errorf("%s: %d, ETag %q; want 200 with an ETag of its own", p, resp.StatusCode, etag)
			continue
		}
		etags[etag] = true
		if again, _ := do(p); again.Header.Get("ETag") != etag {
			t.Errorf("%s: ETag %q, then %q", p, etag, again.Header.Get("ETag"))
		}
		if resp, body := do(p, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("ETag") != etag {
			t.Errorf("%s, If-None-Match its ETag: %d with %d bytes, ETag %q; want 304 with none", p, resp.StatusCode, len(body), resp.Header.Get("ETag"))
		}
		if resp, body := do(p, "Range", "bytes=0-3", "If-Range", etag); resp.StatusCode != http.StatusPartialContent || len(body) != 4 {
			t.Errorf("%s, If-Range its ETag: %d with %d bytes, want 206 with 4", p, resp.StatusCode, len(body))
		}
		if resp, _ := do(p, "If-None-Match", `"other"`); resp.StatusCode != http.StatusOK {
			t.Errorf("%s, If-None-Match another ETag: %d, want 200", p, resp.StatusCode)
		}
	}
}

func TestServeNotFound(t *testing.T) {
	srv, _, _ := newTestServer(t)
	for _, p := range []string{
		"/nothing-here", "/web/nothing.js", "/web/", "/data/mnist/other.gz", "/data/mnist/../serve.go",
		"/web/nothing.wasm", "/web/app.wasm.br", "/web/../go.mod",
		// Not clean: the binaries, raw or as their copies (before, 200
		// through the web root, which cleaned the path the router had not).
		"/web/app.wasm.br/", "/web/app.wasm.gz/.", "/web/app.wasm/", "/web/viz.wasm.br/x/..", "/web//trainer.js",
	} {
		if resp, _ := get(t, srv, p, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestServeMethods: outside the API only GET and HEAD are served; any
// other method gets 405 with Allow, and OPTIONS 204 with Allow, as the
// API answers them. Before, a DELETE or a POST of the page, a web file,
// app.js, MNIST or a cascade got 200 and the content (a DELETE of
// /web/trainer.js looked done), and one of a binary 404.
func TestServeMethods(t *testing.T) {
	srv, _, _ := newTestServer(t)
	for _, p := range []string{"/", "/web/app.wasm", "/app.wasm", "/web/trainer.js", "/app.js", "/data/mnist/" + mnistFiles[0], app.FaceFinderPath} {
		for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
			req, err := http.NewRequest(method, srv.URL+p, strings.NewReader("x"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want, allow := http.StatusMethodNotAllowed, "GET, HEAD, OPTIONS"
			switch method {
			case http.MethodGet, http.MethodHead:
				want, allow = http.StatusOK, ""
			case http.MethodOptions:
				want = http.StatusNoContent
			}
			if resp.StatusCode != want || resp.Header.Get("Allow") != allow {
				t.Errorf("%s %s: %d, Allow %q; want %d, Allow %q", method, p, resp.StatusCode, resp.Header.Get("Allow"), want, allow)
			}
			if want == http.StatusMethodNotAllowed && string(body) != "method "+method+" not allowed (GET, HEAD, OPTIONS)\n" {
				t.Errorf("%s %s: body %.60q", method, p, body)
			}
		}
	}
}

// TestServeMissingFileNotCached: a file gone since the server looked at
// the web root (a wasm's copy removed by a rebuild as a request is
// answered, an MNIST file) is answered 404 without the file's caching,
// encoding and ETag. Before, the 404 of the page's versioned binary said
// "immutable" for a year and "br" for a plain-text body: the browser
// kept it after the file came back. A request after the removal is sent
// the copy that is left.
func TestServeMissingFileNotCached(t *testing.T) {
	srv, _, mnist := newTestServer(t)
	h := srv.Config.Handler.(*server)
	before := h.current()
	if err := os.Remove(before.wasm["app.wasm"].path + ".br"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(mnist, mnistFiles[0])); err != nil {
		t.Fatal(err)
	}
	check := func(p string, resp *http.Response) {
		t.Helper()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, resp.StatusCode)
		}
		for _, k := range []string{"Cache-Control", "Content-Encoding", "ETag"} {
			if v := resp.Header.Get(k); v != "" {
				t.Errorf("%s: 404 with %s %q", p, k, v)
			}
		}
	}
	p := "/web/app.wasm?v=" + before.version
	req := httptest.NewRequest(http.MethodGet, p, nil)
	req.Header.Set("Accept-Encoding", "br")
	rec := httptest.NewRecorder()
	h.serveWasm(rec, req, before, "app.wasm")
	check(p+" (as the .br goes)", rec.Result())
	p = "/data/mnist/" + mnistFiles[0]
	resp, _ := get(t, srv, p, "br")
	check(p, resp)
	if resp, _ := get(t, srv, "/web/app.wasm?v="+before.version, "br, gzip"); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("app.wasm (br, gzip) once its .br is gone: %d, Content-Encoding %q; want 200 with its .gz", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
}

// TestServeFailedPreconditionNotCached: a 412 (If-Match or
// If-Unmodified-Since not met) goes without the file's caching, encoding
// and validators, as net/http's own errors do. Before, the empty 412 of
// the page's versioned binary said Content-Encoding: br and immutable
// for a year, MNIST's and a cascade's public for a week.
func TestServeFailedPreconditionNotCached(t *testing.T) {
	srv, _, _ := newTestServer(t)
	h := srv.Config.Handler.(*server)
	const ifMatch, ifUnmodified = "If-Match", "If-Unmodified-Since"
	for _, tc := range []struct{ path, header string }{
		{"/web/app.wasm?v=" + h.current().version, ifMatch},
		{"/web/app.wasm?v=" + h.current().version, ifUnmodified},
		{"/data/mnist/" + mnistFiles[0], ifMatch},
		{"/data/mnist/" + mnistFiles[0], ifUnmodified},
		{app.FaceFinderPath, ifMatch}, // no modification time: If-Unmodified-Since is ignored
		{"/web/viz.html", ifUnmodified},
	} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", "br")
		req.Header.Set(tc.header, map[string]string{ifMatch: `"other"`, ifUnmodified: "Sat, 01 Jan 2000 00:00:00 GMT"}[tc.header])
		resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusPreconditionFailed {
			t.Errorf("%s, %s: status %d, want 412", tc.path, tc.header, resp.StatusCode)
		}
		for _, k := range []string{"Cache-Control", "Content-Encoding", "ETag", "Last-Modified"} {
			if v := resp.Header.Get(k); v != "" {
				t.Errorf("%s, %s: 412 with %s %q", tc.path, tc.header, k, v)
			}
		}
	}
}

// TestStartScriptWorker runs startScript under node, with stand-ins for
// the browser's location, load event and Worker: on the playground it
// leaves the early trainer with its worker's messages, the number of
// those the browser could not deserialise (messageerror), which the page
// says as it says a later one's (app, errUnreadMessage), and the reason
// of its death. Before, it did not listen for messageerror: such a
// message was lost without a word.
func TestStartScriptWorker(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	script, ok := strings.CutPrefix(startScript, "<script>")
	script, ok2 := strings.CutSuffix(script, "</script>")
	if !ok || !ok2 {
		t.Fatalf("startScript is no <script> element: %.80s", startScript)
	}
	harness := `globalThis.window = globalThis;
globalThis.location = { pathname: "/" };
globalThis.addEventListener = () => {};
globalThis.Worker = class { constructor(url) { this.url = url; } };
` + script + `
const e = window.` + app.EarlyTrainer + `;
e.worker.onmessage({ data: "a" });
e.worker.onmessageerror({ data: null });
e.worker.onmessage({ data: "b" });
e.worker.onerror({ message: "out of memory", preventDefault() {} });
console.log(JSON.stringify({ url: e.worker.url, messages: e.messages, unread: e.unread, error: e.error }));
`
	out, err := exec.Command(node, "-e", harness).CombinedOutput()
	want := `{"url":"` + app.TrainerScript + `","messages":["a","b"],"unread":1,"error":"out of memory"}`
	if got := strings.TrimSpace(string(out)); err != nil || got != want {
		t.Errorf("startScript's early trainer after a message, one unread, a message and its death: %v %s, want %s", err, got, want)
	}
}

func TestServePage(t *testing.T) {
	srv, _, _ := newTestServer(t)
	version := srv.Config.Handler.(*server).current().version
	if !strings.HasPrefix(version, "test-") || len(version) != len("test-")+12 {
		t.Fatalf("version %q, want test-<12 hex digits>", version)
	}
	resp, body := get(t, srv, "/", "")
	page := string(body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"<!doctype html>", `content="` + version + `"`, `id="status"`, "/web/metriclab.css", "metriclab",
		// The playground's first trainer starts before app.wasm.
		`new Worker("` + app.TrainerScript + `")`, "window." + app.EarlyTrainer + " = ",
	} {
		if !strings.Contains(strings.ToLower(page), strings.ToLower(want)) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// Each page is titled by its name as the server renders it, the
	// playground by the app's title (before, every page was the app's).
	for path, want := range map[string]string{"/": app.Title, "/models": "Models — metriclab", "/jobs": "Jobs — metriclab", "/verify": "Verify — metriclab"} {
		_, body := get(t, srv, path, "")
		if got := regexp.MustCompile(`<title>([^<]*)</title>`).FindSubmatch(body); got == nil || string(got[1]) != want {
			t.Errorf("%s: title %q, want %q", path, got, want)
		}
	}
	// The forms the server draws submit nowhere: one submitted before
	// app.wasm runs (Enter in a field) loaded the page anew.
	for _, path := range []string{"/", "/jobs"} {
		_, body := get(t, srv, path, "")
		forms := regexp.MustCompile(`<form[^>]*>`).FindAll(body, -1)
		for _, f := range forms {
			if !strings.Contains(string(f), `method="dialog"`) {
				t.Errorf("%s: %s, want method=\"dialog\"", path, f)
			}
		}
		if len(forms) == 0 {
			t.Errorf("%s: no form drawn", path)
		}
	}
	// app.js loads the versioned binary and knows its uncompressed size;
	// it registers the service worker once the page has started.
	_, js := get(t, srv, "/app.js", "")
	for _, want := range []string{"/web/app.wasm?v=" + version, `goappWasmContentLength = "` + itoa(len(mustRead(t, srv, "app.wasm"))) + `"`, appJSStart} {
		if !strings.Contains(string(js), want) {
			t.Errorf("app.js lacks %q", want)
		}
	}
	if strings.Contains(string(js), goappRegister) {
		t.Errorf("app.js registers the service worker at once: go-app's app.js changed?")
	}
	// The service worker caches the workers, the viewer, MNIST and the pages.
	_, sw := get(t, srv, "/app-worker.js", "")
	for _, want := range []string{"/web/trainer.js", "/web/trainer.wasm", "/web/viz.html", "/web/viz.wasm", "/data/mnist/t10k-images-idx3-ubyte.gz", "/web/app.wasm?v=" + version,
		app.FaceFinderPath, app.PupLocPath, "/", "/verify", "/models", "/jobs"} {
		if !strings.Contains(string(sw), `"`+want+`"`) {
			t.Errorf("app-worker.js does not cache %q", want)
		}
	}
	// It finds the viewer's page in its cache whatever its query.
	if !strings.Contains(string(sw), viewerMatch) || strings.Contains(string(sw), goappMatch) {
		t.Errorf("app-worker.js does not look the viewer up without its query: go-app's template changed?")
	}
	// It answers a page of the app offline whatever its query.
	if !strings.Contains(string(sw), "appPages.includes(path)") || strings.Contains(string(sw), goappFetch) {
		t.Errorf("app-worker.js does not answer the app's pages from its cache offline: go-app's template changed?")
	}
	if !strings.Contains(string(sw), `event.waitUntil(installWorker()`) {
		t.Errorf("app-worker.js does not wait for its cache when it installs: go-app's template changed?")
	}
	if !strings.Contains(string(sw), "event.waitUntil((async () => {\n    await deletePreviousCaches();") {
		t.Errorf("app-worker.js does not wait for the previous cache's deletion when it activates: go-app's template changed?")
	}
	// The cascades the verify page fetches.
	for path, want := range map[string][]byte{app.FaceFinderPath: assets.FaceFinder, app.PupLocPath: assets.PupLoc} {
		if resp, body := get(t, srv, path, ""); resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
			t.Errorf("%s: status %d, %d bytes, want %d", path, resp.StatusCode, len(body), len(want))
		}
	}
	// Static files of the web root.
	if resp, body := get(t, srv, "/web/viz.html", ""); resp.StatusCode != http.StatusOK || string(body) != "/* viz.html */" {
		t.Errorf("/web/viz.html: status %d, body %q", resp.StatusCode, body)
	}
}

// runServiceWorker runs the test server's service worker under node, as
// its TestServiceWorker tests do: standIns (the browser's caches and the
// like) after the stand-in of self, which keeps each listener the worker
// adds in listeners by type, then the worker's script, then script; it
// returns what node printed. It skips the test without node.
func runServiceWorker(t *testing.T, standIns, script string) (string, error) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	srv, _, _ := newTestServer(t)
	_, sw := get(t, srv, "/app-worker.js", "")
	harness := `const listeners = {};
globalThis.self = globalThis;
self.addEventListener = (type, f) => { listeners[type] = f; };
` + standIns + string(sw) + "\n" + script
	out, err := exec.Command(node, "-e", harness).CombinedOutput()
	return string(out), err
}

// TestServiceWorkerInstall runs the service worker's install under
// node, with stand-ins for the browser's caches: the install hands its
// work to event.waitUntil, which resolves once the cache holds every
// resource (then skipWaiting) and rejects when a fetch fails, so that
// the browser drops the new worker and keeps the previous one and its
// cache. Before, go-app's install called no waitUntil and swallowed a
// failed fetch: the browser took the worker for installed at once.
func TestServiceWorkerInstall(t *testing.T) {
	out, err := runServiceWorker(t, `let skipped = 0, fail = false;
self.skipWaiting = async () => { skipped++; };
globalThis.caches = { open: async () => ({ addAll: async () => { await null; if (fail) throw new Error("fetch failed"); } }) };
console.log = console.error = () => {};
`, `(async () => {
  const out = [];
  for (fail of [false, true]) {
    skipped = 0;
    let waited = null;
    listeners.install({ waitUntil(p) { waited = p; } });
    const got = waited ? await waited.then(() => "installed", (e) => "failed: " + e.message) : "not waited for";
    await new Promise((r) => setTimeout(r, 10));
    out.push(got + ", skipWaiting " + skipped);
  }
  process.stdout.write(JSON.stringify(out));
})();
`)
	want := `["installed, skipWaiting 1","failed: fetch failed, skipWaiting 0"]`
	if got := strings.TrimSpace(out); err != nil || got != want {
		t.Errorf("install with every fetch answered, then with one failing: %v %s, want %s", err, got, want)
	}
}

// TestServiceWorkerActivate runs the service worker's activation under
// node, with stand-ins for the browser's caches and clients: it hands
// its work to event.waitUntil, which resolves once the previous
// version's cache is deleted and the pages claimed, so that the browser
// holds the requests until then. Before, go-app's activation called no
// waitUntil: requests reached the new worker while caches.match still
// found the previous version's files first.
func TestServiceWorkerActivate(t *testing.T) {
	out, err := runServiceWorker(t, `const deleted = [];
let claimed = 0;
globalThis.caches = {
  keys: async () => ["app-old", cacheName],
  delete: async (k) => { await null; deleted.push(k); return true; },
};
self.clients = { claim: async () => { await null; claimed++; } };
console.log = console.error = () => {};
`, `(async () => {
  let waited = null;
  listeners.activate({ waitUntil(p) { waited = p; } });
  if (!waited) { process.stdout.write("not waited for"); return; }
  await waited;
  process.stdout.write(JSON.stringify({ deleted, claimed }));
})();
`)
	want := `{"deleted":["app-old"],"claimed":1}`
	if got := strings.TrimSpace(out); err != nil || got != want {
		t.Errorf("activation with a previous version's cache: %v %s, want %s once it is waited for", err, got, want)
	}
}

// TestServeVersionFollowsFiles checks that changing a file of the web root
// changes the version (so that caches roll), for a server started before
// the change as for one started after, and that a web root that cannot
// be served (app.wasm gone midway through a rebuild) leaves the version
// before in place.
func TestServeVersionFollowsFiles(t *testing.T) {
	web := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(web, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("app.wasm", "one")
	a, err := newServer(serveConfig{WebDir: web, Version: "v"})
	if err != nil {
		t.Fatal(err)
	}
	before := a.current().version
	write("trainer.js", "two")
	b, err := newServer(serveConfig{WebDir: web, Version: "v"})
	if err != nil {
		t.Fatal(err)
	}
	if after := b.current().version; after == before || a.current().version != after {
		t.Errorf("version %q, then %q started after a change and %q started before; want a new one for both", before, after, a.current().version)
	}
	after := a.current().version
	if err := os.Remove(filepath.Join(web, "app.wasm")); err != nil {
		t.Fatal(err)
	}
	if got := a.current(); got.version != after || got.wasm["app.wasm"].path == "" {
		t.Errorf("without app.wasm: version %q, app.wasm %+v; want the site before, %q", got.version, got.wasm["app.wasm"], after)
	}
	write("app.wasm", "three")
	if got := a.current().version; got == after {
		t.Errorf("app.wasm back, changed: version %q as before", got)
	}
	// A web root without app.wasm from the start is served as not built
	// (TestServeWithoutPages), and served once built.
	empty := t.TempDir()
	c, err := newServer(serveConfig{WebDir: empty, Version: "v"})
	if err != nil || c.current().unbuilt == "" {
		t.Fatalf("a web root without app.wasm: %v, want it served as not built", err)
	}
	if err := os.WriteFile(filepath.Join(empty, "app.wasm"), []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := c.current(); got.unbuilt != "" || got.wasm["app.wasm"].path == "" {
		t.Errorf("app.wasm built: %+v, want it served", got)
	}
}

// TestServeFollowsRebuild: a web root rebuilt while serve runs is served
// as rebuilt, without a restart. Before, the version (every ETag), the
// binaries' sizes and which compressed copies to send were worked out
// once, at start: after a rebuild the page and its stylesheet answered
// 304 to their old ETags, and the page's binary under its old ?v= came
// with the old size, "immutable", and as the old binary's brotli copy.
// Requests run alongside the changes, for the race detector.
func TestServeFollowsRebuild(t *testing.T) {
	srv, _, _ := newTestServer(t)
	web := srv.Config.Handler.(*server).cfg.WebDir
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	do := func(p string, header ...string) (*http.Response, []byte) {
		t.Helper()
		return getWith(t, srv, p, append([]string{"Accept-Encoding", "identity"}, header...)...)
	}
	rebuild := func(name, add string) []byte {
		t.Helper()
		p := filepath.Join(web, name)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, add...)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		// As a build a while after the last: the file's time tells it
		// from its copies whatever the file system's clock tick.
		later := mustStat(t, p).ModTime().Add(2 * time.Second)
		if err := os.Chtimes(p, later, later); err != nil {
			t.Fatal(err)
		}
		return b
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, p := range []string{"/", "/web/app.wasm", "/web/metriclab.css", "/app.js"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if resp, err := client.Get(srv.URL + p); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	resp, _ := do("/")
	pageTag := resp.Header.Get("ETag")
	version := strings.Trim(pageTag, `"`)
	resp, _ = do("/web/metriclab.css")
	cssTag := resp.Header.Get("ETag")

	rebuild("metriclab.css", "/* rebuilt */")
	if resp, _ := do("/", "If-None-Match", pageTag); resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == pageTag {
		t.Errorf("/ with its ETag from before the stylesheet changed: %d, ETag %s; want 200 with another", resp.StatusCode, resp.Header.Get("ETag"))
	}
	if resp, body := do("/web/metriclab.css", "If-None-Match", cssTag); resp.StatusCode != http.StatusOK || !strings.HasSuffix(string(body), "/* rebuilt */") {
		t.Errorf("/web/metriclab.css with its ETag from before it changed: %d, %q; want 200 with the new file", resp.StatusCode, body)
	}

	bin := rebuild("app.wasm", "\x00more code")
	for _, accept := range []string{"identity", "br", "gzip"} {
		resp, body := do("/web/app.wasm?v="+version, "Accept-Encoding", accept)
		h := resp.Header
		if resp.StatusCode != http.StatusOK || h.Get("Content-Encoding") != "" || !bytes.Equal(body, bin) {
			t.Errorf("app.wasm (%s) after a rebuild: %d, Content-Encoding %q, %d bytes; want 200 with the new %d, as they are (the copies are older)",
				accept, resp.StatusCode, h.Get("Content-Encoding"), len(body), len(bin))
		}
		if got := h.Get("X-Uncompressed-Length"); got != itoa(len(bin)) {
			t.Errorf("app.wasm (%s) after a rebuild: X-Uncompressed-Length %s, want %d", accept, got, len(bin))
		}
		if got := h.Get("Cache-Control"); got != cacheRevalid {
			t.Errorf("app.wasm (%s) under the version before the rebuild: Cache-Control %q, want %q", accept, got, cacheRevalid)
		}
		if strings.Contains(h.Get("ETag"), version) {
			t.Errorf("app.wasm (%s) after a rebuild: ETag %s, the version before", accept, h.Get("ETag"))
		}
	}
	// The page names the binary under the new version, which is kept for
	// good, and tells app.js its new size.
	_, page := do("/")
	m := regexp.MustCompile(`/web/app\.wasm\?v=([^"&]+)`).FindSubmatch(page)
	if m == nil || string(m[1]) == version {
		t.Fatalf("the page after a rebuild links the binary as %q, want a version other than %s", m, version)
	}
	if resp, _ := do("/web/app.wasm?v=" + string(m[1])); resp.Header.Get("Cache-Control") != cacheImmutable {
		t.Errorf("app.wasm under the new version: Cache-Control %q, want %q", resp.Header.Get("Cache-Control"), cacheImmutable)
	}
	if _, js := do("/app.js"); !strings.Contains(string(js), `goappWasmContentLength = "`+itoa(len(bin))+`"`) {
		t.Errorf("app.js after a rebuild does not say the binary's %d bytes", len(bin))
	}
	// The rebuild compresses the binary again: its copies are sent again.
	if err := precompressFile(context.Background(), filepath.Join(web, "app.wasm")); err != nil {
		t.Fatal(err)
	}
	later := mustStat(t, filepath.Join(web, "app.wasm")).ModTime().Add(time.Second)
	for _, ext := range []string{".br", ".gz"} {
		if err := os.Chtimes(filepath.Join(web, "app.wasm"+ext), later, later); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := do("/web/app.wasm", "Accept-Encoding", "br")
	if resp.Header.Get("Content-Encoding") != "br" || !bytes.Equal(decode(t, "br", body), bin) {
		t.Errorf("app.wasm (br) once compressed again: Content-Encoding %q, want br with the new binary", resp.Header.Get("Content-Encoding"))
	}
}

// TestServeRecheck: serve looks whether the web root changed at most once
// every Recheck, and at the first request after it.
func TestServeRecheck(t *testing.T) {
	web := t.TempDir()
	if err := os.WriteFile(filepath.Join(web, "app.wasm"), []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := newServer(serveConfig{WebDir: web, Version: "v", Recheck: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	before := s.current().version
	if err := os.WriteFile(filepath.Join(web, "trainer.js"), []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := s.current().version; got != before {
		t.Errorf("version %q within Recheck of the last look, want %q", got, before)
	}
	s.checked.Store(time.Now().Add(-time.Hour).UnixNano())
	if got := s.current().version; got == before {
		t.Errorf("version %q a Recheck after the last look, as before the change", got)
	}
}

func TestChooseEncoding(t *testing.T) {
	have := []string{"br", "gzip"}
	for accept, want := range map[string]string{
		"":                     "",
		"gzip":                 "gzip",
		"br":                   "br",
		"gzip, br":             "br",
		"BR;q=0.5":             "br",
		"br;q=0, gzip;q=0":     "",
		"*;q=0.1":              "br",
		"br;q=0, *":            "gzip",
		"deflate, identity":    "",
		"gzip;q=0.8, br;q=0.9": "br",   // the server's preference wins among accepted ones
		"br;Q=0, gzip":         "gzip", // "the q parameter name is case-insensitive" (RFC 9110, 12.4.2)
		// An entry whose q is not a qvalue, ( "0" [ "." 0*3DIGIT ] ) /
		// ( "1" [ "." 0*3("0") ] ), is left out: it was read as q=1.
		"br;q=abc":             "",
		"br;q=1.5":             "",
		"br;q=0.0001":          "",
		"br;q=-1":              "",
		"br;q=":                "",
		"br;q=1.0001":          "",
		"br;q=0.5x":            "",
		"br;q=.5":              "",
		"br;q=abc, gzip":       "gzip",
		"br;q=abc, *;q=0.1":    "br", // left out, br is "*"'s
		"br;q=1.000":           "br",
		"br;q=1.":              "br",
		"br;q=0.001":           "br",
		"br;q=0.000":           "",
		"br ; q=0.5 , gzip":    "br",
		"br;q = 0.5":           "br",
		"br;Q=0.5":             "br",
		"br;Q=abc":             "",
		"br;level=5;q=0, gzip": "gzip", // q after another parameter was not read
	} {
		if got := chooseEncoding(accept, have); got != want {
			t.Errorf("chooseEncoding(%q) = %q, want %q", accept, got, want)
		}
	}
}

func mustRead(t *testing.T, srv *httptest.Server, name string) []byte {
	t.Helper()
	f := srv.Config.Handler.(*server).current().wasm[name]
	b, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestServeURL: the URL serve prints for a wildcard --addr is a loopback
// address a browser on the machine can open (before, http://[::]:PORT for
// 0.0.0.0, :PORT and [::]); other hosts are kept as --addr gives them.
// The listener's addresses are what net.Listen("tcp", addr) says on Linux.
func TestServeURL(t *testing.T) {
	for _, tc := range []struct {
		addr, listened, want string
	}{
		{"0.0.0.0:0", "[::]:41234", "http://127.0.0.1:41234"},
		{":8000", "[::]:8000", "http://127.0.0.1:8000"},
		{"0.0.0.0:8000", "0.0.0.0:8000", "http://127.0.0.1:8000"}, // a system without IPv6
		{"[::]:0", "[::]:41234", "http://[::1]:41234"},
		{"[0:0::0]:8000", "[::]:8000", "http://[::1]:8000"},
		{"127.0.0.1:0", "127.0.0.1:41234", "http://127.0.0.1:41234"},
		{"[::1]:8000", "[::1]:8000", "http://[::1]:8000"},
		{"192.168.1.20:8000", "192.168.1.20:8000", "http://192.168.1.20:8000"},
		{"localhost:8000", "127.0.0.1:8000", "http://localhost:8000"},
		{"class.example.org:0", "10.0.0.7:41234", "http://class.example.org:41234"},
	} {
		ln, err := net.ResolveTCPAddr("tcp", tc.listened)
		if err != nil {
			t.Fatal(err)
		}
		if got := serveURL(tc.addr, ln); got != tc.want {
			t.Errorf("serveURL(%q, %v) = %q, want %q", tc.addr, ln, got, tc.want)
		}
	}
}

// TestServeRefusesForgedHost runs `metriclab serve` on a loopback port
// and sends it requests as a DNS-rebinding page would (Host
// attacker.example): the page, the API's writes and reads get 403 before
// any handler; the same requests to 127.0.0.1, localhost or a name given
// with --allowed-hosts are answered.
func TestServeRefusesForgedHost(t *testing.T) {
	web := t.TempDir()
	if err := os.WriteFile(filepath.Join(web, "app.wasm"), []byte("\x00asm"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--web", web, "--data-dir", t.TempDir(), "--allowed-hosts", "class.example.org"}, pw, io.Discard)
		pw.Close()
	}()
	defer func() {
		cancel()
		io.Copy(io.Discard, pr)
		if code := <-done; code != 0 {
			t.Errorf("serve exited with %d", code)
		}
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`http://(\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("serve said %q", line)
	}
	base := "http://" + m[1]
	for _, tc := range []struct {
		method, path, host string
		want               int
	}{
		{"GET", "/", "attacker.example:8000", 403},
		{"POST", "/api/jobs", "attacker.example:8000", 403},
		{"GET", "/api/jobs", "attacker.example:8000", 403},
		{"GET", "/", "", 200},
		{"GET", "/api/jobs", "localhost:8000", 200},
		{"GET", "/api/jobs", "class.example.org:8000", 200},
	} {
		req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader("{}"))
		if tc.host != "" {
			req.Host = tc.host
		}
		req.Header.Set("Origin", "http://"+cmp(tc.host, m[1]))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s with Host %q: %d, want %d", tc.method, tc.path, tc.host, resp.StatusCode, tc.want)
		}
	}
	// /api without its slash is the API's: a 404 in JSON, not the page's
	// plain text.
	resp, err := http.Get(base + "/api")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 404 || !strings.Contains(ct, "json") {
		t.Errorf("GET /api: %d, %s; want a 404 in JSON", resp.StatusCode, ct)
	}
}

// TestServeEmptySuffixRange asks every kind of file the server sends
// (a wasm binary, a web file, app.js, a cascade, an MNIST file) for its
// last 0 bytes: a 416, as RFC 9110 says (net/http answered 206 with
// "Content-Range: bytes N-(N-1)/N"); the last 4 bytes are served.
func TestServeEmptySuffixRange(t *testing.T) {
	srv, _, _ := newTestServer(t)
	for _, p := range []string{"/web/app.wasm", "/web/viz.html", "/app.js", app.FaceFinderPath, "/data/mnist/" + mnistFiles[0]} {
		for _, tc := range []struct {
			rg   string
			code int
		}{{"bytes=-0", http.StatusRequestedRangeNotSatisfiable}, {"bytes=-4", http.StatusPartialContent}} {
			req, err := http.NewRequest(http.MethodGet, srv.URL+p, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Range", tc.rg)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code || tc.code == http.StatusPartialContent && len(body) != 4 {
				t.Errorf("%s, Range %s: %d with %d bytes (Content-Range %q), want %d", p, tc.rg, resp.StatusCode, len(body), resp.Header.Get("Content-Range"), tc.code)
			}
		}
	}
}

// TestPrecompressAnyFile: serve --precompress compresses any file, not
// only a built .wasm, into FILE.gz and FILE.br that decompress to it, and
// its help says so (before, it called FILE "a built .wasm").
func TestPrecompressAnyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notes.txt")
	text := strings.Repeat("not a wasm binary\n", 100)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runCLI(t, "serve", "--precompress", p); code != 0 {
		t.Fatalf("serve --precompress %s: status %d, stdout %q, stderr %q", p, code, stdout, stderr)
	}
	for ext, open := range map[string]func(io.Reader) (io.Reader, error){
		".gz": func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
		".br": func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil },
	} {
		f, err := os.Open(p + ext)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r, err := open(f)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(r); err != nil || string(got) != text {
			t.Errorf("%s decompresses to %d bytes (%v), want the file's %d", p+ext, len(got), err, len(text))
		}
	}
	_, table, _ := runCLI(t, "serve", flagsTableArg)
	var help string
	for line := range strings.Lines(table) {
		if strings.HasPrefix(line, "| `--precompress` |") {
			help = line
		}
	}
	if !strings.Contains(help, "any file") || strings.Contains(help, "(a built .wasm)") {
		t.Errorf("--precompress's help %q: want it to say that any file is compressed", help)
	}
}

// TestPrecompressNotAFile: --precompress of a folder or of a missing file
// is bad input, said in one line that names it, and writes nothing (a
// folder was "precompress: read …: is a directory").
func TestPrecompressNotAFile(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ path, want string }{
		{dir, "precompress: " + dir + ": a folder, not a built .wasm file"},
		{filepath.Join(dir, "absent.wasm"), "precompress: stat " + filepath.Join(dir, "absent.wasm") + ": "}, // the system's words follow
	} {
		err := precompressFile(context.Background(), c.path)
		var bad inputError
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") || !errors.As(err, &bad) {
			t.Errorf("precompress %s: %v (%T), want bad input %q", c.path, err, err, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the folder holds %v, want nothing written", entries)
	}
}

// TestPrecompressTakesNoServeFlags: --precompress compresses a file and
// exits, so a flag of the server given with it is refused before the file
// is read, and an empty --precompress too (before, the flags went unread,
// and an empty --precompress started the server).
func TestPrecompressTakesNoServeFlags(t *testing.T) {
	p := filepath.Join(t.TempDir(), "app.wasm")
	if err := os.WriteFile(p, []byte("wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantBadInput(t, "--precompress compresses a file and exits, serving nothing: --addr, --data-dir would go unread",
		"serve", "--precompress", p, "--data-dir", filepath.Join(t.TempDir(), "d"), "--addr", "0.0.0.0:1")
	if _, err := os.Stat(p + ".gz"); err == nil {
		t.Errorf("%s.gz written", p)
	}
	wantBadInput(t, "--precompress is empty: want a file to compress", "serve", "--precompress=", "--web", t.TempDir(), "--addr", "127.0.0.1:0")
}

// TestPrecompressOntoFolder: a folder where FILE.br goes is refused with
// one line, status 2, before either copy is written (before, FILE.gz was
// written and FILE.br's rename failed, status 1, with a line naming the
// temporary file: "rename …/.app.wasm.br.tmp-123 …: file exists").
func TestPrecompressOntoFolder(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.wasm")
	if err := os.WriteFile(p, []byte("wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p+".br", 0o755); err != nil {
		t.Fatal(err)
	}
	wantBadInput(t, "precompress: "+p+".br is a folder, where the compressed copy goes", "serve", "--precompress", p)
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the folder holds %v, want the file and the folder alone", entries)
	}
}

// TestServeSettles: a web root whose newest file was written within
// Settle is not served as rebuilt (it may be half-written: R17 served an
// app.wasm cut at 4 MB under a new version, immutable, for a year); once
// it has been left for Settle, it is.
func TestServeSettles(t *testing.T) {
	web := t.TempDir()
	bin := filepath.Join(web, "app.wasm")
	if err := os.WriteFile(bin, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := newServer(serveConfig{WebDir: web, Version: "v", Settle: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	before := s.current().version
	if err := os.WriteFile(bin, []byte("one and a half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := s.current().version; got != before {
		t.Errorf("version %q with app.wasm written just now, want %q until it settles", got, before)
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(bin, past, past); err != nil {
		t.Fatal(err)
	}
	if got := s.current(); got.version == before || got.wasm["app.wasm"].size != int64(len("one and a half")) {
		t.Errorf("version %q, app.wasm %d bytes once settled; want a new version and the new size", got.version, got.wasm["app.wasm"].size)
	}
}

// TestServeWasmChangedUnderSite: a binary rebuilt since the site was
// derived (within Recheck of the last look) goes out as it is now, to be
// asked again: before, it went out under the site's version, immutable,
// with the old size as X-Uncompressed-Length and the old binary's
// compressed copy (R17).
func TestServeWasmChangedUnderSite(t *testing.T) {
	web := t.TempDir()
	bin := filepath.Join(web, "app.wasm")
	if err := os.WriteFile(bin, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := precompressFile(context.Background(), bin); err != nil {
		t.Fatal(err)
	}
	s, err := newServer(serveConfig{WebDir: web, Version: "v", Recheck: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cur := s.current()
	if err := os.WriteFile(bin, []byte("one, rebuilt"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/web/app.wasm?v="+cur.version, nil)
	req.Header.Set("Accept-Encoding", "br")
	s.ServeHTTP(rec, req)
	h := rec.Header()
	if rec.Body.String() != "one, rebuilt" || h.Get("Cache-Control") != cacheRevalid || h.Get("ETag") != "" || h.Get("X-Uncompressed-Length") != "" || h.Get("Content-Encoding") != "" {
		t.Errorf("a binary rebuilt under the site: %q, Cache-Control %q, ETag %q, X-Uncompressed-Length %q, Content-Encoding %q; want the new bytes, %q, none of the others",
			rec.Body.String(), h.Get("Cache-Control"), h.Get("ETag"), h.Get("X-Uncompressed-Length"), h.Get("Content-Encoding"), cacheRevalid)
	}
}

// TestServiceWorkerPages runs the service worker's fetch under node, with
// stand-ins for the browser's caches (holding what the worker caches at
// install) and for the network, up or down: a navigation to any page of
// the app (app.NavLinks), whatever its query, is answered from the cache
// when the network fails, as the playground is; with the network up a
// page with a query comes from it, and the API never comes from the cache.
// Before, only "/" was cached and a reload of /verify, /models or /jobs
// with the server stopped gave the browser's error page.
func TestServiceWorkerPages(t *testing.T) {
	out, err := runServiceWorker(t, `console.log = console.error = () => {};
`, `const cached = new Set(resourcesToCache);
let online = true;
globalThis.caches = { match: async (req, opts) => {
  const u = new URL(typeof req === "string" ? req : req.url, "http://localhost/");
  for (const k of cached) {
    const c = new URL(k, "http://localhost/");
    if (c.pathname === u.pathname && (c.search === u.search || (opts && opts.ignoreSearch))) return "cache " + k;
  }
  return undefined;
} };
globalThis.fetch = async (req) => { if (!online) throw new TypeError("Failed to fetch"); return "network " + new URL(req.url).pathname + new URL(req.url).search; };
const answer = (path, mode) => new Promise((resolve) => {
  listeners.fetch({ request: { url: "http://localhost" + path, mode }, respondWith(p) { p.then(resolve, (e) => resolve("failed: " + e.message)); } });
});
(async () => {
  const out = [];
  for (online of [false, true]) {
    for (const [path, mode] of [["/", "navigate"], ["/verify", "navigate"], ["/verify?model=m1", "navigate"], ["/models", "navigate"], ["/jobs", "navigate"], ["/api/models", "navigate"], ["/api/models", "cors"], ["/nowhere", "navigate"]]) {
      out.push((online ? "online " : "offline ") + mode + " " + path + ": " + await answer(path, mode));
    }
  }
  process.stdout.write(out.join("\n"));
})();
`)
	want := `offline navigate /: cache /
offline navigate /verify: cache /verify
offline navigate /verify?model=m1: cache /verify
offline navigate /models: cache /models
offline navigate /jobs: cache /jobs
offline navigate /api/models: failed: Failed to fetch
offline cors /api/models: failed: Failed to fetch
offline navigate /nowhere: failed: Failed to fetch
online navigate /: cache /
online navigate /verify: cache /verify
online navigate /verify?model=m1: network /verify?model=m1
online navigate /models: cache /models
online navigate /jobs: cache /jobs
online navigate /api/models: network /api/models
online cors /api/models: network /api/models
online navigate /nowhere: network /nowhere`
	if got := strings.TrimSpace(out); err != nil || got != want {
		t.Errorf("the worker's answers: %v\n%s\nwant\n%s", err, got, want)
	}
}

// serveIn runs serve on a free port with the web root web and the data
// directory dir/data, its stderr to stderr, and returns the line that
// gives its address (the banner), the address, its Ctrl-C, its exit
// status and what it writes to stdout after the banner; the status comes
// once that is all in stdout.
func serveIn(t *testing.T, web, dir string, stderr io.Writer) (banner, base string, cancel func(), code <-chan int, stdout *output) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	ran := make(chan int, 1)
	go func() {
		ran <- run(ctx, []string{"serve", "--web", web, "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--threads", "1"}, w, stderr)
		w.Close()
	}()
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if m := regexp.MustCompile(`serving the playground on (http://\S+)`).FindStringSubmatch(lines.Text()); m != nil {
			banner, base = lines.Text(), m[1]
			break
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("serve did not say where it serves: status %d", <-ran)
	}
	stdout = new(output)
	done := make(chan int, 1)
	go func() {
		io.Copy(stdout, out) // the rest of stdout, to its end
		done <- <-ran
	}()
	return banner, base, cancel, done, stdout
}

// TestServeOneVersion: serve's banner gives the build's version as
// /api/health does, the web files' hash apart (before, the banner said
// "metriclab VERSION-HASH" where /api/health said VERSION); an address
// in use is named once in its error (before: "listen on ADDR: listen tcp
// ADDR: bind: address already in use").
func TestServeOneVersion(t *testing.T) {
	defer func(v string) { version = v }(version)
	version = "v1.2.3"
	dir := t.TempDir()
	web := emptyWebDir(t, dir)
	line, _, cancel, stopped, _ := serveIn(t, web, dir, io.Discard)
	defer func() { cancel(); <-stopped }()
	banner := regexp.MustCompile(`^metriclab (\S+): serving the playground on (http://(\S+)) \(web files [0-9a-f]+; Ctrl-C stops\)$`).FindStringSubmatch(line)
	if banner == nil {
		t.Fatalf("serve's banner %q; want \"metriclab VERSION: serving the playground on URL (web files HASH; Ctrl-C stops)\"", line)
	}
	resp, err := http.Get(banner[2] + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var health struct{ Version string }
	if err := json.NewDecoder(resp.Body).Decode(&health); err != nil {
		t.Fatal(err)
	}
	if banner[1] != "v1.2.3" || health.Version != "v1.2.3" {
		t.Errorf("the banner's version %q, /api/health's %q; want the build's, v1.2.3, in both", banner[1], health.Version)
	}

	addr := banner[3]
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--web", web, "--addr", addr, "--data-dir", filepath.Join(dir, "other")}, io.Discard, &stderr)
	if got := stderr.String(); code != 2 || strings.Count(got, addr) != 1 || !strings.HasPrefix(got, "metriclab serve: listen on "+addr+": ") {
		t.Errorf("serve on an address in use: exit %d, stderr %q; want 2 and one line \"metriclab serve: listen on %s: …\" that names it once", code, got, addr)
	}
}

// TestServeBannerFirst: in classroom mode (an address that is not
// loopback, no --token) the banner is still serve's first line, as the
// README says, and the generated token follows it (before, "classroom
// mode: writes need the token …" came first).
func TestServeBannerFirst(t *testing.T) {
	dir := t.TempDir()
	web := emptyWebDir(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	ran := make(chan int, 1)
	go func() {
		ran <- run(ctx, []string{"serve", "--web", web, "--addr", "0.0.0.0:0", "--data-dir", filepath.Join(dir, "data"), "--threads", "1"}, w, io.Discard)
		w.Close()
	}()
	defer func() { cancel(); io.Copy(io.Discard, out); <-ran }()
	lines := bufio.NewScanner(out)
	var got []string
	for len(got) < 2 && lines.Scan() {
		got = append(got, lines.Text())
	}
	if len(got) < 2 {
		t.Fatalf("serve on 0.0.0.0:0 wrote %q and stopped; want the banner, then the token", got)
	}
	banner := regexp.MustCompile(`^metriclab \S+: serving the playground on http://\S+ \(web files [0-9a-f]+; Ctrl-C stops\)$`)
	token := regexp.MustCompile(`^classroom mode: writes and people's photos need the token [0-9a-f]{32}$`)
	if !banner.MatchString(got[0]) || !token.MatchString(got[1]) {
		t.Errorf("serve on 0.0.0.0:0 without --token began\n%s\nwant the banner first (metriclab VERSION: serving the playground on URL (web files HASH; Ctrl-C stops)), then \"classroom mode: writes and people's photos need the token HEX\"", strings.Join(got, "\n"))
	}
}

// TestServeTokenLength: a --token shorter than minTokenLength is refused
// with one line that names the minimum (before, --token 4821 served, and
// a keep-alive connection guessed it in a second); one of that length is
// taken, and the token generated is longer.
func TestServeTokenLength(t *testing.T) {
	long := strings.Repeat("k", minTokenLength)
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--addr", "0.0.0.0:0", "--token", "4821"}, false},
		{[]string{"--addr", "127.0.0.1:0", "--token", long[1:]}, false}, // loopback too: a token given is meant to guard
		{[]string{"--addr", "0.0.0.0:0", "--token", long}, true},
		{[]string{"--addr", "127.0.0.1:0", "--token", ""}, true}, // none
	} {
		f, err := parseServe(tc.args, io.Discard)
		switch {
		case tc.ok && err != nil:
			t.Errorf("serve %q: %v, want it taken", tc.args, err)
		case !tc.ok && err == nil:
			t.Errorf("serve %q taken, want it refused", tc.args)
		case !tc.ok && (!strings.Contains(err.Error(), strconv.Itoa(minTokenLength)) || strings.Contains(err.Error(), "\n")):
			t.Errorf("serve %q: %q, want one line naming the minimum, %d", tc.args, err, minTokenLength)
		case tc.ok && f.token != tc.args[3]:
			t.Errorf("serve %q: token %q, want the one given", tc.args, f.token)
		}
	}
	f, err := parseServe([]string{"--addr", "0.0.0.0:0"}, io.Discard)
	if err != nil || !f.generated || len(f.token) < minTokenLength {
		t.Errorf("serve --addr 0.0.0.0:0: %v, token %q generated %v; want one generated of %d characters at least", err, f.token, f.generated, minTokenLength)
	}
}
