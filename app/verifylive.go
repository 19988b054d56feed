package app

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// LivePanel is the verify page's live answers for the face on camera: 1:1
// (the cosine to the claimed identity's template against the threshold,
// and the verdict) and 1:k (the best match, or unknown, and the ranking).
type LivePanel struct {
	app.Compo

	S           VerifyState
	OnClaim     func(name string)
	OnThreshold func(t float64) // at each step of the slider
	OnKeep      func()          // once it is let go (its change): the page keeps the threshold in IndexedDB
}

// Render draws the panel.
func (p *LivePanel) Render() app.UI {
	s := &p.S
	ready := s.Live()
	// Not a live region: a score at the threshold flips the verdict at
	// each probe; #verdict-live, after the panel's figures, says it once it
	// holds (VerdictLine). Nor is the score, which changes with each frame.
	verdict := app.Span().ID("verdict").Class("value verdict " + s.VerdictText()).Text(s.VerdictText())
	if s.Scored > 0 { // the probe whose answers are shown, none once they go (forgetProbe)
		verdict = verdict.DataSet("probe", s.Scored)
	}
	return app.Section().ID("live").Class("panel live").Body(
		app.H2().Text("Verify and identify"),
		app.Div().Class("fields").Body(
			selectField("claimed", "claimed identity", s.Names, s.ClaimedName(), !ready, p.OnClaim),
			app.Label().Class("field").Body(
				app.Span().Text("threshold "+FormatScore(s.Threshold)+map[bool]string{true: ", set by hand"}[s.handSet]),
				app.Input().ID("threshold").Type("range").Min(-1).Max(1).Step(0.005).Value(s.Threshold).Disabled(!ready).
					OnInput(func(ctx app.Context, e app.Event) {
						if x, err := strconv.ParseFloat(ctx.JSSrc().Get("value").String(), 64); err == nil {
							p.OnThreshold(x)
						}
					}).
					OnChange(func(ctx app.Context, e app.Event) { p.OnKeep() }),
			),
		),
		app.Div().Class("figures").Body(
			app.Div().Class("figure").Body(app.Span().ID("score").Class("value").Text(s.ScoreText()), app.Span().Class("label").Text("cosine to "+s.ClaimedName())),
			app.Div().Class("figure").Body(verdict, app.Span().Class("label").Text("1:1")),
			app.Div().Class("figure").Body(app.Span().ID("identity").Class("value").Text(s.IdentityText()), app.Span().Class("label").Text("1:k best match")),
		),
		app.P().ID("verdict-live").Class("sr-only").Role("status").Text(s.VerdictLine()),
		// Nor is the probe's note, which numbers each probe refused;
		// #probe-live says why once the same reason has held (ProbeLine).
		app.P().ID("probe-live").Class("sr-only").Role("status").Text(s.ProbeLine()),
		// In a slot, as it comes and goes: go-app matches children by
		// place, and the ranking after it was drawn anew each time.
		app.Div().Class("slot").Body(app.If(s.ProbeNote != "", func() app.UI { return app.P().ID("probe-note").Class("note").Text(s.ProbeNote) })),
		app.Ol().ID("ranking").Class("ranking").Body(app.Range(s.Ranked).Slice(func(i int) app.UI {
			m := s.Ranked[i]
			return app.Li().Body(app.Span().Class("name").Text(m.Name), app.Text(" "), app.Span().Class("score").Text(FormatScore(m.Score)))
		})),
	)
}
