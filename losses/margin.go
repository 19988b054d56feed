package losses

import (
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"math/rand"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core"
	"metriclab/core/eval"
	"metriclab/core/ops"
)

// This file is the shared base of the margin-softmax family: normalise f and
// W, take the cosines, change the target logit with the loss's Margin, scale,
// and take the mean softmax cross-entropy. The losses (softmax.go,
// l2softmax.go, normsoftmax.go, sphereface.go, cosface.go, arcface.go,
// combined.go) only pick a head and supply their Margin.

// Margin is the target transform of a margin-softmax loss. Target maps the
// cosine c = cos θ_y between an embedding and its own class weight to the
// target logit before scaling, ψ(c); TargetDeriv returns dψ/dc. The other
// classes keep their cosine. Both are called with c in [−1, 1]: the base
// clamps c first (and then uses dψ/dc at the clamped value, so a cosine that
// rounding pushed past ±1 still gets a gradient).
type Margin interface {
	Target(c float64) float64
	TargetDeriv(c float64) float64
}

// msSinFloor bounds sin θ from below where a Margin divides by it
// (dθ/dc = −1/sin θ). In float32 a cosine within one ulp of 1 reads as
// exactly 1 while the true angle is up to 3.4e-4 rad; the floor keeps dψ/dc
// finite there and changes it only for θ < 1e-3 rad.
const msSinFloor = 1e-3

// msEps is added to squared norms before the square root: f̂ = f/√(‖f‖²+ε).
// d√x is +Inf at x = 0, and a zero embedding (or class weight) must not
// produce NaN.
const msEps = 1e-12

// msHead is how a loss turns embeddings f and class weights W into logits z.
type msHead int

const (
	msLinear       msHead = iota // z_j = f·W_j + b_j (softmax)
	msScaledLinear               // z_j = α·f̂·W_j + b_j (l2softmax)
	msCosine                     // z_j = s·cos θ_j, target s·ψ(cos θ_y)
	msFeatureNorm                // z_j = ‖f‖·cos θ_j, target ‖f‖·ψ(cos θ_y) (sphereface)
)

// marginSoftmax is the one core.Loss of the margin-softmax family, with
//
//	cos θ_j = f̂·Ŵ_j,   f̂ = f/√(‖f‖²+ε),   Ŵ_j = W_j/√(‖W_j‖²+ε)
//	L = (1/N) Σ_i −log softmax(z_i)_{y_i}
//
// and logits z given by head. It learns head.weight (C×D) and, for the
// linear heads, head.bias (C).
type marginSoftmax struct {
	name   string
	dim    int
	params map[string]float64
	head   msHead
	scale  float64        // s (msCosine) or α (msScaledLinear); unused otherwise
	margin Margin         // target transform; nil keeps ψ(c) = c
	step   func(iter int) // schedule run by BeforeStep; nil if none

	weight, bias *G.Node // made by Build
}

func (l *marginSoftmax) Name() string { return l.name }

// Params returns a copy of the loss parameters by their CLI names.
func (l *marginSoftmax) Params() map[string]float64 { return maps.Clone(l.params) }

// Learnables returns head.weight and, for softmax and l2softmax, head.bias.
// It is empty before Build.
func (l *marginSoftmax) Learnables() []core.NamedNode {
	var nn []core.NamedNode
	if l.weight != nil {
		nn = append(nn, core.NamedNode{Name: "head.weight", Node: l.weight})
	}
	if l.bias != nil {
		nn = append(nn, core.NamedNode{Name: "head.bias", Node: l.bias})
	}
	return nn
}

// BeforeStep runs the loss's schedule (SphereFace's λ) for step iter.
func (l *marginSoftmax) BeforeStep(iter int) error {
	if iter < 0 {
		return fmt.Errorf("%s: step %d is negative", l.name, iter)
	}
	if l.step != nil {
		l.step(iter)
	}
	return nil
}

