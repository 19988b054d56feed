// Package face finds faces in grey video frames and turns them into encoder
// inputs, and scores embeddings for verification (1:1) and identification
// (1:k): the face side of the webcam enroll-and-verify page.
//
// Detection uses pigo (github.com/esimov/pigo, Markuš et al. 2013, "Object
// Detection with Pixel Intensity Comparisons Organized in Decision Trees")
// with its facefinder cascade, and its puploc cascade for the pupils
// (Markuš et al. 2014); both ship in package metriclab/assets, and
// NewDetector takes their bytes, so that the page's binary fetches them
// when it needs them instead of carrying them. Frames are grey, w×h bytes,
// row-major.
//
// Coordinates are continuous image coordinates: pixel (x, y) covers
// [x, x+1)×[y, y+1), so its centre is (x+½, y+½).
//
// The package imports only the standard library, pigo and metriclab/core/vec,
// so that the page (go-app, WebAssembly) can use it without the engine.
// Embeddings are N×D float32, row-major.
package face
