package losses

import (
	"math"
	"testing"
)

// msRefArcFace is ArcFace's ψ written from the angle, independently of the
// package: ψ = cos(θ + m) while θ + m ≤ π (or, easy margin, θ < π/2),
// else cos θ − m·sin m (easy margin: cos θ), and
// dψ/dc = −sin(θ + m)·dθ/dc = sin(θ + m)/sin θ.
func msRefArcFace(m float64, easy bool) msRefHead {
	margin := func(c float64) bool {
		if easy {
			return c > 0
		}
		return math.Acos(c)+m <= math.Pi
	}
	return msRefHead{kind: msCosine,
		psi: func(c float64) float64 {
			if !margin(c) {
				if easy {
					return c
				}
				return c - m*math.Sin(m)
			}
			return math.Cos(math.Acos(c) + m)
		},
		dpsi: func(c float64) float64 {
			if !margin(c) {
				return 1
			}
			th := math.Acos(c)
			return math.Sin(th+m) / math.Sin(th)
		}}
}

func TestArcFaceTarget(t *testing.T) {
	deg := math.Pi / 180
	for _, tc := range []struct {
		name string
		af   ArcFace
		c    float64
		want float64
		tol  float64
	}{
		// cos(60° + 0.5 rad) = ½·cos ½ − (√3/2)·sin ½.
		{"θ=60°", ArcFace{M: 0.5}, 0.5, 0.5*math.Cos(0.5) - math.Sqrt(3)/2*math.Sin(0.5), 1e-15},
		// cos(90° + m) = −sin m.
		{"θ=90°", ArcFace{M: 0.5}, 0, -math.Sin(0.5), 1e-15},
		// θ = 0: cos m.
		{"θ=0", ArcFace{M: 0.3}, 1, math.Cos(0.3), 1e-15},
		// θ = 150° < π − 0.5 rad = 151.35°: still cos(θ + m).
		{"θ=150°", ArcFace{M: 0.5}, math.Cos(150 * deg), math.Cos(150*deg + 0.5), 1e-14},
		// θ = 170° > 151.35°: fallback cos θ − m·sin m.
		{"θ=170° fallback", ArcFace{M: 0.5}, math.Cos(170 * deg), math.Cos(170*deg) - 0.5*math.Sin(0.5), 1e-15},
		// θ = 180°: fallback, −1 − m·sin m.
		{"θ=180° fallback", ArcFace{M: 0.5}, -1, -1 - 0.5*math.Sin(0.5), 1e-15},
		// Easy margin: θ = 60° gets the margin, θ = 100° does not.
		{"easy θ=60°", ArcFace{M: 0.5, EasyMargin: true}, 0.5, math.Cos(math.Pi/3 + 0.5), 1e-15},
		{"easy θ=100°", ArcFace{M: 0.5, EasyMargin: true}, math.Cos(100 * deg), math.Cos(100 * deg), 0},
	} {
		if got := tc.af.Target(tc.c); math.Abs(got-tc.want) > tc.tol {
			t.Errorf("%s: ψ = %.16g, want %.16g", tc.name, got, tc.want)
		}
	}
	msCheckDeriv(t, "arcface m=0.5", ArcFace{M: 0.5}, []float64{-0.95, -0.8, -0.3, 0, 0.4, 0.9, 0.99})
	msCheckDeriv(t, "arcface easy m=0.5", ArcFace{M: 0.5, EasyMargin: true}, []float64{-0.5, 0.2, 0.9})
}

// TestArcFaceFallback checks the fallback region numerically: ψ is
// increasing in cos θ on all of [−1, 1], it switches exactly at
// cos θ = cos(π − m), and it is always below cos θ (a margin, not a bonus).
func TestArcFaceFallback(t *testing.T) {
	for _, m := range []float64{0.2, 0.5, 1, 1.5} {
		af := ArcFace{M: m}
		prev := math.Inf(-1)
		for i := 0; i <= 4000; i++ {
			c := -1 + float64(i)/2000
			psi := af.Target(c)
			if psi < prev {
				t.Fatalf("m=%g: ψ(%g) = %g < ψ before, %g: not monotonic", m, c, psi, prev)
			}
			if psi > c+1e-15 {
				t.Fatalf("m=%g: ψ(%g) = %g above cos θ", m, c, psi)
			}
			prev = psi
		}
		th := math.Cos(math.Pi - m)
		if got, want := af.Target(th-1e-9), th-1e-9-m*math.Sin(m); math.Abs(got-want) > 1e-12 {
			t.Errorf("m=%g: just below cos(π−m), ψ = %g, want fallback %g", m, got, want)
		}
		if got := af.Target(th + 1e-9); math.Abs(got+1) > 1e-4 {
			t.Errorf("m=%g: just above cos(π−m), ψ = %g, want cos(π) ≈ −1", m, got)
		}
	}
}

