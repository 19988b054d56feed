package app

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"metriclab/core/msg"
)

// presetSettings returns the settings preset p's request names, over
// base: the expected value of a link or a form with that preset.
func presetSettings(base Settings, p msg.Preset) Settings {
	r := p.Request
	s := base
	s.Preset = p.Name
	s.Arch, s.Loss, s.Dim, s.Batch, s.LR, s.Opt, s.Epochs = r.Arch, r.Loss, r.Dim, r.Batch, r.LR, r.Opt, r.Epochs
	s.Schedule, s.Augment, s.EmbedBN, s.Compose, s.Turns, s.EarlyStop = r.Schedule, r.Augment, r.EmbedBN, r.Compose, r.Turns, r.EarlyStop
	s.FlipTest, s.Glyphs, s.Views = r.FlipTest, r.Glyphs, msg.FormatViews(r.Views)
	if s.Augment == "none" {
		s.Augment = ""
	}
	s.WeightDecay = r.WeightDecay
	s.Params = nil
	for k, v := range r.LossParams {
		if s.Params == nil {
			s.Params = map[string]float64{}
		}
		s.Params[k] = v
	}
	return s
}

// TestParseHashPreset: preset= sets every field its request names (each
// of msg.Presets, so that a new preset is checked as it lands), the
// link's own keys win, a loss other than the preset's drops its
// parameters, and bad values of the recipe keys are one notice each.
func TestParseHashPreset(t *testing.T) {
	def := DefaultSettings()
	for _, p := range msg.Presets() {
		got, notices := ParseHash("#preset=" + p.Name)
		if want := presetSettings(def, p); len(notices) > 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("preset=%s: %+v, notices %q; want %+v", p.Name, got, notices, want)
		}
		// What the page sends its trainers is the preset's request, but
		// for the fields that stay the caller's, recording its name.
		r, want := got.Request(got.Loss), p.Request
		want.Data, want.Classes, want.Seed, want.Device = r.Data, r.Classes, r.Seed, r.Device
		want.Preset = p.Name
		if want.Augment == "none" {
			want.Augment = ""
		}
		if !reflect.DeepEqual(r, want) {
			t.Errorf("preset=%s: Request() = %+v, want %+v", p.Name, r, want)
		}
	}
	digits, _ := msg.PresetByName("digits")
	faces, _ := msg.PresetByName("faces")
	checkParseHash(t, []hashCase{
		{name: "the link's keys win", hash: "#lr=0.001&preset=digits&epochs=2&augment=none&classes=0-4",
			want: func(s *Settings) {
				*s = presetSettings(def, digits)
				s.LR, s.Epochs, s.Augment, s.Classes = 0.001, 2, "", "0-4"
			}},
		{name: "another loss drops the preset's parameters", hash: "#preset=faces&loss=arcface",
			want: func(s *Settings) { *s = presetSettings(def, faces); s.Loss, s.Params = "arcface", nil }},
		{name: "none", hash: "#preset=none&dim=8", want: func(s *Settings) { s.Dim = 8 }},
		{name: "unknown preset", hash: "#preset=cats", want: func(*Settings) {}, notices: 1, noticeIs: "preset=cats"},
		{name: "every recipe key", hash: "#schedule=step&augment=faces&embed-bn=1&flip-test=1&compose=2x1&turns=4&glyphs=50&wd=0.001&early-stop=3",
			want: func(s *Settings) {
				wd := 0.001
				s.Schedule, s.Augment, s.EmbedBN, s.Compose, s.Turns, s.WeightDecay, s.EarlyStop = "step", "faces", true, "2x1", 4, &wd, 3
				s.FlipTest, s.Glyphs = true, 50
			}},
		{name: "bad schedule", hash: "#schedule=linear", want: func(*Settings) {}, notices: 1, noticeIs: "schedule=linear"},
		{name: "bad augment", hash: "#augment=sideways", want: func(*Settings) {}, notices: 1, noticeIs: "augment=sideways"},
		{name: "bad embed-bn", hash: "#embed-bn=maybe", want: func(*Settings) {}, notices: 1, noticeIs: "embed-bn=maybe"},
		{name: "bad flip-test", hash: "#flip-test=maybe", want: func(*Settings) {}, notices: 1, noticeIs: "flip-test=maybe"},
		{name: "bad compose", hash: "#compose=2y1", want: func(*Settings) {}, notices: 1, noticeIs: "compose=2y1"},
		{name: "bad compose parts", hash: "#compose=0x2", want: func(*Settings) {}, notices: 1, noticeIs: "compose=0x2"},
		{name: "bad turns", hash: "#turns=3", want: func(*Settings) {}, notices: 1, noticeIs: "turns=3"},
		{name: "bad glyphs", hash: "#glyphs=1001", want: func(*Settings) {}, notices: 1, noticeIs: "glyphs=1001"},
		{name: "bad wd", hash: "#wd=-1", want: func(*Settings) {}, notices: 1, noticeIs: "wd=-1"},
		{name: "bad early stop", hash: "#early-stop=1000", want: func(*Settings) {}, notices: 1, noticeIs: "early-stop=1000"},
		{name: "a preset's bad value is the link's", hash: "#preset=digits&dim=5",
			want: func(s *Settings) { *s = presetSettings(def, digits) }, notices: 1, noticeIs: "dim=5"},
	})
}

