// Package api is the HTTP API of `metriclab serve` under /api/: the model
// registry, training jobs with their progress as Server-Sent Events, and
// uploaded data sets, kept in a data directory (package store) and trained
// by package jobs. Every answer but a file (a model's, a sample's image) is
// JSON; errors are {"error": "…"} with 400, 401, 403, 404, 405, 408, 409,
// 413, 415, 429, 500, 503 (too many bodies read at once, in all or of one
// client, or images decoded, with Retry-After) or 507 (a full disk:
// nothing was stored), and 412 or 416 for a file's conditional or partial
// download; internal details are logged, never sent.
//
//	GET    /api/health                   {"ok":true,"version":…}
//	GET    /api/devices                  the CPU, and why there is no CUDA device
//	POST   /api/jobs                     a msg.TrainRequest, data required, a field left out job.FillRequest's → 201 {"id"}
//	GET    /api/jobs                     every job
//	GET    /api/jobs/{id}                {"id","state","step","loss","metrics","model_id",…}
//	GET    /api/jobs/{id}/events         text/event-stream of msg.Message JSON, the current state first
//	DELETE /api/jobs/{id}                cancel (a job done or failed: 409, its record kept)
//	DELETE /api/jobs/{id}?remove=1       remove the record of a job that has ended → 204, its model kept (a job not over: 409)
//	POST   /api/jobs/{id}/resume         queue an interrupted job again
//	GET    /api/models                   every model's card
//	GET    /api/models/{id}              a card: arch, loss, dim, metrics, threshold, created, …
//	GET    /api/models/{id}/file         the .safetensors file
//	POST   /api/models[?name=…]          upload a .safetensors file (the body) → 201 card; 409 for a name another model has
//	POST   /api/models/{id}/rename?name=… → 200 card; 409 for a name another model has
//	DELETE /api/models/{id}              → 204
//	GET    /api/datasets                 the data sets: mnist (built in) and the uploaded ones
//	DELETE /api/datasets/{name}         → 204 (a job queued, running or interrupted on it: 409; mnist, built in: 400, as its samples' routes)
//	GET    /api/datasets/{name}/samples[?limit=…&after=…] a page of its samples {"samples","next"}
//	POST   /api/datasets/{name}/samples  multipart: "identity" and "image" (PNG or JPEG of msg.MinSide to MaxImageSide pixels a side) → 201
//	GET    /api/datasets/{name}/samples/{id} the sample's image as uploaded (image/png or image/jpeg), its id as ETag
//	DELETE /api/datasets/{name}/samples/{id} → 204 (a job on the data set: 409)
//	OPTIONS any of these paths           → 204, its methods in Allow (as a 405's)
//
// A query parameter a route does not take (all but name of POST
// /api/models and of a rename, remove of a job's DELETE, and after and
// limit of a data set's samples), and a form part of a sample other than its two, are
// refused with 400, as an unknown field of a JSON body is.
//
// Classroom mode: when Config.Token is set, writes (POST, DELETE) need
// "Authorization: Bearer TOKEN", and so do the reads of people's photos and
// of who was sent (a data set's samples and a sample's image); the other
// reads do not, so students watch while the teacher trains and load models
// (whose cards name a faces model's people). A sample's image and a
// model's file are same-origin resources (Cross-Origin-Resource-Policy).
// A client that gives 10 wrong tokens within a minute has its requests
// that need the token refused with 429 and Retry-After for a minute, the
// right token's too; a loopback peer that is not a trusted proxy is never
// refused (see guesses.go). Writes from another origin (a cross-site Origin or
// Sec-Fetch-Site header) are refused, and so is any request whose Host is
// not allowed (Hosts: DNS rebinding). Bodies, uploads, jobs per client
// (resumed ones too), bodies read at once (in all and per client, 503
// beyond) and concurrent
// event streams (in all and per client) are limited; images are decoded
// one per core at a time, and no more at once than half the memory
// (DefaultMaxJobMemory) holds at 1152 MiB each (the worst of one at
// 4096×4096), at least one, a sample's or those of a new job's uploaded
// data set, which its check reads whole (a request that finds no slot
// within 30 s is answered 503), a body that comes
// too slowly is cut off (408), and one in a content coding
// (Content-Encoding: gzip) is refused unread (415). A client, for every
// per-client limit, is the connection's peer: one IPv4 address (an
// IPv4-mapped IPv6 one is its IPv4 address), or one IPv6 /64, since a
// host is given a whole /64 (loopback, ::1, is itself); or, where the
// peer is one of TrustedProxies (a reverse proxy), the right-most address
// of its X-Forwarded-For that is not a proxy's (see clientOf); no other
// peer's X-Forwarded-For is read.
package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/job"
	"metriclab/core/msg"
)

