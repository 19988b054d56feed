//go:build js && wasm

// Command trainer is metriclab's browser trainer: a plain syscall/js Web
// Worker (web/trainer.js loads trainer.wasm) that trains with core/job and
// talks in the messages of core/msg, as JSON strings.
//
// In (postMessage to the worker; type "command", msg.Command.Op):
//
//	start   Config (a msg.TrainRequest, Data "mnist") starts a new run, dropping
//	        any other; Message.Trainer is the id every answer carries, and
//	        Command.Channel the BroadcastChannel that also gets the
//	        snapshots (default "metriclab-" + id). MNIST is fetched once from
//	        /data/mnist/*.gz and kept for later runs.
//	        With Config.Data "enrolled" the run trains on Command.Samples
//	        (the webcam enrollments; their shape is the encoder's input,
//	        their Classes the identities) with augmentation (job.Options
//	        Augment: flips, shifts, rotations, brightness, contrast);
//	        Config.Arch defaults to "lenet-s". A tenth of the images is held
//	        out for verification when they make pairs, none otherwise. The
//	        run's encoder replaces a loaded one. A start that has no
//	        Config, other data, or samples or ports that do not fit is an
//	        error and the state "failed" that drops no model: the run and
//	        the model before it can still be exported and embedded with
//	        (and a run it halted stopped), under the trainer id and on the
//	        channel of the refused start, whose error the page awaits.
//	        Its MessagePorts are closed, as are those that come with a
//	        start of one worker or any other message.
//	load    Command.Model (.safetensors bytes, base64 in JSON) becomes the
//	        encoder of "embed" (core.DecodeModel and Model.Validate check
//	        it); on success Command.Samples, when given, are embedded as
//	        "embed" answers (with Command.ID), else the state "idle" with
//	        Command.ID says the load took; a bad model is an error ("the
//	        model could not be loaded: …", with Command.ID) and the
//	        encoder stays as it was. A later start replaces it.
//	embed   embeds Command.Samples (N = len(Pixels)/size; their shape must
//	        be the encoder's input) with the current encoder: the loaded
//	        model, else the run's current parameters; answers with an
//	        "embeddings" message: Embeddings{ID: Command.ID, Dim, Values
//	        (N×Dim, L2-normalised), Threshold and FAR (the model's
//	        recommended cosine threshold and the false accept rate it was
//	        measured at, both 0 when it has none)}, or an error with
//	        Command.ID.
//	pause   stop stepping after the current step
//	resume  go on after a pause
//	step    one step while paused (progress and snapshot follow)
//	stop    end the run early (or one a refused start halted); its model
//	        can still be exported
//	reset   drop the run
//	export  post the current model and the projector files
//
// Out (postMessage to the page; Message.Trainer is the id of the run):
//
//	state     once "idle" with no trainer id as soon as the worker listens
//	          (the page enables Train on it: a start now trains at once),
//	          then on every change: "idle", "loading", "running", "paused",
//	          "done", "failed" (posted again for a start that fails after a
//	          failed one); and "idle" with its Command.ID, the answer
//	          to a load without samples
//	progress  at most ten a second, and at every epoch end (with
//	          Progress.Verification) and at the last step
//	snapshot  every 0.5 s or more (at most a sixth of the time goes to
//	          snapshots), at epoch ends and at the end
//	export    msg.Export: the .safetensors bytes (base64 in JSON) and the
//	          TensorFlow Projector's vectors.tsv and metadata.tsv
//	embeddings  msg.Embeddings, the answer to "embed"
//	error     one line; a failed run also goes to state "failed"; one
//	          that refuses an embed, a load or an export carries its
//	          Command.ID, as does "too many commands waiting; dropped
//	          one" when the command dropped has one
//
// All but export also go to the run's BroadcastChannel, for the viewer
// (wasm/viz ?channel=NAME), whose caption shows the step and the state; a
// viewer that says there that it has loaded is sent the run's last
// progress and snapshot, the error of a failed run (the note of one that
// early stopping ended where training diverged), and the state again
// (nothing after a reset). Where the Go program stops (out of memory),
// web/trainer.js posts its error and the state failed there, as it does
// to the page: start leaves it the channel and the trainer id as
// self.metriclabViewer.
//
// The worker yields to the event loop after every step, so commands act
// between steps (a step of lenet-s on a batch of 64 takes about 0.1 s).
//
// Data parallelism (start with Command.Workers = W > 1): W workers train
// one run, each on its share of every batch (job.Options.Shard). Worker 0
// is the run the page talks to and that reports; at every step it receives
// the other workers' gradients over their MessagePorts ({step, loss, grad:
// ArrayBuffer of float32}), adds them to its own in worker order, divides
// by W and sends the mean back; every worker then applies it, so the
// replicas stay equal. The other workers post only their states and
// errors, take no command after start, and simply wait for worker 0 when
// it pauses; the page terminates them when the run ends.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall/js"
	"time"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/job"
	"metriclab/core/msg"
	"metriclab/losses"
)

