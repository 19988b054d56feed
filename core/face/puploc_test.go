//go:debug randseednop=0

package face

import (
	"math/rand"
	"testing"

	pigo "github.com/esimov/pigo/core"

	"metriclab/assets"
)

// TestPuplocMatchesPigo: from windows at the sample's eyes, off them and
// at the frame's edges (where the comparisons' pixels are clamped), the
// port gives pigo's RunDetector's pupils and sizes bit for bit when
// math/rand's global source is seeded with pupilSeed (Seed works again in
// this test binary: the go:debug line above); and again after other draws
// from the global source, which pigo's pupils followed.
func TestPuplocMatchesPigo(t *testing.T) {
	g, w, h := loadGray(t, "testdata/sample.jpg")
	ref, err := pigo.NewPuplocCascade().UnpackCascade(assets.PupLoc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := newPuploc(assets.PupLoc)
	if err != nil {
		t.Fatal(err)
	}
	img := pigo.ImageParams{Pixels: g, Rows: h, Cols: w, Dim: w}
	windows := []struct {
		row, col int
		s        float32
	}{
		{183, 115, 88}, {183, 205, 88}, // the pupils (see TestDetectSample)
		{170, 125, 80}, {200, 190, 100}, // a little off them
		{300, 160, 60},                  // the mouth
		{3, 4, 90}, {h - 2, w - 3, 120}, // corners: clamped comparisons
	}
	for _, win := range windows {
		rand.Seed(pupilSeed)
		want := ref.RunDetector(pigo.Puploc{Row: win.row, Col: win.col, Scale: win.s, Perturbs: pupilPerturbs}, img, 0, false)
		r, c, s := p.run(win.row, win.col, win.s, pupilPerturbs, g, h, w, w)
		if r != want.Row || c != want.Col || s != want.Scale {
			t.Errorf("window (%d, %d) size %g: port (%d, %d) size %g, pigo (%d, %d) size %g", win.row, win.col, win.s, r, c, s, want.Row, want.Col, want.Scale)
		}
		for range 10 {
			rand.Float32()
		}
		if r2, c2, s2 := p.run(win.row, win.col, win.s, pupilPerturbs, g, h, w, w); r2 != r || c2 != c || s2 != s {
			t.Errorf("window (%d, %d): (%d, %d) size %g after other draws, (%d, %d) size %g before", win.row, win.col, r2, c2, s2, r, c, s)
		}
	}
}

// TestDetectSamePupils: detecting the sample twice, with draws from the
// global source between, gives the same pupils (pigo's own localiser moved
// them by a pixel or so from call to call).
func TestDetectSamePupils(t *testing.T) {
	g, w, h := loadGray(t, "testdata/sample.jpg")
	d := newDetector(t)
	a := d.Detect(g, w, h)
	rand.Seed(42)
	b := d.Detect(g, w, h)
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("%d and %d faces, want 1", len(a), len(b))
	}
	if a[0] != b[0] {
		t.Errorf("first %+v, then %+v", a[0], b[0])
	}
}

// TestNewPuplocBad: a cascade cut short or with an absurd header is an
// error, not a panic.
func TestNewPuplocBad(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":     nil,
		"header":    assets.PupLoc[:16],
		"truncated": assets.PupLoc[:len(assets.PupLoc)-1],
		"depth 0":   append([]byte{1, 0, 0, 0, 0, 0, 0x80, 0x3f, 1, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 64)...),
	} {
		if _, err := newPuploc(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
