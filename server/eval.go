package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/eval"
	"metriclab/core/job"
	"metriclab/core/msg"
	"metriclab/core/vec"
	"metriclab/losses"
)

// evalOutput is what `eval --json` prints: the protocols' report and what
// was evaluated.
type evalOutput struct {
	eval.Report
	Model  string `json:"model"`
	Metric string `json:"metric"`
	Data   string `json:"data"`
	Probes int    `json:"probes"`
	Expand int    `json:"expand,omitempty"` // --expand: the neighbours each evaluated embedding is the mean of
	// Input is the shape a folder's images were read at, the model's
	// (or --input's, of raw pixels), whatever their own size: the text
	// report says it (mnist's are 1×28×28 as they are).
	Input core.Input `json:"-"`
}

// evalFlags are eval's flags, parsed and checked (parseEval).
type evalFlags struct {
	fs                                        *flag.FlagSet
	model, data, classes, fit, split, unknown string
	metric, input                             string
	align, jsonOut, flipTest                  bool
	pca, maxQueries, expand                   int
	seed                                      int64
}

// parseEval parses eval's flags and refuses what needs no model file and
// no data to be found wrong: the flags' syntax and the values and
// combinations of the flags. The model, the data, and the classes of
// --classes, --fit-classes and --unknown are cmdEval's to check.
func parseEval(args []string, stdout io.Writer) (*evalFlags, error) {
	f := &evalFlags{fs: flag.NewFlagSet("eval", flag.ContinueOnError)}
	fs := f.fs
	fs.StringVar(&f.model, "model", "", "model file (.safetensors), several separated by commas to evaluate their ensemble (unit embeddings concatenated: the cosine is the mean of theirs), or 'raw' to evaluate raw pixels")
	fs.StringVar(&f.data, "data", "mnist", "evaluation data: mnist (its test split), or a folder")
	fs.StringVar(&f.classes, "classes", "", "evaluate on these classes only, by number or by name, e.g. 5-9 or s21-s40"+byNumberUsage+" (default all, the --unknown ones left out)")
	fs.StringVar(&f.fit, "fit-classes", "", "classes of the training split that fit --metric whiten and linear and give the class centres of the nearest-centre figure and --unknown's gallery (when they are not the evaluated identities, those come from one test image of each evaluated class instead), by number or by name, e.g. 0-4"+byNumberUsage+" (default: the evaluated identities the training split has, or every training identity when it has none of them, the --unknown ones left out)")
	fs.BoolVar(&f.align, "align", false, "align the face of every photo of a folder by the eyes (default: as the model was trained)")
	fs.StringVar(&f.split, "split", "test", "test: evaluate on the test split; all: on every image of --classes of a folder of identities, with the metric fitted on every image of --fit-classes (by default the other identities)")
	fs.IntVar(&f.pca, "pca", 32, "--metric whiten: principal components kept before whitening (at most D; fewer than the fit images less their classes, and a line on stderr says so)")
	fs.StringVar(&f.unknown, "unknown", "", "open-set identification: classes whose images (of the evaluated split) are probes of unseen identities, by number or by name"+byNumberUsage+"; the evaluated identities are enrolled, and the unknown ones fit no metric")
	fs.StringVar(&f.metric, "metric", "cosine", "metric: cosine, euclidean, whiten (PCA, then Mahalanobis with the within-class covariance) or linear (learned Mahalanobis W, NCA)")
	fs.StringVar(&f.input, "input", "", "with --model raw: input shape CxHxW of a folder's images (default 1x32x32; mnist is 1x28x28 only)")
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON object")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the verification pairs, the gallery split, the sample a metric is fitted on (and NCA's fit) and the --max-queries draw")
	fs.IntVar(&f.maxQueries, "max-queries", 0, maxQueriesUsage)
	fs.IntVar(&f.expand, "expand", 0, expandUsage)
	fs.BoolVar(&f.flipTest, "flip-test", false, "embed every image and its mirror and average the two (default: as the model was trained, see train --flip-test)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return nil, err
	}
	if f.model == "" {
		return nil, badInput("--model is required (a .safetensors file, or raw)")
	}
	if f.maxQueries < 0 {
		return nil, badInput("--max-queries %d: must be 0 (all) or more", f.maxQueries)
	}
	if err := checkExpandK(f.expand); err != nil {
		return nil, err
	}
	if !slices.Contains(evalMetrics, f.metric) {
		return nil, badInput("unknown metric %q (want %s)", f.metric, strings.Join(evalMetrics, ", "))
	}
	if flagGiven(fs, "pca") && f.metric != "whiten" {
		return nil, badInput("--pca is for --metric whiten, not %s", f.metric)
	}
	if f.pca < 1 {
		return nil, badInput("--pca %d: must be 1 or more", f.pca)
	}
	if f.expand > 0 && f.metric != "cosine" && f.metric != "euclidean" {
		return nil, badInput("--expand moves the evaluated embeddings only, and %s is fitted on training embeddings it leaves: use it with --metric cosine or euclidean", f.metric)
	}
	if f.expand > 0 && f.unknown != "" {
		return nil, badInput("--expand and --unknown: the unknown probes are not among the evaluated images that --expand moves; give one or the other")
	}
	if f.input != "" && f.model != "raw" {
		return nil, badInput("--input is for --model raw: a model file has its own input")
	}
	if f.split != "test" && f.split != "all" {
		return nil, badInput("split %q: want test or all", f.split)
	}
	return f, nil
}

