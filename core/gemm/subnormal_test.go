package gemm

import (
	"math"
	"testing"
)

// fill returns n copies of v.
func fill(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// TestKernelsFlushSubnormals: every assembly tile flushes to zero the sums
// and products that fall below float32's smallest normal number, 2⁻¹²⁶,
// and reads operands there as zero (amd64: MXCSR's FZ and DAZ; arm64:
// FPCR's FZ; set in the kernel only): a product of 2⁻⁷⁰ and 2⁻⁷⁰, a
// subnormal A, B or C (acc) each gives an exact 0, where the float64
// reference gives a subnormal. Go's arithmetic after the call keeps
// subnormals (the kernel put the MXCSR or FPCR back as Go's ABI wants
// it). `make test-arm64` runs the NEON tiles under qemu-aarch64, which
// emulates FPCR.FZ.
func TestKernelsFlushSubnormals(t *testing.T) {
	const tiny = 0x1p-140 // subnormal, and KC of them too
	cases := []struct {
		name    string
		a, b, c float32
		acc     bool
	}{
		{"subnormal products", 0x1p-70, 0x1p-70, 0, false},
		{"subnormal A", tiny, 1, 0, false},
		{"subnormal B", 1, tiny, 0, false},
		{"subnormal C", 0x1p-70, 0x1p-70, tiny, true},
	}
	tiles := 0
	for _, set := range runnable() {
		for fi := range set.fams {
			f := &set.fams[fi]
			for mr := 1; mr <= len(f.tiles); mr++ {
				for _, kc := range []int{1, 7, KC} {
					for _, cs := range cases {
						a, b := fill(kc*mr, cs.a), fill(kc*f.nr, cs.b)
						row := Steps(nil, mr, kc)
						off := Steps(nil, kc, 1)
						c := fill(mr*f.nr, cs.c)
						want := append([]float32(nil), c...)
						Ref(cs.acc, mr, f.nr, kc, A{Data: a, Off: off, Row: row}, B{Data: b, Ld: f.nr}, C{Data: want, Ld: f.nr})
						if w := want[0]; w == 0 || math.Abs(float64(w)) >= 0x1p-126 {
							t.Fatalf("%s: the reference gives %g, want a subnormal number", cs.name, w)
						}
						f.tiles[mr-1](kc, &a[0], &off[0], &row[0], &b[0], f.nr, nil, &c[0], f.nr, colMasks(f.nr), cs.acc)
						for i, v := range c {
							if v != 0 {
								t.Fatalf("%s %d×%d kc=%d, %s: c[%d] = %g, want 0 (the reference: %g)", set.name, mr, f.nr, kc, cs.name, i, v, want[i])
							}
						}
						// c[0] is 0 and a[0]·b[0] is 2⁻¹⁴⁰ in every case: compared
						// bit for bit with the constant, as Go's own product, made
						// after the call too, would be flushed with it, and DAZ (FZ
						// on arm64) reads a subnormal operand of a float comparison
						// as 0.
						if x := c[0] + a[0]*b[0]; math.Float32bits(x) != math.Float32bits(tiny) {
							t.Fatalf("%s %d×%d, %s: after the call Go computes %g + %g·%g = %g, want 2⁻¹⁴⁰ (MXCSR left with FZ or DAZ, or FPCR with FZ)", set.name, mr, f.nr, cs.name, c[0], a[0], b[0], x)
						}
					}
					tiles++
				}
			}
		}
	}
	if tiles == 0 {
		t.Skip("no assembly kernels on this CPU")
	}
}

// TestGoKernelFlushesSubnormals: the pure-Go kernels (goTiles2x4's full
// 2×4 tiles and goTile's edges) store 0 for every element of C that falls
// below float32's smallest normal number, 2⁻¹²⁶, where the float64
// reference gives a subnormal, and keep the smallest normal number itself
// (products of 2⁻⁶³ and 2⁻⁶³). Shapes of 1 to 5 rows and 1 to 9 columns
// reach both kernels.
func TestGoKernelFlushesSubnormals(t *testing.T) {
	const tiny = 0x1p-140
	cases := []struct {
		name    string
		a, b, c float32
		acc     bool
		flushed bool // the reference's result is subnormal
	}{
		{"subnormal products", 0x1p-70, 0x1p-70, 0, false, true},
		{"subnormal A", tiny, 1, 0, false, true},
		{"subnormal B", 1, tiny, 0, false, true},
		{"subnormal C", 0x1p-70, 0x1p-70, tiny, true, true},
		{"smallest normal products", 0x1p-63, 0x1p-63, 0, false, false},
	}
	for _, m := range []int{1, 2, 3, 5} {
		for _, n := range []int{1, 3, 4, 5, 9} {
			for _, kc := range []int{1, 7, KC + 1} {
				for _, cs := range cases {
					a, b := fill(kc*m, cs.a), fill(kc*n, cs.b)
					row, off := Steps(nil, m, kc), Steps(nil, kc, 1)
					c := fill(m*n, cs.c)
					want := append([]float32(nil), c...)
					Ref(cs.acc, m, n, kc, A{Data: a, Off: off, Row: row}, B{Data: b, Ld: n}, C{Data: want, Ld: n})
					if w := math.Abs(float64(want[0])); w == 0 || (w < 0x1p-126) != cs.flushed {
						t.Fatalf("%s: the reference gives %g", cs.name, want[0])
					}
					mulWith(&goKernels, nil, cs.acc, m, n, kc, A{Data: a, Off: off, Row: row}, B{Data: b, Ld: n}, C{Data: c, Ld: n})
					for i, v := range c {
						w := want[i]
						if cs.flushed {
							w = 0
						}
						if v != w {
							t.Fatalf("go %d×%d kc=%d, %s: c[%d] = %g, want %g (the reference: %g)", m, n, kc, cs.name, i, v, w, want[i])
						}
					}
				}
			}
		}
	}
}
