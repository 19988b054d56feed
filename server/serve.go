package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/app"
	"metriclab/assets"
	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/job"
	"metriclab/server/api"
	"metriclab/server/api/store"
)

// mnistFiles are the gzipped IDX files of MNIST that the page's trainers
// fetch from /data/mnist/.
var mnistFiles = [...]string{
	"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
	"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
}

// wasmNames are the browser binaries in the web root: the page, the
// trainer (a Web Worker) and the hypersphere viewer.
var wasmNames = [...]string{"app.wasm", "trainer.wasm", "viz.wasm"}

// Cache-Control of responses whose URL carries the current version, of
// MNIST and the face cascades (a week, then revalidated: MNIST by
// Last-Modified, a cascade by ETag), and of everything else (revalidated
// by ETag).
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheData      = "public, max-age=604800"
	cacheRevalid   = "no-cache"
)

// serveConfig is what `metriclab serve` serves.
type serveConfig struct {
	WebDir   string       // the web root: viz.html, trainer.js, *.wasm and their .gz/.br, CSS, icons
	MNISTDir string       // the MNIST files; empty: none (the page cannot train on MNIST)
	Version  string       // the build's version (main.version)
	API      http.Handler // the /api/ endpoints (models, jobs, data sets); nil: none
	Logger   *log.Logger
	// Recheck is how long after one look a request looks again whether
	// the web root was rebuilt (server.current); 0: at every request.
	Recheck time.Duration
	// Settle is how long the web root's newest file must have been left
	// as it is before the server serves the root as rebuilt: a file
	// younger may be half-written (go build copies its output in place
	// when its temporary folder is on another file system, make web
	// compresses after it builds). 0: at once.
	Settle time.Duration
}

// webRecheck is serve's serveConfig.Recheck. A look at the web root of
// make web (webStamp, 18 files) took 120 µs on two cores shared with
// other work (load 6), as long as the answer to a small file takes; once
// a second, a rebuild is seen by the time a page is reloaded after it.
const webRecheck = time.Second

// webSettle is serve's serveConfig.Settle: a second without a write.
const webSettle = time.Second

// minTokenLength is the fewest characters of a --token: a keep-alive
// connection tried 2,500 tokens a second, and guessed a --token of 4
// digits in one. 16 characters of hex are 2⁶⁴ tokens; the one generated
// has 32 (api.RequireToken), and the API refuses a client's requests that
// need the token for a minute after 10 wrong tokens (api's token guesses).
const minTokenLength = 16

// serveFlags are serve's flags, parsed and checked (parseServe), with
// the token and the hosts allowed they make.
type serveFlags struct {
	addr, web, precompress, dataDir, token                             string
	maxUpload, maxJobMemory                                            int64
	maxJobs, maxBodies, maxBodiesClient, maxSSE, maxSSEClient, threads int
	maxConnsClient                                                     int

	generated bool // the token was generated, to be printed
	hosts     *api.Hosts
	proxies   []netip.Prefix // --trusted-proxies
}

