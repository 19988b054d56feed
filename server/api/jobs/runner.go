//go:build !js

// Package jobs runs the server's training jobs: a queue kept in the store,
// one job at a time (on the CPU, or on the GPU for device "cuda" when the
// server has the CUDA engine), each the core/job loop that the command
// line and the browser's trainer run, stepped on a goroutine. A job writes a checkpoint every N steps,
// can be canceled at any time, registers its model with its verification
// figures when it ends, and fans its progress out to subscribers (the
// server's Server-Sent Events) without ever waiting for them.
//
// Resume: a job cut off by a restart (interrupted) is queued again and
// continues from its last checkpoint, which holds the whole training state
// (job.Checkpoint: parameters, the optimiser's moments and update count,
// the step, the epoch's batch order, every random stream), so that it ends
// with the weights an uninterrupted run would have, bit for bit. A job on
// an uploaded data set trains on it as its first run loaded it: the run
// records the images it listed (store.SetJobFiles), and a resumed run
// loads those alone (Loader), the samples uploaded since left for the
// next job.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/job"
	"metriclab/core/msg"
	"metriclab/server/api/store"
)

// Defaults of Config.
const (
	DefaultCheckpointEvery = 100
	DefaultProgressEvery   = 100 * time.Millisecond
	// DefaultSnapshotEvery is the least time between two snapshots while
	// someone watches (one embeds 2,000 test images: a fraction of a second
	// for the small encoders).
	DefaultSnapshotEvery = 5 * time.Second
)

// ErrInvalid is wrapped by the errors about a request itself: a training
// configuration that job.New refuses, an unknown data set or device.
var ErrInvalid = errors.New("invalid request")

// invalidError is a one-line error about a request.
type invalidError struct{ err error }

func (e invalidError) Error() string        { return e.err.Error() }
func (e invalidError) Is(target error) bool { return target == ErrInvalid }
func (e invalidError) Unwrap() error        { return e.err }

func invalid(format string, a ...any) error { return invalidError{fmt.Errorf(format, a...)} }

// ErrState is wrapped by the errors about a job's state: a cancel of a job
// that has ended, a resume of one that was not interrupted. They match
// store.ErrConflict too, and say the state.
var ErrState = errors.New("job state")

// stateError is a one-line error about a job's state.
type stateError struct{ msg string }

func (e stateError) Error() string        { return e.msg }
func (e stateError) Is(target error) bool { return target == ErrState || target == store.ErrConflict }

// errShutdown and errCanceled are the causes of a running job's context.
var (
	errShutdown = errors.New("server shutting down")
	errCanceled = errors.New("canceled")
)

// Loader returns the training and test images of a data set by the name a
// TrainRequest gives ("mnist" or an uploaded data set), as inputs of in
// (the request's Input; zero when it names none), and a note for the
// job's user on what the load did not take (the images it skipped), one
// line, "" for none. An unknown name is an error that wraps ErrInvalid.
// The sets are read only. Of a data set of image files (an uploaded
// one), the images loaded are those of files, a job's first run's
// listed (nil: all the data set holds now), and listed is the list of
// them (data.Listing); nil for MNIST.
type Loader func(name string, in core.Input, files []string) (train, test *data.Set, note string, listed []string, err error)

// requestInput returns the shape req.Input names, zero for none; its
// errors wrap ErrInvalid.
func requestInput(req msg.TrainRequest) (core.Input, error) {
	if req.Input == "" {
		return core.Input{}, nil
	}
	c, h, w, err := msg.ParseInput(req.Input)
	if err != nil {
		return core.Input{}, invalid("%s", err)
	}
	if err := msg.CheckImageInput(c, h, w); err != nil {
		return core.Input{}, invalid("input %q: %v", req.Input, err)
	}
	return core.Input{Channels: c, Height: h, Width: w}, nil
}

// load reads the data sets of req, of files (see Loader), with the
// Loader's note and listed files.
func (r *Runner) load(req msg.TrainRequest, files []string) (train, test *data.Set, note string, listed []string, err error) {
	in, err := requestInput(req)
	if err != nil {
		return nil, nil, "", nil, err
	}
	return r.cfg.Load(req.Data, in, files)
}

// Config configures a Runner.
type Config struct {
	Store *store.Store
	Load  Loader
	// Options are the jobs' options (held-out images, snapshot size, the
	// version recorded in models).
	Options job.Options
	// CheckpointEvery is the number of steps between checkpoints; 0 takes
	// DefaultCheckpointEvery.
	CheckpointEvery int
	// ProgressEvery is the least time between two progress messages (epoch
	// ends and the last step are always sent); 0 takes DefaultProgressEvery.
	ProgressEvery time.Duration
	// SnapshotEvery is the least time between two snapshots, sent only while
	// someone watches (and at epoch ends); 0 takes DefaultSnapshotEvery.
	SnapshotEvery time.Duration
	// CUDA makes the engine of jobs on device "cuda" (and "auto"); nil:
	// this server has no CUDA engine and refuses such jobs.
	CUDA core.EngineFunc
	// MaxJobBytes refuses a CPU job whose training would take more memory
	// (job.Options.MaxTrainBytes); 0: no bound.
	MaxJobBytes int64
	Logger      *log.Logger // nil: log.Default()
}

