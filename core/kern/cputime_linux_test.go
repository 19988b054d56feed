package kern

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time the calling thread has run: on a shared
// machine it leaves out the time the thread waited for a core, which wall
// time counts.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1, &ru); err != nil { // RUSAGE_THREAD
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
