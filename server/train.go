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
	"time"

	"metriclab/core"
	"metriclab/core/job"
	"metriclab/core/msg"
)

// progress is one line of `train --json`: a training step or an epoch end.
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
}

func cmdTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	dataName := fs.String("data", "mnist", "training data: mnist, or a folder DIR/<identity>/*.png|jpg")
	epochs := fs.Int("epochs", 3, "passes over the training data")
	classSpec := fs.String("classes", "", "train on these classes only, by number or by name, e.g. 0-4, 0,2,4 or s01-s20 (default all)")
	align := fs.Bool("align", false, "find the face of every photo of a folder and align it by the eyes, as the Verify page does (photos without one usable face are skipped and counted)")
	alignTurns := fs.Int("align-turns", 0, alignTurnsUsage)
	split := fs.String("split", "train", "train: the training split; all: every image of a folder of identities (for an open set: evaluate others with eval --split all)")
	out := fs.String("out", "", "model file to write (.safetensors), required")
	jsonOut := fs.Bool("json", false, "print one JSON object per line instead of a progress bar")
	valN := fs.Int("val", 5000, "training images held out to choose the verification threshold (at most a tenth, at least 2 per identity of 5 images or more; 0: none)")
	logEvery := fs.Int("log-every", 50, "with --json, print progress every N steps")
	device := registerDevice(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := mf.applyPreset(*dataName, epochs); err != nil {
		return err
	}
	if *device == "auto" && mf.windowed() {
		*device = "cpu" // the CUDA engine has no crop, so no views
	}
	dev, err := resolveDevice(*device, stderr)
	if err != nil {
		return err
	}
	if *split != "train" && *split != "all" {
		return badInput("split %q: want train or all", *split)
	}
	if *logEvery < 1 {
		return badInput("log-every %d must be ≥ 1", *logEvery)
	}
	if err := checkOutput(*out); err != nil {
		return err
	}
	src, err := newSource(*align, *alignTurns, stderr)
	if err != nil {
		return err
	}
	cfg, err := prepareTraining(&mf, src, *dataName, *split, *classSpec, *epochs, *valN, dev)
	if err != nil {
		return err
	}
	defer cfg.job.Close()
	if !*jsonOut {
		dim := strconv.Itoa(mf.dim)
		if v := cfg.spec.Views; len(v) > 0 {
			dim = fmt.Sprintf("%d×%d (views %s)", len(v), mf.dim, msg.FormatViews(v))
		}
		fmt.Fprintf(stderr, "training %s on %s (%d images, %d classes, %d held out), %s, D=%s, %s × %s of %d, augment %s\n",
			mf.arch, *dataName, cfg.trainN, len(cfg.classes), cfg.valN, describeLoss(cfg.loss), dim,
			msg.Plural(*epochs, "epoch", "epochs"), msg.Plural(cfg.stepsPerEpoch, "step", "steps"), mf.batch, mf.augment)
	}
	var report func(p progress)
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		report = func(p progress) {
			if p.EpochEnd || p.Step%*logEvery == 0 || p.Step == p.Steps {
				enc.Encode(p)
			}
		}
	} else {
		bar := newProgressBar(stderr, isTerminal(stderr))
		report = bar.update
	}
	m, err := train(ctx, cfg, report)
	if err != nil {
		return err
	}
	m.Meta.Provenance.Data, m.Meta.Provenance.Align, m.Meta.Provenance.AlignTurns = *dataName, *align, *alignTurns
	if err := core.WriteModel(*out, m); err != nil {
		return err
	}
	if !*jsonOut {
		fmt.Fprintf(stderr, "wrote %s (%s)\n", *out, describeThreshold(m, cfg))
	}
	return nil
}

// describeThreshold says where m's threshold comes from: the held-out
// images, at the best epoch when early stopping kept one, or none.
func describeThreshold(m *core.Model, cfg trainConfig) string {
	if !cfg.job.Calibrated() {
		return fmt.Sprintf("no threshold: the %d images held out make no genuine pair; an identity of %d images or more gives 2", cfg.valN, job.MinPerIdentity)
	}
	s := fmt.Sprintf("threshold %.3f at FAR %.4f on %d held-out images", m.Meta.Threshold, m.Meta.FAR, cfg.valN)
	if best, stopped := cfg.job.BestEpoch(); best > 0 {
		s += fmt.Sprintf(", the best epoch's: %d", best)
		if stopped {
			s += ", early stopping ended the run"
		}
	}
	return s
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
	classes       []string
	stepsPerEpoch int
}

