package eval

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// CMCRanks is the number of ranks of IdentificationReport.CMC (1..10).
const CMCRanks = 10

// IdentificationReport is the outcome of closed-set 1:k identification (see
// Identification); fractions in [0, 1].
type IdentificationReport struct {
	Rank1   float64        `json:"rank1"`
	Rank5   float64        `json:"rank5"`
	CMC     []float64      `json:"cmc,omitempty"` // CMC[r−1] = fraction of probes of rank ≤ r, r = 1..10
	OpenSet *OpenSetReport `json:"open_set,omitempty"`
}

// OpenSetReport is the outcome of open-set identification (see
// OpenSetIdentification); fractions in [0, 1].
type OpenSetReport struct {
	// DIRAtFAR is the detection and identification rate at a false alarm
	// rate of unknown probes; keys "0.1", "0.01", "0.001".
	DIRAtFAR map[string]float64 `json:"dir_at_far"`
	// DetectionAUC is the area under the ROC that separates known from
	// unknown probes by their top-1 score, identity ignored.
	DetectionAUC float64 `json:"detection_auc"`
}

// GallerySplit splits e for identification: per class, one sample chosen by
// a seeded shuffle (math/rand/v2 PCG, classes in increasing label order)
// goes to the gallery, the rest are probes. A class with a single sample is
// in the gallery only (a distractor for other probes). The same data and
// seed give the same split. Rows keep their order within each part.
func GallerySplit(e Embeddings, seed int64) (gallery, probes Embeddings) {
	e.check()
	labels, members := e.classes()
	rng := rand.New(rand.NewPCG(uint64(seed), 0x2545f4914f6cdd1d))
	inGallery := make([]bool, e.N)
	for _, l := range labels {
		idx := members[l]
		inGallery[idx[rng.IntN(len(idx))]] = true
	}
	var gi, pi []int
	for i, g := range inGallery {
		if g {
			gi = append(gi, i)
		} else {
			pi = append(pi, i)
		}
	}
	return e.subset(gi), e.subset(pi)
}

// Identification runs closed-set 1:k identification (the FERET protocol,
// Phillips et al. 2000; CMC as in Grother et al., FRVT) on the split of
// GallerySplit(e, seed): one gallery sample per class, every other sample a
// probe. For a probe p of class y with class scores s_c = max over the
// gallery samples of c of m.Similarity,
//
//	rank(p) = 1 + #{c ≠ y : s_c ≥ s_y}      (ties count against the probe),
//	CMC(r) = #{p : rank(p) ≤ r} / #probes,   Rank1 = CMC(1), Rank5 = CMC(5).
//
// CMC has CMCRanks entries; ranks past the number of gallery classes are 1.
// With no probe (every class has one sample) the report is zero.
func Identification(e Embeddings, m Metric, seed int64) IdentificationReport {
	gallery, probes := GallerySplit(e, seed)
	return identify(gallery, probes, m)
}

// identify is Identification on a given gallery and probe set.
func identify(gallery, probes Embeddings, m Metric) IdentificationReport {
	var rep IdentificationReport
	if probes.N == 0 {
		return rep
	}
	ranks := make([]int, probes.N)
	eachClassScores(probes, gallery, m, func(p int, classes []int, scores []float64) {
		y := probes.Labels[p]
		k, ok := slices.BinarySearch(classes, y)
		if !ok {
			ranks[p] = math.MaxInt // the true class is not enrolled: never identified
			return
		}
		r := 1
		for c, s := range scores {
			if c != k && s >= scores[k] {
				r++
			}
		}
		ranks[p] = r
	})
	rep.CMC = make([]float64, CMCRanks)
	for _, r := range ranks {
		for k := r; k <= CMCRanks; k++ {
			rep.CMC[k-1]++
		}
	}
	for k := range rep.CMC {
		rep.CMC[k] /= float64(probes.N)
	}
	rep.Rank1, rep.Rank5 = rep.CMC[0], rep.CMC[4]
	return rep
}

