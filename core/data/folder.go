package data

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"metriclab/core"
	"metriclab/core/msg"
	"metriclab/core/vec"
)

// testEvery is the split of a folder without train/ and test/: image i of
// each identity, in name order, goes to "test" when i%testEvery ==
// testEvery−1 (the 5th, 10th, ... image), and to "train" otherwise.
const testEvery = 5

// Load loads split "train", "test" or "all" of a data set: name "mnist" is
// MNIST(split); any other name is a folder of images (see ImageFolder),
// resized to in's shape. When the folder has sub-folders train/ and test/,
// split is the sub-folder of that name; otherwise the whole folder is split
// per identity: of each identity's images, sorted by name, every 5th (the
// 5th, 10th, ...) is in "test" and the others in "train", and "all" is
// every image (for an open set: train on some identities, evaluate on
// others). The splits of such a folder have the same Classes, every
// identity, so labels agree between them, even for an identity with no
// image in one split. "all" of MNIST or of a folder with train/ and test/
// is an error.
func Load(name, split string, in core.Input) (*Set, error) {
	s, _, err := LoadAligned(name, split, in, nil, Turns{})
	return s, err
}

// ClassNames returns the Classes that Load(name, split, …) would give,
// without reading an image: MNIST's ten digits, or a folder's identities
// (its sub-folders with images, sorted). It checks what Load checks of
// name and split.
func ClassNames(name, split string) ([]string, error) {
	dir, _, err := splitDir(name, split)
	if err != nil {
		return nil, err
	}
	if name == "mnist" {
		return Numbered(10), nil
	}
	identities, _, _, err := listFolder(dir, nil)
	return identities, err
}

// splitDir checks split of the data set name, and returns the folder whose
// sub-folders are the split's identities ("" for MNIST) and whether it is
// name's own train/ or test/ (sub), which holds the split whole.
func splitDir(name, split string) (dir string, sub bool, err error) {
	if split != "train" && split != "test" && split != "all" {
		return "", false, fmt.Errorf("data: split %q: want train, test or all", split)
	}
	if name == "" {
		// As a path, "" is the current folder: its train/ and test/, or
		// the system's "open : no such file or directory", which names
		// nothing (an unset variable, --data "$DIR").
		return "", false, fmt.Errorf("data: no data set named (an empty name): want mnist or a folder")
	}
	if name == "mnist" {
		if split == "all" {
			return "", false, fmt.Errorf("data: split all is for a folder of identities; mnist has train and test")
		}
		return "", false, nil
	}
	if strings.EqualFold(name, "mnist") {
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			// The system's "open MNIST: no such file or directory" says
			// nothing of the data set meant.
			return "", false, fmt.Errorf("data: %s: no such folder; the built-in data set is mnist, in lower case", name)
		}
	}
	if isDir(filepath.Join(name, "train")) && isDir(filepath.Join(name, "test")) {
		if split == "all" {
			return "", false, fmt.Errorf("data: split all: %s has train/ and test/ folders, its training and test splits: leave split all out", name)
		}
		return filepath.Join(name, split), true, nil
	}
	return name, false, nil
}

// BesideSplits returns the folders of the data set name that Load does
// not read because name has train/ and test/, its splits: the others
// beside them (val/, extra/), sorted, hidden ones left out (see hidden);
// nil for MNIST or a folder of identities.
func BesideSplits(name string) []string {
	if name == "mnist" || !isDir(filepath.Join(name, "train")) || !isDir(filepath.Join(name, "test")) {
		return nil
	}
	entries, err := os.ReadDir(name)
	if err != nil {
		return nil
	}
	var beside []string
	for _, e := range entries { // sorted by name
		path := filepath.Join(name, e.Name())
		if e.Name() != "train" && e.Name() != "test" && isDir(path) && !hidden(path) {
			beside = append(beside, e.Name())
		}
	}
	return beside
}

