//go:build linux

package cuda

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"github.com/ebitengine/purego"
)

// Emu is a Backend that runs the kernels' CUDA C source on the CPU: the
// same source, compiled by the machine's C++ compiler against emuHeader,
// loaded with purego like the CUDA libraries. Buffers live in the C heap;
// Gemm is a plain float32 loop (emu_sgemm) standing in for cuBLAS; streams
// are one queue; capture records as CUDA does (hostGraphs). It is slow,
// and exact enough to compare a kernel's arithmetic with the gorgonia
// engine's. Its calls go through an Executor, like a Device's. Building a
// kernel source takes seconds; the libraries are cached in Dir by a hash
// of what they are built from.
type Emu struct {
	Dir string // where the compiled libraries are kept

	exec   *Executor
	cxx    string
	rt     emuRuntimeFuncs
	libs   map[string]uintptr // library handle by source hash
	launch map[uintptr]emuLaunch
	bufs   map[uint64]int // live allocations: size by address
	graphs hostGraphs
	mu     sync.Mutex // guards libs during Compile

	// Launches counts kernel launches run (not recorded), for tests.
	Launches int
}

type emuRuntimeFuncs struct {
	alloc   func(bytes uint64) uint64
	free    func(p uint64)
	copyIn  func(dst uint64, src *float32, bytes uint64)
	copyOut func(dst *float32, src uint64, bytes uint64)
	sgemm   func(ta, tb, m, n, k int32, alpha float32, a uint64, lda int32, b uint64, ldb int32, beta float32, c uint64, ldc int32)
}

// emuLaunchMu serialises the launches of every Emu of the process: the
// emulated built-ins (threadIdx, …) and __shared__ arrays are process-wide
// variables of the compiled libraries, which every Emu shares.
var emuLaunchMu sync.Mutex

// emuLaunch is a compiled kernel's launcher: dims are grid x, y, z and
// block x, y, z; args one 8-byte slot per argument.
type emuLaunch func(dims *uint32, args *uint64) int32

// NewEmu finds a C++ compiler ($CXX, else g++, else c++), builds the
// runtime library in dir (created if needed) and returns the backend. It
// returns one line saying what is missing when there is no compiler.
func NewEmu(dir string) (*Emu, error) {
	if runtime.GOARCH != "amd64" {
		return nil, errors.New("cuda: the CPU emulation of the kernels runs on amd64 only (its threads switch stacks in x86-64 assembly)")
	}
	cxx := os.Getenv("CXX")
	if cxx == "" {
		for _, c := range []string{"g++", "c++"} {
			if _, err := exec.LookPath(c); err == nil {
				cxx = c
				break
			}
		}
	}
	if cxx == "" {
		return nil, errors.New("cuda: the CPU emulation of the kernels needs a C++ compiler (g++ or $CXX): none found")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cuda: emulation: %v", err)
	}
	e := &Emu{Dir: dir, cxx: cxx, libs: map[string]uintptr{}, launch: map[uintptr]emuLaunch{}, bufs: map[uint64]int{},
		exec: NewExecutor()}
	lib, err := e.build(emuRuntime)
	if err != nil {
		e.exec.Close()
		return nil, err
	}
	for _, s := range []struct {
		name string
		fn   any
	}{{"emu_alloc", &e.rt.alloc}, {"emu_free", &e.rt.free}, {"emu_copy_in", &e.rt.copyIn},
		{"emu_copy_out", &e.rt.copyOut}, {"emu_sgemm", &e.rt.sgemm}} {
		p, err := dlsym(lib, s.name)
		if err != nil {
			e.exec.Close()
			return nil, fmt.Errorf("cuda: emulation runtime: %v", err)
		}
		purego.RegisterFunc(s.fn, p)
	}
	return e, nil
}

