package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"metriclab/core/msg"
)

// Request is one call of the server's API, as a Transport sends it.
type Request struct {
	Method string
	Path   string     // from the server's root: "/api/jobs", with its query
	JSON   []byte     // a JSON body, or nil
	Form   []FormPart // a multipart/form-data body, or nil
	Body   []byte     // a body of bytes as they are (application/octet-stream), or nil
	Token  string     // the bearer token of a write in classroom mode; "" for none
	// Progress, when not nil, is told the bytes of the body sent so far
	// of all of them as they go, where the transport can tell: the
	// browser's XMLHttpRequest can, fetch cannot (fetch_js.go). Again
	// from 0 when the call is sent again (Client.do).
	Progress func(sent, total int64)
}

// FormPart is one part of a multipart/form-data body: a field (Value), or
// a file (File, with FileName and its MIME Type).
type FormPart struct {
	Name     string
	Value    string
	File     []byte
	FileName string
	Type     string
}

// Response is the server's answer: its status, its Retry-After header
// ("" without one) and body.
type Response struct {
	Status     int
	RetryAfter string
	Body       []byte
}

// Transport sends the page's API calls. In the browser it is the window's
// fetch and EventSource (fetch_js.go), so that app.wasm carries no
// net/http; natively, HandlerTransport calls an http.Handler in process,
// for tests (of the page against a fake server, and of the page's client
// against the real one).
type Transport interface {
	// Do sends r and returns the answer, whatever its status; an error
	// means there was no answer.
	Do(ctx context.Context, r Request) (Response, error)
	// Events reads the Server-Sent Events at path and calls each with the
	// data of every event (its "data:" lines joined by newlines) until the
	// stream ends (nil), cannot be opened or fails (an error), or ctx is
	// done (ctx.Err()).
	Events(ctx context.Context, path string, each func(data string)) error
}

// Client calls the server's API through T. Token, when not nil, gives the
// bearer token of the writes (the classroom token, kept for the tab's
// session: see TokenField).
type Client struct {
	T     Transport
	Token func() string

	waiting func(wait time.Duration) // see Waiting
}

// A call the server answers 503 with a Retry-After in seconds (server/api
// does when it reads too many bodies, or decodes too many images, at
// once: it stored nothing)
// is sent again after those seconds: maxTries times in all at most, with
// maxRetryWait of waits in all at most, and only where the call's
// deadline leaves the wait; past that, the error is the server's. No
// other answer is sent again, nor a call that got none.
const (
	maxTries     = 3
	maxRetryWait = 30 * time.Second
)

// Waiting returns a copy of c that tells wait, before each call it sends
// again, how long it waits first, and 0 as it sends it: the page says so
// (waitNote). wait is called on the call's goroutine.
func (c *Client) Waiting(wait func(time.Duration)) *Client {
	w := *c
	w.waiting = wait
	return &w
}

// waitNote is a page's note of a call that its client's Waiting tells
// of: it is doing it again ("sending") after wait, or now (0).
func waitNote(doing string, wait time.Duration) string {
	if wait == 0 {
		return doing + "…"
	}
	return fmt.Sprintf("the server is busy: %s again in %d s…", doing, int(wait/time.Second))
}

// Models returns the cards of the server's models.
func (c *Client) Models(ctx context.Context) ([]msg.ModelCard, error) {
	var cards []msg.ModelCard
	err := c.call(ctx, Request{Method: "GET", Path: "/api/models"}, &cards)
	return cards, err
}

// DeleteModel deletes the model id from the registry (its file too).
func (c *Client) DeleteModel(ctx context.Context, id string) error {
	return c.call(ctx, Request{Method: "DELETE", Path: "/api/models/" + url.PathEscape(id)}, nil)
}

// UploadModel registers the .safetensors file b under name ("" for the
// server's "uploaded model"): POST /api/models?name=, the file as the
// body. The server checks the file, and refuses a name another model has
// (409).
func (c *Client) UploadModel(ctx context.Context, name string, b []byte) (msg.ModelCard, error) {
	return c.UploadModelProgress(ctx, name, b, nil)
}

