package sphere

import (
	"math"
	"math/rand/v2"
)

// Basis is an orthonormal basis of the three principal axes of a set of
// D-dimensional embeddings, the world axes of the viewer for D > 3.
type Basis struct {
	D     int
	Axes  [3][]float64 // unit vectors of length D
	Var   [3]float64   // mean squared projection of the unit embeddings on each axis (its eigenvalue, but after alignTo)
	Total float64      // trace of the second-moment matrix: the fraction of the embeddings' energy that the axes keep is Σ Var / Total
}

// Explained returns the fraction of the embeddings' second moment that the
// three axes keep, Σ Var / Total, in [0, 1].
func (b *Basis) Explained() float64 {
	if b.Total == 0 {
		return 0
	}
	return (b.Var[0] + b.Var[1] + b.Var[2]) / b.Total
}

// PCA parameters. Subspace iteration converges geometrically at the ratio
// of the fourth to the third eigenvalue; pcaMaxIter bounds the work when
// they are nearly equal, and a basis that good is good enough to look at.
// The second-moment matrix is estimated from at most pcaMaxRows rows,
// evenly spaced through the snapshot: 512 directions pin three axes down
// well enough to look at.
const (
	pcaMaxIter = 300
	pcaTol     = 1e-15 // Σ sin² of the principal angles between iterates
	pcaMaxRows = 512
)

// PrincipalAxes returns the three principal axes of the N rows of the
// row-major N×D matrix x (D > 3), found by subspace iteration on the D×D
// second-moment matrix of the rows normalised to unit length, followed by
// a Rayleigh–Ritz step:
//
//	M = (1/N) Σ_i u_i u_iᵀ,  u_i = x_i/|x_i|   (rows with x_i = 0 are skipped)
//	V ← orth(M·V) until span V settles;  M·v_k = λ_k·v_k,  λ_1 ≥ λ_2 ≥ λ_3
//
// M is not centred: the viewer draws directions from the origin, which is
// what a cosine metric compares, and a cloud gathered in one cap of the
// sphere must keep the direction of that cap (Jolliffe, Principal Component
// Analysis, 2nd ed., §14.2.3, on uncentred PCA). Sums are in float64, over
// at most pcaMaxRows rows evenly spaced through x.
//
// With R sampled rows, M = UᵀU/R for the R×D matrix U of the unit rows.
// When R ≤ D (a 4096-D model, say) it never forms M: gramAxes runs the same
// iteration on the R×R Gram matrix UUᵀ instead (R²·D/2 multiply-adds rather
// than R·D²/2, and R² rather than D² per product; at R = D its blocked loops
// still make it the faster); covarianceAxes, the plain reference, forms M.
// The two agree to rounding, or to the precision of the stopping test where
// the iteration settles (TestGramMatchesCovariance), but for spare axes:
// where the data span fewer than three directions, the reference's spare
// axes are rounding noise and the Gram path's coordinate axes.
//
// The signs (and order) of the axes follow a convention so that the picture
// does not flip between snapshots: without prev, each axis has its entry of
// largest magnitude positive; with a previous basis prev of the same D, the
// axes are turned within their span to those nearest prev's (alignTo), so
// that the picture does not turn either, and Var is what each turned axis
// keeps. Subspace iteration also starts from prev, so it usually takes a
// few iterations. Fewer than 3 independent directions leave spare axes
// orthonormal to the others with Var 0, unless alignTo turns them with the
// others (a previous basis of another span): then the turned axes share
// the variance, each Var what its axis keeps, together what the axes keep
// without prev.
//
// It panics if D ≤ 3 or len(x) is not a multiple of D.
func PrincipalAxes(x []float32, d int, prev *Basis) *Basis {
	return principalAxes(x, d, prev, pcaAuto)
}

// pcaMethod says how principalAxes finds the axes.
type pcaMethod int

