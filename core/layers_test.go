package core

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Slow, obvious references of the layer primitives, in float64, for the
// comparisons below (and for any faster body the primitives get later).

// refConv2d is y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v]·x[n,c,i+u−pad,j+v−pad]
// with zeros outside x.
func refConv2d(x []float64, n, ci, h, w int, wt []float64, co, k int, b []float64, pad int) []float64 {
	ho, wo := h+2*pad-k+1, w+2*pad-k+1
	y := make([]float64, n*co*ho*wo)
	for in := 0; in < n; in++ {
		for o := 0; o < co; o++ {
			for i := 0; i < ho; i++ {
				for j := 0; j < wo; j++ {
					s := b[o]
					for c := 0; c < ci; c++ {
						for u := 0; u < k; u++ {
							for v := 0; v < k; v++ {
								r, q := i+u-pad, j+v-pad
								if r < 0 || r >= h || q < 0 || q >= w {
									continue
								}
								s += wt[((o*ci+c)*k+u)*k+v] * x[((in*ci+c)*h+r)*w+q]
							}
						}
					}
					y[((in*co+o)*ho+i)*wo+j] = s
				}
			}
		}
	}
	return y
}

// refMaxPool2 is the maximum of each 2×2 window at stride 2; a last odd
// row or column is dropped.
func refMaxPool2(x []float64, n, c, h, w int) []float64 {
	ho, wo := h/2, w/2
	y := make([]float64, n*c*ho*wo)
	for p := 0; p < n*c; p++ {
		for i := 0; i < ho; i++ {
			for j := 0; j < wo; j++ {
				m := math.Inf(-1)
				for u := 0; u < 2; u++ {
					for v := 0; v < 2; v++ {
						m = math.Max(m, x[(p*h+2*i+u)*w+2*j+v])
					}
				}
				y[(p*ho+i)*wo+j] = m
			}
		}
	}
	return y
}

// refPReLU is max(x,0) + a[c]·min(x,0) over N×C×S (S = H·W, or 1).
func refPReLU(x []float64, n, c, s int, a []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		ch := i / s % c
		y[i] = math.Max(v, 0) + a[ch]*math.Min(v, 0)
	}
	return y
}

// refLinear is y = x·wᵀ + b, x N×in, w out×in.
func refLinear(x []float64, n, in int, w []float64, out int, b []float64) []float64 {
	y := make([]float64, n*out)
	for r := 0; r < n; r++ {
		for o := 0; o < out; o++ {
			s := b[o]
			for i := 0; i < in; i++ {
				s += x[r*in+i] * w[o*in+i]
			}
			y[r*out+o] = s
		}
	}
	return y
}

func randSlice(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 2*rng.Float64() - 1
	}
	return v
}

// constNode adds a float64 input node with the given shape and values.
func constNode(g *G.ExprGraph, name string, v []float64, shape ...int) *G.Node {
	return G.NewTensor(g, tensor.Float64, len(shape), G.WithShape(shape...), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))))
}

// evalNode runs g once and returns y's values.
func evalNode(t *testing.T, g *G.ExprGraph, y *G.Node) []float64 {
	t.Helper()
	var out G.Value
	G.Read(y, &out)
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), out.Data().([]float64)...)
}

func maxAbsDiff(t *testing.T, name string, got, want []float64, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		d := math.Abs(got[i] - want[i])
		worst = math.Max(worst, d)
		if !(d <= atol+rtol*math.Abs(want[i])) {
			t.Fatalf("%s: [%d] = %g, reference %g", name, i, got[i], want[i])
		}
	}
	t.Logf("%s: max abs diff %.3g", name, worst)
}

// TestLayersMatchReference compares each primitive with its slow reference
// on random float64 data; the tolerance is float64 rounding of short sums.
func TestLayersMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	const atol, rtol = 1e-12, 1e-12
	for _, c := range []struct{ n, ci, h, w, co, k, pad int }{
		{2, 1, 9, 9, 3, 5, 0},
		{2, 3, 8, 7, 4, 5, 2},
		{1, 2, 6, 10, 2, 3, 1},
	} {
		name := fmt.Sprintf("conv2d %+v", c)
		g := G.NewGraph()
		xv, wv, bv := randSlice(rng, c.n*c.ci*c.h*c.w), randSlice(rng, c.co*c.ci*c.k*c.k), randSlice(rng, c.co)
		y, err := conv2d(constNode(g, "x", xv, c.n, c.ci, c.h, c.w), constNode(g, "w", wv, c.co, c.ci, c.k, c.k), constNode(g, "b", bv, c.co), c.pad)
		if err != nil {
			t.Fatal(name, err)
		}
		ho, wo := c.h+2*c.pad-c.k+1, c.w+2*c.pad-c.k+1
		if !slices.Equal(y.Shape(), []int{c.n, c.co, ho, wo}) {
			t.Fatalf("%s: shape %v, want %v", name, y.Shape(), []int{c.n, c.co, ho, wo})
		}
		maxAbsDiff(t, name, evalNode(t, g, y), refConv2d(xv, c.n, c.ci, c.h, c.w, wv, c.co, c.k, bv, c.pad), atol, rtol)
	}
	for _, c := range []struct{ n, c, h, w int }{{2, 3, 4, 6}, {1, 2, 7, 7}, {2, 1, 5, 8}} {
		name := fmt.Sprintf("maxPool2 %+v", c)
		g := G.NewGraph()
		xv := randSlice(rng, c.n*c.c*c.h*c.w)
		y, err := maxPool2(constNode(g, "x", xv, c.n, c.c, c.h, c.w))
		if err != nil {
			t.Fatal(name, err)
		}
		if !slices.Equal(y.Shape(), []int{c.n, c.c, c.h / 2, c.w / 2}) {
			t.Fatalf("%s: shape %v", name, y.Shape())
		}
		maxAbsDiff(t, name, evalNode(t, g, y), refMaxPool2(xv, c.n, c.c, c.h, c.w), 0, 0)
	}
	for _, shape := range [][]int{{2, 3, 4, 5}, {3, 4}} {
		name := fmt.Sprintf("prelu %v", shape)
		g := G.NewGraph()
		xv, av := randSlice(rng, shapeSize(shape)), randSlice(rng, shape[1])
		y, err := prelu(constNode(g, "x", xv, shape...), constNode(g, "a", av, shape[1]))
		if err != nil {
			t.Fatal(name, err)
		}
		maxAbsDiff(t, name, evalNode(t, g, y), refPReLU(xv, shape[0], shape[1], shapeSize(shape[2:]), av), atol, rtol)
	}
	{
		n, in, out := 3, 7, 4
		g := G.NewGraph()
		xv, wv, bv := randSlice(rng, n*in), randSlice(rng, out*in), randSlice(rng, out)
		y, err := linear(constNode(g, "x", xv, n, in), constNode(g, "w", wv, out, in), constNode(g, "b", bv, out))
		if err != nil {
			t.Fatal(err)
		}
		maxAbsDiff(t, "linear", evalNode(t, g, y), refLinear(xv, n, in, wv, out, bv), atol, rtol)
	}
}