func cmdEval(_ context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseEval(args, stdout)
	if err != nil {
		return err
	}
	var flip *bool
	if flagGiven(f.fs, "flip-test") {
		flip = &f.flipTest
	}
	var live io.Writer // the embedding's progress: on a terminal, not under --json
	if !f.jsonOut && isTerminal(stderr) {
		live = stderr
	}
	models, err := loadEnsemble(f.model, f.data, f.input, flip, live)
	if err != nil {
		return err
	}
	embed, spec, model, dim, ensemble := models.embed, models.spec, models.first(), models.dim, len(models.all) > 1
	if flagGiven(f.fs, "pca") && f.pca > dim {
		return badInput("--pca %d: must be at most %d, the embedding's D", f.pca, dim)
	}
	// The data set's own error would name a shape the user did not give:
	// "mnist images are 1×28×28, not 1×32×32".
	if in := spec.Input; model != nil && f.data == "mnist" && !in.SameShape(core.MNISTInput) {
		return badInput("%s takes %d×%d×%d images and mnist's are 1×28×28: evaluate it on a folder of images (--data DIR)", f.model, in.Channels, in.Height, in.Width)
	}
	if model != nil && !flagGiven(f.fs, "align") {
		f.align = model.Meta.Provenance.Align
		if f.align && f.data == "mnist" {
			return badInput("%s was trained on photos aligned by the eyes (train --align); mnist's digits are not photos to align: give --align=false to embed them as they are", f.model)
		}
	}
	src, err := newSource(f.align, 0, stderr)
	if err != nil {
		return err
	}
	if !f.jsonOut && isTerminal(stderr) {
		src.live = stderr
	}
	fits := f.metric == "whiten" || f.metric == "linear"
	sets, err := loadEvalSets(src, f.data, f.split, f.classes, f.fit, f.unknown, fits, f.expand, spec.Input, f.seed)
	if err != nil {
		return err
	}
	test := sets.test
	if err := checkEvaluable(test, f.data, f.split); err != nil {
		return err
	}
	if err := checkExpand(f.expand, test.N); err != nil {
		return err
	}
	evaluated := slices.Clone(test.Classes)
	if sets.unknown != nil {
		evaluated = append(evaluated, sets.unknown.Classes...)
	}
	if line := trainedOnLine(models, f.data, f.split, evaluated); line != "" {
		fmt.Fprintln(stderr, line) // stdout holds the report alone (--json)
	}
	// The training images fit a metric and give the class centres and
	// the gallery of --unknown when they are of the evaluated identities;
	// cosine and Euclidean distances on other identities need none of them.
	same := slices.Equal(sets.fitClasses, test.Classes)
	var trainE eval.Embeddings
	if fits || same {
		train, err := sets.loadFit()
		if err != nil {
			return err
		}
		if trainE, err = embed(train); err != nil {
			return err
		}
	}
	testE, err := embed(test)
	if err != nil {
		return err
	}
	own := testE // the embeddings as the model gives them, for its classifier
	if f.expand > 0 {
		expanded, done := evalProgress(stderr, !f.jsonOut && isTerminal(stderr), expandLabel(f.expand), "images")
		testE = eval.Expand(testE, f.expand, expanded)
		done()
	}
	report, done := fitProgress(stderr, !f.jsonOut && isTerminal(stderr), metricLabel(f.metric))
	metric, err := fitMetric(f.metric, trainE, f.pca, f.seed, report)
	done()
	if err != nil {
		return err
	}
	if f.metric == "whiten" {
		tellWhitenKept(stderr, metric, trainE, min(f.pca, trainE.D), flagGiven(f.fs, "pca"))
	}
	centres := trainE
	if !same {
		centres = eval.Embeddings{} // other identities: centres from a gallery of the test images
	}
	ranked, done := evalProgress(stderr, !f.jsonOut && isTerminal(stderr), "evaluating retrieval", "queries")
	rep := eval.Evaluate(centres, testE, metric, eval.Options{Folds: 10, PairsPerFold: 300, Seed: f.seed, MaxQueries: f.maxQueries, Progress: ranked})
	done()
	if model != nil && !ensemble && slices.Equal(model.Meta.Classes, test.Classes) {
		if w, b, ok := model.Meta.Spec.ClassWeights(model.Params); ok {
			// The head's own prediction, as the training job reports it
			// (losses.HeadAccuracy); New takes the loss, as Validate did.
			loss, err := losses.New(losses.Config{Name: model.Meta.Loss, Dim: model.Meta.Spec.Dim, Values: model.Meta.LossParams})
			if err != nil {
				return inputError{fmt.Errorf("%s: %v", f.model, err)}
			}
			if acc, ok := losses.HeadAccuracy(loss, own, w, b); ok {
				rep.ClosedSet.Classifier = &acc
			}
		}
	}
	if f.expand > 0 {
		// Evaluate's open set takes identities of the evaluated images
		// as unknown: expanded, they were drawn towards the enrolled ones.
		rep.Identification.OpenSet = nil
	}
	if sets.unknown != nil {
		unknownE, err := embed(sets.unknown)
		if err != nil {
			return err
		}
		// The evaluated identities are enrolled: from their training
		// images, or, when there are none, from a gallery of their test
		// images (eval.GallerySplit), the rest their known probes.
		gallery, known := trainE, testE
		if !same {
			gallery, known = eval.GallerySplit(testE, f.seed)
		}
		open := eval.OpenSetIdentification(gallery, known, unknownE, metric)
		rep.Identification.OpenSet = &open
	}
	// The metric as --metric names it: whiten and linear are both a
	// Mahalanobis metric (metric.Name()), fitted otherwise.
	out := evalOutput{Report: rep, Model: f.model, Metric: f.metric, Data: f.data, Probes: testE.N, Expand: f.expand, Input: spec.Input}
	if f.jsonOut {
		return json.NewEncoder(stdout).Encode(out)
	}
	printReport(stdout, out)
	return nil
}

