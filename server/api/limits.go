//go:build !js

package api

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// Slow clients. At most MaxBodies request bodies are read at once, and
// MaxBodiesPerClient of one client address (a further one is answered
// 503 unread, see errBusy). A request body must keep coming: each read
// may wait at most BodyTimeout for data, and the whole body may take
// BodyTimeout plus one second per MinBodyRate bytes of what it declares,
// after which the read fails and the answer is 408.
// Event streams have no read or write deadline of their own (they last);
// each event must be taken within sseWriteTimeout, a comment every
// sseHeartbeat keeps idle streams open, and a stream ends after
// MaxSSEDuration (the page opens it again).

// bodyReader is a request body whose reads extend the connection's read
// deadline while data comes, up to a total.
type bodyReader struct {
	io.ReadCloser
	rc       *http.ResponseController
	idle     time.Duration
	deadline time.Time
}

// body returns r's body to read, at most max bytes in the time the
// package's Slow clients give it, and release, which gives back its place
// among the bodies read at once (the caller defers it); or the error that
// refuses it unread: a declared length over max (413), a content coding
// (415, see errEncoded), or MaxBodies already being read, or
// MaxBodiesPerClient of r's client (503, see errBusy).
func (s *Server) body(w http.ResponseWriter, r *http.Request, max int64) (body io.ReadCloser, release func(), err error) {
	for _, v := range r.Header.Values("Content-Encoding") {
		for _, c := range strings.Split(v, ",") {
			if c = textproto.TrimString(c); c != "" && !strings.EqualFold(c, "identity") {
				w.Header().Set("Accept-Encoding", "identity") // RFC 9110, 12.5.3: tells a coding's 415 from a media type's
				return nil, nil, errEncoded
			}
		}
	}
	if r.ContentLength > max {
		return nil, nil, &http.MaxBytesError{Limit: max}
	}
	client := s.clientOf(r)
	if err := s.bodies.open(client, s.cfg.MaxBodies, s.cfg.MaxBodiesPerClient); err != nil {
		w.Header().Set("Retry-After", busyRetry)
		return nil, nil, err
	}
	return http.MaxBytesReader(w, s.slowBodies(w, r, max), max), func() { s.bodies.close(client) }, nil
}

// errBusy is the answer to a body when MaxBodies are being read: each
// may take minutes at the least rate, and a sample's is held in memory,
// so a client that opens many slow uploads would otherwise hold memory and
// goroutines without bound. It is answered at once, with Retry-After
// (busyRetry seconds: the page's uploads, a sample or a job, take less).
// errBusyClient is the answer when the body's client has
// MaxBodiesPerClient being read: a client that declares 256 MB and sends
// a byte every 14 s holds its place 17 minutes, so one client alone
// would otherwise take every place, and nobody else could upload.
var (
	errBusy       = &apiError{http.StatusServiceUnavailable, "the server is reading too many uploads at once: try again in a few seconds"}
	errBusyClient = &apiError{http.StatusServiceUnavailable, "the server is reading too many uploads from this address at once: try again in a few seconds"}
)

// busyRetry is the Retry-After of errBusy and errBusyClient, in seconds.
const busyRetry = "5"

// decodeWait is how long a sample's upload or a new job waits for one of
// the decodings at once (Server.decodes) before it is answered
// errBusyDecoding: long enough for a classroom's samples sent together
// (32 of 4096×4096 pixels took 6 s on 2 cores), short enough that
// requests do not queue without end behind the checks of jobs on large
// data sets.
const decodeWait = 30 * time.Second

// decodeBytes is the most memory one decoding may take, from the caps:
// a job's check holds its float32 copy of the image before (three planes
// at most, 12 bytes a pixel) while the next one decodes, which takes up
// to 24 bytes a pixel (a progressive JPEG of four components: its
// coefficients, 16, its planes, 4, and its RGBA result, 4; a 16-bit RGBA
// PNG, 8), so 576 MiB at MaxImageSide a side, and twice that, 1152 MiB,
// as the garbage collector lets the heap grow to twice what is live
// (GOGC=100) before it collects.
const decodeBytes = 2 * (12 + 24) * MaxImageSide * MaxImageSide

// decodeSlots is how many decodings run at once (Server.decodes) on cores
// with memory bytes for them: one per core, no more than memory holds at
// decodeBytes each, and at least one.
func decodeSlots(cores int, memory int64) int {
	return max(1, min(cores, int(memory/decodeBytes)))
}

// errBusyDecoding is the answer to a sample's upload or a new job that
// found every decoding slot (Server.decodes) taken for decodeWait. A
// decoding may hold hundreds of MiB (a 4096×4096 image, and its copy in
// float32), and a new job's check decodes its whole uploaded data set:
// 16 jobs of one client address submitted at once, on a data set of 8
// such images, took a fresh server on 2 cores to 4.4 GB resident at its
// peak (VmHWM), and 0.96 GB with the checks in the slots (4 jobs: 1.15
// and 0.89 GB). It comes with Retry-After (busyRetry), as errBusy.
var errBusyDecoding = &apiError{http.StatusServiceUnavailable, "the server is decoding too many images at once: try again in a few seconds"}

