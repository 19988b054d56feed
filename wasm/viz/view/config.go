package view

import (
	"net/url"
	"strconv"
	"strings"
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
type Config struct {
	Channel   string
	Demo      bool
	Dim       int
	N         int
	Rotate    bool
	RotateSet bool // the URL said rotate=…; else Rotate is the default, on
}

// DefaultChannel is the BroadcastChannel the viewer listens on when the URL
// names none.
const DefaultChannel = "metriclab"

// Bounds of the demo snapshot that a URL may ask for.
const (
	maxDemoPoints = 20000
	maxDemoDim    = 512
)

// ParseConfig reads the query part of the page's URL (location.search, with
// or without its leading "?"). Bad or missing values fall back to the
// defaults: the viewer should always come up.
func ParseConfig(search string) Config {
	c := Config{Channel: DefaultChannel, Dim: 3, N: 2000, Rotate: true}
	q, err := url.ParseQuery(strings.TrimPrefix(search, "?"))
	if err != nil {
		return c
	}
	if ch := q.Get("channel"); ch != "" {
		c.Channel = ch
	}
	switch q.Get("demo") {
	case "1", "true", "yes":
		c.Demo = true
	}
	switch q.Get("rotate") {
	case "0", "false", "no", "off":
		c.Rotate, c.RotateSet = false, true
	case "1", "true", "yes", "on":
		c.Rotate, c.RotateSet = true, true
	}
	if d, err := strconv.Atoi(q.Get("dim")); err == nil && d >= 2 && d <= maxDemoDim {
		c.Dim = d
	}
	if n, err := strconv.Atoi(q.Get("n")); err == nil && n >= 0 && n <= maxDemoPoints {
		c.N = n
	}
	return c
}
