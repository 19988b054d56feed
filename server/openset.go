package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"metriclab/core/data"
	"metriclab/core/eval"
	"metriclab/core/job"
	"metriclab/core/msg"
	"metriclab/core/vec"
	"metriclab/losses"
)

// openSetRow is one row of `openset`: an encoder (raw pixels, or a model
// trained by a recipe) and a metric, evaluated on the unseen identities.
type openSetRow struct {
	Encoder string      `json:"encoder"`
	Metric  string      `json:"metric"`
	Dim     int         `json:"dim"`
	Report  eval.Report `json:"report"`
	TrainS  float64     `json:"train_s,omitempty"`
	Epochs  int         `json:"epochs,omitempty"`     // epochs run (fewer when early stopping ended the run)
	Best    int         `json:"best_epoch,omitempty"` // with early stopping: the epoch whose model this is
}

// openSetFlags are the flags of `openset`: train's and the split of the
// identities. A fresh set parses each variant.
type openSetFlags struct {
	fs         *flag.FlagSet
	mf         modelFlags
	data       string
	trainSpec  string
	evalSpec   string
	epochs     int
	align      bool
	alignTurns int
	baselines  bool
	jsonOut    bool
	variants   variantList
	variant    string // the variant this set parses, "" for the recipe itself
	valN       int
	maxQueries int
	ensemble   bool
	expand     int
}

// openSetOnly are the flags of the open set itself (its data and split of
// the identities, and what it prints), which every run shares: a variant
// changes how one run trains, not these.
var openSetOnly = []string{"data", "train-classes", "eval-classes", "baselines", "json", "max-queries", "ensemble", "expand"}

// trainOnly are train's flags that openset does not take, each with why:
// a variant that names one is refused with it, not with the flag
// package's "flag provided but not defined: -classes", which reads as if
// train had no such flag.
var trainOnly = map[string]string{
	"classes":   "the identities are the open set's, one for every run: give --train-classes and --eval-classes outside --variant",
	"split":     "the splits are the open set's, one for every run: a folder's train/ and test/, or else all of each identity's images",
	"out":       "openset writes no model file",
	"log-every": "openset prints a row for each run, not its steps",
	"device":    "openset trains on the CPU",
}

// variantList collects the repeated --variant flags.
type variantList []string

func (v *variantList) String() string     { return strings.Join(*v, "; ") }
func (v *variantList) Set(s string) error { *v = append(*v, s); return nil }

// Repeats says that --variant is given once for each variant (parseFlags
// refuses another flag given twice).
func (v *variantList) Repeats() bool { return true }

