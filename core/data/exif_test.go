package data

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// tiffEntry is one entry of an IFD: tag, type, count and the value's four
// bytes, a SHORT in the first two.
type tiffEntry struct {
	tag, typ uint16
	count    uint32
	value    uint16
}

// exifSegment returns an APP1 segment, marker and length included, of
// EXIF data in byte order order whose IFD0 holds entries (and no IFD1).
func exifSegment(order binary.ByteOrder, entries ...tiffEntry) []byte {
	t := make([]byte, 8+2+12*len(entries)+4) // header, IFD0, no IFD1
	if order == binary.LittleEndian {
		copy(t, "II")
	} else {
		copy(t, "MM")
	}
	order.PutUint16(t[2:], 42)
	order.PutUint32(t[4:], 8) // IFD0 right after the header
	order.PutUint16(t[8:], uint16(len(entries)))
	for i, e := range entries {
		at := t[10+12*i:]
		order.PutUint16(at, e.tag)
		order.PutUint16(at[2:], e.typ)
		order.PutUint32(at[4:], e.count)
		order.PutUint16(at[8:], e.value)
	}
	return app(markerAPP1, append([]byte(exifHeader), t...))
}

// app returns a segment of marker code with body.
func app(code byte, body []byte) []byte {
	return append([]byte{0xff, code, byte((len(body) + 2) >> 8), byte(len(body) + 2)}, body...)
}

// orientationSegment is exifSegment with the orientation o (a SHORT)
// after an entry before it, ImageWidth, as a camera writes them.
func orientationSegment(order binary.ByteOrder, o uint16) []byte {
	return exifSegment(order, tiffEntry{0x0100, 4, 1, 640}, tiffEntry{tagOrientation, typeShort, 1, o})
}

