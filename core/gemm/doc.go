// Package gemm is metriclab's single-precision matrix product: every
// convolution, linear layer and class-cosine product of the engine, forward
// and backward, is one or more calls of Mul.
//
//	C[r, j] = (acc ? C[r, j] : 0) + Σ_{t<k} A[r, t] · B[t, j],   r < m, j < n,
//
// with the left operand read through two offset tables and the right one
// row-major:
//
//	A[r, t] = a.Data[a.Off[t] + a.Row[r]]
//	B[t, j] = b.Data[t·b.Ld + j]
//	C[r, j] = c.Data[r·c.Ld + j]
//
// The tables make the im2col matrix of a convolution an addressing mode: a
// convolution's rows are output pixels (Row: their offsets in the image), its
// reduction steps the (channel, ky, kx) taps of the kernel (Off: their
// offsets), and the image is never copied into a column matrix. A plain
// row-major m×k matrix is Off[t] = t, Row[r] = r·lda; its transpose Off[t] =
// t·lda, Row[r] = r. See Rows, Steps and Strided.
//
// # Kernels
//
// Mul cuts C into MR×NR tiles and the reduction into blocks of KC steps;
// a micro-kernel keeps one tile in registers over a block, loading B's row t
// (NR values) once and broadcasting the MR values of A's column t:
//
//	AVX-512 (amd64)      MR×NR = 6×64, 8×48, 8×32, 8×16, masked columns
//	AVX2+FMA (amd64)     4×24, 6×16, 8×8
//	NEON (arm64)         6×16, 8×8, 8×4
//	pure Go (wasm, …)    4×4, the reference of every other kernel
//
// chosen at run time from the CPU's features (golang.org/x/sys/cpu); the
// build tag purego forces the Go kernel. The program in asm/ generates the
// assembly (go generate): the amd64 kernels with avo, the arm64 ones as
// text. `make test` runs this package's tests on every kernel set the CPU
// has, and on NEON under qemu-aarch64.
//
// # Known zeros
//
// A.Band names where A is zero by construction: A[r, t] = 0 when step t's
// key (or either of its two keys) lies outside row r's range. A
// convolution's taps that read the zero padding are such zeros: the keys
// are the tap's kernel row and column, a pixel's ranges those that reach
// the image from it (31 % of a 5×5 convolution's taps with padding 2 on
// 7×7 pixels). Mul skips the steps outside the union of a tile's ranges:
// once a block for each union a tile needs, it lists the steps kept (their
// offsets in A and B), and the kernels read B's rows through that list; as
// the skipped terms are exact zeros, C has the same bits as without the
// band.
//
// # Precision and determinism
//
// Sums accumulate in float32, in the order t = 0, 1, …, k−1 for every
// element of C (a fused multiply-add per step in the SIMD kernels, a
// multiply then an add in the Go kernel: the two differ in rounding, by
// about k·2⁻²⁴ relative). The tiling and the reduction order depend on m, n
// and k only, never on the number of threads, so a Pool of any size gives
// the same bits.
//
// The assembly kernels flush to zero every product and sum below
// float32's smallest normal number, 2⁻¹²⁶, and read such operands as zero
// (amd64: MXCSR's FZ and DAZ bits; arm64: FPCR's FZ, which does both for
// single precision; set at the kernel's entry, and the caller's put back
// at its exit as Go's ABI wants): C then differs from the Go kernel's by
// less than 2⁻¹²⁶ per term, times the other factor where a factor is
// itself below 2⁻¹²⁶ (read as zero, a subnormal A of 2⁻¹³⁰ times a B of
// 2²⁰ gives 0, not 2⁻¹¹⁰). Once a run's loss is ~0 its backward pass is
// full of such numbers (31 % of the gradient that lenet-s's second
// convolution passes back, on MNIST's 0s and 1s), and each costs an Intel
// core a microcode assist: that run went from 21,000 to 5,700 images a
// second, and lenet-s whose every gradient lies there from 20,000 to 780
// (BenchmarkEngineStepTinyGradients). What they cost an arm64 core
// depends on the core; the NEON kernels flush them as the amd64 ones do.
// Go code cannot set those bits (and wasm has none), so the Go kernels
// store each element of C that is subnormal as 0 (flush in kernel.go): a
// tile's products and sums on the way keep them, but none is handed on to
// the next layer. Mul runs the Go kernels only where it runs no assembly
// (wasm, -tags purego, an amd64 CPU without AVX2 and FMA, other
// architectures).
// With core's sparse convolution backward taking subnormal gradients as
// zero too, that benchmark with the Go kernel (-tags purego, and the wasm
// trainer in node) runs its tiny gradients about as fast as its normal
// ones, where they were about 20 times slower natively and 16 times under
// wasm.
package gemm
