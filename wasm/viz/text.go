//go:build js && wasm

package main

import (
	"strings"
	"unicode/utf8"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/ebitenutil"

	"metriclab/wasm/viz/view"
)

// lines draws lines of text onto the text layer, each rasterised once
// into an image of its own and kept while the layer shows it: the
// caption changes a line at a time (the step, the notices), and only
// the changed line is rasterised again. With a canvas font
// (view.CanvasFont) a line is drawn by the browser at device pixels;
// without one (no 2D canvas), in ebiten's debug font at CSS pixels,
// magnified, a rune it lacks (past U+00FF) as "?".
type lines struct {
	font  *view.CanvasFont // nil: ebiten's debug font
	scale float64          // device pixels per CSS pixel of the images kept
	kept  map[string]*ebiten.Image
	used  map[string]bool // the lines drawn since begin
}

func newLines(font *view.CanvasFont) *lines {
	return &lines{font: font, kept: map[string]*ebiten.Image{}, used: map[string]bool{}}
}

// measure returns the view.Measure of the font that lines draws in.
func (t *lines) measure() view.Measure {
	if t.font == nil {
		return view.MonoWidth
	}
	return t.font.Width
}

// begin starts a repaint of the text layer at the given device scale.
func (t *lines) begin(scale float64) {
	if scale != t.scale {
		t.forget(func(string) bool { return true })
		t.scale = scale
	}
	clear(t.used)
}

// end forgets the images of the lines that the repaint did not draw.
func (t *lines) end() {
	t.forget(func(s string) bool { return !t.used[s] })
}

func (t *lines) forget(drop func(string) bool) {
	for s, img := range t.kept {
		if drop(s) {
			img.Deallocate()
			delete(t.kept, s)
		}
	}
}

// draw draws the line s with its top left at (x, y) CSS pixels.
func (t *lines) draw(dst *ebiten.Image, s string, x, y int) {
	if s == "" {
		return
	}
	t.used[s] = true
	img, ok := t.kept[s]
	if !ok {
		img = t.raster(s)
		t.kept[s] = img
	}
	op := &ebiten.DrawImageOptions{}
	if t.font == nil { // CSS pixels, magnified
		op.GeoM.Scale(t.scale, t.scale)
		op.GeoM.Translate(float64(x)*t.scale, float64(y)*t.scale)
	} else { // device pixels, padded to the left (view.RasterPad)
		op.GeoM.Translate(float64(x)*t.scale-float64(view.RasterPad(t.scale)), float64(y)*t.scale)
	}
	dst.DrawImage(img, op)
}

// raster returns the image of the line s.
func (t *lines) raster(s string) *ebiten.Image {
	if t.font != nil {
		if pix, w, h := t.font.Raster(s, t.scale); w > 0 && h > 0 {
			img := ebiten.NewImage(w, h)
			img.WritePixels(pix)
			return img
		}
	}
	s = strings.Map(func(r rune) rune {
		if r > 0xff {
			return '?'
		}
		return r
	}, s)
	img := ebiten.NewImage(max(1, view.GlyphW*utf8.RuneCountInString(s)), view.LineH)
	ebitenutil.DebugPrintAt(img, s, 0, 0)
	return img
}