// maxQueriesUsage is the help of --max-queries, eval's and openset's.
const maxQueriesUsage = "retrieval: evaluate at most this many queries, drawn among the images whose identity has another (an image alone in its identity is no query; 0: all)"

// expandUsage is the help of --expand, eval's and openset's.
const expandUsage = "database-side augmentation: each evaluated embedding replaced by the mean of its K nearest among the evaluated images (itself included) before every protocol; transductive, it reads the other test images, unlabelled. A sensible K is small, 2 to the number of images of an identity (0: off)"

// expandLabel is the label of --expand k's progress line (evalProgress).
func expandLabel(k int) string {
	return fmt.Sprintf("expanding (K = %d)", k)
}

// checkExpandK refuses an --expand k that expands nothing: below 0, or 1,
// each embedding the mean of itself alone, as it is (before, --expand 1
// gave the figures of the embeddings as they are, but for the open set,
// left out as it is of an expansion).
func checkExpandK(k int) error {
	switch {
	case k < 0:
		return badInput("--expand %d: a negative number of neighbours; give K of 2 or more (0: off)", k)
	case k == 1:
		return badInput("--expand 1: each embedding would be the mean of itself alone, as it is; give K of 2 or more (0: off)")
	}
	return nil
}

// checkExpand refuses --expand k on n evaluated images when k ≥ n: every
// embedding would be the mean of all of them, one and the same, and every
// figure that of ties (Expand clamps k to n without a word).
func checkExpand(k, n int) error {
	if k >= n && k > 0 {
		return badInput("--expand %d: the %d evaluated images would each become the mean of all of them, the same embedding for every image; give K below %d, a few, at most the images of an identity", k, n, n)
	}
	return nil
}

// checkListedExpand is checkExpand of --expand k on the images of the
// counts of a listing (listedCounts): as many as the load gives or more,
// so that a K that the listing is too few for is refused before the load
// (checkExpand after it refuses a K that a load that skips images is too
// few for).
func checkListedExpand(k int, counts []int) error {
	n := 0
	for _, c := range counts {
		n += c
	}
	return checkExpand(k, n)
}

// checkEvaluable refuses to evaluate s, the split of data set name, unless
// two of its identities have two images or more and its images make a
// genuine and an impostor pair for every verification fold: verification
// needs genuine and impostor pairs, identification a gallery image and a
// probe. Of a folder of identities, split test, the line says that
// --split all evaluates every image (eval's).
func checkEvaluable(s *data.Set, name, split string) error {
	counts := make([]int, len(s.Classes))
	for _, l := range s.Labels {
		counts[l]++
	}
	return checkEvaluableCounts(counts, name, split)
}

// checkEvaluableCounts is checkEvaluable of a split whose identities have
// counts images. The counts of a folder's listing (data.ImageCounts) are
// as many as its load gives or more (it may skip some), and fewer images
// make fewer pairs: a listing refused is a load refused, before it.
func checkEvaluableCounts(counts []int, name, split string) error {
	hint := ""
	if split == "test" && name != "mnist" && !isTrainTestFolder(name) {
		hint = "; the test split of a folder of identities is every 5th image of each: --split all evaluates every image, of the identities a model was trained on its training images too; for figures of unseen people, give --split all --classes of identities it was not trained on"
	}
	images, n := 0, 0
	for _, c := range counts {
		images += c
		if c >= 2 {
			n++
		}
	}
	if n < 2 {
		return badInput("%s, split %s: %s; evaluation needs 2 identities of 2 images or more, it has %d%s", name, split, msg.Plural(images, "image", "images"), n, hint)
	}
	genuine := 0
	for _, c := range counts {
		genuine += c * (c - 1) / 2
	}
	impostor := images*(images-1)/2 - genuine
	if min(genuine, impostor) < eval.DefaultFolds {
		return badInput("%s, split %s: %d images make %d genuine and %d impostor pairs; verification's %d folds need %d of each%s", name, split, images, genuine, impostor, eval.DefaultFolds, eval.DefaultFolds, hint)
	}
	return nil
}

