package core

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"metriclab/core/msg"
	"metriclab/core/vec"
)

// An encoder of views (Spec.Views) is an ensemble in one model: encoders
// of the same recipe that each look at a window of the image, the whole
// face and its upper and lower parts, say. Trained on their own, parts
// make mistakes that the whole does not, so the ensemble verifies better
// than any of them (the README's "Ensembles of parts"). The views share
// nothing but their batches: each has its encoder, its head and its loss,
// and NewViews steps them one after the other, so a model of views is
// the models of its views, trained alone on the same batches, side by
// side.

// ValidateTraining reports whether s describes an encoder to train:
// Validate's checks, and views that each look at a window of their own.
// Views trained side by side on the same batches from the same seed
// would learn the same encoder twice; a model file may still repeat a
// window, in the views of models trained apart and joined (JoinModels).
func (s Spec) ValidateTraining() error {
	if err := s.Validate(); err != nil {
		return err
	}
	return s.distinctViews()
}

// validateViews checks s.Views (see Spec.Validate).
func (s Spec) validateViews() error {
	if len(s.Views) == 0 {
		return nil
	}
	if len(s.Views) < 2 || len(s.Views) > msg.MaxViews {
		return fmt.Errorf("%d views: want 2 to %d (one window is a crop)", len(s.Views), msg.MaxViews)
	}
	if s.Crop != (Crop{}) {
		return errors.New("a crop and views: give the windows as views")
	}
	for i, c := range s.Views {
		if c == (Crop{}) {
			continue
		}
		if err := validateCrop(c, s.Input.Height, s.Input.Width); err != nil {
			return fmt.Errorf("view %d: %v", i, err)
		}
	}
	return nil
}

// distinctViews checks that s's views, valid ones, look at windows of
// their own pixels.
func (s Spec) distinctViews() error {
	in := s.Input
	pixels := make([][4]int, len(s.Views)) // rows and columns of each window; the zero Crop is the whole image
	for i, c := range s.Views {
		pixels[i] = [4]int{0, in.Height, 0, in.Width}
		if c != (Crop{}) {
			r0, r1, c0, c1 := cropWindow(c, in.Height, in.Width)
			pixels[i] = [4]int{r0, r1, c0, c1}
		}
		for j := range i {
			if pixels[j] == pixels[i] {
				return fmt.Errorf("view %d (%s) repeats view %d (%s) at %d×%d: every view looks at a window of its own",
					i, msg.ViewName(c), j, msg.ViewName(s.Views[j]), in.Height, in.Width)
			}
		}
	}
	return nil
}

// viewOf splits a parameter name of a model of views into its view and
// its name within the view ("views.1.encoder.fc1.weight" is view 1's
// "encoder.fc1.weight"); ok is false for a name of no view below n.
func viewOf(name string, n int) (view int, rest string, ok bool) {
	s, found := strings.CutPrefix(name, "views.")
	if !found {
		return 0, "", false
	}
	num, rest, found := strings.Cut(s, ".")
	v, err := strconv.Atoi(num)
	if !found || err != nil || v < 0 || v >= n || strconv.Itoa(v) != num {
		return 0, "", false
	}
	return v, rest, true
}

// splitViews splits the parameters of a model of n views by view, their
// names without the view's prefix. A name of no view is an error.
func splitViews(p map[string]Tensor, n int) ([]map[string]Tensor, error) {
	out := make([]map[string]Tensor, n)
	for i := range out {
		out[i] = make(map[string]Tensor)
	}
	for _, name := range slices.Sorted(maps.Keys(p)) { // the first name of no view, in order
		v, rest, ok := viewOf(name, n)
		if !ok {
			return nil, fmt.Errorf("parameter %s is of no view (want views.0. to views.%d.)", name, n-1)
		}
		out[v][rest] = p[name]
	}
	return out, nil
}

// joinViews is the inverse of splitViews.
func joinViews(views []map[string]Tensor) map[string]Tensor {
	out := make(map[string]Tensor)
	for i, p := range views {
		for name, t := range p {
			out[ViewPrefix(i)+name] = t
		}
	}
	return out
}

// placeViews writes the embeddings of view i of n images, each D wide,
// into the rows of dst, each V·D wide: row r of the view, scaled to
// length 1/√V, goes to columns [i·D, (i+1)·D) of row r (a zero row stays
// zero). So the cosine of two rows of dst is the mean of the views'
// cosines (eval.Concat, for embeddings in memory).
func placeViews(dst, view []float32, n, d, i, v int) {
	w := v * d
	scale := 1 / math.Sqrt(float64(v))
	for r := range n {
		vec.ScaleTo(dst[r*w+i*d:r*w+(i+1)*d], view[r*d:(r+1)*d], scale)
	}
}

// viewsEngine is the engine of a spec with views (NewViews).
type viewsEngine struct {
	spec    Spec
	engines []Engine
}

// shardedViews is a viewsEngine whose engines all split steps (Sharded).
type shardedViews struct{ viewsEngine }

