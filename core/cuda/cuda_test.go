//go:build !js

package cuda

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestOpen checks Open on this machine: with CUDA present it must give a
// named device of some sm_XY architecture; without, one line naming the
// missing library.
func TestOpen(t *testing.T) {
	d, err := Open()
	if err == nil {
		defer d.Close()
		if !strings.Contains(d.Name(), "(sm_") {
			t.Errorf("device name %q has no sm_ architecture", d.Name())
		}
		return
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "cuda: ") {
		t.Errorf("Open error %q: want one line starting with \"cuda: \"", msg)
	}
	if !strings.Contains(msg, "not found") && !errors.As(err, new(*CallError)) {
		t.Errorf("Open error %q: want a missing library or a failed call", msg)
	}
}

// TestOpenLibraries checks the library search with a fake dlopen: the
// CUDA 13 names first, the CUDA 12 ones next, cuDNN optional, and the
// error naming the first required library missing.
func TestOpenLibraries(t *testing.T) {
	all := []string{"libcuda.so.1", "libnvrtc.so.13", "libnvrtc.so.12", "libcublas.so.13", "libcublas.so.12", "libcudnn.so.9"}
	cases := []struct {
		name    string
		present []string
		broken  string // a present library whose dlopen fails otherwise
		want    [4]string
		wantErr string
	}{
		{"no driver", nil, "", [4]string{}, "cuda: libcuda.so.1 not found: no NVIDIA driver on this machine"},
		{"all", all, "", [4]string{"libcuda.so.1", "libnvrtc.so.13", "libcublas.so.13", "libcudnn.so.9"}, ""},
		{"cuda 12 without cudnn", []string{"libcuda.so.1", "libnvrtc.so.12", "libcublas.so.12"}, "",
			[4]string{"libcuda.so.1", "libnvrtc.so.12", "libcublas.so.12", ""}, ""},
		{"driver only", []string{"libcuda.so.1"}, "", [4]string{},
			"cuda: libnvrtc.so.13 or libnvrtc.so.12 not found: the CUDA runtime compiler (NVRTC, CUDA 12 or 13) is not installed"},
		{"no cublas", []string{"libcuda.so.1", "libnvrtc.so.13"}, "", [4]string{},
			"cuda: libcublas.so.13 or libcublas.so.12 not found: cuBLAS (CUDA 12 or 13) is not installed"},
		{"broken driver", all, "libcuda.so.1", [4]string{},
			"cuda: loading libcuda.so.1: libcuda.so.1: wrong ELF class: ELFCLASS32"},
	}
	for _, c := range cases {
		var tried []string
		h, err := openLibraries(func(name string) (uintptr, error) {
			tried = append(tried, name)
			if name == c.broken {
				return 0, errors.New(name + ": wrong ELF class:\nELFCLASS32")
			}
			if slices.Contains(c.present, name) {
				return uintptr(100 + slices.Index(all, name)), nil
			}
			return 0, errors.New(name + ": cannot open shared object file: No such file or directory")
		})
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if h.names != c.want {
			t.Errorf("%s: opened %q, want %q (tried %q)", c.name, h.names, c.want, tried)
		}
		if (h.cudnn != 0) != (c.want[3] != "") {
			t.Errorf("%s: cudnn handle %d", c.name, h.cudnn)
		}
	}
}

