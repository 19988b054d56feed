//go:build js && wasm

package view

import (
	"syscall/js"
	"testing"
)

// TestMessageText runs under node (GOOS=js GOARCH=wasm go test, with
// go_js_wasm_exec on PATH).
func TestMessageText(t *testing.T) {
	global := js.Global()
	jsonObj := global.Get("JSON")
	cyclic := global.Get("Object").New()
	cyclic.Set("self", cyclic)
	big := global.Get("Object").New()
	big.Set("n", global.Call("BigInt", 1))
	undef := global.Get("Object").New()
	undef.Set("toJSON", js.FuncOf(func(js.Value, []js.Value) any { return js.Undefined() }))
	obj := global.Get("Object").New()
	obj.Set("v", 1)
	for _, tc := range []struct {
		name string
		data js.Value
		want string
		ok   bool
	}{
		{"string", js.ValueOf(`{"v":1}`), `{"v":1}`, true},
		{"object", obj, `{"v":1}`, true},
		{"number", js.ValueOf(3), "", false},
		{"null", js.Null(), "", false},
		{"cycle", cyclic, "", false},           // JSON.stringify throws a TypeError
		{"BigInt", big, "", false},             // JSON.stringify throws a TypeError
		{"toJSON undefined", undef, "", false}, // JSON.stringify returns undefined
	} {
		s, ok := MessageText(jsonObj, tc.data)
		if s != tc.want || ok != tc.ok {
			t.Errorf("%s: messageText = %q, %v; want %q, %v", tc.name, s, ok, tc.want, tc.ok)
		}
	}
}
