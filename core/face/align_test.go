package face

import (
	"math"
	"testing"
)

// blobs returns a w×h frame of grey 200 with two dark Gaussian blobs
// (σ = sigma px, 150 deep) centred at the continuous points a and b.
func blobs(w, h int, a, b Point, sigma float64) []uint8 {
	g := make([]uint8, w*h)
	for y := range h {
		for x := range w {
			px, py := float64(x)+0.5, float64(y)+0.5
			v := 200.0
			for _, p := range []Point{a, b} {
				d2 := (px-p.X)*(px-p.X) + (py-p.Y)*(py-p.Y)
				v -= 150 * math.Exp(-d2/(2*sigma*sigma))
			}
			g[y*w+x] = uint8(math.Round(v))
		}
	}
	return g
}

// darkCentroid returns the centroid, in continuous coordinates, of the
// darkness (bg − v, where v < bg) of the W-wide plane p over columns
// [x0, x1).
func darkCentroid(p []float32, W, x0, x1 int, bg float32) Point {
	var sx, sy, sw float64
	for i, v := range p {
		x, y := i%W, i/W
		if x < x0 || x >= x1 || v >= bg {
			continue
		}
		wt := float64(bg - v)
		sx += wt * (float64(x) + 0.5)
		sy += wt * (float64(y) + 0.5)
		sw += wt
	}
	return Point{sx / sw, sy / sw}
}

// TestAlign: eye blobs at (80, 130) and (150, 90) (30° up, 80.6 px apart)
// land level at (0.3·W, 0.35·H) and (0.7·W, 0.35·H) of the crop, within
// 1 px, for several crop shapes; with 3 channels every plane is the grey.
func TestAlign(t *testing.T) {
	const w, h = 240, 200
	l, r := Point{80, 130}, Point{150, 90}
	g := blobs(w, h, l, r, 5)
	f := Face{LeftEye: l, RightEye: r}
	for _, in := range []Input{{1, 32, 32}, {1, 48, 40}, {3, 64, 64}} {
		dst := Align(nil, g, w, h, f, in)
		if len(dst) != in.Channels*in.Height*in.Width {
			t.Fatalf("%v: len %d", in, len(dst))
		}
		plane := dst[:in.Height*in.Width]
		for c := 1; c < in.Channels; c++ {
			for i, v := range dst[c*len(plane) : (c+1)*len(plane)] {
				if v != plane[i] {
					t.Fatalf("%v: channel %d differs from channel 0 at %d", in, c, i)
				}
			}
		}
		for _, v := range dst {
			if v < 0 || v > 1 {
				t.Fatalf("%v: pixel %g outside [0,1]", in, v)
			}
		}
		bg := float32(190.0 / 255) // darker than the background by 10 grey levels
		gl := darkCentroid(plane, in.Width, 0, in.Width/2, bg)
		gr := darkCentroid(plane, in.Width, in.Width/2, in.Width, bg)
		wantY := EyeHeight * float64(in.Height)
		for _, c := range []struct {
			got   Point
			wantX float64
		}{
			{gl, (0.5 - EyeDistance/2) * float64(in.Width)},
			{gr, (0.5 + EyeDistance/2) * float64(in.Width)},
		} {
			if math.Abs(c.got.X-c.wantX) > 1 || math.Abs(c.got.Y-wantY) > 1 {
				t.Errorf("%v: eye at (%.2f, %.2f), want (%.2f, %.2f) ± 1", in, c.got.X, c.got.Y, c.wantX, wantY)
			}
		}
	}
}

// TestAlignIdentity: eyes already level and at the crop's places in a
// frame of the crop's size give the frame back exactly (every crop pixel
// centre maps onto a frame pixel centre).
func TestAlignIdentity(t *testing.T) {
	const n = 20
	g := make([]uint8, n*n)
	for i := range g {
		g[i] = uint8(i * 7)
	}
	f := Face{LeftEye: Point{0.3 * n, 0.35 * n}, RightEye: Point{0.7 * n, 0.35 * n}}
	dst := Align(nil, g, n, n, f, Input{1, n, n})
	for i, v := range dst {
		if want := float32(g[i]) / 255; math.Abs(float64(v-want)) > 1e-6 {
			t.Fatalf("pixel %d: %g, want %g", i, v, want)
		}
	}
}