// Runner runs the queued jobs of a store, one at a time.
type Runner struct {
	cfg   Config
	store *store.Store
	log   *log.Logger

	ctx    context.Context
	stop   context.CancelCauseFunc
	wake   chan struct{}
	exited chan struct{}

	mu      sync.Mutex
	hubs    map[string]*hub     // jobs queued or running
	running map[string]*running // the job being trained

	// ended, when not nil, is called by run once a job's hub has
	// finished, before the run lets go of the job (tests: a resume at
	// that moment).
	ended func(id string)
}

// running is the job on the device.
type running struct {
	cancel context.CancelCauseFunc
	done   chan struct{}
	// live progress, newer than the store's row
	step, steps int
	loss        float64
	metrics     *msg.VerificationSummary
	// note is the job's error while it runs, from its data's load, and
	// once it is done, in its row and events: what its data set's load
	// did not take (Loader), the batch the job lowered to its training
	// images (job.Job.Note), and how it ended (job.Job.Diverged). A job
	// that ends otherwise gives it before why (run).
	note string
}

// New returns a Runner of cfg; Start starts it.
func New(cfg Config) *Runner {
	if cfg.Store == nil || cfg.Load == nil {
		panic("jobs: New: nil Store or Load")
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = DefaultCheckpointEvery
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = DefaultProgressEvery
	}
	if cfg.SnapshotEvery <= 0 {
		cfg.SnapshotEvery = DefaultSnapshotEvery
	}
	lg := cfg.Logger
	if lg == nil {
		lg = log.Default()
	}
	ctx, stop := context.WithCancelCause(context.Background())
	return &Runner{cfg: cfg, store: cfg.Store, log: lg, ctx: ctx, stop: stop, wake: make(chan struct{}, 1),
		exited: make(chan struct{}), hubs: make(map[string]*hub), running: make(map[string]*running)}
}

// Start starts the worker, which trains the queued jobs one at a time,
// whatever their device (those left from a previous run first), in the
// order they were queued.
func (r *Runner) Start() error {
	// The queue is read under the lock, as Cancel changes it: a job
	// canceled between the read and the lock got a hub nothing finished
	// or removed. (The store calls nothing of the runner's.)
	r.mu.Lock()
	queued, err := r.store.Queued()
	if err != nil {
		r.mu.Unlock()
		return err
	}
	for _, j := range queued {
		// A job queued since New (Submit, Resume) has its hub, and maybe
		// watchers on it.
		if r.hubs[j.ID] == nil {
			r.hubs[j.ID] = newHub(j.ID, store.StateQueued)
		}
	}
	r.mu.Unlock()
	go r.work()
	return nil
}

// Close stops the runner: a running job writes a checkpoint and becomes
// interrupted (resumable). It waits for the worker to exit.
func (r *Runner) Close() {
	r.stop(errShutdown)
	<-r.exited
}

// Validate checks req as job.New does, on the data set it names, and
// returns the number of steps of the whole run. Its errors about req wrap
// ErrInvalid.
func (r *Runner) Validate(req msg.TrainRequest) (int, error) {
	_, total, err := r.resolve(req)
	return total, err
}

// resolve is Validate, which also returns req with what job.New resolved
// of it (job.Job.Request): the optimiser, its learning rate, schedule and
// weight decay. Its batch stays req's: a default batch (BatchDefault) is
// lowered to the training images when the job starts, on the data set as
// it is then (an uploaded one may grow while the job waits), and the
// job's note says the batch it trains with.
func (r *Runner) resolve(req msg.TrainRequest) (msg.TrainRequest, int, error) {
	total, j, err := r.check(req)
	if err != nil {
		return req, 0, err
	}
	resolved := j.Request()
	resolved.Batch = req.Batch
	return resolved, total, nil
}

// check is Validate's check, with the checked job.
func (r *Runner) check(req msg.TrainRequest) (int, *job.Job, error) {
	switch req.Device {
	case "", "cpu", "auto":
	case "cuda":
		if r.cfg.CUDA == nil {
			return 0, nil, invalid("device cuda: this server has no CUDA device (GET /api/devices says why)")
		}
	default:
		return 0, nil, invalid("unknown device %q (want cpu, cuda or auto)", req.Device)
	}
	train, test, _, _, err := r.load(req, nil)
	if err != nil {
		return 0, nil, err
	}
	opts := r.options(req.Device)
	opts.CheckOnly = true // no engine: nothing of the training is allocated
	j, err := job.New(req, train, test, opts)
	if errors.Is(err, job.ErrRequest) {
		return 0, nil, invalidError{err}
	}
	if err != nil {
		return 0, nil, err
	}
	_, total := j.Steps() // a checked job holds no engine: nothing to close
	return total, j, nil
}

