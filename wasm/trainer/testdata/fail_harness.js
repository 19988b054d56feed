// Runs web/trainer.js in node as if in a Web Worker whose trainer.wasm
// cannot be fetched (HTTP 404), with a command sent before the failure and
// one after. Used by worker_test.go: node fail_harness.js WEB_DIR
// WASM_EXEC_DIR. It prints one JSON line: the messages posted, in order.
"use strict";
const path = require("path");
const [webDir, execDir] = process.argv.slice(2);

globalThis.self = globalThis;
globalThis.importScripts = (f) => { require(path.resolve(execDir, f)); };
globalThis.fetch = async () => new Response("not found", { status: 404 });
const posted = [];
globalThis.postMessage = (s) => { posted.push(JSON.parse(s)); };
const send = (trainer) => self.onmessage({ data: JSON.stringify({ v: 1, type: "command", trainer, command: { op: "start" } }) });

require(path.resolve(webDir, "trainer.js"));
send("t1"); // while trainer.wasm loads: queued
setTimeout(() => {
  send("t2"); // after the failure
  self.onmessage({ data: "not json" });
  setTimeout(() => {
    console.log(JSON.stringify(posted.map((m) => ({ type: m.type, trainer: m.trainer, state: m.state || "", error: m.error || "" }))));
    process.exit(0);
  }, 50);
}, 200);
