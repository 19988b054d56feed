package app

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"metriclab/core/msg"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// TrainerPanel shows one trainer: its status line, the hypersphere viewer
// (an <iframe> of web/viz.html listening on Channel), the loss and accuracy
// curves, the histogram of genuine and impostor angles with the threshold,
// the speed and time left, the verification figures of each epoch end, the
// export buttons, and a Restart button when its worker crashed.
type TrainerPanel struct {
	app.Compo

	Index      int    // 0..MaxTrainers-1
	Compare    bool   // several panels: the status element is id="status-<Index>"
	Run        Run    // what the trainer said last
	Channel    string // the BroadcastChannel of its viewer
	Dim        string // the embedding's D: "128", or "3 × 128 (whole, upper, lower)" (dimText)
	Params     string // the loss parameters it trains with, "s = 30, m = 0.3" (paramsText); "" for the loss's defaults
	HideExport bool

	OnRestart func()
	OnExport  func(kind string) // "model", "tsv" or "png"
}

// Render draws the panel.
func (t *TrainerPanel) Render() app.UI {
	r := &t.Run
	statusID := "panel-status-" + strconv.Itoa(t.Index)
	if t.Compare {
		statusID = "status-" + strconv.Itoa(t.Index)
	}
	p := r.Progress
	return app.Section().ID("trainer-"+strconv.Itoa(t.Index)).Class("panel state-"+r.State).Body(
		app.Header().Class("panel-head").Body(
			app.H2().Text(t.lossText()+" · D = "+t.Dim),
			app.P().ID(statusID).Class("status").Text(r.Status()),
		),
		// In a slot, there without an error: go-app matches children by
		// place, and an error that came in the viewer's place would
		// reload it, the run's last picture lost.
		app.Div().Class("slot").Body(app.If(r.State == msg.StateFailed || r.State == StateCrashed, func() app.UI {
			return app.Div().Class("crash").Body(
				app.P().Text(r.Err),
				app.If(r.Can("restart"), func() app.UI {
					return app.Button().ID("btn-restart-" + strconv.Itoa(t.Index)).Type("button").Class("btn btn-restart").Text("Restart trainer").
						OnClick(func(ctx app.Context, e app.Event) {
							if t.OnRestart != nil {
								t.OnRestart()
							}
						})
				}),
			)
		})),
		t.viewer(),
		app.Div().Class("figures").Body(
			figure("img/s", speed(p.ImgPerS)),
			figure("time left", eta(r)),
			figure("epoch", strconv.Itoa(p.Epoch)),
			figure("lr", lr(p.LR)),
			figure("workers", workersText(r.Workers)),
		),
		app.Div().Class("charts").Body(
			app.Raw(LineChartSVG("loss", r.LossLine, nil, "chart-loss")),
			app.Raw(LineChartSVG(AccuracyTitle(r.Request), r.AccLine, &Range{0, 1}, "chart-acc")),
			app.Raw(HistogramSVG(r.Genuine, r.Impostor, r.Threshold, r.HasSnapshot)),
		),
		app.If(len(r.Epochs) > 0, func() app.UI { return t.verification() }),
		app.If(!t.HideExport, func() app.UI {
			return app.Div().Class("export").Body(
				t.exportButton("model", "Model (.safetensors)", r.Can("export")),
				t.exportButton("tsv", "vectors.tsv + metadata.tsv", r.Can("export")),
				// Once the viewer has a picture: before the first
				// snapshot it saved the empty viewer's dark square.
				t.exportButton("png", "Sphere (PNG)", r.HasSnapshot),
			)
		}),
	)
}

// viewer draws the viewer's iframe: without its page until there is a
// channel (the page the server renders first has none, and the playground
// gives none until a trainer is ready), so that the viewer loads once,
// when the page runs, and after the trainer.
func (t *TrainerPanel) viewer() app.UI {
	f := app.IFrame().ID(ViewerID(t.Index)).Class("viewer").Title("hypersphere of " + t.Run.Loss)
	if t.Channel != "" {
		f = f.Src(ViewerURL(t.Channel, !t.Compare))
	}
	return f
}

// lossText names the panel's loss with the parameters it trains with,
// "arcface (s = 30, m = 0.3)": in compare mode the form shows none, and
// a link's reach one panel.
func (t *TrainerPanel) lossText() string {
	if t.Params == "" {
		return t.Run.Loss
	}
	return t.Run.Loss + " (" + t.Params + ")"
}

