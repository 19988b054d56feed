//go:build !(js && wasm)

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"metriclab/core/msg"
)

// TestE2EJobsRowButtons: the Jobs page lists the newest job first, so a
// job submitted while the page is open takes the first row from the one
// before it. Its Cancel button must cancel it, not the job the row showed
// first: go-app keeps an element's handler when a render gives it another
// closure of the same function literal, and Cancel of the new job once
// canceled the running one.
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
	cdpRun(p, "open the models page", chromedp.Navigate(p.base+"/models"))
	wait("the models page", `!!document.getElementById("models-status")`)
	p.savePNG("models-1", cdpRun(p, "full screenshot", chromedp.FullScreenshot(100)))
}
