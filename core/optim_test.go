package core

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"metriclab/core/par"
)

// TestOptimizerTwoSteps applies two updates to a weight (decayed) and a
// bias (not decayed), both starting at 1, with gradients 0.5 then −0.25,
// and compares with values worked out by hand from the formulas of
// OptConfig's doc comment.
func TestOptimizerTwoSteps(t *testing.T) {
	for _, c := range []struct {
		name   string
		cfg    OptConfig
		weight [2]float64 // w after step 1 and 2, decayed
		bias   [2]float64 // w after step 1 and 2, not decayed
		tol32  float64
	}{
		{
			// lr 0.1, μ 0.9, λ 0.01:
			// weight: g'=0.5+0.01·1=0.51, v=0.51, w=1−0.051=0.949;
			//         g'=−0.25+0.01·0.949=−0.24051, v=0.9·0.51−0.24051=0.21849, w=0.949−0.021849=0.927151
			// bias:   v=0.5, w=0.95; v=0.45−0.25=0.2, w=0.95−0.02=0.93
			name:   "sgd",
			cfg:    OptConfig{Name: OptSGD, LR: 0.1, Momentum: 0.9, WeightDecay: 0.01},
			weight: [2]float64{0.949, 0.927151},
			bias:   [2]float64{0.95, 0.93},
			tol32:  1e-6,
		},
		{
			// lr 0.1, β1 0.9, β2 0.999, ε 1e-8, λ 0.1:
			// bias:   m=0.05, v=0.00025, m̂=0.5, v̂=0.25, w=1−0.1·0.5/(0.5+1e-8)=0.900000002;
			//         m=0.02, v=0.00031225, m̂=0.02/0.19, v̂=0.00031225/0.001999,
			//         w=0.900000002−0.1·0.1052632/0.3952254=0.8733662987078463
			// weight: g'=0.6: w=1−0.1·0.6/(0.6+1e-8)=0.9000000016666666;
			//         g'=−0.25+0.09=−0.16, m=0.038, v=0.00038524, m̂=0.2, v̂=0.1927164,
			//         w=0.8544413674617625
			// (the 16-digit values were evaluated with Python floats)
			name:   "adam",
			cfg:    OptConfig{Name: OptAdam, LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1},
			weight: [2]float64{0.9000000016666666, 0.8544413674617625},
			bias:   [2]float64{0.900000002, 0.8733662987078463},
			tol32:  1e-6,
		},
	} {
		grads := []float64{0.5, -0.25}
		// float64: to rounding.
		o64 := newOptimizer[float64](c.cfg, []int{1, 1}, []bool{true, false})
		ws64 := [][]float64{{1}, {1}}
		// float32: to float32 rounding.
		o32 := newOptimizer[float32](c.cfg, []int{1, 1}, []bool{true, false})
		ws32 := [][]float32{{1}, {1}}
		for step, g := range grads {
			o64.update(nil, ws64, [][]float64{{g}, {g}}, c.cfg.LR)
			o32.update(nil, ws32, [][]float32{{float32(g)}, {float32(g)}}, c.cfg.LR)
			for _, v := range []struct {
				what      string
				got, want float64
				tol       float64
			}{
				{"float64 weight", ws64[0][0], c.weight[step], 1e-14},
				{"float64 bias", ws64[1][0], c.bias[step], 1e-14},
				{"float32 weight", float64(ws32[0][0]), c.weight[step], c.tol32},
				{"float32 bias", float64(ws32[1][0]), c.bias[step], c.tol32},
			} {
				if math.Abs(v.got-v.want) > v.tol {
					t.Errorf("%s step %d %s: %.16g, want %.16g", c.name, step+1, v.what, v.got, v.want)
				}
			}
		}
	}
}

// TestOptimizerReset checks that reset makes the next update behave like
// the first one (the momentum is gone).
func TestOptimizerReset(t *testing.T) {
	o := newOptimizer[float64](OptConfig{Name: OptSGD, LR: 0.1, Momentum: 0.9}, []int{1}, []bool{false})
	w := [][]float64{{1}}
	o.update(nil, w, [][]float64{{1}}, 0.1) // v=1, w=0.9
	o.reset()
	o.update(nil, w, [][]float64{{1}}, 0.1) // v=1 again (not 1.9), w=0.8
	if math.Abs(w[0][0]-0.8) > 1e-15 {
		t.Errorf("after reset: w = %g, want 0.8", w[0][0])
	}
}

