package sphere

import "math"

// pcaGramFloor is the smallest Rayleigh quotient bᵀGb/bᵀb of the Gram
// matrix G = UUᵀ/R that gramAxes lets a direction w = Uᵀb have before it
// counts as vanished (as the reference's orthonormalizeCols counts a
// vector that shrinks below 1e-10 of its length). gramAxes measures
// lengths through G, |w|² = R·bᵀGb, a quadratic form whose rounding error
// is at worst about R·ε·bᵀb (|G_ij| ≤ 1 for unit rows): 1.1e-13·bᵀb for
// R = 512, below which a length is noise. 1e-9 keeps four orders of
// magnitude above that, and an axis with a billionth of the second moment
// does not show on the sphere anyway.
const pcaGramFloor = 1e-9

// gramAxes finds the same axes as covarianceAxes, from the same R unit rows
// u and orthonormal start v, without forming the D×D matrix M = UᵀU/R. Every
// iterate after the first lies in the row space of U, so it keeps the
// coefficients a of v = Uᵀa, and the products and inner products of the
// iteration go through the R×R matrix P = UUᵀ:
//
//	M·v = Uᵀ(P·a)/R,   v·v' = aᵀ·P·a',   vᵀ·M·v' = (P·a)·(P·a')/R
//
// Forming P takes R²·D/2 multiply-adds, each iteration 3·R², and going in
// and out of coefficients 3·R·D each way, against R·D²/2 and 3·D² for M; it
// is the faster of the two when R ≤ D. The iterates are those of
// covarianceAxes in exact arithmetic, the first (M·v from the start v,
// which need not lie in the row space) included, so the two agree even
// where 300 iterations leave the subspace unsettled.
//
// Fewer than three directions above pcaGramFloor leave spare slots; the
// spare axes are filled as orthonormalizeCols fills a vanished vector (the
// first coordinate axis independent of the others), with Var 0. The signs
// are left to the caller.
func gramAxes(u []float64, rows, d int, v [3][]float64) *Basis {
	r := rows
	b := &Basis{D: d}
	p := make([]float64, r*r)
	gramOf(p, u, r, d)
	for i := range r {
		b.Total += p[i*r+i]
	}
	if r > 0 {
		b.Total /= float64(r)
	}

	// Slot k holds the coefficients a_k of v_k and h_k = P·a_k; the live
	// slots come first.
	var a, h, na, nh [3][]float64
	for k := range 3 {
		a[k], h[k], na[k], nh[k] = make([]float64, r), make([]float64, r), make([]float64, r), make([]float64, r)
	}
	live := 3
	for iter := 0; iter < pcaMaxIter; iter++ {
		for k := range live {
			if iter == 0 { // M·v_k = Uᵀ(U·v_k)/R for the start v_k
				for i := range r {
					na[k][i] = dot4(u[i*d:(i+1)*d], v[k]) / float64(r)
				}
			} else {
				for i := range r {
					na[k][i] = h[k][i] / float64(r)
				}
			}
		}
		mulGram(&nh, p, &na, live)
		n := orthonormalizeGram(&na, &nh, live)
		// Σ cos² of the principal angles between the live slots of the
		// iterates (the first's start is not in coefficients, and the
		// reference skips that test too).
		var overlap float64
		if iter > 0 {
			for i := range live {
				for k := range n {
					c := dot(h[i], na[k])
					overlap += c * c
				}
			}
		}
		a, na = na, a
		h, nh = nh, h
		done := iter > 0 && n == live && float64(live)-overlap < pcaTol
		live = n
		if done {
			break
		}
	}

	// Rayleigh–Ritz on the live slots; a spare slot gets −1 on the diagonal
	// so that it sorts last.
	var t [3][3]float64
	for i := range 3 {
		for k := range 3 {
			switch {
			case i < live && k < live:
				t[i][k] = dot(h[i], h[k]) / float64(r)
			case i == k:
				t[i][k] = -1
			}
		}
	}
	vals, vecs := jacobiEigen3(t)
	coef := make([]float64, r)
	for k := range 3 {
		b.Axes[k] = make([]float64, d)
		if k >= live {
			continue // filled below
		}
		for l := range r {
			coef[l] = 0
			for i := range live {
				coef[l] += vecs[i][k] * a[i][l]
			}
		}
		axis := b.Axes[k]
		for l := range r {
			c, ul := coef[l], u[l*d:(l+1)*d]
			for j := range axis {
				axis[j] += c * ul[j]
			}
		}
		b.Var[k] = math.Max(0, vals[k])
	}
	orthonormalizeCols(b.Axes) // the spare axes, and the live ones to the last bit
	return b
}

