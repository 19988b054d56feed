//go:build js && wasm

package view

import (
	"errors"
	"fmt"
	"math"
	"syscall/js"
)

// FontPx is the size of the text layer's font in CSS pixels, on lines of
// LineH; FontFamily is its CSS font family: the browser's user-interface
// font and its fallbacks, so that a name is drawn in any script the
// browser has a font for (ebiten's debug font, which the viewer drew
// with before, has U+0000 to U+00FF only).
const (
	FontPx     = 13
	FontFamily = "system-ui, sans-serif"
)

// maxWidths is how many widths CanvasFont keeps before it forgets them.
const maxWidths = 4096

// CanvasFont measures and rasterises the text layer's text with the
// browser's own Canvas 2D (an OffscreenCanvas, or a <canvas> that is not
// in the document): fillText shapes any script and falls back across the
// system's fonts as the page's own text does; the pixels go to an ebiten
// image, so that the text stays in the viewer's canvas (and in the page's
// "Sphere (PNG)" export).
type CanvasFont struct {
	canvas js.Value
	ctx    js.Value
	widths map[string]int // Width's answers
	pix    []byte         // Raster's buffer, reused
}

// NewCanvasFont returns the canvas font, or an error where the browser
// (or node, in the tests) has no 2D canvas.
func NewCanvasFont() (*CanvasFont, error) {
	var canvas js.Value
	if oc := js.Global().Get("OffscreenCanvas"); oc.Type() == js.TypeFunction {
		canvas = oc.New(1, 1)
	} else if doc := js.Global().Get("document"); doc.Truthy() {
		canvas = doc.Call("createElement", "canvas")
	} else {
		return nil, errors.New("view: no 2D canvas here (neither OffscreenCanvas nor a document)")
	}
	ctx := canvas.Call("getContext", "2d")
	if !ctx.Truthy() {
		return nil, errors.New("view: the canvas gives no 2D context")
	}
	return &CanvasFont{canvas: canvas, ctx: ctx, widths: map[string]int{}}, nil
}

// font returns the CSS font at scale device pixels per CSS pixel.
func font(scale float64) string { return fmt.Sprintf("%gpx %s", FontPx*scale, FontFamily) }

// Width returns the width of s in CSS pixels, rounded up: a Measure.
func (f *CanvasFont) Width(s string) int {
	if s == "" {
		return 0
	}
	if w, ok := f.widths[s]; ok {
		return w
	}
	if len(f.widths) >= maxWidths {
		clear(f.widths)
	}
	f.ctx.Set("font", font(1))
	w := int(math.Ceil(f.ctx.Call("measureText", s).Get("width").Float()))
	f.widths[s] = w
	return w
}

// Raster returns s drawn in white on a transparent line LineH CSS pixels
// high, at scale device pixels per CSS pixel, RasterPad(scale) pixels
// after its left edge: w×h pixels of RGBA,
// premultiplied by alpha as ebiten's WritePixels takes them (a colour
// emoji keeps its colours). The slice is reused by the next call. An
// empty s gives no pixels.
func (f *CanvasFont) Raster(s string, scale float64) (pix []byte, w, h int) {
	if s == "" || !(scale > 0) {
		return nil, 0, 0
	}
	fnt := font(scale)
	f.ctx.Set("font", fnt)
	pad := RasterPad(scale)
	w = int(math.Ceil(f.ctx.Call("measureText", s).Get("width").Float())) + 2*pad
	h = int(math.Ceil(LineH * scale))
	if f.canvas.Get("width").Int() < w || f.canvas.Get("height").Int() < h {
		f.canvas.Set("width", max(w, f.canvas.Get("width").Int()))
		f.canvas.Set("height", max(h, f.canvas.Get("height").Int()))
	}
	f.ctx.Call("clearRect", 0, 0, w, h)
	f.ctx.Set("font", fnt) // resizing the canvas resets its context
	f.ctx.Set("fillStyle", "#fff")
	f.ctx.Set("textBaseline", "middle")
	f.ctx.Call("fillText", s, pad, float64(h)/2)
	data := f.ctx.Call("getImageData", 0, 0, w, h).Get("data")
	if cap(f.pix) < 4*w*h {
		f.pix = make([]byte, 4*w*h)
	}
	pix = f.pix[:4*w*h]
	js.CopyBytesToGo(pix, data)
	premultiply(pix)
	return pix, w, h
}

// RasterPad returns how many device pixels Raster leaves left and right of
// the text at scale: a CSS pixel, for glyphs that overhang their advance.
func RasterPad(scale float64) int { return int(math.Ceil(scale)) }

// premultiply multiplies the colour of each RGBA pixel by its alpha, as
// getImageData gives them apart and ebiten takes them together.
func premultiply(pix []byte) {
	for i := 0; i+3 < len(pix); i += 4 {
		a := uint32(pix[i+3])
		for k := range 3 {
			pix[i+k] = uint8((uint32(pix[i+k])*a + 127) / 255)
		}
	}
}
