package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"metriclab/core"
)

// writeImage encodes img as PNG, or as JPEG of quality 100 when path ends
// in .jpg or .jpeg (any case), creating the folders on the way.
func writeImage(t *testing.T, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	var err error
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".jpg" || ext == ".jpeg" {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100})
	} else {
		err = png.Encode(&buf, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// grey returns a w×h grey image whose pixel (x, y) is f(x, y).
func grey(w, h int, f func(x, y int) uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetGray(x, y, color.Gray{Y: f(x, y)})
		}
	}
	return img
}

// near reports whether got and want agree within tol everywhere.
func near(got, want []float32, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(float64(got[i])-float64(want[i])) > tol {
			return false
		}
	}
	return true
}

// scaled returns vs/255.
func scaled(vs ...float64) []float32 {
	out := make([]float32, len(vs))
	for i, v := range vs {
		out[i] = float32(v / 255)
	}
	return out
}

// repeat returns n copies of vs, one after the other.
func repeat(vs []float32, n int) []float32 {
	var out []float32
	for range n {
		out = append(out, vs...)
	}
	return out
}

// TestResize checks the resampling on images whose result is known in
// closed form: a constant stays constant; a linear ramp is averaged over
// each output pixel's area when downscaling, and interpolated at the
// output pixel centres (clamped at the borders) when upscaling.
func TestResize(t *testing.T) {
	upRamp := scaled(0, 5, 15, 25, 35, 45, 55, 65, 75, 85, 95, 105, 115, 125, 135, 140)
	for _, tc := range []struct {
		name   string
		img    image.Image
		h, w   int
		want   []float32
		tol    float64
		source string
	}{
		{"constant down", grey(7, 5, func(x, y int) uint8 { return 100 }), 4, 3, repeat(scaled(100), 12), 1e-6, "weights sum to 1"},
		{"constant up", grey(9, 8, func(x, y int) uint8 { return 77 }), 16, 17, repeat(scaled(77), 272), 1e-6, "weights sum to 1"},
		{"same size", grey(3, 1, func(x, y int) uint8 { return uint8(10 * x) }), 1, 3, scaled(0, 10, 20), 0, "identity"},
		// Ramp 0, 30, ..., 210 halved: means of pairs.
		{"ramp down 8→4", grey(8, 2, func(x, y int) uint8 { return uint8(30 * x) }), 1, 4, scaled(15, 75, 135, 195), 1e-6, "(v[2i] + v[2i+1]) / 2, rows averaged"},
		// 0, 30, 60 over [0, 1.5) and [1.5, 3): (0 + 0.5·30)/1.5, (0.5·30 + 60)/1.5.
		{"ramp down 3→2", grey(3, 1, func(x, y int) uint8 { return uint8(30 * x) }), 1, 2, scaled(10, 50), 1e-6, "area overlap weights"},
		// 0, 20, ..., 140 at centres p = i/2 − 1/4: clamp 0, 5, 15, ..., 135, clamp 140
		// (an image is 8 pixels a side or more to be scaled up: see tooSmall).
		{"ramp up 8→16", grey(8, 1, func(x, y int) uint8 { return uint8(20 * x) }), 1, 16, upRamp, 1e-5, "bilinear at p = (i+½)/2 − ½"},
		// The same ramp along y, 8 rows upscaled to 16.
		{"ramp up rows 8→16", grey(1, 8, func(x, y int) uint8 { return uint8(20 * y) }), 16, 1, upRamp, 1e-5, "bilinear at p = (i+½)/2 − ½"},
	} {
		dir := t.TempDir()
		writeImage(t, filepath.Join(dir, "a", "img.png"), tc.img)
		s, err := ImageFolder(dir, core.Input{Channels: 1, Height: tc.h, Width: tc.w})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if s.N != 1 || !near(s.X, tc.want, tc.tol) {
			t.Errorf("%s: got %v, want %v ± %g (%s)", tc.name, s.X, tc.want, tc.tol, tc.source)
		}
	}
}

