package conv

import (
	"fmt"
	"slices"
	"sync"

	"metriclab/core/gemm"
	"metriclab/core/kern"
	"metriclab/core/par"
)

// Plan holds the offset tables and scratch buffers of one geometry. An op
// builds it once and reuses it at every step; the buffers grow on first use
// and are not shared. A Plan is not safe for concurrent use.
type Plan struct {
	g      Geom
	hp, wp int     // the padded input, H+2pad × W+2pad
	pixels []int32 // N·P: offset of output pixel (n,i,j)'s window in the padded batch
	taps   []int32 // Q: offset of tap (c,u,v) within a padded image

	// The zeros the products may skip (nil: none): the taps that read the
	// zero border (gemm.Band). fwd: a pixel's kernel rows and columns that
	// reach the image, for the rows of the forward product; filt: a tap's
	// output rows that do.
	fwd, filt *gemm.Band

	// The forward product's rows: pixels, or, where the border is a large
	// part of the taps, the pixels sorted by the taps that reach the image
	// from them (so that a tile's rows skip the same taps), with yruns
	// saying where they go in y.
	rows  []int32
	yruns []run

	xp, wT, yT []float32 // padded input, Q×Co filter, N·P×Co output
	xpOf       *float32  // the input whose padded copy xp holds, until the next BackwardFilter
	dyT, dwT   []float32 // N·P×Co output gradient, Q×Co filter gradient

	e, hq, wq int       // output gradient padded by a margin e: Ho+2e × Wo+2e
	classes   []class   // the input pixels, by residue class
	dyp, dxT  []float32 // padded output gradient, rows×Ci input gradient of a class

	loaded bool                      // LoadGrad's gradient is in dyp and dyT, until the next Forward
	fill   func(n int, dz []float32) // LoadGrad's, during the call

	cur operands // the slices of the call in progress, for the loops on the threads
}

// operands are the caller's slices of one call.
type operands struct {
	y, b, dy, dx []float32
	cls          *class
}

// class is the input pixels (Y, X) with one residue (Y+pad mod S,
// X+pad mod S), and the taps (o, u, v) that reach them.
type class struct {
	rows []int32    // per pixel (n, Y, X): offset of dy[n, 0, Ŷ, X̂] in the padded gradient
	dst  []int32    // per pixel: its index n·Ci·H·W + Y·W + X in dx
	taps []int32    // per tap (o, u, v): offset relative to rows (may be negative)
	tapW []int32    // per tap: index of w[o, 0, u, v]
	wk   []float32  // taps×Ci: w[o, c, u, v] packed for the product
	band *gemm.Band // the taps of each pixel whose output row and column exist (nil: all)

	sorted bool  // rows sorted by their ranges of taps, not image by image
	runs   []run // when sorted: where the rows go in dx
}

// run is rows [row, row+n) of a product, sorted, that go to n consecutive
// pixels of one image, from index dst (of channel 0) in the output.
type run struct{ row, dst, n int32 }

// runsOf returns the runs of a sorted product's rows, given each row's
// index in the output.
func runsOf(dst []int32) []run {
	var out []run
	for r, d := range dst {
		if l := len(out) - 1; l >= 0 && out[l].dst+out[l].n == d {
			out[l].n++
			continue
		}
		out = append(out, run{int32(r), d, 1})
	}
	return out
}

// scatter writes runs of src (rows of ld values, ld channels) into dst,
// whose channels are plane values apart, adding bias unless it is nil.
func scatter(dst []float32, plane int, src []float32, ld int, runs []run, bias []float32) {
	for _, r := range runs {
		kern.Transpose(dst[r.dst:], plane, src[int(r.row)*ld:], ld, int(r.n), ld, bias)
	}
}