const (
	pcaAuto       pcaMethod = iota // the Gram matrix when R ≤ D, else the covariance
	pcaCovariance                  // the plain reference: form the D×D matrix M
	pcaGram                        // iterate on the R×R Gram matrix
)

func principalAxes(x []float32, d int, prev *Basis, method pcaMethod) *Basis {
	if d <= 3 {
		panic("sphere: PrincipalAxes needs D > 3")
	}
	if len(x)%d != 0 {
		panic("sphere: PrincipalAxes: len(x) is not a multiple of D")
	}
	u, rows := unitRows(x, d)

	var v [3][]float64
	if prev != nil && prev.D == d {
		for k := range 3 {
			v[k] = append([]float64(nil), prev.Axes[k]...)
		}
	} else {
		rng := rand.New(rand.NewPCG(0x5eed, 3)) // fixed: the same data gives the same axes
		for k := range 3 {
			v[k] = make([]float64, d)
			for j := range v[k] {
				v[k][j] = rng.NormFloat64()
			}
		}
	}
	orthonormalizeCols(v)

	var b *Basis
	if method == pcaGram || method == pcaAuto && rows <= d {
		b = gramAxes(u, rows, d, v)
	} else {
		b = covarianceAxes(u, rows, d, v)
	}
	if prev != nil && prev.D == d {
		alignTo(b, prev)
	} else {
		for k := range 3 {
			if largestEntry(b.Axes[k]) < 0 {
				negate(b.Axes[k])
			}
		}
	}
	return b
}

// unitRows returns the rows of x that principalAxes uses, at most
// pcaMaxRows evenly spaced ones, normalised to unit length in float64, as
// the rows of a row-major R×D matrix, and R. Zero and non-finite rows are
// left out.
func unitRows(x []float32, d int) (u []float64, rows int) {
	n := len(x) / d
	stride := max(1, (n+pcaMaxRows-1)/pcaMaxRows)
	u = make([]float64, 0, min(n, pcaMaxRows)*d)
	for i := 0; i < n; i += stride {
		row := x[i*d : (i+1)*d]
		at := len(u)
		var ss float64
		for _, v := range row {
			u = append(u, float64(v))
			ss += float64(v) * float64(v)
		}
		if ss == 0 || math.IsNaN(ss) || math.IsInf(ss, 0) {
			u = u[:at]
			continue
		}
		inv := 1 / math.Sqrt(ss)
		for j := at; j < len(u); j++ {
			u[j] *= inv
		}
		rows++
	}
	return u, rows
}

// covarianceAxes is the plain reference of principalAxes: it forms the D×D
// matrix M of the R unit rows u (summing the upper triangle, R·D²/2
// multiply-adds) and runs subspace iteration on it from the orthonormal
// start v, then the Rayleigh–Ritz step. The signs are left to the caller.
func covarianceAxes(u []float64, rows, d int, v [3][]float64) *Basis {
	m := make([]float64, d*d) // upper triangle, then mirrored
	for i := range rows {
		ui := u[i*d : (i+1)*d]
		for a := range d {
			ua := ui[a]
			if ua == 0 {
				continue
			}
			ma, ub := m[a*d+a:(a+1)*d], ui[a:]
			for k, v := range ub {
				ma[k] += ua * v
			}
		}
	}
	b := &Basis{D: d}
	if rows > 0 {
		for a := range d {
			for c := a; c < d; c++ {
				m[a*d+c] /= float64(rows)
				m[c*d+a] = m[a*d+c]
			}
			b.Total += m[a*d+a]
		}
	}

	w := [3][]float64{make([]float64, d), make([]float64, d), make([]float64, d)}
	for iter := 0; iter < pcaMaxIter; iter++ {
		for k := range 3 {
			symMulVec(w[k], m, v[k])
		}
		orthonormalizeCols(w)
		// Σ sin² of the principal angles between span v and span w.
		var overlap float64
		for i := range 3 {
			for k := range 3 {
				c := dot(v[i], w[k])
				overlap += c * c
			}
		}
		v, w = w, v
		if iter > 0 && 3-overlap < pcaTol {
			break
		}
	}

	// Rayleigh–Ritz: the eigenvectors of T = Vᵀ M V rotate V onto the axes.
	var t [3][3]float64
	for k := range 3 {
		symMulVec(w[k], m, v[k])
	}
	for i := range 3 {
		for k := range 3 {
			t[i][k] = dot(v[i], w[k])
		}
	}
	vals, vecs := jacobiEigen3(t)
	for k := range 3 {
		axis := make([]float64, d)
		for i := range 3 {
			c := vecs[i][k]
			for j := range axis {
				axis[j] += c * v[i][j]
			}
		}
		b.Axes[k] = axis
		b.Var[k] = math.Max(0, vals[k])
	}
	return b
}