// trainedOnLine returns the line, on stderr, that says that eval's
// figures on split of the data set name, of the identities evaluated
// (names: --classes' and --unknown's), include images that models were
// trained on, or "" when they include none or that cannot be told. A
// model trained on them is one trained on name (its provenance's data, or
// a joined member's: provenanceData, as train records it) whose classes
// include an evaluated identity, where split holds its training images:
// split all of a folder of identities holds every image, those of the
// training split (train --split train: four fifths of each identity) too,
// and split test the images that train --split all trained on too.
// mnist's test split and a folder's test/ hold no training image. A model
// whose split is unknown (Provenance.Split "", a file written before it
// was kept) is told of split all alone, which either split overlaps. The
// figures are evaluated still (a user may want training-set figures); the
// line says how to evaluate identities the models were not trained on.
func trainedOnLine(models evalModels, name, split string, evaluated []string) string {
	if name == "mnist" || isTrainTestFolder(name) {
		return ""
	}
	var files, seen []string     // the models trained on evaluated images; those images' identities, in evaluated's order
	trained := map[string]bool{} // every identity those models were trained on
	for i, m := range models.all {
		if !trainedOnSplit(m.Meta.Provenance, provenanceData(name), split) {
			continue
		}
		hit := false
		for _, c := range evaluated {
			if slices.Contains(m.Meta.Classes, c) {
				hit = true
				if !slices.Contains(seen, c) {
					seen = append(seen, c)
				}
			}
		}
		if hit {
			files = append(files, pathText(models.files[i]))
			for _, c := range m.Meta.Classes {
				trained[c] = true
			}
		}
	}
	if len(files) == 0 {
		return ""
	}
	who, was, it := files[0], "was", "it"
	if len(files) > 1 {
		who, was, it = strings.Join(files[:len(files)-1], ", ")+" and "+files[len(files)-1], "were", "they"
	}
	ids := fmt.Sprintf("%s of %s (%s)", msg.Plural(len(seen), "identity", "identities"), pathText(name), msg.Shorten(strings.Join(seen, ", "), 80))
	line := fmt.Sprintf("warning: these figures include images that %s %s trained on: --split all evaluates every image of the %s %s %s trained on, %s training images too", who, was, ids, it, was, map[bool]string{false: "its", true: "their"}[len(files) > 1])
	if split == "test" {
		line = fmt.Sprintf("warning: these figures include images that %s %s trained on: %s %s trained (train --split all) on the images of the %s evaluated, their test images among them", who, was, it, was, ids)
	}
	var unseen []string
	if names, err := data.ClassNames(name, "all"); err == nil {
		unseen = slices.DeleteFunc(names, func(c string) bool { return trained[c] })
	}
	if len(unseen) >= 2 {
		return line + fmt.Sprintf("; for figures of unseen people, evaluate the %d identities %s %s not trained on: --split all --classes of those (%s)", len(unseen), it, was, msg.Shorten(strings.Join(unseen, ", "), 60))
	}
	return line + fmt.Sprintf("; %s has fewer than 2 identities %s %s not trained on: evaluate other people's images for figures of unseen ones", pathText(name), it, was)
}

// trainedOnSplit reports whether a model of provenance p (or a member of
// it, joined) was trained on dataName, its images of split of it included
// (trainedOnLine).
func trainedOnSplit(p core.Provenance, dataName, split string) bool {
	for _, q := range append([]core.Provenance{p}, p.Joined...) {
		if q.Data == dataName && (split == "all" || q.Split == "all") {
			return true
		}
	}
	return false
}

// listedCounts returns the images that the listing of split of the data
// set name counts (data.ImageCounts, no image read) of each of classes,
// indices in names, the split's classes (mnist's, from its labels file);
// ok is false for a listing that cannot be read or whose classes are not
// names (the folder changed meanwhile: an identity renamed, its number
// the same, would shift the counts onto other identities; the load's
// checkLoaded refuses the change).
func listedCounts(name, split string, names []string, classes []int) (counts []int, ok bool) {
	listed, all, err := data.ImageCounts(name, split)
	if err != nil || !slices.Equal(listed, names) {
		return nil, false
	}
	for _, c := range classes {
		counts = append(counts, all[c])
	}
	return counts, true
}

// fitSize is the number of training images that fit a metric and give the
// class centres of `eval`.
const fitSize = 10000

// fitSample returns the images of set that fit a metric and give the class
// centres: all of them when they are n or fewer, else about n stratified
// by class (job.HoldOut's held-out part, deterministic for seed) and the
// first image of every class that got none there. HoldOut gives ⌊c·n/N⌋
// images of a class of c, so none to a class of fewer than N/n (1 to 4
// images of a folder of 2.5·n): such an identity had no class centre, and
// with --unknown no gallery image, and its probes were never right.
func fitSample(set *data.Set, n int, seed int64) *data.Set {
	if set.N <= n {
		return set
	}
	_, fit := job.HoldOut(set, n, seed)
	has := make([]bool, len(set.Classes))
	for _, l := range fit.Labels {
		has[l] = true
	}
	var idx []int
	for i, l := range set.Labels {
		if !has[l] {
			has[l] = true
			idx = append(idx, i)
		}
	}
	fit.X = append(fit.X, set.Batch(nil, idx)...)
	fit.Labels = append(fit.Labels, set.BatchLabels(nil, idx)...)
	fit.N += len(idx)
	return fit
}