// sortAbove is the share of a product's multiply-adds on the zero border
// above which its rows are sorted by the taps they skip. Unsorted, a tile
// of rows keeps the taps any of its rows needs, and the border pixels of
// an image row share tiles with their neighbours: with padding 2 and 5×5
// taps the forward product skipped 4 of the border's 8 % at 28×28, 7 of
// 16 % at 14×14 and 9 of 31 % at 7×7 (counted in the kernels' calls with
// throwaway code). Sorted, it skips them all, but a tile then holds
// pixels of several images, which read the input in a worse order (a
// throwaway benchmark of the forward product's rows in that order: about
// 13 % slower at 28×28, the same at 14×14 and 7×7). With one thread the
// forward and input-gradient products ran about 20 % faster sorted at
// 7×7 and no faster at 14×14 (BenchmarkPlan-like throwaway benchmarks of
// each product, alternated).
const sortAbove = 0.2

// bands reports whether plans make bands: the Go kernel (wasm) ignores
// them, and sorted rows would only cost it their order.
var bands = gemm.Kernel() != "go"

// bandAbove is the share of a product's multiply-adds on the zero border
// below which it has no band: unsorted tiles skip a third to a half of
// the border, a few per cent of the taps there, which is about what the
// band's copies and look-ups cost. IResNet-18's 3×3 convolutions with padding 1
// have 2 to 9 % of their taps on the border at 56×56 to 14×14, and 18 %
// at 7×7.
const bandAbove = 0.1

// borderShare returns the share of the multiply-adds of rows 0..n−1 that
// fall outside their boxes of ranges (lo, hi, lo2, hi2), full taps each:
// 1 − Σ box areas / (n·full).
func borderShare(n int, full int32, box func(r int) [4]int32) float64 {
	area := 0
	for r := 0; r < n; r++ {
		b := box(r)
		area += int((b[1] - b[0]) * (b[3] - b[2]))
	}
	return 1 - float64(area)/(float64(n)*float64(full))
}

// sortRows returns the order of rows 0..n−1 by their box of ranges,
// stable.
func sortRows(n int, box func(r int) [4]int32) []int {
	perm := make([]int, n)
	for r := range perm {
		perm[r] = r
	}
	slices.SortStableFunc(perm, func(i, j int) int {
		a, b := box(i), box(j)
		return slices.Compare(a[:], b[:])
	})
	return perm
}

// permute returns s reordered: s[perm[0]], s[perm[1]], ….
func permute(s []int32, perm []int) []int32 {
	out := make([]int32, len(perm))
	for i, k := range perm {
		out[i] = s[k]
	}
	return out
}

// NewPlan returns the plan of g.
func NewPlan(g Geom) (*Plan, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	p := &Plan{g: g, hp: g.H + 2*g.Pad, wp: g.W + 2*g.Pad}
	ho, wo, s := g.Ho(), g.Wo(), g.Stride
	img := p.hp * p.wp * g.Ci
	p.pixels = make([]int32, 0, g.N*g.P())
	for n := 0; n < g.N; n++ {
		for i := 0; i < ho; i++ {
			for j := 0; j < wo; j++ {
				p.pixels = append(p.pixels, int32(n*img+s*i*p.wp+s*j))
			}
		}
	}
	p.taps = make([]int32, 0, g.Q())
	for c := 0; c < g.Ci; c++ {
		for u := 0; u < g.K; u++ {
			for v := 0; v < g.K; v++ {
				p.taps = append(p.taps, int32(c*p.hp*p.wp+u*p.wp+v))
			}
		}
	}
	if err := p.buildClasses(); err != nil {
		return nil, err
	}
	p.buildBands()
	return p, nil
}

