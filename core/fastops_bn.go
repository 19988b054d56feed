package core

import (
	"errors"
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
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
	return G.ApplyOp(&bnOp{dims: x.Dims(), train: train}, x, gamma, beta, runMean, runVar)
}

// bnOp computes the batch normalisation; forward saves the per-channel mean
// and 1/√(σ²+ε) that the backward ops read.
type bnOp struct {
	fastOpBase
	dims   int
	train  bool
	y      fastBuf
	mean   []float64 // μ of the last run, per channel
	invStd []float64 // 1/√(σ²+ε) of the last run, per channel
}

func (op *bnOp) Arity() int    { return 5 }
func (op *bnOp) Type() hm.Type { return fnType(op.dims, 1, 1, 1, 1, op.dims) }
func (op *bnOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in, 0)
	return s.Clone(), err
}

// WriteHash includes the op's address: two batch norms never share saved
// statistics, even over the same inputs.
func (op *bnOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fastBatchNorm%d%v%p", op.dims, op.train, op) }
func (op *bnOp) Hashcode() uint32      { return hashOp(op) }
func (op *bnOp) String() string        { return fmt.Sprintf("fastBatchNorm(train=%v)", op.train) }

func (op *bnOp) Do(in ...G.Value) (G.Value, error) {
	x := fastDense(in[0])
	y := op.y.get(x.Dtype(), x.Shape())
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
	g, b := fastDense(in[1]), fastDense(in[2])
	switch x.Dtype() {
	case tensor.Float32:
		bnStats(op, x.Float32s(), rm.Float32s(), rv.Float32s(), n, c, sp)
		bnForwardTo(op.y.f32, x.Float32s(), g.Float32s(), b.Float32s(), op.mean, op.invStd, n, c, sp)
	default:
		bnStats(op, x.Float64s(), rm.Float64s(), rv.Float64s(), n, c, sp)
		bnForwardTo(op.y.f64, x.Float64s(), g.Float64s(), b.Float64s(), op.mean, op.invStd, n, c, sp)
	}
	return y, nil
}

// bnStats sets op.mean and op.invStd: from the batch (updating rm and rv
// in place) in training mode, from rm and rv otherwise.
func bnStats[T float32 | float64](op *bnOp, x, rm, rv []T, n, c, sp int) {
	if !op.train {
		for ch := 0; ch < c; ch++ {
			op.mean[ch] = float64(rm[ch])
			op.invStd[ch] = 1 / math.Sqrt(float64(rv[ch])+bnEps)
		}
		return
	}
	m := float64(n * sp)
	for ch := 0; ch < c; ch++ {
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
		variance := ss / m
		op.mean[ch], op.invStd[ch] = mu, 1/math.Sqrt(variance+bnEps)
		unbiased := variance
		if m > 1 {
			unbiased = ss / (m - 1)
		}
		rm[ch] = T((1-bnMomentum)*float64(rm[ch]) + bnMomentum*mu)
		rv[ch] = T((1-bnMomentum)*float64(rv[ch]) + bnMomentum*unbiased)
	}
}

// bnForwardTo writes dst = γ·(x−μ)·invStd + β over an N×C×S layout.
func bnForwardTo[T float32 | float64](dst, x, g, b []T, mean, invStd []float64, n, c, sp int) {
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
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
	dgb, err := G.ApplyOp(&bnBackParamsOp{fwd: op}, in[0], dy)
	if err != nil {
		return nil, err
	}
	dx, err := G.ApplyOp(&bnBackXOp{fwd: op}, in[0], in[1], dy, dgb)
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
	fastOpBase
	fwd *bnOp
	d   fastBuf
}

func (op *bnBackParamsOp) Arity() int    { return 2 }
func (op *bnBackParamsOp) Type() hm.Type { return fnType(op.fwd.dims, op.fwd.dims, 2) }
func (op *bnBackParamsOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in, 0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{2, s[1]}, nil
}
func (op *bnBackParamsOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fastBatchNormBackParams%p", op.fwd) }
func (op *bnBackParamsOp) Hashcode() uint32      { return hashOp(op) }
func (op *bnBackParamsOp) String() string        { return "fastBatchNormBackParams" }

func (op *bnBackParamsOp) Do(in ...G.Value) (G.Value, error) {
	x, dy := fastDense(in[0]), fastDense(in[1])
	n, c, sp := preluGeom(x.Shape())
	d := op.d.get(x.Dtype(), tensor.Shape{2, c})
	switch x.Dtype() {
	case tensor.Float32:
		bnBackParamsTo(op.d.f32, x.Float32s(), dy.Float32s(), op.fwd.mean, op.fwd.invStd, n, c, sp)
	default:
		bnBackParamsTo(op.d.f64, x.Float64s(), dy.Float64s(), op.fwd.mean, op.fwd.invStd, n, c, sp)
	}
	return d, nil
}

// bnBackParamsTo writes dst[0,c] = Σ dy·x̂ and dst[1,c] = Σ dy, accumulating
// in float64.
func bnBackParamsTo[T float32 | float64](dst, x, dy []T, mean, invStd []float64, n, c, sp int) {
	for ch := 0; ch < c; ch++ {
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
	fastOpBase
	fwd *bnOp
	dx  fastBuf
}

func (op *bnBackXOp) Arity() int { return 4 }
func (op *bnBackXOp) Type() hm.Type {
	return fnType(op.fwd.dims, 1, op.fwd.dims, 2, op.fwd.dims)
}
func (op *bnBackXOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in, 0)
	return s.Clone(), err
}
func (op *bnBackXOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fastBatchNormBackX%p", op.fwd) }
func (op *bnBackXOp) Hashcode() uint32      { return hashOp(op) }
func (op *bnBackXOp) String() string        { return "fastBatchNormBackX" }

func (op *bnBackXOp) Do(in ...G.Value) (G.Value, error) {
	x, g, dy, dgb := fastDense(in[0]), fastDense(in[1]), fastDense(in[2]), fastDense(in[3])
	n, c, sp := preluGeom(x.Shape())
	dx := op.dx.get(x.Dtype(), x.Shape())
	switch x.Dtype() {
	case tensor.Float32:
		bnBackXTo(op.dx.f32, x.Float32s(), g.Float32s(), dy.Float32s(), dgb.Float32s(), op.fwd.mean, op.fwd.invStd, n, c, sp)
	default:
		bnBackXTo(op.dx.f64, x.Float64s(), g.Float64s(), dy.Float64s(), dgb.Float64s(), op.fwd.mean, op.fwd.invStd, n, c, sp)
	}
	return dx, nil
}

// bnBackXTo writes dst = γ·invStd/M · (M·dy − dβ − x̂·dγ).
func bnBackXTo[T float32 | float64](dst, x, g, dy, dgb []T, mean, invStd []float64, n, c, sp int) {
	m := float64(n * sp)
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
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
