package core

import (
	"slices"
	"strings"
	"testing"
)

// TestOptStateResume trains 6 steps in one go, and 3 steps, then a new
// trainer given the parameters, the optimiser's state and Iter of the
// first 3 steps for 3 more: both end with the same parameters, bit for
// bit, for Adam (moments and bias correction) and SGD (velocity), and
// the state of the 6-step run is the resumed run's. Without the
// optimiser's state the resumed run differs.
func TestOptStateResume(t *testing.T) {
	spec := smallSpec(ArchMLP, 1, 6, 6, 3)
	for _, name := range []string{OptAdam, OptSGD} {
		opt := DefaultOpt(name)
		opt.Schedule, opt.TotalSteps = ScheduleCosine, 6
		steps := func(tr *Trainer, from, to int) {
			for s := from; s < to; s++ {
				x, labels := testBatch(spec, 4, 3, uint64(s))
				if _, err := tr.Step(x, labels); err != nil {
					t.Fatal(err)
				}
			}
		}
		whole, _ := newTestTrainer(t, spec, 4, 3, Float32, opt, 7)
		steps(whole, 0, 6)

		first, _ := newTestTrainer(t, spec, 4, 3, Float32, opt, 7)
		steps(first, 0, 3)
		params, state := first.Params(), first.OptState()
		for _, skip := range []bool{false, true} {
			tr, _ := newTestTrainer(t, spec, 4, 3, Float32, opt, 99) // another seed: every value comes from the checkpoint
			if err := tr.SetParams(params); err != nil {
				t.Fatal(err)
			}
			if !skip {
				if err := tr.SetOptState(state); err != nil {
					t.Fatal(err)
				}
			}
			tr.SetIter(3)
			steps(tr, 3, 6)
			if skip {
				if w, g := whole.Params()["encoder.fc1.weight"].Data, tr.Params()["encoder.fc1.weight"].Data; slices.Equal(w, g) {
					t.Errorf("%s: resumed without the optimiser's state, yet equal to the whole run: the test cannot tell", name)
				}
				continue
			}
			assertParamsEqual(t, name+" resumed", tr.Params(), whole.Params())
			a, b := tr.OptState(), whole.OptState()
			if a.T != 6 || b.T != 6 {
				t.Errorf("%s: %d and %d updates, want 6", name, a.T, b.T)
			}
			assertParamsEqual(t, name+" first moments", a.M, b.M)
			if name == OptAdam {
				assertParamsEqual(t, name+" second moments", a.V, b.V)
			} else if a.V != nil {
				t.Errorf("sgd: second moments %v", a.V)
			}
		}
	}
}

func TestSetOptStateRefuses(t *testing.T) {
	spec := smallSpec(ArchMLP, 1, 6, 6, 3)
	tr, _ := newTestTrainer(t, spec, 4, 3, Float32, DefaultOpt(OptAdam), 1)
	good := tr.OptState()
	sgd, _ := newTestTrainer(t, spec, 4, 3, Float32, DefaultOpt(OptSGD), 1)
	missing := tr.OptState()
	delete(missing.M, "head.weight")
	bad := tr.OptState()
	bad.V["head.bias"] = Tensor{Shape: []int{2}, Data: []float32{1, 2}}
	for _, tc := range []struct {
		name string
		tr   *Trainer
		s    OptState
		says string
	}{
		{"adam's state to sgd", sgd, good, "second moments"},
		{"a learnable without buffer", tr, missing, "head.weight"},
		{"a wrong shape", tr, bad, "head.bias"},
		{"negative updates", tr, OptState{T: -1}, "-1"},
	} {
		if err := tc.tr.SetOptState(tc.s); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want an error about %s", tc.name, err, tc.says)
		}
	}
}
