package eval

import (
	"cmp"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"metriclab/core/vec"
)

// expandRef is the obvious Expand: every pair's cosine by vec.Cosine, the
// indices sorted by decreasing cosine (ties to the lower index), the first
// k unit rows summed in float64, in index order, and scaled to length 1.
func expandRef(e Embeddings, k int) Embeddings {
	k = min(k, e.N)
	out := Embeddings{X: make([]float32, e.N*e.D), N: e.N, D: e.D, Labels: slices.Clone(e.Labels)}
	for i := range e.N {
		if vec.Norm(e.Row(i)) == 0 {
			continue
		}
		sim := make([]float64, e.N)
		idx := make([]int, e.N)
		for j := range e.N {
			sim[j], idx[j] = vec.Cosine(e.Row(i), e.Row(j)), j
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(sim[b], sim[a]) })
		sum := make([]float64, e.D)
		near := slices.Clone(idx[:k])
		slices.Sort(near)
		for _, j := range near {
			for t, v := range vec.UnitTo([]float64(nil), e.Row(j)) {
				sum[t] += v
			}
		}
		vec.UnitTo(out.X[i*e.D:(i+1)*e.D], sum)
	}
	return out
}

func TestExpandMatchesReference(t *testing.T) {
	e := randomEmbeddings(300, 16, 7, 3)
	for _, k := range []int{1, 2, 5, 17, 299, 300, 1000} {
		got, want := Expand(e, k, nil), expandRef(e, k)
		if !slices.Equal(got.Labels, e.Labels) {
			t.Fatalf("k=%d: labels changed", k)
		}
		for i := range want.X {
			if d := math.Abs(float64(got.X[i] - want.X[i])); d > 1e-6 {
				t.Fatalf("k=%d: element %d is %v, reference %v (|diff| %.2g > 1e-6)", k, i, got.X[i], want.X[i], d)
			}
		}
	}
}

// TestExpandWorkers: the result does not depend on how many goroutines
// share the rows, to the bit.
func TestExpandWorkers(t *testing.T) {
	e := randomEmbeddings(500, 24, 9, 4)
	many := Expand(e, 13, nil)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if one := Expand(e, 13, nil); !slices.Equal(one.X, many.X) {
		t.Error("Expand on one goroutine differs from Expand on GOMAXPROCS of them")
	}
}

// angles returns 2-D embeddings on the unit circle (lengths varying, which
// Expand must ignore) at the given angles in degrees.
func angles(deg ...float64) Embeddings {
	e := Embeddings{X: make([]float32, 2*len(deg)), N: len(deg), D: 2, Labels: make([]int, len(deg))}
	for i, a := range deg {
		r := float64(i + 1)
		s, c := math.Sincos(a * math.Pi / 180)
		if math.Mod(a, 90) == 0 { // exact, so that cosines tie exactly
			s, c = math.Round(s), math.Round(c)
		}
		e.X[2*i], e.X[2*i+1] = float32(r*c), float32(r*s)
	}
	return e
}

func TestExpandHandWorked(t *testing.T) {
	for _, tc := range []struct {
		name string
		deg  []float64
		k    int
		want []float64 // angle of each row after, degrees
	}{
		// Each row's nearest other is its partner: the mean of two unit
		// vectors bisects them.
		{"pairs", []float64{0, 10, 90, 100}, 2, []float64{5, 5, 95, 95}},
		// Row 0 has row 1 (90°) and row 2 (−90°) at the same cosine, 0
		// exactly: the lower index wins. Rows 1 and 2 have row 0 nearest.
		{"tie to the lower index", []float64{0, 90, -90}, 2, []float64{45, 45, -45}},
		// k = 1 keeps each row's own direction; k = N gives every row the
		// mean direction of all (0° by symmetry).
		{"k=1", []float64{0, 10, -10}, 1, []float64{0, 10, -10}},
		{"k=N", []float64{0, 30, -30}, 3, []float64{0, 0, 0}},
	} {
		got := Expand(angles(tc.deg...), tc.k, nil)
		for i, w := range tc.want {
			x, y := float64(got.X[2*i]), float64(got.X[2*i+1])
			if a := math.Atan2(y, x) * 180 / math.Pi; math.Abs(a-w) > 1e-4 || math.Abs(math.Hypot(x, y)-1) > 1e-6 {
				t.Errorf("%s: row %d at %.5f° length %.7f, want %g° length 1", tc.name, i, a, math.Hypot(x, y), w)
			}
		}
	}
}

func TestExpandZeroSumAndBadK(t *testing.T) {
	// Opposite rows: with k = 2 each sums to zero.
	e := Embeddings{X: []float32{1, 0, -2, 0}, N: 2, D: 2, Labels: []int{0, 1}}
	for i, v := range Expand(e, 2, nil).X {
		if v != 0 {
			t.Errorf("element %d of two opposite rows' mean is %v, want 0", i, v)
		}
	}
	// A zero row has no nearest: it stays zero, and the others pass it by
	// (cosine 0 with it).
	e = Embeddings{X: []float32{1, 0, 0.9, 0.1, 0, 0}, N: 3, D: 2, Labels: []int{0, 0, 0}}
	if row := Expand(e, 1, nil).Row(2); row[0] != 0 || row[1] != 0 {
		t.Errorf("a zero row expanded with k = 1 became %v, want zero", row)
	}
	defer func() {
		if recover() == nil {
			t.Error("Expand with k = 0 did not panic")
		}
	}()
	Expand(e, 0, nil)
}

// TestExpandDrawsNoisyClassesTogether: classes as noisy clouds around
// directions, each image's noise its own; the mean of an image's nearest
// neighbours averages the noise away, so verification on the expanded
// embeddings beats the embeddings as they are, the labels never read.
func TestExpandDrawsNoisyClassesTogether(t *testing.T) {
	const c, n, d = 6, 80, 32
	rng := rand.New(rand.NewPCG(5, 6))
	e := Embeddings{X: make([]float32, c*n*d), N: c * n, D: d, Labels: make([]int, c*n)}
	centres := make([]float64, c*d)
	for i := range centres {
		centres[i] = rng.NormFloat64()
	}
	for i := range e.N {
		l := i % c
		e.Labels[i] = l
		for t := range d {
			e.X[i*d+t] = float32(centres[l*d+t] + 1.3*rng.NormFloat64())
		}
	}
	folds := Pairs(e.Labels, 10, 200, 1)
	before := Verification(e, Cosine{}, folds).Accuracy
	after := Verification(Expand(e, 20, nil), Cosine{}, folds).Accuracy
	if before > 0.9 || after < before+0.05 {
		t.Errorf("verification %.4f as they are, %.4f expanded with k = 20: want the noisy one below 0.9 and expansion to add 0.05", before, after)
	}
	t.Logf("verification %.4f as they are, %.4f expanded", before, after)
}
