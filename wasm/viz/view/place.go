package view

import (
	"fmt"
	"math"

	"metriclab/core/msg"
	"metriclab/wasm/viz/sphere"
)

// Placed is a snapshot placed on the unit sphere (or circle): what the
// decoding goroutine hands to the game, so that Update only swaps a pointer.
type Placed struct {
	Dim       int
	Flat      bool              // D ≤ 2: the unit circle, drawn flat
	Points    []sphere.Vec3     // N; flat points carry a small radial jitter (FlatJitter)
	Labels    []int             // N, or nil
	Weights   []sphere.Vec3     // C unit directions, or nil
	Classes   []string          // class names, one line each (see NameBytes), at most MaxLegend; Lay cuts them to the legend's width
	More      int               // classes past those of Classes, which the legend counts as "+N more"
	Margin    float64           // radians
	Sectors   []sphere.Interval // flat with weights (not Biased): the decision sector of each class
	Bands     []sphere.Interval // flat with weights and a margin: the margin bands
	Explained float64           // D > 3: the fraction of the second moment the PCA keeps
}

// Placer turns snapshots into Placed ones. It keeps the last PCA basis, so
// that the axes of the picture do not flip from one snapshot to the next.
// The zero value is ready to use.
type Placer struct {
	basis *sphere.Basis
}

// LegendColumn is how many of ebiten's debug glyphs (GlyphW) a class name
// of the legend may be as wide as (LegendWidth): Lay cuts a wider one.
const LegendColumn = 14

// NameBytes is the most bytes of a class name that Place keeps (a longer
// one cut, ending in Ellipsis): the most that a person's name on the
// Verify page may be (msg.IdentityProblem), far wider than the legend.
const NameBytes = msg.MaxIdentityBytes

// FlatJitter is the half-width of the radial band, in radii, over which the
// points of a flat (D ≤ 2) picture are spread so that their density shows;
// their directions are the unit circle's.
const FlatJitter = 0.035

// Place puts s on the sphere: PCA for D > 3 (aligned with the previous
// basis, which it then replaces), the unit circle for D ≤ 2 with the
// decision sectors and margin bands of the class weights, unless they are
// a linear head's with biases (Snapshot.Biased): its argmax of w_j·x + b_j
// depends on ‖w_j‖ and b_j, so its regions are not the sectors between the
// weight directions (and, for plain softmax, on ‖x‖: they are not regions
// of the circle at all). s must have passed decoding's size checks (or be
// a DemoSnapshot). Of more than MaxLegend classes the legend names the
// first MaxLegend − 1.
func (p *Placer) Place(s *Snapshot) *Placed {
	out := &Placed{Dim: s.Dim, Flat: s.Dim <= 2, Labels: s.Labels, Margin: s.Margin}
	names := s.Classes
	if len(names) > MaxLegend { // the legend's last line says how many more
		names = names[:MaxLegend-1]
		out.More = len(s.Classes) - len(names)
	}
	for _, name := range names {
		out.Classes = append(out.Classes, oneLine(name, NameBytes))
	}
	var basis *sphere.Basis
	if s.Dim > 3 {
		p.basis = sphere.PrincipalAxes(s.Points, s.Dim, p.basis)
		basis = p.basis
		out.Explained = basis.Explained()
	}
	out.Points = sphere.PlaceTo(nil, s.Points, s.Dim, basis)
	if len(s.Weights) > 0 {
		out.Weights = sphere.PlaceTo(nil, s.Weights, s.Dim, basis)
	}
	if out.Flat {
		// Spread by the golden-ratio sequence of the index: deterministic,
		// even, and the same point keeps its radius between snapshots.
		for i := range out.Points {
			f := math.Mod(float64(i)*0.6180339887498949, 1)
			r := 1 + FlatJitter*(2*f-1)
			out.Points[i] = sphere.Vec3{out.Points[i][0] * r, out.Points[i][1] * r, 0}
		}
		if s.Dim == 2 && len(s.Weights) > 0 && !s.Biased {
			phi := sphere.WeightAnglesTo(nil, s.Weights)
			out.Sectors = sphere.Sectors(phi)
			out.Bands = sphere.MarginBands(phi, s.Margin)
		}
	}
	return out
}

// Label returns the caption of the picture: "D=16, 2000 points, step 1200 (epoch 3)" and, for D > 3, a second
// line saying that it is a PCA projection.
func Label(p *Placed, prog *Progress) string {
	if p == nil {
		return "waiting for a snapshot"
	}
	step := "step -"
	if prog != nil {
		step = fmt.Sprintf("step %d (epoch %d)", prog.Step, prog.Epoch)
	}
	s := fmt.Sprintf("D=%d, %s, %s", p.Dim, msg.Plural(len(p.Points), "point", "points"), step)
	if p.Dim > 3 {
		s += fmt.Sprintf("\nPCA projection of %d-dim embeddings (%.0f%% of the second moment)", p.Dim, 100*p.Explained)
	}
	return s
}
