package core

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// planSpecs are the specs the plan tests run: every architecture at a
// small input (a missing architecture fails TestPlanCoversArchitectures).
func planSpecs() []Spec {
	return []Spec{
		smallSpec(ArchMLP, 1, 8, 8, 3),
		smallSpec(ArchLeNetS, 1, 20, 18, 3),
		smallSpec(ArchLeNetM, 1, 16, 17, 5),
		smallSpec(ArchLeNetL, 3, 16, 16, 4),
		smallSpec(ArchLeNetPP, 1, 13, 12, 4),
		faceSpec(17, 6),
	}
}

// planVariants are planSpecs and the specs that change a plan beyond the
// architecture: lenet-s ending with EmbedBN's batch norm.
func planVariants() []Spec {
	bn := smallSpec(ArchLeNetS, 1, 18, 18, 6)
	bn.EmbedBN = true
	return append(planSpecs(), bn)
}

func TestPlanCoversArchitectures(t *testing.T) {
	var covered []string
	for _, s := range planSpecs() {
		covered = append(covered, s.Arch)
	}
	slices.Sort(covered)
	if !slices.Equal(covered, ArchNames()) {
		t.Fatalf("plan tests cover %v, architectures are %v: add the new one to planSpecs (and to Spec.Plan)", covered, ArchNames())
	}
}

// TestPlanParams checks that a plan's parameters are its spec's layout
// (names, shapes, order, learnable and decayed as the Trainer treats
// them), and that its layers use each of them exactly once.
func TestPlanParams(t *testing.T) {
	for _, s := range append(planVariants(), DefaultSpec(ArchLeNetPP, 3), faceSpec(112, 512)) {
		p := s.Plan()
		layout := s.layout()
		if len(p.Params) != len(layout) {
			t.Fatalf("%s: %d plan params, layout has %d", s.Arch, len(p.Params), len(layout))
		}
		for i, q := range layout {
			pp := p.Params[i]
			if pp.Name != q.name || !slices.Equal(pp.Shape, q.shape) || pp.Learnable != q.kind.learnable() || pp.Decay != (q.kind == kindWeight) {
				t.Errorf("%s: plan param %d is %+v, layout %s %v kind %d", s.Arch, i, pp, q.name, q.shape, q.kind)
			}
		}
		used := map[string]int{}
		for _, l := range p.Layers {
			for _, n := range []string{l.Weight, l.Bias} {
				if n != "" {
					used[n]++
				}
			}
			if l.BN != "" {
				for _, suf := range []string{".weight", ".bias", ".running_mean", ".running_var"} {
					used[l.BN+suf]++
				}
			}
			for _, in := range l.In {
				if in >= l.Out {
					t.Errorf("%s: layer %v reads value %d made after it", s.Arch, l.Kind, in)
				}
			}
		}
		for _, q := range layout {
			if used[q.name] != 1 {
				t.Errorf("%s: parameter %s used %d times by the plan's layers", s.Arch, q.name, used[q.name])
			}
		}
		if out := p.Values[p.Output]; !out.Flat || out.C != s.Dim {
			t.Errorf("%s: output value %+v, want %d features", s.Arch, out, s.Dim)
		}
	}
}

// TestPlanMatchesEncoder runs every plan with a plain float64 interpreter
// (evaluation-mode batch norms) on random parameters, running statistics
// away from 0 and 1 included, and compares the embeddings with the
// gorgonia Encoder's on the same parameters.
func TestPlanMatchesEncoder(t *testing.T) {
	for _, s := range planVariants() {
		if s.Arch == ArchIResNet && testing.Short() && runtime.GOOS == "js" {
			continue // slow under wasm; the same code runs natively
		}
		rng := rand.New(rand.NewPCG(5, uint64(len(s.Arch))))
		params := planRandomParams(s, rng)
		const n = 3
		x := make([]float32, n*s.Input.Size())
		for i := range x {
			x[i] = rng.Float32()
		}
		got := mustEmbed(t, s, params, n, x, n)
		want := planForward(s.Plan(), params, x, n)
		var scale float64
		for _, v := range want {
			scale = max(scale, math.Abs(v))
		}
		for i := range want {
			if d := math.Abs(float64(got[i]) - want[i]); d > 1e-4*scale+1e-3*math.Abs(want[i]) || math.IsNaN(d) {
				t.Errorf("%s: embedding[%d] = %v, plan %v", s.Arch, i, got[i], want[i])
			}
		}
	}
}

// TestInitParamsMatchTrainer checks that InitParams draws what NewTrainer
// draws, head included.
func TestInitParamsMatchTrainer(t *testing.T) {
	for _, s := range planSpecs() {
		tr, _ := newTestTrainer(t, s, 2, 5, Float32, DefaultOpt(OptAdam), 11)
		// softmaxCE's head.weight is rank 2 (He normal), head.bias zero.
		got := InitParams(s, []ParamShape{{"head.weight", []int{5, s.Dim}}, {"head.bias", []int{5}}}, 11)
		assertParamsEqual(t, s.Arch+" InitParams", got, tr.Params())
	}
}

