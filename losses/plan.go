package losses

import (
	"fmt"

	"metriclab/core"
)

// LossPlan describes the loss to an engine that computes it with kernels
// of its own (core.LossPlanner). The λ of SphereFace is the current one:
// call it after BeforeStep.
func (l *marginSoftmax) LossPlan() core.LossPlan {
	p := core.LossPlan{Family: "margin", Scale: l.scale}
	switch l.head {
	case msLinear:
		p.Head, p.Scale = "linear", 1
	case msScaledLinear:
		p.Head = "scaled-linear"
	case msCosine:
		p.Head = "cosine"
	case msFeatureNorm:
		p.Head, p.Scale = "feature-norm", 1
	}
	switch m := l.margin.(type) {
	case nil:
	case CosFace:
		p.Target, p.M = "cosface", m.M
	case ArcFace:
		p.Target, p.M, p.EasyMargin = "arcface", m.M, m.EasyMargin
	case *SphereFace:
		p.Target, p.SphereM, p.Lambda = "sphereface", m.M, m.Lambda
	case Combined:
		p.Target, p.M1, p.M2, p.M3 = "combined", m.M1, m.M2, m.M3
	default:
		panic(fmt.Sprintf("losses: LossPlan: unknown margin %T", m))
	}
	return p
}

// LossPlan describes the pair loss (contrastive, triplet with its miner).
func (l *pairLoss) LossPlan() core.LossPlan {
	p := core.LossPlan{Family: "pair", Distance: l.dist.String()}
	switch o := l.obj.(type) {
	case pairContrastive:
		p.Objective, p.Margin = "contrastive", o.margin
	case tripObjective:
		p.Objective, p.Miner, p.Margin = "triplet", o.miner.String(), o.margin
	default:
		panic(fmt.Sprintf("losses: LossPlan: unknown objective %T", o))
	}
	return p
}

var (
	_ core.LossPlanner = (*marginSoftmax)(nil)
	_ core.LossPlanner = (*Contrastive)(nil)
	_ core.LossPlanner = (*Triplet)(nil)
)
