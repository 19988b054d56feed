package core

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"metriclab/core/msg"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// softmaxCE is a test-only loss: a linear head on the raw embedding and
// softmax cross-entropy, from gorgonia built-ins (package losses is not
// imported here):
//
//	L = −(1/N) Σ_n Σ_c onehot[n,c] · log softmax(e_n·Wᵀ + b)_c
type softmaxCE struct {
	w, b   *G.Node
	before []int // iterations BeforeStep saw
}

func (l *softmaxCE) Name() string               { return "test-softmax" }
func (l *softmaxCE) Params() map[string]float64 { return nil }
func (l *softmaxCE) BeforeStep(iter int) error  { l.before = append(l.before, iter); return nil }
func (l *softmaxCE) Learnables() []NamedNode {
	return []NamedNode{{Name: "head.weight", Node: l.w}, {Name: "head.bias", Node: l.b}}
}

func (l *softmaxCE) Build(g *G.ExprGraph, emb, onehot *G.Node, classes int) (*G.Node, error) {
	dt := emb.Dtype()
	n, d := emb.Shape()[0], emb.Shape()[1]
	l.w = G.NewMatrix(g, dt, G.WithShape(classes, d), G.WithName("head.weight"), G.WithInit(G.Zeroes()))
	l.b = G.NewVector(g, dt, G.WithShape(classes), G.WithName("head.bias"), G.WithInit(G.Zeroes()))
	logits, err := linear(emb, l.w, l.b)
	if err != nil {
		return nil, err
	}
	ls, err := G.LogSoftMax(logits)
	if err != nil {
		return nil, err
	}
	prod, err := G.HadamardProd(onehot, ls)
	if err != nil {
		return nil, err
	}
	sum, err := G.Sum(prod)
	if err != nil {
		return nil, err
	}
	var scale *G.Node
	if dt == tensor.Float32 {
		scale = G.NewConstant(float32(-1 / float64(n)))
	} else {
		scale = G.NewConstant(-1 / float64(n))
	}
	return G.Mul(sum, scale)
}

// testBatch returns n images of spec's input with pixels uniform in [0,1]
// and labels cycling through 0..classes−1.
func testBatch(spec Spec, n, classes int, seed uint64) ([]float32, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*spec.Input.Size())
	for i := range x {
		x[i] = rng.Float32()
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % classes
	}
	return x, labels
}

func newTestTrainer(t testing.TB, spec Spec, batch, classes int, dtype string, opt OptConfig, seed int64) (*Trainer, *softmaxCE) {
	t.Helper()
	loss := &softmaxCE{}
	tr, err := NewTrainer(spec, loss, TrainConfig{Batch: batch, Classes: classes, Opt: opt, Seed: seed, Dtype: dtype})
	if err != nil {
		t.Fatalf("NewTrainer(%s %v): %v", spec.Arch, spec.Input, err)
	}
	return tr, loss
}

func smallSpec(arch string, ch, h, w, dim int) Spec {
	return Spec{Arch: arch, Input: Input{Channels: ch, Height: h, Width: w, Mean: 0.5, Std: 0.25}, Dim: dim}
}

