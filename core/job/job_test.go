package job

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/eval"
	"metriclab/core/msg"
	"metriclab/core/safetensors"
	"metriclab/losses"
)

// bars returns perClass images of 1×16×16 for each of 4 classes: class c
// is a bright horizontal bar across rows 4c..4c+1 (its row shifted by −1,
// 0 or +1) over uniform noise in [0, 0.3).
func bars(perClass int, seed uint64) *data.Set {
	const side, classes = 16, 4
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &data.Set{N: perClass * classes, Input: core.Input{Channels: 1, Height: side, Width: side},
		Classes: []string{"top", "upper", "lower", "bottom"}}
	s.X = make([]float32, s.N*side*side)
	for i := range s.N {
		c := i % classes
		s.Labels = append(s.Labels, c)
		img := s.X[i*side*side : (i+1)*side*side]
		for k := range img {
			img[k] = 0.3 * rng.Float32()
		}
		row := min(side-2, max(0, 4*c+rng.IntN(3)-1))
		for r := row; r < row+2; r++ {
			for x := 0; x < side; x++ {
				img[r*side+x] = 1
			}
		}
	}
	return s
}

func barsRequest() msg.TrainRequest {
	return msg.TrainRequest{Data: "bars", Arch: "mlp", Loss: "arcface", LossParams: map[string]float64{"m": 0.3},
		Dim: 3, Epochs: 3, Batch: 16, LR: 0.003, Opt: "adam", Seed: 7}
}

// TestJobTrains trains an mlp with ArcFace on 4 classes of bars: 256
// training images, 24 held out (6 per class), 14 steps of 16 per epoch.
func TestJobTrains(t *testing.T) {
	train, test := bars(64, 1), bars(10, 2)
	j, err := New(barsRequest(), train, test, Options{Val: 24, SnapshotPoints: 40})
	if err != nil {
		t.Fatal(err)
	}
	if tn, vn := j.Sizes(); tn != 232 || vn != 24 {
		t.Fatalf("Sizes() = %d, %d; want 232 trained, 24 held out", tn, vn)
	}
	if per, total := j.Steps(); per != 14 || total != 42 {
		t.Fatalf("Steps() = %d, %d; want 14 per epoch, 42", per, total)
	}
	var losses []float64
	var last msg.Progress
	for !j.Done() {
		p, err := j.Step()
		if err != nil {
			t.Fatalf("step %d: %v", len(losses)+1, err)
		}
		losses = append(losses, p.Loss)
		if p.Step != len(losses) || p.Steps != 42 || p.Epoch != (p.Step-1)/14+1 {
			t.Errorf("progress %+v at step %d", p, len(losses))
		}
		if end := p.Step%14 == 0; p.EpochEnd != end || (p.Verification != nil) != end {
			t.Errorf("step %d: EpochEnd %v, Verification %v; want both only at epoch ends", p.Step, p.EpochEnd, p.Verification)
		}
		// The learning rate of the step reported: the cosine schedule's
		// over the 42 steps, from the request's 0.003 at the first (the
		// 0-th).
		want := 0.003 * 0.5 * (1 + math.Cos(math.Pi*float64(p.Step-1)/42))
		if !(p.ImgPerS > 0) || p.ETA < 0 || math.Abs(p.LR-want) > 1e-12 {
			t.Errorf("step %d: img/s %g, ETA %g, lr %g (want %g)", p.Step, p.ImgPerS, p.ETA, p.LR, want)
		}
		last = p
	}
	if len(losses) != 42 {
		t.Fatalf("%d steps until Done, want 42", len(losses))
	}
	if _, err := j.Step(); err == nil {
		t.Error("Step after Done: no error")
	}
	first, end := mean(losses[:5]), mean(losses[len(losses)-5:])
	if !(end < 0.7*first) {
		t.Errorf("loss from %.3f (first 5 steps) to %.3f (last 5): want it to fall by 30%%", first, end)
	}
	v := last.Verification
	if v == nil || v.Accuracy < 0.9 || v.Centre < 0.9 || v.TARAtFAR["0.1"] <= 0 {
		t.Errorf("last verification %+v: want ≥ 0.9 on 4 bar positions", v)
	}
	// The head's accuracy is the snapshot's test images' (Progress.Accuracy
	// at the steps after one).
	if _, err := j.Snapshot(); err != nil || j.accuracy < 0.9 {
		t.Errorf("the snapshot's accuracy %g (%v): want ≥ 0.9 on 4 bar positions", j.accuracy, err)
	}
	if last.ETA != 0 || last.ImgPerS <= 0 {
		t.Errorf("last progress: ETA %g, img/s %g; want 0 left", last.ETA, last.ImgPerS)
	}

	s, err := j.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// 40 points of 4 classes of 10: G = 4·45 = 180 genuine pairs exist,
	// I = 780 − 180 = 600 impostor pairs, so one fold of min(1000, 180,
	// 600) = 180 of each.
	if s.Dim != 3 || len(s.Points) != 40*3 || len(s.Labels) != 40 || len(s.Weights) != 4*3 || len(s.Classes) != 4 {
		t.Errorf("snapshot sizes: dim %d, %d points, %d labels, %d weights, %d classes; want 3, 120, 40, 12, 4",
			s.Dim, len(s.Points), len(s.Labels), len(s.Weights), len(s.Classes))
	}
	if sum(s.Genuine) != 180 || sum(s.Impostor) != 180 || len(s.Genuine) != HistogramBins {
		t.Errorf("histograms sum to %d genuine, %d impostor in %d bins; want 180, 180 in %d", sum(s.Genuine), sum(s.Impostor), len(s.Genuine), HistogramBins)
	}
	if g, i := meanBin(s.Genuine), meanBin(s.Impostor); !(g+5 < i) {
		t.Errorf("mean angle bin: genuine %.1f, impostor %.1f; want genuine pairs much closer", g, i)
	}
	if s.Margin != 0.3 || s.Threshold != v.Threshold || s.Threshold == 0 {
		t.Errorf("snapshot margin %g, threshold %g; want 0.3 and the verification's %g", s.Margin, s.Threshold, v.Threshold)
	}
	for c := range 4 {
		if n := count(s.Labels, c); n != 10 {
			t.Errorf("class %d has %d snapshot points, want 10 (stratified)", c, n)
		}
	}
	// The snapshot's points are fixed: a second one without a step is equal.
	s2, err := j.Snapshot()
	if err != nil || !slices.Equal(s2.Points, s.Points) || !slices.Equal(s2.Labels, s.Labels) {
		t.Errorf("second snapshot differs: %v", err)
	}

	m := j.Model()
	if m.Meta.Threshold != v.Threshold || m.Meta.FAR != v.FAR || m.Meta.Provenance.Steps != 42 ||
		m.Meta.Loss != "arcface" || m.Meta.LossParams["m"] != 0.3 || !slices.Equal(m.Meta.Classes, train.Classes) ||
		m.Meta.Spec.Input.Height != 16 || m.Meta.Spec.Input.Mean != 0.5 {
		t.Errorf("model metadata %+v", m.Meta)
	}
	if w := m.Params["head.weight"]; !slices.Equal(w.Shape, []int{4, 3}) {
		t.Errorf("head.weight shape %v, want [4 3]", w.Shape)
	}
}

