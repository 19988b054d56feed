package core

import (
	"fmt"
	"math/rand/v2"

	"gorgonia.org/tensor"
)

// A Plan is an encoder written as a list of layers over numbered values,
// for engines that run the layers with kernels of their own (the CUDA
// engine). It is made from the same layout (parameter names, shapes and
// kinds) and the same structural helpers (lenetPPStages, iresnetConfig's
// blockList) as the gorgonia encoder of arch.go; plan_test.go checks, for
// every architecture, that both have the same parameters and give the
// same embeddings. A new architecture needs a case in Spec.Plan.
//
// Value 0 is the normalised input image, N×Ch×H×W; every layer reads
// values made before it and makes one new value. The plan's output is the
// N×D embedding.

// LayerKind is what a plan layer computes.
type LayerKind int

// The layer kinds. Shapes are per image (C×H×W); a flat value is C×1×1.
const (
	// LayerConv is a convolution, no activation:
	//	y[o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v]·x[c, s·i+u−pad, s·j+v−pad]
	// Weight Co×Ci×K×K; Bias Co or "".
	LayerConv LayerKind = iota
	// LayerBatchNorm is batch normalisation over the channels with the
	// parameters BN+".weight", ".bias", ".running_mean", ".running_var"
	// (see fastBatchNorm for the formulas, momentum and ε).
	LayerBatchNorm
	// LayerPReLU is y = x > 0 ? x : a[c]·x with Weight the slopes a (C).
	LayerPReLU
	// LayerReLU is y = max(x, 0).
	LayerReLU
	// LayerMaxPool2 is max pooling over 2×2 windows, stride 2, flooring.
	LayerMaxPool2
	// LayerLinear is y = x·Wᵀ + b on the input flattened in PyTorch's
	// order (c·H·W + h·W + w); Weight out×in, Bias out.
	LayerLinear
	// LayerAdd is y = In[0] + In[1], two values of one shape.
	LayerAdd
)

var layerKindNames = [...]string{"conv", "batchnorm", "prelu", "relu", "maxpool2", "linear", "add"}

func (k LayerKind) String() string { return layerKindNames[k] }

// Layer is one step of a Plan.
type Layer struct {
	Kind         LayerKind
	In           []int  // the values read (one, two for LayerAdd)
	Out          int    // the value made
	Weight, Bias string // parameter names (conv, linear, prelu); "" when absent
	BN           string // batch norm: the prefix of its parameters
	Kernel       int    // conv: K
	Stride, Pad  int    // conv
}

// PlanValue is the shape of one image's part of a value: C×H×W, or C
// features when Flat.
type PlanValue struct {
	C, H, W int
	Flat    bool
}

// Size is C·H·W.
func (v PlanValue) Size() int { return v.C * v.H * v.W }

// PlanParam is one encoder parameter: its name and shape in the model
// file, whether the optimiser updates it, and whether weight decay applies
// to it (conv and linear weights).
type PlanParam struct {
	Name      string
	Shape     []int
	Learnable bool
	Decay     bool
}

// Plan is an encoder as layers; see the comment above LayerKind.
type Plan struct {
	Spec   Spec
	Values []PlanValue // by value number; Values[0] is the input
	Layers []Layer     // in forward order
	Params []PlanParam // the encoder's parameters, in layout order
	Output int         // the embedding: a flat value of Spec.Dim features
	shapes map[string][]int
}

