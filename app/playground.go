package app

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"metriclab/core/msg"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Playground is the page: the controls, one panel per trainer (four in
// compare mode), the element id="status" that says the trainers' state in
// words, and the notices about the link's settings. It owns the trainers'
// Web Workers and keeps the settings in the URL hash.
type Playground struct {
	app.Compo

	settings Settings
	notices  []string
	note     string // the latest message of the page itself (export, decode)
	nonce    string // makes this page's BroadcastChannels its own
	mounted  app.Context

	trainers []trainer // one per loss of the settings, in their order (resize)
	pausing  bool      // Pause pressed since the last Train, Resume or Reset: a trainer started late (pending) is paused too
	adopted  bool      // trainer 0 took the worker of EarlyTrainer (or there was none to take)
	onHash   app.Func  // the window's hashchange listener (follow)
	viewers  bool      // the viewers load: once a trainer was ready (viz.wasm would compete with trainer.wasm and app.wasm for the cores)
	links    int       // the links opened (open): after each the form shows the link's settings (Controls.Links)
	ran      string    // the link of the settings the last run started with (experimentLink), "" before one
}

// trainer is one of the page's trainers: its run, the number of its id,
// and its Web Workers with what the page awaits of them. A trainer moves
// with its run when a loss before it is unchecked (resize).
type trainer struct {
	run     Run
	number  int        // of the run's id ("t2": 2), which names its channels (channel)
	worker  *worker    // nil outside a browser, and once it died or its group failed, until Restart
	helpers []*worker  // its other data-parallel workers during a run
	pending bool       // start as soon as the trainer is idle
	exports []export   // the exports it was asked for, not answered yet, in order
	begun   bool       // worker 0 began its data-parallel run (said running or paused): it waits for every helper's gradients
	lost    string     // why a helper failed before worker 0 began the run (helperFailed)
	told    *broadcast // once crashed, its channel, which answers its viewer (tellViewerCrashed) until Restart
}

// NewPlayground returns the page with the default settings; OnMount reads
// the URL hash.
func NewPlayground() *Playground {
	p := &Playground{settings: DefaultSettings()}
	p.resize()
	return p
}

// OnMount opens the link of the URL hash (open): it writes the settings
// back in full, starts the trainers' workers, and, if the link says
// autostart=1, starts training as soon as each trainer is ready.
func (p *Playground) OnMount(ctx app.Context) {
	p.mounted = ctx
	mark(MarkMounted)
	p.nonce = strconv.FormatUint(rand.Uint64()>>16, 36)
	p.open(locationHash())
	if app.IsClient {
		p.onHash = app.FuncOf(func(app.Value, []app.Value) any {
			ctx.Dispatch(func(app.Context) { p.follow(locationHash()) })
			return nil
		})
		app.Window().Call("addEventListener", "hashchange", p.onHash)
	}
}

// OnDismount stops the workers.
func (p *Playground) OnDismount() {
	for i := range p.trainers {
		p.trainers[i].stop()
	}
	if p.onHash != nil {
		app.Window().Call("removeEventListener", "hashchange", p.onHash)
		p.onHash.Release()
		p.onHash = nil
	}
}

// follow applies the settings of a link opened in the page itself, hash
// its URL's new fragment: a link pasted or edited in the address bar
// changes only the fragment, which reloads nothing (the browser says
// hashchange; replaceHash's own changes do not). While training is under
// way its settings would not be those of the runs shown: the link is not
// applied, and a notice says so.
func (p *Playground) follow(hash string) {
	if hash == p.settings.Hash() {
		return
	}
	if p.locked() {
		replaceHash(p.settings.Hash())
		p.notices = []string{"the link's settings were not applied: training is under way (Reset, then open the link again)"}
		return
	}
	p.open(hash)
}

// open applies the settings of the link hash, with its notices, starts
// the workers the settings need, and, if the link says autostart=1,
// starts training, each trainer as soon as it is ready. The page's
// first link, that of its load, says where the runs of the same link
// were when the tab loaded it again (takeLostRuns). A link some of
// whose settings were refused (their defaults stand in) does not start,
// which would train another comparison than the link's without a word:
// a notice says so, and Train starts it; the settings written back lose
// their autostart, so that a reload does not start it either.
func (p *Playground) open(hash string) {
	s, notices := ParseLink(hash)
	if s.Autostart && len(notices) > 0 {
		s.Autostart = false
		notices = append(notices, "training was not started because of the notices above: press Train to train with the settings shown")
	}
	if p.links == 0 { // the page's own link, as it loaded: a reload's
		if lost := takeLostRuns(experimentLink(s), s.Autostart); lost != "" {
			notices = append(notices, lost)
		}
	}
	p.notices = notices
	p.links++
	for i := range p.trainers {
		p.trainers[i].pending = false // the old link's autostart
	}
	p.change(s)
	if s.Autostart {
		p.command(msg.OpStart) // a trainer not ready yet starts when it is
	}
}

// Render draws the page.
func (p *Playground) Render() app.UI {
	return app.Div().Class("playground").Body(
		app.Header().Class("top").Body(
			app.H1().Body(app.Text("metriclab"), app.Span().Class("subtitle").Text(" deep metric learning playground")),
			// Not a live region: it changes at each progress message, and
			// the line after it says the trainers' states to screen readers.
			p.statusLines(),
			app.P().ID("status-live").Class("sr-only").Role("status").Text(p.StateLine()),
		),
		// The notices and the note each in a slot of its own, there when
		// empty: go-app matches children by place, and one that came in
		// the layout's place would draw it again, each viewer reloaded
		// and what was typed in a field lost.
		app.Div().Class("slot").Body(app.If(len(p.notices) > 0, func() app.UI {
			return app.Div().ID("notices").Class("notices").Role("alert").Body(
				app.Ul().Body(app.Range(p.notices).Slice(func(i int) app.UI { return app.Li().Text(p.notices[i]) })),
				app.Button().Type("button").Class("btn btn-dismiss").Text("Dismiss").
					OnClick(func(ctx app.Context, e app.Event) { p.notices = nil }),
			)
		})),
		// There empty (drawn as nothing: CSS :empty), a live region that a
		// screen reader reads as it changes.
		app.Div().Class("slot").Body(app.P().ID("note").Class("note").Role("status").Text(p.note)),
		app.Div().Class("layout").Body(
			app.Aside().Class("sidebar").Body(
				&Controls{
					Settings:  p.settings,
					Locked:    p.locked(),
					Can:       p.can,
					Paused:    p.paused(),
					Links:     p.links,
					OnChange:  p.change,
					OnCommand: p.command,
				},
				app.P().Class("permalink").Body(
					app.A().ID("permalink").Href(p.settings.Hash()).Text("Link to this experiment"),
				),
				// In a slot, as the notices: there once settings changed
				// after a run, which its panels still show.
				app.Div().Class("slot").Body(app.If(p.resultsOfOther(), func() app.UI {
					return app.P().ID("results-of").Class("hint results-of").Body(
						app.Text("The results shown are of the settings before your changes ("),
						app.A().ID("results-link").Href(p.ran).Text("their link"),
						app.Text("); the link above is of the settings in the form, which Train runs."),
					)
				})),
			),
			app.Main().Class("panels panels-"+strconv.Itoa(len(p.trainers))).Body(p.panels()...),
		),
	)
}

// panels draws the trainers' panels, in the order of the losses. A panel
// whose run moves (a loss before it unchecked) reloads its viewer on the
// run's channel, and the trainer sends the viewer its last picture again.
func (p *Playground) panels() []app.UI {
	compare := len(p.trainers) > 1
	panels := make([]app.UI, len(p.trainers))
	for i := range p.trainers {
		panels[i] = &TrainerPanel{
			Index:      i,
			Compare:    compare,
			Run:        p.trainers[i].run,
			Channel:    p.viewerChannel(i),
			Dim:        p.panelDim(i),
			Params:     p.panelParams(i),
			HideExport: p.settings.Hidden("export"),
			OnRestart:  func() { p.restart(i) },
			OnExport:   func(kind string) { p.export(i, kind) },
		}
	}
	return panels
}

// Status says the trainers' state in words: the one trainer's status, or
// each trainer's after its loss in compare mode, "softmax: running: … |
// arcface: …".
func (p *Playground) Status() string { return p.status((*Run).Status) }

// StateLine is Status for a screen reader: each trainer's Run.StateLine,
// which changes with its state, not at each step.
func (p *Playground) StateLine() string { return p.status((*Run).StateLine) }

// status writes the trainers' states, each by line.
func (p *Playground) status(line func(*Run) string) string {
	switch len(p.trainers) {
	case 0:
		return "no trainer"
	case 1:
		return line(&p.trainers[0].run)
	}
	parts := make([]string, len(p.trainers))
	for i := range p.trainers {
		r := &p.trainers[i].run
		parts[i] = r.Loss + ": " + line(r)
	}
	return strings.Join(parts, " | ")
}

// statusLines draws the element id="status": Status on one line, and in
// compare mode a line of its own for each trainer, "arcface: running: …",
// each wrapping (web/metriclab.css's .status-lines): four statuses
// joined on one line were cut with "…" after the first, the others' steps
// and losses not shown.
func (p *Playground) statusLines() app.UI {
	if len(p.trainers) < 2 {
		return app.P().ID("status").Class("status").Text(p.Status())
	}
	return app.P().ID("status").Class("status status-lines").Body(
		app.Range(p.trainers).Slice(func(i int) app.UI {
			r := &p.trainers[i].run
			return app.Span().Class("status-line").Text(r.Loss + ": " + r.Status())
		}),
	)
}

// resultsOfOther reports whether the panels show a run's results while
// the form's settings, and the link to them, are others: changed after
// the run, which the page then says (Render). A run keeps its figures
// until the next Train or a reset, as the panels' headings keep its D
// and parameters (shape); the link is the form's, which a reload or a
// copy of the address reproduces, and which Train runs.
func (p *Playground) resultsOfOther() bool {
	if p.ran == "" || p.locked() || experimentLink(p.settings) == p.ran {
		return false
	}
	return slices.ContainsFunc(p.trainers, func(t trainer) bool { return t.run.Request != nil })
}

// experimentLink returns the link of the experiment of s, without its
// autostart: a run the link started and one that Train started train
// the same.
func experimentLink(s Settings) string {
	s.Autostart = false
	return s.Hash()
}

// Stops says what leaving the page would stop (stopper): the trainers
// that train or are paused, which Resume would take on from where they
// are, "Training arcface, cosface (paused)", "" when none does. A done
// or idle trainer is not asked about (its model is exported or not:
// leaving would ask after every run), nor one loading its data (its run
// not begun).
func (p *Playground) Stops() string {
	var losses []string
	for i := range p.trainers {
		switch r := &p.trainers[i].run; r.State {
		case msg.StateRunning:
			losses = append(losses, r.Loss)
		case msg.StatePaused:
			losses = append(losses, r.Loss+" (paused)")
		}
	}
	if len(losses) == 0 {
		return ""
	}
	return "Training " + strings.Join(losses, ", ")
}

// Hash returns the fragment of the page's URL, with its "#": the
// settings, which change writes there (hashKeeper).
func (p *Playground) Hash() string { return p.settings.Hash() }

// change takes new settings from the controls, and starts the workers of
// the trainers they add. A crashed trainer stays crashed, its reason on
// its panel, until Restart: it has no worker (crashed, groupFailed), and
// is given none here.
func (p *Playground) change(s Settings) {
	p.settings = s
	replaceHash(s.Hash())
	p.resize()
	if app.IsClient {
		for i, t := range p.trainers {
			if t.worker == nil && t.run.State != StateCrashed {
				p.startWorker(p.mounted, i)
			}
		}
	}
}

// command sends op to every trainer that can take it now. A start also
// goes to the trainers whose workers are not ready yet, once they are
// (compare mode's workers get ready one after the other: Train pressed
// when the first was ready started it alone); a reset or a stop forgets
// such a start. Pause and Resume also go to the trainers still loading
// their data, which would train on alone otherwise, and to those whose
// start waits (pausing). While training is under way there is no start
// (can).
func (p *Playground) command(op string) {
	if op == msg.OpStart && p.locked() {
		return
	}
	switch op {
	case msg.OpPause:
		p.pausing = true
	case msg.OpStart, msg.OpResume, msg.OpReset, msg.OpStop:
		p.pausing = false
	}
	for i := range p.trainers {
		t := &p.trainers[i]
		if op == msg.OpReset || op == msg.OpStop {
			t.pending = false
		}
		switch {
		case t.run.Can(op):
			p.send(i, op)
		case op == msg.OpStart && t.run.State == StateStarting:
			t.pending = true // sent when the trainer says it is ready
		case (op == msg.OpPause || op == msg.OpResume) && t.run.State == msg.StateLoading:
			p.send(i, op) // the trainer pauses as soon as it has loaded, or no longer
		}
	}
}

// send posts the command op to trainer i. A start trains on
// Settings.WorkersFor workers: the trainer's own and as many helpers,
// started for the run and stopped when it ends.
func (p *Playground) send(i int, op string) {
	t := &p.trainers[i]
	if op != msg.OpStart {
		// A stop or a reset keeps the helpers until worker 0 answers it
		// (receive drops them then): worker 0 reads it between steps, and
		// inside one waits for every helper's gradient, for good from a
		// helper stopped before it sent its own.
		t.worker.post(Command(t.run.Trainer, op, nil, ""))
		return
	}
	req := p.settings.Request(t.run.Loss)
	p.ran = experimentLink(p.settings)
	n := p.settings.WorkersFor(browserCores())
	t.run.Clear()
	t.run.State = msg.StateRunning
	t.run.Workers = n
	t.run.Request = &req
	t.begun, t.lost = false, ""
	t.dropHelpers()
	if n == 1 || !app.IsClient {
		t.worker.post(Command(t.run.Trainer, op, &req, p.channel(i)))
		return
	}
	group := []*worker{t.worker}
	for k := 1; k < n; k++ {
		var h *worker
		h = spawnWorker(p.mounted, false, func(w *worker) bool { return p.helping(w) >= 0 },
			func(data string) { p.receiveHelper(p.helping(h), k, data) },
			func(err error) { p.helperFailed(p.helping(h), k, err.Error()) }, // as receiveHelper fails on a message it cannot read
			func(reason string) { p.helperFailed(p.helping(h), k, reason) })
		t.helpers = append(t.helpers, h)
		group = append(group, h)
	}
	id, channel := t.run.Trainer, p.channel(i)
	linkWorkers(group, func(k int) string { return ParallelStart(id, &req, channel, k, n) })
}

// helping returns the trainer whose helper worker h is, -1 for none
// (its run ended).
func (p *Playground) helping(h *worker) int {
	return slices.IndexFunc(p.trainers, func(t trainer) bool { return slices.Contains(t.helpers, h) })
}

// working returns the trainer whose worker w is, -1 for none (replaced).
func (p *Playground) working(w *worker) int {
	return slices.IndexFunc(p.trainers, func(t trainer) bool { return t.worker == w })
}

// receiveHelper reads a message of trainer i's helper worker k: only its
// failures matter (worker 0 reports the run).
func (p *Playground) receiveHelper(i, k int, data string) {
	m, err := DecodeMessage(data)
	switch {
	case err != nil:
		p.helperFailed(i, k, err.Error())
	case m.Type == msg.TypeError:
		p.helperFailed(i, k, m.Error)
	}
}

// helperFailed ends trainer i's run when its helper worker k failed or
// died. Before worker 0 began the run, its answer to the start decides
// (receive): a start that every worker refuses (settings too large to
// train) fails there too, and the run is failed, its settings to fix and
// Train again; a worker 0 that begins the run would wait for the lost
// worker's gradients for good, and is stopped then (groupFailed). After
// it began, it is stopped at once. The other helpers stop at once.
func (p *Playground) helperFailed(i, k int, reason string) {
	reason = "data-parallel worker " + strconv.Itoa(k) + ": " + reason
	if t := &p.trainers[i]; !t.begun {
		t.dropHelpers()
		t.lost = reason
		return
	}
	p.groupFailed(i, reason)
}

// groupFailed stops trainer i's data-parallel group, whose worker 0 waits
// for a lost helper's gradients, for reason: the trainer is crashed, to be
// restarted (Restart), as when its own worker dies (crashed). Worker 0
// answers none of the exports asked.
func (p *Playground) groupFailed(i int, reason string) {
	t := &p.trainers[i]
	t.dropHelpers()
	t.worker.terminate()
	t.worker = nil
	t.exports = nil
	p.crash(i, reason)
}

// dropHelpers stops t's helper workers.
func (t *trainer) dropHelpers() {
	for _, h := range t.helpers {
		h.terminate()
	}
	t.helpers = nil
}

// stop stops t's workers, and its answers to its viewer: t is gone.
func (t *trainer) stop() {
	t.worker.terminate()
	t.dropHelpers()
	t.told.close()
}

// restart replaces the worker of trainer i, after a crash or a failure.
func (p *Playground) restart(i int) {
	t := &p.trainers[i]
	t.dropHelpers()
	t.worker.terminate()
	t.worker = nil
	t.run.Reset()
	t.pending = false
	t.exports = nil // the old worker answers none of them
	t.told.close()  // the new worker answers its viewer
	t.told = nil
	tellViewerIdle(p.channel(i), t.run.Trainer) // which shows the run gone
	p.startWorker(p.mounted, i)
}

// export asks trainer i for kind: the model file or the projector's TSV
// files from the trainer, the sphere as PNG from the viewer's canvas.
func (p *Playground) export(i int, kind string) {
	if kind == "png" {
		data := canvasPNG(ViewerID(i))
		if data == "" || data == "data:," {
			p.note = "the viewer has no picture yet"
			return
		}
		downloadURL(p.fileName(i, "sphere")+".png", data)
		return
	}
	p.trainers[i].exports = append(p.trainers[i].exports, export{kind, p.fileName(i, "")})
	p.send(i, msg.OpExport)
}

// startWorker starts the Web Worker of trainer i; the first one of
// trainer 0 is the worker that the page's HTML started early, when there
// is one (EarlyTrainer). Its messages are applied on the UI goroutine, to
// the trainer whose worker it is then (resize moves a trainer whose loss
// stays); a message of a worker since replaced is dropped.
func (p *Playground) startWorker(ctx app.Context, i int) {
	if !app.IsClient {
		return
	}
	first := i == 0 && !p.adopted // the worker the page's HTML started, once
	p.adopted = p.adopted || first
	var w *worker
	w = spawnWorker(ctx, first, func(w *worker) bool { return p.working(w) >= 0 },
		func(data string) { p.receive(p.working(w), data) },
		func(err error) { p.unread(p.working(w), err) },
		func(reason string) { p.crashed(p.working(w), reason) })
	p.trainers[i].worker = w
	// The run stays "starting" (Train disabled) until the worker says it
	// is ready: state "idle", once trainer.wasm listens.
}

// crashed marks trainer i's worker as dead, for reason, and stops it and
// its helper workers: they would wait for its gradients for good, each
// holding a copy of the data, until Restart; and a worker whose error
// event was not its end would go on answering for a run the page takes
// for crashed, and its viewer, as the page does. Its messages not applied
// yet are dropped, as those of a worker replaced: a state among them
// would take the run out of crashed, its worker stopped.
func (p *Playground) crashed(i int, reason string) {
	t := &p.trainers[i]
	t.worker.terminate()
	t.worker = nil
	t.dropHelpers()
	p.crash(i, reason)
}

// crash marks trainer i's run as crashed, for reason, and tells its
// viewer, and one that loads later, until Restart (tellViewerCrashed):
// the viewers may load after the crash (once another trainer is ready).
func (p *Playground) crash(i int, reason string) {
	t := &p.trainers[i]
	t.run.Crash(reason)
	t.told.close()
	t.told = tellViewerCrashed(p.channel(i), t.run)
}

// unread takes a message of trainer i that the browser could not
// deserialise (errUnreadMessage), or that the page could not read
// (DecodeMessage's err): a note says so. Which message it was is
// not known: were it the answer of an export, the next answer would be
// saved as that export's kind, so the exports asked are forgotten, as
// after an error (an export that failed is not answered).
func (p *Playground) unread(i int, err error) {
	p.trainers[i].exports = nil
	p.note = p.trainerName(i) + err.Error()
}

// trainerName is how a note names trainer i: "" with one trainer, else
// "trainer 2 (cosface): ".
func (p *Playground) trainerName(i int) string {
	if len(p.trainers) < 2 {
		return ""
	}
	return "trainer " + strconv.Itoa(i+1) + " (" + p.trainers[i].run.Loss + "): "
}

// receive applies a message of trainer i.
func (p *Playground) receive(i int, data string) {
	m, err := DecodeMessage(data)
	if err != nil { // it may have been an export's answer, as an unread one
		p.unread(i, err)
		return
	}
	if m.Type == msg.TypeExport {
		p.save(i, m)
		return
	}
	t := &p.trainers[i]
	if m.Type == msg.TypeState && m.State == msg.StateFailed && p.note == p.trainerName(i)+t.run.Err {
		p.note = "" // the panel says it: "failed: …"
	}
	if err := t.run.Apply(m); err != nil {
		p.note = err.Error()
		return
	}
	if m.Type == msg.TypeError {
		// The run stays as it is (Apply), training, or done with its
		// Export buttons, until the state failed that comes with an
		// error that ends it: meanwhile, and for an error that does not
		// (an export that failed, a command the worker could not take),
		// a note says it.
		t.exports = nil // an export that failed is not answered
		p.note = p.trainerName(i) + t.run.Err
		return
	}
	if s := t.run.State; m.Type == msg.TypeState && (s == msg.StateRunning || s == msg.StatePaused) {
		t.begun = true
		if t.lost != "" {
			p.groupFailed(i, t.lost)
			return
		}
	}
	if t.run.State != StateStarting && !p.viewers {
		p.viewers = true
		mark(MarkTrainerReady)
		pageStarted()
	}
	if s := t.run.State; s == msg.StateDone || s == msg.StateFailed || s == msg.StateIdle {
		t.dropHelpers() // the run is over
	}
	if m.Type == msg.TypeProgress || m.Type == msg.TypeState {
		p.keepRuns()
	}
	if t.pending && t.run.State == msg.StateIdle {
		// Pause pressed since Train paused the trainers that were
		// running: this one is paused at once too, else it would train
		// alone, and Resume would be all the page offered. It counts
		// from when it was pressed, not when the others said they were
		// paused (and a Resume likewise).
		t.pending = false
		p.send(i, msg.OpStart)
		if p.pausing {
			p.send(i, msg.OpPause)
		}
	}
}

// export is an export asked of a trainer: its kind, and the base name of
// its files, that of the run shown when it was asked (fileName): the
// answer may come after a Train or a loss changed since.
type export struct{ kind, name string }

// save offers the files of an export message of trainer i as downloads:
// those of the first export asked and not answered yet (the trainer
// answers exports in order, each with the model and the projector's
// files). An answer without its files answers that export too, with a
// note: left asked, it would take the next answer's files as its kind.
func (p *Playground) save(i int, m *PageMessage) {
	t := &p.trainers[i]
	if len(t.exports) == 0 {
		return
	}
	e := t.exports[0]
	t.exports = t.exports[1:]
	if m.Export == nil {
		p.note = p.trainerName(i) + "the trainer's export came without its files: nothing was saved"
		return
	}
	name := e.name
	switch e.kind {
	case "model":
		download(name+".safetensors", "application/octet-stream", m.Export.Model)
	case "tsv":
		download(name+"-vectors.tsv", "text/tab-separated-values", []byte(m.Export.Vectors))
		download(name+"-metadata.tsv", "text/tab-separated-values", []byte(m.Export.Metadata))
	}
}

// resize makes one run per loss of the settings, in their order. A run
// whose loss stays keeps its worker, its figures and its id (which names
// its channels): a loss unchecked in compare mode takes its own run away,
// no other. A run whose loss went, or not begun, trains a loss that came,
// its worker ready (one trainer: its loss changed); the others stop. A
// new run takes the first id free.
func (p *Playground) resize() {
	losses := p.settings.Losses()
	from := make([]int, len(losses)) // the run that trains each loss, -1: a new one
	taken := make([]bool, len(p.trainers))
	for j, loss := range losses {
		from[j] = -1
		for i, t := range p.trainers {
			// A run not begun (no worker yet: the page's own, before its
			// link is opened) has nothing to keep.
			if t.run.Loss == loss && (t.worker != nil || t.run.State != StateStarting) {
				from[j], taken[i] = i, true
				break
			}
		}
	}
	for j := range from {
		if i := slices.Index(taken, false); from[j] < 0 && i >= 0 {
			from[j], taken[i] = i, true
		}
	}
	for i := range p.trainers {
		if !taken[i] {
			p.trainers[i].stop()
		}
	}
	used := make([]bool, MaxTrainers) // the ids' numbers taken
	for _, i := range from {
		if i >= 0 {
			used[p.trainers[i].number] = true
		}
	}
	trainers := pick(p.trainers, from)
	for j, loss := range losses {
		t := &trainers[j]
		r := &t.run
		switch {
		case from[j] < 0:
			n := slices.Index(used, false)
			used[n] = true
			*t = trainer{run: NewRun("t"+strconv.Itoa(n), loss), number: n}
		case r.Loss != loss:
			// The figures of the other loss go, and a finished run's
			// model with them (Export would give it under the new
			// loss's name): the trainer is ready for its new loss, and
			// reset, so that its viewer clears the run's sphere too
			// (state idle). A dead worker stays dead, with its reason.
			err := r.Err
			r.Loss = loss
			r.Clear()
			switch r.State {
			case msg.StateDone, msg.StateFailed:
				r.State = msg.StateIdle
				t.worker.post(Command(r.Trainer, msg.OpReset, nil, ""))
			case StateCrashed:
				r.Err = err
			}
		}
	}
	p.trainers = trainers
}

// pick returns the elements of s at idx, in that order: the zero value
// for -1.
func pick[T any](s []T, idx []int) []T {
	out := make([]T, len(idx))
	for k, i := range idx {
		if i >= 0 {
			out[k] = s[i]
		}
	}
	return out
}

// can reports whether any trainer can take op now. A start waits until
// no trainer trains (locked): in compare mode a trainer done while the
// others still train would start again alone, its figures gone, and
// the comparison with it.
func (p *Playground) can(op string) bool {
	if op == msg.OpStart && p.locked() {
		return false
	}
	for i := range p.trainers {
		if p.trainers[i].run.Can(op) {
			return true
		}
	}
	return false
}

// locked reports whether training is under way, which fixes the settings:
// a run loading its data (MNIST, at the first start) has started too.
func (p *Playground) locked() bool {
	for i := range p.trainers {
		if s := p.trainers[i].run.State; s == msg.StateRunning || s == msg.StatePaused || s == msg.StateLoading {
			return true
		}
	}
	return false
}

// paused reports whether some trainer is paused and none is running.
func (p *Playground) paused() bool { return p.can("resume") && !p.can("pause") }

// channel returns the BroadcastChannel of trainer i's viewer, "" before
// the page is mounted (the page the server renders).
func (p *Playground) channel(i int) string {
	if p.nonce == "" {
		return ""
	}
	return "metriclab-" + p.nonce + "-" + strconv.Itoa(p.trainers[i].number)
}

// viewerChannel returns the channel of trainer i's viewer, "" (no viewer
// yet) until a trainer was ready.
func (p *Playground) viewerChannel(i int) string {
	if !p.viewers {
		return ""
	}
	return p.channel(i)
}

// shape returns the embedding's D and views of trainer i: its run's, as
// it was started, or those of the settings before a run (or after a
// reset). A run's figures stay on its panel when the settings change
// after it, until the next Train; its panel and files were named after
// the form's D.
func (p *Playground) shape(i int) (dim int, views []msg.Crop) {
	if r := p.trainers[i].run.Request; r != nil {
		return r.Dim, r.Views
	}
	return p.settings.Dim, p.settings.Request(p.trainers[i].run.Loss).Views
}

// panelDim writes trainer i's D for its panel (dimText).
func (p *Playground) panelDim(i int) string { return dimText(p.shape(i)) }

// panelParams writes the loss parameters of trainer i for its panel
// (paramsText): its run's, as it was started, or those the settings
// give its loss before a run, as shape does.
func (p *Playground) panelParams(i int) string {
	r := p.trainers[i].run.Request
	if r == nil {
		req := p.settings.Request(p.trainers[i].run.Loss)
		r = &req
	}
	return paramsText(r.Loss, r.Dim, r.LossParams)
}

// fileName returns the base name of trainer i's exported files:
// metriclab-LOSS-dD, with D as V×D for an encoder of V views.
func (p *Playground) fileName(i int, what string) string {
	dim, views := p.shape(i)
	s := msg.ModelFileStem(p.trainers[i].run.Loss, dim, len(views))
	if what != "" {
		s += "-" + what
	}
	return s
}

// runsKey is the key in the tab's sessionStorage of where the page's runs
// are (keepRuns).
const runsKey = "metriclab-playground-runs"

// keptRuns is where the page's runs are, as sessionStorage keeps it
// across a reload: the link of their settings (experimentLink) and each
// run that trained a step.
type keptRuns struct {
	Link string    `json:"link"`
	Runs []keptRun `json:"runs"`
}

// keptRun is where one run is: its loss, its latest step of steps, and
// the loss there.
type keptRun struct {
	Loss  string  `json:"loss"`
	Step  int     `json:"step"`
	Steps int     `json:"steps"`
	Value float64 `json:"value"`
}

// keepRuns writes where the runs are to the tab's sessionStorage, or
// removes it when none trained a step (a reset): a reload loses the runs,
// which live in the trainers' workers, and the page it loads says where
// they were (takeLostRuns). A page cannot keep its runs across a reload:
// the browser asks before one only after a gesture of the user on the
// page (beforeunload), and a link that autostarts has none; resuming
// would need the weights and the optimiser's state of every trainer.
func (p *Playground) keepRuns() {
	if !app.IsClient {
		return
	}
	k := keptRuns{Link: p.ran}
	for i := range p.trainers {
		r := &p.trainers[i].run
		if r.Request != nil && r.Progress.Step > 0 {
			k.Runs = append(k.Runs, keptRun{Loss: r.Loss, Step: r.Progress.Step, Steps: r.Progress.Steps, Value: r.Progress.Loss})
		}
	}
	store := app.Window().Get("sessionStorage")
	if !store.Truthy() {
		return
	}
	b, err := json.Marshal(k)
	if len(k.Runs) == 0 || err != nil {
		store.Call("removeItem", runsKey)
		return
	}
	store.Call("setItem", runsKey, string(b))
}

// reloaded reports whether the page was loaded by a reload (the
// navigation's type): a tab duplicated copies the sessionStorage too,
// while the first tab's runs go on.
func reloaded() bool {
	perf := app.Window().Get("performance")
	if !perf.Truthy() || perf.Get("getEntriesByType").Type() != app.TypeFunction {
		return false
	}
	nav := perf.Call("getEntriesByType", "navigation")
	return nav.Length() > 0 && nav.Index(0).Get("type").String() == "reload"
}

// takeLostRuns returns a notice of where the runs of link were when the
// tab reloaded the page, "" when none of link had trained a step or the
// page was not reloaded (reloaded), and forgets them: "the run before the reload had reached
// step 412/938 (loss 0.2134), and was lost with it; …". Training starts
// again from step 0: by itself when autostart (the link asks for it, and
// waiting would keep nothing of the run lost), else with Train.
func takeLostRuns(link string, autostart bool) string {
	if !app.IsClient {
		return ""
	}
	store := app.Window().Get("sessionStorage")
	if !store.Truthy() {
		return ""
	}
	v := store.Call("getItem", runsKey)
	if v.Type() != app.TypeString {
		return ""
	}
	store.Call("removeItem", runsKey)
	var k keptRuns
	if !reloaded() || json.Unmarshal([]byte(v.String()), &k) != nil || k.Link != link || len(k.Runs) == 0 {
		return ""
	}
	where := make([]string, len(k.Runs))
	for i, r := range k.Runs {
		where[i] = "step " + strconv.Itoa(r.Step)
		if r.Steps > 0 {
			where[i] += "/" + strconv.Itoa(r.Steps)
		}
		where[i] += " (loss " + strconv.FormatFloat(r.Value, 'f', 4, 64) + ")"
		if len(k.Runs) > 1 {
			where[i] = r.Loss + " " + where[i]
		}
	}
	s := "the run before the reload had reached " + where[0] + ", and was lost with it (a page cannot keep a run across a reload)"
	if len(k.Runs) > 1 {
		s = "the runs before the reload had reached " + strings.Join(where, ", ") + ", and were lost with it (a page cannot keep a run across a reload)"
	}
	if autostart {
		return s + "; training starts again from step 0"
	}
	return s + "; Train trains again from step 0"
}
