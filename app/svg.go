package app

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Box is the plotting area of a chart in SVG user units: x grows to the
// right, y downwards.
type Box struct{ X, Y, W, H float64 }

// Range is a closed interval of data values.
type Range struct{ Lo, Hi float64 }

// dataRange returns the range of the values of pts along y (x if alongX),
// widened to a nonzero width so that a flat line sits in the middle.
func dataRange(pts []Point, alongX bool) Range {
	r := Range{math.Inf(1), math.Inf(-1)}
	for _, p := range pts {
		v := p.Y
		if alongX {
			v = p.X
		}
		r.Lo, r.Hi = min(r.Lo, v), max(r.Hi, v)
	}
	if len(pts) == 0 {
		return Range{0, 1}
	}
	if r.Hi-r.Lo < 1e-12 {
		pad := max(math.Abs(r.Lo)*0.05, 0.5)
		r.Lo, r.Hi = r.Lo-pad, r.Hi+pad
	}
	return r
}

// curveRange returns the y range of the curve pts as a chart draws it:
// that of its points, but when its first steps rise far above the rest
// (a training loss: the first losses are many times the later ones, and
// after a few hundred steps a range of all the points drew the curve as
// a flat line at the bottom), the range of the points after its first
// tenth of steps, and the largest value left above it, clipped (true
// when some is). Only points of the first tenth may be clipped: a later
// rise (a run that diverges) stays on the chart whatever its height. The
// first tenth is clipped when it would squash the rest into less than
// half the chart's height; a curve of fewer than clipMinPoints points is
// drawn whole. A log axis was not taken: a loss may reach 0 (a triplet
// loss whose margins are met), and a class reads a linear axis.
func curveRange(pts []Point) (r Range, clipped float64, ok bool) {
	all := dataRange(pts, false)
	if len(pts) < clipMinPoints {
		return all, 0, false
	}
	xr := dataRange(pts, true)
	early := xr.Lo + (xr.Hi-xr.Lo)/10
	hi := math.Inf(-1)
	for _, p := range pts {
		if p.X >= early {
			hi = max(hi, p.Y)
		}
	}
	if !(all.Hi-all.Lo > 2*(hi-all.Lo)) {
		return all, 0, false
	}
	r = Range{all.Lo, hi}
	if r.Hi-r.Lo < 1e-12 {
		r.Hi = r.Lo + max(math.Abs(r.Lo)*0.05, 0.5)
	}
	return r, all.Hi, true
}

// clipMinPoints is the fewest points of a curve whose first steps
// curveRange clips: a curve of a few points is drawn whole.
const clipMinPoints = 10

// PolylinePoints returns the points attribute of an SVG polyline that draws
// pts in box, x mapped from xr and y from yr (y upwards: yr.Hi at the top),
// values outside the ranges clamped to the box. Coordinates are written
// with two decimals.
func PolylinePoints(pts []Point, box Box, xr, yr Range) string {
	var b strings.Builder
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		x := box.X + box.W*clamp01((p.X-xr.Lo)/(xr.Hi-xr.Lo))
		y := box.Y + box.H*(1-clamp01((p.Y-yr.Lo)/(yr.Hi-yr.Lo)))
		b.WriteString(coord(x))
		b.WriteByte(',')
		b.WriteString(coord(y))
	}
	return b.String()
}