// Plan returns the layer plan of s. It panics if s is not valid. A crop
// (Spec.Crop) is not one of its layers: the engine that runs plans (the
// CUDA engine) refuses a cropped encoder. A spec with views has no plan
// of its own: every view has its plan (Spec.View), and Plan panics.
func (s Spec) Plan() Plan {
	if len(s.Views) > 0 {
		panic("core: Plan of a spec with views: plan each view (Spec.View)")
	}
	layout := s.layout()
	p := Plan{Spec: s, Values: []PlanValue{{C: s.Input.Channels, H: s.Input.Height, W: s.Input.Width}},
		shapes: make(map[string][]int, len(layout))}
	for _, q := range layout {
		p.Params = append(p.Params, PlanParam{Name: q.name, Shape: append([]int(nil), q.shape...),
			Learnable: q.kind.learnable(), Decay: q.kind == kindWeight})
		p.shapes[q.name] = q.shape
	}
	h := 0
	switch s.Arch {
	case ArchMLP:
		h = p.linear(h, "encoder.fc1")
		h = p.relu(h)
		h = p.linear(h, "encoder.fc2")
	case ArchLeNetS, ArchLeNetM, ArchLeNetL:
		for _, l := range []string{"encoder.conv1", "encoder.conv2"} {
			h = p.maxPool2(p.relu(p.conv(h, l+".weight", l+".bias", 0, 1)))
		}
		h = p.relu(p.linear(h, "encoder.fc1"))
		h = p.linear(h, "encoder.fc2")
	case ArchLeNetPP:
		for _, st := range lenetPPStages() {
			for _, half := range []string{"a", "b"} {
				l := st.stage + half
				h = p.conv(h, "encoder.conv"+l+".weight", "encoder.conv"+l+".bias", lenetPPPad, 1)
				h = p.prelu(h, "encoder.prelu"+l+".weight")
			}
			h = p.maxPool2(h)
		}
		h = p.linear(h, "encoder.fc")
	case ArchIResNet:
		h = iresnet18().plan(&p, h)
	default:
		panic("core: Plan: no plan for architecture " + s.Arch)
	}
	if s.EmbedBN && s.Arch != ArchIResNet {
		h = p.batchNorm(h, "encoder.features")
	}
	p.Output = h
	if v := p.Values[h]; !v.Flat || v.C != s.Dim {
		panic(fmt.Sprintf("core: Plan: %s ends with %+v, want %d features", s.Arch, v, s.Dim))
	}
	return p
}

// plan appends the layers of the IResNet c to p after value x, as forward
// and block do, and returns the embedding's value.
func (c iresnetConfig) plan(p *Plan, x int) int {
	h := p.conv(x, "encoder.conv1.weight", "", 1, 1)
	h = p.batchNorm(h, "encoder.bn1")
	h = p.prelu(h, "encoder.prelu.weight")
	for _, b := range c.blockList() {
		in := h
		h = p.batchNorm(in, b.name+".bn1")
		h = p.conv(h, b.name+".conv1.weight", "", 1, 1)
		h = p.batchNorm(h, b.name+".bn2")
		h = p.prelu(h, b.name+".prelu.weight")
		h = p.conv(h, b.name+".conv2.weight", "", 1, b.stride)
		h = p.batchNorm(h, b.name+".bn3")
		sc := in
		if b.hasShortConv {
			sc = p.conv(in, b.name+".downsample.0.weight", "", 0, b.stride)
			sc = p.batchNorm(sc, b.name+".downsample.1")
		}
		h = p.add(h, sc)
	}
	h = p.batchNorm(h, "encoder.bn2")
	h = p.linear(h, "encoder.fc")
	return p.batchNorm(h, "encoder.features")
}

// shape returns the shape of parameter name; it panics on a name the
// layout lacks (a plan that disagrees with its layout).
func (p *Plan) shape(name string) []int {
	s, ok := p.shapes[name]
	if !ok {
		panic("core: Plan: " + p.Spec.Arch + " has no parameter " + name)
	}
	return s
}

// push appends layer l making value v and returns v's number.
func (p *Plan) push(l Layer, v PlanValue) int {
	l.Out = len(p.Values)
	p.Values = append(p.Values, v)
	p.Layers = append(p.Layers, l)
	return l.Out
}

