package data

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"metriclab/core"
)

// drawRef is draw's plain reference: every pixel's coverage at its
// distance to the nearest segment of the strokes, then the centring.
func drawRef(dst []float32, g glyph, h, w int) {
	pts := g.points(nil)
	cov := make([]float64, h*w)
	for y := range h {
		for x := range w {
			dist := math.Inf(1)
			for s := range len(g.strokes) {
				for i := s * (glyphSegments + 1); i < (s+1)*(glyphSegments+1)-1; i++ {
					dist = math.Min(dist, segmentDist(float64(x)-float64(w)/2+0.5, float64(y)-float64(h)/2+0.5, pts[i], pts[i+1]))
				}
			}
			cov[y*w+x] = coverage(g.pen, dist)
		}
	}
	centreByMass(dst, cov, h, w)
}

// TestSegmentDist: hand-worked distances to the segment from (0, 0) to
// (4, 0), beside it, past each end and on it; a segment of no length is
// its point.
func TestSegmentDist(t *testing.T) {
	a, b := [2]float64{0, 0}, [2]float64{4, 0}
	for _, c := range []struct{ x, y, want float64 }{
		{2, 3, 3}, {-3, 4, 5}, {7, 4, 5}, {1, 0, 0}, {4, -2, 2},
	} {
		if got := segmentDist(c.x, c.y, a, b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("(%g, %g): %g, want %g", c.x, c.y, got, c.want)
		}
	}
	if got := segmentDist(3, 4, a, a); math.Abs(got-5) > 1e-12 {
		t.Errorf("to a point: %g, want 5", got)
	}
}

// TestGlyphDrawRef: the segments drawn one by one over the pixels within
// the pen's reach draw what the nearest-segment distance draws, to the bit, on odd sizes, thin and thick
// pens, and strokes that leave the frame.
func TestGlyphDrawRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var d glyphDraw
	for _, c := range []struct{ h, w int }{{28, 28}, {13, 31}, {48, 48}, {8, 9}} {
		scale := float64(min(c.h, c.w)) / 28
		for k := range 20 {
			g := newGlyph(rng, scale)
			if k%5 == 0 {
				g.pen = 0.2 + 3*rng.Float64()
			}
			if k%7 == 0 { // far off the centre: part of it outside
				g.strokes[0][0][0] += float64(c.w) * 0.6
			}
			got, want := make([]float32, c.h*c.w), make([]float32, c.h*c.w)
			d.draw(got, g, c.h, c.w)
			drawRef(want, g, c.h, c.w)
			if !slices.Equal(got, want) {
				t.Fatalf("%d×%d glyph %d: the drawing differs from the reference", c.h, c.w, k)
			}
		}
	}
}

// TestCoverage: hand-worked values of a pen of half-width 1: a pixel
// whose centre is on the stroke or half a pixel in is covered, one at the
// edge (distance 1) half, one at 1.5 or beyond not at all.
func TestCoverage(t *testing.T) {
	for _, c := range []struct{ dist, want float64 }{{0, 1}, {0.5, 1}, {0.75, 0.75}, {1, 0.5}, {1.25, 0.25}, {1.5, 0}, {3, 0}} {
		if got := coverage(1, c.dist); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("coverage(1, %g) = %g, want %g", c.dist, got, c.want)
		}
	}
}

// TestGlyphPoints: each stroke's points run from its first control point
// to its last, glyphSegments + 1 of them, the middle one at B(½) =
// (P0 + 3P1 + 3P2 + P3)/8.
func TestGlyphPoints(t *testing.T) {
	g := glyph{strokes: [][4][2]float64{{{0, 0}, {8, 0}, {8, 8}, {0, 8}}, {{-1, 2}, {3, 4}, {5, -6}, {7, 1}}}}
	pts := g.points(nil)
	if len(pts) != 2*(glyphSegments+1) {
		t.Fatalf("%d points, want %d", len(pts), 2*(glyphSegments+1))
	}
	for k, st := range g.strokes {
		first, last := pts[k*(glyphSegments+1)], pts[(k+1)*(glyphSegments+1)-1]
		mid := pts[k*(glyphSegments+1)+glyphSegments/2]
		want := [2]float64{(st[0][0] + 3*st[1][0] + 3*st[2][0] + st[3][0]) / 8, (st[0][1] + 3*st[1][1] + 3*st[2][1] + st[3][1]) / 8}
		if first != st[0] || last != st[3] || math.Hypot(mid[0]-want[0], mid[1]-want[1]) > 1e-12 {
			t.Errorf("stroke %d: from %v to %v through %v; want from %v to %v through %v", k, first, last, mid, st[0], st[3], want)
		}
	}
}

