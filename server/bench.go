package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"metriclab/core"
	"metriclab/core/job"
	"metriclab/core/msg"
)

// benchResult is what `bench --json` prints.
type benchResult struct {
	Peer     string  `json:"peer"` // "metriclab-VERSION", as the peers' scripts name themselves
	Device   string  `json:"device"`
	TF32     bool    `json:"tf32,omitempty"`
	Resident bool    `json:"resident,omitempty"`
	Threads  int     `json:"threads"` // the CPU engine's; 0 on a cuda device
	Input    string  `json:"input"`   // CxHxW
	Arch     string  `json:"arch"`
	Loss     string  `json:"loss"`
	Dim      int     `json:"dim"`
	Views    string  `json:"views,omitempty"` // an encoder of views (--views): a step steps them all
	Batch    int     `json:"batch"`
	Steps    int     `json:"steps"`
	ImgPerS  float64 `json:"img_per_s"`
	// ImgPerCPUS is images per second of the process's CPU time (all
	// threads): on a machine shared with other work it holds where
	// img_per_s drops; at one thread the two agree on a quiet machine.
	ImgPerCPUS float64 `json:"img_per_cpu_s,omitempty"`
	MsStep     float64 `json:"ms_per_step"`
}

// benchFlags are bench's flags, parsed and checked (parseBench), and the
// loss, encoder and optimiser they make.
type benchFlags struct {
	mf                      modelFlags
	device                  string
	classes, warmup         int
	seconds                 float64
	tf32, resident, jsonOut bool

	loss core.Loss
	spec core.Spec
	opt  core.OptConfig
}

