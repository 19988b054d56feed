package eval

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The brute-force references below are written from the definitions in
// the doc comments, sharing no code with what they check beyond
// Metric.Similarity and the splits (Pairs, GallerySplit): every threshold
// is tried, every rank counted, every list fully sorted. They are O(n²)
// and meant for a few hundred items.

// refThreshold is BestThreshold by trying every candidate (min − 1, one
// threshold in each gap (a, b] between consecutive distinct scores, max +
// 1) and counting the correct decisions at each; the lowest of the best
// wins. The threshold of a gap is its midpoint, or b when the midpoint is
// not above a (adjacent floats).
func refThreshold(scores []float64, same []bool) (t, acc float64) {
	vals := slices.Clone(scores)
	slices.Sort(vals)
	vals = slices.Compact(vals)
	cands := []float64{vals[0] - 1}
	for i := 0; i+1 < len(vals); i++ {
		a, b := vals[i], vals[i+1]
		if mid := (a + b) / 2; mid > a && mid <= b {
			cands = append(cands, mid)
		} else {
			cands = append(cands, b)
		}
	}
	cands = append(cands, vals[len(vals)-1]+1)
	best := -1
	for _, c := range cands {
		ok := 0
		for i, s := range scores {
			if (s >= c) == same[i] {
				ok++
			}
		}
		if ok > best {
			best, t = ok, c
		}
	}
	return t, float64(best) / float64(len(scores))
}

// refVerification is the 10-fold protocol from its definition: the scores
// of the pairs of each fold, the threshold of fold k chosen on the others
// by refThreshold, the accuracy on fold k, mean and population std.
func refVerification(e Embeddings, m Metric, folds []Fold) (mean, std float64) {
	score := func(p Pair) float64 { return m.Similarity(e.Row(p.I), e.Row(p.J)) }
	var accs []float64
	for k, f := range folds {
		var s []float64
		var same []bool
		for j, g := range folds {
			if j == k {
				continue
			}
			for _, p := range g.Pairs {
				s = append(s, score(p))
				same = append(same, p.Same)
			}
		}
		t, _ := refThreshold(s, same)
		ok := 0
		for _, p := range f.Pairs {
			if (score(p) >= t) == p.Same {
				ok++
			}
		}
		accs = append(accs, float64(ok)/float64(len(f.Pairs)))
	}
	for _, a := range accs {
		mean += a
	}
	mean /= float64(len(accs))
	for _, a := range accs {
		std += (a - mean) * (a - mean)
	}
	return mean, math.Sqrt(std / float64(len(accs)))
}

// refRates returns FAR(t) = #{impostor ≥ t}/#impostor and TAR(t) =
// #{genuine ≥ t}/#genuine at every distinct score t, highest first, after
// the point (0, 0) of t = +Inf.
func refRates(gen, imp []float64) (far, tar []float64) {
	ts := append(slices.Clone(gen), imp...)
	slices.Sort(ts)
	ts = slices.Compact(ts)
	slices.Reverse(ts)
	far, tar = []float64{0}, []float64{0}
	for _, t := range ts {
		a, g := 0, 0
		for _, s := range imp {
			if s >= t {
				a++
			}
		}
		for _, s := range gen {
			if s >= t {
				g++
			}
		}
		far = append(far, float64(a)/float64(len(imp)))
		tar = append(tar, float64(g)/float64(len(gen)))
	}
	return far, tar
}

// refTARAtFAR is the highest TAR of a threshold that accepts at most
// ⌊far·#impostor⌋ impostors.
func refTARAtFAR(gen, imp []float64, far float64) float64 {
	allowed := int(math.Floor(far*float64(len(imp)) + 1e-9))
	fars, tars := refRates(gen, imp)
	best := 0.0
	for i := range fars {
		if int(math.Round(fars[i]*float64(len(imp)))) <= allowed {
			best = math.Max(best, tars[i])
		}
	}
	return best
}

// refEER is where the polyline through the operating points, in (FAR,
// FRR) coordinates, first meets the line FAR = FRR: on the segment from a
// to b, FAR − FRR goes linearly from d_a < 0 to d_b ≥ 0.
func refEER(gen, imp []float64) float64 {
	fars, tars := refRates(gen, imp)
	for i := 1; i < len(fars); i++ {
		da := fars[i-1] - (1 - tars[i-1])
		db := fars[i] - (1 - tars[i])
		if da < 0 && db >= 0 {
			u := -da / (db - da)
			return fars[i-1] + u*(fars[i]-fars[i-1])
		}
	}
	return math.NaN()
}

