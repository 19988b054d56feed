package core

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fastConv2d is a 2-D convolution with stride 1, zero padding pad on every
// side and a bias per output channel, as layers.go's conv2d:
//
//	y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v] · x[n,c,i+u−pad,j+v−pad]
//
// x is N×Ci×H×W, w is Co×Ci×K×K, b is Co; y is N×Co×Ho×Wo with
// Ho = H+2pad−K+1, Wo = W+2pad−K+1.
//
// In float32 each image is one matrix product y[n] = w·col[n] (Co×Q · Q×P,
// Q = Ci·K·K, P = Ho·Wo) over its im2col matrix col[n]; the gradients are
// dw = Σ_n dy[n]·col[n]ᵀ, db = Σ dy and dx = col2im(wᵀ·dy[n]). All but dx,
// the products read col[n] straight from the (zero-bordered copy of the)
// image through convTables, except the forward product when Wo is not a
// multiple of 4, which writes col[n] out one image at a time. Nothing is kept
// between the forward and backward ops.
func fastConv2d(x, w, b *G.Node, pad int) (*G.Node, error) {
	if err := checkConvArgs(x, w, b, pad); err != nil {
		return nil, err
	}
	return G.ApplyOp(&convOp{pad: pad}, x, w, b)
}

// checkConvArgs returns an error unless x, w, b and pad fit fastConv2d.
func checkConvArgs(x, w, b *G.Node, pad int) error {
	if x.Dims() != 4 || w.Dims() != 4 || b.Dims() != 1 {
		return fmt.Errorf("core: fastConv2d wants x N×Ci×H×W, w Co×Ci×K×K, b Co; got %v, %v, %v", x.Shape(), w.Shape(), b.Shape())
	}
	xs, ws := x.Shape(), w.Shape()
	if ws[1] != xs[1] || ws[2] != ws[3] || b.Shape()[0] != ws[0] || pad < 0 {
		return fmt.Errorf("core: fastConv2d shapes x %v, w %v, b %v, pad %d do not fit", xs, ws, b.Shape(), pad)
	}
	if xs[2]+2*pad < ws[2] || xs[3]+2*pad < ws[3] {
		return fmt.Errorf("core: fastConv2d kernel %v larger than padded input %v", ws, xs)
	}
	return nil
}

// convGeom is the geometry of one convolution.
type convGeom struct {
	n, ci, h, w  int // input N×Ci×H×W
	co, k, pad   int // Co output channels, K×K kernel
	ho, wo, p, q int // output Ho×Wo, P = Ho·Wo, Q = Ci·K·K
}

func newConvGeom(x, w tensor.Shape, pad int) convGeom {
	g := convGeom{n: x[0], ci: x[1], h: x[2], w: x[3], co: w[0], k: w[2], pad: pad}
	g.ho, g.wo = g.h+2*pad-g.k+1, g.w+2*pad-g.k+1
	g.p, g.q = g.ho*g.wo, g.ci*g.k*g.k
	return g
}

func (g convGeom) outShape() tensor.Shape { return tensor.Shape{g.n, g.co, g.ho, g.wo} }

// convTables are the offsets of the implicit im2col of a convolution:
// col[q, p] = xp[q_off[q] + pos[p]] within one image, with
//
//	q_off[(c·K+u)·K+v] = c·Hp·Wp + u·Wp + v,   pos[i·Wo+j] = i·Wp + j,
//
// where xp is the image itself without padding, or a Ci×Hp×Wp copy with a
// zero border of width pad (Hp = H+2pad, Wp = W+2pad). The products read
// xp through them (bMat gather forms) instead of writing col out. The
// weight gradient always can; the forward product needs Wo to be a
// multiple of 4, so that four consecutive output positions are four
// consecutive pixels (forwardOK).
type convTables struct {
	g         convGeom
	qOff, pos []int32
	xp        []float32 // scratch: the padded image; its border stays zero
}

// build makes the tables of g, unless they already are.
func (t *convTables) build(g convGeom) {
	if t.qOff != nil && t.g == g {
		return
	}
	t.g = g
	hp, wp := g.h+2*g.pad, g.w+2*g.pad
	t.qOff, t.pos = make([]int32, 0, g.q), make([]int32, 0, g.p)
	for c := 0; c < g.ci; c++ {
		for u := 0; u < g.k; u++ {
			for v := 0; v < g.k; v++ {
				t.qOff = append(t.qOff, int32(c*hp*wp+u*wp+v))
			}
		}
	}
	for i := 0; i < g.ho; i++ {
		for j := 0; j < g.wo; j++ {
			t.pos = append(t.pos, int32(i*wp+j))
		}
	}
	t.xp = nil
	if g.pad > 0 {
		t.xp = make([]float32, g.ci*hp*wp)
	}
}

