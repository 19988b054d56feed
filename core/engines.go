package core

import "fmt"

// Engine is what the training loop (core/job) needs of a training engine:
// the gorgonia Trainer, and the CUDA engine of core/cuda, implement it.
// Step, Iter, SetIter, LR, Params, SetParams, OptState and SetOptState
// mean what Trainer's do (a checkpoint holds Params and OptState).
type Engine interface {
	Step(x []float32, labels []int) (float64, error)
	Iter() int
	SetIter(n int)
	LR() float64
	Params() map[string]Tensor
	SetParams(p map[string]Tensor) error
	OptState() OptState
	SetOptState(s OptState) error
}

var _ Engine = (*Trainer)(nil)

// EngineFunc makes an engine for an encoder, a loss and a configuration;
// NewTrainer is one (the gorgonia engine).
type EngineFunc func(spec Spec, loss Loss, cfg TrainConfig) (Engine, error)

// NewGorgonia is NewTrainer as an EngineFunc.
func NewGorgonia(spec Spec, loss Loss, cfg TrainConfig) (Engine, error) {
	return NewTrainer(spec, loss, cfg)
}

// Gradients runs one forward and backward pass on a batch, as Step does
// but without the update: it calls the loss's BeforeStep, updates the
// batch norms' running statistics, and returns the loss and the gradient
// of every learnable by name (float32 copies). Iter does not change. It is
// the reference of the other engines' parity tests.
func (t *Trainer) Gradients(x []float32, labels []int) (float64, map[string]Tensor, error) {
	if err := t.loss.BeforeStep(t.iter); err != nil {
		return 0, nil, fmt.Errorf("step %d: %s: %w", t.iter+1, t.loss.Name(), err)
	}
	loss, err := t.forwardBackward(x, labels)
	if err != nil {
		return 0, nil, err
	}
	out := make(map[string]Tensor, len(t.grads))
	for i, gn := range t.grads {
		if gn.Value() == nil {
			return 0, nil, fmt.Errorf("no gradient for %s", t.names[i])
		}
		out[t.names[i]] = Tensor{Shape: append([]int(nil), t.shapes[i]...), Data: valueFloat32s(gn.Value())}
	}
	return loss, out, nil
}

// LossPlan describes a loss of package losses to an engine that computes
// it with kernels of its own; the losses implement LossPlanner. The
// formulas are those of package losses (its doc, margin.go, distance.go,
// miners.go); the names below are the losses' own.
type LossPlan struct {
	// Family is "margin" (the margin-softmax family) or "pair"
	// (contrastive, triplet).
	Family string

	// Margin family. Head is how the logits are made: "linear" (f·W_j +
	// b_j), "scaled-linear" (Scale·f̂·W_j + b_j), "cosine" (Scale·cos θ_j,
	// the target Scale·ψ(cos θ_y)) or "feature-norm" (‖f‖·cos θ_j, the
	// target ‖f‖·ψ(cos θ_y)).
	Head  string
	Scale float64
	// Target names ψ: "" (ψ(c) = c), "cosface", "arcface", "sphereface"
	// or "combined", with its parameters: M (cosface, arcface), EasyMargin
	// (arcface), M1, M2, M3 (combined), SphereM and Lambda (sphereface; the
	// λ of the step after the last BeforeStep).
	Target     string
	M          float64
	EasyMargin bool
	M1, M2, M3 float64
	SphereM    int
	Lambda     float64

	// Pair family: Distance is "cosine" or "euclidean", Objective
	// "contrastive" or "triplet" with Miner "all", "hard", "semihard" or
	// "easy", and Margin the objective's margin.
	Distance  string
	Objective string
	Miner     string
	Margin    float64
}

// LossPlanner is implemented by the losses that another engine can run.
type LossPlanner interface {
	LossPlan() LossPlan
}

// HeadShapes returns the learnables of a loss of plan p over classes
// classes and embedding dimension dim, in the order of its Learnables:
// head.weight (C×D) for the margin family, and head.bias (C) for its
// linear heads.
func (p LossPlan) HeadShapes(classes, dim int) []ParamShape {
	if p.Family != "margin" {
		return nil
	}
	out := []ParamShape{{Name: "head.weight", Shape: []int{classes, dim}}}
	if p.Head == "linear" || p.Head == "scaled-linear" {
		out = append(out, ParamShape{Name: "head.bias", Shape: []int{classes}})
	}
	return out
}
