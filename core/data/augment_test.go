package data

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"metriclab/core"
)

// ramp returns an image of shape in whose pixel (c, y, x) is a distinct
// value in [0,1].
func ramp(in core.Input) []float32 {
	x := make([]float32, in.Size())
	for i := range x {
		x[i] = float32(i%97) / 96
	}
	return x
}

var identity = transform{contrast: 1, zoom: 1}

// TestAugmentFlip: a flip alone mirrors each row exactly, and twice gives
// the image back.
func TestAugmentFlip(t *testing.T) {
	in := core.Input{Channels: 3, Height: 5, Width: 7}
	src := ramp(in)
	f := identity
	f.flip = true
	once := f.apply(nil, src, in)
	for c := range 3 {
		for y := range 5 {
			for x := range 7 {
				if once[c*35+y*7+x] != src[c*35+y*7+6-x] {
					t.Fatalf("flip: (%d,%d,%d) = %g, want %g", c, y, x, once[c*35+y*7+x], src[c*35+y*7+6-x])
				}
			}
		}
	}
	twice := f.apply(nil, once, in)
	for i := range src {
		if twice[i] != src[i] {
			t.Fatalf("flip twice: %d: %g, want %g", i, twice[i], src[i])
		}
	}
	if got := identity.apply(nil, src, in); !equal(got, src) {
		t.Errorf("the identity changed the image")
	}
}

// TestAugmentConstant: a constant image stays constant under shift and
// rotation (the source is extended by its edges), and contrast c and
// brightness b map 0.3 to (0.3 − 0.5)·c + 0.5 + b.
func TestAugmentConstant(t *testing.T) {
	in := core.Input{Channels: 1, Height: 32, Width: 32}
	src := make([]float32, in.Size())
	for i := range src {
		src[i] = 0.3
	}
	for _, c := range []struct {
		a    transform
		want float64
	}{
		{transform{dx: 1.7, dy: -1.2, angle: 0.17, contrast: 1}, 0.3},
		{transform{flip: true, dx: -1.9, angle: -0.17, contrast: 1}, 0.3},
		{transform{contrast: 1.2, brightness: 0.1}, 0.36},  // −0.2·1.2 + 0.5 + 0.1
		{transform{contrast: 0.8, brightness: -0.1}, 0.24}, // −0.2·0.8 + 0.5 − 0.1
	} {
		for i, v := range c.a.apply(nil, src, in) {
			if math.Abs(float64(v)-c.want) > 1e-6 {
				t.Fatalf("%+v: pixel %d = %g, want %g", c.a, i, v, c.want)
			}
		}
	}
}

// TestAugmentRotation: a 90° rotation of a square image about its centre
// moves pixel (x, y) to (W−1−y, x) (clockwise on screen, y down),
// exactly, since centres map onto centres.
func TestAugmentRotation(t *testing.T) {
	in := core.Input{Channels: 1, Height: 6, Width: 6}
	src := ramp(in)
	got := transform{angle: math.Pi / 2, contrast: 1}.apply(nil, src, in)
	for y := range 6 {
		for x := range 6 {
			if want := src[y*6+x]; math.Abs(float64(got[x*6+5-y]-want)) > 1e-5 {
				t.Fatalf("(%d,%d) → (%d,%d): %g, want %g", x, y, 5-y, x, got[x*6+5-y], want)
			}
		}
	}
}