func newOpenSetFlags() *openSetFlags {
	f := &openSetFlags{fs: flag.NewFlagSet("openset", flag.ContinueOnError)}
	f.mf.register(f.fs)
	f.fs.Lookup("flip-test").Usage = flipTestUsage + " (every run evaluated so)"
	f.fs.Lookup("batch").Usage = "batch size; when not given (the preset's or this default), lowered to the training images when they are fewer, and stderr says so"
	f.fs.Lookup("seed").Usage = "random seed of the training (weights, shuffling) and of every row's evaluation pairs, gallery and queries; a --variant seed=N changes the training alone"
	f.fs.StringVar(&f.data, "data", "mnist", "mnist, a folder of identities, or a folder with train/ and test/ holding different identities")
	f.fs.StringVar(&f.trainSpec, "train-classes", "", "identities to train on, by number or by name"+byNumberUsage+" (default: mnist 0-4; a folder's first half; all of train/)")
	f.fs.StringVar(&f.evalSpec, "eval-classes", "", "unseen identities to evaluate on, by number or by name"+byNumberUsage+" (default: mnist 5-9; a folder's second half; all of test/)")
	f.fs.IntVar(&f.epochs, "epochs", msg.TrainDefaults().Epochs, "passes over the training data")
	f.fs.BoolVar(&f.align, "align", false, "align the faces of a folder's photos by the eyes (see train --align)")
	f.fs.IntVar(&f.alignTurns, "align-turns", 0, alignTurnsUsage)
	f.fs.BoolVar(&f.baselines, "baselines", true, "add the rows of raw pixels: cosine, PCA then whitening, learned linear metric")
	f.fs.BoolVar(&f.jsonOut, "json", false, "print one JSON object per row instead of the table")
	f.fs.Var(&f.variants, "variant", "also train the recipe with these flags changed, e.g. 'augment=none' or 'turns=0 embed-bn=false' (repeatable; not "+strings.Join(openSetOnly, ", ")+", which every run shares, nor threads, which changes the speed alone)")
	f.fs.IntVar(&f.valN, "val", 5000, "training images held out (see train --val)")
	f.fs.IntVar(&f.maxQueries, "max-queries", 0, maxQueriesUsage)
	f.fs.IntVar(&f.expand, "expand", 0, "add, below each cosine row, the row of its embeddings expanded: "+expandUsage)
	f.mf.registerMaxMemory(f.fs, "largest memory each run's training may take (the runs train one at a time, and each is checked before the first trains)")
	f.fs.BoolVar(&f.ensemble, "ensemble", false, "add a row for the ensemble of every run (the recipe and its variants): their unit embeddings concatenated, so that its cosine is the mean of theirs")
	return f
}

// openSetSplits returns the splits and classes of the training and the
// evaluated identities of a data set whose training split has the classes
// names (see newOpenSetFlags's defaults).
func openSetSplits(name, trainSpec, evalSpec string, names []string) (trainSplit, evalSplit, tr, ev string, err error) {
	n := len(names)
	switch {
	case name == "mnist":
		trainSplit, evalSplit, tr, ev = "train", "test", "0-4", "5-9"
	case isTrainTestFolder(name):
		trainSplit, evalSplit = "train", "test"
	default:
		trainSplit, evalSplit = "all", "all"
		if n < 4 {
			return "", "", "", "", badInput("an open set needs at least 4 identities, %s has %d", name, n)
		}
		tr, ev = data.Halves(names)
	}
	if trainSpec != "" {
		tr = trainSpec
	}
	if evalSpec != "" {
		ev = evalSpec
	}
	// MNIST's training and test images are of the same ten digits; a
	// folder's train/ and test/ hold different people.
	if trainSplit == evalSplit || name == "mnist" {
		if err := disjointClasses(classesLabel("train-classes", trainSpec != ""), classesLabel("eval-classes", evalSpec != ""), tr, ev, names); err != nil {
			return "", "", "", "", err
		}
	}
	return trainSplit, evalSplit, tr, ev, nil
}

// disjointClasses refuses class selections tr and ev (of flags trFlag and
// evFlag, as classesLabel names them, among the classes names) that share
// a class: an open set evaluates identities never trained on. Selections
// that do not parse are left to their own checks.
func disjointClasses(trFlag, evFlag, tr, ev string, names []string) error {
	a, err1 := data.ParseClasses(tr, names)
	b, err2 := data.ParseClasses(ev, names)
	if err1 != nil || err2 != nil {
		return nil
	}
	for _, c := range a {
		if slices.Contains(b, c) {
			return badInput("%s %s and %s %s share class %q: an open set evaluates identities never trained on", trFlag, classSpec(tr), evFlag, classSpec(ev), names[c])
		}
	}
	return nil
}

// classesLabel is how a message names the class selection of --flag: as
// the flag when it was given, else as its default, so that a selection
// the user did not type does not read as theirs.
func classesLabel(flag string, given bool) string {
	if given {
		return "--" + flag
	}
	return "the default --" + flag
}

// classSpec is a selection of classes as a message quotes it: "" is
// every class, which the quotes alone would not say.
func classSpec(spec string) string {
	if spec == "" {
		return `"" (every class)`
	}
	return strconv.Quote(spec)
}

