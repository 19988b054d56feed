package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/face"
	"metriclab/core/msg"
)

// step is one transition of a VerifyState scenario and what must hold
// after it: the phase, the commands posted to the worker (their ops, an
// embed with its id: "embed:gallery"), whether the gallery is stored, and
// an optional check.
type step struct {
	name  string
	do    func(s *VerifyState) Out
	phase Phase
	posts []string
	store bool
	check func(t *testing.T, s *VerifyState)
}

// runSteps runs the steps on s in order.
func runSteps(t *testing.T, s *VerifyState, steps []step) {
	t.Helper()
	for _, st := range steps {
		out := st.do(s)
		if s.Phase != st.phase {
			t.Fatalf("%s: phase %d, want %d (note %q, model note %q)", st.name, s.Phase, st.phase, s.Note, s.ModelNote)
		}
		if got := ops(t, out); !slices.Equal(got, st.posts) {
			t.Fatalf("%s: posted %v, want %v", st.name, got, st.posts)
		}
		if out.Store != st.store {
			t.Fatalf("%s: store %v, want %v", st.name, out.Store, st.store)
		}
		if st.check != nil {
			st.check(t, s)
		}
	}
}

// ops decodes the commands of out: "op", "embed:ID", or "load+embed:ID".
func ops(t *testing.T, out Out) []string {
	t.Helper()
	var got []string
	for _, p := range out.Post {
		var m msg.Message
		if err := json.Unmarshal([]byte(p), &m); err != nil || m.Type != msg.TypeCommand || m.Command == nil || m.Trainer != verifyTrainer {
			t.Fatalf("posted %.80s…: %v", p, err)
		}
		op, id := m.Command.Op, m.Command.ID
		if strings.HasPrefix(id, galleryPrefix) {
			id = "gallery" // whatever its number (TestVerifyUnreadGallery checks those)
		}
		switch {
		case op == msg.OpEmbed:
			op += ":" + id
		case op == msg.OpLoad && m.Command.Samples != nil:
			op += "+embed:" + id // embedded once the load took
		}
		got = append(got, op)
	}
	return got
}

// worker's messages, as wasm/trainer posts them.
func stateMsg(state string) string {
	b, _ := json.Marshal(msg.Message{V: msg.SchemaVersion, Type: msg.TypeState, Trainer: verifyTrainer, State: state})
	return string(b)
}

// loadedMsg is the answer to the load id without samples: the state idle
// of its ID.
func loadedMsg(id string) string {
	b, _ := json.Marshal(msg.Message{V: msg.SchemaVersion, Type: msg.TypeState, Trainer: verifyTrainer, State: msg.StateIdle, ID: id})
	return string(b)
}

func embMsg(id string, dim int, values []float32) string {
	return embMsgOf(&msg.Embeddings{ID: id, Dim: dim, Values: values, Threshold: 0.5, FAR: 0.01})
}

func embMsgOf(e *msg.Embeddings) string {
	b, _ := json.Marshal(msg.Message{V: msg.SchemaVersion, Type: msg.TypeEmbeddings, Trainer: verifyTrainer, Embeddings: e})
	return string(b)
}

// enrolled returns a state whose gallery has alice and bob, three crops
// each, and a camera with a detector.
func enrolled() VerifyState {
	s := NewVerifyState()
	in := s.Input
	zero := EncodeCrop(make([]float32, in.Channels*in.Height*in.Width), in.Channels, in.Height, in.Width)
	s.Gallery.Add("alice", zero, zero, zero)
	s.Gallery.Add("bob", zero, zero, zero)
	s.CameraStarted(CameraOn, "")
	s.DetectorReady(nil)
	return s
}

// galleryEmbs are the 2-D embeddings of enrolled's gallery: alice's crops
// at 0° and ±0.1 rad, bob's at 90° and 90° ± 0.1 rad.
func galleryEmbs() []float32 {
	c, s := float32(math.Cos(0.1)), float32(math.Sin(0.1))
	return []float32{1, 0, c, s, c, -s, 0, 1, s, c, -s, c}
}

func okFrame(s *VerifyState, now float64) Out {
	_, out := s.Frame(now, face.OK, make([]float32, s.Input.Channels*s.Input.Height*s.Input.Width))
	return out
}

func TestVerifyTrainAndVerify(t *testing.T) {
	s := enrolled()
	runSteps(t, &s, []step{
		{name: "before an encoder", do: func(s *VerifyState) Out { return Out{} }, phase: PhaseNone,
			check: func(t *testing.T, s *VerifyState) {
				if got := s.TrainStatus(); !strings.Contains(got, "train one") || !s.CanTrain(true) || s.CanTrain(false) {
					t.Errorf("TrainStatus %q, CanTrain %v/%v", got, s.CanTrain(true), s.CanTrain(false))
				}
			}},
		{name: "a frame before an encoder: no probe", do: func(s *VerifyState) Out { return okFrame(s, 0) }, phase: PhaseNone},
		{name: "train", do: (*VerifyState).Train, phase: PhaseTraining, posts: []string{"start"},
			check: func(t *testing.T, s *VerifyState) {
				if s.CanTrain(true) || s.Run.State != msg.StateRunning || !strings.HasPrefix(s.TrainStatus(), "training: running") {
					t.Errorf("while training: CanTrain %v, run %q, status %q", s.CanTrain(true), s.Run.State, s.TrainStatus())
				}
				// The accuracy curve is of enrolled images, which have no test split.
				if got := AccuracyTitle(s.Run.Request); got != "accuracy (enrolled images)" {
					t.Errorf("while training: the accuracy curve %q", got)
				}
			}},
		{name: "settings are fixed while training", do: func(s *VerifyState) Out { s.SetEncoder("dim", "3"); return Out{} }, phase: PhaseTraining,
			check: func(t *testing.T, s *VerifyState) {
				if s.Dim != 16 {
					t.Errorf("dim %d after a change while training, want 16", s.Dim)
				}
			}},
		{name: "trainer done: embed the gallery, export the model to keep", do: func(s *VerifyState) Out { return s.Receive(stateMsg(msg.StateDone)) }, phase: PhaseEmbedding, posts: []string{"embed:gallery", "export"}},
		{name: "the gallery's embeddings", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				// Impostor scores are about cos 90° = 0, genuine ones about
				// cos 0.1: the suggested threshold sits in the gap.
				hi, lo := slices.Max(s.Calib.Impostor), slices.Min(s.Calib.Genuine)
				if !(s.Threshold > hi && s.Threshold < lo) || s.Calib.FRR != 0 || !slices.Equal(s.Names, []string{"alice", "bob"}) {
					t.Errorf("threshold %v (gap %v..%v), FRR %v, names %v", s.Threshold, hi, lo, s.Calib.FRR, s.Names)
				}
				if !strings.HasPrefix(s.TrainStatus(), "ready: arcface trained here, 2 identities, D = 2") || s.ScoreText() != "–" {
					t.Errorf("status %q, score %q", s.TrainStatus(), s.ScoreText())
				}
			}},
		{name: "a frame: probe 1", do: func(s *VerifyState) Out { return okFrame(s, 10) }, phase: PhaseReady, posts: []string{"embed:probe-1"}},
		{name: "another frame while probe 1 is pending: none", do: func(s *VerifyState) Out { return okFrame(s, 20) }, phase: PhaseReady},
		{name: "a bad frame: none", do: func(s *VerifyState) Out { _, out := s.Frame(30, face.NoFace, nil); return out }, phase: PhaseReady},
		{name: "a stale probe's answer is dropped", do: func(s *VerifyState) Out { return s.Receive(embMsg("probe-0", 2, []float32{0, 1})) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if s.HasScore || s.Scored != 0 {
					t.Errorf("a stale probe was scored (probe %d shown)", s.Scored)
				}
			}},
		{name: "probe 1 at 0°", do: func(s *VerifyState) Out { return s.Receive(embMsg("probe-1", 2, []float32{1, 0})) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if s.Scored != 1 {
					t.Errorf("the scores shown are of probe %d, want 1", s.Scored)
				}
				// Alice's template is the mean of 0° and ±0.1 rad: 0° exactly.
				if s.ScoreText() != "1.000 (0.0°)" || s.VerdictText() != "accept" || s.IdentityText() != "alice" || s.Ranked[0].Name != "alice" {
					t.Errorf("score %q verdict %q identity %q ranking %v", s.ScoreText(), s.VerdictText(), s.IdentityText(), s.Ranked)
				}
			}},
		{name: "claim bob", do: func(s *VerifyState) Out { s.Claim("bob"); return Out{} }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if s.ClaimedName() != "bob" || s.VerdictText() != "reject" || s.IdentityText() != "alice" {
					t.Errorf("claiming bob: %s %s %s", s.ClaimedName(), s.VerdictText(), s.IdentityText())
				}
			}},
		{name: "a threshold by hand", do: func(s *VerifyState) Out { s.SetThreshold(0.25); s.SetThreshold(7); return Out{} }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if s.Threshold != 0.25 || s.IdentityText() != "alice" {
					t.Errorf("threshold %v identity %q, want 0.25 (7 is out of range) and alice", s.Threshold, s.IdentityText())
				}
			}},
		{name: "SetFAR recalibrates", do: func(s *VerifyState) Out { s.SetFAR(MaxFAR); s.SetFAR(0.5); s.SetFAR(-1); return Out{} }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				// Two impostor scores (the held-out crops against the other
				// template): MaxFAR lets none pass (0.5, past the slider, is
				// no FAR to choose).
				if s.FAR != MaxFAR || s.Calib.FAR > MaxFAR || s.Threshold != s.Calib.Threshold {
					t.Errorf("FAR %v, measured %v, threshold %v (calibrated %v)", s.FAR, s.Calib.FAR, s.Threshold, s.Calib.Threshold)
				}
			}},
		{name: "the next frame probes again", do: func(s *VerifyState) Out { return okFrame(s, 40) }, phase: PhaseReady, posts: []string{"embed:probe-2"}},
		{name: "probe 2 at 180°: unknown", do: func(s *VerifyState) Out { return s.Receive(embMsg("probe-2", 2, []float32{-1, 0})) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if s.IdentityText() != "unknown" || s.VerdictText() != "reject" || s.Scored != 2 {
					t.Errorf("identity %q verdict %q of probe %d, want unknown and reject of probe 2", s.IdentityText(), s.VerdictText(), s.Scored)
				}
			}},
		{name: "probe 3", do: func(s *VerifyState) Out { return okFrame(s, 50) }, phase: PhaseReady, posts: []string{"embed:probe-3"}},
		{name: "deleting a crop stores the gallery and embeds it again", do: func(s *VerifyState) Out { return s.DeleteCrop(1, 0) }, phase: PhaseEmbedding, store: true, posts: []string{"embed:gallery"}},
		{name: "probe 3's answer after that is dropped", do: func(s *VerifyState) Out {
			s.HasScore = false
			return s.Receive(embMsg("probe-3", 2, []float32{0, 1}))
		}, phase: PhaseEmbedding, check: func(t *testing.T, s *VerifyState) {
			if s.HasScore || s.Scored != 2 {
				t.Errorf("a probe was scored while the gallery is embedded again (scores of probe %d shown)", s.Scored)
			}
		}},
		{name: "embeddings of the wrong size", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())) }, phase: PhaseNone,
			check: func(t *testing.T, s *VerifyState) {
				if !strings.Contains(s.Note, "do not match") {
					t.Errorf("note %q", s.Note)
				}
			}},
	})
}

func TestVerifyFailures(t *testing.T) {
	s := enrolled()
	runSteps(t, &s, []step{
		{name: "train", do: (*VerifyState).Train, phase: PhaseTraining, posts: []string{"start"}},
		{name: "the trainer fails", do: func(s *VerifyState) Out {
			b, _ := json.Marshal(msg.Message{V: 1, Type: msg.TypeError, Trainer: verifyTrainer, Error: "loss is NaN"})
			return s.Receive(string(b))
		}, phase: PhaseNone, check: func(t *testing.T, s *VerifyState) {
			if s.TrainStatus() != "failed: loss is NaN" {
				t.Errorf("status %q", s.TrainStatus())
			}
		}},
		{name: "train again", do: (*VerifyState).Train, phase: PhaseTraining, posts: []string{"start"}},
		{name: "the worker dies", do: func(s *VerifyState) Out { s.Crash("out of memory"); return Out{} }, phase: PhaseNone,
			check: func(t *testing.T, s *VerifyState) {
				if s.TrainStatus() != "crashed: out of memory" {
					t.Errorf("status %q", s.TrainStatus())
				}
			}},
		{name: "a message of another schema", do: func(s *VerifyState) Out { return s.Receive(`{"v":2,"type":"state","state":"done"}`) }, phase: PhaseNone,
			check: func(t *testing.T, s *VerifyState) {
				if !strings.Contains(s.Note, "v2") {
					t.Errorf("note %q", s.Note)
				}
			}},
	})
}

// refusedMsg is the worker's refusal of the command of ID id, as
// wasm/trainer posts it (an error with the command's ID).
func refusedMsg(id, reason string) string {
	return `{"v":1,"type":"error","trainer":"verify","id":"` + id + `","error":"` + reason + `"}`
}

// TestVerifyProbeRefused: a probe the worker refuses (one frame whose
// embedding overflows, as wasm/trainer's embed says) is that probe's
// failure: the live panel says why in one line, the encoder stays ready
// and the next frame is probed. Before, any error without a pending load
// dropped the encoder ("no encoder: train one…"), even one that answered
// a probe sent before the gallery was embedded again. A refused gallery
// and a worker that fails (an error without an ID, then the state
// failed) still leave the page without an encoder.
func TestVerifyProbeRefused(t *testing.T) {
	const overflow = "the model's embeddings of these images are not all finite numbers (its values overflow): load or train another model"
	s := enrolled()
	ready := func(t *testing.T, s *VerifyState) {
		t.Helper()
		if !strings.HasPrefix(s.TrainStatus(), "ready: arcface trained here") || s.Run.State == msg.StateFailed || !s.hasEncoder {
			t.Errorf("status %q, run %q, encoder %v; want the encoder kept", s.TrainStatus(), s.Run.State, s.hasEncoder)
		}
	}
	runSteps(t, &s, []step{
		{name: "train", do: (*VerifyState).Train, phase: PhaseTraining, posts: []string{"start"}},
		{name: "done", do: func(s *VerifyState) Out { return s.Receive(stateMsg(msg.StateDone)) }, phase: PhaseEmbedding, posts: []string{"embed:gallery", "export"}},
		{name: "the gallery's embeddings", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())) }, phase: PhaseReady},
		{name: "probe 1", do: func(s *VerifyState) Out { return okFrame(s, 10) }, phase: PhaseReady, posts: []string{"embed:probe-1"}},
		{name: "probe 1 scored", do: func(s *VerifyState) Out { return s.Receive(embMsg("probe-1", 2, []float32{1, 0})) }, phase: PhaseReady},
		{name: "probe 2", do: func(s *VerifyState) Out { return okFrame(s, 20) }, phase: PhaseReady, posts: []string{"embed:probe-2"}},
		{name: "probe 2 refused", do: func(s *VerifyState) Out { return s.Receive(refusedMsg("probe-2", overflow)) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				ready(t, s)
				if s.ProbeNote != "probe 2 could not be embedded: "+overflow || strings.Contains(s.ProbeNote, "\n") {
					t.Errorf("probe note %q", s.ProbeNote)
				}
				if s.HasScore || s.VerdictText() != "–" {
					t.Errorf("probe 1's verdict %q shown for the refused probe 2", s.VerdictText())
				}
			}},
		{name: "the next frame is probed", do: func(s *VerifyState) Out { return okFrame(s, 30) }, phase: PhaseReady, posts: []string{"embed:probe-3"}},
		{name: "probe 3 scored", do: func(s *VerifyState) Out { return s.Receive(embMsg("probe-3", 2, []float32{1, 0})) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if s.ProbeNote != "" || s.Scored != 3 || s.IdentityText() != "alice" {
					t.Errorf("probe note %q, scores of probe %d (%s); want none, probe 3, alice", s.ProbeNote, s.Scored, s.IdentityText())
				}
			}},
		{name: "probe 4", do: func(s *VerifyState) Out { return okFrame(s, 40) }, phase: PhaseReady, posts: []string{"embed:probe-4"}},
		{name: "a deletion embeds the gallery again", do: func(s *VerifyState) Out { return s.DeleteCrop(1, 0) }, phase: PhaseEmbedding, store: true, posts: []string{"embed:gallery"}},
		{name: "probe 4, sent before, refused", do: func(s *VerifyState) Out { return s.Receive(refusedMsg("probe-4", overflow)) }, phase: PhaseEmbedding},
		{name: "the gallery's new embeddings", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()[2:])) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) { ready(t, s) }},
		{name: "a stale probe's refusal", do: func(s *VerifyState) Out { return s.Receive(refusedMsg("probe-1", overflow)) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				ready(t, s)
				if !strings.HasPrefix(s.ProbeNote, "probe 4 ") {
					t.Errorf("probe note %q, want probe 4's still: probe 1 was replaced", s.ProbeNote)
				}
			}},
		{name: "probe 5", do: func(s *VerifyState) Out { return okFrame(s, 50) }, phase: PhaseReady, posts: []string{"embed:probe-5"}},
		{name: "a model file", do: func(s *VerifyState) Out {
			return s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file a.safetensors")
		}, phase: PhaseEmbedding, posts: []string{"load+embed:gallery"}},
		{name: "probe 5 refused: the load still waits", do: func(s *VerifyState) Out { return s.Receive(refusedMsg("probe-5", overflow)) }, phase: PhaseEmbedding,
			check: func(t *testing.T, s *VerifyState) {
				if !s.Busy() || s.Source != "model file a.safetensors" {
					t.Errorf("busy %v, source %q; want the load pending", s.Busy(), s.Source)
				}
			}},
		{name: "the load's embeddings", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()[2:])) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if !strings.HasPrefix(s.TrainStatus(), "ready: model file a.safetensors") {
					t.Errorf("status %q", s.TrainStatus())
				}
			}},
		{name: "a gallery the worker refuses", do: func(s *VerifyState) Out {
			s.DeleteCrop(1, 0)
			return s.Receive(refusedMsg(galleryID(s.gallerySeq), overflow))
		}, phase: PhaseNone},
	})

	// The worker itself fails (trainer.wasm stopped: web/trainer.js answers
	// with an error of no ID, then the state failed): no encoder.
	s = enrolled()
	s.Train()
	s.Receive(stateMsg(msg.StateDone))
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	okFrame(&s, 10)
	s.Receive(`{"v":1,"type":"error","trainer":"verify","error":"trainer.wasm stopped: out of memory"}`)
	s.Receive(stateMsg(msg.StateFailed))
	if s.Phase != PhaseNone || s.hasEncoder || s.TrainStatus() != "failed: trainer.wasm stopped: out of memory" {
		t.Errorf("the worker failed: phase %d, encoder %v, status %q; want none, none, failed", s.Phase, s.hasEncoder, s.TrainStatus())
	}
}

// TestVerifyProbeRefusedOldEncoder: the refusal of a probe sent with the
// encoder before a training or a load (the worker answers it before the
// start or the load) is of that encoder, whose probe's embeddings would
// be dropped too: it leaves no note. Before, "probe 1 could not be
// embedded" stood under the new encoder until a probe was scored.
func TestVerifyProbeRefusedOldEncoder(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(s *VerifyState)
		answer []string // the worker's answers to the change
	}{
		{"a training", func(s *VerifyState) { s.Train() }, []string{stateMsg(msg.StateDone), embMsg(galleryID(2), 2, galleryEmbs())}},
		{"a load", func(s *VerifyState) { s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file a.safetensors") },
			[]string{embMsg(galleryID(2), 2, galleryEmbs())}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := enrolled()
			s.Train()
			s.Receive(stateMsg(msg.StateDone))
			s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
			okFrame(&s, 10) // probe 1, with this encoder
			c.change(&s)
			s.Receive(refusedMsg("probe-1", "overflow"))
			if s.ProbeNote != "" {
				t.Errorf("while the encoder changes: probe note %q, want none", s.ProbeNote)
			}
			for _, m := range c.answer {
				s.Receive(m)
			}
			if s.Phase != PhaseReady || s.ProbeNote != "" {
				t.Errorf("ready with the new encoder: phase %d, probe note %q; want ready, none", s.Phase, s.ProbeNote)
			}
		})
	}
}

