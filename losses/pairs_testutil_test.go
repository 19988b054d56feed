package losses

// Test helpers shared by the contrastive, triplet, distance and miner tests.
// The references here are written the slow, obvious way, pair by pair,
// independently of pairKernel.

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core"
	"metriclab/core/ops"
)

// pairRefDist returns d(x, y) for the named distance and its gradients with
// respect to x and to y, from the closed forms:
//
//	euclidean: d = √(Σ(x−y)² + ε),         ∂d/∂x = (x − y)/d
//	cosine:    d = 1 − x·y/(‖x‖‖y‖),       ∂d/∂x = −y/(‖x‖‖y‖) + (x·y)·x/(‖x‖³‖y‖)
//
// with ‖x‖ = √(Σx² + ε), as in distance.go.
func pairRefDist(dist string, x, y []float64) (d float64, gx, gy []float64) {
	gx = make([]float64, len(x))
	gy = make([]float64, len(y))
	switch dist {
	case "euclidean":
		var s float64
		for c := range x {
			s += (x[c] - y[c]) * (x[c] - y[c])
		}
		d = math.Sqrt(s + pairSqrtEps)
		for c := range x {
			gx[c] = (x[c] - y[c]) / d
			gy[c] = -gx[c]
		}
	case "cosine":
		var xx, yy, xy float64
		for c := range x {
			xx += x[c] * x[c]
			yy += y[c] * y[c]
			xy += x[c] * y[c]
		}
		nx, ny := math.Sqrt(xx+pairNormEps), math.Sqrt(yy+pairNormEps)
		d = 1 - xy/(nx*ny)
		for c := range x {
			gx[c] = -y[c]/(nx*ny) + xy*x[c]/(nx*nx*nx*ny)
			gy[c] = -x[c]/(nx*ny) + xy*y[c]/(ny*ny*ny*nx)
		}
	default:
		panic("pairRefDist: unknown distance " + dist)
	}
	return d, gx, gy
}

// pairRow returns row i of the N×dim matrix x.
func pairRow(x []float64, i, dim int) []float64 { return x[i*dim : (i+1)*dim] }

// pairRandBatch returns n random embeddings (N(0,1) entries, n×dim) and
// labels cycling through classes.
func pairRandBatch(seed uint64, n, dim, classes int) (x []float64, labels []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	x = make([]float64, n*dim)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	labels = make([]int, n)
	for i := range labels {
		labels[i] = i % classes
	}
	return x, labels
}

// pairOnehot returns the N×classes one-hot rows of labels.
func pairOnehot(labels []int, classes int) []float64 {
	m := make([]float64, len(labels)*classes)
	for i, l := range labels {
		m[i*classes+l] = 1
	}
	return m
}

// pairCircle returns 2-D unit vectors at the given angles in degrees.
func pairCircle(deg ...float64) []float64 {
	x := make([]float64, 0, 2*len(deg))
	for _, a := range deg {
		s, c := math.Sincos(a * math.Pi / 180)
		x = append(x, c, s)
	}
	return x
}

// pairKinkGap returns how far the distances of x are from the kinks of the
// pair losses: the smallest of |d(a,i) − d(a,j)| over each row's pairs
// (ties switch a miner's choice), |margin + d(a,p) − d(a,n)| over the
// triplets and |margin − d| over the negative pairs (hinges). A finite
// difference with a step well below it crosses no kink.
func pairKinkGap(dist string, x []float64, labels []int, dim int, margin float64) float64 {
	n := len(labels)
	dm := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i != j {
				dm[i*n+j], _, _ = pairRefDist(dist, pairRow(x, i, dim), pairRow(x, j, dim))
			}
		}
	}
	gap := math.Inf(1)
	for a := 0; a < n; a++ {
		for i := 0; i < n; i++ {
			if i == a {
				continue
			}
			if labels[i] != labels[a] {
				gap = min(gap, math.Abs(margin-dm[a*n+i]))
			}
			for j := 0; j < n; j++ {
				if j == a || j == i {
					continue
				}
				gap = min(gap, math.Abs(dm[a*n+i]-dm[a*n+j]))
				if labels[i] == labels[a] && labels[j] != labels[a] {
					gap = min(gap, math.Abs(margin+dm[a*n+i]-dm[a*n+j]))
				}
			}
		}
	}
	return gap
}

// pairSmoothBatch returns the first random batch (seeds from seed on) whose
// kink gap is at least 1e-3, so that a central difference with step 1e-6
// sees a smooth function.
func pairSmoothBatch(t *testing.T, seed uint64, dist string, n, dim, classes int, margin float64) ([]float64, []int) {
	t.Helper()
	for s := seed; s < seed+50; s++ {
		x, labels := pairRandBatch(s, n, dim, classes)
		if pairKinkGap(dist, x, labels, dim, margin) >= 1e-3 {
			return x, labels
		}
	}
	t.Fatalf("no batch away from kinks in 50 seeds from %d", seed)
	return nil, nil
}

// pairFDGrad returns the central finite difference (f(x+h) − f(x−h))/2h of
// f at x in each coordinate.
func pairFDGrad(f func([]float64) float64, x []float64, h float64) []float64 {
	g := make([]float64, len(x))
	xp := append([]float64(nil), x...)
	for i := range x {
		xp[i] = x[i] + h
		fp := f(xp)
		xp[i] = x[i] - h
		fm := f(xp)
		xp[i] = x[i]
		g[i] = (fp - fm) / (2 * h)
	}
	return g
}

