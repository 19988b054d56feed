//go:build !js

package api

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"metriclab/core"
	"metriclab/core/cuda"
	"metriclab/core/data"
	"metriclab/core/msg"
	"metriclab/server/api/jobs"
	"metriclab/server/api/store"
)

// Server is the API handler of one data directory. Mount it at /api/.
type Server struct {
	cfg    Config
	store  *store.Store
	runner *jobs.Runner
	log    *log.Logger
	mux    *http.ServeMux
	sse    *streams // open event streams
	// ending is closed by EndStreams: open and new event streams end.
	ending  chan struct{}
	endOnce sync.Once
	// decodes holds a slot per decoding at once, one per core and no more
	// than half the memory holds (decodeSlots, DefaultMaxJobMemory): a
	// sample image's (a file of a few bytes may declare 4096×4096 pixels of
	// 16-bit RGBA, which the decoder allocates, 128 MiB, before it finds
	// the data missing), or a new job's check, which decodes its uploaded
	// data set image by image (see takeDecode).
	decodes chan struct{}
	// decodeWait is how long a request waits for a slot of decodes
	// (decodeWait, the package's; tests shorten it).
	decodeWait time.Duration
	// bodies counts the request bodies being read (Config.MaxBodies,
	// MaxBodiesPerClient).
	bodies *streams

	devicesOnce sync.Once
	gpu         device // the CUDA device, probed once

	// unreadable holds the errors of the models the last list left out
	// (their cards cannot be read): each is logged once, not at every
	// list of a page that polls, and again only after it changed.
	unreadableMu sync.Mutex
	unreadable   map[string]bool

	// guesses counts the wrong tokens of each client: after
	// maxWrongTokens its requests that need the token are refused for a
	// while (guesses.go).
	guesses *tokenGuesses

	// badForwarded logs the first X-Forwarded-For of a trusted proxy
	// that is not a list of addresses (clientOf).
	badForwarded sync.Once
}

// New opens cfg.DataDir (repairing what a crash left: see store.Open),
// starts the job runner and returns the handler. Close stops both.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.ProbeCUDA == nil {
		cfg.ProbeCUDA = cuda.Probe
	}
	st, rec, err := store.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if rec != (store.Recovery{}) {
		cfg.Logger.Printf("api: data directory %s repaired: %s", cfg.DataDir, rec.Describe(st.LostFound()))
	}
	load := jobs.StoreLoader(st)
	if cfg.Load != nil {
		load = func(name string, in core.Input, _ []string) (*data.Set, *data.Set, string, []string, error) {
			train, test, note, err := cfg.Load(name, in)
			return train, test, note, nil, err // of no files: a resume loads it whole
		}
	}
	r := jobs.New(jobs.Config{Store: st, Load: load, Options: cfg.JobOptions, CheckpointEvery: cfg.CheckpointEvery,
		ProgressEvery: cfg.ProgressEvery, CUDA: cfg.CUDA, MaxJobBytes: cfg.MaxJobMemory, Logger: cfg.Logger})
	if err := r.Start(); err != nil {
		st.Close()
		return nil, err
	}
	s := &Server{cfg: cfg, store: st, runner: r, log: cfg.Logger, mux: http.NewServeMux(),
		sse:     &streams{full: errManyStreams, fullClient: errManyStreamsClient},
		decodes: make(chan struct{}, decodeSlots(runtime.GOMAXPROCS(0), DefaultMaxJobMemory())), decodeWait: decodeWait, bodies: &streams{full: errBusy, fullClient: errBusyClient},
		ending: make(chan struct{}), guesses: &tokenGuesses{now: time.Now}}
	s.routes()
	return s, nil
}

// Close stops the running job (it becomes interrupted, with a checkpoint)
// and closes the store.
func (s *Server) Close() error {
	s.EndStreams()
	s.runner.Close()
	return s.store.Close()
}

// EndStreams ends every open job event stream, and any opened after it
// once its first events are sent; the jobs go on. An HTTP server's Shutdown
// waits for its handlers, and a stream's only ends with its job or its
// client: serve calls this as its shutdown begins (RegisterOnShutdown), so
// Ctrl-C with the Jobs page open does not wait out the shutdown's limit.
func (s *Server) EndStreams() { s.endOnce.Do(func() { close(s.ending) }) }

