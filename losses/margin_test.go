package losses

import (
	"math"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core/eval"
)

// msFamily is the margin-softmax family, the losses of margin.go.
var msFamily = []string{"softmax", "l2softmax", "normsoftmax", "sphereface", "cosface", "arcface", "combined"}

func TestMarginDefaultScale(t *testing.T) {
	for _, tc := range []struct {
		dim  int
		want float64
	}{
		{2, 16}, {8, 16}, // floor
		{18, 24},  // 16·√(18/8) = 16·1.5
		{32, 32},  // 16·√4
		{128, 64}, // 16·√16, the papers' value
		{512, 64}, // cap
	} {
		if got := msDefaultScale(tc.dim); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("D=%d: s = %g, want %g", tc.dim, got, tc.want)
		}
	}
}

// TestMarginDefaultsEveryDim checks that every default is in its range, an
// integer where it must be, and accepted by New, at every D from 2 to 512.
func TestMarginDefaultsEveryDim(t *testing.T) {
	for _, name := range msFamily {
		if Doc(name) == "" {
			t.Errorf("%s: no doc", name)
		}
		for dim := 2; dim <= 512; dim++ {
			ps, err := Params(name, dim)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if p.Default < p.Min || p.Default > p.Max || (p.Integer && p.Default != math.Trunc(p.Default)) || p.Doc == "" {
					t.Fatalf("%s D=%d: %+v", name, dim, p)
				}
			}
			l, err := New(Config{Name: name, Dim: dim})
			if err != nil {
				t.Fatalf("%s D=%d: %v", name, dim, err)
			}
			if l.Name() != name || len(l.Params()) != len(ps) {
				t.Fatalf("%s D=%d: name %q, params %v", name, dim, l.Name(), l.Params())
			}
		}
	}
	if _, err := New(Config{Name: "arcface", Dim: 1}); err == nil {
		t.Error("D = 1: no error")
	}
}

func TestMarginLearnables(t *testing.T) {
	const n, d, c = 3, 4, 5
	for _, name := range msFamily {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			l, err := New(Config{Name: name, Dim: d})
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Learnables()) != 0 {
				t.Errorf("%s: learnables before Build", name)
			}
			g := G.NewGraph()
			emb := G.NewMatrix(g, dt, G.WithShape(n, d), G.WithName("emb"))
			onehot := G.NewMatrix(g, dt, G.WithShape(n, c), G.WithName("onehot"))
			cost, err := l.Build(g, emb, onehot, c)
			if err != nil {
				t.Fatal(err)
			}
			if !cost.IsScalar() || cost.Dtype() != dt {
				t.Errorf("%s: loss node %v of %v", name, cost.Shape(), cost.Dtype())
			}
			learn := l.Learnables()
			wantBias := name == "softmax" || name == "l2softmax"
			if len(learn) < 1 || learn[0].Name != "head.weight" || !learn[0].Node.Shape().Eq(tensor.Shape{c, d}) || learn[0].Node.Dtype() != dt {
				t.Errorf("%s: learnables %v", name, learn)
			}
			if wantBias != (len(learn) == 2) {
				t.Errorf("%s: %d learnables, want bias %v", name, len(learn), wantBias)
			}
			if wantBias && (learn[1].Name != "head.bias" || !learn[1].Node.Shape().Eq(tensor.Shape{c}) || learn[1].Node.Dtype() != dt) {
				t.Errorf("%s: bias %v %v", name, learn[1].Name, learn[1].Node.Shape())
			}
		}
	}
}

