package view

import (
	"strings"
	"time"
)

// softwareRenderers are words of WebGL renderer names that rasterise on
// the CPU: Chromium's SwiftShader (headless, or without a usable GPU),
// Mesa's llvmpipe and softpipe (Linux without GPU drivers: virtual
// machines, remote desktops), Windows' Basic Render Driver.
var softwareRenderers = []string{"swiftshader", "llvmpipe", "softpipe", "software", "basic render"}

// SoftwareRenderer reports whether name, WebGL's renderer string
// (WEBGL_debug_renderer_info's unmasked one where the browser gives it),
// is a rasteriser that runs on the CPU.
func SoftwareRenderer(name string) bool {
	name = strings.ToLower(name)
	for _, w := range softwareRenderers {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// Pacing of the repaints (see Pacer). On a GPU a repaint costs the page a
// few milliseconds, and the viewer repaints up to 15 times a second, in at
// most a quarter of the time. Where WebGL draws on the CPU a repaint costs
// more than the page sees, on the threads of the browser's GPU process: in
// headless Chromium (SwiftShader) on a 2-core machine, the playground's
// viewer so paced repainted 1.75 to 2.25 times a second while one or two
// Web Workers trained, and the GPU process took 0.33 to 0.45 of a core
// from them (0.02 with the viewer taken out of the page). There the viewer
// repaints at most 4 times a second, in a sixteenth of the time, and waits
// up to 4 s between repaints: 0.25 to 0.38 repaints a second in the same
// runs, and 0.10 to 0.14 of a core.
const (
	RepaintsPerS         = 15
	RepaintShare         = 4
	SoftwareRepaintsPerS = 4
	SoftwareRepaintShare = 16
	SoftwareMaxInterval  = 4 * time.Second
)

// Pacing returns the pacer of a viewer on a software renderer or on a GPU.
func Pacing(software bool) *Pacer {
	if !software {
		return NewPacer(RepaintsPerS, RepaintShare)
	}
	p := NewPacer(SoftwareRepaintsPerS, SoftwareRepaintShare)
	p.Max = SoftwareMaxInterval
	return p
}

// MaskedRenderer reports whether name is what browsers answer for WebGL's
// RENDERER when they hide the real one ("WebKit WebGL" in Chromium and
// Safari), so that the viewer asks WEBGL_debug_renderer_info instead.
func MaskedRenderer(name string) bool {
	switch strings.TrimSpace(name) {
	case "", "WebKit WebGL", "Mozilla", "WebGL":
		return true
	}
	return false
}