// takeDecode takes a slot of Server.decodes for r, which the caller gives
// back (<-s.decodes) once its decoding is done, and reports true; or it
// answers r errBusyDecoding when none frees within s.decodeWait, or
// leaves r unanswered when its client left while it waited, and reports
// false.
func (s *Server) takeDecode(w http.ResponseWriter, r *http.Request) bool {
	wait := time.NewTimer(s.decodeWait)
	defer wait.Stop()
	select {
	case s.decodes <- struct{}{}:
		return true
	case <-wait.C:
		w.Header().Set("Retry-After", busyRetry)
		s.fail(w, r, errBusyDecoding)
	case <-r.Context().Done():
	}
	return false
}

// errEncoded is the answer to a body in a content coding (gzip, br): the
// server takes bodies as they come, and a gzipped model was stored, then
// refused as "not a valid safetensors file" (a job's as invalid JSON, a
// sample's as a malformed multipart body).
var errEncoded = &apiError{http.StatusUnsupportedMediaType, "the request body must not be compressed: send it as it is, without Content-Encoding"}

// slowBodies bounds the time r's body may take (see the package's Slow
// clients); declared is the body's length when known (else max, the most
// it may be). It returns the body to read.
func (s *Server) slowBodies(w http.ResponseWriter, r *http.Request, max int64) io.ReadCloser {
	n := r.ContentLength
	if n < 0 || n > max {
		n = max
	}
	return &bodyReader{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: s.cfg.BodyTimeout, deadline: time.Now().Add(s.bodyTime(n))}
}

// bodyTime is the time n bytes may take at the least rate: BodyTimeout
// plus one second per MinBodyRate bytes.
func (s *Server) bodyTime(n int64) time.Duration {
	return s.cfg.BodyTimeout + time.Duration(float64(n)/float64(s.cfg.MinBodyRate)*float64(time.Second))
}

// extendWrite lets the answer of w take d from now, or the server's
// write timeout (Config.WriteTimeout) when that is longer: a model's file
// at the least rate may need more than the server's timeout, and a small
// one never gets less than any other answer.
func (s *Server) extendWrite(w http.ResponseWriter, d time.Duration) {
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(max(d, s.cfg.WriteTimeout))) // not supported by a recorder: none, as before
}

func (b *bodyReader) Read(p []byte) (int, error) {
	d := time.Now().Add(b.idle)
	if d.After(b.deadline) {
		d = b.deadline
	}
	b.rc.SetReadDeadline(d) // not supported by a recorder: no deadline, as before
	n, err := b.ReadCloser.Read(p)
	var ne net.Error
	switch {
	case err == nil || err == io.EOF || isTimeout(err): // a deadline's: 408
	case err == io.ErrUnexpectedEOF || errors.As(err, &ne): // the connection closed, or was reset, before the body's end
		err = errCutBody
	default: // net/http's reading of the chunks ("invalid byte in chunk length")
		err = errBadChunks
	}
	return n, err
}

// isTimeout reports whether err is a read that ran past its deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// errSlowBody is the answer to a body that came too slowly.
var errSlowBody = &apiError{http.StatusRequestTimeout, "the request body came too slowly"}

// errCutBody is the answer to a body that ended before its length (its
// Content-Length, or its last chunk) because the client closed the
// connection, or reset it (a model upload's reset was a 500 "internal
// error", logged as the server's).
var errCutBody = &apiError{http.StatusBadRequest, "the request body was cut off before its end"}

// errBadChunks is the answer to a chunked body whose chunks are not
// written as HTTP/1.1 says (a length not in hex, a chunk longer than its
// length). It was an internal error, a model upload's logged as the
// server's.
var errBadChunks = &apiError{http.StatusBadRequest, "the request body's chunked encoding is malformed"}

// isBodyError reports whether err is one of the body's own: too large,
// too slow, cut off or of malformed chunks (which fail answers as they
// are).
func isBodyError(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb) || isTimeout(err) || errors.Is(err, errCutBody) || errors.Is(err, errBadChunks)
}

// streams counts what is open at once, in all and by client: the event
// streams (Server.sse), and the request bodies being read (Server.bodies).
type streams struct {
	full, fullClient error // the answers when there are max in all, or perClient of a client's

	mu       sync.Mutex
	total    int
	byClient map[string]int
}

// errManyStreams and errManyStreamsClient are the answers to an event
// stream when MaxSSE are open, or MaxSSEPerClient of its client's.
var (
	errManyStreams       = &apiError{http.StatusTooManyRequests, "too many event streams open"}
	errManyStreamsClient = &apiError{http.StatusTooManyRequests, "too many event streams open from this address"}
)

// open takes a place for client unless there are max in all or
// perClient of client's; it returns the reason (full, fullClient) when it
// cannot.
func (st *streams) open(client string, max, perClient int) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.total >= max:
		return st.full
	case st.byClient[client] >= perClient:
		return st.fullClient
	}
	if st.byClient == nil {
		st.byClient = make(map[string]int)
	}
	st.total++
	st.byClient[client]++
	return nil
}

// close gives back a place of client.
func (st *streams) close(client string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.total--
	if st.byClient[client]--; st.byClient[client] <= 0 {
		delete(st.byClient, client)
	}
}
