package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"metriclab/core/par"
)

// problem is one product with random operands. A is read through shuffled
// offsets, so a kernel that confused rows, steps or strides would fail.
type problem struct {
	m, n, k  int
	ldb, ldc int
	a        A
	b        B
	c0       []float32 // C before the product (acc)
}

func newProblem(rng *rand.Rand, m, n, k int) problem {
	p := problem{m: m, n: n, k: k, ldb: n + rng.IntN(3), ldc: n + rng.IntN(3)}
	// A lives in an m×k grid scattered over a larger array: Row and Off are
	// random permutations of distinct slots, scaled so that they never collide.
	p.a.Off = make([]int32, k)
	for t, v := range rng.Perm(k) {
		p.a.Off[t] = int32(v)
	}
	p.a.Row = make([]int32, m)
	for r, v := range rng.Perm(m) {
		p.a.Row[r] = int32(v * k)
	}
	p.a.Data = randSlice(rng, m*k+1)
	p.b = B{Data: randSlice(rng, max(0, (k-1)*p.ldb+n)), Ld: p.ldb}
	p.c0 = randSlice(rng, max(0, (m-1)*p.ldc+n))
	return p
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// run returns C after Mul on kernel set ks with pool.
func (p problem) run(ks *kernelSet, pool *par.Pool, acc bool) []float32 {
	c := append([]float32(nil), p.c0...)
	mulWith(ks, pool, acc, p.m, p.n, p.k, p.a, p.b, C{Data: c, Ld: p.ldc})
	return c
}

// TestMulMatchesRef compares every kernel set this CPU runs with the
// float64 reference on shapes around every tile and block edge: rows around
// MR = 4, 6, 8 and the thread block of 24, columns around NR = 4, 8, 16,
// 24, 32, 48, 64, and reductions around KC. Tolerance: float32 sums of k
// terms of size ~1 with |C| ~ √k drift by about k·2⁻²⁴·√k.
func TestMulMatchesRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ms := []int{1, 3, 4, 5, 7, 8, 9, 23, 25, 50}
	ns := []int{1, 3, 4, 5, 8, 15, 17, 24, 31, 33, 47, 49, 64, 65, 100, 130}
	ks := []int{0, 1, 2, 7, 25, KC - 1, KC + 1, 2*KC + 3}
	for _, set := range runnable() {
		for _, m := range ms {
			for _, n := range ns {
				for _, k := range ks {
					if m*n*k > 400000 {
						continue
					}
					p := newProblem(rng, m, n, k)
					for _, acc := range []bool{false, true} {
						want := append([]float32(nil), p.c0...)
						Ref(acc, m, n, k, p.a, p.b, C{Data: want, Ld: p.ldc})
						got := p.run(set, nil, acc)
						tol := 1e-6 * float64(k+1) * math.Sqrt(float64(k+1))
						if err := compare(got, want, p.m, p.n, p.ldc, tol); err != nil {
							t.Fatalf("%s m=%d n=%d k=%d acc=%v: %v", set.name, m, n, k, acc, err)
						}
					}
				}
			}
		}
	}
}

// compare checks the m×n elements of C and that the padding between rows
// was not written.
func compare(got, want []float32, m, n, ld int, tol float64) error {
	for i := range got {
		r, j := i/ld, i%ld
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if j >= n && got[i] != want[i] {
			return fmt.Errorf("wrote padding at row %d column %d", r, j)
		}
		if d > tol*(1+math.Abs(float64(want[i]))) {
			return fmt.Errorf("C[%d,%d] = %g, want %g (diff %g > tol %g)", r, j, got[i], want[i], d, tol)
		}
	}
	return nil
}

