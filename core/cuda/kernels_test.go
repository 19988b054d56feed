//go:build linux

package cuda

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core"
	"metriclab/losses"
)

// kernelRig runs single kernels of kernelSource on a backend, with
// buffers made from host slices: each kernel against a plain float64
// reference written here.
type kernelRig struct {
	t    *testing.T
	b    Backend
	k    map[string]Kernel
	bufs []Buffer
}

func newRig(t *testing.T, b Backend) *kernelRig {
	r := &kernelRig{t: t, b: b, k: map[string]Kernel{}}
	for _, name := range kernelNames {
		k, err := b.Compile(name, kernelSource)
		if err != nil {
			t.Fatal(err)
		}
		r.k[name] = k
	}
	t.Cleanup(func() {
		for _, buf := range r.bufs {
			b.Free(buf)
		}
	})
	return r
}

// buf returns a device buffer holding v.
func (r *kernelRig) buf(v []float32) Buffer {
	b, err := r.b.Alloc(4 * max(len(v), 1))
	if err != nil {
		r.t.Fatal(err)
	}
	r.bufs = append(r.bufs, b)
	if err := r.b.CopyIn(b, v, 0); err != nil {
		r.t.Fatal(err)
	}
	return b
}

func (r *kernelRig) zeros(n int) Buffer { return r.buf(make([]float32, n)) }

func (r *kernelRig) get(b Buffer, n int) []float32 {
	out := make([]float32, n)
	if err := r.b.CopyOut(out, b, 0); err != nil {
		r.t.Fatal(err)
	}
	return out
}

// run launches kernel name with grid blocks of mlBlock threads.
func (r *kernelRig) run(name string, grid Dim3, args ...any) {
	r.t.Helper()
	if err := r.b.Launch(r.k[name], grid, Dim3{mlBlock, 1, 1}, 0, 0, args...); err != nil {
		r.t.Fatal(err)
	}
}

// over launches kernel name over n elements.
func (r *kernelRig) over(name string, n int, args ...any) {
	r.t.Helper()
	r.run(name, Dim3{uint32(max(1, (n+mlBlock-1)/mlBlock)), 1, 1}, args...)
}

func randF32(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(scale * rng.NormFloat64())
	}
	return v
}

// TestKernelIm2col compares ml_im2col with the definition (stride 2,
// padding 1, a chunk of images in the middle of the batch) and checks
// that ml_col2im is its adjoint: ⟨im2col(x), g⟩ = ⟨x, col2im(g)⟩.
func TestKernelIm2col(t *testing.T) {
	for _, tb := range backends(t) {
		r := newRig(t, tb.b)
		rng := rand.New(rand.NewPCG(1, 2))
		const c, n, h, w, k, s, pad, n0, nc = 3, 4, 7, 6, 3, 2, 1, 1, 2
		ho, wo := (h+2*pad-k)/s+1, (w+2*pad-k)/s+1
		x := randF32(rng, c*n*h*w, 1)
		cols := nc * ho * wo
		col := r.zeros(c * k * k * cols)
		r.over("ml_im2col", c*k*k*cols, col, r.buf(x), int32(c), int32(n), int32(h), int32(w), int32(k), int32(s), int32(pad),
			int32(ho), int32(wo), int32(n0), int32(nc))
		want := make([]float64, c*k*k*cols)
		for ch := 0; ch < c; ch++ {
			for u := 0; u < k; u++ {
				for v := 0; v < k; v++ {
					for img := 0; img < nc; img++ {
						for i := 0; i < ho; i++ {
							for j := 0; j < wo; j++ {
								hh, ww := i*s+u-pad, j*s+v-pad
								if hh >= 0 && hh < h && ww >= 0 && ww < w {
									want[((ch*k+u)*k+v)*cols+(img*ho+i)*wo+j] = float64(x[((ch*n+n0+img)*h+hh)*w+ww])
								}
							}
						}
					}
				}
			}
		}
		checkClose(t, tb.name+" im2col", r.get(col, len(want)), want, 0, 0)

		g := randF32(rng, len(want), 1)
		prior := randF32(rng, len(x), 1)
		dx := r.buf(prior)
		r.over("ml_col2im", c*nc*h*w, dx, r.buf(g), int32(c), int32(n), int32(h), int32(w), int32(k), int32(s), int32(pad),
			int32(ho), int32(wo), int32(n0), int32(nc), int32(1))
		got := r.get(dx, len(x))
		var lhs, rhs float64
		for i, v := range g {
			lhs += want[i] * float64(v)
		}
		for i := range x {
			img := i / (h * w) % n
			added := float64(got[i]) - float64(prior[i])
			if img < n0 || img >= n0+nc {
				if added != 0 {
					t.Fatalf("%s col2im wrote image %d outside the chunk", tb.name, img)
				}
			}
			rhs += float64(x[i]) * added
		}
		if math.Abs(lhs-rhs) > 1e-4*math.Abs(lhs)+1e-4 {
			t.Errorf("%s: ⟨im2col(x), g⟩ = %v, ⟨x, col2im(g)⟩ = %v", tb.name, lhs, rhs)
		}
	}
}

