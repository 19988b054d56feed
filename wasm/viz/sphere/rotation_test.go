package sphere

import (
	"math"
	"testing"
)

// isRotation reports the largest deviation of m from a proper rotation:
// max |mᵀm − I| and |det m − 1|.
func rotationError(m Mat3) float64 {
	p := Mul(Transpose(m), m)
	var worst float64
	for i := range 3 {
		for j := range 3 {
			want := 0.0
			if i == j {
				want = 1
			}
			worst = math.Max(worst, math.Abs(p[i][j]-want))
		}
	}
	det := Dot(Vec3(m[0]), Cross(Vec3(m[1]), Vec3(m[2])))
	return math.Max(worst, math.Abs(det-1))
}

func TestRotationsAreOrthonormal(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Mat3
		tol  float64
	}{
		{"identity", Identity(), 0},
		{"RotX(0.7)", RotX(0.7), 1e-15},
		{"RotY(-2.1)", RotY(-2.1), 1e-15},
		{"YawPitch(1.2, -0.4)", YawPitch(1.2, -0.4), 1e-15},
		{"YawPitch(5, 3)", YawPitch(5, 3), 1e-15},
		{"Drag(YawPitch(0.3,0.2), 40, -25, 200)", Drag(YawPitch(0.3, 0.2), 40, -25, 200), 1e-15},
	} {
		if e := rotationError(tc.m); e > tc.tol {
			t.Errorf("%s: deviation from a rotation %g > %g", tc.name, e, tc.tol)
		}
	}
}

func TestRotationsMoveKnownPoints(t *testing.T) {
	front := Vec3{0, 0, 1}
	for _, tc := range []struct {
		name string
		m    Mat3
		v    Vec3
		want Vec3
		tol  float64
	}{
		// Closed forms at 90°: the front point turns to the right edge (yaw)
		// and to the bottom edge (pitch), as the doc comments say.
		{"RotY(π/2) front", RotY(math.Pi / 2), front, Vec3{1, 0, 0}, 1e-15},
		{"RotX(π/2) front", RotX(math.Pi / 2), front, Vec3{0, -1, 0}, 1e-15},
		// Yaw first, then pitch: the world x axis goes to the front by yaw −π/2
		// and then pitch π/2 takes it to the bottom.
		{"YawPitch(-π/2, π/2) x", YawPitch(-math.Pi/2, math.Pi/2), Vec3{1, 0, 0}, Vec3{0, -1, 0}, 1e-15},
		// A drag of one radius to the right turns by one radian.
		{"Drag right by radius", Drag(Identity(), 100, 0, 100), front, Vec3{math.Sin(1), 0, math.Cos(1)}, 1e-15},
		{"Drag down by radius", Drag(Identity(), 0, 50, 50), front, Vec3{0, -math.Sin(1), math.Cos(1)}, 1e-15},
	} {
		got := Apply(tc.m, tc.v)
		for i := range 3 {
			if math.Abs(got[i]-tc.want[i]) > tc.tol {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
}

func TestDragsStayRotations(t *testing.T) {
	// A thousand small drags pile up rounding errors without Orthonormalize.
	m := Identity()
	for i := range 1000 {
		m = Drag(m, 3*math.Sin(float64(i)), 2*math.Cos(float64(i)*0.7), 150)
	}
	if e := rotationError(m); e > 1e-14 {
		t.Errorf("after 1000 drags the deviation from a rotation is %g", e)
	}
	// Composition: Mul(a, b) applies b first.
	a, b := RotX(0.3), RotY(0.9)
	v := Vec3{0.2, -0.5, 0.8}
	got, want := Apply(Mul(a, b), v), Apply(a, Apply(b, v))
	for i := range 3 {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Fatalf("Mul(a,b)·v = %v, a·(b·v) = %v", got, want)
		}
	}
}

func TestOrthonormalizePanicsOnDegenerate(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for parallel rows")
		}
	}()
	Orthonormalize(Mat3{{1, 0, 0}, {2, 0, 0}, {0, 0, 1}})
}
