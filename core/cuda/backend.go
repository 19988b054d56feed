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
	// Gemm queues the matrix product g on s (cuBLAS SGEMM on a Device).
	Gemm(g Gemm, s Stream) error
	// BeginCapture makes s record the work queued on it into a graph,
	// without running it, until EndCapture returns the graph. Copies,
	// synchronisation and allocation are errors while s records.
	BeginCapture(s Stream) error
	EndCapture(s Stream) (Graph, error)
	// LaunchGraph queues the recorded work of g on s, as recorded.
	LaunchGraph(g Graph, s Stream) error
	DestroyGraph(g Graph) error
	// Close releases the device; calls after Close return ErrClosed.
	Close() error
}

// Buffer is device memory: its address and size in bytes.
type Buffer struct {
	Ptr   uint64
	Bytes int
}

// Slice returns the n float32 values of b from value off on. It panics
// if they are not inside b.
func (b Buffer) Slice(off, n int) Buffer {
	if off < 0 || n < 0 || 4*(off+n) > b.Bytes {
		panic(fmt.Sprintf("cuda: slice [%d:%d] of a buffer of %d float32 values", off, off+n, b.Bytes/4))
	}
	return Buffer{Ptr: b.Ptr + uint64(4*off), Bytes: 4 * n}
}

// Stream is a device stream; the zero Stream is the default stream.
type Stream uintptr

// Graph is a recorded sequence of a stream's work (a CUDA graph,
// instantiated).
type Graph uintptr

// Gemm is the product of row-major float32 matrices
//
//	C = Alpha·op(A)·op(B) + Beta·C,   op(A) M×K, op(B) K×N, C M×N
//
// op(X) being X, or Xᵀ when TransX. LDA, LDB and LDC are the row lengths
// of A, B and C as stored (so A is M×LDA, or K×LDA when TransA). Beta = 0
// overwrites C whatever it held. Products accumulate in float32.
type Gemm struct {
	TransA, TransB bool
	M, N, K        int
	Alpha, Beta    float32
	A, B, C        Buffer
	LDA, LDB, LDC  int
}

// check panics unless g's shapes fit its buffers.
func (g Gemm) check() {
	rowsA, rowsB := g.M, g.K
	colsA, colsB := g.K, g.N
	if g.TransA {
		rowsA, colsA = colsA, rowsA
	}
	if g.TransB {
		rowsB, colsB = colsB, rowsB
	}
	fits := func(b Buffer, rows, cols, ld int) bool {
		return rows >= 0 && cols >= 0 && ld >= cols && (rows == 0 || 4*((rows-1)*ld+cols) <= b.Bytes)
	}
	if g.M < 0 || g.N < 0 || g.K < 0 || !fits(g.A, rowsA, colsA, g.LDA) || !fits(g.B, rowsB, colsB, g.LDB) || !fits(g.C, g.M, g.N, g.LDC) {
		panic(fmt.Sprintf("cuda: Gemm %+v does not fit its buffers", g))
	}
}

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
	graphs  hostGraphs
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

// find returns the buffer that holds address ptr and ptr's offset in it.
func (m *NullMemory) find(ptr uint64) ([]byte, int, bool) {
	for base, b := range m.bufs {
		if ptr >= base && ptr < base+uint64(len(b)) {
			return b, int(ptr - base), true
		}
	}
	return nil, 0, false
}

