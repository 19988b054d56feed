package core

import (
	"errors"
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core/kern"
	"metriclab/core/ops"
	"metriclab/core/par"
)

// ---- Batch normalisation ----

// Batch normalisation constants of InsightFace's IResNet (PyTorch's
// defaults): ε added to the variance, and the weight of a new batch in the
// running statistics.
const (
	bnEps      = 1e-5
	bnMomentum = 0.1
)

// fastBatchNorm is batch normalisation over the channel axis (Ioffe and
// Szegedy, "Batch Normalization", ICML 2015) of an N×C or N×C×H×W input x,
// with scale γ and shift β (C each):
//
//	y[n,c,…] = γ[c] · (x[n,c,…] − μ[c]) / √(σ²[c] + ε) + β[c]
//
// In training mode μ and σ² are the batch's mean and biased variance over
// the M = N·H·W values of channel c, and every forward run also updates the
// running statistics in place, as PyTorch does:
//
//	rμ ← (1−m)·rμ + m·μ,   rσ² ← (1−m)·rσ² + m·σ²·M/(M−1),   m = bnMomentum
//
// In evaluation mode μ = rμ and σ² = rσ², and nothing is written. rμ and rσ²
// are graph inputs whose values the op mutates; they are not differentiable.
// Gradients (training mode only), with x̂ = (x−μ)/√(σ²+ε):
//
//	dβ[c] = Σ dy,  dγ[c] = Σ dy·x̂,
//	dx    = γ[c]/(M·√(σ²+ε)) · (M·dy − dβ[c] − x̂·dγ[c])
func fastBatchNorm(x, gamma, beta, runMean, runVar *G.Node, train bool) (*G.Node, error) {
	if x.Dims() != 2 && x.Dims() != 4 {
		return nil, fmt.Errorf("core: fastBatchNorm wants an N×C or N×C×H×W input, got %v", x.Shape())
	}
	c := x.Shape()[1]
	for _, p := range []*G.Node{gamma, beta, runMean, runVar} {
		if p.Dims() != 1 || p.Shape()[0] != c {
			return nil, fmt.Errorf("core: fastBatchNorm parameter %s %v does not match channels of %v", p.Name(), p.Shape(), x.Shape())
		}
	}
	op := &bnOp{dims: x.Dims(), train: train}
	op.Key = ops.Unique(fmt.Sprintf("fastBatchNorm%d(train=%v)", op.dims, train), op)
	return G.ApplyOp(op, x, gamma, beta, runMean, runVar)
}

// bnOp computes the batch normalisation; forward saves the per-channel mean
// and 1/√(σ²+ε) that the backward ops read.
type bnOp struct {
	ops.Base
	dims   int
	train  bool
	y      ops.Buf
	mean   []float64 // μ of the last run, per channel
	invStd []float64 // 1/√(σ²+ε) of the last run, per channel
}

func (op *bnOp) Arity() int    { return 5 }
func (op *bnOp) Type() hm.Type { return ops.FnType(op.dims, 1, 1, 1, 1, op.dims) }
func (op *bnOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := ops.ShapeOf(in, 0)
	return s.Clone(), err
}

func (op *bnOp) Do(in ...G.Value) (G.Value, error) {
	x := ops.Dense(in[0])
	y := op.y.Get(x.Dtype(), x.Shape())
	n, c, sp := preluGeom(x.Shape())
	if len(op.mean) != c {
		op.mean, op.invStd = make([]float64, c), make([]float64, c)
	}
	// The running statistics must be written in place: no materialised copy.
	rm, ok1 := in[3].(*tensor.Dense)
	rv, ok2 := in[4].(*tensor.Dense)
	if !ok1 || !ok2 || rm.RequiresIterator() || rv.RequiresIterator() {
		return nil, errors.New("core: fastBatchNorm: running statistics must be dense tensors")
	}
	g, b := ops.Dense(in[1]), ops.Dense(in[2])
	switch x.Dtype() {
	case tensor.Float32:
		l := bnLoop{op: op, dst: op.y.F32, x: x.Float32s(), rm: rm.Float32s(), rv: rv.Float32s(), g: g.Float32s(), b: b.Float32s(), n: n, c: c, sp: sp}
		par.For(op.Pool, c, planeGrain(n*sp), l, bnLoop.forward)
	default:
		bnStats(op, x.Float64s(), rm.Float64s(), rv.Float64s(), 0, c, n, c, sp)
		bnForwardTo(op.y.F64, x.Float64s(), g.Float64s(), b.Float64s(), op.mean, op.invStd, 0, c, n, c, sp)
	}
	return y, nil
}

