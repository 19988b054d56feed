package app

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"metriclab/core/msg"
)

// Settings is an experiment as the URL hash holds it, so that a link
// reproduces it:
//
//	#data=mnist&classes=0-4&arch=lenet-s&loss=arcface&dim=3&batch=64&lr=0.01
//	 &opt=adam&epochs=1&seed=1&m=0.3&compare=softmax,sphereface,cosface,arcface
//	 &hide=loss,dim&autostart=1
//	#preset=digits&classes=0-4&epochs=3
//
// The loss parameters (s, m, …) sit in the hash under their own names and
// belong to Loss; in compare mode every other loss takes its defaults at D.
// preset=NAME (a msg.Presets recipe) sets every field its request names,
// as `metriclab train --preset` does, and the hash's own keys win over it.
type Settings struct {
	Data      string             // "mnist", or on the Jobs page a data set the server listed (an image folder)
	Classes   string             // class subset: "" for all (classes= or classes=all), "0-4", "0,2,4"; of a folder, as typed ("s01-s20"), for the server to check
	Arch      string             // one of Archs
	Loss      string             // a name of lossNames
	Params    map[string]float64 // loss parameters set by the user, by name; absent ones take their default at Dim
	Dim       int                // one of Dims
	Batch     int                // [minBatch, maxBatch]
	LR        float64            // [minLR, maxLR]
	Opt       string             // "adam" or "sgd"
	Epochs    int                // [1, maxEpochs]
	Seed      int64              // ≥ 0
	Compare   []string           // losses trained side by side, at most MaxTrainers; nil for one trainer
	Hide      []string           // names of hidden controls, of ControlNames()
	Autostart bool               // start training on load
	// Workers is the number of data-parallel Web Workers of each trainer,
	// [1, MaxWorkers]; 0 (the default) shares the browser's cores but one
	// among the trainers (AutoWorkers).
	Workers int

	// Preset is the recipe the recipe fields came from, "" for none.
	Preset string
	// The recipe fields the page has no control for but the preset's
	// request sets, in msg.TrainRequest's meaning; the hash keys are the
	// command line's flags.
	Schedule    string   // schedule=: one of msg.ScheduleNames, "" the trainer's default
	Augment     string   // augment=: one of msg.AugmentNames, "" none
	EmbedBN     bool     // embed-bn=1
	FlipTest    bool     // flip-test=1
	Compose     string   // compose=RxC, "" none
	Views       string   // views=: msg.FormatViews of the windows of an encoder of views, "" one encoder of the whole image
	Turns       int      // turns=: one of msg.TurnsValues
	Glyphs      int      // glyphs=: classes of made-up characters, [0, msg.MaxGlyphs]
	WeightDecay *float64 // wd=: nil the optimiser's default
	EarlyStop   int      // early-stop=: patience in epochs, 0 off (one worker then)
}

// MaxTrainers is the most trainers the page runs side by side.
const MaxTrainers = 4

// MaxWorkers is the most Web Workers the page trains on, all its trainers
// together (each holds its own copy of the data: MNIST is 220 MB).
const MaxWorkers = 16

// AutoWorkers returns the workers of each of trainers trainers when the
// setting is 0: the browser's cores (navigator.hardwareConcurrency) but
// one, left to the page, shared among the trainers; at least one.
func AutoWorkers(cores, trainers int) int {
	return max(1, min(MaxWorkers, (cores-1)/max(1, trainers)))
}

// WorkersFor returns the data-parallel workers of a trainer: the setting,
// or AutoWorkers when it is 0, lowered to MaxWorkers shared among the
// trainers and then to a divisor of the batch (every worker trains on an
// equal share of each batch).
//
// Early stopping trains on one worker: worker 0 alone validates.
func (s Settings) WorkersFor(cores int) int {
	if s.EarlyStop > 0 {
		return 1
	}
	trainers := max(1, len(s.Losses()))
	n := s.Workers
	if n == 0 {
		n = AutoWorkers(cores, trainers)
	}
	n = max(1, min(n, MaxWorkers/trainers, s.Batch))
	for s.Batch%n != 0 {
		n--
	}
	return n
}

// Bounds of the numeric settings.
const (
	minBatch  = 8
	maxBatch  = 512
	minLR     = 1e-6 // below it training barely moves (and float32 loses lr=1e-320 altogether)
	maxLR     = 10
	maxEpochs = 500 // the faces preset trains 200 epochs of a small folder
	// maxSeed is the largest seed a link or the playground's Seed field
	// takes: the field's value is a JavaScript number, whose integers are
	// exact up to 2⁵³ − 1.
	maxSeed = 1<<53 - 1
)

