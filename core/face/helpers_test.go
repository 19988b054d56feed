package face

import (
	"image"
	"image/draw"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"testing"
)

// loadGray decodes the image at path into grey levels (image/color's
// luma), returning its pixels and size.
func loadGray(t testing.TB, path string) ([]uint8, int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := src.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(g, g.Bounds(), src, b.Min, draw.Src)
	return g.Pix, b.Dx(), b.Dy()
}

// boxBlur returns the w×h frame g blurred by a (2r+1)×(2r+1) box, edges
// replicated.
func boxBlur(g []uint8, w, h, r int) []uint8 {
	out := make([]uint8, len(g))
	for y := range h {
		for x := range w {
			s, n := 0, 0
			for dy := -r; dy <= r; dy++ {
				for dx := -r; dx <= r; dx++ {
					s += int(g[clampInt(y+dy, h)*w+clampInt(x+dx, w)])
					n++
				}
			}
			out[y*w+x] = uint8((s + n/2) / n)
		}
	}
	return out
}

// paste returns a cw×ch frame of grey level bg with the w×h frame g's
// pixels copied at (x0, y0).
func paste(cw, ch int, bg uint8, g []uint8, w, h, x0, y0 int) []uint8 {
	out := make([]uint8, cw*ch)
	for i := range out {
		out[i] = bg
	}
	for y := range h {
		copy(out[(y0+y)*cw+x0:(y0+y)*cw+x0+w], g[y*w:(y+1)*w])
	}
	return out
}

// shrink returns the w×h frame g reduced by the integer factor k (the mean
// of each k×k block).
func shrink(g []uint8, w, h, k int) ([]uint8, int, int) {
	sw, sh := w/k, h/k
	out := make([]uint8, sw*sh)
	for y := range sh {
		for x := range sw {
			s := 0
			for dy := range k {
				for dx := range k {
					s += int(g[(y*k+dy)*w+x*k+dx])
				}
			}
			out[y*sw+x] = uint8((s + k*k/2) / (k * k))
		}
	}
	return out, sw, sh
}