// withSegments returns the JPEG file jpg with segs right after its SOI.
func withSegments(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// TestExifOrientation reads hand-built EXIF segments: every orientation in
// both byte orders, the segment after others (JFIF's APP0, XMP's APP1),
// and malformed or missing data, which is orientation 1.
func TestExifOrientation(t *testing.T) {
	var buf bytes.Buffer
	jpeg.Encode(&buf, grey(8, 8, func(x, y int) uint8 { return 0 }), nil)
	jpg := buf.Bytes()
	le, be := binary.LittleEndian, binary.BigEndian
	jfif := app(0xe0, []byte("JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00"))
	xmp := app(markerAPP1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"))
	seg6 := orientationSegment(le, 6)
	type tc struct {
		name string
		b    []byte
		want int
	}
	cases := []tc{
		{"no EXIF", jpg, 1},
		{"after APP0 and XMP", withSegments(jpg, jfif, xmp, orientationSegment(be, 8)), 8},
		{"fill bytes before a marker", withSegments(jpg, append([]byte{0xff, 0xff}, seg6...)), 6},
		{"first EXIF segment wins", withSegments(jpg, seg6, orientationSegment(be, 3)), 6},
		{"orientation the only entry", withSegments(jpg, exifSegment(be, tiffEntry{tagOrientation, typeShort, 1, 5})), 5},
		{"no orientation", withSegments(jpg, exifSegment(le, tiffEntry{0x0100, 4, 1, 640})), 1},
		{"empty IFD0", withSegments(jpg, exifSegment(le)), 1},
		{"orientation 0", withSegments(jpg, orientationSegment(le, 0)), 1},
		{"orientation 9", withSegments(jpg, orientationSegment(be, 9)), 1},
		{"orientation a LONG", withSegments(jpg, exifSegment(le, tiffEntry{tagOrientation, 4, 1, 6})), 1},
		{"two orientations", withSegments(jpg, exifSegment(be, tiffEntry{tagOrientation, typeShort, 2, 6})), 1},
		{"in APP2", withSegments(jpg, append([]byte{0xff, 0xe2}, seg6[2:]...)), 1},
		{"after SOS", append(bytes.Clone(jpg[:len(jpg)-2]), append(seg6, 0xff, markerEOI)...), 1},
		{"not a JPEG", seg6, 1},
		{"empty", nil, 1},
		{"SOI alone", []byte{0xff, markerSOI}, 1},
	}
	// Byte-level damage to a good segment at the end of a file, where the
	// bytes that follow cannot stand in for the ones cut off.
	good := withSegments([]byte{0xff, markerSOI}, seg6)
	at := 2 + 4 + len(exifHeader) // the TIFF header
	damage := func(name string, f func(b []byte) []byte) {
		cases = append(cases, tc{name, f(bytes.Clone(good)), 1})
	}
	damage("byte order", func(b []byte) []byte { b[at] = 'X'; return b })
	damage("byte orders mixed", func(b []byte) []byte { b[at+1] = 'M'; return b })
	damage("magic 43", func(b []byte) []byte { b[at+2] = 43; return b })
	damage("IFD0 in the header", func(b []byte) []byte { b[at+4] = 4; return b })
	damage("IFD0 past the end", func(b []byte) []byte { b[at+4] = 0xff; return b })
	damage("IFD0 at 2^32−1", func(b []byte) []byte { copy(b[at+4:], []byte{0xff, 0xff, 0xff, 0xff}); return b })
	damage("more entries than fit", func(b []byte) []byte { b[at+8] = 3; return b })
	damage("segment cut short", func(b []byte) []byte { return b[:len(b)-7] })
	damage("length past the end", func(b []byte) []byte { b[5]++; return b })
	damage("length 1", func(b []byte) []byte { b[4], b[5] = 0, 1; return b })
	damage("EXIF header", func(b []byte) []byte { b[6+4] = 1; return b })
	// A segment that ends before the orientation's value, with the value
	// still in the file after it: the bytes after the segment do not
	// count.
	cut := bytes.Clone(good)
	cut[5] -= 4 + 4 // no IFD1 offset, and the last four bytes of the entry
	cases = append(cases, tc{"entry past the segment's end", cut, 1})
	for _, order := range []binary.ByteOrder{le, be} {
		for o := 1; o <= 8; o++ {
			cases = append(cases, tc{order.String(), withSegments(jpg, orientationSegment(order, uint16(o))), o})
		}
	}
	for _, c := range cases {
		if got := exifOrientation(c.b); got != c.want {
			t.Errorf("%s: orientation %d, want %d", c.name, got, c.want)
		}
	}
	if n := testing.AllocsPerRun(10, func() { exifOrientation(good) }); n != 0 {
		t.Errorf("%v allocations a read, want none", n)
	}
}

// blockSide is the side of the blocks of the orientation tests' pattern:
// 16, a JPEG macroblock at 4:2:0, so that JPEG keeps each block's colour.
const blockSide = 16

// blocks is the pattern of the orientation tests: 2 rows of 3 blocks,
// each of its own colour (and grey), so that every turn and mirror of it
// puts some colour elsewhere.
var blocks = [][]color.RGBA{
	{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}},
	{{255, 255, 0, 255}, {0, 255, 255, 255}, {255, 0, 255, 255}},
}

// turnBlocks is the reference of orient on a grid: orientation o as EXIF
// 2.32's table spells it, a mirror left to right and then turns of 90°
// clockwise (g itself for an o outside 1 to 8, as orient).
func turnBlocks(g [][]color.RGBA, o int) [][]color.RGBA {
	mirror := func(g [][]color.RGBA) [][]color.RGBA {
		out := make([][]color.RGBA, len(g))
		for y, row := range g {
			for x := range row {
				out[y] = append(out[y], row[len(row)-1-x])
			}
		}
		return out
	}
	turn := func(g [][]color.RGBA) [][]color.RGBA { // 90° clockwise
		h, w := len(g), len(g[0])
		out := make([][]color.RGBA, w)
		for y := range w {
			for x := range h {
				out[y] = append(out[y], g[h-1-x][y]) // the left column, bottom up, is the top row
			}
		}
		return out
	}
	steps := map[int]struct {
		mirror bool
		turns  int
	}{1: {false, 0}, 2: {true, 0}, 3: {false, 2}, 4: {true, 2}, 5: {true, 3}, 6: {false, 1}, 7: {true, 1}, 8: {false, 3}}[o]
	if steps.mirror {
		g = mirror(g)
	}
	for range steps.turns {
		g = turn(g)
	}
	return g
}

// blockImage draws grid g with blocks of side s, as RGBA or, when grey,
// as their luma; its top left corner is at (x0, y0).
func blockImage(g [][]color.RGBA, s int, isGrey bool, x0, y0 int) image.Image {
	r := image.Rect(x0, y0, x0+s*len(g[0]), y0+s*len(g))
	var img interface {
		image.Image
		Set(x, y int, c color.Color)
	}
	if isGrey {
		img = image.NewGray(r)
	} else {
		img = image.NewRGBA(r)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.Set(x, y, g[(y-y0)/s][(x-x0)/s])
		}
	}
	return img
}

// ycbcrImage returns img as a YCbCr image at 4:2:0, as a colour JPEG
// decodes; img's blocks must be of an even side for its colours to stay.
func ycbcrImage(img image.Image) *image.YCbCr {
	b := img.Bounds()
	m := image.NewYCbCr(b, image.YCbCrSubsampleRatio420)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.YCbCrModel.Convert(img.At(x, y)).(color.YCbCr)
			m.Y[m.YOffset(x, y)], m.Cb[m.COffset(x, y)], m.Cr[m.COffset(x, y)] = c.Y, c.Cb, c.Cr
		}
	}
	return m
}

