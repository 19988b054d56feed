package data

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"metriclab/core"
)

func TestParseClasses(t *testing.T) {
	for _, tc := range []struct {
		spec string
		n    int
		want []int
		err  string // part of the error message; "" for none
	}{
		{"", 4, []int{0, 1, 2, 3}, ""},
		{"  ", 2, []int{0, 1}, ""},
		{"0-4", 10, []int{0, 1, 2, 3, 4}, ""},
		{"0,2,4", 10, []int{0, 2, 4}, ""},
		{"0-2,7,9", 10, []int{0, 1, 2, 7, 9}, ""},
		{"9,7, 0 - 2", 10, []int{0, 1, 2, 7, 9}, ""}, // sorted, spaces allowed
		{"0-4,4", 10, nil, `classes "0-4,4": class 4 is selected twice, by "0-4" and by "4"; give each class once`},
		{"3,1-4,2", 10, nil, `class 3 is selected twice, by "3" and by "1-4"`},
		{"0-4,3-6", 10, nil, `class 3 is selected twice, by "0-4" and by "3-6"`},
		{"7,7", 10, nil, `class 7 is selected twice, by "7" and by "7"`},
		{"5-5", 10, []int{5}, ""},
		{"9", 10, []int{9}, ""},
		{"10", 10, nil, `classes "10": 10 is out of range 0..9`},
		{"0-12", 10, nil, `classes "0-12": 12 is out of range 0..9`},
		{"-1", 10, nil, `"-1" is not a class number`},
		{"4-2", 10, nil, `range "4-2" is reversed`},
		{"1,x", 10, nil, `"x" is not a class number`},
		{"1,,2", 10, nil, `"" is not a class number`},
		{"1-2-3", 10, nil, `"1-2-3" is not a class number`},
		{"+1", 10, nil, `"+1" is not a class number`},
		{"1.5", 10, nil, `"1.5" is not a class number`},
		{"", 0, nil, "no classes to select from"},
		{"0", 0, nil, "out of range"},
	} {
		got, err := ParseClasses(tc.spec, Numbered(tc.n))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
				t.Errorf("ParseClasses(%q, %d) error %v, want one line containing %q", tc.spec, tc.n, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseClasses(%q, %d) = %v, %v; want %v", tc.spec, tc.n, got, err, tc.want)
		}
	}
}

