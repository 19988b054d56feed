//go:build js && wasm

package main

import (
	"image"
	"math"
	"strings"
	"syscall/js"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"metriclab/wasm/viz/view"
)

const (
	// TPS is how many times a second Update runs: input, messages and the
	// auto-rotation need no more, and every tick costs the page's thread.
	TPS = 30

	spinRate      = 0.24        // auto-rotation, radians per second (a turn in 26 s)
	maxSpinStep   = time.Second // the most time one step of the auto-rotation makes up for
	captionEvery  = 500 * time.Millisecond
	noticeFor     = 5 * time.Second
	wheelZoom     = 0.12 // zoom factor e^(0.12·notch)
	keyZoom       = 1.06 // zoom factor per tick while + or − is held
	maxWheelStep  = 3
	paintsCounter = "vizPaints"      // window.vizPaints counts the repaints, for the end-to-end tests
	paintCost     = "vizPaintCostMs" // window.vizPaintCostMs: the last repaint's cost as the pacer saw it
)

// game is the ebiten game: Update reads input and messages and changes the
// scene; Draw repaints the screen only when the scene's version changed,
// and then at most as often as its pacer allows, unless the user is
// dragging or zooming: the screen is not cleared between frames, so an
// unchanged sphere costs nothing (ebiten then skips presenting the frame).
// The auto-rotation turns the sphere at the pace of the repaints.
type game struct {
	events <-chan view.Event
	scene  *view.Scene
	pace   *view.Pacer // nil until the first Update

	auto        bool
	rotateSet   bool // the URL said rotate=…
	urgent      bool // the user changed the view: repaint at the next frame
	dragging    bool
	touch       ebiten.TouchID
	touching    bool
	lastX       int
	lastY       int
	prog        *view.Progress
	state       string
	notice      string
	noticeUntil time.Time
	spunAt      time.Time // the last step of the auto-rotation; zero while it pauses
	textAt      time.Time // the caption's last change

	font      *view.CanvasFont // the browser's font for the text; nil: ebiten's debug font
	art       *art             // drawing resources, made on the first Draw
	drawn     uint64           // the scene version that the screen shows
	size      image.Point      // the screen size that the picture was painted at
	paintedAt time.Time        // the last repaint, until the next frame reports its cost
	paints    int
}

// newGame returns the game of the viewer that cfg asks for. Its pacing and
// auto-rotation wait for the first Update, which knows the renderer.
func newGame(events <-chan view.Event, cfg view.Config) *game {
	g := &game{events: events, scene: view.NewScene(), auto: cfg.Rotate, rotateSet: cfg.RotateSet}
	if font, err := view.NewCanvasFont(); err == nil {
		g.font, g.scene.Measure = font, font.Width
	} else {
		g.notice, g.noticeUntil = err.Error()+": text in ebiten's debug font (Latin-1 only)", time.Now().Add(noticeFor)
	}
	return g
}

// start paces the repaints for the renderer that ebiten's WebGL context
// runs on (it exists from the first Update on): a software one (see
// view.Pacing) also turns the auto-rotation off unless the URL asked for
// it, and says so.
func (g *game) start(now time.Time) {
	renderer := webGLRenderer()
	software := view.SoftwareRenderer(renderer)
	js.Global().Set("vizRenderer", renderer) // for the end-to-end tests
	js.Global().Set("vizSoftware", software)
	g.pace = view.Pacing(software)
	js.Global().Set("vizPaceShare", g.pace.Share)
	if !software {
		return
	}
	if !g.rotateSet {
		g.auto = false
	}
	notice := "WebGL draws on the CPU here: fewer repaints"
	if !g.auto && !g.scene.Flat() {
		notice += ", no auto-rotation (A turns it on)"
	}
	if g.notice != "" { // a notice sent before the first frame stays
		notice = g.notice + "; " + notice
	}
	g.notice, g.noticeUntil = notice, now.Add(noticeFor)
	g.textAt = time.Time{}
}

