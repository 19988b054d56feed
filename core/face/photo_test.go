package face

import (
	"image"
	"math"
	"testing"
)

// grayImage wraps w×h grey levels as an image.
func grayImage(g []uint8, w, h int) *image.Gray {
	return &image.Gray{Pix: g, Stride: w, Rect: image.Rect(0, 0, w, h)}
}

// crop returns the rectangle r of the w-wide frame g.
func crop(g []uint8, w int, r image.Rectangle) []uint8 {
	out := make([]uint8, 0, r.Dx()*r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		out = append(out, g[y*w+r.Min.X:y*w+r.Max.X]...)
	}
	return out
}

// TestAlignPhoto: a portrait cut tight around the face of pigo's sample
// (x 55..255, y 90..320: the face fills the photo) gives about the crop
// that Align makes from the whole sample (the pupils found in the tight
// portrait differ by a pixel or so: mean difference under 0.05 of the grey
// range); a flat photo has no face, the same portrait shrunk below the
// crop's width is too small, blurred it is too blurred, and two portraits
// side by side are several faces.
func TestAlignPhoto(t *testing.T) {
	g, w, h := loadGray(t, "testdata/sample.jpg")
	d := newDetector(t)
	in := Input{Channels: 1, Height: 64, Width: 64}
	faces := d.Detect(g, w, h)
	if len(faces) != 1 {
		t.Fatalf("sample: %d faces", len(faces))
	}
	want := Align(nil, g, w, h, faces[0], in)

	r := image.Rect(55, 90, 255, 320)
	tight := crop(g, w, r)
	t.Logf("faces found in the tight portrait as it is: %d", len(d.Detect(tight, r.Dx(), r.Dy())))
	got, q := d.AlignPhoto(nil, grayImage(tight, r.Dx(), r.Dy()), in)
	if q != OK {
		t.Fatalf("tight portrait: %v", q)
	}
	var diff float64
	for i := range want {
		diff += math.Abs(float64(got[i] - want[i]))
	}
	if diff /= float64(len(want)); diff > 0.05 {
		t.Errorf("tight portrait: mean difference %.3f from the sample's crop", diff)
	}

	flat := make([]uint8, 100*120)
	for i := range flat {
		flat[i] = 90
	}
	small := make([]uint8, 0, 50*58)
	for y := range 58 { // every 4th pixel: 50×58, the face about 50 wide
		for x := range 50 {
			small = append(small, tight[4*y*r.Dx()+4*x])
		}
	}
	pair := paste(2*r.Dx(), r.Dy(), 0, tight, r.Dx(), r.Dy(), 0, 0)
	for y := range r.Dy() {
		copy(pair[y*2*r.Dx()+r.Dx():(y+1)*2*r.Dx()], tight[y*r.Dx():(y+1)*r.Dx()])
	}
	for _, c := range []struct {
		name string
		img  image.Image
		want Quality
	}{
		{"flat", grayImage(flat, 100, 120), NoFace},
		{"shrunk", grayImage(small, 50, 58), TooSmall},
		{"blurred", grayImage(boxBlur(tight, r.Dx(), r.Dy(), 2), r.Dx(), r.Dy()), TooBlurred},
		{"two", grayImage(pair, 2*r.Dx(), r.Dy()), SeveralFaces},
	} {
		if got, q := d.AlignPhoto(nil, c.img, in); q != c.want || got != nil {
			t.Errorf("%s: %v (crop %v), want %v", c.name, q, got != nil, c.want)
		}
	}
}

// TestPadGray: the margin repeats the edge pixels, the inside is the
// photo, and a colour photo turns grey by its luma.
func TestPadGray(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 4, 2))
	for i := range 8 {
		src.Pix[4*i], src.Pix[4*i+1], src.Pix[4*i+2], src.Pix[4*i+3] = uint8(10*i), uint8(10*i), uint8(10*i), 255
	}
	g, w, h := padGray(src, 0.5) // pad 1: half the height, the smaller side
	if w != 6 || h != 4 {
		t.Fatalf("size %d×%d, want 6×4", w, h)
	}
	for y := range h {
		for x := range w {
			sx, sy := clampInt(x-1, 4), clampInt(y-1, 2)
			if want := uint8(10 * (sy*4 + sx)); g[y*w+x] != want {
				t.Fatalf("(%d,%d) = %d, want %d", x, y, g[y*w+x], want)
			}
		}
	}
}

// TestPadGrayWide: a photo wider than tall is padded by the margin of its
// height, its smaller side, so that the padded photo stays within
// (1 + 2·margin)² of its pixels: padded by a quarter of its width on every
// side, a strip of 8192×2 (16 kB of pixels) became 12288×4098 (50 MB), one
// of 65536×1024, which the folder loader lets through (2^26 pixels), 3.3 GB,
// and one of 2^26×1 panicked (makeslice: len out of range).
func TestPadGrayWide(t *testing.T) {
	for _, size := range []image.Point{{8192, 2}, {2, 8192}, {300, 200}, {1 << 26, 1}} {
		g, w, h := padGray(image.NewGray(image.Rect(0, 0, size.X, size.Y)), PhotoMargin)
		pad := int(PhotoMargin * float64(min(size.X, size.Y)))
		if w != size.X+2*pad || h != size.Y+2*pad || len(g) != w*h {
			t.Errorf("%d×%d padded to %d×%d (%d values), want %d×%d", size.X, size.Y, w, h, len(g), size.X+2*pad, size.Y+2*pad)
		}
	}
}

// TestPadGraySubImage: a grey photo that is part of a larger one (its
// bounds not at the origin; rows the parent's width, or its own) pads as
// the same pixels copied out; an empty photo pads to nothing.
func TestPadGraySubImage(t *testing.T) {
	parent := image.NewGray(image.Rect(0, 0, 7, 6))
	for i := range parent.Pix {
		parent.Pix[i] = uint8(i * 5)
	}
	for _, r := range []image.Rectangle{image.Rect(0, 2, 7, 5), image.Rect(2, 1, 5, 6), image.Rect(6, 5, 7, 6)} {
		sub := parent.SubImage(r).(*image.Gray)
		own := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
		for y := range r.Dy() {
			for x := range r.Dx() {
				own.Pix[y*r.Dx()+x] = parent.GrayAt(r.Min.X+x, r.Min.Y+y).Y
			}
		}
		g, w, h := padGray(sub, 0.5)
		want, ww, wh := padGray(own, 0.5)
		if w != ww || h != wh || string(g) != string(want) {
			t.Errorf("%v: %d×%d %v, copied out %d×%d %v", r, w, h, g, ww, wh, want)
		}
	}
	for _, img := range []image.Image{image.NewGray(image.Rect(3, 3, 3, 9)), image.NewRGBA(image.Rectangle{})} {
		if g, w, h := padGray(img, PhotoMargin); len(g) != 0 || w*h != 0 {
			t.Errorf("%v: %d×%d, %d values", img.Bounds(), w, h, len(g))
		}
	}
}
