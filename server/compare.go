package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/eval"
	"metriclab/core/job"
	"metriclab/core/msg"
	"metriclab/losses"
)

// compareRow is one loss at one D, trained and evaluated closed-set and
// open-set.
type compareRow struct {
	Loss   string      `json:"loss"`
	Dim    int         `json:"dim"`             // of the loss; of each view with Views
	Views  string      `json:"views,omitempty"` // the windows of an encoder of views (--views)
	Closed eval.Report `json:"closed"`
	Open   eval.Report `json:"open"`
	TrainS float64     `json:"train_s"`
}

func cmdCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	// --loss and --dim are train's, refused here with a pointer to
	// --losses and --dims; their usage says so.
	fs.Lookup("loss").Usage = "not for compare, which trains the losses of --losses (refused)"
	fs.Lookup("dim").Usage = "not for compare, which trains at the dimensions of --dims (refused)"
	lossList := fs.String("losses", "all", "comma-separated losses, all, or none (the baselines alone)")
	dimList := fs.String("dims", "3,64", "comma-separated embedding dimensions")
	epochs := fs.Int("epochs", 2, "epochs per run")
	trainClasses := fs.String("open-train", "0-4", "open set: classes to train on")
	evalClasses := fs.String("open-eval", "5-9", "open set: unseen classes to evaluate on")
	jsonOut := fs.Bool("json", false, "print one JSON object per run instead of the table")
	baselines := fs.Bool("baselines", true, "add the rows of raw pixels: cosine, PCA then whitening, learned linear metric")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	// compare sets the loss and D of every run from --losses and --dims:
	// train's --loss and --dim would be ignored.
	if mf.set("loss") {
		return badInput("--loss: compare trains the losses of --losses; give --losses %s", mf.loss)
	}
	if mf.set("dim") {
		return badInput("--dim: compare trains at the dimensions of --dims; give --dims %d", mf.dim)
	}
	if err := mf.applyPreset("mnist", epochs); err != nil {
		return err
	}
	names := losses.Names()
	switch strings.TrimSpace(*lossList) {
	case "all":
	case "none": // the baselines alone
		if !*baselines {
			return badInput("--losses none compares the baselines alone, and --baselines=false leaves them out: nothing to compare")
		}
		names = nil
	default:
		names = splitList(*lossList)
		if i := repeated(names); i >= 0 {
			return badInput("losses %q: %s is listed twice", *lossList, names[i])
		}
	}
	var dims []int
	for _, s := range splitList(*dimList) {
		d, err := strconv.Atoi(s)
		if err != nil {
			return badInput("dims %q: %q is not an integer", *dimList, s)
		}
		dims = append(dims, d)
	}
	if i := repeated(dims); i >= 0 {
		return badInput("dims %q: %d is listed twice", *dimList, dims[i])
	}
	// Validate every combination before the first hour of training: the
	// loss flags, each taken by some listed loss, the loss and the
	// encoder of each, and the rest, which they share, by preparing the
	// first one's closed-set and open-set training.
	mf.shared = true
	if err := mf.unusedLossFlag(names, dims[0]); err != nil {
		return err
	}
	for _, name := range names {
		for _, d := range dims {
			mf.loss, mf.dim = name, d
			l, err := mf.newLoss()
			if err != nil {
				return err
			}
			if err := job.CheckBatch(l, mf.batch); err != nil { // before any training: only the first loss is prepared below
				return inputError{err}
			}
			if _, err := mf.spec("mnist"); err != nil {
				return err
			}
		}
	}
	for _, classes := range []string{*trainClasses, *evalClasses} {
		if _, err := data.TrainClasses(classes, data.Numbered(10)); err != nil {
			return inputError{err}
		}
	}
	if err := disjointClasses("open-train", "open-eval", *trainClasses, *evalClasses, data.Numbered(10)); err != nil {
		return err
	}
	if len(names) > 0 {
		mf.loss, mf.dim = names[0], dims[0]
		for _, classes := range []string{"", *trainClasses} {
			cfg, err := prepareTraining(&mf, plainSource, "mnist", "train", classes, *epochs, 5000, "cpu")
			if err != nil {
				return err
			}
			cfg.job.Close()
		}
		if _, err := plainSource.loadSubset("mnist", "test", *evalClasses, core.MNISTInput); err != nil {
			return err
		}
	}
	views, _ := msg.ParseViews(mf.views) // prepareTraining checked them
	if len(views) == 1 {
		views = nil // one window is a crop
	}
	if !*jsonOut {
		arch := mf.arch
		if len(views) > 0 {
			arch += " of views " + msg.FormatViews(views)
		}
		fmt.Fprintf(stdout, "%s on MNIST, %s, batch %d, %s; closed set: all classes; open set: train %s, evaluate %s.\n",
			arch, msg.Plural(*epochs, "epoch", "epochs"), mf.batch, mf.opt, *trainClasses, *evalClasses)
		if note := mf.lossFlagsNote(names, dims[0]); note != "" {
			fmt.Fprintln(stdout, note)
		}
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, "| loss | D | closed-set acc | verif. acc | EER | MAP@R | open: verif. acc | open: EER | open: MAP@R |")
		fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|")
	}
	emit := func(row compareRow) {
		if *jsonOut {
			json.NewEncoder(stdout).Encode(row)
			return
		}
		c, o := row.Closed, row.Open
		d := strconv.Itoa(row.Dim)
		if row.Views != "" {
			d = fmt.Sprintf("%d×%d", strings.Count(row.Views, ",")+1, row.Dim)
		}
		fmt.Fprintf(stdout, "| %s | %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n", row.Loss, d,
			c.ClosedSet.Accuracy, c.Verification.Accuracy, c.Verification.EER, c.Retrieval.MAPAtR,
			o.Verification.Accuracy, o.Verification.EER, o.Retrieval.MAPAtR)
	}
	if *baselines {
		for _, metric := range []string{"cosine", "whiten", "linear"} {
			row, err := rawCompareRow(metric, *trainClasses, *evalClasses, mf.seed)
			if err != nil {
				return err
			}
			emit(row)
		}
	}
	run, runs := 0, 2*len(names)*len(dims) // a closed-set and an open-set training each
	for _, name := range names {
		for _, d := range dims {
			mf.loss, mf.dim = name, d
			start := time.Now()
			run++
			report, done := runProgress(stderr, isTerminal(stderr), run, runs, fmt.Sprintf("%s D=%d", name, d))
			closed, err := trainEval(ctx, &mf, *epochs, "", "", report)
			done()
			if err != nil {
				return fmt.Errorf("%s D=%d: %w", name, d, err)
			}
			run++
			report, done = runProgress(stderr, isTerminal(stderr), run, runs, fmt.Sprintf("%s D=%d open set", name, d))
			open, err := trainEval(ctx, &mf, *epochs, *trainClasses, *evalClasses, report)
			done()
			if err != nil {
				return fmt.Errorf("%s D=%d open set: %w", name, d, err)
			}
			emit(compareRow{Loss: name, Dim: d, Views: msg.FormatViews(views), Closed: closed, Open: open, TrainS: time.Since(start).Seconds()})
		}
	}
	return nil
}