// TestKernelMaxPool compares ml_maxpool2 and its backward with the
// definition on odd sides (the last row and column are dropped), with a
// tie that must go to the first element of the window.
func TestKernelMaxPool(t *testing.T) {
	for _, tb := range backends(t) {
		r := newRig(t, tb.b)
		rng := rand.New(rand.NewPCG(3, 4))
		const planes, h, w = 5, 5, 7
		ho, wo := h/2, w/2
		x := randF32(rng, planes*h*w, 1)
		x[0], x[1], x[w], x[w+1] = 2, 2, 2, 1 // a tie in the first window
		y, arg := r.zeros(planes*ho*wo), r.zeros(planes*ho*wo)
		r.over("ml_maxpool2", planes*ho*wo, y, arg, r.buf(x), int32(planes), int32(h), int32(w), int32(ho), int32(wo))
		dy := randF32(rng, planes*ho*wo, 1)
		dx := r.zeros(planes * h * w)
		r.over("ml_maxpool2_backward", planes*h*w, dx, r.buf(dy), arg, int32(planes), int32(h), int32(w), int32(ho), int32(wo), int32(0))
		wantY, wantDx := make([]float64, planes*ho*wo), make([]float64, planes*h*w)
		for p := 0; p < planes; p++ {
			for i := 0; i < ho; i++ {
				for j := 0; j < wo; j++ {
					best := p*h*w + 2*i*w + 2*j
					for _, q := range []int{best + 1, best + w, best + w + 1} {
						if x[q] > x[best] {
							best = q
						}
					}
					o := (p*ho+i)*wo + j
					wantY[o] = float64(x[best])
					wantDx[best] = float64(dy[o])
				}
			}
		}
		checkClose(t, tb.name+" maxpool", r.get(y, len(wantY)), wantY, 0, 0)
		checkClose(t, tb.name+" maxpool backward", r.get(dx, len(wantDx)), wantDx, 0, 0)
	}
}

