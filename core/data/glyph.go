package data

import (
	"fmt"
	"math"
	"math/rand/v2"

	"metriclab/core"
)

// GlyphImages is the number of images Glyphs draws of each class.
const GlyphImages = 20

// Glyphs returns n classes of made-up characters, per images of each, of
// shape in, drawn from seed: more identities for an encoder that must
// tell apart shapes it never saw. Five digits are few; five hundred
// glyphs beside them teach strokes and their arrangement, which unseen
// digits share.
//
// A class is 1 to 3 cubic Bézier strokes whose control points lie in a box
// of 16×20 pixels (scaled with the image, as MNIST's digits fill 20×20 of
// 28×28) and a pen of half-width 0.5 to 1.1 pixels. Each image of the
// class moves every control point by a normal draw of σ = 0.8 pixel and
// widens or narrows the pen by up to 20%, as one writer's characters vary;
// it is drawn anti-aliased (a pixel's value is the pen's coverage,
// clamp(w − d + ½, 0, 1), d its distance to the stroke, drawn as 50
// straight segments) and moved, as
// MNIST's digits were, to put its centre of mass at the image's centre.
// Every channel is the same. Class c is named GlyphName(c), "glyph 1" to
// "glyph n"; its images are rows c·per to (c+1)·per − 1.
func Glyphs(n, per int, in core.Input, seed uint64) *Set {
	if n < 0 || per < 1 || in.Channels < 1 || in.Height < 1 || in.Width < 1 {
		panic(fmt.Sprintf("data: Glyphs: %d classes of %d images of %d×%d×%d", n, per, in.Channels, in.Height, in.Width))
	}
	in.Mean, in.Std = 0, 0
	size, plane := in.Size(), in.Height*in.Width
	s := &Set{X: make([]float32, n*per*size), Labels: make([]int, n*per), N: n * per, Input: in, Classes: make([]string, n)}
	rng := rand.New(rand.NewPCG(seed, 0x61f))
	scale := float64(min(in.Height, in.Width)) / 28
	var g glyphDraw
	for c := range n {
		s.Classes[c] = GlyphName(c)
		proto := newGlyph(rng, scale)
		for k := range per {
			i := c*per + k
			s.Labels[i] = c
			img := s.X[i*size : (i+1)*size]
			g.draw(img[:plane], proto.vary(rng, scale), in.Height, in.Width)
			for ch := 1; ch < in.Channels; ch++ {
				copy(img[ch*plane:(ch+1)*plane], img[:plane])
			}
		}
	}
	return s
}

// GlyphName returns the name of Glyphs's class c: "glyph c+1".
func GlyphName(c int) string { return fmt.Sprintf("glyph %d", c+1) }

// glyph is a character: its strokes' control points, in pixels from the
// image's centre, and its pen's half-width.
type glyph struct {
	strokes [][4][2]float64
	pen     float64
}

// newGlyph draws a class's character for images scale times MNIST's.
func newGlyph(rng *rand.Rand, scale float64) glyph {
	g := glyph{pen: (0.5 + 0.6*rng.Float64()) * scale}
	for range 1 + rng.IntN(3) {
		var st [4][2]float64
		for p := range st {
			st[p] = [2]float64{(16*rng.Float64() - 8) * scale, (20*rng.Float64() - 10) * scale}
		}
		g.strokes = append(g.strokes, st)
	}
	return g
}

// vary returns one image's version of g: its control points moved and its
// pen changed (see Glyphs).
func (g glyph) vary(rng *rand.Rand, scale float64) glyph {
	out := glyph{pen: g.pen * (0.8 + 0.4*rng.Float64()), strokes: make([][4][2]float64, len(g.strokes))}
	for k, st := range g.strokes {
		for p, pt := range st {
			out.strokes[k][p] = [2]float64{pt[0] + 0.8*scale*rng.NormFloat64(), pt[1] + 0.8*scale*rng.NormFloat64()}
		}
	}
	return out
}

// glyphSegments is the number of straight segments a stroke is drawn as:
// its chords then stay under about 2 pixels, and within 0.15 pixel of the
// curve where it bends with a radius of 3 pixels or more.
const glyphSegments = 50

