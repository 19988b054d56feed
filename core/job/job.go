// Package job trains one msg.TrainRequest step by step and reports in the
// terms of package msg: the one training loop of metriclab, run by the
// command line (`metriclab train`), by the server's jobs and by the
// browser's trainer worker (wasm/trainer), natively and in WebAssembly.
//
// A Job owns its data after New: the training images of the requested
// classes, a stratified held-out part of them on which each epoch ends with
// 1:1 verification (the recommended threshold of the model file), and a
// fixed stratified subset of the test images that Snapshot embeds for the
// hypersphere viewer. One step is one batch; the caller decides when to
// step, so it can pause, yield to an event loop or stop between steps.
package job

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/eval"
	"metriclab/core/msg"
	"metriclab/core/vec"
	"metriclab/losses"
)

// Defaults of Options.
const (
	DefaultVal            = 5000 // held-out images, at most a tenth of the training set
	DefaultSnapshotPoints = 2000 // test images in a snapshot
	DefaultSnapshotPairs  = 1000 // genuine pairs (and as many impostor pairs) of the angle histograms
	HistogramBins         = 36   // angle histogram bins of 5° over [0°, 180°]
)

// MaxGlyphValues bounds the pixels of req.Glyphs's images, which a job
// draws at its start and keeps: 2^26 float32 values, 256 MiB (the digits
// preset's 500 classes of 28×28 take 31 MB, 1,000 of 1×48×48 184 MB;
// 3×256×256 images allow 17 classes).
const MaxGlyphValues = 1 << 26

// Verification protocol on the held-out images, as `metriclab eval`: 10
// folds of up to 300 genuine and 300 impostor pairs.
const (
	valFolds   = 10
	valPerFold = 300
)

// rateWindow is the number of recent steps whose images and training
// durations give Progress.ImgPerS.
const rateWindow = 20

// wallWindow is the number of recent steps whose wall-clock durations, end
// to end, give Progress.ETA: long enough that the caller's snapshots
// (every few seconds in the browser) and an epoch end's validation weigh
// in it as they weigh in the run.
const wallWindow = 100

// ErrRequest is wrapped by New's errors about the request itself (as
// opposed to a failure to build the graph), so that a server can answer
// them as bad input: errors.Is(err, job.ErrRequest).
var ErrRequest = errors.New("bad training request")

// ErrMemory is the error of a job whose training would take more memory
// than Options.MaxTrainBytes allows; it is an ErrRequest too. The command
// line so names the flag that sets the bound.
var ErrMemory = errors.New("training takes more memory than allowed")

// requestError is a one-line message about a bad request; memory: a
// training over Options.MaxTrainBytes (ErrMemory).
type requestError struct {
	msg    string
	memory bool
}

func (e requestError) Error() string { return e.msg }
func (e requestError) Is(target error) bool {
	return target == ErrRequest || e.memory && target == ErrMemory
}

func badRequest(format string, a ...any) error { return requestError{msg: fmt.Sprintf(format, a...)} }

// CheckEarlyStop refuses an early stop (epochs without better held-out
// verification) out of [0, 10000]. The error wraps ErrRequest.
func CheckEarlyStop(epochs int) error {
	if epochs < 0 || epochs > 10000 {
		return badRequest("early stop after %d epochs out of range [0, 10000]", epochs)
	}
	return nil
}

// CheckGlyphsLoss refuses glyph classes for a loss of P×K batches, which
// would draw the glyphs' classes as often as the data's. The error wraps
// ErrRequest.
func CheckGlyphsLoss(loss core.Loss, glyphs int) error {
	if glyphs > 0 && core.BatchesPK(loss) {
		return badRequest("glyphs with %s: its batches of P classes × K images would draw the glyphs' classes as often as the data's (use a classification loss, or glyphs 0)", loss.Name())
	}
	return nil
}

// CheckClasses refuses a training of req on the data's classes names
// (those req.Classes selects) of images of shape in that New would refuse
// for them: their composition (req.Compose), the glyphs' memory at that
// shape, the model's class names. It returns the classes trained on (see
// Job.Classes). The names of a folder's identities are known before its
// images are loaded: so checked, a training that cannot start is refused
// before the load. The error wraps ErrRequest.
func CheckClasses(req msg.TrainRequest, names []string, in core.Input) ([]string, error) {
	parts, err := data.ParseParts(req.Compose)
	if err != nil {
		return nil, requestError{msg: err.Error()}
	}
	if err := parts.Validate(len(names), in); err != nil {
		return nil, requestError{msg: err.Error()}
	}
	if err := msg.CheckGlyphs(req.Glyphs); err != nil {
		return nil, requestError{msg: err.Error()}
	}
	if size := in.Size(); req.Glyphs > MaxGlyphValues/(data.GlyphImages*size) {
		return nil, badRequest("glyphs %d: at most %d classes of %d×%d×%d images (%d images of a class, %d MiB in all)",
			req.Glyphs, MaxGlyphValues/(data.GlyphImages*size), in.Channels, in.Height, in.Width, data.GlyphImages, MaxGlyphValues*4>>20)
	}
	composed := parts.Names(names)
	for c := range req.Glyphs {
		composed = append(composed, data.GlyphName(c))
	}
	var classes []string
	for _, name := range composed {
		for k := range max(1, req.Turns) {
			classes = append(classes, data.TurnedName(name, k))
		}
	}
	if err := core.CheckClassNames(classes); err != nil {
		// A model must name its classes so (core.Model.Validate): an
		// identity called "glyph 1" beside glyph classes would train to
		// the end and give a model nothing can load.
		return nil, badRequest("the training classes: %v", err)
	}
	return classes, nil
}

// CheckBatch refuses a batch that loss's P×K batches would fill with one
// class: P = batch/k (epochOrder), and P = 1 leaves no negative, so the
// loss is 0 at every step. The error wraps ErrRequest.
func CheckBatch(loss core.Loss, batch int) error {
	b, ok := loss.(core.Batcher)
	if !ok {
		return nil
	}
	if p, k, pk := b.NeedsPK(); pk && p == 0 && batch/k < 2 {
		return badRequest("batch %d with %s's k = %d holds one class, no negative to learn from: want a batch of 2k = %d or more, or a smaller k", batch, loss.Name(), k, 2*k)
	}
	return nil
}

// fitBatch returns the batch of a request whose batch, a default
// (msg.TrainRequest.BatchDefault), is more than the n training images:
// the most of them that loss takes (CheckBatch: a loss of P×K batches
// takes 2k or more) and that split evenly among workers. 0: none, n is
// too few (a batch is 2 images or more).
func fitBatch(loss core.Loss, n, workers int) int {
	for b := n; b >= 2; b-- {
		if b%workers == 0 && CheckBatch(loss, b) == nil {
			return b
		}
	}
	return 0
}