// TestKernelBatchNorm runs a batch norm's kernels (statistics, running
// statistics, normalisation, backward, evaluation mode) on a C×N×H×W and
// an N×F layout and compares them with float64 formulas (fastBatchNorm's).
func TestKernelBatchNorm(t *testing.T) {
	for _, tb := range backends(t) {
		r := newRig(t, tb.b)
		for _, layout := range []struct {
			name         string
			c, inner, sz int
		}{{"CNHW", 3, 2 * 5000, 3 * 2 * 5000}, {"NF", 6, 1, 6 * 9}} {
			rng := rand.New(rand.NewPCG(5, uint64(layout.c)))
			c, inner, size := layout.c, layout.inner, layout.sz
			m := size / c
			chOf := func(i int) int { return (i / inner) % c }
			x := randF32(rng, size, 2)
			for i := range x {
				x[i] += float32(chOf(i)) // channels of other means
			}
			gamma, beta := randF32(rng, c, 1), randF32(rng, c, 1)
			rm0, rv0 := randF32(rng, c, 1), make([]float32, c)
			for i := range rv0 {
				rv0[i] = float32(0.5 + rng.Float64())
			}
			s := slicesFor(m)
			part := r.zeros(4 * c * s)
			xb, mean, invstd, rm, rv := r.buf(x), r.zeros(2*c), r.zeros(2*c), r.buf(rm0), r.buf(rv0)
			gb, bb, y := r.buf(gamma), r.buf(beta), r.zeros(size)
			r.run("ml_chan_partial", Dim3{uint32(c), uint32(s), 1}, part, xb, Buffer{}, Buffer{}, Buffer{}, int32(0), int32(c), int32(m), int32(inner))
			r.over("ml_bn_stats", c, mean, invstd, rm, rv, part, int32(c), int32(s), int32(m), 0.1, 1e-5, int32(1))
			r.over("ml_bn_apply", size, y, xb, mean, invstd, gb, bb, int32(size), int32(c), int32(inner))

			mu, vr := make([]float64, c), make([]float64, c)
			for i, v := range x {
				mu[chOf(i)] += float64(v) / float64(m)
			}
			for i, v := range x {
				d := float64(v) - mu[chOf(i)]
				vr[chOf(i)] += d * d / float64(m)
			}
			wantY, wantRm, wantRv := make([]float64, size), make([]float64, c), make([]float64, c)
			xhat := make([]float64, size)
			for i, v := range x {
				ch := chOf(i)
				xhat[i] = (float64(v) - mu[ch]) / math.Sqrt(vr[ch]+1e-5)
				wantY[i] = float64(gamma[ch])*xhat[i] + float64(beta[ch])
			}
			for ch := range wantRm {
				wantRm[ch] = 0.9*float64(rm0[ch]) + 0.1*mu[ch]
				wantRv[ch] = 0.9*float64(rv0[ch]) + 0.1*vr[ch]*float64(m)/float64(m-1)
			}
			checkClose(t, tb.name+" "+layout.name+" bn forward", r.get(y, size), wantY, 1e-5, 1e-5)
			checkClose(t, tb.name+" "+layout.name+" running mean", r.get(rm, c), wantRm, 1e-6, 1e-6)
			checkClose(t, tb.name+" "+layout.name+" running var", r.get(rv, c), wantRv, 1e-6, 1e-6)

			dy := randF32(rng, size, 1)
			dyb, dgamma, dbeta, dx := r.buf(dy), r.zeros(c), r.zeros(c), r.zeros(size)
			r.run("ml_chan_partial", Dim3{uint32(c), uint32(s), 1}, part, dyb, xb, mean, invstd, int32(1), int32(c), int32(m), int32(inner))
			r.over("ml_chan_final", c, dgamma, part, int32(c), int32(s), int32(1), int32(0))
			r.over("ml_chan_final", c, dbeta, part, int32(c), int32(s), int32(0), int32(0))
			r.over("ml_bn_backward", size, dx, dyb, xb, mean, invstd, gb, dgamma, dbeta, int32(size), int32(c), int32(inner), int32(m), int32(0))
			wantDg, wantDb, wantDx := make([]float64, c), make([]float64, c), make([]float64, size)
			for i, g := range dy {
				wantDg[chOf(i)] += float64(g) * xhat[i]
				wantDb[chOf(i)] += float64(g)
			}
			for i, g := range dy {
				ch := chOf(i)
				k := float64(gamma[ch]) / math.Sqrt(vr[ch]+1e-5) / float64(m)
				wantDx[i] = k * (float64(m)*float64(g) - wantDb[ch] - xhat[i]*wantDg[ch])
			}
			checkClose(t, tb.name+" "+layout.name+" dγ", r.get(dgamma, c), wantDg, 1e-4, 1e-5)
			checkClose(t, tb.name+" "+layout.name+" dβ", r.get(dbeta, c), wantDb, 1e-4, 1e-5)
			checkClose(t, tb.name+" "+layout.name+" dx", r.get(dx, size), wantDx, 1e-5, 1e-4)

			// Evaluation mode: the running statistics, untouched.
			rmNow, rvNow := r.get(rm, c), r.get(rv, c)
			r.over("ml_bn_stats", c, mean, invstd, rm, rv, part, int32(c), int32(1), int32(m), 0.1, 1e-5, int32(0))
			r.over("ml_bn_apply", size, y, xb, mean, invstd, gb, bb, int32(size), int32(c), int32(inner))
			for i, v := range x {
				ch := chOf(i)
				wantY[i] = float64(gamma[ch])*(float64(v)-float64(rmNow[ch]))/math.Sqrt(float64(rvNow[ch])+1e-5) + float64(beta[ch])
			}
			checkClose(t, tb.name+" "+layout.name+" bn eval", r.get(y, size), wantY, 1e-5, 1e-5)
			checkClose(t, tb.name+" "+layout.name+" running mean in eval", r.get(rm, c), f64s(rmNow), 0, 0)
		}
	}
}

