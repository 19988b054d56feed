package msg

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// fullwidthNFKC stands in for a normaliser to form KC
// (norm.NFKC.String, String.prototype.normalize("NFKC")), which package
// msg does not hold: it maps the fullwidth forms of ASCII (U+FF01 to
// U+FF5E), and those alone, to ASCII, as NFKC does.
func fullwidthNFKC(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '\uff01' && r <= '\uff5e' {
			return r - 0xff01 + '!'
		}
		return r
	}, s)
}

func TestIdentityProblem(t *testing.T) {
	for _, name := range []string{"Ann Smith", "José", "Zoë-Jane O'Neil", "李雷", "alice", "a", "Ægir_2", strings.Repeat("é", 64),
		"Connie", "Con Air", "com10", "LPT", "auxiliary", "Dr. Nul", "J. R. Smith", "ｔｒａｉｎｅｒ", "ａｌｉｃｅ"} {
		if p := IdentityProblem(name, fullwidthNFKC); p != "" {
			t.Errorf("IdentityProblem(%q) = %q, want none", name, p)
		}
	}
	for _, tc := range []struct{ name, says string }{
		{"", "empty"},
		{"   ", "empty"},
		{" Ann", "space"},
		{"Ann ", "space"},
		{".hidden", `"."`},
		{"..", `"."`},
		{"a/b", "/"},
		{`a\b`, "/"},
		{"what?", "/"},
		{"tab\there", "printable"},
		{"nul\x00", "printable"},
		{"bad\xff", "UTF-8"},
		{"train", "train"},
		{"test", "test"},
		{"Train", "in any case"},
		{"TEST", "in any case"},
		// In form KC, as the server compares names (R22): fullwidth.
		{"ｔｒａｉｎ", `"train" and "test" are not names, in any case or form`},
		{"ＴＥｓｔ", `"train" and "test" are not names, in any case or form`},
		{"Smith Jr.", `end with "."`},
		{"con", "device"},
		{"NUL", "device"},
		{"Aux.txt", "device"},
		{"com1", "device"},
		{"LPT9.tar.gz", "device"},
		{"prn  .x", "device"},
		{"COM²", "device"},
		{"$Recycle.Bin", "drive's root"},
		{"system volume information", "drive's root"},
		{strings.Repeat("a", 65), "at most 64 characters"},
		{strings.Repeat("𠀀", 50), "at most 192 bytes of UTF-8 (200 here"}, // 50 characters of 4 bytes
		{strings.Repeat("李", 65), "64"},
		{strings.Repeat("😀", 49), "at most 192 bytes of UTF-8 (196 here"}, // 49 runes of 4 bytes: not "64 characters"
	} {
		if p := IdentityProblem(tc.name, fullwidthNFKC); !strings.Contains(p, tc.says) {
			t.Errorf("IdentityProblem(%q) = %q, want it to say %q", tc.name, p, tc.says)
		}
	}
}

// TestNameKey: two names are one person's when they are one in form KC
// (the normaliser's: fullwidth here) and in case, as strings.EqualFold
// compares (the Kelvin sign is k); letters of two scripts that look
// alike are not (Cyrillic а is not Latin a: not a compatibility form).
// Alike says how two such names differ.
func TestNameKey(t *testing.T) {
	for _, tc := range []struct {
		a, b  string
		same  bool
		alike string
	}{
		{"alice", "ALICE", true, "only in case"},
		{"alice", "ａｌｉｃｅ", true, "only in the form of a character"},
		{"Alice", "ａＬＩＣＥ", true, "only in the form of a character"},
		{"kate", "\u212Aate", true, "only in case"},
		{"alice", "\u0430lice", false, ""},
		{"alice", "alicia", false, ""},
	} {
		if got := NameKey(tc.a, fullwidthNFKC) == NameKey(tc.b, fullwidthNFKC); got != tc.same {
			t.Errorf("NameKey(%q) == NameKey(%q): %v, want %v", tc.a, tc.b, got, tc.same)
		}
		if tc.same && !strings.HasPrefix(Alike(tc.a, tc.b), tc.alike) {
			t.Errorf("Alike(%q, %q) = %q, want it to start %q", tc.a, tc.b, Alike(tc.a, tc.b), tc.alike)
		}
	}
}

