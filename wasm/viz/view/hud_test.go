package view

import (
	"strings"
	"testing"
)

// TestCaption: in a viewer narrower than about 484 CSS pixels (compare
// mode) the caption of D > 3 and a long notice ran over the legend at the
// top right; each line now ends a glyph short of the legend, wrapped at
// spaces, and says the same words. Under about 260 CSS pixels, where that
// leaves fewer than minCaption columns, it ran over the legend still
// (wrapped at minCaption); it goes below the legend, as wide as the layer.
func TestCaption(t *testing.T) {
	var pl Placer
	withLegend := pl.Place(DemoSnapshot(16, 50, DemoClasses, 1))
	text := Label(withLegend, &Progress{Step: 1200, Epoch: 3}) +
		"\ntrainer: running\nWebGL draws on the CPU here: fewer repaints, no auto-rotation (A turns it on)" +
		"\nignored: an-unbroken-word-longer-than-the-room-left-of-the-legend-in-the-caption"
	legendBottom := TextMargin/2 + LegendLines(withLegend)*LineH
	for _, w := range []int{120, 200, 259, 262, 300, 420, 484, 800} {
		got, y := Caption(text, w, withLegend)
		for k, line := range strings.Split(got, "\n") {
			top, right := y+k*LineH, TextMargin+GlyphW*len(line)
			if top < legendBottom && right > LegendX(w)-GlyphW {
				t.Errorf("width %d: line %q at y = %d ends at x = %d, over the legend at %d (down to y = %d)", w, line, top, right, LegendX(w), legendBottom)
			}
			if right > w-TextMargin {
				t.Errorf("width %d: line %q ends at x = %d, past the layer's margin", w, line, right)
			}
		}
		if strings.Join(strings.Fields(got), "") != strings.Join(strings.Fields(text), "") {
			t.Errorf("width %d: caption %q does not say %q", w, got, text)
		}
	}
	// Narrower than a margin each side: a line a rune, cut between runes.
	if got, _ := Caption("a déjà-vu", 10, withLegend); strings.Join(strings.Fields(got), "") != "adéjà-vu" {
		t.Errorf("width 10: caption %q, want the words of %q", got, "a déjà-vu")
	}
	if got, y := Caption(text, 300, nil); got != text || y != TextMargin/2 {
		t.Errorf("no legend: caption %q at y = %d, want the text as it is at %d", got, y, TextMargin/2)
	}
}
