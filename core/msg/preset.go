package msg

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Preset is a training recipe: the fields of a TrainRequest that it sets
// (Data, Classes, Seed and Device stay the caller's) and the input shape.
// The command line's --preset, the playground and the Jobs page offer the
// presets; fields given explicitly win over the preset's.
type Preset struct {
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Input       string       `json:"input"` // "CxHxW" of a folder's images
	Request     TrainRequest `json:"request"`
}

// Presets returns the recipes, by name. They were chosen on evidence: the
// README's open-set section has the runs (`metriclab openset --variant`)
// that kept each part.
//
//	digits  MNIST and folders of digit-like images, for identities never
//	        seen (trained on 0–4, it verifies 5–9)
//	faces   folders of aligned face crops, for people never seen: an
//	        ensemble of four encoders in one model, of the whole face,
//	        its upper and its lower part and its centre (Views)
//	face-photos
//	        folders of face photos that are not aligned by the eyes: the
//	        faces recipe with head turns (augmentation heads), which help
//	        on such photos and hurt on aligned crops
func Presets() []Preset {
	return []Preset{
		{
			Name:        "digits",
			Description: "MNIST and digit-like folders: generalises to unseen classes",
			Input:       "1x28x28",
			Request: TrainRequest{Arch: "lenet-s", Loss: "normsoftmax", LossParams: map[string]float64{"s": 16},
				Dim: 128, Epochs: 10, Batch: 128, LR: 0.01, Opt: "adam", Schedule: "cosine", Augment: "handwriting",
				Compose: "2x1", Glyphs: 500, WeightDecay: new(5e-4)},
		},
		facesPreset("faces", "folders of face crops (aligned by the eyes): generalises to unseen people; an encoder each for the whole face, its upper and its lower part and its centre", "faces"),
		facesPreset("face-photos", "folders of face photos as taken, not aligned by the eyes (as ORL's): the faces recipe with head turns in its augmentation", "heads"),
	}
}

// facesPreset is the faces recipe under name, with the augmentation
// called augment.
func facesPreset(name, description, augment string) Preset {
	return Preset{
		Name:        name,
		Description: description,
		Input:       "1x48x48",
		Request: TrainRequest{Arch: "lenet-m", Loss: "cosface", LossParams: map[string]float64{"s": 16, "m": 0.2},
			Dim: 128, Epochs: 200, Batch: 32, LR: 0.003, Opt: "adam", Schedule: "cosine", Augment: augment,
			EmbedBN: true, FlipTest: true, WeightDecay: new(5e-4), Views: []Crop{{}, Crops["upper"], Crops["lower"], Crops["centre"]}},
	}
}

// PresetByName returns the preset called name, and whether there is one.
func PresetByName(name string) (Preset, bool) {
	for _, p := range Presets() {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

// CheckPreset returns an error naming the presets for a name that is
// neither "" (none) nor a preset's.
func CheckPreset(name string) error {
	if _, ok := PresetByName(name); ok || name == "" {
		return nil
	}
	return fmt.Errorf("unknown preset %q (want %s)", name, strings.Join(PresetNames(), ", "))
}

// PresetNames returns the presets' names, in order.
func PresetNames() []string {
	var names []string
	for _, p := range Presets() {
		names = append(names, p.Name)
	}
	return names
}

// PresetChanges returns the JSON names of the recipe fields of r that
// differ from those of the preset r names (r.Preset), in TrainRequest's
// order: what was given beside the preset, which wins over it, as
// `metriclab train --preset P --arch A` trains the preset with another
// arch. The fields a preset leaves to the caller (data, classes, seed,
// device, batch_default) are not compared, nor input on MNIST (its images
// are 1x28x28 whatever the preset). nil for no preset, an unknown one, or
// none changed. A nil map or list is an empty one, and a nil weight decay
// differs from any preset's.
func PresetChanges(r TrainRequest) []string {
	p, ok := PresetByName(r.Preset)
	if !ok {
		return nil
	}
	want := p.Request
	if r.Data != "mnist" {
		want.Input = p.Input
	}
	// The caller's fields: not the preset's to set.
	want.Data, want.Classes, want.Seed, want.Device, want.BatchDefault, want.Preset = r.Data, r.Classes, r.Seed, r.Device, r.BatchDefault, r.Preset
	var changed []string
	a, b := reflect.ValueOf(r), reflect.ValueOf(want)
	t := a.Type()
	for i := range t.NumField() {
		x, y := a.Field(i), b.Field(i)
		same := reflect.DeepEqual(x.Interface(), y.Interface())
		switch {
		case x.Kind() == reflect.Map || x.Kind() == reflect.Slice:
			same = x.Len() == 0 && y.Len() == 0 || same
		case x.Kind() == reflect.Pointer:
			same = !x.IsNil() && !y.IsNil() && x.Elem().Interface() == y.Elem().Interface() || x.IsNil() && y.IsNil()
		}
		if !same {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			changed = append(changed, name)
		}
	}
	return changed
}

// PresetText names the preset r names with the fields given beside it
// (PresetChanges): "digits", "digits, changed: arch, dim"; "" for none.
func PresetText(r TrainRequest) string { return PresetLine(r.Preset, PresetChanges(r)) }

// PresetLine names preset with the fields changed from its recipe, as
// PresetText writes them: what the pages show of a job's record
// (Job.PresetChanges) and of a model's card (ModelCard.PresetChanges),
// whose changes the server worked out. "" for no preset.
func PresetLine(preset string, changed []string) string {
	if preset == "" {
		return ""
	}
	if len(changed) > 0 {
		return preset + ", changed: " + strings.Join(changed, ", ")
	}
	return preset
}

// JobBody returns the body of POST /api/jobs that trains r itself. The
// server fills a field left out from the preset the body names
// (job.FillRequest), and r's JSON leaves out the zero values of its
// omitempty fields (embed_bn and flip_test false, augment and compose
// none, no views, no glyphs, turns or early stop, weight_decay nil, the
// optimiser's own, an input of none on MNIST): with a preset named, each
// field that the preset sets and r's JSON leaves out is written in at
// that zero value, so that a form that turned one of them off trains it
// off. Without a preset, r's JSON.
func JobBody(r TrainRequest) ([]byte, error) {
	b, err := json.Marshal(r)
	p, ok := PresetByName(r.Preset)
	if err != nil || !ok {
		return b, err
	}
	recipe := p.Request
	recipe.Input = p.Input
	rb, err := json.Marshal(recipe)
	if err != nil {
		return nil, err
	}
	var fields, sets map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(rb, &sets); err != nil {
		return nil, err
	}
	t := reflect.TypeFor[TrainRequest]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		_, given := fields[name]
		if _, set := sets[name]; !set || given {
			continue
		}
		zero, err := json.Marshal(reflect.Zero(t.Field(i).Type).Interface())
		if err != nil {
			return nil, err
		}
		fields[name] = zero
	}
	return json.Marshal(fields)
}
