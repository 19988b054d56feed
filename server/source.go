package main

import (
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"metriclab/assets"
	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/face"
	"metriclab/core/msg"
)

// source loads data sets for train and eval: plain (images resized to the
// input), or, with --align, the photos of a folder through face detection
// and eye alignment, as the Verify page crops webcam frames; it says on
// log how many photos it kept, why it skipped the others, and which
// identities it left without one.
type source struct {
	align data.Aligner // nil: resize
	turns int          // with align: turned versions of every photo trained on (loadTraining)
	log   io.Writer
	told  map[string]bool // the loads already told on log, by name, split, input and turns (a plain load's by folder): each is told once
	// live, when not nil, is a terminal (not under --json) on which a
	// load that aligns counts its alignments on a live line
	// (alignProgress): with --align-turns 10, over a minute on ORL.
	live io.Writer
	// memo, when not nil, keeps what a load returned by name, split, input
	// and turns and returns it again, the same set: for loads whose sets are
	// only read (openset's checks, baselines and runs; a job reads its
	// training set through copies, data.Set.Batch and Subset).
	memo map[string]loaded
}

// loaded is a memo's entry: a set, the photos skipped aligning it, and
// the identities it left without images (emptied, as the folder was when
// loaded: the load may be told later, from the memo).
type loaded struct {
	set     *data.Set
	skipped data.Skipped
	empty   []bool
}

// plainSource resizes images to the input.
var plainSource = source{}

// checkTurns checks --align-turns against --align.
func checkTurns(align bool, turns int) error {
	if turns < 0 || turns > data.MaxPhotoTurns {
		return badInput("align-turns %d out of range [0, %d]", turns, data.MaxPhotoTurns)
	}
	if turns > 0 && !align {
		return badInput("--align-turns %d turns photos before aligning them: give --align too", turns)
	}
	return nil
}

// newSource returns the source of --align and --align-turns.
func newSource(align bool, turns int, log io.Writer) (source, error) {
	if err := checkTurns(align, turns); err != nil {
		return source{}, err
	}
	if !align {
		return source{log: log, told: map[string]bool{}}, nil
	}
	d, err := face.NewDetector(assets.FaceFinder, assets.PupLoc)
	if err != nil {
		return source{}, err
	}
	a := func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
		x, q := d.AlignPhoto(dst, img, face.Input{Channels: in.Channels, Height: in.Height, Width: in.Width})
		switch q {
		case face.OK:
			return x, ""
		case face.NoFace:
			return nil, "no face"
		case face.SeveralFaces:
			return nil, "several faces"
		case face.TooSmall:
			return nil, "face narrower than the crop"
		case face.TooBlurred:
			return nil, "too blurred"
		}
		return nil, q.String()
	}
	return source{align: a, turns: turns, log: log, told: map[string]bool{}}, nil
}

// withTurns is s loading its training sets with n turned versions of
// their photos (checkTurns has checked n), sharing s's memo and what it
// told: the loads of s without turns are those of the copy.
func (s source) withTurns(n int) source {
	s.turns = n
	return s
}

// load loads split of the data set name at input in: its photos, without
// turned versions (see loadTraining).
func (s source) load(name, split string, in core.Input) (*data.Set, error) {
	return s.loadTurned(name, split, in, data.Turns{})
}