// batchNote says that the job of req trains with a batch of b, fewer
// than the default it was given, the n training images being fewer: "batch
// 28: the 28 training images (the faces preset's batch is 32)".
func batchNote(req msg.TrainRequest, b, n int) string {
	of := "the default batch"
	if p, ok := msg.PresetByName(req.Preset); ok && p.Request.Batch == req.Batch {
		of = "the " + p.Name + " preset's batch"
	}
	if b == n {
		return fmt.Sprintf("batch %d: the %d training images (%s is %d)", b, n, of, req.Batch)
	}
	return fmt.Sprintf("batch %d: the most of the %d training images that one batch takes (%s is %d)", b, n, of, req.Batch)
}

// checkPositives refuses a loss that learns from pairs when no identity
// of the training images (labels) has two of them: contrastive would see
// no genuine pair, and triplet's P×K batches would fill each identity's K
// with copies of its one image (losses.PKOrder), the same image as its
// own positive. The error wraps ErrRequest.
func checkPositives(loss core.Loss, labels []int) error {
	if !losses.LearnsFromPairs(loss.Name()) {
		return nil
	}
	counts := make(map[int]int)
	for _, l := range labels {
		if counts[l]++; counts[l] == 2 {
			return nil
		}
	}
	return badRequest("%s learns from two images of one identity, and none of the %d training identities has two: give identities of two images or more, or a classification loss (arcface)", loss.Name(), len(counts))
}

// Options tunes a Job beyond its request.
type Options struct {
	// Val is the number of training images held out for verification at
	// epoch ends (see holdOutIndex): 0 takes DefaultVal; it is capped to a
	// tenth of the training images of the requested classes, and every
	// identity of at least MinPerIdentity images gives at least 2, so
	// that small folders have genuine pairs too. < 0 holds none out (no
	// verification, a model without threshold).
	Val int
	// SnapshotPoints is the number of test images Snapshot embeds; 0 takes
	// DefaultSnapshotPoints.
	SnapshotPoints int
	// SnapshotPairs is the number of genuine pairs, and of impostor pairs,
	// among the snapshot's points whose angles make the histograms; 0 takes
	// DefaultSnapshotPairs.
	SnapshotPairs int
	// Version is the metriclab version recorded in the model's provenance.
	Version string
	// Threads is core.TrainConfig.Threads: the CPU threads of the engine,
	// 0 for one per CPU.
	Threads int
	// MaxTrainBytes refuses a job whose training would take more memory
	// (TrainBytes), before any of it is allocated; 0: no bound.
	MaxTrainBytes int64
	// CheckOnly makes New check the request and stop before the engine:
	// the job answers Steps, TrainBytes and Close and nothing else. The
	// server so checks a request without allocating its training (a CUDA
	// job's on the host, too).
	CheckOnly bool
	// Engine makes the training engine; nil is the gorgonia engine
	// (core.NewGorgonia). The server passes the CUDA engine's for jobs
	// on a GPU. An engine that holds a device implements io.Closer, and
	// Close releases it.
	Engine core.EngineFunc
	// Shard makes the job one of Shard.Count data-parallel workers (the
	// browser's Web Workers; core.Sharded says how the gradients meet):
	// every worker walks the same batches, and this one trains on its
	// share of each, images [Index·N/Count, (Index+1)·N/Count) of a batch
	// of N, with ShardGradients and ApplyShard instead of Step. The zero
	// value is a job of its own.
	Shard Shard
}

// Shard is a worker's place among data-parallel workers: Index of Count.
type Shard struct{ Index, Count int }

// Job trains one msg.TrainRequest step by step and reports in msg terms.
// A Job is not safe for concurrent use.
type Job struct {
	req  msg.TrainRequest
	opts Options
	spec core.Spec
	loss core.Loss
	opt  core.OptConfig
	tr   core.Engine

	set         *data.Set // training images of the requested classes, held-out ones included
	sum         string    // dataSum's, once computed
	glyphs      *data.Set // req.Glyphs's classes, rows set.N… and labels C…, drawn by the first batch that needs them
	trainIdx    []int     // the images of set that are trained on, sorted, then glyphs' (set.N…)
	trainLabels []int     // their labels
	val         *data.Set // held-out images
	folds       []eval.Fold
	classes     []string

	steps, total int       // steps per epoch, in all
	src          *rand.PCG // rng's source, which a checkpoint keeps
	rng          *rand.Rand
	order        []int // this epoch's order, positions in trainIdx
	rows         []int // the current batch's rows of set
	x            []float32
	labels       []int
	epoch        int
	aug          data.Augmentation
	augSrc       *rand.PCG  // augRng's source, which a checkpoint keeps
	augRng       *rand.Rand // the augmentation's, the turns' and the composition's draws
	augBuf       []float32  // one augmented image
	turns        int        // new classes per class (req.Turns), ≥ 1
	parts        data.Parts // composition of new classes (req.Compose)
	perm         []int      // permutations of the batch's images of the data's classes: those lending a part
	composed     []float32  // the composed batch
	partLabels   []int      // the classes of one image's parts
	stepStart    time.Time  // when the current sharded step began
	shardRows    int        // the batch rows of this worker: N/Shard.Count

	best       map[string]core.Tensor   // with EarlyStop: the parameters of the best epoch so far
	bestVerif  *eval.VerificationReport // and its verification
	bestCentre float64                  // and its nearest-centre accuracy
	bestEpoch  int                      // 0: none yet
	stopped    bool                     // EarlyStop ended the run
	diverged   error                    // and why, when training diverged after the best epoch (Diverged)

	rate      [rateWindow]time.Duration // training durations of the recent steps (ImgPerS)
	wall      [wallWindow]time.Duration // their wall-clock durations, from the end of the step before (ETA)
	timed     int                       // steps timed by this Job (not a checkpoint's), which index rate and wall
	lastEnd   time.Time                 // the end of the last step, or the Continue after it; zero: none
	now       func() time.Time          // the clock of rates and time left: time.Now, a test's own
	accuracy  float64                   // the head's own accuracy (headAccuracy) on the snapshot's images, at the last Embeddings
	last      *eval.VerificationReport  // the last epoch end's verification
	centre    float64                   // and its nearest-centre accuracy
	lastLoss  float64                   // the last step's loss
	lossKnown bool                      // whether lastLoss is one: a step was taken, or the checkpoint resumed held it

	snap snapshotState

	// note says what New chose that the request did not say: the batch
	// it lowered to the training images (batchNote). "": nothing.
	note string
}

