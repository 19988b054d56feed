package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// transpose writes transposeZ: the block is cut into strips of 16 rows,
// each strip into 16×16 tiles. A tile's 16 rows are loaded into 16
// registers, transposed there by 64 shuffles (four rounds of 16: unpack
// float32 pairs, unpack float64 pairs, then two rounds of 128-bit lane
// shuffles), and its 16 columns stored as rows of dst, bias added.
//
// Edges: the last strip's rows past r are loaded again from its last row
// (row offsets clamped in a table) and masked out of the stores; the last
// tile's columns past c are masked out of the loads and not stored.
func transpose() {
	TEXT("transposeZ", NOSPLIT, "func(dst *float32, ldd int, src *float32, lds int, r int, c int, bias *float32)")
	Pragma("noescape")
	Doc("transposeZ is Transpose: dst[j·ldd + i] = src[i·lds + j] (+ bias[j] unless bias is nil), i < r, j < c, r and c at least 1 (AVX-512).")
	offs := AllocLocal(16 * 8) // byte offsets of the strip's 16 rows, clamped to its last row
	dp := param("dst")
	ldd := param("ldd")
	SHLQ(U8(2), ldd)
	sp := param("src")
	rleft := param("r")
	bias := param("bias")

	Label("transposeZ_strip")
	nr := GP64()
	MOVQ(U32(16), nr)
	CMPQ(rleft, nr)
	CMOVQLT(rleft, nr)
	kr := K()
	KMOVW(lowBits(nr, 0xffff), kr)
	lds := param("lds")
	SHLQ(U8(2), lds)
	o, next := GP64(), GP64()
	XORQ(o, o)
	for t := 0; t < 16; t++ {
		MOVQ(o, offs.Offset(8*t))
		if t < 15 {
			LEAQ(Mem{Base: o, Index: lds, Scale: 1}, next)
			CMPQ(nr, U32(t+1))
			CMOVQGT(next, o) // row t+1 exists
		}
	}
	s, d, bp := GP64(), GP64(), GP64()
	MOVQ(sp, s)
	MOVQ(dp, d)
	MOVQ(bias, bp)
	cleft := param("c")

	Label("transposeZ_tile")
	CMPQ(cleft, U32(16))
	JL(LabelRef("transposeZ_edge"))
	storeTile("transposeZ_whole", transpose16(loadTile(s, offs, nil)), d, ldd, kr, bias, bp, nil)
	ADDQ(U32(64), s)
	ADDQ(U32(64), bp)
	SUBQ(U32(16), cleft)
	JMP(LabelRef("transposeZ_tile"))

	Label("transposeZ_edge")
	TESTQ(cleft, cleft)
	JZ(LabelRef("transposeZ_stripdone"))
	kc := K()
	KMOVW(lowBits(cleft, 0xffff), kc)
	storeTile("transposeZ_part", transpose16(loadTile(s, offs, kc)), d, ldd, kr, bias, bp, cleft)

	Label("transposeZ_stripdone")
	ADDQ(U32(64), dp) // dst's column i0 + 16
	SHLQ(U8(4), lds)
	ADDQ(lds, sp) // src's row i0 + 16
	SUBQ(U32(16), rleft)
	JG(LabelRef("transposeZ_strip"))
	VZEROUPPER()
	RET()
}

// loadTile loads the 16 rows of a tile at s, row t at s + offs[t], under
// the column mask kc (nil: all 16 columns).
func loadTile(s GPVirtual, offs Mem, kc Op) []VecVirtual {
	rows := make([]VecVirtual, 16)
	for t := range rows {
		o := GP64()
		MOVQ(offs.Offset(8*t), o)
		rows[t] = ZMM()
		m := Mem{Base: s, Index: o, Scale: 1}
		if kc == nil {
			VMOVUPS(m, rows[t])
		} else {
			VMOVUPS_Z(m, kc, rows[t])
		}
	}
	return rows
}