// alignTo turns b's axes within their span to those nearest prev's, the
// orthogonal Procrustes rotation (Schönemann 1966): with A and P the D×3
// matrices of b's and prev's axes,
//
//	M = AᵀP = U·Σ·Vᵀ,  A ← A·U·Vᵀ,  Var_k ← Σ_i (U·Vᵀ)_ik² · Var_i
//
// so that where the three variances are nearly equal (classes spread
// evenly, say) the picture does not turn from one snapshot to the next with
// the arbitrary eigenvectors of a nearly round cloud; the span, and so what
// is drawn, is the principal one. Σ and V are the eigenvalues and vectors
// of MᵀM, u_k = M·v_k/σ_k for the two largest σ and u_3 = u_1×u_2 signed
// to agree with M·v_3. Where the spans share fewer than two directions
// (σ_2 < procrustesFloor) the axes are matched one to one instead (the
// permutation with the largest Σ|a_k·p_k|) and signed like their matches.
func alignTo(b, prev *Basis) {
	var m [3][3]float64 // m[i][k] = b_i · prev_k
	for i := range 3 {
		for k := range 3 {
			m[i][k] = dot(b.Axes[i], prev.Axes[k])
		}
	}
	var mtm [3][3]float64
	for i := range 3 {
		for k := range 3 {
			mtm[i][k] = m[0][i]*m[0][k] + m[1][i]*m[1][k] + m[2][i]*m[2][k]
		}
	}
	sig2, v := jacobiEigen3(mtm)
	if !(sig2[1] > procrustesFloor*procrustesFloor) {
		matchTo(b, prev)
		return
	}
	var u [3]Vec3
	for k := range 2 {
		mv := Apply(Mat3(m), Vec3{v[0][k], v[1][k], v[2][k]})
		if k == 1 {
			c := Dot(mv, u[0])
			mv = Vec3{mv[0] - c*u[0][0], mv[1] - c*u[0][1], mv[2] - c*u[0][2]}
		}
		u[k] = Normalize(mv)
	}
	u[2] = Cross(u[0], u[1])
	if Dot(u[2], Apply(Mat3(m), Vec3{v[0][2], v[1][2], v[2][2]})) < 0 {
		u[2] = Vec3{-u[2][0], -u[2][1], -u[2][2]}
	}
	var q [3][3]float64 // q = U·Vᵀ
	for i := range 3 {
		for k := range 3 {
			q[i][k] = u[0][i]*v[k][0] + u[1][i]*v[k][1] + u[2][i]*v[k][2]
		}
	}
	var axes [3][]float64
	var vars [3]float64
	for k := range 3 {
		axes[k] = make([]float64, b.D)
		for i := range 3 {
			for j, a := range b.Axes[i] {
				axes[k][j] += q[i][k] * a
			}
			vars[k] += q[i][k] * q[i][k] * b.Var[i]
		}
	}
	b.Axes, b.Var = axes, vars
	orthonormalizeCols(b.Axes)
}

