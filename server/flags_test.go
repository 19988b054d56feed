package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/job"
	"metriclab/core/msg"
	"metriclab/losses"
)

// TestApplyPreset: a preset sets what the command line leaves out; flags
// given explicitly win; its loss parameters apply to its own loss only;
// its input applies to folders, not to MNIST.
// parsePreset parses train's model flags and --epochs from args, then
// applies their --preset for data.
func parsePreset(t *testing.T, data string, args ...string) (modelFlags, *int) {
	t.Helper()
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var mf modelFlags
	mf.register(fs)
	epochs := fs.Int("epochs", 3, "")
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	if err := mf.applyPreset(data, epochs); err != nil {
		t.Fatal(err)
	}
	return mf, epochs
}

func TestApplyPreset(t *testing.T) {
	faces, _ := msg.PresetByName("faces")
	parse := func(args ...string) (*modelFlags, int) {
		t.Helper()
		mf, epochs := parsePreset(t, "faces-folder", args...)
		return &mf, *epochs
	}
	mf, epochs := parse("--preset", "faces")
	r := faces.Request
	if mf.arch != r.Arch || mf.loss != r.Loss || mf.dim != r.Dim || mf.batch != r.Batch || mf.augment != r.Augment ||
		mf.input != faces.Input || epochs != r.Epochs || mf.opt != r.Opt || mf.schedule != r.Schedule {
		t.Errorf("preset alone: %+v, %d epochs; want the preset's %+v", mf, epochs, faces)
	}
	opt, err := mf.optConfig(10)
	if err != nil || opt.LR != r.LR {
		t.Errorf("learning rate %g (%v), want the preset's %g", opt.LR, err, r.LR)
	}
	lc := mf.lossConfig()
	for name, v := range r.LossParams {
		if lc.Values[name] != v {
			t.Errorf("loss parameter %s = %g, want the preset's %g", name, lc.Values[name], v)
		}
	}

	if req := trainRequest(mf, "faces-folder", "", epochs); req.Preset != "faces" {
		t.Errorf("the request of --preset faces records preset %q", req.Preset)
	}

	mf, epochs = parse("--preset", "faces", "--dim", "16", "--epochs", "2", "--lr", "0.5", "--augment", "none", "--m", "0.1")
	if mf.dim != 16 || epochs != 2 || mf.augment != "none" || mf.arch != r.Arch {
		t.Errorf("explicit flags: dim %d, epochs %d, augment %q, arch %q", mf.dim, epochs, mf.augment, mf.arch)
	}
	if opt, _ := mf.optConfig(10); opt.LR != 0.5 {
		t.Errorf("explicit lr: %g", opt.LR)
	}
	if lc := mf.lossConfig(); lc.Values["m"] != 0.1 {
		t.Errorf("explicit m: %g", lc.Values["m"])
	}

	mf, _ = parse("--preset", "faces", "--loss", "triplet")
	if lc := mf.lossConfig(); len(lc.Values) != 0 {
		t.Errorf("another loss took the preset's parameters %v", lc.Values)
	}

	// The digits preset's glyphs go to a loss that takes them, not to
	// triplet's P×K batches, unless given.
	want, _ := msg.PresetByName("digits")
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"--preset", "digits"}, want.Request.Glyphs},
		{[]string{"--preset", "digits", "--loss", "arcface"}, want.Request.Glyphs},
		{[]string{"--preset", "digits", "--loss", "triplet"}, 0},
		{[]string{"--preset", "digits", "--loss", "triplet", "--glyphs", "7"}, 7},
	} {
		if mf, _ := parsePreset(t, "mnist", c.args...); mf.glyphs != c.want {
			t.Errorf("%q: glyphs %d, want %d", c.args, mf.glyphs, c.want)
		}
	}

	// The faces preset's batch norm of the embedding goes to an encoder
	// without one (before, with --arch iresnet18, which ends with its own,
	// train refused the embed_bn it was never given).
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"--preset", "faces"}, true},
		{[]string{"--preset", "faces", "--arch", "iresnet18"}, false},
		{[]string{"--preset", "faces", "--arch", "iresnet18", "--embed-bn"}, true}, // given: refused with its reason
	} {
		if mf, _ := parsePreset(t, "faces", c.args...); mf.embedBN != c.want {
			t.Errorf("%q: embed-bn %v, want %v", c.args, mf.embedBN, c.want)
		}
	}

	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	var digits modelFlags
	digits.register(fs)
	if err := fs.Parse([]string{"--preset", "faces"}); err != nil {
		t.Fatal(err)
	}
	if err := digits.applyPreset("mnist", nil); err != nil || digits.input != "" {
		t.Errorf("mnist took the preset's input %q (%v)", digits.input, err)
	}
}

