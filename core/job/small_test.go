package job

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"metriclab/core/data"
	"metriclab/core/msg"
)

// TestSmallSet trains on webcam-sized enrollments: 2 identities × 20
// images (bars' first two classes), augmented, with every held-out
// setting. Every identity of 5 images or more gives at least 2 held-out
// images (one genuine pair each), whatever Val asks below that, and at
// most a tenth of the set is held out: so the default, one image, three
// and more than the set all hold out 2 + 2 (2 genuine pairs: 2 folds of
// one pair); only Val < 0 holds none out. Nothing may fail; Verification
// is there exactly when pairs could be drawn, and snapshots have points.
func TestSmallSet(t *testing.T) {
	set := bars(20, 3).Subset([]int{0, 1})
	for _, c := range []struct {
		name      string
		val       int
		wantVal   int
		wantVerif bool
	}{
		{"default", 0, 4, true},
		{"none", -1, 0, false},
		{"one", 1, 4, true},   // quota ⌊20·1/40⌋ = 0 per class, raised to 2
		{"three", 3, 4, true}, // quota 1 per class, raised to 2
		{"too many", 100, 4, true},
	} {
		req := barsRequest()
		req.Epochs, req.Batch, req.Augment = 2, 8, "faces"
		j, err := New(req, set, nil, Options{Val: c.val})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if _, vn := j.Sizes(); vn != c.wantVal {
			t.Errorf("%s: %d held out, want %d", c.name, vn, c.wantVal)
		}
		verif := false
		for !j.Done() {
			p, err := j.Step()
			if err != nil {
				t.Fatalf("%s: step: %v", c.name, err)
			}
			verif = verif || p.Verification != nil
		}
		if verif != c.wantVerif {
			t.Errorf("%s: verification %v, want %v", c.name, verif, c.wantVerif)
		}
		snap, err := j.Snapshot()
		if err != nil {
			t.Fatalf("%s: snapshot: %v", c.name, err)
		}
		if len(snap.Labels) == 0 {
			t.Errorf("%s: snapshot without points", c.name)
		}
		if m := j.Model(); len(m.Params) == 0 {
			t.Errorf("%s: model without parameters", c.name)
		}
	}
}

// TestAugmentOption: with Augment, the same request trains on different
// pixels (another loss at the first step) and stays deterministic.
func TestAugmentOption(t *testing.T) {
	set := bars(20, 3)
	first := func(aug string) float64 {
		req := barsRequest()
		req.Augment = aug
		j, err := New(req, set, nil, Options{Val: -1})
		if err != nil {
			t.Fatal(err)
		}
		p, err := j.Step()
		if err != nil {
			t.Fatal(err)
		}
		return p.Loss
	}
	plain, a1, a2 := first(""), first("digits"), first("digits")
	if a1 != a2 {
		t.Errorf("augmented runs differ: %g, %g", a1, a2)
	}
	if a1 == plain {
		t.Errorf("augmentation did not change the first loss %g", plain)
	}
}