// webGLRenderer returns the name of the renderer behind the canvas's WebGL 2
// context ("" without one): WebGL's RENDERER, or, where the browser masks
// it ("WebKit WebGL" in Chromium and Safari), WEBGL_debug_renderer_info's
// unmasked name. Firefox gives a sanitised but telling RENDERER (and warns
// that the extension is deprecated). It must not run before ebiten has
// made its context: the call would make one without ebiten's attributes.
func webGLRenderer() string {
	canvas := js.Global().Get("document").Call("querySelector", "canvas")
	if !canvas.Truthy() {
		return ""
	}
	gl := canvas.Call("getContext", "webgl2")
	if !gl.Truthy() {
		return ""
	}
	name := gl.Call("getParameter", gl.Get("RENDERER"))
	if name.Type() == js.TypeString && !view.MaskedRenderer(name.String()) {
		return name.String()
	}
	if ext := gl.Call("getExtension", "WEBGL_debug_renderer_info"); ext.Truthy() {
		if v := gl.Call("getParameter", ext.Get("UNMASKED_RENDERER_WEBGL")); v.Type() == js.TypeString {
			return v.String()
		}
	}
	if name.Type() == js.TypeString {
		return name.String()
	}
	return ""
}

// Update drains the messages, applies the input, turns the sphere when it
// auto-rotates and a repaint is due, and recomputes the geometry if
// anything changed. The caption follows the progress reports at most every
// captionEvery, unless the picture changes anyway.
func (g *game) Update() error {
	now := time.Now()
	for more := true; more; {
		select {
		case e, ok := <-g.events:
			if !ok {
				more = false
				break
			}
			g.apply(e, now)
		default:
			more = false
		}
	}
	if g.pace == nil {
		g.start(now)
	}
	g.input()
	if g.auto && !g.dragging && !g.touching && !g.scene.Flat() {
		if g.spunAt.IsZero() {
			g.spunAt = now
		}
		if g.pace.Due(now) {
			g.scene.Spin(spinRate * min(now.Sub(g.spunAt), maxSpinStep).Seconds())
			g.spunAt = now
		}
	} else {
		g.spunAt = time.Time{}
	}
	if g.notice != "" && now.After(g.noticeUntil) {
		g.notice = ""
	}
	if text, help := g.text(), g.help(); text != g.scene.Text || help != g.scene.Help {
		if g.scene.Dirty() || g.urgent || g.textAt.IsZero() || help != g.scene.Help || now.Sub(g.textAt) >= captionEvery {
			g.scene.SetText(text, help)
			g.textAt = now
		}
	}
	g.scene.Update()
	return nil
}

func (g *game) apply(e view.Event, now time.Time) {
	if e.Clear {
		g.scene.SetData(nil)
		g.prog = nil
	}
	if e.Data != nil {
		g.scene.SetData(e.Data)
	}
	if e.Prog != nil {
		g.prog = e.Prog
	}
	if e.State != "" {
		g.state = e.State
		if e.Ended && strings.HasPrefix(g.notice, view.ErrorNotice) {
			g.notice = "" // the state's line says it now
		}
	}
	if e.Notice != "" {
		g.notice, g.noticeUntil = e.Notice, now.Add(noticeFor)
		g.textAt = time.Time{} // show it at once
	}
}