// TestColour checks grey conversion with the BT.601 weights, RGB planes,
// transparency over black, and JPEG decoding.
func TestColour(t *testing.T) {
	dir := t.TempDir()
	// Red, green, blue and half-transparent (200, 100, 50) in a row.
	img := image.NewNRGBA(image.Rect(0, 0, 4, 1))
	img.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	img.SetNRGBA(1, 0, color.NRGBA{0, 255, 0, 255})
	img.SetNRGBA(2, 0, color.NRGBA{0, 0, 255, 255})
	img.SetNRGBA(3, 0, color.NRGBA{200, 100, 50, 102}) // alpha 0.4
	writeImage(t, filepath.Join(dir, "c", "rgba.png"), img)
	opaque := image.NewRGBA(image.Rect(0, 0, 4, 1))
	for x, c := range []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {80, 40, 20, 255}} {
		opaque.SetRGBA(x, 0, c)
	}
	writeImage(t, filepath.Join(dir, "c", "rgb.png"), opaque) // decodes as *image.RGBA

	s, err := ImageFolder(dir, core.Input{Channels: 1, Height: 1, Width: 4})
	if err != nil {
		t.Fatal(err)
	}
	// 0.4·(200, 100, 50) = (80, 40, 20): luma 0.299·80 + 0.587·40 + 0.114·20 = 49.68.
	wantGrey := []float32{0.299, 0.587, 0.114, 49.68 / 255}
	if s.N != 2 || !near(s.Image(0), wantGrey, 1e-6) || !near(s.Image(1), wantGrey, 1e-6) {
		t.Errorf("grey = %v, want each image %v", s.X, wantGrey)
	}
	s, err = ImageFolder(dir, core.Input{Channels: 3, Height: 1, Width: 4})
	if err != nil {
		t.Fatal(err)
	}
	wantRGB := []float32{1, 0, 0, 80.0 / 255, 0, 1, 0, 40.0 / 255, 0, 0, 1, 20.0 / 255}
	if !near(s.Image(0), wantRGB, 1e-6) || !near(s.Image(1), wantRGB, 1e-6) {
		t.Errorf("RGB = %v, want each image %v", s.X, wantRGB)
	}

	// JPEG: a flat colour survives quality 100 within a few levels.
	jdir := t.TempDir()
	flat := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < len(flat.Pix); i += 4 {
		copy(flat.Pix[i:], []byte{200, 100, 50, 255})
	}
	writeImage(t, filepath.Join(jdir, "j", "flat.JPG"), flat)
	writeImage(t, filepath.Join(jdir, "j", "grey.jpeg"), grey(16, 16, func(x, y int) uint8 { return 90 }))
	s, err = ImageFolder(jdir, core.Input{Channels: 3, Height: 4, Width: 4})
	if err != nil {
		t.Fatal(err)
	}
	wantFlat := slices.Concat(repeat(scaled(200), 16), repeat(scaled(100), 16), repeat(scaled(50), 16))
	if !near(s.Image(0), wantFlat, 3.0/255) || !near(s.Image(1), repeat(scaled(90), 48), 1.0/255) {
		t.Errorf("JPEG RGB = %v", s.X)
	}
	s, err = ImageFolder(jdir, core.Input{Channels: 1, Height: 4, Width: 4})
	if err != nil {
		t.Fatal(err)
	}
	luma := 0.299*200 + 0.587*100 + 0.114*50 // 124.2
	if !near(s.Image(0), repeat(scaled(luma), 16), 3.0/255) || !near(s.Image(1), repeat(scaled(90), 16), 1.0/255) {
		t.Errorf("JPEG grey = %v, want %v then %v", s.X, luma/255, 90.0/255)
	}
}