// TestKernelReLU compares ml_relu and ml_relu_backward with core's ReLU
// (fastops.go's reluTo and reluBackTo) at a negative value, ±0, a
// positive one and NaN, accumulating into a gradient that holds values
// already: a NaN goes through, as on the CPU (ml_relu made it 0, which
// hid a NaN hidden layer from the loss).
func TestKernelReLU(t *testing.T) {
	nan := float32(math.NaN())
	x := []float32{-1, float32(math.Copysign(0, -1)), 0, 2, nan}
	dy := []float32{1, 2, 3, 4, 5}
	prior := []float32{10, 20, 30, 40, 50}
	wantY := []float32{0, float32(math.Copysign(0, -1)), 0, 2, nan}
	wantDx := []float32{10, 20, 30, 44, 55}
	for _, tb := range backends(t) {
		r := newRig(t, tb.b)
		n := len(x)
		y, dx := r.zeros(n), r.buf(prior)
		r.over("ml_relu", n, y, r.buf(x), int32(n))
		r.over("ml_relu_backward", n, dx, r.buf(dy), r.buf(x), int32(n), int32(1))
		for name, c := range map[string]struct{ got, want []float32 }{
			"relu": {r.get(y, n), wantY}, "relu dx": {r.get(dx, n), wantDx},
		} {
			for i := range c.want {
				if g, w := c.got[i], c.want[i]; g != w && !(g != g && w != w) {
					t.Errorf("%s %s at x = %g: %g, want %g", tb.name, name, x[i], g, w)
				}
			}
		}
	}
}

// TestKernelPReLU compares ml_prelu, ml_prelu_backward and the slopes'
// gradient (ml_chan_partial mode 2) with the definition, accumulating
// into a gradient that holds values already.
func TestKernelPReLU(t *testing.T) {
	for _, tb := range backends(t) {
		r := newRig(t, tb.b)
		rng := rand.New(rand.NewPCG(6, 7))
		const c, inner = 4, 30
		size := c * inner * 2 // two "images" of the C×N×… layout: inner = N·H·W covers them
		x, a, dy, prior := randF32(rng, size, 1), randF32(rng, c, 0.3), randF32(rng, size, 1), randF32(rng, size, 1)
		xb, ab, dyb := r.buf(x), r.buf(a), r.buf(dy)
		y, dx, da := r.zeros(size), r.buf(prior), r.zeros(c)
		r.over("ml_prelu", size, y, xb, ab, int32(size), int32(c), int32(size/c))
		r.over("ml_prelu_backward", size, dx, dyb, xb, ab, int32(size), int32(c), int32(size/c), int32(1))
		part := r.zeros(4 * c)
		r.run("ml_chan_partial", Dim3{c, 1, 1}, part, dyb, xb, Buffer{}, Buffer{}, int32(2), int32(c), int32(size/c), int32(size/c))
		r.over("ml_chan_final", c, da, part, int32(c), int32(1), int32(0), int32(0))
		wantY, wantDx, wantDa := make([]float64, size), make([]float64, size), make([]float64, c)
		for i, v := range x {
			ch := i / (size / c)
			wantY[i], wantDx[i] = float64(v), float64(prior[i])+float64(dy[i])
			if v <= 0 {
				wantY[i] = float64(a[ch]) * float64(v)
				wantDx[i] = float64(prior[i]) + float64(a[ch])*float64(dy[i])
				wantDa[ch] += float64(dy[i]) * float64(v)
			}
		}
		checkClose(t, tb.name+" prelu", r.get(y, size), wantY, 1e-6, 1e-6)
		checkClose(t, tb.name+" prelu dx", r.get(dx, size), wantDx, 1e-6, 1e-6)
		checkClose(t, tb.name+" prelu da", r.get(da, c), wantDa, 1e-5, 1e-5)
	}
}

