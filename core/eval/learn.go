package eval

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Init is how LearnLinear initialises W.
type Init int

const (
	// InitAuto is InitIdentity when k = D, InitPCA otherwise.
	InitAuto Init = iota
	// InitIdentity starts from the first k rows of the D×D identity.
	InitIdentity
	// InitPCA starts from the k leading principal axes (eigenvectors of the
	// total covariance, largest eigenvalue first).
	InitPCA
)

// LearnOptions sets LearnLinear's optimisation. Zero values take the
// defaults in brackets.
type LearnOptions struct {
	Epochs int     // passes over the data [20]
	Batch  int     // mini-batch size B [256]
	LR     float64 // gradient ascent step on the mean NCA objective [0.5]
	Seed   int64   // seed of the mini-batch shuffle [0 is a valid seed]
	Init   Init    // initial W [InitAuto]
	// Progress, when not nil, is called with step 0 and objective NaN
	// before W is initialised (PCA of raw pixels takes a while), then
	// after each of the steps (one a mini-batch) with the batch's
	// objective f(W) before the step.
	Progress func(step, steps int, objective float64)
}

// LearnLinear learns a Mahalanobis metric W (k×D) by Neighbourhood
// Components Analysis (Goldberger, Roweis, Hinton & Salakhutdinov 2004) on
// mini-batches: within a batch of B embeddings with z_i = W x_i,
//
//	p_ij = exp(−‖z_i − z_j‖²) / Σ_{l≠i} exp(−‖z_i − z_l‖²),  p_ii = 0,
//	p_i  = Σ_{j : y_j = y_i} p_ij,     f(W) = (1/B) Σ_i p_i,
//
// the expected leave-one-out accuracy of a stochastic nearest neighbour, is
// maximised by gradient ascent W ← W + LR·∂f/∂W (see ncaObjective and
// ncaGradient). The ascent runs on coordinates divided by their standard
// deviation (W = W̃ diag(1/σ)): a noisy coordinate of large variance would
// otherwise dominate the gradient and make any one step size either too
// small or unstable. W̃ starts from the identity or from PCA of the
// standardised data (see Init), scaled so
// that the mean squared distance between two random embeddings is 1: the
// softmax then starts neither saturated nor flat, and NCA learns the scale.
// The shuffle is seeded (math/rand/v2 PCG), so the same data and options
// give the same W. It returns an error when e has fewer than 2 samples or
// no spread at all.
func LearnLinear(e Embeddings, k int, opt LearnOptions) (Mahalanobis, error) {
	e.check()
	if k < 1 || k > e.D {
		panic("eval: LearnLinear needs 1 ≤ k ≤ D")
	}
	if opt.Epochs <= 0 {
		opt.Epochs = 20
	}
	if opt.Batch <= 0 {
		opt.Batch = 256
	}
	if opt.LR <= 0 {
		opt.LR = 0.5
	}
	if e.N < 2 {
		return Mahalanobis{}, errors.New("eval: LearnLinear needs at least 2 embeddings")
	}
	// A batch of fewer than 2 is no step: the last of an epoch is skipped
	// when 1 embedding is left for it.
	b := min(opt.Batch, e.N)
	step, steps := 0, opt.Epochs*((e.N-2)/b+1)
	if opt.Progress != nil {
		opt.Progress(0, steps, math.NaN())
	}
	// Precondition: learn W̃ on x̃ = x/σ (σ_j the total std of coordinate j)
	// and return W = W̃ diag(1/σ), so that one learning rate suits
	// coordinates of any scale.
	sigma := variances(e)
	for j := range sigma {
		sigma[j] = math.Sqrt(sigma[j])
		if sigma[j] == 0 {
			sigma[j] = 1
		}
	}
	std := Embeddings{X: make([]float32, len(e.X)), N: e.N, D: e.D, Labels: e.Labels}
	for i, v := range e.X {
		std.X[i] = float32(float64(v) / sigma[i%e.D])
	}
	e = std
	w, err := initLinear(e, k, opt.Init)
	if err != nil {
		return Mahalanobis{}, err
	}
	rng := rand.New(rand.NewPCG(uint64(opt.Seed), 0xda3e39cb94b95bdb))
	perm := make([]int, e.N)
	for i := range perm {
		perm[i] = i
	}
	x := mat.NewDense(b, e.D, nil)
	y := make([]int, b)
	grad := mat.NewDense(k, e.D, nil)
	for epoch := 0; epoch < opt.Epochs; epoch++ {
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		for start := 0; start+1 < e.N; start += b {
			n := min(b, e.N-start)
			if n < 2 {
				break
			}
			xb := x.Slice(0, n, 0, e.D).(*mat.Dense)
			for r := 0; r < n; r++ {
				src := e.Row(perm[start+r])
				for c, v := range src {
					xb.Set(r, c, float64(v))
				}
				y[r] = e.Labels[perm[start+r]]
			}
			f := ncaGradient(grad, w, xb, y[:n])
			w.Add(w, scaled(grad, opt.LR))
			if step++; opt.Progress != nil {
				opt.Progress(step, steps, f)
			}
		}
	}
	for j, sg := range sigma {
		for i := 0; i < k; i++ {
			w.Set(i, j, w.At(i, j)/sg)
		}
	}
	return Mahalanobis{W: w}, nil
}