// parseServe parses serve's flags and refuses what needs no file and no
// network to be found wrong: the flags' syntax, the bounds, and (unless
// --precompress, which needs none of them) --data-dir, --token and the
// hosts. --web, the address (listened on) and the data directory are
// cmdServe's to check.
func parseServe(args []string, stdout io.Writer) (*serveFlags, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f := &serveFlags{}
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8000", "listen on this host:port")
	fs.StringVar(&f.web, "web", "web", "the web root (built by make run or make web); without its app.wasm the pages answer 503 and the API alone is served")
	fs.StringVar(&f.precompress, "precompress", "", "compress FILE, any file, into FILE.gz (gzip) and FILE.br (brotli) next to it, then exit (meant for the built .wasm binaries: serve sends only those compressed)")
	fs.StringVar(&f.dataDir, "data-dir", api.DefaultDataDir, "models, jobs and data sets (SQLite and files)")
	fs.StringVar(&f.token, "token", "", fmt.Sprintf("writes, and the reads of people's photos, need Authorization: Bearer TOKEN, of %d characters at least (one is generated when --addr is not loopback)", minTokenLength))
	fs.Int64Var(&f.maxUpload, "max-upload", api.DefaultMaxUpload, "largest model upload, in bytes")
	fs.IntVar(&f.maxJobs, "max-jobs-per-client", api.DefaultMaxJobsPerClient, "queued or running jobs per client address")
	fs.IntVar(&f.maxBodies, "max-bodies", api.DefaultMaxBodies, "request bodies (model and sample uploads, new jobs) read at once; more are answered 503 with Retry-After")
	fs.IntVar(&f.maxBodiesClient, "max-bodies-per-client", api.DefaultMaxBodiesPerClient, "request bodies of one client address read at once; more are answered 503 with Retry-After")
	fs.Int64Var(&f.maxJobMemory, "max-job-memory", 0, "largest memory a CPU job's training may take, "+maxMemoryDoc)
	fs.IntVar(&f.maxSSE, "max-sse", api.DefaultMaxSSE, "concurrent job event streams")
	fs.IntVar(&f.maxSSEClient, "max-sse-per-client", api.DefaultMaxSSEPerClient, "concurrent job event streams of one client address")
	fs.IntVar(&f.maxConnsClient, "max-conns-per-client", defaultConnsPerClient, "connections of one client address open at once (a --trusted-proxies proxy's: no bound but the total); more are closed at once")
	allowedHosts := fs.String("allowed-hosts", "", "host names the server answers to besides localhost and IP addresses, comma-separated (.example.org: the domain and its names), e.g. a classroom's name")
	trustedProxies := fs.String("trusted-proxies", "", "reverse proxies (Caddy, nginx: the Verify page's webcam needs HTTPS) whose X-Forwarded-For names the client of the per-client limits, comma-separated IP addresses or CIDR ranges, e.g. 127.0.0.1 for one on this machine; none: every client is its connection's address")
	fs.IntVar(&f.threads, "threads", 0, threadsDoc)
	if err := parseFlags(fs, args, stdout); err != nil {
		return nil, err
	}
	if f.threads < 0 || f.threads > 1024 {
		return nil, badInput("threads %d out of range [0, 1024] (0: one per CPU)", f.threads)
	}
	// The API would take a bound below 1 for its default.
	for _, b := range []struct {
		name string
		v    int64
	}{{"max-upload", f.maxUpload}, {"max-jobs-per-client", int64(f.maxJobs)}, {"max-bodies", int64(f.maxBodies)}, {"max-bodies-per-client", int64(f.maxBodiesClient)}, {"max-sse", int64(f.maxSSE)}, {"max-sse-per-client", int64(f.maxSSEClient)}, {"max-conns-per-client", int64(f.maxConnsClient)}} {
		if b.v < 1 {
			return nil, badInput("--%s %d: must be 1 or more", b.name, b.v)
		}
	}
	if err := checkMaxMemory("max-job-memory", f.maxJobMemory); err != nil {
		return nil, err
	}
	if f.precompress != "" {
		// It compresses a file and exits: it serves nothing.
		var unread []string
		fs.Visit(func(fl *flag.Flag) {
			if fl.Name != "precompress" {
				unread = append(unread, "--"+fl.Name)
			}
		})
		if len(unread) > 0 {
			return nil, badInput("--precompress compresses a file and exits, serving nothing: %s would go unread", strings.Join(unread, ", "))
		}
		return f, nil
	}
	if flagGiven(fs, "precompress") { // the server would start instead
		return nil, badInput("--precompress is empty: want a file to compress")
	}
	if f.dataDir == "" { // the API would take it for its default
		return nil, badInput("--data-dir is empty: want a folder (default %s)", api.DefaultDataDir)
	}
	if n := len(f.token); n > 0 && n < minTokenLength { // printable ASCII (msg.CheckToken): a byte a character
		return nil, badInput("--token has %d characters: it needs %d at least (a short one is guessed in seconds); without --token one is generated", n, minTokenLength)
	}
	var err error
	if f.token, f.generated, err = api.RequireToken(f.addr, f.token); err != nil {
		return nil, badInput("%v", err)
	}
	if f.hosts, err = api.NewHosts(f.addr, splitList(*allowedHosts)); err != nil { // empty items are skipped
		return nil, badInput("%v", err)
	}
	if f.proxies, err = api.ParseTrustedProxies(splitList(*trustedProxies)); err != nil { // empty items are skipped
		return nil, badInput("%v", err)
	}
	return f, nil
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseServe(args, stdout)
	if err != nil {
		return err
	}
	if f.precompress != "" {
		return precompressFile(ctx, f.precompress)
	}
	// From here stdout is the log of a long run, not its result: a write
	// of it that fails is not the command's failure (run's check).
	if o, ok := stdout.(*outputWriter); ok {
		stdout = o.w
	}
	// What the flags name is checked before anything is created: the
	// page's binary in --web, the address (listened on now), then the data
	// directory, which the API creates.
	// A page not built is told once the rest is found right, so that
	// a refusal is the one line (before, --addr 127.0.0.1:99999 without
	// app.wasm gave the warning, then the address's error).
	var nb notBuilt
	unbuilt := false
	if err := checkWebDir(f.web); errors.As(err, &nb) {
		unbuilt = true
	} else if err != nil {
		return inputError{err}
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		// net's error names the address again ("listen tcp ADDR: bind:
		// address already in use"): its cause alone follows ours.
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			err = op.Err
		}
		return badInput("listen on %s: %v", f.addr, err)
	}
	defer ln.Close()
	logger := log.New(stderr, "metriclab serve: ", log.LstdFlags)
	// Connections bounded per client address and in all (limitListener).
	ln = newLimitListener(ln, f.maxConnsClient, connLimit(fileLimit()), f.proxies, logger)
	acfg := api.Config{DataDir: f.dataDir, Token: f.token, Version: version, Hosts: f.hosts, TrustedProxies: f.proxies,
		MaxUpload: f.maxUpload, MaxJobsPerClient: f.maxJobs, MaxBodies: f.maxBodies, MaxBodiesPerClient: f.maxBodiesClient, MaxJobMemory: f.maxJobMemory, MaxSSE: f.maxSSE, MaxSSEPerClient: f.maxSSEClient, Logger: logger,
		JobOptions: job.Options{Threads: f.threads}, WriteTimeout: defaultTimeouts.write}
	if gpu, err := probeCUDA(); err == nil {
		acfg.CUDA = engineFor("cuda", false)
		logger.Printf("jobs on device cuda train on %s", gpu)
	}
	a, err := api.New(acfg)
	var pe *os.PathError
	switch {
	case errors.As(err, &pe):
		return badInput("data-dir %s: %v", f.dataDir, err)
	case errors.Is(err, store.ErrInUse), errors.Is(err, store.ErrNewerSchema): // as an address in use: what a flag names cannot be used
		return inputError{err}
	case err != nil:
		return err
	}
	// After the HTTP server has shut down: the running job saves a
	// checkpoint and becomes "interrupted".
	defer a.Close()
	if unbuilt {
		// The API alone: its pages answer 503 with this line (newServer).
		fmt.Fprintf(stderr, "metriclab serve: %v\n", nb)
	}
	cfg := serveConfig{WebDir: f.web, Version: version, API: a, Logger: logger, Recheck: webRecheck, Settle: webSettle}
	if dir, err := data.MNISTDir(); err != nil {
		logger.Printf("MNIST not found, the page cannot train on it: %v", err)
	} else {
		cfg.MNISTDir = dir
	}
	h, err := newServer(cfg)
	if err != nil {
		return err
	}
	srv := newHTTPServer(f.hosts.Guard(h), defaultTimeouts)
	srv.RegisterOnShutdown(a.EndStreams) // Shutdown waits for the event streams
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	// The build's version, as `metriclab version`, /api/health and the
	// models' provenance give it; the web files' own hash, which their
	// URLs and ETags carry and a rebuild of web/ changes, apart. The
	// banner is the first line, in classroom mode too.
	site := h.current().version
	fmt.Fprintf(stdout, "metriclab %s: serving the playground on %s (web files %s; Ctrl-C stops)\n", version, serveURL(f.addr, ln.Addr()), strings.TrimPrefix(site, version+"-"))
	if f.generated { // once the flags are taken: a server that does not start has no token
		fmt.Fprintf(stdout, "classroom mode: writes and people's photos need the token %s\n", f.token)
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	if err := srv.Shutdown(shutdown); errors.Is(err, context.DeadlineExceeded) {
		// A client still taking a download (or not reading it): Ctrl-C
		// stops the server anyway.
		srv.Close()
		fmt.Fprintf(stdout, "metriclab serve: closed the connections still busy %v after Ctrl-C\n", shutdownWait)
	} else if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(stdout, "metriclab serve: stopped")
	return nil
}

