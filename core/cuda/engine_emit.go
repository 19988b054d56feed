//go:build !js

package cuda

import (
	"fmt"

	"metriclab/core"
)

// This file turns the plan and the loss into the step's kernel launches,
// once, at NewTrainer: each is a closure over its buffers and arguments,
// so that a step only replays them (or the graph they were captured in).

// launch returns a launch of kernel name over n elements: one thread per
// element (the kernels' grid-stride loops then run once; a capped grid
// would make the CPU emulation stride across memory).
func (t *Trainer) launch(name string, n int, args ...any) func() error {
	must(checkCount(name, n))
	return t.launchGrid(name, Dim3{uint32(max(1, (n+mlBlock-1)/mlBlock)), 1, 1}, args...)
}

// maxCount is the most values a launch covers, and so the most a buffer
// of the engine holds (every count a kernel is given indexes one). The
// kernels count in int32 and index in int: ML_FOR's index past a
// thread's last element, i + blockDim.x·gridDim.x with one thread per
// element, reaches n − 1 + ⌈n/256⌉·256, which passes 2³¹ − 1 above 2³⁰
// values and wraps negative, and the loop then writes before the buffer.
const maxCount = 1 << 30

// checkCount returns an error, one line naming op and n, when a launch
// of op over n values would pass maxCount.
func checkCount(op string, n int) error {
	if n > maxCount {
		return fmt.Errorf("cuda engine: %s over %d values: the kernels index at most %d (2³⁰); take a smaller batch or input", op, n, maxCount)
	}
	return nil
}

// launchRows returns a launch of one block per row.
func (t *Trainer) launchRows(name string, rows int, args ...any) func() error {
	return t.launchGrid(name, Dim3{uint32(max(rows, 1)), 1, 1}, args...)
}

func (t *Trainer) launchGrid(name string, grid Dim3, args ...any) func() error {
	k, ok := t.k[name]
	if !ok {
		panic("cuda: engine has no kernel " + name)
	}
	return func() error { return t.b.Launch(k, grid, Dim3{mlBlock, 1, 1}, 0, t.s, args...) }
}

func (t *Trainer) gemm(g Gemm) func() error {
	g.check()
	return func() error { return t.b.Gemm(g, t.s) }
}

// from returns the part of b from value off on.
func from(b Buffer, off int) Buffer { return b.Slice(off, b.Bytes/4-off) }

// chanGeom returns a value's channels c, the kernels' inner stride and
// the number m of values per channel over the batch.
func (t *Trainer) chanGeom(v core.PlanValue) (c, inner, m int) {
	if v.Flat {
		return v.C, 1, t.n
	}
	return v.C, t.n * v.H * v.W, t.n * v.H * v.W
}

// slicesFor is the number of blocks that share one channel's m values in
// ml_chan_partial: enough blocks to fill the device on a few channels.
func slicesFor(m int) int { return max(1, min(64, (m+4095)/4096)) }

// chanReduce returns the launch of ml_chan_partial in mode over c
// channels of m values, into t.part.
func (t *Trainer) chanReduce(mode int32, a, b, mean, invstd Buffer, c, inner, m int) (func() error, int) {
	s := slicesFor(m)
	if 4*c*s > t.part.Bytes/4 {
		panic(fmt.Sprintf("cuda: partial sums of %d channels × %d slices exceed the scratch", c, s))
	}
	return t.launchGrid("ml_chan_partial", Dim3{uint32(c), uint32(s), 1}, t.part, a, b, mean, invstd, mode,
		int32(c), int32(m), int32(inner)), s
}

// chanFinal returns the launch of ml_chan_final into out.
func (t *Trainer) chanFinal(out Buffer, c, s, which int) func() error {
	return t.launch("ml_chan_final", c, out, t.part, int32(c), int32(s), int32(which), int32(0))
}

