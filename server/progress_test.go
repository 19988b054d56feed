package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// TestRunProgress: on a terminal, a run of several draws its number and
// name before the bar, skips the epoch lines (the table's rows are the
// record) and clears its line when done; off a terminal it says once that
// the run starts.
func TestRunProgress(t *testing.T) {
	var term bytes.Buffer
	report, done := runProgress(&term, true, 2, 5, "preset digits, wd=0")
	report(progress{Epoch: 1, Step: 10, Steps: 40, Loss: 0.5, ElapsedS: 1})
	report(progress{Epoch: 1, Step: 10, Steps: 40, Loss: 0.5, EpochEnd: true})
	done()
	got := term.String()
	if !strings.HasPrefix(got, "\r2/5 preset digits, wd=0 [=======") || !strings.Contains(got, "10/40 loss 0.5000") ||
		strings.Contains(got, "epoch 1") || !strings.HasSuffix(got, "\r\033[K") || strings.Contains(got, "\n") {
		t.Errorf("terminal: %q", got)
	}
	var log bytes.Buffer
	report, done = runProgress(&log, false, 2, 5, "preset digits, wd=0")
	report(progress{Epoch: 1, Step: 10, Steps: 40, Loss: 0.5, ElapsedS: 1})
	report(progress{Epoch: 1, Step: 10, Steps: 40, Loss: 0.5, EpochEnd: true})
	done()
	if got := log.String(); got != "training 2/5 preset digits, wd=0\n" {
		t.Errorf("off a terminal: %q", got)
	}
}

// TestFitProgress: on a terminal, a metric's fit draws its name, its
// steps and its objective, and clears its line when done; off a terminal
// it has no report (eval.LearnOptions.Progress stays nil) and writes
// nothing.
func TestFitProgress(t *testing.T) {
	var term bytes.Buffer
	report, done := fitProgress(&term, true, "raw pixels, linear (NCA)")
	report(0, 800, math.NaN())
	done()
	got := term.String()
	if got != "\rfitting raw pixels, linear (NCA) [                              ] 0/800 initial W\033[K\r\033[K" {
		t.Errorf("terminal: %q", got)
	}
	term.Reset()
	report, done = fitProgress(&term, true, "raw pixels, linear (NCA)")
	report(1, 800, 0.25)
	done()
	got = term.String()
	if !strings.HasPrefix(got, "\rfitting raw pixels, linear (NCA) [                              ] 1/800 objective 0.2500\033[K") ||
		!strings.HasSuffix(got, "\r\033[K") || strings.Contains(got, "\n") {
		t.Errorf("terminal: %q", got)
	}
	var log bytes.Buffer
	report, done = fitProgress(&log, false, "raw pixels, linear (NCA)")
	done()
	if report != nil || log.Len() != 0 {
		t.Errorf("off a terminal: report %v, %q", report != nil, log.String())
	}
}

// TestBaselineProgress: off a terminal, a baseline row of openset or
// compare (raw pixels with a metric: a fit, then an evaluation, 40 s on
// MNIST for openset's three) says once that it starts, as a run does
// (runProgress); on a terminal it writes nothing, the fit's and the
// retrieval's live lines showing it. Before, nothing was said off a
// terminal until the row was written.
func TestBaselineProgress(t *testing.T) {
	var log bytes.Buffer
	baselineProgress(&log, false, 2, 3, "raw pixels, PCA + whitening")
	if got := log.String(); got != "evaluating baseline 2/3 raw pixels, PCA + whitening\n" {
		t.Errorf("off a terminal: %q", got)
	}
	var term bytes.Buffer
	baselineProgress(&term, true, 2, 3, "raw pixels, PCA + whitening")
	if term.Len() != 0 {
		t.Errorf("terminal: %q, want nothing", term.String())
	}
}

// TestProgressOffTerminal: off a terminal, train's progress is a line at
// each tenth of an epoch of 20 steps or more, and one when logInterval
// has passed since the last, then the epoch's line (before: the epoch's
// line alone, nothing while a long epoch went on); on a terminal, the bar.
func TestProgressOffTerminal(t *testing.T) {
	var log bytes.Buffer
	b := newProgressBar(&log, false)
	for step := 1; step <= 100; step++ {
		b.update(progress{Epoch: 1, Step: step, Steps: 100, Loss: 0.5, ImgPerS: 64, EpochEnd: step == 100})
	}
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	if len(lines) != 10 || lines[0] != "epoch 1: step 10/100 loss 0.5000 64 img/s" || lines[8] != "epoch 1: step 90/100 loss 0.5000 64 img/s" || lines[9] != "epoch 1: step 100/100 loss 0.5000 64 img/s" {
		t.Errorf("an epoch of 100 steps off a terminal: %q; want a line at steps 10, 20 … 90, then the epoch's", lines)
	}
	log.Reset()
	b = newProgressBar(&log, false)
	b.update(progress{Epoch: 1, Step: 1, Steps: 15, Loss: 0.5, ImgPerS: 64})
	b.update(progress{Epoch: 1, Step: 2, Steps: 15, Loss: 0.5, ImgPerS: 64})
	if log.Len() != 0 {
		t.Errorf("an epoch of 15 steps, its first two: %q; want nothing yet", &log)
	}
	b.last = b.last.Add(-logInterval)
	b.update(progress{Epoch: 1, Step: 3, Steps: 15, Loss: 0.5, ImgPerS: 64})
	if got := log.String(); got != "epoch 1: step 3/15 loss 0.5000 64 img/s\n" {
		t.Errorf("a step %v after the last line: %q; want its line", logInterval, got)
	}
	var term bytes.Buffer
	b = newProgressBar(&term, true)
	b.update(progress{Epoch: 1, Step: 10, Steps: 100, Loss: 0.5, ImgPerS: 64})
	if got := term.String(); !strings.HasPrefix(got, "\r[===") || strings.Contains(got, "\n") {
		t.Errorf("on a terminal: %q; want the bar alone", got)
	}
}
