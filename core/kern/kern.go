package kern

import "fmt"

// kernels is the implementation of every function on one instruction set.
// The exported functions check the lengths and call them; a kernel may
// assume them.
type kernels struct {
	name           string
	relu           func(dst, x []float32)
	reluBack       func(dst, y, dy []float32)
	prelu          func(dst, x []float32, s float32)
	preluBack      func(dst, x, dy []float32, s float32)
	preluSlopeGrad func(x, dy []float32) float64
	sum            func(x []float32) float64
	dot            func(x, y []float32) float64
	sumSqDev       func(x []float32, mu float64) float64
	scaleShift     func(dst, x []float32, a, b float32)
	axpbyc         func(dst, x, y []float32, a, b, c float32)
	maskedSum      func(y, dy []float32) float64
	transpose      func(dst []float32, ldd int, src []float32, lds, r, c int, bias []float32)
	maxPool2       func(y []float32, arg []int32, x []float32, nc, h, w int)
}

// Kernel names the kernel set this CPU runs: "avx512", "avx2" or "go".
func Kernel() string { return best.name }

// ReLU writes the rectifier of x into dst:
//
//	dst[i] = x[i] < 0 ? 0 : x[i]
//
// max(x[i], 0), except that −0 stays −0 and NaN stays NaN.
func ReLU(dst, x []float32) {
	sameLen("ReLU", "x", len(x), len(dst))
	best.relu(dst, x)
}

// ReLUBack writes the gradient of ReLU from its output y and the output
// gradient dy:
//
//	dst[i] = y[i] ≤ 0 ? 0 : dy[i]
//
// (dy[i] where y[i] > 0 or y[i] is NaN).
func ReLUBack(dst, y, dy []float32) {
	sameLen("ReLUBack", "y", len(y), len(dst))
	sameLen("ReLUBack", "dy", len(dy), len(dst))
	best.reluBack(dst, y, dy)
}

// PReLU writes the parametric rectifier of x with slope s (He et al.,
// "Delving Deep into Rectifiers", 2015) into dst:
//
//	dst[i] = x[i] ≤ 0 ? s·x[i] : x[i]
func PReLU(dst, x []float32, s float32) {
	sameLen("PReLU", "x", len(x), len(dst))
	best.prelu(dst, x, s)
}

// PReLUBack writes the input gradient of PReLU at input x:
//
//	dst[i] = x[i] ≤ 0 ? s·dy[i] : dy[i]
func PReLUBack(dst, x, dy []float32, s float32) {
	sameLen("PReLUBack", "x", len(x), len(dst))
	sameLen("PReLUBack", "dy", len(dy), len(dst))
	best.preluBack(dst, x, dy, s)
}

// PReLUSlopeGrad returns the gradient of PReLU's slope at input x, summed
// in float64:
//
//	Σ_{x[i] ≤ 0} x[i]·dy[i]
//
// Terms with x[i] > 0 or NaN are left out, whatever dy[i] is.
func PReLUSlopeGrad(x, dy []float32) float64 {
	sameLen("PReLUSlopeGrad", "dy", len(dy), len(x))
	return best.preluSlopeGrad(x, dy)
}

// Sum returns Σ x[i], summed in float64.
func Sum(x []float32) float64 { return best.sum(x) }

// Dot returns Σ x[i]·y[i], summed in float64 (each product is exact).
func Dot(x, y []float32) float64 {
	sameLen("Dot", "y", len(y), len(x))
	return best.dot(x, y)
}

// SumSqDev returns the squared deviations from mu, in float64:
//
//	Σ (x[i] − mu)²
func SumSqDev(x []float32, mu float64) float64 { return best.sumSqDev(x, mu) }

// ScaleShift writes dst[i] = a·x[i] + b.
func ScaleShift(dst, x []float32, a, b float32) {
	sameLen("ScaleShift", "x", len(x), len(dst))
	best.scaleShift(dst, x, a, b)
}

// Axpbyc writes dst[i] = a·x[i] + b·y[i] + c.
func Axpbyc(dst, x, y []float32, a, b, c float32) {
	sameLen("Axpbyc", "x", len(x), len(dst))
	sameLen("Axpbyc", "y", len(y), len(dst))
	best.axpbyc(dst, x, y, a, b, c)
}

