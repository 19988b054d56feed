package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"metriclab/core"
	"metriclab/core/data"
)

// TestSourceTellsEachLoadOnce: a source that aligns says how many photos
// it kept once per folder, split and input, however often they load
// (openset loads the same split for its probe, its evaluation and every
// run).
func TestSourceTellsEachLoadOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 4)
	var log bytes.Buffer
	src := source{log: &log, told: map[string]bool{}, align: func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
		return append(dst[:0], make([]float32, in.Size())...), "" // every photo kept
	}}
	in := core.Input{Channels: 1, Height: 16, Width: 16, Std: 1}
	for range 3 {
		if _, err := src.load(dir, "all", in); err != nil {
			t.Fatal(err)
		}
	}
	in.Height, in.Width = 8, 8
	if _, err := src.load(dir, "all", in); err != nil {
		t.Fatal(err)
	}
	if got := log.String(); strings.Count(got, "12 photos aligned") != 2 || strings.Count(got, "\n") != 2 {
		t.Errorf("log %q: want one line for each of the two inputs", got)
	}
}

// TestSourceTellsFilesNotRead: a plain source (no --align) says what a
// folder holds that it does not read, a photo of another format say, in
// one line, and says nothing when it reads every file. The line is told
// once for a folder, whichever of its splits and inputs load (eval loads
// the test split, then the training split: before, the same files were
// told twice), and once for each half of a folder with train/ and test/.
func TestSourceTellsFilesNotRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 5)
	var log bytes.Buffer
	src, err := newSource(false, 0, &log)
	if err != nil {
		t.Fatal(err)
	}
	in := core.Input{Channels: 1, Height: 8, Width: 8, Std: 1}
	if _, err := src.load(dir, "all", in); err != nil {
		t.Fatal(err)
	}
	if log.Len() != 0 {
		t.Errorf("log %q: want nothing, every file read", log.String())
	}
	if err := os.WriteFile(filepath.Join(dir, "vertical", "x.HEIC"), []byte("not read"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := src.load(dir, "train", in); err != nil {
		t.Fatal(err)
	}
	if _, err := src.load(dir, "test", in); err != nil {
		t.Fatal(err)
	}
	if _, err := src.load(dir, "train", core.Input{Channels: 1, Height: 4, Width: 4, Std: 1}); err != nil {
		t.Fatal(err)
	}
	if want := "load " + dir + " (train): 12 images, 1 skipped: 1 not .png, .jpg or .jpeg\n"; log.String() != want {
		t.Errorf("log %q, want %q", log.String(), want)
	}

	split := filepath.Join(t.TempDir(), "split")
	for _, half := range []string{"train", "test"} {
		writeShapes(t, filepath.Join(split, half), 1)
		if err := os.WriteFile(filepath.Join(split, half, "vertical", "x.gif"), []byte("not read"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	log.Reset()
	for _, half := range []string{"test", "train", "test"} {
		if _, err := src.load(split, half, in); err != nil {
			t.Fatal(err)
		}
	}
	if want := "load " + split + " (test): 3 images, 1 skipped: 1 not .png, .jpg or .jpeg\n" +
		"load " + split + " (train): 3 images, 1 skipped: 1 not .png, .jpg or .jpeg\n"; log.String() != want {
		t.Errorf("log %q, want %q", log.String(), want)
	}
}

// TestSourceTellsTooSmall: a plain source tells the images too small to
// scale up to the input that it skipped (under 8 pixels a side: see
// data's tooSmall) in each split's line, as it
// tells the photos an aligner refused, and the files not read in the
// first alone. Before, a 1×1 image was scaled up to the input without a
// word; and a plain load told the folder once, whichever split.
func TestSourceTellsTooSmall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 4) // vertical{a,b,c,d}a.png, 32×32
	if err := os.WriteFile(filepath.Join(dir, "vertical", "x.HEIC"), []byte("not read"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"verticalz.png", "verticalzz.png"} { // the 5th image, tested, and the 6th, trained on
		writePixel(t, filepath.Join(dir, "vertical", name))
	}
	var log bytes.Buffer
	src, err := newSource(false, 0, &log)
	if err != nil {
		t.Fatal(err)
	}
	in := core.Input{Channels: 1, Height: 32, Width: 32, Std: 1}
	for _, split := range []string{"test", "train", "train"} {
		if _, err := src.load(dir, split, in); err != nil {
			t.Fatal(err)
		}
	}
	const small = "under 8 pixels a side"
	if want := "load " + dir + " (test): 0 images, 2 skipped: 1 not .png, .jpg or .jpeg, 1 " + small + "; no usable image of \"vertical\"\n" +
		"load " + dir + " (train): 12 images, 1 skipped: 1 " + small + "\n"; log.String() != want {
		t.Errorf("log %q, want %q", log.String(), want)
	}
}

// TestSourceAlignTellsFilesNotReadOnce: a source that aligns tells what a
// folder holds that it does not read in the line of the first split it
// loads, not again in the next split's, which tells the photos that split
// refused alone. Before, each split's line told the folder's files again
// (the test split's: "1 skipped" too many here).
func TestSourceAlignTellsFilesNotReadOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 5)
	if err := os.WriteFile(filepath.Join(dir, "vertical", "x.HEIC"), []byte("not read"), 0o644); err != nil {
		t.Fatal(err)
	}
	var (
		log    bytes.Buffer
		photos int
	)
	src := source{log: &log, told: map[string]bool{}, align: func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
		if photos++; photos%4 == 1 { // of the 12 training photos the 1st, 5th and 9th; of the 3 test photos the 1st, diagonal's one
			return dst, "no face"
		}
		return append(dst[:0], make([]float32, in.Size())...), ""
	}}
	in := core.Input{Channels: 1, Height: 8, Width: 8, Std: 1}
	for _, split := range []string{"train", "test"} {
		if _, err := src.load(dir, split, in); err != nil {
			t.Fatal(err)
		}
	}
	if want := "align " + dir + " (train): 9 photos aligned, 4 skipped: 3 no face, 1 not .png, .jpg or .jpeg\n" +
		"align " + dir + " (test): 2 photos aligned, 1 skipped: 1 no face; no usable photo of \"diagonal\"\n"; log.String() != want {
		t.Errorf("log %q, want %q", log.String(), want)
	}
}