// bnLoop is the float32 operands of a batch norm's loops over channels,
// handed to the threads by value (core/par).
type bnLoop struct {
	op                            *bnOp
	dst, x, rm, rv, g, b, dy, dgb []float32
	n, c, sp                      int
}

func (l bnLoop) forward(lo, hi int) {
	bnStats32(l.op, l.x, l.rm, l.rv, lo, hi, l.n, l.c, l.sp)
	for ch := lo; ch < hi; ch++ {
		scale := float64(l.g[ch]) * l.op.invStd[ch]
		shift := float64(l.b[ch]) - l.op.mean[ch]*scale
		for i := 0; i < l.n; i++ {
			o := (i*l.c + ch) * l.sp
			kern.ScaleShift(l.dst[o:o+l.sp], l.x[o:o+l.sp], float32(scale), float32(shift))
		}
	}
}

// backParams writes [dγ; dβ] of channels [lo, hi): dβ = Σ dy and
// dγ = Σ dy·x̂ = invStd·(Σ dy·x − μ·Σ dy), every sum in float64.
func (l bnLoop) backParams(lo, hi int) {
	for ch := lo; ch < hi; ch++ {
		var sdx, sd float64
		for i := 0; i < l.n; i++ {
			o := (i*l.c + ch) * l.sp
			sdx += kern.Dot(l.dy[o:o+l.sp], l.x[o:o+l.sp])
			sd += kern.Sum(l.dy[o : o+l.sp])
		}
		l.dst[ch] = float32(l.op.invStd[ch] * (sdx - l.op.mean[ch]*sd))
		l.dst[l.c+ch] = float32(sd)
	}
}

// backX writes dx of channels [lo, hi). With k = γ·invStd/M the formula
// γ·invStd/M · (M·dy − dβ − x̂·dγ) is linear in dy and x:
//
//	dx = k·M·dy − k·dγ·invStd·x + k·(dγ·invStd·μ − dβ)
func (l bnLoop) backX(lo, hi int) {
	m := float64(l.n * l.sp)
	for ch := lo; ch < hi; ch++ {
		inv := l.op.invStd[ch]
		k := float64(l.g[ch]) * inv / m
		dg, db := float64(l.dgb[ch]), float64(l.dgb[l.c+ch])
		a, b, c := k*m, -k*dg*inv, k*(dg*inv*l.op.mean[ch]-db)
		for i := 0; i < l.n; i++ {
			o := (i*l.c + ch) * l.sp
			kern.Axpbyc(l.dst[o:o+l.sp], l.dy[o:o+l.sp], l.x[o:o+l.sp], float32(a), float32(b), float32(c))
		}
	}
}

// bnStats32 is bnStats on the float32 kernels: sums of planes in float64,
// in the order n.
func bnStats32(op *bnOp, x, rm, rv []float32, lo, hi, n, c, sp int) {
	if !op.train {
		bnStats(op, x, rm, rv, lo, hi, n, c, sp)
		return
	}
	m := float64(n * sp)
	for ch := lo; ch < hi; ch++ {
		var s float64
		for i := 0; i < n; i++ {
			s += kern.Sum(x[(i*c+ch)*sp : (i*c+ch+1)*sp])
		}
		mu := s / m
		var ss float64
		for i := 0; i < n; i++ {
			ss += kern.SumSqDev(x[(i*c+ch)*sp:(i*c+ch+1)*sp], mu)
		}
		bnSetStats(op, rm, rv, ch, mu, ss, m)
	}
}