// TestFlagUsageShowsTypes: no usage string of train's flags holds a
// back-quote, which flag.PrintDefaults takes for the name of the value
// ("-k metriclab losses" instead of "-k float").
func TestFlagUsageShowsTypes(t *testing.T) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	fs.VisitAll(func(f *flag.Flag) {
		if strings.Contains(f.Usage, "`") {
			t.Errorf("--%s: usage %q holds a back-quote", f.Name, f.Usage)
		}
	})
}

// TestPairFlagsNameDefaults: --miner and --distance default to "", which
// the losses read as their own default; the usage (and so -h and the
// README's flags table, which show no default for "") says which it is.
func TestPairFlagsNameDefaults(t *testing.T) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	for name, def := range map[string]string{"miner": losses.DefaultMiner(), "distance": losses.DefaultDistance()} {
		if want := "(default " + def + ")"; !strings.HasSuffix(fs.Lookup(name).Usage, want) {
			t.Errorf("--%s: usage %q does not end with %q", name, fs.Lookup(name).Usage, want)
		}
	}
}

// TestLossTakes: which loss flags each loss takes.
func TestLossTakes(t *testing.T) {
	for _, c := range []struct {
		loss, flag string
		want       bool
	}{
		{"triplet", "miner", true}, {"contrastive", "miner", false}, {"arcface", "miner", false},
		{"contrastive", "distance", true}, {"triplet", "distance", true}, {"cosface", "distance", false},
		{"arcface", "m", true}, {"sphereface", "m", true}, {"normsoftmax", "m", false}, {"softmax", "s", false},
		{"sphereface", "lambda-base", true}, {"sphereface", "power", true}, {"arcface", "lambda-min", false}, {"triplet", "k", true}, {"contrastive", "k", false},
		{"combined", "m2", true}, {"contrastive", "margin", true}, {"triplet", "margin", true},
		{"arcface", "easy-margin", true}, {"cosface", "easy-margin", false},
		{"normsoftmax", "glyphs", true}, {"contrastive", "glyphs", true}, {"triplet", "glyphs", false},
		{"triplet", "epochs", true}, {"magic", "m", false},
	} {
		if got := lossTakes(c.loss, 3, c.flag); got != c.want {
			t.Errorf("lossTakes(%s, %s) = %v, want %v", c.loss, c.flag, got, c.want)
		}
	}
	// Every parameter of every loss has its flag (sphereface's lambda_base
	// and triplet's k had none), which sets it by its own name.
	for _, name := range losses.Names() {
		params, err := losses.Params(name, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range params {
			flag := strings.ReplaceAll(p.Name, "_", "-")
			if flag == "easy-margin" {
				continue // a bool flag of its own
			}
			mf, _ := parsePreset(t, "mnist", "--loss", name, "--"+flag, "3")
			if v, ok := mf.lossConfig().Values[p.Name]; !ok || v != 3 {
				t.Errorf("--loss %s --%s 3: loss parameters %v", name, flag, mf.lossConfig().Values)
			}
		}
	}
}

// TestCompareSharesLossFlags: compare gives each listed loss the loss
// flags it takes and the preset's loss parameters to the preset's loss
// only (before, `compare --preset digits` gave normsoftmax's s = 16 to
// every loss and failed at "contrastive has no parameter s", and a miner
// for triplet refused the whole list).
func TestCompareSharesLossFlags(t *testing.T) {
	mf, epochs := parsePreset(t, "mnist", "--preset", "digits", "--miner", "hard", "--m", "0.3", "--distance", "cosine")
	mf.shared = true
	names := []string{"normsoftmax", "arcface", "triplet", "contrastive"}
	if err := mf.unusedLossFlag(names, 64); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		loss            string
		params          map[string]float64
		miner, distance string
		glyphs          int
	}{
		{"normsoftmax", map[string]float64{"s": 16}, "", "", 500},
		{"arcface", map[string]float64{"m": 0.3}, "", "", 500},
		{"triplet", map[string]float64{}, "hard", "cosine", 0},
		{"contrastive", map[string]float64{}, "", "cosine", 500},
	} {
		mf.loss = c.loss
		if _, err := mf.newLoss(); err != nil {
			t.Errorf("%s: %v", c.loss, err)
		}
		r := trainRequest(&mf, "mnist", "", *epochs)
		if !reflect.DeepEqual(r.LossParams, c.params) || r.Miner != c.miner || r.Distance != c.distance || r.Glyphs != c.glyphs {
			t.Errorf("%s: params %v, miner %q, distance %q, glyphs %d; want %v, %q, %q, %d",
				c.loss, r.LossParams, r.Miner, r.Distance, r.Glyphs, c.params, c.miner, c.distance, c.glyphs)
		}
	}
	want := "Loss flags not every loss takes: --m 0.3 for arcface; --miner hard for triplet; --distance cosine for triplet, contrastive; --glyphs 500 (the preset's) for normsoftmax, arcface, contrastive; --s 16 (the preset's) for normsoftmax."
	if got := mf.lossFlagsNote(names, 64); got != want {
		t.Errorf("note\n%s\nwant\n%s", got, want)
	}
	// A flag no listed loss takes is not in the note (the preset's glyphs,
	// dropped for triplet; before, "--glyphs 500 for .").
	if got, want := mf.lossFlagsNote([]string{"triplet"}, 64), ""; got != want {
		t.Errorf("triplet alone: note %q, want %q", got, want)
	}
	if err := mf.unusedLossFlag([]string{"normsoftmax"}, 64); err == nil || !strings.Contains(err.Error(), "--m: none of the losses compared (normsoftmax) takes it") {
		t.Errorf("m with normsoftmax alone: %v", err)
	}

	// --glyphs 0 asks for none, which triplet takes (refused before this
	// fix of the review's).
	none, _ := parsePreset(t, "mnist", "--glyphs", "0")
	if err := none.unusedLossFlag([]string{"triplet"}, 3); err != nil {
		t.Errorf("--glyphs 0 with triplet: %v", err)
	}

	// train, not shared, still refuses what its loss does not take.
	mf, _ = parsePreset(t, "mnist", "--loss", "arcface", "--miner", "hard")
	if _, err := mf.newLoss(); err == nil {
		t.Error("train --loss arcface --miner hard accepted")
	}
}

