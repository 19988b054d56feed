package losses

import (
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// pairRefContrastive is the contrastive loss and its gradient with respect
// to the embeddings x (n×dim), the slow way: pair by pair.
func pairRefContrastive(dist string, x []float64, labels []int, dim int, margin float64) (float64, []float64) {
	n := len(labels)
	grad := make([]float64, len(x))
	pairs := n * (n - 1) / 2
	if pairs == 0 {
		return 0, grad
	}
	var sum float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			d, gi, gj := pairRefDist(dist, pairRow(x, i, dim), pairRow(x, j, dim))
			var dLdd float64 // of this pair's term
			if labels[i] == labels[j] {
				sum += 0.5 * d * d
				dLdd = d
			} else if margin > d {
				sum += 0.5 * (margin - d) * (margin - d)
				dLdd = -(margin - d)
			}
			for c := 0; c < dim; c++ {
				grad[i*dim+c] += dLdd * gi[c] / float64(pairs)
				grad[j*dim+c] += dLdd * gj[c] / float64(pairs)
			}
		}
	}
	return sum / float64(pairs), grad
}

func TestContrastiveReferenceFiniteDifference(t *testing.T) {
	for _, dist := range []string{"cosine", "euclidean"} {
		const n, dim, classes, margin = 10, 3, 3, 1.2
		x, labels := pairSmoothBatch(t, 1, dist, n, dim, classes, margin)
		_, grad := pairRefContrastive(dist, x, labels, dim, margin)
		fd := pairFDGrad(func(x []float64) float64 {
			l, _ := pairRefContrastive(dist, x, labels, dim, margin)
			return l
		}, x, 1e-6)
		// Central differences: truncation O(h²) and rounding 1e-16/h.
		pairAssertClose(t, dist+" reference gradient vs finite differences", grad, fd, 1e-8, 1e-6)
	}
}

func TestContrastiveHandWorked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		distance string
		margin   float64
		x        []float64 // 2-D rows
		labels   []int
		want     float64
		tol      float64
	}{
		// Same class at 90°: d = 1 − cos 90° = 1, one pair: ½·1² = 0.5.
		{"cosine same 90°", "cosine", 0.5, pairCircle(0, 90), []int{0, 0}, 0.5, 1e-12},
		// Same class at 180°: d = 2: ½·2² = 2 (sin, cos of 190° round at 1e-16).
		{"cosine same 180°", "cosine", 0.5, pairCircle(10, 190), []int{0, 0}, 2, 1e-9},
		// Other class at 30°: d = 1 − cos 30° = 0.1339746; ½(0.5 − d)² =
		// ½·0.3660254² = 0.0669873.
		{"cosine other 30°", "cosine", 0.5, pairCircle(0, 30), []int{0, 1}, 0.5 * (0.5 - (1 - 0.8660254037844386)) * (0.5 - (1 - 0.8660254037844386)), 1e-12},
		// Other class at 60°: d = 0.5 = margin: no term.
		{"cosine other 60° at the margin", "cosine", 0.5, pairCircle(0, 60), []int{0, 1}, 0, 1e-12},
		// Three pairs: (0°,90°) same, d = 1 → 0.5; (0°,180°) other, d = 2 >
		// margin → 0; (90°,180°) other, d = 1 > margin → 0. Mean: 0.5/3.
		{"cosine three points", "cosine", 0.5, pairCircle(0, 90, 180), []int{0, 0, 1}, 0.5 / 3, 1e-12},
		// Unnormalised rows: the cosine distance ignores the norms, as at 90°.
		{"cosine ignores norms", "cosine", 0.5, []float64{3, 0, 0, 0.2}, []int{0, 0}, 0.5, 1e-12},
		// Same class at (0,0) and (3,4): d = 5: ½·25 = 12.5 (ε moves it by 1e-12).
		{"euclidean same 3-4-5", "euclidean", 1, []float64{0, 0, 3, 4}, []int{1, 1}, 12.5, 1e-9},
		// Other class 0.5 apart, margin 1: ½(1 − 0.5)² = 0.125.
		{"euclidean other", "euclidean", 1, []float64{0, 0, 0.3, 0.4}, []int{0, 1}, 0.125, 1e-9},
		// Coincident, other class, margin 1: d = √ε = 1e-6: ½(1 − 1e-6)².
		{"euclidean coincident", "euclidean", 1, []float64{1, 1, 1, 1}, []int{0, 1}, 0.5 * (1 - 1e-6) * (1 - 1e-6), 1e-12},
		// One point: no pair, L = 0.
		{"single point", "cosine", 0.5, pairCircle(45), []int{0}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(tc.labels)
			l := pairMustNew(t, Config{Name: "contrastive", Dim: 2, Distance: tc.distance, Values: map[string]float64{"margin": tc.margin}})
			pg := pairNewGraph(t, l, tensor.Float64, n, 2, 2)
			got, grad := pg.run(t, tc.x, tc.labels)
			pairAssertClose(t, "loss", []float64{got}, []float64{tc.want}, tc.tol, 0)
			_, want := pairRefContrastive(tc.distance, tc.x, tc.labels, 2, tc.margin)
			pairAssertClose(t, "gradient", grad, want, 1e-12, 1e-9)
		})
	}
}

