package kern

import (
	"math"
	"unsafe"
)

// The Go kernels, for every architecture and the tails of the AVX2 ones.
// None but maxPool2Go branches on the data: each picks between the integer
// bits of two values (`b := bits(v); if cond { b = other }`), which the
// compiler turns into a conditional move (amd64, arm64) or a select
// (wasm). A float `if v <= 0 { v *= s }` is a branch that mispredicts on
// random signs, and the float min and max builtins are runtime calls under
// GOOS=js.
var goKernels = kernels{
	name:           "go",
	relu:           reluGo,
	reluBack:       reluBackGo,
	prelu:          preluGo,
	preluBack:      preluBackGo,
	preluSlopeGrad: preluSlopeGradGo,
	sum:            sumGo,
	dot:            dotGo,
	sumSqDev:       sumSqDevGo,
	scaleShift:     scaleShiftGo,
	axpbyc:         axpbycGo,
	maskedSum:      maskedSumGo,
	transpose:      transposeGo,
	maxPool2:       maxPool2Go,
}

func reluGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		b := math.Float32bits(v)
		if v < 0 {
			b = 0
		}
		dst[i] = math.Float32frombits(b)
	}
}

func reluBackGo(dst, y, dy []float32) {
	y, dy = y[:len(dst)], dy[:len(dst)]
	for i, v := range y {
		g := math.Float32bits(dy[i])
		if v <= 0 {
			g = 0
		}
		dst[i] = math.Float32frombits(g)
	}
}

// preluGo multiplies by 1 or s: v·1 is v, bit for bit, except that a
// signalling NaN comes out quiet.
func preluGo(dst, x []float32, s float32) {
	x = x[:len(dst)]
	one, sb := math.Float32bits(1), math.Float32bits(s)
	for i, v := range x {
		k := one
		if v <= 0 {
			k = sb
		}
		dst[i] = v * math.Float32frombits(k)
	}
}

func preluBackGo(dst, x, dy []float32, s float32) {
	x, dy = x[:len(dst)], dy[:len(dst)]
	one, sb := math.Float32bits(1), math.Float32bits(s)
	for i, v := range x {
		k := one
		if v <= 0 {
			k = sb
		}
		dst[i] = dy[i] * math.Float32frombits(k)
	}
}

// The Go sums keep four partial sums: s[k] takes the terms i ≡ k (mod 4)
// of the first 4·⌊n/4⌋, s[0] the last n mod 4, and the result is
// (s0 + s1) + (s2 + s3). Four independent chains of additions run about
// twice as fast as one, natively and under wasm.

