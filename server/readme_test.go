package main

import (
	"os"
	"strings"
	"testing"
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
