package core

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core/gemm"
	"metriclab/core/kern"
	"metriclab/core/ops"
	"metriclab/core/par"
)

// Fused layer operations: drop-in replacements for the layer primitives of
// layers.go, written as custom gorgonia ops (core/ops states their contract)
// whose gradients are again custom ops. Same signatures and results (to
// float32 rounding):
//
//	fastConv2d(x, w, b, pad, s)    for conv2d, conv2dStride  (fastops_conv.go)
//	fastReLU(x)                    for relu
//	fastPReLU(x, a)                for prelu
//	fastMaxPool2(x)                for maxPool2      (fastops_pool.go)
//	fastLinear(x, w, b)            for linear
//	Linear(x, w, b)                fastLinear with b optional, the losses' heads (exported)
//	fastConvReLUPool(x, w, b, pad) for maxPool2(relu(conv2d(x, w, b, pad)))
//	                                                 (fastops_fused.go)
//	fastConvPReLU(x, w, b, a, pad) for prelu(conv2d(x, w, b, pad), a)
//	                                                 (fastops_convprelu.go)
//	fastBatchNorm(…)               for batchNorm     (fastops_bn.go)
//
// Why: a graph of gorgonia built-ins spends its time in generic elementwise
// kernels, broadcasting and a freshly allocated output per node per step.
// Here every op
//
//   - computes in one pass what the built-ins do in several (bias and
//     convolution; im2col read inside the matrix product, never written);
//   - runs its products on core/gemm (SIMD kernels natively, the pure-Go
//     kernel in the browser) and splits its loops over the trainer's
//     threads (core/par), with the same bits for every thread count;
//   - keeps its output tensor and scratch buffers, allocated on the first
//     step and reused afterwards (no allocation in the ops per step);
//   - saves what its backward ops need (the argmax of a max pool) and says
//     so in one line;
//   - has a float32 fast path and a float64 path made of the slow reference
//     loops, which the gradient tests use.
//
// The input gradient of a convolution is skipped (zeroed) when its input has
// no derivative node after gorgonia.Grad, which is the case of the image
// batch: nothing reads it.

// elemGrain is the number of elements below which an elementwise loop runs
// on one thread.
const elemGrain = 1 << 15

// elems is the float32 operands of an elementwise loop, handed to the
// threads by value (core/par): each method does the range [lo, hi).
type elems struct{ dst, x, y []float32 }

func (e elems) relu(lo, hi int)     { kern.ReLU(e.dst[lo:hi], e.x[lo:hi]) }
func (e elems) reluBack(lo, hi int) { kern.ReLUBack(e.dst[lo:hi], e.x[lo:hi], e.y[lo:hi]) }

// planes is the float32 operands of a loop over the planes (n, c) of an
// N×C×S tensor, or over its channels c.
type planes struct {
	dst, x, a, dy []float32
	n, c, sp      int
}

func (p planes) prelu(lo, hi int) {
	for pl := lo; pl < hi; pl++ {
		kern.PReLU(p.dst[pl*p.sp:(pl+1)*p.sp], p.x[pl*p.sp:(pl+1)*p.sp], p.a[pl%p.c])
	}
}

func (p planes) preluBackX(lo, hi int) {
	for pl := lo; pl < hi; pl++ {
		o := pl * p.sp
		kern.PReLUBack(p.dst[o:o+p.sp], p.x[o:o+p.sp], p.dy[o:o+p.sp], p.a[pl%p.c])
	}
}

// preluBackA and biasBack run over channels; each sums its planes one by
// one in the order n, a float64 total per channel.
func (p planes) preluBackA(lo, hi int) {
	for ch := lo; ch < hi; ch++ {
		var s float64
		for i := 0; i < p.n; i++ {
			o := (i*p.c + ch) * p.sp
			s += kern.PReLUSlopeGrad(p.x[o:o+p.sp], p.dy[o:o+p.sp])
		}
		p.dst[ch] = float32(s)
	}
}

// maskedBiasBack is biasBack of the output gradient where the output x is
// positive.
func (p planes) maskedBiasBack(lo, hi int) {
	for ch := lo; ch < hi; ch++ {
		var s float64
		for i := 0; i < p.n; i++ {
			o := (i*p.c + ch) * p.sp
			s += kern.MaskedSum(p.x[o:o+p.sp], p.dy[o:o+p.sp])
		}
		p.dst[ch] = float32(s)
	}
}

