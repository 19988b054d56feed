package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// jobsRefresh is how often the job list is read again.
const jobsRefresh = 3 * time.Second

// watchRetry is how long after a dropped event stream the page opens it
// again, while it is seen (a variable for the tests).
var watchRetry = 2 * time.Second

// requestTimeout bounds every request of the Jobs and Models pages: a
// server that takes a request and never answers is told as an error,
// and the list's refresh goes on (a variable for the tests).
var requestTimeout = 30 * time.Second

// Jobs is the page of the server's training jobs: a form that queues a
// job (with the fields of the playground's settings, filled from the URL
// hash as the playground writes it, on MNIST or on one of the server's
// data sets: the image folders the Verify page sends), the list of jobs
// with their state and Cancel and Resume, and the watched job: its curves
// and histogram (as a playground panel draws them) and its hypersphere,
// whose viewer gets the job's snapshots, progress, states and errors from
// the page over a BroadcastChannel.
type Jobs struct {
	app.Compo

	Client *Client // nil: NewClient() when mounted

	form Settings
	jobs []msg.Job
	// models are the server's models as last read, which name the jobs'
	// models (a job gives its model's id only); named holds the model
	// ids they were read for, so that each is asked at once, and
	// modelsAsked when the latest read was asked: they are read again
	// every modelsRefresh, as the Models page reads them, for a name
	// changed since (nameModels).
	models      []msg.ModelCard
	named       map[string]bool
	modelsAsked time.Time
	reads       int // the reads of the models asked: only the latest's answer is kept
	// err is the form's latest error: the text of a field refused
	// (edit), the settings of the link opened that were not used (open),
	// or a job held back for a field marked invalid (submit).
	err string
	// jobErr says why the job the form sent last was not queued, or may
	// not have been; the next Train replaces it, and only it: a link
	// opened or a field edited leaves it (the job may be queued all the
	// same).
	jobErr string
	// actErr says why the latest Cancel or Resume was refused; the next
	// one's answer replaces it, and only it: a Cancel done does not
	// clear the form's error.
	actErr string
	// refused holds why the text of each field of the form shown invalid
	// was not taken, by the field's setting key.
	refused map[string]string
	// listErr and eventsErr say that the list, or the watched job's event
	// stream, could not be read; each is cleared when it reads again.
	listErr, eventsErr string
	// offline says that the latest read of the list got no answer (the
	// server stopped, or cannot be reached): listErr says so, once, and
	// the lines of the data sets and the stream, which say the same, are
	// not shown; the list is as read at listed, its running and queued
	// jobs last seen so.
	offline bool
	listed  time.Time
	// sets are the server's data sets as last read (GET /api/datasets,
	// with each read of the list), which the Data select offers after
	// MNIST; setsErr says that the latest read failed (the sets shown are
	// those read before). setsRead says that one read answered: until
	// then a link's data set is taken as it names it, and the first read
	// checks it (SetDatasets).
	sets     []msg.Dataset
	setsErr  string
	setsRead bool
	// classesTyped is the text of the Classes field while it is marked
	// refused (refused["classes"]): the form's Classes is the last one
	// taken, or "" after a change of data set refused the text
	// (editData); the field shows the text, and the next change of data
	// set checks it again.
	classesTyped string
	// watchErr says why an event of the watched job, the latest such,
	// could not be taken: not the stream's error, the events after it
	// read and leave it; the watch of another job clears it (unwatch).
	watchErr string
	note     string // the latest success
	// noteJob is the job queued or resumed that note names: the note is
	// cleared once the list has the job in another state (running), as
	// the job's row says it ("job … queued" stood beside its row's
	// "running", and its "done").
	noteJob string

	// submitting says that the form's job is on its way; acting holds the
	// jobs whose Cancel or Resume is: their buttons wait for the answer
	// (a second click queued a second job, or was refused after the
	// first was done).
	submitting bool
	acting     map[string]bool

	// confirm is the row of the ended job that asks Keep or Confirm
	// remove (removeSlot); removed holds the jobs this page removed: a
	// read of the list started before a removal and answered after it
	// lists its job, which stays off the page. focused is the element
	// given the focus last (focus), for the tests outside a browser.
	confirm confirmStep
	removed map[string]bool
	focused string

	// listReads numbers the reads of the list as they start (every few
	// seconds, and after a Cancel or Resume), and listShown is the number
	// of the read shown: the answer of a read started before it is older
	// than the list shown (a job just canceled, queued in it) and is
	// dropped. A job queued by the form is newer than every read under way.
	listReads atomic.Int64
	listShown int64

	// mounted is the page's context: the answers of its requests and the
	// events of the watched job are dispatched through it. An event
	// handler's context is its element's, and go-app drops what is
	// dispatched to an element no longer there: a Cancel button, gone as
	// soon as the list shows its job canceled, or the Resume button whose
	// watch then followed no event.
	mounted app.Context

	watch   *JobWatch
	channel string // the watched job's viewer's BroadcastChannel
	nonce   string

	bc        *broadcast
	stopList  context.CancelFunc
	stopWatch context.CancelFunc

	onHash app.Func // the window's hashchange listener (linkChanged)
	links  int      // the links opened (open): after each the form's text fields show the link's settings (field)
}

// NewJobs returns the page, its form at train's defaults (jobDefaults).
func NewJobs() *Jobs { return &Jobs{form: jobSettings(jobDefaults())} }

// jobDefaults returns the form of a new job: the playground's settings
// with what `metriclab train` trains when a flag is not given
// (msg.TrainDefaults, which POST /api/jobs also fills a field left out
// with) in the fields train has a default for, so that the page's form
// says 3 epochs as train does, where the playground's 1 is for a browser.
func jobDefaults() Settings {
	s, d := DefaultSettings(), msg.TrainDefaults()
	s.Arch, s.Loss, s.Dim, s.Epochs, s.Batch, s.Opt, s.Seed, s.Schedule = d.Arch, d.Loss, d.Dim, d.Epochs, d.Batch, d.Opt, d.Seed, d.Schedule
	return s
}

// OnMount reads the form's settings from the URL hash, when there is one
// (readLink), and starts reading the job list, and the server's data
// sets, every few seconds.
func (j *Jobs) OnMount(ctx app.Context) {
	j.mounted = ctx
	if !app.IsClient {
		return
	}
	j.nonce = strconv.FormatUint(rand.Uint64()>>16, 36)
	if j.Client == nil {
		j.Client = NewClient()
	}
	j.readLink(ctx)
	c, stop := context.WithCancel(ctx)
	j.stopList = stop
	client := j.Client
	ctx.Async(func() { every(c, jobsRefresh, watchVisibility(c), func() { j.readList(ctx, c, client) }) })
}

// readLink fills the form with the settings of the page's link, the URL
// hash (open), and, until the page is dismounted, with those of each new
// link of the page opened in it (linkChanged).
func (j *Jobs) readLink(ctx app.Context) {
	j.open(locationHash())
	j.onHash = app.FuncOf(func(app.Value, []app.Value) any {
		ctx.Dispatch(func(app.Context) { j.linkChanged(locationHash()) })
		return nil
	})
	app.Window().Call("addEventListener", "hashchange", j.onHash)
}