// New validates req and prepares its training on train, evaluating
// snapshots on test (nil: on the held-out images). train and test are the
// full data sets; New selects req.Classes of both and does not change them
// (it copies what it keeps when req selects a subset of the classes).
//
// The encoder is core.DefaultSpec(req.Arch, req.Dim) with the shape of
// train's images, req.EmbedBN, req.FlipTest, req.Crop and req.Views (an
// encoder per view, each with a loss of its own: core.NewViews); its input normalisation is MNIST's when req.Data is
// "mnist" and maps [0,1] to [−1,1] otherwise. The loss is losses.New with
// req.LossParams, Miner and Distance; the optimiser core.DefaultOpt(req.Opt)
// (default "adam"), with req.LR when it is not 0 and req.Schedule (default
// "cosine"; "step" divides it by 10 at each third of the run) over all the steps, and
// req.WeightDecay when it is set. req.Augment names the data.Augmentation
// applied to every training image of every batch (not to held-out or
// snapshot images), drawn from a generator of its own; Restore does not
// replay those draws. req.EarlyStop, with held-out pairs, keeps the
// parameters of the epoch of best held-out verification accuracy and ends
// the run after that many epochs without improvement.
// req.Compose makes every training image of a batch of parts of others
// (see data.Parts): the first part its own, part k from the image of a
// random permutation of the batch drawn for that part, and its class the
// tuple of their classes, so the head has C^parts rows; then req.Turns > 1
// turns every training image by a random turn k (see
// data.Turn) and trains it as class y·Turns + k: the head and the model's
// classes (named by data.TurnedName) are Turns times as many (8 turns,
// which mirror, with no augmentation that mirrors: see
// data.Augmentation.CheckTurns); held-out
// and snapshot images are not turned, and the head accuracy and the
// snapshot's weights are those of the unturned classes.
// req.Glyphs adds that many classes of made-up characters
// (data.Glyphs, drawn from req.Seed) to the training images, after the
// composed classes in the head; they are trained on and never held out,
// composition leaves them whole (the data's images of a batch lend each
// other their parts), and turns turn them as any class. They take at most
// MaxGlyphValues pixels, and no loss that batches P classes × K images.
// req.Seed seeds the weights, the batches, the held-out split, the pairs,
// the augmentations and turns, and the snapshot's points.
// A batch of more images than are trained on is refused, unless
// req.BatchDefault says it is a default: then the job trains with the most
// of them that a batch takes (fitBatch), and Note says so.
// Every error is one line, fit to show a user; those
// about the request wrap ErrRequest.
func New(req msg.TrainRequest, train, test *data.Set, opts Options) (*Job, error) {
	if train == nil {
		panic("job: New: nil training set")
	}
	if req.Epochs < 1 || req.Epochs > 10000 {
		return nil, badRequest("epochs %d out of range [1, 10000]", req.Epochs)
	}
	if err := CheckEarlyStop(req.EarlyStop); err != nil {
		return nil, err
	}
	if err := msg.CheckPreset(req.Preset); err != nil {
		return nil, requestError{msg: err.Error()}
	}
	aug, err := data.AugmentationByName(req.Augment)
	if err != nil {
		return nil, requestError{msg: err.Error()}
	}
	loss, err := losses.New(losses.Config{Name: req.Loss, Dim: req.Dim, Values: req.LossParams, Miner: req.Miner, Distance: req.Distance})
	if err != nil {
		return nil, requestError{msg: err.Error()}
	}
	spec := core.DefaultSpec(req.Arch, req.Dim)
	spec.EmbedBN, spec.FlipTest, spec.Crop, spec.Views = req.EmbedBN, req.FlipTest, req.Crop, req.Views
	spec.Input.Channels, spec.Input.Height, spec.Input.Width = train.Input.Channels, train.Input.Height, train.Input.Width
	if req.Data != "mnist" {
		spec.Input.Mean, spec.Input.Std = 0.5, 0.5
	}
	if err := spec.ValidateTraining(); err != nil {
		return nil, requestError{msg: err.Error()}
	}
	if err := data.ValidTurns(req.Turns, spec.Input); err != nil {
		return nil, requestError{msg: err.Error()}
	}
	if err := aug.CheckTurns(req.Turns); err != nil {
		return nil, requestError{msg: err.Error()}
	}
	parts, err := data.ParseParts(req.Compose)
	if err != nil {
		return nil, requestError{msg: err.Error()}
	}
	onCUDA := strings.HasPrefix(req.Device, "cuda") // cuda, and cuda-emu: the same engine
	if req.Crop != (msg.Crop{}) && onCUDA {
		return nil, badRequest("device %s: the CUDA engine has no crop (crop %v): train it on the cpu", req.Device, req.Crop)
	}
	if len(req.Views) > 0 && onCUDA {
		return nil, badRequest("device %s: the CUDA engine has no crop, so no views (views %s): train it on the cpu", req.Device, msg.FormatViews(req.Views))
	}
	if req.Batch < 2 || req.Batch > 4096 {
		return nil, badRequest("batch %d out of range [2, 4096]", req.Batch)
	}
	if err := CheckBatch(loss, req.Batch); err != nil {
		return nil, err
	}
	classes, err := data.TrainClasses(req.Classes, train.Classes)
	if err != nil {
		return nil, requestError{msg: err.Error()}
	}
	set := subset(train, classes)
	if test != nil {
		ti, in := test.Input, train.Input
		if len(test.Classes) != len(train.Classes) || ti.Channels != in.Channels || ti.Height != in.Height || ti.Width != in.Width {
			return nil, badRequest("the test set has %d classes of %d×%d×%d images, the training set %d of %d×%d×%d",
				len(test.Classes), test.Input.Channels, test.Input.Height, test.Input.Width,
				len(train.Classes), train.Input.Channels, train.Input.Height, train.Input.Width)
		}
		test = subset(test, classes)
	}

	if err := CheckGlyphsLoss(loss, req.Glyphs); err != nil {
		return nil, err
	}
	j := &Job{req: req, opts: opts, spec: spec, loss: loss, set: set, aug: aug, turns: max(1, req.Turns), parts: parts, now: time.Now}
	if j.classes, err = CheckClasses(req, set.Classes, set.Input); err != nil {
		return nil, err
	}
	valN := opts.Val
	if valN == 0 {
		valN = DefaultVal
	}
	valN = min(valN, set.N/10)
	if opts.Val < 0 {
		j.trainIdx = make([]int, set.N)
		for i := range j.trainIdx {
			j.trainIdx[i] = i
		}
		j.val = pick(set, nil)
	} else {
		var vIdx []int
		j.trainIdx, vIdx = holdOutIndex(set.Labels, valN, req.Seed)
		j.val = pick(set, vIdx)
		j.folds = valPairs(j.val.Labels, req.Seed)
	}
	if req.EarlyStop > 0 && len(j.folds) == 0 {
		return nil, badRequest("early stop needs held-out verification pairs, and the %d images held out give none (an identity of %d images or more gives 2)", j.val.N, MinPerIdentity)
	}
	j.trainLabels = set.BatchLabels(nil, j.trainIdx)
	for i := range req.Glyphs * data.GlyphImages { // data.Glyphs's order: class by class
		j.trainIdx = append(j.trainIdx, set.N+i)
		j.trainLabels = append(j.trainLabels, len(set.Classes)+i/data.GlyphImages)
	}
	if n := len(j.trainIdx); n < req.Batch {
		b := fitBatch(loss, n, max(1, opts.Shard.Count))
		switch {
		case b == 0:
			why := "a batch is 2 images or more"
			if err := CheckBatch(loss, n); n >= 2 && err != nil {
				why = err.Error()
			} else if n >= 2 {
				why = fmt.Sprintf("a batch splits evenly among the %d workers", opts.Shard.Count)
			}
			return nil, badRequest("%s, fewer than one batch of %d, and no smaller batch trains (%s): give more images", msg.Plural(n, "training image", "training images"), req.Batch, why)
		case !req.BatchDefault:
			return nil, badRequest("%d training images, fewer than one batch of %d: give a batch of %d or less", n, req.Batch, b)
		}
		j.note = batchNote(req, b, n)
		req.Batch, j.req.Batch = b, b
	}
	if err := checkPositives(loss, j.trainLabels); err != nil {
		return nil, err
	}
	j.steps = len(j.trainIdx) / req.Batch
	j.total = req.Epochs * j.steps

	if o := cmp.Or(req.Opt, msg.TrainDefaults().Opt); o != core.OptSGD && o != core.OptAdam {
		return nil, badRequest("unknown optimiser %q (want sgd or adam)", req.Opt)
	}
	res := ResolveOpt(req)
	j.opt = core.DefaultOpt(res.Opt)
	j.opt.LR, j.opt.WeightDecay = res.LR, *res.WeightDecay
	j.opt = j.opt.WithSchedule(res.Schedule, j.total)
	if err := j.opt.Validate(); err != nil {
		return nil, requestError{msg: err.Error()}
	}

	newEngine := opts.Engine
	if newEngine == nil {
		newEngine = core.NewGorgonia
	}
	engineBatch := req.Batch
	if sh := opts.Shard; sh != (Shard{}) {
		if sh.Count < 1 || sh.Index < 0 || sh.Index >= sh.Count {
			return nil, badRequest("worker %d of %d: want 0 ≤ worker < workers", sh.Index, sh.Count)
		}
		if req.Batch%sh.Count != 0 {
			return nil, badRequest("batch %d does not split evenly among %d workers", req.Batch, sh.Count)
		}
		engineBatch = req.Batch / sh.Count
		if req.EarlyStop > 0 {
			return nil, badRequest("early stopping needs one worker (worker 0 alone validates)")
		}
	}
	if opts.MaxTrainBytes > 0 && j.TrainBytes() > opts.MaxTrainBytes { // the plan is made only for a bound
		views := ""
		if len(spec.Views) > 0 {
			views = fmt.Sprintf(", %d views", len(spec.Views))
		}
		need, bound := memSizes(j.TrainBytes(), opts.MaxTrainBytes)
		return nil, requestError{msg: fmt.Sprintf("training this job takes about %s of memory (batch %d, arch %s, %d classes%s), more than is allowed (%s): ask for a smaller batch or model",
			need, req.Batch, req.Arch, len(j.classes), views, bound), memory: true}
	}
	j.shardRows = engineBatch
	if opts.CheckOnly {
		return j, nil
	}
	cfg := core.TrainConfig{Batch: engineBatch, Classes: len(j.classes), Opt: j.opt, Seed: req.Seed, Threads: opts.Threads}
	if len(spec.Views) > 0 {
		j.tr, err = newViews(req, spec, loss, cfg, newEngine)
	} else {
		j.tr, err = newEngine(spec, loss, cfg)
	}
	if err != nil {
		return nil, err
	}
	j.src = rand.NewPCG(uint64(req.Seed), 0)
	j.rng = rand.New(j.src)
	j.order = make([]int, len(j.trainIdx))
	j.rows = make([]int, req.Batch)
	j.labels = make([]int, req.Batch)
	if aug.Active() || j.turns > 1 || parts.N() > 1 || len(set.Alts) > 0 {
		j.augSrc = rand.NewPCG(uint64(req.Seed), 0xa06)
		j.augRng = rand.New(j.augSrc)
		j.augBuf = make([]float32, set.Input.Size())
	}

	points := test
	if points == nil || points.N == 0 {
		points = j.val
	}
	if points.N == 0 {
		points = set // nothing held out (a small set): show the training images
	}
	j.snap.init(points, j.opts, req.Seed)
	return j, nil
}

