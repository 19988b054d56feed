package losses

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTripMinerSelection checks which distances each miner charges, on a
// hand-made distance matrix (not from embeddings), through the anchor-0 row
// of dL/dD. Labels [0 0 0 1 1]; from 0: positives 1 (0.3), 2 (0.6),
// negatives 3 (0.5), 4 (0.9); margin 1 keeps every hinge of row 0 positive
// (1 + 0.3 − 0.9 = 0.4 at least).
func TestTripMinerSelection(t *testing.T) {
	labels := []int{0, 0, 0, 1, 1}
	const n = 5
	upper := map[[2]int]float64{
		{0, 1}: 0.3, {0, 2}: 0.6, {0, 3}: 0.5, {0, 4}: 0.9, {1, 2}: 0.4,
		{1, 3}: 0.7, {1, 4}: 0.2, {2, 3}: 0.8, {2, 4}: 0.35, {3, 4}: 0.45,
	}
	dm := make([]float64, n*n)
	for ij, d := range upper {
		dm[ij[0]*n+ij[1]], dm[ij[1]*n+ij[0]] = d, d
	}
	for _, tc := range []struct {
		miner tripMiner
		count float64    // T: mined triplets in the batch
		row0  [5]float64 // T·dL/dD in row 0
	}{
		// hard: farthest positive 2, closest negative 3; one per anchor, 5.
		{tripHard, 5, [5]float64{0, 0, 1, -1, 0}},
		// easy: closest positive 1, closest negative 3.
		{tripEasy, 5, [5]float64{0, 1, 0, -1, 0}},
		// semihard: (0,1) d 0.3: closest negative beyond it, 3 (0.5);
		// (0,2) d 0.6: 4 (0.9). T = ordered positive pairs: 3·2 + 2·1 = 8.
		{tripSemihard, 8, [5]float64{0, 1, 1, -1, -1}},
		// all: (0,{1,2},{3,4}); T = 3 anchors·2·2 + 2 anchors·1·3 = 18.
		{tripAll, 18, [5]float64{0, 2, 2, -2, -2}},
	} {
		gd := make([]float64, n*n)
		tripObjective{miner: tc.miner, margin: 1}.lossGradTo(gd, dm, labels, n)
		got := make([]float64, n)
		for j := range got {
			got[j] = gd[j] * tc.count
		}
		pairAssertClose(t, tc.miner.String()+" row 0 of T·dL/dD", got, tc.row0[:], 1e-12, 0)
	}
}

func TestMiners(t *testing.T) {
	if got := Miners(); !slices.Equal(got, []string{"all", "easy", "hard", "semihard"}) {
		t.Errorf("Miners() = %v", got)
	}
	for name, want := range map[string]tripMiner{"": tripSemihard, "all": tripAll, "easy": tripEasy, "hard": tripHard, "semihard": tripSemihard} {
		if got, err := tripParseMiner("triplet", name); got != want || err != nil {
			t.Errorf("tripParseMiner(%q) = %v, %v, want %v", name, got, err, want)
		}
	}
}

// pairCheckPK checks that order holds batches of p distinct classes with k
// samples each, in contiguous class blocks, and returns how often each index
// appears.
func pairCheckPK(t *testing.T, order, labels []int, p, k int) map[int]int {
	t.Helper()
	size := map[int]int{}
	for _, l := range labels {
		size[l]++
	}
	seen := map[int]int{}
	if len(order)%(p*k) != 0 {
		t.Fatalf("len(order) = %d, not a multiple of p·k = %d", len(order), p*k)
	}
	for b := 0; b < len(order); b += p * k {
		classes := map[int]bool{}
		for c := 0; c < p; c++ {
			block := order[b+c*k : b+(c+1)*k]
			l := labels[block[0]]
			if classes[l] {
				t.Fatalf("batch at %d: class %d twice", b, l)
			}
			classes[l] = true
			inBlock := map[int]bool{}
			for _, i := range block {
				if labels[i] != l {
					t.Fatalf("batch at %d: block of class %d holds index %d of class %d", b, l, i, labels[i])
				}
				if inBlock[i] && size[l] >= k {
					t.Fatalf("batch at %d: index %d twice although class %d has %d ≥ k samples", b, i, l, size[l])
				}
				inBlock[i] = true
				seen[i]++
			}
			if size[l] < k && len(inBlock) != size[l] {
				t.Fatalf("batch at %d: class %d of %d samples gave %d distinct, want all", b, l, size[l], len(inBlock))
			}
		}
	}
	return seen
}