// buildBands makes the bands of the forward and filter products, and the
// forward product's rows.
func (p *Plan) buildBands() {
	g := p.g
	ho, wo := g.Ho(), g.Wo()
	// Output row i and kernel row u reach the image's rows when Pad ≤
	// S·i + u < Pad + H; columns likewise.
	inRows := func(i, u int) bool { return g.Pad <= g.Stride*i+u && g.Stride*i+u < g.Pad+g.H }
	inCols := func(j, v int) bool { return g.Pad <= g.Stride*j+v && g.Stride*j+v < g.Pad+g.W }
	rowsOf := func(i int) (int32, int32) { return firstLast(g.K, func(u int) bool { return inRows(i, u) }) }
	colsOf := func(j int) (int32, int32) { return firstLast(g.K, func(v int) bool { return inCols(j, v) }) }
	outOf := func(u int) (int32, int32) { return firstLast(ho, func(i int) bool { return inRows(i, u) }) }
	box := func(r int) [4]int32 { // pixel (n, i, j)
		lo, hi := rowsOf(r / wo % ho)
		lo2, hi2 := colsOf(r % wo)
		return [4]int32{lo, hi, lo2, hi2}
	}
	p.rows = p.pixels
	share := borderShare(g.P(), int32(g.K*g.K), box) // every image alike
	if !bands || share < bandAbove {
		return
	}
	np := g.N * g.P()
	p.fwd = &gemm.Band{Key: make([]int32, g.Q()), Lo: make([]int32, np), Hi: make([]int32, np),
		Key2: make([]int32, g.Q()), Lo2: make([]int32, np), Hi2: make([]int32, np)}
	p.filt = &gemm.Band{Key: make([]int32, np), Lo: make([]int32, g.Q()), Hi: make([]int32, g.Q())}
	for t := range p.fwd.Key { // tap (c, u, v)
		u := t / g.K % g.K
		p.fwd.Key[t], p.fwd.Key2[t] = int32(u), int32(t%g.K)
		p.filt.Lo[t], p.filt.Hi[t] = outOf(u)
	}
	for r := 0; r < np; r++ {
		p.filt.Key[r] = int32(r / wo % ho)
	}
	var perm []int
	if share >= sortAbove {
		perm = sortRows(np, box)
		p.rows = permute(p.pixels, perm)
		ydst := make([]int32, np)
		for k, r := range perm {
			n, q := r/g.P(), r%g.P()
			ydst[k] = int32(n*g.Co*g.P() + q)
		}
		p.yruns = runsOf(ydst)
	}
	for k := 0; k < np; k++ {
		r := k
		if perm != nil {
			r = perm[k]
		}
		b := box(r)
		p.fwd.Lo[k], p.fwd.Hi[k], p.fwd.Lo2[k], p.fwd.Hi2[k] = b[0], b[1], b[2], b[3]
	}
}

// firstLast returns [lo, hi): the first and one past the last k < n for
// which in(k) holds (in holds on a range), lo = hi when none does.
func firstLast(n int, in func(k int) bool) (lo, hi int32) {
	lo, hi = int32(n), 0
	for k := 0; k < n; k++ {
		if in(k) {
			lo, hi = min(lo, int32(k)), int32(k+1)
		}
	}
	return lo, max(lo, hi)
}

// Geom returns the plan's geometry.
func (p *Plan) Geom() Geom { return p.g }