// TestSourceTellsIdentitiesLeftEmpty: a source that aligns names, in its
// one line, the identities of which it kept no photo (they keep their
// class, which a user would not know trains on nothing), and not those of
// which it kept some.
func TestSourceTellsIdentitiesLeftEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 4)
	var log bytes.Buffer
	src := source{log: &log, told: map[string]bool{}, align: func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
		// Column 4 is blank in a vertical bar's photo alone (writeShapes);
		// the first horizontal one, its bar on row 13, has no face either.
		g := img.(*image.Gray)
		blank := true
		for y := range 32 {
			blank = blank && g.GrayAt(4, y).Y == 0
		}
		if blank || g.GrayAt(4, 13).Y != 0 {
			return nil, "no face"
		}
		return append(dst[:0], make([]float32, in.Size())...), ""
	}}
	in := core.Input{Channels: 1, Height: 8, Width: 8, Std: 1}
	set, err := src.load(dir, "all", in)
	if err != nil {
		t.Fatal(err)
	}
	if want := "align " + dir + " (all): 7 photos aligned, 5 skipped: 5 no face; no usable photo of \"vertical\"\n"; log.String() != want {
		t.Errorf("log %q, want %q", log.String(), want)
	}
	if !slices.Equal(set.Classes, []string{"diagonal", "horizontal", "vertical"}) {
		t.Errorf("classes %q: want the identity left without photos kept", set.Classes)
	}
}

