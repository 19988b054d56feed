package job

import (
	"errors"
	"math"
	"strings"
	"testing"

	"metriclab/core"
)

// TestShardsTrainAsOneJob runs two data-parallel workers (Options.Shard 0
// and 1 of 2), averaging their gradients as the browser's workers do, beside
// one job with the whole batch, augmentation and composition on: after two epochs the
// workers' parameters are equal to each other bit for bit and to the single
// job's to float32 rounding, and their mean losses follow its losses.
func TestShardsTrainAsOneJob(t *testing.T) {
	set := bars(20, 5)
	req := barsRequest()
	req.Epochs, req.Augment, req.Compose = 2, "faces", "2x1"
	one, err := New(req, set, nil, Options{Val: 8, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	var w [2]*Job
	for i := range w {
		if w[i], err = New(req, set, nil, Options{Val: 8, Threads: 1, Shard: Shard{Index: i, Count: 2}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w[0].Step(); err == nil {
		t.Error("Step on a worker: no error")
	}
	n := w[0].GradLen()
	if n == 0 || n != w[1].GradLen() {
		t.Fatalf("gradient lengths %d and %d", n, w[1].GradLen())
	}
	g0, g1 := make([]float32, n), make([]float32, n)
	for !one.Done() {
		p, err := one.Step()
		if err != nil {
			t.Fatal(err)
		}
		l0, err := w[0].ShardGradients(g0)
		if err != nil {
			t.Fatal(err)
		}
		l1, err := w[1].ShardGradients(g1)
		if err != nil {
			t.Fatal(err)
		}
		for i := range g0 {
			g0[i] = (g0[i] + g1[i]) / 2
		}
		var ps [2]float64
		for i := range w {
			q, err := w[i].ApplyShard(g0, (l0+l1)/2)
			if err != nil {
				t.Fatal(err)
			}
			ps[i] = q.Loss
			if q.Step != p.Step || q.EpochEnd != p.EpochEnd {
				t.Fatalf("worker %d at step %d (epoch end %v), the job at %d (%v)", i, q.Step, q.EpochEnd, p.Step, p.EpochEnd)
			}
			if q.EpochEnd && (q.Verification != nil) != (i == 0) {
				t.Errorf("step %d: worker %d validated: %v", q.Step, i, q.Verification != nil)
			}
		}
		if d := math.Abs(ps[0] - p.Loss); d > 1e-3*math.Abs(p.Loss)+1e-5 {
			t.Errorf("step %d: workers' mean loss %g, the job's %g", p.Step, ps[0], p.Loss)
		}
	}
	if !w[0].Done() || !w[1].Done() {
		t.Fatal("the workers did not finish with the job")
	}
	a, b, want := w[0].tr.Params(), w[1].tr.Params(), one.tr.Params()
	for name, v := range want {
		for i, x := range v.Data {
			if a[name].Data[i] != b[name].Data[i] {
				t.Fatalf("%s[%d]: workers differ, %g and %g", name, i, a[name].Data[i], b[name].Data[i])
			}
			if d := math.Abs(float64(a[name].Data[i] - x)); d > 1e-4+1e-3*math.Abs(float64(x)) {
				t.Fatalf("%s[%d]: workers %g, the job %g", name, i, a[name].Data[i], x)
			}
		}
	}
}

// TestShardRefusals: a batch that does not split, a worker outside its
// group, and early stopping on a worker of several (worker 0 alone
// validates, so the others could not stop with it) are bad requests.
func TestShardRefusals(t *testing.T) {
	set := bars(20, 5)
	for _, sh := range []Shard{{Index: 0, Count: 3}, {Index: 2, Count: 2}, {Index: -1, Count: 2}} {
		if _, err := New(barsRequest(), set, nil, Options{Val: -1, Shard: sh}); err == nil {
			t.Errorf("shard %+v of a batch of 16: no error", sh)
		}
	}
	stop := barsRequest()
	stop.EarlyStop = 1
	if _, err := New(stop, set, nil, Options{Val: 8}); err != nil {
		t.Fatalf("early stopping on a job of its own: %v", err)
	}
	for _, sh := range []Shard{{Index: 0, Count: 2}, {Index: 1, Count: 2}} {
		if _, err := New(stop, set, nil, Options{Val: 8, Shard: sh}); !errors.Is(err, ErrRequest) || !strings.Contains(err.Error(), "early stopping needs one worker") {
			t.Errorf("early stopping on worker %d of 2: %v", sh.Index, err)
		}
	}
	var _ core.Sharded = (*core.Trainer)(nil)
}
