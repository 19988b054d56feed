package losses

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// msRefSphereFace is A-Softmax's target written from the angle,
// independently of the package's Chebyshev form:
//
//	ψ(θ) = (−1)^k·cos(mθ) − 2k,  k = ⌊mθ/π⌋
//	dψ/dc = dψ/dθ·dθ/dc = (−1)^k·m·sin(mθ)/sin θ
//	target = (λc + ψ)/(1+λ)
func msRefSphereFace(m int, lambda float64) msRefHead {
	psi := func(c float64) (float64, float64) {
		th := math.Acos(c)
		k := math.Min(float64(m-1), math.Floor(float64(m)*th/math.Pi))
		sign := math.Pow(-1, k)
		return sign*math.Cos(float64(m)*th) - 2*k, sign * float64(m) * math.Sin(float64(m)*th) / math.Sin(th)
	}
	return msRefHead{kind: msFeatureNorm,
		psi: func(c float64) float64 {
			p, _ := psi(c)
			return (lambda*c + p) / (1 + lambda)
		},
		dpsi: func(c float64) float64 {
			_, d := psi(c)
			return (lambda + d) / (1 + lambda)
		}}
}

func TestSphereFaceTarget(t *testing.T) {
	deg := math.Pi / 180
	for _, tc := range []struct {
		name   string
		m      int
		lambda float64
		theta  float64 // degrees
		want   float64
	}{
		// k = 0 below π/m: cos(mθ).
		{"m=4 θ=30°", 4, 0, 30, -0.5},      // cos 120°
		{"m=4 θ=0°", 4, 0, 0, 1},           // cos 0
		{"m=4 θ=45°", 4, 0, 45, -1},        // cos 180°, the first knot: 1 − 2·1
		{"m=4 θ=60°", 4, 0, 60, 0.5 - 2},   // k = 1: −cos 240° − 2
		{"m=4 θ=90°", 4, 0, 90, 1 - 4},     // k = 2: cos 360° − 4
		{"m=4 θ=180°", 4, 0, 180, 1 - 8},   // k = 3: −cos 720° − 6 = 1 − 2m
		{"m=2 θ=120°", 2, 0, 120, 0.5 - 2}, // k = 1: −cos 240° − 2
		{"m=1 θ=120°", 1, 0, 120, -0.5},    // m = 1 is cos θ
		{"m=3 θ=100°", 3, 0, 100, -math.Cos(300*deg) - 2},
		// λ blend at θ = 60°, m = 4: (λ·½ + (−1.5))/(1+λ).
		{"λ=1 θ=60°", 4, 1, 60, (0.5 - 1.5) / 2},
		{"λ=5 θ=60°", 4, 5, 60, (2.5 - 1.5) / 6},
	} {
		sf := &SphereFace{M: tc.m, Lambda: tc.lambda}
		if got := sf.Target(math.Cos(tc.theta * deg)); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: ψ = %.15g, want %.15g", tc.name, got, tc.want)
		}
	}
	for _, m := range []int{1, 2, 3, 4, 5, 8} {
		msCheckDeriv(t, "sphereface", &SphereFace{M: m}, []float64{-0.97, -0.6, -0.1, 0.3, 0.8, 0.995})
		msCheckDeriv(t, "sphereface λ=3", &SphereFace{M: m, Lambda: 3}, []float64{-0.5, 0.2, 0.9})
	}
}

