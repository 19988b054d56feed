package vec

import (
	"fmt"
	"image"
)

// PlanesImage returns px, c planes of h×w values in [0,1] (c 1 or 3), as
// an 8-bit image: grey for one plane, opaque RGB for three; values are
// clamped to [0,1] and rounded to the nearest level. It panics when px
// does not hold c·h·w values.
func PlanesImage(px []float32, c, h, w int) image.Image {
	if len(px) != c*h*w || (c != 1 && c != 3) {
		panic(fmt.Sprintf("vec: PlanesImage: %d values for %d×%d×%d", len(px), c, h, w))
	}
	q := func(v float32) uint8 { return uint8(min(max(v, 0), 1)*255 + 0.5) }
	if c == 1 {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for i, v := range px {
			g.Pix[i] = q(v)
		}
		return g
	}
	rgb := image.NewNRGBA(image.Rect(0, 0, w, h))
	n := h * w
	for i := range n {
		rgb.Pix[4*i], rgb.Pix[4*i+1], rgb.Pix[4*i+2], rgb.Pix[4*i+3] = q(px[i]), q(px[n+i]), q(px[2*n+i]), 255
	}
	return rgb
}
