package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"metriclab/core"
)

// Augmentation is a recipe of random transformations of training images
// (see Apply): the ranges of each transformation, 0 for none.
type Augmentation struct {
	Name       string  `json:"name"`
	Flip       bool    `json:"flip"`       // mirror left–right with probability ½
	Shift      float64 `json:"shift"`      // shift up to ±Shift of the width and of the height
	Rotation   float64 `json:"rotation"`   // rotation up to ±Rotation degrees about the centre
	Scale      float64 `json:"scale"`      // zoom by a factor in [1−Scale, 1+Scale] about the centre
	Brightness float64 `json:"brightness"` // added to every pixel, up to ±Brightness
	Contrast   float64 `json:"contrast"`   // contrast factor in [1−Contrast, 1+Contrast], about ½
	Shear      float64 `json:"shear"`      // slant: x moves by k·(y − centre), k up to ±Shear
	// Yaw turns a head: the middle column moves by k of the half-width,
	// k up to ±Yaw, the edges stay and the columns between follow a
	// parabola (see Apply).
	Yaw float64 `json:"yaw,omitempty"`
}

// The augmentation recipes, by name.
var (
	// AugmentNone changes nothing.
	AugmentNone = Augmentation{Name: "none"}
	// AugmentDigits moves, turns and zooms a digit a little: handwriting
	// varies so, and a mirrored digit is another symbol.
	AugmentDigits = Augmentation{Name: "digits", Shift: 0.1, Rotation: 15, Scale: 0.15}
	// AugmentHandwriting also slants, as writers do (Shear 0.3: about
	// ±17°); the digits preset's augmentation.
	AugmentHandwriting = Augmentation{Name: "handwriting", Shift: 0.1, Rotation: 15, Scale: 0.15, Shear: 0.3}
	// AugmentFaces also mirrors (a face mirrored is the same person) and
	// varies the light, as a webcam does between snapshots.
	AugmentFaces = Augmentation{Name: "faces", Flip: true, Shift: 0.06, Rotation: 10, Scale: 0.1, Brightness: 0.1, Contrast: 0.2}
	// AugmentHeads also turns the head a little left or right (Yaw 0.25:
	// the middle of the face moves by up to a quarter of the half-width,
	// its edges stay), as people do between photos: for face photos not
	// aligned by the eyes. On aligned crops (the Verify page's, --align)
	// it moves the eyes that alignment fixed, and costs rank-1 and MAP@R.
	AugmentHeads = func() Augmentation {
		a := AugmentFaces
		a.Name, a.Yaw = "heads", 0.25
		return a
	}()
)

// Augmentations returns the recipes, in the order of their names.
func Augmentations() []Augmentation {
	return []Augmentation{AugmentDigits, AugmentFaces, AugmentHandwriting, AugmentHeads, AugmentNone}
}

// AugmentationByName returns the recipe called name ("" is "none").
func AugmentationByName(name string) (Augmentation, error) {
	if name == "" {
		return AugmentNone, nil
	}
	var names []string
	for _, a := range Augmentations() {
		if a.Name == name {
			return a, nil
		}
		names = append(names, a.Name)
	}
	return Augmentation{}, fmt.Errorf("unknown augmentation %q (want %s)", name, strings.Join(names, ", "))
}

