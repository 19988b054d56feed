package core

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core/msg"
	"metriclab/core/ops"
	"metriclab/core/vec"
)

// The crop of a Spec: an encoder that looks at one part of its input image
// (the upper or lower half of a face, as DeepID's encoders each look at a
// patch, Sun et al. 2014). Encoders of different parts make different
// mistakes, so an ensemble of them (eval.Concat) verifies better than any
// one of them.

// Crop is a window of an image: fractions x0, y0, x1, y1 of its width and
// height; the zero Crop is none (the whole image). It is the wire type
// msg.Crop (a training request carries it), declared once there.
type Crop = msg.Crop

// Crops are the named windows of --crop.
var Crops = msg.Crops

// cropWindow returns the pixels of the crop c of an h×w image: rows
// [r0, r1) and columns [c0, c1), each end rounded to the nearest pixel.
func cropWindow(c Crop, h, w int) (r0, r1, c0, c1 int) {
	at := func(f float64, n int) int { return int(math.Round(f * float64(n))) }
	return at(c[1], h), at(c[3], h), at(c[0], w), at(c[2], w)
}

// validateCrop checks a Spec.Crop for an h×w input: four fractions x0, y0,
// x1, y1 with 0 ≤ x0 < x1 ≤ 1 and 0 ≤ y0 < y1 ≤ 1, whose window is at
// least 2 pixels a side.
func validateCrop(c Crop, h, w int) error {
	for _, f := range c {
		if !(f >= 0 && f <= 1) {
			return fmt.Errorf("crop %v: fractions must be in [0, 1]", c)
		}
	}
	if c[0] >= c[2] || c[1] >= c[3] {
		return fmt.Errorf("crop %v: want x0 < x1 and y0 < y1", c)
	}
	if r0, r1, c0, c1 := cropWindow(c, h, w); r1-r0 < 2 || c1-c0 < 2 {
		return fmt.Errorf("crop %v of a %d×%d input is %d×%d pixels: want at least 2×2", c, h, w, r1-r0, c1-c0)
	}
	return nil
}

// cropImages writes into dst, for each of the n·ch planes of x (each h×w),
// the window of crop c resampled back to h×w by vec.ResizeTo (bilinear up,
// area average down). It is the plain reference; the resampling is linear
// with weights that sum to 1, so it commutes with the input's
// normalisation.
func cropImages(dst, x []float32, n, ch, h, w int, c Crop) {
	r0, r1, c0, c1 := cropWindow(c, h, w)
	wh, ww := r1-r0, c1-c0
	win := make([]float32, wh*ww)
	out := make([]float32, 0, h*w)
	for p := range n * ch {
		plane := x[p*h*w : (p+1)*h*w]
		for y := range wh {
			copy(win[y*ww:(y+1)*ww], plane[(r0+y)*w+c0:(r0+y)*w+c1])
		}
		out = vec.ResizeTo(out[:0], win, 1, wh, ww, h, w)
		copy(dst[p*h*w:(p+1)*h*w], out)
	}
}

// cropOp is the crop of an encoder's N×C×H×W input, resampled back to H×W
// (cropImages). It needs no gradient: it is applied to the images, before
// any parameter.
type cropOp struct {
	ops.Base
	crop Crop
	y    ops.Buf
	f32  []float32 // scratch for float64 inputs
}

func applyCrop(x *G.Node, crop Crop) (*G.Node, error) {
	op := &cropOp{crop: crop}
	op.Key = fmt.Sprintf("crop%v", crop)
	return G.ApplyOp(op, x)
}

func (op *cropOp) Arity() int    { return 1 }
func (op *cropOp) Type() hm.Type { return ops.FnType(4, 4) }
func (op *cropOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := ops.ShapeOf(in, 0)
	if err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

func (op *cropOp) Do(in ...G.Value) (G.Value, error) {
	x := ops.Dense(in[0])
	s := x.Shape()
	if len(s) != 4 {
		return nil, fmt.Errorf("core: crop wants an N×C×H×W input, got %v", s)
	}
	y := op.y.Get(x.Dtype(), s)
	switch x.Dtype() {
	case tensor.Float32:
		cropImages(op.y.F32, x.Float32s(), s[0], s[1], s[2], s[3], op.crop)
	default: // float64 graphs (the gradient checks): through float32, as images are
		xs := x.Float64s()
		if cap(op.f32) < 2*len(xs) {
			op.f32 = make([]float32, 2*len(xs))
		}
		src, dst := op.f32[:len(xs)], op.f32[len(xs):2*len(xs)]
		for i, v := range xs {
			src[i] = float32(v)
		}
		cropImages(dst, src, s[0], s[1], s[2], s[3], op.crop)
		for i, v := range dst {
			op.y.F64[i] = float64(v)
		}
	}
	return y, nil
}

// DiffWRT says the crop's input needs no gradient: it is the images.
func (op *cropOp) DiffWRT(int) []bool { return []bool{false} }

// SymDiff is never asked for a gradient (DiffWRT); it gives none.
func (op *cropOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return G.Nodes{nil}, nil
}

var _ G.SDOp = (*cropOp)(nil)
