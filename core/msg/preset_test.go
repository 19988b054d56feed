package msg

import (
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
