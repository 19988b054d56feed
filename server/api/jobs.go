//go:build !js

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"metriclab/core/job"
	"metriclab/core/msg"
	"metriclab/server/api/jobs"
)

// Timing of event streams.
const (
	sseHeartbeat    = 15 * time.Second // a comment line keeps proxies from closing an idle stream
	sseWriteTimeout = 30 * time.Second // a client that takes longer to accept one event is dropped
	cancelWait      = 10 * time.Second // DELETE waits this long for a running job to stop
)

func (s *Server) createJob(w http.ResponseWriter, r *http.Request) {
	var req msg.TrainRequest
	given, err := s.decodeJSON(w, r, &req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A field left out is what train takes for its flag not given: the
	// preset's value where the body names a preset that sets it, else
	// train's default, a seed too (0 given is a seed of its own); the job
	// records what it took.
	req = job.FillRequest(req, given)
	if !s.takeDecode(w, r) { // an uploaded data set is decoded to check req
		return
	}
	j, err := s.runner.Submit(s.clientOf(r), req, s.cfg.MaxJobsPerClient)
	<-s.decodes
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/jobs/"+j.ID)
	writeJSON(w, http.StatusCreated, map[string]string{"id": j.ID})
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	js, err := s.runner.Jobs()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for i := range js {
		js[i].PresetChanges = presetChanges(js[i].Config)
	}
	writeJSON(w, http.StatusOK, js)
}

// presetChanges returns the fields of a job's config that differ from
// its preset's (msg.PresetChanges: what a record of the preset's name
// alone would not say), with the optimiser's defaults written in
// (job.ResolveOpt): a record stored before the server wrote them trained
// the preset's adam at its learning rate as well.
func presetChanges(config msg.TrainRequest) []string {
	return msg.PresetChanges(job.ResolveOpt(config))
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.runner.Job(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	j.PresetChanges = presetChanges(j.Config)
	writeJSON(w, http.StatusOK, j)
}

// cancelJob is DELETE /api/jobs/{id} without a query (deleteJob): 200 and
// the job, for a job canceled already too (a Cancel clicked twice, or in
// two tabs), and a 409 for a job done or failed that says how to remove
// its record instead.
func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	j, err := s.runner.Cancel(id, cancelWait)
	if errors.Is(err, jobs.ErrState) { // done or failed
		err = fmt.Errorf("%w; DELETE /api/jobs/%s?remove=1 removes its record", err, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	j.PresetChanges = presetChanges(j.Config)
	writeJSON(w, http.StatusOK, j)
}

func (s *Server) resumeJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.runner.Resume(r.PathValue("id"), s.clientOf(r), s.cfg.MaxJobsPerClient)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	j.PresetChanges = presetChanges(j.Config)
	writeJSON(w, http.StatusOK, j)
}

// jobEvents streams the job's messages as Server-Sent Events, one
// msg.Message JSON per "data:" line: first the current state (and the last
// progress and snapshot), then every message until the job ends; the
// stream ends after the final state, and the error that follows it when
// the job has one (what its data set's load skipped, jobs.Loader's note,
// and the batch it lowered to its training images, which the state
// running carries as its error; then why it failed or
// was interrupted, how a done job ended). A client too slow to keep up is
// dropped (the stream ends without a final state; it may reconnect). A
// HEAD gets the stream's status and headers, and no events.
func (s *Server) jobEvents(w http.ResponseWriter, r *http.Request) {
	client := s.clientOf(r)
	if err := s.sse.open(client, s.cfg.MaxSSE, s.cfg.MaxSSEPerClient); err != nil {
		s.fail(w, r, err)
		return
	}
	defer s.sse.close(client)
	first, ch, unsubscribe, err := s.runner.Subscribe(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer unsubscribe()

	// The stream lasts: no read deadline (the server's would end it), a
	// write deadline per event, and MaxSSEDuration in all.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	end := time.NewTimer(s.cfg.MaxSSEDuration)
	defer end.Stop()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		// The headers of the stream and no events: net/http drops what
		// a HEAD writes, so the stream would hold its place, and its
		// client's connection, until the job ends.
		return
	}
	send := func(m msg.Message) bool {
		rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
		b, err := json.Marshal(m)
		if err != nil {
			s.log.Printf("api: event of job %s: %v", m.Trainer, err)
			return false
		}
		if _, err := io.WriteString(w, "data: "+string(b)+"\n\n"); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	for _, m := range first {
		if !send(m) {
			return
		}
	}
	if ch == nil {
		return
	}
	beat := time.NewTicker(sseHeartbeat)
	defer beat.Stop()
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				return
			}
			if !send(m) {
				return
			}
		case <-beat.C:
			rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case <-end.C:
			return
		case <-r.Context().Done():
			return
		case <-s.ending:
			return
		}
	}
}