// Defaults of Config.
const (
	DefaultDataDir          = "metriclab-data"
	DefaultMaxBody          = 64 << 10  // JSON request bodies
	DefaultMaxUpload        = 256 << 20 // a .safetensors upload
	DefaultMaxSample        = 8 << 20   // one sample image upload
	DefaultMaxJobsPerClient = 4         // queued or running jobs per client address
	DefaultMaxSSE           = 256       // concurrent event streams: a classroom of 64 with DefaultMaxSSEPerClient each (32 let 8 students refuse all others)
	DefaultMaxSSEPerClient  = 4         // concurrent event streams of one client address
	DefaultMaxSSEDuration   = time.Hour // an event stream then ends (the page opens it again)
	// DefaultMaxBodies request bodies are read at once: a sample's is
	// held in memory, so 32 of them take at most 256 MiB (32 ×
	// DefaultMaxSample), and the page sends one at a time, so a
	// classroom of 32 uploading together is served.
	DefaultMaxBodies = 32
	// DefaultMaxBodiesPerClient of them are one client address's: a
	// client that sends a byte every BodyTimeout holds its place for
	// minutes (256 MB at DefaultMinBodyRate: 17), so one alone could
	// take every place; the page sends one at a time, and a classroom
	// behind one address (a NAT) still gets 8.
	DefaultMaxBodiesPerClient = 8
	DefaultBodyTimeout        = 15 * time.Second
	DefaultMinBodyRate        = 256 << 10 // bytes a second: 256 MB in 17 minutes
	MaxImageSide              = 4096      // largest width or height of a sample image
)

// Config configures the API. Zero values take the defaults above.
type Config struct {
	DataDir string // the data directory (created if needed)
	Token   string // when set, writes need "Authorization: Bearer Token"
	Version string // the build's version, for /api/health and the models' provenance
	// Hosts is the allow-list of the Host header (see Hosts); nil allows
	// loopback names and IP literals only.
	Hosts *Hosts
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client of the per-client limits (ParseTrustedProxies); none:
	// every client is its connection's peer, as no header is read.
	TrustedProxies []netip.Prefix

	MaxBody          int64 // bytes of a JSON request body
	MaxUpload        int64 // bytes of an uploaded model file
	MaxSample        int64 // bytes of an uploaded sample (the whole multipart body)
	MaxJobsPerClient int   // queued or running jobs per client address
	// MaxBodies is how many request bodies (model and sample uploads,
	// new jobs) are read at once, and MaxBodiesPerClient how many of
	// them of one client address; a further one is answered 503 unread.
	MaxBodies          int
	MaxBodiesPerClient int
	// MaxJobMemory bounds the memory a CPU job's training may take
	// (job.Job.TrainBytes), in bytes; 0 takes DefaultMaxJobMemory, < 0
	// sets no bound.
	MaxJobMemory    int64
	MaxSSE          int // concurrent event streams, all clients together
	MaxSSEPerClient int // concurrent event streams of one client address
	// MaxSSEDuration is how long an event stream lasts at most.
	MaxSSEDuration time.Duration
	// A request body may wait BodyTimeout for each read, and take
	// BodyTimeout plus one second per MinBodyRate bytes in all.
	BodyTimeout time.Duration
	MinBodyRate int64
	// WriteTimeout is the HTTP server's (http.Server.WriteTimeout): a
	// model's download, and the answer to its upload, get more when their
	// size at MinBodyRate needs more, never less. 0: their size's time.
	WriteTimeout time.Duration

	CheckpointEvery int           // steps between checkpoints; 0: jobs.DefaultCheckpointEvery
	ProgressEvery   time.Duration // least time between progress events; 0: jobs.DefaultProgressEvery
	JobOptions      job.Options   // options of the training jobs (Version is set from Version)
	// CUDA makes the engine of jobs on device "cuda"; nil: the server
	// trains on the CPU only.
	CUDA core.EngineFunc
	// Load, when not nil, replaces the data sets a job may name (tests);
	// nil: "mnist" and the uploaded data sets (jobs.StoreLoader). in is
	// the request's Input, zero when it names none; note is the job's
	// note on what the load skipped (jobs.Loader, of no files: a resumed
	// job loads it whole).
	Load func(name string, in core.Input) (train, test *data.Set, note string, err error)

	// ProbeCUDA finds the CUDA device for GET /api/devices, once; nil:
	// cuda.Open.
	ProbeCUDA func() (name string, err error)

	Logger *log.Logger // nil: log.Default()
}

