package sphere

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// subspaceData returns n points of dimension d that lie in the span of 3
// orthonormal vectors (random, fixed by seed), as float32 rows, and their
// coordinates in that span, with unequal spreads along the 3 directions.
func subspaceData(n, d int, seed uint64) (x []float32, basis [3][]float64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	for k := range 3 {
		basis[k] = make([]float64, d)
		for j := range basis[k] {
			basis[k][j] = rng.NormFloat64()
		}
	}
	orthonormalizeCols(basis)
	x = make([]float32, n*d)
	for i := range n {
		c := [3]float64{3 * rng.NormFloat64(), 2 * rng.NormFloat64(), rng.NormFloat64()}
		for j := range d {
			x[i*d+j] = float32(c[0]*basis[0][j] + c[1]*basis[1][j] + c[2]*basis[2][j])
		}
	}
	return x, basis
}

// angle64 returns the angle between rows i and j of x, computed in float64.
func angle64(x []float32, d, i, j int) float64 {
	var ab, aa, bb float64
	for k := range d {
		a, b := float64(x[i*d+k]), float64(x[j*d+k])
		ab += a * b
		aa += a * a
		bb += b * b
	}
	return math.Acos(math.Max(-1, math.Min(1, ab/math.Sqrt(aa*bb))))
}

func angle3(a, b Vec3) float64 {
	return math.Acos(math.Max(-1, math.Min(1, Dot(a, b)/(Norm(a)*Norm(b)))))
}

func TestPCAPreservesAnglesOfA3DSubspace(t *testing.T) {
	const n, d = 400, 16
	x, _ := subspaceData(n, d, 1)
	b := PrincipalAxes(x, d, nil)
	p := PlaceTo(nil, x, d, b)
	// The data lie in a 3-D subspace, so the three axes span it and the
	// projection is an isometry of it: every angle survives (up to float32
	// rounding of the inputs, far below 1e-6).
	var worst float64
	for i := range n {
		if math.Abs(Norm(p[i])-1) > 1e-12 {
			t.Fatalf("point %d has norm %g", i, Norm(p[i]))
		}
		for j := i + 1; j < n; j += 7 {
			worst = math.Max(worst, math.Abs(angle3(p[i], p[j])-angle64(x, d, i, j)))
		}
	}
	if worst > 1e-6 {
		t.Errorf("largest angle error %g > 1e-6", worst)
	}
	if e := b.Explained(); math.Abs(e-1) > 1e-9 {
		t.Errorf("explained fraction %g, want 1 for data of rank 3", e)
	}
	if !(b.Var[0] >= b.Var[1] && b.Var[1] >= b.Var[2]) {
		t.Errorf("eigenvalues not descending: %v", b.Var)
	}
}

func TestPCAFindsKnownAxes(t *testing.T) {
	// Unit rows along e_0, e_1, e_2 of R^8 with frequencies 0.5, 0.3, 0.2
	// (and both signs): M = diag(0.5, 0.3, 0.2, 0, …), so the axes are e_0,
	// e_1, e_2 with Var 0.5, 0.3, 0.2 exactly (closed form).
	const d = 8
	var x []float32
	add := func(axis, count int) {
		for i := range count {
			row := make([]float32, d)
			row[axis] = float32(1 - 2*(i%2))
			x = append(x, row...)
		}
	}
	add(0, 50)
	add(1, 30)
	add(2, 20)
	b := PrincipalAxes(x, d, nil)
	want := [3]float64{0.5, 0.3, 0.2}
	for k := range 3 {
		if math.Abs(b.Var[k]-want[k]) > 1e-12 {
			t.Errorf("Var[%d] = %g, want %g", k, b.Var[k], want[k])
		}
		// The convention makes the largest entry positive: the axis is +e_k.
		for j := range d {
			w := 0.0
			if j == k {
				w = 1
			}
			if math.Abs(b.Axes[k][j]-w) > 1e-9 {
				t.Errorf("axis %d = %v, want e_%d", k, b.Axes[k], k)
				break
			}
		}
	}
}

