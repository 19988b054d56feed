package data

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"metriclab/core/vec"
)

// FuzzDecodeImage checks that an image file of a folder, PNG or JPEG,
// either fails to decode with a one-line error naming it or gives planes
// of its size in [0, 1], grey and RGB, that resize without a panic.
func FuzzDecodeImage(f *testing.F) {
	var buf bytes.Buffer
	png.Encode(&buf, grey(3, 2, func(x, y int) uint8 { return uint8(40 * (x + y)) }))
	f.Add(buf.Bytes(), true)
	buf.Reset()
	pal := image.NewPaletted(image.Rect(0, 0, 2, 2), color.Palette{color.NRGBA{255, 0, 0, 128}, color.Black})
	pal.Pix[3] = 1
	png.Encode(&buf, pal)
	f.Add(buf.Bytes(), true)
	buf.Reset()
	g16 := image.NewGray16(image.Rect(0, 0, 2, 2))
	g16.Pix[1] = 0xff
	png.Encode(&buf, g16)
	f.Add(buf.Bytes(), true)
	buf.Reset()
	png.Encode(&buf, image.NewNRGBA64(image.Rect(0, 0, 2, 1)))
	f.Add(buf.Bytes(), true)
	buf.Reset()
	jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 9, 7)), nil)
	f.Add(buf.Bytes(), false)
	buf.Reset()
	jpeg.Encode(&buf, grey(5, 5, func(x, y int) uint8 { return 200 }), nil)
	f.Add(buf.Bytes(), false)
	buf.Reset()
	jpeg.Encode(&buf, image.NewCMYK(image.Rect(0, 0, 4, 4)), nil)
	f.Add(buf.Bytes(), false)
	buf.Reset()
	jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 5, 3)), nil)
	f.Add(withSegments(buf.Bytes(), orientationSegment(binary.LittleEndian, 6)), false)
	buf.Reset()
	jpeg.Encode(&buf, grey(3, 5, func(x, y int) uint8 { return uint8(50 * y) }), nil)
	f.Add(withSegments(buf.Bytes(), orientationSegment(binary.BigEndian, 7)), false)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte, isPNG bool) {
		path := filepath.Join(dir, "x.jpg")
		if isPNG {
			path = filepath.Join(dir, "x.png")
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		img, err := decodeImage(path)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "data: "+path+": ") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line naming the file", msg)
			}
			return
		}
		r := img.Bounds()
		for _, ch := range []int{1, 3} {
			x := planesTo(nil, img, ch)
			if len(x) != ch*r.Dx()*r.Dy() {
				t.Fatalf("%d channels of %v: %d values", ch, r, len(x))
			}
			for i, v := range x {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("%d channels of a %T: value %d is %v, want [0, 1]", ch, img, i, v)
				}
			}
			out := vec.ResizeTo(nil, x, ch, r.Dy(), r.Dx(), 4, 5)
			for i, v := range out {
				if math.IsNaN(float64(v)) || v < -1e-6 || v > 1+1e-6 {
					t.Fatalf("resized %d channels of %v: value %d is %v", ch, r, i, v)
				}
			}
		}
	})
}

// FuzzExifOrientation checks that the EXIF reader gives an orientation of
// 1 to 8 for any bytes, as a file or, with segment, as the body of an
// APP1 segment (so that the fuzzer works on the TIFF structure), that
// bytes after that segment do not change it, and that orient turns an
// image to the size it says.
func FuzzExifOrientation(f *testing.F) {
	var buf bytes.Buffer
	jpeg.Encode(&buf, grey(4, 2, func(x, y int) uint8 { return uint8(60 * x) }), nil)
	for o := range uint16(10) {
		f.Add(withSegments(buf.Bytes(), orientationSegment(binary.LittleEndian, o)), false)
		f.Add(orientationSegment(binary.BigEndian, o)[4:], true)
	}
	f.Add(withSegments(buf.Bytes(), exifSegment(binary.BigEndian, tiffEntry{tagOrientation, 4, 1, 6})), false)
	f.Add([]byte("Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff"), true)
	f.Add([]byte("Exif\x00\x00MM\x00*\xff\xff\xff\xf0"), true)
	f.Add([]byte{0xff, markerSOI, 0xff, 0xff, 0xff}, false)
	f.Fuzz(func(t *testing.T, b []byte, segment bool) {
		if segment {
			if len(b) > 0xffff-2 {
				return
			}
			b = app(markerAPP1, b)
			b = append([]byte{0xff, markerSOI}, b...)
		}
		o := exifOrientation(b)
		if o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		if segment {
			if again := exifOrientation(append(b, 0xff, markerSOI, 0, 0, 0)); again != o {
				t.Fatalf("orientation %d, and %d with bytes after its segment", o, again)
			}
		}
		want := image.Pt(3, 2)
		if o >= 5 {
			want = image.Pt(2, 3)
		}
		if got := orient(image.NewGray(image.Rect(1, 1, 4, 3)), o).Bounds().Size(); got != want {
			t.Fatalf("orientation %d turns a 3×2 image to %v", o, got)
		}
	})
}

// FuzzParseMNIST checks that MNIST's gzipped IDX files either fail to
// parse with a one-line error or give a consistent set: N images of the
// files' shape, a digit for each, pixels in [0, 1].
func FuzzParseMNIST(f *testing.F) {
	f.Add(idx(idxImages, []int{2, 2, 1}, []byte{0, 255, 7, 9}), idx(idxLabels, []int{2}, []byte{3, 9}))
	f.Add(idx(idxImages, []int{0, 28, 28}, nil), idx(idxLabels, []int{0}, nil))
	f.Add(idx(idxImages, []int{1, 1, 1}, []byte{1}), idx(idxLabels, []int{1}, []byte{10}))
	f.Fuzz(func(t *testing.T, images, labels []byte) {
		s, err := ParseMNIST(images, labels)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q: want one line", err)
			}
			return
		}
		if len(s.X) != s.N*s.Input.Size() || len(s.Labels) != s.N || s.Input.Channels != 1 || len(s.Classes) != 10 {
			t.Fatalf("%d values and %d labels for %d images of %v", len(s.X), len(s.Labels), s.N, s.Input)
		}
		for _, l := range s.Labels {
			if l < 0 || l > 9 {
				t.Fatalf("label %d", l)
			}
		}
		for _, v := range s.X {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("pixel %v", v)
			}
		}
	})
}
