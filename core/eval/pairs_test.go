package eval

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestPairs(t *testing.T) {
	for _, tc := range []struct {
		name           string
		classes, per   int // labels: classes × per samples
		folds, perFold int
		wantPer        int // pairs of each kind per fold
	}{
		// G = 10·C(20,2) = 1900 ≥ 10·30: enumerated and shuffled.
		{"enumerated", 10, 20, 10, 30, 30},
		// G = 10·C(200,2) = 199,000 > 2^16: sampled with rejection.
		{"sampled", 10, 200, 10, 300, 300},
		// G = 3·C(2,2) = 3 genuine pairs for 3 folds: one each (I = 12).
		{"too small", 3, 2, 3, 5, 1},
		// A single class has no impostor pair.
		{"one class", 1, 30, 10, 5, 0},
	} {
		labels := make([]int, tc.classes*tc.per)
		for i := range labels {
			labels[i] = i % tc.classes
		}
		folds := Pairs(labels, tc.folds, tc.perFold, 42)
		if tc.wantPer == 0 {
			if folds != nil {
				t.Errorf("%s: got %d folds, want nil", tc.name, len(folds))
			}
			continue
		}
		if len(folds) != tc.folds {
			t.Fatalf("%s: %d folds, want %d", tc.name, len(folds), tc.folds)
		}
		seen := make(map[[2]int]bool)
		for f, fold := range folds {
			gen, imp := 0, 0
			for _, p := range fold.Pairs {
				if p.I >= p.J {
					t.Fatalf("%s: pair %v not ordered", tc.name, p)
				}
				if p.Same != (labels[p.I] == labels[p.J]) {
					t.Fatalf("%s: pair %v has the wrong Same", tc.name, p)
				}
				if seen[[2]int{p.I, p.J}] {
					t.Fatalf("%s: pair %v repeated", tc.name, p)
				}
				seen[[2]int{p.I, p.J}] = true
				if p.Same {
					gen++
				} else {
					imp++
				}
			}
			if gen != tc.wantPer || imp != tc.wantPer {
				t.Errorf("%s: fold %d has %d genuine, %d impostor, want %d each", tc.name, f, gen, imp, tc.wantPer)
			}
		}
		if again := Pairs(labels, tc.folds, tc.perFold, 42); !reflect.DeepEqual(again, folds) {
			t.Errorf("%s: same seed gave different pairs", tc.name)
		}
		if tc.wantPer > 1 {
			if other := Pairs(labels, tc.folds, tc.perFold, 43); reflect.DeepEqual(other, folds) {
				t.Errorf("%s: seeds 42 and 43 gave the same pairs", tc.name)
			}
		}
	}
}

// TestPairsRandomLabels: on labels of uneven classes (sparse label values,
// singletons, one class of most of the rows), every fold has exactly
// p = min(perFold, ⌊G/folds⌋, ⌊I/folds⌋) pairs of each kind, counted here
// from the class sizes, and no pair is a self pair, out of range, wrongly
// marked or repeated.
func TestPairsRandomLabels(t *testing.T) {
	rng := rand.New(rand.NewPCG(30, 1))
	for trial := range 200 {
		n := 2 + rng.IntN(500)
		labels := make([]int, n)
		c := 1 + rng.IntN(12)
		for i := range labels {
			labels[i] = 7 * rng.IntN(c)
			if trial%3 == 0 && rng.IntN(10) > 0 {
				labels[i] = 3 // one big class
			}
		}
		labels[rng.IntN(n)] = -5 // a singleton
		size := map[int]int{}
		for _, l := range labels {
			size[l]++
		}
		g := 0
		for _, k := range size {
			g += k * (k - 1) / 2
		}
		folds, perFold := 1+rng.IntN(10), 1+rng.IntN(400)
		p := min(perFold, g/folds, (n*(n-1)/2-g)/folds)
		got := Pairs(labels, folds, perFold, int64(trial))
		if p == 0 {
			if got != nil {
				t.Fatalf("trial %d: G %d for %d folds, got %d folds, want nil", trial, g, folds, len(got))
			}
			continue
		}
		if len(got) != folds {
			t.Fatalf("trial %d: %d folds, want %d", trial, len(got), folds)
		}
		seen := map[Pair]bool{}
		for f, fold := range got {
			gen := 0
			for _, pr := range fold.Pairs {
				if pr.I < 0 || pr.I >= pr.J || pr.J >= n || pr.Same != (labels[pr.I] == labels[pr.J]) || seen[pr] {
					t.Fatalf("trial %d fold %d: bad or repeated pair %+v", trial, f, pr)
				}
				seen[pr] = true
				if pr.Same {
					gen++
				}
			}
			if gen != p || len(fold.Pairs) != 2*p {
				t.Fatalf("trial %d fold %d: %d genuine of %d pairs, want %d of %d", trial, f, gen, len(fold.Pairs), p, 2*p)
			}
		}
	}
}
