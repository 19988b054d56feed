package view

import (
	"strings"
	"testing"
)

// TestCaption: in a viewer narrower than about 484 CSS pixels (compare
// mode) the caption of D > 3 and a long notice ran over the legend at the
// top right; each line now ends a glyph short of the legend, wrapped at
// spaces, and says the same words.
func TestCaption(t *testing.T) {
	var pl Placer
	withLegend := pl.Place(DemoSnapshot(16, 50, DemoClasses, 1))
	text := Label(withLegend, &Progress{Step: 1200, Epoch: 3}) +
		"\ntrainer: running\nWebGL draws on the CPU here: fewer repaints, no auto-rotation (A turns it on)" +
		"\nignored: an-unbroken-word-longer-than-the-room-left-of-the-legend-in-the-caption"
	for _, w := range []int{300, 420, 484, 800} {
		got := Caption(text, w, withLegend)
		for _, line := range strings.Split(got, "\n") {
			if right := TextMargin + GlyphW*len(line); right > LegendX(w)-GlyphW {
				t.Errorf("width %d: line %q ends at x = %d, over the legend at %d", w, line, right, LegendX(w))
			}
		}
		if strings.Join(strings.Fields(got), "") != strings.Join(strings.Fields(text), "") {
			t.Errorf("width %d: caption %q does not say %q", w, got, text)
		}
	}
	if got := Caption(text, 300, nil); got != text {
		t.Errorf("no legend: caption %q, want the text as it is", got)
	}
}