func TestVerifyLoadModel(t *testing.T) {
	s := enrolled()
	cards := []msg.ModelCard{{ID: "m1"}, {ID: "m2"}}
	runSteps(t, &s, []step{
		{name: "the registry", do: func(s *VerifyState) Out {
			s.SetModels(cards, nil)
			s.SetModels(nil, errors.New("offline"))
			return Out{}
		}, phase: PhaseNone,
			check: func(t *testing.T, s *VerifyState) {
				if s.ModelID != "m1" || len(s.Models) != 2 {
					t.Errorf("model %q of %d, want m1 of 2 (an error keeps the list)", s.ModelID, len(s.Models))
				}
			}},
		{name: "fetch m2", do: func(s *VerifyState) Out {
			s.SelectModel("m2")
			if id, ok := s.FetchModel(); !ok || id != "m2" {
				t.Errorf("FetchModel = %q, %v", id, ok)
			}
			if _, ok := s.FetchModel(); ok {
				t.Error("a second fetch while loading")
			}
			return Out{}
		}, phase: PhaseLoading},
		{name: "the fetch failed", do: func(s *VerifyState) Out { return s.ModelFetched(nil, errors.New("not found (404)"), "server model m2") }, phase: PhaseNone,
			check: func(t *testing.T, s *VerifyState) {
				if s.ModelNote != "server model m2 could not be read: not found (404)" {
					t.Errorf("model note %q", s.ModelNote)
				}
			}},
		{name: "a model file", do: func(s *VerifyState) Out {
			return s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file a.safetensors")
		}, phase: PhaseEmbedding,
			posts: []string{"load+embed:gallery"}},
		{name: "the gallery's embeddings", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if !strings.HasPrefix(s.TrainStatus(), "ready: model file a.safetensors") || s.ModelNote != "" {
					t.Errorf("status %q, note %q", s.TrainStatus(), s.ModelNote)
				}
			}},
	})
	// Loaded before anyone is enrolled: nothing to verify against yet; the
	// first enrollment is embedded with the loaded model.
	e := NewVerifyState()
	runSteps(t, &e, []step{
		{name: "a model, no gallery", do: func(s *VerifyState) Out { return s.LoadModel(modelFile(t, face.DefaultInput), nil, "x") }, phase: PhaseNone, posts: []string{"load"},
			check: func(t *testing.T, s *VerifyState) {
				if s.TrainStatus() != "loading the model…" {
					t.Errorf("status %q", s.TrainStatus())
				}
			}},
		{name: "the worker took it", do: func(s *VerifyState) Out { return s.Receive(stateMsg(msg.StateIdle)) }, phase: PhaseNone,
			check: func(t *testing.T, s *VerifyState) {
				if s.Busy() || !s.hasEncoder || !strings.Contains(s.TrainStatus(), "enroll someone") {
					t.Errorf("busy %v, encoder %v, status %q", s.Busy(), s.hasEncoder, s.TrainStatus())
				}
			}},
		{name: "then an import enrolls two", do: func(s *VerifyState) Out {
			return s.Import(ReadGallery(MarshalGallery(enrolled().Gallery), nil))
		}, phase: PhaseEmbedding, store: true, posts: []string{"embed:gallery"}},
		{name: "the gallery's embeddings", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if !strings.HasPrefix(s.TrainStatus(), "ready: x") || s.ModelNote != "" {
					t.Errorf("status %q, note %q", s.TrainStatus(), s.ModelNote)
				}
			}},
	})
	// A model file picked before Train was clicked and read after it (the
	// file picker stays open while the page goes on): the training is not
	// disturbed, and the note says why the file was not loaded.
	tr := enrolled()
	notLoaded := func(why string) func(t *testing.T, s *VerifyState) {
		return func(t *testing.T, s *VerifyState) {
			want := "model file late.safetensors was not loaded: " + why
			if !strings.HasPrefix(s.ModelNote, want) || s.Source != "arcface trained here" || s.unloaded != nil {
				t.Errorf("model note %q, source %q, a load pending %v; want a note starting %q, the training's encoder, none pending", s.ModelNote, s.Source, s.unloaded != nil, want)
			}
		}
	}
	late := func(s *VerifyState) Out {
		return s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file late.safetensors")
	}
	runSteps(t, &tr, []step{
		{name: "train", do: (*VerifyState).Train, phase: PhaseTraining, posts: []string{"start"}},
		{name: "a model file read while training", do: late, phase: PhaseTraining, check: func(t *testing.T, s *VerifyState) {
			notLoaded("a training is under way")(t, s)
			if s.Run.State != msg.StateRunning || s.Encoder != face.DefaultInput {
				t.Errorf("run %q, encoder %+v; want the training's", s.Run.State, s.Encoder)
			}
		}},
		{name: "trainer done: embed the gallery, export the model to keep", do: func(s *VerifyState) Out { return s.Receive(stateMsg(msg.StateDone)) }, phase: PhaseEmbedding, posts: []string{"embed:gallery", "export"}},
		{name: "a model file read while the gallery is embedded", do: late, phase: PhaseEmbedding, check: notLoaded("the enrollments are being embedded")},
		{name: "the gallery's embeddings", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if !strings.HasPrefix(s.TrainStatus(), "ready: arcface trained here") {
					t.Errorf("status %q", s.TrainStatus())
				}
			}},
		{name: "once ready, the file loads", do: late, phase: PhaseEmbedding, posts: []string{"load+embed:gallery"}},
		{name: "a second file while the worker has not answered the first", do: func(s *VerifyState) Out {
			return s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file second.safetensors")
		}, phase: PhaseEmbedding, check: func(t *testing.T, s *VerifyState) {
			if !strings.HasPrefix(s.ModelNote, "model file second.safetensors was not loaded: ") || s.Source != "model file late.safetensors" {
				t.Errorf("model note %q, source %q; want the second refused, the first loading", s.ModelNote, s.Source)
			}
		}},
	})

	// A file read while a server model is fetched waits as Train does,
	// and the fetch's answer loads; a fetch that a crash overtook, and
	// that arrives once a training has started, is refused as a file is.
	f := enrolled()
	f.SetModels(cards, nil)
	runSteps(t, &f, []step{
		{name: "fetch m1", do: func(s *VerifyState) Out { s.FetchModel(); return Out{} }, phase: PhaseLoading},
		{name: "a model file meanwhile", do: late, phase: PhaseLoading, check: func(t *testing.T, s *VerifyState) {
			if !strings.HasPrefix(s.ModelNote, "model file late.safetensors was not loaded: a server model is loading") {
				t.Errorf("model note %q", s.ModelNote)
			}
		}},
		{name: "m1 arrives", do: func(s *VerifyState) Out {
			return s.ModelFetched(modelFile(t, face.DefaultInput), nil, "server model m1")
		}, phase: PhaseEmbedding,
			posts: []string{"load+embed:gallery"}, check: func(t *testing.T, s *VerifyState) {
				if s.Source != "server model m1" || s.ModelNote != "" {
					t.Errorf("source %q, note %q", s.Source, s.ModelNote)
				}
			}},
		{name: "the worker dies", do: func(s *VerifyState) Out { s.Crash("out of memory"); return Out{} }, phase: PhaseNone},
		{name: "fetch m1 again", do: func(s *VerifyState) Out { s.FetchModel(); return Out{} }, phase: PhaseLoading},
		{name: "the worker dies again", do: func(s *VerifyState) Out { s.Crash("out of memory"); return Out{} }, phase: PhaseNone},
		{name: "train", do: (*VerifyState).Train, phase: PhaseTraining, posts: []string{"start"}},
		{name: "m1 arrives while training", do: func(s *VerifyState) Out {
			return s.ModelFetched(modelFile(t, face.DefaultInput), nil, "server model m1")
		}, phase: PhaseTraining, check: func(t *testing.T, s *VerifyState) {
			if !strings.HasPrefix(s.ModelNote, "server model m1 was not loaded: a training is under way") || s.Source != "arcface trained here" {
				t.Errorf("model note %q, source %q", s.ModelNote, s.Source)
			}
		}},
	})

	// A worker that died holds no encoder: a new gallery waits for one.
	c := NewVerifyState()
	c.LoadModel(modelFile(t, face.DefaultInput), nil, "x")
	c.Crash("out of memory")
	if out := c.Import(ReadGallery(MarshalGallery(enrolled().Gallery), nil)); len(out.Post) != 0 || c.Phase != PhaseNone {
		t.Errorf("after a crash: posts %q, phase %v; want none, no phase", out.Post, c.Phase)
	}
}

func TestVerifyRecord(t *testing.T) {
	s := NewVerifyState()
	s.Snapshots = 3
	runSteps(t, &s, []step{
		{name: "no camera: no recording", do: func(s *VerifyState) Out { s.SetName("  Ann Smith "); return Out{} }, phase: PhaseNone,
			check: func(t *testing.T, s *VerifyState) {
				if s.Name != "Ann Smith" || s.CanRecord() {
					t.Errorf("name %q, CanRecord %v without a camera", s.Name, s.CanRecord())
				}
				s.CameraStarted(CameraOn, "")
				if s.CanRecord() || s.CameraStatus() != "camera on: loading the face detector…" {
					t.Errorf("CanRecord %v before the detector; status %q", s.CanRecord(), s.CameraStatus())
				}
				s.DetectorReady(nil)
				if !s.CanRecord() || s.CameraStatus() != "camera on: detecting faces" {
					t.Errorf("CanRecord %v, status %q", s.CanRecord(), s.CameraStatus())
				}
				// A detector that failed before the camera started: still said.
				f := NewVerifyState()
				f.DetectorReady(errors.New("no cascade (404)"))
				f.CameraStarted(CameraStarting, "")
				f.CameraStarted(CameraOn, "")
				if f.CanRecord() || f.CameraStatus() != "camera on; the face detector could not start: no cascade (404)" {
					t.Errorf("a failed detector: CanRecord %v, status %q", f.CanRecord(), f.CameraStatus())
				}
			}},
		{name: "a hold without a good frame stores nothing", do: func(s *VerifyState) Out {
			s.Record(true)
			s.Frame(0, face.TooBlurred, nil)
			return s.Record(false)
		}, phase: PhaseNone, check: func(t *testing.T, s *VerifyState) {
			if s.Gallery.Count() != 0 || s.Quality != "too blurred: hold still" {
				t.Errorf("%d crops, quality %q", s.Gallery.Count(), s.Quality)
			}
		}},
		{name: "hold", do: func(s *VerifyState) Out { return s.Record(true) }, phase: PhaseNone},
		{name: "frame 1", do: func(s *VerifyState) Out { return okFrame(s, 100) }, phase: PhaseNone},
		{name: "frame 2", do: func(s *VerifyState) Out { return okFrame(s, 200) }, phase: PhaseNone},
		{name: "frame 3 ends the hold: stored", do: func(s *VerifyState) Out { return okFrame(s, 300) }, phase: PhaseNone, store: true,
			check: func(t *testing.T, s *VerifyState) {
				if s.Recording || s.Gallery.Count() != 3 || s.Gallery.Identities[0].Name != "Ann Smith" {
					t.Errorf("recording %v, gallery %d crops of %v", s.Recording, s.Gallery.Count(), s.Gallery.Names())
				}
			}},
		{name: "frame 4 after the hold: not recorded", do: func(s *VerifyState) Out { return okFrame(s, 600) }, phase: PhaseNone,
			check: func(t *testing.T, s *VerifyState) {
				// Frames at 0, 100, 200, 300 and 600 ms: 4 gaps in 0.6 s,
				// 6.7 a second, shown at 600 ms (500 ms after the first).
				if s.Gallery.Count() != 3 || s.FPS != 6.7 || !s.FPSChanged {
					t.Errorf("%d crops, fps %v (changed %v), want 3, 6.7", s.Gallery.Count(), s.FPS, s.FPSChanged)
				}
			}},
		{name: "releasing the button again changes nothing", do: func(s *VerifyState) Out { return s.Record(false) }, phase: PhaseNone},
		// The camera stops during a hold (unplugged): the hold ends with
		// its snapshot, stored; the page says so, and records again once
		// the camera is started again. Before, the page said "camera on:
		// detecting faces", and, with a camera handle still held, offered
		// no Start camera.
		{name: "a hold", do: func(s *VerifyState) Out { s.Record(true); return okFrame(s, 700) }, phase: PhaseNone},
		{name: "the camera stops", do: func(s *VerifyState) Out { return s.CameraEnded() }, phase: PhaseNone, store: true,
			check: func(t *testing.T, s *VerifyState) {
				if s.Recording || s.Gallery.Count() != 4 || s.CanRecord() || s.CameraStatus() != StoppedWords || s.Quality != "–" {
					t.Errorf("recording %v, %d crops, CanRecord %v, status %q, quality %q", s.Recording, s.Gallery.Count(), s.CanRecord(), s.CameraStatus(), s.Quality)
				}
			}},
		{name: "started again", do: func(s *VerifyState) Out { s.CameraStarted(CameraOn, ""); return Out{} }, phase: PhaseNone,
			check: func(t *testing.T, s *VerifyState) {
				if !s.CanRecord() || s.CameraStatus() != "camera on: detecting faces" {
					t.Errorf("CanRecord %v, status %q", s.CanRecord(), s.CameraStatus())
				}
			}},
	})
}

// TestVerifyRecordFullGallery: a hold ends once the gallery holds
// MaxGalleryCrops snapshots, and the note says why, so that the gallery
// the page stores is one it restores. Before, a hold recorded past it:
// the stored gallery was refused when the page loaded again ("50001
// snapshots: the page takes at most 50000"), the page started empty, and
// its next store wrote over the user's gallery.
func TestVerifyRecordFullGallery(t *testing.T) {
	s := enrolled()
	in := s.Input
	zero := EncodeCrop(make([]float32, in.Channels*in.Height*in.Width), in.Channels, in.Height, in.Width)
	for range MaxGalleryCrops - 1 - s.Gallery.Count() {
		s.Gallery.Add("bob", zero)
	}
	s.SetName("carol")
	runSteps(t, &s, []step{
		{name: "hold", do: func(s *VerifyState) Out { return s.Record(true) }, phase: PhaseNone},
		{name: "the last snapshot the gallery takes", do: func(s *VerifyState) Out { return okFrame(s, 100) }, phase: PhaseNone,
			check: func(t *testing.T, s *VerifyState) {
				if !s.Recording || s.Gallery.Count() != MaxGalleryCrops || s.Note != "" {
					t.Errorf("recording %v, %d snapshots, note %q; want still recording, %d, no note", s.Recording, s.Gallery.Count(), s.Note, MaxGalleryCrops)
				}
			}},
		{name: "one more ends the hold", do: func(s *VerifyState) Out { return okFrame(s, 200) }, phase: PhaseNone, store: true,
			check: func(t *testing.T, s *VerifyState) {
				want := "the gallery holds 50000 snapshots, the most the page keeps: delete some to record more"
				if s.Recording || s.Gallery.Count() != MaxGalleryCrops || s.Note != want {
					t.Errorf("recording %v, %d snapshots, note %q; want the hold ended at %d, note %q", s.Recording, s.Gallery.Count(), s.Note, MaxGalleryCrops, want)
				}
			}},
	})
	if testing.Short() {
		return // restoring decodes every crop: seconds natively, minutes under GOOS=js
	}
	r := NewVerifyState()
	r.Restore(string(MarshalGallery(s.Gallery)), true, nil)
	if r.Note != "" || r.Gallery.Count() != MaxGalleryCrops {
		t.Errorf("the stored gallery restored with %d snapshots, note %q; want all %d", r.Gallery.Count(), r.Note, MaxGalleryCrops)
	}
}

// TestVerifyImportedNames: the names of an imported gallery file are
// enrolled as typed ones are (identityName): trimmed and in Unicode
// normal form C, so that a hold typed under the same name adds to the
// imported identity instead of enrolling a second one. Before, only typed
// names were: " Ann Smith " imported and "Ann Smith" typed were two
// people (and Send said the imported name could not end with a space), as
// were "José" imported as e and a combining accent and "José" typed.
// What the name is checked for still is: two names of one person in a
// file, and a name the server refuses (UploadProblem). NFC is the
// browser's (String.prototype.normalize): outside one, nfc leaves a name
// as it is and only the trimming is checked; under GOOS=js (node), both.
func TestVerifyImportedNames(t *testing.T) {
	const decomposed, composed = "Jose\u0301", "Jos\u00e9"
	browser := nfc(decomposed) == composed
	crop := func(s *VerifyState) string {
		return EncodeCrop(make([]float32, s.Input.Channels*s.Input.Height*s.Input.Width), s.Input.Channels, s.Input.Height, s.Input.Width)
	}
	s := enrolled()
	g := NewGallery(s.Input.Channels, s.Input.Height, s.Input.Width)
	g.Add(" Ann Smith ", crop(&s), crop(&s))
	g.Add(decomposed+"\t", crop(&s))
	s.Import(ReadGallery(MarshalGallery(g), nil))
	want := []string{"Ann Smith", decomposed}
	if browser {
		want[1] = composed
	}
	if got := s.Gallery.Names(); !slices.Equal(got, want) || s.UploadProblem() != "" {
		t.Fatalf("imported %q (note %q), upload problem %q; want %q and none", got, s.Note, s.UploadProblem(), want)
	}
	s.Snapshots = 1
	for _, typed := range []string{"Ann Smith", composed} {
		s.SetName(typed)
		s.Record(true)
		okFrame(&s, 0)
	}
	want = []string{"Ann Smith", want[1]}
	crops := []int{3, 1}
	if browser {
		crops[1] = 2
	} else {
		want = append(want, composed)
		crops = append(crops, 1)
	}
	var got []int
	for _, id := range s.Gallery.Identities {
		got = append(got, len(id.Crops))
	}
	if !slices.Equal(s.Gallery.Names(), want) || !slices.Equal(got, crops) {
		t.Errorf("after typed holds: %q with %v crops, want %q with %v", s.Gallery.Names(), got, want, crops)
	}

	// One person twice in a file is still refused, and a name the server
	// refuses is still said before Send.
	twice := NewGallery(s.Input.Channels, s.Input.Height, s.Input.Width)
	twice.Add("Ann", crop(&s))
	twice.Add(" Ann", crop(&s))
	if s.Import(ReadGallery(MarshalGallery(twice), nil)); s.Note != `the gallery could not be imported: identity "Ann" is named twice` {
		t.Errorf("a file naming Ann twice: note %q", s.Note)
	}
	bad := NewGallery(s.Input.Channels, s.Input.Height, s.Input.Width)
	bad.Add(" a/b ", crop(&s))
	s.Import(ReadGallery(MarshalGallery(bad), nil))
	if p := s.UploadProblem(); p != `"a/b": a name cannot hold any of / \ : * ? " < > |` {
		t.Errorf("a name the server refuses, imported: upload problem %q", p)
	}
}

func TestVerifyGalleryFiles(t *testing.T) {
	s := enrolled()
	file := MarshalGallery(s.Gallery)
	e := NewVerifyState()
	runSteps(t, &e, []step{
		{name: "import", do: func(s *VerifyState) Out { return s.Import(ReadGallery(file, nil)) }, phase: PhaseNone, store: true,
			check: func(t *testing.T, s *VerifyState) {
				if s.Note != "imported 2 identities, 6 snapshots" || s.Gallery.Count() != 6 {
					t.Errorf("note %q, %d crops", s.Note, s.Gallery.Count())
				}
			}},
		{name: "import of crops too small to make", do: func(s *VerifyState) Out {
			g := NewGallery(1, 4, 4)
			g.Add("x", EncodeCrop(make([]float32, 16), 1, 4, 4))
			return s.Import(ReadGallery(MarshalGallery(g), nil))
		}, phase: PhaseNone, check: func(t *testing.T, s *VerifyState) {
			if s.Note != "the gallery could not be imported: crops of 1×4×4: want 1 or 3 channels and sides of 8 to 256 pixels" || s.Gallery.Count() != 6 {
				t.Errorf("note %q, %d crops", s.Note, s.Gallery.Count())
			}
		}},
		{name: "a file that could not be read", do: func(s *VerifyState) Out { return s.Import(ReadGallery(nil, errors.New("NotReadableError"))) }, phase: PhaseNone,
			check: func(t *testing.T, s *VerifyState) {
				if s.Note != "the gallery could not be imported: NotReadableError" {
					t.Errorf("note %q", s.Note)
				}
			}},
		{name: "restore from IndexedDB", do: func(s *VerifyState) Out {
			r := NewVerifyState()
			r.Restore(string(file), true, nil)
			if r.Gallery.Count() != 6 {
				t.Errorf("restored %d crops", r.Gallery.Count())
			}
			r.Restore("{", true, nil)
			if !strings.Contains(r.Note, "could not be read") || r.Gallery.Count() != 6 {
				t.Errorf("a bad record: note %q, %d crops", r.Note, r.Gallery.Count())
			}
			return Out{}
		}, phase: PhaseNone},
	})
}

func TestVerifyUpload(t *testing.T) {
	for _, tc := range []struct {
		names   []string
		dataset string
		problem string // "" when the gallery can be sent
	}{
		{[]string{"Ann Smith", "José"}, "webcam", ""},
		{[]string{"Zoë O'Neil"}, "faces_2", ""},
		{nil, "webcam", "enroll someone first"},
		{[]string{"ann"}, "my faces", "no spaces or accents"},
		{[]string{"ann"}, "mnist", "built in"},
		{[]string{"ann", "a/b"}, "webcam", `"a/b": a name cannot hold`},
		{[]string{"train"}, "webcam", `"train"`},
		// The server would refuse the second, after sending the first.
		{[]string{"Ann", "bob", "ann"}, "webcam", `"Ann" and "ann" differ only in case`},
		{[]string{"Émile", "éMILE"}, "webcam", "differ only in case"},
	} {
		s := NewVerifyState()
		for _, n := range tc.names {
			s.Gallery.Add(n, EncodeCrop(crop(1, 32, 32), 1, 32, 32))
		}
		s.SetDataset(" " + tc.dataset + " ")
		p := s.UploadProblem()
		if (tc.problem == "") != (p == "") || !strings.Contains(p, tc.problem) {
			t.Errorf("%v to %q: problem %q, want %q", tc.names, tc.dataset, p, tc.problem)
			continue
		}
		ups, err := s.StartUpload()
		if tc.problem != "" {
			if err == nil || s.Uploading || s.UploadNote != p {
				t.Errorf("%v: started despite %q (note %q)", tc.names, p, s.UploadNote)
			}
			continue
		}
		if err != nil || len(ups) != len(tc.names) || ups[0].Identity != tc.names[0] || !s.Uploading || s.UploadProblem() != "sending…" {
			t.Fatalf("%v: %d uploads, %v, uploading %v", tc.names, len(ups), err, s.Uploading)
		}
		if b := CropPNG(crop(1, 32, 32), 1, 32, 32); string(ups[0].PNG) != string(b) {
			t.Errorf("the upload is not the crop's PNG")
		}
		s.Uploaded(1, 1, errors.New("this server needs its token for changes (401)"))
		want := "sent 1 of " + itoa(len(tc.names)) + " snapshots to data set " + tc.dataset + ": this server needs its token for changes (401)"
		if len(tc.names) > 1 {
			want += ". Send again to send the other " + itoa(len(tc.names)-1) + ": those it holds are not stored twice"
		}
		if s.UploadNote != want || s.Uploading {
			t.Errorf("note %q, want %q", s.UploadNote, want)
		}
	}
}

// TestVerifyUploadForms: the page's check of the names it sends compares
// them as the server does, in Unicode normal form C (store.IdentityName):
// "José" with é and "JOSÉ" as E and a combining accent (a gallery kept
// before imported names were normalised: UnmarshalStoredGallery) differ
// only in case, which the server refuses part of the way through, while
// "José" in both forms is one name, one person to the server. Before, the
// page compared the names as they were, and sent both. Names that are one
// in form KC ("ａｌｉｃｅ" beside "alice", "ｔｒａｉｎ") are refused as the
// server refuses them. NFC and NFKC are the browser's (nfc, nfkc): the
// test runs under GOOS=js (node).
func TestVerifyUploadForms(t *testing.T) {
	const composed, decomposed = "Jos\u00e9", "Jose\u0301"
	if nfc(decomposed) != composed {
		t.Skip("nfc is the browser's String.prototype.normalize: run under GOOS=js")
	}
	for _, tc := range []struct {
		names   []string
		problem string // "" when the gallery can be sent
	}{
		{[]string{composed, "JOSE\u0301"}, `"José" and "JOSÉ" differ only in case`},
		{[]string{"JOSE\u0301", composed}, `"JOSÉ" and "José" differ only in case`},
		{[]string{composed, decomposed}, ""},
		// 40 é decomposed are 80 runes, 40 in the server's form (R17).
		{[]string{strings.Repeat("e\u0301", 40)}, ""},
		// In form KC, as the server compares names (R22): fullwidth
		// letters and a ligature read as the plain ones.
		{[]string{"alice", "ａｌｉｃｅ"}, `"alice" and "ａｌｉｃｅ" differ only in the form of a character`},
		{[]string{"Fiona", "\ufb01ona"}, `"Fiona" and "ﬁona" differ only in the form of a character`},
		{[]string{"ALICE", "alice"}, `"ALICE" and "alice" differ only in case`},
		{[]string{"ｔｒａｉｎ"}, `"ｔｒａｉｎ": "train" and "test" are not names, in any case or form`},
		{[]string{"\u0430lice", "alice"}, ""}, // Cyrillic а: another script, not a form of a
	} {
		s := NewVerifyState()
		for _, n := range tc.names {
			s.Gallery.Add(n, EncodeCrop(crop(1, 32, 32), 1, 32, 32))
		}
		s.SetDataset("webcam")
		if p := s.UploadProblem(); (tc.problem == "") != (p == "") || !strings.Contains(nfc(p), tc.problem) {
			t.Errorf("%+q: upload problem %q, want %q", tc.names, p, tc.problem)
		}
	}
}