// procrustesFloor is the smallest second singular value of AᵀP (alignTo)
// that the rotation is taken from: below it the spans of the two bases
// share about one direction only, and u_2 = M·v_2/σ_2 would be rounding
// noise magnified by more than 1e6.
const procrustesFloor = 1e-6

// matchTo permutes and signs b's axes to match prev's one to one.
func matchTo(b, prev *Basis) {
	var c [3][3]float64 // c[i][k] = |b_i · prev_k|
	for i := range 3 {
		for k := range 3 {
			c[i][k] = math.Abs(dot(b.Axes[i], prev.Axes[k]))
		}
	}
	perms := [6][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	best, bestScore := perms[0], -1.0
	for _, p := range perms { // p[k] = which new axis goes to slot k
		s := c[p[0]][0] + c[p[1]][1] + c[p[2]][2]
		if s > bestScore+1e-12 {
			best, bestScore = p, s
		}
	}
	axes, vars := b.Axes, b.Var
	for k := range 3 {
		b.Axes[k], b.Var[k] = axes[best[k]], vars[best[k]]
		if dot(b.Axes[k], prev.Axes[k]) < 0 {
			negate(b.Axes[k])
		}
	}
}

// ProjectTo places the N rows of the row-major N×D matrix x on the unit
// sphere through the basis: the coordinates on the three axes, normalised,
//
//	p_i = (x_i·a_1, x_i·a_2, x_i·a_3) / |(x_i·a_1, x_i·a_2, x_i·a_3)|
//
// and writes them to dst, which it grows as needed, and returns dst[:N].
// A row with no component on the axes is placed at the origin. It panics if
// len(x) is not a multiple of b.D.
func (b *Basis) ProjectTo(dst []Vec3, x []float32) []Vec3 {
	if len(x)%b.D != 0 {
		panic("sphere: Basis.ProjectTo: len(x) is not a multiple of D")
	}
	n := len(x) / b.D
	dst = growVec3(dst, n)
	for i := range n {
		row := x[i*b.D : (i+1)*b.D]
		var p Vec3
		for k := range 3 {
			var s float64 // float64 accumulation of float32 inputs
			for j, a := range b.Axes[k] {
				s += float64(row[j]) * a
			}
			p[k] = s
		}
		dst[i] = Normalize(p)
	}
	return dst
}

// PlaceTo places the N rows of the row-major N×D matrix x on the unit
// sphere of the viewer and writes them to dst, which it grows as needed,
// returning dst[:N]:
//
//	D = 1:  (x_i, 0, 0)/|x_i|  (the two ends of the unit circle's diameter)
//	D = 2:  (x_i1, x_i2, 0)/|x_i|, the unit circle in the z = 0 plane
//	D = 3:  x_i/|x_i|
//	D > 3:  b.ProjectTo (b must be the PrincipalAxes of D)
//
// Zero rows are placed at the origin. It panics if D < 1, if len(x) is not a
// multiple of D, or if D > 3 and b is nil or of another dimension.
func PlaceTo(dst []Vec3, x []float32, d int, b *Basis) []Vec3 {
	if d < 1 {
		panic("sphere: PlaceTo with D < 1")
	}
	if len(x)%d != 0 {
		panic("sphere: PlaceTo: len(x) is not a multiple of D")
	}
	if d > 3 {
		if b == nil || b.D != d {
			panic("sphere: PlaceTo: D > 3 needs the PrincipalAxes of D")
		}
		return b.ProjectTo(dst, x)
	}
	n := len(x) / d
	dst = growVec3(dst, n)
	for i := range n {
		var p Vec3
		for j := range d {
			p[j] = float64(x[i*d+j])
		}
		dst[i] = Normalize(p)
	}
	return dst
}

func growVec3(dst []Vec3, n int) []Vec3 {
	if cap(dst) < n {
		return make([]Vec3, n)
	}
	return dst[:n]
}

// symMulVec writes m·v to dst for the D×D row-major matrix m.
func symMulVec(dst, m, v []float64) {
	d := len(v)
	for a := range d {
		dst[a] = dot(m[a*d:(a+1)*d], v)
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

func negate(a []float64) {
	for i := range a {
		a[i] = -a[i]
	}
}

// largestEntry returns the entry of a of largest magnitude (the first of
// equals).
func largestEntry(a []float64) float64 {
	var best float64
	for _, x := range a {
		if math.Abs(x) > math.Abs(best) {
			best = x
		}
	}
	return best
}

// orthonormalizeCols makes the three vectors orthonormal by modified
// Gram–Schmidt, twice for accuracy. A vector that vanishes (the data span
// fewer than three directions) is replaced by the first coordinate axis that
// is independent of the ones before it.
func orthonormalizeCols(v [3][]float64) {
	d := len(v[0])
	for k := range 3 {
		before := math.Sqrt(dot(v[k], v[k]))
		for range 2 {
			for i := range k {
				c := dot(v[i], v[k])
				for j := range v[k] {
					v[k][j] -= c * v[i][j]
				}
			}
		}
		nrm := math.Sqrt(dot(v[k], v[k]))
		if !(nrm > 1e-10*before) || nrm == 0 {
			for e := 0; e < d; e++ {
				for j := range v[k] {
					v[k][j] = 0
				}
				v[k][e] = 1
				for range 2 {
					for i := range k {
						c := dot(v[i], v[k])
						for j := range v[k] {
							v[k][j] -= c * v[i][j]
						}
					}
				}
				nrm = math.Sqrt(dot(v[k], v[k]))
				if nrm > 0.5 {
					break
				}
			}
		}
		for j := range v[k] {
			v[k][j] /= nrm
		}
	}
}

// jacobiEigen3 returns the eigenvalues of the symmetric 3×3 matrix a in
// descending order and the matching unit eigenvectors as the columns of
// vecs, by cyclic Jacobi rotations (Golub & Van Loan, Matrix Computations,
// 4th ed., §8.5).
func jacobiEigen3(a [3][3]float64) (vals [3]float64, vecs [3][3]float64) {
	vecs = [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}
	for sweep := 0; sweep < 50; sweep++ {
		off := a[0][1]*a[0][1] + a[0][2]*a[0][2] + a[1][2]*a[1][2]
		scale := a[0][0]*a[0][0] + a[1][1]*a[1][1] + a[2][2]*a[2][2]
		if off <= 1e-30*scale || off == 0 {
			break
		}
		for p := 0; p < 2; p++ {
			for q := p + 1; q < 3; q++ {
				if a[p][q] == 0 {
					continue
				}
				theta := (a[q][q] - a[p][p]) / (2 * a[p][q])
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				// A ← Jᵀ A J with the rotation J in the (p, q) plane.
				for k := range 3 {
					akp, akq := a[k][p], a[k][q]
					a[k][p] = c*akp - s*akq
					a[k][q] = s*akp + c*akq
				}
				for k := range 3 {
					apk, aqk := a[p][k], a[q][k]
					a[p][k] = c*apk - s*aqk
					a[q][k] = s*apk + c*aqk
				}
				for k := range 3 {
					vkp, vkq := vecs[k][p], vecs[k][q]
					vecs[k][p] = c*vkp - s*vkq
					vecs[k][q] = s*vkp + c*vkq
				}
			}
		}
	}
	vals = [3]float64{a[0][0], a[1][1], a[2][2]}
	// Sort descending, moving the eigenvector columns along.
	for i := 0; i < 2; i++ {
		for j := i + 1; j < 3; j++ {
			if vals[j] > vals[i] {
				vals[i], vals[j] = vals[j], vals[i]
				for k := range 3 {
					vecs[k][i], vecs[k][j] = vecs[k][j], vecs[k][i]
				}
			}
		}
	}
	return vals, vecs
}