// scaled returns s·a in a; a helper to keep the update on one line.
func scaled(a *mat.Dense, s float64) *mat.Dense {
	a.Scale(s, a)
	return a
}

// initLinear returns the initial W of LearnLinear.
func initLinear(e Embeddings, k int, init Init) (*mat.Dense, error) {
	if init == InitAuto {
		init = InitPCA
		if k == e.D {
			init = InitIdentity
		}
	}
	w := mat.NewDense(k, e.D, nil)
	switch init {
	case InitIdentity:
		for i := 0; i < k; i++ {
			w.Set(i, i, 1)
		}
	case InitPCA:
		p, err := pcaAxes(e, k)
		if err != nil {
			return nil, fmt.Errorf("eval: LearnLinear: %w", err)
		}
		w = p
	default:
		panic(fmt.Sprintf("eval: unknown Init %d", init))
	}
	// E‖W(x_i − x_j)‖² = 2 tr(W Σ Wᵀ) for independent x_i, x_j; with fewer
	// embeddings than dimensions (raw pixels), 2 ‖X̄Wᵀ‖²_F / N, X̄ the
	// centred embeddings, without the D×D Σ.
	var spread float64
	if e.N < e.D {
		var xw mat.Dense
		xw.Mul(centred(e), w.T())
		spread = 2 * math.Pow(mat.Norm(&xw, 2), 2) / float64(e.N)
	} else {
		var wc, wcw mat.Dense
		wc.Mul(w, totalCov(e))
		wcw.Mul(&wc, w.T())
		spread = 2 * mat.Trace(&wcw)
	}
	if !(spread > 0) {
		return nil, errors.New("eval: LearnLinear: embeddings have no spread along the initial W")
	}
	w.Scale(1/math.Sqrt(spread), w)
	return w, nil
}

// mean returns the mean of the embeddings of e, summed in float64.
func mean(e Embeddings) []float64 {
	mu := make([]float64, e.D)
	for n := 0; n < e.N; n++ {
		for i, v := range e.Row(n) {
			mu[i] += float64(v)
		}
	}
	for i := range mu {
		mu[i] /= float64(e.N)
	}
	return mu
}

// variances returns the diagonal of totalCov(e), in O(ND): the variance
// of every coordinate, summed as totalCov sums it.
func variances(e Embeddings) []float64 {
	mu := mean(e)
	acc := make([]float64, e.D)
	for n := 0; n < e.N; n++ {
		for i, v := range e.Row(n) {
			d := float64(v) - mu[i]
			acc[i] += d * d
		}
	}
	for i := range acc {
		acc[i] /= float64(e.N)
	}
	return acc
}