// TestSourceTellsIdentitiesLeftEmptyPlain: a plain source names, in its
// line, the identities of which it skipped every image of the split (here
// all too small), as a source that aligns names those it aligned none of;
// and neither names an identity of which the split holds no image (the
// test split of one of 4 images). Before, the plain line named none, and
// the aligning one every identity without an image in the split.
func TestSourceTellsIdentitiesLeftEmptyPlain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 4) // no test image of the three
	if err := os.MkdirAll(filepath.Join(dir, "tiny"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 6 { // the 5th tested, the others trained on
		writePixel(t, filepath.Join(dir, "tiny", fmt.Sprintf("t%d.png", i)))
	}
	var log bytes.Buffer
	src, err := newSource(false, 0, &log)
	if err != nil {
		t.Fatal(err)
	}
	in := core.Input{Channels: 1, Height: 32, Width: 32, Std: 1}
	for _, split := range []string{"train", "test"} {
		if _, err := src.load(dir, split, in); err != nil {
			t.Fatal(err)
		}
	}
	const small = "under 8 pixels a side"
	if want := "load " + dir + " (train): 12 images, 5 skipped: 5 " + small + "; no usable image of \"tiny\"\n" +
		"load " + dir + " (test): 0 images, 1 skipped: 1 " + small + "; no usable image of \"tiny\"\n"; log.String() != want {
		t.Errorf("plain: log %q, want %q", log.String(), want)
	}
	log.Reset()
	aligner := source{log: &log, told: map[string]bool{}, align: func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
		if img.Bounds().Dx() == 1 {
			return nil, "no face"
		}
		return append(dst[:0], make([]float32, in.Size())...), ""
	}}
	if _, err := aligner.load(dir, "test", in); err != nil {
		t.Fatal(err)
	}
	if want := "align " + dir + " (test): 0 photos aligned, 1 skipped: 1 no face; no usable photo of \"tiny\"\n"; log.String() != want {
		t.Errorf("align: log %q, want %q", log.String(), want)
	}
}

// TestDescribeEmptyOneLine: of many identities left without a photo, the
// first maxNamedEmpty are named and the others counted; each is quoted, as
// other messages name identities, so that one named with a line break or
// a comma does not break the line or the list (before, named raw).
func TestDescribeEmptyOneLine(t *testing.T) {
	set := &data.Set{Classes: []string{"a", "b\nc", "d, e", "f", "g", "h", "i", "j"}}
	empty := []bool{false, true, true, true, true, true, true, false}
	if got, want := describeEmpty(set, empty, "photo"), `; no usable photo of "b\nc", "d, e", "f", "g", "h" and 1 more`; got != want {
		t.Errorf("describeEmpty = %q, want %q", got, want)
	}
}

// TestSourceMemo: with a memo, a source loads each folder, split and input
// once and returns the same set again (openset's checks, baselines and
// runs); a quiet load that fills the memo leaves the line of the photos
// aligned, with the ones skipped, to the first load with a log. Without a
// memo, every load reads the photos.
func TestSourceMemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 4)
	aligned := 0
	var log bytes.Buffer
	src := source{told: map[string]bool{}, memo: map[string]loaded{}, align: func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
		aligned++
		if aligned == 1 {
			return nil, "no face"
		}
		return append(dst[:0], make([]float32, in.Size())...), ""
	}}
	in := core.Input{Channels: 1, Height: 16, Width: 16, Std: 1}
	a, errA := src.load(dir, "all", in) // quiet: no log
	src.log = &log
	b, errB := src.load(dir, "all", in)
	c, errC := src.load(dir, "all", in)
	if errA != nil || errB != nil || errC != nil || a != b || b != c || aligned != 12 {
		t.Errorf("with a memo: %v, %v, %v, the same set %v, %d photos aligned; want the 12 photos aligned once", errA, errB, errC, a == b && b == c, aligned)
	}
	if got := log.String(); got != "align "+dir+" (all): 11 photos aligned, 1 skipped: 1 no face\n" {
		t.Errorf("log %q: want one line, told by the first load with a log", got)
	}
	src.memo = nil
	if c, err := src.load(dir, "all", in); err != nil || c == a || aligned != 24 {
		t.Errorf("without: %v, a new set %v, %d photos aligned; want 24", err, c != a, aligned)
	}
}

// TestSourceTurnsTrainingOnly: with --align-turns, the load to train on
// some identities turns their photos alone (the aligner sees each photo
// once, and each photo of those identities once more per version), and
// loads for evaluation get the photos without versions; the memo keeps
// the two apart.
func TestSourceTurnsTrainingOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 4) // three identities of four photos
	aligned := 0
	src := source{turns: 2, told: map[string]bool{}, memo: map[string]loaded{}, align: func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
		aligned++
		return append(dst[:0], make([]float32, in.Size())...), ""
	}}
	in := core.Input{Channels: 1, Height: 16, Width: 16, Std: 1}
	listed := []string{"diagonal", "horizontal", "vertical"}
	train, err := src.loadTraining(dir, "all", "0-1", listed, in)
	if err != nil {
		t.Fatal(err)
	}
	if want := 12 + 2*4*2; aligned != want || len(train.Alts) != 2 {
		t.Errorf("training on 2 of 3 identities: %d alignments, %d versions; want %d (every photo, and 2 versions of the 8 photos trained on) and 2", aligned, len(train.Alts), want)
	}
	again, err := src.loadTraining(dir, "all", "0-1", listed, in)
	if err != nil || again != train {
		t.Errorf("a second training load is not the memo's: %v", err)
	}
	aligned = 0
	eval, err := src.load(dir, "all", in)
	if err != nil {
		t.Fatal(err)
	}
	if aligned != 12 || len(eval.Alts) != 0 {
		t.Errorf("a load for evaluation: %d alignments, %d versions; want 12 and none", aligned, len(eval.Alts))
	}
	if _, err := src.loadTraining(dir, "all", "0-5", listed, in); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("training on identities the folder lacks: %v", err)
	}
}

