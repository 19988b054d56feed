package eval

import (
	"math"
	"testing"
)

// TestIdentifyConstructed: 1-D euclidean, gallery class c at 10c (c = 0..6).
//
//	probe (class, position) → classes at least as close as its own → rank
//	(0, 1)  → none                     → 1
//	(1, 24) → c2 (4), c3 (6)           → 3   (own distance 14)
//	(2, 52) → c5, c6, c4, c3           → 5   (own distance 32)
//	(3, 69) → c6, c5, c4               → 4   (own distance 39)
//	(6, 1)  → c0..c5                   → 7   (own distance 59)
//
// CMC: ranks ≤ r over 5 probes = .2 .2 .4 .6 .8 .8 1 1 1 1.
func TestIdentifyConstructed(t *testing.T) {
	gallery := line([]float64{0, 10, 20, 30, 40, 50, 60}, []int{0, 1, 2, 3, 4, 5, 6})
	probes := line([]float64{1, 24, 52, 69, 1}, []int{0, 1, 2, 3, 6})
	rep := identify(gallery, probes, Euclidean{})
	want := []float64{.2, .2, .4, .6, .8, .8, 1, 1, 1, 1}
	for r, w := range want {
		if math.Abs(rep.CMC[r]-w) > 1e-12 {
			t.Errorf("CMC[%d] = %v, want %v", r+1, rep.CMC[r], w)
		}
	}
	if rep.Rank1 != rep.CMC[0] || rep.Rank5 != rep.CMC[4] {
		t.Errorf("rank1 %v rank5 %v disagree with CMC", rep.Rank1, rep.Rank5)
	}
}

func TestIdentificationSplit(t *testing.T) {
	e := clusters(6, 5, 8, 0.5, 3)
	g, p := GallerySplit(e, 11)
	if g.N != 6 || p.N != 24 {
		t.Fatalf("gallery %d, probes %d; want 6, 24", g.N, p.N)
	}
	seen := map[int]bool{}
	for _, l := range g.Labels {
		if seen[l] {
			t.Fatalf("class %d twice in the gallery", l)
		}
		seen[l] = true
	}
	g2, _ := GallerySplit(e, 11)
	for i := range g.X {
		if g.X[i] != g2.X[i] {
			t.Fatal("same seed, different gallery")
		}
	}
	// Separated clusters: everything at rank 1.
	rep := Identification(e, Cosine{}, 11)
	if rep.Rank1 != 1 || rep.Rank5 != 1 || len(rep.CMC) != CMCRanks {
		t.Errorf("separated: %+v", rep)
	}
}

func TestOpenSet(t *testing.T) {
	gallery := line([]float64{0, 100}, []int{0, 1})
	known := line([]float64{0.5, 1, 2, 103}, []int{0, 0, 0, 1})
	// Unknowns far away: every known probe is identified before any unknown.
	far := line([]float64{1000, 2000, 3000}, []int{7, 8, 9})
	rep := OpenSetIdentification(gallery, known, far, Euclidean{})
	for k, v := range rep.DIRAtFAR {
		if v != 1 {
			t.Errorf("far unknowns: DIR@%s = %v, want 1", k, v)
		}
	}
	if rep.DetectionAUC != 1 {
		t.Errorf("far unknowns: detection AUC %v, want 1", rep.DetectionAUC)
	}
	// One of 10 unknowns (score −1.5) beats two known probes (−2, −3).
	// FAR .1 allows it: DIR 1. FAR .01 allows none: only −.5 and −1 pass, DIR ½.
	// AUC: −.5 and −1 beat all 10, −2 and −3 beat 9 → 38/40.
	pos := []float64{101.5}
	for k := 0; k < 9; k++ {
		pos = append(pos, 41+float64(k))
	}
	unknown := line(pos, make([]int, 10))
	for i := range unknown.Labels {
		unknown.Labels[i] = 50 + i
	}
	rep = OpenSetIdentification(gallery, known, unknown, Euclidean{})
	for _, c := range []struct {
		key  string
		want float64
	}{{"0.1", 1}, {"0.01", 0.5}, {"0.001", 0.5}} {
		if got := rep.DIRAtFAR[c.key]; math.Abs(got-c.want) > 1e-12 {
			t.Errorf("DIR@%s = %v, want %v", c.key, got, c.want)
		}
	}
	if math.Abs(rep.DetectionAUC-0.95) > 1e-12 {
		t.Errorf("detection AUC %v, want 0.95", rep.DetectionAUC)
	}
	// A misidentified known probe never counts, whatever its score.
	wrong := line([]float64{99}, []int{0})
	if got := OpenSetIdentification(gallery, wrong, far, Euclidean{}).DIRAtFAR["0.1"]; got != 0 {
		t.Errorf("misidentified probe: DIR %v, want 0", got)
	}
}
