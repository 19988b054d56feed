package core

import (
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
func conv2d(x, w, b *G.Node, pad int) (*G.Node, error) { return fastConv2d(x, w, b, pad) }

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
