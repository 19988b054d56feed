// Package vec holds the vector helpers that the engine's consumers share:
// whether all elements are finite, the L2 norm, normalisation to unit length and the cosine similarity of
// float32 or float64 vectors, the threshold between two scores (Between:
// core/eval's and core/face's), and the resizing of image planes (ResizeTo:
// the folder loader's, and the Verify page's crops to an encoder's input).
// Sums accumulate in float64 whatever the
// element type. It imports the standard library only, so that the page,
// the trainer, the viewer, core/eval and core/face use the one copy.
package vec

import (
	"fmt"
	"math"
)

// Float is an element type of the vectors: float32 or float64.
type Float interface{ ~float32 | ~float64 }

// AllFinite reports whether every element of a is a number, neither NaN
// nor ±Inf.
func AllFinite[T Float](a []T) bool {
	for _, v := range a {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

// Norm returns the L2 norm ‖a‖ = √(Σ aᵢ²), accumulated in float64.
func Norm[T Float](a []T) float64 {
	var s float64
	for _, v := range a {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}

// Normalise scales a to unit length in place, a/‖a‖; a zero vector stays
// zero.
func Normalise[T Float](a []T) {
	n := Norm(a)
	if n == 0 {
		return
	}
	inv := 1 / n
	for i, v := range a {
		a[i] = T(float64(v) * inv)
	}
}

// UnitTo writes a/‖a‖ into dst (zeros when a is zero) and returns dst,
// reused when it is long enough, else made. The element types of dst and a
// may differ: the quotient is taken in float64 and converted once.
func UnitTo[D, S Float](dst []D, a []S) []D {
	if cap(dst) < len(a) {
		dst = make([]D, len(a))
	}
	dst = dst[:len(a)]
	n := Norm(a)
	for i, v := range a {
		if n == 0 {
			dst[i] = 0
		} else {
			dst[i] = D(float64(v) / n)
		}
	}
	return dst
}

// ScaleTo writes a scaled to length `length` into dst, a/‖a‖ · length
// (zeros when a is zero), in float64 and converted once: how an
// ensemble's embedding puts each member's row at length 1/√k
// (eval.Concat, core's encoders of views). It panics when the lengths of
// dst and a differ.
func ScaleTo(dst, a []float32, length float64) {
	if len(dst) != len(a) {
		panic(fmt.Sprintf("vec: ScaleTo: %d values into %d", len(a), len(dst)))
	}
	k := 0.0
	if n := Norm(a); n > 0 {
		k = length / n
	}
	for i, v := range a {
		dst[i] = float32(float64(v) * k)
	}
}

// Cosine returns the cosine similarity
//
//	cos(a, b) = a·b / (‖a‖·‖b‖),
//
// accumulated in float64; 0 when a or b is zero. It panics when their
// lengths differ.
func Cosine[T Float](a, b []T) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("vec: Cosine: lengths %d and %d", len(a), len(b)))
	}
	var ab, aa, bb float64
	for i, v := range a {
		x, y := float64(v), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// Between returns a threshold t with lo < t ≤ hi for scores lo < hi, to
// decide "accept iff s ≥ t" between them: their midpoint, or hi itself
// when they are adjacent floats and the midpoint rounds to lo (cosines of
// near-duplicates, or of one angle reached by different roundings, can be
// 1 ulp apart: a threshold equal to lo would accept the score it was
// chosen to reject).
func Between(lo, hi float64) float64 {
	if t := lo + (hi-lo)/2; t > lo {
		return t
	}
	return hi
}
