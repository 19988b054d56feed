//go:build !js

package cuda

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"metriclab/core"
	"metriclab/core/msg"
)

// Trainer is the CUDA engine: it trains an encoder (core.Spec's Plan) and
// a loss (core.LossPlanner) on a Backend, step for step as core.Trainer
// does (the same initialisation, formulas and optimiser), with kernels of
// its own (kernels.go) and GEMMs through the backend (cuBLAS).
//
// Everything lives on the device from NewTrainer on: parameters,
// gradients and optimiser state in three flat buffers, every value of the
// plan and its gradient, the scratch of the convolutions and the loss. A
// step copies in the batch (raw pixels, labels) and four scalars (learning
// rate, Adam's bias corrections, SphereFace's λ), runs forward, loss,
// backward and the update on one stream, and copies out the loss and
// whether it was finite: the only copy back. The update kernels skip the
// update when the loss was not finite, so a NaN step leaves the
// parameters as they were (as core.Trainer does). After the first eager
// steps the step is captured as a graph and replayed. A Trainer is not
// safe for concurrent use.
type Trainer struct {
	b    Backend
	s    Stream
	k    map[string]Kernel
	spec core.Spec
	plan core.Plan
	loss core.Loss
	lp   core.LossPlan
	cfg  core.TrainConfig
	opts Options
	n    int // batch

	names  []string       // learnables: encoder layout order, then the head
	slots  map[string]int // offset of a learnable in the flat buffers
	shapes map[string][]int
	decay  int               // learnables before this offset are decayed
	flat   Buffer            // every learnable
	grad   Buffer            // their gradients
	m, v   Buffer            // optimiser state (v: Adam only)
	bufs   map[string]Buffer // the non-learnable parameters (running statistics, features.weight)
	scrap  map[string]Buffer // gradients of non-learnable batch-norm weights: computed, unused

	vals, dvals []Buffer       // plan values and their gradients
	flats       map[int]Buffer // N×F copies of image values that a linear layer reads
	dflats      map[int]Buffer
	raw, labels Buffer // the batch as copied in
	scal        Buffer // ML_SC_* scalars
	status      Buffer // loss, finite
	col         Buffer // im2col scratch
	colFloats   int
	part        Buffer             // partial sums of the per-channel reductions
	states      map[int]layerState // saved by a layer's forward for its backward

	train, eval, head, backward, update []func() error
	graph                               Graph
	graphed                             bool
	eager                               int // steps run without the graph

	iter, t  int // steps taken; updates applied (OptState's T, Adam's bias corrections)
	hostScal [4]float32
	hostStat [2]float32
	labelBuf []float32 // the labels as float32, as copied in
	allocs   []Buffer

	ownsBackend bool // Close closes b (NewEngineFunc)
	haveBatch   bool // a batch was copied in
	closed      bool // its buffers are freed: every device call is refused
}

// ErrTrainerClosed is returned by the methods of a closed Trainer that
// would use the device, whether its backend is closed with it or not (on
// a GPU, its buffers may then be another's memory).
var ErrTrainerClosed = errors.New("cuda: the trainer is closed")

// Options tunes a Trainer.
type Options struct {
	// EagerSteps is the number of steps run kernel by kernel before the
	// step is captured as a graph; 0 takes 2. NoGraph never captures.
	EagerSteps int
	NoGraph    bool
	// ColBytes bounds the im2col scratch; a convolution whose columns for
	// the whole batch do not fit runs in chunks of images. 0 takes 256 MiB.
	ColBytes int
	// TF32 lets cuBLAS use TF32 tensor cores (a Device's SetTF32), as
	// PyTorch's convolutions do by default; parity needs it off.
	TF32 bool
}