// Aligner turns a decoded photo, upright (a JPEG turned by its EXIF
// orientation), into an encoder input of shape in (planar
// Channels×Height×Width values in [0,1]), reusing dst's storage when it is
// large enough; reason is "" for a usable photo, and otherwise says why it
// is not (it is then skipped). Face alignment (core/face's AlignPhoto) is
// one; the plain resize of ImageFolder is what Load does without one.
type Aligner func(dst []float32, img image.Image, in core.Input) (x []float32, reason string)

// Skipped counts the photos an Aligner refused (or, without one, the
// images too small to scale up: see tooSmall), and what a folder
// holds that is not read (a file of another format, a folder inside an
// identity's: see skipFormat), by reason.
type Skipped map[string]int

// Refused returns the counts of s of the images refused alone (by an
// Aligner, or too small), without what the folder holds that is not read,
// which is the same for every split of a folder not split in train/ and
// test/.
func (s Skipped) Refused() Skipped {
	r := Skipped{}
	for reason, n := range s {
		if reason != skipBeside && reason != skipFormat && reason != skipNested && reason != skipAdded {
			r[reason] = n
		}
	}
	return r
}

// String is "N skipped: k reason, ..." (the reasons sorted), or "" when
// none were.
func (s Skipped) String() string {
	n := 0
	var parts []string
	for _, reason := range slices.Sorted(maps.Keys(s)) {
		n += s[reason]
		part := fmt.Sprintf("%d %s", s[reason], reason)
		if reason == skipNested {
			part = msg.Plural(s[reason], "sub-folder of an identity", skipNested)
		}
		parts = append(parts, part)
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d skipped: %s", n, strings.Join(parts, ", "))
}

// LoadAligned is Load with every photo of a folder turned into an input by
// align instead of resized (nil: resized, as Load); the photos align
// refuses are left out and counted by reason, as is what the folder holds
// that is not read. An identity may be left
// without images; it keeps its label. MNIST takes no Aligner.
//
// With turns.N > 0 (at most MaxPhotoTurns, and only with an Aligner),
// every photo kept has turns.N versions beside it (Set.Alts): for the
// identities of turns.Classes, the photo turned as
// a head turns, by up to AugmentHeads.Yaw of its half-width to either side
// (Augmentation's head turn, on the whole photo, drawn for each version
// from the photo's place in the folder, so a load gives the same versions
// every time), and then aligned, so that alignment puts the turned face's
// eyes where it puts every face's: the head turns of training that aligned
// crops cannot take (on a crop they would move the eyes). A version that
// does not align is the photo's own crop, and so are the versions of the
// other identities' photos (not turned: training turns the identities it
// trains on; the others are dropped from its set).
func LoadAligned(name, split string, in core.Input, align Aligner, turns Turns) (*Set, Skipped, error) {
	if align != nil && name == "mnist" {
		return nil, nil, fmt.Errorf("data: mnist digits are not photos to align")
	}
	if turns.N < 0 || turns.N > MaxPhotoTurns {
		return nil, nil, fmt.Errorf("data: %d turned versions of every photo: want 0 to %d", turns.N, MaxPhotoTurns)
	}
	if turns.N > 0 && align == nil {
		return nil, nil, fmt.Errorf("data: turned versions are of photos to align")
	}
	dir, sub, err := splitDir(name, split)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckInput(name, in); err != nil {
		return nil, nil, err
	}
	if name == "mnist" {
		s, err := MNIST(split)
		return s, nil, err
	}
	return readFolder(dir, in, splitKeep(sub, split), nil, align, turns)
}

// Listing returns the images of the folder name that Load reads, of
// every split (its train/ and test/, when it has them), as paths
// relative to name with forward slashes ("ann/1.png"), sorted: the
// record of what the folder held, which LoadListed reads again whatever
// is added to it since.
func Listing(name string) ([]string, error) {
	dirs := []string{name}
	if _, sub, err := splitDir(name, "train"); err != nil {
		return nil, err
	} else if sub {
		dirs = []string{filepath.Join(name, "train"), filepath.Join(name, "test")}
	}
	var files []string
	for _, dir := range dirs {
		_, paths, _, err := listFolder(dir, nil)
		if err != nil {
			return nil, err
		}
		for _, identity := range paths {
			for _, path := range identity {
				rel, err := filepath.Rel(name, path)
				if err != nil {
					return nil, fmt.Errorf("data: %v", err)
				}
				files = append(files, filepath.ToSlash(rel))
			}
		}
	}
	slices.Sort(files)
	return files, nil
}

// ErrGone is LoadListed's error for an image of its listing that is no
// longer in the folder (removed, or renamed, by hand).
var ErrGone = errors.New("gone from the folder since it was listed")

// LoadListed is Load of split of the folder name (resized, as Load),
// restricted to the images of files, an earlier Listing of it: the
// folder's identities and images as they were then, the same labels and
// splits (image i of an identity is the i-th of files), whatever was
// added since, which is left out and counted (skipAdded). An image of
// files that is gone is ErrGone, naming the first. Nil files is every
// image, as Load.
func LoadListed(name, split string, in core.Input, files []string) (*Set, Skipped, error) {
	if files == nil || name == "mnist" {
		return LoadAligned(name, split, in, nil, Turns{})
	}
	dir, sub, err := splitDir(name, split)
	if err != nil {
		return nil, nil, err
	}
	listed := make(map[string]bool, len(files))
	for _, f := range files {
		path := filepath.Join(name, filepath.FromSlash(f))
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("data: %s: %w", quoted(path), ErrGone)
		}
		listed[path] = true
	}
	return readFolder(dir, in, splitKeep(sub, split), func(path string) bool { return listed[path] }, nil, Turns{})
}

