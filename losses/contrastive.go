package losses

import (
	"fmt"

	"metriclab/core"
)

// Contrastive is the contrastive loss of Hadsell, Chopra and LeCun (2006),
// "Dimensionality Reduction by Learning an Invariant Mapping", over all
// P = N(N−1)/2 pairs i < j of the batch:
//
//	L = (1/P) Σ_{i<j} ½ [ y_ij·d_ij² + (1 − y_ij)·max(0, margin − d_ij)² ]
//
// with y_ij = 1 when i and j share a class, else 0, and d_ij the distance of
// Config.Distance: "cosine" (the default, d = 1 − cos on L2-normalised
// embeddings, in [0, 2]) or "euclidean" (on the raw embeddings). The ½ and
// the mean over every pair (not over the pairs with a non-zero term) are the
// normalisation: L is continuous in the embeddings, and a batch of N < 2
// has L = 0.
//
// Parameter margin (default 0.5, range [0, 10]): negatives closer than margin
// are pushed apart. For cosine, 0.5 asks different classes to be more than
// 60° apart; for euclidean on raw embeddings the margin sets the scale of the
// embedding, since nothing else fixes it, and 0.5 serves as well as any.
//
// Contrastive takes no miner: Config.Miner must be "" or "all".
type Contrastive struct{ pairLoss }

var _ core.Loss = (*Contrastive)(nil)

var contrastiveEntry = entry{
	doc: "contrastive (Hadsell et al. 2006): mean over pairs i<j of ½[y·d² + (1−y)·max(0, margin − d)²], d cosine or euclidean",
	params: func(dim int) []Param {
		return []Param{{
			Name: "margin", Default: 0.5, Min: 0, Max: 10,
			Doc: "pairs of different classes closer than margin are pushed apart: (1−y)·max(0, margin − d)²",
		}}
	},
	build: newContrastive,
	pair:  true,
}

// newContrastive builds a Contrastive from a validated, complete c.
func newContrastive(c Config) (core.Loss, error) {
	dist, err := pairParseDistance(c.Name, c.Distance)
	if err != nil {
		return nil, err
	}
	if c.Miner != "" && c.Miner != "all" {
		return nil, fmt.Errorf("%s: miner %q not supported (contrastive uses all pairs; want \"\" or \"all\")", c.Name, c.Miner)
	}
	return &Contrastive{pairLoss{
		name:   c.Name,
		dim:    c.Dim,
		values: c.Values,
		dist:   dist,
		obj:    pairContrastive{margin: c.Values["margin"]},
	}}, nil
}

// pairContrastive is the contrastive objective on the distance matrix.
type pairContrastive struct{ margin float64 }

func (o pairContrastive) String() string { return fmt.Sprintf("contrastive{margin=%g}", o.margin) }

// lossGradTo returns the contrastive loss of the distances dm (N×N) and
// writes dL/dD to gd: only the upper triangle (i < j) is non-zero, with
//
//	∂L/∂d_ij = (1/P) [ y_ij·d_ij − (1 − y_ij)·max(0, margin − d_ij) ].
func (o pairContrastive) lossGradTo(gd, dm []float64, labels []int, n int) float64 {
	clear(gd)
	pairs := n * (n - 1) / 2
	if pairs == 0 {
		return 0
	}
	inv := 1 / float64(pairs)
	var sum float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			d := dm[i*n+j]
			if labels[i] == labels[j] {
				sum += d * d / 2
				gd[i*n+j] = d * inv
			} else if h := o.margin - d; h > 0 {
				sum += h * h / 2
				gd[i*n+j] = -h * inv
			}
		}
	}
	return sum * inv
}
