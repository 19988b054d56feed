// Runs web/trainer.js and trainer.wasm in node as if in a Web Worker, and
// sends it commands that are malformed, out of order or out of range,
// between runs on enrolled images. Used by worker_test.go: node
// protocol_harness.js WEB_DIR TRAINER_WASM WASM_EXEC_DIR. It prints one
// JSON line: for each step, its name, the messages that answered it
// ({type, trainer, state, error, id}) and how many of the ports counted
// (counted) the worker closed.
//
// A step ends at the answer to a probe sent after it (an unknown command,
// answered in order after the step's command), or, for a run, at its
// state done, paused or failed.
"use strict";
const fs = require("fs");
const path = require("path");
const [webDir, wasmPath, execDir] = process.argv.slice(2);

globalThis.self = globalThis;
// stopGo ends the Go program as a fatal error (out of memory) would:
// trainer.js's go.run returns, and Go's callbacks throw from then on.
let stopGo = null;
globalThis.importScripts = (f) => {
  require(path.resolve(execDir, f));
  const run = Go.prototype.run;
  Go.prototype.run = function (instance) {
    // Stopped as a fatal error stops it, with a timer of its own still
    // set (wasm_exec.js's scheduleTimeoutEvent, which calls back into
    // Go), as the runtime's timers may be.
    const stopped = new Promise((resolve) => {
      stopGo = () => {
        this._scheduledTimeouts.set(-1, setTimeout(() => this._resume(), 50));
        this.exited = true;
        resolve();
      };
    });
    return Promise.race([run.call(this, instance), stopped]);
  };
};
// uncaught gathers what the worker throws outside a call (a callback of
// Go's after it stopped) while a viewer listens (viewer), as a message of
// type "uncaught"; at any other time it ends the harness.
let uncaught = null;
process.on("uncaughtException", (e) => {
  if (!uncaught) {
    console.error(e);
    process.exit(1);
  }
  uncaught.push({ type: "uncaught", trainer: "", state: "", error: String(e), id: "" });
});
globalThis.fetch = async (url) => {
  if (url === "trainer.wasm") {
    return new Response(fs.readFileSync(wasmPath), { headers: { "Content-Type": "application/wasm" } });
  }
  return new Response("not found", { status: 404 });
};

let waiting = null; // the current step's end: (message) => whether it ends the step
let got = [];
let exported = ""; // the model of the latest export, base64
globalThis.postMessage = (s) => {
  const m = JSON.parse(s);
  if (m.type === "export") exported = m.export.model;
  if (m.type === "error" && m.error.includes('"probe"')) {
    waiting(null);
    return;
  }
  if (["progress", "snapshot"].includes(m.type)) return; // a run's, not an answer
  got.push({ type: m.type, trainer: m.trainer, state: m.state || "", error: m.error || "", id: m.id || "" });
  if (waiting) waiting(m);
};
const raw = (data, ports) => self.onmessage({ data, ports });
const send = (command, ports) => raw(JSON.stringify({ v: 1, type: "command", trainer: "t1", command }), ports);

