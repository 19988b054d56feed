package core

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Fused layer operations: drop-in replacements for the layer primitives of
// layers.go, written as custom gorgonia ops whose gradients are again custom
// ops. Same signatures and results (to float32 rounding):
//
//	fastConv2d(x, w, b, pad)       for conv2d        (fastops_conv.go)
//	fastReLU(x)                    for relu
//	fastPReLU(x, a)                for prelu
//	fastMaxPool2(x)                for maxPool2      (fastops_pool.go)
//	fastLinear(x, w, b)            for linear
//	fastConvReLUPool(x, w, b, pad) for maxPool2(relu(conv2d(x, w, b, pad)))
//	                                                 (fastops_fused.go)
//
// Why: in the browser (GOOS=js GOARCH=wasm, one thread) a graph of gorgonia
// built-ins spends its time in generic elementwise kernels, broadcasting and
// a freshly allocated output per node per step. Here every op
//
//   - computes in one pass what the built-ins do in several (bias and
//     convolution; im2col read inside the matrix product, never written);
//   - keeps its output tensor and scratch buffers, allocated on the first
//     step and reused afterwards (no allocation in the ops per step);
//   - saves what its backward ops need (the argmax of a max pool) and says
//     so in one line;
//   - has a float32 fast path (matrix products in fastops_gemm.go) and a
//     float64 path made of the slow reference loops, which the gradient
//     tests use.
//
// An op instance belongs to one node: the functions create fresh ops for
// every call, and one graph must not run on two machines at once. The ops'
// output tensors are handed to gorgonia's tape machine, which may reuse them
// as scratch once the node's value is dead, exactly as it does with the
// tensors of built-in ops.
//
// The input gradient of a convolution is skipped (zeroed) when its input has
// no derivative node after gorgonia.Grad, which is the case of the image
// batch: nothing reads it.

// fastBuf is an op-owned tensor, allocated on first use and reused while
// dtype and shape stay the same.
type fastBuf struct {
	t   *tensor.Dense
	f32 []float32
	f64 []float64
}

// get returns the buffer as a dt tensor of shape s, reallocating only if the
// dtype or shape changed; its contents are whatever the last step left.
func (b *fastBuf) get(dt tensor.Dtype, s tensor.Shape) *tensor.Dense {
	if b.t != nil && b.t.Dtype() == dt && b.t.Shape().Eq(s) {
		return b.t
	}
	b.t = tensor.New(tensor.Of(dt), tensor.WithShape(s.Clone()...))
	b.f32, b.f64 = nil, nil
	switch dt {
	case tensor.Float32:
		b.f32 = b.t.Float32s()
	case tensor.Float64:
		b.f64 = b.t.Float64s()
	default:
		panic(fmt.Sprintf("core: fast ops support float32 and float64, not %v", dt))
	}
	return b.t
}

// scratch32 returns a float32 slice of length n owned by the caller's op,
// growing *s when needed.
func scratch32(s *[]float32, n int) []float32 {
	if cap(*s) < n {
		*s = make([]float32, n)
	}
	return (*s)[:n]
}

// fastDense returns v as a row-major *tensor.Dense of float32 or float64,
// copying only if v is a strided view. It panics on other values: the graph
// types are checked when the node is built.
func fastDense(v G.Value) *tensor.Dense {
	d, ok := v.(*tensor.Dense)
	if !ok {
		panic(fmt.Sprintf("core: fast ops take dense tensors, got %T", v))
	}
	if d.RequiresIterator() {
		d = d.Materialize().(*tensor.Dense)
	}
	return d
}

// fastOpBase holds the methods that every fast op shares.
type fastOpBase struct{}

func (fastOpBase) ReturnsPtr() bool     { return false }
func (fastOpBase) CallsExtern() bool    { return false }
func (fastOpBase) OverwritesInput() int { return -1 }