func (s *Server) routes() {
	s.handle("GET /api/health", s.health)
	s.handle("GET /api/devices", s.devices)

	s.handle("POST /api/jobs", s.createJob)
	s.handle("GET /api/jobs", s.listJobs)
	s.handle("GET /api/jobs/{id}", s.getJob)
	s.handle("GET /api/jobs/{id}/events", s.jobEvents)
	s.handle("DELETE /api/jobs/{id}", s.deleteJob, "remove")
	s.handle("POST /api/jobs/{id}/resume", s.resumeJob)

	s.handle("GET /api/models", s.listModels)
	s.handle("GET /api/models/{id}", s.getModel)
	s.handle("GET /api/models/{id}/file", s.modelFile)
	s.handle("POST /api/models", s.uploadModel, "name")
	s.handle("DELETE /api/models/{id}", s.deleteModel)
	s.handle("POST /api/models/{id}/rename", s.renameModel, "name")

	s.handle("GET /api/datasets", s.listDatasets)
	s.handle("DELETE /api/datasets/{name}", s.deleteDataset)
	s.handle("GET /api/datasets/{name}/samples", s.withToken(s.listSamples), "after", "limit")
	s.handle("POST /api/datasets/{name}/samples", s.uploadSample)
	s.handle("GET /api/datasets/{name}/samples/{id}", s.withToken(s.sampleImage))
	s.handle("DELETE /api/datasets/{name}/samples/{id}", s.deleteSample)

	s.mux.HandleFunc("/api/", s.noRoute)
}

// handle routes pattern to h, which takes the query parameters takes and
// no other: a query that does not parse, or that holds a parameter h does
// not take ("?nmae=mine"), is refused with 400 before h runs, as an
// unknown field of a JSON body is, rather than passed over (a name
// mistyped would be stored as no name, without a word).
func (s *Server) handle(pattern string, h http.HandlerFunc, takes ...string) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			s.fail(w, r, badRequest("query: %v", err))
			return
		}
		for _, k := range slices.Sorted(maps.Keys(q)) {
			if !slices.Contains(takes, k) {
				s.fail(w, r, unknownName("query parameter", k, takes))
				return
			}
		}
		h(w, r)
	})
}

// unknownName is the 400 of a name a request gives that its endpoint does
// not take (what: "query parameter", "form part"), with the names it
// takes: `unknown query parameter "nmae" (takes: name)`.
func unknownName(what, name string, takes []string) error {
	if len(takes) == 0 {
		return badRequest("unknown %s %q (takes none)", what, msg.Shorten(name, 64))
	}
	return badRequest("unknown %s %q (takes: %s)", what, msg.Shorten(name, 64), strings.Join(takes, ", "))
}