// Throttles of the messages the worker posts.
const (
	progressEvery   = 100 * time.Millisecond
	minSnapshotWait = 500 * time.Millisecond
	maxSnapshotWait = 5 * time.Second
	snapshotShare   = 5 // wait at least this many times a snapshot's cost
)

func main() {
	w := &worker{state: msg.StateIdle, self: js.Global(), cmds: make(chan command, 64), loaded: make(chan loaded, 1),
		yield: make(chan struct{}, 1)}
	w.listen()
	w.run()
}

// loaded is the result of fetching MNIST for the load of generation gen.
type loaded struct {
	gen         int
	train, test *data.Set
	err         error
}

// command is a message from the page with the MessagePorts that came with
// it.
type command struct {
	m     msg.Message
	ports []js.Value
}

// worker is the trainer's state; only run's goroutine changes it.
type worker struct {
	self   js.Value // the worker's global scope
	cmds   chan command
	loaded chan loaded
	yield  chan struct{}
	port   js.Value // MessageChannel port that wakes yieldNow

	id, channel string
	bc          js.Value // BroadcastChannel for the viewer, or undefined
	onViewer    js.Func  // bc's onmessage: answerViewer
	state       string
	req         msg.TrainRequest
	job         *job.Job
	train, test *data.Set   // MNIST, kept across runs
	gen         int         // generation of the current start; a load of another is stale
	pauseAfter  bool        // a pause arrived while loading
	enrolled    *data.Set   // the current run's Samples, when Data is "enrolled"
	model       *core.Model // the loaded model, used by embed instead of the run's
	enc         *embedders  // embed's encoders, dropped when the parameters change
	group       *group      // the data-parallel workers of this run, or nil

	lastProgress, lastSnapshot time.Time
	snapshotWait               time.Duration

	// The run's last progress and snapshot as posted to bc, for a viewer
	// that loads after them (answerViewer), and the error of the last
	// failure, which answerViewer posts while the worker is failed.
	shownProgress, shownSnapshot string
	failure                      string
}

// listen installs self.onmessage, which queues commands for run, and the
// MessageChannel that yieldNow waits on; then it says it is ready (state
// "idle") and lets web/trainer.js hand over the messages that arrived
// before Go was ready.
func (w *worker) listen() {
	jsonObj := w.self.Get("JSON")
	onMessage := js.FuncOf(func(this js.Value, args []js.Value) any {
		var c command
		if ports := args[0].Get("ports"); ports.Type() == js.TypeObject {
			for i := range ports.Length() {
				c.ports = append(c.ports, ports.Index(i))
			}
		}
		// A JavaScript exception here (JSON.stringify of an object that
		// holds a BigInt or a cycle) would end the program: it is a bad
		// message instead.
		defer func() {
			if r := recover(); r != nil {
				closePorts(c.ports)
				w.postError(fmt.Errorf("bad message: %v", r))
			}
		}()
		d := args[0].Get("data")
		s := ""
		switch d.Type() {
		case js.TypeString:
			s = d.String()
		case js.TypeObject:
			s = jsonObj.Call("stringify", d).String()
		}
		if err := json.Unmarshal([]byte(s), &c.m); err != nil {
			closePorts(c.ports)
			w.postError(fmt.Errorf("bad message: %v", err))
			return nil
		}
		select {
		case w.cmds <- c:
		default:
			closePorts(c.ports)
			id := ""
			if c.m.Command != nil {
				id = c.m.Command.ID // a dropped probe is a refused probe
			}
			w.refuse(id, errors.New("too many commands waiting; dropped one"))
		}
		return nil
	})
	w.self.Set("onmessage", onMessage)
	w.onViewer = js.FuncOf(func(this js.Value, args []js.Value) any {
		w.answerViewer(args[0].Get("data"))
		return nil
	})
	mc := w.self.Get("MessageChannel").New()
	mc.Get("port1").Set("onmessage", js.FuncOf(func(js.Value, []js.Value) any {
		select {
		case w.yield <- struct{}{}:
		default:
		}
		return nil
	}))
	w.port = mc.Get("port2")
	w.post(msg.Message{Type: msg.TypeState, State: w.state})
	if drain := w.self.Get("metriclabDrain"); drain.Type() == js.TypeFunction {
		drain.Invoke()
	}
}