// TestPresetHashRoundTrip: a link with a preset reads back as written,
// also when the user set a recipe field back to its default after
// choosing the preset (the hash then says so, or the preset's value
// would come back).
func TestPresetHashRoundTrip(t *testing.T) {
	for _, p := range msg.Presets() {
		s := presetSettings(DefaultSettings(), p)
		variants := []Settings{s}
		v := s
		v.Augment, v.Schedule, v.Seed = "", "", 3
		v.Params = map[string]float64{}
		for k, x := range s.Params {
			v.Params[k] = 0.9 * x // changed by hand, in range
		}
		variants = append(variants, v)
		v = s
		wd := 0.0
		v.EmbedBN, v.Turns, v.Compose, v.WeightDecay, v.EarlyStop, v.Glyphs = true, 8, "2x2", &wd, 4, 17
		variants = append(variants, v)
		v = s
		v.FlipTest = !s.FlipTest // set back by hand, or set without the preset's
		variants = append(variants, v)
		v = s
		v.WeightDecay = nil // wd= or the jobs form's field emptied: the optimiser's default
		variants = append(variants, v)
		for _, s := range variants {
			h := s.Hash()
			got, notices := ParseHash(h)
			if len(notices) > 0 || !reflect.DeepEqual(got, s) {
				t.Errorf("ParseHash(%q) = %+v, %q; want %+v", h, got, notices, s)
			}
		}
	}
	// Without a preset the recipe keys at their defaults stay out of the
	// link, as before presets.
	if h := DefaultSettings().Hash(); strings.Contains(h, "augment") || strings.Contains(h, "preset") || strings.Contains(h, "schedule") {
		t.Errorf("the default settings' hash %q names recipe keys", h)
	}
}

// TestWithPreset: choosing a preset in a form replaces every recipe field
// (fields the preset does not name take their defaults) and keeps the
// others; edits afterwards win; "none" forgets the name only.
func TestWithPreset(t *testing.T) {
	digits, _ := msg.PresetByName("digits")
	s, _ := ParseHash("#classes=0-4&seed=7&arch=mlp&loss=arcface&m=0.3&turns=4&workers=2&compare=softmax,cosface")
	got, err := s.WithPreset("digits")
	if err != nil {
		t.Fatal(err)
	}
	want := presetSettings(DefaultSettings(), digits)
	want.Classes, want.Seed, want.Workers, want.Compare = "0-4", 7, 2, []string{"softmax", "cosface"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WithPreset(digits) =\n%+v, want\n%+v", got, want)
	}
	edited, err := EditSettings(jobSettings(got), "lr", "0.002", nil)
	if err != nil || edited.LR != 0.002 || edited.Preset != "digits" || edited.Augment != want.Augment {
		t.Errorf("an edit after the preset: %+v, %v; want lr 0.002 and the preset's other fields", edited, err)
	}
	if viaForm, err := EditSettings(jobSettings(s), "preset", "digits", nil); err != nil || viaForm.Arch != digits.Request.Arch || viaForm.Classes != "0-4" {
		t.Errorf("EditSettings(preset, digits) = %+v, %v", viaForm, err)
	}
	none, err := got.WithPreset("none")
	want.Preset = ""
	if err != nil || !reflect.DeepEqual(none, want) {
		t.Errorf("WithPreset(none) = %+v, %v; want the fields kept and no preset", none, err)
	}
	if _, err := s.WithPreset("cats"); err == nil || !strings.Contains(err.Error(), "cats") {
		t.Errorf("WithPreset(cats): %v, want an error naming it", err)
	}
	if names := PresetNames(); names[0] != "none" || len(names) != len(msg.Presets())+1 {
		t.Errorf("PresetNames() = %q", names)
	}
}

// TestRequestRecipe: the recipe fields reach the trainers' request, and
// early stopping keeps a trainer to one worker (worker 0 alone
// validates).
func TestRequestRecipe(t *testing.T) {
	s, notices := ParseHash("#augment=digits&schedule=step&embed-bn=1&compose=2x1&turns=8&glyphs=300&wd=0.0005&early-stop=2&workers=4")
	if len(notices) > 0 {
		t.Fatal(notices)
	}
	r := s.Request(s.Loss)
	if r.Augment != "digits" || r.Schedule != "step" || !r.EmbedBN || r.Compose != "2x1" || r.Turns != 8 || r.Glyphs != 300 || r.WeightDecay == nil || *r.WeightDecay != 0.0005 || r.EarlyStop != 2 {
		t.Errorf("Request() = %+v", r)
	}
	if r := s.Request("triplet"); r.Glyphs != 0 || r.Compose != "2x1" {
		t.Errorf("triplet's request: glyphs %d (want 0: it batches P×K), compose %q", r.Glyphs, r.Compose)
	}
	if n := s.WorkersFor(16); n != 1 {
		t.Errorf("WorkersFor with early stopping = %d, want 1", n)
	}
	if r := DefaultSettings().Request("arcface"); r.WeightDecay != nil || r.Augment != "" || r.Schedule != "" {
		t.Errorf("default Request() = %+v, want no recipe fields", r)
	}
}