// noRoute answers a request no route takes: 405 with the methods of its
// path (Allow) when the path has routes, else 404. A GET route takes HEAD
// too (http.ServeMux), and its Allow says so, as the mux's own 405 does.
// OPTIONS, which every path with routes takes, is answered 204 with Allow
// (no CORS headers: a browser's preflight of a cross-origin write still
// fails).
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		if _, pattern := s.mux.Handler(&http.Request{Method: method, URL: r.URL, Host: r.Host}); pattern != "/api/" {
			allow = append(allow, method)
			if method == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	if len(allow) == 0 {
		s.fail(w, r, errNotFound)
		return
	}
	allow = append(allow, http.MethodOptions)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.fail(w, r, &apiError{http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed (%s)", r.Method, strings.Join(allow, ", "))})
}

// ServeHTTP checks the Host header (Config.Hosts), then writes (origin,
// a client refused for its wrong tokens, token), then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.Hosts.Allowed(r.Host) {
		refuseHost(w, r)
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	// A path that is not clean ("/api//jobs", "/api/./health") would be
	// redirected by the mux with a page of HTML; every answer of the API
	// is JSON, and no route has such a path.
	if p := r.URL.EscapedPath(); p == "/api" || path.Clean(p) != strings.TrimSuffix(p, "/") { // escaped: "..%2F" is a name's, which its route refuses
		s.fail(w, r, errNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
		if !sameOrigin(r) {
			s.fail(w, r, &apiError{http.StatusForbidden, "cross-origin writes are refused"})
			return
		}
		if s.refused(w, r, "changes") {
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// withToken returns h, a read of people's photos or of who was sent (a
// data set's samples), needing the token as a write does when the server
// has one (classroom mode): 401 before h runs. The other reads stay open,
// so students watch the teacher's jobs and load models on the Verify page.
func (s *Server) withToken(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.refused(w, r, "people's photos and names") {
			h(w, r)
		}
	}
}

// refused answers r, which needs the server's token for what (changes,
// people's photos and names), and reports true, when the server has a
// token and r may not go on: 429 while its client is blocked for wrong
// tokens (the right token too: see guesses.go), else 401 without the
// token, its wrong token counted.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, what string) bool {
	if s.cfg.Token == "" {
		return false
	}
	if s.refuseGuesser(w, r) {
		return true
	}
	if s.authorized(r) {
		return false
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="metriclab"`)
	text := "this server needs its token for " + what + " (Authorization: Bearer TOKEN)"
	if r.Header.Get("Authorization") != "" { // a token mistyped: not "needs" one, which reads as none sent
		text = "the token given is not this server's: it needs its token for " + what + " (Authorization: Bearer TOKEN)"
		s.wrongToken(r)
	}
	s.fail(w, r, &apiError{http.StatusUnauthorized, text})
	return true
}

// authorized reports whether r carries the token (the scheme's name in any
// case, as RFC 9110 has it).
func (s *Server) authorized(r *http.Request) bool {
	const prefix = "Bearer "
	a := r.Header.Get("Authorization")
	if len(a) <= len(prefix) || !strings.EqualFold(a[:len(prefix)], prefix) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(a[len(prefix):]), []byte(s.cfg.Token)) == 1
}

// sameOrigin reports whether r may be a write from this server's own
// pages: no Origin header (curl, scripts) or one whose host is the
// request's Host, and no Sec-Fetch-Site of "cross-site" or "same-site".
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return u.Host == r.Host
}

// clientOf returns the client that every per-client limit counts (jobs,
// event streams, bodies read at once): the peer's IPv4 address (an
// IPv4-mapped IPv6 one's too, "::ffff:1.2.3.4" as "1.2.3.4"), or an IPv6
// peer's /64 ("2001:db8:1:2::/64"): a host, at home or in a cloud, is
// given a whole /64, and would otherwise be 2⁶⁴ clients. Loopback (::1)
// stays as it is. A peer in Config.TrustedProxies (a reverse proxy) is
// not the client: the address its X-Forwarded-For names is
// (forwardedClient), the peer's own where the header is absent or is not
// a list of addresses (the first such header is logged: a proxy that
// sends one makes all its clients one); no other peer's header is read.
func (s *Server) clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if inRanges(s.cfg.TrustedProxies, ip) {
		client, err := forwardedClient(r.Header.Values("X-Forwarded-For"), s.cfg.TrustedProxies)
		switch {
		case err != nil:
			s.badForwarded.Do(func() {
				s.log.Printf("api: the X-Forwarded-For of trusted proxy %s: %v: its request counts as the proxy's (logged once)", ip, err)
			})
		case client.IsValid():
			ip = client
		}
	}
	return PeerClient(ip)
}

// apiError is an error with its status and the message the client sees.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

var errNotFound = &apiError{http.StatusNotFound, "not found"}

func badRequest(format string, a ...any) error {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, a...)}
}

// fail answers err as {"error": …}: its own status and message for an
// apiError, 400 for an invalid request, 409 with its words for a job's
// state and for a data set a job trains on (store.InUseError), 404, 409,
// 413 and 429 for the store's and the limits' errors, 507 for a write the
// disk had no room for (store.DiskFull), and 500 "internal error" for
// anything else; the last two are logged, quoted as one line of the log.
// The text is one line, as the API promises
// (msg.ErrorLine): a message that quotes a file's words or an OS error
// may hold line breaks.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, text := http.StatusInternalServerError, "internal error"
	var ae *apiError
	var mb *http.MaxBytesError
	var ne store.NameError
	var iu store.InUseError
	switch {
	case errors.As(err, &ae):
		status, text = ae.status, ae.msg
	case errors.As(err, &mb):
		status, text = http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", mb.Limit)
	case isTimeout(err):
		status, text = errSlowBody.status, errSlowBody.msg
	case errors.Is(err, jobs.ErrInvalid):
		status, text = http.StatusBadRequest, err.Error()
	case errors.Is(err, jobs.ErrState):
		status, text = http.StatusConflict, err.Error()
	case errors.As(err, &ne):
		status, text = http.StatusBadRequest, ne.Error()
	case errors.As(err, &iu):
		status, text = http.StatusConflict, iu.Error()
	case errors.Is(err, store.ErrNotFound):
		status, text = http.StatusNotFound, "not found"
	case errors.Is(err, store.ErrConflict):
		status, text = http.StatusConflict, "conflict"
	case errors.Is(err, store.ErrLimit):
		status, text = http.StatusTooManyRequests, fmt.Sprintf("too many jobs queued or running for this client (at most %d): wait for one to end, or cancel one", s.cfg.MaxJobsPerClient)
	case store.DiskFull(err):
		status, text = http.StatusInsufficientStorage, "the server's disk is full: nothing was stored (free some space on it, then try again)"
		s.log.Printf("api: %s %q: %q", r.Method, r.URL.Path, err)
	default:
		s.log.Printf("api: %s %q: %q", r.Method, r.URL.Path, err) // quoted: a path's %0a, an error's line break, makes no line of its own
	}
	writeJSON(w, status, map[string]string{"error": msg.ErrorLine(text)})
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
