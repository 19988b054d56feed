package gemm

import (
	"math/rand/v2"
	"testing"
)

// TestKernelsTableSameBits: every assembly tile, of every row count, reads
// B's rows through an offset table as it reads them with a stride: a table
// of shuffled rows, some repeated, gives the bits of the same rows copied
// one below the other. TestMulBandSameBits reaches the table path only on
// the tiles its bands leave narrow (one or two rows on AVX-512 and NEON).
func TestKernelsTableSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, set := range runnable() {
		for fi := range set.fams {
			f := &set.fams[fi]
			for mr := 1; mr <= len(f.tiles); mr++ {
				for _, kc := range []int{1, 2, 7, KC} {
					for _, acc := range []bool{false, true} {
						const rowsB = 50
						ldb := f.nr + 3
						b := randSlice(rng, rowsB*ldb)
						bOff := make([]int32, kc)
						packed := make([]float32, kc*f.nr)
						for s := range bOff {
							row := rng.IntN(rowsB)
							bOff[s] = int32(row*ldb + rng.IntN(3))
							copy(packed[s*f.nr:], b[bOff[s]:int(bOff[s])+f.nr])
						}
						a := randSlice(rng, kc*mr+1)
						off := make([]int32, kc)
						for s, v := range rng.Perm(kc) {
							off[s] = int32(v)
						}
						row := make([]int32, mr)
						for r, v := range rng.Perm(mr) {
							row[r] = int32(v * kc)
						}
						ldc := f.nr + 1
						c0 := randSlice(rng, mr*ldc)
						want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
						tile, masks := f.tiles[mr-1], colMasks(f.nr)
						tile(kc, &a[0], &off[0], &row[0], &packed[0], f.nr, nil, &want[0], ldc, masks, acc)
						tile(kc, &a[0], &off[0], &row[0], &b[0], 12345, &bOff[0], &got[0], ldc, masks, acc)
						for i := range got {
							if got[i] != want[i] {
								t.Fatalf("%s %d×%d kc=%d acc=%v: c[%d] = %g through the table, %g with a stride", set.name, mr, f.nr, kc, acc, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}
