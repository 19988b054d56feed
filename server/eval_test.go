package main

import (
	"encoding/json"
	"fmt"
	"os"
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

// TestListedCountsFolderChanged: listedCounts reads the counts of a
// listing only when its identities are those the command listed before
// (names): "a", of 10 images, renamed "d" between the two listings keeps
// the number of identities but moves "b", of 2, to label 0, "a"'s; its
// count is not given as "a"'s (before, only the numbers of identities
// were compared, and "a" was counted 2 images, so that a check of
// --classes a was made on "b"'s images).
func TestListedCountsFolderChanged(t *testing.T) {
	dir := t.TempDir()
	for id, n := range map[string]int{"a": 10, "b": 2, "c": 10} {
		writeCopies(t, filepath.Join(dir, id), []byte("not read"), n)
	}
	names, err := classNames(dir, "all")
	if err != nil {
		t.Fatal(err)
	}
	if counts, ok := listedCounts(dir, "all", names, []int{0}); !ok || !slices.Equal(counts, []int{10}) {
		t.Fatalf("listedCounts of a, unchanged: %v, %t; want [10], true", counts, ok)
	}
	if err := os.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "d")); err != nil {
		t.Fatal(err)
	}
	if counts, ok := listedCounts(dir, "all", names, []int{0}); ok {
		t.Errorf("listedCounts of a, renamed d since %q were listed: %v, true; want false, the listing not the one checked", names, counts)
	}
}

// TestEvalClassesNamedByNumber: among identities all named by number
// (folders 01 … 06), --classes gives those names, by value: 1-3 evaluates
// 01, 02 and 03, 36 images, 4,5,6 and 02-04 three others, and 0-2 is
// refused, no class being named 0. Before, a number was a position: 4,5,6
// was refused (6 out of range 0..5), 02-04 too (02 ambiguous), and 0-2
// silently evaluated 01 … 03 (and 1-3, 02 … 04).
func TestEvalClassesNamedByNumber(t *testing.T) {
	six, folder := sixIdentities(t), filepath.Join(t.TempDir(), "numbered")
	ids, err := os.ReadDir(six)
	if err != nil || len(ids) != 6 {
		t.Fatalf("six identities: %v, %v", ids, err)
	}
	for i, id := range ids {
		if err := renameInto(filepath.Join(six, id.Name()), filepath.Join(folder, fmt.Sprintf("%02d", i+1))); err != nil {
			t.Fatal(err)
		}
	}
	for _, spec := range []string{"1-3", "4,5,6", "02-04"} {
		code, stdout, stderr := runCLI(t, "eval", "--model", "raw", "--data", folder, "--input", "1x16x16", "--split", "all", "--classes", spec, "--json")
		if code != 0 || !strings.Contains(stdout, `"probes":36`) {
			t.Errorf("eval --classes %s among 01 … 06: exit %d, %s%s; want the 36 images of three identities", spec, code, stdout, stderr)
		}
	}
	wantBadInput(t, `--classes "0-2": no class is named 0 (the classes are named by number, 01 to 06, and selected by those numbers)`,
		"eval", "--model", "raw", "--data", folder, "--input", "1x16x16", "--split", "all", "--classes", "0-2", "--json")
}

// TestEvalWarnsOfTrainedImages: eval of images that the model was trained
// on, those of the identities it was trained on of its training folder
// with --split all (four fifths of each trained on), or their test split
// after train --split all, prints one line on stderr that says so, naming
// them and the identities it was not trained on (before, the figures came
// as test results without a word: "classifier accuracy 1.0000"); --json's
// stdout stays the report alone. Identities it was not trained on, and the
// test split of a model of the training split, get no line; a model file
// written before the split was kept (its split unknown) gets it of split
// all, which either split overlaps.
func TestEvalWarnsOfTrainedImages(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "shapes")
	writeShapes(t, folder, 15)      // diagonal, horizontal, vertical: 3 test images each
	writeOtherShapes(t, folder, 15) // other-diagonal, other-horizontal, other-vertical
	train := func(out string, args ...string) {
		t.Helper()
		args = append([]string{"train", "--data", folder, "--input", "1x16x16", "--arch", "mlp", "--dim", "4", "--epochs", "1", "--batch", "8", "--val", "0", "--out", out}, args...)
		if code, _, stderr := runCLI(t, args...); code != 0 {
			t.Fatalf("train %q: exit %d: %s", args, code, stderr)
		}
	}
	half, whole, old := filepath.Join(dir, "half.safetensors"), filepath.Join(dir, "whole.safetensors"), filepath.Join(dir, "old.safetensors")
	train(half, "--split", "all", "--classes", "diagonal,horizontal,vertical")
	train(whole) // the training split of every identity
	m, err := core.ReadModel(whole)
	if err != nil || m.Meta.Provenance.Split != "train" {
		t.Fatalf("%s: split %q (%v): want train recorded", whole, m.Meta.Provenance.Split, err)
	}
	m.Meta.Provenance.Split = "" // as a file written before the split was kept
	if err := core.WriteModel(old, m); err != nil {
		t.Fatal(err)
	}
	warning := func(model string) string {
		return "warning: these figures include images that " + model + " was trained on: "
	}
	for _, c := range []struct {
		args []string
		want []string // in the one line on stderr; none: no line
	}{
		{[]string{"--model", half, "--split", "all", "--classes", "diagonal,horizontal,vertical"},
			[]string{warning(half), "every image of the 3 identities of " + folder + " (diagonal, horizontal, vertical)", "--split all --classes of those (other-diagonal, other-horizontal, other-vertical)"}},
		{[]string{"--model", half, "--split", "all", "--classes", "other-diagonal,other-horizontal,other-vertical"}, nil},
		{[]string{"--model", half}, // the test split of all six
			[]string{warning(half), "(train --split all) on the images of the 3 identities of " + folder + " (diagonal, horizontal, vertical) evaluated, their test images among them"}},
		{[]string{"--model", whole}, nil},
		{[]string{"--model", whole, "--split", "all", "--classes", "other-diagonal,vertical"},
			[]string{warning(whole), "the 2 identities of " + folder + " (other-diagonal, vertical)", "has fewer than 2 identities it was not trained on"}},
		{[]string{"--model", old}, nil},
		{[]string{"--model", old, "--split", "all", "--classes", "diagonal,horizontal"}, []string{warning(old), "(diagonal, horizontal)"}},
	} {
		args := append([]string{"eval", "--json", "--data", folder}, c.args...)
		code, stdout, stderr := runCLI(t, args...)
		var out evalOutput
		if code != 0 || json.Unmarshal([]byte(stdout), &out) != nil {
			t.Errorf("%q: exit %d, stdout %q, stderr %q: want the report", args, code, stdout, stderr)
			continue
		}
		var lines []string
		for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
			if strings.HasPrefix(l, "warning") {
				lines = append(lines, l)
			}
		}
		if c.want == nil {
			if len(lines) != 0 {
				t.Errorf("%q: stderr %q: want no warning", args, stderr)
			}
			continue
		}
		if len(lines) != 1 || !strings.HasPrefix(lines[0], c.want[0]) {
			t.Errorf("%q: stderr %q: want one line %q…", args, stderr, c.want[0])
			continue
		}
		for _, w := range c.want[1:] {
			if !strings.Contains(lines[0], w) {
				t.Errorf("%q: %q: want %q in it", args, lines[0], w)
			}
		}
	}
}
