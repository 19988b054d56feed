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

// until resolves once cond() holds, polled every 10 ms, or after 10 s
// (the test then reads what was posted): no fixed wait that a loaded
// machine could outlast.
const until = (cond) => new Promise((resolve) => {
  const start = Date.now();
  const poll = () => (cond() || Date.now() - start > 10000 ? resolve() : setTimeout(poll, 10));
  poll();
});

require(path.resolve(webDir, "trainer.js"));
send("t1"); // while trainer.wasm loads: queued
(async () => {
  await until(() => posted.some((m) => m.trainer === "t1" && m.type === "state")); // the load failed, t1 answered
  send("t2"); // after the failure
  self.onmessage({ data: "not json" });
  await until(() => posted.length >= 8);
  setTimeout(() => { // one more moment for a message too many
    console.log(JSON.stringify(posted.map((m) => ({ type: m.type, trainer: m.trainer, state: m.state || "", error: m.error || "" }))));
    process.exit(0);
  }, 50);
})();
