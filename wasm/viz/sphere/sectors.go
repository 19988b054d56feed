package sphere

import (
	"math"
	"slices"
)

// Interval is the half-open interval of angles [Start, End) in radians,
// counter-clockwise from Start, with Start in [0, 2π) and
// Start ≤ End ≤ Start + 2π; End may pass 2π when the interval wraps. An
// interval with Start = End is empty.
type Interval struct {
	Start, End float64
}

// Width returns End − Start.
func (iv Interval) Width() float64 { return iv.End - iv.Start }

// Contains reports whether the angle theta (any real number) lies in iv.
func (iv Interval) Contains(theta float64) bool {
	t := wrap(theta)
	if t < iv.Start {
		t += 2 * math.Pi
	}
	return t < iv.End
}

// wrap returns theta reduced to [0, 2π).
func wrap(theta float64) float64 {
	t := math.Mod(theta, 2*math.Pi)
	if t < 0 {
		t += 2 * math.Pi
	}
	if t >= 2*math.Pi { // −tiny + 2π rounds to 2π
		t = 0
	}
	return t
}

// WeightAnglesTo writes into dst, which it grows as needed, the angles of
// the C class weight vectors of the row-major C×2 matrix w, φ_j =
// atan2(w_j2, w_j1), and returns dst[:C]. It panics if len(w) is odd.
func WeightAnglesTo(dst []float64, w []float32) []float64 {
	if len(w)%2 != 0 {
		panic("sphere: WeightAnglesTo needs a C×2 matrix")
	}
	c := len(w) / 2
	dst = slices.Grow(dst[:0], c)[:c]
	for j := range c {
		dst[j] = math.Atan2(float64(w[2*j+1]), float64(w[2*j]))
	}
	return dst
}

// distinct returns the weight angles reduced to [0, 2π), sorted, with the
// index of the class of each; of classes whose weights point the same way
// (within 1e-12 rad) only the first is kept, since it wins the ties of
// argmax.
func distinct(phi []float64) (ang []float64, class []int) {
	idx := make([]int, len(phi))
	for i := range idx {
		idx[i] = i
	}
	w := make([]float64, len(phi))
	for i, p := range phi {
		w[i] = wrap(p)
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case w[a] < w[b]:
			return -1
		case w[a] > w[b]:
			return 1
		}
		return a - b
	})
	for _, i := range idx {
		if k := len(ang); k > 0 && w[i]-ang[k-1] < 1e-12 {
			continue // same direction as a lower-indexed class just kept
		}
		ang = append(ang, w[i])
		class = append(class, i)
	}
	// The first and last may also coincide across 0 = 2π.
	if k := len(ang); k > 1 && ang[0]+2*math.Pi-ang[k-1] < 1e-12 {
		if class[k-1] < class[0] {
			ang[0], class[0] = ang[k-1], class[k-1]
		}
		ang, class = ang[:k-1], class[:k-1]
	}
	return ang, class
}

// Sectors returns the decision sector of each class on the unit circle for
// class weights at angles phi: the angles θ where class j has the largest
// cosine logit,
//
//	S_j = { θ : cos(θ − φ_j) ≥ cos(θ − φ_k) for all k },
//
// whose ends are the angle bisectors between φ_j and its neighbours on the
// circle. out[j] is the sector of class j; a class whose weight points the
// same way as one of a lower index gets an empty sector; a single class owns
// the whole circle, [φ_0 − π, φ_0 + π). The sectors of all classes tile
// [0, 2π).
func Sectors(phi []float64) []Interval {
	out := make([]Interval, len(phi))
	ang, class := distinct(phi)
	k := len(ang)
	switch k {
	case 0:
		return out
	case 1:
		s := wrap(ang[0] - math.Pi)
		for j := range out {
			out[j] = Interval{s, s}
		}
		out[class[0]] = Interval{s, s + 2*math.Pi}
		return out
	}
	for j := range out {
		s := wrap(phi[j])
		out[j] = Interval{s, s}
	}
	for i := range k {
		prev, next := ang[(i+k-1)%k], ang[(i+1)%k]
		before := gap(prev, ang[i]) // counter-clockwise from the previous weight
		after := gap(ang[i], next)
		s := wrap(ang[i] - before/2)
		out[class[i]] = Interval{s, s + before/2 + after/2}
	}
	return out
}

// gap returns the counter-clockwise angle from a to b, in (0, 2π] (2π for
// a = b).
func gap(a, b float64) float64 {
	g := wrap(b - a)
	if g == 0 {
		g = 2 * math.Pi
	}
	return g
}

// MarginBands returns, for class weights at angles phi and an additive
// angular margin m (ArcFace, Deng et al. 2019), the bands around the
// decision boundaries where a point is classified correctly without the
// margin but not with it. Between neighbouring weights φ_j and φ_k = φ_j + Δ
// a point at θ = φ_j + t has θ_j = t and θ_k = Δ − t; class j wins with the
// margin when θ_j + m < θ_k and class k when θ_k + m < θ_j, so neither does
// on the band
//
//	(Δ − m)/2 < t < (Δ + m)/2,
//
// of width m centred on the bisector, clipped to the two weights when
// m > Δ. There is one band per pair of neighbouring weights (none for fewer
// than two distinct weights or m ≤ 0), in counter-clockwise order from the
// smallest weight angle in [0, 2π).
func MarginBands(phi []float64, m float64) []Interval {
	ang, _ := distinct(phi)
	k := len(ang)
	if k < 2 || !(m > 0) {
		return nil
	}
	out := make([]Interval, k)
	for i := range k {
		g := gap(ang[i], ang[(i+1)%k])
		h := math.Min(m, g) / 2
		s := wrap(ang[i] + g/2 - h)
		out[i] = Interval{s, s + 2*h}
	}
	return out
}
