package face

import (
	"fmt"
	"image"
	"math"
	"slices"

	pigo "github.com/esimov/pigo/core"
)

// Detection parameters. The cascade's window starts at MinSize pixels and
// grows by ScaleFactor up to the frame's smaller side, moving by
// ShiftFactor of its size; overlapping windows are merged when their
// intersection over union exceeds clusterIoU, and a merged face is kept
// when its score (pigo's summed cascade output) exceeds MinScore.
const (
	MinSize     = 32
	ShiftFactor = 0.1
	ScaleFactor = 1.1
	MinScore    = 5.0
	clusterIoU  = 0.2
)

// pupilPerturbs is the number of perturbed windows whose median puploc
// takes, as pigo's examples.
const pupilPerturbs = 63

// Point is a position in continuous image coordinates.
type Point struct{ X, Y float64 }

// Face is a detected face: its square box, its detection score and its
// pupils, in image coordinates. LeftEye is the pupil on the image's left
// (the person's right eye when the image is not mirrored).
type Face struct {
	Box               image.Rectangle
	Score             float64
	LeftEye, RightEye Point
}

// Detector finds faces and their pupils with pigo's cascades (the pupils
// with a port of pigo's localiser whose perturbations are the same in every
// call, so a frame gives the same pupils every time). Its methods do not
// modify it.
type Detector struct {
	faces  *pigo.Pigo
	pupils *puploc
}

// NewDetector unpacks pigo's facefinder and puploc cascades, as package
// metriclab/assets embeds them (natively) or as the page fetches them
// (the server serves them; the page's binary does not carry them).
func NewDetector(faceFinder, pupLoc []byte) (*Detector, error) {
	f, err := pigo.NewPigo().Unpack(faceFinder)
	if err != nil {
		return nil, fmt.Errorf("face: unpacking the facefinder cascade: %v", err)
	}
	p, err := newPuploc(pupLoc)
	if err != nil {
		return nil, fmt.Errorf("face: unpacking the puploc cascade: %v", err)
	}
	return &Detector{faces: f, pupils: p}, nil
}

// Detect returns the faces of the grey w×h frame gray whose score exceeds
// MinScore, merged so that they do not overlap (pigo's ClusterDetections),
// with their pupils, by decreasing score. A pupil that puploc does not find
// is placed where pigo's examples start looking for it: 0.085 of the box
// above its centre and 0.185 of it to the side.
func (d *Detector) Detect(gray []uint8, w, h int) []Face {
	if w < 0 || h < 0 || len(gray) < w*h {
		panic(fmt.Sprintf("face: Detect: %d pixels for a %d×%d frame", len(gray), w, h))
	}
	if min(w, h) < MinSize {
		return nil
	}
	img := pigo.ImageParams{Pixels: gray, Rows: h, Cols: w, Dim: w}
	dets := d.faces.RunCascade(pigo.CascadeParams{
		MinSize: MinSize, MaxSize: min(w, h), ShiftFactor: ShiftFactor, ScaleFactor: ScaleFactor, ImageParams: img,
	}, 0)
	dets = d.faces.ClusterDetections(dets, clusterIoU)
	var out []Face
	for _, det := range dets {
		if float64(det.Q) <= MinScore {
			continue
		}
		s := det.Scale
		f := Face{
			Box:   image.Rect(det.Col-s/2, det.Row-s/2, det.Col-s/2+s, det.Row-s/2+s),
			Score: float64(det.Q),
		}
		f.LeftEye = d.pupil(img, det, -1)
		f.RightEye = d.pupil(img, det, +1)
		if f.LeftEye.X > f.RightEye.X {
			f.LeftEye, f.RightEye = f.RightEye, f.LeftEye
		}
		out = append(out, f)
	}
	slices.SortStableFunc(out, func(a, b Face) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	return out
}

// pupil locates the pupil of det on the side side (−1: the image's left,
// +1: its right).
func (d *Detector) pupil(img pigo.ImageParams, det pigo.Detection, side int) Point {
	s := float64(det.Scale)
	row, col := det.Row-int(0.085*s), det.Col+side*int(0.185*s)
	pr, pc, _ := d.pupils.run(row, col, float32(s*0.4), pupilPerturbs, img.Pixels, img.Rows, img.Cols, img.Dim)
	if pr > 0 && pc > 0 && pr < img.Rows && pc < img.Cols &&
		math.Abs(float64(pr-det.Row)) < s/2 && math.Abs(float64(pc-det.Col)) < s/2 {
		row, col = pr, pc
	}
	return Point{X: float64(col) + 0.5, Y: float64(row) + 0.5}
}
