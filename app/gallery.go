package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"slices"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/face"
	"metriclab/core/msg"
	"metriclab/core/vec"
)

// MaxGalleryCrops bounds the snapshots of a gallery file: 2,500 people
// of 20 snapshots, more than a file of 64×64 crops the page reads
// (maxGalleryFile) holds. Tiny crops are smaller: without the bound, a
// file of 8×8 crops held half a million, and training made a 32×32 sample
// of each, 2 GB.
const MaxGalleryCrops = 50_000

// GalleryVersion is the version of the gallery file (and of its IndexedDB
// record). A reader rejects a file of another version.
const GalleryVersion = 1

// IndexedDB names of the gallery: one record, the gallery as JSON (the
// file Export writes), under galleryKey. A record there that the page
// did not restore is set aside, as it is, before the page's first store
// writes over it, under asidePrefix and the time the page chose its key
// (saveGallery): no store writes there. The encoder is kept beside it,
// under encoderKey (StoredEncoder's JSON, saveRecord), the threshold set
// by hand on it under thresholdKey (StoredThreshold's), and the false
// accept rate chosen, of whatever encoder, under farKey (StoredFAR's).
const (
	galleryDB    = "metriclab"
	galleryStore = "gallery"
	galleryKey   = "gallery"
	asidePrefix  = "gallery-unread-"
	encoderKey   = "encoder"
	thresholdKey = "threshold"
	farKey       = "far"
)

// galleryChannel is the BroadcastChannel on which a page that stored the
// gallery says so to the page's other tabs, with the sum of the record
// it wrote (recordSum): a tab whose record is another reads the new one
// and shows it (Verify.watchGallery, VerifyState.StoredElsewhere).
const galleryChannel = "metriclab-gallery"

// Gallery is the enrolled identities of the verify page: for each a name
// and its aligned face crops, Channels×Height×Width each. It is what
// IndexedDB keeps across reloads and what Export and Import move as one
// JSON file, the crops as PNG data URLs (8 bits a pixel: the camera's own
// depth).
type Gallery struct {
	Version    int        `json:"version"`
	Channels   int        `json:"channels"`
	Height     int        `json:"height"`
	Width      int        `json:"width"`
	Identities []Identity `json:"identities"`
}

// Identity is one enrolled person: a name and its crops as PNG data URLs.
type Identity struct {
	Name  string   `json:"name"`
	Crops []string `json:"crops"`
}

// NewGallery returns an empty gallery of crops of c×h×w.
func NewGallery(c, h, w int) Gallery {
	return Gallery{Version: GalleryVersion, Channels: c, Height: h, Width: w}
}

// Count returns the number of crops of all identities.
func (g *Gallery) Count() int {
	n := 0
	for _, id := range g.Identities {
		n += len(id.Crops)
	}
	return n
}

// identityName is the name an identity is enrolled under, typed or
// imported: trimmed and in Unicode normal form C (nfc), so that "José"
// typed or imported as e and a combining accent is the same person as
// with é.
func identityName(name string) string { return strings.TrimSpace(nfc(name)) }

// Add appends the crops (PNG data URLs) to the identity called name,
// enrolling it when it is new.
func (g *Gallery) Add(name string, crops ...string) {
	for i := range g.Identities {
		if g.Identities[i].Name == name {
			g.Identities[i].Crops = append(g.Identities[i].Crops, crops...)
			return
		}
	}
	g.Identities = append(g.Identities, Identity{Name: name, Crops: crops})
}

// Delete removes crop j of identity i, and the identity with its last
// crop.
func (g *Gallery) Delete(i, j int) {
	if i < 0 || i >= len(g.Identities) || j < 0 || j >= len(g.Identities[i].Crops) {
		panic("app: Gallery.Delete: no such crop")
	}
	id := &g.Identities[i]
	id.Crops = append(id.Crops[:j:j], id.Crops[j+1:]...)
	if len(id.Crops) == 0 {
		g.Identities = append(g.Identities[:i:i], g.Identities[i+1:]...)
	}
}

