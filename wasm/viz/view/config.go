package view

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"metriclab/core/msg"
)

// Config is what the iframe's URL query asks of the viewer:
//
//	?channel=NAME   the BroadcastChannel to listen on (default "metriclab")
//	?demo=1         draw a synthetic snapshot (for end-to-end tests)
//	&dim=D          its dimension (default 3; 2 for the circle, > 3 for PCA)
//	&n=N            its number of points (default 2000)
//	?rotate=0|1     the gentle auto-rotation of the sphere (default on;
//	                the viewer turns it off where WebGL draws on the CPU);
//	                compare mode turns it off so four viewers stay cheap
//
// What else the query holds is ignored, and Note says so.
type Config struct {
	Channel   string
	Demo      bool
	Dim       int
	N         int
	Rotate    bool
	RotateSet bool   // the URL said rotate=…; else Rotate is the default, on
	Note      string // one line naming what of the URL was ignored, or ""
}

// DefaultChannel is the BroadcastChannel the viewer listens on when the URL
// names none.
const DefaultChannel = "metriclab"

// Bounds of the demo snapshot that a URL may ask for.
const (
	maxDemoPoints = 20000
	maxDemoDim    = msg.MaxDim // an embedding's widest
)

// ParseConfig reads the query part of the page's URL (location.search, with
// or without its leading "?"). Bad or missing values fall back to the
// defaults, and the parameters read well are kept beside them: the viewer
// should always come up, on the channel asked. Note says what was ignored
// (a malformed part, an unknown name, a value out of range, a repeat).
func ParseConfig(search string) Config {
	c := Config{Channel: DefaultChannel, Dim: 3, N: 2000, Rotate: true}
	var ignored []string
	// ParseQuery keeps the parts it could read when another is malformed.
	q, err := url.ParseQuery(strings.TrimPrefix(search, "?"))
	if err != nil {
		ignored = append(ignored, "a malformed part ("+oneLine(err.Error(), 40)+")")
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		switch {
		case !slices.Contains(configNames, k):
			ignored = append(ignored, "unknown "+oneLine(strconv.QuoteToASCII(k), 40))
		case len(q[k]) > 1:
			ignored = append(ignored, fmt.Sprintf("%s given %d times (the first is read)", k, len(q[k])))
		}
	}
	bad := func(k, want string) {
		ignored = append(ignored, fmt.Sprintf("%s=%s (want %s)", k, oneLine(strconv.QuoteToASCII(q.Get(k)), 40), want))
	}
	if ch := q.Get("channel"); ch != "" {
		c.Channel = ch
	} else if q.Has("channel") {
		bad("channel", "a name")
	}
	switch q.Get("demo") {
	case "1", "true", "yes":
		c.Demo = true
	case "", "0", "false", "no", "off":
	default:
		bad("demo", "1 or 0")
	}
	switch q.Get("rotate") {
	case "0", "false", "no", "off":
		c.Rotate, c.RotateSet = false, true
	case "1", "true", "yes", "on":
		c.Rotate, c.RotateSet = true, true
	case "":
		if q.Has("rotate") {
			bad("rotate", "1 or 0")
		}
	default:
		bad("rotate", "1 or 0")
	}
	if d, err := strconv.Atoi(q.Get("dim")); err == nil && d >= msg.MinDim && d <= maxDemoDim {
		c.Dim = d
	} else if q.Has("dim") {
		bad("dim", fmt.Sprintf("%d to %d", msg.MinDim, maxDemoDim))
	}
	if n, err := strconv.Atoi(q.Get("n")); err == nil && n >= 0 && n <= maxDemoPoints {
		c.N = n
	} else if q.Has("n") {
		bad("n", fmt.Sprintf("0 to %d", maxDemoPoints))
	}
	if len(ignored) > 0 {
		c.Note = "URL: ignored " + strings.Join(ignored, "; ")
	}
	return c
}

// configNames are the URL parameters that ParseConfig reads.
var configNames = []string{"channel", "demo", "dim", "n", "rotate"}