// TestMarginInitWeight checks that head.weight starts the same for the
// same loss and shape, differs between losses, lies in ±√(6/(C+D)), and
// that the float32 start is the float64 one rounded.
func TestMarginInitWeight(t *testing.T) {
	a := msInitWeight(tensor.Float64, 10, 3, "arcface").Data().([]float64)
	b := msInitWeight(tensor.Float64, 10, 3, "arcface").Data().([]float64)
	o := msInitWeight(tensor.Float64, 10, 3, "cosface").Data().([]float64)
	f := msInitWeight(tensor.Float32, 10, 3, "arcface").Data().([]float32)
	lim := math.Sqrt(6.0 / 13)
	same := 0
	var sum2 float64
	for i := range a {
		if a[i] != b[i] || float32(a[i]) != f[i] {
			t.Fatalf("entry %d: %g, %g, float32 %g", i, a[i], b[i], f[i])
		}
		if math.Abs(a[i]) > lim {
			t.Fatalf("entry %d = %g outside ±%g", i, a[i], lim)
		}
		if a[i] == o[i] {
			same++
		}
		sum2 += a[i] * a[i]
	}
	if same == len(a) {
		t.Error("arcface and cosface start from the same weights")
	}
	// U(−a, a) has variance a²/3 = 2/(C+D); 30 draws land within ±40 %.
	if v := sum2 / float64(len(a)); v < 0.6*2/13.0 || v > 1.4*2/13.0 {
		t.Errorf("mean square %g, want about %g", v, 2/13.0)
	}
}

func TestMarginBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		name         string
		embShape     tensor.Shape
		embDt, ohDt  tensor.Dtype
		ohShape      tensor.Shape
		classes      int
		wantContains string
	}{
		{"wrong D", tensor.Shape{4, 5}, tensor.Float64, tensor.Float64, tensor.Shape{4, 3}, 3, "configured for D = 3"},
		{"onehot rows", tensor.Shape{4, 3}, tensor.Float64, tensor.Float64, tensor.Shape{5, 3}, 3, "want 4×3"},
		{"onehot classes", tensor.Shape{4, 3}, tensor.Float64, tensor.Float64, tensor.Shape{4, 3}, 6, "want 4×6"},
		{"one class", tensor.Shape{4, 3}, tensor.Float64, tensor.Float64, tensor.Shape{4, 1}, 1, "at least 2"},
		{"dtypes", tensor.Shape{4, 3}, tensor.Float32, tensor.Float64, tensor.Shape{4, 3}, 3, "dtype"},
		{"int", tensor.Shape{4, 3}, tensor.Int, tensor.Int, tensor.Shape{4, 3}, 3, "want float32 or float64"},
		{"vector", tensor.Shape{3}, tensor.Float64, tensor.Float64, tensor.Shape{4, 3}, 3, "must be matrices"},
	} {
		l, err := New(Config{Name: "arcface", Dim: 3})
		if err != nil {
			t.Fatal(err)
		}
		g := G.NewGraph()
		emb := G.NewTensor(g, tc.embDt, len(tc.embShape), G.WithShape(tc.embShape...), G.WithName("emb"))
		oh := G.NewTensor(g, tc.ohDt, len(tc.ohShape), G.WithShape(tc.ohShape...), G.WithName("onehot"))
		_, err = l.Build(g, emb, oh, tc.classes)
		if err == nil || !strings.Contains(err.Error(), tc.wantContains) || !strings.HasPrefix(err.Error(), "arcface: ") {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.wantContains)
		}
	}
}

// TestMarginZeroEmbedding checks that an all-zero embedding (and an
// all-zero class weight) gives a finite loss and finite gradients: the ε in
// √(‖f‖²+ε) keeps d√x away from +Inf.
func TestMarginZeroEmbedding(t *testing.T) {
	f := [][]float64{{0, 0, 0}, {1, 2, 3}}
	w := [][]float64{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}}
	for _, name := range msFamily {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			l, err := New(Config{Name: name, Dim: 3})
			if err != nil {
				t.Fatal(err)
			}
			got := msEvalGraph(t, l, dt, 0, f, w, nil, []int{0, 1})
			for _, v := range append(append([]float64{got.loss}, got.df...), got.dW...) {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%s %v: loss %g, ∂L/∂f %v, ∂L/∂W %v", name, dt, got.loss, got.df, got.dW)
				}
			}
		}
	}
}

