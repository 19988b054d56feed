//go:build !purego

package gemm

// kernels is the NEON set: every arm64 CPU has Advanced SIMD.
var kernels = &neon

var neon = kernelSet{name: "neon", fams: []family{
	{nr: 4, mr: 8, tiles: []tileFunc{kernN1x4, kernN2x4, kernN3x4, kernN4x4, kernN5x4, kernN6x4, kernN7x4, kernN8x4}},
	{nr: 8, mr: 8, tiles: []tileFunc{kernN1x8, kernN2x8, kernN3x8, kernN4x8, kernN5x8, kernN6x8, kernN7x8, kernN8x8}},
	{nr: 16, mr: 6, tiles: []tileFunc{kernN1x16, kernN2x16, kernN3x16, kernN4x16, kernN5x16, kernN6x16}},
}}

// runnable returns every kernel set this CPU can run, the Go one included.
func runnable() []*kernelSet { return []*kernelSet{&goKernels, &neon} }