// TestErrorNames checks the status names against cuda.h, nvrtc.h and
// cublas_api.h.
func TestErrorNames(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{Result(201), "CUDA_ERROR_INVALID_CONTEXT (201)"},
		{ErrOutOfMemory, "CUDA_ERROR_OUT_OF_MEMORY (2)"},
		{Result(100), "CUDA_ERROR_NO_DEVICE (100)"},
		{Result(719), "CUDA_ERROR_LAUNCH_FAILED (719)"},
		{Result(209), "CUDA_ERROR_NO_BINARY_FOR_GPU (209)"},
		{Result(4242), "unknown CUresult 4242"},
		{NVRTCResult(6), "NVRTC_ERROR_COMPILATION (6)"},
		{NVRTCResult(5), "NVRTC_ERROR_INVALID_OPTION (5)"},
		{CublasStatus(3), "CUBLAS_STATUS_ALLOC_FAILED (3)"},
		{CublasStatus(15), "CUBLAS_STATUS_NOT_SUPPORTED (15)"},
		{check("cuMemAlloc_v2", Result(2)), "cuda: cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (2)"},
		{check("nvrtcCompileProgram", NVRTCResult(6)), "cuda: nvrtcCompileProgram: NVRTC_ERROR_COMPILATION (6)"},
		{check("cublasSgemm_v2", CublasStatus(13)), "cuda: cublasSgemm_v2: CUBLAS_STATUS_EXECUTION_FAILED (13)"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
	if check("cuInit", Success) != nil || check("x", NVRTCResult(0)) != nil {
		t.Error("check of a success code is not nil")
	}
	err := check("cuCtxSetCurrent", Result(201))
	if !errors.Is(err, ErrInvalidContext) || errors.Is(err, ErrOutOfMemory) {
		t.Errorf("errors.Is(%v, ErrInvalidContext) is wrong", err)
	}
}

// TestNullBackend runs a saxpy through the whole contract on the null
// device: buffers, copies, compile (cache key), launch with every argument
// kind, streams, errors.
func TestNullBackend(t *testing.T) {
	const src = `extern "C" __global__ void saxpy(float *y, const float *x, float a, int n) {}`
	d := NewNull("sm_90")
	defer d.Close()
	var b Backend = d
	var gotGrid, gotBlock Dim3
	d.Define("saxpy", func(mem *NullMemory, grid, block Dim3, args []uint64) error {
		gotGrid, gotBlock = grid, block
		y, x := mem.Float32s(args[0]), mem.Float32s(args[1])
		a := float32frombits(args[2])
		n := int(int32(uint32(args[3])))
		for i := 0; i < n; i++ {
			y[i] += a * x[i]
		}
		mem.SetFloat32s(args[0], y)
		return nil
	})
	x, err := b.Alloc(4 * 5)
	if err != nil {
		t.Fatal(err)
	}
	y, err := b.Alloc(4 * 5)
	if err != nil {
		t.Fatal(err)
	}
	if x.Ptr%256 != 0 || y.Ptr%256 != 0 || x.Ptr == y.Ptr {
		t.Errorf("buffers at %#x and %#x: want distinct 256-byte aligned addresses", x.Ptr, y.Ptr)
	}
	s, err := b.NewStream()
	if err != nil || s == 0 {
		t.Fatalf("NewStream = %v, %v", s, err)
	}
	if err := b.CopyIn(x, []float32{1, 2, 3, 4, 5}, s); err != nil {
		t.Fatal(err)
	}
	if err := b.CopyIn(y, []float32{10, 20, 30, 40, 50}, s); err != nil {
		t.Fatal(err)
	}
	k, err := b.Compile("saxpy", src)
	if err != nil {
		t.Fatal(err)
	}
	if k.Key != CacheKey(src, "sm_90") {
		t.Errorf("kernel key %s, want CacheKey(src, sm_90)", k.Key)
	}
	// n = 4: the fifth value must stay.
	if err := b.Launch(k, Dim3{1, 1, 1}, Dim3{128, 1, 1}, 0, s, y, x, float32(0.5), int32(4)); err != nil {
		t.Fatal(err)
	}
	if err := b.Synchronize(s); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 5)
	if err := b.CopyOut(got, y, s); err != nil {
		t.Fatal(err)
	}
	if want := []float32{10.5, 21, 31.5, 42, 50}; !slices.Equal(got, want) {
		t.Errorf("saxpy gave %v, want %v", got, want)
	}
	if gotGrid != (Dim3{1, 1, 1}) || gotBlock != (Dim3{128, 1, 1}) || d.Launches != 1 {
		t.Errorf("launch shape %v %v, %d launches", gotGrid, gotBlock, d.Launches)
	}
	if _, err := b.Compile("missing", src); err == nil || !strings.Contains(err.Error(), "CUDA_ERROR_NOT_FOUND") {
		t.Errorf("Compile of an unknown kernel: %v", err)
	}
	if err := b.Free(x); err != nil {
		t.Fatal(err)
	}
	if err := b.Free(x); err == nil || !strings.Contains(err.Error(), "cuMemFree_v2: CUDA_ERROR_INVALID_VALUE") {
		t.Errorf("double Free: %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Launch with an int argument did not panic")
			}
		}()
		b.Launch(k, Dim3{1, 1, 1}, Dim3{1, 1, 1}, 0, 0, 3)
	}()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("CopyIn past the buffer did not panic")
			}
		}()
		b.CopyIn(y, make([]float32, 6), 0)
	}()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Alloc(4); !errors.Is(err, ErrClosed) {
		t.Errorf("Alloc after Close: %v, want ErrClosed", err)
	}
}

