package losses

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// pairMatrix returns the distance matrix of x (n×dim) from pairDistance.
func pairMatrix(d pairDistance, x []float64, n, dim int) ([]float64, *pairDistBuf) {
	dm := make([]float64, n*n)
	buf := &pairDistBuf{norm: make([]float64, n), u: make([]float64, n*dim)}
	d.matrixTo(dm, buf, x, n, dim)
	return dm, buf
}

func TestPairDistanceMatrix(t *testing.T) {
	const n, dim = 7, 4
	x, _ := pairRandBatch(40, n, dim, 1)
	for _, d := range []pairDistance{pairCosine, pairEuclidean} {
		dm, _ := pairMatrix(d, x, n, dim)
		want := make([]float64, n*n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if i != j {
					want[i*n+j], _, _ = pairRefDist(d.String(), pairRow(x, i, dim), pairRow(x, j, dim))
				}
			}
		}
		// Same sums in another order: a few ulps.
		pairAssertClose(t, d.String()+" matrix", dm, want, 1e-14, 1e-13)
	}
}

// TestPairDistanceGrad checks gradTo against central differences of
// f(x) = Σ_{i≠j} G_ij·d(x_i, x_j), with G not symmetric.
func TestPairDistanceGrad(t *testing.T) {
	const n, dim = 6, 3
	x, _ := pairRandBatch(41, n, dim, 1)
	rng := rand.New(rand.NewPCG(41, 1))
	gd := make([]float64, n*n)
	for i := range gd {
		gd[i] = rng.NormFloat64()
	}
	for _, d := range []pairDistance{pairCosine, pairEuclidean} {
		f := func(x []float64) float64 {
			dm, _ := pairMatrix(d, x, n, dim)
			var s float64
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					if i != j {
						s += gd[i*n+j] * dm[i*n+j]
					}
				}
			}
			return s
		}
		dm, buf := pairMatrix(d, x, n, dim)
		dx := make([]float64, n*dim)
		d.gradTo(dx, gd, dm, buf, x, n, dim)
		pairAssertClose(t, d.String()+" gradient vs finite differences", dx, pairFDGrad(f, x, 1e-6), 1e-8, 1e-6)
	}
}

func TestPairDistanceHandWorked(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    pairDistance
		x    []float64 // two 2-D rows
		want float64
		tol  float64
	}{
		// Cosine: ε = 1e-12 under the norm moves 1 − cos by up to 1e-12 at
		// unit norm (‖x‖ = √(1 + ε) ≈ 1 + ε/2 for each row).
		{"cosine 90°", pairCosine, pairCircle(0, 90), 1, 2e-12},          // 1 − cos 90° = 1
		{"cosine 180°", pairCosine, pairCircle(0, 180), 2, 2e-12},        // 1 − cos 180° = 2
		{"cosine 60°", pairCosine, pairCircle(20, 80), 0.5, 2e-12},       // 1 − cos 60° = 0.5
		{"cosine same", pairCosine, pairCircle(33, 33), 0, 2e-12},        // 1 − 1
		{"cosine scaled", pairCosine, []float64{5, 0, 0, 0.01}, 1, 1e-8}, // norms ignored: 90° (ε/0.01² = 1e-8)
		// A zero row normalises to 0 (through ε) and sits at distance 1.
		{"cosine zero row", pairCosine, []float64{0, 0, 1, 0}, 1, 0},
		{"euclidean 3-4-5", pairEuclidean, []float64{1, 1, 4, 5}, 5, 1e-12}, // √(9+16)
		// Coincident rows: √ε = 1e-6, not 0, so that d√s stays finite.
		{"euclidean coincident", pairEuclidean, []float64{2, 3, 2, 3}, 1e-6, 1e-18},
	} {
		dm, buf := pairMatrix(tc.d, tc.x, 2, 2)
		if got := dm[1]; math.Abs(got-tc.want) > tc.tol || dm[2] != dm[1] || dm[0] != 0 || dm[3] != 0 {
			t.Errorf("%s: D = %v, want d = %g (tol %g), symmetric, zero diagonal", tc.name, dm, tc.want, tc.tol)
		}
		dx := make([]float64, 4)
		tc.d.gradTo(dx, []float64{0, 1, 0, 0}, dm, buf, tc.x, 2, 2)
		for _, v := range dx {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s: gradient %v not finite", tc.name, dx)
			}
		}
	}
	// Coincident euclidean rows: (x_i − x_j)/√ε = 0, not NaN.
	dm, buf := pairMatrix(pairEuclidean, []float64{2, 3, 2, 3}, 2, 2)
	dx := make([]float64, 4)
	pairEuclidean.gradTo(dx, []float64{0, 1, 0, 0}, dm, buf, []float64{2, 3, 2, 3}, 2, 2)
	if !slices.Equal(dx, []float64{0, 0, 0, 0}) {
		t.Errorf("coincident euclidean gradient %v, want zeros", dx)
	}
}