// TestAugmentRandom: outputs stay in [0,1], equal seeds give equal images,
// different draws differ, and dst is reused.
func TestAugmentRandom(t *testing.T) {
	in := core.Input{Channels: 1, Height: 16, Width: 16}
	src := ramp(in)
	r1, r2 := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
	dst := make([]float32, in.Size())
	for range 50 {
		a := Augment(dst, src, in, r1)
		if &a[0] != &dst[0] {
			t.Fatal("dst not reused")
		}
		b := Augment(nil, src, in, r2)
		if !equal(a, b) {
			t.Fatal("equal seeds gave different images")
		}
		for _, v := range a {
			if v < 0 || v > 1 {
				t.Fatalf("pixel %g outside [0,1]", v)
			}
		}
	}
	if equal(Augment(nil, src, in, r1), Augment(nil, src, in, r1)) {
		t.Error("two draws gave the same image")
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestAugmentZoom: a zoom by z about the centre reads output pixel u from
// the source at cx + (u + ½ − cx)/z; on an image linear in x (value 0.01·
// (x + ½) at pixel x) bilinear interpolation reproduces that exactly, away
// from the edges.
func TestAugmentZoom(t *testing.T) {
	in := core.Input{Channels: 1, Height: 8, Width: 16}
	src := make([]float32, in.Size())
	for y := range 8 {
		for x := range 16 {
			src[y*16+x] = 0.01 * (float32(x) + 0.5)
		}
	}
	for _, z := range []float64{0.8, 1.25, 2} {
		got := transform{zoom: z, contrast: 1}.apply(nil, src, in)
		for u := 2; u < 14; u++ {
			want := 0.01 * (8 + (float64(u)+0.5-8)/z)
			if v := float64(got[3*16+u]); math.Abs(v-want) > 1e-6 {
				t.Errorf("zoom %g: pixel %d = %g, want %g", z, u, v, want)
			}
		}
	}
}

// TestAugmentationRecipes: a recipe without ranges is the identity whatever
// the draws; a recipe without Flip never mirrors an image that only a
// mirror would change into itself; names resolve, and unknown ones are
// one-line errors naming the known ones.
func TestAugmentationRecipes(t *testing.T) {
	in := core.Input{Channels: 1, Height: 12, Width: 12}
	src := ramp(in)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		if !equal(AugmentNone.Apply(nil, src, in, rng), src) {
			t.Fatal("none changed the image")
		}
	}
	// Only the left half is bright: a mirror puts the light on the right.
	half := make([]float32, in.Size())
	for y := range 12 {
		for x := range 6 {
			half[y*12+x] = 1
		}
	}
	noFlip := AugmentDigits
	noFlip.Shift, noFlip.Rotation, noFlip.Scale = 0, 0, 0
	withFlip := noFlip
	withFlip.Flip = true
	flipped := 0
	for range 40 {
		if got := noFlip.Apply(nil, half, in, rng); !equal(got, half) {
			t.Fatal("digits mirrored an image")
		}
		if got := withFlip.Apply(nil, half, in, rng); got[0] == 0 && got[11] == 1 {
			flipped++
		}
	}
	if flipped < 10 || flipped > 30 {
		t.Errorf("flip on: %d of 40 mirrored, want about half", flipped)
	}
	for _, name := range []string{"", "none", "digits", "faces", "handwriting", "heads"} {
		a, err := AugmentationByName(name)
		if err != nil || (name != "" && a.Name != name) {
			t.Errorf("%q: %+v, %v", name, a, err)
		}
	}
	if _, err := AugmentationByName("mirror"); err == nil || err.Error() != `unknown augmentation "mirror" (want digits, faces, handwriting, heads, none)` {
		t.Errorf("unknown name: %v", err)
	}
	if got := AugmentDigits.Describe(); got != "shift ±10%, rotation ±15°, scale ±15%" {
		t.Errorf("digits: %q", got)
	}
	if got := AugmentHandwriting.Describe(); got != "shift ±10%, rotation ±15°, scale ±15%, slant ±17°" {
		t.Errorf("handwriting: %q", got)
	}
	if got := AugmentHeads.Describe(); got != "flip, shift ±6%, rotation ±10°, scale ±10%, brightness ±0.1, contrast ±20%, head turn ±25%" {
		t.Errorf("heads: %q", got)
	}
	if heads := AugmentHeads; heads.Yaw == 0 || AugmentFaces.Yaw != 0 {
		t.Errorf("heads turns heads by %g, faces by %g", heads.Yaw, AugmentFaces.Yaw)
	} else if heads.Name, heads.Yaw = "faces", 0; heads != AugmentFaces {
		t.Errorf("heads without its head turn is not faces: %+v, %+v", heads, AugmentFaces)
	}
}

// TestAugmentYaw: a head turn by k moves the middle column by k·W/2 (a
// whole column here, so exactly), never folds the image (a horizontal ramp
// stays ascending), bends the columns alone (an image of constant rows is
// unchanged), and turns the mirror image the other way.
func TestAugmentYaw(t *testing.T) {
	in := core.Input{Channels: 2, Height: 3, Width: 9}
	src := ramp(in)
	k := 2.0 / 9 // middle column: x = 4.5 shows 4.5 − k·4.5 = 3.5, column 3
	got := transform{yaw: k, contrast: 1, zoom: 1}.apply(nil, src, in)
	for c := range 2 {
		for y := range 3 {
			if g, want := got[c*27+y*9+4], src[c*27+y*9+3]; g != want {
				t.Errorf("channel %d, row %d: middle column %g, want column 3's %g", c, y, g, want)
			}
		}
	}
	hramp, rows := make([]float32, in.Size()), make([]float32, in.Size())
	for i := range hramp {
		hramp[i] = float32(i%9) / 8
		rows[i] = float32(i/9) / 5
	}
	for _, k := range []float64{-0.45, -0.25, 0.1, 0.25, 0.45} {
		turned := transform{yaw: k, contrast: 1, zoom: 1}.apply(nil, hramp, in)
		for i := 1; i < 9; i++ {
			if turned[i] < turned[i-1] {
				t.Fatalf("yaw %g: columns %d and %d out of order: %v", k, i-1, i, turned[:9])
			}
		}
		if turned[4] == hramp[4] {
			t.Errorf("yaw %g: the middle column did not move", k)
		}
		if !near(transform{yaw: k, contrast: 1, zoom: 1}.apply(nil, rows, in), rows, 1e-6) {
			t.Errorf("yaw %g changed an image of constant rows", k)
		}
		mirror := transform{flip: true, contrast: 1, zoom: 1}
		left := mirror.apply(nil, transform{yaw: k, contrast: 1, zoom: 1}.apply(nil, src, in), in)
		right := transform{yaw: -k, contrast: 1, zoom: 1}.apply(nil, mirror.apply(nil, src, in), in)
		if !near(left, right, 1e-6) {
			t.Errorf("yaw %g mirrored is not yaw %g of the mirror image", k, -k)
		}
	}
}

// TestAugmentSlant: a slant by k moves the pixels of row y by
// k·(y + ½ − H/2) columns; with k = 1 on an odd height every row moves by
// a whole number of columns, so the rows are exact copies, shifted (the
// edge pixels repeated), and the centre row stays put.
func TestAugmentSlant(t *testing.T) {
	in := core.Input{Channels: 1, Height: 5, Width: 7}
	src := ramp(in)
	// Row centres sit at y + ½ − 2.5 = −2, −1, 0, 1, 2: k = 1 moves row y
	// by y − 2 columns.
	got := transform{shear: 1, contrast: 1}.apply(nil, src, in)
	for y := range 5 {
		for x := range 7 {
			sx := min(max(x-(y-2), 0), 6)
			if want := src[y*7+sx]; math.Abs(float64(got[y*7+x]-want)) > 1e-6 {
				t.Fatalf("row %d, column %d: %g, want column %d's %g", y, x, got[y*7+x], sx, want)
			}
		}
	}
}

// TestAugmentDraws: a recipe without a slant or a head turn draws what it
// drew before they existed (seven numbers), so its images do not change;
// one with a slant or a head turn draws an eighth and uses it.
func TestAugmentDraws(t *testing.T) {
	in := core.Input{Channels: 1, Height: 12, Width: 12}
	src := ramp(in)
	for _, a := range []Augmentation{AugmentDigits, AugmentFaces} {
		r1, r2 := rand.New(rand.NewPCG(3, 4)), rand.New(rand.NewPCG(3, 4))
		got := a.Apply(nil, src, in, r1)
		u := func() float64 { return 2*r2.Float64() - 1 }
		want := transform{flip: r2.IntN(2) == 1 && a.Flip, dx: u() * a.Shift * 12, dy: u() * a.Shift * 12,
			angle: u() * a.Rotation * math.Pi / 180, zoom: 1 + u()*a.Scale, contrast: 1 + u()*a.Contrast, brightness: u() * a.Brightness}
		if !equal(got, want.apply(nil, src, in)) || r1.Uint64() != r2.Uint64() {
			t.Errorf("%s: not the seven draws of before", a.Name)
		}
	}
	r1, r2 := rand.New(rand.NewPCG(3, 4)), rand.New(rand.NewPCG(3, 4))
	slanted := AugmentHandwriting.Apply(nil, src, in, r1)
	if equal(slanted, AugmentDigits.Apply(nil, src, in, r2)) {
		t.Error("handwriting did not slant")
	}
	if r2.Float64(); r1.Uint64() != r2.Uint64() {
		t.Error("handwriting: not eight draws")
	}
	r1, r2 = rand.New(rand.NewPCG(3, 4)), rand.New(rand.NewPCG(3, 4))
	turned := AugmentHeads.Apply(nil, src, in, r1)
	if equal(turned, AugmentFaces.Apply(nil, src, in, r2)) {
		t.Error("heads did not turn the head")
	}
	if r2.Float64(); r1.Uint64() != r2.Uint64() {
		t.Error("heads: not eight draws (seven and the head turn's)")
	}
}

// TestTurn: turn k is the exact pixel permutation of a mirror (k ≥ 4) and
// a clockwise rotation by (k mod 4)·90°, the same geometry as the
// interpolating transform at those angles (which maps centres onto
// centres); four quarter turns give the image back. Names and class
// counts follow the turns, and turning a non-square image is refused.
func TestTurn(t *testing.T) {
	in := core.Input{Channels: 2, Height: 5, Width: 5}
	src := ramp(in)
	for k := range 8 {
		got := Turn(nil, src, in, k)
		want := transform{flip: k >= 4, angle: float64(k%4) * math.Pi / 2, contrast: 1}.apply(nil, src, in)
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 1e-5 {
				t.Fatalf("turn %d: value %d = %g, the transform gives %g", k, i, got[i], want[i])
			}
		}
	}
	x := src
	for range 4 {
		x = Turn(nil, x, in, 1)
	}
	if !equal(x, src) {
		t.Error("four quarter turns changed the image")
	}
	if got := []string{TurnedName("7", 0), TurnedName("7", 3), TurnedName("7", 4), TurnedName("7", 6)}; !slices.Equal(got, []string{"7", "7↻270", "7⇋", "7⇋↻180"}) {
		t.Errorf("names %q", got)
	}
	// A mirrored image under turn 4 (a mirror) is the image itself under
	// turn 0: with a recipe that mirrors, classes y and y⇋ would be the
	// same images, so 8 turns refuse it.
	mirrored := identity
	mirrored.flip = true
	if !equal(Turn(nil, mirrored.apply(nil, src, in), in, 4), Turn(nil, src, in, 0)) {
		t.Error("turn 4 of a mirrored image is not the image")
	}
	for _, a := range Augmentations() {
		if err := a.CheckTurns(8); (err != nil) != a.Flip || a.CheckTurns(4) != nil || a.CheckTurns(0) != nil {
			t.Errorf("%s (flip %v): turns 8: %v; turns 4: %v", a.Name, a.Flip, err, a.CheckTurns(4))
		}
	}
	if err := ValidTurns(8, core.Input{Channels: 1, Height: 28, Width: 30}); err == nil || !strings.Contains(err.Error(), "square") {
		t.Errorf("non-square: %v", err)
	}
	for turns, ok := range map[int]bool{0: true, 1: true, 3: false, 4: true, 8: true, 16: false} {
		if err := ValidTurns(turns, core.Input{Channels: 1, Height: 28, Width: 28}); (err == nil) != ok {
			t.Errorf("turns %d: %v", turns, err)
		}
	}
}
