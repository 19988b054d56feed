package app

import (
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The form widgets of every page, one markup each: a label.field holding
// the caption (a span) and the control, so that a click on the caption
// focuses the control and the stylesheet styles them all alike.
//
// go-app keeps an element's event handler when a render gives it another
// closure of the same function literal (it compares code pointers), so a
// handler would keep the values it captured at its first render. Every
// handler that captures values which change from render to render takes
// an app.EventScope of them, so that go-app mounts the new closure: here
// the field's id and what set captures with it.

// selectField draws a labelled <select> of options with value selected;
// set receives the option chosen.
func selectField(id, label string, options []string, value string, disabled bool, set func(string)) app.UI {
	return selectFieldText(id, label, options, options, value, disabled, set)
}

// selectFieldText is selectField with texts[i] shown for options[i].
func selectFieldText(id, label string, options, texts []string, value string, disabled bool, set func(string)) app.UI {
	return selectFieldOff(id, label, options, texts, nil, value, disabled, set)
}

// selectFieldOff is selectFieldText with the options i where off[i]
// disabled: shown, their text saying why, and not to be chosen. off may
// be nil, for none.
func selectFieldOff(id, label string, options, texts []string, off []bool, value string, disabled bool, set func(string)) app.UI {
	return app.Label().Class("field").Body(
		app.Span().Text(label),
		app.Select().ID(id).Disabled(disabled).
			OnChange(func(ctx app.Context, e app.Event) { set(ctx.JSSrc().Get("value").String()) }, app.EventScope(id)).
			Body(app.Range(options).Slice(func(i int) app.UI {
				return app.Option().Value(options[i]).Selected(options[i] == value).Disabled(i < len(off) && off[i]).Text(texts[i])
			})),
	)
}

// textField draws a labelled text input; set receives the text (trimmed)
// when it changes. invalid, when not "", says why the text shown was not
// taken: the input is marked invalid (aria-invalid, drawn as :invalid is)
// with it as its tooltip. The mark is drawn from the page's state, so it
// goes once the page says so, whatever changed the text (a validity
// message set on the element, setCustomValidity, stays until the next
// change typed: a link's valid text was shown invalid).
func textField(id, label, value, placeholder, invalid string, disabled bool, set func(string)) app.UI {
	in := app.Input().ID(id).Type("text").Value(value).Placeholder(placeholder).Disabled(disabled).
		OnChange(func(ctx app.Context, e app.Event) {
			set(strings.TrimSpace(ctx.JSSrc().Get("value").String()))
		}, app.EventScope(id))
	if invalid != "" {
		in = in.Aria("invalid", "true").Title(invalid)
	}
	return app.Label().Class("field").Body(app.Span().Text(label), in)
}

// numberField draws a labelled number input with its range; a value out of
// range, or not an integer where one is needed, is not passed to set (the
// input shows it as invalid). title, when not "", is the label's tooltip.
// The bounds are written as the value is (FormatNumber): go-app writes a
// float64 with four decimals, lr's 1e-6 as 0.0000, and the browser took
// an lr of 0 for valid.
func numberField(id, label string, value, lo, hi float64, integer, disabled bool, title string, set func(float64)) app.UI {
	step := "any"
	if integer {
		step = "1"
	}
	in := app.Input().ID(id).Type("number").
		Min(FormatNumber(lo)).Max(FormatNumber(hi)).Attr("step", step).
		Value(FormatNumber(value)).Disabled(disabled).
		OnChange(func(ctx app.Context, e app.Event) {
			v, err := strconv.ParseFloat(ctx.JSSrc().Get("value").String(), 64)
			if err != nil || v < lo || v > hi || (integer && v != float64(int64(v))) {
				return
			}
			set(v)
		}, app.EventScope(id, lo, hi, integer, title))
	l := app.Label().Class("field")
	if title != "" {
		l = l.Title(title)
	}
	return l.Body(app.Span().Text(label), in)
}

// FormatNumber writes a setting as people type it: integers in full, up
// to 2⁵³ (a float64's exact integers, a seed's 2⁵³ − 1 among them), other
// values with at most 10 significant digits, so that a default computed
// in floating point (CosFace's m at D = 2 is 0.35·0.4 =
// 0.13999999999999999) shows as 0.14.
func FormatNumber(v float64) string {
	if v == float64(int64(v)) && v >= -1<<53 && v <= 1<<53 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 10, 64)
}