// Remove removes identity i with all its crops.
func (g *Gallery) Remove(i int) {
	if i < 0 || i >= len(g.Identities) {
		panic("app: Gallery.Remove: no such identity")
	}
	g.Identities = append(g.Identities[:i:i], g.Identities[i+1:]...)
}

// Find returns the place of a crop of identity name equal to crop, ok
// false when there is none.
func (g *Gallery) Find(name, crop string) (i, j int, ok bool) {
	i = slices.IndexFunc(g.Identities, func(id Identity) bool { return id.Name == name })
	if i < 0 {
		return 0, 0, false
	}
	j = slices.Index(g.Identities[i].Crops, crop)
	return i, j, j >= 0
}

// clone returns g as it is now, to keep beside a gallery that changes:
// Add and Delete change an identity of g's in place, not its crops.
func (g Gallery) clone() Gallery {
	g.Identities = slices.Clone(g.Identities)
	return g
}

// sameCrops reports whether a and b hold the same identities, in order,
// each with the same crops, in order.
func sameCrops(a, b Gallery) bool {
	return slices.EqualFunc(a.Identities, b.Identities, func(x, y Identity) bool {
		return x.Name == y.Name && slices.Equal(x.Crops, y.Crops)
	})
}

// Names returns the names of the identities, in order.
func (g *Gallery) Names() []string {
	names := make([]string, len(g.Identities))
	for i, id := range g.Identities {
		names[i] = id.Name
	}
	return names
}

// Samples returns the crops of g as the samples of a trainer's "start" or
// "embed" command for an encoder of input to, each crop resized so
// (face.ResizeTo): pixels in [0, 1], labels the index of each identity,
// classes the names.
func (g *Gallery) Samples(to face.Input) (*msg.Samples, error) {
	s := &msg.Samples{Channels: to.Channels, Height: to.Height, Width: to.Width, Classes: g.Names()}
	s.Pixels = make([]float32, 0, g.Count()*to.Size())
	var buf []float32
	for i, id := range g.Identities {
		for j, c := range id.Crops {
			px, err := DecodeCrop(c, g.Channels, g.Height, g.Width)
			if err != nil {
				return nil, fmt.Errorf("crop %d of %s: %w", j+1, id.Name, err)
			}
			buf = face.ResizeTo(buf, px, g.Shape(), to)
			s.Pixels = append(s.Pixels, buf...)
			s.Labels = append(s.Labels, i)
		}
	}
	return s, nil
}

// HeldOut returns the positions of the crops of an identity of n crops
// that the page's training holds out, for an honest calibration: one in
// share, spread over the recording (the share-th, the 2·share-th, …), at
// least one of two crops or more, none of a single crop.
func HeldOut(n, share int) []int {
	if n < 2 || share < 1 {
		return nil
	}
	h := max(1, n/share)
	out := make([]int, h)
	for i := range out {
		out[i] = (i+1)*n/h - 1
	}
	return out
}

// WithoutHeldOut returns a copy of g without the crops that HeldOut holds
// out of each identity.
func (g *Gallery) WithoutHeldOut(share int) Gallery {
	out := *g
	out.Identities = make([]Identity, len(g.Identities))
	for i, id := range g.Identities {
		held := HeldOut(len(id.Crops), share)
		crops := make([]string, 0, len(id.Crops)-len(held))
		for j, c := range id.Crops {
			if !slices.Contains(held, j) {
				crops = append(crops, c)
			}
		}
		out.Identities[i] = Identity{Name: id.Name, Crops: crops}
	}
	return out
}