func TestHeldOut(t *testing.T) {
	for _, c := range []struct {
		n, share int
		want     []int
	}{
		{20, 5, []int{4, 9, 14, 19}}, // a hold: one in five, spread over it
		{10, 5, []int{4, 9}},
		{7, 5, []int{6}},
		{3, 5, []int{2}}, // at least one of two or more
		{2, 5, []int{1}},
		{1, 5, nil}, // a single crop trains
		{0, 5, nil},
		{20, 10, []int{9, 19}},
	} {
		if got := HeldOut(c.n, c.share); !slices.Equal(got, c.want) {
			t.Errorf("HeldOut(%d, %d) = %v, want %v", c.n, c.share, got, c.want)
		}
	}
	// The trainer holds a tenth out of its own, and two at least of an
	// identity of five or more: two holds less the page's held-out ones
	// (32 of 2 identities) train on 16; two holds of 20 (40) on 32.
	for _, c := range [][3]int{{100, 2, 32}, {40, 2, 32}, {38, 2, 16}, {32, 2, 16}, {17, 2, 8}, {4, 2, 2}, {1, 1, 2}} {
		if got := verifyBatch(c[0], c[1]); got != c[2] {
			t.Errorf("verifyBatch(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
}

// TestVerifyHeldOutCalibration: the page's training leaves HeldOut's
// snapshots out of the worker's samples, and the threshold is calibrated
// on those alone (and on snapshots enrolled since); a loaded model
// calibrates on every snapshot.
func TestVerifyHeldOutCalibration(t *testing.T) {
	s := enrolled() // alice and bob, three identical crops each
	out := s.Train()
	var m msg.Message
	if len(out.Post) != 1 || json.Unmarshal([]byte(out.Post[0]), &m) != nil || m.Command.Samples == nil {
		t.Fatalf("Train posted %d commands", len(out.Post))
	}
	// Crop 2 of each is held out: the worker trains on crops 0 and 1.
	if got := m.Command.Samples.Labels; !slices.Equal(got, []int{0, 0, 1, 1}) || m.Command.Config.Batch != 2 {
		t.Errorf("the worker trains on labels %v, batch %d; want [0 0 1 1], 2", got, m.Command.Config.Batch)
	}
	s.Receive(stateMsg(msg.StateDone))
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	if s.Phase != PhaseReady {
		t.Fatalf("phase %d, note %q", s.Phase, s.Note)
	}
	// The held-out crops: alice's at −0.1 rad, bob's at 90° − 0.1 rad,
	// each against its identity's template of the two others (0.05 rad
	// and 90° + 0.05 rad away): genuine cos 0.15; impostor against the
	// other's full template.
	want := face.CalibrateOn(galleryEmbs(), 2, []int{0, 0, 0, 1, 1, 1}, []int{2, 5}, DefaultFAR)
	if len(s.Calib.Genuine) != 2 || math.Abs(s.Calib.Genuine[0]-math.Cos(0.15)) > 1e-6 || !slices.Equal(s.Calib.Impostor, want.Impostor) {
		t.Errorf("genuine %v impostor %v; want 2 of cos 0.15 and %v", s.Calib.Genuine, s.Calib.Impostor, want.Impostor)
	}
	if got := s.CalibratedOn(); got != "calibrated on 2 held-out snapshots (not trained on)" {
		t.Errorf("CalibratedOn() = %q", got)
	}
	// A snapshot enrolled after training is not trained on either.
	in := s.Input
	one := make([]float32, in.Channels*in.Height*in.Width)
	one[0] = 1
	s.Gallery.Add("alice", EncodeCrop(one, in.Channels, in.Height, in.Width))
	s.galleryChanged()
	e := galleryEmbs()
	e = append(e[:6:6], append([]float32{1, 0}, e[6:]...)...) // alice's new crop at 0°, before bob's
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, e))
	if !slices.Equal(s.probes, []int{2, 3, 6}) || s.CalibratedOn() != "calibrated on 3 held-out snapshots (not trained on)" {
		t.Errorf("probes %v, %q; want [2 3 6]", s.probes, s.CalibratedOn())
	}
	// A loaded model calibrates on every snapshot, leave-one-out.
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file m.safetensors")
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, e))
	if len(s.Calib.Genuine) != 7 || s.CalibratedOn() != "calibrated on 7 enrolled snapshots (leave-one-out)" {
		t.Errorf("loaded: %d genuine scores, %q; want 7", len(s.Calib.Genuine), s.CalibratedOn())
	}
}

// TestVerifyModelLinkUnknown: a link's ?model= that the server does not
// have (deleted meanwhile) is tried, says why it failed, naming it (the
// note said "the model could not be read", beside a list that shows
// another), and the list then chooses its first model, as it shows, so
// that "Load from server" loads what the list shows; a known id stays
// chosen.
func TestVerifyModelLinkUnknown(t *testing.T) {
	cards := []msg.ModelCard{{ID: "m1"}, {ID: "m2"}}
	s := NewVerifyState()
	s.SelectModel("gone")
	if id, ok := s.FetchModel(); !ok || id != "gone" {
		t.Fatalf("FetchModel = %q, %v; want the link's model tried", id, ok)
	}
	s.ModelFetched(nil, errors.New("not found (404)"), "server model gone")
	s.SetModels(cards, nil)
	if s.ModelID != "m1" || s.ModelNote != "server model gone could not be read: not found (404)" {
		t.Errorf("after the link's unknown model: chosen %q, note %q; want m1 and the note of the 404", s.ModelID, s.ModelNote)
	}
	// The list may come first, too.
	s = NewVerifyState()
	s.SelectModel("gone")
	s.SetModels(cards, nil)
	if s.ModelID != "m1" {
		t.Errorf("list before the fetch: chosen %q, want m1", s.ModelID)
	}
	s = NewVerifyState()
	s.SelectModel("m2")
	s.SetModels(cards, nil)
	if s.ModelID != "m2" {
		t.Errorf("a known model: chosen %q, want m2", s.ModelID)
	}
	// An empty registry: nothing is chosen, so nothing is fetched again.
	s = NewVerifyState()
	s.SelectModel("gone")
	s.SetModels([]msg.ModelCard{}, nil)
	if id, ok := s.FetchModel(); s.ModelID != "" || ok {
		t.Errorf("an empty list: chosen %q, FetchModel %q, %v; want none", s.ModelID, id, ok)
	}
}

// TestVerifyModelLinkDotSegments: a link's ?model=. or ?model=.. is not
// fetched, and the note says why: url.PathEscape keeps a dot segment,
// and the browser resolved /api/models/../file to /api/file, a request
// for another path than a model's file. The encoder is left as it was.
func TestVerifyModelLinkDotSegments(t *testing.T) {
	for _, id := range []string{".", ".."} {
		s := NewVerifyState()
		s.SelectModel(id)
		got, ok := s.FetchModel()
		want := `server model "` + id + `" was not loaded: no model has that id`
		if ok || got != "" || s.Phase != PhaseNone || s.Busy() || s.ModelNote != want {
			t.Errorf("?model=%s: FetchModel = %q, %v, phase %d, note %q; want nothing fetched and note %q", id, got, ok, s.Phase, s.ModelNote, want)
		}
	}
	// An id with a dot that is not a whole segment is an id like another.
	s := NewVerifyState()
	s.SelectModel("...")
	if id, ok := s.FetchModel(); !ok || id != "..." || s.ModelNote != "" {
		t.Errorf(`?model=...: FetchModel = %q, %v, note %q; want it fetched`, id, ok, s.ModelNote)
	}
}

// TestVerifyClaimFollowsName: the claimed identity is a person, not a
// place in the list: when someone listed before them leaves the gallery,
// the claim stays on them (it moved to the next name), and it falls back
// to a name in the list only when they leave themselves.
func TestVerifyClaimFollowsName(t *testing.T) {
	s := enrolled()
	s.Gallery.Add("carol", s.Gallery.Identities[0].Crops...)
	c, n := float32(math.Cos(0.1)), float32(math.Sin(0.1))
	embs := append(galleryEmbs(), -1, 0, -c, n, -c, -n) // carol at 180°
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "x")
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, embs))
	s.Claim("bob")
	for range 3 { // alice's crops, one by one: the first embeds, the others wait for it
		s.DeleteCrop(0, 0)
	}
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, embs[2:])) // of the first delete's gallery: alice's 2 left, bob, carol
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, embs[6:])) // of bob and carol
	if s.Phase != PhaseReady || !slices.Equal(s.Names, []string{"bob", "carol"}) || s.ClaimedName() != "bob" {
		t.Errorf("alice deleted while bob is claimed: phase %d, names %v, claimed %q; want ready, bob and carol, bob", s.Phase, s.Names, s.ClaimedName())
	}
	for range 3 {
		s.DeleteCrop(0, 0)
	}
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, embs[8:]))
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, embs[12:]))
	if !slices.Equal(s.Names, []string{"carol"}) || s.ClaimedName() != "carol" {
		t.Errorf("bob deleted while claimed: names %v, claimed %q; want carol, carol", s.Names, s.ClaimedName())
	}
}

// TestVerifyLoadBeforeWorkerReady: a worker says it listens (state idle,
// its first message) before it answers what the page posted meanwhile: a
// link's ?model= loads as the page opens. That idle is not the load's
// answer: a model the worker then refuses leaves the encoder as it was
// and says why in ModelNote, and a gallery changed during the load is
// embedded once, after the load's own embeddings (taken as the answer,
// the idle asked for a second embed whose gallery the load's embeddings
// were then checked against: "do not match", and no encoder).
func TestVerifyLoadBeforeWorkerReady(t *testing.T) {
	ready := `{"v":1,"type":"state","state":"idle"}` // as wasm/trainer's listen posts it: no trainer id yet
	s := enrolled()
	s.WorkerStarted()
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "server model m")
	if out := s.Receive(ready); len(out.Post) != 0 || !s.Busy() {
		t.Fatalf("the worker's ready: posts %d, busy %v; want none, still loading", len(out.Post), s.Busy())
	}
	s.Receive(refusedMsg(galleryID(s.gallerySeq), "the model could not be loaded: unknown loss"))
	if s.Phase != PhaseNone || s.Busy() || !strings.Contains(s.ModelNote, "unknown loss") || s.Run.State == msg.StateFailed {
		t.Errorf("refused: phase %d, busy %v, model note %q, run %q; want none, not busy, the note, not failed", s.Phase, s.Busy(), s.ModelNote, s.Run.State)
	}

	s = enrolled()
	s.WorkerStarted()
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "server model m")
	s.DeleteCrop(1, 0)
	runSteps(t, &s, []step{
		{name: "the worker's ready", do: func(s *VerifyState) Out { return s.Receive(ready) }, phase: PhaseEmbedding},
		{name: "the load's embeddings", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())) }, phase: PhaseEmbedding,
			posts: []string{"embed:gallery"}},
		{name: "the changed gallery's", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()[2:])) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if s.Note != "" || len(s.labels) != 5 {
					t.Errorf("note %q, %d embedded; want none, 5", s.Note, len(s.labels))
				}
			}},
	})
}

// TestVerifyOneIdentityThreshold: with one identity there are no impostor
// scores, and the live threshold is the model's own; the calibration the
// page shows as "suggested" (#suggested, and its FRR) is of that
// threshold, not of Calibrate's −1 (accept all), which the page does not
// use.
func TestVerifyOneIdentityThreshold(t *testing.T) {
	s := NewVerifyState()
	in := s.Input
	zero := EncodeCrop(make([]float32, in.Channels*in.Height*in.Width), in.Channels, in.Height, in.Width)
	s.Gallery.Add("alice", zero, zero, zero)
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "x")
	c, n := float32(math.Cos(0.1)), float32(math.Sin(0.1))
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, []float32{1, 0, c, n, c, -n})) // the model's threshold: 0.5
	if s.Phase != PhaseReady || len(s.Calib.Impostor) != 0 || s.Threshold != 0.5 {
		t.Fatalf("phase %d, %d impostor scores, threshold %v; want ready, none, the model's 0.5", s.Phase, len(s.Calib.Impostor), s.Threshold)
	}
	if s.Calib.Threshold != s.Threshold || s.Calib.FRR != 0 || s.NoSuggestion() {
		t.Errorf("suggested %v (FRR %v, none %v), the threshold in use %v", s.Calib.Threshold, s.Calib.FRR, s.NoSuggestion(), s.Threshold)
	}
}

// oneIdentity is the page with alice enrolled (three snapshots, embedded
// at angles 0, 0.1 and −0.2: no genuine score of 1) and a loaded model
// whose own threshold is threshold at FAR far.
func oneIdentity(t *testing.T, threshold, far float64) VerifyState {
	s := NewVerifyState()
	in := s.Input
	zero := EncodeCrop(make([]float32, in.Channels*in.Height*in.Width), in.Channels, in.Height, in.Width)
	s.Gallery.Add("alice", zero, zero, zero)
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "x")
	embs := []float32{1, 0, float32(math.Cos(0.1)), float32(math.Sin(0.1)), float32(math.Cos(0.2)), -float32(math.Sin(0.2))}
	s.Receive(embMsgOf(&msg.Embeddings{ID: galleryID(s.gallerySeq), Dim: 2, Values: embs, Threshold: threshold, FAR: far}))
	return s
}

// TestVerifyOneIdentityNoThreshold: a model trained with nothing held out
// has no threshold (threshold and FAR 0, msg.HasThreshold); with one
// identity the page has none to suggest, and the live threshold rejects
// everyone rather than accept every score ≥ 0. A threshold of 0 measured
// at a FAR is a threshold, and is used.
func TestVerifyOneIdentityNoThreshold(t *testing.T) {
	c, n := float32(math.Cos(0.1)), float32(math.Sin(0.1))
	for _, tc := range []struct {
		threshold, far float64
		none           bool
		want           float64
	}{
		{threshold: 0, far: 0, none: true, want: 1},
		{threshold: 0, far: 0.02, want: 0},
	} {
		s := oneIdentity(t, tc.threshold, tc.far)
		if s.Phase != PhaseReady || s.NoSuggestion() != tc.none || s.Threshold != tc.want || s.Calib.Threshold != tc.want {
			t.Errorf("model threshold %v at FAR %v: phase %d, no suggestion %v, threshold %v (calibration %v); want ready, %v, %v",
				tc.threshold, tc.far, s.Phase, s.NoSuggestion(), s.Threshold, s.Calib.Threshold, tc.none, tc.want)
		}
		if tc.none && s.Calib.FRR != 1 {
			t.Errorf("FRR %v at threshold 1, want 1 (every genuine score is below it)", s.Calib.FRR)
		}
		// A probe of alice, at cos 0.995 to her template: rejected with
		// no threshold, until one is set by hand.
		okFrame(&s, 1)
		s.Receive(embMsg("probe-1", 2, []float32{c, n}))
		if want := map[bool]string{true: "reject", false: "accept"}[tc.none]; s.VerdictText() != want {
			t.Errorf("model threshold %v at FAR %v: verdict %q (score %v), want %q", tc.threshold, tc.far, s.VerdictText(), s.Score, want)
		}
		s.SetThreshold(0.5)
		if s.VerdictText() != "accept" {
			t.Errorf("verdict %q at the threshold 0.5 set by hand", s.VerdictText())
		}
	}
}

// modelTrainedOn returns a model file as modelFile's whose provenance
// names data set data and whose classes are classes, as a server job
// writes them (core.Metadata).
func modelTrainedOn(t *testing.T, data string, classes ...string) []byte {
	t.Helper()
	return modelHeader(t, map[string]any{"format": "metriclab/1", "classes": classes, "provenance": map[string]any{"data": data},
		"spec": map[string]any{"arch": "lenet-m", "dim": 2, "input": map[string]any{"channels": 1, "height": 32, "width": 32, "mean": 0.5, "std": 0.5}}})
}

// TestVerifyModelTrainedOnEnrolled: a loaded model trained on the people
// enrolled (its classes name them, or its data set is the one the page
// sent its snapshots to) has scored snapshots it was trained on, and the
// page cannot tell which its training held out: the suggested threshold
// is the model's own, measured on images it held out, and the line says
// why and that the page's figures are of images it was trained on. The
// page suggested the leave-one-out threshold of those snapshots with FAR
// and FRR 0%, as for any model ("calibrated on 6 enrolled snapshots
// (leave-one-out)"). A model of other people, and one trained on these
// with no threshold of its own, are calibrated leave-one-out as before,
// the latter saying that it was trained on them.
func TestVerifyModelTrainedOnEnrolled(t *testing.T) {
	loo := face.Calibrate(galleryEmbs(), 2, []int{0, 0, 0, 1, 1, 1}, DefaultFAR).Threshold
	for _, c := range []struct {
		name      string
		sentTo    string
		file      []byte
		threshold float64 // the model's own, at FAR 0.012
		want      float64
		on        string // CalibratedOn begins so
	}{
		{"classes", "", modelTrainedOn(t, "webcam", "alice", "bob", "carol"), 0.3, 0.3,
			"the model was trained on these people (data set webcam, which holds 2 of the 2 identities enrolled here): the suggested threshold is its own, 0.300 (72.5°) at FAR 1.2%, measured in its training on images it held out; the FAR and FRR of the 6 enrolled snapshots (leave-one-out) are on images it was trained on"},
		{"sent to", "webcam", modelTrainedOn(t, "webcam", "dave"), 0.3, 0.3,
			"the model was trained on these people (data set webcam, which this page sent its snapshots to): "},
		{"other people", "webcam", modelTrainedOn(t, "orl-faces", "s1", "s2"), 0.3, loo, "calibrated on 6 enrolled snapshots (leave-one-out)"},
		{"no threshold", "", modelTrainedOn(t, "webcam", "alice"), 0, loo,
			"calibrated on 6 enrolled snapshots (leave-one-out), which the model was trained on (data set webcam, which holds 1 of the 2 identities enrolled here) and has no threshold of its own for: "},
	} {
		s := enrolled()
		s.SentTo = c.sentTo
		s.LoadModel(c.file, nil, "server model w")
		far := 0.012
		if c.threshold == 0 {
			far = 0
		}
		s.Receive(embMsgOf(&msg.Embeddings{ID: galleryID(s.gallerySeq), Dim: 2, Values: galleryEmbs(), Threshold: c.threshold, FAR: far}))
		if s.Phase != PhaseReady || s.Threshold != c.want || s.Calib.Threshold != c.want {
			t.Errorf("%s: phase %d, threshold %v (suggested %v); want ready, %v", c.name, s.Phase, s.Threshold, s.Calib.Threshold, c.want)
		}
		if got := s.CalibratedOn(); !strings.HasPrefix(got, c.on) {
			t.Errorf("%s: CalibratedOn() = %q, want it to begin %q", c.name, got, c.on)
		}
		// FAR and FRR are measured at the threshold used: galleryEmbs's
		// genuine scores are above 0.98, its impostor scores below 0.2.
		if s.Calib.FAR != 0 || s.Calib.FRR != 0 || len(s.Calib.Impostor) != 6 {
			t.Errorf("%s: FAR %v FRR %v of %d impostor scores; want 0, 0 of 6", c.name, s.Calib.FAR, s.Calib.FRR, len(s.Calib.Impostor))
		}
		// The suggestion names the model's own threshold, used or not
		// (the Models page shows it): one was left to be read as the
		// same model's other threshold.
		p := EncoderPanel{S: s}
		want := "suggested threshold 0.300 (72.5°), the model's own, at FAR 1.2% (measured in its training, on images it held out); on the enrolled snapshots, which it was trained on, FAR 0.0%, FRR 0.0%; "
		switch {
		case c.threshold == 0:
			want = "suggested threshold " + FormatScore(loo) + " at FAR 0.0% (measured), FRR 0.0%; 6 genuine and 6 impostor scores"
		case c.want != c.threshold:
			want = "; the model's own threshold, measured in its training on images it held out: 0.300 (72.5°) at FAR 1.2%"
		}
		if got := p.suggestion(); !strings.Contains(got, want) || c.threshold == 0 && strings.Contains(got, "model's own") {
			t.Errorf("%s: suggestion %q, want it to hold %q", c.name, got, want)
		}
	}
}

// TestVerifyTrainedOthers: an encoder trained here, with a gallery of
// other people imported since, says so in its status: it said "ready:
// arcface trained here, 1 identity, D = 2", read as trained on that one.
func TestVerifyTrainedOthers(t *testing.T) {
	s := enrolled()
	s.Train()
	s.Receive(stateMsg(msg.StateDone))
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	if got := s.TrainStatus(); got != "ready: arcface trained here, 2 identities, D = 2" {
		t.Fatalf("trained: %q", got)
	}
	g := NewGallery(s.Input.Channels, s.Input.Height, s.Input.Width)
	one := make([]float32, s.Input.Channels*s.Input.Height*s.Input.Width)
	for _, who := range []string{"carol", "alice"} {
		one[0] += 0.5
		c := EncodeCrop(one, s.Input.Channels, s.Input.Height, s.Input.Width)
		g.Add(who, c, c)
		s.Import(g, nil)
		s.Receive(embMsg(galleryID(s.gallerySeq), 2, []float32{1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9}[:4*len(g.Identities)]))
	}
	if got, want := s.TrainStatus(), "ready: arcface trained here, 2 identities, D = 2; trained on 2 identities, 1 of them enrolled"; got != want {
		t.Errorf("carol and alice imported: %q, want %q", got, want)
	}
	g = NewGallery(s.Input.Channels, s.Input.Height, s.Input.Width)
	c := EncodeCrop(one, s.Input.Channels, s.Input.Height, s.Input.Width)
	g.Add("carol", c, c)
	s.Import(g, nil)
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, []float32{1, 0, 0.9, 0.1}))
	if got, want := s.TrainStatus(), "ready: arcface trained here, 1 identity, D = 2; trained on 2 identities, none of them enrolled"; got != want {
		t.Errorf("carol alone imported: %q, want %q", got, want)
	}
}

// TestVerifyThresholdSetByHand: a threshold set with the slider stays
// through the calibrations that new snapshots bring, with the suggested
// one still calibrated (Calib); it gives way to the suggested one when a
// false accept rate is chosen, and when another encoder is made (a load
// the worker refuses keeps it). Before, every calibration set the
// suggested threshold: with one person enrolled and a model without a
// threshold, the next snapshot put the 0.5 set by hand back to 1, which
// rejects everyone.
func TestVerifyThresholdSetByHand(t *testing.T) {
	// record takes one more snapshot of alice and answers the gallery's
	// embed with e.
	record := func(t *testing.T, s *VerifyState, e msg.Embeddings) {
		t.Helper()
		s.SetName("alice")
		s.Record(true)
		okFrame(s, 0)
		if got := ops(t, s.Record(false)); !slices.Contains(got, "embed:gallery") {
			t.Fatalf("a snapshot posted %v, want the gallery embedded", got)
		}
		e.ID, e.Dim = galleryID(s.gallerySeq), 2
		s.Receive(embMsgOf(&e))
		if s.Phase != PhaseReady {
			t.Fatalf("phase %d after the gallery's embeddings, note %q", s.Phase, s.Note)
		}
	}
	c, n := float32(math.Cos(0.1)), float32(math.Sin(0.1))

	s := oneIdentity(t, 0, 0) // no suggestion: 1
	s.CameraStarted(CameraOn, "")
	s.DetectorReady(nil)
	s.SetThreshold(0.5)
	record(t, &s, msg.Embeddings{Values: []float32{1, 0, c, n, float32(math.Cos(0.2)), -float32(math.Sin(0.2)), c, -n}}) // a model without a threshold
	if s.Threshold != 0.5 || s.Calib.Threshold != 1 || len(s.Calib.Genuine) != 4 {
		t.Errorf("one identity, a snapshot more: threshold %v (suggested %v, %d genuine scores), want 0.5 set by hand (suggested 1, 4 scores)",
			s.Threshold, s.Calib.Threshold, len(s.Calib.Genuine))
	}
	s.SetFAR(0.02)
	if s.Threshold != 1 {
		t.Errorf("a FAR chosen: threshold %v, want the suggested 1", s.Threshold)
	}

	s = enrolled()
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "a")
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	suggested := s.Threshold
	s.SetThreshold(0.25)
	more := append(galleryEmbs()[:6:6], 1, 0) // alice's fourth snapshot at 0°, before bob's
	more = append(more, galleryEmbs()[6:]...)
	record(t, &s, msg.Embeddings{Values: more, Threshold: 0.5, FAR: 0.01})
	if s.Threshold != 0.25 || s.Calib.Threshold == 0.25 || s.Calib.Threshold != suggested {
		t.Errorf("two identities, a snapshot more: threshold %v (suggested %v), want 0.25 set by hand (suggested %v)", s.Threshold, s.Calib.Threshold, suggested)
	}
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "b")
	s.Receive(refusedMsg(galleryID(s.gallerySeq), "not a model"))
	s.DeleteCrop(0, 3)
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	if s.Phase != PhaseReady || s.Source != "a" || s.Threshold != 0.25 {
		t.Errorf("a load refused, a snapshot deleted: phase %d, encoder %q, threshold %v; want ready, a, 0.25 set by hand", s.Phase, s.Source, s.Threshold)
	}
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "c")
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	if s.Source != "c" || s.Threshold != suggested {
		t.Errorf("another encoder: %q, threshold %v; want c, its suggested %v", s.Source, s.Threshold, suggested)
	}
}

