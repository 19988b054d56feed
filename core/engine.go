package core

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core/ops"
	"metriclab/core/par"
)

// Floating-point types of the engine's graph.
const (
	Float32 = "float32"
	Float64 = "float64"
)

// TrainConfig configures a Trainer.
type TrainConfig struct {
	Batch   int       // N, images per step, ≥ 1
	Classes int       // C, number of classes, ≥ 1
	Opt     OptConfig // optimiser and schedule
	Seed    int64     // seed of the parameter initialisation
	Dtype   string    // graph precision: "float32" (default, "") or "float64" (tests)
	// Threads is the number of CPU threads the kernels split their loops
	// on: 0 means one per CPU, 1 the calling goroutine only. Results do not
	// depend on it (core/par).
	Threads int
}

// Trainer trains an encoder and a loss with the gorgonia engine. The graph
// is built once: input x (N×Ch×H×W), one-hot labels (N×C), the encoder, the
// loss and the symbolic gradient of the loss with respect to every
// learnable. One tape machine runs it at every step; the optimiser then
// updates the learnables' values in place.
//
// Parameters that are not learnables (batch norms' running statistics,
// IResNet's fixed features.weight) are graph inputs too, kept beside the
// learnables as buffers: the training graph's batch norms write their
// running statistics into the buffers' values at every forward run, the
// optimiser never sees them, and Params and SetParams carry them with the
// learnables, so that a saved model holds them for the Encoder. A Trainer is not safe for
// concurrent use.
//
// Initialisation, drawn from a PCG generator seeded with Seed in the order
// of the encoder's layout, then the loss's learnables:
//
//	conv and linear weights   He normal, N(0, 2/fan_in), fan_in = Ci·K·K or in
//	biases                    0
//	PReLU slopes              0.25
//	batch-norm scales         1 (running means 0, running variances 1)
//	loss learnables, rank 2   He normal with fan_in = number of columns (D
//	                          for a C×D head); the values Build gave them are
//	                          replaced, so that a run depends on Seed alone
//	loss learnables, rank < 2 the values Build gave them
type Trainer struct {
	spec Spec
	loss Loss
	cfg  TrainConfig

	g       *G.ExprGraph
	vm      G.VM
	x       *G.Node // N×Ch×H×W, bound to xbuf
	onehot  *G.Node // N×C, bound to ohbuf
	emb     *G.Node // N×D
	cost    *G.Node // scalar
	costVal G.Value // the loss, read at every run
	embVal  G.Value // the embeddings, read at every run

	names  []string  // learnable names: encoder layout, then loss
	params []*G.Node // learnables, in names order
	grads  []*G.Node // d cost / d params[i]
	decay  []bool    // weight decay applies to params[i]
	shapes [][]int   // params[i]'s shape

	pool *par.Pool // the kernels' threads

	bufNames []string  // non-learnable encoder parameters, in layout order
	bufs     []*G.Node // their nodes, whose values the graph reads (and updates)
	f32      *engineBuf[float32]
	f64      *engineBuf[float64]

	iter int
}

// engineBuf holds the trainer's flat buffers in the graph's precision T.
type engineBuf[T float32 | float64] struct {
	x, onehot []T   // backing arrays of the x and onehot nodes
	ws        [][]T // backing arrays of the learnables
	gs        [][]T // gradients of the last run, refreshed at every step
	opt       *optimizer[T]
}

