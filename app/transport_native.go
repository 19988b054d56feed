//go:build !js

package app

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
)

// maxEventLine is the longest "data:" line of an event stream ReadEvents
// reads: a snapshot of a few thousand 128-dimensional points fits.
const maxEventLine = 32 << 20

// HandlerTransport returns a Transport that calls h in process, as a page
// served from http://localhost would (Host localhost, a loopback peer):
// the page's client natively, against a fake server in the page's tests
// and against the real API in the server's contract test.
func HandlerTransport(h http.Handler) Transport { return handlerTransport{h} }

type handlerTransport struct{ h http.Handler }

// Do serves r with the handler and returns its recorded answer.
func (t handlerTransport) Do(ctx context.Context, r Request) (Response, error) {
	req, err := httpRequest(ctx, r)
	if err != nil {
		return Response{}, err
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return Response{Status: rec.Code, RetryAfter: rec.Header().Get("Retry-After"), Body: rec.Body.Bytes()}, nil
}

// Events serves GET path on a goroutine and reads its answer as it is
// written, as EventSource does.
func (t handlerTransport) Events(ctx context.Context, path string, each func(data string)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := httpRequest(ctx, Request{Method: "GET", Path: path})
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	pr, pw := io.Pipe()
	w := &streamWriter{header: http.Header{}, pw: pw, started: make(chan struct{})}
	go func() {
		t.h.ServeHTTP(w, req)
		w.start(http.StatusOK)
		pw.Close()
	}()
	<-w.started
	if w.status != http.StatusOK || !strings.HasPrefix(w.header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(io.LimitReader(pr, 64<<10))
		cancel()
		io.Copy(io.Discard, pr)
		return responseError(Response{Status: w.status, Body: b})
	}
	err = ReadEvents(pr, each)
	cancel()
	io.Copy(io.Discard, pr)
	if ctx.Err() != nil && err == nil {
		return nil
	}
	return err
}

// streamWriter is an http.ResponseWriter that streams the body into a
// pipe, and says when the status is known.
type streamWriter struct {
	header  http.Header
	status  int
	pw      *io.PipeWriter
	started chan struct{}
}

func (w *streamWriter) Header() http.Header { return w.header }

func (w *streamWriter) WriteHeader(status int) { w.start(status) }

func (w *streamWriter) Write(b []byte) (int, error) {
	w.start(http.StatusOK)
	return w.pw.Write(b)
}

// Flush is there for http.ResponseController: writes are unbuffered.
func (w *streamWriter) Flush() {}

func (w *streamWriter) start(status int) {
	if w.status != 0 {
		return
	}
	w.status = status
	close(w.started)
}

// httpRequest returns r as an *http.Request to http://localhost.
func httpRequest(ctx context.Context, r Request) (*http.Request, error) {
	var body io.Reader
	contentType := ""
	switch {
	case r.Form != nil:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for _, p := range r.Form {
			if p.FileName == "" {
				if err := mw.WriteField(p.Name, p.Value); err != nil {
					return nil, err
				}
				continue
			}
			fw, err := mw.CreateFormFile(p.Name, p.FileName)
			if err != nil {
				return nil, err
			}
			fw.Write(p.File)
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
		body, contentType = &buf, mw.FormDataContentType()
	case r.JSON != nil:
		body, contentType = bytes.NewReader(r.JSON), "application/json"
	case r.Body != nil:
		body, contentType = bytes.NewReader(r.Body), "application/octet-stream"
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, "http://localhost"+r.Path, body)
	if err != nil {
		return nil, err
	}
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	return req, nil
}

// ReadEvents reads a Server-Sent Events stream from r and calls each with
// the data of every event: its "data:" lines joined by newlines, as the
// browser's EventSource does. Comments (": ping"), other fields and events
// without data are skipped.
func ReadEvents(r io.Reader, each func(data string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	var data []string
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			if data != nil {
				each(strings.Join(data, "\n"))
				data = nil
			}
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		if field == "data" {
			data = append(data, strings.TrimPrefix(value, " "))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("app: reading the job's events: %w", err)
	}
	return nil
}

// NewClient returns, outside a browser, a client whose calls all fail:
// the pages call the server only in a browser, and tests give a page a
// client of HandlerTransport.
func NewClient() *Client { return &Client{T: noTransport{}} }

// noTransport is the Transport of a page outside a browser.
type noTransport struct{}

var errNoBrowser = fmt.Errorf("app: no browser to call the server from")

func (noTransport) Do(context.Context, Request) (Response, error) { return Response{}, errNoBrowser }

func (noTransport) Events(context.Context, string, func(string)) error { return errNoBrowser }
