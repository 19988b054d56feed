package core

import (
	"encoding/json"
	"fmt"
	"io"
	"math"

	"metriclab/core/safetensors"
)

// DecodeModel reads and validates a model from r, the bytes of a model
// file written by EncodeModel or WriteModel (the browser's models come as
// bytes, not files). It checks what ReadModel checks, with errors that start
// with "model:" instead of a file name.
func DecodeModel(r io.Reader) (*Model, error) {
	const name = "model"
	tensors, metadata, err := safetensors.Decode(r, math.MaxInt64)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid safetensors file: %v", name, err)
	}
	raw, ok := metadata[modelMetadataKey]
	if !ok {
		return nil, fmt.Errorf("%s: no %q entry in the safetensors metadata: not a metriclab model", name, modelMetadataKey)
	}
	m := &Model{Params: make(map[string]Tensor, len(tensors)), file: name}
	if err := json.Unmarshal([]byte(raw), &m.Meta); err != nil {
		return nil, fmt.Errorf("%s: metriclab metadata is not valid: %v", name, err)
	}
	if m.Meta.Format != ModelFormat {
		return nil, fmt.Errorf("%s: model format %q is not supported (want %q)", name, m.Meta.Format, ModelFormat)
	}
	if err := m.Meta.Spec.Validate(); err != nil {
		return nil, fmt.Errorf("%s: invalid spec: %v", name, err)
	}
	for k, t := range tensors {
		m.Params[k] = Tensor(t)
	}
	return m, nil
}