// refRanks returns each probe's rank against a gallery: its own class's
// best score and 1 + the number of other gallery classes whose best score
// is at least as high (ties against the probe); math.MaxInt when its class
// is not in the gallery.
func refRanks(gallery, probes Embeddings, m Metric) []int {
	ranks := make([]int, probes.N)
	for p := range probes.N {
		best := map[int]float64{}
		for g := range gallery.N {
			s := m.Similarity(probes.Row(p), gallery.Row(g))
			if b, ok := best[gallery.Labels[g]]; !ok || s > b {
				best[gallery.Labels[g]] = s
			}
		}
		own, ok := best[probes.Labels[p]]
		if !ok {
			ranks[p] = math.MaxInt
			continue
		}
		ranks[p] = 1
		for c, s := range best {
			if c != probes.Labels[p] && s >= own {
				ranks[p]++
			}
		}
	}
	return ranks
}

// refDIRAtFAR tries every threshold t (each top-1 score and ±Inf) and
// returns the highest DIR(t) among those with #{unknown ≥ t} ≤
// ⌊far·#unknown⌋.
func refDIRAtFAR(gallery, known, unknown Embeddings, m Metric, far float64) float64 {
	ranks := refRanks(gallery, known, m)
	ks, us := refTops(gallery, known, m), refTops(gallery, unknown, m)
	allowed := int(math.Floor(far*float64(unknown.N) + 1e-9))
	ts := append(append([]float64{math.Inf(-1), math.Inf(1)}, ks...), us...)
	best := 0.0
	for _, t := range ts {
		a := 0
		for _, s := range us {
			if s >= t {
				a++
			}
		}
		if a > allowed {
			continue
		}
		d := 0
		for p, s := range ks {
			if ranks[p] == 1 && s >= t {
				d++
			}
		}
		best = math.Max(best, float64(d)/float64(known.N))
	}
	return best
}

// refTops returns each probe's top-1 score: its highest similarity to
// any gallery sample.
func refTops(gallery, probes Embeddings, m Metric) []float64 {
	tops := make([]float64, probes.N)
	for p := range tops {
		tops[p] = math.Inf(-1)
		for g := range gallery.N {
			tops[p] = math.Max(tops[p], m.Similarity(probes.Row(p), gallery.Row(g)))
		}
	}
	return tops
}

// refNearestCentre classifies each test row by the highest similarity to
// the float64 mean of the unit train rows of each class (lowest label on
// ties).
func refNearestCentre(train, test Embeddings, m Metric) float64 {
	members := map[int][]int{}
	for i, l := range train.Labels {
		members[l] = append(members[l], i)
	}
	var labels []int
	for l := range members {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	ok := 0
	for p := range test.N {
		best, arg := math.Inf(-1), -1
		x := make([]float32, test.D)
		for i, v := range unit(test.Row(p)) {
			x[i] = float32(v)
		}
		for _, l := range labels {
			mu := make([]float64, train.D)
			for _, r := range members[l] {
				for i, v := range unit(train.Row(r)) {
					mu[i] += v
				}
			}
			c := make([]float32, train.D)
			for i := range mu {
				c[i] = float32(mu[i] / float64(len(members[l])))
			}
			if s := m.Similarity(x, c); s > best {
				best, arg = s, l
			}
		}
		if arg == test.Labels[p] {
			ok++
		}
	}
	return float64(ok) / float64(test.N)
}

// unit returns a/‖a‖ in float64 (zeros for a zero a).
func unit(a []float32) []float64 {
	var ss float64
	for _, v := range a {
		ss += float64(v) * float64(v)
	}
	out := make([]float64, len(a))
	for i, v := range a {
		if ss > 0 {
			out[i] = float64(v) / math.Sqrt(ss)
		}
	}
	return out
}

// gridEmbeddings returns n embeddings in D dimensions whose coordinates
// are small integers (levels of them), so that many similarities tie
// exactly, with labels drawn from c classes.
func gridEmbeddings(rng *rand.Rand, n, d, levels, c int) Embeddings {
	e := Embeddings{X: make([]float32, n*d), N: n, D: d, Labels: make([]int, n)}
	for i := range e.X {
		e.X[i] = float32(rng.IntN(levels))
	}
	for i := range e.Labels {
		e.Labels[i] = rng.IntN(c)
	}
	return e
}

// tieMetrics are the metrics whose scores on gridEmbeddings tie exactly on
// both paths of eachSimilarityRow: Euclidean, whose GEMM form is exact on
// small integers, and Cosine pair by pair (slowMetric). The GEMM cosine
// of normalised rows may differ from Cosine.Similarity in the last bit
// (cos((1,1), (3,3)) need not be exactly 1), so a tie of one is not always
// a tie of the other; that path is compared on untied data in
// TestRetrievalMatchesReference.
var tieMetrics = []Metric{Euclidean{}, slowMetric{Euclidean{}}, slowMetric{Cosine{}}}

// near reports |got − want| ≤ 1e-12 (sums of the same fractions in
// another order).
func near(got, want float64) bool { return math.Abs(got-want) <= 1e-12 }

func TestBestThresholdMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	for trial := range 300 {
		n := 1 + rng.IntN(40)
		s := make([]float64, n)
		same := make([]bool, n)
		for i := range s {
			s[i] = float64(rng.IntN(8)) / 4 // ties everywhere
			same[i] = rng.IntN(2) == 0
		}
		gt, ga := BestThreshold(s, same)
		wt, wa := refThreshold(s, same)
		if gt != wt || ga != wa {
			t.Fatalf("trial %d: BestThreshold(%v, %v) = %v, %v; reference %v, %v", trial, s, same, gt, ga, wt, wa)
		}
	}
}

func TestROCMeasuresMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 1))
	for trial := range 300 {
		gen := make([]float64, 1+rng.IntN(30))
		imp := make([]float64, 1+rng.IntN(30))
		levels := 2 + rng.IntN(12)
		for i := range gen {
			gen[i] = float64(rng.IntN(levels) + rng.IntN(3))
		}
		for i := range imp {
			imp[i] = float64(rng.IntN(levels))
		}
		roc := ROC(gen, imp)
		if got, want := EER(roc), refEER(gen, imp); !near(got, want) {
			t.Fatalf("trial %d: EER %v, reference %v (gen %v imp %v)", trial, got, want, gen, imp)
		}
		for _, far := range append(FARLevels(), 0, 0.05, 0.25, 0.5, 1) {
			if got, want := TARAtFAR(roc, far), refTARAtFAR(gen, imp, far); !near(got, want) {
				t.Fatalf("trial %d: TAR@FAR %v = %v, reference %v (gen %v imp %v)", trial, far, got, want, gen, imp)
			}
		}
		if got, want := AUC(roc), aucMannWhitney(gen, imp); !near(got, want) {
			t.Fatalf("trial %d: AUC %v, Mann–Whitney %v", trial, got, want)
		}
	}
}

func TestVerificationMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 1))
	for trial := range 40 {
		e := gridEmbeddings(rng, 20+rng.IntN(60), 1+rng.IntN(4), 3, 2+rng.IntN(5))
		nf := 1 + rng.IntN(10)
		folds := Pairs(e.Labels, nf, 1+rng.IntN(20), int64(trial))
		if folds == nil {
			continue
		}
		for _, m := range []Metric{Cosine{}, Euclidean{}} {
			rep := Verification(e, m, folds)
			var mean, std float64
			if nf == 1 {
				// One fold: its threshold is chosen on itself.
				var s []float64
				var same []bool
				for _, p := range folds[0].Pairs {
					s = append(s, m.Similarity(e.Row(p.I), e.Row(p.J)))
					same = append(same, p.Same)
				}
				_, mean = refThreshold(s, same)
			} else {
				mean, std = refVerification(e, m, folds)
			}
			if !near(rep.Accuracy, mean) || !near(rep.AccuracyStd, std) {
				t.Fatalf("trial %d %s, %d folds: accuracy %v ± %v, reference %v ± %v", trial, m.Name(), nf, rep.Accuracy, rep.AccuracyStd, mean, std)
			}
			if got, want := rep.EER, refEER(rep.Genuine, rep.Impostor); !near(got, want) {
				t.Fatalf("trial %d %s: EER %v, reference %v", trial, m.Name(), got, want)
			}
			// The figures over all pairs, from the pairs' own scores: the
			// threshold of best accuracy, its FAR, AUC and TAR@FAR.
			var all []float64
			var same []bool
			var gen, imp []float64
			for _, f := range folds {
				for _, p := range f.Pairs {
					s := m.Similarity(e.Row(p.I), e.Row(p.J))
					all, same = append(all, s), append(same, p.Same)
					if p.Same {
						gen = append(gen, s)
					} else {
						imp = append(imp, s)
					}
				}
			}
			th, _ := refThreshold(all, same)
			accepted := 0
			for _, s := range imp {
				if s >= th {
					accepted++
				}
			}
			if rep.Threshold != th || !near(rep.FAR, float64(accepted)/float64(len(imp))) {
				t.Fatalf("trial %d %s: threshold %v, FAR %v; reference %v, %v", trial, m.Name(), rep.Threshold, rep.FAR, th, float64(accepted)/float64(len(imp)))
			}
			if got, want := rep.AUC, aucMannWhitney(gen, imp); !near(got, want) {
				t.Fatalf("trial %d %s: AUC %v, Mann–Whitney %v", trial, m.Name(), got, want)
			}
			for _, far := range FARLevels() {
				if got, want := rep.TARAtFAR[FARKey(far)], refTARAtFAR(gen, imp, far); !near(got, want) {
					t.Fatalf("trial %d %s: TAR@FAR %v = %v, reference %v", trial, m.Name(), far, got, want)
				}
			}
		}
	}
}

func TestIdentificationMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 1))
	for trial := range 60 {
		e := gridEmbeddings(rng, 2+rng.IntN(50), 1+rng.IntN(3), 4, 1+rng.IntN(8))
		for _, m := range tieMetrics {
			rep := Identification(e, m, int64(trial))
			gallery, probes := GallerySplit(e, int64(trial))
			if probes.N == 0 {
				if rep.CMC != nil || rep.Rank1 != 0 {
					t.Fatalf("trial %d: no probe, report %+v", trial, rep)
				}
				continue
			}
			ranks := refRanks(gallery, probes, m)
			for r := 1; r <= CMCRanks; r++ {
				n := 0
				for _, k := range ranks {
					if k <= r {
						n++
					}
				}
				if want := float64(n) / float64(probes.N); !near(rep.CMC[r-1], want) {
					t.Fatalf("trial %d %s: CMC(%d) = %v, reference %v", trial, m.Name(), r, rep.CMC[r-1], want)
				}
			}
		}
	}
}

func TestOpenSetMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 1))
	for trial := range 60 {
		e := gridEmbeddings(rng, 6+rng.IntN(60), 1+rng.IntN(3), 4, 2+rng.IntN(8))
		for _, m := range tieMetrics {
			rep := openSetSplit(e, m, int64(trial))
			if rep == nil {
				continue
			}
			// The split of openSetSplit, again.
			labels, _ := e.classes()
			var in, out []int
			for i, l := range e.Labels {
				if k, _ := slices.BinarySearch(labels, l); k%2 == 0 {
					in = append(in, i)
				} else {
					out = append(out, i)
				}
			}
			gallery, known := GallerySplit(e.subset(in), int64(trial))
			unknown := e.subset(out)
			if known.N == 0 || unknown.N == 0 {
				continue
			}
			for _, far := range FARLevels() {
				want := refDIRAtFAR(gallery, known, unknown, m, far)
				if got := rep.DIRAtFAR[FARKey(far)]; !near(got, want) {
					t.Fatalf("trial %d %s: DIR@%v = %v, reference %v", trial, m.Name(), far, got, want)
				}
			}
		}
	}
}

// TestOpenSetIdentificationMatchesReference calls OpenSetIdentification
// itself, on what openSetSplit never makes: galleries of several samples
// per class, known probes of a class not enrolled, and up to 1,200
// unknown probes, so that FAR 0.01 and 0.001 allow some of them (and
// their ties) through; the detection AUC is checked too.
func TestOpenSetIdentificationMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(28, 1))
	for trial := range 60 {
		// Coarse grids tie scores everywhere; fine ones (every other trial)
		// leave most unknown scores distinct, so the count of those let
		// through is checked too, not only where the ties fall.
		d, levels := 1+rng.IntN(2), 3+(trial%2)*60
		gallery := gridEmbeddings(rng, 1+rng.IntN(8), d, levels, 1+rng.IntN(5))
		nk, nu := 1+rng.IntN(15), 1+rng.IntN(30)
		if trial%4 < 2 {
			nk, nu = 1+rng.IntN(300), 1+rng.IntN(1200)
		}
		// Known probes near a gallery sample (offsets −2..2), of its class
		// or, one in ten, of a class not enrolled: their top scores
		// interleave with the best of the unknown ones.
		known := gridEmbeddings(rng, nk, d, 5, 1)
		for p := range known.N {
			g := rng.IntN(gallery.N)
			known.Labels[p] = gallery.Labels[g]
			if rng.IntN(10) == 0 {
				known.Labels[p] = -1
			}
			for j := range d {
				known.X[p*d+j] += gallery.X[g*d+j] - 2
			}
		}
		unknown := gridEmbeddings(rng, nu, d, levels, 3)
		for _, m := range tieMetrics {
			rep := OpenSetIdentification(gallery, known, unknown, m)
			for _, far := range FARLevels() {
				want := refDIRAtFAR(gallery, known, unknown, m, far)
				if got := rep.DIRAtFAR[FARKey(far)]; !near(got, want) {
					t.Fatalf("trial %d %s (%d unknown): DIR@%v = %v, reference %v", trial, m.Name(), nu, far, got, want)
				}
			}
			want := aucMannWhitney(refTops(gallery, known, m), refTops(gallery, unknown, m))
			if !near(rep.DetectionAUC, want) {
				t.Fatalf("trial %d %s: detection AUC %v, Mann–Whitney %v", trial, m.Name(), rep.DetectionAUC, want)
			}
		}
	}
}