// valPairs draws the verification pairs of the held-out labels: valFolds
// folds of up to valPerFold genuine and as many impostor pairs, or, when
// the held-out images are too few for that (a small set), as many folds as
// there are genuine pairs, down to one; nil when there is no genuine or no
// impostor pair at all (Step then skips verification).
func valPairs(labels []int, seed int64) []eval.Fold {
	for folds := valFolds; folds >= 1; folds-- {
		if f := eval.Pairs(labels, folds, valPerFold, seed); len(f) > 0 {
			return f
		}
	}
	return nil
}

// subset returns the images of s of the given classes (sorted, no
// duplicates), s itself when they are all of them.
func subset(s *data.Set, classes []int) *data.Set {
	if len(classes) == len(s.Classes) {
		return s
	}
	return s.Subset(classes)
}

// Step trains on one batch and returns the progress. The batches of an
// epoch follow a fresh shuffle of the training images, or P×K order for
// losses that ask for it (core.Batcher). The step that ends an epoch also
// runs 1:1 verification on the held-out images (when they make at least
// one genuine and one impostor pair) and
// reports it in Progress.Verification. Errors are the engine's (a loss
// that became NaN, say), or, at the step that ends the run, a Model that
// core.Model.Validate refuses (weights past its bounds: a run that
// diverged with finite losses); calling Step when Done is an error too.
// With EarlyStop, a divergence after the best epoch (a loss, or held-out
// embeddings, that are not finite) ends the run as early stopping does
// (Done, with the best epoch's parameters; Diverged says why); the
// progress of a step that was not taken is that of the last one.
//
// Progress.LR is the learning rate of the next step; ImgPerS is the
// training's throughput, the images of the last steps over the time spent
// in their training (not validation, not the caller's work between steps,
// not its pauses); ETA is wall-clock: the steps left at the time the last
// steps took end to end, each from the end of the step before (or from
// Continue), so that validation and what the caller does between steps
// count, and a pause does not. Accuracy is the accuracy of
// the head's own prediction (losses.HeadAccuracy) on the snapshot's images
// (see Embeddings: the test images the viewer shows) at the last Snapshot
// or Embeddings, for losses with class weights (core.Spec.ClassWeights); 0
// otherwise and before the first. An epoch end's held-out images give its
// Verification, not Accuracy: the page draws Accuracy as one curve.
func (j *Job) Step() (msg.Progress, error) {
	if j.opts.Shard.Count > 1 {
		return msg.Progress{}, errors.New("job: Step on a data-parallel worker: use ShardGradients and ApplyShard")
	}
	start := j.now()
	if err := j.nextBatch(); err != nil {
		return msg.Progress{}, err
	}
	loss, err := j.tr.Step(j.x, j.labels)
	if err != nil {
		if err := j.stopDiverged(err); err != nil {
			return msg.Progress{}, err
		}
		// The step was not taken: the progress is the last one's, of
		// its epoch (nextBatch may have begun the next).
		it := j.tr.Iter()
		return msg.Progress{Epoch: (it + j.steps - 1) / j.steps, Step: it, Steps: j.total, Loss: j.lastLoss, Accuracy: j.accuracy,
			LR: j.opt.LRAt(max(0, it-1))}, nil
	}
	return j.finishStep(start, loss)
}

