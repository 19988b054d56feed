package gemm

import (
	"fmt"
	"math"
	"sync"

	"metriclab/core/par"
)

// A is the left operand: A[r, t] = Data[Off[t] + Row[r]].
type A struct {
	Data []float32
	Off  []int32 // one offset per reduction step t, at least k of them
	Row  []int32 // one offset per row r, at least m of them
	Band *Band   // where A is known to be zero, or nil
}

// Band says where A is zero: A[r, t] = 0 whenever Key[t] ∉ [Lo[r], Hi[r])
// or, with a second key, Key2[t] ∉ [Lo2[r], Hi2[r]). A convolution's taps
// that read the zero padding are such zeros: the keys of a tap are its
// kernel row and column, a pixel's ranges the kernel rows and columns
// that reach the image from it. Mul may skip the products A[r, t]·B[t, j]
// of those steps: a tile skips the steps whose keys lie outside the union
// of its rows' ranges. Skipping adds nothing that was not zero, in the
// same order, so C has the same bits as without the band (a skipped zero
// times an infinite or NaN B counts as zero). The Go kernel ignores it.
type Band struct {
	Key    []int32 // one key per step, at least k of them
	Lo, Hi []int32 // one range per row, at least m of them

	Key2     []int32 // nil, or a second key per step
	Lo2, Hi2 []int32 // and its range per row
}

// box is a row's ranges of the two keys, [lo, hi) × [lo2, hi2).
type box struct{ lo, hi, lo2, hi2 int32 }

// box returns row r's ranges (the second [0, 1) without a second key).
func (b *Band) box(r int) box {
	if b.Key2 == nil {
		return box{b.Lo[r], b.Hi[r], 0, 1}
	}
	return box{b.Lo[r], b.Hi[r], b.Lo2[r], b.Hi2[r]}
}

// union returns the smallest box holding x and y.
func (x box) union(y box) box {
	return box{min(x.lo, y.lo), max(x.hi, y.hi), min(x.lo2, y.lo2), max(x.hi2, y.hi2)}
}

// holds reports whether y lies in x.
func (x box) holds(y box) bool {
	return x.lo <= y.lo && y.hi <= x.hi && x.lo2 <= y.lo2 && y.hi2 <= x.hi2
}

// B is the right operand, row-major: B[t, j] = Data[t·Ld + j].
type B struct {
	Data []float32
	Ld   int
}

// C is the result, row-major: C[r, j] = Data[r·Ld + j].
type C struct {
	Data []float32
	Ld   int
}

// KC is the number of reduction steps of one block: a block of B (KC×NR,
// 64 KB at NR = 64) stays in the L2 cache while the tiles of its column
// sweep A.
const KC = 256

// minParallel is the number of multiply-adds below which Mul runs on one
// thread: handing a range to a worker costs about a microsecond.
const minParallel = 1 << 18

// Mul computes C (+)= A·B over m rows, n columns and k reduction steps:
//
//	C[r, j] = (acc ? C[r, j] : 0) + Σ_{t<k} A[r, t] · B[t, j].
//
// Rows of C are split among the threads of pool (nil: the calling
// goroutine). It panics if an operand is too short for its offsets or
// strides.
func Mul(pool *par.Pool, acc bool, m, n, k int, a A, b B, c C) {
	mulWith(kernels, pool, acc, m, n, k, a, b, c)
}

// mulWith is Mul on the kernel set ks.
func mulWith(ks *kernelSet, pool *par.Pool, acc bool, m, n, k int, a A, b B, c C) {
	check(m, n, k, a, b, c)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !acc {
			for r := 0; r < m; r++ {
				clear(c.Data[r*c.Ld : r*c.Ld+n])
			}
		}
		return
	}
	blocks := (m + rowBlock - 1) / rowBlock
	grain := max(1, minParallel/max(1, rowBlock*n*k))
	par.For(pool, blocks, grain, mulArgs{acc, m, n, k, a, b, c, ks}, mulBlocks)
}

// mulArgs is one product, handed to the threads by value.
type mulArgs struct {
	acc     bool
	m, n, k int
	a       A
	b       B
	c       C
	ks      *kernelSet
}

// mulBlocks computes the row blocks [lo, hi) of C.
func mulBlocks(w mulArgs, lo, hi int) {
	mulRows(w.acc, lo*rowBlock, min(w.m, hi*rowBlock), w.n, w.k, w.a, w.b, w.c, w.ks)
}

