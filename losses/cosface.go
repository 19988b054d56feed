package losses

import "metriclab/core"

// CosFace is the target transform of CosFace (Wang et al. 2018, "CosFace:
// Large Margin Cosine Loss for Deep Face Recognition"; also AM-Softmax), an
// additive cosine margin m:
//
//	ψ(cos θ_y) = cos θ_y − m
//	L = −log( e^{s·(cos θ_y − m)} / (e^{s·(cos θ_y − m)} + Σ_{j≠y} e^{s·cos θ_j}) )
type CosFace struct {
	M float64 // m, in [0, 1]
}

// Target returns ψ(c) = c − m.
func (cf CosFace) Target(c float64) float64 { return c - cf.M }

// TargetDeriv returns dψ/dc = 1.
func (cf CosFace) TargetDeriv(c float64) float64 { return 1 }

// cosfaceEntry: the paper uses s = 64, m = 0.35 at D = 512. At D = 2 the
// margin is scaled by msLowDimFactor (to 0.14): ten classes on a
// circle are 36° apart, cos 0° − cos 36° = 0.19, so m = 0.35 could not be met
// even by a sample sitting on its class weight.
var cosfaceEntry = entry{
	doc: "CosFace (Wang et al. 2018): L = −log softmax(s·(cos θ_y − m), s·cos θ_{j≠y})",
	params: func(dim int) []Param {
		return []Param{
			msScaleParam(dim),
			{Name: "m", Default: 0.35 * msLowDimFactor(dim), Min: 0, Max: 1,
				Doc: "additive cosine margin, target logit s·(cos θ_y − m); default 0.35 (0.14 at D = 2)"},
		}
	},
	build: func(c Config) (core.Loss, error) {
		return &marginSoftmax{name: "cosface", dim: c.Dim, params: c.Values,
			head: msCosine, scale: c.Values["s"], margin: CosFace{M: c.Values["m"]}}, nil
	},
}