// bnStats sets op.mean and op.invStd of channels [lo, hi): from the batch
// (updating rm and rv in place) in training mode, from rm and rv otherwise.
func bnStats[T float32 | float64](op *bnOp, x, rm, rv []T, lo, hi, n, c, sp int) {
	if !op.train {
		for ch := lo; ch < hi; ch++ {
			op.mean[ch] = float64(rm[ch])
			op.invStd[ch] = 1 / math.Sqrt(float64(rv[ch])+bnEps)
		}
		return
	}
	m := float64(n * sp)
	for ch := lo; ch < hi; ch++ {
		// Two passes in float64: the mean, then the centred squares.
		var s float64
		for i := 0; i < n; i++ {
			for _, v := range x[(i*c+ch)*sp : (i*c+ch+1)*sp] {
				s += float64(v)
			}
		}
		mu := s / m
		var ss float64
		for i := 0; i < n; i++ {
			for _, v := range x[(i*c+ch)*sp : (i*c+ch+1)*sp] {
				d := float64(v) - mu
				ss += d * d
			}
		}
		bnSetStats(op, rm, rv, ch, mu, ss, m)
	}
}

// bnSetStats records channel ch's batch mean mu and sum of squared
// deviations ss over m values, and moves the running statistics towards
// them (the variance unbiased, as PyTorch does).
func bnSetStats[T float32 | float64](op *bnOp, rm, rv []T, ch int, mu, ss, m float64) {
	variance := ss / m
	op.mean[ch], op.invStd[ch] = mu, 1/math.Sqrt(variance+bnEps)
	unbiased := variance
	if m > 1 {
		unbiased = ss / (m - 1)
	}
	rm[ch] = T((1-bnMomentum)*float64(rm[ch]) + bnMomentum*mu)
	rv[ch] = T((1-bnMomentum)*float64(rv[ch]) + bnMomentum*unbiased)
}

// bnForwardTo writes dst = γ·(x−μ)·invStd + β over channels [lo, hi) of an
// N×C×S layout.
func bnForwardTo[T float32 | float64](dst, x, g, b []T, mean, invStd []float64, lo, hi, n, c, sp int) {
	for i := 0; i < n; i++ {
		for ch := lo; ch < hi; ch++ {
			o := (i*c + ch) * sp
			scale := float64(g[ch]) * invStd[ch]
			shift := float64(b[ch]) - mean[ch]*scale
			sc, sh := T(scale), T(shift)
			xs, ds := x[o:o+sp], dst[o:o+sp]
			for j, v := range xs {
				ds[j] = v*sc + sh
			}
		}
	}
}

func (op *bnOp) DiffWRT(int) []bool { return []bool{op.train, op.train, op.train, false, false} }
func (op *bnOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	if !op.train {
		return nil, errors.New("core: fastBatchNorm in evaluation mode has no gradient")
	}
	bp := &bnBackParamsOp{fwd: op}
	bp.Key = ops.Unique("fastBatchNormBackParams", op)
	dgb, err := G.ApplyOp(bp, in[0], dy)
	if err != nil {
		return nil, err
	}
	bx := &bnBackXOp{fwd: op}
	bx.Key = ops.Unique("fastBatchNormBackX", op)
	dx, err := G.ApplyOp(bx, in[0], in[1], dy, dgb)
	if err != nil {
		return nil, err
	}
	dg, err := G.Slice(dgb, G.S(0))
	if err != nil {
		return nil, err
	}
	db, err := G.Slice(dgb, G.S(1))
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dg, db, nil, nil}, nil
}

// bnBackParamsOp computes the 2×C matrix [dγ; dβ] = [Σ dy·x̂; Σ dy] from x
// and dy, with the statistics its forward op saved.
type bnBackParamsOp struct {
	ops.Base
	fwd *bnOp
	d   ops.Buf
}

