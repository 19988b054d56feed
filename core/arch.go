package core

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"metriclab/core/msg"

	G "gorgonia.org/gorgonia"
)

// The encoder architectures. Parameter names and layouts follow PyTorch so
// that torch can load a model file as is: a convolution weight is
// Co×Ci×K×K, a linear weight is out×in, a bias has one value per output and
// a PReLU weight one slope per channel. Shapes are computed from Spec.Input,
// so every architecture takes any channel count and any image size at or
// above its minimum.
//
//	mlp      flatten → fc1 (Ch·H·W→256), ReLU → fc2 (256→D)
//
//	lenet-s  conv1 5×5×8, ReLU, maxpool 2 → conv2 5×5×16, ReLU, maxpool 2
//	         → flatten → fc1 (→64), ReLU → fc2 (64→D)
//	         28×28: 24 → 12 → 8 → 4, fc1 in = 16·4·4
//
//	lenet-m  lenet-s four times as wide: conv1 5×5×32, conv2 5×5×64,
//	         fc1 (→256); 28×28: fc1 in = 64·4·4
//
//	lenet-l  lenet-s eight times as wide in its convolutions: conv1
//	         5×5×64, conv2 5×5×128, fc1 (→256); for faces at 32×32:
//	         32 → 28 → 14 → 10 → 5, fc1 in = 128·5·5
//
//	lenetpp  (conv 5×5 pad 2, PReLU) ×2 with 32, 64, 128 channels, each pair
//	         followed by maxpool 2 → flatten → fc (→D)
//	         28×28: 14 → 7 → 3 (pooling floors), fc in = 128·3·3
//
//	iresnet18  InsightFace's IResNet-18 (Deng et al., "ArcFace", CVPR 2019;
//	         iresnet.py of insightface/recognition/arcface_torch), made for
//	         3×112×112 faces and a 512-D embedding:
//	         conv1 3×3×64 (no bias), bn1, prelu → layer1..layer4, two
//	         IBasicBlocks each with 64, 128, 256, 512 channels, the first of
//	         every stage with stride 2 → bn2 → (dropout: identity at p = 0)
//	         → flatten → fc (→D) → features (BatchNorm1d, weight fixed at 1)
//	         IBasicBlock(s): bn1 → conv1 3×3 stride 1 → bn2 → prelu
//	         → conv2 3×3 stride s → bn3, plus the input, through
//	         downsample (conv 1×1 stride s, no bias → batch norm) when the
//	         shape changes; no activation after the sum.
//	         112×112: 56 → 28 → 14 → 7, fc in = 512·7·7
//
// Batch norms keep PyTorch's names (weight, bias, running_mean,
// running_var; not num_batches_tracked) so that an InsightFace state dict
// maps by prefixing "encoder.". The running statistics and the fixed
// features.weight are parameters of the model file but not learnables: the
// Trainer keeps them as graph inputs beside the learnables, the training
// graph's batch norms update the running statistics in place at every step
// (momentum 0.1), and Params, SetParams and NewEncoder carry them with the
// learnables. The Encoder normalises with them.
//
// With Spec.EmbedBN, the encoders but iresnet18 (which has it already)
// end with InsightFace's embedding batch norm: features, a BatchNorm1d over
// the D outputs of the last linear layer whose scale is fixed at 1
// (weight, not learnable), with a learnable shift (bias) and running
// statistics. The embedding is then standardised per dimension over the
// training images, so no dimension dominates the cosine by its scale alone.
//
// LeNet++ is the network of the center loss paper (Wen et al., "A
// Discriminative Feature Learning Approach for Deep Face Recognition", ECCV
// 2016). Every architecture ends with a linear layer and no activation: the
// embedding is the raw N×D output, and losses normalise it themselves.

// Architecture names.
const (
	ArchMLP     = "mlp"
	ArchLeNetS  = "lenet-s"
	ArchLeNetM  = "lenet-m"
	ArchLeNetL  = "lenet-l"
	ArchLeNetPP = "lenetpp"
	ArchIResNet = "iresnet18"
)

// ArchNames returns the encoder architecture names, sorted.
func ArchNames() []string {
	return []string{ArchIResNet, ArchLeNetL, ArchLeNetM, ArchLeNetS, ArchLeNetPP, ArchMLP}
}

// Hidden widths of the architectures.
const (
	mlpHidden    = 256
	convKernel   = 5 // every convolution is 5×5, stride 1
	lenetPPPad   = 2
	preluInitVal = 0.25 // PReLU slope at initialisation (He et al. 2015)
)

