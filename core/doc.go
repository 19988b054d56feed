// Package core holds what every metriclab binary computes with: encoder
// architectures and the gorgonia training engine, the metrics (cosine,
// euclidean, Mahalanobis), the evaluation protocols (1:1 verification, 1:k
// identification, retrieval), datasets and the model file.
//
// Symbols used throughout:
//
//	N = batch size, D = embedding dimension, C = number of classes,
//	(Ch, H, W) = input channels, height and width.
//
// Tensors cross package boundaries as flat row-major []float32 (inputs
// N×Ch×H×W, embeddings N×D); sums and statistics accumulate in float64.
package core
