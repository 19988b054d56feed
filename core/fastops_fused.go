package core

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fastConvReLUPool is a convolution, rectifier and 2×2 max pool in one op:
//
//	fastConvReLUPool(x, w, b, pad) = maxPool2(relu(conv2d(x, w, b, pad)))
//
// with the shapes of fastConv2d and fastMaxPool2 (N×Ci×H×W →
// N×Co×⌊Ho/2⌋×⌊Wo/2⌋). It pools before rectifying (max and ReLU commute),
// so the convolution output z lives one image at a time in a scratch buffer
// and ReLU touches a quarter of the values. Gradients equal those of the
// three separate layers: the output gradient goes to the first maximum of
// each window of z when the pooled value is positive, and to nothing
// otherwise (where gorgonia's pool picks a zero of ReLU with zero slope).
//
// Backward works from the pooled gradient g = dy·[y > 0] and the argmax a
// that the forward op saves, never forming the convolution-output gradient
// dz (three quarters zero by pooling, more by ReLU): with col the im2col
// matrix of fastConv2d,
//
//	dw[o,q] = Σ_{n,k: g≠0} g[n,o,k] · col_n[q, a[n,o,k]]
//	dx_n[q ↦ pixel of a] += g[n,o,k] · w[o,q]
//	db[o] = Σ_{n,k} g[n,o,k]
//
// which is a quarter of the multiply-adds of the dense products or fewer.
func fastConvReLUPool(x, w, b *G.Node, pad int) (*G.Node, error) {
	if err := checkConvArgs(x, w, b, pad); err != nil {
		return nil, err
	}
	return G.ApplyOp(&convReLUPoolOp{pad: pad}, x, w, b)
}

// convReLUPoolOp computes y = relu(maxpool2(conv(x, w) + b)).
type convReLUPoolOp struct {
	fastOpBase
	pad int
	y   fastBuf
	arg []int32 // saved for backward: flat index into z (N×Co×Ho×Wo) of each pooled maximum
	tab convTables
	col []float32 // scratch: im2col matrix when tab does not apply
	z   []float32 // scratch: one image's convolution output, Co×Ho×Wo
	z64 []float64 // scratch: the whole batch's convolution output, float64 path
}

func (op *convReLUPoolOp) Arity() int    { return 3 }
func (op *convReLUPoolOp) Type() hm.Type { return fnType(4, 4, 1, 4) }
func (op *convReLUPoolOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x, err := shapeOf(in, 0)
	if err != nil {
		return nil, err
	}
	w, err := shapeOf(in, 1)
	if err != nil {
		return nil, err
	}
	return poolShape(newConvGeom(x, w, op.pad).outShape()), nil
}

// WriteHash includes the op's identity: its backward reads this op's argmax.
func (op *convReLUPoolOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "fastConvReLUPool %d %p", op.pad, op)
}
func (op *convReLUPoolOp) Hashcode() uint32 { return hashOp(op) }
func (op *convReLUPoolOp) String() string   { return fmt.Sprintf("fastConvReLUPool(pad %d)", op.pad) }

func (op *convReLUPoolOp) Do(in ...G.Value) (G.Value, error) {
	x, w, b := fastDense(in[0]), fastDense(in[1]), fastDense(in[2])
	g := newConvGeom(x.Shape(), w.Shape(), op.pad)
	ys := poolShape(g.outShape())
	y := op.y.get(x.Dtype(), ys)
	if n := ys.TotalSize(); cap(op.arg) < n {
		op.arg = make([]int32, n)
	}
	op.arg = op.arg[:ys.TotalSize()]
	per := ys.TotalSize() / g.n // pooled values per image
	switch x.Dtype() {
	case tensor.Float32:
		z := scratch32(&op.z, g.co*g.p)
		xs, ws, bs := x.Float32s(), w.Float32s(), b.Float32s()
		for i := 0; i < g.n; i++ {
			conv32Image(z, xs[i*g.ci*g.h*g.w:(i+1)*g.ci*g.h*g.w], ws, bs, g, &op.tab, &op.col)
			yi, ai := op.y.f32[i*per:(i+1)*per], op.arg[i*per:(i+1)*per]
			maxPool2To(yi, ai, z, g.co, g.ho, g.wo)
			off := int32(i * g.co * g.p)
			for j, v := range yi {
				if v < 0 {
					yi[j] = 0
				}
				ai[j] += off
			}
		}
	default:
		if cap(op.z64) < g.n*g.co*g.p {
			op.z64 = make([]float64, g.n*g.co*g.p)
		}
		z := op.z64[:g.n*g.co*g.p]
		convRefTo(z, x.Float64s(), w.Float64s(), b.Float64s(), g)
		maxPool2To(op.y.f64, op.arg, z, g.n*g.co, g.ho, g.wo)
		reluTo(op.y.f64, op.y.f64)
	}
	return y, nil
}

