package app

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"metriclab/core/msg"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// modelsRefresh is how often the Models page reads the registry again:
// a model registered or deleted since (by a job, another tab, the API)
// shows without a reload, and a read that failed is tried again. Less
// often than the Jobs page's list, which follows training (a variable
// for the tests).
var modelsRefresh = 10 * time.Second

// Models is the page of the server's model registry: one row per model
// with what it is, how it was trained and how well it verifies, links to
// open its experiment in the playground, to download it, and to use it
// for webcam verification, its Rename (modelsedit.go) and its Delete, in
// two steps: Delete asks, Confirm delete deletes, Keep or Escape leaves
// the model. Above the table, the upload of a model file (modelsedit.go).
type Models struct {
	app.Compo

	Client *Client // nil: NewClient() when mounted

	cards   []msg.ModelCard
	loading bool
	err     string
	stop    context.CancelFunc

	// confirm is the row that asks Keep or Confirm delete (deleteSlot);
	// deleting holds the models whose DELETE is on its way: their
	// buttons wait for the answer.
	confirm  confirmStep
	deleting map[string]bool
	// deleted holds the models this page deleted: a read of the registry
	// started before a delete and answered after it lists its model, and
	// would show its row again until the next read.
	deleted map[string]bool
	note    string // the latest write under way or done: "deleted NAME", "renamed A to B"
	delErr  string // why the latest write (upload, rename, delete: the name is older) failed; the next one's answer replaces it

	// uploading is the file whose upload is on its way ("" for none): the
	// file input waits for its answer; upName is the name field's text
	// ("" for the file's name). upSent of upTotal bytes of it are sent
	// (0 of 0 before the browser tells: modelUploadNote), upCancel aborts
	// it (its Cancel upload, until the file is all sent), and upCancelled
	// says it was asked to; upSeq numbers the uploads, so that a progress
	// told late of one that ended is dropped.
	uploading       string
	upName          string
	upSent, upTotal int64
	upCancel        context.CancelFunc
	upCancelled     bool
	upSeq           int
	// renaming is the model whose name cell is its rename form ("" for
	// none), renameTo the form's text, renameBusy while its rename is on
	// its way.
	renaming   string
	renameTo   string
	renameBusy bool
	// focused is the id of the element the page gave the keyboard's
	// focus last (focus; outside a browser, the one it would have).
	focused string

	// mounted is the page's context: the answer of a delete is dispatched
	// through it, as the Jobs page's answers are. Its button's context is
	// its row's, and go-app drops what is dispatched to an element no
	// longer there (a row a read of the registry dropped meanwhile).
	mounted app.Context
}

// NewModels returns the page, loading.
func NewModels() *Models { return &Models{loading: true} }

// OnMount starts reading the registry every modelsRefresh while the page
// is seen.
func (m *Models) OnMount(ctx app.Context) {
	m.mounted = ctx
	if !app.IsClient {
		return
	}
	c, stop := context.WithCancel(ctx)
	m.stop = stop
	if m.Client == nil {
		m.Client = NewClient()
	}
	client := m.Client
	ctx.Async(func() { m.refresh(ctx, c, client, watchVisibility(c)) })
}

// refresh loads the registry every modelsRefresh until c is done, and
// none while page is hidden (every).
func (m *Models) refresh(ctx app.Context, c context.Context, client *Client, page visibility) {
	every(c, modelsRefresh, page, func() { m.load(ctx, c, client) })
}

// load reads the registry, in requestTimeout at most (a server that never
// answered left "loading the models…" for good), and shows it, unless the
// page is gone (c done).
func (m *Models) load(ctx app.Context, c context.Context, client *Client) {
	rc, cancel := context.WithTimeout(c, requestTimeout)
	defer cancel()
	cards, err := client.Models(rc)
	if c.Err() != nil {
		return
	}
	ctx.Dispatch(func(ctx app.Context) { m.SetCards(cards, err) })
}

// OnDismount stops reading the registry.
func (m *Models) OnDismount() {
	if m.stop != nil {
		m.stop()
	}
}