func preluSlopeGradGo(x, dy []float32) float64 {
	dy = dy[:len(x)]
	var s0, s1, s2, s3 float64
	n4 := len(x) &^ 3
	for i := 0; i < n4; i += 4 {
		p, q := x[i:i+4:i+4], dy[i:i+4:i+4]
		s0 += slopeTerm(p[0], q[0])
		s1 += slopeTerm(p[1], q[1])
		s2 += slopeTerm(p[2], q[2])
		s3 += slopeTerm(p[3], q[3])
	}
	for i := n4; i < len(x); i++ {
		s0 += slopeTerm(x[i], dy[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// slopeTerm is x·dy if x ≤ 0, else 0: the product is zeroed, not x,
// since 0·Inf would be NaN.
func slopeTerm(x, dy float32) float64 {
	p := math.Float64bits(float64(x) * float64(dy))
	if !(x <= 0) {
		p = 0
	}
	return math.Float64frombits(p)
}

func sumGo(x []float32) float64 {
	var s0, s1, s2, s3 float64
	n4 := len(x) &^ 3
	for i := 0; i < n4; i += 4 {
		p := x[i : i+4 : i+4]
		s0 += float64(p[0])
		s1 += float64(p[1])
		s2 += float64(p[2])
		s3 += float64(p[3])
	}
	for _, v := range x[n4:] {
		s0 += float64(v)
	}
	return (s0 + s1) + (s2 + s3)
}

func dotGo(x, y []float32) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	n4 := len(x) &^ 3
	for i := 0; i < n4; i += 4 {
		p, q := x[i:i+4:i+4], y[i:i+4:i+4]
		s0 += float64(p[0]) * float64(q[0])
		s1 += float64(p[1]) * float64(q[1])
		s2 += float64(p[2]) * float64(q[2])
		s3 += float64(p[3]) * float64(q[3])
	}
	for i := n4; i < len(x); i++ {
		s0 += float64(x[i]) * float64(y[i])
	}
	return (s0 + s1) + (s2 + s3)
}

func sumSqDevGo(x []float32, mu float64) float64 {
	var s0, s1, s2, s3 float64
	n4 := len(x) &^ 3
	for i := 0; i < n4; i += 4 {
		p := x[i : i+4 : i+4]
		d0, d1, d2, d3 := float64(p[0])-mu, float64(p[1])-mu, float64(p[2])-mu, float64(p[3])-mu
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for _, v := range x[n4:] {
		d := float64(v) - mu
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

func maskedSumGo(y, dy []float32) float64 {
	dy = dy[:len(y)]
	var s0, s1, s2, s3 float64
	n4 := len(y) &^ 3
	for i := 0; i < n4; i += 4 {
		p, q := y[i:i+4:i+4], dy[i:i+4:i+4]
		s0 += maskedTerm(p[0], q[0])
		s1 += maskedTerm(p[1], q[1])
		s2 += maskedTerm(p[2], q[2])
		s3 += maskedTerm(p[3], q[3])
	}
	for i := n4; i < len(y); i++ {
		s0 += maskedTerm(y[i], dy[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// maskedTerm is dy if ¬(y ≤ 0), else 0.
func maskedTerm(y, dy float32) float64 {
	b := math.Float32bits(dy)
	if y <= 0 {
		b = 0
	}
	return float64(math.Float32frombits(b))
}

func scaleShiftGo(dst, x []float32, a, b float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = a*v + b
	}
}

func axpbycGo(dst, x, y []float32, a, b, c float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i, v := range x {
		dst[i] = a*v + b*y[i] + c
	}
}

// negZero is −0, the bias of a transpose without one: v + (−0) is v for
// every v, −0 included (v + 0 would turn −0 into +0).
var negZero = float32(math.Copysign(0, -1))

// transposeGo moves 4×4 tiles through sixteen locals: four rows of src
// read, four rows of dst written. It reads and writes the tiles through
// pointers, which under wasm halves the time of the bounds checks of
// indexed slices: safe, because the corners of both blocks are checked
// first. Edges go one element at a time.
func transposeGo(dst []float32, ldd int, src []float32, lds, r, c int, bias []float32) {
	if r == 0 || c == 0 {
		return
	}
	_, _ = src[(r-1)*lds+c-1], dst[(c-1)*ldd+r-1] // lds ≥ c and ldd ≥ r: every element lies before these
	b0, b1, b2, b3 := negZero, negZero, negZero, negZero
	r4, c4 := r&^3, c&^3
	ps, pd := unsafe.Pointer(unsafe.SliceData(src)), unsafe.Pointer(unsafe.SliceData(dst))
	for i := 0; i < r4; i += 4 {
		s0 := unsafe.Add(ps, 4*i*lds)
		s1 := unsafe.Add(s0, 4*lds)
		s2 := unsafe.Add(s1, 4*lds)
		s3 := unsafe.Add(s2, 4*lds)
		d := unsafe.Add(pd, 4*i)
		for j := 0; j < c4; j += 4 {
			if bias != nil {
				bj := bias[j : j+4 : j+4]
				b0, b1, b2, b3 = bj[0], bj[1], bj[2], bj[3]
			}
			x0, x1 := (*[4]float32)(unsafe.Add(s0, 4*j)), (*[4]float32)(unsafe.Add(s1, 4*j))
			x2, x3 := (*[4]float32)(unsafe.Add(s2, 4*j)), (*[4]float32)(unsafe.Add(s3, 4*j))
			d0, d1 := (*[4]float32)(unsafe.Add(d, 4*j*ldd)), (*[4]float32)(unsafe.Add(d, 4*(j+1)*ldd))
			d2, d3 := (*[4]float32)(unsafe.Add(d, 4*(j+2)*ldd)), (*[4]float32)(unsafe.Add(d, 4*(j+3)*ldd))
			d0[0], d0[1], d0[2], d0[3] = x0[0]+b0, x1[0]+b0, x2[0]+b0, x3[0]+b0
			d1[0], d1[1], d1[2], d1[3] = x0[1]+b1, x1[1]+b1, x2[1]+b1, x3[1]+b1
			d2[0], d2[1], d2[2], d2[3] = x0[2]+b2, x1[2]+b2, x2[2]+b2, x3[2]+b2
			d3[0], d3[1], d3[2], d3[3] = x0[3]+b3, x1[3]+b3, x2[3]+b3, x3[3]+b3
		}
	}
	// The last c − c4 columns of the first r4 rows, then the last r − r4
	// rows whole.
	transposeEdge(dst, ldd, src, lds, 0, r4, c4, c, bias)
	transposeEdge(dst, ldd, src, lds, r4, r, 0, c, bias)
}

// transposeEdge transposes rows [i0, i1) and columns [j0, j1) one element
// at a time.
func transposeEdge(dst []float32, ldd int, src []float32, lds, i0, i1, j0, j1 int, bias []float32) {
	for j := j0; j < j1; j++ {
		add := negZero
		if bias != nil {
			add = bias[j]
		}
		d := dst[j*ldd : j*ldd+i1]
		for i := i0; i < i1; i++ {
			d[i] = src[i*lds+j] + add
		}
	}
}

// maxPool2Go is core's maxPool2To, one output row per call of poolRow.
// It keeps the branches: three dependent compare-and-selects per window
// measured slower than the branches mispredicting, natively and under
// wasm (see BenchmarkMaxPool2).
func maxPool2Go(y []float32, arg []int32, x []float32, nc, h, w int) {
	ho, wo := h/2, w/2
	for pl := 0; pl < nc; pl++ {
		for i := 0; i < ho; i++ {
			top := pl*h*w + 2*i*w
			yo := (pl*ho + i) * wo
			poolRow(y[yo:yo+wo], arg[yo:yo+wo], x[top:top+2*wo], x[top+w:top+w+2*wo], int32(top), int32(w))
		}
	}
}

// poolRow pools the rows r0 and r1 (flat index top of r0[0], r1 = r0 + w)
// into yr and ar. A function of its own, its loop keeps every variable in
// a register; it reads the windows through pointers (a tenth faster under
// wasm than two slice expressions a window), after checking both rows.
func poolRow(yr []float32, ar []int32, r0, r1 []float32, top, w int32) {
	ar = ar[:len(yr)]
	r0, r1 = r0[:2*len(yr)], r1[:2*len(yr)]
	p0, p1 := unsafe.Pointer(unsafe.SliceData(r0)), unsafe.Pointer(unsafe.SliceData(r1))
	for j := range yr {
		a, b := (*[2]float32)(unsafe.Add(p0, 8*j)), (*[2]float32)(unsafe.Add(p1, 8*j))
		m, at := a[0], top
		if a[1] > m {
			m, at = a[1], top+1
		}
		if b[0] > m {
			m, at = b[0], top+w
		}
		if b[1] > m {
			m, at = b[1], top+w+1
		}
		yr[j], ar[j] = m, at
		top += 2
	}
}