// NewViews returns the training engine of spec, a spec with views: one
// engine of newEngine per view, for spec.View(i) with losses[i] (a loss
// of its own: losses keep their nodes and schedules) and cfg, all started
// from cfg.Seed. A step steps every view on the batch, in order, and
// returns the mean of their losses; the parameters, the optimiser's state
// and the flat gradient (Sharded, when every view's engine is) are the
// views', their names prefixed by ViewPrefix. A step that fails in a view
// returns its error after the views before it have stepped: the run is
// over (as a job's is), and Iter counts the steps that every view took.
func NewViews(spec Spec, losses []Loss, cfg TrainConfig, newEngine EngineFunc) (Engine, error) {
	if err := spec.ValidateTraining(); err != nil {
		return nil, err
	}
	if len(spec.Views) == 0 || len(losses) != len(spec.Views) {
		panic(fmt.Sprintf("core: NewViews: %d losses for %d views", len(losses), len(spec.Views)))
	}
	v := viewsEngine{spec: spec}
	sharded := true
	for i := range spec.Views {
		e, err := newEngine(spec.View(i), losses[i], cfg)
		if err != nil {
			v.Close()
			return nil, fmt.Errorf("view %d (%s): %w", i, msg.ViewName(spec.Views[i]), err)
		}
		v.engines = append(v.engines, e)
		_, ok := e.(Sharded)
		sharded = sharded && ok
	}
	if sharded {
		return &shardedViews{v}, nil
	}
	return &v, nil
}

