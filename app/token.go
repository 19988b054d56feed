package app

import (
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// tokenKey is the sessionStorage key of the classroom token.
const tokenKey = "metriclab-token"

// TokenField is the classroom token's input, the same on every page that
// writes to the server (Jobs, Verify): what is typed is kept in the tab's
// sessionStorage, so that every page of the tab, and a reload, sends the
// same token, and closing the tab forgets it.
type TokenField struct {
	app.Compo

	ID string // the input's element id

	value string
	note  string // why the value typed is not kept (msg.CheckToken), "" when it is
}

// OnMount shows the token kept for the tab (restore).
func (f *TokenField) OnMount(ctx app.Context) { f.restore(storedToken()) }

// Render draws the labelled password input, and under it why a token
// typed was not kept.
func (f *TokenField) Render() app.UI {
	return app.Label().Class("field token").Body(
		app.Span().Text("Token (classroom mode)"),
		app.Input().ID(f.ID).Type("password").AutoComplete(false).Value(f.value).Placeholder("only if the server asks").
			OnChange(func(ctx app.Context, e app.Event) { f.set(ctx.JSSrc().Get("value").String()) }),
		app.If(f.note != "", func() app.UI { return app.Span().ID(f.ID + "-note").Class("note").Text(f.note) }),
	)
}

// set takes what was typed, spaces trimmed: a token the server could take
// (msg.CheckToken) is kept for the tab; any other is not (a browser
// refuses to send it, and the page would say the server could not be
// reached), and the note says why.
func (f *TokenField) set(typed string) {
	f.value = strings.TrimSpace(typed)
	if err := msg.CheckToken(f.value); err != nil {
		f.note = err.Error() + ": not kept"
		SetSessionToken("")
		return
	}
	f.note = ""
	SetSessionToken(f.value)
}

// restore shows kept, the token kept for the tab. One the server could
// not take (kept by a page before msg.CheckToken, or by hand) is dropped,
// as one typed is not kept, and the note says so: the page would send it,
// and the browser refuse to.
func (f *TokenField) restore(kept string) {
	f.value, f.note = kept, ""
	if err := msg.CheckToken(kept); err != nil {
		f.value, f.note = "", "the token kept for this tab was dropped: "+err.Error()
		SetSessionToken("")
	}
}

// SessionToken returns the classroom token kept for the tab, "" when none,
// when it is not one the server could take (msg.CheckToken: TokenField
// drops it), or outside a browser.
func SessionToken() string {
	if t := storedToken(); msg.CheckToken(t) == nil {
		return t
	}
	return ""
}

// storedToken returns the value of tokenKey in the tab's sessionStorage,
// "" when none (or outside a browser).
func storedToken() string {
	if !app.IsClient {
		return ""
	}
	v := app.Window().Get("sessionStorage").Call("getItem", tokenKey)
	if v.Type() != app.TypeString {
		return ""
	}
	return v.String()
}

// SetSessionToken keeps token for the tab ("" forgets it).
func SetSessionToken(token string) {
	if !app.IsClient {
		return
	}
	s := app.Window().Get("sessionStorage")
	if token == "" {
		s.Call("removeItem", tokenKey)
		return
	}
	s.Call("setItem", tokenKey, token)
}