func TestArcFaceHandCases(t *testing.T) {
	deg := math.Pi / 180
	cfg := Config{Name: "arcface", Dim: 2, Values: map[string]float64{"s": 10, "m": 0.5}}
	msCheckHandCases(t, cfg, 0, []msHandCase{
		// z_0 = 10·cos(60° + 0.5), z_1 = 10·cos 30° = 5√3.
		{"θ_y=60°", 60, 0, msSoftplus(5*math.Sqrt(3) - 10*math.Cos(math.Pi/3+0.5)), 1e-9},
		// z_0 = 10·cos(90° + 0.5) = −10·sin 0.5, z_1 = 10.
		{"θ_y=90°", 90, 0, msSoftplus(10 + 10*math.Sin(0.5)), 1e-9},
		// The norm of f does not matter: same at ‖f‖ = 3.
		{"θ_y=90° ‖f‖=3", 90, 3, msSoftplus(10 + 10*math.Sin(0.5)), 1e-9},
		// Fallback: z_0 = 10·(cos 170° − 0.5·sin 0.5), θ_1 = 80°.
		{"θ_y=170° fallback", 170, 0, msSoftplus(10*math.Cos(80*deg) - 10*(math.Cos(170*deg)-0.5*math.Sin(0.5))), 1e-9},
	})
	easy := Config{Name: "arcface", Dim: 2, Values: map[string]float64{"s": 10, "m": 0.5, "easy_margin": 1}}
	msCheckHandCases(t, easy, 0, []msHandCase{
		// cos θ_y > 0: margin, as above.
		{"easy θ_y=60°", 60, 0, msSoftplus(5*math.Sqrt(3) - 10*math.Cos(math.Pi/3+0.5)), 1e-9},
		// cos θ_y < 0: no margin, z_0 = 10·cos 100°, θ_1 = 10°.
		{"easy θ_y=100°", 100, 0, msSoftplus(10*math.Cos(10*deg) - 10*math.Cos(100*deg)), 1e-9},
	})
}

func TestArcFaceGradients(t *testing.T) {
	for _, easy := range []float64{0, 1} {
		f, w, _, y := msTestBatch(1, 6, 3, 4)
		// Row 0 (class 0) points away from its class weight: cos θ_y ≈ −1,
		// in the fallback region; row 4 (class 0) sits near it.
		f[0] = []float64{-w[0][0] + 0.05, -w[0][1], -w[0][2] + 0.1}
		f[4] = []float64{w[0][0] + 0.3, w[0][1] - 0.2, w[0][2]}
		cfg := Config{Name: "arcface", Dim: 3, Values: map[string]float64{"s": 12, "m": 0.5, "easy_margin": easy}}
		h := msRefArcFace(0.5, easy == 1)
		h.scale = 12
		ref := msReference(f, w, nil, y, h)
		if ref.cos[0][0] > math.Cos(math.Pi-0.5) {
			t.Fatalf("row 0 has cos θ_y = %g, not in the fallback region", ref.cos[0][0])
		}
		msCheckLoss(t, cfg, 0, h, f, w, nil, y)
	}
}

func TestArcFaceParams(t *testing.T) {
	msCheckParams(t, "arcface", []msParamCase{
		{"defaults", nil, ""},
		{"all set", map[string]float64{"s": 30, "m": 0.4, "easy_margin": 1}, ""},
		{"m too large", map[string]float64{"m": 2}, "m = 2 out of range"},
		{"m negative", map[string]float64{"m": -0.1}, "out of range"},
		{"s too small", map[string]float64{"s": 0.5}, "s = 0.5 out of range"},
		{"s NaN", map[string]float64{"s": math.NaN()}, "out of range"},
		{"easy_margin 0.5", map[string]float64{"easy_margin": 0.5}, "must be an integer"},
		{"easy_margin 2", map[string]float64{"easy_margin": 2}, "out of range"},
		{"unknown", map[string]float64{"margin": 0.5}, `no parameter "margin"`},
	})
	for _, tc := range []struct {
		dim  int
		s, m float64
	}{{2, 16, 0.2}, {3, 16, 0.5}, {8, 16, 0.5}, {32, 32, 0.5}, {512, 64, 0.5}} {
		l, err := New(Config{Name: "arcface", Dim: tc.dim})
		if err != nil {
			t.Fatal(err)
		}
		if p := l.Params(); math.Abs(p["s"]-tc.s) > 1e-12 || math.Abs(p["m"]-tc.m) > 1e-12 || p["easy_margin"] != 0 {
			t.Errorf("D=%d: defaults %v, want s=%g m=%g easy_margin=0", tc.dim, p, tc.s, tc.m)
		}
	}
}

func TestArcFaceTrains(t *testing.T) {
	msTrainCheck(t, Config{Name: "arcface", Dim: 3}, 300, 0.5, 0)
	msTrainCheck(t, Config{Name: "arcface", Dim: 3, Values: map[string]float64{"m": 0.5, "easy_margin": 1}}, 300, 0.5, 0)
	// D = 2: points trapped behind other classes are allowed (see
	// msTrainCheck), but most must get through and the loss must fall.
	msTrainCheck(t, Config{Name: "arcface", Dim: 2}, 300, 0.5, 6)
}
