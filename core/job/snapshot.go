package job

import (
	"errors"
	"fmt"
	"math"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/eval"
	"metriclab/core/msg"
	"metriclab/core/vec"
)

// snapshotState is the fixed subset of images that snapshots embed, the
// pairs of them that make the angle histograms, and the embeddings of the
// last snapshot with the step they were taken at.
type snapshotState struct {
	points *data.Set
	pairs  []eval.Pair

	emb  eval.Embeddings
	iter int // Trainer.Iter() of emb; −1: none yet
}

// init chooses up to opts.SnapshotPoints images of points, stratified by
// class, and up to opts.SnapshotPairs genuine and as many impostor pairs of
// them.
func (s *snapshotState) init(points *data.Set, opts Options, seed int64) {
	n := opts.SnapshotPoints
	if n <= 0 {
		n = DefaultSnapshotPoints
	}
	pairs := opts.SnapshotPairs
	if pairs <= 0 {
		pairs = DefaultSnapshotPairs
	}
	s.points = points.Sample(n, seed)
	for _, f := range eval.Pairs(s.points.Labels, 1, pairs, seed) {
		s.pairs = append(s.pairs, f.Pairs...)
	}
	s.iter = -1
}

// Embeddings returns the embeddings of the snapshot's images (a fixed,
// stratified subset of the test images of up to Options.SnapshotPoints,
// the held-out images when New had no test set) under the current
// parameters. Successive calls between steps share the result, which the
// caller must not change.
func (j *Job) Embeddings() (eval.Embeddings, error) {
	if j.snap.iter == j.tr.Iter() {
		return j.snap.emb, nil
	}
	params := j.tr.Params()
	e, err := EmbedSet(j.spec, params, j.snap.points)
	if err != nil {
		return eval.Embeddings{}, err
	}
	j.snap.emb, j.snap.iter = e, j.tr.Iter()
	if _, _, ok := j.spec.ClassWeights(params); ok {
		j.accuracy = j.headAccuracy(e, params)
	}
	return e, nil
}

// Snapshot returns what the hypersphere viewer draws: the embeddings of the
// snapshot's images (see Embeddings) and their labels, the class weights
// (core.Spec.ClassWeights, C×EmbedDim) when the loss has them, and whether
// they have biases, the class names, the
// threshold of the last verification (HasThreshold: none before the first
// epoch end, nor without held-out pairs), the loss's additive angular margin
// (ArcFace's m, the combined loss's m2; 0 for the others) and the
// histograms of the angles θ = arccos(cos(x_i, x_j)) of the snapshot's
// genuine and impostor pairs, in HistogramBins bins of equal width over
// [0°, 180°] (each histogram sums to the number of its pairs).
// Embeddings or class weights that are not all finite numbers are an
// error, as they are at an epoch's end (see validate): one that says
// training diverged (core.ErrDiverged; a step whose update overflowed the
// parameters has a finite loss of its own). With EarlyStop after a best
// epoch, that ends the run instead, as Step would (stopDiverged), and the
// snapshot is of the best epoch's parameters.
func (j *Job) Snapshot() (msg.Snapshot, error) {
	s, err := j.snapshot()
	if errors.Is(err, core.ErrDiverged) {
		if err := j.stopDiverged(err); err != nil {
			return msg.Snapshot{}, err
		}
		return j.snapshot()
	}
	return s, err
}

// snapshot is Snapshot of the current parameters.
func (j *Job) snapshot() (msg.Snapshot, error) {
	e, err := j.Embeddings()
	if err != nil {
		return msg.Snapshot{}, err
	}
	if !vec.AllFinite(e.X) {
		// As validate refuses them: a step whose update overflowed the
		// weights (its own loss finite); the angles' bins would index
		// out of range, and JSON has no NaN to send.
		return msg.Snapshot{}, core.Diverged(fmt.Sprintf("step %d: the snapshot's embeddings are not all finite numbers (lr too high?)", j.tr.Iter()))
	}
	s := msg.Snapshot{
		Dim:      e.D,
		Points:   append([]float32(nil), e.X...),
		Labels:   append([]int(nil), e.Labels...),
		Classes:  append([]string(nil), j.set.Classes...),
		Margin:   margin(j.loss.Name(), j.loss.Params()),
		Genuine:  make([]int, HistogramBins),
		Impostor: make([]int, HistogramBins),
	}
	if w, b, ok := j.spec.ClassWeights(j.tr.Params()); ok {
		s.Weights, s.Biased = j.plainWeights(w), b != nil
		if !vec.AllFinite(s.Weights) {
			return msg.Snapshot{}, core.Diverged(fmt.Sprintf("step %d: the class weights are not all finite numbers (lr too high?)", j.tr.Iter()))
		}
	}
	if j.last != nil {
		s.Threshold, s.HasThreshold = j.last.Threshold, true
	}
	var cos eval.Cosine
	for _, p := range j.snap.pairs {
		b := angleBin(cos.Similarity(e.Row(p.I), e.Row(p.J)), HistogramBins)
		if p.Same {
			s.Genuine[b]++
		} else {
			s.Impostor[b]++
		}
	}
	return s, nil
}

// margin returns the additive angular margin of a loss in radians: m of
// ArcFace, m2 of the combined loss cos(m1·θ + m2) − m3, 0 for the others.
func margin(loss string, params map[string]float64) float64 {
	switch loss {
	case "arcface":
		return params["m"]
	case "combined":
		return params["m2"]
	}
	return 0
}

// angleBin returns the bin of the angle arccos(c) among bins equal bins
// over [0, π]; c is clamped to [−1, 1] and π falls in the last bin.
func angleBin(c float64, bins int) int {
	theta := math.Acos(math.Max(-1, math.Min(1, c)))
	return min(int(theta/math.Pi*float64(bins)), bins-1)
}
