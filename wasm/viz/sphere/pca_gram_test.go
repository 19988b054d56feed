package sphere

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gaussRows returns n rows of d independent standard normal entries.
func gaussRows(n, d int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// pcaCase is an input on which the Gram path must give the reference's
// axes, to within atol on every entry. Where noiseSpare is set, the data
// span fewer than three directions in general position, and the
// reference's spare axes (Var below pcaGramFloor) are rounding noise of M·v
// rather than a result (any unit vector orthogonal to the others would do),
// so they are only checked for being orthonormal with Var 0 (to vtol: with
// a previous basis, alignTo's rotation mixes rounding into it).
type pcaCase struct {
	name       string
	d          int
	x          []float32
	atol       float64
	noiseSpare bool
}

// pcaCases are full-rank random rows, data near a 3-D subspace, and the
// degenerate ones: fewer than three rows, equal rows, rank 1 and 2, zero
// rows, and rows along coordinate axes.
//
// The two paths' iterates agree to rounding (TestGramMatchesCovarianceUnsettled),
// but where the iteration settles it stops when Σ sin² of the angles
// between iterates falls below pcaTol = 1e-15, a test decided at the
// rounding of 3 − Σ cos² (4.4e-16 a step). The two paths may then stop
// iterations apart, while the subspace still turns by up to √pcaTol ≈ 3e-8
// an iteration (more on an axis whose eigenvalue is close to another's):
// the reference's answer is itself only that precise, and cases that take
// many iterations to settle allow 1e-6 (measured: up to 8e-8). Data of
// rank 3 or less settle in an iteration or two, and agree to 1e-12
// (measured: below 1e-15).
func pcaCases() []pcaCase {
	const exact, settled = 1e-12, 1e-6
	cases := []pcaCase{
		{"random 100x300", 300, gaussRows(100, 300, 2), settled, false},
		{"random 40x100", 100, gaussRows(40, 100, 1), settled, false},
		{"random 200x120 (R > D)", 120, gaussRows(200, 120, 2), settled, false},
	}
	sub, _ := subspaceData(150, 64, 3)
	noisy := append([]float32(nil), sub...)
	rng := rand.New(rand.NewPCG(4, 5))
	for i := range noisy {
		noisy[i] += float32(0.05 * rng.NormFloat64())
	}
	cases = append(cases, pcaCase{"3-D subspace", 64, sub, exact, false}, pcaCase{"3-D subspace + noise", 64, noisy, settled, false})

	one := gaussRows(1, 40, 6)
	cases = append(cases, pcaCase{"one row", 40, one, exact, true})
	cases = append(cases, pcaCase{"two rows", 40, gaussRows(2, 40, 7), exact, true})
	var equal, scaled []float32
	for i := range 30 {
		equal = append(equal, one...)
		for _, v := range one {
			scaled = append(scaled, float32(i+1)*v)
		}
	}
	cases = append(cases, pcaCase{"equal rows", 40, equal, exact, true}, pcaCase{"equal rows up to scale", 40, scaled, exact, true})
	// Rank 2: rows in the span of two random rows, with random coefficients.
	two := gaussRows(2, 40, 8)
	var rank2 []float32
	for range 50 {
		c0, c1 := rng.NormFloat64(), rng.NormFloat64()
		for j := range 40 {
			rank2 = append(rank2, float32(c0*float64(two[j])+c1*float64(two[40+j])))
		}
	}
	cases = append(cases, pcaCase{"rank 2", 40, rank2, exact, true})
	// No direction at all: both fall back to e_0, e_1, e_2.
	cases = append(cases, pcaCase{"zero rows", 10, make([]float32, 5*10), exact, false}, pcaCase{"no rows", 10, nil, exact, false})
	withZeros := append(gaussRows(5, 10, 9), make([]float32, 3*10)...) // R odd: gramOf's last row
	cases = append(cases, pcaCase{"five rows and zero rows", 10, withZeros, settled, false})
	// TestPCARankDeficient's rows, (1,0), (0,2), (1,1) and a zero row in R⁶:
	// M·v is exact in the spare directions, and both fill them alike.
	cases = append(cases, pcaCase{"coordinate axes, rank 2", 6, []float32{1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, exact, false})
	var axes []float32
	for i, axis := range []int{0, 0, 0, 0, 0, 1, 1, 1, 2, 2} { // M = diag(0.5, 0.3, 0.2, 0, …)
		row := make([]float32, 8)
		row[axis] = float32(1 - 2*(i%2))
		axes = append(axes, row...)
	}
	cases = append(cases, pcaCase{"coordinate axes, rank 3", 8, axes, exact, false})
	return cases
}

// TestGramMatchesCovariance runs the fast Gram path and the plain reference
// (the D×D matrix) on the same rows, without and with a previous basis (the
// reference's own axes, turned and flipped), and wants the same basis, signs
// and order included: the axes to each case's atol, Var and Total to 1e-13
// (second order in the axes' error).
func TestGramMatchesCovariance(t *testing.T) {
	const vtol = 1e-13
	for _, tc := range pcaCases() {
		first := principalAxes(tc.x, tc.d, nil, pcaCovariance)
		turned := &Basis{D: tc.d, Axes: [3][]float64{first.Axes[2], neg(first.Axes[0]), first.Axes[1]}}
		for _, prev := range []*Basis{nil, turned} {
			name := fmt.Sprintf("%s, prev=%v", tc.name, prev != nil)
			ref := principalAxes(tc.x, tc.d, prev, pcaCovariance)
			got := principalAxes(tc.x, tc.d, prev, pcaGram)
			if math.Abs(got.Total-ref.Total) > vtol {
				t.Errorf("%s: Total %g, reference %g", name, got.Total, ref.Total)
			}
			if err := orthonormal(got.Axes); err != "" {
				t.Errorf("%s: %s", name, err)
			}
			for k := range 3 {
				if math.Abs(got.Var[k]-ref.Var[k]) > vtol {
					t.Errorf("%s: Var[%d] = %.17g, reference %.17g", name, k, got.Var[k], ref.Var[k])
				}
				if tc.noiseSpare && ref.Var[k] < pcaGramFloor {
					if got.Var[k] > vtol { // 0, but for the rounding of alignTo's rotation
						t.Errorf("%s: spare axis %d has Var %g, want 0", name, k, got.Var[k])
					}
					continue
				}
				var worst float64
				for j := range got.Axes[k] {
					worst = math.Max(worst, math.Abs(got.Axes[k][j]-ref.Axes[k][j]))
				}
				if worst > tc.atol {
					t.Errorf("%s: axis %d differs from the reference's by %.3g > %g", name, k, worst, tc.atol)
				}
			}
		}
	}
}

// TestGramMatchesCovarianceUnsettled compares the two paths on random rows
// whose subspace 300 iterations leave unsettled (the third and fourth
// eigenvalues are too close), so that both stop at pcaMaxIter: only the
// same iterates agree there, and they do to rounding, 1e-12 on the axes
// (measured: below 3e-15, and 2.4e-15 on the benchmark's 512×2048) and
// 1e-15 on Var.
func TestGramMatchesCovarianceUnsettled(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		const n, d = 150, 400
		x := gaussRows(n, d, seed)
		ref := principalAxes(x, d, nil, pcaCovariance)
		got := principalAxes(x, d, nil, pcaGram)
		for k := range 3 {
			if math.Abs(got.Var[k]-ref.Var[k]) > 1e-15 {
				t.Errorf("seed %d: Var[%d] = %.17g, reference %.17g", seed, k, got.Var[k], ref.Var[k])
			}
			var worst float64
			for j := range got.Axes[k] {
				worst = math.Max(worst, math.Abs(got.Axes[k][j]-ref.Axes[k][j]))
			}
			if worst > 1e-12 {
				t.Errorf("seed %d: axis %d differs from the reference's by %.3g", seed, k, worst)
			}
		}
	}
}

// BenchmarkPrincipalAxesMethods places 512 rows of random D-dimensional
// embeddings (the most the viewer samples) without a previous basis: the
// worst case, where the third and fourth eigenvalues are so close that all
// 300 iterations run. Gram is the fast path, covariance the plain
// reference; PrincipalAxes takes the Gram path where R ≤ D.
func BenchmarkPrincipalAxesMethods(b *testing.B) {
	const n = pcaMaxRows
	for _, d := range []int{128, 512, 2048, 4096} {
		x := gaussRows(n, d, 11)
		for _, m := range []struct {
			name   string
			method pcaMethod
		}{{"covariance", pcaCovariance}, {"gram", pcaGram}} {
			b.Run(fmt.Sprintf("D=%d/%s", d, m.name), func(b *testing.B) {
				for b.Loop() {
					principalAxes(x, d, nil, m.method)
				}
			})
		}
	}
}
