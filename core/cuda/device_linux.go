//go:build linux

package cuda

import (
	"bytes"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/ebitengine/purego"
)

// driver holds the driver API and NVRTC functions the Device calls,
// bound with purego. Every call runs on the Device's executor.
type driver struct {
	cuInit                    func(flags uint32) Result
	cuDeviceGetCount          func(n *int32) Result
	cuDeviceGet               func(dev *int32, ordinal int32) Result
	cuDeviceGetName           func(name *byte, n int32, dev int32) Result
	cuDeviceGetAttribute      func(v *int32, attr int32, dev int32) Result
	cuDevicePrimaryCtxRetain  func(ctx *uintptr, dev int32) Result
	cuDevicePrimaryCtxRelease func(dev int32) Result
	cuCtxSetCurrent           func(ctx uintptr) Result
	cuMemAlloc                func(p *uint64, n uintptr) Result
	cuMemFree                 func(p uint64) Result
	cuMemcpyHtoD              func(dst uint64, src unsafe.Pointer, n uintptr) Result
	cuMemcpyDtoH              func(dst unsafe.Pointer, src uint64, n uintptr) Result
	cuStreamCreate            func(s *uintptr, flags uint32) Result
	cuStreamDestroy           func(s uintptr) Result
	cuStreamSynchronize       func(s uintptr) Result
	cuModuleLoadData          func(m *uintptr, image unsafe.Pointer) Result
	cuModuleGetFunction       func(f *uintptr, m uintptr, name *byte) Result
	cuLaunchKernel            func(f uintptr, gx, gy, gz, bx, by, bz, shared uint32, s uintptr, params, extra unsafe.Pointer) Result
	nvrtcCreateProgram        func(p *uintptr, src, name *byte, nh int32, headers, includes unsafe.Pointer) NVRTCResult
	nvrtcCompileProgram       func(p uintptr, nopt int32, opts **byte) NVRTCResult
	nvrtcGetProgramLogSize    func(p uintptr, n *uintptr) NVRTCResult
	nvrtcGetProgramLog        func(p uintptr, log *byte) NVRTCResult
	nvrtcGetCUBINSize         func(p uintptr, n *uintptr) NVRTCResult
	nvrtcGetCUBIN             func(p uintptr, cubin *byte) NVRTCResult
	nvrtcDestroyProgram       func(p *uintptr) NVRTCResult
}

// bind resolves the functions in the opened libraries.
func (d *driver) bind(h handles) error {
	syms := []struct {
		lib  uintptr
		name string
		fn   any
	}{
		{h.cuda, "cuInit", &d.cuInit},
		{h.cuda, "cuDeviceGetCount", &d.cuDeviceGetCount},
		{h.cuda, "cuDeviceGet", &d.cuDeviceGet},
		{h.cuda, "cuDeviceGetName", &d.cuDeviceGetName},
		{h.cuda, "cuDeviceGetAttribute", &d.cuDeviceGetAttribute},
		{h.cuda, "cuDevicePrimaryCtxRetain", &d.cuDevicePrimaryCtxRetain},
		{h.cuda, "cuDevicePrimaryCtxRelease_v2", &d.cuDevicePrimaryCtxRelease},
		{h.cuda, "cuCtxSetCurrent", &d.cuCtxSetCurrent},
		{h.cuda, "cuMemAlloc_v2", &d.cuMemAlloc},
		{h.cuda, "cuMemFree_v2", &d.cuMemFree},
		{h.cuda, "cuMemcpyHtoD_v2", &d.cuMemcpyHtoD},
		{h.cuda, "cuMemcpyDtoH_v2", &d.cuMemcpyDtoH},
		{h.cuda, "cuStreamCreate", &d.cuStreamCreate},
		{h.cuda, "cuStreamDestroy_v2", &d.cuStreamDestroy},
		{h.cuda, "cuStreamSynchronize", &d.cuStreamSynchronize},
		{h.cuda, "cuModuleLoadData", &d.cuModuleLoadData},
		{h.cuda, "cuModuleGetFunction", &d.cuModuleGetFunction},
		{h.cuda, "cuLaunchKernel", &d.cuLaunchKernel},
		{h.nvrtc, "nvrtcCreateProgram", &d.nvrtcCreateProgram},
		{h.nvrtc, "nvrtcCompileProgram", &d.nvrtcCompileProgram},
		{h.nvrtc, "nvrtcGetProgramLogSize", &d.nvrtcGetProgramLogSize},
		{h.nvrtc, "nvrtcGetProgramLog", &d.nvrtcGetProgramLog},
		{h.nvrtc, "nvrtcGetCUBINSize", &d.nvrtcGetCUBINSize},
		{h.nvrtc, "nvrtcGetCUBIN", &d.nvrtcGetCUBIN},
		{h.nvrtc, "nvrtcDestroyProgram", &d.nvrtcDestroyProgram},
	}
	for _, s := range syms {
		p, err := purego.Dlsym(s.lib, s.name)
		if err != nil {
			return fmt.Errorf("cuda: %s missing from the installed libraries: %s", s.name, oneLine(err.Error()))
		}
		purego.RegisterFunc(s.fn, p)
	}
	return nil
}