func isTrainTestFolder(name string) bool {
	st1, err1 := os.Stat(filepath.Join(name, "train"))
	st2, err2 := os.Stat(filepath.Join(name, "test"))
	return err1 == nil && err2 == nil && st1.IsDir() && st2.IsDir()
}

// parseOpenSet parses openset's flags and every --variant's, and refuses
// what needs no data to be found wrong: the flags' syntax, the variants
// (each parsed as the command line with its flags added), the preset,
// --align-turns, an ensemble of other images, and checkTraining's and
// checkLoad's checks for every run (a variant's --align or --input that
// mnist does not take is refused before the recipe's data is loaded). It
// returns the runs: the recipe, then its variants. The
// data and its classes are cmdOpenSet's to check.
func parseOpenSet(args []string, stdout io.Writer) ([]*openSetFlags, error) {
	base := newOpenSetFlags()
	if err := parseFlags(base.fs, args, stdout); err != nil {
		return nil, err
	}
	if err := checkMaxMemory("max-memory", base.mf.maxMemory); err != nil {
		return nil, err
	}
	if base.maxQueries < 0 {
		return nil, badInput("--max-queries %d: must be 0 (all) or more", base.maxQueries)
	}
	if err := checkExpandK(base.expand); err != nil {
		return nil, err
	}
	if base.ensemble && len(base.variants) == 0 {
		return nil, badInput("--ensemble needs runs to combine: give one --variant or more")
	}
	// Validate every variant before the first hour of training.
	runs := []*openSetFlags{base}
	for _, v := range base.variants {
		f := newOpenSetFlags()
		if strings.TrimSpace(v) == "" { // it would train the recipe again
			return nil, badInput("variant %q: want flag=value pairs, e.g. augment=none", v)
		}
		var extra, fields, names []string
		for _, kv := range strings.Fields(v) {
			// A pair may be written as on the command line, --dim=4:
			// the same pair as dim=4, named so in the run's name.
			kv = strings.TrimPrefix(strings.TrimPrefix(kv, "-"), "-")
			name, value, ok := strings.Cut(kv, "=")
			if !ok || name == "" || name == "variant" {
				return nil, badInput("variant %q: want flag=value pairs, e.g. augment=none", v)
			}
			if slices.Contains(openSetOnly, name) {
				return nil, badInput("variant %q: %s is the open set's, one for every run: give --%s outside --variant", v, name, name)
			}
			if why, ok := trainOnly[name]; ok {
				return nil, badInput("variant %q: --%s is train's, not openset's: %s", v, name, why)
			}
			if name == "threads" { // its run would print the recipe's row again
				return nil, badInput("variant %q: threads changes how fast a run trains, not what it learns: give --threads outside --variant", v)
			}
			if name == "max-memory" {
				return nil, badInput("variant %q: max-memory bounds every run's training, not what it learns: give --max-memory outside --variant", v)
			}
			if slices.Contains(names, name) { // the last would be taken, the run named by both
				return nil, badInput("variant %q sets %s twice", v, name)
			}
			names = append(names, name)
			fields = append(fields, kv)
			extra = append(extra, "--"+name+"="+value)
		}
		// Its flags parsed after the command line's, apart: after a "--"
		// that ends the command line's flags, they would be arguments.
		err := parseFlags(f.fs, args, io.Discard)
		if err == nil {
			err = parseFlags(f.fs, extra, io.Discard)
		}
		if err != nil {
			return nil, badInput("variant %q: %v", v, err)
		}
		// The run's name: its pairs, one space apart (a line break
		// between two would break its table row and its progress line).
		f.variant = strings.Join(fields, " ")
		runs = append(runs, f)
	}
	for _, f := range runs {
		f.mf.fitBatch = !f.mf.set("batch") // as train's
		if err := f.mf.applyPreset(f.data, &f.epochs); err != nil {
			return nil, inVariant(f.variant, err)
		}
		if _, err := f.mf.newLoss(); err != nil {
			return nil, inVariant(f.variant, err)
		}
		if err := checkTurns(f.align, f.alignTurns); err != nil {
			return nil, inVariant(f.variant, err)
		}
	}
	// A run that trains as another would give its row again, for its
	// whole training time.
	for i, f := range runs[1:] {
		for _, other := range runs[:i+1] {
			if !sameValues(f, other) {
				continue
			}
			switch {
			case other == base:
				return nil, badInput("variant %q changes nothing: the recipe trains so already", f.variant)
			case other.variant == f.variant:
				return nil, badInput("variant %q is given twice", f.variant)
			}
			return nil, badInput("variant %q trains as variant %q", f.variant, other.variant)
		}
	}
	if base.ensemble {
		if err := sameImages(runs); err != nil {
			return nil, err
		}
	}
	for _, f := range runs {
		spec, err := checkTraining(&f.mf, f.data, f.epochs, f.valN)
		if err == nil {
			err = checkLoad(f.data, f.align, spec.Input)
		}
		if err != nil {
			return nil, inVariant(f.variant, err)
		}
	}
	return runs, nil
}

