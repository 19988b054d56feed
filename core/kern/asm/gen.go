// Command asm writes the amd64 kernels of package kern with avo
// (github.com/mmcloughlin/avo). It is its own module, so that avo is a
// build tool and never a dependency of metriclab; package kern runs it
// through go generate:
//
//	cd core/kern && go generate
//
// Every function of package kern has an AVX-512 kernel (suffix Z) and the
// elementwise ones and the sums an AVX2+FMA kernel (suffix Y); the
// formulas, and the rule that x ≤ 0 is the negative side and NaN is not,
// are in core/kern/doc.go. The Z kernels run the whole slice, the last 1–15
// elements under a mask; the Y kernels stop at the last multiple of 8 and
// leave the rest to the Go kernels.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Comparison predicates (VCMPPS/VCMPPD imm8): the quiet forms, so that a
// NaN raises no flag. A NaN compares false under the ordered (_OQ)
// predicates and true under the unordered (_UQ) ones.
const (
	cmpLEOQ  = 0x12 // a ≤ b
	cmpNGEUQ = 0x19 // ¬(a ≥ b)
	cmpGEOQ  = 0x1d // a ≥ b
	cmpGTOQ  = 0x1e // a > b
)

// isa is one instruction set: its vectors and whether it masks its tail.
type isa struct {
	suffix string // of the kernels' names
	name   string // in their doc comments
	lanes  int    // float32 per vector
	vec    func() VecVirtual
	masked bool // AVX-512: opmask registers, the tail in the kernel
}

var (
	avx512 = isa{suffix: "Z", name: "AVX-512", lanes: 16, vec: ZMM, masked: true}
	avx2   = isa{suffix: "Y", name: "AVX2+FMA", lanes: 8, vec: YMM}
)

// unroll is the number of vectors a step of the main loop handles: four
// independent chains, enough to cover the latency of an FMA or an add.
const unroll = 4

func main() {
	ConstraintExpr("!purego")
	for _, s := range []isa{avx512, avx2} {
		relu(s)
		reluBack(s)
		prelu(s)
		preluBack(s)
		scaleShift(s)
		axpbyc(s)
		sum(s)
		dot(s)
		sumSqDev(s)
		preluSlopeGrad(s)
		maskedSum(s)
	}
	transpose()
	maxPool2()
	Generate()
}

// stream walks n elements of a few slices, one vector at a time: the
// elementwise kernels and the sums are a body run on each vector.
type stream struct {
	s    isa
	fn   string
	n    GPVirtual   // elements left
	ptrs []GPVirtual // the slices' cursors
	disp int         // byte offset of the current vector from the cursors
	mask Op          // the tail's opmask, nil on whole vectors
	lo   Op          // the tail's opmask for the low half of its float64 lanes
	hi   Op          // … and for the high half
	u    int         // the current vector's place in an unrolled step
}

// begin writes the TEXT of s's kernel fn and loads the base of each slice
// named in ptrs; the length is the first one's.
func begin(s isa, fn, doc, sig string, ptrs ...string) *stream {
	name := fn + s.suffix
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s is %s (%s).", name, doc, s.name))
	st := &stream{s: s, fn: name, n: Load(Param(ptrs[0]).Len(), GP64()).(GPVirtual)}
	for _, p := range ptrs {
		st.ptrs = append(st.ptrs, Load(Param(p).Base(), GP64()).(GPVirtual))
	}
	return st
}

// mem is slice i's current vector in memory.
func (st *stream) mem(i int) Mem { return Mem{Base: st.ptrs[i], Disp: st.disp} }

// in is slice i's current vector as an operand: memory, or on the tail a
// register loaded under the mask (zeros past the end).
func (st *stream) in(i int) Op {
	if st.mask == nil {
		return st.mem(i)
	}
	v := st.s.vec()
	VMOVUPS_Z(st.mem(i), st.mask, v)
	return v
}

// reg is slice i's current vector in a register.
func (st *stream) reg(i int) VecVirtual {
	o := st.in(i)
	if v, ok := o.(VecVirtual); ok {
		return v
	}
	v := st.s.vec()
	VMOVUPS(o, v)
	return v
}

