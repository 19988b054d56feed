package core

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"metriclab/core/msg"
)

// JoinModels returns the models ms as one model of views: the ensemble
// that `metriclab eval --model a,b` evaluates, in one file that the
// Verify page and the server load. Its views are the members' views (a
// member without views is one view, of its crop), in order, each with its
// encoder and head under its new prefix; so its embedding's cosine, the
// mean of the views', is the mean of the members' cosines weighted by
// their numbers of views (the mean itself when every member has as many).
// The members must be models of the same architecture, input, D,
// embedding batch norm, flip test, loss, loss parameters and classes,
// trained on photos aligned by the eyes or not alike: the same recipe
// trained again (another seed, say) or on other windows.
// Together they have at most msg.MaxViews views; a window may repeat.
//
// The threshold and FAR of the joined model are the members', weighted
// as its cosine weighs them (by their numbers of views): no held-out
// images are left out of every member's training (each chose its own by
// its seed), so they are not measured on it. A member without a threshold
// (Metadata.HasThreshold) has none to give; with no member that has one,
// neither has the joined model. Its
// provenance is the first member's, with Joined holding every member's.
func JoinModels(ms []*Model, created, version string) (*Model, error) {
	if len(ms) < 2 {
		return nil, fmt.Errorf("%d models: join needs 2 or more", len(ms))
	}
	first := ms[0].Meta
	base := first.Spec
	base.Crop, base.Views = Crop{}, nil
	var windows []Crop
	var views []map[string]Tensor
	out := &Model{Meta: Metadata{Spec: base, Loss: first.Loss, LossParams: maps.Clone(first.LossParams),
		Classes: slices.Clone(first.Classes), Provenance: first.Provenance}}
	out.Meta.Provenance.Joined = nil // every member's, below
	// The views of the members, and of those with a threshold.
	n, calibrated := 0, 0
	for k, m := range ms {
		if err := joinable(first, m.Meta); err != nil {
			return nil, fmt.Errorf("%s and %s are not of one recipe: %v", memberName(ms, 0), memberName(ms, k), err)
		}
		n += max(1, len(m.Meta.Spec.Views))
		if m.Meta.HasThreshold() {
			calibrated += max(1, len(m.Meta.Spec.Views))
		}
	}
	if n > msg.MaxViews {
		return nil, fmt.Errorf("%d views together: at most %d", n, msg.MaxViews)
	}
	for k, m := range ms {
		v := len(m.Meta.Spec.Views)
		if v > 0 {
			p, err := splitViews(m.Params, v)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", memberName(ms, k), err)
			}
			windows, views = append(windows, m.Meta.Spec.Views...), append(views, p...)
		} else {
			windows, views = append(windows, m.Meta.Spec.Crop), append(views, m.Params)
		}
		if m.Meta.HasThreshold() {
			share := float64(max(1, v)) / float64(calibrated) // of the joined cosine, among those with a threshold
			out.Meta.Threshold += share * m.Meta.Threshold
			out.Meta.FAR += share * m.Meta.FAR
		}
		out.Meta.Provenance.Joined = append(out.Meta.Provenance.Joined, m.Meta.Provenance)
	}
	out.Meta.Spec.Views = windows
	if err := out.Meta.Spec.Validate(); err != nil {
		return nil, err
	}
	out.Meta.FAR = min(out.Meta.FAR, 1) // a mean of values ≤ 1 rounds above it at worst by an ulp
	out.Meta.Provenance.Created, out.Meta.Provenance.Version = created, version
	out.Params = joinViews(views)
	return out, nil
}

// joinable says why a model of metadata b cannot join one of a, or nil.
func joinable(a, b Metadata) error {
	sa, sb := a.Spec, b.Spec
	switch {
	case sa.Arch != sb.Arch:
		return fmt.Errorf("architectures %s and %s", sa.Arch, sb.Arch)
	case sa.Input != sb.Input:
		return fmt.Errorf("inputs %s and %s", describeInput(sa.Input), describeInput(sb.Input))
	case sa.Dim != sb.Dim:
		return fmt.Errorf("D = %d and %d", sa.Dim, sb.Dim)
	case sa.EmbedBN != sb.EmbedBN:
		return errors.New("one has the embedding's batch norm and the other not")
	case sa.FlipTest != sb.FlipTest:
		return errors.New("one embeds with the flip test and the other not")
	case a.Loss != b.Loss || !maps.Equal(a.LossParams, b.LossParams):
		return fmt.Errorf("losses %s and %s", msg.FormatLoss(a.Loss, a.LossParams), msg.FormatLoss(b.Loss, b.LossParams))
	case !slices.Equal(a.Classes, b.Classes):
		return errors.New("trained on other classes (or in another order)")
	case a.Provenance.Align != b.Provenance.Align:
		return errors.New("one was trained on photos aligned by the eyes and the other not")
	}
	return nil
}

// describeInput writes in as channels×height×width with its
// normalisation.
func describeInput(in Input) string {
	return fmt.Sprintf("%d×%d×%d (mean %g, std %g)", in.Channels, in.Height, in.Width, in.Mean, in.Std)
}

// memberName names model k of ms, a join's: its file, or "model k+1";
// a file that another member's path names too (a file given twice) with
// its place, "model.safetensors (model 2)".
func memberName(ms []*Model, k int) string {
	name := ms[k].file
	if name == "" {
		return fmt.Sprintf("model %d", k+1)
	}
	for i, o := range ms {
		if i != k && o.file == name {
			return fmt.Sprintf("%s (model %d)", name, k+1)
		}
	}
	return name
}