// samples: per images of each class, 1×side×side, none of class skip.
function samples(classes, per, side, skip) {
  const s = { channels: 1, height: side, width: side, classes, labels: [], pixels: [] };
  for (let i = 0; i < classes.length * per; i++) {
    const l = i % classes.length;
    if (l === skip) continue;
    s.labels.push(l);
    for (let k = 0; k < side * side; k++) s.pixels.push(((i * 31 + k * 7) % 17) / 16);
  }
  return s;
}
const config = (over) => Object.assign({ data: "enrolled", arch: "mlp", loss: "arcface", dim: 4, epochs: 1, batch: 8, opt: "adam", seed: 1 }, over);
const start = (over, smp) => send({ op: "start", config: config(over), samples: smp || samples(["a", "b"], 10, 16) });
// member starts worker 1 of a data-parallel pair whose worker 0 is the
// harness, at the other end of a MessageChannel: peer(port, message)
// answers the worker's first message, {step, loss, grad}.
function member(peer) {
  const c = new MessageChannel();
  c.port2.onmessage = (e) => { c.port2.onmessage = null; peer(c.port2, e.data); };
  const command = { op: "start", workers: 2, worker: 1, config: config({}), samples: samples(["a", "b"], 10, 16) };
  self.onmessage({ data: JSON.stringify({ v: 1, type: "command", trainer: "t1", command }), ports: [counted(c.port1)] });
}
// counted makes port count its closing in its step's "closed".
let closed = 0;
function counted(port) {
  port.close = () => { closed++; MessagePort.prototype.close.call(port); };
  return port;
}
// port is one counted port to send with a message that takes none.
const port = () => [counted(new MessageChannel().port1)];
// lead starts worker 0 of a data-parallel pair whose worker 1 is the
// harness: peer(port) sends worker 1's messages; gradBytes is the size of
// a gradient of config({}), learnt from worker 1's in an earlier step.
let gradBytes = 0;
function lead(peer) {
  const c = new MessageChannel();
  const command = { op: "start", workers: 2, worker: 0, config: config({}), samples: samples(["a", "b"], 10, 16) };
  self.onmessage({ data: JSON.stringify({ v: 1, type: "command", trainer: "t1", command }), ports: [counted(c.port1)] });
  peer(c.port2);
}

