package sphere

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestProjectKnownPoints(t *testing.T) {
	ortho := Projection{Rot: Identity(), CX: 400, CY: 300, Radius: 200}
	persp := Projection{Rot: Identity(), CX: 400, CY: 300, Radius: 200, Zoom: 1.5, Eye: 4}
	k := math.Sqrt(15) / 4 // √(E²−1)/E at E = 4
	for _, tc := range []struct {
		name string
		p    Projection
		v    Vec3
		want ScreenPoint
		tol  float64
	}{
		// The front point faces the viewer at the centre.
		{"ortho front", ortho, Vec3{0, 0, 1}, ScreenPoint{400, 300, 1, true}, 1e-12},
		{"ortho back", ortho, Vec3{0, 0, -1}, ScreenPoint{400, 300, -1, false}, 1e-12},
		{"ortho right", ortho, Vec3{1, 0, 0}, ScreenPoint{600, 300, 0, false}, 1e-12},
		{"ortho up", ortho, Vec3{0, 1, 0}, ScreenPoint{400, 100, 0, false}, 1e-12},
		{"persp front", persp, Vec3{0, 0, 1}, ScreenPoint{400, 300, 1, true}, 1e-12},
		// On the equator f = k·E/E = k; the outline is 300 px.
		{"persp right", persp, Vec3{1, 0, 0}, ScreenPoint{400 + 300*k, 300, 0, false}, 1e-9},
		// Halfway up the front: f = k·E/(E − z) at z = √½.
		{"persp near top", persp, Normalize(Vec3{0, 1, 1}), ScreenPoint{400 - 0, 300 - 300*k*4/(4-math.Sqrt(0.5))*math.Sqrt(0.5), math.Sqrt(0.5), true}, 1e-9},
		// Yaw by 90° turns the world x axis to face the viewer.
		{"yawed x", Projection{Rot: RotY(-math.Pi / 2), CX: 10, CY: 20, Radius: 5}, Vec3{1, 0, 0}, ScreenPoint{10, 20, 1, true}, 1e-12},
	} {
		got := tc.p.Project(tc.v)
		if math.Abs(got.X-tc.want.X) > tc.tol || math.Abs(got.Y-tc.want.Y) > tc.tol ||
			math.Abs(got.Z-tc.want.Z) > tc.tol || got.Front != tc.want.Front {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestPerspectiveOutline(t *testing.T) {
	// The tangent points of the eye's cone (z = 1/E) land on the circle of
	// radius Radius·Zoom, and no point of the sphere lands outside it.
	p := Projection{Rot: YawPitch(0.4, 0.3), CX: 0, CY: 0, Radius: 100, Zoom: 2, Eye: 3}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		v := Normalize(Vec3{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()})
		s := p.Project(v)
		if r := math.Hypot(s.X, s.Y); r > 200+1e-9 {
			t.Fatalf("%v projects to radius %g > outline 200", v, r)
		}
	}
	e := 3.0
	q := Vec3{math.Sqrt(1 - 1/(e*e)), 0, 1 / e} // view space tangent point
	s := p.Project(Apply(Transpose(p.Rot), q))
	if r := math.Hypot(s.X, s.Y); math.Abs(r-200) > 1e-9 {
		t.Errorf("tangent point at radius %g, want 200", r)
	}
}

func TestProjectToMatchesProject(t *testing.T) {
	p := Projection{Rot: YawPitch(1, -0.5), CX: 320, CY: 240, Radius: 180, Zoom: 1.3, Eye: 5}
	pts := randomSphere(500, 3)
	got := p.ProjectTo(nil, pts)
	for i, v := range pts {
		// The same formula with the constants hoisted: rounding differs.
		want := p.Project(v)
		if math.Abs(got[i].X-want.X) > 1e-9 || math.Abs(got[i].Y-want.Y) > 1e-9 || got[i].Z != want.Z || got[i].Front != want.Front {
			t.Fatalf("point %d: ProjectTo %+v, Project %+v", i, got[i], want)
		}
	}
}

func TestBackToFront(t *testing.T) {
	pts := []ScreenPoint{{Z: 0.5, Front: true}, {Z: -0.9}, {Z: 0.1, Front: true}, {Z: -0.9}, {Z: 1, Front: true}}
	got := BackToFrontTo(nil, pts)
	want := []int{1, 3, 2, 0, 4} // ascending Z, the tie by index
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestDepthOrderMatchesSort(t *testing.T) {
	// Turning a little each frame, turning a lot, new data of the same size
	// and of another size: DepthOrder gives BackToFrontTo's order each time.
	pts := randomSphere(1500, 21)
	p := Projection{Rot: YawPitch(0.2, 0.1), CX: 0, CY: 0, Radius: 100, Eye: 4}
	var o DepthOrder
	for frame, turn := range []float64{0, 0.003, 0.003, 0.01, 2.5, 0.003, -1, 0} {
		p.Rot = Mul(RotY(turn), p.Rot)
		switch frame {
		case 5:
			pts = randomSphere(1500, 22)
		case 6:
			pts = randomSphere(700, 23)
		}
		sp := p.ProjectTo(nil, pts)
		got, want := o.Update(sp), BackToFrontTo(nil, sp)
		if len(got) != len(want) {
			t.Fatalf("frame %d: %d indices, want %d", frame, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("frame %d: order differs at %d", frame, i)
			}
		}
	}
}

func TestDepthCue(t *testing.T) {
	for _, tc := range []struct {
		z, size, alpha float64
	}{
		{1, 1, 1},          // nearest: full size and opacity
		{-1, 0.55, 0.15},   // farthest
		{0, 0.775, 0.3625}, // t = 1/2: 0.55+0.225, 0.15+0.85/4
		{-7, 0.55, 0.15},   // clamped
	} {
		s, a := DepthCue(tc.z)
		if math.Abs(s-tc.size) > 1e-12 || math.Abs(a-tc.alpha) > 1e-12 {
			t.Errorf("DepthCue(%g) = %g, %g; want %g, %g", tc.z, s, a, tc.size, tc.alpha)
		}
	}
}

// randomSphere returns n deterministic points uniform on the unit sphere.
func randomSphere(n int, seed uint64) []Vec3 {
	rng := rand.New(rand.NewPCG(seed, 7))
	pts := make([]Vec3, n)
	for i := range pts {
		pts[i] = Normalize(Vec3{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()})
	}
	return pts
}

// BenchmarkProjectPoints projects 2,000 points and orders them back to
// front, turning the view as the auto-rotation does: the geometry of one
// frame of the viewer's draw path.
func BenchmarkProjectPoints(b *testing.B) {
	p := Projection{Rot: YawPitch(0.6, 0.35), CX: 400, CY: 300, Radius: 260, Zoom: 1, Eye: 4}
	pts := randomSphere(2000, 11)
	var sp []ScreenPoint
	var order DepthOrder
	b.ReportAllocs()
	for b.Loop() {
		p.Rot = Mul(RotY(0.004), p.Rot) // auto-rotation: a new view each frame
		sp = p.ProjectTo(sp, pts)
		order.Update(sp)
	}
}

// BenchmarkBackToFront is the fresh sort that DepthOrder avoids.
func BenchmarkBackToFront(b *testing.B) {
	p := Projection{Rot: YawPitch(0.6, 0.35), CX: 400, CY: 300, Radius: 260, Zoom: 1, Eye: 4}
	sp := p.ProjectTo(nil, randomSphere(2000, 11))
	var order []int
	for b.Loop() {
		order = BackToFrontTo(order, sp)
	}
}