// TestImageFolderLayout checks the order of identities and files, the
// extensions taken and the files skipped.
func TestImageFolderLayout(t *testing.T) {
	dir := t.TempDir()
	px := func(v uint8) image.Image { return grey(2, 2, func(x, y int) uint8 { return v }) }
	writeImage(t, filepath.Join(dir, "bob", "b.PNG"), px(11))
	writeImage(t, filepath.Join(dir, "bob", "a.jpeg"), px(10))
	writeImage(t, filepath.Join(dir, "alice", "z.png"), px(2))
	writeImage(t, filepath.Join(dir, "alice", "1.JPEG"), px(1))
	garbage := []byte("not an image")
	os.WriteFile(filepath.Join(dir, "alice", ".hidden.png"), garbage, 0o644)
	os.WriteFile(filepath.Join(dir, "alice", "notes.txt"), garbage, 0o644)
	os.WriteFile(filepath.Join(dir, "README.md"), garbage, 0o644)
	os.MkdirAll(filepath.Join(dir, ".cache"), 0o755)
	os.WriteFile(filepath.Join(dir, ".cache", "x.png"), garbage, 0o644)

	s, err := ImageFolder(dir, core.Input{Channels: 1, Height: 1, Width: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Classes, []string{"alice", "bob"}) || !slices.Equal(s.Labels, []int{0, 0, 1, 1}) {
		t.Errorf("Classes %q, Labels %v", s.Classes, s.Labels)
	}
	if want := scaled(1, 2, 10, 11); !near(s.X, want, 1.0/255) {
		t.Errorf("X = %v, want %v (files in name order)", s.X, want)
	}
	if s.Input != (core.Input{Channels: 1, Height: 1, Width: 1}) {
		t.Errorf("Input = %+v", s.Input)
	}
}

// TestLoadTellsFilesNotRead: what a folder holds besides its identities'
// images is counted in Skipped by reason, so that a user is told of photos
// not read (an iPhone's .HEIC, a .gif, a folder of them inside an
// identity's); hidden files are not counted, nor the files Windows and
// macOS keep in a folder (Thumbs.db, desktop.ini, Icon\r), which a user
// never put there: before, these were told as skipped. Before that, the
// others were left out unseen.
func TestLoadTellsFilesNotRead(t *testing.T) {
	dir := t.TempDir()
	px := grey(2, 2, func(x, y int) uint8 { return 1 })
	writeImage(t, filepath.Join(dir, "ann", "a.png"), px)
	writeImage(t, filepath.Join(dir, "ann", "trip", "b.png"), px)
	writeImage(t, filepath.Join(dir, "bob", "a.jpg"), px)
	writeImage(t, filepath.Join(dir, "top.png"), px)
	garbage := []byte("not read")
	os.WriteFile(filepath.Join(dir, "ann", "c.gif"), garbage, 0o644)
	os.WriteFile(filepath.Join(dir, "bob", "d.HEIC"), garbage, 0o644)
	os.WriteFile(filepath.Join(dir, "bob", ".DS_Store"), garbage, 0o644)
	os.WriteFile(filepath.Join(dir, ".hidden"), garbage, 0o644)
	// What Windows and macOS write in a folder of their own, in any case.
	os.WriteFile(filepath.Join(dir, "ann", "Thumbs.db"), garbage, 0o644)
	os.WriteFile(filepath.Join(dir, "bob", "thumbs.DB"), garbage, 0o644)
	os.WriteFile(filepath.Join(dir, "bob", "desktop.ini"), garbage, 0o644)
	os.WriteFile(filepath.Join(dir, "Desktop.ini"), garbage, 0o644)
	os.WriteFile(filepath.Join(dir, "ann", "Icon\r"), garbage, 0o644)

	s, skipped, err := LoadAligned(dir, "all", core.Input{Channels: 1, Height: 2, Width: 2}, nil, Turns{})
	if err != nil {
		t.Fatal(err)
	}
	want := Skipped{"not .png, .jpg or .jpeg": 2, "sub-folders of an identity": 1, "beside the identity folders": 1}
	if s.N != 2 || !reflect.DeepEqual(skipped, want) {
		t.Errorf("%d images, skipped %v; want 2, skipped %v", s.N, skipped, want)
	}
}

// TestSkippedString: the count of sub-folders of an identity reads in the
// singular or the plural as the others do (before, "1 sub-folder(s) of an
// identity").
func TestSkippedString(t *testing.T) {
	for _, tc := range []struct {
		s    Skipped
		want string
	}{
		{Skipped{}, ""},
		{Skipped{skipNested: 1, skipBeside: 1}, "2 skipped: 1 beside the identity folders, 1 sub-folder of an identity"},
		{Skipped{skipNested: 3}, "3 skipped: 3 sub-folders of an identity"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("%v: %q, want %q", map[string]int(tc.s), got, tc.want)
		}
	}
}

// TestLoadSkipsTooSmall: an image with a side under 8 pixels that the
// input would scale up (a 1×1 pixel, a 3×16 sliver, at a 16×16 input) is
// skipped and counted rather than scaled up; an 8×8 one is scaled up as
// before, and at a 1×1 input, which scales none up, every image loads.
// Before, every image was scaled up, whatever its size, without a word.
func TestLoadSkipsTooSmall(t *testing.T) {
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "ann", "a.png"), grey(16, 16, func(x, y int) uint8 { return uint8(x) }))
	writeImage(t, filepath.Join(dir, "ann", "b.png"), grey(8, 8, func(x, y int) uint8 { return 9 }))
	writeImage(t, filepath.Join(dir, "ann", "pixel.png"), grey(1, 1, func(x, y int) uint8 { return 200 }))
	writeImage(t, filepath.Join(dir, "bob", "a.png"), grey(16, 16, func(x, y int) uint8 { return uint8(y) }))
	writeImage(t, filepath.Join(dir, "bob", "sliver.png"), grey(3, 16, func(x, y int) uint8 { return 1 }))
	s, skipped, err := LoadAligned(dir, "all", core.Input{Channels: 1, Height: 16, Width: 16}, nil, Turns{})
	if err != nil {
		t.Fatal(err)
	}
	want := Skipped{"under 8 pixels a side": 2}
	if s.N != 3 || !slices.Equal(s.Labels, []int{0, 0, 1}) || !reflect.DeepEqual(skipped, want) || !reflect.DeepEqual(skipped.Refused(), want) {
		t.Errorf("%d images %v, skipped %v; want 3 [0 0 1], skipped %v", s.N, s.Labels, skipped, want)
	}
	s, skipped, err = LoadAligned(dir, "all", core.Input{Channels: 1, Height: 1, Width: 1}, nil, Turns{})
	if err != nil || s.N != 5 || len(skipped) != 0 {
		t.Errorf("at 1×1: %d images, skipped %v, %v; want 5, nothing skipped", s.N, skipped, err)
	}
}

