package losses

import (
	"math"
	"testing"
)

// msRefCosFace is CosFace's ψ(c) = c − m, dψ/dc = 1.
func msRefCosFace(s, m float64) msRefHead {
	return msRefHead{kind: msCosine, scale: s,
		psi:  func(c float64) float64 { return c - m },
		dpsi: func(c float64) float64 { return 1 }}
}

func TestCosFaceTarget(t *testing.T) {
	for _, tc := range []struct {
		c, m, want float64
	}{
		{0.5, 0.35, 0.15},   // θ = 60°: ½ − 0.35
		{0, 0.35, -0.35},    // θ = 90°
		{-1, 0.2, -1.2},     // θ = 180°: no fallback needed, already monotonic
		{1, 0, 1},           // no margin
		{0.8, 1, 0.8 - 1.0}, // largest margin
	} {
		if got := (CosFace{M: tc.m}).Target(tc.c); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("m=%g: ψ(%g) = %g, want %g", tc.m, tc.c, got, tc.want)
		}
	}
	msCheckDeriv(t, "cosface", CosFace{M: 0.35}, []float64{-0.9, 0, 0.7})
}

func TestCosFaceHandCases(t *testing.T) {
	cfg := Config{Name: "cosface", Dim: 2, Values: map[string]float64{"s": 10, "m": 0.35}}
	msCheckHandCases(t, cfg, 0, []msHandCase{
		// z_0 = 10·(cos 60° − 0.35) = 1.5, z_1 = 10·cos 30° = 5√3.
		{"θ_y=60°", 60, 0, msSoftplus(5*math.Sqrt(3) - 1.5), 1e-9},
		// z_0 = 10·(0 − 0.35) = −3.5, z_1 = 10.
		{"θ_y=90°", 90, 0, msSoftplus(13.5), 1e-9},
		// θ_y = 45° = θ_1: z_0 = 10·(√½ − 0.35), z_1 = 10·√½, gap 3.5.
		{"θ_y=45° ‖f‖=0.1", 45, 0.1, msSoftplus(3.5), 1e-9},
	})
}

func TestCosFaceGradients(t *testing.T) {
	f, w, _, y := msTestBatch(2, 7, 4, 3)
	cfg := Config{Name: "cosface", Dim: 4, Values: map[string]float64{"s": 20, "m": 0.35}}
	msCheckLoss(t, cfg, 0, msRefCosFace(20, 0.35), f, w, nil, y)
}

func TestCosFaceParams(t *testing.T) {
	msCheckParams(t, "cosface", []msParamCase{
		{"defaults", nil, ""},
		{"set", map[string]float64{"s": 64, "m": 0.4}, ""},
		{"m too large", map[string]float64{"m": 1.5}, "m = 1.5 out of range [0, 1]"},
		{"s too large", map[string]float64{"s": 1000}, "s = 1000 out of range"},
		{"unknown", map[string]float64{"alpha": 3}, `no parameter "alpha"`},
	})
	for dim, want := range map[int]float64{2: 0.14, 3: 0.35, 4: 0.35, 512: 0.35} {
		l, err := New(Config{Name: "cosface", Dim: dim})
		if err != nil {
			t.Fatal(err)
		}
		if got := l.Params()["m"]; math.Abs(got-want) > 1e-12 {
			t.Errorf("D=%d: default m = %g, want %g", dim, got, want)
		}
	}
}

func TestCosFaceTrains(t *testing.T) {
	msTrainCheck(t, Config{Name: "cosface", Dim: 3}, 300, 0.5, 0)
	msTrainCheck(t, Config{Name: "cosface", Dim: 2}, 300, 0.5, 6)
}
