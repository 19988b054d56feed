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

	"metriclab/core/eval"
	"metriclab/core/job"
	"metriclab/losses"
)

// compareRow is one loss at one D, trained and evaluated closed-set and
// open-set.
type compareRow struct {
	Loss   string      `json:"loss"`
	Dim    int         `json:"dim"`
	Closed eval.Report `json:"closed"`
	Open   eval.Report `json:"open"`
	TrainS float64     `json:"train_s"`
}

func cmdCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	lossList := fs.String("losses", "all", "comma-separated losses, or all")
	dimList := fs.String("dims", "3,64", "comma-separated embedding dimensions")
	epochs := fs.Int("epochs", 2, "epochs per run")
	trainClasses := fs.String("open-train", "0-4", "open set: classes to train on")
	evalClasses := fs.String("open-eval", "5-9", "open set: unseen classes to evaluate on")
	jsonOut := fs.Bool("json", false, "print one JSON object per run instead of the table")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	names := losses.Names()
	if *lossList != "all" {
		names = strings.Split(*lossList, ",")
	}
	var dims []int
	for _, s := range strings.Split(*dimList, ",") {
		d, err := strconv.Atoi(s)
		if err != nil {
			return badInput("dims %q: %q is not an integer", *dimList, s)
		}
		dims = append(dims, d)
	}
	// Validate every combination before the first hour of training.
	for _, name := range names {
		for _, d := range dims {
			mf.loss, mf.dim = name, d
			if _, err := mf.newLoss(); err != nil {
				return err
			}
		}
	}
	if !*jsonOut {
		fmt.Fprintf(stdout, "%s on MNIST, %d epochs, batch %d, %s; closed set: all classes; open set: train %s, evaluate %s.\n\n",
			mf.arch, *epochs, mf.batch, mf.opt, *trainClasses, *evalClasses)
		fmt.Fprintln(stdout, "| loss | D | closed-set acc | verif. acc | EER | MAP@R | open: verif. acc | open: EER | open: MAP@R |")
		fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|")
	}
	for _, name := range names {
		for _, d := range dims {
			mf.loss, mf.dim = name, d
			start := time.Now()
			closed, err := trainEval(ctx, &mf, *epochs, "", "")
			if err != nil {
				return fmt.Errorf("%s D=%d: %w", name, d, err)
			}
			open, err := trainEval(ctx, &mf, *epochs, *trainClasses, *evalClasses)
			if err != nil {
				return fmt.Errorf("%s D=%d open set: %w", name, d, err)
			}
			row := compareRow{Loss: name, Dim: d, Closed: closed, Open: open, TrainS: time.Since(start).Seconds()}
			if *jsonOut {
				json.NewEncoder(stdout).Encode(row)
				continue
			}
			c, o := closed, open
			fmt.Fprintf(stdout, "| %s | %d | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n", name, d,
				c.ClosedSet.Accuracy, c.Verification.Accuracy, c.Verification.EER, c.Retrieval.MAPAtR,
				o.Verification.Accuracy, o.Verification.EER, o.Retrieval.MAPAtR)
		}
	}
	return nil
}

// trainEval trains on MNIST's training classes and evaluates on the test
// images of the evaluation classes (the same when evalClasses is empty).
func trainEval(ctx context.Context, mf *modelFlags, epochs int, trainClasses, evalClasses string) (eval.Report, error) {
	cfg, err := prepareTraining(mf, "mnist", trainClasses, epochs, 5000, "compare.safetensors", "cpu")
	if err != nil {
		return eval.Report{}, err
	}
	m, err := train(ctx, cfg, func(progress) {})
	if err != nil {
		return eval.Report{}, err
	}
	if evalClasses == "" {
		evalClasses = trainClasses
	}
	test, err := loadSubset("mnist", "test", evalClasses, cfg.spec.Input)
	if err != nil {
		return eval.Report{}, err
	}
	gallery, err := loadSubset("mnist", "train", evalClasses, cfg.spec.Input)
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
