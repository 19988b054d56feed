package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/job"
	"metriclab/core/msg"
	"metriclab/losses"
	"metriclab/server/api"
)

// modelFlags are the flags that choose an encoder, a loss and an optimiser;
// train, bench and compare share them.
type modelFlags struct {
	arch       string
	loss       string
	dim        int
	batch      int
	lr         float64
	opt        string
	schedule   string
	input      string
	miner      string
	distance   string
	easyMargin bool
	seed       int64
	augment    string
	embedBN    bool
	flipTest   bool
	crop       string
	views      string
	compose    string
	turns      int
	glyphs     int
	wd         float64
	earlyStop  int
	preset     string
	threads    int
	// maxMemory is --max-memory (train, openset, compare; registerMaxMemory):
	// the bound of a CPU training's memory as --max-job-memory takes it, 0
	// the default, -1 none (maxTrainBytes).
	maxMemory int64
	// fitBatch, set by train when --batch is not given, makes the batch
	// (the preset's, or the flag's default) a default that the job lowers
	// to the training images when they are fewer
	// (msg.TrainRequest.BatchDefault).
	fitBatch bool

	fs *flag.FlagSet
	// lossValues are the loss parameters given on the command line, by name.
	lossValues map[string]*float64
	// Set by applyPreset: the preset gave the learning rate, the weight
	// decay, and the loss parameters presetLoss of its loss, presetLossName
	// (lossConfig gives them to that loss only).
	presetLR, presetWD bool
	presetLoss         map[string]float64
	presetLossName     string
	// shared, set by compare for its list of losses, gives each loss the
	// loss flags it takes and leaves the others out: another loss's
	// parameters, a miner (triplet's), a distance (the pair losses') and
	// glyph classes (not for P×K batches). compare refuses a flag that no
	// listed loss takes (unusedLossFlag).
	shared bool
}

// lossFlagNames are the flags of the loss parameters (and easy-margin, a
// flag of its own): each parameter's name, with "-" for "_"
// (lossParamName).
var lossFlagNames = []string{"s", "m", "m1", "m2", "m3", "alpha", "margin", "k", "lambda-base", "lambda-min", "gamma", "power"}

// lossParamName is the loss parameter of a loss flag: "lambda-base" is
// sphereface's lambda_base.
func lossParamName(flag string) string { return strings.ReplaceAll(flag, "-", "_") }

// flipTestUsage is the help of --flip-test; train's adds that the model it
// writes embeds so, which openset and compare, writing none, do not.
const flipTestUsage = "embed every image and its mirror and average the two, as InsightFace tests faces"

