package view

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSceneRedrawsOnlyOnChange(t *testing.T) {
	s := NewScene()
	s.SetSize(800, 600, 1)
	if !s.Update() {
		t.Fatal("first Update computed nothing")
	}
	v := s.Version
	// Nothing changed: no new geometry, the same version, so Draw keeps its
	// cached picture.
	for range 3 {
		if s.Update() || s.Version != v {
			t.Fatal("Update without a change bumped the version")
		}
	}
	s.SetSize(800, 600, 1) // the same size again
	s.SetText("", "")      // the same (empty) text
	s.ZoomBy(1)
	s.Drag(0, 0)
	if s.Update() || s.Version != v {
		t.Fatal("no-op calls bumped the version")
	}
	for _, change := range []struct {
		name string
		do   func()
	}{
		{"drag", func() { s.Drag(5, -3) }},
		{"spin", func() { s.Spin(0.01) }},
		{"zoom", func() { s.ZoomBy(1.1) }},
		{"resize", func() { s.SetSize(640, 480, 2) }},
		{"data", func() { var p Placer; s.SetData(p.Place(DemoSnapshot(3, 20, 2, 1))) }},
		{"text", func() { s.SetText("hello", "") }},
	} {
		change.do()
		// Text needs no new geometry: only the version tells Draw.
		if dirty := s.Dirty(); dirty != (change.name != "text") {
			t.Errorf("%s: Dirty() = %v before Update", change.name, dirty)
		}
		s.Update()
		if s.Dirty() {
			t.Errorf("%s: still dirty after Update", change.name)
		}
		if s.Version == v {
			t.Errorf("%s did not bump the version", change.name)
		}
		v = s.Version
	}
}

func TestSceneGeometry(t *testing.T) {
	var p Placer
	s := NewScene()
	s.SetSize(800, 600, 1)
	s.SetData(p.Place(DemoSnapshot(3, 500, 10, 2)))
	s.Update()
	if len(s.Pts) != 500 || len(s.Order) != 500 || len(s.Weights) != 10 {
		t.Fatalf("%d points, %d ordered, %d weights", len(s.Pts), len(s.Order), len(s.Weights))
	}
	// Order is back to front, and splits at Front into far and near points.
	for i := 1; i < len(s.Order); i++ {
		if s.Pts[s.Order[i-1]].Z > s.Pts[s.Order[i]].Z {
			t.Fatalf("order not back to front at %d", i)
		}
	}
	for i, k := range s.Order {
		if s.Pts[k].Front != (i >= s.Front) {
			t.Fatalf("point %d (rank %d) has Front %v, split at %d", k, i, s.Pts[k].Front, s.Front)
		}
	}
	// Uniform-ish data: roughly half faces the viewer (perspective sees a
	// little less than half: the cap above z = 1/4, 37.5% of the sphere).
	if f := float64(len(s.Order)-s.Front) / 500; f < 0.25 || f > 0.5 {
		t.Errorf("front fraction %g", f)
	}
	if len(s.Lines) == 0 {
		t.Error("no wireframe")
	}
	// Every point lies within the outline, radius 0.42·600 = 252 px.
	for _, q := range s.Pts {
		if r := math.Hypot(q.X-400, q.Y-300); r > 252+1e-9 {
			t.Fatalf("point at radius %g outside the outline", r)
		}
	}
	// Zoom is bounded.
	for range 100 {
		s.ZoomBy(2)
	}
	if s.Zoom() != MaxZoom {
		t.Errorf("zoom %g, want the maximum %g", s.Zoom(), MaxZoom)
	}
}