// forwardOK reports whether the forward product of g can read the image.
func (t *convTables) forwardOK(g convGeom) bool { return g.wo%4 == 0 }

// image returns the Ci×H×W image x as the tables address it: x itself, or
// its copy into the zero-bordered scratch. build must have run.
func (t *convTables) image(x []float32) []float32 {
	g := t.g
	if g.pad == 0 {
		return x
	}
	hp, wp := g.h+2*g.pad, g.w+2*g.pad
	for c := 0; c < g.ci; c++ {
		for r := 0; r < g.h; r++ {
			copy(t.xp[(c*hp+r+g.pad)*wp+g.pad:][:g.w], x[(c*g.h+r)*g.w:][:g.w])
		}
	}
	return t.xp
}

// convOp computes y = conv(x, w) + b.
type convOp struct {
	fastOpBase
	pad int
	y   fastBuf
	tab convTables
	col []float32 // scratch: one image's im2col matrix, Q×P, when Wo is not a multiple of 4
}

func (op *convOp) Arity() int    { return 3 }
func (op *convOp) Type() hm.Type { return fnType(4, 4, 1, 4) }
func (op *convOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x, err := shapeOf(in, 0)
	if err != nil {
		return nil, err
	}
	w, err := shapeOf(in, 1)
	if err != nil {
		return nil, err
	}
	return newConvGeom(x, w, op.pad).outShape(), nil
}
func (op *convOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fastConv2d pad %d", op.pad) }
func (op *convOp) Hashcode() uint32      { return hashOp(op) }
func (op *convOp) String() string        { return fmt.Sprintf("fastConv2d(pad %d)", op.pad) }

func (op *convOp) Do(in ...G.Value) (G.Value, error) {
	x, w, b := fastDense(in[0]), fastDense(in[1]), fastDense(in[2])
	g := newConvGeom(x.Shape(), w.Shape(), op.pad)
	y := op.y.get(x.Dtype(), g.outShape())
	switch x.Dtype() {
	case tensor.Float32:
		xs, ws, bs, ys := x.Float32s(), w.Float32s(), b.Float32s(), op.y.f32
		for i := 0; i < g.n; i++ {
			conv32Image(ys[i*g.co*g.p:(i+1)*g.co*g.p], xs[i*g.ci*g.h*g.w:(i+1)*g.ci*g.h*g.w], ws, bs, g, &op.tab, &op.col)
		}
	default:
		convRefTo(op.y.f64, x.Float64s(), w.Float64s(), b.Float64s(), g)
	}
	return y, nil
}

func (op *convOp) DiffWRT(int) []bool { return []bool{true, true, true} }
func (op *convOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&convBackXOp{pad: op.pad, x: in[0].Shape().Clone(), xNode: in[0]}, dy, in[1])
	if err != nil {
		return nil, err
	}
	dw, err := G.ApplyOp(&convBackWOp{pad: op.pad, w: in[1].Shape().Clone()}, in[0], dy)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(&biasBackOp{dims: 4}, dy)
	return G.Nodes{dx, dw, db}, err
}

// conv32Image writes the Co×P output y = w·col + b of one Ci×H×W image x,
// reading col through tab where it applies and through the scratch *col
// otherwise.
func conv32Image(y, x, w, b []float32, g convGeom, tab *convTables, col *[]float32) {
	for o := 0; o < g.co; o++ {
		row := y[o*g.p : (o+1)*g.p]
		for j := range row {
			row[j] = b[o]
		}
	}
	if tab.forwardOK(g) {
		tab.build(g)
		gemm32(true, g.co, g.p, g.q, w, g.q, bMat{data: tab.image(x), rowOff: tab.qOff, colOff: tab.pos}, y, g.p)
		return
	}
	c := scratch32(col, g.q*g.p)
	im2colTo(c, x, g)
	gemmNN32(true, g.co, g.p, g.q, w, g.q, c, g.p, y, g.p)
}

// convRefTo is the slow reference of the forward convolution: direct loops,
// sums in float64.
func convRefTo[T float32 | float64](y, x, w, b []T, g convGeom) {
	for n := 0; n < g.n; n++ {
		for o := 0; o < g.co; o++ {
			for i := 0; i < g.ho; i++ {
				for j := 0; j < g.wo; j++ {
					s := float64(b[o])
					for c := 0; c < g.ci; c++ {
						for u := 0; u < g.k; u++ {
							r := i + u - g.pad
							if r < 0 || r >= g.h {
								continue
							}
							for v := 0; v < g.k; v++ {
								cc := j + v - g.pad
								if cc < 0 || cc >= g.w {
									continue
								}
								s += float64(w[((o*g.ci+c)*g.k+u)*g.k+v]) * float64(x[((n*g.ci+c)*g.h+r)*g.w+cc])
							}
						}
					}
					y[((n*g.co+o)*g.ho+i)*g.wo+j] = T(s)
				}
			}
		}
	}
}