const run = true; // the step ends at the run's state done, paused or failed
const steps = [
  // Ports sent with a message that takes none are closed.
  ["not json", () => raw("{", port())],
  ["an object JSON cannot write", () => raw({ v: 1, type: "command", big: 1n }, port())],
  // A JavaScript error of two lines, a tab among them, and a command
  // of megabytes: each answered with the schema's one line.
  ["an object whose JSON throws two lines", () => raw({ v: 1, type: "command", toJSON() { throw new Error("line one\r\n\tline two"); } })],
  ["an unknown command of 5000 characters", () => send({ op: "x".repeat(5000) })],
  ["another schema", () => raw(JSON.stringify({ v: 2, type: "command", command: { op: "stop" } }), port())],
  ["not a command", () => raw(JSON.stringify({ v: 1, type: "state", state: "idle" }), port())],
  ["step before start", () => send({ op: "step" }, port())],
  ["export before start", () => send({ op: "export" }, port())],
  ["embed before start", () => send({ op: "embed", id: "e0", samples: samples(["a"], 1, 16) }, port())],
  ["load no model", () => send({ op: "load", id: "l0", model: "AAAA" }, port())],
  ["start without config", () => send({ op: "start" })],
  ["start of other data", () => send({ op: "start", config: config({ data: "cifar" }) })],
  ["start without samples", () => send({ op: "start", config: config({}) })],
  ["start of huge samples", () => start({}, { channels: 1, height: 1e9, width: 1e9, classes: ["a"], labels: [0], pixels: [0] })],
  ["start of huge counts", () => start({ batch: 1e6, epochs: 1e9, dim: 1e9 })],
  ["start of unknown names", () => start({ arch: "vgg", loss: "magic", augment: "sparkles" })],
  ["start too large to train", () => start({ arch: "iresnet18", dim: 512, batch: 4096 }, samples(["a", "b"], 2300, 16))],
  ["start of missing ports", () => send({ op: "start", workers: 3, worker: 0, config: config({}), samples: samples(["a", "b"], 10, 16) })],
  ["start of a group, a null message", () => member((port) => port.postMessage(null)), run],
  ["start of a group, a gradient of odd bytes", () => member((port) => port.postMessage({ step: 0, loss: 0, grad: new ArrayBuffer(5) })), run],
  ["start of a group, a gradient of text", () => member((port) => port.postMessage({ step: 0, loss: 0, grad: "1,2" })), run],
  // Five means at once: the worker takes one a step, so its queue (two)
  // overflows whatever it has taken meanwhile.
  ["start of a group, a peer steps ahead", () => member((port, m) => {
    for (let s = 0; s < 5; s++) port.postMessage({ step: s, loss: 0, grad: new ArrayBuffer(m.grad.byteLength) });
  }), run],
  // A peer that keeps to the protocol: each gradient comes back as the
  // mean, and the run ends.
  ["start of a group, a peer that answers", () => member((port, m) => {
    port.onmessage = (e) => port.postMessage(e.data);
    port.postMessage(m);
    gradBytes = m.grad.byteLength;
  }), run],
  // A peer whose loss is not a number, at every step (JSON has no NaN for
  // the progress that worker 0 would post of it).
  ["lead of a group, a peer's loss of NaN", () => lead((port) => {
    port.onmessage = (e) => port.postMessage({ step: e.data.step + 1, loss: NaN, grad: new ArrayBuffer(gradBytes) });
    port.postMessage({ step: 0, loss: NaN, grad: new ArrayBuffer(gradBytes) });
  }), run],
  // Its first step's update overflows the weights, its own loss finite:
  // the snapshot after it is refused, not posted (its NaN embeddings).
  ["start, a learning rate that diverges", () => start({ loss: "softmax", opt: "sgd", lr: 1e30 }), run],
  ["triplet, a class without images", () => start({ loss: "triplet", batch: 12 }, samples(["a", "b", "c"], 8, 16, 1)), run],
  // Starts refused after a run: its model stays, and the export and
  // the embed that follow use it.
  ["start without config, after a run", () => send({ op: "start" })],
  ["start of other data, after a run", () => {
    const command = { op: "start", config: config({ data: "cifar" }) };
    self.onmessage({ data: JSON.stringify({ v: 1, type: "command", trainer: "t1", command }), ports: [counted(new MessageChannel().port1)] });
  }],
  ["start of too few ports, after a run", () => {
    const command = { op: "start", workers: 3, worker: 0, config: config({}), samples: samples(["a", "b"], 10, 16) };
    self.onmessage({ data: JSON.stringify({ v: 1, type: "command", trainer: "t1", command }), ports: [counted(new MessageChannel().port1)] });
  }],
  ["export after the run", () => send({ op: "export" })],
  ["embed other shapes", () => send({ op: "embed", id: "e1", samples: samples(["a"], 2, 20) })],
  ["reset", () => send({ op: "reset" }, port())],
  ["export after reset", () => send({ op: "export", id: "x0" })],
  // A start of one worker takes no ports either.
  ["start, paused", () => {
    send({ op: "start", config: config({ epochs: 50 }), samples: samples(["a", "b"], 10, 16) }, port());
    send({ op: "pause" });
  }, run],
  ["embed while paused", () => send({ op: "embed", id: "e2", samples: samples(["a"], 1, 16) })],
  ["stop", () => send({ op: "stop" })],
  // While the run waits between steps for the event loop, the worker's
  // queue (64) takes as many commands (resumes, which answer nothing);
  // the embed after them is dropped.
  ["start, an embed dropped", () => {
    start({});
    for (let i = 0; i < 64; i++) send({ op: "resume" });
    send({ op: "embed", id: "e3", samples: samples(["a"], 1, 16) }, port());
  }, run],
  // A start refused while a run trains halts it in state failed, with
  // its model: a stop answers, as it does of any run.
  ["start refused while running", () => { start({ epochs: 50 }); send({ op: "start" }); }, run],
  ["stop after the refused start", () => send({ op: "stop" })],
  // A load without samples is answered by the state idle, with its ID.
  ["load, nothing to embed", () => send({ op: "load", id: "l1", model: exported })],
];