// Build adds the loss to g and returns the scalar loss node. emb is N×D,
// onehot N×C, both of g's dtype (float32 or float64). head.weight starts
// from msInitWeight and head.bias from zero.
func (l *marginSoftmax) Build(g *G.ExprGraph, emb, onehot *G.Node, classes int) (*G.Node, error) {
	if emb.Dims() != 2 || onehot.Dims() != 2 {
		return nil, fmt.Errorf("%s: emb %v and onehot %v must be matrices", l.name, emb.Shape(), onehot.Shape())
	}
	n, d := emb.Shape()[0], emb.Shape()[1]
	switch {
	case d != l.dim:
		return nil, fmt.Errorf("%s: emb is %d×%d, configured for D = %d", l.name, n, d, l.dim)
	case classes < 2:
		return nil, fmt.Errorf("%s: %d classes, need at least 2", l.name, classes)
	case onehot.Shape()[0] != n || onehot.Shape()[1] != classes:
		return nil, fmt.Errorf("%s: onehot is %v, want %d×%d", l.name, onehot.Shape(), n, classes)
	}
	dt := emb.Dtype()
	if dt != tensor.Float64 && dt != tensor.Float32 {
		return nil, fmt.Errorf("%s: emb has dtype %v, want float32 or float64", l.name, dt)
	}
	if onehot.Dtype() != dt {
		return nil, fmt.Errorf("%s: onehot has dtype %v, emb %v", l.name, onehot.Dtype(), dt)
	}

	l.weight = G.NewMatrix(g, dt, G.WithShape(classes, d), G.WithName("head.weight"),
		G.WithValue(msInitWeight(dt, classes, d, l.name)))
	l.bias = nil
	if l.head == msLinear || l.head == msScaledLinear {
		l.bias = G.NewVector(g, dt, G.WithShape(classes), G.WithName("head.bias"), G.WithInit(G.Zeroes()))
	}

	z, err := l.logits(emb, onehot, n, classes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.name, err)
	}
	loss, err := G.ApplyOp(newMsCrossEntropyOp(), z, onehot)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.name, err)
	}
	return loss, nil
}

// logits returns the N×C logits of the head.
func (l *marginSoftmax) logits(emb, onehot *G.Node, n, classes int) (*G.Node, error) {
	switch l.head {
	case msLinear, msScaledLinear:
		f := emb
		if l.head == msScaledLinear {
			var err error
			if f, err = G.ApplyOp(newMsNormalizeOp(l.scale), emb); err != nil {
				return nil, err
			}
		}
		return core.Linear(f, l.weight, l.bias)
	}

	cos, err := msCosines(emb, l.weight)
	if err != nil {
		return nil, err
	}
	if l.head == msCosine {
		return G.ApplyOp(newMsMarginOp(l.margin, l.scale), cos, onehot)
	}
	// msFeatureNorm: z_ij = ‖f_i‖·t_ij with t the cosines, target changed.
	t, err := G.ApplyOp(newMsMarginOp(l.margin, 1), cos, onehot)
	if err != nil {
		return nil, err
	}
	norm, err := msRowNorms(emb, n)
	if err != nil {
		return nil, err
	}
	return G.BroadcastHadamardProd(t, norm, nil, []byte{1})
}

// HeadAccuracy returns the accuracy on test of the class head of loss,
// with its class weights w (C×D) and biases b (nil for none) as
// core.Spec.ClassWeights gives them, by the head's own prediction: the
// argmax of its logits without the margin, which changes the target's
// logit in training only,
//
//	softmax      ŷ = argmax_j f·W_j + b_j
//	l2softmax    ŷ = argmax_j α·f̂·W_j + b_j
//	the others   ŷ = argmax_j cos θ_j   (s·cos θ_j and ‖f‖·cos θ_j order the classes as cos θ_j does)
//
// counted by eval.ClassifierAccuracy (ties to the lowest j, sums in
// float64). The nearest class weight by cosine is not softmax's
// prediction: its biases and its weights' norms move the boundaries. ok
// is false for a loss without a class head (contrastive, triplet).
func HeadAccuracy(loss core.Loss, test eval.Embeddings, w, b []float32) (acc float64, ok bool) {
	l, ok := loss.(*marginSoftmax)
	if !ok {
		return 0, false
	}
	switch l.head {
	case msLinear:
		return eval.ClassifierAccuracy(test, w, b, false), true
	case msScaledLinear:
		return eval.ClassifierAccuracy(scaledRows(test, l.scale), w, b, false), true
	}
	return eval.ClassifierAccuracy(test, w, nil, true), true
}

