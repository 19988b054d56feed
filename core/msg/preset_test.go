package msg

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestFacePhotosPreset: face-photos is the faces recipe with head turns
// and nothing else, as the README's runs compare them (--preset faces
// --augment heads gives its figures to the last digit).
func TestFacePhotosPreset(t *testing.T) {
	faces, ok := PresetByName("faces")
	photos, ok2 := PresetByName("face-photos")
	if !ok || !ok2 {
		t.Fatalf("presets %q: want faces and face-photos", PresetNames())
	}
	if faces.Request.Augment != "faces" || photos.Request.Augment != "heads" {
		t.Errorf("augmentations %q and %q, want faces and heads", faces.Request.Augment, photos.Request.Augment)
	}
	photos.Request.Augment = faces.Request.Augment
	if !reflect.DeepEqual(photos.Request, faces.Request) || photos.Input != faces.Input {
		t.Errorf("face-photos is not the faces recipe:\n%+v %s\n%+v %s", photos.Request, photos.Input, faces.Request, faces.Input)
	}
	// The two share no storage: a page that edits one recipe's
	// parameters leaves the other's as they were.
	ps := Presets()
	for i := range ps {
		if ps[i].Name == "face-photos" {
			ps[i].Request.LossParams["m"] = 0.5
			ps[i].Request.Views[0] = Crops["upper"]
		}
	}
	for _, p := range ps {
		if p.Name == "faces" && (p.Request.LossParams["m"] != 0.2 || p.Request.Views[0] != (Crop{})) {
			t.Errorf("editing face-photos edited faces: m = %g, views %v", p.Request.LossParams["m"], p.Request.Views)
		}
	}
}

// TestPresetChanges: a request of a preset's recipe has no changes; one
// with fields given beside the preset names them, in the request's order,
// by their JSON names, and never the caller's fields (data, classes,
// seed, device); the input a preset sets counts on a folder, not on MNIST.
func TestPresetChanges(t *testing.T) {
	digits, _ := PresetByName("digits")
	r := digits.Request
	r.Data, r.Seed, r.Device, r.Classes, r.BatchDefault, r.Preset = "mnist", 3, "cpu", "0-4", true, "digits"
	if c := PresetChanges(r); c != nil || PresetText(r) != "digits" {
		t.Errorf("the digits recipe on mnist: changes %q, text %q; want none", c, PresetText(r))
	}
	r.Data = "myset"
	if c := PresetChanges(r); !reflect.DeepEqual(c, []string{"input"}) {
		t.Errorf("the digits recipe on a folder without its input: changes %q, want input", c)
	}
	r.Input = digits.Input
	r.Arch, r.Dim, r.WeightDecay = "mlp", 3, nil
	want := []string{"arch", "dim", "weight_decay"}
	if c := PresetChanges(r); !reflect.DeepEqual(c, want) || PresetText(r) != "digits, changed: arch, dim, weight_decay" {
		t.Errorf("digits with mlp, D=3, no weight decay: %q, %q; want %q", c, PresetText(r), want)
	}
	faces, _ := PresetByName("faces")
	f := faces.Request
	f.Data, f.Preset, f.Input, f.LossParams, f.Views = "faces", "faces", faces.Input, map[string]float64{"s": 16, "m": 0.3}, f.Views[:2]
	if c := PresetChanges(f); !reflect.DeepEqual(c, []string{"loss_params", "views"}) {
		t.Errorf("faces with m 0.3 and two views: %q", c)
	}
	for _, name := range []string{"", "digitz"} {
		if c := PresetChanges(TrainRequest{Preset: name, Arch: "mlp"}); c != nil {
			t.Errorf("preset %q: changes %q, want none", name, c)
		}
	}
}

// TestJobBody: the body of a request of a preset gives every field the
// preset sets, those at their zero value too, and decodes to the request
// itself; a request of no preset is its JSON as it is.
func TestJobBody(t *testing.T) {
	for _, p := range Presets() {
		// The caller's fields, and those of the recipe that JSON always
		// gives; every field the preset sets off.
		r := TrainRequest{Data: "folder", Arch: "mlp", Loss: "softmax", Dim: 3, Epochs: 1, Batch: 4, LR: 0.1, Opt: "sgd", Seed: 1, Preset: p.Name}
		b, err := JobBody(r)
		if err != nil {
			t.Fatal(err)
		}
		var fields, sets map[string]json.RawMessage
		if err := json.Unmarshal(b, &fields); err != nil {
			t.Fatal(err)
		}
		recipe := p.Request
		recipe.Input = p.Input
		rb, _ := json.Marshal(recipe)
		json.Unmarshal(rb, &sets)
		for name := range sets {
			if _, ok := fields[name]; !ok {
				t.Errorf("%s: the body %s leaves out %s, which the preset sets", p.Name, b, name)
			}
		}
		var back TrainRequest
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, r) {
			t.Errorf("%s: the body %s decodes to %+v (%v), want %+v", p.Name, b, back, err, r)
		}
	}
	r := TrainRequest{Data: "mnist", Arch: "mlp", Loss: "arcface", Dim: 3, Epochs: 1, Batch: 4, Seed: 1}
	b, err := JobBody(r)
	plain, _ := json.Marshal(r)
	if err != nil || string(b) != string(plain) {
		t.Errorf("no preset: %s (%v), want %s", b, err, plain)
	}
}
