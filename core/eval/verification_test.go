package eval

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// aucMannWhitney is the O(n·m) reference: P(g > i) + ½ P(g = i).
func aucMannWhitney(gen, imp []float64) float64 {
	var s float64
	for _, g := range gen {
		for _, i := range imp {
			switch {
			case g > i:
				s++
			case g == i:
				s += 0.5
			}
		}
	}
	return s / float64(len(gen)*len(imp))
}

func TestROCMeasures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		gen, imp []float64
		auc, eer float64
		tar      map[float64]float64 // FAR → TAR
	}{
		{
			// Separated: every genuine above every impostor.
			name: "separated", gen: []float64{0.9, 0.8}, imp: []float64{0.1, 0.2},
			auc: 1, eer: 0, tar: map[float64]float64{0: 1, 0.1: 1},
		},
		{
			// Desc: .9g .8g .7g .6i .4i .3g .2i .1i. ROC (0,0) (0,¼) (0,½)
			// (0,¾) (¼,¾) (½,¾) (½,1) (¾,1) (1,1). MW: 3·4 + 2 = 14 of 16.
			// FAR = FRR first at (¼,¾) coming from (0,¾): α = ¼/¼ = 1, EER ¼.
			// FAR 0.1 with 4 impostors allows 0 → TAR ¾; FAR ½ → TAR 1.
			name: "one swap", gen: []float64{0.9, 0.8, 0.7, 0.3}, imp: []float64{0.6, 0.4, 0.2, 0.1},
			auc: 0.875, eer: 0.25, tar: map[float64]float64{0.1: 0.75, 0.25: 0.75, 0.5: 1},
		},
		{
			// A tie at .5 is a diagonal step (0,⅓) → (½,⅔); EER on it:
			// α = (1 − ⅓)/(½ + ⅓) = 0.8, EER = 0.8·½ = 0.4. MW: 2 + (½ + 1) + 1 = 4.5 of 6.
			name: "tie", gen: []float64{0.8, 0.5, 0.2}, imp: []float64{0.5, 0.1},
			auc: 0.75, eer: 0.4, tar: map[float64]float64{0: 1.0 / 3, 0.5: 1},
		},
		{
			// All scores equal: the ROC is the diagonal, AUC ½ from ties alone.
			name: "all tied", gen: []float64{1, 1, 1}, imp: []float64{1, 1},
			auc: 0.5, eer: 0.5, tar: map[float64]float64{0.1: 0},
		},
	} {
		roc := ROC(tc.gen, tc.imp)
		for i := 1; i < len(roc); i++ {
			if roc[i].FAR < roc[i-1].FAR || roc[i].TAR < roc[i-1].TAR {
				t.Fatalf("%s: ROC not monotone at %d: %v", tc.name, i, roc)
			}
		}
		if got := AUC(roc); math.Abs(got-tc.auc) > 1e-12 {
			t.Errorf("%s: AUC %v, want %v", tc.name, got, tc.auc)
		}
		if got := EER(roc); math.Abs(got-tc.eer) > 1e-12 {
			t.Errorf("%s: EER %v, want %v", tc.name, got, tc.eer)
		}
		for far, want := range tc.tar {
			if got := TARAtFAR(roc, far); math.Abs(got-want) > 1e-12 {
				t.Errorf("%s: TAR@FAR %v = %v, want %v", tc.name, far, got, want)
			}
		}
	}
}

// TestAUCMatchesMannWhitney checks the trapezoid AUC against the O(n·m)
// reference on scores with many ties.
func TestAUCMatchesMannWhitney(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	gen := make([]float64, 300)
	imp := make([]float64, 200)
	for i := range gen {
		gen[i] = float64(rng.IntN(20)) // integer scores: ties everywhere
	}
	for i := range imp {
		imp[i] = float64(rng.IntN(15))
	}
	got, want := AUC(ROC(gen, imp)), aucMannWhitney(gen, imp)
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("trapezoid %v, Mann–Whitney %v", got, want)
	}
}