// build compiles C++ source into a shared library in e.Dir (unless one
// built from the same source is there) and opens it.
func (e *Emu) build(source string) (uintptr, error) {
	sum := sha256.Sum256([]byte(e.cxx + "\x00" + source))
	key := hex.EncodeToString(sum[:12])
	e.mu.Lock()
	defer e.mu.Unlock()
	if h, ok := e.libs[key]; ok {
		return h, nil
	}
	so := filepath.Join(e.Dir, "emu-"+key+".so")
	if _, err := os.Stat(so); err != nil {
		src := filepath.Join(e.Dir, "emu-"+key+".cc")
		if err := os.WriteFile(src, []byte(source), 0o644); err != nil {
			return 0, fmt.Errorf("cuda: emulation: %v", err)
		}
		tmp := so + fmt.Sprintf(".tmp%d", os.Getpid())
		out, err := exec.Command(e.cxx, "-std=c++17", "-O2", "-fPIC", "-shared", "-w", "-o", tmp, src).CombinedOutput()
		if err != nil {
			os.Remove(tmp)
			return 0, fmt.Errorf("cuda: emulation: %s %s: %v: %s", e.cxx, src, err, firstLines(string(out), 12))
		}
		if err := os.Rename(tmp, so); err != nil {
			return 0, fmt.Errorf("cuda: emulation: %v", err)
		}
	}
	h, err := dlopen(so, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return 0, fmt.Errorf("cuda: emulation: loading %s: %v", so, err)
	}
	e.libs[key] = h
	return h, nil
}

// firstLines returns the first n lines of s.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

func (e *Emu) Name() string { return "CPU emulation (" + e.cxx + ")" }

func (e *Emu) Alloc(bytes int) (Buffer, error) {
	if bytes <= 0 {
		panic(fmt.Sprintf("cuda: Alloc(%d)", bytes))
	}
	var b Buffer
	err := e.exec.Do(func() error {
		if err := e.graphs.refuse("cuMemAlloc_v2", anyStream); err != nil {
			return err
		}
		p := e.rt.alloc(uint64(bytes))
		if p == 0 {
			return &CallError{Call: "cuMemAlloc_v2", Code: ErrOutOfMemory}
		}
		e.bufs[p] = bytes
		b = Buffer{Ptr: p, Bytes: bytes}
		return nil
	})
	return b, err
}

func (e *Emu) Free(b Buffer) error {
	return e.exec.Do(func() error {
		if err := e.graphs.refuse("cuMemFree_v2", anyStream); err != nil {
			return err
		}
		if _, ok := e.bufs[b.Ptr]; !ok {
			return &CallError{Call: "cuMemFree_v2", Code: Result(1)}
		}
		delete(e.bufs, b.Ptr)
		e.rt.free(b.Ptr)
		return nil
	})
}

// inside reports whether b lies in a live allocation.
func (e *Emu) inside(b Buffer) bool {
	for p, n := range e.bufs {
		if b.Ptr >= p && b.Ptr+uint64(b.Bytes) <= p+uint64(n) {
			return true
		}
	}
	return false
}

func (e *Emu) CopyIn(dst Buffer, src []float32, s Stream) error {
	checkCopy("CopyIn", dst, len(src))
	return e.exec.Do(func() error {
		if err := e.graphs.refuse("cuMemcpyHtoDAsync_v2", s); err != nil {
			return err
		}
		if !e.inside(dst) {
			return &CallError{Call: "cuMemcpyHtoDAsync_v2", Code: Result(1)}
		}
		if len(src) > 0 {
			e.rt.copyIn(dst.Ptr, &src[0], uint64(4*len(src)))
		}
		return nil
	})
}

func (e *Emu) CopyOut(dst []float32, src Buffer, s Stream) error {
	checkCopy("CopyOut", src, len(dst))
	return e.exec.Do(func() error {
		if err := e.graphs.refuse("cuMemcpyDtoHAsync_v2", s); err != nil {
			return err
		}
		if !e.inside(src) {
			return &CallError{Call: "cuMemcpyDtoHAsync_v2", Code: Result(1)}
		}
		if len(dst) > 0 {
			e.rt.copyOut(&dst[0], src.Ptr, uint64(4*len(dst)))
		}
		return nil
	})
}