// transpose16 returns the 16 columns of the 16 rows r. In the intrinsics'
// terms: t = unpack{lo,hi}_ps(r[2p], r[2p+1]); u = unpack{lo,hi}_pd of t
// in fours (after which u[4q+k] holds, in each 128-bit lane L, column 4L+k
// of rows 4q…4q+3); then two rounds of shuffle_f32x4 gather the four
// lanes of a column (0x88 takes lanes 0 and 2 of each source, 0xdd lanes 1
// and 3).
func transpose16(r []VecVirtual) []VecVirtual {
	fresh := func() []VecVirtual {
		v := make([]VecVirtual, 16)
		for i := range v {
			v[i] = ZMM()
		}
		return v
	}
	t := fresh()
	for p := 0; p < 8; p++ {
		VUNPCKLPS(r[2*p+1], r[2*p], t[2*p])
		VUNPCKHPS(r[2*p+1], r[2*p], t[2*p+1])
	}
	u := fresh()
	for q := 0; q < 4; q++ {
		a, b, c, d := t[4*q], t[4*q+1], t[4*q+2], t[4*q+3]
		VUNPCKLPD(c, a, u[4*q])
		VUNPCKHPD(c, a, u[4*q+1])
		VUNPCKLPD(d, b, u[4*q+2])
		VUNPCKHPD(d, b, u[4*q+3])
	}
	v := fresh()
	for g := 0; g < 2; g++ {
		for k := 0; k < 4; k++ {
			VSHUFF32X4(U8(0x88), u[8*g+4+k], u[8*g+k], v[8*g+k])
			VSHUFF32X4(U8(0xdd), u[8*g+4+k], u[8*g+k], v[8*g+4+k])
		}
	}
	w := fresh()
	for k := 0; k < 8; k++ {
		VSHUFF32X4(U8(0x88), v[8+k], v[k], w[k])
		VSHUFF32X4(U8(0xdd), v[8+k], v[k], w[8+k])
	}
	return w
}

// storeTile stores the 16 columns of a tile as rows of dst from d on
// (advancing d by a row each), under the row mask kr, adding the bias at
// bp unless bias is nil. With cleft, only its first cleft columns.
func storeTile(label string, cols []VecVirtual, d, ldd GPVirtual, kr Op, bias, bp GPVirtual, cleft Register) {
	emit := func(withBias bool) {
		for j, v := range cols {
			if cleft != nil && j > 0 {
				CMPQ(cleft, U32(j))
				JLE(LabelRef(label + "_done"))
			}
			if withBias {
				VADDPS_BCST(Mem{Base: bp, Disp: 4 * j}, v, v)
			}
			VMOVUPS(v, kr, Mem{Base: d})
			ADDQ(ldd, d)
		}
	}
	TESTQ(bias, bias)
	JZ(LabelRef(label + "_plain"))
	emit(true)
	JMP(LabelRef(label + "_done"))
	Label(label + "_plain")
	emit(false)
	Label(label + "_done")
}

