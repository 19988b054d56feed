package core

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core/conv"
	"metriclab/core/kern"
	"metriclab/core/ops"
	"metriclab/core/par"
)

// fastConvPReLU is a convolution (stride 1) and a PReLU in one op, LeNet++'s
// layer:
//
//	fastConvPReLU(x, w, b, a, pad) = fastPReLU(fastConv2d(x, w, b, pad, 1), a)
//
// with the shapes of fastConv2d, b required and a one slope per output
// channel. The forward op saves the convolution output z for backward.
// With dz = dy·(z > 0 ? 1 : a[c]):
//
//	dx, dw = the convolution's input and filter gradients of dz
//	db[c]  = Σ_{n,…} dz[n,c,…]
//	da[c]  = Σ_{n,…} dy·z·[z ≤ 0]
//
// The four backward ops share one pass over z and dy: whichever runs
// first in a step makes dz image by image and hands each image to the
// plan (conv.Plan.LoadGrad) for the padded and pixel-major copies that
// the two products read, while it is in the cache, and sums db and da from
// it; the others use what it left. As separate ops the layer read a batch
// of gradients seven times and wrote it three times (PReLU's input and
// slope gradients, the bias gradient, the two copies); here twice each.
// The results have the bits of the separate fast ops: the same dz, the
// same products, and the sums in the same order (per image and channel,
// then over images in order, in float64). The shared load is keyed by the
// forward's step, not by dy: one set of backward ops per forward node, as
// the engine's single gorgonia.Grad makes (a second Grad of the same node
// would read the first one's load).
func fastConvPReLU(x, w, b, a *G.Node, pad int) (*G.Node, error) {
	if err := checkConvArgs(x, w, b, pad, 1); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("core: fastConvPReLU needs a bias")
	}
	if a.Dims() != 1 || a.Shape()[0] != w.Shape()[0] {
		return nil, fmt.Errorf("core: fastConvPReLU slopes %v do not match the %d output channels", a.Shape(), w.Shape()[0])
	}
	op := &convPReLUOp{pad: pad}
	op.Key = ops.Unique(fmt.Sprintf("fastConvPReLU(pad %d)", pad), op)
	return G.ApplyOp(op, x, w, b, a)
}

// convPReLUOp computes y = prelu(conv(x, w) + b, a).
type convPReLUOp struct {
	ops.Base
	pad  int
	y    ops.Buf
	plan *conv.Plan
	z    []float32 // saved for backward: the convolution output z
	z64  []float64 // saved for backward: z, float64 path

	step   int       // forward calls so far
	loaded int       // the step whose dz the plan holds and db, da sum (float32)
	db, da []float32 // that step's bias and slope gradients
	part   []float64 // scratch: per image and channel, the two sums
}

func (op *convPReLUOp) Arity() int    { return 4 }
func (op *convPReLUOp) Type() hm.Type { return ops.FnType(4, 4, 1, 1, 4) }
func (op *convPReLUOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x, w, err := ops.ShapePair(in)
	if err != nil {
		return nil, err
	}
	return convOutShape(convGeomOf(x, w, op.pad, 1)), nil
}

func (op *convPReLUOp) Do(in ...G.Value) (G.Value, error) {
	x, w, b, a := ops.Dense(in[0]), ops.Dense(in[1]), ops.Dense(in[2]), ops.Dense(in[3])
	g := convGeomOf(x.Shape(), w.Shape(), op.pad, 1)
	y := op.y.Get(x.Dtype(), convOutShape(g))
	switch x.Dtype() {
	case tensor.Float32:
		z, err := convScratch(op.Pool, &op.plan, &op.z, g, x, w, b)
		if err != nil {
			return nil, err
		}
		pl := planes{dst: op.y.F32, x: z, a: a.Float32s(), n: g.N, c: g.Co, sp: g.P()}
		par.For(op.Pool, g.N*g.Co, planeGrain(g.P()), pl, planes.prelu)
	default:
		z := ops.Scratch64(&op.z64, g.OutSize())
		conv.RefTo(g, z, x.Float64s(), w.Float64s(), b.Float64s())
		preluTo(op.y.F64, z, a.Float64s(), 0, g.N*g.Co, g.Co, g.P())
	}
	op.step++
	return y, nil
}

func (op *convPReLUOp) DiffWRT(int) []bool { return []bool{true, true, true, true} }
func (op *convPReLUOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	x, w, a := in[0], in[1], in[3]
	grads := make(G.Nodes, 4)
	for i, gr := range []struct {
		op   *convPReLUGradOp
		args G.Nodes
	}{
		{&convPReLUGradOp{wrt: wrtX, fwd: op, shape: x.Shape().Clone(), xNode: x}, G.Nodes{dy, w, a}},
		{&convPReLUGradOp{wrt: wrtW, fwd: op, shape: w.Shape().Clone()}, G.Nodes{x, dy, a}},
		{&convPReLUGradOp{wrt: wrtB, fwd: op, shape: tensor.Shape{w.Shape()[0]}}, G.Nodes{dy, a}},
		{&convPReLUGradOp{wrt: wrtA, fwd: op, shape: tensor.Shape{w.Shape()[0]}}, G.Nodes{dy, a}},
	} {
		gr.op.Key = ops.Unique(fmt.Sprintf("fastConvPReLUGrad%c", "xwba"[i]), op)
		var err error
		if grads[i], err = G.ApplyOp(gr.op, gr.args...); err != nil {
			return nil, err
		}
	}
	return grads, nil
}

