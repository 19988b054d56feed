package losses

// The pair-based losses (contrastive, triplet) are written once on the N×N
// distance matrix D of the batch:
//
//	emb (N×D) ──distance──> D (N×N) ──objective──> L
//	dL/demb   <──distance── dL/dD   <──objective──
//
// One gorgonia op (pairLossOp) runs both stages in float64, whatever the
// graph's dtype (float32 inputs are widened on the way in, the results are
// rounded on the way out), with buffers held by the op and reused across
// steps. The objective (contrastive, or a triplet miner) only sees D and the
// labels; the distance only sees the embeddings and dL/dD.

import (
	"fmt"
	"math"
	"strings"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core"
	"metriclab/core/ops"
	"metriclab/core/vec"
)

// pairDistance is a distance between two embeddings. Both distances are
// oriented the same way: smaller is closer. Cosine enters as the distance
// 1 − cos rather than the similarity cos, so each loss and miner is written
// once ("hardest positive" is always the largest d(a,p), "hardest negative"
// the smallest d(a,n)) and a margin always reads as a distance gap.
type pairDistance int

const (
	// pairCosine is d(x, y) = 1 − x·y / (‖x‖‖y‖), in [0, 2], on L2-normalised
	// rows, with ‖x‖ = √(Σx² + pairNormEps).
	pairCosine pairDistance = iota
	// pairEuclidean is d(x, y) = √(Σ(x−y)² + pairSqrtEps), on raw rows.
	pairEuclidean
)

const (
	// pairNormEps keeps the normalisation of an all-zero row finite.
	pairNormEps = 1e-12
	// pairSqrtEps keeps d√s/ds = 1/(2√s) finite for coincident points
	// (s = 0): the distance of two equal rows is 1e-6, its gradient 0.
	pairSqrtEps = 1e-12
)

// pairDefaultDistance is the distance when Config.Distance is "": cosine,
// because metriclab verifies faces with the cosine metric and shows the
// embeddings on the sphere, and because a cosine margin has a fixed scale
// (d ∈ [0, 2]) while raw euclidean embeddings can grow without bound.
const pairDefaultDistance = pairCosine

// pairDistanceNames lists the distances by Config.Distance name, sorted.
var pairDistanceNames = [...]string{pairCosine: "cosine", pairEuclidean: "euclidean"}

// Distances returns the names accepted in Config.Distance by the pair-based
// losses (contrastive, triplet), sorted. "" selects cosine.
func Distances() []string { return append([]string(nil), pairDistanceNames[:]...) }

// DefaultDistance is the distance that an empty Config.Distance selects.
func DefaultDistance() string { return pairDefaultDistance.String() }

// pairParseDistance returns the distance named by Config.Distance.
func pairParseDistance(loss, name string) (pairDistance, error) {
	if name == "" {
		return pairDefaultDistance, nil
	}
	for d, n := range pairDistanceNames {
		if n == name {
			return pairDistance(d), nil
		}
	}
	return 0, fmt.Errorf("%s: unknown distance %q (want one of %s)", loss, name, strings.Join(Distances(), ", "))
}

func (d pairDistance) String() string { return pairDistanceNames[d] }

// pairDistBuf holds what the distance's forward saves for its backward.
type pairDistBuf struct {
	norm []float64 // cosine: ‖x_i‖ = √(Σx² + ε), N
	u    []float64 // cosine: x_i / ‖x_i‖, N×dim
}

// matrixTo writes the distances between the rows of x (N×dim, row-major) to
// dm (N×N, symmetric, zero diagonal) and saves in buf what gradTo needs.
func (d pairDistance) matrixTo(dm []float64, buf *pairDistBuf, x []float64, n, dim int) {
	switch d {
	case pairCosine:
		for i := 0; i < n; i++ {
			xi := x[i*dim : (i+1)*dim]
			var s float64
			for _, v := range xi {
				s += v * v
			}
			nrm := math.Sqrt(s + pairNormEps)
			buf.norm[i] = nrm
			ui := buf.u[i*dim : (i+1)*dim]
			for c, v := range xi {
				ui[c] = v / nrm
			}
		}
		for i := 0; i < n; i++ {
			ui := buf.u[i*dim : (i+1)*dim]
			dm[i*n+i] = 0
			for j := i + 1; j < n; j++ {
				uj := buf.u[j*dim : (j+1)*dim]
				var dot float64
				for c := range ui {
					dot += ui[c] * uj[c]
				}
				dm[i*n+j] = 1 - dot
				dm[j*n+i] = 1 - dot
			}
		}
	case pairEuclidean:
		for i := 0; i < n; i++ {
			xi := x[i*dim : (i+1)*dim]
			dm[i*n+i] = 0
			for j := i + 1; j < n; j++ {
				xj := x[j*dim : (j+1)*dim]
				var s float64
				for c := range xi {
					t := xi[c] - xj[c]
					s += t * t
				}
				v := math.Sqrt(s + pairSqrtEps)
				dm[i*n+j] = v
				dm[j*n+i] = v
			}
		}
	default:
		panic("losses: unknown pair distance")
	}
}

