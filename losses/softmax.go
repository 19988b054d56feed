package losses

import "metriclab/core"

// softmaxEntry is the plain softmax cross-entropy on a linear head with bias,
// the baseline of the family:
//
//	z_j = f·W_j + b_j,   L = −log( e^{z_y} / Σ_j e^{z_j} )
//
// It has no parameters; head.weight (C×D) and head.bias (C) are learned.
// Nothing bounds ‖f‖ or ‖W_j‖, so classes separate by angle and by norm.
var softmaxEntry = entry{
	doc:    "softmax cross-entropy on a linear head: z = f·Wᵀ + b, L = −log softmax(z)_y",
	params: func(dim int) []Param { return nil },
	build: func(c Config) (core.Loss, error) {
		return &marginSoftmax{name: "softmax", dim: c.Dim, params: c.Values, head: msLinear}, nil
	},
}
