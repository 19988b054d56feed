package eval

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
)

// RetrievalReport is the outcome of leave-one-out retrieval (see Retrieval);
// fractions in [0, 1].
type RetrievalReport struct {
	PrecisionAt1 float64 `json:"precision_at_1"`
	RPrecision   float64 `json:"r_precision"`
	MAPAtR       float64 `json:"map_at_r"`
}

// Retrieval evaluates leave-one-out retrieval over all of e: every
// embedding is a query against all the others. It is RetrievalQueries with
// every row as a query.
func Retrieval(e Embeddings, m Metric) RetrievalReport {
	q := make([]int, e.N)
	for i := range q {
		q[i] = i
	}
	return RetrievalQueries(e, m, q)
}

// RetrievalQueries evaluates retrieval as in Musgrave, Belongie & Lim 2020,
// "A Metric Learning Reality Check", §3.2, for the query rows queries of e
// against the whole of e minus the query itself. For a query q of class y,
// with R = #{j ≠ q : label_j = y} and the others ranked by decreasing
// similarity, rel(i) = 1 when the i-th is of
// class y and P(i) = (1/i) Σ_{k≤i} rel(k):
//
//	P@1        = rel(1),
//	R-precision = (1/R) Σ_{i≤R} rel(i),
//	MAP@R      = (1/R) Σ_{i≤R} P(i)·rel(i),
//
// each averaged over the queries with R ≥ 1 (a query alone in its class is
// skipped, as in pytorch-metric-learning's AccuracyCalculator). Ties are
// broken against the query: among equal similarities the non-relevant items
// rank first, so collapsed embeddings (all equal) earn nothing from the
// order of the rows. Only the top R neighbours are ranked: a partial
// selection (three-way quickselect) finds them in O(N) per query and only
// those R similarities are sorted. Queries are spread over GOMAXPROCS
// goroutines; the result does not depend on their number. Similarities come in
// blocks from one GEMM per block for Cosine, Euclidean and Mahalanobis (see
// eachSimilarityRow): 10,000 × 64 cosine embeddings take a few seconds.
func RetrievalQueries(e Embeddings, m Metric, queries []int) RetrievalReport {
	return retrievalQueries(e, m, queries, nil)
}

// retrievalQueries is RetrievalQueries, calling progress (when not nil)
// with the queries ranked and their number, before the first and after
// each of about twenty blocks of them (eachSimilarityRowParallel), from
// the calling goroutine: the N×N similarities of every image a query take
// a while (20 s for MNIST's 10,000 test images as raw pixels on two
// cores).
func retrievalQueries(e Embeddings, m Metric, queries []int, progress func(done, total int)) RetrievalReport {
	e.check()
	for _, q := range queries {
		if q < 0 || q >= e.N {
			panic("eval: RetrievalQueries: query index out of range")
		}
	}
	count := make(map[int]int)
	for _, l := range e.Labels {
		count[l]++
	}
	qe := e.subset(queries)
	// Per-query results, summed in query order at the end so that the
	// report does not depend on the number of workers.
	p1 := make([]float64, len(queries))
	rp := make([]float64, len(queries))
	ap := make([]float64, len(queries))
	used := make([]bool, len(queries))
	workers := runtime.GOMAXPROCS(0)
	rankers := make([]ranker, workers)
	ranked := rowsProgress(progress, len(queries))
	eachSimilarityRowParallel(qe, e, m, workers, func(w, qi int, row []float64) {
		q := queries[qi]
		r := count[e.Labels[q]] - 1
		if r < 1 {
			return
		}
		p1[qi], rp[qi], ap[qi] = rankers[w].scores(row, q, r, e.Labels)
		used[qi] = true
	}, ranked)
	var rep RetrievalReport
	n := 0
	for qi, u := range used {
		if u {
			rep.PrecisionAt1 += p1[qi]
			rep.RPrecision += rp[qi]
			rep.MAPAtR += ap[qi]
			n++
		}
	}
	if n > 0 {
		rep.PrecisionAt1 /= float64(n)
		rep.RPrecision /= float64(n)
		rep.MAPAtR /= float64(n)
	}
	return rep
}

