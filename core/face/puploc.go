package face

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"slices"
)

// puploc is pigo's pupil localiser (Markuš et al. 2014: a cascade of
// regression trees on pixel comparisons, run from perturbed windows and
// the median taken) with its random perturbations drawn from a source of
// its own: pigo's RunDetector draws them from math/rand's global source,
// which Go seeds afresh in every process, so the same frame gave other
// pupils, and other aligned crops, in every run. Here every call draws the
// same pupilSeed sequence, so a frame's pupils are the same in every run,
// natively and in the browser. With the global source seeded with
// pupilSeed, RunDetector gives the same pupils bit for bit (the test holds
// the port to it).
type puploc struct {
	stages, trees, depth int     // depth: comparisons from a tree's root to its leaf
	scale                float32 // the window's scale multiplier after each stage
	codes                []int8  // per tree, 2^depth − 1 nodes of 4 offsets: row 1, col 1, row 2, col 2 (1/256 of the window)
	preds                []float32
}

// pupilSeed seeds every puploc call's perturbations.
const pupilSeed = 1

// newPuploc unpacks a puploc cascade in pigo's format: stages, the scale
// multiplier, trees per stage and tree depth (little-endian uint32 and
// float32), then for each tree its nodes' codes and its leaves' (row,
// column) offsets as float32 pairs.
func newPuploc(b []byte) (*puploc, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("%d bytes, fewer than the 16 of the header", len(b))
	}
	le := binary.LittleEndian
	stages, trees, depth := le.Uint32(b), le.Uint32(b[8:]), le.Uint32(b[12:])
	p := &puploc{stages: int(stages), trees: int(trees), depth: int(depth), scale: math.Float32frombits(le.Uint32(b[4:]))}
	if stages > 1<<10 || trees > 1<<10 || depth < 1 || depth > 16 {
		return nil, fmt.Errorf("%d stages of %d trees of depth %d", stages, trees, depth)
	}
	leaves := 1 << depth
	perTree := 4*(leaves-1) + 8*leaves
	if n := p.stages * p.trees * perTree; len(b)-16 < n {
		return nil, fmt.Errorf("%d bytes of trees, want %d", len(b)-16, n)
	}
	pos := 16
	for range p.stages * p.trees {
		for _, c := range b[pos : pos+4*(leaves-1)] {
			p.codes = append(p.codes, int8(c))
		}
		pos += 4 * (leaves - 1)
		for range 2 * leaves {
			p.preds = append(p.preds, math.Float32frombits(le.Uint32(b[pos:])))
			pos += 4
		}
	}
	return p, nil
}

// locate runs the cascade from the window of centre (r, c) and size s in
// the grey rows×cols image pix (row stride dim) and returns the window it
// ends at: each stage's trees compare pairs of pixels at offsets scaled by
// s, and the leaves' offsets, summed, move the window by that many s; s
// then shrinks by the cascade's scale. Coordinates are truncated to
// integers where pigo's classifyRegion truncates them.
func (p *puploc) locate(r, c, s float32, pix []uint8, rows, cols, dim int) (float32, float32, float32) {
	leaves := 1 << p.depth
	root := 0
	for i := range p.stages {
		var dr, dc float32
		for j := range p.trees {
			si := int(math.Round(float64(s)))
			idx := 0
			for range p.depth {
				code := p.codes[root+4*idx : root+4*idx+4]
				r1 := min(rows-1, max(0, (256*int(r)+int(code[0])*si)>>8))
				c1 := min(cols-1, max(0, (256*int(c)+int(code[1])*si)>>8))
				r2 := min(rows-1, max(0, (256*int(r)+int(code[2])*si)>>8))
				c2 := min(cols-1, max(0, (256*int(c)+int(code[3])*si)>>8))
				idx = 2*idx + 1
				if pix[r1*dim+c1] > pix[r2*dim+c2] {
					idx++
				}
			}
			lut := 2 * (p.trees*leaves*i + leaves*j + idx - (leaves - 1))
			dr += p.preds[lut]
			dc += p.preds[lut+1]
			root += 4 * (leaves - 1)
		}
		r += dr * s
		c += dc * s
		s *= p.scale
	}
	return r, c, s
}

// run locates a pupil from the window of centre (row, col) and size s:
// locate from n windows moved by up to ±7.5% of s and scaled by 0.925 to
// 1.075 (drawn from pupilSeed's sequence), and the median of their rows,
// of their columns and of their sizes, each taken apart, as pigo's
// RunDetector (whose "median" is the element after the middle for n odd).
func (p *puploc) run(row, col int, s float32, n int, pix []uint8, rows, cols, dim int) (r, c int, size float32) {
	rng := rand.New(rand.NewSource(pupilSeed))
	rs, cs, ss := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range n {
		r0 := float32(row) + s*0.15*(0.5-rng.Float32())
		c0 := float32(col) + s*0.15*(0.5-rng.Float32())
		s0 := s * (0.925 + 0.15*rng.Float32())
		rs[i], cs[i], ss[i] = p.locate(r0, c0, s0, pix, rows, cols, dim)
	}
	slices.Sort(rs)
	slices.Sort(cs)
	slices.Sort(ss)
	m := min(int(math.Round(float64(n)/2)), n-1)
	return int(rs[m]), int(cs[m]), ss[m]
}
