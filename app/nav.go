package app

import (
	"math/rand/v2"
	"reflect"
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Nav is the navigation between the pages: the playground, the server's
// model registry, its training jobs, and webcam verification. Current is the path of the page
// that shows it, marked as the current one.
type Nav struct {
	app.Compo

	Current string        // "/", "/models", "/jobs" or "/verify"
	Stops   func() string // what leaving the current page now would stop (stopper), "" for nothing; nil: nothing
}

// Render draws the links. One to another page asks first while the page
// has work under way that leaving it would stop (leave).
func (n *Nav) Render() app.UI {
	links := NavLinks()
	return app.Nav().ID("nav").Class("topnav").Aria("label", "pages").Body(
		app.Span().Class("brand").Text("metriclab"),
		app.Range(links).Slice(func(i int) app.UI {
			a := app.A().ID("nav-" + links[i].Name).Href(links[i].Path).Text(links[i].Title)
			if links[i].Path == n.Current {
				return a.Class("current").Aria("current", "page")
			}
			return a.OnClick(n.leave)
		}),
	)
}

// leave asks, when a link to another page is clicked while the page has
// work under way, whether to leave it, which stops that work: go-app
// takes the click (its listener on the window) and mounts the other
// page, and the page dismounted stops its workers. Declined, the click
// goes no further: its default (the browser's navigation) prevented, and
// its propagation stopped before the window's listener. A link opened in
// another tab (Ctrl or ⌘ held, which go-app leaves to the browser) stops
// nothing and asks nothing.
func (n *Nav) leave(ctx app.Context, e app.Event) {
	if n.Stops == nil || e.Get("ctrlKey").Truthy() || e.Get("metaKey").Truthy() {
		return
	}
	what := n.Stops()
	if what == "" || confirmed(leaveQuestion(what)) {
		return
	}
	e.PreventDefault()
	e.Call("stopPropagation")
}

// leaveQuestion asks whether to leave the page, which stops what.
func leaveQuestion(what string) string {
	return what + " is under way: leaving this page stops it, and its work is lost. Leave?"
}

// NavLink is one page of the navigation.
type NavLink struct {
	Name  string // for element ids: "playground", "models", "jobs"
	Path  string
	Title string
}

// NavLinks returns the pages of the navigation, in its order.
func NavLinks() []NavLink {
	return []NavLink{
		{"playground", "/", "Playground"},
		{"models", "/models", "Models"},
		{"jobs", "/jobs", "Jobs"},
		{"verify", "/verify", "Verify"},
	}
}

// Title is the playground's title, the document's on its page and
// the app's (the server's handler).
const Title = "metriclab — deep metric learning playground"

// PageTitle is the document's title on the page of path: the page's name
// first, so that tabs and the history tell the pages apart, and the
// playground's Title.
func PageTitle(path string) string {
	for _, l := range NavLinks() {
		if l.Path == path && path != "/" {
			return l.Title + " — metriclab"
		}
	}
	return Title
}

// stopper is a page with work in the browser that leaving it stops (the
// playground's trainers, the Verify page's training): Stops says what,
// as the subject of a sentence ("Training arcface"), while it is under
// way, and "" when leaving would lose nothing.
type stopper interface {
	Stops() string
}

// hashKeeper is a page that keeps its state in its URL's fragment (the
// playground's settings, replaceHash): Hash returns that fragment, with
// its "#", which a Back declined writes back with the page's path
// (WithNav.popped, where it cannot go back to the page's entry).
type hashKeeper interface {
	Hash() string
}

// WithNav is a page under the navigation: Nav with Current, then Page.
// While Page has work under way (stopper), leaving asks first: a link of
// the navigation (Nav.leave), a reload, the tab closed or another
// address typed (the window's beforeunload, onUnload), and the browser's
// Back and Forward (the window's popstate, onPop).
type WithNav struct {
	app.Compo

	Current string
	Page    app.UI

	onUnload app.Func  // the window's beforeunload listener while mounted; nil outside a browser
	onPop    app.Func  // the window's onpopstate while mounted, in go-app's place; nil outside a browser
	goPop    app.Value // go-app's onpopstate, which navigates: onPop calls it when the page is left
	shown    app.UI    // the Page mounted, which an update to a Page of its type leaves in place (OnUpdate)

	entry     navEntry // the history's entry of the page, as stamped (enter)
	returning bool     // a declined Back or Forward is being undone (history.go): the popstate back to entry is WithNav's own
	stray     navEntry // while returning, the entry the browser is at
}

// navEntry is the place of an entry of the tab's history, which WithNav
// stamps in the entry's state (history.state's navEntryKey, beside what
// else it holds) so that a popstate tells which way the user went: At,
// the entry's index in Line, a run of entries whose indices WithNav gave
// one after another (the entry it mounted on, then each go-app pushed).
// An entry it finds unstamped where it did not push one (the browser's,
// for a fragment typed, or one go-app pushed while no WithNav was
// mounted) starts a Line of its own: its place beside the others is
// unknown.
type navEntry struct {
	Line string
	At   int
}

// navEntryKey is the field of history.state that holds an entry's
// navEntry, as {line, at}. go-app writes no state of its own (its
// pushState and replaceState give null).
const navEntryKey = "metriclabNav"

// navPopState marks a WithNav's onpopstate, and holds go-app's (goPop):
// a WithNav that mounts while another's is the window's takes go-app's
// from it, whatever the order in which one WithNav dismounts and the
// next mounts.
const navPopState = "metriclabGoAppPopState"

// OnMount titles the page (PageTitle) and listens to the window's
// beforeunload: while Page has work under way, the browser asks the user
// whether to leave (in its own words: browsers show no page's text); and
// to its popstate (popped);
// and stamps the entry of the history it is at (enter). go-app keeps
// WithNav mounted from one page to the next, changing its Page, so that
// the one listener of each asks about the page shown.
func (w *WithNav) OnMount(ctx app.Context) {
	w.shown = w.Page
	ctx.Page().SetTitle("%s", PageTitle(w.Current))
	if !app.IsClient {
		return
	}
	w.onUnload = app.FuncOf(func(this app.Value, args []app.Value) any {
		// Read here, not dispatched: the browser asks once the listener
		// returns, and the page's state changes on the one thread that
		// runs this.
		if what := w.stops(); what != "" {
			// Both, as the HTML standard has it and as older browsers
			// (Chrome before 119) still need.
			args[0].Call("preventDefault")
			args[0].Set("returnValue", leaveQuestion(what))
		}
		return nil
	})
	app.Window().Call("addEventListener", "beforeunload", w.onUnload)
	// go-app navigates from the window's onpopstate, set before any page
	// mounts. A listener added beside it cannot stop it: Chromium runs the
	// listeners at the window, the event's target, in the order they were
	// added, capturing or not, so go-app had navigated already (seen in
	// TestE2EStartup). WithNav takes the handler's place.
	w.goPop = app.Window().Get("onpopstate")
	if w.goPop.Truthy() && w.goPop.Call("hasOwnProperty", navPopState).Bool() {
		w.goPop = w.goPop.Get(navPopState)
	}
	w.onPop = app.FuncOf(func(this app.Value, args []app.Value) any {
		if w.popped(args[0].Get("state")) && w.goPop.Truthy() {
			w.goPop.Call("call", this, args[0])
		}
		return nil
	})
	w.onPop.Set(navPopState, w.goPop)
	app.Window().Set("onpopstate", w.onPop)
	w.enter()
}

// OnPreRender titles the page the server renders (PageTitle), as OnMount
// and OnNav title it in the browser.
func (w *WithNav) OnPreRender(ctx app.Context) {
	ctx.Page().SetTitle("%s", PageTitle(w.Current))
}

// OnNav titles the page (PageTitle) and stamps the entry go-app
// navigated to (enter): the one it pushed for a link, or the one a Back
// or Forward passed on went to.
func (w *WithNav) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("%s", PageTitle(w.Current))
	if w.onPop != nil {
		w.enter()
	}
}

