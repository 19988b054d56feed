// metriclab's trainer worker: new Worker("trainer.js") runs trainer.wasm
// (wasm/trainer, Go) in this worker. See wasm/trainer/main.go for the
// messages it takes and posts (JSON strings of core/msg's Message).
//
// Messages that arrive while the wasm is still loading are queued; Go
// replaces self.onmessage when it is ready and calls self.metriclabDrain,
// which hands them over in order.
"use strict";

importScripts("wasm_exec.js");

const queue = [];
self.onmessage = (e) => { queue.push(e); };
self.metriclabDrain = () => {
  // Deliver on a fresh task, not inside Go's call.
  setTimeout(() => {
    const pending = queue.splice(0);
    for (const e of pending) self.onmessage(e);
  }, 0);
};

// started is set once trainer.wasm is loaded and its Go program runs.
let started = false;

// fail says that the worker cannot run (trainer.wasm failed to load, or
// its Go program stopped after it started), and answers so every command,
// those queued and those to come, under its trainer's id: a page that
// waits for an answer is never left waiting. The viewer of the last run
// started (self.metriclabViewer: its BroadcastChannel and trainer id, set
// by trainer.wasm) is told so too, and again when it loads again: Go's
// listener on that channel stopped with Go.
function fail(err) {
  const what = started ? "trainer.wasm stopped: " : "trainer.wasm failed to load: ";
  const lines = (trainer) => [
    JSON.stringify({ v: 1, type: "error", trainer, error: what + err }),
    JSON.stringify({ v: 1, type: "state", trainer, state: "failed" }),
  ];
  const say = (trainer) => { for (const s of lines(trainer)) self.postMessage(s); };
  say("");
  const viewer = self.metriclabViewer;
  if (viewer && viewer.channel) {
    const tell = () => { for (const s of lines(viewer.trainer)) viewer.channel.postMessage(s); };
    viewer.channel.onmessage = (e) => {
      try {
        const m = JSON.parse(e.data);
        if (m.type === "state" && m.trainer === "viz" && m.state === "viz-ready") tell();
      } catch (_) {
        // not a viewer's message
      }
    };
    tell();
  }
  self.onmessage = (e) => {
    let trainer = "";
    try {
      trainer = String(JSON.parse(e.data).trainer || "");
    } catch (_) {
      // not a command: answered without an id
    }
    say(trainer);
  };
  for (const e of queue.splice(0)) self.onmessage(e);
}

(async () => {
  const go = new Go();
  let result = null;
  if (WebAssembly.instantiateStreaming) {
    try {
      result = await WebAssembly.instantiateStreaming(fetch("trainer.wasm"), go.importObject);
    } catch (e) {
      result = null; // served without Content-Type application/wasm: compile from bytes
    }
  }
  if (!result) {
    const resp = await fetch("trainer.wasm");
    if (!resp.ok) throw new Error("trainer.wasm: HTTP " + resp.status);
    result = await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
  }
  started = true;
  await go.run(result.instance);
  // A fatal error (out of memory) ends the Go program: the browser's
  // console has its message. The timers it had set, and the JavaScript
  // callbacks it had made, would call into it again and throw "Go program
  // has already exited", an uncaught error of the worker's each time
  // (wasm_exec.js: _resume): they do nothing now.
  for (const t of go._scheduledTimeouts.values()) clearTimeout(t);
  go._resume = () => {};
  fail(new Error("the Go program exited (out of memory, or a fatal error: the browser's console says which); reload the page"));
})().catch(fail);
