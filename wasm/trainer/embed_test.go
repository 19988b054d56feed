package main

import (
	"math"
	"strings"
	"testing"

	"metriclab/core"
	"metriclab/core/msg"
)

// TestEmbedOneAndMany: the worker embeds a set of images through its
// encoder of embedBatch and a single image (the Verify page's probe)
// through one of batch 1, made once each and kept; an image embeds the
// same either way, unit length and 3·D wide for a model of three views;
// the model's threshold and its FAR come with the embeddings; a model
// whose parameters do not fit is refused before any embedding.
func TestEmbedOneAndMany(t *testing.T) {
	spec := core.Spec{Arch: core.ArchLeNetS, Input: core.Input{Channels: 1, Height: 20, Width: 20, Mean: 0.5, Std: 0.5}, Dim: 4,
		FlipTest: true, Views: []core.Crop{{}, msg.Crops["upper"], msg.Crops["lower"]}}
	params := make(map[string]core.Tensor)
	for i := range spec.Views {
		for name, v := range core.InitParams(spec.View(i), nil, int64(i)) {
			params[core.ViewPrefix(i)+name] = v
		}
	}
	m := &core.Model{Meta: core.Metadata{Spec: spec, Threshold: 0.25, FAR: 0.01}, Params: params}
	const n = 20 // more than embedBatch: two chunks
	px := make([]float32, n*400)
	for i := range px {
		px[i] = float32((i*7919)%256) / 255
	}
	samples := func(x []float32) *msg.Command {
		return &msg.Command{ID: "e", Samples: &msg.Samples{Channels: 1, Height: 20, Width: 20, Pixels: x}}
	}
	enc, all, err := embedWith(m, nil, samples(px))
	if err != nil {
		t.Fatal(err)
	}
	if all.Dim != 12 || len(all.Values) != n*12 || enc.many == nil {
		t.Fatalf("a set of %d: Dim %d, %d values, encoder of the set %v", n, all.Dim, len(all.Values), enc.many)
	}
	if all.Threshold != 0.25 || all.FAR != 0.01 {
		t.Errorf("threshold %v at FAR %v, want the model's 0.25 at 0.01", all.Threshold, all.FAR)
	}
	many := enc.many
	for k := range 2 {
		img := px[k*400 : (k+1)*400]
		again, one, err := embedWith(m, enc, samples(img))
		if err != nil {
			t.Fatal(err)
		}
		if again != enc || enc.one == nil || enc.many != many {
			t.Fatal("the encoders were not kept")
		}
		var norm float64
		for i, v := range one.Values {
			norm += float64(v) * float64(v)
			if w := all.Values[k*12+i]; math.Abs(float64(v-w)) > 1e-5 {
				t.Fatalf("image %d alone, value %d: %g; in the set %g", k, i, v, w)
			}
		}
		if math.Abs(norm-1) > 1e-5 {
			t.Errorf("image %d: squared length %g, want 1", k, norm)
		}
	}
	// Embeddings that are not finite numbers, as a model whose values
	// overflow gives, are refused with a line that says so: JSON cannot
	// carry them, and the page posted "encoding a message: json:
	// unsupported value: NaN".
	bias := params["views.1.encoder.fc2.bias"].Data
	bias[0] = float32(math.Inf(1))
	if _, e, err := embedWith(m, nil, samples(px[:400])); err == nil || !strings.Contains(err.Error(), "not all finite") {
		t.Errorf("a model with an infinite bias: %v, error %v; want embeddings not all finite refused", e, err)
	}
	bias[0] = 0
	delete(params, "views.2.encoder.fc2.bias")
	if _, _, err := embedWith(m, nil, samples(nil)); err == nil {
		t.Error("a model without views.2.encoder.fc2.bias embeds no samples without an error")
	}
}

// TestSamplesSetShape: samples whose shape is not an image input
// (msg.CheckImageInput) are refused with an error, sides whose product
// wraps to zero or below included (they divided by zero).
func TestSamplesSetShape(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c, h, w int
		pixels  int
	}{
		{"product wraps to 0", 1 << 32, 1 << 32, 1, 4},
		{"product wraps negative", 3, 1 << 62, 1, 4},
		{"two channels", 2, 8, 8, 128},
		{"side over MaxSide", 1, msg.MaxSide + 1, 8, 8 * (msg.MaxSide + 1)},
	} {
		s := &msg.Samples{Channels: tc.c, Height: tc.h, Width: tc.w, Classes: []string{"a"}, Labels: []int{0}, Pixels: make([]float32, tc.pixels)}
		for _, labelled := range []bool{false, true} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s: samplesSet panics: %v", tc.name, r)
					}
				}()
				if set, err := samplesSet(s, labelled); err == nil {
					t.Errorf("%s: samplesSet gives a set of %d images of %v, want an error", tc.name, set.N, set.Input)
				}
			}()
		}
	}
	s := &msg.Samples{Channels: 1, Height: 8, Width: 8, Classes: []string{"a"}, Labels: []int{0}, Pixels: make([]float32, 64)}
	if set, err := samplesSet(s, true); err != nil || set.N != 1 {
		t.Errorf("one 1×8×8 image: %v, %v", set, err)
	}
}