// rawCompareRow evaluates raw MNIST pixels with a metric: closed set, the
// metric fitted on (and the class centres from) 10,000 training images of
// every class; open set, the metric fitted on the training images of the
// classes trainClasses, evaluated on the test images of evalClasses.
func rawCompareRow(metric, trainClasses, evalClasses string, seed int64) (compareRow, error) {
	report := func(fitSpec, testSpec string, centres bool) (eval.Report, error) {
		fit, err := plainSource.loadSubset("mnist", "train", fitSpec, core.MNISTInput)
		if err != nil {
			return eval.Report{}, err
		}
		_, fit = job.HoldOut(fit, fitSize, seed)
		test, err := plainSource.loadSubset("mnist", "test", testSpec, core.MNISTInput)
		if err != nil {
			return eval.Report{}, err
		}
		fitE, testE := rawEmbeddings(fit), rawEmbeddings(test)
		m, err := fitMetric(metric, fitE, 32, seed)
		if err != nil {
			return eval.Report{}, err
		}
		if !centres {
			fitE = eval.Embeddings{}
		}
		return eval.Evaluate(fitE, testE, m, eval.Options{Folds: 10, PairsPerFold: 300, Seed: seed}), nil
	}
	closed, err := report("", "", true)
	if err != nil {
		return compareRow{}, err
	}
	open, err := report(trainClasses, evalClasses, false)
	if err != nil {
		return compareRow{}, err
	}
	dim := map[string]int{"cosine": 784, "whiten": 32, "linear": 64}[metric]
	return compareRow{Loss: "raw pixels, " + metricLabel(metric), Dim: dim, Closed: closed, Open: open}, nil
}

// rawEmbeddings are the pixels of s as embeddings.
func rawEmbeddings(s *data.Set) eval.Embeddings {
	return eval.Embeddings{X: s.X, N: s.N, D: s.Input.Size(), Labels: s.Labels}
}

// trainEval trains on MNIST's training classes, telling report its
// progress, and evaluates on the test images of the evaluation classes (the
// same when evalClasses is empty).
func trainEval(ctx context.Context, mf *modelFlags, epochs int, trainClasses, evalClasses string, report func(progress)) (eval.Report, error) {
	cfg, err := prepareTraining(mf, plainSource, "mnist", "train", trainClasses, epochs, 5000, "cpu")
	if err != nil {
		return eval.Report{}, err
	}
	m, err := train(ctx, cfg, report)
	if err != nil {
		return eval.Report{}, err
	}
	if evalClasses == "" {
		evalClasses = trainClasses
	}
	test, err := plainSource.loadSubset("mnist", "test", evalClasses, cfg.spec.Input)
	if err != nil {
		return eval.Report{}, err
	}
	gallery, err := plainSource.loadSubset("mnist", "train", evalClasses, cfg.spec.Input)
	if err != nil {
		return eval.Report{}, err
	}
	_, gallery = job.HoldOut(gallery, 10000, mf.seed)
	testE, err := job.EmbedSet(cfg.spec, m.Params, test)
	if err != nil {
		return eval.Report{}, err
	}
	galleryE, err := job.EmbedSet(cfg.spec, m.Params, gallery)
	if err != nil {
		return eval.Report{}, err
	}
	return eval.Evaluate(galleryE, testE, eval.Cosine{}, eval.Options{Folds: 10, PairsPerFold: 300, Seed: mf.seed}), nil
}
