package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func BenchmarkZZ(b *testing.B) {
	shapes := []struct {
		name    string
		m, n, k int
	}{
		{"1b-1img", 784, 32, 800},
		{"1b-64img", 784 * 64, 32, 800},
		{"2b-1img", 196, 64, 1600},
		{"2b-64img", 196 * 64, 64, 1600},
		{"3b-64img", 49 * 64, 128, 3200},
	}
	for _, sh := range shapes {
		b.Run(fmt.Sprintf("%s", sh.name), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			a := A{Data: randSlice(rng, sh.m*sh.k), Off: Steps(nil, sh.k, 1), Row: Steps(nil, sh.m, sh.k)}
			bb := B{Data: randSlice(rng, sh.k*sh.n), Ld: sh.n}
			c := C{Data: make([]float32, sh.m*sh.n), Ld: sh.n}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				mulWith(kernels, nil, false, sh.m, sh.n, sh.k, a, bb, c)
			}
			b.ReportMetric(2*float64(sh.m*sh.n*sh.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
