package sphere

import (
	"image"
	"image/color"
	"testing"
)

func TestShadeDisc(t *testing.T) {
	img := ShadeDiscTo(image.NewRGBA(image.Rect(0, 0, 64, 64)), color.RGBA{100, 120, 160, 255})
	if a := img.RGBAAt(32, 32).A; a != 255 {
		t.Errorf("centre alpha %d, want 255", a)
	}
	if c := img.RGBAAt(0, 0); c != (color.RGBA{}) {
		t.Errorf("corner %v, want transparent", c)
	}
	// Lit from the upper left: a point up-left of the centre is brighter
	// than the mirror point down-right.
	if ul, lr := img.RGBAAt(20, 20), img.RGBAAt(44, 44); !(ul.B > lr.B) {
		t.Errorf("upper left %v not brighter than lower right %v", ul, lr)
	}
	// Premultiplied: no channel exceeds alpha.
	for y := range 64 {
		for x := range 64 {
			c := img.RGBAAt(x, y)
			if c.R > c.A || c.G > c.A || c.B > c.A {
				t.Fatalf("pixel (%d,%d) = %v is not premultiplied", x, y, c)
			}
		}
	}
}

func TestDot(t *testing.T) {
	img := DotTo(image.NewRGBA(image.Rect(0, 0, 16, 16)))
	if c := img.RGBAAt(8, 8); c != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("centre %v, want opaque white", c)
	}
	if c := img.RGBAAt(0, 0); c.A != 0 {
		t.Errorf("corner alpha %d, want 0", c.A)
	}
	// Antialiased edge: the pixel straddling the edge on the row through the
	// centre is partly covered (distance 7.5 from the centre at radius 8).
	if a := img.RGBAAt(0, 8).A; a == 0 || a == 255 {
		t.Errorf("edge alpha %d, want partial", a)
	}
}
