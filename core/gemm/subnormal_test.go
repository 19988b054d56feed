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
