package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"metriclab/core/eval"
)

// TestREADMETables holds the README's tables of defaults to the code: each
// is the output of the command the README names, verbatim (regenerate the
// table with that command when a flag or a default changes).
func TestREADMETables(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, args := range [][]string{
		{"train", flagsTableArg},
		{"serve", flagsTableArg},
		{"losses", "--dim", "3"},
		{"presets"},
	} {
		code, table, stderr := runCLI(t, args...)
		if code != 0 || table == "" {
			t.Fatalf("metriclab %s: status %d, %s", strings.Join(args, " "), code, stderr)
		}
		if !strings.Contains(readme, table) {
			t.Errorf("README.md does not hold the table of `bin/metriclab %s`; it is now:\n%s", strings.Join(args, " "), table)
		}
	}
}

// TestREADMEEvalJSON holds the README's outline of `eval --json` to
// evalOutput: every key, in the order eval prints them, with every
// optional part present (a model's classifier, the open-set figures,
// --expand).
func TestREADMEEvalJSON(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	fars := map[string]float64{}
	for _, far := range eval.FARLevels() {
		fars[strconv.FormatFloat(far, 'g', -1, 64)] = far
	}
	one := 1.0
	var out evalOutput
	out.ClosedSet.Classifier = &one
	out.Expand = 5
	out.Verification.TARAtFAR = fars
	out.Identification.CMC = []float64{1}
	out.Identification.OpenSet = &eval.OpenSetReport{DIRAtFAR: fars}
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	shape := "`" + jsonOutline(t, json.NewDecoder(bytes.NewReader(raw))) + "`"
	if !strings.Contains(string(b), shape) {
		t.Errorf("README.md does not outline eval --json as it is now:\n%s", shape)
	}
}

// jsonOutline reads one JSON value from d and returns its outline: an
// object as {"key":outline,...}, where a key whose value is not an object
// stands alone.
func jsonOutline(t *testing.T, d *json.Decoder) string {
	t.Helper()
	tok, err := d.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok != json.Delim('{') {
		if tok == json.Delim('[') {
			for d.More() {
				jsonOutline(t, d)
			}
			d.Token() // ]
		}
		return ""
	}
	var parts []string
	for d.More() {
		key, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		part := strconv.Quote(key.(string))
		if inner := jsonOutline(t, d); inner != "" {
			part += ":" + inner
		}
		parts = append(parts, part)
	}
	d.Token() // }
	return "{" + strings.Join(parts, ",") + "}"
}