// scaledRows returns a copy of e whose rows f are α·f̂ = α·f/√(‖f‖²+ε),
// as l2softmax's head scales them (the norm accumulated in float64).
func scaledRows(e eval.Embeddings, alpha float64) eval.Embeddings {
	out := e
	out.X = make([]float32, len(e.X))
	for i := range e.N {
		f := e.Row(i)
		var sq float64
		for _, v := range f {
			sq += float64(v) * float64(v)
		}
		k := alpha / math.Sqrt(sq+msEps)
		for c, v := range f {
			out.X[i*e.D+c] = float32(k * float64(v))
		}
	}
	return out
}

// msCosines returns the N×C cosines f̂·Ŵᵀ between the rows of emb and w.
func msCosines(emb, w *G.Node) (*G.Node, error) {
	fhat, err := G.ApplyOp(newMsNormalizeOp(1), emb)
	if err != nil {
		return nil, err
	}
	what, err := G.ApplyOp(newMsNormalizeOp(1), w)
	if err != nil {
		return nil, err
	}
	return core.Linear(fhat, what, nil)
}

// msRowNorms returns the N×1 column √(‖f_i‖²+ε), the same norm that f̂
// divides by.
func msRowNorms(emb *G.Node, n int) (*G.Node, error) {
	sq, err := G.Square(emb)
	if err != nil {
		return nil, err
	}
	ss, err := G.Sum(sq, 1)
	if err != nil {
		return nil, err
	}
	var eps *G.Node
	if emb.Dtype() == tensor.Float32 {
		eps = G.NewConstant(float32(msEps))
	} else {
		eps = G.NewConstant(msEps)
	}
	ss, err = G.Add(ss, eps)
	if err != nil {
		return nil, err
	}
	norm, err := G.Sqrt(ss)
	if err != nil {
		return nil, err
	}
	return G.Reshape(norm, tensor.Shape{n, 1})
}

// msInitWeight returns the initial C×D head.weight: Xavier/Glorot uniform,
// U(−a, a) with a = √(6/(C+D)), drawn from a generator seeded by the loss
// name and the shape, so the same loss and shape always start alike.
func msInitWeight(dt tensor.Dtype, classes, dim int, name string) *tensor.Dense {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s head.weight %d×%d", name, classes, dim)
	rng := rand.New(rand.NewSource(int64(h.Sum64() >> 1)))
	a := math.Sqrt(6 / float64(classes+dim))
	w := tensor.New(tensor.Of(dt), tensor.WithShape(classes, dim))
	switch data := w.Data().(type) {
	case []float64:
		for i := range data {
			data[i] = a * (2*rng.Float64() - 1)
		}
	case []float32:
		for i := range data {
			data[i] = float32(a * (2*rng.Float64() - 1))
		}
	}
	return w
}

// msDefaultScale is the default scale s (NormFace, CosFace, ArcFace,
// combined) and α (l2softmax) at embedding dimension dim:
//
//	s(D) = 16·√(D/8), clamped to [16, 64]
//
// so s = 16 at D ≤ 8, 32 at D = 32 and 64 (the papers' value) from D = 128.
// NormFace (Wang et al. 2017) bounds the scale needed for a target
// probability p; at low D the bound is set by the nearest class weights: 10
// classes on a circle (D = 2) sit 36° apart, and p_y ≥ 0.9 against the two
// neighbours needs s·(1 − cos 36°) ≥ log(2p/(1−p)), s ≥ 15.1. A larger
// scale at low D saturates correct samples and makes misplaced ones jump.
// In high D, weights are nearly orthogonal and many classes compete:
// ArcFace and CosFace use 64 at D = 512.
func msDefaultScale(dim int) float64 {
	return math.Min(64, math.Max(16, 16*math.Sqrt(float64(dim)/8)))
}

// msLowDimFactor scales the papers' margins at low D: 0.4 at D = 2, 1 from
// D = 3. Ten classes leave 36° (0.63 rad) between neighbours on a circle;
// ArcFace's m = 0.5 would leave a 2-D class a cell of ±0.07 rad and training
// stalls, m = 0.2 leaves ±0.21. On the sphere S² they leave about 66°, room
// for the papers' margins: lenet-s with ArcFace at D = 3, 3 epochs, reaches
// 0.9877 closed-set accuracy on MNIST with m = 0.5 and 0.9847 with m = 0.3.
func msLowDimFactor(dim int) float64 {
	if dim == 2 {
		return 0.4
	}
	return 1
}