// serveURL is the URL a browser on this machine opens to reach a server
// listening on ln as --addr addr asked: addr's host as given (a name too,
// which Hosts allows), the port of ln (which :0 leaves to the system). A
// wildcard host is no address to connect to, and ln says [::] for each
// (Go listens on both families for a wildcard where the system can): the
// URL names the loopback address of the family addr names, 127.0.0.1 for
// 0.0.0.0 or no host, [::1] for ::, which an IPv6-only system has too.
func serveURL(addr string, ln net.Addr) string {
	host, _, _ := net.SplitHostPort(addr) // api.RequireToken checked addr
	_, port, _ := net.SplitHostPort(ln.String())
	if ip := net.ParseIP(host); host == "" || ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// shutdownWait is how long Ctrl-C lets the requests in progress finish.
const shutdownWait = 5 * time.Second

// timeouts are the HTTP server's. A request's headers must come within
// header; a request's body within read (the API's handlers bound theirs
// by their size: see api.Config's BodyTimeout), and an answer must be
// taken within write (a model download, or a model upload's answer, gets
// more by its size: see api.Config's WriteTimeout; an event stream has a
// deadline per event and none in all); a kept-alive connection idles for
// idle at most.
type timeouts struct{ header, read, write, idle time.Duration }

// defaultTimeouts suit a classroom: a wasm binary or an MNIST file (10 MB)
// at 50 kB/s, uploads at the API's rate.
var defaultTimeouts = timeouts{header: 10 * time.Second, read: time.Minute, write: 5 * time.Minute, idle: 2 * time.Minute}

// newHTTPServer returns the HTTP server of h with the timeouts t.
func newHTTPServer(h http.Handler, t timeouts) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: t.header, ReadTimeout: t.read, WriteTimeout: t.write, IdleTimeout: t.idle,
		MaxHeaderBytes: 64 << 10}
}

// server serves the playground: go-app's page, the web root with the wasm
// binaries precompressed, and MNIST.
type server struct {
	cfg serveConfig
	// cascadeTags are the cascades' ETags by path: of their contents,
	// since the binary carries them with no time to revalidate by.
	cascadeTags map[string]string
	site        atomic.Pointer[site] // the web root as last derived (current)
	checked     atomic.Int64         // when a request last looked at the web root, in Unix nanoseconds
	mu          sync.Mutex           // held while the web root is derived again
	seen        string               // the webStamp last derived from, under mu, whether or not that failed
}

// site is what the server serves of its web root as one look at its files
// found them: the version (every ETag, the binary's URL), the binaries'
// sizes and copies, and go-app's page, which holds the version too. A
// rebuild of the web root while serve runs gives a new site (current).
type site struct {
	stamp   string              // the webStamp it was derived from
	version string              // cfg.Version and the hash of the files (hashDir)
	wasm    map[string]wasmFile // by name, as in wasmNames
	page    *goapp.Handler
	appJS   []byte // go-app's app.js, its service worker registered once the page has started (appJSStart)
	// unbuilt, when not "", says the web root has no app.wasm (notBuilt):
	// every page and file outside the API answers 503 with it, and the
	// fields above are empty.
	unbuilt string
}

// wasmFile is a built wasm binary and its precompressed copies.
type wasmFile struct {
	path      string
	size      int64
	mod       time.Time // its modification time, with size what the site knows it by
	encodings []string  // "br", "gzip": the copies that exist and are not older than the binary
}

// checkWebDir says why dir is not a web root the page can start from (a
// file, or a folder without app.wasm, or one not ours to read), or nil.
// A folder without app.wasm, or none, is a notBuilt: serve starts without
// its pages, serving the API alone.
func checkWebDir(dir string) error {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("web %s: a file, not a folder (make web builds the page into web/)", dir)
	}
	_, err := os.Stat(filepath.Join(dir, "app.wasm"))
	if errors.Is(err, fs.ErrNotExist) {
		return notBuilt{dir}
	} else if err != nil {
		return fmt.Errorf("web %s: app.wasm: %v", dir, pathErrno(err))
	}
	return nil
}