// evalSets are the images eval evaluates on (test), --unknown's probes of
// unseen identities (unknown, nil without), and the identities of up to
// fitSize training images (fitSample: stratified, deterministic for the
// seed, every identity's at least one) that fit the metric and give the
// class centres, with loadFit to load those
// images: the identities are known from the folder's names alone, so that
// eval reads (and aligns) the training images only when it uses them.
type evalSets struct {
	test, unknown *data.Set
	fitClasses    []string
	loadFit       func() (*data.Set, error)
}

// loadEvalSets returns eval's sets.
//
// With split "test", the evaluated images are the test split of the classes
// classSpec, and the fitting images come from the training split: of the
// classes fitSpec, or, when it is empty, of the evaluated identities the
// training split has, or of every training identity when it has none of
// them (a folder whose train/ and test/ hold different people: the open
// set).
//
// With split "all" (a folder of identities), the evaluated images are every
// image of the classes classSpec and the fitting images every image of the
// classes fitSpec, by default all the others: the two must not share an
// identity.
//
// The unknown identities (unknownSpec, of the evaluated split) are neither
// evaluated nor fitted on: the default fitting identities leave them out,
// and a fitSpec or classSpec that has one is refused. When no identity is
// left to fit on, or train/ holds none, loadFit says so, and, when fits
// (the metric is fitted: whiten or linear), loadEvalSets before it loads
// anything: only a metric that fits needs one (and a fitSpec, refused
// then). An --expand K (expand) that the evaluated images are too few for
// is refused before the load too, on the listing's counts.
func loadEvalSets(src source, name, split, classSpec, fitSpec, unknownSpec string, fits bool, expand int, in core.Input, seed int64) (evalSets, error) {
	var sets evalSets
	testSplit, fitSplit := "test", "train"
	if split == "all" {
		testSplit, fitSplit = "all", "all"
	}
	// The selections are checked before the load (classNames).
	testNames, err := classNames(name, testSplit)
	if err != nil {
		return sets, err
	}
	var unknown []int // the --unknown classes, by their index in testNames
	if unknownSpec != "" {
		if unknown, err = data.ParseClasses(unknownSpec, testNames); err != nil {
			return sets, classesFlagError("unknown", unknownSpec, err)
		}
	}
	classes, err := data.TrainClasses(classSpec, testNames)
	if err != nil {
		return sets, classesFlagError("classes", classSpec, err)
	}
	if classSpec == "" { // all: all but the unknown ones
		classes = slices.DeleteFunc(classes, func(c int) bool { return slices.Contains(unknown, c) })
		if len(classes) < 2 {
			return sets, badInput("--unknown %q leaves %s of %s to evaluate: need at least 2", unknownSpec, msg.Plural(len(classes), "class", "classes"), name)
		}
	}
	tested := namesOf(testNames, classes) // the evaluated identities' names
	var unseen []string                   // the unknown identities' names
	if unknownSpec != "" {
		unseen = namesOf(testNames, unknown)
		if overlaps(tested, unseen) {
			return sets, badInput("unknown classes %q overlap the evaluated classes", unknownSpec)
		}
	}
	// Split all fits on the split it evaluates, listed once.
	names := testNames
	if fitSplit != testSplit {
		names, err = data.ClassNames(name, fitSplit)
	}
	// A train/ of no identity beside test/ is refused where it is used:
	// the cosine and Euclidean distances on other identities read none.
	var emptyTrain error
	if errors.Is(err, data.ErrNoIdentities) {
		emptyTrain, err = err, nil
	}
	if err != nil {
		return sets, inputError{err}
	}
	var evaluated []int // the evaluated identities, by their index in names
	for c, n := range names {
		if slices.Contains(tested, n) {
			evaluated = append(evaluated, c)
		}
	}
	others := func() []int { // the identities neither evaluated nor unknown
		var cs []int
		for c, n := range names {
			if !slices.Contains(evaluated, c) && !slices.Contains(unseen, n) {
				cs = append(cs, c)
			}
		}
		return cs
	}
	var fit []int
	switch {
	case fitSpec != "" && emptyTrain != nil:
		return sets, badInput("--fit-classes %q: %v", fitSpec, emptyTrain)
	case fitSpec != "":
		if fit, err = data.ParseClasses(fitSpec, names); err != nil {
			return sets, classesFlagError("fit-classes", fitSpec, err)
		}
		if split == "all" && slices.ContainsFunc(fit, func(c int) bool { return slices.Contains(evaluated, c) }) {
			if classSpec == "" {
				return sets, badInput("split all: --fit-classes %q shares identities with the evaluated ones, every identity (but --unknown's) when --classes is not given: give --classes the others", fitSpec)
			}
			return sets, badInput("split all: --fit-classes %q shares identities with --classes %q", fitSpec, classSpec)
		}
		if slices.ContainsFunc(fit, func(c int) bool { return slices.Contains(unseen, names[c]) }) {
			return sets, badInput("--fit-classes %q shares identities with --unknown %q, which must be unseen", fitSpec, unknownSpec)
		}
	case split != "all" && len(evaluated) > 0:
		fit = evaluated
	default:
		fit = others()
	}
	for _, c := range fit {
		sets.fitClasses = append(sets.fitClasses, names[c])
	}
	// The names tell when there is nothing to fit on: a metric that fits
	// is refused before the load.
	var noFit error
	switch {
	case emptyTrain != nil:
		noFit = badInput("%v, and --metric whiten and linear are fitted on its images: give it some, or use --metric cosine or euclidean", emptyTrain)
	case len(fit) == 0:
		// A --fit-classes could only name identities evaluated or
		// unknown, which it must not: fewer of those leaves some.
		noFit = badInput("every identity is evaluated or unknown, none is left to fit the metric: give a --classes (and --unknown) that leaves some out to fit it on")
	}
	if fits && noFit != nil {
		return sets, noFit
	}
	// Without a probe, the open set's figures would be zeros that read as
	// a model that tells no unknown face apart: the split may hold no
	// image of the unknown identities (counted before the load), or the
	// load skip them all.
	noProbe := badInput("--unknown %q: %s, split %s, has no image of these identities: open-set identification needs some as unknown probes", unknownSpec, name, split)
	if unknownSpec != "" {
		if counts, ok := listedCounts(name, testSplit, testNames, unknown); ok && !slices.ContainsFunc(counts, func(n int) bool { return n > 0 }) {
			return sets, noProbe
		}
	}
	// A split that cannot be evaluated is refused before the load too.
	if counts, ok := listedCounts(name, testSplit, testNames, classes); ok {
		if err := checkEvaluableCounts(counts, name, split); err != nil {
			return sets, err
		}
		if err := checkListedExpand(expand, counts); err != nil {
			return sets, err
		}
	}
	all, err := src.load(name, testSplit, in)
	if err != nil {
		return sets, err
	}
	if err := checkLoaded(name, testSplit, testNames, all.Classes); err != nil {
		return sets, err
	}
	sets.test = all.Subset(classes)
	if unknownSpec != "" {
		sets.unknown = all.Subset(unknown)
		if sets.unknown.N == 0 {
			return sets, noProbe
		}
	}
	sets.loadFit = func() (*data.Set, error) {
		if noFit != nil {
			return nil, noFit
		}
		all, err := src.load(name, fitSplit, in)
		if err != nil {
			return nil, err
		}
		if err := checkLoaded(name, fitSplit, names, all.Classes); err != nil {
			return nil, err
		}
		return fitSample(all.Subset(fit), fitSize, seed), nil
	}
	return sets, nil
}

