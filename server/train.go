package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/job"
	"metriclab/core/msg"
)

// progress is one line of `train --json`: a training step, the last of an
// epoch with EpochEnd and the held-out figures. The last progress line
// of a run that early stopping ended because training diverged after the
// best epoch (the model's line, trainedLine, follows it) has Diverged
// (job.Job.Diverged): the last step taken's again, or the epoch end whose
// held-out embeddings were not finite, without figures.
type progress struct {
	Epoch    int     `json:"epoch"`
	Step     int     `json:"step"`
	Steps    int     `json:"steps"`
	Loss     float64 `json:"loss"`
	ImgPerS  float64 `json:"img_per_s"`
	LR       float64 `json:"lr"`
	ElapsedS float64 `json:"elapsed_s"`
	// At an epoch end, the 1:1 verification figures on the held-out images.
	EpochEnd        bool     `json:"epoch_end,omitempty"`
	ValAccuracy     *float64 `json:"val_verification_accuracy,omitempty"`
	ValEER          *float64 `json:"val_eer,omitempty"`
	ValClosedSetAcc *float64 `json:"val_closed_set_accuracy,omitempty"`
	Diverged        string   `json:"diverged,omitempty"`
}

// trainedLine is the last line of `train --json`, once the model file is
// written: what train says of it without --json ("wrote FILE (…)"). It is
// told from the progress lines by its "model" key, which they lack.
type trainedLine struct {
	Model     string   `json:"model"`                // the file written: --out as given
	Threshold *float64 `json:"threshold,omitempty"`  // the recommended cosine threshold (core.Metadata); none without a genuine held-out pair
	FAR       *float64 `json:"far,omitempty"`        // the false accept rate at Threshold
	ValImages int      `json:"val_images"`           // the held-out images it was chosen on
	Steps     int      `json:"steps"`                // training steps taken
	BestEpoch int      `json:"best_epoch,omitempty"` // with early stopping: the epoch whose model this is
	Summary   string   `json:"summary"`              // what train prints in the parentheses (describeThreshold)
}

// trainFlags are train's flags, parsed and checked (parseTrain).
type trainFlags struct {
	mf                                 modelFlags
	data, classes, split, out, device  string
	epochs, valN, logEvery, alignTurns int
	align, jsonOut                     bool
}

// parseTrain parses train's flags and refuses what needs no data, no
// device and no file to be found wrong: the flags' syntax, the device's
// name, the preset, --split, --log-every (with --json), --out given,
// --align-turns and checkTraining's checks. The device itself, the --out
// file (checkOutput) and the data and its --classes are cmdTrain's to
// check.
func parseTrain(args []string, stdout io.Writer) (*trainFlags, error) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	f := &trainFlags{}
	f.mf.register(fs)
	fs.Lookup("batch").Usage = "batch size; when not given (the preset's or this default), lowered to the training images when they are fewer, and train says so"
	fs.StringVar(&f.data, "data", "mnist", "training data: mnist, or a folder DIR/<identity>/*.png|jpg")
	fs.IntVar(&f.epochs, "epochs", msg.TrainDefaults().Epochs, "passes over the training data")
	fs.StringVar(&f.classes, "classes", "", "train on these classes only, by number or by name, e.g. 0-4, 0,2,4 or s01-s20"+byNumberUsage+" (default all)")
	fs.BoolVar(&f.align, "align", false, "find the face of every photo of a folder and align it by the eyes, as the Verify page does (photos without one usable face are skipped and counted, and the identities left without a photo named)")
	fs.IntVar(&f.alignTurns, "align-turns", 0, alignTurnsUsage)
	fs.StringVar(&f.split, "split", "train", "train: the training split; all: every image of a folder of identities (for an open set: evaluate others with eval --split all)")
	fs.StringVar(&f.out, "out", "", "model file to write (.safetensors), required")
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON object per line instead of a progress bar")
	fs.IntVar(&f.valN, "val", 5000, "training images held out to choose the verification threshold: at most this many and a tenth of them, each identity its share; but an identity of 5 images or more gives 2 at least, a genuine pair, so one of 5 to 19 images gives 2 whatever the value and a folder of such identities holds out more (0: none)")
	fs.IntVar(&f.logEvery, "log-every", 50, "with --json, print progress every N steps")
	f.mf.registerMaxMemory(fs, "largest memory the training may take on the CPU (a cuda device's is not bounded)")
	device := registerDevice(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		return nil, err
	}
	f.device = *device
	if err := checkMaxMemory("max-memory", f.mf.maxMemory); err != nil {
		return nil, err
	}
	f.mf.fitBatch = !f.mf.set("batch")
	if err := checkDevice(f.device); err != nil {
		return nil, err
	}
	if err := f.mf.checkThreads(f.device); err != nil {
		return nil, err
	}
	if err := f.mf.applyPreset(f.data, &f.epochs); err != nil {
		return nil, err
	}
	if f.split != "train" && f.split != "all" {
		return nil, badInput("split %q: want train or all", f.split)
	}
	if f.logEvery < 1 {
		return nil, badInput("--log-every %d: must be 1 or more", f.logEvery)
	}
	if flagGiven(fs, "log-every") && !f.jsonOut {
		return nil, badInput("--log-every %d is for --json: without it, progress is a bar on a terminal and, elsewhere, a line at each tenth of an epoch (or 30 s) and at its end", f.logEvery)
	}
	if err := requireOut(f.out); err != nil {
		return nil, err
	}
	if err := checkTurns(f.align, f.alignTurns); err != nil {
		return nil, err
	}
	if _, err := checkTraining(&f.mf, f.data, f.epochs, f.valN); err != nil {
		return nil, err
	}
	return f, nil
}

func cmdTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseTrain(args, stdout)
	if err != nil {
		return err
	}
	mf := &f.mf
	if f.device == "auto" && mf.windowed() {
		f.device = "cpu" // the CUDA engine has no crop, so no views
	}
	dev, err := resolveDevice(f.device, stderr)
	if err != nil {
		return err
	}
	if err := checkOutput(f.out); err != nil {
		return err
	}
	src, err := newSource(f.align, f.alignTurns, stderr)
	if err != nil {
		return err
	}
	if !f.jsonOut && isTerminal(stderr) {
		src.live = stderr
	}
	// The selection is named by its flag (prepareTraining checks it
	// again, on this listing, as openset's --train-classes).
	listed, _, err := checkClasses(f.data, f.split, f.classes)
	if err != nil {
		return classesFlagError("classes", f.classes, err)
	}
	cfg, err := prepareTraining(mf, src, f.data, f.split, f.classes, listed, f.epochs, f.valN, dev)
	if err != nil {
		return err
	}
	defer cfg.job.Close()
	if note := cfg.job.Note(); note != "" {
		fmt.Fprintln(stderr, note) // the batch lowered to the training images
	}
	if !f.jsonOut {
		dim := strconv.Itoa(mf.dim)
		if v := cfg.spec.Views; len(v) > 0 {
			dim = fmt.Sprintf("%d×%d (views %s)", len(v), mf.dim, msg.FormatViews(v))
		}
		fmt.Fprintf(stderr, "training %s on %s (%d images, %d classes, %d held out), %s, D=%s, %s × %s of %d, augment %s\n",
			mf.arch, pathText(f.data), cfg.trainN, len(cfg.classes), cfg.valN, describeLoss(cfg.loss), dim,
			msg.Plural(f.epochs, "epoch", "epochs"), msg.Plural(cfg.stepsPerEpoch, "step", "steps"), cfg.batch, mf.augment)
	}
	var report func(p progress)
	end := func() {} // ends the bar's line when an error or Ctrl-C stops the training mid-epoch
	if f.jsonOut {
		report = jsonProgress(stdout, f.logEvery)
	} else {
		bar := newProgressBar(stderr, isTerminal(stderr))
		report, end = bar.update, bar.end
	}
	m, err := train(ctx, cfg, report)
	end()
	if err != nil {
		return err
	}
	m.Meta.Provenance.Data, m.Meta.Provenance.Split = provenanceData(f.data), f.split
	m.Meta.Provenance.Align, m.Meta.Provenance.AlignTurns = f.align, f.alignTurns
	if err := writeTrained(f.out, m); err != nil {
		return err
	}
	if f.jsonOut {
		err := json.NewEncoder(stdout).Encode(newTrainedLine(f.out, m, cfg))
		return wroteButLost(f.out, stdout, err)
	}
	fmt.Fprintf(stderr, "wrote %s (%s)\n", pathText(f.out), describeThreshold(m, cfg))
	return nil
}