// MergeGallery returns theirs, the gallery another tab stored over base,
// the one this page read or stored last, with the changes this page made
// to base since, which gave mine: the snapshots of each identity that
// mine holds more of than base are added (to the identity of their name,
// which comes last when theirs has none), those it holds fewer of are
// deleted, and an identity left without snapshots goes. Snapshots are
// their crops, counted as many times as an identity holds them. ok is
// false when the changes cannot be made: snapshots to add of a shape
// other than theirs', or more than MaxGalleryCrops in all.
func MergeGallery(base, mine, theirs Gallery) (merged Gallery, ok bool) {
	type snapshot struct{ name, crop string }
	count := func(g Gallery) map[snapshot]int {
		n := map[snapshot]int{}
		for _, id := range g.Identities {
			for _, c := range id.Crops {
				n[snapshot{id.Name, c}]++
			}
		}
		return n
	}
	was, now := count(base), count(mine)
	merged = theirs
	merged.Identities = make([]Identity, 0, len(theirs.Identities))
	for _, id := range theirs.Identities {
		crops := make([]string, 0, len(id.Crops))
		for _, c := range id.Crops {
			k := snapshot{id.Name, c}
			if now[k] < was[k] { // deleted here
				was[k]--
				continue
			}
			crops = append(crops, c)
		}
		merged.Identities = append(merged.Identities, Identity{Name: id.Name, Crops: crops})
	}
	added := false
	for _, id := range mine.Identities {
		for _, c := range id.Crops {
			k := snapshot{id.Name, c}
			if now[k] <= was[k] {
				continue
			}
			now[k]--
			if !added && theirs.Count() == 0 {
				merged.Channels, merged.Height, merged.Width = mine.Channels, mine.Height, mine.Width
			}
			if mine.Shape() != merged.Shape() {
				return Gallery{}, false
			}
			added = true
			merged.Add(id.Name, c)
		}
	}
	merged.Identities = slices.DeleteFunc(merged.Identities, func(id Identity) bool { return len(id.Crops) == 0 })
	if merged.Count() > MaxGalleryCrops {
		return Gallery{}, false
	}
	return merged, true
}

// MarshalGallery returns g as the JSON of the gallery file.
func MarshalGallery(g Gallery) []byte {
	b, err := json.Marshal(g)
	if err != nil {
		panic("app: " + err.Error()) // strings and ints always marshal
	}
	return b
}

// Shape is the shape of g's crops.
func (g Gallery) Shape() face.Input {
	return face.Input{Channels: g.Channels, Height: g.Height, Width: g.Width}
}

// UnmarshalGallery reads a gallery file: its version, its crop shape,
// identities named once each with a crop at least, and that every crop
// decodes to that shape. The names are taken as typed ones are
// (identityName) before they are checked: " Ann" and "Ann" in one file
// name one person twice.
func UnmarshalGallery(data []byte) (Gallery, error) { return unmarshalGallery(data, false) }

// jsonProblem says in words why a file is not a gallery's JSON, for a
// user who chose the wrong file: cut short, not JSON (a photo, a model),
// or JSON of another shape. Go's own words ("unexpected end of JSON
// input") were the import's note.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax) && syntax.Offset == 0:
		return "the file is empty"
	case errors.As(err, &syntax) && strings.HasPrefix(syntax.Error(), "unexpected end"):
		return fmt.Sprintf("its JSON is cut short after %d bytes", syntax.Offset)
	case errors.As(err, &syntax):
		return fmt.Sprintf("it is not JSON from byte %d on", syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("its JSON holds %s where a gallery has its %s", article(typ.Value), typ.Field)
	case errors.As(err, &typ):
		return fmt.Sprintf("its JSON is %s, where a gallery is an object", article(typ.Value))
	}
	return err.Error()
}

