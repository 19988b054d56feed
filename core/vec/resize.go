package vec

import (
	"fmt"
	"math"
)

// ResizeTo appends to dst the ch planes of src, each sh×sw, resized to
// dh×dw, rows then columns, each axis on its own (pixel i covering
// [i, i+1) in its own coordinates):
//
//	upscaling or equal (dst ≥ src), bilinear: output centre i maps to
//	  p = (i + ½)·src/dst − ½, clamped to [0, src−1], and
//	  out = (1 − f)·in[⌊p⌋] + f·in[⌊p⌋+1], f = p − ⌊p⌋;
//	downscaling (dst < src), area average: out is the mean of the input
//	  over [i·src/dst, (i+1)·src/dst), each pixel weighted by its overlap.
//
// Weights are non-negative and sum to 1, so a constant stays constant.
// Sums accumulate in float64. It returns dst, and panics when src holds
// fewer than ch·sh·sw values or a side is not positive.
func ResizeTo(dst, src []float32, ch, sh, sw, dh, dw int) []float32 {
	if ch <= 0 || sh <= 0 || sw <= 0 || dh <= 0 || dw <= 0 || len(src) < ch*sh*sw {
		panic(fmt.Sprintf("vec: ResizeTo: %d values for %d planes of %d×%d to %d×%d", len(src), ch, sh, sw, dh, dw))
	}
	if sh == dh && sw == dw {
		return append(dst, src[:ch*sh*sw]...)
	}
	cols, rows := resampleTaps(sw, dw), resampleTaps(sh, dh)
	// Each source row, its columns resized, is added at once into the
	// output rows it weighs in, in the order of the rows' sums (so the
	// values are those of resizing every row first and then summing, bit
	// for bit), keeping one row of float64 and not a plane: a plane of
	// sh×dw made a tall strip of 1×2^26 pixels take 17 GB.
	tmp := make([]float64, dw) // one source row, columns resized
	acc := make([]float64, dh*dw)
	for c := range ch {
		plane := src[c*sh*sw : (c+1)*sh*sw]
		clear(acc)
		lo := 0 // the first output row whose taps may still reach row y
		for y := range sh {
			row := plane[y*sw : (y+1)*sw]
			for x, t := range cols {
				var sum float64
				for k, w := range t.w {
					sum += w * float64(row[t.first+k])
				}
				tmp[x] = sum
			}
			for lo < dh && rows[lo].first+len(rows[lo].w) <= y {
				lo++
			}
			for r := lo; r < dh && rows[r].first <= y; r++ {
				k := y - rows[r].first
				if k >= len(rows[r].w) {
					continue
				}
				w, out := rows[r].w[k], acc[r*dw:(r+1)*dw]
				for x, v := range tmp {
					out[x] += w * v
				}
			}
		}
		for _, v := range acc {
			dst = append(dst, float32(v))
		}
	}
	return dst
}

// taps are the source pixels and weights of one output pixel of a 1-D
// resampling: out = Σ_k w[k]·in[first+k].
type taps struct {
	first int
	w     []float64
}

// resampleTaps returns the taps of each of dst output pixels from src
// input pixels (see ResizeTo).
func resampleTaps(src, dst int) []taps {
	out := make([]taps, dst)
	scale := float64(src) / float64(dst)
	for i := range out {
		if dst >= src {
			p := min(max((float64(i)+0.5)*scale-0.5, 0), float64(src-1))
			j := int(math.Floor(p))
			if f := p - float64(j); f > 0 && j+1 < src {
				out[i] = taps{first: j, w: []float64{1 - f, f}}
			} else {
				out[i] = taps{first: j, w: []float64{1}}
			}
			continue
		}
		lo, hi := float64(i)*scale, float64(i+1)*scale
		first, last := int(math.Floor(lo)), min(int(math.Ceil(hi)), src)
		t := taps{first: first, w: make([]float64, last-first)}
		for j := first; j < last; j++ {
			t.w[j-first] = (min(hi, float64(j+1)) - max(lo, float64(j))) / scale
		}
		out[i] = t
	}
	return out
}
