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
		l := Lay(text, "", w, 1000, withLegend)
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
	if got := Lay("a déjà-vu", "", 10, 1000, withLegend).Caption; strings.Join(strings.Fields(got), "") != "adéjà-vu" {
		t.Errorf("width 10: caption %q, want the words of %q", got, "a déjà-vu")
	}
	if l := Lay(text, "", 800, 1000, nil); l.Caption != text || l.Y != TextMargin/2 {
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
		l := Lay(text, "", w, 400, nil)
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
				l := Lay(text, "R: reset", w, h, p)
				helpTop := h - LineH - TextMargin/2
				captionBottom := l.Y + (strings.Count(l.Caption, "\n")+1)*LineH
				legendBottom := TextMargin/2 + l.Legend*LineH
				if l.Help != "" && (captionBottom > helpTop || legendBottom > helpTop) {
					t.Errorf("%d classes, %d×%d: caption down to y = %d, legend to %d, over the help line at %d", classes, w, h, captionBottom, legendBottom, helpTop)
				}
				// What can fit does: a legend of a name and "+N more" and
				// the caption above the help line.
				if fits := TextMargin/2+(minLegend+strings.Count(Lay(text, "", w, 1000, p).Caption, "\n")+1)*LineH <= helpTop; fits && (l.Help == "" || captionBottom > h) {
					t.Errorf("%d classes, %d×%d: help line %q, caption down to y = %d; want it all on the layer", classes, w, h, l.Help, captionBottom)
				}
				names, more := LegendShown(p, l.Legend)
				if shown := len(names) + min(more, 1); shown != l.Legend || len(names)+more != total || l.Legend < min(minLegend, LegendLines(p)) {
					t.Errorf("%d classes, %d×%d: legend of %d lines shows %d names and %d more, want %d lines of %d classes", classes, w, h, l.Legend, len(names), more, shown, total)
				}
			}
		}
	}
}

// TestLayHelpWraps: the help line is wrapped to the layer's width between
// its items, as the caption is between words, and ends above the layer's
// bottom margin, the caption and the legend above it. Before, it was
// drawn as one line whatever the width: in a viewer narrower than 376
// CSS pixels (compare mode's, on a small screen) "R: reset" and then the
// auto-rotation's key ran off the layer.
func TestLayHelpWraps(t *testing.T) {
	var pl Placer
	p := pl.Place(DemoSnapshot(16, 50, 5, 1))
	items := []string{"drag: rotate", "wheel: zoom", "A: auto-rotate (off)", "R: reset"}
	help := strings.Join(items, HelpSep)
	for _, w := range []int{120, 200, 300, 340, 376, 400} {
		l := Lay("D=16", help, w, 800, p)
		if l.Help == "" {
			t.Errorf("width %d: no help line in a layer 800 pixels high", w)
			continue
		}
		lines := strings.Split(l.Help, "\n")
		for _, line := range lines {
			if right := TextMargin + GlyphW*len(line); right > w-TextMargin {
				t.Errorf("width %d: help line %q ends at x = %d, past the layer's margin at %d", w, line, right, w-TextMargin)
			}
		}
		if bottom := l.HelpY + len(lines)*LineH; bottom != 800-TextMargin/2 {
			t.Errorf("width %d: the help's %d lines end at y = %d, want %d", w, len(lines), bottom, 800-TextMargin/2)
		}
		if strings.Join(strings.Fields(l.Help), "") != strings.Join(strings.Fields(help), "") {
			t.Errorf("width %d: help %q does not say %q", w, l.Help, help)
		}
		if w >= 2*TextMargin+GlyphW*len(items[2]) { // each item fits a line: none is cut
			for _, item := range items {
				if !strings.Contains(l.Help, item) {
					t.Errorf("width %d: help %q cuts %q", w, l.Help, item)
				}
			}
		}
	}
	if l := Lay("D=16", help, 400, 800, p); l.Help != help {
		t.Errorf("width 400: help %q, want it on one line", l.Help)
	}
	// Too short for the caption and the help's lines: no help.
	if l := Lay("D=16\nline\nline", help, 120, 60, p); l.Help != "" {
		t.Errorf("120×60: help %q drawn over the caption", l.Help)
	}
}
