package api

import (
	"errors"
	"io"
	"math"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// ServeContent is http.ServeContent for content of size bytes, except that
// a Range of another unit than bytes is ignored and the unit's name is
// read in any case (see rangeOfBytes), a position of more digits than
// int64 holds is read as a number past the end (see withinInt64), a
// range of the last 0 bytes ("bytes=-0") is not satisfiable (see
// withoutEmptySuffixes), and a 412 goes without the content's caching
// and encoding (see failedPrecondition). The server's other files go
// through it too.
func ServeContent(w http.ResponseWriter, r *http.Request, name string, modtime time.Time, content io.ReadSeeker, size int64) {
	if r.Header.Get("If-Match") != "" || r.Header.Get("If-Unmodified-Since") != "" {
		w = failedPrecondition{w}
	}
	rg, changed := rangeOfBytes(r.Header.Get("Range"))
	if within, ok := withinInt64(rg, size); ok {
		rg, changed = within, true
	}
	if kept, ok := withoutEmptySuffixes(rg, size); ok {
		rg, changed = kept, true
	}
	if changed {
		r = r.Clone(r.Context())
		if rg == "" {
			r.Header.Del("Range")
		} else {
			r.Header.Set("Range", rg)
		}
	}
	http.ServeContent(w, r, name, modtime, content)
}

// rangeOfBytes returns the Range header rg with its unit spelt "bytes",
// as net/http reads it, or "" when it names another unit, and whether
// that changed rg. Range units are case-insensitive, and a server must
// ignore a Range of a unit it does not know (RFC 9110, 14.1 and 14.2):
// net/http answered 416 to "Bytes=0-9" and to "items=0-9". A Range
// without "=" is malformed: "bytes" stays, for net/http's 416, and any
// other is ignored, as RFC 9110 lets a server do with an invalid Range.
func rangeOfBytes(rg string) (string, bool) {
	unit, set, hasSet := strings.Cut(rg, "=")
	switch {
	case rg == "" || unit == "bytes":
		return rg, false
	case !strings.EqualFold(unit, "bytes"):
		return "", true
	case hasSet:
		return "bytes=" + set, true
	}
	return rg, false
}

// withinInt64 returns the byte ranges rg with each position too large
// for an int64 written as one that means the same for content of size
// bytes, and whether it had any. RFC 9110 (14.1.2) bounds no position: a
// last position past the end asks for the rest of the content, a suffix
// longer than the content for all of it, and a first position past the
// end is unsatisfiable, the range skipped when another one is not. Where
// the number passed int64, http.ServeContent answered 416 to the whole
// Range ("bytes=0-99999999999999999999"). Now such a last position is
// left out ("0-": the rest), a suffix becomes the size ("-SIZE": all),
// and a first position becomes the size ("SIZE-": past the end).
func withinInt64(rg string, size int64) (string, bool) {
	set, ok := strings.CutPrefix(rg, "bytes=")
	if !ok {
		return rg, false
	}
	tooLarge := func(s string) bool {
		n, err := strconv.ParseInt(textproto.TrimString(s), 10, 64)
		return errors.Is(err, strconv.ErrRange) && n == math.MaxInt64 // not MinInt64: "-" and digits
	}
	specs := strings.Split(set, ",")
	changed := false
	for i, spec := range specs {
		start, end, ok := strings.Cut(spec, "-")
		switch {
		case !ok:
		case textproto.TrimString(start) == "" && tooLarge(end):
			specs[i] = "-" + strconv.FormatInt(size, 10)
		case tooLarge(start):
			specs[i] = strconv.FormatInt(size, 10) + "-"
		case tooLarge(end):
			specs[i] = start + "-"
		default:
			continue
		}
		changed = true
	}
	if !changed {
		return rg, false
	}
	return "bytes=" + strings.Join(specs, ","), true
}

// withoutEmptySuffixes returns the byte ranges rg without its suffix
// ranges of length 0 ("-0", "- 00", "-+0"), and whether it had any. Such
// a range is unsatisfiable (RFC 9110, 14.1.1), but http.ServeContent
// answers it with a 206 of no bytes and "Content-Range: bytes
// N-(N−1)/N". The elements are read as net/http reads them: trimmed of
// spaces and tabs, empty ones skipped. When no range is left, the result
// asks for one that starts at the end of the size bytes, which
// ServeContent refuses with a 416 (after If-Range, which may still turn
// the answer into the whole file; for an empty file it answers 200, as it
// does any range of one).
func withoutEmptySuffixes(rg string, size int64) (string, bool) {
	set, ok := strings.CutPrefix(rg, "bytes=")
	if !ok {
		return rg, false
	}
	var kept []string
	dropped := false
	for _, spec := range strings.Split(set, ",") {
		spec = textproto.TrimString(spec)
		if spec == "" {
			continue
		}
		start, end, ok := strings.Cut(spec, "-")
		end = textproto.TrimString(end)
		if ok && textproto.TrimString(start) == "" && !strings.HasPrefix(end, "-") {
			if n, err := strconv.ParseInt(end, 10, 64); err == nil && n == 0 {
				dropped = true
				continue
			}
		}
		kept = append(kept, spec)
	}
	switch {
	case !dropped:
		return rg, false
	case len(kept) == 0:
		return "bytes=" + strconv.FormatInt(size, 10) + "-", true
	}
	return "bytes=" + strings.Join(kept, ","), true
}

// failedPrecondition is the ResponseWriter of a request that may fail
// its If-Match or If-Unmodified-Since: its 412 goes without the headers
// set for the content, as http.ServeContent answers its other errors
// (416, 500) since Go 1.23. It kept them for a 412: an empty answer said
// Content-Encoding: br, and one of a versioned binary Cache-Control:
// immutable for a year.
type failedPrecondition struct{ http.ResponseWriter }

func (f failedPrecondition) WriteHeader(code int) {
	if code == http.StatusPreconditionFailed {
		for _, k := range []string{"Cache-Control", "Content-Encoding", "Etag", "Last-Modified"} {
			f.Header().Del(k)
		}
	}
	f.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (f failedPrecondition) Unwrap() http.ResponseWriter { return f.ResponseWriter }
