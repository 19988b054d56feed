package core

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"metriclab/core/msg"
	"metriclab/core/safetensors"
)

// ModelFormat is the Format of the model files this version writes and
// reads.
const ModelFormat = "metriclab/1"

// modelMetadataKey is the "__metadata__" entry that holds the JSON of a
// model's Metadata.
const modelMetadataKey = "metriclab"

// checkpointMetadataKey is the entry of core/job's checkpoints (its
// CheckpointFormat), named here to tell one given as a model.
const checkpointMetadataKey = "metriclab_checkpoint"

// Model is a trained encoder (and head) as stored on disk: one safetensors
// file of float32 parameters with stable names ("encoder.conv1.weight",
// "head.weight", ...), whose "__metadata__" maps "metriclab" to the JSON of
// Meta. PyTorch's safetensors loads it as is.
type Model struct {
	Meta   Metadata
	Params map[string]Tensor

	file string // the path ReadModel read, as given, for errors
}

// EncodeModel writes m to w as safetensors, with its metadata as JSON under
// "__metadata__"["metriclab"]. It sets Meta.Format to ModelFormat when it is
// empty, and refuses a spec that Spec.Validate rejects and parameters whose
// shape does not match their data before writing anything. The browser
// exports models with it; WriteModel puts its bytes in a file atomically.
func EncodeModel(w io.Writer, m *Model) error {
	if m.Meta.Format == "" {
		m.Meta.Format = ModelFormat
	}
	if err := m.Meta.Spec.Validate(); err != nil {
		return fmt.Errorf("invalid spec: %v", err)
	}
	meta, err := json.Marshal(m.Meta)
	if err != nil {
		return fmt.Errorf("encoding metadata: %v", err)
	}
	params := make(map[string]safetensors.Tensor, len(m.Params))
	for name, t := range m.Params {
		params[name] = safetensors.Tensor(t)
	}
	return safetensors.Encode(w, params, map[string]string{modelMetadataKey: string(meta)})
}

// maxLinkHops bounds the symbolic links LinkTarget follows, as Linux's
// own lookup does (40).
const maxLinkHops = 40

// LinkTarget returns the file that path names once symbolic links are
// followed, link after link (the last one may point to a file that does
// not exist yet: a shell's > would create it), or path itself when it is
// not a link. Renaming a new file onto a link would replace the link;
// writing to its target keeps it. A loop of links is an error.
func LinkTarget(path string) (string, error) {
	cur := path
	for hops := 0; ; hops++ {
		st, err := os.Lstat(cur)
		if err != nil || st.Mode()&os.ModeSymlink == 0 {
			return cur, nil
		}
		if hops == maxLinkHops {
			return "", fmt.Errorf("%s: too many levels of symbolic links", path)
		}
		target, err := os.Readlink(cur)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			dir, _ := splitRaw(cur)
			target = dir + string(filepath.Separator) + target
		}
		cur = resolveFolder(target)
	}
}

// splitRaw splits p into its folder part and last element as written,
// without cleaning (".." in the folder is the kernel's to resolve, after
// the links before it); the folder of a bare name is ".".
func splitRaw(p string) (dir, name string) {
	i := strings.LastIndexAny(p, "/"+string(filepath.Separator))
	switch {
	case i < 0:
		return ".", p
	case i == 0:
		return p[:1], p[1:]
	}
	return p[:i], p[i+1:]
}

// resolveFolder returns p with its folder part's links followed and its
// "." and ".." resolved as the kernel resolves them, after the links
// before them ("sub/../x" with sub a link to a/b is a/x); its last element
// may not exist. Where the folder cannot be resolved, p is cleaned.
func resolveFolder(p string) string {
	dir, name := splitRaw(p)
	if name == "" || name == "." || name == ".." {
		return filepath.Clean(p)
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		return filepath.Join(real, name)
	}
	return filepath.Clean(p)
}