// TestSchedules checks LRAt against the closed forms at chosen t.
func TestSchedules(t *testing.T) {
	base := DefaultOpt(OptSGD)
	base.LR = 0.1
	with := func(f func(*OptConfig)) OptConfig { c := base; f(&c); return c }
	step := with(func(c *OptConfig) { c.Schedule, c.StepEvery, c.Gamma = ScheduleStep, 10, 0.5 })
	cosine := with(func(c *OptConfig) { c.Schedule, c.TotalSteps = ScheduleCosine, 100 })
	warm := with(func(c *OptConfig) { c.Schedule, c.TotalSteps, c.Warmup = ScheduleCosine, 100, 4 })
	// The schedules of a run of 30 steps as train and a job set them.
	run := func(s string) OptConfig { return base.WithSchedule(s, 30) }
	for _, c := range []struct {
		name string
		cfg  OptConfig
		t    int
		want float64 // closed form, in the comment
		tol  float64
	}{
		{"constant t=0", base, 0, 0.1, 0},
		{"constant t=1000", base, 1000, 0.1, 0},
		{"step t=9", step, 9, 0.1, 1e-15},                       // 0.1·0.5^0
		{"step t=10", step, 10, 0.05, 1e-15},                    // 0.1·0.5^1
		{"step t=35", step, 35, 0.0125, 1e-15},                  // 0.1·0.5^3
		{"cosine t=0", cosine, 0, 0.1, 1e-15},                   // ½(1+cos 0) = 1
		{"cosine t=25", cosine, 25, 0.08535533905932737, 1e-15}, // 0.1·½(1+cos(π/4)) = 0.1·(2+√2)/4
		{"cosine t=50", cosine, 50, 0.05, 1e-15},                // cos(π/2) = 0
		{"cosine t=100", cosine, 100, 0, 1e-15},                 // cos π = −1
		{"cosine t=150", cosine, 150, 0, 1e-15},                 // held at T
		{"run step t=9", run(ScheduleStep), 9, 0.1, 1e-15},      // a third of 30
		{"run step t=10", run(ScheduleStep), 10, 0.01, 1e-15},   // ÷ 10
		{"run step t=29", run(ScheduleStep), 29, 0.001, 1e-15},
		{"run of 31 step t=30", base.WithSchedule(ScheduleStep, 31), 30, 0.001, 1e-15}, // still the last third: ⌈31/3⌉ = 11
		{"run cosine t=15", run(ScheduleCosine), 15, 0.05, 1e-15},
		{"run constant t=29", run(ScheduleConstant), 29, 0.1, 0},
		{"warm-up t=0", warm, 0, 0.025, 1e-15}, // 0.1·¼·cos-factor(0)=1
		{"warm-up t=2", warm, 2, 0.1 * 0.75 * 0.5 * (1 + math.Cos(math.Pi*2/100)), 1e-15},
		{"warm-up t=3", warm, 3, 0.1 * 0.5 * (1 + math.Cos(math.Pi*3/100)), 1e-15}, // (3+1)/4 = 1: no warm-up factor
	} {
		if err := c.cfg.Validate(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := c.cfg.LRAt(c.t); math.Abs(got-c.want) > c.tol {
			t.Errorf("%s: LRAt = %.17g, want %.17g", c.name, got, c.want)
		}
	}
}

func TestOptConfigValidate(t *testing.T) {
	sgd, adam := DefaultOpt(OptSGD), DefaultOpt(OptAdam)
	with := func(c OptConfig, f func(*OptConfig)) OptConfig { f(&c); return c }
	for _, c := range []struct {
		name string
		cfg  OptConfig
		want string // substring of the error, "" for valid
	}{
		{"sgd default", sgd, ""},
		{"adam default", adam, ""},
		{"unknown", DefaultOpt("rmsprop"), `unknown optimiser "rmsprop"`},
		{"lr 0", with(sgd, func(c *OptConfig) { c.LR = 0 }), "learning rate 0"},
		{"lr NaN", with(adam, func(c *OptConfig) { c.LR = math.NaN() }), "learning rate NaN"},
		{"lr below float32", with(adam, func(c *OptConfig) { c.LR = 1e-320 }), "learning rate 1e-320"},
		{"lr above float32", with(sgd, func(c *OptConfig) { c.LR = 1e39 }), "learning rate 1e+39"},
		{"lr at float32's smallest normal", with(sgd, func(c *OptConfig) { c.LR = 0x1p-126 }), ""},
		{"decay below float32", with(sgd, func(c *OptConfig) { c.WeightDecay = 1e-40 }), "weight decay 1e-40"},
		{"decay +Inf", with(sgd, func(c *OptConfig) { c.WeightDecay = math.Inf(1) }), "weight decay +Inf"},
		{"eps below float32", with(adam, func(c *OptConfig) { c.Eps = 1e-45 }), "eps 1e-45"},
		{"momentum 1", with(sgd, func(c *OptConfig) { c.Momentum = 1 }), "momentum 1"},
		{"negative decay", with(sgd, func(c *OptConfig) { c.WeightDecay = -1 }), "weight decay -1"},
		{"beta2 1", with(adam, func(c *OptConfig) { c.Beta2 = 1 }), "betas"},
		{"eps 0", with(adam, func(c *OptConfig) { c.Eps = 0 }), "eps 0"},
		{"step every 0", with(sgd, func(c *OptConfig) { c.Schedule = ScheduleStep }), "step every 0"},
		{"gamma 0", with(sgd, func(c *OptConfig) { c.Schedule, c.StepEvery, c.Gamma = ScheduleStep, 5, 0 }), "gamma 0"},
		{"cosine T 0", with(sgd, func(c *OptConfig) { c.Schedule = ScheduleCosine }), "total steps 0"},
		{"bad schedule", with(sgd, func(c *OptConfig) { c.Schedule = "linear" }), `unknown schedule "linear"`},
		{"negative warm-up", with(sgd, func(c *OptConfig) { c.Warmup = -1 }), "warm-up -1"},
		{"empty schedule is constant", with(sgd, func(c *OptConfig) { c.Schedule = "" }), ""},
	} {
		err := c.cfg.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestOptimizerThreadsSameBits: a parameter large enough to be split among
// threads gets the bits of the one-thread update, for SGD and Adam, over a
// few steps.
func TestOptimizerThreadsSameBits(t *testing.T) {
	pool := par.NewPool(3)
	defer pool.Close()
	const n = 3*elemGrain + 17
	for _, cfg := range []OptConfig{
		{Name: OptSGD, LR: 0.1, Momentum: 0.9, WeightDecay: 0.01},
		{Name: OptAdam, LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1},
	} {
		rng := rand.New(rand.NewPCG(3, 4))
		w1, w3, g := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range w1 {
			w1[i] = float32(rng.NormFloat64())
		}
		copy(w3, w1)
		last := w1[n-1]
		o1 := newOptimizer[float32](cfg, []int{n, 5}, []bool{true, false})
		o3 := newOptimizer[float32](cfg, []int{n, 5}, []bool{true, false})
		small1, small3 := make([]float32, 5), make([]float32, 5)
		for step := 0; step < 3; step++ {
			for i := range g {
				g[i] = float32(rng.NormFloat64())
			}
			o1.update(nil, [][]float32{w1, small1}, [][]float32{g, g[:5]}, cfg.LR)
			o3.update(pool, [][]float32{w3, small3}, [][]float32{g, g[:5]}, cfg.LR)
		}
		for i := range w1 {
			if w1[i] != w3[i] {
				t.Fatalf("%s: w[%d] = %g on three threads, %g on one", cfg.Name, i, w3[i], w1[i])
			}
		}
		if w3[n-1] == last {
			t.Fatalf("%s: the last thread's elements were not updated", cfg.Name)
		}
	}
}

// TestOptimizerFlushesSubnormals: a parameter whose gradient is g0 once
// and 0 after (a dead ReLU unit's) has its buffers decay geometrically
// (β1 = μ = 0.9, β2 = 0.999 per step) into the subnormal range, where
// β·x rounds back to x once x is a few (β = 0.9) or a few hundred
// (0.999) multiples of the smallest subnormal; no update may leave a
// subnormal there, for the CPU takes its slow path on every one
// (BenchmarkOptimizerUpdate). The first step's
// buffers, normal values of T below float32's smallest normal number for
// float64, must be kept, and by the last step every buffer is 0 (so the
// steps ran through the subnormal range).
func TestOptimizerFlushesSubnormals(t *testing.T) {
	for _, name := range []string{OptSGD, OptAdam} {
		cfg := DefaultOpt(name)
		cfg.WeightDecay = 0
		// float32: Adam's v = 1e-3·g0² = 1e-37 after the first step, subnormal
		// after about 2140 steps; m = 1e-18 after about 440, SGD's v = 1e-17
		// after about 460.
		flushesSubnormals[float32](t, cfg, 1e-17, 0x1p-126, 5000)
		// float64: v = 1e-303, subnormal after about 10700 steps.
		flushesSubnormals[float64](t, cfg, 1e-150, 0x1p-1022, 12000)
	}
}

// flushesSubnormals is TestOptimizerFlushesSubnormals for one optimiser
// and precision T of smallest normal number minNormal: gradients ±g0,
// then steps−1 updates with 0.
func flushesSubnormals[T float32 | float64](t *testing.T, cfg OptConfig, g0, minNormal float64, steps int) {
	t.Helper()
	o := newOptimizer[T](cfg, []int{2}, []bool{false})
	w := [][]T{{1, 1}}
	bufs := func() [][]T { return append(o.m[:1:1], o.v...) }
	o.update(nil, w, [][]T{{T(g0), T(-g0)}}, cfg.LR)
	for _, b := range bufs() {
		if b[0] == 0 || b[1] == 0 {
			t.Errorf("%s %T: buffers %g after one gradient ±%g, want them non-zero", cfg.Name, b[0], b, g0)
			return
		}
	}
	zero := [][]T{{0, 0}}
	for step := 2; step <= steps; step++ {
		o.update(nil, w, zero, cfg.LR)
		for _, b := range bufs() {
			for _, x := range b {
				if x != 0 && math.Abs(float64(x)) < minNormal {
					t.Errorf("%s %T: step %d leaves %g in a buffer, a subnormal number", cfg.Name, x, step, x)
					return
				}
			}
		}
	}
	for _, b := range bufs() {
		if b[0] != 0 || b[1] != 0 {
			t.Errorf("%s %T: buffers %g after %d steps, want 0", cfg.Name, b[0], b, steps)
			return
		}
	}
}

// BenchmarkOptimizerUpdate times one update of a 256×1024 weight (mlp's
// fc1) on one thread: with normal gradients and state, and with the state
// a run reaches once a dead unit's gradients are 0 (momentum m a few
// multiples of float32's smallest subnormal, 2^−149, where β1·m rounds
// back to m).
func BenchmarkOptimizerUpdate(b *testing.B) {
	const n = 256 * 1024
	for _, name := range []string{OptSGD, OptAdam} {
		for _, state := range []string{"normal", "subnormal"} {
			b.Run(name+"/"+state, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(5, 6))
				cfg := DefaultOpt(name)
				o := newOptimizer[float32](cfg, []int{n}, []bool{false})
				w, g := make([]float32, n), make([]float32, n)
				for i := range w {
					w[i] = float32(rng.NormFloat64())
					o.m[0][i] = float32(rng.NormFloat64())
					if o.v != nil {
						o.v[0][i] = float32(rng.Float64())
					}
					if state == "normal" {
						g[i] = float32(rng.NormFloat64())
					} else {
						o.m[0][i] = float32(1+i%4) * 0x1p-149
					}
				}
				b.ResetTimer()
				for range b.N {
					o.update(nil, [][]float32{w}, [][]float32{g}, cfg.LR)
				}
			})
		}
	}
}