// TestCentreByMass: a single pixel moves to the centre; a picture already
// centred stays; an empty one is zeros.
func TestCentreByMass(t *testing.T) {
	src := make([]float64, 7*7)
	src[1*7+5] = 1 // (x 5, y 1): moves by (−2, +2) to (3, 3)
	dst := make([]float32, 7*7)
	for i := range dst {
		dst[i] = 9
	}
	centreByMass(dst, src, 7, 7)
	for i, v := range dst {
		want := float32(0)
		if i == 3*7+3 {
			want = 1
		}
		if v != want {
			t.Fatalf("pixel (%d, %d) = %v, want %v", i%7, i/7, v, want)
		}
	}
	// Mass at (4, 4) and (5, 4): its centre (4.5, 4) is (1, ½) from the
	// 8×8 image's (3.5, 3.5), so it moves by (1, 1) (halves round up),
	// to (3, 3) and (4, 3).
	src8 := make([]float64, 8*8)
	src8[4*8+4], src8[4*8+5] = 1, 1
	dst8 := make([]float32, 8*8)
	centreByMass(dst8, src8, 8, 8)
	if dst8[3*8+3] != 1 || dst8[3*8+4] != 1 {
		t.Errorf("two pixels centred at (4.5, 4): %v", dst8)
	}
	centreByMass(dst, make([]float64, 49), 7, 7)
	if slices.ContainsFunc(dst, func(v float32) bool { return v != 0 }) {
		t.Fatal("an empty picture gave non-zero pixels")
	}
}

// TestGlyphs: the shape, labels and names; values in [0,1], every image
// drawn and centred by its mass; the same seed draws the same set and
// another a different one; every channel the same; and images of a class
// are closer to each other than to other classes' (cosine), or the
// classes would teach nothing.
func TestGlyphs(t *testing.T) {
	in := core.Input{Channels: 1, Height: 28, Width: 28}
	s := Glyphs(30, 10, in, 7)
	if s.N != 300 || len(s.X) != 300*784 || len(s.Labels) != 300 || len(s.Classes) != 30 || s.Input != in {
		t.Fatalf("N %d, %d values, %d labels, %d classes, input %+v", s.N, len(s.X), len(s.Labels), len(s.Classes), s.Input)
	}
	if s.Classes[0] != "glyph 1" || s.Classes[29] != "glyph 30" || s.Labels[0] != 0 || s.Labels[9] != 0 || s.Labels[10] != 1 || s.Labels[299] != 29 {
		t.Fatalf("classes %q … %q, labels %v …", s.Classes[0], s.Classes[29], s.Labels[:11])
	}
	for i := range s.N {
		img := s.Image(i)
		var m, mx, my float64
		for p, v := range img {
			if v < 0 || v > 1 {
				t.Fatalf("image %d pixel %d = %v, want [0,1]", i, p, v)
			}
			m += float64(v)
			mx += float64(v) * float64(p%28)
			my += float64(v) * float64(p/28)
		}
		if m < 5 {
			t.Fatalf("image %d has ink %.2f, want a drawn glyph", i, m)
		}
		// Centred to the nearest pixel; ink lost off the frame may move
		// the centre a little more.
		if cx, cy := mx/m-13.5, my/m-13.5; math.Hypot(cx, cy) > 1.2 {
			t.Errorf("image %d: centre of mass (%.2f, %.2f) from the image's centre", i, cx, cy)
		}
	}
	if again := Glyphs(30, 10, in, 7); !slices.Equal(again.X, s.X) {
		t.Error("the same seed drew another set")
	}
	if other := Glyphs(30, 10, in, 8); slices.Equal(other.X, s.X) {
		t.Error("another seed drew the same set")
	}

	cos := func(a, b []float32) float64 {
		var ab, aa, bb float64
		for i := range a {
			ab += float64(a[i]) * float64(b[i])
			aa += float64(a[i]) * float64(a[i])
			bb += float64(b[i]) * float64(b[i])
		}
		return ab / math.Sqrt(aa*bb)
	}
	var within, between float64
	var nw, nb int
	for i := range s.N {
		for j := i + 1; j < s.N; j++ {
			if s.Labels[i] == s.Labels[j] {
				within += cos(s.Image(i), s.Image(j))
				nw++
			} else {
				between += cos(s.Image(i), s.Image(j))
				nb++
			}
		}
	}
	within, between = within/float64(nw), between/float64(nb)
	t.Logf("mean cosine within a class %.3f, between classes %.3f", within, between)
	if within < between+0.2 {
		t.Errorf("mean cosine within a class %.3f, between classes %.3f: want the classes apart", within, between)
	}

	rgb := Glyphs(2, 3, core.Input{Channels: 3, Height: 20, Width: 24}, 7)
	for i := range rgb.N {
		img := rgb.Image(i)
		if !slices.Equal(img[:480], img[480:960]) || !slices.Equal(img[:480], img[960:]) {
			t.Fatalf("RGB image %d: the channels differ", i)
		}
	}
}