// newTrainedLine is the last line of train --json for the model m,
// written to out, of the run cfg.
func newTrainedLine(out string, m *core.Model, cfg trainConfig) trainedLine {
	l := trainedLine{Model: out, ValImages: cfg.valN, Steps: m.Meta.Provenance.Steps, Summary: describeThreshold(m, cfg)}
	if m.Meta.HasThreshold() {
		l.Threshold, l.FAR = &m.Meta.Threshold, &m.Meta.FAR
	}
	l.BestEpoch, _ = cfg.job.BestEpoch()
	return l
}

// jsonProgress reports train --json's progress lines to w: every
// logEvery steps, each epoch's end (the last step ends an epoch) and the
// end of a run that diverged.
func jsonProgress(w io.Writer, logEvery int) func(progress) {
	enc := json.NewEncoder(w)
	return func(p progress) {
		if p.EpochEnd || p.Diverged != "" || p.Step%logEvery == 0 {
			enc.Encode(p)
		}
	}
}

// provenanceData is what a model's provenance records of --data: mnist,
// or a folder's own name without the folders above it, which a shared
// model need not carry (an absolute path names the user's home); its
// readers, the model cards, show it as the server's jobs show their data
// set's name. A folder named mnist is ./mnist, not the MNIST digits.
func provenanceData(data string) string {
	if data == "mnist" {
		return data
	}
	if abs, err := filepath.Abs(data); err == nil {
		data = abs
	}
	if name := filepath.Base(data); name != "mnist" {
		return name
	}
	return "./mnist"
}

// writeTrained writes the trained model m to out. Where that fails once
// trained (its folder removed meanwhile, a disk full: checkOutput passed),
// m goes to a new file in the system's temporary folder instead, so that
// a long run is not lost, and the error says where it is.
func writeTrained(out string, m *core.Model) error {
	err := core.WriteModel(out, m)
	if err == nil {
		return nil
	}
	f, kerr := os.CreateTemp("", "metriclab-*.safetensors")
	if kerr == nil {
		f.Close()
		if kerr = core.WriteModel(f.Name(), m); kerr == nil {
			return fmt.Errorf("%v; the model is kept in %s", err, f.Name())
		}
		os.Remove(f.Name())
	}
	return fmt.Errorf("%v; nor could the model be kept in %s: %v", err, os.TempDir(), kerr)
}

// describeThreshold says where m's threshold comes from: the held-out
// images, at the best epoch when early stopping kept one, or none (and
// why: --val 0, or identities too small to give a genuine pair).
func describeThreshold(m *core.Model, cfg trainConfig) string {
	if cfg.noVal {
		return "no threshold: --val 0 held no images out"
	}
	if !cfg.job.Calibrated() {
		return fmt.Sprintf("no threshold: the %d images held out make no genuine pair; an identity of %d images or more gives 2", cfg.valN, job.MinPerIdentity)
	}
	s := fmt.Sprintf("threshold %.3f at FAR %.4f on %d held-out images", m.Meta.Threshold, m.Meta.FAR, cfg.valN)
	if best, stopped := cfg.job.BestEpoch(); best > 0 {
		s += fmt.Sprintf(", the best epoch's: %d", best)
		switch err := cfg.job.Diverged(); {
		case err != nil:
			s += "; " + err.Error()
		case stopped:
			s += ", early stopping ended the run"
		}
	}
	return s
}

