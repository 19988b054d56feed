package losses

import (
	"math"
	"testing"
)

func TestSoftmaxHandCases(t *testing.T) {
	// Linear head, zero bias: z_0 = f·(1, 0) = r·cos φ, z_1 = f·(0, 2) = 2r·sin φ.
	cfg := Config{Name: "softmax", Dim: 2}
	msCheckHandCases(t, cfg, 0, []msHandCase{
		// z_0 = ½, z_1 = √3.
		{"θ_y=60°", 60, 0, msSoftplus(math.Sqrt(3) - 0.5), 1e-12},
		// z_0 = 0, z_1 = 2.
		{"θ_y=90°", 90, 0, msSoftplus(2), 1e-12},
		// The norms matter: r = 2 doubles both logits.
		{"θ_y=60° ‖f‖=2", 60, 2, msSoftplus(2*math.Sqrt(3) - 1), 1e-12},
	})
}

func TestSoftmaxGradients(t *testing.T) {
	f, w, b, y := msTestBatch(4, 6, 3, 4)
	msCheckLoss(t, Config{Name: "softmax", Dim: 3}, 0, msRefHead{kind: msLinear}, f, w, b, y)
}

func TestSoftmaxParams(t *testing.T) {
	msCheckParams(t, "softmax", []msParamCase{
		{"defaults", nil, ""},
		{"any parameter", map[string]float64{"s": 10}, `softmax has no parameter "s"`},
	})
	if p, err := Params("softmax", 8); err != nil || len(p) != 0 {
		t.Errorf("Params(softmax) = %v, %v; want none", p, err)
	}
}

func TestSoftmaxTrains(t *testing.T) {
	msTrainCheck(t, Config{Name: "softmax", Dim: 2}, 300, 0.5, 0)
	msTrainCheck(t, Config{Name: "softmax", Dim: 3}, 300, 0.5, 0)
}