// article returns the name of a JSON type (json.UnmarshalTypeError's
// Value: "array", "number", …) after "a" or "an".
func article(name string) string {
	if name != "" && strings.ContainsRune("aeiou", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}

// UnmarshalStoredGallery reads the gallery IndexedDB kept as
// UnmarshalGallery reads a file, except that an identity without crops
// is left out rather than refused: a file imported before UnmarshalGallery
// refused them was kept with it, and a refused record leaves the page an
// empty gallery, its people set aside by the next store, out of the
// page's reach (saveGallery). For the
// same reason its names are kept as stored: a record of a file imported
// before its names were normalised may hold one person under two names,
// which identityName would make one name twice, and the record refused.
func UnmarshalStoredGallery(data []byte) (Gallery, error) { return unmarshalGallery(data, true) }

// unmarshalGallery is UnmarshalGallery, or UnmarshalStoredGallery when
// stored is set.
func unmarshalGallery(data []byte, stored bool) (Gallery, error) {
	var g Gallery
	if err := json.Unmarshal(data, &g); err != nil && stored {
		return Gallery{}, fmt.Errorf("not a gallery file: %w", err)
	} else if err != nil {
		return Gallery{}, fmt.Errorf("not a gallery file (the page imports a gallery that Export gallery saved, a .json file): %s", jsonProblem(err))
	}
	if g.Version != GalleryVersion {
		return Gallery{}, fmt.Errorf("a gallery file of version %d, the page reads version %d", g.Version, GalleryVersion)
	}
	if (g.Channels != 1 && g.Channels != 3) || g.Height < 1 || g.Width < 1 || g.Height > 512 || g.Width > 512 {
		return Gallery{}, fmt.Errorf("crops of %s: want 1 or 3 channels and sides of 1 to 512", ShapeText(g.Shape()))
	}
	crops := 0
	for _, id := range g.Identities {
		crops += len(id.Crops)
	}
	if crops > MaxGalleryCrops {
		return Gallery{}, fmt.Errorf("%d snapshots: the page takes at most %d (training makes a sample of each)", crops, MaxGalleryCrops)
	}
	named := make(map[string]bool, len(g.Identities))
	kept := g.Identities[:0]
	for _, id := range g.Identities {
		if stored && len(id.Crops) == 0 {
			continue
		}
		if !stored {
			id.Name = identityName(id.Name)
		}
		if strings.TrimSpace(id.Name) == "" {
			return Gallery{}, errors.New("an identity without a name")
		}
		// The page keeps an identity's crops under one name (Add); two
		// of a name would be two classes of it, which training refuses.
		if named[id.Name] {
			return Gallery{}, fmt.Errorf("identity %q is named twice", id.Name)
		}
		named[id.Name] = true
		// The page deletes an identity with its last crop (Delete); one
		// without crops could not be deleted, and counted as a second
		// identity to train on.
		if len(id.Crops) == 0 {
			return Gallery{}, fmt.Errorf("identity %q has no snapshots", id.Name)
		}
		for j, c := range id.Crops {
			if _, err := DecodeCrop(c, g.Channels, g.Height, g.Width); err != nil {
				return Gallery{}, fmt.Errorf("crop %d of %s: %w", j+1, id.Name, err)
			}
		}
		kept = append(kept, id)
	}
	g.Identities = kept
	return g, nil
}

// EncoderVersion is the version of the encoder's IndexedDB record
// (StoredEncoder). A reader rejects a record of another version, but
// for version 1, whose trained snapshots were keyed by their data URLs
// (the gallery's crops all over again: over 100 MB at MaxGalleryCrops):
// it reads them as trainedKey's, so that no encoder trained here is lost
// to the change.
const EncoderVersion = 2

// StoredEncoder is the verify page's encoder as IndexedDB keeps it beside
// the gallery, so that it comes back when the page is opened again: what
// the page calls it (VerifyState.Source), its model file, and, for an
// encoder trained here, the snapshots it was trained on (trainedKey's
// counts), without which it would be calibrated on them.
type StoredEncoder struct {
	Version int            `json:"version"`
	Source  string         `json:"source"`
	Model   []byte         `json:"model"` // the .safetensors file, base64 in JSON
	Trained map[string]int `json:"trained,omitempty"`
}

// MarshalStoredEncoder returns e as the JSON of its record.
func MarshalStoredEncoder(e StoredEncoder) []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic("app: " + err.Error()) // strings, bytes and ints always marshal
	}
	return b
}

