//go:build js && wasm

// Command viz is metriclab's hypersphere viewer: an ebiten program, built
// to viz.wasm and loaded by web/viz.html inside an <iframe> (ebiten takes
// over its document's <body>). It listens on a BroadcastChannel for the
// messages of msg.Message (JSON, as a string or as a structured-cloned
// object) and draws the latest snapshot: the unit circle for D = 2, the
// sphere for D = 3, and a PCA projection to the sphere for D > 3.
//
// URL query (see view.Config): ?channel=NAME (default "metriclab"), ?demo=1 for
// a synthetic snapshot (with &dim=D and &n=N), ?rotate=0 to start without
// the auto-rotation, ?rotate=1 to start with it on a software renderer.
//
// The viewer shares the page's main thread (it is a same-origin iframe), so
// it repaints only when the picture changed, at most 15 times a second and
// fewer when frames come late (see game.Draw and view.Pacer), and runs 30
// ticks a second. Where WebGL draws on the CPU (view.SoftwareRenderer) it
// repaints at most 4 times a second, in a sixteenth of the time, and does
// not auto-rotate unless the URL says rotate=1: there every repaint takes
// CPU time from the trainers.
//
// Keys: A toggles the auto-rotation, R resets the view, + and − zoom.
// Mouse or touch: drag to rotate, wheel to zoom.
package main

import (
	"log"
	"syscall/js"

	"github.com/hajimehoshi/ebiten/v2"

	"metriclab/wasm/viz/view"
)

func main() {
	cfg := view.ParseConfig(js.Global().Get("location").Get("search").String())
	events := make(chan view.Event, 16)
	renderer := webGL()
	software := view.SoftwareRenderer(renderer)
	js.Global().Set("vizRenderer", renderer) // for the end-to-end tests
	js.Global().Set("vizSoftware", software)
	rotate := cfg.Rotate
	if software && !cfg.RotateSet {
		rotate = false
	}
	g := newGame(events, rotate, software)
	if software {
		notice := "WebGL draws on the CPU here: fewer repaints"
		if !rotate {
			notice += ", no auto-rotation (A turns it on)"
		}
		events <- view.Event{Notice: notice}
	}
	if cfg.Demo {
		// The demo snapshot is placed like a received one, before the
		// first frame; a real snapshot on the channel replaces it.
		var pl view.Placer
		events <- view.Event{Data: pl.Place(view.DemoSnapshot(cfg.Dim, cfg.N, view.DemoClasses, 1)), Notice: "demo snapshot"}
	}
	if err := listen(cfg.Channel, events); err != nil {
		events <- view.Event{Notice: err.Error()}
	}
	ebiten.SetWindowTitle("metriclab viewer")
	ebiten.SetRunnableOnUnfocused(true) // an iframe often lacks focus
	ebiten.SetScreenClearedEveryFrame(false)
	ebiten.SetTPS(TPS)
	if err := ebiten.RunGame(g); err != nil {
		log.Fatal(err)
	}
}

// webGL makes the WebGL 2 context of ebiten's canvas before ebiten asks
// for it (a canvas keeps its first context, whatever later calls ask), with
// ebiten's attributes but without a multisampled drawing buffer: ebiten
// draws into textures and copies the picture to the canvas as one
// rectangle, which multisampling cannot improve, and resolving it costs a
// pass over the canvas at every repaint (a repaint of the rotating demo
// sphere at 1280×900 took SwiftShader 0.33 and 0.36 CPU-seconds without
// it, 0.41 and 0.44 with it, in two runs each). It returns the renderer's
// name, "" when there is no canvas or no WebGL 2 (ebiten then says so
// itself).
func webGL() string {
	canvas := js.Global().Get("document").Call("querySelector", "canvas")
	if !canvas.Truthy() {
		return ""
	}
	attr := js.Global().Get("Object").New()
	attr.Set("alpha", true)
	attr.Set("premultipliedAlpha", true)
	attr.Set("stencil", true)
	attr.Set("antialias", false)
	gl := canvas.Call("getContext", "webgl2", attr)
	if !gl.Truthy() {
		return ""
	}
	param := gl.Get("RENDERER")
	if ext := gl.Call("getExtension", "WEBGL_debug_renderer_info"); ext.Truthy() {
		param = ext.Get("UNMASKED_RENDERER_WEBGL")
	}
	if name := gl.Call("getParameter", param); name.Type() == js.TypeString {
		return name.String()
	}
	return ""
}
