// Package assets holds the data that ships with metriclab, embedded in the
// binaries that need it.
//
// The face cascades come from github.com/esimov/pigo v1.4.6 (cascade/
// facefinder and cascade/puploc, copied byte for byte), by Endre Simo,
// under the MIT licence reproduced in cascade/LICENSE:
//
//   - FaceFinder is pigo's face detection cascade (a pixel intensity
//     comparison cascade, Markuš et al. 2013, "Object Detection with Pixel
//     Intensity Comparisons Organized in Decision Trees"), 240 KB;
//   - PupLoc is pigo's pupil localisation cascade (Markuš et al. 2014,
//     "Eye pupil localization with an ensemble of randomized trees"),
//     1.2 MB.
//
// face.NewDetector (metriclab/core/face) takes them; natively they come
// from here, and the server serves them to the verify page (whose binary
// does not carry them). The slices are shared: never modify them.
package assets

import _ "embed"

// FaceFinder is pigo v1.4.6's cascade/facefinder.
//
//go:embed cascade/facefinder
var FaceFinder []byte

// PupLoc is pigo v1.4.6's cascade/puploc.
//
//go:embed cascade/puploc
var PupLoc []byte
