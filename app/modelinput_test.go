package app

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"metriclab/core/face"
	"metriclab/core/msg"
)

// modelFile returns the start of a metriclab model file of a lenet-m
// encoder (modelFileOf).
func modelFile(t testing.TB, in face.Input) []byte {
	t.Helper()
	return modelFileOf(t, "lenet-m", in)
}

// modelFileOf returns the start of a metriclab model file whose spec is an
// arch encoder taking in: the safetensors header with the metadata
// (core.Metadata's JSON) and no tensors, as core.EncodeModel writes it.
func modelFileOf(t testing.TB, arch string, in face.Input) []byte {
	t.Helper()
	return modelHeader(t, map[string]any{"format": "metriclab/1", "spec": map[string]any{"arch": arch, "dim": 128,
		"input": map[string]any{"channels": in.Channels, "height": in.Height, "width": in.Width, "mean": 0.5, "std": 0.5}}})
}

// modelHeader returns the start of a model file of metadata meta
// (core.Metadata's JSON): the safetensors header with it and no tensors.
func modelHeader(t testing.TB, meta map[string]any) []byte {
	t.Helper()
	m, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	header, err := json.Marshal(map[string]any{"__metadata__": map[string]string{"metriclab": string(m)}})
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.LittleEndian.AppendUint64(nil, uint64(len(header))), header...)
}

// TestModelInput: the input shape comes out of a model file's header; a
// file that is not one says so in one plain line: what it is not, what
// the page loads, then why, in the server's words for the same file
// (core.ReadModel). A training job's checkpoint, and a model whose
// metadata gives no input shape, said "no metriclab metadata: not a
// metriclab model" and, once loaded, "it takes crops of 0×0×0". A text
// file said "safetensors header longer than the file", where the server
// says "…more than any model's (104857600 at most): is it a model
// file?", and a photo the same.
func TestModelInput(t *testing.T) {
	want := face.Input{Channels: 3, Height: 112, Width: 96}
	if got, err := ModelInput(modelFile(t, want)); err != nil || got != want {
		t.Errorf("ModelInput = %+v, %v; want %+v", got, err, want)
	}
	good := modelFile(t, want)
	noMeta := append(binary.LittleEndian.AppendUint64(nil, 2), "{}"...)
	header := func(meta map[string]string) []byte {
		h, err := json.Marshal(map[string]any{"__metadata__": meta})
		if err != nil {
			t.Fatal(err)
		}
		return append(binary.LittleEndian.AppendUint64(nil, uint64(len(h))), h...)
	}
	const loads = " (the page loads a metriclab model, a .safetensors file)"
	text := []byte("Ann, José and 李雷: the people of the demo\n")
	for _, c := range []struct {
		name string
		b    []byte
		err  string
	}{
		{"empty", nil, "not a model file" + loads + ": 0 bytes, fewer than a safetensors header's 8"},
		{"text", text, "not a model file" + loads + fmt.Sprintf(": its first 8 bytes give a header length of %d bytes, more than any model's (104857600 at most)", binary.LittleEndian.Uint64(text))},
		{"PNG", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "a PNG image, not a model file" + loads},
		{"JPEG", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "a JPEG image, not a model file" + loads},
		{"cut", good[:len(good)-1], "not a whole model file" + loads + fmt.Sprintf(": truncated, its header asks for more than its %d bytes", len(good)-1)},
		{"not JSON", append(binary.LittleEndian.AppendUint64(nil, 3), "{x}"...), "not a model file" + loads + ": its safetensors header is not JSON: "},
		{"no metadata", noMeta, "not a metriclab model" + loads + `: its safetensors metadata has no "metriclab" entry`},
		{"a checkpoint", header(map[string]string{"metriclab_checkpoint": "{}"}), "a training job's checkpoint, not a model"},
		{"no input", header(map[string]string{"metriclab": `{"format":"metriclab/1","spec":{"arch":"lenet-m","dim":16}}`}), "its metadata gives no input shape"},
	} {
		if _, err := ModelInput(c.b); err == nil || !strings.HasPrefix(err.Error(), c.err) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.err)
		}
	}
	// The page's note, whole, of a text file given to Load model.
	s := NewVerifyState()
	s.LoadModel(text, nil, "model file people.txt")
	if want := "model file people.txt could not be loaded: not a model file" + loads + ": its first 8 bytes give a header length of "; !strings.HasPrefix(s.ModelNote, want) || strings.Contains(s.ModelNote, "longer than the file") {
		t.Errorf("Load model of a text file: note %q, want it to start %q", s.ModelNote, want)
	}
}

