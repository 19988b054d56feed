package core

import (
	"fmt"
	"math"

	"metriclab/core/par"
)

// Optimiser names.
const (
	OptSGD  = "sgd"
	OptAdam = "adam"
)

// Learning-rate schedule names.
const (
	ScheduleConstant = "constant"
	ScheduleStep     = "step"
	ScheduleCosine   = "cosine"
)

// OptConfig configures the optimiser and its learning-rate schedule.
//
// SGD with momentum μ and weight decay λ (PyTorch's torch.optim.SGD):
//
//	g ← g + λ·w,  v ← μ·v + g,  w ← w − lr_t·v
//
// Adam (Kingma & Ba 2015) with L2 weight decay λ added to the gradient
// (torch.optim.Adam), step count t = 1, 2, …:
//
//	g ← g + λ·w,  m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
//	w ← w − lr_t · (m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)
//
// The buffers m and v (SGD's v) are flushed to 0 where they fall below the
// smallest normal number of the parameters' precision: a parameter whose
// gradient stays 0 (a dead ReLU unit's) would otherwise keep them a few
// multiples of the smallest subnormal, where β·m rounds back to m, and the
// CPU takes its slow path for subnormals on every update (35 to 90 times
// slower per value, BenchmarkOptimizerUpdate; mlp on 15 ORL faces went
// from 2 to 5–8 ms a step once its loss was ~0: a quarter of fc1's
// weights, those of hidden units that had stopped firing).
//
// Weight decay applies to weights of rank ≥ 2 only (conv and linear
// weights, the loss's class weights); biases, PReLU slopes and other rank-1
// parameters are not decayed.
//
// The learning rate at step t = 0, 1, … is lr_t = LR · f(t) · warm(t):
//
//	constant  f(t) = 1
//	step      f(t) = Gamma^⌊t/StepEvery⌋
//	cosine    f(t) = ½·(1 + cos(π·min(t, T)/T)),  T = TotalSteps
//	warm(t)   = min(1, (t+1)/Warmup), or 1 when Warmup = 0
type OptConfig struct {
	Name        string  // "sgd" or "adam"
	LR          float64 // base learning rate
	Momentum    float64 // SGD μ, in [0, 1)
	WeightDecay float64 // λ ≥ 0
	Beta1       float64 // Adam β1, in [0, 1)
	Beta2       float64 // Adam β2, in [0, 1)
	Eps         float64 // Adam ε > 0

	Schedule   string  // "constant" (or ""), "step", "cosine"
	StepEvery  int     // step: steps between decays, ≥ 1
	Gamma      float64 // step: decay factor, in (0, 1]
	TotalSteps int     // cosine: T ≥ 1
	Warmup     int     // linear warm-up steps, ≥ 0 (0: none)
}

// DefaultOpt returns the default configuration of the named optimiser with
// a constant schedule: SGD lr 0.01, momentum 0.9, weight decay 5e-4; Adam
// lr 0.01, β1 0.9, β2 0.999, ε 1e-8, no weight decay; both with the step
// schedule's decay by StepGamma, should it be chosen (WithSchedule). (Adam's lr is 0.01,
// not the paper's 1e-3: ArcFace at D = 3 on lenet-s reaches 0.954 after 3
// epochs at 1e-3, 0.9885 at 0.01.) Any other name gives
// a config with only Name set, which Validate rejects.
func DefaultOpt(name string) OptConfig {
	switch name {
	case OptSGD:
		return OptConfig{Name: OptSGD, LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4, Schedule: ScheduleConstant, Gamma: StepGamma}
	case OptAdam:
		return OptConfig{Name: OptAdam, LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Schedule: ScheduleConstant, Gamma: StepGamma}
	}
	return OptConfig{Name: name}
}

// StepGamma is the step schedule's decay: the learning rate is divided by
// 10 at each third of the run (as torch.optim.lr_scheduler.StepLR's
// common gamma = 0.1).
const StepGamma = 0.1

// WithSchedule returns c with the named schedule over a run of totalSteps
// steps: the cosine's T, and the step schedule's decay every
// ⌈totalSteps/3⌉ steps, so at most twice: the run's last part, a third of
// it or less, at Gamma² (a run of 4 steps decays once, at its half). The
// schedules of `metriclab train --schedule` and of a job.
func (c OptConfig) WithSchedule(schedule string, totalSteps int) OptConfig {
	c.Schedule, c.TotalSteps, c.StepEvery = schedule, totalSteps, max(1, (totalSteps+2)/3)
	return c
}

// minNormalFloat32 is float32's smallest normal number, 2^−126.
const minNormalFloat32 = 0x1p-126

// minNormal returns the smallest normal number of T: 2^−126 for float32,
// 2^−1022 for float64.
func minNormal[T float32 | float64]() T {
	if _, ok := any(T(0)).(float32); ok {
		return minNormalFloat32
	}
	return 0x1p-1022
}

