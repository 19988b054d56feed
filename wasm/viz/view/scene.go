package view

import (
	"math"
	"slices"

	"metriclab/wasm/viz/sphere"
)

// Scene is the state of the picture: the data, the view, the screen size,
// the captions, and the geometry of the current view. Update changes it
// through its methods and calls Update; Draw only reads its fields.
// Version counts the changes of what Draw shows, so that Draw repaints its
// cached picture only when it changed: an unchanged sphere is not redrawn.
type Scene struct {
	W, H  float64 // screen size in device pixels
	Scale float64 // device pixels per CSS pixel
	Data  *Placed // nil until the first snapshot
	Text  string  // caption and notices, top left
	Help  string  // key help, bottom left

	// Measure measures the text as Draw draws it (nil: MonoWidth).
	Measure Measure

	Version uint64

	// Layout is the text layer's (CSS pixels; see Lay), recomputed by
	// Update when the text, the data or the screen changed, which
	// LayoutVersion counts; the picture keeps clear of its legend (Frame).
	Layout        Layout
	LayoutVersion uint64

	// Geometry of the current view, recomputed by Update.
	Proj    sphere.Projection
	Pts     []sphere.ScreenPoint // N
	Order   []int                // indices of Pts, back to front (owned by the scene)
	Front   int                  // Order[Front:] face the viewer (all of them when flat)
	Weights []sphere.ScreenPoint // C
	Lines   []sphere.Polyline    // the wireframe (not when flat)

	rot       sphere.Mat3
	zoom      float64
	depth     sphere.DepthOrder
	dirty     bool
	relay     bool            // the text, the data or the screen changed: Update lays the text out again
	keep      []Box           // the legend and the help, in device pixels, that the picture keeps clear of
	cx, cy, r float64         // the picture's centre and radius at zoom 1 (Frame)
	graticule [][]sphere.Vec3 // computed once
}

// The view's constants.
const (
	initialYaw   = 0.6 // the initial view is turned and tilted a little,
	initialPitch = 0.35
	eyeDistance  = 4.0  // mild perspective, in sphere radii
	radiusFrac   = 0.42 // sphere radius at zoom 1, as a fraction of the smaller screen side
	MinZoom      = 0.4
	MaxZoom      = 6.0
)

// NewScene returns a scene with no data, in the initial view.
func NewScene() *Scene {
	return &Scene{
		Scale:     1,
		rot:       sphere.YawPitch(initialYaw, initialPitch),
		zoom:      1,
		graticule: sphere.Graticule(5, 12, 72),
		dirty:     true,
		relay:     true,
	}
}

// SetSize sets the screen size in device pixels and the device scale.
func (s *Scene) SetSize(w, h, scale float64) {
	if w != s.W || h != s.H || scale != s.Scale {
		s.W, s.H, s.Scale = w, h, scale
		s.dirty, s.relay = true, true
	}
}

// SetData shows a newly placed snapshot.
func (s *Scene) SetData(p *Placed) {
	s.Data = p
	s.dirty, s.relay = true, true
}

// SetText sets the caption (with notices) and the help line.
func (s *Scene) SetText(text, help string) {
	if text != s.Text || help != s.Help {
		s.Text, s.Help = text, help
		s.relay = true
		s.Version++ // text needs no new geometry, unless its legend moves
	}
}

// Dirty reports whether the data, the view or the screen changed since
// the last Update: the next Update makes a new picture.
func (s *Scene) Dirty() bool { return s.dirty }

// Flat reports whether the picture is the unit circle.
func (s *Scene) Flat() bool { return s.Data != nil && s.Data.Flat }

// Zoom returns the zoom factor.
func (s *Scene) Zoom() float64 { return s.zoom }

// Rotation returns the view rotation.
func (s *Scene) Rotation() sphere.Mat3 { return s.rot }

// radius returns the sphere's radius at zoom 1 in device pixels.
func (s *Scene) radius() float64 {
	if s.r > 0 {
		return s.r
	}
	return math.Max(1, radiusFrac*math.Min(s.W, s.H))
}

// pointPad is how far, in CSS pixels, the picture's edge keeps from the
// legend: a point's sprite (4 pixels in radius) and a gap.
const pointPad = 6