// NewTrainer builds the training graph of spec and loss. The returned
// errors are about the configuration (spec, optimiser, batch, classes) or
// the graph (a loss that fails to build).
func NewTrainer(spec Spec, loss Loss, cfg TrainConfig) (*Trainer, error) {
	if loss == nil {
		panic("core: NewTrainer: nil loss")
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if len(spec.Views) > 0 {
		return nil, errors.New("a spec with views trains one engine per view: NewViews")
	}
	if err := cfg.Opt.Validate(); err != nil {
		return nil, err
	}
	if cfg.Batch < 1 {
		return nil, fmt.Errorf("batch %d: want ≥ 1", cfg.Batch)
	}
	if cfg.Classes < 1 {
		return nil, fmt.Errorf("classes %d: want ≥ 1", cfg.Classes)
	}
	if cfg.Threads < 0 {
		return nil, fmt.Errorf("threads %d: want ≥ 0 (0: one per CPU)", cfg.Threads)
	}
	if cfg.Dtype == "" {
		cfg.Dtype = Float32
	}
	dt, err := dtypeOf(cfg.Dtype)
	if err != nil {
		return nil, err
	}

	t := &Trainer{spec: spec, loss: loss, cfg: cfg, g: G.NewGraph()}
	in := spec.Input
	n := cfg.Batch
	t.x = G.NewTensor(t.g, dt, 4, G.WithShape(n, in.Channels, in.Height, in.Width), G.WithName("x"),
		G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(n, in.Channels, in.Height, in.Width))))
	t.onehot = G.NewMatrix(t.g, dt, G.WithShape(n, cfg.Classes), G.WithName("onehot"),
		G.WithValue(tensor.New(tensor.Of(dt), tensor.WithShape(n, cfg.Classes))))

	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6d6c6162)) // "mlab"
	nodes := make(map[string]*G.Node)
	for _, p := range spec.layout() {
		v := tensor.New(tensor.Of(dt), tensor.WithShape(p.shape...))
		initParam(v, p.kind, p.fanIn(), rng)
		nd := G.NewTensor(t.g, dt, len(p.shape), G.WithShape(p.shape...), G.WithName(p.name), G.WithValue(v))
		nodes[p.name] = nd
		if p.kind.learnable() {
			t.add(p.name, nd, p.kind == kindWeight)
		} else {
			t.bufNames = append(t.bufNames, p.name)
			t.bufs = append(t.bufs, nd)
		}
	}
	if t.emb, err = spec.encoderForward(t.x, nodes, true); err != nil {
		return nil, fmt.Errorf("building %s encoder: %w", spec.Arch, err)
	}
	if t.cost, err = loss.Build(t.g, t.emb, t.onehot, cfg.Classes); err != nil {
		return nil, fmt.Errorf("building %s loss: %w", loss.Name(), err)
	}
	if !t.cost.IsScalar() {
		return nil, fmt.Errorf("%s loss: Build returned shape %v, want a scalar", loss.Name(), t.cost.Shape())
	}
	for _, l := range loss.Learnables() {
		if _, dup := nodes[l.Name]; dup || strings.HasPrefix(l.Name, "encoder.") {
			return nil, fmt.Errorf("%s loss: learnable name %q clashes with the encoder's", loss.Name(), l.Name)
		}
		nodes[l.Name] = l.Node
		if l.Node.Dims() >= 2 {
			v, ok := l.Node.Value().(tensor.Tensor)
			if !ok || v.Dtype() != dt {
				return nil, fmt.Errorf("%s loss: learnable %q has no %s tensor value", loss.Name(), l.Name, cfg.Dtype)
			}
			initParam(v, kindWeight, l.Node.Shape()[l.Node.Dims()-1], rng)
		}
		t.add(l.Name, l.Node, l.Node.Dims() >= 2)
	}
	if t.grads, err = G.Grad(t.cost, t.params...); err != nil {
		return nil, fmt.Errorf("differentiating the %s loss: %w", loss.Name(), err)
	}
	G.Read(t.cost, &t.costVal)
	G.Read(t.emb, &t.embVal)
	t.vm = newTapeMachine(t.g)
	t.pool = par.NewPool(cfg.Threads)
	ops.UsePool(t.g, t.pool)
	runtime.AddCleanup(t, (*par.Pool).Close, t.pool)

	sizes := make([]int, len(t.params))
	for i, s := range t.shapes {
		sizes[i] = shapeSize(s)
	}
	switch dt {
	case tensor.Float32:
		t.f32, err = newEngineBuf[float32](t, sizes)
	default:
		t.f64, err = newEngineBuf[float64](t, sizes)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// add appends a learnable.
func (t *Trainer) add(name string, n *G.Node, decay bool) {
	t.names = append(t.names, name)
	t.params = append(t.params, n)
	t.decay = append(t.decay, decay)
	t.shapes = append(t.shapes, append([]int(nil), n.Shape()...))
}

func newEngineBuf[T float32 | float64](t *Trainer, sizes []int) (*engineBuf[T], error) {
	b := &engineBuf[T]{
		x:      t.x.Value().Data().([]T),
		onehot: t.onehot.Value().Data().([]T),
		ws:     make([][]T, len(t.params)),
		gs:     make([][]T, len(t.params)),
		opt:    newOptimizer[T](t.cfg.Opt, sizes, t.decay),
	}
	for i, p := range t.params {
		w, ok := p.Value().Data().([]T)
		if !ok || len(w) != sizes[i] {
			return nil, fmt.Errorf("learnable %q: value is not a dense %T tensor of %d values", t.names[i], w, sizes[i])
		}
		b.ws[i] = w
	}
	return b, nil
}

// initParam fills v according to kind: He normal N(0, 2/fanIn) for
// weights, 0 for biases and running means, preluInitVal for PReLU slopes,
// 1 for batch-norm scales, running variances and fixed ones.
func initParam(v tensor.Tensor, kind paramKind, fanIn int, rng *rand.Rand) {
	std := math.Sqrt(2 / float64(fanIn))
	draw := func() float64 {
		switch kind {
		case kindWeight:
			return std * rng.NormFloat64()
		case kindPReLU:
			return preluInitVal
		case kindBNWeight, kindRunVar, kindFixedOne:
			return 1
		}
		return 0
	}
	switch d := v.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(draw())
		}
	case []float64:
		for i := range d {
			d[i] = draw()
		}
	default:
		panic(fmt.Sprintf("core: initParam: unsupported data %T", d))
	}
}