func (f *modelFlags) register(fs *flag.FlagSet) {
	f.fs = fs
	d := msg.TrainDefaults() // a server job's too, for the fields its body leaves out
	fs.StringVar(&f.arch, "arch", d.Arch, "encoder: "+strings.Join(core.ArchNames(), ", "))
	fs.StringVar(&f.loss, "loss", d.Loss, "loss: "+strings.Join(losses.Names(), ", "))
	fs.IntVar(&f.dim, "dim", d.Dim, fmt.Sprintf("embedding dimension D, %d..%d", msg.MinDim, msg.MaxDim))
	fs.IntVar(&f.batch, "batch", d.Batch, "batch size")
	fs.Float64Var(&f.lr, "lr", 0, fmt.Sprintf("learning rate (default %g for adam, %g for sgd)", core.DefaultOpt("adam").LR, core.DefaultOpt("sgd").LR))
	fs.StringVar(&f.opt, "opt", d.Opt, "optimiser: sgd (momentum 0.9, weight decay 5e-4) or adam")
	fs.StringVar(&f.schedule, "schedule", d.Schedule, "learning-rate schedule: constant, step (divided by 10 at each third of the run) or cosine (to 0 over the run)")
	fs.StringVar(&f.input, "input", "", "input shape CxHxW of a folder's images: 1 or 3 channels, sides of at most 256 pixels (default 1x32x32; mnist is 1x28x28 only)")
	fs.StringVar(&f.miner, "miner", "", "triplet miner: all, hard, semihard or easy (default "+losses.DefaultMiner()+")")
	fs.StringVar(&f.distance, "distance", "", "contrastive and triplet distance: euclidean or cosine (default "+losses.DefaultDistance()+")")
	fs.BoolVar(&f.easyMargin, "easy-margin", false, "arcface: apply the margin only where cos θ > 0")
	fs.Int64Var(&f.seed, "seed", d.Seed, "random seed (weights, shuffling, pairs)")
	fs.StringVar(&f.augment, "augment", "none", "augmentation of the training images: "+augmentUsage())
	fs.BoolVar(&f.embedBN, "embed-bn", false, "end the encoder with a batch norm of the embedding, as InsightFace's (iresnet18 has it)")
	fs.BoolVar(&f.flipTest, "flip-test", false, flipTestUsage+" (the model embeds so)")
	fs.StringVar(&f.crop, "crop", "", "the part of every image the encoder looks at, resampled to the input's size: "+cropUsage()+", or fractions x0,y0,x1,y1 of the width and height (default: the whole image)")
	fs.StringVar(&f.views, "views", msg.ViewWhole, "an ensemble in one model: an encoder per window, trained side by side on the same batches, the embedding theirs side by side: windows separated by commas, each whole, "+strings.Join(sortedKeys(core.Crops), ", ")+" (as --crop names them) or fractions x0:y0:x1:y1 (e.g. whole,upper,lower; whole: one encoder; one window: as --crop; not with --crop)")
	fs.StringVar(&f.compose, "compose", "none", "new classes from parts of training images: RxC parts, each from another image, the class the tuple of theirs (2x1: top and bottom halves), or none")
	fs.IntVar(&f.turns, "turns", 0, "new classes from quarter turns of the training images: 4, or 8 with mirrors (square images; 8 not with an augmentation that flips, faces or heads; 0: none)")
	fs.IntVar(&f.glyphs, "glyphs", 0, fmt.Sprintf("new classes of made-up characters (random pen strokes, %d images each, drawn from --seed) beside the training classes, kept whole by --compose (0: none; at most %d; not with triplet, whose batches are P classes × K images)", data.GlyphImages, msg.MaxGlyphs))
	fs.Float64Var(&f.wd, "wd", 0, fmt.Sprintf("weight decay (default %g for adam, %g for sgd)", core.DefaultOpt("adam").WeightDecay, core.DefaultOpt("sgd").WeightDecay))
	fs.IntVar(&f.earlyStop, "early-stop", 0, "stop after this many epochs without better held-out verification and keep the best epoch, also when a later epoch diverges (0: off)")
	fs.StringVar(&f.preset, "preset", "", "a recipe that sets the flags it names unless given: "+presetUsage())
	fs.IntVar(&f.threads, "threads", 0, threadsDoc)
	f.lossValues = make(map[string]*float64, len(lossFlagNames))
	for _, name := range lossFlagNames {
		f.lossValues[name] = fs.Float64(name, 0, "loss parameter "+lossParamName(name)+" (see metriclab losses; default depends on the loss and D)")
	}
}

// cropUsage lists the named crops for --crop's help.
func cropUsage() string {
	var parts []string
	for _, name := range sortedKeys(core.Crops) {
		c := core.Crops[name]
		parts = append(parts, fmt.Sprintf("%s (%g,%g,%g,%g)", name, c[0], c[1], c[2], c[3]))
	}
	return strings.Join(parts, ", ")
}

// splitList returns the items of a comma-separated flag value, each
// without the spaces around it ("3, 64" is 3 and 64). Empty items stay,
// for the caller to refuse; "" is one empty item.
func splitList(s string) []string {
	items := strings.Split(s, ",")
	for i, item := range items {
		items[i] = strings.TrimSpace(item)
	}
	return items
}

// splitPaths is splitList of a list of files (join's and eval's --model):
// an item is trimmed, but kept as given when only the name as given is a
// file ("m.safetensors ": a name's edge spaces are its own), so that every
// file can be named.
func splitPaths(s string) []string {
	items := strings.Split(s, ",")
	for i, item := range items {
		trimmed := strings.TrimSpace(item)
		if _, err := os.Stat(trimmed); err != nil && trimmed != item {
			if _, err := os.Stat(item); err == nil {
				continue
			}
		}
		items[i] = trimmed
	}
	return items
}