// TestKernelOptimizers runs one SGD and one Adam update over a flat
// buffer whose first values are decayed, against core/optim.go's
// formulas in float64, and checks that a non-finite loss (status[1] = 0)
// skips the update.
func TestKernelOptimizers(t *testing.T) {
	for _, tb := range backends(t) {
		r := newRig(t, tb.b)
		rng := rand.New(rand.NewPCG(8, 9))
		const n, ndecay = 1000, 600
		w0, g, m0, v0 := randF32(rng, n, 1), randF32(rng, n, 1), randF32(rng, n, 0.1), make([]float32, n)
		for i := range v0 {
			v0[i] = float32(rng.Float64() * 0.01)
		}
		const lr, mu, wd, b1, b2, eps = 0.05, 0.9, 5e-4, 0.9, 0.999, 1e-8
		lrc, sc := lr/(1-math.Pow(b1, 3)), 1/math.Sqrt(1-math.Pow(b2, 3))
		scal := r.buf([]float32{lr, float32(lrc), float32(sc), 0})
		for _, finite := range []float32{1, 0} {
			status := r.buf([]float32{1.5, finite})
			w, v := r.buf(w0), r.buf(m0)
			r.over("ml_sgd", n, w, r.buf(g), v, int32(n), int32(ndecay), scal, status, float32(mu), float32(wd))
			wa, ma, va := r.buf(w0), r.buf(m0), r.buf(v0)
			r.over("ml_adam", n, wa, r.buf(g), ma, va, int32(n), int32(ndecay), scal, status, float32(b1), float32(b2), float32(eps), float32(wd))
			wantW, wantV, wantWa := make([]float64, n), make([]float64, n), make([]float64, n)
			for i := range wantW {
				if finite == 0 {
					wantW[i], wantV[i], wantWa[i] = float64(w0[i]), float64(m0[i]), float64(w0[i])
					continue
				}
				gi := float64(g[i])
				if i < ndecay {
					gi += wd * float64(w0[i])
				}
				wantV[i] = mu*float64(m0[i]) + gi
				wantW[i] = float64(w0[i]) - lr*wantV[i]
				mi := b1*float64(m0[i]) + (1-b1)*gi
				vi := b2*float64(v0[i]) + (1-b2)*gi*gi
				wantWa[i] = float64(w0[i]) - lrc*mi/(sc*math.Sqrt(vi)+eps)
			}
			what := tb.name + " finite=" + name(finite)
			checkClose(t, what+" sgd w", r.get(w, n), wantW, 1e-6, 1e-5)
			checkClose(t, what+" sgd velocity", r.get(v, n), wantV, 1e-6, 1e-5)
			checkClose(t, what+" adam w", r.get(wa, n), wantWa, 1e-6, 1e-5)
		}
	}
}