// TestParseClassNames: a class is its number or its name, names may hold
// dashes, and a range of names is cut where both sides are classes.
func TestParseClassNames(t *testing.T) {
	names := []string{"s01", "s02", "s03", "anne-marie", "bob", "x-1", "7"}
	for _, tc := range []struct {
		spec string
		want []int
		err  string
	}{
		{"s01-s03", []int{0, 1, 2}, ""},
		{"s02, bob", []int{1, 4}, ""},
		{"anne-marie", []int{3}, ""},
		{"anne-marie-bob", []int{3, 4}, ""},
		{"s03-anne-marie", []int{2, 3}, ""},
		{"bob-x-1", []int{4, 5}, ""},
		{"0-s02", []int{0, 1}, ""},
		{"7", nil, `classes "7": 7 is out of range 0..6 (a number is a class's position: the class named "7" is number 6)`}, // a number is a position
		{"6", []int{6}, ""},
		{"s03-s01", nil, `range "s03-s01" is reversed`},
		{"s04", nil, `"s04" is not a class number, a class name or a range like 0-4 (the classes are "s01" … "7")`},
		{"anne", nil, `"anne" is not a class number`},
		// A range with one end no class names that end (before, the
		// range alone: "s01-s09" is not … a range like 0-4).
		{"s01-s09", nil, `"s01-s09" is not a class number, a class name or a range like 0-4: "s09" is no class (the classes are "s01" … "7")`},
		{"s00-s02", nil, `"s00-s02" is not a class number, a class name or a range like 0-4: "s00" is no class`},
		{"anne-marie-bobby", nil, `"anne-marie-bobby" is not a class number, a class name or a range like 0-4: "bobby" is no class`},
		{"s01-", nil, `"s01-" is not a class number`},
		{"s02,1", nil, `class 1 ("s02") is selected twice, by "s02" and by "1"`},
		{"s01-s03,s03", nil, `class 2 ("s03") is selected twice, by "s01-s03" and by "s03"`},
	} {
		got, err := ParseClasses(tc.spec, names)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseClasses(%q) = %v, %v; want an error with %q", tc.spec, got, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseClasses(%q) = %v, %v; want %v", tc.spec, got, err, tc.want)
		}
	}
	// Names of a folder's identities, which can be any bytes, are quoted
	// (before, an invalid byte or an escape sequence went to the terminal).
	if _, err := ParseClasses("x", []string{"a\xff", "b\x1b[2J"}); err == nil || !strings.HasSuffix(err.Error(), `(the classes are "a\xff" … "b\x1b[2J")`) {
		t.Errorf("ParseClasses(x) among names not UTF-8 or with control characters: error %q, want them quoted", err)
	}
	// A part cut at two dashes into two ranges.
	dashed := []string{"a", "a-b", "b", "b-c", "c"}
	if _, err := ParseClasses("a-b-c", dashed); err == nil || !strings.Contains(err.Error(), `"a-b-c" is ambiguous: it reads as "a" to "b-c" and as "a-b" to "c"; give these classes by number`) {
		t.Errorf("ParseClasses(a-b-c) among %v: error %v, want it ambiguous", dashed, err)
	}
	if got, err := ParseClasses("a-b-b-c", dashed); err != nil || !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("ParseClasses(a-b-b-c) among %v = %v, %v; want [1 2 3]: one cut leaves a class on either side", dashed, got, err)
	}
	// Folders named by numbers that are not their positions, among others
	// (all named by number: TestParseClassesNamedByNumber): a number is a
	// position, and one that names another class is refused, saying how
	// to give each (before, it did not).
	mixed := []string{"1", "s01", "s02"}
	if _, err := ParseClasses("1", mixed); err == nil || !strings.Contains(err.Error(), `classes "1": 1 is ambiguous: class number 1 is named "s01", and the class named "1" is number 0 (give class number 1 as "s01", and the class named "1" as 0)`) {
		t.Errorf("ParseClasses(1) among %v: error %v, want it ambiguous, with both ways out", mixed, err)
	}
	mixed = []string{"1", "2", "x"}
	if _, err := ParseClasses("2", mixed); err == nil || !strings.HasSuffix(err.Error(), `2 is ambiguous: class number 2 is named "x", and the class named "2" is number 1 (give class number 2 as "x"; for the other, rename the folders so that no name is a number, or every name is)`) {
		t.Errorf("ParseClasses(2) among %v: error %v, want it ambiguous, with one way out", mixed, err)
	}
	if got, err := ParseClasses("0,x", mixed); err != nil || !slices.Equal(got, []int{0, 2}) {
		t.Errorf("ParseClasses(0,x) among %v = %v, %v; want [0 2]", mixed, got, err)
	}
	mixed = []string{"1", "2", "3", "x"}
	if _, err := ParseClasses("2", mixed); err == nil || !strings.HasSuffix(err.Error(), `(rename the folders so that no name is a number, or every name is)`) {
		t.Errorf("ParseClasses(2) among %v: error %v, want it ambiguous, with no way out but renaming", mixed, err)
	}
	// Folders 1, 10, 2, 3 and eve: "10", a name and no position, is
	// refused saying which number the class named so has (before, "out of
	// range" alone, the folder 10 there for all to see).
	unpadded := []string{"1", "10", "2", "3", "eve"}
	if _, err := ParseClasses("10,3", unpadded); err == nil || !strings.Contains(err.Error(), `classes "10,3": 10 is out of range 0..4 (a number is a class's position: the class named "10" is number 1)`) {
		t.Errorf("ParseClasses(10,3) among %v: error %v, want out of range, naming the number of the class named 10", unpadded, err)
	}
	if got, err := ParseClasses("4", unpadded); err != nil || !slices.Equal(got, []int{4}) {
		t.Errorf("ParseClasses(4) among %v = %v, %v; want [4]: no class is named 4", unpadded, got, err)
	}
	if _, err := ParseClasses("x", Numbered(10)); err == nil || strings.Contains(err.Error(), "the classes are") {
		t.Errorf("numbered classes: error %v, want one that does not list their names", err)
	}
}