// eachClassScores calls fn(p, classes, scores) for each probe p with the
// gallery's distinct labels in increasing order and scores[c] = max over the
// gallery samples of classes[c] of m.Similarity(probe, sample). scores is
// reused between calls.
func eachClassScores(probes, gallery Embeddings, m Metric, fn func(p int, classes []int, scores []float64)) {
	classes, _ := gallery.classes()
	col := make([]int, gallery.N)
	for j, l := range gallery.Labels {
		col[j], _ = slices.BinarySearch(classes, l)
	}
	scores := make([]float64, len(classes))
	eachSimilarityRow(probes, gallery, m, func(p int, row []float64) {
		for c := range scores {
			scores[c] = math.Inf(-1)
		}
		for j, s := range row {
			if s > scores[col[j]] {
				scores[col[j]] = s
			}
		}
		fn(p, classes, scores)
	})
}

// OpenSetIdentification runs open-set identification (the watch-list task of
// FRVT 2002, Phillips et al. 2003; Grother & Ngan, NISTIR 8271): probes of
// enrolled identities (known) must be identified, probes of identities not
// in the gallery (unknown) must be rejected. With s(p) the top-1 class score
// of probe p over the gallery (class score as in Identification) and a
// threshold t,
//
//	DIR(t) = #{known p : rank(p) = 1 and s(p) ≥ t} / #known,
//	FAR(t) = #{unknown p : s(p) ≥ t} / #unknown,
//
// and DIR@FAR x is DIR at the lowest threshold with FAR(t) ≤ x, i.e. at most
// ⌊x·#unknown⌋ unknown probes accepted (resolution 1/#unknown; ties of
// unknown scores are rejected together). DetectionAUC is AUC (Mann–Whitney,
// ties ½) of the known against the unknown top-1 scores. Empty known or
// unknown sets give zeros.
func OpenSetIdentification(gallery, known, unknown Embeddings, m Metric) OpenSetReport {
	gallery.check()
	known.check()
	unknown.check()
	rep := OpenSetReport{DIRAtFAR: make(map[string]float64, 3)}
	for _, far := range FARLevels() {
		rep.DIRAtFAR[FARKey(far)] = 0
	}
	if known.N == 0 || unknown.N == 0 || gallery.N == 0 {
		return rep
	}
	knownTop := make([]float64, known.N)
	correct := make([]bool, known.N)
	eachClassScores(known, gallery, m, func(p int, classes []int, scores []float64) {
		k, ok := slices.BinarySearch(classes, known.Labels[p])
		best := math.Inf(-1)
		for _, s := range scores {
			best = math.Max(best, s)
		}
		knownTop[p] = best
		if !ok {
			return
		}
		correct[p] = true
		for c, s := range scores {
			if c != k && s >= scores[k] {
				correct[p] = false
			}
		}
	})
	unknownTop := make([]float64, unknown.N)
	eachClassScores(unknown, gallery, m, func(p int, _ []int, scores []float64) {
		best := math.Inf(-1)
		for _, s := range scores {
			best = math.Max(best, s)
		}
		unknownTop[p] = best
	})
	sortedU := slices.Clone(unknownTop)
	slices.SortFunc(sortedU, func(a, b float64) int { return cmp.Compare(b, a) })
	for _, far := range FARLevels() {
		allowed := int(math.Floor(far*float64(unknown.N) + 1e-9))
		// Accept only scores above the (allowed+1)-th highest unknown score.
		bar := math.Inf(-1)
		strict := false
		if allowed < unknown.N {
			bar, strict = sortedU[allowed], true
		}
		n := 0
		for p, s := range knownTop {
			if correct[p] && (s > bar || !strict) {
				n++
			}
		}
		rep.DIRAtFAR[FARKey(far)] = float64(n) / float64(known.N)
	}
	rep.DetectionAUC = AUC(ROC(knownTop, unknownTop))
	return rep
}