// TestContrastiveGraph checks the gorgonia graph against the reference, in
// float64 (1e-9 relative) and float32 (1e-4), on two batches in turn so that
// the buffers reused by the op carry nothing from one step to the next.
func TestContrastiveGraph(t *testing.T) {
	for _, dist := range []string{"cosine", "euclidean"} {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(dist+"/"+dt.String(), func(t *testing.T) {
				const n, dim, classes, margin = 12, 4, 3, 1.0
				atol, rtol := 1e-12, 1e-9
				if dt == tensor.Float32 {
					atol, rtol = 1e-6, 1e-4
				}
				l := pairMustNew(t, Config{Name: "contrastive", Dim: dim, Distance: dist, Values: map[string]float64{"margin": margin}})
				pg := pairNewGraph(t, l, dt, n, dim, classes)
				for seed := uint64(10); seed < 12; seed++ {
					x, labels := pairRandBatch(seed, n, dim, classes)
					wantL, wantG := pairRefContrastive(dist, x, labels, dim, margin)
					gotL, gotG := pg.run(t, x, labels)
					pairAssertClose(t, "loss", []float64{gotL}, []float64{wantL}, atol, rtol)
					pairAssertClose(t, "gradient", gotG, wantG, atol, rtol)
				}
			})
		}
	}
}

func TestContrastiveValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Config
		want string // a part of the error
	}{
		{"bad distance", Config{Name: "contrastive", Dim: 3, Distance: "manhattan"}, `contrastive: unknown distance "manhattan" (want one of cosine, euclidean)`},
		{"miner", Config{Name: "contrastive", Dim: 3, Miner: "hard"}, `miner "hard" not supported`},
		{"margin below", Config{Name: "contrastive", Dim: 3, Values: map[string]float64{"margin": -0.1}}, "margin = -0.1 out of range [0, 10]"},
		{"margin above", Config{Name: "contrastive", Dim: 3, Values: map[string]float64{"margin": 11}}, "margin = 11 out of range [0, 10]"},
		{"unknown param", Config{Name: "contrastive", Dim: 3, Values: map[string]float64{"k": 4}}, `contrastive has no parameter "k"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New(%+v) error %v, want it to contain %q", tc.c, err, tc.want)
			}
		})
	}
	// The defaults: cosine distance, margin 0.5, no miner, no learnables.
	l := pairMustNew(t, Config{Name: "contrastive", Dim: 3, Miner: "all"})
	c := l.(*Contrastive)
	if c.dist != pairCosine || c.Params()["margin"] != 0.5 || len(c.Params()) != 1 || l.Learnables() != nil || l.Name() != "contrastive" {
		t.Errorf("defaults: distance %v, params %v, learnables %v, name %q", c.dist, c.Params(), l.Learnables(), l.Name())
	}
	if _, ok := l.(interface{ NeedsPK() (int, int, bool) }); ok {
		t.Errorf("contrastive asks for P×K batches; it uses every pair of a plain batch")
	}
}

// TestContrastiveTrains moves 24 free 3-D embeddings of 4 classes with the
// contrastive loss: the loss must fall and the classes separate.
func TestContrastiveTrains(t *testing.T) {
	for _, dist := range []string{"cosine", "euclidean"} {
		t.Run(dist, func(t *testing.T) {
			const n, dim, classes = 24, 3, 4
			x0, labels := pairRandBatch(3, n, dim, classes)
			l := pairMustNew(t, Config{Name: "contrastive", Dim: dim, Distance: dist})
			first, last, x := pairTrain(t, l, x0, labels, dim, classes, 300)
			acc, intra, inter := pairSeparation(dist, x, labels, dim)
			t.Logf("loss %.4f → %.4f, 1-NN accuracy %.2f, mean distance intra %.3f inter %.3f", first, last, acc, intra, inter)
			if !(last < first/4) {
				t.Errorf("loss %.4f → %.4f, want it divided by 4 at least", first, last)
			}
			if acc != 1 || !(intra < inter/2) {
				t.Errorf("1-NN accuracy %.2f, intra %.3f, inter %.3f: want 1 and intra < inter/2", acc, intra, inter)
			}
		})
	}
}
