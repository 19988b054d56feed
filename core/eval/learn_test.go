package eval

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestNCAGradient checks ncaGradient against central finite differences of
// ncaObjective in float64.
func TestNCAGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	const b, d, k = 7, 3, 2
	x := mat.NewDense(b, d, nil)
	w := mat.NewDense(k, d, nil)
	for i := 0; i < b; i++ {
		for j := 0; j < d; j++ {
			x.Set(i, j, rng.NormFloat64())
		}
	}
	for i := 0; i < k; i++ {
		for j := 0; j < d; j++ {
			w.Set(i, j, 0.7*rng.NormFloat64())
		}
	}
	y := []int{0, 0, 1, 1, 1, 2, 0}
	grad := mat.NewDense(k, d, nil)
	f := ncaGradient(grad, w, x, y)
	if f0, _, _ := ncaObjective(w, x, y); f != f0 {
		t.Fatalf("objective %v != %v", f, f0)
	}
	const h = 1e-6
	for i := 0; i < k; i++ {
		for j := 0; j < d; j++ {
			orig := w.At(i, j)
			w.Set(i, j, orig+h)
			fp, _, _ := ncaObjective(w, x, y)
			w.Set(i, j, orig-h)
			fm, _, _ := ncaObjective(w, x, y)
			w.Set(i, j, orig)
			num := (fp - fm) / (2 * h)
			if got := grad.At(i, j); math.Abs(got-num) > 1e-7+1e-5*math.Abs(num) {
				t.Errorf("∂f/∂W[%d,%d] = %v, finite difference %v", i, j, got, num)
			}
		}
	}
}

// noisyClasses: 4 classes on a square of side 6 in dims 0–1 (within-class
// std 1) and a third dimension of pure noise with std 30, which swamps
// euclidean distances.
func noisyClasses(n int, seed uint64) Embeddings {
	rng := rand.New(rand.NewPCG(seed, 4))
	e := Embeddings{X: make([]float32, n*3), N: n, D: 3, Labels: make([]int, n)}
	for i := 0; i < n; i++ {
		c := i % 4
		e.Labels[i] = c
		e.X[i*3] = float32(6*float64(c%2) + rng.NormFloat64())
		e.X[i*3+1] = float32(6*float64(c/2) + rng.NormFloat64())
		e.X[i*3+2] = float32(30 * rng.NormFloat64())
	}
	return e
}

// TestLearnLinearImproves: NCA learns to ignore the noise dimension, and
// verification accuracy on held-out data rises well above raw euclidean
// (near chance, about 0.6) and whitening's.
func TestLearnLinearImproves(t *testing.T) {
	train, test := noisyClasses(400, 1), noisyClasses(400, 2)
	folds := Pairs(test.Labels, 10, 30, 3)
	raw := Verification(test, Euclidean{}, folds).Accuracy
	m, err := LearnLinear(train, 3, LearnOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	learned := Verification(test, m, folds).Accuracy
	t.Logf("verification accuracy: raw %.3f, NCA %.3f", raw, learned)
	if learned < raw+0.15 {
		t.Errorf("NCA accuracy %.3f is not clearly above raw euclidean %.3f", learned, raw)
	}
	// The noise column of W must have shrunk relative to the informative ones.
	noise := math.Hypot(m.W.At(0, 2), math.Hypot(m.W.At(1, 2), m.W.At(2, 2)))
	signal := math.Hypot(m.W.At(0, 0), math.Hypot(m.W.At(1, 0), m.W.At(2, 0)))
	if noise > 0.2*signal {
		t.Errorf("noise column norm %v vs signal %v", noise, signal)
	}
	// Deterministic for a seed.
	again, _ := LearnLinear(train, 3, LearnOptions{Seed: 1})
	if !mat.Equal(m.W, again.W) {
		t.Error("same seed gave different W")
	}
	// k < D starts from PCA and still yields a k×D map.
	low, err := LearnLinear(train, 2, LearnOptions{Seed: 1, Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r, c := low.W.Dims(); r != 2 || c != 3 {
		t.Errorf("k=2: W is %d×%d", r, c)
	}
	// Whitening by the within-class covariance also removes the noise.
	wm, err := Whitening(train, 0)
	if err != nil {
		t.Fatal(err)
	}
	if wa := Verification(test, wm, folds).Accuracy; wa < raw+0.15 {
		t.Errorf("whitened accuracy %.3f is not clearly above raw %.3f", wa, raw)
	}
}

// TestLearnLinearProgress: Progress hears step 0 before W is initialised
// (objective NaN), then every step, numbered up to the steps of all
// epochs (401 embeddings in batches of 100 take 4 steps an epoch: the 1
// left over is no batch), with objectives in [0, 1] that rise as NCA
// learns; W is the same without it.
func TestLearnLinearProgress(t *testing.T) {
	train := noisyClasses(401, 1)
	var steps []int
	var objectives []float64
	opt := LearnOptions{Seed: 1, Epochs: 3, Batch: 100, Progress: func(step, of int, f float64) {
		if of != 12 {
			t.Fatalf("step %d of %d, want of 12", step, of)
		}
		steps = append(steps, step)
		objectives = append(objectives, f)
	}}
	m, err := LearnLinear(train, 3, opt)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; !slices.Equal(steps, want) {
		t.Fatalf("steps %v, want %v", steps, want)
	}
	if !math.IsNaN(objectives[0]) {
		t.Errorf("objective %v at step 0, want NaN", objectives[0])
	}
	objectives = objectives[1:]
	for _, f := range objectives {
		if !(f >= 0 && f <= 1) {
			t.Fatalf("objective %v outside [0, 1]", f)
		}
	}
	if first, last := objectives[0], objectives[11]; !(last > first+0.1) {
		t.Errorf("objective %.3f at the first step, %.3f at the last: not learning", first, last)
	}
	opt.Progress = nil
	if quiet, _ := LearnLinear(train, 3, opt); !mat.Equal(m.W, quiet.W) {
		t.Error("W differs without Progress")
	}
}