// UnmarshalStoredEncoder reads the encoder IndexedDB kept: its version, a
// name, a model file (which the page reads when it loads it: ModelInput),
// and trained counts of one crop or more, each of a named identity and
// keyed by the crop's sum (of a record of version 1, by the crop itself:
// returned as the current version's).
func UnmarshalStoredEncoder(data []byte) (StoredEncoder, error) {
	var e StoredEncoder
	if err := json.Unmarshal(data, &e); err != nil {
		return StoredEncoder{}, fmt.Errorf("not an encoder's record: %w", err)
	}
	if e.Version != EncoderVersion && e.Version != 1 {
		return StoredEncoder{}, fmt.Errorf("an encoder's record of version %d, the page reads version %d", e.Version, EncoderVersion)
	}
	if strings.TrimSpace(e.Source) == "" {
		return StoredEncoder{}, errors.New("an encoder without a name")
	}
	if len(e.Model) == 0 {
		return StoredEncoder{}, errors.New("an encoder without a model file")
	}
	// The crop is what follows the last NUL: a name may hold one, a crop
	// (a data URL, or its sum) does not.
	for k, n := range e.Trained {
		i := strings.LastIndexByte(k, 0)
		if i < 1 || n < 1 || (e.Version == EncoderVersion && !isSum(k[i+1:])) {
			return StoredEncoder{}, errors.New("the snapshots it was trained on are not of the page's form")
		}
	}
	if e.Version == 1 && e.Trained != nil {
		trained := make(map[string]int, len(e.Trained))
		for k, n := range e.Trained {
			i := strings.LastIndexByte(k, 0)
			trained[trainedKey(k[:i], k[i+1:])] += n
		}
		e.Trained = trained
	}
	e.Version = EncoderVersion
	return e, nil
}

// isSum reports whether s is a SHA-256 in hex, as trainedKey writes it.
func isSum(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && len(s) == 2*sha256.Size
}

// ThresholdVersion is the version of the hand-set threshold's IndexedDB
// record (StoredThreshold). A reader rejects a record of another version.
const ThresholdVersion = 1

// StoredThreshold is the threshold set by hand on the verify page's
// encoder (VerifyState.SetThreshold), kept in a record of its own, as a
// drag of the slider would otherwise write the model file again: Encoder
// is the sum of the encoder's record it was set on (recordSum), so that
// it applies to no other.
type StoredThreshold struct {
	Version   int     `json:"version"`
	Encoder   string  `json:"encoder"`
	Threshold float64 `json:"threshold"`
}

// MarshalStoredThreshold returns h as the JSON of its record.
func MarshalStoredThreshold(h StoredThreshold) []byte {
	b, err := json.Marshal(h)
	if err != nil {
		panic("app: " + err.Error()) // a string and a number of [−1, 1] always marshal
	}
	return b
}

// recordSum returns the SHA-256 of an encoder's record, in hex: what its
// hand-set threshold's record names it by.
func recordSum(record []byte) string {
	sum := sha256.Sum256(record)
	return hex.EncodeToString(sum[:])
}

// UnmarshalStoredThreshold reads the hand-set threshold IndexedDB kept:
// its version, the encoder's sum and a threshold in [−1, 1].
func UnmarshalStoredThreshold(data []byte) (StoredThreshold, error) {
	var h StoredThreshold
	if err := json.Unmarshal(data, &h); err != nil {
		return StoredThreshold{}, fmt.Errorf("not a threshold's record: %w", err)
	}
	if h.Version != ThresholdVersion {
		return StoredThreshold{}, fmt.Errorf("a threshold's record of version %d, the page reads version %d", h.Version, ThresholdVersion)
	}
	if !(h.Threshold >= -1 && h.Threshold <= 1) {
		return StoredThreshold{}, fmt.Errorf("a threshold of %v, out of [-1, 1]", h.Threshold)
	}
	return h, nil
}

// FARVersion is the version of the chosen false accept rate's IndexedDB
// record (StoredFAR). A reader rejects a record of another version.
const FARVersion = 1

// StoredFAR is the false accept rate chosen on the verify page's slider
// (VerifyState.SetFAR), kept in a record of its own: a preference of the
// page, which calibrates whatever encoder it holds at it, not of one
// encoder.
type StoredFAR struct {
	Version int     `json:"version"`
	FAR     float64 `json:"far"`
}

