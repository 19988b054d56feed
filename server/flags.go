package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"metriclab/core"
	"metriclab/losses"
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
	threads    int

	fs *flag.FlagSet
	// lossValues are the loss parameters given on the command line, by name.
	lossValues map[string]*float64
}

// lossFlagNames are the loss parameters that have a flag of their own.
var lossFlagNames = []string{"s", "m", "m1", "m2", "m3", "alpha", "margin"}

func (f *modelFlags) register(fs *flag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.arch, "arch", "lenet-s", "encoder: "+strings.Join(core.ArchNames(), ", "))
	fs.StringVar(&f.loss, "loss", "arcface", "loss: "+strings.Join(losses.Names(), ", "))
	fs.IntVar(&f.dim, "dim", 3, "embedding dimension D, 2..512")
	fs.IntVar(&f.batch, "batch", 64, "batch size")
	fs.Float64Var(&f.lr, "lr", 0, fmt.Sprintf("learning rate (default %g for adam, %g for sgd)", core.DefaultOpt("adam").LR, core.DefaultOpt("sgd").LR))
	fs.StringVar(&f.opt, "opt", "adam", "optimiser: sgd (momentum 0.9, weight decay 5e-4) or adam")
	fs.StringVar(&f.schedule, "schedule", "cosine", "learning-rate schedule: constant, step or cosine")
	fs.StringVar(&f.input, "input", "", "input shape CxHxW (default 1x28x28 for mnist, 1x32x32 for a folder)")
	fs.StringVar(&f.miner, "miner", "", "triplet miner: all, hard, semihard or easy")
	fs.StringVar(&f.distance, "distance", "", "contrastive and triplet distance: euclidean or cosine")
	fs.BoolVar(&f.easyMargin, "easy-margin", false, "arcface: apply the margin only where cos θ > 0")
	fs.Int64Var(&f.seed, "seed", 1, "random seed (weights, shuffling, pairs)")
	fs.IntVar(&f.threads, "threads", 0, threadsDoc)
	f.lossValues = make(map[string]*float64, len(lossFlagNames))
	for _, name := range lossFlagNames {
		f.lossValues[name] = fs.Float64(name, 0, "loss parameter "+name+" (see the loss's doc; default depends on the loss and D)")
	}
}

// set reports whether the named flag was given on the command line.
func (f *modelFlags) set(name string) bool {
	found := false
	f.fs.Visit(func(fl *flag.Flag) {
		if fl.Name == name {
			found = true
		}
	})
	return found
}

// lossConfig returns the loss configuration with only the parameters the user
// set, so that the loss fills in its own defaults for D.
func (f *modelFlags) lossConfig() losses.Config {
	c := losses.Config{Name: f.loss, Dim: f.dim, Values: map[string]float64{}, Miner: f.miner, Distance: f.distance}
	for name, v := range f.lossValues {
		if f.set(name) {
			c.Values[name] = *v
		}
	}
	if f.set("easy-margin") {
		c.Values["easy_margin"] = 0
		if f.easyMargin {
			c.Values["easy_margin"] = 1
		}
	}
	return c
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
	if err := s.Validate(); err != nil {
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
	if f.set("lr") {
		c.LR = f.lr
	}
	c.Schedule = f.schedule
	c.TotalSteps = totalSteps
	c.StepEvery = max(1, totalSteps/3)
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

// parseInput parses "CxHxW".
func parseInput(s string) ([3]int, error) {
	var in [3]int
	parts := strings.Split(s, "x")
	if len(parts) != 3 {
		return in, badInput("input %q: want CxHxW, e.g. 1x32x32", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return in, badInput("input %q: %q is not a positive integer", s, p)
		}
		in[i] = n
	}
	return in, nil
}

// describeLoss is one line naming the loss and its parameters as used.
func describeLoss(l core.Loss) string {
	var b strings.Builder
	b.WriteString(l.Name())
	for _, name := range sortedKeys(l.Params()) {
		fmt.Fprintf(&b, " %s=%g", name, l.Params()[name])
	}
	return b.String()
}

// threadsDoc is the help of --threads (train, bench, compare, serve).
const threadsDoc = "CPU threads of the native engine (0: one per CPU); results do not depend on it"

// registerDevice adds the --device flag of train and bench.
func registerDevice(fs *flag.FlagSet) *string {
	return fs.String("device", "cpu", "cpu (the gorgonia engine), cuda (the CUDA engine on an NVIDIA GPU), auto (cuda when present, else cpu) or cuda-emu (the CUDA engine on a CPU emulation of its kernels, for tests: needs g++, slow)")
}

// resolveDevice turns --device into the device that trains: "cpu",
// "cuda" or "cuda-emu". cuda fails with one line giving the CUDA
// library's reason when there is no GPU; auto falls back to the CPU with
// a note on stderr.
func resolveDevice(name string, stderr io.Writer) (string, error) {
	switch name {
	case "cpu", "cuda-emu":
		return name, nil
	case "cuda", "auto":
	default:
		return "", badInput("unknown device %q (want cpu, cuda, auto or cuda-emu)", name)
	}
	_, err := probeCUDA()
	if err == nil {
		return "cuda", nil
	}
	if name == "cuda" {
		return "", badInput("device cuda: %v", err)
	}
	fmt.Fprintf(stderr, "device auto: %v; using the CPU\n", err)
	return "cpu", nil
}
