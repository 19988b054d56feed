//go:build !js && !linux

package cuda

import "errors"

// Open returns an error: the binding dlopens Linux libraries.
func Open() (*Device, error) { return nil, errors.New("cuda: the CUDA engine runs on Linux only") }

// Probe returns Open's error.
func Probe() (string, error) {
	_, err := Open()
	return "", err
}

// Device is a CUDA device; on this system there is none.
type Device struct{ Null }

// Emu is the CPU emulation of the kernels; on this system there is none.
type Emu struct{ Null }

// NewEmu returns an error: the emulation loads the kernels it compiles
// with dlopen, as the binding loads the CUDA libraries, on Linux only.
func NewEmu(dir string) (*Emu, error) {
	return nil, errors.New("cuda: the CUDA emulation (device cuda-emu) runs on Linux only")
}
