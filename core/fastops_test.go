package core

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core/ops"
	"metriclab/core/par"
)

// layerSet is one implementation of the layer primitives.
type layerSet struct {
	conv   func(x, w, b *G.Node, pad, stride int) (*G.Node, error)
	relu   func(x *G.Node) (*G.Node, error)
	prelu  func(x, a *G.Node) (*G.Node, error)
	pool   func(x *G.Node) (*G.Node, error)
	linear func(x, w, b *G.Node) (*G.Node, error)
	mulT   func(x, w *G.Node) (*G.Node, error) // x·wᵀ, the losses' heads
	// convReLUPool, if set, is pool(relu(conv(x, w, b, pad))) in one op.
	convReLUPool func(x, w, b *G.Node, pad int) (*G.Node, error)
	// convPReLU, if set, is prelu(conv(x, w, b, pad), a) in one op.
	convPReLU func(x, w, b, a *G.Node, pad int) (*G.Node, error)
}

var fastLayers = layerSet{fastConv2d, fastReLU, fastPReLU, fastMaxPool2, fastLinear, mulT, fastConvReLUPool, fastConvPReLU}

// mulT is Linear without a bias.
func mulT(x, w *G.Node) (*G.Node, error) { return Linear(x, w, nil) }

// builtinLayers builds the primitives from gorgonia's built-ins. They are
// written out here rather than taken from layers.go, whose bodies are meant
// to be switched to the fast ops: the tests must keep an independent
// reference.
var builtinLayers = layerSet{
	conv: func(x, w, b *G.Node, pad, stride int) (*G.Node, error) {
		ws := w.Shape()
		y, err := G.Conv2d(x, w, tensor.Shape{ws[2], ws[3]}, []int{pad, pad}, []int{stride, stride}, []int{1, 1})
		if err != nil || b == nil {
			return y, err
		}
		return G.BroadcastAdd(y, b, nil, []byte{0, 2, 3})
	},
	relu: G.Rectify,
	prelu: func(x, a *G.Node) (*G.Node, error) {
		pos, err := G.Rectify(x)
		if err != nil {
			return nil, err
		}
		neg, err := G.Sub(x, pos)
		if err != nil {
			return nil, err
		}
		axes := []byte{0}
		if x.Dims() == 4 {
			axes = []byte{0, 2, 3}
		}
		sc, err := G.BroadcastHadamardProd(neg, a, nil, axes)
		if err != nil {
			return nil, err
		}
		return G.Add(pos, sc)
	},
	pool: func(x *G.Node) (*G.Node, error) {
		return G.MaxPool2D(x, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2})
	},
	linear: func(x, w, b *G.Node) (*G.Node, error) {
		wt, err := G.Transpose(w, 1, 0)
		if err != nil {
			return nil, err
		}
		y, err := G.Mul(x, wt)
		if err != nil {
			return nil, err
		}
		return G.BroadcastAdd(y, b, nil, []byte{0})
	},
	mulT: func(x, w *G.Node) (*G.Node, error) {
		wt, err := G.Transpose(w, 1, 0)
		if err != nil {
			return nil, err
		}
		return G.Mul(x, wt)
	},
}

// opCase is one layer primitive on inputs of the given shapes.
type opCase struct {
	name   string
	shapes [][]int
	apply  func(l layerSet, in []*G.Node) (*G.Node, error)
}