// run handles commands and loads, and steps while running.
func (w *worker) run() {
	for {
		if w.state == msg.StateRunning {
			select {
			case c := <-w.cmds:
				w.safely(func() { w.handle(c) })
			default:
				w.safely(func() { w.step(false) })
				w.yieldNow()
			}
			continue
		}
		select {
		case c := <-w.cmds:
			w.safely(func() { w.handle(c) })
		case l := <-w.loaded:
			w.safely(func() { w.onLoaded(l) })
		}
	}
}

// yieldNow lets the event loop run (and deliver commands) before the next
// step: a message to the worker's own MessageChannel wakes it, without
// setTimeout's clamping.
func (w *worker) yieldNow() {
	w.port.Call("postMessage", nil)
	<-w.yield
}

// safely runs f, turning a panic into an error message and state
// "failed".
func (w *worker) safely(f func()) {
	defer func() {
		if r := recover(); r != nil {
			w.fail(fmt.Errorf("internal error: %v", r))
		}
	}()
	f()
}

// handle acts on one command. Only start takes MessagePorts: those that
// come with anything else are closed.
func (w *worker) handle(cmd command) {
	m := cmd.m
	if c := m.Command; m.V != msg.SchemaVersion || m.Type != msg.TypeCommand || c == nil || c.Op != msg.OpStart {
		closePorts(cmd.ports)
	}
	if m.V != msg.SchemaVersion {
		w.postError(fmt.Errorf("message of schema version %d, this trainer reads %d", m.V, msg.SchemaVersion))
		return
	}
	if m.Type != msg.TypeCommand || m.Command == nil {
		w.postError(fmt.Errorf("message of type %q: the trainer only takes commands", m.Type))
		return
	}
	c := m.Command
	switch c.Op {
	case msg.OpStart:
		w.start(m.Trainer, c, cmd.ports)
	case msg.OpPause:
		switch w.state {
		case msg.StateRunning:
			w.setState(msg.StatePaused)
		case msg.StateLoading:
			w.pauseAfter = true
		}
	case msg.OpResume:
		w.pauseAfter = false
		if w.state == msg.StatePaused {
			w.cont()
			w.setState(msg.StateRunning)
		}
	case msg.OpStep:
		if w.state == msg.StatePaused {
			w.cont()
			w.step(true)
		}
	case msg.OpStop:
		w.gen++
		switch {
		case w.job != nil && (w.state == msg.StateRunning || w.state == msg.StatePaused || w.state == msg.StateFailed):
			// failed with a job: a start refused during the run halted it
			w.postSnapshot()
			w.setState(msg.StateDone)
		case w.job == nil:
			w.setState(msg.StateIdle)
		}
	case msg.OpReset:
		w.gen++
		w.job, w.enc = nil, nil
		w.shownProgress, w.shownSnapshot = "", "" // a viewer that loads now has no run to see
		w.group.close()
		w.group = nil
		w.setState(msg.StateIdle)
	case msg.OpExport:
		w.export(c.ID)
	case msg.OpLoad:
		w.load(c)
	case msg.OpEmbed:
		w.embed(c)
	default:
		w.postError(fmt.Errorf("unknown command %q (want start, pause, resume, step, stop, reset, export, load or embed)", c.Op))
	}
}

