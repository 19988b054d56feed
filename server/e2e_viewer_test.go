//go:build !(js && wasm)

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"metriclab/wasm/viz/view"
)

// TestE2EViewerSoftware opens the viewer alone on its demo sphere in
// headless Chromium, whose WebGL is SwiftShader (the tests start it with
// --disable-gpu and --enable-unsafe-swiftshader): the viewer must know it
// draws on the CPU and pace itself so, leave a still sphere unpainted (no
// auto-rotation unless asked), and, asked to rotate, repaint, no more
// often than a software renderer's pacing allows. (The rate alone could
// not tell the pacings apart here: at 100–250 ms a repaint the GPU
// pacing's quarter of the time is about 2 repaints a second, also under 4;
// the share read from the viewer can.)
func TestE2EViewerSoftware(t *testing.T) {
	p := newE2EPage(t, 2*time.Minute)
	paints := func() float64 { return cdpEval[float64](p, "window.vizPaints || 0") }
	open := func(query string) {
		cdpRun(p, "open the viewer", chromedp.Navigate(p.base+"/web/viz.html?"+query))
		deadline := time.Now().Add(30 * time.Second)
		for paints() < 1 {
			if time.Now().After(deadline) {
				t.Fatalf("viz.html?%s: no repaint in 30 s", query)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	open("demo=1")
	renderer := cdpEval[string](p, "window.vizRenderer || ''")
	t.Logf("WebGL renderer: %q", renderer)
	if !strings.Contains(renderer, "SwiftShader") {
		t.Errorf("the viewer read the renderer %q, want SwiftShader's (headless Chromium with --disable-gpu)", renderer)
	}
	if !cdpEval[bool](p, "window.vizSoftware === true") {
		t.Fatalf("the viewer does not take %q for a software renderer", renderer)
	}
	if share := cdpEval[float64](p, "window.vizPaceShare || 0"); share != view.SoftwareRepaintShare {
		t.Errorf("the viewer paces its repaints to 1/%g of the time, want a software renderer's 1/%d", share, view.SoftwareRepaintShare)
	}
	// The first frames and the notice's end repaint; then a still sphere
	// is not repainted at all. Rotating, a software viewer repaints at
	// least every SoftwareMaxInterval, so a quiet spell longer than that
	// means it does not rotate.
	quiet := view.SoftwareMaxInterval + time.Second
	last, since := paints(), time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Since(since) < quiet; {
		if time.Now().After(deadline) {
			t.Fatalf("the still demo sphere was still repainted after 30 s (%g repaints): the viewer auto-rotates on a software renderer", paints())
		}
		time.Sleep(200 * time.Millisecond)
		if n := paints(); n != last {
			last, since = n, time.Now()
		}
	}

	open("demo=1&rotate=1")
	n0, t0 := paints(), time.Now()
	time.Sleep(8 * time.Second)
	rate := (paints() - n0) / time.Since(t0).Seconds()
	p.record("viewer_software_repaints_per_s", rate, "repaints/s (demo sphere, rotate=1, 1280×900)")
	if rate == 0 {
		t.Errorf("asked to rotate, the viewer did not repaint in 8 s")
	}
	if rate > view.SoftwareRepaintsPerS {
		t.Errorf("asked to rotate, the viewer repainted %.2f times a second, more than a software renderer's %d", rate, view.SoftwareRepaintsPerS)
	}
}