// TestMulThreadsBitIdentical: the result does not depend on the number of
// threads, bit for bit.
func TestMulThreadsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pools := []*par.Pool{nil, par.NewPool(2), par.NewPool(3), par.NewPool(7)}
	defer func() {
		for _, p := range pools {
			p.Close()
		}
	}()
	for _, set := range runnable() {
		for _, sh := range [][3]int{{200, 64, 300}, {97, 33, 600}, {500, 16, 25}} {
			p := newProblem(rng, sh[0], sh[1], sh[2])
			want := p.run(set, nil, true)
			for _, pool := range pools[1:] {
				got := p.run(set, pool, true)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s %v with %d threads: C[%d] = %g, one thread %g", set.name, sh, pool.Threads(), i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestMulPanicsOnShortOperands: offsets outside A, and B or C too short for
// their strides, are programmer errors.
func TestMulPanicsOnShortOperands(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cases := map[string]func(p *problem){
		"A offset past the end": func(p *problem) { p.a.Off[1] = int32(len(p.a.Data)) },
		"negative A offset":     func(p *problem) { p.a.Row[0] = -1 },
		"B too short":           func(p *problem) { p.b.Data = p.b.Data[:len(p.b.Data)-1] },
		"C too short":           func(p *problem) { p.c0 = p.c0[:len(p.c0)-1] },
		"B stride below n":      func(p *problem) { p.b.Ld = p.n - 1 },
	}
	for name, spoil := range cases {
		p := newProblem(rng, 5, 7, 9)
		spoil(&p)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			p.run(kernels, nil, false)
		}()
	}
}

// TestMulBandStrideLimit: a band's kept steps name their B rows by 32-bit
// offsets within a block, so a banded product refuses B rows further
// apart than that (checked before B's length: no 8 M-value B is needed).
func TestMulBandStrideLimit(t *testing.T) {
	p := newProblem(rand.New(rand.NewPCG(5, 7)), 5, 7, 9)
	p.a.Band = &Band{Key: make([]int32, p.k), Lo: make([]int32, p.m), Hi: make([]int32, p.m)}
	p.b.Ld = math.MaxInt32/KC + 1
	defer func() {
		if r := fmt.Sprint(recover()); !strings.Contains(r, "too far for a band") {
			t.Errorf("a banded product with B rows %d apart: panic %q, want the band's limit", p.b.Ld, r)
		}
	}()
	p.run(kernels, nil, false)
}

// TestMulBandSameBits: with A zero outside a band, of one key or two, Mul
// that skips the band's zeros gives the bits of Mul without it, on every
// kernel set, on one thread and on three, around the tile and block
// edges; rows whose range is empty, or that cover every key, are among
// them.
func TestMulBandSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	pool := par.NewPool(3)
	defer pool.Close()
	const keys = 6
	for _, set := range runnable() {
		for i, sh := range [][3]int{{1, 5, 9}, {7, 17, 30}, {25, 64, KC + 7}, {50, 130, 2*KC + 3}, {97, 33, 600}, {48, 48, 3 * KC}, {30, 64, 500}, {64, 20, 300}} {
			m, n, k := sh[0], sh[1], sh[2]
			two := i%2 == 1
			p := newProblem(rng, m, n, k)
			band := &Band{Key: make([]int32, k), Lo: make([]int32, m), Hi: make([]int32, m)}
			if two {
				band.Key2, band.Lo2, band.Hi2 = make([]int32, k), make([]int32, m), make([]int32, m)
			}
			for t := range band.Key {
				band.Key[t] = int32(t * keys / k) // runs of keys, as a convolution's kernel rows
				if rng.IntN(4) == 0 {
					band.Key[t] = int32(rng.IntN(keys))
				}
				if two {
					band.Key2[t] = int32(t % keys) // as its columns
				}
			}
			span := func() (int32, int32) {
				lo := rng.IntN(keys + 1)
				return int32(lo), int32(lo + rng.IntN(keys+1-lo))
			}
			for r := range band.Lo {
				band.Lo[r], band.Hi[r] = span()
				if r%5 == 0 {
					band.Lo[r], band.Hi[r] = 0, keys
				}
				if two {
					band.Lo2[r], band.Hi2[r] = span()
					if r%3 == 0 || r/4%2 == 1 { // full, and runs of equal rows, as a convolution's
						band.Lo2[r], band.Hi2[r] = 0, keys
					}
				}
				for t, key := range band.Key {
					if key < band.Lo[r] || key >= band.Hi[r] || two && (band.Key2[t] < band.Lo2[r] || band.Key2[t] >= band.Hi2[r]) {
						p.a.Data[p.a.Off[t]+p.a.Row[r]] = 0
					}
				}
			}
			for _, acc := range []bool{false, true} {
				want := p.run(set, nil, acc)
				banded := p
				banded.a.Band = band
				for _, pl := range []*par.Pool{nil, pool} {
					got := banded.run(set, pl, acc)
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("%s %v acc=%v: C[%d] = %g with the band, %g without", set.name, sh, acc, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestMulBandCallsIndependent: a product's band does not outlive it: a
// narrow band, then a full one on a dense A, gives the dense product.
func TestMulBandCallsIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const m, n, k = 40, 64, 300
	narrow := &Band{Key: make([]int32, k), Lo: make([]int32, m), Hi: make([]int32, m)}
	full := &Band{Key: make([]int32, k), Lo: make([]int32, m), Hi: make([]int32, m)}
	for t := range narrow.Key {
		narrow.Key[t], full.Key[t] = int32(t%3), int32(t%3)
	}
	for r := range narrow.Lo {
		narrow.Lo[r], narrow.Hi[r] = 0, 1
		full.Lo[r], full.Hi[r] = 0, 3
	}
	for _, set := range runnable() {
		p, q := newProblem(rng, m, n, k), newProblem(rng, m, n, k)
		want := q.run(set, nil, false)
		p.a.Band, q.a.Band = narrow, full
		p.run(set, nil, false)
		got := q.run(set, nil, false)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: C[%d] = %g after a narrow band's product, %g alone", set.name, i, got[i], want[i])
			}
		}
	}
}

// TestMulPartTileAllocs: a product whose columns end in a part tile (10
// columns: 8 and a part of 2 on AVX2's unmasked 8-wide tiles) allocates
// nothing once warm, on every kernel set this CPU runs (the padded copies
// of B and C come from a pool). Before, a kernel that cannot mask
// allocated both at every call: the lenet-s step's heads allocated on a
// CPU without AVX-512. The pool's buffers fit every unmasked family.
func TestMulPartTileAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, ks := range runnable() {
		for _, f := range ks.fams {
			if f.tiles != nil && !f.masked && f.nr > maxNR {
				t.Errorf("%s: a tile of %d columns cannot mask, wider than scratch's %d", ks.name, f.nr, maxNR)
			}
		}
		p := newProblem(rng, 30, 10, KC+40)
		c := append([]float32(nil), p.c0...)
		mul := func() { mulWith(ks, nil, false, p.m, p.n, p.k, p.a, p.b, C{Data: c, Ld: p.ldc}) }
		mul()
		if a := testing.AllocsPerRun(20, mul); a != 0 {
			t.Errorf("%s: %v allocations per product of 30×10×%d", ks.name, a, p.k)
		}
	}
}
