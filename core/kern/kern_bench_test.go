package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchN is the length of every benchmark's slices (256 KB each).
const benchN = 1 << 16

// benchSets is the number of different inputs a benchmark cycles through,
// one per call: on a single input repeated, the branch predictor learns
// the signs (on this machine's AMD EPYC, the branchy 2×2 pool of 20
// planes of 28×28, 12 K branches, ran at 0.13 ns per element repeated and
// 3.7 on new data). Training never sees an input twice. The sets (1–6 MB)
// stay in the L3 cache.
const benchSets = 8

// benchImpls runs one benchmark per implementation: "ref", the plain
// branchy loop (the engine's loop before this package), then every kernel
// set this CPU runs. run(k, i) calls set k (nil: ref) on input i mod
// benchSets; bytes is the traffic of one call, elems its elements.
func benchImpls(b *testing.B, bytes, elems int, run func(k *kernels, i int)) {
	benchOne(b, "ref", bytes, elems, func(i int) { run(nil, i) })
	for _, k := range runnable() {
		benchOne(b, k.name, bytes, elems, func(i int) { run(k, i) })
	}
}

// benchOne is one benchmark of f(i), i = 0, 1, …, reporting GB/s, ns per
// element of wall time and, on Linux, cpu-ns/elem: the CPU time of the
// benchmark's thread, which on a shared machine leaves out the time it
// waited for a core.
func benchOne(b *testing.B, name string, bytes, elems int, f func(i int)) {
	b.Run(name, func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		b.SetBytes(int64(bytes))
		i := 0
		cpu0 := threadCPU()
		for b.Loop() {
			f(i % benchSets)
			i++
		}
		per := float64(b.N) * float64(elems)
		if cpu := threadCPU() - cpu0; cpu > 0 {
			b.ReportMetric(float64(cpu.Nanoseconds())/per, "cpu-ns/elem")
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/elem")
	})
}