// SetCards shows cards, newest first (the server lists them oldest
// first), less those the page deleted (a read started before their
// delete lists them), or err beside the cards last read when the
// registry could not be read.
func (m *Models) SetCards(cards []msg.ModelCard, err error) {
	m.loading = false
	if err != nil {
		m.err = "the models could not be read: " + err.Error()
		return
	}
	m.cards, m.err = slices.DeleteFunc(slices.Clone(cards), func(c msg.ModelCard) bool { return m.deleted[c.ID] }), ""
	slices.SortStableFunc(m.cards, func(a, b msg.ModelCard) int { return compareCreated(b.Created, a.Created) })
	if m.index(m.confirm.row) < 0 {
		m.confirm.row = "" // deleted elsewhere
	}
	if m.index(m.renaming) < 0 && !m.renameBusy {
		m.renaming = "" // deleted elsewhere
	}
}

// Render draws the page.
func (m *Models) Render() app.UI {
	return app.Div().ID("models-page").Class("page models-page").On("dragover", dragOver).On("drop", m.dropped).Body(
		app.Header().Class("top").Body(
			// Focusable from code alone: it takes the focus when the
			// last model is deleted (removed).
			app.H1().ID("models-title").TabIndex(-1).Text("Models"),
			app.P().ID("models-status").Class("status").Role("status").Text(m.status()),
		),
		// As on the Jobs page: the note, polite, is there empty (drawn
		// as nothing: CSS :empty), so that a screen reader reads it as it
		// changes; the error of a write (an upload, a rename, a delete),
		// which the user asked for, is an alert, after it: go-app matches children by their place, and
		// an alert that came before the note would take its element.
		// Both in a slot, so that the table after them is not drawn again
		// when the error comes or goes.
		app.Div().Class("slot").Body(
			app.P().ID("models-note").Class("note").Role("status").Text(m.note),
			app.If(m.delErr != "", func() app.UI { return app.P().ID("models-error").Class("notices").Role("alert").Text(m.delErr) }),
		),
		app.If(len(m.cards) > 0, func() app.UI {
			return app.Table().ID("models").Class("registry").Body(
				app.THead().Body(app.Tr().Body(heads(modelColumns[:]...)...)),
				app.TBody().Body(app.Range(m.cards).Slice(func(i int) app.UI {
					// Keyed by the model: a model registered or deleted
					// since moves the rows after it, and go-app would update
					// each row in place with another model's (a link that
					// has the focus would open another model).
					return &keyed{Key: "model " + m.cards[i].ID, UI: m.row(m.cards[i])}
				})),
			)
		}),
		app.If(len(m.cards) > 0, func() app.UI { // of a button that an empty registry does not show
			return app.P().ID("models-hint").Class("note").Text("“Use for verify” opens the webcam Verify page with the model as its encoder.")
		}),
		// After the table, so that the rows come first; with the token
		// field, which an upload, a rename and a delete need in classroom
		// mode.
		m.uploadForm(),
		app.Div().Class("models-token").Body(&TokenField{ID: "models-token"}),
	)
}

// modelColumns are the heads of the Models table's columns but the
// actions': its head draws them (heads), and each cell of a row but the
// model's, which a narrow window draws as the title of the row's card,
// carries its own (data-label), which such a window shows before it
// (web/metriclab.css: table.registry td[data-label]::before).
var modelColumns = [...]string{"model", "encoder · loss · D", "classes", "training", "verification", "threshold", "created"}

// heads returns the head cells of a registry table (Models, Jobs) of
// the columns named, and the actions' last, named for a screen reader
// alone.
func heads(names ...string) []app.UI {
	ths := make([]app.UI, 0, len(names)+1)
	for _, n := range names {
		ths = append(ths, app.Th().Text(n))
	}
	return append(ths, app.Th().Body(app.Span().Class("sr-only").Text("actions")))
}