// options returns the options of a job on device: on the CPU, MaxJobBytes
// bounds the memory its training may take.
func (r *Runner) options(device string) job.Options {
	opts := r.cfg.Options
	if device != "cuda" {
		opts.MaxTrainBytes = r.cfg.MaxJobBytes
	}
	return opts
}

// Submit validates req and queues it for client, unless client already
// has maxPerClient jobs queued or running (maxPerClient ≤ 0: no limit;
// then it returns store.ErrLimit). The limit is checked first: a client
// at its limit is refused before its data set is read (an uploaded one
// is decoded at every read), and is told so even when req is invalid.
// The job's record is req with what job.New resolved of it (resolve).
func (r *Runner) Submit(client string, req msg.TrainRequest, maxPerClient int) (store.Job, error) {
	switch {
	case req.Device == "auto" && r.cfg.CUDA != nil && req.Crop == (msg.Crop{}) && len(req.Views) == 0: // the CUDA engine has no crop, so no views
		req.Device = "cuda"
	case req.Device == "" || req.Device == "auto":
		req.Device = "cpu"
	}
	if err := r.store.CheckLimit(client, maxPerClient); err != nil {
		return store.Job{}, err
	}
	// The record is what trains, whatever the defaults of a later
	// version: a resume, and a client posting its config again, train
	// the same run.
	req, steps, err := r.resolve(req)
	if err != nil {
		return store.Job{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	j, err := r.store.CreateJob(client, req, steps, maxPerClient)
	if err != nil {
		return store.Job{}, err
	}
	r.hubs[j.ID] = newHub(j.ID, store.StateQueued)
	r.kick()
	return j, nil
}

// Resume queues an interrupted job again for client, unless client
// already has maxPerClient jobs queued or running (store.ErrLimit; ≤ 0: no
// limit): a resumed job counts as a submitted one. It returns
// store.ErrNotFound or, for a job in another state, an ErrState.
func (r *Runner) Resume(id, client string, maxPerClient int) (store.Job, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// A job of device cuda on a server without one would fail at its
	// start, and its checkpoint go with it: it stays interrupted, to be
	// resumed where there is a device.
	if j, err := r.store.Job(id); err == nil && j.State == store.StateInterrupted && j.Config.Device == "cuda" && r.cfg.CUDA == nil {
		return store.Job{}, stateError{fmt.Sprintf("job %s trains on device cuda, and this server has no CUDA device (GET /api/devices says why): it stays interrupted, its checkpoint kept", id)}
	}
	ok, err := r.store.ResumeJob(id, client, maxPerClient)
	if err != nil {
		return store.Job{}, err
	}
	if !ok {
		j, err := r.store.Job(id)
		if err != nil {
			return store.Job{}, err
		}
		return store.Job{}, stateError{fmt.Sprintf("job %s is %s: only an interrupted job can be resumed", id, j.State)}
	}
	r.hubs[id] = newHub(id, store.StateQueued)
	r.kick()
	return r.store.Job(id)
}

// Cancel cancels a queued, interrupted or running job. A running job is
// canceled in the store at once and stops after its current step; Cancel
// waits up to wait for it. A job already canceled is returned as it is,
// as the first cancel returned it (a DELETE is idempotent), whether its
// run is still stopping or not. It returns store.ErrNotFound, or an
// ErrState for a job that has ended otherwise.
func (r *Runner) Cancel(id string, wait time.Duration) (store.Job, error) {
	r.mu.Lock()
	// An interrupted job keeps the note on the data it last saw as its
	// error, a queued one gets "" (store.CancelWaiting), set from the row
	// in the update itself: a run's switch to interrupted does not take
	// r.mu, and could land between a read of the job and its cancel. Its
	// watchers are told the error so set.
	ok, err := r.store.CancelWaiting(id)
	if err != nil {
		r.mu.Unlock()
		return store.Job{}, err
	}
	if ok {
		j, err := r.store.Job(id)
		if h := r.hubs[id]; h != nil {
			h.finish(store.StateCanceled, j.Error)
			delete(r.hubs, id)
		}
		r.mu.Unlock()
		return j, err
	}
	run := r.running[id]
	var note string // what its data's load skipped, still true of the data it saw
	if run != nil {
		note = run.note
	}
	r.mu.Unlock()
	if run != nil {
		// Recorded before the run stops, which may take a while (a long
		// step): a server stopped meanwhile, even killed, keeps the job
		// canceled, not interrupted.
		ok, err = r.store.Transition(id, []string{store.StateRunning}, store.StateCanceled, note)
		if err != nil {
			return store.Job{}, err
		}
	}
	if run == nil || !ok {
		j, err := r.store.Job(id)
		if err != nil {
			return store.Job{}, err
		}
		switch {
		case run == nil && j.State == store.StateCanceled:
			return j, nil
		case run == nil:
			return store.Job{}, stateError{fmt.Sprintf("job %s is %s: only a queued, running or interrupted job can be canceled", id, j.State)}
		case j.State != store.StateCanceled: // a second DELETE while the run stops goes on below
			return j, stateError{fmt.Sprintf("job %s is %s: it ended before the cancel reached it", id, j.State)}
		}
	}
	run.cancel(errCanceled)
	select {
	case <-run.done:
	case <-time.After(wait):
	}
	j, err := r.Job(id)
	if err == nil && (j.State == store.StateDone || j.State == store.StateFailed) {
		return j, stateError{fmt.Sprintf("job %s is %s: it ended before the cancel reached it", id, j.State)}
	}
	return j, err
}

// Job returns job id with its live progress, or store.ErrNotFound.
func (r *Runner) Job(id string) (store.Job, error) {
	j, err := r.store.Job(id)
	if err != nil {
		return j, err
	}
	r.merge(&j)
	return j, nil
}

// Jobs returns every job with its live progress, oldest first.
func (r *Runner) Jobs() ([]store.Job, error) {
	js, err := r.store.Jobs()
	for i := range js {
		r.merge(&js[i])
	}
	return js, err
}

// merge overwrites a running job's progress with the live one, and gives
// it its run's note as its error.
func (r *Runner) merge(j *store.Job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	run := r.running[j.ID]
	if run == nil || j.State != store.StateRunning {
		return
	}
	if run.step > j.Step {
		j.Step, j.Steps, j.Loss = run.step, run.steps, run.loss
		if run.metrics != nil {
			j.Metrics = run.metrics
		}
	}
	if run.note != "" {
		j.Error = run.note
	}
}

// Subscribe returns the messages of job id: first its current state (and
// its last progress and snapshot), then, on the channel, what follows until
// it ends; then the channel is closed. A job that is not queued or running
// in the store has no channel (nil), even while its run is finishing. A
// subscriber that falls behind is dropped: its channel is closed before
// the job's final state. unsubscribe releases the subscription; it must
// be called.
func (r *Runner) Subscribe(id string) (first []msg.Message, ch <-chan msg.Message, unsubscribe func(), err error) {
	r.mu.Lock()
	h := r.hubs[id]
	r.mu.Unlock()
	var (
		j    store.Job
		read bool // j is the store's, read after subscribing to the hub
	)
	if h != nil {
		if first, c, ok := h.subscribe(); ok {
			// The store's word wins: a run records its end there a moment
			// before it finishes its hub, and a client that has read the
			// job ended must not then be told it is running.
			if j, err = r.store.Job(id); err != nil || j.State == store.StateQueued || j.State == store.StateRunning {
				return first, c, func() { h.unsubscribe(c) }, nil
			}
			h.unsubscribe(c)
			read = true
		}
	}
	if !read { // no hub, or one already finished
		if j, err = r.store.Job(id); err != nil {
			return nil, nil, nil, err
		}
	}
	first = []msg.Message{stateMessage(id, j.State)}
	if j.Error != "" {
		first = append(first, msg.Message{V: msg.SchemaVersion, Type: msg.TypeError, Trainer: id, Error: j.Error})
	}
	return first, nil, func() {}, nil
}

// kick wakes the worker.
func (r *Runner) kick() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// work runs queued jobs until the runner stops. When the store cannot
// start the next one (a full disk: its reads work and its writes fail),
// it waits before trying again, 1 s after the first failure and twice as
// long after each next one, up to maxRetryWait, or until a job is queued
// or resumed (a write the store took): retrying at once kept a core busy
// and wrote the same log line thousands of times a second.
func (r *Runner) work() {
	defer close(r.exited)
	var wait time.Duration
	for r.ctx.Err() == nil {
		queued, err := r.store.Queued()
		if err != nil {
			r.log.Printf("jobs: listing the queue: %v", err)
		}
		if len(queued) == 0 {
			select {
			case <-r.wake:
			case <-r.ctx.Done():
			case <-time.After(5 * time.Second):
			}
			continue
		}
		if err = r.run(queued[0]); err == nil {
			wait = 0
			continue
		}
		wait = min(max(2*wait, time.Second), maxRetryWait)
		r.log.Printf("jobs: starting %s: %v (trying again in %v)", queued[0].ID, err, wait)
		select {
		case <-r.ctx.Done():
		case <-r.wake: // a job queued or resumed: the store took a write
		case <-time.After(wait):
		}
	}
}

// maxRetryWait is the longest the worker waits before trying again to
// start a job the store could not start.
const maxRetryWait = time.Minute

// run trains one queued job to its end: done, failed, canceled, or
// interrupted when the runner stops. It returns an error only when the
// store could not mark the job running (the job stays queued).
func (r *Runner) run(j store.Job) error {
	ctx, cancel := context.WithCancelCause(r.ctx)
	defer cancel(nil)
	run := &running{cancel: cancel, done: make(chan struct{}), steps: j.Steps}
	defer close(run.done)
	r.mu.Lock()
	r.running[j.ID] = run
	h := r.hubs[j.ID]
	if h == nil {
		h = newHub(j.ID, store.StateQueued)
		r.hubs[j.ID] = h
	}
	r.mu.Unlock()
	queued := false // the job stays queued: its hub stays, for the next try
	defer func() {
		r.mu.Lock()
		delete(r.running, j.ID)
		// Only this run's hub: a job that ended interrupted may have been
		// resumed meanwhile, and the resumed job's hub is its watchers'.
		if !queued && r.hubs[j.ID] == h {
			delete(r.hubs, j.ID)
		}
		r.mu.Unlock()
	}()

	ok, err := r.store.Transition(j.ID, []string{store.StateQueued}, store.StateRunning, "")
	if err != nil {
		// The store failed: the job is still queued, and its subscribers
		// stay on its hub until the worker's next try (or a Cancel).
		queued = true
		return err
	}
	if !ok { // canceled meanwhile (Cancel finished the hub)
		st, _ := r.store.Job(j.ID)
		h.finish(st.State, "")
		return nil
	}
	h.publish(stateMessage(j.ID, store.StateRunning))

	err = r.trainRecovered(ctx, j, run, h)
	state, shown := store.StateDone, ""
	switch cause := context.Cause(ctx); {
	case err == nil:
		shown = run.note
	case errors.Is(cause, errCanceled) || r.canceledInStore(j.ID):
		// The store's word first: Cancel records it before it stops the
		// run, which may fail meanwhile (its checkpoint just removed).
		state = store.StateCanceled
	case errors.Is(cause, errShutdown):
		state = store.StateInterrupted
	case errors.Is(err, errUnsaved):
		state, shown = store.StateInterrupted, "the model could not be saved (the server's log says why); the run is kept: resume the job to save it"
	case errors.Is(err, errUnread):
		state, shown = store.StateInterrupted, "the checkpoint could not be read (the server's log says why); it is kept: resume the job to try again"
	case errors.Is(err, errPanic) && r.hasCheckpoint(j.ID):
		// A bug of ours, not the job's: the training done is kept.
		r.log.Printf("jobs: job %s: %v", j.ID, err)
		state, shown = store.StateInterrupted, "an internal error stopped the job (the server's log says where); its checkpoint is kept: resume the job to try again, or cancel it"
	case errors.Is(err, errCannotStart):
		advice := "resume the job once that is fixed (the data set restored, say), or cancel it"
		if errors.Is(err, job.ErrDataChanged) {
			// Its images changed in place, or it grew before the job
			// recorded its files (a job of an older metriclab): no sample
			// can be removed through the API.
			advice = "resume the job once the data set's images are as they were, or cancel it and train a new job on the data set as it is"
		}
		state, shown = store.StateInterrupted, "the job cannot start now: "+r.shown(j.ID, err)+"; its checkpoint is kept: "+advice
	default:
		state, shown = store.StateFailed, r.shown(j.ID, err)
	}
	if err != nil && run.note != "" {
		// What its data's load skipped is still true of the data the job
		// saw, however it ended: the note first, then why it ended so. A
		// job the server's stop interrupted, which says no reason (the
		// page says how to resume it), says that after the note, which
		// would read as why (store.Stopped, as the store's recovery says
		// it of a job the server's death interrupted).
		if state == store.StateInterrupted && shown == "" {
			shown = store.Stopped(run.note, r.ckptStep(j.ID))
		} else {
			shown = store.WithNote(run.note, shown)
		}
	}
	if state == store.StateCanceled || state == store.StateFailed {
		// Its progress since the last checkpoint, which only the run
		// held: the job ends where it stopped, not where it last saved.
		r.mu.Lock()
		step, steps, loss, metrics := run.step, run.steps, run.loss, run.metrics
		r.mu.Unlock()
		if step > 0 {
			if err := r.store.SetProgress(j.ID, step, steps, loss, metrics); err != nil {
				r.log.Printf("jobs: job %s: recording its progress: %v", j.ID, err)
			}
		}
	}
	// One line, whatever the words an error quotes (a file's, an OS's),
	// as the API's errors are.
	shown = msg.ErrorLine(shown)
	if state != store.StateDone {
		if _, err := r.store.Transition(j.ID, []string{store.StateRunning}, state, shown); err != nil {
			r.log.Printf("jobs: job %s: recording %s: %v", j.ID, state, err)
		}
	}
	if state == store.StateCanceled && shown != "" {
		// Cancel recorded the job canceled with the note the run held
		// then; one that came before the load held none.
		if _, err := r.store.Transition(j.ID, []string{store.StateCanceled}, state, shown); err != nil {
			r.log.Printf("jobs: job %s: recording its note: %v", j.ID, err)
		}
	}
	h.finish(state, shown)
	if r.ended != nil {
		r.ended(j.ID)
	}
	return nil
}

// trainRecovered is train with a panic of the training (a bug) turned
// into its error, errPanic with the stack, so that the job fails with
// "internal error" (or, with a checkpoint, is interrupted and keeps it)
// and the log says where, as net/http keeps serving after a handler's
// panic: the server holds every other job and model.
func (r *Runner) trainRecovered(ctx context.Context, j store.Job, run *running, h *hub) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v\n%s", errPanic, p, debug.Stack())
		}
	}()
	return r.train(ctx, j, run, h)
}

