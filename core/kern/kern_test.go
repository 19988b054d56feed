package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// lengths are the slice lengths of every test: all of 0…70, so every
// remainder mod 16 (a vector) and mod 64 (an unrolled loop) with zero to
// four whole vectors before it, then longer ones.
var lengths = func() []int {
	var n []int
	for i := 0; i <= 70; i++ {
		n = append(n, i)
	}
	return append(n, 1000, 4097)
}()

// values returns n values where the sign tests and the ties matter: a
// third normal, a third ±0, and a third small integers (−2…2, so that
// windows and sums tie).
func values(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		switch rng.IntN(6) {
		case 0, 1:
			v[i] = float32(rng.NormFloat64())
		case 2:
			v[i] = 0
		case 3:
			v[i] = float32(math.Copysign(0, -1))
		default:
			v[i] = float32(rng.IntN(5) - 2)
		}
	}
	return v
}

// guard is the value around every destination: a kernel that writes past
// its slice, or before it, changes it.
var guard = float32(math.Float32frombits(0x7fc0dead)) // a NaN with a payload

// placed returns a slice of n elements at offset off (0…3, so that vectors
// start unaligned) of a buffer whose other elements hold guard, and the
// buffer.
func placed(n, off int) (s, buf []float32) {
	buf = make([]float32, n+off+20)
	for i := range buf {
		buf[i] = guard
	}
	return buf[off : off+n : off+n], buf
}

// checkGuards fails unless buf holds guard outside [off, off+n).
func checkGuards(t *testing.T, what string, buf []float32, off, n int) {
	t.Helper()
	for i, v := range buf {
		if (i < off || i >= off+n) && math.Float32bits(v) != math.Float32bits(guard) {
			t.Fatalf("%s: wrote element %d outside the destination [%d, %d)", what, i, off, off+n)
		}
	}
}

// sameBits reports whether got is want, bit for bit, or both are NaN (a
// multiply by 1 quiets a signalling NaN).
func sameBits(got, want float32) bool {
	return math.Float32bits(got) == math.Float32bits(want) || (got != got && want != want)
}

// mapCase is an elementwise function with its reference.
type mapCase struct {
	name  string
	ins   int // input slices
	run   func(k *kernels, dst []float32, in [][]float32)
	ref   func(dst []float32, in [][]float32)
	tol   func(in [][]float32, i int) float64 // nil: bit for bit
	slope float32
}

// The Go and SIMD ScaleShift and Axpbyc round each product and sum once or
// fuse them; the reference rounds once. Each rounding is within 2⁻²⁴ of
// the sum of the magnitudes of the terms, and there are at most four
// (two products, two additions) beside the reference's one: 5·2⁻²⁴, taken
// as 2⁻²¹.
var (
	scaleA, scaleB = float32(1.7), float32(-0.3)
	ax, by, cc     = float32(0.9), float32(-1.3), float32(0.25)
)

func mapCases() []mapCase {
	var cases []mapCase
	cases = append(cases,
		mapCase{name: "ReLU", ins: 1,
			run: func(k *kernels, d []float32, in [][]float32) { k.relu(d, in[0]) },
			ref: func(d []float32, in [][]float32) { reluRef(d, in[0]) }},
		mapCase{name: "ReLUBack", ins: 2,
			run: func(k *kernels, d []float32, in [][]float32) { k.reluBack(d, in[0], in[1]) },
			ref: func(d []float32, in [][]float32) { reluBackRef(d, in[0], in[1]) }},
		mapCase{name: "ScaleShift", ins: 1,
			run: func(k *kernels, d []float32, in [][]float32) { k.scaleShift(d, in[0], scaleA, scaleB) },
			ref: func(d []float32, in [][]float32) { scaleShiftRef(d, in[0], scaleA, scaleB) },
			tol: func(in [][]float32, i int) float64 {
				return 0x1p-21 * (math.Abs(float64(scaleA*in[0][i])) + math.Abs(float64(scaleB)))
			}},
		mapCase{name: "Axpbyc", ins: 2,
			run: func(k *kernels, d []float32, in [][]float32) { k.axpbyc(d, in[0], in[1], ax, by, cc) },
			ref: func(d []float32, in [][]float32) { axpbycRef(d, in[0], in[1], ax, by, cc) },
			tol: func(in [][]float32, i int) float64 {
				return 0x1p-21 * (math.Abs(float64(ax*in[0][i])) + math.Abs(float64(by*in[1][i])) + math.Abs(float64(cc)))
			}},
	)
	// The slopes: a leaky one, a negative one (the sign of 0·s shows),
	// zero and one.
	for _, s := range []float32{0.25, -0.5, 0, 1} {
		cases = append(cases,
			mapCase{name: fmt.Sprintf("PReLU(s=%g)", s), ins: 1, slope: s,
				run: func(k *kernels, d []float32, in [][]float32) { k.prelu(d, in[0], s) },
				ref: func(d []float32, in [][]float32) { preluRef(d, in[0], s) }},
			mapCase{name: fmt.Sprintf("PReLUBack(s=%g)", s), ins: 2, slope: s,
				run: func(k *kernels, d []float32, in [][]float32) { k.preluBack(d, in[0], in[1], s) },
				ref: func(d []float32, in [][]float32) { preluBackRef(d, in[0], in[1], s) }},
		)
	}
	return cases
}

