//go:build !(js && wasm)

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// keysHarness runs the inline scripts of web/viz.html (stdin, JSON: their
// texts in order) in node, in a stand-in of the viewer's frame: every
// listener added to the window is kept, and a key pressed goes down to
// the canvas as in a browser, through the window's capture listeners,
// where ebiten's own (upstream ui_js.go, setCanvasEventHandlers) calls
// preventDefault on every key that reaches it. It prints, for each key
// pressed, whether its default (for Tab, the focus moving on) was
// prevented.
const keysHarness = `
const scripts = JSON.parse(require("fs").readFileSync(0, "utf8"));
const vm = require("vm");
const listeners = [];
const context = {
	window: { addEventListener(type, fn, opts) { listeners.push({ type, fn, capture: opts === true || !!(opts && opts.capture) }); } },
	HTMLCanvasElement: class { getContext() {} },
	document: { getElementById: () => ({ remove() {}, textContent: "" }) },
	Go: class { constructor() { this.importObject = {}; } run() { return Promise.resolve(); } },
	WebAssembly: {},
	fetch: () => Promise.reject(new Error("no network here")),
	console: { error() {}, log() {} },
};
context.window.window = context.window;
vm.createContext(context);
for (const s of scripts) vm.runInContext(s, context);
function press(type, key, shiftKey) {
	let stopped = false, prevented = false;
	const e = { type, key, shiftKey, stopPropagation() { stopped = true; }, stopImmediatePropagation() { stopped = true; }, preventDefault() { prevented = true; } };
	for (const l of listeners) if (l.type === type && l.capture && !stopped) l.fn.call(context.window, e);
	if (!stopped) e.preventDefault(); // ebiten's canvas listener
	return prevented;
}
const out = {};
for (const [name, key, shift] of [["Tab", "Tab", false], ["Shift+Tab", "Tab", true], ["a", "a", false], ["r", "r", false], ["+", "+", false], ["-", "-", false], ["ArrowLeft", "ArrowLeft", false], ["Shift", "Shift", true]]) {
	out[name] = { keydown: press("keydown", key, shift), keyup: press("keyup", key, shift) };
}
console.log(JSON.stringify(out));
`

// TestViewerLetsTabThrough: in the viewer's frame Tab and Shift+Tab keep
// their default, which moves the focus out of the frame, and the keys of
// the viewer (A, R, + and −, and any other) still reach ebiten. ebiten's
// canvas prevents the default of every key, and a keyboard that reached
// the viewer (Tab about 23 times on the playground) stayed there: the
// export buttons and the rest of the page were out of its reach.
func TestViewerLetsTabThrough(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	page, err := os.ReadFile("../../web/viz.html")
	if err != nil {
		t.Fatal(err)
	}
	var scripts []string
	for _, m := range regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(string(page), -1) {
		if !strings.Contains(m[1], "src=") {
			scripts = append(scripts, m[2])
		}
	}
	in, _ := json.Marshal(scripts)
	cmd := exec.Command(node, "-e", keysHarness)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got map[string]struct{ Keydown, Keyup bool }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for key, want := range map[string]bool{"Tab": false, "Shift+Tab": false, "a": true, "r": true, "+": true, "-": true, "ArrowLeft": true, "Shift": true} {
		if g := got[key]; g.Keydown != want || g.Keyup != want {
			t.Errorf("%s in the viewer: default prevented on keydown %v, keyup %v; want %v (false: it moves the focus on, out of the viewer)", key, g.Keydown, g.Keyup, want)
		}
	}
}