// lenetWidths are the widths of a LeNet of the lenet-s shape: the
// channels of its two convolutions and the outputs of fc1.
type lenetWidths struct{ conv1, conv2, fc1 int }

// lenetOf returns the widths of the lenet-s family's arch, and whether arch
// is one of them.
func lenetOf(arch string) (lenetWidths, bool) {
	switch arch {
	case ArchLeNetS:
		return lenetWidths{8, 16, 64}, true
	case ArchLeNetM:
		return lenetWidths{32, 64, 256}, true
	case ArchLeNetL:
		return lenetWidths{64, 128, 256}, true
	}
	return lenetWidths{}, false
}

// lenetPPStage is one LeNet++ stage: two convolutions with this many output
// channels, then a pooling; stage is the suffix of its layer names.
type lenetPPStage struct {
	channels int
	stage    string
}

// lenetPPStages returns LeNet++'s three stages.
func lenetPPStages() [3]lenetPPStage {
	return [3]lenetPPStage{{32, "1"}, {64, "2"}, {128, "3"}}
}

// minSize returns the smallest height (and width) the architecture accepts:
// every pooling must see at least 2 rows.
//
//	lenet-s, -m, -l: ⌊(H−4)/2⌋ − 4 ≥ 2  ⇔  H ≥ 16
//	lenetpp: ⌊⌊⌊H/2⌋/2⌋/2⌋ ≥ 1 ⇔  H ≥ 8
//	iresnet18: four stride-2 stages, at least 1×1 after them: H ≥ 16
func minSize(arch string) int {
	switch arch {
	case ArchIResNet:
		return 16
	case ArchLeNetS, ArchLeNetM, ArchLeNetL:
		return 16
	case ArchLeNetPP:
		return 8
	default:
		return 1
	}
}

// maxInputNorm bounds an input normalisation (Spec.Validate): pixels
// (x − Mean)/Std stay far within float32's range (a model file with
// Std = 1e-300 or Mean = 1e300 is finite in float64, and embeds every
// image as infinities).
const maxInputNorm = 1e6

// DefaultSpec returns the spec of arch with embedding dimension dim on
// MNIST input. It does not validate: call Validate.
func DefaultSpec(arch string, dim int) Spec {
	return Spec{Arch: arch, Input: MNISTInput, Dim: dim}
}

// CheckDim refuses an embedding dimension out of [msg.MinDim, msg.MaxDim]
// ([2, 512]), the bound of every model (Spec.Validate), loss (losses.New)
// and command that takes a D, in one wording.
func CheckDim(d int) error {
	if d < msg.MinDim || d > msg.MaxDim {
		return fmt.Errorf("embedding dimension %d out of range [%d, %d]", d, msg.MinDim, msg.MaxDim)
	}
	return nil
}

// Validate reports whether s describes an encoder that can be built: a
// known architecture, msg.MinDim ≤ Dim ≤ msg.MaxDim (CheckDim), 1 or 3
// input channels, an image at least as large as the architecture needs and
// at most msg.MaxSide a side, a crop (when set) of at least 2×2 pixels
// within it, views (when set) that are such windows, 2 to msg.MaxViews of
// them, and a normalisation of pixels (values in [0, 1]) that the float32
// engines can apply: |Mean| ≤ maxInputNorm and Std in [1/maxInputNorm,
// maxInputNorm]. Every model file is read through it, so the command line,
// uploads and jobs share the bound.
func (s Spec) Validate() error {
	known := false
	for _, a := range ArchNames() {
		known = known || a == s.Arch
	}
	if !known {
		return fmt.Errorf("unknown architecture %q (want one of %s)", s.Arch, strings.Join(ArchNames(), ", "))
	}
	if err := CheckDim(s.Dim); err != nil {
		return err
	}
	in := s.Input
	if in.Channels != 1 && in.Channels != 3 {
		return fmt.Errorf("input channels %d: want 1 or 3", in.Channels)
	}
	if m := minSize(s.Arch); in.Height < m || in.Width < m {
		return fmt.Errorf("%s needs input of at least %d×%d, got %d×%d", s.Arch, m, m, in.Height, in.Width)
	}
	if max(in.Height, in.Width) > msg.MaxSide {
		return fmt.Errorf("input %d×%d: sides of at most %d pixels, what a server job trains on and the Verify page loads", in.Height, in.Width, msg.MaxSide)
	}
	if s.EmbedBN && s.Arch == ArchIResNet {
		return fmt.Errorf("%s ends with a batch-normalised embedding already: no embed_bn", s.Arch)
	}
	if s.Crop != (Crop{}) {
		if err := validateCrop(s.Crop, in.Height, in.Width); err != nil {
			return err
		}
	}
	if err := s.validateViews(); err != nil {
		return err
	}
	if !(in.Std >= 1/maxInputNorm && in.Std <= maxInputNorm) {
		return fmt.Errorf("input std %g: want a value in [%g, %g]", in.Std, 1/maxInputNorm, maxInputNorm)
	}
	if !(math.Abs(in.Mean) <= maxInputNorm) {
		return fmt.Errorf("input mean %g: want a value in [%g, %g]", in.Mean, -maxInputNorm, maxInputNorm)
	}
	return nil
}