// linkChanged opens the link of the page's URL's new fragment hash: a
// link of /jobs pasted or edited in the address bar while the page is
// open changes only the fragment, which reloads nothing (the browser says
// hashchange; replaceHash's writes of the form's own, edit, do not). The
// form's own fragment is not a new link: its fields stay as they are,
// with the text typed and refused and its error.
func (j *Jobs) linkChanged(hash string) {
	if hash == j.form.Hash() {
		return
	}
	j.open(hash)
}

// open fills the form with the settings of the link hash (the page's
// URL fragment, with its "#"), when it has any, as it takes them
// (jobSettings); the error line says which of them were not used, and
// nothing else: those ParseHash refused, and a playground's comparison,
// whose losses the form does not queue (one job trains one loss), in
// maxNotices at most. The form's text fields are drawn anew (field),
// showing the link's settings, none marked. The list, the watched job
// and why the job sent last may not be queued (jobErr) stay as they are.
func (j *Jobs) open(hash string) {
	if hash == "" || hash == "#" {
		return
	}
	sets := j.dataNames()
	if !j.setsRead {
		// The server's data sets are not read yet: a link's folder is
		// taken as it names it, and checked when they are (SetDatasets).
		q, _ := url.ParseQuery(strings.TrimPrefix(hash, "#")) // the pairs it reads: parseHash notes the others
		for _, d := range q["data"] {
			if msg.DatasetPathProblem(d) == "" {
				sets = append(sets, d)
			}
		}
	}
	s, notices, n := parseHash(hash, sets)
	var own []string // the form's notes: after the link's, within maxNotices
	if len(s.Compare) > 0 {
		own = append(own, fmt.Sprintf("compare=%s is the playground's: this form trains one loss (%s)", strings.Join(s.Compare, ","), s.Loss))
	}
	notices = append(capNotices(notices, n, maxNotices-len(own)), own...)
	j.form, j.err, j.refused = jobSettings(s), strings.Join(notices, "; "), nil
	j.links++
}

// every calls do, then again every d after it returns, until c is done:
// the pages' reads of the server's lists. While page is hidden (its tab
// in the background) it waits and reads nothing, and it calls do at once
// when page is shown again: what the page shows may be old.
func every(c context.Context, d time.Duration, page visibility, do func()) {
	for whileHidden(c, page) {
		do()
		select {
		case <-c.Done():
			return
		case <-time.After(d):
		case <-page.Shown():
		}
	}
}

// whileHidden waits while page is hidden, and reports whether it is
// seen: false when c is done first.
func whileHidden(c context.Context, page visibility) bool {
	for page.Hidden() {
		select {
		case <-c.Done():
			return false
		case <-page.Shown():
		}
	}
	return c.Err() == nil
}

// OnDismount stops reading the list, the watched job's events and the
// links opened in the page.
func (j *Jobs) OnDismount() {
	if j.stopList != nil {
		j.stopList()
	}
	j.unwatch()
	if j.onHash != nil {
		app.Window().Call("removeEventListener", "hashchange", j.onHash)
		j.onHash.Release()
		j.onHash = nil
	}
}

// readList reads the list from a goroutine and shows it, unless a read
// started since was shown first (listReads), with the server's data sets
// (SetDatasets); it names the jobs' models and watches a job by itself
// (toWatch). A read that takes more than requestTimeout is shown as the
// list's error: it stopped the refresh.
func (j *Jobs) readList(ctx app.Context, c context.Context, client *Client) {
	read := j.listReads.Add(1)
	rc, cancel := context.WithTimeout(c, requestTimeout)
	defer cancel()
	jobs, err := client.Jobs(rc)
	sets, setsErr := client.Datasets(rc)
	if c.Err() != nil { // the page is gone
		return
	}
	ctx.Dispatch(func(ctx app.Context) {
		j.SetDatasets(sets, setsErr)
		if !j.showList(read, jobs, err) {
			return
		}
		j.nameModels(ctx)
		if job, ok := j.toWatch(); ok {
			j.watchJob(ctx, job)
		}
	})
}

// showList shows the answer of the list's read number read (SetJobs), and
// reports whether it did: not when a read started after it was shown.
func (j *Jobs) showList(read int64, jobs []msg.Job, err error) bool {
	if read < j.listShown {
		return false
	}
	j.listShown = read
	j.SetJobs(jobs, err)
	return true
}

// SetJobs shows jobs, newest first, or err when the list could not be
// read.
//
// A read that got no answer (isUnreachable) says so in one line: the
// jobs are as read before, at the time it gives, and the watched job is
// shown as last seen (JobWatch.Unseen) until its stream reads again.
func (j *Jobs) SetJobs(jobs []msg.Job, err error) {
	j.offline = isUnreachable(err)
	switch {
	case j.offline && j.listed.IsZero():
		j.listErr = "the server could not be reached: the page tries again every few seconds"
	case j.offline:
		j.listErr = "the server could not be reached: the jobs below are as it listed them at " + j.listed.Format(time.TimeOnly) + "; the page tries again every few seconds"
	case err != nil:
		j.listErr = "the jobs could not be read: " + err.Error()
	}
	if j.offline && j.watch != nil && !j.watch.Final() {
		j.watch.Unseen = true
	}
	if err != nil {
		return
	}
	jobs = slices.DeleteFunc(slices.Clone(jobs), func(job msg.Job) bool { return j.removed[job.ID] })
	j.jobs, j.listErr, j.listed = NewestFirst(jobs), "", time.Now()
	if i := slices.IndexFunc(j.jobs, func(job msg.Job) bool { return job.ID == j.confirm.row }); i < 0 || !ended(j.jobs[i]) {
		j.confirm.row = "" // removed elsewhere, or resumed: its Cancel is back
	}
	for _, job := range j.jobs {
		if job.ID == j.noteJob && job.State != msg.JobQueued {
			j.note, j.noteJob = "", ""
		}
	}
	if j.watch == nil {
		return
	}
	listed := false
	for _, job := range j.jobs {
		if job.ID == j.watch.Job.ID {
			j.watch.Job, listed = job, true
		}
	}
	// A job whose stream is refused and that the server no longer lists
	// is gone (a server started again on another data directory): its
	// stream is not opened again. A stream that reads is not enough to
	// tell: a job just queued may be missing from a list read before it.
	if !listed && j.eventsErr != "" {
		j.watch.Gone, j.eventsErr = true, ""
	}
}

// SetDatasets offers sets, the server's data sets, in the form's Data
// select, or shows err when they could not be read (the sets read before
// stay: MNIST alone before any). The first that reads checks the form's
// data set, which a link opened before it named unchecked (open): a
// folder the server does not list is not used, as the link's other
// refused settings are not, and said so in the form's error line.
func (j *Jobs) SetDatasets(sets []msg.Dataset, err error) {
	if err != nil {
		j.setsErr = "the data sets could not be read: " + err.Error()
		return
	}
	j.sets, j.setsErr = sets, ""
	if !j.setsRead {
		j.setsRead = true
		if !slices.Contains(dataOptions(j.dataNames()), j.form.Data) {
			j.open(j.form.Hash())
		}
	}
}

// dataNames returns the names of the server's data sets read.
func (j *Jobs) dataNames() []string {
	names := make([]string, len(j.sets))
	for i, d := range j.sets {
		names[i] = d.Name
	}
	return names
}

