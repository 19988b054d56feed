//go:build !js

package store

import (
	"fmt"
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
		Steps: meta.Provenance.Steps, Data: meta.Provenance.Data, Preset: meta.Provenance.Preset, PresetChanges: presetChanges(meta)}), nil
}

// presetChanges returns the fields of the recipe that meta records
// (recipe) that differ from those of the preset its provenance names
// (msg.PresetChanges), nil for none or no preset.
func presetChanges(meta core.Metadata) []string { return msg.PresetChanges(recipe(meta)) }

// recipe returns the training request that meta records: its spec, loss
// and provenance, the optimiser's settings as they trained (a default
// taken written in, as a job's config has them), the input shape of a
// folder's images ("CxHxW"; MNIST's are 1x28x28 whatever it asks).
// What a provenance does not hold (classes, device) is left empty.
func recipe(meta core.Metadata) msg.TrainRequest {
	s, pv := meta.Spec, meta.Provenance
	wd := pv.WeightDecay
	r := msg.TrainRequest{Data: pv.Data, Arch: s.Arch, Loss: meta.Loss, LossParams: meta.LossParams, Miner: pv.Miner, Distance: pv.Distance,
		Dim: s.Dim, Epochs: pv.Epochs, Batch: pv.Batch, LR: pv.LR, Opt: pv.Optimizer, Seed: pv.Seed, Schedule: pv.Schedule, Augment: pv.Augment,
		EmbedBN: s.EmbedBN, FlipTest: s.FlipTest, Crop: s.Crop, Views: s.Views, Compose: pv.Compose, Turns: pv.Turns, Glyphs: pv.Glyphs,
		WeightDecay: &wd, EarlyStop: pv.EarlyStop, Preset: pv.Preset}
	if pv.Data != "mnist" {
		r.Input = fmt.Sprintf("%dx%dx%d", s.Input.Channels, s.Input.Height, s.Input.Width)
	}
	return r
}