// TestLoadReadsIdentitiesNamedAsSystemFiles: a folder named as a file
// the systems keep (Thumbs.db, desktop.ini, in any case) is an identity,
// read as any other: the server takes such a name for a person
// (msg.IdentityProblem) and keeps their snapshots in a folder of it.
// Before, the folder was passed over as the file is, and the person was
// left out of the data set unseen.
func TestLoadReadsIdentitiesNamedAsSystemFiles(t *testing.T) {
	dir := t.TempDir()
	px := grey(2, 2, func(x, y int) uint8 { return 1 })
	for _, id := range []string{"ann", "Thumbs.db", "Desktop.ini"} {
		writeImage(t, filepath.Join(dir, id, "a.png"), px)
	}
	s, skipped, err := LoadAligned(dir, "all", core.Input{Channels: 1, Height: 2, Width: 2}, nil, Turns{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Desktop.ini", "Thumbs.db", "ann"}; !slices.Equal(s.Classes, want) || len(skipped) != 0 {
		t.Errorf("identities named as system files: classes %q, skipped %v; want %q, nothing skipped", s.Classes, skipped, want)
	}
}

// TestLoadPassesOverDriveRootFolders: a data set at the root of a Windows
// drive holds the folders Windows keeps there, $RECYCLE.BIN (of folders)
// and System Volume Information (which only the system may read), in any
// case: they are neither identities nor counted. A file so named is not
// one of them: it is counted as a file of another format.
// Before, the first failed the load ("identity "$RECYCLE.BIN" holds
// folders and no images").
func TestLoadPassesOverDriveRootFolders(t *testing.T) {
	dir := t.TempDir()
	px := grey(2, 2, func(x, y int) uint8 { return 1 })
	writeImage(t, filepath.Join(dir, "ann", "a.png"), px)
	// $RECYCLE.BIN on a removable drive, $Recycle.Bin on a system one.
	writeImage(t, filepath.Join(dir, "$Recycle.Bin", "S-1-5-21-1004", "$R0A1B2C.png"), px)
	writeImage(t, filepath.Join(dir, "System Volume Information", "tracking.png"), px)
	writeImage(t, filepath.Join(dir, "bob", "a.png"), px)
	if err := os.WriteFile(filepath.Join(dir, "bob", "system volume information"), []byte("a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, skipped, err := LoadAligned(dir, "all", core.Input{Channels: 1, Height: 2, Width: 2}, nil, Turns{})
	if err != nil {
		t.Fatal(err)
	}
	want := Skipped{"not .png, .jpg or .jpeg": 1}
	if !slices.Equal(s.Classes, []string{"ann", "bob"}) || s.N != 2 || !reflect.DeepEqual(skipped, want) {
		t.Errorf("classes %q, %d images, skipped %v; want ann and bob, 2 images, skipped %v", s.Classes, s.N, skipped, want)
	}
}

// TestDecodeImageMisnamed: a PNG saved as .jpg and a JPEG saved as .png
// (as downloads often are) decode by their content, the JPEG turned by its
// EXIF orientation; before, each was refused as not of its extension's
// format ("invalid JPEG format: missing SOI marker").
func TestDecodeImageMisnamed(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := png.Encode(&buf, grey(3, 2, func(x, y int) uint8 { return 7 })); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "png.jpg"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := jpeg.Encode(&buf, grey(3, 2, func(x, y int) uint8 { return 200 }), nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "jpeg.png"), withSegments(buf.Bytes(), orientationSegment(binary.BigEndian, 6)), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]image.Rectangle{
		"png.jpg":  image.Rect(0, 0, 3, 2),
		"jpeg.png": image.Rect(0, 0, 2, 3), // turned a quarter
	} {
		img, err := decodeImage(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if img.Bounds() != want {
			t.Errorf("%s: bounds %v, want %v", name, img.Bounds(), want)
		}
	}
}

func TestImageFolderErrors(t *testing.T) {
	in := core.Input{Channels: 1, Height: 4, Width: 4}
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "a.png"), nil, 0o644) // a file, not an identity

	noImages := t.TempDir()
	writeImage(t, filepath.Join(noImages, "a", "x.png"), grey(2, 2, func(x, y int) uint8 { return 0 }))
	os.MkdirAll(filepath.Join(noImages, "b"), 0o755)
	os.WriteFile(filepath.Join(noImages, "b", "x.gif"), nil, 0o644)

	// A split's folders named as they are on a system that ignores case.
	capitals := t.TempDir()
	writeImage(t, filepath.Join(capitals, "Test", "ann", "x.png"), grey(2, 2, func(x, y int) uint8 { return 0 }))
	writeImage(t, filepath.Join(capitals, "Train", "ann", "x.png"), grey(2, 2, func(x, y int) uint8 { return 0 }))

	broken := t.TempDir()
	writeImage(t, filepath.Join(broken, "a", "x.png"), grey(2, 2, func(x, y int) uint8 { return 0 }))
	os.WriteFile(filepath.Join(broken, "a", "y.jpg"), []byte("not a jpeg"), 0o644)

	empty0 := t.TempDir()
	os.MkdirAll(filepath.Join(empty0, "a"), 0o755)
	os.WriteFile(filepath.Join(empty0, "a", "x.png"), nil, 0o644)

	for _, tc := range []struct {
		dir  string
		in   core.Input
		want string
	}{
		{empty, in, empty + " has no identity folders"},
		{filepath.Join(empty, "missing"), in, "missing"},
		{filepath.Join(empty, "a.png"), in, filepath.Join(empty, "a.png") + " is a file, not mnist or a folder of identities"},
		{noImages, in, `identity "b" has no images`},
		{capitals, in, `identity "Test" holds folders and no images: an identity's images go straight in its folder, and a split's two folders are named train/ and test/`},
		{broken, in, filepath.Join(broken, "a", "y.jpg") + ": cannot decode"},
		{empty0, in, filepath.Join(empty0, "a", "x.png") + ": empty file (0 bytes)"},
		{noImages, core.Input{Channels: 2, Height: 4, Width: 4}, "want 1 or 3 channels"},
		{noImages, core.Input{Channels: 1, Height: 0, Width: 4}, "positive height and width"},
	} {
		_, err := ImageFolder(tc.dir, tc.in)
		if err == nil || !strings.HasPrefix(err.Error(), "data: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ImageFolder(%s, %v) error %v, want one containing %q", tc.dir, tc.in, err, tc.want)
		}
	}
}

