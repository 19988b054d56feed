//go:build js && wasm

package app

import (
	"syscall/js"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// TestLeaveAsksWhileTraining: the pages under the navigation (WithNav),
// drawn in a stand-in document under node, with a stand-in window's
// listeners and confirm. While a trainer of the playground runs, the
// window's beforeunload (a reload, the tab closed) is cancelled, as
// browsers ask it (defaultPrevented, and a returnValue), and a link of
// the navigation to another page asks first: declined, the click is
// cancelled and goes no further (go-app's listener of clicks on links,
// on the window, would mount the other page, whose dismount stops the
// workers); confirmed, it goes on. Paused, the same; done, nothing asks. The page's own
// link asks nothing (go-app does not mount the page again), nor a link
// opened in another tab (Ctrl held). Under
// another page (go-app keeps WithNav and changes its Page) the window's
// one listener asks about that page: the Verify page while its encoder
// trains. Once WithNav is dismounted the window has no listener left.
// Before, nothing asked.
func TestLeaveAsksWhileTraining(t *testing.T) {
	js.Global().Call("eval", `globalThis.metriclabListeners = {}
	globalThis.addEventListener = (type, f) => { (metriclabListeners[type] ??= []).push(f) }
	globalThis.removeEventListener = (type, f) => { metriclabListeners[type] = (metriclabListeners[type] ?? []).filter(g => g !== f) }
	globalThis.metriclabAsked = []
	globalThis.metriclabConfirm = false
	globalThis.confirm = text => { metriclabAsked.push(text); return metriclabConfirm }
	globalThis.metriclabUnload = () => {
		const e = { defaultPrevented: false, returnValue: "", preventDefault() { this.defaultPrevented = true } }
		for (const f of metriclabListeners.beforeunload ?? []) f(e)
		return e
	}
	globalThis.metriclabClick = (el, ctrl) => {
		const e = { target: el, ctrlKey: ctrl, defaultPrevented: false, stopped: false, preventDefault() { this.defaultPrevented = true }, stopPropagation() { this.stopped = true } }
		el.listeners?.click?.(e)
		return e
	}`)
	defer js.Global().Call("eval", `for (const k of ["metriclabListeners", "addEventListener", "removeEventListener", "metriclabAsked", "metriclabConfirm", "confirm", "metriclabUnload", "metriclabClick"]) delete globalThis[k]`)
	asked := func() int { return js.Global().Get("metriclabAsked").Length() }
	listeners := func() int { return js.Global().Call("eval", "(metriclabListeners.beforeunload ?? []).length").Int() }

	p := NewPlayground()
	p.nonce = "test"
	e, field := mountInDocument(t, &WithNav{Current: "/", Page: &playgroundHost{p: p}})
	unload := func(what string, want bool) {
		t.Helper()
		ev := js.Global().Call("metriclabUnload")
		if got := ev.Get("defaultPrevented").Bool(); got != want {
			t.Errorf("%s: beforeunload cancelled %v, want %v", what, got, want)
		}
		if got := ev.Get("returnValue").String(); (got != "") != want {
			t.Errorf("%s: beforeunload's returnValue %q", what, got)
		}
	}
	click := func(what, id string, ctrl, confirm, wantAsked, wantStayed bool) {
		t.Helper()
		js.Global().Set("metriclabConfirm", confirm)
		before := asked()
		ev := js.Global().Call("metriclabClick", field(id), ctrl)
		e.ConsumeAll()
		if got := asked() - before; got != map[bool]int{true: 1}[wantAsked] {
			t.Errorf("%s: #%s clicked: confirm asked %d times", what, id, got)
		}
		prevented, stopped := ev.Get("defaultPrevented").Bool(), ev.Get("stopped").Bool()
		if prevented != wantStayed || stopped != wantStayed {
			t.Errorf("%s: #%s clicked: default prevented %v, propagation stopped %v; want %v", what, id, prevented, stopped, wantStayed)
		}
	}

	p.trainers[0].run.State = msg.StateIdle
	unload("idle", false)
	click("idle", "nav-models", false, false, false, false)

	p.trainers[0].run.State = msg.StateRunning
	unload("running", true)
	click("running, declined", "nav-models", false, false, true, true)
	if q := js.Global().Get("metriclabAsked").Index(asked() - 1).String(); q != "Training arcface is under way: leaving this page stops it, and its work is lost. Leave?" {
		t.Errorf("running: asked %q", q)
	}
	click("running, confirmed", "nav-jobs", false, true, true, false)
	click("running, the page's own link", "nav-playground", false, false, false, false)
	click("running, Ctrl held (another tab)", "nav-models", true, false, false, false)

	p.trainers[0].run.State = msg.StatePaused
	unload("paused", true)
	click("paused, declined", "nav-verify", false, false, true, true)
	if q := js.Global().Get("metriclabAsked").Index(asked() - 1).String(); q != "Training arcface (paused) is under way: leaving this page stops it, and its work is lost. Leave?" {
		t.Errorf("paused: asked %q", q)
	}
	p.trainers[0].run.State = msg.StateDone
	unload("done", false)
	click("done", "nav-verify", false, false, false, false)

	v := NewVerify()
	v.st.Phase = PhaseTraining
	if err := e.Load(&WithNav{Current: "/verify", Page: &verifyHost{v: v}}); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	if n := listeners(); n != 1 {
		t.Errorf("the Verify page after the playground: the window has %d beforeunload listeners, want 1", n)
	}
	unload("Verify training", true)
	click("Verify training, declined", "nav-playground", false, false, true, true)
	v.st.Phase = PhaseReady
	unload("Verify trained", false)

	v.st.Phase = PhaseTraining
	if err := e.Load(&blankPage{}); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	if n := listeners(); n != 0 {
		t.Errorf("WithNav dismounted: the window has %d beforeunload listeners, want none", n)
	}
	unload("WithNav dismounted", false)
}

// TestBackAsksWhileTraining: the browser's Back and Forward (popstate),
// with a stand-in window under node that runs a popstate's handlers as
// Chromium does at the window, the event's target: in the order they
// were added, capturing or not, go-app's onpopstate (set before any page
// mounts, which navigates to the window's address) first, then the
// listeners added; each unless propagation was stopped. While a trainer of the playground runs, a
// popstate to another page asks first: declined, go-app's listener does
// not see it, and the playground's address (its path and its settings'
// fragment) is pushed back on the history; confirmed, go-app navigates.
// Idle, nothing asks, nor a popstate on the playground's own path (its
// fragment, which it follows itself). These popstates carry no state,
// as from entries WithNav did not stamp (navEntry): which way the user
// went is unknown, so a declined one pushes the address back
// (TestBackDeclinedKeepsForward has the entries stamped). Under the Verify page while its
// encoder trains, declined, "/verify" is pushed back; a popstate that
// changes its query alone asks nothing and goes to go-app, which loads a
// new Verify page that it updates the mounted one with (same type), and
// a Back then still asks about the page mounted, which trains: before,
// WithNav took the new page, never mounted, which trains nothing, and
// let the Back go. Once WithNav is
// dismounted the window has no popstate listener left. Before, nothing
// asked and go-app navigated away from the training.
func TestBackAsksWhileTraining(t *testing.T) {
	p := NewPlayground()
	p.nonce = "test"
	e, _ := mountInDocument(t, &blankPage{})
	js.Global().Call("eval", `globalThis.metriclabListeners = []
	const capturing = o => o === true || o?.capture === true
	globalThis.addEventListener = (type, f, o) => { metriclabListeners.push({ type, f, capture: capturing(o) }) }
	globalThis.removeEventListener = (type, f, o) => { metriclabListeners = metriclabListeners.filter(l => l.type !== type || l.f !== f || l.capture !== capturing(o)) }
	globalThis.metriclabAsked = []
	globalThis.metriclabConfirm = false
	globalThis.confirm = text => { metriclabAsked.push(text); return metriclabConfirm }
	globalThis.location = { pathname: "/", hash: "" }
	const go = url => {
		const u = new URL(url, "http://metriclab" + location.pathname + location.hash)
		location.pathname = u.pathname; location.hash = u.hash
	}
	globalThis.history = { pushed: [], replaceState(state, title, url) { if (url !== undefined) go(url) }, pushState(state, title, url) { go(url); this.pushed.push(url) } }
	globalThis.metriclabNavigated = []
	globalThis.onpopstate = () => { metriclabNavigated.push(location.pathname + location.hash) }
	globalThis.metriclabPop = url => {
		go(url)
		const e = { stopped: false, stoppedNow: false, stopPropagation() { this.stopped = true }, stopImmediatePropagation() { this.stopped = this.stoppedNow = true } }
		const all = metriclabListeners.filter(l => l.type === "popstate")
		for (const l of [{ f: onpopstate }, ...all]) {
			if (e.stoppedNow) break
			if (l.f) l.f.call(globalThis, e)
		}
	}`)
	defer js.Global().Call("eval", `for (const k of ["metriclabListeners", "addEventListener", "removeEventListener", "metriclabAsked", "metriclabConfirm", "confirm", "location", "metriclabNavigated", "onpopstate", "metriclabPop"]) delete globalThis[k]`)
	count := func(expr string) int { return js.Global().Call("eval", expr).Int() }
	load := func(c app.Composer) {
		t.Helper()
		if err := e.Load(c); err != nil {
			t.Fatal(err)
		}
		e.ConsumeAll()
	}
	pop := func(what, url string, confirm, wantAsked bool, wantAt string, wantPushed bool) {
		t.Helper()
		js.Global().Set("metriclabConfirm", confirm)
		asked, navigated, pushed := count("metriclabAsked.length"), count("metriclabNavigated.length"), count("history.pushed.length")
		js.Global().Call("metriclabPop", url)
		e.ConsumeAll()
		if got := count("metriclabAsked.length") - asked; got != map[bool]int{true: 1}[wantAsked] {
			t.Errorf("%s: popstate to %s: confirm asked %d times", what, url, got)
		}
		wantNavigated := !wantPushed
		if got := count("metriclabNavigated.length") - navigated; got != map[bool]int{true: 1}[wantNavigated] {
			t.Errorf("%s: popstate to %s: go-app's listener called %d times, want it called %v", what, url, got, wantNavigated)
		}
		if got := count("history.pushed.length") - pushed; got != map[bool]int{true: 1}[wantPushed] {
			t.Errorf("%s: popstate to %s: %d entries pushed on the history", what, url, got)
		}
		if at := js.Global().Call("eval", "location.pathname + location.hash").String(); at != wantAt {
			t.Errorf("%s: popstate to %s: the address is %s, want %s", what, url, at, wantAt)
		}
	}

	load(&WithNav{Current: "/", Page: &playgroundHost{p: p}})
	here := "/" + p.Hash()
	js.Global().Get("history").Call("replaceState", nil, "", here)

	p.trainers[0].run.State = msg.StateIdle
	pop("idle", "/models", false, false, "/models", false)
	js.Global().Get("history").Call("replaceState", nil, "", here)

	p.trainers[0].run.State = msg.StateRunning
	pop("running, declined", "/models", false, true, here, true)
	if q := js.Global().Get("metriclabAsked").Index(count("metriclabAsked.length") - 1).String(); q != "Training arcface is under way: leaving this page stops it, and its work is lost. Leave?" {
		t.Errorf("running: asked %q", q)
	}
	pop("running, the playground's own fragment", "/#loss=cosface", false, false, "/#loss=cosface", false)
	pop("running, confirmed", "/jobs", true, true, "/jobs", false)

	v := NewVerify()
	v.st.Phase = PhaseTraining
	load(&WithNav{Current: "/verify", Page: &verifyHost{v: v}})
	js.Global().Get("history").Call("replaceState", nil, "", "/verify")
	if n := count(`metriclabListeners.filter(l => l.type === "popstate").length`); n != 0 || !js.Global().Get("onpopstate").Call("hasOwnProperty", navPopState).Bool() {
		t.Errorf("the Verify page after the playground: the window has %d popstate listeners beside its onpopstate %v, want none and WithNav's", n, js.Global().Get("onpopstate"))
	}
	pop("Verify training, declined", "/", false, true, "/verify", true)
	// A popstate that changes the query alone stays on the page: go-app
	// loads the route's page anew, which it matches to the one mounted,
	// and updates in place; the page trains on, and leaving still asks.
	pop("Verify training, its query alone", "/verify?model=b", false, false, "/verify", false)
	load(&WithNav{Current: "/verify", Page: &verifyHost{v: NewVerify()}})
	pop("Verify training, after its query changed: declined", "/", false, true, "/verify", true)

	load(&blankPage{})
	if js.Global().Get("onpopstate").Call("hasOwnProperty", navPopState).Bool() {
		t.Error("WithNav dismounted: the window's onpopstate is still WithNav's, want go-app's back")
	}
	pop("WithNav dismounted", "/models", false, false, "/models", false)
}

// blankPage is a page of nothing, which takes WithNav's place.
type blankPage struct {
	app.Compo
	ctx app.Context // as mounted: a context of the engine, for OnNav
}

func (b *blankPage) OnMount(ctx app.Context) { b.ctx = ctx }
func (b *blankPage) Render() app.UI          { return app.Div() }

// TestBackDeclinedKeepsForward: a Back or Forward declined while the page
// trains goes back to the page's entry of the history, and keeps the
// entries after it. The stand-in history under node holds its entries
// and their state (cloned, as the browser does), and traverses as
// Chromium does: the user's Back or Forward at once, with a popstate
// whose state is the entry's; history.go later (metriclabTraverse), or
// never, where the browser drops it. go-app's part is played by the test:
// its onpopstate records where it would navigate; for a link, the page
// loaded, its entry pushed, and WithNav's OnNav. The tab has been to
// /models, /jobs, / (the playground, training) and /verify, and came
// back to /, whose settings then changed (replaceHash, which keeps the
// entry's state). Declined, a Back to /jobs goes forward again (history.go(1)),
// whose popstate neither asks nor reaches go-app: the history still has
// its four entries, /verify the one after the page's; a Forward to
// /verify the same, the other way; a Back over two entries (the
// browser's list of them) goes forward two. Should the browser drop
// history.go, nothing waits on it: another Back asks again, and goes
// back to the page's entry from where it is; a Forward then landing on
// the page's entry changes nothing. A link then pushes the entry after
// the browser's, and a Back from it, declined, comes back to
// it. Before, a declined Back pushed the page's address, which dropped
// /verify.
func TestBackDeclinedKeepsForward(t *testing.T) {
	p := NewPlayground()
	p.nonce = "test"
	e, _ := mountInDocument(t, &blankPage{})
	js.Global().Call("eval", `globalThis.addEventListener = () => {}
	globalThis.removeEventListener = () => {}
	globalThis.metriclabAsked = []
	globalThis.metriclabConfirm = false
	globalThis.confirm = text => { metriclabAsked.push(text); return metriclabConfirm }
	globalThis.location = { pathname: "/models", search: "", hash: "" }
	const show = url => { const u = new URL(url, "http://metriclab"); location.pathname = u.pathname; location.search = u.search; location.hash = u.hash }
	const resolve = url => { const u = new URL(url, "http://metriclab" + location.pathname + location.search + location.hash); return u.pathname + u.search + u.hash }
	const clone = state => state === undefined ? null : JSON.parse(JSON.stringify(state))
	globalThis.history = {
		entries: [{ url: "/models", state: null }], index: 0, pending: [],
		get state() { return clone(this.entries[this.index].state) },
		get length() { return this.entries.length },
		replaceState(state, title, url) {
			const e = this.entries[this.index]
			e.state = clone(state)
			if (url !== undefined) { e.url = resolve(url); show(e.url) }
		},
		pushState(state, title, url) {
			this.entries.splice(this.index + 1)
			this.entries.push({ url: resolve(url), state: clone(state) })
			this.index++
			show(this.entries[this.index].url)
		},
		go(delta) { this.pending.push(delta) },
	}
	globalThis.metriclabNavigated = []
	globalThis.onpopstate = () => { metriclabNavigated.push(location.pathname + location.search + location.hash) }
	globalThis.metriclabUserGo = delta => {
		const i = history.index + delta
		if (i < 0 || i >= history.entries.length) return
		history.index = i
		show(history.entries[i].url)
		onpopstate.call(globalThis, { state: history.state })
	}
	globalThis.metriclabTraverse = () => { for (const d of history.pending.splice(0)) metriclabUserGo(d) }
	globalThis.metriclabWhere = () => history.entries.map((e, i) => (i === history.index ? "*" : "") + e.url.replace(/#.*/, "#…")).join(" ")`)
	defer js.Global().Call("eval", `for (const k of ["addEventListener", "removeEventListener", "metriclabAsked", "metriclabConfirm", "confirm", "location", "history", "metriclabNavigated", "onpopstate", "metriclabUserGo", "metriclabTraverse", "metriclabWhere"]) delete globalThis[k]`)
	count := func(expr string) int { return js.Global().Call("eval", expr).Int() }
	where := func() string { return js.Global().Call("metriclabWhere").String() }

	first := &blankPage{}
	w := &WithNav{Current: "/models", Page: first}
	if err := e.Load(w); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	ctx := first.ctx
	// link: go-app loads the page, pushes its entry, then tells OnNav.
	link := func(current string, page app.UI, url string) {
		t.Helper()
		if err := e.Load(&WithNav{Current: current, Page: page}); err != nil {
			t.Fatal(err)
		}
		e.ConsumeAll()
		js.Global().Get("history").Call("pushState", nil, "", url)
		w.OnNav(ctx)
	}
	link("/jobs", &blankPage{}, "/jobs")
	link("/", &playgroundHost{p: p}, "/"+p.Hash())
	link("/verify", &blankPage{}, "/verify")
	js.Global().Call("metriclabUserGo", -1) // go-app navigates back to /
	if err := e.Load(&WithNav{Current: "/", Page: &playgroundHost{p: p}}); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	w.OnNav(ctx)
	const page = "/models /jobs */#… /verify"
	if got := where(); got != page || count("metriclabNavigated.length") != 1 || count("metriclabAsked.length") != 0 {
		t.Fatalf("idle, Back from /verify: the history %s, go-app told %d times, asked %d; want %s, told once, not asked", got, count("metriclabNavigated.length"), count("metriclabAsked.length"), page)
	}

	p.trainers[0].run.State = msg.StateRunning
	replaceHash(p.Hash()) // the playground's settings changed: the entry keeps its stamp
	// user goes delta, declines; then the browser traverses what
	// history.go asked (or drops it).
	user := func(what string, delta int, wantAsked bool, wantGo []int, traverse bool, wantWhere string) {
		t.Helper()
		asked, navigated := count("metriclabAsked.length"), count("metriclabNavigated.length")
		js.Global().Call("metriclabUserGo", delta)
		e.ConsumeAll()
		var gone []int
		for i := 0; i < js.Global().Get("history").Get("pending").Length(); i++ {
			gone = append(gone, js.Global().Get("history").Get("pending").Index(i).Int())
		}
		if len(gone) != len(wantGo) || (len(gone) == 1 && gone[0] != wantGo[0]) {
			t.Errorf("%s: history.go(%v), want history.go(%v)", what, gone, wantGo)
		}
		if traverse {
			js.Global().Call("metriclabTraverse")
		} else {
			js.Global().Get("history").Set("pending", js.Global().Get("Array").New())
		}
		e.ConsumeAll()
		if got := count("metriclabAsked.length") - asked; got != map[bool]int{true: 1}[wantAsked] {
			t.Errorf("%s: confirm asked %d times, want %v", what, got, wantAsked)
		}
		if got := count("metriclabNavigated.length") - navigated; got != 0 {
			t.Errorf("%s: go-app's onpopstate called %d times, want none", what, got)
		}
		if got := where(); got != wantWhere {
			t.Errorf("%s: the history %s, want %s", what, got, wantWhere)
		}
	}
	user("Back, declined", -1, true, []int{1}, true, page)
	user("Forward, declined", 1, true, []int{-1}, true, page)
	user("Back two entries, declined", -2, true, []int{2}, true, page)
	user("Back, declined, history.go dropped", -1, true, []int{1}, false, "/models */jobs /#… /verify")
	user("Back again, declined", -1, true, []int{2}, true, page)
	user("Back, declined, history.go dropped", -1, true, []int{1}, false, "/models */jobs /#… /verify")
	user("Forward to the page's entry", 1, false, nil, true, page)
	user("Back, declined, history.go dropped", -1, true, []int{1}, false, "/models */jobs /#… /verify")

	link("/models", &playgroundHost{p: p}, "/models") // a page that trains, at /models, linked to from /jobs's entry
	user("after a link from where history.go was dropped: Back, declined", -1, true, []int{1}, true, "/models /jobs */models")
}