func (op *convReLUPoolOp) DiffWRT(int) []bool { return []bool{true, true, true} }
func (op *convReLUPoolOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&poolGradXOp{fwd: op, x: in[0].Shape().Clone(), xNode: in[0]}, y, dy, in[1])
	if err != nil {
		return nil, err
	}
	dw, err := G.ApplyOp(&poolGradWOp{fwd: op, w: in[1].Shape().Clone()}, in[0], y, dy)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(&reluPoolBackBOp{}, y, dy)
	return G.Nodes{dx, dw, db}, err
}

// pooledGrads lists, for one image and output channel, the nonzero pooled
// gradients g = dy·[y > 0] and, for each, the offset in the (padded) image
// of the top-left pixel of the receptive field of its argmax: (gs[t],
// base[t]). y, dy and arg are that channel's pooled values; argOff is the
// flat index in z of the channel's first value.
func pooledGrads(gs []float32, base []int32, y, dy []float32, arg []int32, argOff int, pos []int32) ([]float32, []int32) {
	gs, base = gs[:0], base[:0]
	for k, v := range y {
		if v > 0 && dy[k] != 0 {
			gs = append(gs, dy[k])
			base = append(base, pos[int(arg[k])-argOff])
		}
	}
	return gs, base
}

// poolGradWOp computes the filter gradient of a fastConvReLUPool from its
// pooled output y and gradient dy (see fastConvReLUPool).
type poolGradWOp struct {
	fastOpBase
	fwd  *convReLUPoolOp
	w    tensor.Shape // shape of the filter
	dw   fastBuf
	tab  convTables
	gs   []float32 // scratch: nonzero pooled gradients of one channel
	base []int32   // scratch: their window offsets
	dz   []float64 // scratch: the float64 path's convolution-output gradient
}