// store writes v to slice i's current vector (under the tail's mask).
func (st *stream) store(i int, v VecVirtual) {
	if st.mask == nil {
		VMOVUPS(v, st.mem(i))
	} else {
		VMOVUPS(v, st.mask, st.mem(i))
	}
}

// wide converts slice i's current vector to float64, exactly: its low and
// high halves.
func (st *stream) wide(i int) (lo, hi VecVirtual) {
	lo, hi = st.s.vec(), st.s.vec()
	if st.mask == nil {
		VCVTPS2PD(st.mem(i), lo)
		m := st.mem(i)
		m.Disp += 2 * st.s.lanes // half a vector of float32, in bytes
		VCVTPS2PD(m, hi)
		return lo, hi
	}
	v := st.in(i).(VecVirtual)
	VCVTPS2PD(v.AsY(), lo)
	h := YMM()
	VEXTRACTF64X4(U8(1), v, h)
	VCVTPS2PD(h, hi)
	return lo, hi
}

// loop runs body on every vector: unroll vectors a step (st.u = 0…3),
// then one a step (st.u = 0), then, AVX-512 only, the 1–15 elements left
// under a mask.
func (st *stream) loop(body func()) {
	l := st.s.lanes
	step := func(vecs int) {
		for u := 0; u < vecs; u++ {
			st.u, st.disp = u, 4*l*u
			body()
		}
		st.u, st.disp = 0, 0
		for _, p := range st.ptrs {
			ADDQ(U32(4*l*vecs), p)
		}
		SUBQ(U32(l*vecs), st.n)
	}
	Label(st.fn + "_unrolled")
	CMPQ(st.n, U32(unroll*l))
	JL(LabelRef(st.fn + "_single"))
	step(unroll)
	JMP(LabelRef(st.fn + "_unrolled"))
	Label(st.fn + "_single")
	CMPQ(st.n, U32(l))
	JL(LabelRef(st.fn + "_tail"))
	step(1)
	JMP(LabelRef(st.fn + "_single"))
	Label(st.fn + "_tail")
	if st.s.masked {
		TESTQ(st.n, st.n)
		JZ(LabelRef(st.fn + "_done"))
		k, hi := K(), K()
		KMOVW(lowBits(st.n, 0xffff), k)
		KSHIFTRW(U8(8), k, hi)
		st.mask, st.lo, st.hi = k, k, hi
		body()
		st.mask, st.lo, st.hi = nil, nil, nil
	}
	Label(st.fn + "_done")
}

// lowBits returns a register holding the low n bits of all (n < 32).
func lowBits(n GPVirtual, all uint32) GPVirtual {
	a, m := GP32(), GP32()
	MOVL(U32(all), a)
	BZHIL(n.As32(), a, m)
	return m
}

// zero returns a vector of zeros.
func zero(s isa) VecVirtual {
	z := s.vec()
	VXORPS(z, z, z)
	return z
}

// broadcast returns the float32 parameter name in every lane.
func broadcast(s isa, name string) VecVirtual {
	x, v := XMM(), s.vec()
	Load(Param(name), x)
	VBROADCASTSS(x, v)
	return v
}

// maskOf returns the mask of lanes where pred(a, b) holds: an opmask
// (AVX-512) or a vector of all-ones lanes (AVX2). b may be memory.
func maskOf(s isa, ps bool, pred uint8, b Op, a VecVirtual) Op {
	var m Op = K()
	if !s.masked {
		m = s.vec()
	}
	if ps {
		VCMPPS(U8(pred), b, a, m)
	} else {
		VCMPPD(U8(pred), b, a, m)
	}
	return m
}

func end() {
	VZEROUPPER()
	RET()
}

func relu(s isa) {
	st := begin(s, "relu", "ReLU: dst[i] = x[i] < 0 ? 0 : x[i]", "func(dst, x []float32)", "dst", "x")
	z := zero(s)
	st.loop(func() {
		// MAXPS returns its second source unless the first is greater:
		// 0 > x ? 0 : x keeps −0 and NaN.
		v := s.vec()
		VMAXPS(st.in(1), z, v)
		st.store(0, v)
	})
	end()
}