// partFloats is the size of the partial-sum scratch: the largest
// channels × slices of any reduction of the step, as float64 pairs.
func (t *Trainer) partFloats() int {
	most := t.cfg.Classes * slicesFor(t.n) // a linear head's bias
	for _, v := range t.plan.Values {
		c, _, m := t.chanGeom(v)
		most = max(most, c*slicesFor(m))
	}
	return 4 * most
}

// direct reports whether convolution l reads its input as its columns
// (1×1, stride 1, no padding: no im2col).
func (t *Trainer) direct(l core.Layer) bool { return l.Kernel == 1 && l.Stride == 1 && l.Pad == 0 }

// chunk returns how many images' columns of perImage values fit the
// im2col scratch at once (at least one).
func (t *Trainer) chunk(perImage int) int {
	return max(1, min(t.n, t.opts.ColBytes/4/perImage))
}

// layerState is what a layer's forward saves for its backward.
type layerState struct {
	mean, invstd Buffer // a batch norm's statistics, float64 per channel
	arg          Buffer // a max pooling's argmax indices, int32
}

// layerState returns the saved buffers of layer i: a batch norm's
// statistics or a pooling's argmax.
func (t *Trainer) layerState(i int) layerState {
	if st, ok := t.states[i]; ok {
		return st
	}
	l := t.plan.Layers[i]
	v := t.plan.Values[l.Out]
	var st layerState
	switch l.Kind {
	case core.LayerBatchNorm:
		st = layerState{mean: t.alloc(2 * v.C), invstd: t.alloc(2 * v.C)}
	case core.LayerMaxPool2:
		st = layerState{arg: t.alloc(t.n * v.Size())}
	}
	t.states[i] = st
	return st
}

// flatOf returns the N×F copy of image value v that a linear layer reads
// (from t.flats) or its gradient (t.dflats), made at the first call.
func (t *Trainer) flatOf(bufs map[int]Buffer, v int) Buffer {
	if b, ok := bufs[v]; ok {
		return b
	}
	b := t.alloc(t.n * t.plan.Values[v].Size())
	bufs[v] = b
	return b
}

// emitForward returns the forward pass: the input's normalisation, then
// every layer; train selects the batch norms' mode.
func (t *Trainer) emitForward(train bool) []func() error {
	in, n := t.spec.Input, t.n
	ops := []func() error{t.launch("ml_input", n*in.Size(), t.vals[0], t.raw, int32(n), int32(in.Channels),
		int32(in.Height*in.Width), in.Mean, 1/in.Std)}
	for i, l := range t.plan.Layers {
		xv, v := t.plan.Values[l.In[0]], t.plan.Values[l.Out]
		x, y := t.vals[l.In[0]], t.vals[l.Out]
		size := n * v.Size()
		c, inner, m := t.chanGeom(v)
		switch l.Kind {
		case core.LayerConv:
			ops = append(ops, t.convForward(l)...)
		case core.LayerBatchNorm:
			st := t.layerState(i)
			rm, rv := t.param(l.BN+".running_mean"), t.param(l.BN+".running_var")
			if train {
				part, s := t.chanReduce(0, x, Buffer{}, Buffer{}, Buffer{}, c, inner, m)
				ops = append(ops, part, t.launch("ml_bn_stats", c, st.mean, st.invstd, rm, rv, t.part, int32(c), int32(s),
					int32(m), float64(core.BatchNormMomentum), float64(core.BatchNormEps), int32(1)))
			} else {
				ops = append(ops, t.launch("ml_bn_stats", c, st.mean, st.invstd, rm, rv, t.part, int32(c), int32(1),
					int32(m), float64(core.BatchNormMomentum), float64(core.BatchNormEps), int32(0)))
			}
			ops = append(ops, t.launch("ml_bn_apply", size, y, x, st.mean, st.invstd, t.param(l.BN+".weight"),
				t.param(l.BN+".bias"), int32(size), int32(c), int32(inner)))
		case core.LayerPReLU:
			ops = append(ops, t.launch("ml_prelu", size, y, x, t.param(l.Weight), int32(size), int32(c), int32(inner)))
		case core.LayerReLU:
			ops = append(ops, t.launch("ml_relu", size, y, x, int32(size)))
		case core.LayerMaxPool2:
			planes := n * xv.C
			ops = append(ops, t.launch("ml_maxpool2", planes*v.H*v.W, y, t.layerState(i).arg, x, int32(planes),
				int32(xv.H), int32(xv.W), int32(v.H), int32(v.W)))
		case core.LayerLinear:
			ops = append(ops, t.linearForward(l)...)
		case core.LayerAdd:
			ops = append(ops, t.launch("ml_add", size, y, x, t.vals[l.In[1]], int32(size)))
		default:
			panic(fmt.Sprintf("cuda: engine cannot run layer %v", l.Kind))
		}
	}
	return ops
}

