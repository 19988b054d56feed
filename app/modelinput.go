package app

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"metriclab/core/face"
	"metriclab/core/msg"
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

// ShapeText writes in as C×H×W.
func ShapeText(in face.Input) string {
	return fmt.Sprintf("%d×%d×%d", in.Channels, in.Height, in.Width)
}

// ModelInput reads the encoder's input shape from a metriclab model file
// (.safetensors): the 8-byte little-endian length of its JSON header, the
// header's "__metadata__" and, there, the "metriclab" entry's spec.input
// (core.Metadata; the page does not import core, and the worker decodes
// and checks the whole file). The error says what is not there, and
// names a training job's checkpoint, which has no such entry.
func ModelInput(b []byte) (face.Input, error) {
	if len(b) < 8 {
		return face.Input{}, errors.New("shorter than a safetensors header")
	}
	n := binary.LittleEndian.Uint64(b[:8])
	if n > uint64(len(b)-8) {
		return face.Input{}, errors.New("safetensors header longer than the file")
	}
	var header struct {
		Metadata map[string]string `json:"__metadata__"`
	}
	if err := json.Unmarshal(b[8:8+n], &header); err != nil {
		return face.Input{}, fmt.Errorf("safetensors header: %v", err)
	}
	raw, ok := header.Metadata["metriclab"]
	if _, ckpt := header.Metadata["metriclab_checkpoint"]; !ok && ckpt { // core/job's, as core.DecodeModel tells it
		return face.Input{}, errors.New("a training job's checkpoint, not a model: its model is registered when the job ends")
	}
	if !ok {
		return face.Input{}, errors.New("no metriclab metadata: not a metriclab model")
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
