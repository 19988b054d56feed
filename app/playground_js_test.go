//go:build js && wasm

package app

import (
	"slices"
	"strconv"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// TestPlaygroundCrashTellsViewer: when a trainer's worker dies (its
// error event), or the page stops it for a lost data-parallel helper,
// the page tells the trainer's viewer on its BroadcastChannel, in the
// worker's place, the error and the state failed. Before, the viewer was
// told nothing and showed the run's last picture as running. Under node,
// with its BroadcastChannel.
func TestPlaygroundCrashTellsViewer(t *testing.T) {
	p := NewPlayground()
	p.nonce = "test"
	p.settings.Compare = []string{"arcface", "cosface"}
	p.resize()
	for i := range 2 { // the viewers load once a trainer is ready
		p.receive(i, `{"v":1,"type":"state","trainer":"t`+strconv.Itoa(i)+`","state":"running"}`)
	}
	p.trainers[1].begun = true

	var heard [2]func() []string
	for i := range heard {
		var stop func()
		heard[i], _, stop = viewerOn(t, p.viewerChannel(i))
		defer stop()
	}
	p.crashed(0, "the trainer's worker stopped: out of memory")
	p.helperFailed(1, 1, "out of memory")
	waitHeard(func() bool { return len(heard[0]()) >= 2 && len(heard[1]()) >= 2 })
	want := [2][]string{
		{"t0 error the trainer's worker stopped: out of memory", "t0 state failed"},
		{"t1 error data-parallel worker 1: out of memory", "t1 state failed"},
	}
	for i := range heard {
		if got := heard[i](); !slices.Equal(got, want[i]) {
			t.Errorf("viewer %d heard %q, want %q", i, got, want[i])
		}
	}
}

// TestVerifyCrashTellsViewer: when the Verify page's worker dies, the
// trainer panel's viewer is told, as the playground's are: the error and
// the state failed. Before, it showed the last run's picture as running.
func TestVerifyCrashTellsViewer(t *testing.T) {
	v := NewVerify()
	v.st.SetChannel("metriclab-verify-test")
	heard, _, stop := viewerOn(t, "metriclab-verify-test")
	defer stop()

	v.crash("the trainer's worker stopped: out of memory")
	waitHeard(func() bool { return len(heard()) >= 2 })
	want := []string{"verify error the trainer's worker stopped: out of memory", "verify state failed"}
	if got := heard(); !slices.Equal(got, want) {
		t.Errorf("viewer heard %q, want %q", got, want)
	}
	if !v.crashed || v.st.Run.State != StateCrashed {
		t.Errorf("after the crash: crashed %v, state %q; want true, %q", v.crashed, v.st.Run.State, StateCrashed)
	}
}

// playgroundHost draws the playground p without its OnMount (which
// reads the URL and starts the workers): the page's context is the
// host's. It says what leaving it stops, and its URL's fragment, as p
// does.
type playgroundHost struct {
	app.Compo
	p *Playground
}

func (h *playgroundHost) OnMount(ctx app.Context) { h.p.mounted = ctx }
func (h *playgroundHost) Render() app.UI          { return h.p.Render() }
func (h *playgroundHost) Stops() string           { return h.p.Stops() }
func (h *playgroundHost) Hash() string            { return h.p.Hash() }

// TestPlaygroundNoticesKeepLayout: a link's notices, or a note, that
// come or go leave the elements drawn after them as they are: the
// viewers' <iframe>s, the fields of the controls, the permalink. go-app
// matches an element's children by their place, and these were drawn in
// the place after the notices and the note: before, a notice (a link
// opened while training, "the link's settings were not applied"), its
// Dismiss, or a note (Sphere (PNG) before a picture: "the viewer has no
// picture yet") drew the whole layout again, each viewer reloaded (its
// ebiten sphere started anew, with no picture) and what was typed in a
// field lost.
func TestPlaygroundNoticesKeepLayout(t *testing.T) {
	p := NewPlayground()
	p.nonce, p.viewers = "test", true
	p.settings.Compare = []string{"arcface", "cosface"}
	p.resize()
	h := &playgroundHost{p: p}
	e, field := mountInDocument(t, h)
	ids := []string{ViewerID(0), ViewerID(1), "ctl-classes", "ctl-seed", "btn-train", "permalink"}
	for _, step := range []struct {
		what string
		do   func()
	}{
		{"a notice", func() { p.notices = []string{"the link's settings were not applied: training is under way"} }},
		{"a note", func() { p.note = "the viewer has no picture yet" }},
		{"the notices dismissed", func() { p.notices = nil }},
		{"the note gone", func() { p.note = "" }},
	} {
		for _, id := range redrawn(t, e, field, p.mounted, ids, step.do) {
			t.Errorf("%s: #%s was drawn again", step.what, id)
		}
	}
}

// TestTrainerPanelCrashKeepsViewer: a trainer that fails or crashes,
// which shows its error and Restart in the panel, and its restart,
// which takes them away, leave the panel's viewer and export buttons as
// they are. go-app matches an element's children by their place, and
// the viewer was drawn in the place after the error: before, the crash
// reloaded the viewer, which lost the run's last picture (a dead worker
// sends none again: the viewer heard only the error), and the restart
// reloaded it again.
func TestTrainerPanelCrashKeepsViewer(t *testing.T) {
	p := NewPlayground()
	p.nonce, p.viewers = "test", true
	h := &playgroundHost{p: p}
	e, field := mountInDocument(t, h)
	ids := []string{ViewerID(0), "btn-export-model-0", "btn-export-png-0"}
	r := &p.trainers[0].run
	for _, step := range []struct {
		what string
		do   func()
	}{
		{"a crash", func() { r.State, r.Err = StateCrashed, "the trainer's worker stopped: out of memory" }},
		{"a restart", func() { r.State, r.Err = msg.StateLoading, "" }},
		{"a failure", func() { r.State, r.Err = msg.StateFailed, "the data set could not be read" }},
		{"a start again", func() { r.State, r.Err = msg.StateRunning, "" }},
	} {
		for _, id := range redrawn(t, e, field, p.mounted, ids, step.do) {
			t.Errorf("%s: #%s was drawn again", step.what, id)
		}
	}
}

// waitHeard waits until done, for 5 s at most: BroadcastChannels deliver
// on the event loop, which a sleep yields to.
func waitHeard(done func() bool) {
	for end := time.Now().Add(5 * time.Second); !done() && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // anything more that would come
}

// viewerOn listens on channel as a viewer does, and returns what it has
// heard so far, each message as "TRAINER TYPE STATE", "TRAINER TYPE
// ERROR", "TRAINER progress STEP" or "TRAINER TYPE", the function that says a message there as the viewer (which
// it does not hear itself), and the one that stops listening.
func viewerOn(t *testing.T, channel string) (heard func() []string, say func(string), stop func()) {
	t.Helper()
	var got []string
	bc := js.Global().Get("BroadcastChannel").New(channel)
	onMessage := js.FuncOf(func(this js.Value, args []js.Value) any {
		m, err := DecodeMessage(args[0].Get("data").String())
		if err != nil {
			t.Errorf("viewer on %s: %v", channel, err)
			return nil
		}
		s := m.Trainer + " " + m.Type + " " + m.State + m.Error
		if m.Progress != nil {
			s += strconv.Itoa(m.Progress.Step)
		}
		got = append(got, strings.TrimSpace(s))
		return nil
	})
	bc.Set("onmessage", onMessage)
	return func() []string { return got }, func(m string) { bc.Call("postMessage", m) }, func() {
		bc.Call("close")
		onMessage.Release()
	}
}

// TestCrashAnswersLateViewer: a viewer that loads after its trainer's
// worker died (the page reloads its viewers when compare mode comes or
// goes; they first load once another trainer is ready) says so on its
// channel, and no worker answers: the page does, in the dead worker's
// place, with the error and the state failed, until Restart (then the new
// worker answers, and the page no longer). Before, the page told only the
// viewer there at the crash, and a later one waited with no picture and
// no word. Under node, with its BroadcastChannel.
func TestCrashAnswersLateViewer(t *testing.T) {
	js.Global().Call("eval", `globalThis.Worker = class { postMessage() {} terminate() {} }`)
	defer js.Global().Delete("Worker")
	const reason = "the trainer's worker stopped: out of memory"

	p := NewPlayground()
	p.nonce = "late"
	p.crashed(0, reason) // before any trainer was ready: no viewer yet
	if got, want := lateViewer(t, p.channel(0), 2), []string{"t0 error " + reason, "t0 state failed"}; !slices.Equal(got, want) {
		t.Errorf("playground: a viewer that loads after the crash heard %q, want %q", got, want)
	}
	p.restart(0)
	if got := lateViewer(t, p.channel(0), 0); len(got) > 0 {
		t.Errorf("playground: a viewer that loads after Restart heard %q from the page, want nothing", got)
	}
	p.OnDismount()

	v := NewVerify()
	v.st.SetChannel("metriclab-verify-late")
	v.crash(reason)
	if got, want := lateViewer(t, "metriclab-verify-late", 2), []string{"verify error " + reason, "verify state failed"}; !slices.Equal(got, want) {
		t.Errorf("verify: a viewer that loads after the crash heard %q, want %q", got, want)
	}
	v.startWorker()
	if got := lateViewer(t, "metriclab-verify-late", 0); len(got) > 0 {
		t.Errorf("verify: a viewer that loads after another worker started heard %q from the page, want nothing", got)
	}
	v.w.terminate()
}

// lateViewer says on channel what a viewer says when it has loaded, and
// returns what it hears there, as "TRAINER TYPE STATE" or "TRAINER TYPE
// ERROR": once it heard n messages (waitHeard), or, for n = 0, after
// 300 ms, which an answer on the same event loop takes a fraction of.
func lateViewer(t *testing.T, channel string, n int) []string {
	t.Helper()
	heard, say, stop := viewerOn(t, channel)
	defer stop()
	say(`{"v":1,"type":"state","trainer":"viz","state":"viz-ready"}`)
	if n == 0 {
		time.Sleep(300 * time.Millisecond)
		return heard()
	}
	waitHeard(func() bool { return len(heard()) >= n })
	return heard()
}

// TestRestartTellsViewerIdle: Restart replaces a crashed or failed
// trainer's worker, and the new one says nothing on the viewer's channel
// until it starts a run; the page tells the viewer the state idle, as a
// reset does, which clears the run's picture. Before, the viewer went on
// saying "failed" (or, crashed, what the page told it) over the dead run's
// picture while the panel said the trainer was ready. The Verify page
// likewise when another worker replaces a dead one. Under node, with its
// BroadcastChannel and a stand-in Worker.
func TestRestartTellsViewerIdle(t *testing.T) {
	js.Global().Call("eval", `globalThis.Worker = class { postMessage() {} terminate() {} }`)
	defer js.Global().Delete("Worker")

	p := NewPlayground()
	p.nonce = "restart"
	p.settings.Compare = []string{"arcface", "cosface"}
	p.resize()
	for i := range 2 {
		p.receive(i, `{"v":1,"type":"state","trainer":"t`+strconv.Itoa(i)+`","state":"running"}`)
	}
	p.crashed(0, "the trainer's worker stopped: out of memory")
	p.receive(1, `{"v":1,"type":"error","trainer":"t1","error":"out of memory"}`)
	p.receive(1, `{"v":1,"type":"state","trainer":"t1","state":"failed"}`)
	for i, want := range []string{"t0 state idle", "t1 state idle"} {
		got := heardAfter(t, p.channel(i), func() { p.restart(i) })
		if len(got) == 0 || got[len(got)-1] != want {
			t.Errorf("playground: trainer %d restarted: its viewer heard %q, want %q last", i, got, want)
		}
	}
	p.OnDismount()

	v := NewVerify()
	v.st.SetChannel("metriclab-verify-restart")
	v.crash("the trainer's worker stopped: out of memory")
	if got := heardAfter(t, "metriclab-verify-restart", v.startWorker); len(got) == 0 || got[len(got)-1] != "verify state idle" {
		t.Errorf("verify: another worker started after a crash: the viewer heard %q, want %q last", got, "verify state idle")
	}
	v.w.terminate()
}

// heardAfter returns what a viewer on channel hears once do has run, as
// "TRAINER TYPE STATE": within 300 ms, which a message on the same event
// loop takes a fraction of.
func heardAfter(t *testing.T, channel string, do func()) []string {
	t.Helper()
	heard, _, stop := viewerOn(t, channel)
	defer stop()
	do()
	time.Sleep(300 * time.Millisecond)
	return heard()
}

// TestPlaygroundHelperFailedStaysCrashed: a trainer whose data-parallel
// helper failed stays crashed, its reason shown, until Restart, as one
// whose own worker died does; a change of the settings starts no worker
// for it. The next change started its worker again without a word: the
// new worker's "idle" cleared the reason, and the panel said "idle:
// ready to train". The Worker is a stand-in, under node, that counts
// those started; the history a stand-in too.
func TestPlaygroundHelperFailedStaysCrashed(t *testing.T) {
	js.Global().Call("eval", `globalThis.metriclabStarted = 0
	globalThis.Worker = class { constructor(url) { metriclabStarted++ } postMessage() {} terminate() {} }
	globalThis.history = { replaceState() {} }
	globalThis.metriclabNavigator = Object.getOwnPropertyDescriptor(globalThis, "navigator")
	Object.defineProperty(globalThis, "navigator", { value: { hardwareConcurrency: 1 }, configurable: true })`)
	defer js.Global().Delete("Worker")
	defer js.Global().Delete("metriclabStarted")
	defer js.Global().Delete("history")
	defer js.Global().Call("eval", `delete globalThis.navigator
		if (metriclabNavigator) Object.defineProperty(globalThis, "navigator", metriclabNavigator)
		delete globalThis.metriclabNavigator`)
	started := func() int { return js.Global().Get("metriclabStarted").Int() }
	p := NewPlayground()
	p.trainers[0].worker = newWorker(false, func(string) {}, func(error) {}, func(string) {})
	p.receive(0, `{"v":1,"type":"state","trainer":"t0","state":"idle"}`)
	p.command(msg.OpStart)
	p.trainers[0].helpers = []*worker{newWorker(false, func(string) {}, func(error) {}, func(string) {})}
	p.receive(0, `{"v":1,"type":"state","trainer":"t0","state":"running"}`)
	p.receiveHelper(0, 1, `{"v":1,"type":"error","trainer":"t0","error":"out of memory"}`)
	const want = "crashed: data-parallel worker 1: out of memory"
	if got := p.trainers[0].run.Status(); got != want {
		t.Fatalf("a helper failed: trainer 0 %q, want %q", got, want)
	}
	n := started()
	s := p.settings
	s.LR = 0.01
	p.change(s)
	if got := p.trainers[0].run.Status(); started() != n || p.trainers[0].worker != nil || got != want || !p.trainers[0].run.Can("restart") {
		t.Errorf("a helper failed, then the settings changed: %d workers started, trainer 0 %q; want none, %q, Restart offered", started()-n, got, want)
	}
	p.restart(0)
	if started() != n+1 || p.trainers[0].worker == nil || p.trainers[0].run.State != StateStarting {
		t.Errorf("then Restart: %d workers started, trainer 0 %q; want one, starting", started()-n, p.trainers[0].run.State)
	}
	p.trainers[0].worker.terminate()
}

// TestPlaygroundCrashedDropsItsMessages: the messages of a worker whose
// error event said it died, handed to the page before it was stopped but
// not applied yet (the page applies them in turn, on its goroutine), are
// dropped, as those of a worker replaced: the run stays crashed, to be
// restarted. They were applied to the crashed run: its trainer's last
// words, an error and the state failed, made it failed, with Train
// offered, whose start went to the stopped worker, and the page said
// "running" and stayed locked for good. The Worker is a stand-in, under
// node, whose events the test fires.
func TestPlaygroundCrashedDropsItsMessages(t *testing.T) {
	standInWorker(t)
	h, e, _ := mountControls(t)
	p := NewPlayground()
	p.startWorker(h.ctx, 0)
	w := js.Global().Get("metriclabTestWorker")
	say := func(data string) { w.Get("onmessage").Invoke(js.ValueOf(map[string]any{"data": data})) }
	say(`{"v":1,"type":"state","trainer":"t0","state":"idle"}`)
	e.ConsumeAll()
	w.Get("onerror").Invoke(js.Global().Call("eval", `({ message: "Uncaught RangeError: out of memory", preventDefault() {} })`))
	say(`{"v":1,"type":"error","trainer":"t0","error":"trainer.wasm stopped: the Go program exited"}`)
	say(`{"v":1,"type":"state","trainer":"t0","state":"failed"}`)
	e.ConsumeAll()
	const want = "crashed: the trainer's worker stopped: Uncaught RangeError: out of memory"
	if got := p.trainers[0].run.Status(); got != want || p.can(msg.OpStart) {
		t.Errorf("the worker's error event, then its messages: trainer 0 %q, Train offered %v; want %q, not offered", got, p.can(msg.OpStart), want)
	}
}

// TestPlaygroundReloadSaysRunLost: a page reloaded with the link of
// runs that had trained says where they were,
// and that they were lost, and starts again from step 0 as the link
// says; once: a reload before the new run trained a step says nothing of
// the old one, nor does the page of another link, nor a load that is
// not a reload (a tab duplicated copies the sessionStorage). Before, a
// reload of an autostarted lesson link (no gesture on the page, so no beforeunload
// question in Chromium) started again from zero without a word. Under
// node, with stand-ins of the Worker, the history and a sessionStorage
// that keeps what it is given.
func TestPlaygroundReloadSaysRunLost(t *testing.T) {
	js.Global().Call("eval", `globalThis.Worker = class { postMessage() {} terminate() {} }
	globalThis.history = { replaceState() {} }
	globalThis.metriclabNavigator = Object.getOwnPropertyDescriptor(globalThis, "navigator")
	Object.defineProperty(globalThis, "navigator", { value: { hardwareConcurrency: 1 }, configurable: true })
	const kept = new Map()
	globalThis.sessionStorage = { getItem(k) { return kept.has(k) ? kept.get(k) : null }, setItem(k, v) { kept.set(k, String(v)) }, removeItem(k) { kept.delete(k) } }
	globalThis.metriclabNavigation = "reload"
	globalThis.metriclabEntries = performance.getEntriesByType
	performance.getEntriesByType = type => type === "navigation" ? [{ type: metriclabNavigation }] : []`)
	defer js.Global().Call("eval", `performance.getEntriesByType = metriclabEntries
		delete globalThis.metriclabEntries
		delete globalThis.metriclabNavigation`)
	defer js.Global().Delete("Worker")
	defer js.Global().Delete("history")
	defer js.Global().Delete("sessionStorage")
	defer js.Global().Call("eval", `delete globalThis.navigator
		if (metriclabNavigator) Object.defineProperty(globalThis, "navigator", metriclabNavigator)
		delete globalThis.metriclabNavigator`)
	const link = "#loss=cosface&dim=3&epochs=1&hide=loss&autostart=1"
	load := func(hash string) *Playground {
		p := NewPlayground()
		p.trainers[0].worker = newWorker(false, func(string) {}, func(error) {}, func(string) {})
		p.open(hash)
		return p
	}
	p := load(link)
	if len(p.notices) != 0 {
		t.Fatalf("first load: notices %q", p.notices)
	}
	p.receive(0, `{"v":1,"type":"state","trainer":"t0","state":"idle"}`) // ready: the autostart goes out
	p.receive(0, `{"v":1,"type":"progress","trainer":"t0","progress":{"epoch":1,"step":412,"steps":938,"loss":0.2134}}`)
	p.trainers[0].worker.terminate()

	p = load(link) // the reload
	want := "the run before the reload had reached step 412/938 (loss 0.2134), and was lost with it (a page cannot keep a run across a reload); training starts again from step 0"
	if !slices.Contains(p.notices, want) {
		t.Errorf("reload after step 412: notices %q, want %q", p.notices, want)
	}
	if !p.trainers[0].pending {
		t.Error("reload after step 412: the link's autostart did not wait for the trainer")
	}
	p.trainers[0].worker.terminate()
	if p = load(link); len(p.notices) != 0 { // no step trained since
		t.Errorf("second reload, no step since: notices %q", p.notices)
	}
	p.receive(0, `{"v":1,"type":"state","trainer":"t0","state":"idle"}`)
	p.receive(0, `{"v":1,"type":"progress","trainer":"t0","progress":{"epoch":1,"step":5,"steps":938,"loss":2.5}}`)
	p.trainers[0].worker.terminate()
	if p = load("#loss=arcface&autostart=1"); len(p.notices) != 0 {
		t.Errorf("another link: notices %q", p.notices)
	}
	// A tab duplicated (its sessionStorage copied) is not a reload: the
	// first tab's run goes on.
	p.receive(0, `{"v":1,"type":"state","trainer":"t0","state":"idle"}`)
	p.receive(0, `{"v":1,"type":"progress","trainer":"t0","progress":{"epoch":1,"step":7,"steps":938,"loss":2.1}}`)
	p.trainers[0].worker.terminate()
	js.Global().Set("metriclabNavigation", "back_forward")
	if p = load("#loss=arcface&autostart=1"); len(p.notices) != 0 {
		t.Errorf("a load that is not a reload: notices %q", p.notices)
	}
	p.trainers[0].worker.terminate()
}