// TestVerifyEmbeddingsHugeDim gives the gallery's embeddings a dimension
// whose product with the number of snapshots wraps around to the number
// of values (4 × 2⁶² is 0 in 64 bits): they do not match the gallery,
// as any other wrong size (the product once matched, and face.Templates
// panicked slicing the values, which in wasm kills the page).
func TestVerifyEmbeddingsHugeDim(t *testing.T) {
	s := NewVerifyState()
	in := s.Input
	zero := EncodeCrop(make([]float32, in.Channels*in.Height*in.Width), in.Channels, in.Height, in.Width)
	s.Gallery.Add("alice", zero, zero)
	s.Gallery.Add("bob", zero, zero)
	s.Train()
	s.Receive(stateMsg(msg.StateDone))
	if s.Phase != PhaseEmbedding || len(s.labels) != 4 {
		t.Fatalf("phase %d with %d snapshots, want %d with 4", s.Phase, len(s.labels), PhaseEmbedding)
	}
	s.Receive(embMsg(galleryID(s.gallerySeq), 1<<62, nil))
	if s.Phase != PhaseNone || !strings.Contains(s.Note, "do not match") {
		t.Errorf("phase %d, note %q; want %d and the embeddings refused", s.Phase, s.Note, PhaseNone)
	}
}

// TestVerifyNewModelOfOtherDim loads a model of D = 3 after live scores
// of one of D = 2: the page's last probe is of the old encoder. Before,
// the new gallery's embeddings rescored that probe against the new
// templates, and face.Identify panicked on their lengths (in wasm, the
// page dies); now the scores wait for a probe of the new encoder.
func TestVerifyNewModelOfOtherDim(t *testing.T) {
	s := enrolled()
	third := func(v []float32) []float32 { // D = 3: each row padded with 0
		var out []float32
		for i := 0; i < len(v); i += 2 {
			out = append(out, v[i], v[i+1], 0)
		}
		return out
	}
	runSteps(t, &s, []step{
		{name: "a model of D = 2", do: func(s *VerifyState) Out {
			return s.LoadModel(modelFile(t, face.DefaultInput), nil, "a")
		}, phase: PhaseEmbedding, posts: []string{"load+embed:gallery"}},
		{name: "its gallery", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())) }, phase: PhaseReady},
		{name: "a probe", do: func(s *VerifyState) Out { return okFrame(s, 0) }, phase: PhaseReady, posts: []string{"embed:probe-1"}},
		{name: "its scores", do: func(s *VerifyState) Out { return s.Receive(embMsg("probe-1", 2, []float32{1, 0})) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if !s.HasScore || s.IdentityText() != "alice" {
					t.Fatalf("scores %v, identity %q, want alice", s.HasScore, s.IdentityText())
				}
			}},
		{name: "a model of D = 3", do: func(s *VerifyState) Out {
			return s.LoadModel(modelFile(t, face.DefaultInput), nil, "b")
		}, phase: PhaseEmbedding, posts: []string{"load+embed:gallery"}},
		{name: "its gallery", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 3, third(galleryEmbs()))) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if s.HasScore || s.ScoreText() != "–" || s.IdentityText() != "–" || len(s.Ranked) != 0 {
					t.Errorf("score %q, identity %q, ranking %v: want none before a probe of the new encoder", s.ScoreText(), s.IdentityText(), s.Ranked)
				}
			}},
		{name: "a probe of it", do: func(s *VerifyState) Out { return okFrame(s, 100) }, phase: PhaseReady, posts: []string{"embed:probe-2"}},
		{name: "its scores", do: func(s *VerifyState) Out { return s.Receive(embMsg("probe-2", 3, []float32{0, 1, 0})) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if !s.HasScore || s.IdentityText() != "bob" {
					t.Errorf("scores %v, identity %q, want bob", s.HasScore, s.IdentityText())
				}
			}},
		// Another model of the same D: bob's probe of the model before
		// would be scored in another space (and was, as bob).
		{name: "a model of D = 3 again", do: func(s *VerifyState) Out {
			return s.LoadModel(modelFile(t, face.DefaultInput), nil, "c")
		}, phase: PhaseEmbedding, posts: []string{"load+embed:gallery"}},
		{name: "its gallery", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 3, third(galleryEmbs()))) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if s.HasScore || s.IdentityText() != "–" {
					t.Errorf("scores %v, identity %q: want none before a probe of the new encoder", s.HasScore, s.IdentityText())
				}
			}},
		{name: "a probe", do: func(s *VerifyState) Out { return okFrame(s, 200) }, phase: PhaseReady, posts: []string{"embed:probe-3"}},
		{name: "its scores", do: func(s *VerifyState) Out { return s.Receive(embMsg("probe-3", 3, []float32{1, 0, 0})) }, phase: PhaseReady},
		{name: "an encoder trained here", do: func(s *VerifyState) Out { return s.Train() }, phase: PhaseTraining, posts: []string{"start"},
			check: func(t *testing.T, s *VerifyState) {
				if s.HasScore {
					t.Errorf("score %q of the model before while training", s.ScoreText())
				}
			}},
	})
}

// TestVerifyRestoreEmptyIdentity restores a gallery that IndexedDB kept
// with an identity of no snapshots, as an import stored it before
// UnmarshalGallery refused such files: the gallery comes back without
// that identity. Before, the whole record was refused ("could not be
// read"), the page began with an empty gallery, and its next snapshot was
// stored over the record, losing every enrolled person.
func TestVerifyRestoreEmptyIdentity(t *testing.T) {
	g := NewGallery(1, 32, 32)
	g.Add("ann", EncodeCrop(crop(1, 32, 32), 1, 32, 32), EncodeCrop(crop(1, 32, 32), 1, 32, 32))
	g.Identities = append(g.Identities, Identity{Name: "y"})
	g.Add("bob", EncodeCrop(crop(1, 32, 32), 1, 32, 32))
	s := NewVerifyState()
	s.Restore(string(MarshalGallery(g)), true, nil)
	if got := s.Gallery.Names(); s.Note != "" || !slices.Equal(got, []string{"ann", "bob"}) || s.Gallery.Count() != 3 {
		t.Errorf("restored %q, %d crops, note %q; want ann and bob, 3 crops", got, s.Gallery.Count(), s.Note)
	}
	// A file is still refused (TestGallery).
	if _, err := UnmarshalGallery(MarshalGallery(g)); err == nil || err.Error() != `identity "y" has no snapshots` {
		t.Errorf("import of the file: %v", err)
	}
}

// TestVerifyRestoreUnusableCrops: a gallery that IndexedDB kept with
// crops the page cannot make (1×4×4: a gallery file took sides of 1 to
// 512, the page makes 8 to 256) is not restored, and the note says so
// and why. Before, it was left without a word, and the next snapshot was
// stored over it.
func TestVerifyRestoreUnusableCrops(t *testing.T) {
	g := NewGallery(1, 4, 4)
	g.Add("ann", EncodeCrop(crop(1, 4, 4), 1, 4, 4))
	s := NewVerifyState()
	out := s.Restore(string(MarshalGallery(g)), true, nil)
	want := "the stored gallery was not restored: crops of 1×4×4: want 1 or 3 channels and sides of 8 to 256 pixels" + storedKept
	if s.Note != want || s.Gallery.Count() != 0 || s.Input != face.SnapshotInput || out.Store || len(out.Post) > 0 {
		t.Errorf("note %q, %d crops of %s, out %+v; want note %q and the page's own empty gallery", s.Note, s.Gallery.Count(), ShapeText(s.Input), out, want)
	}
	// An empty record says nothing: there is nothing to restore.
	s = NewVerifyState()
	s.Restore(string(MarshalGallery(NewGallery(1, 4, 4))), true, nil)
	if s.Note != "" {
		t.Errorf("an empty record: note %q", s.Note)
	}
}

// TestVerifyRestoreNotAString: a record that IndexedDB kept which is not
// a string (a number or an object, written by another version of the
// page) is not the gallery, and the note says so, as it does of a string
// that is not a gallery's JSON. Before, it was taken for no gallery
// without a word, and the next snapshot was stored over it.
func TestVerifyRestoreNotAString(t *testing.T) {
	for _, tc := range []struct {
		t    app.Type
		note string
	}{
		{app.TypeNumber, "the stored gallery could not be read: a record of type number, not JSON text" + storedKept},
		{app.TypeObject, "the stored gallery could not be read: a record of type object, not JSON text" + storedKept},
		{app.TypeNull, "the stored gallery could not be read: a record of type null, not JSON text" + storedKept},
		{app.TypeUndefined, ""}, // no record: nothing to say
	} {
		s := NewVerifyState()
		out := s.Restore(storedRecord(record{t: tc.t}))
		if s.Note != tc.note || s.Gallery.Count() != 0 || out.Store || len(out.Post) > 0 {
			t.Errorf("a record of type %s: note %q, %d crops, out %+v; want note %q", tc.t, s.Note, s.Gallery.Count(), out, tc.note)
		}
	}
	// A string is the gallery's JSON, as the page stores it.
	g := NewGallery(1, 32, 32)
	g.Add("ann", EncodeCrop(crop(1, 32, 32), 1, 32, 32))
	s := NewVerifyState()
	s.Restore(storedRecord(record{t: app.TypeString, s: string(MarshalGallery(g))}))
	if s.Note != "" || s.Gallery.Count() != 1 {
		t.Errorf("a string record: note %q, %d crops; want ann's 1", s.Note, s.Gallery.Count())
	}
}

// TestVerifyRestoreRefusedKept: a stored gallery that is not restored
// (not JSON, of a newer version, of crops the page cannot make, a record
// that is not text, one IndexedDB did not give) is not stored over before
// the user records or imports, and then the first store sets it aside
// (Out.Aside) before it writes, as often as it takes one to succeed; the
// note says so, names the key it is kept under, and a record of text can
// be downloaded as it is (UnreadKey). Before, the note said that the
// user's first hold would replace it, and that store wrote over it: the
// people enrolled in it were lost.
func TestVerifyRestoreRefusedKept(t *testing.T) {
	const aside = asidePrefix + "2026-12-06T20:49:31.000Z"
	hold := func(s *VerifyState) Out { s.Record(true); okFrame(s, 0); return s.Record(false) }
	g := NewGallery(1, 4, 4)
	g.Add("ann", EncodeCrop(crop(1, 4, 4), 1, 4, 4))
	newer := NewGallery(1, 32, 32)
	newer.Version = GalleryVersion + 1
	for _, c := range []struct {
		name, data string
		text       bool // a record of text, which can be downloaded
		err        error
	}{
		{name: "not JSON", data: "{", text: true},
		{name: "a newer version", data: string(MarshalGallery(newer)), text: true},
		{name: "crops the page cannot make", data: string(MarshalGallery(g)), text: true},
		{name: "not text", err: func() error { _, _, err := storedRecord(record{t: app.TypeObject}); return err }()},
		{name: "IndexedDB failed", err: errors.New("IndexedDB failed: the database is busy")},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := enrolled()
			s.Gallery = NewGallery(s.Input.Channels, s.Input.Height, s.Input.Width)
			s.SetName("bob")
			if out := s.Restore(c.data, c.err == nil, c.err); out.Store || out.Aside {
				t.Errorf("restore: out %+v, want nothing stored", out)
			}
			if c.err == nil && !strings.HasSuffix(s.Note, "; it is kept: recording or importing a gallery sets it aside in this browser's storage, where the page never writes, rather than replacing it") {
				t.Errorf("note %q, want it to say that recording or importing sets the stored gallery aside", s.Note)
			}
			if want := map[bool]string{true: galleryKey}[c.text]; s.UnreadKey != want {
				t.Errorf("the key to download %q, want %q", s.UnreadKey, want)
			}
			if out := hold(&s); !out.Store || !out.Aside {
				t.Fatalf("a hold: out %+v, want the record set aside, then the gallery stored", out)
			}
			s.Stored("", errors.New("IndexedDB failed: quota exceeded"))
			if out := hold(&s); s.Note != "the gallery could not be stored: IndexedDB failed: quota exceeded" || !out.Store || !out.Aside {
				t.Fatalf("a hold after a store that failed: note %q, out %+v; want the failure said, and the record set aside by the next store", s.Note, out)
			}
			s.Stored(aside, nil)
			want := "the stored gallery that was not restored is set aside in this browser's IndexedDB (database metriclab, store gallery, key " + aside + "), where the page never writes"
			if c.text {
				want += ": Download unread gallery saves it as it is"
			}
			if s.Note != want || s.UnreadKey != map[bool]string{true: aside}[c.text] {
				t.Errorf("set aside: note %q, key to download %q; want note %q", s.Note, s.UnreadKey, want)
			}
			if out := hold(&s); !out.Store || out.Aside {
				t.Errorf("a hold once it is set aside: out %+v, want the gallery stored, nothing set aside", out)
			}
		})
	}
	// No record was there to set aside (IndexedDB failed when the page
	// opened, and held none): the note stays, the next store sets
	// nothing aside.
	s := enrolled()
	s.SetName("bob")
	s.Restore("", false, errors.New("IndexedDB failed: the database is busy"))
	s.Stored("", nil)
	if out := hold(&s); s.Note != "IndexedDB failed: the database is busy" || out.Aside {
		t.Errorf("nothing to set aside: note %q, out %+v; want the note as it was, nothing set aside", s.Note, out)
	}
	// The record unread was gone by the first store (another tab, or
	// the browser's storage cleared): nothing was set aside, and
	// Download unread gallery, which would save the page's own gallery
	// from galleryKey, goes.
	s = enrolled()
	s.SetName("bob")
	s.Restore("{", true, nil)
	hold(&s)
	s.Stored("", nil)
	if s.UnreadKey != "" {
		t.Errorf("no record there to set aside: the key to download %q, want none", s.UnreadKey)
	}
	// A gallery restored is written over, as the page's own.
	g = NewGallery(1, 32, 32)
	g.Add("ann", EncodeCrop(crop(1, 32, 32), 1, 32, 32))
	s = enrolled()
	s.SetName("bob")
	s.Restore(string(MarshalGallery(g)), true, nil)
	if out := hold(&s); !out.Store || out.Aside || s.UnreadKey != "" {
		t.Errorf("a gallery restored, then a hold: out %+v, key to download %q; want it stored over, nothing set aside", out, s.UnreadKey)
	}
}

// TestVerifyStoreWaitsForRestore: a gallery recorded or imported before
// the stored one was read (Restoring, then Restore) is stored once
// Restore has answered, not before, and stays: a record there (of
// people, or one not read) is not restored but set aside by that store,
// and can be downloaded. Before, it was stored at once, over a record the
// page had not read: a gallery of people enrolled was lost, replaced
// without being set aside, or a record restored after the import
// replaced it on the page.
func TestVerifyStoreWaitsForRestore(t *testing.T) {
	const aside = asidePrefix + "2026-12-06T21:40:00.000Z"
	hold := func(s *VerifyState) Out { s.Record(true); okFrame(s, 0); return s.Record(false) }
	file := MarshalGallery(enrolled().Gallery)
	importFile := func(s *VerifyState) Out { return s.Import(ReadGallery(file, nil)) }
	ann := NewGallery(1, 32, 32)
	ann.Add("ann", EncodeCrop(crop(1, 32, 32), 1, 32, 32))
	for _, c := range []struct {
		name   string
		change func(s *VerifyState) Out
		data   string
		err    error
		aside  bool   // the record is set aside by the store
		note   string // after Restore ("": the change's own)
	}{
		{name: "an import, then a gallery", change: importFile, data: string(MarshalGallery(ann)), aside: true,
			note: "the stored gallery, 1 identity, 1 snapshot, was read after you recorded or imported one, and was not restored" + storedKept},
		{name: "a hold, then a gallery", change: hold, data: string(MarshalGallery(ann)), aside: true,
			note: "the stored gallery, 1 identity, 1 snapshot, was read after you recorded or imported one, and was not restored" + storedKept},
		{name: "an import, then a record not read", change: importFile, data: "{", aside: true,
			note: "the stored gallery could not be read: not a gallery file: unexpected end of JSON input" + storedKept},
		{name: "a hold, then none", change: hold},
		{name: "an import, then an empty gallery", change: importFile, data: string(MarshalGallery(NewGallery(1, 32, 32)))},
		{name: "an import, then IndexedDB failed", change: importFile, err: errors.New("IndexedDB failed: the database is busy"), aside: true,
			note: "IndexedDB failed: the database is busy"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := enrolled()
			s.Gallery = NewGallery(s.Input.Channels, s.Input.Height, s.Input.Width)
			s.SetName("bob")
			s.Restoring()
			if out := c.change(&s); out.Store {
				t.Errorf("the change before Restore: out %+v, want nothing stored yet", out)
			}
			changed, note := string(MarshalGallery(s.Gallery)), s.Note
			out := s.Restore(c.data, c.data != "", c.err)
			if !out.Store || out.Aside != c.aside {
				t.Errorf("Restore: out %+v, want the gallery stored, the record set aside %v", out, c.aside)
			}
			if got := string(MarshalGallery(s.Gallery)); got != changed {
				t.Errorf("Restore replaced the gallery changed before it: %.80s…", got)
			}
			if c.note == "" {
				c.note = note
			}
			if s.Note != c.note {
				t.Errorf("note %q, want %q", s.Note, c.note)
			}
			if want := map[bool]string{true: galleryKey}[c.aside && c.err == nil]; s.UnreadKey != want {
				t.Errorf("the key to download %q, want %q", s.UnreadKey, want)
			}
			if !c.aside {
				return
			}
			s.Stored(aside, nil)
			if !strings.Contains(s.Note, "the stored gallery that was not restored is set aside") || (c.err == nil && s.UnreadKey != aside) {
				t.Errorf("set aside: note %q, key to download %q", s.Note, s.UnreadKey)
			}
			if out := hold(&s); !out.Store || out.Aside {
				t.Errorf("a hold once it is set aside: out %+v, want the gallery stored, nothing set aside", out)
			}
		})
	}
	// Nothing changed before Restore: the gallery is restored, not
	// stored, and the next change stored as ever.
	s := enrolled()
	s.Gallery = NewGallery(s.Input.Channels, s.Input.Height, s.Input.Width)
	s.SetName("bob")
	s.Restoring()
	if out := s.Restore(string(MarshalGallery(ann)), true, nil); out.Store || s.Gallery.Count() != 1 {
		t.Errorf("Restore with no change before it: out %+v, %d snapshots; want the gallery restored, nothing stored", out, s.Gallery.Count())
	}
	if out := hold(&s); !out.Store || out.Aside || s.Gallery.Count() != 2 {
		t.Errorf("a hold after Restore: out %+v, %d snapshots; want it stored, nothing set aside", out, s.Gallery.Count())
	}
}

// TestVerifyDownloadUnreadWhileSettingAside: Download unread gallery
// reads no key (DownloadKey "") while a store that sets the record aside
// is in flight, as that store may have written the page's gallery at
// galleryKey by the time the download reads it; once every such store
// has failed it reads galleryKey again, once one has set the record
// aside the key it is kept under. Before, it read galleryKey until the
// store's answer, and a click meanwhile saved the page's own gallery as
// the unread one.
func TestVerifyDownloadUnreadWhileSettingAside(t *testing.T) {
	const aside = asidePrefix + "2026-12-06T21:40:00.000Z"
	hold := func(s *VerifyState) Out { s.Record(true); okFrame(s, 0); return s.Record(false) }
	s := enrolled()
	s.SetName("bob")
	s.Restore("{", true, nil)
	for _, st := range []struct {
		name string
		do   func()
		want string
	}{
		{"restored", func() {}, galleryKey},
		{"a hold: its store sets the record aside", func() { hold(&s) }, ""},
		{"another hold, before that store answered", func() { hold(&s) }, ""},
		{"the first store failed, the second is in flight", func() { s.Stored("", errors.New("IndexedDB failed: quota exceeded")) }, ""},
		{"both failed: the record is at galleryKey", func() { s.Stored("", errors.New("IndexedDB failed: quota exceeded")) }, galleryKey},
		{"a third hold", func() { hold(&s) }, ""},
		{"its store set the record aside", func() { s.Stored(aside, nil) }, aside},
		{"a hold after it", func() { hold(&s) }, aside},
	} {
		st.do()
		if got := s.DownloadKey(); got != st.want {
			t.Errorf("%s: the key to download %q, want %q", st.name, got, st.want)
		}
	}
}

// record is a value IndexedDB gave, of type t (its text s, for a string).
type record struct {
	app.Value
	t app.Type
	s string
}

func (r record) Type() app.Type { return r.t }
func (r record) String() string { return r.s }

// TestVerifyUploadNamesItsDataset: the data set field stays editable
// while a gallery is sent, and the page sends to the one it started with;
// the note of the upload names that one, not the one typed meanwhile.
func TestVerifyUploadNamesItsDataset(t *testing.T) {
	s := NewVerifyState()
	other := crop(1, 32, 32)
	other[0] = 1 // a snapshot of its own: a copy would be sent once
	s.Gallery.Add("ann", EncodeCrop(crop(1, 32, 32), 1, 32, 32), EncodeCrop(other, 1, 32, 32))
	s.SetDataset("webcam")
	if _, err := s.StartUpload(); err != nil {
		t.Fatal(err)
	}
	s.SetDataset("faces")
	s.Uploaded(1, 1, errors.New("the server's disk is full: nothing was stored (free some space on it, then try again) (507)"))
	if want := "sent 1 of 2 snapshots to data set webcam: the server's disk is full: nothing was stored (free some space on it, then try again) (507). Send again to send the other 1: those it holds are not stored twice"; s.UploadNote != want {
		t.Errorf("note %q, want %q", s.UploadNote, want)
	}
}

// TestVerifyUnreadMessage: a message of the worker that the browser could
// not deserialise may have been the pending probe's answer: the note says
// so, and the next good frame is probed. Before, the page waited for that
// answer for good and the live scores stopped.
func TestVerifyUnreadMessage(t *testing.T) {
	s := readyState(t) // probe 1 is pending
	s.Unread(errUnreadMessage)
	if s.Note != errUnreadMessage.Error() {
		t.Errorf("note %q, want %q", s.Note, errUnreadMessage)
	}
	if got := sampleShapes(t, okFrame(&s, 1000)); len(got) != 1 {
		t.Errorf("after an unread message the next frame posted %v, want probe 2", got)
	}
}

// posted returns the op and the ID of each command of out, and the model
// file of its loads.
func posted(t *testing.T, out Out) (ops []string, model []byte) {
	t.Helper()
	for _, p := range out.Post {
		var m msg.Message
		if err := json.Unmarshal([]byte(p), &m); err != nil || m.Command == nil {
			t.Fatalf("posted %.80s…: %v", p, err)
		}
		ops = append(ops, m.Command.Op+":"+m.Command.ID)
		if m.Command.Op == msg.OpLoad {
			model = m.Command.Model
		}
	}
	return ops, model
}