// convForward: Y (Co × N·P) = W (Co × Ci·K·K) · columns, chunk by chunk
// of images, then the bias.
func (t *Trainer) convForward(l core.Layer) []func() error {
	xv, v := t.plan.Values[l.In[0]], t.plan.Values[l.Out]
	x, y, w := t.vals[l.In[0]], t.vals[l.Out], t.param(l.Weight)
	n, p, k := t.n, v.H*v.W, l.Kernel
	ckk := xv.C * k * k
	var ops []func() error
	if t.direct(l) {
		ops = append(ops, t.gemm(Gemm{M: v.C, N: n * p, K: ckk, Alpha: 1, A: w, LDA: ckk, B: x, LDB: n * p, C: y, LDC: n * p}))
	} else {
		nc := t.chunk(ckk * p)
		for n0 := 0; n0 < n; n0 += nc {
			c := min(nc, n-n0)
			ops = append(ops,
				t.launch("ml_im2col", ckk*c*p, t.col, x, int32(xv.C), int32(n), int32(xv.H), int32(xv.W), int32(k),
					int32(l.Stride), int32(l.Pad), int32(v.H), int32(v.W), int32(n0), int32(c)),
				t.gemm(Gemm{M: v.C, N: c * p, K: ckk, Alpha: 1, A: w, LDA: ckk, B: t.col, LDB: c * p, C: from(y, n0*p), LDC: n * p}))
		}
	}
	if l.Bias != "" {
		size := n * v.Size()
		ops = append(ops, t.launch("ml_bias_add", size, y, t.param(l.Bias), int32(size), int32(v.C), int32(n*p)))
	}
	return ops
}

// linearForward: Y (N×O) = X (N×F) · Wᵀ + b, X the flattened input.
func (t *Trainer) linearForward(l core.Layer) []func() error {
	in := l.In[0]
	xv, v := t.plan.Values[in], t.plan.Values[l.Out]
	n, f := t.n, xv.Size()
	x := t.vals[in]
	var ops []func() error
	if !xv.Flat {
		x = t.flatOf(t.flats, in)
		ops = append(ops, t.launch("ml_cnhw_to_nf", n*f, x, t.vals[in], int32(xv.C), int32(n), int32(xv.H*xv.W)))
	}
	y := t.vals[l.Out]
	return append(ops,
		t.gemm(Gemm{M: n, N: v.C, K: f, Alpha: 1, A: x, LDA: f, B: t.param(l.Weight), TransB: true, LDB: f, C: y, LDC: v.C}),
		t.launch("ml_bias_add", n*v.C, y, t.param(l.Bias), int32(n*v.C), int32(v.C), int32(1)))
}