// ParamShapes returns the name and shape of every encoder parameter
// (encoder.*, or views.<i>.encoder.* with Views). It panics if s is not
// valid.
func (s Spec) ParamShapes() map[string][]int {
	layout := s.layout()
	shapes := make(map[string][]int, len(layout))
	for _, p := range layout {
		shapes[p.name] = append([]int(nil), p.shape...)
	}
	return shapes
}

// paramKind says how a parameter is initialised and whether weight decay
// applies to it.
type paramKind int

const (
	kindWeight   paramKind = iota // conv or linear weight: He normal, decayed
	kindBias                      // zero, not decayed
	kindPReLU                     // preluInitVal, not decayed
	kindBNWeight                  // batch-norm scale γ: 1, not decayed
	kindRunMean                   // running mean: 0, not learnable
	kindRunVar                    // running variance: 1, not learnable
	kindFixedOne                  // fixed at 1, not learnable (IResNet's features.weight)
)

// learnable reports whether the optimiser updates parameters of kind k.
func (k paramKind) learnable() bool { return k != kindRunMean && k != kindRunVar && k != kindFixedOne }

// param is one encoder parameter: its model-file name, shape and kind.
type param struct {
	name  string
	shape []int
	kind  paramKind
}

// fanIn is the number of inputs of one output unit of a weight: Ci·K·K for
// a convolution, in for a linear layer.
func (p param) fanIn() int {
	n := 1
	for _, d := range p.shape[1:] {
		n *= d
	}
	return n
}

// layout returns the encoder parameters of s in a fixed order: the order
// of initialisation, and of Trainer's learnables. With Views, it is every
// view's in turn, their names prefixed by ViewPrefix: the parameters a
// model of views holds (each view's engine initialises its own, from the
// same seed). It panics if s is not valid.
func (s Spec) layout() []param {
	if len(s.Views) > 0 {
		var ps []param
		for i := range s.Views {
			for _, p := range s.View(i).layout() {
				p.name = ViewPrefix(i) + p.name
				ps = append(ps, p)
			}
		}
		return ps
	}
	ps := s.archLayout()
	if s.EmbedBN {
		ps = append(ps, featuresParams(s.Dim)...)
	}
	return ps
}

// featuresParams returns the parameters of the embedding batch norm,
// encoder.features, its weight fixed at 1 as in iresnet.py.
func featuresParams(dim int) []param {
	ps := bnParams("encoder.features", dim)
	ps[0].kind = kindFixedOne
	return ps
}

// archLayout returns the parameters of s's architecture, without
// EmbedBN's.
func (s Spec) archLayout() []param {
	if err := s.Validate(); err != nil {
		panic("core: " + err.Error())
	}
	in := s.Input
	switch s.Arch {
	case ArchMLP:
		return append(linearParams("encoder.fc1", mlpHidden, in.Size()),
			linearParams("encoder.fc2", s.Dim, mlpHidden)...)
	case ArchLeNetS, ArchLeNetM, ArchLeNetL:
		lw, _ := lenetOf(s.Arch)
		h, w := lenetSOut(in.Height), lenetSOut(in.Width)
		var ps []param
		ps = append(ps, convParams("encoder.conv1", lw.conv1, in.Channels)...)
		ps = append(ps, convParams("encoder.conv2", lw.conv2, lw.conv1)...)
		ps = append(ps, linearParams("encoder.fc1", lw.fc1, lw.conv2*h*w)...)
		return append(ps, linearParams("encoder.fc2", s.Dim, lw.fc1)...)
	case ArchLeNetPP:
		var ps []param
		ci, h, w := in.Channels, in.Height, in.Width
		for _, st := range lenetPPStages() {
			for _, half := range []string{"a", "b"} {
				ps = append(ps, convParams("encoder.conv"+st.stage+half, st.channels, ci)...)
				ps = append(ps, param{name: "encoder.prelu" + st.stage + half + ".weight", shape: []int{st.channels}, kind: kindPReLU})
				ci = st.channels
			}
			h, w = h/2, w/2
		}
		return append(ps, linearParams("encoder.fc", s.Dim, ci*h*w)...)
	case ArchIResNet:
		return iresnet18().params(in, s.Dim)
	}
	panic("core: unreachable architecture " + s.Arch)
}

