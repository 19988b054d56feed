//go:build !(js && wasm)

package main

// End-to-end tests of what the page promises beyond its features: that it
// works offline after the first load, that its loading bar is a true one,
// and that its binary stays small.

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// maxBrotli is the most each browser binary may weigh as the server sends
// it (brotli). The page's binary carries go-app, the page and the face
// detector's code, not the engine, net/http or the cascades; the trainer
// and the viewer are built with the slim copies of gorgonia, tensor and
// ebiten (wasm/_slim: 4.4 and 2.6 MB without them; the page 2.05 MB
// without go-app's).
var maxBrotli = map[string]int64{"app.wasm": 3 << 20, "trainer.wasm": 3 << 20, "viz.wasm": 2400 << 10}

// TestE2EAppSize records the browser binaries' sizes, raw and as sent
// (brotli), and holds the latter to maxBrotli.
func TestE2EAppSize(t *testing.T) {
	requireE2E(t)
	for _, name := range []string{"app.wasm", "trainer.wasm", "viz.wasm"} {
		var sizes [2]int64
		for i, f := range []string{name, name + ".br"} {
			st, err := os.Stat(filepath.Join(e2eWeb, f))
			if err != nil {
				t.Fatal(err)
			}
			sizes[i] = st.Size()
		}
		key := strings.ReplaceAll(strings.TrimSuffix(name, ".wasm"), ".", "_")
		t.Logf("measured: %s_wasm_bytes %d", key, sizes[0])
		t.Logf("measured: %s_wasm_brotli_bytes %d (%.2f MB)", key, sizes[1], float64(sizes[1])/1e6)
		if sizes[1] > maxBrotli[name] {
			t.Errorf("%s.br is %d bytes, want at most %d", name, sizes[1], maxBrotli[name])
		}
	}
}

// TestE2EOffline loads the playground once (the service worker caches the
// page, the binaries, the viewer and MNIST), stops the server, reloads,
// and trains on MNIST from the cache: the trainer reaches step 20 and the
// viewer draws, with no server to answer; then it opens /verify (with a
// query too), /models and /jobs, which load from the cache as well.
func TestE2EOffline(t *testing.T) {
	p := newE2EPage(t, 4*time.Minute)
	p.openInteractive("")
	cdpRun(p, "wait for the service worker and its cache", chromedp.Poll[bool](`(async () => {
		if (!navigator.serviceWorker.controller) return false;
		const keys = await caches.keys();
		for (const k of keys) {
			const c = await caches.open(k);
			if (await c.match("/web/trainer.wasm") && await c.match("/data/mnist/train-images-idx3-ubyte.gz")) return true;
		}
		return false;
	})()`, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second)))
	p.srv.CloseClientConnections()
	p.srv.Close()
	if resp, err := p.srv.Client().Get(p.base + "/api/health"); err == nil {
		resp.Body.Close()
		t.Fatal("the server still answers")
	}
	// A new document (not a change of the fragment): about:blank first.
	cdpRun(p, "leave the page", chromedp.Navigate("about:blank"))
	took := p.openInteractive("#arch=mlp&loss=arcface&dim=3&classes=0-4&autostart=1")
	p.record("offline_reload_to_interactive", took.Seconds(), "s")
	seen := p.waitSteps([]string{"status"}, 20, 2*time.Minute)[0]
	t.Logf("offline: %d readings, last %+v", len(seen), seen[len(seen)-1])
	cdpRun(p, "wait for the viewer's canvas", chromedp.Poll[bool](
		`(() => { const f = document.getElementById("viewer-0"); const d = f && f.contentDocument; return !!(d && d.querySelector("canvas")) })()`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second)))
	p.screenshot("offline-training")
	// The other pages load from the cache too (a reload of /verify, of a
	// link to it with ?model=): before, the browser's error page. Leaving
	// the page that trains asks first: the question is answered yes.
	if err := chromedp.Listen(p.ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			t.Logf("leaving: the %s dialog, accepted", d.Type)
			go chromedp.Call(p.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/verify", "/verify?model=none", "/models", "/jobs"} {
		cdpRun(p, "leave the page", chromedp.Navigate("about:blank"))
		cdpRun(p, "open "+path+" offline", chromedp.Navigate(p.base+path))
		drawn := chromedp.Poll[bool](
			`(() => { const n = document.querySelector("#nav a.current"); return !!(n && n.getAttribute("href") === "`+strings.SplitN(path, "?", 2)[0]+`" && document.getElementById("app-wasm-loader") === null) })()`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))
		// The poll's document can go under it once (1 run in 3 here:
		// "Cannot find context with specified id"), the page loading
		// again as the service worker takes it; the page must then be
		// drawn by the next.
		for try := 1; ; try++ {
			_, err := chromedp.Run(p.ctx, drawn)
			if err == nil {
				break
			}
			if try == 3 || !strings.Contains(err.Error(), "Cannot find context") {
				t.Fatalf("wait for %s drawn by the page: %v", path, err)
			}
			t.Logf("wait for %s drawn by the page: %v; again", path, err)
		}
	}
	p.screenshot("offline-verify")
}

// TestE2ELoadingBar loads the page cold with the network throttled to
// 1 MB/s and records every text of go-app's loading label: the bar counts
// from 0% to 100% without going back.
func TestE2ELoadingBar(t *testing.T) {
	p := newE2EPage(t, 2*time.Minute)
	if _, err := chromedp.Call(p.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(p.ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Latency: 20, DownloadThroughput: 1 << 20, UploadThroughput: -1}},
	}); err != nil {
		t.Fatal(err)
	}
	// Before any script of the page: watch the label's text.
	if _, err := chromedp.Call(p.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
		window.loadingTexts = [];
		new MutationObserver(() => {
			const l = document.getElementById("app-wasm-loader-label");
			if (l && l.innerText !== window.loadingTexts[window.loadingTexts.length - 1]) window.loadingTexts.push(l.innerText);
		}).observe(document, {subtree: true, childList: true, characterData: true});
	`}); err != nil {
		t.Fatal(err)
	}
	took := p.openInteractive("")
	p.record("startup_to_interactive_cold_1MBps", took.Seconds(), "s (throttled to 1 MB/s)")
	texts := cdpEval[[]string](p, `window.loadingTexts`)
	re := regexp.MustCompile(`^loading metriclab (\d+)%$`)
	var pcts []int
	for _, s := range texts {
		m := re.FindStringSubmatch(strings.TrimSpace(s))
		if m == nil {
			t.Errorf("loading label %q", s)
			continue
		}
		v, _ := strconv.Atoi(m[1])
		pcts = append(pcts, v)
	}
	t.Logf("loading bar: %v", pcts)
	if len(pcts) < 5 || pcts[0] != 0 || pcts[len(pcts)-1] != 100 {
		t.Fatalf("loading bar %v: want at least 5 steps from 0%% to 100%%", pcts)
	}
	for i := 1; i < len(pcts); i++ {
		if pcts[i] < pcts[i-1] {
			t.Errorf("the loading bar went back: %v", pcts)
		}
	}
}
