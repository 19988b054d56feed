package vec

// best is the Go set, the only one so far.
var best = &goKernels

// runnable returns every kernel set this CPU runs.
func runnable() []*kernels { return []*kernels{&goKernels} }
