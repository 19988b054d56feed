package gemm

import (
	"math"
	"sync"
	"unsafe"
)

// tileFunc is the signature of the assembly micro-kernels: one tile of at
// most the kernel's MR rows (its name says how many) and NR columns,
//
//	c[r·ldc + j] = (acc ? c[r·ldc + j] : 0) + Σ_{t<kc} a[aOff[t] + rowOff[r]] · b[β(t) + j],
//	β(t) = bOff == nil ? t·ldb : bOff[t],
//
// for the columns j whose bit is set in masks (16 per vector of 16 lanes;
// kernels without masks compute all NR columns).
type tileFunc func(kc int, a *float32, aOff *int32, rowOff *int32, b *float32, ldb int, bOff *int32, c *float32, ldc int, masks uint64, acc bool)

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
// that cannot mask (AVX2's): taken from scratchPool on first use, and
// given back by release, so that a product whose columns end in a part
// tile (a head of 10 classes on 8-wide tiles) allocates nothing once
// warm. Before, each call allocated both.
type scratch struct {
	b, c   []float32
	pooled *scratch // where b and c came from
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{b: make([]float32, KC*maxNR), c: make([]float32, rowBlock*maxNR)}
}}

// maxNR is the widest tile of a kernel that cannot mask: AVX2's 24
// (NEON's 16).
const maxNR = 24

// release gives s's buffers back to scratchPool.
func (s *scratch) release() {
	if s.pooled != nil {
		scratchPool.Put(s.pooled)
		*s = scratch{}
	}
}

// run computes rows [0, mr) and columns [0, ncols) of one tile, ncols ≤ f.nr.
// B's row t starts at b[bOff[t]], or at b[t·ldb] when bOff is nil (the Go
// kernel: always).
func (f *family) run(s *scratch, mr, kc int, a []float32, off, row []int32, b []float32, ldb int, bOff []int32, c []float32, ldc, ncols int, acc bool) {
	if f.tiles == nil {
		if bOff != nil {
			panic("gemm: the Go kernel reads B with a stride, not a table")
		}
		goTile(mr, kc, a, off, row, b, ldb, c, ldc, ncols, acc)
		return
	}
	tile := f.tiles[mr-1]
	var tab *int32
	if bOff != nil {
		tab = &bOff[0]
	}
	if f.masked || ncols == f.nr {
		tile(kc, &a[0], &off[0], &row[0], &b[0], ldb, tab, &c[0], ldc, colMasks(ncols), acc)
		return
	}
	// Pad B's columns with zeros, compute the whole tile aside, keep ncols.
	if s.b == nil {
		p := scratchPool.Get().(*scratch)
		s.b, s.c, s.pooled = p.b, p.c, p
	}
	pb := s.b[:kc*f.nr]
	for t := 0; t < kc; t++ {
		bt := t * ldb
		if bOff != nil {
			bt = int(bOff[t])
		}
		copy(pb[t*f.nr:(t+1)*f.nr], b[bt:bt+ncols])
		clear(pb[t*f.nr+ncols : (t+1)*f.nr])
	}
	pc := s.c[:mr*f.nr]
	for r := 0; r < mr; r++ {
		copy(pc[r*f.nr:], c[r*ldc:r*ldc+ncols])
	}
	tile(kc, &a[0], &off[0], &row[0], &pb[0], f.nr, nil, &pc[0], f.nr, 0, acc)
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
// multiply then an add per step, and C stored through flush.
func goTile(mr, kc int, a []float32, off, row []int32, b []float32, ldb int, c []float32, ldc, ncols int, acc bool) {
	off = off[:kc]
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
				cr[j] = flush(cr[j] + s[r][j])
			} else {
				cr[j] = flush(s[r][j])
			}
		}
	}
}