// Device attributes (CUdevice_attribute).
const (
	attrComputeCapabilityMajor = 75
	attrComputeCapabilityMinor = 76
)

// Device is device 0 with its primary context, current on the executor's
// thread. It implements Backend. Its methods may be called from any
// goroutine; they run one at a time on the executor.
type Device struct {
	exec  *Executor
	libs  handles
	drv   driver
	dev   int32
	ctx   uintptr
	name  string
	arch  string // "sm_90"
	cache Cache
	mods  map[string]uintptr // CUmodule by cache key
}

// Open loads the CUDA libraries, initialises the driver and makes device
// 0's primary context current on a new executor thread. On a machine
// without them it returns one line naming what is missing:
//
//	cuda: libcuda.so.1 not found: no NVIDIA driver on this machine
func Open() (*Device, error) {
	libs, err := openLibraries(func(name string) (uintptr, error) {
		return purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	})
	if err != nil {
		return nil, err
	}
	d := &Device{libs: libs, mods: map[string]uintptr{}}
	if err := d.drv.bind(libs); err != nil {
		return nil, err
	}
	dir, err := CacheDir()
	if err != nil {
		return nil, err
	}
	d.cache = Cache{Dir: dir}
	d.exec = NewExecutor()
	err = d.exec.Do(func() error {
		if err := check("cuInit", d.drv.cuInit(0)); err != nil {
			return err
		}
		var n int32
		if err := check("cuDeviceGetCount", d.drv.cuDeviceGetCount(&n)); err != nil {
			return err
		}
		if n == 0 {
			return &CallError{Call: "cuDeviceGetCount", Code: ErrNoDevice}
		}
		if err := check("cuDeviceGet", d.drv.cuDeviceGet(&d.dev, 0)); err != nil {
			return err
		}
		var name [256]byte
		if err := check("cuDeviceGetName", d.drv.cuDeviceGetName(&name[0], int32(len(name)), d.dev)); err != nil {
			return err
		}
		d.name = string(bytes.TrimRight(name[:], "\x00"))
		var major, minor int32
		if err := check("cuDeviceGetAttribute", d.drv.cuDeviceGetAttribute(&major, attrComputeCapabilityMajor, d.dev)); err != nil {
			return err
		}
		if err := check("cuDeviceGetAttribute", d.drv.cuDeviceGetAttribute(&minor, attrComputeCapabilityMinor, d.dev)); err != nil {
			return err
		}
		d.arch = fmt.Sprintf("sm_%d%d", major, minor)
		if err := check("cuDevicePrimaryCtxRetain", d.drv.cuDevicePrimaryCtxRetain(&d.ctx, d.dev)); err != nil {
			return err
		}
		return check("cuCtxSetCurrent", d.drv.cuCtxSetCurrent(d.ctx))
	})
	if err != nil {
		d.exec.Close()
		return nil, err
	}
	return d, nil
}

// HasCuDNN reports whether libcudnn.so.9 was found.
func (d *Device) HasCuDNN() bool { return d.libs.cudnn != 0 }

// Arch returns the device's architecture for NVRTC, "sm_90".
func (d *Device) Arch() string { return d.arch }

func (d *Device) Name() string { return fmt.Sprintf("%s (%s)", d.name, d.arch) }

func (d *Device) Alloc(n int) (Buffer, error) {
	if n <= 0 {
		panic(fmt.Sprintf("cuda: Alloc(%d)", n))
	}
	var p uint64
	err := d.exec.Do(func() error { return check("cuMemAlloc_v2", d.drv.cuMemAlloc(&p, uintptr(n))) })
	return Buffer{Ptr: p, Bytes: n}, err
}

func (d *Device) Free(b Buffer) error {
	return d.exec.Do(func() error { return check("cuMemFree_v2", d.drv.cuMemFree(b.Ptr)) })
}

// CopyIn copies synchronously (pageable Go memory); s orders nothing yet.
func (d *Device) CopyIn(dst Buffer, src []float32, s Stream) error {
	checkCopy("CopyIn", dst, len(src))
	if len(src) == 0 {
		return nil
	}
	return d.exec.Do(func() error {
		err := check("cuMemcpyHtoD_v2", d.drv.cuMemcpyHtoD(dst.Ptr, unsafe.Pointer(&src[0]), uintptr(4*len(src))))
		runtime.KeepAlive(src)
		return err
	})
}