// toWatch returns the job the page starts to watch by itself after a
// read of the list: the newest running job, or else the newest queued one
// (ActiveJob), when the page watches none or one the server no longer has;
// and the watched job again when its stream said interrupted and the list
// has it in another state: resumed (or canceled) by another page or
// client, it sends events again, on a stream the page no longer follows.
// A list that could not be read (the server stopped, which interrupted the
// job) is the one read before: no news of the job.
func (j *Jobs) toWatch() (msg.Job, bool) {
	if j.watch == nil || j.watch.Gone {
		return ActiveJob(j.jobs)
	}
	if job := j.watch.Job; j.listErr == "" && j.watch.State == msg.JobInterrupted && job.State != msg.JobInterrupted {
		return job, true
	}
	return msg.Job{}, false
}

// Render draws the page.
func (j *Jobs) Render() app.UI {
	return app.Div().Class("page jobs-page").Body(
		app.Header().Class("top").Body(
			app.H1().ID("jobs-title").TabIndex(-1).Text("Training jobs"),
			app.P().ID("jobs-status").Class("status").Role("status").Text(j.status()),
		),
		// The lines that come and go in a slot, there when empty, as the
		// playground's notices: one that came in the layout's place would
		// draw it again, the job's viewer reloaded, what was typed lost.
		// The errors of what the user asked for (a job, a cancel or
		// resume) are alerts; the list's, the stream's and an event's
		// of the watched job, which come by themselves, and the note,
		// polite (status).
		// Each is there empty (drawn as nothing: CSS :empty), so that a
		// screen reader reads it as it changes, and each keeps its
		// element: go-app matches children by their place, and a line
		// that came before another took its element, which a screen
		// reader read again as a new alert.
		app.Div().Class("slot").Body(
			app.P().ID("jobs-list-error").Class("notices").Role("status").Text(j.listErr),
			app.P().ID("jobs-sets-error").Class("notices").Role("status").Text(j.unlessOffline(j.setsErr)),
			app.P().ID("jobs-events-error").Class("notices").Role("status").Text(j.unlessOffline(j.eventsErr)),
			app.P().ID("jobs-watch-error").Class("notices").Role("status").Text(j.watchErr),
			app.P().ID("jobs-note").Class("note").Role("status").Text(j.note),
			app.P().ID("jobs-error").Class("notices").Role("alert").Text(j.err),
			app.P().ID("jobs-act-error").Class("notices").Role("alert").Text(j.actErr),
			app.P().ID("jobs-job-error").Class("notices").Role("alert").Text(j.jobErr),
		),
		app.Div().Class("layout").Body(
			app.Aside().Class("sidebar").Body(j.renderForm()),
			app.Main().Class("jobs-main").Body(
				j.renderList(),
				app.If(j.watch != nil, func() app.UI { return j.renderWatch() }),
			),
		),
	)
}

// unlessOffline returns line, an error of a read of the server, unless
// the list's read got no answer: its line says that once, and the data
// sets' and the stream's said it again, three banners of one cause.
func (j *Jobs) unlessOffline(line string) string {
	if j.offline {
		return ""
	}
	return line
}

// renderForm draws the form of a new job.
func (j *Jobs) renderForm() app.UI {
	s := j.form
	return app.Form().ID("job-form").Class("controls job-form").Method(noSubmit).
		OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			j.submit(ctx)
		}).Body(
		app.H2().Text("New server job"),
		j.selectField("preset", "Preset", PresetNames(), cmp.Or(s.Preset, "none")),
		j.dataField(),
		j.classesField(),
		j.selectField("arch", "Encoder", Archs(), s.Arch),
		j.selectField("loss", "Loss", LossNames(), s.Loss),
		j.selectField("dim", "Dimension D", intStrings(Dims()), strconv.Itoa(s.Dim)),
		j.paramsField(),
		j.textField("epochs", "Epochs", strconv.Itoa(s.Epochs), ""),
		j.textField("batch", "Batch", strconv.Itoa(s.Batch), ""),
		j.textField("lr", "Learning rate", strconv.FormatFloat(s.LR, 'g', -1, 64), ""),
		j.selectField("opt", "Optimiser", Opts(), s.Opt),
		j.selectField("augment", "Augmentation", msg.AugmentNames(), cmp.Or(s.Augment, "none")),
		j.selectField("schedule", "Schedule", msg.ScheduleNames(), cmp.Or(s.Schedule, "cosine")),
		j.selectField("embed-bn", "Embedding batch norm", []string{"no", "yes"}, map[bool]string{false: "no", true: "yes"}[s.EmbedBN]),
		j.selectField("flip-test", "Flip test (embed the mirror too)", []string{"no", "yes"}, map[bool]string{false: "no", true: "yes"}[s.FlipTest]),
		j.textField("compose", "Composition", cmp.Or(s.Compose, "none"), "none, or RxC: 2x1 (halves)"),
		j.textField("views", "Views (an encoder per window)", cmp.Or(s.Views, msg.ViewWhole), "whole, or whole,upper,lower"),
		j.selectField("turns", "Turns as classes", intStrings(msg.TurnsValues()), strconv.Itoa(s.Turns)),
		j.glyphsField(),
		j.textField("wd", "Weight decay", wdText(s.WeightDecay), "the optimiser's default"),
		j.textField("early-stop", "Early stop (epochs)", strconv.Itoa(s.EarlyStop), "0: off"),
		j.textField("seed", "Seed", strconv.FormatInt(s.Seed, 10), ""),
		&TokenField{ID: "job-token"},
		app.Button().ID("btn-submit").Type("submit").Class("btn btn-train").Disabled(j.submitting).Text("Train on the server"),
		app.P().Class("permalink").Body(
			app.A().ID("job-playground").Href("/"+j.form.Hash()).Text("Open these settings in the playground"),
		),
	)
}

// dataField draws the form's data set: MNIST, then the server's data
// sets (SetDatasets), each with its identities and images, and the
// form's own when the server does not list it (a link's before the list
// is read, or a folder deleted since: Train says what the server says).
func (j *Jobs) dataField() app.UI {
	options := dataOptions(append(j.dataNames(), j.form.Data))
	texts := make([]string, len(options))
	for i, name := range options {
		texts[i] = name
		if k := slices.IndexFunc(j.sets, func(d msg.Dataset) bool { return d.Name == name }); k >= 0 && isFolder(name) {
			d := j.sets[k]
			texts[i] = fmt.Sprintf("%s (%s, %s)", name, msg.Plural(d.Identities, "identity", "identities"), msg.Plural(d.Samples, "image", "images"))
		}
	}
	return selectFieldText("job-data", "Data", options, texts, j.form.Data, false, func(v string) { j.edit("data", v) })
}

// classesField draws the form's classes: those of MNIST, digits; those
// of a server's folder, its identities by name or number, which the
// server checks (data.ParseClasses). Marked refused, it shows the text
// refused (classesTyped).
func (j *Jobs) classesField() app.UI {
	placeholder := "all, or 0-4, 0,2,4"
	if isFolder(j.form.Data) {
		placeholder = "all, or names (s01-s20) or numbers"
	}
	value := j.form.Classes
	if _, ok := j.refused["classes"]; ok {
		value = j.classesTyped
	}
	return j.textField("classes", "Classes", value, placeholder)
}