// MarshalStoredFAR returns f as the JSON of its record.
func MarshalStoredFAR(f StoredFAR) []byte {
	b, err := json.Marshal(f)
	if err != nil {
		panic("app: " + err.Error()) // a number of (0, MaxFAR] (SetFAR's) always marshals
	}
	return b
}

// UnmarshalStoredFAR reads the false accept rate IndexedDB kept: its
// version and a rate of the slider's range, (0, MaxFAR].
func UnmarshalStoredFAR(data []byte) (StoredFAR, error) {
	var f StoredFAR
	if err := json.Unmarshal(data, &f); err != nil {
		return StoredFAR{}, fmt.Errorf("not a false accept rate's record: %w", err)
	}
	if f.Version != FARVersion {
		return StoredFAR{}, fmt.Errorf("a false accept rate's record of version %d, the page reads version %d", f.Version, FARVersion)
	}
	if !farInRange(f.FAR) {
		return StoredFAR{}, fmt.Errorf("a false accept rate of %v, out of (0, %v]", f.FAR, MaxFAR)
	}
	return f, nil
}

// farInRange reports whether far is of the FAR slider's range, (0,
// MaxFAR]: what SetFAR takes, and so what a stored record may hold.
func farInRange(far float64) bool { return far > 0 && far <= MaxFAR }

// EncodeCrop returns the crop px (c×h×w, planar, values in [0, 1]) as a
// PNG data URL: grey for one channel, RGB for three.
func EncodeCrop(px []float32, c, h, w int) string {
	b := CropPNG(px, c, h, w)
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b)
}

// CropPNG returns the crop px (c×h×w, planar, values in [0, 1]) as PNG
// bytes.
func CropPNG(px []float32, c, h, w int) []byte {
	if len(px) != c*h*w || (c != 1 && c != 3) {
		panic(fmt.Sprintf("app: CropPNG: %d values for %d×%d×%d", len(px), c, h, w))
	}
	img := vec.PlanesImage(px, c, h, w)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic("app: " + err.Error()) // encoding into memory does not fail
	}
	return buf.Bytes()
}

// DecodeCrop reads a crop written by EncodeCrop back as c×h×w values in
// [0, 1]: grey images give every channel the same value.
func DecodeCrop(dataURL string, c, h, w int) ([]float32, error) {
	b, err := CropBytes(dataURL)
	if err != nil {
		return nil, err
	}
	// The size first: png.Decode allocates what the header declares (a
	// file of a few bytes may declare 40000×40000 pixels).
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("bad PNG: %w", err)
	}
	if cfg.Width != w || cfg.Height != h {
		return nil, fmt.Errorf("a crop of %d×%d, want %d×%d", cfg.Width, cfg.Height, w, h)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("bad PNG: %w", err)
	}
	px := make([]float32, c*h*w)
	n := h * w
	r0 := img.Bounds().Min
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			if c == 1 {
				px[i] = float32(color.GrayModel.Convert(img.At(r0.X+x, r0.Y+y)).(color.Gray).Y) / 255
				continue
			}
			nc := color.NRGBAModel.Convert(img.At(r0.X+x, r0.Y+y)).(color.NRGBA)
			px[i], px[n+i], px[2*n+i] = float32(nc.R)/255, float32(nc.G)/255, float32(nc.B)/255
		}
	}
	return px, nil
}

// CropBytes returns the PNG bytes of a crop's data URL.
func CropBytes(dataURL string) ([]byte, error) {
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(dataURL, prefix) {
		return nil, errors.New("not a PNG data URL")
	}
	b, err := base64.StdEncoding.DecodeString(dataURL[len(prefix):])
	if err != nil {
		return nil, fmt.Errorf("bad base64: %w", err)
	}
	return b, nil
}