// sampleShapes returns the shapes of the samples the commands of out
// carry, in order ("" for a command without samples).
func sampleShapes(t *testing.T, out Out) []string {
	t.Helper()
	var got []string
	for _, p := range out.Post {
		var m msg.Message
		if err := json.Unmarshal([]byte(p), &m); err != nil || m.Command == nil {
			t.Fatalf("posted %.80s…: %v", p, err)
		}
		shape := ""
		if smp := m.Command.Samples; smp != nil {
			in := face.Input{Channels: smp.Channels, Height: smp.Height, Width: smp.Width}
			if len(smp.Pixels) != in.Size()*max(1, len(smp.Labels)) {
				t.Fatalf("%s samples of %s: %d pixels for %d labels", m.Command.Op, ShapeText(in), len(smp.Pixels), len(smp.Labels))
			}
			shape = ShapeText(in)
		}
		got = append(got, shape)
	}
	return got
}

// TestVerifyModelInput: snapshots keep their shape (face.SnapshotInput,
// or a stored or imported gallery's) and every encoder gets them resized
// to its input: a loaded model's (ModelInput), 1×32×32 for one trained
// here; a model of an input the page cannot make is refused.
func TestVerifyModelInput(t *testing.T) {
	big := face.Input{Channels: 1, Height: 48, Width: 48}
	e := NewVerifyState()
	runSteps(t, &e, []step{
		{name: "a 48×48 model, no gallery", do: func(s *VerifyState) Out { return s.LoadModel(modelFile(t, big), nil, "faces") }, phase: PhaseNone,
			posts: []string{"load"}, check: func(t *testing.T, s *VerifyState) {
				if s.Encoder != big || s.Input != face.SnapshotInput || s.Gallery.Shape() != face.SnapshotInput {
					t.Errorf("encoder %+v, snapshots %+v, gallery %+v; want the model's 48×48 and snapshots of 64×64", s.Encoder, s.Input, s.Gallery.Shape())
				}
			}},
		{name: "the worker took it", do: func(s *VerifyState) Out { return s.Receive(stateMsg(msg.StateIdle)) }, phase: PhaseNone},
		{name: "a model of 1000×1000", do: func(s *VerifyState) Out {
			return s.LoadModel(modelFile(t, face.Input{Channels: 3, Height: 1000, Width: 1000}), nil, "huge")
		}, phase: PhaseNone, check: func(t *testing.T, s *VerifyState) {
			if s.ModelNote != "huge could not be loaded: it takes crops of 3×1000×1000: want 1 or 3 channels and sides of 8 to 256 pixels" || s.Encoder != big {
				t.Errorf("note %q, encoder %+v", s.ModelNote, s.Encoder)
			}
		}},
		{name: "a model of 1×8×8, the smallest a server job trains", do: func(s *VerifyState) Out {
			return s.LoadModel(modelFileOf(t, "lenetpp", face.Input{Channels: 1, Height: 8, Width: 8}), nil, "tiny")
		}, phase: PhaseNone, posts: []string{"load"}, check: func(t *testing.T, s *VerifyState) {
			if strings.Contains(s.ModelNote, "could not") || s.Encoder != (face.Input{Channels: 1, Height: 8, Width: 8}) {
				t.Errorf("note %q, encoder %+v", s.ModelNote, s.Encoder)
			}
		}},
	})

	s := enrolled()
	for _, c := range []struct {
		name  string
		model face.Input
		want  string
	}{
		{"a 48×48 model", big, "1×48×48"},
		{"an RGB 40×40 model", face.Input{Channels: 3, Height: 40, Width: 40}, "3×40×40"},
		{"a 32×32 model", face.DefaultInput, "1×32×32"},
	} {
		out := s.LoadModel(modelFile(t, c.model), nil, c.name)
		if got := sampleShapes(t, out); !slices.Equal(got, []string{c.want}) || s.Phase != PhaseEmbedding || s.Gallery.Count() != 6 { // the load carries them
			t.Fatalf("%s with a gallery of %s: posted samples %v, phase %v, %d crops; want the gallery embedded at %s",
				c.name, ShapeText(s.Gallery.Shape()), got, s.Phase, s.Gallery.Count(), c.want)
		}
		s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
		if got := sampleShapes(t, okFrame(&s, 0)); !slices.Equal(got, []string{c.want}) {
			t.Errorf("%s: a probe of %s posted as %v, want %s", c.name, ShapeText(s.Input), got, c.want)
		}
		s.Receive(embMsg("probe-"+strconv.Itoa(s.probeSeq), 2, []float32{1, 0}))
	}
	if got := sampleShapes(t, s.Train()); !slices.Equal(got, []string{"1×32×32"}) || s.Encoder != face.DefaultInput {
		t.Errorf("training here posted samples %v (encoder %+v), want the snapshots at 1×32×32", got, s.Encoder)
	}

	g := NewGallery(1, 48, 48)
	g.Add("Ann", EncodeCrop(make([]float32, 48*48), 1, 48, 48))
	r := NewVerifyState()
	r.Restore(string(MarshalGallery(g)), true, nil)
	if r.Input != big || r.Gallery.Count() != 1 {
		t.Errorf("restored a 48×48 gallery: snapshots %+v, %d crops; want its shape kept", r.Input, r.Gallery.Count())
	}
	for _, bad := range []Gallery{NewGallery(1, 4, 4), NewGallery(1, 32, 32)} {
		if bad.Height == 4 {
			bad.Add("x", EncodeCrop(make([]float32, 16), 1, 4, 4))
		}
		r = NewVerifyState()
		r.Restore(string(MarshalGallery(bad)), true, nil)
		if r.Input != face.SnapshotInput || r.Gallery.Count() != 0 {
			t.Errorf("restored a gallery of %d crops of %s: snapshots %+v, %d crops; want it left", bad.Count(), ShapeText(bad.Shape()), r.Input, r.Gallery.Count())
		}
	}
}

