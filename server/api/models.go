//go:build !js

package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"metriclab/server/api/store"
)

// maxModelName is the longest name a model upload may give.
const maxModelName = 100

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	cards, unreadable, err := s.store.Models()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.logUnreadable(r, unreadable)
	writeJSON(w, http.StatusOK, cards)
}

// logUnreadable logs the errors of the models a list left out, but
// those the last list logged or left out too.
func (s *Server) logUnreadable(r *http.Request, unreadable []error) {
	s.unreadableMu.Lock()
	defer s.unreadableMu.Unlock()
	now := make(map[string]bool, len(unreadable))
	for _, err := range unreadable {
		if !s.unreadable[err.Error()] {
			s.log.Printf("api: %s %q: left out: %q", r.Method, r.URL.Path, err)
		}
		now[err.Error()] = true
	}
	s.unreadable = now
}

func (s *Server) getModel(w http.ResponseWriter, r *http.Request) {
	card, _, err := s.store.Model(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, card)
}

// modelFile serves the .safetensors file (with ranges and conditional
// requests, as http.ServeContent does; its ETag is the model's id),
// unless its size is no longer the one registered: then 500, and the file
// is not served.
func (s *Server) modelFile(w http.ResponseWriter, r *http.Request) {
	card, path, err := s.store.Model(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, st, ok := s.openServed(w, r, path)
	if !ok {
		return
	}
	defer f.Close()
	if st.Size() != card.Size {
		// Changed on disk since it was registered (the next start puts it
		// aside): not the model the card describes.
		s.log.Printf("api: model %s: its file has %d bytes, its row %d", card.ID, st.Size(), card.Size)
		s.fail(w, r, &apiError{http.StatusInternalServerError, "the model's file is damaged: it does not have the size it was registered with"})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	name := card.FileName()
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "private, max-age=31536000, immutable") // a model's file never changes
	// Nor does its id name another file (ids are random, never reused):
	// the id is a strong validator, for If-None-Match and If-Range.
	h.Set("ETag", `"`+card.ID+`"`)
	h.Set("Cross-Origin-Resource-Policy", "same-origin") // readable by anyone here, not by another site's page
	// A large model at the upload rate may take longer than the server's
	// write timeout.
	s.extendWrite(w, s.bodyTime(st.Size()))
	ServeContent(&downloadErrors{ResponseWriter: w, size: st.Size()}, r, name, st.ModTime(), f, st.Size())
}

// openServed opens the file at path that a GET serves (a model's, a
// sample's image) and stats it; a file gone (deleted meanwhile, or by
// hand) is 404, another error the API's, and then it reports false, the
// answer written.
func (s *Server) openServed(w http.ResponseWriter, r *http.Request, path string) (*os.File, os.FileInfo, bool) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		s.fail(w, r, errNotFound)
		return nil, nil, false
	}
	if err != nil {
		s.fail(w, r, err)
		return nil, nil, false
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		s.fail(w, r, err)
		return nil, nil, false
	}
	return f, st, true
}

// downloadErrors is the ResponseWriter of a file's download (a model's,
// a sample's image: sampleImage): an error that http.ServeContent answers
// in plain text or with no body (416 for a range outside the file, 412
// for a failed If-Match or If-Unmodified-Since) becomes the API's JSON
// error, without the file's name and caching; a 416 says the file's size
// in Content-Range.
type downloadErrors struct {
	http.ResponseWriter
	size   int64 // of the file
	failed bool  // an error was answered: ServeContent's own text is dropped
}

func (d *downloadErrors) WriteHeader(code int) {
	if code < 400 {
		d.ResponseWriter.WriteHeader(code)
		return
	}
	d.failed = true
	h := d.Header()
	h.Del("Content-Disposition")
	h.Del("Content-Length")
	h.Set("Cache-Control", "no-store")
	text := strings.ToLower(http.StatusText(code))
	switch code {
	case http.StatusRequestedRangeNotSatisfiable:
		text = fmt.Sprintf("range not satisfiable: the file has %d bytes", d.size)
		h.Set("Content-Range", fmt.Sprintf("bytes */%d", d.size)) // RFC 9110, 15.5.17: net/http sets it for some 416s only
	case http.StatusPreconditionFailed:
		text = "precondition failed: the file does not match If-Match or If-Unmodified-Since"
	}
	writeJSON(d.ResponseWriter, code, map[string]string{"error": text})
}

