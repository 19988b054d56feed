package losses

// Shared helpers of the margin-softmax tests: a plain float64 reference of
// the loss and its gradients, central finite differences, graph evaluation in
// float32 and float64, a tiny training run, and parameter checks.

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core"
	"metriclab/core/ops"
)

// msRefHead describes a loss to msReference, with its own ψ written in the
// test file of the loss (not the package's Margin).
type msRefHead struct {
	kind      msHead
	scale     float64                 // s or α
	psi, dpsi func(c float64) float64 // nil: identity
}

// msRefOut is the loss and its gradients with respect to f, W and b.
type msRefOut struct {
	loss       float64
	df, dW     [][]float64
	db         []float64
	cos, logit [][]float64 // N×C, for inspection
}

// msReference is the slow, obvious float64 margin-softmax loss with its
// gradients written out by the chain rule:
//
//	z as in the head, p_i = softmax(z_i), L = (1/N) Σ_i −log p_iy
//	∂L/∂z_ij = (p_ij − [j = y_i])/N
//	normalisation x̂ = x/n, n = √(‖x‖²+ε): ∂L/∂x = (g − x̂(x̂·g))/n
func msReference(f, w [][]float64, b []float64, y []int, h msRefHead) msRefOut {
	n, c, d := len(f), len(w), len(f[0])
	out := msRefOut{df: msZeros(n, d), dW: msZeros(c, d), db: make([]float64, c),
		cos: msZeros(n, c), logit: msZeros(n, c)}
	what, wnorm := msRefNormalize(w)
	fhat, fnorm := msRefNormalize(f)
	gwhat := msZeros(c, d) // ∂L/∂Ŵ
	bias := func(j int) float64 {
		if b == nil {
			return 0
		}
		return b[j]
	}
	for i := range f {
		z, t := make([]float64, c), make([]float64, c)
		for j := range w {
			cs := msDot(fhat[i], what[j])
			out.cos[i][j] = cs
			t[j] = cs
			if j == y[i] && h.psi != nil {
				t[j] = h.psi(cs)
			}
			switch h.kind {
			case msLinear:
				z[j] = msDot(f[i], w[j]) + bias(j)
			case msScaledLinear:
				z[j] = h.scale*msDot(fhat[i], w[j]) + bias(j)
			case msCosine:
				z[j] = h.scale * t[j]
			case msFeatureNorm:
				z[j] = fnorm[i] * t[j]
			}
		}
		copy(out.logit[i], z)
		mx := math.Inf(-1)
		for _, v := range z {
			mx = math.Max(mx, v)
		}
		var se float64
		for _, v := range z {
			se += math.Exp(v - mx)
		}
		lse := mx + math.Log(se)
		out.loss += (lse - z[y[i]]) / float64(n)

		gfhat := make([]float64, d) // ∂L/∂f̂_i
		var gnorm float64           // ∂L/∂‖f_i‖ (feature-norm head)
		for j := range w {
			dz := math.Exp(z[j]-lse) / float64(n)
			if j == y[i] {
				dz -= 1 / float64(n)
			}
			dt := 1.0 // ∂t/∂cos
			if j == y[i] && h.dpsi != nil {
				dt = h.dpsi(out.cos[i][j])
			}
			switch h.kind {
			case msLinear:
				msAxpy(out.df[i], dz, w[j])
				msAxpy(out.dW[j], dz, f[i])
				out.db[j] += dz
			case msScaledLinear:
				msAxpy(gfhat, h.scale*dz, w[j])
				msAxpy(out.dW[j], h.scale*dz, fhat[i])
				out.db[j] += dz
			case msCosine:
				dc := dz * h.scale * dt
				msAxpy(gfhat, dc, what[j])
				msAxpy(gwhat[j], dc, fhat[i])
			case msFeatureNorm:
				dc := dz * fnorm[i] * dt
				gnorm += dz * t[j]
				msAxpy(gfhat, dc, what[j])
				msAxpy(gwhat[j], dc, fhat[i])
			}
		}
		if h.kind != msLinear {
			msAxpy(out.df[i], 1, msRefNormalizeBackward(fhat[i], fnorm[i], gfhat))
			msAxpy(out.df[i], gnorm/fnorm[i], f[i]) // ∂n/∂f = f/n
		}
	}
	if h.kind == msCosine || h.kind == msFeatureNorm {
		for j := range w {
			out.dW[j] = msRefNormalizeBackward(what[j], wnorm[j], gwhat[j])
		}
	}
	if h.kind == msCosine || h.kind == msFeatureNorm {
		out.db = nil
	}
	return out
}

