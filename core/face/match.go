package face

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"metriclab/core/vec"
)

// Template returns the identity template of the N×d embeddings embs: the
// mean of the L2-normalised embeddings, L2-normalised again,
//
//	t = Σ eᵢ/‖eᵢ‖ / ‖Σ eᵢ/‖eᵢ‖‖,
//
// in dst (reused when large enough). Zero embeddings count as zero; a zero
// sum gives a zero template. It panics when len(embs) is not a positive
// multiple of d.
func Template(dst []float32, embs []float32, d int) []float32 {
	if d <= 0 || len(embs) == 0 || len(embs)%d != 0 {
		panic(fmt.Sprintf("face: Template: %d values are not N×%d embeddings", len(embs), d))
	}
	sum := make([]float64, d)
	for i := 0; i < len(embs); i += d {
		addNormalised(sum, embs[i:i+d], 1)
	}
	return normaliseTo(dst, sum)
}

// addNormalised adds sign·e/‖e‖ to sum (nothing when e is zero).
func addNormalised(sum []float64, e []float32, sign float64) {
	n := vec.Norm(e)
	if n == 0 {
		return
	}
	for k, v := range e {
		sum[k] += sign * float64(v) / n
	}
}

// normaliseTo writes v/‖v‖ (zeros when v is zero) into dst and returns it.
func normaliseTo(dst []float32, v []float64) []float32 { return vec.UnitTo(dst, v) }

// Cosine returns the cosine similarity a·b / (‖a‖·‖b‖), in float64; 0 when
// a or b is zero (vec.Cosine). It panics when their lengths differ.
func Cosine(a, b []float32) float64 { return vec.Cosine(a, b) }

// Templates returns the template (Template) of each of k identities from
// the N×d embeddings embs with labels in [0, k); an identity without
// embeddings has a zero template. The labels are the caller's own (the
// Verify page's are the indices of its gallery's identities, as
// Gallery.Samples numbers them), so it panics, as for shapes that
// disagree, when one is outside [0, k).
func Templates(embs []float32, d int, labels []int, k int) [][]float32 {
	if d <= 0 || len(embs) != len(labels)*d {
		panic(fmt.Sprintf("face: Templates: %d values for %d labels of dimension %d", len(embs), len(labels), d))
	}
	for i, l := range labels {
		if l < 0 || l >= k {
			panic(fmt.Sprintf("face: Templates: label %d of embedding %d outside [0, %d)", l, i, k))
		}
	}
	by := make([][]float32, k)
	for i, l := range labels {
		by[l] = append(by[l], embs[i*d:(i+1)*d]...)
	}
	ts := make([][]float32, k)
	for l := range by {
		if len(by[l]) > 0 {
			ts[l] = Template(nil, by[l], d)
		} else {
			ts[l] = make([]float32, d)
		}
	}
	return ts
}

// Match is one identity of a 1:k ranking with its cosine score.
type Match struct {
	Name  string
	Score float64
}

// Rank returns names with their scores (as Identify gives them), best
// first; ties keep the names' order. It panics when the lengths differ.
func Rank(names []string, scores []float64) []Match {
	if len(names) != len(scores) {
		panic("face: Rank: names and scores differ in length")
	}
	ms := make([]Match, len(names))
	for i := range names {
		ms[i] = Match{names[i], scores[i]}
	}
	slices.SortStableFunc(ms, func(a, b Match) int { return cmp.Compare(b.Score, a.Score) })
	return ms
}

// Identify compares probe with each template (1:k): scores[k] is
// Cosine(probe, templates[k]), and best is the template of the highest
// score (the first on ties), or −1 ("unknown") when that score is below
// threshold or there are no templates. A NaN score (from an embedding that
// holds a NaN, as a diverged encoder gives) is no match: it is never best,
// and a probe whose every score is NaN is unknown.
func Identify(probe []float32, templates [][]float32, threshold float64) (best int, scores []float64) {
	best = -1
	scores = make([]float64, len(templates))
	for k, t := range templates {
		scores[k] = Cosine(probe, t)
		if !math.IsNaN(scores[k]) && (best < 0 || scores[k] > scores[best]) {
			best = k
		}
	}
	if best >= 0 && scores[best] < threshold {
		best = -1
	}
	return best, scores
}

// Calibration is the outcome of Calibrate: the genuine and impostor cosine
// scores, and the threshold for the asked false accept rate with its
// measured FAR and FRR. A probe is accepted when its score ≥ Threshold.
type Calibration struct {
	Genuine, Impostor   []float64
	Threshold, FAR, FRR float64
}

