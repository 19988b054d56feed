package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// Job states of the server (GET /api/jobs), beside the trainer states of
// run.go: a job waits in the queue, and one cut off by a cancel or by a
// restart of the server ends canceled or interrupted.
const (
	JobQueued      = "queued"
	JobRunning     = "running"
	JobDone        = "done"
	JobFailed      = "failed"
	JobCanceled    = "canceled"
	JobInterrupted = "interrupted"
)

// maxEventLine is the longest "data:" line of an event stream the page
// reads: a snapshot of a few thousand 128-dimensional points fits.
const maxEventLine = 32 << 20

// ModelCard is a model of the server's registry as GET /api/models gives
// it (the server's store.Card).
type ModelCard struct {
	ID         string                   `json:"id"`
	Name       string                   `json:"name"`
	Arch       string                   `json:"arch"`
	Loss       string                   `json:"loss"`
	LossParams map[string]float64       `json:"loss_params,omitempty"`
	Dim        int                      `json:"dim"`
	Input      ModelInput               `json:"input"`
	Classes    []string                 `json:"classes"`
	Threshold  float64                  `json:"threshold"` // cosine similarity
	FAR        float64                  `json:"far"`       // false accept rate at Threshold
	Metrics    *msg.VerificationSummary `json:"metrics"`   // nil for uploads
	Steps      int                      `json:"steps"`
	Data       string                   `json:"data"`
	JobID      string                   `json:"job_id,omitempty"`
	Size       int64                    `json:"size"` // bytes of the .safetensors file
	Created    string                   `json:"created"`
}

// ModelInput is the image a model takes: channels × height × width.
type ModelInput struct {
	Channels int `json:"channels"`
	Height   int `json:"height"`
	Width    int `json:"width"`
}

// Job is a training job of the server as GET /api/jobs gives it (the
// server's store.Job).
type Job struct {
	ID       string                   `json:"id"`
	Config   msg.TrainRequest         `json:"config"`
	State    string                   `json:"state"` // one of the Job* states
	Step     int                      `json:"step"`
	Steps    int                      `json:"steps"`
	Loss     float64                  `json:"loss"`
	Metrics  *msg.VerificationSummary `json:"metrics"`
	ModelID  string                   `json:"model_id"`
	CkptStep int                      `json:"checkpoint_step"`
	Error    string                   `json:"error,omitempty"`
	Created  string                   `json:"created"`
	Updated  string                   `json:"updated"`
}

// Client calls the server's API at Base (a scheme and host, no trailing
// slash), with Token as a bearer token on writes when the server is in
// classroom mode. Under js/wasm net/http goes through the browser's fetch,
// which streams response bodies, so that Events reads the event stream as
// it comes.
type Client struct {
	Base  string
	Token string
	HTTP  *http.Client // nil: http.DefaultClient
}

// NewClient returns a client of the server the page came from.
func NewClient() *Client {
	return &Client{Base: app.Window().Get("location").Get("origin").String()}
}

// Models returns the cards of the server's models.
func (c *Client) Models(ctx context.Context) ([]ModelCard, error) {
	var cards []ModelCard
	err := c.do(ctx, http.MethodGet, "/api/models", nil, &cards)
	return cards, err
}

// Jobs returns the server's jobs.
func (c *Client) Jobs(ctx context.Context) ([]Job, error) {
	var jobs []Job
	err := c.do(ctx, http.MethodGet, "/api/jobs", nil, &jobs)
	return jobs, err
}

// Submit queues the training job req and returns its id.
func (c *Client) Submit(ctx context.Context, req msg.TrainRequest) (string, error) {
	var created struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/jobs", req, &created); err != nil {
		return "", err
	}
	if created.ID == "" {
		return "", errors.New("the server accepted the job but gave no id")
	}
	return created.ID, nil
}

// Cancel cancels the job id.
func (c *Client) Cancel(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/jobs/"+url.PathEscape(id), nil, nil)
}

// Resume queues the interrupted job id again.
func (c *Client) Resume(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/api/jobs/"+url.PathEscape(id)+"/resume", nil, nil)
}

// Events reads the event stream of job id, calling each with the data of
// every event (a msg.Message as JSON), until the stream ends or ctx is
// done.
func (c *Client) Events(ctx context.Context, id string, each func(data string)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/api/jobs/"+url.PathEscape(id)+"/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return responseError(resp)
	}
	return ReadEvents(resp.Body, each)
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

// do sends a request of method to path with body (JSON, when not nil) and
// decodes the answer into out (when not nil). An answer other than 2xx is
// an error with the server's {"error"} text.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" && method != http.MethodGet {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return fmt.Errorf("the server could not be reached: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return responseError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("app: bad answer from %s %s: %w", method, path, err)
	}
	return nil
}

// client returns the HTTP client to use.
func (c *Client) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// responseError returns the error of an answer that is not a success: the
// server's {"error": …} text with the status, or the status alone.
func responseError(resp *http.Response) error {
	var e struct {
		Error string `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return fmt.Errorf("%s (%d)", e.Error, resp.StatusCode)
	}
	return fmt.Errorf("the server answered %s", resp.Status)
}