// loadGallery reads the gallery's record of key (galleryKey, or one set
// aside) from IndexedDB and calls done with it (ok false when there is
// none; err when IndexedDB failed or is not there, or the record is not a
// string: storedRecord), on the browser's event loop.
func loadGallery(key string, done func(data string, ok bool, err error)) {
	withGalleryStore("readonly", func(store app.Value, err error) {
		if err != nil {
			done("", false, err)
			return
		}
		req := store.Call("get", key)
		onRequest(req, func(result app.Value, err error) {
			if err != nil {
				done("", false, err)
				return
			}
			done(storedRecord(result))
		})
	})
}

// storedRecord reads result, the gallery's record that IndexedDB gave:
// none (undefined), the gallery's JSON (a string), or a record of another
// type (another version of the page wrote it), which err says cannot be
// read, as the page says of a string that is not a gallery's JSON.
func storedRecord(result app.Value) (data string, ok bool, err error) {
	switch t := result.Type(); t {
	case app.TypeUndefined:
		return "", false, nil
	case app.TypeString:
		return result.String(), true, nil
	default:
		return "", false, recordTypeError{t}
	}
}

// recordTypeError is storedRecord's error for a record that is not text,
// of type T.
type recordTypeError struct{ T app.Type }

func (e recordTypeError) Error() string {
	return fmt.Sprintf("the stored gallery could not be read: a record of type %s, not JSON text"+storedKept, e.T)
}

// saved is the end of a store (saveGallery): Kept, the record it wrote
// over is kept at its aside key; Changed, the record at galleryKey is not
// the one the store expected, another tab's, and nothing was written:
// Data, OK and ReadErr are that record, as loadGallery gives one
// (storedRecord); Err, why the store failed.
type saved struct {
	Kept, Changed bool
	Data          string
	OK            bool
	ReadErr       error
	Err           error
}

// saveGallery writes data (a gallery's JSON) to IndexedDB and calls done
// when it is stored or failed: when its transaction commits or aborts, as
// a request's success is not its commit, which may still fail (Chrome
// counts the quota there, which a copy may exceed) and undo the copy and
// the gallery. Without aside, it writes only over the record the page
// expects there, of sum expect (recordSum; "": none), in the same
// transaction, which IndexedDB runs apart from any other tab's that
// writes: a record another tab stored since is not written over (Changed),
// as its people would be lost, and the page merges it (Contested). With
// aside, the record it writes over is first copied as it is to the key
// aside, in the same transaction (a copy that fails aborts it: nothing is
// written), unless aside holds one already (a store before set it aside);
// Kept reports that aside holds it, false when there was no record.
func saveGallery(data, expect, aside string, done func(saved)) {
	withGalleryStore("readwrite", func(store app.Value, err error) {
		if err != nil {
			done(saved{Err: err})
			return
		}
		var r saved
		onCommit(store.Get("transaction"), func(err error) {
			r.Kept = r.Kept && err == nil
			r.Err = err
			done(r)
		})
		// A request that fails aborts the transaction: onCommit says why.
		put := func(k bool) {
			r.Kept = k
			store.Call("put", data, galleryKey)
		}
		if aside == "" {
			onRequest(store.Call("get", galleryKey), func(old app.Value, err error) {
				if err != nil {
					return
				}
				found, ok, readErr := storedRecord(old)
				if readErr == nil && ((!ok && expect == "") || (ok && recordSum([]byte(found)) == expect)) {
					put(false)
					return
				}
				r.Changed, r.Data, r.OK, r.ReadErr = true, found, ok, readErr
			})
			return
		}
		onRequest(store.Call("count", aside), func(n app.Value, err error) {
			switch {
			case err != nil:
			case n.Int() > 0:
				put(true)
			default:
				onRequest(store.Call("get", galleryKey), func(old app.Value, err error) {
					switch {
					case err != nil:
					case old.Type() == app.TypeUndefined:
						put(false)
					default:
						onRequest(store.Call("add", old, aside), func(_ app.Value, err error) {
							if err == nil {
								put(true)
							}
						})
					}
				})
			}
		})
	})
}

