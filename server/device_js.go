//go:build js

package main

import (
	"errors"

	"metriclab/core"
)

// probeCUDA reports that a js/wasm build has no CUDA.
func probeCUDA() (string, error) {
	return "", errors.New("cuda: not available in a js/wasm build")
}

// engineFor returns the gorgonia engine: a js/wasm build has no other.
func engineFor(device string, tf32 bool) core.EngineFunc { return core.NewGorgonia }