// Threads returns the number of CPU threads the trainer's kernels run on.
func (t *Trainer) Threads() int { return t.pool.Threads() }

// Step runs one training step on a batch: x holds Batch images of raw
// pixels in [0,1] (Batch·Ch·H·W values, normalised here with the spec's
// Mean and Std), labels their classes in 0..C−1. It calls the loss's
// BeforeStep, runs forward and backward, applies the optimiser with the
// scheduled learning rate and returns the loss before the update. A
// non-finite loss is returned as an error and leaves the parameters as
// they were.
func (t *Trainer) Step(x []float32, labels []int) (float64, error) {
	loss, err := t.lossAndGradients(x, labels)
	if err != nil {
		return loss, err
	}
	lr := t.LR()
	if t.f32 != nil {
		err = t.f32.update(t, lr)
	} else {
		err = t.f64.update(t, lr)
	}
	if err != nil {
		return 0, fmt.Errorf("step %d: %w", t.iter+1, err)
	}
	t.iter++
	return loss, nil
}

// lossAndGradients runs the loss's BeforeStep, then forward and backward
// on a batch, and returns the loss; a non-finite loss is an error. The
// gradients stay in the gradient nodes' values until the next run.
func (t *Trainer) lossAndGradients(x []float32, labels []int) (float64, error) {
	if err := t.loss.BeforeStep(t.iter); err != nil {
		return 0, fmt.Errorf("step %d: %s: %w", t.iter+1, t.loss.Name(), err)
	}
	loss, err := t.forwardBackward(x, labels)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, NonFiniteLoss(t.iter+1, loss)
	}
	return loss, nil
}

// NonFiniteLoss is the error of a step (1-based, as progress counts) whose
// loss is not finite: "step 4: loss is NaN (lr too high?)", Inf whatever
// its sign. Every engine fails such a step with it, so that a run says the
// same on the CPU and on CUDA. It wraps ErrDiverged.
func NonFiniteLoss(step int, loss float64) error {
	name := "Inf"
	if math.IsNaN(loss) {
		name = "NaN"
	}
	return Diverged(fmt.Sprintf("step %d: loss is %s (lr too high?)", step, name))
}

// ErrDiverged is wrapped by the errors that say training diverged: a loss,
// gradients, weights or embeddings that are not finite numbers. errors.Is(err,
// core.ErrDiverged) tells them from an engine's other errors (a device's).
var ErrDiverged = errors.New("training diverged")

// Diverged returns an error of message msg that wraps ErrDiverged.
func Diverged(msg string) error { return divergedError(msg) }

// divergedError is a one-line message about a run that diverged.
type divergedError string

func (e divergedError) Error() string        { return string(e) }
func (e divergedError) Is(target error) bool { return target == ErrDiverged }

