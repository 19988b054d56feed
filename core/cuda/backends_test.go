//go:build linux

package cuda

import (
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
)

// The kernel and engine tests run on every backend this machine has: the
// CPU emulation when a C++ compiler is there (built once per test binary
// in a temporary folder), and the GPU when CUDA opens. METRICLAB_BACKENDS
// ("emu", "device" or "emu,device") narrows the list; a backend it names
// that is missing fails the test instead of skipping it.

var (
	emuOnce sync.Once
	emuDev  *Emu
	emuErr  error
	emuDir  string
	gpuOnce sync.Once
	gpuDev  *Device
	gpuErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if emuDev != nil {
		emuDev.Close()
	}
	if emuDir != "" {
		os.RemoveAll(emuDir)
	}
	if gpuDev != nil {
		gpuDev.Close()
	}
	os.Exit(code)
}

// testBackend is one backend under test and its name.
type testBackend struct {
	name string
	b    Backend
}

// backends returns the backends to test on; it skips the test when there
// is none (saying why).
func backends(t testing.TB) []testBackend {
	t.Helper()
	want := os.Getenv("METRICLAB_BACKENDS")
	named := func(n string) bool { return want == "" || strings.Contains(want, n) }
	var out []testBackend
	var why []string
	if named("emu") {
		emuOnce.Do(func() {
			emuDir, emuErr = os.MkdirTemp("", "metriclab-emu-")
			if emuErr == nil {
				emuDev, emuErr = NewEmu(emuDir)
			}
		})
		if emuErr == nil {
			out = append(out, testBackend{"emu", emuDev})
		} else if want != "" {
			t.Fatalf("METRICLAB_BACKENDS=%s: %v", want, emuErr)
		} else {
			why = append(why, emuErr.Error())
		}
	}
	if named("device") {
		gpuOnce.Do(func() { gpuDev, gpuErr = Open() })
		if gpuErr == nil {
			out = append(out, testBackend{"device", gpuDev})
		} else if want != "" {
			t.Fatalf("METRICLAB_BACKENDS=%s: %v", want, gpuErr)
		} else {
			why = append(why, gpuErr.Error())
		}
	}
	if len(out) == 0 {
		t.Skipf("no backend: %s", strings.Join(why, "; "))
	}
	return out
}

// closeTo reports the first element of got farther from want than
// atol + rtol·|want| (or NaN), and the largest difference.
func closeTo(got []float32, want []float64, atol, rtol float64) (bad int, maxDiff float64) {
	bad = -1
	if len(got) != len(want) {
		return 0, math.Inf(1)
	}
	for i, w := range want {
		d := math.Abs(float64(got[i]) - w)
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		maxDiff = max(maxDiff, d)
		if d > atol+rtol*math.Abs(w) && bad < 0 {
			bad = i
		}
	}
	return bad, maxDiff
}

// checkClose fails t when got and want differ by more than
// atol + rtol·|want| anywhere.
func checkClose(t *testing.T, what string, got []float32, want []float64, atol, rtol float64) {
	t.Helper()
	if bad, d := closeTo(got, want, atol, rtol); bad >= 0 {
		if len(got) != len(want) {
			t.Errorf("%s: %d values, want %d", what, len(got), len(want))
			return
		}
		t.Errorf("%s: [%d] = %v, want %v (max |diff| %.3g over %d values)", what, bad, got[bad], want[bad], d, len(want))
	}
}

func f64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// parityTol is the parity tolerance of the issue: 1e-4 + 1e-3·|ref|.
const (
	parityAtol = 1e-4
	parityRtol = 1e-3
)

func name(parts ...any) string { return strings.TrimSpace(fmt.Sprintln(parts...)) }