// totalCov returns the total covariance (1/N) Σ_i (x_i − μ)(x_i − μ)ᵀ of e.
func totalCov(e Embeddings) *mat.SymDense {
	d := e.D
	mu := mean(e)
	acc := make([]float64, d*d)
	diff := make([]float64, d)
	for n := 0; n < e.N; n++ {
		for i, v := range e.Row(n) {
			diff[i] = float64(v) - mu[i]
		}
		for i := 0; i < d; i++ {
			for j := i; j < d; j++ {
				acc[i*d+j] += diff[i] * diff[j]
			}
		}
	}
	cov := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			cov.SetSym(i, j, acc[i*d+j]/float64(e.N))
		}
	}
	return cov
}

// ncaObjective returns the mean NCA objective f(W) = (1/B) Σ_i p_i of the
// batch x (B×D) with labels y (see LearnLinear), and the matrix p (B×B,
// p_ij, row softmax over l ≠ i, computed with the max subtracted) and the
// projections z = x Wᵀ (B×k) that ncaGradient needs.
func ncaObjective(w, x *mat.Dense, y []int) (f float64, p, z *mat.Dense) {
	bn, _ := x.Dims()
	k, _ := w.Dims()
	z = mat.NewDense(bn, k, nil)
	z.Mul(x, w.T())
	sq := make([]float64, bn)
	for i := range sq {
		r := z.RawRowView(i)
		for _, v := range r {
			sq[i] += v * v
		}
	}
	var g mat.Dense
	g.Mul(z, z.T())
	p = mat.NewDense(bn, bn, nil)
	for i := 0; i < bn; i++ {
		row := p.RawRowView(i)
		// logits −d_il = −(‖z_i‖² + ‖z_l‖² − 2 z_i·z_l), l ≠ i.
		best := math.Inf(-1)
		for l := 0; l < bn; l++ {
			if l == i {
				continue
			}
			row[l] = -math.Max(0, sq[i]+sq[l]-2*g.At(i, l))
			best = math.Max(best, row[l])
		}
		var sum float64
		for l := 0; l < bn; l++ {
			if l == i {
				row[l] = 0
				continue
			}
			row[l] = math.Exp(row[l] - best)
			sum += row[l]
		}
		var pi float64
		for l := 0; l < bn; l++ {
			row[l] /= sum
			if l != i && y[l] == y[i] {
				pi += row[l]
			}
		}
		f += pi
	}
	return f / float64(bn), p, z
}

// ncaGradient writes ∂f/∂W of ncaObjective to dst (k×D) and returns the
// objective:
//
//	∂f/∂W = (2/B) Σ_{i,l} w_il (z_i − z_l)(x_i − x_l)ᵀ,   w_il = p_i p_il − [y_l = y_i] p_il
//	      = (2/B) zᵀ (diag(r) + diag(c) − w − wᵀ) x,
//
// with r and c the row and column sums of w (Goldberger et al. 2004, eq. 5,
// written with A x_il = z_i − z_l).
func ncaGradient(dst, w, x *mat.Dense, y []int) float64 {
	f, p, z := ncaObjective(w, x, y)
	bn, _ := x.Dims()
	pi := make([]float64, bn)
	for i := 0; i < bn; i++ {
		for l := 0; l < bn; l++ {
			if l != i && y[l] == y[i] {
				pi[i] += p.At(i, l)
			}
		}
	}
	lap := mat.NewDense(bn, bn, nil)
	for i := 0; i < bn; i++ {
		for l := 0; l < bn; l++ {
			if l == i {
				continue
			}
			v := pi[i] * p.At(i, l)
			if y[l] == y[i] {
				v -= p.At(i, l)
			}
			lap.Set(i, i, lap.At(i, i)+v)
			lap.Set(l, l, lap.At(l, l)+v)
			lap.Set(i, l, lap.At(i, l)-v)
			lap.Set(l, i, lap.At(l, i)-v)
		}
	}
	var zl mat.Dense
	zl.Mul(z.T(), lap)
	dst.Mul(&zl, x)
	dst.Scale(2/float64(bn), dst)
	return f
}