// TestSphereFacePsiShape checks ψ numerically: continuous across the knots
// kπ/m (value 1 − 2k from both sides), non-increasing in θ on [0, π], with a
// derivative that stays finite at θ = 0 and π (m²·(±1)^{m+1}).
func TestSphereFacePsiShape(t *testing.T) {
	for m := 1; m <= 8; m++ {
		sf := &SphereFace{M: m}
		psi := func(th float64) float64 { return sf.Target(math.Cos(th)) }
		const steps = 20000
		prev := psi(0)
		for i := 1; i <= steps; i++ {
			th := math.Pi * float64(i) / steps
			v := psi(th)
			// Non-increasing; and a jump bigger than the steepest slope m
			// allows over one step would mean a discontinuity.
			if v > prev+1e-12 || prev-v > float64(m)*math.Pi/steps*1.001+1e-12 {
				t.Fatalf("m=%d: ψ(%g) = %g after ψ = %g", m, th, v, prev)
			}
			prev = v
		}
		for k := 1; k < m; k++ {
			knot := float64(k) * math.Pi / float64(m)
			for _, th := range []float64{knot - 1e-9, knot + 1e-9} {
				if v := psi(th); math.Abs(v-float64(1-2*k)) > 1e-7 {
					t.Errorf("m=%d: ψ(%g) = %g near knot %d, want %d", m, th, v, k, 1-2*k)
				}
			}
		}
		if v := psi(math.Pi); math.Abs(v-float64(1-2*m)) > 1e-12 {
			t.Errorf("m=%d: ψ(π) = %g, want %d", m, v, 1-2*m)
		}
		mm := float64(m * m)
		if d := sf.TargetDeriv(1); math.Abs(d-mm) > 1e-9 {
			t.Errorf("m=%d: dψ/dc at c=1 = %g, want m² = %g", m, d, mm)
		}
		if d := sf.TargetDeriv(-1); math.Abs(math.Abs(d)-mm) > 1e-9 {
			t.Errorf("m=%d: |dψ/dc| at c=−1 = %g, want m² = %g", m, d, mm)
		}
	}
}

func TestSphereFaceSchedule(t *testing.T) {
	s := SphereFaceSchedule{Base: 1000, Min: 5, Gamma: 0.12, Power: 1}
	for _, tc := range []struct {
		iter int
		want float64
	}{
		{0, 1000},            // base
		{100, 1000 / 13.0},   // 1000·(1 + 12)^−1
		{1000, 1000 / 121.0}, // 1000·(1 + 120)^−1
		{1700, 5},            // 1000/205 < 5: the floor
		{1_000_000, 5},
	} {
		if got := s.Lambda(tc.iter); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("λ(%d) = %g, want %g", tc.iter, got, tc.want)
		}
	}
	if got := (SphereFaceSchedule{Base: 10, Min: 0, Gamma: 1, Power: 2}).Lambda(4); math.Abs(got-10.0/25) > 1e-15 {
		t.Errorf("power 2: λ(4) = %g, want 10/25", got)
	}
}

func TestSphereFaceHandCases(t *testing.T) {
	pure := Config{Name: "sphereface", Dim: 2, Values: map[string]float64{"lambda_base": 0, "lambda_min": 0}}
	msCheckHandCases(t, pure, 0, []msHandCase{
		// m = 4, λ = 0, ‖f‖ = 1: ψ(30°) = cos 120° = −½, z_1 = cos 60° = ½.
		{"θ_y=30°", 30, 0, msSoftplus(1), 1e-9},
		// ψ(60°) = −cos 240° − 2 = −1.5; ‖f‖ = 2 scales both: z_0 = −3, z_1 = 2·cos 30° = √3.
		{"θ_y=60° ‖f‖=2", 60, 2, msSoftplus(math.Sqrt(3) + 3), 1e-9},
		// ψ(90°) = cos 360° − 4 = −3, z_1 = 1.
		{"θ_y=90°", 90, 0, msSoftplus(4), 1e-9},
	})
	// Default schedule, λ = 1000 at step 0: target (1000·½ − 1.5)/1001.
	def := Config{Name: "sphereface", Dim: 2}
	msCheckHandCases(t, def, 0, []msHandCase{
		{"θ_y=60° λ=1000", 60, 0, msSoftplus(math.Sqrt(3)/2 - (500-1.5)/1001), 1e-9},
	})
	// Step 5000: λ at its floor 5, target (5·½ − 1.5)/6 = 1/6.
	msCheckHandCases(t, def, 5000, []msHandCase{
		{"θ_y=60° λ=5", 60, 0, msSoftplus(math.Sqrt(3)/2 - 1.0/6), 1e-9},
	})
}