// GradLen is the length of ShardGradients's gradient (0 when the engine
// does not split steps).
func (j *Job) GradLen() int {
	if sh, ok := j.tr.(core.Sharded); ok {
		return sh.GradLen()
	}
	return 0
}

// ShardGradients is the first half of a data-parallel step (see
// Options.Shard): it takes the next batch, this worker's share of it, and
// writes the gradient of the loss on that share into g (GradLen values),
// returning the loss. Averaged over the workers, the gradients go to
// ApplyShard.
func (j *Job) ShardGradients(g []float32) (float64, error) {
	sh, ok := j.tr.(core.Sharded)
	if !ok {
		return 0, fmt.Errorf("job: the %T engine does not split steps", j.tr)
	}
	j.stepStart = j.now()
	if err := j.nextBatch(); err != nil {
		return 0, err
	}
	lo, size := j.opts.Shard.Index*j.shardRows, j.set.Input.Size()
	return sh.GradientsTo(g, j.x[lo*size:(lo+j.shardRows)*size], j.labels[lo:lo+j.shardRows])
}

// ApplyShard is the second half of a data-parallel step: it applies g,
// the workers' mean gradient, and reports the step as Step does, with
// loss the workers' mean loss. Only worker 0 validates at epoch ends.
func (j *Job) ApplyShard(g []float32, loss float64) (msg.Progress, error) {
	sh, ok := j.tr.(core.Sharded)
	if !ok {
		return msg.Progress{}, fmt.Errorf("job: the %T engine does not split steps", j.tr)
	}
	if err := sh.ApplyGradients(g); err != nil {
		return msg.Progress{}, err
	}
	return j.finishStep(j.stepStart, loss)
}

// nextBatch sets x and labels to the next batch of the epoch (a new epoch
// draws a new order), each image as itself or one of its versions when the
// set has them (data.Set.Alts), augmented when Options.Augment says so. A
// data-parallel worker draws the whole batch too, so that every worker's
// generators advance as one job's would; only its share is trained on.
func (j *Job) nextBatch() error {
	if j.Done() {
		return fmt.Errorf("training is over: %d steps done", j.total)
	}
	s := j.tr.Iter() % j.steps
	if s == 0 {
		j.epoch++
		j.order = epochOrder(j.order, j.trainLabels, j.loss, j.req.Batch, j.rng)
	}
	for i, pos := range j.order[s*j.req.Batch : (s+1)*j.req.Batch] {
		j.rows[i] = j.trainIdx[pos]
		j.labels[i] = j.trainLabels[pos]
	}
	j.x = j.batch(j.x, j.rows)
	if alts := j.set.Alts; len(alts) > 0 {
		// Each image as itself or one of its versions (data.Set.Alts).
		size := j.set.Input.Size()
		for i, r := range j.rows {
			if k := j.augRng.IntN(len(alts) + 1); k > 0 && r < j.set.N {
				copy(j.x[i*size:(i+1)*size], alts[k-1][r*size:(r+1)*size])
			}
		}
	}
	if j.parts.N() > 1 {
		j.compose()
	}
	if j.augRng != nil {
		size := j.set.Input.Size()
		for i := range j.rows {
			img := j.x[i*size : (i+1)*size]
			if j.aug.Active() {
				j.augBuf = j.aug.Apply(j.augBuf, img, j.set.Input, j.augRng)
				copy(img, j.augBuf)
			}
			if j.turns > 1 {
				k := j.augRng.IntN(j.turns)
				j.augBuf = data.Turn(j.augBuf, img, j.set.Input, k)
				copy(img, j.augBuf)
				j.labels[i] = j.labels[i]*j.turns + k
			}
		}
	}
	return nil
}

// finishStep reports the step that began at start and ended with loss:
// the rate, the epoch end's verification, the progress; the run's last
// step checks the model it ends with. With EarlyStop, a divergence after
// the best epoch ends the run instead of failing it (stopDiverged).
func (j *Job) finishStep(start time.Time, loss float64) (msg.Progress, error) {
	it := j.tr.Iter() - 1
	end := j.now()
	from := j.lastEnd
	if from.IsZero() {
		from = start
	}
	j.rate[j.timed%rateWindow], j.wall[j.timed%wallWindow] = end.Sub(start), end.Sub(from)
	j.timed++
	j.lastEnd = end // the validation below counts in the next step's wall time
	j.lastLoss, j.lossKnown = loss, true

	p := msg.Progress{Epoch: j.epoch, Step: j.tr.Iter(), Steps: j.total, Loss: loss, LR: j.opt.LRAt(it)}
	if j.tr.Iter()%j.steps == 0 {
		p.EpochEnd = true
		if len(j.folds) > 0 && j.opts.Shard.Index == 0 {
			if err := j.validate(); err != nil {
				if err := j.stopDiverged(err); err != nil {
					return msg.Progress{}, err
				}
			} else {
				p.Verification = j.summary()
				j.keepBest()
			}
		}
	}
	// img/s is the training's throughput: the steps' own time. The time
	// left is wall-clock: the steps left at the time a recent step took
	// from the end of the one before, the caller's work between steps
	// (snapshots, progress, yielding to an event loop) and epoch ends'
	// validation included.
	var busy, wall time.Duration
	n, m := min(j.timed, rateWindow), min(j.timed, wallWindow)
	for _, d := range j.rate[:n] {
		busy += d
	}
	for _, d := range j.wall[:m] {
		wall += d
	}
	if busy > 0 {
		p.ImgPerS = float64(n*j.req.Batch) / busy.Seconds()
	}
	if wall > 0 {
		p.ETA = float64(j.total-j.tr.Iter()) * wall.Seconds() / float64(m)
	}
	p.Accuracy = j.accuracy
	if j.Done() {
		if err := j.Model().Validate(losses.Check); err != nil {
			// Weights past Validate's bounds with every loss finite:
			// eval, the server's store and the Verify page would refuse
			// the model the run ends with.
			// With EarlyStop, Model is the best epoch's: stopping
			// there would not help.
			return msg.Progress{}, fmt.Errorf("step %d: the trained model is not usable: %s (lr too high?)", p.Step, strings.TrimPrefix(err.Error(), "model: "))
		}
	}
	return p, nil
}

