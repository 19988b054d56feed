package main

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/job"
)

// TestFitSampleKeepsEveryIdentity: 60 images of one identity and one
// image of each of four others, subsampled to 32: job.HoldOut gives
// ⌊c·32/64⌋ of a class of c, 30 of the first and none of the others,
// whose test images then had no class centre (and no gallery image with
// --unknown). fitSample adds the first image of each; a set whose classes
// all got images is HoldOut's sample as it is (MNIST's figures stay).
func TestFitSampleKeepsEveryIdentity(t *testing.T) {
	set := &data.Set{Input: core.Input{Channels: 1, Height: 1, Width: 2}, Classes: []string{"many", "a", "b", "c", "d"}}
	for i := range 64 {
		l := 0
		if i%16 == 5 { // rows 5, 21, 37, 53
			l = 1 + i/16
		}
		set.Labels = append(set.Labels, l)
		set.X = append(set.X, float32(i), float32(l))
	}
	set.N = 64
	fit := fitSample(set, 32, 1)
	count := make([]int, len(set.Classes))
	for _, l := range fit.Labels {
		count[l]++
	}
	if !slices.Equal(count, []int{30, 1, 1, 1, 1}) || fit.N != 34 || len(fit.X) != 34*2 {
		t.Errorf("fit sample: %d images (%d values), per class %v; want 34: 30 of the first class and 1 of each other", fit.N, len(fit.X), count)
	}
	for i, l := range fit.Labels {
		if img := fit.Image(i); img[1] != float32(l) || set.Labels[int(img[0])] != l {
			t.Errorf("fit image %d, label %d, is row %v of class %v", i, l, img[0], img[1])
		}
	}

	for i := range set.Labels {
		set.Labels[i] = i % 5
		set.X[2*i+1] = float32(i % 5)
	}
	_, held := job.HoldOut(set, 32, 1)
	if got := fitSample(set, 32, 1); !reflect.DeepEqual(got, held) {
		t.Errorf("every class sampled: fitSample %d images, HoldOut %d; want HoldOut's", got.N, held.N)
	}
}

// TestEvalReportSaysInput: the report of a folder says the shape its
// images were read at, the model's, which need not be theirs: an MNIST
// model's 1×28×28 of 32×32 shapes (before, the line said nothing of it,
// and a model evaluated on images of another kind looked as on its own).
func TestEvalReportSaysInput(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, filepath.Join(shapes, "train"), 6)
	writeShapes(t, filepath.Join(shapes, "test"), 6)
	spec := core.DefaultSpec("mlp", 3)
	spec.Input = core.MNISTInput
	params := core.InitParams(spec, []core.ParamShape{{Name: "head.weight", Shape: []int{10, 3}}}, 1)
	path := filepath.Join(dir, "mnist.safetensors")
	if err := core.WriteModel(path, &core.Model{Meta: core.Metadata{Spec: spec, Loss: "arcface", Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}}, Params: params}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "eval", "--model", path, "--data", shapes)
	want := path + " on " + shapes + " read at 1×28×28, 18 probes, metric cosine\n"
	if code != 0 || !strings.HasPrefix(stdout, want) {
		t.Errorf("eval: exit %d, stdout %q, stderr %q; want a report starting %q", code, stdout, stderr, want)
	}
}