// evalModels is what loadEnsemble loads: one model file, several (an
// ensemble) or raw pixels.
type evalModels struct {
	// embed embeds a data set: with the model, the ensemble's models
	// (their unit embeddings concatenated, eval.Concat), or as raw pixels.
	embed func(*data.Set) (eval.Embeddings, error)
	spec  core.Spec     // the first model's: the input the images are loaded at
	files []string      // the model files, as given (none for raw pixels)
	all   []*core.Model // their models, in that order (none for raw pixels)
	dim   int           // D of the embeddings that embed gives
}

// first returns the first model, nil for raw pixels.
func (e evalModels) first() *core.Model {
	if len(e.all) == 0 {
		return nil
	}
	return e.all[0]
}

// loadEnsemble is loadEmbedder of paths, one path (a file of that name)
// or several separated by commas: their ensemble embeds a data set with each model and
// concatenates the unit embeddings (eval.Concat). The models must take one
// input, aligned or not alike. Each model's embedding draws its progress
// on live, when not nil (loadEmbedder).
func loadEnsemble(paths, dataName, input string, flipTest *bool, live io.Writer) (evalModels, error) {
	list := splitPaths(paths)
	if _, err := os.Stat(paths); len(list) == 1 || err == nil { // a file whose name has a comma is a file
		embed, spec, m, err := loadEmbedder(paths, dataName, input, flipTest, live, "")
		e := evalModels{embed: embed, spec: spec, dim: embedDim(spec, m)}
		if m != nil {
			e.files, e.all = []string{paths}, []*core.Model{m}
		}
		return e, err
	}
	if slices.Contains(list, "raw") || slices.Contains(list, "") {
		return evalModels{}, badInput("--model %q: an ensemble is of model files, not raw pixels or nothing", paths)
	}
	// A file twice is its embeddings twice, which the cosine of their
	// concatenation reads as the file alone: no ensemble, as join has it.
	if err := eachFileOnce(list); err != nil {
		return evalModels{}, err
	}
	var embeds []func(*data.Set) (eval.Embeddings, error)
	e := evalModels{files: list}
	for i, path := range list {
		embed, s, m, err := loadEmbedder(path, dataName, input, flipTest, live, fmt.Sprintf(" (model %d/%d)", i+1, len(list)))
		if err != nil {
			return evalModels{}, err
		}
		e.dim += embedDim(s, m)
		if first := e.first(); first != nil {
			if a, b := first.Meta.Spec.Input, m.Meta.Spec.Input; !a.SameShape(b) || first.Meta.Provenance.Align != m.Meta.Provenance.Align {
				return evalModels{}, badInput("ensemble: %s takes %d×%d×%d images (aligned %t), %s %d×%d×%d (aligned %t): its models must take the same images",
					list[0], a.Channels, a.Height, a.Width, first.Meta.Provenance.Align, path, b.Channels, b.Height, b.Width, m.Meta.Provenance.Align)
			}
		}
		e.all = append(e.all, m)
		embeds = append(embeds, embed)
	}
	// A copy of a file is the file twice, as eachFileOnce has it.
	if err := eachModelOnce(list, e.all); err != nil {
		return evalModels{}, err
	}
	e.embed = func(s *data.Set) (eval.Embeddings, error) {
		members := make([]eval.Embeddings, len(embeds))
		for i, embed := range embeds {
			var err error
			if members[i], err = embed(s); err != nil {
				return eval.Embeddings{}, err
			}
		}
		return eval.Concat(members)
	}
	// The images are loaded at the first model's input; each model
	// normalises them as it was trained (its own Input.Mean and Std).
	e.spec = e.first().Meta.Spec
	return e, nil
}

