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
	tmp := make([]float64, sh*dw) // one plane, columns resized
	for c := range ch {
		plane := src[c*sh*sw : (c+1)*sh*sw]
		for y := range sh {
			row := plane[y*sw : (y+1)*sw]
			for x, t := range cols {
				var sum float64
				for k, w := range t.w {
					sum += w * float64(row[t.first+k])
				}
				tmp[y*dw+x] = sum
			}
		}
		for _, t := range rows {
			for x := range dw {
				var sum float64
				for k, w := range t.w {
					sum += w * tmp[(t.first+k)*dw+x]
				}
				dst = append(dst, float32(sum))
			}
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
