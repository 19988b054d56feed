// Package eval holds the metrics and the evaluation protocols of deep metric
// learning: closed-set classification by nearest class centre, 1:1
// verification on LFW-style folds, closed- and open-set 1:k identification,
// and leave-one-out retrieval. It is plain Go (the standard library and
// gonum), so it runs natively and in the browser (GOOS=js GOARCH=wasm).
//
// Symbols used throughout:
//
//	N = number of embeddings, D = embedding dimension, C = number of classes,
//	k = output dimension of a linear map W (k×D),
//	s(a, b) = similarity of a Metric: bigger means closer.
//
// Embeddings arrive as flat row-major []float32 (N×D) with one integer label
// per row; every sum, mean, covariance and similarity accumulates in float64.
// Reports hold fractions in [0, 1]; a quantity that is undefined for the data
// (say AUC with no impostor pair) is reported as 0, never NaN, so that a
// Report always encodes to JSON. Embeddings must be finite numbers
// (vec.AllFinite): the protocols end on a NaN, but their figures then mean
// nothing, so the callers refuse such embeddings first (eval and openset
// on the command line, the training job's held-out verification).
//
// Metrics:
//
//	Cosine       s(a, b) = a·b / (‖a‖‖b‖)         (0 when a or b is zero)
//	Euclidean    s(a, b) = −‖a − b‖
//	Mahalanobis  s(a, b) = −‖W(a − b)‖ = −√((a−b)ᵀ WᵀW (a−b))
//
// Mahalanobis matrices come from Whitening (the inverse square root of the
// within-class covariance, WCCN) or LearnLinear (NCA, Goldberger et al.
// 2004). Project maps embeddings through W so that every protocol can run on
// the projected vectors with Cosine or Euclidean.
//
// Protocols and their sources:
//
//   - NearestCentre, ClassifierAccuracy: closed-set accuracy.
//   - Pairs, Verification: the unrestricted LFW protocol (Huang et al. 2007,
//     "Labeled Faces in the Wild", 10 folds of 300 genuine + 300 impostor
//     pairs, threshold by cross-validation), with ROC, AUC, EER and TAR@FAR.
//   - Identification: closed-set rank-k and CMC (Phillips et al. 2000, FERET;
//     Grother et al., FRVT reports).
//   - OpenSetIdentification: detection and identification rate at a false
//     alarm rate of unknown probes, DIR@FAR (Phillips et al. 2003, FRVT 2002;
//     Grother & Ngan, FRVT Part 2, NISTIR 8271).
//   - Retrieval: precision@1, R-precision and MAP@R (Musgrave et al. 2020,
//     "A Metric Learning Reality Check").
//   - Evaluate runs all of them on one test set and fills a Report, whose
//     JSON keys are a contract with the command line and the server.
//
// Programmer errors (mismatched sizes, a nil matrix) panic with a message
// starting with "eval:"; conditions of the data (a singular covariance, too
// few samples) are returned as errors.
package eval
