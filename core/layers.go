package core

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// The layer primitives of the encoders, as functions over gorgonia nodes.
// They run on the custom ops of fastops*.go (a blocked float32 GEMM without
// an im2col matrix, buffers reused across steps); fastops_test.go checks each
// against the same layer built from gorgonia's own operations, and
// layers_test.go against slow references.

// conv2d is a 2-D convolution with stride 1, zero padding pad on every side
// and a bias per output channel:
//
//	y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v] · x[n,c,i+u−pad,j+v−pad]
//
// x is N×Ci×H×W, w is Co×Ci×K×K, b is Co; y is N×Co×(H+2pad−K+1)×(W+2pad−K+1).
func conv2d(x, w, b *G.Node, pad int) (*G.Node, error) { return fastConv2d(x, w, b, pad, 1) }

// relu is the rectifier, y = max(x, 0), elementwise.
func relu(x *G.Node) (*G.Node, error) { return fastReLU(x) }

// prelu is the parametric rectifier with one slope per channel (He et al.,
// "Delving Deep into Rectifiers", 2015):
//
//	y[n,c,…] = max(x, 0) + a[c] · min(x, 0)
//
// x is N×C×H×W or N×C, a is C.
func prelu(x, a *G.Node) (*G.Node, error) { return fastPReLU(x, a) }

// maxPool2 is max pooling over 2×2 windows with stride 2, flooring odd
// sides (PyTorch's default): N×C×H×W → N×C×⌊H/2⌋×⌊W/2⌋.
func maxPool2(x *G.Node) (*G.Node, error) { return fastMaxPool2(x) }

// linear is a fully connected layer, y = x·wᵀ + b: x is N×in, w is out×in
// (PyTorch's layout), b is out; y is N×out.
func linear(x, w, b *G.Node) (*G.Node, error) { return fastLinear(x, w, b) }

// convReLUPool is maxPool2(relu(conv2d(x, w, b, pad))) as one op: its
// backward visits only the pooled maxima, a quarter of the conv outputs.
func convReLUPool(x, w, b *G.Node, pad int) (*G.Node, error) { return fastConvReLUPool(x, w, b, pad) }

// convPReLU is prelu(conv2d(x, w, b, pad), a) as one op: its backward ops
// read the output gradient once between them instead of once each.
func convPReLU(x, w, b, a *G.Node, pad int) (*G.Node, error) { return fastConvPReLU(x, w, b, a, pad) }

// conv2dStride is a 2-D convolution with stride s, zero padding pad on every
// side and an optional bias per output channel (b may be nil: no bias):
//
//	y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v] · x[n,c,s·i+u−pad,s·j+v−pad]
//
// x is N×Ci×H×W, w is Co×Ci×K×K, b is Co or nil; y is N×Co×Ho×Wo with
// Ho = ⌊(H+2pad−K)/s⌋+1.
func conv2dStride(x, w, b *G.Node, pad, stride int) (*G.Node, error) {
	if stride < 1 {
		panic(fmt.Sprintf("core: conv2dStride: stride %d < 1", stride))
	}
	return fastConv2d(x, w, b, pad, stride)
}

// batchNorm is batch normalisation over the channels of an N×C×H×W or N×C
// input with scale gamma, shift beta and running statistics runMean and
// runVar (C each): batch statistics in training mode (which also update the
// running ones, momentum bnMomentum), the running statistics otherwise. See
// fastBatchNorm for the formulas.
func batchNorm(x, gamma, beta, runMean, runVar *G.Node, train bool) (*G.Node, error) {
	return fastBatchNorm(x, gamma, beta, runMean, runVar, train)
}
