package data

import (
	"fmt"
	"math"
	"math/rand/v2"

	"metriclab/core"
)

// Ranges of Augment's random transformations.
const (
	AugmentShift      = 0.06 // shift up to ±6% of the width and height (±1.9 px at 32)
	AugmentRotation   = 10   // rotation up to ±10 degrees about the centre
	AugmentBrightness = 0.1  // added to every pixel, up to ±0.1
	AugmentContrast   = 0.2  // contrast factor in [1−0.2, 1+0.2], about 0.5
)

// augmentation is one draw of Augment's transformations.
type augmentation struct {
	flip       bool    // mirror left–right
	dx, dy     float64 // shift in pixels
	angle      float64 // rotation in radians, clockwise on screen (y down)
	brightness float64 // added after contrast
	contrast   float64 // factor about 0.5
}

// Augment writes into dst (reused when large enough) a randomly transformed
// copy of the image src of shape in, pixels in [0,1], for training on few
// images (the webcam enrollments): with probability ½ a horizontal flip,
// then a rotation by θ ~ U(±AugmentRotation°) about the centre and a shift
// by (dx, dy) ~ U(±AugmentShift·W) × U(±AugmentShift·H), each output pixel
// the bilinear interpolation of the source at the preimage of its centre
// (the source extended by its edge pixels), and then
//
//	v' = clamp((v − ½)·c + ½ + b, 0, 1),  c ~ U(1 ± AugmentContrast), b ~ U(±AugmentBrightness).
//
// The same geometry applies to every channel. The draws come from rng, in
// a fixed order, so equal rng states give equal images. It panics when src
// is not in.Size() values.
func Augment(dst, src []float32, in core.Input, rng *rand.Rand) []float32 {
	a := augmentation{
		flip:       rng.IntN(2) == 1,
		dx:         (2*rng.Float64() - 1) * AugmentShift * float64(in.Width),
		dy:         (2*rng.Float64() - 1) * AugmentShift * float64(in.Height),
		angle:      (2*rng.Float64() - 1) * AugmentRotation * math.Pi / 180,
		contrast:   1 + (2*rng.Float64()-1)*AugmentContrast,
		brightness: (2*rng.Float64() - 1) * AugmentBrightness,
	}
	return augment(dst, src, in, a)
}

// augment applies a to src (see Augment).
func augment(dst, src []float32, in core.Input, a augmentation) []float32 {
	n := in.Size()
	if len(src) != n || n == 0 {
		panic(fmt.Sprintf("data: Augment: %d values for a %d×%d×%d image", len(src), in.Channels, in.Height, in.Width))
	}
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	w, h := in.Width, in.Height
	cx, cy := float64(w)/2, float64(h)/2
	cos, sin := math.Cos(a.angle), math.Sin(a.angle)
	for v := range h {
		for u := range w {
			// Undo the shift, then the rotation, then the flip.
			x, y := float64(u)+0.5-a.dx-cx, float64(v)+0.5-a.dy-cy
			x, y = cos*x+sin*y+cx, -sin*x+cos*y+cy
			if a.flip {
				x = float64(w) - x
			}
			// Bilinear weights about pixel centres.
			fx, fy := x-0.5, y-0.5
			x0, y0 := math.Floor(fx), math.Floor(fy)
			tx, ty := float32(fx-x0), float32(fy-y0)
			i0, i1 := clampIndex(int(x0), w), clampIndex(int(x0)+1, w)
			j0, j1 := clampIndex(int(y0), h), clampIndex(int(y0)+1, h)
			for c := range in.Channels {
				p := src[c*w*h : (c+1)*w*h]
				top := p[j0*w+i0]*(1-tx) + p[j0*w+i1]*tx
				bot := p[j1*w+i0]*(1-tx) + p[j1*w+i1]*tx
				val := float64(top*(1-ty) + bot*ty)
				val = (val-0.5)*a.contrast + 0.5 + a.brightness
				dst[c*w*h+v*w+u] = float32(min(max(val, 0), 1))
			}
		}
	}
	return dst
}

// clampIndex clamps i to [0, n−1].
func clampIndex(i, n int) int { return min(max(i, 0), n-1) }