// gradTo writes dL/dx (N×dim) to dx given gd = dL/dD (N×N). gd need not be
// symmetric: entry (i, j) is the loss's use of d(x_i, x_j), so
//
//	dL/dx_i = Σ_{j≠i} (gd_ij + gd_ji) ∂d(x_i, x_j)/∂x_i
//
// with ∂d/∂x_i = (x_i − x_j)/d for euclidean, and for cosine
// ∂d/∂u_i = −u_j followed by the normalisation's backward
// dL/dx_i = (g − u_i (u_i·g)) / ‖x_i‖. The diagonal of gd is ignored.
func (d pairDistance) gradTo(dx, gd, dm []float64, buf *pairDistBuf, x []float64, n, dim int) {
	clear(dx)
	switch d {
	case pairCosine:
		for i := 0; i < n; i++ {
			gi := dx[i*dim : (i+1)*dim] // first dL/du_i, then dL/dx_i
			for j := 0; j < n; j++ {
				w := gd[i*n+j] + gd[j*n+i]
				if j == i || w == 0 {
					continue
				}
				uj := buf.u[j*dim : (j+1)*dim]
				for c := range gi {
					gi[c] -= w * uj[c]
				}
			}
			ui := buf.u[i*dim : (i+1)*dim]
			var ug float64
			for c := range gi {
				ug += ui[c] * gi[c]
			}
			inv := 1 / buf.norm[i]
			for c := range gi {
				gi[c] = (gi[c] - ui[c]*ug) * inv
			}
		}
	case pairEuclidean:
		for i := 0; i < n; i++ {
			xi := x[i*dim : (i+1)*dim]
			gi := dx[i*dim : (i+1)*dim]
			for j := 0; j < n; j++ {
				w := gd[i*n+j] + gd[j*n+i]
				if j == i || w == 0 {
					continue
				}
				xj := x[j*dim : (j+1)*dim]
				w /= dm[i*n+j]
				for c := range gi {
					gi[c] += w * (xi[c] - xj[c])
				}
			}
		}
	default:
		panic("losses: unknown pair distance")
	}
}

// pairObjective is a loss on the distance matrix of a batch: contrastive, or
// triplet with a miner.
type pairObjective interface {
	// lossGradTo returns L(D) for the distances dm (N×N) of a batch with the
	// given labels, and writes dL/dD to gd (N×N, every entry written).
	lossGradTo(gd, dm []float64, labels []int, n int) float64
	// String names the objective and its parameters, for the op's hash.
	String() string
}

// pairKernel computes a pair-based loss and its gradient in float64. It holds
// every buffer, sized on first use and reused while N and dim stay the same.
type pairKernel struct {
	dist pairDistance
	obj  pairObjective

	n, dim int
	x      []float64 // emb in float64, N×dim
	labels []int     // argmax of each onehot row, N
	dm     []float64 // D, N×N
	gd     []float64 // dL/dD, N×N, saved by forward for backward
	dx     []float64 // dL/demb, N×dim
	buf    pairDistBuf
	dxT    *tensor.Dense // the gradient value handed to the graph
}

func (k *pairKernel) resize(n, dim int) {
	if n == k.n && dim == k.dim {
		return
	}
	k.n, k.dim = n, dim
	k.x = make([]float64, n*dim)
	k.labels = make([]int, n)
	k.dm = make([]float64, n*n)
	k.gd = make([]float64, n*n)
	k.dx = make([]float64, n*dim)
	k.buf = pairDistBuf{norm: make([]float64, n), u: make([]float64, n*dim)}
	k.dxT = nil
}

