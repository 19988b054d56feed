package losses

import (
	"metriclab/core"
)

// Triplet is the triplet margin loss (Weinberger and Saul 2009; Schroff et
// al. 2015, FaceNet) over the triplets (a, p, n) that a miner selects from
// the batch, a and p of one class (a ≠ p), n of another:
//
//	L = (1/T) Σ_{(a,p,n) mined} max(0, margin + d(a,p) − d(a,n))
//
// T is the number of mined triplets, those with a zero term included, so
// that every miner averages the same way; L = 0 when the batch holds no
// valid triplet. The distance d is that of Config.Distance: "cosine" (the
// default, d = 1 − cos on L2-normalised embeddings, in [0, 2]) or
// "euclidean" (on the raw embeddings). Config.Miner is one of "all",
// "hard" (batch-hard), "semihard" (the default) and "easy"; miners.go
// defines each.
//
// Parameters:
//
//	margin (default 0.2, range [0, 10]): the gap asked between d(a,n) and
//	        d(a,p); FaceNet's 0.2 (there on the squared euclidean distance of
//	        unit vectors, 2·(1 − cos), so twice as strict as here).
//	k      (default 4, integer in [2, 64]): samples per class in a P×K batch.
//
// Triplet implements core.Batcher: NeedsPK returns p = 0, meaning "P is the
// batch size divided by k", which the trainer computes, and k; the trainer
// then orders each epoch with PKOrder.
type Triplet struct {
	pairLoss
	k int
}

var (
	_ core.Loss    = (*Triplet)(nil)
	_ core.Batcher = (*Triplet)(nil)
)

var tripletEntry = entry{
	doc: "triplet (Schroff et al. 2015): mean over mined (a,p,n) of max(0, margin + d(a,p) − d(a,n)), miners all|hard|semihard|easy, P×K batches",
	params: func(dim int) []Param {
		return []Param{
			{
				Name: "margin", Default: 0.2, Min: 0, Max: 10,
				Doc: "gap asked between negative and positive distances: max(0, margin + d(a,p) − d(a,n))",
			},
			{
				Name: "k", Default: 4, Min: 2, Max: 64, Integer: true,
				Doc: "samples per class in a P×K batch (P = batch size / k)",
			},
		}
	},
	build: newTriplet,
	pair:  true,
}

// newTriplet builds a Triplet from a validated, complete c.
func newTriplet(c Config) (core.Loss, error) {
	dist, err := pairParseDistance(c.Name, c.Distance)
	if err != nil {
		return nil, err
	}
	miner, err := tripParseMiner(c.Name, c.Miner)
	if err != nil {
		return nil, err
	}
	return &Triplet{
		pairLoss: pairLoss{
			name:   c.Name,
			dim:    c.Dim,
			values: c.Values,
			dist:   dist,
			obj:    tripObjective{miner: miner, margin: c.Values["margin"]},
		},
		k: int(c.Values["k"]),
	}, nil
}

// NeedsPK returns p = 0 (P = batch size / k, chosen by the trainer), the
// number k of samples per class, and true.
func (l *Triplet) NeedsPK() (p, k int, ok bool) { return 0, l.k, true }
