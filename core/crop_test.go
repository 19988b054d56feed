package core

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"metriclab/core/vec"
)

// TestCropImages: the window of every plane, resampled back to the
// image's size, against vec.ResizeTo of the window cut out by hand; a
// window of the whole image gives the image back.
func TestCropImages(t *testing.T) {
	const n, ch, h, w = 2, 3, 10, 8
	x := make([]float32, n*ch*h*w)
	for i := range x {
		x[i] = float32(i%97) / 97
	}
	c := Crop{0.25, 0.1, 1, 0.6} // columns 2..8, rows 1..6
	got := make([]float32, len(x))
	cropImages(got, x, n, ch, h, w, c)
	for p := range n * ch {
		var win []float32
		for y := 1; y < 6; y++ {
			win = append(win, x[p*h*w+y*w+2:p*h*w+y*w+8]...)
		}
		want := vec.ResizeTo(nil, win, 1, 5, 6, h, w)
		for i, v := range want {
			if g := got[p*h*w+i]; g != v {
				t.Fatalf("plane %d value %d = %g, want %g", p, i, g, v)
			}
		}
	}
	whole := make([]float32, len(x))
	cropImages(whole, x, n, ch, h, w, Crop{0, 0, 1, 1})
	for i := range x {
		if whole[i] != x[i] {
			t.Fatalf("whole-image crop changed value %d: %g, want %g", i, whole[i], x[i])
		}
	}
}

// TestCropEncoder: an encoder with Spec.Crop embeds an image as the same
// parameters without it embed the image's window resampled by hand
// (cropImages); pixels outside the window change nothing, pixels inside
// do; and a training step of a cropped encoder runs and changes its
// parameters.
func TestCropEncoder(t *testing.T) {
	const n = 3
	plain := smallSpec(ArchLeNetS, 1, 24, 20, 4)
	cropped := plain
	cropped.Crop = Crops["lower"]
	tr, _ := newTestTrainer(t, cropped, n, 2, Float32, DefaultOpt(OptSGD), 3)
	before := tr.Params()
	x, labels := testBatch(plain, n, 2, 5)
	encPlain, err := NewEncoder(plain, before, n)
	if err != nil {
		t.Fatal(err)
	}
	encCrop, err := NewEncoder(cropped, before, n)
	if err != nil {
		t.Fatal(err)
	}
	in := plain.Input
	// The encoder normalises the pixels first; the resampling is linear
	// with weights summing to 1, so cropping the raw pixels is the same.
	byHand := make([]float32, len(x))
	cropImages(byHand, x, n, in.Channels, in.Height, in.Width, cropped.Crop)
	want, err := encPlain.Embed(nil, byHand, n)
	if err != nil {
		t.Fatal(err)
	}
	got, err := encCrop.Embed(nil, x, n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-5+1e-4*math.Abs(float64(want[i])) {
			t.Fatalf("value %d = %g, want %g (the window embedded by hand)", i, got[i], want[i])
		}
	}
	// Rows 0..10 of 24 are above the lower crop's window (rows 11..23).
	outside := append([]float32(nil), x...)
	for i := range 10 * in.Width {
		outside[i] = 1 - outside[i]
	}
	same, err := encCrop.Embed(nil, outside, n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got[:cropped.Dim] {
		if same[i] != got[i] {
			t.Fatalf("a change above the window moved value %d from %g to %g", i, got[i], same[i])
		}
	}
	inside := append([]float32(nil), x...)
	for i := 15 * in.Width; i < 20*in.Width; i++ {
		inside[i] = 1 - inside[i]
	}
	moved, err := encCrop.Embed(nil, inside, n)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(moved[:cropped.Dim], got[:cropped.Dim]) {
		t.Fatal("a change inside the window left the embedding as it was")
	}
	if _, err := tr.Step(x, labels); err != nil {
		t.Fatal(err)
	}
	after := tr.Params()
	if w0, w1 := before["encoder.conv1.weight"].Data, after["encoder.conv1.weight"].Data; slices.Equal(w0, w1) {
		t.Fatal("a training step of the cropped encoder left conv1 as it was")
	}
}

// TestCropModelFile: a model's crop is written and read back; a model
// without one has no "crop" in its metadata, as before crops existed.
func TestCropModelFile(t *testing.T) {
	m := modelFixture()
	var plain bytes.Buffer
	if err := EncodeModel(&plain, m); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), `"crop"`) {
		t.Error(`a model without a crop writes "crop"`)
	}
	m.Meta.Spec.Crop = Crops["upper"]
	if back := encodeDecode(t, m); back.Meta.Spec.Crop != Crops["upper"] {
		t.Errorf("crop read back %v, want %v", back.Meta.Spec.Crop, Crops["upper"])
	}
}
