package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
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

// compareFlags are compare's flags, parsed and checked (parseCompare),
// and the losses and dimensions of its runs.
type compareFlags struct {
	mf                        modelFlags
	names                     []string
	dims                      []int
	epochs                    int
	trainClasses, evalClasses string
	jsonOut, baselines        bool
}

// parseCompare parses compare's flags and refuses, before any data is
// loaded, what they get wrong: the lists, each loss flag taken by some
// listed loss, checkTraining's checks for every loss at every D, and the
// classes of the open set. What depends on MNIST's images is cmdCompare's
// to check.
func parseCompare(args []string, stdout io.Writer) (*compareFlags, error) {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	f := &compareFlags{}
	mf := &f.mf
	mf.register(fs)
	// --loss and --dim are train's, refused here with a pointer to
	// --losses and --dims; their usage says so.
	refuseFlag(fs, "loss", "not for compare, which trains the losses of --losses (refused)")
	refuseFlag(fs, "dim", "not for compare, which trains at the dimensions of --dims (refused)")
	fs.Lookup("flip-test").Usage = flipTestUsage + " (every run evaluated so)"
	fs.Lookup("batch").Usage = "batch size; when not given (the preset's or this default), lowered to the training images when they are fewer, and stderr says so"
	fs.Lookup("input").Usage = "input shape CxHxW: compare trains on mnist, whose images are 1x28x28 (the default, and the only shape taken)"
	lossList := fs.String("losses", "all", "comma-separated losses, all, or none (the baselines alone)")
	dimList := fs.String("dims", "3,64", "comma-separated embedding dimensions (with --preset: its D)")
	fs.IntVar(&f.epochs, "epochs", 2, "epochs per run")
	fs.StringVar(&f.trainClasses, "open-train", "0-4", "open set: classes to train on")
	fs.StringVar(&f.evalClasses, "open-eval", "5-9", "open set: unseen classes to evaluate on")
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON object per row instead of the table")
	fs.BoolVar(&f.baselines, "baselines", true, "add the rows of raw pixels: cosine, PCA then whitening, learned linear metric")
	mf.registerMaxMemory(fs, "largest memory each run's training may take (the runs train one at a time, and each is checked before the first trains)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return nil, err
	}
	if err := checkMaxMemory("max-memory", mf.maxMemory); err != nil {
		return nil, err
	}
	mf.fitBatch = !mf.set("batch") // as train's
	// compare sets the loss and D of every run from --losses and --dims:
	// train's --loss and --dim would be ignored.
	if mf.set("loss") {
		return nil, badInput("--loss: compare trains the losses of --losses; give --losses %s", mf.loss)
	}
	if mf.set("dim") {
		return nil, badInput("--dim: compare trains at the dimensions of --dims; give --dims %d", mf.dim)
	}
	// With --losses none nothing trains to refuse another shape: the
	// baselines would take mnist's images as they are.
	if mf.set("input") {
		in, err := parseInput(mf.input)
		if err != nil {
			return nil, err
		}
		if m := core.MNISTInput; in != [3]int{m.Channels, m.Height, m.Width} {
			return nil, badInput("--input %s: compare trains on mnist, whose images are %s only", mf.input, formatInput(m))
		}
	}
	if err := mf.applyPreset("mnist", &f.epochs); err != nil {
		return nil, err
	}
	// A preset's D is that of the runs unless --dims is given, as it is
	// train's unless --dim is.
	if p, ok := msg.PresetByName(mf.preset); ok && p.Request.Dim > 0 && !flagGiven(fs, "dims") {
		*dimList = strconv.Itoa(p.Request.Dim)
	}
	f.names = losses.Names()
	switch strings.TrimSpace(*lossList) {
	case "all":
	case "none": // the baselines alone
		if !f.baselines {
			return nil, badInput("--losses none compares the baselines alone, and --baselines=false leaves them out: nothing to compare")
		}
		// Nothing trains: a flag of the training would go unread, and
		// its value unchecked.
		var unread []string
		fs.Visit(func(fl *flag.Flag) {
			if !slices.Contains(baselineFlags, fl.Name) {
				unread = append(unread, "--"+fl.Name)
			}
		})
		if len(unread) > 0 {
			return nil, badInput("--losses none trains nothing (the baselines alone): %s would go unread", strings.Join(unread, ", "))
		}
		f.names = nil
	default:
		f.names = splitList(*lossList)
		if i := repeated(f.names); i >= 0 {
			return nil, badInput("losses %q: %s is listed twice", *lossList, f.names[i])
		}
	}
	for _, s := range splitList(*dimList) {
		d, err := strconv.Atoi(s)
		if err != nil {
			return nil, badInput("dims %q: %q is not an integer", *dimList, s)
		}
		f.dims = append(f.dims, d)
	}
	if i := repeated(f.dims); i >= 0 {
		return nil, badInput("dims %q: %d is listed twice", *dimList, f.dims[i])
	}
	// Validate every combination before the first hour of training: the
	// loss flags, each taken by some listed loss, and the training of
	// each loss at each D but for its data, which cmdCompare checks by
	// preparing the first one's closed-set and open-set training.
	mf.shared = true
	if err := mf.unusedLossFlag(f.names, f.dims[0]); err != nil {
		return nil, err
	}
	for _, name := range f.names {
		for _, d := range f.dims {
			mf.loss, mf.dim = name, d
			if _, err := checkTraining(mf, "mnist", f.epochs, 5000); err != nil {
				return nil, err
			}
		}
	}
	for _, c := range []struct{ flag, spec string }{{"open-train", f.trainClasses}, {"open-eval", f.evalClasses}} {
		if _, err := data.TrainClasses(c.spec, mnistDigits); err != nil {
			return nil, classesFlagError(c.flag, c.spec, err)
		}
	}
	if err := disjointClasses(classesLabel("open-train", flagGiven(fs, "open-train")), classesLabel("open-eval", flagGiven(fs, "open-eval")), f.trainClasses, f.evalClasses, mnistDigits); err != nil {
		return nil, err
	}
	return f, nil
}