// glyphsField draws the form's glyph classes: the count the job will
// train with, so none, disabled, for a loss of P×K batches, which takes
// none (Settings.Request leaves a preset's or a link's out). The input
// is keyed by whether it is disabled (and by the links opened, field),
// so that it shows the settings' value each time it is disabled or
// enabled (keyed: go-app writes a value only when the one drawn changes,
// and a text typed and refused stayed in the disabled field drawn 0, and
// came back, marked, with another loss); edit forgets why the text was
// refused then.
func (j *Jobs) glyphsField() app.UI {
	if noGlyphs(j.form) {
		return j.field("job-glyphs none", textField("job-glyphs", "Glyph classes (none: "+j.form.Loss+" batches P classes × K images)", "0", "", "", true, nil))
	}
	return j.textField("glyphs", "Glyph classes", strconv.Itoa(j.form.Glyphs), fmt.Sprintf("0: none; up to %d", msg.MaxGlyphs))
}

// paramsField draws the parameters of the form's loss at its D, each
// showing its setting (its default at D when none is set), which the job
// is posted with (Settings.Request): a link's or a preset's included,
// written whole (FormatNumber would show 0.123456789 of 0.123456789012). It
// is keyed by the loss and D (and by the links opened, field), as the
// playground's are (Controls.params): each input then shows the setting,
// not the text typed in a parameter of the same name before; edit
// forgets why that text was refused.
func (j *Jobs) paramsField() app.UI {
	s := j.form
	ps := LossParams(s.Loss, s.Dim)
	if len(ps) == 0 {
		return app.P().Class("hint").Text(s.Loss + " has no parameters")
	}
	title := s.Loss + " parameters at D = " + strconv.Itoa(s.Dim)
	return j.field("job-params "+title, app.FieldSet().Class("params").Body(
		app.Legend().Text(title),
		app.Range(ps).Slice(func(i int) app.UI {
			p := ps[i]
			value := FormatNumber(p.Default) // not posted: 0.14, not 0.13999999999999999
			if v, ok := s.Params[p.Name]; ok {
				value = strconv.FormatFloat(v, 'g', -1, 64) // as it is posted
			}
			return textField("job-param-"+p.Name, p.Name, value, "default "+FormatNumber(p.Default), j.refused[p.Name], false,
				func(v string) { j.edit(p.Name, v) })
		}),
	))
}

// noGlyphs reports whether the job of s trains with no glyph classes
// whatever s's are: its loss takes batches of P classes × K images.
func noGlyphs(s Settings) bool { return slices.Contains(pkLosses(), s.Loss) }

// jobColumns are the heads of the Jobs table's columns but the
// actions', as modelColumns are the Models table's: the job's id is the
// title of its row's card in a narrow window.
var jobColumns = [...]string{"job", "experiment", "state", "step", "loss", "model"}

// renderList draws the table of jobs.
func (j *Jobs) renderList() app.UI {
	if len(j.jobs) == 0 {
		return app.P().ID("jobs-empty").Class("note").Text("no jobs yet")
	}
	// Read before the server could no longer be reached: its running and queued
	// jobs are as last seen, the table greyed (.stale).
	table := "registry"
	if j.offline {
		table += " stale"
	}
	return app.Table().ID("jobs").Class(table).Body(
		app.THead().Body(app.Tr().Body(heads(jobColumns[:]...)...)),
		app.TBody().Body(app.Range(j.jobs).Slice(func(i int) app.UI {
			job, col := j.jobs[i], jobColumns
			watched := j.watch != nil && j.watch.Job.ID == job.ID
			// Keyed by the job: a job queued since moves the rows after
			// it, and go-app would update each row in place with another
			// job's (a button that has the focus would cancel another
			// job), as the Models page's rows.
			return &keyed{Key: "job " + job.ID, UI: app.Tr().ID("job-"+job.ID).Class("state-"+job.State).Body(
				app.Td().Body(app.Code().Text(job.ID)),
				app.Td().DataSet("label", col[1]).Text(jobExperiment(job)),
				app.Td().Class("job-state").DataSet("label", col[2]).Body(
					app.Text(j.stateText(job)),
					app.If(job.Error != "" && job.Error != msg.JobUnreadable, func() app.UI { return jobError(job) }),
				),
				app.Td().DataSet("label", col[3]).Text(stepText(job.Step, job.Steps)),
				app.Td().DataSet("label", col[4]).Text(lossText(job)),
				app.Td().DataSet("label", col[5]).Body(j.modelCell(job)),
				// Each button names its job by its id, as the row's first
				// cell shows it: a screen reader's list of the page's
				// buttons read "Watch" once a row.
				app.Td().Class("actions").Body(
					app.Button().ID("watch-"+job.ID).Type("button").Class("btn").Disabled(watched).Aria("label", "watch job "+job.ID).Text("Watch").
						OnClick(func(ctx app.Context, e app.Event) { j.watchJob(ctx, job) }, jobScope(job)),
					app.If(job.State == msg.JobInterrupted, func() app.UI {
						return app.Button().ID("resume-"+job.ID).Type("button").Class("btn").Disabled(j.acting[job.ID]).Aria("label", "resume job "+job.ID).Text("Resume").
							OnClick(func(ctx app.Context, e app.Event) { j.act(ctx, job, "resume") }, jobScope(job))
					}),
					// An interrupted job too: canceled, it gives up its
					// checkpoint (a CUDA job on a server without one
					// cannot be resumed).
					app.If(job.State == msg.JobQueued || job.State == msg.JobRunning || job.State == msg.JobInterrupted, func() app.UI {
						return app.Button().ID("cancel-"+job.ID).Type("button").Class("btn").Disabled(j.acting[job.ID]).Aria("label", "cancel job "+job.ID).Text("Cancel").
							OnClick(func(ctx app.Context, e app.Event) { j.act(ctx, job, "cancel") }, jobScope(job))
					}),
					app.If(ended(job), func() app.UI { return j.confirm.slot(j.removeSlot(job)) }),
				),
			)}
		})),
	)
}

// stateText is job's state in its row: as listed, or "last seen
// running" (queued) while the list cannot be read (offline), as the
// watched job's status says it.
func (j *Jobs) stateText(job msg.Job) string {
	if j.offline && (job.State == msg.JobRunning || job.State == msg.JobQueued) {
		return "last seen " + job.State
	}
	return job.State
}

// jobErrorRunes bounds the reason shown in a job's row: the server's
// reasons run to msg.MaxErrorRunes (300), which would make the state
// column the table's widest; its title holds it whole.
const jobErrorRunes = 80

// jobError draws, under a job's state in its row, the images its data
// set's load skipped (from its load on, whatever its end), then why it
// failed or was interrupted, or how a done job ended (early stopping
// where training diverged): one line, each of its parts ("; " between
// them) shortened to its share of jobErrorRunes, as the server joins them
// (msg.JoinShortened: each keeps its start, and its end, which says what
// to do; shortened as one, the line kept the note's start and lost why
// the job ended), whole in its title. The stylesheet
// keeps it to one line of the cell, cut with an ellipsis (.job-error). A
// job of an unreadable record says so in its experiment's cell already.
func jobError(job msg.Job) app.UI {
	line := msg.ErrorLine(job.Error)
	return app.Div().ID("job-error-" + job.ID).Class("job-error").Title(line).Text(msg.JoinShortened(jobErrorRunes, strings.Split(line, "; ")...))
}