// OnUpdate keeps the Page mounted where go-app gives a new one of the
// same type: a navigation that changes the address's query alone (a
// Back from /verify?model=b to /verify?model=a) loads the route's page
// anew, which go-app matches to the one mounted, by type, and updates
// in place (copying the new one's props): the page is not mounted again,
// and its work goes on; it is told by its OnNav, where it takes one
// (Verify's loads the new ?model=). The new
// Page, never mounted, would take its place here, asked what leaving
// stops (nothing), and its props (Verify's Client, nil until mounted)
// would be copied onto the page mounted.
func (w *WithNav) OnUpdate(ctx app.Context) {
	if w.shown != nil && w.Page != nil && reflect.TypeOf(w.shown) == reflect.TypeOf(w.Page) {
		w.Page = w.shown
	}
	w.shown = w.Page
}

// OnDismount stops listening to the window's beforeunload and popstate.
func (w *WithNav) OnDismount() {
	if w.onUnload != nil {
		app.Window().Call("removeEventListener", "beforeunload", w.onUnload)
		w.onUnload.Release()
		w.onUnload = nil
	}
	if w.onPop != nil {
		if app.Window().Get("onpopstate").Equal(w.onPop) { // not yet another WithNav's
			app.Window().Set("onpopstate", w.goPop)
		}
		w.onPop.Release()
		w.onPop, w.goPop = nil, nil
	}
	w.shown, w.entry, w.returning, w.stray = nil, navEntry{}, false, navEntry{}
}