func TestFlatScene(t *testing.T) {
	var p Placer
	s := NewScene()
	s.SetSize(400, 400, 1)
	s.SetData(p.Place(DemoSnapshot(2, 100, 4, 1)))
	s.Update()
	rot := s.Rotation()
	s.Drag(30, 10)
	s.Spin(0.5)
	if s.Update() || s.Rotation() != rot {
		t.Error("a flat picture turned")
	}
	if len(s.Lines) != 0 {
		t.Error("a flat picture has a wireframe")
	}
	// Points stay within the jitter band around the circle of radius 168.
	for _, q := range s.Pts {
		r := math.Hypot(q.X-200, q.Y-200) / 168
		if r < 1-FlatJitter-1e-9 || r > 1+FlatJitter+1e-9 {
			t.Fatalf("flat point at %g radii", r)
		}
	}
	if s.Front != 0 {
		t.Errorf("flat Front = %d, want 0 (all points drawn)", s.Front)
	}
}

func TestPlace(t *testing.T) {
	var p Placer
	// D = 2: four weights at right angles, margin 0.35: 90° sectors and
	// four bands of 0.35 rad.
	d2 := p.Place(DemoSnapshot(2, 40, 4, 1))
	if !d2.Flat || len(d2.Sectors) != 4 || len(d2.Bands) != 4 {
		t.Fatalf("D=2: flat %v, %d sectors, %d bands", d2.Flat, len(d2.Sectors), len(d2.Bands))
	}
	for j, sec := range d2.Sectors {
		if math.Abs(sec.Width()-math.Pi/2) > 1e-6 {
			t.Errorf("sector %d is %g rad, want π/2", j, sec.Width())
		}
		if math.Abs(d2.Bands[j].Width()-0.35) > 1e-9 {
			t.Errorf("band %d is %g rad, want 0.35", j, d2.Bands[j].Width())
		}
	}
	// D = 16: PCA, unit points, and the caption says so.
	d16 := p.Place(DemoSnapshot(16, 300, 10, 2))
	if d16.Flat || d16.Explained <= 0 || d16.Explained > 1+1e-12 {
		t.Fatalf("D=16: flat %v, explained %g", d16.Flat, d16.Explained)
	}
	for i, v := range d16.Points {
		if n := math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2]); math.Abs(n-1) > 1e-9 {
			t.Fatalf("point %d has norm %g", i, n)
		}
	}
	lbl := Label(d16, &Progress{Epoch: 3, Step: 1200})
	for _, want := range []string{"D=16", "300 points", "step 1200", "PCA projection of 16-dim embeddings"} {
		if !strings.Contains(lbl, want) {
			t.Errorf("label %q lacks %q", lbl, want)
		}
	}
	if lbl := Label(p.Place(DemoSnapshot(3, 7, 1, 1)), nil); lbl != "D=3, 7 points, step -" {
		t.Errorf("label %q", lbl)
	}
	// One point is counted as one (msg.Plural).
	if lbl := Label(p.Place(DemoSnapshot(3, 1, 1, 1)), nil); lbl != "D=3, 1 point, step -" {
		t.Errorf("label of one point %q", lbl)
	}
}

// TestPlaceClassNames places class names as the legend shows them: each
// must be one line (a line break would start a new line, over the next
// class), without bidirectional overrides, in its own script. Before, in
// ebiten's debug font, a rune past U+00FF was "?": the README's "李雷" was
// "??", and "José" typed with a combining accent "Jose?". A name is kept
// up to NameBytes (the Verify page's most), cut between runes past that;
// Lay cuts it to the legend's width.
func TestPlaceClassNames(t *testing.T) {
	long := strings.Repeat("名", 70) // 210 bytes
	names := []string{"cat", "two\nlines", "שלום", "\u202ecba", "a-very-long-class-name", "café", "日本語のクラス名です", "李雷", "José", "Jose\u0301", "👩\u200d💻", long}
	want := []string{"cat", "two lines", "שלום", "cba", "a-very-long-class-name", "café", "日本語のクラス名です", "李雷", "José", "Jose\u0301", "👩\u200d💻", strings.Repeat("名", 63) + Ellipsis}
	var p Placer
	got := p.Place(&Snapshot{Dim: 3, Classes: names}).Classes
	if !slices.Equal(got, want) {
		t.Errorf("classes %q, want %q", got, want)
	}
	for _, name := range got {
		if len(name) > NameBytes || !utf8.ValidString(name) {
			t.Errorf("class %q is %d bytes (most %d), valid UTF-8 %v", name, len(name), NameBytes, utf8.ValidString(name))
		}
	}
}

