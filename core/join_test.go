package core

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"metriclab/core/vec"
)

// TestJoinModels: the join of a model of one encoder (of the whole image)
// and a model of views (its whole and its upper part) is a model of three
// views, whole, whole and upper, whose parameters are the members' under
// the new prefixes; it embeds an image as the members' encoders do, each
// view's unit embedding scaled to 1/√3, so its cosine is the mean of the
// three views'. Its threshold and FAR are the members', weighted by
// their views as the cosine weighs them, and its provenance the first's
// with both members' (a joined model's members not twice).
func TestJoinModels(t *testing.T) {
	const n = 4
	one := smallSpec(ArchLeNetS, 1, 24, 20, 4)
	views := one
	views.Views = []Crop{{}, Crops["upper"]}
	a := &Model{Meta: Metadata{Spec: one, Loss: "normsoftmax", LossParams: map[string]float64{"s": 16}, Classes: []string{"x", "y"},
		Threshold: 0.4, FAR: 0.01, Provenance: Provenance{Seed: 1, Steps: 10}}, Params: InitParams(one, nil, 1)}
	b := &Model{Meta: a.Meta, Params: make(map[string]Tensor)}
	b.Meta.Spec, b.Meta.Threshold, b.Meta.FAR, b.Meta.Provenance = views, 0.5, 0.03, Provenance{Seed: 2, Steps: 20}
	for i := range views.Views {
		for name, v := range InitParams(views.View(i), nil, int64(2+i)) {
			b.Params[ViewPrefix(i)+name] = v
		}
	}
	m, err := JoinModels([]*Model{a, b}, "now", "test")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Crop{{}, {}, Crops["upper"]}; !reflect.DeepEqual(m.Meta.Spec.Views, want) {
		t.Fatalf("views %v, want %v", m.Meta.Spec.Views, want)
	}
	if len(m.Params) != len(a.Params)+len(b.Params) {
		t.Errorf("%d parameters, want %d", len(m.Params), len(a.Params)+len(b.Params))
	}
	for name, v := range a.Params {
		if !reflect.DeepEqual(m.Params["views.0."+name], v) {
			t.Errorf("views.0.%s is not the first model's %s", name, name)
		}
	}
	for name, v := range b.Params {
		rest, _ := strings.CutPrefix(name, "views.")
		if w := "views." + string(rune(rest[0]+1)) + rest[1:]; !reflect.DeepEqual(m.Params[w], v) {
			t.Errorf("%s is not the second model's %s", w, name)
		}
	}
	// The cosine weighs the second model's two views twice the first's one.
	if math.Abs(m.Meta.Threshold-1.4/3) > 1e-15 || math.Abs(m.Meta.FAR-0.07/3) > 1e-15 {
		t.Errorf("threshold %v and FAR %v, want the weighted means %v and %v", m.Meta.Threshold, m.Meta.FAR, 1.4/3, 0.07/3)
	}
	p := m.Meta.Provenance
	if p.Seed != 1 || p.Steps != 10 || len(p.Joined) != 2 || p.Joined[1].Seed != 2 || p.Created != "now" || p.Version != "test" {
		t.Errorf("provenance %+v: want the first's, both members' in Joined, created now by test", p)
	}

	again, err := JoinModels([]*Model{m, a}, "", "")
	if err != nil || len(again.Meta.Provenance.Joined) != 2 || len(again.Meta.Provenance.Joined[0].Joined) != 2 {
		t.Errorf("the join of a joined model and another: %v, provenance %+v: want the two members, the first with its own two", err, again.Meta.Provenance)
	}

	x, _ := testBatch(one, n, 2, 5)
	got := mustEmbed(t, m.Meta.Spec, m.Params, n, x, n)
	ea := mustEmbed(t, one, a.Params, n, x, n)
	eb := mustEmbed(t, views, b.Params, n, x, n) // two views of 1/√2 each
	d, w := one.Dim, 3*one.Dim
	for r := range n {
		want := vec.UnitTo[float64](nil, ea[r*d:(r+1)*d])
		for _, u := range eb[r*2*d : (r+1)*2*d] {
			want = append(want, float64(u)*math.Sqrt2)
		}
		for k, u := range want {
			if g := float64(got[r*w+k]); math.Abs(g-u/math.Sqrt(3)) > 1e-6 {
				t.Fatalf("image %d, value %d: %g, want %g", r, k, g, u/math.Sqrt(3))
			}
		}
	}
}

