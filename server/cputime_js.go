package main

import "time"

// cpuTime is unknown in the browser build.
func cpuTime() time.Duration { return 0 }
