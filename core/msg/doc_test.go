package msg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocNamesEachFile: the package's doc (doc.go) names each of its
// files with what it holds, so that a reader finds a rule from the doc;
// decimal.go (ParseDecimal), crop.go and four more were not named.
func TestDocNamesEachFile(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f != "doc.go" && !strings.HasSuffix(f, "_test.go") && !strings.Contains(string(doc), "("+f) && !strings.Contains(string(doc), " "+f) {
			t.Errorf("doc.go does not name %s", f)
		}
	}
}