// parseBench parses bench's flags and refuses what needs no device to be
// found wrong: the flags' syntax, the flags bench does not measure, the
// preset, the device's name, the values of the flags, the loss, encoder
// and optimiser they make, and a batch that train refuses for the loss
// (job.CheckBatch). The device itself is cmdBench's to
// find.
func parseBench(args []string, stdout io.Writer) (*benchFlags, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	f := &benchFlags{}
	mf := &f.mf
	mf.register(fs)
	// train's help of these flags speaks of a data set, which bench has
	// not: it measures steps on a random batch.
	fs.Lookup("input").Usage = fmt.Sprintf("input shape CxHxW of the random images: 1 or 3 channels, sides of at most 256 pixels (default: --preset's, else the architecture's, %s for %s, else %s)",
		formatInput(core.NativeInput(core.ArchIResNet)), core.ArchIResNet, formatInput(core.NativeInput("")))
	fs.Lookup("seed").Usage = "random seed (weights, the random batch)"
	for _, name := range benchUnmeasured {
		refuseFlag(fs, name, "not measured, so refused: bench times the engine's training steps on random images")
	}
	device := registerDevice(fs)
	fs.IntVar(&f.classes, "classes", 10, "number of classes of the loss head")
	fs.Float64Var(&f.seconds, "seconds", 5, fmt.Sprintf("measure for about this long, after warm-up (at most %d: a throughput settles within seconds; a longer run is train's)", maxBenchSeconds))
	fs.IntVar(&f.warmup, "warmup", 5, fmt.Sprintf("steps run before measuring, 1..%d (the engine's buffers and the device's kernels are ready after the first few)", maxBenchWarmup))
	fs.BoolVar(&f.tf32, "tf32", false, "cuda: let cuBLAS use TF32 tensor cores (as PyTorch's convolutions do by default)")
	fs.BoolVar(&f.resident, "resident", false, "cuda: copy the batch to the device once and train on it at every step (as synthetic GPU benchmarks do); by default every step copies it from host memory")
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON object")
	if err := parseFlags(fs, args, stdout); err != nil {
		return nil, err
	}
	for _, name := range benchUnmeasured {
		if mf.set(name) {
			return nil, badInput("--%s is not measured: bench times the engine's training steps on random images", name)
		}
	}
	// A preset's input is the one its encoder trains on (a folder's: bench
	// has no data set).
	if err := mf.applyPreset("", nil); err != nil {
		return nil, err
	}
	f.device = *device
	if err := checkDevice(f.device); err != nil {
		return nil, err
	}
	if mf.windowed() {
		switch f.device {
		case "auto":
			f.device = "cpu" // the CUDA engine has no crop, so no views
		case "cuda", "cuda-emu":
			return nil, badInput("device %s: the CUDA engine has no crop, so no views: bench them on the cpu (or give --views whole)", f.device)
		}
	}
	// A flag of one engine is refused on a device that never runs it, by
	// the device asked for: auto, the CUDA engine where a GPU is found and
	// else the CPU's, takes the flags of both, and the result says which
	// applied (its device, tf32, resident and threads).
	if f.resident && f.device == "cpu" {
		return nil, badInput("--resident is for the cuda devices: the CPU engine reads the batch from host memory")
	}
	if f.tf32 && (f.device == "cpu" || f.device == "cuda-emu") {
		return nil, badInput("--tf32 is for the cuda device: the %s computes in float32", map[string]string{"cpu": "CPU engine", "cuda-emu": "CPU emulation of the kernels"}[f.device])
	}
	if err := mf.checkThreads(f.device); err != nil {
		return nil, err
	}
	if f.classes < 2 || f.classes > 100000 {
		return nil, badInput("classes %d out of range [2, 100000]", f.classes)
	}
	if !(f.seconds > 0) || math.IsInf(f.seconds, 1) {
		return nil, badInput("seconds %g: want a finite value > 0", f.seconds)
	}
	if f.seconds > maxBenchSeconds {
		return nil, badInput("--seconds %g: at most %d (a throughput settles within seconds; train measures a longer run)", f.seconds, maxBenchSeconds)
	}
	if f.warmup < 1 || f.warmup > maxBenchWarmup {
		return nil, badInput("--warmup %d: want 1 to %d steps", f.warmup, maxBenchWarmup)
	}
	var err error
	if f.loss, err = mf.newLoss(); err != nil {
		return nil, err
	}
	if err := job.CheckBatch(f.loss, mf.batch); err != nil { // as train refuses it
		return nil, inputError{err}
	}
	if f.spec, err = mf.spec("mnist"); err != nil {
		return nil, err
	}
	if mf.input == "" { // the architecture's own input, as the peers use
		f.spec.Input = core.NativeInput(mf.arch)
	}
	if f.opt, err = mf.optConfig(1 << 30); err != nil {
		return nil, err
	}
	return f, nil
}

// Bounds of bench's --seconds and --warmup: a measurement of an hour, or
// a warm-up of a thousand steps (iresnet18 on the CPU: a quarter of an
// hour), is a training run, not a benchmark; beyond them a typo (1e12
// seconds, 1e9 steps) would run until killed.
const (
	maxBenchSeconds = 3600
	maxBenchWarmup  = 1000
)

// benchUnmeasured are the flags of train that bench refuses: what they
// change is the data, or the learning rate over a run (--schedule: bench
// makes no run, its schedule spans 2^30 steps), not the engine's steps.
var benchUnmeasured = []string{"augment", "compose", "turns", "glyphs", "early-stop", "flip-test", "schedule"}