// verification draws the table of verification figures, one row per
// epoch end.
func (t *TrainerPanel) verification() app.UI {
	eps := t.Run.Epochs
	fars := farKeys(eps)
	return app.Table().Class("verification").Body(
		// Says what each figure is: with few pairs (a Verify page's
		// training holds out a tenth of a few dozen snapshots) a fold's
		// threshold, chosen on the others, can miss pairs that one
		// threshold over all pairs separates: accuracy 83.3% beside an
		// EER of 0.0% (eval.Verification).
		app.Caption().Text("1:1 verification on held-out pairs: accuracy across folds, each at the threshold chosen on the others; EER, and the threshold of best accuracy, over all pairs"),
		app.THead().Body(app.Tr().Body(
			app.Th().Text("epoch"), app.Th().Text("accuracy"), app.Th().Text("EER"), app.Th().Text("threshold"),
			app.Range(fars).Slice(func(i int) app.UI { return app.Th().Text("TAR@FAR=" + fars[i]) }),
		)),
		app.TBody().Body(app.Range(eps).Slice(func(i int) app.UI {
			e := eps[i]
			return app.Tr().Body(
				app.Td().Text(strconv.Itoa(e.Epoch)),
				app.Td().Text(percent(e.Accuracy)),
				app.Td().Text(percent(e.EER)),
				app.Td().Text(fmt.Sprintf("%.3f", e.Threshold)),
				app.Range(fars).Slice(func(j int) app.UI { return app.Td().Text(percent(e.TARAtFAR[fars[j]])) }),
			)
		})),
	)
}

// exportButton draws the button of one kind of export.
func (t *TrainerPanel) exportButton(kind, label string, enabled bool) app.UI {
	return app.Button().ID(fmt.Sprintf("btn-export-%s-%d", kind, t.Index)).Type("button").Class("btn btn-export").
		Disabled(!enabled).Text(label).
		OnClick(func(ctx app.Context, e app.Event) {
			if t.OnExport != nil {
				t.OnExport(kind)
			}
		})
}

// ViewerID returns the id of the viewer iframe of trainer i.
func ViewerID(i int) string { return "viewer-" + strconv.Itoa(i) }

// ViewerURL returns the URL of a viewer listening on channel, turning the
// sphere by itself when rotate is set. Compare mode shows four viewers on
// one page and asks them not to rotate: each repaint costs the page's main
// thread (WebGL may run in software), and the spheres still move with each
// snapshot and turn when dragged.
func ViewerURL(channel string, rotate bool) string {
	u := "/web/viz.html?channel=" + url.QueryEscape(channel)
	if !rotate {
		u += "&rotate=0"
	}
	return u
}

// figure draws one labelled number.
func figure(label, value string) app.UI {
	return app.Div().Class("figure").Body(app.Span().Class("value").Text(value), app.Span().Class("label").Text(label))
}

// paramsText writes the loss parameters params of loss at D = dim,
// "s = 30, m = 0.3", in the order of the loss's parameters (LossParams),
// any other after them by name; "" for none, every parameter at its
// default.
func paramsText(loss string, dim int, params map[string]float64) string {
	names := make([]string, 0, len(params))
	for _, p := range LossParams(loss, dim) {
		if _, ok := params[p.Name]; ok {
			names = append(names, p.Name)
		}
	}
	var rest []string
	for k := range params {
		if !slices.Contains(names, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	parts := make([]string, 0, len(params))
	for _, k := range append(names, rest...) {
		parts = append(parts, k+" = "+FormatNumber(params[k]))
	}
	return strings.Join(parts, ", ")
}

// speed writes a throughput, "–" when unknown.
func speed(imgPerS float64) string {
	if imgPerS <= 0 {
		return "–"
	}
	return strconv.FormatFloat(imgPerS, 'f', 0, 64)
}

// eta writes the time left of a running trainer.
func eta(r *Run) string {
	if r.State != msg.StateRunning || r.Progress.ETA <= 0 {
		return "–"
	}
	return Duration(r.Progress.ETA)
}

// workersText writes a run's number of Web Workers, "–" before a run.
func workersText(n int) string {
	if n < 1 {
		return "–"
	}
	return strconv.Itoa(n)
}

// lr writes a learning rate, "–" when unknown.
func lr(v float64) string {
	if v <= 0 {
		return "–"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// percent writes a fraction as a percentage with one decimal.
func percent(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

// farKeys returns the FARs of the TAR@FAR figures of eps, sorted by value.
func farKeys(eps []EpochFigures) []string {
	seen := map[string]bool{}
	var keys []string
	for _, e := range eps {
		for k := range e.TARAtFAR {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, errA := strconv.ParseFloat(keys[i], 64)
		b, errB := strconv.ParseFloat(keys[j], 64)
		if errA != nil || errB != nil {
			return keys[i] < keys[j]
		}
		return a > b
	})
	return keys
}
