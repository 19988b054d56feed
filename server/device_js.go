//go:build js

package main

import "errors"

// probeCUDA reports that a js/wasm build has no CUDA.
func probeCUDA() (string, error) {
	return "", errors.New("cuda: not available in a js/wasm build")
}
