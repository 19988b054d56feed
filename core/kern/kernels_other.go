//go:build !amd64 || purego

package kern

// best is the Go set: there are no assembly kernels for this architecture,
// or the build asked for none (purego).
var best = &goKernels

// runnable returns every kernel set this CPU runs.
func runnable() []*kernels { return []*kernels{&goKernels} }