func TestRetrievalMatchesReferenceSmall(t *testing.T) {
	rng := rand.New(rand.NewPCG(26, 1))
	for trial := range 200 {
		// Tiny sets, one class, singletons, ties on a small grid.
		e := gridEmbeddings(rng, 1+rng.IntN(30), 1+rng.IntN(3), 3, 1+rng.IntN(6))
		qs := SampleQueries(e.Labels, rng.IntN(e.N+1), int64(trial))
		for _, m := range tieMetrics {
			got, want := RetrievalQueries(e, m, qs), retrievalReference(e, m, qs)
			if !near(got.PrecisionAt1, want.PrecisionAt1) || !near(got.RPrecision, want.RPrecision) || !near(got.MAPAtR, want.MAPAtR) {
				t.Fatalf("trial %d %s (N %d, labels %v, queries %v): %+v, reference %+v", trial, m.Name(), e.N, e.Labels, qs, got, want)
			}
		}
	}
}

func TestNearestCentreMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 1))
	for trial := range 60 {
		train := randomEmbeddings(1+rng.IntN(40), 1+rng.IntN(5), 1+rng.IntN(5), uint64(trial))
		test := randomEmbeddings(1+rng.IntN(40), train.D, 1+rng.IntN(6), uint64(trial)+1000)
		for _, m := range []Metric{Cosine{}, Euclidean{}} {
			if got, want := NearestCentre(train, test, m), refNearestCentre(train, test, m); !near(got, want) {
				t.Fatalf("trial %d %s: %v, reference %v", trial, m.Name(), got, want)
			}
		}
	}
}

// TestEvaluateDegenerate: test sets too small for some protocol (none,
// one image, one class, one image per class, a zero embedding) give a
// report of numbers in [0, 1], zeros where a protocol has nothing to
// measure, never a panic or a NaN (a Report must encode to JSON).
func TestEvaluateDegenerate(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    Embeddings
	}{
		{"empty", Embeddings{D: 3}},
		{"one image", line([]float64{1}, []int{0})},
		{"one class", line([]float64{1, 2, 3, 4, 5}, []int{0, 0, 0, 0, 0})},
		{"one image per class", line([]float64{1, 2, 3, 4, 5}, []int{0, 1, 2, 3, 4})},
		{"two classes, one pair", line([]float64{1, 2, 3}, []int{0, 0, 1})},
		{"zero embeddings", line([]float64{0, 0, 0, 0}, []int{0, 0, 1, 1})},
	} {
		for _, m := range []Metric{Cosine{}, Euclidean{}} {
			for _, train := range []Embeddings{{D: tc.e.D}, tc.e} {
				rep := Evaluate(train, tc.e, m, Options{PairsPerFold: 5})
				b, err := json.Marshal(rep)
				if err != nil {
					t.Fatalf("%s %s: %v", tc.name, m.Name(), err)
				}
				var fields map[string]any
				if err := json.Unmarshal(b, &fields); err != nil {
					t.Fatal(err)
				}
				var walk func(k string, v any)
				walk = func(k string, v any) {
					switch v := v.(type) {
					case float64:
						if k != "threshold" && (v < 0 || v > 1) {
							t.Errorf("%s %s: %s = %v, want a fraction", tc.name, m.Name(), k, v)
						}
					case map[string]any:
						for k2, v2 := range v {
							walk(k2, v2)
						}
					case []any:
						for _, v2 := range v {
							walk(k, v2)
						}
					}
				}
				walk("", fields)
			}
		}
	}
}
