package app

import (
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseHash(t *testing.T) {
	checkParseHash(t, []hashCase{
		{name: "empty", hash: "", want: func(*Settings) {}},
		{name: "hash only", hash: "#", want: func(*Settings) {}},
		{
			name: "the brief's example",
			hash: "#loss=arcface&dim=3&arch=lenet-s&lr=0.001&compare=softmax,sphereface,cosface,arcface&hide=loss,dim&autostart=1",
			want: func(s *Settings) {
				s.LR = 0.001
				s.Compare = []string{"softmax", "sphereface", "cosface", "arcface"}
				s.Hide = []string{"loss", "dim"}
				s.Autostart = true
			},
		},
		{
			name: "every field",
			hash: "#data=mnist&classes=0-4&arch=mlp&loss=cosface&s=30&m=0.2&dim=64&batch=128&lr=0.05&opt=sgd&epochs=3&seed=7",
			want: func(s *Settings) {
				*s = Settings{Data: "mnist", Classes: "0-4", Arch: "mlp", Loss: "cosface", Params: map[string]float64{"s": 30, "m": 0.2},
					Dim: 64, Batch: 128, LR: 0.05, Opt: "sgd", Epochs: 3, Seed: 7}
			},
		},
		{name: "compare=1", hash: "#compare=1", want: func(s *Settings) { s.Compare = DefaultCompare() }},
		{name: "bad dim", hash: "#dim=5", want: func(*Settings) {}, notices: 1, noticeIs: "dim=5"},
		{name: "bad loss", hash: "#loss=bogus", want: func(*Settings) {}, notices: 1, noticeIs: "loss=bogus"},
		{name: "unknown key", hash: "#colour=red&dim=2", want: func(s *Settings) { s.Dim = 2 }, notices: 1, noticeIs: "colour"},
		{name: "param out of range", hash: "#loss=arcface&m=3", want: func(*Settings) {}, notices: 1, noticeIs: "arcface m=3: want a finite decimal number in [0, 1.5]: using 0.5"},
		{name: "integer param", hash: "#loss=sphereface&m=2.5", want: func(s *Settings) { s.Loss = "sphereface" }, notices: 1, noticeIs: "integer"},
		{name: "param of another loss", hash: "#loss=softmax&m=0.3", want: func(s *Settings) { s.Loss = "softmax" }, notices: 1, noticeIs: `softmax has no parameter "m": ignored`},
		{name: "lr not a number", hash: "#lr=fast", want: func(*Settings) {}, notices: 1, noticeIs: "lr=fast"},
		// A value's line break and right-to-left override (which showed the
		// rest of the notice reversed) are spaces.
		{name: "lr of a line break and an override", hash: "#lr=%E2%80%AEtsaf%0Ax", want: func(*Settings) {}, notices: 1, noticeIs: "lr= tsaf x: want a finite decimal number"},
		{name: "lr zero", hash: "#lr=0", want: func(*Settings) {}, notices: 1, noticeIs: "lr=0"},
		{name: "lr below float32's range", hash: "#lr=1e-320", want: func(*Settings) {}, notices: 1, noticeIs: "lr=1e-320: want a finite decimal number in [1e-06, 10]"},
		{name: "lr at the field's minimum", hash: "#lr=1e-6", want: func(s *Settings) { s.LR = 1e-6 }},
		{name: "batch too big", hash: "#batch=100000", want: func(*Settings) {}, notices: 1, noticeIs: "batch"},
		{name: "bad classes", hash: "#classes=3", want: func(*Settings) {}, notices: 1, noticeIs: "two classes"},
		// All classes, as the jobs form takes them ("all, or 0-4, 0,2,4")
		// and the playground's field (empty: all): a notice said "" and
		// "all" were no digits, "using all classes".
		{name: "classes empty", hash: "#classes=0-4&classes=", want: func(*Settings) {}},
		{name: "classes all", hash: "#classes=0-4&classes=+all", want: func(*Settings) {}},
		{name: "bad hide", hash: "#hide=loss,knobs", want: func(s *Settings) { s.Hide = []string{"loss"} }, notices: 1, noticeIs: "knobs"},
		{
			name:    "compare: unknown, duplicate, too many",
			hash:    "#compare=softmax,nope,softmax,cosface,arcface,sphereface,triplet",
			want:    func(s *Settings) { s.Compare = []string{"softmax", "cosface", "arcface", "sphereface"} },
			notices: 3, noticeIs: "nope",
		},
		{name: "seed beyond a JavaScript number's integers", hash: "#seed=9007199254740992", want: func(*Settings) {}, notices: 1, noticeIs: "seed=9007199254740992: want a decimal integer in [0, 9007199254740991]: using 1"},
		{name: "seed beyond the old field's 2³¹ − 1", hash: "#seed=4294967296", want: func(s *Settings) { s.Seed = 1 << 32 }},
		{name: "bad autostart", hash: "#autostart=maybe", want: func(*Settings) {}, notices: 1, noticeIs: "autostart"},
		{name: "not a query", hash: "#%zz", want: func(*Settings) {}, notices: 1, noticeIs: "%zz could not be read"},
		// A setting that cannot be read leaves the others: a typed % or ;
		// once dropped the whole link, each of its settings taking its default.
		{name: "a bad escape beside good settings", hash: "#dim=2&classes=0-4%&batch=32", want: func(s *Settings) { s.Dim, s.Batch = 2, 32 },
			notices: 1, noticeIs: `classes=0-4% could not be read (invalid URL escape "%"): not used`},
		{name: "a semicolon beside good settings", hash: "#dim=2;batch=32&epochs=3", want: func(s *Settings) { s.Epochs = 3 },
			notices: 1, noticeIs: "dim=2;batch=32 could not be read"},
	})
}

// hashCase is a case of ParseHash: the link, what it changes of the
// default settings, and its notices.
type hashCase struct {
	name     string
	hash     string
	want     func(*Settings)
	notices  int
	noticeIs string // a word the first notice must hold
}

// checkParseHash runs the cases.
func checkParseHash(t *testing.T, cases []hashCase) {
	t.Helper()
	for _, c := range cases {
		want := DefaultSettings()
		c.want(&want)
		got, notices := ParseHash(c.hash)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: ParseHash(%q) =\n%+v, want\n%+v", c.name, c.hash, got, want)
		}
		if len(notices) != c.notices {
			t.Errorf("%s: %d notices %q, want %d", c.name, len(notices), notices, c.notices)
		} else if c.notices > 0 && !strings.Contains(notices[0], c.noticeIs) {
			t.Errorf("%s: notice %q does not mention %q", c.name, notices[0], c.noticeIs)
		}
	}
}