// Render draws the navigation above the page.
func (w *WithNav) Render() app.UI {
	return app.Div().Class("with-nav").Body(&Nav{Current: w.Current, Stops: w.stops}, w.Page)
}

// popped takes the browser's Back or Forward, the popstate just fired
// (the address already the entry gone to, whose history.state is state),
// and reports whether go-app is told, which then mounts the page of that
// entry (onPop calls its onpopstate), whose dismount stops the work
// under way. While Page has work under way, a Back to another page asks
// first (leaves). A popstate cannot be cancelled: declined, go-app is
// not told, and the browser goes back to the page's entry, history.go by
// as many entries as the user went, the other way, which keeps the
// entries after it for Forward; the popstate that this brings is
// WithNav's own, and neither asks nor reaches go-app. Where the entry
// gone to is of another Line than the page's (which way the user went
// is unknown), the page's address is pushed as a new entry instead,
// which drops the entries after the one gone to. Should history.go's
// popstate never come (a browser drops a traversal that another
// overtakes), nothing waits on it: the next popstate asks as any other,
// and goes back to the page's entry from where the browser is; one that
// lands on the page's entry changes nothing (the page shows it).
func (w *WithNav) popped(state app.Value) bool {
	to, stamped := entryOf(state)
	returning := w.returning
	w.returning = false
	if returning && stamped && to == w.entry {
		return false
	}
	if !stamped { // which entry this is, beside the others, is unknown
		to = navEntry{Line: newNavLine()}
		stampEntry(to)
	}
	if w.leaves() {
		w.entry = to
		return true
	}
	if to.Line == w.entry.Line && to.At != w.entry.At {
		app.Window().Get("history").Call("go", w.entry.At-to.At)
		w.returning, w.stray = true, to
		return false
	}
	here := w.Current
	if h, ok := w.Page.(hashKeeper); ok {
		here += h.Hash()
	}
	app.Window().Get("history").Call("pushState", nil, "", here)
	w.entry = navEntry{Line: newNavLine()}
	stampEntry(w.entry)
	return false
}

// leaves reports whether a popstate leaves the page: always, unless
// Page has work under way and the user, asked, declines. A popstate on
// the page's own path (the playground's fragment, which it follows
// itself) stays on the page, and asks nothing.
func (w *WithNav) leaves() bool {
	if app.Window().Get("location").Get("pathname").String() == w.Current {
		return true
	}
	what := w.stops()
	return what == "" || confirmed(leaveQuestion(what))
}

// enter takes the entry of the history the page is now at, after it
// mounted or go-app navigated: stamped (a reload, a Back passed on, which
// popped stamped), its place; not (go-app's pushState, for a link), the
// one after the page's entry, which WithNav stamps so. The first entry
// mounted on unstamped starts a Line. (An entry whose stamp a page
// replaced, going on to the next index, moves its Line's indices along
// with it, which keeps them one after another.)
func (w *WithNav) enter() {
	if e, ok := entryOf(app.Window().Get("history").Get("state")); ok {
		w.entry, w.returning = e, false
		return
	}
	after := w.entry
	if w.returning { // the popstate back to the page's entry never came: go-app pushed after the browser's
		after, w.returning = w.stray, false
	}
	if after.Line == "" {
		w.entry = navEntry{Line: newNavLine()}
	} else {
		w.entry = navEntry{Line: after.Line, At: after.At + 1}
	}
	stampEntry(w.entry)
}

// entryOf reads an entry's navEntry from its history.state, ok false
// where WithNav stamped none.
func entryOf(state app.Value) (e navEntry, ok bool) {
	if state.Type() != app.TypeObject || !state.Truthy() {
		return navEntry{}, false
	}
	v := state.Get(navEntryKey)
	if v.Type() != app.TypeObject || !v.Truthy() || v.Get("line").Type() != app.TypeString || v.Get("at").Type() != app.TypeNumber {
		return navEntry{}, false
	}
	return navEntry{Line: v.Get("line").String(), At: v.Get("at").Int()}, true
}

// stampEntry writes e in the current entry's history.state, keeping its
// other fields, and its address.
func stampEntry(e navEntry) {
	h := app.Window().Get("history")
	stamp := map[string]any{navEntryKey: map[string]any{"line": e.Line, "at": e.At}}
	state := app.Window().Get("Object").Call("assign", map[string]any{}, h.Get("state"), stamp)
	h.Call("replaceState", state, "")
}

// newNavLine names a Line of entries, unlike any other of the tab's.
func newNavLine() string { return strconv.FormatUint(rand.Uint64()>>16, 36) }

// stops says what leaving Page now would stop, "" for nothing (a page
// that is no stopper).
func (w *WithNav) stops() string {
	if s, ok := w.Page.(stopper); ok {
		return s.Stops()
	}
	return ""
}