// start begins a run: at once when MNIST is loaded, after loading it
// otherwise. A start it refuses (checkStart) fails before any model is
// dropped: the run and the model before it can still be exported and
// embedded with, under the refused start's id and channel, which its
// error needs; the ports that came with it are closed, as are those of a
// start of one worker, which takes none.
func (w *worker) start(id string, c *msg.Command, ports []js.Value) {
	w.id = id
	channel := c.Channel
	if channel == "" {
		channel = "metriclab-" + id
	}
	if c.Workers > 1 && c.Worker > 0 {
		channel = "" // only worker 0 reports, to the page and the viewer
	}
	if channel != w.channel {
		if !w.bc.IsUndefined() && !w.bc.IsNull() {
			w.bc.Call("close")
		}
		w.bc, w.channel = js.Undefined(), channel
		if ctor := w.self.Get("BroadcastChannel"); channel != "" && ctor.Type() == js.TypeFunction {
			w.bc = ctor.New(channel)
			w.bc.Set("onmessage", w.onViewer)
		}
	}
	// web/trainer.js tells the viewer when the Go program stops.
	w.self.Set("metriclabViewer", map[string]any{"channel": w.bc, "trainer": id})
	enrolled, g, err := checkStart(c, ports)
	if err != nil || g == nil {
		closePorts(ports) // newGroup hooked none of them
	}
	if err != nil {
		w.postFailed(err)
		return
	}
	w.gen++
	w.job, w.pauseAfter = nil, false
	w.shownProgress, w.shownSnapshot = "", ""
	w.model, w.enc, w.enrolled = nil, nil, enrolled
	w.group.close()
	w.group = g
	w.req = *c.Config
	if w.req.Data == msg.DataEnrolled {
		if w.req.Arch == "" {
			w.req.Arch = "lenet-s"
		}
		w.begin()
		return
	}
	if w.train != nil {
		w.begin()
		return
	}
	w.setState(msg.StateLoading)
	go func(gen int) {
		l := loaded{gen: gen}
		defer func() {
			if r := recover(); r != nil {
				l.err = fmt.Errorf("loading MNIST: %v", r)
			}
			w.loaded <- l
		}()
		l.train, l.test, l.err = fetchMNIST()
	}(w.gen)
}

// checkStart returns the images start c trains on, when its data is
// "enrolled" (else nil: MNIST), and its data-parallel group, when it has
// Workers > 1 (else nil); or why it is refused: no Config, other data,
// samples or ports that do not fit.
func checkStart(c *msg.Command, ports []js.Value) (*data.Set, *group, error) {
	if c.Config == nil {
		return nil, nil, errors.New("start without a training configuration")
	}
	var enrolled *data.Set
	switch c.Config.Data {
	case msg.DataEnrolled:
		var err error
		if enrolled, err = samplesSet(c.Samples, true); err != nil {
			return nil, nil, err
		}
	case "mnist":
	default:
		return nil, nil, fmt.Errorf("data %q: the browser trainer has mnist and enrolled only", c.Config.Data)
	}
	if c.Workers <= 1 {
		return enrolled, nil, nil
	}
	g, err := newGroup(c.Worker, c.Workers, ports)
	if err != nil {
		return nil, nil, err
	}
	return enrolled, g, nil
}

// closePorts closes MessagePorts that the worker does not keep.
func closePorts(ports []js.Value) {
	for _, p := range ports {
		p.Call("close")
	}
}

// onLoaded keeps the loaded MNIST and begins the run it was loaded for,
// unless that run was stopped, reset or replaced meanwhile.
func (w *worker) onLoaded(l loaded) {
	if l.err == nil && w.train == nil {
		w.train, w.test = l.train, l.test
	}
	if l.gen != w.gen || w.state != msg.StateLoading {
		return
	}
	if l.err != nil {
		w.fail(l.err)
		return
	}
	w.begin()
}

// begin creates the job and runs it (or holds it, paused).
func (w *worker) begin() {
	train, test := w.train, w.test
	if w.enrolled != nil {
		train, test = w.enrolled, nil
		if w.req.Augment == "" {
			w.req.Augment = data.AugmentFaces.Name
		}
	}
	var shard job.Shard
	if w.group != nil {
		shard = job.Shard{Index: w.group.index, Count: w.group.count}
	}
	j, err := job.New(w.req, train, test, jobOptions(shard))
	if err != nil {
		w.fail(err)
		return
	}
	w.job = j
	if w.group != nil {
		w.group.grad = make([]float32, j.GradLen())
		w.group.sum = make([]float32, j.GradLen())
	}
	w.lastProgress, w.lastSnapshot, w.snapshotWait = time.Time{}, time.Time{}, minSnapshotWait
	if w.pauseAfter {
		w.pauseAfter = false
		w.setState(msg.StatePaused)
		return
	}
	w.setState(msg.StateRunning)
}

// cont tells the job that the run goes on after a pause (job.Job.Continue):
// the pause is not counted in its time left.
func (w *worker) cont() {
	if w.job != nil {
		w.job.Continue()
	}
}

