// Package app is metriclab's browser page: the go-app v10 components of
// the playground, the server's models and jobs, and webcam verification,
// and the plain Go state they draw.
//
// The page (app.wasm) trains nothing itself. Each trainer is a Web Worker
// (web/trainer.js, trainer.wasm) that speaks the message schema of
// metriclab/core/msg (commands.go is the page's side of it); each
// trainer's hypersphere is drawn by viz.wasm in an <iframe> that listens
// on a BroadcastChannel of its own.
//
// State is plain Go with native tests, apart from the components that draw
// it: the URL hash (Settings, ParseHash), a trainer panel (Run), a server
// job being watched (JobWatch), the verify page (VerifyState: a Phase and
// its transitions, each returning the worker commands and storage it asks
// for), and the SVG geometry of curves and histograms. Components only
// wire state to the browser: Playground, TrainerPanel and Controls; Models
// (models.go, its upload and rename in modelsedit.go) and Jobs; Verify and its panels (CameraPanel, EnrollPanel, EncoderPanel,
// LivePanel); the form widgets of fields.go and TokenField, shared by
// every page; and confirm.go's confirmStep, the two steps (Delete or
// Remove, then Confirm or Keep) of a row of the Models and Jobs pages,
// and rowPlace, the row that takes the focus after.
//
// The server's API goes through one Client over a Transport: in the
// browser the window's fetch and EventSource (fetch_js.go; an upload
// that tells its progress, XMLHttpRequest), so that
// app.wasm carries no net/http; natively HandlerTransport, which calls an
// http.Handler in process, for tests (server/api's TestContract runs this
// client against the real API). The wire types are core/msg's, never
// declared here again.
//
// This package imports go-app, core/msg, core/face and core/vec: never the
// engine, the losses or ebiten. server/deps_test.go holds every package to
// the layout's allow-list. The loss parameters the controls offer come
// from lossparams.go, generated from losses.Params and checked against it
// by a native test.
package app
