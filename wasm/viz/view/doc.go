// Package view is the hypersphere viewer without its screen: it reads the
// viewer's URL query, listens on its BroadcastChannel (Listen), decodes
// the messages of the trainers (a mirror of msg.Message), places
// snapshots on the sphere (package sphere does the geometry), and keeps
// the state of the picture — data, rotation, zoom, captions — with the
// geometry of the current view, for the ebiten program in wasm/viz to
// draw. It is plain Go with no build tags but for its JavaScript glue
// (*_js.go, tested under node), tested natively and under GOOS=js
// GOARCH=wasm; the ebiten package itself cannot run outside a browser
// document.
//
// Symbols: N = points, D = embedding dimension, C = classes.
package view
