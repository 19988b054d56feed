//go:build js && wasm

package app

import (
	"context"
	"syscall/js"
	"testing"
	"time"
)

// TestWatchVisibility: the page's visibility as every reads it follows
// the document: hidden while its visibilityState is "hidden", a signal
// when a visibilitychange shows it, none when one hides it, and the
// listener removed once the page's context is done. Under node, with a
// stand-in document.
func TestWatchVisibility(t *testing.T) {
	js.Global().Call("eval", `globalThis.document = {
		visibilityState: "visible", listeners: [],
		addEventListener(type, f) { if (type === "visibilitychange") this.listeners.push(f) },
		removeEventListener(type, f) { this.listeners = this.listeners.filter(g => g !== f) },
		set(state) { this.visibilityState = state; for (const f of this.listeners) f({}) },
	}`)
	defer js.Global().Delete("document")
	doc := js.Global().Get("document")
	c, stop := context.WithCancel(context.Background())
	v := watchVisibility(c)
	shown := func() bool {
		select {
		case <-v.Shown():
			return true
		default:
			return false
		}
	}
	for _, step := range []struct {
		state         string
		hidden, shown bool
	}{{"", false, false}, {"hidden", true, false}, {"visible", false, true}} {
		if step.state != "" {
			doc.Call("set", step.state)
		}
		if hidden, shown := v.Hidden(), shown(); hidden != step.hidden || shown != step.shown {
			t.Errorf("document %s: hidden %v, shown %v; want %v, %v", doc.Get("visibilityState"), hidden, shown, step.hidden, step.shown)
		}
	}
	stop()
	for end := time.Now().Add(5 * time.Second); doc.Get("listeners").Length() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the visibilitychange listener is still there after the page's context is done")
		}
	}
}
