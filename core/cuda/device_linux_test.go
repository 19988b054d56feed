//go:build linux

package cuda

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// fakeDriver is a driver, and a dynamic loader, whose calls only record
// what a Device asks of them, so that the Device's own bookkeeping is
// tested without a GPU.
type fakeDriver struct {
	allocFails int   // cuMemAlloc_v2 calls left that fail
	handles    int   // live cuBLAS handles
	buffers    int   // live allocations
	workspace  []int // the handle of each cublasSetWorkspace_v2
	mathModes  []int // the handle of each cublasSetMathMode with TF32
	gemms      []int // the handle of each cublasSgemm_v2

	failAt   int              // the call of Open that fails, counted from 1 (0: none)
	calls    []string         // Open's calls so far, the failed one included
	contexts int              // primary contexts retained and not released
	libs     map[uintptr]bool // libraries opened and not closed
}

// call records a call of Open and reports whether it fails.
func (f *fakeDriver) call(name string) bool {
	f.calls = append(f.calls, name)
	return len(f.calls) == f.failAt
}

// system is a loader that finds every library (cuDNN included) and binds
// f's driver.
func (f *fakeDriver) system() system {
	f.libs = map[uintptr]bool{}
	next := uintptr(0x1000)
	return system{
		dlopen: func(name string) (uintptr, error) {
			if f.call("dlopen " + name) {
				return 0, errors.New(name + ": wrong ELF class: ELFCLASS32")
			}
			next++
			f.libs[next] = true
			return next, nil
		},
		dlclose: func(lib uintptr) error {
			if !f.libs[lib] {
				return errors.New("dlclose of a library not open")
			}
			delete(f.libs, lib)
			return nil
		},
		bind: func(d *driver, h handles) error {
			if f.call("bind") {
				return errors.New("cuda: bind failed")
			}
			*d = f.driver()
			return nil
		},
	}
}

func (f *fakeDriver) driver() driver {
	// result is the status of Open's call name: CUDA_ERROR_UNKNOWN when it
	// is the one that fails.
	result := func(name string) Result {
		if f.call(name) {
			return 999
		}
		return 0
	}
	next := uintptr(0)
	return driver{
		cuInit:           func(flags uint32) Result { return result("cuInit") },
		cuDeviceGetCount: func(n *int32) Result { *n = 1; return result("cuDeviceGetCount") },
		cuDeviceGet:      func(dev *int32, ordinal int32) Result { *dev = ordinal; return result("cuDeviceGet") },
		cuDeviceGetName: func(name *byte, n int32, dev int32) Result {
			copy(unsafe.Slice(name, n), "Fake GPU\x00")
			return result("cuDeviceGetName")
		},
		cuDeviceGetAttribute: func(v *int32, attr int32, dev int32) Result {
			*v = 9
			if attr == attrComputeCapabilityMinor {
				*v = 0
			}
			return result("cuDeviceGetAttribute")
		},
		cuDevicePrimaryCtxRetain: func(ctx *uintptr, dev int32) Result {
			if r := result("cuDevicePrimaryCtxRetain"); r != 0 {
				return r
			}
			*ctx, f.contexts = 0xc0, f.contexts+1
			return 0
		},
		cuDevicePrimaryCtxRelease: func(dev int32) Result { f.contexts--; return 0 },
		cuCtxSetCurrent:           func(ctx uintptr) Result { return result("cuCtxSetCurrent") },
		cublasCreate: func(h *uintptr) CublasStatus {
			next++
			*h, f.handles = next, f.handles+1
			return 0
		},
		cublasDestroy: func(h uintptr) CublasStatus { f.handles--; return 0 },
		cuMemAlloc: func(p *uint64, n uintptr) Result {
			if f.allocFails > 0 {
				f.allocFails--
				return ErrOutOfMemory
			}
			*p, f.buffers = 1<<20, f.buffers+1
			return 0
		},
		cuMemFree: func(p uint64) Result { f.buffers--; return 0 },
		cublasSetWorkspace: func(h uintptr, ws uint64, n uintptr) CublasStatus {
			f.workspace = append(f.workspace, int(h))
			return 0
		},
		cublasSetMathMode: func(h uintptr, mode int32) CublasStatus {
			if mode == cublasTF32Math {
				f.mathModes = append(f.mathModes, int(h))
			}
			return 0
		},
		cublasSetStream: func(h uintptr, s uintptr) CublasStatus { return 0 },
		cublasSgemm: func(h uintptr, ta, tb int32, m, n, k int32, alpha *float32, a uint64, lda int32,
			b uint64, ldb int32, beta *float32, c uint64, ldc int32) CublasStatus {
			f.gemms = append(f.gemms, int(h))
			return 0
		},
	}
}