// TestEarlyStop: on bars, held-out verification reaches its best within a
// few epochs of 20 and cannot beat it for long, so with a patience of 2
// the run ends early, Model returns the best epoch's parameters (those of
// the same run without early stopping, stopped after that epoch) and that
// epoch's threshold, not the last epoch's.
func TestEarlyStop(t *testing.T) {
	set := bars(32, 5)
	req := barsRequest()
	req.Epochs, req.EarlyStop = 20, 2
	j, err := New(req, set, nil, Options{Val: 16})
	if err != nil {
		t.Fatal(err)
	}
	var accs []float64
	for !j.Done() {
		p, err := j.Step()
		if err != nil {
			t.Fatal(err)
		}
		if p.Verification != nil {
			accs = append(accs, p.Verification.Accuracy)
		}
	}
	best, stopped := j.BestEpoch()
	if !stopped || len(accs) >= req.Epochs {
		t.Fatalf("ran %d of %d epochs (stopped %v): %v", len(accs), req.Epochs, stopped, accs)
	}
	if len(accs) != best+req.EarlyStop {
		t.Errorf("stopped after epoch %d, want best %d + patience %d", len(accs), best, req.EarlyStop)
	}
	for e, a := range accs {
		if e+1 != best && (a > accs[best-1] || e+1 < best && a == accs[best-1]) {
			t.Errorf("epoch %d: accuracy %g, but the best is epoch %d with %g", e+1, a, best, accs[best-1])
		}
	}
	got := j.Model()
	t.Logf("held-out accuracy by epoch %v, best %d", accs, best)
	if v := j.ModelVerification(); v == nil || v.Accuracy != accs[best-1] || v.Threshold != got.Meta.Threshold || v.FAR != got.Meta.FAR {
		t.Errorf("the model's verification %+v: want the best epoch's, accuracy %g, threshold %g, FAR %g", v, accs[best-1], got.Meta.Threshold, got.Meta.FAR)
	}
	if m := got.Meta.Metrics; m == nil || m.Accuracy != accs[best-1] || m.Threshold != got.Meta.Threshold {
		t.Errorf("the model's metadata metrics %+v: want the best epoch's, accuracy %g", m, accs[best-1])
	}

	req.EarlyStop = 0
	plain, err := New(req, set, nil, Options{Val: 16})
	if err != nil {
		t.Fatal(err)
	}
	per, _ := plain.Steps()
	for range best * per {
		if _, err := plain.Step(); err != nil {
			t.Fatal(err)
		}
	}
	want := plain.Model()
	if p := got.Meta.Provenance; p.EarlyStop != 2 || p.BestEpoch != best {
		t.Errorf("provenance: early stop %d, best epoch %d; want 2 and %d", p.EarlyStop, p.BestEpoch, best)
	}
	if p := want.Meta.Provenance; p.EarlyStop != 0 || p.BestEpoch != 0 {
		t.Errorf("provenance without early stopping: early stop %d, best epoch %d; want none", p.EarlyStop, p.BestEpoch)
	}
	if got.Meta.Threshold != want.Meta.Threshold {
		t.Errorf("threshold %g, want the best epoch's %g", got.Meta.Threshold, want.Meta.Threshold)
	}
	for name, w := range want.Params {
		if !slices.Equal(got.Params[name].Data, w.Data) {
			t.Errorf("%s differs from the best epoch's", name)
		}
	}
	if slices.Equal(got.Params["encoder.fc1.weight"].Data, j.tr.Params()["encoder.fc1.weight"].Data) {
		t.Error("the model is the last epoch's")
	}
}

// TestTurns: with 8 turns, 4 classes of bars train as 32 (the head has 32
// rows, the model's classes are the turned names in label order), the
// snapshot keeps to the 4 unturned classes and their weights, and
// non-square images are refused, and so is an augmentation that mirrors.
func TestTurns(t *testing.T) {
	req := barsRequest()
	req.Turns, req.Epochs = 8, 2
	j := trainAll(t, req, bars(32, 8), Options{Val: 16})
	m := j.Model()
	if w := m.Params["head.weight"]; !slices.Equal(w.Shape, []int{32, 3}) {
		t.Errorf("head.weight %v, want [32 3]", w.Shape)
	}
	if len(m.Meta.Classes) != 32 || m.Meta.Classes[0] != "top" || m.Meta.Classes[1] != "top↻90" || m.Meta.Classes[4] != "top⇋" || m.Meta.Classes[8] != "upper" {
		t.Errorf("classes %q", m.Meta.Classes)
	}
	snap, err := j.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	w := m.Params["head.weight"].Data
	if len(snap.Classes) != 4 || len(snap.Weights) != 4*3 || !slices.Equal(snap.Weights[3:6], w[8*3:9*3]) {
		t.Errorf("snapshot: classes %q, weights %v; want 4 classes and the unturned rows", snap.Classes, snap.Weights)
	}
	wide := bars(8, 9)
	wide.Input.Height, wide.Input.Width = 8, 32
	if _, err := New(req, wide, nil, Options{}); err == nil || !strings.Contains(err.Error(), "square") {
		t.Errorf("turns of 8×32 images: %v", err)
	}
	// A recipe that mirrors half its images would give "top" and "top⇋"
	// the same images: 8 turns refuse it, 4 take it.
	for _, c := range []struct {
		turns   int
		augment string
		refused bool
	}{{8, "faces", true}, {8, "heads", true}, {8, "handwriting", false}, {4, "faces", false}} {
		r := barsRequest()
		r.Turns, r.Augment = c.turns, c.augment
		_, err := New(r, bars(8, 9), nil, Options{})
		if refused := err != nil && strings.Contains(err.Error(), "mirrored class"); refused != c.refused || err != nil && !refused {
			t.Errorf("turns %d, augment %s: %v; want refused %v", c.turns, c.augment, err, c.refused)
		}
	}
}