// CheckInput refuses an input in that LoadAligned does not load the data
// set name at, before any image is read: MNIST's images are 1×28×28 only
// (a folder's are resized to any input). A zero input is the data set's
// own.
func CheckInput(name string, in core.Input) error {
	if name == "mnist" && in.Size() != 0 && (in.Channels != 1 || in.Height != 28 || in.Width != 28) {
		return fmt.Errorf("data: mnist images are 1×28×28, not %d×%d×%d", in.Channels, in.Height, in.Width)
	}
	return nil
}

// splitKeep is readFolder's keep of split (see Load): every image of a
// sub-folder or of "all", or those of the split's place within their
// identity.
func splitKeep(sub bool, split string) func(i int) bool {
	if sub || split == "all" {
		return func(int) bool { return true }
	}
	test := split == "test"
	return func(i int) bool { return (i%testEvery == testEvery-1) == test }
}

// ImageCounts returns the Classes that Load(name, split, …) would give
// (ClassNames), and by their label how many images of each identity the
// split holds before any is skipped (no image is read): an identity with
// some and none in the set loaded had them all skipped, one with none has
// no image in the split (under 5 images, the test split of a folder
// without train/ and test/ takes none of it). MNIST's are read from its
// labels file, not its images. The classes are of this listing: a caller
// that holds another's checks that they are the same before it reads a
// count by its label (a folder changed in between shifts the labels).
func ImageCounts(name, split string) (classes []string, counts []int, err error) {
	dir, sub, err := splitDir(name, split)
	if err != nil {
		return nil, nil, err
	}
	if name == "mnist" {
		if counts, err = mnistCounts(split); err != nil {
			return nil, nil, err
		}
		return Numbered(10), counts, nil
	}
	classes, files, _, err := listFolder(dir, nil)
	if err != nil {
		return nil, nil, err
	}
	keep := splitKeep(sub, split)
	counts = make([]int, len(files))
	for label, paths := range files {
		for i := range paths {
			if keep(i) {
				counts[label]++
			}
		}
	}
	return classes, counts, nil
}

// Turns asks LoadAligned for turned versions of photos: N of every photo,
// turned for the identities of Classes (a selection as ParseClasses reads
// it; "" is every identity).
type Turns struct {
	N       int
	Classes string
}