// TestPresetDescriptions: what `presets` and `train -h` say a preset sets
// is a command line that trains the same request as --preset itself.
func TestPresetDescriptions(t *testing.T) {
	type run struct {
		req   msg.TrainRequest
		input string
		wd    float64
	}
	request := func(args ...string) run {
		t.Helper()
		mf, epochs := parsePreset(t, "folder", args...)
		r := run{req: trainRequest(&mf, "folder", "", *epochs), input: mf.input}
		if r.req.WeightDecay != nil { // compare the value, not the pointer
			r.wd, r.req.WeightDecay = *r.req.WeightDecay, nil
		}
		return r
	}
	for _, p := range msg.Presets() {
		got, want := request(strings.Fields(describePreset(p))...), request("--preset", p.Name)
		want.req.Preset = "" // the preset's name, which its description's flags do not record
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the description trains\n%+v\nthe preset\n%+v", p.Name, got, want)
		}
	}
}

// TestCropDecimal: the fractions of --crop and of --views are read in
// decimal notation alone, as the float flags are, and a refusal quotes
// what was typed (before, as Go literals: 0x1p0 was 1 and 1_0.5 10.5,
// 0x0 was refused as not a number, and NaN was taken, to be refused as
// "crop [NaN 0 1 1]: fractions must be in [0, 1]"); -0 is read as 0.
func TestCropDecimal(t *testing.T) {
	// A crop taken goes on to the data, which is not there.
	dir := t.TempDir()
	data, out := filepath.Join(dir, "nope"), filepath.Join(dir, "m.safetensors")
	for _, c := range []struct{ crop, bad, why string }{
		{"0,0,0x1p0,1", "0x1p0", "want a finite decimal number"},
		{"NaN,0,1,1", "NaN", "want a finite decimal number"},
		{"0,0,Inf,1", "Inf", "want a finite decimal number"},
		{"0x0,0,1,1", "0x0", "want a finite decimal number"},
		{"0,0,1_0.5,1", "1_0.5", "want a finite decimal number"},
		{"0,0,1e400,1", "1e400", "out of range"},
	} {
		wantBadInput(t, fmt.Sprintf("crop %q: %q: %s", c.crop, c.bad, c.why), "train", "--crop", c.crop, "--data", data, "--out", out)
		views := "whole," + strings.ReplaceAll(c.crop, ",", ":")
		wantBadInput(t, fmt.Sprintf("views %q: view %q: %q: %s", views, views[len("whole,"):], c.bad, c.why), "train", "--views", views, "--data", data, "--out", out)
	}
	c, err := parseCrop("-0,-0,.5,1.")
	if err != nil || c != (core.Crop{0, 0, 0.5, 1}) || math.Signbit(c[0]) || math.Signbit(c[1]) {
		t.Errorf(`parseCrop("-0,-0,.5,1.") = %v, %v; want [0 0 0.5 1]`, c, err)
	}
}