// msRefNormalize returns x_i/n_i and n_i = √(‖x_i‖²+ε) for each row.
func msRefNormalize(x [][]float64) (xhat [][]float64, norm []float64) {
	xhat, norm = make([][]float64, len(x)), make([]float64, len(x))
	for i, row := range x {
		norm[i] = math.Sqrt(msDot(row, row) + 1e-12)
		xhat[i] = make([]float64, len(row))
		for k, v := range row {
			xhat[i][k] = v / norm[i]
		}
	}
	return xhat, norm
}

// msRefNormalizeBackward returns (g − x̂(x̂·g))/n.
func msRefNormalizeBackward(xhat []float64, n float64, g []float64) []float64 {
	dot := msDot(xhat, g)
	dx := make([]float64, len(g))
	for k := range g {
		dx[k] = (g[k] - xhat[k]*dot) / n
	}
	return dx
}

func msDot(a, b []float64) float64 {
	var s float64
	for k := range a {
		s += a[k] * b[k]
	}
	return s
}

// msAxpy adds a·x to dst.
func msAxpy(dst []float64, a float64, x []float64) {
	for k := range x {
		dst[k] += a * x[k]
	}
}

func msZeros(r, c int) [][]float64 {
	m := make([][]float64, r)
	for i := range m {
		m[i] = make([]float64, c)
	}
	return m
}

func msClone(m [][]float64) [][]float64 {
	c := make([][]float64, len(m))
	for i := range m {
		c[i] = append([]float64(nil), m[i]...)
	}
	return c
}

func msFlat(m [][]float64) []float64 {
	var v []float64
	for _, r := range m {
		v = append(v, r...)
	}
	return v
}

// msSoftplus returns log(1 + e^x), the two-class loss with logit gap x.
func msSoftplus(x float64) float64 { return math.Log1p(math.Exp(x)) }

// msTestBatch returns a random batch: n embeddings of dimension d (standard
// normal), c class weights, labels i mod c and biases, from seed.
func msTestBatch(seed int64, n, d, c int) (f, w [][]float64, b []float64, y []int) {
	rng := rand.New(rand.NewSource(seed))
	f, w = msZeros(n, d), msZeros(c, d)
	for _, m := range [][][]float64{f, w} {
		for _, r := range m {
			for k := range r {
				r[k] = rng.NormFloat64()
			}
		}
	}
	b = make([]float64, c)
	for j := range b {
		b[j] = 0.3 * rng.NormFloat64()
	}
	y = make([]int, n)
	for i := range y {
		y[i] = i % c
	}
	return f, w, b, y
}

// msCentralDiff returns the central finite difference (L(x+h) − L(x−h))/2h
// for every entry of x, changing x in place and restoring it.
func msCentralDiff(x [][]float64, h float64, loss func() float64) [][]float64 {
	g := msZeros(len(x), len(x[0]))
	for i := range x {
		for k := range x[i] {
			v := x[i][k]
			x[i][k] = v + h
			lp := loss()
			x[i][k] = v - h
			lm := loss()
			x[i][k] = v
			g[i][k] = (lp - lm) / (2 * h)
		}
	}
	return g
}

// msAssertClose fails if some |got − want| > atol + rtol·|want|, with atol
// = rtol·1e-3·max|want| so that entries near zero are compared on the scale
// of the whole array.
func msAssertClose(t *testing.T, what string, got, want []float64, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var mx float64
	for _, v := range want {
		mx = math.Max(mx, math.Abs(v))
	}
	atol := rtol * (1e-3*mx + 1e-12)
	worst, at := 0.0, -1
	for i := range got {
		e := math.Abs(got[i]-want[i]) - (atol + rtol*math.Abs(want[i]))
		if !(e <= 0) && (at < 0 || e > worst || math.IsNaN(e)) {
			worst, at = e, i
		}
	}
	if at >= 0 {
		t.Errorf("%s: entry %d is %.12g, want %.12g (rtol %g); got %v want %v",
			what, at, got[at], want[at], rtol, got, want)
	}
}