// DefaultSettings returns the settings of a bare URL: lenet-s with ArcFace
// at D = 3 on all of MNIST, Adam at 0.01 (core.DefaultOpt's: a test checks it),
// batch 64, one epoch, seed 1.
func DefaultSettings() Settings {
	return Settings{Data: "mnist", Arch: "lenet-s", Loss: "arcface", Dim: 3, Batch: 64, LR: 0.01, Opt: "adam", Epochs: 1, Seed: 1}
}

// DefaultCompare returns the losses of compare mode when the hash says
// compare=1: the seed's softmax, SphereFace, CosFace and ArcFace.
func DefaultCompare() []string { return []string{"softmax", "sphereface", "cosface", "arcface"} }

// Dims returns the embedding dimensions the page offers.
func Dims() []int { return []int{2, 3, 8, 16, 64, 128} }

// Archs returns the encoders the page offers: those of MNIST's size that a
// browser trains (lenet-m and -l are lenet-s four and eight times as wide,
// the faces preset's encoder and a bigger one).
func Archs() []string { return []string{"mlp", "lenet-s", "lenet-m", "lenet-l"} }

// Opts returns the optimisers the page offers.
func Opts() []string { return []string{"adam", "sgd"} }

// Datasets returns the data sets the playground offers, which it trains
// on in the browser. The Jobs page offers the server's image folders too
// (GET /api/datasets), which a link and the form name as they name MNIST
// (ParseHash's sets).
func Datasets() []string { return []string{"mnist"} }

// isFolder reports whether data is one of the server's image folders,
// not a data set of Datasets: its classes are the folder's identities,
// which the server alone knows and checks (data.ParseClasses), and its
// images take a preset's input shape (Settings.Request).
func isFolder(data string) bool { return !slices.Contains(Datasets(), data) }

