//go:build !purego

package gemm

import "golang.org/x/sys/cpu"

//go:generate sh -c "cd asm && go run . -out ../kern_amd64.s -stubs ../kern_stubs_amd64.go -pkg gemm -neon ../kern_arm64.s -neon-stubs ../kern_stubs_arm64.go"

// kernels is the best set this CPU runs, chosen once at start-up.
var kernels = func() *kernelSet {
	switch {
	case cpu.X86.HasAVX512F:
		return &avx512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return &avx2
	}
	return &goKernels
}()

var avx512 = kernelSet{name: "avx512", fams: []family{
	{nr: 16, mr: 8, masked: true, tiles: []tileFunc{kernZ1x16, kernZ2x16, kernZ3x16, kernZ4x16, kernZ5x16, kernZ6x16, kernZ7x16, kernZ8x16}},
	{nr: 32, mr: 8, masked: true, tiles: []tileFunc{kernZ1x32, kernZ2x32, kernZ3x32, kernZ4x32, kernZ5x32, kernZ6x32, kernZ7x32, kernZ8x32}},
	{nr: 48, mr: 8, masked: true, tiles: []tileFunc{kernZ1x48, kernZ2x48, kernZ3x48, kernZ4x48, kernZ5x48, kernZ6x48, kernZ7x48, kernZ8x48}},
	{nr: 64, mr: 6, masked: true, tiles: []tileFunc{kernZ1x64, kernZ2x64, kernZ3x64, kernZ4x64, kernZ5x64, kernZ6x64}},
}}

var avx2 = kernelSet{name: "avx2", fams: []family{
	{nr: 8, mr: 8, tiles: []tileFunc{kernY1x8, kernY2x8, kernY3x8, kernY4x8, kernY5x8, kernY6x8, kernY7x8, kernY8x8}},
	{nr: 16, mr: 6, tiles: []tileFunc{kernY1x16, kernY2x16, kernY3x16, kernY4x16, kernY5x16, kernY6x16}},
	{nr: 24, mr: 4, tiles: []tileFunc{kernY1x24, kernY2x24, kernY3x24, kernY4x24}},
}}

// runnable returns every kernel set this CPU can run, the Go one included:
// the tests compare them all.
func runnable() []*kernelSet {
	sets := []*kernelSet{&goKernels}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		sets = append(sets, &avx2)
	}
	if cpu.X86.HasAVX512F {
		sets = append(sets, &avx512)
	}
	return sets
}