// UploadModelProgress is UploadModel telling progress, when not nil, the
// bytes of b sent so far (Request.Progress): the Models page's upload.
func (c *Client) UploadModelProgress(ctx context.Context, name string, b []byte, progress func(sent, total int64)) (msg.ModelCard, error) {
	path := "/api/models"
	if name != "" {
		path += "?name=" + url.QueryEscape(name)
	}
	var card msg.ModelCard
	err := c.call(ctx, Request{Method: "POST", Path: path, Body: b, Progress: progress}, &card)
	return card, err
}

// RenameModel names the model id name: POST
// /api/models/{id}/rename?name=, which refuses a name another model has
// (409) as an upload does.
func (c *Client) RenameModel(ctx context.Context, id, name string) (msg.ModelCard, error) {
	var card msg.ModelCard
	err := c.call(ctx, Request{Method: "POST", Path: "/api/models/" + url.PathEscape(id) + "/rename?name=" + url.QueryEscape(name)}, &card)
	return card, err
}

// Jobs returns the server's jobs.
func (c *Client) Jobs(ctx context.Context) ([]msg.Job, error) {
	var jobs []msg.Job
	err := c.call(ctx, Request{Method: "GET", Path: "/api/jobs"}, &jobs)
	return jobs, err
}

// Submit queues the training job req and returns its id. Its body says
// every field that req's preset sets (msg.JobBody): the server fills a
// field left out from the preset, and req's is what trains.
func (c *Client) Submit(ctx context.Context, req msg.TrainRequest) (string, error) {
	b, err := msg.JobBody(req)
	if err != nil {
		return "", err
	}
	var created msg.Created
	if err := c.call(ctx, Request{Method: "POST", Path: "/api/jobs", JSON: b}, &created); err != nil {
		return "", err
	}
	if created.ID == "" {
		return "", &AnswerError{Method: "POST", Path: "/api/jobs", Err: errors.New("the server accepted the job but gave no id")}
	}
	return created.ID, nil
}

// Cancel cancels the job id.
func (c *Client) Cancel(ctx context.Context, id string) error {
	return c.call(ctx, Request{Method: "DELETE", Path: "/api/jobs/" + url.PathEscape(id)}, nil)
}

// RemoveJob removes the record of the job id, which has ended (done,
// failed or canceled): DELETE /api/jobs/{id}?remove=1, 204. Its model
// stays. A job queued, running or interrupted (resumed since) is a 409.
func (c *Client) RemoveJob(ctx context.Context, id string) error {
	return c.call(ctx, Request{Method: "DELETE", Path: "/api/jobs/" + url.PathEscape(id) + "?remove=1"}, nil)
}

// Resume queues the interrupted job id again.
func (c *Client) Resume(ctx context.Context, id string) error {
	return c.call(ctx, Request{Method: "POST", Path: "/api/jobs/" + url.PathEscape(id) + "/resume"}, nil)
}

// Events reads the event stream of job id, calling each with the data of
// every event (a msg.Message as JSON), until the stream ends or ctx is
// done.
func (c *Client) Events(ctx context.Context, id string, each func(data string)) error {
	return c.T.Events(ctx, "/api/jobs/"+url.PathEscape(id)+"/events", each)
}

// ModelFile returns the .safetensors file of model id.
func (c *Client) ModelFile(ctx context.Context, id string) ([]byte, error) {
	return c.Bytes(ctx, ModelFileURL(id))
}

// Datasets returns the server's data sets: MNIST (Builtin) when the
// server has it, and each image folder with its identities and images.
func (c *Client) Datasets(ctx context.Context) ([]msg.Dataset, error) {
	var sets []msg.Dataset
	err := c.call(ctx, Request{Method: "GET", Path: "/api/datasets"}, &sets)
	return sets, err
}

// UploadSample adds one image (PNG bytes) of identity to the server's
// image-folder data set dataset: POST /api/datasets/{dataset}/samples,
// multipart with "identity" and "image". The answer's Existed says the
// server held that image of identity already, and added nothing.
func (c *Client) UploadSample(ctx context.Context, dataset, identity string, png []byte) (msg.Sample, error) {
	var s msg.Sample
	err := c.call(ctx, Request{Method: "POST", Path: "/api/datasets/" + url.PathEscape(dataset) + "/samples", Form: []FormPart{
		{Name: "identity", Value: identity},
		{Name: "image", File: png, FileName: "snapshot.png", Type: "image/png"},
	}}, &s)
	return s, err
}

