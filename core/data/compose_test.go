package data

import (
	"slices"
	"strings"
	"testing"

	"metriclab/core"
)

// TestCompose: each part of a composed image is its source's, the parts
// tile the image (odd sides included), classes count in base n, names
// follow, and bad grids are refused.
func TestCompose(t *testing.T) {
	in := core.Input{Channels: 2, Height: 5, Width: 3}
	srcs := make([][]float32, 4)
	for k := range srcs {
		srcs[k] = make([]float32, in.Size())
		for i := range srcs[k] {
			srcs[k][i] = float32(k + 1)
		}
	}
	got := Parts{Rows: 2, Cols: 2}.Compose(nil, srcs, in)
	// Rows 0–1 are the top (⌊5/2⌋ = 2), column 0 the left (⌊3/2⌋ = 1).
	want := []float32{
		1, 2, 2,
		1, 2, 2,
		3, 4, 4,
		3, 4, 4,
		3, 4, 4,
	}
	if !slices.Equal(got[:15], want) || !slices.Equal(got[15:], want) {
		t.Errorf("2x2 of 2×5×3: %v, want %v on both channels", got, want)
	}
	if got := (Parts{Rows: 2, Cols: 1}).Compose(nil, srcs[:2], in); got[5] != 1 || got[6] != 2 || got[14] != 2 {
		t.Errorf("2x1: %v", got)
	}
	halves := Parts{Rows: 2, Cols: 1}
	if halves.Classes(5) != 25 || halves.Class([]int{3, 1}, 5) != 16 || halves.Class([]int{4, 4}, 5) != 24 {
		t.Errorf("halves of 5 classes: %d classes, (3,1) → %d, (4,4) → %d", halves.Classes(5), halves.Class([]int{3, 1}, 5), halves.Class([]int{4, 4}, 5))
	}
	names := halves.Names([]string{"a", "b", "c"})
	if len(names) != 9 || names[halves.Class([]int{2, 1}, 3)] != "c/b" || names[0] != "a/a" {
		t.Errorf("names %q", names)
	}
	if n := (Parts{}).Names([]string{"a", "b"}); !slices.Equal(n, []string{"a", "b"}) {
		t.Errorf("no composition: names %q", n)
	}
	for _, c := range []struct{ in, want string }{
		{"2x1", ""}, {"none", ""}, {"", ""}, {"2x2", ""}, {"3x2", "at most 4"}, {"0x2", "RxC"}, {"2", "RxC"}, {"axb", "RxC"},
		// 2³² × 2³² wraps to 0 in an int: each side is bounded first.
		{"4294967296x4294967296", "at most 4"}, {"4611686018427387904x4", "at most 4"},
	} {
		_, err := ParseParts(c.in)
		if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseParts(%q): %v, want %q", c.in, err, c.want)
		}
	}
	if err := (Parts{Rows: 2, Cols: 2}).Validate(20, core.Input{Channels: 1, Height: 32, Width: 32}); err == nil {
		t.Error("2x2 of 20 classes (160,000): no error")
	}
	if err := halves.Validate(20, core.Input{Channels: 1, Height: 32, Width: 32}); err != nil {
		t.Errorf("2x1 of 20 classes: %v", err)
	}
}