// TestSourceTellsOneTurnedVersion: the align line of a load with one
// turned version says so in the singular (before, "each with 1 turned
// versions"), as it says more in the plural.
func TestSourceTellsOneTurnedVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 4) // three identities of four photos
	in := core.Input{Channels: 1, Height: 16, Width: 16, Std: 1}
	for turns, want := range map[int]string{1: "12 photos aligned, those of identities 0-1 each with 1 turned version\n", 2: "12 photos aligned, those of identities 0-1 each with 2 turned versions\n"} {
		var log bytes.Buffer
		src := source{turns: turns, log: &log, told: map[string]bool{}, align: func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
			return append(dst[:0], make([]float32, in.Size())...), ""
		}}
		if _, err := src.loadTraining(dir, "all", "0-1", []string{"diagonal", "horizontal", "vertical"}, in); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(log.String(), want) {
			t.Errorf("%d turns: log %q, want it to end %q", turns, log.String(), want)
		}
	}
}

// TestSourceTellsOneImage: a load's line of one image, or of one photo
// aligned, says so in the singular (before, "1 images", "1 photos
// aligned").
func TestSourceTellsOneImage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 1) // three identities of one 32×32 image
	for _, gone := range []string{"horizontal", "vertical"} {
		if err := os.RemoveAll(filepath.Join(dir, gone)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "x.txt"), []byte("not read"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := core.Input{Channels: 1, Height: 16, Width: 16, Std: 1}
	var log bytes.Buffer
	align := func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
		return append(dst[:0], make([]float32, in.Size())...), ""
	}
	for _, src := range []source{{log: &log, told: map[string]bool{}}, {log: &log, told: map[string]bool{}, align: align}} {
		if _, err := src.load(dir, "all", in); err != nil {
			t.Fatal(err)
		}
	}
	if want := "load " + dir + " (all): 1 image, 1 skipped: 1 beside the identity folders\n" +
		"align " + dir + " (all): 1 photo aligned, 1 skipped: 1 beside the identity folders\n"; log.String() != want {
		t.Errorf("log %q, want %q", log.String(), want)
	}
}