// TestTARAtFARResolution: 3000 impostors, FAR 1e-3 allows exactly 3.
func TestTARAtFARResolution(t *testing.T) {
	imp := make([]float64, 3000)
	for i := range imp {
		imp[i] = float64(i) // impostors 0..2999
	}
	// Genuine scores: 10 above every impostor, 10 between the 4th and 3rd
	// highest impostor (2996.5), 10 below the 4th highest.
	var gen []float64
	for i := 0; i < 10; i++ {
		gen = append(gen, 5000, 2996.5, 100)
	}
	roc := ROC(gen, imp)
	// FAR 1e-3: up to 3 impostors accepted (≥ 2997): TAR = 20/30.
	if got := TARAtFAR(roc, 1e-3); math.Abs(got-2.0/3) > 1e-12 {
		t.Errorf("TAR@1e-3 = %v, want 2/3", got)
	}
	// FAR 1e-4: no impostor accepted: TAR = 10/30.
	if got := TARAtFAR(roc, 1e-4); math.Abs(got-1.0/3) > 1e-12 {
		t.Errorf("TAR@1e-4 = %v, want 1/3", got)
	}
}

func TestBestThreshold(t *testing.T) {
	for _, tc := range []struct {
		name          string
		scores        []float64
		same          []bool
		wantT, wantAc float64
	}{
		// Ascending .1i .2i .3g .4i .5i .6g .7g: rejecting ≤ .5 errs only on .3
		// (6/7); threshold midway between .5 and .6.
		{"unique", []float64{0.6, 0.1, 0.3, 0.7, 0.2, 0.4, 0.5}, []bool{true, false, true, true, false, false, false}, 0.55, 6.0 / 7},
		// Ascending .1i .2g .3i .6g .7g: rejecting ≤ .1 or ≤ .3 both give 4/5;
		// the lower threshold (.15) wins.
		{"tie goes low", []float64{0.6, 0.1, 0.3, 0.7, 0.2}, []bool{true, false, false, true, true}, 0.15, 0.8},
		// All genuine: accept all, min − 1.
		{"accept all", []float64{0.5, 0.7}, []bool{true, true}, -0.5, 1},
		// Adjacent floats (cosines of near-duplicates): the midpoint rounds to
		// the lower score, which "s ≥ t" would accept; the upper score is the
		// threshold that rejects it.
		{"adjacent floats", []float64{0.7071067811865476, 0.7071067811865475}, []bool{true, false}, 0.7071067811865476, 1},
	} {
		th, acc := BestThreshold(tc.scores, tc.same)
		if math.Abs(th-tc.wantT) > 1e-12 || math.Abs(acc-tc.wantAc) > 1e-12 {
			t.Errorf("%s: got t=%v acc=%v, want %v, %v", tc.name, th, acc, tc.wantT, tc.wantAc)
		}
		// The accuracy claimed is the accuracy the threshold gives.
		ok := 0
		for i, s := range tc.scores {
			if (s >= th) == tc.same[i] {
				ok++
			}
		}
		if got := float64(ok) / float64(len(tc.scores)); got != acc {
			t.Errorf("%s: t=%v decides %v of the pairs right, BestThreshold says %v", tc.name, th, got, acc)
		}
	}
}

