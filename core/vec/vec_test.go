package vec

import (
	"math"
	"testing"
)

func TestNormAndUnit(t *testing.T) {
	// A 3-4-5 triangle: ‖(3, 4)‖ = 5, unit (0.6, 0.8), exactly in float64.
	a := []float32{3, 4}
	if got := Norm(a); got != 5 {
		t.Errorf("Norm(3, 4) = %v, want 5", got)
	}
	u := UnitTo([]float64(nil), a)
	if u[0] != 0.6 || u[1] != 0.8 {
		t.Errorf("UnitTo(3, 4) = %v, want [0.6 0.8]", u)
	}
	// float64 in, float32 out, into a longer dst that is reused.
	dst := make([]float32, 2, 8)
	if got := UnitTo(dst, []float64{0, -2}); &got[0] != &dst[0] || got[0] != 0 || got[1] != -1 {
		t.Errorf("UnitTo(0, -2) = %v (reused %v), want [0 -1] in dst", got, &got[0] == &dst[0])
	}
	if got := UnitTo([]float32(nil), []float32{0, 0}); got[0] != 0 || got[1] != 0 {
		t.Errorf("UnitTo(0, 0) = %v, want zeros", got)
	}
	b := []float32{3, 4}
	Normalise(b)
	if math.Abs(float64(b[0])-0.6) > 1e-7 || math.Abs(float64(b[1])-0.8) > 1e-7 {
		t.Errorf("Normalise(3, 4) = %v", b)
	}
	z := []float64{0, 0, 0}
	Normalise(z)
	if z[0] != 0 {
		t.Errorf("Normalise(0) = %v", z)
	}
	half := make([]float32, 2)
	ScaleTo(half, []float32{3, 4}, 0.5)
	if half[0] != 0.3 || half[1] != 0.4 {
		t.Errorf("ScaleTo((3, 4), 0.5) = %v, want [0.3 0.4]", half)
	}
	ScaleTo(half, []float32{0, 0}, 0.5)
	if half[0] != 0 || half[1] != 0 {
		t.Errorf("ScaleTo((0, 0), 0.5) = %v, want zeros", half)
	}
	// float32 sums of 1e4 values of 1e-4: the float64 sum keeps them.
	many := make([]float32, 1e4)
	for i := range many {
		many[i] = 1e-2
	}
	if got := Norm(many); math.Abs(got-1) > 1e-6 {
		t.Errorf("Norm of 1e4 values 0.01 = %v, want 1", got)
	}
}

func TestCosine(t *testing.T) {
	for _, tc := range []struct {
		a, b []float64
		want float64 // closed form
	}{
		{[]float64{1, 0}, []float64{0, 3}, 0},                         // 90°
		{[]float64{1, 0}, []float64{-2, 0}, -1},                       // 180°
		{[]float64{1, 1}, []float64{1, 0}, math.Sqrt(0.5)},            // 45°
		{[]float64{1, 0}, []float64{0.5, math.Sqrt(3) / 2}, 0.5},      // 60°
		{[]float64{0, 0}, []float64{1, 2}, 0},                         // a zero vector
		{[]float64{2, 4, 4}, []float64{2, 4, 4}, 1},                   // itself
		{[]float64{1e-200, 0}, []float64{1e-200, 1e-200}, math.NaN()}, // underflow: see below
	} {
		got := Cosine(tc.a, tc.b)
		if math.IsNaN(tc.want) {
			// aa·bb underflows to 0 in float64: reported as 0, not NaN.
			if got != 0 {
				t.Errorf("Cosine(%v, %v) = %v, want 0 on underflow", tc.a, tc.b, got)
			}
			continue
		}
		if math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Cosine(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Cosine of vectors of different lengths did not panic")
		}
	}()
	Cosine([]float32{1}, []float32{1, 2})
}

// TestAllFinite: NaN and both infinities anywhere are found, in float32 and
// float64; the largest finite values and an empty vector pass.
func TestAllFinite(t *testing.T) {
	if !AllFinite([]float32{0, -1, math.MaxFloat32, -math.MaxFloat32}) || !AllFinite([]float64(nil)) {
		t.Error("finite vectors reported not finite")
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if AllFinite([]float32{1, float32(bad)}) || AllFinite([]float64{bad, 1}) {
			t.Errorf("%v not found", bad)
		}
	}
}

// TestBetween: the threshold between two scores lies above the lower and
// at most the higher, the midpoint where there is one; for adjacent
// floats, whose midpoint rounds to the lower, it is the higher.
func TestBetween(t *testing.T) {
	lo := 0.7071067811865475
	for _, tc := range []struct{ lo, hi, want float64 }{
		{0, 1, 0.5},
		{-1, 1, 0},
		{lo, math.Nextafter(lo, 2), math.Nextafter(lo, 2)},
		{-lo, math.Nextafter(-lo, 2), math.Nextafter(-lo, 2)},
		{1, math.Nextafter(1, 2), math.Nextafter(1, 2)},
	} {
		got := Between(tc.lo, tc.hi)
		if got != tc.want || !(got > tc.lo && got <= tc.hi) {
			t.Errorf("Between(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
}