// msCheckReferenceFD checks msReference's gradients with respect to f and W
// (and b for the linear heads) against central finite differences.
func msCheckReferenceFD(t *testing.T, f, w [][]float64, b []float64, y []int, h msRefHead) {
	t.Helper()
	ref := msReference(f, w, b, y, h)
	const step = 1e-6
	loss := func() float64 { return msReference(f, w, b, y, h).loss }
	// Central differences err by O(h²·L''') + O(ε_mach·L/h) ≈ 1e-9 here.
	msAssertClose(t, "reference ∂L/∂f vs finite differences", msFlat(ref.df), msFlat(msCentralDiff(f, step, loss)), 1e-6)
	msAssertClose(t, "reference ∂L/∂W vs finite differences", msFlat(ref.dW), msFlat(msCentralDiff(w, step, loss)), 1e-6)
	if ref.db != nil && b != nil {
		bm := [][]float64{b}
		msAssertClose(t, "reference ∂L/∂b vs finite differences", ref.db, msCentralDiff(bm, step, loss)[0], 1e-6)
	}
}

// msGraphOut is a loss evaluated by a gorgonia graph.
type msGraphOut struct {
	loss      float64
	df, dW    []float64
	db        []float64 // nil without head.bias
	learnable []core.NamedNode
}

// msEvalGraph builds l in a graph of dtype dt with emb and onehot as input
// nodes, sets head.weight to w (and head.bias to b when the loss has one and
// b is not nil), runs BeforeStep(iter), and returns the loss and its
// gradients by gorgonia.Grad and a tape machine.
func msEvalGraph(t *testing.T, l core.Loss, dt tensor.Dtype, iter int, f, w [][]float64, b []float64, y []int) msGraphOut {
	t.Helper()
	n, d, c := len(f), len(f[0]), len(w)
	g := G.NewGraph()
	emb := G.NewMatrix(g, dt, G.WithShape(n, d), G.WithName("emb"))
	onehot := G.NewMatrix(g, dt, G.WithShape(n, c), G.WithName("onehot"))
	cost, err := l.Build(g, emb, onehot, c)
	if err != nil {
		t.Fatalf("%s: Build: %v", l.Name(), err)
	}
	learn := l.Learnables()
	if len(learn) == 0 || learn[0].Name != "head.weight" {
		t.Fatalf("%s: learnables %v, want head.weight first", l.Name(), learn)
	}
	oh := msZeros(n, c)
	for i := range y {
		oh[i][y[i]] = 1
	}
	msLet(t, emb, dt, f)
	msLet(t, onehot, dt, oh)
	msLet(t, learn[0].Node, dt, w)
	wrt := G.Nodes{emb, learn[0].Node}
	if len(learn) > 1 {
		if b != nil {
			msLet(t, learn[1].Node, dt, [][]float64{b})
		}
		wrt = append(wrt, learn[1].Node)
	}
	grads, err := G.Grad(cost, wrt...)
	if err != nil {
		t.Fatalf("%s: Grad: %v", l.Name(), err)
	}
	if err := l.BeforeStep(iter); err != nil {
		t.Fatalf("%s: BeforeStep: %v", l.Name(), err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatalf("%s: RunAll: %v", l.Name(), err)
	}
	// The engine reads the loss as a scalar Value of the graph's dtype.
	switch cost.Value().(type) {
	case *G.F64:
		if dt != tensor.Float64 {
			t.Fatalf("%s: float32 graph gave a %T loss", l.Name(), cost.Value())
		}
	case *G.F32:
		if dt != tensor.Float32 {
			t.Fatalf("%s: float64 graph gave a %T loss", l.Name(), cost.Value())
		}
	default:
		t.Fatalf("%s: loss value is %T, want *gorgonia.F64 or *gorgonia.F32", l.Name(), cost.Value())
	}
	out := msGraphOut{loss: msNumber(t, cost.Value()), df: msFloats(t, grads[0].Value()),
		dW: msFloats(t, grads[1].Value()), learnable: learn}
	if len(grads) > 2 {
		out.db = msFloats(t, grads[2].Value())
	}
	return out
}

// msLet binds the rows m to node n as a tensor of dtype dt.
func msLet(t *testing.T, n *G.Node, dt tensor.Dtype, m [][]float64) {
	t.Helper()
	flat := msFlat(m)
	var v *tensor.Dense
	if dt == tensor.Float32 {
		f32 := make([]float32, len(flat))
		for i, x := range flat {
			f32[i] = float32(x)
		}
		v = tensor.New(tensor.WithShape(n.Shape().Clone()...), tensor.WithBacking(f32))
	} else {
		v = tensor.New(tensor.WithShape(n.Shape().Clone()...), tensor.WithBacking(flat))
	}
	if err := G.Let(n, v); err != nil {
		t.Fatalf("Let %v: %v", n, err)
	}
}

// msFloats returns the entries of v as float64.
func msFloats(t *testing.T, v G.Value) []float64 {
	t.Helper()
	switch d := v.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	}
	t.Fatalf("value %T is not a float slice", v.Data())
	return nil
}

