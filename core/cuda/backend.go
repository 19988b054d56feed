//go:build !js

package cuda

import (
	"fmt"
	"math"
	"sync"
)

// Backend is what an engine needs of a device; see the package doc.
type Backend interface {
	// Name describes the device: "NVIDIA H200 (sm_90)".
	Name() string
	// Alloc returns a device buffer of bytes bytes (contents undefined).
	Alloc(bytes int) (Buffer, error)
	// Free releases a buffer of Alloc.
	Free(b Buffer) error
	// CopyIn copies src into the start of dst; 4·len(src) ≤ dst.Bytes.
	CopyIn(dst Buffer, src []float32, s Stream) error
	// CopyOut copies the start of src into dst; 4·len(dst) ≤ src.Bytes.
	CopyOut(dst []float32, src Buffer, s Stream) error
	// Compile returns the kernel named name (an extern "C" __global__
	// function) of CUDA C source.
	Compile(name, source string) (Kernel, error)
	// Launch runs k on a grid of blocks, with sharedBytes of dynamic shared
	// memory, on stream s; args are Buffers, int32, uint32, float32 or
	// float64, in the kernel's parameter order.
	Launch(k Kernel, grid, block Dim3, sharedBytes int, s Stream, args ...any) error
	// NewStream returns a new stream; DestroyStream releases it.
	NewStream() (Stream, error)
	DestroyStream(s Stream) error
	// Synchronize waits until the work queued on s is done.
	Synchronize(s Stream) error
	// Close releases the device; calls after Close return ErrClosed.
	Close() error
}

// Buffer is device memory: its address and size in bytes.
type Buffer struct {
	Ptr   uint64
	Bytes int
}

// Stream is a device stream; the zero Stream is the default stream.
type Stream uintptr

// Dim3 is a grid or block shape.
type Dim3 struct{ X, Y, Z uint32 }

// Kernel is a compiled kernel of a backend.
type Kernel struct {
	Name string
	Key  string  // CacheKey of its source and architecture
	fn   uintptr // CUfunction (Device)
}

// checkCopy panics unless n float32 values fit in b.
func checkCopy(what string, b Buffer, n int) {
	if n < 0 || 4*n > b.Bytes {
		panic(fmt.Sprintf("cuda: %s of %d float32 values into a buffer of %d bytes", what, n, b.Bytes))
	}
}

// kernelArg is one kernel argument as the bytes cuLaunchKernel reads
// through its pointer: 8 bytes for a device pointer or float64, 4 for
// int32, uint32 and float32 (in the low half).
type kernelArg struct {
	bits uint64
	size int
}

// marshalArgs converts Launch's args. It panics on an unsupported type: a
// programmer error.
func marshalArgs(args []any) []kernelArg {
	out := make([]kernelArg, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case Buffer:
			out[i] = kernelArg{v.Ptr, 8}
		case int32:
			out[i] = kernelArg{uint64(uint32(v)), 4}
		case uint32:
			out[i] = kernelArg{uint64(v), 4}
		case float32:
			out[i] = kernelArg{uint64(math.Float32bits(v)), 4}
		case float64:
			out[i] = kernelArg{math.Float64bits(v), 8}
		default:
			panic(fmt.Sprintf("cuda: kernel argument %d has type %T (want Buffer, int32, uint32, float32 or float64)", i, a))
		}
	}
	return out
}

// HostKernel is a Null device's kernel: a Go function over the device's
// memory, called once per launch with the launch shape and the marshalled
// arguments (Buffer pointers and scalar bits as uint64).
type HostKernel func(mem *NullMemory, grid, block Dim3, args []uint64) error

// Null is a Backend in host memory whose kernels are Go functions
// (registered with Define): no GPU, for testing the plumbing. Its calls go
// through an Executor, as a Device's do, and it records the compiled
// sources' cache keys. It is safe for concurrent use.
type Null struct {
	exec    *Executor
	arch    string
	mem     NullMemory
	kernels map[string]HostKernel
	streams int
	mu      sync.Mutex // guards kernels
	// Launches counts the kernel launches, for tests.
	Launches int
}

// NullMemory is the Null device's memory: buffers by address.
type NullMemory struct {
	bufs map[uint64][]byte
	next uint64
}