// notBuilt is checkWebDir's error of a web root without the page's binary
// (app.wasm): the line serve prints as it starts without its pages, and
// that they answer with, 503, until make web builds them (server.current
// then finds them).
type notBuilt struct{ dir string }

func (e notBuilt) Error() string {
	return fmt.Sprintf("web %s: no app.wasm, the page's binary: the pages are not built (make web builds them into web/), the API alone is served", e.dir)
}

// newServer scans cfg.WebDir and returns the handler. The binaries are
// served when present; without app.wasm (notBuilt) the pages answer 503
// with notBuilt's line, and the API is served.
func newServer(cfg serveConfig) (*server, error) {
	if cfg.Logger == nil {
		cfg.Logger = log.New(io.Discard, "", 0)
	}
	stamp, _ := webStamp(cfg.WebDir)
	s := &server{cfg: cfg, seen: stamp}
	s.checked.Store(time.Now().UnixNano())
	app.Route()
	first, err := newSite(cfg, s.seen)
	var nb notBuilt
	if errors.As(err, &nb) {
		first, err = &site{stamp: s.seen, version: cfg.Version, unbuilt: nb.Error()}, nil
	}
	if err != nil {
		return nil, err
	}
	s.site.Store(first)
	s.cascadeTags = make(map[string]string, len(cascades))
	for p, b := range cascades {
		sum := sha256.Sum256(b)
		s.cascadeTags[p] = `"` + hex.EncodeToString(sum[:16]) + `"`
	}
	return s, nil
}

