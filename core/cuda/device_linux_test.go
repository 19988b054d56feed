//go:build linux

package cuda

import (
	"errors"
	"testing"
)

// fakeBlas is a driver whose cuBLAS and memory calls only record what a
// Device asks of them, so that the Device's own bookkeeping is tested
// without a GPU.
type fakeBlas struct {
	allocFails int   // cuMemAlloc_v2 calls left that fail
	handles    int   // live cuBLAS handles
	buffers    int   // live allocations
	workspace  []int // the handle of each cublasSetWorkspace_v2
	mathModes  []int // the handle of each cublasSetMathMode with TF32
	gemms      []int // the handle of each cublasSgemm_v2
}

func (f *fakeBlas) driver() driver {
	next := uintptr(0)
	return driver{
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
	f := &fakeBlas{allocFails: 1}
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
