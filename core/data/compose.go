package data

import (
	"fmt"

	"metriclab/core"
	"metriclab/core/msg"
)

// MaxComposedClasses bounds the classes that composition may make (see
// Parts): the head holds one weight row per class.
const MaxComposedClasses = 1 << 16

// Parts cuts an image into a grid of Rows×Cols parts to make new classes
// of old ones: a composed image takes each part from an image of its own,
// and its class is the tuple of their classes. Five digits make 25 classes
// of top and bottom halves (a "0" on a "1" is not far from a "9"): an
// encoder trained to tell them apart learns the parts of shapes, which
// unseen shapes share, rather than five whole shapes. The zero value, and
// 1×1, compose nothing.
type Parts struct{ Rows, Cols int }

// ParseParts parses "RxC" (e.g. "2x1": top and bottom halves); "" and
// "none" are no composition (msg.ParseCompose).
func ParseParts(s string) (Parts, error) {
	rows, cols, err := msg.ParseCompose(s)
	return Parts{Rows: rows, Cols: cols}, err
}

// N returns the number of parts, 1 without composition.
func (p Parts) N() int { return max(1, p.Rows*p.Cols) }

// Validate reports whether n classes of images of shape in can be
// composed: every part at least one pixel, at most MaxComposedClasses
// classes made.
func (p Parts) Validate(n int, in core.Input) error {
	if p.N() == 1 {
		return nil
	}
	if in.Height < p.Rows || in.Width < p.Cols {
		return fmt.Errorf("compose %dx%d: images of %d×%d are too small", p.Rows, p.Cols, in.Height, in.Width)
	}
	if c := p.Classes(n); c < 0 || c > MaxComposedClasses {
		return fmt.Errorf("compose %dx%d of %d classes makes more than %d classes", p.Rows, p.Cols, n, MaxComposedClasses)
	}
	return nil
}

// Classes returns n^N, the number of classes composed of n, or −1 past
// MaxComposedClasses.
func (p Parts) Classes(n int) int {
	c := 1
	for range p.N() {
		c *= n
		if c > MaxComposedClasses {
			return -1
		}
	}
	return c
}

// Class returns the class of an image composed of parts of classes ys (one
// per part, in row-major order of the parts) out of n: the number whose
// base-n digits are ys, Σ_k ys[k]·n^(N−1−k). An image all of class y is
// class Class(y, y, …).
func (p Parts) Class(ys []int, n int) int {
	c := 0
	for _, y := range ys {
		c = c*n + y
	}
	return c
}

// Names returns the names of the classes composed of the classes names, in
// class order: "a/b" for the top of an a over the bottom of a b.
func (p Parts) Names(names []string) []string {
	out := []string{""}
	for k := range p.N() {
		next := make([]string, 0, len(out)*len(names))
		for _, prefix := range out {
			for _, name := range names {
				if k > 0 {
					name = prefix + "/" + name
				}
				next = append(next, name)
			}
		}
		out = next
	}
	return out
}

// Compose writes into dst (reused when large enough) the image of shape in
// whose part (r, c), rows [r·H/R, (r+1)·H/R) and columns [c·W/C,
// (c+1)·W/C) of every channel, is that of srcs[r·C + c]. It panics when
// srcs are not N images of shape in.
func (p Parts) Compose(dst []float32, srcs [][]float32, in core.Input) []float32 {
	n := in.Size()
	if len(srcs) != p.N() {
		panic(fmt.Sprintf("data: Compose: %d images for %d parts", len(srcs), p.N()))
	}
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	rows, cols := max(1, p.Rows), max(1, p.Cols)
	h, w := in.Height, in.Width
	for k, src := range srcs {
		if len(src) != n {
			panic(fmt.Sprintf("data: Compose: %d values for a %d×%d×%d image", len(src), in.Channels, h, w))
		}
		r, c := k/cols, k%cols
		for ch := range in.Channels {
			for y := r * h / rows; y < (r+1)*h/rows; y++ {
				off := ch*h*w + y*w
				copy(dst[off+c*w/cols:off+(c+1)*w/cols], src[off+c*w/cols:off+(c+1)*w/cols])
			}
		}
	}
	return dst
}
