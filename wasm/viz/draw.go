//go:build js && wasm

package main

import (
	"image"
	"image/color"
	"math"
	"strings"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"

	"metriclab/wasm/viz/sphere"
	"metriclab/wasm/viz/view"
)

// Colours of the picture, on web/viz.html's background.
var (
	background = color.RGBA{0x10, 0x14, 0x1c, 0xff}
	sphereBase = color.RGBA{0x3a, 0x4e, 0x70, 0xff}
	wireColor  = color.RGBA{0xa8, 0xb8, 0xd0, 0xff}
	textColor  = color.RGBA{0xe0, 0xe6, 0xf0, 0xff}
)

const (
	discSize    = 512 // the pre-shaded sphere image, pixels
	dotSize     = 32  // the point sprite, pixels
	discAlpha   = 0.55
	wireFrontA  = 0.22
	wireBackA   = 0.08
	pointAlpha  = 0.9
	sectorAlpha = 0.16
	bandAlpha   = 0.45
	wedgeRadius = 1.12 // flat sectors reach past the circle, in radii
	arcStep     = 2 * math.Pi / 180
	maxQuads    = 16000 // points per DrawTriangles call (uint16 indices)
	lineH       = view.LineH
	textMargin  = view.TextMargin
	swatchSize  = view.SwatchSize
)

// art holds the drawing resources, made once: the shaded sphere disc, the
// point sprite, a white pixel for solid fills, and reusable vertex buffers.
type art struct {
	disc  *ebiten.Image
	dot   *ebiten.Image
	white *ebiten.Image
	hud   *ebiten.Image // the text layer, at device pixels
	text  *lines        // its lines, rasterised

	hudLayout uint64 // the scene's layout that hud shows (view.Scene.LayoutVersion)

	vs   []ebiten.Vertex
	is   []uint16
	path vector.Path
}

func newArt(font *view.CanvasFont) *art {
	white := ebiten.NewImage(3, 3)
	white.Fill(color.White)
	return &art{
		disc:  ebiten.NewImageFromImage(sphere.ShadeDiscTo(image.NewRGBA(image.Rect(0, 0, discSize, discSize)), sphereBase)),
		dot:   ebiten.NewImageFromImage(sphere.DotTo(image.NewRGBA(image.Rect(0, 0, dotSize, dotSize)))),
		white: white.SubImage(image.Rect(1, 1, 2, 2)).(*ebiten.Image),
		text:  newLines(font),
	}
}

// paint draws the whole scene into dst.
func (a *art) paint(dst *ebiten.Image, s *view.Scene) {
	dst.Fill(background)
	if s.Flat() {
		a.paintFlat(dst, s)
	} else {
		a.paintSphere(dst, s)
	}
	a.paintText(dst, s)
}

// paintSphere draws D ≥ 3: the far half of the wireframe, weights and
// points, then the translucent shaded disc over them, then the near half.
func (a *art) paintSphere(dst *ebiten.Image, s *view.Scene) {
	r := s.Proj.OutlineRadius()
	a.strokeLines(dst, s.Lines, true, wireColor, wireBackA, s.Scale)
	a.weightLines(dst, s, false)
	a.points(dst, s, s.Order[:s.Front], true)

	op := &ebiten.DrawImageOptions{}
	op.GeoM.Translate(-discSize/2, -discSize/2)
	op.GeoM.Scale(2*r/discSize, 2*r/discSize)
	op.GeoM.Translate(s.Proj.CX, s.Proj.CY)
	op.ColorScale.ScaleAlpha(discAlpha)
	op.Filter = ebiten.FilterLinear
	dst.DrawImage(a.disc, op)

	a.strokeLines(dst, s.Lines, false, wireColor, wireFrontA, s.Scale)
	a.weightLines(dst, s, true)
	a.points(dst, s, s.Order[s.Front:], true)
}

// paintFlat draws D ≤ 2: the decision sectors shaded by class, the margin
// bands darker, the circle, the weights and the points.
func (a *art) paintFlat(dst *ebiten.Image, s *view.Scene) {
	d := s.Data
	r := s.Proj.OutlineRadius()
	for j, sec := range d.Sectors {
		if sec.Width() > 0 {
			a.wedge(dst, s, sec, r*wedgeRadius, sphere.ClassColor(j), sectorAlpha)
		}
	}
	for _, b := range d.Bands {
		a.wedge(dst, s, b, r*wedgeRadius, color.RGBA{0, 0, 0, 0xff}, bandAlpha)
	}
	vector.StrokeCircle(dst, float32(s.Proj.CX), float32(s.Proj.CY), float32(r), float32(s.Scale), scaleAlpha(wireColor, 0.5), true)
	a.weightLines(dst, s, true)
	a.points(dst, s, s.Order, false)
}