// current returns the site of the web root as it is now: the one derived
// before while the files are as its stamp found them (webStamp, looked at
// by one request at most every cfg.Recheck), else one derived again
// (hashing the files: 40 ms for those of make web, once a change) once
// no file has been written for cfg.Settle. A web root that cannot be
// served (app.wasm gone midway through a rebuild) leaves the site before
// in place until the next change, and is said once in the log. Safe for
// concurrent use.
func (s *server) current() *site {
	cur := s.site.Load()
	if s.cfg.Recheck > 0 {
		now, last := time.Now().UnixNano(), s.checked.Load()
		if now-last < int64(s.cfg.Recheck) || !s.checked.CompareAndSwap(last, now) {
			return cur // looked at lately, or by another request now
		}
	}
	if stamp, _ := webStamp(s.cfg.WebDir); stamp == cur.stamp {
		return cur
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	stamp, newest := webStamp(s.cfg.WebDir) // again: another request may have derived it meanwhile
	if stamp == s.seen || s.cfg.Settle > 0 && time.Since(newest) < s.cfg.Settle {
		return s.site.Load() // as derived, or still being written: the next look sees
	}
	s.seen = stamp
	next, err := newSite(s.cfg, stamp)
	if err != nil {
		s.cfg.Logger.Printf("web root changed, still serving %s: %v", s.site.Load().version, err)
		return s.site.Load()
	}
	s.site.Store(next)
	s.cfg.Logger.Printf("web root changed: serving %s", next.version)
	return next
}

// newSite derives the site of cfg.WebDir, whose files were as stamp says
// before it looked at them: a file changed meanwhile changes the stamp,
// and the next request derives the site again.
func newSite(cfg serveConfig, stamp string) (*site, error) {
	s := &site{stamp: stamp, wasm: make(map[string]wasmFile)}
	for _, name := range wasmNames {
		p := filepath.Join(cfg.WebDir, name)
		st, err := os.Stat(p)
		if err != nil {
			if name == "app.wasm" {
				return nil, checkWebDir(cfg.WebDir)
			}
			cfg.Logger.Printf("%s missing: not served", p)
			continue
		}
		f := wasmFile{path: p, size: st.Size(), mod: st.ModTime()}
		for _, enc := range []struct{ name, ext string }{{"br", ".br"}, {"gzip", ".gz"}} {
			if cs, err := os.Stat(p + enc.ext); err == nil && !cs.ModTime().Before(st.ModTime()) {
				f.encodings = append(f.encodings, enc.name)
			} else if err == nil {
				cfg.Logger.Printf("%s is older than %s: not served", p+enc.ext, p)
			}
		}
		s.wasm[name] = f
	}
	sum, err := hashDir(cfg.WebDir)
	if err != nil {
		return nil, err
	}
	s.version = cfg.Version + "-" + sum[:12]
	files := webFiles{dir: cfg.WebDir}
	cacheable := []string{}
	for _, f := range []string{"trainer.js", "trainer.wasm", "viz.html", "viz.wasm", "wasm_exec.js"} {
		if _, err := os.Stat(filepath.Join(cfg.WebDir, f)); err == nil {
			cacheable = append(cacheable, "/web/"+f)
		}
	}
	cacheable = append(cacheable, app.FaceFinderPath, app.PupLocPath)
	for _, l := range app.NavLinks() {
		cacheable = append(cacheable, l.Path) // each page's HTML, for a reload offline (pageFallback)
	}
	if cfg.MNISTDir != "" {
		for _, f := range mnistFiles {
			cacheable = append(cacheable, "/data/mnist/"+f)
		}
	}
	s.page = &goapp.Handler{
		Name:        "metriclab",
		ShortName:   "metriclab",
		Title:       app.Title,
		Description: "Train encoders on MNIST in the browser with softmax, SphereFace, CosFace and ArcFace, and watch the embeddings move on the hypersphere.",
		Icon: goapp.Icon{
			Default: "/web/icon-192.png",
			Large:   "/web/icon-512.png",
			SVG:     "/web/icon.svg",
		},
		BackgroundColor:    "#10141c",
		ThemeColor:         "#10141c",
		LoadingLabel:       "loading metriclab {progress}%",
		Styles:             []string{"/web/metriclab.css"},
		CacheableResources: cacheable,
		RawHeaders: []string{`<meta name="metriclab-version" content="` + s.version + `">`, startScript,
			// app.js fetches app.wasm only once the HTML is parsed, styled and laid out;
			// the download starts with the HTML instead (same URL and mode: fetch reuses it).
			`<link rel="preload" href="` + webResolver{version: s.version}.Resolve("web/app.wasm") + `" as="fetch" crossorigin="anonymous">`},
		Resources:             webResolver{version: s.version, files: files},
		Version:               s.version,
		WasmContentLength:     strconv.FormatInt(s.wasm["app.wasm"].size, 10),
		ServiceWorkerTemplate: serviceWorker(),
	}
	s.appJS = startedAppJS(s.page)
	return s, nil
}

// startScript runs as the HTML is parsed, before go-app's app.js.
//
// On the playground ("/") it starts the first trainer (a Web Worker of
// app.TrainerScript) and leaves it in window[app.EarlyTrainer] with the
// messages it posts meanwhile (and the number of those the browser could
// not deserialise, its messageerror events: the worker lives on): the
// worker fetches, compiles and starts trainer.wasm on another core while
// the page's own app.wasm loads, and the page takes it when it mounts.
// Other pages start none.
//
// It also holds back go-app's service worker (appJSStart): its install
// downloads every binary and MNIST again (some 20 MB, decompressed by the
// browser) and competed with the page's start for the two cores. It
// registers once the playground has started (app.PageStarted, which it
// calls when its first trainer is ready; 20 s after the load event at the
// latest); other pages register it at once, as go-app does.
var startScript = `<script>
(() => {
  const playground = location.pathname === "/";
  let started = !playground;
  const waiting = [];
  window.metriclabWhenStarted = (f) => { if (started) f(); else waiting.push(f); };
  window.` + app.PageStarted + ` = () => { if (!started) { started = true; for (const f of waiting.splice(0)) f(); } };
  addEventListener("load", () => setTimeout(window.` + app.PageStarted + `, 20000));
  if (playground && window.Worker) {
    const early = { worker: new Worker("` + app.TrainerScript + `"), messages: [], unread: 0, error: "" };
    early.worker.onmessage = (e) => { early.messages.push(e.data); };
    early.worker.onmessageerror = () => { early.unread++; };
    early.worker.onerror = (e) => { e.preventDefault(); early.error = e.message || "failed to load"; };
    window.` + app.EarlyTrainer + ` = early;
  }
})();
</script>`

// appJSStart is the line of go-app's app.js that registers its service
// worker, and what it becomes: registered once the page has started
// (startScript). TestServePage checks that go-app's app.js still has it.
const (
	goappRegister = "\ngoappInitServiceWorker();\n"
	appJSStart    = "\nmetriclabWhenStarted(goappInitServiceWorker);\n"
)

// startedAppJS returns go-app's app.js as page serves it, with its
// service worker registered once the page has started.
func startedAppJS(page http.Handler) []byte {
	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/app.js", nil))
	return bytes.Replace(rec.Body.Bytes(), []byte(goappRegister), []byte(appJSStart), 1)
}

// viewerMatch is how the service worker looks up a request in its cache:
// the viewer's page whatever its query (the page opens
// /web/viz.html?channel=…, the cache holds /web/viz.html), everything else
// exactly, as go-app does.
const (
	goappMatch  = "const cachedResponse = await caches.match(request);"
	viewerMatch = `const cachedResponse = await caches.match(request, { ignoreSearch: new URL(request.url).pathname === "/web/viz.html" });`
)

// goappInstall is go-app's install of its service worker, and what it
// becomes. go-app's does not hand its work to event.waitUntil: the
// browser took the worker for installed at once, could stop it while
// cache.addAll still fetched the binaries and MNIST (some 20 MB), and
// kept it when a fetch failed (the error only logged), to activate it
// with an empty cache and delete the previous version's: offline, the
// page was gone until the next version. Now the browser waits for the
// cache, and a failed install leaves the previous worker and its cache in
// place until the next try. goappActivate is its activation, which
// waited for nothing either: the new worker took requests while the
// previous version's cache was still there, and caches.match looks in
// the oldest cache first (the previous page, its app.js). Now requests
// wait until that cache is deleted.
const (
	goappInstall = `self.addEventListener("install", async (event) => {
  try {
    console.log("installing app worker {{.Version}}");
    await installWorker();
    await self.skipWaiting();
  } catch (error) {
    console.error("error during installation:", error);
  }
});`
	waitedInstall = `self.addEventListener("install", (event) => {
  console.log("installing app worker {{.Version}}");
  event.waitUntil(installWorker().then(() => self.skipWaiting()));
});`
	goappActivate = `self.addEventListener("activate", async (event) => {
  try {
    await deletePreviousCaches(); // Await cache cleanup
    await self.clients.claim(); // Ensure the service worker takes control of the clients
    console.log("app worker {{.Version}} is activated");
  } catch (error) {
    console.error("error during activation:", error);
  }
});`
	waitedActivate = `self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    await deletePreviousCaches();
    await self.clients.claim();
    console.log("app worker {{.Version}} is activated");
  })());
});`
)

// goappFetch is how go-app's service worker answers a request the cache
// does not hold exactly: from the network, or, that failing, not at all.
// pageFallback answers a navigation to a page of the app (app.NavLinks,
// each cached as "/" is: newServer) from its cached HTML when the network
// fails, whatever the query: offline, a reload of /verify, or of a link
// to /verify?model=…, gave the browser's error page, while "/" loaded
// from the cache. The network comes first for what the cache does not
// hold exactly, so a page with a query is the server's while it is up,
// and nothing else (the API) is ever answered from the cache.
const goappFetch = `
  return await fetch(request);
}`

// pageFallback is goappFetch for the pages of paths.
func pageFallback(paths []string) string {
	list, err := json.Marshal(paths)
	if err != nil {
		panic("server: " + err.Error()) // strings always marshal
	}
	return `
  try {
    return await fetch(request);
  } catch (error) {
    const path = new URL(request.url).pathname;
    const page = request.mode === "navigate" && appPages.includes(path) && await caches.match(path);
    if (page) {
      return page;
    }
    throw error;
  }
}

const appPages = ` + string(list) + `;`
}

// serviceWorker returns go-app's service worker with viewerMatch, so that
// offline the viewers load from the cache too, pageFallback, so that the
// pages do whatever their query, waitedInstall and waitedActivate
// (TestServePage checks that go-app's template still has what they
// replace).
func serviceWorker() string {
	var pages []string
	for _, l := range app.NavLinks() {
		pages = append(pages, l.Path)
	}
	sw := strings.Replace(goapp.DefaultAppWorkerJS, goappMatch, viewerMatch, 1)
	sw = strings.Replace(sw, goappFetch, pageFallback(pages), 1)
	sw = strings.Replace(sw, goappInstall, waitedInstall, 1)
	return strings.Replace(sw, goappActivate, waitedActivate, 1)
}

// ServeHTTP routes a request: the API, the wasm binaries
// (precompressed), MNIST, then go-app (the page, its scripts and the web
// root). Outside the API only GET and HEAD are answered (and OPTIONS,
// with Allow, as the API answers it): go-app and http.ServeContent
// answered any method with the page or the file, a DELETE of
// /web/trainer.js with a 200 and the file.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case (p == "/api" || strings.HasPrefix(p, "/api/")) && s.cfg.API != nil:
		s.cfg.API.ServeHTTP(w, r)
	case r.Method == http.MethodOptions:
		w.Header().Set("Allow", staticAllow)
		w.WriteHeader(http.StatusNoContent)
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		w.Header().Set("Allow", staticAllow)
		http.Error(w, "method "+r.Method+" not allowed ("+staticAllow+")", http.StatusMethodNotAllowed)
	case s.serveUnbuilt(w):
	case p == "/app.js" || p == "/goapp.js":
		serveAppJS(w, r, s.current())
	case p == "/app.wasm" || p == "/goapp.wasm":
		s.serveWasm(w, r, s.current(), "app.wasm")
	case strings.HasPrefix(p, "/web/") && strings.HasSuffix(p, ".wasm"):
		s.serveWasm(w, r, s.current(), strings.TrimPrefix(p, "/web/"))
	case strings.HasPrefix(p, "/web/") && (strings.HasSuffix(p, ".wasm.gz") || strings.HasSuffix(p, ".wasm.br")):
		http.NotFound(w, r) // served through Content-Encoding only
	case strings.HasPrefix(p, "/data/mnist/"):
		s.serveMNIST(w, r, strings.TrimPrefix(p, "/data/mnist/"))
	case p == app.FaceFinderPath || p == app.PupLocPath:
		s.serveCascade(w, r, p)
	default:
		s.current().page.ServeHTTP(w, r)
	}
}

