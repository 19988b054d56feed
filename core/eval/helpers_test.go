package eval

import "math/rand/v2"

// clusters returns c classes of n samples in D dimensions: class k is centred
// at 10·e_(k mod D) + 10·(k/D)·e_0 with uniform noise of half-width spread,
// rows interleaved by class (label of row i is i mod c).
func clusters(c, n, d int, spread float64, seed uint64) Embeddings {
	rng := rand.New(rand.NewPCG(seed, 1))
	e := Embeddings{X: make([]float32, c*n*d), N: c * n, D: d, Labels: make([]int, c*n)}
	for i := 0; i < c*n; i++ {
		k := i % c
		e.Labels[i] = k
		row := e.X[i*d : (i+1)*d]
		for j := range row {
			row[j] = float32(spread * (2*rng.Float64() - 1))
		}
		row[k%d] += 10
		row[0] += float32(10 * (k / d))
	}
	return e
}

// line returns 1-D embeddings at the given positions with the given labels.
func line(pos []float64, labels []int) Embeddings {
	e := Embeddings{X: make([]float32, len(pos)), N: len(pos), D: 1, Labels: labels}
	for i, p := range pos {
		e.X[i] = float32(p)
	}
	return e
}

// randomEmbeddings returns n Gaussian embeddings in D dimensions with labels
// i mod c.
func randomEmbeddings(n, d, c int, seed uint64) Embeddings {
	rng := rand.New(rand.NewPCG(seed, 2))
	e := Embeddings{X: make([]float32, n*d), N: n, D: d, Labels: make([]int, n)}
	for i := range e.X {
		e.X[i] = float32(rng.NormFloat64())
	}
	for i := range e.Labels {
		e.Labels[i] = i % c
	}
	return e
}