// compose makes every image of the batch of parts of others (see New).
func (j *Job) compose() {
	n, size := len(j.set.Classes), j.set.Input.Size()
	j.composed = slices.Grow(j.composed[:0], len(j.x))[:len(j.x)]
	labels := slices.Clone(j.labels)
	// The images of the data's classes lend each other their parts; the
	// glyphs' stay whole, after the composed classes.
	plain := make([]int, 0, len(labels))
	for i, y := range labels {
		if y < n {
			plain = append(plain, i)
			continue
		}
		copy(j.composed[i*size:(i+1)*size], j.x[i*size:(i+1)*size])
		j.labels[i] = j.parts.Classes(n) + y - n
	}
	m := len(plain)
	j.perm = slices.Grow(j.perm[:0], (j.parts.N()-1)*m)[:(j.parts.N()-1)*m]
	for k := 1; k < j.parts.N(); k++ {
		data.Shuffle(j.perm[(k-1)*m:k*m], j.augRng)
	}
	srcs := make([][]float32, j.parts.N())
	j.partLabels = slices.Grow(j.partLabels[:0], j.parts.N())[:j.parts.N()]
	for r, i := range plain {
		for k := range srcs {
			src := i
			if k > 0 {
				src = plain[j.perm[(k-1)*m+r]]
			}
			srcs[k], j.partLabels[k] = j.x[src*size:(src+1)*size], labels[src]
		}
		j.parts.Compose(j.composed[i*size:(i+1)*size], srcs, j.set.Input)
		j.labels[i] = j.parts.Class(j.partLabels, n)
	}
	j.x, j.composed = j.composed, j.x
}

// batch gathers the training rows idx into dst (see data.Set.Batch): rows
// of set, and from set.N on those of the glyphs, which the first call
// draws (so that a job validated and dropped, as the server's API does
// with every request, never draws them).
func (j *Job) batch(dst []float32, idx []int) []float32 {
	if j.req.Glyphs == 0 {
		return j.set.Batch(dst, idx)
	}
	if j.glyphs == nil {
		j.glyphs = data.Glyphs(j.req.Glyphs, data.GlyphImages, j.set.Input, uint64(j.req.Seed))
	}
	size := j.set.Input.Size()
	dst = slices.Grow(dst[:0], len(idx)*size)[:len(idx)*size]
	for k, i := range idx {
		src := j.set.X
		if i >= j.set.N {
			src, i = j.glyphs.X, i-j.set.N
		}
		copy(dst[k*size:(k+1)*size], src[i*size:(i+1)*size])
	}
	return dst
}

// plainClass returns the head's class of the untransformed images of class
// y: the composition of y alone, unturned.
func (j *Job) plainClass(y int) int {
	ys := make([]int, j.parts.N())
	for k := range ys {
		ys[k] = y
	}
	return j.parts.Class(ys, len(j.set.Classes)) * j.turns
}

// validate embeds the held-out images and runs 1:1 verification and nearest
// class centre on them. Embeddings that are not all finite numbers (a step
// whose update overflowed the weights: its own loss was finite, the next
// one's would not be) are an error, as a NaN loss is: the protocols'
// figures would mean nothing, and a NaN threshold cannot be written.
func (j *Job) validate() error {
	params := j.tr.Params()
	e, err := EmbedSet(j.spec, params, j.val)
	if err != nil {
		return err
	}
	if !vec.AllFinite(e.X) {
		return core.Diverged(fmt.Sprintf("epoch %d: the held-out images' embeddings are not all finite numbers (lr too high?)", j.epoch))
	}
	vr := eval.Verification(e, eval.Cosine{}, j.folds)
	j.last = &vr
	j.centre = eval.NearestCentre(e, e, eval.Cosine{})
	return nil
}

// headAccuracy returns the accuracy of the head's own prediction
// (losses.HeadAccuracy: softmax's f·W_j + b_j, the normalised heads'
// nearest class weight by cosine; core.Spec.ClassWeights: a model of views
// joins its views' heads) on e, unturned images of the unturned classes,
// or 0 when params has no class weights.
func (j *Job) headAccuracy(e eval.Embeddings, params map[string]core.Tensor) float64 {
	w, b, ok := j.spec.ClassWeights(params)
	if !ok || e.D == 0 || len(w)%e.D != 0 {
		return 0
	}
	if j.turns > 1 || j.parts.N() > 1 {
		e.Labels = slices.Clone(e.Labels)
		for i, y := range e.Labels {
			e.Labels[i] = j.plainClass(y)
		}
	}
	acc, _ := losses.HeadAccuracy(j.loss, e, w, b)
	return acc
}

// plainWeights returns the rows of the class weights w of the classes of
// untransformed images (see plainClass), C×EmbedDim: not the glyphs'.
func (j *Job) plainWeights(w []float32) []float32 {
	if j.turns == 1 && j.parts.N() == 1 && j.req.Glyphs == 0 {
		return w
	}
	d := j.spec.EmbedDim()
	out := make([]float32, 0, len(j.set.Classes)*d)
	for y := range j.set.Classes {
		r := j.plainClass(y)
		out = append(out, w[r*d:(r+1)*d]...)
	}
	return out
}

// Last returns the last step's loss and the headline of the last epoch
// end's verification (nil before the first or without held-out images);
// after Resume, the checkpoint's. ok is false when the loss is not known:
// before the first step, or resumed from a checkpoint written before
// checkpoints held it.
func (j *Job) Last() (loss float64, v *msg.VerificationSummary, ok bool) {
	return j.lastLoss, j.summary(), j.lossKnown
}

// summary is the headline of the last verification.
func (j *Job) summary() *msg.VerificationSummary { return summaryOf(j.last, j.centre) }

// ModelVerification is the held-out verification of Model's parameters:
// with EarlyStop, the best epoch's (whose threshold the model holds);
// otherwise the last epoch end's; nil before the first or without
// held-out images. What a registry shows beside the model.
func (j *Job) ModelVerification() *msg.VerificationSummary {
	if j.bestVerif != nil {
		return summaryOf(j.bestVerif, j.bestCentre)
	}
	return j.summary()
}

// summaryOf is the headline of verification v, with the nearest-centre
// accuracy centre of the same images; nil for none.
func summaryOf(v *eval.VerificationReport, centre float64) *msg.VerificationSummary {
	if v == nil {
		return nil
	}
	tar := make(map[string]float64, len(v.TARAtFAR))
	for k, x := range v.TARAtFAR {
		tar[k] = x
	}
	return &msg.VerificationSummary{Accuracy: v.Accuracy, EER: v.EER, Threshold: v.Threshold,
		TARAtFAR: tar, FAR: v.FAR, Centre: centre}
}