// TestVerifyModelInputOrder: a server model refused (or not fetched)
// leaves a ready encoder ready; a stored gallery that arrives after a
// model (the ?model= link races IndexedDB) is embedded by it, whatever its
// crops; an import brings its crop shape and is embedded too.
func TestVerifyModelInputOrder(t *testing.T) {
	big := face.Input{Channels: 1, Height: 48, Width: 48}
	s := enrolled()
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "small")
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	s.SetModels([]msg.ModelCard{{ID: "m1"}}, nil)
	runSteps(t, &s, []step{
		{name: "fetch m1", do: func(s *VerifyState) Out { s.FetchModel(); return Out{} }, phase: PhaseLoading},
		{name: "m1 takes 3×1000×1000", do: func(s *VerifyState) Out {
			return s.ModelFetched(modelFile(t, face.Input{Channels: 3, Height: 1000, Width: 1000}), nil, "server model m1")
		}, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if !strings.HasPrefix(s.TrainStatus(), "ready: small") || !strings.Contains(s.ModelNote, "it takes crops of 3×1000×1000") || s.Encoder != face.DefaultInput {
					t.Errorf("status %q, note %q, encoder %+v", s.TrainStatus(), s.ModelNote, s.Encoder)
				}
			}},
		{name: "fetch m1 again", do: func(s *VerifyState) Out { s.FetchModel(); return Out{} }, phase: PhaseLoading},
		{name: "the fetch failed", do: func(s *VerifyState) Out { return s.ModelFetched(nil, errors.New("offline"), "server model m1") }, phase: PhaseReady},
	})

	g := enrolled().Gallery
	old := NewGallery(1, 32, 32)
	for _, id := range g.Identities {
		old.Add(id.Name, EncodeCrop(make([]float32, 32*32), 1, 32, 32))
	}
	r := NewVerifyState()
	r.LoadModel(modelFile(t, big), nil, "faces")
	r.Receive(stateMsg(msg.StateIdle)) // the worker took it (nothing to embed)
	runSteps(t, &r, []step{
		{name: "an empty stored gallery", do: func(s *VerifyState) Out {
			return s.Restore(string(MarshalGallery(NewGallery(1, 32, 32))), true, nil)
		}, phase: PhaseNone},
		{name: "a stored gallery of 32×32 crops after a 48×48 model", do: func(s *VerifyState) Out {
			return atShape(t, s.Restore(string(MarshalGallery(old)), true, nil), "1×48×48")
		}, phase: PhaseEmbedding, posts: []string{"embed:gallery"},
			check: func(t *testing.T, s *VerifyState) {
				if s.Input != old.Shape() || s.Encoder != big || !s.hasEncoder || s.Gallery.Count() != 2 {
					t.Errorf("snapshots %+v, encoder %+v (%v), %d crops", s.Input, s.Encoder, s.hasEncoder, s.Gallery.Count())
				}
			}},
		{name: "its embeddings", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, []float32{1, 0, 0, 1})) }, phase: PhaseReady},
		{name: "an import of 48×48 crops", do: func(s *VerifyState) Out {
			large := NewGallery(1, 48, 48)
			large.Add("Ann", EncodeCrop(make([]float32, 48*48), 1, 48, 48))
			return atShape(t, s.Import(ReadGallery(MarshalGallery(large), nil)), "1×48×48")
		}, phase: PhaseEmbedding, posts: []string{"embed:gallery"}, store: true,
			check: func(t *testing.T, s *VerifyState) {
				if s.Input != big || s.Gallery.Count() != 1 || s.Note != "imported 1 identity, 1 snapshot" {
					t.Errorf("snapshots %+v, %d crops, note %q", s.Input, s.Gallery.Count(), s.Note)
				}
			}},
	})
}

