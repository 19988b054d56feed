package gemm

import "unsafe"

// tileFunc is the signature of the assembly micro-kernels: one tile of at
// most the kernel's MR rows (its name says how many) and NR columns,
//
//	c[r·ldc + j] = (acc ? c[r·ldc + j] : 0) + Σ_{t<kc} a[aOff[t] + rowOff[r]] · b[t·ldb + j],
//
// for the columns j whose bit is set in masks (16 per vector of 16 lanes;
// kernels without masks compute all NR columns).
type tileFunc func(kc int, a *float32, aOff *int32, rowOff *int32, b *float32, ldb int, c *float32, ldc int, masks uint64, acc bool)

// family is the kernels of one tile width NR: tiles[i] computes i+1 rows.
// A family without tiles runs the pure-Go kernel.
type family struct {
	nr, mr int
	masked bool // the kernels mask columns ≥ ncols; otherwise Mul pads them
	tiles  []tileFunc
}

// kernelSet is the families of one instruction set, narrowest first.
type kernelSet struct {
	name string
	fams []family
}

// rowBlock is the unit in which Mul splits rows among threads: a multiple
// of every family's MR, so that the split never changes a tile.
const rowBlock = 24

// forColumns returns the family for the next w columns: the narrowest one
// at least w wide, or the widest.
func (ks *kernelSet) forColumns(w int) *family {
	for i := range ks.fams {
		if ks.fams[i].nr >= w {
			return &ks.fams[i]
		}
	}
	return &ks.fams[len(ks.fams)-1]
}

// scratch holds a padded copy of B's columns and of C's tile for kernels
// that cannot mask; it is allocated on first use.
type scratch struct {
	b, c []float32
}

// run computes rows [0, mr) and columns [0, ncols) of one tile, ncols ≤ f.nr.
func (f *family) run(s *scratch, mr, kc int, a []float32, off, row []int32, b []float32, ldb int, c []float32, ldc, ncols int, acc bool) {
	if f.tiles == nil {
		goTile(mr, kc, a, off, row, b, ldb, c, ldc, ncols, acc)
		return
	}
	tile := f.tiles[mr-1]
	if f.masked || ncols == f.nr {
		tile(kc, &a[0], &off[0], &row[0], &b[0], ldb, &c[0], ldc, colMasks(ncols), acc)
		return
	}
	// Pad B's columns with zeros, compute the whole tile aside, keep ncols.
	if s.b == nil {
		s.b = make([]float32, KC*f.nr)
		s.c = make([]float32, rowBlock*f.nr)
	}
	pb := s.b[:kc*f.nr]
	for t := 0; t < kc; t++ {
		copy(pb[t*f.nr:(t+1)*f.nr], b[t*ldb:t*ldb+ncols])
		clear(pb[t*f.nr+ncols : (t+1)*f.nr])
	}
	pc := s.c[:mr*f.nr]
	for r := 0; r < mr; r++ {
		copy(pc[r*f.nr:], c[r*ldc:r*ldc+ncols])
	}
	tile(kc, &a[0], &off[0], &row[0], &pb[0], f.nr, &pc[0], f.nr, 0, acc)
	for r := 0; r < mr; r++ {
		copy(c[r*ldc:r*ldc+ncols], pc[r*f.nr:])
	}
}

// colMasks returns the masks of ncols columns: bit j of vector v (bit
// 16v+j) is set when 16v+j < ncols.
func colMasks(ncols int) uint64 {
	if ncols >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(ncols) - 1
}

// goTile is the pure-Go micro-kernel and the reference of the assembly
// ones: a tile of mr ≤ 4 rows and ncols ≤ 4 columns, float32 sums, a
// multiply then an add per step.
func goTile(mr, kc int, a []float32, off, row []int32, b []float32, ldb int, c []float32, ldc, ncols int, acc bool) {
	off = off[:kc]
	if mr == 2 && ncols == 4 {
		goTile2x4(a, off, row[:2:2], b, ldb, c, ldc, acc)
		return
	}
	var s [4][4]float32
	for t, o := range off {
		bt := b[t*ldb : t*ldb+ncols]
		for r := 0; r < mr; r++ {
			x := a[int(o)+int(row[r])]
			for j, y := range bt {
				s[r][j] += x * y
			}
		}
	}
	for r := 0; r < mr; r++ {
		cr := c[r*ldc : r*ldc+ncols]
		for j := range cr {
			if acc {
				cr[j] += s[r][j]
			} else {
				cr[j] = s[r][j]
			}
		}
	}
}