// input applies mouse, touch, wheel and keys.
func (g *game) input() {
	// Mouse drag.
	if inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft) {
		g.dragging = true
		g.lastX, g.lastY = ebiten.CursorPosition()
	}
	if g.dragging {
		x, y := ebiten.CursorPosition()
		g.drag(x, y)
		if !ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft) {
			g.dragging = false
		}
	}
	// One-finger touch drag.
	if !g.touching {
		if ids := inpututil.AppendJustPressedTouchIDs(nil); len(ids) > 0 {
			g.touch, g.touching = ids[0], true
			g.lastX, g.lastY = ebiten.TouchPosition(g.touch)
		}
	} else {
		if inpututil.IsTouchJustReleased(g.touch) {
			g.touching = false
		} else {
			g.drag(ebiten.TouchPosition(g.touch))
		}
	}
	// Wheel and keys.
	if _, wy := ebiten.Wheel(); wy != 0 {
		g.scene.ZoomBy(math.Exp(wheelZoom * math.Max(-maxWheelStep, math.Min(maxWheelStep, wy))))
		g.urgent = true
	}
	if ebiten.IsKeyPressed(ebiten.KeyEqual) || ebiten.IsKeyPressed(ebiten.KeyNumpadAdd) {
		g.scene.ZoomBy(keyZoom)
		g.urgent = true
	}
	if ebiten.IsKeyPressed(ebiten.KeyMinus) || ebiten.IsKeyPressed(ebiten.KeyNumpadSubtract) {
		g.scene.ZoomBy(1 / keyZoom)
		g.urgent = true
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyA) {
		g.auto = !g.auto
		g.urgent = true
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyR) {
		g.scene.Reset()
		g.urgent = true
	}
}

// drag turns the sphere by the pointer's move to (x, y).
func (g *game) drag(x, y int) {
	if x != g.lastX || y != g.lastY {
		g.scene.Drag(float64(x-g.lastX), float64(y-g.lastY))
		g.lastX, g.lastY = x, y
		g.urgent = true
	}
}

// text returns the caption, the trainer's state and the current notice.
func (g *game) text() string {
	var b strings.Builder
	b.WriteString(view.Label(g.scene.Data, g.prog))
	if g.state != "" {
		b.WriteString("\ntrainer: " + g.state)
	}
	if g.notice != "" {
		b.WriteString("\n" + g.notice)
	}
	return b.String()
}

// help returns the line of key help, its items apart by view.HelpSep
// (view.Lay wraps it between them).
func (g *game) help() string {
	if g.scene.Flat() {
		return strings.Join([]string{"wheel: zoom", "R: reset"}, view.HelpSep)
	}
	auto := "off"
	if g.auto {
		auto = "on"
	}
	return strings.Join([]string{"drag: rotate", "wheel: zoom", "A: auto-rotate (" + auto + ")", "R: reset"}, view.HelpSep)
}

// Draw repaints the screen when the scene changed since the last repaint
// and a repaint is due (at once after a resize or the user's input), and
// else leaves the screen as it is. It reports the time since a repaint in
// the previous frame to the pacer as that repaint's cost.
func (g *game) Draw(screen *ebiten.Image) {
	now := time.Now()
	if !g.paintedAt.IsZero() {
		cost := now.Sub(g.paintedAt)
		g.pace.Cost(cost)
		g.paintedAt = time.Time{}
		js.Global().Set(paintCost, cost.Seconds()*1000)
	}
	if g.art == nil {
		g.art = newArt(g.font)
	}
	size := screen.Bounds().Size()
	resized := size != g.size
	if !resized && g.drawn == g.scene.Version {
		return // nothing changed: the screen keeps its picture
	}
	if !resized && !g.urgent && !g.pace.Due(now) {
		return // changed, but not yet: the page needs its thread
	}
	g.art.paint(screen, g.scene)
	g.drawn, g.size, g.urgent = g.scene.Version, size, false
	g.pace.Painted(now)
	g.paintedAt = now
	g.paints++
	js.Global().Set(paintsCounter, g.paints)
}

// LayoutF makes the screen as large as the iframe in device pixels, so the
// picture is sharp on high-density displays.
func (g *game) LayoutF(outsideWidth, outsideHeight float64) (float64, float64) {
	s := ebiten.Monitor().DeviceScaleFactor()
	w, h := math.Ceil(outsideWidth*s), math.Ceil(outsideHeight*s)
	g.scene.SetSize(w, h, s)
	return w, h
}

// Layout is required by ebiten.Game; LayoutF takes its place.
func (g *game) Layout(outsideWidth, outsideHeight int) (int, int) {
	panic("viz: Layout is not called when LayoutF is defined")
}
