package view

import "math"

// Box is a rectangle [X0, X1) × [Y0, Y1) of the screen, in device pixels;
// empty where X0 ≥ X1 or Y0 ≥ Y1.
type Box struct{ X0, Y0, X1, Y1 float64 }

// Empty reports whether b covers nothing.
func (b Box) Empty() bool { return b.X0 >= b.X1 || b.Y0 >= b.Y1 }

// dist returns the distance from (x, y) to b (0 inside it).
func (b Box) dist(x, y float64) float64 {
	dx := math.Max(0, math.Max(b.X0-x, x-b.X1))
	dy := math.Max(0, math.Max(b.Y0-y, y-b.Y1))
	return math.Hypot(dx, dy)
}

// frameGrid is how many steps across the screen Frame tries centres at,
// then as many again across two steps around the best: within a 400th of
// the screen's side of the best centre.
const frameGrid = 20

// Frame returns the centre and the radius at zoom 1 of the picture on a
// screen w×h device pixels that keeps clear of the boxes of keep (the
// legend, the help line) by pad pixels: the circle or sphere at the screen's centre, radiusFrac of its
// smaller side, where that keeps clear; else the largest that does, no
// larger and as far from the screen's edges in proportion, whose centre
// is the nearest to the screen's centre. Points reach out to 1 +
// FlatJitter radii (the flat picture's band). At D = 2 on a phone (375
// CSS pixels wide) the circle filled the width and its points ran under
// the legend at the top right.
func Frame(w, h float64, keep []Box, pad float64) (cx, cy, r float64) {
	cx, cy = w/2, h/2
	best := radiusFrac * math.Min(w, h)
	if fits(w, h, keep, pad, cx, cy) >= best {
		return cx, cy, math.Max(1, best)
	}
	best = -1
	try := func(x, y float64) {
		rr := fits(w, h, keep, pad, x, y)
		if rr > best+1e-9 || (rr > best-1e-9 && math.Hypot(x-w/2, y-h/2) < math.Hypot(cx-w/2, cy-h/2)) {
			cx, cy, best = x, y, rr
		}
	}
	for i := 0; i <= frameGrid; i++ {
		for j := 0; j <= frameGrid; j++ {
			try(w*float64(i)/frameGrid, h*float64(j)/frameGrid)
		}
	}
	x0, y0 := cx, cy
	for i := -frameGrid; i <= frameGrid; i++ {
		for j := -frameGrid; j <= frameGrid; j++ {
			try(x0+w*float64(i)/frameGrid/frameGrid, y0+h*float64(j)/frameGrid/frameGrid)
		}
	}
	return cx, cy, math.Max(1, best)
}

// fits returns the radius of the largest picture centred at (x, y) that
// keeps clear of the boxes of keep by pad, no larger than radiusFrac of the screen's
// smaller side, and as far, in proportion, from the edges as the picture
// at the screen's centre is.
func fits(w, h float64, keep []Box, pad, x, y float64) float64 {
	edge := math.Min(math.Min(x, w-x), math.Min(y, h-y)) * 2 * radiusFrac
	r := math.Min(radiusFrac*math.Min(w, h), edge)
	for _, b := range keep {
		if !b.Empty() {
			r = math.Min(r, (b.dist(x, y)-pad)/(1+FlatJitter))
		}
	}
	return r
}