// TestCompose: with top and bottom halves composed, 4 classes of bars train
// as 16 (names "a/b" in class order), and with 4 turns as well as 64; the
// snapshot keeps to the 4 plain classes, class y's weights being row
// (4y + y)·4 of the head (y on y, unturned); a bad grid is refused.
func TestCompose(t *testing.T) {
	for _, c := range []struct {
		turns, rows int
	}{{0, 16}, {4, 64}} {
		req := barsRequest()
		req.Compose, req.Turns, req.Epochs = "2x1", c.turns, 1
		j := trainAll(t, req, bars(32, 8), Options{Val: 16})
		m := j.Model()
		w := m.Params["head.weight"]
		if !slices.Equal(w.Shape, []int{c.rows, 3}) || len(m.Meta.Classes) != c.rows {
			t.Fatalf("turns %d: head %v, %d classes; want %d rows", c.turns, w.Shape, len(m.Meta.Classes), c.rows)
		}
		if c.turns == 0 && (m.Meta.Classes[1] != "top/upper" || m.Meta.Classes[15] != "bottom/bottom") {
			t.Errorf("classes %q", m.Meta.Classes)
		}
		snap, err := j.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		step := max(1, c.turns)
		for y := range 4 {
			r := (4*y + y) * step
			if !slices.Equal(snap.Weights[y*3:(y+1)*3], w.Data[r*3:(r+1)*3]) {
				t.Errorf("turns %d: snapshot weights of class %d are not head row %d", c.turns, y, r)
			}
		}
	}
	req := barsRequest()
	req.Compose = "3x3"
	if _, err := New(req, bars(8, 9), nil, Options{}); err == nil || !strings.Contains(err.Error(), "at most 4") {
		t.Errorf("3x3: %v", err)
	}
}