func (p planes) biasBack(lo, hi int) {
	for ch := lo; ch < hi; ch++ {
		var s float64
		for i := 0; i < p.n; i++ {
			o := (i*p.c + ch) * p.sp
			s += kern.Sum(p.dy[o : o+p.sp])
		}
		p.dst[ch] = float32(s)
	}
}

// planeGrain is the number of planes of sp elements per thread.
func planeGrain(sp int) int { return max(1, elemGrain/max(1, sp)) }

// ---- ReLU ----

// fastReLU is the rectifier y = max(x, 0), elementwise, on a tensor of any
// rank. Its gradient is dy·[y > 0] (0 at x = 0, as gorgonia's Rectify).
func fastReLU(x *G.Node) (*G.Node, error) {
	op := &reluOp{dims: x.Dims()}
	op.Key = fmt.Sprintf("fastReLU%d", op.dims)
	return G.ApplyOp(op, x)
}

// reluOp computes y = max(x, 0).
type reluOp struct {
	ops.Base
	dims int
	y    ops.Buf
}

func (op *reluOp) Arity() int                                        { return 1 }
func (op *reluOp) Type() hm.Type                                     { return ops.FnType(op.dims, op.dims) }
func (op *reluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return ops.SameShape(in) }

func (op *reluOp) Do(in ...G.Value) (G.Value, error) {
	x := ops.Dense(in[0])
	y := op.y.Get(x.Dtype(), x.Shape())
	switch x.Dtype() {
	case tensor.Float32:
		xs := x.Float32s()
		par.For(op.Pool, len(xs), elemGrain, elems{dst: op.y.F32, x: xs}, elems.relu)
	default:
		reluTo(op.y.F64, x.Float64s())
	}
	return y, nil
}

func (op *reluOp) DiffWRT(int) []bool { return []bool{true} }
func (op *reluOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	back := &reluBackOp{dims: op.dims}
	back.Key = fmt.Sprintf("fastReLUBack%d", op.dims)
	dx, err := G.ApplyOp(back, y, dy)
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
	ops.Base
	dims int
	dx   ops.Buf
}

func (op *reluBackOp) Arity() int                                        { return 2 }
func (op *reluBackOp) Type() hm.Type                                     { return ops.FnType(op.dims, op.dims, op.dims) }
func (op *reluBackOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return ops.SameShape(in) }