// HistogramPath returns the d attribute of an SVG path that outlines the
// histogram counts in box as a step curve of densities (each count over the
// total, so two histograms of different sizes compare), with the bar of
// density top at the top of the box. It starts and ends on the baseline.
func HistogramPath(counts []int, box Box, top float64) string {
	if len(counts) == 0 || top <= 0 {
		return ""
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	base := box.Y + box.H
	var b strings.Builder
	fmt.Fprintf(&b, "M%s,%s", coord(box.X), coord(base))
	w := box.W / float64(len(counts))
	for i, c := range counts {
		d := 0.0
		if total > 0 {
			d = float64(c) / float64(total)
		}
		y := base - box.H*clamp01(d/top)
		fmt.Fprintf(&b, "V%sH%s", coord(y), coord(box.X+w*float64(i+1)))
	}
	fmt.Fprintf(&b, "V%sZ", coord(base))
	return b.String()
}

// maxDensity returns the largest count over total of each histogram.
func maxDensity(hists ...[]int) float64 {
	top := 0.0
	for _, h := range hists {
		total, peak := 0, 0
		for _, c := range h {
			total += c
			peak = max(peak, c)
		}
		if total > 0 {
			top = max(top, float64(peak)/float64(total))
		}
	}
	return top
}

// ThresholdX returns the x of the verification threshold, a cosine
// similarity t, on an angle axis of [0°, 180°] across box: θ = acos t.
func ThresholdX(t float64, box Box) float64 {
	theta := math.Acos(max(-1, min(1, t)))
	return box.X + box.W*theta/math.Pi
}

// LineChartSVG returns an SVG drawing of the curve pts with its axes'
// extreme values, or a placeholder saying so when there is nothing yet. A
// fixed y range (accuracy in [0, 1]) is used when yr is non-nil; otherwise
// the range of the data, its first steps clipped when they rise far above
// the rest (curveRange), which a line at the top of the chart marks,
// "first steps up to 23.1".
func LineChartSVG(title string, pts []Point, yr *Range, cssClass string) string {
	const w, h = 320, 140
	box := Box{X: 44, Y: 22, W: w - 56, H: h - 44}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart %s" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="%s">`, html.EscapeString(cssClass), w, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<text class="chart-title" x="%d" y="14">%s</text>`, 8, html.EscapeString(title))
	fmt.Fprintf(&b, `<rect class="chart-frame" x="%s" y="%s" width="%s" height="%s"/>`, coord(box.X), coord(box.Y), coord(box.W), coord(box.H))
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text class="chart-empty" x="%s" y="%s" text-anchor="middle">no data yet</text></svg>`, coord(box.X+box.W/2), coord(box.Y+box.H/2))
		return b.String()
	}
	xr := dataRange(pts, true)
	var ry Range
	var peak float64
	clipped := false
	if yr != nil {
		ry = *yr
	} else {
		ry, peak, clipped = curveRange(pts)
	}
	fmt.Fprintf(&b, `<text class="chart-tick" x="%s" y="%s" text-anchor="end">%s</text>`, coord(box.X-4), coord(box.Y+8), tick(ry.Hi))
	fmt.Fprintf(&b, `<text class="chart-tick" x="%s" y="%s" text-anchor="end">%s</text>`, coord(box.X-4), coord(box.Y+box.H), tick(ry.Lo))
	fmt.Fprintf(&b, `<text class="chart-tick" x="%s" y="%s">step %s</text>`, coord(box.X), coord(box.Y+box.H+14), tick(xr.Lo))
	fmt.Fprintf(&b, `<text class="chart-tick" x="%s" y="%s" text-anchor="end">%s</text>`, coord(box.X+box.W), coord(box.Y+box.H+14), tick(xr.Hi))
	if clipped {
		fmt.Fprintf(&b, `<line class="chart-clip" x1="%s" y1="%s" x2="%s" y2="%s"/>`, coord(box.X), coord(box.Y), coord(box.X+box.W), coord(box.Y))
		fmt.Fprintf(&b, `<text class="chart-clipped" x="%s" y="%s" text-anchor="end">first steps up to %s</text>`, coord(box.X+box.W), coord(box.Y-4), tick(peak))
	}
	fmt.Fprintf(&b, `<polyline class="chart-line" fill="none" points="%s"/></svg>`, PolylinePoints(pts, box, xr, ry))
	return b.String()
}

// Threshold is a verification threshold, a cosine similarity, where Set
// says there is one: none before a run's first verification (a threshold
// of exactly 0, cos 90°, is one like any other).
type Threshold struct {
	Cos float64
	Set bool
}

// HistogramSVG returns an SVG drawing of the genuine and impostor angle
// histograms over [0°, 180°] with the threshold, when it is set, as a
// vertical line, or a placeholder when there is no snapshot yet.
func HistogramSVG(genuine, impostor []int, threshold Threshold, ok bool) string {
	const w, h = 320, 140
	box := Box{X: 12, Y: 22, W: w - 24, H: h - 44}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart histogram" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="angles of genuine and impostor pairs">`, w, h)
	b.WriteString(`<text class="chart-title" x="8" y="14">pair angles: <tspan class="genuine">genuine</tspan> · <tspan class="impostor">impostor</tspan></text>`)
	fmt.Fprintf(&b, `<rect class="chart-frame" x="%s" y="%s" width="%s" height="%s"/>`, coord(box.X), coord(box.Y), coord(box.W), coord(box.H))
	if !ok {
		fmt.Fprintf(&b, `<text class="chart-empty" x="%s" y="%s" text-anchor="middle">no snapshot yet</text></svg>`, coord(box.X+box.W/2), coord(box.Y+box.H/2))
		return b.String()
	}
	top := maxDensity(genuine, impostor)
	if top > 0 {
		fmt.Fprintf(&b, `<path class="hist-impostor" d="%s"/>`, HistogramPath(impostor, box, top))
		fmt.Fprintf(&b, `<path class="hist-genuine" d="%s"/>`, HistogramPath(genuine, box, top))
	}
	if threshold.Set {
		x := ThresholdX(threshold.Cos, box)
		deg := math.Acos(max(-1, min(1, threshold.Cos))) * 180 / math.Pi
		fmt.Fprintf(&b, `<line class="threshold" x1="%s" y1="%s" x2="%s" y2="%s"/>`, coord(x), coord(box.Y), coord(x), coord(box.Y+box.H))
		fmt.Fprintf(&b, `<text class="chart-tick" x="%s" y="%s" text-anchor="middle">threshold %.0f°</text>`, coord(x), coord(box.Y+box.H+14), deg)
	}
	fmt.Fprintf(&b, `<text class="chart-tick" x="%s" y="%s">0°</text>`, coord(box.X), coord(box.Y+box.H+14))
	fmt.Fprintf(&b, `<text class="chart-tick" x="%s" y="%s" text-anchor="end">180°</text></svg>`, coord(box.X+box.W), coord(box.Y+box.H+14))
	return b.String()
}

// coord writes an SVG coordinate with two decimals, without trailing zeros.
func coord(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// tick writes an axis value with three significant digits, in at most
// six characters where it can: the charts leave 40 px of margin for the
// y axis's values, and a loss near 0.0002 written "0.000223" did not fit
// there. A whole number of up to six digits, a step, is written whole
// ("1095", not "1.1e+03"); a longer value with two digits and a short
// exponent, "2.2e-4".
func tick(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e6 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	if s := strconv.FormatFloat(v, 'g', 3, 64); len(s) <= 6 {
		return s
	}
	mant, exp, _ := strings.Cut(strconv.FormatFloat(v, 'e', 1, 64), "e")
	sign, digits := strings.TrimPrefix(exp[:1], "+"), strings.TrimLeft(exp[1:], "0")
	return mant + "e" + sign + digits
}

// clamp01 clamps v to [0, 1]; NaN gives 0.
func clamp01(v float64) float64 {
	if !(v > 0) {
		return 0
	}
	return min(v, 1)
}