// checkOutput checks, before any training, that the model file path can
// be written when it ends: given, not a folder, in a folder that exists
// and takes a new file (a temporary file is created there and removed).
func checkOutput(path string) error {
	if path == "" {
		return badInput("--out is required")
	}
	given := path
	path, err := core.LinkTarget(path) // written through, as core.WriteModel does
	if err != nil {
		return badInput("--out: %v", err)
	}
	link := "" // the errors name the --out given, and its target when it is a link
	if path != given {
		link = " (a link to " + path + ")"
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return badInput("--out %s%s is a folder; want a file name, e.g. %s", given, link, filepath.Join(given, "model.safetensors"))
	} else if err == nil && !st.Mode().IsRegular() {
		// The model replaces the file by a rename: a FIFO or a device
		// (even /dev/null) would be replaced, not written to.
		return badInput("--out %s%s is not a regular file (%s); want a file name", given, link, fileKind(st.Mode()))
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return badInput("output folder %s of --out %s%s does not exist", dir, given, link)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return badInput("cannot write in the output folder %s of --out %s%s: %v", dir, given, link, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// prepareTraining validates the flags, loads the data and prepares the job
// on device (resolveDevice's); every error it returns is an inputError,
// but for an engine that fails to build. The job's Close releases the
// device.
func prepareTraining(mf *modelFlags, src source, dataName, split, classSpec string, epochs, valN int, device string) (trainConfig, error) {
	var c trainConfig
	if epochs < 1 || epochs > 10000 {
		return c, badInput("epochs %d out of range [1, 10000]", epochs)
	}
	if valN < 0 {
		return c, badInput("val %d must be ≥ 0", valN)
	}
	if _, err := mf.newLoss(); err != nil {
		return c, err
	}
	spec, err := mf.spec(dataName)
	if err != nil {
		return c, err
	}
	set, err := src.loadTraining(dataName, split, classSpec, spec.Input)
	if err != nil {
		return c, err
	}
	if _, err := mf.optConfig(1); err != nil {
		return c, err
	}
	req := trainRequest(mf, dataName, classSpec, epochs)
	req.Device, req.Crop, req.Views = device, spec.Crop, spec.Views
	if valN == 0 {
		valN = -1 // --val 0: hold none out
	}
	j, err := job.New(req, set, nil, job.Options{Val: valN, Version: version, Threads: mf.threads, Engine: engineFor(device, false)})
	if errors.Is(err, job.ErrRequest) {
		return c, inputError{err}
	}
	if err != nil {
		return c, err
	}
	c = trainConfig{job: j, spec: j.Spec(), loss: j.Loss(), batch: req.Batch, classes: j.Classes()}
	c.trainN, c.valN = j.Sizes()
	c.stepsPerEpoch, _ = j.Steps()
	return c, nil
}

// trainRequest is the training request of the flags.
func trainRequest(mf *modelFlags, dataName, classSpec string, epochs int) msg.TrainRequest {
	lc := mf.lossConfig()
	req := msg.TrainRequest{Data: dataName, Arch: mf.arch, Loss: mf.loss, LossParams: lc.Values, Miner: lc.Miner,
		Distance: lc.Distance, Dim: mf.dim, Epochs: epochs, Batch: mf.batch, Opt: mf.opt, Classes: classSpec,
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

// train runs the job's epochs, reporting every step and every epoch end,
// and returns the model with its recommended threshold.
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
			ImgPerS: float64(p.Step*c.batch) / elapsed, ElapsedS: elapsed}
		report(line)
		if !p.EpochEnd {
			continue
		}
		line.EpochEnd = true
		if v := p.Verification; v != nil {
			line.ValAccuracy, line.ValEER, line.ValClosedSetAcc = &v.Accuracy, &v.EER, &v.Centre
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