// TestVerifyUnreadGallery: a message of the worker that the browser could
// not deserialise, while the gallery is embedded, may have been its
// embeddings: the gallery is embedded again under the next number, and
// the answer or the refusal of the one before, should it come late, is
// dropped; while a load embeds it, the load is sent again, with the same
// file, and a late answer of the first is dropped too. Before, the page
// could not ask again (a late answer would be taken for the second), and
// stayed "embedding the enrollments…" until reloaded. So is a load with
// nothing to embed, which the worker answers with the state idle of its
// number. Before, that state had no number: the load was not sent again,
// and the note said to reload should the page stay busy.
func TestVerifyUnreadGallery(t *testing.T) {
	s := readyWith(t, face.Input{Channels: 1, Height: 48, Width: 48}) // gallery-1
	if got, _ := posted(t, hold(&s, "carol", 3)); !slices.Contains(got, "embed:gallery-2") {
		t.Fatalf("carol's hold posted %q, want embed:gallery-2 among them", got)
	}
	if got, _ := posted(t, s.Unread(errUnreadMessage)); !slices.Equal(got, []string{"embed:gallery-3"}) || s.Note != errUnreadMessage.Error() {
		t.Fatalf("an unread message while embedding: posted %q, note %q; want embed:gallery-3 and the error", got, s.Note)
	}
	carol := append(galleryEmbs(), 1, 0, 1, 0, 1, 0)
	s.Receive(embMsg(galleryID(2), 2, carol))
	s.Receive(refusedMsg(galleryID(2), "overflow"))
	if s.Phase != PhaseEmbedding || !s.hasEncoder {
		t.Fatalf("gallery-2's late answers: phase %v, encoder %v; want embedding with the encoder", s.Phase, s.hasEncoder)
	}
	s.Receive(embMsg(galleryID(3), 2, carol))
	if s.Phase != PhaseReady || len(s.Names) != 3 {
		t.Errorf("gallery-3's answer: phase %v, names %q; want ready with carol", s.Phase, s.Names)
	}

	s = enrolled()
	file := modelFile(t, face.DefaultInput)
	s.LoadModel(file, nil, "m") // load and embed gallery-1
	got, model := posted(t, s.Unread(errUnreadMessage))
	if !slices.Equal(got, []string{"load:gallery-2"}) || !bytes.Equal(model, file) {
		t.Fatalf("an unread message while a load embeds: posted %q with %d bytes; want load:gallery-2 with the file's %d", got, len(model), len(file))
	}
	s.Receive(refusedMsg(galleryID(1), "the model could not be loaded"))
	if !s.Busy() || s.unloaded == nil {
		t.Fatalf("the first load's late refusal: busy %v; want the second load awaited", s.Busy())
	}
	s.Receive(embMsg(galleryID(2), 2, galleryEmbs()))
	if s.Phase != PhaseReady || s.Busy() || s.Source != "m" {
		t.Errorf("the second load's answer: phase %v, busy %v, source %q; want ready with m", s.Phase, s.Busy(), s.Source)
	}

	s = NewVerifyState()
	s.LoadModel(file, nil, "m") // gallery-1: nothing to embed, answered by the state idle
	got, model = posted(t, s.Unread(errUnreadMessage))
	if !slices.Equal(got, []string{"load:gallery-2"}) || !bytes.Equal(model, file) || s.Note != errUnreadMessage.Error() {
		t.Fatalf("an unread message while a load without gallery waits: posted %q with %d bytes, note %q; want load:gallery-2 with the file's %d, the error",
			got, len(model), s.Note, len(file))
	}
	s.Receive(refusedMsg(galleryID(1), "the model could not be loaded"))
	s.Receive(loadedMsg(galleryID(1)))
	if !s.Busy() || s.unloaded == nil {
		t.Fatalf("the first load's late answers: busy %v; want the second load awaited", s.Busy())
	}
	s.Receive(loadedMsg(galleryID(2)))
	if s.Busy() || !s.hasEncoder || s.Source != "m" {
		t.Errorf("the second load's answer: busy %v, encoder %v, source %q; want m loaded", s.Busy(), s.hasEncoder, s.Source)
	}
}

// TestVerifyUnreadGalleryAsksOnce: a worker whose every answer the page
// cannot read (of another schema version: a trainer.wasm of another
// build, say) makes the gallery's embed, or the load that embeds it,
// sent again once; the answer to that unread too, the page stops asking
// and the note says to reload. Before, each unread answer sent it again,
// the model file with a load, for as long as the page stayed open.
func TestVerifyUnreadGalleryAsksOnce(t *testing.T) {
	const other = `{"v":99,"type":"error","trainer":"verify","error":"message of schema version 1, this trainer reads 99"}`
	file := modelFile(t, face.DefaultInput)
	for _, c := range []struct {
		name  string
		start func() VerifyState
	}{
		{"a load that embeds the gallery", func() VerifyState {
			s := enrolled()
			s.LoadModel(file, nil, "m")
			return s
		}},
		{"the gallery's embed", func() VerifyState {
			s := readyWith(t, face.DefaultInput)
			hold(&s, "carol", 3)
			return s
		}},
		{"a load with nothing to embed", func() VerifyState {
			s := NewVerifyState()
			s.LoadModel(file, nil, "m")
			return s
		}},
	} {
		s := c.start()
		var sent []string
		for range 5 {
			got, _ := posted(t, s.Receive(other))
			sent = append(sent, got...)
		}
		if len(sent) != 1 || !strings.HasSuffix(s.Note, "; if the page stays busy, it was the answer it waits for: reload the page") {
			t.Errorf("%s, every answer unread: sent again %q, note %q; want it sent again once, then to reload", c.name, sent, s.Note)
		}
	}
}

// TestVerifyUnreadLoadEmptied: a load sent again by Unread when its
// gallery was emptied meanwhile embeds nothing; a late refusal of the
// load before, which embedded the gallery, is still of one asked again,
// and dropped, and the page takes the refusal of the second for the
// load's, keeping its encoder as the worker keeps its. Before,
// the gallery's number did not move for an embed of nothing: the late
// refusal was taken for the load's, and the second's for the failure of
// the encoder, which the page dropped.
func TestVerifyUnreadLoadEmptied(t *testing.T) {
	s := readyWith(t, face.DefaultInput)
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "m2") // load:gallery-2
	for len(s.Gallery.Identities) > 0 {
		s.DeleteCrop(0, 0)
	}
	if got, _ := posted(t, s.Unread(errUnreadMessage)); !slices.Equal(got, []string{"load:gallery-3"}) {
		t.Fatalf("an unread message while a load of an emptied gallery waits: posted %q, want the load without a gallery", got)
	}
	s.Receive(refusedMsg(galleryID(2), "the model could not be loaded"))
	s.Receive(refusedMsg(galleryID(3), "the model could not be loaded"))
	if !s.hasEncoder || s.Busy() || s.Source != "m" || s.Run.State == msg.StateFailed {
		t.Errorf("both loads refused: encoder %v, busy %v, source %q, run %s; want m kept, not busy", s.hasEncoder, s.Busy(), s.Source, s.Run.State)
	}
}

// TestVerifyUnreadReady: a new worker's first message, the state idle
// that says it listens, is that message however it comes: when the
// browser could not deserialise it (Unread), the state idle after it is
// the answer of a load posted meanwhile, which took (Unread sent it again:
// the first's answer is dropped, the second's taken). Before, Unread left
// the page waiting for the first message, the load's answer was taken
// for it, and the page stayed busy.
func TestVerifyUnreadReady(t *testing.T) {
	s := NewVerifyState() // nothing to embed: the load's answer is the state idle
	s.WorkerStarted()
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "m")
	s.Unread(errUnreadMessage) // the worker's first message
	s.Receive(loadedMsg(galleryID(1)))
	s.Receive(loadedMsg(galleryID(2)))
	if s.Busy() || !s.hasEncoder || s.Source != "m" {
		t.Errorf("the load's answer after the first message unread: busy %v, encoder %v, source %q; want m loaded", s.Busy(), s.hasEncoder, s.Source)
	}
}

// TestVerifyProbeAnswerJSONUnreadable: a probe's answer whose JSON the
// page cannot read (a dim of another type, from a worker of another
// version) is a message it could not read, as Unread's: the next good
// frame is probed. Before, DecodeEmbeddings' error only set the note (its
// ok is false when the JSON fails), and the probe waited for good.
func TestVerifyProbeAnswerJSONUnreadable(t *testing.T) {
	s := readyState(t) // probe 1 is pending
	s.Receive(`{"v":1,"type":"embeddings","embeddings":{"id":"probe-1","dim":"x"}}`)
	if !strings.HasPrefix(s.Note, "app: bad message from the trainer: json: ") {
		t.Errorf("note %q, want the JSON error", s.Note)
	}
	if got := sampleShapes(t, okFrame(&s, 1000)); len(got) != 1 {
		t.Errorf("after an unreadable probe answer the next frame posted %v, want probe 2", got)
	}
}

// TestVerifyEmbeddingsUnreadable: an embeddings answer the page cannot
// read (no whole N×D values) ends the embed it answers, with a note: the
// gallery's leaves the page without templates, not busy, as embeddings
// that do not match the gallery do; a probe's lets the next good frame be
// probed. Before, the gallery's kept the encoder "embedding the
// enrollments…" for good (Train and the loads waiting on it), and a
// probe's stopped the live scores.
func TestVerifyEmbeddingsUnreadable(t *testing.T) {
	s := readyState(t) // probe 1 is pending
	s.Receive(embMsg("probe-1", 0, []float32{1}))
	if s.Note == "" {
		t.Error("an unreadable probe answer: no note")
	}
	if got := sampleShapes(t, okFrame(&s, 1000)); len(got) != 1 {
		t.Errorf("after an unreadable probe answer the next frame posted %v, want probe 2", got)
	}

	s = enrolled()
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "small")
	if s.Phase != PhaseEmbedding {
		t.Fatalf("phase %v, want embedding", s.Phase)
	}
	s.Receive(embMsg(galleryID(s.gallerySeq), 3, []float32{1, 0}))
	if s.Busy() || s.Phase != PhaseNone || s.Note == "" || !s.CanTrain(true) {
		t.Errorf("an unreadable gallery answer: phase %v, busy %v, note %q; want no encoder phase, not busy, a note", s.Phase, s.Busy(), s.Note)
	}
}

// TestVerifyGalleryChangedWhileFetching: a gallery changed while a
// server model is fetched (bob deleted) is embedded again by the encoder
// that stays when the model is not loaded: the fetch failed, or the
// worker refused the model. Before, the change was not noted while the
// phase was loading, and the encoder stayed ready with templates of the
// gallery before: bob still listed and still answered by 1:k.
func TestVerifyGalleryChangedWhileFetching(t *testing.T) {
	deleteBob := func(s *VerifyState) Out {
		var out Out
		for range 3 {
			out = out.and(s.DeleteCrop(1, 0))
		}
		return out
	}
	aliceOnly := func(t *testing.T, s *VerifyState) {
		if !slices.Equal(s.Names, []string{"alice"}) {
			t.Errorf("names %q, want alice alone", s.Names)
		}
	}
	for _, c := range []struct {
		name    string
		fetched func(s *VerifyState) Out
		posts   []string
	}{
		{"the fetch fails", func(s *VerifyState) Out {
			return s.ModelFetched(nil, errors.New("not found (404)"), "server model m1")
		}, []string{"embed:gallery"}},
		{"the worker refuses the model", func(s *VerifyState) Out {
			if out := s.ModelFetched(modelFile(t, face.DefaultInput), nil, "server model m1"); !slices.Equal(ops(t, out), []string{"load+embed:gallery"}) {
				t.Fatalf("posted %v, want the load", ops(t, out))
			}
			return s.Receive(refusedMsg(galleryID(s.gallerySeq), "the model could not be loaded: bad"))
		}, []string{"embed:gallery"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := enrolled()
			s.SetModels([]msg.ModelCard{{ID: "m1"}}, nil)
			runSteps(t, &s, []step{
				{name: "train", do: (*VerifyState).Train, phase: PhaseTraining, posts: []string{"start"}},
				{name: "trainer done", do: func(s *VerifyState) Out { return s.Receive(stateMsg(msg.StateDone)) }, phase: PhaseEmbedding, posts: []string{"embed:gallery", "export"}},
				{name: "the gallery's embeddings", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())) }, phase: PhaseReady},
				{name: "fetch m1", do: func(s *VerifyState) Out { s.FetchModel(); return Out{} }, phase: PhaseLoading},
				{name: "bob deleted meanwhile", do: deleteBob, phase: PhaseLoading, store: true},
				{name: c.name, do: c.fetched, phase: PhaseEmbedding, posts: c.posts},
				{name: "the gallery's embeddings", do: func(s *VerifyState) Out {
					return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()[:6]))
				}, phase: PhaseReady, check: aliceOnly},
			})
		})
	}
}

// TestVerifyScoresWhileFetching: while a server model's file is fetched,
// the encoder before still scores frames, as the worker holds it until
// the file arrives; a probe answered once the load began is of that
// encoder, not the new one, and is dropped; a gallery changed during the
// fetch stops the scores, its templates being of the gallery before.
// Before, the live scores stopped for the whole fetch.
func TestVerifyScoresWhileFetching(t *testing.T) {
	ready := func(t *testing.T) VerifyState {
		s := enrolled()
		s.SetModels([]msg.ModelCard{{ID: "m1"}}, nil)
		runSteps(t, &s, []step{
			{name: "train", do: (*VerifyState).Train, phase: PhaseTraining, posts: []string{"start"}},
			{name: "trainer done", do: func(s *VerifyState) Out { return s.Receive(stateMsg(msg.StateDone)) }, phase: PhaseEmbedding, posts: []string{"embed:gallery", "export"}},
			{name: "the gallery's embeddings", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())) }, phase: PhaseReady},
			{name: "fetch m1", do: func(s *VerifyState) Out { s.FetchModel(); return Out{} }, phase: PhaseLoading},
		})
		return s
	}
	scored := func(n int, identity string) func(t *testing.T, s *VerifyState) {
		return func(t *testing.T, s *VerifyState) {
			if s.Scored != n || s.IdentityText() != identity {
				t.Errorf("scores of probe %d, identity %q; want probe %d, %q", s.Scored, s.IdentityText(), n, identity)
			}
		}
	}
	s := ready(t)
	runSteps(t, &s, []step{
		{name: "a frame during the fetch: probe 1", do: func(s *VerifyState) Out { return okFrame(s, 10) }, phase: PhaseLoading, posts: []string{"embed:probe-1"}},
		{name: "probe 1 at 0°", do: func(s *VerifyState) Out { return s.Receive(embMsg("probe-1", 2, []float32{1, 0})) }, phase: PhaseLoading, check: scored(1, "alice")},
		{name: "probe 2", do: func(s *VerifyState) Out { return okFrame(s, 20) }, phase: PhaseLoading, posts: []string{"embed:probe-2"}},
		{name: "the file arrives: loaded", do: func(s *VerifyState) Out {
			return s.ModelFetched(modelFileOf(t, "lenet-s", face.DefaultInput), nil, "server model m1")
		}, phase: PhaseEmbedding, posts: []string{"load+embed:gallery"}},
		{name: "probe 2's answer, of the encoder before, is dropped", do: func(s *VerifyState) Out {
			return s.Receive(embMsg("probe-2", 2, []float32{0, 1}))
		}, phase: PhaseEmbedding, check: func(t *testing.T, s *VerifyState) {
			if s.HasScore || s.Scored != 0 {
				t.Errorf("scores shown (of probe %d) after the load began", s.Scored)
			}
		}},
	})
	s = ready(t)
	runSteps(t, &s, []step{
		{name: "probe 1 during the fetch", do: func(s *VerifyState) Out { return okFrame(s, 10) }, phase: PhaseLoading, posts: []string{"embed:probe-1"}},
		{name: "the fetch fails: the encoder stays", do: func(s *VerifyState) Out {
			return s.ModelFetched(nil, errors.New("not found (404)"), "server model m1")
		}, phase: PhaseReady},
		{name: "probe 1 at 90°, of that encoder", do: func(s *VerifyState) Out { return s.Receive(embMsg("probe-1", 2, []float32{0, 1})) }, phase: PhaseReady, check: scored(1, "bob")},
	})
	s = ready(t)
	runSteps(t, &s, []step{
		{name: "bob deleted during the fetch", do: func(s *VerifyState) Out { return s.DeleteCrop(1, 0) }, phase: PhaseLoading, store: true},
		{name: "a frame: no probe against the templates before", do: func(s *VerifyState) Out { return okFrame(s, 10) }, phase: PhaseLoading},
		{name: "the fetch fails: the gallery embedded again", do: func(s *VerifyState) Out {
			return s.ModelFetched(nil, errors.New("not found (404)"), "server model m1")
		}, phase: PhaseEmbedding, posts: []string{"embed:gallery"}},
	})
}

// TestVerifyWorkerStoppedDuringLoad: the worker's Go program stops (out
// of memory, say) while it loads a model: web/trainer.js answers with an
// error of no ID, then the state failed, and the page is left without an
// encoder, as when it stops at any other time. Before, that error was
// taken for the worker's refusal of the model, which keeps the encoder
// before: the page said "ready" with an encoder the dead worker no longer
// held, until a probe or an enrollment was refused.
func TestVerifyWorkerStoppedDuringLoad(t *testing.T) {
	const stopped = "trainer.wasm stopped: out of memory"
	for _, c := range []struct {
		name   string
		before func(t *testing.T, s *VerifyState) // an encoder, then the load
	}{
		{"a ready encoder", func(t *testing.T, s *VerifyState) {
			s.Train()
			s.Receive(stateMsg(msg.StateDone))
			s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
			if s.Phase != PhaseReady {
				t.Fatalf("phase %d, want ready", s.Phase)
			}
			s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file b.safetensors")
		}},
		{"a model loaded with nothing enrolled", func(t *testing.T, s *VerifyState) {
			*s = NewVerifyState()
			s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file a.safetensors")
			s.Receive(loadedMsg(galleryID(s.gallerySeq)))
			if !s.hasEncoder || s.Busy() {
				t.Fatalf("encoder %v, busy %v; want a, loaded", s.hasEncoder, s.Busy())
			}
			s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file b.safetensors")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := enrolled()
			c.before(t, &s)
			if s.unloaded == nil {
				t.Fatal("no load pending")
			}
			s.Receive(`{"v":1,"type":"error","trainer":"verify","error":"` + stopped + `"}`)
			s.Receive(stateMsg(msg.StateFailed))
			if s.Phase != PhaseNone || s.hasEncoder || s.Busy() || s.TrainStatus() != "failed: "+stopped {
				t.Errorf("phase %d, encoder %v, busy %v, status %q; want none, none, not busy, failed: %s",
					s.Phase, s.hasEncoder, s.Busy(), s.TrainStatus(), stopped)
			}
			if out := s.Import(ReadGallery(MarshalGallery(enrolled().Gallery), nil)); len(out.Post) != 0 {
				t.Errorf("a gallery imported then posts %v to a worker without an encoder", ops(t, out))
			}
		})
	}
}

// TestVerifyModelLinkNoteOneLine: a link's ?model= is anyone's text (of
// megabytes, with line breaks, with a right-to-left override that shows
// the rest of the line reversed), which the model note quotes when the
// server has no such model, or when the fetch comes back after a crash
// while a training is under way: the note is one line of at most
// msg.MaxErrorRunes characters (msg.ErrorLine), as those that quote a
// file's words are. Before, it quoted the id whole.
func TestVerifyModelLinkNoteOneLine(t *testing.T) {
	id := "m\n\u202e" + strings.Repeat("x", 5000)
	oneLine := func(t *testing.T, note, start string) {
		t.Helper()
		if !strings.HasPrefix(note, start) || utf8.RuneCountInString(note) > msg.MaxErrorRunes || strings.ContainsFunc(note, unicode.IsControl) || strings.ContainsRune(note, '\u202e') {
			t.Errorf("note %.400q (%d characters), want one line of at most %d characters that starts %q", note, utf8.RuneCountInString(note), msg.MaxErrorRunes, start)
		}
	}
	s := enrolled()
	s.SelectModel(id)
	s.FetchModel()
	s.ModelFetched(nil, errors.New("not found (404)"), "server model "+s.ModelName(id))
	oneLine(t, s.ModelNote, "server model m  xxx")

	s.FetchModel()
	s.Crash("out of memory")
	s.Train()
	s.ModelFetched(nil, errors.New("not found (404)"), "server model "+s.ModelName(id))
	oneLine(t, s.ModelNote, "server model m  xxx")
}

// TestVerifyUnreadTraining: a message of the worker that the page cannot
// read during a training may have been its end (the state done, or its
// failure), which the page cannot ask for again: the note says to reload
// the page should it stay training, as it says while the gallery is
// embedded. Before, it said only that a message was unread, and the page
// stayed "training" for good when that was the end.
func TestVerifyUnreadTraining(t *testing.T) {
	s := enrolled()
	s.Train()
	if out := s.Unread(errUnreadMessage); len(out.Post) != 0 || s.Phase != PhaseTraining {
		t.Fatalf("posted %d, phase %d; want nothing, training", len(out.Post), s.Phase)
	}
	if want := errUnreadMessage.Error() + "; if the page stays busy, it was the answer it waits for: reload the page"; s.Note != want {
		t.Errorf("note %q, want %q", s.Note, want)
	}
}

// TestVerifyUnreadLoadRefusedGalleryChanged: carol enrolls while a load
// waits, the worker refuses the load and the page cannot read that
// answer (Unread): the load is sent again with the gallery as it is now,
// and refused again, and the encoder put back embeds the gallery with
// carol. Before, sending the load again forgot that the gallery had
// changed since the put-back encoder's templates were made: it stayed
// ready without carol.
func TestVerifyUnreadLoadRefusedGalleryChanged(t *testing.T) {
	s := readyWith(t, face.DefaultInput)
	runSteps(t, &s, []step{
		{name: "a model file", do: func(s *VerifyState) Out {
			return s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file bad.safetensors")
		}, phase: PhaseEmbedding, posts: []string{"load+embed:gallery"}},
		{name: "carol enrolls while the load waits", do: func(s *VerifyState) Out { return hold(s, "carol", 3) }, phase: PhaseEmbedding, store: true},
		{name: "the refusal, unread", do: func(s *VerifyState) Out { return s.Unread(errUnreadMessage) }, phase: PhaseEmbedding, posts: []string{"load+embed:gallery"}},
		{name: "the refusal of the load sent again", do: func(s *VerifyState) Out {
			return s.Receive(refusedMsg(galleryID(s.gallerySeq), "the model could not be loaded: bad"))
		}, phase: PhaseEmbedding, posts: []string{"embed:gallery"}},
		{name: "the gallery with carol", do: func(s *VerifyState) Out {
			return s.Receive(embMsg(galleryID(s.gallerySeq), 2, append(galleryEmbs(), 1, 0, 1, 0, 1, 0)))
		}, phase: PhaseReady, check: func(t *testing.T, s *VerifyState) {
			if !slices.Equal(s.Names, []string{"alice", "bob", "carol"}) || s.Source != "m" {
				t.Errorf("names %q, source %q; want carol too, with m", s.Names, s.Source)
			}
		}},
	})
}

// TestVerifyGalleryEmptiedWhileLoading: everyone deleted while a server
// model is fetched or a model file loads, and the model not loaded (the
// fetch failed, the worker refused it): the encoder that stays has
// nothing to verify against, and the model note still says why the
// model was not loaded. Before, the note was replaced by the one of a
// model loaded with nothing enrolled, "the model is loaded: enroll
// someone to verify against", of the model that was not.
func TestVerifyGalleryEmptiedWhileLoading(t *testing.T) {
	deleteAll := func(s *VerifyState) {
		for len(s.Gallery.Identities) > 0 {
			s.DeleteCrop(0, 0)
		}
	}
	for _, c := range []struct {
		name string
		load func(t *testing.T, s *VerifyState)
		note string
	}{
		{"the fetch fails", func(t *testing.T, s *VerifyState) {
			s.SetModels([]msg.ModelCard{{ID: "m1"}}, nil)
			s.FetchModel()
			deleteAll(s)
			s.ModelFetched(nil, errors.New("not found (404)"), "server model m1")
		}, "server model m1 could not be read: not found (404)"},
		{"the worker refuses the model", func(t *testing.T, s *VerifyState) {
			s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file bad.safetensors")
			deleteAll(s)
			s.Receive(refusedMsg(galleryID(s.gallerySeq), "the model could not be loaded: bad"))
		}, "model file bad.safetensors could not be loaded: bad"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := readyWith(t, face.DefaultInput)
			c.load(t, &s)
			if s.Phase != PhaseNone || !s.hasEncoder || s.Busy() || s.Source != "m" || s.ModelNote != c.note {
				t.Errorf("phase %d, encoder %v (%q), busy %v, model note %q; want none, m kept, not busy, %q", s.Phase, s.hasEncoder, s.Source, s.Busy(), s.ModelNote, c.note)
			}
		})
	}
}