// Drag turns the sphere by a pointer drag of (dx, dy) device pixels (see
// sphere.Drag). A flat picture does not turn, nor does a drag that is not
// finite.
func (s *Scene) Drag(dx, dy float64) {
	if s.Flat() || (dx == 0 && dy == 0) || !finite(dx) || !finite(dy) {
		return
	}
	s.rot = sphere.Drag(s.rot, dx, dy, s.radius()*s.zoom)
	s.dirty = true
}

// Spin turns the sphere by angle a (radians) about the screen's vertical
// axis. A flat picture does not turn, nor does an angle that is not finite.
func (s *Scene) Spin(a float64) {
	if s.Flat() || a == 0 || !finite(a) {
		return
	}
	s.rot = sphere.Orthonormalize(sphere.Mul(sphere.RotY(a), s.rot))
	s.dirty = true
}

// ZoomBy multiplies the zoom by f, within [MinZoom, MaxZoom]; a factor
// that is not finite and positive leaves the zoom as it is.
func (s *Scene) ZoomBy(f float64) {
	if !(f > 0) || !finite(f) {
		return
	}
	z := math.Max(MinZoom, math.Min(MaxZoom, s.zoom*f))
	if z != s.zoom {
		s.zoom = z
		s.dirty = true
	}
}

// Reset returns to the initial view.
func (s *Scene) Reset() {
	s.rot = sphere.YawPitch(initialYaw, initialPitch)
	s.zoom = 1
	s.dirty = true
}

// Update lays out the text if it, the data or the screen changed (not
// for a turn or a zoom: the text layer is not repainted then), and
// recomputes the geometry of the view if the data, the view, the screen
// or the legend's box changed since the last call, and reports whether it
// did.
func (s *Scene) Update() bool {
	if s.relay {
		s.relay = false
		s.layText()
	}
	if !s.dirty {
		return false
	}
	s.dirty = false
	s.Version++
	s.cx, s.cy, s.r = Frame(s.W, s.H, s.keep, pointPad*s.Scale)
	s.Proj = sphere.Projection{Rot: s.rot, CX: s.cx, CY: s.cy, Radius: s.r, Zoom: s.zoom, Eye: eyeDistance}
	if s.Flat() {
		s.Proj.Rot, s.Proj.Eye = sphere.Identity(), 0
	}
	s.Pts, s.Weights, s.Order, s.Front = s.Pts[:0], s.Weights[:0], s.Order[:0], 0
	if s.Data != nil {
		s.Pts = s.Proj.ProjectTo(s.Pts, s.Data.Points)
		s.Weights = s.Proj.ProjectTo(s.Weights, s.Data.Weights)
		s.Order = s.depth.Update(s.Pts)
		if !s.Data.Flat {
			for s.Front < len(s.Order) && !s.Pts[s.Order[s.Front]].Front {
				s.Front++
			}
		}
	}
	s.Lines = s.Lines[:0]
	if !s.Flat() {
		s.Lines = s.Proj.ProjectLinesTo(s.Lines, s.graticule)
	}
	return true
}

// layText lays the text out on the layer of CSS pixels that covers the
// screen, and marks the geometry dirty where the legend's or the help's
// box moved.
func (s *Scene) layText() {
	m := s.Measure
	if m == nil {
		m = MonoWidth
	}
	scale := s.Scale
	if !(scale > 0) {
		scale = 1
	}
	w, h := int(math.Ceil(s.W/scale)), int(math.Ceil(s.H/scale))
	s.Layout = Lay(s.Text, s.Help, w, h, s.Data, m)
	s.LayoutVersion++
	keep := []Box{deviceBox(scale)(s.Layout.LegendBox()), deviceBox(scale)(s.Layout.HelpBox())}
	if !slices.Equal(keep, s.keep) {
		s.keep = keep
		s.dirty = true
	}
}

// deviceBox returns the function that turns a box of the text layer into
// device pixels.
func deviceBox(scale float64) func(x0, y0, x1, y1 int) Box {
	return func(x0, y0, x1, y1 int) Box {
		return Box{float64(x0) * scale, float64(y0) * scale, float64(x1) * scale, float64(y1) * scale}
	}
}

// finite reports whether x is neither infinite nor NaN: what a pointer,
// wheel or key gives, turned into a view's change, must be, or the view
// would hold NaN from then on.
func finite(x float64) bool { return !math.IsInf(x, 0) && !math.IsNaN(x) }