// loadGrad makes this step's dz for the plan's products, and db and da,
// unless another backward op of the step did.
func (op *convPReLUOp) loadGrad(dy, a []float32) error {
	if op.step == 0 || len(op.z) != len(dy) {
		return fmt.Errorf("core: fastConvPReLU backward ran before its forward")
	}
	if op.loaded == op.step {
		return nil
	}
	g := op.plan.Geom()
	pl := g.P()
	part := ops.Scratch64(&op.part, 2*g.N*g.Co)
	op.plan.LoadGrad(op.Pool, func(n int, dz []float32) {
		for c := 0; c < g.Co; c++ {
			o, i := (n*g.Co+c)*pl, n*g.Co+c
			zs, gs, d := op.z[o:o+pl], dy[o:o+pl], dz[c*pl:(c+1)*pl]
			kern.PReLUBack(d, zs, gs, a[c])
			part[2*i], part[2*i+1] = kern.Sum(d), kern.PReLUSlopeGrad(zs, gs)
		}
	})
	op.db, op.da = ops.Scratch32(&op.db, g.Co), ops.Scratch32(&op.da, g.Co)
	for c := 0; c < g.Co; c++ {
		var sb, sa float64
		for n := 0; n < g.N; n++ {
			i := n*g.Co + c
			sb, sa = sb+part[2*i], sa+part[2*i+1]
		}
		op.db[c], op.da[c] = float32(sb), float32(sa)
	}
	op.loaded = op.step
	return nil
}

// wrt names the input a convPReLUGradOp differentiates.
type wrt int

const (
	wrtX wrt = iota // dx from (dy, w, a)
	wrtW            // dw from (x, dy, a)
	wrtB            // db from (dy, a)
	wrtA            // da from (dy, a)
)

// convPReLUGradOp is one gradient of a fastConvPReLU (see there). Like
// convBackXOp, the input gradient is only zeroed when the input has no
// derivative node.
type convPReLUGradOp struct {
	ops.Base
	wrt   wrt
	fwd   *convPReLUOp
	shape tensor.Shape // of the result
	xNode *G.Node      // wrtX: the forward input, to see whether its gradient is wanted
	out   ops.Buf
	dz64  []float64 // scratch: the float64 path's dz
}

func (op *convPReLUGradOp) Arity() int {
	if op.wrt == wrtB || op.wrt == wrtA {
		return 2
	}
	return 3
}
func (op *convPReLUGradOp) Type() hm.Type {
	if op.wrt == wrtB || op.wrt == wrtA {
		return ops.FnType(4, 1, 1)
	}
	return ops.FnType(4, 4, 1, 4)
}
func (op *convPReLUGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *convPReLUGradOp) Do(in ...G.Value) (G.Value, error) {
	var x, w, dy *tensor.Dense
	switch op.wrt {
	case wrtX:
		dy, w = ops.Dense(in[0]), ops.Dense(in[1])
	case wrtW:
		x, dy = ops.Dense(in[0]), ops.Dense(in[1])
	default:
		dy = ops.Dense(in[0])
	}
	a := ops.Dense(in[len(in)-1])
	out := op.out.Get(dy.Dtype(), op.shape)
	if op.wrt == wrtX && op.xNode != nil && op.xNode.Deriv() == nil {
		out.Zero()
		return out, nil
	}
	if dy.Dtype() == tensor.Float64 {
		return out, op.do64(x, w, dy, a)
	}
	f := op.fwd
	if err := f.loadGrad(dy.Float32s(), a.Float32s()); err != nil {
		return nil, err
	}
	switch op.wrt {
	case wrtX:
		f.plan.BackwardData(op.Pool, op.out.F32, nil, w.Float32s())
	case wrtW:
		f.plan.BackwardFilter(op.Pool, op.out.F32, nil, x.Float32s(), nil)
	case wrtB:
		copy(op.out.F32, f.db)
	case wrtA:
		copy(op.out.F32, f.da)
	}
	return out, nil
}

// do64 is the float64 path: the reference loops of the separate layers.
func (op *convPReLUGradOp) do64(x, w, dy, a *tensor.Dense) error {
	f := op.fwd
	dys := dy.Float64s()
	if f.step == 0 || len(f.z64) != len(dys) {
		return fmt.Errorf("core: fastConvPReLU backward ran before its forward")
	}
	n, c, sp := preluGeom(dy.Shape())
	if op.wrt == wrtA {
		preluBackATo(op.out.F64, f.z64, dys, n, c, sp)
		return nil
	}
	dz := ops.Scratch64(&op.dz64, len(dys))
	preluBackXTo(dz, f.z64, a.Float64s(), dys, 0, n*c, c, sp)
	switch op.wrt {
	case wrtX:
		conv.RefDataTo(convGeomOf(op.shape, w.Shape(), f.pad, 1), op.out.F64, dz, w.Float64s())
	case wrtW:
		conv.RefFilterTo(convGeomOf(x.Shape(), op.shape, f.pad, 1), op.out.F64, nil, x.Float64s(), dz)
	case wrtB:
		biasBackTo(op.out.F64, nil, dz, n, c, sp)
	}
	return nil
}
