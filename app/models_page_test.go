//go:build !js

package app

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// TestModelsCellsWrap: the cells of the models table other than the
// buttons' break a long word anywhere (a name of 100 characters, an
// upload's; a class name or a data set's of 256), keeping a width of
// their own, read from web/metriclab.css as TestTextContrast reads its
// colours, and the page draws the table the rule is for. Before, the
// table had no such rule, and such a name ran off it, across the page.
func TestModelsCellsWrap(t *testing.T) {
	b, err := os.ReadFile("../web/metriclab.css")
	if err != nil {
		t.Fatal(err)
	}
	const selector = ".models-page table.registry td:not(.actions)"
	rule := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(selector) + `\s*\{([^}]*)\}`).FindStringSubmatch(string(b))
	if rule == nil || !regexp.MustCompile(`(^|;)\s*overflow-wrap:\s*anywhere\s*(;|$)`).MatchString(rule[1]) ||
		!regexp.MustCompile(`(^|;)\s*min-width:\s*\d`).MatchString(rule[1]) {
		t.Errorf("metriclab.css: %s %q, want overflow-wrap: anywhere and a min-width", selector, rule)
	}
	m := NewModels()
	long := strings.Repeat("n", 100)
	m.SetCards([]msg.ModelCard{{ID: "a", Name: long}}, nil)
	h := app.HTMLString(m)
	if !strings.Contains(h, `class="page models-page"`) || !regexp.MustCompile(`<table[^>]*\sclass="registry"`).MatchString(h) ||
		!regexp.MustCompile(`<td class="model-name">\s*<strong>`+long).MatchString(h) || !strings.Contains(h, `<td class="actions">`) {
		t.Errorf("the page does not draw what %s is for:\n%s", selector, h)
	}
}
