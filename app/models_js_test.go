//go:build js && wasm

package app

import (
	"slices"
	"syscall/js"
	"testing"

	"metriclab/core/msg"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// modelsHost draws the Models page's list alone (the page's OnMount
// reads the server every modelsRefresh).
type modelsHost struct {
	app.Compo
	ctx app.Context
	m   *Models
}

func (h *modelsHost) OnMount(ctx app.Context) { h.ctx = ctx }
func (h *modelsHost) Render() app.UI          { return h.m.Render() }

// TestModelsRowsKeyed: a refresh that lists a model registered meanwhile
// (newest first: at the top), or leaves out one deleted in another tab,
// leaves each row's links to their own model. Before, go-app updated the
// rows by their place: the link of model a that had the keyboard's focus
// became b's "Use for verify" (or Download), and Enter opened b.
func TestModelsRowsKeyed(t *testing.T) {
	a := msg.ModelCard{ID: "a", Name: "first", Loss: "arcface", Dim: 3, Created: "2025-01-01T10:00:00Z"}
	b := msg.ModelCard{ID: "b", Name: "second", Loss: "arcface", Dim: 3, Created: "2025-01-01T11:00:00Z"}
	c := msg.ModelCard{ID: "c", Name: "third", Loss: "arcface", Dim: 3, Created: "2025-01-01T12:00:00Z"}
	for _, tt := range []struct {
		name          string
		before, after []msg.ModelCard
	}{
		{"a model registered", []msg.ModelCard{a, b}, []msg.ModelCard{a, b, c}},
		{"the newest model deleted", []msg.ModelCard{a, b, c}, []msg.ModelCard{a, b}},
	} {
		h := &modelsHost{m: NewModels()}
		e, field := mountInDocument(t, h)
		set := func(cards []msg.ModelCard) {
			h.ctx.Dispatch(func(app.Context) { h.m.SetCards(cards, nil) })
			e.ConsumeAll()
		}
		set(tt.before)
		var ids []string // the links of the models listed before and after
		for _, m := range tt.after {
			if slices.ContainsFunc(tt.before, func(o msg.ModelCard) bool { return o.ID == m.ID }) {
				ids = append(ids, "verify-"+m.ID, "download-"+m.ID, "open-"+m.ID)
			}
		}
		links := make([]js.Value, len(ids))
		hrefs := make([]string, len(ids))
		for i, id := range ids {
			links[i] = field(id)
			hrefs[i] = links[i].Get("attrs").Get("href").String()
		}
		set(tt.after)
		for i, id := range ids {
			// The element focused before: still its model's, or gone
			// (drawn anew).
			if got, href := links[i].Get("attrs").Get("id").String(), links[i].Get("attrs").Get("href").String(); got != id || href != hrefs[i] {
				t.Errorf("%s: the element of #%s (%s) is now #%s (%s)", tt.name, id, hrefs[i], got, href)
			}
		}
		for _, m := range tt.after {
			if got := field("verify-" + m.ID).Get("attrs").Get("href").String(); got != VerifyLink(m.ID) {
				t.Errorf("%s: #verify-%s links to %s", tt.name, m.ID, got)
			}
		}
	}
}
