package core

// Single-precision matrix products for the fused training ops (fastops*.go).
//
// They are written for GOOS=js GOARCH=wasm, where Go has no SIMD, 16
// float32 registers, and every loop back-edge goes through the function's
// dispatch table: the micro-kernel keeps a 2×4 block of C in registers
// (8 accumulators plus 6 operands, no spills), reads B from a packed k×4
// panel and unrolls the reduction loop by four. Sums accumulate in float32, as in a BLAS sgemm; the callers keep
// reductions short (one image at a time) where that matters.
//
// All matrices are row-major with explicit leading dimensions; the naming
// follows BLAS: NT is C = A·Bᵀ (both operands contiguous along the reduction),
// NN is C = A·B.

// gemmKC is the reduction depth of one packed panel of B.
const gemmKC = 256

// gemmNT32 computes
//
//	C = A·Bᵀ        (acc false)
//	C = C + A·Bᵀ    (acc true)
//
// with A m×k (row stride lda), B n×k (row stride ldb) and C m×n (row stride
// ldc). It panics if a slice is too short.
func gemmNT32(acc bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	checkGemm(m, n, k, len(a), lda, len(b), n, ldb, k, len(c), ldc)
	gemm32(acc, m, n, k, a, lda, bMat{data: b, ld: ldb, trans: true}, c, ldc)
}

// gemmNN32 computes
//
//	C = A·B        (acc false)
//	C = C + A·B    (acc true)
//
// with A m×k (row stride lda), B k×n (row stride ldb) and C m×n (row stride
// ldc). It panics if a slice is too short.
func gemmNN32(acc bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	checkGemm(m, n, k, len(a), lda, len(b), k, ldb, n, len(c), ldc)
	gemm32(acc, m, n, k, a, lda, bMat{data: b, ld: ldb}, c, ldc)
}

// bMat describes the right operand of gemm32 as op(B), k×n:
//
//	plain, not trans:  op(B)[p,j] = data[p·ld + j]
//	plain, trans:      op(B)[p,j] = data[j·ld + p]
//	gather, not trans: op(B)[p,j] = data[rowOff[p] + colOff[j]]
//	gather, trans:     op(B)[p,j] = data[rowOff[j] + colOff[p]]
//
// In the gather, not trans form, every aligned block of four columns must be
// contiguous: colOff[4t+e] = colOff[4t] + e.
//
// The gather forms read an im2col matrix straight from the image
// (fastops_conv.go) without writing it out.
type bMat struct {
	data           []float32
	ld             int
	trans          bool
	rowOff, colOff []int32 // gather tables; nil for a plain matrix
}

// packTo writes the k×4 panel pk[4p+e] = op(B)[k0+p, j+e], p < len(pk)/4.
func (b *bMat) packTo(pk []float32, k0, j int) {
	kc := len(pk) / 4
	switch {
	case b.rowOff == nil && b.trans:
		b0 := b.data[j*b.ld+k0:][:kc]
		b1 := b.data[(j+1)*b.ld+k0:][:kc]
		b2 := b.data[(j+2)*b.ld+k0:][:kc]
		b3 := b.data[(j+3)*b.ld+k0:][:kc]
		for p := range b0 {
			q := pk[4*p : 4*p+4 : 4*p+4]
			q[0], q[1], q[2], q[3] = b0[p], b1[p], b2[p], b3[p]
		}
	case b.rowOff == nil:
		for p := 0; p < kc; p++ {
			r := b.data[(k0+p)*b.ld+j:][:4:4]
			q := pk[4*p : 4*p+4 : 4*p+4]
			q[0], q[1], q[2], q[3] = r[0], r[1], r[2], r[3]
		}
	case b.trans:
		r0, r1, r2, r3 := int(b.rowOff[j]), int(b.rowOff[j+1]), int(b.rowOff[j+2]), int(b.rowOff[j+3])
		for p, o := range b.colOff[k0 : k0+kc] {
			q := pk[4*p : 4*p+4 : 4*p+4]
			q[0], q[1], q[2], q[3] = b.data[r0+int(o)], b.data[r1+int(o)], b.data[r2+int(o)], b.data[r3+int(o)]
		}
	default:
		co := int(b.colOff[j])
		for p, o := range b.rowOff[k0 : k0+kc] {
			r := b.data[int(o)+co:][:4:4]
			q := pk[4*p : 4*p+4 : 4*p+4]
			q[0], q[1], q[2], q[3] = r[0], r[1], r[2], r[3]
		}
	}
}

