package view

import (
	"strings"
	"unicode/utf8"
)

// The layout of the text layer, in CSS pixels: the caption at the top
// left, the class legend at the top right, in ebiten's debug font (GlyphW
// wide, LineH a line).
const (
	GlyphW     = 6
	LineH      = 16
	TextMargin = 8
	SwatchSize = 8  // a legend line's colour swatch, then a gap of 4
	MaxLegend  = 20 // lines of the legend, its "+N more" among them
)

// LegendX returns the left edge of the legend (its swatches) on a text
// layer w CSS pixels wide.
func LegendX(w int) int { return w - TextMargin - SwatchSize - 4 - GlyphW*LegendColumn }

// minCaption is the fewest columns the caption is wrapped to beside the
// legend: in a viewer narrower than about 260 CSS pixels it goes below
// the legend instead, rather than become a column of single words.
const minCaption = 24

// LegendLines returns how many lines p's legend takes: a class name a
// line, and "+N more" (Placed.More).
func LegendLines(p *Placed) int {
	n := len(p.Classes)
	if p.More > 0 {
		n++
	}
	return n
}

// Caption returns the caption text as drawn on a text layer w CSS pixels
// wide with p's legend, and the y of its top: each line wrapped at spaces
// (a word longer than the room cut), counting a byte a glyph, so that it
// ends a glyph short of the legend at the top; where that leaves fewer
// than minCaption columns, so that it ends a margin short of the right
// edge below the legend. Without a legend it is text as it is, at the top.
func Caption(text string, w int, p *Placed) (caption string, y int) {
	y = TextMargin / 2
	if p == nil || len(p.Classes) == 0 {
		return text, y
	}
	cols := (LegendX(w) - GlyphW - TextMargin) / GlyphW
	if cols < minCaption {
		cols = max(utf8.UTFMax, (w-2*TextMargin)/GlyphW) // room for a rune, for wrap to cut
		y += LegendLines(p) * LineH
	}
	return wrap(text, cols), y
}

// wrap wraps each line of text at spaces to at most cols bytes, cutting a
// word longer than that between runes (cols ≥ utf8.UTFMax).
func wrap(text string, cols int) string {
	var b strings.Builder
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		n := 0 // bytes on the current output line
		for j, word := range strings.Split(line, " ") {
			switch {
			case j == 0:
			case n+1+len(word) <= cols:
				b.WriteByte(' ')
				n++
			default:
				b.WriteByte('\n')
				n = 0
			}
			for len(word) > cols-n { // n = 0 here: a word that does not fit starts a line
				cut := cols
				for !utf8.RuneStart(word[cut]) {
					cut--
				}
				b.WriteString(word[:cut])
				b.WriteByte('\n')
				word = word[cut:]
			}
			b.WriteString(word)
			n += len(word)
		}
	}
	return b.String()
}