// MaxPhotoTurns is the most turned versions of a photo LoadAligned makes:
// they take turns times the memory of the photos' inputs.
const MaxPhotoTurns = 20

// IsImageName reports whether a folder of identities reads the file
// named name as an image: a .png, .jpg or .jpeg, in any case.
func IsImageName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".png" || ext == ".jpg" || ext == ".jpeg"
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// ImageFolder loads the images of dir, laid out as dir/<identity>/<image>:
// identities are the sub-folders, sorted by name, and label i is the i-th;
// images are the files ending in .png, .jpg or .jpeg (any case), sorted by
// name. Hidden files and folders (".name"), the files Windows and macOS
// keep in a folder (Thumbs.db, desktop.ini, Icon\r), the folders Windows
// keeps at a drive's root ($RECYCLE.BIN, System Volume Information) and
// other files are skipped (the others counted: see LoadAligned).
// Images are converted to grey (ITU-R BT.601 luma, 0.299 R + 0.587 G +
// 0.114 B, over black where transparent) when in.Channels is 1 or to RGB
// when it is 3, and resized to in.Height×in.Width (see vec.ResizeTo); an
// image with a side under msg.MinSide pixels that the input would scale
// up is skipped (see tooSmall; counted by LoadAligned). A JPEG is first
// turned as its EXIF orientation says it is seen. It
// returns an error for a folder without identities, an identity without
// images, and a file that is not a regular file (a named pipe, a device),
// does not decode or whose header declares more than 8192×8192 pixels
// (before decoding them), naming it.
func ImageFolder(dir string, in core.Input) (*Set, error) {
	s, _, err := readFolder(dir, in, func(int) bool { return true }, nil, nil, Turns{})
	return s, err
}

// readFolder loads the images of dir for which keep(i) is true, i being the
// image's index within its identity, of those listed (see listFolder;
// nil: all), through align when it is not nil, each with turns.N
// versions (see LoadAligned).
func readFolder(dir string, in core.Input, keep func(i int) bool, listed func(path string) bool, align Aligner, turns Turns) (*Set, Skipped, error) {
	if (in.Channels != 1 && in.Channels != 3) || in.Height <= 0 || in.Width <= 0 {
		return nil, nil, fmt.Errorf("data: input %d×%d×%d: want 1 or 3 channels and a positive height and width", in.Channels, in.Height, in.Width)
	}
	identities, files, skipped, err := listFolder(dir, listed)
	if err != nil {
		return nil, nil, err
	}
	s := &Set{
		Input:   core.Input{Channels: in.Channels, Height: in.Height, Width: in.Width},
		Classes: identities,
	}
	var scratch, planes []float32
	turning := make([]bool, len(identities)) // by label: the identities of turns.Classes
	if turns.N > 0 {
		s.Alts = make([][]float32, turns.N)
		classes, err := ParseClasses(turns.Classes, identities)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range classes {
			turning[c] = true
		}
	}
	for label, paths := range files {
		for i, path := range paths {
			if !keep(i) {
				continue
			}
			img, err := decodeImage(path)
			if err != nil {
				return nil, nil, err
			}
			if align != nil {
				var reason string
				if scratch, reason = align(scratch, img, s.Input); reason != "" {
					skipped[reason]++
					continue
				}
				if len(scratch) != in.Size() {
					panic(fmt.Sprintf("data: aligner gave %d values for a %d×%d×%d input", len(scratch), in.Channels, in.Height, in.Width))
				}
				s.X = append(s.X, scratch...)
				own := s.X[len(s.X)-in.Size():]
				rng := rand.New(rand.NewPCG(uint64(label), uint64(i)))
				for k := range s.Alts {
					if !turning[label] {
						s.Alts[k] = append(s.Alts[k], own...)
						continue
					}
					yaw := (2*rng.Float64() - 1) * AugmentHeads.Yaw
					var turned image.Image
					turned, planes = turnPhoto(img, in.Channels, yaw, planes)
					x, reason := align(scratch, turned, s.Input)
					if reason != "" {
						s.Alts[k] = append(s.Alts[k], own...)
						continue
					}
					scratch = x
					s.Alts[k] = append(s.Alts[k], x...)
				}
			} else {
				b := img.Bounds()
				if reason := tooSmall(b.Dx(), b.Dy(), in); reason != "" {
					skipped[reason]++
					continue
				}
				scratch = planesTo(scratch, img, in.Channels)
				s.X = vec.ResizeTo(slices.Grow(s.X, in.Size()), scratch, in.Channels, b.Dy(), b.Dx(), in.Height, in.Width)
			}
			s.Labels = append(s.Labels, label)
			s.N++
		}
	}
	return s, skipped, nil
}