// mnistDigits is MNIST's classes as data.ClassNames lists them, the
// listing every selection of compare, which trains and evaluates on MNIST
// alone, is checked on and every load must have (checkLoaded).
var mnistDigits = data.Numbered(10)

// baselineFlags are the flags that compare --losses none reads: the
// baselines' pairs and sample (--seed), the classes of the open set, what
// it prints, and mnist's own shape (--input, checked above).
var baselineFlags = []string{"losses", "baselines", "open-train", "open-eval", "seed", "json", "input"}

func cmdCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseCompare(args, stdout)
	if err != nil {
		return err
	}
	mf, names, dims := &f.mf, f.names, f.dims
	if len(names) > 0 {
		mf.loss, mf.dim = names[0], dims[0]
		for _, classes := range []string{"", f.trainClasses} {
			cfg, err := prepareTraining(mf, plainSource, "mnist", "train", classes, mnistDigits, f.epochs, 5000, "cpu")
			if err != nil {
				return err
			}
			if note := cfg.job.Note(); note != "" {
				fmt.Fprintf(stderr, "%s: %s\n", map[bool]string{true: "closed set", false: "open set"}[classes == ""], note) // the batch lowered to the training images
			}
			cfg.job.Close()
		}
		if _, err := plainSource.loadSubset("mnist", "test", f.evalClasses, mnistDigits, core.MNISTInput); err != nil {
			return err
		}
		// The other runs are checked without an engine, each against
		// --max-memory too (their D and the loss's glyph classes change
		// the estimate), MNIST loaded once for all.
		check := source{memo: map[string]loaded{}}
		for _, name := range names {
			for _, d := range dims {
				if name == names[0] && d == dims[0] {
					continue
				}
				mf.loss, mf.dim = name, d
				for _, classes := range []string{"", f.trainClasses} {
					if err := checkPrepared(mf, check, "mnist", "train", classes, mnistDigits, f.epochs, 5000); err != nil {
						return fmt.Errorf("%s D=%d: %w", name, d, err)
					}
				}
			}
		}
	}
	views, _ := msg.ParseViews(mf.views) // prepareTraining checked them
	if len(views) == 1 {
		views = nil // one window is a crop
	}
	note := mf.lossFlagsNote(names, dims[0])
	if f.jsonOut && note != "" {
		fmt.Fprintln(stderr, note) // stdout holds the rows alone
	}
	if !f.jsonOut {
		// What trains (nothing with --losses none: the baselines alone).
		trains := "Raw pixels on MNIST, the baselines alone"
		if len(names) > 0 {
			arch := mf.arch
			if len(views) > 0 {
				arch += " of views " + msg.FormatViews(views)
			}
			trains = fmt.Sprintf("%s on MNIST, %s, batch %d, %s", arch, msg.Plural(f.epochs, "epoch", "epochs"), mf.batch, mf.opt)
		}
		fmt.Fprintf(stdout, "%s; closed set: all classes; open set: train %s, evaluate %s.\n", trains, f.trainClasses, f.evalClasses)
		if note != "" {
			fmt.Fprintln(stdout, note)
		}
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, "| loss | D | closed-set acc | verif. acc | EER | MAP@R | open: verif. acc | open: EER | open: MAP@R |")
		fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|")
	}
	rows := jsonRows{w: stdout}
	// Every evaluation's retrieval is shown on a terminal, as openset's,
	// its line cleared when it ends; under --json, as eval's, no live line
	// is drawn: stderr gets what a file gets (a line as each baseline row
	// and each run starts).
	terminal := !f.jsonOut && isTerminal(stderr)
	ranked, rankedDone := evalProgress(stderr, terminal, "evaluating retrieval", "queries")
	evaluate := func(gallery, test eval.Embeddings, m eval.Metric) eval.Report {
		defer rankedDone()
		return eval.Evaluate(gallery, test, m, eval.Options{Folds: 10, PairsPerFold: 300, Seed: mf.seed, Progress: ranked})
	}
	emit := func(row compareRow) {
		defer rowDone(stdout)
		if f.jsonOut {
			rows.write(row.Loss+" D="+row.dim(), row)
			return
		}
		c, o := row.Closed, row.Open
		fmt.Fprintf(stdout, "| %s | %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n", mdCell(row.Loss), row.dim(),
			c.ClosedSet.Accuracy, c.Verification.Accuracy, c.Verification.EER, c.Retrieval.MAPAtR,
			o.Verification.Accuracy, o.Verification.EER, o.Retrieval.MAPAtR)
	}
	n := len(names) * len(dims)
	if f.baselines {
		n += 3
	}
	tableRows(stdout, n, f.jsonOut)
	if err := stdoutLost(stdout); err != nil { // the header's
		return err
	}
	if f.baselines && len(names) > 0 {
		// The baselines come first, and take a while: say how to do without.
		fmt.Fprintf(stderr, "the 3 baselines fit their metrics on up to %d of MNIST's training images and evaluate on its test images, a minute or more before the first loss trains: --baselines=false skips them\n", fitSize)
	}
	if f.baselines {
		metrics := []string{"cosine", "whiten", "linear"}
		for i, metric := range metrics {
			if err := stdoutLost(stdout); err != nil {
				return err
			}
			baselineProgress(stderr, terminal, i+1, len(metrics), "raw pixels, "+metricLabel(metric))
			row, err := rawCompareRow(metric, f.trainClasses, f.evalClasses, mf.seed, evaluate, stderr, terminal)
			if err != nil {
				return err
			}
			emit(row)
		}
	}
	run, runs := 0, 2*len(names)*len(dims) // a closed-set and an open-set training each
	for _, name := range names {
		for _, d := range dims {
			if err := stdoutLost(stdout); err != nil {
				return err
			}
			mf.loss, mf.dim = name, d
			row := compareRow{Loss: name, Dim: d, Views: msg.FormatViews(views)}
			label := name + " D=" + row.dim() // as the table writes it
			start := time.Now()
			run++
			report, done := runProgress(stderr, terminal, run, runs, label)
			closed, err := trainEval(ctx, mf, f.epochs, "", "", evaluate, report)
			done()
			if err != nil {
				return fmt.Errorf("%s: %w", label, err)
			}
			run++
			report, done = runProgress(stderr, terminal, run, runs, label+" open set")
			open, err := trainEval(ctx, mf, f.epochs, f.trainClasses, f.evalClasses, evaluate, report)
			done()
			if err != nil {
				return fmt.Errorf("%s open set: %w", label, err)
			}
			row.Closed, row.Open, row.TrainS = closed, open, time.Since(start).Seconds()
			emit(row)
		}
	}
	return rows.err
}