// buildClasses makes the tables of the input gradient. An input pixel Y
// with Y+pad = S·Ŷ + ρ receives from the kernel rows u = ρ + S·α, α ≥ 0,
// through output row i = Ŷ − α; the gradient is read from dy padded by a
// margin e wide enough for every i the formula names, so out-of-range rows
// read zeros.
func (p *Plan) buildClasses() error {
	g := p.g
	s, ho, wo := g.Stride, g.Ho(), g.Wo()
	p.e = max((g.K-1)/s, (g.H-1+g.Pad)/s-ho+1, (g.W-1+g.Pad)/s-wo+1, 0)
	p.hq, p.wq = ho+2*p.e, wo+2*p.e
	plane := p.hq * p.wq
	if int64(g.N)*int64(g.Co)*int64(plane) > 1<<31-1 {
		return fmt.Errorf("conv: %+v is too large for 32-bit offsets", g)
	}
	for ry := 0; ry < s; ry++ {
		for rx := 0; rx < s; rx++ {
			var c class
			na := (g.K - ry + s - 1) / s // kernel rows ry + s·a < K
			nb := (g.K - rx + s - 1) / s // kernel columns rx + s·b < K
			band := &gemm.Band{}
			for n := 0; n < g.N; n++ {
				for y := 0; y < g.H; y++ {
					if (y+g.Pad)%s != ry {
						continue
					}
					// Tap (o, a, b) reads output row Ŷ − a, which exists
					// when 0 ≤ Ŷ − a < Ho: the band's keys are a (and b).
					yh := (y + g.Pad - ry) / s
					lo, hi := firstLast(na, func(a int) bool { return 0 <= yh-a && yh-a < ho })
					for x := 0; x < g.W; x++ {
						if (x+g.Pad)%s != rx {
							continue
						}
						xh := (x + g.Pad - rx) / s
						lo2, hi2 := firstLast(nb, func(b int) bool { return 0 <= xh-b && xh-b < wo })
						c.rows = append(c.rows, int32(n*g.Co*plane+(yh+p.e)*p.wq+xh+p.e))
						c.dst = append(c.dst, int32((n*g.Ci*g.H+y)*g.W+x))
						band.Lo, band.Hi = append(band.Lo, lo), append(band.Hi, hi)
						band.Lo2, band.Hi2 = append(band.Lo2, lo2), append(band.Hi2, hi2)
					}
				}
			}
			// The taps go up in memory within a channel (a and b
			// count down): the kernels broadcast each row's value of a
			// step from the image, and read in the other direction the
			// same product ran 10–14 % slower (LeNet++'s 28×28 and 14×14
			// input gradients, one thread, alternated six times).
			for o := 0; o < g.Co; o++ {
				for a := na - 1; a >= 0; a-- {
					for b := nb - 1; b >= 0; b-- {
						c.taps = append(c.taps, int32(o*plane-a*p.wq-b))
						c.tapW = append(c.tapW, int32(o*g.Ci*g.K*g.K+(ry+s*a)*g.K+rx+s*b))
						band.Key, band.Key2 = append(band.Key, int32(a)), append(band.Key2, int32(b))
					}
				}
			}
			box := func(r int) [4]int32 { return [4]int32{band.Lo[r], band.Hi[r], band.Lo2[r], band.Hi2[r]} }
			if share := borderShare(len(c.rows), int32(na*nb), box); bands && share >= bandAbove {
				c.band = band
				if share >= sortAbove {
					perm := sortRows(len(c.rows), box)
					c.rows, c.dst, c.sorted = permute(c.rows, perm), permute(c.dst, perm), true
					c.runs = runsOf(c.dst)
					band.Lo, band.Hi, band.Lo2, band.Hi2 = permute(band.Lo, perm), permute(band.Hi, perm), permute(band.Lo2, perm), permute(band.Hi2, perm)
				}
			}
			if len(c.rows) > 0 {
				c.wk = make([]float32, len(c.taps)*g.Ci)
				p.classes = append(p.classes, c)
			}
		}
	}
	return nil
}

// Forward writes y = conv(x, w) + b; b may be nil (no bias).
func (p *Plan) Forward(pool *par.Pool, y, x, w, b []float32) {
	g := p.g
	p.checkLen("Forward", len(y), g.OutSize(), len(x), g.InSize(), len(w), g.FilterSize())
	if b != nil && len(b) != g.Co {
		panic(fmt.Sprintf("conv: Forward bias has %d values, want %d", len(b), g.Co))
	}
	xin := p.padded(pool, x)
	p.xpOf = &x[0] // saved for BackwardFilter: the padded input
	p.loaded = false
	p.wT = grow(p.wT, g.Q()*g.Co)
	kern.Transpose(p.wT, g.Co, w, g.Q(), g.Co, g.Q(), nil)
	np := g.N * g.P()
	p.yT = grow(p.yT, np*g.Co)
	gemm.Mul(pool, false, np, g.Co, g.Q(), gemm.A{Data: xin, Off: p.taps, Row: p.rows, Band: p.fwd}, gemm.B{Data: p.wT, Ld: g.Co}, gemm.C{Data: p.yT, Ld: g.Co})
	p.cur = operands{y: y, b: b}
	if p.yruns != nil {
		par.For(pool, len(p.yruns), 16, p, (*Plan).scatterY)
	} else {
		par.For(pool, g.N, 1, p, (*Plan).unpackY)
	}
	p.cur = operands{}
}

// unpackY writes images [lo, hi) of y from the pixel-major yT, adding the
// bias.
func (p *Plan) unpackY(lo, hi int) {
	g, pl := p.g, p.g.P()
	for n := lo; n < hi; n++ {
		kern.Transpose(p.cur.y[n*g.Co*pl:], pl, p.yT[n*pl*g.Co:], g.Co, pl, g.Co, p.cur.b)
	}
}

