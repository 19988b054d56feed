package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"metriclab/core/data"
)

// TestOpenSet: on a folder of 6 identities (bars at three orientations,
// written twice under other names), openset trains on the first half and
// evaluates on the second, one row per baseline and per recipe and
// variant (one looking at the lower part of the images, --crop), each with
// the figures of the unseen identities, and with --ensemble a row of the
// runs' embeddings concatenated, and with --expand each cosine row's
// embeddings expanded; overlapping classes are refused. The variant's
// pairs are given on two lines: its name has them one space apart (a line
// break in it cut its table row and its progress line in two).
func TestOpenSet(t *testing.T) {
	folder := sixIdentities(t)
	args := []string{"openset", "--data", folder, "--input", "1x16x16", "--arch", "lenet-s", "--dim", "8", "--epochs", "2", "--batch", "8", "--threads", "1",
		"--variant", "augment=faces dim=4\ncrop=lower"}
	code, stdout, stderr := runCLI(t, append(args, "--json", "--ensemble", "--expand", "3")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Off a terminal, progress is one line on stderr as each baseline row
	// and each run starts (before, the baselines said nothing).
	if !strings.Contains(stderr, "training 1/2 lenet-s\n") || !strings.Contains(stderr, "training 2/2 lenet-s, augment=faces dim=4 crop=lower\n") {
		t.Errorf("stderr %q: want a line as each of the two runs starts", stderr)
	}
	for i, name := range []string{"cosine", "PCA + whitening", "linear (NCA)"} {
		if want := fmt.Sprintf("evaluating baseline %d/3 raw pixels, %s\n", i+1, name); !strings.Contains(stderr, want) {
			t.Errorf("stderr %q: want %q", stderr, want)
		}
	}
	const expanded = "cosine, expanded (K = 3)"
	var rows []openSetRow
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r openSetRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		rows = append(rows, r)
	}
	want := []struct {
		encoder, metric string
		dim             int
	}{
		// 36 training images of 3 identities: 32 = 36 − 3 − 1 components.
		{"raw pixels", "cosine", 256}, {"raw pixels", expanded, 256}, {"raw pixels", "PCA + whitening", 32}, {"raw pixels", "linear (NCA)", 64},
		{"lenet-s", "cosine", 8}, {"lenet-s", expanded, 8},
		{"lenet-s, augment=faces dim=4 crop=lower", "cosine", 4}, {"lenet-s, augment=faces dim=4 crop=lower", expanded, 4},
		// --ensemble: the two runs' embeddings, concatenated.
		{"ensemble of the 2 runs above", "cosine", 12}, {"ensemble of the 2 runs above", expanded, 12},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		r := rows[i]
		if r.Encoder != w.encoder || r.Metric != w.metric || r.Dim != w.dim {
			t.Errorf("row %d: %s, %s, D=%d; want %s, %s, D=%d", i, r.Encoder, r.Metric, r.Dim, w.encoder, w.metric, w.dim)
		}
		// 3 unseen identities × 12 images: 3·66 genuine pairs, 10 folds of 19.
		if v := r.Report.Verification; !(v.Accuracy > 0.5) || len(r.Report.Identification.CMC) == 0 {
			t.Errorf("row %d: verification %.3f, CMC %v", i, v.Accuracy, r.Report.Identification.CMC)
		}
		if (w.metric == "cosine" && i >= 4 && i < 8) != (r.TrainS > 0 && r.Epochs == 2) {
			t.Errorf("row %d: trained %.1f s, %d epochs", i, r.TrainS, r.Epochs)
		}
	}
	code, stdout, _ = runCLI(t, args...)
	if code != 0 || !strings.Contains(stdout, "| encoder | metric | D |") || strings.Count(stdout, "\n| ") != 6 {
		t.Errorf("table: exit %d:\n%s", code, stdout)
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n")[4:] { // below the sentence, a blank line and the header
		if !strings.HasPrefix(line, "| ") || !strings.HasSuffix(line, " |") || strings.Count(line, " | ") != 8 {
			t.Errorf("table line %q: want a row of 9 cells", line)
		}
	}
	// By number or by name: the identities are a-diagonal … b-vertical,
	// and 3 is b-diagonal.
	code, _, stderr = runCLI(t, "openset", "--data", folder, "--train-classes", "0-3", "--eval-classes", "b-diagonal-b-vertical")
	if code != 2 || !strings.Contains(stderr, `share class "b-diagonal":`) {
		t.Errorf("overlap: exit %d, %q", code, stderr)
	}
}