func (p *Plan) conv(x int, weight, bias string, pad, stride int) int {
	w, in := p.shape(weight), p.Values[x]
	if in.Flat || w[1] != in.C {
		panic(fmt.Sprintf("core: Plan: %s %v on a value %+v", weight, w, in))
	}
	k := w[2]
	out := PlanValue{C: w[0], H: (in.H+2*pad-k)/stride + 1, W: (in.W+2*pad-k)/stride + 1}
	return p.push(Layer{Kind: LayerConv, In: []int{x}, Weight: weight, Bias: bias, Kernel: k, Stride: stride, Pad: pad}, out)
}

func (p *Plan) linear(x int, name string) int {
	w, in := p.shape(name+".weight"), p.Values[x]
	if w[1] != in.Size() {
		panic(fmt.Sprintf("core: Plan: %s.weight %v on a value %+v", name, w, in))
	}
	return p.push(Layer{Kind: LayerLinear, In: []int{x}, Weight: name + ".weight", Bias: name + ".bias"},
		PlanValue{C: w[0], H: 1, W: 1, Flat: true})
}

func (p *Plan) batchNorm(x int, prefix string) int {
	if c := p.shape(prefix + ".weight")[0]; c != p.Values[x].C {
		panic(fmt.Sprintf("core: Plan: %s over %d channels on a value %+v", prefix, c, p.Values[x]))
	}
	return p.push(Layer{Kind: LayerBatchNorm, In: []int{x}, BN: prefix}, p.Values[x])
}

func (p *Plan) prelu(x int, weight string) int {
	if c := p.shape(weight)[0]; c != p.Values[x].C {
		panic(fmt.Sprintf("core: Plan: %s over %d channels on a value %+v", weight, c, p.Values[x]))
	}
	return p.push(Layer{Kind: LayerPReLU, In: []int{x}, Weight: weight}, p.Values[x])
}

func (p *Plan) relu(x int) int {
	return p.push(Layer{Kind: LayerReLU, In: []int{x}}, p.Values[x])
}

func (p *Plan) maxPool2(x int) int {
	in := p.Values[x]
	return p.push(Layer{Kind: LayerMaxPool2, In: []int{x}}, PlanValue{C: in.C, H: in.H / 2, W: in.W / 2})
}

func (p *Plan) add(a, b int) int {
	if p.Values[a] != p.Values[b] {
		panic(fmt.Sprintf("core: Plan: adding values %+v and %+v", p.Values[a], p.Values[b]))
	}
	return p.push(Layer{Kind: LayerAdd, In: []int{a, b}}, p.Values[a])
}

// ParamShape is the name and shape of a parameter outside the encoder (a
// loss's head.weight, head.bias).
type ParamShape struct {
	Name  string
	Shape []int
}

// InitParams returns the parameters a Trainer of spec with the given
// loss learnables and seed starts from, drawn in the same order from the
// same generator (see Trainer): another engine started from them trains
// the same model. Loss learnables of rank < 2 start at zero (the value
// the losses' Build gives their biases).
func InitParams(spec Spec, loss []ParamShape, seed int64) map[string]Tensor {
	if len(spec.Views) > 0 {
		panic("core: InitParams of a spec with views: each view's engine starts on its own (NewViews)")
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6d6c6162)) // as NewTrainer
	out := make(map[string]Tensor)
	draw := func(name string, shape []int, kind paramKind, fanIn int) {
		v := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(shape...))
		initParam(v, kind, fanIn, rng)
		out[name] = Tensor{Shape: append([]int(nil), shape...), Data: v.Data().([]float32)}
	}
	for _, p := range spec.layout() {
		draw(p.name, p.shape, p.kind, p.fanIn())
	}
	for _, l := range loss {
		kind := kindBias // zero
		if len(l.Shape) >= 2 {
			kind = kindWeight
		}
		draw(l.Name, l.Shape, kind, l.Shape[len(l.Shape)-1])
	}
	return out
}

// Batch-norm constants of the encoders, for other engines: ε added to the
// variance, and the weight of a batch in the running statistics (PyTorch's
// defaults, as fastBatchNorm).
const (
	BatchNormEps      = bnEps
	BatchNormMomentum = bnMomentum
)