// pngDeclaring returns a PNG whose header declares w×h grey pixels and
// whose data holds one row: a decompression bomb's header, cheap to write.
func pngDeclaring(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// Signature (8), IHDR's length (4) and type (4), width (4), height (4), …, CRC of type and data.
	binary.BigEndian.PutUint32(b[20:24], uint32(h))
	binary.BigEndian.PutUint32(b[29:33], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// TestImageFolderRefusesHugeImages: an image whose header declares more
// than 8192×8192 pixels is refused, naming the file and its size, before
// its pixels are decoded (before, a 10000×10000 header made the decoder
// allocate 100 MB and then fail on the missing data, and a 2^20×2^20 one
// ended the process: out of memory).
func TestImageFolderRefusesHugeImages(t *testing.T) {
	in := core.Input{Channels: 1, Height: 4, Width: 4}
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"wide.png", pngDeclaring(t, 10000, 10000), "10000×10000 pixels, more than the 8192×8192"},
		{"bomb.png", pngDeclaring(t, 1<<16, 1<<20), "65536×1048576 pixels"},
		{"tall.PNG", pngDeclaring(t, 8193, 8192), "8193×8192 pixels"},
	} {
		dir := t.TempDir()
		writeImage(t, filepath.Join(dir, "a", "x.png"), grey(2, 2, func(x, y int) uint8 { return 0 }))
		path := filepath.Join(dir, "a", tc.name)
		if err := os.WriteFile(path, tc.file, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ImageFolder(dir, in)
		if err == nil || !strings.Contains(err.Error(), path+": "+tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, path+": "+tc.want)
		}
	}
	// 8192×8192 itself is allowed: the header passes, and the missing
	// rows are what fails.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a"), 0o755)
	path := filepath.Join(dir, "a", "edge.png")
	os.WriteFile(path, pngDeclaring(t, 8192, 8192), 0o644)
	if _, err := ImageFolder(dir, in); err == nil || !strings.Contains(err.Error(), path+": cannot decode") {
		t.Errorf("8192×8192: error %v, want the decoder's", err)
	}
}

