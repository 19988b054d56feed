package core

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core/kern"
	"metriclab/core/ops"
	"metriclab/core/par"
)

// fastMaxPool2 is max pooling over 2×2 windows with stride 2, flooring odd
// sides, as layers.go's maxPool2:
//
//	y[n,c,i,j] = max_{u,v ∈ {0,1}} x[n,c,2i+u,2j+v],   N×C×H×W → N×C×⌊H/2⌋×⌊W/2⌋.
//
// The gradient goes to the first maximum of each window in the order
// (0,0), (0,1), (1,0), (1,1); the forward op saves that argmax for it.
func fastMaxPool2(x *G.Node) (*G.Node, error) {
	if x.Dims() != 4 {
		return nil, fmt.Errorf("core: fastMaxPool2 wants an N×C×H×W input, got %v", x.Shape())
	}
	op := &poolOp{}
	op.Key = ops.Unique("fastMaxPool2", op)
	return G.ApplyOp(op, x)
}

func poolShape(x tensor.Shape) tensor.Shape {
	return tensor.Shape{x[0], x[1], x[2] / 2, x[3] / 2}
}

// poolOp computes the 2×2 max pool and saves the argmax of every window.
type poolOp struct {
	ops.Base
	y   ops.Buf
	arg []int32 // saved for backward: flat index into x of each output's maximum
}

func (op *poolOp) Arity() int    { return 1 }
func (op *poolOp) Type() hm.Type { return ops.FnType(4, 4) }
func (op *poolOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := ops.ShapeOf(in, 0)
	if err != nil {
		return nil, err
	}
	return poolShape(s), nil
}

func (op *poolOp) Do(in ...G.Value) (G.Value, error) {
	x := ops.Dense(in[0])
	s := x.Shape()
	ys := poolShape(s)
	y := op.y.Get(x.Dtype(), ys)
	if n := ys.TotalSize(); cap(op.arg) < n {
		op.arg = make([]int32, n)
	}
	op.arg = op.arg[:ys.TotalSize()]
	switch x.Dtype() {
	case tensor.Float32:
		par.For(op.Pool, s[0]*s[1], planeGrain(s[2]*s[3]), pool2{op.y.F32, op.arg, x.Float32s(), s[2], s[3], false}, pool2.planes)
	default:
		kern.MaxPool2Ref(op.y.F64, op.arg, x.Float64s(), s[0]*s[1], s[2], s[3])
	}
	return y, nil
}

func (op *poolOp) DiffWRT(int) []bool { return []bool{true} }
func (op *poolOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	back := &poolBackOp{fwd: op}
	back.Key = ops.Unique("fastMaxPool2Back", op)
	dx, err := G.ApplyOp(back, in[0], y, dy)
	return G.Nodes{dx}, err
}

// pool2 is the float32 2×2 max pool of the planes of z (h×w each) into y,
// saving the argmax, rectified when relu is set; handed to the threads by
// value (core/par).
type pool2 struct {
	y    []float32
	arg  []int32
	z    []float32
	h, w int
	relu bool
}

// planes pools planes [lo, hi); arg indexes the whole z.
func (p pool2) planes(lo, hi int) {
	per := (p.h / 2) * (p.w / 2)
	yp, ap := p.y[lo*per:hi*per], p.arg[lo*per:hi*per]
	kern.MaxPool2(yp, ap, p.z[lo*p.h*p.w:hi*p.h*p.w], hi-lo, p.h, p.w)
	if p.relu {
		kern.ReLU(yp, yp)
	}
	if off := int32(lo * p.h * p.w); off != 0 {
		for j := range ap {
			ap[j] += off
		}
	}
}

// poolBackOp scatters dy to the saved argmax of its forward poolOp. Its
// inputs are (x, y, dy): x for the shape, y so that it runs after the
// forward op of the same step.
type poolBackOp struct {
	ops.Base
	fwd *poolOp
	dx  ops.Buf
}

func (op *poolBackOp) Arity() int    { return 3 }
func (op *poolBackOp) Type() hm.Type { return ops.FnType(4, 4, 4, 4) }
func (op *poolBackOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := ops.ShapeOf(in, 0)
	return s.Clone(), err
}

func (op *poolBackOp) Do(in ...G.Value) (G.Value, error) {
	x, dy := ops.Dense(in[0]), ops.Dense(in[2])
	dx := op.dx.Get(x.Dtype(), x.Shape())
	arg := op.fwd.arg
	if len(arg) != dy.Shape().TotalSize() {
		return nil, fmt.Errorf("core: fastMaxPool2 backward ran before its forward")
	}
	switch x.Dtype() {
	case tensor.Float32:
		maxPool2BackTo(op.dx.F32, arg, dy.Float32s())
	default:
		maxPool2BackTo(op.dx.F64, arg, dy.Float64s())
	}
	return dx, nil
}

// maxPool2BackTo writes dx = 0 except dx[arg[k]] = dy[k].
func maxPool2BackTo[T float32 | float64](dx []T, arg []int32, dy []T) {
	clear(dx)
	dy = dy[:len(arg)]
	for k, a := range arg {
		dx[a] = dy[k]
	}
}