// NewEngineFunc returns the core.EngineFunc of this engine: every engine
// it makes opens its own backend with open (cuda.Open, say), and closing
// the engine closes the backend.
func NewEngineFunc(open func() (Backend, error), opts Options) core.EngineFunc {
	return func(spec core.Spec, loss core.Loss, cfg core.TrainConfig) (core.Engine, error) {
		b, err := open()
		if err != nil {
			return nil, err
		}
		t, err := NewTrainer(b, spec, loss, cfg, opts)
		if err != nil {
			b.Close()
			return nil, err
		}
		t.ownsBackend = true
		return t, nil
	}
}

// kernelNames are the kernels of kernelSource the engine launches.
var kernelNames = []string{"ml_fill", "ml_input", "ml_relu", "ml_relu_backward", "ml_prelu", "ml_prelu_backward",
	"ml_add", "ml_accumulate", "ml_bias_add", "ml_cnhw_to_nf", "ml_nf_to_cnhw", "ml_chan_partial", "ml_chan_final",
	"ml_im2col", "ml_col2im", "ml_maxpool2", "ml_maxpool2_backward", "ml_bn_stats", "ml_bn_apply", "ml_bn_backward",
	"ml_row_normalize", "ml_row_normalize_backward", "ml_margin_softmax", "ml_loss_mean", "ml_pair_prep",
	"ml_pair_dist", "ml_contrastive", "ml_triplet", "ml_pair_final", "ml_triplet_grad", "ml_pair_backward",
	"ml_sgd", "ml_adam"}

// Indices of the device scalars (ML_SC_* in kernels.go).
const (
	scLR = iota
	scLRC
	scSC
	scLambda
)