// shown returns what job id's users are told of err: a trainError's
// words, or "internal error" after a log line.
func (r *Runner) shown(id string, err error) string {
	var te trainError
	if errors.As(err, &te) {
		return te.Error()
	}
	r.log.Printf("jobs: job %s: %v", id, err)
	return "internal error"
}

// ckptStep returns the step of job id's checkpoint in the store, 0 when
// it has none.
func (r *Runner) ckptStep(id string) int {
	j, err := r.store.Job(id)
	if err != nil {
		return 0
	}
	return j.CkptStep
}

// hasCheckpoint reports whether job id has a checkpoint in the store.
func (r *Runner) hasCheckpoint(id string) bool {
	j, err := r.store.Job(id)
	return err == nil && j.Checkpoint != ""
}

// canceledInStore reports whether job id is canceled in the store.
func (r *Runner) canceledInStore(id string) bool {
	j, err := r.store.Job(id)
	return err == nil && j.State == store.StateCanceled
}

// setNote makes note the note of job id's run (what its data's load
// skipped, then the batch the job lowered to its images), unless it is
// "". The user watching the run is told from now on, not once it is
// done: its GET (merge), and its events, by the state running again,
// with the note as its error (a new subscriber's first).
func (r *Runner) setNote(id string, run *running, h *hub, note string) {
	if note == "" {
		return
	}
	note = msg.ErrorLine(note)
	r.mu.Lock()
	same := run.note == note
	run.note = note
	r.mu.Unlock()
	if same {
		return
	}
	// Kept apart from its error too, for a cancel once it is
	// interrupted, which drops why (Cancel).
	if err := r.store.SetNote(id, note); err != nil {
		r.log.Printf("jobs: job %s: recording its note: %v", id, err)
	}
	m := stateMessage(id, store.StateRunning)
	m.Error = note
	h.publish(m)
}