// TestPrepareTrainingTurnsItsClasses: train's data load turns the photos
// of the identities of --classes alone (before, no test would fail if
// prepareTraining asked for every identity's versions).
func TestPrepareTrainingTurnsItsClasses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 4) // three identities of four photos
	aligned := 0
	src := source{told: map[string]bool{}, align: func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
		aligned++
		return append(dst[:0], make([]float32, in.Size())...), ""
	}}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	if err := parseFlags(fs, []string{"--input", "1x16x16", "--dim", "4", "--batch", "4"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	cfg, err := prepareTraining(&mf, src.withTurns(3), dir, "all", "1-2", []string{"diagonal", "horizontal", "vertical"}, 1, 0, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.job.Close()
	if want := 12 + 3*4*2; aligned != want {
		t.Errorf("training on identities 1-2 of 3 with 3 turns: %d alignments, want %d (every photo, and 3 versions of the 8 photos trained on)", aligned, want)
	}
}

// TestPrepareTrainingFolderChanged: a training whose folder changed
// between its listing, which checked the classes, and its load (here an
// identity renamed after a load the memo keeps, as openset's runs train
// on the loads of its checks) is refused in one line; before, job.New
// read "0-1" against the load's numbering and trained, silently, on
// "diagonal" and "horizontal", not the "horizontal" and "vertical" the
// listing selected.
func TestPrepareTrainingFolderChanged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 4) // diagonal, horizontal, vertical
	src := source{told: map[string]bool{}, memo: map[string]loaded{}}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	if err := parseFlags(fs, []string{"--input", "1x16x16", "--dim", "4", "--batch", "4"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	spec, err := mf.spec(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.load(dir, "all", spec.Input); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "diagonal"), filepath.Join(dir, "zigzag")); err != nil {
		t.Fatal(err)
	}
	listed, err := classNames(dir, "all")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := prepareTraining(&mf, src, dir, "all", "0-1", listed, 1, 0, "cpu")
	if err == nil {
		cfg.job.Close()
		t.Fatalf("trained on %q of %q after the folder changed: want an error", cfg.classes, []string{"horizontal", "vertical", "zigzag"})
	}
	// The load the memo kept is older than the listing here: the line
	// names the identity the two do not share, as the listing has it.
	var bad inputError
	if !errors.As(err, &bad) || !strings.HasPrefix(err.Error(), dir+" changed while loading: ") || !strings.Contains(err.Error(), `"zigzag"`) {
		t.Errorf("error %q, want the bad input %q changed while loading, naming \"zigzag\"", err, dir)
	}
}

// TestEvalFitFolderChanged: eval's fitting identities, chosen on the
// listing before the evaluated images' load, are loaded after it; a
// folder changed in between (an identity renamed or removed while the
// evaluated photos align) is refused in one line, naming the identity
// gone. Before, the fitting set was of the identities at the listing's
// numbers in the changed folder: renamed, "wave" and "zebra", the
// evaluated "diagonal" fitted on, not "vertical" and "wave"; removed, a
// panic (data.Set.Subset: class 3 out of range 0..2).
func TestEvalFitFolderChanged(t *testing.T) {
	for _, renamed := range []string{"zebra", ""} { // "": removed
		dir := filepath.Join(t.TempDir(), "shapes")
		writeShapes(t, dir, 4) // diagonal, horizontal, vertical
		if err := os.CopyFS(filepath.Join(dir, "wave"), os.DirFS(filepath.Join(dir, "vertical"))); err != nil {
			t.Fatal(err)
		}
		aligned := 0
		src := source{told: map[string]bool{}, align: func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
			if aligned++; aligned == 9 { // vertical's first photo: diagonal's and horizontal's are read
				gone := filepath.Join(dir, "diagonal")
				var err error
				if renamed != "" {
					err = os.Rename(gone, filepath.Join(dir, renamed))
				} else {
					err = os.RemoveAll(gone)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			return append(dst[:0], make([]float32, in.Size())...), ""
		}}
		in := core.Input{Channels: 1, Height: 16, Width: 16, Std: 1}
		sets, err := loadEvalSets(src, dir, "all", "0-1", "", "", false, 0, in, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sets.fitClasses, []string{"vertical", "wave"}) {
			t.Fatalf("fitting classes %q, want [vertical wave]", sets.fitClasses)
		}
		fit, err := sets.loadFit()
		if err == nil {
			t.Fatalf("diagonal renamed %q: fitted on %q after the folder changed: want an error", renamed, fit.Classes)
		}
		var bad inputError
		if want := dir + ` changed while loading: identity "diagonal" is gone`; err.Error() != want || !errors.As(err, &bad) {
			t.Errorf("diagonal renamed %q: error %q, want the bad input %q", renamed, err, want)
		}
	}
}

// TestTrainWithoutHeldOutPairs: a folder of four photos an identity holds
// none out (2 of 4 would leave 2 to train on), and train says that its
// model has no threshold, where it printed "threshold 0.000 at FAR 0.0000
// on 0 held-out images"; early stopping, which needs held-out pairs, is
// refused before training, where it was ignored.
func TestTrainWithoutHeldOutPairs(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, shapes, 4)
	out := filepath.Join(dir, "m.safetensors")
	args := []string{"train", "--data", shapes, "--split", "all", "--input", "1x16x16", "--dim", "4", "--batch", "4", "--epochs", "1", "--out", out}
	code, _, stderr := runCLI(t, args...)
	if code != 0 || !strings.Contains(stderr, "no threshold: the 0 images held out make no genuine pair; an identity of 5 images or more gives 2") {
		t.Errorf("train on 4 photos an identity: status %d, stderr %q", code, stderr)
	}
	os.Remove(out)
	wantBadInput(t, "early stop needs held-out verification pairs", append(args, "--early-stop", "1")...)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused train wrote %s: %v", out, err)
	}
}

