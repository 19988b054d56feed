//go:build js && wasm

package app

import (
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// confirmHost draws the slots of two rows, r and s, of a confirmStep,
// their Confirm counted, r's with a hint; busy holds the rows whose
// action is on its way.
type confirmHost struct {
	app.Compo
	ctx     app.Context
	step    confirmStep
	busy    map[string]bool
	acts    map[string]int
	focused string
}

func (h *confirmHost) OnMount(ctx app.Context) { h.ctx = ctx }
func (h *confirmHost) Render() app.UI {
	return app.Div().Body(h.step.slot(h.rowSlot("r", "says what Confirm does")), h.step.slot(h.rowSlot("s", "")))
}

func (h *confirmHost) rowSlot(row, hint string) confirmSlot {
	return confirmSlot{
		Row:     row,
		Scope:   app.EventScope(row),
		Busy:    func() bool { return h.busy[row] },
		Ask:     confirmButton{"ask-" + row, "Delete", "delete " + row},
		Confirm: confirmButton{"confirm-" + row, "Confirm delete", "confirm delete of " + row},
		Keep:    confirmButton{"keep-" + row, "Keep", "keep " + row},
		HintID:  "hint-" + row,
		Hint:    hint,
		Act:     func(app.Context) { h.acts[row]++ },
		Focus:   func(id string, from []string) { focusDrawn(h.ctx, &h.focused, id, from) },
	}
}

// TestConfirmStep: a row's two steps from the keyboard and the mouse, as
// the Models page's Delete and the Jobs page's Remove take them. Ask
// gives the focus to Keep, drawn in its place, and turns back the row
// that asked before; Escape, on Keep or on Confirm, and a click on Keep
// turn the row back, the focus on Ask, nothing done. The second (or
// third) click of a double click on Confirm does nothing, a single click
// acts. While the action is on its way the buttons are disabled and
// Escape keeps nothing. The hint, where given, describes Confirm.
func TestConfirmStep(t *testing.T) {
	h := &confirmHost{busy: map[string]bool{}, acts: map[string]int{}}
	e, field := mountInDocument(t, h)
	standInFocus(t)
	send := func(id, event string, ev map[string]any) {
		t.Helper()
		el := field(id)
		if el.IsNull() {
			t.Fatalf("no #%s", id)
		}
		if event == "click" {
			el.Call("focus") // a click focuses a button
		}
		el.Get("listeners").Call(event, ev)
		e.ConsumeAll()
	}
	ask := func(row string) { t.Helper(); send("ask-"+row, "click", map[string]any{"detail": 1}) }
	there := func(id string) bool { return !field(id).IsNull() }
	asks := func(row string) bool { return !there("ask-"+row) && there("confirm-"+row) && there("keep-"+row) }

	ask("r")
	if !asks("r") || focusedID() != "keep-r" {
		t.Errorf("after Ask of r: it asks %v, the focus on #%s; want Confirm and Keep in Ask's place, the focus on Keep", asks("r"), focusedID())
	}
	if hint := field("hint-r"); hint.IsNull() || nodeText(hint) != "says what Confirm does" || field("confirm-r").Get("attrs").Get("aria-describedby").String() != "hint-r" {
		t.Errorf("r's hint %v, Confirm described by %v; want the hint, describing Confirm", hint, field("confirm-r").Get("attrs").Get("aria-describedby"))
	}
	for _, c := range []struct{ on, event, key string }{{"keep-r", "keydown", "Escape"}, {"confirm-r", "keydown", "Escape"}, {"keep-r", "click", ""}} {
		send(c.on, c.event, map[string]any{"key": c.key, "detail": 1})
		if !there("ask-r") || there("keep-r") || focusedID() != "ask-r" || h.acts["r"] != 0 {
			t.Errorf("%s %s on #%s: Ask there %v, Keep %v, the focus on #%s, %d actions; want Ask back with the focus, nothing done", c.event, c.key, c.on, there("ask-r"), there("keep-r"), focusedID(), h.acts["r"])
		}
		ask("r")
	}
	send("confirm-r", "keydown", map[string]any{"key": "Enter"}) // not Escape: a key of its own
	if !asks("r") {
		t.Error("Enter's keydown on Confirm turned r back, want it asking still")
	}

	ask("s")
	if !asks("s") || asks("r") || !there("ask-r") || focusedID() != "keep-s" {
		t.Errorf("Ask of s while r asks: s asks %v, r %v; want s alone, the focus on #keep-s (on #%s)", asks("s"), asks("r"), focusedID())
	}
	if there("hint-s") || field("confirm-s").Get("attrs").Get("aria-describedby").Truthy() {
		t.Error("s, of no hint: a hint drawn, or Confirm described by one")
	}

	for _, c := range []struct{ detail, acts int }{{2, 0}, {3, 0}, {1, 1}} { // a double and a triple click, then a single one
		send("confirm-s", "click", map[string]any{"detail": c.detail})
		if h.acts["s"] != c.acts {
			t.Errorf("a click of detail %d on Confirm: %d actions in all, want %d", c.detail, h.acts["s"], c.acts)
		}
	}

	h.ctx.Dispatch(func(app.Context) { h.busy["s"] = true }) // as the page's action sets it
	e.ConsumeAll()
	for _, id := range []string{"confirm-s", "keep-s"} {
		if !field(id).Get("disabled").Truthy() || field("ask-r").Get("disabled").Truthy() {
			t.Errorf("while the action of s is on its way: #%s disabled %v, r's Ask %v; want s's disabled alone", id, field(id).Get("disabled").Truthy(), field("ask-r").Get("disabled").Truthy())
		}
	}
	send("keep-s", "keydown", map[string]any{"key": "Escape"})
	if !asks("s") {
		t.Error("Escape on Keep while the action is on its way turned s back, want it asking still")
	}
	h.ctx.Dispatch(func(app.Context) { h.busy["s"] = false })
	e.ConsumeAll()
	send("keep-s", "keydown", map[string]any{"key": "Escape"})
	if !there("ask-s") || focusedID() != "ask-s" {
		t.Errorf("Escape on Keep once the action answered: Ask there %v, the focus on #%s; want Ask back with the focus", there("ask-s"), focusedID())
	}
}
