package face

import (
	"math"
	"math/rand/v2"
	"testing"

	"metriclab/assets"
)

func newDetector(t testing.TB) *Detector {
	t.Helper()
	d, err := NewDetector(assets.FaceFinder, assets.PupLoc)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDetectSample finds the one face of pigo's testdata/sample.jpg
// (320×400, a frontal portrait). Expected places read off the image: the
// face spans about x 45..265, y 85..315 (brows to chin), the pupils are at
// about (115, 183) and (205, 183).
func TestDetectSample(t *testing.T) {
	g, w, h := loadGray(t, "testdata/sample.jpg")
	d := newDetector(t)
	faces := d.Detect(g, w, h)
	if len(faces) != 1 {
		t.Fatalf("%d faces, want 1: %+v", len(faces), faces)
	}
	f := faces[0]
	cx, cy := float64(f.Box.Min.X+f.Box.Max.X)/2, float64(f.Box.Min.Y+f.Box.Max.Y)/2
	if math.Abs(cx-155) > 15 || math.Abs(cy-200) > 20 || f.Box.Dx() < 190 || f.Box.Dx() > 270 {
		t.Errorf("box %v, want centre (155, 200) ± (15, 20), width 190..270", f.Box)
	}
	if f.Score <= MinScore {
		t.Errorf("score %g ≤ MinScore", f.Score)
	}
	for _, c := range []struct {
		name       string
		got        Point
		wantX, tol float64
	}{
		{"left", f.LeftEye, 115, 8},
		{"right", f.RightEye, 205, 8},
	} {
		if math.Abs(c.got.X-c.wantX) > c.tol || math.Abs(c.got.Y-183) > c.tol {
			t.Errorf("%s eye at %+v, want (%g, 183) ± %g", c.name, c.got, c.wantX, c.tol)
		}
	}
}

// TestDetectNone: pigo's 10×10 testdata/test.png is smaller than the
// smallest window, and a flat frame has nothing to find.
func TestDetectNone(t *testing.T) {
	d := newDetector(t)
	g, w, h := loadGray(t, "testdata/test.png")
	if faces := d.Detect(g, w, h); len(faces) != 0 {
		t.Errorf("test.png: %d faces, want 0", len(faces))
	}
	flat := make([]uint8, 320*240)
	for i := range flat {
		flat[i] = 128
	}
	if faces := d.Detect(flat, 320, 240); len(faces) != 0 {
		t.Errorf("flat frame: %d faces, want 0", len(faces))
	}
}

// TestDetectTwo: two copies of the sample side by side are two faces,
// sorted by score, the left copy's and the right copy's boxes apart.
func TestDetectTwo(t *testing.T) {
	g, w, h := loadGray(t, "testdata/sample.jpg")
	two := paste(2*w, h, 255, g, w, h, 0, 0)
	for y := range h {
		copy(two[y*2*w+w:(y+1)*2*w], g[y*w:(y+1)*w])
	}
	faces := newDetector(t).Detect(two, 2*w, h)
	if len(faces) != 2 {
		t.Fatalf("%d faces, want 2: %+v", len(faces), faces)
	}
	if faces[0].Score < faces[1].Score {
		t.Errorf("scores %g, %g not decreasing", faces[0].Score, faces[1].Score)
	}
	if faces[0].Box.Overlaps(faces[1].Box) {
		t.Errorf("boxes %v and %v overlap", faces[0].Box, faces[1].Box)
	}
	if q, _ := Check(two, 2*w, h, faces); q != SeveralFaces {
		t.Errorf("Check = %v, want %v", q, SeveralFaces)
	}
}

// frame320 is the sample cropped to a 320×240 webcam-sized frame around
// its face (rows 80..320).
func frame320(t testing.TB) []uint8 {
	g, w, _ := loadGray(t, "testdata/sample.jpg")
	return g[80*w : 320*w]
}

func BenchmarkDetect(b *testing.B) {
	g := frame320(b)
	d := newDetector(b)
	b.ResetTimer()
	for b.Loop() {
		if len(d.Detect(g, 320, 240)) != 1 {
			b.Fatal("no face")
		}
	}
}

// TestDetectDegenerate: empty, 1×1, window-sized, black, white and noisy
// frames, and strips far wider or taller than the window, have no face
// and do not panic; the sample in a long strip, against its edge, is
// still its one face, with pupils inside the frame, and its crop can be
// made.
func TestDetectDegenerate(t *testing.T) {
	d := newDetector(t)
	rng := rand.New(rand.NewPCG(51, 1))
	for _, c := range []struct {
		w, h int
		fill int // grey level, or −1 for noise
	}{
		{0, 0, 0}, {0, 50, 0}, {1, 1, 0}, {31, 31, -1}, {MinSize, MinSize, -1}, {MinSize + 2, MinSize + 2, -1},
		{320, 240, 0}, {320, 240, 255}, {320, 240, -1}, {4096, 40, -1}, {40, 4096, -1}, {20000, 33, -1},
	} {
		g := make([]uint8, c.w*c.h)
		for i := range g {
			if c.fill < 0 {
				g[i] = uint8(rng.IntN(256))
			} else {
				g[i] = uint8(c.fill)
			}
		}
		if faces := d.Detect(g, c.w, c.h); len(faces) != 0 {
			t.Errorf("%d×%d of %d: %d faces, want 0", c.w, c.h, c.fill, len(faces))
		}
		if q, f := Check(g, c.w, c.h, nil); q != NoFace || f != nil {
			t.Errorf("%d×%d: Check %v", c.w, c.h, q)
		}
	}
	s, w, h := loadGray(t, "testdata/sample.jpg")
	for _, x0 := range []int{0, 2000 - w} {
		strip := paste(2000, h, 128, s, w, h, x0, 0)
		faces := d.Detect(strip, 2000, h)
		if len(faces) != 1 {
			t.Fatalf("sample at x %d of a 2000-wide strip: %d faces, want 1", x0, len(faces))
		}
		f := faces[0]
		for _, p := range []Point{f.LeftEye, f.RightEye} {
			if p.X < float64(x0) || p.X > float64(x0+w) || p.Y < 0 || p.Y > float64(h) {
				t.Errorf("sample at x %d: pupil %+v outside the sample", x0, p)
			}
		}
		Align(nil, strip, 2000, h, f, Input{3, 24, 20})
	}
}