// embedDim is D of the embeddings of loadEmbedder's model m of spec: raw
// pixels' (m nil) are the images at spec's input.
func embedDim(spec core.Spec, m *core.Model) int {
	if m == nil {
		return spec.Input.Size()
	}
	return spec.EmbedDim()
}

// loadEmbedder returns a function that embeds a data set with the model at
// path, or with raw pixels when path is "raw"; flipTest, when not nil,
// overrides the model's flip test (core.Spec.FlipTest). A model's
// embedding, eval's longest part (35 s for MNIST's test images with
// lenetpp), draws a live line of the images embedded on live, when not
// nil (a terminal: embedProgress); member says which model of an
// ensemble it is (" (model 2/3)"; "" for one model).
func loadEmbedder(path, dataName, input string, flipTest *bool, live io.Writer, member string) (func(*data.Set) (eval.Embeddings, error), core.Spec, *core.Model, error) {
	if path == "raw" {
		if flipTest != nil {
			return nil, core.Spec{}, nil, badInput("--flip-test needs a model (not raw pixels)")
		}
		var mf modelFlags
		mf.arch, mf.dim, mf.input = "mlp", 2, input
		spec, err := mf.spec(dataName)
		if err != nil {
			return nil, spec, nil, err
		}
		raw := func(s *data.Set) (eval.Embeddings, error) {
			return eval.Embeddings{X: s.X, N: s.N, D: s.Input.Size(), Labels: s.Labels}, nil
		}
		return raw, spec, nil, nil
	}
	m, err := core.ReadModel(path)
	if err != nil {
		return nil, core.Spec{}, nil, inputError{err}
	}
	if err := m.Validate(losses.Check); err != nil {
		return nil, core.Spec{}, nil, inputError{err} // it names the file
	}
	spec := m.Meta.Spec
	if flipTest != nil {
		spec.FlipTest = *flipTest
	}
	embed := func(s *data.Set) (eval.Embeddings, error) {
		report, done := embedProgress(live, member)
		e, err := job.EmbedSetProgress(spec, m.Params, s, report)
		done()
		if err == nil && !vec.AllFinite(e.X) {
			err = inputError{fmt.Errorf("%s: its embeddings of these images are not all finite numbers", path)}
		}
		return e, err
	}
	return embed, spec, m, nil
}

// metricDim is the dimension in which m compares embeddings of d values:
// a whitening's number of components kept, else d.
func metricDim(m eval.Metric, d int) int {
	if w, ok := m.(eval.Mahalanobis); ok {
		d, _ = w.W.Dims()
	}
	return d
}

// fitMetric returns the named metric, fitting it on train where it learns:
// whiten keeps pca principal components (at most D, and fewer than the
// images less the classes), with a ridge of a tenth of the mean
// within-class variance; linear needs two images of one identity at
// least (NCA draws each image towards the others of its identity: without
// any, it learns nothing and would leave its initial W), and two
// identities (of one alone, NCA's objective is 1 for every W). A fit that fails
// on these images (images that do not vary: a singular covariance) is bad
// input; whiten's says what to do, as the ridge, relative, is 0 then.
// progress, when not nil, hears linear's steps (fitProgress).
func fitMetric(name string, train eval.Embeddings, pca int, seed int64, progress func(step, steps int, objective float64)) (eval.Metric, error) {
	switch name {
	case "cosine":
		return eval.Cosine{}, nil
	case "euclidean":
		return eval.Euclidean{}, nil
	case "whiten":
		classes := map[int]bool{}
		for _, l := range train.Labels {
			classes[l] = true
		}
		k := min(pca, train.D, train.N-len(classes)-1)
		if k < 1 {
			return nil, badInput("whiten: %s of %s are too few to fit a metric", msg.Plural(train.N, "training image", "training images"), msg.Plural(len(classes), "class", "classes"))
		}
		m, err := eval.WhiteningPCA(train, k, 0.1)
		if errors.Is(err, eval.ErrSingular) { // the ridge, relative to the within-class variance, is 0 too
			return nil, badInput("whiten: the %d training images do not vary within their identities (in the %d principal components kept): fit it on more images of each identity, or more varied ones, or use --metric cosine", train.N, k)
		}
		if err != nil {
			return nil, badInput("whiten: cannot be fitted on these %d training images: %v", train.N, err)
		}
		return m, nil
	case "linear":
		seen := map[int]bool{}
		pair := false
		for _, l := range train.Labels {
			pair = pair || seen[l]
			seen[l] = true
		}
		if !pair {
			return nil, badInput("linear: %s of %s, none of two images: NCA learns from images of one identity", msg.Plural(train.N, "training image", "training images"), msg.Plural(len(seen), "class", "classes"))
		}
		if len(seen) < 2 {
			return nil, badInput("linear: %s of 1 class, no other to tell it from: NCA learns from images of two identities or more", msg.Plural(train.N, "training image", "training images"))
		}
		m, err := eval.LearnLinear(train, min(train.D, 64), eval.LearnOptions{Seed: seed, Progress: progress})
		if err != nil {
			return nil, badInput("linear: cannot be fitted on these %d training images: %v", train.N, err)
		}
		return m, nil
	}
	return nil, badInput("unknown metric %q (want %s)", name, strings.Join(evalMetrics, ", "))
}

