package eval

import (
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
