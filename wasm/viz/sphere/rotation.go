package sphere

import "math"

// Vec3 is a point or direction in three dimensions.
type Vec3 [3]float64

// Mat3 is a 3×3 matrix, indexed [row][column].
type Mat3 [3][3]float64

// Dot returns the inner product a·b.
func Dot(a, b Vec3) float64 {
	return a[0]*b[0] + a[1]*b[1] + a[2]*b[2]
}

// Norm returns the Euclidean norm |v|.
func Norm(v Vec3) float64 {
	return math.Sqrt(Dot(v, v))
}

// Normalize returns v/|v|, or the zero vector when v is zero.
func Normalize(v Vec3) Vec3 {
	n := Norm(v)
	if n == 0 {
		return Vec3{}
	}
	return Vec3{v[0] / n, v[1] / n, v[2] / n}
}

// Identity returns the 3×3 identity matrix.
func Identity() Mat3 {
	return Mat3{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}
}

// RotX returns the rotation by angle a (radians) about the x axis:
//
//	    ⎡1    0       0   ⎤
//	R = ⎢0  cos a  −sin a ⎥
//	    ⎣0  sin a   cos a ⎦
//
// In view space a positive a moves the point facing the viewer downwards.
func RotX(a float64) Mat3 {
	s, c := math.Sincos(a)
	return Mat3{{1, 0, 0}, {0, c, -s}, {0, s, c}}
}

// RotY returns the rotation by angle a (radians) about the y axis:
//
//	    ⎡ cos a  0  sin a ⎤
//	R = ⎢   0    1    0   ⎥
//	    ⎣−sin a  0  cos a ⎦
//
// In view space a positive a moves the point facing the viewer to the right.
func RotY(a float64) Mat3 {
	s, c := math.Sincos(a)
	return Mat3{{c, 0, s}, {0, 1, 0}, {-s, 0, c}}
}

// YawPitch returns the view rotation that first turns the world by yaw about
// its vertical (y) axis and then tilts it by pitch about the screen's
// horizontal (x) axis:
//
//	R = R_x(pitch) · R_y(yaw)
func YawPitch(yaw, pitch float64) Mat3 {
	return Mul(RotX(pitch), RotY(yaw))
}

// Mul returns the matrix product a·b (apply b first, then a).
func Mul(a, b Mat3) Mat3 {
	var m Mat3
	for i := range 3 {
		for j := range 3 {
			m[i][j] = a[i][0]*b[0][j] + a[i][1]*b[1][j] + a[i][2]*b[2][j]
		}
	}
	return m
}

// Apply returns m·v.
func Apply(m Mat3, v Vec3) Vec3 {
	return Vec3{
		m[0][0]*v[0] + m[0][1]*v[1] + m[0][2]*v[2],
		m[1][0]*v[0] + m[1][1]*v[1] + m[1][2]*v[2],
		m[2][0]*v[0] + m[2][1]*v[1] + m[2][2]*v[2],
	}
}

// Transpose returns mᵀ, the inverse of a rotation.
func Transpose(m Mat3) Mat3 {
	return Mat3{
		{m[0][0], m[1][0], m[2][0]},
		{m[0][1], m[1][1], m[2][1]},
		{m[0][2], m[1][2], m[2][2]},
	}
}

// Orthonormalize returns the rotation nearest in practice to m: its rows
// made orthonormal by Gram–Schmidt, the third row recomputed as the cross
// product of the first two so that the result stays a proper rotation.
// Composing many small rotations lets rounding errors pile up; this removes
// them. It panics if the first two rows of m are (nearly) parallel.
func Orthonormalize(m Mat3) Mat3 {
	n0 := Norm(Vec3(m[0]))
	if !(n0 > 1e-9) {
		panic("sphere: Orthonormalize of a degenerate matrix")
	}
	r0 := Vec3{m[0][0] / n0, m[0][1] / n0, m[0][2] / n0}
	r1 := Vec3(m[1])
	d := Dot(r0, r1)
	r1 = Vec3{r1[0] - d*r0[0], r1[1] - d*r0[1], r1[2] - d*r0[2]}
	if !(Norm(r1) > 1e-9*Norm(Vec3(m[1]))) {
		panic("sphere: Orthonormalize of a degenerate matrix")
	}
	r1 = Normalize(r1)
	r2 := Cross(r0, r1)
	return Mat3{r0, r1, r2}
}

// Cross returns the cross product a×b.
func Cross(a, b Vec3) Vec3 {
	return Vec3{
		a[1]*b[2] - a[2]*b[1],
		a[2]*b[0] - a[0]*b[2],
		a[0]*b[1] - a[1]*b[0],
	}
}

// Drag returns the view rotation after a pointer drag of (dx, dy) screen
// pixels, starting from rot, for a sphere drawn with a radius of radius
// pixels. A drag across one radius turns the sphere by one radian, about the
// screen's vertical axis for dx and its horizontal axis for dy, so the point
// under the pointer near the centre follows it:
//
//	R' = R_x(dy/radius) · R_y(dx/radius) · R
//
// It panics if radius is not positive.
func Drag(rot Mat3, dx, dy, radius float64) Mat3 {
	if !(radius > 0) {
		panic("sphere: Drag with a non-positive radius")
	}
	return Orthonormalize(Mul(RotX(dy/radius), Mul(RotY(dx/radius), rot)))
}
