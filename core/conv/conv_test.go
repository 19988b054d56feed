package conv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"metriclab/core/gemm"
	"metriclab/core/par"
)

// geoms are the engine's convolutions (lenet-s, LeNet++, IResNet's 3×3 and
// 1×1 strided ones, shrunk) and odd shapes: stride above the kernel, padding
// above the kernel, one pixel, non-square input.
var geoms = []Geom{
	{N: 2, Ci: 1, H: 28, W: 28, Co: 8, K: 5, Stride: 1, Pad: 0},
	{N: 2, Ci: 8, H: 12, W: 12, Co: 16, K: 5, Stride: 1, Pad: 0},
	{N: 3, Ci: 4, H: 14, W: 14, Co: 6, K: 5, Stride: 1, Pad: 2},
	{N: 2, Ci: 5, H: 7, W: 7, Co: 33, K: 5, Stride: 1, Pad: 2},
	{N: 2, Ci: 3, H: 11, W: 9, Co: 17, K: 3, Stride: 1, Pad: 1},
	{N: 2, Ci: 6, H: 12, W: 12, Co: 10, K: 3, Stride: 2, Pad: 1},
	{N: 2, Ci: 7, H: 9, W: 11, Co: 9, K: 3, Stride: 2, Pad: 1},
	{N: 2, Ci: 6, H: 10, W: 10, Co: 12, K: 1, Stride: 2, Pad: 0},
	{N: 1, Ci: 2, H: 9, W: 9, Co: 3, K: 2, Stride: 3, Pad: 0},
	{N: 1, Ci: 2, H: 5, W: 6, Co: 4, K: 3, Stride: 1, Pad: 4},
	{N: 1, Ci: 1, H: 1, W: 1, Co: 2, K: 1, Stride: 1, Pad: 0},
	{N: 2, Ci: 3, H: 8, W: 8, Co: 5, K: 4, Stride: 2, Pad: 1},
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// within reports the first element where got and want differ by more than
// atol + rtol·|want|.
func within(got, want []float32, atol, rtol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("lengths %d and %d", len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - float64(want[i])); !(d <= atol+rtol*math.Abs(float64(want[i]))) {
			return fmt.Errorf("element %d: %g, want %g", i, got[i], want[i])
		}
	}
	return nil
}

// TestPlanMatchesRef compares the three products with the float64
// references, on one thread and on three, and twice in a row on the same
// plan (scratch reuse must not leak a step into the next).
func TestPlanMatchesRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	pool := par.NewPool(3)
	defer pool.Close()
	for _, g := range geoms {
		p, err := NewPlan(g)
		if err != nil {
			t.Fatalf("%+v: %v", g, err)
		}
		if !slices.IsSorted(p.Taps()) {
			t.Errorf("%+v: taps not ascending", g)
		}
		for rep := 0; rep < 2; rep++ {
			x, w, b := randSlice(rng, g.InSize()), randSlice(rng, g.FilterSize()), randSlice(rng, g.Co)
			dy := randSlice(rng, g.OutSize())
			// float32 sums of Q (or Co·K·K, or N·P) terms: tolerance grows with √terms.
			tol := 2e-6 * math.Sqrt(float64(max(g.Q(), g.Co*g.K*g.K, g.N*g.P())))
			for _, pl := range []*par.Pool{nil, pool} {
				wantY := make([]float32, g.OutSize())
				RefTo(g, wantY, x, w, b)
				y := make([]float32, g.OutSize())
				p.Forward(pl, y, x, w, b)
				if err := within(y, wantY, tol, tol); err != nil {
					t.Fatalf("%+v Forward: %v", g, err)
				}
				wantDx := make([]float32, g.InSize())
				RefDataTo(g, wantDx, dy, w)
				dx := randSlice(rng, g.InSize()) // garbage: BackwardData must overwrite it
				p.BackwardData(pl, dx, dy, w)
				if err := within(dx, wantDx, tol, tol); err != nil {
					t.Fatalf("%+v BackwardData: %v", g, err)
				}
				wantDw, wantDb := make([]float32, g.FilterSize()), make([]float32, g.Co)
				RefFilterTo(g, wantDw, wantDb, x, dy)
				dw, db := make([]float32, g.FilterSize()), make([]float32, g.Co)
				p.BackwardFilter(pl, dw, db, x, dy)
				if err := within(dw, wantDw, tol, tol); err != nil {
					t.Fatalf("%+v BackwardFilter dw: %v", g, err)
				}
				if err := within(db, wantDb, 1e-5, 1e-5); err != nil {
					t.Fatalf("%+v BackwardFilter db: %v", g, err)
				}
			}
		}
	}
}