// TestLoadSplit checks the split of a folder without train/ and test/: of
// each identity's images, the 5th, 10th, ... go to "test".
func TestLoadSplit(t *testing.T) {
	dir := t.TempDir()
	// Identity k's image i has the value 20·k + i.
	for k, n := range map[string]int{"a": 11, "b": 5, "c": 3} {
		for i := range n {
			v := uint8(20*int(k[0]-'a') + i)
			writeImage(t, filepath.Join(dir, k, string(rune('a'+i))+".png"), grey(1, 1, func(x, y int) uint8 { return v }))
		}
	}
	in := core.Input{Channels: 1, Height: 1, Width: 1}
	test, err := Load(dir, "test", in)
	if err != nil {
		t.Fatal(err)
	}
	train, err := Load(dir, "train", in)
	if err != nil {
		t.Fatal(err)
	}
	values := func(s *Set) []int {
		var out []int
		for _, v := range s.X {
			out = append(out, int(math.Round(float64(v)*255)))
		}
		return out
	}
	// a: images 4 and 9; b: image 4; c: none.
	if got, want := values(test), []int{4, 9, 24}; !slices.Equal(got, want) || !slices.Equal(test.Labels, []int{0, 0, 1}) {
		t.Errorf("test values %v labels %v, want %v labels [0 0 1]", got, test.Labels, want)
	}
	if got := values(train); len(got) != 16 || got[0] != 0 || got[4] != 5 || got[len(got)-1] != 42 || slices.Contains(got, 4) || slices.Contains(got, 24) {
		t.Errorf("train values %v", got)
	}
	if !slices.Equal(train.Classes, []string{"a", "b", "c"}) || !slices.Equal(test.Classes, train.Classes) {
		t.Errorf("Classes: train %q, test %q; want both [a b c]", train.Classes, test.Classes)
	}
	if again, _ := Load(dir, "test", in); !reflect.DeepEqual(again, test) {
		t.Error("Load is not deterministic")
	}
	// "all" is every image, in the same order as the identity folders.
	all, err := Load(dir, "all", in)
	if err != nil {
		t.Fatal(err)
	}
	if got := values(all); len(got) != 19 || !slices.Contains(got, 4) || !slices.Contains(got, 24) || !slices.Equal(all.Classes, train.Classes) {
		t.Errorf("all: values %v classes %q", got, all.Classes)
	}

	// With train/ and test/ folders, each split is its folder.
	split := t.TempDir()
	writeImage(t, filepath.Join(split, "train", "x", "1.png"), grey(1, 1, func(x, y int) uint8 { return 1 }))
	writeImage(t, filepath.Join(split, "train", "y", "1.png"), grey(1, 1, func(x, y int) uint8 { return 2 }))
	writeImage(t, filepath.Join(split, "test", "z", "1.png"), grey(1, 1, func(x, y int) uint8 { return 3 }))
	s, err := Load(split, "test", in)
	if err != nil || s.N != 1 || !slices.Equal(s.Classes, []string{"z"}) {
		t.Errorf("Load(test) with a test folder = %+v, %v", s, err)
	}
	if s, err := Load(split, "train", in); err != nil || s.N != 2 || !slices.Equal(s.Classes, []string{"x", "y"}) {
		t.Errorf("Load(train) with a train folder = %+v, %v", s, err)
	}

	// ClassNames gives Load's Classes without reading an image.
	for _, c := range []struct{ name, split string }{{dir, "train"}, {dir, "test"}, {dir, "all"}, {split, "train"}, {split, "test"}} {
		s, err := Load(c.name, c.split, in)
		if err != nil {
			t.Fatal(err)
		}
		if names, err := ClassNames(c.name, c.split); err != nil || !slices.Equal(names, s.Classes) {
			t.Errorf("ClassNames(%s, %s) = %q, %v; Load's Classes %q", c.name, c.split, names, err, s.Classes)
		}
	}
	t.Chdir(split) // a folder with train/ and test/, which "" must not name
	if names, err := ClassNames("mnist", "test"); err != nil || !slices.Equal(names, Numbered(10)) {
		t.Errorf("ClassNames(mnist) = %q, %v", names, err)
	}

	for _, tc := range []struct {
		name, split string
		in          core.Input
		want        string
	}{
		{dir, "val", in, `split "val"`},
		{split, "all", in, "has train/ and test/ folders, its training and test splits: leave split all out"}, // what to do, not "use them"
		{"mnist", "all", core.Input{}, "mnist has train and test"},
		{"mnist", "train", core.Input{Channels: 3, Height: 32, Width: 32}, "mnist images are 1×28×28"}, // the one ClassNames, without an input, cannot refuse
		{"", "test", in, "no data set named"},                                                          // not the current folder's train/ and test/ (t.Chdir above)
	} {
		if _, err := Load(tc.name, tc.split, tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%s, %s) error %v, want %q", tc.name, tc.split, err, tc.want)
		}
		if _, err := ClassNames(tc.name, tc.split); tc.split != "train" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("ClassNames(%s, %s) error %v, want %q", tc.name, tc.split, err, tc.want)
		}
	}
}

// TestLoadAligned: the aligner sees every decoded photo of the split with
// the input shape, its crops are the images, the photos it refuses are
// left out and counted by reason, labels keep to the identities (one left
// without images keeps its label), and MNIST takes no aligner.
func TestLoadAligned(t *testing.T) {
	dir := t.TempDir()
	// Identity k's image i is a 3×2 photo of grey level 10·k + i; odd levels
	// have "no face", levels ≥ 20 are "too small".
	for k, name := range []string{"a", "b", "c"} {
		for i := range 4 {
			v := uint8(10*k + i)
			writeImage(t, filepath.Join(dir, name, fmt.Sprintf("%d.png", i)), grey(3, 2, func(x, y int) uint8 { return v }))
		}
	}
	in := core.Input{Channels: 1, Height: 2, Width: 2}
	align := func(dst []float32, img image.Image, got core.Input) ([]float32, string) {
		if got != in {
			t.Errorf("aligner got input %+v, want %+v", got, in)
		}
		v := img.(*image.Gray).Pix[0]
		switch {
		case v%2 == 1:
			return nil, "no face"
		case v >= 20:
			return nil, "too small"
		}
		return append(dst[:0], float32(v), float32(v), float32(v), float32(v)), ""
	}
	s, skipped, err := LoadAligned(dir, "all", in, align, Turns{})
	if err != nil {
		t.Fatal(err)
	}
	var values []float32
	for i := 0; i < s.N; i++ {
		values = append(values, s.Image(i)[0])
	}
	if !slices.Equal(values, []float32{0, 2, 10, 12}) || !slices.Equal(s.Labels, []int{0, 0, 1, 1}) || !slices.Equal(s.Classes, []string{"a", "b", "c"}) {
		t.Errorf("images %v labels %v classes %q, want [0 2 10 12], [0 0 1 1], [a b c]", values, s.Labels, s.Classes)
	}
	if want := (Skipped{"no face": 6, "too small": 2}); !reflect.DeepEqual(skipped, want) {
		t.Errorf("skipped %v, want %v", skipped, want)
	}
	if _, _, err := LoadAligned("mnist", "train", core.Input{}, align, Turns{}); err == nil || !strings.Contains(err.Error(), "not photos") {
		t.Errorf("mnist with an aligner: %v", err)
	}
}

