package core

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The layer primitives of the encoders, as functions over gorgonia nodes.
// They are built from gorgonia's own operations, whose gradients gorgonia
// derives; their bodies may be swapped for fused operations with the same
// signatures and results (layers_test.go holds the slow references they
// must match).

// conv2d is a 2-D convolution with stride 1, zero padding pad on every side
// and a bias per output channel:
//
//	y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v] · x[n,c,i+u−pad,j+v−pad]
//
// x is N×Ci×H×W, w is Co×Ci×K×K, b is Co; y is N×Co×(H+2pad−K+1)×(W+2pad−K+1).
func conv2d(x, w, b *G.Node, pad int) (*G.Node, error) {
	ws := w.Shape()
	y, err := G.Conv2d(x, w, tensor.Shape{ws[2], ws[3]}, []int{pad, pad}, []int{1, 1}, []int{1, 1})
	if err != nil {
		return nil, err
	}
	return G.BroadcastAdd(y, b, nil, []byte{0, 2, 3})
}

// relu is the rectifier, y = max(x, 0), elementwise.
func relu(x *G.Node) (*G.Node, error) { return G.Rectify(x) }

// prelu is the parametric rectifier with one slope per channel (He et al.,
// "Delving Deep into Rectifiers", 2015):
//
//	y[n,c,…] = max(x, 0) + a[c] · min(x, 0)
//
// x is N×C×H×W or N×C, a is C.
func prelu(x, a *G.Node) (*G.Node, error) {
	pos, err := G.Rectify(x)
	if err != nil {
		return nil, err
	}
	neg, err := G.Sub(x, pos) // min(x, 0)
	if err != nil {
		return nil, err
	}
	axes := []byte{0}
	if x.Dims() == 4 {
		axes = []byte{0, 2, 3}
	}
	scaled, err := G.BroadcastHadamardProd(neg, a, nil, axes)
	if err != nil {
		return nil, err
	}
	return G.Add(pos, scaled)
}

// maxPool2 is max pooling over 2×2 windows with stride 2, flooring odd
// sides (PyTorch's default): N×C×H×W → N×C×⌊H/2⌋×⌊W/2⌋.
func maxPool2(x *G.Node) (*G.Node, error) {
	return G.MaxPool2D(x, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2})
}

// linear is a fully connected layer, y = x·wᵀ + b: x is N×in, w is out×in
// (PyTorch's layout), b is out; y is N×out.
func linear(x, w, b *G.Node) (*G.Node, error) {
	// As 1×N×in times (1×out×in)ᵀ: gorgonia's batched product takes a
	// transpose flag, where Mul would need a materialised wᵀ at every run
	// (and another for its gradient): 3.8× faster on the mlp step.
	n, in, out := x.Shape()[0], x.Shape()[1], w.Shape()[0]
	x3, err := G.Reshape(x, []int{1, n, in})
	if err != nil {
		return nil, err
	}
	w3, err := G.Reshape(w, []int{1, out, in})
	if err != nil {
		return nil, err
	}
	y3, err := G.BatchedMatMul(x3, w3, false, true)
	if err != nil {
		return nil, err
	}
	y, err := G.Reshape(y3, []int{n, out})
	if err != nil {
		return nil, err
	}
	return G.BroadcastAdd(y, b, nil, []byte{0})
}