// SampleQueries returns the query rows of RetrievalQueries for labels, in
// increasing order: every row when max ≤ 0, or when max is at least the
// number of rows whose class has another row; else max of those rows,
// drawn by a seeded shuffle. A row alone in its class is never drawn:
// RetrievalQueries skips it, and a draw of such rows reported on none.
// With every class of two rows or more, the draw is that of all rows, as
// it always was. It is the query subsample of Evaluate's
// Options.MaxQueries.
func SampleQueries(labels []int, max int, seed int64) []int {
	all := make([]int, len(labels))
	for i := range all {
		all[i] = i
	}
	if max <= 0 {
		return all
	}
	count := make(map[int]int)
	for _, l := range labels {
		count[l]++
	}
	idx := slices.DeleteFunc(slices.Clone(all), func(i int) bool { return count[labels[i]] < 2 })
	if max >= len(idx) {
		return all
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x853c49e6748fea9b))
	for i := 0; i < max; i++ {
		j := i + rng.IntN(len(idx)-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	idx = idx[:max]
	slices.Sort(idx)
	return idx
}

// ranker holds the scratch space of scores between queries.
type ranker struct {
	vals, rel, irr []float64
}

// scores returns rel(1), (1/R) Σ_{i≤R} rel(i) and (1/R) Σ_{i≤R} P(i)·rel(i)
// for the query at row self of the similarity row, ranking the others by
// decreasing similarity with ties broken against the query (see
// RetrievalQueries). Only the top r are ranked:
//
//  1. v = the r-th largest similarity (quickselect on a copy, self excluded);
//  2. the top r are every item above v, then items equal to v, non-relevant
//     ones first;
//  3. with the relevant similarities sorted decreasing, s₁ ≥ s₂ ≥ …, the
//     k-th relevant item sits at position i_k = k + #{non-relevant in the
//     top r with similarity ≥ s_k}, and P(i_k) = k / i_k.
func (rk *ranker) scores(row []float64, self, r int, labels []int) (p1, rprec, mapr float64) {
	y := labels[self]
	rk.vals = append(rk.vals[:0], row...)
	rk.vals[self] = math.Inf(-1) // below everything: never selected, as r ≤ N−1
	v := selectKthLargest(rk.vals, r)
	rk.rel, rk.irr = rk.rel[:0], rk.irr[:0]
	tiedRel := 0
	for j, s := range row {
		switch {
		case j == self:
		case s > v && labels[j] == y:
			rk.rel = append(rk.rel, s)
		case s > v:
			rk.irr = append(rk.irr, s)
		case s == v && labels[j] == y:
			tiedRel++
		case s == v:
			if len(rk.rel)+len(rk.irr) < r { // provisional: trimmed below
				rk.irr = append(rk.irr, s)
			}
		}
	}
	// Items above v number < r; fill with tied non-relevant first, then tied
	// relevant.
	above := 0
	for _, s := range rk.irr {
		if s > v {
			above++
		}
	}
	above += len(rk.rel)
	slots := r - above
	tiedIrr := len(rk.irr) - (above - len(rk.rel))
	// Drop surplus tied non-relevant entries.
	if tiedIrr > slots {
		drop := tiedIrr - slots
		out := rk.irr[:0]
		for _, s := range rk.irr {
			if s == v && drop > 0 {
				drop--
				continue
			}
			out = append(out, s)
		}
		rk.irr = out
		tiedIrr = slots
	}
	for k := 0; k < min(tiedRel, slots-tiedIrr); k++ {
		rk.rel = append(rk.rel, v)
	}
	slices.Sort(rk.rel)
	slices.Sort(rk.irr)
	// Walk relevant items from the highest; irr ascending, so the count of
	// non-relevant ≥ s is len(irr) − (index of first element ≥ s).
	var ap float64
	for k := 1; k <= len(rk.rel); k++ {
		s := rk.rel[len(rk.rel)-k]
		lo, _ := slices.BinarySearch(rk.irr, s)
		pos := k + len(rk.irr) - lo
		ap += float64(k) / float64(pos)
		if pos == 1 {
			p1 = 1
		}
	}
	return p1, float64(len(rk.rel)) / float64(r), ap / float64(r)
}

// selectKthLargest returns the k-th largest value of a (1 ≤ k ≤ len(a)),
// reordering a: three-way quickselect with a median-of-three pivot, linear
// on average and also when many values are equal.
func selectKthLargest(a []float64, k int) float64 {
	lo, hi := 0, len(a) // a[lo:hi] holds the answer at rank k−1 (descending)
	k--
	for hi-lo > 1 {
		p := median3(a[lo], a[lo+(hi-lo)/2], a[hi-1])
		// Partition a[lo:hi] into > p, == p, < p.
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch {
			case a[i] > p:
				a[lt], a[i] = a[i], a[lt]
				lt++
				i++
			case a[i] < p:
				gt--
				a[gt], a[i] = a[i], a[gt]
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt
		case k >= gt:
			lo = gt
		default:
			return p
		}
	}
	return a[lo]
}

func median3(a, b, c float64) float64 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	if a > b {
		return a
	}
	return b
}
