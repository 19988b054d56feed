//go:build !(js && wasm)

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"metriclab/core"
	"metriclab/core/msg"
)

// TestE2EJobsRowButtons: the Jobs page lists the newest job first, so a
// job submitted while the page is open takes the first row from the one
// before it. Its Cancel button must cancel it, not the job the row showed
// first: go-app keeps an element's handler when a render gives it another
// closure of the same function literal, and Cancel of the new job once
// canceled the running one. A link of the page pasted in the address bar
// then (its fragment set: hashchange) fills the form with its settings,
// the page not loaded again, the list as it was. In a phone's window,
// 375 px wide, the page stays in it, and each job's buttons can be
// reached (its rows drawn as cards; before, the table ran the page
// 300 px off the window).
//
// Then the Models page, with a model of the longest name an upload may
// have, one word (it ran off the table, the page wider than the window).
// A row's Delete with the mouse, in windows 1280, 1210, 1024, 790 and
// 375 px wide (the last two draw each row as a card; before, the table
// ran the page off any window under about 900 px, 500 px off a phone's,
// and its buttons were out of the window): the page stays in the window,
// each row's buttons can be reached, and Keep comes where Delete was, so that the second click of a double click
// lands on it, nothing else moves and the page stays in the window
// (before, Confirm delete came there, and at 1024 px the table ran off
// the window); a double click deletes nothing, nor does a click of a
// double click on Confirm delete. Then from the keyboard: Delete gives
// the focus to Keep, Escape gives it back, Confirm delete deletes the
// model, the note says so, and the focus goes to the next row's Delete.
func TestE2EJobsRowButtons(t *testing.T) {
	p, _ := newVerifyPage(t, 3*time.Minute, "")
	long := msg.TrainRequest{Data: "mnist", Arch: "mlp", Loss: "arcface", Dim: 3, Epochs: 50, Batch: 64, LR: 0.01, Opt: "adam", Seed: 1, Device: "cpu"}
	post := func() string {
		t.Helper()
		b, _ := json.Marshal(long)
		res, err := http.Post(p.base+"/api/jobs", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		var created struct{ ID string }
		if res.StatusCode != 201 || json.Unmarshal(body, &created) != nil || created.ID == "" {
			t.Fatalf("POST /api/jobs: %d %s", res.StatusCode, body)
		}
		return created.ID
	}
	state := func(id string) string {
		t.Helper()
		res, err := http.Get(p.base + "/api/jobs/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var j struct{ State string }
		if err := json.NewDecoder(res.Body).Decode(&j); err != nil {
			t.Fatal(err)
		}
		return j.State
	}
	wait := func(what, js string) {
		t.Helper()
		cdpRun(p, what, chromedp.Poll[bool](js, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
	}
	// The form submitted as the server drew it, before app.wasm runs
	// (Train on the server clicked, or Enter in a field, as the page
	// shows): nothing is sent, and the page is not loaded again, its
	// fragment kept. Before, the form's default method loaded the page
	// anew, app.wasm started a second time and what was typed lost.
	if _, err := chromedp.Call(p.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
		document.addEventListener("DOMContentLoaded", () => {
			const n = Number(sessionStorage.getItem("metriclabLoads") || 0) + 1;
			sessionStorage.setItem("metriclabLoads", n);
			const f = document.getElementById("job-form");
			if (n === 1 && f) f.requestSubmit(document.getElementById("btn-submit"));
		});
	`}); err != nil {
		t.Fatal(err)
	}
	cdpRun(p, "open the jobs page of a link", chromedp.Navigate(p.base+"/jobs#preset=faces"))
	// app.wasm has read the link (its loss), or the page was loaded again
	// (a poll under way when it loads fails: wait for that first).
	time.Sleep(2 * time.Second)
	wait("the page started", `(document.getElementById("job-loss") || {}).value === "cosface" || sessionStorage.getItem("metriclabLoads") !== "1"`)
	time.Sleep(time.Second)
	if loads, where := cdpEval[string](p, `sessionStorage.getItem("metriclabLoads")`), cdpEval[string](p, `location.search + location.hash`); loads != "1" || !strings.HasPrefix(where, "#preset=faces") {
		t.Errorf("the form submitted before app.wasm ran: the page loaded %s times, at %q; want once, at #preset=faces", loads, where)
	}
	first := post()
	cdpRun(p, "open the jobs page", chromedp.Navigate(p.base+"/jobs"))
	wait("the first job's Cancel", `!!document.getElementById("cancel-`+first+`")`)
	second := post()
	wait("the second job's Cancel", `!!document.getElementById("cancel-`+second+`")`) // the list refreshes every 3 s
	cdpRun(p, "click the second job's Cancel", chromedp.Click(chromedp.ID("cancel-"+second)))
	deadline := time.Now().Add(20 * time.Second)
	for state(second) != "canceled" && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if a, b := state(first), state(second); b != "canceled" || a == "canceled" {
		t.Errorf("after Cancel of the second job: first %s, second %s; want the second canceled, the first not", a, b)
	}
	wait("the second job's row canceled", `(document.getElementById("jobs") || {textContent: ""}).textContent.includes("canceled")`)
	p.savePNG("jobs-1-canceled", cdpRun(p, "full screenshot", chromedp.FullScreenshot(100)))
	if u := p.unnamedControls(); len(u) > 0 {
		t.Errorf("%s: controls without an accessible name in Chromium's tree: %q", "/jobs", u)
	}
	form := `document.getElementById("job-loss").value + " " + document.getElementById("job-epochs").value`
	if got := cdpEval[string](p, form); got == "cosface 7" {
		t.Errorf("/jobs: the form shows loss and epochs %q before the link, want the defaults", got)
	}
	loads := cdpEval[string](p, `sessionStorage.getItem("metriclabLoads")`)
	cdpEval[string](p, `location.hash = "#loss=cosface&epochs=7"`)
	wait("the form of the link pasted", form+` === "cosface 7"`)
	if l, row := cdpEval[string](p, `sessionStorage.getItem("metriclabLoads")`), cdpEval[bool](p, `!!document.getElementById("job-`+second+`")`); l != loads || !row {
		t.Errorf("#loss=cosface&epochs=7 pasted on /jobs: the page loaded %s times (%s before), the second job's row there %v; want it not loaded again, the row there", l, loads, row)
	}
	// The ids of the buttons and links of the rows of table sel that
	// the pointer cannot reach, the page scrolled down to each, not
	// sideways: out of the window's width, or under something else.
	unreachable := func(sel string) []string {
		t.Helper()
		return cdpEval[[]string](p, `(() => {
			const out = [];
			for (const el of document.querySelectorAll("`+sel+` td.actions .btn")) {
				window.scrollTo(0, window.scrollY + el.getBoundingClientRect().top - innerHeight / 2); // down to it, not sideways
				const r = el.getBoundingClientRect();
				const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
				if (r.left < 0 || r.right > document.documentElement.clientWidth || !el.contains(hit)) out.push(el.id);
			}
			window.scrollTo(0, 0);
			return out;
		})()`)
	}
	cdpRun(p, "a window 375 px wide", chromedp.EmulateViewport(375, 800))
	wait("the window's width", `window.innerWidth === 375`)
	if w := cdpEval[[]float64](p, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); w[0] > w[1] {
		t.Errorf("/jobs at 375 px: the page is %v px wide in a window of %v", w[0], w[1])
	}
	if u := unreachable("#jobs"); len(u) > 0 {
		t.Errorf("/jobs at 375 px: the buttons %q cannot be reached", u)
	}
	p.savePNG("jobs-2-375", cdpRun(p, "full screenshot", chromedp.FullScreenshot(100)))
	cdpRun(p, "the window as it was", chromedp.ResetViewport())
	spec := core.DefaultSpec("mlp", 3)
	var seed int64
	upload := func(name string) string {
		t.Helper()
		// A file of its own: the bytes of a model stored are that model
		// (200, "existed"), and under another name a 409.
		seed++
		var model bytes.Buffer
		if err := core.EncodeModel(&model, &core.Model{Meta: core.Metadata{Spec: spec, Loss: "arcface", Classes: []string{"a", "b"}},
			Params: core.InitParams(spec, []core.ParamShape{{Name: "head.weight", Shape: []int{2, 3}}}, seed)}); err != nil {
			t.Fatal(err)
		}
		res, err := http.Post(p.base+"/api/models?name="+url.QueryEscape(name), "application/octet-stream", bytes.NewReader(model.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		var card struct{ ID string }
		if res.StatusCode != 201 || json.Unmarshal(body, &card) != nil || card.ID == "" {
			t.Fatalf("POST /api/models: %d %s", res.StatusCode, body)
		}
		return card.ID
	}
	upload(strings.Repeat("x", 100)) // the server's longest (maxModelName)
	// A word as long as any a cell breaks between words only
	// (app/models.go, longWord): the table must fit in 1210 px with it.
	upload("faces_cosface_d128_ep30x")
	kept := upload("kept")
	gone := upload("gone") // the newest: the first row, kept's after it
	cdpRun(p, "open the models page", chromedp.Navigate(p.base+"/models"))
	wait("the models page", `!!document.getElementById("delete-`+gone+`")`)
	if w := cdpEval[[]float64](p, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); w[0] > w[1] {
		t.Errorf("/models with a model named 100 x: the page is %v px wide in a window of %v, the table runs off it", w[0], w[1])
	}
	p.savePNG("models-1", cdpRun(p, "full screenshot", chromedp.FullScreenshot(100)))
	if u := p.unnamedControls(); len(u) > 0 {
		t.Errorf("%s: controls without an accessible name in Chromium's tree: %q", "/models", u)
	}
	focused := func(id string) string { return `(document.activeElement || {}).id === "` + id + `"` }
	modelStatus := func(id string) int {
		t.Helper()
		res, err := http.Get(p.base + "/api/models/" + id)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	centre := func(id string) (x, y float64) {
		t.Helper()
		c := cdpEval[[]float64](p, `(() => { const r = document.getElementById("`+id+`").getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2] })()`)
		return c[0], c[1]
	}
	at := func(x, y float64) string {
		t.Helper()
		return cdpEval[string](p, fmt.Sprintf(`(document.elementFromPoint(%v, %v) || {}).id || ""`, x, y))
	}
	for _, width := range []int64{1280, 1210, 1024, 790, 375} {
		cdpRun(p, fmt.Sprintf("a window %d px wide", width), chromedp.EmulateViewport(width, 900))
		wait("the window's width", fmt.Sprintf(`window.innerWidth === %d`, width))
		if w := cdpEval[[]float64](p, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); w[0] > w[1] {
			t.Errorf("%d px: the page is %v px wide in a window of %v", width, w[0], w[1])
		}
		if u := unreachable("#models"); len(u) > 0 {
			t.Errorf("%d px: the buttons %q cannot be reached", width, u)
		}
		x, y := centre("delete-" + gone)
		cdpRun(p, "click the Delete of gone with the mouse", chromedp.MouseClickXY(x, y))
		wait("the focus on Keep", focused("keep-"+gone))
		if id := at(x, y); id != "keep-"+gone {
			t.Errorf("%d px: after a click on the Delete of gone, #%s is where it was, want its Keep, #keep-%s", width, id, gone)
		}
		if w := cdpEval[[]float64](p, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); w[0] > w[1] {
			t.Errorf("%d px: Keep and Confirm delete shown, the page is %v px wide in a window of %v", width, w[0], w[1])
		}
		p.savePNG(fmt.Sprintf("models-confirm-%d", width), cdpRun(p, "full screenshot", chromedp.FullScreenshot(100)))
		// The second click of a slow double click, on Keep now.
		cdpRun(p, "the second click of a double click", chromedp.MouseClickXY(x, y, chromedp.ClickCount(2)))
		wait("Delete back, with the focus", focused("delete-"+gone))
		// A fast one: the page draws Keep between the clicks, or not.
		cdpRun(p, "double click Delete: the first click", chromedp.MouseClickXY(x, y, chromedp.ClickCount(1)))
		cdpRun(p, "double click Delete: the second click", chromedp.MouseClickXY(x, y, chromedp.ClickCount(2)))
		// A DELETE sent later than this second is caught at the end: the
		// delete from the keyboard would then be answered 404, its note
		// "gone was already deleted", not "deleted gone".
		time.Sleep(time.Second)
		if code := modelStatus(gone); code != 200 || !cdpEval[bool](p, `!!document.getElementById("model-`+gone+`")`) {
			t.Errorf("%d px: a double click on the Delete of gone: GET of it %d, its row there %v; want it kept", width, code, cdpEval[bool](p, `!!document.getElementById("model-`+gone+`")`))
		}
		// A click of a double click on Confirm delete itself (its detail 2).
		if !cdpEval[bool](p, `!!document.getElementById("keep-`+gone+`")`) {
			cdpRun(p, "click the Delete of gone with the mouse", chromedp.MouseClickXY(x, y))
		}
		wait("Confirm delete", `!!document.getElementById("confirm-delete-`+gone+`")`)
		cx, cy := centre("confirm-delete-" + gone)
		cdpRun(p, "the second click of a double click on Confirm delete", chromedp.MouseClickXY(cx, cy, chromedp.ClickCount(2)))
		time.Sleep(time.Second)
		if code := modelStatus(gone); code != 200 {
			t.Errorf("%d px: a click of detail 2 on Confirm delete: GET of gone %d, want it kept (200)", width, code)
		}
		cdpRun(p, "click Keep", chromedp.Click(chromedp.ID("keep-"+gone)))
		wait("Delete back", `!!document.getElementById("delete-`+gone+`")`)
	}
	cdpRun(p, "the window as it was", chromedp.ResetViewport())
	cdpRun(p, "click the Delete of gone", chromedp.Click(chromedp.ID("delete-"+gone)))
	wait("the focus on Keep", focused("keep-"+gone))
	cdpRun(p, "press Escape", chromedp.KeyEvent(kb.Escape))
	wait("Delete back, with the focus", focused("delete-"+gone))
	cdpRun(p, "click the Delete of gone", chromedp.Click(chromedp.ID("delete-"+gone)))
	cdpRun(p, "click Confirm delete", chromedp.Click(chromedp.ID("confirm-delete-"+gone)))
	wait("the row of gone gone, and the note", `!document.getElementById("model-`+gone+`") && document.getElementById("models-note").textContent === "deleted gone"`)
	if id := cdpEval[string](p, `(document.activeElement || {}).id || ""`); id != "delete-"+kept {
		t.Errorf("after the delete of the first row: the focus on #%s, want the next row's Delete, #delete-%s", id, kept)
	}
	p.savePNG("models-2-deleted", cdpRun(p, "full screenshot", chromedp.FullScreenshot(100)))
	if code := modelStatus(gone); code != 404 {
		t.Errorf("GET /api/models/%s after its delete on the page: %d, want 404", gone, code)
	}

	// Upload from the page's file input, as a user does: the upload goes
	// by XMLHttpRequest (its body's progress), which the node tests stand
	// in for; here Chromium's own, against the server. The model is
	// stored under the name typed, its row shown, the note says so.
	seed++
	var model bytes.Buffer
	if err := core.EncodeModel(&model, &core.Model{Meta: core.Metadata{Spec: spec, Loss: "arcface", Classes: []string{"a", "b"}},
		Params: core.InitParams(spec, []core.ParamShape{{Name: "head.weight", Shape: []int{2, 3}}}, seed)}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "sent.safetensors")
	if err := os.WriteFile(file, model.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cdpRun(p, "type the upload's name", chromedp.SendKeys(chromedp.ID("model-upload-name"), "sent by the page"))
	cdpRun(p, "choose the model file", chromedp.SetUploadFiles(chromedp.ID("model-upload"), []string{file}))
	wait("the upload's note", `document.getElementById("models-note").textContent === "uploaded sent.safetensors as sent by the page"`)
	if n := cdpEval[int](p, `performance.getEntriesByType("resource").filter(e => e.initiatorType === "xmlhttprequest" && new URL(e.name).pathname === "/api/models").length`); n != 1 {
		t.Errorf("the page's upload: %d XMLHttpRequests to /api/models, want 1 (fetch tells no progress)", n)
	}
	res, err := http.Get(p.base + "/api/models")
	if err != nil {
		t.Fatal(err)
	}
	var cards []msg.ModelCard
	err = json.NewDecoder(res.Body).Decode(&cards)
	res.Body.Close()
	if i := slices.IndexFunc(cards, func(c msg.ModelCard) bool { return c.Name == "sent by the page" }); err != nil || i < 0 {
		t.Errorf("GET /api/models after the page's upload: %v, no model named \"sent by the page\" among %d", err, len(cards))
	} else if !cdpEval[bool](p, `!!document.getElementById("model-`+cards[i].ID+`")`) {
		t.Errorf("the uploaded model %s has no row on the page", cards[i].ID)
	}
}