// Compile builds source (all its kernels at once, with a launcher for
// each) and returns the launcher of kernel name.
func (e *Emu) Compile(name, source string) (Kernel, error) {
	ks, err := emuKernels(source)
	if err != nil {
		return Kernel{}, err
	}
	lib, err := e.build(emuHeader + "\n" + source + "\n" + emuLaunchers(ks))
	if err != nil {
		return Kernel{}, err
	}
	p, err := dlsym(lib, "emu_launch_"+name)
	if err != nil {
		return Kernel{}, &CallError{Call: "cuModuleGetFunction(" + name + ")", Code: Result(500)}
	}
	e.mu.Lock()
	if _, ok := e.launch[p]; !ok {
		var f emuLaunch
		purego.RegisterFunc(&f, p)
		e.launch[p] = f
	}
	e.mu.Unlock()
	return Kernel{Name: name, Key: CacheKey(source, "emu"), fn: p}, nil
}

func (e *Emu) Launch(k Kernel, grid, block Dim3, sharedBytes int, s Stream, args ...any) error {
	if k.fn == 0 {
		panic("cuda: Launch of a kernel that Emu did not compile: " + k.Name)
	}
	ka := marshalArgs(args)
	slots := make([]uint64, len(ka)+1)
	for i, a := range ka {
		slots[i] = a.bits
	}
	dims := []uint32{grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z}
	for _, d := range dims {
		if d == 0 {
			return &CallError{Call: "cuLaunchKernel(" + k.Name + ")", Code: Result(1)}
		}
	}
	e.mu.Lock()
	launch := e.launch[k.fn]
	e.mu.Unlock()
	return e.exec.Do(func() error {
		return e.graphs.queue(s, func() error {
			e.Launches++
			emuLaunchMu.Lock()
			defer emuLaunchMu.Unlock()
			if launch(&dims[0], &slots[0]) != 0 {
				return fmt.Errorf("cuda: emulated %s reached __syncthreads, but the launcher ran it without barriers", k.Name)
			}
			return nil
		})
	})
}

func (e *Emu) Gemm(g Gemm, s Stream) error {
	g.check()
	return e.exec.Do(func() error {
		return e.graphs.queue(s, func() error {
			if !e.inside(g.A) || !e.inside(g.B) || !e.inside(g.C) {
				return &CallError{Call: "cublasSgemm_v2", Code: CublasStatus(7)}
			}
			b2i := func(b bool) int32 {
				if b {
					return 1
				}
				return 0
			}
			e.rt.sgemm(b2i(g.TransA), b2i(g.TransB), int32(g.M), int32(g.N), int32(g.K), g.Alpha, g.A.Ptr, int32(g.LDA),
				g.B.Ptr, int32(g.LDB), g.Beta, g.C.Ptr, int32(g.LDC))
			return nil
		})
	})
}

func (e *Emu) NewStream() (Stream, error) { return 1, nil }
func (e *Emu) DestroyStream(s Stream) error {
	return nil
}

func (e *Emu) Synchronize(s Stream) error {
	return e.exec.Do(func() error { return e.graphs.refuse("cuStreamSynchronize", s) })
}

func (e *Emu) BeginCapture(s Stream) error {
	return e.exec.Do(func() error { return e.graphs.begin(s) })
}

func (e *Emu) EndCapture(s Stream) (Graph, error) {
	var g Graph
	err := e.exec.Do(func() (err error) { g, err = e.graphs.end(s); return err })
	return g, err
}

func (e *Emu) LaunchGraph(g Graph, s Stream) error {
	return e.exec.Do(func() error { return e.graphs.launch(g, s) })
}

func (e *Emu) DestroyGraph(g Graph) error {
	return e.exec.Do(func() error { return e.graphs.destroy(g) })
}

