// Package losses holds the training objectives of metriclab: the
// margin-softmax family of face recognition and the pair losses
// (contrastive, triplet) with their miners. Each implements core.Loss and is
// made by New from a Config; Params lists a loss's parameters with their
// defaults, ranges and formulas.
//
// Symbols:
//
//	N = batch size, D = embedding dimension, C = number of classes,
//	f = an embedding (a row of the N×D input), y = its class,
//	W = the C×D class weights (head.weight), b = the biases (head.bias),
//	f̂ = f/√(‖f‖²+ε), Ŵ_j = W_j/√(‖W_j‖²+ε), ε = 1e-12,
//	cos θ_j = f̂·Ŵ_j.
//
// # Margin-softmax family
//
// Every loss of the family is a mean softmax cross-entropy over the batch,
//
//	L = (1/N) Σ_i −log( e^{z_y} / Σ_j e^{z_j} )
//
// and the normalised ones share one form: normalise f and W, take the
// cosines, change the target logit with a target transform ψ, scale by s,
//
//	z_y = s·ψ(cos θ_y),   z_j = s·cos θ_j  (j ≠ y)
//
// A loss supplies only ψ and dψ/dcos θ (a Margin); the shared base
// (margin.go) does the rest with its own gorgonia ops, in float32 or float64
// graphs, accumulating in float64.
//
//	name         logits                                 ψ(cos θ_y), parameters
//	softmax      f·W_j + b_j                            —
//	l2softmax    α·f̂·W_j + b_j                          — ; alpha
//	normsoftmax  s·cos θ_j                              cos θ_y ; s
//	sphereface   ‖f‖·cos θ_j                            (λ·cos θ_y + (−1)^k·cos(m·θ_y) − 2k)/(1+λ) ;
//	                                                    m, lambda_base, lambda_min, gamma, power
//	cosface      s·cos θ_j                              cos θ_y − m ; s, m
//	arcface      s·cos θ_j                              cos(θ_y + m), cos θ_y − m·sin m past π − m ; s, m, easy_margin
//	combined     s·cos θ_j                              cos(m1·θ_y + m2) − m3, monotonic fallback ; s, m1, m2, m3
//
// Defaults follow the papers at D = 512 and shrink at low D: the scale is
// s = 16·√(D/8) clamped to [16, 64] (16 for D ≤ 8, 64 from D = 128), and the
// additive margins are multiplied by 0.4 at D = 2, where ten classes leave
// only 36° between neighbours on the circle (about 66° on the sphere S², room
// enough for the papers' margins).
//
// Each loss learns head.weight (C×D), initialised Xavier-uniform from a
// generator seeded by the loss name and shape (deterministic, the same for
// every run); softmax and l2softmax also learn head.bias (C), from zero.
package losses
