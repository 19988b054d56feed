// Package kern is metriclab's elementwise and layout kernels on float32
// slices: the rectifiers and their gradients, the reductions of batch
// normalisation and of the bias and slope gradients, the transposes around
// the matrix products and the 2×2 max pool. Every function writes into
// slices its caller owns and allocates nothing.
//
//	ReLU(dst, x)                  dst[i] = x[i] < 0 ? 0 : x[i]
//	ReLUBack(dst, y, dy)          dst[i] = y[i] ≤ 0 ? 0 : dy[i]
//	PReLU(dst, x, s)              dst[i] = x[i] ≤ 0 ? s·x[i] : x[i]
//	PReLUBack(dst, x, dy, s)      dst[i] = x[i] ≤ 0 ? s·dy[i] : dy[i]
//	PReLUSlopeGrad(x, dy)         Σ_{x[i] ≤ 0} x[i]·dy[i]
//	Sum(x)                        Σ x[i]
//	Dot(x, y)                     Σ x[i]·y[i]
//	SumSqDev(x, mu)               Σ (x[i] − mu)²
//	ScaleShift(dst, x, a, b)      dst[i] = a·x[i] + b
//	Axpbyc(dst, x, y, a, b, c)    dst[i] = a·x[i] + b·y[i] + c
//	MaskedSum(y, dy)              Σ_{¬(y[i] ≤ 0)} dy[i]
//	Transpose(dst, ldd, src, lds, r, c, bias)
//	                              dst[j·ldd + i] = src[i·lds + j] (+ bias[j])
//	MaxPool2(y, arg, x, nc, h, w) 2×2 stride-2 max pool, with the argmax
//
// # The sign test and NaN
//
// The rectifiers split on x ≤ 0, as the engine's loops they replace did:
// the negative side is x ≤ 0 (−0 and +0 included), everything else,
// NaN included, is the positive side. So a NaN input gives NaN out (ReLU,
// PReLU), its gradient passes unchanged (ReLUBack, PReLUBack, MaskedSum),
// and it is left out of the slope gradient. ReLU keeps −0 (it zeroes only
// x < 0), so ReLU is the identity on every x that is not below zero.
//
// # Sums
//
// The reductions return float64 and accumulate in float64: every term is
// converted exactly (a float32 product of two float32 values is exact in
// float64), so only the additions round. They add in several interleaved
// partial sums, in an order fixed by the length and the kernel set alone:
// the same input gives the same bits on one machine, while two kernel sets
// (or the plain reference) may differ in the last bits.
//
// ScaleShift and Axpbyc round in float32; the SIMD kernels fuse the
// multiply-adds, the Go ones may or may not (arm64 fuses, amd64 and wasm do
// not), a rounding apart.
//
// # Kernels
//
// Each function runs one of these sets, chosen once at start-up from the
// CPU's features (golang.org/x/sys/cpu):
//
//	avx512 (amd64)    every function; tails of 1–15 elements masked
//	avx2   (amd64)    the elementwise maps and the sums; tails of 1–7
//	                  elements, Transpose and MaxPool2 in Go
//	go (wasm, arm64…) selects on the bits of the values, no branch
//	                  on the data but in MaxPool2
//
// The build tag purego forces the Go set. The program in asm/ generates the
// amd64 assembly with avo (go generate). The Go kernels avoid both
// data-dependent branches (a test like x ≤ 0 on random signs mispredicts
// half the time) and the float min/max builtins (runtime calls under
// GOOS=js): they select between the integer bits of two values, which
// compiles to a conditional move natively and to a select under wasm; one
// form serves both targets. MaxPool2's Go kernel keeps core's branches:
// its three compare-and-selects per window depend on each other, and the
// branch-free form measured no faster (BenchmarkMaxPool2, "gopick").
package kern