// scatterY writes the runs [lo, hi) of yT, pixels in sorted order, into
// y, adding the bias.
func (p *Plan) scatterY(lo, hi int) {
	scatter(p.cur.y, p.g.P(), p.yT, p.g.Co, p.yruns[lo:hi], p.cur.b)
}

// LoadGrad takes the output gradient of the next BackwardData and
// BackwardFilter calls, which then pass dy = nil, image by image: fill(n,
// dz) writes image n's gradient (Co×Ho×Wo) into dz, and the plan copies it
// at once into the two forms the products read (padded for the input
// gradient, pixel-major for the filter gradient) while it is in the
// cache, instead of reading the whole batch's gradient once for each.
// Images are filled concurrently on pool's threads, each once. The
// gradient lasts until the next Forward, or the next backward call that
// passes its own dy.
func (p *Plan) LoadGrad(pool *par.Pool, fill func(n int, dz []float32)) {
	g := p.g
	p.dyp = padBuf(p.dyp, g.N*g.Co*p.hq*p.wq)
	p.dyT = grow(p.dyT, g.N*g.P()*g.Co)
	p.fill = fill
	par.For(pool, g.N, 1, p, (*Plan).loadImages)
	p.fill, p.loaded = nil, true
}

// dzPool holds LoadGrad's scratch images.
var dzPool = sync.Pool{New: func() any { return new([]float32) }}

// loadImages fills images [lo, hi) of LoadGrad's gradient.
func (p *Plan) loadImages(lo, hi int) {
	g, pl := p.g, p.g.P()
	ho, wo, plane := g.Ho(), g.Wo(), p.hq*p.wq
	buf := dzPool.Get().(*[]float32)
	defer dzPool.Put(buf)
	dz := grow(*buf, g.Co*pl)
	*buf = dz
	for n := lo; n < hi; n++ {
		p.fill(n, dz)
		for c := 0; c < g.Co; c++ {
			nc := n*g.Co + c
			padTo(p.dyp[nc*plane:(nc+1)*plane], p.wq, dz[c*pl:(c+1)*pl], ho, wo, p.e)
		}
		kern.Transpose(p.dyT[n*pl*g.Co:], g.Co, dz, pl, g.Co, pl, nil)
	}
}

// needGrad panics unless dy is an output gradient of the plan's size, or
// nil after LoadGrad. A call with its own dy overwrites one of LoadGrad's
// two copies, so it ends LoadGrad's gradient.
func (p *Plan) needGrad(op string, dy []float32) {
	switch {
	case dy == nil && !p.loaded:
		panic(fmt.Sprintf("conv: %s without an output gradient or LoadGrad since Forward", op))
	case dy != nil && len(dy) != p.g.OutSize():
		panic(fmt.Sprintf("conv: %s of %+v: output gradient of %d values, want %d", op, p.g, len(dy), p.g.OutSize()))
	}
	if dy != nil {
		p.loaded = false
	}
}

// BackwardFilter writes dw and, unless db is nil, db: the filter and bias
// gradients of the output gradient dy at input x (dy nil: LoadGrad's, and
// db must be nil). When the plan's last call was Forward on the same x
// (the same backing array, unchanged since), it reads the padded copy
// Forward made instead of padding x again.
func (p *Plan) BackwardFilter(pool *par.Pool, dw, db, x, dy []float32) {
	g := p.g
	p.needGrad("BackwardFilter", dy)
	p.checkLen("BackwardFilter", len(x), g.InSize(), len(dw), g.FilterSize())
	if db != nil && (len(db) != g.Co || dy == nil) {
		panic(fmt.Sprintf("conv: BackwardFilter bias gradient of %d values, want %d and an output gradient", len(db), g.Co))
	}
	xin := p.xp
	if g.Pad == 0 {
		xin = x
	} else if p.xpOf != &x[0] {
		xin = p.padded(pool, x)
	}
	p.xpOf = nil
	pl, np := g.P(), g.N*g.P()
	if dy != nil {
		p.dyT = grow(p.dyT, np*g.Co)
		p.cur = operands{dy: dy}
		par.For(pool, g.N, 1, p, (*Plan).packDy)
		p.cur = operands{}
	}
	p.dwT = grow(p.dwT, g.Q()*g.Co)
	gemm.Mul(pool, false, g.Q(), g.Co, np, gemm.A{Data: xin, Off: p.pixels, Row: p.taps, Band: p.filt}, gemm.B{Data: p.dyT, Ld: g.Co}, gemm.C{Data: p.dwT, Ld: g.Co})
	kern.Transpose(dw, g.Q(), p.dwT, g.Co, g.Q(), g.Co, nil)
	if db != nil {
		par.For(pool, g.Co, 1, biasGrad{db, dy, g.N, g.Co, pl}, biasGrad.sum)
	}
}

