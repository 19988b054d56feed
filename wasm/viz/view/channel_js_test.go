//go:build js && wasm

package view

import (
	"syscall/js"
	"testing"
	"time"
)

// TestListenUnreadable runs under node (GOOS=js GOARCH=wasm go test, with
// go_js_wasm_exec on PATH), whose BroadcastChannel is the browser's: a
// message whose data the viewer cannot read as JSON (a number, an object
// that JSON.stringify throws on), or that the browser could not
// deserialise (messageerror), shows a notice, as bad JSON text does.
// Before, it was dropped without a word.
func TestListenUnreadable(t *testing.T) {
	global := js.Global()
	// Keep the viewer's channel, to hand it a messageerror.
	global.Call("eval", `globalThis.listened = [];
		globalThis.BroadcastChannel = class extends BroadcastChannel {
			constructor(name) { super(name); listened.push(this); }
		};`)
	events := make(chan Event, 16)
	if err := Listen("viz-test", events); err != nil {
		t.Fatal(err)
	}
	viewer := global.Get("listened").Index(0)
	page := global.Get("BroadcastChannel").New("viz-test")
	defer page.Call("close")
	big := global.Get("Object").New()
	big.Set("n", global.Call("BigInt", 1))
	const unread = "viz: bad message: the viewer could not read it as JSON"
	for _, tc := range []struct {
		name string
		send func()
		want Event
	}{
		{"a state", func() { page.Call("postMessage", `{"v":1,"type":"state","trainer":"w1","state":"running"}`) }, Event{State: "running"}},
		{"text not JSON", func() { page.Call("postMessage", "{") }, Event{Notice: "viz: bad message: unexpected end of JSON input"}},
		{"a number", func() { page.Call("postMessage", 3) }, Event{Notice: unread}},
		{"an object with a BigInt", func() { page.Call("postMessage", big) }, Event{Notice: unread}},
		{"a messageerror", func() { viewer.Call("dispatchEvent", global.Get("MessageEvent").New("messageerror")) }, Event{Notice: unread}},
		{"a state after them", func() { page.Call("postMessage", `{"v":1,"type":"state","trainer":"w1","state":"done"}`) }, Event{State: "done"}},
	} {
		tc.send()
		select {
		case e := <-events:
			if e.Data != nil || e.Prog != nil || e.State != tc.want.State || e.Notice != tc.want.Notice {
				t.Errorf("%s: event %+v, want %+v", tc.name, e, tc.want)
			}
		case <-time.After(2 * time.Second):
			t.Errorf("%s: no event, want %+v", tc.name, tc.want)
		}
	}
}