// mulRows computes rows [r0, r1) of C.
func mulRows(acc bool, r0, r1, n, k int, a A, b B, c C, ks *kernelSet) {
	var s scratch
	defer s.release()
	var bs *bandScratch
	if a.Band != nil && ks != &goKernels {
		bs = bandPool.Get().(*bandScratch)
		bs.tiles, bs.tileMR = bs.tiles[:0], 0 // another call's band, or none
		defer bandPool.Put(bs)
	}
	for t0 := 0; t0 < k; t0 += KC {
		kc := min(KC, k-t0)
		accK := acc || t0 > 0
		off := a.Off[t0 : t0+kc]
		if bs != nil {
			bs.block(a.Band, t0, kc)
		}
		for j := 0; j < n; {
			f := ks.forColumns(n - j)
			w := min(f.nr, n-j)
			bj := b.Data[t0*b.Ld+j:]
			r := r0
			if f.tiles == nil && w == 4 { // the pure-Go kernel: every full tile in one call
				r += (r1 - r0) &^ 1
				goTiles2x4(a.Data, off, a.Row[r0:r], bj, b.Ld, c.Data[r0*c.Ld+j:], c.Ld, accK)
			}
			if f.tiles != nil && bs == nil && (f.masked || w == f.nr) { // the full tiles, straight to the kernel
				tile, masks, pa, po, pb := f.tiles[f.mr-1], colMasks(w), &a.Data[0], &off[0], &bj[0]
				for ; r+f.mr <= r1; r += f.mr {
					tile(kc, pa, po, &a.Row[r], pb, b.Ld, nil, &c.Data[r*c.Ld+j], c.Ld, masks, accK)
				}
			}
			for ; r < r1; r += f.mr {
				mr := min(f.mr, r1-r)
				tOff, bOff := off, []int32(nil)
				if bs != nil {
					if sub := bs.steps(bs.tileBox(a.Band, r0, r, mr, f.mr), off, b.Ld); sub != nil {
						if len(sub.off) == 0 { // every step of this block reads zeros
							if !accK {
								for i := 0; i < mr; i++ {
									clear(c.Data[(r+i)*c.Ld+j : (r+i)*c.Ld+j+w])
								}
							}
							continue
						}
						tOff, bOff = sub.off, sub.bOff
					}
				}
				f.run(&s, mr, len(tOff), a.Data, tOff, a.Row[r:r+mr], bj, b.Ld, bOff, c.Data[r*c.Ld+j:], c.Ld, w, accK)
			}
			j += w
		}
	}
}

// bandScratch is one thread's lists of a block's steps for the key ranges
// its tiles need: the offsets of the steps kept, in A and in B.
type bandScratch struct {
	all        box // the keys of the block's steps lie in it
	keys, key2 []int32
	subs       []bandSub // the boxes copied in this block
	last       int       // the index in subs of the last box asked for
	free       []bandSub // buffers of earlier blocks, for reuse

	tiles  []box // the union of each tile's rows, for tiles of tileMR rows from row r0
	tileMR int
	r0     int
}

// bandSub is the steps of one block whose keys lie in a box.
type bandSub struct {
	box  box
	off  []int32 // the steps' offsets in A (a block's Off, kept ones)
	bOff []int32 // their B rows' offsets from the block's first row, t·Ld
}

var bandPool = sync.Pool{New: func() any { return new(bandScratch) }}

// block starts the block of kc steps from t0.
func (bs *bandScratch) block(band *Band, t0, kc int) {
	bs.keys, bs.key2 = band.Key[t0:t0+kc], nil
	lo, hi := bounds(bs.keys)
	bs.all = box{int32(lo), int32(hi) + 1, 0, 1}
	if band.Key2 != nil {
		bs.key2 = band.Key2[t0 : t0+kc]
		lo2, hi2 := bounds(bs.key2)
		bs.all.lo2, bs.all.hi2 = int32(lo2), int32(hi2)+1
	}
	bs.free = append(bs.free, bs.subs...)
	bs.subs = bs.subs[:0]
}

// tileBox returns the union of the ranges of rows [r, r+mr), a tile of a
// family of fmr rows whose tiles start at row r0. The full tiles' unions
// are computed once a call of mulRows, for every block and column.
func (bs *bandScratch) tileBox(band *Band, r0, r, mr, fmr int) box {
	union := func(q, e int) box {
		u := band.box(q)
		for i := q + 1; i < e; i++ {
			u = u.union(band.box(i))
		}
		return u
	}
	if mr < fmr { // the last, shorter tile
		return union(r, r+mr)
	}
	if bs.tileMR != fmr || bs.r0 != r0 {
		bs.tiles, bs.tileMR, bs.r0 = bs.tiles[:0], fmr, r0
	}
	i := (r - r0) / fmr
	for len(bs.tiles) <= i {
		q := r0 + len(bs.tiles)*fmr
		bs.tiles = append(bs.tiles, union(q, q+fmr))
	}
	return bs.tiles[i]
}