// TestLegendClearOfPoints: at D = 2 in a viewer 375 CSS pixels wide (a
// phone), the circle filled the width and its points ran under the legend
// at the top right; the picture now keeps clear of the legend's box and
// of the help line's (which, moved down, it would reach), at device
// scales 1 to 3, and stays as it was where it already did (a desktop's
// width) or where there is no legend.
func TestLegendClearOfPoints(t *testing.T) {
	var pl Placer
	for _, tc := range []struct {
		w, h, scale float64
		classes     int
		moved       bool
		dim         int
	}{
		{375, 375, 1, 5, true, 2},
		{375, 375, 2, 5, true, 2},
		{375, 500, 1, 10, true, 2},
		{375, 300, 3, 20, true, 2},
		{375, 400, 1, 6, true, 3}, // the sphere's help takes two lines
		{1280, 800, 1, 10, false, 2},
		{1280, 800, 2, 20, false, 2},
		{1280, 800, 1, 20, false, 3},
		{375, 375, 1, 0, false, 2},
	} {
		p := pl.Place(DemoSnapshot(tc.dim, 2000, max(1, tc.classes), 1))
		if tc.classes == 0 {
			p.Classes = nil
		}
		help := "wheel: zoom" + HelpSep + "R: reset"
		if tc.dim > 2 {
			help = strings.Join([]string{"drag: rotate", "wheel: zoom", "A: auto-rotate (off)", "R: reset"}, HelpSep)
		}
		s := NewScene()
		s.SetSize(tc.w*tc.scale, tc.h*tc.scale, tc.scale)
		s.SetData(p)
		s.SetText(Label(p, nil), help)
		s.Update()
		for _, part := range []struct {
			name string
			box  Box
		}{
			{"legend", deviceBox(tc.scale)(s.Layout.LegendBox())},
			{"help line", deviceBox(tc.scale)(s.Layout.HelpBox())},
		} {
			if part.name == "legend" && (part.box.Empty() != (tc.classes == 0)) || part.name == "help line" && part.box.Empty() {
				t.Errorf("%gx%g at scale %g, %d classes: %s at %v", tc.w, tc.h, tc.scale, tc.classes, part.name, part.box)
			}
			dot := 4 * tc.scale // a point's sprite, in radius (see draw.go)
			under := 0
			for _, q := range append(slices.Clone(s.Pts), s.Weights...) {
				if !part.box.Empty() && part.box.dist(q.X, q.Y) < dot {
					under++
				}
			}
			if under > 0 {
				t.Errorf("%gx%g at scale %g, %d classes: %d points or weights under the %s %v", tc.w, tc.h, tc.scale, tc.classes, under, part.name, part.box)
			}
		}
		centred := s.Proj.CX == s.W/2 && s.Proj.CY == s.H/2 && s.Proj.Radius == radiusFrac*math.Min(s.W, s.H)
		if centred == tc.moved {
			t.Errorf("%gx%g at scale %g, %d classes: centre (%g, %g) radius %g, want moved %v", tc.w, tc.h, tc.scale, tc.classes, s.Proj.CX, s.Proj.CY, s.Proj.Radius, tc.moved)
		}
		// The picture stays on the screen and large: at least 0.3 of the
		// smaller side in radius, where it was 0.42.
		r := s.Proj.OutlineRadius() * (1 + FlatJitter)
		if s.Proj.CX-r < 0 || s.Proj.CX+r > s.W || s.Proj.CY-r < 0 || s.Proj.CY+r > s.H || s.Proj.Radius < 0.3*math.Min(s.W, s.H) {
			t.Errorf("%gx%g at scale %g, %d classes: centre (%g, %g) radius %g, off the screen or small", tc.w, tc.h, tc.scale, tc.classes, s.Proj.CX, s.Proj.CY, s.Proj.Radius)
		}
	}
}

