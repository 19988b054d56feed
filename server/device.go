//go:build !js

package main

import "metriclab/core/cuda"

// probeCUDA opens the CUDA device and closes it again: its name, or the
// library's reason why there is none.
func probeCUDA() (string, error) {
	d, err := cuda.Open()
	if err != nil {
		return "", err
	}
	defer d.Close()
	return d.Name(), nil
}