(async () => {
  require(path.resolve(webDir, "trainer.js"));
  const out = [];
  const timer = setTimeout(() => { out.push({ name: "timeout", msgs: got }); finish(out); }, 120000);
  await new Promise((resolve) => { waiting = (m) => { if (m && m.state === "idle") resolve(); }; }); // ready
  got = [];
  for (const [name, f, isRun] of steps) out.push({ name, ...await act(f, isRun) });
  // A viewer that loads after the runs (the page reloads its viewers when
  // compare mode comes or goes) says so on the run's channel, and hears
  // what it missed: the last run's progress (it had none: a start was
  // refused before its first step), snapshot and state.
  out.push({ name: "a viewer that loads after the runs", msgs: await viewer(), closed: 0 });
  // After a reset (the page resets a finished run's trainer when its
  // panel's loss changes) there is no run to show: a viewer that loads
  // then hears nothing of the run before.
  await act(() => send({ op: "reset" }));
  out.push({ name: "a viewer that loads after a reset", msgs: await viewer(), closed: 0 });
  // A viewer that loads after a run failed hears why, as the playground
  // had it: the error before the state; one that failed before its first
  // snapshot too (a start refused after the reset).
  await act(() => send({ op: "start" }));
  out.push({ name: "a viewer that loads after a refused start", msgs: await viewer(), closed: 0 });
  await act(() => lead((port) => {
    port.onmessage = (e) => port.postMessage({ step: e.data.step + 1, loss: NaN, grad: new ArrayBuffer(gradBytes) });
    port.postMessage({ step: 0, loss: 0, grad: new ArrayBuffer(gradBytes) });
  }), run);
  out.push({ name: "a viewer that loads after a run failed", msgs: await viewer(), closed: 0 });
  // A run that early stopping ended where training diverged (after epoch
  // 1, at step 3, the loss is NaN) is done, with a note before the state;
  // a viewer that loads after it hears the note too, as the page had it.
  out.push({ name: "a run that diverged after its best epoch", ...await act(() => start({ loss: "softmax", opt: "sgd", lr: 1e5, epochs: 4, early_stop: 3 }), run) });
  out.push({ name: "a viewer that loads after a run that diverged", msgs: await viewer(), closed: 0 });
  // The Go program stops (out of memory): its viewer hears the error and
  // the state failed that the page hears, and so does a viewer that loads
  // after (before, it kept the run's last picture with no word).
  out.push({ name: "a viewer when the Go program stops", msgs: await viewer(() => stopGo()), closed: 0 });
  out.push({ name: "a viewer that loads after the Go program stopped", msgs: await viewer(), closed: 0 });
  clearTimeout(timer);
  finish(out);
})();

// act runs step f and returns its answers and how many of its ports the
// worker closed: the step ends at the answer to a probe sent after it,
// or, for a run, at its state done, paused or failed.
async function act(f, isRun) {
  await new Promise((resolve) => {
    waiting = (m) => {
      if (isRun ? m && ["done", "paused", "failed"].includes(m.state) : m === null) resolve();
    };
    f();
    if (!isRun) send({ op: "probe" });
  });
  const step = { msgs: got, closed };
  got = [];
  closed = 0;
  return step;
}

// viewer listens on the run's BroadcastChannel, posts the viewer's ready
// message there (or calls then, instead), and returns what it hears there
// within a second, and what the worker threw meanwhile.
function viewer(then) {
  return new Promise((resolve) => {
    const bc = new BroadcastChannel("metriclab-t1");
    const msgs = [];
    bc.onmessage = (e) => {
      const m = JSON.parse(e.data);
      msgs.push({ type: m.type, trainer: m.trainer, state: m.state || "", error: m.error || "", id: m.id || "" });
    };
    uncaught = msgs;
    if (then) then();
    else bc.postMessage(JSON.stringify({ v: 1, type: "state", trainer: "viz", state: "viz-ready" }));
    setTimeout(() => { bc.close(); uncaught = null; resolve(msgs); }, 1000);
  });
}

function finish(out) {
  console.log(JSON.stringify(out));
  process.exit(0);
}