// planRandomParams returns random parameters of s: He-scaled weights,
// scales near 1, running variances in [0.5, 1.5), the rest near 0.
func planRandomParams(s Spec, rng *rand.Rand) map[string]Tensor {
	params := make(map[string]Tensor)
	for _, pr := range s.layout() {
		d := make([]float32, shapeSize(pr.shape))
		for i := range d {
			switch pr.kind {
			case kindWeight:
				d[i] = float32(math.Sqrt(2/float64(pr.fanIn())) * rng.NormFloat64())
			case kindRunVar:
				d[i] = float32(0.5 + rng.Float64())
			case kindBNWeight, kindFixedOne:
				d[i] = float32(1 + 0.2*rng.NormFloat64())
			default:
				d[i] = float32(0.2 * rng.NormFloat64())
			}
		}
		params[pr.name] = Tensor{Shape: pr.shape, Data: d}
	}
	return params
}

// planForward evaluates plan p on n images x (raw pixels) in float64,
// batch norms in evaluation mode, and returns the n×D embeddings. Values
// are kept N×C×H×W.
func planForward(p Plan, params map[string]Tensor, x []float32, n int) []float64 {
	in := p.Spec.Input
	vals := make([][]float64, len(p.Values))
	vals[0] = make([]float64, len(x))
	for i, v := range x {
		vals[0][i] = (float64(v) - in.Mean) / in.Std
	}
	par := func(name string) []float64 {
		t := params[name]
		out := make([]float64, len(t.Data))
		for i, v := range t.Data {
			out[i] = float64(v)
		}
		return out
	}
	for _, l := range p.Layers {
		xv, iv, ov := vals[l.In[0]], p.Values[l.In[0]], p.Values[l.Out]
		sp := iv.H * iv.W
		y := make([]float64, n*ov.Size())
		switch l.Kind {
		case LayerConv:
			w := par(l.Weight)
			var b []float64
			if l.Bias != "" {
				b = par(l.Bias)
			}
			k := l.Kernel
			for img := 0; img < n; img++ {
				for o := 0; o < ov.C; o++ {
					for i := 0; i < ov.H; i++ {
						for j := 0; j < ov.W; j++ {
							var s float64
							if b != nil {
								s = b[o]
							}
							for c := 0; c < iv.C; c++ {
								for u := 0; u < k; u++ {
									for v := 0; v < k; v++ {
										h, ww := l.Stride*i+u-l.Pad, l.Stride*j+v-l.Pad
										if h >= 0 && h < iv.H && ww >= 0 && ww < iv.W {
											s += w[((o*iv.C+c)*k+u)*k+v] * xv[((img*iv.C+c)*iv.H+h)*iv.W+ww]
										}
									}
								}
							}
							y[((img*ov.C+o)*ov.H+i)*ov.W+j] = s
						}
					}
				}
			}
		case LayerBatchNorm:
			g, b, rm, rv := par(l.BN+".weight"), par(l.BN+".bias"), par(l.BN+".running_mean"), par(l.BN+".running_var")
			for i := range y {
				c := (i / sp) % iv.C
				y[i] = g[c]*(xv[i]-rm[c])/math.Sqrt(rv[c]+bnEps) + b[c]
			}
		case LayerPReLU:
			a := par(l.Weight)
			for i, v := range xv {
				y[i] = v
				if v <= 0 {
					y[i] = a[(i/sp)%iv.C] * v
				}
			}
		case LayerReLU:
			for i, v := range xv {
				y[i] = max(v, 0)
			}
		case LayerMaxPool2:
			for pl := 0; pl < n*iv.C; pl++ {
				for i := 0; i < ov.H; i++ {
					for j := 0; j < ov.W; j++ {
						m := math.Inf(-1)
						for u := 0; u < 2; u++ {
							for v := 0; v < 2; v++ {
								m = max(m, xv[(pl*iv.H+2*i+u)*iv.W+2*j+v])
							}
						}
						y[(pl*ov.H+i)*ov.W+j] = m
					}
				}
			}
		case LayerLinear:
			w, b := par(l.Weight), par(l.Bias)
			f := iv.Size()
			for img := 0; img < n; img++ {
				for o := 0; o < ov.C; o++ {
					s := b[o]
					for i := 0; i < f; i++ {
						s += w[o*f+i] * xv[img*f+i]
					}
					y[img*ov.C+o] = s
				}
			}
		case LayerAdd:
			for i := range y {
				y[i] = xv[i] + vals[l.In[1]][i]
			}
		}
		vals[l.Out] = y
	}
	return vals[p.Output]
}