// trainError is an error of the training itself (the data, the request,
// the engine), written to be shown to users, as opposed to the store's.
type trainError struct{ err error }

func (e trainError) Error() string { return e.err.Error() }
func (e trainError) Unwrap() error { return e.err }

// train runs job j's steps, checkpointing, publishing to h and updating
// run; at the end it registers the model and marks the job done. It
// returns the context's cause when the job is stopped; on shutdown it
// writes a checkpoint first.
func (r *Runner) train(ctx context.Context, j store.Job, run *running, h *hub) error {
	// A resumed job that cannot start now (its data set removed or
	// changed since, a CUDA job on a server without one) keeps its
	// checkpoint, to resume once that is fixed: its error wraps
	// errCannotStart. A fresh job fails.
	path, step := r.store.CheckpointPath(j)
	resumed := path != "" && step > 0
	cannotStart := func(err error) error {
		if resumed {
			return fmt.Errorf("%w: %w", errCannotStart, err)
		}
		return err
	}
	// A resumed job trains on its data set as its first run loaded it
	// (the files it recorded), as its checkpoint is of: the samples
	// uploaded since are for the next job. A job that starts (again)
	// from its first step loads all there is.
	var files []string
	if resumed {
		var err error
		if files, err = r.store.JobFiles(j.ID); err != nil {
			return cannotStart(err)
		}
	}
	trainSet, testSet, note, listed, err := r.load(j.Config, files)
	if err != nil {
		if errors.Is(err, ErrInvalid) {
			err = trainError{err}
		}
		return cannotStart(err)
	}
	r.setNote(j.ID, run, h, note)
	opts := r.options(j.Config.Device)
	if j.Config.Device == "cuda" {
		if r.cfg.CUDA == nil {
			return cannotStart(trainError{errors.New("device cuda: this server has no CUDA device")})
		}
		opts.Engine = r.cfg.CUDA
	}
	jb, err := job.New(j.Config, trainSet, testSet, opts)
	if err != nil {
		return cannotStart(trainError{err})
	}
	defer jb.Close()
	note = store.WithNote(note, jb.Note()) // and the batch it lowered to its images
	r.setNote(j.ID, run, h, note)
	_, total := jb.Steps()
	// After a restart, training goes on from the last checkpoint, at the
	// step its file holds: a crash between the file's rename and the
	// commit of its row leaves the row an older step.
	from := 0
	if resumed {
		if err := r.resume(j.ID, jb, path); err != nil {
			return err
		}
		if from = jb.Iter(); from != step {
			r.log.Printf("jobs: job %s: its checkpoint is of step %d, its row says %d: going on from %d", j.ID, from, step, from)
		}
	}
	if files == nil && listed != nil {
		// Not recorded, the next resume loads the whole data set, which
		// fails once it has grown (job.ErrDataChanged).
		if err := r.store.SetJobFiles(j.ID, listed); err != nil {
			r.log.Printf("jobs: job %s: recording its data set's files: %v", j.ID, err)
		}
	}
	var (
		metrics     *msg.VerificationSummary
		lastPub     time.Time
		lastSnap    time.Time
		p           msg.Progress
		lastCkpt    = from
		ckptFailing bool // the periodic checkpoints fail, since one was logged
	)
	if from > 0 { // the checkpoint's step, loss and metrics: the model's if no step is left
		// The file's loss and metrics, as its step: the row's may be of an
		// older step. A file written before it held them has no loss, and
		// the row's stand.
		p.Step, p.Loss, metrics = from, j.Loss, j.Metrics
		if loss, v, ok := jb.Last(); ok {
			p.Loss, metrics = loss, v
		}
	}
	checkpoint := func() error {
		err := r.store.SaveCheckpoint(j.ID, p.Step, total, p.Loss, metrics, jb.Checkpoint)
		if err == nil {
			lastCkpt = p.Step
		}
		return err
	}
	for !jb.Done() {
		if ctx.Err() != nil {
			if errors.Is(context.Cause(ctx), errShutdown) && p.Step > lastCkpt {
				if err := checkpoint(); err != nil {
					r.log.Printf("jobs: job %s: checkpoint on shutdown: %v", j.ID, err)
				}
			}
			return context.Cause(ctx)
		}
		p, err = jb.Step()
		if err != nil {
			return trainError{err}
		}
		if p.Verification != nil {
			metrics = p.Verification
		}
		// Every step's progress is the hub's, for a new subscriber's first
		// messages, before it is the run's, which a job's GET reads: a
		// client that read step N is not then streamed an older step. The
		// subscribers get one at most every ProgressEvery.
		send := p.EpochEnd || jb.Done() || time.Since(lastPub) >= r.cfg.ProgressEvery
		pp := p
		h.progress(msg.Message{V: msg.SchemaVersion, Type: msg.TypeProgress, Trainer: j.ID, Progress: &pp}, send)
		if send {
			lastPub = time.Now()
		}
		r.mu.Lock()
		run.step, run.steps, run.loss = p.Step, p.Steps, p.Loss
		if metrics != nil {
			run.metrics = metrics
		}
		r.mu.Unlock()
		if h.subscribers() > 0 && (p.EpochEnd || time.Since(lastSnap) >= r.cfg.SnapshotEvery) {
			lastSnap = time.Now()
			snap, err := jb.Snapshot()
			if err != nil {
				return trainError{err}
			}
			h.publish(msg.Message{V: msg.SchemaVersion, Type: msg.TypeSnapshot, Trainer: j.ID, Snapshot: &snap})
		}
		if p.Step > from && p.Step%r.cfg.CheckpointEvery == 0 && !jb.Done() {
			// A checkpoint that cannot be written (a full disk, say)
			// costs a later resume its point, not the run: the last one
			// written stays, and training goes on.
			// The first failure is logged, and the first success after
			// it (every checkpoint names a temporary file of its own, so
			// the errors all differ).
			switch err := checkpoint(); {
			case err != nil && !ckptFailing:
				r.log.Printf("jobs: job %s: checkpoint at step %d: %v (the next ones are not told until one is written)", j.ID, p.Step, err)
				ckptFailing = true
			case err == nil && ckptFailing:
				r.log.Printf("jobs: job %s: checkpoints written again from step %d", j.ID, p.Step)
				ckptFailing = false
			}
		}
	}
	if err := jb.Diverged(); err != nil {
		r.log.Printf("jobs: job %s: %v", j.ID, err)
		note = store.WithNote(note, err.Error())
	}
	r.mu.Lock()
	run.note = msg.ErrorLine(note)
	r.mu.Unlock()
	m := jb.Model()
	m.Meta.Provenance.Split = "train" // a job's images are its data set's training split (Loader), as train --split train's
	if v := jb.ModelVerification(); v != nil {
		metrics = v // with early stopping, the best epoch's, as m's parameters and threshold
	}
	name := fmt.Sprintf("%s %s D=%d on %s", m.Meta.Spec.Arch, m.Meta.Loss, m.Meta.Spec.Dim, j.Config.Data)
	if c := m.Meta.Spec.Crop; c != (msg.Crop{}) {
		name = fmt.Sprintf("%s %s D=%d (crop %s) on %s", m.Meta.Spec.Arch, m.Meta.Loss, m.Meta.Spec.Dim, msg.ViewName(c), j.Config.Data)
	}
	if v := m.Meta.Spec.Views; len(v) > 0 {
		name = fmt.Sprintf("%s %s D=%d×%d (%s) on %s", m.Meta.Spec.Arch, m.Meta.Loss, len(v), m.Meta.Spec.Dim, msg.FormatViews(v), j.Config.Data)
	}
	_, err = r.store.FinishJob(j.ID, name, p.Step, p.Loss, metrics, run.note, func(w io.Writer) error { return core.EncodeModel(w, m) }, checkTrained)
	if err == nil || errors.Is(err, store.ErrConflict) {
		return err
	}
	var refused trainError
	if errors.As(err, &refused) {
		return refused // no resume would save it
	}
	// The model could not be registered (a full disk, say). The run is
	// kept as a checkpoint of its last step, and the job interrupted:
	// resuming it registers the model without training again. A run that
	// diverged at the step after a checkpoint ends at that checkpoint's
	// step, and the checkpoint, written before, does not hold the stop: it
	// is written again (a resume would train the step again, which need
	// not diverge again, on CUDA).
	r.log.Printf("jobs: job %s: saving the model: %v", j.ID, err)
	if p.Step > lastCkpt || jb.Diverged() != nil {
		if cerr := checkpoint(); cerr != nil {
			return fmt.Errorf("saving the model: %w; and its checkpoint: %v", err, cerr)
		}
	}
	return errUnsaved
}