// emitBackward returns the backward pass of the layers, last first; the
// loss has written the embedding's gradient. A value read by two layers
// gets the gradient of the first one written, the other's added (acc).
func (t *Trainer) emitBackward() []func() error {
	n := t.n
	written := make([]bool, len(t.plan.Values))
	written[t.plan.Output] = true
	var ops []func() error
	// grad returns the input's gradient buffer and acc, and marks it
	// written; needed is false for the input image.
	grad := func(v int) (Buffer, int32, bool) {
		if v == 0 {
			return Buffer{}, 0, false
		}
		acc := int32(0)
		if written[v] {
			acc = 1
		}
		written[v] = true
		return t.dvals[v], acc, true
	}
	for i := len(t.plan.Layers) - 1; i >= 0; i-- {
		l := t.plan.Layers[i]
		if !written[l.Out] {
			panic(fmt.Sprintf("cuda: value %d of %s has no gradient", l.Out, t.spec.Arch))
		}
		v := t.plan.Values[l.Out]
		x, dy := t.vals[l.In[0]], t.dvals[l.Out]
		size := n * v.Size()
		c, inner, m := t.chanGeom(v)
		switch l.Kind {
		case core.LayerConv:
			ops = append(ops, t.convBackward(l, grad)...)
		case core.LayerBatchNorm:
			st := t.layerState(i)
			gamma := t.param(l.BN + ".weight")
			dgamma, dbeta := t.paramGrad(l.BN+".weight"), t.paramGrad(l.BN+".bias")
			part, s := t.chanReduce(1, dy, x, st.mean, st.invstd, c, inner, m)
			ops = append(ops, part, t.chanFinal(dgamma, c, s, 1), t.chanFinal(dbeta, c, s, 0))
			if dx, acc, ok := grad(l.In[0]); ok {
				ops = append(ops, t.launch("ml_bn_backward", size, dx, dy, x, st.mean, st.invstd, gamma, dgamma, dbeta,
					int32(size), int32(c), int32(inner), int32(m), acc))
			}
		case core.LayerPReLU:
			part, s := t.chanReduce(2, dy, x, Buffer{}, Buffer{}, c, inner, m)
			ops = append(ops, part, t.chanFinal(t.paramGrad(l.Weight), c, s, 0))
			if dx, acc, ok := grad(l.In[0]); ok {
				ops = append(ops, t.launch("ml_prelu_backward", size, dx, dy, x, t.param(l.Weight), int32(size), int32(c),
					int32(inner), acc))
			}
		case core.LayerReLU:
			if dx, acc, ok := grad(l.In[0]); ok {
				ops = append(ops, t.launch("ml_relu_backward", size, dx, dy, x, int32(size), acc))
			}
		case core.LayerMaxPool2:
			xv := t.plan.Values[l.In[0]]
			planes := n * xv.C
			if dx, acc, ok := grad(l.In[0]); ok {
				ops = append(ops, t.launch("ml_maxpool2_backward", planes*xv.H*xv.W, dx, dy, t.layerState(i).arg,
					int32(planes), int32(xv.H), int32(xv.W), int32(v.H), int32(v.W), acc))
			}
		case core.LayerLinear:
			ops = append(ops, t.linearBackward(l, grad)...)
		case core.LayerAdd:
			for _, in := range l.In {
				if dx, acc, ok := grad(in); ok {
					ops = append(ops, t.launch("ml_accumulate", size, dx, dy, int32(size), acc))
				}
			}
		}
	}
	return ops
}

