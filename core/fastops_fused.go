package core

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core/conv"
	"metriclab/core/gemm"
	"metriclab/core/kern"
	"metriclab/core/ops"
	"metriclab/core/par"
)

// fastConvReLUPool is a convolution (stride 1), rectifier and 2×2 max pool
// in one op:
//
//	fastConvReLUPool(x, w, b, pad) = maxPool2(relu(conv2d(x, w, b, pad)))
//
// with the shapes of fastConv2d and fastMaxPool2 (N×Ci×H×W →
// N×Co×⌊Ho/2⌋×⌊Wo/2⌋). It pools before rectifying (max and ReLU commute),
// so ReLU touches a quarter of the values. Gradients equal those of the
// three separate layers: the output gradient goes to the first maximum of
// each window of the convolution output z when the pooled value is
// positive, and to nothing otherwise (where gorgonia's pool picks a zero of
// ReLU with zero slope). The forward op saves the argmax a for that.
//
// Backward, with g = dy·[y > 0] the pooled gradient:
//
//	dz[a[k]] = g[k], 0 elsewhere
//	dw, dx   = conv's filter and input gradients of dz
//	db[o]    = Σ_{n,k} g[n,o,k]
//
// With SIMD kernels the gradients are conv.Plan's dense products of dz. The
// pure-Go kernel (the browser) visits only the nonzero g instead, a quarter
// of the multiply-adds or fewer, and takes subnormal ones as zero
// (sparseBackward, pooledGrads):
//
//	dw[o,q] = Σ_{n,k: g≠0} g[n,o,k] · col_n[q, a[n,o,k]]
//	dx_n[q ↦ pixel of a] += g[n,o,k] · w[o,q]
func fastConvReLUPool(x, w, b *G.Node, pad int) (*G.Node, error) {
	if err := checkConvArgs(x, w, b, pad, 1); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("core: fastConvReLUPool needs a bias")
	}
	op := &convReLUPoolOp{pad: pad}
	op.Key = ops.Unique(fmt.Sprintf("fastConvReLUPool(pad %d)", pad), op)
	return G.ApplyOp(op, x, w, b)
}

// sparseBackward reports whether fastConvReLUPool's backward visits only
// the nonzero pooled gradients (pure-Go kernel) rather than running dense
// SIMD products.
var sparseBackward = gemm.Kernel() == "go"

// convReLUPoolOp computes y = relu(maxpool2(conv(x, w) + b)).
type convReLUPoolOp struct {
	ops.Base
	pad  int
	y    ops.Buf
	arg  []int32 // saved for backward: flat index into z (N×Co×Ho×Wo) of each pooled maximum
	plan *conv.Plan
	z    []float32 // scratch: the convolution output z
	z64  []float64 // scratch: z, float64 path
}

func (op *convReLUPoolOp) Arity() int    { return 3 }
func (op *convReLUPoolOp) Type() hm.Type { return ops.FnType(4, 4, 1, 4) }
func (op *convReLUPoolOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x, w, err := ops.ShapePair(in)
	if err != nil {
		return nil, err
	}
	return poolShape(convOutShape(convGeomOf(x, w, op.pad, 1))), nil
}

func (op *convReLUPoolOp) Do(in ...G.Value) (G.Value, error) {
	x, w, b := ops.Dense(in[0]), ops.Dense(in[1]), ops.Dense(in[2])
	g := convGeomOf(x.Shape(), w.Shape(), op.pad, 1)
	ys := poolShape(convOutShape(g))
	y := op.y.Get(x.Dtype(), ys)
	if n := ys.TotalSize(); cap(op.arg) < n {
		op.arg = make([]int32, n)
	}
	op.arg = op.arg[:ys.TotalSize()]
	nc, ho, wo := g.N*g.Co, g.Ho(), g.Wo()
	switch x.Dtype() {
	case tensor.Float32:
		z, err := convScratch(op.Pool, &op.plan, &op.z, g, x, w, b)
		if err != nil {
			return nil, err
		}
		par.For(op.Pool, nc, planeGrain(ho*wo), pool2{op.y.F32, op.arg, z, ho, wo, true}, pool2.planes)
	default:
		if cap(op.z64) < g.OutSize() {
			op.z64 = make([]float64, g.OutSize())
		}
		z := op.z64[:g.OutSize()]
		conv.RefTo(g, z, x.Float64s(), w.Float64s(), b.Float64s())
		kern.MaxPool2Ref(op.y.F64, op.arg, z, nc, ho, wo)
		reluTo(op.y.F64, op.y.F64)
	}
	return y, nil
}

