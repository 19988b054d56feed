package sphere

import (
	"image/color"
	"math"
)

// palette holds 12 class colours that stay apart from each other and from a
// dark background: Tableau 10 (Maureen Stone's 2016 revision, the colours
// of matplotlib's "tab10" family familiar from MNIST embedding plots), then
// two lighter tones of Tableau 20. The closest pair (purple, grey) is 56
// apart in RGB.
var palette = [...]color.RGBA{
	{0x4E, 0x79, 0xA7, 0xFF}, // blue
	{0xF2, 0x8E, 0x2B, 0xFF}, // orange
	{0xE1, 0x57, 0x59, 0xFF}, // red
	{0x76, 0xB7, 0xB2, 0xFF}, // teal
	{0x59, 0xA1, 0x4F, 0xFF}, // green
	{0xED, 0xC9, 0x48, 0xFF}, // yellow
	{0xB0, 0x7A, 0xA1, 0xFF}, // purple
	{0xFF, 0x9D, 0xA7, 0xFF}, // pink
	{0x9C, 0x75, 0x5F, 0xFF}, // brown
	{0xBA, 0xB0, 0xAC, 0xFF}, // grey
	{0xA0, 0xCB, 0xE8, 0xFF}, // light blue
	{0x8C, 0xD1, 0x7D, 0xFF}, // light green
}

// PaletteSize is the number of hand-picked class colours; ClassColor makes up
// the rest.
const PaletteSize = len(palette)

// ClassColor returns the opaque colour of class c: the hand-picked palette
// for c < PaletteSize, then hues spaced by the golden angle (137.5°) at
// alternating lightness, and mid grey for a negative (unknown) class. The
// hues start at generatedHue, away from the palette's.
func ClassColor(c int) color.RGBA {
	switch {
	case c < 0:
		return color.RGBA{0x88, 0x88, 0x88, 0xFF}
	case c < PaletteSize:
		return palette[c]
	}
	k := c - PaletteSize
	h := math.Mod(generatedHue+float64(k)*137.50776405, 360)
	v := 0.95
	if k%2 == 1 {
		v = 0.75
	}
	return hsv(h, 0.6, v)
}

// generatedHue is the hue of the first colour past the palette, in
// degrees: violet, where the palette has none. From 0° (red) the 13th
// class was 21 apart from the palette's red, the 3rd; from 270° the first
// 20 classes stay 44 apart (measured over starts 5° apart: the best for 20
// classes is 46 at 280°, while 270° keeps 56, the palette's own gap, to 14
// classes).
const generatedHue = 270

// hsv converts hue h in degrees, saturation s and value v in [0, 1] to an
// opaque colour.
func hsv(h, s, v float64) color.RGBA {
	c := v * s
	hp := h / 60
	x := c * (1 - math.Abs(math.Mod(hp, 2)-1))
	var r, g, b float64
	switch {
	case hp < 1:
		r, g = c, x
	case hp < 2:
		r, g = x, c
	case hp < 3:
		g, b = c, x
	case hp < 4:
		g, b = x, c
	case hp < 5:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := v - c
	to8 := func(f float64) uint8 { return uint8(math.Round(255 * (f + m))) }
	return color.RGBA{to8(r), to8(g), to8(b), 0xFF}
}