// TestMapsMatchRef runs every elementwise function of every kernel set on
// every length, at every alignment, against its reference: bit for bit for
// the rectifiers, within the rounding of the multiply-adds otherwise, and
// never a write outside dst.
func TestMapsMatchRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range runnable() {
		for _, c := range mapCases() {
			for _, n := range lengths {
				off := n % 4
				in := make([][]float32, c.ins)
				for i := range in {
					in[i] = values(rng, n)
				}
				want := make([]float32, n)
				c.ref(want, in)
				dst, buf := placed(n, off)
				c.run(k, dst, in)
				what := fmt.Sprintf("%s %s n=%d", k.name, c.name, n)
				checkGuards(t, what, buf, off, n)
				for i := range dst {
					if c.tol == nil {
						if !sameBits(dst[i], want[i]) {
							t.Fatalf("%s: dst[%d] = %g (%#x), want %g (%#x); inputs %v", what, i, dst[i], math.Float32bits(dst[i]), want[i], math.Float32bits(want[i]), column(in, i))
						}
					} else if d := math.Abs(float64(dst[i]) - float64(want[i])); d > c.tol(in, i) {
						t.Fatalf("%s: dst[%d] = %g, want %g (diff %g > %g)", what, i, dst[i], want[i], d, c.tol(in, i))
					}
				}
			}
		}
	}
}

func column(in [][]float32, i int) []float32 {
	var c []float32
	for _, s := range in {
		c = append(c, s[i])
	}
	return c
}

// sumCase is a float64 reduction with its reference and the magnitude of
// each term, from which the tolerance is derived.
type sumCase struct {
	name string
	ins  int
	run  func(k *kernels, in [][]float32) float64
	ref  func(in [][]float32) float64
	abs  func(in [][]float32, i int) float64 // |term i|, 0 when left out
}

const mu = 0.37

func sumCases() []sumCase {
	f := func(v float32) float64 { return float64(v) }
	return []sumCase{
		{name: "Sum", ins: 1,
			run: func(k *kernels, in [][]float32) float64 { return k.sum(in[0]) },
			ref: func(in [][]float32) float64 { return sumRef(in[0]) },
			abs: func(in [][]float32, i int) float64 { return math.Abs(f(in[0][i])) }},
		{name: "Dot", ins: 2,
			run: func(k *kernels, in [][]float32) float64 { return k.dot(in[0], in[1]) },
			ref: func(in [][]float32) float64 { return dotRef(in[0], in[1]) },
			abs: func(in [][]float32, i int) float64 { return math.Abs(f(in[0][i]) * f(in[1][i])) }},
		{name: "SumSqDev", ins: 1,
			run: func(k *kernels, in [][]float32) float64 { return k.sumSqDev(in[0], mu) },
			ref: func(in [][]float32) float64 { return sumSqDevRef(in[0], mu) },
			abs: func(in [][]float32, i int) float64 { return (f(in[0][i]) - mu) * (f(in[0][i]) - mu) }},
		{name: "PReLUSlopeGrad", ins: 2,
			run: func(k *kernels, in [][]float32) float64 { return k.preluSlopeGrad(in[0], in[1]) },
			ref: func(in [][]float32) float64 { return preluSlopeGradRef(in[0], in[1]) },
			abs: func(in [][]float32, i int) float64 {
				if in[0][i] > 0 {
					return 0
				}
				return math.Abs(f(in[0][i]) * f(in[1][i]))
			}},
		{name: "MaskedSum", ins: 2,
			run: func(k *kernels, in [][]float32) float64 { return k.maskedSum(in[0], in[1]) },
			ref: func(in [][]float32) float64 { return maskedSumRef(in[0], in[1]) },
			abs: func(in [][]float32, i int) float64 {
				if in[0][i] <= 0 {
					return 0
				}
				return math.Abs(f(in[1][i]))
			}},
	}
}