// loadTraining loads split of the data set name at input in to train on
// the classes of classSpec, checked against listed, the split's classes
// listed before the load (checkClasses): the load must have them
// (checkLoaded). With --align-turns, the photos of those classes have
// their turned versions (data.Set.Alts), and the others' none of their
// own (the versions are the photos), so that the identities held out for
// evaluation are not turned for nothing.
func (s source) loadTraining(name, split, classSpec string, listed []string, in core.Input) (*data.Set, error) {
	turns := data.Turns{}
	if s.turns > 0 {
		turns = data.Turns{N: s.turns, Classes: classSpec}
	}
	set, err := s.loadTurned(name, split, in, turns)
	var classesErr *data.ClassesError
	if errors.As(err, &classesErr) {
		// The turns' selection, checked against listed, is refused by the
		// load's identities only when the folder changed since: the line
		// says so, as checkLoaded does of a load.
		if now, err := data.ClassNames(name, split); err == nil {
			if err := checkLoaded(name, split, listed, now); err != nil {
				return nil, err
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return set, checkLoaded(name, split, listed, set.Classes)
}

// checkLoad refuses a load of the data set name at input in, its photos
// aligned or not, that is found wrong before any image is read: photos to
// align of mnist, or mnist at another shape than its own
// (data.CheckInput).
func checkLoad(name string, align bool, in core.Input) error {
	if align && name == "mnist" {
		return badInput("--align is for folders of photos, not mnist")
	}
	if err := data.CheckInput(name, in); err != nil {
		return inputError{err}
	}
	return nil
}

// loadTurned is load with turns (data.LoadAligned).
func (s source) loadTurned(name, split string, in core.Input, turns data.Turns) (*data.Set, error) {
	if err := checkLoad(name, s.align != nil, in); err != nil {
		return nil, err
	}
	s.noteData(name)
	key := fmt.Sprintf("%s\x00%s\x00%v\x00%+v", name, split, in, turns)
	l, ok := s.memo[key]
	if !ok {
		align, done := s.align, func() {}
		if align != nil && s.live != nil {
			align, done = alignProgress(s.live, align)
		}
		set, skipped, err := data.LoadAligned(name, split, in, align, turns)
		done()
		if err != nil {
			return nil, inputError{err}
		}
		l = loaded{set: set, skipped: skipped}
		l.empty = emptied(name, split, l)
		if s.memo != nil {
			s.memo[key] = l
		}
	}
	// Told once, by the first load with a log (a quiet one may have
	// filled the memo); a plain load only when it skipped something: what
	// the folder holds that is not read once per folder read, the same for
	// every split and input of a folder without train/ and test/ (eval
	// loads its test and training splits), and the images too small for
	// the input by each split and input.
	folder := name
	if isTrainTestFolder(name) {
		folder = filepath.Join(name, split)
	}
	if s.align == nil && s.log != nil && !s.told[key] {
		skipped := l.skipped
		if s.told[folder] {
			skipped = skipped.Refused()
		}
		if len(skipped) > 0 {
			s.told[key], s.told[folder] = true, true
			fmt.Fprintf(s.log, "load %s (%s): %s%s%s\n", pathText(name), split, msg.Plural(l.set.N, "image", "images"), describeSkipped(skipped), describeEmpty(l.set, l.empty, "image"))
		}
	}
	if s.align != nil && s.log != nil && !s.told[key] {
		s.told[key] = true
		// What the folder holds that is not read once per folder, as a
		// plain load's; the photos refused by each split and input.
		skipped := l.skipped
		if s.told[folder] {
			skipped = skipped.Refused()
		}
		s.told[folder] = true
		turned := ""
		if turns.N > 0 {
			versions := msg.Plural(turns.N, "turned version", "turned versions")
			turned = ", each with " + versions
			if turns.Classes != "" {
				turned = fmt.Sprintf(", those of identities %s each with %s", turns.Classes, versions)
			}
		}
		fmt.Fprintf(s.log, "align %s (%s): %s aligned%s%s%s\n", pathText(name), split, msg.Plural(l.set.N, "photo", "photos"), turned, describeSkipped(skipped), describeEmpty(l.set, l.empty, "photo"))
	}
	return l.set, nil
}

// noteData tells on s's log, once for the data set name, what a user
// could take to be read that is not: a folder ./mnist, which --data mnist
// does not read (it is the built-in set), and the folders beside the
// train/ and test/ of a folder that has them (data.BesideSplits: val/,
// say, which none of the splits reads).
func (s source) noteData(name string) {
	if s.log == nil || s.told == nil || s.told["note\x00"+name] {
		return
	}
	s.told["note\x00"+name] = true
	if name == "mnist" {
		if st, err := os.Stat("mnist"); err == nil && st.IsDir() {
			fmt.Fprintf(s.log, "note: --data mnist is the built-in MNIST, not the folder mnist here: give --data ./mnist for the folder\n")
		}
		return
	}
	if beside := data.BesideSplits(name); len(beside) > 0 {
		for i, b := range beside {
			beside[i] = oneLineText(b) + "/"
		}
		fmt.Fprintf(s.log, "note: %s has train/ and test/, its splits; not read beside them: %s\n", pathText(name), strings.Join(beside, ", "))
	}
}

// emptied returns, by label of l's set, whether l, the load of split of
// name, left the identity without images though the split holds some of
// it: all of them refused (data.Skipped.Refused). An identity of which
// the split holds none (the test split of one of under 5 images) is not.
func emptied(name, split string, l loaded) []bool {
	if len(l.skipped.Refused()) == 0 {
		return nil
	}
	listed, counts, err := data.ImageCounts(name, split)
	if err != nil || !slices.Equal(listed, l.set.Classes) { // the folder changed since it was loaded
		return nil
	}
	empty := make([]bool, len(counts))
	for c, n := range counts {
		empty[c] = n > 0
	}
	for _, c := range l.set.Labels {
		empty[c] = false
	}
	return empty
}

// describeEmpty is `; no usable photo of "a", "b"` (what: "photo") for the
// identities of set that empty marks, left without images, or "" when
// none is. A training on such an identity is refused (checkImagesLeft),
// as a server job on such a data set is; evaluation makes no pair of it,
// and a closed-set probe of it in another split can never be right.
func describeEmpty(set *data.Set, empty []bool, what string) string {
	var names []string
	for c, ok := range empty {
		if ok {
			names = append(names, strconv.Quote(set.Classes[c])) // %q, as other messages name identities: one line, whatever the names
		}
	}
	switch {
	case len(names) == 0:
		return ""
	case len(names) > maxNamedEmpty:
		return fmt.Sprintf("; no usable %s of %s and %d more", what, strings.Join(names[:maxNamedEmpty], ", "), len(names)-maxNamedEmpty)
	}
	return fmt.Sprintf("; no usable %s of %s", what, strings.Join(names, ", "))
}

// maxNamedEmpty is how many identities left without a photo describeEmpty
// names; the others are counted, so that its line stays one line.
const maxNamedEmpty = 5

// describeSkipped is ", N skipped: k reason, ..." or "" when none were.
func describeSkipped(skipped data.Skipped) string {
	if s := skipped.String(); s != "" {
		return ", " + s
	}
	return ""
}

// loadSubset loads split of a data set, restricted to the classes of
// classSpec, checked against listed, the split's classes listed
// (classNames) when the command checked its selections: the load must
// have them (checkLoaded).
func (s source) loadSubset(name, split, classSpec string, listed []string, in core.Input) (*data.Set, error) {
	classes, err := data.TrainClasses(classSpec, listed)
	if err != nil {
		return nil, inputError{err}
	}
	set, err := s.load(name, split, in)
	if err != nil {
		return nil, err
	}
	if err := checkLoaded(name, split, listed, set.Classes); err != nil {
		return nil, err
	}
	return set.Subset(classes), nil
}

// checkLoaded refuses loaded, the classes of the load of split of the data
// set name, when they are not listed, those classNames gave before the load
// (data.ClassesChanged): a selection checked against the listing selects
// by its numbers, and a folder changed in between (an identity removed,
// renamed or added) would shift them onto other identities, or past the
// set's last class (data.Set.Subset panics). Skipping images does not
// change the classes: an identity whose images were all skipped keeps its
// label (data.LoadAligned).
func checkLoaded(name, split string, listed, loaded []string) error {
	change := data.ClassesChanged(listed, loaded)
	if change == "" {
		return nil
	}
	folder := name
	if isTrainTestFolder(name) {
		folder = filepath.Join(name, split)
	}
	return badInput("%s changed while loading: %s", pathText(folder), change)
}

// classNames returns the classes of split of the data set name, as its
// load has them, without loading its images (data.ClassNames): a
// selection of them is checked before the load, so that a bad one is
// told in its line alone, not after the load's line of what it skipped,
// which belongs to a load that goes on.
func classNames(name, split string) ([]string, error) {
	names, err := data.ClassNames(name, split)
	if err != nil {
		return nil, inputError{err}
	}
	return names, nil
}

// checkClasses refuses a class selection spec that the load of split of
// name would refuse (data.TrainClasses), before that load (classNames); it
// returns the split's classes listed, which the load must have
// (checkLoaded), and those selected, by their index in listed.
func checkClasses(name, split, spec string) (listed []string, classes []int, err error) {
	listed, err = classNames(name, split)
	if err != nil {
		return nil, nil, err
	}
	classes, err = data.TrainClasses(spec, listed)
	if err != nil {
		return nil, nil, inputError{err}
	}
	return listed, classes, nil
}

// byNumberUsage follows "by number or by name" in the usage of every
// flag that selects classes: among identities all named by number, the
// numbers are those names (data.ParseClasses).
const byNumberUsage = "; identities all named by number (01 … 40, 1 … 12) by those numbers, e.g. 1-20"

// classesFlagError is err, data's error for the selection of classes
// given as --name (spec; "" when the flag was not given, its default
// taken), as bad input: a selection refused (data.ClassesError, "data:
// classes" whichever flag made it) is named by the flag, or as its
// default (classesLabel): `--train-classes "0": need at least 2 classes`;
// an error of every class ("data: the data set has 1 class") is as it is.
func classesFlagError(name, spec string, err error) error {
	var ce *data.ClassesError
	if !errors.As(err, &ce) {
		return inputError{err}
	}
	return badInput("%s %q: %v", classesLabel(name, spec != ""), ce.Spec, ce.Err)
}