// sameValues reports whether runs a and b train alike: every flag of a
// has the value of b's flag of that name (a preset's applied), but the
// loss parameters, --lr and --wd, whose 0, not given, is a default that
// depends on the loss, D or the optimiser (--m 0 is no margin, and --m
// 0.5 arcface's default): the loss and the optimiser they make are
// compared instead; --miner and --distance, whose "", not given, is the
// pair loss's default miner and distance (semihard, cosine), which are
// compared; and --input, whose "", not given, is the data's own shape
// (mnist's 1x28x28, a folder's 1x32x32): the encoders' inputs are
// compared. Runs whose loss, optimiser or encoder is refused are not
// alike (checkTraining refuses them).
func sameValues(a, b *openSetFlags) bool {
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	same := or(a.mf.miner, losses.DefaultMiner()) == or(b.mf.miner, losses.DefaultMiner()) &&
		or(a.mf.distance, losses.DefaultDistance()) == or(b.mf.distance, losses.DefaultDistance())
	a.fs.VisitAll(func(fl *flag.Flag) {
		if !slices.Contains(lossFlagNames, fl.Name) && !slices.Contains([]string{"lr", "wd", "miner", "distance", "input"}, fl.Name) {
			same = same && b.fs.Lookup(fl.Name).Value.String() == fl.Value.String()
		}
	})
	la, errLA := a.mf.newLoss()
	lb, errLB := b.mf.newLoss()
	oa, errOA := a.mf.optConfig(1)
	ob, errOB := b.mf.optConfig(1)
	sa, errSA := a.mf.spec(a.data)
	sb, errSB := b.mf.spec(b.data)
	return same && errors.Join(errLA, errLB, errOA, errOB, errSA, errSB) == nil &&
		la.Name() == lb.Name() && maps.Equal(la.Params(), lb.Params()) && oa == ob && sa.Input == sb.Input
}

