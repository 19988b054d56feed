package core

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core/conv"
	"metriclab/core/ops"
	"metriclab/core/par"
)

// fastConv2d is a 2-D convolution with stride s, zero padding pad on every
// side and, unless b is nil, a bias per output channel (core/conv states
// the formulas):
//
//	y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v] · x[n,c,s·i+u−pad,s·j+v−pad]
//
// x is N×Ci×H×W, w is Co×Ci×K×K, b is Co or nil; y is N×Co×Ho×Wo with
// Ho = ⌊(H+2pad−K)/s⌋+1. The float32 graph runs on conv.Plan (one matrix
// product per pass, the image read through offset tables), the float64 one
// on conv's reference loops. Nothing is kept between the forward op and the
// backward ops: each pads its own input.
func fastConv2d(x, w, b *G.Node, pad, stride int) (*G.Node, error) {
	if err := checkConvArgs(x, w, b, pad, stride); err != nil {
		return nil, err
	}
	op := &convOp{pad: pad, stride: stride, bias: b != nil}
	op.Key = fmt.Sprintf("fastConv2d(pad %d, stride %d, bias %v)", pad, stride, op.bias)
	if b == nil {
		return G.ApplyOp(op, x, w)
	}
	return G.ApplyOp(op, x, w, b)
}

// checkConvArgs returns an error unless x, w, b, pad and stride fit
// fastConv2d.
func checkConvArgs(x, w, b *G.Node, pad, stride int) error {
	if x.Dims() != 4 || w.Dims() != 4 || (b != nil && b.Dims() != 1) {
		return fmt.Errorf("core: fastConv2d wants x N×Ci×H×W, w Co×Ci×K×K, b Co; got %v, %v, %v", x.Shape(), w.Shape(), shapeOrNil(b))
	}
	xs, ws := x.Shape(), w.Shape()
	if ws[1] != xs[1] || ws[2] != ws[3] || (b != nil && b.Shape()[0] != ws[0]) {
		return fmt.Errorf("core: fastConv2d shapes x %v, w %v, b %v do not fit", xs, ws, shapeOrNil(b))
	}
	return convGeomOf(xs, ws, pad, stride).Validate()
}

func shapeOrNil(n *G.Node) any {
	if n == nil {
		return "none"
	}
	return n.Shape()
}

// convGeomOf is the conv.Geom of input shape x and filter shape w.
func convGeomOf(x, w tensor.Shape, pad, stride int) conv.Geom {
	return conv.Geom{N: x[0], Ci: x[1], H: x[2], W: x[3], Co: w[0], K: w[2], Stride: stride, Pad: pad}
}

// convOutShape is y's shape.
func convOutShape(g conv.Geom) tensor.Shape { return tensor.Shape{g.N, g.Co, g.Ho(), g.Wo()} }

// planFor returns *p if it is the plan of g, and a new plan otherwise.
func planFor(p **conv.Plan, g conv.Geom) (*conv.Plan, error) {
	if *p != nil && (*p).Geom() == g {
		return *p, nil
	}
	np, err := conv.NewPlan(g)
	if err != nil {
		return nil, err
	}
	*p = np
	return np, nil
}

// convScratch runs the float32 convolution of g with bias b into the
// fused ops' scratch *z (sized to the output) on the plan *p (made for g
// when it is not), and returns z: the output they keep for backward.
func convScratch(pool *par.Pool, p **conv.Plan, z *[]float32, g conv.Geom, x, w, b *tensor.Dense) ([]float32, error) {
	plan, err := planFor(p, g)
	if err != nil {
		return nil, err
	}
	out := ops.Scratch32(z, g.OutSize())
	plan.Forward(pool, out, x.Float32s(), w.Float32s(), b.Float32s())
	return out, nil
}

// convOp computes y = conv(x, w) (+ b).
type convOp struct {
	ops.Base
	pad, stride int
	bias        bool
	y           ops.Buf
	plan        *conv.Plan
}

func (op *convOp) Arity() int {
	if op.bias {
		return 3
	}
	return 2
}
func (op *convOp) Type() hm.Type {
	if op.bias {
		return ops.FnType(4, 4, 1, 4)
	}
	return ops.FnType(4, 4, 4)
}
func (op *convOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x, w, err := ops.ShapePair(in)
	if err != nil {
		return nil, err
	}
	return convOutShape(convGeomOf(x, w, op.pad, op.stride)), nil
}

