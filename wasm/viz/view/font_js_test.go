//go:build js && wasm

package view

import (
	"syscall/js"
	"testing"
)

// fakeCanvas is an OffscreenCanvas for node, which has none: measureText
// is 7 pixels a UTF-16 unit at 13px and in proportion at other sizes,
// and getImageData gives white at alpha 128 and its calls' sizes.
const fakeCanvas = `(class {
	constructor(w, h) { this.width = w; this.height = h; globalThis.fakeCalls = []; }
	getContext(kind) {
		const c = this;
		return {
			font: "",
			measureText(s) { globalThis.fakeCalls.push("measure " + this.font); return { width: s.length * 7 * parseFloat(this.font) / 13 }; },
			clearRect() {},
			fillText(s, x, y) { globalThis.fakeCalls.push("fill " + s + " at " + x + "," + y + " in " + this.font); },
			getImageData(x, y, w, h) { const d = new Uint8ClampedArray(4 * w * h); for (let i = 0; i < d.length; i += 4) { d[i] = d[i+1] = d[i+2] = 255; d[i+3] = 128; } return { data: d }; },
		};
	}
})`

// TestCanvasFont runs under node with a stand-in of OffscreenCanvas: the
// font measures in CSS pixels, rounded up, and remembers what it measured;
// Raster draws at the device scale, a line LineH high, and hands ebiten
// premultiplied pixels (white at half alpha: 128 in every channel). With
// no canvas at all NewCanvasFont says so, and the viewer falls back to
// ebiten's debug font.
func TestCanvasFont(t *testing.T) {
	global := js.Global()
	if _, err := NewCanvasFont(); err == nil {
		t.Fatal("NewCanvasFont in node: no error, want one (no canvas here)")
	}
	global.Set("OffscreenCanvas", global.Call("eval", fakeCanvas))
	defer global.Delete("OffscreenCanvas")
	f, err := NewCanvasFont()
	if err != nil {
		t.Fatal(err)
	}
	if w := f.Width("李雷ab"); w != 28 {
		t.Errorf("Width = %d, want 28 (4 UTF-16 units of 7 pixels)", w)
	}
	calls := global.Get("fakeCalls").Length()
	f.Width("李雷ab")
	if n := global.Get("fakeCalls").Length(); n != calls {
		t.Errorf("a width measured again: %d calls, want %d", n, calls)
	}
	pix, w, h := f.Raster("José", 2)
	if w != 56+4 || h != 2*LineH || len(pix) != 4*w*h {
		t.Fatalf("Raster at scale 2: %d×%d and %d bytes, want 60×32 and %d", w, h, len(pix), 4*60*32)
	}
	for i, b := range pix[:8] {
		if b != 128 {
			t.Fatalf("pixel byte %d = %d, want 128 (white premultiplied by alpha 128)", i, b)
		}
	}
	last := global.Get("fakeCalls").Index(global.Get("fakeCalls").Length() - 1).String()
	if want := "fill José at 2,16 in 26px " + FontFamily; last != want {
		t.Errorf("last canvas call %q, want %q", last, want)
	}
}