// TestPlanBands: the bands name only zeros (every step outside a row's
// range reads the padding), LeNet++'s last convolution has them and
// sorted rows, and the products that skip them give the bits of the
// products that do not.
func TestPlanBands(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	banded, sorted := 0, 0
	for _, g := range geoms {
		p, err := NewPlan(g)
		if err != nil {
			t.Fatal(err)
		}
		x, w, b, dy := randSlice(rng, g.InSize()), randSlice(rng, g.FilterSize()), randSlice(rng, g.Co), randSlice(rng, g.OutSize())
		for i := range x { // no zero inside the image, so that a zero read is the padding's
			x[i] = 1 + float32(i%7)
		}
		for i := range dy {
			dy[i] = 1 + float32(i%5)
		}
		xp := p.Padded(nil, x)
		if p.yruns != nil {
			sorted++
		}
		for _, c := range p.classes {
			if c.sorted {
				sorted++
			}
		}
		if p.fwd != nil {
			banded++
			for r, row := range p.rows {
				for s, tap := range p.taps {
					if outside(p.fwd, r, s) && xp[row+tap] != 0 {
						t.Fatalf("%+v: row %d, tap %d outside the forward band reads %g", g, r, s, xp[row+tap])
					}
				}
			}
			for r, row := range p.pixels {
				for s, tap := range p.taps {
					if outside(p.filt, s, r) && xp[row+tap] != 0 {
						t.Fatalf("%+v: tap %d, pixel %d outside the filter band reads %g", g, s, r, xp[row+tap])
					}
				}
			}
		} else if bands && g.Pad > 0 && g.K == 5 && g.H == 7 {
			t.Errorf("%+v: LeNet++'s last convolution without a band", g)
		}
		// The same products without the bands.
		q, _ := NewPlan(g)
		q.fwd, q.filt = nil, nil
		for i := range q.classes {
			q.classes[i].band = nil
		}
		p.BackwardData(nil, make([]float32, g.InSize()), dy, w) // fills the padded gradient
		for ci, c := range p.classes {
			if c.band == nil {
				continue
			}
			banded++
			for r, row := range c.rows {
				for s, tap := range c.taps {
					if outside(c.band, r, s) && p.dyp[row+tap] != 0 {
						t.Fatalf("%+v class %d: pixel %d, tap %d outside the band reads %g", g, ci, r, s, p.dyp[row+tap])
					}
				}
			}
		}
		y1, y2 := make([]float32, g.OutSize()), make([]float32, g.OutSize())
		p.Forward(nil, y1, x, w, b)
		q.Forward(nil, y2, x, w, b)
		dx1, dx2 := make([]float32, g.InSize()), make([]float32, g.InSize())
		p.BackwardData(nil, dx1, dy, w)
		q.BackwardData(nil, dx2, dy, w)
		dw1, dw2 := make([]float32, g.FilterSize()), make([]float32, g.FilterSize())
		p.BackwardFilter(nil, dw1, nil, x, dy)
		q.BackwardFilter(nil, dw2, nil, x, dy)
		for name, pair := range map[string][2][]float32{"Forward": {y1, y2}, "BackwardData": {dx1, dx2}, "BackwardFilter": {dw1, dw2}} {
			for i := range pair[0] {
				if pair[0][i] != pair[1][i] {
					t.Fatalf("%+v %s: element %d is %g with the bands, %g without", g, name, i, pair[0][i], pair[1][i])
				}
			}
		}
	}
	if bands && (banded == 0 || sorted == 0) {
		t.Fatalf("%d bands, %d sorted products among the geometries", banded, sorted)
	}
}

// outside reports whether band says A[r, t] is zero.
func outside(b *gemm.Band, r, t int) bool {
	if k := b.Key[t]; k < b.Lo[r] || k >= b.Hi[r] {
		return true
	}
	return b.Key2 != nil && (b.Key2[t] < b.Lo2[r] || b.Key2[t] >= b.Hi2[r])
}

// TestValidate refuses geometries without an output pixel or beyond 32-bit
// offsets.
func TestValidate(t *testing.T) {
	bad := []Geom{
		{N: 1, Ci: 1, H: 3, W: 3, Co: 1, K: 5, Stride: 1},
		{N: 1, Ci: 1, H: 8, W: 8, Co: 1, K: 3, Stride: 0},
		{N: 1, Ci: 1, H: 8, W: 8, Co: 1, K: 3, Stride: 1, Pad: -1},
		{N: 0, Ci: 1, H: 8, W: 8, Co: 1, K: 3, Stride: 1},
		{N: 1 << 12, Ci: 512, H: 64, W: 64, Co: 1, K: 3, Stride: 1, Pad: 1},
	}
	for _, g := range bad {
		if _, err := NewPlan(g); err == nil {
			t.Errorf("%+v: no error", g)
		}
	}
}

