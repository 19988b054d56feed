package data

import (
	"bytes"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestParseMNIST(t *testing.T) {
	// Two 2×3 images and their labels; X = pixel/255.
	pixels := []byte{0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0}
	s, err := ParseMNIST(idx(idxImages, []int{2, 2, 3}, pixels), idx(idxLabels, []int{2}, []byte{3, 9}))
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 2 || s.Input.Channels != 1 || s.Input.Height != 2 || s.Input.Width != 3 {
		t.Errorf("N %d, Input %+v; want 2 images of 1×2×3", s.N, s.Input)
	}
	if !slices.Equal(s.Labels, []int{3, 9}) || len(s.Classes) != 10 || s.Classes[3] != "3" {
		t.Errorf("Labels %v, Classes %q; want [3 9] of 0..9", s.Labels, s.Classes)
	}
	for i, p := range pixels {
		if want := float32(p) / 255; s.X[i] != want {
			t.Errorf("X[%d] = %v, want %v", i, s.X[i], want)
		}
	}

	images := idx(idxImages, []int{2, 2, 3}, pixels)
	for _, tc := range []struct {
		name           string
		images, labels []byte
		want           string
	}{
		{"swapped files", idx(idxLabels, []int{2}, []byte{3, 9}), images, "MNIST images: reading IDX header"},
		{"labels not gzip", images, []byte("<html>404</html>"), "MNIST labels: not a gzip file"},
		{"count mismatch", images, idx(idxLabels, []int{3}, []byte{1, 2, 3}), "MNIST labels has 3 labels for the 2 images"},
		{"not a digit", images, idx(idxLabels, []int{2}, []byte{1, 10}), "label 10 of image 1 is not a digit"},
		{"truncated", images[:len(images)/2], idx(idxLabels, []int{2}, []byte{1, 2}), "MNIST images:"},
	} {
		_, err := ParseMNIST(tc.images, tc.labels)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line containing %q", tc.name, err, tc.want)
		}
	}
}

// TestParseMNISTBoundedAlloc decodes files whose headers declare far more
// than they hold, or whose labels are bad, and checks that each fails
// having allocated no more than its data justifies: the old loader grew
// its buffer to 64 MB on the header's word, and made X and Labels (12
// bytes an image) before it looked at the labels.
func TestParseMNISTBoundedAlloc(t *testing.T) {
	const n = 1 << 20
	tens := bytes.Repeat([]byte{10}, n)
	for _, tc := range []struct {
		name           string
		images, labels []byte
		want           string
		maxAlloc       uint64 // bytes
	}{
		// 34 bytes of gzip declaring 2³⁰ one-pixel images: a gzip reader's
		// tables, well under 1 MB.
		{"2^30 images, no data", idx(idxImages, []int{1 << 30, 1, 1}, nil), idx(idxLabels, []int{1 << 30}, nil),
			"IDX dimensions [1073741824 1 1] need 1073741824 bytes, file holds 0: file is truncated", 1 << 20},
		// 2²⁰ one-pixel images and labels of 10: reading both files (1 MB
		// each, about 2 MB each in doubling chunks) but not making the 12 MB
		// of X and Labels.
		{"bad labels", idx(idxImages, []int{n, 1, 1}, make([]byte, n)), idx(idxLabels, []int{n}, tens),
			"label 10 of image 0 is not a digit", 6 << 20},
		// 2²⁰ images of no pixels would be 8 MB of Labels for nothing.
		{"0×0 images", idx(idxImages, []int{n, 0, 0}, nil), idx(idxLabels, []int{n}, make([]byte, n)),
			"MNIST images: images of 0×0 pixels: want 1 to 8192 on a side", 1 << 20},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := ParseMNIST(tc.images, tc.labels)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > tc.maxAlloc {
			t.Errorf("%s: allocated %.1f MB, want at most %.1f MB", tc.name, float64(got)/(1<<20), float64(tc.maxAlloc)/(1<<20))
		}
	}
}