func TestPCASignsAreStable(t *testing.T) {
	const n, d = 300, 12
	x, _ := subspaceData(n, d, 2)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range x { // full rank now, but still dominated by 3 directions
		x[i] += float32(0.05 * rng.NormFloat64())
	}
	first := PrincipalAxes(x, d, nil)

	// The same data again, without and with the previous basis: the same axes.
	for _, prev := range []*Basis{nil, first} {
		again := PrincipalAxes(x, d, prev)
		for k := range 3 {
			if c := dot(again.Axes[k], first.Axes[k]); math.Abs(c-1) > 1e-9 {
				t.Errorf("prev=%v: axis %d has cosine %g with the first", prev != nil, k, c)
			}
		}
	}

	// Previous axes that point the other way (and come in another order)
	// pull the new axes along: the picture follows the last one.
	flipped := &Basis{D: d, Var: first.Var}
	flipped.Axes[0] = first.Axes[1]
	flipped.Axes[1] = neg(first.Axes[0])
	flipped.Axes[2] = neg(first.Axes[2])
	got := PrincipalAxes(x, d, flipped)
	for k := range 3 {
		if c := dot(got.Axes[k], flipped.Axes[k]); math.Abs(c-1) > 1e-9 {
			t.Errorf("aligned axis %d has cosine %g with the previous", k, c)
		}
	}

	// A nearby snapshot (the embeddings moved a little) keeps every axis
	// pointing the same way.
	y := append([]float32(nil), x...)
	for i := range y {
		y[i] += float32(0.05 * rng.NormFloat64())
	}
	next := PrincipalAxes(y, d, first)
	for k := range 3 {
		if c := dot(next.Axes[k], first.Axes[k]); c < 0.99 {
			t.Errorf("after a small move axis %d has cosine %g with the previous", k, c)
		}
	}
}

// TestPCAKeepsARoundCloudStill places a cloud whose three variances are
// nearly equal (six classes at ±e_1, ±e_2, ±e_3 of R⁸, as evenly spread
// classes are), then the same embeddings moved a little, with the first
// basis as the previous one. The eigenvectors of a nearly round cloud are
// arbitrary within their span, so the principal axes of the second
// snapshot are turned about some axis against the first's (measured: the
// points moved 0.072 rad on average, where the embeddings moved 0.013);
// the picture must move only as much as the embeddings do, here no more
// than 1.5 times what the first basis shows of their move.
func TestPCAKeepsARoundCloudStill(t *testing.T) {
	const n, d = 600, 8
	rng := rand.New(rand.NewPCG(3, 9))
	x := make([]float32, n*d)
	for i := range n {
		for j := range d {
			x[i*d+j] = float32(0.1 * rng.NormFloat64())
		}
		x[i*d+i%3] += float32(1 - 2*(i/3%2)) // classes at ±e_1, ±e_2, ±e_3
	}
	y := append([]float32(nil), x...)
	for i := range y {
		y[i] += float32(0.01 * rng.NormFloat64())
	}
	first := PrincipalAxes(x, d, nil)
	next := PrincipalAxes(y, d, first)
	if math.Abs(next.Explained()-PrincipalAxes(y, d, nil).Explained()) > 1e-12 {
		t.Errorf("explained %g with the previous basis, %g without", next.Explained(), PrincipalAxes(y, d, nil).Explained())
	}
	a, b, c := first.ProjectTo(nil, x), next.ProjectTo(nil, y), first.ProjectTo(nil, y)
	var moved, data float64
	for i := range a {
		moved += angle3(a[i], b[i]) / n
		data += angle3(a[i], c[i]) / n
	}
	if moved > 1.5*data {
		t.Errorf("the points moved %.3f rad on average, the embeddings %.3f", moved, data)
	}
}