// NewTrainer builds the engine of spec and loss on b: it compiles the
// kernels, allocates every buffer and initialises the parameters as
// core.NewTrainer does with cfg.Seed. cfg.Dtype must be float32. The
// errors are about the configuration (what the engine cannot run) or the
// device.
func NewTrainer(b Backend, spec core.Spec, loss core.Loss, cfg core.TrainConfig, opts Options) (*Trainer, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Opt.Validate(); err != nil {
		return nil, err
	}
	if spec.Crop != (core.Crop{}) {
		return nil, fmt.Errorf("cuda engine: a cropped encoder (crop %v) trains on the cpu engine", spec.Crop)
	}
	if len(spec.Views) > 0 {
		return nil, fmt.Errorf("cuda engine: an encoder of views (%s) trains on the cpu engine", msg.FormatViews(spec.Views))
	}
	if cfg.Batch < 2 || cfg.Classes < 2 {
		return nil, fmt.Errorf("cuda engine: batch %d and classes %d: want both ≥ 2", cfg.Batch, cfg.Classes)
	}
	if cfg.Dtype != "" && cfg.Dtype != core.Float32 {
		return nil, fmt.Errorf("cuda engine: dtype %s: it trains in float32", cfg.Dtype)
	}
	lpr, ok := loss.(core.LossPlanner)
	if !ok {
		return nil, fmt.Errorf("cuda engine: loss %s does not describe itself (core.LossPlanner)", loss.Name())
	}
	if opts.EagerSteps <= 0 {
		opts.EagerSteps = 2
	}
	if opts.ColBytes <= 0 {
		opts.ColBytes = 256 << 20
	}
	if tf, ok := b.(interface{ SetTF32(bool) error }); ok {
		if err := tf.SetTF32(opts.TF32); err != nil {
			return nil, err
		}
	}
	t := &Trainer{b: b, spec: spec, plan: spec.Plan(), loss: loss, lp: lpr.LossPlan(), cfg: cfg, opts: opts, n: cfg.Batch,
		k: map[string]Kernel{}, slots: map[string]int{}, shapes: map[string][]int{}, bufs: map[string]Buffer{},
		scrap: map[string]Buffer{}, flats: map[int]Buffer{}, dflats: map[int]Buffer{}, states: map[int]layerState{}}
	if err := t.build(); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// build compiles, allocates and emits the step's kernels.
func (t *Trainer) build() (err error) {
	// Allocation and emission panic on device errors and on counts the
	// kernels cannot index (checkCount), which come back as the error;
	// programmer errors panic too, with their own message.
	defer func() {
		if p := recover(); p != nil {
			if e, ok := p.(deviceError); ok {
				err = e.err
				return
			}
			panic(p)
		}
	}()
	for _, name := range kernelNames {
		k, err := t.b.Compile(name, kernelSource)
		if err != nil {
			return err
		}
		t.k[name] = k
	}
	if t.s, err = t.b.NewStream(); err != nil {
		return err
	}
	if err := t.layoutParams(); err != nil {
		return err
	}
	n, p := t.n, t.plan
	t.raw = t.alloc(n * p.Spec.Input.Size())
	t.labels = t.alloc(n)
	t.scal = t.alloc(len(t.hostScal))
	t.status = t.alloc(len(t.hostStat))
	t.labelBuf = make([]float32, n)
	t.vals = make([]Buffer, len(p.Values))
	t.dvals = make([]Buffer, len(p.Values))
	for i, v := range p.Values {
		t.vals[i] = t.alloc(n * v.Size())
		if i > 0 {
			t.dvals[i] = t.alloc(n * v.Size())
		}
	}
	t.colFloats = 1
	for _, l := range p.Layers {
		if l.Kind == core.LayerConv && !t.direct(l) {
			in, out := p.Values[l.In[0]], p.Values[l.Out]
			perImage := in.C * l.Kernel * l.Kernel * out.H * out.W
			t.colFloats = max(t.colFloats, perImage*t.chunk(perImage))
		}
	}
	t.col = t.alloc(t.colFloats)
	t.part = t.alloc(t.partFloats())

	t.train = t.emitForward(true)
	t.eval = t.emitForward(false)
	t.head = t.emitLoss()
	t.backward = t.emitBackward()
	t.update = t.emitUpdate()
	return t.initParams()
}

// deviceError carries a device error, or checkCount's, out of the
// emitting code.
type deviceError struct{ err error }

// must panics with a deviceError when err is not nil.
func must(err error) {
	if err != nil {
		panic(deviceError{err})
	}
}

// alloc returns a zeroed device buffer of n float32 values (n·4 bytes;
// float64 buffers ask for twice their length).
func (t *Trainer) alloc(n int) Buffer {
	n = max(n, 1)
	must(checkCount("ml_fill", n)) // before allocating a buffer it could not fill
	b, err := t.b.Alloc(4 * n)
	must(err)
	t.allocs = append(t.allocs, b)
	must(t.launch("ml_fill", n, b, int32(n), float32(0))())
	return b
}

// layoutParams places the learnables in the flat buffers, decayed ones
// first, each at a multiple of 64 values (256 bytes, as cuMemAlloc
// aligns), and allocates the non-learnables.
func (t *Trainer) layoutParams() error {
	type learn struct {
		name  string
		shape []int
		decay bool
	}
	var ls []learn
	for _, q := range t.plan.Params {
		t.shapes[q.Name] = q.Shape
		if !q.Learnable {
			t.bufs[q.Name] = t.alloc(shapeSize(q.Shape))
			continue
		}
		ls = append(ls, learn{q.Name, q.Shape, q.Decay})
	}
	for _, h := range t.lp.HeadShapes(t.cfg.Classes, t.spec.Dim) {
		t.shapes[h.Name] = h.Shape
		ls = append(ls, learn{h.Name, h.Shape, len(h.Shape) >= 2})
	}
	for _, l := range ls {
		t.names = append(t.names, l.name)
	}
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].decay && !ls[j].decay })
	off := 0
	for _, l := range ls {
		t.slots[l.name] = off
		off += (shapeSize(l.shape) + 63) &^ 63
		if l.decay {
			t.decay = off
		}
	}
	t.flat, t.grad, t.m = t.alloc(off), t.alloc(off), t.alloc(off)
	if t.cfg.Opt.Name == core.OptAdam {
		t.v = t.alloc(off)
	}
	return nil
}