func TestHashRoundTrip(t *testing.T) {
	for _, s := range []Settings{
		DefaultSettings(),
		{Data: "mnist", Classes: "0,2,4-6", Arch: "mlp", Loss: "arcface", Params: map[string]float64{"m": 0.45, "easy_margin": 1},
			Dim: 128, Batch: 32, LR: 1.5e-4, Opt: "sgd", Epochs: 10, Seed: 12345,
			Compare: []string{"arcface", "triplet"}, Hide: []string{"params", "export"}, Autostart: true},
	} {
		h := s.Hash()
		got, notices := ParseHash(h)
		if len(notices) > 0 || !reflect.DeepEqual(got, s) {
			t.Errorf("ParseHash(%q) = %+v, %q; want %+v", h, got, notices, s)
		}
	}
	// The hash writes lists with plain commas, as people type them.
	s := DefaultSettings()
	s.Compare = DefaultCompare()
	if h := s.Hash(); !strings.Contains(h, "compare=softmax,sphereface,cosface,arcface") || !strings.HasPrefix(h, "#data=mnist&") {
		t.Errorf("Hash() = %q", h)
	}
}

// TestParseHashDecimal: a link's numbers are read in decimal notation
// alone, as the command line reads them (before, as Go literals: lr=0x1p-4
// was 0.0625, wd=1_0e-3 0.01, a loss's m=0x1p-1 0.5, a view 0:0:0x1p0:1
// the lower window); a -0 is read as 0 (before, the link wrote it back
// as -0). A number refused is noted in msg.ParseDecimal's words, with the
// setting's range, whatever is wrong with it, as the command line's
// integers are: "want a finite decimal number in [1e-06, 10]", "want a
// decimal integer in [1, 8]" (before, 0x1p-4, NaN and Inf were "not a
// number", and 0x10 "not an integer").
func TestParseHashDecimal(t *testing.T) {
	checkParseHash(t, []hashCase{
		{name: "lr in hexadecimal", hash: "#lr=0x1p-4", want: func(*Settings) {}, notices: 1, noticeIs: "lr=0x1p-4: want a finite decimal number in [1e-06, 10]: using 0.01"},
		{name: "lr NaN", hash: "#lr=NaN", want: func(*Settings) {}, notices: 1, noticeIs: "lr=NaN: want a finite decimal number in [1e-06, 10]: using 0.01"},
		{name: "lr beyond float64", hash: "#lr=1e400", want: func(*Settings) {}, notices: 1, noticeIs: "lr=1e400: want a finite decimal number in [1e-06, 10]: using 0.01"},
		{name: "wd with an underscore", hash: "#wd=1_0e-3", want: func(*Settings) {}, notices: 1, noticeIs: "wd=1_0e-3: want a finite decimal number in [0, 1]: using the optimiser's default"},
		{name: "wd Inf after a wd", hash: "#wd=0.1&wd=Inf", want: func(s *Settings) { wd := 0.1; s.WeightDecay = &wd }, notices: 1, noticeIs: "wd=Inf: want a finite decimal number in [0, 1]: using 0.1"},
		{name: "param in hexadecimal", hash: "#loss=arcface&m=0x1p-1", want: func(s *Settings) { s.Loss = "arcface" }, notices: 1, noticeIs: "arcface m=0x1p-1: want a finite decimal number in [0, 1.5]: using 0.5"},
		{name: "integer param in hexadecimal", hash: "#loss=sphereface&m=0x2", want: func(s *Settings) { s.Loss = "sphereface" }, notices: 1, noticeIs: "sphereface m=0x2: want a decimal integer in [1, 8]: using 4"},
		{name: "integer param not an integer", hash: "#loss=sphereface&m=2.5", want: func(s *Settings) { s.Loss = "sphereface" }, notices: 1, noticeIs: "sphereface m=2.5: want a decimal integer in [1, 8]: using 4"},
		{name: "batch in hexadecimal", hash: "#batch=0x10", want: func(*Settings) {}, notices: 1, noticeIs: "batch=0x10: want a decimal integer in [8, 512]: using 64"},
		{name: "seed with an underscore", hash: "#seed=1_0", want: func(*Settings) {}, notices: 1, noticeIs: "seed=1_0: want a decimal integer in [0, 9007199254740991]: using 1"},
		{name: "view in hexadecimal", hash: "#views=whole,0:0:0x1p0:1", want: func(*Settings) {}, notices: 1, noticeIs: `views=whole,0:0:0x1p0:1: view "0:0:0x1p0:1": "0x1p0": want a finite decimal number`},
		{name: "decimal numbers", hash: "#lr=.05&wd=5E-4&loss=arcface&m=%2B0.3&views=whole,0:0:1.:1", want: func(s *Settings) {
			wd := 5e-4
			s.LR, s.WeightDecay, s.Loss, s.Params, s.Views = 0.05, &wd, "arcface", map[string]float64{"m": 0.3}, "whole,0:0:1:1"
		}},
	})
	s, _ := ParseHash("#wd=-0&loss=arcface&m=-0")
	if h := s.Hash(); strings.Contains(h, "-0") || !strings.Contains(h, "wd=0&") || !strings.Contains(h, "m=0") {
		t.Errorf("#wd=-0&loss=arcface&m=-0 written back as %q, want wd=0 and m=0", h)
	}
}

