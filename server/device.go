//go:build !js

package main

import (
	"path/filepath"

	"metriclab/core"
	"metriclab/core/cuda"
)

// probeCUDA is cuda.Probe: the device's name, or the library's reason why
// there is none.
func probeCUDA() (string, error) { return cuda.Probe() }

// engineFor returns the training engine of a resolved device: the
// gorgonia engine for "cpu", the CUDA engine on the GPU for "cuda", and
// the CUDA engine on the CPU emulation of its kernels for "cuda-emu" (the
// kernels built with the machine's C++ compiler, cached beside the CUDA
// kernels). tf32 lets cuBLAS use TF32 tensor cores.
func engineFor(device string, tf32 bool) core.EngineFunc {
	switch device {
	case "cuda":
		return cuda.NewEngineFunc(func() (cuda.Backend, error) { return cuda.Open() }, cuda.Options{TF32: tf32})
	case "cuda-emu":
		return cuda.NewEngineFunc(func() (cuda.Backend, error) {
			dir, err := cuda.CacheDir()
			if err != nil {
				return nil, err
			}
			return cuda.NewEmu(filepath.Join(dir, "emu"))
		}, cuda.Options{})
	}
	return core.NewGorgonia
}