// TestSumsMatchRef runs every reduction of every kernel set on every
// length against its float64 reference. Both add exact float64 terms, in
// different orders; each of n additions rounds by at most 2⁻⁵³ of the
// partial sum, so the two differ by at most n·2⁻⁵² Σ|term|. The same
// values placed at another address give the same bits.
func TestSumsMatchRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range runnable() {
		for _, c := range sumCases() {
			for _, n := range lengths {
				in := make([][]float32, c.ins)
				moved := make([][]float32, c.ins)
				var mag float64
				for i := range in {
					in[i] = values(rng, n)
					s, _ := placed(n, 1+n%3)
					copy(s, in[i])
					moved[i] = s
				}
				for i := 0; i < n; i++ {
					mag += c.abs(in, i)
				}
				got, want := c.run(k, in), c.ref(in)
				tol := float64(n) * 0x1p-52 * mag
				if d := math.Abs(got - want); !(d <= tol) {
					t.Fatalf("%s %s n=%d: %v, want %v (diff %g > %g)", k.name, c.name, n, got, want, d, tol)
				}
				if again := c.run(k, moved); math.Float64bits(again) != math.Float64bits(got) {
					t.Fatalf("%s %s n=%d: %v at another address, %v before", k.name, c.name, n, again, got)
				}
			}
		}
	}
}

// TestSpecialValues: the sign test on hand-picked values, NaN, infinities,
// ±0 and the smallest subnormals, with the outputs worked out from the
// package's rule (x ≤ 0 is the negative side; NaN is not).
func TestSpecialValues(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	negNaN := math.Float32frombits(0xffc00000)
	nz := float32(math.Copysign(0, -1))
	tiny := math.Float32frombits(1) // 2⁻¹⁴⁹
	x := []float32{nan, negNaN, inf, -inf, 0, nz, 1, -1, tiny, -tiny, 3, -4, nan, 0, -2, 5, 7}
	dy := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, inf, -inf, nan, 11, 12, 13, 14}
	n := len(x)
	// Hand-worked from the formulas in doc.go, slope s = −0.5.
	s := float32(-0.5)
	wantReLU := []float32{nan, negNaN, inf, 0, 0, nz, 1, 0, tiny, 0, 3, 0, nan, 0, 0, 5, 7}
	wantReLUBack := []float32{1, 2, 3, 0, 0, 0, 7, 0, 9, 0, inf, 0, nan, 0, 0, 13, 14}
	wantPReLU := []float32{nan, negNaN, inf, inf, nz, 0, 1, 0.5, tiny, 0, 3, 2, nan, nz, 1, 5, 7}
	wantPReLUBack := []float32{1, 2, 3, -2, -2.5, -3, 7, -4, 9, -5, inf, inf, nan, -5.5, -6, 13, 14}
	for _, k := range runnable() {
		check := func(name string, got, want []float32) {
			t.Helper()
			for i := range want {
				if !sameBits(got[i], want[i]) {
					t.Errorf("%s %s: x = %g, dy = %g: got %g, want %g", k.name, name, x[i], dy[i], got[i], want[i])
				}
			}
		}
		d := make([]float32, n)
		k.relu(d, x)
		check("ReLU", d, wantReLU)
		k.reluBack(d, x, dy)
		check("ReLUBack", d, wantReLUBack)
		k.prelu(d, x, s)
		check("PReLU", d, wantPReLU)
		k.preluBack(d, x, dy, s)
		check("PReLUBack", d, wantPReLUBack)
		// The slope gradient's terms (x ≤ 0) are −inf·4, 0·5, −0·6, −1·8,
		// −tiny·10, −4·(−inf), 0·11, −2·12: −inf + inf is NaN.
		if g := k.preluSlopeGrad(x, dy); !math.IsNaN(g) {
			t.Errorf("%s PReLUSlopeGrad = %g, want NaN (−inf + inf)", k.name, g)
		}
		// The terms at x > 0 (dy = inf at x = 3) and at x = NaN are left
		// out, not multiplied by 0.
		if g := k.preluSlopeGrad(x[3:11], dy[3:11]); g != math.Inf(-1) {
			t.Errorf("%s PReLUSlopeGrad(x[3:11]) = %g, want -Inf (−inf·4 the only infinite term)", k.name, g)
		}
		if g, want := k.preluSlopeGrad(x[4:11], dy[4:11]), -8-10*float64(tiny); g != want {
			t.Errorf("%s PReLUSlopeGrad(x[4:11]) = %g, want %g (dy = inf at x = 3 left out)", k.name, g, want)
		}
		if g := k.maskedSum(x[:12], dy[:12]); g != math.Inf(1) {
			t.Errorf("%s MaskedSum(x[:12]) = %g, want +Inf (dy = inf at x = 3)", k.name, g)
		}
		if g, want := k.maskedSum(x[4:10], dy[4:10]), 7+9.0; g != want {
			t.Errorf("%s MaskedSum(x[4:10]) = %g, want %g", k.name, g, want)
		}
		if g := k.maskedSum(x[:2], dy[:2]); g != 3 {
			t.Errorf("%s MaskedSum(NaN, −NaN) = %g, want 3 (NaN counts as positive)", k.name, g)
		}
	}
}

