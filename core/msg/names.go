package msg

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Names the server accepts for what the page uploads: the page checks a
// name with the same function before it sends it (and says why it cannot),
// and the server checks it again (and answers 400 with the same words).

// Limits of an identity's name. MaxIdentityBytes keeps the identity's
// folder name (the name itself) well within the 255 bytes of a file name
// on common file systems.
const (
	MaxIdentityRunes = 64
	MaxIdentityBytes = 192
)

// IdentityProblem returns "" when name may name a new identity of an
// uploaded data set, else why not, in words for the user: it passes
// IdentityPathProblem, does not end with ".", is not "train" or "test" in
// any case (a file system that ignores case would take "Train" for the
// split's folder) or form (NameKey, with nfkc: "ｔｒａｉｎ" reads as "train")
// and is not a name that
// Windows keeps for a device (CON, PRN, AUX, NUL, COM0–COM9, LPT0–LPT9, in
// any case and with any extension: "nul.txt" too), neither of which can
// name a folder there, nor a folder Windows keeps at a drive's root
// (DriveRootFolder), which the folder loader passes over. The server stores an identity's images in a folder
// of that name, so the name the model's classes show is the one typed.
func IdentityProblem(name string, nfkc func(string) string) string {
	if p := IdentityPathProblem(name); p != "" {
		return p
	}
	switch {
	case strings.HasSuffix(name, "."):
		return `a name cannot end with "." (Windows drops it from a folder's name)`
	case slices.Contains([]string{foldKey("train"), foldKey("test")}, NameKey(name, nfkc)):
		return `"train" and "test" are not names, in any case or form (ＴＲＡＩＮ too: they name the parts of a split data set, and some file systems ignore case)`
	case windowsDevice(name):
		return "a name Windows keeps for a device (as CON, PRN, AUX, NUL, COM1 and LPT1 are): choose another name"
	case DriveRootFolder(name):
		return "a name of a folder Windows keeps at a drive's root ($RECYCLE.BIN, System Volume Information), in any case: a data set's loader passes over such a folder, choose another name"
	}
	return ""
}

// NameKey returns the key under which two names of identities are one
// person's: name in Unicode's compatibility normal form KC, as nfkc gives
// it, each character folded to one case as strings.EqualFold folds it.
// "alice", "ALICE" and the fullwidth "ａｌｉｃｅ" have one key, and so have
// "train" and "ｔｒａｉｎ". Package msg takes the standard library alone,
// so the caller gives the normal form: norm.NFKC.String on the server,
// String.prototype.normalize("NFKC") in a browser. Letters of two scripts
// that look alike (Cyrillic "а" beside Latin "a") keep their own keys:
// neither is a compatibility form of the other.
func NameKey(name string, nfkc func(string) string) string { return foldKey(nfkc(name)) }

// Alike says in words how two names that differ but have one NameKey
// differ: "only in case" when strings.EqualFold takes them as one, else
// "only in the form of a character (ａ for a, ﬁ for fi), or in case".
func Alike(a, b string) string {
	if strings.EqualFold(a, b) {
		return "only in case"
	}
	return "only in the form of a character (ａ for a, ﬁ for fi), or in case"
}

// DriveRootFolder reports whether name, in any case, is one of the
// folders Windows keeps at the root of a drive, which a folder of
// identities may be: its recycle bin and its restore points. The folder
// loader passes over such a folder (core/data), and IdentityProblem
// refuses the name for a new identity, whose folder would be passed over.
func DriveRootFolder(name string) bool {
	return strings.EqualFold(name, "$RECYCLE.BIN") || strings.EqualFold(name, "System Volume Information")
}