// pairAssertClose fails unless |got − want| ≤ atol + rtol·|want| everywhere.
func pairAssertClose(t *testing.T, what string, got, want []float64, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	worst, at := 0.0, -1
	for i := range want {
		if e := math.Abs(got[i]-want[i]) - (atol + rtol*math.Abs(want[i])); e > worst || math.IsNaN(got[i]) {
			worst, at = e, i
			if math.IsNaN(got[i]) {
				break
			}
		}
	}
	if at >= 0 {
		t.Errorf("%s: [%d] = %.12g, want %.12g (atol %g, rtol %g)", what, at, got[at], want[at], atol, rtol)
	}
}

// pairGraph is a loss built in a gorgonia graph of one dtype, with emb and
// onehot as input nodes and the gradient of the loss with respect to emb.
type pairGraph struct {
	g            *G.ExprGraph
	emb, onehot  *G.Node
	loss, dEmb   *G.Node
	m            G.VM
	dt           tensor.Dtype
	n, dim, clss int
}

// pairNewGraph builds l on an n×dim emb and an n×classes onehot of dtype dt.
func pairNewGraph(t *testing.T, l core.Loss, dt tensor.Dtype, n, dim, classes int) *pairGraph {
	t.Helper()
	pg := &pairGraph{g: G.NewGraph(), dt: dt, n: n, dim: dim, clss: classes}
	pg.emb = G.NewMatrix(pg.g, dt, G.WithShape(n, dim), G.WithName("emb"))
	pg.onehot = G.NewMatrix(pg.g, dt, G.WithShape(n, classes), G.WithName("onehot"))
	var err error
	if pg.loss, err = l.Build(pg.g, pg.emb, pg.onehot, classes); err != nil {
		t.Fatalf("Build: %v", err)
	}
	grads, err := G.Grad(pg.loss, pg.emb)
	if err != nil {
		t.Fatalf("Grad: %v", err)
	}
	pg.dEmb = grads[0]
	pg.m = G.NewTapeMachine(pg.g)
	t.Cleanup(func() { pg.m.Close() })
	return pg
}

// pairDense returns v (float64) as an r×c tensor of dtype dt.
func pairDense(dt tensor.Dtype, v []float64, r, c int) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(r, c), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(r, c), tensor.WithBacking(append([]float64(nil), v...)))
}

// run sets the inputs, runs forward and backward, and returns the loss and
// dL/demb in float64.
func (pg *pairGraph) run(t *testing.T, x []float64, labels []int) (float64, []float64) {
	t.Helper()
	if err := G.Let(pg.emb, pairDense(pg.dt, x, pg.n, pg.dim)); err != nil {
		t.Fatal(err)
	}
	if err := G.Let(pg.onehot, pairDense(pg.dt, pairOnehot(labels, pg.clss), pg.n, pg.clss)); err != nil {
		t.Fatal(err)
	}
	pg.m.Reset()
	if err := pg.m.RunAll(); err != nil {
		t.Fatalf("RunAll: %v", err)
	}
	l, err := ops.Scalar(pg.loss.Value())
	if err != nil {
		t.Fatal(err)
	}
	return l, msFloats(t, pg.dEmb.Value())
}

// pairMustNew is losses.New that fails the test on error.
func pairMustNew(t *testing.T, c Config) core.Loss {
	t.Helper()
	l, err := New(c)
	if err != nil {
		t.Fatalf("New(%+v): %v", c, err)
	}
	return l
}

// pairTrain trains free embeddings x0 (n×dim, learnable) of the given labels
// with loss l for steps Adam steps in float64, and returns the first and
// last loss and the final embeddings.
func pairTrain(t *testing.T, l core.Loss, x0 []float64, labels []int, dim, classes, steps int) (first, last float64, x []float64) {
	t.Helper()
	n := len(labels)
	g := G.NewGraph()
	emb := G.NewMatrix(g, tensor.Float64, G.WithShape(n, dim), G.WithName("emb"),
		G.WithValue(pairDense(tensor.Float64, x0, n, dim)))
	onehot := G.NewMatrix(g, tensor.Float64, G.WithShape(n, classes), G.WithName("onehot"),
		G.WithValue(pairDense(tensor.Float64, pairOnehot(labels, classes), n, classes)))
	loss, err := l.Build(g, emb, onehot, classes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, emb); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g, G.BindDualValues(emb))
	defer m.Close()
	solver := G.NewAdamSolver(G.WithLearnRate(0.05))
	for s := 0; s < steps; s++ {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		v, err := ops.Scalar(loss.Value())
		if err != nil {
			t.Fatal(err)
		}
		if s == 0 {
			first = v
		}
		last = v
		if err := solver.Step(G.NodesToValueGrads(G.Nodes{emb})); err != nil {
			t.Fatal(err)
		}
	}
	return first, last, msFloats(t, emb.Value())
}

// pairSeparation returns the leave-one-out nearest-neighbour accuracy of the
// embeddings x under dist, and the mean distances within and between classes.
func pairSeparation(dist string, x []float64, labels []int, dim int) (acc, intra, inter float64) {
	n := len(labels)
	var correct, ni, nb int
	for i := 0; i < n; i++ {
		best, bestD := -1, math.Inf(1)
		for j := 0; j < n; j++ {
			if j == i {
				continue
			}
			d, _, _ := pairRefDist(dist, pairRow(x, i, dim), pairRow(x, j, dim))
			if d < bestD {
				best, bestD = j, d
			}
			if labels[i] == labels[j] {
				intra += d
				ni++
			} else {
				inter += d
				nb++
			}
		}
		if labels[best] == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(n), intra / float64(ni), inter / float64(nb)
}