func TestSpecValidate(t *testing.T) {
	ok := DefaultSpec(ArchLeNetS, 3)
	with := func(f func(*Spec)) Spec { s := ok; f(&s); return s }
	for _, c := range []struct {
		name string
		spec Spec
		want string // substring of the error, "" for valid
	}{
		{"lenet-s mnist", ok, ""},
		{"mlp mnist", DefaultSpec(ArchMLP, 2), ""},
		{"lenetpp mnist", DefaultSpec(ArchLeNetPP, 512), ""},
		{"faces 3×112", smallSpec(ArchLeNetPP, 3, 112, 112, 128), ""},
		{"lenet-s at its minimum", smallSpec(ArchLeNetS, 1, 16, 16, 2), ""},
		{"lenetpp at its minimum", smallSpec(ArchLeNetPP, 1, 8, 8, 2), ""},
		{"mlp 1×1", smallSpec(ArchMLP, 1, 1, 1, 2), ""},
		{"unknown arch", with(func(s *Spec) { s.Arch = "resnet" }), `unknown architecture "resnet"`},
		{"dim 1", with(func(s *Spec) { s.Dim = 1 }), "dimension 1 out of range"},
		{"dim 513", with(func(s *Spec) { s.Dim = 513 }), "dimension 513 out of range"},
		{"2 channels", with(func(s *Spec) { s.Input.Channels = 2 }), "channels 2"},
		{"lenet-s 15 high", smallSpec(ArchLeNetS, 1, 15, 28, 2), "at least 16×16, got 15×28"},
		{"lenet-s 15 wide", smallSpec(ArchLeNetS, 1, 28, 15, 2), "at least 16×16, got 28×15"},
		{"lenetpp 7", smallSpec(ArchLeNetPP, 1, 7, 7, 2), "lenetpp needs input of at least 8×8"},
		{"mlp 0 wide", smallSpec(ArchMLP, 1, 4, 0, 2), "at least 1×1"},
		{"lenetpp at the largest side", smallSpec(ArchLeNetPP, 3, msg.MaxSide, msg.MaxSide, 2), ""},
		{"mlp a pixel too high", smallSpec(ArchMLP, 1, msg.MaxSide+1, 8, 2), "input 257×8: sides of at most 256"},
		{"lenet-s a pixel too wide", smallSpec(ArchLeNetS, 3, 16, msg.MaxSide+1, 2), "input 16×257: sides of at most 256"},
		{"std 0", with(func(s *Spec) { s.Input.Std = 0 }), "std 0"},
		{"std NaN", with(func(s *Spec) { s.Input.Std = math.NaN() }), "std NaN"},
		{"std tiny", with(func(s *Spec) { s.Input.Std = 1e-300 }), "input std 1e-300: want a value in [1e-06, 1e+06]"},
		{"mean huge", with(func(s *Spec) { s.Input.Mean = -1e300 }), "input mean -1e+300: want a value in [-1e+06, 1e+06]"},
		{"mean Inf", with(func(s *Spec) { s.Input.Mean = math.Inf(1) }), "mean +Inf"},
		{"lenet-s embed_bn", with(func(s *Spec) { s.EmbedBN = true }), ""},
		{"named crops", with(func(s *Spec) { s.Crop = Crops["upper"] }), ""},
		{"crop x0 = x1", with(func(s *Spec) { s.Crop = Crop{0.5, 0, 0.5, 1} }), "want x0 < x1 and y0 < y1"},
		{"crop upside down", with(func(s *Spec) { s.Crop = Crop{0, 1, 1, 0} }), "want x0 < x1 and y0 < y1"},
		{"crop outside", with(func(s *Spec) { s.Crop = Crop{0, 0, 1.5, 1} }), "fractions must be in [0, 1]"},
		{"crop NaN", with(func(s *Spec) { s.Crop = Crop{math.NaN(), 0, 1, 1} }), "fractions must be in [0, 1]"},
		{"crop of a pixel", with(func(s *Spec) { s.Crop = Crop{0, 0, 1, 0.04} }), "is 1×28 pixels: want at least 2×2"},
		{"views", with(func(s *Spec) { s.Views = []Crop{{}, Crops["upper"], Crops["lower"]} }), ""},
		{"one view", with(func(s *Spec) { s.Views = []Crop{Crops["upper"]} }), "1 views: want 2 to 8 (one window is a crop)"},
		{"nine views", with(func(s *Spec) { s.Views = make([]Crop, 9) }), "9 views: want 2 to 8"},
		{"views and a crop", with(func(s *Spec) { s.Views, s.Crop = []Crop{{}, Crops["upper"]}, Crops["lower"] }), "a crop and views"},
		{"a view twice", with(func(s *Spec) { s.Views = []Crop{{}, Crops["upper"], Crops["upper"]} }), "view 2 (upper) repeats view 1"},
		{"the whole twice", with(func(s *Spec) { s.Views = []Crop{{}, {}} }), "view 1 (whole) repeats view 0"},
		{"the whole by fractions", with(func(s *Spec) { s.Views = []Crop{{0, 0, 1, 1}, Crops["upper"], {}} }), "view 2 (whole) repeats view 0 (0:0:1:1) at 28×28"},
		{"the same pixels", with(func(s *Spec) { s.Views = []Crop{{}, {0, 0, 1, 0.55}, {0, 0, 1, 0.54}} }), "view 2 (0:0:1:0.54) repeats view 1 (upper) at 28×28"},
		{"a view upside down", with(func(s *Spec) { s.Views = []Crop{{}, {0, 1, 1, 0}} }), "view 1: crop [0 1 1 0]: want x0 < x1"},
		{"iresnet18 embed_bn", Spec{Arch: ArchIResNet, Input: Input{Channels: 3, Height: 16, Width: 16, Std: 1}, Dim: 8, EmbedBN: true}, "batch-normalised embedding already"},
	} {
		err := c.spec.ValidateTraining()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		// A model file may repeat a window (joined models): Validate
		// refuses the rest alike.
		repeat := strings.Contains(c.want, "repeats")
		if err := c.spec.Validate(); repeat && err != nil {
			t.Errorf("%s: Validate: %v, want nil (a repeated window is a training error)", c.name, err)
		} else if !repeat && c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: Validate: %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

// TestParamShapes checks ParamShapes against shapes worked out by hand
// from the architectures, against the learnables of the built graph, and
// that one training step runs with them.
func TestParamShapes(t *testing.T) {
	for _, c := range []struct {
		spec Spec
		want map[string][]int // a hand-computed subset of ParamShapes
		n    int              // number of encoder parameters
	}{
		// 784 → 256 → 3.
		{DefaultSpec(ArchMLP, 3), map[string][]int{"encoder.fc1.weight": {256, 784}, "encoder.fc1.bias": {256}, "encoder.fc2.weight": {3, 256}, "encoder.fc2.bias": {3}}, 4},
		// 28 → 24 → 12 → 8 → 4: fc1 in = 16·4·4 = 256.
		{DefaultSpec(ArchLeNetS, 2), map[string][]int{"encoder.conv1.weight": {8, 1, 5, 5}, "encoder.conv1.bias": {8}, "encoder.conv2.weight": {16, 8, 5, 5}, "encoder.fc1.weight": {64, 256}, "encoder.fc2.weight": {2, 64}, "encoder.fc2.bias": {2}}, 8},
		// 28 → 14 → 7 → 3: fc in = 128·3·3 = 1152.
		{DefaultSpec(ArchLeNetPP, 2), map[string][]int{"encoder.conv1a.weight": {32, 1, 5, 5}, "encoder.conv1b.weight": {32, 32, 5, 5}, "encoder.prelu1a.weight": {32}, "encoder.conv2a.weight": {64, 32, 5, 5}, "encoder.prelu2b.weight": {64}, "encoder.conv3b.weight": {128, 128, 5, 5}, "encoder.conv3b.bias": {128}, "encoder.prelu3b.weight": {128}, "encoder.fc.weight": {2, 1152}, "encoder.fc.bias": {2}}, 20},
		// 1·32·32 = 1024 inputs.
		{smallSpec(ArchMLP, 1, 32, 32, 8), map[string][]int{"encoder.fc1.weight": {256, 1024}}, 4},
		// 3·112·112 = 37632 inputs.
		{smallSpec(ArchMLP, 3, 112, 112, 8), map[string][]int{"encoder.fc1.weight": {256, 37632}}, 4},
		// 32 → 28 → 14 → 10 → 5: fc1 in = 16·5·5 = 400.
		{smallSpec(ArchLeNetS, 1, 32, 32, 8), map[string][]int{"encoder.conv1.weight": {8, 1, 5, 5}, "encoder.fc1.weight": {64, 400}}, 8},
		// 112 → 108 → 54 → 50 → 25: fc1 in = 16·25·25 = 10000.
		{smallSpec(ArchLeNetS, 3, 112, 112, 8), map[string][]int{"encoder.conv1.weight": {8, 3, 5, 5}, "encoder.fc1.weight": {64, 10000}}, 8},
		// 17×20 → 13×16 → 6×8 → 2×4 → 1×2: odd sides floor, H and W apart.
		{smallSpec(ArchLeNetS, 1, 17, 20, 2), map[string][]int{"encoder.fc1.weight": {64, 32}}, 8},
		// lenet-m: 28 → 24 → 12 → 8 → 4: fc1 in = 64·4·4 = 1024.
		{DefaultSpec(ArchLeNetM, 16), map[string][]int{"encoder.conv1.weight": {32, 1, 5, 5}, "encoder.conv2.weight": {64, 32, 5, 5}, "encoder.conv2.bias": {64}, "encoder.fc1.weight": {256, 1024}, "encoder.fc2.weight": {16, 256}}, 8},
		// lenet-l: 32 → 28 → 14 → 10 → 5: fc1 in = 128·5·5 = 3200.
		{smallSpec(ArchLeNetL, 1, 32, 32, 8), map[string][]int{"encoder.conv1.weight": {64, 1, 5, 5}, "encoder.conv2.weight": {128, 64, 5, 5}, "encoder.fc1.weight": {256, 3200}, "encoder.fc2.weight": {8, 256}}, 8},
		// 3×16×16 → 8 → 4 → 2: fc in = 128·2·2 = 512.
		{smallSpec(ArchLeNetPP, 3, 16, 16, 4), map[string][]int{"encoder.conv1a.weight": {32, 3, 5, 5}, "encoder.fc.weight": {4, 512}}, 20},
	} {
		name := fmt.Sprintf("%s %d×%d×%d", c.spec.Arch, c.spec.Input.Channels, c.spec.Input.Height, c.spec.Input.Width)
		shapes := c.spec.ParamShapes()
		if len(shapes) != c.n {
			t.Errorf("%s: %d parameters, want %d", name, len(shapes), c.n)
		}
		for k, want := range c.want {
			if !slices.Equal(shapes[k], want) {
				t.Errorf("%s: %s has shape %v, want %v", name, k, shapes[k], want)
			}
		}
		batch := 2
		tr, _ := newTestTrainer(t, c.spec, batch, 3, Float32, DefaultOpt(OptSGD), 1)
		// The graph's learnables: every input node except x and onehot.
		seen := 0
		for _, n := range tr.g.AllNodes() {
			if n.Op() != nil || n == tr.x || n == tr.onehot || strings.HasPrefix(n.Name(), "head.") || n.IsScalar() {
				continue
			}
			seen++
			want, ok := shapes[n.Name()]
			if !ok {
				t.Errorf("%s: graph learnable %s not in ParamShapes", name, n.Name())
			} else if !slices.Equal(n.Shape(), want) {
				t.Errorf("%s: graph learnable %s has shape %v, ParamShapes says %v", name, n.Name(), n.Shape(), want)
			}
		}
		if seen != len(shapes) {
			t.Errorf("%s: graph has %d encoder learnables, ParamShapes %d", name, seen, len(shapes))
		}
		if got := len(tr.Params()); got != len(shapes)+2 {
			t.Errorf("%s: Params has %d entries, want %d + head.weight, head.bias", name, got, len(shapes))
		}
		x, labels := testBatch(c.spec, batch, 3, 1)
		if _, err := tr.Step(x, labels); err != nil {
			t.Errorf("%s: Step: %v", name, err)
		}
		if s := tr.embVal.Shape(); !slices.Equal(s, []int{batch, c.spec.Dim}) {
			t.Errorf("%s: embedding shape %v, want [%d %d]", name, s, batch, c.spec.Dim)
		}
	}
}

// TestGradientFiniteDifference compares the gradient of the whole graph
// (encoder and test loss) in float64 with central finite differences
//
//	∂L/∂θ ≈ (L(θ+h) − L(θ−h)) / 2h,  h = 1e-6,
//
// at a few sampled entries of every learnable. The truncation error is
// O(h²) and the rounding error about 1e-16/h, so 1e-6 + 1e-5·|g| suffices
// away from ReLU and max-pool kinks, which random data avoids.
func TestGradientFiniteDifference(t *testing.T) {
	for _, c := range []struct {
		spec    Spec
		batch   int
		classes int
		samples int // entries per learnable
	}{
		{smallSpec(ArchLeNetS, 1, 16, 16, 3), 2, 3, 3},
		{smallSpec(ArchLeNetS, 3, 17, 16, 2), 2, 2, 2},
		{smallSpec(ArchLeNetPP, 1, 8, 8, 2), 2, 3, 2},
		{smallSpec(ArchMLP, 1, 5, 5, 3), 3, 4, 3},
		{embedBN(smallSpec(ArchLeNetS, 1, 16, 16, 3)), 4, 3, 3},
		{smallSpec(ArchLeNetM, 1, 16, 16, 3), 2, 3, 2},
	} {
		name := fmt.Sprintf("%s (embed_bn %v) %d×%d×%d", c.spec.Arch, c.spec.EmbedBN, c.spec.Input.Channels, c.spec.Input.Height, c.spec.Input.Width)
		tr, _ := newTestTrainer(t, c.spec, c.batch, c.classes, Float64, DefaultOpt(OptSGD), 3)
		// Non-zero biases, PReLU slopes and head, so that their gradients
		// and the paths through them are exercised away from 0.
		rng := rand.New(rand.NewPCG(11, 12))
		for _, w := range tr.f64.ws {
			for j := range w {
				w[j] += 0.05 * rng.NormFloat64()
			}
		}
		x, labels := testBatch(c.spec, c.batch, c.classes, 5)
		if _, err := tr.forwardBackward(x, labels); err != nil {
			t.Fatal(name, err)
		}
		grads := make([][]float64, len(tr.grads))
		for i, gn := range tr.grads {
			grads[i] = append([]float64(nil), gn.Value().Data().([]float64)...)
		}
		const h = 1e-6
		for i, w := range tr.f64.ws {
			for s := 0; s < c.samples; s++ {
				j := rng.IntN(len(w))
				orig := w[j]
				w[j] = orig + h
				lp, err := tr.forwardBackward(x, labels)
				if err != nil {
					t.Fatal(err)
				}
				w[j] = orig - h
				lm, err := tr.forwardBackward(x, labels)
				if err != nil {
					t.Fatal(err)
				}
				w[j] = orig
				num := (lp - lm) / (2 * h)
				if d := math.Abs(grads[i][j] - num); !(d <= 1e-6+1e-5*math.Abs(num)) {
					t.Errorf("%s: d/d %s[%d] = %.10g, finite difference %.10g", name, tr.names[i], j, grads[i][j], num)
				}
			}
		}
	}
}

// TestTrainReducesLoss trains an mlp on a synthetic 4-class problem of 8×8
// images (class c lights quadrant c, plus noise) and checks that the loss
// falls and that held-out images are classified by the head from Encoder
// embeddings.
func TestTrainReducesLoss(t *testing.T) {
	spec := smallSpec(ArchMLP, 1, 8, 8, 4)
	const classes, batch, steps = 4, 32, 60
	rng := rand.New(rand.NewPCG(21, 22))
	sample := func(n int) ([]float32, []int) {
		x := make([]float32, n*64)
		labels := make([]int, n)
		for i := range labels {
			c := rng.IntN(classes)
			labels[i] = c
			for p := 0; p < 64; p++ {
				r, q := p/8, p%8
				v := 0.2
				if (r/4)*2+q/4 == c {
					v = 0.8
				}
				x[i*64+p] = float32(min(1, max(0, v+0.3*(rng.Float64()-0.5))))
			}
		}
		return x, labels
	}
	opt := DefaultOpt(OptSGD)
	opt.LR = 0.05
	tr, _ := newTestTrainer(t, spec, batch, classes, Float32, opt, 1)
	var first, last float64
	for s := 0; s < steps; s++ {
		x, labels := sample(batch)
		l, err := tr.Step(x, labels)
		if err != nil {
			t.Fatal(err)
		}
		if s < 5 {
			first += l / 5
		}
		if s >= steps-5 {
			last += l / 5
		}
	}
	if tr.Iter() != steps {
		t.Errorf("Iter = %d, want %d", tr.Iter(), steps)
	}
	if !(last < 0.25*first) {
		t.Errorf("loss fell from %.4f to %.4f, want below a quarter", first, last)
	}
	p := tr.Params()
	enc, err := NewEncoder(spec, p, 16)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	x, labels := sample(n)
	emb, err := enc.Embed(nil, x, n)
	if err != nil {
		t.Fatal(err)
	}
	w, b := p["head.weight"].Data, p["head.bias"].Data
	correct := 0
	for i := 0; i < n; i++ {
		best, arg := math.Inf(-1), -1
		for c := 0; c < classes; c++ {
			s := float64(b[c]) // logit e·w_c + b_c, summed in float64
			for k := 0; k < spec.Dim; k++ {
				s += float64(emb[i*spec.Dim+k]) * float64(w[c*spec.Dim+k])
			}
			if s > best {
				best, arg = s, c
			}
		}
		if arg == labels[i] {
			correct++
		}
	}
	t.Logf("loss %.4f → %.4f, held-out accuracy %d/%d", first, last, correct, n)
	if correct < 95*n/100 {
		t.Errorf("held-out accuracy %d/%d, want ≥ 95%%", correct, n)
	}
}

// TestStepBookkeeping checks BeforeStep's iterations, LR under a step
// schedule, and that a NaN loss is an error that leaves the parameters
// unchanged.
func TestStepBookkeeping(t *testing.T) {
	spec := smallSpec(ArchMLP, 1, 4, 4, 2)
	opt := DefaultOpt(OptSGD)
	opt.Schedule, opt.StepEvery, opt.Gamma = ScheduleStep, 2, 0.5
	tr, loss := newTestTrainer(t, spec, 2, 2, Float32, opt, 1)
	x, labels := testBatch(spec, 2, 2, 1)
	wantLR := []float64{0.01, 0.01, 0.005, 0.005} // 0.01·0.5^⌊t/2⌋
	for s := range 3 {
		if got := tr.LR(); math.Abs(got-wantLR[s]) > 1e-15 {
			t.Errorf("LR before step %d = %g, want %g", s, got, wantLR[s])
		}
		if _, err := tr.Step(x, labels); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(loss.before) != "[0 1 2]" {
		t.Errorf("BeforeStep saw %v, want [0 1 2]", loss.before)
	}
	before := tr.Params()
	x[3] = float32(math.NaN())
	_, err := tr.Step(x, labels)
	// The fourth step, counted as progress counts them (step 3 of N is
	// the third done): it once said "step 3".
	if err == nil || err.Error() != "step 4: loss is NaN (lr too high?)" {
		t.Errorf("NaN step: error %v, want %q", err, "step 4: loss is NaN (lr too high?)")
	}
	if tr.Iter() != 3 {
		t.Errorf("Iter after a NaN step = %d, want 3", tr.Iter())
	}
	assertParamsEqual(t, "after a NaN step", tr.Params(), before)
	x[3] = 0.5
	if _, err := tr.Step(x, []int{0, 2}); err == nil || !strings.Contains(err.Error(), "label 2 of image 1 out of range [0, 2)") {
		t.Errorf("label out of range: error %v", err)
	}
}

func assertParamsEqual(t *testing.T, what string, got, want map[string]Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d parameters, want %d", what, len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Fatalf("%s: missing %s", what, name)
		}
		if !slices.Equal(g.Shape, w.Shape) || len(g.Data) != len(w.Data) {
			t.Fatalf("%s: %s shape %v, want %v", what, name, g.Shape, w.Shape)
		}
		for i := range w.Data {
			if g.Data[i] != w.Data[i] {
				t.Fatalf("%s: %s[%d] = %g, want %g", what, name, i, g.Data[i], w.Data[i])
			}
		}
	}
}

func TestParamsRoundTrip(t *testing.T) {
	spec := smallSpec(ArchLeNetS, 1, 16, 16, 3)
	a, _ := newTestTrainer(t, spec, 4, 3, Float32, DefaultOpt(OptSGD), 1)
	b, _ := newTestTrainer(t, spec, 4, 3, Float64, DefaultOpt(OptSGD), 2)
	x, labels := testBatch(spec, 4, 3, 9)
	if _, err := a.Step(x, labels); err != nil {
		t.Fatal(err)
	}
	pa := a.Params()
	// Params returns copies: changing them changes nothing.
	pa["encoder.conv1.bias"].Data[0] += 1
	pa = a.Params()
	if err := b.SetParams(pa); err != nil {
		t.Fatal(err)
	}
	assertParamsEqual(t, "float64 trainer after SetParams", b.Params(), pa)
	la, err := a.forwardBackward(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.forwardBackward(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(la-lb) > 1e-5*math.Abs(lb) { // float32 vs float64 graph
		t.Errorf("loss with loaded params %g, original %g", lb, la)
	}

	bad := func(f func(p map[string]Tensor)) map[string]Tensor {
		p := a.Params()
		f(p)
		return p
	}
	for _, c := range []struct {
		name string
		p    map[string]Tensor
		want string
	}{
		{"shape", bad(func(p map[string]Tensor) {
			p["encoder.fc1.weight"] = Tensor{Shape: []int{64, 15}, Data: make([]float32, 64*15)}
		}), "encoder.fc1.weight has shape [64 15], want [64 16]"},
		{"length", bad(func(p map[string]Tensor) { p["head.bias"] = Tensor{Shape: []int{3}, Data: make([]float32, 2)} }), "head.bias has 2 values, want 3"},
		{"unknown", bad(func(p map[string]Tensor) { p["encoder.conv9.weight"] = Tensor{Shape: []int{1}, Data: []float32{1}} }), "unknown parameters encoder.conv9.weight"},
		{"missing", bad(func(p map[string]Tensor) { delete(p, "encoder.conv2.bias") }), "missing parameter encoder.conv2.bias"},
	} {
		before := b.Params()
		err := b.SetParams(c.p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		assertParamsEqual(t, c.name+": after a failed SetParams", b.Params(), before)
	}
	// The head is optional: the encoder alone loads and the head stays.
	headBefore := b.Params()["head.weight"]
	enc := a.Params()
	delete(enc, "head.weight")
	delete(enc, "head.bias")
	if err := b.SetParams(enc); err != nil {
		t.Errorf("encoder-only SetParams: %v", err)
	}
	assertParamsEqual(t, "head kept", map[string]Tensor{"head.weight": b.Params()["head.weight"]}, map[string]Tensor{"head.weight": headBefore})
}

// TestDeterminism: the same seed and batches give bit-identical parameters
// after 3 steps; another seed gives other parameters.
func TestDeterminism(t *testing.T) {
	spec := smallSpec(ArchLeNetS, 1, 16, 16, 3)
	run := func(seed int64) map[string]Tensor {
		tr, _ := newTestTrainer(t, spec, 4, 3, Float32, DefaultOpt(OptAdam), seed)
		for s := range 3 {
			x, labels := testBatch(spec, 4, 3, uint64(s))
			if _, err := tr.Step(x, labels); err != nil {
				t.Fatal(err)
			}
		}
		return tr.Params()
	}
	a, b, c := run(5), run(5), run(6)
	assertParamsEqual(t, "same seed", b, a)
	same := 0
	for i, v := range a["encoder.conv1.weight"].Data {
		if c["encoder.conv1.weight"].Data[i] == v {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds 5 and 6: %d equal conv1 weights, want none", same)
	}
	if w := a["head.weight"].Data; w[0] == 0 && w[1] == 0 {
		t.Errorf("head.weight not initialised by the trainer: %v", w[:2])
	}
}

// TestThreadsBitIdentical trains every architecture for a few steps on one,
// two and three threads: the parameters (and the batch norms' running
// statistics) must agree bit for bit, as core/par promises.
func TestThreadsBitIdentical(t *testing.T) {
	specs := []Spec{
		smallSpec(ArchMLP, 1, 8, 8, 4),
		smallSpec(ArchLeNetS, 1, 16, 16, 3),
		smallSpec(ArchLeNetPP, 1, 12, 12, 3),
		smallSpec(ArchIResNet, 3, 16, 16, 8),
	}
	if testing.Short() {
		specs = specs[:3]
	}
	for _, spec := range specs {
		run := func(threads int) map[string]Tensor {
			loss := &softmaxCE{}
			tr, err := NewTrainer(spec, loss, TrainConfig{Batch: 6, Classes: 3, Opt: DefaultOpt(OptAdam), Seed: 9, Threads: threads})
			if err != nil {
				t.Fatal(err)
			}
			if tr.Threads() != threads {
				t.Fatalf("%s: Threads() = %d, configured %d", spec.Arch, tr.Threads(), threads)
			}
			for s := range 3 {
				x, labels := testBatch(spec, 6, 3, uint64(s))
				if _, err := tr.Step(x, labels); err != nil {
					t.Fatal(err)
				}
			}
			return tr.Params()
		}
		one := run(1)
		for _, n := range []int{2, 3} {
			got := run(n)
			for name, want := range one {
				for i, v := range want.Data {
					if math.Float32bits(got[name].Data[i]) != math.Float32bits(v) {
						t.Fatalf("%s, %d threads: %s[%d] = %g, one thread %g", spec.Arch, n, name, i, got[name].Data[i], v)
					}
				}
			}
		}
	}
}

// TestInitStatistics checks the He-normal initialisation: weight variance
// 2/fan_in within sampling error, zero biases, PReLU slopes 0.25.
func TestInitStatistics(t *testing.T) {
	tr, _ := newTestTrainer(t, DefaultSpec(ArchLeNetPP, 2), 1, 2, Float32, DefaultOpt(OptSGD), 4)
	p := tr.Params()
	for _, c := range []struct {
		name  string
		fanIn int
	}{{"encoder.conv2b.weight", 64 * 25}, {"encoder.conv3a.weight", 64 * 25}, {"encoder.fc.weight", 1152}} {
		var s, s2 float64
		d := p[c.name].Data
		for _, v := range d {
			s += float64(v)
			s2 += float64(v) * float64(v)
		}
		n := float64(len(d))
		mean, variance := s/n, s2/n-(s/n)*(s/n)
		want := 2 / float64(c.fanIn)
		// Standard error of the sample variance of a normal: σ²·√(2/n).
		if math.Abs(variance-want) > 5*want*math.Sqrt(2/n) || math.Abs(mean) > 5*math.Sqrt(want/n) {
			t.Errorf("%s: mean %g variance %g, want 0 and %g", c.name, mean, variance, want)
		}
	}
	for _, v := range p["encoder.conv1a.bias"].Data {
		if v != 0 {
			t.Fatalf("conv1a bias %g, want 0", v)
		}
	}
	for _, v := range p["encoder.prelu3b.weight"].Data {
		if v != 0.25 {
			t.Fatalf("prelu3b slope %g, want 0.25", v)
		}
	}
}

// TestStepAllocs reports the heap allocations of a lenet-s step at batch 64
// and guards against regressions. The engine's own code allocates nothing
// per step; about 5,100 allocations come from the libraries: gonum's
// parallel SGEMM (about 3,000: goroutines and work items per call) and the
// tape machine, which allocates every node's value at every run.
func TestStepAllocs(t *testing.T) {
	spec := DefaultSpec(ArchLeNetS, 2)
	tr, _ := newTestTrainer(t, spec, 64, 10, Float32, DefaultOpt(OptSGD), 1)
	x, labels := testBatch(spec, 64, 10, 1)
	allocs := testing.AllocsPerRun(3, func() {
		if _, err := tr.Step(x, labels); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("lenet-s batch 64: %.0f allocations per step", allocs)
	if allocs > 8000 {
		t.Errorf("%.0f allocations per step, want ≤ 8000", allocs)
	}
}

// BenchmarkEngineStep measures training throughput at batch 64 with the
// test softmax loss.
func BenchmarkEngineStep(b *testing.B) {
	for _, arch := range []string{ArchLeNetS, ArchMLP} {
		b.Run(arch, func(b *testing.B) {
			spec := DefaultSpec(arch, 2)
			tr, _ := newTestTrainer(b, spec, 64, 10, Float32, DefaultOpt(OptSGD), 1)
			x, labels := testBatch(spec, 64, 10, 1)
			benchSteps(b, tr, x, labels)
		})
	}
}

// BenchmarkEngineStepTinyGradients measures lenet-s steps at batch 64 whose
// gradients lie about float32's smallest normal number, 2⁻¹²⁶, and below,
// as a run's do once its loss is ~0 (the softmax's probabilities of the
// other classes under e⁻⁸⁷ = 2⁻¹²⁶; lenet-s with the softmax loss on
// MNIST's 0s and 1s, adam lr 0.01, from its ~20th epoch): the test loss
// scaled by 2⁻¹²⁰ ("tiny"), beside the same steps unscaled ("normal").
// The two take about as long since the amd64 matrix kernels flush
// subnormal numbers, and the pure-Go ones (-tags purego, the wasm trainer)
// store none and skip subnormal pooled gradients (core/gemm's doc,
// pooledGrads); "tiny" was 17–26 times slower, 16–20 with the Go kernels.
func BenchmarkEngineStepTinyGradients(b *testing.B) {
	for _, c := range []struct {
		name  string
		scale float32
	}{{"normal", 1}, {"tiny", 0x1p-120}} {
		b.Run(c.name, func(b *testing.B) {
			spec := DefaultSpec(ArchLeNetS, 2)
			loss := &scaledCE{k: c.scale}
			tr, err := NewTrainer(spec, loss, TrainConfig{Batch: 64, Classes: 10, Opt: DefaultOpt(OptSGD), Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			x, labels := testBatch(spec, 64, 10, 1)
			benchSteps(b, tr, x, labels)
		})
	}
}

// benchSteps times b.N steps of tr on the batch x, labels, and reports
// its images a second.
func benchSteps(b *testing.B, tr *Trainer, x []float32, labels []int) {
	b.Helper()
	b.ResetTimer()
	for range b.N {
		if _, err := tr.Step(x, labels); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(labels))/b.Elapsed().Seconds(), "img/s")
}

// scaledCE is softmaxCE times k.
type scaledCE struct {
	softmaxCE
	k float32
}

func (l *scaledCE) Build(g *G.ExprGraph, emb, onehot *G.Node, classes int) (*G.Node, error) {
	cost, err := l.softmaxCE.Build(g, emb, onehot, classes)
	if err != nil {
		return nil, err
	}
	return G.Mul(cost, G.NewConstant(l.k))
}
