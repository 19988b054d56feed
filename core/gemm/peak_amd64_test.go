//go:build !purego

package gemm

import "testing"

// BenchmarkPeak reports the GFLOP/s of AVX-512 fused multiply-adds on
// registers alone (24 independent chains of 16 lanes): this core's peak as
// measured, the yardstick of BenchmarkMul's figures.
func BenchmarkPeak(b *testing.B) {
	if kernels.name != "avx512" {
		b.Skip("no AVX-512 on this CPU")
	}
	const rounds = 1 << 16
	for i := 0; i < b.N; i++ {
		peakZ(rounds)
	}
	b.ReportMetric(2*16*24*rounds*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