// readyWith returns enrolled() with a loaded model of in, its gallery
// embedded.
func readyWith(t *testing.T, in face.Input) VerifyState {
	t.Helper()
	s := enrolled()
	s.LoadModel(modelFile(t, in), nil, "m")
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	if s.Phase != PhaseReady {
		t.Fatalf("phase %v, want ready", s.Phase)
	}
	return s
}

// hold records n snapshots of name.
func hold(s *VerifyState, name string, n int) Out {
	s.SetName(name)
	s.Snapshots = n
	s.Record(true)
	var out Out
	for i := range n {
		_, o := s.Frame(float64(1000+i), face.OK, make([]float32, s.Input.Size()))
		out = out.and(o)
	}
	return out.and(s.Record(false))
}

// TestVerifyGalleryChangeWhileEmbedding: a hold that ends while the
// gallery is being embedded is embedded once the embeddings of the
// gallery before it arrive (and at the encoder's input), so the templates
// end up of every enrolled person.
func TestVerifyGalleryChangeWhileEmbedding(t *testing.T) {
	big := face.Input{Channels: 1, Height: 48, Width: 48}
	s := readyWith(t, big)
	if got := ops(t, hold(&s, "carol", 3)); !slices.Contains(got, "embed:gallery") || s.Phase != PhaseEmbedding {
		t.Fatalf("carol's hold: posted %v, phase %v", got, s.Phase)
	}
	if got := ops(t, hold(&s, "dave", 3)); len(got) != 0 {
		t.Fatalf("dave's hold while embedding posted %v, want nothing yet", got)
	}
	one := func(n int) []float32 {
		v := make([]float32, 0, 2*n)
		for range n {
			v = append(v, 1, 0)
		}
		return v
	}
	out := s.Receive(embMsg(galleryID(s.gallerySeq), 2, one(9)))
	if got := sampleShapes(t, out); !slices.Equal(got, []string{"1×48×48"}) || s.Phase != PhaseEmbedding {
		t.Fatalf("the embeddings of alice, bob and carol: posted samples %v, phase %v; want the gallery with dave embedded again", got, s.Phase)
	}
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, one(12)))
	if s.Phase != PhaseReady || !slices.Equal(s.Names, []string{"alice", "bob", "carol", "dave"}) {
		t.Errorf("phase %v, templates of %v", s.Phase, s.Names)
	}
}