// serveUnbuilt answers 503 with the line that says so when the web root
// has no app.wasm (site.unbuilt), and reports whether it did.
func (s *server) serveUnbuilt(w http.ResponseWriter) bool {
	text := s.current().unbuilt
	if text == "" {
		return false
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, text, http.StatusServiceUnavailable)
	return true
}

// staticAllow is the Allow of every path outside the API.
const staticAllow = "GET, HEAD, OPTIONS"

// serveWasm serves the binary name of the site cur in the best encoding
// the client accepts: brotli, else gzip, else as it is. Kept for good
// only under cur's version: a URL of the version before a rebuild gets
// the new binary, revalidated.
func (s *server) serveWasm(w http.ResponseWriter, r *http.Request, cur *site, name string) {
	f, ok := cur.wasm[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if st, err := os.Stat(f.path); err == nil && (st.Size() != f.size || !st.ModTime().Equal(f.mod)) {
		// Rebuilt since cur was derived (within Recheck or Settle of
		// it): the binary as it is now, under no version, its copies
		// older than it, to be asked again (R17: it went out under cur's
		// version, immutable, with cur's size).
		w.Header().Set("Content-Type", "application/wasm")
		w.Header().Set("Cache-Control", cacheRevalid)
		s.serveFile(w, r, f.path)
		return
	}
	enc := chooseEncoding(r.Header.Get("Accept-Encoding"), f.encodings)
	file := f.path
	h := w.Header()
	switch enc {
	case "br":
		file += ".br"
	case "gzip":
		file += ".gz"
	}
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	h.Set("Content-Type", "application/wasm")
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Uncompressed-Length", strconv.FormatInt(f.size, 10))
	h.Set("ETag", `"`+cur.version+"-"+cmp(enc, "identity")+`"`)
	if r.URL.Query().Get("v") == cur.version {
		h.Set("Cache-Control", cacheImmutable)
	} else {
		h.Set("Cache-Control", cacheRevalid)
	}
	s.serveFile(w, r, file)
}

// serveAppJS serves go-app's app.js of the site cur as startedAppJS
// changed it, as go-app would (revalidated by the version).
func serveAppJS(w http.ResponseWriter, r *http.Request, cur *site) {
	h := w.Header()
	h.Set("Content-Type", "application/javascript")
	h.Set("Cache-Control", cacheRevalid)
	h.Set("ETag", `"`+cur.version+`-app.js"`)
	api.ServeContent(w, r, "", time.Time{}, bytes.NewReader(cur.appJS), int64(len(cur.appJS)))
}

// serveMNIST serves one of the MNIST files as bytes (they are gzipped IDX
// files, which the trainer unpacks itself).
func (s *server) serveMNIST(w http.ResponseWriter, r *http.Request, name string) {
	if s.cfg.MNISTDir == "" || !slices.Contains(mnistFiles[:], name) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", cacheData)
	s.serveFile(w, r, filepath.Join(s.cfg.MNISTDir, name))
}

// cascades are pigo's cascades (package assets) by the path the verify
// page fetches them from.
var cascades = map[string][]byte{app.FaceFinderPath: assets.FaceFinder, app.PupLocPath: assets.PupLoc}

// serveCascade serves one of pigo's cascades, which the verify page
// fetches when it opens (the page's binary does not carry them), with
// its ETag, so that a copy past its week is revalidated.
func (s *server) serveCascade(w http.ResponseWriter, r *http.Request, p string) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", cacheData)
	w.Header().Set("ETag", s.cascadeTags[p])
	api.ServeContent(w, r, "", time.Time{}, bytes.NewReader(cascades[p]), int64(len(cascades[p])))
}

