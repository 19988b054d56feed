package losses

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
)

// msRefCombined is the combined target written from the angle:
//
//	ψ = cos(m1·θ + m2) − m3 while m1·θ + m2 < π, else cos θ − m3 − δ,
//	δ = max(m2·sin m2, 1 + cos θ*), θ* = (π − m2)/m1
//	dψ/dc = m1·sin(m1·θ + m2)/sin θ, or 1 in the fallback
func msRefCombined(s, m1, m2, m3 float64) msRefHead {
	thStar := (math.Pi - m2) / m1
	delta := math.Max(m2*math.Sin(m2), 1+math.Cos(thStar))
	return msRefHead{kind: msCosine, scale: s,
		psi: func(c float64) float64 {
			th := math.Acos(c)
			if th >= thStar {
				return c - m3 - delta
			}
			return math.Cos(m1*th+m2) - m3
		},
		dpsi: func(c float64) float64 {
			th := math.Acos(c)
			if th >= thStar {
				return 1
			}
			return m1 * math.Sin(m1*th+m2) / math.Sin(th)
		}}
}

func TestCombinedTarget(t *testing.T) {
	deg := math.Pi / 180
	thStar := (math.Pi - 0.2) / 1.5 // 112.36°
	for _, tc := range []struct {
		name  string
		cm    Combined
		theta float64 // degrees
		want  float64
	}{
		// cos(1.5·60° + 0.2) − 0.1 = −sin 0.2 − 0.1.
		{"θ=60°", Combined{1.5, 0.2, 0.1}, 60, -math.Sin(0.2) - 0.1},
		// θ = 0: cos m2 − m3.
		{"θ=0°", Combined{1.5, 0.2, 0.1}, 0, math.Cos(0.2) - 0.1},
		// Past θ* = 112.36°: cos θ − m3 − (1 + cos θ*), continuous at θ*.
		{"θ=150° fallback", Combined{1.5, 0.2, 0.1}, 150, math.Cos(150*deg) - 0.1 - 1 - math.Cos(thStar)},
		// InsightFace's setting (1, 0.3, 0.2) at 90°: −sin 0.3 − 0.2.
		{"insightface θ=90°", Combined{1, 0.3, 0.2}, 90, -math.Sin(0.3) - 0.2},
		// (1, 0, m3) is CosFace even at 180°: no fallback.
		{"cosface θ=180°", Combined{1, 0, 0.35}, 180, -1.35},
	} {
		if got := tc.cm.Target(math.Cos(tc.theta * deg)); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: ψ = %.15g, want %.15g", tc.name, got, tc.want)
		}
	}
	msCheckDeriv(t, "combined (1.5, 0.2, 0.1)", Combined{1.5, 0.2, 0.1}, []float64{-0.9, -0.2, 0, 0.5, 0.95})
	msCheckDeriv(t, "combined (2, 0, 0)", Combined{2, 0, 0}, []float64{-0.5, 0.3, 0.99})
}

// TestCombinedSpecialCases checks that (1, m, 0) is ArcFace, fallback
// included, and (1, 0, m) is CosFace, and that ψ is increasing in cos θ and
// continuous at θ* whenever m1 > 1.
func TestCombinedSpecialCases(t *testing.T) {
	for i := 0; i <= 2000; i++ {
		c := -1 + float64(i)/1000
		for _, m := range []float64{0.1, 0.5, 1.2} {
			if a, b := (Combined{1, m, 0}).Target(c), (ArcFace{M: m}).Target(c); math.Abs(a-b) > 1e-12 {
				t.Fatalf("(1, %g, 0) at c = %g: %g, ArcFace %g", m, c, a, b)
			}
			// The derivatives are compared where sin θ is above msSinFloor
			// (below it each form bounds its 1/sin θ term its own way).
			if a, b := (Combined{1, m, 0}).TargetDeriv(c), (ArcFace{M: m}).TargetDeriv(c); 1-c*c > msSinFloor*msSinFloor && math.Abs(a-b) > 1e-9*(1+math.Abs(b)) {
				t.Fatalf("(1, %g, 0) at c = %g: dψ %g, ArcFace %g", m, c, a, b)
			}
			if a, b := (Combined{1, 0, m}).Target(c), (CosFace{M: m}).Target(c); math.Abs(a-b) > 1e-12 {
				t.Fatalf("(1, 0, %g) at c = %g: %g, CosFace %g", m, c, a, b)
			}
		}
	}
	for _, cm := range []Combined{{1.35, 0.25, 0.2}, {2, 0, 0}, {4, 0.5, 0.1}, {1, 1.5, 1}, {1.5, 0.2, 0.1}} {
		prev := math.Inf(-1)
		for i := 0; i <= 20000; i++ {
			c := -1 + float64(i)/10000
			v := cm.Target(c)
			if v < prev {
				t.Fatalf("%+v: ψ(%g) = %g < %g before: not increasing", cm, c, v, prev)
			}
			prev = v
		}
		if cm.M1 > 1 {
			cs := math.Cos((math.Pi - cm.M2) / cm.M1)
			lo, hi := cm.Target(cs-1e-9), cm.Target(cs+1e-9)
			if math.Abs(hi-lo) > 1e-4 {
				t.Errorf("%+v: ψ jumps at θ* from %g to %g", cm, lo, hi)
			}
		}
	}
}