// tellWhitenKept says on w, in one line, when whiten m fitted on train
// keeps fewer principal components than the asked (--pca, at most D;
// given says whether --pca was): fitMetric keeps fewer than the images
// less the classes. openset's and compare's fits of raw pixels, at 32
// components, say nothing: their rows' D is the components kept.
func tellWhitenKept(w io.Writer, m eval.Metric, train eval.Embeddings, asked int, given bool) {
	mm, ok := m.(eval.Mahalanobis)
	if !ok {
		return
	}
	kept, _ := mm.W.Dims()
	if kept >= asked {
		return
	}
	classes := map[int]bool{}
	for _, l := range train.Labels {
		classes[l] = true
	}
	how := "asked"
	if !given {
		how = "asked by default"
	}
	fmt.Fprintf(w, "whiten: %s kept of the %d %s: %s of %s allow at most %d\n",
		msg.Plural(kept, "principal component", "principal components"), asked, how, msg.Plural(train.N, "training image", "training images"), msg.Plural(len(classes), "class", "classes"), kept)
}

// evalMetrics are the metrics fitMetric knows.
var evalMetrics = []string{"cosine", "euclidean", "whiten", "linear"}

// namesOf returns the names of classes, indices in names.
func namesOf(names []string, classes []int) []string {
	out := make([]string, len(classes))
	for i, c := range classes {
		out[i] = names[c]
	}
	return out
}

func overlaps(a, b []string) bool {
	seen := make(map[string]bool, len(a))
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if seen[s] {
			return true
		}
	}
	return false
}

// printReport prints the report as a short table for people.
func printReport(w io.Writer, o evalOutput) {
	r := o.Report
	on := o.Data
	if in := o.Input; o.Data != "mnist" && in.Size() > 0 {
		on += fmt.Sprintf(" read at %d×%d×%d", in.Channels, in.Height, in.Width)
	}
	fmt.Fprintf(w, "%s on %s, %d probes, metric %s\n", o.Model, on, o.Probes, o.Metric)
	if o.Expand > 0 {
		fmt.Fprintf(w, "expanded       each embedding the mean of its %d nearest of the %d evaluated (transductive)\n", o.Expand, o.Probes)
	}
	fmt.Fprintf(w, "closed set     nearest-centre accuracy %.4f", r.ClosedSet.Accuracy)
	if r.ClosedSet.Classifier != nil {
		fmt.Fprintf(w, ", classifier accuracy %.4f", *r.ClosedSet.Classifier)
	}
	fmt.Fprintln(w)
	v := r.Verification
	fmt.Fprintf(w, "verification   accuracy %.4f ± %.4f, threshold %.3f (FAR %.4f), EER %.4f, AUC %.4f, TAR@FAR %s\n",
		v.Accuracy, v.AccuracyStd, v.Threshold, v.FAR, v.EER, v.AUC, atFARs(v.TARAtFAR))
	id := r.Identification
	fmt.Fprintf(w, "identification rank-1 %.4f, rank-5 %.4f\n", id.Rank1, id.Rank5)
	if id.OpenSet != nil {
		fmt.Fprintf(w, "open set       detection AUC %.4f, DIR@FAR %s\n", id.OpenSet.DetectionAUC, atFARs(id.OpenSet.DIRAtFAR))
	}
	rt := r.Retrieval
	fmt.Fprintf(w, "retrieval      P@1 %.4f, R-precision %.4f, MAP@R %.4f\n", rt.PrecisionAt1, rt.RPrecision, rt.MAPAtR)
}

// atFARs is the part of printReport's line that gives figures at the false
// accept rates of eval.FARLevels, TAR@FAR's or DIR@FAR's, in that order:
// "0.1/0.01/0.001 0.9500/0.8000/0.6000".
func atFARs(figures map[string]float64) string {
	var fars, values []string
	for _, far := range eval.FARLevels() {
		key := eval.FARKey(far)
		fars = append(fars, key)
		values = append(values, fmt.Sprintf("%.4f", figures[key]))
	}
	return strings.Join(fars, "/") + " " + strings.Join(values, "/")
}
