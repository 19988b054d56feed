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
// Files: config.go (the URL query), channel_js.go and data_js.go (the
// BroadcastChannel), message.go and pump.go (decoding), place.go and
// demo.go (snapshots on the sphere), scene.go (the state), frame.go (where
// the picture goes, clear of the legend), hud.go and text.go (the text
// layer's layout, measured in the font it is drawn in), font_js.go (that
// font: the browser's, through a 2D canvas), pace.go and renderer.go (how
// often to repaint).
//
// Symbols: N = points, D = embedding dimension, C = classes.
package view