func TestSameSeedSameLosses(t *testing.T) {
	train := bars(32, 3)
	run := func(seed int64) []float64 {
		req := barsRequest()
		req.Seed = seed
		j, err := New(req, train, nil, Options{Val: 16})
		if err != nil {
			t.Fatal(err)
		}
		var out []float64
		for range 8 {
			p, err := j.Step()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p.Loss)
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	if !slices.Equal(a, b) {
		t.Errorf("seed 7 twice: losses %v and %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 7 and 8 give the same losses %v", a)
	}
}

// TestRequestTrainsTheSameRun: the request with what New resolved
// (Request: the optimiser, learning rate, schedule and weight decay of
// their defaults) trains the run of the request that left them out, for
// each optimiser: the server records it, and resumes a job of either
// record (one stored before it recorded them) from its checkpoint.
func TestRequestTrainsTheSameRun(t *testing.T) {
	train := bars(32, 3)
	losses := func(req msg.TrainRequest) []float64 {
		j, err := New(req, train, nil, Options{Val: 16})
		if err != nil {
			t.Fatal(err)
		}
		var out []float64
		for range 6 {
			p, err := j.Step()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p.Loss)
		}
		return out
	}
	for _, opt := range []string{"", "sgd"} {
		req := barsRequest()
		req.Opt, req.LR, req.Schedule, req.WeightDecay = opt, 0, "", nil
		j, err := New(req, train, nil, Options{Val: 16, CheckOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		r := j.Request()
		want := core.DefaultOpt(cmp.Or(opt, "adam"))
		if r.Opt != want.Name || r.LR != want.LR || r.Schedule != "cosine" || r.WeightDecay == nil || *r.WeightDecay != want.WeightDecay {
			t.Errorf("opt %q: Request gives %q, lr %v, schedule %q, weight decay %v; want %s's defaults and cosine", opt, r.Opt, r.LR, r.Schedule, r.WeightDecay, want.Name)
		}
		if a, b := losses(req), losses(r); !slices.Equal(a, b) {
			t.Errorf("opt %q: losses %v, and of its Request %v", opt, a, b)
		}
	}
}

// TestTripletBatchesArePK checks that every triplet batch of 8 with k = 4
// holds P = 2 classes of K = 4 images each, one class after the other.
func TestTripletBatchesArePK(t *testing.T) {
	req := barsRequest()
	req.Loss, req.LossParams, req.Batch, req.Epochs = "triplet", nil, 8, 1
	j, err := New(req, bars(16, 4), nil, Options{Val: -1})
	if err != nil {
		t.Fatal(err)
	}
	for !j.Done() {
		if _, err := j.Step(); err != nil {
			t.Fatal(err)
		}
		l := j.labels
		if l[0] != l[1] || l[0] != l[2] || l[0] != l[3] || l[4] != l[5] || l[4] != l[6] || l[4] != l[7] || l[0] == l[4] {
			t.Fatalf("batch labels %v: want 2 classes × 4", l)
		}
	}
	// A plain loss gets shuffled batches: some batch is not P×K.
	req.Loss = "cosface"
	j, err = New(req, bars(16, 4), nil, Options{Val: -1})
	if err != nil {
		t.Fatal(err)
	}
	pk := true
	for !j.Done() {
		if _, err := j.Step(); err != nil {
			t.Fatal(err)
		}
		l := j.labels
		pk = pk && l[0] == l[3] && l[4] == l[7]
	}
	if pk {
		t.Error("cosface batches all look P×K: want shuffled batches")
	}
}

// TestPairLossNeedsTwoImages: contrastive and triplet on identities of one
// image each, which give no genuine pair (triplet's P×K batches only
// copies of one image), are refused as a request error of one line naming
// the identities; a classification loss trains on them, and one identity
// of two images is enough for a pair loss. Before, both trained.
func TestPairLossNeedsTwoImages(t *testing.T) {
	singles := func(twice bool) *data.Set {
		s := bars(5, 9) // 20 images, relabelled one identity each
		s.Classes = nil
		for i := range s.N {
			s.Labels[i] = i
			s.Classes = append(s.Classes, fmt.Sprintf("id%d", i))
		}
		if twice {
			s.Labels[19], s.Classes = 18, s.Classes[:19]
		}
		return s
	}
	for _, loss := range []string{"triplet", "contrastive", "arcface"} {
		req := barsRequest()
		req.Loss, req.LossParams, req.Batch = loss, nil, 8
		j, err := New(req, singles(false), nil, Options{Val: -1})
		if err == nil {
			j.Close()
		}
		want := loss + " learns from two images of one identity, and none of the 20 training identities has two"
		if loss == "arcface" && err != nil {
			t.Errorf("arcface on 20 identities of one image: %v", err)
		} else if loss != "arcface" && (err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") || !errors.Is(err, ErrRequest)) {
			t.Errorf("%s on 20 identities of one image: %v; want a request error of one line containing %q", loss, err, want)
		}
		if j, err := New(req, singles(true), nil, Options{Val: -1}); err != nil {
			t.Errorf("%s on 19 identities, one of them of two images: %v", loss, err)
		} else {
			j.Close()
		}
	}
}

func TestBadRequests(t *testing.T) {
	train := bars(16, 5)
	for _, tc := range []struct {
		name string
		edit func(r *msg.TrainRequest)
		want string
	}{
		{"unknown loss", func(r *msg.TrainRequest) { r.Loss = "magic" }, `unknown loss "magic"`},
		{"dim 0", func(r *msg.TrainRequest) { r.Dim = 0 }, "embedding dimension 0"},
		{"unknown arch", func(r *msg.TrainRequest) { r.Arch = "vgg" }, `unknown architecture "vgg"`},
		{"loss param out of range", func(r *msg.TrainRequest) { r.LossParams = map[string]float64{"m": -1} }, "out of range"},
		{"classes out of range", func(r *msg.TrainRequest) { r.Classes = "0-7" }, "7"},
		{"one class", func(r *msg.TrainRequest) { r.Classes = "2" }, "at least 2 classes"},
		{"batch bigger than data", func(r *msg.TrainRequest) { r.Batch = 100 }, "fewer than one batch of 100: give a batch of 56 or less"},
		{"batch 1", func(r *msg.TrainRequest) { r.Batch = 1 }, "batch 1 out of range"},
		{"bad optimiser", func(r *msg.TrainRequest) { r.Opt = "lbfgs" }, `unknown optimiser "lbfgs"`},
		{"bad schedule", func(r *msg.TrainRequest) { r.Schedule = "wavy" }, `unknown schedule "wavy"`},
		{"negative lr", func(r *msg.TrainRequest) { r.LR = -1 }, "learning rate -1"},
		{"no epochs", func(r *msg.TrainRequest) { r.Epochs = 0 }, "epochs 0"},
		{"bad augmentation", func(r *msg.TrainRequest) { r.Augment = "mirror" }, `unknown augmentation "mirror"`},
		{"unknown preset", func(r *msg.TrainRequest) { r.Preset = "cats" }, `unknown preset "cats" (want digits, faces, face-photos)`},
		{"negative patience", func(r *msg.TrainRequest) { r.EarlyStop = -1 }, "early stop after -1 epochs"},
		{"negative weight decay", func(r *msg.TrainRequest) { wd := -1.0; r.WeightDecay = &wd }, "weight decay -1"},
		{"crop outside", func(r *msg.TrainRequest) { r.Crop = msg.Crop{0, 0, 2, 1} }, "fractions must be in [0, 1]"},
		{"crop on cuda", func(r *msg.TrainRequest) { r.Crop, r.Device = msg.Crop{0, 0.45, 1, 1}, "cuda" }, "device cuda: the CUDA engine has no crop"},
		{"crop on cuda-emu", func(r *msg.TrainRequest) { r.Crop, r.Device = msg.Crop{0, 0.45, 1, 1}, "cuda-emu" }, "device cuda-emu: the CUDA engine has no crop"},
		{"views on cuda-emu", func(r *msg.TrainRequest) { r.Views, r.Device = []msg.Crop{{}, {0, 0.45, 1, 1}}, "cuda-emu" }, "device cuda-emu: the CUDA engine has no crop, so no views (views whole,lower)"},
	} {
		req := barsRequest()
		tc.edit(&req)
		_, err := New(req, train, nil, Options{Val: 8})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || !errors.Is(err, ErrRequest) {
			t.Errorf("%s: error %v, want a request error of one line containing %q", tc.name, err, tc.want)
		}
	}
	stop := barsRequest()
	stop.EarlyStop = 1
	if _, err := New(stop, train, nil, Options{Val: -1}); err == nil || !strings.Contains(err.Error(), "early stop needs held-out verification pairs") || !errors.Is(err, ErrRequest) {
		t.Errorf("early stop with nothing held out: %v, want a request error (before, it was ignored)", err)
	}
	if j, err := New(stop, train, nil, Options{Val: 8}); err != nil {
		t.Errorf("early stop with 8 images held out: %v", err)
	} else {
		j.Close()
	}
	// A test set of the training set's image size in another shape
	// (8×32 against 16×16): its images are not the encoder's input (it
	// was accepted, and evaluated as rows of 16×16).
	other := bars(4, 6)
	other.Input.Height, other.Input.Width = 8, 32
	if _, err := New(barsRequest(), train, other, Options{}); err == nil || !strings.Contains(err.Error(), "the test set has 4 classes of 1×8×32 images") || !errors.Is(err, ErrRequest) {
		t.Errorf("a test set of 1×8×32 beside 1×16×16: %v, want a request error", err)
	}
	other.Input.Height, other.Input.Width = 16, 16
	other.Classes = other.Classes[:3]
	if _, err := New(barsRequest(), train, other, Options{}); err == nil || !errors.Is(err, ErrRequest) {
		t.Errorf("test set with other classes: error %v", err)
	}
}

// TestClassesAndVal trains on classes 1 and 3 only, relabelled 0 and 1,
// and holds out the default tenth.
func TestClassesAndVal(t *testing.T) {
	req := barsRequest()
	req.Classes, req.Epochs = "1,3", 1
	train := bars(50, 8) // 100 images of classes 1 and 3
	j, err := New(req, train, bars(5, 9), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tn, vn := j.Sizes(); tn != 90 || vn != 10 {
		t.Errorf("Sizes() = %d, %d; want 90 and a tenth, 10", tn, vn)
	}
	if !slices.Equal(j.Classes(), []string{"upper", "bottom"}) {
		t.Errorf("Classes() = %q", j.Classes())
	}
	if train.N != 200 || len(train.Classes) != 4 {
		t.Errorf("New changed its training set: %d images, %d classes", train.N, len(train.Classes))
	}
	s, err := j.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Labels) != 10 || count(s.Labels, 0) != 5 || count(s.Labels, 1) != 5 || len(s.Weights) != 2*3 {
		t.Errorf("snapshot labels %v, %d weights: want 5 of each of 2 classes, 6", s.Labels, len(s.Weights))
	}
}

func TestHoldOut(t *testing.T) {
	set := bars(25, 10) // 100 images, 25 per class
	train, val := HoldOut(set, 20, 3)
	if train.N != 80 || val.N != 20 {
		t.Fatalf("HoldOut 20 of 100: %d and %d", train.N, val.N)
	}
	for c := range 4 {
		if n := count(val.Labels, c); n != 5 {
			t.Errorf("class %d: %d held out, want 25·20/100 = 5", c, n)
		}
	}
	// Every image lands in exactly one part: compare the sums of pixels.
	if got, want := sum32(train.X)+sum32(val.X), sum32(set.X); math.Abs(got-want) > 1e-6*want {
		t.Errorf("pixel sum %g + held out = %g, want %g", sum32(train.X), got, want)
	}
	_, val2 := HoldOut(set, 20, 3)
	_, val3 := HoldOut(set, 20, 4)
	if !slices.Equal(val.X, val2.X) || slices.Equal(val.X, val3.X) {
		t.Error("HoldOut: want equal seeds to give equal splits and different seeds different ones")
	}
	if tr, v := HoldOut(set, 0, 3); tr != set || v.N != 0 {
		t.Errorf("HoldOut 0: %d, %d", tr.N, v.N)
	}
}

// TestValPerIdentity: Options.Val is capped to a tenth of the images, and
// each class gives its share, but a class of MinPerIdentity images or
// more gives 2 at least, a genuine pair: classes of 8 give 2 each for Val
// 1 as for 5000 (a quarter of the images, more than Val and than the
// tenth, as train --val's help says), classes of 4 none, classes of 40
// their tenth or 2.
func TestValPerIdentity(t *testing.T) {
	for _, tc := range []struct {
		perClass, val, held int
	}{
		{8, 1, 4 * 2}, {8, 5000, 4 * 2},
		{4, 5000, 0},
		{40, 5000, 4 * 4}, {40, 8, 4 * 2}, // 40·8/160 = 2 of each
	} {
		req := barsRequest()
		req.Batch = 8
		j, err := New(req, bars(tc.perClass, 1), nil, Options{Val: tc.val})
		if err != nil {
			t.Fatal(err)
		}
		if trained, held := j.Sizes(); held != tc.held || trained != 4*tc.perClass-tc.held {
			t.Errorf("4 classes of %d, Val %d: %d trained, %d held out; want %d held out", tc.perClass, tc.val, trained, held, tc.held)
		}
		j.Close()
	}
}

func TestAngleBin(t *testing.T) {
	for _, tc := range []struct {
		c    float64
		want int
	}{
		{1, 0},                      // 0°
		{1.0000001, 0},              // rounding above 1 is clamped
		{math.Cos(math.Pi / 2), 18}, // 90° starts bin 18 of 5° bins
		{math.Cos(0.999 * math.Pi / 2), 17},
		{-1, 35}, // 180° falls in the last bin
	} {
		if got := angleBin(tc.c, 36); got != tc.want {
			t.Errorf("angleBin(%g) = %d, want %d", tc.c, got, tc.want)
		}
	}
}

func TestProjectorTSV(t *testing.T) {
	e := eval.Embeddings{X: []float32{0.5, -1, 0.25, 3, 0, 1e-3}, N: 3, D: 2, Labels: []int{1, 0, 2}}
	var vec, meta bytes.Buffer
	if err := WriteProjectorTSV(&vec, &meta, e, []string{"cat", "dog\tsled"}); err != nil {
		t.Fatal(err)
	}
	if want := "0.5\t-1\n0.25\t3\n0\t0.001\n"; vec.String() != want {
		t.Errorf("vectors.tsv = %q, want %q", vec.String(), want)
	}
	// The tab in "dog\tsled" becomes a space; label 2 has no name.
	if want := "label\tclass\ndog sled\t1\ncat\t0\n2\t2\n"; meta.String() != want {
		t.Errorf("metadata.tsv = %q, want %q", meta.String(), want)
	}
}

// trainAll makes the job of req on set and takes all its steps.
func trainAll(t *testing.T, req msg.TrainRequest, set *data.Set, opts Options) *Job {
	t.Helper()
	j, err := New(req, set, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	for !j.Done() {
		if _, err := j.Step(); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

func TestEncodeModelRoundTrip(t *testing.T) {
	req := barsRequest()
	req.Epochs = 1
	j := trainAll(t, req, bars(16, 11), Options{Val: 16, Version: "test"})
	m := j.Model()
	var buf bytes.Buffer
	if err := core.EncodeModel(&buf, m); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := core.ReadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.Threshold != m.Meta.Threshold || got.Meta.Threshold == 0 || !reflect.DeepEqual(got.Meta.Spec, m.Meta.Spec) ||
		!reflect.DeepEqual(got.Meta.Provenance, m.Meta.Provenance) || got.Meta.Provenance.Version != "test" || got.Meta.Format != core.ModelFormat {
		t.Errorf("metadata read back %+v, wrote %+v", got.Meta, m.Meta)
	}
	// The file carries the held-out verification its threshold was
	// chosen on: what a registry's card shows of an uploaded model.
	if v := j.ModelVerification(); v == nil || got.Meta.Metrics == nil || !reflect.DeepEqual(*got.Meta.Metrics, *v) || got.Meta.Metrics.Threshold != got.Meta.Threshold {
		t.Errorf("metrics read back %+v, want the model's verification %+v", got.Meta.Metrics, v)
	}
	if err := got.Check(func() map[string][]int {
		want := make(map[string][]int)
		for k, v := range m.Params {
			want[k] = v.Shape
		}
		return want
	}()); err != nil {
		t.Error(err)
	}
	for name, p := range m.Params {
		if !slices.Equal(got.Params[name].Data, p.Data) {
			t.Errorf("%s differs after the round trip", name)
		}
	}
	// Bad parameters fail before anything is written.
	m.Params["head.weight"] = core.Tensor{Shape: []int{4, 3}, Data: make([]float32, 5)}
	buf.Reset()
	if err := core.EncodeModel(&buf, m); err == nil || buf.Len() != 0 {
		t.Errorf("core.EncodeModel with a bad tensor: error %v, %d bytes written", err, buf.Len())
	}
}

func mean(a []float64) float64 {
	s := 0.0
	for _, v := range a {
		s += v
	}
	return s / float64(len(a))
}

func sum(a []int) int {
	s := 0
	for _, v := range a {
		s += v
	}
	return s
}

func sum32(a []float32) float64 {
	s := 0.0
	for _, v := range a {
		s += float64(v)
	}
	return s
}

func count(a []int, v int) int {
	n := 0
	for _, x := range a {
		if x == v {
			n++
		}
	}
	return n
}

// meanBin is the mean bin index of a histogram.
func meanBin(h []int) float64 {
	s := 0.0
	for b, n := range h {
		s += float64(b * n)
	}
	return s / float64(sum(h))
}

// TestCheckpointResume stops a job mid-epoch, writes its checkpoint, and
// resumes it in a new Job of the same request: it ends with the same
// parameters, bit for bit, as the job run through, for Adam with the
// cosine schedule, augmentation, turns, composition and early stopping (arcface) and for SGD with P×K
// batches (triplet), each stopped in its second epoch.
func TestCheckpointResume(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  func() msg.TrainRequest
		opts Options
	}{
		{"arcface, adam, augmented, composed, early stop", func() msg.TrainRequest {
			r := barsRequest()
			r.Augment, r.Turns, r.Compose, r.EarlyStop = "faces", 4, "1x2", 1
			return r
		}, Options{Val: 16}},
		{"views, cosface, augmented", func() msg.TrainRequest {
			r := barsRequest()
			r.Loss, r.Augment, r.Views = "cosface", "faces", []msg.Crop{{}, msg.Crops["upper"]}
			return r
		}, Options{Val: 16}},
		{"triplet, sgd, P×K", func() msg.TrainRequest {
			r := barsRequest()
			r.Loss, r.LossParams, r.Opt, r.LR = "triplet", nil, "sgd", 0.05
			return r
		}, Options{Val: 16}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := bars(16, 11)
			run := func(j *Job, upTo int) {
				for !j.Done() && j.tr.Iter() < upTo {
					if _, err := j.Step(); err != nil {
						t.Fatal(err)
					}
				}
			}
			whole, err := New(tc.req(), set, nil, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			perEpoch, total := whole.Steps()
			run(whole, total)

			a, _ := New(tc.req(), set, nil, tc.opts)
			k := perEpoch + perEpoch/2 // mid second epoch
			run(a, k)
			var ckpt bytes.Buffer
			if err := a.Checkpoint(&ckpt); err != nil {
				t.Fatal(err)
			}
			b, _ := New(tc.req(), set, nil, tc.opts)
			if err := b.Resume(bytes.NewReader(ckpt.Bytes())); err != nil {
				t.Fatal(err)
			}
			if b.tr.Iter() != k || b.epoch != 2 {
				t.Errorf("resumed at step %d epoch %d, want %d and 2", b.tr.Iter(), b.epoch, k)
			}
			run(b, total)
			wp, bp := whole.Model().Params, b.Model().Params
			for name, w := range wp {
				if !slices.Equal(w.Data, bp[name].Data) {
					t.Fatalf("%s differs from the uninterrupted run's", name)
				}
			}
			// The model's figures too (with early stopping, the best
			// epoch's, which may be the first, before the checkpoint).
			if w, g := whole.ModelVerification(), b.ModelVerification(); !reflect.DeepEqual(w, g) {
				t.Errorf("the model's verification %+v, the uninterrupted run's %+v", g, w)
			}
			if err := b.Resume(bytes.NewReader(ckpt.Bytes())); err == nil {
				t.Error("Resume after steps: no error")
			}
		})
	}
}

// TestResumeKeepsBestFigures: with early stopping, a job resumed after
// its first epoch end holds that epoch as its best, with its figures, the
// nearest-centre accuracy included (the registry shows them beside the
// model); without, a job resumed at its end keeps its last epoch's.
func TestResumeKeepsBestFigures(t *testing.T) {
	req := barsRequest()
	req.EarlyStop = 1
	set := bars(16, 11)
	a, err := New(req, set, nil, Options{Val: 16})
	if err != nil {
		t.Fatal(err)
	}
	per, _ := a.Steps()
	for range per + 1 { // the first epoch end, and a step into the second epoch
		if _, err := a.Step(); err != nil {
			t.Fatal(err)
		}
	}
	var ckpt bytes.Buffer
	if err := a.Checkpoint(&ckpt); err != nil {
		t.Fatal(err)
	}
	b, _ := New(req, set, nil, Options{Val: 16})
	if err := b.Resume(bytes.NewReader(ckpt.Bytes())); err != nil {
		t.Fatal(err)
	}
	want, got := a.ModelVerification(), b.ModelVerification()
	if want == nil || !(want.Centre > 0) || !reflect.DeepEqual(got, want) {
		t.Errorf("resumed: the model's verification %+v, want the first epoch's %+v", got, want)
	}

	// Without early stopping, a job resumed at its end (only to register
	// its model) keeps the last epoch's threshold and figures (it had
	// none: threshold 0), and the last step's loss (the job's row may be
	// of an older step).
	req.EarlyStop, req.Epochs = 0, 1
	c, _ := New(req, set, nil, Options{Val: 16})
	if _, _, ok := c.Last(); ok {
		t.Error("Last before a step: a loss known, want none")
	}
	for !c.Done() {
		if _, err := c.Step(); err != nil {
			t.Fatal(err)
		}
	}
	ckpt.Reset()
	if err := c.Checkpoint(&ckpt); err != nil {
		t.Fatal(err)
	}
	d, _ := New(req, set, nil, Options{Val: 16})
	if err := d.Resume(bytes.NewReader(ckpt.Bytes())); err != nil {
		t.Fatal(err)
	}
	if !d.Done() || d.Model().Meta.Threshold != c.Model().Meta.Threshold || c.Model().Meta.Threshold == 0 || !reflect.DeepEqual(d.ModelVerification(), c.ModelVerification()) {
		t.Errorf("resumed at the end: threshold %g, verification %+v; want %g, %+v", d.Model().Meta.Threshold, d.ModelVerification(), c.Model().Meta.Threshold, c.ModelVerification())
	}
	cl, cv, cok := c.Last()
	dl, dv, dok := d.Last()
	if !cok || !dok || dl != cl || cv == nil || !reflect.DeepEqual(dv, cv) {
		t.Errorf("resumed at the end: last loss %g, verification %+v; want %g, %+v", dl, dv, cl, cv)
	}
}

// TestResumeLastLoss: a checkpoint holds its step's loss even when it is
// 0, as a triplet loss's is once every triplet is satisfied (before, Last
// took a loss of 0 for none, and a resumed job kept its row's older
// one); a checkpoint written before checkpoints held it resumes with the
// loss unknown, so that the row's stands.
func TestResumeLastLoss(t *testing.T) {
	set := bars(16, 11)
	a, _ := New(barsRequest(), set, nil, Options{Val: 16})
	if _, err := a.Step(); err != nil {
		t.Fatal(err)
	}
	a.lastLoss = 0
	var ckpt bytes.Buffer
	if err := a.Checkpoint(&ckpt); err != nil {
		t.Fatal(err)
	}
	b, _ := New(barsRequest(), set, nil, Options{Val: 16})
	if err := b.Resume(bytes.NewReader(ckpt.Bytes())); err != nil {
		t.Fatal(err)
	}
	if loss, _, ok := b.Last(); loss != 0 || !ok {
		t.Errorf("resumed from a loss of 0: Last %g, %v; want 0, known", loss, ok)
	}
	tensors, meta, err := safetensors.Decode(bytes.NewReader(ckpt.Bytes()), 0)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(meta[checkpointKey]), &st); err != nil {
		t.Fatal(err)
	}
	if _, ok := st["loss"]; !ok {
		t.Fatalf("the checkpoint's state has no loss: %v", slices.Sorted(maps.Keys(st)))
	}
	delete(st, "loss")
	old, _ := json.Marshal(st)
	meta[checkpointKey] = string(old)
	var before bytes.Buffer
	if err := safetensors.Encode(&before, tensors, meta); err != nil {
		t.Fatal(err)
	}
	c, _ := New(barsRequest(), set, nil, Options{Val: 16})
	if err := c.Resume(bytes.NewReader(before.Bytes())); err != nil {
		t.Fatal(err)
	}
	if loss, _, ok := c.Last(); ok {
		t.Errorf("resumed from a checkpoint without a loss: Last %g, known; want unknown", loss)
	}
}

// TestResumeRefuses: a checkpoint of another request or of other images
// (the same number and size), a model file, a damaged file, one without a
// parameter: errors that say so, and the job as New made it.
func TestResumeRefuses(t *testing.T) {
	set := bars(16, 11)
	a, _ := New(barsRequest(), set, nil, Options{Val: 16})
	a.Step()
	var ckpt, model bytes.Buffer
	if err := a.Checkpoint(&ckpt); err != nil {
		t.Fatal(err)
	}
	core.EncodeModel(&model, a.Model())
	other := barsRequest()
	other.Seed++
	changed := *set // the same images but one pixel: a data set edited since
	changed.X = slices.Clone(set.X)
	changed.X[len(changed.X)/2] += 0.5
	// Without the head's weights but with their optimiser state: the
	// engine would keep New's head, and the job would go on with it.
	tensors, meta, err := safetensors.Decode(bytes.NewReader(ckpt.Bytes()), 0)
	if err != nil {
		t.Fatal(err)
	}
	delete(tensors, "head.weight")
	var headless bytes.Buffer
	if err := safetensors.Encode(&headless, tensors, meta); err != nil {
		t.Fatal(err)
	}
	// The other way round, a checkpoint given as a model says what it is
	// (core reads its metadata key by name: checkpointKey).
	if _, err := core.DecodeModel(bytes.NewReader(ckpt.Bytes())); err == nil || !strings.Contains(err.Error(), "a training job's checkpoint, not a model") {
		t.Errorf("a checkpoint read as a model: %v, want it called a checkpoint", err)
	}
	for _, tc := range []struct {
		name string
		req  msg.TrainRequest
		set  *data.Set
		file []byte
		says string
	}{
		{"another request", other, set, ckpt.Bytes(), "another training request"},
		{"other images", barsRequest(), &changed, ckpt.Bytes(), "other training images"},
		{"a model file", barsRequest(), set, model.Bytes(), "no training state"},
		// The decoder's "safetensors: " is not said twice (before,
		// "checkpoint: safetensors: reading …").
		{"truncated", barsRequest(), set, ckpt.Bytes()[:ckpt.Len()/2], "checkpoint: not a valid safetensors file: reading "},
		{"not safetensors", barsRequest(), set, []byte("a text file, not a checkpoint\n"), "checkpoint: not a valid safetensors file: header length "},
		{"a parameter missing", barsRequest(), set, headless.Bytes(), "checkpoint: no parameter head.weight"},
	} {
		b, _ := New(tc.req, tc.set, nil, Options{Val: 16})
		before := b.Model().Params
		err := b.Resume(bytes.NewReader(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want an error about %q", tc.name, err, tc.says)
		}
		if b.tr.Iter() != 0 || !slices.Equal(b.Model().Params["head.weight"].Data, before["head.weight"].Data) {
			t.Errorf("%s: the refused checkpoint changed the job", tc.name)
		}
	}
}

// TestTrainBytes: the estimate counts five float32s per plan value and
// per class for each image of a batch, and four per parameter: for the
// bars' mlp (1×16×16 in, 256 hidden, D = 3) they are counted by hand; a
// batch twice as large adds five float32s per value and class per added
// image, and composed classes (4² head rows for 2x1) add five per image
// and four per head weight. A bound below the estimate refuses the job
// before its engine is built.
func TestTrainBytes(t *testing.T) {
	train := bars(16, 1)
	req := barsRequest()
	j, err := New(req, train, nil, Options{Val: 8})
	if err != nil {
		t.Fatal(err)
	}
	// Counted by hand: the values are the input, fc1, its ReLU and fc2;
	// the parameters fc1's 256×256 weights and 256 biases and fc2's 3×256
	// and 3.
	const values, params int64 = 256 + 256 + 256 + 3, 256*256 + 256 + 3*256 + 3
	want := 4 * (5*16*(values+4) + 4*(params+4*4))
	if got := j.TrainBytes(); got != want {
		t.Errorf("TrainBytes %d, want %d", got, want)
	}
	req.Batch = 32
	j2, err := New(req, train, nil, Options{Val: 8})
	if err != nil {
		t.Fatal(err)
	}
	if d := j2.TrainBytes() - j.TrainBytes(); d != 4*5*16*(values+4) {
		t.Errorf("batch 32 adds %d bytes, want %d", d, 4*5*16*(values+4))
	}
	req.Batch, req.Compose = 16, "2x1"
	j3, err := New(req, train, nil, Options{Val: 8})
	if err != nil {
		t.Fatal(err)
	}
	if d := j3.TrainBytes() - j.TrainBytes(); d != 4*(5*16+4*4)*(16-4) {
		t.Errorf("16 composed classes instead of 4 add %d bytes, want %d", d, 4*(5*16+4*4)*(16-4))
	}
	if _, err := New(req, train, nil, Options{Val: 8, MaxTrainBytes: j3.TrainBytes() - 1}); err == nil || !strings.Contains(err.Error(), "more than is allowed") {
		t.Errorf("a bound one byte short: %v", err)
	}
	// The refusal gives the estimate and the bound in units that tell them
	// apart (they were both "0.0 GiB" below 50 MiB).
	_, err = New(req, train, nil, Options{Val: 8, MaxTrainBytes: 1 << 20})
	if want := fmt.Sprintf("about %.1f MiB of memory", float64(j3.TrainBytes())/(1<<20)); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "more than is allowed (1.0 MiB)") {
		t.Errorf("a bound of 1 MiB: %v, want %q and the bound", err, want)
	}
	if _, err := New(req, train, nil, Options{Val: 8, MaxTrainBytes: j3.TrainBytes()}); err != nil {
		t.Errorf("a bound of the estimate: %v", err)
	}
	// Checked only: the same steps and estimate, no engine; the bound
	// still refuses.
	c, err := New(req, train, nil, Options{Val: 8, CheckOnly: true})
	if err != nil || c.tr != nil || c.TrainBytes() != j3.TrainBytes() {
		t.Fatalf("CheckOnly: %v, engine %v, %d bytes", err, c != nil && c.tr != nil, c.TrainBytes())
	}
	if a, b := c.total, j3.total; a != b {
		t.Errorf("CheckOnly: %d steps, the job %d", a, b)
	}
	if _, err := New(req, train, nil, Options{Val: 8, CheckOnly: true, MaxTrainBytes: 1}); err == nil {
		t.Error("CheckOnly with a bound of one byte: no error")
	}
}

// TestMemSizes: sizes in the largest binary unit they fill, and in bytes
// where the two would read the same (worked by hand).
func TestMemSizes(t *testing.T) {
	for _, tc := range []struct {
		a, b   int64
		sa, sb string
	}{
		{3 << 30, 1 << 30, "3.0 GiB", "1.0 GiB"},
		{40 << 20, 1 << 20, "40.0 MiB", "1.0 MiB"},
		{1<<20 + 1<<19, 1000, "1.5 MiB", "1000 bytes"},
		{1<<30 + 1<<20, 1 << 30, "1074790400 bytes", "1073741824 bytes"}, // both 1.0 GiB
		{5000, 1023, "4.9 KiB", "1023 bytes"},
	} {
		if sa, sb := memSizes(tc.a, tc.b); sa != tc.sa || sb != tc.sb {
			t.Errorf("memSizes(%d, %d) = %q, %q, want %q, %q", tc.a, tc.b, sa, sb, tc.sa, tc.sb)
		}
	}
}

// TestClassNamesClash: an identity named like a glyph class trains no
// model anything can load (a class named twice): the job is refused.
func TestClassNamesClash(t *testing.T) {
	train := bars(16, 1)
	train.Classes[1] = data.GlyphName(0)
	req := barsRequest()
	req.Glyphs = 2
	if _, err := New(req, train, nil, Options{Val: 8}); err == nil || !strings.Contains(err.Error(), `the training classes: class "glyph 1" is named twice`) {
		t.Errorf("an identity called %q beside glyphs: %v", data.GlyphName(0), err)
	}
	req.Glyphs = 0
	if _, err := New(req, train, nil, Options{Val: 8}); err != nil {
		t.Errorf("without glyphs: %v", err)
	}
	// A folder's name with a line break: numbered as --classes numbers it.
	train.Classes[1] = "a\nb"
	if _, err := New(req, train, nil, Options{Val: 8}); err == nil || !strings.Contains(err.Error(), `the training classes: class 1's name "a\nb" is not printable text`) {
		t.Errorf("an identity called %q: %v", train.Classes[1], err)
	}
}

// TestModelRecordsRecipe: the model file says how it was trained beyond
// the optimiser: schedule, weight decay, augmentation, composition, turns,
// glyphs and early stopping, as the request gave them.
func TestModelRecordsRecipe(t *testing.T) {
	req := barsRequest()
	wd := 0.002
	req.Schedule, req.WeightDecay, req.Augment, req.Compose, req.Turns, req.Glyphs, req.EarlyStop = "constant", &wd, "faces", "1x2", 4, 3, 1
	req.Preset = "faces" // a record: the fields beside it are what trains
	j, err := New(req, bars(16, 3), nil, Options{Val: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	got := j.Model().Meta.Provenance
	want := core.Provenance{Preset: "faces", Schedule: "constant", WeightDecay: 0.002, Augment: "faces", Compose: "1x2", Turns: 4, Glyphs: 3, EarlyStop: 1}
	got.Data, got.Epochs, got.Batch, got.LR, got.Optimizer, got.Seed, got.Created, got.Version = "", 0, 0, 0, "", 0, "", ""
	if !reflect.DeepEqual(got, want) {
		t.Errorf("provenance %+v, want the recipe %+v", got, want)
	}
	// A weight decay of 0 is written, not left out: read back, a model
	// file without it would be sgd's default of 5e-4.
	req.Opt, req.WeightDecay = "sgd", new(0.0)
	j0, err := New(req, bars(16, 3), nil, Options{Val: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer j0.Close()
	b, err := json.Marshal(j0.Model().Meta.Provenance)
	if err != nil || !strings.Contains(string(b), `"weight_decay":0,`) {
		t.Errorf("provenance of sgd without weight decay: %s, %v; want weight_decay 0 in it", b, err)
	}
}

// TestDivergedValidation: a step whose update overflows the weights has a
// finite loss of its own; at its epoch's end the held-out embeddings are
// NaN. That is an error naming the epoch, as a NaN loss is one (it was a
// verification of NaN scores, which swept its ROC until memory ran out,
// and then a model whose NaN threshold could not be written).
func TestDivergedValidation(t *testing.T) {
	req := barsRequest()
	req.Loss, req.LossParams, req.Opt, req.LR, req.Batch = "softmax", nil, "sgd", 1e30, 32
	j, err := New(req, bars(10, 3), nil, Options{Val: 8}) // 32 to train: one step an epoch
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for !j.Done() {
			if _, err := j.Step(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err == nil || err.Error() != "epoch 1: the held-out images' embeddings are not all finite numbers (lr too high?)" {
			t.Errorf("error %v, want the held-out embeddings of epoch 1 refused", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("training did not end within 20 s")
	}
}

// TestDivergedSnapshot: a step whose update overflows the weights has a
// finite loss of its own, and the snapshot the server's job and the
// playground's worker take after it embeds into NaN. That is an error
// naming the step, as the epoch end's is, and so are class weights that
// are not numbers (the angle histograms' bin of a
// NaN cosine indexed out of range: the server, whose runner does not
// recover, went down with a watched job, and the worker with its run).
func TestDivergedSnapshot(t *testing.T) {
	req := barsRequest()
	req.Loss, req.LossParams, req.Opt, req.LR, req.Batch = "softmax", nil, "sgd", 1e30, 8
	j, err := New(req, bars(10, 3), bars(4, 4), Options{Val: 8})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := j.Step(); err != nil || math.IsNaN(p.Loss) {
		t.Fatalf("step 1: loss %g, %v; want a finite loss, the update overflowing the weights", p.Loss, err)
	}
	_, err = j.Snapshot()
	if want := "step 1: the snapshot's embeddings are not all finite numbers (lr too high?)"; err == nil || err.Error() != want {
		t.Errorf("Snapshot: %v, want %q", err, want)
	}
	// Class weights that overflowed, the encoder's embeddings finite:
	// JSON has no NaN to send.
	j, err = New(barsRequest(), bars(10, 3), bars(4, 4), Options{Val: 8})
	if err != nil {
		t.Fatal(err)
	}
	params := j.tr.Params()
	params["head.weight"].Data[0] = float32(math.Inf(1))
	if err := j.tr.SetParams(params); err != nil {
		t.Fatal(err)
	}
	_, err = j.Snapshot()
	if want := "step 0: the class weights are not all finite numbers (lr too high?)"; err == nil || err.Error() != want {
		t.Errorf("Snapshot with a class weight of +Inf: %v, want %q", err, want)
	}
}

// TestTripletClassWithoutImages: a set that names a class without images
// (the middle one of three) trains in P×K batches of the classes that
// have images; P was taken from the largest label + 1, three classes for
// two, and losses.PKOrder panicked at the first step.
func TestTripletClassWithoutImages(t *testing.T) {
	s := bars(20, 5).Subset([]int{0, 1, 2})
	for i, l := range s.Labels {
		if l == 1 {
			s.Labels[i] = 2
		}
	}
	req := barsRequest()
	req.Loss, req.LossParams, req.Batch, req.Epochs = "triplet", nil, 12, 1 // k = 4: P = 3 asked
	j, err := New(req, s, nil, Options{Val: -1})
	if err != nil {
		t.Fatal(err)
	}
	for !j.Done() {
		if _, err := j.Step(); err != nil {
			t.Fatal(err)
		}
		for _, l := range j.labels {
			if l == 1 {
				t.Fatalf("batch labels %v: class 1 has no image", j.labels)
			}
		}
	}
}

// TestDivergedModel: Adam at lr 1e6 moves the weights by about the lr a
// step, far past core.Model.Validate's bounds (±1e6), while every loss
// and every held-out embedding stays finite. The run's last step fails
// saying so; it ended, and wrote a model that eval, the server's store
// and the Verify page refuse (the server's job was interrupted to "resume
// to save it", again at every resume).
func TestDivergedModel(t *testing.T) {
	req := barsRequest()
	req.Epochs, req.LR = 2, 1e6
	j, err := New(req, bars(20, 3), nil, Options{Val: 8})
	if err != nil {
		t.Fatal(err)
	}
	for !j.Done() {
		if _, err = j.Step(); err != nil {
			break
		}
	}
	want := "step 8: the trained model is not usable"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "(lr too high?)") {
		t.Fatalf("error %v, want %q… (lr too high?)", err, want)
	}
	if !j.Done() {
		t.Errorf("the run has not ended at the error")
	}
}

// TestSnapshotBiased: the snapshot says whether its class weights are a
// linear head's with biases (softmax and L2-softmax learn head.bias), so
// that the viewer does not shade the sectors between their directions as
// their decision regions; a cosine head's (ArcFace) are those regions.
func TestSnapshotBiased(t *testing.T) {
	for loss, want := range map[string]bool{"softmax": true, "l2softmax": true, "arcface": false} {
		req := barsRequest()
		req.Loss, req.LossParams = loss, nil
		j, err := New(req, bars(10, 3), bars(4, 4), Options{Val: 8})
		if err != nil {
			t.Fatal(err)
		}
		s, err := j.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Weights) == 0 || s.Biased != want {
			t.Errorf("%s: %d weights, biased %v; want weights, biased %v", loss, len(s.Weights), s.Biased, want)
		}
	}
}

// barsStepped returns a job of 4 epochs on bars, early stopping after
// earlyStop epochs without a better one (0: off), that has taken steps
// steps (2 an epoch).
func barsStepped(t *testing.T, earlyStop, steps int) *Job {
	t.Helper()
	req := barsRequest()
	req.Epochs, req.EarlyStop = 4, earlyStop
	j, err := New(req, bars(10, 3), nil, Options{Val: 8})
	if err != nil {
		t.Fatal(err)
	}
	for range steps {
		if _, err := j.Step(); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

// TestEarlyStopDiverged: with early stopping, a run that diverges after a
// best epoch (here a NaN put in fc1's bias after epoch 1, so that step 3's
// loss is NaN) ends as an early stop does, with the best epoch's
// parameters in the model and back in the engine, and Diverged saying
// why; it failed the run, and the best epoch's model was lost. Without
// early stopping, or before a best epoch, it still fails the run.
func TestEarlyStopDiverged(t *testing.T) {
	// run takes the steps of epoch 1 (2 of 16 of the 32 images trained
	// on), then puts a NaN in fc1's bias and takes the next step.
	run := func(t *testing.T, earlyStop, steps int) (*Job, msg.Progress, error) {
		j := barsStepped(t, earlyStop, steps)
		params := j.tr.Params()
		params["encoder.fc1.bias"].Data[0] = float32(math.NaN())
		if err := j.tr.SetParams(params); err != nil {
			t.Fatal(err)
		}
		p, err := j.Step()
		return j, p, err
	}
	t.Run("after a best epoch", func(t *testing.T) {
		j, p, err := run(t, 3, 2)
		if err != nil {
			t.Fatalf("step 3: %v, want the run stopped", err)
		}
		if !j.Done() || p.Step != 2 || p.Epoch != 1 || math.IsNaN(p.Loss) {
			t.Errorf("done %v, progress at epoch %d, step %d with loss %g; want done, step 2's progress (epoch 1)", j.Done(), p.Epoch, p.Step, p.Loss)
		}
		if best, stopped := j.BestEpoch(); best != 1 || !stopped {
			t.Errorf("BestEpoch() = %d, %v; want 1, true", best, stopped)
		}
		want := "training diverged (step 3: loss is NaN (lr too high?)): early stopping ended the run at step 2 with the model of the best epoch, 1"
		if err := j.Diverged(); err == nil || err.Error() != want || !errors.Is(err, core.ErrDiverged) {
			t.Errorf("Diverged() = %v, want %q", err, want)
		}
		m := j.Model()
		if err := m.Validate(losses.Check); err != nil {
			t.Errorf("the model: %v", err)
		}
		if m.Meta.Provenance.BestEpoch != 1 {
			t.Errorf("the model's best epoch %d, want 1", m.Meta.Provenance.BestEpoch)
		}
		for name, w := range j.tr.Params() {
			if !slices.Equal(m.Params[name].Data, w.Data) {
				t.Errorf("the engine's %s is not the best epoch's", name)
			}
		}
		if _, err := j.Snapshot(); err != nil {
			t.Errorf("Snapshot after the stop: %v", err)
		}
	})
	for _, c := range []struct {
		name             string
		earlyStop, steps int
	}{
		{"without early stopping", 0, 2},
		{"before a best epoch", 3, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			j, _, err := run(t, c.earlyStop, c.steps)
			want := fmt.Sprintf("step %d: loss is NaN (lr too high?)", c.steps+1)
			if err == nil || err.Error() != want {
				t.Errorf("error %v, want %q", err, want)
			}
			if j.Done() || j.Diverged() != nil {
				t.Errorf("done %v, Diverged() = %v; want the run failed, not stopped", j.Done(), j.Diverged())
			}
		})
	}
}

// TestEarlyStopDivergedSnapshot: the snapshot after early stopping ended a
// diverged run is of the best epoch's parameters, which the engine has
// back (its class weights are), not the embeddings kept from a snapshot
// taken at the last step before the one that diverged.
func TestEarlyStopDivergedSnapshot(t *testing.T) {
	// Epoch 1 (the best) and a step of epoch 2.
	j := barsStepped(t, 3, 3)
	if _, err := j.Snapshot(); err != nil { // of step 3's parameters
		t.Fatal(err)
	}
	params := j.tr.Params()
	params["encoder.fc1.bias"].Data[0] = float32(math.NaN())
	if err := j.tr.SetParams(params); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Step(); err != nil || j.Diverged() == nil {
		t.Fatalf("step 4: %v, Diverged() = %v; want the run stopped", err, j.Diverged())
	}
	s, err := j.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	want, err := EmbedSet(j.spec, j.Model().Params, j.snap.points)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Points, want.X) {
		t.Errorf("the snapshot's points are not the best epoch's embeddings (first %v, want %v)", s.Points[:3], want.X[:3])
	}
}

// TestEarlyStopDivergedAtSnapshot: a step whose update overflowed the
// parameters has a finite loss of its own, and a snapshot taken right
// after it (the playground's every half second, the Jobs page's) finds the
// embeddings not finite. With early stopping after a best epoch that ends
// the run as the next step's NaN loss would (the snapshot is then the best
// epoch's); it failed the run, the best epoch's model lost. Before a best
// epoch the error says the run diverged.
func TestEarlyStopDivergedAtSnapshot(t *testing.T) {
	for _, steps := range []int{3, 1} {
		j := barsStepped(t, 3, steps)
		params := j.tr.Params() // as an update that overflowed would leave them
		params["encoder.fc1.bias"].Data[0] = float32(math.Inf(1))
		if err := j.tr.SetParams(params); err != nil {
			t.Fatal(err)
		}
		s, err := j.Snapshot()
		if steps == 1 {
			if err == nil || !errors.Is(err, core.ErrDiverged) || j.Done() {
				t.Errorf("before a best epoch: Snapshot error %v, done %v; want an error that wraps ErrDiverged, the run not done", err, j.Done())
			}
			continue
		}
		if err != nil || !j.Done() || j.Diverged() == nil {
			t.Fatalf("Snapshot: %v, done %v, Diverged() = %v; want the run stopped with the best epoch's model", err, j.Done(), j.Diverged())
		}
		want, err := EmbedSet(j.spec, j.Model().Params, j.snap.points)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.Points, want.X) {
			t.Error("the snapshot's points are not the best epoch's embeddings")
		}
	}
}

// TestResumeDiverged: a checkpoint of a run that early stopping ended
// where it diverged (the server writes one when it cannot save the
// model) resumes to a job that says so, as the run did; before, it kept
// the stop and dropped why, and the resumed job said nothing of the
// divergence. A checkpoint written before it held that resumes stopped,
// saying nothing, as then.
func TestResumeDiverged(t *testing.T) {
	a := barsStepped(t, 3, 2)
	params := a.tr.Params()
	params["encoder.fc1.bias"].Data[0] = float32(math.NaN())
	if err := a.tr.SetParams(params); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Step(); err != nil || a.Diverged() == nil {
		t.Fatalf("step 3: %v, Diverged() = %v; want the run stopped", err, a.Diverged())
	}
	var ckpt bytes.Buffer
	if err := a.Checkpoint(&ckpt); err != nil {
		t.Fatal(err)
	}
	b := barsStepped(t, 3, 0)
	if err := b.Resume(bytes.NewReader(ckpt.Bytes())); err != nil {
		t.Fatal(err)
	}
	if err := b.Diverged(); !b.Done() || err == nil || err.Error() != a.Diverged().Error() || !errors.Is(err, core.ErrDiverged) {
		t.Errorf("resumed: done %v, Diverged() = %v; want done, %q wrapping core.ErrDiverged", b.Done(), err, a.Diverged())
	}

	tensors, meta, err := safetensors.Decode(bytes.NewReader(ckpt.Bytes()), 0)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(meta[checkpointKey]), &st); err != nil {
		t.Fatal(err)
	}
	delete(st, "diverged")
	old, _ := json.Marshal(st)
	meta[checkpointKey] = string(old)
	var before bytes.Buffer
	if err := safetensors.Encode(&before, tensors, meta); err != nil {
		t.Fatal(err)
	}
	c := barsStepped(t, 3, 0)
	if err := c.Resume(bytes.NewReader(before.Bytes())); err != nil || !c.Done() || c.Diverged() != nil {
		t.Errorf("resumed from a checkpoint without the divergence: %v, done %v, Diverged() = %v; want done, nil", err, c.Done(), c.Diverged())
	}
}

// TestResumeEmptyParams: a request whose loss parameters are an empty map
// (the command line's when none is given), or whose views an empty list,
// resumes from its checkpoint, in which JSON dropped them: the request
// read back has nil there. Before, Resume refused such a checkpoint as
// "of another training request".
func TestResumeEmptyParams(t *testing.T) {
	set := bars(16, 11)
	req := barsRequest()
	req.LossParams, req.Views = map[string]float64{}, []msg.Crop{}
	a, err := New(req, set, nil, Options{Val: 16})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Step(); err != nil {
		t.Fatal(err)
	}
	var ckpt bytes.Buffer
	if err := a.Checkpoint(&ckpt); err != nil {
		t.Fatal(err)
	}
	b, _ := New(req, set, nil, Options{Val: 16})
	if err := b.Resume(bytes.NewReader(ckpt.Bytes())); err != nil || b.Iter() != 1 {
		t.Errorf("resumed with empty loss parameters and views: %v, at step %d; want step 1", err, b.Iter())
	}
}

// TestClassesNamedByNumber: a request's classes (the classes field of
// POST /api/jobs, and train's --classes) among identities all named by
// number are those names, by value: "1-2" of folders 01 … 04 trains on 01
// and 02. Before, a number was a position: "1-2" silently trained on 02
// and 03, and "3-4" was refused ("4 is out of range 0..3").
func TestClassesNamedByNumber(t *testing.T) {
	train := bars(16, 5)
	train.Classes = []string{"01", "02", "03", "04"}
	for spec, want := range map[string][]string{"1-2": {"01", "02"}, "3,04": {"03", "04"}} {
		req := barsRequest()
		req.Classes = spec
		j, err := New(req, train, nil, Options{Val: -1})
		if err != nil {
			t.Errorf("classes %q among %v: %v", spec, train.Classes, err)
			continue
		}
		if !slices.Equal(j.Classes(), want) {
			t.Errorf("classes %q among %v: trains on %v, want %v", spec, train.Classes, j.Classes(), want)
		}
		j.Close()
	}
	req := barsRequest()
	req.Classes = "0-1"
	if _, err := New(req, train, nil, Options{Val: -1}); err == nil || !strings.Contains(err.Error(), `classes "0-1": no class is named 0 (the classes are named by number, 01 to 04, and selected by those numbers)`) || !errors.Is(err, ErrRequest) {
		t.Errorf("classes 0-1 among %v: %v; want a request error saying no class is named 0", train.Classes, err)
	}
}

// TestHeadAccuracyOwnRule: the accuracy a job reports is its head's own
// prediction (losses.HeadAccuracy), not the nearest class weight by cosine
// for every loss. With softmax's and L2-softmax's bias of class "upper" set
// to 10⁶ by hand, their logits f·W_j + b_j and α·f̂·W_j + b_j pick it for
// every image: the accuracy is exactly the share of that class among the
// snapshot's images, a fourth of bars' balanced 16 (R18: the playground's
// curve judged softmax by cosine, 0.669 where its own argmax got 0.906).
// ArcFace, without bias, keeps the cosine rule.
func TestHeadAccuracyOwnRule(t *testing.T) {
	for _, loss := range []string{"softmax", "l2softmax", "arcface"} {
		req := barsRequest()
		req.Loss, req.LossParams, req.Dim = loss, nil, 2
		j, err := New(req, bars(10, 3), bars(4, 4), Options{Val: 8})
		if err != nil {
			t.Fatal(err)
		}
		params := j.tr.Params()
		if b, ok := params["head.bias"]; ok {
			b.Data[1] = 1e6
			if err := j.tr.SetParams(params); err != nil {
				t.Fatal(err)
			}
		}
		e, err := j.Embeddings()
		if err != nil {
			t.Fatal(err)
		}
		want := float64(count(e.Labels, 1)) / float64(e.N) // every image called "upper"
		if loss == "arcface" {
			want = eval.ClassifierAccuracy(e, params["head.weight"].Data, nil, true)
		}
		if j.accuracy != want {
			t.Errorf("%s: accuracy %g, want %g (its head's own prediction)", loss, j.accuracy, want)
		}
	}
}

// TestAccuracyIsTheSnapshots: Progress.Accuracy is of the snapshot's
// images alone (the test images the viewer shows), not of the held-out
// images at an epoch end: the page draws it as one curve, "accuracy (test
// images)". Until the next snapshot, an epoch end reports the last one's.
func TestAccuracyIsTheSnapshots(t *testing.T) {
	req := barsRequest()
	req.Loss, req.LossParams = "softmax", nil
	j, err := New(req, bars(20, 3), bars(4, 4), Options{Val: 8})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Snapshot(); err != nil {
		t.Fatal(err)
	}
	snap := j.accuracy
	for {
		p, err := j.Step()
		if err != nil {
			t.Fatal(err)
		}
		if p.EpochEnd {
			if p.Verification == nil {
				t.Fatal("an epoch end without verification")
			}
			if p.Accuracy != snap {
				t.Errorf("epoch end: accuracy %g, want the snapshot's %g (held out: %g)", p.Accuracy, snap, heldOutAccuracy(t, j))
			}
			break
		}
	}
}

// heldOutAccuracy is the head's accuracy on j's held-out images.
func heldOutAccuracy(t *testing.T, j *Job) float64 {
	params := j.tr.Params()
	e, err := EmbedSet(j.spec, params, j.val)
	if err != nil {
		t.Fatal(err)
	}
	return j.headAccuracy(e, params)
}

// TestSnapshotHasThreshold: a snapshot says whether its threshold is one
// (msg.Snapshot.HasThreshold): none before the first epoch end's
// verification, the verification's after it.
func TestSnapshotHasThreshold(t *testing.T) {
	j := barsStepped(t, 0, 1)
	s, err := j.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if s.HasThreshold || s.Threshold != 0 {
		t.Errorf("before any verification: threshold %g, has %v; want none", s.Threshold, s.HasThreshold)
	}
	if _, err := j.Step(); err != nil { // the end of the first epoch
		t.Fatal(err)
	}
	v, ok := j.Verification()
	if !ok {
		t.Fatal("no verification at the first epoch end")
	}
	if s, err = j.Snapshot(); err != nil || !s.HasThreshold || s.Threshold != v.Threshold {
		t.Errorf("after the verification: threshold %g, has %v (%v); want %g", s.Threshold, s.HasThreshold, err, v.Threshold)
	}
}

// fakeClock is a clock for the rates and the time left (Job.now): each
// reading is tick later than the one before, and the test moves it on
// between steps by what a caller would spend there.
type fakeClock struct {
	t    time.Time
	tick time.Duration
}

func (c *fakeClock) now() time.Time { c.t = c.t.Add(c.tick); return c.t }

// TestTimeLeftWallClock: the time left is the steps left at the time a
// step takes from the end of the one before, whatever the caller did in
// between (R18: the playground said "1m01s left" at step 213 of 859 and
// took 2 min 46 s, counting training alone); img/s stays the training's.
// A clock reads 1 s later at each reading, so that each step trains 1 s
// (Step reads it at its start and its end); the caller spends 3 s more
// between steps (snapshots, yields): 5 s a step from end to end. A pause
// does not count (Continue).
func TestTimeLeftWallClock(t *testing.T) {
	req := barsRequest()
	req.Epochs = 10
	j, err := New(req, bars(10, 3), nil, Options{Val: -1})
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeClock{t: time.Unix(0, 0), tick: time.Second}
	j.now = c.now
	var p msg.Progress
	for range 5 {
		if p, err = j.Step(); err != nil {
			t.Fatal(err)
		}
		c.t = c.t.Add(3 * time.Second)
	}
	_, total := j.Steps()
	// The first step is timed from its own start (1 s), the others from
	// the end of the one before (5 s).
	if left, want := p.ETA, float64(total-5)*(1+4*5)/5; math.Abs(left-want) > 1e-9 {
		t.Errorf("after 5 steps of 5 s: %g s left, want %g (%d steps)", left, want, total-5)
	}
	if want := float64(req.Batch); math.Abs(p.ImgPerS-want) > 1e-9 {
		t.Errorf("img/s %g, want %g: the batch of %d in the 1 s of training", p.ImgPerS, want, req.Batch)
	}
	// A pause of 10 minutes, then Continue (one reading of the clock)
	// and a step: 2 s from Continue to its end.
	c.t = c.t.Add(10 * time.Minute)
	j.Continue()
	if p, err = j.Step(); err != nil {
		t.Fatal(err)
	}
	if left, want := p.ETA, float64(total-6)*(1+4*5+2)/6; math.Abs(left-want) > 1e-9 {
		t.Errorf("after a pause: %g s left, want %g (%d steps)", left, want, total-6)
	}
}

// TestEmbedSetProgress: EmbedSetProgress embeds a set in chunks of 256,
// telling the images done before each chunk and at the end, and gives
// the embeddings that one Embed of every image gives, the flip test's
// too (eval's embedding draws its progress from it).
func TestEmbedSetProgress(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, flip := range []bool{false, true} {
		spec := core.Spec{Arch: "mlp", Input: core.MNISTInput, Dim: 3, FlipTest: flip}
		params := core.InitParams(spec, nil, 1)
		s := &data.Set{X: make([]float32, 600*spec.Input.Size()), N: 600, Input: spec.Input, Labels: make([]int, 600), Classes: []string{"a"}}
		for i := range s.X {
			s.X[i] = rng.Float32()
		}
		enc, err := core.NewEncoder(spec, params, 256)
		if err != nil {
			t.Fatal(err)
		}
		want, err := enc.Embed(nil, s.X, s.N)
		if err != nil {
			t.Fatal(err)
		}
		var told []int
		got, err := EmbedSetProgress(spec, params, s, func(done, total int) {
			if total != 600 {
				t.Errorf("flip test %t: told %d of %d images, want of 600", flip, done, total)
			}
			told = append(told, done)
		})
		if err != nil || got.N != 600 || got.D != 3 || !slices.Equal(got.X, want) {
			t.Errorf("flip test %t: %d×%d embeddings (%v), not those of one Embed", flip, got.N, got.D, err)
		}
		if !slices.Equal(told, []int{0, 256, 512, 600}) {
			t.Errorf("flip test %t: told %v, want [0 256 512 600]", flip, told)
		}
	}
}