// TestComposeBatch: every composed image's top half is its own, its bottom
// half that of the image whose class its label names: on images that are
// all the value of their class plus one, the two halves read the two
// classes of label a·4 + b.
func TestComposeBatch(t *testing.T) {
	set := bars(8, 10)
	for i := range set.N {
		img := set.Image(i)
		for k := range img {
			img[k] = float32(set.Labels[i] + 1)
		}
	}
	req := barsRequest()
	req.Compose = "2x1"
	j, err := New(req, set, nil, Options{Val: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range j.rows {
		j.rows[i], j.labels[i] = i, set.Labels[i]
	}
	j.x = set.Batch(j.x, j.rows)
	j.compose()
	size := set.Input.Size()
	mixed := 0
	for i, l := range j.labels {
		img := j.x[i*size : (i+1)*size]
		top, bottom := int(img[0])-1, int(img[size-1])-1
		if top != set.Labels[i] || l != top*4+bottom || img[size/2-1] != img[0] || img[size/2] != img[size-1] {
			t.Errorf("image %d of class %d: top %d, bottom %d, label %d", i, set.Labels[i], top, bottom, l)
		}
		if top != bottom {
			mixed++
		}
	}
	if mixed < len(j.labels)/2 {
		t.Errorf("%d of %d images mix two classes", mixed, len(j.labels))
	}
}

// TestGlyphClasses: req.Glyphs adds its classes after the composed ones
// (4 bars composed 2x1 are 16 classes, 5 glyphs make 21 rows, ×4 with
// turns), trains on their 20 images each besides the bars and holds none
// of them out (the same held out as without); the snapshot and the
// points' class names keep to the bars' classes. Refused: a count out of
// range, more pixels than MaxGlyphValues, a loss of P×K batches.
func TestGlyphClasses(t *testing.T) {
	for _, c := range []struct {
		compose string
		turns   int
		rows    int
	}{{"", 0, 9}, {"2x1", 0, 21}, {"2x1", 4, 84}} {
		req := barsRequest()
		req.Compose, req.Turns, req.Glyphs, req.Epochs = c.compose, c.turns, 5, 1
		j := trainAll(t, req, bars(32, 8), Options{Val: 16})
		req.Glyphs = 0
		plain, err := New(req, bars(32, 8), nil, Options{Val: 16})
		if err != nil {
			t.Fatal(err)
		}
		tn, vn := j.Sizes()
		if ptn, pvn := plain.Sizes(); tn != ptn+5*data.GlyphImages || vn != pvn {
			t.Errorf("%s turns %d: %d trained, %d held out; want %d and %d", c.compose, c.turns, tn, vn, ptn+5*data.GlyphImages, pvn)
		}
		m := j.Model()
		if w := m.Params["head.weight"]; !slices.Equal(w.Shape, []int{c.rows, 3}) || len(m.Meta.Classes) != c.rows {
			t.Fatalf("%s turns %d: head %v, %d classes; want %d rows", c.compose, c.turns, w.Shape, len(m.Meta.Classes), c.rows)
		}
		first := c.rows/max(1, c.turns) - 5
		if name := m.Meta.Classes[first*max(1, c.turns)]; name != "glyph 1" {
			t.Errorf("%s turns %d: class %d is %q, want glyph 1", c.compose, c.turns, first*max(1, c.turns), name)
		}
		snap, err := j.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		bars := []string{"top", "upper", "lower", "bottom"}
		if len(snap.Weights) != 4*3 || !slices.Equal(snap.Classes, bars) || !slices.Equal(j.PointClasses(), bars) {
			t.Errorf("%s turns %d: snapshot of %d weights, classes %q, points' classes %q; want the 4 bars' classes",
				c.compose, c.turns, len(snap.Weights)/3, snap.Classes, j.PointClasses())
		}
	}
	big := bars(8, 9)
	big.Input.Height, big.Input.Width = 128, 128 // 16,384 values an image: at most 204 classes
	big.X = make([]float32, big.N*big.Input.Size())
	triplet := barsRequest()
	triplet.Loss, triplet.LossParams, triplet.Glyphs = "triplet", nil, 1
	for _, c := range []struct {
		req  msg.TrainRequest
		set  *data.Set
		want string
	}{
		{func() msg.TrainRequest { r := barsRequest(); r.Glyphs = -1; return r }(), bars(8, 9), "glyphs -1 out of range"},
		{func() msg.TrainRequest { r := barsRequest(); r.Glyphs = msg.MaxGlyphs + 1; return r }(), bars(8, 9), "out of range"},
		{func() msg.TrainRequest { r := barsRequest(); r.Glyphs = 205; return r }(), big, "glyphs 205: at most 204 classes of 1×128×128 images"},
		{triplet, bars(8, 9), "glyphs with triplet"},
	} {
		if _, err := New(c.req, c.set, nil, Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("glyphs %d, loss %s: %v, want %q", c.req.Glyphs, c.req.Loss, err, c.want)
		}
	}
	r := barsRequest()
	r.Glyphs = 204
	j, err := New(r, big, nil, Options{Val: -1})
	if err != nil {
		t.Fatalf("204 glyphs of 128×128: %v", err)
	}
	// The server validates every request with New: the glyphs wait for the
	// first batch.
	if j.glyphs != nil {
		t.Error("New drew the glyphs")
	}
}

// TestComposeBatchGlyphs: composition leaves a glyph's image whole (the
// image data.Glyphs draws for its row) and labels it after the composed
// classes (4^N + g); the bars' images lend each other their parts, for
// each part every bar image exactly once (a permutation among them: none
// keeps its own part for want of a partner), never a glyph's, and
// different parts from different draws. Every bar image's pixels are 2 +
// its row, so a part tells whose it is.
func TestComposeBatchGlyphs(t *testing.T) {
	for _, compose := range []string{"2x1", "2x2"} {
		set := bars(8, 10)
		for i := range set.N {
			img := set.Image(i)
			for k := range img {
				img[k] = float32(2 + i)
			}
		}
		req := barsRequest()
		req.Compose, req.Glyphs = compose, 3
		j, err := New(req, set, nil, Options{Val: -1})
		if err != nil {
			t.Fatal(err)
		}
		rows, cols := 2, 1
		if compose == "2x2" {
			cols = 2
		}
		n := rows * cols
		composed := 1
		for range n {
			composed *= 4
		}
		glyphs := data.Glyphs(3, data.GlyphImages, set.Input, uint64(req.Seed))
		// Half the batch bars, half glyphs' images (rows set.N…).
		for i := range j.rows {
			if i%2 == 0 {
				j.rows[i] = i
			} else {
				j.rows[i] = set.N + 7*i%(3*data.GlyphImages)
			}
			j.labels[i] = j.trainLabels[slices.Index(j.trainIdx, j.rows[i])]
		}
		j.x = j.batch(j.x, j.rows)
		labels := slices.Clone(j.labels)
		j.compose()
		size, side := set.Input.Size(), set.Input.Width
		lent := make([][]int, n)
		same := 0
		for i, l := range j.labels {
			img := j.x[i*size : (i+1)*size]
			if r := j.rows[i]; r >= set.N {
				g := r - set.N
				if want := composed + glyphs.Labels[g]; labels[i] != 4+glyphs.Labels[g] || l != want || !slices.Equal(img, glyphs.Image(g)) {
					t.Errorf("%s: image %d, glyph image %d: label %d (want %d), the glyph's pixels: %v", compose, i, g, l, want, slices.Equal(img, glyphs.Image(g)))
				}
				continue
			}
			want := 0
			for k := range n {
				// The part's last pixel, (k/cols+1)·side/rows − 1, (k%cols+1)·side/cols − 1.
				src := int(img[((k/cols+1)*side/rows-1)*side+(k%cols+1)*side/cols-1]) - 2
				if src < 0 || src >= set.N || (k == 0 && src != j.rows[i]) {
					t.Fatalf("%s: image %d (row %d): part %d from row %d", compose, i, j.rows[i], k, src)
				}
				lent[k] = append(lent[k], src)
				want = want*4 + set.Labels[src]
			}
			if l != want {
				t.Errorf("%s: image %d: label %d, want %d", compose, i, l, want)
			}
			if n > 2 && lent[1][len(lent[1])-1] == lent[2][len(lent[2])-1] {
				same++
			}
		}
		var plain []int
		for _, r := range j.rows {
			if r < set.N {
				plain = append(plain, r)
			}
		}
		for k := 1; k < n; k++ {
			got := slices.Sorted(slices.Values(lent[k]))
			if !slices.Equal(got, plain) {
				t.Errorf("%s: part %d from rows %v, want each of the bars' rows %v once", compose, k, got, plain)
			}
		}
		if same > len(plain)/2 {
			t.Errorf("%s: parts 1 and 2 from the same image for %d of %d images: one draw for both", compose, same, len(plain))
		}
	}
}

// TestAltsBatch: a set with versions of its images (data.Set.Alts) is
// batched with each image as itself or one of its versions, every one of
// them drawn, the labels unchanged; the held-out images are the images
// themselves.
func TestAltsBatch(t *testing.T) {
	set := bars(32, 10)
	size := set.Input.Size()
	for i := range set.X {
		set.X[i] = 0
	}
	for k := range 2 {
		alt := make([]float32, len(set.X))
		for i := range alt {
			alt[i] = float32(k + 1)
		}
		set.Alts = append(set.Alts, alt)
	}
	j, err := New(barsRequest(), set, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[float32]int{}
	for range 5 {
		if err := j.nextBatch(); err != nil {
			t.Fatal(err)
		}
		for i, r := range j.rows {
			img := j.x[i*size : (i+1)*size]
			if slices.Min(img) != slices.Max(img) || j.labels[i] != set.Labels[r] {
				t.Fatalf("image %d (row %d): values %v to %v, label %d, want one version whole and label %d", i, r, slices.Min(img), slices.Max(img), j.labels[i], set.Labels[r])
			}
			seen[img[0]]++
		}
		j.tr.SetIter(j.tr.Iter() + 1)
	}
	if len(seen) != 3 {
		t.Errorf("versions drawn %v, want the image and both versions", seen)
	}
	if j.val.N == 0 || slices.Max(j.val.X) != 0 {
		t.Errorf("%d held-out images, largest value %v: want the images themselves", j.val.N, slices.Max(j.val.X))
	}
}

// TestDefaultBatchFitsSmallSet trains the faces preset's recipe (an mlp
// of one view, for speed) on two enrolled people of 15 images each: 26
// trained on, 4 held out, fewer than the preset's batch of 32. A batch
// not given (BatchDefault) is lowered to the 26, and the job says so; a
// batch given is refused with the batch that trains, as before. A loss
// of P×K batches with k = 16 takes no batch of 26 (2k = 32), nor 4
// workers one of 26 (24 splits evenly). The old code refused every one.
func TestDefaultBatchFitsSmallSet(t *testing.T) {
	set := bars(15, 3).Subset([]int{0, 1})
	p, _ := msg.PresetByName("faces")
	req := p.Request
	req.Data, req.Preset, req.Arch, req.Views, req.Epochs, req.Seed, req.BatchDefault = "webcam", "faces", "mlp", nil, 1, 1, true

	j, err := New(req, set, nil, Options{})
	if err != nil {
		t.Fatalf("the preset's batch of 32, not given, on 26 training images: %v", err)
	}
	defer j.Close()
	const want = "batch 26: the 26 training images (the faces preset's batch is 32)"
	if tn, _ := j.Sizes(); tn != 26 || j.Batch() != 26 || j.Note() != want {
		t.Errorf("%d training images, batch %d, note %q; want 26, 26, %q", tn, j.Batch(), j.Note(), want)
	}
	for !j.Done() {
		if _, err := j.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if got := j.Model().Meta.Provenance; got.Batch != 26 || got.Steps != 1 {
		t.Errorf("the model records batch %d, %d steps; want 26 and one step", got.Batch, got.Steps)
	}

	sharded, err := New(req, set, nil, Options{Shard: Shard{Index: 0, Count: 4}})
	if err != nil {
		t.Fatalf("4 workers: %v", err)
	}
	sharded.Close()
	if want := "batch 24: the most of the 26 training images that one batch takes (the faces preset's batch is 32)"; sharded.Batch() != 24 || sharded.Note() != want {
		t.Errorf("4 workers: batch %d, note %q; want 24, %q", sharded.Batch(), sharded.Note(), want)
	}

	noPreset := req
	noPreset.Preset, noPreset.Batch = "", 64
	if j, err := New(noPreset, set, nil, Options{CheckOnly: true}); err != nil {
		t.Errorf("the default batch of 64: %v", err)
	} else if want := "batch 26: the 26 training images (the default batch is 64)"; j.Note() != want {
		t.Errorf("the default batch of 64: note %q, want %q", j.Note(), want)
	}

	for _, c := range []struct {
		name string
		edit func(r *msg.TrainRequest)
		want string
	}{
		{"a batch given", func(r *msg.TrainRequest) { r.BatchDefault = false }, "26 training images, fewer than one batch of 32: give a batch of 26 or less"},
		{"triplet of k = 16", func(r *msg.TrainRequest) { r.Loss, r.LossParams = "triplet", map[string]float64{"k": 16} },
			"26 training images, fewer than one batch of 32, and no smaller batch trains (batch 26 with triplet's k = 16 holds one class"},
	} {
		r := req
		c.edit(&r)
		_, err := New(r, set, nil, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrRequest) {
			t.Errorf("%s: %v; want a request error containing %q", c.name, err, c.want)
		}
	}
}
