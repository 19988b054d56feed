package view

import (
	"fmt"
	"strings"
)

// The layout of the text layer, in CSS pixels: the caption at the top
// left, the class legend at the top right, a line LineH high, in the font
// that a Measure measures (the browser's, or ebiten's debug font, GlyphW
// a rune, where there is no 2D canvas).
const (
	GlyphW      = 6
	LineH       = 16
	TextMargin  = 8
	SwatchSize  = 8                     // a legend line's colour swatch, then a gap of 4
	MaxLegend   = 20                    // lines of the legend, its "+N more" among them
	LegendWidth = GlyphW * LegendColumn // the widest a class name is drawn: a wider one is cut (Fit)
)

// minCaption is the narrowest the caption is wrapped to beside the
// legend, in pixels: in a viewer narrower than about 260 CSS pixels it
// goes below the legend instead, rather than become a column of single
// words.
const minCaption = 24 * GlyphW

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
	Caption string   // wrapped to the room it has
	Y       int      // the caption's top
	Legend  int      // lines of the legend drawn, at most LegendLines: Names and, if More > 0, "+N more"
	Names   []string // the names drawn, each cut to LegendWidth (Fit)
	More    int      // classes counted on the legend's last line, "+N more" (0: none)
	LegendX int      // the legend's left edge (its swatches)
	LegendR int      // the legend's right edge: its widest line ends there
	Help    string   // the help line wrapped to the layer's width, or "": not drawn (what is above reaches it)
	HelpY   int      // the help's top
	HelpW   int      // the help's widest line
}

// LegendBox returns the rectangle [x0, x1) × [y0, y1) that the legend
// covers on the text layer, empty (x0 = x1) without a legend.
func (l *Layout) LegendBox() (x0, y0, x1, y1 int) {
	if l.Legend == 0 {
		return 0, 0, 0, 0
	}
	return l.LegendX, TextMargin / 2, l.LegendR, TextMargin/2 + l.Legend*LineH
}

// HelpBox returns the rectangle [x0, x1) × [y0, y1) that the help line
// covers on the text layer, empty (x0 = x1) where it is not drawn.
func (l *Layout) HelpBox() (x0, y0, x1, y1 int) {
	if l.Help == "" {
		return 0, 0, 0, 0
	}
	return TextMargin, l.HelpY, TextMargin + l.HelpW, l.HelpY + (strings.Count(l.Help, "\n")+1)*LineH
}

// MoreLine returns the legend's last line for n classes not named.
func MoreLine(n int) string { return fmt.Sprintf("+%d more", n) }

// HelpSep separates the items of the help line ("drag: rotate", "R:
// reset"): Lay breaks its lines between items only.
const HelpSep = "   "

// minLegend is the fewest lines the legend is cut to for room: a class
// name and "+N more".
const minLegend = 2

// Lay returns the layout of text, the caption, on a text layer w×h CSS
// pixels with p's legend and help, the help line, at the bottom, wrapped
// between its items (HelpSep) to the layer's width; m measures the text
// as it is drawn. The legend's names are cut to LegendWidth (Fit, ending
// in Ellipsis), and the legend is as wide as its widest line. Each line of
// the caption is wrapped at spaces (a word wider than the room cut between
// runes) so that it ends a glyph short of the legend at the top; where
// that leaves it narrower than minCaption, so that it ends a margin short
// of the right edge below the legend. The legend ends above the help
// line, cut to fewer names and "+N more" where it would reach it, and,
// below it, where the caption would (down to minLegend lines). The help
// is drawn only where the caption ends above it. Without a legend (no
// picture yet: a run that failed before its first snapshot, whose reason
// the caption says) the caption is wrapped to the layer's width, at the
// top.
func Lay(text, help string, w, h int, p *Placed, m Measure) Layout {
	wide := w - 2*TextMargin // the layer's width
	l := Layout{Caption: wrap(text, wide, m), Y: TextMargin / 2}
	helpText := wrapItems(help, wide, m)
	helpTop := h - (strings.Count(helpText, "\n")+1)*LineH - TextMargin/2
	if p != nil && len(p.Classes) > 0 {
		names := make([]string, len(p.Classes))
		lw := 0 // the widest line of the legend, "+N more" as wide as it can be
		for j, name := range p.Classes {
			names[j] = Fit(name, LegendWidth, m)
			lw = max(lw, m(names[j]))
		}
		if len(names) > 1 || p.More > 0 {
			lw = max(lw, m(MoreLine(len(names)+p.More-1)))
		}
		l.LegendR = w - TextMargin
		l.LegendX = l.LegendR - lw - 4 - SwatchSize
		rows := (helpTop - l.Y) / LineH // lines above the help line
		room := l.LegendX - GlyphW - TextMargin
		below := room < minCaption
		if below {
			room = wide
		}
		l.Caption = wrap(text, room, m)
		if below {
			rows -= strings.Count(l.Caption, "\n") + 1
		}
		l.Legend = min(LegendLines(p), max(minLegend, rows))
		l.Names, l.More = LegendShown(&Placed{Classes: names, More: p.More}, l.Legend)
		if below {
			l.Y += l.Legend * LineH
		}
	}
	if l.Y+(strings.Count(l.Caption, "\n")+1)*LineH <= helpTop && TextMargin/2+l.Legend*LineH <= helpTop {
		l.Help, l.HelpY = helpText, helpTop
		for _, line := range strings.Split(helpText, "\n") {
			l.HelpW = max(l.HelpW, m(line))
		}
	}
	return l
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
