//go:build !(js && wasm)

package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"
)

// TestE2EWorkers trains lenet-s with ArcFace on digits 0 and 1 for one
// epoch (185 steps of 64) twice from links: with workers=1 and with
// workers=2 (data parallel: two Web Workers, each on half of every batch,
// their gradients averaged). Both runs must finish, the page must show the
// number of workers, and the two runs must end at the same loss up to the
// float32 reordering of the averaged sums. It records the img/s of both
// (steps 40 to the end), which the README reports; the speed-up is not
// asserted, being a timing on a shared machine.
func TestE2EWorkers(t *testing.T) {
	final := map[int]float64{}
	rate := map[int]float64{}
	for _, n := range []int{1, 2} {
		p := newE2EPage(t, 5*time.Minute)
		if _, err := chromedp.Call(p.ctx, performance.Enable, performance.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		p.openInteractive("#arch=lenet-s&loss=arcface&dim=3&classes=0,1&epochs=1&workers=" + string(rune('0'+n)) + "&autostart=1")
		first := p.waitSteps([]string{"status"}, 40, 2*time.Minute)[0]
		busy := p.metric("TaskDuration")
		status := p.waitDone("status", 3*time.Minute)
		busy = p.metric("TaskDuration") - busy
		if got := p.figure("trainer-0", "workers"); got != string(rune('0'+n)) {
			t.Errorf("workers=%d: the panel shows %q workers", n, got)
		}
		step, loss, ok := parseStatus(status)
		if !ok || math.IsNaN(loss) {
			t.Fatalf("workers=%d: the final status %q has no step and loss", n, status)
		}
		end := time.Now()
		a := first[len(first)-1]
		rate[n] = float64((step-a.step)*64) / end.Sub(a.at).Seconds()
		final[n] = loss
		p.record("workers_"+string(rune('0'+n))+"_img_per_s", rate[n], "img/s (lenet-s ArcFace, steps 40 to the end)")
		p.record("workers_"+string(rune('0'+n))+"_page_thread_busy", busy/end.Sub(a.at).Seconds(),
			"of the page's main thread busy meanwhile (the page, and the viewer's repaints: software WebGL here)")
		t.Logf("workers=%d: %s", n, status)
	}
	p := newE2EPage(t, time.Minute)
	p.record("workers_2_over_1", rate[2]/rate[1], "× the img/s of one worker")
	// Same batches, same seed, the mean of two half-batch gradients for the
	// whole batch's: the runs part only by float32 rounding, grown over 185
	// Adam steps. A wrong share, sum or average would part them by far more.
	if d := math.Abs(final[2] - final[1]); d > 0.05*math.Abs(final[1])+1e-3 {
		t.Errorf("final loss %g with two workers, %g with one", final[2], final[1])
	}
}

// waitDone polls the status element id until the run is done, and returns
// its text; failed or crashed fail the test.
func (p *e2ePage) waitDone(id string, limit time.Duration) string {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := p.text(id)
		switch {
		case strings.HasPrefix(s, "done"):
			return s
		case strings.HasPrefix(s, "failed"), strings.HasPrefix(s, "crashed"):
			p.screenshot("failure")
			p.t.Fatalf("#%s: %s", id, s)
		case time.Now().After(deadline):
			p.screenshot("timeout")
			p.t.Fatalf("#%s not done within %v: %s", id, limit, s)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// figure returns the value of the figure labelled label in the element
// id (a trainer panel).
func (p *e2ePage) figure(id, label string) string {
	return cdpEval[string](p, `(() => {
		for (const f of document.querySelectorAll("#`+id+` .figure")) {
			if (f.querySelector(".label").textContent === "`+label+`") return f.querySelector(".value").textContent;
		}
		return "";
	})()`)
}