// TestTrainClasses: training takes two classes or more; too few is one
// line that names the selection, or the data set when it took them all.
func TestTrainClasses(t *testing.T) {
	for _, tc := range []struct {
		spec string
		n    int
		want []int
		err  string
	}{
		{"", 3, []int{0, 1, 2}, ""},
		{"1,3", 5, []int{1, 3}, ""},
		{"", 1, nil, "the data set has 1 class (one identity, one digit): need at least 2"},
		{"2", 5, nil, `classes "2": need at least 2 classes`},
		{"2-2", 5, nil, `classes "2-2": need at least 2 classes`},
		{"7", 5, nil, "out of range"},
	} {
		got, err := TrainClasses(tc.spec, Numbered(tc.n))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
				t.Errorf("TrainClasses(%q, %d) = %v, %v; want one line with %q", tc.spec, tc.n, got, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("TrainClasses(%q, %d) = %v, %v; want %v", tc.spec, tc.n, got, err, tc.want)
		}
	}
	// A selection refused is a ClassesError of the selection and what is
	// wrong with it, for a command to name the selection by its flag.
	for _, tc := range []struct{ spec, err string }{
		{"2", "need at least 2 classes"},
		{"1,x", `"x" is not a class number, a class name or a range like 0-4`},
		{"0-12", "12 is out of range 0..4"},
		{"3-1", `range "3-1" is reversed`},
	} {
		_, err := TrainClasses(tc.spec, Numbered(5))
		if ce := (*ClassesError)(nil); !errors.As(err, &ce) || ce.Spec != tc.spec || ce.Err.Error() != tc.err {
			t.Errorf("TrainClasses(%q) error %#v; want a ClassesError of %q: %q", tc.spec, err, tc.spec, tc.err)
		}
	}
}

// tinySet returns a set of 1×1×2 images whose pixels are (i, label) for
// image i, so a test can tell which image went where.
func tinySet(labels []int, classes int) *Set {
	s := &Set{N: len(labels), Labels: slices.Clone(labels), Input: core.Input{Channels: 1, Height: 1, Width: 2}}
	for i, l := range labels {
		s.X = append(s.X, float32(i), float32(l))
	}
	for c := range classes {
		s.Classes = append(s.Classes, string(rune('a'+c)))
	}
	return s
}

func TestSubset(t *testing.T) {
	s := tinySet([]int{0, 1, 2, 3, 1, 3, 0}, 4)
	sub := s.Subset([]int{3, 1}) // 3 becomes 0, 1 becomes 1
	if want := []string{"d", "b"}; !slices.Equal(sub.Classes, want) {
		t.Errorf("Classes = %q, want %q", sub.Classes, want)
	}
	// Images 1, 3, 4, 5 (in their order) with old labels 1, 3, 1, 3.
	if want := []int{1, 0, 1, 0}; !slices.Equal(sub.Labels, want) || sub.N != 4 {
		t.Errorf("Labels = %v (N %d), want %v", sub.Labels, sub.N, want)
	}
	if want := []float32{1, 1, 3, 3, 4, 1, 5, 3}; !slices.Equal(sub.X, want) {
		t.Errorf("X = %v, want %v", sub.X, want)
	}
	if sub.Input != s.Input {
		t.Errorf("Input = %v, want %v", sub.Input, s.Input)
	}
	sub.X[0] = 99
	if s.X[2] != 1 {
		t.Error("Subset shares storage with its set")
	}
	for _, bad := range [][]int{{4}, {-1}, {1, 1}} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "data: Subset: ") {
					t.Errorf("Subset(%v) panic %v, want a data: Subset panic", bad, r)
				}
			}()
			s.Subset(bad)
		}()
	}
}

