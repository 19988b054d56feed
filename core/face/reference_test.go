package face

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The brute-force references below are written from the doc comments of
// match.go, sharing no code with what they check beyond Template and
// Cosine: each leave-one-out template is made again from the other
// embeddings, and the threshold is found by trying every gap between
// distinct scores.

// refScores is CalibrateOn's scores by definition: for each probe in
// order, its identity's template of the other embeddings (no genuine score
// when there are none), then every other identity's full template, the
// identities in order of first appearance.
func refScores(embs []float32, d int, labels, probes []int) (genuine, impostor []float64) {
	var order []int
	members := map[int][]int{}
	for i, l := range labels {
		if _, ok := members[l]; !ok {
			order = append(order, l)
		}
		members[l] = append(members[l], i)
	}
	template := func(rows []int) []float32 {
		var m []float32
		for _, j := range rows {
			m = append(m, embs[j*d:(j+1)*d]...)
		}
		return Template(nil, m, d)
	}
	if probes == nil {
		for i := range labels {
			probes = append(probes, i)
		}
	}
	for _, i := range probes {
		e := embs[i*d : (i+1)*d]
		others := slices.DeleteFunc(slices.Clone(members[labels[i]]), func(j int) bool { return j == i })
		if len(others) > 0 {
			genuine = append(genuine, Cosine(e, template(others)))
		}
		for _, l := range order {
			if l != labels[i] {
				impostor = append(impostor, Cosine(e, template(members[l])))
			}
		}
	}
	return genuine, impostor
}

// refGap is the gap the threshold must sit in, by trying every candidate
// from the lowest: accept all (all = true; lo the threshold, −1 or the
// lowest score if below) when accepting every impostor score keeps the
// rate at most far, else the gap (lo, hi] above the lowest distinct score
// (of either kind) whose acceptance of the impostor scores strictly above
// it keeps #accepted ≤ far·#impostor; hi is +Inf when no score is higher.
// Where that gap accepts a genuine score, it is then the highest gap that
// accepts as many genuine scores.
func refGap(genuine, impostor []float64, far float64) (lo, hi float64, all bool) {
	n := len(impostor)
	vals := slices.Concat(genuine, impostor)
	slices.Sort(vals)
	vals = slices.Compact(vals)
	if n == 0 || float64(n) <= far*float64(n) {
		if len(vals) > 0 && vals[0] < -1 {
			return vals[0], vals[0], true
		}
		return -1, -1, true
	}
	above := func(scores []float64, v float64) int {
		a := 0
		for _, s := range scores {
			if s > v {
				a++
			}
		}
		return a
	}
	for i, v := range vals {
		if float64(above(impostor, v)) > far*float64(n) {
			continue
		}
		if g := above(genuine, v); g > 0 {
			for i+1 < len(vals) && above(genuine, vals[i+1]) == g {
				i++
			}
		}
		hi = math.Inf(1)
		if i+1 < len(vals) {
			hi = vals[i+1]
		}
		return vals[i], hi, false
	}
	panic("refGap: no gap") // the highest score has nothing above it
}