// Float32s returns the buffer at ptr as float32 values (a copy).
func (m *NullMemory) Float32s(ptr uint64) []float32 {
	b := m.bufs[ptr]
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24)
	}
	return out
}

// SetFloat32s writes v at the start of the buffer at ptr.
func (m *NullMemory) SetFloat32s(ptr uint64, v []float32) {
	b := m.bufs[ptr]
	for i, x := range v {
		u := math.Float32bits(x)
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
}

// NewNull returns a Null device that claims architecture arch ("sm_90").
func NewNull(arch string) *Null {
	return &Null{exec: NewExecutor(), arch: arch, mem: NullMemory{bufs: map[uint64][]byte{}, next: 256},
		kernels: map[string]HostKernel{}}
}

// Define registers the Go function that runs the kernel called name.
func (d *Null) Define(name string, k HostKernel) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.kernels[name] = k
}

func (d *Null) Name() string { return "null device (" + d.arch + ")" }

func (d *Null) Alloc(bytes int) (Buffer, error) {
	if bytes <= 0 {
		panic(fmt.Sprintf("cuda: Alloc(%d)", bytes))
	}
	var b Buffer
	err := d.exec.Do(func() error {
		b = Buffer{Ptr: d.mem.next, Bytes: bytes}
		d.mem.bufs[b.Ptr] = make([]byte, bytes)
		d.mem.next += uint64(bytes+255) &^ 255 // 256-byte aligned, as cuMemAlloc
		return nil
	})
	return b, err
}

func (d *Null) Free(b Buffer) error {
	return d.exec.Do(func() error {
		if _, ok := d.mem.bufs[b.Ptr]; !ok {
			return &CallError{Call: "cuMemFree_v2", Code: Result(1)}
		}
		delete(d.mem.bufs, b.Ptr)
		return nil
	})
}

func (d *Null) CopyIn(dst Buffer, src []float32, s Stream) error {
	checkCopy("CopyIn", dst, len(src))
	return d.exec.Do(func() error {
		if _, ok := d.mem.bufs[dst.Ptr]; !ok {
			return &CallError{Call: "cuMemcpyHtoD_v2", Code: Result(1)}
		}
		d.mem.SetFloat32s(dst.Ptr, src)
		return nil
	})
}

func (d *Null) CopyOut(dst []float32, src Buffer, s Stream) error {
	checkCopy("CopyOut", src, len(dst))
	return d.exec.Do(func() error {
		if _, ok := d.mem.bufs[src.Ptr]; !ok {
			return &CallError{Call: "cuMemcpyDtoH_v2", Code: Result(1)}
		}
		copy(dst, d.mem.Float32s(src.Ptr))
		return nil
	})
}

func (d *Null) Compile(name, source string) (Kernel, error) {
	d.mu.Lock()
	_, ok := d.kernels[name]
	d.mu.Unlock()
	if !ok {
		return Kernel{}, &CallError{Call: "cuModuleGetFunction(" + name + ")", Code: Result(500)}
	}
	return Kernel{Name: name, Key: CacheKey(source, d.arch)}, nil
}

func (d *Null) Launch(k Kernel, grid, block Dim3, sharedBytes int, s Stream, args ...any) error {
	ka := marshalArgs(args)
	d.mu.Lock()
	f := d.kernels[k.Name]
	d.mu.Unlock()
	return d.exec.Do(func() error {
		bits := make([]uint64, len(ka))
		for i, a := range ka {
			bits[i] = a.bits
		}
		d.Launches++
		return f(&d.mem, grid, block, bits)
	})
}

func (d *Null) NewStream() (Stream, error) {
	var s Stream
	err := d.exec.Do(func() error { d.streams++; s = Stream(d.streams); return nil })
	return s, err
}

func (d *Null) DestroyStream(s Stream) error { return d.exec.Do(func() error { return nil }) }
func (d *Null) Synchronize(s Stream) error   { return d.exec.Do(func() error { return nil }) }
func (d *Null) Close() error                 { d.exec.Close(); return nil }

// Do runs f on the device's executor, for tests of the threading.
func (d *Null) Do(f func() error) error { return d.exec.Do(f) }

// float32frombits returns the float32 kernel argument in the low half of
// a marshalled argument.
func float32frombits(bits uint64) float32 { return math.Float32frombits(uint32(bits)) }