// dataOptions returns the data sets that a link may name: those of
// Datasets, then those of sets not among them.
func dataOptions(sets []string) []string {
	out := Datasets()
	for _, name := range sets {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// LossNames returns the losses the page offers, sorted.
func LossNames() []string { return lossNames() }

// ControlNames returns the names of the controls that hide= may hide.
func ControlNames() []string {
	cs := hideables()
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.name
	}
	return names
}

// hideable is a control of the playground that hide= may hide: its name
// and what it is, as the README's table says it (HideTable).
type hideable struct{ name, what string }

// hideables returns the controls that hide= may hide, in the order of
// ControlNames.
func hideables() []hideable {
	return []hideable{
		{"preset", "the Preset field"},
		{"data", "the Data set field"},
		{"classes", "the Classes field"},
		{"arch", "the Encoder field"},
		{"loss", "the Loss field"},
		{"params", "the loss's parameters"},
		{"dim", "the Embedding dimension D field"},
		{"batch", "the Batch size field"},
		{"lr", "the Learning rate field"},
		{"opt", "the Optimiser field"},
		{"epochs", "the Epochs field"},
		{"seed", "the Seed field"},
		{"augment", "the Augmentation field"},
		{"compare", "compare mode's switch and its losses"},
		{"export", "each panel's Export buttons"},
	}
}

// controlSets returns the names of the controls, other than itself,
// whose settings the control name changes too: hiding one of them hides
// it (Settings.Hidden), else a link's hide=loss left the loss to change
// by compare mode's switch (which trains other losses) or by a preset.
// Compare mode sets the losses; the Preset field what the playground's
// presets set (presetOnMNIST, presetValues: the encoder, the loss and its
// parameters, D, batch, learning rate, optimiser, augmentation, epochs).
// The Loss field gives the new loss its defaults, and is not hidden with
// the parameters: those of a link are its loss's, and hide=params fixes
// them where the link's loss is trained.
func controlSets(name string) []string {
	switch name {
	case "compare":
		return []string{"loss"}
	case "preset":
		var sets []string
		for _, p := range msg.Presets() {
			if !presetOnMNIST(p) {
				continue
			}
			for k := range presetValues(p, "") {
				if slices.Contains(ControlNames(), k) && !slices.Contains(sets, k) {
					sets = append(sets, k)
				}
			}
			if len(p.Request.LossParams) > 0 && !slices.Contains(sets, "params") {
				sets = append(sets, "params")
			}
		}
		slices.SortFunc(sets, func(a, b string) int { return slices.Index(ControlNames(), a) - slices.Index(ControlNames(), b) })
		return sets
	}
	return nil
}

// HideTable returns the README's table of hide='s names: each control,
// and the others hidden with it (controlSets).
func HideTable() string {
	var b strings.Builder
	b.WriteString("| `hide=` | hides |\n| --- | --- |")
	for _, c := range hideables() {
		what := c.what
		var also []string
		for _, o := range hideables() {
			if slices.Contains(controlSets(o.name), c.name) {
				also = append(also, o.what+" (`"+o.name+"`)")
			}
		}
		if len(also) > 0 {
			what += ", and what sets it too: " + strings.Join(also, ", ")
		}
		fmt.Fprintf(&b, "\n| `%s` | %s |", c.name, what)
	}
	return b.String()
}

// PresetNames returns the presets the page offers: "none", then
// msg.Presets' names.
func PresetNames() []string { return append([]string{"none"}, msg.PresetNames()...) }

// mnistInput is the shape ("CxHxW") of MNIST's images, the data the
// playground trains on.
const mnistInput = "1x28x28"

// presetOnMNIST reports whether preset p is a recipe for MNIST's images,
// which the playground trains on: its input is their shape (digits). The
// others are recipes for a server's folders of other images (faces and
// face-photos, of 48×48 face crops): on MNIST, faces trained lenet-m on
// four windows of each digit for 200 epochs, "step 1/343600 … over 99h
// left" in a browser, for nothing it was chosen for. The Jobs page, whose
// data sets are the server's folders too, offers every preset.
func presetOnMNIST(p msg.Preset) bool { return p.Input == mnistInput }

// presetData returns what preset p is a recipe for, the head of its
// description: "folders of face crops (aligned by the eyes)".
func presetData(p msg.Preset) string {
	d, _, _ := strings.Cut(p.Description, ":")
	return d
}

// ParseLink reads the playground's link as ParseHash does, but for a
// preset that is not for MNIST's images (presetOnMNIST): the link is
// read without it, and a notice, the first, says why.
func ParseLink(fragment string) (Settings, []string) {
	s, notices := ParseHash(fragment)
	p, ok := msg.PresetByName(s.Preset)
	if !ok || presetOnMNIST(p) {
		return s, notices
	}
	var kept []string
	for pair := range strings.SplitSeq(strings.TrimPrefix(fragment, "#"), "&") {
		k, _, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(k); err != nil || k != "preset" {
			kept = append(kept, pair)
		}
	}
	s, notices, n := parseHash(strings.Join(kept, "&"), nil)
	why := msg.Shorten(fmt.Sprintf("preset=%s is a recipe for %s, not MNIST, the playground's data: no preset (the Jobs page trains it on a server's folder)", p.Name, presetData(p)), maxNoticeRunes)
	return s, capNotices(append([]string{why}, notices...), n+1, maxNotices)
}

// presetValues returns the hash keys and values of preset p's request,
// with its loss parameters when loss (the hash's own loss, "" when it
// has none) is the preset's, as `metriclab train --preset` takes them.
func presetValues(p msg.Preset, loss string) url.Values {
	r := p.Request
	v := url.Values{}
	set := func(k, x string) {
		if x != "" {
			v.Set(k, x)
		}
	}
	set("arch", r.Arch)
	set("loss", r.Loss)
	set("opt", r.Opt)
	set("schedule", r.Schedule)
	set("augment", r.Augment)
	set("compose", r.Compose)
	set("views", msg.FormatViews(r.Views))
	if r.Dim > 0 {
		v.Set("dim", strconv.Itoa(r.Dim))
	}
	if r.Batch > 0 {
		v.Set("batch", strconv.Itoa(r.Batch))
	}
	if r.LR > 0 {
		v.Set("lr", strconv.FormatFloat(r.LR, 'g', -1, 64))
	}
	if r.Epochs > 0 {
		v.Set("epochs", strconv.Itoa(r.Epochs))
	}
	if r.EmbedBN {
		v.Set("embed-bn", "1")
	}
	if r.FlipTest {
		v.Set("flip-test", "1")
	}
	if r.Turns > 0 {
		v.Set("turns", strconv.Itoa(r.Turns))
	}
	if r.Glyphs > 0 {
		v.Set("glyphs", strconv.Itoa(r.Glyphs))
	}
	if r.WeightDecay != nil {
		v.Set("wd", strconv.FormatFloat(*r.WeightDecay, 'g', -1, 64))
	}
	if r.EarlyStop > 0 {
		v.Set("early-stop", strconv.Itoa(r.EarlyStop))
	}
	if loss == "" || loss == r.Loss {
		for k, x := range r.LossParams {
			v.Set(k, strconv.FormatFloat(x, 'g', -1, 64))
		}
	}
	return v
}

// LossParams returns the parameters of loss at D = dim with their defaults
// and ranges (those of losses.Params), or nil for an unknown loss or
// dimension.
func LossParams(loss string, dim int) []LossParam {
	ps, _ := lossParams(loss, dim)
	return ps
}

// LossParam is one parameter of a loss as the controls offer it: the name
// the trainer reads, its default at the chosen D, its inclusive range, and
// the formula it enters. The values are those of losses.Params.
type LossParam struct {
	Name     string
	Default  float64
	Min, Max float64
	Integer  bool
	Doc      string
}

// lossParamRow is a parameter of a loss with its default at each
// dimension of Dims, in order (p.Default is not used): a row of the
// generated lossParamRows.
type lossParamRow struct {
	p        LossParam
	defaults []float64
}

// lossParams returns the parameters of the loss name at D = dim, for the
// dimensions of Dims; ok is false for another name or dimension.
func lossParams(name string, dim int) (params []LossParam, ok bool) {
	i := slices.Index(Dims(), dim)
	rows, ok := lossParamRows[name]
	if i < 0 || !ok {
		return nil, false
	}
	params = make([]LossParam, len(rows))
	for k, r := range rows {
		params[k] = r.p
		params[k].Default = r.defaults[i]
	}
	return params, true
}

// Bounds of the link's notices: a link of thousands of bad settings, or of
// a value of megabytes, gives a few lines of text.
const (
	maxNotices     = 8   // the last one counts the rest
	maxNoticeRunes = 200 // a longer notice loses its middle (msg.Shorten)
)

// ParseHash reads settings from a URL fragment (location.hash, with or
// without its "#"). Unknown keys and invalid values are dropped, the
// defaults stand in, and each drop gives one notice in words for the page:
// at most maxNotices, the last of them counting the drops left out, each
// one line (msg.ErrorLine: a value's line breaks and bidirectional
// overrides are spaces) of at most maxNoticeRunes characters.
func ParseHash(fragment string) (Settings, []string) {
	s, notices, n := parseHash(fragment, nil)
	return s, capNotices(notices, n, maxNotices)
}

// capNotices returns the first notices of n (those parseHash wrote), at
// most limit (maxNotices or fewer) of them: the first limit-1 and one
// that counts the rest, when there are more.
func capNotices(notices []string, n, limit int) []string {
	if n <= limit {
		return notices
	}
	return append(notices[:limit-1:limit-1], fmt.Sprintf("and %d more settings of the link were not used", n-limit+1))
}

// parseHash returns the settings, the first maxNotices notices and the
// number of notices. Only those shown are written: a notice may quote a
// whole value, and hide=x,x,… of a megabyte has a notice per item.
// data= takes a data set of Datasets or of sets (the Jobs page's: the
// server's), whose classes= is taken as typed (isFolder).
func parseHash(fragment string, sets []string) (s Settings, notices []string, n int) {
	s = DefaultSettings()
	note := func(format string, a ...any) {
		n++
		if n <= maxNotices {
			notices = append(notices, msg.Shorten(msg.ErrorLine(fmt.Sprintf(format, a...)), maxNoticeRunes))
		}
	}
	// As url.ParseQuery reads a query, but a pair it cannot read is noted
	// and leaves the others (ParseQuery keeps them, but names only one
	// such pair, and reads none of a link of over 10,000).
	q := url.Values{}
	for pair := range strings.SplitSeq(strings.TrimPrefix(fragment, "#"), "&") {
		k, v, _ := strings.Cut(pair, "=")
		k, errK := url.QueryUnescape(k)
		v, errV := url.QueryUnescape(v)
		switch err := cmp.Or(errK, errV); {
		case pair == "":
		case strings.Contains(pair, ";"):
			note("%s could not be read (settings are separated by &, not ;): not used", pair)
		case err != nil:
			note("%s could not be read (%v): not used", pair, err)
		default:
			q[k] = append(q[k], v)
		}
	}
	if vs := q["preset"]; len(vs) > 0 {
		name := vs[len(vs)-1]
		delete(q, "preset")
		if p, ok := msg.PresetByName(name); ok {
			s.Preset = name
			// The link's loss, when it names one the page has: a bad one
			// leaves the preset's loss, with its parameters.
			loss := ""
			for _, l := range q["loss"] {
				if slices.Contains(lossNames(), l) {
					loss = l
				}
			}
			// The preset's values go first: the hash's own, read last, win.
			for k, vs := range presetValues(p, loss) {
				q[k] = append(vs, q[k]...)
			}
		} else if name != "none" && name != "" {
			note("preset=%s is not one of %s: no preset", name, strings.Join(PresetNames(), ", "))
		}
	}
	// Every value of a key is read in order: the preset's first, then
	// the link's; a bad one is noted and leaves the one before it.
	each := func(key string, read func(v string)) {
		vs := q[key]
		delete(q, key)
		for _, v := range vs {
			read(v)
		}
	}
	oneOf := func(key string, dst *string, options []string) {
		each(key, func(v string) {
			if slices.Contains(options, v) {
				*dst = v
			} else {
				note("%s=%s is not one of %s: using %s", key, v, strings.Join(options, ", "), *dst)
			}
		})
	}
	oneOf("data", &s.Data, dataOptions(sets))
	oneOf("arch", &s.Arch, Archs())
	oneOf("loss", &s.Loss, lossNames())
	oneOf("opt", &s.Opt, Opts())
	each("schedule", func(v string) {
		if v == "" || slices.Contains(msg.ScheduleNames(), v) {
			s.Schedule = v // "": the trainer's default
		} else {
			note("schedule=%s is not one of %s: using %s", v, strings.Join(msg.ScheduleNames(), ", "), cmp.Or(s.Schedule, "the default"))
		}
	})
	oneOf("augment", &s.Augment, msg.AugmentNames())
	if s.Augment == "none" {
		s.Augment = ""
	}
	each("compose", func(v string) {
		if v == "none" || v == "" {
			s.Compose = ""
		} else if _, _, err := msg.ParseCompose(v); err == nil {
			s.Compose = v
		} else {
			note("compose=%s is not RxC of at most %d parts (2x1: top and bottom halves) or none: %s", v, msg.MaxComposeParts,
				cmp.Or(usingText(s.Compose), "no composition"))
		}
	})
	each("views", func(v string) {
		if views, err := msg.ParseViews(v); err == nil && len(views) != 1 {
			s.Views = msg.FormatViews(views)
		} else {
			if err == nil {
				err = errors.New("one window is not an ensemble")
			}
			note("views=%s: %v: %s", v, err, cmp.Or(usingText(s.Views), "one encoder of the whole image"))
		}
	})
	each("turns", func(v string) {
		if n, err := strconv.Atoi(v); err == nil && slices.Contains(msg.TurnsValues(), n) {
			s.Turns = n
		} else if s.Turns == 0 {
			note("turns=%s is not one of %s: no turns", v, joinInts(msg.TurnsValues()))
		} else {
			note("turns=%s is not one of %s: using %d", v, joinInts(msg.TurnsValues()), s.Turns)
		}
	})
	each("wd", func(v string) {
		if strings.TrimSpace(v) == "" {
			s.WeightDecay = nil // the optimiser's default
		} else if x, err := decimalIn(v, 0, 1, false); err == nil {
			s.WeightDecay = &x
		} else if s.WeightDecay == nil {
			note("wd=%s: %v: using the optimiser's default", v, err)
		} else {
			note("wd=%s: %v: using %g", v, err, *s.WeightDecay)
		}
	})
	each("classes", func(v string) {
		if allClasses(v) {
			s.Classes = ""
		} else if isFolder(s.Data) {
			s.Classes = strings.TrimSpace(v) // names or numbers of the folder's identities: the server checks them
		} else if _, err := ParseClasses(v); err != nil {
			note("classes=%s: %v: %s", v, err, cmp.Or(usingText(s.Classes), "using all classes"))
		} else {
			s.Classes = v
		}
	})
	each("dim", func(v string) {
		if d, err := strconv.Atoi(v); err == nil && slices.Contains(Dims(), d) {
			s.Dim = d
		} else {
			note("dim=%s is not one of %s: using %d", v, joinInts(Dims()), s.Dim)
		}
	})
	intIn := func(key string, dst *int, lo, hi int) {
		each(key, func(v string) {
			if n, err := strconv.Atoi(v); err == nil && n >= lo && n <= hi {
				*dst = n
			} else {
				note("%s=%s: want a decimal integer in [%d, %d]: using %d", key, v, lo, hi, *dst)
			}
		})
	}
	intIn("batch", &s.Batch, minBatch, maxBatch)
	intIn("epochs", &s.Epochs, 1, maxEpochs)
	intIn("workers", &s.Workers, 0, MaxWorkers)
	intIn("early-stop", &s.EarlyStop, 0, maxEpochs)
	intIn("glyphs", &s.Glyphs, 0, msg.MaxGlyphs)
	each("lr", func(v string) {
		if x, err := decimalIn(v, minLR, maxLR, false); err == nil {
			s.LR = x
		} else {
			note("lr=%s: %v: using %g", v, err, s.LR)
		}
	})
	each("seed", func(v string) {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 && n <= maxSeed {
			s.Seed = n
		} else {
			note("seed=%s: want a decimal integer in [0, %d]: using %d", v, maxSeed, s.Seed)
		}
	})
	each("compare", func(v string) {
		s.Compare = parseCompare(v, note)
	})
	each("hide", func(v string) {
		for _, c := range splitList(v) {
			if slices.Contains(ControlNames(), c) {
				if !slices.Contains(s.Hide, c) {
					s.Hide = append(s.Hide, c)
				}
			} else {
				note("hide=%s: no control %q (controls: %s)", v, c, strings.Join(ControlNames(), ", "))
			}
		}
	})
	// A bad value of a flag leaves the one before it, where keep: on says
	// so when it is set, off when it is not; else it turns the flag off.
	flag := func(key string, dst *bool, keep bool, on, off string) {
		each(key, func(v string) {
			switch v {
			case "1", "true", "yes":
				*dst = true
			case "0", "false", "no", "":
				*dst = false
			default:
				*dst = *dst && keep
				note("%s=%s is not 1 or 0: %s", key, v, map[bool]string{true: on, false: off}[*dst])
			}
		})
	}
	// A bad autostart= after an autostart=1 does not start: the page
	// starts no link with a notice (Playground.open), and the notice said
	// "starting".
	flag("autostart", &s.Autostart, false, "", "not starting")
	flag("embed-bn", &s.EmbedBN, true, "with the batch norm of the embedding", "no batch norm of the embedding")
	flag("flip-test", &s.FlipTest, true, "with the flip test", "no flip test")
	// What is left are loss parameters, or unknown keys.
	params := LossParams(s.Loss, s.Dim)
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		i := slices.IndexFunc(params, func(p LossParam) bool { return p.Name == k })
		switch {
		case i < 0 && isLossParam(k):
			note("%s has no parameter %q: ignored", s.Loss, k)
			continue
		case i < 0:
			note("unknown setting %q ignored", k)
			continue
		}
		for _, v := range q[k] {
			x, err := decimalIn(v, params[i].Min, params[i].Max, params[i].Integer)
			if err != nil {
				note("%s %s=%s: %v: using %g", s.Loss, k, v, err, s.Param(params[i]))
				continue
			}
			if s.Params == nil {
				s.Params = make(map[string]float64)
			}
			s.Params[k] = x
		}
	}
	return s, notices, n
}