// im2colTo writes the Q×P im2col matrix of one Ci×H×W image x:
//
//	col[(c·K+u)·K+v, i·Wo+j] = x[c, i+u−pad, j+v−pad]   (0 outside the image)
//
// Each row is Ho shifted, clipped copies of image rows (plain loops: rows
// are short, and under wasm copy and clear are calls).
func im2colTo[T float32 | float64](col, x []T, g convGeom) {
	col = col[:g.q*g.p]
	for c := 0; c < g.ci; c++ {
		img := x[c*g.h*g.w : (c+1)*g.h*g.w]
		for u := 0; u < g.k; u++ {
			for v := 0; v < g.k; v++ {
				row := col[((c*g.k+u)*g.k+v)*g.p:][:g.p]
				// output columns j with 0 ≤ j+v−pad < W
				j0, j1 := max(0, g.pad-v), min(g.wo, g.w+g.pad-v)
				for i := 0; i < g.ho; i++ {
					dst := row[i*g.wo : (i+1)*g.wo]
					r := i + u - g.pad
					if r < 0 || r >= g.h || j0 >= j1 {
						for j := range dst {
							dst[j] = 0
						}
						continue
					}
					for j := 0; j < j0; j++ {
						dst[j] = 0
					}
					src := img[r*g.w+j0+v-g.pad:][:j1-j0]
					d := dst[j0:j1]
					for j, s := range src {
						d[j] = s
					}
					for j := j1; j < len(dst); j++ {
						dst[j] = 0
					}
				}
			}
		}
	}
}

// col2imAddTo adds the Q×P column matrix col back into the Ci×H×W image dx,
// the adjoint of im2colTo.
func col2imAddTo[T float32 | float64](dx, col []T, g convGeom) {
	col = col[:g.q*g.p]
	for c := 0; c < g.ci; c++ {
		img := dx[c*g.h*g.w : (c+1)*g.h*g.w]
		for u := 0; u < g.k; u++ {
			for v := 0; v < g.k; v++ {
				row := col[((c*g.k+u)*g.k+v)*g.p:][:g.p]
				j0, j1 := max(0, g.pad-v), min(g.wo, g.w+g.pad-v)
				if j0 >= j1 {
					continue
				}
				for i := 0; i < g.ho; i++ {
					r := i + u - g.pad
					if r < 0 || r >= g.h {
						continue
					}
					src := row[i*g.wo+j0 : i*g.wo+j1]
					dst := img[r*g.w+j0+v-g.pad:][:len(src)]
					for j, s := range src {
						dst[j] += s
					}
				}
			}
		}
	}
}

// convBackXOp computes the input gradient dx[n] = col2im(wᵀ·dy[n]).
//
// When the forward input has no derivative node after gorgonia.Grad (it is
// not on a path to any node the gradient was asked for: the image batch of
// the first layer), nobody reads dx and the op only zeroes it, skipping the
// products.
type convBackXOp struct {
	fastOpBase
	pad   int
	x     tensor.Shape // shape of the forward input
	xNode *G.Node      // the forward input, to see whether its gradient is wanted
	dx    fastBuf
	wT    []float32 // scratch: wᵀ, Q×Co
	col   []float32 // scratch: one image's column gradient, Q×P
}

func (op *convBackXOp) Arity() int    { return 2 }
func (op *convBackXOp) Type() hm.Type { return fnType(4, 4, 4) }
func (op *convBackXOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.x.Clone(), nil
}
func (op *convBackXOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "fastConv2dBackX pad %d %v", op.pad, op.x)
}
func (op *convBackXOp) Hashcode() uint32 { return hashOp(op) }
func (op *convBackXOp) String() string   { return fmt.Sprintf("fastConv2dBackX(pad %d)", op.pad) }

func (op *convBackXOp) Do(in ...G.Value) (G.Value, error) {
	dy, w := fastDense(in[0]), fastDense(in[1])
	g := newConvGeom(op.x, w.Shape(), op.pad)
	dx := op.dx.get(dy.Dtype(), op.x)
	if op.xNode != nil && op.xNode.Deriv() == nil {
		dx.Zero()
		return dx, nil
	}
	switch dy.Dtype() {
	case tensor.Float32:
		wT := scratch32(&op.wT, g.q*g.co)
		transposeTo(wT, w.Float32s(), g.co, g.q)
		col := scratch32(&op.col, g.q*g.p)
		dys, dxs := dy.Float32s(), op.dx.f32
		clear(dxs)
		for i := 0; i < g.n; i++ {
			gemmNN32(false, g.q, g.p, g.co, wT, g.co, dys[i*g.co*g.p:(i+1)*g.co*g.p], g.p, col, g.p)
			col2imAddTo(dxs[i*g.ci*g.h*g.w:(i+1)*g.ci*g.h*g.w], col, g)
		}
	default:
		convBackXRefTo(op.dx.f64, dy.Float64s(), w.Float64s(), g)
	}
	return dx, nil
}

