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
	cuMemcpyHtoDAsync         func(dst uint64, src unsafe.Pointer, n uintptr, s uintptr) Result
	cuMemcpyDtoHAsync         func(dst unsafe.Pointer, src uint64, n uintptr, s uintptr) Result
	cuStreamBeginCapture      func(s uintptr, mode int32) Result
	cuStreamEndCapture        func(s uintptr, graph *uintptr) Result
	cuGraphInstantiate        func(exec *uintptr, graph uintptr, flags uint64) Result
	cuGraphLaunch             func(exec uintptr, s uintptr) Result
	cuGraphExecDestroy        func(exec uintptr) Result
	cuGraphDestroy            func(graph uintptr) Result
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

	cublasCreate       func(h *uintptr) CublasStatus
	cublasDestroy      func(h uintptr) CublasStatus
	cublasSetStream    func(h uintptr, s uintptr) CublasStatus
	cublasSetMathMode  func(h uintptr, mode int32) CublasStatus
	cublasSetWorkspace func(h uintptr, ws uint64, bytes uintptr) CublasStatus
	cublasSgemm        func(h uintptr, ta, tb int32, m, n, k int32, alpha *float32, a uint64, lda int32,
		b uint64, ldb int32, beta *float32, c uint64, ldc int32) CublasStatus
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
		{h.cuda, "cuMemcpyHtoDAsync_v2", &d.cuMemcpyHtoDAsync},
		{h.cuda, "cuMemcpyDtoHAsync_v2", &d.cuMemcpyDtoHAsync},
		{h.cuda, "cuStreamBeginCapture_v2", &d.cuStreamBeginCapture},
		{h.cuda, "cuStreamEndCapture", &d.cuStreamEndCapture},
		{h.cuda, "cuGraphInstantiateWithFlags", &d.cuGraphInstantiate},
		{h.cuda, "cuGraphLaunch", &d.cuGraphLaunch},
		{h.cuda, "cuGraphExecDestroy", &d.cuGraphExecDestroy},
		{h.cuda, "cuGraphDestroy", &d.cuGraphDestroy},
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
		{h.cublas, "cublasCreate_v2", &d.cublasCreate},
		{h.cublas, "cublasDestroy_v2", &d.cublasDestroy},
		{h.cublas, "cublasSetStream_v2", &d.cublasSetStream},
		{h.cublas, "cublasSetMathMode", &d.cublasSetMathMode},
		{h.cublas, "cublasSetWorkspace_v2", &d.cublasSetWorkspace},
		{h.cublas, "cublasSgemm_v2", &d.cublasSgemm},
	}
	for _, s := range syms {
		p, err := dlsym(s.lib, s.name)
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

	blas       uintptr // cublasHandle_t, made at the first Gemm
	blasStream Stream  // the stream the handle is set to
	workspace  Buffer  // cuBLAS's workspace, so that a capture allocates nothing
	tf32       bool    // cuBLAS may use TF32 tensor cores
}

// Probe opens the device and closes it again: its name, or the loader's
// one-line reason why there is none.
func Probe() (string, error) {
	d, err := Open()
	if err != nil {
		return "", err
	}
	defer d.Close()
	return d.Name(), nil
}

// Open loads the CUDA libraries, initialises the driver and makes device
// 0's primary context current on a new executor thread. On a machine
// without them it returns one line naming what is missing:
//
//	cuda: libcuda.so.1 not found: no NVIDIA driver on this machine
func Open() (*Device, error) {
	return openWith(system{
		dlopen:  func(name string) (uintptr, error) { return dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL) },
		dlclose: dlclose,
		bind:    (*driver).bind,
	})
}

// system is what Open asks of the machine: the dynamic loader, and the
// binding of the driver's functions in the libraries opened. Tests give
// it a recording fake.
type system struct {
	dlopen  loader
	dlclose func(lib uintptr) error
	bind    func(d *driver, h handles) error
}