// Hash returns the URL fragment, with its "#", that ParseHash reads back as
// s. Every setting is written, defaults included, so that a link keeps
// meaning the same experiment when the defaults change.
//
// With a preset, the recipe fields it sets are written even at their
// defaults, so that the hash's own values still win over the preset's.
func (s Settings) Hash() string { return s.hash(true) }

// hash writes the fragment, with the recipe fields (addRecipe's, the
// loss parameters among them) when recipe is true.
func (s Settings) hash(recipe bool) string {
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
	}
	if s.Preset != "" {
		add("preset", s.Preset)
	}
	add("data", s.Data)
	if s.Classes != "" {
		add("classes", s.Classes)
	}
	if recipe {
		s.addRecipe(add)
	}
	add("seed", strconv.FormatInt(s.Seed, 10))
	if len(s.Compare) > 0 {
		add("compare", strings.Join(s.Compare, ","))
	}
	if len(s.Hide) > 0 {
		add("hide", strings.Join(s.Hide, ","))
	}
	if s.Workers > 0 {
		add("workers", strconv.Itoa(s.Workers))
	}
	if s.Autostart {
		add("autostart", "1")
	}
	// Commas read better than %2C and url.ParseQuery takes them as they are.
	return "#" + strings.ReplaceAll(b.String(), "%2C", ",")
}