// saveRecord writes data (an encoder's record, MarshalStoredEncoder, or
// its hand-set threshold's) to IndexedDB under key and calls done when
// its transaction commits or aborts.
func saveRecord(key, data string, done func(err error)) {
	withGalleryStore("readwrite", func(store app.Value, err error) {
		if err != nil {
			done(err)
			return
		}
		onCommit(store.Get("transaction"), done)
		store.Call("put", data, key) // a request that fails aborts the transaction: onCommit says why
	})
}

// listAside calls done with the keys of the records set aside
// (asidePrefix), in IndexedDB's order (by time), on the browser's event
// loop. Asked as the page opens, before its first store, it lists those
// set aside in earlier visits only: IndexedDB runs a transaction that
// writes after the ones created before it.
func listAside(done func(keys []string, err error)) {
	withGalleryStore("readonly", func(store app.Value, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		onRequest(store.Call("getAllKeys"), func(result app.Value, err error) {
			if err != nil {
				done(nil, err)
				return
			}
			var keys []string
			for i := range result.Length() {
				if k := result.Index(i); k.Type() == app.TypeString && strings.HasPrefix(k.String(), asidePrefix) {
					keys = append(keys, k.String())
				}
			}
			done(keys, nil)
		})
	})
}

// deleteGallery deletes the record of key from IndexedDB and calls done
// when its transaction commits or aborts.
func deleteGallery(key string, done func(err error)) {
	withGalleryStore("readwrite", func(store app.Value, err error) {
		if err != nil {
			done(err)
			return
		}
		onCommit(store.Get("transaction"), done)
		store.Call("delete", key) // a request that fails aborts the transaction: onCommit says why
	})
}

// withGalleryStore opens the gallery's database (creating its store on
// first use) and calls use with the store in a transaction of mode.
func withGalleryStore(mode string, use func(store app.Value, err error)) {
	idb := app.Window().Get("indexedDB")
	if !idb.Truthy() {
		use(nil, errors.New("this browser has no IndexedDB: the gallery lasts until the page is closed"))
		return
	}
	req := idb.Call("open", galleryDB, 1)
	var upgrade app.Func
	upgrade = app.FuncOf(func(this app.Value, args []app.Value) any {
		db := req.Get("result")
		if !db.Get("objectStoreNames").Call("contains", galleryStore).Bool() {
			db.Call("createObjectStore", galleryStore)
		}
		return nil
	})
	req.Set("onupgradeneeded", upgrade)
	onRequest(req, func(db app.Value, err error) {
		upgrade.Release()
		if err != nil {
			use(nil, err)
			return
		}
		store := db.Call("transaction", galleryStore, mode).Call("objectStore", galleryStore)
		use(store, nil)
	})
}

// onCommit calls done once the IndexedDB transaction tx has committed,
// or with why it aborted.
func onCommit(tx app.Value, done func(err error)) {
	var complete, abort app.Func
	release := func() { complete.Release(); abort.Release() }
	complete = app.FuncOf(func(this app.Value, args []app.Value) any {
		release()
		done(nil)
		return nil
	})
	abort = app.FuncOf(func(this app.Value, args []app.Value) any {
		release()
		msg := "IndexedDB failed: the store was aborted"
		if e := tx.Get("error"); e.Truthy() {
			msg = "IndexedDB failed: " + e.Get("message").String()
		}
		done(errors.New(msg))
		return nil
	})
	tx.Set("oncomplete", complete)
	tx.Set("onabort", abort)
}

// onRequest calls done once with the result of the IndexedDB request req,
// or with its error.
func onRequest(req app.Value, done func(result app.Value, err error)) {
	var ok, fail app.Func
	release := func() { ok.Release(); fail.Release() }
	ok = app.FuncOf(func(this app.Value, args []app.Value) any {
		release()
		done(req.Get("result"), nil)
		return nil
	})
	fail = app.FuncOf(func(this app.Value, args []app.Value) any {
		release()
		msg := "IndexedDB failed"
		if e := req.Get("error"); e.Truthy() {
			msg += ": " + e.Get("message").String()
		}
		done(nil, errors.New(msg))
		return nil
	})
	req.Set("onsuccess", ok)
	req.Set("onerror", fail)
}