// goTile4x4 is goTile for a full 4×4 tile, its sixteen sums in locals.
//
// It is the browser's hot loop, written for GOOS=js GOARCH=wasm: there
// every loop back-edge is a trip through the function's dispatch table, so
// the reduction is unrolled by two, and every slice index a bounds check,
// so A and B are read through pointers. That is safe because Mul's check
// proved every offset Off[t] + Row[r] inside A and every row of B inside
// its slice before any kernel ran.
func goTile4x4(a []float32, off, row []int32, b []float32, ldb int, c []float32, ldc int, acc bool) {
	pa := unsafe.Pointer(unsafe.SliceData(a))
	a0, a1, a2, a3 := unsafe.Add(pa, 4*int(row[0])), unsafe.Add(pa, 4*int(row[1])), unsafe.Add(pa, 4*int(row[2])), unsafe.Add(pa, 4*int(row[3]))
	pb, step := unsafe.Pointer(unsafe.SliceData(b)), 4*ldb
	var s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33 float32
	t := 0
	for ; t+2 <= len(off); t += 2 {
		o := 4 * int(off[t])
		y := (*[4]float32)(pb)
		x0, x1, x2, x3 := *(*float32)(unsafe.Add(a0, o)), *(*float32)(unsafe.Add(a1, o)), *(*float32)(unsafe.Add(a2, o)), *(*float32)(unsafe.Add(a3, o))
		s00, s01, s02, s03 = s00+x0*y[0], s01+x0*y[1], s02+x0*y[2], s03+x0*y[3]
		s10, s11, s12, s13 = s10+x1*y[0], s11+x1*y[1], s12+x1*y[2], s13+x1*y[3]
		s20, s21, s22, s23 = s20+x2*y[0], s21+x2*y[1], s22+x2*y[2], s23+x2*y[3]
		s30, s31, s32, s33 = s30+x3*y[0], s31+x3*y[1], s32+x3*y[2], s33+x3*y[3]
		o = 4 * int(off[t+1])
		y = (*[4]float32)(unsafe.Add(pb, step))
		x0, x1, x2, x3 = *(*float32)(unsafe.Add(a0, o)), *(*float32)(unsafe.Add(a1, o)), *(*float32)(unsafe.Add(a2, o)), *(*float32)(unsafe.Add(a3, o))
		s00, s01, s02, s03 = s00+x0*y[0], s01+x0*y[1], s02+x0*y[2], s03+x0*y[3]
		s10, s11, s12, s13 = s10+x1*y[0], s11+x1*y[1], s12+x1*y[2], s13+x1*y[3]
		s20, s21, s22, s23 = s20+x2*y[0], s21+x2*y[1], s22+x2*y[2], s23+x2*y[3]
		s30, s31, s32, s33 = s30+x3*y[0], s31+x3*y[1], s32+x3*y[2], s33+x3*y[3]
		pb = unsafe.Add(pb, 2*step)
	}
	if t < len(off) {
		o := 4 * int(off[t])
		y := (*[4]float32)(pb)
		x0, x1, x2, x3 := *(*float32)(unsafe.Add(a0, o)), *(*float32)(unsafe.Add(a1, o)), *(*float32)(unsafe.Add(a2, o)), *(*float32)(unsafe.Add(a3, o))
		s00, s01, s02, s03 = s00+x0*y[0], s01+x0*y[1], s02+x0*y[2], s03+x0*y[3]
		s10, s11, s12, s13 = s10+x1*y[0], s11+x1*y[1], s12+x1*y[2], s13+x1*y[3]
		s20, s21, s22, s23 = s20+x2*y[0], s21+x2*y[1], s22+x2*y[2], s23+x2*y[3]
		s30, s31, s32, s33 = s30+x3*y[0], s31+x3*y[1], s32+x3*y[2], s33+x3*y[3]
	}
	rows := [4][4]float32{{s00, s01, s02, s03}, {s10, s11, s12, s13}, {s20, s21, s22, s23}, {s30, s31, s32, s33}}
	for r := 0; r < 4; r++ {
		cr := c[r*ldc : r*ldc+4 : r*ldc+4]
		if acc {
			cr[0] += rows[r][0]
			cr[1] += rows[r][1]
			cr[2] += rows[r][2]
			cr[3] += rows[r][3]
		} else {
			cr[0], cr[1], cr[2], cr[3] = rows[r][0], rows[r][1], rows[r][2], rows[r][3]
		}
	}
}

