//go:build linux

package kern

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"
)

// pageEnd returns n float32 that end where a page ends and an unreadable
// one begins: an access one byte past the slice faults. free releases the
// pages.
func pageEnd(t *testing.T, n int) (s []float32, free func()) {
	t.Helper()
	ps := syscall.Getpagesize()
	pages := (4*n+ps-1)/ps + 1
	mem, err := syscall.Mmap(-1, 0, pages*ps, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mprotect(mem[(pages-1)*ps:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	all := unsafe.Slice((*float32)(unsafe.Pointer(&mem[0])), (pages-1)*ps/4)
	return all[len(all)-n:], func() { syscall.Munmap(mem) }
}

// TestNoReadPastEnd runs every function of every kernel set on inputs and
// outputs that end at an unreadable page: a vector load or store past the
// end of a slice (an unmasked tail) would crash the test.
func TestNoReadPastEnd(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, k := range runnable() {
		for _, n := range lengths {
			x, fx := pageEnd(t, n)
			y, fy := pageEnd(t, n)
			d, fd := pageEnd(t, n)
			copy(x, values(rng, n))
			copy(y, values(rng, n))
			k.relu(d, x)
			k.reluBack(d, x, y)
			k.prelu(d, x, 0.1)
			k.preluBack(d, x, y, 0.1)
			k.scaleShift(d, x, 2, 1)
			k.axpbyc(d, x, y, 1, 2, 3)
			_ = k.preluSlopeGrad(x, y) + k.sum(x) + k.dot(x, y) + k.sumSqDev(x, 1) + k.maskedSum(x, y)
			fx()
			fy()
			fd()
		}
		for _, sh := range [][2]int{{1, 1}, {3, 17}, {17, 3}, {16, 16}, {33, 47}} {
			r, c := sh[0], sh[1]
			t.Run(fmt.Sprintf("%s/transpose%dx%d", k.name, r, c), func(t *testing.T) {
				src, fs := pageEnd(t, r*c)
				dst, fd := pageEnd(t, r*c)
				bias, fb := pageEnd(t, c)
				defer func() { fs(); fd(); fb() }()
				k.transpose(dst, r, src, c, r, c, bias)
				k.transpose(dst, r, src, c, r, c, nil)
			})
		}
		for _, sh := range [][3]int{{1, 2, 2}, {2, 5, 7}, {3, 4, 34}, {1, 3, 65}} {
			nc, h, w := sh[0], sh[1], sh[2]
			m := nc * (h / 2) * (w / 2)
			x, fx := pageEnd(t, nc*h*w)
			yv, fy := pageEnd(t, m)
			av, fa := pageEnd(t, m)
			arg := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(av))), m)
			k.maxPool2(yv, arg, x, nc, h, w)
			fx()
			fy()
			fa()
		}
	}
}
