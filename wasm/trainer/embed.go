package main

import (
	"errors"
	"fmt"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/msg"
	"metriclab/core/vec"
)

// What the worker's embed and load answer with: the embeddings of the
// page's samples under a model (plain Go, tested natively).

// embedBatch is the batch of the encoder that embeds sets of images (the
// enrolled snapshots); a single image (the Verify page's live probe, one
// frame at a time) goes through an encoder of batch 1, so that it costs
// one image, not a batch padded with zeros: a faces model of four views
// with the flip test runs eight forward passes a probe.
const embedBatch = 16

// embedders are embed's encoders of one model: of batch 1 and of
// embedBatch, each made when first needed.
type embedders struct{ one, many *core.Encoder }

// encoder returns the encoder for n images of m, making it when needed.
func (e *embedders) encoder(m *core.Model, n int) (*core.Encoder, error) {
	enc, batch := &e.many, embedBatch
	if n == 1 {
		enc, batch = &e.one, 1
	}
	if *enc == nil {
		var err error
		if *enc, err = core.NewEncoder(m.Meta.Spec, m.Params, batch); err != nil {
			return nil, err
		}
	}
	return *enc, nil
}

// embedWith embeds c.Samples with model m through enc (nil: made from m,
// and returned to be kept): embed's answer, ID c.ID.
func embedWith(m *core.Model, enc *embedders, c *msg.Command) (*embedders, *msg.Embeddings, error) {
	set, err := samplesSet(c.Samples, false)
	if err != nil {
		return enc, nil, err
	}
	in := m.Meta.Spec.Input
	if !set.Input.SameShape(in) {
		return enc, nil, fmt.Errorf("samples of %d×%d×%d, the encoder takes %d×%d×%d",
			set.Input.Channels, set.Input.Height, set.Input.Width, in.Channels, in.Height, in.Width)
	}
	if enc == nil {
		enc = &embedders{}
	}
	d := m.Meta.Spec.EmbedDim()
	e, err := enc.encoder(m, max(1, set.N)) // made for no samples too: a load says whether it embeds
	if err != nil {
		return nil, nil, err
	}
	var values []float32
	if set.N > 0 {
		if values, err = e.Embed(nil, set.X, set.N); err != nil {
			return enc, nil, err
		}
	}
	// A valid model file can still overflow on some images (a deep net
	// multiplies its layers' gains); JSON has no NaN to send, and no
	// threshold or template comes of such embeddings.
	if !vec.AllFinite(values) {
		return enc, nil, errors.New("the model's embeddings of these images are not all finite numbers (its values overflow): load or train another model")
	}
	for i := 0; i < len(values); i += d {
		vec.Normalise(values[i : i+d])
	}
	return enc, &msg.Embeddings{ID: c.ID, Dim: d, Values: values, Threshold: m.Meta.Threshold, FAR: m.Meta.FAR}, nil
}

// samplesSet turns s into a data set of an image input
// (msg.CheckImageInput); labelled asks for one label per image, each
// indexing s.Classes.
func samplesSet(s *msg.Samples, labelled bool) (*data.Set, error) {
	if s == nil {
		return nil, errors.New("no samples")
	}
	in := core.Input{Channels: s.Channels, Height: s.Height, Width: s.Width}
	// The pages send crops of an image input; bounded sides also keep the
	// product below from wrapping (to 0, a division by zero).
	if err := msg.CheckImageInput(in.Channels, in.Height, in.Width); err != nil {
		return nil, fmt.Errorf("samples of shape %d×%d×%d: %v", s.Channels, s.Height, s.Width, err)
	}
	if len(s.Pixels)%in.Size() != 0 {
		return nil, fmt.Errorf("%d pixels are not whole %d×%d×%d images", len(s.Pixels), s.Channels, s.Height, s.Width)
	}
	n := len(s.Pixels) / in.Size()
	set := &data.Set{X: s.Pixels, Labels: s.Labels, N: n, Input: in, Classes: s.Classes}
	if !labelled {
		return set, nil
	}
	if len(s.Labels) != n {
		return nil, fmt.Errorf("%d labels for %d images", len(s.Labels), n)
	}
	for _, l := range s.Labels {
		if l < 0 || l >= len(s.Classes) {
			return nil, fmt.Errorf("label %d out of range of %d classes", l, len(s.Classes))
		}
	}
	return set, nil
}