// row draws one model.
func (m *Models) row(c msg.ModelCard) app.UI {
	r, name, col := FormatCard(c), m.nameOf(c), modelColumns
	return app.Tr().ID("model-"+c.ID).Body(
		app.Td().Class(wrapClass("model-name", r.Name)).Body(m.nameCell(c, r.Name), app.Br(), app.Code().Class("model-id").Text(c.ID)),
		app.Td().Class(wrapClass("", r.Model)).DataSet("label", col[1]).Text(r.Model),
		app.Td().Class(wrapClass("", r.Classes)).DataSet("label", col[2]).Text(r.Classes),
		app.Td().Class(wrapClass("", r.Training)).DataSet("label", col[3]).Text(r.Training),
		app.Td().DataSet("label", col[4]).Text(r.Verification),
		app.Td().DataSet("label", col[5]).Text(r.Threshold),
		app.Td().DataSet("label", col[6]).Text(r.Created),
		app.Td().Class("actions").Body(
			// Each names its model, as Delete does (deleteSlot): a
			// screen reader's list of the page's links read "Download"
			// once a row.
			app.If(InPlayground(c), func() app.UI {
				return app.A().ID("open-"+c.ID).Class("btn").Href(PlaygroundLink(c)).Aria("label", "open in playground: model "+name).Text("Open in playground")
			}),
			app.A().ID("download-"+c.ID).Class("btn").Href(ModelFileURL(c.ID)).Attr("download", c.FileName()).
				Title(r.Size).Aria("label", "download model "+name).Text("Download"),
			app.A().ID("verify-"+c.ID).Class("btn").Href(VerifyLink(c.ID)).Aria("label", "use for verify: model "+name).Text("Use for verify"),
			app.If(m.renaming != c.ID, func() app.UI { return m.renameButton(c) }),
			m.confirm.slot(m.deleteSlot(c)),
		),
	)
}

// longWord is the most runes of a word that a cell of the Models table
// breaks between words only (wrapClass): a model's id has 16.
const longWord = 24

// wrapClass returns the classes of a cell of class class (or none) that
// shows text: with "long" where a word of text is longer than longWord
// (a model's name of one word, an upload's, up to 100 characters; a class
// name or a data set's, up to 256), which breaks anywhere (CSS td.long)
// rather than run off the table. The other cells break between words
// only: a cell that might break anywhere has a width of one character to
// the table, which then broke "uploaded" in two to make room for the
// buttons.
func wrapClass(class, text string) string {
	for _, w := range strings.Fields(text) {
		if utf8.RuneCountInString(w) > longWord {
			return strings.TrimSpace(class + " long")
		}
	}
	return class
}

// deleteSlot is the slot of model c's Delete (confirmStep.slot): its
// buttons each name the model (nameOf).
func (m *Models) deleteSlot(c msg.ModelCard) confirmSlot {
	name, id := m.nameOf(c), c.ID
	return confirmSlot{Row: id, Scope: app.EventScope(id), Busy: func() bool { return m.deleting[id] }, Focus: m.focus,
		Ask:     confirmButton{"delete-" + id, "Delete", "delete model " + name},
		Confirm: confirmButton{"confirm-delete-" + id, "Confirm delete", "confirm delete of model " + name},
		Keep:    confirmButton{"keep-" + id, "Keep", "keep model " + name},
		Act:     func(ctx app.Context) { m.remove(ctx, c) },
	}
}

// remove deletes model c, unless its delete is on its way, then reads
// the registry, as the Jobs page reads its list after a Cancel: after a
// refusal too, which shows the model as it is now. A model deleted
// leaves the page, and the note says so; one not found (404: deleted in
// another tab) was deleted all the same, unless the read after it lists
// it (a 404 of a proxy, say); one the server refused stays,
// its row back to Delete, and the alert says why. The focus, on the
// row's buttons (or lost with them), goes to the Delete of the model
// after it when Confirm delete was pressed, else of the one before, else
// to the page's heading.
func (m *Models) remove(ctx app.Context, c msg.ModelCard) {
	if m.Client == nil || m.deleting[c.ID] {
		return
	}
	if m.deleting == nil {
		m.deleting = make(map[string]bool)
	}
	name := m.nameOf(c)
	m.deleting[c.ID], m.note = true, "deleting "+name+"…"
	// Its row as Confirm delete is pressed (rowPlace).
	place := placeOf(m.cards, func(o msg.ModelCard) string { return o.ID }, c.ID)
	client, page := m.Client, m.mounted
	ctx.Async(func() {
		rc, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		err := client.DeleteModel(rc, c.ID)
		cards, listErr := client.Models(rc)
		page.Dispatch(func(ctx app.Context) {
			delete(m.deleting, c.ID)
			switch listed := listErr == nil && slices.ContainsFunc(cards, func(o msg.ModelCard) bool { return o.ID == c.ID }); {
			case notFound(err) && !listed: // another tab's delete; a model listed after its 404 is not gone
				m.delErr, m.note = "", name+" was already deleted"
				err = nil
			case err != nil:
				m.delErr, m.note = "could not delete "+name+": "+err.Error(), ""
			default:
				m.delErr, m.note = "", "deleted "+name
			}
			if err == nil {
				if m.deleted == nil {
					m.deleted = make(map[string]bool)
				}
				m.deleted[c.ID] = true
			}
			if m.confirm.row == c.ID {
				m.confirm.row = ""
			}
			m.SetCards(cards, listErr)
			if listErr != nil && err == nil { // the cards shown are those read before
				m.cards = slices.DeleteFunc(m.cards, func(o msg.ModelCard) bool { return o.ID == c.ID })
			}
			m.focus(place.focus(m.cards, func(o msg.ModelCard) string { return "delete-" + o.ID }, "models-title"), []string{"keep-" + c.ID, "confirm-delete-" + c.ID, "delete-" + c.ID})
		})
	})
}