// tooSmall is the reason of Skipped of an image of w×h pixels for the
// input in, or "" when it is usable: one with a side under msg.MinSide
// pixels that the input would scale up (a 1×1 pixel saved by a failed
// download, a 3×3 icon) is smaller than any input a job or the Verify
// page takes, and would give an input of a few values blurred over it,
// trained on and evaluated as an identity's image. It is skipped and
// counted, as an Aligner skips a face narrower than its crop; one of the
// input's own size, however small, is that input (a test's 2×2).
func tooSmall(w, h int, in core.Input) string {
	if (w >= msg.MinSide || w >= in.Width) && (h >= msg.MinSide || h >= in.Height) {
		return ""
	}
	return fmt.Sprintf("under %d pixels a side", msg.MinSide)
}

// otherHalf names, for each half of a folder split in train/ and test/,
// the other.
var otherHalf = map[string]string{"train": "test", "test": "train"}

// Reasons of Skipped for what a folder holds besides its identities'
// images, which is not read: told, so that photos of another format
// (.gif, .heic, .webp) or put in a folder inside an identity are not left
// out unseen. Hidden files and folders are not counted (see hidden).
const (
	skipBeside = "beside the identity folders"
	skipFormat = "not .png, .jpg or .jpeg"
	skipNested = "sub-folders of an identity" // "1 sub-folder of an identity" in String
	// skipAdded is LoadListed's: an image added since the listing.
	skipAdded = "added since the first load"
)

// systemFiles are the files a system keeps in a folder of its own, which a
// user never put there: Windows' thumbnails and folder settings, macOS's
// custom folder icon.
var systemFiles = []string{"Thumbs.db", "desktop.ini", "Icon\r"}

// hidden reports whether the folder's entry path is neither read nor
// counted: a hidden file or folder (".name"), a file of systemFiles or a
// folder Windows keeps at a drive's root (msg.DriveRootFolder), in any
// case (as the systems that write them match names). A folder named as a
// system file, or a file as a system folder, is not one of them: it is a
// person's (the server takes the name; not a drive root folder's name).
func hidden(path string) bool {
	name := filepath.Base(path)
	return strings.HasPrefix(name, ".") ||
		slices.ContainsFunc(systemFiles, func(s string) bool { return strings.EqualFold(name, s) }) && !isDir(path) ||
		msg.DriveRootFolder(name) && isDir(path)
}

// ErrNoIdentities is the error of a folder that holds no identity folder
// (an empty train/, say), which Load and ClassNames wrap.
var ErrNoIdentities = errors.New("no identity folders")