// TestJoinModelsThreshold: a member trained with nothing held out (its
// threshold and FAR 0, as train stores "no threshold") gives no threshold
// to the mean: the joined model's are the calibrated members', weighted
// by their views; with no member calibrated it has none either (before,
// the absent threshold counted as cos 0 at FAR 0: a + no threshold gave
// half a's threshold and half its FAR).
func TestJoinModelsThreshold(t *testing.T) {
	one := smallSpec(ArchLeNetS, 1, 24, 20, 4)
	model := func(threshold, far float64) *Model {
		return &Model{Meta: Metadata{Spec: one, Loss: "normsoftmax", LossParams: map[string]float64{"s": 16}, Classes: []string{"x", "y"},
			Threshold: threshold, FAR: far}, Params: InitParams(one, nil, 1)}
	}
	for _, c := range []struct {
		name           string
		members        []*Model
		threshold, far float64 // closed form: the calibrated members' mean
	}{
		{"one without", []*Model{model(0.6, 0.02), model(0, 0)}, 0.6, 0.02},
		{"first without", []*Model{model(0, 0), model(0.6, 0.02), model(0.3, 0.04)}, 0.45, 0.03},
		{"none with", []*Model{model(0, 0), model(0, 0)}, 0, 0},
		{"negative threshold", []*Model{model(-0.2, 0.1), model(0, 0)}, -0.2, 0.1},
	} {
		m, err := JoinModels(c.members, "", "")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if math.Abs(m.Meta.Threshold-c.threshold) > 1e-15 || math.Abs(m.Meta.FAR-c.far) > 1e-15 {
			t.Errorf("%s: threshold %v and FAR %v, want %v and %v", c.name, m.Meta.Threshold, m.Meta.FAR, c.threshold, c.far)
		}
	}
}

// TestJoinModelsRefuses: models of other recipes, one model, and more
// views than a model holds do not join; the error names the two files,
// says they are not of one recipe (before, "a.safetensors and
// b.safetensors: D = 4 and 8", a difference without its why) and what
// differs.
func TestJoinModelsRefuses(t *testing.T) {
	spec := smallSpec(ArchLeNetS, 1, 24, 20, 4)
	base := Model{Meta: Metadata{Spec: spec, Loss: "cosface", LossParams: map[string]float64{"s": 16, "m": 0.2}, Classes: []string{"x", "y"}},
		Params: InitParams(spec, nil, 1), file: "a.safetensors"}
	with := func(f func(*Metadata)) *Model { m := base; m.file = "b.safetensors"; f(&m.Meta); return &m }
	eight := base.Meta.Spec
	eight.Views = make([]Crop, 8)
	for _, c := range []struct {
		name string
		ms   []*Model
		want string
	}{
		{"one model", []*Model{&base}, "1 models: join needs 2 or more"},
		{"arch", []*Model{&base, with(func(m *Metadata) { m.Spec.Arch = ArchLeNetM })}, "a.safetensors and b.safetensors are not of one recipe: architectures lenet-s and lenet-m"},
		{"input", []*Model{&base, with(func(m *Metadata) { m.Spec.Input.Std = 0.5 })}, "inputs 1×24×20 (mean 0.5, std 0.25) and 1×24×20 (mean 0.5, std 0.5)"},
		{"dim", []*Model{&base, with(func(m *Metadata) { m.Spec.Dim = 8 })}, "b.safetensors are not of one recipe: D = 4 and 8"},
		{"embed bn", []*Model{&base, with(func(m *Metadata) { m.Spec.EmbedBN = true })}, "batch norm"},
		{"flip test", []*Model{&base, with(func(m *Metadata) { m.Spec.FlipTest = true })}, "flip test"},
		{"loss", []*Model{&base, with(func(m *Metadata) { m.LossParams = map[string]float64{"s": 16, "m": 0.3} })}, "a.safetensors and b.safetensors are not of one recipe: losses cosface m=0.2 s=16 and cosface m=0.3 s=16"},
		{"loss without parameters", []*Model{&base, with(func(m *Metadata) { m.Loss, m.LossParams = "softmax", nil })}, "losses cosface m=0.2 s=16 and softmax"},
		{"classes", []*Model{&base, with(func(m *Metadata) { m.Classes = []string{"y", "x"} })}, "other classes"},
		{"align", []*Model{&base, with(func(m *Metadata) { m.Provenance.Align = true })}, "aligned by the eyes"},
		{"nine views", []*Model{&base, with(func(m *Metadata) { m.Spec = eight })}, "9 views together: at most 8"},
		// Files of one name in two folders are told apart by their place.
		{"same file name", []*Model{&base, func() *Model { m := with(func(m *Metadata) { m.Spec.Dim = 8 }); m.file = base.file; return m }()},
			"a.safetensors (model 1) and a.safetensors (model 2) are not of one recipe: D = 4 and 8"},
	} {
		if _, err := JoinModels(c.ms, "", ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
