package losses

import (
	"math"

	"metriclab/core"
)

// ArcFace is the target transform of ArcFace (Deng, Guo, Xue and Zafeiriou
// 2019, "ArcFace: Additive Angular Margin Loss for Deep Face Recognition"),
// an additive angular margin m:
//
//	ψ(cos θ_y) = cos(θ_y + m)          if θ_y + m ≤ π, i.e. cos θ_y > cos(π − m)
//	ψ(cos θ_y) = cos θ_y − m·sin m     otherwise
//	L = −log( e^{s·ψ(cos θ_y)} / (e^{s·ψ(cos θ_y)} + Σ_{j≠y} e^{s·cos θ_j}) )
//
// cos(θ + m) turns back up past θ = π − m; the fallback (InsightFace's) keeps
// ψ increasing in cos θ_y there. With EasyMargin the margin applies only
// where cos θ_y > 0 and ψ(c) = c elsewhere (no fallback needed, but ψ jumps
// from −sin m up to 0 at c = 0).
type ArcFace struct {
	M          float64 // m in radians, in [0, 1.5]
	EasyMargin bool
}

// Target returns ψ(c), with cos(θ+m) = c·cos m − sin θ·sin m.
func (af ArcFace) Target(c float64) float64 {
	if !af.marginAt(c) {
		if af.EasyMargin {
			return c
		}
		return c - af.M*math.Sin(af.M)
	}
	sin := math.Sqrt(math.Max(0, 1-c*c))
	return c*math.Cos(af.M) - sin*math.Sin(af.M)
}

// TargetDeriv returns dψ/dc = cos m + sin m·c/sin θ where the margin
// applies (sin θ floored at msSinFloor), 1 elsewhere.
func (af ArcFace) TargetDeriv(c float64) float64 {
	if !af.marginAt(c) {
		return 1
	}
	sin := math.Max(msSinFloor, math.Sqrt(math.Max(0, 1-c*c)))
	return math.Cos(af.M) + math.Sin(af.M)*c/sin
}

// marginAt reports whether ψ(c) is cos(θ+m) rather than its fallback.
func (af ArcFace) marginAt(c float64) bool {
	if af.EasyMargin {
		return c > 0
	}
	return c > math.Cos(math.Pi-af.M)
}

// arcfaceEntry: the paper uses s = 64, m = 0.5 at D = 512. At D = 2 the
// margin is scaled by msLowDimFactor (to 0.2): with ten classes on a
// circle (36° apart), m = 0.5 leaves a sample ±0.07 rad of room around its
// class weight and training stalls.
var arcfaceEntry = entry{
	doc: "ArcFace (Deng et al. 2019): L = −log softmax(s·cos(θ_y + m), s·cos θ_{j≠y}), fallback cos θ_y − m·sin m past π − m",
	params: func(dim int) []Param {
		return []Param{
			msScaleParam(dim),
			{Name: "m", Default: 0.5 * msLowDimFactor(dim), Min: 0, Max: 1.5,
				Doc: "additive angular margin in radians, target logit s·cos(θ_y + m); default 0.5 (0.2 at D = 2)"},
			{Name: "easy_margin", Default: 0, Min: 0, Max: 1, Integer: true,
				Doc: "1: apply the margin only where cos θ_y > 0, ψ(c) = c elsewhere; 0: everywhere, with the fallback cos θ_y − m·sin m past θ_y = π − m"},
		}
	},
	build: func(c Config) (core.Loss, error) {
		af := ArcFace{M: c.Values["m"], EasyMargin: c.Values["easy_margin"] == 1}
		return &marginSoftmax{name: "arcface", dim: c.Dim, params: c.Values,
			head: msCosine, scale: c.Values["s"], margin: af}, nil
	},
}