// renderWatch draws the watched job as a playground panel: status,
// hypersphere, curves, histogram, verification figures.
func (j *Jobs) renderWatch() app.UI {
	w := j.watch
	r := &w.Run
	return app.Section().ID("job-watch").Class("panel state-"+w.State).Body(
		app.Header().Class("panel-head").Body(
			app.H2().Text("job "+w.Job.ID+" · "+jobExperiment(w.Job)),
			// Not a live region: it changes at each progress event.
			app.P().ID("job-status").Class("status").Text(w.Status()),
			app.P().ID("job-status-live").Class("sr-only").Role("status").Text(w.StateLine()),
		),
		app.IFrame().ID("job-viewer").Class("viewer").Title("hypersphere of job "+w.Job.ID).Src(ViewerURL(j.channel, true)),
		app.Div().Class("charts").Body(
			app.Raw(LineChartSVG("loss", r.LossLine, nil, "chart-loss")),
			app.Raw(LineChartSVG(AccuracyTitle(&w.Job.Config), r.AccLine, &Range{0, 1}, "chart-acc")),
			app.Raw(HistogramSVG(r.Genuine, r.Impostor, r.Threshold, r.HasSnapshot)),
		),
		app.If(w.Figures() != nil, func() app.UI {
			f := w.Figures()
			return app.P().ID("job-figures").Class("figures-line").Text(fmt.Sprintf(
				"1:1 verification: accuracy %s, EER %s, threshold %.3f", percent(f.Accuracy), percent(f.EER), f.Threshold))
		}),
	)
}

// submit queues the form's job and watches it, unless one is on its way
// or a field is marked invalid: its text was not taken, and the job would
// train on the value before it, which the form does not show (the mark
// is the page's, aria-invalid: the browser does not hold the form back).
func (j *Jobs) submit(ctx app.Context) {
	if j.Client == nil || j.submitting {
		return
	}
	if len(j.refused) > 0 {
		why := slices.Sorted(maps.Values(j.refused))
		j.err, j.jobErr, j.note = "the job was not queued, a field marked invalid: "+strings.Join(why, "; "), "", ""
		return
	}
	req := JobRequest(j.form)
	page := j.mounted
	client := j.Client.Waiting(func(wait time.Duration) {
		page.Dispatch(func(app.Context) {
			if j.submitting {
				j.note = waitNote("submitting", wait)
			}
		})
	})
	j.err, j.jobErr, j.note, j.noteJob, j.submitting = "", "", waitNote("submitting", 0), "", true
	ctx.Async(func() {
		c, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		id, err := client.Submit(c, req)
		page.Dispatch(func(ctx app.Context) {
			j.submitting = false
			var unread *AnswerError
			switch {
			case errors.As(err, &unread) || errors.Is(err, context.DeadlineExceeded):
				// The server may have queued it: the list, read again
				// every jobsRefresh, shows it if so.
				j.jobErr, j.note = "the job may have been queued, but no answer said so ("+err.Error()+"): the list shows it if it was", ""
				return
			case err != nil:
				j.jobErr, j.note = "the job was not queued: "+err.Error(), ""
				return
			}
			j.note, j.noteJob = "job "+id+" queued", id
			j.listShown = j.listReads.Load() + 1 // the reads under way may not list it
			job := msg.Job{ID: id, Config: req, State: msg.JobQueued}
			j.jobs = append([]msg.Job{job}, j.jobs...)
			j.watchJob(ctx, job)
		})
	})
}

// JobRequest returns the request of the Jobs form's job of s: the
// trainer's (Settings.Request), on the server's device, with its batch a
// default when it is the recipe's (recipeBatch). Client.Submit sends it
// whole, the fields its preset sets included (msg.JobBody).
func JobRequest(s Settings) msg.TrainRequest {
	req := s.Request(s.Loss)
	req.Device = "auto" // the server's GPU when it runs the CUDA engine (GET /api/devices), else its CPU
	req.BatchDefault = s.Batch == recipeBatch(s)
	return req
}

// recipeBatch returns the batch of the recipe of s: its preset's, or
// with none the form's default (DefaultSettings). The form's batch at it
// is posted as a default (msg.TrainRequest.BatchDefault), whoever typed
// it, as a loss parameter at its default is no setting
// (Settings.WithParam): a data set of fewer training images trains with
// a batch of them, which the job's note says; another batch is the
// user's, refused then with the batch that trains.
func recipeBatch(s Settings) int {
	if p, ok := msg.PresetByName(s.Preset); ok && p.Request.Batch > 0 {
		return p.Request.Batch
	}
	return DefaultSettings().Batch
}

// nameModels reads the server's models when a listed job has a model
// they were not read for (a job that ended since, or the first read),
// or, for a name changed since (the Models page's Rename), when a listed
// job has a model and they were last asked modelsRefresh ago or more:
// the Models page's own list is as old, and the list's reads, every
// jobsRefresh, follow training, which names do not. The list is not read
// while the page is hidden (every), so a tab shown again after a rename
// in another reads them at once. A model of no card (deleted since) is
// not asked for again before then; after a read that failed, every one
// is. Of two reads under way, the later's answer is kept, whichever
// comes last: the earlier's may not have a model listed since.
func (j *Jobs) nameModels(ctx app.Context) {
	stale := time.Since(j.modelsAsked) >= modelsRefresh
	if j.Client == nil || !slices.ContainsFunc(j.jobs, func(job msg.Job) bool { return job.ModelID != "" && (stale || !j.named[job.ModelID]) }) {
		return
	}
	j.modelsAsked = time.Now()
	if j.named == nil {
		j.named = make(map[string]bool)
	}
	for _, job := range j.jobs {
		if job.ModelID != "" {
			j.named[job.ModelID] = true
		}
	}
	j.reads++
	client, page, read := j.Client, j.mounted, j.reads
	ctx.Async(func() {
		c, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		cards, err := client.Models(c)
		page.Dispatch(func(ctx app.Context) {
			switch {
			case read != j.reads: // a read asked since answers
			case err != nil:
				j.named = nil
			default:
				j.models = cards
			}
		})
	})
}

// act cancels or resumes job, unless its Cancel or Resume is on its way.
func (j *Jobs) act(ctx app.Context, job msg.Job, op string) {
	if j.Client == nil || j.acting[job.ID] {
		return
	}
	if j.acting == nil {
		j.acting = make(map[string]bool)
	}
	j.acting[job.ID] = true
	client, page := j.Client, j.mounted
	ctx.Async(func() {
		c, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		var err error
		if op == "cancel" {
			err = client.Cancel(c, job.ID)
		} else {
			err = client.Resume(c, job.ID)
		}
		read := j.listReads.Add(1)
		jobs, listErr := client.Jobs(c)
		page.Dispatch(func(ctx app.Context) {
			delete(j.acting, job.ID)
			// The list read after a refusal too: it shows why, as the
			// job is now (done, or resumed in another tab).
			j.showList(read, jobs, listErr)
			if now, ok := endedBefore(op, err, jobs, listErr, job.ID); ok {
				// The server's 409 says how to remove the record, with
				// curl's words: the row shows the job as it ended.
				j.actErr, j.note, j.noteJob = "", "job "+job.ID+" had already ended ("+now.State+") before the cancel reached it", ""
				return
			}
			if err != nil {
				j.actErr = op + " " + job.ID + ": " + err.Error()
				return
			}
			j.actErr = ""
			if op == "resume" {
				j.note, j.noteJob = "job "+job.ID+" resumed", job.ID
				job.State = msg.JobQueued
				j.watchJob(ctx, job)
				return
			}
			j.note, j.noteJob = "job "+job.ID+" canceled", ""
			if next, ok := j.toWatch(); ok {
				j.watchJob(ctx, next) // the watched job, interrupted, now canceled: not "resume it"
			}
		})
	})
}