// withDefaults returns c with its zero fields set to the defaults.
func (c Config) withDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.MaxUpload <= 0 {
		c.MaxUpload = DefaultMaxUpload
	}
	if c.MaxSample <= 0 {
		c.MaxSample = DefaultMaxSample
	}
	if c.MaxJobsPerClient <= 0 {
		c.MaxJobsPerClient = DefaultMaxJobsPerClient
	}
	if c.MaxBodies <= 0 {
		c.MaxBodies = DefaultMaxBodies
	}
	if c.MaxBodiesPerClient <= 0 {
		c.MaxBodiesPerClient = DefaultMaxBodiesPerClient
	}
	if c.MaxJobMemory == 0 {
		c.MaxJobMemory = DefaultMaxJobMemory()
	}
	if c.MaxSSE <= 0 {
		c.MaxSSE = DefaultMaxSSE
	}
	if c.MaxSSEPerClient <= 0 {
		c.MaxSSEPerClient = DefaultMaxSSEPerClient
	}
	if c.MaxSSEDuration <= 0 {
		c.MaxSSEDuration = DefaultMaxSSEDuration
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = DefaultBodyTimeout
	}
	if c.MinBodyRate <= 0 {
		c.MinBodyRate = DefaultMinBodyRate
	}
	if c.Logger == nil {
		c.Logger = log.Default()
	}

	if c.JobOptions.Version == "" {
		c.JobOptions.Version = c.Version
	}
	return c
}

// DefaultMaxJobMemory is half of the memory this server may use: the
// smaller of MemTotal in /proc/meminfo and a cgroup v2 limit
// (/sys/fs/cgroup/memory.max, a container's), or 8 GiB where neither can
// be read (other systems). A job that would take more is refused rather
// than left to exhaust the server's memory.
func DefaultMaxJobMemory() int64 {
	var total int64
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			var kb int64
			if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil && kb > 0 {
				total = kb << 10
			}
		}
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		var limit int64
		if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d", &limit); err == nil && limit > 0 && (total == 0 || limit < total) {
			total = limit // "max" (no limit) does not scan
		}
	}
	if total == 0 {
		return 8 << 30
	}
	return total / 2
}

// RequireToken decides the token of a server listening on addr
// (host:port) with token given by the user. Listening on a loopback
// address (127.0.0.0/8, ::1, localhost) needs no token: token is returned
// as given, possibly empty. Listening on any other address (0.0.0.0, a
// LAN address, an empty host) needs one: a given token is returned as is,
// and a missing one is generated (128 random bits, hex) and generated is
// true, so that the caller prints it. An addr that is not host:port, or a
// token other than printable ASCII without spaces, is an error.
func RequireToken(addr, token string) (tok string, generated bool, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false, fmt.Errorf("address %q: %v", addr, err)
	}
	if err := msg.CheckToken(token); err != nil {
		return "", false, err
	}
	if token != "" || isLoopback(host) {
		return token, false, nil
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", false, err
	}
	return hex.EncodeToString(b[:]), true, nil
}

// isLoopback reports whether host names only the loopback interface.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