func reluBack(s isa) {
	st := begin(s, "reluBack", "ReLUBack: dst[i] = y[i] ≤ 0 ? 0 : dy[i]", "func(dst, y, dy []float32)", "dst", "y", "dy")
	z := zero(s)
	st.loop(func() {
		pass := maskOf(s, true, cmpNGEUQ, st.in(1), z) // ¬(0 ≥ y)
		v := s.vec()
		if s.masked {
			VMOVUPS_Z(st.in(2), pass, v)
		} else {
			VANDPS(st.in(2), pass, v)
		}
		st.store(0, v)
	})
	end()
}

// scaleNeg returns v with the lanes where neg holds multiplied by sv.
func scaleNeg(s isa, v VecVirtual, neg Op, sv VecVirtual) VecVirtual {
	if s.masked {
		VMULPS(sv, v, neg, v)
		return v
	}
	p, out := s.vec(), s.vec()
	VMULPS(sv, v, p)
	VBLENDVPS(neg, p, v, out)
	return out
}

func prelu(s isa) {
	st := begin(s, "prelu", "PReLU: dst[i] = x[i] ≤ 0 ? s·x[i] : x[i]", "func(dst, x []float32, s float32)", "dst", "x")
	z, sv := zero(s), broadcast(s, "s")
	st.loop(func() {
		x := st.reg(1)
		st.store(0, scaleNeg(s, x, maskOf(s, true, cmpLEOQ, z, x), sv))
	})
	end()
}

func preluBack(s isa) {
	st := begin(s, "preluBack", "PReLUBack: dst[i] = x[i] ≤ 0 ? s·dy[i] : dy[i]", "func(dst, x, dy []float32, s float32)", "dst", "x", "dy")
	z, sv := zero(s), broadcast(s, "s")
	st.loop(func() {
		neg := maskOf(s, true, cmpGEOQ, st.in(1), z) // 0 ≥ x
		st.store(0, scaleNeg(s, st.reg(2), neg, sv))
	})
	end()
}

func scaleShift(s isa) {
	st := begin(s, "scaleShift", "ScaleShift: dst[i] = a·x[i] + b", "func(dst, x []float32, a, b float32)", "dst", "x")
	a, b := broadcast(s, "a"), broadcast(s, "b")
	st.loop(func() {
		x := st.reg(1)
		VFMADD213PS(b, a, x)
		st.store(0, x)
	})
	end()
}

func axpbyc(s isa) {
	st := begin(s, "axpbyc", "Axpbyc: dst[i] = a·x[i] + b·y[i] + c", "func(dst, x, y []float32, a, b, c float32)", "dst", "x", "y")
	a, b, c := broadcast(s, "a"), broadcast(s, "b"), broadcast(s, "c")
	st.loop(func() {
		t := st.reg(2)
		VFMADD213PS(c, b, t)        // b·y + c
		VFMADD231PS(st.in(1), a, t) // a·x + (b·y + c)
		st.store(0, t)
	})
	end()
}

// reduction writes a float64 sum: body adds the current vector's terms
// into acc[0] (its low half) and acc[1] (its high half), four pairs of
// accumulators on the unrolled steps. The eight are added in a fixed tree.
func reduction(st *stream, body func(acc []VecVirtual)) {
	accs := make([]VecVirtual, 2*unroll)
	for i := range accs {
		accs[i] = zero(st.s)
	}
	st.loop(func() { body(accs[2*st.u : 2*st.u+2]) })
	for len(accs) > 1 {
		for i := 0; i < len(accs)/2; i++ {
			VADDPD(accs[2*i+1], accs[2*i], accs[2*i])
			accs[i] = accs[2*i]
		}
		accs = accs[:len(accs)/2]
	}
	y := accs[0]
	if st.s.masked {
		y = YMM()
		VEXTRACTF64X4(U8(1), accs[0], y)
		VADDPD(accs[0].AsY(), y, y)
	}
	x, x2 := XMM(), XMM()
	VEXTRACTF128(U8(1), y, x)
	VADDPD(y.AsX(), x, x)
	VUNPCKHPD(x, x, x2)
	VADDSD(x2, x, x)
	Store(x, ReturnIndex(0))
	end()
}