// pathErrno is the error of the system under err, a path's error, whose
// path the message that says it names already ("permission denied").
func pathErrno(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// requireOut refuses an empty --out (train's, join's), and "-", which
// names stdout to many commands but would be a file named "-" here (./-
// is one, if wanted).
func requireOut(out string) error {
	switch out {
	case "":
		return badInput("--out is required")
	case "-":
		return badInput("--out -: the model is written to a file, not to stdout: give a file name, e.g. model.safetensors")
	}
	return nil
}

// alignTurnsUsage is the usage of train's and openset's --align-turns.
const alignTurnsUsage = "with --align: train on N versions of every photo of the identities trained on beside it, each turned as a head turns (up to a quarter of the half-width) before it is aligned, so the eyes stay where alignment puts them; each image of a batch is the photo or one of its versions (0: none; N+1 times the memory of the photos)"

// trainConfig is a validated training run: the job and what the command
// line prints about it.
type trainConfig struct {
	job           *job.Job
	spec          core.Spec
	loss          core.Loss
	batch         int
	trainN, valN  int
	noVal         bool // --val 0: nothing held out, as asked
	classes       []string
	stepsPerEpoch int
}

// checkOutput checks, before any training, that the model file path (a
// --out given: requireOut) can be written when it ends: not a folder nor
// an image's name (data.IsImageName: neither a link's nor its target's)
// nor a read-only file, in a folder
// that exists and takes a new file (a temporary file is created there and
// removed).
func checkOutput(path string) error {
	given := path
	path, err := core.LinkTarget(path) // written through, as core.WriteModel does
	if err != nil {
		return badInput("--out: %v", err)
	}
	link := "" // the errors name the --out given, and its target when it is a link
	if path != given {
		link = " (a link to " + path + ")"
	}
	for _, name := range []string{given, path} {
		if data.IsImageName(name) {
			// In a folder of identities, the model would replace one of
			// its images, or be read as one that does not decode (a link
			// named as an image is read as one, whatever it points to).
			return badInput("--out %s%s names an image (%s), not a model file: write the model to a .safetensors file", given, link, filepath.Ext(name))
		}
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return badInput("--out %s%s is a folder; want a file name, e.g. %s", given, link, filepath.Join(given, "model.safetensors"))
	} else if err == nil && !st.Mode().IsRegular() {
		// The model replaces the file by a rename: a FIFO or a device
		// (even /dev/null) would be replaced, not written to.
		return badInput("--out %s%s is not a regular file (%s); want a file name", given, link, fileKind(st.Mode()))
	} else if err == nil && st.Mode().Perm()&0o222 == 0 {
		// The rename would replace it whatever its mode: a model made
		// read-only to keep it would be lost.
		return badInput("--out %s%s is read-only (%s): write the model to another file, or make it writable to replace it", given, link, st.Mode().Perm())
	} else if errors.Is(err, syscall.ENAMETOOLONG) {
		// The probe below has a shorter name (core.TempPrefix): the
		// rename to this one would fail once trained.
		return badInput("--out %s%s: file name too long", given, link)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return badInput("output folder %s of --out %s%s does not exist", dir, given, link)
	} else if err != nil { // a folder above it is a file, or not ours to search
		return badInput("output folder %s of --out %s%s: %v", dir, given, link, pathErrno(err))
	} else if !st.IsDir() {
		return badInput("output folder %s of --out %s%s is a file, not a folder", dir, given, link)
	}
	f, err := os.CreateTemp(dir, core.TempPrefix(filepath.Base(path))+"*")
	if err != nil {
		return badInput("cannot write in the output folder %s of --out %s%s: %v", dir, given, link, pathErrno(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// prepareTraining validates the flags, loads the data and prepares the job
// on device (resolveDevice's); every error it returns is an inputError,
// but for an engine that fails to build. The job's Close releases the
// device. The classes of classSpec are checked against listed, the
// split's classes listed (classNames) when the command checked its
// selections, which the load must have (loadTraining): a command lists
// a split once, so that all its loads are of the listing it checked.
func prepareTraining(mf *modelFlags, src source, dataName, split, classSpec string, listed []string, epochs, valN int, device string) (trainConfig, error) {
	var c trainConfig
	j, err := newTrainingJob(mf, src, dataName, split, classSpec, listed, epochs, valN, device, false)
	if err != nil {
		return c, err
	}
	c = trainConfig{job: j, spec: j.Spec(), loss: j.Loss(), batch: j.Batch(), classes: j.Classes()}
	c.trainN, c.valN = j.Sizes()
	c.noVal = valN == 0
	c.stepsPerEpoch, _ = j.Steps()
	return c, nil
}

// checkPrepared is prepareTraining's checks on the CPU without its job:
// no engine is made (job.Options.CheckOnly), so nothing of the training
// is allocated, and nothing is left to close. compare so checks the
// runs it does not prepare before its first one, --max-memory's bound
// included.
func checkPrepared(mf *modelFlags, src source, dataName, split, classSpec string, listed []string, epochs, valN int) error {
	_, err := newTrainingJob(mf, src, dataName, split, classSpec, listed, epochs, valN, "cpu", true)
	return err
}

// newTrainingJob is the job of prepareTraining, or, checkOnly, of
// checkPrepared.
func newTrainingJob(mf *modelFlags, src source, dataName, split, classSpec string, listed []string, epochs, valN int, device string, checkOnly bool) (*job.Job, error) {
	spec, err := checkTraining(mf, dataName, epochs, valN)
	if err != nil {
		return nil, err
	}
	if err := checkTrainingClasses(mf, dataName, split, classSpec, listed, epochs); err != nil {
		return nil, err
	}
	set, err := src.loadTraining(dataName, split, classSpec, listed, spec.Input)
	if err != nil {
		return nil, err
	}
	if err := checkImagesLeft(dataName, split, classSpec, set); err != nil {
		return nil, err
	}
	req := trainRequest(mf, dataName, classSpec, epochs)
	req.Device, req.Crop, req.Views = device, spec.Crop, spec.Views
	if valN == 0 {
		valN = -1 // --val 0: hold none out
	}
	// A training over --max-memory is refused here, before its engine
	// allocates any of it, in one line with the estimate, as serve's.
	opts := job.Options{Val: valN, Version: version, Threads: mf.threads, Engine: engineFor(device, false), MaxTrainBytes: mf.maxTrainBytes(device), CheckOnly: checkOnly}
	j, err := job.New(req, set, nil, opts)
	if errors.Is(err, job.ErrMemory) {
		return nil, badInput("%v; --max-memory sets the bound (-1: none)", err)
	}
	if errors.Is(err, job.ErrRequest) {
		return nil, inputError{err}
	}
	return j, err
}

// checkImagesLeft refuses a training on the classes of classSpec of set,
// the load of split of the data set name, when the load left one of them
// without an image (all of its skipped: under msg.MinSide pixels a side,
// or, with --align, without one usable face), naming them, as a server
// job on such a data set is refused: its head would keep a row that no
// image trains. Leaving them out of the classes trained on trains the
// others.
func checkImagesLeft(name, split, classSpec string, set *data.Set) error {
	classes, err := data.TrainClasses(classSpec, set.Classes)
	if err != nil {
		return inputError{err}
	}
	has := make([]bool, len(set.Classes))
	for _, l := range set.Labels {
		has[l] = true
	}
	var empty []string
	for _, c := range classes {
		if !has[c] {
			empty = append(empty, strconv.Quote(set.Classes[c]))
		}
	}
	if len(empty) == 0 {
		return nil
	}
	return badInput("%s (%s): no usable image of %s to train on, every image of it skipped (under %d pixels a side; with --align, without one usable face): add others, or leave it out of the classes trained on (train's --classes, openset's --train-classes)",
		pathText(name), split, msg.Shorten(strings.Join(empty, ", "), 200), msg.MinSide)
}

// checkTraining refuses, before any data is loaded, a training of the
// flags on data set dataName that job.New would refuse for the flags
// alone: it returns the encoder spec. What depends on the data (its
// classes, their number for --compose, the images for a batch) is left to
// job.New.
func checkTraining(mf *modelFlags, dataName string, epochs, valN int) (core.Spec, error) {
	if epochs < 1 || epochs > 10000 {
		return core.Spec{}, badInput("epochs %d out of range [1, 10000]", epochs)
	}
	if valN < 0 {
		return core.Spec{}, badInput("--val %d: must be 0 (none) or more", valN)
	}
	loss, err := mf.newLoss()
	if err != nil {
		return core.Spec{}, err
	}
	spec, err := mf.spec(dataName)
	if err != nil {
		return spec, err
	}
	if _, err := mf.optConfig(1); err != nil {
		return spec, err
	}
	if err := job.CheckBatch(loss, mf.batch); err != nil {
		return spec, inputError{err}
	}
	aug, err := data.AugmentationByName(mf.augment)
	if err != nil {
		return spec, inputError{err}
	}
	if _, err := data.ParseParts(mf.compose); err != nil {
		return spec, inputError{err}
	}
	if err := data.ValidTurns(mf.turns, spec.Input); err != nil {
		return spec, inputError{err}
	}
	if err := aug.CheckTurns(mf.turns); err != nil {
		return spec, inputError{err}
	}
	if err := msg.CheckGlyphs(mf.lossGlyphs()); err != nil {
		return spec, inputError{err}
	}
	if err := job.CheckGlyphsLoss(loss, mf.lossGlyphs()); err != nil {
		return spec, inputError{err}
	}
	if err := job.CheckEarlyStop(mf.earlyStop); err != nil {
		return spec, inputError{err}
	}
	if mf.earlyStop > 0 && valN == 0 {
		return spec, badInput("early stop needs held-out verification pairs, and --val 0 holds no images out")
	}
	return spec, nil
}

// checkTrainingClasses refuses, before any image is loaded, a training of
// the flags on the classes classSpec of split of data set dataName, its
// classes listed (classNames), that job.New would refuse for their names
// and the input's shape (job.CheckClasses): the selection, its
// composition, the glyphs' memory, the classes' names. An identity
// folder whose name a model cannot hold (not UTF-8, or a control
// character: core.CheckClassNames) is named by its path, with what to
// do (before, "the training classes: class 0's name \"a\xe9b\" is not
// printable text", which named no folder).
func checkTrainingClasses(mf *modelFlags, dataName, split, classSpec string, listed []string, epochs int) error {
	spec, err := mf.spec(dataName)
	if err != nil {
		return err
	}
	classes, err := data.TrainClasses(classSpec, listed)
	if err != nil {
		return inputError{err}
	}
	for _, c := range classes {
		if name := listed[c]; !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
			folder := dataName
			if isTrainTestFolder(dataName) {
				folder = filepath.Join(dataName, split)
			}
			return badInput("identity folder %q: its name is not printable text (not UTF-8, or a control character), which a model cannot name a class: rename the folder, or leave it out of the classes trained on (train's --classes, openset's --train-classes)",
				filepath.Join(folder, name))
		}
	}
	if _, err := job.CheckClasses(trainRequest(mf, dataName, classSpec, epochs), namesOf(listed, classes), spec.Input); err != nil {
		return inputError{err}
	}
	return nil
}

// trainRequest is the training request of the flags.
func trainRequest(mf *modelFlags, dataName, classSpec string, epochs int) msg.TrainRequest {
	lc := mf.lossConfig()
	req := msg.TrainRequest{Data: dataName, Arch: mf.arch, Loss: mf.loss, LossParams: lc.Values, Miner: lc.Miner,
		Distance: lc.Distance, Dim: mf.dim, Epochs: epochs, Batch: mf.batch, BatchDefault: mf.fitBatch, Opt: mf.opt, Classes: classSpec,
		Seed: mf.seed, Schedule: mf.schedule, Device: "cpu", Augment: mf.augment, EmbedBN: mf.embedBN, FlipTest: mf.flipTest, Compose: mf.compose, Turns: mf.turns, Glyphs: mf.lossGlyphs(), EarlyStop: mf.earlyStop, Preset: mf.preset}
	if mf.lrSet() {
		req.LR = mf.lr
	}
	if mf.wdSet() {
		wd := mf.wd
		req.WeightDecay = &wd
	}
	return req
}

// train runs the job's epochs, reporting every step once (the last of an
// epoch with EpochEnd and the held-out figures), and returns the model
// with its recommended threshold.
func train(ctx context.Context, c trainConfig, report func(progress)) (*core.Model, error) {
	j := c.job
	start := time.Now()
	for !j.Done() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, err := j.Step()
		if err != nil {
			return nil, err
		}
		elapsed := time.Since(start).Seconds()
		line := progress{Epoch: p.Epoch, Step: p.Step, Steps: p.Steps, Loss: p.Loss, LR: p.LR,
			ImgPerS: float64(p.Step*c.batch) / elapsed, ElapsedS: elapsed, EpochEnd: p.EpochEnd}
		if v := p.Verification; v != nil {
			line.ValAccuracy, line.ValEER, line.ValClosedSetAcc = &v.Accuracy, &v.EER, &v.Centre
		}
		if err := j.Diverged(); err != nil { // p is the last step taken again, or an epoch end without figures
			line.Diverged = err.Error()
		}
		report(line)
	}
	return j.Model(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fileKind names the kind of a file that is not a regular one.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}