// steps returns the block's steps whose keys lie in box u, or nil when
// that is every step: off are the block's offsets, ld B's row stride.
func (bs *bandScratch) steps(u box, off []int32, ld int) *bandSub {
	if u.holds(bs.all) {
		return nil
	}
	if bs.last < len(bs.subs) && bs.subs[bs.last].box == u {
		return &bs.subs[bs.last]
	}
	for i := range bs.subs {
		if bs.subs[i].box == u {
			bs.last = i
			return &bs.subs[i]
		}
	}
	var sub bandSub
	if l := len(bs.free); l > 0 {
		sub, bs.free = bs.free[l-1], bs.free[:l-1]
	}
	sub.box, sub.off, sub.bOff = u, sub.off[:0], sub.bOff[:0]
	for t, key := range bs.keys {
		if u.lo <= key && key < u.hi && (bs.key2 == nil || u.lo2 <= bs.key2[t] && bs.key2[t] < u.hi2) {
			sub.off = append(sub.off, off[t])
			sub.bOff = append(sub.bOff, int32(t*ld))
		}
	}
	bs.subs = append(bs.subs, sub)
	bs.last = len(bs.subs) - 1
	return &bs.subs[bs.last]
}

// check panics unless the operands hold every element Mul reads or writes.
func check(m, n, k int, a A, b B, c C) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative size %d×%d×%d", m, n, k))
	}
	if m == 0 || n == 0 {
		return
	}
	if b.Ld < n || c.Ld < n {
		panic(fmt.Sprintf("gemm: leading dimensions b %d, c %d below n = %d", b.Ld, c.Ld, n))
	}
	if len(c.Data) < (m-1)*c.Ld+n {
		panic(fmt.Sprintf("gemm: C holds %d values, needs %d", len(c.Data), (m-1)*c.Ld+n))
	}
	if k == 0 {
		return
	}
	if a.Band != nil && b.Ld > math.MaxInt32/KC {
		// A band's kept steps name their B rows by 32-bit offsets within
		// a block of KC rows.
		panic(fmt.Sprintf("gemm: B's rows %d values apart, too far for a band (at most %d)", b.Ld, math.MaxInt32/KC))
	}
	if len(b.Data) < (k-1)*b.Ld+n {
		panic(fmt.Sprintf("gemm: B holds %d values, needs %d", len(b.Data), (k-1)*b.Ld+n))
	}
	if len(a.Off) < k || len(a.Row) < m {
		panic(fmt.Sprintf("gemm: A has %d step and %d row offsets, needs %d and %d", len(a.Off), len(a.Row), k, m))
	}
	if bd := a.Band; bd != nil && (len(bd.Key) < k || len(bd.Lo) < m || len(bd.Hi) < m ||
		bd.Key2 != nil && (len(bd.Key2) < k || len(bd.Lo2) < m || len(bd.Hi2) < m)) {
		panic(fmt.Sprintf("gemm: A's band has %d, %d keys and %d, %d, %d, %d ranges, needs %d and %d",
			len(bd.Key), len(bd.Key2), len(bd.Lo), len(bd.Hi), len(bd.Lo2), len(bd.Hi2), k, m))
	}
	lo, hi := bounds(a.Off[:k])
	rlo, rhi := bounds(a.Row[:m])
	if lo+rlo < 0 || hi+rhi >= int64(len(a.Data)) {
		panic(fmt.Sprintf("gemm: A's offsets reach [%d, %d], outside its %d values", lo+rlo, hi+rhi, len(a.Data)))
	}
}

// bounds returns the smallest and largest value of o (not empty).
func bounds(o []int32) (lo, hi int64) {
	lo, hi = int64(o[0]), int64(o[0])
	for _, v := range o[1:] {
		lo, hi = min(lo, int64(v)), max(hi, int64(v))
	}
	return lo, hi
}

// Steps returns the offsets 0, s, 2s, …, (k−1)·s: A's Off for a row-major
// matrix (s = 1) or a transposed one (s = its leading dimension), and Row
// likewise. dst is reused when it has the capacity.
func Steps(dst []int32, k, s int) []int32 {
	if cap(dst) < k {
		dst = make([]int32, k)
	}
	dst = dst[:k]
	for i := range dst {
		dst[i] = int32(i * s)
	}
	return dst
}

// Ref is the slow, obvious reference of Mul: the same formula, sums in
// float64.
func Ref(acc bool, m, n, k int, a A, b B, c C) {
	check(m, n, k, a, b, c)
	for r := 0; r < m; r++ {
		for j := 0; j < n; j++ {
			var s float64
			for t := 0; t < k; t++ {
				s += float64(a.Data[int(a.Off[t])+int(a.Row[r])]) * float64(b.Data[t*b.Ld+j])
			}
			if acc {
				s += float64(c.Data[r*c.Ld+j])
			}
			c.Data[r*c.Ld+j] = float32(s)
		}
	}
}