// TestVerificationFoldThresholds: the threshold of each fold comes from the
// other folds. 1-D euclidean pairs, s = −distance:
//
//	fold A: genuine s −.1 −.2, impostor s −.9 −.8 → own best t = −.5
//	fold B: genuine s −.6 −.55, impostor s −1 −.95 → own best t = −.775
//
// A judged with B's −.775 is all right (1); B judged with A's −.5 rejects its
// genuine pairs (½). Mean ¾, population std ¼. Over all pairs the classes
// separate: t = midpoint(−.8, −.6) = −.7, FAR 0, AUC 1, EER 0.
func TestVerificationFoldThresholds(t *testing.T) {
	dists := [][]float64{{0.1, 0.2, 0.9, 0.8}, {0.6, 0.55, 1.0, 0.95}}
	var pos []float64
	var folds []Fold
	for _, fd := range dists {
		var f Fold
		for k, d := range fd {
			f.Pairs = append(f.Pairs, Pair{I: len(pos), J: len(pos) + 1, Same: k < 2})
			pos = append(pos, 0, d)
		}
		folds = append(folds, f)
	}
	e := line(pos, make([]int, len(pos)))
	rep := Verification(e, Euclidean{}, folds)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"accuracy", rep.Accuracy, 0.75},
		{"accuracy std", rep.AccuracyStd, 0.25},
		{"threshold", rep.Threshold, -0.7},
		{"far", rep.FAR, 0},
		{"auc", rep.AUC, 1},
		{"eer", rep.EER, 0},
		{"tar@0.001", rep.TARAtFAR["0.001"], 1},
	} {
		// float32 positions: 1e-6.
		if math.Abs(c.got-c.want) > 1e-6 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(rep.Genuine) != 4 || len(rep.Impostor) != 4 {
		t.Errorf("%d genuine, %d impostor scores, want 4, 4", len(rep.Genuine), len(rep.Impostor))
	}
}

// TestVerificationSeparated: well separated clusters verify perfectly.
func TestVerificationSeparated(t *testing.T) {
	e := clusters(5, 40, 8, 0.5, 1)
	rep := Verification(e, Cosine{}, Pairs(e.Labels, 10, 30, 1))
	if rep.Accuracy != 1 || rep.AccuracyStd != 0 || rep.AUC != 1 || rep.EER != 0 || rep.FAR != 0 {
		t.Errorf("separated: %+v", rep)
	}
	for k, v := range rep.TARAtFAR {
		if v != 1 {
			t.Errorf("TAR@%s = %v, want 1", k, v)
		}
	}
}

// TestBestThresholdNaNEnds: a NaN score (equal to nothing, itself
// included) used to keep the search on the same score for ever; it ends,
// and the numbers' best threshold is found when the NaN sorts first.
func TestBestThresholdNaNEnds(t *testing.T) {
	done := make(chan float64, 1)
	go func() {
		_, acc := BestThreshold([]float64{math.NaN(), 0.1, 0.9}, []bool{false, false, true})
		done <- acc
	}()
	select {
	case acc := <-done:
		if acc < 2.0/3 {
			t.Errorf("accuracy %g, want at least 2/3", acc)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("BestThreshold did not return within 10 s")
	}
}

// TestROCNaNEnds: a NaN score (equal to nothing, itself included) used to
// stop the sweep on the same score for ever, the ROC growing until memory
// ran out; so did Verification and Evaluate on embeddings with a NaN. The
// sweep ends, NaNs rank last, and the curve ends at (1, 1).
func TestROCNaNEnds(t *testing.T) {
	nan := math.NaN()
	done := make(chan []ROCPoint, 1)
	go func() { done <- ROC([]float64{0.9, nan, 0.5}, []float64{nan, 0.1}) }()
	select {
	case roc := <-done:
		// .9g .5g .1i, then the NaNs (one genuine, one impostor) together.
		want := []ROCPoint{{0, 0, math.Inf(1)}, {0, 1.0 / 3, 0.9}, {0, 2.0 / 3, 0.5}, {0.5, 2.0 / 3, 0.1}, {1, 1, nan}}
		if len(roc) != len(want) {
			t.Fatalf("ROC %v, want %v", roc, want)
		}
		for i, p := range roc {
			w := want[i]
			if p.FAR != w.FAR || p.TAR != w.TAR || p.Threshold != w.Threshold && !math.IsNaN(w.Threshold) {
				t.Errorf("point %d: %v, want %v", i, p, w)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ROC did not return within 10 s")
	}
	e := clusters(4, 10, 4, 0.5, 1)
	e.X[3] = float32(nan)
	go func() {
		Evaluate(Embeddings{}, e, Cosine{}, Options{PairsPerFold: 5})
		done <- nil
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Evaluate on a NaN embedding did not return within 10 s")
	}
}