func TestCombinedHandCases(t *testing.T) {
	deg := math.Pi / 180
	cfg := Config{Name: "combined", Dim: 2, Values: map[string]float64{"s": 10, "m1": 1.5, "m2": 0.2, "m3": 0.1}}
	thStar := (math.Pi - 0.2) / 1.5
	msCheckHandCases(t, cfg, 0, []msHandCase{
		// z_0 = 10·(cos(90° + 0.2) − 0.1) = 10·(−sin 0.2 − 0.1), z_1 = 5√3.
		{"θ_y=60°", 60, 0, msSoftplus(5*math.Sqrt(3) + 10*(math.Sin(0.2)+0.1)), 1e-9},
		// Fallback: z_0 = 10·(cos 150° − 0.1 − 1 − cos θ*), θ_1 = 60°, z_1 = 5.
		{"θ_y=150° fallback", 150, 0, msSoftplus(5 - 10*(math.Cos(150*deg)-1.1-math.Cos(thStar))), 1e-9},
	})
}

func TestCombinedGradients(t *testing.T) {
	f, w, _, y := msTestBatch(8, 6, 3, 4)
	// Row 0 points away from its class weight: in the fallback region.
	f[0] = []float64{-w[0][0], -w[0][1] + 0.1, -w[0][2]}
	cfg := Config{Name: "combined", Dim: 3, Values: map[string]float64{"s": 12, "m1": 1.5, "m2": 0.2, "m3": 0.1}}
	msCheckLoss(t, cfg, 0, msRefCombined(12, 1.5, 0.2, 0.1), f, w, nil, y)
	cfg = Config{Name: "combined", Dim: 3, Values: map[string]float64{"s": 30, "m1": 1, "m2": 0.3, "m3": 0.2}}
	msCheckLoss(t, cfg, 0, msRefCombined(30, 1, 0.3, 0.2), f, w, nil, y)
}

func TestCombinedParams(t *testing.T) {
	msCheckParams(t, "combined", []msParamCase{
		{"defaults", nil, ""},
		{"set", map[string]float64{"s": 64, "m1": 1.35, "m2": 0.25, "m3": 0.15}, ""},
		{"m1 below 1", map[string]float64{"m1": 0.9}, "m1 = 0.9 out of range [1, 4]"},
		{"m2 too large", map[string]float64{"m2": 2}, "m2 = 2 out of range"},
		{"m3 negative", map[string]float64{"m3": -0.2}, "m3 = -0.2 out of range"},
		{"unknown", map[string]float64{"m": 0.5}, `no parameter "m"`},
	})
}

func TestCombinedTrains(t *testing.T) {
	msTrainCheck(t, Config{Name: "combined", Dim: 3}, 300, 0.5, 0)
	msTrainCheck(t, Config{Name: "combined", Dim: 3, Values: map[string]float64{"m1": 1.35, "m2": 0.25, "m3": 0.1}}, 300, 0.5, 0)
	msTrainCheck(t, Config{Name: "combined", Dim: 2}, 300, 0.5, 6)
}

// TestCombinedDerivAtPoles checks dψ/dc at cos θ = ±1, where sin θ = 0 and
// the derivative is finite: (1, 0, m) is CosFace, dψ/dc = 1 everywhere;
// (m1, 0, 0) is cos(m1·θ) = T_m1(c), whose slope at c = 1 is m1² (the
// Chebyshev form of SphereFace with λ = 0 gives it independently).
func TestCombinedDerivAtPoles(t *testing.T) {
	for _, c := range []float64{-1, -1 + 1e-12, 1 - 1e-12, 1} {
		for _, m := range []float64{0, 0.35, 1} {
			if got := (Combined{1, 0, m}).TargetDeriv(c); math.Abs(got-1) > 1e-9 {
				t.Errorf("(1, 0, %g) at c = %g: dψ/dc = %g, CosFace 1", m, c, got)
			}
		}
	}
	for _, m1 := range []int{2, 3, 4} {
		want := (&SphereFace{M: m1}).TargetDeriv(1) // m1·U_{m1−1}(1) = m1²
		if got := (Combined{float64(m1), 0, 0}).TargetDeriv(1); math.Abs(got-want) > 1e-5*want {
			t.Errorf("(%d, 0, 0) at c = 1: dψ/dc = %g, want %g", m1, got, want)
		}
	}
}

// TestCombinedOnWeightGradient checks, through the graph, that a sample
// 1e-4 rad from its class weight and one 1e-4 rad from opposite it (sin θ
// under msSinFloor) get CosFace's gradients from (1, 0, m), the same loss.
func TestCombinedOnWeightGradient(t *testing.T) {
	const e = 1e-4
	f := [][]float64{{2 * math.Cos(e), 2 * math.Sin(e)}, {3 * math.Sin(e), -3 * math.Cos(e)}}
	w := [][]float64{{1, 0}, {0, 1}, {-1, 1}}
	y := []int{0, 1}
	comb, err := New(Config{Name: "combined", Dim: 2, Values: map[string]float64{"s": 16, "m1": 1, "m2": 0, "m3": 0.35}})
	if err != nil {
		t.Fatal(err)
	}
	cos, err := New(Config{Name: "cosface", Dim: 2, Values: map[string]float64{"s": 16, "m": 0.35}})
	if err != nil {
		t.Fatal(err)
	}
	a := msEvalGraph(t, comb, tensor.Float64, 0, f, w, nil, y)
	b := msEvalGraph(t, cos, tensor.Float64, 0, f, w, nil, y)
	msAssertClose(t, "combined (1, 0, 0.35) ∂L/∂emb vs cosface", a.df, b.df, 1e-9)
	msAssertClose(t, "combined (1, 0, 0.35) ∂L/∂head.weight vs cosface", a.dW, b.dW, 1e-9)
}