// TestVerifySnapshotShapeAfterOldGallery: a stored gallery of 1×32×32
// crops (kept before snapshots grew) sets the snapshots' shape while it
// holds any; once its last snapshot is deleted, new ones are of
// face.SnapshotInput again.
func TestVerifySnapshotShapeAfterOldGallery(t *testing.T) {
	old := NewGallery(1, 32, 32)
	old.Add("ann", EncodeCrop(make([]float32, 32*32), 1, 32, 32))
	s := NewVerifyState()
	s.CameraStarted(CameraOn, "")
	s.DetectorReady(nil)
	s.Restore(string(MarshalGallery(old)), true, nil)
	hold(&s, "ann", 2)
	if s.Gallery.Shape() != old.Shape() || s.Gallery.Count() != 3 {
		t.Fatalf("ann's hold into the old gallery: %d crops of %s", s.Gallery.Count(), ShapeText(s.Gallery.Shape()))
	}
	for range 3 {
		s.DeleteCrop(0, 0)
	}
	hold(&s, "bob", 2)
	if s.Input != face.SnapshotInput || s.Gallery.Shape() != face.SnapshotInput || s.Gallery.Count() != 2 {
		t.Errorf("after the old gallery was deleted: snapshots %+v, %d crops of %s; want %s", s.Input, s.Gallery.Count(), ShapeText(s.Gallery.Shape()), ShapeText(face.SnapshotInput))
	}
}

// TestVerifyUnreadableModel: a file ModelInput cannot read (the worker
// would refuse it too) goes nowhere and leaves a ready encoder ready.
func TestVerifyUnreadableModel(t *testing.T) {
	big := face.Input{Channels: 1, Height: 48, Width: 48}
	s := readyWith(t, big)
	out := s.LoadModel([]byte("not a model file at all"), nil, "junk")
	if len(out.Post) != 0 || s.Phase != PhaseReady || s.Encoder != big || !strings.HasPrefix(s.ModelNote, "junk could not be loaded: ") {
		t.Errorf("posted %v, phase %v, encoder %+v, note %q; want nothing posted and the 48×48 encoder ready", ops(t, out), s.Phase, s.Encoder, s.ModelNote)
	}
}

// atShape checks that every command of out carries samples of shape, and
// returns out.
func atShape(t *testing.T, out Out, shape string) Out {
	t.Helper()
	for _, got := range sampleShapes(t, out) {
		if got != shape {
			t.Errorf("posted samples of %q, want %s", got, shape)
		}
	}
	return out
}

