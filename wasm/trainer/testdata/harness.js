// Runs web/trainer.js and trainer.wasm in node as if in a Web Worker, and
// drives one MNIST run through the worker protocol. Used by
// worker_test.go: node harness.js WEB_DIR TRAINER_WASM WASM_EXEC_DIR MNIST_DIR
// It prints one JSON line: what the test checks.
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const [webDir, wasmPath, execDir, mnistDir] = process.argv.slice(2);

globalThis.self = globalThis;
globalThis.importScripts = (f) => { require(path.join(execDir, f)); };
const realFetch = globalThis.fetch;
globalThis.fetch = async (url) => {
  if (url === "trainer.wasm") {
    return new Response(fs.readFileSync(wasmPath), { headers: { "Content-Type": "application/wasm" } });
  }
  if (url.startsWith("/data/mnist/")) {
    return new Response(fs.readFileSync(path.join(mnistDir, url.slice("/data/mnist/".length))));
  }
  return new Response("not found", { status: 404 });
};

const got = { states: [], progress: 0, snapshots: 0, broadcast: 0, errors: [], epochEnd: null, exportBytes: 0,
  exportVectors: 0, exportMetadataHead: "", pauseMs: -1, stepWhilePaused: 0, trainers: new Set(), lastSnapshot: null };
let pausedAt = 0, pauseSent = 0, stepSent = false;
const send = (cmd, extra) => self.onmessage({ data: JSON.stringify(Object.assign({ v: 1, type: "command", trainer: "t1", command: cmd }, extra)) });
const bc = new BroadcastChannel("metriclab-t1");
bc.onmessage = (e) => { if (JSON.parse(e.data).type === "snapshot") got.broadcast++; };

globalThis.postMessage = (s) => {
  const m = JSON.parse(s);
  if (m.trainer === "" && m.type === "state" && got.ready === undefined) {
    got.ready = m.state; // the worker's "ready" before any run
    return;
  }
  got.trainers.add(m.trainer);
  switch (m.type) {
  case "state":
    got.states.push(m.state);
    if (m.state === "paused" && pauseSent) {
      got.pauseMs = Date.now() - pauseSent;
      pausedAt = got.progress;
      setTimeout(() => { stepSent = true; send({ op: "step" }); }, 50);
    }
    if (m.state === "done") send({ op: "export" });
    if (m.state === "failed") finish();
    break;
  case "progress":
    got.progress++;
    if (stepSent && got.states[got.states.length - 1] === "paused" && ++got.stepWhilePaused === 1) {
      // The step's progress: resume a while after it, so that a second
      // step's would be seen, however long the machine took to this one.
      setTimeout(() => send({ op: "resume" }), 250);
    }
    if (m.progress.verification) got.epochEnd = m.progress;
    if (got.progress === 3 && !pauseSent) { pauseSent = Date.now(); send({ op: "pause" }); }
    break;
  case "snapshot":
    got.snapshots++;
    got.lastSnapshot = { dim: m.snapshot.dim, points: m.snapshot.points.length, labels: m.snapshot.labels.length,
      weights: (m.snapshot.weights || []).length, genuine: m.snapshot.genuine.reduce((a, b) => a + b, 0),
      impostor: m.snapshot.impostor.reduce((a, b) => a + b, 0), margin: m.snapshot.margin };
    break;
  case "export":
    got.exportBytes = Buffer.from(m.export.model, "base64").length;
    got.exportVectors = m.export.vectors.trim().split("\n").length;
    got.exportMetadataHead = m.export.metadata.split("\n")[0];
    finishOnce(() => got.broadcast >= got.snapshots); // the channel's messages arrive after the worker's

    break;
  case "error":
    got.errors.push(m.error);
    break;
  }
};

// finishOnce finishes once cond() holds, polled every 10 ms, or after
// 10 s (the test then reads the counts): no fixed wait that a loaded
// machine could outlast.
function finishOnce(cond) {
  const start = Date.now();
  const poll = () => (cond() || Date.now() - start > 10000 ? setTimeout(finish, 50) : setTimeout(poll, 10));
  poll();
}

function finish() {
  got.trainers = [...got.trainers];
  console.log(JSON.stringify(got));
  process.exit(0);
}
setTimeout(() => { got.errors.push("timeout"); finish(); }, 120000);

vm.runInThisContext(fs.readFileSync(path.join(webDir, "trainer.js"), "utf8"), { filename: "trainer.js" });
// Sent before Go is ready: trainer.js must queue it.
send({ op: "start", config: { data: "mnist", arch: "mlp", loss: "arcface", dim: 3, epochs: 1, batch: 64, lr: 0.003,
  opt: "adam", classes: "0-1", seed: 1 } });