func opCases() []opCase {
	conv := func(pad int) func(l layerSet, in []*G.Node) (*G.Node, error) {
		return func(l layerSet, in []*G.Node) (*G.Node, error) { return l.conv(in[0], in[1], in[2], pad, 1) }
	}
	// strided convolutions without a bias, as IResNet's
	convS := func(pad, stride int) func(l layerSet, in []*G.Node) (*G.Node, error) {
		return func(l layerSet, in []*G.Node) (*G.Node, error) { return l.conv(in[0], in[1], nil, pad, stride) }
	}
	// convReLUPool is fused in fastLayers and three layers in builtinLayers.
	convReLUPool := func(pad int) func(l layerSet, in []*G.Node) (*G.Node, error) {
		return func(l layerSet, in []*G.Node) (*G.Node, error) {
			if l.convReLUPool != nil {
				return l.convReLUPool(in[0], in[1], in[2], pad)
			}
			h, err := l.conv(in[0], in[1], in[2], pad, 1)
			if err != nil {
				return nil, err
			}
			if h, err = l.relu(h); err != nil {
				return nil, err
			}
			return l.pool(h)
		}
	}
	// convPReLU likewise: fused in fastLayers, two layers in builtinLayers.
	convPReLU := func(pad int) func(l layerSet, in []*G.Node) (*G.Node, error) {
		return func(l layerSet, in []*G.Node) (*G.Node, error) {
			if l.convPReLU != nil {
				return l.convPReLU(in[0], in[1], in[2], in[3], pad)
			}
			h, err := l.conv(in[0], in[1], in[2], pad, 1)
			if err != nil {
				return nil, err
			}
			return l.prelu(h, in[3])
		}
	}
	return []opCase{
		{"conv k3 pad0 Wo4", [][]int{{2, 3, 7, 6}, {4, 3, 3, 3}, {4}}, conv(0)},
		{"conv k3 pad0 Wo8", [][]int{{2, 3, 6, 10}, {5, 3, 3, 3}, {5}}, conv(0)},
		{"conv k5 pad0 Wo8", [][]int{{2, 2, 12, 12}, {3, 2, 5, 5}, {3}}, conv(0)},
		{"conv k5 pad2 Wo8", [][]int{{2, 2, 7, 8}, {3, 2, 5, 5}, {3}}, conv(2)},
		{"conv k5 pad2 Wo8 odd H", [][]int{{3, 1, 9, 8}, {3, 1, 5, 5}, {3}}, conv(2)},
		{"conv k3 pad1 Wo6", [][]int{{2, 3, 7, 6}, {5, 3, 3, 3}, {5}}, conv(1)},
		{"conv k5 pad2 Wo7", [][]int{{3, 2, 9, 7}, {3, 2, 5, 5}, {3}}, conv(2)},
		{"conv k1 Wo5", [][]int{{2, 4, 3, 5}, {7, 4, 1, 1}, {7}}, conv(0)},
		{"conv k3 pad1 stride2 no bias", [][]int{{2, 3, 8, 7}, {5, 3, 3, 3}}, convS(1, 2)},
		{"conv k1 stride2 no bias", [][]int{{2, 4, 6, 5}, {6, 4, 1, 1}}, convS(0, 2)},
		{"conv k3 pad1 stride1 no bias", [][]int{{2, 3, 5, 6}, {4, 3, 3, 3}}, convS(1, 1)},
		{"conv-relu-pool gather", [][]int{{2, 2, 12, 12}, {3, 2, 5, 5}, {3}}, convReLUPool(0)},
		{"conv-relu-pool pad1 odd", [][]int{{2, 3, 7, 6}, {4, 3, 3, 3}, {4}}, convReLUPool(1)},
		{"conv-relu-pool pad2 Wo8", [][]int{{2, 2, 9, 8}, {5, 2, 5, 5}, {5}}, convReLUPool(2)},
		{"conv-relu-pool k1 Wo5", [][]int{{3, 4, 3, 5}, {6, 4, 1, 1}, {6}}, convReLUPool(0)},
		{"conv-prelu pad2 Wo8", [][]int{{2, 2, 7, 8}, {3, 2, 5, 5}, {3}, {3}}, convPReLU(2)},
		{"conv-prelu pad1 odd", [][]int{{3, 3, 7, 6}, {4, 3, 3, 3}, {4}, {4}}, convPReLU(1)},
		{"conv-prelu k1", [][]int{{2, 4, 3, 5}, {6, 4, 1, 1}, {6}, {6}}, convPReLU(0)},
		{"relu 4d", [][]int{{2, 3, 4, 5}}, func(l layerSet, in []*G.Node) (*G.Node, error) { return l.relu(in[0]) }},
		{"relu 2d", [][]int{{5, 7}}, func(l layerSet, in []*G.Node) (*G.Node, error) { return l.relu(in[0]) }},
		{"prelu 4d", [][]int{{2, 3, 4, 5}, {3}}, func(l layerSet, in []*G.Node) (*G.Node, error) { return l.prelu(in[0], in[1]) }},
		{"prelu 2d", [][]int{{5, 6}, {6}}, func(l layerSet, in []*G.Node) (*G.Node, error) { return l.prelu(in[0], in[1]) }},
		{"pool even", [][]int{{2, 3, 6, 8}}, func(l layerSet, in []*G.Node) (*G.Node, error) { return l.pool(in[0]) }},
		{"pool odd", [][]int{{2, 2, 7, 5}}, func(l layerSet, in []*G.Node) (*G.Node, error) { return l.pool(in[0]) }},
		{"linear", [][]int{{5, 7}, {3, 7}, {3}}, func(l layerSet, in []*G.Node) (*G.Node, error) { return l.linear(in[0], in[1], in[2]) }},
		{"linear wide", [][]int{{6, 17}, {9, 17}, {9}}, func(l layerSet, in []*G.Node) (*G.Node, error) { return l.linear(in[0], in[1], in[2]) }},
		{"mulT", [][]int{{5, 7}, {3, 7}}, func(l layerSet, in []*G.Node) (*G.Node, error) { return l.mulT(in[0], in[1]) }},
		{"mulT head", [][]int{{13, 33}, {70, 33}}, func(l layerSet, in []*G.Node) (*G.Node, error) { return l.mulT(in[0], in[1]) }},
	}
}

