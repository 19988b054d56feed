package main

import (
	"bytes"
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
