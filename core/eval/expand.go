package eval

import (
	"container/heap"
	"runtime"
	"slices"

	"metriclab/core/vec"
)

// Expand returns the database-side augmentation of e (Arandjelović and
// Zisserman 2012; Gordo et al. 2017, DBA): every row replaced by the mean of
// the unit rows of its k nearest rows by cosine, itself among them, scaled
// to length 1:
//
//	x̂_i = x_i / ‖x_i‖,   y_i = Σ_{j ∈ N_k(i)} x̂_j,   e'_i = y_i / ‖y_i‖,
//
// where N_k(i) holds the k rows of largest cos(x_i, x_j), ties to the lower
// index (i itself has cosine 1; a zero row has cosine 0 with every row and
// stays zero), summed in index order. The labels are kept and never read: it is
// transductive, each embedding moved towards its neighbours among the
// others, unlabelled, so that a class whose images spread along a curve
// (two ways of writing a 7) draws together. A row whose sum is zero is
// zero. Sums accumulate in float64; k is clamped to N. It panics when k < 1.
// Similarities come from one GEMM per block of rows (eachSimilarityRow);
// rows are spread over GOMAXPROCS goroutines and the result does not depend
// on their number. expandRef in the tests is the pair-by-pair reference.
//
// progress, when not nil, is called with the rows done and e.N, as
// Options.Progress with retrieval's queries: its N×N similarities take
// about as long as retrieval's.
func Expand(e Embeddings, k int, progress func(done, total int)) Embeddings {
	e.check()
	if k < 1 {
		panic("eval: Expand needs k ≥ 1")
	}
	k = min(k, e.N)
	unit := make([]float64, e.N*e.D)
	for i := range e.N {
		normalizeTo(unit[i*e.D:], e.Row(i))
	}
	out := Embeddings{X: make([]float32, e.N*e.D), N: e.N, D: e.D, Labels: append([]int(nil), e.Labels...)}
	workers := runtime.GOMAXPROCS(0)
	heaps := make([]nearest, workers)
	sums := make([][]float64, workers)
	for w := range sums {
		sums[w] = make([]float64, e.D)
	}
	eachSimilarityRowParallel(e, e, Cosine{}, workers, func(w, i int, row []float64) {
		if vec.Norm(e.Row(i)) == 0 {
			return // a zero row has no nearest: it stays zero
		}
		h := &heaps[w]
		h.top(row, k)
		slices.Sort(h.idx) // summed in index order: equal sets, equal sums
		sum := sums[w]
		clear(sum)
		for _, j := range h.idx {
			for t, v := range unit[j*e.D : (j+1)*e.D] {
				sum[t] += v
			}
		}
		vec.UnitTo(out.X[i*e.D:(i+1)*e.D], sum)
	}, rowsProgress(progress, e.N))
	return out
}

// nearest is a min-heap of row indices by (similarity, −index): its root is
// the worst of the k best seen, the one a better row replaces.
type nearest struct {
	idx []int
	sim []float64 // the similarity row being ranked
}

// top leaves in h.idx the k indices of row's largest values, ties to the
// lower index, in heap order.
func (h *nearest) top(row []float64, k int) {
	h.idx, h.sim = h.idx[:0], row
	for j := range row {
		if len(h.idx) < k {
			heap.Push(h, j)
		} else if h.better(j, h.idx[0]) {
			h.idx[0] = j
			heap.Fix(h, 0)
		}
	}
}

// better reports whether row a ranks before row b: a larger similarity, or
// an equal one at a lower index.
func (h *nearest) better(a, b int) bool {
	if h.sim[a] != h.sim[b] {
		return h.sim[a] > h.sim[b]
	}
	return a < b
}

func (h *nearest) Len() int           { return len(h.idx) }
func (h *nearest) Less(a, b int) bool { return h.better(h.idx[b], h.idx[a]) }
func (h *nearest) Swap(a, b int)      { h.idx[a], h.idx[b] = h.idx[b], h.idx[a] }
func (h *nearest) Push(x any)         { h.idx = append(h.idx, x.(int)) }
func (h *nearest) Pop() any {
	x := h.idx[len(h.idx)-1]
	h.idx = h.idx[:len(h.idx)-1]
	return x
}