func (op *reluBackOp) Do(in ...G.Value) (G.Value, error) {
	y, dy := ops.Dense(in[0]), ops.Dense(in[1])
	dx := op.dx.Get(y.Dtype(), y.Shape())
	switch y.Dtype() {
	case tensor.Float32:
		ys := y.Float32s()
		par.For(op.Pool, len(ys), elemGrain, elems{dst: op.dx.F32, x: ys, y: dy.Float32s()}, elems.reluBack)
	default:
		reluBackTo(op.dx.F64, y.Float64s(), dy.Float64s())
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
	op := &preluOp{dims: x.Dims()}
	op.Key = fmt.Sprintf("fastPReLU%d", op.dims)
	return G.ApplyOp(op, x, a)
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
	ops.Base
	dims int
	y    ops.Buf
}

func (op *preluOp) Arity() int                                        { return 2 }
func (op *preluOp) Type() hm.Type                                     { return ops.FnType(op.dims, 1, op.dims) }
func (op *preluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return ops.SameShape(in) }

func (op *preluOp) Do(in ...G.Value) (G.Value, error) {
	x, a := ops.Dense(in[0]), ops.Dense(in[1])
	y := op.y.Get(x.Dtype(), x.Shape())
	n, c, sp := preluGeom(x.Shape())
	switch x.Dtype() {
	case tensor.Float32:
		pl := planes{dst: op.y.F32, x: x.Float32s(), a: a.Float32s(), n: n, c: c, sp: sp}
		par.For(op.Pool, n*c, planeGrain(sp), pl, planes.prelu)
	default:
		preluTo(op.y.F64, x.Float64s(), a.Float64s(), 0, n*c, c, sp)
	}
	return y, nil
}

func (op *preluOp) DiffWRT(int) []bool { return []bool{true, true} }
func (op *preluOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	bx := &preluBackXOp{dims: op.dims}
	bx.Key = fmt.Sprintf("fastPReLUBackX%d", op.dims)
	dx, err := G.ApplyOp(bx, in[0], in[1], dy)
	if err != nil {
		return nil, err
	}
	ba := &channelSumOp{dims: op.dims, arity: 2, f32: planes.preluBackA, f64: preluBackATo[float64]}
	ba.Key = fmt.Sprintf("fastPReLUBackA%d", op.dims)
	da, err := G.ApplyOp(ba, in[0], dy)
	return G.Nodes{dx, da}, err
}

// preluTo writes dst = x > 0 ? x : a[c]·x over planes [lo, hi) of an N×C×S
// layout.
func preluTo[T float32 | float64](dst, x, a []T, lo, hi, c, sp int) {
	for p := lo; p < hi; p++ {
		s := a[p%c]
		xs, ds := x[p*sp:(p+1)*sp], dst[p*sp:(p+1)*sp]
		for j, v := range xs {
			if v <= 0 {
				v *= s
			}
			ds[j] = v
		}
	}
}

// preluBackXOp computes dx = dy·(x > 0 ? 1 : a[c]).
type preluBackXOp struct {
	ops.Base
	dims int
	dx   ops.Buf
}

func (op *preluBackXOp) Arity() int                                        { return 3 }
func (op *preluBackXOp) Type() hm.Type                                     { return ops.FnType(op.dims, 1, op.dims, op.dims) }
func (op *preluBackXOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return ops.SameShape(in) }

func (op *preluBackXOp) Do(in ...G.Value) (G.Value, error) {
	x, a, dy := ops.Dense(in[0]), ops.Dense(in[1]), ops.Dense(in[2])
	dx := op.dx.Get(x.Dtype(), x.Shape())
	n, c, sp := preluGeom(x.Shape())
	switch x.Dtype() {
	case tensor.Float32:
		pl := planes{dst: op.dx.F32, x: x.Float32s(), a: a.Float32s(), dy: dy.Float32s(), n: n, c: c, sp: sp}
		par.For(op.Pool, n*c, planeGrain(sp), pl, planes.preluBackX)
	default:
		preluBackXTo(op.dx.F64, x.Float64s(), a.Float64s(), dy.Float64s(), 0, n*c, c, sp)
	}
	return dx, nil
}

// preluBackXTo writes dst = dy·(x > 0 ? 1 : a[c]) over planes [lo, hi).
func preluBackXTo[T float32 | float64](dst, x, a, dy []T, lo, hi, c, sp int) {
	for p := lo; p < hi; p++ {
		s := a[p%c]
		xs, gs, ds := x[p*sp:(p+1)*sp], dy[p*sp:(p+1)*sp], dst[p*sp:(p+1)*sp]
		for j, v := range xs {
			g := gs[j]
			if v <= 0 {
				g *= s
			}
			ds[j] = g
		}
	}
}

// preluBackATo writes dst[ch] = Σ dy·x·[x ≤ 0] for every channel,
// accumulating in float64 in the order n, then position.
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
// dx = dy·w, dw = dyᵀ·x, db = Σ_n dy. As layers.go's linear. The float32
// products run on gemm.Mul, the float64 ones on gemm's reference loops.
func fastLinear(x, w, b *G.Node) (*G.Node, error) {
	if x.Dims() != 2 || w.Dims() != 2 || b.Dims() != 1 || x.Shape()[1] != w.Shape()[1] || b.Shape()[0] != w.Shape()[0] {
		return nil, fmt.Errorf("core: fastLinear shapes x %v, w %v, b %v do not fit", x.Shape(), w.Shape(), b.Shape())
	}
	op := &linearOp{}
	op.Key = "fastLinear"
	return G.ApplyOp(op, x, w, b)
}

// Linear is the fully connected product of the losses' heads,
//
//	y = x·wᵀ + b,   or y = x·wᵀ when b is nil,
//
// x N×D, w C×D, b C: fastLinear, with the bias optional (the margin
// softmaxes' cosines f̂·Ŵᵀ have none), so that the heads' C×D class
// weights multiply on core/gemm rather than gonum's pure-Go BLAS.
// Gradients dx = dy·w, dw = dyᵀ·x, db = Σ_n dy. The float32 products run
// on gemm.Mul, the float64 ones on gemm's reference loops.
func Linear(x, w, b *G.Node) (*G.Node, error) {
	if b != nil {
		return fastLinear(x, w, b)
	}
	if x.Dims() != 2 || w.Dims() != 2 || x.Shape()[1] != w.Shape()[1] {
		return nil, fmt.Errorf("core: Linear shapes x %v, w %v do not fit", x.Shape(), w.Shape())
	}
	op := &linearOp{noBias: true}
	op.Key = "fastMulT"
	return G.ApplyOp(op, x, w)
}

// matOperands holds the offset tables of gemm operands read as plain
// row-major (or transposed) matrices; they are rebuilt only when a size
// changes.
type matOperands struct{ off, row []int32 }

// rowMajor returns A for the row-major m×k matrix a: A[r,t] = a[r·k + t].
func (o *matOperands) rowMajor(a []float32, m, k int) gemm.A {
	o.off, o.row = gemm.Steps(o.off, k, 1), gemm.Steps(o.row, m, k)
	return gemm.A{Data: a, Off: o.off, Row: o.row}
}

// transposed returns A = aᵀ for the row-major k×m matrix a: A[r,t] = a[t·m + r].
func (o *matOperands) transposed(a []float32, m, k int) gemm.A {
	o.off, o.row = gemm.Steps(o.off, k, m), gemm.Steps(o.row, m, 1)
	return gemm.A{Data: a, Off: o.off, Row: o.row}
}

// linearOp computes y = x·wᵀ + b, or y = x·wᵀ with noBias (two inputs).
type linearOp struct {
	ops.Base
	noBias bool
	y      ops.Buf
	a      matOperands
	wT     []float32 // scratch: wᵀ, in×out
}

func (op *linearOp) Arity() int {
	if op.noBias {
		return 2
	}
	return 3
}

func (op *linearOp) Type() hm.Type {
	if op.noBias {
		return ops.FnType(2, 2, 2)
	}
	return ops.FnType(2, 2, 1, 2)
}

func (op *linearOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x, w, err := ops.ShapePair(in)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{x[0], w[0]}, nil
}

func (op *linearOp) Do(in ...G.Value) (G.Value, error) {
	x, w := ops.Dense(in[0]), ops.Dense(in[1])
	n, k, m := x.Shape()[0], x.Shape()[1], w.Shape()[0]
	y := op.y.Get(x.Dtype(), tensor.Shape{n, m})
	switch x.Dtype() {
	case tensor.Float32:
		ys := op.y.F32
		if !op.noBias {
			bs := ops.Dense(in[2]).Float32s()
			for i := 0; i < n; i++ {
				copy(ys[i*m:i*m+m], bs)
			}
		}
		wT := ops.Scratch32(&op.wT, k*m)
		transposeTo(wT, w.Float32s(), m, k)
		gemm.Mul(op.Pool, !op.noBias, n, m, k, op.a.rowMajor(x.Float32s(), n, k), gemm.B{Data: wT, Ld: m}, gemm.C{Data: ys, Ld: m})
	default:
		ys := op.y.F64
		if !op.noBias {
			bs := ops.Dense(in[2]).Float64s()
			for i := 0; i < n; i++ {
				copy(ys[i*m:i*m+m], bs)
			}
		}
		gemmRef(!op.noBias, false, true, n, m, k, x.Float64s(), k, w.Float64s(), k, ys, m)
	}
	return y, nil
}

func (op *linearOp) DiffWRT(int) []bool {
	if op.noBias {
		return []bool{true, true}
	}
	return []bool{true, true, true}
}

func (op *linearOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	bx := &linearBackXOp{}
	bx.Key = "fastLinearBackX"
	dx, err := G.ApplyOp(bx, dy, in[1])
	if err != nil {
		return nil, err
	}
	bw := &linearBackWOp{}
	bw.Key = "fastLinearBackW"
	dw, err := G.ApplyOp(bw, dy, in[0])
	if err != nil || op.noBias {
		return G.Nodes{dx, dw}, err
	}
	db, err := G.ApplyOp(newBiasBackOp(2), dy)
	return G.Nodes{dx, dw, db}, err
}

// linearBackXOp computes dx = dy·w (N×out · out×in).
type linearBackXOp struct {
	ops.Base
	dx ops.Buf
	a  matOperands
}

func (op *linearBackXOp) Arity() int    { return 2 }
func (op *linearBackXOp) Type() hm.Type { return ops.FnType(2, 2, 2) }
func (op *linearBackXOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	dy, w, err := ops.ShapePair(in)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{dy[0], w[1]}, nil
}

func (op *linearBackXOp) Do(in ...G.Value) (G.Value, error) {
	dy, w := ops.Dense(in[0]), ops.Dense(in[1])
	n, m, k := dy.Shape()[0], w.Shape()[1], w.Shape()[0]
	dx := op.dx.Get(dy.Dtype(), tensor.Shape{n, m})
	switch dy.Dtype() {
	case tensor.Float32:
		gemm.Mul(op.Pool, false, n, m, k, op.a.rowMajor(dy.Float32s(), n, k), gemm.B{Data: w.Float32s(), Ld: m}, gemm.C{Data: op.dx.F32, Ld: m})
	default:
		gemmRef(false, false, false, n, m, k, dy.Float64s(), k, w.Float64s(), m, op.dx.F64, m)
	}
	return dx, nil
}

// linearBackWOp computes dw = dyᵀ·x (out×N · N×in).
type linearBackWOp struct {
	ops.Base
	dw ops.Buf
	a  matOperands
}

func (op *linearBackWOp) Arity() int    { return 2 }
func (op *linearBackWOp) Type() hm.Type { return ops.FnType(2, 2, 2) }
func (op *linearBackWOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	dy, x, err := ops.ShapePair(in)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{dy[1], x[1]}, nil
}

func (op *linearBackWOp) Do(in ...G.Value) (G.Value, error) {
	dy, x := ops.Dense(in[0]), ops.Dense(in[1])
	n, m, k := dy.Shape()[1], x.Shape()[1], dy.Shape()[0]
	dw := op.dw.Get(dy.Dtype(), tensor.Shape{n, m})
	switch dy.Dtype() {
	case tensor.Float32:
		gemm.Mul(op.Pool, false, n, m, k, op.a.transposed(dy.Float32s(), n, k), gemm.B{Data: x.Float32s(), Ld: m}, gemm.C{Data: op.dw.F32, Ld: m})
	default:
		gemmRef(false, true, false, n, m, k, dy.Float64s(), n, x.Float64s(), m, op.dw.F64, m)
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

// gemmRef is the slow, obvious reference of the float64 linear layer:
//
//	C = (acc ? C : 0) + op(A)·op(B),   op(X) = X or Xᵀ,
//
// with op(A) m×k and op(B) k×n stored row-major with strides lda and ldb.
func gemmRef[T float32 | float64](acc, transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				ai, bi := i*lda+p, p*ldb+j
				if transA {
					ai = p*lda + i
				}
				if transB {
					bi = j*ldb + p
				}
				s += float64(a[ai]) * float64(b[bi])
			}
			if acc {
				s += float64(c[i*ldc+j])
			}
			c[i*ldc+j] = T(s)
		}
	}
}