// hashOp is Hashcode for ops that implement WriteHash.
func hashOp(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// tensorType is the gorgonia type of a dims-dimensional tensor of the type
// variable a.
func tensorType(dims int) hm.Type { return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')} }

// fnType is a → … → a over tensors of the given ranks (the last is the
// result).
func fnType(dims ...int) hm.Type {
	ts := make([]hm.Type, len(dims))
	for i, d := range dims {
		ts[i] = tensorType(d)
	}
	return hm.NewFnType(ts...)
}

// shapeOf returns input i of InferShape as a tensor.Shape.
func shapeOf(in []G.DimSizer, i int) (tensor.Shape, error) {
	if i >= len(in) {
		return nil, fmt.Errorf("core: fast op expects %d inputs, got %d", i+1, len(in))
	}
	s, ok := in[i].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("core: fast op input %d has no shape (%T)", i, in[i])
	}
	return s, nil
}

// ---- ReLU ----

// fastReLU is the rectifier y = max(x, 0), elementwise, on a tensor of any
// rank. Its gradient is dy·[y > 0] (0 at x = 0, as gorgonia's Rectify).
func fastReLU(x *G.Node) (*G.Node, error) {
	return G.ApplyOp(&reluOp{dims: x.Dims()}, x)
}

// reluOp computes y = max(x, 0).
type reluOp struct {
	fastOpBase
	dims int
	y    fastBuf
}

func (op *reluOp) Arity() int    { return 1 }
func (op *reluOp) Type() hm.Type { return fnType(op.dims, op.dims) }
func (op *reluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in, 0)
	return s.Clone(), err
}
func (op *reluOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fastReLU%d", op.dims) }
func (op *reluOp) Hashcode() uint32      { return hashOp(op) }
func (op *reluOp) String() string        { return "fastReLU" }

func (op *reluOp) Do(in ...G.Value) (G.Value, error) {
	x := fastDense(in[0])
	y := op.y.get(x.Dtype(), x.Shape())
	switch x.Dtype() {
	case tensor.Float32:
		reluTo(op.y.f32, x.Float32s())
	default:
		reluTo(op.y.f64, x.Float64s())
	}
	return y, nil
}

func (op *reluOp) DiffWRT(int) []bool { return []bool{true} }
func (op *reluOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&reluBackOp{dims: op.dims}, y, dy)
	return G.Nodes{dx}, err
}

// reluTo writes dst = max(x, 0).
func reluTo[T float32 | float64](dst, x []T) {
	x = x[:len(dst)]
	for i, v := range x {
		if v < 0 {
			v = 0 // not max(v, 0): under wasm that is a runtime call
		}
		dst[i] = v
	}
}

// reluBackOp computes dx = dy·[y > 0] from the forward output y.
type reluBackOp struct {
	fastOpBase
	dims int
	dx   fastBuf
}

func (op *reluBackOp) Arity() int    { return 2 }
func (op *reluBackOp) Type() hm.Type { return fnType(op.dims, op.dims, op.dims) }
func (op *reluBackOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in, 0)
	return s.Clone(), err
}
func (op *reluBackOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fastReLUBack%d", op.dims) }
func (op *reluBackOp) Hashcode() uint32      { return hashOp(op) }
func (op *reluBackOp) String() string        { return "fastReLUBack" }

func (op *reluBackOp) Do(in ...G.Value) (G.Value, error) {
	y, dy := fastDense(in[0]), fastDense(in[1])
	dx := op.dx.get(y.Dtype(), y.Shape())
	switch y.Dtype() {
	case tensor.Float32:
		reluBackTo(op.dx.f32, y.Float32s(), dy.Float32s())
	default:
		reluBackTo(op.dx.f64, y.Float64s(), dy.Float64s())
	}
	return dx, nil
}

// reluBackTo writes dst = dy·[y > 0].
func reluBackTo[T float32 | float64](dst, y, dy []T) {
	y, dy = y[:len(dst)], dy[:len(dst)]
	for i, v := range y {
		g := dy[i]
		if v <= 0 {
			g = 0
		}
		dst[i] = g
	}
}

// ---- PReLU ----

// fastPReLU is the parametric rectifier with one slope per channel (He et
// al., "Delving Deep into Rectifiers", 2015):
//
//	y[n,c,…] = x        if x > 0
//	         = a[c]·x   otherwise
//
// x is N×C×H×W or N×C, a is C. Gradients: dx = dy·(x > 0 ? 1 : a[c]),
// da[c] = Σ_{n,…} dy·x·[x ≤ 0]. As layers.go's prelu (max(x,0)+a·min(x,0)).
func fastPReLU(x, a *G.Node) (*G.Node, error) {
	if x.Dims() != 2 && x.Dims() != 4 {
		return nil, fmt.Errorf("core: fastPReLU wants an N×C or N×C×H×W input, got %v", x.Shape())
	}
	if a.Dims() != 1 || a.Shape()[0] != x.Shape()[1] {
		return nil, fmt.Errorf("core: fastPReLU slopes %v do not match channels of %v", a.Shape(), x.Shape())
	}
	return G.ApplyOp(&preluOp{dims: x.Dims()}, x, a)
}

// preluGeom returns (N, C, S) of an N×C×… shape, S the size of the rest.
func preluGeom(s tensor.Shape) (n, c, sp int) {
	sp = 1
	for _, d := range s[2:] {
		sp *= d
	}
	return s[0], s[1], sp
}

// preluOp computes y = x > 0 ? x : a[c]·x.
type preluOp struct {
	fastOpBase
	dims int
	y    fastBuf
}

func (op *preluOp) Arity() int    { return 2 }
func (op *preluOp) Type() hm.Type { return fnType(op.dims, 1, op.dims) }
func (op *preluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in, 0)
	return s.Clone(), err
}
func (op *preluOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fastPReLU%d", op.dims) }
func (op *preluOp) Hashcode() uint32      { return hashOp(op) }
func (op *preluOp) String() string        { return "fastPReLU" }

func (op *preluOp) Do(in ...G.Value) (G.Value, error) {
	x, a := fastDense(in[0]), fastDense(in[1])
	y := op.y.get(x.Dtype(), x.Shape())
	n, c, sp := preluGeom(x.Shape())
	switch x.Dtype() {
	case tensor.Float32:
		preluTo(op.y.f32, x.Float32s(), a.Float32s(), n, c, sp)
	default:
		preluTo(op.y.f64, x.Float64s(), a.Float64s(), n, c, sp)
	}
	return y, nil
}

func (op *preluOp) DiffWRT(int) []bool { return []bool{true, true} }
func (op *preluOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&preluBackXOp{dims: op.dims}, in[0], in[1], dy)
	if err != nil {
		return nil, err
	}
	da, err := G.ApplyOp(&preluBackAOp{dims: op.dims}, in[0], dy)
	return G.Nodes{dx, da}, err
}