func TestRequest(t *testing.T) {
	s, _ := ParseHash("#loss=cosface&m=0.3&compare=softmax,cosface&dim=2&classes=0-4&seed=9")
	r := s.Request("cosface")
	if r.Loss != "cosface" || r.Dim != 2 || r.Classes != "0-4" || r.Seed != 9 || r.LossParams["m"] != 0.3 || r.Data != "mnist" {
		t.Errorf("Request(cosface) = %+v", r)
	}
	// Another loss of compare mode takes its own defaults, and the same seed.
	if r := s.Request("softmax"); r.LossParams != nil || r.Seed != 9 {
		t.Errorf("Request(softmax) = %+v, want no parameters and seed 9", r)
	}
	if got := s.Losses(); !reflect.DeepEqual(got, []string{"softmax", "cosface"}) {
		t.Errorf("Losses() = %v", got)
	}
}

func TestParseClasses(t *testing.T) {
	// Spaces around a range's dash, as the trainer's data.ParseClasses
	// (and --classes, and POST /api/jobs) takes them.
	for spec, want := range map[string][]int{"0-4": {0, 1, 2, 3, 4}, "0,2,4": {0, 2, 4}, "7, 1-2": {1, 2, 7},
		"0 - 4": {0, 1, 2, 3, 4}, "7, 1 -2": {1, 2, 7}, "5- 6": {5, 6}} {
		got, err := ParseClasses(spec)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseClasses(%q) = %v, %v; want %v", spec, got, err, want)
		}
	}
	for _, bad := range []string{"", "3", "a-b", "4-2", "0-10", "-1", "1,,2", "9,9,8", "0-4,3-6", "0 - +4", "0 - 4 - 5", " - 4"} {
		if got, err := ParseClasses(bad); err == nil {
			t.Errorf("ParseClasses(%q) = %v, want an error", bad, got)
		}
	}
}

