package conv

import "fmt"

// Geom is the geometry of one convolution.
type Geom struct {
	N, Ci, H, W int // input N×Ci×H×W
	Co, K       int // Co output channels, K×K kernel
	Stride, Pad int // stride S ≥ 1, zero padding ≥ 0 on every side
}

// Validate reports whether g describes a convolution with at least one
// output pixel.
func (g Geom) Validate() error {
	if g.N < 1 || g.Ci < 1 || g.H < 1 || g.W < 1 || g.Co < 1 || g.K < 1 {
		return fmt.Errorf("conv: sizes must be ≥ 1: %+v", g)
	}
	if g.Stride < 1 || g.Pad < 0 {
		return fmt.Errorf("conv: stride %d, padding %d: want stride ≥ 1, padding ≥ 0", g.Stride, g.Pad)
	}
	if g.H+2*g.Pad < g.K || g.W+2*g.Pad < g.K {
		return fmt.Errorf("conv: %d×%d kernel larger than the padded %d×%d input", g.K, g.K, g.H+2*g.Pad, g.W+2*g.Pad)
	}
	const maxIndex = 1<<31 - 1 // offsets are int32
	if int64(g.N)*int64(g.Ci)*int64(g.H+2*g.Pad)*int64(g.W+2*g.Pad) > maxIndex || int64(g.N)*int64(g.Co)*int64(g.H+2*g.K+2)*int64(g.W+2*g.K+2) > maxIndex {
		return fmt.Errorf("conv: %+v is too large for 32-bit offsets", g)
	}
	return nil
}

// Ho returns the output height ⌊(H+2pad−K)/S⌋+1.
func (g Geom) Ho() int { return (g.H+2*g.Pad-g.K)/g.Stride + 1 }

// Wo returns the output width.
func (g Geom) Wo() int { return (g.W+2*g.Pad-g.K)/g.Stride + 1 }

// P returns the number of output pixels of one image, Ho·Wo.
func (g Geom) P() int { return g.Ho() * g.Wo() }

// Q returns the number of taps of one output channel, Ci·K·K.
func (g Geom) Q() int { return g.Ci * g.K * g.K }

// InSize, OutSize and FilterSize are the lengths of x, y and w.
func (g Geom) InSize() int     { return g.N * g.Ci * g.H * g.W }
func (g Geom) OutSize() int    { return g.N * g.Co * g.P() }
func (g Geom) FilterSize() int { return g.Co * g.Q() }

// MACs returns the multiply-adds of the forward pass (each backward
// product has as many).
func (g Geom) MACs() int64 { return int64(g.N) * int64(g.Co) * int64(g.P()) * int64(g.Q()) }