// Close frees every buffer and stops the executor. The libraries stay
// loaded (purego cannot unload them safely while the process runs).
func (e *Emu) Close() error {
	err := e.exec.Do(func() error {
		for p := range e.bufs {
			e.rt.free(p)
		}
		clear(e.bufs)
		return nil
	})
	e.exec.Close()
	return err
}

var _ Backend = (*Emu)(nil)

// emuKernel is a __global__ function of a source: its name, its
// parameters' types, and whether it reaches __syncthreads (itself or
// through the __device__ functions it calls).
type emuKernel struct {
	name  string
	types []string
	sync  bool
}

var (
	emuComments = regexp.MustCompile(`(?s)//[^\n]*|/\*.*?\*/`)
	emuFuncHead = regexp.MustCompile(`(?m)^(?:extern\s+"C"\s+)?(?:static\s+)?(__global__|__device__)[\w\s\*]*?\b(\w+)\s*\(([^)]*)\)\s*\{`)
)

// emuKernels finds the kernels of source. Functions are recognised by a
// line that starts with their __global__ or __device__ declaration and
// ends with the opening brace of the body.
func emuKernels(source string) ([]emuKernel, error) {
	src := emuComments.ReplaceAllString(source, "")
	type fn struct {
		global bool
		params string
		body   string
	}
	fns := map[string]fn{}
	var order []string
	for _, m := range emuFuncHead.FindAllStringSubmatchIndex(src, -1) {
		name := src[m[4]:m[5]]
		open := m[1] - 1
		depth, end := 0, -1
		for i := open; i < len(src) && end < 0; i++ {
			switch src[i] {
			case '{':
				depth++
			case '}':
				depth--
				if depth == 0 {
					end = i
				}
			}
		}
		if end < 0 {
			return nil, fmt.Errorf("cuda: emulation: the body of %s has no end", name)
		}
		fns[name] = fn{global: src[m[2]:m[3]] == "__global__", params: src[m[6]:m[7]], body: src[open:end]}
		order = append(order, name)
	}
	syncs := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for name, f := range fns {
			if syncs[name] {
				continue
			}
			s := strings.Contains(f.body, "__syncthreads")
			for other := range fns {
				if syncs[other] && regexp.MustCompile(`\b`+other+`\s*\(`).MatchString(f.body) {
					s = true
				}
			}
			if s {
				syncs[name], changed = true, true
			}
		}
	}
	var ks []emuKernel
	for _, name := range order {
		f := fns[name]
		if !f.global {
			continue
		}
		k := emuKernel{name: name, sync: syncs[name]}
		if p := strings.TrimSpace(f.params); p != "" && p != "void" {
			for _, arg := range strings.Split(p, ",") {
				arg = strings.TrimSpace(strings.ReplaceAll(arg, "__restrict__", ""))
				i := strings.LastIndexFunc(arg, func(r rune) bool {
					return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
				})
				if i < 0 {
					return nil, fmt.Errorf("cuda: emulation: parameter %q of %s has no type", arg, name)
				}
				k.types = append(k.types, strings.TrimSpace(arg[:i+1]))
			}
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// emuLaunchers returns the C++ launcher of every kernel:
//
//	extern "C" int emu_launch_NAME(const unsigned *dims, const unsigned long long *args)
//
// which unpacks the argument slots into the kernel's parameter types and
// runs the grid with emu_run.
func emuLaunchers(ks []emuKernel) string {
	var b strings.Builder
	for _, k := range ks {
		fmt.Fprintf(&b, "extern \"C\" int emu_launch_%s(const unsigned *dims, const unsigned long long *args) {\n", k.name)
		var call []string
		for i, t := range k.types {
			call = append(call, fmt.Sprintf("*(%s *)&args[%d]", t, i))
		}
		sync := 0
		if k.sync {
			sync = 1
		}
		fmt.Fprintf(&b, "\treturn emu_run(dims, %d, [&]() { %s(%s); });\n}\n", sync, k.name, strings.Join(call, ", "))
	}
	return b.String()
}
