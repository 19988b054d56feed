//go:build !js

package api

import (
	"bytes"
	"cmp"
	"image"
	_ "image/jpeg" // sample images: JPEG
	_ "image/png"  // and PNG
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strconv"

	"metriclab/core/data"
	"metriclab/core/msg"
	"metriclab/server/api/store"
)

func (s *Server) listDatasets(w http.ResponseWriter, r *http.Request) {
	sets, err := s.store.Datasets()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]msg.Dataset, 0, len(sets)+1)
	if _, err := data.MNISTDir(); err == nil {
		out = append(out, msg.Dataset{Name: "mnist", Identities: 10, Samples: 70000, Builtin: true})
	}
	out = append(out, sets...)
	writeJSON(w, http.StatusOK, out)
}

// uploadSample stores one image of an identity in a data set (created on
// its first sample): a multipart body of at most MaxSample bytes with a
// field "identity" and a file "image", a PNG or JPEG of msg.MinSide to
// MaxImageSide pixels a side that decodes. The names follow the rules the
// page checks before it sends (msg.DatasetProblem, msg.IdentityProblem):
// a data set is named by ASCII letters, digits, '_' and '-'; an identity
// by any printable name that is safe as a folder name ("Ann Smith",
// "José"), taken in Unicode normal form C, so that "José" sent as e and a
// combining accent is the identity "José" sent with é (store.IdentityName).
// The data set's rules are checked here, before the body is read, and the
// identity's path rules once it is; the store applies the rest to a new
// identity (store.AddSample). The data set keeps an image once for each
// identity: the same one posted again is answered 200 with the sample
// stored before and "existed": true, one stored now 201 (msg.Sample).
func (s *Server) uploadSample(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if p := msg.DatasetPathProblem(name); p != "" {
		s.fail(w, r, badRequest("data set %q: %s", name, p))
		return
	}
	if p := msg.DatasetProblem(name); p != "" {
		// A name only a data set stored before its rule may keep: a new
		// one is refused before its body is read.
		stored, err := s.store.HasDataset(name)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !stored {
			s.fail(w, r, store.NameError{Kind: "data set", Name: name, Problem: p})
			return
		}
	}
	body, release, err := s.body(w, r, s.cfg.MaxSample)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer release()
	r.Body = body
	mr, err := r.MultipartReader()
	if err != nil && isTimeout(err) {
		s.fail(w, r, err)
		return
	}
	if err != nil {
		s.fail(w, r, badRequest("want a multipart/form-data body with identity and image"))
		return
	}
	identity, img, err := readSample(mr)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	identity = store.IdentityName(identity) // its rules count the characters of the name stored
	if p := msg.IdentityPathProblem(identity); p != "" {
		s.fail(w, r, badRequest("identity %q: %s", identity, p))
		return
	}
	if !s.takeDecode(w, r) {
		return
	}
	ext, err := checkImage(img)
	<-s.decodes
	if err != nil {
		s.fail(w, r, err)
		return
	}
	smp, err := s.store.AddSample(name, identity, ext, func(w io.Writer) error {
		_, err := w.Write(img)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if smp.Existed {
		writeJSON(w, http.StatusOK, smp)
		return
	}
	writeJSON(w, http.StatusCreated, smp)
}

// readSample reads the parts "identity" and "image" of a multipart body:
// a part given twice, or one of another name (refused before it is read,
// as an unknown query parameter is: see handle), is an error.
func readSample(mr *multipart.Reader) (identity string, img []byte, err error) {
	var haveID, haveImg bool
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if isBodyError(err) {
				return "", nil, err
			}
			return "", nil, badRequest("malformed multipart body")
		}
		if name := p.FormName(); name != "identity" && name != "image" {
			return "", nil, unknownName("form part", name, []string{"identity", "image"})
		}
		b, err := io.ReadAll(p)
		if err != nil {
			if isBodyError(err) {
				return "", nil, err
			}
			return "", nil, badRequest("malformed multipart body")
		}
		switch p.FormName() {
		case "identity":
			if haveID {
				return "", nil, badRequest("identity given twice")
			}
			identity, haveID = string(b), true
		case "image":
			if haveImg {
				return "", nil, badRequest("image given twice")
			}
			img, haveImg = b, true
		}
	}
	if !haveID || !haveImg {
		return "", nil, badRequest("want the fields identity and image")
	}
	return identity, img, nil
}

// checkImage decodes b, a PNG or JPEG of msg.MinSide to MaxImageSide
// pixels a side (checked before decoding the pixels), and returns its
// extension. A smaller one is refused: every job's input has sides of
// msg.MinSide at least, and core/data skips an image it would scale up
// from under msg.MinSide pixels, so such a sample would be left out of
// every job's training. The file is stored as sent: a JPEG's EXIF
// orientation is applied where the data set's folder is loaded
// (core/data), for training.
func checkImage(b []byte) (string, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if format != "png" && format != "jpeg" {
		return "", badRequest("image: want a PNG or JPEG file")
	}
	if err != nil { // a PNG or JPEG by its signature, with a bad header
		return "", badRequest("image: the %s file does not decode", format)
	}
	if cfg.Width < msg.MinSide || cfg.Height < msg.MinSide || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		return "", badRequest("image: %d×%d, want %d to %d pixels a side", cfg.Width, cfg.Height, msg.MinSide, MaxImageSide)
	}
	if _, _, err := image.Decode(bytes.NewReader(b)); err != nil {
		return "", badRequest("image: the %s file does not decode", format)
	}
	if format == "png" {
		return ".png", nil
	}
	return ".jpg", nil
}

