package view

import "testing"

func TestParseConfig(t *testing.T) {
	def := Config{Channel: "metriclab", Dim: 3, N: 2000, Rotate: true}
	for _, tc := range []struct {
		search string
		want   Config
	}{
		{"", def},
		{"?channel=job-7", Config{Channel: "job-7", Dim: 3, N: 2000, Rotate: true}},
		{"?demo=1&dim=16&n=300", Config{Channel: "metriclab", Demo: true, Dim: 16, N: 300, Rotate: true}},
		{"demo=true&dim=2", Config{Channel: "metriclab", Demo: true, Dim: 2, N: 2000, Rotate: true}},
		// rotate=0 turns the auto-rotation off and rotate=1 on, both
		// said (RotateSet: the viewer's own default, off where WebGL draws
		// on the CPU, does not apply); anything else is the default.
		{"?channel=t1&rotate=0", Config{Channel: "t1", Dim: 3, N: 2000, RotateSet: true}},
		{"?rotate=false", Config{Channel: "metriclab", Dim: 3, N: 2000, RotateSet: true}},
		{"?rotate=1", Config{Channel: "metriclab", Dim: 3, N: 2000, Rotate: true, RotateSet: true}},
		{"?rotate=on", Config{Channel: "metriclab", Dim: 3, N: 2000, Rotate: true, RotateSet: true}},
		{"?rotate=maybe", def},
		// Out-of-range and malformed values fall back to the defaults.
		{"?demo=0&dim=1&n=-4", def},
		{"?dim=100000&n=99999999", def},
		{"?%zz", def},
	} {
		if got := ParseConfig(tc.search); got != tc.want {
			t.Errorf("ParseConfig(%q) = %+v, want %+v", tc.search, got, tc.want)
		}
	}
}
