package face

import (
	"image"
	"testing"
)

// TestCheck builds a frame of each quality from pigo's sample: the frame
// as is (OK), a flat frame (NoFace), two copies side by side
// (SeveralFaces, in TestDetectTwo), the frame shrunk 4× onto a 320×240
// canvas (the face about 57 px wide: TooSmall) and the frame box-blurred
// (TooBlurred).
func TestCheck(t *testing.T) {
	g, w, h := loadGray(t, "testdata/sample.jpg")
	small, sw, sh := shrink(g, w, h, 4)
	d := newDetector(t)
	for _, c := range []struct {
		name string
		g    []uint8
		w, h int
		want Quality
	}{
		{"sharp", g, w, h, OK},
		{"flat", make([]uint8, 320*240), 320, 240, NoFace},
		{"small", paste(320, 240, 240, small, sw, sh, 120, 70), 320, 240, TooSmall},
		{"blur 3×3", boxBlur(g, w, h, 1), w, h, TooBlurred},
		{"blur 5×5", boxBlur(g, w, h, 2), w, h, TooBlurred},
	} {
		faces := d.Detect(c.g, c.w, c.h)
		q, f := Check(c.g, c.w, c.h, faces)
		if q != c.want {
			t.Errorf("%s: %v, want %v (faces %+v)", c.name, q, c.want, faces)
		}
		if (f != nil) != (len(faces) == 1) {
			t.Errorf("%s: face %v with %d faces", c.name, f, len(faces))
		}
		if len(faces) == 1 {
			t.Logf("%s: box %v, sharpness %.1f", c.name, faces[0].Box, Sharpness(c.g, c.w, c.h, faces[0].Box))
		}
	}
}

// TestSharpness: a flat box has no Laplacian; a checkerboard of 0 and 255
// has L = ±4·255 everywhere, mean 0, variance (4·255)² = 1040400.
func TestSharpness(t *testing.T) {
	const w, h = 20, 20
	flat := make([]uint8, w*h)
	checker := make([]uint8, w*h)
	for i := range checker {
		if (i%w+i/w)%2 == 0 {
			checker[i] = 255
		}
	}
	box := image.Rect(2, 2, 18, 18)
	if s := Sharpness(flat, w, h, box); s != 0 {
		t.Errorf("flat: %g, want 0", s)
	}
	if s := Sharpness(checker, w, h, box); s != 1040400 {
		t.Errorf("checker: %g, want 1040400", s)
	}
	if s := Sharpness(checker, w, h, image.Rect(30, 30, 40, 40)); s != 0 {
		t.Errorf("box outside: %g, want 0", s)
	}
}

func TestQualityString(t *testing.T) {
	for q, want := range map[Quality]string{
		OK: "ok", NoFace: "no face", SeveralFaces: "several faces: one at a time",
		TooSmall: "too small: come closer", TooBlurred: "too blurred: hold still",
	} {
		if q.String() != want {
			t.Errorf("%d: %q, want %q", int(q), q.String(), want)
		}
	}
}