// convBackward: per chunk of images, the columns again, dW (+)= dY·colᵀ,
// and, unless the input is the image, dcol = Wᵀ·dY scattered back by
// col2im; then the bias's gradient.
func (t *Trainer) convBackward(l core.Layer, grad func(int) (Buffer, int32, bool)) []func() error {
	xv, v := t.plan.Values[l.In[0]], t.plan.Values[l.Out]
	x, dy, w, dw := t.vals[l.In[0]], t.dvals[l.Out], t.param(l.Weight), t.paramGrad(l.Weight)
	n, p, k := t.n, v.H*v.W, l.Kernel
	ckk := xv.C * k * k
	var ops []func() error
	if l.Bias != "" {
		part, s := t.chanReduce(3, dy, Buffer{}, Buffer{}, Buffer{}, v.C, n*p, n*p)
		ops = append(ops, part, t.chanFinal(t.paramGrad(l.Bias), v.C, s, 0))
	}
	dx, acc, needDx := grad(l.In[0])
	if t.direct(l) {
		ops = append(ops, t.gemm(Gemm{M: v.C, N: xv.C, K: n * p, Alpha: 1, A: dy, LDA: n * p, B: x, TransB: true, LDB: n * p, C: dw, LDC: xv.C}))
		if needDx {
			ops = append(ops, t.gemm(Gemm{TransA: true, M: xv.C, N: n * p, K: v.C, Alpha: 1, Beta: float32(acc), A: w, LDA: xv.C,
				B: dy, LDB: n * p, C: dx, LDC: n * p}))
		}
		return ops
	}
	nc := t.chunk(ckk * p)
	for n0 := 0; n0 < n; n0 += nc {
		c := min(nc, n-n0)
		beta := float32(0)
		if n0 > 0 {
			beta = 1
		}
		ops = append(ops,
			t.launch("ml_im2col", ckk*c*p, t.col, x, int32(xv.C), int32(n), int32(xv.H), int32(xv.W), int32(k),
				int32(l.Stride), int32(l.Pad), int32(v.H), int32(v.W), int32(n0), int32(c)),
			t.gemm(Gemm{M: v.C, N: ckk, K: c * p, Alpha: 1, Beta: beta, A: from(dy, n0*p), LDA: n * p, B: t.col, TransB: true,
				LDB: c * p, C: dw, LDC: ckk}))
		if needDx {
			ops = append(ops,
				t.gemm(Gemm{TransA: true, M: ckk, N: c * p, K: v.C, Alpha: 1, A: w, LDA: ckk, B: from(dy, n0*p), LDB: n * p,
					C: t.col, LDC: c * p}),
				t.launch("ml_col2im", xv.C*c*xv.H*xv.W, dx, t.col, int32(xv.C), int32(n), int32(xv.H), int32(xv.W), int32(k),
					int32(l.Stride), int32(l.Pad), int32(v.H), int32(v.W), int32(n0), int32(c), acc))
		}
	}
	return ops
}

// linearBackward: dW = dYᵀ·X, db = Σ_n dY, dX = dY·W (through the
// flattening when the input is an image value).
func (t *Trainer) linearBackward(l core.Layer, grad func(int) (Buffer, int32, bool)) []func() error {
	in := l.In[0]
	xv, v := t.plan.Values[in], t.plan.Values[l.Out]
	n, f, o := t.n, xv.Size(), v.C
	x := t.vals[in]
	if !xv.Flat {
		x = t.flatOf(t.flats, in)
	}
	dy, w := t.dvals[l.Out], t.param(l.Weight)
	part, s := t.chanReduce(3, dy, Buffer{}, Buffer{}, Buffer{}, o, 1, n)
	ops := []func() error{
		t.gemm(Gemm{TransA: true, M: o, N: f, K: n, Alpha: 1, A: dy, LDA: o, B: x, LDB: f, C: t.paramGrad(l.Weight), LDC: f}),
		part, t.chanFinal(t.paramGrad(l.Bias), o, s, 0),
	}
	dx, acc, ok := grad(in)
	if !ok {
		return ops
	}
	if xv.Flat {
		return append(ops, t.gemm(Gemm{M: n, N: f, K: o, Alpha: 1, Beta: float32(acc), A: dy, LDA: o, B: w, LDB: f, C: dx, LDC: f}))
	}
	df := t.flatOf(t.dflats, in)
	return append(ops,
		t.gemm(Gemm{M: n, N: f, K: o, Alpha: 1, A: dy, LDA: o, B: w, LDB: f, C: df, LDC: f}),
		t.launch("ml_nf_to_cnhw", n*f, dx, df, int32(xv.C), int32(n), int32(xv.H*xv.W), acc))
}

// Target kinds of ml_psi.
var targetKinds = map[string]int32{"": 0, "cosface": 1, "arcface": 2, "sphereface": 3, "combined": 4}