// addUnder adds t into acc where m holds (nil: everywhere).
func addUnder(s isa, t VecVirtual, m Op, acc VecVirtual) {
	switch {
	case m == nil:
		VADDPD(t, acc, acc)
	case s.masked:
		VADDPD(t, acc, m, acc)
	default:
		VANDPD(m, t, t)
		VADDPD(t, acc, acc)
	}
}

func sum(s isa) {
	st := begin(s, "sum", "Sum: Σ x[i] in float64", "func(x []float32) float64", "x")
	reduction(st, func(acc []VecVirtual) {
		lo, hi := st.wide(0)
		VADDPD(lo, acc[0], acc[0])
		VADDPD(hi, acc[1], acc[1])
	})
}

func dot(s isa) {
	st := begin(s, "dot", "Dot: Σ x[i]·y[i] in float64", "func(x, y []float32) float64", "x", "y")
	reduction(st, func(acc []VecVirtual) {
		xl, xh := st.wide(0)
		yl, yh := st.wide(1)
		VFMADD231PD(yl, xl, acc[0])
		VFMADD231PD(yh, xh, acc[1])
	})
}

func sumSqDev(s isa) {
	st := begin(s, "sumSqDev", "SumSqDev: Σ (x[i] − mu)² in float64", "func(x []float32, mu float64) float64", "x")
	x, mu := XMM(), s.vec()
	Load(Param("mu"), x)
	VBROADCASTSD(x, mu)
	reduction(st, func(acc []VecVirtual) {
		lo, hi := st.wide(0)
		VSUBPD(mu, lo, lo)
		VSUBPD(mu, hi, hi)
		if st.mask == nil {
			VFMADD231PD(lo, lo, acc[0])
			VFMADD231PD(hi, hi, acc[1])
		} else { // the zeros past the end would add mu²
			VFMADD231PD(lo, lo, st.lo, acc[0])
			VFMADD231PD(hi, hi, st.hi, acc[1])
		}
	})
}

func preluSlopeGrad(s isa) {
	st := begin(s, "preluSlopeGrad", "PReLUSlopeGrad: Σ_{x[i] ≤ 0} x[i]·dy[i] in float64", "func(x, dy []float32) float64", "x", "dy")
	z := zero(s)
	reduction(st, func(acc []VecVirtual) {
		xl, xh := st.wide(0)
		gl, gh := st.wide(1)
		for h, x := range []VecVirtual{xl, xh} {
			g := []VecVirtual{gl, gh}[h]
			neg := maskOf(s, false, cmpGEOQ, x, z) // 0 ≥ x
			if s.masked {
				VFMADD231PD(g, x, neg, acc[h]) // the other lanes untouched, even at dy = ±Inf
			} else {
				VMULPD(g, x, x)
				addUnder(s, x, neg, acc[h])
			}
		}
	})
}

func maskedSum(s isa) {
	st := begin(s, "maskedSum", "MaskedSum: Σ_{¬(y[i] ≤ 0)} dy[i] in float64", "func(y, dy []float32) float64", "y", "dy")
	z := zero(s)
	reduction(st, func(acc []VecVirtual) {
		var pass [2]Op
		if s.masked {
			k := maskOf(s, true, cmpNGEUQ, st.in(0), z) // ¬(0 ≥ y)
			hi := K()
			KSHIFTRW(U8(8), k, hi)
			pass = [2]Op{k, hi}
		} else {
			yl, yh := st.wide(0)
			pass = [2]Op{maskOf(s, false, cmpNGEUQ, yl, z), maskOf(s, false, cmpNGEUQ, yh, z)}
		}
		gl, gh := st.wide(1)
		addUnder(s, gl, pass[0], acc[0])
		addUnder(s, gh, pass[1], acc[1])
	})
}

// param loads the integer or pointer parameter name.
func param(name string) GPVirtual {
	r := GP64()
	Load(Param(name), r)
	return r
}
