package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"metriclab/core"
	"metriclab/core/msg"
)

// shapesTrainer writes a folder of shapes, train/ and test/, in a new
// temporary folder dir, and returns them with a function that trains a
// small model on them into dir/out with args beside the defaults.
func shapesTrainer(t *testing.T) (dir, shapes string, train func(out string, args ...string) string) {
	dir = t.TempDir()
	shapes = filepath.Join(dir, "shapes")
	writeShapes(t, filepath.Join(shapes, "train"), 12)
	writeShapes(t, filepath.Join(shapes, "test"), 10)
	return dir, shapes, func(out string, args ...string) string {
		t.Helper()
		path := filepath.Join(dir, out)
		// The defaults, but for those args gives (a flag is given once).
		full := []string{"train", "--data", shapes, "--out", path}
		for _, d := range [][2]string{{"--dim", "8"}, {"--epochs", "2"}, {"--batch", "8"}} {
			if !slices.Contains(args, d[0]) {
				full = append(full, d[0], d[1])
			}
		}
		args = append(full, args...)
		if code, _, stderr := runCLI(t, args...); code != 0 {
			t.Fatalf("train %q: exit %d: %s", args, code, stderr)
		}
		return path
	}
}

// TestCropAndEnsemble: train --crop stores the crop in the model; eval of
// an ensemble of a whole-image and a cropped model reports other than
// either, and models that take other images, or one file twice, are refused with one line; train --views makes in one file the ensemble of
// its windows' models.
func TestCropAndEnsemble(t *testing.T) {
	dir, shapes, train := shapesTrainer(t)
	whole, lower := train("whole.safetensors"), train("lower.safetensors", "--crop", "lower")
	small := train("small.safetensors", "--input", "1x16x16")
	m, err := core.ReadModel(lower)
	if err != nil {
		t.Fatal(err)
	}
	if m.Meta.Spec.Crop != core.Crops["lower"] {
		t.Fatalf("train --crop lower: the model's crop is %v, want %v", m.Meta.Spec.Crop, core.Crops["lower"])
	}
	report := func(models string) evalOutput { t.Helper(); return evalJSON(t, "--model", models, "--data", shapes) }
	// One file twice is refused (below), and so is its copy
	// (TestJoinRefusesCopy).
	alone, both := report(whole), report(whole+","+lower)
	// Spaces around the names are the list's, not the files'.
	if spaced := report(whole + " , " + lower); !reflect.DeepEqual(spaced.Verification, both.Verification) {
		t.Errorf("eval --model \"a , b\": %+v, want as a,b %+v", spaced.Verification, both.Verification)
	}
	if alone.ClosedSet.Classifier == nil || both.ClosedSet.Classifier != nil {
		t.Errorf("classifier accuracy alone %v, of the ensemble %v: want it for the model alone only", alone.ClosedSet.Classifier, both.ClosedSet.Classifier)
	}
	if reflect.DeepEqual(both.Verification, alone.Verification) || reflect.DeepEqual(both.Verification, report(lower).Verification) {
		t.Errorf("the ensemble of a whole and a cropped model reports as one of them: %+v", both.Verification)
	}
	// A file whose name has a comma is read as that file.
	comma := filepath.Join(dir, "a,b.safetensors")
	if b, err := os.ReadFile(whole); err != nil || os.WriteFile(comma, b, 0o644) != nil {
		t.Fatal(err)
	}
	if named := report(comma); !reflect.DeepEqual(named.Verification, alone.Verification) {
		t.Errorf("the model under a name with a comma: %+v, want %+v", named.Verification, alone.Verification)
	}
	// A model of views is the ensemble of its views trained alone: the
	// same verification to the last digit, from one file.
	views := train("views.safetensors", "--views", "whole,lower")
	rv := report(views)
	if !reflect.DeepEqual(rv.Verification, both.Verification) {
		t.Errorf("train --views whole,lower: %+v; eval --model whole,lower: %+v", rv.Verification, both.Verification)
	}
	// Its views' heads, joined (core.Spec.ClassWeights, tested there), give
	// the classifier's figure, as a model of one encoder's head does.
	if rv.ClosedSet.Classifier == nil || alone.ClosedSet.Classifier == nil {
		t.Errorf("classifier accuracy of the model of views %v, of one encoder %v: want both", rv.ClosedSet.Classifier, alone.ClosedSet.Classifier)
	}
	if m, err := core.ReadModel(views); err != nil || len(m.Meta.Spec.Views) != 2 || m.Meta.Spec.EmbedDim() != 16 {
		t.Fatalf("the model of views: %v", err)
	}
	code, _, stderr := runCLI(t, "eval", "--model", whole+","+small, "--data", shapes)
	if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "takes 1×32×32 images (aligned false), "+small+" 1×16×16 (aligned false): its models must take the same images") {
		t.Errorf("ensemble of other inputs: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "eval", "--model", whole+",raw", "--data", shapes)
	if code != 2 || !strings.Contains(stderr, "an ensemble is of model files, not raw pixels or nothing") {
		t.Errorf("ensemble with raw pixels: exit %d, %q", code, stderr)
	}
	// One file twice, as join has it: before, an "ensemble" of the model
	// alone. Under two spellings too, compared as join compares them.
	for _, tc := range []struct{ models, want string }{
		{whole + "," + whole, "--model names " + whole + " twice: give each model file once"},
		{whole + "," + lower + "," + dir + "/./whole.safetensors", "--model names one file twice, as " + whole + " and as " + dir + "/./whole.safetensors: give each model file once"},
	} {
		code, _, stderr = runCLI(t, "eval", "--model", tc.models, "--data", shapes)
		if code != 2 || stderr != "metriclab eval: "+tc.want+"\n" {
			t.Errorf("eval --model %s: exit %d, %q, want 2 and %q", tc.models, code, stderr, tc.want)
		}
	}
}

// TestJoin: metriclab join makes of two seeds' model files one model of
// views that evaluates as eval --model a,b does, to the last digit; a
// model of views joins as its views, its windows repeating others; the
// threshold is the members' weighted by their views and the provenance
// keeps every member's. Models of other recipes, too many views, a file
// named twice and bad flags are refused with one line, and nothing is
// written.
func TestJoin(t *testing.T) {
	dir, shapes, train := shapesTrainer(t)
	a, b := train("a.safetensors"), train("b.safetensors", "--seed", "2")
	views := train("views.safetensors", "--views", "whole,lower")
	join := func(out string, models ...string) string {
		t.Helper()
		path := filepath.Join(dir, out)
		if code, _, stderr := runCLI(t, "join", "--model", strings.Join(models, ","), "--out", path); code != 0 {
			t.Fatalf("join %q: exit %d: %s", models, code, stderr)
		}
		return path
	}
	report := func(models string) evalOutput { t.Helper(); return evalJSON(t, "--model", models, "--data", shapes) }
	joined, ensemble := report(join("ab.safetensors", a, b)), report(a+","+b)
	if !reflect.DeepEqual(joined.Verification, ensemble.Verification) || !reflect.DeepEqual(joined.Retrieval, ensemble.Retrieval) ||
		!reflect.DeepEqual(joined.Identification, ensemble.Identification) {
		t.Errorf("join a,b: verification %+v, retrieval %+v; eval --model a,b: %+v, %+v",
			joined.Verification, joined.Retrieval, ensemble.Verification, ensemble.Retrieval)
	}
	read := func(path string) *core.Model {
		t.Helper()
		m, err := core.ReadModel(path)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// A file whose name ends with a space is joined, and evaluated in
	// an ensemble, as eval takes it alone; spaces after a comma are not
	// a name's (before, every name was trimmed: "no such file").
	spaced := filepath.Join(dir, "c.safetensors ") // a, and no file c.safetensors
	if err := os.Link(a, spaced); err != nil {
		t.Fatal(err)
	}
	if got := report(join("spaced.safetensors", spaced, " "+b)); !reflect.DeepEqual(got.Verification, joined.Verification) {
		t.Errorf("join of %q and b: verification %+v, want a and b's %+v", spaced, got.Verification, joined.Verification)
	}
	if got := report(spaced + ", " + b); !reflect.DeepEqual(got.Verification, ensemble.Verification) {
		t.Errorf("eval --model %q: verification %+v, want a,b's %+v", spaced+", "+b, got.Verification, ensemble.Verification)
	}
	av := join("av.safetensors", a, views)
	ma, mv, m := read(a), read(views), read(av)
	if got, want := msg.FormatViews(m.Meta.Spec.Views), "whole,whole,lower"; got != want {
		t.Errorf("join of a model and a model of views whole,lower: views %s, want %s", got, want)
	}
	if want := (ma.Meta.Threshold + 2*mv.Meta.Threshold) / 3; math.Abs(m.Meta.Threshold-want) > 1e-12 {
		t.Errorf("joined threshold %v, want the members' weighted by their views %v", m.Meta.Threshold, want)
	}
	if j := m.Meta.Provenance.Joined; len(j) != 2 || j[0].Seed != ma.Meta.Provenance.Seed || j[1].Created != mv.Meta.Provenance.Created {
		t.Errorf("joined provenance %+v: want the two members'", j)
	}
	if v := report(av).Verification; !(v.Accuracy > 0.5) {
		t.Errorf("the joined model of three views: verification %+v", v)
	}
	// A member trained with nothing held out has no threshold to give
	// (before, it counted as cos 0 at FAR 0 and halved a's).
	uncal := train("uncalibrated.safetensors", "--val", "0", "--seed", "3")
	if m := read(join("auncal.safetensors", a, uncal)); m.Meta.Threshold != ma.Meta.Threshold || m.Meta.FAR != ma.Meta.FAR {
		t.Errorf("join of a and a model without a threshold: threshold %v and FAR %v, want a's %v and %v", m.Meta.Threshold, m.Meta.FAR, ma.Meta.Threshold, ma.Meta.FAR)
	}
	small := train("small.safetensors", "--input", "1x16x16")
	link := filepath.Join(dir, "link.safetensors")
	if err := os.Symlink(a, link); err != nil {
		t.Fatal(err)
	}
	// Four files of 2 views each (join takes a file once).
	viewsFile, err := os.ReadFile(views)
	if err != nil {
		t.Fatal(err)
	}
	var viewsCopies []string
	for i := range 4 {
		path := filepath.Join(dir, fmt.Sprintf("views%d.safetensors", i))
		if err := os.WriteFile(path, viewsFile, 0o644); err != nil {
			t.Fatal(err)
		}
		viewsCopies = append(viewsCopies, path)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"one model", []string{"--model", a}, "want 2 or more model files separated by commas"},
		{"an empty name", []string{"--model", a + ","}, "an empty file name"},
		{"other inputs", []string{"--model", a + "," + small}, "inputs 1×32×32 (mean 0.5, std 0.5) and 1×16×16 (mean 0.5, std 0.5)"},
		{"other inputs, spaces around the names", []string{"--model", a + " , " + small}, "inputs 1×32×32 (mean 0.5, std 0.5) and 1×16×16 (mean 0.5, std 0.5)"},
		{"nine views", []string{"--model", strings.Join(viewsCopies, ",") + "," + a}, "9 views together: at most 8"},
		// Before a file is read (before, every file was read whole first:
		// here, the missing one was the error).
		{"nine files", []string{"--model", strings.Repeat(a+",", 8) + filepath.Join(dir, "none.safetensors")}, "--model: 9 model files, each one view or more: a join has at most 8 views"},
		{"no such file", []string{"--model", a + "," + filepath.Join(dir, "none.safetensors")}, "none.safetensors"},
		{"no --out", []string{"--model", a + "," + b, "--out", ""}, "--out is required"},
		// Before, joined: a's views twice, a file twice its size that
		// evaluates as a does.
		{"a file twice", []string{"--model", a + "," + a}, "--model names " + a + " twice: give each model file once"},
		{"a file twice, spelt otherwise", []string{"--model", a + "," + b + "," + dir + "/./a.safetensors"}, "--model names one file twice, as " + a + " and as " + dir + "/./a.safetensors: give each model file once"},
		{"a file twice, through a link", []string{"--model", link + "," + a}, "--model names one file twice, as " + link + " and as " + a},
	} {
		out := filepath.Join(dir, "refused.safetensors")
		args := append([]string{"join"}, c.args...)
		if !slices.Contains(c.args, "--out") { // a flag is given once
			args = append(args, "--out", out)
		}
		code, _, stderr := runCLI(t, args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, %q; want 2 and one line containing %q", c.name, code, stderr, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: %s written", c.name, out)
		}
	}
}