func TestPKOrder(t *testing.T) {
	// 8 classes × 8 samples, P = 2, K = 4: 8 batches; the class cycle is
	// visited exactly twice and each class's queue exactly once, so the
	// epoch is a permutation of the 64 indices.
	labels := make([]int, 64)
	for i := range labels {
		labels[i] = (i * 5) % 8
	}
	order := PKOrder(labels, 2, 4, rand.New(rand.NewPCG(1, 2)))
	if len(order) != 64 {
		t.Fatalf("len = %d, want 64", len(order))
	}
	seen := pairCheckPK(t, order, labels, 2, 4)
	for i := range labels {
		if seen[i] != 1 {
			t.Errorf("index %d appears %d times, want once", i, seen[i])
		}
	}
	// Same rng state, same order; another seed, another order.
	if again := PKOrder(labels, 2, 4, rand.New(rand.NewPCG(1, 2))); !slices.Equal(again, order) {
		t.Errorf("PKOrder is not deterministic for a given rng")
	}
	if other := PKOrder(labels, 2, 4, rand.New(rand.NewPCG(3, 2))); slices.Equal(other, order) {
		t.Errorf("PKOrder ignores the rng")
	}

	// Uneven classes, labels not 0-based: class 7 has 2 < K samples and is
	// padded with repeats; 30 samples / (3·4) = 2 batches.
	uneven := []int{}
	for c, size := range map[int]int{7: 2, 10: 5, 11: 9, 12: 6, 20: 8} {
		for range size {
			uneven = append(uneven, c)
		}
	}
	slices.Sort(uneven)
	for seed := uint64(0); seed < 20; seed++ {
		order := PKOrder(uneven, 3, 4, rand.New(rand.NewPCG(seed, 0)))
		if len(order) != 24 {
			t.Fatalf("len = %d, want 2 batches of 12", len(order))
		}
		pairCheckPK(t, order, uneven, 3, 4)
	}
	// Fewer samples than one batch: still one batch.
	if got := PKOrder([]int{0, 1, 1}, 2, 4, rand.New(rand.NewPCG(0, 0))); len(got) != 8 {
		t.Errorf("tiny set: len %d, want one batch of 8", len(got))
	}
}

func TestPKOrderPanics(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels []int
		p, k   int
	}{
		{"too few classes", []int{0, 0, 1, 1}, 3, 2},
		{"k = 0", []int{0, 1}, 1, 0},
		{"p = 0", []int{0, 1}, 0, 2},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", tc.name)
				} else if s, _ := r.(string); len(s) < 8 || s[:8] != "losses: " {
					t.Errorf("%s: panic %v, want a message starting with \"losses: \"", tc.name, r)
				}
			}()
			PKOrder(tc.labels, tc.p, tc.k, rand.New(rand.NewPCG(0, 0)))
		}()
	}
}

// TestDefaultNames: DefaultMiner and DefaultDistance name what an empty
// Config.Miner and Config.Distance select.
func TestDefaultNames(t *testing.T) {
	empty, err1 := tripParseMiner("triplet", "")
	named, err2 := tripParseMiner("triplet", DefaultMiner())
	if err1 != nil || err2 != nil || empty != named {
		t.Errorf("miner: %q selects %v (%v), DefaultMiner %q selects %v (%v)", "", empty, err1, DefaultMiner(), named, err2)
	}
	emptyD, err1 := pairParseDistance("triplet", "")
	namedD, err2 := pairParseDistance("triplet", DefaultDistance())
	if err1 != nil || err2 != nil || emptyD != namedD {
		t.Errorf("distance: %q selects %v (%v), DefaultDistance %q selects %v (%v)", "", emptyD, err1, DefaultDistance(), namedD, err2)
	}
}