// TestMarginClamp checks that cosines that rounding pushed past ±1 are
// clamped before the target transform: ψ(±1) and a finite derivative.
func TestMarginClamp(t *testing.T) {
	m := ArcFace{M: 0.5}
	c := []float32{1.0000001, -1.0000001, 0.5}
	y := []float32{1, 1, 0}
	z := msMarginTo(make([]float32, 3), c, y, 10, m)
	want := []float64{10 * math.Cos(0.5), 10 * (-1 - 0.5*math.Sin(0.5)), 5}
	for i := range z {
		if math.Abs(float64(z[i])-want[i]) > 1e-5 {
			t.Errorf("z[%d] = %g, want %g", i, z[i], want[i])
		}
	}
	dc := msMarginBackwardTo(make([]float32, 3), c, y, []float32{1, 1, 1}, 10, m)
	// At c = 1, dψ/dc = cos m + sin m/msSinFloor.
	wantD := []float64{10 * (math.Cos(0.5) + math.Sin(0.5)/msSinFloor), 10, 10}
	for i := range dc {
		if math.Abs(float64(dc[i])-wantD[i]) > 1e-5*wantD[i] {
			t.Errorf("∂L/∂c[%d] = %g, want %g", i, dc[i], wantD[i])
		}
	}
}

// TestMarginCrossEntropySoftTargets checks the fused cross-entropy with
// rows of weights (not one-hot) against −Σ_j y_j·log p_j, and its backward
// against central differences.
func TestMarginCrossEntropySoftTargets(t *testing.T) {
	z := []float64{1, 2, -1, 0.5, 0, 3}
	y := []float64{0.2, 0.8, 0, 0.5, 0.25, 0.75} // the second row sums to 1.5
	var want float64
	for i := 0; i < 6; i += 3 {
		lse := math.Log(math.Exp(z[i]) + math.Exp(z[i+1]) + math.Exp(z[i+2]))
		for j := i; j < i+3; j++ {
			want -= y[j] * (z[j] - lse) / 2
		}
	}
	if got := msCrossEntropy(z, y, 3); math.Abs(got-want) > 1e-14 {
		t.Errorf("loss %g, want %g", got, want)
	}
	dz := msCrossEntropyBackwardTo(make([]float64, 6), z, y, 3, 2, make([]float64, 3)) // ∂ℓ/∂L = 2
	const h = 1e-6
	for k := range z {
		v := z[k]
		z[k] = v + h
		lp := msCrossEntropy(z, y, 3)
		z[k] = v - h
		lm := msCrossEntropy(z, y, 3)
		z[k] = v
		if fd := 2 * (lp - lm) / (2 * h); math.Abs(dz[k]-fd) > 1e-8 {
			t.Errorf("∂L/∂z[%d] = %g, finite difference %g", k, dz[k], fd)
		}
	}
	// Large logits: the maximum is subtracted, no overflow.
	if got := msCrossEntropy([]float32{1000, 0}, []float32{0, 1}, 2); math.Abs(got-1000) > 1e-9 {
		t.Errorf("loss at logits (1000, 0) = %g, want 1000", got)
	}
}

