package core

import (
	G "gorgonia.org/gorgonia"
)

// Loss is a training objective on a batch of embeddings. Package losses
// implements it; the engine only sees this contract.
//
// Build adds the loss to g once, before any step:
//
//	emb    N×D node, the encoder's output (g's dtype, float32 or float64)
//	onehot N×C node, the labels as one-hot rows (g's dtype)
//
// and returns the scalar loss node. Any learnable parameters of the loss
// (class weights, biases) are created by Build as named nodes and listed by
// Learnables afterwards, in a stable order, with names that are stable across
// versions ("head.weight" C×D, "head.bias" C).
type Loss interface {
	Name() string
	// Params returns the loss parameters by their CLI names (s, m, m1, m2, m3,
	// alpha, margin, ...), as stored in the model file.
	Params() map[string]float64
	Build(g *G.ExprGraph, emb, onehot *G.Node, classes int) (*G.Node, error)
	Learnables() []NamedNode
	// BeforeStep is called before training step iter (0-based); losses with
	// schedules (SphereFace's λ) update their graph inputs here.
	BeforeStep(iter int) error
}

// NamedNode is a learnable node and its stable name in model files.
type NamedNode struct {
	Name string
	Node *G.Node
}

// Batcher is implemented by losses that need a special batch composition
// (triplet wants P identities × K samples). The trainer asks it for the index
// order of each epoch; losses without it get plain shuffled batches.
type Batcher interface {
	NeedsPK() (p, k int, ok bool)
}

// BatchesPK reports whether l's batches are P classes × K images: a
// Batcher whose NeedsPK says so.
func BatchesPK(l Loss) bool {
	b, ok := l.(Batcher)
	if !ok {
		return false
	}
	_, _, pk := b.NeedsPK()
	return pk
}