// preluTo writes dst = x > 0 ? x : a[c]·x over an N×C×S layout.
func preluTo[T float32 | float64](dst, x, a []T, n, c, sp int) {
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			o := (i*c + ch) * sp
			s := a[ch]
			xs, ds := x[o:o+sp], dst[o:o+sp]
			for j, v := range xs {
				if v <= 0 {
					v *= s
				}
				ds[j] = v
			}
		}
	}
}

// preluBackXOp computes dx = dy·(x > 0 ? 1 : a[c]).
type preluBackXOp struct {
	fastOpBase
	dims int
	dx   fastBuf
}

func (op *preluBackXOp) Arity() int    { return 3 }
func (op *preluBackXOp) Type() hm.Type { return fnType(op.dims, 1, op.dims, op.dims) }
func (op *preluBackXOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in, 0)
	return s.Clone(), err
}
func (op *preluBackXOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fastPReLUBackX%d", op.dims) }
func (op *preluBackXOp) Hashcode() uint32      { return hashOp(op) }
func (op *preluBackXOp) String() string        { return "fastPReLUBackX" }

func (op *preluBackXOp) Do(in ...G.Value) (G.Value, error) {
	x, a, dy := fastDense(in[0]), fastDense(in[1]), fastDense(in[2])
	dx := op.dx.get(x.Dtype(), x.Shape())
	n, c, sp := preluGeom(x.Shape())
	switch x.Dtype() {
	case tensor.Float32:
		preluBackXTo(op.dx.f32, x.Float32s(), a.Float32s(), dy.Float32s(), n, c, sp)
	default:
		preluBackXTo(op.dx.f64, x.Float64s(), a.Float64s(), dy.Float64s(), n, c, sp)
	}
	return dx, nil
}

// preluBackXTo writes dst = dy·(x > 0 ? 1 : a[c]).
func preluBackXTo[T float32 | float64](dst, x, a, dy []T, n, c, sp int) {
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			o := (i*c + ch) * sp
			s := a[ch]
			xs, gs, ds := x[o:o+sp], dy[o:o+sp], dst[o:o+sp]
			for j, v := range xs {
				g := gs[j]
				if v <= 0 {
					g *= s
				}
				ds[j] = g
			}
		}
	}
}

// preluBackAOp computes da[c] = Σ_{n,…} dy·x·[x ≤ 0].
type preluBackAOp struct {
	fastOpBase
	dims int
	da   fastBuf
}

