//go:build !linux && !js

package kern

import "time"

// threadCPU is not measured here: the benchmarks report wall time alone.
func threadCPU() time.Duration { return 0 }
