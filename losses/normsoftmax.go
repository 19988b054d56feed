package losses

import "metriclab/core"

// normsoftmaxEntry is NormFace (Wang, Xiang, Cheng and Yuille 2017,
// "NormFace: L2 Hypersphere Embedding for Face Verification"): embeddings and
// class weights are normalised, the logits are scaled cosines, no margin,
//
//	L = −log( e^{s·cos θ_y} / Σ_j e^{s·cos θ_j} )
//
// NormFace shows that with normalised features the loss cannot fall below
// log(1 + (C−1)·e^{−s·C/(C−1)}), so s must be large enough for the target
// probability; see msDefaultScale for the default.
var normsoftmaxEntry = entry{
	doc: "NormFace (Wang et al. 2017): L = −log softmax(s·cos θ)_y, f and W normalised",
	params: func(dim int) []Param {
		return []Param{msScaleParam(dim)}
	},
	build: func(c Config) (core.Loss, error) {
		return &marginSoftmax{name: "normsoftmax", dim: c.Dim, params: c.Values,
			head: msCosine, scale: c.Values["s"]}, nil
	},
}