// convBackXRefTo is the slow reference of the input gradient,
//
//	dx[n,c,r,s] = Σ_{o,u,v} w[o,c,u,v] · dy[n,o,r−u+pad,s−v+pad],
//
// with sums in float64.
func convBackXRefTo[T float32 | float64](dx, dy, w []T, g convGeom) {
	for n := 0; n < g.n; n++ {
		for c := 0; c < g.ci; c++ {
			for r := 0; r < g.h; r++ {
				for s := 0; s < g.w; s++ {
					var acc float64
					for o := 0; o < g.co; o++ {
						for u := 0; u < g.k; u++ {
							i := r - u + g.pad
							if i < 0 || i >= g.ho {
								continue
							}
							for v := 0; v < g.k; v++ {
								j := s - v + g.pad
								if j < 0 || j >= g.wo {
									continue
								}
								acc += float64(w[((o*g.ci+c)*g.k+u)*g.k+v]) * float64(dy[((n*g.co+o)*g.ho+i)*g.wo+j])
							}
						}
					}
					dx[((n*g.ci+c)*g.h+r)*g.w+s] = T(acc)
				}
			}
		}
	}
}

// convBackWOp computes the filter gradient dw = Σ_n dy[n]·col[n]ᵀ.
type convBackWOp struct {
	fastOpBase
	pad int
	w   tensor.Shape // shape of the filter
	dw  fastBuf
	tab convTables
}

func (op *convBackWOp) Arity() int    { return 2 }
func (op *convBackWOp) Type() hm.Type { return fnType(4, 4, 4) }
func (op *convBackWOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.w.Clone(), nil
}
func (op *convBackWOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "fastConv2dBackW pad %d %v", op.pad, op.w)
}
func (op *convBackWOp) Hashcode() uint32 { return hashOp(op) }
func (op *convBackWOp) String() string   { return fmt.Sprintf("fastConv2dBackW(pad %d)", op.pad) }

func (op *convBackWOp) Do(in ...G.Value) (G.Value, error) {
	x, dy := fastDense(in[0]), fastDense(in[1])
	g := newConvGeom(x.Shape(), op.w, op.pad)
	dw := op.dw.get(x.Dtype(), op.w)
	switch x.Dtype() {
	case tensor.Float32:
		xs, dys, dws := x.Float32s(), dy.Float32s(), op.dw.f32
		op.tab.build(g)
		for i := 0; i < g.n; i++ {
			xi := op.tab.image(xs[i*g.ci*g.h*g.w : (i+1)*g.ci*g.h*g.w])
			dyi := dys[i*g.co*g.p : (i+1)*g.co*g.p]
			gemm32(i > 0, g.co, g.q, g.p, dyi, g.p, bMat{data: xi, trans: true, rowOff: op.tab.qOff, colOff: op.tab.pos}, dws, g.q)
		}
	default:
		convBackWRefTo(op.dw.f64, x.Float64s(), dy.Float64s(), g)
	}
	return dw, nil
}

// convBackWRefTo is the slow reference of the filter gradient,
//
//	dw[o,c,u,v] = Σ_{n,i,j} dy[n,o,i,j] · x[n,c,i+u−pad,j+v−pad],
//
// with sums in float64.
func convBackWRefTo[T float32 | float64](dw, x, dy []T, g convGeom) {
	for o := 0; o < g.co; o++ {
		for c := 0; c < g.ci; c++ {
			for u := 0; u < g.k; u++ {
				for v := 0; v < g.k; v++ {
					var acc float64
					for n := 0; n < g.n; n++ {
						for i := 0; i < g.ho; i++ {
							r := i + u - g.pad
							if r < 0 || r >= g.h {
								continue
							}
							for j := 0; j < g.wo; j++ {
								s := j + v - g.pad
								if s < 0 || s >= g.w {
									continue
								}
								acc += float64(dy[((n*g.co+o)*g.ho+i)*g.wo+j]) * float64(x[((n*g.ci+c)*g.h+r)*g.w+s])
							}
						}
					}
					dw[((o*g.ci+c)*g.k+u)*g.k+v] = T(acc)
				}
			}
		}
	}
}