// msAllFinite reports whether v holds no NaN and no ±Inf.
func msAllFinite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// TestMarginDegenerateBatches runs every loss of the family, at its
// defaults and at the ends of its parameter ranges, in float32 and float64,
// on batches training can reach: one class only, identical embeddings, zero
// embeddings, embeddings on their class weight (cos θ_y = 1) or opposite it
// (cos θ_y = −1, at ordinary and tiny norms); the loss and every gradient
// must be finite.
func TestMarginDegenerateBatches(t *testing.T) {
	w := [][]float64{{1, 0}, {0, 2}, {-1, 0}}
	batches := map[string]struct {
		f [][]float64
		y []int
	}{
		"one class":     {[][]float64{{1, 0}, {0.5, 0.2}, {-1, 0.3}}, []int{0, 0, 0}},
		"identical":     {[][]float64{{0.3, 0.4}, {0.3, 0.4}, {0.3, 0.4}}, []int{0, 1, 2}},
		"zeros":         {[][]float64{{0, 0}, {0, 0}, {0, 0}}, []int{0, 1, 2}},
		"on weight":     {[][]float64{{3, 0}, {0, 5}, {-2, 0}}, []int{0, 1, 2}},
		"opposite":      {[][]float64{{-3, 0}, {0, -5}, {2, 0}}, []int{0, 1, 2}},
		"opposite tiny": {[][]float64{{-1e-30, 0}, {0, -1e-20}, {1e-30, 0}}, []int{0, 1, 2}},
	}
	cfgs := []Config{}
	for _, n := range msFamily {
		cfgs = append(cfgs, Config{Name: n, Dim: 2})
	}
	cfgs = append(cfgs,
		Config{Name: "arcface", Dim: 2, Values: map[string]float64{"m": 1.5}},
		Config{Name: "arcface", Dim: 2, Values: map[string]float64{"m": 1.5, "easy_margin": 1}},
		Config{Name: "arcface", Dim: 2, Values: map[string]float64{"m": 0}},
		Config{Name: "arcface", Dim: 2, Values: map[string]float64{"m": 0, "easy_margin": 1}},
		Config{Name: "combined", Dim: 2, Values: map[string]float64{"m1": 4, "m2": 1.5, "m3": 1}},
		Config{Name: "combined", Dim: 2, Values: map[string]float64{"m1": 1, "m2": 0, "m3": 0}},
		Config{Name: "combined", Dim: 2, Values: map[string]float64{"m1": 2.5, "m2": 0, "m3": 0}},
		Config{Name: "sphereface", Dim: 2, Values: map[string]float64{"m": 8, "lambda_base": 0, "lambda_min": 0}},
		Config{Name: "cosface", Dim: 2, Values: map[string]float64{"m": 1, "s": 128}},
	)
	for bn, b := range batches {
		for _, cfg := range cfgs {
			for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
				l, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				got := msEvalGraph(t, l, dt, 100000, b.f, w, nil, b.y)
				all := append(append([]float64{got.loss}, got.df...), got.dW...)
				if !msAllFinite(all) {
					t.Errorf("%s %v %v: loss %g df %v dW %v", bn, cfg, dt, got.loss, got.df, got.dW)
				}
			}
		}
	}
}

// TestHeadAccuracy places one 2-D embedding of class 1 where the three
// prediction rules disagree, with W_0 = (1, 0), W_1 = (0, 3) and biases
// (0, −1.2), which the cosine heads have none of and leave (α = 1 for
// l2softmax). Worked by hand:
//
//	(20, 10):      f·W + b = (20, 28.8) → 1;  f̂·W + b = (0.894, 0.142) → 0;  cos = (0.894, 0.447) → 0
//	(0.073, 0.068): f·W + b = (0.073, −0.996) → 0;  f̂·W + b = (0.732, 0.846) → 1;  cos = (0.732, 0.682) → 0
//	(0.6, 0.8):    cos = (0.6, 0.8) → 1 for the cosine heads
func TestHeadAccuracy(t *testing.T) {
	w, b := []float32{1, 0, 0, 3}, []float32{0, -1.2}
	for _, tc := range []struct {
		loss   string
		params map[string]float64
		f      []float32
		want   float64
	}{
		{"softmax", nil, []float32{20, 10}, 1},
		{"l2softmax", map[string]float64{"alpha": 1}, []float32{20, 10}, 0},
		{"arcface", nil, []float32{20, 10}, 0},
		{"softmax", nil, []float32{0.073, 0.068}, 0},
		{"l2softmax", map[string]float64{"alpha": 1}, []float32{0.073, 0.068}, 1},
		{"cosface", nil, []float32{0.073, 0.068}, 0},
		{"arcface", nil, []float32{0.6, 0.8}, 1},
		{"sphereface", nil, []float32{0.6, 0.8}, 1},
		{"normsoftmax", nil, []float32{0.6, 0.8}, 1},
	} {
		l, err := New(Config{Name: tc.loss, Dim: 2, Values: tc.params})
		if err != nil {
			t.Fatal(err)
		}
		e := eval.Embeddings{X: tc.f, N: 1, D: 2, Labels: []int{1}}
		if got, ok := HeadAccuracy(l, e, w, b); !ok || got != tc.want {
			t.Errorf("%s at %v: accuracy %g (ok %v), want %g", tc.loss, tc.f, got, ok, tc.want)
		}
	}
	pair, err := New(Config{Name: "triplet", Dim: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := HeadAccuracy(pair, eval.Embeddings{}, nil, nil); ok {
		t.Error("triplet: a class head, want none")
	}
}