// TestVerifyModelRefusedNamed: a model the worker refuses is named in the
// model note, as the page's own refusals name it, beside #train-status
// naming the encoder that stays. Before, the note was the worker's "the
// model could not be loaded: unknown loss", which, under "ready: model
// file m.safetensors", read as of the model in use.
func TestVerifyModelRefusedNamed(t *testing.T) {
	s := readyWith(t, face.DefaultInput)
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file bad.safetensors")
	s.Receive(refusedMsg(galleryID(s.gallerySeq), "the model could not be loaded: unknown loss x"))
	if want := "model file bad.safetensors could not be loaded: unknown loss x"; s.ModelNote != want || s.Source != "m" {
		t.Errorf("a file refused: model note %q, encoder %q; want %q, m kept", s.ModelNote, s.Source, want)
	}
	s.SetModels([]msg.ModelCard{{ID: "m1"}}, nil)
	s.FetchModel()
	s.ModelFetched(modelFile(t, face.DefaultInput), nil, "server model m1")
	s.Receive(refusedMsg(galleryID(s.gallerySeq), "too many commands waiting; dropped one"))
	if want := "server model m1 could not be loaded: too many commands waiting; dropped one"; s.ModelNote != want || s.Source != "m" {
		t.Errorf("a server model refused: model note %q, encoder %q; want %q, m kept", s.ModelNote, s.Source, want)
	}
}

// TestVerifyFARWhileEmbedding: a move of the FAR slider that the page
// handles after an import changed the gallery (the file is read while the
// slider moves; the slider goes once the page is drawn again) comes while
// the new gallery is embedded, with the embeddings of the old one: the
// false accept rate is kept for the new calibration. Before, the old
// embeddings were calibrated with the new gallery's labels, and
// face.Calibrate panicked, which ends the page.
func TestVerifyFARWhileEmbedding(t *testing.T) {
	s := readyState(t)
	g := NewGallery(s.Input.Channels, s.Input.Height, s.Input.Width)
	crop := EncodeCrop(make([]float32, s.Input.Size()), s.Input.Channels, s.Input.Height, s.Input.Width)
	g.Add("carol", crop, crop)
	g.Add("dan", crop, crop)
	if s.Import(ReadGallery(MarshalGallery(g), nil)); s.Phase != PhaseEmbedding {
		t.Fatalf("phase %d, want embedding", s.Phase)
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("SetFAR while embedding panicked: %v", p)
			}
		}()
		s.SetFAR(0.05)
	}()
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, []float32{1, 0, 1, 0, 0, 1, 0, 1}))
	if s.Phase != PhaseReady || s.FAR != 0.05 || len(s.Calib.Genuine) != 4 {
		t.Errorf("phase %d, FAR %g, %d genuine scores; want ready, 0.05, 4", s.Phase, s.FAR, len(s.Calib.Genuine))
	}
}

// TestVerifyDeleteStaleClick: a click on a thumbnail names its snapshot
// by identity and crop, as it was drawn. A second click on bob's only
// snapshot, handled before the page drew the gallery again, deletes
// nothing; one on alice's second snapshot after her first went deletes
// that one. Clicks named the snapshot by its place: the second click's
// place was gone (Gallery.Delete panicked, which stops the page), and a
// place after a deletion is another snapshot's.
func TestVerifyDeleteStaleClick(t *testing.T) {
	s := NewVerifyState()
	a1 := EncodeCrop(crop(1, 32, 32), 1, 32, 32)
	a2 := EncodeCrop(make([]float32, 32*32), 1, 32, 32)
	s.Gallery.Add("alice", a1, a2)
	b := EncodeCrop(crop(1, 32, 32), 1, 32, 32)
	s.Gallery.Add("bob", b)
	s.DeleteSnapshot("bob", b)
	s.DeleteSnapshot("bob", b) // the same thumbnail, before a redraw
	s.DeleteSnapshot("alice", a1)
	s.DeleteSnapshot("alice", a2) // drawn as alice's second
	if n := s.Gallery.Count(); n != 0 {
		t.Errorf("after deleting each snapshot once, one clicked twice: %d left (%v), want none", n, s.Gallery.Names())
	}
	s.Gallery.Add("alice", a1, a2)
	grey := make([]float32, 32*32)
	for i := range grey {
		grey[i] = 0.5
	}
	s.DeleteSnapshot("alice", EncodeCrop(grey, 1, 32, 32)) // of none
	if got := s.Gallery.Identities; len(got) != 1 || !slices.Equal(got[0].Crops, []string{a1, a2}) {
		t.Errorf("a click on a snapshot no longer there: gallery %d identities, want alice's two crops kept", len(got))
	}
}

// TestVerifyDeletedAgain: a deletion of a gallery set aside that failed
// says so in the note, and one of the same key that succeeds after it
// takes that note away; another key's deletion leaves it. Before, the
// note went on saying the record could not be deleted once its row had
// gone.
func TestVerifyDeletedAgain(t *testing.T) {
	const a, b = asidePrefix + "2026-12-05T10:00:00.000Z", asidePrefix + "2026-12-06T09:00:00.000Z"
	s := NewVerifyState()
	s.Listed([]string{a, b})
	s.Deleted(a, errors.New("IndexedDB failed: quota exceeded"))
	s.Deleted(b, nil)
	if want := a + " could not be deleted: IndexedDB failed: quota exceeded"; s.Note != want {
		t.Errorf("%s failed, then %s deleted: note %q, want %q", a, b, s.Note, want)
	}
	s.Deleted(a, nil)
	if s.Note != "" || len(s.Aside) != 0 {
		t.Errorf("%s deleted once it had failed: note %q, listed %q; want no note, none listed", a, s.Note, s.Aside)
	}
}

// TestVerifyStatusEncoderKept: #train-status of an encoder the page keeps
// with no one to verify against (a model loaded before anyone enrolled,
// or every snapshot deleted since) names it, as ModelNote does, rather
// than saying there is none; and one identity ready is "1 identity".
// Before, it said "no encoder: enroll two identities or more, then
// train; or load a model" beside "the model is loaded", and "1
// identities". So too an encoder kept with people enrolled whose
// embeddings of them the page could not take (values it cannot read,
// or not of the gallery): it said "no encoder: train one on the
// enrollments, or load a model", which a new snapshot would belie by
// embedding them with it.
func TestVerifyStatusEncoderKept(t *testing.T) {
	s := NewVerifyState()
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file x.safetensors")
	if got, want := s.TrainStatus(), "loading the model…"; got != want {
		t.Errorf("a model loading, no one enrolled: status %q, want %q", got, want)
	}
	s.Receive(stateMsg(msg.StateIdle))
	if got, want := s.TrainStatus(), "encoder: model file x.safetensors; enroll someone to verify against"; got != want || !s.hasEncoder {
		t.Errorf("a model loaded, no one enrolled: status %q, want %q", got, want)
	}

	s = enrolled()
	runSteps(t, &s, []step{
		{name: "train", do: (*VerifyState).Train, phase: PhaseTraining, posts: []string{"start"}},
		{name: "done", do: func(s *VerifyState) Out { return s.Receive(stateMsg(msg.StateDone)) }, phase: PhaseEmbedding, posts: []string{"embed:gallery", "export"}},
		{name: "embedded", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())) }, phase: PhaseReady},
		{name: "bob deleted", do: func(s *VerifyState) Out {
			for range 3 {
				s.Gallery.Delete(1, 0)
			}
			return s.galleryChanged()
		}, phase: PhaseEmbedding, store: true, posts: []string{"embed:gallery"}},
		{name: "alice embedded", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()[:6])) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if got, want := s.TrainStatus(), "ready: arcface trained here, 1 identity, D = 2"; got != want {
					t.Errorf("status %q, want %q", got, want)
				}
			}},
		{name: "alice deleted", do: func(s *VerifyState) Out {
			for range 3 {
				s.Gallery.Delete(0, 0)
			}
			return s.galleryChanged()
		}, phase: PhaseNone, store: true,
			check: func(t *testing.T, s *VerifyState) {
				if got, want := s.TrainStatus(), "encoder: arcface trained here; enroll someone to verify against"; got != want || !s.hasEncoder {
					t.Errorf("status %q, encoder %v; want %q, the encoder kept", got, s.hasEncoder, want)
				}
			}},
	})
	for _, c := range []struct {
		name string
		emb  func(s *VerifyState) string
	}{
		{"values the page cannot read", func(s *VerifyState) string { return embMsg(galleryID(s.gallerySeq), 3, []float32{1, 0}) }},
		{"values not of the gallery", func(s *VerifyState) string { return embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()[:6]) }},
	} {
		s = enrolled()
		s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file x.safetensors")
		s.Receive(c.emb(&s))
		if got, want := s.TrainStatus(), "encoder: model file x.safetensors; the enrollments could not be embedded"; got != want || !s.hasEncoder || s.Phase != PhaseNone {
			t.Errorf("the gallery's embeddings of %s: status %q, phase %d, encoder %v; want %q, none, the encoder kept", c.name, got, s.Phase, s.hasEncoder, want)
		}
	}
}

// TestVerifyModelNoteNotLoadedYet: a model file loaded with no one
// enrolled is said loaded by #train-status once the worker took it
// ("encoder: x; enroll someone to verify against"), and the model note
// says nothing of it. Before, the note said "the model is loaded: enroll
// someone to verify against" as soon as the file was sent, beside
// "loading the model…", and went on saying it once the worker had died
// with it; and of an encoder trained here whose every snapshot was
// deleted, which no model was loaded into.
func TestVerifyModelNoteNotLoadedYet(t *testing.T) {
	s := NewVerifyState()
	s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file x.safetensors")
	if got, want := s.TrainStatus(), "loading the model…"; got != want || s.ModelNote != "" {
		t.Errorf("sent, not answered: status %q, model note %q; want %q and none", got, s.ModelNote, want)
	}
	s.Receive(stateMsg(msg.StateIdle))
	if got, want := s.TrainStatus(), "encoder: model file x.safetensors; enroll someone to verify against"; got != want || s.ModelNote != "" {
		t.Errorf("taken: status %q, model note %q; want %q and none", got, s.ModelNote, want)
	}
	s.Crash("out of memory")
	if got, want := s.TrainStatus(), "crashed: out of memory"; got != want || s.ModelNote != "" {
		t.Errorf("the worker died: status %q, model note %q; want %q and none", got, s.ModelNote, want)
	}

	s = readyState(t)
	for len(s.Gallery.Identities) > 0 {
		s.Gallery.Delete(0, 0)
	}
	s.galleryChanged()
	if got, want := s.TrainStatus(), "encoder: arcface trained here; enroll someone to verify against"; got != want || s.ModelNote != "" {
		t.Errorf("trained here, everyone deleted: status %q, model note %q; want %q and none", got, s.ModelNote, want)
	}
}

// TestVerifyEmbedNoteGoes: the note of the gallery's embeddings the page
// could not take (values it cannot read, or not of the gallery) goes once
// the encoder kept embeds the gallery again and is ready, as a failed
// store's goes with the next store; another note stays. Before, "the
// worker's embeddings do not match the gallery" stayed beside "ready: …".
func TestVerifyEmbedNoteGoes(t *testing.T) {
	for _, c := range []struct {
		name string
		emb  func(s *VerifyState) string
	}{
		{"values the page cannot read", func(s *VerifyState) string { return embMsg(galleryID(s.gallerySeq), 3, []float32{1, 0}) }},
		{"values not of the gallery", func(s *VerifyState) string { return embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()[:6]) }},
	} {
		s := enrolled()
		s.LoadModel(modelFile(t, face.DefaultInput), nil, "m")
		s.Receive(c.emb(&s))
		if !strings.HasPrefix(s.Note, "the enrollments could not be embedded: ") {
			t.Errorf("%s: note %q, want it to say the enrollments could not be embedded", c.name, s.Note)
		}
		s.DeleteCrop(1, 0) // a change of the gallery embeds it again with the encoder kept
		s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()[:10]))
		if s.Phase != PhaseReady || s.Note != "" {
			t.Errorf("%s, then embedded again: phase %d, note %q; want ready, no note", c.name, s.Phase, s.Note)
		}
	}
	s := readyWith(t, face.DefaultInput)
	s.Note = "imported 2 identities, 6 snapshots"
	s.DeleteCrop(1, 0)
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()[:10]))
	if s.Phase != PhaseReady || s.Note != "imported 2 identities, 6 snapshots" {
		t.Errorf("another note: phase %d, note %q; want ready, the note kept", s.Phase, s.Note)
	}
}

// TestVerifyCameraEndedForgetsScores: when the camera stops, the live
// answers of the face it showed go ("–"), and the answer of a probe
// still in the worker, of a frame from before the stop, is dropped; once
// the camera is on again, its frames are probed (under the next number
// but one) and scored. Before, the
// page went on saying "accept" and the name of whoever was last in front
// of a camera that had stopped.
func TestVerifyCameraEndedForgetsScores(t *testing.T) {
	s := enrolled()
	answers := func(s *VerifyState) []string { return []string{s.ScoreText(), s.VerdictText(), s.IdentityText()} }
	none := []string{"–", "–", "–"}
	runSteps(t, &s, []step{
		{name: "train", do: (*VerifyState).Train, phase: PhaseTraining, posts: []string{"start"}},
		{name: "done", do: func(s *VerifyState) Out { return s.Receive(stateMsg(msg.StateDone)) }, phase: PhaseEmbedding, posts: []string{"embed:gallery", "export"}},
		{name: "embedded", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())) }, phase: PhaseReady},
		{name: "probe 1", do: func(s *VerifyState) Out { return okFrame(s, 10) }, phase: PhaseReady, posts: []string{"embed:probe-1"}},
		{name: "alice scored", do: func(s *VerifyState) Out { return s.Receive(embMsg(probeID(1), 2, []float32{1, 0})) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if got := answers(s); got[1] != "accept" || got[2] != "alice" {
					t.Errorf("probe 1 of alice: %q, want accept, alice", got)
				}
			}},
		{name: "probe 2", do: func(s *VerifyState) Out { return okFrame(s, 20) }, phase: PhaseReady, posts: []string{"embed:probe-2"}},
		{name: "the camera stops", do: func(s *VerifyState) Out { return s.CameraEnded() }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if got := answers(s); !slices.Equal(got, none) {
					t.Errorf("the camera stopped: %q, want %q", got, none)
				}
			}},
		{name: "probe 2's answer after the stop", do: func(s *VerifyState) Out { return s.Receive(embMsg(probeID(2), 2, []float32{1, 0})) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if got := answers(s); !slices.Equal(got, none) {
					t.Errorf("a probe of before the stop answered: %q, want %q", got, none)
				}
			}},
		{name: "the camera on again: a probe", do: func(s *VerifyState) Out { s.CameraStarted(CameraOn, ""); return okFrame(s, 30) }, phase: PhaseReady, posts: []string{"embed:probe-4"}},
		{name: "bob scored", do: func(s *VerifyState) Out { return s.Receive(embMsg(probeID(4), 2, []float32{0, 1})) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if got := answers(s); got[2] != "bob" || s.Scored != 4 {
					t.Errorf("probe 4 of bob: %q, scored %d; want bob, 4", got, s.Scored)
				}
			}},
	})
}

// TestVerifyFaceGoneForgetsScores: when no good frame has come for
// faceGoneAfter, the live answers of the face before go ("–") and the
// page is drawn again, and the answer of a probe still in the worker, of
// a frame from before, is dropped; frames without a face for less than
// that keep them, as the detector misses a face for a frame or a few.
// The next good frame is probed (under the next number but one) and
// scored. Before, the page went on saying "accept" and the name of
// whoever had walked away, to the next person in front of the camera
// until their face was detected. The frames' times keep the FPS shown
// (every fpsShownEvery: at 1100 and 1700) off the frames that check
// changed.
func TestVerifyFaceGoneForgetsScores(t *testing.T) {
	s := enrolled()
	answers := func(s *VerifyState) []string { return []string{s.ScoreText(), s.VerdictText(), s.IdentityText()} }
	alice, none := []string{"1.000 (0.0°)", "accept", "alice"}, []string{"–", "–", "–"}
	var changed bool
	noFace := func(now float64) func(s *VerifyState) Out {
		return func(s *VerifyState) Out {
			var out Out
			changed, out = s.Frame(now, face.NoFace, nil)
			return out
		}
	}
	shows := func(want []string, redrawn bool) func(t *testing.T, s *VerifyState) {
		return func(t *testing.T, s *VerifyState) {
			t.Helper()
			if got := answers(s); !slices.Equal(got, want) || changed != redrawn {
				t.Errorf("answers %q, changed %v; want %q, %v", got, changed, want, redrawn)
			}
		}
	}
	runSteps(t, &s, []step{
		{name: "train", do: (*VerifyState).Train, phase: PhaseTraining, posts: []string{"start"}},
		{name: "done", do: func(s *VerifyState) Out { return s.Receive(stateMsg(msg.StateDone)) }, phase: PhaseEmbedding, posts: []string{"embed:gallery", "export"}},
		{name: "embedded", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())) }, phase: PhaseReady},
		{name: "probe 1", do: func(s *VerifyState) Out { return okFrame(s, 10) }, phase: PhaseReady, posts: []string{"embed:probe-1"}},
		{name: "alice scored", do: func(s *VerifyState) Out { return s.Receive(embMsg(probeID(1), 2, []float32{1, 0})) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if got := answers(s); !slices.Equal(got, alice) {
					t.Errorf("probe 1 of alice: %q, want %q", got, alice)
				}
			}},
		{name: "probe 2", do: func(s *VerifyState) Out { return okFrame(s, 1100) }, phase: PhaseReady, posts: []string{"embed:probe-2"}},
		{name: "no face for a moment", do: noFace(1700), phase: PhaseReady, check: shows(alice, true)}, // the quality and the FPS shown changed
		{name: "no face for a while less than faceGoneAfter", do: noFace(1100 + faceGoneAfter - 1), phase: PhaseReady, check: shows(alice, false)},
		{name: "no face for faceGoneAfter", do: noFace(1100 + faceGoneAfter), phase: PhaseReady, check: shows(none, true)},
		{name: "no face still: nothing new", do: noFace(1100 + faceGoneAfter + 10), phase: PhaseReady, check: shows(none, false)},
		{name: "probe 2's answer after the face went", do: func(s *VerifyState) Out { return s.Receive(embMsg(probeID(2), 2, []float32{1, 0})) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if got := answers(s); !slices.Equal(got, none) {
					t.Errorf("a probe of the face before answered: %q, want %q", got, none)
				}
			}},
		{name: "a face again: a probe", do: func(s *VerifyState) Out { return okFrame(s, 2200) }, phase: PhaseReady, posts: []string{"embed:probe-4"}},
		{name: "bob scored", do: func(s *VerifyState) Out { return s.Receive(embMsg(probeID(4), 2, []float32{0, 1})) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if got := answers(s); got[2] != "bob" || s.Scored != 4 {
					t.Errorf("probe 4 of bob: %q, scored %d; want bob, 4", got, s.Scored)
				}
			}},
	})
}

// TestVerifyModelRefusedAfterFailure: after a crash of the worker, or a
// training that failed, a model the worker refuses leaves the page with
// no encoder, and #train-status says so, the model note naming the load
// refused. Before, the refusal put the run before the load back, and the
// status read "crashed: …" or "failed: …" again while a new worker ran.
func TestVerifyModelRefusedAfterFailure(t *testing.T) {
	for _, c := range []struct {
		name      string
		end       func(s *VerifyState)
		afterLoad string // the new worker's first message, after the load was posted
	}{
		{"a crash", func(s *VerifyState) {
			s.Crash("out of memory")
			s.WorkerStarted()
		}, stateMsg(msg.StateIdle)},
		{"a failed training", func(s *VerifyState) {
			s.Receive(`{"v":1,"type":"error","trainer":"verify","error":"loss is NaN"}`)
			s.Receive(stateMsg(msg.StateFailed))
		}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := enrolled()
			s.Train()
			c.end(&s)
			s.LoadModel(modelFile(t, face.DefaultInput), nil, "model file bad.safetensors")
			if c.afterLoad != "" {
				s.Receive(c.afterLoad)
			}
			s.Receive(refusedMsg(galleryID(s.gallerySeq), "the model could not be loaded: unknown loss x"))
			want := "no encoder: train one on the enrollments, or load a model"
			if got := s.TrainStatus(); got != want || s.ModelNote != "model file bad.safetensors could not be loaded: unknown loss x" {
				t.Errorf("status %q, model note %q; want %q and the load refused", got, s.ModelNote, want)
			}
		})
	}
}

// TestVerifyTrainClearsModelNote: a note of a model that could not be
// loaded goes when a training starts, as the probe's note does: the
// encoder to come is the training's. Before, it stayed through the
// training until the encoder was ready.
func TestVerifyTrainClearsModelNote(t *testing.T) {
	s := enrolled()
	s.LoadModel([]byte("x"), nil, "model file x.safetensors")
	if s.ModelNote == "" {
		t.Fatal("no model note for a file that is no model")
	}
	s.Train()
	if s.Phase != PhaseTraining || s.ModelNote != "" {
		t.Errorf("phase %d, model note %q; want training, none", s.Phase, s.ModelNote)
	}
}

// TestVerifyUnreadNoteGoes: the note of a message the page could not read
// (Unread) goes once the answer the page waited for has come: the
// gallery's embeddings asked again, or a training's end and the
// embeddings after it. Before, it stayed, saying to reload the page, on
// a page ready since.
func TestVerifyUnreadNoteGoes(t *testing.T) {
	s := readyWith(t, face.Input{Channels: 1, Height: 48, Width: 48})
	hold(&s, "carol", 3)       // gallery-2
	s.Unread(errUnreadMessage) // asked again: gallery-3
	s.Receive(embMsg(galleryID(3), 2, append(galleryEmbs(), 1, 0, 1, 0, 1, 0)))
	if s.Phase != PhaseReady || s.Note != "" {
		t.Errorf("the embed asked again answered: phase %d, note %q; want ready, none", s.Phase, s.Note)
	}

	s = enrolled()
	s.Train()
	s.Unread(errUnreadMessage)
	s.Receive(stateMsg(msg.StateDone))
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	if s.Phase != PhaseReady || s.Note != "" {
		t.Errorf("the training's end and embeddings came: phase %d, note %q; want ready, none", s.Phase, s.Note)
	}
}

// exportMsg is the worker's export of the model file model, as
// wasm/trainer posts it.
func exportMsg(model []byte) string {
	b, _ := json.Marshal(msg.Message{V: msg.SchemaVersion, Type: msg.TypeExport, Trainer: verifyTrainer, Export: &msg.Export{Model: model, Vectors: "1\t0\n", Metadata: "alice\n"}})
	return string(b)
}