// TestTrainValZero: --val 0 holds nothing out, and train says so, where it
// said "the 0 images held out make no genuine pair; an identity of 5
// images or more gives 2" of identities of 6 (or ORL's 10) images; early
// stopping with --val 0 is refused before the data is read, where the
// refusal came after it with the same misleading hint.
func TestTrainValZero(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, shapes, 6)
	out := filepath.Join(dir, "m.safetensors")
	args := []string{"train", "--data", shapes, "--split", "all", "--input", "1x16x16", "--dim", "4", "--batch", "4", "--epochs", "1", "--val", "0", "--out", out}
	code, _, stderr := runCLI(t, args...)
	if want := "no threshold: --val 0 held no images out"; code != 0 || !strings.Contains(stderr, want) {
		t.Errorf("train --val 0: status %d, stderr %q, want %q", code, stderr, want)
	}
	wantBadInput(t, "early stop needs held-out verification pairs, and --val 0 holds no images out",
		"train", "--data", filepath.Join(dir, "none"), "--val", "0", "--early-stop", "2", "--out", filepath.Join(dir, "e.safetensors"))
}

// TestBadClassesToldAlone: a class selection that names no class of a
// folder is refused in one line, before the folder's load tells what it
// did not read (here a file beside the identity folders), a line that
// belongs to a load that goes on: train's --classes, openset's
// --eval-classes and --train-classes, eval's --classes and --unknown.
// Before, the load's line came first, two lines for a bad name.
func TestBadClassesToldAlone(t *testing.T) {
	folder := sixIdentities(t)
	if err := os.WriteFile(filepath.Join(folder, "README.md"), []byte("not read"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "m.safetensors")
	small := []string{"--data", folder, "--input", "1x16x16", "--arch", "mlp", "--epochs", "1", "--batch", "8"}
	for _, args := range [][]string{
		append([]string{"train", "--classes", "nobody", "--out", out}, small...),
		append([]string{"openset", "--eval-classes", "nobody"}, small...),
		append([]string{"openset", "--train-classes", "nobody"}, small...),
	} {
		code, _, stderr := runCLI(t, args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, `"nobody" is not a class`) {
			t.Errorf("%v: exit %d, stderr %q: want 2 and the one line of the class", args, code, stderr)
		}
	}
	in := core.Input{Channels: 1, Height: 16, Width: 16, Std: 1}
	for _, specs := range [][2]string{{"nobody", ""}, {"", "nobody"}} {
		var log bytes.Buffer
		src, err := newSource(false, 0, &log)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := loadEvalSets(src, folder, "all", specs[0], "", specs[1], false, 0, in, 1); err == nil || log.Len() != 0 {
			t.Errorf("eval --classes %q --unknown %q: error %v, log %q: want an error and no line", specs[0], specs[1], err, log.String())
		}
	}
}

// writePixel writes a PNG of one grey pixel at path, an image too small
// for any input (data's tooSmall).
func writePixel(t *testing.T, path string) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEmptiedFolderChanged: emptied marks an identity left without
// images only when the split's listing has the load's identities: "a"
// renamed "d" once loaded keeps the number of identities but moves "b",
// of which the test split holds no image (4 in all), to label 0 and "c"
// to label 1, and "b" is not said emptied (before, only the numbers of
// identities were compared, and the line named "b", not "a").
func TestEmptiedFolderChanged(t *testing.T) {
	dir := t.TempDir()
	for id, n := range map[string]int{"a": 10, "b": 4, "c": 10} {
		writeCopies(t, filepath.Join(dir, id), []byte("not read"), n)
	}
	// The test split's load: a's 2 images refused, b has none, c's 2.
	l := loaded{set: &data.Set{N: 2, Classes: []string{"a", "b", "c"}, Labels: []int{2, 2}}, skipped: data.Skipped{"too small": 2}}
	if got := describeEmpty(l.set, emptied(dir, "test", l), "image"); !strings.Contains(got, `"a"`) {
		t.Fatalf("describeEmpty of the unchanged folder: %q, want a named", got)
	}
	if err := os.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "d")); err != nil {
		t.Fatal(err)
	}
	if got := describeEmpty(l.set, emptied(dir, "test", l), "image"); strings.Contains(got, `"b"`) {
		t.Errorf("describeEmpty with a renamed d since the load: %q, which names b, of which the split holds no image", got)
	}
}

