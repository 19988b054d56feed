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
		l := Lay(text, w, 1000, withLegend)
		got, y := l.Caption, l.Y
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
	if got := Lay("a déjà-vu", 10, 1000, withLegend).Caption; strings.Join(strings.Fields(got), "") != "adéjà-vu" {
		t.Errorf("width 10: caption %q, want the words of %q", got, "a déjà-vu")
	}
	if l := Lay(text, 800, 1000, nil); l.Caption != text || l.Y != TextMargin/2 {
		t.Errorf("no legend, width 800: caption %q at y = %d, want the text as it is at %d", l.Caption, l.Y, TextMargin/2)
	}
}

// TestLayNoLegend: a viewer with no picture yet (a run that failed before
// its first snapshot: a start refused, MNIST not loaded, a worker dead)
// has no legend, and its caption says why the run failed ("trainer:
// failed: REASON", up to 240 bytes of it: Pump); each line is wrapped to
// the layer's width, as below a legend. Before, the caption was drawn as
// it was without a legend, and the reason ran off the layer.
func TestLayNoLegend(t *testing.T) {
	text := Label(nil, nil) + "\ntrainer: failed: trainer.wasm failed to load: " + strings.TrimSpace(strings.Repeat("a reason of some length ", 9))
	for _, w := range []int{120, 200, 300, 484, 800} {
		l := Lay(text, w, 400, nil)
		for k, line := range strings.Split(l.Caption, "\n") {
			if right := TextMargin + GlyphW*len(line); right > w-TextMargin {
				t.Errorf("width %d: line %d %q ends at x = %d, past the layer's margin", w, k, line, right)
			}
		}
		if strings.Join(strings.Fields(l.Caption), "") != strings.Join(strings.Fields(text), "") || l.Y != TextMargin/2 {
			t.Errorf("width %d: caption %q at y = %d, want the words of %q at %d", w, l.Caption, l.Y, text, TextMargin/2)
		}
	}
}

// TestLayHelpLine: in a short viewer the caption, below the legend where
// the viewer is narrow, and the legend itself ran over the help line at
// the bottom, or off the layer; the legend is cut to fewer names and
// "+N more" where it would reach the help line (down to a name and
// "+N more"), and the help line is left out where the caption would still
// reach it. Its classes are all named or counted.
func TestLayHelpLine(t *testing.T) {
	var pl Placer
	text := "D=16, 2000 points, step 1200 (epoch 3)\nPCA projection of 16-dim embeddings (97% of the second moment)\ntrainer: running"
	for _, classes := range []int{5, 20, 100} {
		p := pl.Place(DemoSnapshot(16, 50, classes, 1))
		total := len(p.Classes) + p.More
		for _, w := range []int{120, 200, 259, 300, 484, 800} {
			for _, h := range []int{60, 120, 200, 260, 340, 400, 800} {
				l := Lay(text, w, h, p)
				helpTop := h - LineH - TextMargin/2
				captionBottom := l.Y + (strings.Count(l.Caption, "\n")+1)*LineH
				legendBottom := TextMargin/2 + l.Legend*LineH
				if l.Help && (captionBottom > helpTop || legendBottom > helpTop) {
					t.Errorf("%d classes, %d×%d: caption down to y = %d, legend to %d, over the help line at %d", classes, w, h, captionBottom, legendBottom, helpTop)
				}
				// What can fit does: a legend of a name and "+N more" and
				// the caption above the help line.
				if fits := TextMargin/2+(minLegend+strings.Count(Lay(text, w, 1000, p).Caption, "\n")+1)*LineH <= helpTop; fits && (!l.Help || captionBottom > h) {
					t.Errorf("%d classes, %d×%d: help line %v, caption down to y = %d; want it all on the layer", classes, w, h, l.Help, captionBottom)
				}
				names, more := LegendShown(p, l.Legend)
				if shown := len(names) + min(more, 1); shown != l.Legend || len(names)+more != total || l.Legend < min(minLegend, LegendLines(p)) {
					t.Errorf("%d classes, %d×%d: legend of %d lines shows %d names and %d more, want %d lines of %d classes", classes, w, h, l.Legend, len(names), more, shown, total)
				}
			}
		}
	}
}