// WriteModel writes m to path as a safetensors file, setting m.Meta.Format
// to ModelFormat when it is empty, through WriteFile: path holds either its
// old content or the whole new model. It refuses a Spec that Spec.Validate
// rejects and parameters whose shape does not match their data, before
// any file is created.
func WriteModel(path string, m *Model) error {
	// Encode to memory first so that an invalid parameter fails before any
	// file is created.
	var buf bytes.Buffer
	if err := EncodeModel(&buf, m); err != nil {
		return fmt.Errorf("%s: %v", filepath.Base(path), err)
	}
	return WriteFile(path, 0o666, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// WriteFile writes the file path through a temporary file in the same
// directory: write fills it, synced and renamed to path, and the
// directory synced where the system allows, so path holds, even after a
// crash, either its old content or the whole new one, and no temporary
// file is left behind when it fails (or write panics). Temporary files of path older than an
// hour, left by a process killed while it wrote, are removed once the file
// is in place. A path that is a symbolic link is written through: the file
// it points to gets the content (see LinkTarget). Its errors start with
// the file's name.
//
// A new file gets the permissions perm less the umask, as os.OpenFile
// gives them (0666 for models: 0644 under the usual umask 022, 0600 under
// 077); a file replaced keeps its own, within perm (a model made private
// with chmod 600 stays so).
func WriteFile(path string, perm os.FileMode, write func(w io.Writer) error) (err error) {
	target, err := LinkTarget(path)
	if err != nil {
		return fmt.Errorf("%s: %v", filepath.Base(path), err)
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	f, err := createTemp(dir, TempPrefix(base), perm)
	if err != nil {
		return fmt.Errorf("%s: %v", base, err)
	}
	tmp := f.Name()
	renamed := false // else removed, also when write panics
	defer func() {
		if !renamed {
			f.Close()
			os.Remove(tmp)
		}
		if err != nil {
			err = fmt.Errorf("%s: %v", base, err)
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if st, err := os.Stat(target); err == nil && st.Mode().IsRegular() {
		if err := f.Chmod(st.Mode().Perm() & perm); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, base)); err != nil {
		return err
	}
	renamed = true
	// Make the rename itself durable where the system allows syncing a
	// directory; the file is complete at path either way.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	removeStaleTemps(dir, base, time.Now().Add(-staleTemp))
	return nil
}

// createTemp creates a new file in dir for writing, named prefix and a
// random decimal number, as os.CreateTemp names it, but with the
// permissions perm less the umask (os.CreateTemp's are 0600).
func createTemp(dir, prefix string, perm os.FileMode) (*os.File, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) && try < 10000 {
			continue
		}
		return f, err
	}
}

// maxTempBase bounds the part of a file's name in the names of its
// temporary files: with the dot, ".tmp-" and os.CreateTemp's number (up
// to 10 digits), 200 bytes make at most 216, within the 255 bytes of a
// file name on common file systems, which the file's own name may fill.
const maxTempBase = 200

// TempPrefix is how the names of WriteFile's temporary files for base
// start (and those of a probe that a folder takes them): "."+base+".tmp-",
// base cut to its first maxTempBase bytes (at a character's start). Two
// names that share those bytes share their temporary files' prefix: each
// removes the other's stale ones.
func TempPrefix(base string) string {
	if len(base) > maxTempBase {
		n := maxTempBase
		for n > 0 && !utf8.RuneStart(base[n]) {
			n--
		}
		base = base[:n]
	}
	return "." + base + ".tmp-"
}

// staleTemp is the age past which a temporary file of WriteFile's is left
// over from a process that was killed before its rename: a write takes
// seconds.
const staleTemp = time.Hour

// removeStaleTemps removes the temporary files of WriteFile for base in
// dir last changed before cutoff: regular files named as os.CreateTemp
// names them, "."+base+".tmp-" and its random decimal number, so that a
// file of the user's that merely starts so (".m.safetensors.tmp-old") stays.
func removeStaleTemps(dir, base string, cutoff time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), TempPrefix(base))
		if !ok || !isDecimal(rest) || !e.Type().IsRegular() {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// isDecimal reports whether s is a non-empty string of ASCII digits.
func isDecimal(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// ReadModel reads and validates a model file written by WriteModel. Its
// errors start with path, as given, and say whether the file is not a
// safetensors file, has no metriclab metadata (or metadata that gives a
// key twice, at any depth: msg.CheckKeys), has a Format other than
// ModelFormat, or has a Spec that Spec.Validate rejects (unknown
// architecture, Dim outside msg.MinDim..msg.MaxDim, a bad input shape or normalisation).
func ReadModel(path string) (*Model, error) {
	name := path
	f, err := os.Open(path)
	if err != nil {
		return nil, err // The *PathError names the file.
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: a folder, not a model file", name)
	}
	// Under the 8 bytes of a header length, the decoder's error would be
	// "safetensors: reading header length: file is truncated", of a file
	// that is no model at all (an empty one, a download that failed).
	switch {
	case st.Size() == 0:
		return nil, fmt.Errorf("%s: an empty file, not a model file", name)
	case st.Size() < 8:
		return nil, fmt.Errorf("%s: not a valid safetensors file: %s, under the 8 of its header length", name, msg.Plural(int(st.Size()), "byte", "bytes"))
	}
	return decodeModel(f, st.Size(), name)
}

// DecodeModel reads and validates a model from r, the bytes of a model
// file written by EncodeModel or WriteModel (the browser's models come as
// bytes, not files). It checks what ReadModel checks, with errors that start
// with "model:" instead of a file name.
func DecodeModel(r io.Reader) (*Model, error) { return decodeModel(r, 0, "model") }

// decodeModel decodes and validates a model of at most limit bytes (≤ 0:
// safetensors.DefaultLimit) from r; errors start with name.
func decodeModel(r io.Reader, limit int64, name string) (*Model, error) {
	tensors, metadata, err := safetensors.Decode(r, limit)
	if err != nil {
		// The decoder's errors start "safetensors: ", which the line says
		// once already.
		why := strings.TrimPrefix(err.Error(), "safetensors: ")
		// Over the limit with a header length over any header's (a text
		// file's first bytes make one of exabytes), the file is no
		// safetensors file at all; with a plausible one, and the limit
		// ReadModel's, the file's size, it is shorter than its header says.
		if le := (*safetensors.LimitError)(nil); errors.As(err, &le) {
			switch {
			case safetensors.ImageKind(le.HeaderLength) != "":
				why = fmt.Sprintf("a %s image, not a model file", safetensors.ImageKind(le.HeaderLength))
			case le.HeaderLength > safetensors.MaxHeader:
				why = fmt.Sprintf("its first 8 bytes give a header length of %d bytes, more than any model's (%d at most): is it a model file?", le.HeaderLength, safetensors.MaxHeader)
			case limit > 0:
				why = fmt.Sprintf("truncated: its header asks for more than its %d bytes", limit)
			}
		}
		return nil, fmt.Errorf("%s: not a valid safetensors file: %s", name, why)
	}
	raw, ok := metadata[modelMetadataKey]
	if _, ckpt := metadata[checkpointMetadataKey]; !ok && ckpt {
		return nil, fmt.Errorf("%s: a training job's checkpoint, not a model: its model is registered when the job ends (resume the job to end it)", name)
	}
	if !ok {
		return nil, fmt.Errorf("%s: no %q entry in the safetensors metadata: not a metriclab model", name, modelMetadataKey)
	}
	m := &Model{Params: make(map[string]Tensor, len(tensors)), file: name}
	if err := json.Unmarshal([]byte(raw), &m.Meta); err != nil {
		return nil, fmt.Errorf("%s: metriclab metadata is not valid: %v", name, err)
	}
	// json.Unmarshal keeps the last of a key given twice, in loss_params
	// as anywhere: such a file says two things (checked after Unmarshal,
	// which bounds the nesting).
	if err := msg.CheckKeys([]byte(raw)); err != nil {
		return nil, fmt.Errorf("%s: metriclab metadata is not valid: %v", name, err)
	}
	if m.Meta.Format != ModelFormat {
		return nil, fmt.Errorf("%s: model format %q is not supported (want %q)", name, m.Meta.Format, ModelFormat)
	}
	if err := m.Meta.Spec.Validate(); err != nil {
		return nil, fmt.Errorf("%s: invalid spec: %v", name, err)
	}
	for k, t := range tensors {
		m.Params[k] = Tensor(t)
	}
	return m, nil
}

// Check returns an error unless m has exactly the parameters of want, each
// with its shape. The error names the first mismatch, trying the names of
// want in sorted order, then m's unexpected names in sorted order:
//
//	model.safetensors: encoder.fc2.weight has shape [3 64], want [16 64]
func (m *Model) Check(want map[string][]int) error {
	name := m.file
	if name == "" {
		name = "model"
	}
	names := make([]string, 0, len(want))
	for k := range want {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t, ok := m.Params[k]
		switch {
		case !ok:
			return fmt.Errorf("%s: %s is missing, want shape %v", name, k, want[k])
		case !slices.Equal(t.Shape, want[k]):
			return fmt.Errorf("%s: %s has shape %v, want %v", name, k, t.Shape, want[k])
		}
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if len(t.Data) != n {
			return fmt.Errorf("%s: %s has %d values, its shape %v needs %d", name, k, len(t.Data), t.Shape, n)
		}
	}
	var extra []string
	for k := range m.Params {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("%s: unexpected parameter %s (shape %v)", name, extra[0], m.Params[extra[0]].Shape)
	}
	return nil
}

// MaxClassName bounds a class name in a model's metadata, in bytes.
const MaxClassName = 4096

// CheckClassNames returns an error unless the class names are distinct,
// non-empty, valid UTF-8 without control characters and at most
// MaxClassName bytes: what a model's metadata may hold (Validate), so
// what a training job may name its classes. Its errors number a class
// from 0, as --classes and the model's head do.
func CheckClassNames(names []string) error {
	seen := make(map[string]bool, len(names))
	for i, cl := range names {
		switch {
		case cl == "":
			return fmt.Errorf("class %d has no name", i)
		case len(cl) > MaxClassName:
			return fmt.Errorf("class %d's name is %d bytes long, more than %d", i, len(cl), MaxClassName)
		case !utf8.ValidString(cl) || strings.ContainsFunc(cl, unicode.IsControl):
			return fmt.Errorf("class %d's name %q is not printable text", i, cl)
		case seen[cl]:
			return fmt.Errorf("class %q is named twice", cl)
		}
		seen[cl] = true
	}
	return nil
}

// maxParam bounds the magnitude of a model's parameters, and maxParam² a
// batch norm's running variance (the square of a scale): Validate refuses
// a file beyond them. Trained models stay orders of magnitude below
// (measured on MNIST, two epochs): lenet-s with softmax and embed_bn
// learns values up to 1.8, with a running mean of 42 and a running
// variance of 2.1e3; mlp with arcface up to 2.1; a lenet-s run that
// diverged to chance (SGD at lr 0.1) up to 2.8e3. Far beyond, the float32
// forward pass (largest value 3.4e38) breaks: one weight of 1e30 makes an
// mlp's embeddings +Inf, and past 1.8e19 a value's square (a norm, a
// variance) overflows. No bound keeps every file's embeddings finite (a
// deep net multiplies its layers' gains); this one refuses the values no
// training gives, before they are stored. It is the bound of an input
// normalisation (maxInputNorm), for the same reason.
const maxParam = 1e6

// maxFARLevels bounds the TAR@FAR entries of a model's metrics: training
// measures three (eval.FARLevels); a file's header, of up to 100 MB, could
// otherwise give a card millions.
const maxFARLevels = 16

// checkMetrics returns an error unless v, when not nil, is a verification
// a held-out set can give: its rates (accuracy, EER, FAR, each TAR and
// the nearest-centre accuracy) in [0, 1], a finite threshold (unbounded,
// as Metadata.Threshold), and at most maxFARLevels TAR entries, each at a
// FAR in (0, 1] written as a number (eval.FARKey).
func checkMetrics(v *msg.VerificationSummary) error {
	if v == nil {
		return nil
	}
	if t := v.Threshold; math.IsNaN(t) || math.IsInf(t, 0) {
		return fmt.Errorf("threshold %v is not a finite number", t)
	}
	for _, r := range []struct {
		what string
		x    float64
	}{{"accuracy", v.Accuracy}, {"EER", v.EER}, {"false accept rate", v.FAR}, {"nearest-centre accuracy", v.Centre}} {
		if !(r.x >= 0 && r.x <= 1) {
			return fmt.Errorf("%s %v out of range [0, 1]", r.what, r.x)
		}
	}
	if len(v.TARAtFAR) > maxFARLevels {
		return fmt.Errorf("%d TAR@FAR levels: want at most %d", len(v.TARAtFAR), maxFARLevels)
	}
	levels := make([]string, 0, len(v.TARAtFAR))
	for k := range v.TARAtFAR {
		levels = append(levels, k)
	}
	sort.Strings(levels)
	for _, k := range levels {
		if far, err := strconv.ParseFloat(k, 64); err != nil || !(far > 0 && far <= 1) {
			return fmt.Errorf("TAR@FAR level %q is not a false accept rate in (0, 1]", k)
		}
		if x := v.TARAtFAR[k]; !(x >= 0 && x <= 1) {
			return fmt.Errorf("TAR %v at FAR %s out of range [0, 1]", x, k)
		}
	}
	return nil
}

// Validate returns an error, one line fit to show a user, unless m is a
// model this program can use: a valid spec (ReadModel checked it), exactly
// the encoder parameters of the spec with their shapes and, for a head,
// head.weight of one row per class and D columns and head.bias (when
// there is one) of one value per class (with views, every view's under
// its prefix); only finite values, within ±maxParam (running variances
// within [0, maxParam²]); a finite
// threshold and a false accept rate in [0, 1]; metrics, when present,
// that a held-out set can give (checkMetrics); class names that pass
// CheckClassNames; and, given checkLoss, its loss (package core does
// not know the losses: losses.New does).
func (m *Model) Validate(checkLoss func(name string, dim int, params map[string]float64) error) error {
	name := cmp.Or(m.file, "model")
	want := m.Meta.Spec.ParamShapes()
	c := len(m.Meta.Classes)
	// A head of other classes than the metadata names (class names
	// edited by hand, say) is refused saying where its rows come from.
	classes := msg.Plural(c, "class", "classes")
	for _, v := range m.Meta.Spec.viewPrefixes() {
		if t, ok := m.Params[v+"head.weight"]; ok {
			want[v+"head.weight"] = []int{c, m.Meta.Spec.Dim}
			if len(t.Shape) == 2 && t.Shape[1] == m.Meta.Spec.Dim && t.Shape[0] != c {
				return fmt.Errorf("%s: %shead.weight has shape %v, want %v: one row per class, and its metadata names %s", name, v, t.Shape, want[v+"head.weight"], classes)
			}
		}
		if t, ok := m.Params[v+"head.bias"]; ok {
			want[v+"head.bias"] = []int{c}
			if len(t.Shape) == 1 && t.Shape[0] != c {
				return fmt.Errorf("%s: %shead.bias has shape %v, want %v: one value per class, and its metadata names %s", name, v, t.Shape, want[v+"head.bias"], classes)
			}
		}
	}
	if err := m.Check(want); err != nil {
		return err
	}
	names := make([]string, 0, len(m.Params))
	for k := range m.Params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		lo, hi := -maxParam, maxParam
		if strings.HasSuffix(k, ".running_var") {
			// A variance: the square of a scale, and never below 0 (the
			// batch norm's 1/√(var + ε) of one is NaN).
			lo, hi = 0, maxParam*maxParam
		}
		for _, v := range m.Params[k].Data {
			switch a := float64(v); {
			case math.IsNaN(a) || math.IsInf(a, 0):
				return fmt.Errorf("%s: %s holds a value that is not finite", name, k)
			case a < lo || a > hi:
				return fmt.Errorf("%s: %s holds %g: want values in [%g, %g]", name, k, v, lo, hi)
			}
		}
	}
	// Not bounded to [−1, 1]: a held-out set that no threshold separates
	// better than chance is best served by accepting every pair, which
	// eval.BestThreshold gives as a threshold below every score.
	if t := m.Meta.Threshold; math.IsNaN(t) || math.IsInf(t, 0) {
		return fmt.Errorf("%s: threshold %v is not a finite number", name, t)
	}
	if s := m.Meta.Provenance.Steps; s < 0 {
		return fmt.Errorf("%s: %d training steps: want ≥ 0", name, s)
	}
	if f := m.Meta.FAR; !(f >= 0 && f <= 1) {
		return fmt.Errorf("%s: false accept rate %v out of range [0, 1]", name, f)
	}
	if err := checkMetrics(m.Meta.Metrics); err != nil {
		return fmt.Errorf("%s: metrics: %v", name, err)
	}
	if err := CheckClassNames(m.Meta.Classes); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	if checkLoss != nil {
		if err := checkLoss(m.Meta.Loss, m.Meta.Spec.Dim, m.Meta.LossParams); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	return nil
}