// formatInput is in's shape as --input gives it, CxHxW.
func formatInput(in core.Input) string {
	return fmt.Sprintf("%dx%dx%d", in.Channels, in.Height, in.Width)
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseBench(args, stdout)
	if err != nil {
		return err
	}
	mf, loss, spec, opt := &f.mf, f.loss, f.spec, f.opt
	dev, err := resolveDevice(f.device, stderr)
	if err != nil {
		return err
	}
	cfg := core.TrainConfig{Batch: mf.batch, Classes: f.classes, Opt: opt, Seed: mf.seed, Threads: mf.threads}
	var tr core.Engine
	if len(spec.Views) > 0 {
		ls := []core.Loss{loss}
		for range spec.Views[1:] {
			l, _ := mf.newLoss() // as the first
			ls = append(ls, l)
		}
		tr, err = core.NewViews(spec, ls, cfg, engineFor(dev, f.tf32))
	} else {
		tr, err = engineFor(dev, f.tf32)(spec, loss, cfg)
	}
	if err != nil {
		return err
	}
	if c, ok := tr.(io.Closer); ok {
		defer c.Close()
	}
	// Random images, as the peers' benchmark uses, and labels.
	rng := rand.New(rand.NewPCG(uint64(mf.seed), 0))
	x := make([]float32, mf.batch*spec.Input.Size())
	for i := range x {
		x[i] = rng.Float32()
	}
	labels := benchLabels(loss, mf.batch, f.classes)
	// The warm-up alone takes a minute for iresnet18 on the CPU: one line
	// says what runs, as openset and compare name each run as it starts.
	fmt.Fprintf(stderr, "warming up: %s, then measuring for %g s\n", msg.Plural(f.warmup, "step", "steps"), f.seconds)
	step := func() error { _, err := tr.Step(x, labels); return err }
	if again, ok := tr.(interface{ StepAgain() (float64, error) }); ok && f.resident {
		if _, err := tr.Step(x, labels); err != nil {
			return err
		}
		step = func() error { _, err := again.StepAgain(); return err }
	}
	report, done := warmupProgress(stderr, !f.jsonOut && isTerminal(stderr))
	for i := 0; i < f.warmup; i++ {
		report(i, f.warmup)
		if err := ctx.Err(); err != nil {
			done()
			return err
		}
		if err := step(); err != nil {
			done()
			return err
		}
	}
	done()
	start, cpu0 := time.Now(), cpuTime()
	steps := 0
	for steps == 0 || time.Since(start).Seconds() < f.seconds { // one step at least
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := step(); err != nil {
			return err
		}
		steps++
	}
	el, cpu := time.Since(start).Seconds(), (cpuTime() - cpu0).Seconds()
	in := spec.Input
	threads := 0
	if th, ok := tr.(interface{ Threads() int }); ok {
		threads = th.Threads()
	}
	r := benchResult{Peer: "metriclab-" + version, Device: dev, TF32: f.tf32 && dev == "cuda", Resident: f.resident && dev != "cpu", Threads: threads,
		Input: formatInput(in), Arch: mf.arch, Loss: loss.Name(), Dim: mf.dim, Views: msg.FormatViews(spec.Views), Batch: mf.batch, Steps: steps,
		ImgPerS: float64(steps*mf.batch) / el, MsStep: 1000 * el / float64(steps)}
	if cpu > 0 {
		r.ImgPerCPUS = float64(steps*mf.batch) / cpu
	}
	if f.jsonOut {
		return json.NewEncoder(stdout).Encode(r)
	}
	views := ""
	if r.Views != "" {
		views = " views " + r.Views
	}
	device := r.Device
	if r.Threads > 0 { // the CPU engine's
		device += " (" + msg.Plural(r.Threads, "thread", "threads") + ")"
	}
	fmt.Fprintf(stdout, "%s %s %s %s D=%d%s batch %d: %.1f img/s (%.2f ms/step over %s)\n",
		device, r.Arch, r.Input, r.Loss, r.Dim, views, r.Batch, r.ImgPerS, r.MsStep, msg.Plural(r.Steps, "step", "steps"))
	return nil
}

// benchLabels returns the labels of bench's batch of batch images among
// classes: P classes of K images for a loss of P×K batches, as train
// draws them (job.BatchPK), so that triplet's step has its positives and
// negatives; else the classes in turn, as the peers' benchmark labels its
// random images.
func benchLabels(loss core.Loss, batch, classes int) []int {
	labels := make([]int, batch)
	_, k, pk := job.BatchPK(loss, batch, classes)
	for i := range labels {
		if pk {
			labels[i] = i / k
		} else {
			labels[i] = i % classes
		}
	}
	return labels
}