// addRecipe adds the recipe fields to a fragment: those of the page's
// controls always, the others when not at their defaults or when the
// preset sets them (its value would stand in otherwise).
func (s Settings) addRecipe(add func(k, v string)) {
	var preset url.Values
	if p, ok := msg.PresetByName(s.Preset); ok {
		preset = presetValues(p, s.Loss)
	}
	add("arch", s.Arch)
	add("loss", s.Loss)
	for _, p := range LossParams(s.Loss, s.Dim) {
		if v, ok := s.Params[p.Name]; ok {
			add(p.Name, strconv.FormatFloat(v, 'g', -1, 64))
		} else if preset.Has(p.Name) {
			add(p.Name, strconv.FormatFloat(p.Default, 'g', -1, 64))
		}
	}
	add("dim", strconv.Itoa(s.Dim))
	add("batch", strconv.Itoa(s.Batch))
	add("lr", strconv.FormatFloat(s.LR, 'g', -1, 64))
	add("opt", s.Opt)
	add("epochs", strconv.Itoa(s.Epochs))
	opt := func(k, v string, isDefault bool) {
		if !isDefault || preset.Has(k) {
			add(k, v)
		}
	}
	opt("schedule", s.Schedule, s.Schedule == "")
	opt("augment", cmp.Or(s.Augment, "none"), s.Augment == "")
	opt("embed-bn", map[bool]string{true: "1", false: "0"}[s.EmbedBN], !s.EmbedBN)
	opt("flip-test", map[bool]string{true: "1", false: "0"}[s.FlipTest], !s.FlipTest)
	opt("compose", cmp.Or(s.Compose, "none"), s.Compose == "")
	opt("views", cmp.Or(s.Views, msg.ViewWhole), s.Views == "")
	opt("turns", strconv.Itoa(s.Turns), s.Turns == 0)
	opt("glyphs", strconv.Itoa(s.Glyphs), s.Glyphs == 0)
	opt("wd", wdText(s.WeightDecay), s.WeightDecay == nil) // wd=: the optimiser's default
	opt("early-stop", strconv.Itoa(s.EarlyStop), s.EarlyStop == 0)
}

