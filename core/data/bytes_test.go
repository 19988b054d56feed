package data

import (
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