// Bounds of a page of GET /api/datasets/{name}/samples (?limit=).
const (
	defaultSamplesPage = 100
	maxSamplesPage     = 1000
)

// samplesPage is the answer of GET /api/datasets/{name}/samples: a page
// of the data set's samples, by ID, and Next, the ?after= of the next
// page ("" for the last).
type samplesPage struct {
	Samples []store.SampleRow `json:"samples"`
	Next    string            `json:"next,omitempty"`
}

// listSamples answers a page of the samples of an uploaded data set:
// ?limit= of them (1 to maxSamplesPage; defaultSamplesPage), after the
// ID ?after= names (the last page's Next), by ID.
func (s *Server) listSamples(w http.ResponseWriter, r *http.Request) {
	if err := builtinDataset(r.PathValue("name"), "it has no samples to list"); err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query() // it parses: see handle
	if len(q["after"]) > 1 || len(q["limit"]) > 1 {
		s.fail(w, r, badRequest("after and limit are given once at most"))
		return
	}
	limit := defaultSamplesPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxSamplesPage {
			s.fail(w, r, badRequest("limit %q: want a number from 1 to %d", msg.Shorten(v, 32), maxSamplesPage))
			return
		}
		limit = n
	}
	rows, more, err := s.store.Samples(r.PathValue("name"), q.Get("after"), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := samplesPage{Samples: rows}
	if more {
		page.Next = rows[len(rows)-1].ID
	}
	writeJSON(w, http.StatusOK, page)
}

// sampleTypes are the Content-Types of a sample's file by its extension
// (store.AddSample's, checkImage's).
var sampleTypes = map[string]string{".png": "image/png", ".jpg": "image/jpeg"}

// sampleImage serves a sample's image, the bytes its upload sent (a PNG or
// JPEG: its Content-Type), so that a wrongly labelled photo can be seen
// before its DELETE; with ranges and conditional requests as a model's
// file is, and its id as a strong ETag: a sample's file never changes,
// and an id names one file (one stored now by its bytes: store.AddSample).
// Unlike a model's file it is not cached for good: a person's photo, once
// deleted, should not outlive its DELETE in a browser's cache.
// A sample of another data set, or whose file is gone (removed by hand),
// is 404.
func (s *Server) sampleImage(w http.ResponseWriter, r *http.Request) {
	if err := builtinDataset(r.PathValue("name"), "it has no samples to show"); err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	path, err := s.store.SampleFile(r.PathValue("name"), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, st, ok := s.openServed(w, r, path)
	if !ok {
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", cmp.Or(sampleTypes[filepath.Ext(path)], "application/octet-stream"))
	// Revalidated at each use (its ETag answers 304), never kept unasked:
	// a photo of a person deleted is gone from the browser's cache too.
	h.Set("Cache-Control", "private, no-cache")
	h.Set("ETag", `"`+id+`"`)
	h.Set("Cross-Origin-Resource-Policy", "same-origin") // no other site's <img> shows it
	ServeContent(&downloadErrors{ResponseWriter: w, size: st.Size()}, r, filepath.Base(path), st.ModTime(), f, st.Size())
}

// deleteDataset removes an uploaded data set and its samples, 204, unless
// a queued, running or interrupted job trains on it (409, naming the job).
func (s *Server) deleteDataset(w http.ResponseWriter, r *http.Request) {
	if err := builtinDataset(r.PathValue("name"), "it cannot be deleted"); err != nil {
		s.fail(w, r, err)
		return
	}
	left, err := s.store.DeleteDataset(r.PathValue("name"))
	s.deleted(w, r, left, err)
}

// deleteSample removes one sample of an uploaded data set, 204, under the
// same rule as deleteDataset; the data set stays, empty too.
func (s *Server) deleteSample(w http.ResponseWriter, r *http.Request) {
	if err := builtinDataset(r.PathValue("name"), "it has no samples to delete"); err != nil {
		s.fail(w, r, err)
		return
	}
	left, err := s.store.DeleteSample(r.PathValue("name"), r.PathValue("id"))
	s.deleted(w, r, left, err)
}

// builtinDataset refuses, with 400 and why (what), a route of an uploaded
// data set's samples or deletion for mnist, which GET /api/datasets lists
// as built in (msg.Dataset.Builtin): its images ship with the server, it
// has no samples and is not deleted. An upload to it is refused so too
// (msg.DatasetPathProblem). nil for any other name.
func builtinDataset(name, what string) error {
	if name != "mnist" {
		return nil
	}
	return badRequest("data set %q is built in: %s (GET /api/datasets lists it with \"builtin\": true)", name, what)
}

// deleted answers a deletion: err's failure, or 204, logging the files
// it left behind (left: they go to lost+found at the next start).
func (s *Server) deleted(w http.ResponseWriter, r *http.Request, left, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if left != nil {
		s.log.Printf("api: %s %q: deleted, files left behind: %q", r.Method, r.URL.Path, left)
	}
	w.WriteHeader(http.StatusNoContent)
}
