package app

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestPolylinePoints(t *testing.T) {
	box := Box{X: 10, Y: 20, W: 100, H: 50}
	// Worked by hand: x = 10 + 100·(x−0)/4, y = 20 + 50·(1 − (y−1)/2).
	pts := []Point{{0, 1}, {2, 2}, {4, 3}, {4, 9}}
	got := PolylinePoints(pts, box, Range{0, 4}, Range{1, 3})
	want := "10,70 60,45 110,20 110,20" // the last point is clamped to the top
	if got != want {
		t.Errorf("PolylinePoints = %q, want %q", got, want)
	}
	if got := PolylinePoints(nil, box, Range{0, 1}, Range{0, 1}); got != "" {
		t.Errorf("no points: %q", got)
	}
}

func TestDataRange(t *testing.T) {
	if r := dataRange([]Point{{1, 5}, {2, -1}, {3, 2}}, false); r != (Range{-1, 5}) {
		t.Errorf("y range %v", r)
	}
	if r := dataRange([]Point{{1, 5}, {7, 5}}, true); r != (Range{1, 7}) {
		t.Errorf("x range %v", r)
	}
	// A flat line gets a range around it, so that it is drawn in the middle.
	if r := dataRange([]Point{{1, 2}, {2, 2}}, false); !(r.Lo < 2 && r.Hi > 2 && math.Abs((r.Lo+r.Hi)/2-2) < 1e-12) {
		t.Errorf("flat range %v", r)
	}
}

func TestHistogramPath(t *testing.T) {
	box := Box{X: 0, Y: 0, W: 30, H: 100}
	// Counts 1, 2, 1 of 4: densities 0.25, 0.5, 0.25; top 0.5 maps to y = 0.
	got := HistogramPath([]int{1, 2, 1}, box, 0.5)
	want := "M0,100V50H10V0H20V50H30V100Z"
	if got != want {
		t.Errorf("HistogramPath = %q, want %q", got, want)
	}
	if HistogramPath(nil, box, 1) != "" || HistogramPath([]int{1}, box, 0) != "" {
		t.Error("empty histogram drew a path")
	}
	if got := maxDensity([]int{1, 3}, []int{5, 5}, nil); got != 0.75 {
		t.Errorf("maxDensity = %g, want 0.75", got)
	}
}

func TestThresholdX(t *testing.T) {
	box := Box{X: 10, W: 180}
	// acos(1) = 0°, acos(0) = 90°, acos(−1) = 180°, acos(0.5) = 60°.
	for _, c := range []struct{ t, want float64 }{{1, 10}, {0, 100}, {-1, 190}, {0.5, 70}, {2, 10}} {
		if got := ThresholdX(c.t, box); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("ThresholdX(%g) = %g, want %g", c.t, got, c.want)
		}
	}
}

func TestChartsSVG(t *testing.T) {
	empty := LineChartSVG("loss", nil, nil, "chart-loss")
	if !strings.Contains(empty, "no data yet") || strings.Contains(empty, "polyline") {
		t.Errorf("empty chart: %s", empty)
	}
	c := LineChartSVG("a<b", []Point{{0, 0.5}, {10, 1}}, &Range{0, 1}, "chart-acc")
	if !strings.Contains(c, "<polyline") || !strings.Contains(c, "a&lt;b") || !strings.HasPrefix(c, "<svg") || !strings.HasSuffix(c, "</svg>") {
		t.Errorf("chart: %s", c)
	}
	h := HistogramSVG([]int{4, 1, 0}, []int{0, 1, 4}, Threshold{Cos: 0.5, Set: true}, true)
	for _, want := range []string{`class="hist-genuine"`, `class="hist-impostor"`, `class="threshold"`, "threshold 60°"} {
		if !strings.Contains(h, want) {
			t.Errorf("histogram lacks %q: %s", want, h)
		}
	}
	if h := HistogramSVG(nil, nil, Threshold{}, false); !strings.Contains(h, "no snapshot yet") {
		t.Errorf("empty histogram: %s", h)
	}
}