// Validate reports whether c is a usable configuration: the learning rate,
// Adam's ε and a non-zero weight decay within float32's normal range.
func (c OptConfig) Validate() error {
	// The engines compute in float32: a positive value below its smallest
	// normal number rounds to 0 or loses its precision, one above its
	// largest becomes +Inf.
	float32Normal := func(v float64) bool { return v >= minNormalFloat32 && v <= math.MaxFloat32 }
	switch c.Name {
	case OptSGD:
		if !(c.Momentum >= 0 && c.Momentum < 1) {
			return fmt.Errorf("sgd: momentum %g out of range [0, 1)", c.Momentum)
		}
	case OptAdam:
		if !(c.Beta1 >= 0 && c.Beta1 < 1) || !(c.Beta2 >= 0 && c.Beta2 < 1) {
			return fmt.Errorf("adam: betas (%g, %g) out of range [0, 1)", c.Beta1, c.Beta2)
		}
		if !float32Normal(c.Eps) {
			return fmt.Errorf("adam: eps %g: want a value in [%.3g, %.3g] (float32's normal range)", c.Eps, minNormalFloat32, math.MaxFloat32)
		}
	default:
		return fmt.Errorf("unknown optimiser %q (want %s or %s)", c.Name, OptSGD, OptAdam)
	}
	if !float32Normal(c.LR) {
		return fmt.Errorf("%s: learning rate %g: want a value in [%.3g, %.3g] (float32's normal range)", c.Name, c.LR, minNormalFloat32, math.MaxFloat32)
	}
	if c.WeightDecay != 0 && !float32Normal(c.WeightDecay) {
		return fmt.Errorf("%s: weight decay %g: want 0 or a value in [%.3g, %.3g] (float32's normal range)", c.Name, c.WeightDecay, minNormalFloat32, math.MaxFloat32)
	}
	if c.Warmup < 0 {
		return fmt.Errorf("warm-up %d steps: want ≥ 0", c.Warmup)
	}
	switch c.Schedule {
	case "", ScheduleConstant:
	case ScheduleStep:
		if c.StepEvery < 1 {
			return fmt.Errorf("step schedule: step every %d: want ≥ 1", c.StepEvery)
		}
		if !(c.Gamma > 0 && c.Gamma <= 1) {
			return fmt.Errorf("step schedule: gamma %g out of range (0, 1]", c.Gamma)
		}
	case ScheduleCosine:
		if c.TotalSteps < 1 {
			return fmt.Errorf("cosine schedule: total steps %d: want ≥ 1", c.TotalSteps)
		}
	default:
		return fmt.Errorf("unknown schedule %q (want %s, %s or %s)", c.Schedule, ScheduleConstant, ScheduleStep, ScheduleCosine)
	}
	return nil
}

// LRAt returns the learning rate of step t (0-based) under c's schedule.
func (c OptConfig) LRAt(t int) float64 {
	f := 1.0
	switch c.Schedule {
	case ScheduleStep:
		f = math.Pow(c.Gamma, float64(t/c.StepEvery))
	case ScheduleCosine:
		T := float64(c.TotalSteps)
		f = 0.5 * (1 + math.Cos(math.Pi*math.Min(float64(t), T)/T))
	}
	if c.Warmup > 0 && t+1 < c.Warmup {
		f *= float64(t+1) / float64(c.Warmup)
	}
	return c.LR * f
}

// optimizer updates parameters in place with c's rule. Its state is one
// buffer (SGD: velocity v) or two (Adam: moments m, v) per parameter, in
// the parameters' precision T.
type optimizer[T float32 | float64] struct {
	cfg   OptConfig
	t     int // updates applied so far
	decay []bool
	m, v  [][]T
}

// newOptimizer returns an optimiser for parameters of the given sizes;
// decay[i] says whether weight decay applies to parameter i.
func newOptimizer[T float32 | float64](cfg OptConfig, sizes []int, decay []bool) *optimizer[T] {
	if len(sizes) != len(decay) {
		panic("core: optimizer: sizes and decay differ in length")
	}
	o := &optimizer[T]{cfg: cfg, decay: decay, m: make([][]T, len(sizes))}
	if cfg.Name == OptAdam {
		o.v = make([][]T, len(sizes))
	}
	for i, n := range sizes {
		o.m[i] = make([]T, n)
		if o.v != nil {
			o.v[i] = make([]T, n)
		}
	}
	return o
}

// reset clears the optimiser's state and step count.
func (o *optimizer[T]) reset() {
	o.t = 0
	for i := range o.m {
		clear(o.m[i])
		if o.v != nil {
			clear(o.v[i])
		}
	}
}

// state returns float32 copies of the optimiser's buffers (m, and v for
// Adam; nil otherwise) and its step count: exact for T = float32.
func (o *optimizer[T]) state() (t int, m, v [][]float32) {
	cp := func(bufs [][]T) [][]float32 {
		if bufs == nil {
			return nil
		}
		out := make([][]float32, len(bufs))
		for i, b := range bufs {
			out[i] = make([]float32, len(b))
			for j, x := range b {
				out[i][j] = float32(x)
			}
		}
		return out
	}
	return o.t, cp(o.m), cp(o.v)
}