// TestTransposeMatchesRef: every block shape around the 16×16 (and 4×4)
// tiles, with and without bias, strides wider than the block, bit for bit,
// and the elements between dst's rows untouched.
func TestTransposeMatchesRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sides := []int{0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 47, 49, 64, 100}
	for _, k := range runnable() {
		for _, r := range sides {
			for _, c := range sides {
				for _, withBias := range []bool{false, true} {
					lds, ldd := c+rng.IntN(3), r+rng.IntN(3)
					src := values(rng, max(0, (r-1)*lds+c))
					var bias []float32
					if withBias {
						bias = values(rng, c)
					}
					n := max(0, (c-1)*ldd+r)
					want := make([]float32, n)
					for i := range want {
						want[i] = guard
					}
					transposeRef(want, ldd, src, lds, r, c, bias)
					dst, buf := placed(n, 1)
					if r == 0 || c == 0 { // Transpose returns before the kernel
						Transpose(dst, ldd, src, lds, r, c, bias)
						checkGuards(t, fmt.Sprintf("%d×%d", r, c), buf, 1, 0)
						continue
					}
					k.transpose(dst, ldd, src, lds, r, c, bias)
					checkGuards(t, fmt.Sprintf("%s %d×%d", k.name, r, c), buf, 1, n)
					for i := range want {
						if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s %d×%d lds=%d ldd=%d bias=%v: dst[%d] (row %d, column %d) = %g, want %g", k.name, r, c, lds, ldd, withBias, i, i/ldd, i%ldd, dst[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestMaxPool2MatchesRef: every kernel set against core's loop, bit for
// bit in y and arg, on odd and even sides and widths around the 16-output
// vector, with values drawn from {−1, −0, 0, 1} and a few NaN so that most
// windows tie.
func TestMaxPool2MatchesRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	sides := []int{1, 2, 3, 4, 5, 6, 7, 14, 15, 28, 31, 32, 33, 34, 63, 64, 65}
	levels := []float32{-1, float32(math.Copysign(0, -1)), 0, 1}
	for _, k := range runnable() {
		for _, h := range sides {
			for _, w := range sides {
				nc := 1 + rng.IntN(3)
				x := make([]float32, nc*h*w)
				for i := range x {
					x[i] = levels[rng.IntN(4)]
					if rng.IntN(50) == 0 {
						x[i] = float32(math.NaN())
					}
					if rng.IntN(4) == 0 {
						x[i] = float32(rng.NormFloat64())
					}
				}
				m := nc * (h / 2) * (w / 2)
				wantY, wantArg := make([]float32, m), make([]int32, m)
				MaxPool2Ref(wantY, wantArg, x, nc, h, w)
				y, buf := placed(m, 2)
				arg := make([]int32, m+8)
				for i := range arg {
					arg[i] = -7
				}
				if m > 0 {
					k.maxPool2(y, arg[3:3+m], x, nc, h, w)
				}
				what := fmt.Sprintf("%s %d planes %d×%d", k.name, nc, h, w)
				checkGuards(t, what, buf, 2, m)
				for i := range arg {
					if (i < 3 || i >= 3+m) && arg[i] != -7 {
						t.Fatalf("%s: wrote arg outside its slice at %d", what, i-3)
					}
				}
				for i := range wantY {
					if math.Float32bits(y[i]) != math.Float32bits(wantY[i]) || arg[3+i] != wantArg[i] {
						t.Fatalf("%s: output %d = %g at %d, want %g at %d", what, i, y[i], arg[3+i], wantY[i], wantArg[i])
					}
				}
			}
		}
	}
}

// TestPanics: mismatched lengths and impossible shapes are programmer
// errors, reported by a panic whose message starts with "kern: ".
func TestPanics(t *testing.T) {
	a, b, c := make([]float32, 5), make([]float32, 5), make([]float32, 4)
	arg := make([]int32, 4)
	cases := map[string]func(){
		"ReLU":                 func() { ReLU(a, c) },
		"ReLUBack y":           func() { ReLUBack(a, c, b) },
		"ReLUBack dy":          func() { ReLUBack(a, b, c) },
		"PReLU":                func() { PReLU(c, a, 0.1) },
		"PReLUBack":            func() { PReLUBack(a, b, c, 0.1) },
		"PReLUSlopeGrad":       func() { PReLUSlopeGrad(a, c) },
		"Dot":                  func() { Dot(a, c) },
		"ScaleShift":           func() { ScaleShift(a, c, 1, 2) },
		"Axpbyc":               func() { Axpbyc(a, b, c, 1, 2, 3) },
		"MaskedSum":            func() { MaskedSum(c, a) },
		"Transpose short src":  func() { Transpose(make([]float32, 6), 2, c, 2, 3, 2, nil) },
		"Transpose short dst":  func() { Transpose(c, 3, make([]float32, 6), 2, 3, 2, nil) },
		"Transpose lds < c":    func() { Transpose(a, 3, a, 1, 2, 2, nil) },
		"Transpose bias":       func() { Transpose(make([]float32, 6), 3, make([]float32, 6), 2, 3, 2, c) },
		"Transpose negative":   func() { Transpose(a, 3, a, 3, -1, 2, nil) },
		"MaxPool2 short x":     func() { MaxPool2(c[:1], arg[:1], c[:3], 1, 2, 2) },
		"MaxPool2 short y":     func() { MaxPool2(c[:1], arg[:2], make([]float32, 8), 2, 2, 2) },
		"MaxPool2 short arg":   func() { MaxPool2(c[:2], arg[:1], make([]float32, 8), 2, 2, 2) },
		"MaxPool2 negative nc": func() { MaxPool2(nil, nil, nil, -1, 2, 2) },
	}
	for name, f := range cases {
		func() {
			defer func() {
				r := recover()
				if msg, ok := r.(string); !ok || !strings.HasPrefix(msg, "kern: ") {
					t.Errorf("%s: recovered %v, want a panic starting with \"kern: \"", name, r)
				}
			}()
			f()
		}()
	}
}

// TestNoAllocs: no function allocates, on any length.
func TestNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{0, 5, 1000} {
		x, y, d := values(rng, n), values(rng, n), make([]float32, n)
		arg := make([]int32, n/4)
		var sink float64
		calls := map[string]func(){
			"ReLU":           func() { ReLU(d, x) },
			"ReLUBack":       func() { ReLUBack(d, x, y) },
			"PReLU":          func() { PReLU(d, x, 0.2) },
			"PReLUBack":      func() { PReLUBack(d, x, y, 0.2) },
			"PReLUSlopeGrad": func() { sink += PReLUSlopeGrad(x, y) },
			"Sum":            func() { sink += Sum(x) },
			"Dot":            func() { sink += Dot(x, y) },
			"SumSqDev":       func() { sink += SumSqDev(x, 0.5) },
			"ScaleShift":     func() { ScaleShift(d, x, 2, 1) },
			"Axpbyc":         func() { Axpbyc(d, x, y, 1, 2, 3) },
			"MaskedSum":      func() { sink += MaskedSum(x, y) },
			"Transpose":      func() { Transpose(d, n/5-1, x, 5, n/5-1, 5, y[:5:5]) },
			"MaxPool2":       func() { MaxPool2(d[:n/4], arg, x[:4*(n/4)], 1, 2, 2*(n/4)) },
		}
		for name, f := range calls {
			if n < 10 && name == "Transpose" {
				continue
			}
			if a := testing.AllocsPerRun(10, f); a != 0 {
				t.Errorf("%s n=%d: %v allocations per call", name, n, a)
			}
		}
		_ = sink
	}
}

// TestExportedUseBest: the exported functions run the set Kernel names,
// the last (best) of runnable.
func TestExportedUseBest(t *testing.T) {
	sets := runnable()
	if got, want := Kernel(), sets[len(sets)-1].name; got != want {
		t.Errorf("Kernel() = %q, want %q, the best of %d runnable sets", got, want, len(sets))
	}
}
