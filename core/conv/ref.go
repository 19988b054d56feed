package conv

// The slow, obvious references of the three products: direct loops over
// the formulas of the package doc, sums in float64. The tests compare
// Plan's results with them, and core's float64 graphs run on them.

// RefTo writes y = conv(x, w) + b (b may be nil).
func RefTo[T float32 | float64](g Geom, y, x, w, b []T) {
	ho, wo := g.Ho(), g.Wo()
	for n := 0; n < g.N; n++ {
		for o := 0; o < g.Co; o++ {
			for i := 0; i < ho; i++ {
				for j := 0; j < wo; j++ {
					var s float64
					if b != nil {
						s = float64(b[o])
					}
					for c := 0; c < g.Ci; c++ {
						for u := 0; u < g.K; u++ {
							r := g.Stride*i + u - g.Pad
							if r < 0 || r >= g.H {
								continue
							}
							for v := 0; v < g.K; v++ {
								cc := g.Stride*j + v - g.Pad
								if cc < 0 || cc >= g.W {
									continue
								}
								s += float64(w[((o*g.Ci+c)*g.K+u)*g.K+v]) * float64(x[((n*g.Ci+c)*g.H+r)*g.W+cc])
							}
						}
					}
					y[((n*g.Co+o)*ho+i)*wo+j] = T(s)
				}
			}
		}
	}
}

// RefDataTo writes the input gradient dx of the output gradient dy.
func RefDataTo[T float32 | float64](g Geom, dx, dy, w []T) {
	ho, wo := g.Ho(), g.Wo()
	acc := make([]float64, len(dx))
	for n := 0; n < g.N; n++ {
		for o := 0; o < g.Co; o++ {
			for i := 0; i < ho; i++ {
				for j := 0; j < wo; j++ {
					d := float64(dy[((n*g.Co+o)*ho+i)*wo+j])
					for c := 0; c < g.Ci; c++ {
						for u := 0; u < g.K; u++ {
							r := g.Stride*i + u - g.Pad
							if r < 0 || r >= g.H {
								continue
							}
							for v := 0; v < g.K; v++ {
								cc := g.Stride*j + v - g.Pad
								if cc < 0 || cc >= g.W {
									continue
								}
								acc[((n*g.Ci+c)*g.H+r)*g.W+cc] += d * float64(w[((o*g.Ci+c)*g.K+u)*g.K+v])
							}
						}
					}
				}
			}
		}
	}
	for i, v := range acc {
		dx[i] = T(v)
	}
}

// RefFilterTo writes the filter gradient dw and, unless db is nil, the
// bias gradient db of the output gradient dy at input x.
func RefFilterTo[T float32 | float64](g Geom, dw, db, x, dy []T) {
	ho, wo := g.Ho(), g.Wo()
	for o := 0; o < g.Co; o++ {
		for c := 0; c < g.Ci; c++ {
			for u := 0; u < g.K; u++ {
				for v := 0; v < g.K; v++ {
					var s float64
					for n := 0; n < g.N; n++ {
						for i := 0; i < ho; i++ {
							r := g.Stride*i + u - g.Pad
							if r < 0 || r >= g.H {
								continue
							}
							for j := 0; j < wo; j++ {
								cc := g.Stride*j + v - g.Pad
								if cc < 0 || cc >= g.W {
									continue
								}
								s += float64(dy[((n*g.Co+o)*ho+i)*wo+j]) * float64(x[((n*g.Ci+c)*g.H+r)*g.W+cc])
							}
						}
					}
					dw[((o*g.Ci+c)*g.K+u)*g.K+v] = T(s)
				}
			}
		}
		if db != nil {
			var s float64
			for n := 0; n < g.N; n++ {
				for k := 0; k < ho*wo; k++ {
					s += float64(dy[(n*g.Co+o)*ho*wo+k])
				}
			}
			db[o] = T(s)
		}
	}
}
