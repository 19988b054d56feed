package sphere

import (
	"math"
	"slices"
)

// Projection maps points of the unit sphere (world coordinates) to the
// screen. The sphere is turned by Rot, seen either orthographically (Eye = 0)
// or in perspective from an eye on the view z axis at distance Eye (in sphere
// radii, Eye > 1), and scaled so that its outline is a circle of
// Radius·Zoom pixels around (CX, CY).
//
// With the view-space point p = Rot·v, perspective divides by the distance
// from the eye and rescales so that the outline keeps its size:
//
//	f = k·E/(E − p_z),  k = √(E² − 1)/E        (orthographic: f = 1)
//	x = CX + Radius·Zoom·f·p_x,  y = CY − Radius·Zoom·f·p_y
//
// The eye sees the points with p_z above the horizon h = 1/E (0 when
// orthographic); the rest are on the far side of the sphere.
type Projection struct {
	Rot    Mat3
	CX, CY float64 // centre of the sphere on the screen, pixels
	Radius float64 // outline radius at Zoom 1, pixels
	Zoom   float64 // 1 is the outline at Radius; 0 is taken as 1
	Eye    float64 // eye distance in sphere radii, > 1; 0: orthographic
}

// ScreenPoint is a projected point: its screen position in pixels, its
// view-space depth Z in [−1, 1] for a point on the unit sphere (1 is nearest
// the viewer), and whether it is on the side of the sphere facing the viewer.
type ScreenPoint struct {
	X, Y  float64
	Z     float64
	Front bool
}

// check panics on an invalid eye distance.
func (p *Projection) check() {
	if p.Eye != 0 && !(p.Eye > 1) {
		panic("sphere: Projection.Eye must be 0 (orthographic) or greater than 1")
	}
}

// Horizon returns the view depth above which a point of the unit sphere
// faces the viewer: 1/Eye in perspective, 0 orthographically.
func (p *Projection) Horizon() float64 {
	if p.Eye == 0 {
		return 0
	}
	return 1 / p.Eye
}

func (p *Projection) pixels() float64 {
	z := p.Zoom
	if z == 0 {
		z = 1
	}
	return p.Radius * z
}

// OutlineRadius returns the radius in pixels of the sphere's outline on the
// screen: Radius·Zoom by construction.
func (p *Projection) OutlineRadius() float64 {
	return p.pixels()
}

// Project returns the screen position of the world point v.
func (p *Projection) Project(v Vec3) ScreenPoint {
	p.check()
	return p.project(Apply(p.Rot, v), p.pixels(), p.Horizon())
}

// project projects the view-space point q with s pixels per unit.
func (p *Projection) project(q Vec3, s, horizon float64) ScreenPoint {
	f := 1.0
	if p.Eye != 0 {
		e := p.Eye
		f = math.Sqrt(e*e-1) / (e - q[2])
	}
	return ScreenPoint{
		X:     p.CX + s*f*q[0],
		Y:     p.CY - s*f*q[1],
		Z:     q[2],
		Front: q[2] > horizon,
	}
}

// ProjectTo projects the world points src into dst, which it grows as needed,
// and returns dst[:len(src)]. It is Project for many points, with the
// per-view constants hoisted out of the loop: the viewer calls it for every
// point in every frame that the view changes.
func (p *Projection) ProjectTo(dst []ScreenPoint, src []Vec3) []ScreenPoint {
	p.check()
	dst = slices.Grow(dst[:0], len(src))[:len(src)]
	s, h := p.pixels(), p.Horizon()
	r := p.Rot
	e, k := p.Eye, 0.0
	if e != 0 {
		k = s * math.Sqrt(e*e-1)
	}
	cx, cy := p.CX, p.CY
	for i, v := range src {
		x := r[0][0]*v[0] + r[0][1]*v[1] + r[0][2]*v[2]
		y := r[1][0]*v[0] + r[1][1]*v[1] + r[1][2]*v[2]
		z := r[2][0]*v[0] + r[2][1]*v[1] + r[2][2]*v[2]
		f := s
		if e != 0 {
			f = k / (e - z)
		}
		dst[i] = ScreenPoint{X: cx + f*x, Y: cy - f*y, Z: z, Front: z > h}
	}
	return dst
}

// BackToFrontTo writes into dst, which it grows as needed, the indices of
// pts ordered from the farthest to the nearest (ascending Z, ties by index),
// the order in which to paint them, and returns it. The points behind the
// horizon come first, so the front ones start at the first index i with
// pts[dst[i]].Front. It sorts afresh; DepthOrder gives the same order
// faster from frame to frame.
func BackToFrontTo(dst []int, pts []ScreenPoint) []int {
	dst = slices.Grow(dst[:0], len(pts))[:len(pts)]
	for i := range dst {
		dst[i] = i
	}
	slices.SortFunc(dst, func(a, b int) int { return depthCmp(pts, a, b) })
	return dst
}

// depthCmp orders the indices a and b of pts by Z, then by index: a total
// order, so that the result does not depend on the sorting algorithm.
func depthCmp(pts []ScreenPoint, a, b int) int {
	za, zb := pts[a].Z, pts[b].Z
	switch {
	case za < zb:
		return -1
	case za > zb:
		return 1
	}
	return a - b
}

// DepthOrder keeps the back-to-front painting order of a set of points
// from one frame to the next. When the view turns a little, the last order
// is nearly right, and insertion sort mends it in about linear time; after
// a larger change (or for a new number of points) it sorts afresh. The zero
// value is ready to use.
type DepthOrder struct {
	idx []int // a permutation of 0 … len(idx)−1
}

// Update sorts the order for pts, as BackToFrontTo would, and returns it;
// the slice is the DepthOrder's and stays valid until the next Update.
func (o *DepthOrder) Update(pts []ScreenPoint) []int {
	n := len(pts)
	if len(o.idx) != n {
		o.idx = BackToFrontTo(o.idx, pts)
		return o.idx
	}
	// Insertion sort with a budget of moves: past it the order was far
	// from right, and a fresh sort is faster.
	idx, budget := o.idx, 8*n+64
	for i := 1; i < n; i++ {
		v := idx[i]
		zv := pts[v].Z
		j := i
		for j > 0 { // depthCmp(pts, idx[j-1], v) > 0, written out: calls are dear in wasm
			u := idx[j-1]
			if zu := pts[u].Z; zu < zv || (zu == zv && u < v) {
				break
			}
			idx[j] = u
			j--
		}
		idx[j] = v
		if budget -= i - j; budget < 0 {
			slices.SortFunc(idx, func(a, b int) int { return depthCmp(pts, a, b) })
			break
		}
	}
	return idx
}

// DepthCue returns the size and opacity factors of a point at view depth z
// in [−1, 1], so that near points are larger and far points smaller and
// dimmer; the far hemisphere (z < 0) fades faster:
//
//	t = (z + 1)/2,  size = 0.55 + 0.45·t,  alpha = 0.15 + 0.85·t²
//
// Values of z outside [−1, 1] are clamped.
func DepthCue(z float64) (size, alpha float64) {
	t := (math.Max(-1, math.Min(1, z)) + 1) / 2
	return 0.55 + 0.45*t, 0.15 + 0.85*t*t
}