// TestVerifyLoadRefused: a model file the worker refuses (its header
// reads, but a weight is not finite, say) leaves a ready encoder ready,
// with the worker's reason in the model note: the worker keeps its encoder
// and embeds nothing (the gallery goes with the load), so the page keeps
// its own; before, the page dropped its encoder and the gallery's embed,
// answered by the old model, reported a mismatch. Without an encoder
// before, the page has none after; a load the worker takes with no
// gallery to embed ends with the state idle.
func TestVerifyLoadRefused(t *testing.T) {
	refusal := func(s *VerifyState) string { // of the load's ID, as wasm/trainer refuses it
		b, _ := json.Marshal(msg.Message{V: msg.SchemaVersion, Type: msg.TypeError, Trainer: verifyTrainer, ID: galleryID(s.gallerySeq),
			Error: "the model could not be loaded: m.safetensors: encoder.fc2.bias holds a value that is not finite"})
		return string(b)
	}
	s := readyWith(t, face.DefaultInput)
	templates := s.templates
	runSteps(t, &s, []step{
		{name: "a 48×48 model file", do: func(s *VerifyState) Out {
			return s.LoadModel(modelFile(t, face.Input{Channels: 1, Height: 48, Width: 48}), nil, "model file bad.safetensors")
		}, phase: PhaseEmbedding, posts: []string{"load+embed:gallery"}},
		{name: "the worker refuses it", do: func(s *VerifyState) Out { return s.Receive(refusal(s)) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if !strings.HasPrefix(s.TrainStatus(), "ready: m") || !strings.Contains(s.ModelNote, "not finite") || s.Encoder != face.DefaultInput ||
					!s.hasEncoder || len(s.templates) != len(templates) {
					t.Errorf("status %q, note %q, encoder %+v (%v), %d templates", s.TrainStatus(), s.ModelNote, s.Encoder, s.hasEncoder, len(s.templates))
				}
			}},
		{name: "a probe still scores", do: func(s *VerifyState) Out { return okFrame(s, 0) }, phase: PhaseReady, posts: []string{"embed:probe-1"}},
	})

	n := enrolled()
	runSteps(t, &n, []step{
		{name: "a first model file", do: func(s *VerifyState) Out {
			return s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file bad.safetensors")
		}, phase: PhaseEmbedding, posts: []string{"load+embed:gallery"}},
		{name: "refused", do: func(s *VerifyState) Out { return s.Receive(refusal(s)) }, phase: PhaseNone,
			check: func(t *testing.T, s *VerifyState) {
				if s.hasEncoder || s.Encoder != (face.Input{}) || !strings.Contains(s.ModelNote, "not finite") || !s.CanTrain(true) {
					t.Errorf("encoder %+v (%v), note %q, can train %v", s.Encoder, s.hasEncoder, s.ModelNote, s.CanTrain(true))
				}
			}},
	})

	// A probe in flight when the load goes out is answered first; after
	// the refusal, frames send probes again (before, the page put back
	// "a probe is pending" and live scores stopped for good). A snapshot
	// enrolled while the load waits is embedded with the encoder put back.
	p := readyWith(t, face.DefaultInput)
	runSteps(t, &p, []step{
		{name: "a probe", do: func(s *VerifyState) Out { return okFrame(s, 0) }, phase: PhaseReady, posts: []string{"embed:probe-1"}},
		{name: "a model file meanwhile", do: func(s *VerifyState) Out {
			return s.LoadModel(modelFile(t, face.Input{Channels: 1, Height: 48, Width: 48}), nil, "model file bad.safetensors")
		}, phase: PhaseEmbedding, posts: []string{"load+embed:gallery"}},
		{name: "the probe's answer", do: func(s *VerifyState) Out { return s.Receive(embMsg("probe-1", 2, []float32{1, 0})) }, phase: PhaseEmbedding},
		{name: "carol enrolls while the load waits", do: func(s *VerifyState) Out { return hold(s, "carol", 3) }, phase: PhaseEmbedding, store: true,
			check: func(t *testing.T, s *VerifyState) {
				if !s.Busy() || s.CanTrain(true) {
					t.Errorf("busy %v, can train %v while the load waits", s.Busy(), s.CanTrain(true))
				}
			}},
		{name: "the refusal", do: func(s *VerifyState) Out { return atShape(t, s.Receive(refusal(s)), "1×32×32") }, phase: PhaseEmbedding,
			posts: []string{"embed:gallery"}, check: func(t *testing.T, s *VerifyState) {
				if !strings.Contains(s.ModelNote, "not finite") {
					t.Errorf("note %q", s.ModelNote)
				}
			}},
		{name: "the gallery with carol", do: func(s *VerifyState) Out {
			return s.Receive(embMsg(galleryID(s.gallerySeq), 2, append(galleryEmbs(), 1, 0, 1, 0, 1, 0)))
		}, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if len(s.Names) != 3 || s.Encoder != face.DefaultInput || !strings.HasPrefix(s.TrainStatus(), "ready: m,") {
					t.Errorf("names %v, encoder %+v, status %q", s.Names, s.Encoder, s.TrainStatus())
				}
			}},
		{name: "a probe again", do: func(s *VerifyState) Out { return okFrame(s, 1) }, phase: PhaseReady, posts: []string{"embed:probe-2"}},
	})

	// Loaded with nothing enrolled: the page waits for the worker's idle
	// (busy, though its phase is none), and what was enrolled meanwhile is
	// embedded then.
	e := NewVerifyState()
	e.LoadModel(modelFile(t, face.DefaultInput), nil, "x")
	if e.unloaded == nil || !e.Busy() || e.Phase != PhaseNone {
		t.Fatalf("after LoadModel with nothing enrolled: load pending %v, busy %v, phase %v", e.unloaded != nil, e.Busy(), e.Phase)
	}
	if out := e.Import(ReadGallery(MarshalGallery(enrolled().Gallery), nil)); len(out.Post) != 0 || !e.restale {
		t.Errorf("an import while the load waits posted %d commands (restale %v), want none until the answer", len(out.Post), e.restale)
	}
	if got := ops(t, e.Receive(stateMsg(msg.StateIdle))); !slices.Equal(got, []string{"embed:gallery"}) || e.unloaded != nil || !e.hasEncoder {
		t.Errorf("after the worker's idle: posted %v, load pending %v, encoder %v", got, e.unloaded != nil, e.hasEncoder)
	}
}