// CopyOut copies synchronously (pageable Go memory).
func (d *Device) CopyOut(dst []float32, src Buffer, s Stream) error {
	checkCopy("CopyOut", src, len(dst))
	if len(dst) == 0 {
		return nil
	}
	return d.exec.Do(func() error {
		err := check("cuMemcpyDtoH_v2", d.drv.cuMemcpyDtoH(unsafe.Pointer(&dst[0]), src.Ptr, uintptr(4*len(dst))))
		runtime.KeepAlive(dst)
		return err
	})
}

// Compile returns kernel name of source, compiled by NVRTC for the
// device's architecture, or loaded from the kernel cache.
func (d *Device) Compile(name, source string) (Kernel, error) {
	key := CacheKey(source, d.arch)
	k := Kernel{Name: name, Key: key}
	err := d.exec.Do(func() error {
		mod, ok := d.mods[key]
		if !ok {
			cubin, hit, err := d.cache.Load(key)
			if err != nil {
				return err
			}
			if !hit || len(cubin) == 0 {
				if cubin, err = d.nvrtc(name, source); err != nil {
					return err
				}
				if err := d.cache.Store(key, cubin); err != nil {
					return err
				}
			}
			if err := check("cuModuleLoadData", d.drv.cuModuleLoadData(&mod, unsafe.Pointer(&cubin[0]))); err != nil {
				return err
			}
			runtime.KeepAlive(cubin)
			d.mods[key] = mod
		}
		cname := append([]byte(name), 0)
		return check("cuModuleGetFunction("+name+")", d.drv.cuModuleGetFunction(&k.fn, mod, &cname[0]))
	})
	return k, err
}

// nvrtc compiles source to a CUBIN for d.arch; on a compilation error it
// returns NVRTC's log.
func (d *Device) nvrtc(name, source string) ([]byte, error) {
	src, file := append([]byte(source), 0), append([]byte(name+".cu"), 0)
	var prog uintptr
	if err := check("nvrtcCreateProgram", d.drv.nvrtcCreateProgram(&prog, &src[0], &file[0], 0, nil, nil)); err != nil {
		return nil, err
	}
	defer d.drv.nvrtcDestroyProgram(&prog)
	opts := [][]byte{append([]byte("--gpu-architecture="+d.arch), 0), []byte("--std=c++17\x00")}
	ptrs := []*byte{&opts[0][0], &opts[1][0]}
	if r := d.drv.nvrtcCompileProgram(prog, int32(len(ptrs)), &ptrs[0]); r != 0 {
		var n uintptr
		d.drv.nvrtcGetProgramLogSize(prog, &n)
		log := make([]byte, n+1)
		d.drv.nvrtcGetProgramLog(prog, &log[0])
		return nil, fmt.Errorf("%w: %s", &CallError{Call: "nvrtcCompileProgram(" + name + ")", Code: r}, oneLine(string(bytes.TrimRight(log, "\x00"))))
	}
	runtime.KeepAlive(opts)
	var n uintptr
	if err := check("nvrtcGetCUBINSize", d.drv.nvrtcGetCUBINSize(prog, &n)); err != nil {
		return nil, err
	}
	cubin := make([]byte, n)
	if err := check("nvrtcGetCUBIN", d.drv.nvrtcGetCUBIN(prog, &cubin[0])); err != nil {
		return nil, err
	}
	return cubin, nil
}

func (d *Device) Launch(k Kernel, grid, block Dim3, sharedBytes int, s Stream, args ...any) error {
	ka := marshalArgs(args)
	return d.exec.Do(func() error {
		vals := make([]uint64, len(ka))
		params := make([]unsafe.Pointer, len(ka)+1)
		for i, a := range ka {
			vals[i] = a.bits // little-endian: a 4-byte argument is the low half
			params[i] = unsafe.Pointer(&vals[i])
		}
		r := d.drv.cuLaunchKernel(k.fn, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, uint32(sharedBytes),
			uintptr(s), unsafe.Pointer(&params[0]), nil)
		runtime.KeepAlive(vals)
		runtime.KeepAlive(params)
		return check("cuLaunchKernel("+k.Name+")", r)
	})
}

func (d *Device) NewStream() (Stream, error) {
	var s uintptr
	err := d.exec.Do(func() error { return check("cuStreamCreate", d.drv.cuStreamCreate(&s, 0)) })
	return Stream(s), err
}

func (d *Device) DestroyStream(s Stream) error {
	return d.exec.Do(func() error { return check("cuStreamDestroy_v2", d.drv.cuStreamDestroy(uintptr(s))) })
}

func (d *Device) Synchronize(s Stream) error {
	return d.exec.Do(func() error { return check("cuStreamSynchronize", d.drv.cuStreamSynchronize(uintptr(s))) })
}

// Close releases the primary context and stops the executor.
func (d *Device) Close() error {
	err := d.exec.Do(func() error { return check("cuDevicePrimaryCtxRelease_v2", d.drv.cuDevicePrimaryCtxRelease(d.dev)) })
	d.exec.Close()
	return err
}

var _ Backend = (*Device)(nil)
var _ Backend = (*Null)(nil)
