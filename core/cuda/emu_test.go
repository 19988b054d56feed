//go:build linux

package cuda

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"metriclab/core"
	"metriclab/losses"
)

// emuOnly returns the emulation backend, or skips.
func emuOnly(t *testing.T) *Emu {
	for _, tb := range backends(t) {
		if e, ok := tb.b.(*Emu); ok {
			return e
		}
	}
	t.Skip("no CPU emulation here")
	return nil
}

// barrierSource has a kernel whose threads read what others wrote before
// a barrier (a block-wide shift through shared memory, twice, and a tree
// sum through a __device__ helper), one without barriers, and one that
// hides its barrier behind a macro the launcher cannot see.
const barrierSource = `
#define HIDDEN_BARRIER __syncthreads()
__device__ float tree_sum(float v) {
	__shared__ float s[256];
	s[threadIdx.x] = v;
	__syncthreads();
	for (unsigned k = blockDim.x / 2; k > 0; k >>= 1) {
		if (threadIdx.x < k)
			s[threadIdx.x] += s[threadIdx.x + k];
		__syncthreads();
	}
	float r = s[0];
	__syncthreads();
	return r;
}

extern "C" __global__ void shift_sum(float *out, float *total, const float *in) {
	__shared__ float buf[256];
	unsigned t = threadIdx.x, b = blockIdx.x * blockDim.x;
	buf[t] = in[b + t];
	__syncthreads();
	float left = buf[(t + blockDim.x - 1) % blockDim.x];
	__syncthreads();
	buf[t] = left * 2;
	__syncthreads();
	out[b + t] = buf[(t + 1) % blockDim.x];
	float s = tree_sum(in[b + t]);
	if (t == 0)
		total[blockIdx.x] = s;
}

extern "C" __global__ void scale(float *y, float a, int n) {
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
		y[i] *= a;
}

extern "C" __global__ void hidden(float *y) {
	HIDDEN_BARRIER;
	y[threadIdx.x] = 1;
}
`

// TestEmuBarriers checks the emulation's barriers: results that need every
// thread of the block to pass each barrier together, and an error for a
// barrier the launcher did not expect.
func TestEmuBarriers(t *testing.T) {
	e := emuOnly(t)
	ks, err := emuKernels(barrierSource)
	if err != nil {
		t.Fatal(err)
	}
	var syncs []string
	for _, k := range ks {
		if k.sync {
			syncs = append(syncs, k.name)
		}
	}
	if !slices.Equal(syncs, []string{"shift_sum"}) {
		t.Errorf("kernels with barriers: %v, want [shift_sum] (through tree_sum; hidden's is behind a macro)", syncs)
	}
	if got := ks[0].types; !slices.Equal(got, []string{"float *", "float *", "const float *"}) {
		t.Errorf("shift_sum's parameter types %q", got)
	}
	r := newRig(t, e)
	for _, name := range []string{"shift_sum", "scale", "hidden"} {
		k, err := e.Compile(name, barrierSource)
		if err != nil {
			t.Fatal(err)
		}
		r.k[name] = k
	}
	const blocks = 3
	in := make([]float32, blocks*mlBlock)
	for i := range in {
		in[i] = float32(i % 97)
	}
	out, total := r.zeros(len(in)), r.zeros(blocks)
	r.run("shift_sum", Dim3{blocks, 1, 1}, out, total, r.buf(in))
	got, sums := r.get(out, len(in)), r.get(total, blocks)
	for b := 0; b < blocks; b++ {
		var want float32
		for t2 := 0; t2 < mlBlock; t2++ {
			want += in[b*mlBlock+t2]
			// out[t] = 2·in[t] (shifted right, then read one to the left)
			if g := got[b*mlBlock+t2]; g != 2*in[b*mlBlock+t2] {
				t.Fatalf("block %d thread %d: %v, want %v", b, t2, g, 2*in[b*mlBlock+t2])
			}
		}
		if sums[b] != want {
			t.Errorf("block %d: tree sum %v, want %v", b, sums[b], want)
		}
	}
	y := r.buf([]float32{1, 2, 3})
	r.run("scale", Dim3{1, 1, 1}, y, float32(2), int32(3))
	if got := r.get(y, 3); !slices.Equal(got, []float32{2, 4, 6}) {
		t.Errorf("scale: %v", got)
	}
	err = e.Launch(r.k["hidden"], Dim3{1, 1, 1}, Dim3{4, 1, 1}, 0, 0, r.zeros(4))
	if err == nil || !strings.Contains(err.Error(), "__syncthreads") {
		t.Errorf("a hidden barrier gave %v, want an error naming __syncthreads", err)
	}
}