// goTile2x4 is goTile for a full 2×4 tile, its eight sums in locals (under
// wasm Go keeps sixteen float registers: a 2×4 tile and its operands fit,
// a 4×4 one spills), unrolled and read through pointers as goTile4x4.
func goTile2x4(a []float32, off, row []int32, b []float32, ldb int, c []float32, ldc int, acc bool) {
	pa := unsafe.Pointer(unsafe.SliceData(a))
	a0, a1 := unsafe.Add(pa, 4*int(row[0])), unsafe.Add(pa, 4*int(row[1]))
	pb, step := unsafe.Pointer(unsafe.SliceData(b)), 4*ldb
	var s00, s01, s02, s03, s10, s11, s12, s13 float32
	t := 0
	for ; t+2 <= len(off); t += 2 {
		o := 4 * int(off[t])
		y := (*[4]float32)(pb)
		x0, x1 := *(*float32)(unsafe.Add(a0, o)), *(*float32)(unsafe.Add(a1, o))
		s00, s01, s02, s03 = s00+x0*y[0], s01+x0*y[1], s02+x0*y[2], s03+x0*y[3]
		s10, s11, s12, s13 = s10+x1*y[0], s11+x1*y[1], s12+x1*y[2], s13+x1*y[3]
		o = 4 * int(off[t+1])
		y = (*[4]float32)(unsafe.Add(pb, step))
		x0, x1 = *(*float32)(unsafe.Add(a0, o)), *(*float32)(unsafe.Add(a1, o))
		s00, s01, s02, s03 = s00+x0*y[0], s01+x0*y[1], s02+x0*y[2], s03+x0*y[3]
		s10, s11, s12, s13 = s10+x1*y[0], s11+x1*y[1], s12+x1*y[2], s13+x1*y[3]
		pb = unsafe.Add(pb, 2*step)
	}
	if t < len(off) {
		o := 4 * int(off[t])
		y := (*[4]float32)(pb)
		x0, x1 := *(*float32)(unsafe.Add(a0, o)), *(*float32)(unsafe.Add(a1, o))
		s00, s01, s02, s03 = s00+x0*y[0], s01+x0*y[1], s02+x0*y[2], s03+x0*y[3]
		s10, s11, s12, s13 = s10+x1*y[0], s11+x1*y[1], s12+x1*y[2], s13+x1*y[3]
	}
	c0, c1 := c[:4:4], c[ldc:ldc+4:ldc+4]
	if acc {
		s00, s01, s02, s03 = s00+c0[0], s01+c0[1], s02+c0[2], s03+c0[3]
		s10, s11, s12, s13 = s10+c1[0], s11+c1[1], s12+c1[2], s13+c1[3]
	}
	c0[0], c0[1], c0[2], c0[3] = s00, s01, s02, s03
	c1[0], c1[1], c1[2], c1[3] = s10, s11, s12, s13
}

// goKernels is the pure-Go kernel set.
var goKernels = kernelSet{name: "go", fams: []family{{nr: 4, mr: 2}}}

// Kernel names the kernels Mul runs on this CPU: "avx512", "avx2", "neon" or
// "go".
func Kernel() string { return kernels.name }