// repeated returns the index of the first item of list equal to an earlier
// one, or -1 when every item is different.
func repeated[T comparable](list []T) int {
	for i, item := range list {
		if slices.Contains(list[:i], item) {
			return i
		}
	}
	return -1
}

// parseCrop returns the Spec.Crop of --crop: a name of core.Crops or four
// fractions x0,y0,x1,y1 (the zero Crop for "", the whole image). Spec.Validate
// checks the window against the input.
func parseCrop(s string) (core.Crop, error) {
	var c core.Crop
	if s == "" {
		return c, nil
	}
	if c, ok := core.Crops[s]; ok {
		return c, nil
	}
	parts := splitList(s)
	if len(parts) != 4 {
		return c, badInput("crop %q: want %s, or fractions x0,y0,x1,y1", s, strings.Join(sortedKeys(core.Crops), ", "))
	}
	for i, p := range parts {
		v, err := msg.ParseDecimal(p)
		if err != nil {
			return c, badInput("crop %q: %q: %v", s, p, err)
		}
		c[i] = v
	}
	if c == (core.Crop{}) { // the zero Crop would mean the whole image
		return c, badInput("crop %q: want x0 < x1 and y0 < y1", s)
	}
	return c, nil
}

// augmentUsage lists the augmentations for --augment's help, each with
// what it changes; none by its name alone.
func augmentUsage() string {
	var parts []string
	for _, a := range data.Augmentations() {
		if !a.Active() {
			parts = append(parts, a.Name)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", a.Name, a.Describe()))
	}
	return strings.Join(parts, ", ")
}

// presetUsage lists the presets and what they set, for --preset's help.
func presetUsage() string {
	var parts []string
	for _, p := range msg.Presets() {
		parts = append(parts, fmt.Sprintf("%s (%s)", p.Name, describePreset(p)))
	}
	return strings.Join(parts, "; ")
}

// describePreset is one line with the flags a preset sets.
func describePreset(p msg.Preset) string {
	r := p.Request
	loss := r.Loss
	for _, name := range sortedKeys(r.LossParams) {
		loss += fmt.Sprintf(" --%s %g", name, r.LossParams[name])
	}
	parts := []string{"--arch " + r.Arch, "--input " + p.Input, "--loss " + loss, fmt.Sprintf("--dim %d", r.Dim),
		fmt.Sprintf("--epochs %d", r.Epochs), fmt.Sprintf("--batch %d", r.Batch), "--opt " + r.Opt,
		fmt.Sprintf("--lr %g", r.LR), "--schedule " + r.Schedule, "--augment " + r.Augment}
	if r.EmbedBN {
		parts = append(parts, "--embed-bn")
	}
	if r.FlipTest {
		parts = append(parts, "--flip-test")
	}
	if r.Compose != "" && r.Compose != "none" {
		parts = append(parts, "--compose "+r.Compose)
	}
	if len(r.Views) > 0 {
		parts = append(parts, "--views "+msg.FormatViews(r.Views))
	}
	if r.Turns > 0 {
		parts = append(parts, fmt.Sprintf("--turns %d", r.Turns))
	}
	if r.Glyphs > 0 {
		parts = append(parts, fmt.Sprintf("--glyphs %d", r.Glyphs))
	}
	if r.WeightDecay != nil {
		parts = append(parts, fmt.Sprintf("--wd %g", *r.WeightDecay))
	}
	if r.EarlyStop > 0 {
		parts = append(parts, fmt.Sprintf("--early-stop %d", r.EarlyStop))
	}
	return strings.Join(parts, " ")
}

// applyPreset sets every flag that --preset names and the command line
// does not give (epochs too, when not nil), by job.ApplyPreset, the rules
// of a server job's fields left out beside a preset too: loss parameters
// apply only when the loss is the preset's, glyph classes only to a loss
// that takes them (see batchesPK), the input shape to folders and to no
// data set (data "", bench's), not to MNIST (1×28×28 whatever the
// preset).
func (f *modelFlags) applyPreset(data string, epochs *int) error {
	if f.preset == "" {
		return nil
	}
	if err := msg.CheckPreset(f.preset); err != nil {
		return inputError{err}
	}
	// The flags as a request; views, a list the flag's text may not parse
	// to yet (checked later), and the loss parameters are left out: the
	// preset's views are taken when set, its loss parameters go to
	// lossConfig (presetLoss), which gives them to their loss only.
	in := msg.TrainRequest{Data: data, Preset: f.preset, Arch: f.arch, Loss: f.loss, Opt: f.opt, Schedule: f.schedule,
		Augment: f.augment, Compose: f.compose, Input: f.input, Dim: f.dim, Batch: f.batch, LR: f.lr,
		EmbedBN: f.embedBN, FlipTest: f.flipTest, Turns: f.turns, Glyphs: f.glyphs, EarlyStop: f.earlyStop}
	if epochs != nil {
		in.Epochs = *epochs
	}
	if f.set("wd") {
		in.WeightDecay = &f.wd
	}
	r := job.ApplyPreset(in, func(field string) bool { return f.set(flagOfField(field)) })
	f.arch, f.loss, f.opt, f.schedule, f.augment, f.compose, f.input = r.Arch, r.Loss, r.Opt, r.Schedule, r.Augment, r.Compose, r.Input
	f.dim, f.batch, f.embedBN, f.flipTest, f.turns, f.glyphs, f.earlyStop = r.Dim, r.Batch, r.EmbedBN, r.FlipTest, r.Turns, r.Glyphs, r.EarlyStop
	if len(r.Views) > 0 {
		f.views = msg.FormatViews(r.Views)
	}
	if r.LR != f.lr {
		f.lr, f.presetLR = r.LR, true
	}
	if r.WeightDecay != nil && !f.set("wd") {
		f.wd, f.presetWD = *r.WeightDecay, true
	}
	if epochs != nil {
		*epochs = r.Epochs
	}
	p, _ := msg.PresetByName(f.preset)
	f.presetLoss, f.presetLossName = p.Request.LossParams, p.Request.Loss
	return nil
}

// flagOfField is the flag of a training request's field, by its JSON
// name: weight_decay is --wd, embed_bn --embed-bn.
func flagOfField(field string) string {
	if field == "weight_decay" {
		return "wd"
	}
	return strings.ReplaceAll(field, "_", "-")
}

// batchesPK reports whether the loss name batches P classes × K images
// (core.BatchesPK), which takes no glyph classes: a preset's glyphs go to
// the other losses only, as its loss parameters go to its own loss.
func batchesPK(name string) bool {
	l, err := losses.New(losses.Config{Name: name, Dim: 3})
	return err == nil && core.BatchesPK(l)
}

// set reports whether the named flag was given on the command line.
func (f *modelFlags) set(name string) bool { return flagGiven(f.fs, name) }

// flagGiven reports whether the named flag of fs was given on the command
// line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	if fs == nil { // modelFlags not from the command line (eval --model raw)
		return false
	}
	found := false
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == name {
			found = true
		}
	})
	return found
}