// orthonormalizeGram makes the first n slots of b orthonormal in the inner
// product x·y = xᵀPy (that of Uᵀx and Uᵀy), by modified Gram–Schmidt twice
// as orthonormalizeCols does, keeping h_k = P·b_k alongside. A slot that
// vanishes (below 1e-10 of its length, as there, or below pcaGramFloor) is
// dropped; the survivors move to the front, and their count is returned.
func orthonormalizeGram(b, h *[3][]float64, n int) int {
	r := len(b[0])
	live := 0
	for k := range n {
		bk, hk := b[k], h[k]
		before := dot(bk, hk)
		for range 2 {
			for i := range live {
				c := dot(b[i], hk)
				bi, hi := b[i], h[i]
				for j := range bk {
					bk[j] -= c * bi[j]
					hk[j] -= c * hi[j]
				}
			}
		}
		nrm2 := dot(bk, hk)
		if !(nrm2 > 1e-20*before) || !(nrm2 > pcaGramFloor*float64(r)*dot(bk, bk)) {
			continue
		}
		inv := 1 / math.Sqrt(nrm2)
		for j := range bk {
			bk[j] *= inv
			hk[j] *= inv
		}
		b[live], b[k] = b[k], b[live]
		h[live], h[k] = h[k], h[live]
		live++
	}
	return live
}

// dot4 is dot with four partial sums, for the long products of the Gram
// path: the same sum in another order (so rounding differs from dot's), at
// up to four times the speed where one chain of float64 adds waits on the
// adder's latency, as it does natively and in wasm alike.
func dot4(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// gramOf fills the R×R row-major P = UUᵀ of the R×D row-major u, in 2×2
// blocks: four products from four loads, where a dot product takes two.
func gramOf(p, u []float64, r, d int) {
	set := func(i, j int, s float64) { p[i*r+j], p[j*r+i] = s, s }
	i := 0
	for ; i+2 <= r; i += 2 {
		a0 := u[i*d : (i+1)*d]
		a1 := u[(i+1)*d : (i+2)*d][:len(a0)]
		j := i
		for ; j+2 <= r; j += 2 {
			b0 := u[j*d : (j+1)*d][:len(a0)]
			b1 := u[(j+1)*d : (j+2)*d][:len(a0)]
			var s00, s01, s10, s11 float64
			for k, x0 := range a0 {
				x1, y0, y1 := a1[k], b0[k], b1[k]
				s00 += x0 * y0
				s01 += x0 * y1
				s10 += x1 * y0
				s11 += x1 * y1
			}
			set(i, j, s00)
			set(i, j+1, s01)
			set(i+1, j, s10)
			set(i+1, j+1, s11)
		}
		if j < r {
			b0 := u[j*d : (j+1)*d]
			set(i, j, dot4(a0, b0))
			set(i+1, j, dot4(a1, b0))
		}
	}
	if i < r {
		a := u[i*d : (i+1)*d]
		set(i, i, dot4(a, a))
	}
}

// mulGram writes P·x_k to dst_k for the first n of the three vectors x,
// with the R×R row-major matrix P. With all three it reads each row of P
// once for the three products, two entries at a time.
func mulGram(dst *[3][]float64, p []float64, x *[3][]float64, n int) {
	r := len(x[0])
	if n < 3 {
		for k := range n {
			for i := range r {
				dst[k][i] = dot4(p[i*r:(i+1)*r], x[k])
			}
		}
		return
	}
	x0, x1, x2 := x[0][:r], x[1][:r], x[2][:r]
	for i := range r {
		row := p[i*r : (i+1)*r]
		var s0, s1, s2, t0, t1, t2 float64
		j := 0
		for ; j+2 <= r; j += 2 {
			a, b := row[j], row[j+1]
			s0 += a * x0[j]
			s1 += a * x1[j]
			s2 += a * x2[j]
			t0 += b * x0[j+1]
			t1 += b * x1[j+1]
			t2 += b * x2[j+1]
		}
		if j < r {
			a := row[j]
			s0 += a * x0[j]
			s1 += a * x1[j]
			s2 += a * x2[j]
		}
		dst[0][i], dst[1][i], dst[2][i] = s0+t0, s1+t1, s2+t2
	}
}
