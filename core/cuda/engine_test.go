//go:build linux

package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"metriclab/core"
	"metriclab/losses"
)

// parityCase is one whole-step parity test: an encoder, a loss and an
// optimiser, trained from the same start on the same batches by the
// gorgonia engine (the reference) and this engine.
type parityCase struct {
	spec  core.Spec
	loss  losses.Config
	opt   string
	batch int
}

// paritySpecs are small inputs of every architecture.
func paritySpecs() []core.Spec {
	in := func(c, h int) core.Input { return core.Input{Channels: c, Height: h, Width: h, Mean: 0.4, Std: 0.3} }
	return []core.Spec{
		{Arch: core.ArchMLP, Input: in(1, 8), Dim: 5},
		{Arch: core.ArchLeNetS, Input: in(1, 16), Dim: 4},
		{Arch: core.ArchLeNetPP, Input: in(1, 9), Dim: 3},
		{Arch: core.ArchIResNet, Input: in(3, 16), Dim: 8},
	}
}

// parityLosses are every loss, the pair losses with each distance and
// miner. full = false keeps one of each kind of head and objective.
func parityLosses(full bool) []losses.Config {
	all := []losses.Config{
		{Name: "softmax"}, {Name: "l2softmax"}, {Name: "normsoftmax"}, {Name: "cosface"},
		{Name: "arcface"}, {Name: "arcface", Values: map[string]float64{"easy_margin": 1}}, {Name: "combined", Values: map[string]float64{"m1": 2}},
		{Name: "sphereface"}, {Name: "sphereface", Values: map[string]float64{"lambda_base": 0, "lambda_min": 0}},
		{Name: "contrastive"}, {Name: "contrastive", Distance: "euclidean"},
		{Name: "triplet", Miner: "all"}, {Name: "triplet", Miner: "hard"}, {Name: "triplet", Miner: "semihard"},
		{Name: "triplet", Miner: "easy"}, {Name: "triplet", Miner: "semihard", Distance: "euclidean"},
	}
	if full {
		return all
	}
	var some []losses.Config
	for _, c := range all {
		switch {
		case c.Name == "softmax", c.Name == "l2softmax", c.Name == "arcface" && c.Values == nil,
			c.Name == "sphereface" && c.Values == nil, c.Name == "contrastive" && c.Distance == "",
			c.Name == "triplet" && c.Miner == "semihard" && c.Distance == "":
			some = append(some, c)
		}
	}
	return some
}

func (c parityCase) String() string {
	s := c.spec.Arch + "/" + c.loss.Name
	for k, v := range c.loss.Values {
		s += "," + k + "=" + strings.TrimRight(strings.TrimRight(name(v), "0"), ".")
	}
	if c.loss.Miner != "" {
		s += "," + c.loss.Miner
	}
	if c.loss.Distance != "" {
		s += "," + c.loss.Distance
	}
	return s + "/" + c.opt
}

// parityBatch returns batch images and labels: P×K (k = 4) for triplet,
// cycling classes otherwise.
func parityBatch(spec core.Spec, n, classes int, triplet bool, seed uint64) ([]float32, []int) {
	rng := rand.New(rand.NewPCG(seed, 9))
	x := make([]float32, n*spec.Input.Size())
	for i := range x {
		x[i] = rng.Float32()
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % classes
		if triplet {
			labels[i] = i / 4 % classes
		}
	}
	return x, labels
}

// newPair builds both engines of c.
func newPair(t *testing.T, b Backend, c parityCase, classes int, opts Options) (*core.Trainer, *Trainer) {
	t.Helper()
	cfg := c.loss
	cfg.Dim = c.spec.Dim
	lossRef, err := losses.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lossDev, _ := losses.New(cfg)
	opt := core.DefaultOpt(c.opt)
	opt.LR = 0.01
	tc := core.TrainConfig{Batch: c.batch, Classes: classes, Opt: opt, Seed: 3}
	ref, err := core.NewTrainer(c.spec, lossRef, tc)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := NewTrainer(b, c.spec, lossDev, tc, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := dev.Close(); err != nil {
			t.Error(err)
		}
	})
	return ref, dev
}

// compareParams checks every parameter of dev against ref.
func compareParams(t *testing.T, what string, dev, ref map[string]core.Tensor, atol, rtol float64) {
	t.Helper()
	for name, r := range ref {
		d, ok := dev[name]
		if !ok {
			t.Errorf("%s: no parameter %s", what, name)
			continue
		}
		if !slices.Equal(d.Shape, r.Shape) {
			t.Errorf("%s: %s has shape %v, want %v", what, name, d.Shape, r.Shape)
			continue
		}
		checkClose(t, what+" "+name, d.Data, f64s(r.Data), atol, rtol)
	}
	if len(dev) != len(ref) {
		t.Errorf("%s: %d parameters, reference %d", what, len(dev), len(ref))
	}
}