// step trains one batch and posts what is due; force posts progress and a
// snapshot whatever the throttles say.
func (w *worker) step(force bool) {
	if w.job == nil || w.job.Done() {
		return
	}
	var p msg.Progress
	var err error
	if w.group != nil {
		p, err = w.group.step(w.job)
	} else {
		p, err = w.job.Step()
	}
	w.enc = nil // the parameters changed
	if err != nil {
		w.fail(err)
		return
	}
	done := w.job.Done()
	if w.group != nil && w.group.index > 0 { // only worker 0 reports
		if done {
			w.setState(msg.StateDone)
		}
		return
	}
	now := time.Now()
	if force || done || p.EpochEnd || now.Sub(w.lastProgress) >= progressEvery {
		w.lastProgress = now
		w.post(msg.Message{Type: msg.TypeProgress, Progress: &p})
	}
	if force || done || p.EpochEnd || now.Sub(w.lastSnapshot) >= w.snapshotWait {
		w.postSnapshot()
		// Embeddings that are not finite (this step's update overflowed)
		// end the run there with early stopping, as the next step's loss
		// would (job.Snapshot): the snapshot posted is the best epoch's.
		done = done || w.job != nil && w.job.Done()
	}
	if done {
		// A note on how the run ended, just before the state it ends
		// with (the viewer's Pump takes an error so placed for it): the
		// run is done, with the best epoch's model.
		if w.job != nil && w.job.Diverged() != nil {
			w.postError(w.job.Diverged())
		}
		w.setState(msg.StateDone)
	}
}

// postSnapshot posts a snapshot to the page and to the viewer's channel,
// and spaces the next one by snapshotShare times its cost (times the
// workers of a data-parallel run: they all wait while worker 0 embeds).
func (w *worker) postSnapshot() {
	start := time.Now()
	s, err := w.job.Snapshot()
	if err != nil {
		w.fail(err)
		return
	}
	w.post(msg.Message{Type: msg.TypeSnapshot, Snapshot: &s})
	w.lastSnapshot = time.Now()
	share := time.Duration(snapshotShare)
	if w.group != nil {
		share *= time.Duration(w.group.count)
	}
	w.snapshotWait = min(maxSnapshotWait, max(minSnapshotWait, share*w.lastSnapshot.Sub(start)))
}

// export posts the model file and the projector's files; an export it
// cannot make is refused with the command's ID (the Verify page's keeps
// its encoder).
func (w *worker) export(id string) {
	if w.job == nil {
		w.refuse(id, errors.New("nothing to export: start a training run first"))
		return
	}
	var model bytes.Buffer
	if err := core.EncodeModel(&model, w.job.Model()); err != nil {
		w.refuse(id, err)
		return
	}
	e, err := w.job.Embeddings()
	if err != nil {
		w.refuse(id, err)
		return
	}
	var vectors, metadata strings.Builder
	if err := job.WriteProjectorTSV(&vectors, &metadata, e, w.job.PointClasses()); err != nil {
		w.refuse(id, err)
		return
	}
	w.post(msg.Message{Type: msg.TypeExport, Export: &msg.Export{Model: model.Bytes(), Vectors: vectors.String(), Metadata: metadata.String()}})
}

// load makes c.Model the encoder of embed once it has embedded c.Samples
// with it (answered as embed answers, with c.ID) or, without samples,
// says the load took with the state idle, of c.ID: the page tells the
// answer of its latest load from a late one of a load it sent again. A
// model it refuses, or cannot embed the samples with, leaves the encoder
// it had, and the error says so.
func (w *worker) load(c *msg.Command) {
	m, err := core.DecodeModel(bytes.NewReader(c.Model))
	if err == nil {
		err = m.Validate(losses.Check) // as the server checks an upload
	}
	var enc *embedders
	var e *msg.Embeddings
	if err == nil && c.Samples != nil {
		enc, e, err = embedWith(m, nil, c)
	}
	if err != nil { // the encoder stays the one before, as the page's does
		w.refuse(c.ID, fmt.Errorf("the model could not be loaded: %w", err))
		return
	}
	w.model, w.enc = m, enc
	if e != nil {
		w.post(msg.Message{Type: msg.TypeEmbeddings, Embeddings: e})
		return
	}
	w.post(msg.Message{Type: msg.TypeState, State: msg.StateIdle, ID: c.ID})
}

