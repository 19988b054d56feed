package eval

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestNearestCentre(t *testing.T) {
	// Train: class 0 along +x, class 1 along +y (centres (1,0) and (0,1) after
	// normalisation). Test: (3,1) → 0, (1,3) → 1, (2,1) labelled 1 → wrong,
	// (1,1) labelled 7 (no centre) → wrong. Accuracy 2/4 for both metrics.
	train := Embeddings{X: []float32{2, 0, 5, 0, 0, 1, 0, 3}, N: 4, D: 2, Labels: []int{0, 0, 1, 1}}
	test := Embeddings{X: []float32{3, 1, 1, 3, 2, 1, 1, 1}, N: 4, D: 2, Labels: []int{0, 1, 1, 7}}
	for _, m := range []Metric{Cosine{}, Euclidean{}} {
		if got := NearestCentre(train, test, m); math.Abs(got-0.5) > 1e-12 {
			t.Errorf("%s: accuracy %v, want 0.5", m.Name(), got)
		}
	}
	e := clusters(5, 20, 8, 0.5, 4)
	if got := NearestCentre(e, e, Cosine{}); got != 1 {
		t.Errorf("separated clusters: %v, want 1", got)
	}
}

func TestClassifierAccuracy(t *testing.T) {
	// W rows (1,0), (0,10). f = (1, 0.5): logits 1 and 5 → class 1; cosines
	// 0.894 and 0.447 → class 0. With bias (5, 0): logits 6, 5 → class 0.
	w := []float32{1, 0, 0, 10}
	test := Embeddings{X: []float32{1, 0.5}, N: 1, D: 2, Labels: []int{0}}
	for _, tc := range []struct {
		name   string
		b      []float32
		cosine bool
		want   float64
	}{
		{"logits", nil, false, 0},
		{"cosine", nil, true, 1},
		{"bias", []float32{5, 0}, false, 1},
	} {
		if got := ClassifierAccuracy(test, w, tc.b, tc.cosine); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestEvaluate: separated clusters score 1 everywhere, and the JSON keys are
// the command line's contract.
func TestEvaluate(t *testing.T) {
	test := clusters(6, 30, 8, 0.5, 5)
	for _, train := range []Embeddings{clusters(6, 10, 8, 0.5, 6), {}} {
		rep := Evaluate(train, test, Cosine{}, Options{PairsPerFold: 20, Seed: 1, MaxQueries: 100})
		for _, c := range []struct {
			name string
			got  float64
		}{
			{"closed set", rep.ClosedSet.Accuracy},
			{"verification", rep.Verification.Accuracy},
			{"auc", rep.Verification.AUC},
			{"rank1", rep.Identification.Rank1},
			{"map@r", rep.Retrieval.MAPAtR},
			{"dir@0.1", rep.Identification.OpenSet.DIRAtFAR["0.1"]},
		} {
			if c.got != 1 {
				t.Errorf("train N=%d: %s = %v, want 1", train.N, c.name, c.got)
			}
		}
		if n := len(rep.Verification.Genuine); n != 200 {
			t.Errorf("%d genuine pairs, want 10 folds × 20", n)
		}
		b, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{`"closed_set"`, `"accuracy_std"`, `"tar_at_far":{"0.001":`, `"eer"`, `"far"`,
			`"rank5"`, `"cmc"`, `"open_set":{"dir_at_far"`, `"detection_auc"`, `"precision_at_1"`, `"r_precision"`, `"map_at_r"`} {
			if !strings.Contains(string(b), key) {
				t.Errorf("JSON lacks %s: %s", key, b)
			}
		}
		if strings.Contains(string(b), "classifier_accuracy") {
			t.Error("classifier_accuracy present without a classifier")
		}
	}
}

// TestEvaluateOpenSetNeedsKnownProbes: when the classes Evaluate enrols
// for its open set (those at even positions) have one sample each, no
// known probe is left and OpenSet is nil. Before, it was a report of
// zeros: a detection AUC and DIR@FAR of 0, measured on nothing.
func TestEvaluateOpenSetNeedsKnownProbes(t *testing.T) {
	// Classes 0 and 2 of one sample, 1 and 3 of four.
	labels := []int{0, 1, 1, 1, 1, 2, 3, 3, 3, 3}
	pos := []float64{0, 1, 1.1, 1.2, 1.3, 2, 3, 3.1, 3.2, 3.3}
	rep := Evaluate(Embeddings{}, line(pos, labels), Euclidean{}, Options{Folds: 2, PairsPerFold: 3, Seed: 1})
	if rep.Identification.OpenSet != nil {
		t.Errorf("open set %+v with no known probe: want nil", *rep.Identification.OpenSet)
	}
	// One sample more in class 0 gives it a known probe.
	labels, pos = append(labels, 0), append(pos, 0.1)
	if rep := Evaluate(Embeddings{}, line(pos, labels), Euclidean{}, Options{Folds: 2, PairsPerFold: 3, Seed: 1}); rep.Identification.OpenSet == nil {
		t.Error("open set nil with a known probe")
	}
}