// TestAugmentUsage: --augment's help names every augmentation, each that
// changes the images with what it changes, none by its name alone
// (before, "none (none)").
func TestAugmentUsage(t *testing.T) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	u := fs.Lookup("augment").Usage
	for _, a := range data.Augmentations() {
		want := a.Name + " (" + a.Describe() + ")"
		if !a.Active() {
			want = a.Name
		}
		if !strings.Contains(u, want) {
			t.Errorf("--augment: usage %q does not hold %q", u, want)
		}
	}
	if strings.Contains(u, "none (") {
		t.Errorf("--augment: usage %q describes none", u)
	}
}

// TestTrainDefaultsAreTheJobsAPIs: what `metriclab train --data D`
// trains, its other flags not given, is what a server job of the body
// {"data":D} trains (job.FillRequest, as POST /api/jobs resolves a body),
// the optimiser's defaults written in for both (job.ResolveOpt), on MNIST
// and on a folder: train's flags take their defaults from
// msg.TrainDefaults, as the API does. So too with a preset: `train
// --preset P` and {"data":D,"preset":P} train P's recipe, and a flag
// given beside it is a field given beside it, which wins. The device is
// left out (train's --device cpu; a job's is the server's), and "none" is
// "" for an augmentation and a composition (TrainRequest); train's input
// shape and views are its flags'. Before, the API took only the seed so,
// and {"data":"mnist"} was refused (epochs 0); then it filled no field
// from a preset: {"data":"mnist","preset":"digits"} trained lenet-s,
// arcface, D = 3 for 3 epochs, as no preset.
func TestTrainDefaultsAreTheJobsAPIs(t *testing.T) {
	cases := []struct {
		args []string // train's flags besides --data
		body string   // the API's fields besides data
	}{
		{nil, ``},
		{[]string{"--arch", "mlp", "--glyphs", "0", "--epochs", "2", "--wd", "0", "--s", "20"},
			`"arch":"mlp","glyphs":0,"epochs":2,"weight_decay":0,"loss_params":{"s":20}`},
		{[]string{"--embed-bn=false", "--flip-test=false", "--views", "whole", "--augment", "none", "--loss", "arcface"},
			`"embed_bn":false,"flip_test":false,"views":[],"augment":"none","loss":"arcface"`},
		{[]string{"--batch", "8", "--crop", "upper", "--loss", "triplet"}, `"batch":8,"crop":"upper","loss":"triplet"`},
	}
	for _, dataName := range []string{"mnist", filepath.Join(t.TempDir(), "faces")} {
		for _, preset := range append([]string{""}, msg.PresetNames()...) {
			for _, c := range cases {
				args, body := append([]string{"--data", dataName, "--out", "m.safetensors"}, c.args...), fmt.Sprintf(`{"data":%q`, dataName)
				if preset != "" {
					args, body = append(args, "--preset", preset), body+fmt.Sprintf(`,"preset":%q`, preset)
				}
				if c.body != "" {
					body += "," + c.body
				}
				body += "}"
				f, err := parseTrain(args, io.Discard)
				if err != nil {
					t.Fatal(err)
				}
				cli := trainRequest(&f.mf, f.data, f.classes, f.epochs)
				cli.Input = f.mf.input
				if cli.Views, err = msg.ParseViews(f.mf.views); err != nil {
					t.Fatal(err)
				}
				if cli.Crop, err = parseCrop(f.mf.crop); err != nil {
					t.Fatal(err)
				}
				cli = job.ResolveOpt(cli)
				var req msg.TrainRequest
				var fields map[string]json.RawMessage
				if err := json.Unmarshal([]byte(body), &req); err != nil {
					t.Fatal(err)
				}
				json.Unmarshal([]byte(body), &fields)
				given := map[string]bool{}
				for k := range fields {
					given[k] = true
				}
				api := job.ResolveOpt(job.FillRequest(req, given))
				for _, r := range []*msg.TrainRequest{&cli, &api} {
					r.Device = ""
					if r.Augment == "none" {
						r.Augment = ""
					}
					if r.Compose == "none" {
						r.Compose = ""
					}
					if len(r.LossParams) == 0 {
						r.LossParams = nil
					}
					if len(r.Views) == 0 {
						r.Views = nil
					}
				}
				if !reflect.DeepEqual(cli, api) {
					t.Errorf("train %q trains\n%+v;\nthe API's job of %s\n%+v", args, cli, body, api)
				}
			}
		}
	}
}