// forward returns L for the batch emb (N×dim) with labels onehot (N×C).
// It saves D, dL/dD and the distance's buffers for backward.
func (k *pairKernel) forward(emb, onehot G.Value) (float64, error) {
	et, ok := emb.(*tensor.Dense)
	if !ok || et.Dims() != 2 || et.RequiresIterator() || et.DataSize() != et.Shape().TotalSize() {
		return 0, fmt.Errorf("losses: %v: emb must be a contiguous N×D *tensor.Dense, got %T", k.obj, emb)
	}
	ot, ok := onehot.(*tensor.Dense)
	if !ok || ot.Dims() != 2 || ot.RequiresIterator() || ot.DataSize() != ot.Shape().TotalSize() || ot.Shape()[0] != et.Shape()[0] {
		return 0, fmt.Errorf("losses: %v: onehot must be a contiguous N×C *tensor.Dense with N = %d, got %T", k.obj, et.Shape()[0], onehot)
	}
	n, dim, c := et.Shape()[0], et.Shape()[1], ot.Shape()[1]
	k.resize(n, dim)
	// Float64s and Float32s read the backing array without boxing it in an
	// interface (Data would allocate on every step).
	switch et.Dtype() {
	case tensor.Float64:
		copy(k.x, et.Float64s())
	case tensor.Float32:
		for i, f := range et.Float32s() {
			k.x[i] = float64(f) // widened: the kernel accumulates in float64
		}
	default:
		return 0, fmt.Errorf("losses: %v: emb dtype %v, want float32 or float64", k.obj, et.Dtype())
	}
	switch ot.Dtype() {
	case tensor.Float64:
		pairArgmaxRows(k.labels, ot.Float64s(), c)
	case tensor.Float32:
		pairArgmaxRows(k.labels, ot.Float32s(), c)
	default:
		return 0, fmt.Errorf("losses: %v: onehot dtype %v, want float32 or float64", k.obj, ot.Dtype())
	}
	if !vec.AllFinite(k.x) {
		// A weight overflowed by the last update: the miners' comparisons
		// and the hinges' h > 0 are false for NaN, so a triplet loss
		// would be 0, as if every triplet were satisfied, and the run
		// would go on with weights that are no longer numbers. NaN fails
		// the step as any other loss's would (core.NonFiniteLoss).
		return math.NaN(), nil
	}
	k.dist.matrixTo(k.dm, &k.buf, k.x, n, dim)
	return k.obj.lossGradTo(k.gd, k.dm, k.labels, n), nil
}

// backward writes g·dL/demb to dst (N×dim, float32 or float64), g being the
// upstream gradient of the scalar loss; it uses what forward saved.
func (k *pairKernel) backward(dst *tensor.Dense, g float64) error {
	k.dist.gradTo(k.dx, k.gd, k.dm, &k.buf, k.x, k.n, k.dim)
	switch dst.Dtype() {
	case tensor.Float64:
		v := dst.Float64s()
		for i, f := range k.dx {
			v[i] = g * f
		}
	case tensor.Float32:
		v := dst.Float32s()
		for i, f := range k.dx {
			v[i] = float32(g * f) // rounded once, after the float64 sums
		}
	default:
		return fmt.Errorf("losses: %v: gradient dtype %v, want float32 or float64", k.obj, dst.Dtype())
	}
	return nil
}

// pairArgmaxRows writes the index of the largest entry of each row of the
// N×c matrix m to dst (the label of a one-hot row; the first one on ties).
func pairArgmaxRows[T float32 | float64](dst []int, m []T, c int) {
	for i := range dst {
		row := m[i*c : (i+1)*c]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		dst[i] = best
	}
}

// pairLossOp is the gorgonia op of a pair-based loss:
//
//	(emb N×D, onehot N×C) → L, a scalar of emb's dtype
//
// differentiable with respect to emb only. Forward saves dL/dD and the
// distance's buffers in the kernel, which its diff op reads.
type pairLossOp struct {
	ops.Base
	kern  *pairKernel
	dtype tensor.Dtype
}

// newPairLossOp returns the loss op of kern in dtype dt; its Key says what
// it computes (objective, distance, dtype).
func newPairLossOp(kern *pairKernel, dt tensor.Dtype) *pairLossOp {
	op := &pairLossOp{kern: kern, dtype: dt}
	op.Key = fmt.Sprintf("PairLoss{%v, %v, %v}", kern.obj, kern.dist, dt)
	return op
}

func (op *pairLossOp) Arity() int { return 2 }

func (op *pairLossOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, op.dtype)
}

func (op *pairLossOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (op *pairLossOp) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("losses: %v: want 2 inputs, got %d", op, len(inputs))
	}
	l, err := op.kern.forward(inputs[0], inputs[1])
	if err != nil {
		return nil, err
	}
	if op.dtype == tensor.Float32 {
		return G.NewF32(float32(l)), nil
	}
	return G.NewF64(l), nil
}

// UsePreallocDo writes L into prealloc (*G.F64 or *G.F32) when it can.
func (op *pairLossOp) UsePreallocDo(prealloc G.Value, inputs ...G.Value) (G.Value, error) {
	switch p := prealloc.(type) {
	case *G.F64:
		l, err := op.kern.forward(inputs[0], inputs[1])
		*p = G.F64(l)
		return p, err
	case *G.F32:
		l, err := op.kern.forward(inputs[0], inputs[1])
		*p = G.F32(l)
		return p, err
	}
	return op.Do(inputs...)
}

func (op *pairLossOp) DiffWRT(inputs int) []bool { return []bool{true, false} }