// opGraph is an op case built into a graph with the scalar cost
// L = Σ y ⊙ r, r a fixed random tensor, and its gradients.
type opGraph struct {
	g     *G.ExprGraph
	in    []*G.Node
	y, r  *G.Node
	grads G.Nodes
	vm    G.VM
}

// newOpGraph builds c with layers l in dtype dt, inputs drawn from a seeded
// generator (so that two builds get the same values).
func newOpGraph(t testing.TB, c opCase, l layerSet, dt tensor.Dtype, seed uint64) *opGraph {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	g := G.NewGraph()
	og := &opGraph{g: g}
	for i, s := range c.shapes {
		v := tensor.New(tensor.Of(dt), tensor.WithShape(s...))
		fillRand(v, rng)
		og.in = append(og.in, G.NodeFromAny(g, v, G.WithName(fmt.Sprintf("in%d", i))))
	}
	y, err := c.apply(l, og.in)
	if err != nil {
		t.Fatalf("%s: build: %v", c.name, err)
	}
	rv := tensor.New(tensor.Of(dt), tensor.WithShape(y.Shape().Clone()...))
	fillRand(rv, rng)
	r := G.NodeFromAny(g, rv, G.WithName("r"))
	prod, err := G.HadamardProd(y, r)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	if og.grads, err = G.Grad(cost, og.in...); err != nil {
		t.Fatalf("%s: grad: %v", c.name, err)
	}
	og.y, og.r = y, r
	og.vm = G.NewTapeMachine(g)
	return og
}

// run executes the graph once and returns y and the gradients as float64.
func (og *opGraph) run(t testing.TB) (y []float64, grads [][]float64) {
	t.Helper()
	if err := og.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	defer og.vm.Reset()
	y = valueFloats(og.y.Value())
	for _, gn := range og.grads {
		grads = append(grads, valueFloats(gn.Value()))
	}
	return y, grads
}

// fillRand fills v with values uniform in [−1, 1).
func fillRand(v *tensor.Dense, rng *rand.Rand) {
	switch d := v.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(2*rng.Float64() - 1)
		}
	case []float64:
		for i := range d {
			d[i] = 2*rng.Float64() - 1
		}
	}
}

// valueFloats copies a tensor value to []float64.
func valueFloats(v G.Value) []float64 {
	switch d := v.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	case float32:
		return []float64{float64(d)}
	case float64:
		return []float64{d}
	}
	panic(fmt.Sprintf("valueFloats: %T", v.Data()))
}

// checkClose fails unless |got − want| ≤ atol + rtol·|want| everywhere.
func checkClose(t *testing.T, what string, got, want []float64, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: length %d, want %d", what, len(got), len(want))
		return
	}
	worst, at := 0.0, -1
	for i := range got {
		d := math.Abs(got[i] - want[i])
		if d > atol+rtol*math.Abs(want[i]) && d > worst || math.IsNaN(got[i]) {
			worst, at = d, i
		}
	}
	if at >= 0 {
		t.Errorf("%s: element %d is %g, want %g (|diff| %g > %g + %g·|want|)", what, at, got[at], want[at], worst, atol, rtol)
	}
}

// TestFastOpsMatchBuiltins compares every fast op with the same layer built
// from gorgonia's own ops, forward and gradients, in both dtypes; the fast
// graph runs twice, so an op that keeps (or adds onto) its last output is
// caught.
func TestFastOpsMatchBuiltins(t *testing.T) {
	tols := []struct {
		dt         tensor.Dtype
		atol, rtol float64
	}{
		{tensor.Float32, 1e-4, 1e-3}, // both sides sum in float32
		{tensor.Float64, 1e-12, 1e-9},
	}
	for _, c := range opCases() {
		for _, tol := range tols {
			name := fmt.Sprintf("%s %v", c.name, tol.dt)
			fast := newOpGraph(t, c, fastLayers, tol.dt, 1)
			fast.run(t)
			fy, fg := fast.run(t)
			by, bg := newOpGraph(t, c, builtinLayers, tol.dt, 1).run(t)
			checkClose(t, name+" y", fy, by, tol.atol, tol.rtol)
			for i := range bg {
				checkClose(t, fmt.Sprintf("%s dL/din%d", name, i), fg[i], bg[i], tol.atol, tol.rtol)
			}
		}
	}
}

