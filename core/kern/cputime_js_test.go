package kern

import (
	"syscall/js"
	"time"
)

// threadCPU returns the CPU time of the node process that runs the test
// (process.cpuUsage), 0 in a browser: on a shared machine it leaves out
// the time the process waited for a core, which wall time counts.
func threadCPU() time.Duration {
	p := js.Global().Get("process")
	if p.Type() != js.TypeObject || p.Get("cpuUsage").Type() != js.TypeFunction {
		return 0
	}
	u := p.Call("cpuUsage")
	return time.Duration(u.Get("user").Float()+u.Get("system").Float()) * time.Microsecond
}
