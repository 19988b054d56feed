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

// TestErrorLine: control characters and the bidirectional embeddings,
// overrides and isolates become spaces; the marks U+200E and U+200F, and
// right-to-left text itself, stay. Before, a quoted name's U+202E showed
// the rest of the notice reversed.
func TestErrorLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"line\nbreak\ttab\x00", "line break tab "},
		{"line\u2028separator\u2029paragraph\u0085next", "line separator paragraph next"},
		{"name \"\u202egnp.exe\": not a class", "name \" gnp.exe\": not a class"},
		{"\u202a\u202b\u202c\u202d\u202e|\u2066\u2067\u2068\u2069", "     |    "},
		{"mark \u200e\u200f kept, \u05e9\u05dc\u05d5\u05dd kept", "mark \u200e\u200f kept, \u05e9\u05dc\u05d5\u05dd kept"},
	} {
		if got := ErrorLine(c.in); got != c.want {
			t.Errorf("ErrorLine(%+q) = %+q, want %+q", c.in, got, c.want)
		}
	}
}
