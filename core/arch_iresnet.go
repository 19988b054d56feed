package core

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// iresnetConfig is the shape of an IResNet: the stem's channels, and the
// channels and number of IBasicBlocks of each of the four stages. The first
// block of every stage has stride 2. iresnet18 is the one Spec offers;
// tests build narrower ones.
type iresnetConfig struct {
	stem     int
	channels [4]int
	blocks   [4]int
}

// iresnet18 is IResNet-18 as in InsightFace's iresnet.py.
func iresnet18() iresnetConfig {
	return iresnetConfig{stem: 64, channels: [4]int{64, 128, 256, 512}, blocks: [4]int{2, 2, 2, 2}}
}

// iresnetBlock is one IBasicBlock: its name prefix, channels in and out,
// and stride.
type iresnetBlock struct {
	name         string
	in, out      int
	stride       int
	hasShortConv bool // downsample.0 (conv 1×1) and downsample.1 (batch norm)
}

// blockList returns the IBasicBlocks of c in order.
func (c iresnetConfig) blockList() []iresnetBlock {
	var bs []iresnetBlock
	in := c.stem
	for st := 0; st < 4; st++ {
		for j := 0; j < c.blocks[st]; j++ {
			s := 1
			if j == 0 {
				s = 2
			}
			out := c.channels[st]
			bs = append(bs, iresnetBlock{
				name: fmt.Sprintf("encoder.layer%d.%d", st+1, j),
				in:   in, out: out, stride: s,
				hasShortConv: s != 1 || in != out,
			})
			in = out
		}
	}
	return bs
}

// outSide is the side of the last feature map for an input side n: every
// stride-2 stage maps n to ⌊(n+2−3)/2⌋+1 = ⌈n/2⌉.
func (c iresnetConfig) outSide(n int) int {
	for range 4 {
		n = (n + 1) / 2
	}
	return n
}

// params returns the parameters of c for input in and embedding dim, in
// iresnet.py's module order.
func (c iresnetConfig) params(in Input, dim int) []param {
	ps := []param{{name: "encoder.conv1.weight", shape: []int{c.stem, in.Channels, 3, 3}, kind: kindWeight}}
	ps = append(ps, bnParams("encoder.bn1", c.stem)...)
	ps = append(ps, param{name: "encoder.prelu.weight", shape: []int{c.stem}, kind: kindPReLU})
	for _, b := range c.blockList() {
		ps = append(ps, bnParams(b.name+".bn1", b.in)...)
		ps = append(ps, param{name: b.name + ".conv1.weight", shape: []int{b.out, b.in, 3, 3}, kind: kindWeight})
		ps = append(ps, bnParams(b.name+".bn2", b.out)...)
		ps = append(ps, param{name: b.name + ".prelu.weight", shape: []int{b.out}, kind: kindPReLU})
		ps = append(ps, param{name: b.name + ".conv2.weight", shape: []int{b.out, b.out, 3, 3}, kind: kindWeight})
		ps = append(ps, bnParams(b.name+".bn3", b.out)...)
		if b.hasShortConv {
			ps = append(ps, param{name: b.name + ".downsample.0.weight", shape: []int{b.out, b.in, 1, 1}, kind: kindWeight})
			ps = append(ps, bnParams(b.name+".downsample.1", b.out)...)
		}
	}
	last := c.channels[3]
	ps = append(ps, bnParams("encoder.bn2", last)...)
	ps = append(ps, linearParams("encoder.fc", dim, last*c.outSide(in.Height)*c.outSide(in.Width))...)
	return append(ps, featuresParams(dim)...) // features.weight: requires_grad = False in iresnet.py
}

// bnParams returns a batch norm's weight, bias, running_mean and
// running_var over c channels.
func bnParams(name string, c int) []param {
	return []param{
		{name: name + ".weight", shape: []int{c}, kind: kindBNWeight},
		{name: name + ".bias", shape: []int{c}, kind: kindBias},
		{name: name + ".running_mean", shape: []int{c}, kind: kindRunMean},
		{name: name + ".running_var", shape: []int{c}, kind: kindRunVar},
	}
}

// forward adds the IResNet c to x's graph (x N×Ch×H×W, p the nodes of
// c.params) and returns the N×D embedding.
func (c iresnetConfig) forward(x *G.Node, p map[string]*G.Node, train bool) (*G.Node, error) {
	bn := func(h *G.Node, name string) (*G.Node, error) {
		return batchNorm(h, p[name+".weight"], p[name+".bias"], p[name+".running_mean"], p[name+".running_var"], train)
	}
	h, err := conv2dStride(x, p["encoder.conv1.weight"], nil, 1, 1)
	if err != nil {
		return nil, err
	}
	if h, err = bn(h, "encoder.bn1"); err != nil {
		return nil, err
	}
	if h, err = prelu(h, p["encoder.prelu.weight"]); err != nil {
		return nil, err
	}
	for _, b := range c.blockList() {
		if h, err = c.block(h, b, p, bn); err != nil {
			return nil, fmt.Errorf("%s: %w", b.name, err)
		}
	}
	if h, err = bn(h, "encoder.bn2"); err != nil {
		return nil, err
	}
	if h, err = flatten(h); err != nil {
		return nil, err
	}
	if h, err = linear(h, p["encoder.fc.weight"], p["encoder.fc.bias"]); err != nil {
		return nil, err
	}
	return bn(h, "encoder.features")
}

// block adds one IBasicBlock:
//
//	y = bn3(conv2_s(prelu(bn2(conv1(bn1(x)))))) + shortcut(x)
//
// shortcut(x) = x, or downsample.1(downsample.0_s(x)) when the shape changes.
func (c iresnetConfig) block(x *G.Node, b iresnetBlock, p map[string]*G.Node, bn func(*G.Node, string) (*G.Node, error)) (*G.Node, error) {
	h, err := bn(x, b.name+".bn1")
	if err != nil {
		return nil, err
	}
	if h, err = conv2dStride(h, p[b.name+".conv1.weight"], nil, 1, 1); err != nil {
		return nil, err
	}
	if h, err = bn(h, b.name+".bn2"); err != nil {
		return nil, err
	}
	if h, err = prelu(h, p[b.name+".prelu.weight"]); err != nil {
		return nil, err
	}
	if h, err = conv2dStride(h, p[b.name+".conv2.weight"], nil, 1, b.stride); err != nil {
		return nil, err
	}
	if h, err = bn(h, b.name+".bn3"); err != nil {
		return nil, err
	}
	sc := x
	if b.hasShortConv {
		if sc, err = conv2dStride(x, p[b.name+".downsample.0.weight"], nil, 0, b.stride); err != nil {
			return nil, err
		}
		if sc, err = bn(sc, b.name+".downsample.1"); err != nil {
			return nil, err
		}
	}
	return G.Add(h, sc)
}
