package eval

import (
	"cmp"
	"math"
	"slices"
	"strconv"

	"metriclab/core/vec"
)

// FARLevels returns the false accept rates at which Verification reports TAR
// and OpenSetIdentification reports DIR: 1e-1, 1e-2, 1e-3. Their keys in the
// JSON maps are strconv.FormatFloat(far, 'g', -1, 64): "0.1", "0.01", "0.001".
func FARLevels() []float64 { return []float64{1e-1, 1e-2, 1e-3} }

// ROCPoint is one operating point of a verifier that accepts a pair when its
// similarity s ≥ Threshold: FAR = accepted impostors / impostors, TAR =
// accepted genuine pairs / genuine pairs.
type ROCPoint struct {
	FAR, TAR, Threshold float64
}

// VerificationReport is the outcome of the 1:1 verification protocol (see
// Verification). Fractions are in [0, 1].
type VerificationReport struct {
	Accuracy    float64            `json:"accuracy"`     // mean over folds of the held-out accuracy
	AccuracyStd float64            `json:"accuracy_std"` // population standard deviation over folds
	Threshold   float64            `json:"threshold"`    // recommended threshold: best accuracy over all pairs
	EER         float64            `json:"eer"`          // equal error rate on the ROC of all pairs
	AUC         float64            `json:"auc"`          // area under the ROC of all pairs
	TARAtFAR    map[string]float64 `json:"tar_at_far"`   // keys "0.1", "0.01", "0.001"
	FAR         float64            `json:"far"`          // false accept rate at Threshold over all pairs
	ROC         []ROCPoint         `json:"-"`            // sorted by FAR, from (0, 0, +Inf) to (1, 1, min s)
	Genuine     []float64          `json:"-"`            // similarities of the genuine pairs
	Impostor    []float64          `json:"-"`            // similarities of the impostor pairs
}

// Verification runs the LFW verification protocol (Huang et al. 2007,
// "unrestricted" view 2 with 10-fold cross-validation) on the pairs of folds
// (usually from Pairs), with pair similarity s = m.Similarity(x_I, x_J) and
// the decision "same" iff s ≥ t:
//
//   - for each fold k, the threshold t_k maximising accuracy on the other
//     folds (the midpoint between two consecutive distinct scores, see
//     BestThreshold) is applied to fold k:
//     acc_k = (accepted genuine + rejected impostor pairs of k) / |k|;
//     Accuracy = mean_k acc_k and AccuracyStd = √(mean_k (acc_k − Accuracy)²)
//     (the population std, as most face recognition papers report it).
//     With a single fold the threshold is chosen on that fold itself.
//   - ROC, AUC (trapezoid over the tie-grouped ROC, equal to the
//     Mann–Whitney statistic with ties counted ½), EER and TAR@FAR use all
//     pairs of all folds (see ROC, AUC, EER, TARAtFAR).
//   - Threshold is the threshold of best accuracy over all pairs (rather
//     than the mean of the fold thresholds, so that it is a threshold the
//     data supports); FAR is the false accept rate at it over all pairs.
//
// TAR@FAR is only as fine as 1/#impostors: with LFW's 3,000 impostor pairs,
// FAR 1e-3 means at most 3 accepted impostors (and FAR 1e-4 would mean 0).
// Empty folds give a zero report.
func Verification(e Embeddings, m Metric, folds []Fold) VerificationReport {
	e.check()
	scores := make([][]float64, len(folds))
	var rep VerificationReport
	for k, f := range folds {
		scores[k] = make([]float64, len(f.Pairs))
		for p, pr := range f.Pairs {
			s := m.Similarity(e.Row(pr.I), e.Row(pr.J))
			scores[k][p] = s
			if pr.Same {
				rep.Genuine = append(rep.Genuine, s)
			} else {
				rep.Impostor = append(rep.Impostor, s)
			}
		}
	}
	rep.TARAtFAR = make(map[string]float64, 3)
	for _, far := range FARLevels() {
		rep.TARAtFAR[FARKey(far)] = 0
	}
	if len(rep.Genuine)+len(rep.Impostor) == 0 {
		return rep
	}

	accs := make([]float64, 0, len(folds))
	for k, f := range folds {
		if len(f.Pairs) == 0 {
			continue
		}
		var trainS []float64
		var trainSame []bool
		for j, g := range folds {
			if j == k && len(folds) > 1 {
				continue
			}
			trainS = append(trainS, scores[j]...)
			for _, pr := range g.Pairs {
				trainSame = append(trainSame, pr.Same)
			}
		}
		t, _ := BestThreshold(trainS, trainSame)
		accs = append(accs, accuracyAt(scores[k], f.Pairs, t))
	}
	for _, a := range accs {
		rep.Accuracy += a
	}
	rep.Accuracy /= float64(len(accs))
	for _, a := range accs {
		rep.AccuracyStd += (a - rep.Accuracy) * (a - rep.Accuracy)
	}
	rep.AccuracyStd = math.Sqrt(rep.AccuracyStd / float64(len(accs)))

	all := make([]float64, 0, len(rep.Genuine)+len(rep.Impostor))
	same := make([]bool, 0, cap(all))
	all = append(all, rep.Genuine...)
	all = append(all, rep.Impostor...)
	for range rep.Genuine {
		same = append(same, true)
	}
	for range rep.Impostor {
		same = append(same, false)
	}
	rep.Threshold, _ = BestThreshold(all, same)
	if len(rep.Impostor) > 0 {
		acc := 0
		for _, s := range rep.Impostor {
			if s >= rep.Threshold {
				acc++
			}
		}
		rep.FAR = float64(acc) / float64(len(rep.Impostor))
	}
	if len(rep.Genuine) > 0 && len(rep.Impostor) > 0 {
		rep.ROC = ROC(rep.Genuine, rep.Impostor)
		rep.AUC = AUC(rep.ROC)
		rep.EER = EER(rep.ROC)
		for _, far := range FARLevels() {
			rep.TARAtFAR[FARKey(far)] = TARAtFAR(rep.ROC, far)
		}
	}
	return rep
}