// lenetSOut is the lenet-s family's feature-map side for an input side n: two
// unpadded 5×5 convolutions, each followed by a 2×2 pooling that floors.
func lenetSOut(n int) int { return ((n-convKernel+1)/2 - convKernel + 1) / 2 }

func convParams(name string, co, ci int) []param {
	return []param{
		{name: name + ".weight", shape: []int{co, ci, convKernel, convKernel}, kind: kindWeight},
		{name: name + ".bias", shape: []int{co}, kind: kindBias},
	}
}

func linearParams(name string, out, in int) []param {
	return []param{
		{name: name + ".weight", shape: []int{out, in}, kind: kindWeight},
		{name: name + ".bias", shape: []int{out}, kind: kindBias},
	}
}

// encoderForward adds the encoder of s to x's graph: x is N×Ch×H×W, p holds
// the parameter nodes by name (from s.layout), and the result is the N×D
// embedding. train selects the batch norms' mode: batch statistics (and
// running-statistics updates) in training, running statistics otherwise.
func (s Spec) encoderForward(x *G.Node, p map[string]*G.Node, train bool) (*G.Node, error) {
	if len(s.Views) > 0 {
		return nil, errors.New("a spec with views has a graph per view (Spec.View)")
	}
	if s.Crop != (Crop{}) {
		var err error
		if x, err = applyCrop(x, s.Crop); err != nil {
			return nil, err
		}
	}
	h, err := s.archForward(x, p, train)
	if err != nil || !s.EmbedBN {
		return h, err
	}
	const f = "encoder.features"
	return batchNorm(h, p[f+".weight"], p[f+".bias"], p[f+".running_mean"], p[f+".running_var"], train)
}

// archForward adds s's architecture to x's graph, without EmbedBN's batch
// norm (see encoderForward).
func (s Spec) archForward(x *G.Node, p map[string]*G.Node, train bool) (*G.Node, error) {
	n := x.Shape()[0]
	switch s.Arch {
	case ArchIResNet:
		return iresnet18().forward(x, p, train)
	case ArchMLP:
		h, err := G.Reshape(x, []int{n, s.Input.Size()})
		if err != nil {
			return nil, err
		}
		if h, err = linear(h, p["encoder.fc1.weight"], p["encoder.fc1.bias"]); err != nil {
			return nil, err
		}
		if h, err = relu(h); err != nil {
			return nil, err
		}
		return linear(h, p["encoder.fc2.weight"], p["encoder.fc2.bias"])
	case ArchLeNetS, ArchLeNetM, ArchLeNetL:
		h := x
		var err error
		for _, l := range []string{"encoder.conv1", "encoder.conv2"} {
			if h, err = convReLUPool(h, p[l+".weight"], p[l+".bias"], 0); err != nil {
				return nil, err
			}
		}
		if h, err = flatten(h); err != nil {
			return nil, err
		}
		if h, err = linear(h, p["encoder.fc1.weight"], p["encoder.fc1.bias"]); err != nil {
			return nil, err
		}
		if h, err = relu(h); err != nil {
			return nil, err
		}
		return linear(h, p["encoder.fc2.weight"], p["encoder.fc2.bias"])
	case ArchLeNetPP:
		h := x
		var err error
		for _, st := range lenetPPStages() {
			for _, half := range []string{"a", "b"} {
				l := st.stage + half
				if h, err = convPReLU(h, p["encoder.conv"+l+".weight"], p["encoder.conv"+l+".bias"], p["encoder.prelu"+l+".weight"], lenetPPPad); err != nil {
					return nil, err
				}
			}
			if h, err = maxPool2(h); err != nil {
				return nil, err
			}
		}
		if h, err = flatten(h); err != nil {
			return nil, err
		}
		return linear(h, p["encoder.fc.weight"], p["encoder.fc.bias"])
	}
	panic("core: unreachable architecture " + s.Arch)
}

// flatten reshapes N×C×H×W to N×(C·H·W), in PyTorch's flatten order.
func flatten(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	return G.Reshape(x, []int{s[0], s[1] * s[2] * s[3]})
}
