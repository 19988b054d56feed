// Package app is metriclab's browser playground: the go-app v10 components
// of the page, and the plain Go logic they draw from.
//
// The page (app.wasm) trains nothing itself. Each trainer is a Web Worker
// (web/trainer.js, trainer.wasm) that speaks the message schema of
// metriclab/core/msg; each trainer's hypersphere is drawn by viz.wasm in an
// <iframe> that listens on a BroadcastChannel of its own. The page sends
// commands, reads state, progress and snapshots, and draws the controls,
// the curves (loss, accuracy), the histogram of genuine and impostor angles
// and the verification figures.
//
// The logic is kept in plain functions with native tests: the URL hash
// (Settings, ParseHash, Settings.Hash), the state of a trainer panel (Run,
// Run.Apply, Run.Status), and the SVG geometry of curves and histograms.
// The components only wire them: Playground (the page), TrainerPanel (one
// trainer), Controls, Chart and Histogram.
//
// This package imports go-app and metriclab/core/msg only: never the
// engine, the losses or ebiten (server's dependency test checks it). The
// loss parameters the controls offer come from lossparams.go, generated from
// losses.Params and checked against it by a native test.
package app
