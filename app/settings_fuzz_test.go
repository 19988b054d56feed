package app

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"
)

// FuzzSettingsHash reads arbitrary links: ParseHash never panics, gives at
// most maxNotices notices of at most maxNoticeRunes characters, and what
// it reads is settings the page can run (every field in its range) whose
// Hash reads back as the same settings, without a notice.
func FuzzSettingsHash(f *testing.F) {
	for _, h := range []string{
		"",
		"#",
		DefaultSettings().Hash(),
		"#data=mnist&classes=0-4&arch=lenet-s&loss=arcface&dim=3&batch=64&lr=0.01&opt=adam&epochs=1&seed=1&m=0.3&compare=softmax,sphereface,cosface,arcface&hide=loss,dim&autostart=1",
		"#preset=digits&classes=0-4&epochs=3",
		"#preset=faces&loss=cosface&m=0.2&s=30",
		"#preset=digits&loss=arcface&loss=bogus&dim=2&m=1.4",
		"#workers=1e9&dim=1000000&epochs=99999999999999999999&batch=-1&lr=NaN&seed=-1",
		"#lr=Inf&wd=NaN&wd=-0&wd=&m=-0&s=0x1p4&easy_margin=1.0",
		"#compare=1&compare=softmax,softmax,arcface,cosface,sphereface,triplet",
		"#hide=loss,loss,knobs,,export",
		"#views=upper,lower,whole&compose=2x1&turns=8&glyphs=1000&early-stop=5",
		"#views=NaN:0:1:1,whole&compose=4x4",
		"#%zz=1&a;b",
		"#loss=%ff%fe&x=%c3%28",
		"#schedule=&augment=none&embed-bn=yes&flip-test=2",
		"#classes=9-0&classes=03,+4&classes= 1 , 2 ",
	} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		s, notices := ParseHash(h)
		if len(notices) > maxNotices {
			t.Fatalf("%d notices", len(notices))
		}
		for _, n := range notices {
			if utf8.RuneCountInString(n) > maxNoticeRunes {
				t.Fatalf("notice of %d characters: %q", utf8.RuneCountInString(n), n)
			}
		}
		checkSettings(t, s)
		h2 := s.Hash()
		s2, notices2 := ParseHash(h2)
		if len(notices2) > 0 || !reflect.DeepEqual(s2, s) {
			t.Fatalf("ParseHash(%q) =\n%+v, its Hash %q reads back as\n%+v, %q", h, s, h2, s2, notices2)
		}
		if h3 := s2.Hash(); h3 != h2 {
			t.Fatalf("Hash of the settings read back %q, want %q", h3, h2)
		}
	})
}

// FuzzEditSettings edits a setting of the jobs form to arbitrary text: it
// is taken whole, giving settings that run and round-trip, or refused
// with the settings unchanged.
func FuzzEditSettings(f *testing.F) {
	keys := []string{"preset", "data", "classes", "arch", "loss", "dim", "epochs", "batch", "lr", "opt", "augment", "schedule",
		"embed-bn", "flip-test", "compose", "views", "turns", "glyphs", "wd", "early-stop", "seed", "m", "s", "workers", "compare"}
	for i, k := range keys {
		f.Add(uint8(i), "", "")
		f.Add(uint8(i), "1", "#preset=faces")
		f.Add(uint8(i), "1e9", "#loss=triplet&dim=2")
		f.Add(uint8(i), "x&dim=2", "")
		f.Add(uint8(i), k, "#loss=sphereface&m=8")
	}
	f.Fuzz(func(t *testing.T, k uint8, value, base string) {
		key := keys[int(k)%len(keys)]
		s, _ := ParseHash(base)
		before := s.Hash()
		got, err := EditSettings(s, key, value, nil)
		if s.Hash() != before {
			t.Fatalf("EditSettings changed its argument")
		}
		if err != nil {
			if !reflect.DeepEqual(got, s) {
				t.Fatalf("EditSettings(%s, %q) = %+v and %v: want the settings unchanged", key, value, got, err)
			}
			return
		}
		checkSettings(t, got)
		back, notices := ParseHash(got.Hash())
		if len(notices) > 0 || !reflect.DeepEqual(back, got) {
			t.Fatalf("EditSettings(%s, %q) = %+v, which reads back as %+v, %q", key, value, got, back, notices)
		}
	})
}