// TestSphereFaceBeforeStep checks that BeforeStep changes the loss of an
// already built graph (the λ schedule needs no rebuild).
func TestSphereFaceBeforeStep(t *testing.T) {
	l, err := New(Config{Name: "sphereface", Dim: 2})
	if err != nil {
		t.Fatal(err)
	}
	g := G.NewGraph()
	phi := math.Pi / 3
	emb := G.NewMatrix(g, tensor.Float64, G.WithShape(1, 2), G.WithName("emb"), G.WithValue(tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{math.Cos(phi), math.Sin(phi)}))))
	// Named: gorgonia merges unnamed input nodes of one shape.
	onehot := G.NewMatrix(g, tensor.Float64, G.WithShape(1, 2), G.WithName("onehot"), G.WithValue(tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{1, 0}))))
	cost, err := l.Build(g, emb, onehot, 2)
	if err != nil {
		t.Fatal(err)
	}
	msLet(t, l.Learnables()[0].Node, tensor.Float64, [][]float64{{1, 0}, {0, 2}})
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	for _, tc := range []struct {
		iter   int
		lambda float64
	}{{0, 1000}, {100, 1000 / 13.0}, {5000, 5}, {0, 1000}} {
		if err := l.BeforeStep(tc.iter); err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		// Target (λ·½ − 1.5)/(1+λ) against z_1 = cos 30°.
		want := msSoftplus(math.Sqrt(3)/2 - (tc.lambda*0.5-1.5)/(1+tc.lambda))
		if got := msNumber(t, cost.Value()); math.Abs(got-want) > 1e-9 {
			t.Errorf("step %d: loss %.12g, want %.12g (λ = %g)", tc.iter, got, want, tc.lambda)
		}
		vm.Reset()
	}
	if err := l.BeforeStep(-1); err == nil {
		t.Error("BeforeStep(−1): no error")
	}
}

func TestSphereFaceGradients(t *testing.T) {
	f, w, _, y := msTestBatch(6, 6, 3, 4)
	// λ = 0.3 at every step (γ = 0): the margin dominates.
	cfg := Config{Name: "sphereface", Dim: 3, Values: map[string]float64{"lambda_base": 0.3, "lambda_min": 0, "gamma": 0}}
	msCheckLoss(t, cfg, 0, msRefSphereFace(4, 0.3), f, w, nil, y)
	// Default schedule at step 100, m = 3.
	cfg = Config{Name: "sphereface", Dim: 3, Values: map[string]float64{"m": 3}}
	msCheckLoss(t, cfg, 100, msRefSphereFace(3, 1000/13.0), f, w, nil, y)
}

func TestSphereFaceParams(t *testing.T) {
	msCheckParams(t, "sphereface", []msParamCase{
		{"defaults", nil, ""},
		{"set", map[string]float64{"m": 2, "lambda_base": 100, "lambda_min": 0, "gamma": 0.5, "power": 2}, ""},
		{"m not integer", map[string]float64{"m": 2.5}, "m = 2.5 must be an integer"},
		{"m zero", map[string]float64{"m": 0}, "m = 0 out of range [1, 8]"},
		{"m too large", map[string]float64{"m": 9}, "out of range"},
		{"lambda negative", map[string]float64{"lambda_min": -1}, "lambda_min = -1 out of range"},
		{"gamma too large", map[string]float64{"gamma": 11}, "out of range"},
		{"unknown", map[string]float64{"lambda": 5}, `no parameter "lambda"`},
	})
}

func TestSphereFaceTrains(t *testing.T) {
	msTrainCheck(t, Config{Name: "sphereface", Dim: 3}, 300, 0.5, 0)
	// Pure ψ with m = 4 (λ = 0 from the start).
	msTrainCheck(t, Config{Name: "sphereface", Dim: 3, Values: map[string]float64{"lambda_base": 0, "lambda_min": 0}}, 300, 0.5, 0)
	msTrainCheck(t, Config{Name: "sphereface", Dim: 2}, 300, 0.5, 6)
}
