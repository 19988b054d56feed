package view

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
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
		l := Lay(text, "", w, 1000, withLegend, MonoWidth)
		got, y := l.Caption, l.Y
		for k, line := range strings.Split(got, "\n") {
			top, right := y+k*LineH, TextMargin+GlyphW*len(line)
			if top < legendBottom && right > l.LegendX-GlyphW {
				t.Errorf("width %d: line %q at y = %d ends at x = %d, over the legend at %d (down to y = %d)", w, line, top, right, l.LegendX, legendBottom)
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
	if got := Lay("a déjà-vu", "", 10, 1000, withLegend, MonoWidth).Caption; strings.Join(strings.Fields(got), "") != "adéjà-vu" {
		t.Errorf("width 10: caption %q, want the words of %q", got, "a déjà-vu")
	}
	if l := Lay(text, "", 800, 1000, nil, MonoWidth); l.Caption != text || l.Y != TextMargin/2 {
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
		l := Lay(text, "", w, 400, nil, MonoWidth)
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
				l := Lay(text, "R: reset", w, h, p, MonoWidth)
				helpTop := h - LineH - TextMargin/2
				captionBottom := l.Y + (strings.Count(l.Caption, "\n")+1)*LineH
				legendBottom := TextMargin/2 + l.Legend*LineH
				if l.Help != "" && (captionBottom > helpTop || legendBottom > helpTop) {
					t.Errorf("%d classes, %d×%d: caption down to y = %d, legend to %d, over the help line at %d", classes, w, h, captionBottom, legendBottom, helpTop)
				}
				// What can fit does: a legend of a name and "+N more" and
				// the caption above the help line.
				if fits := TextMargin/2+(minLegend+strings.Count(Lay(text, "", w, 1000, p, MonoWidth).Caption, "\n")+1)*LineH <= helpTop; fits && (l.Help == "" || captionBottom > h) {
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
		l := Lay("D=16", help, w, 800, p, MonoWidth)
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
	if l := Lay("D=16", help, 400, 800, p, MonoWidth); l.Help != help {
		t.Errorf("width 400: help %q, want it on one line", l.Help)
	}
	// Too short for the caption and the help's lines: no help.
	if l := Lay("D=16\nline\nline", help, 120, 60, p, MonoWidth); l.Help != "" {
		t.Errorf("120×60: help %q drawn over the caption", l.Help)
	}
}

// wideMeasure measures as a browser's font does in proportion: an East
// Asian wide rune (CJK, kana, hangul, emoji) twice as wide as a Latin
// letter, a combining mark nothing.
func wideMeasure(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r >= 0x1100 && (r <= 0x115f || (r >= 0x2e80 && r <= 0xa4cf) || (r >= 0xac00 && r <= 0xd7a3) || (r >= 0xf900 && r <= 0xfaff) || (r >= 0xff00 && r <= 0xff60) || r >= 0x1f300):
			n += 2 * GlyphW
		default:
			n += GlyphW
		}
	}
	return n
}

// TestLegendAnyScript: the legend's names are drawn in their own script,
// measured as the font draws them: a name of 4 CJK runes is wider than
// one of 4 Latin letters, and the legend, as wide as its widest line,
// starts further left; a name wider than LegendWidth is cut between runes,
// ending in Ellipsis, never in a broken UTF-8 sequence; each line ends a
// margin short of the layer's right edge, and the caption a glyph short of
// the legend. Before, the names were "??" (Place) and measured 6 pixels a
// byte.
func TestLegendAnyScript(t *testing.T) {
	var pl Placer
	for _, tc := range []struct {
		names []string
		cut   []bool
	}{
		{[]string{"李雷", "José", "Jose\u0301", "Ann"}, []bool{false, false, false, false}},
		{[]string{"王小明李", "abcd"}, []bool{false, false}},
		{[]string{"日本語のクラス名です", "a-very-long-class-name", "👩\u200d💻👩\u200d💻👩\u200d💻👩\u200d💻", "שלום עליכם חברים"}, []bool{true, true, true, true}},
	} {
		p := pl.Place(&Snapshot{Dim: 2, Classes: tc.names})
		for _, w := range []int{200, 375, 800} {
			l := Lay("D=2, 40 points, step 1200 (epoch 3) 训练中的嵌入在单位圆上", "R: reset", w, 600, p, wideMeasure)
			if len(l.Names) != len(tc.names) || l.More != 0 {
				t.Fatalf("%q, width %d: legend %q and %d more", tc.names, w, l.Names, l.More)
			}
			for j, name := range l.Names {
				if !utf8.ValidString(name) {
					t.Errorf("%q, width %d: name %q is not valid UTF-8", tc.names, w, name)
				}
				right := l.LegendX + SwatchSize + 4 + wideMeasure(name)
				if right > w-TextMargin || wideMeasure(name) > LegendWidth {
					t.Errorf("%q, width %d: name %q ends at x = %d (%d wide), past the margin at %d or wider than %d", tc.names, w, name, right, wideMeasure(name), w-TextMargin, LegendWidth)
				}
				if cut := strings.HasSuffix(name, Ellipsis); cut != tc.cut[j] || !strings.HasPrefix(tc.names[j], strings.TrimSuffix(name, Ellipsis)) {
					t.Errorf("%q, width %d: name %q, want %q cut %v", tc.names, w, name, tc.names[j], tc.cut[j])
				}
				if tc.cut[j] && wideMeasure(name)+2*GlyphW <= LegendWidth {
					t.Errorf("%q, width %d: name %q cut shorter than the room", tc.names, w, name)
				}
			}
			legendBottom := TextMargin/2 + l.Legend*LineH
			for k, line := range strings.Split(l.Caption, "\n") {
				top, right := l.Y+k*LineH, TextMargin+wideMeasure(line)
				if (top < legendBottom && right > l.LegendX-GlyphW) || right > w-TextMargin {
					t.Errorf("%q, width %d: caption line %q at y = %d ends at x = %d, over the legend at %d or the margin", tc.names, w, line, top, right, l.LegendX)
				}
			}
		}
	}
	cjk := Lay("", "", 800, 600, pl.Place(&Snapshot{Dim: 2, Classes: []string{"王小明李"}}), wideMeasure)
	latin := Lay("", "", 800, 600, pl.Place(&Snapshot{Dim: 2, Classes: []string{"abcd"}}), wideMeasure)
	if cjk.LegendX >= latin.LegendX {
		t.Errorf("the legend of a name of 4 CJK runes starts at x = %d, of 4 Latin letters at %d: want it further left", cjk.LegendX, latin.LegendX)
	}
}

// TestFit: Fit cuts between runes to the width, Ellipsis included.
func TestFit(t *testing.T) {
	for _, tc := range []struct {
		s     string
		width int
		want  string
	}{
		{"abc", 18, "abc"},
		{"abcd", 18, "ab…"},
		{"李雷王", 30, "李雷王"[:6] + "…"},
		{"李雷王", 29, "李…"},
		{"李雷", 5, "…"},
		{"", 0, ""},
	} {
		if got := Fit(tc.s, tc.width, wideMeasure); got != tc.want {
			t.Errorf("Fit(%q, %d) = %q, want %q", tc.s, tc.width, got, tc.want)
		}
	}
}