// MaskedSum returns the sum of dy where y passes ReLUBack, in float64:
//
//	Σ_{¬(y[i] ≤ 0)} dy[i]
//
// which is Sum of ReLUBack(y, dy) without writing it.
func MaskedSum(y, dy []float32) float64 {
	sameLen("MaskedSum", "dy", len(dy), len(y))
	return best.maskedSum(y, dy)
}

// Transpose writes the c×r transpose of the r×c block of src (row stride
// lds) into dst (row stride ldd), adding bias[j] to its row j unless bias
// is nil:
//
//	dst[j·ldd + i] = src[i·lds + j] (+ bias[j]),   i < r, j < c.
//
// The elements of dst between its rows are not written. It panics unless
// lds ≥ c, ldd ≥ r, src and dst hold their blocks and bias is nil or has c
// values.
func Transpose(dst []float32, ldd int, src []float32, lds, r, c int, bias []float32) {
	if r < 0 || c < 0 || lds < c || ldd < r {
		panic(fmt.Sprintf("kern: Transpose: %d×%d block with strides lds = %d, ldd = %d", r, c, lds, ldd))
	}
	if bias != nil {
		sameLen("Transpose", "bias", len(bias), c)
	}
	if r == 0 || c == 0 {
		return
	}
	atLeast("Transpose", "src", len(src), (r-1)*lds+c)
	atLeast("Transpose", "dst", len(dst), (c-1)*ldd+r)
	best.transpose(dst, ldd, src, lds, r, c, bias)
}

// MaxPool2 writes the 2×2, stride-2 max pool of nc planes of h×w (odd
// sides floored) into y, nc·⌊h/2⌋·⌊w/2⌋ values, and into arg the flat
// index into x of each maximum:
//
//	y[p, i, j] = max_{u,v ∈ {0,1}} x[p, 2i+u, 2j+v]
//
// On ties (and NaN) the first window element wins in the order (0,0),
// (0,1), (1,0), (1,1): each later one replaces the maximum only when it is
// greater.
func MaxPool2(y []float32, arg []int32, x []float32, nc, h, w int) {
	if nc < 0 || h < 0 || w < 0 {
		panic(fmt.Sprintf("kern: MaxPool2: %d planes of %d×%d", nc, h, w))
	}
	n := nc * (h / 2) * (w / 2)
	sameLen("MaxPool2", "x", len(x), nc*h*w)
	sameLen("MaxPool2", "y", len(y), n)
	sameLen("MaxPool2", "arg", len(arg), n)
	if n == 0 {
		return
	}
	best.maxPool2(y, arg, x, nc, h, w)
}

// sameLen panics unless the slice name of function fn has want elements.
func sameLen(fn, name string, n, want int) {
	if n != want {
		lenPanic(fn, name, n, "", want)
	}
}

// atLeast panics unless the slice name of function fn has at least want
// elements.
func atLeast(fn, name string, n, want int) {
	if n < want {
		lenPanic(fn, name, n, "at least ", want)
	}
}

func lenPanic(fn, name string, n int, rel string, want int) {
	panic(fmt.Sprintf("kern: %s: len(%s) = %d, want %s%d", fn, name, n, rel, want))
}

// MaxPool2Ref is the slow, obvious reference of MaxPool2, for float32 and
// float64 planes: a scan of each window in the order (0,0), (0,1), (1,0),
// (1,1), keeping the first maximum (a NaN is never greater, so it is kept
// only where it comes first). The engine's float64 graphs run on it.
func MaxPool2Ref[T float32 | float64](y []T, arg []int32, x []T, nc, h, w int) {
	ho, wo := h/2, w/2
	for pl := 0; pl < nc; pl++ {
		base := pl * h * w
		for i := 0; i < ho; i++ {
			top := base + 2*i*w
			r0, r1 := x[top:top+2*wo], x[top+w:top+w+2*wo]
			yo := (pl*ho + i) * wo
			yr, ar := y[yo:yo+wo], arg[yo:yo+wo]
			for j := range yr {
				a, b := r0[2*j:2*j+2:2*j+2], r1[2*j:2*j+2:2*j+2]
				m, at := a[0], 0
				if a[1] > m {
					m, at = a[1], 1
				}
				if b[0] > m {
					m, at = b[0], w
				}
				if b[1] > m {
					m, at = b[1], w+1
				}
				yr[j], ar[j] = m, int32(top+2*j+at)
			}
		}
	}
}