// TestGemmAfterFailedStart: a Gemm whose cuBLAS start fails (its
// workspace is not allocated) leaves no handle behind, and the next Gemm
// starts cuBLAS again, workspace and TF32 included, instead of using the
// handle half made.
func TestGemmAfterFailedStart(t *testing.T) {
	f := &fakeDriver{allocFails: 1}
	d := &Device{exec: NewExecutor(), drv: f.driver(), tf32: true}
	defer d.exec.Close()
	buf := Buffer{Ptr: 256, Bytes: 16}
	g := Gemm{M: 2, N: 2, K: 1, Alpha: 1, A: buf, LDA: 1, B: buf, LDB: 2, C: buf, LDC: 2}
	if err := d.Gemm(g, 0); !errors.Is(err, ErrOutOfMemory) {
		t.Fatalf("Gemm with no memory for the workspace: %v, want CUDA_ERROR_OUT_OF_MEMORY", err)
	}
	if f.handles != 0 || f.buffers != 0 {
		t.Errorf("after the failed start: %d cuBLAS handles and %d buffers live, want none", f.handles, f.buffers)
	}
	if err := d.Gemm(g, 0); err != nil {
		t.Fatal(err)
	}
	if len(f.gemms) != 1 || f.handles != 1 || f.buffers != 1 {
		t.Fatalf("%d products on %d handles with %d buffers, want 1 of each", len(f.gemms), f.handles, f.buffers)
	}
	h := f.gemms[0]
	if len(f.workspace) != 1 || f.workspace[0] != h || len(f.mathModes) != 1 || f.mathModes[0] != h {
		t.Errorf("the product ran on handle %d; workspaces were set on %v and TF32 on %v, want [%d] each", h, f.workspace, f.mathModes, h)
	}
}

// TestOpenUndoes fails each call of Open in turn on the recording driver:
// the failed Open leaves no primary context retained, and no library open
// unless the driver was called (cuInit, failed or not), after which the
// libraries stay loaded, as after Close. A kernel cache that cannot be
// placed (no $HOME) closes them too.
func TestOpenUndoes(t *testing.T) {
	f := &fakeDriver{}
	d, err := openWith(f.system())
	if err != nil {
		t.Fatal(err)
	}
	opens := len(f.calls)
	if d.Name() != "Fake GPU (sm_90)" || f.contexts != 1 || len(f.libs) != 4 {
		t.Fatalf("opened %q with %d contexts and %d libraries, want Fake GPU (sm_90), 1 and 4", d.Name(), f.contexts, len(f.libs))
	}
	if err := d.Close(); err != nil || f.contexts != 0 {
		t.Fatalf("Close: %v, %d contexts left, want none", err, f.contexts)
	}
	for k := 1; k <= opens; k++ {
		f := &fakeDriver{failAt: k}
		d, err := openWith(f.system())
		failed := f.calls[k-1]
		if err == nil {
			d.Close()
			t.Errorf("%s failing: Open succeeded", failed)
			continue
		}
		if what := strings.TrimPrefix(failed, "dlopen "); !strings.Contains(err.Error(), what) {
			t.Errorf("%s failing: %v, want an error naming %s", failed, err, what)
		}
		libs := 0
		if slices.Contains(f.calls, "cuInit") {
			libs = 4
		}
		if f.contexts != 0 || len(f.libs) != libs {
			t.Errorf("%s failing: %d contexts and %d libraries left, want 0 and %d", failed, f.contexts, len(f.libs), libs)
		}
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	f = &fakeDriver{}
	if _, err := openWith(f.system()); err == nil || !strings.Contains(err.Error(), "kernel cache") || len(f.libs) != 0 {
		t.Errorf("no cache folder: %v, %d libraries left, want an error naming the kernel cache and none", err, len(f.libs))
	}
}
