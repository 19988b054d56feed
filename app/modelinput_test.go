package app

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"metriclab/core/face"
	"metriclab/core/msg"
)

// modelFile returns the start of a metriclab model file whose spec takes
// in: the safetensors header with the metadata (core.Metadata's JSON) and
// no tensors, as core.EncodeModel writes it.
func modelFile(t *testing.T, in face.Input) []byte {
	t.Helper()
	meta, err := json.Marshal(map[string]any{"format": "metriclab/1", "spec": map[string]any{"arch": "lenet-m", "dim": 128,
		"input": map[string]any{"channels": in.Channels, "height": in.Height, "width": in.Width, "mean": 0.5, "std": 0.5}}})
	if err != nil {
		t.Fatal(err)
	}
	header, err := json.Marshal(map[string]any{"__metadata__": map[string]string{"metriclab": string(meta)}})
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.LittleEndian.AppendUint64(nil, uint64(len(header))), header...)
}

// TestModelInput: the input shape comes out of a model file's header; a
// file that is not one says why.
func TestModelInput(t *testing.T) {
	want := face.Input{Channels: 3, Height: 112, Width: 96}
	if got, err := ModelInput(modelFile(t, want)); err != nil || got != want {
		t.Errorf("ModelInput = %+v, %v; want %+v", got, err, want)
	}
	good := modelFile(t, want)
	noMeta := append(binary.LittleEndian.AppendUint64(nil, 2), "{}"...)
	for _, c := range []struct {
		name string
		b    []byte
		err  string
	}{
		{"empty", nil, "shorter than a safetensors header"},
		{"cut", good[:len(good)-1], "header longer than the file"},
		{"not JSON", append(binary.LittleEndian.AppendUint64(nil, 3), "{x}"...), "safetensors header:"},
		{"no metadata", noMeta, "not a metriclab model"},
	} {
		if _, err := ModelInput(c.b); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.err)
		}
	}
}

// TestVerifyModelInput: the page crops to a loaded model's input when the
// gallery is empty, keeps a gallery of other crops (and its encoder) with
// a note, refuses shapes it cannot crop, and restores a stored gallery
// with its shape.
func TestVerifyModelInput(t *testing.T) {
	big := face.Input{Channels: 1, Height: 48, Width: 48}
	e := NewVerifyState()
	runSteps(t, &e, []step{
		{name: "a 48×48 model, no gallery", do: func(s *VerifyState) Out { return s.LoadModel(modelFile(t, big), nil, "faces") }, phase: PhaseNone,
			posts: []string{"load"}, check: func(t *testing.T, s *VerifyState) {
				if s.Input != big || s.Gallery.Height != 48 || s.Gallery.Width != 48 {
					t.Errorf("input %+v, gallery %d×%d; want the model's 48×48", s.Input, s.Gallery.Height, s.Gallery.Width)
				}
			}},
		{name: "a model of 1000×1000", do: func(s *VerifyState) Out {
			return s.LoadModel(modelFile(t, face.Input{Channels: 3, Height: 1000, Width: 1000}), nil, "huge")
		}, phase: PhaseNone, check: func(t *testing.T, s *VerifyState) {
			if s.ModelNote != "the model could not be loaded: it takes crops of 3×1000×1000: the page crops 1 or 3 channels of 16 to 256 pixels" || s.Input != big {
				t.Errorf("note %q, input %+v", s.ModelNote, s.Input)
			}
		}},
	})
	s := enrolled()
	runSteps(t, &s, []step{
		{name: "a 48×48 model, a 32×32 gallery", do: func(s *VerifyState) Out { return s.LoadModel(modelFile(t, big), nil, "faces") }, phase: PhaseNone,
			check: func(t *testing.T, s *VerifyState) {
				if s.ModelNote != "the model takes crops of 1×48×48 and the gallery holds 1×32×32: export the gallery and delete its snapshots to enroll for this model" ||
					s.Input != face.DefaultInput || s.Gallery.Count() != 6 || s.Source == "faces" {
					t.Errorf("note %q, input %+v, %d crops, source %q", s.ModelNote, s.Input, s.Gallery.Count(), s.Source)
				}
			}},
		{name: "a 32×32 model", do: func(s *VerifyState) Out { return s.LoadModel(modelFile(t, face.DefaultInput), nil, "small") }, phase: PhaseEmbedding,
			posts: []string{"load", "embed:gallery"}},
	})

	g := NewGallery(1, 48, 48)
	g.Add("Ann", EncodeCrop(make([]float32, 48*48), 1, 48, 48))
	r := NewVerifyState()
	r.Restore(string(MarshalGallery(g)), true, nil)
	if r.Input != big || r.Gallery.Count() != 1 {
		t.Errorf("restored a 48×48 gallery: input %+v, %d crops", r.Input, r.Gallery.Count())
	}
	tiny := NewGallery(1, 8, 8)
	tiny.Add("x", EncodeCrop(make([]float32, 64), 1, 8, 8))
	r = NewVerifyState()
	r.Restore(string(MarshalGallery(tiny)), true, nil)
	if r.Input != face.DefaultInput || r.Gallery.Count() != 0 {
		t.Errorf("restored an 8×8 gallery: input %+v, %d crops; want it left", r.Input, r.Gallery.Count())
	}
}

