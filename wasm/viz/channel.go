//go:build js && wasm

package main

import (
	"errors"
	"syscall/js"

	"metriclab/wasm/viz/view"
)

// rawQueue is how many received messages may wait for the decoder; past
// that the oldest progress or snapshot waiting is dropped for the newest
// message (view.Offer: a JS callback must not block).
const rawQueue = 64

// listen opens the BroadcastChannel name, decodes its messages on a
// goroutine (see view.Pump) and sends the results to events. It posts the
// viewer's ready message once at the start, and again for every ping. The
// channel stays open for the life of the page.
func listen(name string, events chan<- view.Event) error {
	ctor := js.Global().Get("BroadcastChannel")
	if ctor.IsUndefined() {
		return errors.New("this browser has no BroadcastChannel: nothing to show")
	}
	bc := ctor.New(name)
	raw := make(chan []byte, rawQueue)
	jsonObj := js.Global().Get("JSON")
	onMessage := js.FuncOf(func(this js.Value, args []js.Value) any {
		s, ok := view.MessageText(jsonObj, args[0].Get("data"))
		if !ok {
			return nil
		}
		view.Offer(raw, []byte(s))
		return nil
	})
	bc.Set("onmessage", onMessage)
	reply := func(b []byte) { bc.Call("postMessage", string(b)) }
	go view.Pump(raw, events, reply)
	reply(view.ReadyMessage())
	return nil
}
