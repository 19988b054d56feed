//go:build !js

package app

import (
	"fmt"
	"strings"
	"testing"
)

// TestJobFormGlyphs: the form shows the glyph classes the job will train
// with: the digits preset's 500 for its own loss, and none, disabled, for
// triplet, whose request leaves them out (before, it showed 500).
func TestJobFormGlyphs(t *testing.T) {
	for _, c := range []struct {
		loss     string
		glyphs   int
		disabled bool
	}{{"normsoftmax", 500, false}, {"arcface", 500, false}, {"triplet", 0, true}} {
		j := NewJobs()
		s, err := j.form.WithPreset("digits")
		if err == nil {
			s, err = EditSettings(s, "loss", c.loss)
		}
		if err != nil {
			t.Fatal(err)
		}
		j.form = s
		if got := s.Request(c.loss).Glyphs; got != c.glyphs {
			t.Fatalf("%s: the request has %d glyph classes, want %d", c.loss, got, c.glyphs)
		}
		mount(t, j)
		tag, _, ok := element(t, j, "job-glyphs")
		if !ok {
			t.Fatalf("%s: no #job-glyphs", c.loss)
		}
		if want := fmt.Sprintf(`value="%d"`, c.glyphs); !strings.Contains(tag, want) {
			t.Errorf("%s: %s, want %s", c.loss, tag, want)
		}
		if got := disabled(t, j, "job-glyphs"); got != c.disabled {
			t.Errorf("%s: disabled %v, want %v", c.loss, got, c.disabled)
		}
	}
}