// dim is the row's D as its table cell writes it: with views, their
// number × the D of each (4×128), the embedding theirs side by side.
func (r compareRow) dim() string {
	if r.Views == "" {
		return strconv.Itoa(r.Dim)
	}
	return fmt.Sprintf("%d×%d", strings.Count(r.Views, ",")+1, r.Dim)
}

// rawCompareRow evaluates raw MNIST pixels with a metric: closed set, the
// metric fitted on (and the class centres from) 10,000 training images of
// every class (fitSample: all of them when there are fewer); open set, the metric fitted on the training images of the
// classes trainClasses, evaluated on the test images of evalClasses, by
// evaluate (eval.Evaluate with compare's options). The fits that learn
// show their progress on stderr (fitProgress; terminal: a live line).
func rawCompareRow(metric, trainClasses, evalClasses string, seed int64, evaluate func(gallery, test eval.Embeddings, m eval.Metric) eval.Report, stderr io.Writer, terminal bool) (compareRow, error) {
	dim := 0 // the closed set's metric's (metricDim)
	report := func(fitSpec, testSpec string, centres bool) (eval.Report, error) {
		fit, err := plainSource.loadSubset("mnist", "train", fitSpec, mnistDigits, core.MNISTInput)
		if err != nil {
			return eval.Report{}, err
		}
		fit = fitSample(fit, fitSize, seed)
		test, err := plainSource.loadSubset("mnist", "test", testSpec, mnistDigits, core.MNISTInput)
		if err != nil {
			return eval.Report{}, err
		}
		fitE, testE := rawEmbeddings(fit), rawEmbeddings(test)
		steps, done := fitProgress(stderr, terminal, "raw pixels, "+metricLabel(metric))
		m, err := fitMetric(metric, fitE, 32, seed, steps)
		done()
		if err != nil {
			return eval.Report{}, err
		}
		if centres {
			dim = metricDim(m, fitE.D)
		} else {
			fitE = eval.Embeddings{}
		}
		return evaluate(fitE, testE, m), nil
	}
	closed, err := report("", "", true)
	if err != nil {
		return compareRow{}, err
	}
	open, err := report(trainClasses, evalClasses, false)
	if err != nil {
		return compareRow{}, err
	}
	return compareRow{Loss: "raw pixels, " + metricLabel(metric), Dim: dim, Closed: closed, Open: open}, nil
}