// wedge fills the circular sector iv of the given radius around the centre.
func (a *art) wedge(dst *ebiten.Image, s *view.Scene, iv sphere.Interval, radius float64, c color.RGBA, alpha float64) {
	cx, cy := s.Proj.CX, s.Proj.CY
	a.path = vector.Path{}
	a.path.MoveTo(float32(cx), float32(cy))
	n := max(2, int(math.Ceil(iv.Width()/arcStep)))
	for k := range n + 1 {
		t := iv.Start + iv.Width()*float64(k)/float64(n)
		a.path.LineTo(float32(cx+radius*math.Cos(t)), float32(cy-radius*math.Sin(t)))
	}
	a.path.Close()
	a.vs, a.is = a.path.AppendVerticesAndIndicesForFilling(a.vs[:0], a.is[:0])
	a.tint(a.vs, c, alpha)
	op := &ebiten.DrawTrianglesOptions{AntiAlias: true, FillRule: ebiten.FillRuleNonZero}
	dst.DrawTriangles(a.vs, a.is, a.white, op)
}

// strokeLines strokes the runs of the wireframe that are hidden (or not).
func (a *art) strokeLines(dst *ebiten.Image, lines []sphere.Polyline, hidden bool, c color.RGBA, alpha, scale float64) {
	a.path = vector.Path{}
	for _, l := range lines {
		if l.Hidden != hidden {
			continue
		}
		a.path.MoveTo(float32(l.Points[0].X), float32(l.Points[0].Y))
		for _, p := range l.Points[1:] {
			a.path.LineTo(float32(p.X), float32(p.Y))
		}
	}
	a.vs, a.is = a.path.AppendVerticesAndIndicesForStroke(a.vs[:0], a.is[:0], &vector.StrokeOptions{Width: float32(scale)})
	a.tint(a.vs, c, alpha)
	dst.DrawTriangles(a.vs, a.is, a.white, &ebiten.DrawTrianglesOptions{AntiAlias: true})
}

// weightLines draws the class weights as lines from the centre, with a dot
// at the tip: those pointing towards the viewer (front) or away.
func (a *art) weightLines(dst *ebiten.Image, s *view.Scene, front bool) {
	cx, cy := float32(s.Proj.CX), float32(s.Proj.CY)
	for j, w := range s.Weights {
		if !s.Flat() && w.Front != front {
			continue
		}
		_, alpha := sphere.DepthCue(w.Z)
		if s.Flat() {
			alpha = 1
		}
		c := scaleAlpha(sphere.ClassColor(j), alpha)
		vector.StrokeLine(dst, cx, cy, float32(w.X), float32(w.Y), float32(2*s.Scale), c, true)
		vector.DrawFilledCircle(dst, float32(w.X), float32(w.Y), float32(4*s.Scale), c, true)
	}
}

