// Package conv is the 2-D convolution of metriclab's engine, forward and
// backward, on the matrix product of core/gemm. Tensors are flat row-major
// float32 in PyTorch's layouts:
//
//	x  N×Ci×H×W     input          w  Co×Ci×K×K   filter
//	y  N×Co×Ho×Wo   output         b  Co          bias (optional)
//
// with stride S, zero padding pad on every side, Ho = ⌊(H+2pad−K)/S⌋+1
// (Wo likewise), P = Ho·Wo output pixels and Q = Ci·K·K taps:
//
//	y[n,o,i,j]  = b[o] + Σ_{c,u,v} w[o,c,u,v] · x[n,c,S·i+u−pad,S·j+v−pad]
//	dx[n,c,Y,X] = Σ_{o,u,v: S·i+u−pad = Y, S·j+v−pad = X} w[o,c,u,v] · dy[n,o,i,j]
//	dw[o,c,u,v] = Σ_{n,i,j} dy[n,o,i,j] · x[n,c,S·i+u−pad,S·j+v−pad]
//	db[o]       = Σ_{n,i,j} dy[n,o,i,j]
//
// (x is zero outside the image). Each is one product of gemm.Mul whose left
// operand is an image read through offset tables, never an im2col matrix:
//
//	forward   yᵀ = X·wᵀ: rows the N·P output pixels, steps the Q taps,
//	          A[(n,i,j), (c,u,v)] = xp[n, c, S·i+u, S·j+v] of the padded input
//	filter    dwᵀ = Xᵀ·dyᵀ: rows the Q taps, steps the N·P pixels
//	data      one product per residue class (Y+pad mod S, X+pad mod S) of
//	          the input pixels: rows the class's pixels, steps the taps
//	          (o, u, v) that reach it, A read from dy padded by a margin
//
// The products' results are pixel-major (channels contiguous); a transpose
// puts them back in N×C×H×W, adding the bias on the way. Sums accumulate in
// float32 (see gemm); the bias gradient sums in float64.
package conv
