package app

import (
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
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
}

// OnMount shows the token kept for the tab.
func (f *TokenField) OnMount(ctx app.Context) { f.value = SessionToken() }

// Render draws the labelled password input.
func (f *TokenField) Render() app.UI {
	return app.Label().Class("field token").Body(
		app.Span().Text("Token (classroom mode)"),
		app.Input().ID(f.ID).Type("password").AutoComplete(false).Value(f.value).Placeholder("only if the server asks").
			OnChange(func(ctx app.Context, e app.Event) {
				f.value = strings.TrimSpace(ctx.JSSrc().Get("value").String())
				SetSessionToken(f.value)
			}),
	)
}

// SessionToken returns the classroom token kept for the tab, "" when none
// (or outside a browser).
func SessionToken() string {
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