// msScaleParam is the parameter s of the normalised losses.
func msScaleParam(dim int) Param {
	return Param{Name: "s", Default: msDefaultScale(dim), Min: 1, Max: 128,
		Doc: "scale of the cosine logits, z_j = s·cos θ_j; default 16·√(D/8) clamped to [16, 64]"}
}

// msMatrixType is the type of an op on matrices: a → a → ... → a.
func msMatrixType(arity int) hm.Type {
	dims := make([]int, arity+1)
	for i := range dims {
		dims[i] = 2
	}
	return ops.FnType(dims...)
}

// msFloat is the element type of the graphs the ops run in.
type msFloat interface{ float32 | float64 }

// msNormalizeOp scales each row of a M×D matrix x to norm s:
//
//	y_i = s·x_i/n_i,   n_i = √(‖x_i‖²+ε)
//
// Sums accumulate in float64 for float32 graphs too.
type msNormalizeOp struct {
	ops.Base
	scale float64
	y     ops.Buf
}

// newMsNormalizeOp returns the op that scales rows to norm s.
func newMsNormalizeOp(s float64) *msNormalizeOp {
	op := &msNormalizeOp{scale: s}
	op.Key = fmt.Sprintf("msNormalize{%g}", s)
	return op
}

func (op *msNormalizeOp) Arity() int                                        { return 1 }
func (op *msNormalizeOp) Type() hm.Type                                     { return msMatrixType(1) }
func (op *msNormalizeOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return ops.SameShape(in) }
func (op *msNormalizeOp) DiffWRT(inputs int) []bool                         { return []bool{true} }

func (op *msNormalizeOp) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("losses: %v takes 1 input, got %d", op, len(inputs))
	}
	x := ops.Dense(inputs[0])
	if x.Dims() != 2 {
		return nil, fmt.Errorf("losses: %v wants a matrix, got %v", op, x.Shape())
	}
	y := op.y.Get(x.Dtype(), x.Shape())
	d := x.Shape()[1]
	switch xs := x.Data().(type) {
	case []float64:
		msNormalizeTo(op.y.F64, xs, d, op.scale)
	case []float32:
		msNormalizeTo(op.y.F32, xs, d, op.scale)
	}
	return y, nil
}

// msNormalizeTo writes s·x_i/√(‖x_i‖²+ε) for each row of width d into dst.
func msNormalizeTo[T msFloat](dst, x []T, d int, s float64) []T {
	for i := 0; i < len(x); i += d {
		row := x[i : i+d]
		var ss float64
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		k := s / math.Sqrt(ss+msEps)
		for j, v := range row {
			dst[i+j] = T(k * float64(v))
		}
	}
	return dst
}

// SymDiff returns the backward of msNormalizeOp, which recomputes n and x̂
// from x (one pass over each row, cheaper than keeping them).
func (op *msNormalizeOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back := &msNormalizeDiffOp{scale: op.scale}
	back.Key = fmt.Sprintf("msNormalizeDiff{%g}", op.scale)
	dx, err := G.ApplyOp(back, inputs[0], grad)
	return G.Nodes{dx}, err
}

// msNormalizeDiffOp is the backward of msNormalizeOp: from x and g = ∂L/∂y,
//
//	∂L/∂x_i = s·(g_i − x̂_i·(x̂_i·g_i))/n_i,   x̂_i = x_i/n_i
type msNormalizeDiffOp struct {
	ops.Base
	scale float64
	dx    ops.Buf
}

func (op *msNormalizeDiffOp) Arity() int    { return 2 }
func (op *msNormalizeDiffOp) Type() hm.Type { return msMatrixType(2) }
func (op *msNormalizeDiffOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return ops.SameShape(in)
}

