//go:build !js

package store

import (
	"slices"

	"metriclab/core"
	"metriclab/core/msg"
	"metriclab/losses"
)

// CheckModel is the ModelCheck of every model the store registers, uploaded
// or trained: the file must load with core.ReadModel (a strict safetensors
// file with bounded header, metriclab metadata of the current format, a
// valid spec) and pass core.Model.Validate, losses.Check checking its
// loss. Its errors are one line, fit to show a user. The card's metrics
// are the file's (core.Metadata.Metrics, checked by Validate), so an
// uploaded model that train wrote shows its held-out figures as a job's
// does; none for a file without them (FinishJob gives a job's model its
// job's).
func CheckModel(path string) (Card, error) {
	m, err := core.ReadModel(path)
	if err != nil {
		return Card{}, err
	}
	if err := m.Validate(losses.Check); err != nil {
		return Card{}, err
	}
	meta := m.Meta
	// The card's classes are its model's first ones: a copy, which
	// boundCard shortens.
	classes := slices.Clone(meta.Classes[:min(len(meta.Classes), msg.MaxCardClasses)])
	return boundCard(Card{Arch: meta.Spec.Arch, Loss: meta.Loss, LossParams: meta.LossParams, Dim: meta.Spec.Dim, Views: meta.Spec.Views, Crop: meta.Spec.Crop,
		Input: meta.Spec.Input, Classes: classes, NumClasses: len(meta.Classes), Threshold: meta.Threshold, FAR: meta.FAR, Metrics: meta.Metrics,
		Steps: meta.Provenance.Steps, Data: meta.Provenance.Data, Preset: meta.Provenance.Preset}), nil
}