// runParity checks one case: the same start, then on one batch the loss
// and every gradient within 1e-4 + 1e-3·|ref| (and the running statistics
// the forward updated), then two optimiser steps and the parameters.
func runParity(t *testing.T, b Backend, c parityCase) {
	const classes = 3
	ref, dev := newPair(t, b, c, classes, Options{ColBytes: 4 << 10}) // small: convolutions run in chunks
	compareParams(t, "start", dev.Params(), ref.Params(), 0, 0)
	triplet := c.loss.Name == "triplet"
	x, labels := parityBatch(c.spec, c.batch, classes, triplet, 1)
	lr, gr, err := ref.Gradients(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	ld, gd, err := dev.Gradients(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "loss", []float32{float32(ld)}, []float64{lr}, parityAtol, parityRtol)
	compareParams(t, "gradient", gd, gr, parityAtol, parityRtol)
	compareParams(t, "after forward", dev.Params(), ref.Params(), parityAtol, parityRtol)
	for step := 0; step < 2; step++ {
		x, labels := parityBatch(c.spec, c.batch, classes, triplet, uint64(2+step))
		lr, err := ref.Step(x, labels)
		if err != nil {
			t.Fatal(err)
		}
		ld, err := dev.Step(x, labels)
		if err != nil {
			t.Fatal(err)
		}
		checkClose(t, name("step", step, "loss"), []float32{float32(ld)}, []float64{lr}, parityAtol, parityRtol)
	}
	compareParams(t, "after 2 steps", dev.Params(), ref.Params(), parityAtol, parityRtol)
}

// TestStepParity runs every loss on mlp (TestLossKernels checks each
// loss's kernels against gorgonia directly), one loss of each kind of
// head and pair objective on lenet-s and lenetpp, and ArcFace on
// iresnet18 (slow on the emulation; its layers are the others' and batch
// norm), with SGD; Adam on mlp and
// lenet-s. Adam's first steps move every parameter by about ±lr whatever
// the size of its gradient, so a gradient that is zero up to rounding
// (the deep nets have some) takes the sign of the rounding: its parity is
// checked on the gradients and on the two small nets, where no gradient
// is that small.
func TestStepParity(t *testing.T) {
	for _, tb := range backends(t) {
		for _, spec := range paritySpecs() {
			small := spec.Arch == core.ArchLeNetS || spec.Arch == core.ArchMLP
			// iresnet18's last stage is 1×1 at 16×16: its batch norms see
			// batch values per channel. At 4 they normalise near-equal
			// values, and float32 rounding differences grow to 1e-4 of
			// the gradients; at 8 both engines agree to 1e-6.
			batch := 8
			for _, lc := range parityLosses(spec.Arch == core.ArchMLP) {
				if spec.Arch == core.ArchIResNet && lc.Name != "arcface" {
					continue
				}
				for _, opt := range []string{core.OptSGD, core.OptAdam} {
					if opt == core.OptAdam && (!small || testing.Short() && lc.Name != "arcface") {
						continue
					}
					// A euclidean pair loss does not change when every
					// embedding moves by the same vector: the gradient of
					// the last bias is 0 up to rounding (±6e-9), which Adam
					// turns into steps of ±lr whose sign is the rounding's.
					if opt == core.OptAdam && lc.Distance == "euclidean" {
						continue
					}
					c := parityCase{spec: spec, loss: lc, opt: opt, batch: batch}
					t.Run(tb.name+"/"+c.String(), func(t *testing.T) { runParity(t, tb.b, c) })
				}
			}
		}
	}
}

// TestOptStateCount: OptState's T counts the updates applied, as
// core.Trainer's does, SGD's as Adam's; a failed step applies none, and
// SetParams starts the count again.
func TestOptStateCount(t *testing.T) {
	for _, tb := range backends(t) {
		for _, opt := range []string{core.OptSGD, core.OptAdam} {
			c := parityCase{spec: paritySpecs()[0], loss: losses.Config{Name: "arcface"}, opt: opt, batch: 4}
			ref, dev := newPair(t, tb.b, c, 3, Options{})
			x, labels := parityBatch(c.spec, c.batch, 3, false, 1)
			for range 2 {
				for _, e := range []core.Engine{ref, dev} {
					if _, err := e.Step(x, labels); err != nil {
						t.Fatal(err)
					}
				}
			}
			labels[0] = 3
			if _, err := dev.Step(x, labels); err == nil {
				t.Fatalf("%s %s: a label out of range trained", tb.name, opt)
			}
			if got, want := dev.OptState().T, ref.OptState().T; got != want || want != 2 {
				t.Errorf("%s %s: OptState().T = %d after 2 steps, core.Trainer's %d", tb.name, opt, got, want)
			}
			if err := dev.SetParams(dev.Params()); err != nil {
				t.Fatal(err)
			}
			if got := dev.OptState().T; got != 0 {
				t.Errorf("%s %s: OptState().T = %d after SetParams, want 0", tb.name, opt, got)
			}
		}
	}
}

// TestPairLossNonFinite: a step from parameters that are not numbers (an
// update overflowed them) fails on the CUDA engine as on core.Trainer,
// with a NaN loss, for every pair loss: the triplet kernel's miners and
// hinges, false for NaN, made it 0, and the run went on (and
// contrastive's hinges passed over impostor pairs: its batch here has
// no genuine pair). Triplet is also given a batch of one image of each
// class, which has no triplet: its loss is 0 over no triplets, but NaN
// for embeddings that are not numbers, as core.Trainer's.
func TestPairLossNonFinite(t *testing.T) {
	for _, tb := range backends(t) {
		for _, lc := range parityLosses(true) {
			if lc.Name != "triplet" && lc.Name != "contrastive" {
				continue
			}
			c := parityCase{spec: paritySpecs()[0], loss: lc, opt: core.OptSGD, batch: 8}
			classCounts := []int{c.batch} // one image of each class
			if lc.Name == "triplet" {
				classCounts = []int{3, c.batch}
			}
			for _, classes := range classCounts {
				ref, dev := newPair(t, tb.b, c, classes, Options{})
				params := dev.Params()
				params["encoder.fc2.bias"].Data[0] = float32(math.NaN()) // mlp's embedding layer
				x, labels := parityBatch(c.spec, c.batch, classes, lc.Name == "triplet" && classes < c.batch, 1)
				wantNaNStep(t, ref, dev, tb.name, params, x, labels, fmt.Sprintf("%s, %d classes: step from a NaN parameter", c, classes))
			}
		}
	}
}

// TestHiddenNonFinite: a NaN in a hidden layer (mlp's fc1 bias, before
// its ReLU) fails the step on the CUDA engine as on core.Trainer, with a
// NaN loss: ml_relu made the NaN 0, the loss was finite and the run went
// on where the CPU's stopped.
func TestHiddenNonFinite(t *testing.T) {
	for _, tb := range backends(t) {
		c := parityCase{spec: paritySpecs()[0], loss: losses.Config{Name: "arcface"}, opt: core.OptSGD, batch: 8}
		ref, dev := newPair(t, tb.b, c, 3, Options{})
		params := dev.Params()
		params["encoder.fc1.bias"].Data[0] = float32(math.NaN())
		x, labels := parityBatch(c.spec, c.batch, 3, false, 1)
		wantNaNStep(t, ref, dev, tb.name, params, x, labels, c.String()+": step from a NaN hidden bias")
	}
}

// wantNaNStep sets params in ref (core.Trainer) and dev (the backend
// name's engine) and checks that a step of each on x, labels fails with a
// NaN loss, as every engine's step does.
func wantNaNStep(t *testing.T, ref, dev core.Engine, name string, params map[string]core.Tensor, x []float32, labels []int, what string) {
	t.Helper()
	for _, e := range []struct {
		name string
		e    core.Engine
	}{{"core.Trainer", ref}, {name, dev}} {
		if err := e.e.SetParams(params); err != nil {
			t.Fatal(err)
		}
		loss, err := e.e.Step(x, labels)
		if want := "step 1: loss is NaN (lr too high?)"; err == nil || err.Error() != want {
			t.Errorf("%s %s: loss %g, %v; want %q", e.name, what, loss, err, want)
		}
	}
}

// TestOptStateRoundTrip: a CUDA engine restored from another's parameters
// and optimiser state (as a checkpoint does) takes the same next step, bit
// for bit; a state that does not fit the optimiser is refused.
func TestOptStateRoundTrip(t *testing.T) {
	for _, tb := range backends(t) {
		c := parityCase{spec: paritySpecs()[0], loss: losses.Config{Name: "arcface"}, opt: core.OptAdam, batch: 8}
		_, a := newPair(t, tb.b, c, 10, Options{})
		_, b := newPair(t, tb.b, c, 10, Options{})
		x, labels := parityBatch(c.spec, c.batch, 10, false, 1)
		for range 2 {
			if _, err := a.Step(x, labels); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.SetParams(a.Params()); err != nil {
			t.Fatal(err)
		}
		b.SetIter(a.Iter())
		if err := b.SetOptState(a.OptState()); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Step(x, labels); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Step(x, labels); err != nil {
			t.Fatal(err)
		}
		compareParams(t, tb.name+" restored", b.Params(), a.Params(), 0, 0)
		bad := a.OptState()
		bad.V = nil
		if err := b.SetOptState(bad); err == nil {
			t.Errorf("%s: Adam state without second moments accepted", tb.name)
		}
	}
}