func TestDemoSnapshot(t *testing.T) {
	for _, dim := range []int{2, 3, 10} {
		s := DemoSnapshot(dim, 2000, DemoClasses, 1)
		if err := checkSnapshot(s); err != nil {
			t.Fatalf("dim %d: %v", dim, err)
		}
		if len(s.Points) != 2000*dim || len(s.Labels) != 2000 || len(s.Weights) != DemoClasses*dim || len(s.Classes) != DemoClasses {
			t.Fatalf("dim %d: sizes %d %d %d %d", dim, len(s.Points), len(s.Labels), len(s.Weights), len(s.Classes))
		}
		// Points are unit vectors, and nearer their own class weight than
		// most others: the clusters are visible.
		var own int
		for i := range 2000 {
			row := s.Points[i*dim : (i+1)*dim]
			var nn float64
			best, bestCos := -1, math.Inf(-1)
			for _, v := range row {
				nn += float64(v) * float64(v)
			}
			if math.Abs(nn-1) > 1e-5 {
				t.Fatalf("dim %d point %d has squared norm %g", dim, i, nn)
			}
			for c := range DemoClasses {
				var cos float64
				for j, v := range row {
					cos += float64(v) * float64(s.Weights[c*dim+j])
				}
				if cos > bestCos {
					best, bestCos = c, cos
				}
			}
			if best == s.Labels[i] {
				own++
			}
		}
		if own < 1800 {
			t.Errorf("dim %d: only %d of 2000 points are nearest their own class weight", dim, own)
		}
	}
}

// TestSceneRefusesNonFinite: a zoom factor, spin or drag that is not a
// finite number (or a factor of 0 or less) leaves the view as it was
// (ZoomBy(NaN) made the zoom NaN, past its clamp, and every picture after
// it empty).
func TestSceneRefusesNonFinite(t *testing.T) {
	var p Placer
	s := NewScene()
	s.SetSize(800, 600, 1)
	s.SetData(p.Place(DemoSnapshot(3, 20, 3, 1)))
	s.Update()
	zoom, rot := s.Zoom(), s.Rotation()
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		name string
		do   func()
	}{
		{"ZoomBy(NaN)", func() { s.ZoomBy(nan) }},
		{"ZoomBy(+Inf)", func() { s.ZoomBy(inf) }},
		{"ZoomBy(0)", func() { s.ZoomBy(0) }},
		{"ZoomBy(-2)", func() { s.ZoomBy(-2) }},
		{"Spin(NaN)", func() { s.Spin(nan) }},
		{"Spin(-Inf)", func() { s.Spin(-inf) }},
		{"Drag(NaN, 0)", func() { s.Drag(nan, 0) }},
		{"Drag(1, +Inf)", func() { s.Drag(1, inf) }},
	} {
		c.do()
		if s.Zoom() != zoom || s.Rotation() != rot || s.Dirty() {
			t.Errorf("%s: zoom %v, rotation %v, dirty %v; want %v, %v, unchanged", c.name, s.Zoom(), s.Rotation(), s.Dirty(), zoom, rot)
		}
	}
	s.ZoomBy(2) // a finite factor still zooms
	if s.Zoom() != 2*zoom {
		t.Errorf("ZoomBy(2): zoom %v, want %v", s.Zoom(), 2*zoom)
	}
}

