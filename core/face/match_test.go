package face

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestTemplate(t *testing.T) {
	for _, c := range []struct {
		name string
		embs []float32
		d    int
		want []float32
		tol  float64
	}{
		// (3,4)/5 = (0.6,0.8) and (0,2)/2 = (0,1): sum (0.6,1.8), norm
		// √3.6 = 1.8974: (0.31623, 0.94868).
		{"two", []float32{3, 4, 0, 2}, 2, []float32{0.31623, 0.94868}, 1e-5},
		// One embedding: itself normalised.
		{"one", []float32{0, 0, 5}, 3, []float32{0, 0, 1}, 0},
		// Opposite embeddings cancel: the zero template.
		{"cancel", []float32{1, 0, -2, 0}, 2, []float32{0, 0}, 0},
		// A zero embedding counts as zero.
		{"zero", []float32{0, 0, 1, 1}, 2, []float32{0.70711, 0.70711}, 1e-5},
	} {
		got := Template(nil, c.embs, c.d)
		for k := range c.want {
			if len(got) != len(c.want) || math.Abs(float64(got[k]-c.want[k])) > c.tol {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
}

func TestCosine(t *testing.T) {
	for _, c := range []struct {
		a, b []float32
		want float64
	}{
		{[]float32{1, 0}, []float32{0, 3}, 0},
		{[]float32{1, 1}, []float32{2, 2}, 1},
		{[]float32{1, 0}, []float32{-1, 0}, -1},
		{[]float32{3, 4}, []float32{4, 3}, 24.0 / 25}, // (12+12)/(5·5)
		{[]float32{0, 0}, []float32{1, 0}, 0},         // zero: 0
	} {
		if got := Cosine(c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Cosine(%v, %v) = %g, want %g", c.a, c.b, got, c.want)
		}
	}
}

func TestIdentify(t *testing.T) {
	templates := [][]float32{{1, 0}, {0, 1}, {-1, 0}}
	// Probe (0.8, 0.6): scores 0.8, 0.6, −0.8.
	best, scores := Identify([]float32{0.8, 0.6}, templates, 0.5)
	want := []float64{0.8, 0.6, -0.8}
	for k := range want {
		if math.Abs(scores[k]-want[k]) > 1e-7 {
			t.Errorf("scores %v, want %v", scores, want)
		}
	}
	if best != 0 {
		t.Errorf("best %d, want 0", best)
	}
	if best, _ := Identify([]float32{0.8, 0.6}, templates, 0.85); best != -1 {
		t.Errorf("above every score: best %d, want −1", best)
	}
	if best, scores := Identify([]float32{1, 0}, nil, 0); best != -1 || len(scores) != 0 {
		t.Errorf("no templates: %d, %v", best, scores)
	}
}

// TestCalibrate on six 2-D embeddings, three identities at angles (degrees)
// A: 0, 10; B: 90, 100; C: 180, 190. Leave-one-out templates of a pair are
// the other member, so every genuine score is cos 10° = 0.98481. Each
// embedding meets the two other identities' templates (at 5°, 95°, 185°):
// the 12 impostor scores are, per embedding,
//
//	0°:   cos 95°, cos 185° = −0.08716, −0.99619
//	10°:  cos 85°, cos 175° =  0.08716, −0.99619
//	90°:  cos 85°, cos 95°  =  0.08716, −0.08716
//	100°: cos 95°, cos 85°  = −0.08716,  0.08716
//	180°: cos 175°, cos 85° = −0.99619,  0.08716
//	190°: cos 185°, cos 95° = −0.99619, −0.08716
//
// so four of 0.08716, four of −0.08716 and four of −0.99619.
func TestCalibrate(t *testing.T) {
	deg := []float64{0, 10, 90, 100, 180, 190}
	embs := make([]float32, 0, 12)
	for _, a := range deg {
		embs = append(embs, float32(math.Cos(a*math.Pi/180)), float32(math.Sin(a*math.Pi/180)))
	}
	labels := []int{7, 7, 3, 3, 5, 5}
	c5, c10, c85 := math.Cos(5*math.Pi/180), math.Cos(10*math.Pi/180), math.Cos(85*math.Pi/180)
	for _, c := range []struct {
		far                     float64
		threshold, wantFAR, frr float64
		tol                     float64
	}{
		// far 0: m = 0, the highest impostor score 0.08716; the next
		// higher score is a genuine 0.98481, so the threshold is halfway,
		// 0.53598, and every genuine score is accepted.
		{0, (c85 + c10) / 2, 0, 0, 1e-6},
		// far 0.25: m = 3. The four "0.08716" differ in their last bits
		// (float32 inputs): the gap above s₃ accepts three of them and
		// every genuine score. Rejecting those three too costs no genuine
		// accept, so the threshold rises to the same 0.53598: FAR 0. It
		// stopped at the gap above s₃ (0.08716, FAR 3/12), as with the
		// page's 114 impostor scores at far 0.01 it stopped between the
		// two highest though every genuine score was far above them.
		{0.25, (c85 + c10) / 2, 0, 0, 1e-6},
		// far 0.5: m = 6, s₆ among the −0.08716: the same.
		{0.5, (c85 + c10) / 2, 0, 0, 1e-6},
		// far 0.9: m = 10, s₁₀ among the −0.99619: the same.
		{0.9, (c85 + c10) / 2, 0, 0, 1e-6},
		// far 1: every score accepted, threshold −1.
		{1, -1, 1, 0, 0},
	} {
		got := Calibrate(embs, 2, labels, c.far)
		if len(got.Genuine) != 6 || len(got.Impostor) != 12 {
			t.Fatalf("far %g: %d genuine, %d impostor scores, want 6 and 12", c.far, len(got.Genuine), len(got.Impostor))
		}
		for _, g := range got.Genuine {
			if math.Abs(g-math.Cos(10*math.Pi/180)) > 1e-6 {
				t.Errorf("genuine %g, want cos 10°", g)
			}
		}
		if math.Abs(got.Threshold-c.threshold) > c.tol || got.Threshold <= c.threshold-1e-6 && c.far < 1 {
			t.Errorf("far %g: threshold %.6f, want just above %.6f", c.far, got.Threshold, c.threshold)
		}
		if math.Abs(got.FAR-c.wantFAR) > 1e-12 || got.FAR > c.far || math.Abs(got.FRR-c.frr) > 1e-12 {
			t.Errorf("far %g: FAR %g FRR %g, want %g and %g", c.far, got.FAR, got.FRR, c.wantFAR, c.frr)
		}
	}
	// Exact ties: A (1,0)×2, B (0,1)×2, C (−1,0)×2. Impostor scores: A
	// against B 0 and C −1, B against A and C 0, C against A −1 and B 0:
	// eight 0 and four −1. far 0.25: m = 3, s₃ = 0 is tied with s₀..s₂,
	// so all eight are rejected together: the next higher score is a
	// genuine 1, the threshold halfway, 0.5; FAR 0.
	ties := Calibrate([]float32{1, 0, 1, 0, 0, 1, 0, 1, -1, 0, -1, 0}, 2, []int{0, 0, 1, 1, 2, 2}, 0.25)
	if ties.Threshold != 0.5 || ties.FAR != 0 || ties.FRR != 0 {
		t.Errorf("ties: threshold %g FAR %g FRR %g, want 0.5, 0, 0", ties.Threshold, ties.FAR, ties.FRR)
	}
	// far 0.5: m = 6, s₆ = 0 still: the same.
	if ties := Calibrate([]float32{1, 0, 1, 0, 0, 1, 0, 1, -1, 0, -1, 0}, 2, []int{0, 0, 1, 1, 2, 2}, 0.5); ties.FAR != 0 {
		t.Errorf("ties at far 0.5: FAR %g, want 0", ties.FAR)
	}
	// A threshold above the genuine scores rejects them: one identity's
	// pair at 0° and 170° (genuine cos 170°) against another at 90°.
	got := Calibrate([]float32{1, 0, float32(math.Cos(170 * math.Pi / 180)), float32(math.Sin(170 * math.Pi / 180)), 0, 1},
		2, []int{0, 0, 1}, 0)
	// Genuine: cos 170° twice (the singleton identity has none); impostor:
	// 0°·t(90°) = 0, 170°·t(90°) = cos 80°, 90°·t(85°) = cos 5°, the
	// highest score of all: the threshold is the float64 just above it.
	if len(got.Genuine) != 2 || got.FRR != 1 || math.Abs(got.Threshold-c5) > 1e-6 || got.FAR != 0 {
		t.Errorf("got %+v, want FRR 1 at threshold cos 5°", got)
	}
}

func TestTemplates(t *testing.T) {
	// Two identities in 2-D: a at 0° and 90° (template at 45°), b at 180°,
	// c without embeddings (a zero template).
	embs := []float32{1, 0, 0, 1, -1, 0}
	ts := Templates(embs, 2, []int{0, 0, 1}, 3)
	s := float32(math.Sqrt(0.5))
	if math.Abs(float64(ts[0][0]-s)) > 1e-6 || math.Abs(float64(ts[0][1]-s)) > 1e-6 || ts[1][0] != -1 || ts[1][1] != 0 || ts[2][0] != 0 || ts[2][1] != 0 {
		t.Errorf("Templates = %v, want [[√½ √½] [-1 0] [0 0]]", ts)
	}
}

// TestTemplatesBadLabels: a label outside [0, k), or k negative, is the
// caller's mistake and panics with the package's message; before, a
// label k panicked with the runtime's index out of range, and a negative
// k with makeslice's len out of range, neither naming Templates.
func TestTemplatesBadLabels(t *testing.T) {
	for _, c := range []struct {
		name   string
		labels []int
		k      int
	}{
		{"label k", []int{0, 2}, 2},
		{"negative label", []int{-1, 0}, 2},
		{"k negative", []int{0, 0}, -1},
		{"k zero", []int{0, 0}, 0},
	} {
		func() {
			defer func() {
				r, _ := recover().(string)
				if !strings.HasPrefix(r, "face: Templates: label ") {
					t.Errorf("%s: panic %q, want face: Templates: label …", c.name, r)
				}
			}()
			Templates([]float32{1, 0, 0, 1}, 2, c.labels, c.k)
		}()
	}
}

func TestRank(t *testing.T) {
	r := Rank([]string{"a", "b", "c"}, []float64{0.1, 0.9, 0.1})
	if r[0].Name != "b" || r[1].Name != "a" || r[2].Name != "c" || r[0].Score != 0.9 {
		t.Errorf("Rank = %v, want b, then a and c in order", r)
	}
}

// TestCalibrateOn scores only the probes, against templates of every
// embedding. A is trained at 0° twice and probed at 30°, B trained at 90°
// twice and probed at 120°: each probe's genuine score is against its
// identity's template without it (0° and 90°), cos 30°; its impostor score
// against the other's full template: B's sums to (cos 120°, 2 + sin 120°),
// A's to (2 + cos 30°, sin 30°).
func TestCalibrateOn(t *testing.T) {
	rad := func(deg float64) float64 { return deg * math.Pi / 180 }
	var embs []float32
	for _, a := range []float64{0, 0, 30, 90, 90, 120} {
		embs = append(embs, float32(math.Cos(rad(a))), float32(math.Sin(rad(a))))
	}
	labels := []int{0, 0, 0, 1, 1, 1}
	thetaB := math.Atan2(2+math.Sin(rad(120)), math.Cos(rad(120)))
	thetaA := math.Atan2(math.Sin(rad(30)), 2+math.Cos(rad(30)))
	wantImp := []float64{math.Cos(rad(30) - thetaB), math.Cos(rad(120) - thetaA)}
	got := CalibrateOn(embs, 2, labels, []int{2, 5}, 0)
	if len(got.Genuine) != 2 || len(got.Impostor) != 2 {
		t.Fatalf("%d genuine and %d impostor scores, want 2 and 2", len(got.Genuine), len(got.Impostor))
	}
	for i := range 2 {
		if math.Abs(got.Genuine[i]-math.Cos(rad(30))) > 1e-6 || math.Abs(got.Impostor[i]-wantImp[i]) > 1e-6 {
			t.Errorf("probe %d: genuine %.6f impostor %.6f, want %.6f and %.6f", i, got.Genuine[i], got.Impostor[i], math.Cos(rad(30)), wantImp[i])
		}
	}
	// far 0: halfway between the highest impostor score and cos 30°.
	if want := (wantImp[0] + math.Cos(rad(30))) / 2; math.Abs(got.Threshold-want) > 1e-6 || got.FAR != 0 || got.FRR != 0 {
		t.Errorf("threshold %.6f FAR %g FRR %g, want %.6f, 0, 0", got.Threshold, got.FAR, got.FRR, want)
	}
	// The trained embeddings' genuine scores are higher (cos 0° against
	// a template with the probe in it is not 1, but above cos 30°): all of
	// them is Calibrate.
	all := CalibrateOn(embs, 2, labels, nil, 0)
	if want := Calibrate(embs, 2, labels, 0); !reflect.DeepEqual(all, want) {
		t.Errorf("CalibrateOn(nil) = %+v, Calibrate = %+v", all, want)
	}
	if len(all.Genuine) != 6 || slices.Max(all.Genuine) <= math.Cos(rad(30))+0.01 {
		t.Errorf("every embedding: genuine %v, want 6 with trained ones above cos 30°", all.Genuine)
	}
	defer func() {
		if recover() == nil {
			t.Error("a probe out of range did not panic")
		}
	}()
	CalibrateOn(embs, 2, labels, []int{6}, 0)
}

// TestCalibrateAdjacentScores: A at (−2, −2), B at (−2, 1). A meets B's
// template (−2, 1)/√5 and B meets A's (−1, −1)/√2, each at the cosine
// 1/√10, but the float32 templates round apart: A's score is
// 0.3162277660168379 and B's the float64 just above. far 0.5: m = 1, s₁
// is A's, and the threshold must reject it (FAR 1/2); their midpoint
// rounds to A's score, which accepted both (FAR 1). With no genuine
// scores (an embedding each) the threshold stays in that gap.
func TestCalibrateAdjacentScores(t *testing.T) {
	c := Calibrate([]float32{-2, -2, -2, 1}, 2, []int{0, 1}, 0.5)
	lo, hi := c.Impostor[0], c.Impostor[1]
	if math.Nextafter(lo, 1) != hi {
		t.Fatalf("impostor scores %v, want the second the float64 just above the first", c.Impostor)
	}
	if c.Threshold != hi || c.FAR != 0.5 || c.FRR != 0 {
		t.Errorf("threshold %v FAR %v FRR %v, want %v, 1/2, 0", c.Threshold, c.FAR, c.FRR, hi)
	}
}

// TestThreshold: Calibrate's rule on scores picked by hand, so that
// genuine and impostor scores interleave and floats are adjacent where
// wanted. x⁺ is the float64 just above x.
func TestThreshold(t *testing.T) {
	up := func(x float64) float64 { return math.Nextafter(x, 2) }
	x := 0.3
	for _, c := range []struct {
		name              string
		genuine, impostor []float64
		far, want         float64
		tol               float64
	}{
		// Impostor scores 0.8 0.6 0.5 0.3 0.2 0.1 0 −0.1 −0.2 −0.3 (10),
		// genuine 0.9 0.7 0.4 0.25.
		// far 0: m = 0, the gap above 0.8 (to 0.9) accepts one genuine
		// score, 0.9, the lowest accepted: halfway between 0.8 and 0.9.
		{"far 0", []float64{0.9, 0.7, 0.4, 0.25}, []float64{0.8, 0.6, 0.5, 0.3, 0.2, 0.1, 0, -0.1, -0.2, -0.3}, 0, 0.85, 1e-15},
		// far 0.1: m = 1, the gap above 0.6 (to 0.7) accepts 0.8 and
		// genuine 0.9 and 0.7: nothing to gain, halfway between 0.6 and
		// 0.7 (FAR 1/10).
		{"far 0.1", []float64{0.9, 0.7, 0.4, 0.25}, []float64{0.8, 0.6, 0.5, 0.3, 0.2, 0.1, 0, -0.1, -0.2, -0.3}, 0.1, 0.65, 1e-15},
		// far 0.35: m = 3, the gap above 0.3 (to 0.4) accepts 0.8 0.6 0.5
		// and genuine 0.9 0.7 0.4; the lowest, 0.4, has 0.3 below: 0.35.
		{"far 0.35", []float64{0.9, 0.7, 0.4, 0.25}, []float64{0.8, 0.6, 0.5, 0.3, 0.2, 0.1, 0, -0.1, -0.2, -0.3}, 0.35, 0.35, 1e-15},
		// far 0.75: m = 7, the gap above −0.1 (to 0) accepts genuine 0.25
		// too; the highest impostor score below it is 0.2: 0.225, which
		// rejects 0.1 and 0 (FAR 4/10, not 7/10).
		{"far 0.75", []float64{0.9, 0.7, 0.4, 0.25}, []float64{0.8, 0.6, 0.5, 0.3, 0.2, 0.1, 0, -0.1, -0.2, -0.3}, 0.75, 0.225, 1e-15},
		// No genuine score accepted (all below the impostor scores): m =
		// 1, the gap above s₁ stays, halfway between 0.6 and 0.8.
		{"none accepted", []float64{-0.5, -0.6}, []float64{0.8, 0.6, 0.2, 0.1}, 0.25, 0.7, 1e-15},
		// No genuine scores: the same.
		{"no genuine", nil, []float64{0.8, 0.6, 0.2, 0.1}, 0.25, 0.7, 1e-15},
		// Apart, as the page met them: 114 impostor scores in [−0.5, 0.2],
		// 57 genuine in [0.5, 0.9], far 0.01 (m = 1): halfway between
		// 0.2 and 0.5, where the gap above s₁ gave the middle of s₁ and s₀.
		{"apart", spread(57, 0.5, 0.9), spread(114, -0.5, 0.2), 0.01, 0.35, 1e-15},
		// The genuine score x⁺ just above an impostor x: halfway rounds to
		// x, so the threshold is x⁺ itself, which rejects x.
		{"adjacent genuine", []float64{up(x)}, []float64{x, x, 0}, 0, up(x), 0},
		// An impostor score tied with the lowest accepted genuine one is
		// accepted with it (FAR counts it): halfway between 0.2 and 0.5.
		{"tied with genuine", []float64{0.5, 0.9}, []float64{0.5, 0.2, 0.1, 0}, 0.25, 0.35, 1e-15},
		// Ties at s_m are rejected together, then the rise: m = 1, s₁ =
		// s₂ = 0.6, the gap above them to 0.8 accepts genuine 0.9: 0.85.
		{"ties", []float64{0.9, 0.5}, []float64{0.8, 0.6, 0.6, 0.1}, 0.25, 0.85, 1e-15},
		// far 1: accept all, −1.
		{"far 1", []float64{0.9}, []float64{0.8, 0.6}, 1, -1, 0},
		// No impostor scores: −1, or the lowest score below it.
		{"no impostor", []float64{0.9}, nil, 0, -1, 0},
		{"below −1", []float64{math.Nextafter(-1, -2), 0.5}, nil, 0, math.Nextafter(-1, -2), 0},
		// A NaN score (a diverged encoder's) is no lowest score: −1.
		{"NaN", []float64{math.NaN(), 0.5}, nil, 0, -1, 0},
	} {
		got := threshold(c.genuine, c.impostor, c.far)
		if !(math.Abs(got-c.want) <= c.tol) { // a NaN fails
			t.Errorf("%s: threshold %v, want %v", c.name, got, c.want)
		}
	}
}

// spread returns n scores evenly from lo to hi, highest first.
func spread(n int, lo, hi float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = hi - (hi-lo)*float64(i)/float64(n-1)
	}
	return s
}

// TestIdentifyDegenerate: zero vectors score 0 (Cosine), duplicate
// templates tie (the first wins), and a NaN score is never a match: a NaN
// probe scored NaN against every template, and NaN < threshold being
// false, it was identified as the first identity at any threshold; a NaN
// first template won against every probe.
func TestIdentifyDegenerate(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		name      string
		probe     []float32
		templates [][]float32
		threshold float64
		best      int
	}{
		{"zero probe at threshold 0", []float32{0, 0}, [][]float32{{1, 0}, {0, 1}}, 0, 0},
		{"zero probe above 0", []float32{0, 0}, [][]float32{{1, 0}, {0, 1}}, 0.1, -1},
		{"zero template", []float32{1, 0}, [][]float32{{0, 0}, {-1, 0}}, -1, 0},
		{"one identity", []float32{1, 1}, [][]float32{{1, 0}}, 0.7, 0},
		{"duplicates tie", []float32{1, 1}, [][]float32{{0, 1}, {1, 0}, {1, 0}}, 0.5, 0},
		{"NaN probe", []float32{nan, 1}, [][]float32{{1, 0}, {0, 1}}, 0.5, -1},
		{"NaN probe, threshold −1", []float32{nan, 1}, [][]float32{{1, 0}}, -1, -1},
		{"NaN first template", []float32{0, 1}, [][]float32{{nan, 0}, {0, 1}, {1, 0}}, 0.5, 1},
		{"NaN first template, no match", []float32{-1, 0}, [][]float32{{nan, 0}, {0, 1}}, 0.5, -1},
	} {
		best, scores := Identify(c.probe, c.templates, c.threshold)
		if best != c.best || len(scores) != len(c.templates) {
			t.Errorf("%s: best %d of scores %v, want %d", c.name, best, scores, c.best)
		}
	}
}

// TestCalibrateAcceptAll: e = (−0.09608235, −1.0130949) and −e, whose
// cosine a·b/(‖a‖·‖b‖) rounds to −1 − 2⁻⁵² (found by a search over normal
// draws). As two identities at far 1, or one identity, every score must be
// accepted; a threshold of −1 rejected them (FAR 0 at far 1, FRR 1).
func TestCalibrateAcceptAll(t *testing.T) {
	embs := []float32{-0.09608235, -1.0130949, 0.09608235, 1.0130949}
	two := Calibrate(embs, 2, []int{0, 1}, 1)
	if len(two.Impostor) != 2 || two.Impostor[0] >= -1 {
		t.Fatalf("impostor scores %v, want two below −1", two.Impostor)
	}
	if two.FAR != 1 || two.Threshold > two.Impostor[0] {
		t.Errorf("far 1: threshold %v FAR %v, want every score accepted", two.Threshold, two.FAR)
	}
	one := Calibrate(embs, 2, []int{0, 0}, 0)
	if len(one.Genuine) != 2 || one.Genuine[0] >= -1 || one.FRR != 0 {
		t.Errorf("one identity: genuine %v, threshold %v FRR %v, want FRR 0", one.Genuine, one.Threshold, one.FRR)
	}
}