func (op *convOp) Do(in ...G.Value) (G.Value, error) {
	x, w := ops.Dense(in[0]), ops.Dense(in[1])
	g := convGeomOf(x.Shape(), w.Shape(), op.pad, op.stride)
	y := op.y.Get(x.Dtype(), convOutShape(g))
	switch x.Dtype() {
	case tensor.Float32:
		var b []float32
		if op.bias {
			b = ops.Dense(in[2]).Float32s()
		}
		p, err := planFor(&op.plan, g)
		if err != nil {
			return nil, err
		}
		p.Forward(op.Pool, op.y.F32, x.Float32s(), w.Float32s(), b)
	default:
		var b []float64
		if op.bias {
			b = ops.Dense(in[2]).Float64s()
		}
		conv.RefTo(g, op.y.F64, x.Float64s(), w.Float64s(), b)
	}
	return y, nil
}

func (op *convOp) DiffWRT(n int) []bool { return []bool{true, true, true}[:n] }
func (op *convOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	bx := &convBackXOp{fwd: op, x: in[0].Shape().Clone(), xNode: in[0]}
	bx.Key = fmt.Sprintf("fastConv2dBackX(pad %d, stride %d, %v)", op.pad, op.stride, bx.x)
	dx, err := G.ApplyOp(bx, dy, in[1])
	if err != nil {
		return nil, err
	}
	bw := &convBackWOp{fwd: op, w: in[1].Shape().Clone()}
	bw.Key = fmt.Sprintf("fastConv2dBackW(pad %d, stride %d, %v)", op.pad, op.stride, bw.w)
	dw, err := G.ApplyOp(bw, in[0], dy)
	if err != nil || !op.bias {
		return G.Nodes{dx, dw}, err
	}
	db, err := G.ApplyOp(newBiasBackOp(4), dy)
	return G.Nodes{dx, dw, db}, err
}

// convBackXOp computes the input gradient dx of the output gradient dy.
//
// When the forward input has no derivative node after gorgonia.Grad (it is
// not on a path to any node the gradient was asked for: the image batch of
// the first layer), nobody reads dx and the op only zeroes it.
type convBackXOp struct {
	ops.Base
	fwd   *convOp      // its plan (tables and scratch) serves the backward ops too
	x     tensor.Shape // shape of the forward input
	xNode *G.Node      // the forward input, to see whether its gradient is wanted
	dx    ops.Buf
}

func (op *convBackXOp) Arity() int    { return 2 }
func (op *convBackXOp) Type() hm.Type { return ops.FnType(4, 4, 4) }
func (op *convBackXOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.x.Clone(), nil
}

func (op *convBackXOp) Do(in ...G.Value) (G.Value, error) {
	dy, w := ops.Dense(in[0]), ops.Dense(in[1])
	g := convGeomOf(op.x, w.Shape(), op.fwd.pad, op.fwd.stride)
	dx := op.dx.Get(dy.Dtype(), op.x)
	if op.xNode != nil && op.xNode.Deriv() == nil {
		dx.Zero()
		return dx, nil
	}
	switch dy.Dtype() {
	case tensor.Float32:
		p, err := planFor(&op.fwd.plan, g)
		if err != nil {
			return nil, err
		}
		p.BackwardData(op.Pool, op.dx.F32, dy.Float32s(), w.Float32s())
	default:
		conv.RefDataTo(g, op.dx.F64, dy.Float64s(), w.Float64s())
	}
	return dx, nil
}

// convBackWOp computes the filter gradient dw of the output gradient dy at
// input x, reading the padded copy of x that the forward op's plan kept.
type convBackWOp struct {
	ops.Base
	fwd *convOp
	w   tensor.Shape // shape of the filter
	dw  ops.Buf
}

func (op *convBackWOp) Arity() int    { return 2 }
func (op *convBackWOp) Type() hm.Type { return ops.FnType(4, 4, 4) }
func (op *convBackWOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.w.Clone(), nil
}

func (op *convBackWOp) Do(in ...G.Value) (G.Value, error) {
	x, dy := ops.Dense(in[0]), ops.Dense(in[1])
	g := convGeomOf(x.Shape(), op.w, op.fwd.pad, op.fwd.stride)
	dw := op.dw.Get(x.Dtype(), op.w)
	switch x.Dtype() {
	case tensor.Float32:
		p, err := planFor(&op.fwd.plan, g)
		if err != nil {
			return nil, err
		}
		p.BackwardFilter(op.Pool, op.dw.F32, nil, x.Float32s(), dy.Float32s())
	default:
		conv.RefFilterTo(g, op.dw.F64, nil, x.Float64s(), dy.Float64s())
	}
	return dw, nil
}
