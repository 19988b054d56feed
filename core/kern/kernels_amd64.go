//go:build !purego

package kern

import "golang.org/x/sys/cpu"

//go:generate sh -c "cd asm && go run . -out ../kern_amd64.s -stubs ../kern_stubs_amd64.go -pkg kern"

// best is the fastest set this CPU runs, chosen once at start-up. The
// AVX-512 kernels also use BZHI (BMI2) for their tail masks.
var best = func() *kernels {
	sets := runnable()
	return sets[len(sets)-1]
}()

// runnable returns every kernel set this CPU runs, slowest first, the Go
// one included: the tests compare them all.
func runnable() []*kernels {
	sets := []*kernels{&goKernels}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		sets = append(sets, &avx2Kernels)
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasBMI2 {
		sets = append(sets, &avx512Kernels)
	}
	return sets
}

var avx512Kernels = kernels{
	name:           "avx512",
	relu:           reluZ,
	reluBack:       reluBackZ,
	prelu:          preluZ,
	preluBack:      preluBackZ,
	preluSlopeGrad: preluSlopeGradZ,
	sum:            sumZ,
	dot:            dotZ,
	sumSqDev:       sumSqDevZ,
	scaleShift:     scaleShiftZ,
	axpbyc:         axpbycZ,
	maskedSum:      maskedSumZ,
	transpose: func(dst []float32, ldd int, src []float32, lds, r, c int, bias []float32) {
		var b *float32
		if bias != nil {
			b = &bias[0]
		}
		transposeZ(&dst[0], ldd, &src[0], lds, r, c, b)
	},
	maxPool2: func(y []float32, arg []int32, x []float32, nc, h, w int) {
		maxPool2Z(&y[0], &arg[0], &x[0], nc, h, w)
	},
}

// The AVX2 kernels stop at the last multiple of 8 elements; the Go ones
// finish.
var avx2Kernels = kernels{
	name: "avx2",
	relu: func(dst, x []float32) {
		n := len(dst) &^ 7
		reluY(dst[:n], x[:n])
		reluGo(dst[n:], x[n:])
	},
	reluBack: func(dst, y, dy []float32) {
		n := len(dst) &^ 7
		reluBackY(dst[:n], y[:n], dy[:n])
		reluBackGo(dst[n:], y[n:], dy[n:])
	},
	prelu: func(dst, x []float32, s float32) {
		n := len(dst) &^ 7
		preluY(dst[:n], x[:n], s)
		preluGo(dst[n:], x[n:], s)
	},
	preluBack: func(dst, x, dy []float32, s float32) {
		n := len(dst) &^ 7
		preluBackY(dst[:n], x[:n], dy[:n], s)
		preluBackGo(dst[n:], x[n:], dy[n:], s)
	},
	preluSlopeGrad: func(x, dy []float32) float64 {
		n := len(x) &^ 7
		return preluSlopeGradY(x[:n], dy[:n]) + preluSlopeGradGo(x[n:], dy[n:])
	},
	sum: func(x []float32) float64 {
		n := len(x) &^ 7
		return sumY(x[:n]) + sumGo(x[n:])
	},
	dot: func(x, y []float32) float64 {
		n := len(x) &^ 7
		return dotY(x[:n], y[:n]) + dotGo(x[n:], y[n:])
	},
	sumSqDev: func(x []float32, mu float64) float64 {
		n := len(x) &^ 7
		return sumSqDevY(x[:n], mu) + sumSqDevGo(x[n:], mu)
	},
	scaleShift: func(dst, x []float32, a, b float32) {
		n := len(dst) &^ 7
		scaleShiftY(dst[:n], x[:n], a, b)
		scaleShiftGo(dst[n:], x[n:], a, b)
	},
	axpbyc: func(dst, x, y []float32, a, b, c float32) {
		n := len(dst) &^ 7
		axpbycY(dst[:n], x[:n], y[:n], a, b, c)
		axpbycGo(dst[n:], x[n:], y[n:], a, b, c)
	},
	maskedSum: func(y, dy []float32) float64 {
		n := len(y) &^ 7
		return maskedSumY(y[:n], dy[:n]) + maskedSumGo(y[n:], dy[n:])
	},
	transpose: transposeGo,
	maxPool2:  maxPool2Go,
}
