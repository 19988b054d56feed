package sphere

import (
	"image/color"
	"math"
	"testing"
)

func rgbDist(a, b color.RGBA) float64 {
	dr, dg, db := float64(a.R)-float64(b.R), float64(a.G)-float64(b.G), float64(a.B)-float64(b.B)
	return math.Sqrt(dr*dr + dg*dg + db*db)
}

func TestClassColorsAreDistinct(t *testing.T) {
	background := color.RGBA{0x10, 0x14, 0x1c, 0xff} // web/viz.html's background
	for _, tc := range []struct {
		name   string
		n      int
		minGap float64 // least RGB distance between two classes
	}{
		{"palette", PaletteSize, 45}, // Tableau 10 + 2; the closest pair is 56 apart
		{"20 classes", 20, 40},       // golden-angle hues from violet: the first 8 stay apart from the palette (44)
		{"30 classes", 30, 8},        // and then distinct, if closer (28)
	} {
		for i := range tc.n {
			ci := ClassColor(i)
			if ci.A != 0xff {
				t.Errorf("class %d is not opaque", i)
			}
			if d := rgbDist(ci, background); d < 80 {
				t.Errorf("class %d is %g from the background", i, d)
			}
			for j := range i {
				if d := rgbDist(ci, ClassColor(j)); d < tc.minGap {
					t.Errorf("%s: classes %d and %d are %g apart, want ≥ %g", tc.name, i, j, d, tc.minGap)
				}
			}
		}
	}
	if c := ClassColor(-1); c.R != c.G || c.G != c.B {
		t.Errorf("unknown class colour %v is not grey", c)
	}
	if a, b := ClassColor(3), ClassColor(3); a != b {
		t.Error("colours are not deterministic")
	}
	if a, b := ClassColor(40), ClassColor(40); a != b {
		t.Error("colours are not deterministic")
	}
}
