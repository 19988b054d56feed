//go:build !js

package api

import (
	"bytes"
	"image"
	_ "image/jpeg" // sample images: JPEG
	_ "image/png"  // and PNG
	"io"
	"mime/multipart"
	"net/http"

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