// listFolder returns the identities of dir, sorted, the paths of each
// one's images, sorted, and what it skipped (see skipFormat). With listed
// (nil: every image), only the images of the paths it takes are, and
// the others are counted as added (skipAdded); an identity whose images
// are all such is left out, an identity added since the listing.
func listFolder(dir string, listed func(path string) bool) ([]string, [][]string, Skipped, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if st, serr := os.Stat(dir); serr == nil && !st.IsDir() {
			// The system's "open DIR: not a directory" does not say what is.
			return nil, nil, nil, fmt.Errorf("data: %s is a file, not mnist or a folder of identities (DIR/<identity>/*.png|jpg)", dir)
		}
		return nil, nil, nil, fmt.Errorf("data: %v", err)
	}
	var (
		identities []string
		files      [][]string
	)
	skipped := Skipped{}
	for _, e := range entries { // ReadDir sorts by name.
		sub := filepath.Join(dir, e.Name())
		if hidden(sub) {
			continue
		}
		if !isDir(sub) {
			skipped[skipBeside]++
			continue
		}
		images, err := os.ReadDir(sub)
		if err != nil {
			return nil, nil, nil, pathError(err)
		}
		var paths []string
		folders := false // of its own
		added := 0       // images not listed
		for _, f := range images {
			name := f.Name()
			switch {
			case hidden(filepath.Join(sub, name)):
				continue
			case isDir(filepath.Join(sub, name)):
				skipped[skipNested]++
				folders = true
				continue
			case !IsImageName(name):
				skipped[skipFormat]++
				continue
			case listed != nil && !listed(filepath.Join(sub, name)):
				skipped[skipAdded]++
				added++
				continue
			}
			paths = append(paths, filepath.Join(sub, name))
		}
		if len(paths) == 0 && added > 0 {
			continue // an identity added since the listing
		}
		if len(paths) == 0 {
			if other, half := otherHalf[e.Name()]; half && !isDir(filepath.Join(dir, other)) {
				// Not a person: one half of a split (see splitDir).
				return nil, nil, nil, fmt.Errorf("data: %s has %s/ and no %s/: give both, each of identity folders, or identity folders alone", dir, e.Name(), other)
			}
			if folders {
				// Train/ and Test/, say, which only train/ and test/ split.
				return nil, nil, nil, fmt.Errorf("data: %s: identity %q holds folders and no images: an identity's images go straight in its folder, and a split's two folders are named train/ and test/", dir, e.Name())
			}
			return nil, nil, nil, fmt.Errorf("data: %s: identity %q has no images (.png, .jpg, .jpeg)", dir, e.Name())
		}
		identities = append(identities, e.Name())
		files = append(files, paths)
	}
	if len(identities) == 0 {
		return nil, nil, nil, fmt.Errorf("data: %s has %w (want %s/<identity>/<image>.png|jpg)", dir, ErrNoIdentities, dir)
	}
	return identities, files, skipped, nil
}

// quoted is a path of a folder's file as an error names it: as it is, or
// as %q quotes it when it is not valid UTF-8 or holds a character that
// %q escapes (a control character, an invalid byte: a name on Linux may
// hold any byte but / and NUL), which a terminal would show as garbage or
// obey. Other paths are left as they are, Windows' backslashes not
// doubled, as the user gave the folder.
func quoted(path string) string {
	if utf8.ValidString(path) && !strings.ContainsFunc(path, func(r rune) bool { return !strconv.IsPrint(r) }) {
		return path
	}
	return strconv.Quote(path)
}

// pathError is err, of the os package, as data's error, its path quoted.
func pathError(err error) error {
	if e, ok := err.(*fs.PathError); ok {
		return fmt.Errorf("data: %s %s: %v", e.Op, quoted(e.Path), e.Err)
	}
	return fmt.Errorf("data: %v", err)
}

// maxImageSide² bounds the width × height of an image of a folder (and
// maxImageSide each side of MNIST's images), read from its header before
// its pixels are decoded: a PNG of 900 kB can declare 30000×30000 pixels
// of zeros (900 MB decoded, 3.6 GB as float32 planes), and one of a
// hundred bytes 2^20×2^20. 8192×8192 holds the photo of a 60-megapixel
// camera.
const maxImageSide = 8192

