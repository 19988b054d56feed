package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"metriclab/core/par"
)

// BenchmarkMul measures plain row-major products (A m×k, B k×n) on every
// kernel set this CPU runs, on one thread and on all of them, and reports
// GFLOP/s (2·m·n·k per product). The shapes are those of the engine: a
// square product, LeNet++'s widest convolution as one image's product
// (positions × taps · taps × channels), and IResNet's first stage.
func BenchmarkMul(b *testing.B) {
	shapes := []struct {
		name    string
		m, n, k int
	}{
		{"square512", 512, 512, 512},
		{"lenetpp-conv1b", 784, 32, 800},
		{"lenetpp-conv3b", 49, 128, 3200},
		{"iresnet-layer1", 3136, 64, 576},
	}
	pools := map[string]*par.Pool{"1thread": nil, "allthreads": par.NewPool(0)}
	for _, set := range runnable() {
		for _, sh := range shapes {
			for _, pname := range []string{"1thread", "allthreads"} {
				pool := pools[pname]
				b.Run(fmt.Sprintf("%s/%s/%s", set.name, sh.name, pname), func(b *testing.B) {
					rng := rand.New(rand.NewPCG(1, 1))
					a := A{Data: randSlice(rng, sh.m*sh.k), Off: Steps(nil, sh.k, 1), Row: Steps(nil, sh.m, sh.k)}
					bb := B{Data: randSlice(rng, sh.k*sh.n), Ld: sh.n}
					c := C{Data: make([]float32, sh.m*sh.n), Ld: sh.n}
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						mulWith(set, pool, false, sh.m, sh.n, sh.k, a, bb, c)
					}
					b.ReportMetric(2*float64(sh.m*sh.n*sh.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