func TestLossParamsDefaults(t *testing.T) {
	// Values from the losses' docs: ArcFace m = 0.5 scaled by 0.4 at
	// D = 2 (margin.go, msLowDimFactor); s = 16·√(D/8) clamped to [16, 64].
	cases := []struct {
		loss, name string
		dim        int
		want       float64
	}{
		{"arcface", "m", 2, 0.2}, {"arcface", "m", 64, 0.5}, {"arcface", "s", 3, 16}, {"arcface", "s", 128, 64},
		{"sphereface", "m", 3, 4}, {"cosface", "m", 2, 0.14},
	}
	for _, c := range cases {
		var got float64 = -1
		for _, p := range LossParams(c.loss, c.dim) {
			if p.Name == c.name {
				got = p.Default
			}
		}
		if d := got - c.want; d > 1e-12 || d < -1e-12 {
			t.Errorf("%s %s at D = %d: default %g, want %g", c.loss, c.name, c.dim, got, c.want)
		}
	}
	if len(LossParams("softmax", 3)) != 0 || LossParams("arcface", 5) != nil {
		t.Error("softmax has parameters, or D = 5 is offered")
	}
}

// TestWorkers: workers= reads back, out-of-range values are refused with a
// notice, and WorkersFor shares the cores (but one) among the trainers,
// keeps to MaxWorkers in all and to divisors of the batch.
func TestWorkers(t *testing.T) {
	s, notes := ParseHash("#workers=4&batch=64")
	if s.Workers != 4 || len(notes) != 0 {
		t.Fatalf("workers=4: %d, notices %v", s.Workers, notes)
	}
	if back, _ := ParseHash(s.Hash()); back.Workers != 4 {
		t.Errorf("Hash %q reads back workers %d", s.Hash(), back.Workers)
	}
	if s, notes := ParseHash("#workers=99"); s.Workers != 0 || len(notes) != 1 {
		t.Errorf("workers=99: %d, notices %v", s.Workers, notes)
	}
	for _, c := range []struct {
		workers, batch, cores int
		compare               []string
		want                  int
	}{
		{0, 64, 1, nil, 1},              // one core: the page's
		{0, 64, 2, nil, 1},              // this machine: one for the page, one to train
		{0, 64, 8, nil, 4},              // 7 cores for the trainer, lowered to a divisor of 64
		{0, 64, 9, DefaultCompare(), 2}, // 8 cores among 4 trainers
		{0, 60, 16, nil, 15},
		{3, 64, 2, nil, 2},                // an explicit 3 does not divide 64
		{2, 64, 1, nil, 2},                // an explicit count wins over the cores
		{16, 8, 32, nil, 8},               // no more workers than images in a batch
		{16, 64, 32, DefaultCompare(), 4}, // 16 in all among 4 trainers (64 workers held 14 GB of MNIST)
	} {
		s := DefaultSettings()
		s.Workers, s.Batch, s.Compare = c.workers, c.batch, c.compare
		if got := s.WorkersFor(c.cores); got != c.want {
			t.Errorf("workers %d, batch %d, %d cores, %d trainers: %d workers, want %d", c.workers, c.batch, c.cores, len(s.Losses()), got, c.want)
		}
	}
}