// endedBefore returns job id as the list read after its op (jobs, or
// listErr) has it when op is a cancel the server refused (409) because the
// job had ended meanwhile (done, failed), and reports whether it was so.
func endedBefore(op string, err error, jobs []msg.Job, listErr error, id string) (msg.Job, bool) {
	var s *StatusError
	if op != "cancel" || !errors.As(err, &s) || s.Status != 409 || listErr != nil {
		return msg.Job{}, false
	}
	i := slices.IndexFunc(jobs, func(job msg.Job) bool { return job.ID == id })
	if i < 0 || !ended(jobs[i]) {
		return msg.Job{}, false
	}
	return jobs[i], true
}

// ended reports whether job has ended: done, failed or canceled. Its
// record can be removed (Remove), its model staying.
func ended(job msg.Job) bool {
	return job.State == msg.JobDone || job.State == msg.JobFailed || job.State == msg.JobCanceled
}

// removeSlot is the slot of ended job's Remove (confirmStep.slot), as
// the Models page's Delete (Models.deleteSlot), with a hint that says
// what becomes of the job's model.
func (j *Jobs) removeSlot(job msg.Job) confirmSlot {
	id := job.ID
	hint := "removes the record of job " + id + "; its model stays on the Models page"
	if job.ModelID == "" {
		hint = "removes the record of job " + id + "; it has no model"
	}
	return confirmSlot{Row: id, Scope: jobScope(job), Busy: func() bool { return j.acting[id] }, Focus: j.focus,
		Ask:     confirmButton{"remove-" + id, "Remove", "remove job " + id},
		Confirm: confirmButton{"confirm-remove-" + id, "Confirm remove", "confirm remove of job " + id},
		Keep:    confirmButton{"keep-job-" + id, "Keep", "keep job " + id},
		Act:     func(ctx app.Context) { j.remove(ctx, job) },
		HintID:  "remove-hint-" + id, Hint: hint,
	}
}

// remove removes the record of ended job, unless a request of it is on
// its way, then reads the list, after a refusal too. A job removed
// leaves the page, and the note says so (its model stays); one not found
// (404: removed in another tab) is gone all the same; one the server
// refused (409: resumed meanwhile) stays, as it is now, and the alert
// says why in plain words. The focus, on the row's buttons, goes to a
// button of the job after it (rowButton), else of the one before, else
// to the page's heading (rowPlace).
func (j *Jobs) remove(ctx app.Context, job msg.Job) {
	if j.Client == nil || j.acting[job.ID] {
		return
	}
	if j.acting == nil {
		j.acting = make(map[string]bool)
	}
	j.acting[job.ID] = true
	id := job.ID
	place := placeOf(j.jobs, func(o msg.Job) string { return o.ID }, id)
	client, page := j.Client, j.mounted
	ctx.Async(func() {
		c, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		err := client.RemoveJob(c, id)
		read := j.listReads.Add(1)
		jobs, listErr := client.Jobs(c)
		page.Dispatch(func(ctx app.Context) {
			delete(j.acting, id)
			var s *StatusError
			switch listed := listErr == nil && slices.ContainsFunc(jobs, func(o msg.Job) bool { return o.ID == id }); {
			case err == nil || notFound(err) && !listed: // a job listed after its 404 (a proxy's) is not gone
				if j.removed == nil {
					j.removed = make(map[string]bool)
				}
				j.removed[id] = true
				j.actErr, j.note, j.noteJob = "", "removed job "+id, ""
				if notFound(err) {
					j.note = "job " + id + " was already removed"
				}
				if job.ModelID != "" {
					j.note += "; its model stays on the Models page"
				}
				j.jobs = slices.DeleteFunc(j.jobs, func(o msg.Job) bool { return o.ID == id })
			case errors.As(err, &s) && s.Status == 409: // its state, as the list read after has it, below
				j.actErr = "job " + id + " was not removed: it is active again (resumed meanwhile); cancel it first to remove it"
			default:
				j.actErr = "could not remove job " + id + ": " + err.Error()
			}
			if j.confirm.row == id {
				j.confirm.row = ""
			}
			j.showList(read, jobs, listErr)
			if i := slices.IndexFunc(j.jobs, func(o msg.Job) bool { return o.ID == id }); s != nil && s.Status == 409 && i >= 0 && !ended(j.jobs[i]) {
				j.actErr = "job " + id + " was not removed: it is " + j.jobs[i].State + " again (resumed meanwhile); cancel it first to remove it"
			}
			if j.watch != nil && j.watch.Job.ID == id && j.removed[id] {
				j.unwatch()
				j.watch = nil
			}
			j.focus(place.focus(j.jobs, j.rowButton, "jobs-title"), []string{"keep-job-" + id, "confirm-remove-" + id, "remove-" + id})
		})
	})
}

// rowButton returns the button of job's row that takes the focus after a
// removal: its Remove when it has ended, as a model's Delete leads to the
// next one's; else its Watch, unless it is watched (disabled, which
// takes no focus): then its Cancel, which every active job has.
func (j *Jobs) rowButton(job msg.Job) string {
	switch {
	case ended(job):
		return "remove-" + job.ID
	case j.watch == nil || j.watch.Job.ID != job.ID:
		return "watch-" + job.ID
	}
	return "cancel-" + job.ID
}

// focus gives the keyboard's focus to the element of id once the render
// under way has drawn it (focusDrawn), as Models.focus.
func (j *Jobs) focus(id string, from []string) { focusDrawn(j.mounted, &j.focused, id, from) }

// watchJob shows job and follows its event stream (follow), forwarding
// it to the viewer (JobWatch.Receive), and tells a viewer that loads
// later what it missed (JobWatch.CatchUp). The job watched again
// (resumed or canceled after its stream said interrupted) keeps its
// curves: its stream sends only the last progress, but not why it was
// interrupted. A resumed one draws again the steps past its checkpoint,
// and its curves and epoch ends are cut there (JobWatch.resumedFrom), as
// are those of one listed done or failed: only a resume ends so.
func (j *Jobs) watchJob(ctx app.Context, job msg.Job) {
	j.unwatch()
	w := NewJobWatch(job)
	if old := j.watch; old != nil && old.Job.ID == job.ID {
		w.Run, w.Snapshot, w.Progress = old.Run, old.Snapshot, old.Progress
		if old.State == msg.JobInterrupted && job.State != msg.JobInterrupted {
			// Why it was interrupted, from its stream, is no longer
			// true ("resume the job …"): the job's own error says the rest.
			w.Run.Err = ""
		}
		if old.State == msg.JobInterrupted && job.State != msg.JobInterrupted && job.State != msg.JobCanceled {
			// Resumed, and maybe done or failed since, unseen (its
			// stream then gives its state and error alone): an ended
			// job has no checkpoint left (0), and its curves go, as a
			// page loaded fresh has none.
			w.resumedFrom(job.CkptStep)
		}
	}
	j.watch = &w
	j.channel = "metriclab-job-" + job.ID + "-" + j.nonce
	if !app.IsClient || j.Client == nil {
		return
	}
	page := j.mounted
	var bc *broadcast
	bc = openBroadcast(j.channel, func(data string) {
		page.Dispatch(func(ctx app.Context) {
			if j.bc == bc && j.watch == &w && IsViewerReady(data) {
				for _, s := range w.CatchUp() { // the viewer loaded after them
					bc.post(s)
				}
			}
		})
	})
	j.bc = bc
	c, stop := context.WithCancel(ctx)
	j.stopWatch = stop
	client := j.Client
	ctx.Async(func() { j.follow(page, c, client, watchVisibility(c), job.ID, &w) })
}

