package face

import (
	"image"
	"math"
	"math/rand/v2"
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

// TestResizeTo checks the conversions by hand (grey to RGB replicates,
// RGB to grey is BT.601's luma, a halving averages 2×2 blocks), and that
// the Verify page's way to an encoder's input (a SnapshotInput crop
// reduced) gives what a crop made at that input directly gives, up to
// resampling: on the sample portrait, at 32×32 and 48×48, the two differ
// by 0.017 and 0.014 of the grey range on average, a quarter of what
// moving the direct crop by one of its pixels changes (0.066, 0.051; the
// faces augmentation moves crops by up to 6%, two or three pixels).
func TestResizeTo(t *testing.T) {
	grey := []float32{0.2, 0.4, 0.6, 0.8}
	got := ResizeTo(nil, grey, Input{1, 2, 2}, Input{3, 1, 1})
	if len(got) != 3 || math.Abs(float64(got[0])-0.5) > 1e-6 || got[1] != got[0] || got[2] != got[0] {
		t.Errorf("1×2×2 → 3×1×1 = %v, want the mean 0.5 three times", got)
	}
	got = ResizeTo(make([]float32, 0, 8), []float32{1, 0, 0}, Input{3, 1, 1}, Input{1, 1, 1})
	if len(got) != 1 || math.Abs(float64(got[0])-0.299) > 1e-6 {
		t.Errorf("red 3×1×1 → 1×1×1 = %v, want [0.299]", got)
	}

	d := newDetector(t)
	g, w, h := loadGray(t, "testdata/sample.jpg")
	faces := d.Detect(g, w, h)
	if len(faces) != 1 {
		t.Fatalf("%d faces in the sample, want 1", len(faces))
	}
	snap := Align(nil, g, w, h, faces[0], SnapshotInput)
	for _, side := range []int{32, 48} {
		in := Input{1, side, side}
		direct := Align(nil, g, w, h, faces[0], in)
		via := ResizeTo(nil, snap, SnapshotInput, in)
		shifted := faces[0]
		// A crop pixel is eyes' distance / (EyeDistance·side) frame pixels.
		step := math.Hypot(faces[0].RightEye.X-faces[0].LeftEye.X, faces[0].RightEye.Y-faces[0].LeftEye.Y) / (EyeDistance * float64(side))
		shifted.LeftEye.X += step
		shifted.RightEye.X += step
		moved := Align(nil, g, w, h, shifted, in)
		if d, m := meanAbsDiff(via, direct), meanAbsDiff(moved, direct); d > 0.03 || d > m/2 {
			t.Errorf("%d×%d: the reduced snapshot differs from the direct crop by %.4f on average, a crop moved by a pixel by %.4f", side, side, d, m)
		} else {
			t.Logf("%d×%d: reduced snapshot vs direct crop %.4f, moved a pixel %.4f", side, side, d, m)
		}
	}
}

func meanAbsDiff(a, b []float32) float64 {
	s := 0.0
	for i := range a {
		s += math.Abs(float64(a[i] - b[i]))
	}
	return s / float64(len(a))
}

// TestAlignRotations: the eye blobs of TestAlign, 70 px apart about
// (120, 100) at angles all round the circle (±90° and 180° included, where
// the "left" eye is above, below or right of the other in the frame), land
// level at their places in the crop, the first given at the crop's left.
func TestAlignRotations(t *testing.T) {
	const w, h = 240, 200
	in := Input{1, 40, 48}
	bg := float32(190.0 / 255)
	for _, deg := range []float64{0, 45, 89.9, 90, 90.1, 135, 180, -135, -90.1, -90, -89.9, -45} {
		c, s := math.Cos(deg*math.Pi/180), math.Sin(deg*math.Pi/180)
		l, r := Point{120 - 35*c, 100 - 35*s}, Point{120 + 35*c, 100 + 35*s}
		plane := Align(nil, blobs(w, h, l, r, 5), w, h, Face{LeftEye: l, RightEye: r}, in)
		wantY := EyeHeight * float64(in.Height)
		for _, e := range []struct {
			got   Point
			wantX float64
		}{
			{darkCentroid(plane, in.Width, 0, in.Width/2, bg), (0.5 - EyeDistance/2) * float64(in.Width)},
			{darkCentroid(plane, in.Width, in.Width/2, in.Width, bg), (0.5 + EyeDistance/2) * float64(in.Width)},
		} {
			if math.Abs(e.got.X-e.wantX) > 1 || math.Abs(e.got.Y-wantY) > 1 {
				t.Errorf("%g°: eye at (%.2f, %.2f), want (%.2f, %.2f) ± 1", deg, e.got.X, e.got.Y, e.wantX, wantY)
			}
		}
	}
}

// TestAlignSwapped: exchanging the eyes turns the crop by 180° about the
// eyes' midpoint (W/2, EyeHeight·H): crop pixel (u, v) of one is pixel
// (W−1−u, 2·EyeHeight·H−1−v) of the other (H = 20: 13 − v), up to float
// rounding of the preimages.
func TestAlignSwapped(t *testing.T) {
	const w, h = 50, 40
	g := make([]uint8, w*h)
	for i := range g {
		g[i] = uint8(i * 37 % 251)
	}
	l, r := Point{17.3, 21.9}, Point{33.1, 18.4}
	in := Input{1, 20, 15}
	a := Align(nil, g, w, h, Face{LeftEye: l, RightEye: r}, in)
	b := Align(nil, g, w, h, Face{LeftEye: r, RightEye: l}, in)
	for v := range 14 {
		for u := range in.Width {
			if x, y := a[v*in.Width+u], b[(13-v)*in.Width+in.Width-1-u]; math.Abs(float64(x-y)) > 1e-5 {
				t.Fatalf("(%d, %d): %g, turned %g", u, v, x, y)
			}
		}
	}
}

// TestAlignDegenerate: frames from 1×1 to long strips, eyes inside,
// outside and on the border of the frame, coincident (with a box, or with
// none), 1e-9 px apart or 1e6 px apart, crops of 1 or 3 channels and odd
// shapes: Align never panics (it would, reading outside the frame), its
// values are numbers within the frame's grey range, and a second call into
// a dst of garbage gives the same crop bit for bit.
func TestAlignDegenerate(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 1))
	sizes := [][2]int{{1, 1}, {2, 1}, {1, 300}, {1000, 1}, {7, 5}, {64, 48}, {3, 200}}
	for trial := range 300 {
		sz := sizes[rng.IntN(len(sizes))]
		w, h := sz[0], sz[1]
		g := make([]uint8, w*h)
		lo, hi := uint8(255), uint8(0)
		for i := range g {
			g[i] = uint8(40 + rng.IntN(150))
			lo, hi = min(lo, g[i]), max(hi, g[i])
		}
		at := func() Point {
			switch rng.IntN(4) {
			case 0: // on the border
				return Point{float64(rng.IntN(2) * w), rng.Float64() * float64(h)}
			case 1: // far outside
				return Point{(rng.Float64() - 0.5) * 1e6, (rng.Float64() - 0.5) * 1e6}
			}
			return Point{(rng.Float64()*3 - 1) * float64(w), (rng.Float64()*3 - 1) * float64(h)}
		}
		f := Face{LeftEye: at(), Box: image.Rect(-3, 2, 5+rng.IntN(20), 10+rng.IntN(20))}
		switch rng.IntN(3) {
		case 0:
			f.RightEye = f.LeftEye // no eye line: the box
		case 1:
			f.RightEye = Point{f.LeftEye.X + 1e-9, f.LeftEye.Y - 1e-9}
		default:
			f.RightEye = at()
		}
		in := Input{[]int{1, 3}[rng.IntN(2)], 1 + rng.IntN(40), 1 + rng.IntN(40)}
		a := Align(nil, g, w, h, f, in)
		garbage := make([]float32, in.Size()+5)
		for i := range garbage {
			garbage[i] = float32(math.NaN())
		}
		b := Align(garbage, g, w, h, f, in)
		if len(a) != in.Size() || len(b) != in.Size() {
			t.Fatalf("trial %d: lengths %d and %d, want %d", trial, len(a), len(b), in.Size())
		}
		for i, v := range a {
			if !(v >= float32(lo)/255-1e-6 && v <= float32(hi)/255+1e-6) || math.Float32bits(v) != math.Float32bits(b[i]) {
				t.Fatalf("trial %d (%d×%d, %+v, %v): value %d is %g then %g, frame range [%g, %g]", trial, w, h, f, in, i, v, b[i], float32(lo)/255, float32(hi)/255)
			}
		}
	}
}