// TestFastOpsFiniteDifference checks every fast op's gradient against
// central differences of L = Σ y ⊙ r in float64:
//
//	dL/dθ ≈ (L(θ+h) − L(θ−h)) / 2h,   h = 1e-6.
//
// Inputs are random in [−1, 1), so no ReLU or max-pool tie sits within h.
func TestFastOpsFiniteDifference(t *testing.T) {
	const h = 1e-6
	for _, c := range opCases() {
		og := newOpGraph(t, c, fastLayers, tensor.Float64, 2)
		_, grads := og.run(t)
		r := valueFloats(og.r.Value())
		loss := func() float64 {
			y, _ := og.run(t)
			var s float64
			for i := range y {
				s += y[i] * r[i]
			}
			return s
		}
		for i, in := range og.in {
			data := in.Value().Data().([]float64)
			for j := range data {
				old := data[j]
				data[j] = old + h
				lp := loss()
				data[j] = old - h
				lm := loss()
				data[j] = old
				num := (lp - lm) / (2 * h)
				if d := math.Abs(num - grads[i][j]); d > 1e-6+1e-5*math.Abs(num) {
					t.Errorf("%s: dL/din%d[%d] = %g, central difference %g", c.name, i, j, grads[i][j], num)
				}
			}
		}
	}
}

// TestFastOpsThreadsAndSparse runs every float32 fast op on a pool of
// three threads, and the fused convolution with both of its backward paths
// (dense products, and the pure-Go kernel's sparse one): the threads must
// not change a bit, and the two backward paths must agree to float32
// rounding.
func TestFastOpsThreadsAndSparse(t *testing.T) {
	pool := par.NewPool(3)
	defer pool.Close()
	defer func(old bool) { sparseBackward = old }(sparseBackward)
	for _, c := range opCases() {
		sparseBackward = false
		one := newOpGraph(t, c, fastLayers, tensor.Float32, 3)
		y1, g1 := one.run(t)
		three := newOpGraph(t, c, fastLayers, tensor.Float32, 3)
		ops.UsePool(three.g, pool)
		y3, g3 := three.run(t)
		checkClose(t, c.name+" y, 3 threads", y3, y1, 0, 0)
		for i := range g1 {
			checkClose(t, fmt.Sprintf("%s dL/din%d, 3 threads", c.name, i), g3[i], g1[i], 0, 0)
		}
		sparseBackward = true
		_, gs := newOpGraph(t, c, fastLayers, tensor.Float32, 3).run(t)
		for i := range g1 {
			checkClose(t, fmt.Sprintf("%s dL/din%d, sparse backward", c.name, i), gs[i], g1[i], 1e-5, 1e-4)
		}
	}
}

// TestPooledGradsDropsSubnormals: the sparse backward of fastConvReLUPool
// (the pure-Go kernel's) takes a subnormal pooled gradient as zero, so that
// gatherDotsAdd and scatterAxpy never multiply by one, and keeps float32's
// smallest normal number 2⁻¹²⁶ and a NaN; a zero gradient and one whose
// pooled output is not positive are dropped as before.
func TestPooledGradsDropsSubnormals(t *testing.T) {
	nan := float32(math.NaN())
	y := []float32{1, 1, 1, 1, 1, 1, 0}
	dy := []float32{0x1p-127, -0x1p-140, 0x1p-126, nan, 0, -0x1p-126, 1}
	arg := []int32{100, 101, 102, 103, 104, 105, 106}
	pixels := []int32{10, 11, 12, 13, 14, 15, 16}
	gs, base := pooledGrads(nil, nil, y, dy, arg, 100, pixels)
	wantBase := []int32{12, 13, 15}
	if len(gs) != 3 || gs[0] != 0x1p-126 || !math.IsNaN(float64(gs[1])) || gs[2] != -0x1p-126 || !slices.Equal(base, wantBase) {
		t.Fatalf("pooledGrads = %g at %v, want [2⁻¹²⁶ NaN −2⁻¹²⁶] at %v", gs, base, wantBase)
	}
}
