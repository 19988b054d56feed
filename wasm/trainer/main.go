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
//	pause   stop stepping after the current step
//	resume  go on after a pause
//	step    one step while paused (progress and snapshot follow)
//	stop    end the run early; its model can still be exported
//	reset   drop the run
//	export  post the current model and the projector files
//
// Out (postMessage to the page; Message.Trainer is the id of the run):
//
//	state     on every change: "idle", "loading", "running", "paused",
//	          "done", "failed"
//	progress  at most ten a second, and at every epoch end (with
//	          Progress.Verification) and at the last step
//	snapshot  every 0.5 s or more (at most a sixth of the time goes to
//	          snapshots), at epoch ends and at the end
//	export    msg.Export: the .safetensors bytes (base64 in JSON) and the
//	          TensorFlow Projector's vectors.tsv and metadata.tsv
//	error     one line; a failed run also goes to state "failed"
//
// All but export also go to the run's BroadcastChannel, for the viewer
// (wasm/viz ?channel=NAME), whose caption shows the step and the state.
//
// The worker yields to the event loop after every step, so commands act
// between steps (a step of lenet-s on a batch of 64 takes about 0.1 s).
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
)

// Throttles of the messages the worker posts.
const (
	progressEvery   = 100 * time.Millisecond
	minSnapshotWait = 500 * time.Millisecond
	maxSnapshotWait = 5 * time.Second
	snapshotShare   = 5 // wait at least this many times a snapshot's cost
)

// mnistBase is where the server serves MNIST's gzipped IDX files.
const mnistBase = "/data/mnist/"

