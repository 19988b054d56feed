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

// blankPage is a page of nothing, which takes WithNav's place.
type blankPage struct{ app.Compo }

func (b *blankPage) Render() app.UI { return app.Div() }
