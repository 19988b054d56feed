package face

import (
	"fmt"
	"image"
)

// Quality says whether a frame has one usable face, or why not.
type Quality int

// The qualities Check tells apart.
const (
	OK Quality = iota
	NoFace
	SeveralFaces
	TooSmall
	TooBlurred
)

// Check's thresholds. A face box narrower than MinFaceSize pixels is too
// small (at the default 1×32×32 input it would be upsampled). A face is
// too blurred when the variance of the Laplacian of its box (Pech-Pacheco
// et al. 2000, "Diatom autofocusing in brightfield microscopy"),
//
//	L(x, y) = g(x−1, y) + g(x+1, y) + g(x, y−1) + g(x, y+1) − 4·g(x, y),
//
// with g in grey levels 0..255 over the box's interior pixels, is below
// MinSharpness. Calibration on pigo's testdata/sample.jpg (320×400, the
// face box 230 px wide): the sharp face measures 358, a 3×3 box blur of it
// 48 and a 5×5 one 15 (TestCheck logs them), so the threshold sits near
// their geometric mean, 100; the measure grows as a face shrinks (the same
// face shrunk 4× measures 1324), so it is a coarse check meant for faces
// of webcam size, MinFaceSize to a few hundred pixels.
const (
	MinFaceSize  = 64
	MinSharpness = 100
)

// String returns a message for the user.
func (q Quality) String() string {
	switch q {
	case OK:
		return "ok"
	case NoFace:
		return "no face"
	case SeveralFaces:
		return "several faces: one at a time"
	case TooSmall:
		return "too small: come closer"
	case TooBlurred:
		return "too blurred: hold still"
	}
	return fmt.Sprintf("Quality(%d)", int(q))
}

// Check returns OK and the face when faces, detected in the grey w×h frame
// gray, hold exactly one face that is at least MinFaceSize pixels wide and
// at least MinSharpness sharp; otherwise the first reason, in the order
// NoFace, SeveralFaces, TooSmall, TooBlurred, and the face when there is
// exactly one.
func Check(gray []uint8, w, h int, faces []Face) (Quality, *Face) {
	switch {
	case len(faces) == 0:
		return NoFace, nil
	case len(faces) > 1:
		return SeveralFaces, nil
	}
	f := &faces[0]
	if f.Box.Dx() < MinFaceSize {
		return TooSmall, f
	}
	if Sharpness(gray, w, h, f.Box) < MinSharpness {
		return TooBlurred, f
	}
	return OK, f
}

// Sharpness returns the variance of the Laplacian (see MinSharpness) of
// the grey w×h frame gray over the interior pixels of box clipped to the
// frame, 0 when fewer than one pixel is left.
func Sharpness(gray []uint8, w, h int, box image.Rectangle) float64 {
	if w < 0 || h < 0 || len(gray) < w*h {
		panic(fmt.Sprintf("face: Sharpness: %d pixels for a %d×%d frame", len(gray), w, h))
	}
	r := box.Intersect(image.Rect(1, 1, w-1, h-1))
	if r.Empty() {
		return 0
	}
	var sum, sum2 float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := y*w + x
			l := float64(int(gray[i-1]) + int(gray[i+1]) + int(gray[i-w]) + int(gray[i+w]) - 4*int(gray[i]))
			sum += l
			sum2 += l * l
		}
	}
	n := float64(r.Dx() * r.Dy())
	mean := sum / n
	return sum2/n - mean*mean
}