func (op *msNormalizeDiffOp) Do(inputs ...G.Value) (G.Value, error) {
	x, g, err := msPair(op, inputs)
	if err != nil {
		return nil, err
	}
	dx := op.dx.Get(x.Dtype(), x.Shape())
	d := x.Shape()[1]
	switch xs := x.Data().(type) {
	case []float64:
		msNormalizeBackwardTo(op.dx.F64, xs, g.Float64s(), d, op.scale)
	case []float32:
		msNormalizeBackwardTo(op.dx.F32, xs, g.Float32s(), d, op.scale)
	}
	return dx, nil
}

// msNormalizeBackwardTo writes s·(g_i − x̂_i·(x̂_i·g_i))/n_i for each row of
// width d into dst.
func msNormalizeBackwardTo[T msFloat](dst, x, g []T, d int, s float64) []T {
	for i := 0; i < len(x); i += d {
		xr, gr := x[i:i+d], g[i:i+d]
		var ss float64
		for _, v := range xr {
			ss += float64(v) * float64(v)
		}
		n := math.Sqrt(ss + msEps)
		var dot float64 // x̂·g
		for j, v := range xr {
			dot += float64(v) / n * float64(gr[j])
		}
		for j, v := range xr {
			dst[i+j] = T(s * (float64(gr[j]) - float64(v)/n*dot) / n)
		}
	}
	return dst
}

// msMarginOp turns the N×C cosines c and one-hot labels y into logits
//
//	z_ij = s·ψ(clamp(c_ij))  where y_ij = 1
//	z_ij = s·c_ij            elsewhere
//
// with ψ the Margin (identity if nil) and clamp to [−1, 1]. A label counts
// as 1 where y_ij > 0.5. The margin's state (SphereFace's λ) is read at each
// Do, so a schedule takes effect without rebuilding the graph.
type msMarginOp struct {
	ops.Base
	margin Margin
	scale  float64
	z      ops.Buf
}

// newMsMarginOp returns the margin op of m at scale s. Its Key holds its
// address: two margin ops are never merged, and the hash does not change
// when a schedule changes the margin's state.
func newMsMarginOp(m Margin, s float64) *msMarginOp {
	op := &msMarginOp{margin: m, scale: s}
	op.Key = ops.Unique(fmt.Sprintf("msMargin{%T, s=%g}", m, s), op)
	return op
}

func (op *msMarginOp) Arity() int                                        { return 2 }
func (op *msMarginOp) Type() hm.Type                                     { return msMatrixType(2) }
func (op *msMarginOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return ops.SameShape(in) }
func (op *msMarginOp) DiffWRT(inputs int) []bool                         { return []bool{true, false} }

func (op *msMarginOp) Do(inputs ...G.Value) (G.Value, error) {
	c, y, err := msPair(op, inputs)
	if err != nil {
		return nil, err
	}
	z := op.z.Get(c.Dtype(), c.Shape())
	switch cs := c.Data().(type) {
	case []float64:
		msMarginTo(op.z.F64, cs, y.Float64s(), op.scale, op.margin)
	case []float32:
		msMarginTo(op.z.F32, cs, y.Float32s(), op.scale, op.margin)
	}
	return z, nil
}

// msMarginTo writes the logits of msMarginOp into dst.
func msMarginTo[T msFloat](dst, c, y []T, s float64, m Margin) []T {
	for i, v := range c {
		t := float64(v)
		if m != nil && y[i] > 0.5 {
			t = m.Target(msClamp(t))
		}
		dst[i] = T(s * t)
	}
	return dst
}

// SymDiff returns the backward of msMarginOp; the labels get no gradient.
func (op *msMarginOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back := &msMarginDiffOp{fwd: op}
	back.Key = ops.Unique("msMarginDiff", op)
	dc, err := G.ApplyOp(back, inputs[0], inputs[1], grad)
	return G.Nodes{dc, nil}, err
}

// msMarginDiffOp is the backward of msMarginOp: from c, y and g = ∂L/∂z,
//
//	∂L/∂c_ij = s·ψ'(clamp(c_ij))·g_ij  where y_ij = 1,  s·g_ij elsewhere
type msMarginDiffOp struct {
	ops.Base
	fwd *msMarginOp
	dc  ops.Buf
}

func (op *msMarginDiffOp) Arity() int    { return 3 }
func (op *msMarginDiffOp) Type() hm.Type { return msMatrixType(3) }
func (op *msMarginDiffOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return ops.SameShape(in)
}