// cmdOpenSet trains a recipe on some identities and evaluates it on others
// it never saw, beside raw pixels and the classic metrics on the same
// pairs, and prints a markdown table.
func cmdOpenSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	runs, err := parseOpenSet(args, stdout)
	if err != nil {
		return err
	}
	base := runs[0]
	// Each data set is loaded once (a memo per source): the split's probe,
	// the evaluation, every run's check, the baselines and the runs only
	// read what they load. With --align, the photos are so aligned once
	// for every run; with --align-turns, once more with the turned
	// versions of the training identities' photos for the runs with those
	// turns (runSource).
	src, err := newSource(base.align, 0, stderr)
	if err != nil {
		return err
	}
	src.memo = map[string]loaded{}
	if !base.jsonOut && isTerminal(stderr) {
		src.live = stderr
	}
	spec, err := base.mf.spec(base.data)
	if err != nil {
		return err
	}
	// The selections are checked before the evaluated split's load, on
	// a listing of each split (classNames), taken once: every load of the
	// command must have its classes (checkLoaded), so that a folder
	// changed after the checks is refused, not trained on.
	probe, err := classNames(base.data, map[bool]string{true: "train", false: "all"}[base.data == "mnist" || isTrainTestFolder(base.data)])
	if err != nil {
		return err
	}
	trainSplit, evalSplit, trainSpec, evalSpec, err := openSetSplits(base.data, base.trainSpec, base.evalSpec, probe)
	if err != nil {
		return err
	}
	evalNames := probe // the listing of trainSplit
	if evalSplit != trainSplit {
		if evalNames, err = classNames(base.data, evalSplit); err != nil {
			return err
		}
	}
	// Both selections are "classes" to data: its errors are given the
	// flag that made the selection, when one was given.
	evalClasses, err := data.TrainClasses(evalSpec, evalNames)
	if err != nil {
		return classesFlagError("eval-classes", base.evalSpec, err)
	}
	trained, err := data.ParseClasses(trainSpec, probe)
	if err != nil {
		return classesFlagError("train-classes", base.trainSpec, err)
	}
	if trainSplit != evalSplit && base.data != "mnist" { // train/ and test/: the same person may be in both
		for _, c := range trained {
			if slices.Contains(namesOf(evalNames, evalClasses), probe[c]) {
				return badInput("%s: %q is in train/ and test/: an open set evaluates identities never trained on (choose them with --train-classes and --eval-classes)", base.data, probe[c])
			}
		}
	}
	if _, err := data.TrainClasses(trainSpec, probe); err != nil {
		return classesFlagError("train-classes", base.trainSpec, err)
	}
	for _, f := range runs {
		if err := checkTrainingClasses(&f.mf, f.data, trainSplit, trainSpec, probe, f.epochs); err != nil {
			return inVariant(f.variant, err)
		}
	}
	if counts, ok := listedCounts(base.data, evalSplit, evalNames, evalClasses); ok {
		if err := checkEvaluableCounts(counts, base.data, evalSplit); err != nil {
			return err
		}
		if err := checkListedExpand(base.expand, counts); err != nil {
			return err
		}
	}
	test, err := src.load(base.data, evalSplit, spec.Input)
	if err != nil {
		return err
	}
	if err := checkLoaded(base.data, evalSplit, evalNames, test.Classes); err != nil {
		return err
	}
	test = test.Subset(evalClasses)
	if err := checkEvaluable(test, base.data, evalSplit); err != nil {
		return err
	}
	if err := checkExpand(base.expand, test.N); err != nil {
		return err
	}
	// Every run's training is prepared once (its data loaded, its job
	// built) and closed, so that a bad value in any variant is refused
	// before the baselines and the first run's training.
	sources := map[bool]source{base.align: src} // by --align
	runSource := func(f *openSetFlags) source { return sources[f.align].withTurns(f.alignTurns) }
	for _, f := range runs {
		if _, ok := sources[f.align]; !ok {
			other, err := newSource(f.align, 0, stderr)
			if err != nil {
				return inVariant(f.variant, err)
			}
			other.memo, other.live = map[string]loaded{}, src.live
			sources[f.align] = other
		}
		quiet := runSource(f)
		quiet.log = nil // the photos aligned are told when the run trains
		cfg, err := prepareTraining(&f.mf, quiet, f.data, trainSplit, trainSpec, probe, f.epochs, f.valN, "cpu")
		if err != nil {
			return inVariant(f.variant, err)
		}
		if note := cfg.job.Note(); note != "" { // the batch lowered to the training images, as train says it
			if len(runs) > 1 {
				note = f.name() + ": " + note
			}
			fmt.Fprintln(stderr, note)
		}
		cfg.job.Close()
		// A variant's evaluated images are its own (trainOpenSet): aligned
		// or not, at its input, aligning may skip other photos, so that
		// they may be fewer than the base's, and of fewer identities.
		test, err := quiet.loadSubset(f.data, evalSplit, evalSpec, evalNames, cfg.spec.Input)
		if err != nil {
			return inVariant(f.variant, err)
		}
		if err := checkEvaluable(test, f.data, evalSplit); err != nil {
			return inVariant(f.variant, err)
		}
		if err := checkExpand(base.expand, test.N); err != nil {
			return inVariant(f.variant, err)
		}
	}
	rows := jsonRows{w: stdout}
	// The pairs, gallery and queries are drawn from the base's seed for
	// every row: on the same images (a variant that changes neither
	// --align nor --input) they are the base's, so a variant's --seed
	// changes its training only. Each row's retrieval
	// is shown on a terminal, its line cleared as the row is written;
	// under --json, as eval's, no live line is drawn: stderr gets what
	// a file gets (a line as each baseline row and each run starts).
	terminal := !base.jsonOut && isTerminal(stderr)
	ranked, rankedDone := evalProgress(stderr, terminal, "evaluating retrieval", "queries")
	expanding, expandingDone := evalProgress(stderr, terminal, expandLabel(base.expand), "images")
	opts := eval.Options{Folds: 10, PairsPerFold: 300, Seed: base.mf.seed, MaxQueries: base.maxQueries, Progress: ranked}
	emit := func(r openSetRow) {
		rankedDone()
		defer rowDone(stdout)
		if base.jsonOut {
			rows.write(r.Encoder+", "+r.Metric, r)
			return
		}
		v, id := r.Report.Verification, r.Report.Identification
		train := ""
		if r.TrainS > 0 {
			train = fmt.Sprintf("%.0f s, %s", r.TrainS, msg.Plural(r.Epochs, "epoch", "epochs"))
		}
		if r.Best > 0 {
			train += fmt.Sprintf(" (best %d)", r.Best)
		}
		fmt.Fprintf(stdout, "| %s | %s | %d | %.4f ± %.4f | %.4f | %.4f | %.4f | %.4f | %s |\n", mdCell(r.Encoder), mdCell(r.Metric), r.Dim,
			v.Accuracy, v.AccuracyStd, v.EER, v.TARAtFAR["0.01"], id.Rank1, r.Report.Retrieval.MAPAtR, train)
	}
	// With --expand, a cosine row is followed by the same embeddings
	// expanded (eval.Expand), evaluated on the same pairs and queries.
	emitExpanded := func(r openSetRow, e eval.Embeddings) {
		if base.expand == 0 {
			return
		}
		r.Metric = fmt.Sprintf("cosine, expanded (K = %d)", base.expand)
		e = eval.Expand(e, base.expand, expanding)
		expandingDone()
		r.Report = eval.Evaluate(eval.Embeddings{}, e, eval.Cosine{}, opts)
		r.Report.Identification.OpenSet = nil // its unknown identities were drawn towards the enrolled ones
		r.TrainS, r.Epochs, r.Best = 0, 0, 0
		emit(r)
	}
	if !base.jsonOut {
		fmt.Fprintf(stdout, "Open set on %s: train on classes %s (%s), evaluate on the unseen classes %s (%s).\n\n", pathText(base.data),
			classesNamed(trainSpec, trained, probe), splitWords(base.data, trainSplit), classesNamed(evalSpec, evalClasses, evalNames), splitWords(base.data, evalSplit))
		fmt.Fprintln(stdout, "| encoder | metric | D | verif. acc | EER | TAR@FAR 0.01 | rank-1 | MAP@R | training |")
		fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|")
	}
	// The rows: each run's, the baselines' and the ensemble's, each cosine
	// row followed by its expanded one with --expand.
	perCosine := 1
	if base.expand > 0 {
		perCosine = 2
	}
	n := len(runs) * perCosine
	if base.baselines {
		n += 2 + perCosine
	}
	if base.ensemble {
		n += perCosine
	}
	tableRows(stdout, n, base.jsonOut)
	if base.baselines {
		fit, err := src.loadSubset(base.data, trainSplit, trainSpec, probe, spec.Input)
		if err != nil {
			return err
		}
		fit = fitSample(fit, fitSize, base.mf.seed)
		metrics := []string{"cosine", "whiten", "linear"}
		for i, name := range metrics {
			if err := stdoutLost(stdout); err != nil {
				return err
			}
			baselineProgress(stderr, terminal, i+1, len(metrics), "raw pixels, "+metricLabel(name))
			report, done := fitProgress(stderr, terminal, "raw pixels, "+metricLabel(name))
			m, err := fitMetric(name, rawEmbeddings(fit), 32, base.mf.seed, report)
			done()
			if err != nil {
				return err
			}
			d := metricDim(m, test.Input.Size())
			emit(openSetRow{Encoder: "raw pixels", Metric: metricLabel(name), Dim: d, Report: eval.Evaluate(eval.Embeddings{}, rawEmbeddings(test), m, opts)})
			if name == "cosine" {
				emitExpanded(openSetRow{Encoder: "raw pixels", Dim: d}, rawEmbeddings(test))
			}
		}
	}
	var members []eval.Embeddings
	for i, f := range runs {
		if err := stdoutLost(stdout); err != nil {
			return err
		}
		report, done := runProgress(stderr, terminal, i+1, len(runs), f.name())
		row, e, err := trainOpenSet(ctx, f, runSource(f), trainSplit, evalSplit, trainSpec, evalSpec, probe, evalNames, opts, report)
		done()
		if err != nil {
			return inVariant(f.variant, err)
		}
		emit(row)
		emitExpanded(openSetRow{Encoder: row.Encoder, Dim: row.Dim}, e)
		if base.ensemble {
			members = append(members, e)
		}
	}
	if base.ensemble {
		e, err := eval.Concat(members)
		if err != nil {
			return err
		}
		row := openSetRow{Encoder: fmt.Sprintf("ensemble of the %d runs above", len(members)), Metric: "cosine", Dim: e.D}
		row.Report = eval.Evaluate(eval.Embeddings{}, e, eval.Cosine{}, opts)
		emit(row)
		emitExpanded(row, e)
	}
	return rows.err
}