// goTiles2x4 is goTile for full 2×4 tiles, len(row)/2 of them one below
// the other (len(row) even), the eight sums of each in locals.
//
// It is the browser's hot loop, written for GOOS=js GOARCH=wasm, where Go
// keeps sixteen float32 and sixteen integer registers (a 2×4 tile, its two
// A values and one B value fit; 3×4 and 4×4 tiles spill and measured
// slower), a call with slice arguments is costly (so the strip's loop
// calls goTile2x4 with pointers and integers only; with the tile's loop
// inlined in the strip's, the strip's variables spill), and every jump
// back to a loop's head is a trip through the function's dispatch table
// (so the reduction is unrolled by two; by four measured slower). A, B
// and the offset table are read through pointers: a slice index is a
// bounds check and a pointer that moves a nil check, each a branch of its
// own under wasm. That is safe because Mul's check proved every offset
// Off[t] + Row[r] inside A and every row of B inside its slice before any
// kernel ran.
func goTiles2x4(a []float32, off, row []int32, b []float32, ldb int, c []float32, ldc int, acc bool) {
	pa, pb := unsafe.Pointer(unsafe.SliceData(a)), unsafe.Pointer(unsafe.SliceData(b))
	po := unsafe.Pointer(unsafe.SliceData(off))
	for i := 0; i+2 <= len(row); i += 2 {
		c0, c1 := (*[4]float32)(c[i*ldc:i*ldc+4:i*ldc+4]), (*[4]float32)(c[(i+1)*ldc:(i+1)*ldc+4:(i+1)*ldc+4])
		goTile2x4(unsafe.Add(pa, 4*int(row[i])), unsafe.Add(pa, 4*int(row[i+1])), po, pb, len(off), 4*ldb, c0, c1, acc)
	}
}

// goTile2x4 is one tile of goTiles2x4: rows a0 and a1 of A, n steps of
// the offset table po, B's rows ldb4 bytes apart from pb, C's rows c0 and
// c1. It takes no slices, so that its call costs little.
//
//go:noinline
func goTile2x4(a0, a1, po, pb unsafe.Pointer, n, ldb4 int, c0, c1 *[4]float32, acc bool) {
	at := func(p unsafe.Pointer, o int) float32 { return *(*float32)(unsafe.Add(p, o)) }
	var s00, s01, s02, s03, s10, s11, s12, s13 float32
	step := func(t int) { // inlined: s += (a0, a1)[off[t]] ⊗ B[t, :4]
		o, q := 4*int(*(*int32)(unsafe.Add(po, 4*t))), t*ldb4
		x0, x1 := at(a0, o), at(a1, o)
		y := at(pb, q)
		s00, s10 = s00+x0*y, s10+x1*y
		y = at(pb, q+4)
		s01, s11 = s01+x0*y, s11+x1*y
		y = at(pb, q+8)
		s02, s12 = s02+x0*y, s12+x1*y
		y = at(pb, q+12)
		s03, s13 = s03+x0*y, s13+x1*y
	}
	t := 0
	for ; t+2 <= n; t += 2 {
		step(t)
		step(t + 1)
	}
	if t < n {
		step(t)
	}
	if acc {
		s00, s01, s02, s03 = s00+c0[0], s01+c0[1], s02+c0[2], s03+c0[3]
		s10, s11, s12, s13 = s10+c1[0], s11+c1[1], s12+c1[2], s13+c1[3]
	}
	c0[0], c0[1], c0[2], c0[3] = flush(s00), flush(s01), flush(s02), flush(s03)
	c1[0], c1[1], c1[2], c1[3] = flush(s10), flush(s11), flush(s12), flush(s13)
}

// flush returns x, or 0 if x is subnormal (its exponent bits are 0, so
// |x| < 2⁻¹²⁶; ±0 gives +0). The Go kernels store C through it, which does
// for their results what the assembly kernels' FZ does for every sum: a
// tile's own products can still be subnormal and slow, but none is handed
// on to the next product or layer (see the package doc). It tests the bits
// so that the compiler makes a select rather than a branch: under wasm a
// float compare and branch per element of C slowed the kernel's products
// of the engine (576×8 by 25 steps, 64×256 by 64) by 15–22 %, this by 2–5 %.
func flush(x float32) float32 {
	b := math.Float32bits(x)
	if b&0x7f800000 == 0 {
		b = 0
	}
	return math.Float32frombits(b)
}

// goKernels is the pure-Go kernel set.
var goKernels = kernelSet{name: "go", fams: []family{{nr: 4, mr: 2}}}

// Kernel names the kernels Mul runs on this CPU: "avx512", "avx2", "neon" or
// "go".
func Kernel() string { return kernels.name }