// TestKernelOptimizersFlushSubnormals is core's
// TestOptimizerFlushesSubnormals for ml_sgd and ml_adam: gradients ±g0
// once, then 0 for thousands of steps, decay the buffers (β1 = μ = 0.9,
// β2 = 0.999 a step) into the subnormal range, where β·x rounds back to
// x; no update may leave a subnormal there, as none does on the CPU
// engine (the emulation would take the CPU's slow path on every one).
// The first step's buffers must be kept, and after the last every buffer
// is 0 (so the steps ran through the subnormal range).
func TestKernelOptimizersFlushSubnormals(t *testing.T) {
	for _, tb := range backends(t) {
		r := newRig(t, tb.b)
		// Adam's v = 1e-3·g0² = 1e-37 after the first step, subnormal after
		// about 2140 steps; m = 1e-18 after about 440, SGD's v = 1e-17 after
		// about 460.
		const n, g0, steps = 2, 1e-17, 5000
		const lr, mu, b1, b2, eps = 0.05, 0.9, 0.9, 0.999, 1e-8
		scal := r.buf([]float32{lr, lr / (1 - b1), 1 / float32(math.Sqrt(1-b2)), 0})
		status := r.buf([]float32{1.5, 1})
		w, v, wa, ma, va := r.buf([]float32{1, 1}), r.zeros(n), r.buf([]float32{1, 1}), r.zeros(n), r.zeros(n)
		bufs := []struct {
			what string
			b    Buffer
		}{{"sgd v", v}, {"adam m", ma}, {"adam v", va}}
		g, zero := r.buf([]float32{g0, -g0}), r.zeros(n)
		for step := 1; step <= steps; step++ {
			if step == 2 {
				g = zero
			}
			r.over("ml_sgd", n, w, g, v, int32(n), int32(0), scal, status, float32(mu), float32(0))
			r.over("ml_adam", n, wa, g, ma, va, int32(n), int32(0), scal, status, float32(b1), float32(b2), float32(eps), float32(0))
			for _, b := range bufs {
				what, got := b.what, r.get(b.b, n)
				if step == 1 && (got[0] == 0 || got[1] == 0) {
					t.Fatalf("%s: %s %g after one gradient ±%g, want it non-zero", tb.name, what, got, g0)
				}
				for _, x := range got {
					if x != 0 && math.Abs(float64(x)) < 0x1p-126 {
						t.Fatalf("%s: step %d leaves %g in %s, a subnormal number", tb.name, step, x, what)
					}
				}
				if step == steps && (got[0] != 0 || got[1] != 0) {
					t.Errorf("%s: %s %g after %d steps, want 0", tb.name, what, got, steps)
				}
			}
		}
	}
}

// TestGemm compares the backend's Gemm with gemmTo for every
// transposition, β = 0 (over garbage) and β = 1, and row lengths longer
// than the matrices.
func TestGemm(t *testing.T) {
	for _, tb := range backends(t) {
		r := newRig(t, tb.b)
		rng := rand.New(rand.NewPCG(10, 11))
		const m, n, k, pad = 7, 9, 11, 3
		for _, ta := range []bool{false, true} {
			for _, tbt := range []bool{false, true} {
				for _, beta := range []float32{0, 1} {
					g := Gemm{TransA: ta, TransB: tbt, M: m, N: n, K: k, Alpha: 0.5, Beta: beta, LDA: k + pad, LDB: n + pad, LDC: n + pad}
					rowsA, rowsB := m, k
					if ta {
						rowsA, g.LDA = k, m+pad
					}
					if tbt {
						rowsB, g.LDB = n, k+pad
					}
					a, b, c := randF32(rng, rowsA*g.LDA, 1), randF32(rng, rowsB*g.LDB, 1), randF32(rng, m*g.LDC, 1)
					g.A, g.B, g.C = r.buf(a), r.buf(b), r.buf(c)
					if err := tb.b.Gemm(g, 0); err != nil {
						t.Fatal(err)
					}
					want := append([]float32(nil), c...)
					gemmTo(g, a, b, want)
					checkClose(t, tb.name+" gemm "+name(ta, tbt, beta), r.get(g.C, len(c)), f64s(want), 1e-5, 1e-5)
				}
			}
		}
	}
}

// lossCase is a loss of package losses for TestLossKernels.
type lossCase struct {
	cfg     losses.Config
	triplet bool
	pole    bool // rows 1, 4, … lie within 1e-4 rad of their class weight (θ ≈ 0, where the combined margin's slope floors sin θ)
}

