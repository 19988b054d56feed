package app

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"metriclab/core/face"
	"metriclab/core/msg"
	"metriclab/core/safetensors"
)

// validCrop says why the page cannot crop faces to in, or nil: it crops
// what a server job can train on (msg.CheckImageInput), grey or RGB (the
// grey replicated, as face.Align does).
func validCrop(in face.Input) error {
	if err := msg.CheckImageInput(in.Channels, in.Height, in.Width); err != nil {
		return fmt.Errorf("crops of %s: %v", ShapeText(in), err)
	}
	return nil
}

// pageLoads says what a model file the page loads is, in its errors
// (ModelInput).
const pageLoads = "the page loads a metriclab model, a .safetensors file"

// ShapeText writes in as C×H×W.
func ShapeText(in face.Input) string {
	return fmt.Sprintf("%d×%d×%d", in.Channels, in.Height, in.Width)
}

// ModelInput reads the encoder's input shape from a metriclab model file
// (.safetensors): the 8-byte little-endian length of its JSON header, the
// header's "__metadata__" and, there, the "metriclab" entry's spec.input
// (core.Metadata; the page does not import core, and the worker decodes
// and checks the whole file). The error is one plain line: what the file
// is not, what the page loads (pageLoads), then, after a colon, why, in
// the server's words for the same file (core.ReadModel: "a PNG image, not
// a model file", "its first 8 bytes give a header length of …"). A text
// file said "safetensors header longer than the file", where the server
// asks "is it a model file?". It names a training job's checkpoint,
// which has no "metriclab" entry.
func ModelInput(b []byte) (face.Input, error) {
	if len(b) < 8 {
		return face.Input{}, fmt.Errorf("not a model file (%s): %d bytes, fewer than a safetensors header's 8", pageLoads, len(b))
	}
	n := binary.LittleEndian.Uint64(b[:8])
	switch kind := safetensors.ImageKind(n); {
	case kind != "":
		return face.Input{}, fmt.Errorf("a %s image, not a model file (%s)", kind, pageLoads)
	case n > safetensors.MaxHeader:
		return face.Input{}, fmt.Errorf("not a model file (%s): its first 8 bytes give a header length of %d bytes, more than any model's (%d at most)", pageLoads, n, safetensors.MaxHeader)
	case n > uint64(len(b)-8):
		return face.Input{}, fmt.Errorf("not a whole model file (%s): truncated, its header asks for more than its %d bytes", pageLoads, len(b))
	}
	var header struct {
		Metadata map[string]string `json:"__metadata__"`
	}
	if err := json.Unmarshal(b[8:8+n], &header); err != nil {
		return face.Input{}, fmt.Errorf("not a model file (%s): its safetensors header is not JSON: %v", pageLoads, err)
	}
	raw, ok := header.Metadata["metriclab"]
	if _, ckpt := header.Metadata["metriclab_checkpoint"]; !ok && ckpt { // core/job's, as core.DecodeModel tells it
		return face.Input{}, errors.New("a training job's checkpoint, not a model: its model is registered when the job ends")
	}
	if !ok {
		return face.Input{}, fmt.Errorf("not a metriclab model (%s): its safetensors metadata has no \"metriclab\" entry", pageLoads)
	}
	var meta struct {
		Spec struct {
			Input face.Input `json:"input"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(raw), &meta); err != nil {
		return face.Input{}, fmt.Errorf("metriclab metadata: %v", err)
	}
	if meta.Spec.Input == (face.Input{}) { // not "crops of 0×0×0" (validCrop)
		return face.Input{}, errors.New("its metadata gives no input shape")
	}
	return meta.Spec.Input, nil
}

// modelTraining is what a metriclab model file's metadata says it was
// trained on (core.Metadata): its data set (provenance.data: "mnist", a
// server's folder, "enrolled" for the Verify page's own training) and
// its classes, the identities of that data set. The zero value, for a
// file whose metadata cannot be read (ModelInput says why), says nothing.
type modelTraining struct {
	Data    string
	Classes []string
}

// readModelTraining reads a model file's modelTraining, as ModelInput
// reads its input.
func readModelTraining(b []byte) modelTraining {
	var t modelTraining
	if len(b) < 8 {
		return t
	}
	n := binary.LittleEndian.Uint64(b[:8])
	if n > uint64(len(b)-8) {
		return t
	}
	var header struct {
		Metadata map[string]string `json:"__metadata__"`
	}
	var meta struct {
		Classes    []string `json:"classes"`
		Provenance struct {
			Data string `json:"data"`
		} `json:"provenance"`
	}
	if json.Unmarshal(b[8:8+n], &header) != nil || json.Unmarshal([]byte(header.Metadata["metriclab"]), &meta) != nil {
		return t
	}
	return modelTraining{meta.Provenance.Data, meta.Classes}
}