// follow reads the event stream of job id, watched as w, until c is done,
// passing its events to w and what w forwards to the viewer, and opens it
// again when it drops before the job ends: watchRetry after, or at once
// when the page is shown. While the page is hidden (seen: its tab in the
// background) it is not opened again until the page is shown; a stream
// open then stays open.
func (j *Jobs) follow(page app.Context, c context.Context, client *Client, seen visibility, id string, w *JobWatch) {
	for {
		err := client.Events(c, id, func(data string) {
			page.Dispatch(func(ctx app.Context) {
				if j.watch != w {
					return
				}
				j.eventsErr = ""
				post, err := w.Receive(data)
				if err != nil {
					j.watchErr = "an event of job " + w.Job.ID + " was not taken: " + err.Error()
				}
				for _, s := range post {
					j.bc.post(s) // the viewer of w, watched
				}
			})
		})
		final := make(chan bool, 1)
		page.Dispatch(func(ctx app.Context) { final <- j.streamEnded(w, err) })
		select {
		case f := <-final:
			if f {
				return
			}
		case <-c.Done():
			return
		}
		select {
		case <-c.Done():
			return
		case <-time.After(watchRetry):
		case <-seen.Shown():
		}
		if !whileHidden(c, seen) {
			return
		}
	}
}

// streamEnded records that the event stream of w ended with err (nil: it
// ended), and reports whether w's job sends nothing more: otherwise the
// stream is opened again. A stream that failed is opened again even of a
// job that has ended, unless it is gone: its last events (its state, last
// progress and snapshot) were not read, and its error would stay.
func (j *Jobs) streamEnded(w *JobWatch, err error) (final bool) {
	if err != nil && !errors.Is(err, context.Canceled) && j.watch == w && !w.Gone {
		j.eventsErr = "the job's events: " + err.Error()
	}
	if !errors.Is(err, context.Canceled) && !w.Final() {
		w.Unseen = true // until its next event
	}
	return w.Final() && (err == nil || w.Gone)
}

// unwatch stops following the watched job.
func (j *Jobs) unwatch() {
	if j.stopWatch != nil {
		j.stopWatch()
		j.stopWatch = nil
	}
	j.bc.close()
	j.bc, j.eventsErr, j.watchErr = nil, "", "" // the errors were of the job no longer watched
}

// textField draws a labelled text input of the form's setting key
// (field).
func (j *Jobs) textField(key, label, value, placeholder string) app.UI {
	return j.field("job-"+key, textField("job-"+key, label, value, placeholder, j.refused[key], false, func(v string) { j.edit(key, v) }))
}

// field draws ui, a text field (or the loss parameters' fieldset), as a
// keyed of key and the links opened, as the playground's controls do
// (Controls.field): after a link it is a new one, which shows the
// settings. go-app writes a value only when the one drawn changes: a text
// typed since and refused stayed after a link of the same setting, no
// longer marked, and the job queued the setting.
func (j *Jobs) field(key string, ui app.UI) app.UI {
	return &keyed{Key: key + " " + strconv.Itoa(j.links), UI: ui}
}

// selectField draws a labelled select of the form's setting key.
func (j *Jobs) selectField(key, label string, options []string, value string) app.UI {
	return selectField("job-"+key, label, options, value, false, func(v string) { j.edit(key, v) })
}

// edit sets the form's setting key to value, and writes the form in the
// page's URL hash, as the playground does, so that a reload, or Back to
// the page, shows the form as it was left (OnMount reads it); or it says
// why it cannot, and marks its field invalid until it shows another
// value: one it takes, one another edit (a preset, a loss) sets, or the
// settings' once the glyph classes' field is disabled or enabled
// (glyphsField).
//
// A new data set takes the classes typed if it can, else all of them, and
// the Classes field is marked refused with the text (editData): a
// folder's "s01-s20" is no MNIST class.
func (j *Jobs) edit(key, value string) {
	typed := j.form.Classes
	if _, ok := j.refused["classes"]; ok {
		typed = j.classesTyped
	}
	var s Settings
	var err, classesErr error
	if key == "data" {
		s, classesErr, err = editData(j.form, value, typed, j.dataNames())
	} else {
		s, err = EditSettings(j.form, key, value, j.dataNames())
	}
	if err != nil {
		j.refuse(key, err)
		if key == "classes" {
			j.classesTyped = value
		}
		return
	}
	before, after := j.form.formValues(), s.formValues()
	if noGlyphs(j.form) != noGlyphs(s) {
		delete(j.refused, "glyphs")
	}
	if j.form.Loss != s.Loss || j.form.Dim != s.Dim { // the parameters' fields are drawn anew (paramsField)
		for k := range j.refused {
			if isLossParam(k) {
				delete(j.refused, k)
			}
		}
	}
	j.form, j.err = s, ""
	replaceHash(s.Hash())
	delete(j.refused, key)
	for k := range j.refused {
		if before.Get(k) != after.Get(k) {
			delete(j.refused, k)
		}
	}
	if classesErr != nil {
		j.refuse("classes", classesErr)
		j.classesTyped = typed
	}
}

// refuse says why the text of the field key was not taken, and marks the
// field.
func (j *Jobs) refuse(key string, err error) {
	j.err = err.Error()
	if j.refused == nil {
		j.refused = make(map[string]string)
	}
	j.refused[key] = j.err
}

// editData returns s on the data set data (EditSettings), with the
// classes typed, the Classes field's text, when the new data set takes
// them; else with all of them, and why they were not taken (classesErr).
func editData(s Settings, data, typed string, sets []string) (out Settings, classesErr, err error) {
	orig := s
	s.Classes = ""
	if out, err = EditSettings(s, "data", data, sets); err != nil {
		return orig, nil, err
	}
	if typed == "" {
		return out, nil, nil
	}
	withClasses, classesErr := EditSettings(out, "classes", typed, sets)
	if classesErr != nil {
		return out, classesErr, nil
	}
	return withClasses, nil, nil
}

// formValues are the settings of s by key, as a link spells them.
func (s Settings) formValues() url.Values {
	v, _ := url.ParseQuery(strings.TrimPrefix(s.Hash(), "#"))
	return v
}

