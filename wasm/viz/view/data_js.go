//go:build js && wasm

package view

import "syscall/js"

// MessageText returns the text of a message's data: a string as it is, an
// object (structured-cloned) as JSON. It reports false for other data and
// for an object that JSON.stringify throws on (a cycle or a BigInt, which a
// BroadcastChannel carries): js.Value.Call panics with the exception, and a
// panic in a js.FuncOf callback ends the viewer.
func MessageText(jsonObj, data js.Value) (s string, ok bool) {
	switch data.Type() {
	case js.TypeString:
		return data.String(), true
	case js.TypeObject:
		defer func() {
			if recover() != nil {
				s, ok = "", false
			}
		}()
		v := jsonObj.Call("stringify", data)
		if v.Type() != js.TypeString { // a toJSON that returns undefined
			return "", false
		}
		return v.String(), true
	}
	return "", false
}