func main() {
	w := &worker{state: "idle", self: js.Global(), cmds: make(chan msg.Message, 64), loaded: make(chan loaded, 1),
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

// worker is the trainer's state; only run's goroutine changes it.
type worker struct {
	self   js.Value // the worker's global scope
	cmds   chan msg.Message
	loaded chan loaded
	yield  chan struct{}
	port   js.Value // MessageChannel port that wakes yieldNow

	id, channel string
	bc          js.Value // BroadcastChannel for the viewer, or undefined
	state       string
	req         msg.TrainRequest
	job         *job.Job
	train, test *data.Set // MNIST, kept across runs
	gen         int       // generation of the current start; a load of another is stale
	pauseAfter  bool      // a pause arrived while loading

	lastProgress, lastSnapshot time.Time
	snapshotWait               time.Duration
}

// listen installs self.onmessage, which queues commands for run, and the
// MessageChannel that yieldNow waits on; then it lets web/trainer.js hand
// over the messages that arrived before Go was ready.
func (w *worker) listen() {
	jsonObj := w.self.Get("JSON")
	onMessage := js.FuncOf(func(this js.Value, args []js.Value) any {
		d := args[0].Get("data")
		s := ""
		switch d.Type() {
		case js.TypeString:
			s = d.String()
		case js.TypeObject:
			s = jsonObj.Call("stringify", d).String()
		}
		var m msg.Message
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			w.postError(fmt.Errorf("bad message: %v", err))
			return nil
		}
		select {
		case w.cmds <- m:
		default:
			w.postError(errors.New("too many commands waiting; dropped one"))
		}
		return nil
	})
	w.self.Set("onmessage", onMessage)
	mc := w.self.Get("MessageChannel").New()
	mc.Get("port1").Set("onmessage", js.FuncOf(func(js.Value, []js.Value) any {
		select {
		case w.yield <- struct{}{}:
		default:
		}
		return nil
	}))
	w.port = mc.Get("port2")
	if drain := w.self.Get("metriclabDrain"); drain.Type() == js.TypeFunction {
		drain.Invoke()
	}
}

// run handles commands and loads, and steps while running.
func (w *worker) run() {
	for {
		if w.state == "running" {
			select {
			case m := <-w.cmds:
				w.safely(func() { w.handle(m) })
			default:
				w.safely(func() { w.step(false) })
				w.yieldNow()
			}
			continue
		}
		select {
		case m := <-w.cmds:
			w.safely(func() { w.handle(m) })
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

// handle acts on one command.
func (w *worker) handle(m msg.Message) {
	if m.V != msg.SchemaVersion {
		w.postError(fmt.Errorf("message of schema version %d, this trainer reads %d", m.V, msg.SchemaVersion))
		return
	}
	if m.Type != "command" || m.Command == nil {
		w.postError(fmt.Errorf("message of type %q: the trainer only takes commands", m.Type))
		return
	}
	c := m.Command
	switch c.Op {
	case "start":
		w.start(m.Trainer, c)
	case "pause":
		switch w.state {
		case "running":
			w.setState("paused")
		case "loading":
			w.pauseAfter = true
		}
	case "resume":
		w.pauseAfter = false
		if w.state == "paused" {
			w.setState("running")
		}
	case "step":
		if w.state == "paused" {
			w.step(true)
		}
	case "stop":
		w.gen++
		switch {
		case w.job != nil && (w.state == "running" || w.state == "paused"):
			w.postSnapshot()
			w.setState("done")
		case w.job == nil:
			w.setState("idle")
		}
	case "reset":
		w.gen++
		w.job = nil
		w.setState("idle")
	case "export":
		w.export()
	default:
		w.postError(fmt.Errorf("unknown command %q (want start, pause, resume, step, stop, reset or export)", c.Op))
	}
}

// start begins a run: at once when MNIST is loaded, after loading it
// otherwise.
func (w *worker) start(id string, c *msg.Command) {
	w.gen++
	w.job, w.pauseAfter = nil, false
	w.id = id
	channel := c.Channel
	if channel == "" {
		channel = "metriclab-" + id
	}
	if channel != w.channel {
		if !w.bc.IsUndefined() && !w.bc.IsNull() {
			w.bc.Call("close")
		}
		w.bc, w.channel = js.Undefined(), channel
		if ctor := w.self.Get("BroadcastChannel"); ctor.Type() == js.TypeFunction {
			w.bc = ctor.New(channel)
		}
	}
	if c.Config == nil {
		w.fail(errors.New("start without a training configuration"))
		return
	}
	w.req = *c.Config
	if w.req.Data != "mnist" {
		w.fail(fmt.Errorf("data %q: the browser trainer has mnist only", w.req.Data))
		return
	}
	if w.train != nil {
		w.begin()
		return
	}
	w.setState("loading")
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

// onLoaded keeps the loaded MNIST and begins the run it was loaded for,
// unless that run was stopped, reset or replaced meanwhile.
func (w *worker) onLoaded(l loaded) {
	if l.err == nil && w.train == nil {
		w.train, w.test = l.train, l.test
	}
	if l.gen != w.gen || w.state != "loading" {
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
	j, err := job.New(w.req, w.train, w.test, job.Options{Version: "browser"})
	if err != nil {
		w.fail(err)
		return
	}
	w.job = j
	w.lastProgress, w.lastSnapshot, w.snapshotWait = time.Time{}, time.Time{}, minSnapshotWait
	if w.pauseAfter {
		w.pauseAfter = false
		w.setState("paused")
		return
	}
	w.setState("running")
}

// step trains one batch and posts what is due; force posts progress and a
// snapshot whatever the throttles say.
func (w *worker) step(force bool) {
	if w.job == nil || w.job.Done() {
		return
	}
	p, err := w.job.Step()
	if err != nil {
		w.fail(err)
		return
	}
	done := w.job.Done()
	now := time.Now()
	if force || done || p.EpochEnd || now.Sub(w.lastProgress) >= progressEvery {
		w.lastProgress = now
		w.post(msg.Message{Type: "progress", Progress: &p})
	}
	if force || done || p.EpochEnd || now.Sub(w.lastSnapshot) >= w.snapshotWait {
		w.postSnapshot()
	}
	if done {
		w.setState("done")
	}
}

// postSnapshot posts a snapshot to the page and to the viewer's channel,
// and spaces the next one by snapshotShare times its cost.
func (w *worker) postSnapshot() {
	start := time.Now()
	s, err := w.job.Snapshot()
	if err != nil {
		w.fail(err)
		return
	}
	w.post(msg.Message{Type: "snapshot", Snapshot: &s})
	w.lastSnapshot = time.Now()
	w.snapshotWait = min(maxSnapshotWait, max(minSnapshotWait, snapshotShare*w.lastSnapshot.Sub(start)))
}

// export posts the model file and the projector's files.
func (w *worker) export() {
	if w.job == nil {
		w.postError(errors.New("nothing to export: start a training run first"))
		return
	}
	var model bytes.Buffer
	if err := core.EncodeModel(&model, w.job.Model()); err != nil {
		w.postError(err)
		return
	}
	e, err := w.job.Embeddings()
	if err != nil {
		w.postError(err)
		return
	}
	var vectors, metadata strings.Builder
	if err := job.WriteProjectorTSV(&vectors, &metadata, e, w.job.Classes()); err != nil {
		w.postError(err)
		return
	}
	w.post(msg.Message{Type: "export", Export: &msg.Export{Model: model.Bytes(), Vectors: vectors.String(), Metadata: metadata.String()}})
}

// setState posts the state when it changes.
func (w *worker) setState(s string) {
	if s == w.state {
		return
	}
	w.state = s
	w.post(msg.Message{Type: "state", State: s})
}

// fail posts err and goes to state "failed".
func (w *worker) fail(err error) {
	w.job = nil
	w.postError(err)
	w.setState("failed")
}

// postError posts err as one line.
func (w *worker) postError(err error) {
	w.post(msg.Message{Type: "error", Error: strings.ReplaceAll(err.Error(), "\n", " ")})
}

// post stamps m with the schema version and the run's id and posts it to
// the page as JSON; snapshots, progress, states and errors also go to the
// viewer's BroadcastChannel (its caption shows the step and the state).
func (w *worker) post(m msg.Message) {
	m.V, m.Trainer = msg.SchemaVersion, w.id
	b, err := json.Marshal(m)
	if err != nil {
		m = msg.Message{V: msg.SchemaVersion, Type: "error", Trainer: w.id, Error: "encoding a message: " + err.Error()}
		b, _ = json.Marshal(m)
	}
	w.self.Call("postMessage", string(b))
	if w.bc.IsUndefined() || w.bc.IsNull() {
		return
	}
	switch m.Type {
	case "snapshot", "progress", "state", "error":
		w.bc.Call("postMessage", string(b))
	}
}

// fetchMNIST fetches and parses MNIST's training and test sets.
func fetchMNIST() (train, test *data.Set, err error) {
	names := []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
	fetch := js.Global().Get("fetch")
	pending := make([]js.Value, len(names))
	for i, name := range names {
		pending[i] = fetch.Invoke(mnistBase + name)
	}
	files := make([][]byte, len(names))
	for i, p := range pending {
		if files[i], err = bytesOf(p, mnistBase+names[i]); err != nil {
			return nil, nil, err
		}
	}
	if train, err = data.ParseMNIST(files[0], files[1]); err != nil {
		return nil, nil, err
	}
	if test, err = data.ParseMNIST(files[2], files[3]); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// bytesOf awaits a fetch's response and returns its body.
func bytesOf(response js.Value, url string) ([]byte, error) {
	resp, err := await(response)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %v", url, err)
	}
	if !resp.Get("ok").Bool() {
		return nil, fmt.Errorf("fetching %s: HTTP %d", url, resp.Get("status").Int())
	}
	buf, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", url, err)
	}
	u8 := js.Global().Get("Uint8Array").New(buf)
	b := make([]byte, u8.Get("length").Int())
	js.CopyBytesToGo(b, u8)
	return b, nil
}

// await blocks the calling goroutine until promise p settles.
func await(p js.Value) (js.Value, error) {
	done := make(chan struct{})
	var v js.Value
	var err error
	then := js.FuncOf(func(_ js.Value, args []js.Value) any {
		v = args[0]
		close(done)
		return nil
	})
	catch := js.FuncOf(func(_ js.Value, args []js.Value) any {
		err = errors.New(args[0].Call("toString").String())
		close(done)
		return nil
	})
	defer then.Release()
	defer catch.Release()
	p.Call("then", then, catch)
	<-done
	return v, err
}
