package job

import "testing"

// TestSmallSet trains on webcam-sized enrollments: 2 identities × 20
// images (bars' first two classes), augmented, with every held-out
// setting: the default (a tenth: 4 images, 2 genuine pairs, so 2 folds of
// one pair), none, one image (no genuine pair: no verification), more than
// the set (none). Nothing may fail; Verification is there exactly when
// pairs could be drawn, and snapshots have points.
func TestSmallSet(t *testing.T) {
	set := bars(20, 3).Subset([]int{0, 1})
	for _, c := range []struct {
		name      string
		val       int
		wantVal   int
		wantVerif bool
	}{
		{"default", 0, 4, true},
		{"none", -1, 0, false},
		{"one", 1, 0, false}, // quota ⌊20·1/40⌋ = 0 per class: nothing held out
		{"three", 3, 2, false},
		{"too many", 100, 0, false},
	} {
		req := barsRequest()
		req.Epochs, req.Batch = 2, 8
		j, err := New(req, set, nil, Options{Val: c.val, Augment: true})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if _, vn := j.Sizes(); vn != c.wantVal {
			t.Errorf("%s: %d held out, want %d", c.name, vn, c.wantVal)
		}
		verif := false
		for !j.Done() {
			p, err := j.Step()
			if err != nil {
				t.Fatalf("%s: step: %v", c.name, err)
			}
			verif = verif || p.Verification != nil
		}
		if verif != c.wantVerif {
			t.Errorf("%s: verification %v, want %v", c.name, verif, c.wantVerif)
		}
		snap, err := j.Snapshot()
		if err != nil {
			t.Fatalf("%s: snapshot: %v", c.name, err)
		}
		if len(snap.Labels) == 0 {
			t.Errorf("%s: snapshot without points", c.name)
		}
		if m := j.Model(); len(m.Params) == 0 {
			t.Errorf("%s: model without parameters", c.name)
		}
	}
}

// TestAugmentOption: with Augment, the same request trains on different
// pixels (another loss at the first step) and stays deterministic.
func TestAugmentOption(t *testing.T) {
	set := bars(20, 3)
	first := func(aug bool) float64 {
		j, err := New(barsRequest(), set, nil, Options{Val: -1, Augment: aug})
		if err != nil {
			t.Fatal(err)
		}
		p, err := j.Step()
		if err != nil {
			t.Fatal(err)
		}
		return p.Loss
	}
	plain, a1, a2 := first(false), first(true), first(true)
	if a1 != a2 {
		t.Errorf("augmented runs differ: %g, %g", a1, a2)
	}
	if a1 == plain {
		t.Errorf("augmentation did not change the first loss %g", plain)
	}
}
