package core

import (
	"math"
	"slices"
	"testing"
)

// embedBN returns s with the embedding batch norm.
func embedBN(s Spec) Spec { s.EmbedBN = true; return s }

// TestEmbedBN: the embedding batch norm adds encoder.features (weight
// fixed at 1, not learnable; bias learnable; running statistics) after the
// architecture's last layer. In training its outputs have, per dimension,
// the batch mean bias and the batch variance about 1 (σ²/(σ²+ε)), and one
// step moves the running mean a tenth of the way to the batch mean; the
// Encoder computes (h − running_mean)/√(running_var + ε) + bias from the
// plain encoder's h, as PyTorch's BatchNorm1d in eval mode with weight 1.
func TestEmbedBN(t *testing.T) {
	plain := smallSpec(ArchLeNetS, 1, 16, 16, 4)
	spec := embedBN(plain)
	shapes := spec.ParamShapes()
	for _, name := range []string{"encoder.features.weight", "encoder.features.bias", "encoder.features.running_mean", "encoder.features.running_var"} {
		if !slices.Equal(shapes[name], []int{4}) {
			t.Errorf("%s: shape %v, want [4]", name, shapes[name])
		}
	}
	if len(shapes) != len(plain.ParamShapes())+4 {
		t.Errorf("%d parameters, want the plain encoder's %d + 4", len(shapes), len(plain.ParamShapes()))
	}
	const n = 8
	tr, _ := newTestTrainer(t, spec, n, 3, Float32, DefaultOpt(OptSGD), 4)
	if slices.Contains(tr.names, "encoder.features.weight") || !slices.Contains(tr.names, "encoder.features.bias") {
		t.Errorf("learnables %v: want features.bias, not features.weight", tr.names)
	}
	x, labels := testBatch(spec, n, 3, 5)
	before := plainEmbed(t, plain, tr.Params(), x, n)
	if _, err := tr.Step(x, labels); err != nil {
		t.Fatal(err)
	}
	emb := tr.embVal.Data().([]float32)
	for d := range 4 {
		var mean, sq float64
		for i := range n {
			mean += float64(emb[i*4+d]) / n
		}
		for i := range n {
			sq += math.Pow(float64(emb[i*4+d])-mean, 2) / n
		}
		if math.Abs(mean) > 1e-5 || math.Abs(sq-1) > 1e-2 {
			t.Errorf("dimension %d: batch mean %g, variance %g; want 0 and about 1", d, mean, sq)
		}
	}

	p := tr.Params()
	for d, rmd := range p["encoder.features.running_mean"].Data {
		var mean float64
		for i := range n {
			mean += float64(before[i*4+d]) / n
		}
		if want := bnMomentum * mean; math.Abs(float64(rmd)-want) > 1e-5+1e-4*math.Abs(want) {
			t.Errorf("running mean %d after a step: %g, want %g", d, rmd, want)
		}
	}

	// The Encoder against the plain encoder's output, standardised by hand
	// with made-up running statistics and bias.
	rm, rv, b := []float32{0.5, -1, 2, 0}, []float32{4, 0.25, 1, 9}, []float32{0.1, 0, -0.2, 0.3}
	p["encoder.features.running_mean"] = Tensor{Shape: []int{4}, Data: rm}
	p["encoder.features.running_var"] = Tensor{Shape: []int{4}, Data: rv}
	p["encoder.features.bias"] = Tensor{Shape: []int{4}, Data: b}
	got := mustEmbed(t, spec, p, n, x, n)
	h := plainEmbed(t, plain, p, x, n)
	for i := range got {
		d := i % 4
		want := (float64(h[i])-float64(rm[d]))/math.Sqrt(float64(rv[d])+bnEps) + float64(b[d])
		if math.Abs(float64(got[i])-want) > 1e-5+1e-5*math.Abs(want) {
			t.Fatalf("value %d: %g, want %g", i, got[i], want)
		}
	}
}

// plainEmbed embeds the n images x with the encoder plain and those of
// params that it has.
func plainEmbed(t *testing.T, plain Spec, params map[string]Tensor, x []float32, n int) []float32 {
	t.Helper()
	own := map[string]Tensor{}
	for name, v := range params {
		if _, ok := plain.ParamShapes()[name]; ok {
			own[name] = v
		}
	}
	return mustEmbed(t, plain, own, n, x, n)
}