func (op *msMarginDiffOp) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 3 {
		return nil, fmt.Errorf("losses: %v takes 3 inputs, got %d", op, len(inputs))
	}
	c, y, err := msPair(op, inputs[:2])
	if err != nil {
		return nil, err
	}
	g := ops.Dense(inputs[2])
	if !g.Shape().Eq(c.Shape()) || g.Dtype() != c.Dtype() {
		return nil, fmt.Errorf("losses: %v: grad %v %v, want %v %v", op, g.Shape(), g.Dtype(), c.Shape(), c.Dtype())
	}
	dc := op.dc.Get(c.Dtype(), c.Shape())
	switch cs := c.Data().(type) {
	case []float64:
		msMarginBackwardTo(op.dc.F64, cs, y.Float64s(), g.Float64s(), op.fwd.scale, op.fwd.margin)
	case []float32:
		msMarginBackwardTo(op.dc.F32, cs, y.Float32s(), g.Float32s(), op.fwd.scale, op.fwd.margin)
	}
	return dc, nil
}

// msMarginBackwardTo writes ∂L/∂c of msMarginOp into dst.
func msMarginBackwardTo[T msFloat](dst, c, y, g []T, s float64, m Margin) []T {
	for i, v := range c {
		d := s
		if m != nil && y[i] > 0.5 {
			d *= m.TargetDeriv(msClamp(float64(v)))
		}
		dst[i] = T(d * float64(g[i]))
	}
	return dst
}

// msClamp clamps a cosine to [−1, 1].
func msClamp(c float64) float64 { return math.Max(-1, math.Min(1, c)) }

// msCrossEntropyOp is the mean softmax cross-entropy of N×C logits z against
// N×C targets y (one-hot rows, or any rows of weights):
//
//	L = (1/N) Σ_i Σ_j −y_ij·log softmax(z_i)_j
//
// computed with the row maximum subtracted, in float64 for both dtypes.
type msCrossEntropyOp struct{ ops.Base }

// newMsCrossEntropyOp returns the cross-entropy op.
func newMsCrossEntropyOp() *msCrossEntropyOp {
	return &msCrossEntropyOp{ops.Base{Key: "msCrossEntropy"}}
}

func (op *msCrossEntropyOp) Arity() int { return 2 }
func (op *msCrossEntropyOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, m, a)
}
func (op *msCrossEntropyOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (op *msCrossEntropyOp) DiffWRT(inputs int) []bool { return []bool{true, false} }

func (op *msCrossEntropyOp) Do(inputs ...G.Value) (G.Value, error) {
	z, y, err := msPair(op, inputs)
	if err != nil {
		return nil, err
	}
	c := z.Shape()[1]
	// The loss is a scalar Value (*F64, *F32), as gorgonia's own reductions
	// give, not a 0-d tensor.
	switch zs := z.Data().(type) {
	case []float64:
		return G.NewF64(msCrossEntropy(zs, y.Data().([]float64), c)), nil
	default:
		return G.NewF32(float32(msCrossEntropy(zs.([]float32), y.Data().([]float32), c))), nil
	}
}

// msCrossEntropy returns the mean cross-entropy of rows of width c.
func msCrossEntropy[T msFloat](z, y []T, c int) float64 {
	var sum float64
	for i := 0; i < len(z); i += c {
		zr, yr := z[i:i+c], y[i:i+c]
		lse := msLogSumExp(zr)
		for j, v := range zr {
			if yr[j] != 0 {
				sum -= float64(yr[j]) * (float64(v) - lse)
			}
		}
	}
	return sum / float64(len(z)/c)
}

// msLogSumExp returns log Σ_j e^{z_j}, with the maximum subtracted first.
func msLogSumExp[T msFloat](z []T) float64 {
	mx := msMax(z)
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v) - mx)
	}
	return mx + math.Log(s)
}

// msMax returns the largest of z (−Inf for none; the logits hold no NaN
// that the loss would not report anyway).
func msMax[T msFloat](z []T) float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		if float64(v) > mx {
			mx = float64(v)
		}
	}
	return mx
}