func TestSampleAndHead(t *testing.T) {
	// Class 0 has 10 images, class 1 has 3, class 2 has 5.
	labels := []int{0, 0, 1, 0, 2, 0, 0, 1, 2, 0, 0, 2, 0, 1, 2, 0, 2, 0}
	s := tinySet(labels, 3)
	a := s.Sample(9, 1)
	if !reflect.DeepEqual(a, s.Sample(9, 1)) {
		t.Error("Sample is not deterministic")
	}
	counts := make([]int, 3)
	for i, l := range a.Labels {
		counts[l]++
		if orig := int(a.X[2*i]); labels[orig] != l || (i > 0 && orig <= int(a.X[2*i-2])) {
			t.Errorf("sample image %d is image %d of label %d, want label %d and increasing order", i, orig, labels[orig], l)
		}
	}
	// Round robin: 3 turns of 3 classes.
	if want := []int{3, 3, 3}; !slices.Equal(counts, want) {
		t.Errorf("Sample(9) class counts %v, want %v", counts, want)
	}
	// 13 = 3 turns of 3 classes, then class 1 is used up: 0 and 2 share 4.
	counts = make([]int, 3)
	for _, l := range s.Sample(13, 2).Labels {
		counts[l]++
	}
	if want := []int{5, 3, 5}; !slices.Equal(counts, want) {
		t.Errorf("Sample(13) class counts %v, want %v", counts, want)
	}
	if s.Sample(100, 1).N != len(labels) || s.Sample(-1, 1).N != 0 {
		t.Error("Sample does not clamp n to 0..N")
	}
	if !differentSeeds(s) {
		t.Error("Sample with seeds 1..20 always gives the same images")
	}

	h := s.Head(4)
	if h.N != 4 || !slices.Equal(h.Labels, labels[:4]) || !slices.Equal(h.X, s.X[:8]) || !slices.Equal(h.Classes, s.Classes) {
		t.Errorf("Head(4) = %+v", h)
	}
}

// differentSeeds reports whether seeds 1..20 give at least two different
// samples of 6 images.
func differentSeeds(s *Set) bool {
	first := s.Sample(6, 1)
	for seed := int64(2); seed <= 20; seed++ {
		if !slices.Equal(s.Sample(6, seed).X, first.X) {
			return true
		}
	}
	return false
}

func TestShuffle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dst := make([]int, 50)
	seen := 0
	for range 20 {
		Shuffle(dst, rng)
		sorted := slices.Sorted(slices.Values(dst))
		for i, v := range sorted {
			if v != i {
				t.Fatalf("Shuffle gave %v, not a permutation", dst)
			}
		}
		if dst[0] != 0 || dst[49] != 49 {
			seen++
		}
	}
	if seen < 15 {
		t.Errorf("Shuffle left both ends in place in %d of 20 runs", 20-seen)
	}
	// The first position is uniform: each of 4 values about 1/4 of 4000.
	counts := make([]int, 4)
	small := make([]int, 4)
	for range 4000 {
		counts[Shuffle(small, rng)[0]]++
	}
	for v, c := range counts {
		if c < 850 || c > 1150 { // ±5.5 standard deviations (√750 ≈ 27)
			t.Errorf("value %d first in %d of 4000 shuffles, want about 1000", v, c)
		}
	}
	if allocs := testing.AllocsPerRun(10, func() { Shuffle(dst, rng) }); allocs != 0 {
		t.Errorf("Shuffle allocates %v times", allocs)
	}
}