// FARKey is the key of a FAR level in the reports' maps (TARAtFAR,
// DIRAtFAR), and in their JSON.
func FARKey(far float64) string { return strconv.FormatFloat(far, 'g', -1, 64) }

// accuracyAt returns the fraction of pairs decided correctly by "same iff
// s ≥ t".
func accuracyAt(scores []float64, pairs []Pair, t float64) float64 {
	if len(pairs) == 0 {
		return 0
	}
	ok := 0
	for p, pr := range pairs {
		if (scores[p] >= t) == pr.Same {
			ok++
		}
	}
	return float64(ok) / float64(len(pairs))
}

// BestThreshold returns the threshold t that maximises the accuracy of
// "same iff s ≥ t" on scores with ground truth same, and that accuracy.
// Candidates are the midpoints between consecutive distinct scores (the
// upper score when the two are adjacent floats, see between), plus
// min(s) − 1 (accept all) and max(s) + 1 (reject all); among equally good
// candidates the lowest wins. It is O(n log n). Scores are expected to be
// numbers: a NaN gives no sensible threshold, but the search still ends.
func BestThreshold(scores []float64, same []bool) (t, accuracy float64) {
	if len(scores) != len(same) {
		panic("eval: BestThreshold: len(scores) != len(same)")
	}
	n := len(scores)
	if n == 0 {
		return 0, 0
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	// Accept all: every genuine pair is correct.
	correct := 0
	for _, s := range same {
		if s {
			correct++
		}
	}
	best, bestT := correct, scores[idx[0]]-1
	for i := 0; i < n; {
		v := scores[idx[i]]
		j := i
		for j < n && (j == i || scores[idx[j]] == v) { // j == i: a NaN, equal to nothing, still moves on
			if same[idx[j]] {
				correct--
			} else {
				correct++
			}
			j++
		}
		// Now every score ≤ v is rejected.
		var cand float64
		if j < n {
			cand = vec.Between(v, scores[idx[j]])
		} else {
			cand = v + 1
		}
		if correct > best {
			best, bestT = correct, cand
		}
		i = j
	}
	return bestT, float64(best) / float64(n)
}

// ROC returns the receiver operating characteristic of the decision
// "accept iff s ≥ t" swept over every distinct score t, highest first:
//
//	FAR(t) = #{impostor s ≥ t} / #impostor,   TAR(t) = #{genuine s ≥ t} / #genuine.
//
// Tied scores form one point, so a tie of a genuine and an impostor pair is
// a diagonal step. The curve starts at (0, 0, +Inf), ends at (1, 1, min s)
// and is sorted by FAR (then TAR). Both lists must be non-empty. Scores
// are expected to be numbers; NaNs (which would make every step a tie of
// nothing) rank below every number, as cmp.Compare orders them, and form
// one last point, so the curve still ends.
func ROC(genuine, impostor []float64) []ROCPoint {
	if len(genuine) == 0 || len(impostor) == 0 {
		panic("eval: ROC needs genuine and impostor scores")
	}
	g := slices.Clone(genuine)
	im := slices.Clone(impostor)
	slices.SortFunc(g, func(a, b float64) int { return cmp.Compare(b, a) })
	slices.SortFunc(im, func(a, b float64) int { return cmp.Compare(b, a) })
	ng, ni := float64(len(g)), float64(len(im))
	roc := []ROCPoint{{FAR: 0, TAR: 0, Threshold: math.Inf(1)}}
	i, j := 0, 0
	for i < len(g) || j < len(im) {
		var v float64
		switch {
		case i == len(g):
			v = im[j]
		case j == len(im):
			v = g[i]
		case cmp.Compare(g[i], im[j]) >= 0:
			v = g[i]
		default:
			v = im[j]
		}
		// v is g[i] or im[j]: at least one of the two moves on.
		for i < len(g) && cmp.Compare(g[i], v) == 0 {
			i++
		}
		for j < len(im) && cmp.Compare(im[j], v) == 0 {
			j++
		}
		roc = append(roc, ROCPoint{FAR: float64(j) / ni, TAR: float64(i) / ng, Threshold: v})
	}
	return roc
}

// AUC returns the area under roc by the trapezoid rule. On the tie-grouped
// ROC of ROC it equals the Mann–Whitney statistic
//
//	AUC = P(s_genuine > s_impostor) + ½ P(s_genuine = s_impostor)
//
// (Hanley & McNeil 1982).
func AUC(roc []ROCPoint) float64 {
	var a float64
	for i := 1; i < len(roc); i++ {
		a += (roc[i].FAR - roc[i-1].FAR) * (roc[i].TAR + roc[i-1].TAR) / 2
	}
	return a
}

// EER returns the equal error rate of roc: the rate at which FAR equals the
// false reject rate FRR = 1 − TAR, on the ROC drawn as straight segments
// between its points. On the segment from p₀ to p₁ where FAR − FRR changes
// sign,
//
//	α = (1 − TAR₀ − FAR₀) / ((FAR₁ − FAR₀) + (TAR₁ − TAR₀)),   EER = FAR₀ + α(FAR₁ − FAR₀).
//
// roc must start with FAR < FRR and end with FAR ≥ FRR, as ROC's does.
func EER(roc []ROCPoint) float64 {
	for i, p := range roc {
		if p.FAR >= 1-p.TAR {
			if i == 0 {
				return p.FAR
			}
			q := roc[i-1]
			den := (p.FAR - q.FAR) + (p.TAR - q.TAR)
			if den == 0 {
				return p.FAR
			}
			alpha := (1 - q.TAR - q.FAR) / den
			return q.FAR + alpha*(p.FAR-q.FAR)
		}
	}
	panic("eval: EER: ROC never reaches FAR ≥ FRR")
}

// TARAtFAR returns the highest TAR among the points of roc whose FAR ≤ far:
// the true accept rate of the lowest (most lenient) threshold that accepts
// no more than ⌊far·#impostor⌋ impostor pairs. Its resolution is
// 1/#impostor (a tie group of impostors is accepted whole or not at all);
// when far·#impostor < 1 it is the TAR at FAR = 0.
func TARAtFAR(roc []ROCPoint, far float64) float64 {
	tar := 0.0
	lim := far * (1 + 1e-9) // 0.001·3000 is 3.0000000000000004 in float64
	for _, p := range roc {
		if p.FAR <= lim && p.TAR > tar {
			tar = p.TAR
		}
	}
	return tar
}
