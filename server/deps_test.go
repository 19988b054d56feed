package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection keeps the design's one-way imports: core and losses
// compute and never import the UI, the server, go-app or ebiten.
func TestImportDirection(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "metriclab/core/...", "metriclab/losses/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{"metriclab/app", "metriclab/server", "metriclab/wasm", "github.com/maxence-charriere/go-app", "github.com/hajimehoshi/ebiten"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("core or losses depends on %s", dep)
			}
		}
	}
}
