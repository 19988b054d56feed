package msg

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// The names a TrainRequest's recipe fields take, for the page, which does
// not import core: core/job's tests hold them equal to data.Augmentations
// and core's schedules and turns.

// AugmentNames returns the names of TrainRequest.Augment ("" is "none").
func AugmentNames() []string { return []string{"none", "digits", "handwriting", "faces", "heads"} }

// ScheduleNames returns the names of TrainRequest.Schedule ("" is
// "cosine").
func ScheduleNames() []string { return []string{"cosine", "step", "constant"} }

// TurnsValues returns the values TrainRequest.Turns takes: none, quarter
// turns, quarter turns and mirrors.
func TurnsValues() []int { return []int{0, 4, 8} }

// The image inputs that images are resized or cropped to: a server job's
// uploaded data set (TrainRequest.Input) and the Verify page's face crops
// for a loaded model. One rule, so that the page takes every model a job
// can train: 1 (grey) or 3 (RGB) channels, MinSide to MaxSide pixels a
// side.
const (
	MinSide = 8
	MaxSide = 256
)

// CheckImageInput says why channels c, height h and width w are not such
// an input, or nil.
func CheckImageInput(c, h, w int) error {
	if c != 1 && c != 3 || min(h, w) < MinSide || max(h, w) > MaxSide {
		return fmt.Errorf("want 1 or 3 channels and sides of %d to %d pixels", MinSide, MaxSide)
	}
	return nil
}

// The bound of an embedding's dimension D, for every model, loss and
// command that takes one (core.CheckDim), and for the page and viewer that
// ask for one.
const (
	MinDim = 2
	MaxDim = 512
)

// MaxComposeParts is the most parts TrainRequest.Compose may cut an image
// into.
const MaxComposeParts = 4

// ParseCompose reads TrainRequest.Compose: "RxC", R and C at least 1 and
// at most MaxComposeParts parts in all (2x1: top and bottom halves), or ""
// and "none", no composition (0, 0).
func ParseCompose(s string) (rows, cols int, err error) {
	if s == "" || s == "none" {
		return 0, 0, nil
	}
	r, c, ok := strings.Cut(s, "x")
	rows, err1 := strconv.Atoi(r)
	cols, err2 := strconv.Atoi(c)
	// Each side is bounded before the product, which could wrap.
	if !ok || err1 != nil || err2 != nil || rows < 1 || cols < 1 || rows > MaxComposeParts || cols > MaxComposeParts || rows*cols > MaxComposeParts {
		return 0, 0, fmt.Errorf("compose %q: want RxC parts, at most %d of them (2x1: top and bottom halves, 1x2, 2x2, 3x1), or none", s, MaxComposeParts)
	}
	return rows, cols, nil
}

// MaxGlyphs is the most classes TrainRequest.Glyphs may add: the head
// holds a weight row per class, and every image is drawn at the start.
const MaxGlyphs = 1000

// CheckGlyphs reports whether n is a number of glyph classes
// TrainRequest.Glyphs takes, 0 to MaxGlyphs, or nil.
func CheckGlyphs(n int) error {
	if n < 0 || n > MaxGlyphs {
		return fmt.Errorf("glyphs %d out of range [0, %d]", n, MaxGlyphs)
	}
	return nil
}

// ParseInput reads an input shape "CxHxW" (TrainRequest.Input, a preset's
// Input, the command line's --input) as channels, height and width, each
// a positive integer.
func ParseInput(s string) (c, h, w int, err error) {
	parts := strings.Split(s, "x")
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("input %q: want CxHxW, e.g. 1x32x32", s)
	}
	var n [3]int
	for i, p := range parts {
		if n[i], err = strconv.Atoi(p); err != nil || n[i] <= 0 {
			return 0, 0, 0, fmt.Errorf("input %q: %q is not a positive integer", s, p)
		}
	}
	return n[0], n[1], n[2], nil
}

// FormatLoss names a loss with its parameters as the command line's
// words write them (a --variant's name=value), sorted by name: "cosface
// m=0.2 s=16"; a loss without parameters is its name alone.
func FormatLoss(name string, params map[string]float64) string {
	var b strings.Builder
	b.WriteString(name)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		fmt.Fprintf(&b, " %s=%g", k, params[k])
	}
	return b.String()
}
