// Package sphere is the geometry of the hypersphere viewer: it places
// D-dimensional embeddings on the unit sphere in three dimensions (PCA for
// D > 3), rotates and projects them to the screen, works out the decision
// sectors of class weights on the unit circle, and draws nothing itself.
// It is plain Go with no build tags, so it is tested natively and under
// GOOS=js GOARCH=wasm alike; the ebiten program in wasm/viz only draws what
// this package computes.
//
// Symbols used throughout:
//
//	N = number of points (embeddings), D = embedding dimension, C = classes.
//
// Coordinates. World coordinates are those of the placed embeddings (the
// first three principal axes for D > 3). A rotation R maps world to view
// coordinates: in view space x points right, y up and z towards the viewer,
// so the view-space point (0, 0, 1) faces the viewer at the centre of the
// screen. Screen coordinates are pixels with y pointing down.
//
// Angles on the unit circle (D = 2) are in radians, counter-clockwise from
// the x axis, as math.Atan2(y, x) gives them.
//
// Arithmetic is float64 throughout; the float32 inputs of a snapshot are
// widened once, when they are placed.
package sphere