// TestPlaceLegend: the legend has room for MaxLegend lines; of more
// classes it names the first MaxLegend − 1 and counts the rest. Past 20
// classes it disappeared, saying nothing.
func TestPlaceLegend(t *testing.T) {
	for _, tc := range []struct{ classes, names, more int }{
		{10, 10, 0},
		{MaxLegend, MaxLegend, 0},
		{MaxLegend + 1, MaxLegend - 1, 2},
		{100, MaxLegend - 1, 81},
	} {
		s := &Snapshot{Dim: 3}
		for c := range tc.classes {
			s.Classes = append(s.Classes, "c"+strconv.Itoa(c))
		}
		var pl Placer
		p := pl.Place(s)
		if len(p.Classes) != tc.names || p.More != tc.more {
			t.Errorf("%d classes: the legend names %d and counts %d more, want %d and %d more", tc.classes, len(p.Classes), p.More, tc.names, tc.more)
		}
		if len(p.Classes) > 0 && p.Classes[len(p.Classes)-1] != "c"+strconv.Itoa(tc.names-1) {
			t.Errorf("%d classes: the legend's last name is %q, want c%d", tc.classes, p.Classes[len(p.Classes)-1], tc.names-1)
		}
	}
}

// TestPlaceBiasedHead: a linear head with biases (softmax, L2-softmax)
// decides by argmax w_j·x + b_j, not by the nearest weight direction: of
// weights (1, 0) and (3, 0.5), the sectors give class 1 the half circle
// (4.7°, 184.7°) past their bisector, where with biases (0, −1) class 1
// wins for x = r(cos θ, sin θ) where r(2 cos θ + 0.5 sin θ) > 1: θ in
// (−47°, 75°) at r = 1, (−62°, 90°) at r = 2 (plain softmax's ‖x‖ is
// free). Such a snapshot is drawn with its weights and no sectors or
// bands; one without biases keeps them. The D = 2 view shaded the
// sectors between the directions.
func TestPlaceBiasedHead(t *testing.T) {
	s := &Snapshot{Dim: 2, Points: []float32{1, 0, 0, 1}, Labels: []int{0, 1}, Weights: []float32{1, 0, 3, 0.5}, Classes: []string{"a", "b"}, Biased: true}
	var pl Placer
	p := pl.Place(s)
	if len(p.Sectors) != 0 || len(p.Bands) != 0 || len(p.Weights) != 2 {
		t.Errorf("biased head: %d sectors, %d bands, %d weights; want none, none, 2", len(p.Sectors), len(p.Bands), len(p.Weights))
	}
	s.Biased = false
	if p := pl.Place(s); len(p.Sectors) != 2 {
		t.Errorf("cosine head: %d sectors, want 2", len(p.Sectors))
	}
}

// TestSceneLaysTextOnChange: the text layer's layout (and with it the
// text layer, which Draw repaints when LayoutVersion changes) is made
// again when the text, the data or the screen changed, and not when the
// sphere turns or zooms: the auto-rotation repaints the picture, not the
// text.
func TestSceneLaysTextOnChange(t *testing.T) {
	var pl Placer
	s := NewScene()
	s.SetSize(800, 600, 1)
	s.SetData(pl.Place(DemoSnapshot(3, 20, 4, 1)))
	s.SetText("D=3", "R: reset")
	s.Update()
	v := s.LayoutVersion
	if len(s.Layout.Names) != 4 || s.Layout.Caption != "D=3" {
		t.Fatalf("layout %+v, want the caption and 4 names", s.Layout)
	}
	for _, change := range []struct {
		name  string
		do    func()
		relay bool
	}{
		{"drag", func() { s.Drag(5, -3) }, false},
		{"spin", func() { s.Spin(0.01) }, false},
		{"zoom", func() { s.ZoomBy(1.1) }, false},
		{"same text", func() { s.SetText("D=3", "R: reset") }, false},
		{"text", func() { s.SetText("D=3\ntrainer: running", "R: reset") }, true},
		{"resize", func() { s.SetSize(640, 480, 2) }, true},
		{"data", func() { s.SetData(pl.Place(DemoSnapshot(3, 20, 2, 1))) }, true},
	} {
		change.do()
		s.Update()
		if laid := s.LayoutVersion != v; laid != change.relay {
			t.Errorf("%s: text laid out again %v, want %v", change.name, laid, change.relay)
		}
		v = s.LayoutVersion
	}
	if len(s.Layout.Names) != 2 {
		t.Errorf("after new data: legend %q, want 2 names", s.Layout.Names)
	}
}