func (op *convReLUPoolOp) DiffWRT(int) []bool { return []bool{true, true, true} }
func (op *convReLUPoolOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	gx := &poolGradXOp{fwd: op, x: in[0].Shape().Clone(), xNode: in[0]}
	gx.Key = ops.Unique("fastConvReLUPoolGradX", op)
	dx, err := G.ApplyOp(gx, y, dy, in[1])
	if err != nil {
		return nil, err
	}
	gw := &poolGradWOp{fwd: op, w: in[1].Shape().Clone()}
	gw.Key = ops.Unique("fastConvReLUPoolGradW", op)
	dw, err := G.ApplyOp(gw, in[0], y, dy)
	if err != nil {
		return nil, err
	}
	// db[o] = Σ_{n,i,j} dy·[y > 0] over channel o of the pooled output.
	gb := &channelSumOp{dims: 4, arity: 2, f32: planes.maskedBiasBack, f64: maskedBiasBackTo[float64]}
	gb.Key = "fastReLUPoolBackB"
	db, err := G.ApplyOp(gb, y, dy)
	return G.Nodes{dx, dw, db}, err
}

// savedArg returns the forward op's argmax, or an error if the forward has
// not run on an output of y's size.
func (op *convReLUPoolOp) savedArg(y *tensor.Dense) ([]int32, error) {
	if len(op.arg) != y.Shape().TotalSize() {
		return nil, fmt.Errorf("core: fastConvReLUPool backward ran before its forward")
	}
	return op.arg, nil
}

// poolGradWOp computes the filter gradient of a fastConvReLUPool from its
// pooled output y and gradient dy (see fastConvReLUPool).
type poolGradWOp struct {
	ops.Base
	fwd  *convReLUPoolOp // its plan (tables, scratch, padded input) serves the backward ops too
	w    tensor.Shape    // shape of the filter
	dw   ops.Buf
	dz   []float32 // scratch: the convolution-output gradient (dense path)
	gs   []float32 // scratch: nonzero pooled gradients of one channel (sparse path)
	base []int32   // scratch: their window offsets (sparse path)
	dz64 []float64 // scratch: the float64 path's convolution-output gradient
}

func (op *poolGradWOp) Arity() int    { return 3 }
func (op *poolGradWOp) Type() hm.Type { return ops.FnType(4, 4, 4, 4) }
func (op *poolGradWOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.w.Clone(), nil
}

func (op *poolGradWOp) Do(in ...G.Value) (G.Value, error) {
	x, y, dy := ops.Dense(in[0]), ops.Dense(in[1]), ops.Dense(in[2])
	g := convGeomOf(x.Shape(), op.w, op.fwd.pad, 1)
	dw := op.dw.Get(x.Dtype(), op.w)
	arg, err := op.fwd.savedArg(y)
	if err != nil {
		return nil, err
	}
	if x.Dtype() == tensor.Float64 {
		if cap(op.dz64) < g.OutSize() {
			op.dz64 = make([]float64, g.OutSize())
		}
		dz := op.dz64[:g.OutSize()]
		reluPoolBackTo(dz, arg, y.Float64s(), dy.Float64s())
		conv.RefFilterTo(g, op.dw.F64, nil, x.Float64s(), dz)
		return dw, nil
	}
	p, err := planFor(&op.fwd.plan, g)
	if err != nil {
		return nil, err
	}
	if !sparseBackward {
		dz := ops.Scratch32(&op.dz, g.OutSize())
		reluPoolBackTo(dz, arg, y.Float32s(), dy.Float32s())
		p.BackwardFilter(op.Pool, op.dw.F32, nil, x.Float32s(), dz)
		return dw, nil
	}
	xp, ys, dys, dws := p.Padded(op.Pool, x.Float32s()), y.Float32s(), dy.Float32s(), op.dw.F32
	clear(dws)
	q, pl := g.Q(), g.P()
	pp := len(ys) / (g.N * g.Co) // pooled values per channel
	if cap(op.gs) < g.N*pp {
		op.gs, op.base = make([]float32, g.N*pp), make([]int32, g.N*pp)
	}
	for o := 0; o < g.Co; o++ { // a channel's gradients from the whole batch, then one long gather
		gs, base := op.gs[:0], op.base[:0]
		for n := 0; n < g.N; n++ {
			k0 := (n*g.Co + o) * pp
			gs, base = pooledGrads(gs, base, ys[k0:k0+pp], dys[k0:k0+pp], arg[k0:k0+pp], (n*g.Co+o)*pl, p.Pixels()[n*pl:(n+1)*pl])
		}
		gatherDotsAdd(dws[o*q:(o+1)*q], gs, base, xp, p.Taps())
	}
	return dw, nil
}

