package eval

import (
	"errors"
	"fmt"
	"math"

	"metriclab/core/vec"

	"gonum.org/v1/gonum/mat"
)

// Metric is a similarity between two embeddings of equal length: bigger
// means closer. Protocols only compare similarities, so a distance d enters
// as −d.
type Metric interface {
	Name() string
	Similarity(a, b []float32) float64
}

// Cosine is the cosine similarity
//
//	s(a, b) = a·b / (‖a‖‖b‖),  and s = 0 when a or b is the zero vector,
//
// accumulated in float64.
type Cosine struct{}

// Name returns "cosine".
func (Cosine) Name() string { return "cosine" }

// Similarity returns cos(a, b) (vec.Cosine).
func (Cosine) Similarity(a, b []float32) float64 {
	if len(a) != len(b) {
		panic("eval: cosine of vectors of different lengths")
	}
	return vec.Cosine(a, b)
}

// Euclidean is the negated euclidean distance
//
//	s(a, b) = −‖a − b‖,
//
// accumulated in float64.
type Euclidean struct{}

// Name returns "euclidean".
func (Euclidean) Name() string { return "euclidean" }

// Similarity returns −‖a − b‖.
func (Euclidean) Similarity(a, b []float32) float64 {
	if len(a) != len(b) {
		panic("eval: euclidean of vectors of different lengths")
	}
	var s float64
	for i, v := range a {
		d := float64(v) - float64(b[i])
		s += d * d
	}
	return -math.Sqrt(s)
}

// Mahalanobis is the negated Mahalanobis distance with M = WᵀW, W of shape
// k×D (Mahalanobis 1936; the factorised form of metric learning, Xing et al.
// 2002, Goldberger et al. 2004):
//
//	d_M(a, b)² = (a − b)ᵀ WᵀW (a − b) = ‖W(a − b)‖²,   s(a, b) = −d_M(a, b).
//
// With W = I it is Euclidean. W must not be nil.
type Mahalanobis struct{ W *mat.Dense }

// Name returns "mahalanobis".
func (Mahalanobis) Name() string { return "mahalanobis" }

// Similarity returns −‖W(a − b)‖, accumulated in float64.
func (m Mahalanobis) Similarity(a, b []float32) float64 {
	if m.W == nil {
		panic("eval: Mahalanobis with nil W")
	}
	k, d := m.W.Dims()
	if len(a) != d || len(b) != d {
		panic("eval: Mahalanobis: vector length != columns of W")
	}
	raw := m.W.RawMatrix()
	diff := make([]float64, d)
	for i := range diff {
		diff[i] = float64(a[i]) - float64(b[i])
	}
	var s float64
	for r := 0; r < k; r++ {
		row := raw.Data[r*raw.Stride : r*raw.Stride+d]
		var y float64
		for i, w := range row {
			y += w * diff[i]
		}
		s += y * y
	}
	return -math.Sqrt(s)
}

// ErrSingular is wrapped by the error of Whitening and WhiteningPCA when
// the within-class covariance, ridge added, is singular.
var ErrSingular = errors.New("covariance is singular")

// Whitening returns the Mahalanobis metric of within-class covariance
// normalisation (WCCN, Hatch et al. 2006): M = (Σ_w + ridge·I)⁻¹ with the
// pooled within-class covariance
//
//	Σ_w = 1/(N − C) · Σ_c Σ_{i∈c} (x_i − μ_c)(x_i − μ_c)ᵀ,
//
// and W = (Σ_w + ridge·I)^{−1/2} = V Λ^{−1/2} Vᵀ from the eigendecomposition
// of the symmetric matrix (gonum mat.EigenSym), so W is D×D and symmetric.
// After projection x → Wx the within-class covariance is the identity:
// distances count how many within-class standard deviations apart two
// embeddings are, which is what a verification threshold needs.
//
// The within-class (not the total) covariance is used because directions of
// large between-class spread are the useful ones and must not be shrunk.
// It returns an error when N ≤ C (no within-class degree of freedom), when
// the decomposition fails or when Σ_w + ridge·I is not positive definite
// (ErrSingular; pass ridge > 0 for rank-deficient data, e.g. 1e-6 times the
// mean variance).
func Whitening(e Embeddings, ridge float64) (Mahalanobis, error) {
	e.check()
	if ridge < 0 {
		panic("eval: negative ridge")
	}
	cov, err := withinClassCov(e)
	if err != nil {
		return Mahalanobis{}, err
	}
	w, err := whiten(cov, ridge)
	if err != nil {
		return Mahalanobis{}, err
	}
	return Mahalanobis{W: w}, nil
}