// Miners of ml_triplet.
var minerKinds = map[string]int32{"all": 0, "hard": 1, "semihard": 2, "easy": 3}

// emitLoss returns the loss and its gradient: status (loss, finite), the
// embedding's gradient and the head's.
func (t *Trainer) emitLoss() []func() error {
	switch t.lp.Family {
	case "margin":
		return t.marginLoss()
	case "pair":
		return t.pairLoss()
	}
	panic(fmt.Sprintf("cuda: engine cannot run a loss of family %q", t.lp.Family))
}

// marginLoss: logits a (N×C) from the head, ml_margin_softmax for the
// loss and da, then back through the head.
func (t *Trainer) marginLoss() []func() error {
	lp := t.lp
	n, d, c := t.n, t.spec.Dim, t.cfg.Classes
	e, de := t.vals[t.plan.Output], t.dvals[t.plan.Output]
	w, dw := t.param("head.weight"), t.paramGrad("head.weight")
	kind, ok := targetKinds[lp.Target]
	if !ok {
		panic("cuda: engine has no target transform " + lp.Target)
	}
	a, da := t.alloc(n*c), t.alloc(n*c)
	rowloss, gnorm, enorm := t.alloc(2*n), t.alloc(2*n), t.alloc(2*n)
	softmax := func(bias Buffer, hasBias, featNorm int32, s float64) func() error {
		return t.launchRows("ml_margin_softmax", n, da, rowloss, gnorm, a, t.labels, bias, enorm, t.scal, int32(n), int32(c),
			hasBias, featNorm, s, kind, lp.M, lp.M1, lp.M2, lp.M3, int32(lp.SphereM), b2i(lp.EasyMargin))
	}
	mean := t.launchGrid("ml_loss_mean", Dim3{1, 1, 1}, t.status, rowloss, int32(n))
	switch lp.Head {
	case "cosine", "feature-norm":
		featNorm := b2i(lp.Head == "feature-norm")
		ehat, what, wnorm := t.alloc(n*d), t.alloc(c*d), t.alloc(2*c)
		dehat, dwhat := t.alloc(n*d), t.alloc(c*d)
		return []func() error{
			t.launchRows("ml_row_normalize", n, ehat, enorm, e, int32(n), int32(d), 1.0),
			t.launchRows("ml_row_normalize", c, what, wnorm, w, int32(c), int32(d), 1.0),
			t.gemm(Gemm{M: n, N: c, K: d, Alpha: 1, A: ehat, LDA: d, B: what, TransB: true, LDB: d, C: a, LDC: c}),
			softmax(Buffer{}, 0, featNorm, lp.Scale),
			mean,
			t.gemm(Gemm{M: n, N: d, K: c, Alpha: 1, A: da, LDA: c, B: what, LDB: d, C: dehat, LDC: d}),
			t.gemm(Gemm{TransA: true, M: c, N: d, K: n, Alpha: 1, A: da, LDA: c, B: ehat, LDB: d, C: dwhat, LDC: d}),
			t.launchRows("ml_row_normalize_backward", n, de, dehat, e, enorm, gnorm, int32(n), int32(d), 1.0, featNorm, int32(0)),
			t.launchRows("ml_row_normalize_backward", c, dw, dwhat, w, wnorm, Buffer{}, int32(c), int32(d), 1.0, int32(0), int32(0)),
		}
	case "linear", "scaled-linear":
		b := t.param("head.bias")
		f, df := e, de
		var ops []func() error
		if lp.Head == "scaled-linear" {
			f, df = t.alloc(n*d), t.alloc(n*d)
			ops = append(ops, t.launchRows("ml_row_normalize", n, f, enorm, e, int32(n), int32(d), lp.Scale))
		}
		part, s := t.chanReduce(3, da, Buffer{}, Buffer{}, Buffer{}, c, 1, n)
		ops = append(ops,
			t.gemm(Gemm{M: n, N: c, K: d, Alpha: 1, A: f, LDA: d, B: w, TransB: true, LDB: d, C: a, LDC: c}),
			softmax(b, 1, 0, 1),
			mean,
			t.gemm(Gemm{TransA: true, M: c, N: d, K: n, Alpha: 1, A: da, LDA: c, B: f, LDB: d, C: dw, LDC: d}),
			part, t.chanFinal(t.paramGrad("head.bias"), c, s, 0),
			t.gemm(Gemm{M: n, N: d, K: c, Alpha: 1, A: da, LDA: c, B: w, LDB: d, C: df, LDC: d}))
		if lp.Head == "scaled-linear" {
			ops = append(ops, t.launchRows("ml_row_normalize_backward", n, de, df, e, enorm, Buffer{}, int32(n), int32(d),
				lp.Scale, int32(0), int32(0)))
		}
		return ops
	}
	panic("cuda: engine has no head " + lp.Head)
}

