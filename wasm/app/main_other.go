//go:build !(js && wasm)

// Command app is the page of metriclab, a WebAssembly binary for the
// browser (see main.go). Built for any other target it only says so; the
// server serves the page with `metriclab serve`.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "app: the page runs in a browser; build it with GOOS=js GOARCH=wasm, serve it with metriclab serve")
	os.Exit(2)
}
