package data

import "bytes"

// ParseMNIST decodes MNIST from the bytes of its gzipped IDX files, images
// (N×28×28, say train-images-idx3-ubyte.gz) and labels (N digits, say
// train-labels-idx1-ubyte.gz), as fetched by a browser: 1×H×W images in
// [0,1] and the classes "0".."9". It checks what MNIST's loader checks: the
// gzip streams, the IDX magic numbers and sizes, as many labels as images
// and labels that are digits.
func ParseMNIST(images, labels []byte) (*Set, error) {
	return decodeMNIST(bytes.NewReader(images), bytes.NewReader(labels), "MNIST images", "MNIST labels")
}
