package view

import (
	"math"

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

	Version uint64

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
	}
}

// SetSize sets the screen size in device pixels and the device scale.
func (s *Scene) SetSize(w, h, scale float64) {
	if w != s.W || h != s.H || scale != s.Scale {
		s.W, s.H, s.Scale = w, h, scale
		s.dirty = true
	}
}

// SetData shows a newly placed snapshot.
func (s *Scene) SetData(p *Placed) {
	s.Data = p
	s.dirty = true
}

// SetText sets the caption (with notices) and the help line.
func (s *Scene) SetText(text, help string) {
	if text != s.Text || help != s.Help {
		s.Text, s.Help = text, help
		s.Version++ // text needs no new geometry
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
	return math.Max(1, radiusFrac*math.Min(s.W, s.H))
}

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

// Update recomputes the geometry of the view if the data, the view or the
// screen changed since the last call, and reports whether it did.
func (s *Scene) Update() bool {
	if !s.dirty {
		return false
	}
	s.dirty = false
	s.Version++
	s.Proj = sphere.Projection{Rot: s.rot, CX: s.W / 2, CY: s.H / 2, Radius: s.radius(), Zoom: s.zoom, Eye: eyeDistance}
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

// finite reports whether x is neither infinite nor NaN: what a pointer,
// wheel or key gives, turned into a view's change, must be, or the view
// would hold NaN from then on.
func finite(x float64) bool { return !math.IsInf(x, 0) && !math.IsNaN(x) }
