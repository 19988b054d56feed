package vec

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestResizeTo checks ResizeTo against values worked out by hand: a copy
// at equal sizes, block means when halving, the overlap-weighted means of
// a 3 → 2 reduction, and bilinear taps clamped at the edges when doubling.
func TestResizeTo(t *testing.T) {
	cases := []struct {
		name       string
		src        []float32
		ch, sh, sw int
		dh, dw     int
		want       []float32
	}{
		{"equal: a copy", []float32{1, 2, 3, 4, 5, 6}, 1, 2, 3, 2, 3, []float32{1, 2, 3, 4, 5, 6}},
		{"4×4 → 2×2: means of 2×2 blocks", []float32{
			1, 3, 0, 0,
			5, 7, 0, 4,
			2, 2, 8, 8,
			2, 2, 8, 8}, 1, 4, 4, 2, 2, []float32{4, 1, 2, 8}},
		// Scale 1.5: out₀ covers [0, 1.5) = a₀ + ½a₁, out₁ [1.5, 3) = ½a₁ + a₂, over 1.5.
		{"1×3 → 1×2: overlap weights", []float32{3, 6, 9}, 1, 1, 3, 1, 2, []float32{(3 + 3) / 1.5, (3 + 9) / 1.5}},
		// Centres map to p = (i+½)/2 − ½ = −¼ (clamped to 0), ¼, ¾, 1¼ (clamped to 1).
		{"1×2 → 1×4: bilinear, clamped", []float32{0, 1}, 1, 1, 2, 1, 4, []float32{0, 0.25, 0.75, 1}},
		{"two planes apart", []float32{1, 1, 1, 1, 2, 2, 2, 2}, 2, 2, 2, 1, 1, []float32{1, 2}},
	}
	for _, c := range cases {
		got := ResizeTo(nil, c.src, c.ch, c.sh, c.sw, c.dh, c.dw)
		if len(got) != len(c.want) {
			t.Errorf("%s: %d values, want %d", c.name, len(got), len(c.want))
			continue
		}
		for i := range got {
			if math.Abs(float64(got[i]-c.want[i])) > 1e-6 {
				t.Errorf("%s: value %d = %g, want %g", c.name, i, got[i], c.want[i])
			}
		}
	}
}

// TestResizeToConstant resizes a constant image between random sizes, up
// and down: the weights of every output pixel sum to 1, so it stays that
// constant; and what dst held is kept in front.
func TestResizeToConstant(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		sh, sw, dh, dw := 1+rng.IntN(70), 1+rng.IntN(70), 1+rng.IntN(70), 1+rng.IntN(70)
		src := make([]float32, 2*sh*sw)
		for i := range src {
			src[i] = 0.25
		}
		got := ResizeTo([]float32{7}, src, 2, sh, sw, dh, dw)
		if len(got) != 1+2*dh*dw || got[0] != 7 {
			t.Fatalf("%d×%d → %d×%d: %d values starting %g, want 7 then %d", sh, sw, dh, dw, len(got), got[0], 2*dh*dw)
		}
		for i, v := range got[1:] {
			if math.Abs(float64(v)-0.25) > 1e-6 {
				t.Fatalf("%d×%d → %d×%d: value %d = %g, want 0.25", sh, sw, dh, dw, i, v)
			}
		}
	}
}

// resizeRef is ResizeTo as the formula reads: every plane's columns
// resized into a whole plane of float64, then its rows.
func resizeRef(dst, src []float32, ch, sh, sw, dh, dw int) []float32 {
	cols, rows := resampleTaps(sw, dw), resampleTaps(sh, dh)
	tmp := make([]float64, sh*dw)
	for c := range ch {
		plane := src[c*sh*sw : (c+1)*sh*sw]
		for y := range sh {
			row := plane[y*sw : (y+1)*sw]
			for x, t := range cols {
				var sum float64
				for k, w := range t.w {
					sum += w * float64(row[t.first+k])
				}
				tmp[y*dw+x] = sum
			}
		}
		for _, t := range rows {
			for x := range dw {
				var sum float64
				for k, w := range t.w {
					sum += w * tmp[(t.first+k)*dw+x]
				}
				dst = append(dst, float32(sum))
			}
		}
	}
	return dst
}

// TestResizeToReference: ResizeTo gives resizeRef's values bit for bit,
// up and down between random sizes.
func TestResizeToReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		ch, sh, sw, dh, dw := 1+rng.IntN(3), 1+rng.IntN(90), 1+rng.IntN(90), 1+rng.IntN(90), 1+rng.IntN(90)
		src := make([]float32, ch*sh*sw)
		for i := range src {
			src[i] = rng.Float32()
		}
		got, want := ResizeTo(nil, src, ch, sh, sw, dh, dw), resizeRef(nil, src, ch, sh, sw, dh, dw)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%d×%d×%d → %d×%d: value %d = %g, the reference's %g", ch, sh, sw, dh, dw, i, got[i], want[i])
			}
		}
	}
}

// TestResizeToTallMemory: resizing a tall strip takes memory of the order
// of its pixels, not of its height times the output's width in float64:
// a strip of 1×2^18 to 32×32 took 64 MB (256 times its 256 kB of pixels),
// and one of 1×2^26, which an image folder lets through, 17 GB.
func TestResizeToTallMemory(t *testing.T) {
	const sh = 1 << 18
	src := make([]float32, sh)
	dst := make([]float32, 0, 32*32)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ResizeTo(dst, src, 1, sh, 1, 32, 32)
	runtime.ReadMemStats(&after)
	// The row taps hold a float64 weight per source row: 2 MB here.
	if got, bound := after.TotalAlloc-before.TotalAlloc, uint64(16*sh+1<<20); got > bound {
		t.Errorf("1×%d → 32×32 allocated %d bytes, want at most %d", sh, got, bound)
	}
}
