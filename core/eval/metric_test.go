package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestMetrics(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Metric
		a, b []float32
		want float64
		tol  float64
	}{
		// cos 90° = 0.
		{"cosine orthogonal", Cosine{}, []float32{1, 0}, []float32{0, 3}, 0, 1e-15},
		// cos 45° = 1/√2, the scale of b does not matter.
		{"cosine 45°", Cosine{}, []float32{1, 0}, []float32{2, 2}, 1 / math.Sqrt2, 1e-15},
		// a zero vector has cosine 0 by convention.
		{"cosine zero", Cosine{}, []float32{0, 0}, []float32{1, 2}, 0, 0},
		// 3-4-5 triangle.
		{"euclidean 3-4-5", Euclidean{}, []float32{1, 1}, []float32{4, 5}, -5, 1e-15},
		// W = diag(2, 0): only the first coordinate counts, doubled.
		{"mahalanobis diag", Mahalanobis{W: mat.NewDense(2, 2, []float64{2, 0, 0, 0})}, []float32{1, 1}, []float32{4, 5}, -6, 1e-15},
		// W = [1 1] (k=1): |(3+4)| = 7.
		{"mahalanobis 1×2", Mahalanobis{W: mat.NewDense(1, 2, []float64{1, 1})}, []float32{1, 1}, []float32{4, 5}, -7, 1e-15},
	} {
		if got := tc.m.Similarity(tc.a, tc.b); math.Abs(got-tc.want) > tc.tol {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMahalanobisIdentityIsEuclidean(t *testing.T) {
	e := randomEmbeddings(50, 7, 3, 1)
	id := mat.NewDense(7, 7, nil)
	for i := 0; i < 7; i++ {
		id.Set(i, i, 1)
	}
	m := Mahalanobis{W: id}
	for i := 0; i < e.N; i++ {
		for j := 0; j < e.N; j++ {
			got, want := m.Similarity(e.Row(i), e.Row(j)), Euclidean{}.Similarity(e.Row(i), e.Row(j))
			if math.Abs(got-want) > 1e-12 {
				t.Fatalf("pair %d,%d: mahalanobis(I) %v != euclidean %v", i, j, got, want)
			}
		}
	}
	// The projection by I is the data itself, and euclidean on a projection is
	// the Mahalanobis similarity.
	w := mat.NewDense(3, 7, nil)
	rng := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < 3; i++ {
		for j := 0; j < 7; j++ {
			w.Set(i, j, rng.NormFloat64())
		}
	}
	p := Project(nil, e, Mahalanobis{W: w})
	if p.D != 3 || p.N != e.N {
		t.Fatalf("projection shape %d×%d", p.N, p.D)
	}
	got := Euclidean{}.Similarity(p.Row(1), p.Row(2))
	want := Mahalanobis{W: w}.Similarity(e.Row(1), e.Row(2))
	if math.Abs(got-want) > 1e-5*math.Abs(want) {
		t.Errorf("euclidean on projection %v != mahalanobis %v", got, want)
	}
}

// TestWhitening checks that the within-class covariance of the whitened data
// is the identity: W Σ_w Wᵀ = I by construction (ridge 0).
func TestWhitening(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n, d, c = 600, 4, 3
	mix := [d * d]float64{3, 0, 0, 0, 1, 0.5, 0, 0, 2, -1, 4, 0, 0, 0, 1, 0.1}
	e := Embeddings{X: make([]float32, n*d), N: n, D: d, Labels: make([]int, n)}
	for i := 0; i < n; i++ {
		e.Labels[i] = i % c
		z := make([]float64, d)
		for j := range z {
			z[j] = rng.NormFloat64()
		}
		for r := 0; r < d; r++ {
			v := 20 * float64(i%c) // class means far apart along every axis
			for j := 0; j < d; j++ {
				v += mix[r*d+j] * z[j]
			}
			e.X[i*d+r] = float32(v)
		}
	}
	m, err := Whitening(e, 0)
	if err != nil {
		t.Fatal(err)
	}
	cov, err := withinClassCov(Project(nil, e, m))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			want := 0.0
			if i == j {
				want = 1
			}
			// float32 storage of the projection: relative error ~1e-7.
			if got := cov.At(i, j); math.Abs(got-want) > 1e-4 {
				t.Errorf("cov[%d,%d] = %v, want %v", i, j, got, want)
			}
		}
	}
	// A singular covariance (a constant coordinate) is an error without a ridge
	// and fine with one.
	for i := 0; i < n; i++ {
		e.X[i*d+3] = 1
	}
	if _, err := Whitening(e, 0); err == nil {
		t.Error("singular covariance: no error")
	}
	if _, err := Whitening(e, 1e-3); err != nil {
		t.Errorf("ridge 1e-3: %v", err)
	}
}

