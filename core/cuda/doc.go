//go:build !js

// Package cuda is metriclab's CUDA engine and binding: pure Go (purego,
// CGO_ENABLED=0) over the driver API (libcuda.so.1), NVRTC
// (libnvrtc.so.13 or .12) and cuBLAS (libcublas.so.13 or .12); cuDNN
// (libcudnn.so.9) is found when present but not used yet. A binary that
// imports it builds and runs on machines without CUDA: Open then returns
// an error that names what is missing, and callers fall back to the CPU
// engine.
//
// Trainer (engine.go, engine_emit.go) trains a core.Spec's Plan and a
// core.LossPlanner loss on a Backend with the kernels of kernels.go; it
// implements core.Engine. Emu (emu.go) is a Backend that runs the same
// kernel source on the CPU, compiled by g++, for the tests.
//
// # Backend contract
//
// An engine talks to a device only through Backend, which is small on
// purpose (in the manner of tinygrad's backends):
//
//	Alloc(bytes)                    a device buffer
//	Free(buf)
//	CopyIn(dst buf, src []float32, stream)    host → device
//	CopyOut(dst []float32, src buf, stream)   device → host
//	Compile(name, source)           a kernel from CUDA C (NVRTC, cached on disk)
//	Launch(kernel, grid, block, sharedBytes, stream, args...)
//	Gemm(g, stream)                 a row-major float32 product (cuBLAS)
//	BeginCapture(stream), EndCapture(stream) → graph, LaunchGraph(graph, stream)
//	NewStream(), Synchronize(stream), DestroyStream(stream)
//	Close()
//
// A zero Stream is the default stream. Kernel arguments are Buffers (passed
// as device pointers), int32, uint32, float32 and float64 values, in the
// order of the kernel's parameters. *Device is the CUDA implementation;
// Emu runs the kernels' CUDA C on the CPU; Null is a host-memory
// implementation whose kernels are Go functions. The host backends record
// a capturing stream's work as CUDA does and refuse what a capture
// refuses (copies, synchronisation, allocation), so that an engine tested
// on them captures what a GPU accepts.
//
// # Threads
//
// A CUDA context is current on one OS thread. Every driver, NVRTC and
// cuBLAS call of a Device runs on its Executor: one goroutine that called
// runtime.LockOSThread and runs the functions queued to it, one at a time,
// in order. Calling the libraries from any other goroutine would meet
// CUDA_ERROR_INVALID_CONTEXT.
//
// # Kernel cache
//
// NVRTC compiles a kernel's source for the device's compute capability
// ("sm_90") at first use; the CUBIN is stored under CacheDir(), named by
// CacheKey(source, arch) = hex(SHA-256(arch ‖ 0x00 ‖ source)).
//
// # Errors
//
// Failed calls return errors that carry the library's name for the code:
//
//	cuda: cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (2)
//
// Result, NVRTCResult and CublasStatus are the codes, comparable with
// errors.Is.
package cuda