// maxPool2 writes maxPool2Z, one output row at a time: 16 outputs take 32
// values of each of the two input rows, split into even and odd columns by
// a two-table permute, then three compare-and-blend steps in the order
// (0,0), (0,1), (1,0), (1,1), each taking the later element only where it
// is greater (ties and NaN keep the earlier one), as core's loop does. The
// argmax rides along as an int32 offset blended the same way.
func maxPool2() {
	TEXT("maxPool2Z", NOSPLIT, "func(y *float32, arg *int32, x *float32, nc int, h int, w int)")
	Pragma("noescape")
	Doc("maxPool2Z is MaxPool2 on nc ≥ 1 planes of h×w, h and w at least 2 (AVX-512).")
	evens := GLOBL("evens", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(2*i))
	}
	odds := GLOBL("odds", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(2*i+1))
	}

	yp := param("y")
	ap := param("arg")
	xrow := param("x")
	w := param("w")
	w4 := GP64()
	MOVQ(w, w4)
	SHLQ(U8(2), w4)

	even, odd := ZMM(), ZMM()
	VMOVDQU32(evens, even)
	VMOVDQU32(odds, odd)
	right, below, belowRight, step := ZMM(), ZMM(), ZMM(), ZMM()
	c := GP32()
	MOVL(U32(1), c)
	VPBROADCASTD(c, right) // (0,1) is 1 past (0,0)
	VPBROADCASTD(w.As32(), below)
	VPADDD(right, below, belowRight)
	MOVL(U32(32), c)
	VPBROADCASTD(c, step) // 16 outputs cover 32 columns

	// The tail of each row: rem outputs from 2·rem columns.
	rem := GP64()
	MOVQ(w, rem)
	SHRQ(U8(1), rem)
	ANDQ(U32(15), rem)
	kt, kin0, kin1 := K(), K(), K()
	KMOVW(lowBits(rem, 0xffff), kt)
	rem2 := GP64()
	LEAQ(Mem{Base: rem, Index: rem, Scale: 1}, rem2)
	in := lowBits(rem2, 0xffffffff)
	KMOVW(in, kin0)
	SHRL(U8(16), in)
	KMOVW(in, kin1)

	top := GP64() // flat index of the row's first element
	XORQ(top, top)
	pl := param("nc")
	Label("maxPool2Z_plane")
	i := param("h")
	SHRQ(U8(1), i)

	Label("maxPool2Z_row")
	idx := ZMM()
	VPBROADCASTD(top.As32(), idx)
	VPADDD(even, idx, idx) // the index of (0,0) of each window
	p := GP64()
	MOVQ(xrow, p)
	q := param("w")
	SHRQ(U8(5), q) // whole vectors of 16 outputs

	window := func(a0, a1, b0, b1 VecVirtual) (m, at VecVirtual) {
		split := func(lo, hi VecVirtual) (e, o VecVirtual) {
			e = ZMM()
			VMOVAPS(lo, e)
			VPERMT2PS(hi, even, e)
			VPERMT2PS(hi, odd, lo)
			return e, lo
		}
		m, a01 := split(a0, a1)
		b00, b01 := split(b0, b1)
		at = ZMM()
		VPXORD(at, at, at)
		k := K()
		for n, v := range []VecVirtual{a01, b00, b01} {
			VCMPPS(U8(cmpGTOQ), m, v, k) // v > m
			VMOVAPS(v, k, m)
			VMOVDQA32([]VecVirtual{right, below, belowRight}[n], k, at)
		}
		VPADDD(idx, at, at)
		return m, at
	}
	load := func(k Op) (a0, a1, b0, b1 VecVirtual) {
		a0, a1, b0, b1 = ZMM(), ZMM(), ZMM(), ZMM()
		mems := []Mem{{Base: p}, {Base: p, Disp: 64}, {Base: p, Index: w4, Scale: 1}, {Base: p, Index: w4, Scale: 1, Disp: 64}}
		for n, v := range []VecVirtual{a0, a1, b0, b1} {
			if k == nil {
				VMOVUPS(mems[n], v)
			} else {
				VMOVUPS_Z(mems[n], []Op{kin0, kin1}[n%2], v)
			}
		}
		return
	}

	Label("maxPool2Z_whole")
	TESTQ(q, q)
	JZ(LabelRef("maxPool2Z_tail"))
	m, at := window(load(nil))
	VMOVUPS(m, Mem{Base: yp})
	VMOVDQU32(at, Mem{Base: ap})
	VPADDD(step, idx, idx)
	ADDQ(U32(128), p)
	ADDQ(U32(64), yp)
	ADDQ(U32(64), ap)
	DECQ(q)
	JMP(LabelRef("maxPool2Z_whole"))

	Label("maxPool2Z_tail")
	TESTQ(rem, rem)
	JZ(LabelRef("maxPool2Z_rowdone"))
	m, at = window(load(kin0))
	VMOVUPS(m, kt, Mem{Base: yp})
	VMOVDQU32(at, kt, Mem{Base: ap})
	LEAQ(Mem{Base: yp, Index: rem, Scale: 4}, yp)
	LEAQ(Mem{Base: ap, Index: rem, Scale: 4}, ap)

	Label("maxPool2Z_rowdone")
	LEAQ(Mem{Base: xrow, Index: w4, Scale: 2}, xrow)
	LEAQ(Mem{Base: top, Index: w, Scale: 2}, top)
	DECQ(i)
	JNZ(LabelRef("maxPool2Z_row"))

	// An odd h leaves a last row out of every plane.
	odd1 := param("h")
	TESTQ(U32(1), odd1)
	JZ(LabelRef("maxPool2Z_planedone"))
	ADDQ(w4, xrow)
	ADDQ(w, top)
	Label("maxPool2Z_planedone")
	DECQ(pl)
	JNZ(LabelRef("maxPool2Z_plane"))
	VZEROUPPER()
	RET()
}