func (op *pairLossOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("losses: %v: want 2 inputs, got %d", op, len(inputs))
	}
	// output is an input of the diff op only to order it after the forward.
	d, err := G.ApplyOp(newPairLossDiffOp(op), inputs[0], inputs[1], output, grad)
	return G.Nodes{d, nil}, err
}

// pairLossDiffOp is the backward of pairLossOp:
//
//	(emb, onehot, L, dC/dL) → dC/demb = dC/dL · dL/demb
type pairLossDiffOp struct {
	ops.Base
	fwd *pairLossOp
}

// newPairLossDiffOp returns the backward op of fwd.
func newPairLossDiffOp(fwd *pairLossOp) *pairLossDiffOp {
	op := &pairLossDiffOp{fwd: fwd}
	op.Key = fmt.Sprintf("PairLossDiff{%v, %v, %v}", fwd.kern.obj, fwd.kern.dist, fwd.dtype)
	return op
}

func (op *pairLossDiffOp) Arity() int { return 4 }

func (op *pairLossDiffOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, op.fwd.dtype, op.fwd.dtype, a)
}

func (op *pairLossDiffOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	s, ok := inputs[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("losses: %v: want a shape, got %T", op, inputs[0])
	}
	return s.Clone(), nil
}

// Do writes into a gradient tensor held by the kernel, reused across steps.
func (op *pairLossDiffOp) Do(inputs ...G.Value) (G.Value, error) {
	k := op.fwd.kern
	if k.dxT == nil || k.dxT.Dtype() != op.fwd.dtype {
		k.dxT = tensor.New(tensor.WithShape(k.n, k.dim), tensor.Of(op.fwd.dtype))
	}
	return op.UsePreallocDo(k.dxT, inputs...)
}

func (op *pairLossDiffOp) UsePreallocDo(prealloc G.Value, inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 4 {
		return nil, fmt.Errorf("losses: %v: want 4 inputs, got %d", op, len(inputs))
	}
	dst, ok := prealloc.(*tensor.Dense)
	k := op.fwd.kern
	if !ok || dst.Dims() != 2 || dst.Shape()[0] != k.n || dst.Shape()[1] != k.dim || dst.RequiresIterator() {
		return nil, fmt.Errorf("losses: %v: gradient must be a contiguous %d×%d tensor, got %T", op, k.n, k.dim, prealloc)
	}
	g, err := ops.Scalar(inputs[3])
	if err != nil {
		return nil, err
	}
	return dst, k.backward(dst, g)
}

var (
	_ G.SDOp            = (*pairLossOp)(nil)
	_ G.UsePreallocDoer = (*pairLossOp)(nil)
	_ G.Op              = (*pairLossDiffOp)(nil)
	_ G.UsePreallocDoer = (*pairLossDiffOp)(nil)
)

// pairLoss is what contrastive and triplet share: a name, parameters, a
// distance and an objective on the distance matrix. It has no learnables and
// no schedule.
type pairLoss struct {
	name   string
	dim    int
	values map[string]float64
	dist   pairDistance
	obj    pairObjective
}

// Name returns the loss name in the registry.
func (l *pairLoss) Name() string { return l.name }

// Params returns a copy of the loss parameters by their CLI names.
func (l *pairLoss) Params() map[string]float64 {
	m := make(map[string]float64, len(l.values))
	for k, v := range l.values {
		m[k] = v
	}
	return m
}

// Build adds the loss to g: one op from emb (N×D) and onehot (N×C) to the
// scalar loss. Each call makes a new op with its own buffers.
func (l *pairLoss) Build(g *G.ExprGraph, emb, onehot *G.Node, classes int) (*G.Node, error) {
	es, os := emb.Shape(), onehot.Shape()
	if len(es) != 2 || es[1] != l.dim {
		return nil, fmt.Errorf("%s: emb shape %v, want N×%d", l.name, es, l.dim)
	}
	if len(os) != 2 || os[0] != es[0] || os[1] != classes {
		return nil, fmt.Errorf("%s: onehot shape %v, want %d×%d", l.name, os, es[0], classes)
	}
	dt := emb.Dtype()
	if dt != tensor.Float64 && dt != tensor.Float32 {
		return nil, fmt.Errorf("%s: emb dtype %v, want float32 or float64", l.name, dt)
	}
	if onehot.Dtype() != dt {
		return nil, fmt.Errorf("%s: onehot dtype %v differs from emb dtype %v", l.name, onehot.Dtype(), dt)
	}
	return G.ApplyOp(newPairLossOp(&pairKernel{dist: l.dist, obj: l.obj}, dt), emb, onehot)
}

// Learnables returns nil: pair-based losses learn nothing of their own.
func (l *pairLoss) Learnables() []core.NamedNode { return nil }

// BeforeStep does nothing: pair-based losses have no schedule.
func (l *pairLoss) BeforeStep(iter int) error { return nil }
