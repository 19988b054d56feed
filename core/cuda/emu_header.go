//go:build !js

package cuda

// emuHeader makes CUDA C kernels compile as C++ for the host (g++): the
// built-ins threadIdx, blockIdx, blockDim and gridDim are variables that
// the launcher sets, __global__ and __device__ vanish, __shared__ arrays
// are static (one block runs at a time, so every thread of the block sees
// the same array), and atomicAdd is a plain read-modify-write (threads
// run one at a time). The variables are process-wide (thread-local ones
// cost a call per access in a shared library): Emu runs one launch at a
// time in the whole process (emuLaunchMu).
//
// A launch runs the blocks one after the other. In a kernel that never
// reaches __syncthreads (found by emuKernels) the threads of a block run
// one after the other to their end. In the others each thread is a
// coroutine with a stack of its own, and the block runs in
// rounds: every live thread runs until its next __syncthreads or its end,
// then the next one; a round ends when all have reached the barrier.
// Switching is emu_swap, a few instructions of x86-64 assembly (no system
// call): the emulation runs on amd64 only. A
// __syncthreads in a kernel launched the first way sets an error that the
// launch returns.
//
// The runtime part (emuRuntime) is a separate library: memory (the C
// heap), copies and the reference GEMM of Emu.
const emuHeader = `// metriclab: CUDA built-ins for the host (core/cuda/emu_header.go)
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <algorithm>
#include <vector>

struct dim3 { unsigned x, y, z; };
static dim3 threadIdx, blockIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __host__
#define __forceinline__
#define __noinline__
#define __launch_bounds__(...)
#define __shared__ static

using std::max;
using std::min;

static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }

// Threads run one at a time: an atomic is a plain update.
static inline float atomicAdd(float *p, float v) { float o = *p; *p = o + v; return o; }
static inline double atomicAdd(double *p, double v) { double o = *p; *p = o + v; return o; }
static inline int atomicAdd(int *p, int v) { int o = *p; *p = o + v; return o; }
static inline unsigned atomicAdd(unsigned *p, unsigned v) { unsigned o = *p; *p = o + v; return o; }

static int emu_coroutines;  // this launch runs threads as coroutines
static int emu_bad_sync;    // __syncthreads reached without coroutines
static std::vector<void *> emu_thread_sp;
static std::vector<char> emu_stacks;
static void *emu_sched_sp;
static unsigned emu_current;
static int emu_finished;
static void *emu_body;
static const size_t emu_stack_bytes = 16 << 10;

// emu_swap saves the callee-saved registers on the current stack, stores
// the stack pointer in *save, switches to the stack load and returns
// into the context saved there (x86-64 System V).
extern "C" void emu_swap(void **save, void *load);
asm(".text\n"
    ".globl emu_swap\n"
    ".hidden emu_swap\n"
    ".type emu_swap, @function\n"
    "emu_swap:\n"
    "\tpushq %rbp\n\tpushq %rbx\n\tpushq %r12\n\tpushq %r13\n\tpushq %r14\n\tpushq %r15\n"
    "\tmovq %rsp, (%rdi)\n\tmovq %rsi, %rsp\n"
    "\tpopq %r15\n\tpopq %r14\n\tpopq %r13\n\tpopq %r12\n\tpopq %rbx\n\tpopq %rbp\n"
    "\tret\n"
    ".size emu_swap, .-emu_swap\n");

static void __syncthreads() {
	if (!emu_coroutines) {
		emu_bad_sync = 1;
		return;
	}
	emu_swap(&emu_thread_sp[emu_current], emu_sched_sp);
}

static void emu_set_thread(unsigned t) {
	if (blockDim.y == 1 && blockDim.z == 1) {
		threadIdx.x = t;
		return;
	}
	threadIdx.x = t % blockDim.x;
	threadIdx.y = (t / blockDim.x) % blockDim.y;
	threadIdx.z = t / (blockDim.x * blockDim.y);
}

template <class F> static void emu_entry() {
	(*(F *)emu_body)();
	emu_finished = 1;
	emu_swap(&emu_thread_sp[emu_current], emu_sched_sp);
	__builtin_unreachable();
}

// emu_prepare lays out a new thread's stack (top 16-byte aligned) so that
// the first emu_swap into it returns into fn, aligned as after a call.
static void *emu_prepare(char *top, void (*fn)()) {
	void **sp = (void **)top;
	*--sp = 0;           // where fn's return address would be
	*--sp = (void *)fn;  // emu_swap's ret
	for (int i = 0; i < 6; i++)
		*--sp = 0;       // rbp, rbx, r12..r15
	return sp;
}

// emu_run runs one launch: dims = grid x, y, z, block x, y, z. It returns
// 0, or 1 when a kernel reached __syncthreads without coroutines.
template <class F> static int emu_run(const unsigned *dims, int coroutines, F body) {
	gridDim = dim3{dims[0], dims[1], dims[2]};
	blockDim = dim3{dims[3], dims[4], dims[5]};
	unsigned nt = dims[3] * dims[4] * dims[5];
	emu_bad_sync = 0;
	emu_coroutines = coroutines;
	emu_body = (void *)&body;
	if (coroutines) {
		emu_thread_sp.resize(nt);
		if (emu_stacks.size() < nt * emu_stack_bytes)
			emu_stacks.resize(nt * emu_stack_bytes);
	}
	std::vector<char> done(coroutines ? nt : 0);
	for (unsigned bz = 0; bz < gridDim.z; bz++)
	for (unsigned by = 0; by < gridDim.y; by++)
	for (unsigned bx = 0; bx < gridDim.x; bx++) {
		blockIdx = dim3{bx, by, bz};
		if (!coroutines) {
			for (unsigned t = 0; t < nt; t++) {
				emu_set_thread(t);
				body();
			}
			if (emu_bad_sync)
				return 1;
			continue;
		}
		for (unsigned t = 0; t < nt; t++) {
			done[t] = 0;
			emu_thread_sp[t] = emu_prepare(&emu_stacks[(size_t)(t + 1) * emu_stack_bytes], emu_entry<F>);
		}
		unsigned live = nt;
		while (live > 0) {
			for (unsigned t = 0; t < nt; t++) {
				if (done[t])
					continue;
				emu_current = t;
				emu_set_thread(t);
				emu_finished = 0;
				emu_swap(&emu_sched_sp, emu_thread_sp[t]);
				if (emu_finished) {
					done[t] = 1;
					live--;
				}
			}
		}
	}
	emu_coroutines = 0;
	return 0;
}
`