// TestImageFolderExifOrientation: a phone's photo, stored sideways with
// EXIF orientation 6 or 8, loads upright, as the same photo stored
// upright does, and the aligner of LoadAligned sees it upright.
func TestImageFolderExifOrientation(t *testing.T) {
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "ann", "0-upright.png"), blockImage(blocks, blockSide, false, 0, 0)) // 3 blocks wide, 2 high
	// The phone stores the photo turned back: orientation 6 (turn it 90°
	// clockwise to see it) turned as 8 says, and 8 as 6 says.
	for _, o := range []int{6, 8} {
		stored := blockImage(turnBlocks(blocks, map[int]int{6: 8, 8: 6}[o]), blockSide, false, 0, 0)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, stored, &jpeg.Options{Quality: 100}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "ann", fmt.Sprintf("%d-phone.jpg", o))
		if err := os.WriteFile(path, withSegments(buf.Bytes(), orientationSegment(binary.BigEndian, uint16(o))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// An input of 2×3 pixels: each the mean of a whole block.
	in := core.Input{Channels: 3, Height: 2, Width: 3}
	s, err := ImageFolder(dir, in)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 3 {
		t.Fatalf("%d images, want 3", s.N)
	}
	for i, name := range []string{"6-phone.jpg", "8-phone.jpg"} {
		// JPEG at quality 100 keeps a block of a macroblock within a
		// level or two of its colour (TestDecodeImageOrientation).
		if got, want := s.Image(i+1), s.Image(0); !near(got, want, 4.0/255) {
			t.Errorf("%s: %v, want it as stored upright: %v", name, got, want)
		}
	}
	var sizes []image.Point
	align := func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
		sizes = append(sizes, img.Bounds().Size())
		return append(dst[:0], make([]float32, in.Size())...), ""
	}
	if _, _, err := LoadAligned(dir, "all", in, align, Turns{}); err != nil {
		t.Fatal(err)
	}
	upright := image.Pt(3*blockSide, 2*blockSide)
	if !slices.Equal(sizes, []image.Point{upright, upright, upright}) {
		t.Errorf("the aligner saw photos of %v, want %v each", sizes, upright)
	}
}