// classesNamed is the selection spec of the classes sel among names as
// the header names it: "all" for every class (spec ""), else by their
// names, runs of neighbours as a range ("s01-s04", "s01,s03,s05-s07";
// a run whose ends hold a dash, one by one), as --train-classes takes
// them; spec itself where the names would not select sel again (a name
// holding a comma).
func classesNamed(spec string, sel []int, names []string) string {
	if strings.TrimSpace(spec) == "" {
		return "all"
	}
	var parts []string
	for i := 0; i < len(sel); {
		j := i
		for j+1 < len(sel) && sel[j+1] == sel[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, names[sel[i]])
		case j == i+1 || strings.Contains(names[sel[i]]+names[sel[j]], "-"):
			for _, c := range sel[i : j+1] {
				parts = append(parts, names[c])
			}
		default:
			parts = append(parts, names[sel[i]]+"-"+names[sel[j]])
		}
		i = j + 1
	}
	named := strings.Join(parts, ",")
	if again, err := data.ParseClasses(named, names); err != nil || !slices.Equal(again, sel) {
		return cmp(spec, "all")
	}
	return named
}

// splitWords says in words which images of the selected classes a split
// of data set name is: "all their images" (a folder of identities), their
// training or test images (mnist), or those in train/ or test/.
func splitWords(name, split string) string {
	switch {
	case split == "all":
		return "all their images"
	case name == "mnist":
		return "their " + map[bool]string{true: "training", false: "test"}[split == "train"] + " images"
	}
	return "their images in " + split + "/"
}