func TestDistances(t *testing.T) {
	if got := Distances(); !slices.Equal(got, []string{"cosine", "euclidean"}) {
		t.Errorf("Distances() = %v", got)
	}
	Distances()[0] = "x"
	if Distances()[0] != "cosine" {
		t.Errorf("Distances() shares its slice")
	}
	for name, want := range map[string]pairDistance{"": pairCosine, "cosine": pairCosine, "euclidean": pairEuclidean} {
		if got, err := pairParseDistance("triplet", name); got != want || err != nil {
			t.Errorf("pairParseDistance(%q) = %v, %v, want %v", name, got, err, want)
		}
	}
}

// TestPairKernelNoAllocs checks that a training step through the kernel
// (forward and backward, float32 in and out) allocates nothing once its
// buffers exist.
func TestPairKernelNoAllocs(t *testing.T) {
	const n, dim, classes = 16, 8, 4
	x, labels := pairRandBatch(42, n, dim, classes)
	emb := pairDense(tensor.Float32, x, n, dim)
	onehot := pairDense(tensor.Float32, pairOnehot(labels, classes), n, classes)
	dst := tensor.New(tensor.WithShape(n, dim), tensor.Of(tensor.Float32))
	for _, obj := range []pairObjective{pairContrastive{margin: 0.5}, tripObjective{miner: tripSemihard, margin: 0.2}, tripObjective{miner: tripAll, margin: 0.2}} {
		k := &pairKernel{dist: pairCosine, obj: obj}
		step := func() {
			if _, err := k.forward(emb, onehot); err != nil {
				t.Fatal(err)
			}
			if err := k.backward(dst, 1); err != nil {
				t.Fatal(err)
			}
		}
		step()
		if a := testing.AllocsPerRun(10, step); a != 0 {
			t.Errorf("%v: %g allocations per step, want 0", obj, a)
		}
	}
}

func TestPairOpIdentity(t *testing.T) {
	ops := []*pairLossOp{
		newPairLossOp(&pairKernel{dist: pairCosine, obj: pairContrastive{margin: 0.5}}, tensor.Float64),
		newPairLossOp(&pairKernel{dist: pairCosine, obj: pairContrastive{margin: 0.5}}, tensor.Float32),
		newPairLossOp(&pairKernel{dist: pairEuclidean, obj: pairContrastive{margin: 0.5}}, tensor.Float64),
		newPairLossOp(&pairKernel{dist: pairCosine, obj: pairContrastive{margin: 0.25}}, tensor.Float64),
		newPairLossOp(&pairKernel{dist: pairCosine, obj: tripObjective{miner: tripHard, margin: 0.5}}, tensor.Float64),
		newPairLossOp(&pairKernel{dist: pairCosine, obj: tripObjective{miner: tripEasy, margin: 0.5}}, tensor.Float64),
	}
	seen := map[uint32]string{}
	for _, op := range ops {
		for _, o := range []G.Op{op, newPairLossDiffOp(op)} {
			if prev, dup := seen[o.Hashcode()]; dup {
				t.Errorf("%v and %v share hash %d: gorgonia would merge their nodes", prev, o, o.Hashcode())
			}
			seen[o.Hashcode()] = o.String()
		}
	}
	if s := ops[4].String(); !strings.Contains(s, "hard") || !strings.Contains(s, "cosine") || !strings.Contains(s, "0.5") {
		t.Errorf("op String %q does not say what it computes", s)
	}
}