// decodeJSON decodes one JSON object of at most MaxBody bytes into v, a
// pointer to a struct, refusing unknown fields, fields not spelt as v's
// (encoding/json matches names regardless of case: "DATA" would set
// "data"), keys given twice at any depth (the last would win) and
// trailing data, and a body that comes too slowly. It returns the names
// of the fields the object gives.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) (map[string]bool, error) {
	rc, release, err := s.body(w, r, s.cfg.MaxBody)
	if err != nil {
		return nil, err
	}
	defer release()
	body, err := io.ReadAll(rc)
	if err != nil {
		if isBodyError(err) {
			return nil, err
		}
		return nil, badRequest("request body is not a valid training configuration: %v", err)
	}
	// Decode takes null for an object that sets nothing, and an empty
	// body says only "EOF".
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) == 0 || b[0] != '{' {
		return nil, badRequest("request body is not a valid training configuration: want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, badRequest("request body is not valid JSON: %v", err)
		}
		// encoding/json's words name Go's types and fields ("Go struct
		// field TrainRequest.epochs of type int"), and a value's own
		// error (a crop's) no field: the first field that is wrong, by
		// its JSON name, and what it takes.
		if _, err := exactFields(body, v); err != nil {
			return nil, err
		}
		if err := fieldError(body, v); err != nil {
			return nil, err
		}
		return nil, badRequest("request body is not a valid training configuration")
	}
	// Not dec.More(), which says false before a '}' or ']'.
	if len(bytes.Trim(body[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, badRequest("request body has data after its JSON object")
	}
	return exactFields(body, v)
}

// exactFields refuses a JSON object whose fields are not spelt as the
// json names of the struct v points to, or that gives one twice, or
// whose nested objects give a key twice (msg.CheckKeys), and returns
// the names it gives.
func exactFields(body []byte, v any) (map[string]bool, error) {
	names := map[string]bool{}
	t := reflect.TypeOf(v).Elem()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			names[name] = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // '{': Decode accepted the object
		return nil, badRequest("request body: %v", err)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, badRequest("request body: %v", err)
		}
		key, _ := tok.(string)
		switch {
		case !names[key] && !slices.ContainsFunc(slices.Collect(maps.Keys(names)), func(n string) bool { return strings.EqualFold(n, key) }):
			return nil, badRequest("request body: %q is not a field of the training configuration (the README's API section lists them)", key)
		case !names[key]:
			return nil, badRequest("request body: field %q is not spelt as the configuration's (names are lower case, as in the API's documentation)", key)
		case seen[key]:
			return nil, badRequest("request body: field %q is given twice", key)
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, badRequest("request body: %v", err)
		}
	}
	// Nested objects too: a loss parameter given twice keeps its last.
	if err := msg.CheckKeys(body); err != nil {
		return nil, badRequest("request body: %v", err)
	}
	return seen, nil
}

// deleteJob is DELETE /api/jobs/{id}. Without a query it cancels the job
// (cancelJob): a Cancel that meets the job's end removes nothing. With
// ?remove=1 it removes the record of a job that has ended (done, failed,
// canceled), 204; its model stays (a model is a resource of its own:
// DELETE /api/models/{id}), its card naming the job it came from. That is
// a 409 for a job queued, running or interrupted, which it does not
// cancel: a removal is asked for on its own, after the cancel. A canceled
// job's run still stopping is waited for first (as a cancel waits), so
// that it writes no more to a record gone.
func (s *Server) deleteJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	switch v, ok := r.URL.Query()["remove"]; { // it parses: see handle
	case !ok:
		s.cancelJob(w, r)
		return
	case len(v) != 1 || v[0] != "1":
		s.fail(w, r, badRequest("remove=%s: want remove=1, once (it removes the record of a job that has ended; DELETE without it cancels the job)", msg.Shorten(strings.Join(v, "&remove="), 32)))
		return
	}
	j, err := s.runner.Job(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if j.State == msg.JobCanceled {
		s.runner.Cancel(id, cancelWait) // waits for a run still stopping; none: at once
	}
	deleted, err := s.store.DeleteJob(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !deleted { // queued, running or interrupted, or resumed since
		if j, err = s.runner.Job(id); err == nil {
			err = &apiError{http.StatusConflict, fmt.Sprintf("job %s is %s: cancel it first (DELETE /api/jobs/%s), then remove its record", id, j.State, id)}
		}
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// fieldError returns the error of the first field of the JSON object
// body that does not decode into its field of the struct v points to,
// named by its JSON name, with what the field takes and the value given
// (fieldWants); nil when every field decodes. exactFields has checked
// the names.
func fieldError(body []byte, v any) error {
	t := reflect.TypeOf(v).Elem()
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			fields[name] = t.Field(i).Type
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.Token() // '{'
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil
		}
		ft, ok := fields[key]
		if !ok {
			continue
		}
		err = json.Unmarshal(raw, reflect.New(ft).Interface())
		if err == nil {
			continue
		}
		given := msg.Shorten(string(raw), 40)
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) && !strings.HasPrefix(err.Error(), "json: ") {
			return badRequest("request body: %q: %v (given %s)", key, err, given) // a value's own words (a crop's)
		}
		return badRequest("request body: %q takes %s, not %s", key, fieldWants(ft), given)
	}
	return nil
}

// fieldWants says in words what a field of type t takes in JSON.
func fieldWants(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[msg.Crop]():
		return msg.CropWants
	case t == reflect.TypeFor[[]msg.Crop]():
		return "a list of windows (" + msg.CropWants + ")"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return fieldWants(t.Elem())
	case reflect.Int, reflect.Int64:
		return "a whole number (digits, no fraction or exponent)"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Map:
		return "an object of " + strings.TrimPrefix(fieldWants(t.Elem()), "a ") + "s by name"
	}
	return "another kind of value (the README's API section says which)"
}