// points returns the ends of the segments of g's strokes, glyphSegments + 1
// per stroke, in pixels from the image's centre.
func (g glyph) points(dst [][2]float64) [][2]float64 {
	dst = dst[:0]
	for _, st := range g.strokes {
		for i := range glyphSegments + 1 {
			t := float64(i) / glyphSegments
			u := 1 - t
			b0, b1, b2, b3 := u*u*u, 3*u*u*t, 3*u*t*t, t*t*t
			dst = append(dst, [2]float64{
				b0*st[0][0] + b1*st[1][0] + b2*st[2][0] + b3*st[3][0],
				b0*st[0][1] + b1*st[1][1] + b2*st[2][1] + b3*st[3][1],
			})
		}
	}
	return dst
}

// glyphDraw holds a drawing's scratch space.
type glyphDraw struct {
	pts [][2]float64
	cov []float64
}

// draw writes into dst, h×w, the picture of g centred by its mass (see
// Glyphs). It draws each segment over the pixels within the pen's reach
// of it, keeping each pixel's largest coverage: the coverage at the
// pixel's distance to the nearest segment (drawRef's).
func (d *glyphDraw) draw(dst []float32, g glyph, h, w int) {
	d.pts = g.points(d.pts)
	if cap(d.cov) < h*w {
		d.cov = make([]float64, h*w)
	}
	cov := d.cov[:h*w]
	clear(cov)
	reach := g.pen + 0.5 // coverage is 0 at this distance and beyond
	// The pixel (x, y) has its centre at x − w/2 + ½, y − h/2 + ½.
	ox, oy := float64(w)/2-0.5, float64(h)/2-0.5
	for s := range len(g.strokes) {
		for i := s * (glyphSegments + 1); i < (s+1)*(glyphSegments+1)-1; i++ {
			a, b := d.pts[i], d.pts[i+1]
			x0 := max(0, int(math.Ceil(min(a[0], b[0])+ox-reach)))
			x1 := min(w-1, int(math.Floor(max(a[0], b[0])+ox+reach)))
			y0 := max(0, int(math.Ceil(min(a[1], b[1])+oy-reach)))
			y1 := min(h-1, int(math.Floor(max(a[1], b[1])+oy+reach)))
			for y := y0; y <= y1; y++ {
				for x := x0; x <= x1; x++ {
					dist := segmentDist(float64(x)-ox, float64(y)-oy, a, b)
					if c := coverage(g.pen, dist); c > cov[y*w+x] {
						cov[y*w+x] = c
					}
				}
			}
		}
	}
	centreByMass(dst, cov, h, w)
}

// segmentDist returns the distance of the point (x, y) to the segment
// from a to b.
func segmentDist(x, y float64, a, b [2]float64) float64 {
	vx, vy := b[0]-a[0], b[1]-a[1]
	px, py := x-a[0], y-a[1]
	t := 0.0
	if l2 := vx*vx + vy*vy; l2 > 0 {
		t = math.Max(0, math.Min(1, (px*vx+py*vy)/l2))
	}
	dx, dy := px-t*vx, py-t*vy
	return math.Sqrt(dx*dx + dy*dy)
}

// coverage is a pen of half-width pen's coverage of a pixel whose centre
// lies at distance dist from the stroke: 1 inside, 0 outside, linear over
// the pixel that straddles the edge.
func coverage(pen, dist float64) float64 {
	return math.Max(0, math.Min(1, pen-dist+0.5))
}

// centreByMass writes into dst the h×w picture src moved by whole pixels
// so that its centre of mass falls on the image's centre (the nearest
// pixel); what moves out of the frame is lost. An empty src gives zeros.
func centreByMass(dst []float32, src []float64, h, w int) {
	var m, mx, my float64
	for y := range h {
		for x := range w {
			v := src[y*w+x]
			m += v
			mx += v * float64(x)
			my += v * float64(y)
		}
	}
	clear(dst[:h*w])
	if m == 0 {
		return
	}
	// The centre of the image is at ((w−1)/2, (h−1)/2) in pixel indices.
	dx := int(math.Round(mx/m - float64(w-1)/2))
	dy := int(math.Round(my/m - float64(h-1)/2))
	for y := range h {
		sy := y + dy
		if sy < 0 || sy >= h {
			continue
		}
		for x := range w {
			if sx := x + dx; sx >= 0 && sx < w {
				dst[y*w+x] = float32(src[sy*w+sx])
			}
		}
	}
}