// serveFile serves the file at p with the headers already set, answering
// ranges and conditional requests.
func (s *server) serveFile(w http.ResponseWriter, r *http.Request, p string) {
	f, err := os.Open(p)
	if err != nil {
		s.cfg.Logger.Printf("%s: %v", r.URL.Path, err)
		fileNotFound(w)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		fileNotFound(w)
		return
	}
	if w.Header().Get("Content-Encoding") != "" {
		w = encodedFile{w, st.Size()}
	}
	api.ServeContent(w, r, "", st.ModTime(), f, st.Size())
}

// encodedFile is the ResponseWriter of a precompressed copy: its whole
// answer (200) says its size in Content-Length. http.ServeContent leaves
// that out of any answer with a Content-Encoding, the header of handlers
// that compress as they write: a binary was sent chunked, and a HEAD said
// no size.
type encodedFile struct {
	http.ResponseWriter
	size int64
}

func (e encodedFile) WriteHeader(code int) {
	if code == http.StatusOK {
		e.Header().Set("Content-Length", strconv.FormatInt(e.size, 10))
	}
	e.ResponseWriter.WriteHeader(code)
}

// ReadFrom lets the copy of the file reach the connection's own
// ReadFrom (sendfile), as it would without encodedFile.
func (e encodedFile) ReadFrom(r io.Reader) (int64, error) { return io.Copy(e.ResponseWriter, r) }

// fileNotFound answers 404 for a file gone since the server last looked (a
// wasm's copy removed by a rebuild), without the headers set for the
// file, as ServeContent answers its own errors: a 404 kept for a year
// under a versioned URL, or announced as brotli, would outlive the file.
func fileNotFound(w http.ResponseWriter) {
	for _, k := range []string{"Cache-Control", "Content-Encoding", "ETag", "X-Uncompressed-Length"} {
		w.Header().Del(k)
	}
	http.Error(w, "not found", http.StatusNotFound)
}

// chooseEncoding returns the first of have ("br", "gzip") that the
// Accept-Encoding header accepts with a nonzero q, or "" for identity. An
// entry whose q is not a qvalue ("br;q=abc", "br;q=1.5") is left out, as
// if not sent.
func chooseEncoding(accept string, have []string) string {
	q := map[string]int{}
entries:
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		v := 1000
		for _, p := range strings.Split(params, ";") {
			if k, val, ok := strings.Cut(p, "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") { // "q" in any case (RFC 9110, 12.4.2)
				if v, ok = qvalue(strings.TrimSpace(val)); !ok {
					continue entries
				}
			}
		}
		if name != "" {
			q[name] = v
		}
	}
	for _, enc := range have {
		v, ok := q[enc]
		if !ok {
			v, ok = q["*"]
		}
		if ok && v > 0 {
			return enc
		}
	}
	return ""
}

