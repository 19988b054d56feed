//go:build !js

package store

import (
	"fmt"
	"math"
	"strings"

	"metriclab/core"
)

// CheckModel is the ModelCheck of every model the store registers, uploaded
// or trained: the file must load with core.ReadModel (a strict safetensors
// file with bounded header, metriclab metadata of the current format, a
// valid spec), hold exactly the encoder parameters of its spec with their
// shapes, a head (when there is one) of one row per class and Dim columns,
// and only finite values. Its errors are one line, fit to show a user.
func CheckModel(path string) (Card, error) {
	m, err := core.ReadModel(path)
	if err != nil {
		return Card{}, err
	}
	want := m.Meta.Spec.ParamShapes() // ReadModel validated the spec
	for name, t := range m.Params {
		if strings.HasPrefix(name, "head.") {
			want[name] = t.Shape
		}
	}
	if err := m.Check(want); err != nil {
		return Card{}, err
	}
	if w, ok := m.Params["head.weight"]; ok {
		if len(w.Shape) != 2 || w.Shape[0] != len(m.Meta.Classes) || w.Shape[1] != m.Meta.Spec.Dim {
			return Card{}, fmt.Errorf("head.weight has shape %v, want [%d %d]", w.Shape, len(m.Meta.Classes), m.Meta.Spec.Dim)
		}
	}
	for name, t := range m.Params {
		for _, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return Card{}, fmt.Errorf("%s holds a value that is not finite", name)
			}
		}
	}
	meta := m.Meta
	return Card{Arch: meta.Spec.Arch, Loss: meta.Loss, LossParams: meta.LossParams, Dim: meta.Spec.Dim,
		Input: meta.Spec.Input, Classes: meta.Classes, Threshold: meta.Threshold, FAR: meta.FAR,
		Steps: meta.Provenance.Steps, Data: meta.Provenance.Data}, nil
}
