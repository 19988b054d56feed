package view

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