// decodeImage decodes a PNG or JPEG file, by its content (a photo saved
// under the other's extension, as downloads often are, loads), or by its
// extension when its first bytes are neither's (for that decoder's
// error), of at most maxImageSide² pixels, a JPEG turned upright by its EXIF orientation (a
// phone stores a photo taken upright sideways, with orientation 6 or 8;
// see exifOrientation and orient). A path that is not a regular file once links are
// followed (a named pipe, whose reading waits for a writer, a device such
// as /dev/zero, which never ends) is refused before it is opened.
func decodeImage(path string) (image.Image, error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("data: %s: not a regular file", quoted(path))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, pathError(err)
	}
	if len(b) == 0 { // a copy that failed, say; the decoders say "unexpected EOF"
		return nil, fmt.Errorf("data: %s: empty file (0 bytes)", quoted(path))
	}
	decode, decodeConfig := jpeg.Decode, jpeg.DecodeConfig
	isPNG := strings.ToLower(filepath.Ext(path)) == ".png"
	switch { // the content, where it says, over the extension
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")): // PNG's signature
		isPNG = true
	case bytes.HasPrefix(b, []byte{0xff, 0xd8}): // JPEG's SOI marker
		isPNG = false
	}
	if isPNG {
		decode, decodeConfig = png.Decode, png.DecodeConfig
	}
	cfg, err := decodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("data: %s: cannot decode: %v", quoted(path), err)
	}
	if cfg.Width*cfg.Height > maxImageSide*maxImageSide {
		return nil, fmt.Errorf("data: %s: %d×%d pixels, more than the %d×%d an image may have", quoted(path), cfg.Width, cfg.Height, maxImageSide, maxImageSide)
	}
	img, err := decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("data: %s: cannot decode: %v", quoted(path), err)
	}
	if r := img.Bounds(); r.Empty() {
		return nil, fmt.Errorf("data: %s: image is empty", quoted(path))
	}
	if !isPNG {
		img = orient(img, exifOrientation(b))
	}
	return img, nil
}

// ITU-R BT.601 luma weights.
const (
	lumaR = 0.299
	lumaG = 0.587
	lumaB = 0.114
)

// planesTo writes img into dst as ch planes of H×W values in [0,1] (grey
// when ch is 1, R, G and B when ch is 3) and returns dst. Transparent
// pixels are composited over black. A colour JPEG's grey is its Y channel,
// which JPEG defines as the BT.601 luma.
func planesTo(dst []float32, img image.Image, ch int) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dst = slices.Grow(dst[:0], ch*h*w)[:ch*h*w]
	set := func(x, y int, r, g, bl float64) { // r, g, bl in [0,1]
		i := y*w + x
		if ch == 1 {
			dst[i] = float32(lumaR*r + lumaG*g + lumaB*bl)
			return
		}
		dst[i], dst[h*w+i], dst[2*h*w+i] = float32(r), float32(g), float32(bl)
	}
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				g := float64(v) / 255
				set(x, y, g, g, g)
			}
		}
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				if ch == 1 {
					dst[y*w+x] = float32(m.Y[yi]) / 255
					continue
				}
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				set(x, y, float64(r)/255, float64(g)/255, float64(bl)/255)
			}
		}
	case *image.RGBA:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				p := row[4*x : 4*x+3]
				set(x, y, float64(p[0])/255, float64(p[1])/255, float64(p[2])/255)
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				p := row[4*x : 4*x+4]
				a := float64(p[3]) / (255 * 255)
				set(x, y, float64(p[0])*a, float64(p[1])*a, float64(p[2])*a)
			}
		}
	default: // Slow but general: 16-bit, paletted, CMYK, ...
		for y := range h {
			for x := range w {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA() // premultiplied
				set(x, y, float64(r)/0xffff, float64(g)/0xffff, float64(bl)/0xffff)
			}
		}
	}
	return dst
}

// turnPhoto returns img turned as a head turns, its middle column moved by
// yaw of its half-width (Augmentation's head turn, alone), as an image of
// ch channels (grey or RGB); planes is scratch space, returned for reuse.
func turnPhoto(img image.Image, ch int, yaw float64, planes []float32) (image.Image, []float32) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	planes = planesTo(planes, img, ch)
	x := transform{zoom: 1, contrast: 1, yaw: yaw}.apply(nil, planes, core.Input{Channels: ch, Height: h, Width: w})
	return vec.PlanesImage(x, ch, h, w), planes
}
