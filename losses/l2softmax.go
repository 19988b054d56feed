package losses

import "metriclab/core"

// l2softmaxEntry is L2-constrained softmax (Ranjan, Castillo and Chellappa
// 2017, "L2-constrained Softmax Loss for Discriminative Face Verification"):
// the embedding is scaled to norm α before a linear head with bias,
//
//	z_j = α·f̂·W_j + b_j,   f̂ = f/√(‖f‖²+ε),   L = −log softmax(z)_y
//
// The paper's lower bound for a target probability p over C classes is
//
//	α_low = log( p·(C−2)/(1−p) )
//
// (p = 0.9: 4.3 at C = 10, 9.1 at C = 1000, 11.4 at C = 10⁴). The default
// α = 16·√(D/8) clamped to [16, 64] (msDefaultScale) is above α_low for any
// C below about 10⁶ and grows with D as the cosine scale of the other losses
// does.
var l2softmaxEntry = entry{
	doc: "L2-constrained softmax (Ranjan et al. 2017): z = α·f̂·Wᵀ + b, L = −log softmax(z)_y",
	params: func(dim int) []Param {
		return []Param{{Name: "alpha", Default: msDefaultScale(dim), Min: 1, Max: 128,
			Doc: "norm of the embedding, z = α·f̂·Wᵀ + b; ≥ log(p(C−2)/(1−p)) for target probability p; default 16·√(D/8) clamped to [16, 64]"}}
	},
	build: func(c Config) (core.Loss, error) {
		return &marginSoftmax{name: "l2softmax", dim: c.Dim, params: c.Values,
			head: msScaledLinear, scale: c.Values["alpha"]}, nil
	},
}
