package losses

import (
	"math"
	"testing"
)

func TestL2SoftmaxHandCases(t *testing.T) {
	// f scaled to norm α = 4, W not normalised, zero bias:
	// z_0 = 4·cos φ, z_1 = 4·2·sin φ.
	cfg := Config{Name: "l2softmax", Dim: 2, Values: map[string]float64{"alpha": 4}}
	msCheckHandCases(t, cfg, 0, []msHandCase{
		// z_0 = 2, z_1 = 4√3.
		{"θ_y=60°", 60, 0, msSoftplus(4*math.Sqrt(3) - 2), 1e-9},
		// The norm of f does not matter.
		{"θ_y=60° ‖f‖=3", 60, 3, msSoftplus(4*math.Sqrt(3) - 2), 1e-9},
		// z_0 = 0, z_1 = 8.
		{"θ_y=90°", 90, 0, msSoftplus(8), 1e-9},
	})
}

func TestL2SoftmaxGradients(t *testing.T) {
	f, w, b, y := msTestBatch(5, 6, 4, 3)
	cfg := Config{Name: "l2softmax", Dim: 4, Values: map[string]float64{"alpha": 6}}
	msCheckLoss(t, cfg, 0, msRefHead{kind: msScaledLinear, scale: 6}, f, w, b, y)
}

func TestL2SoftmaxParams(t *testing.T) {
	msCheckParams(t, "l2softmax", []msParamCase{
		{"defaults", nil, ""},
		{"alpha", map[string]float64{"alpha": 24}, ""},
		{"alpha too small", map[string]float64{"alpha": 0.5}, "alpha = 0.5 out of range [1, 128]"},
		{"unknown", map[string]float64{"s": 16}, `no parameter "s"`},
	})
	// The default is above the paper's bound α_low = log(p(C−2)/(1−p)) at
	// p = 0.9 for C = 10⁵ classes, at every D.
	low := math.Log(0.9 * (1e5 - 2) / 0.1)
	for _, dim := range []int{2, 3, 16, 128, 512} {
		l, err := New(Config{Name: "l2softmax", Dim: dim})
		if err != nil {
			t.Fatal(err)
		}
		if a := l.Params()["alpha"]; a < low {
			t.Errorf("D=%d: default α = %g below α_low = %g", dim, a, low)
		}
	}
}

func TestL2SoftmaxTrains(t *testing.T) {
	msTrainCheck(t, Config{Name: "l2softmax", Dim: 2}, 300, 0.5, 0)
	msTrainCheck(t, Config{Name: "l2softmax", Dim: 3}, 300, 0.5, 0)
}