// param returns the buffer of parameter name: its slice of the flat
// buffer, or its own buffer for a non-learnable.
func (t *Trainer) param(name string) Buffer {
	if off, ok := t.slots[name]; ok {
		return t.flat.Slice(off, shapeSize(t.shapes[name]))
	}
	if b, ok := t.bufs[name]; ok {
		return b
	}
	panic("cuda: engine has no parameter " + name)
}

// paramGrad returns where the gradient of parameter name goes: its slice
// of the gradient buffer, or a scratch buffer for a non-learnable.
func (t *Trainer) paramGrad(name string) Buffer {
	if off, ok := t.slots[name]; ok {
		return t.grad.Slice(off, shapeSize(t.shapes[name]))
	}
	if b, ok := t.scrap[name]; ok {
		return b
	}
	b := t.alloc(shapeSize(t.shapes[name]))
	t.scrap[name] = b
	return b
}

func shapeSize(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// initParams loads core.InitParams: the gorgonia engine's start.
func (t *Trainer) initParams() error {
	init := core.InitParams(t.spec, t.lp.HeadShapes(t.cfg.Classes, t.spec.Dim), t.cfg.Seed)
	return t.load(init)
}

// load copies the parameters of p that the engine has into the device.
func (t *Trainer) load(p map[string]core.Tensor) error {
	for name, v := range p {
		if _, ok := t.shapes[name]; !ok {
			continue
		}
		if err := t.b.CopyIn(t.param(name), v.Data, t.s); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the device buffers, the graph and the stream. The
// backend stays open, unless the engine came from NewEngineFunc. After
// Close, the methods that would use the device return ErrTrainerClosed
// (Params and OptState panic); closing again does nothing.
func (t *Trainer) Close() error {
	t.closed, t.haveBatch = true, false
	var errs []error
	if t.graphed {
		errs = append(errs, t.b.DestroyGraph(t.graph))
		t.graphed = false
	}
	for _, b := range t.allocs {
		errs = append(errs, t.b.Free(b))
	}
	t.allocs = nil
	if t.s != 0 {
		errs = append(errs, t.b.DestroyStream(t.s))
		t.s = 0
	}
	if t.ownsBackend {
		errs = append(errs, t.b.Close())
		t.ownsBackend = false
	}
	return errors.Join(errs...)
}

// Step runs one training step, as core.Trainer.Step.
func (t *Trainer) Step(x []float32, labels []int) (float64, error) {
	if t.closed {
		return 0, ErrTrainerClosed
	}
	if err := t.copyBatch(x, labels); err != nil {
		return 0, err
	}
	return t.step()
}

// StepAgain runs a training step on the batch of the last Step, which is
// still on the device: for benchmarks that, like PyTorch's synthetic
// ones, keep one batch resident.
func (t *Trainer) StepAgain() (float64, error) {
	if t.closed {
		return 0, ErrTrainerClosed
	}
	if !t.haveBatch {
		return 0, errors.New("cuda: StepAgain before any Step")
	}
	return t.step()
}

func (t *Trainer) step() (float64, error) {
	loss, err := t.run(true)
	if err != nil {
		return loss, err
	}
	t.iter++
	t.t++
	return loss, nil
}

// copyBatch checks a batch and copies it to the device.
func (t *Trainer) copyBatch(x []float32, labels []int) error {
	in := t.spec.Input
	if len(x) != t.n*in.Size() {
		panic(fmt.Sprintf("cuda: Trainer.Step: %d pixels, want batch %d × %d", len(x), t.n, in.Size()))
	}
	if len(labels) != t.n {
		panic(fmt.Sprintf("cuda: Trainer.Step: %d labels, want batch %d", len(labels), t.n))
	}
	for i, l := range labels {
		if l < 0 || l >= t.cfg.Classes {
			return fmt.Errorf("step %d: label %d of image %d out of range [0, %d)", t.iter+1, l, i, t.cfg.Classes)
		}
		t.labelBuf[i] = float32(l)
	}
	for _, c := range []struct {
		dst Buffer
		src []float32
	}{{t.raw, x}, {t.labels, t.labelBuf}} {
		if err := t.b.CopyIn(c.dst, c.src, t.s); err != nil {
			return fmt.Errorf("step %d: %w", t.iter+1, err)
		}
	}
	t.haveBatch = true
	return nil
}

// run copies the step's scalars in, runs a step on the batch on the
// device (with the update when update) and returns the loss; a
// non-finite loss is an error, and the update kernels have skipped the
// update.
func (t *Trainer) run(update bool) (float64, error) {
	if err := t.loss.BeforeStep(t.iter); err != nil {
		return 0, fmt.Errorf("step %d: %s: %w", t.iter+1, t.loss.Name(), err)
	}
	lr := t.LR()
	t.hostScal[scLR] = float32(lr)
	if t.cfg.Opt.Name == core.OptAdam {
		step := float64(t.t + 1)
		c1 := 1 - math.Pow(t.cfg.Opt.Beta1, step)
		c2 := 1 - math.Pow(t.cfg.Opt.Beta2, step)
		t.hostScal[scLRC] = float32(lr / c1)
		t.hostScal[scSC] = float32(1 / math.Sqrt(c2))
	}
	t.hostScal[scLambda] = float32(t.loss.(core.LossPlanner).LossPlan().Lambda)
	err := t.b.CopyIn(t.scal, t.hostScal[:], t.s)
	if err == nil && update {
		err = t.runStep()
	} else if err == nil {
		err = runOps(t.train, t.head, t.backward)
	}
	if err == nil {
		err = t.b.CopyOut(t.hostStat[:], t.status, t.s)
	}
	if err != nil {
		return 0, fmt.Errorf("step %d: %w", t.iter+1, err)
	}
	loss := float64(t.hostStat[0])
	if t.hostStat[1] == 0 || math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, core.NonFiniteLoss(t.iter+1, loss)
	}
	return loss, nil
}

// runStep runs the whole step: eagerly for the first steps, then captured
// once as a graph and replayed.
func (t *Trainer) runStep() error {
	if t.opts.NoGraph || t.eager < t.opts.EagerSteps {
		t.eager++
		return runOps(t.train, t.head, t.backward, t.update)
	}
	if !t.graphed {
		if err := t.b.BeginCapture(t.s); err != nil {
			return err
		}
		err := runOps(t.train, t.head, t.backward, t.update)
		g, endErr := t.b.EndCapture(t.s)
		if err != nil {
			return err
		}
		if endErr != nil {
			return endErr
		}
		t.graph, t.graphed = g, true
	}
	return t.b.LaunchGraph(t.graph, t.s)
}

func runOps(lists ...[]func() error) error {
	for _, ops := range lists {
		for _, op := range ops {
			if err := op(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Gradients runs forward and backward on a batch without the update, as
// core.Trainer.Gradients, and returns the loss and every learnable's
// gradient.
func (t *Trainer) Gradients(x []float32, labels []int) (float64, map[string]core.Tensor, error) {
	if t.closed {
		return 0, nil, ErrTrainerClosed
	}
	if err := t.copyBatch(x, labels); err != nil {
		return 0, nil, err
	}
	loss, err := t.run(false)
	if err != nil {
		return loss, nil, err
	}
	out := make(map[string]core.Tensor, len(t.names))
	for _, name := range t.names {
		d := make([]float32, shapeSize(t.shapes[name]))
		if err := t.b.CopyOut(d, t.grad.Slice(t.slots[name], len(d)), t.s); err != nil {
			return 0, nil, err
		}
		out[name] = core.Tensor{Shape: slices.Clone(t.shapes[name]), Data: d}
	}
	return loss, out, nil
}

// Embed writes the n×D embeddings of n images (raw pixels) into dst with
// the evaluation-mode encoder (batch norms on their running statistics),
// in chunks of the training batch, and returns it. They are the graph's
// outputs alone: Spec.FlipTest's mean with the mirrors' outputs is not
// taken here but by core.Encoder, which embeds a trained model's
// parameters (job.EmbedSet), on every engine.
func (t *Trainer) Embed(dst, x []float32, n int) ([]float32, error) {
	if t.closed {
		return dst, ErrTrainerClosed
	}
	size, d := t.spec.Input.Size(), t.spec.Dim
	if n < 0 || len(x) != n*size {
		panic(fmt.Sprintf("cuda: Trainer.Embed: %d pixels for %d images of %d", len(x), n, size))
	}
	if len(dst) < n*d {
		dst = make([]float32, n*d)
	}
	dst = dst[:n*d]
	chunk := make([]float32, t.n*size)
	out := make([]float32, t.n*d)
	t.haveBatch = false // the chunks overwrite the batch
	for start := 0; start < n; start += t.n {
		m := min(t.n, n-start)
		copy(chunk, x[start*size:(start+m)*size])
		clear(chunk[m*size:])
		if err := t.b.CopyIn(t.raw, chunk, t.s); err != nil {
			return dst, err
		}
		if err := runOps(t.eval); err != nil {
			return dst, err
		}
		if err := t.b.CopyOut(out, t.vals[t.plan.Output], t.s); err != nil {
			return dst, err
		}
		copy(dst[start*d:(start+m)*d], out[:m*d])
	}
	return dst, nil
}

// Iter returns the number of steps taken.
func (t *Trainer) Iter() int { return t.iter }

// SetIter sets the number of steps done, as core.Trainer.SetIter.
func (t *Trainer) SetIter(n int) {
	if n < 0 {
		panic(fmt.Sprintf("cuda: SetIter(%d): negative step", n))
	}
	t.iter = n
}

// LR returns the learning rate of the next step.
func (t *Trainer) LR() float64 { return t.cfg.Opt.LRAt(t.iter) }

// Params returns a copy of every parameter, learnables and buffers, by
// name. It panics on a device error (as a host engine cannot fail here).
func (t *Trainer) Params() map[string]core.Tensor {
	if t.closed {
		panic("cuda: Params: the trainer is closed")
	}
	out := make(map[string]core.Tensor, len(t.shapes))
	for name, shape := range t.shapes {
		d := make([]float32, shapeSize(shape))
		if err := t.b.CopyOut(d, t.param(name), t.s); err != nil {
			panic(fmt.Sprintf("cuda: Params: %v", err))
		}
		out[name] = core.Tensor{Shape: slices.Clone(shape), Data: d}
	}
	return out
}

// SetParams loads parameters by name, as core.Trainer.SetParams: every
// encoder.* parameter must be there, head.* ones are optional, unknown
// names and wrong shapes are errors that change nothing; the optimiser's
// state restarts.
func (t *Trainer) SetParams(p map[string]core.Tensor) error {
	if t.closed {
		return ErrTrainerClosed
	}
	var unknown []string
	for name, v := range p {
		shape, ok := t.shapes[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		if !slices.Equal(v.Shape, shape) || len(v.Data) != shapeSize(shape) {
			return fmt.Errorf("parameter %s has shape %v (%d values), want %v", name, v.Shape, len(v.Data), shape)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unknown parameters %s", strings.Join(unknown, ", "))
	}
	for name := range t.shapes {
		if _, ok := p[name]; !ok && strings.HasPrefix(name, "encoder.") {
			return fmt.Errorf("missing parameter %s", name)
		}
	}
	if err := t.load(p); err != nil {
		return err
	}
	t.t = 0
	for _, b := range []Buffer{t.m, t.v} {
		if b.Bytes > 0 {
			if err := t.launch("ml_fill", b.Bytes/4, b, int32(b.Bytes/4), float32(0))(); err != nil {
				return err
			}
		}
	}
	return nil
}

var _ core.Engine = (*Trainer)(nil)
