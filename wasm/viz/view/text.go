package view

import (
	"strings"
	"unicode/utf8"
)

// Measure returns the width of s, one line, in CSS pixels, in the font the
// text layer is drawn in. In the browser it is the canvas's own
// (measureText of the font that draws the text: see CanvasFont); MonoWidth
// stands in for it elsewhere.
type Measure func(s string) int

// MonoWidth measures s in ebiten's debug font, the viewer's text where the
// browser gives no 2D canvas (and the font of the tests): GlyphW a rune,
// whatever the rune.
func MonoWidth(s string) int { return GlyphW * utf8.RuneCountInString(s) }

// Ellipsis ends a name or a word that Fit cut.
const Ellipsis = "…"

// Fit returns s if it is at most width pixels wide, and else its longest
// prefix of whole runes that is, with Ellipsis, at most width pixels wide
// (just Ellipsis where no rune fits, if even that is too wide).
func Fit(s string, width int, m Measure) string {
	if m(s) <= width {
		return s
	}
	return s[:prefix(s, width-m(Ellipsis), m)] + Ellipsis
}

// prefix returns the length in bytes of s's longest prefix of whole runes
// at most width pixels wide (0: none). Widths grow with the prefix, so it
// searches the rune boundaries by halves.
func prefix(s string, width int, m Measure) int {
	cuts := make([]int, 0, len(s)) // byte offsets after each rune
	for i := range s {
		if i > 0 {
			cuts = append(cuts, i)
		}
	}
	cuts = append(cuts, len(s))
	lo, hi := 0, len(cuts) // cuts[:lo] fit, cuts[hi:] do not
	for lo < hi {
		k := (lo + hi) / 2
		if m(s[:cuts[k]]) <= width {
			lo = k + 1
		} else {
			hi = k
		}
	}
	if lo == 0 {
		return 0
	}
	return cuts[lo-1]
}

// wrap wraps each line of text at spaces to at most width pixels, cutting
// a word wider than that between runes (at least one rune a line).
func wrap(text string, width int, m Measure) string {
	var b strings.Builder
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		cur := "" // the current output line
		for j, word := range strings.Split(line, " ") {
			switch {
			case j == 0:
			case m(cur+" "+word) <= width:
				b.WriteByte(' ')
				cur += " "
			default:
				b.WriteByte('\n')
				cur = ""
			}
			for cur == "" && len(word) > 0 && m(word) > width { // a word that does not fit starts a line
				cut := max(prefix(word, width, m), runeLen(word))
				b.WriteString(word[:cut])
				word = word[cut:]
				if word != "" {
					b.WriteByte('\n')
				}
			}
			b.WriteString(word)
			cur += word
		}
	}
	return b.String()
}

// runeLen returns the length in bytes of s's first rune.
func runeLen(s string) int {
	_, n := utf8.DecodeRuneInString(s)
	return n
}

// wrapItems wraps help to lines of at most width pixels, breaking between
// its items (HelpSep) only, but for an item wider than that, which wrap
// cuts.
func wrapItems(help string, width int, m Measure) string {
	var b strings.Builder
	cur := "" // the current output line
	for i, item := range strings.Split(help, HelpSep) {
		switch {
		case i == 0:
		case m(cur+HelpSep+item) <= width:
			b.WriteString(HelpSep)
			cur += HelpSep
		default:
			b.WriteByte('\n')
			cur = ""
		}
		item = wrap(item, width, m)
		b.WriteString(item)
		if k := strings.LastIndexByte(item, '\n'); k >= 0 {
			cur = item[k+1:] // the item's last line
		} else {
			cur += item
		}
	}
	return b.String()
}