// Calibrate scores the N×d enrolled embeddings embs with labels (any ints,
// one per embedding) leave-one-out: each embedding against its own
// identity's template computed without it (a genuine score; none for an
// identity of one embedding) and against every other identity's full
// template (impostor scores), templates as Template.
//
// Threshold keeps the impostor accept rate #{impostor ≥ t}/#impostor at
// most far and, at the false reject rate that allows, rejects every
// impostor score that rejecting costs no genuine accept. First the gap
// that far allows: with the impostor scores sorted in decreasing order
// s₀ ≥ s₁ ≥ …, m = ⌊far·#impostor⌋, t₀ is halfway between s_m and the next
// higher score of either kind (that score itself when the two are
// adjacent float64s, whose midpoint may round to s_m), so that ties with
// s_m are rejected together and a live probe a hair above the enrolled
// impostors is not accepted (the float64 just above s_m when no score is
// higher). Then, where t₀ accepts a genuine score, the threshold rises to
// the gap below the lowest one it accepts, g: halfway between g and the
// highest impostor score below it (g itself when they are adjacent), which
// accepts the same genuine scores and no more impostor scores, only those
// ≥ g. So where the genuine scores are all above the impostor scores, it
// is the middle of the gap between the two, at any far < 1; where none is
// accepted it stays t₀. It is −1 when m ≥ #impostor or there are no
// impostor scores (fewer than two identities), so that every score is
// accepted (the lowest score instead, where rounding left one below −1).
// FAR and FRR are measured at Threshold (FRR = #{genuine < t}/#genuine, 0
// without genuine scores), and FAR may be below far. It panics when the
// shapes disagree or far is outside [0, 1].
func Calibrate(embs []float32, d int, labels []int, far float64) Calibration {
	return CalibrateOn(embs, d, labels, nil, far)
}

// CalibrateOn is Calibrate with only the embeddings of probes (indices
// of embs; nil: all of them) scored, against the templates of every
// embedding (its own identity's without it): when the encoder was trained
// on the other embeddings, the probes held out of that training give the
// scores an unseen face would get, where the trained ones' are too close
// to their templates. It panics for an index out of range.
func CalibrateOn(embs []float32, d int, labels []int, probes []int, far float64) Calibration {
	if d <= 0 || len(embs) != len(labels)*d {
		panic(fmt.Sprintf("face: Calibrate: %d values for %d labels of dimension %d", len(embs), len(labels), d))
	}
	if !(far >= 0 && far <= 1) {
		panic(fmt.Sprintf("face: Calibrate: far %g outside [0, 1]", far))
	}
	if probes == nil {
		probes = make([]int, len(labels))
		for i := range probes {
			probes[i] = i
		}
	}
	// Identities in order of first appearance, and their sums.
	ids := map[int]int{}
	var sums [][]float64
	var counts []int
	for i, l := range labels {
		k, ok := ids[l]
		if !ok {
			k = len(sums)
			ids[l] = k
			sums = append(sums, make([]float64, d))
			counts = append(counts, 0)
		}
		addNormalised(sums[k], embs[i*d:(i+1)*d], 1)
		counts[k]++
	}
	templates := make([][]float32, len(sums))
	for k := range sums {
		templates[k] = normaliseTo(nil, sums[k])
	}
	var c Calibration
	without := make([]float64, d)
	var t []float32
	for _, i := range probes {
		if i < 0 || i >= len(labels) {
			panic(fmt.Sprintf("face: CalibrateOn: probe %d of %d embeddings", i, len(labels)))
		}
		e := embs[i*d : (i+1)*d]
		k := ids[labels[i]]
		if counts[k] > 1 {
			copy(without, sums[k])
			addNormalised(without, e, -1)
			t = normaliseTo(t, without)
			c.Genuine = append(c.Genuine, Cosine(e, t))
		}
		for o := range templates {
			if o != k {
				c.Impostor = append(c.Impostor, Cosine(e, templates[o]))
			}
		}
	}
	c.Threshold = threshold(c.Genuine, c.Impostor, far)
	if n := len(c.Impostor); n > 0 {
		c.FAR = float64(countAtLeast(c.Impostor, c.Threshold)) / float64(n)
	}
	if n := len(c.Genuine); n > 0 {
		c.FRR = float64(n-countAtLeast(c.Genuine, c.Threshold)) / float64(n)
	}
	return c
}

// threshold returns Calibrate's threshold of the genuine and impostor
// scores at the false accept rate far.
func threshold(genuine, impostor []float64, far float64) float64 {
	n := len(impostor)
	m := int(math.Floor(far * float64(n)))
	if n == 0 || m >= n {
		// Accept all: −1, or below it where a score is (the cosine of
		// opposite vectors can round to −1 − 2⁻⁵²).
		t := -1.0
		for _, v := range slices.Concat(genuine, impostor) {
			if v < t { // not min: a NaN score is no lowest score
				t = v
			}
		}
		return t
	}
	s := slices.Clone(impostor)
	slices.Sort(s)
	slices.Reverse(s)
	t := gapAbove(s[m], genuine, impostor)
	// g, the lowest genuine score accepted at t, and h, the highest
	// impostor score below g: s_m is below g, so there is one, and no
	// score of either kind lies between h and g.
	g := math.Inf(1)
	for _, v := range genuine {
		if v >= t && v < g {
			g = v
		}
	}
	if math.IsInf(g, 1) {
		return t
	}
	h := s[slices.IndexFunc(s, func(v float64) bool { return v < g })]
	return vec.Between(h, g)
}

// gapAbove returns the threshold between x and the smallest score of the
// lists above it (vec.Between: the middle of the gap, or that score itself
// when it is the float64 just above x, whose midpoint with x rounds to x),
// or the float64 just above x when no score is above it.
func gapAbove(x float64, lists ...[]float64) float64 {
	next := math.Inf(1)
	for _, l := range lists {
		for _, v := range l {
			if v > x && v < next {
				next = v
			}
		}
	}
	if math.IsInf(next, 1) {
		return math.Nextafter(x, math.Inf(1))
	}
	return vec.Between(x, next)
}

// countAtLeast counts the scores ≥ t.
func countAtLeast(scores []float64, t float64) int {
	n := 0
	for _, s := range scores {
		if s >= t {
			n++
		}
	}
	return n
}
