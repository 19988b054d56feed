package eval

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"metriclab/core/vec"
)

// Embeddings is a set of N embeddings of dimension D with their class labels:
// row i is X[i·D : (i+1)·D] and belongs to class Labels[i].
type Embeddings struct {
	X      []float32 // N×D, row-major
	N, D   int
	Labels []int // length N
}

// Row returns row i of e, sharing memory with e.X.
func (e Embeddings) Row(i int) []float32 {
	if i < 0 || i >= e.N {
		panic("eval: row index out of range")
	}
	return e.X[i*e.D : (i+1)*e.D : (i+1)*e.D]
}

// check panics when the sizes of e disagree.
func (e Embeddings) check() {
	if e.N < 0 || e.D < 0 || len(e.X) != e.N*e.D {
		panic("eval: len(X) != N·D")
	}
	if len(e.Labels) != e.N {
		panic("eval: len(Labels) != N")
	}
}

// subset returns the rows idx of e as new Embeddings (copied).
func (e Embeddings) subset(idx []int) Embeddings {
	out := Embeddings{X: make([]float32, len(idx)*e.D), N: len(idx), D: e.D, Labels: make([]int, len(idx))}
	for r, i := range idx {
		copy(out.X[r*e.D:(r+1)*e.D], e.Row(i))
		out.Labels[r] = e.Labels[i]
	}
	return out
}

// classes returns the distinct labels of e in increasing order and, for each,
// the indices of its rows in increasing order.
func (e Embeddings) classes() (labels []int, members map[int][]int) {
	members = make(map[int][]int)
	for i, l := range e.Labels {
		if _, ok := members[l]; !ok {
			labels = append(labels, l)
		}
		members[l] = append(members[l], i)
	}
	slices.Sort(labels)
	return labels, members
}

// norm64 returns ‖a‖ accumulated in float64.
func norm64(a []float32) float64 { return vec.Norm(a) }

// normalizeTo writes a/‖a‖ to dst (float64) and returns dst; a zero vector
// stays zero.
func normalizeTo(dst []float64, a []float32) []float64 { return vec.UnitTo(dst[:len(a)], a) }

// Concat returns the ensemble of members, embeddings of the same images in
// the same order: every row of each member scaled to length 1/√k (k
// members) and the k rows concatenated, so that the cosine of two
// ensemble rows is the mean of the members' cosines. It returns an error
// when there are no members or when they are not of the same images (N or
// labels differ).
func Concat(members []Embeddings) (Embeddings, error) {
	if len(members) == 0 {
		return Embeddings{}, errors.New("eval: an ensemble of no embeddings")
	}
	first := members[0]
	d := 0
	for i, m := range members {
		m.check()
		if m.N != first.N {
			return Embeddings{}, fmt.Errorf("eval: ensemble member %d embeds %d images, member 0 %d: not the same images", i, m.N, first.N)
		}
		if !slices.Equal(m.Labels, first.Labels) {
			return Embeddings{}, fmt.Errorf("eval: ensemble member %d labels its images otherwise than member 0: not the same images", i)
		}
		d += m.D
	}
	out := Embeddings{X: make([]float32, first.N*d), N: first.N, D: d, Labels: slices.Clone(first.Labels)}
	scale := 1 / math.Sqrt(float64(len(members)))
	for r := range first.N {
		dst := out.X[r*d : (r+1)*d]
		for _, m := range members {
			vec.ScaleTo(dst[:m.D], m.Row(r), scale)
			dst = dst[m.D:]
		}
	}
	return out, nil
}