// TestJoinRefusesInputAsOut: a --out that is one of the --model files (as
// given, by another spelling of its path, or through a link) is refused
// with one line before any file is read, and the model is left as it was
// (before, the join replaced it).
func TestJoinRefusesInputAsOut(t *testing.T) {
	dir, _, train := shapesTrainer(t)
	a, b := train("a.safetensors"), train("b.safetensors", "--seed", "2")
	before, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.safetensors")
	if err := os.Symlink(a, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, out, models string }{
		{"--out the first", a, a + "," + b},
		{"--out the second, spelt otherwise", dir + "/./a.safetensors", b + "," + a},
		{"--out a link to one", link, a + "," + b},
		{"--out one, the other missing", a, a + "," + filepath.Join(dir, "none.safetensors")},
	} {
		wantBadInput(t, "--out "+c.out+" is also a --model file", "join", "--model", c.models, "--out", c.out)
		if after, err := os.ReadFile(a); err != nil || !bytes.Equal(after, before) {
			t.Errorf("%s: %s replaced (%v)", c.name, a, err)
		}
	}
}

// TestJoinRefusesCopy: join and eval's ensemble refuse two files of the
// same weights (a model and its copy, byte for byte or written again)
// with one line naming both, and join writes nothing (before, join wrote
// "2 views" of one model, and eval evaluated the model alone as an
// ensemble: a file under two paths was refused, its copy not).
func TestJoinRefusesCopy(t *testing.T) {
	dir, shapes, train := shapesTrainer(t)
	a, b := train("a.safetensors"), train("b.safetensors", "--seed", "2")
	copied := filepath.Join(dir, "copy.safetensors")
	if bs, err := os.ReadFile(a); err != nil || os.WriteFile(copied, bs, 0o644) != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "j.safetensors")
	want := "--model " + a + " and " + copied + " hold the same weights"
	wantBadInput(t, want, "join", "--model", a+","+b+","+copied, "--out", out)
	if _, err := os.Stat(out); err == nil {
		t.Errorf("join of a model and its copy wrote %s", out)
	}
	wantBadInput(t, want, "eval", "--model", a+","+copied, "--data", shapes)
}