// at returns op(B)[p, j].
func (b *bMat) at(p, j int) float32 {
	switch {
	case b.rowOff == nil && b.trans:
		return b.data[j*b.ld+p]
	case b.rowOff == nil:
		return b.data[p*b.ld+j]
	case b.trans:
		return b.data[int(b.rowOff[j])+int(b.colOff[p])]
	default:
		return b.data[int(b.rowOff[p])+int(b.colOff[j])]
	}
}

// gemm32 computes C (+)= A·op(B). For every block of four columns of C and
// gemmKC steps of the reduction it packs op(B) into a k×4 panel on the
// stack, then sweeps the rows of A over it two at a time.
func gemm32(acc bool, m, n, k int, a []float32, lda int, b bMat, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !acc {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	var panel [4 * gemmKC]float32
	for k0 := 0; k0 < k; k0 += gemmKC {
		kc := min(gemmKC, k-k0)
		accK := acc || k0 > 0
		pk := panel[:4*kc]
		j := 0
		for ; j+4 <= n; j += 4 {
			b.packTo(pk, k0, j)
			i := 0
			for ; i+2 <= m; i += 2 {
				kernPanel2x4(accK, a[i*lda+k0:][:kc], a[(i+1)*lda+k0:][:kc], pk,
					c[i*ldc+j:][:4], c[(i+1)*ldc+j:][:4])
			}
			if i < m {
				kernPanel1x4(accK, a[i*lda+k0:][:kc], pk, c[i*ldc+j:][:4])
			}
		}
		if j < n { // the last n mod 4 columns, through a zero-padded panel
			r := n - j
			for p := 0; p < kc; p++ {
				for e := 0; e < 4; e++ {
					var v float32
					if e < r {
						v = b.at(k0+p, j+e)
					}
					pk[4*p+e] = v
				}
			}
			var t0, t1 [4]float32
			for i := 0; i < m; i += 2 {
				c0 := c[i*ldc+j:][:r]
				copy(t0[:], c0)
				if i+1 < m {
					c1 := c[(i+1)*ldc+j:][:r]
					copy(t1[:], c1)
					kernPanel2x4(accK, a[i*lda+k0:][:kc], a[(i+1)*lda+k0:][:kc], pk, t0[:], t1[:])
					copy(c1, t1[:])
				} else {
					kernPanel1x4(accK, a[i*lda+k0:][:kc], pk, t0[:])
				}
				copy(c0, t0[:])
			}
		}
	}
}

// kernPanel2x4 computes the 2×4 block
//
//	c_r[j] (+)= Σ_p a_r[p]·pk[4p+j],   r < 2, j < 4,
//
// pk a k×4 panel. The reduction loop is unrolled by four: under wasm every
// loop iteration costs a trip through the function's dispatch table.
func kernPanel2x4(acc bool, a0, a1, pk []float32, c0, c1 []float32) {
	k := len(a0)
	a1, pk = a1[:k], pk[:4*k]
	var s00, s01, s02, s03, s10, s11, s12, s13 float32
	for len(a0) >= 4 && len(a1) >= 4 && len(pk) >= 16 {
		x, z, b := a0[:4:4], a1[:4:4], pk[:16:16]
		x0, x1 := x[0], z[0]
		y0, y1, y2, y3 := b[0], b[1], b[2], b[3]
		s00 += x0 * y0
		s01 += x0 * y1
		s02 += x0 * y2
		s03 += x0 * y3
		s10 += x1 * y0
		s11 += x1 * y1
		s12 += x1 * y2
		s13 += x1 * y3
		x0, x1 = x[1], z[1]
		y0, y1, y2, y3 = b[4], b[5], b[6], b[7]
		s00 += x0 * y0
		s01 += x0 * y1
		s02 += x0 * y2
		s03 += x0 * y3
		s10 += x1 * y0
		s11 += x1 * y1
		s12 += x1 * y2
		s13 += x1 * y3
		x0, x1 = x[2], z[2]
		y0, y1, y2, y3 = b[8], b[9], b[10], b[11]
		s00 += x0 * y0
		s01 += x0 * y1
		s02 += x0 * y2
		s03 += x0 * y3
		s10 += x1 * y0
		s11 += x1 * y1
		s12 += x1 * y2
		s13 += x1 * y3
		x0, x1 = x[3], z[3]
		y0, y1, y2, y3 = b[12], b[13], b[14], b[15]
		s00 += x0 * y0
		s01 += x0 * y1
		s02 += x0 * y2
		s03 += x0 * y3
		s10 += x1 * y0
		s11 += x1 * y1
		s12 += x1 * y2
		s13 += x1 * y3
		a0, a1, pk = a0[4:], a1[4:], pk[16:]
	}
	for len(a0) >= 1 && len(a1) >= 1 && len(pk) >= 4 {
		x0, x1 := a0[0], a1[0]
		y0, y1, y2, y3 := pk[0], pk[1], pk[2], pk[3]
		s00 += x0 * y0
		s01 += x0 * y1
		s02 += x0 * y2
		s03 += x0 * y3
		s10 += x1 * y0
		s11 += x1 * y1
		s12 += x1 * y2
		s13 += x1 * y3
		a0, a1, pk = a0[1:], a1[1:], pk[4:]
	}
	c0, c1 = c0[:4:4], c1[:4:4]
	if acc {
		s00 += c0[0]
		s01 += c0[1]
		s02 += c0[2]
		s03 += c0[3]
		s10 += c1[0]
		s11 += c1[1]
		s12 += c1[2]
		s13 += c1[3]
	}
	c0[0], c0[1], c0[2], c0[3] = s00, s01, s02, s03
	c1[0], c1[1], c1[2], c1[3] = s10, s11, s12, s13
}

// kernPanel1x4 is kernPanel2x4 for a single row.
func kernPanel1x4(acc bool, a0, pk []float32, c0 []float32) {
	pk = pk[:4*len(a0)]
	var s0, s1, s2, s3 float32
	for p, x := range a0 {
		y := pk[4*p : 4*p+4 : 4*p+4]
		s0 += x * y[0]
		s1 += x * y[1]
		s2 += x * y[2]
		s3 += x * y[3]
	}
	c0 = c0[:4:4]
	if acc {
		s0 += c0[0]
		s1 += c0[1]
		s2 += c0[2]
		s3 += c0[3]
	}
	c0[0], c0[1], c0[2], c0[3] = s0, s1, s2, s3
}

// gemmRef is the slow, obvious reference for gemmNT32 and gemmNN32:
//
//	C = (acc ? C : 0) + op(A)·op(B),   op(X) = X or Xᵀ,
//
// with op(A) m×k and op(B) k×n stored row-major with strides lda and ldb.
// It accumulates in float64.
func gemmRef[T float32 | float64](acc, transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				ai, bi := i*lda+p, p*ldb+j
				if transA {
					ai = p*lda + i
				}
				if transB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				s += float64(av) * float64(bv)
			}
			if acc {
				s += float64(c[i*ldc+j])
			}
			c[i*ldc+j] = T(s)
		}
	}
}

// checkGemm panics unless a holds an m×k matrix with row stride lda, b an
// rb×cb matrix with row stride ldb, and c an m×n matrix with row stride ldc.
func checkGemm(m, n, k, la, lda, lb, rb, ldb, cb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("core: negative matrix dimension")
	}
	if lda < k || ldb < cb || ldc < n {
		panic("core: leading dimension smaller than row length")
	}
	if (m > 0 && k > 0 && la < (m-1)*lda+k) || (rb > 0 && cb > 0 && lb < (rb-1)*ldb+cb) || (m > 0 && n > 0 && lc < (m-1)*ldc+n) {
		panic("core: matrix slice too short")
	}
}