func (op *preluBackAOp) Arity() int    { return 2 }
func (op *preluBackAOp) Type() hm.Type { return fnType(op.dims, op.dims, 1) }
func (op *preluBackAOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in, 0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[1]}, nil
}
func (op *preluBackAOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fastPReLUBackA%d", op.dims) }
func (op *preluBackAOp) Hashcode() uint32      { return hashOp(op) }
func (op *preluBackAOp) String() string        { return "fastPReLUBackA" }

func (op *preluBackAOp) Do(in ...G.Value) (G.Value, error) {
	x, dy := fastDense(in[0]), fastDense(in[1])
	n, c, sp := preluGeom(x.Shape())
	da := op.da.get(x.Dtype(), tensor.Shape{c})
	switch x.Dtype() {
	case tensor.Float32:
		preluBackATo(op.da.f32, x.Float32s(), dy.Float32s(), n, c, sp)
	default:
		preluBackATo(op.da.f64, x.Float64s(), dy.Float64s(), n, c, sp)
	}
	return da, nil
}

// preluBackATo writes dst[c] = Σ dy·x·[x ≤ 0], accumulating in float64.
func preluBackATo[T float32 | float64](dst, x, dy []T, n, c, sp int) {
	for ch := 0; ch < c; ch++ {
		var s float64
		for i := 0; i < n; i++ {
			o := (i*c + ch) * sp
			xs, gs := x[o:o+sp], dy[o:o+sp]
			for j, v := range xs {
				if v <= 0 {
					s += float64(v * gs[j])
				}
			}
		}
		dst[ch] = T(s)
	}
}

// ---- Linear ----

// fastLinear is a fully connected layer,
//
//	y = x·wᵀ + b
//
// with x N×in, w out×in (PyTorch's layout), b out; y is N×out. Gradients:
// dx = dy·w, dw = dyᵀ·x, db = Σ_n dy. As layers.go's linear.
func fastLinear(x, w, b *G.Node) (*G.Node, error) {
	if x.Dims() != 2 || w.Dims() != 2 || b.Dims() != 1 || x.Shape()[1] != w.Shape()[1] || b.Shape()[0] != w.Shape()[0] {
		return nil, fmt.Errorf("core: fastLinear shapes x %v, w %v, b %v do not fit", x.Shape(), w.Shape(), b.Shape())
	}
	return G.ApplyOp(&linearOp{}, x, w, b)
}

// linearOp computes y = x·wᵀ + b.
type linearOp struct {
	fastOpBase
	y fastBuf
}

func (op *linearOp) Arity() int    { return 3 }
func (op *linearOp) Type() hm.Type { return fnType(2, 2, 1, 2) }
func (op *linearOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x, err := shapeOf(in, 0)
	if err != nil {
		return nil, err
	}
	w, err := shapeOf(in, 1)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{x[0], w[0]}, nil
}
func (op *linearOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "fastLinear") }
func (op *linearOp) Hashcode() uint32      { return hashOp(op) }
func (op *linearOp) String() string        { return "fastLinear" }

func (op *linearOp) Do(in ...G.Value) (G.Value, error) {
	x, w, b := fastDense(in[0]), fastDense(in[1]), fastDense(in[2])
	n, k, m := x.Shape()[0], x.Shape()[1], w.Shape()[0]
	y := op.y.get(x.Dtype(), tensor.Shape{n, m})
	switch x.Dtype() {
	case tensor.Float32:
		ys, bs := op.y.f32, b.Float32s()
		for i := 0; i < n; i++ {
			copy(ys[i*m:i*m+m], bs)
		}
		gemmNT32(true, n, m, k, x.Float32s(), k, w.Float32s(), k, ys, m)
	default:
		ys, bs := op.y.f64, b.Float64s()
		for i := 0; i < n; i++ {
			copy(ys[i*m:i*m+m], bs)
		}
		gemmRef(true, false, true, n, m, k, x.Float64s(), k, w.Float64s(), k, ys, m)
	}
	return y, nil
}

func (op *linearOp) DiffWRT(int) []bool { return []bool{true, true, true} }
func (op *linearOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&linearBackXOp{}, dy, in[1])
	if err != nil {
		return nil, err
	}
	dw, err := G.ApplyOp(&linearBackWOp{}, dy, in[0])
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(&biasBackOp{dims: 2}, dy)
	return G.Nodes{dx, dw, db}, err
}

// linearBackXOp computes dx = dy·w (N×out · out×in).
type linearBackXOp struct {
	fastOpBase
	dx fastBuf
}

func (op *linearBackXOp) Arity() int    { return 2 }
func (op *linearBackXOp) Type() hm.Type { return fnType(2, 2, 2) }
func (op *linearBackXOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	dy, err := shapeOf(in, 0)
	if err != nil {
		return nil, err
	}
	w, err := shapeOf(in, 1)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{dy[0], w[1]}, nil
}
func (op *linearBackXOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "fastLinearBackX") }
func (op *linearBackXOp) Hashcode() uint32      { return hashOp(op) }
func (op *linearBackXOp) String() string        { return "fastLinearBackX" }