// pairLoss: distances, the objective's loss and dL/dD, then the
// distances' backward.
func (t *Trainer) pairLoss() []func() error {
	lp := t.lp
	n, d := t.n, t.spec.Dim
	e, de := t.vals[t.plan.Output], t.dvals[t.plan.Output]
	cosine := b2i(lp.Distance == "cosine")
	if lp.Distance != "cosine" && lp.Distance != "euclidean" {
		panic("cuda: engine has no distance " + lp.Distance)
	}
	u, norm, dm, gd := t.alloc(2*n*d), t.alloc(2*n), t.alloc(2*n*n), t.alloc(2*n*n)
	rowsum, rowcount, tot := t.alloc(2*n), t.alloc(2*n), t.alloc(2)
	ops := []func() error{
		t.launchRows("ml_pair_prep", n, u, norm, e, int32(n), int32(d), cosine),
		t.launch("ml_pair_dist", n*n, dm, u, int32(n), int32(d), cosine),
	}
	switch lp.Objective {
	case "contrastive":
		ops = append(ops,
			t.launchRows("ml_contrastive", n, gd, rowsum, dm, t.labels, int32(n), lp.Margin),
			t.launchGrid("ml_pair_final", Dim3{1, 1, 1}, t.status, tot, rowsum, rowcount, int32(n), int32(0), float64(n*(n-1)/2)))
	case "triplet":
		miner, ok := minerKinds[lp.Miner]
		if !ok {
			panic("cuda: engine has no miner " + lp.Miner)
		}
		cnt := t.alloc(n * n)
		ops = append(ops,
			t.launch("ml_fill", n*n, cnt, int32(n*n), float32(0)),
			t.launchRows("ml_triplet", n, cnt, rowsum, rowcount, dm, t.labels, int32(n), miner, lp.Margin),
			t.launchGrid("ml_pair_final", Dim3{1, 1, 1}, t.status, tot, rowsum, rowcount, int32(n), int32(1), float64(0)),
			t.launch("ml_triplet_grad", n*n, gd, cnt, tot, int32(n*n)))
	default:
		panic("cuda: engine has no objective " + lp.Objective)
	}
	return append(ops, t.launchRows("ml_pair_backward", n, de, gd, dm, u, norm, int32(n), int32(d), cosine, int32(0)))
}

// emitUpdate returns the optimiser's one launch over every learnable.
func (t *Trainer) emitUpdate() []func() error {
	o := t.cfg.Opt
	total := t.flat.Bytes / 4
	switch o.Name {
	case core.OptSGD:
		return []func() error{t.launch("ml_sgd", total, t.flat, t.grad, t.m, int32(total), int32(t.decay), t.scal, t.status,
			float32(o.Momentum), float32(o.WeightDecay))}
	case core.OptAdam:
		return []func() error{t.launch("ml_adam", total, t.flat, t.grad, t.m, t.v, int32(total), int32(t.decay), t.scal, t.status,
			float32(o.Beta1), float32(o.Beta2), float32(o.Eps), float32(o.WeightDecay))}
	}
	panic("cuda: engine has no optimiser " + o.Name)
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
