//go:build js && wasm

package view

import (
	"errors"
	"syscall/js"
)

// rawQueue is how many received messages may wait for the decoder; past
// that the oldest progress or snapshot waiting is dropped for the newest
// message (Offer: a JS callback must not block).
const rawQueue = 64

// Listen opens the BroadcastChannel name, decodes its messages on a
// goroutine (see Pump) and sends the results to events. It posts the
// viewer's ready message once at the start, and again for every ping. A
// message whose data is neither text nor an object JSON can write
// (MessageText), or that the browser could not deserialise
// (messageerror), is queued as nil, for Pump to say so. The channel stays
// open for the life of the page.
func Listen(name string, events chan<- Event) error {
	ctor := js.Global().Get("BroadcastChannel")
	if ctor.IsUndefined() {
		return errors.New("this browser has no BroadcastChannel: nothing to show")
	}
	bc := ctor.New(name)
	raw := make(chan []byte, rawQueue)
	jsonObj := js.Global().Get("JSON")
	onMessage := js.FuncOf(func(this js.Value, args []js.Value) any {
		var b []byte
		if s, ok := MessageText(jsonObj, args[0].Get("data")); ok {
			b = []byte(s)
		}
		Offer(raw, b)
		return nil
	})
	onMessageError := js.FuncOf(func(this js.Value, args []js.Value) any {
		Offer(raw, nil)
		return nil
	})
	bc.Set("onmessage", onMessage)
	bc.Set("onmessageerror", onMessageError)
	reply := func(b []byte) { bc.Call("postMessage", string(b)) }
	go Pump(raw, events, reply)
	reply(ReadyMessage())
	return nil
}