// keepBest, with EarlyStop, keeps the parameters of an epoch whose held-out
// verification accuracy beats the best so far, and stops the run after
// EarlyStop epochs without such an epoch.
func (j *Job) keepBest() {
	if j.req.EarlyStop == 0 || j.last == nil {
		return
	}
	if j.bestVerif == nil || j.last.Accuracy > j.bestVerif.Accuracy {
		j.best, j.bestVerif, j.bestCentre, j.bestEpoch = j.tr.Params(), j.last, j.centre, j.epoch
		return
	}
	if j.epoch-j.bestEpoch >= j.req.EarlyStop {
		j.stopped = true
	}
}

// stopDiverged ends the run at err, when err says training diverged
// (core.ErrDiverged) after EarlyStop kept a best epoch: the engine gets
// that epoch's parameters back, Model returns them, and Diverged says so.
// Otherwise (no best epoch yet, or another error) it returns err.
func (j *Job) stopDiverged(err error) error {
	if j.best == nil || !errors.Is(err, core.ErrDiverged) {
		return err
	}
	if serr := j.tr.SetParams(copyParams(j.best)); serr != nil {
		return fmt.Errorf("%v; restoring the best epoch's parameters: %v", err, serr)
	}
	j.snap.iter = -1 // the embeddings kept are of the parameters before
	j.stopped = true
	j.diverged = fmt.Errorf("training diverged (%w): early stopping ended the run at step %d with the model of the best epoch, %d", err, j.tr.Iter(), j.bestEpoch)
	return nil
}

// Diverged returns, when early stopping ended the run because training
// diverged after the best epoch (whose parameters Model returns), one line
// that says so, wrapping the error that said it diverged (after Resume,
// the checkpoint's line, which wraps core.ErrDiverged); nil otherwise.
func (j *Job) Diverged() error { return j.diverged }

// Done reports whether every step of every epoch has been taken, or early
// stopping ended the run.
func (j *Job) Done() bool { return j.stopped || j.tr.Iter() >= j.total }

// Iter returns the number of steps taken; after Resume, the checkpoint's
// step.
func (j *Job) Iter() int { return j.tr.Iter() }

// Continue tells j that its caller takes the run up again after holding
// it (a pause, or a step taken by hand while paused): the time since the
// last step was not the run's, and the next step's wall-clock time, which
// the time left is made of (Step), counts from now.
func (j *Job) Continue() { j.lastEnd = j.now() }

// BestEpoch returns, with EarlyStop, the epoch whose parameters Model
// returns (0 before the first epoch end or without held-out pairs), and
// whether early stopping ended the run.
func (j *Job) BestEpoch() (epoch int, stopped bool) { return j.bestEpoch, j.stopped }

// Calibrated reports whether the job has held-out verification pairs,
// on which its epoch ends choose the model's threshold (Model; without
// them the threshold is 0).
func (j *Job) Calibrated() bool { return len(j.folds) > 0 }