// TestParseHashNoticesNameWhatStays: a bad value leaves the value before
// it (the preset's, or the link's own earlier one) and its notice says
// which; a bad loss leaves the preset's loss with its parameters; values
// the trainer would refuse at the start (a sign in classes, more than 4
// parts) are refused with the link.
func TestParseHashNoticesNameWhatStays(t *testing.T) {
	def := DefaultSettings()
	digits, _ := msg.PresetByName("digits")
	faces, _ := msg.PresetByName("faces")
	for _, c := range []struct {
		name, hash string
		want       func(*Settings)
		notice     string // the notice holds it
		not        string // and not this
	}{
		{"a bad loss keeps the preset's loss and parameters", "#preset=faces&loss=nope",
			func(s *Settings) { *s = presetSettings(def, faces) }, "using " + faces.Request.Loss, ""},
		{"a bad flag keeps the preset's", "#preset=faces&flip-test=maybe",
			func(s *Settings) { *s = presetSettings(def, faces) }, "with the flip test", "no flip test"},
		{"a bad flag keeps the link's own", "#embed-bn=1&embed-bn=maybe",
			func(s *Settings) { s.EmbedBN = true }, "with the batch norm", "no batch norm"},
		{"a bad autostart does not start", "#autostart=1&autostart=maybe",
			func(*Settings) {}, "not starting", ""},
		{"a bad compose keeps the preset's", "#preset=digits&compose=9",
			func(s *Settings) { *s = presetSettings(def, digits) }, "using " + digits.Request.Compose, "no composition"},
		{"a bad wd keeps the preset's", "#preset=digits&wd=abc",
			func(s *Settings) { *s = presetSettings(def, digits) }, fmt.Sprintf("using %g", *digits.Request.WeightDecay), "default"},
		{"bad classes keep the link's own", "#classes=0-4&classes=7",
			func(s *Settings) { s.Classes = "0-4" }, "using 0-4", "all classes"},
		{"bad turns keep the link's own", "#turns=4&turns=5",
			func(s *Settings) { s.Turns = 4 }, "using 4", "no turns"},
		{"more than 4 parts", "#compose=3x2", func(*Settings) {}, "compose=3x2", ""},
		{"parts past int's range", "#compose=4294967296x4294967296", func(*Settings) {}, "compose=4294967296x4294967296", ""},
		{"a side past int's half range", "#compose=2x4611686018427387904", func(*Settings) {}, "compose=2x4611686018427387904", ""},
		{"a sign in classes", "#classes=%2B1,2", func(*Settings) {}, "classes=+1,2", ""},
	} {
		want := def
		c.want(&want)
		got, notices := ParseHash(c.hash)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: ParseHash(%q) =\n%+v, want\n%+v", c.name, c.hash, got, want)
		}
		if len(notices) != 1 || !strings.Contains(notices[0], c.notice) || (c.not != "" && strings.Contains(notices[0], c.not)) {
			t.Errorf("%s: notices %q, want one that says %q (and not %q)", c.name, notices, c.notice, c.not)
		}
	}
}

// TestWithParam: a loss parameter set at its default is no setting (it
// follows D), unless the preset sets it for the loss, when the link
// writes it and reads it back as set; the settings' map is not changed.
func TestWithParam(t *testing.T) {
	for _, c := range []struct {
		hash, param string
		v           float64
		want        map[string]float64
	}{
		{"#loss=cosface", "m", 0.35, nil},
		{"#loss=cosface&m=0.4", "m", 0.35, nil},
		{"#loss=cosface", "m", 0.3, map[string]float64{"m": 0.3}},
		{"#preset=faces&dim=3", "m", 0.35, map[string]float64{"s": 16, "m": 0.35}},
		{"#preset=faces&loss=arcface&m=0.3", "m", 0.5, nil}, // not the preset's loss
		{"#preset=digits", "s", 64, map[string]float64{"s": 64}},
	} {
		s, _ := ParseHash(c.hash)
		before := maps.Clone(s.Params)
		i := slices.IndexFunc(LossParams(s.Loss, s.Dim), func(p LossParam) bool { return p.Name == c.param })
		got := s.WithParam(LossParams(s.Loss, s.Dim)[i], c.v)
		if !reflect.DeepEqual(got.Params, c.want) || !maps.Equal(s.Params, before) {
			t.Errorf("%s, %s = %g: params %v (the settings' now %v), want %v", c.hash, c.param, c.v, got.Params, s.Params, c.want)
		}
		if back, notices := ParseHash(got.Hash()); len(notices) > 0 || !reflect.DeepEqual(back, got) {
			t.Errorf("%s, %s = %g: %+v reads back as %+v, %q", c.hash, c.param, c.v, got, back, notices)
		}
	}
}