// packDy writes images [lo, hi) of the pixel-major dyT.
func (p *Plan) packDy(lo, hi int) {
	g, pl := p.g, p.g.P()
	for n := lo; n < hi; n++ {
		kern.Transpose(p.dyT[n*pl*g.Co:], g.Co, p.cur.dy[n*g.Co*pl:], pl, g.Co, pl, nil)
	}
}

// BackwardData writes dx, the input gradient of the output gradient dy
// (nil: LoadGrad's).
func (p *Plan) BackwardData(pool *par.Pool, dx, dy, w []float32) {
	g := p.g
	p.needGrad("BackwardData", dy)
	p.checkLen("BackwardData", len(dx), g.InSize(), len(w), g.FilterSize())
	p.cur = operands{dy: dy, dx: dx}
	if dy != nil {
		p.dyp = padBuf(p.dyp, g.N*g.Co*p.hq*p.wq)
		par.For(pool, g.N*g.Co, 1, p, (*Plan).padDy)
	}
	if len(p.classes) < g.Stride*g.Stride || g.K < g.Stride {
		clear(dx) // some input pixels receive from no tap
	}
	for ci := range p.classes {
		c := &p.classes[ci]
		if len(c.taps) == 0 {
			continue
		}
		for t, iw := range c.tapW {
			for ch := 0; ch < g.Ci; ch++ {
				c.wk[t*g.Ci+ch] = w[int(iw)+ch*g.K*g.K]
			}
		}
		m := len(c.rows)
		p.dxT = grow(p.dxT, m*g.Ci)
		gemm.Mul(pool, false, m, g.Ci, len(c.taps), gemm.A{Data: p.dyp, Off: c.taps, Row: c.rows, Band: c.band}, gemm.B{Data: c.wk, Ld: g.Ci}, gemm.C{Data: p.dxT, Ld: g.Ci})
		p.cur.cls = c
		switch {
		case c.sorted:
			par.For(pool, len(c.runs), 16, p, (*Plan).scatterDxRuns)
		case g.Stride == 1: // one class: every pixel in order, image by image
			par.For(pool, g.N, 1, p, (*Plan).unpackDx)
		default:
			par.For(pool, m, 256, p, (*Plan).scatterDx)
		}
	}
	p.cur = operands{}
}

// padDy copies planes [lo, hi) of dy into the margin-padded dyp.
func (p *Plan) padDy(lo, hi int) {
	ho, wo, plane := p.g.Ho(), p.g.Wo(), p.hq*p.wq
	for nc := lo; nc < hi; nc++ {
		padTo(p.dyp[nc*plane:(nc+1)*plane], p.wq, p.cur.dy[nc*ho*wo:(nc+1)*ho*wo], ho, wo, p.e)
	}
}

// unpackDx writes images [lo, hi) of dx from the pixel-major dxT of the
// only class (stride 1).
func (p *Plan) unpackDx(lo, hi int) {
	g, hw := p.g, p.g.H*p.g.W
	for n := lo; n < hi; n++ {
		kern.Transpose(p.cur.dx[n*g.Ci*hw:], hw, p.dxT[n*hw*g.Ci:], g.Ci, hw, g.Ci, nil)
	}
}

// scatterDxRuns writes the runs [lo, hi) of the current class's dxT, its
// rows sorted, into dx.
func (p *Plan) scatterDxRuns(lo, hi int) {
	scatter(p.cur.dx, p.g.H*p.g.W, p.dxT, p.g.Ci, p.cur.cls.runs[lo:hi], nil)
}