func (op *linearBackXOp) Do(in ...G.Value) (G.Value, error) {
	dy, w := fastDense(in[0]), fastDense(in[1])
	n, m, k := dy.Shape()[0], w.Shape()[1], w.Shape()[0]
	dx := op.dx.get(dy.Dtype(), tensor.Shape{n, m})
	switch dy.Dtype() {
	case tensor.Float32:
		gemmNN32(false, n, m, k, dy.Float32s(), k, w.Float32s(), m, op.dx.f32, m)
	default:
		gemmRef(false, false, false, n, m, k, dy.Float64s(), k, w.Float64s(), m, op.dx.f64, m)
	}
	return dx, nil
}

// linearBackWOp computes dw = dyᵀ·x (out×N · N×in).
type linearBackWOp struct {
	fastOpBase
	dw  fastBuf
	dyT []float32 // scratch: dyᵀ, out×N
}

func (op *linearBackWOp) Arity() int    { return 2 }
func (op *linearBackWOp) Type() hm.Type { return fnType(2, 2, 2) }
func (op *linearBackWOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	dy, err := shapeOf(in, 0)
	if err != nil {
		return nil, err
	}
	x, err := shapeOf(in, 1)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{dy[1], x[1]}, nil
}
func (op *linearBackWOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "fastLinearBackW") }
func (op *linearBackWOp) Hashcode() uint32      { return hashOp(op) }
func (op *linearBackWOp) String() string        { return "fastLinearBackW" }

func (op *linearBackWOp) Do(in ...G.Value) (G.Value, error) {
	dy, x := fastDense(in[0]), fastDense(in[1])
	n, m, k := dy.Shape()[1], x.Shape()[1], dy.Shape()[0]
	dw := op.dw.get(dy.Dtype(), tensor.Shape{n, m})
	switch dy.Dtype() {
	case tensor.Float32:
		dyT := scratch32(&op.dyT, n*k)
		transposeTo(dyT, dy.Float32s(), k, n)
		gemmNN32(false, n, m, k, dyT, k, x.Float32s(), m, op.dw.f32, m)
	default:
		gemmRef(false, true, false, n, m, k, dy.Float64s(), n, x.Float64s(), m, op.dw.f64, m)
	}
	return dw, nil
}

// transposeTo writes the c×r matrix dst = srcᵀ of the r×c matrix src.
func transposeTo[T float32 | float64](dst, src []T, r, c int) {
	src, dst = src[:r*c], dst[:r*c]
	for i := 0; i < r; i++ {
		row := src[i*c : i*c+c]
		for j, v := range row {
			dst[j*r+i] = v
		}
	}
}

// biasBackOp computes the bias gradient db[c] = Σ_{n,…} dy[n,c,…] of an
// N×C (dims 2) or N×C×H×W (dims 4) output gradient, accumulating in float64.
type biasBackOp struct {
	fastOpBase
	dims int
	db   fastBuf
}

func (op *biasBackOp) Arity() int    { return 1 }
func (op *biasBackOp) Type() hm.Type { return fnType(op.dims, 1) }
func (op *biasBackOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in, 0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[1]}, nil
}
func (op *biasBackOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fastBiasBack%d", op.dims) }
func (op *biasBackOp) Hashcode() uint32      { return hashOp(op) }
func (op *biasBackOp) String() string        { return "fastBiasBack" }

func (op *biasBackOp) Do(in ...G.Value) (G.Value, error) {
	dy := fastDense(in[0])
	n, c, sp := preluGeom(dy.Shape())
	db := op.db.get(dy.Dtype(), tensor.Shape{c})
	switch dy.Dtype() {
	case tensor.Float32:
		biasBackTo(op.db.f32, dy.Float32s(), n, c, sp)
	default:
		biasBackTo(op.db.f64, dy.Float64s(), n, c, sp)
	}
	return db, nil
}

// biasBackTo writes dst[c] = Σ_{n,s} dy[n,c,s], accumulating in float64.
func biasBackTo[T float32 | float64](dst, dy []T, n, c, sp int) {
	for ch := 0; ch < c; ch++ {
		var s float64
		for i := 0; i < n; i++ {
			o := (i*c + ch) * sp
			for _, v := range dy[o : o+sp] {
				s += float64(v)
			}
		}
		dst[ch] = T(s)
	}
}