// TestWhiteningPCA: on data whose class signal lies along axis 0 (class
// means 0, 4, 8, within-class sd 1), with unit noise along axis 1 and a
// tiny noise along 30 more axes (sd 1e-3, as pixels that barely vary),
// plain whitening blows the tiny axes up to the size of the signal, 30
// axes of noise against one of signal, while PCA to the 2 leading axes
// drops them first: verification on fresh data of the same kind is far
// better with the latter. With k = D and no ridge, WhiteningPCA is
// Whitening (W differs by a rotation only: equal distances), and k out of
// range is an error.
func TestWhiteningPCA(t *testing.T) {
	const d = 32
	sample := func(seed uint64) Embeddings {
		rng := rand.New(rand.NewPCG(seed, 9))
		const n = 900
		e := Embeddings{X: make([]float32, n*d), N: n, D: d, Labels: make([]int, n)}
		for i := range n {
			c := i % 3
			e.Labels[i] = c
			e.X[i*d] = float32(4*float64(c) + rng.NormFloat64())
			e.X[i*d+1] = float32(rng.NormFloat64())
			for j := 2; j < d; j++ {
				e.X[i*d+j] = float32(1e-3 * rng.NormFloat64())
			}
		}
		return e
	}
	fit, test := sample(1), sample(2)
	folds := Pairs(test.Labels, 10, 100, 3)
	plain, err := Whitening(fit, 0)
	if err != nil {
		t.Fatal(err)
	}
	pca, err := WhiteningPCA(fit, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if k, dd := pca.W.Dims(); k != 2 || dd != d {
		t.Fatalf("W is %d×%d, want 2×%d", k, dd, d)
	}
	plainAcc, pcaAcc := Verification(test, plain, folds).Accuracy, Verification(test, pca, folds).Accuracy
	t.Logf("verification: whitening %.3f, PCA then whitening %.3f", plainAcc, pcaAcc)
	// Pairs differ by N(0, 2) along each kept axis, plus 4 or 8 along axis 0
	// between classes: about 0.87 at the best threshold with 2 axes, about
	// 0.72 with 32.
	if pcaAcc < 0.82 || pcaAcc-plainAcc < 0.1 {
		t.Errorf("verification: whitening %.3f, PCA then whitening %.3f; want > 0.82 and 0.1 above", plainAcc, pcaAcc)
	}
	full, err := WhiteningPCA(fit, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 20; i++ {
		got, want := full.Similarity(test.Row(0), test.Row(i)), plain.Similarity(test.Row(0), test.Row(i))
		if math.Abs(got-want) > 1e-6*math.Abs(want) {
			t.Errorf("k = D: distance to %d is %g, whitening's %g", i, got, want)
		}
	}
	for _, k := range []int{0, d + 1} {
		if _, err := WhiteningPCA(fit, k, 0); err == nil {
			t.Errorf("k = %d: no error", k)
		}
	}
}

// TestSimilarityRowsFastMatchesSlow compares the GEMM blocks with the
// pair-by-pair reference.
func TestSimilarityRowsFastMatchesSlow(t *testing.T) {
	q := randomEmbeddings(37, 5, 3, 7)
	db := randomEmbeddings(53, 5, 3, 8)
	q.X[0], q.X[1], q.X[2], q.X[3], q.X[4] = 0, 0, 0, 0, 0 // a zero row
	w := mat.NewDense(2, 5, []float64{1, 2, 0, -1, 0.5, 0, 1, 1, 1, 3})
	for _, m := range []Metric{Cosine{}, Euclidean{}, Mahalanobis{W: w}} {
		ref := make([][]float64, q.N)
		similarityRowsSlow(q, db, m, func(i int, row []float64) { ref[i] = append([]float64(nil), row...) })
		seen := 0
		eachSimilarityRow(q, db, m, func(i int, row []float64) {
			seen++
			for j, v := range row {
				if d := math.Abs(v - ref[i][j]); d > 1e-9+1e-9*math.Abs(ref[i][j]) {
					t.Fatalf("%s [%d,%d]: fast %v, slow %v", m.Name(), i, j, v, ref[i][j])
				}
			}
		})
		if seen != q.N {
			t.Errorf("%s: %d rows, want %d", m.Name(), seen, q.N)
		}
	}
}

// TestPCAAxesGramMatchesCov: with fewer embeddings than dimensions, the
// principal axes from the N×N Gram matrix are those of the D×D
// covariance (its reference), each up to its sign, and pcaAxes takes
// them; as many axes as embeddings or more come from the covariance.
func TestPCAAxesGramMatchesCov(t *testing.T) {
	e := randomEmbeddings(40, 120, 4, 7)
	for i := range e.X { // distinct variances, so the axes are defined
		e.X[i] *= float32(1 + 3*math.Exp(-float64(i%e.D)/8))
	}
	const k = 12
	gram, ok := pcaAxesGram(e, k)
	if !ok {
		t.Fatal("pcaAxesGram refused 40 embeddings in 120 dimensions")
	}
	cov, err := pcaAxesCov(e, k)
	if err != nil {
		t.Fatal(err)
	}
	for i := range k {
		dot := mat.Dot(gram.RowView(i), cov.RowView(i))
		if math.Abs(math.Abs(dot)-1) > 1e-6 {
			t.Errorf("axis %d: |cos| between the Gram's and the covariance's %.9f, want 1", i, math.Abs(dot))
		}
	}
	if got, _ := pcaAxes(e, k); !mat.Equal(got, gram) {
		t.Error("pcaAxes of 40 embeddings in 120 dimensions are not the Gram's")
	}
	if _, ok := pcaAxesGram(e, 45); ok {
		t.Error("pcaAxesGram gave 45 axes of 40 embeddings")
	}
	if got, _ := pcaAxes(e, 45); got.RawMatrix().Rows != 45 {
		t.Error("pcaAxes gave no 45 axes of 40 embeddings")
	}
}