// sameImages refuses an ensemble of runs that would embed other images
// than the first run (the recipe): aligned or not otherwise, or, aligned,
// at another size (which photos aligning skips depends on the crops'
// size). Every run has the same data (openSetOnly).
func sameImages(runs []*openSetFlags) error {
	base := runs[0]
	in0, err := base.mf.spec(base.data)
	if err != nil {
		return err
	}
	for _, f := range runs[1:] {
		s, err := f.mf.spec(f.data)
		if err != nil {
			return inVariant(f.variant, err)
		}
		if f.align != base.align || f.align && !s.Input.SameShape(in0.Input) {
			return badInput("variant %q: with --ensemble every run embeds the same photos: --align for all or none, and with it one --input", f.variant)
		}
	}
	return nil
}

// name is the run's name in the table: the preset or the architecture,
// and the variant.
func (f *openSetFlags) name() string {
	name := f.mf.arch
	if f.mf.preset != "" {
		name = "preset " + f.mf.preset
	}
	if f.variant != "" {
		name += ", " + f.variant
	}
	return name
}

// inVariant says that err is the variant's (none for "", the recipe).
func inVariant(variant string, err error) error {
	switch {
	case variant == "":
		return err
	case errors.As(err, new(inputError)):
		return badInput("variant %q: %v", variant, err)
	}
	return fmt.Errorf("variant %q: %w", variant, err)
}