// TestJoinHelp: join's help of --model names everything a join refuses
// to differ (core.JoinModels; before, it named the architecture, input,
// D, loss and classes, and join refused too the members that differed in
// their embedding batch norm, flip test, loss parameters or alignment).
func TestJoinHelp(t *testing.T) {
	u := flagUsages(t, "join")["model"]
	for _, want := range []string{"architecture", "input", "D", "embedding batch norm", "flip test", "loss and its parameters", "classes", "alignment"} {
		if !strings.Contains(u, want) {
			t.Errorf("join -h --model: %q does not name the %s, which the members must share", u, want)
		}
	}
}

// TestJoinInterrupt: Ctrl-C while join writes its model leaves no
// temporary file beside --out (before, join did not catch the signal: it
// ended at once, leaving the 40 MB it had written as .j.safetensors.tmp-N);
// the model is written whole or not at all.
func TestJoinInterrupt(t *testing.T) {
	dir, _, train := shapesTrainer(t)
	// Models of 22 MB each, so that the write takes long enough to be
	// interrupted.
	big := []string{"--arch", "lenet-l", "--input", "1x64x64", "--epochs", "1", "--val", "0"}
	a, b := train("a.safetensors", big...), train("b.safetensors", append(big, "--seed", "2")...)
	out := filepath.Join(dir, "j.safetensors")
	cmd, _, stderr := startMain(t, dir, "join", "--model", a+","+b, "--out", out)
	temp := func() string {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".j.safetensors.tmp-") {
				return e.Name()
			}
		}
		return ""
	}
	for start := time.Now(); temp() == ""; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(out); err == nil {
			waitFor(cmd, time.Minute)
			t.Skip("join wrote its model before the test saw it writing")
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("join wrote no temporary file in a minute: %q", stderr)
		}
	}
	cmd.Process.Signal(os.Interrupt)
	if !waitFor(cmd, 30*time.Second) {
		t.Fatal("join still running 30 s after Ctrl-C")
	}
	if name := temp(); name != "" {
		t.Errorf("join after Ctrl-C (%v) left %s beside --out", cmd.ProcessState, name)
	}
	switch code := cmd.ProcessState.ExitCode(); code {
	case 0:
		if _, err := core.ReadModel(out); err != nil {
			t.Errorf("join after Ctrl-C: status 0 and %v", err)
		}
	case 130:
		if _, err := os.Stat(out); err == nil {
			t.Errorf("join after Ctrl-C: status 130 and %s written", out)
		}
	default:
		t.Errorf("join after Ctrl-C: %v, stderr %q: want status 0 with the model or 130 without", cmd.ProcessState, stderr)
	}
}
