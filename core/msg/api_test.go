package msg

import "testing"

// TestSameShape: the shape counts, the normalisation does not.
func TestSameShape(t *testing.T) {
	a := Input{Channels: 1, Height: 48, Width: 48, Mean: 0.5, Std: 0.5}
	if b := (Input{Channels: 1, Height: 48, Width: 48, Mean: 0.1, Std: 0.3}); !a.SameShape(b) {
		t.Error("another normalisation: not the same shape")
	}
	for _, b := range []Input{{Channels: 3, Height: 48, Width: 48}, {Channels: 1, Height: 32, Width: 48}, {Channels: 1, Height: 48, Width: 32}} {
		if a.SameShape(b) {
			t.Errorf("%v and %v: the same shape", a, b)
		}
	}
}
