package eval

import "math"

// ClosedSetReport is the closed-set classification accuracy (fractions in
// [0, 1]): Accuracy by nearest class centre (NearestCentre) and, when a
// classifier head is evaluated, its accuracy (ClassifierAccuracy).
type ClosedSetReport struct {
	Accuracy   float64  `json:"accuracy"`
	Classifier *float64 `json:"classifier_accuracy,omitempty"`
}

// NearestCentre returns the closed-set accuracy of the nearest class centre
// classifier. Each class centre is the mean of the L2-normalised train
// embeddings of the class (accumulated in float64),
//
//	μ_c = (1/n_c) Σ_{i∈c} x_i/‖x_i‖,    ŷ(x) = argmax_c m.Similarity(x/‖x‖, μ_c),
//
// and a test embedding, L2-normalised as well (so that it lives where the
// centres were built), is assigned the class of highest similarity (ties:
// lowest label). The accuracy is #{ŷ = y}/#test; a test label with no train
// sample can never be right. It returns 0 for an empty test set and panics
// when train and test dimensions differ.
func NearestCentre(train, test Embeddings, m Metric) float64 {
	train.check()
	test.check()
	if test.N == 0 {
		return 0
	}
	if train.D != test.D {
		panic("eval: NearestCentre: train and test dimensions differ")
	}
	labels, members := train.classes()
	d := train.D
	centres := make([]float32, len(labels)*d)
	acc := make([]float64, d)
	unit := make([]float64, d)
	for c, l := range labels {
		for i := range acc {
			acc[i] = 0
		}
		for _, r := range members[l] {
			normalizeTo(unit, train.Row(r))
			for i, v := range unit {
				acc[i] += v
			}
		}
		for i, v := range acc {
			centres[c*d+i] = float32(v / float64(len(members[l])))
		}
	}
	cent := Embeddings{X: centres, N: len(labels), D: d, Labels: labels}
	probes := Embeddings{X: make([]float32, len(test.X)), N: test.N, D: d, Labels: test.Labels}
	for n := 0; n < test.N; n++ {
		normalizeTo(unit, test.Row(n))
		for i, v := range unit {
			probes.X[n*d+i] = float32(v)
		}
	}
	if cent.N == 0 {
		return 0
	}
	ok := 0
	eachSimilarityRow(probes, cent, m, func(p int, row []float64) {
		best, arg := math.Inf(-1), -1
		for c, s := range row {
			if s > best {
				best, arg = s, c
			}
		}
		if arg >= 0 && labels[arg] == test.Labels[p] {
			ok++
		}
	})
	return float64(ok) / float64(test.N)
}

// ClassifierAccuracy returns the accuracy of a linear classifier head with
// weights w (C×D, row j for class j) and bias b (length C, or nil) on test,
// whose labels must be class indices 0..C−1:
//
//	ŷ(f) = argmax_j (w_j·f + b_j)            when cosine is false,
//	ŷ(f) = argmax_j w_j·f / (‖w_j‖‖f‖)       when cosine is true (b ignored),
//
// the latter being the prediction of the normalised margin-softmax heads
// (NormFace, CosFace, ArcFace). Ties go to the lowest j; sums accumulate in
// float64. It returns 0 for an empty test set.
func ClassifierAccuracy(test Embeddings, w []float32, b []float32, cosine bool) float64 {
	test.check()
	if test.D == 0 || len(w)%test.D != 0 {
		panic("eval: ClassifierAccuracy: len(w) is not a multiple of D")
	}
	c := len(w) / test.D
	if b != nil && len(b) != c {
		panic("eval: ClassifierAccuracy: len(b) != C")
	}
	if test.N == 0 {
		return 0
	}
	d := test.D
	norms := make([]float64, c)
	for j := range norms {
		norms[j] = norm64(w[j*d : (j+1)*d])
	}
	ok := 0
	for n := 0; n < test.N; n++ {
		f := test.Row(n)
		fn := norm64(f)
		best, arg := math.Inf(-1), -1
		for j := 0; j < c; j++ {
			var s float64
			for i, v := range w[j*d : (j+1)*d] {
				s += float64(v) * float64(f[i])
			}
			switch {
			case cosine && (fn == 0 || norms[j] == 0):
				s = 0
			case cosine:
				s /= fn * norms[j]
			case b != nil:
				s += float64(b[j])
			}
			if s > best {
				best, arg = s, j
			}
		}
		if arg == test.Labels[n] {
			ok++
		}
	}
	return float64(ok) / float64(test.N)
}

// centresFromGallery is NearestCentre with the gallery of the
// identification split as the train set (Evaluate with an empty train set).
func centresFromGallery(test Embeddings, m Metric, seed int64) float64 {
	gallery, probes := GallerySplit(test, seed)
	return NearestCentre(gallery, probes, m)
}
