package sphere

import "math"

// Graticule returns the latitude/longitude wireframe of the unit sphere as
// polylines of world points, computed once and projected every time the
// view changes: lats parallels at the latitudes
//
//	β_i = −π/2 + π·(i+1)/(lats+1),  i = 0 … lats−1,
//
// each a closed circle of segs segments (segs+1 points, the last equal to the
// first), and lons meridians from the south to the north pole at the
// longitudes λ_j = 2π·j/lons, each of segs/2 segments. The poles are on the
// world y axis, so the parallels circle the vertical axis. It panics unless
// lats ≥ 0, lons ≥ 0 and segs ≥ 4 is even.
func Graticule(lats, lons, segs int) [][]Vec3 {
	if lats < 0 || lons < 0 || segs < 4 || segs%2 != 0 {
		panic("sphere: Graticule needs lats, lons ≥ 0 and an even segs ≥ 4")
	}
	lines := make([][]Vec3, 0, lats+lons)
	for i := range lats {
		beta := -math.Pi/2 + math.Pi*float64(i+1)/float64(lats+1)
		sb, cb := math.Sincos(beta)
		line := make([]Vec3, segs+1)
		for k := range segs + 1 {
			sl, cl := math.Sincos(2 * math.Pi * float64(k%segs) / float64(segs))
			line[k] = Vec3{cb * cl, sb, cb * sl}
		}
		lines = append(lines, line)
	}
	half := segs / 2
	for j := range lons {
		sl, cl := math.Sincos(2 * math.Pi * float64(j) / float64(lons))
		line := make([]Vec3, half+1)
		for k := range half + 1 {
			sb, cb := math.Sincos(-math.Pi/2 + math.Pi*float64(k)/float64(half))
			line[k] = Vec3{cb * cl, sb, cb * sl}
		}
		lines = append(lines, line)
	}
	return lines
}

// Polyline is a run of projected points joined by straight segments, all on
// one side of the sphere: Hidden is true when the segments lie on the far
// side (their midpoints are behind the horizon), to be drawn dimmer or not
// at all.
type Polyline struct {
	Points []ScreenPoint
	Hidden bool
}

// ProjectLinesTo projects the world polylines lines and writes them into
// dst, split into runs of visible and hidden segments; neighbouring runs
// share the point where they meet. It reuses dst's storage and returns the
// runs. A segment is hidden when the view depth of its midpoint's direction
// is at or behind the horizon.
func (p *Projection) ProjectLinesTo(dst []Polyline, lines [][]Vec3) []Polyline {
	p.check()
	// Keep the point slices of dst for reuse.
	spare := dst[:cap(dst)]
	dst = dst[:0]
	next := func() []ScreenPoint {
		if len(dst) < len(spare) {
			return spare[len(dst)].Points[:0]
		}
		return nil
	}
	h := p.Horizon()
	for _, line := range lines {
		if len(line) < 2 {
			continue
		}
		cur := Polyline{Points: append(next(), p.Project(line[0]))}
		for k := 1; k < len(line); k++ {
			mid := Normalize(Vec3{line[k-1][0] + line[k][0], line[k-1][1] + line[k][1], line[k-1][2] + line[k][2]})
			hidden := Apply(p.Rot, mid)[2] <= h
			q := p.Project(line[k])
			if k == 1 {
				cur.Hidden = hidden
			} else if hidden != cur.Hidden {
				last := cur.Points[len(cur.Points)-1]
				dst = append(dst, cur)
				cur = Polyline{Points: append(next(), last), Hidden: hidden}
			}
			cur.Points = append(cur.Points, q)
		}
		dst = append(dst, cur)
	}
	return dst
}