// refuseFlag makes the named flag of fs, one of train's, a flag the
// command refuses, usage saying why: -h shows no default for it, as the
// default of a flag that cannot be given is none (before, compare's -dim
// said "(refused) (default 3)").
func refuseFlag(fs *flag.FlagSet, name, usage string) {
	fl := fs.Lookup(name)
	fl.Usage = usage
	switch fl.Value.(flag.Getter).Get().(type) {
	case string:
		fl.DefValue = ""
	case bool:
		fl.DefValue = "false"
	default:
		fl.DefValue = "0"
	}
}

// lossConfig returns the loss configuration with only the parameters the user
// (or the preset, for its own loss) set, so that the loss fills in its own
// defaults for D. With shared, the flags the loss does not take are left
// out (see lossTakes).
func (f *modelFlags) lossConfig() losses.Config {
	c := losses.Config{Name: f.loss, Dim: f.dim, Values: map[string]float64{}}
	take := func(flag string) bool { return !f.shared || lossTakes(f.loss, f.dim, flag) }
	if take("miner") {
		c.Miner = f.miner
	}
	if take("distance") {
		c.Distance = f.distance
	}
	if f.loss == f.presetLossName {
		for name, v := range f.presetLoss {
			c.Values[name] = v
		}
	}
	for name, v := range f.lossValues {
		if f.set(name) && take(name) {
			c.Values[lossParamName(name)] = *v
		}
	}
	if f.set("easy-margin") && take("easy-margin") {
		c.Values["easy_margin"] = 0
		if f.easyMargin {
			c.Values["easy_margin"] = 1
		}
	}
	return c
}

