package core

import (
	"fmt"
	"runtime"
	"sort"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core/ops"
	"metriclab/core/par"
)

// Encoder computes embeddings with a trained encoder: a float32 graph of a
// fixed batch, without gradients, built once and run for every chunk. An
// Encoder is not safe for concurrent use.
type Encoder struct {
	spec   Spec
	batch  int
	vm     G.VM
	x      []float32 // backing array of the graph's input, batch×Ch×H×W
	embVal G.Value   // the embeddings of the last run, batch×D

	mirrored []float32 // FlipTest: the mirrored images of a chunk
	flipped  []float32 // FlipTest: the embeddings of the mirrored images

	views   []*Encoder // Spec.Views: an encoder per view, and no graph of its own
	viewEmb []float32  // Spec.Views: the embeddings of one view
}

// NewEncoder builds the inference graph of spec with the given parameters
// (copied) for chunks of batch images. params must hold every encoder.*
// parameter of spec.ParamShapes() with its shape; names outside encoder.*
// (head.*) are ignored. With Views, it builds an encoder per view from
// the parameters under the view's prefix (views.<i>.encoder.*, and
// views.<i>.head.* ignored).
func NewEncoder(spec Spec, params map[string]Tensor, batch int) (*Encoder, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if batch < 1 {
		return nil, fmt.Errorf("encoder batch %d: want ≥ 1", batch)
	}
	if len(spec.Views) > 0 {
		return newViewsEncoder(spec, params, batch)
	}
	layout := spec.layout()
	want := make(map[string]bool, len(layout))
	for _, p := range layout {
		want[p.name] = true
	}
	var unknown []string
	for name := range params {
		if strings.HasPrefix(name, "encoder.") && !want[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("%s encoder has no parameters %s", spec.Arch, strings.Join(unknown, ", "))
	}

	g := G.NewGraph()
	in := spec.Input
	xv := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(batch, in.Channels, in.Height, in.Width))
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(batch, in.Channels, in.Height, in.Width), G.WithName("x"), G.WithValue(xv))
	nodes := make(map[string]*G.Node, len(layout))
	for _, p := range layout {
		v, ok := params[p.name]
		if !ok {
			return nil, fmt.Errorf("%s encoder: missing parameter %s %v", spec.Arch, p.name, p.shape)
		}
		if err := checkTensor(p.name, v, p.shape); err != nil {
			return nil, fmt.Errorf("%s encoder: %w", spec.Arch, err)
		}
		d := append([]float32(nil), v.Data...)
		nodes[p.name] = G.NewTensor(g, tensor.Float32, len(p.shape), G.WithShape(p.shape...), G.WithName(p.name),
			G.WithValue(tensor.New(tensor.WithShape(p.shape...), tensor.WithBacking(d))))
	}
	emb, err := spec.encoderForward(x, nodes, false)
	if err != nil {
		return nil, fmt.Errorf("building %s encoder: %w", spec.Arch, err)
	}
	e := &Encoder{spec: spec, batch: batch, x: xv.Data().([]float32)}
	G.Read(emb, &e.embVal)
	e.vm = newTapeMachine(g)
	pool := par.NewPool(0)
	ops.UsePool(g, pool)
	runtime.AddCleanup(e, (*par.Pool).Close, pool)
	return e, nil
}

// Spec returns the encoder's spec.
func (e *Encoder) Spec() Spec { return e.spec }

// Embed writes the N×D embeddings of n images into dst and returns it: x
// holds n·Ch·H·W raw pixels in [0,1]. dst is allocated when nil or shorter
// than n·D. The images go through the graph in chunks of the encoder's
// batch; the last chunk is padded with zeros (after normalisation), whose
// embeddings are dropped. With Spec.FlipTest the embedding of image x is
//
//	e(x) = ½ (f(x) + f(mirror(x))),
//
// f the graph's output and mirror the left–right mirror (MirrorTo); as in
// InsightFace the outputs are averaged before any normalisation, which the
// metric (cosine) does. With Spec.Views, an embedding is EmbedDim wide:
// the views' embeddings, each scaled to length 1/√V, side by side.
func (e *Encoder) Embed(dst []float32, x []float32, n int) ([]float32, error) {
	if e.views != nil {
		return e.embedViews(dst, x, n)
	}
	dst, err := e.embed(dst, x, n, false)
	if err != nil || !e.spec.FlipTest {
		return dst, err
	}
	if e.flipped, err = e.embed(e.flipped, x, n, true); err != nil {
		return dst, err
	}
	for i, v := range e.flipped[:len(dst)] {
		dst[i] = (dst[i] + v) / 2
	}
	return dst, nil
}

// embed is Embed without the flip test: the graph's outputs for the n
// images of x, or for their mirrors when mirror is set.
func (e *Encoder) embed(dst []float32, x []float32, n int, mirror bool) ([]float32, error) {
	size, d := e.spec.Input.Size(), e.spec.Dim
	if n < 0 || len(x) != n*size {
		panic(fmt.Sprintf("core: Encoder.Embed: %d pixels for %d images of %d", len(x), n, size))
	}
	if len(dst) < n*d {
		dst = make([]float32, n*d)
	}
	dst = dst[:n*d]
	in := e.spec.Input
	for start := 0; start < n; start += e.batch {
		m := min(e.batch, n-start)
		chunk := x[start*size : (start+m)*size]
		if mirror {
			e.mirrored = MirrorTo(e.mirrored, chunk, in)
			chunk = e.mirrored
		}
		normaliseTo(e.x[:m*size], chunk, in.Mean, in.Std)
		clear(e.x[m*size:])
		err := e.vm.RunAll()
		e.vm.Reset()
		if err != nil {
			return dst, fmt.Errorf("embedding images %d..%d: %w", start, start+m-1, err)
		}
		out, ok := e.embVal.Data().([]float32)
		if !ok || len(out) != e.batch*d {
			return dst, fmt.Errorf("embedding images %d..%d: output %v, want %d×%d float32", start, start+m-1, e.embVal.Shape(), e.batch, d)
		}
		copy(dst[start*d:(start+m)*d], out[:m*d])
	}
	return dst, nil
}

// MirrorTo writes into dst (reused when large enough) the left–right mirror
// images of the images in src, each of shape in: pixel (c, y, x) comes
// from (c, y, W−1−x). It returns dst, and panics when len(src) is not a
// multiple of in.Size().
func MirrorTo(dst, src []float32, in Input) []float32 {
	w := in.Width
	if in.Size() == 0 || len(src)%in.Size() != 0 {
		panic(fmt.Sprintf("core: MirrorTo: %d values for images of %d×%d×%d", len(src), in.Channels, in.Height, in.Width))
	}
	if cap(dst) < len(src) {
		dst = make([]float32, len(src))
	}
	dst = dst[:len(src)]
	for r := 0; r < len(src); r += w {
		row, out := src[r:r+w], dst[r:r+w]
		for x, v := range row {
			out[w-1-x] = v
		}
	}
	return dst
}