// whiten returns (cov + ridge·I)^{−1/2} = V Λ^{−1/2} Vᵀ, symmetric, from
// the eigendecomposition of cov + ridge·I (which it changes).
func whiten(cov *mat.SymDense, ridge float64) (*mat.Dense, error) {
	d := cov.SymmetricDim()
	for i := 0; i < d; i++ {
		cov.SetSym(i, i, cov.At(i, i)+ridge)
	}
	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
		return nil, errors.New("eval: whitening: eigendecomposition failed")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	// Relative floor: eigenvalues at round-off level of the largest are zero.
	maxv := 0.0
	for _, v := range vals {
		maxv = math.Max(maxv, v)
	}
	for i, v := range vals {
		if !(v > 1e-12*maxv) {
			return nil, fmt.Errorf("eval: whitening: %w (eigenvalue %d = %g): the data do not vary in some direction (a ridge > 0 regularises it)", ErrSingular, i, v)
		}
	}
	// W = V diag(λ^{-1/2}) Vᵀ.
	scaled := mat.NewDense(d, d, nil)
	scaled.Copy(&vecs)
	for j, v := range vals {
		f := 1 / math.Sqrt(v)
		for i := 0; i < d; i++ {
			scaled.Set(i, j, scaled.At(i, j)*f)
		}
	}
	w := mat.NewDense(d, d, nil)
	w.Mul(scaled, vecs.T())
	return w, nil
}

// WhiteningPCA returns the Mahalanobis metric of principal component
// analysis followed by within-class whitening, the classic baseline of face
// verification (eigenfaces, Turk & Pentland 1991, then WCCN): P (k×D) holds
// the k leading principal axes of e (eigenvectors of the total covariance,
// largest eigenvalue first), Σ_k is the pooled within-class covariance of
// the projections Px (see Whitening), and
//
//	W = (Σ_k + r·I)^{−1/2} P,   r = ridge · tr(Σ_k)/k,
//
// so the ridge is relative to the mean within-class variance. PCA first
// keeps the whitening off the many directions of raw pixels whose variance
// is mostly noise: whitened, they would count as much as the strokes of a
// digit or the eyes of a face. It returns Whitening's errors, and an error
// when k is not in [1, D].
func WhiteningPCA(e Embeddings, k int, ridge float64) (Mahalanobis, error) {
	e.check()
	if k < 1 || k > e.D {
		return Mahalanobis{}, fmt.Errorf("eval: PCA to %d components of %d-D embeddings: want 1 ≤ k ≤ D", k, e.D)
	}
	if ridge < 0 {
		panic("eval: negative ridge")
	}
	p, err := pcaAxes(e, k)
	if err != nil {
		return Mahalanobis{}, err
	}
	pe := Project(nil, e, Mahalanobis{W: p})
	cov, err := withinClassCov(pe)
	if err != nil {
		return Mahalanobis{}, err
	}
	var tr float64
	for i := range k {
		tr += cov.At(i, i)
	}
	w, err := whiten(cov, ridge*tr/float64(k))
	if err != nil {
		return Mahalanobis{}, err
	}
	var wp mat.Dense
	wp.Mul(w, p)
	return Mahalanobis{W: &wp}, nil
}

// pcaAxes returns the k leading principal axes of e as the rows of a k×D
// matrix: the eigenvectors of the total covariance, largest eigenvalue
// first. With fewer embeddings than dimensions (raw pixels of a few
// hundred faces: N = 200, D = 2304) and k below N, it takes them from the
// N×N Gram matrix (pcaAxesGram), in O(N²D) time and O(N²) memory where
// the D×D covariance takes O(ND² + D³) and O(D²): at 3×112×112 that
// matrix alone is 11 GB.
func pcaAxes(e Embeddings, k int) (*mat.Dense, error) {
	if e.N < e.D {
		if w, ok := pcaAxesGram(e, k); ok {
			return w, nil
		}
	}
	return pcaAxesCov(e, k)
}