// TestLoadGrad: products of a gradient loaded image by image have the bits
// of the same gradient passed whole, on one thread and on three; without
// LoadGrad since the last Forward, a nil gradient panics.
func TestLoadGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	pool := par.NewPool(3)
	defer pool.Close()
	for _, g := range geoms {
		p, err := NewPlan(g)
		if err != nil {
			t.Fatal(err)
		}
		x, w, b, dy := randSlice(rng, g.InSize()), randSlice(rng, g.FilterSize()), randSlice(rng, g.Co), randSlice(rng, g.OutSize())
		y := make([]float32, g.OutSize())
		for _, pl := range []*par.Pool{nil, pool} {
			p.Forward(pl, y, x, w, b)
			wantDx, wantDw := make([]float32, g.InSize()), make([]float32, g.FilterSize())
			p.BackwardData(pl, wantDx, dy, w)
			p.BackwardFilter(pl, wantDw, nil, x, dy)

			p.Forward(pl, y, x, w, b)
			img := g.Co * g.P()
			p.LoadGrad(pl, func(n int, dz []float32) { copy(dz, dy[n*img:(n+1)*img]) })
			dx, dw := randSlice(rng, g.InSize()), randSlice(rng, g.FilterSize())
			p.BackwardFilter(pl, dw, nil, x, nil)
			p.BackwardData(pl, dx, nil, w)
			if err := within(dx, wantDx, 0, 0); err != nil {
				t.Errorf("%+v BackwardData of a loaded gradient: %v", g, err)
			}
			if err := within(dw, wantDw, 0, 0); err != nil {
				t.Errorf("%+v BackwardFilter of a loaded gradient: %v", g, err)
			}
		}
		p.Forward(nil, y, x, w, b)
		for name, f := range map[string]func(){
			"BackwardData":   func() { p.BackwardData(nil, make([]float32, g.InSize()), nil, w) },
			"BackwardFilter": func() { p.BackwardFilter(nil, make([]float32, g.FilterSize()), nil, x, nil) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%+v %s of no gradient after Forward did not panic", g, name)
					}
				}()
				f()
			}()
		}
	}
}

// TestLoadGradThenExplicit: a backward call with its own output gradient
// replaces the copies LoadGrad made (BackwardData its padded one,
// BackwardFilter its pixel-major one), so afterwards a nil gradient must
// not read a mixture of the two: it panics, as without LoadGrad.
func TestLoadGradThenExplicit(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	g := Geom{N: 2, Ci: 3, H: 7, W: 7, Co: 4, K: 5, Stride: 1, Pad: 2}
	x, w, dy1, dy2 := randSlice(rng, g.InSize()), randSlice(rng, g.FilterSize()), randSlice(rng, g.OutSize()), randSlice(rng, g.OutSize())
	for _, op := range []string{"BackwardData", "BackwardFilter"} {
		p, err := NewPlan(g)
		if err != nil {
			t.Fatal(err)
		}
		p.Forward(nil, make([]float32, g.OutSize()), x, w, nil)
		img := g.Co * g.P()
		p.LoadGrad(nil, func(n int, dz []float32) { copy(dz, dy1[n*img:(n+1)*img]) })
		if op == "BackwardData" {
			p.BackwardData(nil, make([]float32, g.InSize()), dy2, w)
		} else {
			p.BackwardFilter(nil, make([]float32, g.FilterSize()), nil, x, dy2)
		}
		func() {
			defer func() { recover() }()
			dx, dw := make([]float32, g.InSize()), make([]float32, g.FilterSize())
			p.BackwardData(nil, dx, nil, w)
			p.BackwardFilter(nil, dw, nil, x, nil)
			wantDx, wantDw := make([]float32, g.InSize()), make([]float32, g.FilterSize())
			RefDataTo(g, wantDx, dy1, w)
			RefFilterTo(g, wantDw, nil, x, dy1)
			t.Errorf("after LoadGrad then %s with its own gradient, nil gradients did not panic (dx from LoadGrad's gradient: %v; dw: %v)",
				op, within(dx, wantDx, 1e-4, 1e-4), within(dw, wantDw, 1e-4, 1e-4))
		}()
	}
}

// TestInputGradientTapsAscend: within each output channel, the input
// gradient's taps read the padded gradient going up in memory (the
// kernels broadcast A's values straight from it, and in the other order
// the same products ran 10–14 % slower: see buildClasses).
func TestInputGradientTapsAscend(t *testing.T) {
	for _, g := range geoms {
		p, err := NewPlan(g)
		if err != nil {
			t.Fatal(err)
		}
		for ci, c := range p.classes {
			per := len(c.taps) / g.Co // taps per output channel
			for o := 0; o < g.Co; o++ {
				if ch := c.taps[o*per : (o+1)*per]; !slices.IsSorted(ch) {
					t.Errorf("%+v class %d channel %d: taps %v not ascending", g, ci, o, ch)
				}
			}
		}
	}
}
