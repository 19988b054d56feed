package vec

import (
	"image"
	"testing"
)

// TestPlanesImage: one plane gives a grey image, three an opaque RGB
// one, each value clamped to [0,1] and rounded to the nearest 8-bit level.
func TestPlanesImage(t *testing.T) {
	g, ok := PlanesImage([]float32{0, 0.5, 1, -1, 2, 0.2}, 1, 2, 3).(*image.Gray)
	if !ok || g.Bounds() != image.Rect(0, 0, 3, 2) || string(g.Pix) != string([]uint8{0, 128, 255, 0, 255, 51}) {
		t.Errorf("grey: %T %v", g, g)
	}
	rgb, ok := PlanesImage([]float32{1, 0, 0, 1, 0.5, 0}, 3, 1, 2).(*image.NRGBA)
	if !ok || string(rgb.Pix) != string([]uint8{1 * 255, 0, 128, 255, 0, 255, 0, 255}) {
		t.Errorf("rgb: %T %v", rgb, rgb)
	}
}