// rawEmbeddings are the pixels of s as embeddings.
func rawEmbeddings(s *data.Set) eval.Embeddings {
	return eval.Embeddings{X: s.X, N: s.N, D: s.Input.Size(), Labels: s.Labels}
}

// trainEval trains on MNIST's training classes, telling report its
// progress, and evaluates by evaluate (eval.Evaluate with compare's
// options) on the test images of the evaluation classes (the same when
// evalClasses is empty), their class centres from fitSample of their
// training images, as eval's.
func trainEval(ctx context.Context, mf *modelFlags, epochs int, trainClasses, evalClasses string, evaluate func(gallery, test eval.Embeddings, m eval.Metric) eval.Report, report func(progress)) (eval.Report, error) {
	cfg, err := prepareTraining(mf, plainSource, "mnist", "train", trainClasses, mnistDigits, epochs, 5000, "cpu")
	if err != nil {
		return eval.Report{}, err
	}
	defer cfg.job.Close()
	m, err := train(ctx, cfg, report)
	if err != nil {
		return eval.Report{}, err
	}
	if evalClasses == "" {
		evalClasses = trainClasses
	}
	test, err := plainSource.loadSubset("mnist", "test", evalClasses, mnistDigits, cfg.spec.Input)
	if err != nil {
		return eval.Report{}, err
	}
	gallery, err := plainSource.loadSubset("mnist", "train", evalClasses, mnistDigits, cfg.spec.Input)
	if err != nil {
		return eval.Report{}, err
	}
	gallery = fitSample(gallery, fitSize, mf.seed)
	testE, err := job.EmbedSet(cfg.spec, m.Params, test)
	if err != nil {
		return eval.Report{}, err
	}
	galleryE, err := job.EmbedSet(cfg.spec, m.Params, gallery)
	if err != nil {
		return eval.Report{}, err
	}
	return evaluate(galleryE, testE, eval.Cosine{}), nil
}
