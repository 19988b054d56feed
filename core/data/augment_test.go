package data

import (
	"math"
	"math/rand/v2"
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

var identity = augmentation{contrast: 1}

// TestAugmentFlip: a flip alone mirrors each row exactly, and twice gives
// the image back.
func TestAugmentFlip(t *testing.T) {
	in := core.Input{Channels: 3, Height: 5, Width: 7}
	src := ramp(in)
	f := identity
	f.flip = true
	once := augment(nil, src, in, f)
	for c := range 3 {
		for y := range 5 {
			for x := range 7 {
				if once[c*35+y*7+x] != src[c*35+y*7+6-x] {
					t.Fatalf("flip: (%d,%d,%d) = %g, want %g", c, y, x, once[c*35+y*7+x], src[c*35+y*7+6-x])
				}
			}
		}
	}
	twice := augment(nil, once, in, f)
	for i := range src {
		if twice[i] != src[i] {
			t.Fatalf("flip twice: %d: %g, want %g", i, twice[i], src[i])
		}
	}
	if got := augment(nil, src, in, identity); !equal(got, src) {
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
		a    augmentation
		want float64
	}{
		{augmentation{dx: 1.7, dy: -1.2, angle: 0.17, contrast: 1}, 0.3},
		{augmentation{flip: true, dx: -1.9, angle: -0.17, contrast: 1}, 0.3},
		{augmentation{contrast: 1.2, brightness: 0.1}, 0.36},  // −0.2·1.2 + 0.5 + 0.1
		{augmentation{contrast: 0.8, brightness: -0.1}, 0.24}, // −0.2·0.8 + 0.5 − 0.1
	} {
		for i, v := range augment(nil, src, in, c.a) {
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
	got := augment(nil, src, in, augmentation{angle: math.Pi / 2, contrast: 1})
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