// benchData returns benchSets inputs of three slices of benchN normal
// values each (random signs).
func benchData() (x, y, dst [benchSets][]float32) {
	rng := rand.New(rand.NewPCG(1, 1))
	for s := range x {
		x[s], y[s], dst[s] = make([]float32, benchN), make([]float32, benchN), make([]float32, benchN)
		for i := range x[s] {
			x[s][i], y[s][i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
	}
	return
}

var sink float64

func BenchmarkReLU(b *testing.B) {
	x, _, d := benchData()
	benchImpls(b, 8*benchN, benchN, func(k *kernels, i int) {
		if k == nil {
			reluRef(d[i], x[i])
		} else {
			k.relu(d[i], x[i])
		}
	})
}

func BenchmarkReLUBack(b *testing.B) {
	x, y, d := benchData()
	benchImpls(b, 12*benchN, benchN, func(k *kernels, i int) {
		if k == nil {
			reluBackRef(d[i], x[i], y[i])
		} else {
			k.reluBack(d[i], x[i], y[i])
		}
	})
}

func BenchmarkPReLU(b *testing.B) {
	x, _, d := benchData()
	benchImpls(b, 8*benchN, benchN, func(k *kernels, i int) {
		if k == nil {
			preluRef(d[i], x[i], 0.25)
		} else {
			k.prelu(d[i], x[i], 0.25)
		}
	})
}

func BenchmarkPReLUBack(b *testing.B) {
	x, y, d := benchData()
	benchImpls(b, 12*benchN, benchN, func(k *kernels, i int) {
		if k == nil {
			preluBackRef(d[i], x[i], y[i], 0.25)
		} else {
			k.preluBack(d[i], x[i], y[i], 0.25)
		}
	})
}

func BenchmarkPReLUSlopeGrad(b *testing.B) {
	x, y, _ := benchData()
	benchImpls(b, 8*benchN, benchN, func(k *kernels, i int) {
		if k == nil {
			sink += preluSlopeGradRef(x[i], y[i])
		} else {
			sink += k.preluSlopeGrad(x[i], y[i])
		}
	})
}

func BenchmarkSum(b *testing.B) {
	x, _, _ := benchData()
	benchImpls(b, 4*benchN, benchN, func(k *kernels, i int) {
		if k == nil {
			sink += sumRef(x[i])
		} else {
			sink += k.sum(x[i])
		}
	})
}

func BenchmarkDot(b *testing.B) {
	x, y, _ := benchData()
	benchImpls(b, 8*benchN, benchN, func(k *kernels, i int) {
		if k == nil {
			sink += dotRef(x[i], y[i])
		} else {
			sink += k.dot(x[i], y[i])
		}
	})
}

func BenchmarkSumSqDev(b *testing.B) {
	x, _, _ := benchData()
	benchImpls(b, 4*benchN, benchN, func(k *kernels, i int) {
		if k == nil {
			sink += sumSqDevRef(x[i], 0.1)
		} else {
			sink += k.sumSqDev(x[i], 0.1)
		}
	})
}

// scaleShiftLoop and axpbycLoop are the plain float32 loops (the
// references compute in float64).
//
//go:noinline
func scaleShiftLoop(dst, x []float32, a, b float32) {
	for i, v := range x {
		dst[i] = a*v + b
	}
}

//go:noinline
func axpbycLoop(dst, x, y []float32, a, b, c float32) {
	for i, v := range x {
		dst[i] = a*v + b*y[i] + c
	}
}

func BenchmarkScaleShift(b *testing.B) {
	x, _, d := benchData()
	benchImpls(b, 8*benchN, benchN, func(k *kernels, i int) {
		if k == nil {
			scaleShiftLoop(d[i], x[i], 1.5, 0.5)
		} else {
			k.scaleShift(d[i], x[i], 1.5, 0.5)
		}
	})
}

func BenchmarkAxpbyc(b *testing.B) {
	x, y, d := benchData()
	benchImpls(b, 12*benchN, benchN, func(k *kernels, i int) {
		if k == nil {
			axpbycLoop(d[i], x[i], y[i], 1.5, 0.5, 2)
		} else {
			k.axpbyc(d[i], x[i], y[i], 1.5, 0.5, 2)
		}
	})
}

func BenchmarkMaskedSum(b *testing.B) {
	x, y, _ := benchData()
	benchImpls(b, 8*benchN, benchN, func(k *kernels, i int) {
		if k == nil {
			sink += maskedSumRef(x[i], y[i])
		} else {
			sink += k.maskedSum(x[i], y[i])
		}
	})
}

// BenchmarkTranspose: a square of benchN elements, LeNet++'s first
// convolution (784 pixels × 32 channels) in both directions, with its bias
// on the way back to channel-major, and its last (49 × 128). Beside "ref"
// (the plain double loop) runs "conv", core/conv's 8×8-blocked loop. No
// branch depends on the data, so one input serves every call.
func BenchmarkTranspose(b *testing.B) {
	shapes := []struct {
		r, c int
		bias bool
	}{{256, 256, false}, {784, 32, true}, {32, 784, false}, {49, 128, true}}
	for _, sh := range shapes {
		name := fmt.Sprintf("%dx%d", sh.r, sh.c)
		if sh.bias {
			name += "+bias"
		}
		b.Run(name, func(b *testing.B) {
			xs, ys, ds := benchData()
			src, dst, bias := xs[0], ds[0], ys[0][:sh.c]
			if !sh.bias {
				bias = nil
			}
			r, c := sh.r, sh.c
			benchOne(b, "conv", 8*r*c, r*c, func(int) { transposeConv(dst, r, src, c, r, c, bias) })
			benchImpls(b, 8*r*c, r*c, func(k *kernels, _ int) {
				if k == nil {
					transposeRef(dst, r, src, c, r, c, bias)
				} else {
					k.transpose(dst, r, src, c, r, c, bias)
				}
			})
		})
	}
}

// BenchmarkMaxPool2: 16 planes of 64×64 (benchN inputs) and LeNet++'s
// first pool, 32 channels of 28×28 for a batch of 4 images.
func BenchmarkMaxPool2(b *testing.B) {
	for _, sh := range [][3]int{{16, 64, 64}, {128, 28, 28}} {
		nc, h, w := sh[0], sh[1], sh[2]
		b.Run(fmt.Sprintf("%dx%dx%d", nc, h, w), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(2, 2))
			var x [benchSets][]float32
			for s := range x {
				x[s] = make([]float32, nc*h*w)
				for i := range x[s] {
					x[s][i] = float32(rng.NormFloat64())
				}
			}
			m := nc * (h / 2) * (w / 2)
			y, arg := make([]float32, m), make([]int32, m)
			benchImpls(b, 4*nc*h*w+8*m, nc*h*w, func(k *kernels, i int) {
				if k == nil {
					MaxPool2Ref(y, arg, x[i], nc, h, w)
				} else {
					k.maxPool2(y, arg, x[i], nc, h, w)
				}
			})
			benchOne(b, "gopick", 4*nc*h*w+8*m, nc*h*w, func(i int) { maxPool2Pick(y, arg, x[i], nc, h, w) })
		})
	}
}

// maxPool2Pick is maxPool2Go with selects (pick) for its branches, the
// branch-free form BenchmarkMaxPool2 compares ("gopick") and that lost.
func maxPool2Pick(y []float32, arg []int32, x []float32, nc, h, w int) {
	ho, wo := h/2, w/2
	for pl := 0; pl < nc; pl++ {
		for i := 0; i < ho; i++ {
			top := pl*h*w + 2*i*w
			yo := (pl*ho + i) * wo
			poolRowPick(y[yo:yo+wo], arg[yo:yo+wo], x[top:top+2*wo], x[top+w:top+w+2*wo], int32(top), int32(w))
		}
	}
}

func poolRowPick(yr []float32, ar []int32, r0, r1 []float32, top, w int32) {
	r0, r1, ar = r0[:2*len(yr)], r1[:2*len(yr)], ar[:len(yr)]
	for j := range yr {
		a, b := r0[2*j:2*j+2:2*j+2], r1[2*j:2*j+2:2*j+2]
		m, at := pick(a[0], top, a[1], top+1)
		m, at = pick(m, at, b[0], top+w)
		m, at = pick(m, at, b[1], top+w+1)
		yr[j], ar[j] = m, at
		top += 2
	}
}

// pick returns (v, vi) if v > m, else (m, mi).
func pick(m float32, mi int32, v float32, vi int32) (float32, int32) {
	mb := math.Float32bits(m)
	if v > m {
		mb = math.Float32bits(v)
	}
	if v > m {
		mi = vi
	}
	return math.Float32frombits(mb), mi
}
