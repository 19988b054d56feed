//go:build !(js && wasm)

// Command trainer is metriclab's browser trainer, a Web Worker; it only
// runs as trainer.wasm (GOOS=js GOARCH=wasm), loaded by web/trainer.js. See
// main.go for the worker's protocol.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "trainer: a browser Web Worker; build it with GOOS=js GOARCH=wasm and load it through web/trainer.js")
	os.Exit(2)
}