// openWith is Open on sys. On an error it undoes what it did, last
// first: it releases the primary context it retained, stops the executor
// and, when no call reached the driver yet, closes the libraries. Once
// cuInit has run they stay loaded, as they do after Close: the driver may
// have started threads and registered exit handlers, and unloading it
// then can crash the process (CUDA.jl met a segfault in the dlclose of a
// libcuda whose cuInit had failed, JuliaGPU/CUDA.jl#1848, and stopped
// closing it).
func openWith(sys system) (*Device, error) {
	libs, err := openLibraries(sys.dlopen)
	closeLibs := func() {
		for _, h := range [...]uintptr{libs.cudnn, libs.cublas, libs.nvrtc, libs.cuda} {
			if h != 0 {
				sys.dlclose(h)
			}
		}
	}
	if err != nil {
		closeLibs() // those opened before the one that failed
		return nil, err
	}
	d := &Device{libs: libs, mods: map[string]uintptr{}}
	if err := sys.bind(&d.drv, libs); err != nil {
		closeLibs()
		return nil, err
	}
	dir, err := CacheDir()
	if err != nil {
		closeLibs()
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
		if err := check("cuCtxSetCurrent", d.drv.cuCtxSetCurrent(d.ctx)); err != nil {
			d.drv.cuDevicePrimaryCtxRelease(d.dev)
			return err
		}
		return nil
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

// CopyIn queues the copy on s after the work queued before it. From
// pageable Go memory the driver stages src before returning, so src may
// be reused at once.
func (d *Device) CopyIn(dst Buffer, src []float32, s Stream) error {
	checkCopy("CopyIn", dst, len(src))
	if len(src) == 0 {
		return nil
	}
	return d.exec.Do(func() error {
		err := check("cuMemcpyHtoDAsync_v2", d.drv.cuMemcpyHtoDAsync(dst.Ptr, unsafe.Pointer(&src[0]), uintptr(4*len(src)), uintptr(s)))
		runtime.KeepAlive(src)
		return err
	})
}

// CopyOut copies after the work queued on s and waits for the copy.
func (d *Device) CopyOut(dst []float32, src Buffer, s Stream) error {
	checkCopy("CopyOut", src, len(dst))
	if len(dst) == 0 {
		return nil
	}
	return d.exec.Do(func() error {
		err := check("cuMemcpyDtoHAsync_v2", d.drv.cuMemcpyDtoHAsync(unsafe.Pointer(&dst[0]), src.Ptr, uintptr(4*len(dst)), uintptr(s)))
		if err == nil {
			err = check("cuStreamSynchronize", d.drv.cuStreamSynchronize(uintptr(s)))
		}
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
	// CU_STREAM_NON_BLOCKING: no implicit synchronisation with the legacy
	// default stream.
	err := d.exec.Do(func() error { return check("cuStreamCreate", d.drv.cuStreamCreate(&s, 1)) })
	return Stream(s), err
}

func (d *Device) DestroyStream(s Stream) error {
	return d.exec.Do(func() error { return check("cuStreamDestroy_v2", d.drv.cuStreamDestroy(uintptr(s))) })
}

func (d *Device) Synchronize(s Stream) error {
	return d.exec.Do(func() error { return check("cuStreamSynchronize", d.drv.cuStreamSynchronize(uintptr(s))) })
}

// cuBLAS settings (cublas_api.h).
const (
	cublasOpN            = 0
	cublasOpT            = 1
	cublasDefaultMath    = 0 // FP32 products in FP32
	cublasTF32Math       = 3 // CUBLAS_TF32_TENSOR_OP_MATH
	cublasWorkspaceBytes = 32 << 20
)

// SetTF32 lets cuBLAS use TF32 tensor cores for the products (10 bits of
// mantissa in the inputs, FP32 sums), as PyTorch's convolutions do by
// default; parity tests keep it off. It applies from the next Gemm.
func (d *Device) SetTF32(on bool) error {
	return d.exec.Do(func() error {
		d.tf32 = on
		if d.blas == 0 {
			return nil
		}
		return d.setMathMode()
	})
}

func (d *Device) setMathMode() error {
	mode := int32(cublasDefaultMath)
	if d.tf32 {
		mode = cublasTF32Math
	}
	return check("cublasSetMathMode", d.drv.cublasSetMathMode(d.blas, mode))
}

// Gemm queues g on s with cublasSgemm. cuBLAS is column-major: the
// row-major C = op(A)·op(B) is the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, so
// the call swaps the operands and M with N.
func (d *Device) Gemm(g Gemm, s Stream) error {
	g.check()
	return d.exec.Do(func() error {
		if d.blas == 0 {
			if err := d.startBlas(); err != nil {
				return err
			}
		}
		if d.blasStream != s {
			if err := check("cublasSetStream_v2", d.drv.cublasSetStream(d.blas, uintptr(s))); err != nil {
				return err
			}
			d.blasStream = s
		}
		op := func(t bool) int32 {
			if t {
				return cublasOpT
			}
			return cublasOpN
		}
		alpha, beta := g.Alpha, g.Beta
		return check("cublasSgemm_v2", d.drv.cublasSgemm(d.blas, op(g.TransB), op(g.TransA), int32(g.N), int32(g.M), int32(g.K),
			&alpha, g.B.Ptr, int32(g.LDB), g.A.Ptr, int32(g.LDA), &beta, g.C.Ptr, int32(g.LDC)))
	})
}

// startBlas makes the cuBLAS handle with its workspace and math mode, on
// the executor. On an error it undoes what it made, so that the next Gemm
// starts again rather than use a handle without its workspace (cuBLAS
// would then allocate inside a capture) or its TF32 setting.
func (d *Device) startBlas() (err error) {
	var h uintptr
	if err := check("cublasCreate_v2", d.drv.cublasCreate(&h)); err != nil {
		return err
	}
	var ws uint64
	defer func() {
		if err != nil {
			if ws != 0 {
				d.drv.cuMemFree(ws)
			}
			d.drv.cublasDestroy(h)
			d.blas, d.workspace = 0, Buffer{}
		}
	}()
	if err := check("cuMemAlloc_v2", d.drv.cuMemAlloc(&ws, cublasWorkspaceBytes)); err != nil {
		ws = 0
		return err
	}
	if err := check("cublasSetWorkspace_v2", d.drv.cublasSetWorkspace(h, ws, cublasWorkspaceBytes)); err != nil {
		return err
	}
	d.blas = h
	if err := d.setMathMode(); err != nil {
		return err
	}
	d.workspace, d.blasStream = Buffer{Ptr: ws, Bytes: cublasWorkspaceBytes}, anyStream
	return nil
}

// BeginCapture starts recording s (CU_STREAM_CAPTURE_MODE_THREAD_LOCAL:
// every call of the device runs on the executor's thread).
func (d *Device) BeginCapture(s Stream) error {
	return d.exec.Do(func() error { return check("cuStreamBeginCapture_v2", d.drv.cuStreamBeginCapture(uintptr(s), 1)) })
}

// EndCapture ends the recording of s and instantiates it.
func (d *Device) EndCapture(s Stream) (Graph, error) {
	var exec uintptr
	err := d.exec.Do(func() error {
		var g uintptr
		if err := check("cuStreamEndCapture", d.drv.cuStreamEndCapture(uintptr(s), &g)); err != nil {
			return err
		}
		defer d.drv.cuGraphDestroy(g) // the instantiated graph does not need it
		return check("cuGraphInstantiateWithFlags", d.drv.cuGraphInstantiate(&exec, g, 0))
	})
	return Graph(exec), err
}

func (d *Device) LaunchGraph(g Graph, s Stream) error {
	return d.exec.Do(func() error { return check("cuGraphLaunch", d.drv.cuGraphLaunch(uintptr(g), uintptr(s))) })
}

func (d *Device) DestroyGraph(g Graph) error {
	return d.exec.Do(func() error { return check("cuGraphExecDestroy", d.drv.cuGraphExecDestroy(uintptr(g))) })
}

// Close releases cuBLAS and the primary context and stops the executor;
// the libraries stay loaded (see openWith).
func (d *Device) Close() error {
	err := d.exec.Do(func() error {
		if d.blas != 0 {
			d.drv.cublasDestroy(d.blas)
			d.drv.cuMemFree(d.workspace.Ptr)
			d.blas = 0
		}
		return check("cuDevicePrimaryCtxRelease_v2", d.drv.cuDevicePrimaryCtxRelease(d.dev))
	})
	d.exec.Close()
	return err
}

var _ Backend = (*Device)(nil)
var _ Backend = (*Null)(nil)