// metricLabel names a metric in the table.
func metricLabel(name string) string {
	switch name {
	case "whiten":
		return "PCA + whitening"
	case "linear":
		return "linear (NCA)"
	}
	return name
}

// errNotFinite is the error of a model trained here whose embeddings of
// the evaluated images hold a NaN or ±Inf (an update that overflowed the
// weights, with no held-out images to catch it at the epoch's end): no
// protocol's figures mean anything on them.
var errNotFinite = errors.New("the trained model's embeddings of the evaluated images are not all finite numbers (lr too high?)")

// trainOpenSet trains the recipe of f on the training identities, telling
// report its progress, and evaluates it, cosine, on the unseen ones; it
// returns the row and the unseen identities' embeddings. trainListed and
// evalListed are the splits' classes as cmdOpenSet listed them to check
// the selections, which the loads must have (prepareTraining,
// loadSubset).
func trainOpenSet(ctx context.Context, f *openSetFlags, src source, trainSplit, evalSplit, trainSpec, evalSpec string, trainListed, evalListed []string, opts eval.Options, report func(progress)) (openSetRow, eval.Embeddings, error) {
	start := time.Now()
	cfg, err := prepareTraining(&f.mf, src, f.data, trainSplit, trainSpec, trainListed, f.epochs, f.valN, "cpu")
	if err != nil {
		return openSetRow{}, eval.Embeddings{}, err
	}
	defer cfg.job.Close()
	m, err := train(ctx, cfg, report)
	if err != nil {
		return openSetRow{}, eval.Embeddings{}, err
	}
	secs := time.Since(start).Seconds()
	test, err := src.loadSubset(f.data, evalSplit, evalSpec, evalListed, cfg.spec.Input)
	if err != nil {
		return openSetRow{}, eval.Embeddings{}, err
	}
	e, err := job.EmbedSet(cfg.spec, m.Params, test)
	if err != nil {
		return openSetRow{}, eval.Embeddings{}, err
	}
	if !vec.AllFinite(e.X) {
		return openSetRow{}, eval.Embeddings{}, errNotFinite
	}
	name := f.name()
	best, _ := cfg.job.BestEpoch()
	epochs := (m.Meta.Provenance.Steps + cfg.stepsPerEpoch - 1) / cfg.stepsPerEpoch
	return openSetRow{Encoder: name, Metric: "cosine", Dim: cfg.spec.EmbedDim(), Report: eval.Evaluate(eval.Embeddings{}, e, eval.Cosine{}, opts),
		TrainS: secs, Epochs: epochs, Best: best}, e, nil
}