// TestParseHashBoundsNotices gives links of a thousand unknown settings
// and of a value of a megabyte: a few notices come back, the last counting
// the rest, and none is longer than maxNoticeRunes (the value's start and
// the words after it stay); the good settings beside them still apply.
func TestParseHashBoundsNotices(t *testing.T) {
	var b strings.Builder
	b.WriteString("#dim=2")
	for i := range 1000 {
		fmt.Fprintf(&b, "&knob%04d=1", i)
	}
	s, notices := ParseHash(b.String())
	if s.Dim != 2 {
		t.Errorf("dim = %d beside the unknown settings, want 2", s.Dim)
	}
	if len(notices) != maxNotices || notices[0] != `unknown setting "knob0000" ignored` ||
		notices[maxNotices-1] != "and 993 more settings of the link were not used" {
		t.Errorf("%d notices, first %q, last %q; want %d, the last counting the other 993", len(notices), notices[0], notices[len(notices)-1], maxNotices)
	}
	long := strings.Repeat("9", 1<<20)
	s, notices = ParseHash("#lr=" + long + "&epochs=4")
	if s.Epochs != 4 || len(notices) != 1 {
		t.Fatalf("epochs %d, %d notices, want 4 and one notice", s.Epochs, len(notices))
	}
	if n := utf8.RuneCountInString(notices[0]); n > maxNoticeRunes || !strings.HasPrefix(notices[0], "lr=999") || !strings.HasSuffix(notices[0], ": want a finite decimal number in [1e-06, 10]: using 0.01") {
		t.Errorf("the notice of a 1 MB lr has %d characters: %.80q … ; want at most %d, with lr=999… at its start and the rule at its end", n, notices[0], maxNoticeRunes)
	}
}

// TestParseHashLongList gives a hide= of 20,000 unknown controls in one
// value: the link's notices quote the value, and only the few shown are
// written, so the page reads it in memory linear in the link's length (it
// once wrote every notice, each quoting the whole value: 12 GB and 13 s
// here, and a browser's link of 2 MB would hang the page for hours).
func TestParseHashLongList(t *testing.T) {
	h := "#dim=2&hide=loss," + strings.Repeat("knob,", 20000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, notices := ParseHash(h)
	runtime.ReadMemStats(&after)
	if s.Dim != 2 || !slices.Equal(s.Hide, []string{"loss"}) || len(notices) != maxNotices ||
		notices[maxNotices-1] != "and 19993 more settings of the link were not used" {
		t.Errorf("dim %d, hide %q, notices %q; want 2, [loss] and %d notices, the last counting 19993", s.Dim, s.Hide, notices, maxNotices)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 256*uint64(len(h)) { // 9 MB at the fix
		t.Errorf("a link of %d bytes allocated %d MB", len(h), n>>20)
	}
}
