//go:build js && wasm

package main

import (
	"math"
	"strings"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"metriclab/wasm/viz/view"
)

const (
	spinPerTick  = 0.004 // auto-rotation, radians per tick (60 ticks/s: a turn in 26 s)
	noticeTicks  = 5 * 60
	wheelZoom    = 0.12 // zoom factor e^(0.12·notch)
	keyZoom      = 1.03 // zoom factor per tick while + or − is held
	maxWheelStep = 3
)

// game is the ebiten game: Update reads input and messages and changes the
// scene; Draw paints the scene, repainting its cached picture only when the
// scene's version changed.
type game struct {
	events <-chan view.Event
	scene  *view.Scene

	auto     bool
	dragging bool
	touch    ebiten.TouchID
	touching bool
	lastX    int
	lastY    int
	prog     *view.Progress
	state    string
	notice   string
	noticeT  int // ticks left to show notice

	art   *art          // drawing resources, made on the first Draw
	cache *ebiten.Image // the last painted picture
	drawn uint64        // the scene version that cache shows
}

func newGame(events <-chan view.Event) *game {
	return &game{events: events, scene: view.NewScene(), auto: true}
}

// Update drains the messages, applies the input, turns the sphere when it
// auto-rotates, and recomputes the geometry if anything changed.
func (g *game) Update() error {
	for more := true; more; {
		select {
		case e, ok := <-g.events:
			if !ok {
				more = false
				break
			}
			g.apply(e)
		default:
			more = false
		}
	}
	g.input()
	if g.auto && !g.dragging && !g.touching {
		g.scene.Spin(spinPerTick)
	}
	if g.noticeT > 0 {
		g.noticeT--
		if g.noticeT == 0 {
			g.notice = ""
		}
	}
	g.scene.SetText(g.text(), g.help())
	g.scene.Update()
	return nil
}

func (g *game) apply(e view.Event) {
	if e.Data != nil {
		g.scene.SetData(e.Data)
	}
	if e.Prog != nil {
		g.prog = e.Prog
	}
	if e.State != "" {
		g.state = e.State
	}
	if e.Notice != "" {
		g.notice, g.noticeT = e.Notice, noticeTicks
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
		g.scene.Drag(float64(x-g.lastX), float64(y-g.lastY))
		g.lastX, g.lastY = x, y
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
			x, y := ebiten.TouchPosition(g.touch)
			g.scene.Drag(float64(x-g.lastX), float64(y-g.lastY))
			g.lastX, g.lastY = x, y
		}
	}
	// Wheel and keys.
	if _, wy := ebiten.Wheel(); wy != 0 {
		g.scene.ZoomBy(math.Exp(wheelZoom * math.Max(-maxWheelStep, math.Min(maxWheelStep, wy))))
	}
	if ebiten.IsKeyPressed(ebiten.KeyEqual) || ebiten.IsKeyPressed(ebiten.KeyNumpadAdd) {
		g.scene.ZoomBy(keyZoom)
	}
	if ebiten.IsKeyPressed(ebiten.KeyMinus) || ebiten.IsKeyPressed(ebiten.KeyNumpadSubtract) {
		g.scene.ZoomBy(1 / keyZoom)
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyA) {
		g.auto = !g.auto
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyR) {
		g.scene.Reset()
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

// help returns the line of key help.
func (g *game) help() string {
	if g.scene.Flat() {
		return "wheel: zoom   R: reset"
	}
	auto := "off"
	if g.auto {
		auto = "on"
	}
	return "drag: rotate   wheel: zoom   A: auto-rotate (" + auto + ")   R: reset"
}

// Draw paints the scene into the cache when it changed, and the cache to
// the screen.
func (g *game) Draw(screen *ebiten.Image) {
	if g.art == nil {
		g.art = newArt()
	}
	size := screen.Bounds().Size()
	if g.cache == nil || g.cache.Bounds().Size() != size {
		if g.cache != nil {
			g.cache.Deallocate()
		}
		g.cache = ebiten.NewImage(size.X, size.Y)
		g.drawn = 0
	}
	if g.drawn != g.scene.Version {
		g.art.paint(g.cache, g.scene)
		g.drawn = g.scene.Version
	}
	screen.DrawImage(g.cache, nil)
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
