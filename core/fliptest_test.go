package core

import (
	"math"
	"slices"
	"testing"
)

// TestMirrorTo: two images of 2×2×3, worked by hand; mirroring twice gives
// the images back; a dst of the right size is reused.
func TestMirrorTo(t *testing.T) {
	in := Input{Channels: 2, Height: 2, Width: 3}
	src := []float32{
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, // image 0: channel 0 rows 1 2 3 / 4 5 6, channel 1 rows 7 8 9 / 10 11 12
		13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
	}
	want := []float32{
		3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10,
		15, 14, 13, 18, 17, 16, 21, 20, 19, 24, 23, 22,
	}
	dst := make([]float32, len(src))
	got := MirrorTo(dst, src, in)
	if !slices.Equal(got, want) {
		t.Errorf("MirrorTo = %v, want %v", got, want)
	}
	if &got[0] != &dst[0] {
		t.Error("dst not reused")
	}
	if back := MirrorTo(nil, got, in); !slices.Equal(back, src) {
		t.Errorf("mirrored twice: %v, want %v", back, src)
	}
	defer func() {
		if recover() == nil {
			t.Error("MirrorTo of 5 values for images of 12: no panic")
		}
	}()
	MirrorTo(nil, src[:5], in)
}

// TestFlipTest: with Spec.FlipTest, Embed gives ½ (f(x) + f(mirror x)) of
// the plain encoder f, with an encoder batch that does not divide n; the
// embedding of an image and of its mirror are then the same, and a
// mirror-symmetric image embeds as without the flip test.
func TestFlipTest(t *testing.T) {
	const n, atol, rtol = 5, 1e-6, 1e-5 // float32 graphs of the same ops
	plain := smallSpec(ArchLeNetS, 1, 16, 18, 4)
	flip := plain
	flip.FlipTest = true
	tr, _ := newTestTrainer(t, plain, n, 2, Float32, DefaultOpt(OptSGD), 3)
	p := tr.Params()
	x, _ := testBatch(plain, n, 2, 5)
	// Image 0 made mirror-symmetric.
	size, w := plain.Input.Size(), plain.Input.Width
	for r := 0; r < size; r += w {
		for c := range w / 2 {
			x[r+w-1-c] = x[r+c]
		}
	}
	encPlain, err := NewEncoder(plain, p, 3)
	if err != nil {
		t.Fatal(err)
	}
	encFlip, err := NewEncoder(flip, p, 3)
	if err != nil {
		t.Fatal(err)
	}
	embed := func(e *Encoder, x []float32) []float32 {
		t.Helper()
		v, err := e.Embed(nil, x, n)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	a, b := embed(encPlain, x), embed(encPlain, MirrorTo(nil, x, plain.Input))
	got, gotMirror := embed(encFlip, x), embed(encFlip, MirrorTo(nil, x, plain.Input))
	close := func(what string, i int, got, want float32) {
		t.Helper()
		if d := math.Abs(float64(got - want)); !(d <= atol+rtol*math.Abs(float64(want))) {
			t.Fatalf("%s: value %d = %g, want %g", what, i, got, want)
		}
	}
	differs := false
	for i := range a {
		close("flip test", i, got[i], (a[i]+b[i])/2)
		close("flip test of the mirror", i, gotMirror[i], got[i])
		differs = differs || math.Abs(float64(a[i]-b[i])) > 1e-3
	}
	for i := range plain.Dim {
		close("symmetric image", i, got[i], a[i])
	}
	if !differs {
		t.Error("the plain encoder embeds every image as its mirror: the test shows nothing")
	}
}
