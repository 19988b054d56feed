package kern

// The references: each function of the package as the plain loop that says
// what it computes, with branches and one float64 sum. The tests compare
// every kernel set with them, and the benchmarks time them as the loops the
// kernels replace. They are not inlined, so that a benchmark calls them as
// it calls the kernels, once per slice (inlined into a benchmark's closure,
// a loop reloads the captured slices at every element under wasm).

//go:noinline
func reluRef(dst, x []float32) {
	for i, v := range x {
		if v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

//go:noinline
func reluBackRef(dst, y, dy []float32) {
	for i, v := range y {
		dst[i] = dy[i]
		if v <= 0 {
			dst[i] = 0
		}
	}
}

//go:noinline
func preluRef(dst, x []float32, s float32) {
	for i, v := range x {
		if v <= 0 {
			v *= s
		}
		dst[i] = v
	}
}

//go:noinline
func preluBackRef(dst, x, dy []float32, s float32) {
	for i, v := range x {
		g := dy[i]
		if v <= 0 {
			g *= s
		}
		dst[i] = g
	}
}

//go:noinline
func preluSlopeGradRef(x, dy []float32) float64 {
	var s float64
	for i, v := range x {
		if v <= 0 {
			s += float64(v) * float64(dy[i])
		}
	}
	return s
}

//go:noinline
func sumRef(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s
}

//go:noinline
func dotRef(x, y []float32) float64 {
	var s float64
	for i, v := range x {
		s += float64(v) * float64(y[i])
	}
	return s
}

//go:noinline
func sumSqDevRef(x []float32, mu float64) float64 {
	var s float64
	for _, v := range x {
		s += (float64(v) - mu) * (float64(v) - mu)
	}
	return s
}

// scaleShiftRef computes in float64 and rounds once.
//
//go:noinline
func scaleShiftRef(dst, x []float32, a, b float32) {
	for i, v := range x {
		dst[i] = float32(float64(a)*float64(v) + float64(b))
	}
}

// axpbycRef computes in float64 and rounds once.
//
//go:noinline
func axpbycRef(dst, x, y []float32, a, b, c float32) {
	for i, v := range x {
		dst[i] = float32(float64(a)*float64(v) + float64(b)*float64(y[i]) + float64(c))
	}
}

//go:noinline
func maskedSumRef(y, dy []float32) float64 {
	var s float64
	for i, v := range y {
		if !(v <= 0) {
			s += float64(dy[i])
		}
	}
	return s
}

//go:noinline
func transposeRef(dst []float32, ldd int, src []float32, lds, r, c int, bias []float32) {
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			v := src[i*lds+j]
			if bias != nil {
				v += bias[j]
			}
			dst[j*ldd+i] = v
		}
	}
}

// transposeConv is core/conv/conv.go's transposeTo, the 8×8-blocked loop
// that Transpose replaces, copied as it stands for the benchmarks. It adds
// 0 when bias is nil (−0 comes out +0), which Transpose does not.
//
//go:noinline
func transposeConv(dst []float32, ldd int, src []float32, lds, r, c int, bias []float32) {
	const bs = 8
	for i0 := 0; i0 < r; i0 += bs {
		i1 := min(i0+bs, r)
		for j0 := 0; j0 < c; j0 += bs {
			j1 := min(j0+bs, c)
			for j := j0; j < j1; j++ {
				var add float32
				if bias != nil {
					add = bias[j]
				}
				d := dst[j*ldd+i0 : j*ldd+i1]
				for k := range d {
					d[k] = src[(i0+k)*lds+j] + add
				}
			}
		}
	}
}