// pooledGrads appends, for one image and output channel, the nonzero pooled
// gradients g = dy·[y > 0] and, for each, the offset in the padded batch of
// the first tap of its argmax's window: (gs[t], base[t]). y, dy and arg are
// that channel's pooled values; argOff is the flat index in z of the
// channel's first value; pixels are the image's window offsets.
//
// A subnormal g (|g| < 2⁻¹²⁶) counts as zero, as the assembly matrix kernels
// (amd64's and arm64's) read it (core/gemm's doc): once a run's loss is ~0 much of dy lies
// there, and every multiply-add of gatherDotsAdd and scatterAxpy on one
// would take the CPU's slow path for subnormal numbers (with lenet-s's
// tiny gradients, BenchmarkEngineStepTinyGradients, 80 % of the step).
func pooledGrads(gs []float32, base []int32, y, dy []float32, arg []int32, argOff int, pixels []int32) ([]float32, []int32) {
	for k, v := range y {
		if g := dy[k]; v > 0 && !(g < minNormalFloat32 && g > -minNormalFloat32) { // NaN kept
			gs = append(gs, g)
			base = append(base, pixels[int(arg[k])-argOff])
		}
	}
	return gs, base
}

// gatherDotsAdd adds dst[q] += Σ_t gs[t]·x[base[t] + taps[q]] for every q,
// eight q at a time. It is the browser's filter gradient: x is read through
// a pointer (every loop index is a bounds check under wasm), which is safe
// because the offsets are checked against len(x) first.
func gatherDotsAdd(dst, gs []float32, base []int32, x []float32, taps []int32) {
	base = base[:len(gs)]
	taps = taps[:len(dst)]
	if len(gs) == 0 || len(taps) == 0 {
		return
	}
	checkOffsets("gatherDotsAdd", base, taps, len(x))
	px := unsafe.Pointer(unsafe.SliceData(x))
	q := 0
	for ; q+8 <= len(dst); q += 8 { // eight taps a pass: under wasm a loop trip costs more than its loads
		o := taps[q : q+8 : q+8]
		o0, o1, o2, o3, o4, o5, o6, o7 := 4*int(o[0]), 4*int(o[1]), 4*int(o[2]), 4*int(o[3]), 4*int(o[4]), 4*int(o[5]), 4*int(o[6]), 4*int(o[7])
		var s0, s1, s2, s3, s4, s5, s6, s7 float32
		for t, gv := range gs {
			p := unsafe.Add(px, 4*int(base[t]))
			s0 += gv * *(*float32)(unsafe.Add(p, o0))
			s1 += gv * *(*float32)(unsafe.Add(p, o1))
			s2 += gv * *(*float32)(unsafe.Add(p, o2))
			s3 += gv * *(*float32)(unsafe.Add(p, o3))
			s4 += gv * *(*float32)(unsafe.Add(p, o4))
			s5 += gv * *(*float32)(unsafe.Add(p, o5))
			s6 += gv * *(*float32)(unsafe.Add(p, o6))
			s7 += gv * *(*float32)(unsafe.Add(p, o7))
		}
		d := dst[q : q+8 : q+8]
		d[0] += s0
		d[1] += s1
		d[2] += s2
		d[3] += s3
		d[4] += s4
		d[5] += s5
		d[6] += s6
		d[7] += s7
	}
	for ; q < len(dst); q++ {
		o := int(taps[q])
		var s float32
		for t, gv := range gs {
			s += gv * x[int(base[t])+o]
		}
		dst[q] += s
	}
}

// checkOffsets panics unless every base[t] + taps[q] indexes a slice of n
// values: the plan's tables guarantee it, the pointer reads rely on it.
// The taps are sorted ascending (conv.Plan builds them so), which makes
// their extent their ends.
func checkOffsets(what string, base, taps []int32, n int) {
	blo, bhi := int(slices.Min(base)), int(slices.Max(base))
	tlo, thi := int(taps[0]), int(taps[len(taps)-1])
	if blo+tlo < 0 || bhi+thi >= n || tlo > thi {
		panic(fmt.Sprintf("core: %s offsets reach [%d, %d], outside %d values", what, blo+tlo, bhi+thi, n))
	}
}

// poolGradXOp computes the input gradient of a fastConvReLUPool from its
// pooled output y and gradient dy (see fastConvReLUPool). Like convBackXOp
// it only zeroes dx when the input has no derivative node.
type poolGradXOp struct {
	ops.Base
	fwd   *convReLUPoolOp
	x     tensor.Shape // shape of the forward input
	xNode *G.Node      // the forward input, to see whether its gradient is wanted
	dx    ops.Buf
	dz    []float32 // scratch: the convolution-output gradient (dense path)
	gs    []float32 // scratch: nonzero pooled gradients of one channel (sparse path)
	base  []int32   // scratch: their window offsets (sparse path)
	dxp   []float32 // scratch: the padded input gradient (sparse path)
	dz64  []float64 // scratch: the float64 path's convolution-output gradient
}