// status says what the page shows.
func (j *Jobs) status() string {
	running, queued := 0, 0
	for _, job := range j.jobs {
		switch job.State {
		case msg.JobRunning:
			running++
		case msg.JobQueued:
			queued++
		}
	}
	jobs := msg.Plural(len(j.jobs), "job", "jobs")
	if j.offline && !j.listed.IsZero() { // the line under it says why
		jobs += " as of " + j.listed.Format(time.TimeOnly)
	}
	return fmt.Sprintf("%s: %d running, %d queued", jobs, running, queued)
}

// EditSettings returns s with its setting key (a URL hash key: "loss",
// "dim", "batch", …) set to value, checked as the playground's link is
// (ParseHash), or s and the reason when value is not valid. As in the
// playground's controls, a new loss takes its own or the preset's
// parameters (Settings.WithLoss), and a new
// dimension keeps the loss parameters that stay in range (keepParams).
// The link read back has the new loss or dimension from its start, so a
// preset's parameters of another loss do not reach it. A loss parameter
// ("s", "m", …) is set as the playground's controls set it
// (Settings.WithParam): at its default, it follows D.
//
// A preset replaces the recipe fields (Settings.WithPreset).
//
// data takes a data set of Datasets or of sets (the server's, which the
// Jobs page lists), and s's own stands, checked when it was set; the
// classes of a server's folder are taken as typed, for the server to
// check (ParseHash).
func EditSettings(s Settings, key, value string, sets []string) (Settings, error) {
	orig := s
	switch key {
	case "preset":
		return s.WithPreset(value)
	case "loss":
		s = s.WithLoss(value)
	case "dim":
		if d, err := strconv.Atoi(value); err == nil {
			s.Dim, s.Params = d, keepParams(s.Loss, d, s.Params)
		}
	}
	out, notices, n := parseHash(s.Hash()+"&"+url.QueryEscape(key)+"="+url.QueryEscape(value), append(slices.Clone(sets), s.Data))
	if notices = capNotices(notices, n, maxNotices); len(notices) > 0 {
		return orig, errors.New(strings.Join(notices, "; "))
	}
	ps := LossParams(out.Loss, out.Dim)
	if i := slices.IndexFunc(ps, func(p LossParam) bool { return p.Name == key }); i >= 0 {
		out = out.WithParam(ps[i], out.Params[key])
	}
	return out, nil
}

// JobSummary writes a training configuration as "mlp · arcface · D = 3 ·
// mnist 0-1 · 1 epoch" (an uploaded data set with its input, when the
// request names one: "webcam 1x48x48").
func JobSummary(r msg.TrainRequest) string {
	data := r.Data
	if r.Classes != "" {
		data += " " + r.Classes
	}
	if r.Input != "" {
		data += " " + r.Input
	}
	epochs := strconv.Itoa(r.Epochs) + " epochs"
	if r.Epochs == 1 {
		epochs = "1 epoch"
	}
	return fmt.Sprintf("%s · %s · D = %s%s · %s · %s", r.Arch, r.Loss, dimText(r.Dim, r.Views), cropText(r.Crop), data, epochs)
}

// jobExperiment writes the experiment of job (JobSummary) with its
// preset and the fields changed from the preset's recipe, as its record
// lists them ("… · 1 epoch · preset digits, changed: arch, dim"), or says
// that it is unknown when the server could not read the job's record,
// whose configuration comes empty (" ·  · D = 0 ·  · 0 epochs").
func jobExperiment(job msg.Job) string {
	if job.Error == msg.JobUnreadable {
		return "unknown: " + job.Error
	}
	if job.Config.Preset != "" {
		return JobSummary(job.Config) + " · preset " + msg.PresetLine(job.Config.Preset, job.PresetChanges)
	}
	return JobSummary(job.Config)
}

// NewestFirst returns jobs sorted by creation time, newest first (the
// server lists them oldest first); jobs of one time keep their order.
func NewestFirst(jobs []msg.Job) []msg.Job {
	out := slices.Clone(jobs)
	slices.SortStableFunc(out, func(a, b msg.Job) int { return compareCreated(b.Created, a.Created) })
	return out
}

// compareCreated compares two creation times as times: the server writes
// them RFC 3339 with the fraction of a second less its trailing zeros, so
// their text does not sort ("…:08Z" after "…:08.5Z", "…:08.1Z" after
// "…:08.12Z"). Times that are not RFC 3339 are compared as text.
func compareCreated(a, b string) int {
	ta, errA := time.Parse(time.RFC3339Nano, a)
	tb, errB := time.Parse(time.RFC3339Nano, b)
	if errA != nil || errB != nil {
		return strings.Compare(a, b)
	}
	return ta.Compare(tb)
}

// ActiveJob returns the newest job of jobs (newest first) that is running,
// else the newest queued one.
func ActiveJob(jobs []msg.Job) (msg.Job, bool) {
	for _, state := range []string{msg.JobRunning, msg.JobQueued} {
		for _, job := range jobs {
			if job.State == state {
				return job, true
			}
		}
	}
	return msg.Job{}, false
}

// jobSettings returns s as the jobs form takes it: one trainer, nothing
// hidden, no autostart, and the playground's default Web Workers. The
// workers are the browser's way of running the experiment, not part of
// it: a server job trains on the server's cores whatever they are, so
// they go from the form's links without a word (open says nothing of
// them), as hide= and autostart= do.
func jobSettings(s Settings) Settings {
	s.Compare, s.Hide, s.Autostart, s.Workers = nil, nil, false, 0
	return s
}

// stepText writes "120/1875", or "120" when the total is unknown.
func stepText(step, steps int) string {
	if steps > 0 {
		return strconv.Itoa(step) + "/" + strconv.Itoa(steps)
	}
	return strconv.Itoa(step)
}

// modelCell is a job's model: a link to the Models page once the job has
// one, else "–", as its loss is before a step (an empty cell drew a card's
// "model" label with nothing after it).
func (j *Jobs) modelCell(job msg.Job) app.UI {
	if job.ModelID == "" {
		return app.Text("–")
	}
	return app.A().ID("job-model-" + job.ID).Href("/models").Title("model " + job.ModelID).Text(modelNameIn(j.models, job.ModelID))
}

// lossText writes the job's latest loss, "–" before the first step.
func lossText(job msg.Job) string {
	if job.Step == 0 {
		return "–"
	}
	return strconv.FormatFloat(job.Loss, 'f', 4, 64)
}

// cropText is " (crop NAME)" for an encoder that looks at a window of the
// image, "" for the whole image.
func cropText(c msg.Crop) string {
	if c == (msg.Crop{}) {
		return ""
	}
	return " (crop " + msg.ViewName(c) + ")"
}

// dimText writes the embedding dimension of an encoder of D per view:
// "128", or "3 × 128 (whole, upper, lower)" with views.
func dimText(d int, views []msg.Crop) string {
	if len(views) == 0 {
		return strconv.Itoa(d)
	}
	return fmt.Sprintf("%d × %d (%s)", len(views), d, strings.ReplaceAll(msg.FormatViews(views), ",", ", "))
}

// jobScope is the event scope of a job row's buttons: a newer job takes
// the first row, and a handler must act on the job its row shows now, as
// it is now (see fields.go).
func jobScope(job msg.Job) app.EventOption {
	return app.EventScope(job.ID, job.State, job.Step, job.Steps)
}