// Describe is one line saying what a changes, e.g. "shift ±10%, rotation
// ±15°, scale ±15%".
func (a Augmentation) Describe() string {
	var parts []string
	if a.Flip {
		parts = append(parts, "flip")
	}
	if a.Shift > 0 {
		parts = append(parts, fmt.Sprintf("shift ±%g%%", 100*a.Shift))
	}
	if a.Rotation > 0 {
		parts = append(parts, fmt.Sprintf("rotation ±%g°", a.Rotation))
	}
	if a.Scale > 0 {
		parts = append(parts, fmt.Sprintf("scale ±%g%%", 100*a.Scale))
	}
	if a.Brightness > 0 {
		parts = append(parts, fmt.Sprintf("brightness ±%g", a.Brightness))
	}
	if a.Contrast > 0 {
		parts = append(parts, fmt.Sprintf("contrast ±%g%%", 100*a.Contrast))
	}
	if a.Shear > 0 {
		parts = append(parts, fmt.Sprintf("slant ±%.0f°", math.Atan(a.Shear)*180/math.Pi))
	}
	if a.Yaw > 0 {
		parts = append(parts, fmt.Sprintf("head turn ±%g%%", 100*a.Yaw))
	}

	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Active reports whether a transforms images at all.
func (a Augmentation) Active() bool { return a.Describe() != "none" }

// ValidTurns reports whether turns new classes per class can be made of
// images of shape in (see Turn): 0 or 1 (none) always, 4 (quarter turns)
// or 8 (also mirrored) of square images.
func ValidTurns(turns int, in core.Input) error {
	switch turns {
	case 0, 1:
	case 4, 8:
		if in.Height != in.Width {
			return fmt.Errorf("turns %d: turning by 90° needs square images, not %d×%d", turns, in.Height, in.Width)
		}
	default:
		return fmt.Errorf("turns %d: want 0, 4 or 8", turns)
	}
	return nil
}

// CheckTurns reports whether a suits turns new classes per class (see
// Turn): 8 turns make a mirrored class of every class, and a recipe that
// mirrors half its images (Flip) would give each class and its mirrored
// class the same images, two classes that nothing tells apart.
func (a Augmentation) CheckTurns(turns int) error {
	if turns == 8 && a.Flip {
		return fmt.Errorf("turns 8 with augment %s: its mirror would give each class and its mirrored class the same images (use turns 4, or an augmentation without flip)", a.Name)
	}
	return nil
}

// TurnedName names turn k of class name (see Turn): the name itself for
// k = 0, "name↻90", "name↻180", "name↻270", and with a mirror "name⇋",
// "name⇋↻90", ...
func TurnedName(name string, k int) string {
	if k >= 4 {
		name += "⇋"
	}
	if r := k % 4; r > 0 {
		name += fmt.Sprintf("↻%d", 90*r)
	}
	return name
}

// Turn makes new classes out of old ones: a "6" upside down is no "9",
// and a mirrored "2" is no digit at all, so every turn of every class is a
// class of its own, and an encoder trained on few classes gets more to
// tell apart (Gidaris et al. 2018 learn features by predicting such
// rotations).
//
// Turn writes into dst (reused when large enough) the square image src of
// shape in turned by turn k: mirrored left–right when k ≥ 4, then rotated
// clockwise (on screen, y down) by (k mod 4)·90°. Pixels move exactly,
// no interpolation. It panics when the image is not square or k is not
// in 0..7.
func Turn(dst, src []float32, in core.Input, k int) []float32 {
	n := in.Size()
	if len(src) != n || in.Height != in.Width || k < 0 || k > 7 {
		panic(fmt.Sprintf("data: Turn %d of %d values for a %d×%d×%d image", k, len(src), in.Channels, in.Height, in.Width))
	}
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	s := in.Width
	for c := range in.Channels {
		p, q := src[c*s*s:(c+1)*s*s], dst[c*s*s:(c+1)*s*s]
		for y := range s {
			for x := range s {
				sx := x
				if k >= 4 {
					sx = s - 1 - x
				}
				// Source pixel (sx, y) goes to (u, v).
				u, v := sx, y
				switch k % 4 {
				case 1:
					u, v = s-1-y, sx
				case 2:
					u, v = s-1-sx, s-1-y
				case 3:
					u, v = y, s-1-sx
				}
				q[v*s+u] = p[y*s+x]
			}
		}
	}
	return dst
}

// transform is one draw of an Augmentation.
type transform struct {
	flip       bool    // mirror left–right
	dx, dy     float64 // shift in pixels
	angle      float64 // rotation in radians, clockwise on screen (y down)
	zoom       float64 // scale factor about the centre
	brightness float64 // added after contrast
	contrast   float64 // factor about 0.5
	shear      float64 // slant: x moves by shear·(y − centre)
	yaw        float64 // head turn: the middle column moves by yaw·W/2
}

// Apply writes into dst (reused when large enough) a randomly transformed
// copy of the image src of shape in, pixels in [0,1]: with probability ½
// (when Flip) a horizontal flip, then a slant (x − cx moves by
// k·(y − cy), k ~ U(±Shear)), a zoom by z ~ U(1 ± Scale) and a rotation by
// θ ~ U(±Rotation°) about the centre (cx, cy), a shift by (dx, dy) ~
// U(±Shift·W) × U(±Shift·H) and a head turn (below, when Yaw > 0), all
// in one resampling: each output pixel the bilinear interpolation
// of the source at the preimage of its centre (the source extended by its
// edge pixels), and then
//
//	v' = clamp((v − ½)·c + ½ + b, 0, 1),  c ~ U(1 ± Contrast), b ~ U(±Brightness).
//
// The same geometry applies to every channel. The draws come from rng, the
// first seven in a fixed order whatever the ranges, so equal rng states
// give equal images; the slant's is an eighth, drawn only when Shear > 0,
// and the head turn's the next, drawn only when Yaw > 0 (so recipes
// without them draw as they did before they existed).
//
// The head turn by k ~ U(±Yaw) bends the result's columns: with
// s = 2x/W − 1 ∈ [−1, 1] the output column at s shows what the rest of
// the transformation puts at s − k·(1 − s²), so the middle column shows
// what was k·W/2 to its left, the edge columns stay, and the face between
// them widens on one side and narrows on the other, as it does when a
// head turns. It panics when src is not in.Size() values.
func (a Augmentation) Apply(dst, src []float32, in core.Input, rng *rand.Rand) []float32 {
	u := func() float64 { return 2*rng.Float64() - 1 } // U(−1, 1)
	t := transform{flip: rng.IntN(2) == 1 && a.Flip}
	t.dx = u() * a.Shift * float64(in.Width)
	t.dy = u() * a.Shift * float64(in.Height)
	t.angle = u() * a.Rotation * math.Pi / 180
	t.zoom = 1 + u()*a.Scale
	t.contrast = 1 + u()*a.Contrast
	t.brightness = u() * a.Brightness
	if a.Shear > 0 {
		t.shear = u() * a.Shear
	}
	if a.Yaw > 0 {
		t.yaw = u() * a.Yaw
	}
	return t.apply(dst, src, in)
}

// Augment is AugmentFaces.Apply: the webcam enrollments' augmentation.
func Augment(dst, src []float32, in core.Input, rng *rand.Rand) []float32 {
	return AugmentFaces.Apply(dst, src, in, rng)
}

// apply applies t to src (see Apply).
func (t transform) apply(dst, src []float32, in core.Input) []float32 {
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
	zoom := t.zoom
	if zoom == 0 {
		zoom = 1
	}
	cos, sin := math.Cos(t.angle)/zoom, math.Sin(t.angle)/zoom
	for v := range h {
		for u := range w {
			// Undo the head turn, the shift, then the rotation and zoom,
			// then the slant, then the flip.
			x := float64(u) + 0.5
			if t.yaw != 0 {
				s := 2*x/float64(w) - 1
				x = (s - t.yaw*(1-s*s) + 1) * float64(w) / 2
			}
			x, y := x-t.dx-cx, float64(v)+0.5-t.dy-cy
			x, y = cos*x+sin*y, -sin*x+cos*y
			x, y = x-t.shear*y+cx, y+cy
			if t.flip {
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
				val = (val-0.5)*t.contrast + 0.5 + t.brightness
				dst[c*w*h+v*w+u] = float32(min(max(val, 0), 1))
			}
		}
	}
	return dst
}

// clampIndex clamps i to [0, n−1].
func clampIndex(i, n int) int { return min(max(i, 0), n-1) }