func TestPCARankDeficient(t *testing.T) {
	// Two directions only: the third axis is still a unit vector orthogonal
	// to them, with Var 0, and the points keep their angles.
	const d = 6
	x := []float32{1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	b := PrincipalAxes(x, d, nil)
	if err := orthonormal(b.Axes); err != "" {
		t.Fatal(err)
	}
	if b.Var[2] > 1e-12 {
		t.Errorf("Var[2] = %g, want 0", b.Var[2])
	}
	p := PlaceTo(nil, x, d, b)
	if a := angle3(p[0], p[2]); math.Abs(a-math.Pi/4) > 1e-9 {
		t.Errorf("angle between (1,0) and (1,1) is %g, want π/4", a)
	}
	if p[3] != (Vec3{}) {
		t.Errorf("zero row placed at %v, want the origin", p[3])
	}
}

// TestPCARankDeficientAfterAnotherSpan: the data of TestPCARankDeficient
// (two directions, e_1 and e_2) with a previous basis of another span,
// whose first axis leans out of theirs, (e_1 + e_3)/√2. alignTo turns
// the axes, the spare one among them, to those nearest the previous: no
// axis is the spare one any more, and each keeps a share of the
// variance. As the doc says, each Var is what its axis keeps of the unit
// rows, Σ (u·a_k)² / R, and together they keep what they keep without the
// previous basis. The doc said that the spare axis kept Var 0 (a check
// of that was seen failing: Var [0.25 0.5 0.25]).
func TestPCARankDeficientAfterAnotherSpan(t *testing.T) {
	const d = 6
	x := []float32{1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	prev := &Basis{D: d, Axes: [3][]float64{
		{math.Sqrt2 / 2, 0, math.Sqrt2 / 2, 0, 0, 0},
		{0, 1, 0, 0, 0, 0},
		{math.Sqrt2 / 2, 0, -math.Sqrt2 / 2, 0, 0, 0},
	}}
	b := PrincipalAxes(x, d, prev)
	if err := orthonormal(b.Axes); err != "" {
		t.Fatal(err)
	}
	u, rows := unitRows(x, d)
	for k := range 3 {
		var kept float64
		for i := range rows {
			c := dot(u[i*d:(i+1)*d], b.Axes[k])
			kept += c * c / float64(rows)
		}
		if math.Abs(b.Var[k]-kept) > 1e-12 {
			t.Errorf("Var[%d] = %g, but its axis keeps %g", k, b.Var[k], kept)
		}
	}
	if got, want := b.Explained(), PrincipalAxes(x, d, nil).Explained(); math.Abs(got-want) > 1e-12 {
		t.Errorf("explained %g with the previous basis, %g without", got, want)
	}
	if min(b.Var[0], b.Var[1], b.Var[2]) < 0.1 { // 1/4, 1/2, 1/4
		t.Errorf("Var %v: an axis keeps nothing, as if it were still the spare one", b.Var)
	}
}

func TestPlaceLowDimensions(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    int
		x    []float32
		want []Vec3
	}{
		// Hand-normalised: (3,4)/5, (0,−2)/2.
		{"D=2", 2, []float32{3, 4, 0, -2}, []Vec3{{0.6, 0.8, 0}, {0, -1, 0}}},
		{"D=3", 3, []float32{0, 0, 5, 1, 1, 0}, []Vec3{{0, 0, 1}, {math.Sqrt(0.5), math.Sqrt(0.5), 0}}},
		{"D=1", 1, []float32{-3, 2}, []Vec3{{-1, 0, 0}, {1, 0, 0}}},
	} {
		got := PlaceTo(nil, tc.x, tc.d, nil)
		for i := range tc.want {
			for k := range 3 {
				if math.Abs(got[i][k]-tc.want[i][k]) > 1e-7 {
					t.Errorf("%s: point %d = %v, want %v", tc.name, i, got[i], tc.want[i])
					break
				}
			}
		}
	}
}

func TestJacobiEigen3(t *testing.T) {
	// A = Q diag(5, 2, −1) Qᵀ for a known rotation Q: the eigenvalues come
	// back sorted and A·v = λ·v.
	q := YawPitch(0.7, -1.1)
	lam := [3]float64{2, -1, 5}
	var a [3][3]float64
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				a[i][j] += q[i][k] * lam[k] * q[j][k]
			}
		}
	}
	vals, vecs := jacobiEigen3(a)
	want := [3]float64{5, 2, -1}
	for k := range 3 {
		if math.Abs(vals[k]-want[k]) > 1e-12 {
			t.Errorf("eigenvalue %d = %g, want %g", k, vals[k], want[k])
		}
		v := Vec3{vecs[0][k], vecs[1][k], vecs[2][k]}
		av := Apply(Mat3(a), v)
		for i := range 3 {
			if math.Abs(av[i]-vals[k]*v[i]) > 1e-12 {
				t.Errorf("A·v_%d = %v, λv = %g·%v", k, av, vals[k], v)
				break
			}
		}
	}
}

func neg(a []float64) []float64 {
	b := make([]float64, len(a))
	for i, v := range a {
		b[i] = -v
	}
	return b
}

// BenchmarkPrincipalAxes places a snapshot of 2,000 128-D embeddings: the
// per-snapshot cost of D > 3, paid once per snapshot on the decoding
// goroutine, not per frame.
func BenchmarkPrincipalAxes(b *testing.B) {
	const n, d = 2000, 128
	x, _ := subspaceData(n, d, 4)
	rng := rand.New(rand.NewPCG(8, 9))
	for i := range x {
		x[i] += float32(0.2 * rng.NormFloat64())
	}
	var prev *Basis
	var dst []Vec3
	for b.Loop() {
		prev = PrincipalAxes(x, d, prev)
		dst = prev.ProjectTo(dst, x)
	}
}

// orthonormal says how axes fail to be orthonormal (to 1e-12), or "".
func orthonormal(axes [3][]float64) string {
	for i := range 3 {
		for k := range 3 {
			w := 0.0
			if i == k {
				w = 1
			}
			if c := dot(axes[i], axes[k]); math.Abs(c-w) > 1e-12 {
				return fmt.Sprintf("axes %d·%d = %g, want %g", i, k, c, w)
			}
		}
	}
	return ""
}
