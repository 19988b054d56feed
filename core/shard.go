package core

import (
	"fmt"
	"math"

	"metriclab/core/par"
)

// Data parallelism. A step of a batch of N images split among W workers,
// each with a replica of the parameters and a Trainer of batch N/W:
//
//	every worker   loss_w = GradientsTo(g_w, its N/W images)
//	one worker     ḡ = (g_0 + g_1 + … + g_{W−1}) / W, summed in that order
//	every worker   ApplyGradients(ḡ)
//
// For a loss that is a mean over the images (the margin-softmax family),
// ḡ is the gradient of the whole batch's mean loss, so the replicas take
// the step one Trainer of batch N would, up to the order of the sums
// (float32 rounding). A loss of pairs within the batch (contrastive,
// triplet) sees the pairs within each worker's images only, as PyTorch's
// DistributedDataParallel does; batch norms keep per-worker running
// statistics of their own images.
//
// Sharded is what core/job needs of an engine for that.
type Sharded interface {
	Engine
	// GradLen is the length of the flat gradient: every learnable, in
	// the order of the engine's learnables.
	GradLen() int
	// GradientsTo runs forward and backward on a batch as Step does (the
	// loss's BeforeStep, the batch norms' running statistics) but does
	// not update: it writes the flat gradient into g (GradLen values) and
	// returns the loss. Iter does not change.
	GradientsTo(g, x []float32, labels []int) (float64, error)
	// ApplyGradients applies the optimiser to the flat gradient g at the
	// scheduled learning rate and advances Iter, as the update of Step.
	// A non-finite value in g is an error that changes nothing; it wraps
	// ErrDiverged.
	ApplyGradients(g []float32) error
}

var _ Sharded = (*Trainer)(nil)

// GradLen returns the number of values of the flat gradient.
func (t *Trainer) GradLen() int {
	n := 0
	for _, s := range t.shapes {
		n += shapeSize(s)
	}
	return n
}

// GradientsTo writes the flat gradient of the loss on a batch into g; see
// Sharded.
func (t *Trainer) GradientsTo(g, x []float32, labels []int) (float64, error) {
	if len(g) != t.GradLen() {
		panic(fmt.Sprintf("core: GradientsTo: %d values for a gradient of %d", len(g), t.GradLen()))
	}
	loss, err := t.lossAndGradients(x, labels)
	if err != nil {
		return loss, err
	}
	off := 0
	for i, gn := range t.grads {
		v := gn.Value()
		if v == nil {
			return 0, fmt.Errorf("no gradient for %s", t.names[i])
		}
		dst := g[off : off+shapeSize(t.shapes[i])]
		switch d := v.Data().(type) {
		case []float32:
			copy(dst, d)
		case []float64:
			for j, x := range d {
				dst[j] = float32(x)
			}
		default:
			return 0, fmt.Errorf("gradient of %s: %T", t.names[i], d)
		}
		off += len(dst)
	}
	return loss, nil
}

// ApplyGradients applies the optimiser to the flat gradient g; see
// Sharded.
func (t *Trainer) ApplyGradients(g []float32) error {
	if len(g) != t.GradLen() {
		panic(fmt.Sprintf("core: ApplyGradients: %d values for a gradient of %d", len(g), t.GradLen()))
	}
	for i, v := range g {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return Diverged(fmt.Sprintf("step %d: gradient value %d is %v", t.iter+1, i, v))
		}
	}
	lr := t.LR()
	if t.f32 != nil {
		applyFlat(t.pool, t.f32, t.shapes, g, lr)
	} else {
		g64 := make([]float64, len(g))
		for i, v := range g {
			g64[i] = float64(v)
		}
		applyFlat(t.pool, t.f64, t.shapes, g64, lr)
	}
	t.iter++
	return nil
}

// applyFlat runs the optimiser on the flat gradient g, cut by shapes.
func applyFlat[T float32 | float64](pool *par.Pool, b *engineBuf[T], shapes [][]int, g []T, lr float64) {
	off := 0
	for i, s := range shapes {
		n := shapeSize(s)
		b.gs[i] = g[off : off+n]
		off += n
	}
	b.opt.update(pool, b.ws, b.gs, lr)
	clear(b.gs)
}
