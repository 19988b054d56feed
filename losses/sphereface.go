package losses

import (
	"math"

	"metriclab/core"
)

// SphereFace is the target transform of A-Softmax (Liu, Wen, Yu, Li, Raj and
// Song 2017, "SphereFace: Deep Hypersphere Embedding for Face Recognition"),
// a multiplicative angular margin m with the paper's λ blend:
//
//	ψ(θ) = (−1)^k·cos(m·θ) − 2k,   θ ∈ [kπ/m, (k+1)π/m],  k = 0, …, m−1
//	target(cos θ_y) = (λ·cos θ_y + ψ(θ_y)) / (1 + λ)
//
// ψ is continuous and decreasing on [0, π] and equals cos(m·θ) up to π/m.
// With cos(m·θ) = T_m(cos θ), the Chebyshev polynomial, ψ and its
// derivative are polynomials in cos θ and need no acos beyond picking k:
//
//	ψ = (−1)^k·T_m(c) − 2k,   dψ/dc = (−1)^k·m·U_{m−1}(c)
//
// The loss scales the logits by the feature norm instead of a fixed s, with
// W normalised and no bias:
//
//	L = −log( e^{‖f‖·target(cos θ_y)} / (e^{‖f‖·target(cos θ_y)} + Σ_{j≠y} e^{‖f‖·cos θ_j}) )
type SphereFace struct {
	M      int     // m ≥ 1
	Lambda float64 // λ ≥ 0; 0 is pure ψ, large λ is the plain softmax on cosines
}

// Target returns (λ·c + ψ(c))/(1+λ).
func (sf *SphereFace) Target(c float64) float64 {
	psi, _ := sf.psi(c)
	return (sf.Lambda*c + psi) / (1 + sf.Lambda)
}

// TargetDeriv returns (λ + dψ/dc)/(1+λ).
func (sf *SphereFace) TargetDeriv(c float64) float64 {
	_, dpsi := sf.psi(c)
	return (sf.Lambda + dpsi) / (1 + sf.Lambda)
}

// psi returns ψ and dψ/dc at c = cos θ in [−1, 1].
func (sf *SphereFace) psi(c float64) (psi, dpsi float64) {
	m := sf.M
	k := int(math.Floor(float64(m) * math.Acos(c) / math.Pi))
	k = max(0, min(m-1, k))
	// T_m(c) and U_{m−1}(c) by the three-term recurrences
	// T_{n+1} = 2c·T_n − T_{n−1} (T_0 = 1, T_1 = c) and the same for U
	// (U_0 = 1, U_1 = 2c).
	tPrev, t := 1.0, c
	uPrev, u := 0.0, 1.0 // U_{−1} = 0, U_0 = 1
	for n := 1; n < m; n++ {
		tPrev, t = t, 2*c*t-tPrev
		uPrev, u = u, 2*c*u-uPrev
	}
	sign := 1.0
	if k%2 == 1 {
		sign = -1
	}
	return sign*t - 2*float64(k), sign * float64(m) * u
}

// SphereFaceSchedule anneals SphereFace's λ as the original Caffe
// implementation does:
//
//	λ(iter) = max(λ_min, base·(1 + γ·iter)^(−power))
//
// With the defaults (base 1000, γ 0.12, power 1, λ_min 5) λ starts at 1000
// (nearly a plain softmax on cosines) and reaches λ_min after about 1650
// steps, where the target is (5·cos θ_y + ψ(θ_y))/6.
type SphereFaceSchedule struct {
	Base, Min, Gamma, Power float64
}

// Lambda returns λ at step iter.
func (s SphereFaceSchedule) Lambda(iter int) float64 {
	return math.Max(s.Min, s.Base*math.Pow(1+s.Gamma*float64(iter), -s.Power))
}

// spherefaceEntry: the paper uses m = 4 at every D, including its 2-D and
// 3-D MNIST figures; the λ schedule is what lets it train there.
var spherefaceEntry = entry{
	doc: "SphereFace (Liu et al. 2017): L = −log softmax(‖f‖·(λ·cos θ_y + ψ(θ_y))/(1+λ), ‖f‖·cos θ_{j≠y}), ψ(θ) = (−1)^k·cos(mθ) − 2k",
	params: func(dim int) []Param {
		return []Param{
			{Name: "m", Default: 4, Min: 1, Max: 8, Integer: true,
				Doc: "multiplicative angular margin, ψ(θ) = (−1)^k·cos(m·θ) − 2k on [kπ/m, (k+1)π/m]; default 4"},
			{Name: "lambda_base", Default: 1000, Min: 0, Max: 1e6,
				Doc: "λ at step 0, λ(iter) = max(λ_min, base·(1+γ·iter)^(−power)); default 1000"},
			{Name: "lambda_min", Default: 5, Min: 0, Max: 1e6,
				Doc: "floor of λ, target (λ·cos θ_y + ψ(θ_y))/(1+λ); default 5"},
			{Name: "gamma", Default: 0.12, Min: 0, Max: 10,
				Doc: "decay rate γ of λ(iter) = max(λ_min, base·(1+γ·iter)^(−power)); default 0.12"},
			{Name: "power", Default: 1, Min: 0, Max: 10,
				Doc: "decay power of λ(iter) = max(λ_min, base·(1+γ·iter)^(−power)); default 1"},
		}
	},
	build: func(c Config) (core.Loss, error) {
		sched := SphereFaceSchedule{Base: c.Values["lambda_base"], Min: c.Values["lambda_min"],
			Gamma: c.Values["gamma"], Power: c.Values["power"]}
		sf := &SphereFace{M: int(c.Values["m"]), Lambda: sched.Lambda(0)}
		return &marginSoftmax{name: "sphereface", dim: c.Dim, params: c.Values,
			head: msFeatureNorm, margin: sf, step: func(iter int) { sf.Lambda = sched.Lambda(iter) }}, nil
	},
}