func TestBatch(t *testing.T) {
	s := tinySet([]int{0, 1, 0, 1}, 2)
	got := s.Batch(nil, []int{3, 0, 3})
	if want := []float32{3, 1, 0, 0, 3, 1}; !slices.Equal(got, want) {
		t.Errorf("Batch = %v, want %v", got, want)
	}
	buf := make([]float32, 0, 10)
	if got := s.Batch(buf, []int{2}); &got[0] != &buf[:1][0] || !slices.Equal(got, []float32{2, 0}) {
		t.Errorf("Batch into a large enough dst = %v, not reusing it", got)
	}
	if got := s.BatchLabels(nil, []int{3, 0, 2}); !slices.Equal(got, []int{1, 0, 0}) {
		t.Errorf("BatchLabels = %v, want [1 0 0]", got)
	}
	img := s.Image(2)
	if !slices.Equal(img, []float32{2, 0}) || cap(img) != 2 {
		t.Errorf("Image(2) = %v (cap %d), want [2 0] with cap 2", img, cap(img))
	}
}

// TestParseClassesNamedByNumber: among classes all named by number, a
// number is a name, by its value, not a position. Before, with folders
// 01 … 40, 0-19, 20-39, 01-20 and 21-40 were all refused as ambiguous,
// and with folders 1 … 12 no selection of two classes or more was taken.
func TestParseClassesNamedByNumber(t *testing.T) {
	padded := make([]string, 40) // 01 … 40, sorted as a folder's identities are
	for i := range padded {
		padded[i] = fmt.Sprintf("%02d", i+1)
	}
	unpadded := []string{"1", "10", "11", "12", "2", "3", "4", "5", "6", "7", "8", "9"} // 1 … 12, sorted by name
	positions := func(names []string, want ...string) []int {
		var out []int
		for _, w := range want {
			out = append(out, slices.Index(names, w))
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		names []string
		spec  string
		want  []int
		err   string
	}{
		{padded, "1-20", positions(padded, "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20"), ""},
		{padded, "01-20", positions(padded, "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20"), ""},
		{padded, "21-40", positions(padded, "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "35", "36", "37", "38", "39", "40"), ""},
		{padded, "7", positions(padded, "07"), ""},
		{padded, "07,040", positions(padded, "07", "40"), ""},
		{padded, "0-19", nil, `classes "0-19": no class is named 0 (the classes are named by number, 01 to 40, and selected by those numbers)`},
		{padded, "20-41", nil, `no class is named 41 (the classes are named by number, 01 to 40`},
		{padded, "20-10", nil, `range "20-10" is reversed`},
		{padded, "5,1-9", nil, `class 05 is selected twice, by "5" and by "1-9"`},
		{padded, "s01", nil, `"s01" is not a class number, a class name or a range like 0-4 (the classes are named by number, 01 to 40`},
		{padded, "99999999999999999999999", nil, "no class is named 99999999999999999999999"},
		{unpadded, "1-6", positions(unpadded, "1", "2", "3", "4", "5", "6"), ""},
		{unpadded, "6-11", positions(unpadded, "6", "7", "8", "9", "10", "11"), ""},
		{unpadded, "1,2,3", positions(unpadded, "1", "2", "3"), ""},
		{unpadded, "12", positions(unpadded, "12"), ""},
		{unpadded, "0-5", nil, "no class is named 0 (the classes are named by number, 1 to 12,"},
		// Two names of one number (01 and 1) could not both be selected by
		// number: such classes are selected by position, as before (R17).
		{[]string{"01", "02", "03", "1"}, "1-3", nil, `1 is ambiguous: class number 1 is named "02", and the class named "1" is number 3`},
		{[]string{"01", "02", "03", "1"}, "2-3", []int{2, 3}, ""},
		{[]string{"01", "1", "2", "3"}, "0-1", []int{0, 1}, ""},
	} {
		got, err := ParseClasses(tc.spec, tc.names)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
				t.Errorf("ParseClasses(%q) among %v = %v, %v; want one line with %q", tc.spec, tc.names, got, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseClasses(%q) among %v = %v, %v; want %v", tc.spec, tc.names, got, err, tc.want)
		}
	}
}

// TestHalves: openset's default selections, the first half of the
// classes and the rest, are ones ParseClasses takes, of n/2 classes and
// the others. Names two of which are one number (01 and 1) are halved by
// position: before, their halves by number, "01-1" and "2-3", were
// refused as ambiguous (R17).
func TestHalves(t *testing.T) {
	for _, tc := range []struct {
		names         []string
		first, second string
	}{
		{Numbered(10), "0-4", "5-9"},
		{[]string{"s01", "s02", "s03", "s04"}, "0-1", "2-3"},
		{[]string{"01", "02", "03", "04", "05", "06"}, "01-03", "04-06"},
		{[]string{"1", "10", "2", "3"}, "1-2", "3-10"},
		{[]string{"01", "1", "2", "3"}, "0-1", "2-3"},
	} {
		first, second := Halves(tc.names)
		if first != tc.first || second != tc.second {
			t.Errorf("Halves(%q) = %q, %q; want %q, %q", tc.names, first, second, tc.first, tc.second)
			continue
		}
		a, errA := ParseClasses(first, tc.names)
		b, errB := ParseClasses(second, tc.names)
		if errA != nil || errB != nil || len(a) != len(tc.names)/2 || len(a)+len(b) != len(tc.names) || slices.ContainsFunc(a, func(c int) bool { return slices.Contains(b, c) }) {
			t.Errorf("Halves(%q): %v, %v; %v, %v: want halves that part the classes", tc.names, a, errA, b, errB)
		}
	}
}

// TestParseClassesRangeInTextOrder: a range by names whose numbers order
// the classes otherwise than their text (the AT&T layout, s1 … s40) is
// refused, saying what it would select and how to select (before, s1-s3
// selected s1, s10 … s19, s2, s20 … s29, s3: 23 classes); zero-padded
// names, and names without numbers, select as before.
func TestParseClassesRangeInTextOrder(t *testing.T) {
	var att, padded []string
	for i := 1; i <= 40; i++ {
		att = append(att, fmt.Sprintf("s%d", i))
		padded = append(padded, fmt.Sprintf("s%02d", i))
	}
	slices.Sort(att) // as a folder lists them
	_, err := ParseClasses("s1-s3", att)
	if want := `data: classes "s1-s3": range "s1-s3" runs in the names' text order (s1, then s10: 23 classes), not by their numbers: list the classes (s1,s2,s3), or name them with zero-padded numbers (s01 …)`; err == nil || err.Error() != want {
		t.Errorf("s1-s3 of s1 … s40: %v, want %q", err, want)
	}
	_, err = ParseClasses("s2-s9", att)
	if err == nil || !strings.Contains(err.Error(), "list the classes (s2,s3,…,s9)") {
		t.Errorf("s2-s9 of s1 … s40: %v, want it refused", err)
	}
	// s36-s39 is s36, s37, s38, s39 either way.
	if got, err := ParseClasses("s36-s39", att); err != nil || len(got) != 4 {
		t.Errorf("s36-s39 of s1 … s40: %v, %v, want 4 classes", got, err)
	}
	if got, err := ParseClasses("s01-s03", padded); err != nil || !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("s01-s03 of s01 … s40: %v, %v, want 0, 1, 2", got, err)
	}
	if got, err := ParseClasses("0-2", att); err != nil || !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("0-2 of s1 … s40: %v, %v, want positions 0-2", got, err)
	}
	if got, err := ParseClasses("ann-cy", []string{"ann", "bob", "cy", "dee"}); err != nil || !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("ann-cy: %v, %v", got, err)
	}
}