// focus gives the keyboard's focus to the element of id once the render
// under way has drawn it (focusDrawn), through the page's context, not
// the handler's: the element of the button pressed may be gone with the
// render (Delete, once pressed).
func (m *Models) focus(id string, from []string) { focusDrawn(m.mounted, &m.focused, id, from) }

// nameOf is how the page names model c: its name (its id when it has
// none), with its id when another model listed has the same name (an
// upload without one is "uploaded model").
func (m *Models) nameOf(c msg.ModelCard) string {
	name := cardName(c)
	for _, o := range m.cards {
		if o.ID != c.ID && cardName(o) == name {
			return name + " (" + c.ID + ")"
		}
	}
	return name
}

// cardName is the name of the model of c, its id when it has none.
func cardName(c msg.ModelCard) string { return cmp.Or(c.Name, c.ID) }

// index returns the row of model id, -1 when it is not listed.
func (m *Models) index(id string) int {
	return slices.IndexFunc(m.cards, func(c msg.ModelCard) bool { return c.ID == id })
}

// status says what the page shows.
func (m *Models) status() string {
	switch {
	case m.err != "":
		return m.err
	case m.loading:
		return "loading the models…"
	case len(m.cards) == 0:
		return "no models yet: train one on the Jobs page, or upload a .safetensors file"
	case len(m.cards) == 1:
		return "1 model"
	}
	return strconv.Itoa(len(m.cards)) + " models"
}

// ModelRow is a model card in words, one string per column of the
// registry.
type ModelRow struct {
	Name         string
	Model        string // "lenet-s · arcface · D = 3"
	Classes      string // "10: 0, 1, …, 9"
	Training     string // "1875 steps on mnist", "… on mnist, preset digits, changed: arch, dim", "uploaded"
	Verification string // "accuracy 97.1%, EER 3.2%", "–"
	Threshold    string // "cos 0.412 (65.7°) at FAR 0.1%"
	Created      string // "2025-11-28 23:48"
	Size         string // "1.2 MB"
}

// FormatCard returns the row of the registry of c.
func FormatCard(c msg.ModelCard) ModelRow {
	r := ModelRow{
		Name:         cardName(c),
		Model:        fmt.Sprintf("%s · %s · D = %s%s", c.Arch, c.Loss, dimText(c.Dim, c.Views), cropText(c.Crop)),
		Classes:      strconv.Itoa(max(c.NumClasses, len(c.Classes))), // a card stored before NumClasses has 0
		Training:     "uploaded",
		Verification: "–",
		Created:      formatCreated(c.Created),
		Size:         formatBytes(c.Size),
	}
	if len(c.Classes) > 0 {
		shown := c.Classes
		switch {
		case len(shown) < c.NumClasses: // the first ones only (msg.MaxCardClasses)
			shown = append(slices.Clone(shown[:min(2, len(shown))]), "…")
		case len(shown) > 6:
			shown = append(slices.Clone(shown[:2]), "…", shown[len(shown)-1])
		}
		r.Classes += ": " + strings.Join(shown, ", ")
	}
	if c.Steps > 0 {
		r.Training = fmt.Sprintf("%d steps on %s", c.Steps, c.Data)
		if c.Preset != "" { // with the fields its recipe changed, as its card lists them
			r.Training += ", preset " + msg.PresetLine(c.Preset, c.PresetChanges)
		}
	}
	if c.Metrics != nil {
		r.Verification = fmt.Sprintf("accuracy %s, EER %s", percent(c.Metrics.Accuracy), percent(c.Metrics.EER))
	}
	deg := math.Acos(max(-1, min(1, c.Threshold))) * 180 / math.Pi
	r.Threshold = fmt.Sprintf("cos %.3f (%.1f°)", c.Threshold, deg)
	if c.FAR > 0 {
		r.Threshold += " at FAR " + strconv.FormatFloat(100*c.FAR, 'g', 3, 64) + "%"
	}
	if !msg.HasThreshold(c.Threshold, c.FAR) {
		r.Threshold = "none (no held-out pairs)"
	}
	return r
}

