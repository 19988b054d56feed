//go:build !(js && wasm)

// Command viz is the hypersphere viewer of metriclab, a WebAssembly binary
// for the browser (see main.go). Built for any other target it only says so;
// its geometry lives in the package sphere and its message handling in
// plain files of this package, both tested natively.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "viz: the viewer runs in a browser; build it with GOOS=js GOARCH=wasm")
	os.Exit(2)
}
