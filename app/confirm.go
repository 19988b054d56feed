package app

import (
	"slices"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// confirmStep is the two steps of the button of a row that takes the
// row's thing away for good: a model's Delete (Models), an ended job's
// Remove (Jobs). The button asks (ask): Confirm and Keep come in its
// place, the focus on Keep; Keep, or Escape on either, turns the row
// back (keep), the focus on the button; Confirm acts. One row of a page
// asks at a time: another row's button turns the first back. The page
// holds one, and draws each row's slot from a confirmSlot.
type confirmStep struct {
	row string // the row whose slot asks Keep or Confirm, "" for none
}

// confirmSlot is what a row's slot draws (confirmStep.slot). Busy
// reports whether the row's action is on its way: the buttons wait for
// its answer, and Keep keeps nothing; a function, as go-app keeps the
// handler drawn first for a scope, with what it captured. Hint, where
// not "", tells what Confirm does: Confirm's title, and the text of an
// sr-only span of id HintID that describes it (aria-describedby).
type confirmSlot struct {
	Row                string          // the row's key: a model's id, a job's
	Scope              app.EventOption // of the buttons' handlers (app.EventScope)
	Busy               func() bool
	Ask, Confirm, Keep confirmButton // the first step's button, the second's
	HintID, Hint       string
	Act                func(ctx app.Context)          // what Confirm does
	Focus              func(id string, from []string) // the page's focus (Models.focus, Jobs.focus)
}

// confirmButton is a button of a slot: its id, text and aria label, which
// names the row's thing, for a screen reader, which reads a row's
// buttons apart from the row.
type confirmButton struct{ ID, Text, Label string }

// slot draws the Ask button of s's row, or, once it was pressed, Confirm
// and Keep, in a slot as wide as the two, Ask or Keep at its right end
// (web/metriclab.css: .delete-slot, .btn-place), so that nothing moves,
// and the second click of a double click on Ask lands on Keep: go-app
// draws the two between the clicks. Confirm takes no click of a double
// click all the same (multiClick). Escape on either is Keep.
func (c *confirmStep) slot(s confirmSlot) app.UI {
	busy := s.Busy()
	// Keyed by the step: go-app would turn the element of Ask, the focus
	// on it, into Confirm, where a key held down goes on.
	if c.row != s.Row {
		return &keyed{Key: s.Ask.ID, UI: app.Span().Class("delete-slot").Body(
			s.Ask.draw("btn btn-place", busy).OnClick(func(app.Context, app.Event) { c.ask(s) }, s.Scope),
		)}
	}
	escape := func(_ app.Context, e app.Event) {
		if e.Get("key").String() == "Escape" {
			c.keep(s)
		}
	}
	confirm := s.Confirm.draw("btn btn-delete", busy)
	if s.Hint != "" {
		confirm = confirm.Aria("describedby", s.HintID).Title(s.Hint)
	}
	return &keyed{Key: s.Confirm.ID, UI: app.Span().Class("delete-slot confirm-delete").Body(
		app.If(s.Hint != "", func() app.UI { return app.Span().ID(s.HintID).Class("sr-only").Text(s.Hint) }),
		confirm.OnClick(func(ctx app.Context, e app.Event) {
			if !multiClick(e) {
				s.Act(ctx)
			}
		}, s.Scope).On("keydown", escape, s.Scope),
		s.Keep.draw("btn btn-place", busy).OnClick(func(app.Context, app.Event) { c.keep(s) }, s.Scope).On("keydown", escape, s.Scope),
	)}
}

// ask turns the Ask of s's row into Keep and Confirm (of it alone:
// another row's turns back), the focus on Keep.
func (c *confirmStep) ask(s confirmSlot) {
	c.row = s.Row
	s.Focus(s.Keep.ID, nil)
}

// keep turns s's row back to its Ask, which takes the focus, unless its
// action is on its way.
func (c *confirmStep) keep(s confirmSlot) {
	if c.row != s.Row || s.Busy() {
		return
	}
	c.row = ""
	s.Focus(s.Ask.ID, nil)
}

// draw returns the button b of class class, disabled where busy.
func (b confirmButton) draw(class string, busy bool) app.HTMLButton {
	return app.Button().ID(b.ID).Type("button").Class(class).Disabled(busy).Aria("label", b.Label).Text(b.Text)
}

// multiClick reports whether the click e is the second (or later) of a
// double click: its detail counts the clicks of a burst (a key's click
// has 0).
func multiClick(e app.Event) bool {
	n := e.Get("detail")
	return n.Truthy() && n.Int() > 1
}

// rowPlace is where the row of a page's list whose thing is being taken
// away (confirmSlot.Act) was as Confirm was pressed, for the focus once
// the answer comes: a read of the list answered before it may have
// dropped the row by then. Models.remove and Jobs.remove hold one.
type rowPlace[T any] struct {
	key      func(T) string // a row's key: a model's id, a job's
	id, next string         // the row's key; the next row's, else the one before's, "" for none
	at       int            // the row's index, 0 where it is not listed
}

// placeOf returns the place of row id in rows, whose keys key gives.
func placeOf[T any](rows []T, key func(T) string, id string) rowPlace[T] {
	p := rowPlace[T]{key: key, id: id}
	p.at = max(p.index(rows, id), 0)
	switch {
	case p.at+1 < len(rows):
		p.next = key(rows[p.at+1])
	case p.at > 0:
		p.next = key(rows[p.at-1])
	}
	return p
}

// focus returns the element that takes the focus once p's row was taken
// away, or not, rows those listed now: the button of its own row where
// it is still listed (refused), else of next's, else of the row now at
// its index, else of the last row, each row's button given by button;
// else heading, the page's.
func (p rowPlace[T]) focus(rows []T, button func(T) string, heading string) string {
	i := p.index(rows, p.id)
	if i < 0 && p.next != "" {
		i = p.index(rows, p.next)
	}
	if i < 0 {
		i = min(p.at, len(rows)-1) // the row now at its index, else the last
	}
	if i < 0 {
		return heading
	}
	return button(rows[i])
}

// index returns the index of row id in rows, -1 where it is not listed.
func (p rowPlace[T]) index(rows []T, id string) int {
	return slices.IndexFunc(rows, func(r T) bool { return p.key(r) == id })
}

// focusDrawn gives the keyboard's focus to the element of id once the
// render under way through page has drawn it, and notes id in *focused
// (outside a browser it only notes it), where the focus is on one of the
// elements of from, or lost (on the body, with an element removed);
// wherever it is when from is nil. The answer of a request comes after a
// while, and the user may have moved the focus meanwhile: it stays
// there. Models.focus and Jobs.focus call it.
func focusDrawn(page app.Context, focused *string, id string, from []string) {
	if !app.IsClient {
		*focused = id
		return
	}
	page.Defer(func(app.Context) {
		doc := app.Window().Get("document")
		active := doc.Get("activeElement")
		lost := !active.Truthy() || active.Equal(doc.Get("body"))
		if from != nil && !lost && !slices.Contains(from, active.Get("id").String()) {
			return
		}
		if el := doc.Call("getElementById", id); el.Truthy() {
			el.Call("focus")
			*focused = id
		}
	})
}