// TestVerifyModelInputOrder: a server model refused (or not fetched)
// leaves a ready encoder ready; a stored gallery that arrives after a
// model of another input wins (the snapshots are kept, the model is
// dropped with a note), an empty one does not; an import into an empty
// page without an encoder brings its crop shape.
func TestVerifyModelInputOrder(t *testing.T) {
	big := face.Input{Channels: 1, Height: 48, Width: 48}
	s := enrolled()
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "small")
	s.Receive(embMsg("gallery", 2, galleryEmbs()))
	s.SetModels([]msg.ModelCard{{ID: "m1"}}, nil)
	runSteps(t, &s, []step{
		{name: "fetch m1", do: func(s *VerifyState) Out { s.FetchModel(); return Out{} }, phase: PhaseLoading},
		{name: "m1 takes 48×48", do: func(s *VerifyState) Out { return s.LoadModel(modelFile(t, big), nil, "server model m1") }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if !strings.HasPrefix(s.TrainStatus(), "ready: small") || !strings.Contains(s.ModelNote, "the model takes crops of 1×48×48") {
					t.Errorf("status %q, note %q", s.TrainStatus(), s.ModelNote)
				}
			}},
		{name: "fetch m1 again", do: func(s *VerifyState) Out { s.FetchModel(); return Out{} }, phase: PhaseLoading},
		{name: "the fetch failed", do: func(s *VerifyState) Out { return s.LoadModel(nil, errors.New("offline"), "server model m1") }, phase: PhaseReady},
	})

	g := enrolled().Gallery
	r := NewVerifyState()
	r.LoadModel(modelFile(t, big), nil, "faces")
	r.Restore(string(MarshalGallery(NewGallery(1, 32, 32))), true, nil)
	if r.Input != big || !r.hasEncoder {
		t.Errorf("an empty stored gallery after a 48×48 model: input %+v, encoder %v; want the model's", r.Input, r.hasEncoder)
	}
	r.Restore(string(MarshalGallery(g)), true, nil)
	if r.Input != face.DefaultInput || r.Gallery.Count() != 6 || r.hasEncoder || r.Phase != PhaseNone ||
		r.ModelNote != "the stored gallery holds crops of 1×32×32 and the model takes 1×48×48: train an encoder here or load one of 1×32×32" {
		t.Errorf("a stored 32×32 gallery after a 48×48 model: input %+v, %d crops, encoder %v, phase %v, note %q", r.Input, r.Gallery.Count(), r.hasEncoder, r.Phase, r.ModelNote)
	}

	large := NewGallery(1, 48, 48)
	large.Add("Ann", EncodeCrop(make([]float32, 48*48), 1, 48, 48))
	i := NewVerifyState()
	if i.Import(MarshalGallery(large), nil); i.Input != big || i.Gallery.Count() != 1 {
		t.Errorf("import of 48×48 crops into an empty page: input %+v, %d crops", i.Input, i.Gallery.Count())
	}
	m := NewVerifyState()
	m.LoadModel(modelFile(t, face.DefaultInput), nil, "small")
	if m.Import(MarshalGallery(large), nil); m.Input != face.DefaultInput || m.Gallery.Count() != 0 || !strings.Contains(m.Note, "crops of 1×48×48, the page takes 1×32×32") {
		t.Errorf("import of 48×48 crops with a 32×32 model: input %+v, %d crops, note %q", m.Input, m.Gallery.Count(), m.Note)
	}
}