// embed answers c.Samples' embeddings with the current encoder.
func (w *worker) embed(c *msg.Command) {
	m := w.model
	if m == nil && w.job != nil {
		m = w.job.Model()
	}
	if m == nil {
		w.refuse(c.ID, errors.New("nothing to embed with: train or load an encoder first"))
		return
	}
	enc, e, err := embedWith(m, w.enc, c)
	if err != nil {
		w.refuse(c.ID, err)
		return
	}
	w.enc = enc
	w.post(msg.Message{Type: msg.TypeEmbeddings, Embeddings: e})
}

// setState posts the state when it changes.
func (w *worker) setState(s string) {
	if s == w.state {
		return
	}
	w.state = s
	w.post(msg.Message{Type: msg.TypeState, State: s})
}

// fail drops the run, posts err and goes to state "failed".
func (w *worker) fail(err error) {
	w.job = nil
	w.postFailed(err)
}

// postFailed posts err and goes to state "failed", which it posts even
// when the worker was failed already: the page shows a run it started as
// running until a state answers the start, and a start after a failed run
// may fail too (its settings again too large to train).
func (w *worker) postFailed(err error) {
	w.postError(err)
	w.failure = msg.ErrorLine(err.Error())
	w.state = msg.StateFailed
	w.post(msg.Message{Type: msg.TypeState, State: msg.StateFailed})
}

// postError posts err as one line.
func (w *worker) postError(err error) { w.refuse("", err) }

// refuse posts err as the schema's one line (msg.ErrorLine: an error may
// quote a peer's words or a command's of any length), the answer to the
// command of ID id (an embed's, a load's or an export's; "": none), so
// that the page tells a refused probe from a refused gallery.
func (w *worker) refuse(id string, err error) {
	w.post(msg.Message{Type: msg.TypeError, ID: id, Error: msg.ErrorLine(err.Error())})
}

// post stamps m with the schema version and the run's id and posts it to
// the page as JSON; snapshots, progress, states and errors also go to the
// viewer's BroadcastChannel (its caption shows the step and the state).
func (w *worker) post(m msg.Message) {
	m.V, m.Trainer = msg.SchemaVersion, w.id
	b, err := json.Marshal(m)
	if err != nil {
		m = msg.Message{V: msg.SchemaVersion, Type: msg.TypeError, Trainer: w.id, Error: "encoding a message: " + err.Error()}
		b, _ = json.Marshal(m)
	}
	w.self.Call("postMessage", string(b))
	if w.bc.IsUndefined() || w.bc.IsNull() {
		return
	}
	switch m.Type {
	case msg.TypeSnapshot, msg.TypeProgress, msg.TypeState, msg.TypeError:
		w.bc.Call("postMessage", string(b))
	}
	switch m.Type {
	case msg.TypeProgress:
		w.shownProgress = string(b)
	case msg.TypeSnapshot:
		w.shownSnapshot = string(b)
	}
}

// answerViewer posts the run's last progress and snapshot, the error of
// a failure (or the note of a run that early stopping ended where
// training diverged), and the worker's state, to the viewer's channel
// again when data, a message on it, is a viewer saying it has loaded
// (view.ReadyMessage): one that loads after them (the page reloads its
// viewers when compare mode comes or goes) would wait for the next
// snapshot, which a run that is done, paused or failed does not send, and
// not learn why a run failed, or how it ended, which the page shows. A
// worker that failed before a snapshot answers with its error and state.
func (w *worker) answerViewer(data js.Value) {
	var m msg.Message
	if data.Type() != js.TypeString || json.Unmarshal([]byte(data.String()), &m) != nil ||
		m.Type != msg.TypeState || m.Trainer != "viz" || m.State != "viz-ready" ||
		w.shownSnapshot == "" && w.state != msg.StateFailed {
		return
	}
	for _, s := range []string{w.shownProgress, w.shownSnapshot} {
		if s != "" {
			w.bc.Call("postMessage", s)
		}
	}
	again := func(m msg.Message) {
		m.V, m.Trainer = msg.SchemaVersion, w.id
		b, err := json.Marshal(m)
		if err != nil {
			panic("trainer: " + err.Error()) // a fixed struct always marshals
		}
		w.bc.Call("postMessage", string(b))
	}
	switch {
	case w.state == msg.StateFailed:
		again(msg.Message{Type: msg.TypeError, Error: w.failure})
	case w.state == msg.StateDone && w.job != nil && w.job.Diverged() != nil:
		again(msg.Message{Type: msg.TypeError, Error: msg.ErrorLine(w.job.Diverged().Error())}) // the note step posted
	}
	again(msg.Message{Type: msg.TypeState, State: w.state})
}
