package app

import (
	"fmt"
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// EncoderPanel is the verify page's encoder: the training settings and
// Train, loading a model file or a model of the server's registry, the
// trainer's panel while it trains, and, once the encoder is ready, the
// calibration of the threshold on the enrollments.
type EncoderPanel struct {
	app.Compo

	S         VerifyState
	HasWorker bool

	OnSet       func(key, value string) // "loss", "dim", "epochs"
	OnTrain     func()
	OnModelFile func(b []byte, err error, what string) // what: "model file x.safetensors", or "the model file" of no name
	OnModel     func(id string)
	OnLoadModel func()
	OnFAR       func(far float64) // at each step of the FAR slider
	OnKeepFAR   func()            // once it is let go (its change): the page keeps the FAR in IndexedDB
}

// Render draws the panel.
func (p *EncoderPanel) Render() app.UI {
	s := &p.S
	busy := s.Busy()
	return app.Section().ID("encoder").Class("panel encoder").Body(
		app.H2().Text("Encoder"),
		app.Div().Class("fields").Body(
			selectField("verify-loss", "loss", LossNames(), s.Loss, busy, func(v string) { p.OnSet("loss", v) }),
			selectField("verify-dim", "D", []string{"3", "8", "16", "32", "64"}, strconv.Itoa(s.Dim), busy, func(v string) { p.OnSet("dim", v) }),
			numberField("verify-epochs", "epochs", float64(s.Epochs), 1, 500, true, busy, "", func(v float64) { p.OnSet("epochs", FormatNumber(v)) }),
		),
		app.Button().ID("btn-train").Type("button").Class("btn btn-primary").Disabled(!s.CanTrain(p.HasWorker)).
			Title("train on the enrolled identities (two at least)").Text("Train").
			OnClick(func(ctx app.Context, e app.Event) { p.OnTrain() }),
		app.Div().Class("load").Body(
			app.Label().For("model-file").Class("btn").Text("Load model file"),
			app.Input().ID("model-file").Type("file").Accept(".safetensors").Class("hidden-file").Disabled(busy).
				OnChange(func(ctx app.Context, e app.Event) {
					what := "the model file" // none chosen, or a file of no name
					if fs := ctx.JSSrc().Get("files"); fs.Truthy() && fs.Length() > 0 && fs.Index(0).Get("name").String() != "" {
						what = "model file " + fs.Index(0).Get("name").String()
					}
					readFile(ctx.JSSrc(), maxModelFile, func(b []byte, err error) {
						ctx.Dispatch(func(ctx app.Context) { p.OnModelFile(b, err, what) })
					})
				}),
			app.If(len(s.Models) > 0, func() app.UI {
				ids, names := make([]string, len(s.Models)), make([]string, len(s.Models))
				for i, c := range s.Models {
					ids[i], names[i] = c.ID, modelName(c)
				}
				return app.Div().Class("registry").Body(
					selectFieldText("verify-model", "server model", ids, names, s.ModelID, busy, p.OnModel),
					app.Button().ID("btn-load-registry").Type("button").Class("btn").Disabled(busy || s.ModelID == "").Text("Load from server").
						OnClick(func(ctx app.Context, e app.Event) { p.OnLoadModel() }),
				)
			}),
			app.P().ID("model-note").Class("note").Role("status").Text(s.ModelNote), // there empty: a live region

		),
		// Not a live region: it changes at each step of a training; the
		// line after it says the encoder's state to screen readers.
		app.P().ID("train-status").Class("status").Text(s.TrainStatus()),
		app.P().ID("train-status-live").Class("sr-only").Role("status").Text(s.TrainStateLine()),
		app.If(s.Phase == PhaseTraining || len(s.Run.LossLine) > 0, func() app.UI {
			return &TrainerPanel{Index: 0, Run: s.Run, Channel: s.channel, Dim: strconv.Itoa(s.Dim), HideExport: true}
		}),
		app.If(len(s.Run.Epochs) > 0, func() app.UI {
			return app.P().ID("training-check").Class("note").Text(TrainingCheckNote)
		}),
		app.If(s.Phase == PhaseReady, func() app.UI { return p.calibration() }),
	)
}

// TrainingCheckNote says, under the training's panel, what its figures
// are, which differ from the calibration's: the trainer's own check on
// the snapshots it held out of the images it was given, its threshold of
// best accuracy (the histogram's "threshold 53°"), where the threshold in
// use is the calibration's, for a false accept rate, on the snapshots the
// page held out (cos 0.640, 50.2°).
const TrainingCheckNote = "The training's figures and its threshold are its own check, of best accuracy on a tenth of its training snapshots; the threshold in use is the calibration's, for the false accept rate chosen, on the snapshots held out of the training."

// calibration draws what the threshold was calibrated on, the FAR slider
// and the histogram of the genuine and impostor angles with the
// threshold.
func (p *EncoderPanel) calibration() app.UI {
	s := &p.S
	c := s.Calib
	return app.Div().ID("calibration").Class("calibration").Body(
		app.H3().Text("Calibration"),
		app.P().ID("calibrated-on").Class("note").Text(s.CalibratedOn()),
		app.Label().For("far").Text("false accept rate "+FormatNumber(100*s.FAR)+"%"),
		app.Input().ID("far").Type("range").Min(0.001).Max(MaxFAR).Step(0.001).Value(s.FAR).
			OnInput(func(ctx app.Context, e app.Event) {
				if x, err := strconv.ParseFloat(ctx.JSSrc().Get("value").String(), 64); err == nil {
					p.OnFAR(x)
				}
			}).
			OnChange(func(ctx app.Context, e app.Event) { p.OnKeepFAR() }),
		// Not a live region: it changes at each step of the FAR's slider,
		// under the user's hand, whose value the slider says; the line
		// stays to be read, right after it, once it is let go.
		app.P().ID("suggested").Class("note").Text(p.suggestion()),
		app.Raw(HistogramSVG(AngleHistogram(c.Genuine, angleBins), AngleHistogram(c.Impostor, angleBins), Threshold{Cos: s.Threshold, Set: true}, true)),
	)
}

// suggestion says which threshold the calibration suggests, and on how
// many scores (with one identity, the model's own, at the FAR of its
// training), or why it suggests none; and, when the threshold in use
// was set by hand, that it stays until a false accept rate is chosen.
func (p *EncoderPanel) suggestion() string {
	s := &p.S
	c := s.Calib
	const none = "no suggested threshold: one identity gives no impostor scores and the model has no threshold of its own"
	var text string
	switch {
	case s.NoSuggestion() && s.handSet:
		text = fmt.Sprintf(none+"; %d genuine scores", len(c.Genuine))
	case s.NoSuggestion():
		return fmt.Sprintf(none+"; the threshold is %s, which rejects everyone, until a second person is enrolled or it is set by hand; %d genuine scores",
			FormatScore(c.Threshold), len(c.Genuine))
	case s.ModelThreshold() && len(c.Impostor) > 0: // the model's own (calibrate): it was trained on these people
		text = fmt.Sprintf("suggested threshold %s, the model's own, at FAR %s (measured in its training, on images it held out); on the enrolled snapshots, which it was trained on, FAR %s, FRR %s; %d genuine and %d impostor scores; the false accept rate chosen here does not move it",
			FormatScore(c.Threshold), percent(s.modelFAR), percent(c.FAR), percent(c.FRR), len(c.Genuine), len(c.Impostor))
	case len(c.Impostor) == 0: // the model's own (calibrate): its FAR is not measured here
		text = fmt.Sprintf("suggested threshold %s, the model's own, at FAR %s (measured in its training: one identity gives no impostor scores here), FRR %s; %d genuine scores",
			FormatScore(c.Threshold), percent(s.modelFAR), percent(c.FRR), len(c.Genuine))
	default:
		text = fmt.Sprintf("suggested threshold %s at FAR %s (measured), FRR %s; %d genuine and %d impostor scores",
			FormatScore(c.Threshold), percent(c.FAR), percent(c.FRR), len(c.Genuine), len(c.Impostor))
	}
	if !s.ModelThreshold() && len(c.Impostor) > 0 && s.trained == nil && msg.HasThreshold(s.modelThresh, s.modelFAR) {
		// A loaded model's own, which the Models page shows: another
		// measurement, on other images, named so.
		text += fmt.Sprintf("; the model's own threshold, measured in its training on images it held out: %s at FAR %s", FormatScore(s.modelThresh), percent(s.modelFAR))
	}
	if s.handSet {
		text += "; the threshold in use, " + FormatScore(s.Threshold) + ", was set by hand and stays until a false accept rate is chosen or another encoder is trained or loaded"
	}
	return text
}