// view returns the float32 values of buffer b (a copy) and a function that
// writes values back into it.
func (m *NullMemory) view(b Buffer) ([]float32, func([]float32), bool) {
	mem, off, ok := m.find(b.Ptr)
	if !ok || off+b.Bytes > len(mem) {
		return nil, nil, false
	}
	v := make([]float32, b.Bytes/4)
	for i := range v {
		j := off + 4*i
		v[i] = math.Float32frombits(uint32(mem[j]) | uint32(mem[j+1])<<8 | uint32(mem[j+2])<<16 | uint32(mem[j+3])<<24)
	}
	store := func(v []float32) {
		for i, x := range v {
			u, j := math.Float32bits(x), off+4*i
			mem[j], mem[j+1], mem[j+2], mem[j+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
		}
	}
	return v, store, true
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
		if err := d.graphs.refuse("cuMemAlloc_v2", anyStream); err != nil {
			return err
		}
		b = Buffer{Ptr: d.mem.next, Bytes: bytes}
		d.mem.bufs[b.Ptr] = make([]byte, bytes)
		d.mem.next += uint64(bytes+255) &^ 255 // 256-byte aligned, as cuMemAlloc
		return nil
	})
	return b, err
}

func (d *Null) Free(b Buffer) error {
	return d.exec.Do(func() error {
		if err := d.graphs.refuse("cuMemFree_v2", anyStream); err != nil {
			return err
		}
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
		if err := d.graphs.refuse("cuMemcpyHtoDAsync_v2", s); err != nil {
			return err
		}
		v, store, ok := d.mem.view(dst)
		if !ok {
			return &CallError{Call: "cuMemcpyHtoDAsync_v2", Code: Result(1)}
		}
		copy(v, src)
		store(v)
		return nil
	})
}

func (d *Null) CopyOut(dst []float32, src Buffer, s Stream) error {
	checkCopy("CopyOut", src, len(dst))
	return d.exec.Do(func() error {
		if err := d.graphs.refuse("cuMemcpyDtoHAsync_v2", s); err != nil {
			return err
		}
		v, _, ok := d.mem.view(src)
		if !ok {
			return &CallError{Call: "cuMemcpyDtoHAsync_v2", Code: Result(1)}
		}
		copy(dst, v)
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
		return d.graphs.queue(s, func() error {
			d.Launches++
			return f(&d.mem, grid, block, bits)
		})
	})
}

// Gemm computes g in Go (gemmTo).
func (d *Null) Gemm(g Gemm, s Stream) error {
	g.check()
	return d.exec.Do(func() error {
		return d.graphs.queue(s, func() error {
			a, _, okA := d.mem.view(g.A)
			b, _, okB := d.mem.view(g.B)
			c, store, okC := d.mem.view(g.C)
			if !okA || !okB || !okC {
				return &CallError{Call: "cublasSgemm_v2", Code: CublasStatus(7)}
			}
			gemmTo(g, a, b, c)
			store(c)
			return nil
		})
	})
}

func (d *Null) BeginCapture(s Stream) error {
	return d.exec.Do(func() error { return d.graphs.begin(s) })
}

func (d *Null) EndCapture(s Stream) (Graph, error) {
	var g Graph
	err := d.exec.Do(func() (err error) { g, err = d.graphs.end(s); return err })
	return g, err
}

func (d *Null) LaunchGraph(g Graph, s Stream) error {
	return d.exec.Do(func() error { return d.graphs.launch(g, s) })
}

func (d *Null) DestroyGraph(g Graph) error {
	return d.exec.Do(func() error { return d.graphs.destroy(g) })
}

func (d *Null) NewStream() (Stream, error) {
	var s Stream
	err := d.exec.Do(func() error { d.streams++; s = Stream(d.streams); return nil })
	return s, err
}

func (d *Null) DestroyStream(s Stream) error { return d.exec.Do(func() error { return nil }) }
func (d *Null) Synchronize(s Stream) error {
	return d.exec.Do(func() error { return d.graphs.refuse("cuStreamSynchronize", s) })
}
func (d *Null) Close() error { d.exec.Close(); return nil }

// Do runs f on the device's executor, for tests of the threading.
func (d *Null) Do(f func() error) error { return d.exec.Do(f) }

// float32frombits returns the float32 kernel argument in the low half of
// a marshalled argument.
func float32frombits(bits uint64) float32 { return math.Float32frombits(uint32(bits)) }
