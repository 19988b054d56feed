package core

import (
	"errors"
	"math"
	"testing"
)

// TestShardedStepMatchesStep: two trainers of batch 3, each with half of a
// batch of 6, averaging their gradients, take the step one trainer of batch
// 6 takes (the test loss is a mean over the images), to float32 rounding,
// for three steps; and GradientsTo then ApplyGradients on the whole batch
// is Step exactly. A NaN gradient is an error that says training diverged
// (ErrDiverged) and changes nothing.
func TestShardedStepMatchesStep(t *testing.T) {
	spec := smallSpec(ArchLeNetS, 1, 16, 16, 3)
	opt := DefaultOpt(OptAdam)
	whole, _ := newTestTrainer(t, spec, 6, 3, Float32, opt, 2)
	split, _ := newTestTrainer(t, spec, 6, 3, Float32, opt, 2)
	var shards [2]*Trainer
	for i := range shards {
		shards[i], _ = newTestTrainer(t, spec, 3, 3, Float32, opt, 2)
	}
	n, size := whole.GradLen(), spec.Input.Size()
	g, g0, g1 := make([]float32, n), make([]float32, n), make([]float32, n)
	for s := range 3 {
		x, labels := testBatch(spec, 6, 3, uint64(s))
		lw, err := whole.Step(x, labels)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := split.GradientsTo(g, x, labels)
		if err != nil {
			t.Fatal(err)
		}
		if err := split.ApplyGradients(g); err != nil {
			t.Fatal(err)
		}
		if ls != lw {
			t.Fatalf("step %d: GradientsTo's loss %g, Step's %g", s, ls, lw)
		}
		l0, err := shards[0].GradientsTo(g0, x[:3*size], labels[:3])
		if err != nil {
			t.Fatal(err)
		}
		l1, err := shards[1].GradientsTo(g1, x[3*size:], labels[3:])
		if err != nil {
			t.Fatal(err)
		}
		for i := range g0 {
			g0[i] = (g0[i] + g1[i]) / 2
		}
		for _, sh := range shards {
			if err := sh.ApplyGradients(g0); err != nil {
				t.Fatal(err)
			}
		}
		if d := math.Abs((l0+l1)/2 - lw); d > 1e-5*math.Abs(lw) {
			t.Errorf("step %d: shards' mean loss %g, whole batch %g", s, (l0+l1)/2, lw)
		}
	}
	assertParamsEqual(t, "GradientsTo + ApplyGradients", split.Params(), whole.Params())
	want := whole.Params()
	for _, sh := range shards {
		if sh.Iter() != whole.Iter() {
			t.Errorf("shard at step %d, whole at %d", sh.Iter(), whole.Iter())
		}
		for name, w := range want {
			got := sh.Params()[name]
			for i, v := range w.Data {
				if d := math.Abs(float64(got.Data[i] - v)); d > 1e-4+1e-3*math.Abs(float64(v)) {
					t.Fatalf("%s[%d]: shard %g, whole batch %g", name, i, got.Data[i], v)
				}
			}
		}
	}
	bad := make([]float32, n)
	bad[0] = float32(math.NaN())
	before := shards[0].Params()
	if err := shards[0].ApplyGradients(bad); !errors.Is(err, ErrDiverged) {
		t.Errorf("a NaN gradient: %v, want an error that says training diverged", err)
	}
	assertParamsEqual(t, "after a refused gradient", shards[0].Params(), before)
}