func (op *poolGradWOp) Arity() int    { return 3 }
func (op *poolGradWOp) Type() hm.Type { return fnType(4, 4, 4, 4) }
func (op *poolGradWOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.w.Clone(), nil
}
func (op *poolGradWOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fastConvReLUPoolGradW %p", op.fwd) }
func (op *poolGradWOp) Hashcode() uint32      { return hashOp(op) }
func (op *poolGradWOp) String() string        { return "fastConvReLUPoolGradW" }

func (op *poolGradWOp) Do(in ...G.Value) (G.Value, error) {
	x, y, dy := fastDense(in[0]), fastDense(in[1]), fastDense(in[2])
	g := newConvGeom(x.Shape(), op.w, op.fwd.pad)
	dw := op.dw.get(x.Dtype(), op.w)
	arg := op.fwd.arg
	if len(arg) != y.Shape().TotalSize() {
		return nil, fmt.Errorf("core: fastConvReLUPool backward ran before its forward")
	}
	if x.Dtype() == tensor.Float64 {
		if cap(op.dz) < g.n*g.co*g.p {
			op.dz = make([]float64, g.n*g.co*g.p)
		}
		dz := op.dz[:g.n*g.co*g.p]
		reluPoolBackTo(dz, arg, y.Float64s(), dy.Float64s())
		convBackWRefTo(op.dw.f64, x.Float64s(), dz, g)
		return dw, nil
	}
	op.tab.build(g)
	xs, ys, dys, dws := x.Float32s(), y.Float32s(), dy.Float32s(), op.dw.f32
	clear(dws)
	pp := len(ys) / (g.n * g.co) // pooled values per channel
	if cap(op.gs) < pp {
		op.gs, op.base = make([]float32, pp), make([]int32, pp)
	}
	for n := 0; n < g.n; n++ {
		xi := op.tab.image(xs[n*g.ci*g.h*g.w : (n+1)*g.ci*g.h*g.w])
		for o := 0; o < g.co; o++ {
			k0 := (n*g.co + o) * pp
			gs, base := pooledGrads(op.gs, op.base, ys[k0:k0+pp], dys[k0:k0+pp], arg[k0:k0+pp], (n*g.co+o)*g.p, op.tab.pos)
			if len(gs) > 0 {
				gatherDotsAdd(dws[o*g.q:(o+1)*g.q], gs, base, xi, op.tab.qOff)
			}
		}
	}
	return dw, nil
}

// gatherDotsAdd adds dst[q] += Σ_t gs[t]·x[base[t] + qOff[q]] for every q,
// four q at a time.
func gatherDotsAdd(dst, gs []float32, base []int32, x []float32, qOff []int32) {
	base = base[:len(gs)]
	qOff = qOff[:len(dst)]
	q := 0
	for ; q+4 <= len(dst); q += 4 {
		o := qOff[q : q+4 : q+4]
		o0, o1, o2, o3 := int(o[0]), int(o[1]), int(o[2]), int(o[3])
		var s0, s1, s2, s3 float32
		for t, gv := range gs {
			b := int(base[t])
			s0 += gv * x[b+o0]
			s1 += gv * x[b+o1]
			s2 += gv * x[b+o2]
			s3 += gv * x[b+o3]
		}
		d := dst[q : q+4 : q+4]
		d[0] += s0
		d[1] += s1
		d[2] += s2
		d[3] += s3
	}
	for ; q < len(dst); q++ {
		o := int(qOff[q])
		var s float32
		for t, gv := range gs {
			s += gv * x[int(base[t])+o]
		}
		dst[q] += s
	}
}

// poolGradXOp computes the input gradient of a fastConvReLUPool from its
// pooled output y and gradient dy (see fastConvReLUPool). Like convBackXOp
// it only zeroes dx when the input has no derivative node.
type poolGradXOp struct {
	fastOpBase
	fwd   *convReLUPoolOp
	x     tensor.Shape // shape of the forward input
	xNode *G.Node      // the forward input, to see whether its gradient is wanted
	dx    fastBuf
	tab   convTables
	gs    []float32 // scratch: nonzero pooled gradients of one channel
	base  []int32   // scratch: their window offsets
	dxp   []float32 // scratch: one image's padded input gradient
	dz    []float64 // scratch: the float64 path's convolution-output gradient
}

func (op *poolGradXOp) Arity() int    { return 3 }
func (op *poolGradXOp) Type() hm.Type { return fnType(4, 4, 4, 4) }
func (op *poolGradXOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.x.Clone(), nil
}
func (op *poolGradXOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fastConvReLUPoolGradX %p", op.fwd) }
func (op *poolGradXOp) Hashcode() uint32      { return hashOp(op) }
func (op *poolGradXOp) String() string        { return "fastConvReLUPoolGradX" }

func (op *poolGradXOp) Do(in ...G.Value) (G.Value, error) {
	y, dy, w := fastDense(in[0]), fastDense(in[1]), fastDense(in[2])
	g := newConvGeom(op.x, w.Shape(), op.fwd.pad)
	dx := op.dx.get(y.Dtype(), op.x)
	if op.xNode != nil && op.xNode.Deriv() == nil {
		dx.Zero()
		return dx, nil
	}
	arg := op.fwd.arg
	if len(arg) != y.Shape().TotalSize() {
		return nil, fmt.Errorf("core: fastConvReLUPool backward ran before its forward")
	}
	if y.Dtype() == tensor.Float64 {
		if cap(op.dz) < g.n*g.co*g.p {
			op.dz = make([]float64, g.n*g.co*g.p)
		}
		dz := op.dz[:g.n*g.co*g.p]
		reluPoolBackTo(dz, arg, y.Float64s(), dy.Float64s())
		convBackXRefTo(op.dx.f64, dz, w.Float64s(), g)
		return dx, nil
	}
	op.tab.build(g)
	ys, dys, ws, dxs := y.Float32s(), dy.Float32s(), w.Float32s(), op.dx.f32
	hp, wp := g.h+2*g.pad, g.w+2*g.pad
	pp := len(ys) / (g.n * g.co)
	if cap(op.gs) < pp {
		op.gs, op.base = make([]float32, pp), make([]int32, pp)
	}
	for n := 0; n < g.n; n++ {
		dxn := dxs[n*g.ci*g.h*g.w : (n+1)*g.ci*g.h*g.w]
		dst := dxn
		if g.pad > 0 {
			dst = scratch32(&op.dxp, g.ci*hp*wp)
		}
		clear(dst)
		for o := 0; o < g.co; o++ {
			k0 := (n*g.co + o) * pp
			gs, base := pooledGrads(op.gs, op.base, ys[k0:k0+pp], dys[k0:k0+pp], arg[k0:k0+pp], (n*g.co+o)*g.p, op.tab.pos)
			wo := ws[o*g.q : (o+1)*g.q]
			for t, gv := range gs {
				scatterAxpy(dst, int(base[t]), gv, wo, op.tab.qOff)
			}
		}
		if g.pad > 0 { // crop the border
			for c := 0; c < g.ci; c++ {
				for r := 0; r < g.h; r++ {
					copy(dxn[(c*g.h+r)*g.w:][:g.w], dst[(c*hp+r+g.pad)*wp+g.pad:][:g.w])
				}
			}
		}
	}
	return dx, nil
}

// scatterAxpy adds dst[b + qOff[q]] += a·w[q] for every q.
func scatterAxpy(dst []float32, b int, a float32, w []float32, qOff []int32) {
	qOff = qOff[:len(w)]
	q := 0
	for ; q+4 <= len(w); q += 4 {
		o, v := qOff[q:q+4:q+4], w[q:q+4:q+4]
		dst[b+int(o[0])] += a * v[0]
		dst[b+int(o[1])] += a * v[1]
		dst[b+int(o[2])] += a * v[2]
		dst[b+int(o[3])] += a * v[3]
	}
	for ; q < len(w); q++ {
		dst[b+int(qOff[q])] += a * w[q]
	}
}

// reluPoolBackTo writes dz = 0 except dz[arg[k]] = dy[k] where y[k] > 0.
func reluPoolBackTo[T float32 | float64](dz []T, arg []int32, y, dy []T) {
	clear(dz)
	y, dy = y[:len(arg)], dy[:len(arg)]
	for k, a := range arg {
		if y[k] > 0 {
			dz[a] = dy[k]
		}
	}
}

// reluPoolBackBOp computes the bias gradient db[o] = Σ_{n,i,j} dy·[y > 0]
// over channel o of the pooled output, accumulating in float64.
type reluPoolBackBOp struct {
	fastOpBase
	db fastBuf
}

func (op *reluPoolBackBOp) Arity() int    { return 2 }
func (op *reluPoolBackBOp) Type() hm.Type { return fnType(4, 4, 1) }
func (op *reluPoolBackBOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in, 0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[1]}, nil
}
func (op *reluPoolBackBOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "fastReLUPoolBackB") }
func (op *reluPoolBackBOp) Hashcode() uint32      { return hashOp(op) }
func (op *reluPoolBackBOp) String() string        { return "fastReLUPoolBackB" }

func (op *reluPoolBackBOp) Do(in ...G.Value) (G.Value, error) {
	y, dy := fastDense(in[0]), fastDense(in[1])
	n, c, sp := preluGeom(y.Shape())
	db := op.db.get(y.Dtype(), tensor.Shape{c})
	switch y.Dtype() {
	case tensor.Float32:
		maskedBiasBackTo(op.db.f32, y.Float32s(), dy.Float32s(), n, c, sp)
	default:
		maskedBiasBackTo(op.db.f64, y.Float64s(), dy.Float64s(), n, c, sp)
	}
	return db, nil
}

// maskedBiasBackTo writes dst[c] = Σ_{n,s} dy[n,c,s]·[y[n,c,s] > 0].
func maskedBiasBackTo[T float32 | float64](dst, y, dy []T, n, c, sp int) {
	for ch := 0; ch < c; ch++ {
		var s float64
		for i := 0; i < n; i++ {
			o := (i*c + ch) * sp
			ys := y[o : o+sp]
			for j, g := range dy[o : o+sp] {
				if ys[j] > 0 {
					s += float64(g)
				}
			}
		}
		dst[ch] = T(s)
	}
}