func (op *bnBackParamsOp) Arity() int    { return 2 }
func (op *bnBackParamsOp) Type() hm.Type { return ops.FnType(op.fwd.dims, op.fwd.dims, 2) }
func (op *bnBackParamsOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := ops.ShapeOf(in, 0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{2, s[1]}, nil
}

func (op *bnBackParamsOp) Do(in ...G.Value) (G.Value, error) {
	x, dy := ops.Dense(in[0]), ops.Dense(in[1])
	n, c, sp := preluGeom(x.Shape())
	d := op.d.Get(x.Dtype(), tensor.Shape{2, c})
	switch x.Dtype() {
	case tensor.Float32:
		l := bnLoop{op: op.fwd, dst: op.d.F32, x: x.Float32s(), dy: dy.Float32s(), n: n, c: c, sp: sp}
		par.For(op.Pool, c, planeGrain(n*sp), l, bnLoop.backParams)
	default:
		bnBackParamsTo(op.d.F64, x.Float64s(), dy.Float64s(), op.fwd.mean, op.fwd.invStd, 0, c, n, c, sp)
	}
	return d, nil
}

// bnBackParamsTo writes dst[0,ch] = Σ dy·x̂ and dst[1,ch] = Σ dy for
// channels [lo, hi), accumulating in float64.
func bnBackParamsTo[T float32 | float64](dst, x, dy []T, mean, invStd []float64, lo, hi, n, c, sp int) {
	for ch := lo; ch < hi; ch++ {
		var sg, sb float64
		for i := 0; i < n; i++ {
			o := (i*c + ch) * sp
			for j, v := range x[o : o+sp] {
				g := float64(dy[o+j])
				sg += g * (float64(v) - mean[ch]) * invStd[ch]
				sb += g
			}
		}
		dst[ch], dst[c+ch] = T(sg), T(sb)
	}
}

// bnBackXOp computes dx = γ·invStd/M · (M·dy − dβ − x̂·dγ) from x, γ, dy and
// the [dγ; dβ] of bnBackParamsOp.
type bnBackXOp struct {
	ops.Base
	fwd *bnOp
	dx  ops.Buf
}

func (op *bnBackXOp) Arity() int { return 4 }
func (op *bnBackXOp) Type() hm.Type {
	return ops.FnType(op.fwd.dims, 1, op.fwd.dims, 2, op.fwd.dims)
}
func (op *bnBackXOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := ops.ShapeOf(in, 0)
	return s.Clone(), err
}

func (op *bnBackXOp) Do(in ...G.Value) (G.Value, error) {
	x, g, dy, dgb := ops.Dense(in[0]), ops.Dense(in[1]), ops.Dense(in[2]), ops.Dense(in[3])
	n, c, sp := preluGeom(x.Shape())
	dx := op.dx.Get(x.Dtype(), x.Shape())
	switch x.Dtype() {
	case tensor.Float32:
		l := bnLoop{op: op.fwd, dst: op.dx.F32, x: x.Float32s(), g: g.Float32s(), dy: dy.Float32s(), dgb: dgb.Float32s(), n: n, c: c, sp: sp}
		par.For(op.Pool, c, planeGrain(n*sp), l, bnLoop.backX)
	default:
		bnBackXTo(op.dx.F64, x.Float64s(), g.Float64s(), dy.Float64s(), dgb.Float64s(), op.fwd.mean, op.fwd.invStd, 0, c, n, c, sp)
	}
	return dx, nil
}

// bnBackXTo writes dst = γ·invStd/M · (M·dy − dβ − x̂·dγ) over channels
// [lo, hi).
func bnBackXTo[T float32 | float64](dst, x, g, dy, dgb []T, mean, invStd []float64, lo, hi, n, c, sp int) {
	m := float64(n * sp)
	for i := 0; i < n; i++ {
		for ch := lo; ch < hi; ch++ {
			o := (i*c + ch) * sp
			k := float64(g[ch]) * invStd[ch] / m
			dg, db := float64(dgb[ch]), float64(dgb[c+ch])
			for j, v := range x[o : o+sp] {
				xh := (float64(v) - mean[ch]) * invStd[ch]
				dst[o+j] = T(k * (m*float64(dy[o+j]) - db - xh*dg))
			}
		}
	}
}
