package core

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"metriclab/core/vec"
)

// viewsSpec is a small lenet-s of three views: the whole image, its upper
// and its lower part.
func viewsSpec() Spec {
	s := smallSpec(ArchLeNetS, 1, 24, 20, 4)
	s.Views = []Crop{{}, Crops["upper"], Crops["lower"]}
	return s
}

// TestViewsEncoder: an encoder of views embeds an image as its views'
// encoders do, each on its own (Spec.View, the parameters without the
// view's prefix), their embeddings scaled to length 1/√V side by side,
// so that the cosine of two images is the mean of the views' cosines;
// its parameters are the views', each under its prefix, and a parameter
// of no view is refused.
func TestViewsEncoder(t *testing.T) {
	const n = 5
	spec := viewsSpec()
	params := make(map[string]Tensor)
	for i := range spec.Views {
		for name, v := range InitParams(spec.View(i), nil, int64(10+i)) {
			params[ViewPrefix(i)+name] = v
		}
	}
	if got, want := len(spec.ParamShapes()), 3*len(spec.View(0).ParamShapes()); got != want || len(params) != want {
		t.Fatalf("%d parameter shapes and %d parameters, want %d", got, len(params), want)
	}
	for name, shape := range spec.ParamShapes() {
		if !strings.HasPrefix(name, "views.") || len(params[name].Shape) != len(shape) {
			t.Fatalf("parameter %s %v: want a view's prefix and its shape", name, shape)
		}
	}
	x, _ := testBatch(spec, n, 2, 7)
	got := mustEmbed(t, spec, params, 2, x, n) // chunks of 2: the last one padded
	d, w := spec.Dim, spec.EmbedDim()
	if w != 3*d || len(got) != n*w {
		t.Fatalf("%d values of EmbedDim %d, want %d×%d", len(got), w, n, 3*d)
	}
	views := make([][]float32, len(spec.Views))
	for i := range spec.Views {
		views[i] = mustEmbed(t, spec.View(i), byViewOf(params, i), n, x, n)
		for r := range n {
			unit := vec.UnitTo[float64](nil, views[i][r*d:(r+1)*d])
			for k, u := range unit {
				want := u / math.Sqrt(3)
				if g := float64(got[r*w+i*d+k]); math.Abs(g-want) > 1e-6 {
					t.Fatalf("image %d, view %d, value %d: %g, want %g", r, i, k, g, want)
				}
			}
		}
	}
	for a := range n {
		for b := range a {
			var mean float64
			for i := range views {
				mean += vec.Cosine(views[i][a*d:(a+1)*d], views[i][b*d:(b+1)*d]) / 3
			}
			if c := vec.Cosine(got[a*w:(a+1)*w], got[b*w:(b+1)*w]); math.Abs(c-mean) > 1e-6 {
				t.Errorf("images %d, %d: cosine %g, the views' mean %g", a, b, c, mean)
			}
		}
	}
	if _, err := NewEncoder(spec.View(0), params, 2); err == nil || !strings.Contains(err.Error(), "missing parameter encoder.conv1.weight") {
		t.Errorf("one view's encoder from a model of views: %v", err)
	}
	stray := map[string]Tensor{"views.3.encoder.fc2.bias": params["views.0.encoder.fc2.bias"]}
	for name, v := range params {
		stray[name] = v
	}
	if _, err := NewEncoder(spec, stray, 2); err == nil || !strings.Contains(err.Error(), "lenet-s encoder of 3 views: parameter views.3.encoder.fc2.bias is of no view (want views.0. to views.2.)") {
		t.Errorf("a parameter of a fourth view: %v", err)
	}
}

