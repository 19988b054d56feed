package conv

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"metriclab/core/par"
)

// BenchmarkPlan runs forward, input gradient and filter gradient of the
// engine's convolutions at their training batch, on one thread and on
// every CPU, and reports GFLOP/s (2 flops per multiply-add, three products).
func BenchmarkPlan(b *testing.B) {
	layers := []struct {
		name string
		g    Geom
	}{
		{"lenetpp-conv1b", Geom{N: 64, Ci: 32, H: 28, W: 28, Co: 32, K: 5, Stride: 1, Pad: 2}},
		{"lenetpp-conv2b", Geom{N: 64, Ci: 64, H: 14, W: 14, Co: 64, K: 5, Stride: 1, Pad: 2}},
		{"lenetpp-conv3b", Geom{N: 64, Ci: 128, H: 7, W: 7, Co: 128, K: 5, Stride: 1, Pad: 2}},
		{"iresnet-layer1", Geom{N: 32, Ci: 64, H: 56, W: 56, Co: 64, K: 3, Stride: 1, Pad: 1}},
		{"iresnet-layer2.0", Geom{N: 32, Ci: 128, H: 56, W: 56, Co: 128, K: 3, Stride: 2, Pad: 1}},
	}
	for _, threads := range []int{1, 0} {
		pool := par.NewPool(threads)
		for _, l := range layers {
			b.Run(fmt.Sprintf("%s/threads=%d", l.name, pool.Threads()), func(b *testing.B) {
				g := l.g
				rng := rand.New(rand.NewPCG(1, 1))
				p, err := NewPlan(g)
				if err != nil {
					b.Fatal(err)
				}
				x, w, bias, dy := randSlice(rng, g.InSize()), randSlice(rng, g.FilterSize()), randSlice(rng, g.Co), randSlice(rng, g.OutSize())
				y, dx, dw, db := make([]float32, g.OutSize()), make([]float32, g.InSize()), make([]float32, g.FilterSize()), make([]float32, g.Co)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					p.Forward(pool, y, x, w, bias)
					p.BackwardData(pool, dx, dy, w)
					p.BackwardFilter(pool, dw, db, x, dy)
				}
				b.ReportMetric(6*float64(g.MACs())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		pool.Close()
	}
}