// kept reads the encoder's record that out asks to keep in IndexedDB.
func kept(t *testing.T, out Out) StoredEncoder {
	t.Helper()
	if out.Keep == nil || out.Forget {
		t.Fatalf("out keeps %d bytes, forget %v; want a record kept", len(out.Keep), out.Forget)
	}
	e, err := UnmarshalStoredEncoder(out.Keep)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestVerifyEncoderKept: the encoder is kept in IndexedDB beside the
// gallery once it is ready, as the page that a navigation or a reload
// mounts again restores it from there (RestoreEncoder). One trained here
// is asked of the worker (export) once trained, and kept with its name
// and the snapshots it was trained on; an export of an encoder since
// replaced is not kept. A training deletes the one kept (Out.Forget), and
// a load that the worker took replaces it, one it refused keeps it. The
// record restored on a page of the same gallery is loaded under the same
// name, embeds the gallery and is calibrated on the held-out snapshots as
// the page that trained it was, and is not kept again. A feature: before,
// nothing was kept, and the page came back without an encoder.
func TestVerifyEncoderKept(t *testing.T) {
	model := modelFile(t, face.DefaultInput)
	s := enrolled()
	if out := s.Train(); !out.Forget || out.Keep != nil {
		t.Errorf("Train: keep %d bytes, forget %v; want the encoder kept deleted", len(out.Keep), out.Forget)
	}
	if got := ops(t, s.Receive(stateMsg(msg.StateDone))); !slices.Equal(got, []string{"embed:gallery", "export"}) {
		t.Fatalf("trainer done: posted %v, want the gallery's embed and the export", got)
	}
	if out := s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())); out.Keep != nil || out.Forget || s.Phase != PhaseReady {
		t.Fatalf("the gallery's embeddings: keep %d bytes, forget %v, phase %d; want nothing kept before the export, ready", len(out.Keep), out.Forget, s.Phase)
	}
	rec := kept(t, s.Receive(exportMsg(model)))
	if rec.Source != "arcface trained here" || !bytes.Equal(rec.Model, model) || len(rec.Trained) != 2 || !maps.Equal(rec.Trained, s.trained) {
		t.Fatalf("kept %q, %d bytes, trained %v; want arcface trained here, the export's %d bytes, the page's %v", rec.Source, len(rec.Model), rec.Trained, len(model), s.trained)
	}
	if out := s.Receive(exportMsg(model)); out.Keep != nil {
		t.Error("a second export was kept: the page asked for one")
	}

	// Another page of the same gallery (a reload) restores it.
	r := enrolled()
	r.Restoring()
	if out := r.Restore(string(MarshalGallery(s.Gallery)), true, nil); len(out.Post) > 0 {
		t.Fatalf("the gallery restored without an encoder posted %v", ops(t, out))
	}
	out := r.RestoreEncoder(string(MarshalStoredEncoder(rec)), true, nil)
	if got, m := posted(t, out); len(got) != 1 || !strings.HasPrefix(got[0], "load:gallery-") || !bytes.Equal(m, model) || out.Keep != nil || out.Forget {
		t.Fatalf("RestoreEncoder: posted %v (%d bytes), keep %d bytes, forget %v; want the record's model loaded and embedding the gallery", got, len(m), len(out.Keep), out.Forget)
	}
	if r.Phase != PhaseEmbedding || r.Source != "arcface trained here" {
		t.Fatalf("restoring: phase %d, source %q", r.Phase, r.Source)
	}
	out = r.Receive(embMsg(galleryID(r.gallerySeq), 2, galleryEmbs()))
	if out.Keep != nil || out.Forget || r.Phase != PhaseReady {
		t.Fatalf("restored: keep %d bytes, forget %v, phase %d; want nothing stored again, ready", len(out.Keep), out.Forget, r.Phase)
	}
	if got, want := r.CalibratedOn(), "calibrated on 2 held-out snapshots (not trained on)"; got != want {
		t.Errorf("restored: %q, want %q, as the page that trained it", got, want)
	}
	if got := r.TrainStatus(); got != "ready: arcface trained here, 2 identities, D = 2" || r.Threshold != s.Threshold {
		t.Errorf("restored: status %q, threshold %v; want ready: arcface trained here…, %v", got, r.Threshold, s.Threshold)
	}

	// A load replaces the record once the worker took it.
	out = s.LoadModel(model, nil, "model file m.safetensors")
	if out.Keep != nil || out.Forget {
		t.Errorf("a load sent: keep %d bytes, forget %v; want nothing until it takes", len(out.Keep), out.Forget)
	}
	if out := s.Receive(exportMsg(model)); out.Keep != nil {
		t.Error("an export of the encoder before a load was kept")
	}
	rec = kept(t, s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())))
	if rec.Source != "model file m.safetensors" || !bytes.Equal(rec.Model, model) || rec.Trained != nil {
		t.Errorf("a load kept %q, %d bytes, trained %v; want model file m.safetensors, its bytes, none", rec.Source, len(rec.Model), rec.Trained)
	}
	// A load the worker refused keeps the record of the encoder that stays.
	s.LoadModel(model, nil, "model file bad.safetensors")
	if out := s.Receive(refusedMsg(galleryID(s.gallerySeq), "the model could not be loaded: bad weights")); out.Keep != nil || out.Forget {
		t.Errorf("a load refused: keep %d bytes, forget %v; want the record kept as it is", len(out.Keep), out.Forget)
	}
	// Loaded with no one enrolled: kept once the worker says it took.
	e := NewVerifyState()
	e.LoadModel(model, nil, "x")
	if rec := kept(t, e.Receive(stateMsg(msg.StateIdle))); rec.Source != "x" {
		t.Errorf("a load of nothing to embed kept %q, want x", rec.Source)
	}
	// A training replaces an encoder whose export has not come.
	s = enrolled()
	s.Train()
	s.Receive(stateMsg(msg.StateDone))
	s.Train()
	if out := s.Receive(exportMsg(model)); out.Keep != nil {
		t.Error("the export of a training since replaced was kept")
	}
}

// distinctCrops returns a state whose gallery has alice and bob, three
// crops each, each crop its own: crop i's pixels are noise of seed i
// (PNG hardly shrinks them), or, with plain set, all of value i/10.
func distinctCrops(plain bool) VerifyState {
	s := NewVerifyState()
	in := s.Input
	var crops []string
	for i := range 6 {
		px := make([]float32, in.Channels*in.Height*in.Width)
		for j := range px {
			if plain {
				px[j] = float32(i) / 10
			} else {
				px[j] = float32((j*7919+i*104729)%251) / 250
			}
		}
		crops = append(crops, EncodeCrop(px, in.Channels, in.Height, in.Width))
	}
	s.Gallery.Add("alice", crops[:3]...)
	s.Gallery.Add("bob", crops[3:]...)
	return s
}

// trainedRecord trains s to the end and returns the encoder's record
// that the export of model keeps.
func trainedRecord(t *testing.T, s *VerifyState, model []byte) []byte {
	t.Helper()
	s.Train()
	s.Receive(stateMsg(msg.StateDone))
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	out := s.Receive(exportMsg(model))
	kept(t, out)
	return out.Keep
}

// TestVerifyEncoderRecordBySum: the encoder trained here is kept with
// the snapshots it was trained on named by the SHA-256 of their data
// URLs (trainedKey), so that its record holds none of the gallery's
// crops (kept under a key of their own) and is of one size whatever
// their bytes; restored, it is calibrated on the held-out snapshots.
// Before, the record held every crop trained on once more: over 100 MB
// at MaxGalleryCrops.
func TestVerifyEncoderRecordBySum(t *testing.T) {
	model := modelFile(t, face.DefaultInput)
	s := distinctCrops(false)
	rec := trainedRecord(t, &s, model)
	for _, id := range s.Gallery.Identities {
		for j, c := range id.Crops {
			if bytes.Contains(rec, []byte(c)) || bytes.Contains(rec, []byte(strings.TrimPrefix(c, "data:image/png;base64,"))) {
				t.Errorf("the record holds crop %d of %s", j+1, id.Name)
			}
		}
	}
	p := distinctCrops(true)
	if plain := trainedRecord(t, &p, model); len(plain) != len(rec) {
		t.Errorf("the record is %d bytes with crops of %d bytes, %d with crops of %d; want one size", len(rec), len(s.Gallery.Identities[0].Crops[0]), len(plain), len(p.Gallery.Identities[0].Crops[0]))
	}

	r := distinctCrops(false)
	r.RestoreEncoder(string(rec), true, nil)
	r.Receive(embMsg(galleryID(r.gallerySeq), 2, galleryEmbs()))
	if !slices.Equal(r.probes, []int{2, 5}) || !slices.Equal(r.probes, s.probes) {
		t.Errorf("restored: calibrated on %v, want the held-out [2 5], as the page that trained it (%v)", r.probes, s.probes)
	}
}

// TestVerifyEncoderRestoresVersion1: a record of version 1, its trained
// snapshots keyed by their data URLs, is restored, its keys read as
// trainedKey's, and calibrated on the snapshots it was not trained on,
// as it was before the change; its threshold set by hand comes back
// with it. A test of the change to version 2: without the reading, the
// record was refused, and the encoder trained here deleted.
func TestVerifyEncoderRestoresVersion1(t *testing.T) {
	s := distinctCrops(false)
	trained := map[string]int{}
	for _, id := range s.Gallery.Identities {
		for _, c := range id.Crops[1:] { // not the first: not HeldOut's
			trained[id.Name+"\x00"+c]++
		}
	}
	b, err := json.Marshal(StoredEncoder{Version: 1, Source: "arcface trained here", Model: modelFile(t, face.DefaultInput), Trained: trained})
	if err != nil {
		t.Fatal(err)
	}
	hand := MarshalStoredThreshold(StoredThreshold{Version: ThresholdVersion, Encoder: recordSum(b), Threshold: 0.25})
	out := s.RestoreEncoder(string(b), true, nil)
	out = out.and(s.RestoreThreshold(string(hand), true, nil))
	if out.Forget || out.ForgetThreshold || out.Keep != nil || !s.hasEncoder || s.ModelNote != "" {
		t.Fatalf("restored: forget %v/%v, keep %d bytes, encoder %v, note %q; want it loaded, the records as they are", out.Forget, out.ForgetThreshold, len(out.Keep), s.hasEncoder, s.ModelNote)
	}
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	if !slices.Equal(s.probes, []int{0, 3}) || s.CalibratedOn() != "calibrated on 2 held-out snapshots (not trained on)" || s.Threshold != 0.25 {
		t.Errorf("restored: calibrated on %v (%q), threshold %v; want the first crops [0 3], not trained on, 0.25", s.probes, s.CalibratedOn(), s.Threshold)
	}
}

// TestVerifyEncoderRestoreDropped: a stored encoder that cannot be
// restored (not JSON, of another version, not text, a model file the
// page cannot read, one the worker refuses) is deleted (Out.Forget), the
// model note says why in one line, and the gallery is untouched; one
// found while the page makes an encoder (a link's ?model= loading) is
// not loaded, nor deleted. The note of a store of the encoder that failed
// goes at the next that succeeds. A feature: before, nothing was kept.
func TestVerifyEncoderRestoreDropped(t *testing.T) {
	good := StoredEncoder{Version: EncoderVersion, Source: "model file m.safetensors", Model: modelFile(t, face.DefaultInput)}
	other := good
	other.Version = EncoderVersion + 1
	byCrops := good
	byCrops.Trained = map[string]int{"ann\x00" + EncodeCrop([]float32{0}, 1, 1, 1): 1}
	garbage := good
	garbage.Model = []byte("not a model")
	for _, tc := range []struct {
		name string
		data string
		err  error
	}{
		{"not JSON", "{", nil},
		{"another version", string(MarshalStoredEncoder(other)), nil},
		{"no name", `{"version":1,"model":"AAAA"}`, nil},
		{"trained of another form", `{"version":1,"source":"x","model":"AAAA","trained":{"ann":1}}`, nil},
		{"trained by crops, of version 2", string(MarshalStoredEncoder(byCrops)), nil},
		{"not text", "", recordTypeError{app.TypeNumber}},
		{"not a model", string(MarshalStoredEncoder(garbage)), nil},
	} {
		s := enrolled()
		out := s.RestoreEncoder(tc.data, tc.err == nil, tc.err)
		if !out.Forget || len(out.Post) > 0 || s.hasEncoder || s.Gallery.Count() != 6 ||
			!strings.HasPrefix(s.ModelNote, storedDropped) || strings.Contains(s.ModelNote, "\n") {
			t.Errorf("%s: forget %v, posted %d, encoder %v, %d snapshots, note %q; want it deleted, the gallery kept, a note of one line",
				tc.name, out.Forget, len(out.Post), s.hasEncoder, s.Gallery.Count(), s.ModelNote)
		}
	}
	// The worker refuses it.
	s := enrolled()
	s.RestoreEncoder(string(MarshalStoredEncoder(good)), true, nil)
	out := s.Receive(refusedMsg(galleryID(s.gallerySeq), "the model could not be loaded: bad weights"))
	if want := storedDropped + "model file m.safetensors could not be loaded: bad weights"; !out.Forget || s.hasEncoder || s.Busy() || s.ModelNote != want || s.Gallery.Count() != 6 {
		t.Errorf("refused: forget %v, encoder %v, busy %v, note %q; want it deleted, no encoder, %q", out.Forget, s.hasEncoder, s.Busy(), s.ModelNote, want)
	}
	// None, IndexedDB's failure (Restore's note), or a page making an encoder.
	s = enrolled()
	s.SelectModel("m1")
	s.FetchModel()
	for _, tc := range []struct {
		s    VerifyState
		data string
		ok   bool
		err  error
	}{
		{enrolled(), "", false, nil},
		{enrolled(), "", false, errors.New("IndexedDB failed")},
		{s, string(MarshalStoredEncoder(good)), true, nil},
	} {
		out := tc.s.RestoreEncoder(tc.data, tc.ok, tc.err)
		if out.Forget || len(out.Post) > 0 || tc.s.ModelNote != "" {
			t.Errorf("ok %v, err %v, phase %d: forget %v, posted %d, note %q; want nothing", tc.ok, tc.err, tc.s.Phase, out.Forget, len(out.Post), tc.s.ModelNote)
		}
	}
	// A store that fails says so; the next that succeeds takes it away.
	s = enrolled()
	s.EncoderStored(false, errors.New("IndexedDB failed: quota exceeded"))
	if s.Note != notKept+"IndexedDB failed: quota exceeded" {
		t.Errorf("a store failed: note %q", s.Note)
	}
	s.EncoderStored(false, nil)
	if s.Note != "" {
		t.Errorf("the next store: note %q, want none", s.Note)
	}
}

// TestVerifyRecordDeleteFails: a deletion of the encoder's or the
// threshold's record in IndexedDB that fails says that it could not be
// deleted, and the next store or deletion of that record that succeeds
// takes the note away; another record's success leaves it. Before, a
// failed deletion read "could not be stored".
func TestVerifyRecordDeleteFails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stored func(s *VerifyState, deleted bool, err error)
		other  func(s *VerifyState, deleted bool, err error)
		want   string
	}{
		{"the encoder", (*VerifyState).EncoderStored, (*VerifyState).ThresholdStored, "the encoder could not be deleted: IndexedDB failed"},
		{"the threshold", (*VerifyState).ThresholdStored, (*VerifyState).EncoderStored, "the threshold set by hand could not be deleted: IndexedDB failed"},
	} {
		for _, deleted := range []bool{false, true} {
			s := enrolled()
			tc.stored(&s, true, errors.New("IndexedDB failed"))
			if s.Note != tc.want {
				t.Errorf("%s: a deletion failed: note %q, want %q", tc.name, s.Note, tc.want)
			}
			tc.other(&s, deleted, nil)
			if s.Note != tc.want {
				t.Errorf("%s: another record's success took the note: %q", tc.name, s.Note)
			}
			tc.stored(&s, deleted, nil)
			if s.Note != "" {
				t.Errorf("%s: the next success (a deletion: %v): note %q, want none", tc.name, deleted, s.Note)
			}
		}
	}
}

// TestVerifyEncoderNameShortened: the encoder's name (the model file's
// name, a server model's, a stored record's) is shown and kept at most
// msg.MaxCardText characters, as a model card's names are, with its start
// and its end (msg.Shorten). Before, a file of a name of any length was
// shown whole in #train-status and kept so in IndexedDB.
func TestVerifyEncoderNameShortened(t *testing.T) {
	model := modelFile(t, face.DefaultInput)
	long := "model file " + strings.Repeat("é", 5000) + ".safetensors"
	short := func(what, name string) {
		t.Helper()
		if n := utf8.RuneCountInString(name); n > msg.MaxCardText || !strings.HasPrefix(name, "model file éé") || !strings.HasSuffix(name, "é.safetensors") {
			t.Errorf("%s: %d characters, %.20q…; want at most %d, its start and its end", what, n, name, msg.MaxCardText)
		}
	}
	s := enrolled()
	s.LoadModel(model, nil, long)
	short("loading", s.Source)
	short("kept", kept(t, s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))).Source)
	short("ready", strings.TrimSuffix(strings.TrimPrefix(s.TrainStatus(), "ready: "), ", 2 identities, D = 2"))

	r := enrolled()
	r.RestoreEncoder(string(MarshalStoredEncoder(StoredEncoder{Version: EncoderVersion, Source: long, Model: model})), true, nil)
	short("restored", r.Source)
}

// TestVerifyEncoderNameOneLine: the encoder's name (a model file's
// name, a server model's, a stored record's) is shown and kept with its
// control characters, line breaks and bidirectional overrides as spaces,
// as the page's notes are (msg.ErrorLine), and so is the note of a model
// the page refuses. Before, a file named with a U+202E showed the rest
// of #train-status reversed, and a line break broke it.
func TestVerifyEncoderNameOneLine(t *testing.T) {
	model := modelFile(t, face.DefaultInput)
	name := "model file a\u202eb\nc\x00\u2066d.safetensors"
	const want = "model file a b c  d.safetensors"
	s := enrolled()
	s.LoadModel(model, nil, name)
	if s.Source != want {
		t.Errorf("loading: %q, want %q", s.Source, want)
	}
	if got := kept(t, s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))).Source; got != want {
		t.Errorf("kept %q, want %q", got, want)
	}
	if got := s.TrainStatus(); got != "ready: "+want+", 2 identities, D = 2" {
		t.Errorf("ready: %q", got)
	}
	r := enrolled()
	r.RestoreEncoder(string(MarshalStoredEncoder(StoredEncoder{Version: EncoderVersion, Source: name, Model: model})), true, nil)
	if r.Source != want {
		t.Errorf("restored: %q, want %q", r.Source, want)
	}
	e := enrolled()
	e.LoadModel(modelFile(t, face.Input{Channels: 3, Height: 1000, Width: 1000}), nil, name)
	if got := want + " could not be loaded: it takes crops of 3×1000×1000: want 1 or 3 channels and sides of 8 to 256 pixels"; e.ModelNote != got {
		t.Errorf("refused: note %q, want %q", e.ModelNote, got)
	}
}

// TestVerifyCrashRestoringDrops: a crash of the worker while it loads
// the encoder IndexedDB kept deletes the record and the threshold set by
// hand on it, the model note saying so in one line; a crash once it took,
// during another load or a training, or with no load, leaves the records
// alone. Before, the record stayed, and every visit loaded it again and
// crashed again.
func TestVerifyCrashRestoringDrops(t *testing.T) {
	model := modelFile(t, face.DefaultInput)
	rec := MarshalStoredEncoder(StoredEncoder{Version: EncoderVersion, Source: "arcface trained here", Model: model})
	hand := MarshalStoredThreshold(StoredThreshold{Version: ThresholdVersion, Encoder: recordSum(rec), Threshold: 0.25})
	restoring := func() VerifyState {
		s := enrolled()
		s.RestoreEncoder(string(rec), true, nil)
		s.RestoreThreshold(string(hand), true, nil)
		return s
	}
	s := restoring()
	out := s.Crash("the trainer's worker stopped: out of memory")
	if want := storedDropped + "arcface trained here could not be loaded: the trainer's worker stopped: out of memory"; !out.Forget || !out.ForgetThreshold || len(out.Post) > 0 || s.ModelNote != want || s.hasEncoder || s.Busy() {
		t.Errorf("a crash while restoring: forget %v, %v, posted %v, note %q, encoder %v, busy %v; want both deleted, nothing posted, %q, no encoder",
			out.Forget, out.ForgetThreshold, ops(t, out), s.ModelNote, s.hasEncoder, s.Busy(), want)
	}

	for _, tc := range []struct {
		name string
		s    func() VerifyState
	}{
		{"once it took", func() VerifyState {
			s := restoring()
			s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
			return s
		}},
		{"during a file's load", func() VerifyState {
			s := restoring()
			s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
			s.LoadModel(model, nil, "model file m.safetensors")
			return s
		}},
		{"during a training", func() VerifyState {
			s := enrolled()
			s.Train()
			return s
		}},
		{"with no load", enrolled},
	} {
		s := tc.s()
		if out := s.Crash("out of memory"); out.Forget || out.ForgetThreshold || len(out.Post) > 0 || strings.HasPrefix(s.ModelNote, storedDropped) {
			t.Errorf("a crash %s: forget %v, %v, posted %v, note %q; want the records left alone", tc.name, out.Forget, out.ForgetThreshold, ops(t, out), s.ModelNote)
		}
	}
}

// TestVerifyEncoderExportRefused: an export of the encoder trained here
// that the worker refuses (its error carries the export's ID) leaves the
// encoder ready, in the page only, and the note says it could not be
// stored. Before the export had an ID, its refusal read as the worker's
// own failure, which drops the encoder.
func TestVerifyEncoderExportRefused(t *testing.T) {
	s := enrolled()
	s.Train()
	s.Receive(stateMsg(msg.StateDone))
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	out := s.Receive(refusedMsg(exportID, "step 9: the snapshot's embeddings are not all finite numbers"))
	if want := notKept + "step 9: the snapshot's embeddings are not all finite numbers"; out.Keep != nil || out.Forget || s.Phase != PhaseReady || !s.hasEncoder || s.Note != want {
		t.Errorf("export refused: keep %d bytes, forget %v, phase %d, encoder %v, note %q; want the encoder ready, %q", len(out.Keep), out.Forget, s.Phase, s.hasEncoder, s.Note, want)
	}
}

// TestVerifyEncoderKeptThroughLoad: a load sent after a training ended
// and before the worker answered its export (the gallery embedded, the
// export still under way) is answered after the export: the encoder
// trained here is kept, under its name with the snapshots it was trained
// on, and the load's replaces it once it takes; one the worker refuses
// leaves the trained one, in the page and in IndexedDB. Before, the load
// dropped the export: the record deleted by the training stayed deleted,
// and the page came back with no encoder after a reload.
func TestVerifyEncoderKeptThroughLoad(t *testing.T) {
	model := modelFile(t, face.DefaultInput)
	for _, takes := range []bool{false, true} {
		s := enrolled()
		s.Train()
		s.Receive(stateMsg(msg.StateDone))
		s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
		trained := s.trained
		s.LoadModel(model, nil, "model file m.safetensors")
		rec := kept(t, s.Receive(exportMsg(model)))
		if rec.Source != "arcface trained here" || !maps.Equal(rec.Trained, trained) || len(trained) == 0 {
			t.Errorf("takes %v: the export kept %q, trained %v; want arcface trained here, %v", takes, rec.Source, rec.Trained, trained)
		}
		if !takes {
			out := s.Receive(refusedMsg(galleryID(s.gallerySeq), "the model could not be loaded: bad weights"))
			if out.Keep != nil || out.Forget || s.Source != "arcface trained here" || !s.hasEncoder {
				t.Errorf("refused: keep %d bytes, forget %v, source %q; want the trained encoder, its record as it is", len(out.Keep), out.Forget, s.Source)
			}
			continue
		}
		if rec := kept(t, s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))); rec.Source != "model file m.safetensors" || rec.Trained != nil {
			t.Errorf("the load took: kept %q, trained %v; want model file m.safetensors, none", rec.Source, rec.Trained)
		}
	}
}

