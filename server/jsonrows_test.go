package main

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestJSONRows: a row of openset --json whose report holds a NaN, which
// encoding/json refuses, is not dropped in silence (before, its Encode's
// error was ignored and the command ended with status 0): the rows
// around it are written, one line each, and the error names it.
func TestJSONRows(t *testing.T) {
	var out bytes.Buffer
	rows := jsonRows{w: &out}
	good := openSetRow{Encoder: "raw pixels", Metric: "cosine", Dim: 784}
	good.Report.Verification.Accuracy = 0.67
	bad := openSetRow{Encoder: "preset digits", Metric: "cosine", Dim: 128}
	bad.Report.Verification.EER = math.NaN()
	rows.write("raw pixels, cosine", good)
	rows.write("preset digits, cosine", bad)
	rows.write("raw pixels, cosine", good)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines %q, want the 2 rows that encode", len(lines), out.String())
	}
	for _, l := range lines {
		var r openSetRow
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Report.Verification.Accuracy != 0.67 {
			t.Errorf("line %q: %v, accuracy %g; want the good row", l, err, r.Report.Verification.Accuracy)
		}
	}
	if rows.err == nil || !strings.Contains(rows.err.Error(), `"preset digits, cosine"`) || !strings.Contains(rows.err.Error(), "NaN") {
		t.Errorf("error %v: want one naming the row and its NaN", rows.err)
	}
}