// qvalue returns the weight s writes, in thousandths, and whether s is
// a qvalue (RFC 9110, 12.4.2):
//
//	qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
//
// ("abc", "1.5", "0.0001", "-1" and "" are not).
func qvalue(s string) (int, bool) {
	if s == "" || len(s) > 5 || s[0] != '0' && s[0] != '1' || len(s) > 1 && s[1] != '.' {
		return 0, false
	}
	v := int(s[0]-'0') * 1000
	for i, unit := range []int{100, 10, 1}[:max(len(s)-2, 0)] {
		c := s[2+i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v += int(c-'0') * unit
	}
	return v, v <= 1000
}

// webResolver tells go-app where the web root's files are: at /web/, with
// the page's binary under a versioned URL so that browsers may keep it
// for good. It also serves them (go-app sends /web/ requests to it).
type webResolver struct {
	version string
	files   http.Handler
}

// Resolve returns the URL of a resource of the web root.
func (res webResolver) Resolve(location string) string {
	if strings.HasPrefix(location, "https://") || strings.HasPrefix(location, "http://") {
		return location
	}
	loc := strings.Trim(location, "/")
	switch {
	case loc == "" || loc == "/":
		return "/"
	case loc == "web/app.wasm":
		return "/web/app.wasm?v=" + res.version
	case loc == "web" || strings.HasPrefix(loc, "web/"):
		return "/" + loc
	}
	return location
}

// ServeHTTP serves the web root.
func (res webResolver) ServeHTTP(w http.ResponseWriter, r *http.Request) { res.files.ServeHTTP(w, r) }

// webFiles serves the files of a folder at /web/, without listings, by
// clean paths only: the server routes a request by its path as sent, and
// /web/app.wasm.br/ or /web/app.wasm/. cleaned here would be the binaries
// that it serves only by Content-Encoding (serveWasm).
type webFiles struct{ dir string }

func (wf webFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel := strings.TrimPrefix(r.URL.Path, "/web/")
	name := path.Clean("/" + rel)
	if name != "/"+rel {
		http.NotFound(w, r)
		return
	}
	p := filepath.Join(wf.dir, filepath.FromSlash(name))
	st, err := os.Stat(p)
	if err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(p)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	api.ServeContent(w, r, name, st.ModTime(), f, st.Size())
}

// webStamp returns the names, sizes and times of the files of dir, the
// .gz and .br copies too, by one os.Stat each (through links, as hashDir
// reads them), or why it could not list them, and the newest of the
// times (of a file being written, lately): what changes when a
// rebuild changes the web root, without reading it. A file rewritten
// with the same size within the file system's clock tick is missed,
// which a build of the binaries is not.
func webStamp(dir string) (stamp string, newest time.Time) {
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed since the listing, as if not listed
		}
		rel, _ := filepath.Rel(dir, p)
		if err != nil {
			fmt.Fprintf(&b, "%s\x00%v\n", rel, err)
			return nil
		}
		fmt.Fprintf(&b, "%s\x00%d\x00%d\x00%v\n", rel, st.Size(), st.ModTime().UnixNano(), st.Mode())
		if st.ModTime().After(newest) {
			newest = st.ModTime()
		}
		return nil
	})
	if err != nil {
		fmt.Fprintf(&b, "\x00%v", err)
	}
	return b.String(), newest
}

// hashDir returns the SHA-256, in hex, of the names and contents of the
// files of dir (not of the .gz and .br copies, which follow their
// originals), so that the version changes whenever a file served changes.
func hashDir(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasSuffix(p, ".gz") || strings.HasSuffix(p, ".br") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("web root: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// precompressFile writes p.gz (gzip, best compression) and p.br (brotli,
// quality brotliQuality) next to p, each durably (core.WriteFile: a
// temporary file synced and renamed into place, the folder synced), and
// no more readable than p: with p's permissions, but for the execute
// bits. The end of ctx (Ctrl-C) stops it within a chunk of
// precompressChunk bytes; the copy it was writing is not written, and its
// temporary file removed.
func precompressFile(ctx context.Context, p string) error {
	st, err := os.Stat(p)
	switch {
	case err != nil:
		return badInput("precompress: %v", err)
	case st.IsDir():
		return badInput("precompress: %s: a folder, not a built .wasm file", p)
	case !st.Mode().IsRegular():
		// A device would be read as it answers (/dev/null as empty), a
		// named pipe would wait for a writer.
		return badInput("precompress: %s is not a regular file (%s)", p, fileKind(st.Mode()))
	}
	// A copy replaces its file by a rename: a folder there would fail it
	// once the other copy is written, a named pipe would be replaced.
	for _, dst := range []string{p + ".gz", p + ".br"} {
		if st, err := os.Stat(dst); err == nil && st.IsDir() {
			return badInput("precompress: %s is a folder, where the compressed copy goes", dst)
		} else if err == nil && !st.Mode().IsRegular() {
			return badInput("precompress: %s is not a regular file (%s), where the compressed copy goes", dst, fileKind(st.Mode()))
		}
	}
	src, err := os.ReadFile(p)
	if err != nil {
		return badInput("precompress: %v", err)
	}
	perm := st.Mode().Perm() &^ 0o111
	write := func(dst string, compress func(io.Writer) (io.WriteCloser, error)) error {
		err := core.WriteFile(dst, perm, func(w io.Writer) error {
			zw, err := compress(w)
			if err != nil {
				return err
			}
			for rest := src; len(rest) > 0 && err == nil; {
				n := min(len(rest), precompressChunk)
				if err = ctx.Err(); err == nil {
					_, err = zw.Write(rest[:n])
				}
				rest = rest[n:]
			}
			return errors.Join(err, zw.Close())
		})
		if ctx.Err() != nil {
			return ctx.Err() // core.WriteFile's error says it without wrapping it
		}
		if err != nil {
			return fmt.Errorf("precompress: %w", err) // err starts with dst's name
		}
		return nil
	}
	if err := write(p+".gz", func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriterLevel(w, gzip.BestCompression) }); err != nil {
		return err
	}
	err = write(p+".br", func(w io.Writer) (io.WriteCloser, error) {
		return brotli.NewWriterOptions(w, brotli.WriterOptions{Quality: brotliQuality, LGWin: 24}), nil
	})
	if errors.Is(err, context.Canceled) {
		// A .br older than its binary is not served (newSite).
		return fmt.Errorf("%w: wrote %s, not %s", err, filepath.Base(p)+".gz", filepath.Base(p)+".br")
	}
	return err
}

// precompressChunk is how much of the file is compressed between two
// looks at Ctrl-C: tens of milliseconds (on random bytes here, 15 ms
// for gzip at its best compression, 60 ms for brotli).
const precompressChunk = 1 << 20

// brotliQuality trades the time of make run for the size of the download:
// quality 9 with a 16 MiB window compresses a 28 MB wasm in seconds.
const brotliQuality = 9

// cmp returns a, or b if a is empty.
func cmp(a, b string) string {
	if a == "" {
		return b
	}
	return a
}