// lossGlyphs is the number of glyph classes the loss trains with: none for
// a P×K loss when shared.
func (f *modelFlags) lossGlyphs() int {
	if f.shared && batchesPK(f.loss) {
		return 0
	}
	return f.glyphs
}

// lossTakes reports whether the loss name at D = dim takes the loss flag:
// one of its parameters (easy-margin: easy_margin), miner (triplet),
// distance (contrastive and triplet) or glyphs (a loss that does not
// batch P×K). A flag other than those is taken by every loss.
func lossTakes(name string, dim int, flag string) bool {
	switch flag {
	case "miner":
		return name == "triplet"
	case "distance":
		return name == "contrastive" || name == "triplet"
	case "glyphs":
		return !batchesPK(name)
	case "easy-margin":
	default:
		if !slices.Contains(lossFlagNames, flag) {
			return true
		}
	}
	params, err := losses.Params(name, dim)
	return err == nil && slices.ContainsFunc(params, func(p losses.Param) bool { return p.Name == lossParamName(flag) })
}

// unusedLossFlag, for compare's losses at D = dim, refuses a loss flag
// given on the command line that none of them takes (--glyphs 0, none,
// needs no taker), and a glyph count out of range, which a loss that
// takes none would not check.
func (f *modelFlags) unusedLossFlag(names []string, dim int) error {
	if err := msg.CheckGlyphs(f.glyphs); err != nil {
		return inputError{err}
	}
	for _, flag := range append(slices.Clone(lossFlagNames), "easy-margin", "miner", "distance", "glyphs") {
		if !f.set(flag) || len(names) == 0 || flag == "glyphs" && f.glyphs == 0 {
			continue
		}
		if !slices.ContainsFunc(names, func(name string) bool { return lossTakes(name, dim, flag) }) {
			return badInput("--%s: none of the losses compared (%s) takes it", flag, strings.Join(names, ", "))
		}
	}
	return nil
}