// handKept reads the hand-set threshold's record that out asks to keep
// in IndexedDB.
func handKept(t *testing.T, out Out) StoredThreshold {
	t.Helper()
	if out.KeepThreshold == nil || out.ForgetThreshold {
		t.Fatalf("out keeps %d bytes of threshold, forget %v; want a threshold kept", len(out.KeepThreshold), out.ForgetThreshold)
	}
	h, err := UnmarshalStoredThreshold(out.KeepThreshold)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestVerifyThresholdKept: a threshold set by hand is kept in IndexedDB
// in a record of its own, once the slider is let go (KeepThreshold),
// naming the encoder's record by its sum; set before the encoder trained
// here is exported, it is kept with the export. A page restoring that
// encoder takes it back, set by hand, and the calibration leaves it; a
// record of another encoder is deleted and not applied. It is deleted
// when the page forgets it: a FAR chosen, a training, a load that takes.
// Before, a reload or a visit to another page came back with the
// calibrated threshold.
func TestVerifyThresholdKept(t *testing.T) {
	model := modelFile(t, face.DefaultInput)
	s := enrolled()
	s.Train()
	s.Receive(stateMsg(msg.StateDone))
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	calibrated := s.Threshold
	s.SetThreshold(0.25)
	if out := s.KeepThreshold(); out.KeepThreshold != nil {
		t.Errorf("let go before the export: keeps %s; want nothing until the encoder is kept", out.KeepThreshold)
	}
	out := s.Receive(exportMsg(model))
	rec := kept(t, out)
	if h := handKept(t, out); h.Threshold != 0.25 || h.Encoder != recordSum(out.Keep) {
		t.Errorf("exported: threshold %v of %q; want 0.25 of the record's sum %q", h.Threshold, h.Encoder, recordSum(out.Keep))
	}
	s.SetThreshold(0.5)
	out = s.KeepThreshold()
	hand := handKept(t, out)
	if hand.Threshold != 0.5 || hand.Encoder != recordSum(MarshalStoredEncoder(rec)) {
		t.Errorf("let go: threshold %v of %q; want 0.5 of the encoder's record", hand.Threshold, hand.Encoder)
	}

	// restored returns a page of the same gallery that restored the
	// encoder rec and then the threshold's record hand, ready.
	restored := func(hand []byte) (VerifyState, Out) {
		t.Helper()
		r := enrolled()
		r.Restoring()
		r.Restore(string(MarshalGallery(s.Gallery)), true, nil)
		r.RestoreEncoder(string(MarshalStoredEncoder(rec)), true, nil)
		out := r.RestoreThreshold(string(hand), hand != nil, nil)
		r.Receive(embMsg(galleryID(r.gallerySeq), 2, galleryEmbs()))
		if r.Phase != PhaseReady {
			t.Fatalf("restored: phase %d, want ready", r.Phase)
		}
		return r, out
	}
	r, out := restored(MarshalStoredThreshold(hand))
	if r.Threshold != 0.5 || !r.handSet || out.ForgetThreshold {
		t.Errorf("restored: threshold %v, set by hand %v, forget %v; want 0.5 set by hand, the record kept", r.Threshold, r.handSet, out.ForgetThreshold)
	}
	r, _ = restored(nil)
	if r.Threshold != calibrated || r.handSet {
		t.Errorf("restored without a threshold's record: threshold %v, set by hand %v; want the calibrated %v", r.Threshold, r.handSet, calibrated)
	}
	for _, other := range []StoredThreshold{
		{Version: ThresholdVersion, Encoder: recordSum([]byte("another")), Threshold: 0.5},
		{Version: ThresholdVersion + 1, Encoder: hand.Encoder, Threshold: 0.5},
	} {
		r, out = restored(MarshalStoredThreshold(other))
		if r.Threshold != calibrated || r.handSet || !out.ForgetThreshold {
			t.Errorf("restored with %+v: threshold %v, set by hand %v, forget %v; want the calibrated %v, the record deleted", other, r.Threshold, r.handSet, out.ForgetThreshold, calibrated)
		}
	}

	// Forgotten when the page forgets it.
	r, _ = restored(MarshalStoredThreshold(hand))
	if out := r.SetFAR(0.05); !out.ForgetThreshold || r.handSet {
		t.Errorf("a FAR chosen: forget %v, set by hand %v; want the threshold deleted", out.ForgetThreshold, r.handSet)
	}
	r, _ = restored(MarshalStoredThreshold(hand))
	if out := r.Train(); !out.ForgetThreshold {
		t.Error("a training: the threshold set by hand on the encoder before was not deleted")
	}
	r, _ = restored(MarshalStoredThreshold(hand))
	r.LoadModel(model, nil, "model file m.safetensors")
	if out := r.Receive(embMsg(galleryID(r.gallerySeq), 2, galleryEmbs())); !out.ForgetThreshold || r.handSet {
		t.Errorf("a load that took: forget %v, set by hand %v; want the threshold deleted", out.ForgetThreshold, r.handSet)
	}
}

// TestVerifySetFARRange: SetFAR takes the rates a kept record holds, the
// slider's (0, MaxFAR], and nothing else: a rate out of it changes
// neither the FAR nor a threshold set by hand, and what KeepFAR keeps
// then reads back. Before, it took any rate of [0, 1]: KeepFAR wrote a
// record of 0.5 that the next visit deleted (RestoreFAR), back at 1%.
func TestVerifySetFARRange(t *testing.T) {
	for _, far := range []float64{0, -0.01, MaxFAR + 0.001, 0.5, 1, math.NaN()} {
		s := enrolled()
		s.SetThreshold(0.5)
		if out := s.SetFAR(far); s.FAR != DefaultFAR || out.ForgetThreshold || !s.handSet {
			t.Errorf("SetFAR(%v): FAR %v, forgets the threshold set by hand %v (still %v); want %v, the threshold kept", far, s.FAR, out.ForgetThreshold, s.handSet, DefaultFAR)
		}
		if _, err := UnmarshalStoredFAR(s.KeepFAR().KeepFAR); err != nil {
			t.Errorf("SetFAR(%v), then KeepFAR: %v", far, err)
		}
	}
	for _, far := range []float64{0.001, MaxFAR} { // the slider's ends
		s := enrolled()
		s.SetFAR(far)
		if f, err := UnmarshalStoredFAR(s.KeepFAR().KeepFAR); s.FAR != far || err != nil || f.FAR != far {
			t.Errorf("SetFAR(%v): FAR %v, kept %v (%v); want %v", far, s.FAR, f.FAR, err, far)
		}
	}
}

// TestVerifyFARKept: the false accept rate chosen is kept in IndexedDB,
// in a record of its own, once the slider is let go (KeepFAR), not at
// each step of a drag (SetFAR), which still deletes a threshold set by
// hand. A page that restores it as it mounts (RestoreFAR) calibrates the
// encoder it restores at it; one whose encoder was ready before the
// record came is calibrated again, a threshold set by hand left as it
// was. A record that cannot be read, or of a rate out of the slider's
// range (0, MaxFAR], is deleted, and the page calibrates at DefaultFAR; a
// failure of IndexedDB deletes nothing. A new feature: before, the page
// came back at DefaultFAR whatever was chosen.
func TestVerifyFARKept(t *testing.T) {
	model := modelFile(t, face.DefaultInput)
	rec := string(MarshalStoredEncoder(StoredEncoder{Version: EncoderVersion, Source: "model file m.safetensors", Model: model}))
	gallery := string(MarshalGallery(enrolled().Gallery))
	// A loaded encoder is calibrated leave-one-out, on 6 impostor scores,
	// of no ties at these angles (galleryEmbs' come in pairs): at MaxFAR
	// one of them passes, at DefaultFAR none. alice's third snapshot, at
	// 0.9 rad, is nearer bob's template (0.81) than her own (0.66), so
	// that the FAR chosen costs genuine accepts and moves the threshold.
	var embs []float32
	for _, a := range []float64{0, 0.1, 0.9, math.Pi / 2, math.Pi/2 + 0.15, math.Pi/2 - 0.3} {
		embs = append(embs, float32(math.Cos(a)), float32(math.Sin(a)))
	}
	labels := []int{0, 0, 0, 1, 1, 1}
	atDefault := face.Calibrate(embs, 2, labels, DefaultFAR).Threshold
	atMax := face.Calibrate(embs, 2, labels, MaxFAR).Threshold
	if atDefault == atMax {
		t.Fatalf("the calibration at %v and at %v is %v; want two thresholds", DefaultFAR, MaxFAR, atMax)
	}
	// restored returns a page that restored the FAR's record (data, ok,
	// err as loadGallery gives them), then the gallery and the encoder
	// rec, ready, and what RestoreFAR asked.
	restored := func(data string, ok bool, err error) (VerifyState, Out) {
		t.Helper()
		s := enrolled()
		s.Restoring()
		out := s.RestoreFAR(data, ok, err)
		s.Restore(gallery, true, nil)
		s.RestoreEncoder(rec, true, nil)
		s.Receive(embMsg(galleryID(s.gallerySeq), 2, embs))
		if s.Phase != PhaseReady {
			t.Fatalf("restored: phase %d, want ready", s.Phase)
		}
		return s, out
	}

	s, _ := restored("", false, nil)
	if s.FAR != DefaultFAR || s.Threshold != atDefault {
		t.Fatalf("no FAR's record: FAR %v, threshold %v; want %v, %v", s.FAR, s.Threshold, DefaultFAR, atDefault)
	}
	s.SetThreshold(0.5)
	out := s.SetFAR(0.1).and(s.SetFAR(MaxFAR))
	if out.KeepFAR != nil || !out.ForgetThreshold || s.handSet || s.Threshold != atMax {
		t.Errorf("the drag: keeps %s, forgets the threshold %v, set by hand %v, threshold %v; want nothing kept, the hand-set threshold deleted, %v", out.KeepFAR, out.ForgetThreshold, s.handSet, s.Threshold, atMax)
	}
	out = s.KeepFAR()
	f, err := UnmarshalStoredFAR(out.KeepFAR)
	if err != nil || f.FAR != MaxFAR || out.ForgetFAR {
		t.Fatalf("let go: keeps %s (%v), forget %v; want FAR %v kept", out.KeepFAR, err, out.ForgetFAR, MaxFAR)
	}
	kept := string(out.KeepFAR)

	r, out := restored(kept, true, nil)
	if r.FAR != MaxFAR || r.Threshold != atMax || r.Calib.Threshold != atMax || out.ForgetFAR {
		t.Errorf("restored: FAR %v, threshold %v (suggested %v), forget %v; want %v, %v, the record kept", r.FAR, r.Threshold, r.Calib.Threshold, out.ForgetFAR, MaxFAR, atMax)
	}
	r, _ = restored("", false, nil)
	r.SetThreshold(0.5)
	if out := r.RestoreFAR(kept, true, nil); r.FAR != MaxFAR || r.Calib.Threshold != atMax || r.Threshold != 0.5 || !r.handSet || out.ForgetThreshold {
		t.Errorf("restored once ready: FAR %v, suggested %v, threshold %v set by hand %v, forgets it %v; want %v, %v, 0.5 set by hand kept", r.FAR, r.Calib.Threshold, r.Threshold, r.handSet, out.ForgetThreshold, MaxFAR, atMax)
	}

	for _, bad := range []struct {
		data string
		err  error
	}{
		{data: "{"},
		{data: "0.2"},
		{data: `{"version":2,"far":0.2}`},
		{data: `{"version":1,"far":0}`},
		{data: `{"version":1,"far":-0.1}`},
		{data: `{"version":1,"far":0.5}`},
		{err: recordTypeError{app.TypeNumber}},
	} {
		r, out := restored(bad.data, bad.err == nil, bad.err)
		if r.FAR != DefaultFAR || r.Threshold != atDefault || !out.ForgetFAR {
			t.Errorf("restored %q (%v): FAR %v, threshold %v, forget %v; want %v, %v, the record deleted", bad.data, bad.err, r.FAR, r.Threshold, out.ForgetFAR, DefaultFAR, atDefault)
		}
	}
	if r, out := restored("", false, errors.New("IndexedDB failed: blocked")); r.FAR != DefaultFAR || out.ForgetFAR {
		t.Errorf("IndexedDB failed: FAR %v, forget %v; want %v, nothing deleted", r.FAR, out.ForgetFAR, DefaultFAR)
	}
}

// TestVerifyLinkLoadFailsRestores: a page opened by a link's ?model=
// reads the stored encoder while the link's load is under way, and holds
// it back: a fetch that fails, a file the page refuses, a model the
// worker refuses or a worker that dies loading it restores it then, with
// the threshold set by hand on it, the link's failure still said (a
// death during the fetch leaves it to the fetch's end); a link's model
// that takes drops it (it replaced it in IndexedDB). Before,
// RestoreEncoder skipped it for good: whether the page came back with its
// encoder depended on whether IndexedDB or the server answered first;
// and a worker that died loading the link's model left the page without
// an encoder until a reload.
func TestVerifyLinkLoadFailsRestores(t *testing.T) {
	link, stored := modelFile(t, face.DefaultInput), modelFileOf(t, "lenet-s", face.DefaultInput)
	rec := MarshalStoredEncoder(StoredEncoder{Version: EncoderVersion, Source: "arcface trained here", Model: stored})
	hand := MarshalStoredThreshold(StoredThreshold{Version: ThresholdVersion, Encoder: recordSum(rec), Threshold: 0.25})
	// opened returns a page opened by the link, which read the stored
	// encoder during the link's fetch.
	opened := func() VerifyState {
		s := enrolled()
		s.SelectModel("m1")
		if _, ok := s.FetchModel(); !ok {
			t.Fatal("the link's fetch did not start")
		}
		out := s.RestoreEncoder(string(rec), true, nil)
		out = out.and(s.RestoreThreshold(string(hand), true, nil))
		if len(out.Post) > 0 || out.Forget || out.ForgetThreshold {
			t.Fatalf("read during the link's fetch: posted %v, forget %v, %v; want it held back", ops(t, out), out.Forget, out.ForgetThreshold)
		}
		return s
	}
	// restores checks that out loads the stored encoder, which comes back
	// with its threshold, and the model note says why the link's did not.
	restores := func(s *VerifyState, out Out, what, note string) {
		t.Helper()
		if _, m := posted(t, out); !bytes.Equal(m, stored) || s.Source != "arcface trained here" || !strings.HasPrefix(s.ModelNote, note) {
			t.Fatalf("%s: loaded %d bytes (stored %d), encoder %q, note %q; want the stored encoder loaded, a note that starts %q", what, len(m), len(stored), s.Source, s.ModelNote, note)
		}
		if out := s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())); out.Keep != nil || out.Forget || s.Phase != PhaseReady || s.Threshold != 0.25 || !s.handSet {
			t.Errorf("%s: keep %d bytes, forget %v, phase %d, threshold %v set by hand %v; want it ready as stored, 0.25 set by hand", what, len(out.Keep), out.Forget, s.Phase, s.Threshold, s.handSet)
		}
	}

	s := opened()
	restores(&s, s.ModelFetched(nil, errors.New("404 Not Found"), "server model m1"), "the fetch failed", "server model m1 could not be read: 404 Not Found")
	s = opened()
	restores(&s, s.ModelFetched([]byte("not a model"), nil, "server model m1"), "the page refused it", "server model m1 could not be loaded")
	s = opened()
	if _, m := posted(t, s.ModelFetched(link, nil, "server model m1")); !bytes.Equal(m, link) {
		t.Fatalf("the link's model fetched: loaded %d bytes, want its %d", len(m), len(link))
	}
	restores(&s, s.Receive(refusedMsg(galleryID(s.gallerySeq), "the model could not be loaded: bad weights")), "the worker refused it", "server model m1 could not be loaded: bad weights")
	s = opened()
	s.ModelFetched(link, nil, "server model m1")
	out := s.Crash("the trainer's worker stopped: out of memory")
	if out.Forget || out.ForgetThreshold {
		t.Errorf("the worker died loading the link's model: forget %v, %v; want the stored records left alone", out.Forget, out.ForgetThreshold)
	}
	restores(&s, out, "the worker died loading it", "server model m1 could not be loaded: the trainer's worker stopped: out of memory")
	// The worker dies during the link's fetch: the fetch's end decides.
	s = opened()
	if out := s.Crash("out of memory"); len(out.Post) > 0 || out.Forget || out.ForgetThreshold {
		t.Errorf("the worker died during the link's fetch: posted %v, forget %v, %v; want nothing until the fetch ends", ops(t, out), out.Forget, out.ForgetThreshold)
	}
	restores(&s, s.ModelFetched(nil, errors.New("404 Not Found"), "server model m1"), "the fetch failed after a crash", "server model m1 could not be read: 404 Not Found")

	// The link's model takes: the stored one is dropped.
	s = opened()
	s.ModelFetched(link, nil, "server model m1")
	if rec := kept(t, s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))); rec.Source != "server model m1" {
		t.Fatalf("the link's model took: kept %q, want server model m1", rec.Source)
	}
	// Later, the worker dies, and a file loaded then is refused: nothing
	// is restored (the record read at the start is no longer stored).
	if out := s.Crash("out of memory"); len(out.Post) > 0 || out.Forget {
		t.Errorf("a crash after the link's took: posted %v, forget %v; want nothing", ops(t, out), out.Forget)
	}
	s.LoadModel(link, nil, "model file m.safetensors")
	if out := s.Receive(refusedMsg(galleryID(s.gallerySeq), "the model could not be loaded: bad weights")); len(out.Post) > 0 || s.hasEncoder {
		t.Errorf("a load refused after the link's took: posted %v, encoder %v; want nothing, no encoder", ops(t, out), s.hasEncoder)
	}
}

// TestTrainLink: once snapshots have been sent, the page links to the Jobs
// page set to train the faces preset on that data set, the one the upload
// started with; none while an upload is under way, or after one that
// stopped, having sent none or part of them (the data set lacks the rest). Before, the page said where they went and left the user to find
// how to train on them.
func TestTrainLink(t *testing.T) {
	s := enrolled()
	s.SetDataset("my-faces")
	if _, err := s.StartUpload(); err != nil {
		t.Fatal(err)
	}
	s.SetDataset("other")
	if l := s.TrainLink(); l != "" {
		t.Errorf("sending: TrainLink %q, want none", l)
	}
	s.Uploaded(6, 6, nil)
	if got, want := s.TrainLink(), "/jobs#data=my-faces&preset=faces"; got != want {
		t.Errorf("sent: TrainLink %q, want %q", got, want)
	}
	if _, err := s.StartUpload(); err != nil {
		t.Fatal(err)
	}
	s.Uploaded(0, 0, errors.New("this server needs its token for changes (401)"))
	if l := s.TrainLink(); l != "" {
		t.Errorf("none sent: TrainLink %q, want none", l)
	}
	// Part of them: the data set lacks the rest.
	if _, err := s.StartUpload(); err != nil {
		t.Fatal(err)
	}
	s.Uploaded(3, 3, errors.New("the server could not be reached"))
	if l := s.TrainLink(); l != "" {
		t.Errorf("half sent: TrainLink %q, want none", l)
	}
	// All of them, the server holding them already.
	if _, err := s.StartUpload(); err != nil {
		t.Fatal(err)
	}
	s.Uploaded(6, 0, nil)
	if got, want := s.TrainLink(), "/jobs#data=other&preset=faces"; got != want {
		t.Errorf("sent again: TrainLink %q, want %q", got, want)
	}
}

// TestRemoveIdentity: "Remove <name>" takes a person and every snapshot
// of them out at once, said on the screen readers' line with the counts
// after; as after any deletion, the gallery is stored and, with an
// encoder, embedded again, and the live answers wait for its templates
// and calibration, which no longer know the person. A name no longer
// there (a click drawn before another tab's gallery came) does nothing.
func TestRemoveIdentity(t *testing.T) {
	s := enrolled()
	carol := s.Gallery.Identities[0].Crops[0]
	s.Gallery.Add("carol", carol, carol)
	c, sn := float32(math.Cos(0.1)), float32(math.Sin(0.1))
	runSteps(t, &s, []step{
		{name: "train", do: (*VerifyState).Train, phase: PhaseTraining, posts: []string{"start"}},
		{name: "done", do: func(s *VerifyState) Out { return s.Receive(stateMsg("done")) }, phase: PhaseEmbedding, posts: []string{"embed:gallery", "export"}},
		{name: "three people embedded", do: func(s *VerifyState) Out {
			return s.Receive(embMsg(galleryID(s.gallerySeq), 2, append(galleryEmbs(), -1, 0, -c, sn)))
		}, phase: PhaseReady, check: func(t *testing.T, s *VerifyState) {
			if !slices.Equal(s.Names, []string{"alice", "bob", "carol"}) {
				t.Errorf("templates of %q, want alice, bob, carol", s.Names)
			}
		}},
		{name: "nobody removed", do: func(s *VerifyState) Out { return s.RemoveIdentity("dan") }, phase: PhaseReady},
		{name: "carol removed", do: func(s *VerifyState) Out { return s.RemoveIdentity("carol") }, phase: PhaseEmbedding, store: true, posts: []string{"embed:gallery"},
			check: func(t *testing.T, s *VerifyState) {
				if got, want := s.RecordedLine, "removed carol and 2 snapshots (2 identities, 6 snapshots)"; got != want {
					t.Errorf("RecordedLine %q, want %q", got, want)
				}
				if !slices.Equal(s.Gallery.Names(), []string{"alice", "bob"}) || s.Live() {
					t.Errorf("the gallery %q, live %v; want alice and bob, the live answers waiting", s.Gallery.Names(), s.Live())
				}
			}},
		{name: "two people embedded", do: func(s *VerifyState) Out { return s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs())) }, phase: PhaseReady,
			check: func(t *testing.T, s *VerifyState) {
				if !slices.Equal(s.Names, []string{"alice", "bob"}) || len(s.templates) != 2 {
					t.Errorf("templates of %q (%d), want alice and bob", s.Names, len(s.templates))
				}
			}},
	})
}

// TestStoredElsewhere: the gallery another tab stored becomes the one
// shown, with this page's changes not yet stored made to it: stored
// again, but for a hold's, which its end stores. The record the page
// stored itself, one it cannot read, and any while the page restores or
// holds a record it could not restore, change nothing.
func TestStoredElsewhere(t *testing.T) {
	s := enrolled()
	zero := s.Gallery.Identities[0].Crops[0]
	mine := MarshalGallery(s.Gallery)
	s.Synced(s.Gallery.clone(), recordSum(mine))
	theirs := s.Gallery.clone()
	theirs.Add("carol", zero)
	data := string(MarshalGallery(theirs))

	if out := s.StoredElsewhere(string(mine), true, nil); out.Store || s.Note != "" || s.Gallery.Count() != 6 {
		t.Errorf("its own record: store %v, note %q, %d snapshots; want nothing", out.Store, s.Note, s.Gallery.Count())
	}
	for _, c := range []struct {
		what string
		data string
		set  func(s *VerifyState)
	}{
		{"a record that is no gallery", "{", func(*VerifyState) {}},
		{"while restoring", data, func(s *VerifyState) { s.Restoring() }},
		{"while unread", data, func(s *VerifyState) { s.unread = true }},
	} {
		s := s
		s.Gallery = s.Gallery.clone()
		c.set(&s)
		if out := s.StoredElsewhere(c.data, true, nil); out.Store || len(out.Post) > 0 || s.Gallery.Count() != 6 {
			t.Errorf("%s: store %v, %d snapshots; want nothing", c.what, out.Store, s.Gallery.Count())
		}
	}

	s.Gallery.Add("dan", zero) // a store that failed
	out := s.StoredElsewhere(data, true, nil)
	if got := s.Gallery.Names(); !slices.Equal(got, []string{"alice", "bob", "carol", "dan"}) || !out.Store || s.StoreExpects() != recordSum([]byte(data)) ||
		s.Note != "another tab changed the stored gallery: 4 identities, 8 snapshots" {
		t.Errorf("theirs with carol over dan unstored: %q, store %v, note %q; want all four, stored over theirs", got, out.Store, s.Note)
	}

	s.Synced(s.Gallery.clone(), "mine")
	s.SetName("eve")
	s.Record(true)
	okFrame(&s, 0)
	theirs = s.stored.clone()
	theirs.Remove(0)
	if out := s.StoredElsewhere(string(MarshalGallery(theirs)), true, nil); out.Store || !s.Recording ||
		!slices.Equal(s.Gallery.Names(), []string{"bob", "carol", "dan", "eve"}) {
		t.Errorf("alice removed there during a hold: store %v, recording %v, %q; want no store yet, the hold going on, eve kept", out.Store, s.Recording, s.Gallery.Names())
	}
	if out := s.Record(false); !out.Store {
		t.Error("the hold's end: not stored")
	}
}