// renameInto moves the folder from to the path to, creating its parent.
func renameInto(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.Rename(from, to)
}

// TestOpenSetDivergedModel: a run whose one step overflows the weights,
// with nothing held out to notice at the epoch's end, would embed the
// unseen identities as NaN. openset says so in one line, status 1 (it
// printed a row of chance figures, status 0, and with --json no row at
// all; before that, the ROC of NaN scores grew until memory ran out):
// the run's last step refuses the model, whose weights are past
// core.Model.Validate's bounds.
func TestOpenSetDivergedModel(t *testing.T) {
	open := filepath.Join(t.TempDir(), "open")
	writeShapes(t, filepath.Join(open, "train"), 10)
	writeOtherShapes(t, filepath.Join(open, "test"), 6)
	for _, jsonOut := range []string{"--json=false", "--json"} {
		code, _, stderr := runCLI(t, "openset", "--data", open, "--arch", "mlp", "--loss", "softmax", "--opt", "sgd", "--lr", "1e30",
			"--epochs", "1", "--batch", "30", "--val", "0", "--baselines=false", jsonOut)
		want := "step 1: the trained model is not usable: encoder.fc1.bias holds"
		if code != 1 || !strings.Contains(stderr, want) || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
			t.Errorf("%s: exit %d, stderr %q: want status 1 and a line with %q", jsonOut, code, stderr, want)
		}
	}
}

// TestVariantOfDefaultValue: a variant that gives a loss parameter, --lr
// or --wd the value its flag has when not given (0) is a run of its own,
// not the recipe's: --m 0 is no margin, not the loss's default one, and
// --wd 0 with sgd no weight decay, not 5e-4.
func TestVariantOfDefaultValue(t *testing.T) {
	for _, args := range [][]string{
		{"--variant", "m=0"},
		{"--opt", "sgd", "--variant", "wd=0"},
		{"--variant", "m=0", "--variant", "m=0.4"},
		// A miner or distance other than the default is a run of its own.
		{"--loss", "triplet", "--variant", "miner=hard", "--variant", "distance=euclidean", "--variant", "miner=hard distance=euclidean"},
	} {
		runs, err := parseOpenSet(append([]string{"--data", "mnist"}, args...), io.Discard)
		if want := 1 + strings.Count(strings.Join(args, " "), "--variant"); err != nil || len(runs) != want {
			t.Errorf("openset %q: %d runs, %v; want the recipe and its variants", args, len(runs), err)
		}
	}
}

// TestExpandAllImages: an --expand K of the evaluated images or more,
// which makes every embedding the mean of all of them and every figure
// that of ties, is refused in one line before any embedding or training,
// naming the number of images (before, K was capped at it without a word:
// eval's figures all chance, openset's row "cosine, expanded (K = 36)").
func TestExpandAllImages(t *testing.T) {
	folder := sixIdentities(t)
	// --split all: the 72 images; openset evaluates the 36 of the second half.
	want := "--expand 72: the 72 evaluated images would each become the mean of all of them"
	wantBadInput(t, want, "eval", "--model", "raw", "--data", folder, "--input", "1x16x16", "--split", "all", "--expand", "72", "--json")
	wantBadInput(t, "--expand 40: the 36 evaluated images", "openset", "--data", folder, "--input", "1x16x16", "--arch", "lenet-s", "--epochs", "1", "--batch", "8", "--expand", "40")
	// A variant's own images: ORL's photos of s11–s20 are 100, 98 aligned
	// (2 skipped), so --expand 99 is refused in the variant that aligns
	// them, before the base trains (before, its rows said K = 99 of 98).
	wantBadInput(t, `variant "align=true": --expand 99: the 98 evaluated images`, "openset", "--data", "testdata/orl/seen", "--input", "1x32x32", "--arch", "mlp", "--epochs", "1", "--baselines=false", "--expand", "99", "--variant", "align=true")
	code, stdout, stderr := runCLI(t, "eval", "--model", "raw", "--data", folder, "--input", "1x16x16", "--split", "all", "--expand", "71", "--json")
	if code != 0 || !strings.Contains(stdout, `"expand":71`) {
		t.Errorf("eval --expand 71 of 72 images: exit %d, %s%s", code, stdout, stderr)
	}
}