// checkTrained is store.CheckModel, with its refusal of the model (not
// an error reading the file back) a trainError that fails the job, in
// words that name the model, not its temporary file: resuming the job
// would train nothing and be refused again.
func checkTrained(path string) (store.Card, error) {
	card, err := store.CheckModel(path)
	var pe *fs.PathError
	if err == nil || errors.As(err, &pe) {
		return card, err
	}
	return card, trainError{fmt.Errorf("the trained model is not usable: %s", strings.TrimPrefix(err.Error(), path+": "))}
}

// errUnsaved is train's error when a finished run's model could not be
// registered but its checkpoint holds it.
var errUnsaved = errors.New("the model could not be saved")

// resume loads job id's checkpoint at path into jb. A file that is not a
// checkpoint of the job is a trainError that says why, and so is a missing
// one; one of a data set changed since (job.ErrDataChanged) wraps
// errCannotStart, and the job is interrupted and keeps its checkpoint, to
// resume once the data set is restored. A file that cannot be read (an I/O error) is errUnread,
// after a log line: the job is interrupted and keeps its checkpoint, which
// a failed job would lose, and the user is not shown the server's paths.
func (r *Runner) resume(id string, jb *job.Job, path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return trainError{errors.New("checkpoint: its file is missing (removed while the server ran)")}
	}
	if err != nil {
		r.log.Printf("jobs: job %s: opening its checkpoint: %v", id, err)
		return errUnread
	}
	defer f.Close()
	rd := &errReader{r: f}
	if err := jb.Resume(rd); err != nil {
		if rd.err != nil {
			r.log.Printf("jobs: job %s: reading its checkpoint: %v", id, rd.err)
			return errUnread
		}
		if errors.Is(err, job.ErrDataChanged) { // a sound checkpoint, to resume once the data set is restored
			return fmt.Errorf("%w: %w", errCannotStart, trainError{err})
		}
		return trainError{err}
	}
	return nil
}

// errPanic is wrapped by train's error when the training panicked (a bug).
var errPanic = errors.New("panic")

// errCannotStart is wrapped by train's error when a resumed job cannot
// start: its data set cannot be loaded, or changed since its checkpoint,
// or the job cannot be set up on it or on its device.
var errCannotStart = errors.New("the job cannot start now")

// errUnread is train's error when a job's checkpoint exists but could not
// be read.
var errUnread = errors.New("the checkpoint could not be read")

// errReader reads r and keeps its first error other than io.EOF, which
// tells a file that cannot be read from one whose bytes are wrong.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}