// TestEmptiedToldOfTheLoad: a load that the memo keeps is told later, by
// the first load with a log (openset's variants load quietly to check
// them, and tell the load when they train), and the identities it left
// without images are those of the load, not of the folder when told: "b",
// 4 images, of which the test split holds none, is given a 5th after a
// quiet load of the test split, and the line names "a" alone, whose image
// was refused (before, emptied listed the folder when told, and named
// "b" too, of which the load held no image to refuse).
func TestEmptiedToldOfTheLoad(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 16, 16))); err != nil {
		t.Fatal(err)
	}
	writeCopies(t, filepath.Join(dir, "b"), b.Bytes(), 4)
	writeCopies(t, filepath.Join(dir, "c"), b.Bytes(), 5)
	if err := os.MkdirAll(filepath.Join(dir, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	for k := range 5 {
		writePixel(t, filepath.Join(dir, "a", fmt.Sprintf("%d.png", k)))
	}
	var log strings.Builder
	src := source{log: &log, told: map[string]bool{}, memo: map[string]loaded{}}
	quiet := src
	quiet.log = nil
	in := core.Input{Channels: 1, Height: 16, Width: 16, Std: 1}
	if _, err := quiet.load(dir, "test", in); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b", "4.png"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := src.load(dir, "test", in); err != nil {
		t.Fatal(err)
	}
	if got := log.String(); !strings.Contains(got, `no usable image of "a"`+"\n") {
		t.Errorf("the load's line %q: want a alone left without an image", got)
	}
}

// TestLoadTrainingTurnsFolderChanged: with --align-turns the load reads
// the training selection to turn its identities' photos, against the
// identities it finds; one removed since the listing the selection was
// checked on is refused as the change it is, in checkLoaded's line
// (before, as the selection's own error, `data: classes "1-2": 2 is out
// of range 0..1`, though the command had accepted it).
func TestLoadTrainingTurnsFolderChanged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 4) // diagonal, horizontal, vertical
	src := source{turns: 2, told: map[string]bool{}, memo: map[string]loaded{}, align: func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
		return append(dst[:0], make([]float32, in.Size())...), ""
	}}
	listed, err := classNames(dir, "all")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "vertical")); err != nil {
		t.Fatal(err)
	}
	in := core.Input{Channels: 1, Height: 16, Width: 16, Std: 1}
	_, err = src.loadTraining(dir, "all", "1-2", listed, in)
	var bad inputError
	if want := dir + ` changed while loading: identity "vertical" is gone`; err == nil || err.Error() != want || !errors.As(err, &bad) {
		t.Errorf("training load of 1-2 with vertical removed since the listing: %v, want the bad input %q", err, want)
	}
}

// TestDataNamesWhatIsNotRead: --data MNIST, which differs from the
// built-in set's name by case alone, is refused with its name (before,
// "open MNIST: no such file or directory"); --data mnist beside a folder
// ./mnist says once that the folder is not read and how to read it; a
// folder with train/ and test/ names the folders beside them, which no
// split reads (before, each was left out without a word).
func TestDataNamesWhatIsNotRead(t *testing.T) {
	t.Chdir(t.TempDir())
	wantBadInput(t, "data: MNIST: no such folder; the built-in data set is mnist, in lower case", "train", "--data", "MNIST", "--out", "m.safetensors")
	wantBadInput(t, "data: Mnist: no such folder; the built-in data set is mnist, in lower case", "eval", "--model", "raw", "--data", "Mnist")
	if err := os.Mkdir("mnist", 0o755); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	src, err := newSource(false, 0, &log)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := src.load("mnist", "test", core.MNISTInput); err != nil {
			t.Fatal(err)
		}
	}
	if want := "note: --data mnist is the built-in MNIST, not the folder mnist here: give --data ./mnist for the folder\n"; log.String() != want {
		t.Errorf("two loads of mnist beside a folder mnist: log %q, want %q", log.String(), want)
	}
	for _, sub := range []string{"train", "test", "extra", "val", ".cache"} {
		writePatterns(t, filepath.Join("sp2", sub))
	}
	log.Reset()
	for _, split := range []string{"train", "test"} {
		if _, err := src.load("sp2", split, core.Input{Channels: 1, Height: 16, Width: 16}); err != nil {
			t.Fatal(err)
		}
	}
	if want := "note: sp2 has train/ and test/, its splits; not read beside them: extra/, val/\n"; log.String() != want {
		t.Errorf("loads of sp2: log %q, want %q", log.String(), want)
	}
}