func TestPairBuildErrors(t *testing.T) {
	l := pairMustNew(t, Config{Name: "triplet", Dim: 3})
	for _, tc := range []struct {
		name                 string
		embDt, ohDt          tensor.Dtype
		n, dim, ohN, classes int
		buildClasses         int
		want                 string
	}{
		{"dim", tensor.Float64, tensor.Float64, 8, 4, 8, 2, 2, "emb shape (8, 4), want N×3"},
		{"onehot rows", tensor.Float64, tensor.Float64, 8, 3, 6, 2, 2, "onehot shape (6, 2), want 8×2"},
		{"onehot classes", tensor.Float64, tensor.Float64, 8, 3, 8, 2, 5, "onehot shape (8, 2), want 8×5"},
		{"dtype mix", tensor.Float32, tensor.Float64, 8, 3, 8, 2, 2, "onehot dtype float64 differs from emb dtype float32"},
		{"int", tensor.Int, tensor.Int, 8, 3, 8, 2, 2, "emb dtype int, want float32 or float64"},
	} {
		g := G.NewGraph()
		emb := G.NewMatrix(g, tc.embDt, G.WithShape(tc.n, tc.dim), G.WithName("emb"))
		oh := G.NewMatrix(g, tc.ohDt, G.WithShape(tc.ohN, tc.classes), G.WithName("onehot"))
		_, err := l.Build(g, emb, oh, tc.buildClasses)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Build error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

// TestPairUpstreamGradient checks that the diff op scales by the gradient it
// receives: for C = 3·L, dC/demb = 3·dL/demb, in float64 and float32.
func TestPairUpstreamGradient(t *testing.T) {
	const n, dim, classes, margin = 9, 3, 3, 0.8
	x, labels := pairRandBatch(43, n, dim, classes)
	_, ref := pairRefTriplet("cosine", "all", x, labels, dim, margin)
	for i := range ref {
		ref[i] *= 3
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		l := pairMustNew(t, Config{Name: "triplet", Dim: dim, Miner: "all", Values: map[string]float64{"margin": margin}})
		g := G.NewGraph()
		emb := G.NewMatrix(g, dt, G.WithShape(n, dim), G.WithName("emb"), G.WithValue(pairDense(dt, x, n, dim)))
		oh := G.NewMatrix(g, dt, G.WithShape(n, classes), G.WithName("onehot"), G.WithValue(pairDense(dt, pairOnehot(labels, classes), n, classes)))
		loss, err := l.Build(g, emb, oh, classes)
		if err != nil {
			t.Fatal(err)
		}
		three := G.NewConstant(3.0)
		if dt == tensor.Float32 {
			three = G.NewConstant(float32(3))
		}
		grads, err := G.Grad(G.Must(G.Mul(loss, three)), emb)
		if err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		pairAssertClose(t, dt.String()+" dC/demb", msFloats(t, grads[0].Value()), ref, 1e-6, 1e-4)
		m.Close()
	}
}

// TestPairDegenerateBatches runs contrastive and triplet with every miner,
// both distances and margins 0 and default, in float32 and float64, on
// batches training can reach: one class only, one image per class,
// identical embeddings, zero embeddings, opposite directions, tiny norms.
// The loss and gradient must be finite, equal (float64) the slow references
// of contrastive_test.go and triplet_test.go, and be exactly 0 for triplet
// when the batch holds no valid triplet (no positive or no negative).
func TestPairDegenerateBatches(t *testing.T) {
	type batch struct {
		x      []float64
		labels []int
	}
	batches := map[string]batch{
		"one class":  {[]float64{1, 0, 0, 1, -1, 0, 0.5, 0.5}, []int{0, 0, 0, 0}},
		"singletons": {[]float64{1, 0, 0, 1, -1, 0, 0.5, 0.5}, []int{0, 1, 2, 3}},
		"identical":  {[]float64{1, 2, 1, 2, 1, 2, 1, 2}, []int{0, 0, 1, 1}},
		"zeros":      {[]float64{0, 0, 0, 0, 0, 0, 0, 0}, []int{0, 0, 1, 1}},
		"opposite":   {[]float64{1, 0, -1, 0, 1, 0, -1, 0}, []int{0, 0, 1, 1}},
		"opp same":   {[]float64{1, 0, 1, 0, -1, 0, -1, 0}, []int{0, 0, 1, 1}},
		"tiny":       {[]float64{1e-30, 0, -1e-30, 0, 0, 1e-30, 0, -1e-30}, []int{0, 0, 1, 1}},
	}
	var cfgs []Config
	for _, d := range []string{"cosine", "euclidean"} {
		cfgs = append(cfgs, Config{Name: "contrastive", Dim: 2, Distance: d},
			Config{Name: "contrastive", Dim: 2, Distance: d, Values: map[string]float64{"margin": 0}})
		for _, m := range Miners() {
			cfgs = append(cfgs, Config{Name: "triplet", Dim: 2, Distance: d, Miner: m},
				Config{Name: "triplet", Dim: 2, Distance: d, Miner: m, Values: map[string]float64{"margin": 0}})
		}
	}
	for bn, b := range batches {
		for _, cfg := range cfgs {
			for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
				l := pairMustNew(t, cfg)
				pg := pairNewGraph(t, l, dt, 4, 2, 4)
				loss, g := pg.run(t, b.x, b.labels)
				if !msAllFinite(append([]float64{loss}, g...)) {
					t.Errorf("%s %+v %v: loss %g grad %v", bn, cfg, dt, loss, g)
				}
				if dt == tensor.Float64 {
					var rl float64
					var rg []float64
					if cfg.Name == "triplet" {
						rl, rg = pairRefTriplet(cfg.Distance, cfg.Miner, b.x, b.labels, 2, l.Params()["margin"])
					} else {
						rl, rg = pairRefContrastive(cfg.Distance, b.x, b.labels, 2, l.Params()["margin"])
					}
					pairAssertClose(t, bn+" "+cfg.Name+" loss", []float64{loss}, []float64{rl}, 1e-12, 1e-9)
					pairAssertClose(t, bn+" "+cfg.Name+" grad", g, rg, 1e-9, 1e-9)
				}
				if bn == "one class" || bn == "singletons" {
					if cfg.Name == "triplet" && (loss != 0 || !pairAllZero(g)) {
						t.Errorf("%s %+v %v: loss %g grad %v, want 0", bn, cfg, dt, loss, g)
					}
				}
			}
		}
	}
}

// pairAllZero reports whether every entry of v is 0.
func pairAllZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// TestPairNonFiniteEmbedding checks that an embedding that is not a finite
// number (the weights overflowed by a step of too large a learning rate)
// makes the loss NaN or Inf, which fails the step (core.NonFiniteLoss),
// with every miner, and for contrastive in a batch of impostor pairs only:
// the miners' comparisons and the hinges are false for NaN, and the triplet
// loss was 0, the run going on as if every triplet were satisfied (and
// contrastive's hinges passed over an impostor pair's NaN distance).
func TestPairNonFiniteEmbedding(t *testing.T) {
	for _, labels := range [][]int{{0, 0, 1, 1}, {0, 1, 2, 3}} {
		pairNonFinite(t, labels)
	}
}

// pairNonFinite checks the pair losses on a batch of 4 with labels whose
// third embedding is NaN, then +Inf.
func pairNonFinite(t *testing.T, labels []int) {
	t.Helper()
	for _, bad := range []float64{math.NaN(), math.Inf(1)} {
		x := []float64{1, 0, 0.8, 0.6, bad, bad, 0, 1}
		var cfgs []Config
		for _, d := range []string{"cosine", "euclidean"} {
			cfgs = append(cfgs, Config{Name: "contrastive", Dim: 2, Distance: d})
			for _, m := range Miners() {
				cfgs = append(cfgs, Config{Name: "triplet", Dim: 2, Distance: d, Miner: m})
			}
		}
		for _, cfg := range cfgs {
			for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
				pg := pairNewGraph(t, pairMustNew(t, cfg), dt, 4, 2, 4)
				if loss, _ := pg.run(t, x, labels); !math.IsNaN(loss) && !math.IsInf(loss, 0) {
					t.Errorf("%s %s miner %q, %v, labels %v, embedding of %g: loss %g, want NaN or Inf", cfg.Name, cfg.Distance, cfg.Miner, dt, labels, bad, loss)
				}
			}
		}
	}
}
