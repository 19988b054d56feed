package face

import (
	"fmt"
	"math"

	"metriclab/core/vec"
)

// Input is the shape of the encoder's input: Channels×Height×Width.
type Input struct{ Channels, Height, Width int }

// DefaultInput is the default encoder input: 1×32×32 grey.
var DefaultInput = Input{Channels: 1, Height: 32, Width: 32}

// SnapshotInput is the shape the Verify page crops and keeps its
// snapshots at: grey 64×64, larger than the presets' encoders take, so
// that every such encoder gets its input by a reduction (ResizeTo).
var SnapshotInput = Input{Channels: 1, Height: 64, Width: 64}

// Size is the number of values of an input: Channels·Height·Width.
func (in Input) Size() int { return in.Channels * in.Height * in.Width }

// ResizeTo writes into dst (reused when large enough) the crop src of
// shape from as shape to: the planes resized by vec.ResizeTo (bilinear up,
// area average down), then grey replicated into 3 channels or 3 channels
// made grey by the ITU-R BT.601 luma, 0.299 R + 0.587 G + 0.114 B (as the
// folder loader makes grey; Align's replicated grey stays itself). It
// returns dst, and panics when src is not from.Size() values or a shape
// has other than 1 or 3 channels.
func ResizeTo(dst, src []float32, from, to Input) []float32 {
	if len(src) != from.Size() || from.Channels != 1 && from.Channels != 3 || to.Channels != 1 && to.Channels != 3 || to.Height <= 0 || to.Width <= 0 {
		panic(fmt.Sprintf("face: ResizeTo: %d values of %d×%d×%d to %d×%d×%d", len(src), from.Channels, from.Height, from.Width, to.Channels, to.Height, to.Width))
	}
	resized := vec.ResizeTo(dst[:0], src, from.Channels, from.Height, from.Width, to.Height, to.Width)
	plane := to.Height * to.Width
	switch {
	case from.Channels == 1 && to.Channels == 3:
		resized = append(resized, resized[:plane]...)
		resized = append(resized, resized[:plane]...)
	case from.Channels == 3 && to.Channels == 1:
		r, g, b := resized[:plane], resized[plane:2*plane], resized[2*plane:]
		for i := range plane {
			r[i] = 0.299*r[i] + 0.587*g[i] + 0.114*b[i]
		}
		resized = resized[:plane]
	}
	return resized
}

// Where Align puts the eyes, as fractions of the crop: the eyes are
// EyeDistance·W apart, centred horizontally, at EyeHeight·H from the top.
const (
	EyeDistance = 0.4
	EyeHeight   = 0.35
)

// Align crops the face f out of the grey w×h frame gray into dst, the
// encoder input in: the similarity transform that rotates the eyes level
// and scales them EyeDistance·W apart maps them to
//
//	left  = ((½ − EyeDistance/2)·W, EyeHeight·H) = (0.3·W, 0.35·H)
//	right = ((½ + EyeDistance/2)·W, EyeHeight·H) = (0.7·W, 0.35·H)
//
// in the crop's continuous coordinates (pixel (u, v) covers
// [u, u+1)×[v, v+1)). Each crop pixel takes the bilinear interpolation of
// the frame at the centre's preimage, the frame extended by its edge
// pixels, scaled to [0,1]. With 3 channels the grey is replicated. dst is
// Channels·Height·Width values, planar; Align reuses its storage when it is
// large enough and returns it. It panics when the frame or the input shape
// are inconsistent.
func Align(dst []float32, gray []uint8, w, h int, f Face, in Input) []float32 {
	if w <= 0 || h <= 0 || len(gray) < w*h {
		panic(fmt.Sprintf("face: Align: %d pixels for a %d×%d frame", len(gray), w, h))
	}
	if in.Channels != 1 && in.Channels != 3 || in.Height <= 0 || in.Width <= 0 {
		panic(fmt.Sprintf("face: Align: bad input %d×%d×%d", in.Channels, in.Height, in.Width))
	}
	plane := in.Height * in.Width
	n := in.Channels * plane
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]

	// The frame point of crop point (u, v) is
	//	M + s·R(θ)·(u − W/2, v − EyeHeight·H),
	// M the eyes' midpoint, θ the angle of the eye line, s the frame's
	// pixels per crop pixel.
	mx, my := (f.LeftEye.X+f.RightEye.X)/2, (f.LeftEye.Y+f.RightEye.Y)/2
	ex, ey := f.RightEye.X-f.LeftEye.X, f.RightEye.Y-f.LeftEye.Y
	dist := math.Hypot(ex, ey)
	if dist == 0 {
		// No eye line: take the box, eyes level at its documented places.
		dist = EyeDistance * float64(f.Box.Dx())
		ex, ey = dist, 0
		mx = float64(f.Box.Min.X+f.Box.Max.X) / 2
		my = float64(f.Box.Min.Y) + EyeHeight*float64(f.Box.Dy())
	}
	s := dist / (EyeDistance * float64(in.Width))
	cos, sin := s*ex/dist, s*ey/dist
	cx, cy := float64(in.Width)/2, EyeHeight*float64(in.Height)
	for v := range in.Height {
		dy := float64(v) + 0.5 - cy
		for u := range in.Width {
			dx := float64(u) + 0.5 - cx
			x := mx + cos*dx - sin*dy
			y := my + sin*dx + cos*dy
			dst[v*in.Width+u] = bilinear(gray, w, h, x, y) / 255
		}
	}
	for c := 1; c < in.Channels; c++ {
		copy(dst[c*plane:(c+1)*plane], dst[:plane])
	}
	return dst
}

// bilinear interpolates the w×h frame gray at the continuous point (x, y),
// the frame extended by its edge pixels.
func bilinear(gray []uint8, w, h int, x, y float64) float32 {
	fx, fy := x-0.5, y-0.5
	x0, y0 := math.Floor(fx), math.Floor(fy)
	tx, ty := float32(fx-x0), float32(fy-y0)
	i0, j0 := clampInt(int(x0), w), clampInt(int(y0), h)
	i1, j1 := clampInt(int(x0)+1, w), clampInt(int(y0)+1, h)
	a := float32(gray[j0*w+i0])*(1-tx) + float32(gray[j0*w+i1])*tx
	b := float32(gray[j1*w+i0])*(1-tx) + float32(gray[j1*w+i1])*tx
	return a*(1-ty) + b*ty
}

// clampInt clamps i to [0, n−1].
func clampInt(i, n int) int { return min(max(i, 0), n-1) }