// sixIdentities writes a folder of six identities of 12 shapes each (two
// sets of shapes.png's three, a- and b-) and returns its path.
func sixIdentities(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeShapes(t, filepath.Join(dir, "a"), 12)
	writeShapes(t, filepath.Join(dir, "b"), 12)
	folder := filepath.Join(dir, "ids")
	for _, sub := range []string{"a", "b"} {
		for _, name := range []string{"horizontal", "vertical", "diagonal"} {
			if err := renameInto(filepath.Join(dir, sub, name), filepath.Join(folder, sub+"-"+name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return folder
}

// TestVariantAfterEndOfFlags: a command line that ends its flags with
// "--", which openset takes, has its variants taken too, each with its
// flags changed (they were added after the "--", as arguments: `variant
// "seed=2": unexpected argument "--seed=2"`); a folder named "--" is
// still --data's.
func TestVariantAfterEndOfFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--variant", "seed=2", "--"},
		{"--variant", "seed=2", "--data", "--"},
	} {
		runs, err := parseOpenSet(args, io.Discard)
		if err != nil || len(runs) != 2 || runs[1].mf.seed != 2 || runs[1].data != runs[0].data {
			t.Fatalf("openset %q: %d runs, %v; want the recipe and its variant of seed 2", args, len(runs), err)
		}
	}
}

// TestVariantWithDashes: a variant's pair written as on the command line,
// --dim=4 or -dim=4, is the pair dim=4, and the run is named so (before,
// "--" was put before it: "bad flag syntax: ----dim=4"); given beside
// dim=4, it is the same variant given twice.
func TestVariantWithDashes(t *testing.T) {
	runs, err := parseOpenSet([]string{"--data", "mnist", "--variant", "--dim=4 -seed=2"}, io.Discard)
	if err != nil || len(runs) != 2 || runs[1].mf.dim != 4 || runs[1].mf.seed != 2 || runs[1].variant != "dim=4 seed=2" {
		t.Fatalf("openset --variant '--dim=4 -seed=2': %d runs, %v; want the recipe and the variant dim=4 seed=2", len(runs), err)
	}
	_, err = parseOpenSet([]string{"--data", "mnist", "--variant", "dim=4", "--variant", "--dim=4"}, io.Discard)
	if want := `variant "dim=4" is given twice`; err == nil || err.Error() != want {
		t.Errorf("openset --variant dim=4 --variant --dim=4: %v; want %q", err, want)
	}
}

// TestVariantEvaluable: a variant's evaluated images are its own, and
// checkEvaluable checks them as the base's, before any training: in a
// folder of ORL's s01–s04 (a1–a3, b1) and bars at three orientations,
// the unseen identities are b1 and the bars, none of whose images is a
// face that aligning finds, so that the variant that aligns evaluates b1
// alone: refused in one line that names it (before, the base trained and
// its row was written, and the variant's evaluation failed after its
// training).
func TestVariantEvaluable(t *testing.T) {
	dir := t.TempDir()
	for name, orl := range map[string]string{"a1": "s01", "a2": "s02", "a3": "s03", "b1": "s04"} {
		if err := os.CopyFS(filepath.Join(dir, name), os.DirFS(filepath.Join("testdata", "orl", "seen", orl))); err != nil {
			t.Fatal(err)
		}
	}
	writeShapes(t, dir, 3)
	wantBadInput(t, `variant "align=true": `+dir+`, split all: 10 images; evaluation needs 2 identities of 2 images or more, it has 1`, "openset", "--data", dir, "--input", "1x32x32", "--arch", "mlp", "--epochs", "1", "--batch", "8", "--baselines=false", "--variant", "align=true")
}

// TestOpenSetFolderChanged: openset checks its selections on one listing
// of each split, and every load of the command must have the listing's
// identities: train/ changed after the checks (here, as the evaluated
// split's load writes its line, "diagonal" renamed "other-vertical", an
// identity of test/) is refused in one line, naming the identity gone.
// Before, the runs listed train/ again, took the changed folder's listing
// as the one checked, and trained on "other-vertical", an identity the
// open set evaluates as never trained on.
func TestOpenSetFolderChanged(t *testing.T) {
	open := filepath.Join(t.TempDir(), "open")
	writeShapes(t, filepath.Join(open, "train"), 10)
	writeOtherShapes(t, filepath.Join(open, "test"), 6)
	// A file the load skips: the load writes a line.
	if err := os.WriteFile(filepath.Join(open, "test", "other-vertical", "notes.txt"), []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	renamed := false
	w := writerFunc(func(p []byte) (int, error) {
		if !renamed && strings.HasPrefix(string(p), "load ") {
			renamed = true
			if err := os.Rename(filepath.Join(open, "train", "diagonal"), filepath.Join(open, "train", "other-vertical")); err != nil {
				t.Fatal(err)
			}
		}
		return stderr.Write(p)
	})
	args := []string{"--data", open, "--input", "1x16x16", "--arch", "mlp", "--dim", "4", "--epochs", "1", "--batch", "8", "--baselines=false", "--json"}
	var stdout strings.Builder
	err := cmdOpenSet(t.Context(), args, &stdout, w)
	if !renamed {
		t.Fatalf("the evaluated split's load wrote no line (stderr %q): train/ not changed", stderr.String())
	}
	var bad inputError
	want := filepath.Join(open, "train") + ` changed while loading: identity "diagonal" is gone`
	if err == nil || err.Error() != want || !errors.As(err, &bad) {
		t.Errorf("error %v (stdout %q): want the bad input %q", err, stdout.String(), want)
	}
}

// writerFunc is a function as an io.Writer.
type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestOpenSetVariantOfTrainsFlag: a variant naming a flag of train that
// openset does not take was refused as "flag provided but not defined:
// -classes", as if there were no such flag; it says why openset has
// none, for every such flag of train (one added to train and not to
// openset needs its reason in trainOnly).
func TestOpenSetVariantOfTrainsFlag(t *testing.T) {
	flags := func(cmd string) map[string]bool {
		_, table, _ := runCLI(t, cmd, flagsTableArg)
		names := map[string]bool{}
		for _, line := range strings.Split(table, "\n") {
			if name, ok := strings.CutPrefix(line, "| `--"); ok {
				name, _, _ = strings.Cut(name, "`")
				names[name] = true
			}
		}
		if len(names) == 0 {
			t.Fatalf("%s %s: no flags in %q", cmd, flagsTableArg, table)
		}
		return names
	}
	train, openset := flags("train"), flags("openset")
	for name := range train {
		if openset[name] {
			continue
		}
		why, ok := trainOnly[name]
		if !ok {
			t.Errorf("train's --%s, which openset does not take, has no reason in trainOnly", name)
			continue
		}
		v := name + "=1"
		code, _, stderr := runCLI(t, "openset", "--variant", v)
		if want := `variant "` + v + `": --` + name + " is train's, not openset's: " + why; code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("openset --variant %s: exit %d, %q; want 2, %q", v, code, stderr, want)
		}
	}
	for name := range trainOnly {
		if !train[name] || openset[name] {
			t.Errorf("trainOnly names --%s: want a flag of train that openset does not take", name)
		}
	}
}

// TestOpenSetSplitsNamedByNumber: a folder's default halves are given as
// its selections read them: by number, or, among identities all named by
// number, by those names (01-20 and 21-40 of 01 … 40; 1-6 and 7-12 of
// 1 … 12, sorted 1, 10, 11, 12, 2, …), each half of the identities.
// Before, they were 0-19 and 20-39 whatever the names, which folders 01 …
// 40 refused ("19 is ambiguous") and which would now select no class 0.
func TestOpenSetSplitsNamedByNumber(t *testing.T) {
	padded := make([]string, 40)
	for i := range padded {
		padded[i] = fmt.Sprintf("%02d", i+1)
	}
	for _, tc := range []struct {
		names  []string
		tr, ev string
	}{
		{padded, "01-20", "21-40"},
		{[]string{"1", "10", "11", "12", "2", "3", "4", "5", "6", "7", "8", "9"}, "1-6", "7-12"},
		{[]string{"s01", "s02", "s03", "s04", "s05"}, "0-1", "2-4"},
	} {
		_, _, tr, ev, err := openSetSplits("faces", "", "", tc.names)
		if err != nil || tr != tc.tr || ev != tc.ev {
			t.Errorf("openset's halves of %v: %q and %q, %v; want %q and %q", tc.names, tr, ev, err, tc.tr, tc.ev)
			continue
		}
		a, errA := data.TrainClasses(tr, tc.names)
		b, errB := data.TrainClasses(ev, tc.names)
		if errA != nil || errB != nil || len(a) != len(tc.names)/2 || len(a)+len(b) != len(tc.names) {
			t.Errorf("openset's halves of %v, %s and %s: %v (%v) and %v (%v); want the first %d and the rest", tc.names, tr, ev, a, errA, b, errB, len(tc.names)/2)
		}
	}
}

// TestOpenSetLowersDefaultBatch: openset, as train, lowers a batch it was
// not given (the default 64) to the training images when they are fewer,
// and says so on stderr (before, it refused it: "fewer than one batch of
// 64: give a batch of N or less", status 2); a batch given is still
// refused.
func TestOpenSetLowersDefaultBatch(t *testing.T) {
	ids := sixIdentities(t)
	code, stdout, stderr := runCLI(t, "openset", "--data", ids, "--epochs", "1", "--baselines=false")
	if code != 0 {
		t.Fatalf("openset on 3 training identities of 12 images: exit %d: %s", code, stderr)
	}
	line := regexp.MustCompile(`(?m)^batch (\d+): the (\d+) training images \(the default batch is 64\)$`).FindStringSubmatch(stderr)
	if line == nil || line[1] != line[2] || !strings.Contains(stdout, "| lenet-s | cosine |") {
		t.Fatalf("stdout %q, stderr %q; want the run's row and a line \"batch N: the N training images (the default batch is 64)\"", stdout, stderr)
	}
	code, _, stderr = runCLI(t, "openset", "--data", ids, "--epochs", "1", "--baselines=false", "--batch", "64")
	if want := "fewer than one batch of 64: give a batch of " + line[1] + " or less"; code != 2 || !strings.Contains(stderr, want) {
		t.Errorf("--batch 64 given: exit %d, %q; want 2 and %q", code, stderr, want)
	}
}

// TestOpenSetHeaderNamesClasses: openset's header names a folder's
// identities by their names, as --train-classes takes them, and says
// which of their images in words (before: "train on classes 0-2 (all),
// evaluate on the unseen classes 3-5 (all)").
func TestOpenSetHeaderNamesClasses(t *testing.T) {
	ids := sixIdentities(t)
	folder := filepath.Join(t.TempDir(), "faces")
	entries, err := os.ReadDir(ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range entries {
		if err := renameInto(filepath.Join(ids, e.Name()), filepath.Join(folder, fmt.Sprintf("s%02d", i+1))); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runCLI(t, "openset", "--data", folder, "--epochs", "1", "--baselines=false", "--batch", "8")
	want := "train on classes s01-s03 (all their images), evaluate on the unseen classes s04-s06 (all their images).\n"
	if code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("openset on s01 … s06: exit %d, stdout %q, stderr %q; want the header to say %q", code, stdout, stderr, want)
	}
	code, stdout, stderr = runCLI(t, "openset", "--data", folder, "--epochs", "1", "--baselines=false", "--batch", "8", "--train-classes", "0,2,3", "--eval-classes", "s02,s05,s06")
	want = "train on classes s01,s03,s04 (all their images), evaluate on the unseen classes s02,s05,s06 (all their images).\n"
	if code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("openset --train-classes 0,2,3: exit %d, stdout %q, stderr %q; want the header to say %q", code, stdout, stderr, want)
	}
}

// TestClassesNamed: a selection is named by its names where they select
// it again (one by one where a range's ends hold a dash), else by its
// spec (a name holding a comma, selected by its number); every class is
// "all".
func TestClassesNamed(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		sel   []int
		names []string
		want  string
	}{
		{"0-3", []int{0, 1, 2, 3}, []string{"s01", "s02", "s03", "s04", "s05"}, "s01-s04"},
		{"0,2,3,4", []int{0, 2, 3, 4}, []string{"s01", "s02", "s03", "s04", "s05"}, "s01,s03-s05"},
		{"5-9", []int{5, 6, 7, 8, 9}, data.Numbered(10), "5-9"},
		{"0-2", []int{0, 1, 2}, []string{"a-b", "c", "d-e"}, "a-b,c,d-e"},
		{"", []int{0, 1, 2}, []string{"s01", "s02", "s03"}, "all"},
		{"0-1", []int{0, 1}, []string{"a,b", "c", "d"}, "0-1"},
	} {
		if got := classesNamed(tc.spec, tc.sel, tc.names); got != tc.want {
			t.Errorf("classesNamed(%q, %v, %v) = %q; want %q", tc.spec, tc.sel, tc.names, got, tc.want)
		}
	}
}
