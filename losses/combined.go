package losses

import (
	"math"

	"metriclab/core"
)

// Combined is the target transform of InsightFace's combined margin, which
// holds SphereFace's multiplicative angle margin m1, ArcFace's additive
// angle margin m2 and CosFace's additive cosine margin m3:
//
//	ψ(cos θ_y) = cos(m1·θ_y + m2) − m3         if m1·θ_y + m2 ≤ π, i.e. cos θ_y > cos θ*
//	ψ(cos θ_y) = cos θ_y − m3 − δ              otherwise
//	θ* = (π − m2)/m1,   δ = max(m2·sin m2, 1 + cos θ*)
//	L = −log( e^{s·ψ(cos θ_y)} / (e^{s·ψ(cos θ_y)} + Σ_{j≠y} e^{s·cos θ_j}) )
//
// Past θ*, cos(m1·θ + m2) would turn back up; the fallback is ArcFace's
// (δ = m2·sin m2, so Combined{1, m, 0} is ArcFace{m}) wherever that keeps ψ
// increasing in cos θ_y, and otherwise the shift that makes ψ continuous at
// θ* (δ = 1 + cos θ*, needed when m1 > 1). If θ* ≥ π there is no fallback.
type Combined struct {
	M1, M2, M3 float64 // m1 in [1, 4], m2 in [0, 1.5], m3 in [0, 1]
}

// Target returns ψ(c).
func (cm Combined) Target(c float64) float64 {
	if c <= cm.threshold() {
		return c - cm.M3 - cm.shift()
	}
	return math.Cos(cm.M1*math.Acos(c)+cm.M2) - cm.M3
}

// TargetDeriv returns dψ/dc = m1·sin(m1·θ + m2)/sin θ before θ*, 1 past
// it. Where sin θ < msSinFloor the ratio is taken at the angle whose sine
// is the floor, numerator and denominator alike: flooring the denominator
// alone would give 0 at θ = 0 with m2 = 0, where the derivative is finite
// (m1², as cos(m1·θ) = T_m1(c) has it) and, for m1 = 1 and m2 = 0 (no
// fallback: CosFace), at θ = π, where it is 1.
func (cm Combined) TargetDeriv(c float64) float64 {
	if c <= cm.threshold() {
		return 1
	}
	lo := math.Asin(msSinFloor)
	theta := math.Max(lo, math.Min(math.Pi-lo, math.Acos(c)))
	return cm.M1 * math.Sin(cm.M1*theta+cm.M2) / math.Sin(theta)
}

// threshold returns cos θ*, or −2 (below every cosine) if θ* ≥ π.
func (cm Combined) threshold() float64 {
	t := (math.Pi - cm.M2) / cm.M1
	if t >= math.Pi {
		return -2
	}
	return math.Cos(t)
}

// shift returns δ = max(m2·sin m2, 1 + cos θ*).
func (cm Combined) shift() float64 {
	return math.Max(cm.M2*math.Sin(cm.M2), 1+math.Cos((math.Pi-cm.M2)/cm.M1))
}

// combinedEntry: InsightFace's combined setting is s = 64, (m1, m2, m3) =
// (1, 0.3, 0.2) at D = 512. At D = 2 the additive margins are scaled
// by msLowDimFactor, as for ArcFace and CosFace.
var combinedEntry = entry{
	doc: "combined margin (InsightFace): L = −log softmax(s·(cos(m1·θ_y + m2) − m3), s·cos θ_{j≠y}), monotonic fallback",
	params: func(dim int) []Param {
		f := msLowDimFactor(dim)
		return []Param{
			msScaleParam(dim),
			{Name: "m1", Default: 1, Min: 1, Max: 4,
				Doc: "multiplicative angular margin (SphereFace), target s·(cos(m1·θ_y + m2) − m3); default 1"},
			{Name: "m2", Default: 0.3 * f, Min: 0, Max: 1.5,
				Doc: "additive angular margin in radians (ArcFace); default 0.3 (0.12 at D = 2)"},
			{Name: "m3", Default: 0.2 * f, Min: 0, Max: 1,
				Doc: "additive cosine margin (CosFace); default 0.2 (0.08 at D = 2)"},
		}
	},
	build: func(c Config) (core.Loss, error) {
		cm := Combined{M1: c.Values["m1"], M2: c.Values["m2"], M3: c.Values["m3"]}
		return &marginSoftmax{name: "combined", dim: c.Dim, params: c.Values,
			head: msCosine, scale: c.Values["s"], margin: cm}, nil
	},
}