// forwardBackward loads a batch into the graph's input buffers, runs the
// machine (loss and gradients) and returns the loss. The gradients stay in
// the gradient nodes' values until the next run.
func (t *Trainer) forwardBackward(x []float32, labels []int) (float64, error) {
	in := t.spec.Input
	if len(x) != t.cfg.Batch*in.Size() {
		panic(fmt.Sprintf("core: Trainer.Step: %d pixels, want batch %d × %d", len(x), t.cfg.Batch, in.Size()))
	}
	if len(labels) != t.cfg.Batch {
		panic(fmt.Sprintf("core: Trainer.Step: %d labels, want batch %d", len(labels), t.cfg.Batch))
	}
	for i, l := range labels {
		if l < 0 || l >= t.cfg.Classes {
			return 0, fmt.Errorf("step %d: label %d of image %d out of range [0, %d)", t.iter+1, l, i, t.cfg.Classes)
		}
	}
	if t.f32 != nil {
		normaliseTo(t.f32.x, x, in.Mean, in.Std)
		oneHotTo(t.f32.onehot, labels, t.cfg.Classes)
	} else {
		normaliseTo(t.f64.x, x, in.Mean, in.Std)
		oneHotTo(t.f64.onehot, labels, t.cfg.Classes)
	}
	defer t.vm.Reset()
	if err := t.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("step %d: %w", t.iter+1, err)
	}
	switch v := t.costVal.(type) {
	case *G.F32:
		return float64(*v), nil
	case *G.F64:
		return float64(*v), nil
	}
	return 0, fmt.Errorf("step %d: loss value is %T, want a scalar", t.iter+1, t.costVal)
}

// update fetches the gradients of the last run and applies the optimiser.
func (b *engineBuf[T]) update(t *Trainer, lr float64) error {
	for i, gn := range t.grads {
		v := gn.Value()
		if v == nil {
			return fmt.Errorf("no gradient for %s", t.names[i])
		}
		g, ok := v.Data().([]T)
		if !ok || len(g) != len(b.ws[i]) {
			return fmt.Errorf("gradient of %s: %d values of %T, want %d", t.names[i], v.Shape().TotalSize(), v.Data(), len(b.ws[i]))
		}
		b.gs[i] = g
	}
	b.opt.update(t.pool, b.ws, b.gs, lr)
	clear(b.gs) // drop references to the machine's values
	return nil
}

// normaliseTo writes (src − mean)/std into dst, element by element.
func normaliseTo[T float32 | float64](dst []T, src []float32, mean, std float64) {
	src = src[:len(dst)]
	inv := 1 / std
	for i, v := range src {
		dst[i] = T((float64(v) - mean) * inv)
	}
}

// oneHotTo writes the one-hot rows of labels into dst (len(labels)×classes).
func oneHotTo[T float32 | float64](dst []T, labels []int, classes int) {
	clear(dst)
	for i, l := range labels {
		dst[i*classes+l] = 1
	}
}

// Iter returns the number of steps taken.
func (t *Trainer) Iter() int { return t.iter }

// SetIter sets the number of steps done, to resume from a checkpoint: the
// learning-rate schedule and the losses' schedules (SphereFace's λ) go on
// from step n. It panics for n < 0.
func (t *Trainer) SetIter(n int) {
	if n < 0 {
		panic(fmt.Sprintf("core: SetIter(%d): negative step", n))
	}
	t.iter = n
}

// LR returns the learning rate of the next step, Opt.LRAt(Iter()).
func (t *Trainer) LR() float64 { return t.cfg.Opt.LRAt(t.iter) }

// Params returns a float32 copy of every learnable, encoder.* and the
// loss's (head.*), and of the encoder's buffers (batch-norm running
// statistics), by name.
func (t *Trainer) Params() map[string]Tensor {
	out := make(map[string]Tensor, len(t.params)+len(t.bufs))
	for i, name := range t.bufNames {
		out[name] = Tensor{Shape: append([]int(nil), t.bufs[i].Shape()...), Data: valueFloat32s(t.bufs[i].Value())}
	}
	for i, name := range t.names {
		d := make([]float32, shapeSize(t.shapes[i]))
		if t.f32 != nil {
			copy(d, t.f32.ws[i])
		} else {
			for j, v := range t.f64.ws[i] {
				d[j] = float32(v)
			}
		}
		out[name] = Tensor{Shape: append([]int(nil), t.shapes[i]...), Data: d}
	}
	return out
}