// pcaAxesGram is pcaAxes from the Gram matrix G = X̄X̄ᵀ/N of the centred
// embeddings X̄ (N×D): G and the covariance X̄ᵀX̄/N share their nonzero
// eigenvalues, and u, an eigenvector of G, gives the covariance's X̄ᵀu. ok
// is false for k ≥ N, when the factorisation fails, or when the k-th
// eigenvalue is not clearly above zero (the axis would be noise of the
// rounding).
func pcaAxesGram(e Embeddings, k int) (w *mat.Dense, ok bool) {
	if k >= e.N { // centred, N embeddings span N − 1 dimensions at most
		return nil, false
	}
	x := centred(e)
	var g mat.SymDense
	g.SymOuterK(1/float64(e.N), x)
	var eig mat.EigenSym
	if !eig.Factorize(&g, true) {
		return nil, false
	}
	vals := eig.Values(nil) // ascending
	if vals[e.N-k] <= 1e-9*vals[e.N-1] {
		return nil, false
	}
	var u mat.Dense
	eig.VectorsTo(&u)
	lead := u.Slice(0, e.N, e.N-k, e.N) // the k leading eigenvectors, in ascending order
	var axes mat.Dense
	axes.Mul(lead.T(), x) // k×D, row i ∝ (X̄ᵀu)ᵀ
	w = mat.NewDense(k, e.D, nil)
	for i := range k {
		row := axes.RawRowView(k - 1 - i) // largest eigenvalue first
		w.SetRow(i, row)
		v := w.RowView(i).(*mat.VecDense)
		v.ScaleVec(1/mat.Norm(v, 2), v)
	}
	return w, true
}

// centred returns the embeddings of e less their mean, N×D.
func centred(e Embeddings) *mat.Dense {
	x := mat.NewDense(e.N, e.D, nil)
	mu := mean(e)
	for n := range e.N {
		for i, v := range e.Row(n) {
			x.Set(n, i, float64(v)-mu[i])
		}
	}
	return x
}

// pcaAxesCov is pcaAxes from the D×D total covariance: the reference of
// pcaAxesGram, and the way for as many embeddings as dimensions or more.
func pcaAxesCov(e Embeddings, k int) (*mat.Dense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(totalCov(e), true) {
		return nil, errors.New("eval: PCA eigendecomposition failed")
	}
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	// Eigenvalues are ascending: the leading axes are the last columns.
	w := mat.NewDense(k, e.D, nil)
	for i := 0; i < k; i++ {
		for c := 0; c < e.D; c++ {
			w.Set(i, c, vecs.At(c, e.D-1-i))
		}
	}
	return w, nil
}

// withinClassCov returns the pooled within-class covariance Σ_w of e
// (see Whitening), accumulated in float64.
func withinClassCov(e Embeddings) (*mat.SymDense, error) {
	labels, members := e.classes()
	if e.N-len(labels) <= 0 {
		return nil, fmt.Errorf("eval: within-class covariance needs more samples than classes (N=%d, C=%d)", e.N, len(labels))
	}
	d := e.D
	acc := make([]float64, d*d)
	mu := make([]float64, d)
	diff := make([]float64, d)
	for _, l := range labels {
		idx := members[l]
		for i := range mu {
			mu[i] = 0
		}
		for _, r := range idx {
			for i, v := range e.Row(r) {
				mu[i] += float64(v)
			}
		}
		for i := range mu {
			mu[i] /= float64(len(idx))
		}
		for _, r := range idx {
			for i, v := range e.Row(r) {
				diff[i] = float64(v) - mu[i]
			}
			for i := 0; i < d; i++ {
				di := diff[i]
				row := acc[i*d : (i+1)*d]
				for j := i; j < d; j++ {
					row[j] += di * diff[j]
				}
			}
		}
	}
	cov := mat.NewSymDense(d, nil)
	den := float64(e.N - len(labels))
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			cov.SetSym(i, j, acc[i*d+j]/den)
		}
	}
	return cov, nil
}

// Project maps every embedding x of e to Wx (k×D times D) and returns the
// projected Embeddings (N×k, same labels, sharing e.Labels), whose X is dst.
// If dst is nil it is allocated; otherwise len(dst) must be N·k. Euclidean
// on the projection equals m on e. Products accumulate in float64.
func Project(dst []float32, e Embeddings, m Mahalanobis) Embeddings {
	e.check()
	if m.W == nil {
		panic("eval: Project with nil W")
	}
	k, d := m.W.Dims()
	if d != e.D {
		panic("eval: Project: columns of W != D")
	}
	if dst == nil {
		dst = make([]float32, e.N*k)
	}
	if len(dst) != e.N*k {
		panic("eval: Project: len(dst) != N·k")
	}
	raw := m.W.RawMatrix()
	for n := 0; n < e.N; n++ {
		x := e.Row(n)
		out := dst[n*k : (n+1)*k]
		for r := 0; r < k; r++ {
			row := raw.Data[r*raw.Stride : r*raw.Stride+d]
			var y float64
			for i, w := range row {
				y += w * float64(x[i])
			}
			out[r] = float32(y)
		}
	}
	return Embeddings{X: dst, N: e.N, D: k, Labels: e.Labels}
}
