package app

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

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
// with what it is, how it was trained and how well it verifies, and links
// to open its experiment in the playground, to download it, and to use it
// for webcam verification.
type Models struct {
	app.Compo

	Client *Client // nil: NewClient() when mounted

	cards   []msg.ModelCard
	loading bool
	err     string
	stop    context.CancelFunc
}

// NewModels returns the page, loading.
func NewModels() *Models { return &Models{loading: true} }

// OnMount starts reading the registry every modelsRefresh while the page
// is seen.
func (m *Models) OnMount(ctx app.Context) {
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
// first), or err beside the cards last read when the registry could not
// be read.
func (m *Models) SetCards(cards []msg.ModelCard, err error) {
	m.loading = false
	if err != nil {
		m.err = "the models could not be read: " + err.Error()
		return
	}
	m.cards, m.err = slices.Clone(cards), ""
	slices.SortStableFunc(m.cards, func(a, b msg.ModelCard) int { return compareCreated(b.Created, a.Created) })
}

// Render draws the page.
func (m *Models) Render() app.UI {
	return app.Div().Class("page models-page").Body(
		app.Header().Class("top").Body(
			app.H1().Text("Models"),
			app.P().ID("models-status").Class("status").Role("status").Text(m.status()),
		),
		app.If(len(m.cards) > 0, func() app.UI {
			return app.Table().ID("models").Class("registry").Body(
				app.THead().Body(app.Tr().Body(
					app.Th().Text("model"), app.Th().Text("encoder · loss · D"), app.Th().Text("classes"),
					app.Th().Text("training"), app.Th().Text("verification"), app.Th().Text("threshold"),
					app.Th().Text("created"), app.Th().Body(app.Span().Class("sr-only").Text("actions")),
				)),
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
	)
}

// row draws one model.
func (m *Models) row(c msg.ModelCard) app.UI {
	r := FormatCard(c)
	return app.Tr().ID("model-"+c.ID).Body(
		app.Td().Class("model-name").Body(app.Strong().Text(r.Name), app.Br(), app.Code().Class("model-id").Text(c.ID)),
		app.Td().Text(r.Model),
		app.Td().Text(r.Classes),
		app.Td().Text(r.Training),
		app.Td().Text(r.Verification),
		app.Td().Text(r.Threshold),
		app.Td().Text(r.Created),
		app.Td().Class("actions").Body(
			app.A().ID("open-"+c.ID).Class("btn").Href(PlaygroundLink(c)).Text("Open in playground"),
			app.A().ID("download-"+c.ID).Class("btn").Href(ModelFileURL(c.ID)).Attr("download", c.FileName()).
				Title(r.Size).Text("Download"),
			app.A().ID("verify-"+c.ID).Class("btn").Href(VerifyLink(c.ID)).Text("Use for verify"),
		),
	)
}

// status says what the page shows.
func (m *Models) status() string {
	switch {
	case m.err != "":
		return m.err
	case m.loading:
		return "loading the models…"
	case len(m.cards) == 0:
		return "no models yet: train one on the Jobs page, or upload a .safetensors file to POST /api/models"
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
	Training     string // "1875 steps on mnist", "uploaded"
	Verification string // "accuracy 97.1%, EER 3.2%", "–"
	Threshold    string // "cos 0.412 (65.7°) at FAR 0.1%"
	Created      string // "2025-11-28 23:48"
	Size         string // "1.2 MB"
}

// FormatCard returns the row of the registry of c.
func FormatCard(c msg.ModelCard) ModelRow {
	r := ModelRow{
		Name:         c.Name,
		Model:        fmt.Sprintf("%s · %s · D = %s%s", c.Arch, c.Loss, dimText(c.Dim, c.Views), cropText(c.Crop)),
		Classes:      strconv.Itoa(max(c.NumClasses, len(c.Classes))), // a card stored before NumClasses has 0
		Training:     "uploaded",
		Verification: "–",
		Created:      formatCreated(c.Created),
		Size:         formatBytes(c.Size),
	}
	if r.Name == "" {
		r.Name = c.ID
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
		if c.Preset != "" {
			r.Training += ", preset " + c.Preset
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
	if c.Data == "mnist" || c.Data == "" {
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