// TestMarshalArgs checks the bits cuLaunchKernel would read.
func TestMarshalArgs(t *testing.T) {
	got := marshalArgs([]any{Buffer{Ptr: 0xdeadbeef00}, int32(-1), uint32(7), float32(1), float64(-2)})
	want := []kernelArg{{0xdeadbeef00, 8}, {0xffffffff, 4}, {7, 4}, {0x3f800000, 4}, {0xc000000000000000, 8}}
	if !slices.Equal(got, want) {
		t.Errorf("marshalArgs = %#v, want %#v", got, want)
	}
}

// TestExecutorOrder checks that calls from many goroutines all run, one
// at a time, and that a panic comes back as an error.
func TestExecutorOrder(t *testing.T) {
	e := NewExecutor()
	running, maxRunning, total := 0, 0, 0
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				e.Do(func() error {
					running++ // unsynchronised on purpose: -race would see two at once
					maxRunning = max(maxRunning, running)
					total++
					running--
					return nil
				})
			}
		}()
	}
	wg.Wait()
	if total != 400 || maxRunning != 1 {
		t.Errorf("%d calls ran, at most %d at once; want 400, 1", total, maxRunning)
	}
	var seq []int
	for i := 0; i < 5; i++ {
		e.Do(func() error { seq = append(seq, i); return nil })
	}
	if !slices.Equal(seq, []int{0, 1, 2, 3, 4}) {
		t.Errorf("calls ran in order %v", seq)
	}
	if err := e.Do(func() error { panic("boom") }); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("panic in a call gave %v", err)
	}
	if err := e.Do(func() error { return ErrOutOfMemory }); err != ErrOutOfMemory {
		t.Errorf("error of a call: %v", err)
	}
	e.Close()
	e.Close()
	if err := e.Do(func() error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Do after Close: %v", err)
	}
}

func TestCacheKey(t *testing.T) {
	const src = `extern "C" __global__ void k() {}`
	// hashlib.sha256(b'sm_90\x00' + src).hexdigest() in Python.
	if got, want := CacheKey(src, "sm_90"), "aa19d8b7367885628edbad6dcbd8bc6a18fe1871e00e58fc9bd20a77913ee2a5"; got != want {
		t.Errorf("CacheKey = %s, want %s", got, want)
	}
	keys := map[string]bool{}
	for _, k := range []string{CacheKey(src, "sm_90"), CacheKey(src, "sm_80"), CacheKey(src+" ", "sm_90"), CacheKey("sm_90"+src, "")} {
		keys[k] = true
	}
	if len(keys) != 4 {
		t.Errorf("cache keys collide: %v", keys)
	}
}

func TestCacheDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	if got, err := CacheDir(); err != nil || got != filepath.Join(dir, "metriclab", "cuda") {
		t.Errorf("CacheDir with XDG_CACHE_HOME = %q, %v", got, err)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", dir)
	if got, err := CacheDir(); err != nil || got != filepath.Join(dir, ".cache", "metriclab", "cuda") {
		t.Errorf("CacheDir with HOME = %q, %v", got, err)
	}
}

func TestCacheStoreLoad(t *testing.T) {
	c := Cache{Dir: filepath.Join(t.TempDir(), "metriclab", "cuda")}
	key := CacheKey("src", "sm_90")
	if _, ok, err := c.Load(key); ok || err != nil {
		t.Fatalf("Load of an empty cache: ok %v, err %v", ok, err)
	}
	if err := c.Store(key, []byte("cubin bytes")); err != nil {
		t.Fatal(err)
	}
	data, ok, err := c.Load(key)
	if !ok || err != nil || string(data) != "cubin bytes" {
		t.Fatalf("Load after Store = %q, %v, %v", data, ok, err)
	}
	entries, _ := os.ReadDir(c.Dir)
	if len(entries) != 1 || entries[0].Name() != key+".cubin" {
		t.Errorf("cache folder holds %v, want only %s.cubin", entries, key)
	}
	defer func() {
		if recover() == nil {
			t.Error("Load of a non-key did not panic")
		}
	}()
	c.Load("../escape")
}