// TestVerifyFileNotesOneLine: the Verify page's notes about a file it
// could not take, which quote the file's words (an identity's name of
// megabytes or with a line break in a gallery, imported or stored; a
// number of megabytes in a model's metadata), and the upload's problem
// with a name, are one line of at most msg.MaxErrorRunes characters, as
// a trainer's error is (msg.ErrorLine), their start kept. Before, each
// was the whole quote, a line for each line break.
func TestVerifyFileNotesOneLine(t *testing.T) {
	long := strings.Repeat("x", 5000)
	in := face.SnapshotInput
	gallery := func(name, crop string) []byte {
		g := NewGallery(in.Channels, in.Height, in.Width)
		g.Identities = []Identity{{Name: name, Crops: []string{crop}}}
		return MarshalGallery(g)
	}
	good := EncodeCrop(make([]float32, in.Size()), in.Channels, in.Height, in.Width)
	meta := `{"format":"metriclab/1","spec":{"arch":"lenet-m","input":{"channels":1` + strings.Repeat("0", 5000) + `}}}`
	header, err := json.Marshal(map[string]any{"__metadata__": map[string]string{"metriclab": meta}})
	if err != nil {
		t.Fatal(err)
	}
	model := append(binary.LittleEndian.AppendUint64(nil, uint64(len(header))), header...)

	s := NewVerifyState()
	s.Dataset = "faces"
	if s.Import(ReadGallery(gallery(long, good), nil)); s.Gallery.Count() != 1 {
		t.Fatalf("a gallery of one identity named %d x's: note %.200q", len(long), s.Note)
	}
	notes := []string{s.UploadProblem()}
	s.Import(ReadGallery(gallery("ann\n"+long, "not a crop"), nil))
	notes = append(notes, s.Note)
	s.Restore(string(gallery("ann\n"+long, "not a crop")), true, nil)
	notes = append(notes, s.Note)
	s.LoadModel(model, nil, "model file m.safetensors")
	notes = append(notes, s.ModelNote)
	for i, start := range []string{`"xxx`, "the gallery could not be imported: crop 1 of ann xxx", "the stored gallery could not be read: crop 1 of ann xxx",
		"model file m.safetensors could not be loaded: metriclab metadata: json: cannot unmarshal number 1000"} {
		if n := notes[i]; !strings.HasPrefix(n, start) || utf8.RuneCountInString(n) > msg.MaxErrorRunes || strings.ContainsFunc(n, unicode.IsControl) {
			t.Errorf("note %.400q (%d characters), want one line of at most %d characters that starts %q", n, utf8.RuneCountInString(n), msg.MaxErrorRunes, start)
		}
	}
}
