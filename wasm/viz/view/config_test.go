package view

import (
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	def := Config{Channel: "metriclab", Dim: 3, N: 2000, Rotate: true}
	for _, tc := range []struct {
		search string
		want   Config // Note aside
		note   string // what Note must hold; "": no note
	}{
		{"", def, ""},
		{"?channel=job-7", Config{Channel: "job-7", Dim: 3, N: 2000, Rotate: true}, ""},
		{"?demo=1&dim=16&n=300", Config{Channel: "metriclab", Demo: true, Dim: 16, N: 300, Rotate: true}, ""},
		{"demo=true&dim=2", Config{Channel: "metriclab", Demo: true, Dim: 2, N: 2000, Rotate: true}, ""},
		// rotate=0 turns the auto-rotation off and rotate=1 on, both
		// said (RotateSet: the viewer's own default, off where WebGL draws
		// on the CPU, does not apply); anything else is the default.
		{"?channel=t1&rotate=0", Config{Channel: "t1", Dim: 3, N: 2000, RotateSet: true}, ""},
		{"?rotate=false", Config{Channel: "metriclab", Dim: 3, N: 2000, RotateSet: true}, ""},
		{"?rotate=1", Config{Channel: "metriclab", Dim: 3, N: 2000, Rotate: true, RotateSet: true}, ""},
		{"?rotate=on", Config{Channel: "metriclab", Dim: 3, N: 2000, Rotate: true, RotateSet: true}, ""},
		{"?rotate=maybe", def, `rotate="maybe" (want 1 or 0)`},
		// Out-of-range and malformed values fall back to the defaults,
		// and the note names them.
		{"?demo=0&dim=1&n=-4", def, `dim="1" (want 2 to 512); n="-4" (want 0 to 20000)`},
		{"?dim=100000&n=99999999", def, `dim="100000" (want 2 to 512)`},
		{"?%zz", def, `a malformed part (invalid URL escape "%zz")`},
		// A malformed part, or a ";" (which Go's query parser refuses),
		// beside a channel leaves the channel read: a viewer on the
		// default channel would wait for snapshots that go elsewhere.
		{"?channel=job-7&x=%zz", Config{Channel: "job-7", Dim: 3, N: 2000, Rotate: true}, "a malformed part"},
		{"?channel=job-7&x=a;b", Config{Channel: "job-7", Dim: 3, N: 2000, Rotate: true}, "semicolon"},
		// Unknown names (a misspelt channel), empty and repeated values.
		{"?chanel=job-7", def, `unknown "chanel"`},
		{"?channel=", def, `channel="" (want a name)`},
		{"?channel=a&channel=b", Config{Channel: "a", Dim: 3, N: 2000, Rotate: true}, "channel given 2 times (the first is read)"},
	} {
		got := ParseConfig(tc.search)
		note := got.Note
		got.Note = ""
		if got != tc.want {
			t.Errorf("ParseConfig(%q) = %+v, want %+v", tc.search, got, tc.want)
		}
		switch {
		case tc.note == "" && note != "":
			t.Errorf("ParseConfig(%q).Note = %q, want none", tc.search, note)
		case !strings.Contains(note, tc.note):
			t.Errorf("ParseConfig(%q).Note = %q, want it to say %q", tc.search, note, tc.note)
		}
	}
}

// TestParseConfigNoteOneLine: a value of any length or bytes gives a note of
// one short line of ASCII, the value clipped (ending in Ellipsis).
func TestParseConfigNoteOneLine(t *testing.T) {
	search := "?dim=" + strings.Repeat("9", 5000) + "%0A%E2%80%A6&%F0%9F%98%80=" + strings.Repeat("x", 5000)
	note := ParseConfig(search).Note
	if note == "" || len(note) > 200 {
		t.Fatalf("note of %d bytes: %q", len(note), note)
	}
	for i, r := range note {
		if (r < ' ' || r > '~') && string(r) != Ellipsis {
			t.Fatalf("note has %q at byte %d: %q", r, i, note)
		}
	}
}