func (d *downloadErrors) Write(b []byte) (int, error) {
	if d.failed {
		return len(b), nil
	}
	return d.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (d *downloadErrors) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// uploadModel registers the .safetensors file in the body (the file's
// bytes themselves, at most MaxUpload: a multipart form is refused) under
// the name of the query's "name" (modelName's rules; one that another
// model has is refused with 409 once the file is checked, and nothing is
// kept), or "uploaded model" without one, after store.CheckModel accepts
// it: 201. The same bytes as a model stored are that model: 200 with its
// card and "existed": true, as a sample sent twice is answered; under a
// name that model does not have, 409, naming it (store.AddUpload).
func (s *Server) uploadModel(w http.ResponseWriter, r *http.Request) {
	name, err := modelName(r.URL.Query()) // it parses: see handle
	if err != nil {
		s.fail(w, r, err)
		return
	}
	named := name != ""
	if !named {
		name = "uploaded model"
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		// curl -F, a browser's form: the file is inside, not the body.
		s.fail(w, r, &apiError{http.StatusUnsupportedMediaType, "the model file goes as the request body itself (curl --data-binary @model.safetensors), not in a multipart form"})
		return
	}
	body, release, err := s.body(w, r, s.cfg.MaxUpload)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer release()
	// The answer comes once the body is stored and checked, which at the
	// upload rate may be after the server's write timeout (the model was
	// registered, and the client was told nothing): it gets the body's
	// time twice (the check reads the file back).
	n := r.ContentLength
	if n < 0 {
		n = s.cfg.MaxUpload
	}
	s.extendWrite(w, 2*s.bodyTime(n))
	card, existed, err := s.store.AddUpload(name, named, func(w io.Writer) error {
		_, err := io.Copy(w, body)
		return err
	}, checkUpload)
	if err != nil {
		s.fail(w, r, nameTaken(err))
		return
	}
	w.Header().Set("Location", "/api/models/"+card.ID)
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	writeJSON(w, status, uploaded{card, existed})
}

// uploaded is the answer of POST /api/models: the model's card, and
// Existed, true when a model stored had the same bytes already (the card
// is that model's, and nothing was added: store.AddUpload).
type uploaded struct {
	store.Card
	Existed bool `json:"existed"`
}

// modelName returns the query's "name" without the spaces around it, ""
// for none, or the 400 of a name a model may not have: given twice, not
// UTF-8, with a character that is not printable, or longer than
// maxModelName characters. An upload's name and a rename's follow it.
func modelName(q url.Values) (string, error) {
	if len(q["name"]) > 1 {
		return "", badRequest("name given twice")
	}
	name := strings.TrimSpace(q.Get("name"))
	switch n := utf8.RuneCountInString(name); {
	case !utf8.ValidString(name):
		return "", badRequest("name: not text (UTF-8): printable characters only")
	case strings.IndexFunc(name, func(c rune) bool { return !unicode.IsPrint(c) }) >= 0:
		// A zero-width joiner (an emoji of several) or a direction mark
		// too: they are not printable.
		return "", badRequest("name: it holds a character that is not printable (a control or format character): printable characters only")
	case n > maxModelName:
		return "", badRequest("name: %d characters, at most %d", n, maxModelName)
	}
	return name, nil
}

// nameTaken is err, but a store.ErrNameTaken (or store.ErrSameBytes) as
// a 409 that says which model has the name (or the bytes).
func nameTaken(err error) error {
	if errors.Is(err, store.ErrNameTaken) || errors.Is(err, store.ErrSameBytes) {
		return &apiError{http.StatusConflict, err.Error()}
	}
	return err
}

// renameModel names model id as the query's "name" says (modelName's
// rules; one is needed), unless another model has that name (409); it
// answers the model's card. Only the model's row changes
// (store.RenameModel).
func (s *Server) renameModel(w http.ResponseWriter, r *http.Request) {
	name, err := modelName(r.URL.Query()) // it parses: see handle
	if err == nil && name == "" {
		err = badRequest("name: none given: ?name=NEW names the model")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	card, err := s.store.RenameModel(r.PathValue("id"), name)
	if err != nil {
		s.fail(w, r, nameTaken(err))
		return
	}
	writeJSON(w, http.StatusOK, card)
}

// checkUpload is store.CheckModel with its refusals as 400s that say
// "model" instead of the temporary file's name.
func checkUpload(path string) (store.Card, error) {
	card, err := store.CheckModel(path)
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), path, "model")
		msg = strings.ReplaceAll(msg, filepath.Base(path), "model")
		return card, badRequest("%s", msg)
	}
	return card, nil
}

func (s *Server) deleteModel(w http.ResponseWriter, r *http.Request) {
	left, err := s.store.DeleteModel(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if left != nil {
		// Deleted all the same: no longer listed, its file goes to
		// lost+found at the next start.
		s.log.Printf("api: %s %q: deleted, its file left behind: %q", r.Method, r.URL.Path, left)
	}
	w.WriteHeader(http.StatusNoContent)
}