// IdentityPathProblem returns "" when name is safe as an identity's folder
// on this server, else why not: 1 to MaxIdentityRunes printable
// characters of any script (letters with accents, digits, spaces,
// punctuation: "Ann Smith", "José", "O'Neil"), at most MaxIdentityBytes
// bytes of UTF-8, without space at either end, not starting with "." (the
// image-folder loader skips hidden folders), without any of / \ : * ? " <
// > | (which some file systems do not allow in a folder name), and not
// "train" or "test" (which would make a data set look split). Identities
// stored before IdentityProblem's Windows rules pass it and stay usable.
func IdentityPathProblem(name string) string {
	n := utf8.RuneCountInString(name)
	switch {
	case !utf8.ValidString(name):
		return "a name must be text (UTF-8)"
	case n == 0 || strings.TrimSpace(name) == "":
		return "a name cannot be empty"
	case n > MaxIdentityRunes:
		return fmt.Sprintf("a name is at most %d characters", MaxIdentityRunes)
	case len(name) > MaxIdentityBytes:
		// Characters of 4 bytes (most CJK extension ideographs, emoji):
		// 48 of them fill the bytes a folder name may take.
		return fmt.Sprintf("a name is at most %d bytes of UTF-8 (%d here: some characters take 3 or 4)", MaxIdentityBytes, len(name))
	case strings.TrimSpace(name) != name:
		return "a name cannot start or end with a space"
	case strings.HasPrefix(name, "."):
		return `a name cannot start with "."`
	case name == "train" || name == "test":
		return `"train" and "test" are not names (they name the parts of a split data set)`
	}
	for _, r := range name {
		if strings.ContainsRune(`/\:*?"<>|`, r) {
			return `a name cannot hold any of / \ : * ? " < > |`
		}
		if !unicode.IsPrint(r) {
			return "a name holds a character that is not printable"
		}
	}
	return ""
}

// DatasetProblem returns "" when name may name a new uploaded data set
// (the Data of a training request, and part of the upload's URL), else why
// not: it passes DatasetPathProblem, is not a name Windows keeps for a
// device (see IdentityProblem) and is not a built-in name in another case
// ("MNIST").
func DatasetProblem(name string) string {
	if p := DatasetPathProblem(name); p != "" {
		return p
	}
	if windowsDevice(name) {
		return "a name Windows keeps for a device (as CON, PRN, AUX, NUL, COM1 and LPT1 are): choose another data set name"
	}
	if strings.EqualFold(name, "mnist") || strings.EqualFold(name, DataEnrolled) {
		return `"` + name + `" is built in, in any case: choose another data set name`
	}
	return ""
}

// DatasetPathProblem returns "" when name is safe as a data set's folder
// and URL: 1 to 64 ASCII letters, digits, '_' or '-', and neither "mnist"
// (built in) nor "enrolled" (the browser's webcam enrollments). Data sets
// stored before DatasetProblem's Windows rule pass it and stay usable.
func DatasetPathProblem(name string) string {
	if name == "" || len(name) > 64 {
		return "a data set name is 1 to 64 letters, digits, '_' or '-'"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return "a data set name is 1 to 64 letters, digits, '_' or '-' (no spaces or accents)"
		}
	}
	if name == "mnist" || name == DataEnrolled {
		return `"` + name + `" is built in: choose another data set name`
	}
	return ""
}

// windowsDevice reports whether name, up to its first "." and without
// trailing spaces, is one of the device names that Windows reserves in
// every folder: CON, PRN, AUX, NUL, COM0–COM9 and LPT0–LPT9 (with the
// superscript digits ¹ ² ³ too), in any case.
func windowsDevice(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	for _, port := range []string{"COM", "LPT"} {
		if d, ok := strings.CutPrefix(base, port); ok {
			return len(d) == 1 && d[0] >= '0' && d[0] <= '9' || d == "¹" || d == "²" || d == "³"
		}
	}
	return false
}

// Shorten returns text, or, when it is longer than n characters, its
// start and end around " … ", n characters in all: a message that quotes
// what a user sent (a name of megabytes, a link's value) keeps its start,
// with the quote's beginning, and its end, which says what is wrong. Below
// 5 characters it is the start alone.
func Shorten(text string, n int) string {
	if len(text) <= n {
		return text
	}
	r := []rune(text)
	if len(r) <= n {
		return text
	}
	if n < 5 {
		return string(r[:max(n, 0)])
	}
	const cut = " … "
	head := (n - 3) / 2
	return string(r[:head]) + cut + string(r[len(r)-(n-3-head):])
}