// Bytes returns the body of GET path (a file of the server: a model, a
// cascade).
func (c *Client) Bytes(ctx context.Context, path string) ([]byte, error) {
	resp, err := c.do(ctx, Request{Method: "GET", Path: path})
	if err != nil {
		return nil, unreachable(err)
	}
	if resp.Status != 200 {
		return nil, responseError(resp)
	}
	return resp.Body, nil
}

// call sends r, with the token on writes, and decodes a 2xx answer into
// out (when not nil). Any other answer is an error with the server's
// {"error"} text.
func (c *Client) call(ctx context.Context, r Request, out any) error {
	if r.Method != "GET" && c.Token != nil {
		r.Token = c.Token()
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return unreachable(err)
	}
	if resp.Status < 200 || resp.Status > 299 {
		return responseError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return &AnswerError{Method: r.Method, Path: r.Path, Err: err}
	}
	return nil
}

// do sends r through T, and again while the server answers that it is
// busy (see maxTries). A wait that ctx ends returns the busy answer.
func (c *Client) do(ctx context.Context, r Request) (Response, error) {
	var waited time.Duration
	for try := 1; ; try++ {
		resp, err := c.T.Do(ctx, r)
		wait, busy := retryAfter(resp)
		deadline, ok := ctx.Deadline()
		late := ok && time.Now().Add(wait).After(deadline) // it could not be sent again in time
		if err != nil || !busy || late || try == maxTries || waited+wait > maxRetryWait {
			return resp, err
		}
		if c.waiting != nil {
			c.waiting(wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return resp, nil
		}
		waited += wait
		if c.waiting != nil {
			c.waiting(0)
		}
	}
}

// retryAfter returns the wait that a busy answer asks for: a 503 with a
// Retry-After in seconds, of maxRetryWait at most (a date is not taken).
func retryAfter(resp Response) (wait time.Duration, busy bool) {
	n, err := strconv.Atoi(resp.RetryAfter)
	if resp.Status != 503 || err != nil || n < 0 || time.Duration(n) > maxRetryWait/time.Second {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// AnswerError is a call's error when the server took the request (a 2xx
// status) but its answer could not be read: what the request asked may
// have been done.
type AnswerError struct {
	Method, Path string
	Err          error
}

func (e *AnswerError) Error() string {
	return fmt.Sprintf("app: bad answer from %s %s: %v", e.Method, e.Path, e.Err)
}

func (e *AnswerError) Unwrap() error { return e.Err }

// unreachable wraps a transport's error: the server gave no answer
// (UnreachableError). A call its context ended stays ctx.Err().
func unreachable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &UnreachableError{Err: err}
}

// UnreachableError is a call's error when the server gave no answer: it
// is stopped, or the network is down. Its text is the same on every page,
// one line without the transport's own words: a browser's fetch says
// "TypeError: Failed to fetch", which tells a user nothing more, and
// Chromium, Firefox and Safari each word it their own way. Err keeps them.
type UnreachableError struct {
	Err error
}

func (e *UnreachableError) Error() string { return "the server could not be reached" }

func (e *UnreachableError) Unwrap() error { return e.Err }

// isUnreachable reports whether err is a call's that got no answer.
func isUnreachable(err error) bool {
	var u *UnreachableError
	return errors.As(err, &u)
}

// StatusError is a call's error when the server answered with a status
// that is not a success: a page tells a 404 (the thing is not there, or
// no longer) from a refusal by its Status.
type StatusError struct {
	Status int
	Text   string // the server's {"error": …}, on one line; "" when it sent none
}

func (e *StatusError) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("the server answered %d", e.Status)
	}
	return fmt.Sprintf("%s (%d)", e.Text, e.Status)
}

// responseError returns the error of an answer that is not a success: the
// server's {"error": …} text with the status, or the status alone. The
// text is one line by the API, but a server of another version or a proxy
// may send any: a page's note shows it as one all the same (msg.ErrorLine).
func responseError(resp Response) error {
	var e msg.ErrorBody
	if json.Unmarshal(resp.Body, &e) == nil && e.Error != "" {
		return &StatusError{Status: resp.Status, Text: msg.ErrorLine(e.Error)}
	}
	return &StatusError{Status: resp.Status}
}

// notFound reports whether err is the server's 404.
func notFound(err error) bool {
	var s *StatusError
	return errors.As(err, &s) && s.Status == 404
}