// WithPreset returns s with the preset called name (one of PresetNames)
// chosen, as a form chooses it: every recipe field takes the preset's
// value, or its default when the preset does not name it; the other
// fields (data, classes, seed, …) stay. "none" only forgets the preset's
// name: the fields keep their values. s's data set stands, a server's
// folder too: it was checked when it was set.
func (s Settings) WithPreset(name string) (Settings, error) {
	if name == "none" || name == "" {
		s.Preset = ""
		return s, nil
	}
	if _, ok := msg.PresetByName(name); !ok {
		return s, fmt.Errorf("no preset %q (presets: %s)", name, strings.Join(PresetNames(), ", "))
	}
	s.Preset = ""
	out, notices, n := parseHash(s.hash(false)+"&preset="+url.QueryEscape(name), []string{s.Data})
	if notices = capNotices(notices, n, maxNotices); len(notices) > 0 {
		return s, fmt.Errorf("preset %s: %s", name, strings.Join(notices, "; "))
	}
	return out, nil
}

// WithLoss returns s with loss chosen, as a form chooses it: the loss
// parameters set belong to the old loss and go; the new loss takes the
// preset's, when it is the preset's loss, and its defaults otherwise (as
// `metriclab train --preset P --loss L` does).
func (s Settings) WithLoss(loss string) Settings {
	s.Loss, s.Params = loss, nil
	if p, ok := msg.PresetByName(s.Preset); ok && p.Request.Loss == loss && len(p.Request.LossParams) > 0 {
		s.Params = maps.Clone(p.Request.LossParams)
	}
	return s
}

