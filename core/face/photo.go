package face

import (
	"image"
	"image/draw"
)

// PhotoMargin is the fraction of a photo's smaller side (a portrait's
// width) by which AlignPhoto extends it on every side before detection:
// the detector's window must fit inside the frame, and a portrait photo
// is often little more than the face (ORL's 92×112 photos: pigo finds one
// face in 333 of 400 as they are, 379 extended by a quarter). A face is
// no larger than the smaller side; a fraction of the larger one made a
// wide strip's margin above and below it far larger than the strip
// (65536×1024 pixels padded to 3.3 GB).
const PhotoMargin = 0.25

// AlignPhoto finds the face of a photo from a folder and aligns it by the
// eyes into an encoder input of shape in, as Align does for a webcam
// frame, so that a model trained on a folder sees the crops the Verify page
// makes. The photo is turned grey (image/color's BT.601 luma) and extended
// by PhotoMargin of its smaller side on every side, repeating its edge
// pixels; then, as Check says for a frame, it needs exactly one face,
// sharp enough (MinSharpness), but here at least as wide as the crop
// rather than MinFaceSize (a photo is not a webcam at arm's length, and a
// crop no larger than the face loses nothing). It returns the crop, reusing dst's
// storage when large enough, and OK, or nil and the reason the photo is
// unusable.
func (d *Detector) AlignPhoto(dst []float32, img image.Image, in Input) ([]float32, Quality) {
	gray, w, h := padGray(img, PhotoMargin)
	faces := d.Detect(gray, w, h)
	switch {
	case len(faces) == 0:
		return nil, NoFace
	case len(faces) > 1:
		return nil, SeveralFaces
	}
	f := faces[0]
	if f.Box.Dx() < in.Width {
		return nil, TooSmall
	}
	if Sharpness(gray, w, h, f.Box) < MinSharpness {
		return nil, TooBlurred
	}
	return Align(dst, gray, w, h, f, in), OK
}

// padGray returns img in grey levels, extended on every side by margin of
// its smaller side, the edge pixels repeated, and the extended size.
func padGray(img image.Image, margin float64) ([]uint8, int, int) {
	b := img.Bounds()
	g, ok := img.(*image.Gray)
	if !ok || g.Stride != b.Dx() {
		g = image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(g, g.Bounds(), img, b.Min, draw.Src)
	}
	pad := int(margin * float64(min(b.Dx(), b.Dy())))
	w, h := b.Dx()+2*pad, b.Dy()+2*pad
	out := make([]uint8, w*h)
	for y := range h {
		row := g.Pix[clampInt(y-pad, b.Dy())*g.Stride:]
		for x := range w {
			out[y*w+x] = row[clampInt(x-pad, b.Dx())]
		}
	}
	return out, w, h
}