func (op *poolGradXOp) Arity() int    { return 3 }
func (op *poolGradXOp) Type() hm.Type { return ops.FnType(4, 4, 4, 4) }
func (op *poolGradXOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.x.Clone(), nil
}

func (op *poolGradXOp) Do(in ...G.Value) (G.Value, error) {
	y, dy, w := ops.Dense(in[0]), ops.Dense(in[1]), ops.Dense(in[2])
	g := convGeomOf(op.x, w.Shape(), op.fwd.pad, 1)
	dx := op.dx.Get(y.Dtype(), op.x)
	if op.xNode != nil && op.xNode.Deriv() == nil {
		dx.Zero()
		return dx, nil
	}
	arg, err := op.fwd.savedArg(y)
	if err != nil {
		return nil, err
	}
	if y.Dtype() == tensor.Float64 {
		if cap(op.dz64) < g.OutSize() {
			op.dz64 = make([]float64, g.OutSize())
		}
		dz := op.dz64[:g.OutSize()]
		reluPoolBackTo(dz, arg, y.Float64s(), dy.Float64s())
		conv.RefDataTo(g, op.dx.F64, dz, w.Float64s())
		return dx, nil
	}
	p, err := planFor(&op.fwd.plan, g)
	if err != nil {
		return nil, err
	}
	if !sparseBackward {
		dz := ops.Scratch32(&op.dz, g.OutSize())
		reluPoolBackTo(dz, arg, y.Float32s(), dy.Float32s())
		p.BackwardData(op.Pool, op.dx.F32, dz, w.Float32s())
		return dx, nil
	}
	ys, dys, ws, dxs := y.Float32s(), dy.Float32s(), w.Float32s(), op.dx.F32
	hp, wp, q, pl := g.H+2*g.Pad, g.W+2*g.Pad, g.Q(), g.P()
	dst := dxs
	if g.Pad > 0 {
		dst = ops.Scratch32(&op.dxp, g.N*g.Ci*hp*wp)
	}
	clear(dst)
	pp := len(ys) / (g.N * g.Co)
	if cap(op.gs) < pp {
		op.gs, op.base = make([]float32, pp), make([]int32, pp)
	}
	for n := 0; n < g.N; n++ {
		for o := 0; o < g.Co; o++ {
			k0 := (n*g.Co + o) * pp
			gs, base := pooledGrads(op.gs[:0], op.base[:0], ys[k0:k0+pp], dys[k0:k0+pp], arg[k0:k0+pp], (n*g.Co+o)*pl, p.Pixels()[n*pl:(n+1)*pl])
			if len(gs) > 0 {
				checkOffsets("scatterAxpy", base, p.Taps(), len(dst))
			}
			wo := ws[o*q : (o+1)*q]
			for t, gv := range gs {
				scatterAxpy(dst, int(base[t]), gv, wo, p.Taps())
			}
		}
	}
	if g.Pad > 0 { // crop the border
		for nc := 0; nc < g.N*g.Ci; nc++ {
			for r := 0; r < g.H; r++ {
				copy(dxs[(nc*g.H+r)*g.W:][:g.W], dst[(nc*hp+r+g.Pad)*wp+g.Pad:][:g.W])
			}
		}
	}
	return dx, nil
}

// scatterAxpy adds dst[b + taps[q]] += a·w[q] for every q, through a
// pointer as gatherDotsAdd (the caller checks the offsets).
func scatterAxpy(dst []float32, b int, a float32, w []float32, taps []int32) {
	taps = taps[:len(w)]
	p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(dst)), 4*b)
	q := 0
	for ; q+8 <= len(w); q += 8 {
		o, v := taps[q:q+8:q+8], w[q:q+8:q+8]
		*(*float32)(unsafe.Add(p, 4*int(o[0]))) += a * v[0]
		*(*float32)(unsafe.Add(p, 4*int(o[1]))) += a * v[1]
		*(*float32)(unsafe.Add(p, 4*int(o[2]))) += a * v[2]
		*(*float32)(unsafe.Add(p, 4*int(o[3]))) += a * v[3]
		*(*float32)(unsafe.Add(p, 4*int(o[4]))) += a * v[4]
		*(*float32)(unsafe.Add(p, 4*int(o[5]))) += a * v[5]
		*(*float32)(unsafe.Add(p, 4*int(o[6]))) += a * v[6]
		*(*float32)(unsafe.Add(p, 4*int(o[7]))) += a * v[7]
	}
	for ; q < len(w); q++ {
		dst[b+int(taps[q])] += a * w[q]
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