// SetParams loads parameter values by name, for resuming and tests. Every
// encoder.* parameter, batch-norm running statistics included, must be
// present; the loss's learnables are loaded
// when present and kept otherwise. Names the trainer does not know, and
// shapes or lengths that differ from the graph's, are errors, and leave the
// parameters unchanged. Loading resets the optimiser's state (momentum,
// moments) but not Iter.
func (t *Trainer) SetParams(p map[string]Tensor) error {
	index := make(map[string]int, len(t.names))
	for i, n := range t.names {
		index[n] = i
	}
	bufIndex := make(map[string]int, len(t.bufNames))
	for i, n := range t.bufNames {
		bufIndex[n] = i
	}
	var unknown []string
	for name, v := range p {
		if i, ok := bufIndex[name]; ok {
			if err := checkTensor(name, v, t.bufs[i].Shape()); err != nil {
				return err
			}
			continue
		}
		i, ok := index[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		if err := checkTensor(name, v, t.shapes[i]); err != nil {
			return err
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unknown parameters %s", strings.Join(unknown, ", "))
	}
	for _, name := range append(slices.Clone(t.names), t.bufNames...) {
		if _, ok := p[name]; !ok && strings.HasPrefix(name, "encoder.") {
			return fmt.Errorf("missing parameter %s", name)
		}
	}
	for i, name := range t.bufNames {
		setValueFloat32s(t.bufs[i].Value(), p[name].Data)
	}
	for i, name := range t.names {
		v, ok := p[name]
		if !ok {
			continue
		}
		if t.f32 != nil {
			copy(t.f32.ws[i], v.Data)
		} else {
			for j, x := range v.Data {
				t.f64.ws[i][j] = float64(x)
			}
		}
	}
	if t.f32 != nil {
		t.f32.opt.reset()
	} else {
		t.f64.opt.reset()
	}
	return nil
}

// valueFloat32s returns a float32 copy of a float32 or float64 dense value.
func valueFloat32s(v G.Value) []float32 {
	switch d := v.Data().(type) {
	case []float32:
		return slices.Clone(d)
	case []float64:
		out := make([]float32, len(d))
		for i, x := range d {
			out[i] = float32(x)
		}
		return out
	}
	panic(fmt.Sprintf("core: value of %T, want float32 or float64", v.Data()))
}

// setValueFloat32s copies src into a float32 or float64 dense value, in
// place.
func setValueFloat32s(v G.Value, src []float32) {
	switch d := v.Data().(type) {
	case []float32:
		copy(d, src)
	case []float64:
		for i, x := range src {
			d[i] = float64(x)
		}
	default:
		panic(fmt.Sprintf("core: value of %T, want float32 or float64", v.Data()))
	}
}

// checkTensor reports whether v has the given shape and matching data.
func checkTensor(name string, v Tensor, shape []int) error {
	if !slices.Equal(v.Shape, shape) {
		return fmt.Errorf("parameter %s has shape %v, want %v", name, v.Shape, shape)
	}
	if len(v.Data) != shapeSize(shape) {
		return fmt.Errorf("parameter %s has %d values, want %d for shape %v", name, len(v.Data), shapeSize(shape), shape)
	}
	return nil
}

func shapeSize(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func dtypeOf(name string) (tensor.Dtype, error) {
	switch name {
	case Float32:
		return tensor.Float32, nil
	case Float64:
		return tensor.Float64, nil
	}
	return tensor.Dtype{}, errors.New("dtype " + name + ": want float32 or float64")
}

// newTapeMachine returns gorgonia's tape machine for g, without the
// finalizer gorgonia sets on it. That finalizer only releases CUDA
// contexts (a no-op in a build without the cuda tag), but an object with a
// finalizer that sits in a cycle is never freed, and a tape machine always
// does (machine → program → graph → nodes → G.Read's pointer into the
// Encoder or Trainer that holds the machine): every Encoder and Trainer,
// with its graph and buffers, would live as long as the process.
func newTapeMachine(g *G.ExprGraph) G.VM {
	m := G.NewTapeMachine(g)
	runtime.SetFinalizer(m, nil)
	return m
}
