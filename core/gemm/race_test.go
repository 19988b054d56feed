//go:build race

package gemm

// raceEnabled: the tests run under the race detector, whose sync.Pool
// drops a quarter of what it is given (sync/pool.go), so allocation
// counts of code that pools its scratch are not the program's.
const raceEnabled = true