// InPlayground reports whether the playground can train the experiment
// of c: it trains on MNIST only, so c was trained on MNIST (a card that
// names no data set is taken as MNIST's, as PlaygroundLink takes its
// classes). The Models page offers Open in playground for those only: a
// webcam faces model's opened an MNIST experiment with nothing of the
// model but its loss and views.
func InPlayground(c msg.ModelCard) bool { return c.Data == "mnist" || c.Data == "" }

// PlaygroundLink returns the link that opens the experiment of c in the
// playground: its data (MNIST only), classes, encoder, loss with its
// parameters and dimension, each when the playground offers it, the
// playground's defaults for the rest.
func PlaygroundLink(c msg.ModelCard) string {
	s := DefaultSettings()
	if slices.Contains(Archs(), c.Arch) {
		s.Arch = c.Arch
	}
	if slices.Contains(LossNames(), c.Loss) {
		s.Loss = c.Loss
	}
	if slices.Contains(Dims(), c.Dim) {
		s.Dim = c.Dim
	}
	var views []msg.Crop // each window once: a joined model's repeat (metriclab join), a recipe trains each once
	for _, v := range c.Views {
		if !slices.Contains(views, v) {
			views = append(views, v)
		}
	}
	if len(views) > 1 {
		s.Views = msg.FormatViews(views)
	}
	for _, p := range LossParams(s.Loss, s.Dim) {
		if v, ok := c.LossParams[p.Name]; ok && s.Loss == c.Loss && checkParam(p, strconv.FormatFloat(v, 'g', -1, 64)) == nil {
			if s.Params == nil {
				s.Params = make(map[string]float64)
			}
			s.Params[p.Name] = v
		}
	}
	if InPlayground(c) {
		s.Classes = mnistClasses(c.Classes)
	}
	return "/" + s.Hash()
}

// ModelFileURL returns the URL of the .safetensors file of model id.
func ModelFileURL(id string) string { return "/api/models/" + url.PathEscape(id) + "/file" }

// VerifyLink returns the link of the verify page with model id.
func VerifyLink(id string) string { return "/verify?model=" + url.QueryEscape(id) }

// mnistClasses returns the playground's classes= of a model trained on the
// MNIST digits names: "" for all ten or for names that are not digits,
// else the digits joined by commas.
func mnistClasses(names []string) string {
	if len(names) == 10 || len(names) < 2 {
		return ""
	}
	if _, err := ParseClasses(strings.Join(names, ",")); err != nil {
		return ""
	}
	for _, n := range names {
		if len(n) != 1 {
			return "" // "0-4" would parse, but is no class name
		}
	}
	return strings.Join(names, ",")
}

// formatCreated writes an RFC 3339 time as "2025-11-28 23:48" (UTC as the
// server wrote it), or as it is when it is not one.
func formatCreated(s string) string {
	if len(s) >= 16 && s[10] == 'T' {
		return s[:10] + " " + s[11:16]
	}
	return s
}

// formatBytes writes a size in bytes as "812 B", "34.5 kB" or "1.2 MB".
// A size that rounds to 1000.0 kB is "1.0 MB".
func formatBytes(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " B"
	case n < 999_950:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + " kB"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
}
