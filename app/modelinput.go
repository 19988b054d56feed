package app

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"metriclab/core/face"
)

// Crop shapes the Verify page can take: grey or RGB (the grey replicated,
// as face.Align does), MinCrop to MaxCrop pixels a side.
const (
	MinCrop = 16
	MaxCrop = 256
)

// validCrop says why the page cannot crop faces to in, or nil.
func validCrop(in face.Input) error {
	if in.Channels != 1 && in.Channels != 3 || in.Height < MinCrop || in.Width < MinCrop || in.Height > MaxCrop || in.Width > MaxCrop {
		return fmt.Errorf("crops of %s: the page crops 1 or 3 channels of %d to %d pixels", ShapeText(in), MinCrop, MaxCrop)
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
// and checks the whole file). The error says what is not there.
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
	return meta.Spec.Input, nil
}
