package msg

import (
	"strings"
	"testing"
	"unicode/utf8"
)

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

// TestJoinShortened: parts that fit are joined as they are, the empty
// ones left out; parts too long for the line are each shortened to their
// share, a shorter one kept whole, so that each keeps its start and end
// (a job's note on its data, then why it ended: the line shortened as
// one would lose the start of why).
func TestJoinShortened(t *testing.T) {
	note := "data set faces: 20 images, 2 skipped: 2 under 8 pixels a side" // 62
	for _, c := range []struct {
		n     int
		parts []string
		want  string
	}{
		{80, []string{"", note, ""}, note},
		{80, []string{"a", "", "b"}, "a; b"},
		{80, nil, ""},
		// 62 + 2 + 25 = 89: the reason, the shorter, kept whole; the note 53.
		{80, []string{note, "step 12: loss is NaN (lr)"}, "data set faces: 20 images … : 2 under 8 pixels a side; step 12: loss is NaN (lr)"},
		// Both over half: each its half of 78, 39.
		{80, []string{note, "step 12: loss is NaN " + strings.Repeat("r", 50) + " lower lr"},
			"data set faces: 20 … er 8 pixels a side; step 12: loss is N … rrrrrrrrr lower lr"},
		// Three: the shortest whole, the others sharing what is left (17, 18).
		{40, []string{"aaaaaaaaaaaaaaaaaaaa", "b", "cccccccccccccccccccc"}, "aaaaaaa … aaaaaaa; b; ccccccc … cccccccc"},
		// Too many for a character each beside the "; ": the line as one
		// (before, "; ; ; ; e" and "; b; c; d; e", the first parts lost).
		{9, []string{"a", "b", "c", "d", "e"}, "a;  … ; e"},
		{12, []string{"aaaa", "bbbb", "cccc", "dddd", "eeee"}, "aaaa …  eeee"},
	} {
		got := JoinShortened(c.n, c.parts...)
		if got != c.want || utf8.RuneCountInString(got) > c.n {
			t.Errorf("JoinShortened(%d, %q) = %q (%d characters), want %q", c.n, c.parts, got, utf8.RuneCountInString(got), c.want)
		}
	}
}