// TestViewsEngine: the engine of views trains each view as a trainer of
// its own would on the same batches, to the last bit; its parameters and
// optimiser state are the views' under their prefixes and go back in;
// its flat gradient is the views' one after the other, and a gradient
// with a NaN anywhere is an error that says training diverged
// (ErrDiverged) and changes nothing. NewTrainer refuses a spec of views.
func TestViewsEngine(t *testing.T) {
	const n, classes = 4, 3
	spec := viewsSpec()
	cfg := TrainConfig{Batch: n, Classes: classes, Opt: DefaultOpt(OptAdam), Seed: 5}
	if _, err := NewTrainer(spec, &softmaxCE{}, cfg); err == nil || !strings.Contains(err.Error(), "NewViews") {
		t.Fatalf("NewTrainer of views: %v", err)
	}
	losses := []Loss{&softmaxCE{}, &softmaxCE{}, &softmaxCE{}}
	e, err := NewViews(spec, losses, cfg, NewGorgonia)
	if err != nil {
		t.Fatal(err)
	}
	alone := make([]*Trainer, len(spec.Views))
	for i := range alone {
		if alone[i], err = NewTrainer(spec.View(i), &softmaxCE{}, cfg); err != nil {
			t.Fatal(err)
		}
	}
	for step := range 3 {
		x, labels := testBatch(spec, n, classes, uint64(step))
		got, err := e.Step(x, labels)
		if err != nil {
			t.Fatal(err)
		}
		var want float64
		for _, tr := range alone {
			l, err := tr.Step(x, labels)
			if err != nil {
				t.Fatal(err)
			}
			want += l / 3
		}
		if math.Abs(got-want) > 1e-12 {
			t.Fatalf("step %d: loss %g, the views' mean %g", step, got, want)
		}
	}
	if e.Iter() != 3 || e.LR() != alone[0].LR() {
		t.Fatalf("iter %d, lr %g; want 3, %g", e.Iter(), e.LR(), alone[0].LR())
	}
	if len(losses[2].(*softmaxCE).before) != 3 {
		t.Fatalf("the third view's loss saw %d steps, want 3", len(losses[2].(*softmaxCE).before))
	}
	byView := make([]map[string]Tensor, len(alone))
	for i, tr := range alone {
		byView[i] = tr.Params()
	}
	params := e.Params()
	assertParamsEqual(t, "views' parameters", params, joinViews(byView))
	if _, ok := params["views.1.head.weight"]; !ok {
		t.Fatal("no views.1.head.weight: every view has its head")
	}

	// The model of views embeds as its views do (TestViewsEncoder).
	if _, err := NewEncoder(spec, params, n); err != nil {
		t.Fatal(err)
	}

	opt := e.OptState()
	if _, ok := opt.M["views.2.encoder.conv1.weight"]; !ok || opt.T != 3 {
		t.Fatalf("optimiser state: T %d, moments %d; want view 2's under its prefix", opt.T, len(opt.M))
	}
	fresh, err := NewViews(spec, []Loss{&softmaxCE{}, &softmaxCE{}, &softmaxCE{}}, cfg, NewGorgonia)
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.SetParams(params); err != nil {
		t.Fatal(err)
	}
	if err := fresh.SetOptState(opt); err != nil {
		t.Fatal(err)
	}
	fresh.SetIter(3)
	x, labels := testBatch(spec, n, classes, 9)
	if _, err := e.Step(x, labels); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Step(x, labels); err != nil {
		t.Fatal(err)
	}
	assertParamsEqual(t, "a step after SetParams and SetOptState", fresh.Params(), e.Params())
	// A view that refuses its parameters: the views before it keep theirs.
	kept := fresh.Params()
	wrong := make(map[string]Tensor, len(params))
	for name, v := range params {
		wrong[name] = v
	}
	wrong["views.2.encoder.fc2.bias"] = Tensor{Shape: []int{1}, Data: []float32{1}}
	if err := fresh.SetParams(wrong); err == nil || !strings.Contains(err.Error(), "view 2 (lower)") {
		t.Errorf("SetParams with view 2's fc2.bias of the wrong shape: %v", err)
	}
	assertParamsEqual(t, "after a refused SetParams", fresh.Params(), kept)
	bad := map[string]Tensor{"encoder.conv1.weight": params["views.0.encoder.conv1.weight"]}
	if err := fresh.SetParams(bad); err == nil || !strings.Contains(err.Error(), "encoder.conv1.weight is of no view") {
		t.Errorf("SetParams of a parameter of no view: %v", err)
	}

	sh, ok := e.(Sharded)
	if !ok {
		t.Fatalf("%T does not split steps; its views' trainers do", e)
	}
	g := make([]float32, sh.GradLen())
	if _, err := sh.GradientsTo(g, x, labels); err != nil {
		t.Fatal(err)
	}
	off := 0
	for i, tr := range alone {
		tr.SetParams(byViewOf(e.Params(), i))
		own := make([]float32, tr.GradLen())
		if _, err := tr.GradientsTo(own, x, labels); err != nil {
			t.Fatal(err)
		}
		for k, v := range own {
			if g[off+k] != v {
				t.Fatalf("view %d's gradient value %d: %g, want %g", i, k, g[off+k], v)
			}
		}
		off += len(own)
	}
	if off != len(g) {
		t.Fatalf("the views' gradients are %d values, the flat gradient %d", off, len(g))
	}
	before := e.Params()
	g[len(g)-1] = float32(math.NaN())
	if err := sh.ApplyGradients(g); !errors.Is(err, ErrDiverged) {
		t.Fatalf("a NaN in the last view's gradient: %v, want an error that says training diverged", err)
	}
	assertParamsEqual(t, "after a refused gradient", e.Params(), before)
}