// TestCaptureRecords checks CUDA's capture rules on the emulation: work
// queued while a stream records does not run until the graph is
// launched, and copies, synchronisation and allocation are refused.
func TestCaptureRecords(t *testing.T) {
	e := emuOnly(t)
	r := newRig(t, e)
	y := r.buf([]float32{1, 2})
	s, _ := e.NewStream()
	if err := e.BeginCapture(s); err != nil {
		t.Fatal(err)
	}
	if err := e.Launch(r.k["ml_fill"], Dim3{1, 1, 1}, Dim3{mlBlock, 1, 1}, 0, s, y, int32(2), float32(7)); err != nil {
		t.Fatal(err)
	}
	var ce *CallError
	for what, err := range map[string]error{
		"CopyOut":     e.CopyOut(make([]float32, 2), y, s),
		"CopyIn":      e.CopyIn(y, []float32{0, 0}, s),
		"Synchronize": e.Synchronize(s),
		"Alloc":       func() error { _, err := e.Alloc(4); return err }(),
	} {
		if !errors.As(err, &ce) || ce.Code != Result(900) {
			t.Errorf("%s while recording: %v, want CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", what, err)
		}
	}
	g, err := e.EndCapture(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.get(y, 2); !slices.Equal(got, []float32{1, 2}) {
		t.Errorf("recorded work ran during the capture: %v", got)
	}
	if err := e.LaunchGraph(g, s); err != nil {
		t.Fatal(err)
	}
	if got := r.get(y, 2); !slices.Equal(got, []float32{7, 7}) {
		t.Errorf("graph launch gave %v, want [7 7]", got)
	}
	if err := e.DestroyGraph(g); err != nil {
		t.Fatal(err)
	}
	if err := e.LaunchGraph(g, s); err == nil {
		t.Error("launch of a destroyed graph did not fail")
	}
}

// TestGraphMatchesEager trains the same steps with the step captured as
// a graph after one eager step and without a graph: the parameters must
// be identical bit for bit on the emulation (the graph replays the same
// launches) and within 1e-6 on a GPU (cuBLAS may pick another algorithm
// inside a graph), and the learning-rate and λ schedules must reach the
// replayed graph.
func TestGraphMatchesEager(t *testing.T) {
	for _, tb := range backends(t) {
		spec := paritySpecs()[1] // lenet-s
		var got [2]map[string]core.Tensor
		for i, opts := range []Options{{NoGraph: true}, {EagerSteps: 1}} {
			loss, _ := losses.New(losses.Config{Name: "sphereface", Dim: spec.Dim})
			opt := core.DefaultOpt(core.OptAdam)
			opt.Schedule, opt.TotalSteps = core.ScheduleCosine, 5
			tr, err := NewTrainer(tb.b, spec, loss, core.TrainConfig{Batch: 8, Classes: 3, Opt: opt, Seed: 5}, opts)
			if err != nil {
				t.Fatal(err)
			}
			for step := 0; step < 4; step++ {
				x, labels := parityBatch(spec, 8, 3, false, uint64(step))
				if _, err := tr.Step(x, labels); err != nil {
					t.Fatal(err)
				}
			}
			if tr.graphed == opts.NoGraph {
				t.Errorf("%s %+v: graphed = %v", tb.name, opts, tr.graphed)
			}
			got[i] = tr.Params()
			tr.Close()
		}
		tol := 0.0
		if tb.name == "device" {
			tol = 1e-6
		}
		compareParams(t, tb.name+" graph against eager", got[1], got[0], tol, tol)
	}
}

// TestNonFiniteStep checks that a step whose loss is not finite is an
// error that leaves every parameter as it was, as in core.Trainer.
func TestNonFiniteStep(t *testing.T) {
	for _, tb := range backends(t) {
		spec := paritySpecs()[0]
		loss, _ := losses.New(losses.Config{Name: "softmax", Dim: spec.Dim})
		tr, err := NewTrainer(tb.b, spec, loss, core.TrainConfig{Batch: 4, Classes: 3, Opt: core.DefaultOpt(core.OptSGD), Seed: 1}, Options{EagerSteps: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		x, labels := parityBatch(spec, 4, 3, false, 1)
		for i := 0; i < 2; i++ { // the second step runs the captured graph
			p := tr.Params()
			w := p["head.bias"]
			w.Data[0] = float32(math.Inf(1))
			if err := tr.SetParams(p); err != nil {
				t.Fatal(err)
			}
			before, iter := tr.Params(), tr.Iter()
			_, err := tr.Step(x, labels)
			if err == nil || !strings.Contains(err.Error(), "loss is") {
				t.Fatalf("%s: step with an infinite bias: %v", tb.name, err)
			}
			if tr.Iter() != iter {
				t.Errorf("Iter = %d after a failed step, was %d", tr.Iter(), iter)
			}
			after := tr.Params()
			for name, v := range before {
				for j, x := range v.Data {
					if y := after[name].Data[j]; y != x && !(math.IsNaN(float64(x)) && math.IsNaN(float64(y))) {
						t.Fatalf("%s: %s[%d] changed from %v to %v", tb.name, name, j, x, y)
					}
				}
			}
			p["head.bias"].Data[0] = 0
			if err := tr.SetParams(p); err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Step(x, labels); err != nil {
				t.Fatalf("step after repair: %v", err)
			}
		}
	}
}

// TestLossOverflowsFloat32 checks a loss that is finite in float64 but
// not in the float32 that the step returns (the head's biases at ∓3e38
// make each row's loss about 6e38, above float32's 3.4e38): the step is
// an error, as in core.Trainer, whose float32 graph gives +Inf, and so
// the update kernels must skip it too, leaving every parameter as it was.
func TestLossOverflowsFloat32(t *testing.T) {
	for _, tb := range backends(t) {
		spec := paritySpecs()[0]
		loss, _ := losses.New(losses.Config{Name: "softmax", Dim: spec.Dim})
		cfg := core.TrainConfig{Batch: 4, Classes: 3, Opt: core.DefaultOpt(core.OptSGD), Seed: 1}
		for _, opts := range []Options{{NoGraph: true}, {EagerSteps: 1}} {
			tr, err := NewTrainer(tb.b, spec, loss, cfg, opts)
			if err != nil {
				t.Fatal(err)
			}
			x, _ := parityBatch(spec, 4, 3, false, 1)
			labels := []int{0, 0, 0, 0}
			if _, err := tr.Step(x, labels); err != nil { // eager; the next step runs the graph when there is one
				t.Fatal(err)
			}
			p := tr.Params()
			copy(p["head.bias"].Data, []float32{-3e38, 3e38, 3e38})
			if err := tr.SetParams(p); err != nil {
				t.Fatal(err)
			}
			before, iter := tr.Params(), tr.Iter()
			// The CPU engine at the same step, from the same parameters.
			refLoss, _ := losses.New(losses.Config{Name: "softmax", Dim: spec.Dim})
			ref, err := core.NewTrainer(spec, refLoss, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := ref.SetParams(p); err != nil {
				t.Fatal(err)
			}
			ref.SetIter(iter)
			_, want := ref.Step(x, labels)
			l, err := tr.Step(x, labels)
			if err == nil || want == nil || err.Error() != want.Error() {
				t.Errorf("%s %+v: step with a loss of 6e38: %v, %v; want the CPU engine's error %v", tb.name, opts, l, err, want)
			}
			if tr.Iter() != iter {
				t.Errorf("%s %+v: Iter = %d after a failed step, was %d", tb.name, opts, tr.Iter(), iter)
			}
			after := tr.Params()
		compare:
			for name, v := range before {
				for j, x := range v.Data {
					if y := after[name].Data[j]; y != x {
						t.Errorf("%s %+v: %s[%d] changed from %v to %v by a step whose loss overflowed", tb.name, opts, name, j, x, y)
						break compare
					}
				}
			}
			tr.Close()
		}
	}
}

// TestEmbedMatchesEncoder trains iresnet18 one step (so that the running
// statistics move) and compares the engine's evaluation-mode embeddings
// with core.NewEncoder's on its parameters, over two chunks and a partial
// one.
func TestEmbedMatchesEncoder(t *testing.T) {
	for _, tb := range backends(t) {
		spec := paritySpecs()[3]
		loss, _ := losses.New(losses.Config{Name: "arcface", Dim: spec.Dim})
		tr, err := NewTrainer(tb.b, spec, loss, core.TrainConfig{Batch: 4, Classes: 3, Opt: core.DefaultOpt(core.OptSGD), Seed: 2}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		x, labels := parityBatch(spec, 4, 3, false, 1)
		if _, err := tr.Step(x, labels); err != nil {
			t.Fatal(err)
		}
		const n = 9
		imgs, _ := parityBatch(spec, n, 3, false, 2)
		got, err := tr.Embed(nil, imgs, n)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := core.NewEncoder(spec, tr.Params(), 4)
		if err != nil {
			t.Fatal(err)
		}
		want, err := enc.Embed(nil, imgs, n)
		if err != nil {
			t.Fatal(err)
		}
		checkClose(t, tb.name+" embeddings", got, f64s(want), parityAtol, parityRtol)
	}
}

// TestTrainerErrors checks what the engine refuses, in one line each.
func TestTrainerErrors(t *testing.T) {
	tb := backends(t)[0]
	spec := paritySpecs()[0]
	loss, _ := losses.New(losses.Config{Name: "arcface", Dim: spec.Dim})
	cfg := core.TrainConfig{Batch: 4, Classes: 3, Opt: core.DefaultOpt(core.OptSGD)}
	f64 := cfg
	f64.Dtype = core.Float64
	for what, c := range map[string]struct {
		loss core.Loss
		cfg  core.TrainConfig
		want string
	}{
		"float64":      {loss, f64, "dtype float64"},
		"batch 1":      {loss, core.TrainConfig{Batch: 1, Classes: 3, Opt: cfg.Opt}, "batch 1"},
		"opaque loss":  {opaqueLoss{loss}, cfg, "does not describe itself"},
		"no optimiser": {loss, core.TrainConfig{Batch: 4, Classes: 3}, "unknown optimiser"},
	} {
		_, err := NewTrainer(tb.b, spec, c.loss, c.cfg, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line with %q", what, err, c.want)
		}
	}
	tr, err := NewTrainer(tb.b, spec, loss, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	x, labels := parityBatch(spec, 4, 3, false, 1)
	labels[2] = 3
	if _, err := tr.Step(x, labels); err == nil || !strings.Contains(err.Error(), "label 3 of image 2 out of range") {
		t.Errorf("label out of range: %v", err)
	}
	p := tr.Params()
	delete(p, "encoder.fc1.bias")
	if err := tr.SetParams(p); err == nil || !strings.Contains(err.Error(), "missing parameter encoder.fc1.bias") {
		t.Errorf("SetParams without a parameter: %v", err)
	}
	p = tr.Params()
	p["encoder.nope"] = core.Tensor{Shape: []int{1}, Data: []float32{1}}
	if err := tr.SetParams(p); err == nil || !strings.Contains(err.Error(), "unknown parameters encoder.nope") {
		t.Errorf("SetParams with an unknown parameter: %v", err)
	}
}

// TestClosedTrainer steps a trainer, closes it and calls every method
// that would use the device: each refuses with ErrTrainerClosed (Params
// and OptState panic), on a backend the trainer borrows, which stays
// open, and on one it owns (NewEngineFunc; here one whose Close does
// nothing, so that the emulation stays open under the calls).
func TestClosedTrainer(t *testing.T) {
	tb := backends(t)[0]
	spec := paritySpecs()[0]
	loss, _ := losses.New(losses.Config{Name: "arcface", Dim: spec.Dim})
	cfg := core.TrainConfig{Batch: 4, Classes: 3, Opt: core.DefaultOpt(core.OptAdam)}
	owned := NewEngineFunc(func() (Backend, error) { return keepOpen{tb.b}, nil }, Options{})
	for what, open := range map[string]func() (*Trainer, error){
		"borrowed": func() (*Trainer, error) { return NewTrainer(tb.b, spec, loss, cfg, Options{}) },
		"owned": func() (*Trainer, error) {
			e, err := owned(spec, loss, cfg)
			if err != nil {
				return nil, err
			}
			return e.(*Trainer), nil
		},
	} {
		tr, err := open()
		if err != nil {
			t.Fatal(err)
		}
		x, labels := parityBatch(spec, 4, 3, false, 1)
		if _, err := tr.Step(x, labels); err != nil {
			t.Fatal(err)
		}
		p, s := tr.Params(), tr.OptState()
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
		if err := tr.Close(); err != nil {
			t.Errorf("%s: Close again: %v", what, err)
		}
		for call, f := range map[string]func() error{
			"Step":        func() error { _, err := tr.Step(x, labels); return err },
			"StepAgain":   func() error { _, err := tr.StepAgain(); return err },
			"Gradients":   func() error { _, _, err := tr.Gradients(x, labels); return err },
			"Embed":       func() error { _, err := tr.Embed(nil, x, 4); return err },
			"SetParams":   func() error { return tr.SetParams(p) },
			"SetOptState": func() error { return tr.SetOptState(s) },
		} {
			if err := f(); !errors.Is(err, ErrTrainerClosed) {
				t.Errorf("%s: %s after Close: %v, want %v", what, call, err, ErrTrainerClosed)
			}
		}
		for call, f := range map[string]func(){"Params": func() { tr.Params() }, "OptState": func() { tr.OptState() }} {
			func() {
				defer func() {
					if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "the trainer is closed") {
						t.Errorf("%s: %s after Close: panic %v, want one saying the trainer is closed", what, call, r)
					}
				}()
				f()
			}()
		}
	}
}

// keepOpen is a backend whose Close leaves it open.
type keepOpen struct{ Backend }

func (keepOpen) Close() error { return nil }

// TestCheckCount checks the bound on a launch's count at 2³⁰ values, and
// its error: one line naming the op and the count.
func TestCheckCount(t *testing.T) {
	if err := checkCount("ml_relu", 1<<30); err != nil {
		t.Errorf("2³⁰ values: %v, want no error (the last index past the end is 2³¹ − 1)", err)
	}
	err := checkCount("ml_relu", 1<<30+1)
	if err == nil || !strings.Contains(err.Error(), "ml_relu over 1073741825 values") || strings.Contains(err.Error(), "\n") {
		t.Errorf("2³⁰ + 1 values: %v, want one line naming ml_relu and the count", err)
	}
}

// TestTrainerTooLarge builds a trainer whose batch (2²⁴ + 1 images of
// 8×8) is 2³⁰ + 64 values: NewTrainer refuses it with checkCount's error
// before allocating it, and a backend that fails the test on any
// allocation of more than 1 GiB checks that it does.
func TestTrainerTooLarge(t *testing.T) {
	tb := backends(t)[0]
	spec := paritySpecs()[0]
	loss, _ := losses.New(losses.Config{Name: "arcface", Dim: spec.Dim})
	cfg := core.TrainConfig{Batch: 1<<24 + 1, Classes: 3, Opt: core.DefaultOpt(core.OptSGD)}
	_, err := NewTrainer(allocCap{tb.b, t, 1 << 30}, spec, loss, cfg, Options{})
	if err == nil || !strings.Contains(err.Error(), "over 1073741888 values") {
		t.Errorf("batch of 2³⁰ + 64 values: %v, want checkCount's error", err)
	}
}

// allocCap is a backend that fails the test on an allocation of more
// than max bytes, and refuses it.
type allocCap struct {
	Backend
	t   *testing.T
	max int
}

func (b allocCap) Alloc(n int) (Buffer, error) {
	if n > b.max {
		b.t.Errorf("allocated %d bytes", n)
		return Buffer{}, errors.New("the test refuses it")
	}
	return b.Backend.Alloc(n)
}

// opaqueLoss hides a loss's LossPlan.
type opaqueLoss struct{ core.Loss }