// TestLossKernels runs the loss kernels of every loss (the head and the
// loss, from the embeddings on) on embeddings placed so that targets fall
// on both sides of the margins' fallbacks, and compares the loss and the
// gradients of the embeddings and the head with gorgonia's graph of the
// same loss (package losses), in float64.
func TestLossKernels(t *testing.T) {
	cases := []lossCase{
		{cfg: losses.Config{Name: "softmax"}}, {cfg: losses.Config{Name: "l2softmax"}}, {cfg: losses.Config{Name: "normsoftmax"}},
		{cfg: losses.Config{Name: "cosface"}}, {cfg: losses.Config{Name: "arcface"}},
		{cfg: losses.Config{Name: "arcface", Values: map[string]float64{"easy_margin": 1}}},
		{cfg: losses.Config{Name: "combined"}}, {cfg: losses.Config{Name: "combined", Values: map[string]float64{"m1": 3, "m2": 0.2, "m3": 0.1}}},
		{cfg: losses.Config{Name: "combined", Values: map[string]float64{"m1": 4, "m2": 0, "m3": 0.1}}, pole: true},
		{cfg: losses.Config{Name: "sphereface", Values: map[string]float64{"m": 3}}},
		{cfg: losses.Config{Name: "sphereface", Values: map[string]float64{"lambda_base": 0, "lambda_min": 0}}},
		{cfg: losses.Config{Name: "contrastive"}}, {cfg: losses.Config{Name: "contrastive", Distance: "euclidean", Values: map[string]float64{"margin": 2}}},
		{cfg: losses.Config{Name: "triplet", Miner: "all"}, triplet: true}, {cfg: losses.Config{Name: "triplet", Miner: "hard"}, triplet: true},
		{cfg: losses.Config{Name: "triplet", Miner: "semihard"}, triplet: true}, {cfg: losses.Config{Name: "triplet", Miner: "easy"}, triplet: true},
		{cfg: losses.Config{Name: "triplet", Miner: "all", Distance: "euclidean", Values: map[string]float64{"margin": 1}}, triplet: true},
	}
	const n, d, classes = 12, 3, 4
	for _, tb := range backends(t) {
		for _, lc := range cases {
			lc.cfg.Dim = d
			spec := core.Spec{Arch: core.ArchMLP, Input: core.Input{Channels: 1, Height: 2, Width: 2, Std: 1}, Dim: d}
			loss, err := losses.New(lc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			opt := core.DefaultOpt(core.OptSGD)
			tr, err := NewTrainer(tb.b, spec, loss, core.TrainConfig{Batch: n, Classes: classes, Opt: opt, Seed: 1}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(12, uint64(len(lc.cfg.Name))))
			labels := make([]int, n)
			for i := range labels {
				labels[i] = i % classes
				if lc.triplet {
					labels[i] = i / 3 % classes
				}
			}
			params := tr.Params()
			head, hasHead := params["head.weight"]
			emb := randF32(rng, n*d, 1)
			if hasHead {
				// Every third row points away from its class weight: its
				// target angle is past π − m, in the fallbacks.
				for i := 0; i < n; i += 3 {
					for j := 0; j < d; j++ {
						emb[i*d+j] = -2*head.Data[labels[i]*d+j] + float32(0.05*rng.NormFloat64())
					}
				}
				for i := 1; lc.pole && i < n; i += 3 {
					for j := 0; j < d; j++ {
						emb[i*d+j] = 2*head.Data[labels[i]*d+j] + float32(1e-4*rng.NormFloat64())
					}
				}
			}
			gotLoss, gotDemb, gotHead := runLossKernels(t, tr, emb, labels)
			tr.Close()

			wantLoss, wantDemb, wantHead := gorgoniaLoss(t, lc.cfg, emb, labels, classes, params)
			what := tb.name + " " + name(lc.cfg.Name, lc.cfg.Values, lc.cfg.Miner, lc.cfg.Distance)
			checkClose(t, what+" loss", []float32{float32(gotLoss)}, []float64{wantLoss}, 1e-5, 1e-5)
			checkClose(t, what+" d emb", gotDemb, wantDemb, 1e-5, 1e-4)
			for name, want := range wantHead {
				checkClose(t, what+" d "+name, gotHead[name], want, 1e-5, 1e-4)
			}
		}
	}
}

// runLossKernels sets tr's embeddings to emb and runs only its loss
// kernels; it returns the loss and the gradients of the embeddings and of
// the head's parameters.
func runLossKernels(t *testing.T, tr *Trainer, emb []float32, labels []int) (float64, []float32, map[string][]float32) {
	t.Helper()
	for i, l := range labels {
		tr.labelBuf[i] = float32(l)
	}
	if err := tr.loss.BeforeStep(0); err != nil {
		t.Fatal(err)
	}
	tr.hostScal[scLambda] = float32(tr.loss.(core.LossPlanner).LossPlan().Lambda)
	for _, c := range []struct {
		dst Buffer
		src []float32
	}{{tr.vals[tr.plan.Output], emb}, {tr.labels, tr.labelBuf}, {tr.scal, tr.hostScal[:]}} {
		if err := tr.b.CopyIn(c.dst, c.src, tr.s); err != nil {
			t.Fatal(err)
		}
	}
	if err := runOps(tr.head); err != nil {
		t.Fatal(err)
	}
	status := make([]float32, 2)
	demb := make([]float32, len(emb))
	if err := tr.b.CopyOut(status, tr.status, tr.s); err != nil {
		t.Fatal(err)
	}
	if err := tr.b.CopyOut(demb, tr.dvals[tr.plan.Output], tr.s); err != nil {
		t.Fatal(err)
	}
	head := map[string][]float32{}
	for _, name := range []string{"head.weight", "head.bias"} {
		if off, ok := tr.slots[name]; ok {
			g := make([]float32, shapeSize(tr.shapes[name]))
			if err := tr.b.CopyOut(g, tr.grad.Slice(off, len(g)), tr.s); err != nil {
				t.Fatal(err)
			}
			head[name] = g
		}
	}
	return float64(status[0]), demb, head
}

// gorgoniaLoss evaluates the loss of cfg with package losses on a float64
// gorgonia graph: the loss and its gradients with respect to the
// embeddings and the head (whose values come from params).
func gorgoniaLoss(t *testing.T, cfg losses.Config, emb []float32, labels []int, classes int, params map[string]core.Tensor) (float64, []float64, map[string][]float64) {
	t.Helper()
	n, d := len(labels), cfg.Dim
	loss, err := losses.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := loss.BeforeStep(0); err != nil {
		t.Fatal(err)
	}
	g := G.NewGraph()
	onehot := make([]float64, n*classes)
	for i, l := range labels {
		onehot[i*classes+l] = 1
	}
	e := G.NewMatrix(g, tensor.Float64, G.WithShape(n, d), G.WithName("emb"),
		G.WithValue(tensor.New(tensor.WithShape(n, d), tensor.WithBacking(f64s(emb)))))
	oh := G.NewMatrix(g, tensor.Float64, G.WithShape(n, classes), G.WithName("onehot"),
		G.WithValue(tensor.New(tensor.WithShape(n, classes), tensor.WithBacking(onehot))))
	cost, err := loss.Build(g, e, oh, classes)
	if err != nil {
		t.Fatal(err)
	}
	wrt := G.Nodes{e}
	var names []string
	for _, l := range loss.Learnables() {
		v := l.Node.Value().Data().([]float64)
		for i, x := range params[l.Name].Data {
			v[i] = float64(x)
		}
		wrt = append(wrt, l.Node)
		names = append(names, l.Name)
	}
	grads, err := G.Grad(cost, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	head := map[string][]float64{}
	for i, name := range names {
		head[name] = append([]float64(nil), grads[i+1].Value().Data().([]float64)...)
	}
	var l float64
	switch v := cost.Value().(type) {
	case *G.F64:
		l = float64(*v)
	default:
		t.Fatalf("loss value %T", v)
	}
	return l, append([]float64(nil), grads[0].Value().Data().([]float64)...), head
}
