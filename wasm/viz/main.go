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
// The caption, the legend and the help are drawn in the browser's own
// font, through a 2D canvas (view.CanvasFont, text.go), so that a class
// named in any script is drawn as it is written; where there is no 2D
// canvas, in ebiten's debug font (Latin-1). draw.go paints the picture,
// game.go runs it.
//
// Keys: A toggles the auto-rotation, R resets the view, + and − zoom;
// Tab and Shift+Tab move the focus out of the viewer (web/viz.html keeps
// them from ebiten, which would prevent their default).
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
	g := newGame(events, cfg)
	if cfg.Demo {
		// The demo snapshot is placed like a received one, before the
		// first frame; a real snapshot on the channel replaces it.
		var pl view.Placer
		events <- view.Event{Data: pl.Place(view.DemoSnapshot(cfg.Dim, cfg.N, view.DemoClasses, 1)), Notice: "demo snapshot"}
	}
	if cfg.Note != "" {
		events <- view.Event{Notice: cfg.Note}
	}
	if err := view.Listen(cfg.Channel, events); err != nil {
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
