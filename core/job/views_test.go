package job

import (
	"math"
	"strings"
	"testing"

	"metriclab/core"
	"metriclab/core/eval"
	"metriclab/core/msg"
)

// TestViewsJob: a job of views trains the model that jobs of its windows
// (req.Crop) train alone on the same batches, side by side to the last
// bit; its threshold is the ensemble's, chosen on the held-out images it
// embeds V·D wide; its snapshot is V·D wide, with the views' heads
// joined (core.Spec.ClassWeights) as class weights that classify; it takes V times the memory
// of one view; and a CUDA device is refused.
func TestViewsJob(t *testing.T) {
	set := bars(16, 3)
	req := barsRequest()
	req.Arch, req.Loss, req.Epochs, req.Augment = "lenet-s", "cosface", 2, "faces"
	req.Views = []msg.Crop{{}, msg.Crops["upper"], msg.Crops["lower"]}
	opts := Options{Val: 16, SnapshotPoints: 16, Threads: 1}
	j := trainAll(t, req, set, opts)
	m := j.Model()
	if len(m.Meta.Spec.Views) != 3 || m.Meta.Spec.EmbedDim() != 9 {
		t.Fatalf("the model's views %v, EmbedDim %d; want 3 views, 9", m.Meta.Spec.Views, m.Meta.Spec.EmbedDim())
	}
	for i, crop := range req.Views {
		one := req
		one.Views, one.Crop = nil, crop
		alone := trainAll(t, one, set, opts).Model()
		for name, want := range alone.Params {
			got, ok := m.Params[core.ViewPrefix(i)+name]
			if !ok {
				t.Fatalf("view %d: no %s", i, core.ViewPrefix(i)+name)
			}
			for k := range want.Data {
				if got.Data[k] != want.Data[k] {
					t.Fatalf("view %d's %s[%d] = %g, alone %g", i, name, k, got.Data[k], want.Data[k])
				}
			}
		}
	}
	e, err := EmbedSet(m.Meta.Spec, m.Params, j.val)
	if err != nil {
		t.Fatal(err)
	}
	if e.D != 9 {
		t.Fatalf("held-out embeddings %d wide, want 9", e.D)
	}
	if v := eval.Verification(e, eval.Cosine{}, j.folds); v.Threshold != m.Meta.Threshold {
		t.Errorf("threshold %g, the ensemble's on the held-out images %g", m.Meta.Threshold, v.Threshold)
	}
	snap, err := j.Snapshot()
	if err != nil || snap.Dim != 9 || len(snap.Points) != 9*len(snap.Labels) || len(snap.Weights) != 9*len(set.Classes) {
		t.Errorf("snapshot of %d values of D %d for %d points, %d class weights, %v", len(snap.Points), snap.Dim, len(snap.Labels), len(snap.Weights), err)
	}
	// The joined head classifies the held-out images (bars are easy).
	if acc := j.headAccuracy(e, m.Params); acc < 0.9 {
		t.Errorf("the joined head's accuracy on the held-out images %g, want ≥ 0.9", acc)
	}
	one := req
	one.Views = nil
	check := Options{CheckOnly: true}
	jv, err := New(req, set, nil, check)
	if err != nil {
		t.Fatal(err)
	}
	j1, err := New(one, set, nil, check)
	if err != nil {
		t.Fatal(err)
	}
	if jv.TrainBytes() != 3*j1.TrainBytes() {
		t.Errorf("training memory %d, want 3 × one view's %d", jv.TrainBytes(), j1.TrainBytes())
	}
	req.Device = "cuda"
	if _, err := New(req, set, nil, check); err == nil || !strings.Contains(err.Error(), "no views (views whole,upper,lower)") {
		t.Errorf("views on cuda: %v", err)
	}
}

// TestViewsDivergedInLaterView: a job of views whose view 1 diverges
// after view 0 took the step (a NaN put in view 1's fc1 bias after epoch
// 1, the best) ends with the progress of the last step every view took,
// and says so; view 0's step counted, a step too many.
func TestViewsDivergedInLaterView(t *testing.T) {
	req := barsRequest()
	req.Epochs, req.EarlyStop = 4, 3
	req.Views = []msg.Crop{{}, msg.Crops["upper"]}
	j, err := New(req, bars(10, 3), nil, Options{Val: 8})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // epoch 1
		if _, err := j.Step(); err != nil {
			t.Fatal(err)
		}
	}
	params := j.tr.Params()
	params[core.ViewPrefix(1)+"encoder.fc1.bias"].Data[0] = float32(math.NaN())
	if err := j.tr.SetParams(params); err != nil {
		t.Fatal(err)
	}
	p, err := j.Step()
	if err != nil || j.Diverged() == nil {
		t.Fatalf("step 3: %v, Diverged() = %v; want the run stopped", err, j.Diverged())
	}
	if p.Step != 2 || p.Epoch != 1 || j.Iter() != 2 || j.Model().Meta.Provenance.Steps != 2 {
		t.Errorf("progress at epoch %d, step %d, Iter %d, the model's steps %d; want step 2 of epoch 1 throughout", p.Epoch, p.Step, j.Iter(), j.Model().Meta.Provenance.Steps)
	}
	if want := "early stopping ended the run at step 2 "; !strings.Contains(j.Diverged().Error(), want) {
		t.Errorf("Diverged() = %v, want it to say %q", j.Diverged(), want)
	}
}