// TestLoadAlignedTurns: with turns, every photo kept has that many
// versions, each the photo turned as a head turns (the middle columns
// move, the edge columns stay) and then aligned, the same in every load;
// a version the aligner refuses is the photo's own crop; the photos of
// identities not to be turned have themselves as versions; Subset carries
// the versions; turns need an aligner and stay within MaxPhotoTurns.
func TestLoadAlignedTurns(t *testing.T) {
	dir := t.TempDir()
	const w, h = 64, 2
	for k, name := range []string{"a", "b"} {
		for i := range 2 {
			writeImage(t, filepath.Join(dir, name, fmt.Sprintf("%d.png", i)), grey(w, h, func(x, y int) uint8 { return uint8(4*x + k + 2*i) }))
		}
	}
	in := core.Input{Channels: 1, Height: h, Width: w}
	calls := 0
	align := func(dst []float32, img image.Image, _ core.Input) ([]float32, string) {
		calls++
		if calls%3 == 0 { // the second version of every photo
			return nil, "no face"
		}
		return planesTo(dst, img, 1), ""
	}
	load := func() *Set {
		calls = 0
		s, skipped, err := LoadAligned(dir, "all", in, align, Turns{N: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(skipped) != 0 || s.N != 4 || len(s.Alts) != 2 || len(s.Alts[0]) != len(s.X) || len(s.Alts[1]) != len(s.X) {
			t.Fatalf("skipped %v, %d images, %d versions", skipped, s.N, len(s.Alts))
		}
		return s
	}
	s := load()
	if again := load(); !slices.Equal(again.Alts[0], s.Alts[0]) {
		t.Errorf("two loads give different turned versions")
	}
	if !slices.Equal(s.Alts[1], s.X) {
		t.Errorf("a refused version is not the photo's own crop")
	}
	// A column of the gradient is 4/255 from the next: the middle moves
	// by up to a quarter of the half-width (8 columns), an edge column's
	// centre by at most a quarter of a column.
	moved := 0.0
	for i := range s.N {
		img, turned := s.Image(i), s.Alts[0][i*w*h:(i+1)*w*h]
		edge := max(math.Abs(float64(img[0]-turned[0])), math.Abs(float64(img[w-1]-turned[w-1])))
		middle := math.Abs(float64(img[w/2] - turned[w/2]))
		if edge > 1.5/255 || middle > 33.0/255 {
			t.Errorf("image %d: edge moved %.1f/255, middle %.1f/255: want at most a quarter of a column and 8 columns", i, 255*edge, 255*middle)
		}
		moved = max(moved, middle)
	}
	if moved < 4.0/255 {
		t.Errorf("no turned version moves its middle by a column (%.1f/255)", 255*moved)
	}
	sub := s.Subset([]int{1})
	if len(sub.Alts) != 2 || !slices.Equal(sub.Alts[0], s.Alts[0][2*w*h:]) {
		t.Errorf("Subset does not carry the versions of its images")
	}
	// Turned for identity b only: a's versions are its photos, b's the
	// versions of the load that turns every identity.
	keepAll := func(dst []float32, img image.Image, _ core.Input) ([]float32, string) {
		return planesTo(dst, img, 1), ""
	}
	every, _, err := LoadAligned(dir, "all", in, keepAll, Turns{N: 2})
	if err != nil {
		t.Fatal(err)
	}
	only, _, err := LoadAligned(dir, "all", in, keepAll, Turns{N: 2, Classes: "1"})
	if err != nil {
		t.Fatal(err)
	}
	half := 2 * w * h
	if !slices.Equal(only.Alts[0][:half], s.X[:half]) || !slices.Equal(only.Alts[1][:half], s.X[:half]) {
		t.Errorf("identity a, not to be turned, has versions other than its photos")
	}
	if !slices.Equal(only.Alts[0][half:], every.Alts[0][half:]) || !slices.Equal(only.Alts[1][half:], every.Alts[1][half:]) || !slices.Equal(only.X, s.X) {
		t.Errorf("identity b's versions, or the photos, differ from the load that turns every identity")
	}
	if _, _, err := LoadAligned(dir, "all", in, align, Turns{N: 2, Classes: "2"}); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("turns for an identity the folder lacks: %v", err)
	}
	if _, _, err := LoadAligned(dir, "all", in, nil, Turns{N: 2}); err == nil || !strings.Contains(err.Error(), "photos to align") {
		t.Errorf("turns without an aligner: %v", err)
	}
	if _, _, err := LoadAligned(dir, "all", in, align, Turns{N: MaxPhotoTurns + 1}); err == nil || !strings.Contains(err.Error(), "want 0 to") {
		t.Errorf("%d turns: %v", MaxPhotoTurns+1, err)
	}
}

// TestLoadHalfSplit: a folder with train/ and no test/ (or test/ and no
// train/) is refused saying so (before: identity "train" has no images, as
// if train/ were a person).
func TestLoadHalfSplit(t *testing.T) {
	in := core.Input{Channels: 1, Height: 4, Width: 4}
	for _, half := range []string{"train", "test"} {
		dir := t.TempDir()
		for _, id := range []string{"a", "b"} {
			writeImage(t, filepath.Join(dir, half, id, "x.png"), grey(2, 2, func(x, y int) uint8 { return 0 }))
		}
		for _, split := range []string{"train", "test", "all"} {
			_, err := Load(dir, split, in)
			if err == nil || !strings.Contains(err.Error(), dir+" has "+half+"/ and no ") || strings.Contains(err.Error(), `identity "`) {
				t.Errorf("Load(%s with %s/ alone, %s): %v, want it to say that the other half is missing", dir, half, split, err)
			}
		}
	}
}

// TestLoadListed: a load of a folder's Listing, once images were added
// to it (one sorted first in an identity, a new identity), loads the
// folder as it was listed: the same classes, splits and images, the
// added told as skipped; an image of the listing that is gone is ErrGone,
// naming it.
func TestLoadListed(t *testing.T) {
	dir := t.TempDir()
	for k, id := range []string{"b", "c"} {
		for i := range 5 {
			v := uint8(20*k + i)
			writeImage(t, filepath.Join(dir, id, string(rune('b'+i))+".png"), grey(1, 1, func(x, y int) uint8 { return v }))
		}
	}
	in := core.Input{Channels: 1, Height: 1, Width: 1}
	files, err := Listing(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 10 || files[0] != "b/b.png" || !slices.IsSorted(files) {
		t.Fatalf("Listing: %q, want the 10 images sorted, b/b.png first", files)
	}
	var before [2]*Set
	for i, split := range []string{"train", "test"} {
		if before[i], err = Load(dir, split, in); err != nil {
			t.Fatal(err)
		}
	}
	// b's a.png would be its first image, moving its 5th to training.
	writeImage(t, filepath.Join(dir, "b", "a.png"), grey(1, 1, func(x, y int) uint8 { return 200 }))
	writeImage(t, filepath.Join(dir, "a", "a.png"), grey(1, 1, func(x, y int) uint8 { return 210 }))
	for i, split := range []string{"train", "test"} {
		got, skipped, err := LoadListed(dir, split, in, files)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, before[i]) {
			t.Errorf("%s: classes %q, %d images, labels %v; want %q, %d, %v as listed", split, got.Classes, got.N, got.Labels, before[i].Classes, before[i].N, before[i].Labels)
		}
		if want := "2 skipped: 2 added since the first load"; skipped.String() != want || len(skipped.Refused()) != 0 {
			t.Errorf("%s: skipped %q (refused %v), want %q, none refused", split, skipped, skipped.Refused(), want)
		}
	}
	if all, _, err := LoadListed(dir, "train", in, nil); err != nil || all.N != 10 || len(all.Classes) != 3 {
		t.Errorf("nil files: %v, want every image of the 3 identities", err)
	}
	if err := os.Remove(filepath.Join(dir, "c", "d.png")); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "c", "d.png") + ": " + ErrGone.Error()
	if _, _, err := LoadListed(dir, "test", in, files); !errors.Is(err, ErrGone) || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("an image gone: %v, want ErrGone naming it (…%s)", err, want)
	}
}