// checkCalibration checks c, Calibrate's outcome for far, against the
// reference scores and the documented threshold rule, and its FAR and FRR
// against a count at its threshold.
func checkCalibration(t *testing.T, name string, c Calibration, genuine, impostor []float64, far float64) {
	t.Helper()
	if len(c.Genuine) != len(genuine) || len(c.Impostor) != len(impostor) {
		t.Fatalf("%s: %d genuine and %d impostor scores, reference %d and %d", name, len(c.Genuine), len(c.Impostor), len(genuine), len(impostor))
	}
	// Templates are float32: a sum less one embedding and a sum of the
	// others may round apart in the last float32 bit.
	for i := range genuine {
		if math.Abs(c.Genuine[i]-genuine[i]) > 1e-6 {
			t.Fatalf("%s: genuine %d %v, reference %v", name, i, c.Genuine[i], genuine[i])
		}
	}
	for i := range impostor {
		if math.Abs(c.Impostor[i]-impostor[i]) > 1e-6 {
			t.Fatalf("%s: impostor %d %v, reference %v", name, i, c.Impostor[i], impostor[i])
		}
	}
	// The rule on Calibrate's own scores, which the reference's may
	// differ from in the last bits.
	lo, hi, all := refGap(c.Genuine, c.Impostor, far)
	switch {
	case all:
		if c.Threshold != lo {
			t.Fatalf("%s: threshold %v, want %v (accept all)", name, c.Threshold, lo)
		}
	case math.IsInf(hi, 1):
		if c.Threshold != math.Nextafter(lo, 2) {
			t.Fatalf("%s: threshold %v, want the float64 just above the highest score %v", name, c.Threshold, lo)
		}
	default:
		// In (lo, hi], at the midpoint within a rounding, or hi when the
		// midpoint rounds to lo (adjacent floats).
		mid := lo + (hi-lo)/2
		if !(c.Threshold > lo && c.Threshold <= hi) || c.Threshold != hi && math.Abs(c.Threshold-mid) > 1e-15 {
			t.Fatalf("%s: threshold %v, want the middle of (%v, %v] (scores %v and %v)", name, c.Threshold, lo, hi, c.Genuine, c.Impostor)
		}
	}
	var far2, frr float64
	if n := len(c.Impostor); n > 0 {
		a := 0
		for _, s := range c.Impostor {
			if s >= c.Threshold {
				a++
			}
		}
		far2 = float64(a) / float64(n)
	}
	if n := len(c.Genuine); n > 0 {
		r := 0
		for _, s := range c.Genuine {
			if s < c.Threshold {
				r++
			}
		}
		frr = float64(r) / float64(n)
	}
	if c.FAR != far2 || c.FRR != frr {
		t.Fatalf("%s: FAR %v FRR %v, the threshold %v gives %v and %v", name, c.FAR, c.FRR, c.Threshold, far2, frr)
	}
	if c.FAR > far {
		t.Fatalf("%s: FAR %v above the asked %v", name, c.FAR, far)
	}
}

// randomGallery returns n embeddings of dimension d with small integer
// components (ties, and now and then a zero embedding) and labels among
// k arbitrary ints.
func randomGallery(rng *rand.Rand, n, d, k int) ([]float32, []int) {
	ids := []int{7, -3, 100, 0, 42, 5}[:k]
	embs := make([]float32, n*d)
	for i := range embs {
		embs[i] = float32(rng.IntN(5) - 2)
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = ids[rng.IntN(k)]
	}
	return embs, labels
}

func TestCalibrateMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 1))
	fars := []float64{0, 1, 0.25, 0.5, 1.0 / 3, 0.1, 0.9}
	for trial := range 400 {
		n, d, k := 1+rng.IntN(10), 1+rng.IntN(3), 1+rng.IntN(4)
		embs, labels := randomGallery(rng, n, d, k)
		var probes []int
		if trial%2 == 1 {
			probes = []int{}
			for range rng.IntN(n + 1) {
				probes = append(probes, rng.IntN(n))
			}
		}
		gen, imp := refScores(embs, d, labels, probes)
		for _, far := range append(fars, rng.Float64()) {
			c := CalibrateOn(embs, d, labels, probes, far)
			checkCalibration(t, "random", c, gen, imp, far)
		}
	}
}

// TestCalibrateDegenerate: galleries where the rule's edge cases are
// sure to be met.
func TestCalibrateDegenerate(t *testing.T) {
	for _, c := range []struct {
		name   string
		embs   []float32
		d      int
		labels []int
	}{
		// No impostor scores: the threshold is −1.
		{"one identity", []float32{1, 0, 0, 1, 1, 1}, 2, []int{4, 4, 4}},
		// No genuine scores: FRR 0.
		{"one snapshot each", []float32{1, 0, 0, 1, -1, 0}, 2, []int{0, 1, 2}},
		// Every score 1: nothing above the impostor scores but ties.
		{"all equal", []float32{2, 2, 2, 2, 2, 2, 2, 2}, 2, []int{0, 0, 1, 1}},
		// Every embedding zero: every score 0.
		{"all zero", []float32{0, 0, 0, 0, 0, 0}, 2, []int{0, 0, 1}},
		{"one embedding", []float32{3}, 1, []int{1}},
		// Opposite embeddings whose cosine rounds to −1 − 2⁻⁵² (found by
		// a search over normal draws).
		{"below −1", []float32{-0.09608235, -1.0130949, 0.09608235, 1.0130949}, 2, []int{0, 1}},
		{"below −1, one identity", []float32{-0.09608235, -1.0130949, 0.09608235, 1.0130949}, 2, []int{0, 0}},
	} {
		gen, imp := refScores(c.embs, c.d, c.labels, nil)
		for _, far := range []float64{0, 0.2, 0.5, 1} {
			checkCalibration(t, c.name, Calibrate(c.embs, c.d, c.labels, far), gen, imp, far)
		}
	}
}
