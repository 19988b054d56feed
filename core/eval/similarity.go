package eval

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// progressParts is how many reports of its progress a similarity matrix
// with one gives (eachSimilarityRowParallel): about one for each 5 %.
const progressParts = 20

// blockFloats bounds the size of one block of the similarity matrix (in
// float64s, 32 MiB) that eachSimilarityRow holds at a time.
const blockFloats = 1 << 22

// eachSimilarityRow calls fn(i, row) for every row i of q in order, with
// row[j] = m.Similarity(q_i, db_j); row is reused between calls. It is
// eachSimilarityRowParallel with one worker.
func eachSimilarityRow(q, db Embeddings, m Metric, fn func(i int, row []float64)) {
	eachSimilarityRowParallel(q, db, m, 1, func(_, i int, row []float64) { fn(i, row) }, nil)
}

// eachSimilarityRowParallel calls fn(w, i, row) for every row i of q, with
// row[j] = m.Similarity(q_i, db_j). With workers > 1 the rows of a block are
// shared among that many goroutines (w = 0..workers−1 says which one calls),
// so fn must only write state owned by w or by row i.
//
// For Cosine, Euclidean and Mahalanobis it computes the matrix in blocks of
// query rows with one float64 GEMM per block (gonum BLAS):
//
//	cosine:     S = Q̂ B̂ᵀ on L2-normalised rows;
//	euclidean:  S_ij = −√max(0, ‖q_i‖² + ‖b_j‖² − 2 q_i·b_j);
//	Mahalanobis: euclidean on the rows projected by W.
//
// These agree with Similarity up to float64 rounding (the expanded euclidean
// form loses relative precision for nearly identical vectors). Any other
// Metric is evaluated pair by pair by similarityRowsSlow, the reference.
//
// progress, when not nil, is called from the calling goroutine with the
// rows done, after each block, blocks being then of at most a
// progressParts-th of q's rows (the database prepared once for all).
func eachSimilarityRowParallel(q, db Embeddings, m Metric, workers int, fn func(w, i int, row []float64), progress func(done int)) {
	if q.D != db.D {
		panic("eval: query and database dimensions differ")
	}
	workers = max(1, workers)
	part := q.N
	if progress != nil {
		part = max(1, (q.N+progressParts-1)/progressParts)
	}
	slow := func(i int, row []float64) {
		fn(0, i, row)
		if progress != nil && ((i+1)%part == 0 || i+1 == q.N) {
			progress(i + 1)
		}
	}
	if q.D == 0 {
		similarityRowsSlow(q, db, m, slow)
		return
	}
	var qm, bm blas64.General
	var euclid bool
	switch mm := m.(type) {
	case Cosine:
		qm, bm = normalisedMatrix(q), normalisedMatrix(db)
	case *Cosine:
		qm, bm = normalisedMatrix(q), normalisedMatrix(db)
	case Euclidean, *Euclidean:
		qm, bm, euclid = rawMatrix(q), rawMatrix(db), true
	case Mahalanobis:
		qm, bm, euclid = projectedMatrix(q, mm), projectedMatrix(db, mm), true
	case *Mahalanobis:
		qm, bm, euclid = projectedMatrix(q, *mm), projectedMatrix(db, *mm), true
	default:
		similarityRowsSlow(q, db, m, slow)
		return
	}
	nq, nb := q.N, db.N
	if nq == 0 || nb == 0 {
		if nb == 0 {
			for i := 0; i < nq; i++ {
				fn(0, i, nil)
			}
		}
		return
	}
	var qsq, bsq []float64
	if euclid {
		qsq, bsq = rowSquares(qm), rowSquares(bm)
	}
	bq := max(1, min(nq, blockFloats/nb, part))
	buf := make([]float64, bq*nb)
	for start := 0; start < nq; start += bq {
		rows := min(bq, nq-start)
		c := blas64.General{Rows: rows, Cols: nb, Stride: nb, Data: buf[:rows*nb]}
		a := blas64.General{Rows: rows, Cols: qm.Cols, Stride: qm.Stride, Data: qm.Data[start*qm.Stride:]}
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, a, bm, 0, c)
		finish := func(w, r int) {
			row := c.Data[r*nb : (r+1)*nb]
			if euclid {
				qs := qsq[start+r]
				for j, dot := range row {
					row[j] = -math.Sqrt(math.Max(0, qs+bsq[j]-2*dot))
				}
			}
			fn(w, start+r, row)
		}
		if workers == 1 {
			for r := 0; r < rows; r++ {
				finish(0, r)
			}
		} else {
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for r := w; r < rows; r += workers {
						finish(w, r)
					}
				}()
			}
			wg.Wait()
		}
		if progress != nil {
			progress(start + rows)
		}
	}
}

// rowsProgress is progress (done of total, as Options.Progress), told
// now that none is done, as eachSimilarityRowParallel's progress: nil
// when progress is.
func rowsProgress(progress func(done, total int), total int) func(done int) {
	if progress == nil {
		return nil
	}
	progress(0, total)
	return func(done int) { progress(done, total) }
}

// similarityRowsSlow is the pair-by-pair reference of eachSimilarityRow.
func similarityRowsSlow(q, db Embeddings, m Metric, fn func(i int, row []float64)) {
	row := make([]float64, db.N)
	for i := 0; i < q.N; i++ {
		a := q.Row(i)
		for j := range row {
			row[j] = m.Similarity(a, db.Row(j))
		}
		fn(i, row)
	}
}

// rawMatrix returns e.X as a float64 N×D matrix.
func rawMatrix(e Embeddings) blas64.General {
	d := max(e.D, 1)
	g := blas64.General{Rows: e.N, Cols: e.D, Stride: d, Data: make([]float64, e.N*d)}
	for i, v := range e.X {
		g.Data[i] = float64(v)
	}
	return g
}

// normalisedMatrix returns the L2-normalised rows of e as a float64 matrix
// (zero rows stay zero, so their cosine is 0 as in Cosine).
func normalisedMatrix(e Embeddings) blas64.General {
	g := rawMatrix(e)
	for i := 0; i < e.N; i++ {
		normalizeTo(g.Data[i*g.Stride:i*g.Stride+e.D], e.Row(i))
	}
	return g
}

// projectedMatrix returns the rows of e mapped by m.W (N×k, float64).
func projectedMatrix(e Embeddings, m Mahalanobis) blas64.General {
	if m.W == nil {
		panic("eval: Mahalanobis with nil W")
	}
	k, d := m.W.Dims()
	if d != e.D {
		panic("eval: Mahalanobis: columns of W != D")
	}
	x := rawMatrix(e)
	out := blas64.General{Rows: e.N, Cols: k, Stride: max(k, 1), Data: make([]float64, e.N*max(k, 1))}
	if e.N > 0 && e.D > 0 && k > 0 {
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, x, m.W.RawMatrix(), 0, out)
	}
	return out
}

// rowSquares returns ‖row_i‖² of g.
func rowSquares(g blas64.General) []float64 {
	out := make([]float64, g.Rows)
	for i := range out {
		var s float64
		for _, v := range g.Data[i*g.Stride : i*g.Stride+g.Cols] {
			s += v * v
		}
		out[i] = s
	}
	return out
}
