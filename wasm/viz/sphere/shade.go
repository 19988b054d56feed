package sphere

import (
	"image"
	"image/color"
	"math"
)

// ShadeDiscTo paints into dst the picture of a lit sphere seen from the
// front: a disc of radius min(w, h)/2 centred in dst's bounds, lit by a
// light from the upper left and the viewer with Lambert's cosine law plus
// ambient light and a faint rim, in shades of base; outside the disc dst is
// transparent, and the edge is antialiased over one pixel. With the unit
// normal n = (x, −y, √(1 − x² − y²)) at the disc point (x, y) (y down) and
// the unit light direction l,
//
//	I = 0.35 + 0.65·max(0, n·l) + 0.25·(1 − n_z)⁴
//
// The viewer paints this once into an offscreen image and draws it scaled:
// it never changes with the view. The colours are premultiplied by alpha,
// as image.RGBA holds them.
func ShadeDiscTo(dst *image.RGBA, base color.RGBA) *image.RGBA {
	b := dst.Bounds()
	w, h := b.Dx(), b.Dy()
	r := math.Min(float64(w), float64(h)) / 2
	cx, cy := float64(b.Min.X)+float64(w)/2, float64(b.Min.Y)+float64(h)/2
	l := Normalize(Vec3{-0.45, 0.55, 0.7})
	for py := b.Min.Y; py < b.Max.Y; py++ {
		for px := b.Min.X; px < b.Max.X; px++ {
			x := (float64(px) + 0.5 - cx) / r
			y := (float64(py) + 0.5 - cy) / r
			d := math.Hypot(x, y)
			cover := math.Max(0, math.Min(1, (1-d)*r+0.5)) // pixels inside the edge
			if cover == 0 {
				dst.SetRGBA(px, py, color.RGBA{})
				continue
			}
			nz := math.Sqrt(math.Max(0, 1-d*d))
			n := Vec3{x, -y, nz}
			rim := math.Pow(1-nz, 4)
			in := 0.35 + 0.65*math.Max(0, Dot(n, l)) + 0.25*rim
			ch := func(c uint8) uint8 {
				return uint8(math.Round(math.Min(255, float64(c)*in) * cover))
			}
			dst.SetRGBA(px, py, color.RGBA{ch(base.R), ch(base.G), ch(base.B), uint8(math.Round(255 * cover))})
		}
	}
	return dst
}

// DotTo paints into dst a white antialiased disc filling its bounds, with
// straight alpha premultiplied as image.RGBA holds it: the sprite that the
// viewer tints and scales for every point, so that all points go to the GPU
// in one batch.
func DotTo(dst *image.RGBA) *image.RGBA {
	b := dst.Bounds()
	w, h := b.Dx(), b.Dy()
	r := math.Min(float64(w), float64(h)) / 2
	cx, cy := float64(b.Min.X)+float64(w)/2, float64(b.Min.Y)+float64(h)/2
	for py := b.Min.Y; py < b.Max.Y; py++ {
		for px := b.Min.X; px < b.Max.X; px++ {
			d := math.Hypot(float64(px)+0.5-cx, float64(py)+0.5-cy)
			a := uint8(math.Round(255 * math.Max(0, math.Min(1, r-d+0.5))))
			dst.SetRGBA(px, py, color.RGBA{a, a, a, a})
		}
	}
	return dst
}