// TestOrient checks orient on each kind of image it handles apart (grey,
// YCbCr, the rest) against turnBlocks, pixel for pixel: images not at
// (0, 0) and of an odd width, so that a mistaken width or origin shows.
func TestOrient(t *testing.T) {
	odd := [][]color.RGBA{blocks[0], blocks[1], {blocks[1][2], blocks[0][0], blocks[1][0]}} // 3×3 blocks
	for _, tc := range []struct {
		name string
		img  func(g [][]color.RGBA) image.Image
	}{
		{"grey", func(g [][]color.RGBA) image.Image { return blockImage(g, 1, true, 3, 5) }},
		{"YCbCr 4:2:0", func(g [][]color.RGBA) image.Image { return ycbcrImage(blockImage(g, 2, false, 4, 6)) }},
		{"RGBA", func(g [][]color.RGBA) image.Image { return blockImage(g, 1, false, 1, 2) }},
	} {
		for _, g := range [][][]color.RGBA{blocks, odd, {blocks[0]}} {
			for o := 0; o <= 9; o++ {
				got, want := orient(tc.img(g), o), tc.img(turnBlocks(g, o))
				gb, wb := got.Bounds(), want.Bounds()
				if gb.Dx() != wb.Dx() || gb.Dy() != wb.Dy() {
					t.Errorf("%s, orientation %d: %v, want %v", tc.name, o, gb, wb)
					continue
				}
			pixels:
				for y := range wb.Dy() {
					for x := range wb.Dx() {
						// The same colours through the same colour model:
						// equal to the last bit.
						if c, w := got.At(gb.Min.X+x, gb.Min.Y+y), want.At(wb.Min.X+x, wb.Min.Y+y); rgba(c) != rgba(w) {
							t.Errorf("%s, %d×%d blocks, orientation %d: pixel (%d, %d) is %v, want %v", tc.name, len(g[0]), len(g), o, x, y, c, w)
							break pixels
						}
					}
				}
			}
		}
	}
}

// TestDecodeImageOrientation: a JPEG, grey or colour, with an EXIF
// orientation in either byte order, decodes as turnBlocks turns its
// pattern: each block's middle pixel within 8 levels of its colour
// (JPEG at quality 100 on blocks of a macroblock each; measured within 1).
func TestDecodeImageOrientation(t *testing.T) {
	const tol = 8
	dir := t.TempDir()
	for _, isGrey := range []bool{true, false} {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, blockImage(blocks, blockSide, isGrey, 0, 0), &jpeg.Options{Quality: 100}); err != nil {
			t.Fatal(err)
		}
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			for o := 1; o <= 8; o++ {
				path := filepath.Join(dir, "photo.jpg")
				if err := os.WriteFile(path, withSegments(buf.Bytes(), orientationSegment(order, uint16(o))), 0o644); err != nil {
					t.Fatal(err)
				}
				img, err := decodeImage(path)
				if err != nil {
					t.Fatalf("grey %v, %v, orientation %d: %v", isGrey, order, o, err)
				}
				want := turnBlocks(blocks, o)
				b := img.Bounds()
				if b.Dx() != blockSide*len(want[0]) || b.Dy() != blockSide*len(want) {
					t.Errorf("grey %v, %v, orientation %d: %v, want %d×%d blocks", isGrey, order, o, b, len(want[0]), len(want))
					continue
				}
				for by, row := range want {
					for bx, c := range row {
						at := image.Pt(b.Min.X+blockSide*bx+blockSide/2, b.Min.Y+blockSide*by+blockSide/2)
						got := color.RGBAModel.Convert(img.At(at.X, at.Y)).(color.RGBA)
						if isGrey {
							c = color.RGBAModel.Convert(color.GrayModel.Convert(c)).(color.RGBA)
						}
						if d := max(absDiff(got.R, c.R), absDiff(got.G, c.G), absDiff(got.B, c.B)); d > tol {
							t.Errorf("grey %v, %v, orientation %d: block (%d, %d) is %v, want %v ± %d", isGrey, order, o, bx, by, got, c, tol)
						}
					}
				}
			}
		}
	}
}

func rgba(c color.Color) [4]uint32 {
	r, g, b, a := c.RGBA()
	return [4]uint32{r, g, b, a}
}

func absDiff(a, b uint8) int {
	return max(int(a)-int(b), int(b)-int(a))
}