// Close releases the views' engines that hold a device (io.Closer).
func (v *viewsEngine) Close() error {
	var errs []error
	for _, e := range v.engines {
		if c, ok := e.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// viewErr names view i in err.
func (v *viewsEngine) viewErr(i int, err error) error {
	return fmt.Errorf("view %d (%s): %w", i, msg.ViewName(v.spec.Views[i]), err)
}

func (v *viewsEngine) Step(x []float32, labels []int) (float64, error) {
	var sum float64
	for i, e := range v.engines {
		l, err := e.Step(x, labels)
		if err != nil {
			return l, v.viewErr(i, err)
		}
		sum += l
	}
	return sum / float64(len(v.engines)), nil
}

// Iter is the steps every view has taken: the last view's, which steps
// last (a step that failed in a later view leaves those before it a step
// ahead).
func (v *viewsEngine) Iter() int { return v.engines[len(v.engines)-1].Iter() }

// Threads is the CPU threads of the views' engines (one after the
// other, each on its own), 0 for engines that do not say.
func (v *viewsEngine) Threads() int {
	if t, ok := v.engines[0].(interface{ Threads() int }); ok {
		return t.Threads()
	}
	return 0
}
func (v *viewsEngine) LR() float64 { return v.engines[len(v.engines)-1].LR() } // of Iter's next step

func (v *viewsEngine) SetIter(n int) {
	for _, e := range v.engines {
		e.SetIter(n)
	}
}

func (v *viewsEngine) Params() map[string]Tensor {
	ps := make([]map[string]Tensor, len(v.engines))
	for i, e := range v.engines {
		ps[i] = e.Params()
	}
	return joinViews(ps)
}

// SetParams sets every view's parameters from p, which holds them all
// under their views' prefixes. A name of no view, or a view's parameters
// that its engine refuses, is an error that changes nothing: the views
// before it get their parameters back.
func (v *viewsEngine) SetParams(p map[string]Tensor) error {
	ps, err := splitViews(p, len(v.engines))
	if err != nil {
		return err
	}
	origs := make([]map[string]Tensor, 0, len(v.engines))
	for i, e := range v.engines {
		origs = append(origs, e.Params())
		if err := e.SetParams(ps[i]); err != nil {
			for j := range i {
				v.engines[j].SetParams(origs[j]) // their own parameters, which they take
			}
			return v.viewErr(i, err)
		}
	}
	return nil
}

func (v *viewsEngine) OptState() OptState {
	ms, vs := make([]map[string]Tensor, len(v.engines)), make([]map[string]Tensor, len(v.engines))
	var s OptState
	for i, e := range v.engines {
		st := e.OptState()
		s.T, ms[i], vs[i] = st.T, st.M, st.V
	}
	s.M = joinViews(ms)
	if vs[0] != nil {
		s.V = joinViews(vs)
	}
	return s
}

func (v *viewsEngine) SetOptState(s OptState) error {
	ms, err := splitViews(s.M, len(v.engines))
	if err != nil {
		return err
	}
	vs := make([]map[string]Tensor, len(v.engines))
	if s.V != nil {
		if vs, err = splitViews(s.V, len(v.engines)); err != nil {
			return err
		}
	}
	for i, e := range v.engines {
		if err := e.SetOptState(OptState{T: s.T, M: ms[i], V: vs[i]}); err != nil {
			return v.viewErr(i, err)
		}
	}
	return nil
}

// GradLen is the sum of the views' gradient lengths: their flat
// gradients, view after view.
func (v *shardedViews) GradLen() int {
	n := 0
	for _, e := range v.engines {
		n += e.(Sharded).GradLen()
	}
	return n
}

// GradientsTo writes every view's flat gradient into its part of g and
// returns the mean of their losses.
func (v *shardedViews) GradientsTo(g, x []float32, labels []int) (float64, error) {
	if len(g) != v.GradLen() {
		panic(fmt.Sprintf("core: GradientsTo: %d values for a gradient of %d", len(g), v.GradLen()))
	}
	var sum float64
	off := 0
	for i, e := range v.engines {
		sh := e.(Sharded)
		n := sh.GradLen()
		l, err := sh.GradientsTo(g[off:off+n], x, labels)
		if err != nil {
			return l, v.viewErr(i, err)
		}
		sum += l
		off += n
	}
	return sum / float64(len(v.engines)), nil
}

// ApplyGradients applies each view's part of g; a value that is not
// finite anywhere in g is an error that changes nothing (it wraps
// ErrDiverged, as a view's own would).
func (v *shardedViews) ApplyGradients(g []float32) error {
	if len(g) != v.GradLen() {
		panic(fmt.Sprintf("core: ApplyGradients: %d values for a gradient of %d", len(g), v.GradLen()))
	}
	if !vec.AllFinite(g) {
		return Diverged(fmt.Sprintf("step %d: the gradient holds a value that is not finite", v.Iter()+1))
	}
	off := 0
	for i, e := range v.engines {
		sh := e.(Sharded)
		n := sh.GradLen()
		if err := sh.ApplyGradients(g[off : off+n]); err != nil {
			return v.viewErr(i, err)
		}
		off += n
	}
	return nil
}

// newViewsEncoder is NewEncoder of a spec with views: an encoder per
// view, from the parameters under its prefix.
func newViewsEncoder(spec Spec, params map[string]Tensor, batch int) (*Encoder, error) {
	n := len(spec.Views)
	kept := make(map[string]Tensor, len(params)) // heads (views.<i>.head.*) go with their views
	for name, t := range params {
		if strings.HasPrefix(name, "views.") || strings.HasPrefix(name, "encoder.") {
			kept[name] = t
		}
	}
	byView, err := splitViews(kept, n)
	if err != nil {
		return nil, fmt.Errorf("%s encoder of %d views: %v", spec.Arch, n, err)
	}
	e := &Encoder{spec: spec, batch: batch}
	for i, p := range byView {
		v, err := NewEncoder(spec.View(i), p, batch)
		if err != nil {
			return nil, fmt.Errorf("view %d (%s): %w", i, msg.ViewName(spec.Views[i]), err)
		}
		e.views = append(e.views, v)
	}
	return e, nil
}

// embedViews is Embed with views: each view embeds the images, and its
// rows go to their place in dst (placeViews).
func (e *Encoder) embedViews(dst []float32, x []float32, n int) ([]float32, error) {
	d, w := e.spec.Dim, e.spec.EmbedDim()
	if n < 0 {
		panic(fmt.Sprintf("core: Encoder.Embed: %d images", n))
	}
	if len(dst) < n*w {
		dst = make([]float32, n*w)
	}
	dst = dst[:n*w]
	for i, v := range e.views {
		var err error
		if e.viewEmb, err = v.Embed(e.viewEmb, x, n); err != nil {
			return dst, fmt.Errorf("view %d (%s): %w", i, msg.ViewName(e.spec.Views[i]), err)
		}
		placeViews(dst, e.viewEmb, n, d, i, len(e.views))
	}
	return dst, nil
}

// ClassWeights returns the class weights of a model of s with params,
// C×EmbedDim, their biases (nil for heads without), and whether there
// are any: head.weight and head.bias as they are or, for a model of
// views, each class's rows of the views' heads scaled to length 1/√V
// side by side (as the views' embeddings are), so that the cosine of an
// embedding and a class's weights is the mean of the views' cosines. A
// model of views whose heads have biases (linear heads, whose logits are
// not cosines) has no joined head: ok is false.
func (s Spec) ClassWeights(params map[string]Tensor) (w, b []float32, ok bool) {
	if len(s.Views) == 0 {
		hw, ok := params["head.weight"]
		if !ok {
			return nil, nil, false
		}
		if hb, ok := params["head.bias"]; ok {
			b = hb.Data
		}
		return hw.Data, b, true
	}
	d, v := s.Dim, len(s.Views)
	var c int
	for i := range s.Views {
		hw, ok := params[ViewPrefix(i)+"head.weight"]
		_, biased := params[ViewPrefix(i)+"head.bias"]
		if !ok || biased || len(hw.Shape) != 2 || hw.Shape[1] != d || i > 0 && hw.Shape[0] != c {
			return nil, nil, false
		}
		if i == 0 {
			c = hw.Shape[0]
			w = make([]float32, c*v*d)
		}
		placeViews(w, hw.Data, c, d, i, v)
	}
	return w, nil, true
}