// TestPathProblems: names that only the rules for new names refuse
// (Windows' device names, a final ".") are safe as this server's paths,
// so that data sets and identities stored before those rules stay usable;
// the rest of each rule is the same.
func TestPathProblems(t *testing.T) {
	for _, name := range []string{"con", "Smith Jr.", "LPT1.txt"} {
		if IdentityProblem(name, fullwidthNFKC) == "" || IdentityPathProblem(name) != "" {
			t.Errorf("identity %q: IdentityProblem %q, IdentityPathProblem %q; want only the first to refuse it", name, IdentityProblem(name, fullwidthNFKC), IdentityPathProblem(name))
		}
	}
	for _, name := range []string{"aux", "NUL", "com3", "MNIST", "Enrolled"} {
		if DatasetProblem(name) == "" || DatasetPathProblem(name) != "" {
			t.Errorf("data set %q: DatasetProblem %q, DatasetPathProblem %q; want only the first to refuse it", name, DatasetProblem(name), DatasetPathProblem(name))
		}
	}
	for _, name := range []string{"", ".hidden", "a/b", "train", " Ann"} {
		if IdentityPathProblem(name) == "" {
			t.Errorf("IdentityPathProblem(%q) accepted it", name)
		}
	}
	for _, name := range []string{"", "my faces", "mnist", "enrolled"} {
		if DatasetPathProblem(name) == "" {
			t.Errorf("DatasetPathProblem(%q) accepted it", name)
		}
	}
}

func TestDatasetProblem(t *testing.T) {
	for _, name := range []string{"webcam", "faces_2", "A-b", strings.Repeat("x", 64)} {
		if p := DatasetProblem(name); p != "" {
			t.Errorf("DatasetProblem(%q) = %q", name, p)
		}
	}
	for _, name := range []string{"", "my faces", "josé", "a/b", "mnist", "enrolled", strings.Repeat("x", 65), "con", "Nul", "com3", "LPT1"} {
		if DatasetProblem(name) == "" {
			t.Errorf("DatasetProblem(%q) accepted it", name)
		}
	}
}

// TestParseInput: "CxHxW" in, its three numbers out; anything else says
// what is wrong.
func TestParseInput(t *testing.T) {
	if c, h, w, err := ParseInput("3x112x96"); err != nil || c != 3 || h != 112 || w != 96 {
		t.Errorf("ParseInput(3x112x96) = %d, %d, %d, %v", c, h, w, err)
	}
	for in, want := range map[string]string{
		"":         "want CxHxW",
		"32x32":    "want CxHxW",
		"1x32x32x": "want CxHxW",
		"1x0x32":   `"0" is not a positive integer`,
		"1x-4x32":  `"-4" is not a positive integer`,
		"1xax32":   `"a" is not a positive integer`,
	} {
		if _, _, _, err := ParseInput(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseInput(%q): %v, want an error saying %s", in, err, want)
		}
	}
}

// TestCheckImageInput: grey or RGB, sides from MinSide to MaxSide, at
// both ends of each bound.
func TestCheckImageInput(t *testing.T) {
	for _, c := range []struct {
		c, h, w int
		ok      bool
	}{
		{1, 8, 8, true}, {3, 256, 256, true}, {1, 8, 256, true}, {3, 48, 32, true},
		{1, 7, 32, false}, {1, 32, 7, false}, {1, 257, 32, false}, {3, 32, 257, false},
		{2, 32, 32, false}, {4, 32, 32, false}, {0, 32, 32, false},
	} {
		err := CheckImageInput(c.c, c.h, c.w)
		if (err == nil) != c.ok {
			t.Errorf("CheckImageInput(%d, %d, %d) = %v, want ok %v", c.c, c.h, c.w, err, c.ok)
		}
		if err != nil && err.Error() != "want 1 or 3 channels and sides of 8 to 256 pixels" {
			t.Errorf("CheckImageInput(%d, %d, %d): %q", c.c, c.h, c.w, err)
		}
	}
}

// TestCheckGlyphs: 0 to MaxGlyphs, at both ends of the bound.
func TestCheckGlyphs(t *testing.T) {
	for n, ok := range map[int]bool{0: true, 1: true, 300: true, MaxGlyphs: true, -1: false, MaxGlyphs + 1: false} {
		err := CheckGlyphs(n)
		if (err == nil) != ok {
			t.Errorf("CheckGlyphs(%d) = %v, want ok %v", n, err, ok)
		}
		if err != nil && err.Error() != fmt.Sprintf("glyphs %d out of range [0, 1000]", n) {
			t.Errorf("CheckGlyphs(%d): %q", n, err)
		}
	}
}

// TestShorten: text within the bound is kept; longer text keeps its start
// and end around " … ", max characters (not bytes) in all.
func TestShorten(t *testing.T) {
	for _, c := range []struct {
		text string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"ééééé", 5, "ééééé"}, // 10 bytes, 5 characters
		{"abcdefghij", 7, "ab … ij"},
		{"abcdefghij", 8, "ab … hij"},
		{"abcdefghij", 4, "abcd"}, // too short for a cut: the start
		{"abcdefghij", 0, ""},
		{"abcdefghij", -1, ""},
		{"李雷李雷李雷李雷李雷李雷", 9, "李雷李 … 雷李雷"},
	} {
		if got := Shorten(c.text, c.max); got != c.want || utf8.RuneCountInString(got) > max(c.max, 0) {
			t.Errorf("Shorten(%q, %d) = %q, want %q", c.text, c.max, got, c.want)
		}
	}
}