func TestCoord(t *testing.T) {
	for v, want := range map[float64]string{1: "1", 1.5: "1.5", 1.256: "1.26", 100: "100", 0.004: "0"} {
		if got := coord(v); got != want {
			t.Errorf("coord(%g) = %q, want %q", v, got, want)
		}
	}
}

func TestTick(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {1, "1"}, {10.6, "10.6"}, {0.4576, "0.458"}, {859, "859"}, {0.0123, "0.0123"},
		{1095, "1095"}, {42950, "42950"}, {999999, "999999"}, {1234567, "1.2e6"},
		{0.000223, "2.2e-4"}, {-0.000223, "-2.2e-4"}, {123456.7, "1.2e5"}, {2.5e-12, "2.5e-12"},
	} {
		if got := tick(c.v); got != c.want {
			t.Errorf("tick(%g) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestLossChartClipsFirstSteps: a loss curve whose first steps are many
// times the later losses is drawn on the range of the later ones: the
// steps after the first tenth fill the chart's height, the first ones
// run along its top, and a line says how high they went. Before, the
// range was that of every point: the later curve, from 1 down to 0.5
// under a first loss of 20, sat in the bottom 3% of the chart, a flat
// line. A later rise (a run that diverges) is never clipped, and a curve
// without such a start is drawn on the range of its points.
func TestLossChartClipsFirstSteps(t *testing.T) {
	var pts []Point
	pts = append(pts, Point{0, 20}, Point{5, 8})
	for s := 10; s <= 300; s += 10 {
		pts = append(pts, Point{float64(s), 1 - 0.5*float64(s-10)/290}) // 1 at step 10, 0.5 at 300
	}
	svg := LineChartSVG("loss", pts, nil, "chart-loss")
	ys := polylineYs(t, svg)
	// The box of LineChartSVG: y from 22 to 118.
	const top, height = 22.0, 96.0
	if span := ys[len(ys)-1] - ys[2]; span < 0.9*height {
		t.Errorf("steps 10 to 300 span %.1f of the chart's %g units, want at least 90%%: %s", span, height, svg)
	}
	if ys[0] != top || ys[1] != top {
		t.Errorf("the first steps at y %g, %g, want clipped at the top %g", ys[0], ys[1], top)
	}
	if !strings.Contains(svg, `class="chart-clip"`) || !strings.Contains(svg, "first steps up to 20<") {
		t.Errorf("the clipped steps are not marked: %s", svg)
	}
	// A rise at the end is the curve's to show: no clipping.
	rise := append(append([]Point(nil), pts...), Point{310, 30})
	if svg := LineChartSVG("loss", rise, nil, "chart-loss"); strings.Contains(svg, "chart-clip") || polylineYs(t, svg)[len(rise)-1] != top {
		t.Errorf("a loss that rises at the end was clipped: %s", svg)
	}
	// A curve without a start far above the rest is drawn whole.
	if svg := LineChartSVG("loss", pts[2:], nil, "chart-loss"); strings.Contains(svg, "chart-clip") {
		t.Errorf("a curve without a spike was clipped: %s", svg)
	}
}

// polylineYs returns the y of each point of the polyline of an SVG chart.
func polylineYs(t *testing.T, svg string) []float64 {
	t.Helper()
	_, after, ok := strings.Cut(svg, `<polyline class="chart-line" fill="none" points="`)
	if !ok {
		t.Fatalf("no polyline: %s", svg)
	}
	pts, _, _ := strings.Cut(after, `"`)
	var ys []float64
	for _, xy := range strings.Fields(pts) {
		_, y, _ := strings.Cut(xy, ",")
		v, err := strconv.ParseFloat(y, 64)
		if err != nil {
			t.Fatalf("point %q: %v", xy, err)
		}
		ys = append(ys, v)
	}
	return ys
}