// WithParam returns s with the parameter p of s.Loss set to v, as the
// form sets it. v at p's default is no setting, and takes p's default at
// the D chosen later, unless the preset sets p: the link writes it then
// (addRecipe), else the preset's value would stand in, and reads it back
// as set.
func (s Settings) WithParam(p LossParam, v float64) Settings {
	preset, ok := msg.PresetByName(s.Preset)
	if v == p.Default && (!ok || !presetValues(preset, s.Loss).Has(p.Name)) {
		s.Params = maps.Clone(s.Params)
		delete(s.Params, p.Name)
		if len(s.Params) == 0 {
			s.Params = nil // as ParseHash reads a link of none
		}
		return s
	}
	s.Params = maps.Clone(s.Params)
	if s.Params == nil {
		s.Params = make(map[string]float64)
	}
	s.Params[p.Name] = v
	return s
}

// Losses returns the loss of each trainer: Compare in compare mode, else
// Loss alone.
func (s Settings) Losses() []string {
	if len(s.Compare) > 0 {
		return s.Compare
	}
	return []string{s.Loss}
}

// Hidden reports whether the control name is hidden: hide= names it, or
// a control whose setting it changes too (controlSets).
func (s Settings) Hidden(name string) bool {
	if slices.Contains(s.Hide, name) {
		return true
	}
	return slices.ContainsFunc(controlSets(name), func(n string) bool { return slices.Contains(s.Hide, n) })
}

// Param returns the value of the loss parameter p of s.Loss: the one set,
// else its default.
func (s Settings) Param(p LossParam) float64 {
	if v, ok := s.Params[p.Name]; ok {
		return v
	}
	return p.Default
}

// Request returns the training request of the trainer of loss: the
// parameters set in s go with s.Loss only; other losses take their
// defaults. A loss of P×K batches (triplet) takes no glyph classes (a
// trainer refuses them), so a preset's glyphs, or a link's, go to the
// other losses only. The images of a server's folder are resized to the
// preset's input shape (1x48x48 for faces), as `metriclab train --preset
// P --data DIR` resizes them; with no preset, to the server's default
// (Input "": 1x32x32, as the command line's).
func (s Settings) Request(loss string) msg.TrainRequest {
	r := msg.TrainRequest{
		Data: s.Data, Arch: s.Arch, Loss: loss, Dim: s.Dim, Epochs: s.Epochs,
		Batch: s.Batch, LR: s.LR, Opt: s.Opt, Classes: s.Classes, Seed: s.Seed,
		Schedule: s.Schedule, Augment: s.Augment, EmbedBN: s.EmbedBN, FlipTest: s.FlipTest, Compose: s.Compose, Turns: s.Turns, Glyphs: s.Glyphs, EarlyStop: s.EarlyStop,
		Preset: s.Preset,
	}
	if slices.Contains(pkLosses(), loss) {
		r.Glyphs = 0
	}
	if p, ok := msg.PresetByName(s.Preset); ok && isFolder(s.Data) {
		r.Input = p.Input
	}
	r.Views, _ = msg.ParseViews(s.Views) // ParseHash checked it
	if s.WeightDecay != nil {
		wd := *s.WeightDecay
		r.WeightDecay = &wd
	}
	if loss == s.Loss && len(s.Params) > 0 {
		r.LossParams = make(map[string]float64, len(s.Params))
		for k, v := range s.Params {
			r.LossParams[k] = v
		}
	}
	return r
}

