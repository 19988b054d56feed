//go:build !(amd64 || arm64) || purego

package gemm

// kernels is the pure-Go set: there are no assembly kernels for this
// architecture, or the build asked for none (purego).
var kernels = &goKernels

// runnable returns every kernel set this CPU can run.
func runnable() []*kernelSet { return []*kernelSet{&goKernels} }