// setState loads buffers and a step count as state returns them; the
// caller has checked their sizes.
func (o *optimizer[T]) setState(t int, m, v [][]float32) {
	o.t = t
	for i := range o.m {
		for j, x := range m[i] {
			o.m[i][j] = T(x)
		}
		if o.v != nil {
			for j, x := range v[i] {
				o.v[i][j] = T(x)
			}
		}
	}
}

// update applies one step with learning rate lr: ws[i] is parameter i, and
// gs[i] its gradient, of the same length. Each parameter's elements are
// split among pool's threads (nil: one); every element's update is its
// own, so any split gives the same bits.
func (o *optimizer[T]) update(pool *par.Pool, ws, gs [][]T, lr float64) {
	if len(ws) != len(o.m) || len(gs) != len(o.m) {
		panic(fmt.Sprintf("core: optimizer: %d parameters and %d gradients for %d slots", len(ws), len(gs), len(o.m)))
	}
	o.t++
	for i, w := range ws {
		g := gs[i]
		if len(w) != len(o.m[i]) || len(g) != len(w) {
			panic(fmt.Sprintf("core: optimizer: parameter %d has %d values, gradient %d, state %d", i, len(w), len(g), len(o.m[i])))
		}
		wd := 0.0
		if o.decay[i] {
			wd = o.cfg.WeightDecay
		}
		u := updateArgs[T]{w: w, g: g, m: o.m[i], wd: T(wd), tiny: minNormal[T]()}
		switch o.cfg.Name {
		case OptSGD:
			u.lr, u.mu = T(lr), T(o.cfg.Momentum)
			par.For(pool, len(w), elemGrain, u, updateArgs[T].sgd)
		case OptAdam:
			c1 := 1 - math.Pow(o.cfg.Beta1, float64(o.t))
			c2 := 1 - math.Pow(o.cfg.Beta2, float64(o.t))
			u.v, u.lr, u.sc = o.v[i], T(lr/c1), T(1/math.Sqrt(c2))
			u.b1, u.b2, u.eps = T(o.cfg.Beta1), T(o.cfg.Beta2), T(o.cfg.Eps)
			par.For(pool, len(w), elemGrain, u, updateArgs[T].adam)
		}
	}
}

// updateArgs is one parameter's update, handed to the threads by value:
// each method updates elements [lo, hi).
type updateArgs[T float32 | float64] struct {
	w, g, m, v                        []T
	lr, mu, wd, sc, b1, b2, eps, tiny T
}

func (u updateArgs[T]) sgd(lo, hi int) {
	sgdUpdate(u.w[lo:hi], u.g[lo:hi], u.m[lo:hi], u.lr, u.mu, u.wd, u.tiny)
}

func (u updateArgs[T]) adam(lo, hi int) {
	adamUpdate(u.w[lo:hi], u.g[lo:hi], u.m[lo:hi], u.v[lo:hi], u.lr, u.sc, u.b1, u.b2, u.eps, u.wd, u.tiny)
}

// sgdUpdate is one SGD step with momentum mu and weight decay wd on w in
// place: g' = g + wd·w, v ← mu·v + g', w ← w − lr·v, v flushed to 0 when
// |v| < tiny (T's smallest normal number).
func sgdUpdate[T float32 | float64](w, g, v []T, lr, mu, wd, tiny T) {
	g = g[:len(w)]
	v = v[:len(w)]
	for j := range w {
		gj := g[j] + wd*w[j]
		vj := flushed(mu*v[j]+gj, tiny)
		v[j] = vj
		w[j] -= lr * vj
	}
}

// adamUpdate is one Adam step on w in place, with the bias corrections
// folded in: lrc = lr/(1−β1ᵗ) and sc = 1/√(1−β2ᵗ), so that
// w ← w − lrc·m / (sc·√v + ε); m and v are flushed to 0 when below tiny
// in magnitude (T's smallest normal number).
func adamUpdate[T float32 | float64](w, g, m, v []T, lrc, sc, b1, b2, eps, wd, tiny T) {
	g = g[:len(w)]
	m = m[:len(w)]
	v = v[:len(w)]
	for j := range w {
		gj := g[j] + wd*w[j]
		mj := flushed(b1*m[j]+(1-b1)*gj, tiny)
		vj := flushed(b2*v[j]+(1-b2)*gj*gj, tiny)
		m[j], v[j] = mj, vj
		w[j] -= lrc * mj / (sc*T(math.Sqrt(float64(vj))) + eps)
	}
}

// flushed returns x, or 0 when x is subnormal: |x| < tiny, the smallest
// normal number of T.
func flushed[T float32 | float64](x, tiny T) T {
	// One comparison of |x|: x > −tiny && x < tiny branches on x's sign,
	// which random values mispredict (BenchmarkOptimizerUpdate's normal
	// case took 4 to 8 times as long).
	if math.Abs(float64(x)) < float64(tiny) {
		return 0
	}
	return x
}