// msNumber returns the scalar v as float64.
func msNumber(t *testing.T, v G.Value) float64 {
	t.Helper()
	x, err := ops.Scalar(v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// msRound32 returns m with every entry rounded to float32.
func msRound32(m [][]float64) [][]float64 {
	r := msClone(m)
	for _, row := range r {
		for k, v := range row {
			row[k] = float64(float32(v))
		}
	}
	return r
}

// msCheckLoss checks a loss end to end on a random batch (and on f, w, when
// given, e.g. to place a sample in a fallback region): the reference against
// finite differences, then the float64 graph against the reference within
// 1e-9 and the float32 graph within 1e-4.
func msCheckLoss(t *testing.T, cfg Config, iter int, h msRefHead, f, w [][]float64, b []float64, y []int) {
	t.Helper()
	msCheckReferenceFD(t, f, w, b, y, h)
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		l, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		rtol, ff, ww, bb := 1e-9, f, w, b
		if dt == tensor.Float32 {
			// Compare with the reference at the float32-rounded inputs.
			rtol, ff, ww = 1e-4, msRound32(f), msRound32(w)
			if b != nil {
				bb = msRound32([][]float64{b})[0]
			}
		}
		ref := msReference(ff, ww, bb, y, h)
		got := msEvalGraph(t, l, dt, iter, ff, ww, bb, y)
		name := cfg.Name + " " + dt.String()
		msAssertClose(t, name+" loss", []float64{got.loss}, []float64{ref.loss}, rtol)
		msAssertClose(t, name+" ∂L/∂emb", got.df, msFlat(ref.df), rtol)
		msAssertClose(t, name+" ∂L/∂head.weight", got.dW, msFlat(ref.dW), rtol)
		if (got.db != nil) != (ref.db != nil) {
			t.Errorf("%s: head.bias gradient %v, reference %v", name, got.db, ref.db)
		} else if got.db != nil {
			msAssertClose(t, name+" ∂L/∂head.bias", got.db, ref.db, rtol)
		}
	}
}

// msHandCase is a 2-D case on the unit circle with two class weights,
// W_0 = (1, 0) and W_1 = (0, 2) (not unit, to exercise the normalisation),
// one embedding f = r·(cos φ, sin φ) of class 0, so θ_0 = φ and
// θ_1 = |90° − φ|; the loss is softplus(z_1 − z_0), worked out by hand.
type msHandCase struct {
	name string
	phi  float64 // degrees
	r    float64 // ‖f‖; 0 means 1
	want float64
	tol  float64
}

// msCheckHandCases evaluates each case in a float64 graph of cfg.
func msCheckHandCases(t *testing.T, cfg Config, iter int, cases []msHandCase) {
	t.Helper()
	w := [][]float64{{1, 0}, {0, 2}}
	for _, tc := range cases {
		l, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := tc.r
		if r == 0 {
			r = 1
		}
		phi := tc.phi * math.Pi / 180
		f := [][]float64{{r * math.Cos(phi), r * math.Sin(phi)}}
		got := msEvalGraph(t, l, tensor.Float64, iter, f, w, nil, []int{0})
		if math.Abs(got.loss-tc.want) > tc.tol {
			t.Errorf("%s %s: loss %.12g, want %.12g (±%g)", cfg.Name, tc.name, got.loss, tc.want, tc.tol)
		}
	}
}

// msCheckDeriv checks a target transform's derivative against central
// differences of ψ at the cosines cs (away from its kinks).
func msCheckDeriv(t *testing.T, what string, m Margin, cs []float64) {
	t.Helper()
	const h = 1e-6
	for _, c := range cs {
		fd := (m.Target(c+h) - m.Target(c-h)) / (2 * h)
		if got := m.TargetDeriv(c); math.Abs(got-fd) > 1e-6*(1+math.Abs(fd)) {
			t.Errorf("%s: dψ/dc at c = %g is %.10g, finite difference %.10g", what, c, got, fd)
		}
	}
}

// msTrainCheck trains 20 free embeddings of dimension cfg.Dim from 4
// classes (5 each, standard normal start) with the loss for steps SGD steps,
// and checks that the loss fell by at least half and that at most maxWrong
// points end nearer another class weight than their own: by cosine for the
// normalised heads, by logit for softmax and l2softmax.
//
// At D = 2 a loss on normalised embeddings moves each point along its
// circle (the gradient is tangent to it), so a point that starts beyond
// another class cannot pass it and may stay trapped; an encoder has no such
// constraint. Tests ask for every point right at D = 3.
func msTrainCheck(t *testing.T, cfg Config, steps int, lr float64, maxWrong int) {
	t.Helper()
	const n, c = 20, 4
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Dim
	rng := rand.New(rand.NewSource(7))
	init := make([]float64, n*d)
	for i := range init {
		init[i] = rng.NormFloat64()
	}
	g := G.NewGraph()
	emb := G.NewMatrix(g, tensor.Float64, G.WithShape(n, d), G.WithName("points"),
		G.WithValue(tensor.New(tensor.WithShape(n, d), tensor.WithBacking(init))))
	onehot := G.NewMatrix(g, tensor.Float64, G.WithShape(n, c), G.WithName("onehot"))
	oh := msZeros(n, c)
	for i := range oh {
		oh[i][i%c] = 1
	}
	msLet(t, onehot, tensor.Float64, oh)
	cost, err := l.Build(g, emb, onehot, c)
	if err != nil {
		t.Fatal(err)
	}
	learn := G.Nodes{emb}
	for _, nn := range l.Learnables() {
		learn = append(learn, nn.Node)
	}
	if _, err := G.Grad(cost, learn...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(learn...))
	defer vm.Close()
	solver := G.NewVanillaSolver(G.WithLearnRate(lr))
	var first, last float64
	for it := 0; it < steps; it++ {
		if err := l.BeforeStep(it); err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		last = msNumber(t, cost.Value())
		if it == 0 {
			first = last
		}
		if err := solver.Step(G.NodesToValueGrads(learn)); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
	}
	if !(last < first/2) {
		t.Errorf("%s D=%d: loss %g after %d steps, from %g: want less than half", cfg.Name, d, last, steps, first)
	}
	pts := msRows(msFloats(t, emb.Value()), d)
	ws := msRows(msFloats(t, learn[1].Value()), d)
	var bias []float64
	if len(learn) > 2 {
		bias = msFloats(t, learn[2].Value())
	}
	alpha := l.Params()["alpha"]
	wrong := 0
	for i, p := range pts {
		score := func(j int) float64 {
			switch cfg.Name {
			case "softmax":
				return msDot(p, ws[j]) + bias[j]
			case "l2softmax":
				return msDot(p, ws[j])/math.Sqrt(msDot(p, p)) + bias[j]/alpha
			}
			return msDot(p, ws[j]) / math.Sqrt(msDot(ws[j], ws[j]))
		}
		for j := 0; j < c; j++ {
			if j != i%c && score(j) >= score(i%c) {
				wrong++
				break
			}
		}
	}
	if wrong > maxWrong {
		t.Errorf("%s D=%d: %d of %d points nearer another class weight after %d steps (loss %g from %g), want at most %d",
			cfg.Name, d, wrong, n, steps, last, first, maxWrong)
	}
	t.Logf("%s D=%d: loss %.4g → %.4g in %d steps, %d of %d points misplaced", cfg.Name, d, first, last, steps, wrong, n)
}

func msRows(v []float64, d int) [][]float64 {
	var m [][]float64
	for i := 0; i < len(v); i += d {
		m = append(m, v[i:i+d])
	}
	return m
}

// msParamCase is one Config given to New and the error it must give
// (a substring), or "" for none.
type msParamCase struct {
	name    string
	values  map[string]float64
	wantErr string
}

// msCheckParams runs New on each case for loss at D = 8.
func msCheckParams(t *testing.T, loss string, cases []msParamCase) {
	t.Helper()
	for _, tc := range cases {
		l, err := New(Config{Name: loss, Dim: 8, Values: tc.values})
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s %s: unexpected error %v", loss, tc.name, err)
		case tc.wantErr == "":
			for k, v := range tc.values {
				if got := l.Params()[k]; got != v {
					t.Errorf("%s %s: Params()[%q] = %g, want %g", loss, tc.name, k, got, v)
				}
			}
		case err == nil:
			t.Errorf("%s %s: no error, want one containing %q", loss, tc.name, tc.wantErr)
		case !strings.Contains(err.Error(), tc.wantErr):
			t.Errorf("%s %s: error %q, want one containing %q", loss, tc.name, err, tc.wantErr)
		}
	}
}