// emuRuntime is the C source of Emu's memory, copies and GEMM.
const emuRuntime = `// metriclab: host memory and GEMM of the CUDA emulation (core/cuda/emu_header.go)
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern "C" uint64_t emu_alloc(uint64_t bytes) {
	void *p = aligned_alloc(256, (bytes + 255) & ~(uint64_t)255);
	return (uint64_t)(uintptr_t)p;
}

extern "C" void emu_free(uint64_t p) { free((void *)(uintptr_t)p); }

extern "C" void emu_copy_in(uint64_t dst, const float *src, uint64_t bytes) {
	memcpy((void *)(uintptr_t)dst, src, bytes);
}

extern "C" void emu_copy_out(float *dst, uint64_t src, uint64_t bytes) {
	memcpy(dst, (const void *)(uintptr_t)src, bytes);
}

// emu_sgemm: row-major C = alpha·op(A)·op(B) + beta·C, float32 sums in k
// order (as gemmTo).
extern "C" void emu_sgemm(int ta, int tb, int m, int n, int k, float alpha, uint64_t pa, int lda,
		uint64_t pb, int ldb, float beta, uint64_t pc, int ldc) {
	const float *a = (const float *)(uintptr_t)pa, *b = (const float *)(uintptr_t)pb;
	float *c = (float *)(uintptr_t)pc;
	float *row = (float *)malloc(sizeof(float) * (n > 0 ? n : 1));
	for (int i = 0; i < m; i++) {
		for (int j = 0; j < n; j++)
			row[j] = 0;
		if (!tb) {
			for (int p = 0; p < k; p++) {
				float av = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
				const float *br = b + (size_t)p * ldb;
				for (int j = 0; j < n; j++)
					row[j] += av * br[j];
			}
		} else {
			for (int j = 0; j < n; j++) {
				const float *bc = b + (size_t)j * ldb;
				float s = 0;
				for (int p = 0; p < k; p++)
					s += (ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]) * bc[p];
				row[j] = s;
			}
		}
		float *cr = c + (size_t)i * ldc;
		for (int j = 0; j < n; j++)
			cr[j] = beta == 0 ? alpha * row[j] : alpha * row[j] + beta * cr[j];
	}
	free(row);
}
`