// checkSettings fails t when a field of s is out of its range, or when s
// gives no request or worker count the page can use.
func checkSettings(t *testing.T, s Settings) {
	t.Helper()
	switch {
	case !slices.Contains(Datasets(), s.Data), !slices.Contains(Archs(), s.Arch), !slices.Contains(lossNames(), s.Loss),
		!slices.Contains(Dims(), s.Dim), !slices.Contains(Opts(), s.Opt),
		s.Batch < minBatch || s.Batch > maxBatch, !(s.LR >= minLR && s.LR <= maxLR),
		s.Epochs < 1 || s.Epochs > maxEpochs, s.Seed < 0, s.Workers < 0 || s.Workers > MaxWorkers,
		len(s.Compare) > MaxTrainers, len(s.Hide) > len(ControlNames()),
		s.WeightDecay != nil && !(*s.WeightDecay >= 0 && *s.WeightDecay <= 1):
		t.Fatalf("settings out of range: %+v", s)
	}
	if s.Classes != "" {
		if _, err := ParseClasses(s.Classes); err != nil {
			t.Fatalf("classes %q: %v", s.Classes, err)
		}
	}
	for _, l := range s.Compare {
		if !slices.Contains(lossNames(), l) {
			t.Fatalf("compare %q", s.Compare)
		}
	}
	params := LossParams(s.Loss, s.Dim)
	for k, v := range s.Params {
		i := slices.IndexFunc(params, func(p LossParam) bool { return p.Name == k })
		if i < 0 || !(v >= params[i].Min && v <= params[i].Max) || params[i].Integer && v != math.Trunc(v) {
			t.Fatalf("%s parameter %s = %g", s.Loss, k, v)
		}
	}
	for _, l := range s.Losses() {
		r := s.Request(l)
		if r.Loss != l || r.Epochs != s.Epochs {
			t.Fatalf("Request(%s) = %+v", l, r)
		}
	}
	for _, cores := range []int{0, 1, 3, 64} {
		if n := s.WorkersFor(cores); n < 1 || n > MaxWorkers || s.Batch%n != 0 {
			t.Fatalf("WorkersFor(%d) = %d at batch %d", cores, n, s.Batch)
		}
	}
}

// FuzzFormEdits makes the playground form's edits, one per byte of ops,
// through Controls.change as its fields do (a preset, a loss, D, a loss
// parameter at its default or a bound, compare mode and its losses,
// classes): after each, the settings read back from their own link as
// they are, without a notice. A parameter that the preset sets, typed at
// its default, did not (TestControlsParamOfPresetAtDefault).
func FuzzFormEdits(f *testing.F) {
	f.Add([]byte{0x20, 0x33, 0x02}) // faces, CosFace's m at its default, D = 2
	f.Add([]byte{0x31, 0x13, 0x04, 0x85, 0x16, 0x52, 0x36})
	f.Fuzz(func(t *testing.T, ops []byte) {
		s := DefaultSettings()
		c := &Controls{OnChange: func(n Settings) { s = n }}
		for i, op := range ops {
			c.Settings = s
			k := int(op >> 4)
			switch op & 7 {
			case 0:
				c.change(func(s *Settings) {
					if p, err := s.WithPreset(PresetNames()[k%len(PresetNames())]); err == nil {
						*s = p
					}
				})
			case 1:
				c.change(func(s *Settings) { *s = s.WithLoss(LossNames()[k%len(LossNames())]) })
			case 2:
				c.change(func(s *Settings) {
					s.Dim = Dims()[k%len(Dims())]
					s.Params = keepParams(s.Loss, s.Dim, s.Params)
				})
			case 3:
				if ps := LossParams(s.Loss, s.Dim); len(ps) > 0 {
					p := ps[k%len(ps)]
					v := []float64{p.Default, p.Min, p.Max}[k%3]
					c.change(func(s *Settings) { *s = s.WithParam(p, v) })
				}
			case 4:
				c.change(func(s *Settings) {
					if len(s.Compare) == 0 {
						s.Compare = DefaultCompare()
					} else {
						s.Compare = nil
					}
				})
			case 5:
				name := LossNames()[k%len(LossNames())]
				if on := slices.Contains(s.Compare, name); len(s.Compare) > 0 && (on && len(s.Compare) > 1 || !on && len(s.Compare) < MaxTrainers) {
					c.change(func(s *Settings) { s.Compare = toggle(s.Compare, name) })
				}
			case 6:
				c.setClasses([]string{"", "0-4", "3,5", "12"}[k%4])
			}
			back, notices := ParseHash(s.Hash())
			if len(notices) > 0 || !reflect.DeepEqual(back, s) {
				t.Fatalf("after edits % x: %+v, whose link %q reads back as %+v, %q", ops[:i+1], s, s.Hash(), back, notices)
			}
		}
	})
}
