package losses

import (
	"math"
	"testing"
)

func TestNormSoftmaxHandCases(t *testing.T) {
	cfg := Config{Name: "normsoftmax", Dim: 2, Values: map[string]float64{"s": 10}}
	msCheckHandCases(t, cfg, 0, []msHandCase{
		// z_0 = 10·cos 60° = 5, z_1 = 10·cos 30° = 5√3.
		{"θ_y=60°", 60, 0, msSoftplus(5*math.Sqrt(3) - 5), 1e-9},
		// z_0 = 0, z_1 = 10.
		{"θ_y=90°", 90, 0, msSoftplus(10), 1e-9},
		// θ_y = θ_1 = 45°: equal logits, L = log 2 whatever the norm.
		{"θ_y=45°", 45, 5, math.Ln2, 1e-9},
		// θ_y = 0°: z_0 = 10, z_1 = 0.
		{"θ_y=0°", 0, 0, msSoftplus(-10), 1e-9},
	})
}

func TestNormSoftmaxGradients(t *testing.T) {
	f, w, _, y := msTestBatch(3, 5, 3, 4)
	cfg := Config{Name: "normsoftmax", Dim: 3, Values: map[string]float64{"s": 16}}
	msCheckLoss(t, cfg, 0, msRefHead{kind: msCosine, scale: 16}, f, w, nil, y)
}

func TestNormSoftmaxParams(t *testing.T) {
	msCheckParams(t, "normsoftmax", []msParamCase{
		{"defaults", nil, ""},
		{"s", map[string]float64{"s": 30}, ""},
		{"s too small", map[string]float64{"s": 0}, "s = 0 out of range [1, 128]"},
		{"margin given", map[string]float64{"m": 0.5}, `no parameter "m"`},
	})
}

func TestNormSoftmaxTrains(t *testing.T) {
	msTrainCheck(t, Config{Name: "normsoftmax", Dim: 3}, 300, 0.5, 0)
	msTrainCheck(t, Config{Name: "normsoftmax", Dim: 2}, 300, 0.5, 6)
}