// Close releases the engine's device, when it holds one (io.Closer).
func (j *Job) Close() error {
	if c, ok := j.tr.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Model returns the current parameters (a copy) and their metadata: spec,
// loss and parameters, classes, provenance and the threshold and FAR of the
// last epoch end's verification (0 before the first or without held-out
// images) with that verification's headline as its Metrics
// (ModelVerification; nil then), ready for core.WriteModel or
// core.EncodeModel. With EarlyStop, once an epoch has ended with held-out
// verification, they are the best epoch's parameters, threshold and
// metrics instead.
func (j *Job) Model() *core.Model {
	m := &core.Model{
		Meta: core.Metadata{
			Spec: j.spec, Loss: j.loss.Name(), LossParams: j.loss.Params(), Classes: j.classes,
			Provenance: core.Provenance{Data: j.req.Data, Epochs: j.req.Epochs, Batch: j.req.Batch, LR: j.opt.LR,
				Optimizer: j.opt.Name, Seed: j.req.Seed, Steps: j.tr.Iter(),
				Preset: j.req.Preset, Miner: j.req.Miner, Distance: j.req.Distance, Schedule: j.opt.Schedule, WeightDecay: j.opt.WeightDecay, Augment: j.req.Augment, Compose: j.req.Compose,
				Turns: j.req.Turns, Glyphs: j.req.Glyphs, EarlyStop: j.req.EarlyStop,
				Created: time.Now().UTC().Format(time.RFC3339), Version: j.opts.Version},
		},
		Params: j.tr.Params(),
	}
	last := j.last
	if j.best != nil {
		m.Params, last = copyParams(j.best), j.bestVerif
		m.Meta.Provenance.BestEpoch = j.bestEpoch
	}
	if last != nil {
		m.Meta.Threshold, m.Meta.FAR = last.Threshold, last.FAR
	}
	m.Meta.Metrics = j.ModelVerification() // of the same epoch as the threshold
	return m
}

// copyParams returns a deep copy of params.
func copyParams(params map[string]core.Tensor) map[string]core.Tensor {
	out := make(map[string]core.Tensor, len(params))
	for name, t := range params {
		out[name] = core.Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
	}
	return out
}

// Request returns the job's request with what New resolved of it: the
// optimiser fields it takes by default (ResolveOpt), and the batch it
// lowered to its training images (BatchDefault). New of it trains the
// same run, whatever the defaults of a later version: the server records
// it as the job's configuration.
func (j *Job) Request() msg.TrainRequest { return ResolveOpt(j.req) }

// FillRequest returns r, a body of POST /api/jobs, with the fields that
// given (the JSON names of the fields the body gave) lacks filled as
// `metriclab train` fills its flags not given: from r's preset where the
// preset sets them (ApplyPreset), else train's defaults
// (msg.FillDefaults). A field given keeps its value, its zero too.
func FillRequest(r msg.TrainRequest, given map[string]bool) msg.TrainRequest {
	return ApplyPreset(msg.FillDefaults(r, given), func(field string) bool { return given[field] })
}

// ApplyPreset returns r with the fields of its preset (r.Preset,
// msg.Presets) that given reports as not given, by their JSON names, set
// to the preset's: the one place for `metriclab train --preset`, whose
// flags not given take the preset's values, and for POST /api/jobs
// (FillRequest). A field that the preset leaves at its zero value keeps
// r's. The preset's loss parameters go to its own loss only, a parameter
// r gives winning; its glyph classes only to a loss that takes them (not
// one of P×K batches); its input shape not to MNIST (1×28×28 whatever
// the preset); its views not beside a crop given (one encoder of one
// window); its embedding's batch norm not to iresnet18, which ends with
// its own. No preset, or an unknown one (refused by New): r as it is.
func ApplyPreset(r msg.TrainRequest, given func(field string) bool) msg.TrainRequest {
	p, ok := msg.PresetByName(r.Preset)
	if !ok {
		return r
	}
	q := p.Request
	setString := func(field string, dst *string, v string) {
		if !given(field) && v != "" {
			*dst = v
		}
	}
	setInt := func(field string, dst *int, v int) {
		if !given(field) && v > 0 {
			*dst = v
		}
	}
	setString("arch", &r.Arch, q.Arch)
	setString("loss", &r.Loss, q.Loss)
	setString("opt", &r.Opt, q.Opt)
	setString("schedule", &r.Schedule, q.Schedule)
	setString("augment", &r.Augment, q.Augment)
	setString("compose", &r.Compose, q.Compose)
	if !given("views") && !given("crop") && len(q.Views) > 0 {
		r.Views = slices.Clone(q.Views)
	}
	if r.Data != "mnist" {
		setString("input", &r.Input, p.Input)
	}
	setInt("dim", &r.Dim, q.Dim)
	setInt("epochs", &r.Epochs, q.Epochs)
	setInt("batch", &r.Batch, q.Batch)
	setInt("turns", &r.Turns, q.Turns)
	setInt("early_stop", &r.EarlyStop, q.EarlyStop)
	if !given("lr") && q.LR > 0 {
		r.LR = q.LR
	}
	if !given("weight_decay") && q.WeightDecay != nil {
		wd := *q.WeightDecay
		r.WeightDecay = &wd
	}
	if !given("embed_bn") && q.EmbedBN && r.Arch != core.ArchIResNet {
		r.EmbedBN = true
	}
	if !given("flip_test") && q.FlipTest {
		r.FlipTest = true
	}
	if l, err := losses.New(losses.Config{Name: r.Loss, Dim: 3}); err != nil || !core.BatchesPK(l) { // an unknown loss is New's to refuse
		setInt("glyphs", &r.Glyphs, q.Glyphs)
	}
	if r.Loss == q.Loss && len(q.LossParams) > 0 {
		params := make(map[string]float64, len(q.LossParams)+len(r.LossParams))
		maps.Copy(params, q.LossParams)
		maps.Copy(params, r.LossParams)
		r.LossParams = params
	}
	return r
}

// ResolveOpt returns req with the optimiser fields that New takes by
// default written in: Opt "" is msg.TrainDefaults' (adam), LR 0 the
// optimiser's learning rate, Schedule "" msg.TrainDefaults' (cosine),
// WeightDecay nil the optimiser's weight decay (core.DefaultOpt). An
// unknown optimiser's are left as they are.
func ResolveOpt(req msg.TrainRequest) msg.TrainRequest {
	d := msg.TrainDefaults()
	name := cmp.Or(req.Opt, d.Opt)
	if name != core.OptSGD && name != core.OptAdam {
		return req
	}
	def := core.DefaultOpt(name)
	req.Opt, req.LR, req.Schedule = name, cmp.Or(req.LR, def.LR), cmp.Or(req.Schedule, d.Schedule)
	wd := def.WeightDecay
	if req.WeightDecay != nil {
		wd = *req.WeightDecay
	}
	req.WeightDecay = &wd
	return req
}

// Note says what the job chose that its request did not say, for the
// user to read beside its progress: the batch it lowered to the training
// images, which were fewer than the request's default batch. "": nothing.
func (j *Job) Note() string { return j.note }

// Batch returns the images of a step: the request's batch, or the one New
// lowered it to (Note).
func (j *Job) Batch() int { return j.req.Batch }

// Spec returns the encoder's spec.
func (j *Job) Spec() core.Spec { return j.spec }

// Loss returns the loss, with its parameters filled in.
func (j *Job) Loss() core.Loss { return j.loss }

// Classes returns the names of the classes trained on, in label order:
// the head's rows.
func (j *Job) Classes() []string { return j.classes }

// PointClasses returns the names of the labels of Embeddings' and
// Snapshot's points: the data's classes, which the head's Classes extend
// when composition, turns or glyphs make more.
func (j *Job) PointClasses() []string { return j.set.Classes }

// Sizes returns the number of images trained on and held out.
func (j *Job) Sizes() (train, val int) { return len(j.trainIdx), j.val.N }

// TrainBytes estimates the memory that training j takes on the CPU: five
// float32s for every value of the encoder's plan (core.Plan) and every
// image of a batch (the forward values, their gradients and the engine's
// buffers: whole processes measured 3.5 to 4.7 times the values' bytes,
// lenet-s to iresnet18), five for every class and image of a batch (the
// one-hot labels, the logits and their gradients), and four for every
// parameter and class weight (the weight, its gradient and Adam's two
// moments). The data sets are not counted.
func (j *Job) TrainBytes() int64 {
	spec, views := j.spec, int64(1)
	if len(spec.Views) > 0 { // an engine per view, all held at once
		spec, views = spec.View(0), int64(len(spec.Views))
	}
	p := spec.Plan()
	var values, params int64
	for _, v := range p.Values {
		values += int64(v.Size())
	}
	for _, q := range p.Params {
		n := int64(1)
		for _, d := range q.Shape {
			n *= int64(d)
		}
		params += n
	}
	classes := int64(len(j.classes))
	params += classes * int64(j.spec.Dim+1) // the head's weights and bias, when the loss has them
	return views * 4 * (5*int64(j.req.Batch)*(values+classes) + 4*params)
}

// memSizes writes two sizes in bytes for one message: each in the largest
// binary unit it fills (GiB, MiB, KiB), one decimal, or in bytes where
// the two would read the same (an estimate just over its bound), so that
// a job of 40 MiB over a bound of 1 MiB does not read "0.0 GiB, more
// than 0.0 GiB".
func memSizes(a, b int64) (string, string) {
	sa, sb := memSize(a), memSize(b)
	if sa == sb {
		return fmt.Sprintf("%d bytes", a), fmt.Sprintf("%d bytes", b)
	}
	return sa, sb
}

// memSize writes n bytes in the largest binary unit it fills, one decimal.
func memSize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size {
			return fmt.Sprintf("%.1f %s", float64(n)/float64(u.size), u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// Steps returns the number of steps of one epoch and of the whole run.
func (j *Job) Steps() (perEpoch, total int) { return j.steps, j.total }

// Verification returns the full report of the last epoch end's
// verification, and whether there was one.
func (j *Job) Verification() (eval.VerificationReport, bool) {
	if j.last == nil {
		return eval.VerificationReport{}, false
	}
	return *j.last, true
}

// newViews makes the engine of a request with views (core.NewViews): a
// loss of its own for each view, the first one loss.
func newViews(req msg.TrainRequest, spec core.Spec, loss core.Loss, cfg core.TrainConfig, newEngine core.EngineFunc) (core.Engine, error) {
	ls := []core.Loss{loss}
	for range spec.Views[1:] {
		l, err := losses.New(losses.Config{Name: req.Loss, Dim: req.Dim, Values: req.LossParams, Miner: req.Miner, Distance: req.Distance})
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	return core.NewViews(spec, ls, cfg, newEngine)
}