// scatterDx writes rows [lo, hi) of the current class's dxT into dx.
func (p *Plan) scatterDx(lo, hi int) {
	ci, hw, c := p.g.Ci, p.g.H*p.g.W, p.cur.cls
	for r := lo; r < hi; r++ {
		src, d := p.dxT[r*ci:(r+1)*ci], int(c.dst[r])
		for ch, v := range src {
			p.cur.dx[d+ch*hw] = v
		}
	}
}

// Padded returns the input batch x as the offset tables address it: x
// itself without padding, or its copy into the plan's zero-bordered
// scratch (N×Ci×(H+2pad)×(W+2pad)), valid until the plan's next call.
func (p *Plan) Padded(pool *par.Pool, x []float32) []float32 { return p.padded(pool, x) }

// Pixels returns, for output pixel (n, i, j) at index n·P + i·Wo + j, the
// offset in the padded batch of its window's first tap; Taps returns, for
// tap (c, u, v) at index (c·K + u)·K + v, its offset from there. Pixel
// (n,i,j) reads tap (c,u,v) at Padded(x)[Pixels()[…] + Taps()[…]]. The
// slices are the plan's: do not modify them. Taps are ascending.
func (p *Plan) Pixels() []int32 { return p.pixels }
func (p *Plan) Taps() []int32   { return p.taps }

// padded returns x as the tables address it: x itself without padding, or
// its copy into the zero-bordered scratch.
func (p *Plan) padded(pool *par.Pool, x []float32) []float32 {
	g := p.g
	if g.Pad == 0 {
		return x
	}
	p.xp = padBuf(p.xp, g.N*g.Ci*p.hp*p.wp)
	par.For(pool, g.N*g.Ci, 1, padX{p, x}, padX.planes)
	return p.xp
}

// padX copies x into the plan's zero-bordered scratch.
type padX struct {
	p *Plan
	x []float32
}

// planes copies planes [lo, hi).
func (a padX) planes(lo, hi int) {
	g, plane := a.p.g, a.p.hp*a.p.wp
	for nc := lo; nc < hi; nc++ {
		padTo(a.p.xp[nc*plane:(nc+1)*plane], a.p.wp, a.x[nc*g.H*g.W:(nc+1)*g.H*g.W], g.H, g.W, g.Pad)
	}
}

// padTo copies the h×w plane src into the interior of dst, a plane of row
// length ld = w+2e whose border of e rows and columns is zero already (a
// padBuf's). Clearing the border again at every call took two calls per
// row beside the row's copy (memclr, 1 % of a LeNet++ step's profile).
func padTo(dst []float32, ld int, src []float32, h, w, e int) {
	for r := 0; r < h; r++ {
		copy(dst[(r+e)*ld+e:(r+e)*ld+e+w], src[r*w:(r+1)*w])
	}
}

// padBuf returns s if it holds n values, else a new zeroed buffer of n: a
// plan's padded copies keep their size, so each is made once and its zero
// border is never written after (padTo writes interiors only).
func padBuf(s []float32, n int) []float32 {
	if len(s) != n {
		return make([]float32, n)
	}
	return s
}

// checkLen panics unless each pair (length, wanted length) of lens agrees.
func (p *Plan) checkLen(op string, lens ...int) {
	for i := 0; i < len(lens); i += 2 {
		if lens[i] != lens[i+1] {
			panic(fmt.Sprintf("conv: %s of %+v: operand %d has %d values, want %d", op, p.g, i/2+1, lens[i], lens[i+1]))
		}
	}
}

// grow returns s with length n, reallocating only when its capacity is short.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// biasGrad is db[o] = Σ_{n,k} dy[n,o,k] for an N×Co×P gradient.
type biasGrad struct {
	db, dy    []float32
	n, co, pl int
}

// sum writes channels [lo, hi), summed in float64 in the order n, k.
func (a biasGrad) sum(lo, hi int) {
	for o := lo; o < hi; o++ {
		var s float64
		for i := 0; i < a.n; i++ {
			s += kern.Sum(a.dy[(i*a.co+o)*a.pl : (i*a.co+o+1)*a.pl])
		}
		a.db[o] = float32(s)
	}
}