// lossFlagsNote, for compare's losses at D = dim, names the loss flags
// that only some of them take, and those: "" when every loss takes every
// flag given.
func (f *modelFlags) lossFlagsNote(names []string, dim int) string {
	var parts []string
	note := func(flag, value string, takers []string) {
		if len(takers) > 0 && len(takers) < len(names) {
			parts = append(parts, fmt.Sprintf("--%s %s for %s", flag, value, strings.Join(takers, ", ")))
		}
	}
	takers := func(flag string) []string {
		var out []string
		for _, name := range names {
			if lossTakes(name, dim, flag) {
				out = append(out, name)
			}
		}
		return out
	}
	for _, flag := range append(slices.Clone(lossFlagNames), "easy-margin", "miner", "distance") {
		if f.set(flag) && (flag != "miner" && flag != "distance" || f.fs.Lookup(flag).Value.String() != "") {
			note(flag, f.fs.Lookup(flag).Value.String(), takers(flag))
		}
	}
	switch {
	case f.set("glyphs"):
		note("glyphs", fmt.Sprint(f.glyphs), takers("glyphs"))
	case f.glyphs > 0:
		note("glyphs", fmt.Sprintf("%d (the preset's)", f.glyphs), takers("glyphs"))
	}
	for _, name := range sortedKeys(f.presetLoss) {
		if !f.set(name) && slices.Contains(names, f.presetLossName) {
			note(name, fmt.Sprintf("%g (the preset's)", f.presetLoss[name]), []string{f.presetLossName})
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Loss flags not every loss takes: " + strings.Join(parts, "; ") + "."
}

// newLoss validates the loss flags and returns the loss.
func (f *modelFlags) newLoss() (core.Loss, error) {
	l, err := losses.New(f.lossConfig())
	if err != nil {
		return nil, inputError{err}
	}
	return l, nil
}

// spec returns the encoder spec for data set name, validated.
func (f *modelFlags) spec(data string) (core.Spec, error) {
	s := core.DefaultSpec(f.arch, f.dim)
	s.EmbedBN, s.FlipTest = f.embedBN, f.flipTest
	crop, err := parseCrop(f.crop)
	if err != nil {
		return s, err
	}
	s.Crop = crop
	if f.set("views") && strings.TrimSpace(f.views) == "" {
		return s, badInput("views %q: want %s (one encoder) or windows separated by commas", f.views, msg.ViewWhole)
	}
	if s.Views, err = msg.ParseViews(f.views); err != nil {
		return s, badInput("views %q: %v", f.views, err)
	}
	if len(s.Views) == 1 { // one window is a crop
		if crop != (core.Crop{}) {
			return s, badInput("--crop and --views %s: give the windows as views", f.views)
		}
		s.Crop, s.Views = s.Views[0], nil
	}
	switch {
	case f.input != "":
		in, err := parseInput(f.input)
		if err != nil {
			return s, err
		}
		s.Input.Channels, s.Input.Height, s.Input.Width = in[0], in[1], in[2]
	case data != "mnist":
		s.Input.Channels, s.Input.Height, s.Input.Width = 1, 32, 32
	}
	if data != "mnist" {
		// A folder of faces: normalise pixels in [0,1] to [−1,1].
		s.Input.Mean, s.Input.Std = 0.5, 0.5
	}
	if err := s.ValidateTraining(); err != nil {
		return s, inputError{err}
	}
	return s, nil
}

// optConfig returns the optimiser configuration for totalSteps steps.
func (f *modelFlags) optConfig(totalSteps int) (core.OptConfig, error) {
	if f.opt != "sgd" && f.opt != "adam" {
		return core.OptConfig{}, badInput("unknown optimiser %q (want sgd or adam)", f.opt)
	}
	c := core.DefaultOpt(f.opt)
	if f.lrSet() {
		c.LR = f.lr
	}
	if f.wdSet() {
		c.WeightDecay = f.wd
	}
	c = c.WithSchedule(f.schedule, totalSteps)
	if err := c.Validate(); err != nil {
		return c, inputError{err}
	}
	if f.batch < 2 || f.batch > 4096 {
		return c, badInput("batch %d out of range [2, 4096]", f.batch)
	}
	if f.threads < 0 || f.threads > 1024 {
		return c, badInput("threads %d out of range [0, 1024] (0: one per CPU)", f.threads)
	}
	return c, nil
}

// lrSet and wdSet report whether the learning rate and the weight decay
// were given, on the command line or by the preset.
func (f *modelFlags) lrSet() bool { return f.set("lr") || f.presetLR }
func (f *modelFlags) wdSet() bool { return f.set("wd") || f.presetWD }

// parseInput parses "CxHxW" (msg.ParseInput).
func parseInput(s string) ([3]int, error) {
	c, h, w, err := msg.ParseInput(s)
	if err != nil {
		return [3]int{}, badInput("%s", err)
	}
	return [3]int{c, h, w}, nil
}

// describeLoss is one line naming the loss and its parameters as used.
func describeLoss(l core.Loss) string { return msg.FormatLoss(l.Name(), l.Params()) }

// checkThreads refuses --threads, given, on a device that runs the CUDA
// engine alone (cuda, cuda-emu), which does not read it; auto may run
// either engine and takes it.
func (f *modelFlags) checkThreads(device string) error {
	if f.set("threads") && (device == "cuda" || device == "cuda-emu") {
		return badInput("--threads is the CPU engine's, and device %s runs the CUDA engine, which does not read it", device)
	}
	return nil
}

// maxMemoryDoc says how serve's --max-job-memory and the --max-memory of
// train, openset and compare bound a training's memory, and what 0 and
// -1 mean (checkMaxMemory, maxTrainBytes).
const maxMemoryDoc = "in bytes (an estimate from the model and the batch); 0: half of this machine's memory (or of its cgroup's limit; 8 GiB where neither can be read), -1: no bound"

// registerMaxMemory adds --max-memory, the bound of a training's memory,
// of train and, for each of their runs, openset and compare: a training
// that would take more is refused before any of it is allocated, in one
// line with the estimate, as serve refuses a job over --max-job-memory.
// Its usage is the bound's, then maxMemoryDoc.
func (f *modelFlags) registerMaxMemory(fs *flag.FlagSet, usage string) {
	fs.Int64Var(&f.maxMemory, "max-memory", 0, usage+", "+maxMemoryDoc)
}

// checkMaxMemory refuses a memory bound (--name) below -1.
func checkMaxMemory(name string, v int64) error {
	if v < -1 {
		return badInput("--%s %d: must be -1 (no bound), 0 (half of this machine's memory) or more", name, v)
	}
	return nil
}

// maxTrainBytes is job.Options.MaxTrainBytes of a training on device
// (resolveDevice's) under --max-memory: api.DefaultMaxJobMemory for 0,
// no bound for -1, and none on a GPU (job.Job.TrainBytes estimates the
// host's memory of the CPU engine), as serve bounds its CPU jobs alone.
func (f *modelFlags) maxTrainBytes(device string) int64 {
	switch {
	case device == "cuda" || f.maxMemory < 0:
		return 0
	case f.maxMemory == 0:
		return api.DefaultMaxJobMemory()
	}
	return f.maxMemory
}

// threadsDoc is the help of --threads (train, openset, bench, compare, serve).
const threadsDoc = "CPU threads of the native engine (0: one per CPU); results do not depend on it"

// windowed reports whether the encoder of the flags looks at windows of
// its images (--crop, or --views other than whole), which the CUDA engine
// does not do: auto then picks the CPU. Views that do not parse count as
// none here; spec refuses them.
func (f *modelFlags) windowed() bool {
	views, _ := msg.ParseViews(f.views)
	return f.crop != "" || len(views) > 0
}

// registerDevice adds the --device flag of train and bench.
func registerDevice(fs *flag.FlagSet) *string {
	return fs.String("device", "cpu", "cpu (the gorgonia engine), cuda (the CUDA engine on an NVIDIA GPU), auto (cuda when present, else cpu) or cuda-emu (the CUDA engine on a CPU emulation of its kernels, for tests: needs g++, slow)")
}

// checkDevice refuses a --device that is none of registerDevice's names:
// a check that needs no device, made where the flags are parsed.
func checkDevice(name string) error {
	switch name {
	case "cpu", "cuda-emu", "cuda", "auto":
		return nil
	}
	return badInput("unknown device %q (want cpu, cuda, auto or cuda-emu)", name)
}

// resolveDevice turns --device into the device that trains: "cpu",
// "cuda" or "cuda-emu". cuda fails with one line giving the CUDA
// library's reason when there is no GPU; auto falls back to the CPU with
// a note on stderr.
func resolveDevice(name string, stderr io.Writer) (string, error) {
	if err := checkDevice(name); err != nil {
		return "", err
	}
	if name == "cpu" || name == "cuda-emu" {
		return name, nil
	}
	_, err := probeCUDA()
	if err == nil {
		return "cuda", nil
	}
	// The line names the device already: "device cuda: libcuda.so.1 not
	// found: …", not "device cuda: cuda: libcuda.so.1 …".
	reason := strings.TrimPrefix(err.Error(), "cuda: ")
	if name == "cuda" {
		return "", badInput("device cuda: %s", reason)
	}
	fmt.Fprintf(stderr, "device auto: %s; using the CPU\n", reason)
	return "cpu", nil
}