// points draws the points with the given indices, in that order, as tinted
// sprites in as few DrawTriangles calls as the index type allows; with
// depth, nearer points are larger and more opaque.
func (a *art) points(dst *ebiten.Image, s *view.Scene, idx []int, depth bool) {
	d := s.Data
	if d == nil || len(idx) == 0 {
		return
	}
	base := 3 * s.Scale
	if len(d.Points) < 500 {
		base = 4 * s.Scale
	}
	for len(idx) > 0 {
		chunk := idx[:min(len(idx), maxQuads)]
		idx = idx[len(chunk):]
		a.vs, a.is = a.vs[:0], a.is[:0]
		for _, i := range chunk {
			p := s.Pts[i]
			size, alpha := 1.0, pointAlpha
			if depth {
				var cue float64
				size, cue = sphere.DepthCue(p.Z)
				alpha *= cue
			}
			class := -1
			if i < len(d.Labels) {
				class = d.Labels[i]
			}
			c := sphere.ClassColor(class)
			r := base * size
			x0, y0, x1, y1 := float32(p.X-r), float32(p.Y-r), float32(p.X+r), float32(p.Y+r)
			cr, cg, cb := float32(c.R)/255, float32(c.G)/255, float32(c.B)/255
			ca := float32(alpha)
			n := uint16(len(a.vs))
			a.vs = append(a.vs,
				ebiten.Vertex{DstX: x0, DstY: y0, SrcX: 0, SrcY: 0, ColorR: cr, ColorG: cg, ColorB: cb, ColorA: ca},
				ebiten.Vertex{DstX: x1, DstY: y0, SrcX: dotSize, SrcY: 0, ColorR: cr, ColorG: cg, ColorB: cb, ColorA: ca},
				ebiten.Vertex{DstX: x0, DstY: y1, SrcX: 0, SrcY: dotSize, ColorR: cr, ColorG: cg, ColorB: cb, ColorA: ca},
				ebiten.Vertex{DstX: x1, DstY: y1, SrcX: dotSize, SrcY: dotSize, ColorR: cr, ColorG: cg, ColorB: cb, ColorA: ca},
			)
			a.is = append(a.is, n, n+1, n+2, n+1, n+3, n+2)
		}
		dst.DrawTriangles(a.vs, a.is, a.dot, &ebiten.DrawTrianglesOptions{Filter: ebiten.FilterLinear})
	}
}

// paintText draws the caption, the class legend and the help line where
// the scene's layout puts them (view.Lay), at CSS pixel size in the
// browser's font (see lines); the text layer is repainted only when its
// layout changed (its text, legend or size) or its size did.
func (a *art) paintText(dst *ebiten.Image, s *view.Scene) {
	w, h := int(math.Ceil(s.W)), int(math.Ceil(s.H))
	if w < 1 || h < 1 {
		return
	}
	if a.hud == nil || a.hud.Bounds().Dx() != w || a.hud.Bounds().Dy() != h {
		if a.hud != nil {
			a.hud.Deallocate()
		}
		a.hud = ebiten.NewImage(w, h)
	} else if a.hudLayout == s.LayoutVersion {
		a.drawHUD(dst)
		return
	}
	a.hudLayout = s.LayoutVersion
	a.hud.Clear()
	l := &s.Layout
	a.text.begin(s.Scale)
	for k, line := range strings.Split(l.Caption, "\n") {
		a.text.draw(a.hud, line, textMargin, l.Y+k*lineH)
	}
	if l.Help != "" {
		for k, line := range strings.Split(l.Help, "\n") {
			a.text.draw(a.hud, line, textMargin, l.HelpY+k*lineH)
		}
	}
	for j, name := range l.Names { // one line each (view.Placer.Place)
		y := textMargin/2 + j*lineH
		sc := float32(s.Scale)
		vector.DrawFilledRect(a.hud, float32(l.LegendX)*sc, float32(y+4)*sc, swatchSize*sc, swatchSize*sc, sphere.ClassColor(j), false)
		a.text.draw(a.hud, name, l.LegendX+swatchSize+4, y)
	}
	if l.More > 0 { // the legend's last line
		a.text.draw(a.hud, view.MoreLine(l.More), l.LegendX+swatchSize+4, textMargin/2+len(l.Names)*lineH)
	}
	a.text.end()
	a.drawHUD(dst)
}

// drawHUD draws the text layer, in the text's colour.
func (a *art) drawHUD(dst *ebiten.Image) {
	op := &ebiten.DrawImageOptions{}
	op.ColorScale.ScaleWithColor(textColor)
	dst.DrawImage(a.hud, op)
}

// tint sets the colour of the vertices to c at the given opacity.
func (a *art) tint(vs []ebiten.Vertex, c color.RGBA, alpha float64) {
	r, g, b := float32(c.R)/255, float32(c.G)/255, float32(c.B)/255
	for i := range vs {
		vs[i].SrcX, vs[i].SrcY = 1, 1
		vs[i].ColorR, vs[i].ColorG, vs[i].ColorB, vs[i].ColorA = r, g, b, float32(alpha)
	}
}

// scaleAlpha returns c at opacity alpha, premultiplied as color.RGBA is.
func scaleAlpha(c color.RGBA, alpha float64) color.RGBA {
	f := math.Max(0, math.Min(1, alpha))
	return color.RGBA{uint8(float64(c.R) * f), uint8(float64(c.G) * f), uint8(float64(c.B) * f), uint8(255 * f)}
}