// ParseClasses reads a class subset of MNIST: "0-4", "0,2,4", or a mix
// ("0-2,7"), with spaces around the commas and dashes ("0 - 4") as the
// trainer's data.ParseClasses takes them; at least two digits, each given
// once (data.ParseClasses refuses a class given twice). It returns them
// sorted.
func ParseClasses(spec string) ([]int, error) {
	var seen [10]bool
	var by [10]string // the part that selected each class
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, errA := strconv.Atoi(strings.TrimSpace(lo))
		b := a
		var errB error
		if isRange {
			b, errB = strconv.Atoi(strings.TrimSpace(hi))
		}
		if errA != nil || errB != nil || a < 0 || b > 9 || a > b || strings.Contains(part, "+") { // the trainer takes no sign
			return nil, fmt.Errorf("%q is not a digit 0–9 or a range like 0-4", part)
		}
		for c := a; c <= b; c++ {
			if seen[c] {
				return nil, fmt.Errorf("class %d is selected twice, by %q and by %q; give each class once", c, by[c], part)
			}
			seen[c], by[c] = true, part
		}
	}
	var classes []int
	for c, ok := range seen {
		if ok {
			classes = append(classes, c)
		}
	}
	if len(classes) < 2 {
		return nil, fmt.Errorf("at least two classes are needed")
	}
	return classes, nil
}

// allClasses reports whether v, a classes= of a link or the classes typed
// in a form, means every class: empty, as the playground's field takes
// it, or "all", as the jobs form's placeholder says.
func allClasses(v string) bool {
	t := strings.TrimSpace(v)
	return t == "" || t == "all"
}

// parseCompare reads compare=: "1" for DefaultCompare, "0" or "" for none,
// else a list of up to MaxTrainers distinct loss names.
func parseCompare(v string, note func(string, ...any)) []string {
	switch v {
	case "1", "true", "yes":
		return DefaultCompare()
	case "0", "false", "no", "":
		return nil
	}
	var out []string
	for _, name := range splitList(v) {
		switch {
		case !slices.Contains(lossNames(), name):
			note("compare: no loss %q (losses: %s)", name, strings.Join(lossNames(), ", "))
		case slices.Contains(out, name):
			note("compare: %s named twice", name)
		case len(out) == MaxTrainers:
			note("compare: at most %d trainers; %s left out", MaxTrainers, name)
		default:
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		note("compare=%s names no loss: one trainer", v)
	}
	return out
}

// isLossParam reports whether name is a parameter of some loss.
func isLossParam(name string) bool {
	for _, rows := range lossParamRows {
		if slices.ContainsFunc(rows, func(r lossParamRow) bool { return r.p.Name == name }) {
			return true
		}
	}
	return false
}

// checkParam reports whether v is a valid value of p.
func checkParam(p LossParam, v string) error {
	_, err := decimalIn(v, p.Min, p.Max, p.Integer)
	return err
}

// decimalIn reads v, a number of a link, in decimal notation alone, as
// the command line reads one (msg.ParseDecimal), a number in [lo, hi],
// an integer where integer. A value it does not take, whatever is wrong
// with it (another notation, 0x1p-4, NaN, or a number out of range), is
// refused in ParseDecimal's words with the range: "want a finite decimal
// number in [0, 1]" ("want a decimal integer in [1, 8]", the command
// line's for an integer).
func decimalIn(v string, lo, hi float64, integer bool) (float64, error) {
	x, err := msg.ParseDecimal(v)
	if err == nil && x >= lo && x <= hi && (!integer || x == math.Trunc(x)) {
		return x, nil
	}
	if integer {
		return 0, fmt.Errorf("want a decimal integer in [%g, %g]", lo, hi)
	}
	return 0, fmt.Errorf("want a finite decimal number in [%g, %g]", lo, hi)
}

// usingText returns "using v", or "" when v is "".
func usingText(v string) string {
	if v == "" {
		return ""
	}
	return "using " + v
}

// wdText is a weight decay as the link and the jobs form write it: ""
// for the optimiser's default.
func wdText(wd *float64) string {
	if wd == nil {
		return ""
	}
	return strconv.FormatFloat(*wd, 'g', -1, 64)
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// joinInts writes ns as "2, 3, 8".
func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
