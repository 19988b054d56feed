package core

import (
	"runtime"
	"testing"
	"time"
)

// TestGraphsAreFreed: an Encoder or a Trainer nobody holds is freed with
// its graph. Gorgonia's tape machine carries a finalizer and sits in a
// cycle with the graph, which kept every one alive (an Encoder of lenet-l
// at batch 256 holds 170 MB: training leaked that at every epoch end).
func TestGraphsAreFreed(t *testing.T) {
	spec := smallSpec(ArchLeNetS, 1, 16, 16, 4)
	freed := make(chan string, 2)
	func() {
		tr, _ := newTestTrainer(t, spec, 4, 3, Float32, DefaultOpt(OptSGD), 1)
		enc, err := NewEncoder(spec, tr.Params(), 8)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := enc.Embed(nil, make([]float32, 3*spec.Input.Size()), 3); err != nil {
			t.Fatal(err)
		}
		runtime.AddCleanup(tr, func(s string) { freed <- s }, "trainer")
		runtime.AddCleanup(enc, func(s string) { freed <- s }, "encoder")
	}()
	got := map[string]bool{}
	for deadline := time.Now().Add(5 * time.Second); len(got) < 2 && time.Now().Before(deadline); {
		runtime.GC()
		select {
		case s := <-freed:
			got[s] = true
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !got["trainer"] || !got["encoder"] {
		t.Errorf("freed %v, want the trainer and the encoder", got)
	}
}