// TestClassWeights: a model of views joins its views' heads so that the
// cosine of an embedding and a class's joined weights is the mean of the
// views' cosines; a model of one encoder gives head.weight and head.bias
// as they are; views with biased heads, or none, have no joined head.
func TestClassWeights(t *testing.T) {
	spec := viewsSpec()
	const n, classes = 4, 3
	cfg := TrainConfig{Batch: n, Classes: classes, Opt: DefaultOpt(OptAdam), Seed: 2}
	e, err := NewViews(spec, []Loss{&softmaxCE{}, &softmaxCE{}, &softmaxCE{}}, cfg, NewGorgonia)
	if err != nil {
		t.Fatal(err)
	}
	x, labels := testBatch(spec, n, classes, 1)
	for range 2 {
		if _, err := e.Step(x, labels); err != nil {
			t.Fatal(err)
		}
	}
	params := e.Params()
	if _, _, ok := spec.ClassWeights(params); ok {
		t.Error("views with linear heads (biases): a joined head")
	}
	for i := range spec.Views {
		delete(params, ViewPrefix(i)+"head.bias")
	}
	w, b, ok := spec.ClassWeights(params)
	d, dw := spec.Dim, spec.EmbedDim()
	if !ok || b != nil || len(w) != classes*dw {
		t.Fatalf("joined head: %d weights, biases %v, ok %v; want %d×%d, none", len(w), b, ok, classes, dw)
	}
	emb := mustEmbed(t, spec, params, n, x, n)
	for r := range n {
		for c := range classes {
			var mean float64
			for i := range spec.Views {
				own := byViewOf(params, i)
				ye := mustEmbed(t, spec.View(i), own, n, x, n)
				mean += vec.Cosine(ye[r*d:(r+1)*d], own["head.weight"].Data[c*d:(c+1)*d]) / 3
			}
			if got := vec.Cosine(emb[r*dw:(r+1)*dw], w[c*dw:(c+1)*dw]); math.Abs(got-mean) > 1e-6 {
				t.Errorf("image %d, class %d: cosine %g, the views' mean %g", r, c, got, mean)
			}
		}
	}
	delete(params, "views.1.head.weight")
	if _, _, ok := spec.ClassWeights(params); ok {
		t.Error("a view without a head: a joined head")
	}
	one := spec.View(0)
	plain := byViewOf(e.Params(), 0)
	if w, b, ok := one.ClassWeights(plain); !ok || len(w) != classes*d || len(b) != classes {
		t.Errorf("one encoder: %d weights, %d biases, %v", len(w), len(b), ok)
	}
}

// encodeDecode writes m as a model file in memory and reads it back.
func encodeDecode(t *testing.T, m *Model) *Model {
	t.Helper()
	var b bytes.Buffer
	if err := EncodeModel(&b, m); err != nil {
		t.Fatal(err)
	}
	back, err := DecodeModel(&b)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// mustEmbed embeds the n images of x with the encoder of spec and params
// in chunks of batch, failing the test on an error.
func mustEmbed(t *testing.T, spec Spec, params map[string]Tensor, batch int, x []float32, n int) []float32 {
	t.Helper()
	enc, err := NewEncoder(spec, params, batch)
	if err != nil {
		t.Fatal(err)
	}
	out, err := enc.Embed(nil, x, n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// byViewOf returns view i's parameters of a model of views, without the
// prefix.
func byViewOf(p map[string]Tensor, i int) map[string]Tensor {
	out := make(map[string]Tensor)
	for name, v := range p {
		if rest, ok := strings.CutPrefix(name, ViewPrefix(i)); ok {
			out[rest] = v
		}
	}
	return out
}

// TestViewsModelFile: a model of views is written and read back, views
// and all, and passes Validate with a head per view; a head outside the
// views is refused. A model without views writes no "views".
func TestViewsModelFile(t *testing.T) {
	spec := viewsSpec()
	cfg := TrainConfig{Batch: 2, Classes: 3, Opt: DefaultOpt(OptSGD), Seed: 1}
	e, err := NewViews(spec, []Loss{&softmaxCE{}, &softmaxCE{}, &softmaxCE{}}, cfg, NewGorgonia)
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Meta: Metadata{Spec: spec, Loss: "test-softmax", Classes: []string{"a", "b", "c"}}, Params: e.Params()}
	if err := m.Validate(nil); err != nil {
		t.Fatal(err)
	}
	back := encodeDecode(t, m)
	if len(back.Meta.Spec.Views) != 3 || back.Meta.Spec.Views[2] != Crops["lower"] || back.Meta.Spec.EmbedDim() != 12 {
		t.Fatalf("views read back %v, want %v", back.Meta.Spec.Views, spec.Views)
	}
	if err := back.Validate(nil); err != nil {
		t.Fatal(err)
	}
	back.Params["head.weight"] = back.Params["views.0.head.weight"]
	if err := back.Validate(nil); err == nil || !strings.Contains(err.Error(), "unexpected parameter head.weight") {
		t.Errorf("a head outside the views: %v", err)
	}
	var plain bytes.Buffer
	if err := EncodeModel(&plain, modelFixture()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), `"views"`) {
		t.Error(`a model without views writes "views"`)
	}
}