// SymDiff returns the backward of msCrossEntropyOp, which recomputes the
// softmax from z (N×C exponentials, cheaper than keeping them between the
// passes); the targets get no gradient.
func (op *msCrossEntropyOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back := &msCrossEntropyDiffOp{}
	back.Key = "msCrossEntropyDiff"
	dz, err := G.ApplyOp(back, inputs[0], inputs[1], grad)
	return G.Nodes{dz, nil}, err
}

// msCrossEntropyDiffOp is the backward of msCrossEntropyOp: from z, y and
// the scalar g = ∂ℓ/∂L,
//
//	∂ℓ/∂z_ij = g·(p_ij·Σ_k y_ik − y_ij)/N,   p_i = softmax(z_i)
type msCrossEntropyDiffOp struct {
	ops.Base
	dz ops.Buf
	e  []float64 // scratch: one row's exponentials
}

func (op *msCrossEntropyDiffOp) Arity() int { return 3 }
func (op *msCrossEntropyDiffOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, m, a, m)
}
func (op *msCrossEntropyDiffOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return ops.SameShape(in)
}

func (op *msCrossEntropyDiffOp) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 3 {
		return nil, fmt.Errorf("losses: %v takes 3 inputs, got %d", op, len(inputs))
	}
	z, y, err := msPair(op, inputs[:2])
	if err != nil {
		return nil, err
	}
	g, err := ops.Scalar(inputs[2])
	if err != nil {
		return nil, err
	}
	dz := op.dz.Get(z.Dtype(), z.Shape())
	c := z.Shape()[1]
	switch zs := z.Data().(type) {
	case []float64:
		msCrossEntropyBackwardTo(op.dz.F64, zs, y.Float64s(), c, g, ops.Scratch64(&op.e, c))
	case []float32:
		msCrossEntropyBackwardTo(op.dz.F32, zs, y.Float32s(), c, g, ops.Scratch64(&op.e, c))
	}
	return dz, nil
}

// msCrossEntropyBackwardTo writes g·(p_ij·Σ_k y_ik − y_ij)/N into dst,
// with one exponential per entry, p_ij = e^{z_ij − max_i} / Σ_k e^{z_ik −
// max_i}, kept in e (c values).
func msCrossEntropyBackwardTo[T msFloat](dst, z, y []T, c int, g float64, e []float64) []T {
	k := g / float64(len(z)/c)
	e = e[:c]
	for i := 0; i < len(z); i += c {
		zr, yr := z[i:i+c], y[i:i+c]
		mx := msMax(zr)
		var s, ysum float64
		for j, v := range zr {
			e[j] = math.Exp(float64(v) - mx)
			s += e[j]
			ysum += float64(yr[j])
		}
		ks := k * ysum / s
		for j, ej := range e {
			dst[i+j] = T(ks*ej - k*float64(yr[j]))
		}
	}
	return dst
}

// msPair returns the first two inputs of op as two N×C matrices of one
// float dtype.
func msPair(op G.Op, inputs []G.Value) (a, b *tensor.Dense, err error) {
	if len(inputs) != 2 {
		return nil, nil, fmt.Errorf("losses: %v takes 2 inputs, got %d", op, len(inputs))
	}
	a, b = ops.Dense(inputs[0]), ops.Dense(inputs[1])
	if a.Dims() != 2 || !a.Shape().Eq(b.Shape()) || a.Dtype() != b.Dtype() {
		return nil, nil, fmt.Errorf("losses: %v: inputs %v %v and %v %v, want two matrices alike",
			op, a.Shape(), a.Dtype(), b.Shape(), b.Dtype())
	}
	if dt := a.Dtype(); dt != tensor.Float64 && dt != tensor.Float32 {
		return nil, nil, fmt.Errorf("losses: %v: dtype %v not supported", op, dt)
	}
	return a, b, nil
}

var (
	_ G.SDOp = (*msNormalizeOp)(nil)
	_ G.SDOp = (*msMarginOp)(nil)
	_ G.SDOp = (*msCrossEntropyOp)(nil)
	_ G.Op   = (*msNormalizeDiffOp)(nil)
	_ G.Op   = (*msMarginDiffOp)(nil)
	_ G.Op   = (*msCrossEntropyDiffOp)(nil)
)