// newBiasBackOp returns the bias gradient op of an N×C (dims 2) or
// N×C×H×W (dims 4) output gradient: db[c] = Σ_{n,…} dy[n,c,…].
func newBiasBackOp(dims int) *channelSumOp {
	op := &channelSumOp{dims: dims, arity: 1, f32: planes.biasBack, f64: biasBackTo[float64]}
	op.Key = fmt.Sprintf("fastBiasBack%d", dims)
	return op
}

// channelSumOp is the gradient of a per-channel parameter (a bias, a PReLU
// slope): from the N×C×… operands (x, dy) or (dy), the C-vector
//
//	dst[c] = Σ_{n,…} f(x, dy)[n,c,…],
//
// accumulated in float64 channel by channel (each channel by one thread,
// so any thread count gives the same sums). f32 is the float32 kernel over
// channels [lo, hi) and f64 the float64 reference over all of them (x is
// nil when arity is 1).
type channelSumOp struct {
	ops.Base
	dims, arity int
	f32         func(p planes, lo, hi int)
	f64         func(dst, x, dy []float64, n, c, sp int)
	dst         ops.Buf
}

func (op *channelSumOp) Arity() int { return op.arity }
func (op *channelSumOp) Type() hm.Type {
	if op.arity == 1 {
		return ops.FnType(op.dims, 1)
	}
	return ops.FnType(op.dims, op.dims, 1)
}
func (op *channelSumOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := ops.ShapeOf(in, 0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[1]}, nil
}

func (op *channelSumOp) Do(in ...G.Value) (G.Value, error) {
	x, dy := ops.Dense(in[0]), ops.Dense(in[op.arity-1])
	n, c, sp := preluGeom(dy.Shape())
	dst := op.dst.Get(dy.Dtype(), tensor.Shape{c})
	switch dy.Dtype() {
	case tensor.Float32:
		pl := planes{dst: op.dst.F32, dy: dy.Float32s(), n: n, c: c, sp: sp}
		if op.arity == 2 {
			pl.x = x.Float32s()
		}
		par.For(op.Pool, c, planeGrain(n*sp), pl, op.f32)
	default:
		var xs []float64
		if op.arity == 2 {
			xs = x.Float64s()
		}
		op.f64(op.dst.F64, xs, dy.Float64s(), n, c, sp)
	}
	return dst, nil
}

// biasBackTo writes dst[ch] = Σ_{n,s} dy[n,ch,s] for every channel,
// accumulating in float64 in the order n, s (x is not read: the signature
// is channelSumOp's).
func biasBackTo[T float32 | float64](dst, _, dy []T, n, c, sp int) {
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
