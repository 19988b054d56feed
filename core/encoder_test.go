package core

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestEncoderMatchesTrainer checks that Encoder.Embed gives the trainer's
// forward embeddings for the same parameters, with an encoder batch that
// does not divide n (the last chunk is padded).
func TestEncoderMatchesTrainer(t *testing.T) {
	for _, c := range []struct {
		spec         Spec
		n, encBatch  int
		atol, rtol   float64 // float32 graphs of the same ops; chunks differ in batch only
		reuseDstSize int     // len of a dst passed in, reused when ≥ n·D
	}{
		{smallSpec(ArchLeNetS, 1, 16, 16, 3), 6, 4, 1e-6, 1e-5, 100},
		{smallSpec(ArchMLP, 3, 6, 5, 4), 7, 3, 1e-6, 1e-5, 0},
		{smallSpec(ArchLeNetPP, 1, 9, 8, 2), 3, 2, 1e-6, 1e-5, 2},
		{smallSpec(ArchLeNetS, 3, 16, 18, 5), 5, 8, 1e-6, 1e-5, 0},
	} {
		name := fmt.Sprintf("%s n=%d batch=%d", c.spec.Arch, c.n, c.encBatch)
		tr, _ := newTestTrainer(t, c.spec, c.n, 2, Float32, DefaultOpt(OptSGD), 2)
		p := tr.Params()
		x, labels := testBatch(c.spec, c.n, 2, 3)
		if _, err := tr.Step(x, labels); err != nil { // records the forward embeddings of p
			t.Fatal(err)
		}
		want := tr.embVal.Data().([]float32)
		enc, err := NewEncoder(c.spec, p, c.encBatch)
		if err != nil {
			t.Fatal(name, err)
		}
		var dst []float32
		if c.reuseDstSize > 0 {
			dst = make([]float32, c.reuseDstSize)
		}
		got, err := enc.Embed(dst, x, c.n)
		if err != nil {
			t.Fatal(name, err)
		}
		if len(got) != c.n*c.spec.Dim {
			t.Fatalf("%s: %d values, want %d", name, len(got), c.n*c.spec.Dim)
		}
		if c.reuseDstSize >= c.n*c.spec.Dim && &got[0] != &dst[0] {
			t.Errorf("%s: dst of %d values not reused", name, len(dst))
		}
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); !(d <= c.atol+c.rtol*math.Abs(float64(want[i]))) {
				t.Fatalf("%s: embedding value %d = %g, trainer %g", name, i, got[i], want[i])
			}
		}
		// A second call, with one image, gives that image's row again.
		one, err := enc.Embed(nil, x[:c.spec.Input.Size()], 1)
		if err != nil {
			t.Fatal(err)
		}
		for k := range one {
			if d := math.Abs(float64(one[k] - got[k])); !(d <= c.atol+c.rtol*math.Abs(float64(got[k]))) {
				t.Fatalf("%s: lone image value %d = %g, in batch %g", name, k, one[k], got[k])
			}
		}
	}
}

func TestNewEncoderErrors(t *testing.T) {
	spec := smallSpec(ArchLeNetS, 1, 16, 16, 3)
	tr, _ := newTestTrainer(t, spec, 1, 2, Float32, DefaultOpt(OptSGD), 1)
	edit := func(f func(p map[string]Tensor)) map[string]Tensor {
		p := tr.Params()
		f(p)
		return p
	}
	for _, c := range []struct {
		name  string
		spec  Spec
		p     map[string]Tensor
		batch int
		want  string // "" for no error
	}{
		{"all params", spec, tr.Params(), 4, ""},
		{"head ignored", spec, edit(func(p map[string]Tensor) { p["head.weight"] = Tensor{Shape: []int{1}, Data: []float32{1}} }), 4, ""},
		{"missing", spec, edit(func(p map[string]Tensor) { delete(p, "encoder.fc1.bias") }), 4, "missing parameter encoder.fc1.bias [64]"},
		{"shape", spec, edit(func(p map[string]Tensor) {
			p["encoder.conv2.weight"] = Tensor{Shape: []int{16, 8, 3, 3}, Data: make([]float32, 16*8*9)}
		}), 4, "encoder.conv2.weight has shape [16 8 3 3], want [16 8 5 5]"},
		{"length", spec, edit(func(p map[string]Tensor) { p["encoder.fc2.bias"] = Tensor{Shape: []int{3}, Data: make([]float32, 4)} }), 4, "encoder.fc2.bias has 4 values, want 3"},
		{"unknown", spec, edit(func(p map[string]Tensor) { p["encoder.fc3.weight"] = Tensor{Shape: []int{1}, Data: []float32{1}} }), 4, "has no parameters encoder.fc3.weight"},
		{"other input size", smallSpec(ArchLeNetS, 1, 20, 20, 3), tr.Params(), 4, "encoder.fc1.weight has shape [64 16], want [64 64]"},
		{"bad spec", smallSpec(ArchLeNetS, 1, 12, 12, 3), tr.Params(), 4, "at least 16×16"},
		{"batch 0", spec, tr.Params(), 0, "batch 0"},
	} {
		_, err := NewEncoder(c.spec, c.p, c.batch)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
