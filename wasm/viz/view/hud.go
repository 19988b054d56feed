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

// Layout is where the text layer's parts go (see Lay).
type Layout struct {
	Caption string // wrapped to the room it has
	Y       int    // the caption's top
	Legend  int    // lines of the legend drawn (LegendShown), at most LegendLines
	Help    string // the help line wrapped to the layer's width, or "": not drawn (what is above reaches it)
	HelpY   int    // the help's top
}

// HelpSep separates the items of the help line ("drag: rotate", "R:
// reset"): Lay breaks its lines between items only.
const HelpSep = "   "

// minLegend is the fewest lines the legend is cut to for room: a class
// name and "+N more".
const minLegend = 2

// Lay returns the layout of text, the caption, on a text layer w×h CSS
// pixels with p's legend and help, the help line, at the bottom, wrapped
// between its items (HelpSep) to the layer's width. Each line of the
// caption is wrapped at spaces (a word longer than the room cut), counting
// a byte a glyph, so that it ends a glyph short of the legend at the top;
// where that leaves fewer than minCaption columns, so that it ends a
// margin short of the right edge below the legend. The legend ends above
// the help line, cut to fewer names and "+N more" where it would reach
// it, and, below it, where the caption would (down to minLegend lines).
// The help is drawn only where the caption ends above it. Without a
// legend (no picture yet: a run that failed before its first snapshot,
// whose reason the caption says) the caption is wrapped to the layer's
// width, at the top.
func Lay(text, help string, w, h int, p *Placed) Layout {
	wide := max(utf8.UTFMax, (w-2*TextMargin)/GlyphW) // the layer's width: room for a rune, for wrap to cut
	l := Layout{Caption: wrap(text, wide), Y: TextMargin / 2}
	helpText := wrapItems(help, wide)
	helpTop := h - (strings.Count(helpText, "\n")+1)*LineH - TextMargin/2
	if p != nil && len(p.Classes) > 0 {
		rows := (helpTop - l.Y) / LineH // lines above the help line
		cols := (LegendX(w) - GlyphW - TextMargin) / GlyphW
		below := cols < minCaption
		if below {
			cols = wide
		}
		l.Caption = wrap(text, cols)
		if below {
			rows -= strings.Count(l.Caption, "\n") + 1
		}
		l.Legend = min(LegendLines(p), max(minLegend, rows))
		if below {
			l.Y += l.Legend * LineH
		}
	}
	if l.Y+(strings.Count(l.Caption, "\n")+1)*LineH <= helpTop && TextMargin/2+l.Legend*LineH <= helpTop {
		l.Help, l.HelpY = helpText, helpTop
	}
	return l
}

// wrapItems wraps help to lines of at most cols bytes, breaking between
// its items (HelpSep) only, but for an item longer than that, which wrap
// cuts (cols ≥ utf8.UTFMax).
func wrapItems(help string, cols int) string {
	var b strings.Builder
	n := 0 // bytes on the current output line
	for i, item := range strings.Split(help, HelpSep) {
		switch {
		case i == 0:
		case n+len(HelpSep)+len(item) <= cols:
			b.WriteString(HelpSep)
			n += len(HelpSep)
		default:
			b.WriteByte('\n')
			n = 0
		}
		item = wrap(item, cols)
		b.WriteString(item)
		if k := strings.LastIndexByte(item, '\n'); k >= 0 {
			n = len(item) - k - 1 // on the item's last line
		} else {
			n += len(item)
		}
	}
	return b.String()
}

// LegendShown returns the class names of p's legend cut to lines lines,
// and the count of the "+N more" line after them (0: none).
func LegendShown(p *Placed, lines int) (names []string, more int) {
	if lines >= LegendLines(p) {
		return p.Classes, p.More
	}
	names = p.Classes[:max(0, lines-1)]
	return names, len(p.Classes) + p.More - len(names)
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
