package core

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"metriclab/core/msg"
	"metriclab/core/safetensors"
)

// modelFixture returns a small model with every metadata field set.
func modelFixture() *Model {
	return &Model{
		Meta: Metadata{
			Spec:       Spec{Arch: "mlp", Input: MNISTInput, Dim: 3},
			Loss:       "arcface",
			LossParams: map[string]float64{"s": 30, "m": 0.5},
			Classes:    []string{"0", "1", "zoë <&>"},
			Threshold:  0.42,
			FAR:        0.001,
			Provenance: Provenance{Data: "mnist", Epochs: 2, Batch: 64, LR: 0.01, Optimizer: "sgd", Seed: -7, Steps: 1875, Created: "2026-01-02T03:04:05Z", Version: "test"},
		},
		Params: map[string]Tensor{
			"encoder.fc1.weight": {Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, 1e-20, -3e30}},
			"encoder.fc1.bias":   {Shape: []int{2}, Data: []float32{0.25, -0.25}},
			"head.weight":        {Shape: []int{3, 3}, Data: []float32{1, 0, 0, 0, 1, 0, 0, 0, 1}},
		},
	}
}

// modelDirNames lists the names in dir, for checking that no temporary file is
// left behind.
func modelDirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestModelRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	m := modelFixture()
	if err := WriteModel(path, m); err != nil {
		t.Fatal(err)
	}
	if m.Meta.Format != ModelFormat {
		t.Errorf("WriteModel left Format %q, want %q", m.Meta.Format, ModelFormat)
	}
	got, err := ReadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Meta, m.Meta) {
		t.Errorf("Meta = %+v\nwant %+v", got.Meta, m.Meta)
	}
	if !reflect.DeepEqual(got.Params, m.Params) {
		t.Errorf("Params = %v\nwant %v", got.Params, m.Params)
	}
	if names := modelDirNames(t, dir); !reflect.DeepEqual(names, []string{"model.safetensors"}) {
		t.Errorf("directory holds %q, want only model.safetensors", names)
	}
	if runtime.GOOS != "js" {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("model file mode %v (%v), want 0644", st.Mode().Perm(), err)
		}
	}

	// The file is plain safetensors: the metadata is one JSON string under
	// "metriclab" and the tensors are there under their names.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tensors, meta, err := safetensors.Decode(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(meta) != 1 || !strings.HasPrefix(meta["metriclab"], `{"format":"metriclab/1","spec":{"arch":"mlp"`) {
		t.Errorf("safetensors metadata %q, want one metriclab JSON entry", meta)
	}
	if len(tensors) != 3 || !reflect.DeepEqual(tensors["head.weight"].Data, m.Params["head.weight"].Data) {
		t.Errorf("safetensors tensors %v", tensors)
	}

	// Writing again replaces the file.
	m.Meta.Threshold = 0.9
	if err := WriteModel(path, m); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadModel(path); err != nil || got.Meta.Threshold != 0.9 {
		t.Errorf("after rewrite: Threshold %v, error %v; want 0.9", got.Meta.Threshold, err)
	}
}

// TestWriteModelAtomic checks that a failed write leaves neither a partial
// model nor a temporary file, and keeps the model that was there.
func TestWriteModelAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := WriteModel(path, modelFixture()); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	bad := modelFixture()
	bad.Params["head.weight"] = Tensor{Shape: []int{3, 3}, Data: []float32{1}}
	if err := WriteModel(path, bad); err == nil || !strings.HasPrefix(err.Error(), "m.safetensors: ") {
		t.Errorf("WriteModel of a bad tensor: error %v, want one starting with the file name", err)
	}
	badSpec := modelFixture()
	badSpec.Meta.Spec.Dim = 1
	if err := WriteModel(path, badSpec); err == nil || !strings.Contains(err.Error(), "invalid spec") {
		t.Errorf("WriteModel of a bad spec: error %v, want invalid spec", err)
	}
	// The rename fails when path is a directory.
	sub := filepath.Join(dir, "sub.safetensors")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteModel(sub, modelFixture()); err == nil {
		t.Error("WriteModel over a directory succeeded")
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, before) {
		t.Errorf("failed writes changed the existing model (%v)", err)
	}
	if names := modelDirNames(t, dir); !reflect.DeepEqual(names, []string{"m.safetensors", "sub.safetensors"}) {
		t.Errorf("directory holds %q after failed writes, want no temporary files", names)
	}

	if err := WriteModel(filepath.Join(dir, "missing", "m.safetensors"), modelFixture()); err == nil {
		t.Error("WriteModel into a missing directory succeeded")
	}

	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.WriteFile(filepath.Join(ro, "probe"), nil, 0o644) == nil {
		t.Log("read-only directory is writable here (root?): skipping that case")
		return
	}
	if err := WriteModel(filepath.Join(ro, "m.safetensors"), modelFixture()); err == nil {
		t.Error("WriteModel into a read-only directory succeeded")
	}
	if names := modelDirNames(t, ro); len(names) != 0 {
		t.Errorf("read-only directory holds %q", names)
	}
}

// TestWriteFile: a file that is not a model (the server's precompressed
// binaries) is replaced whole, its mode kept (TestWriteFileMode); a write that fails
// midway keeps the old content and leaves no temporary file.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.wasm.gz")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, 0o644, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "new" {
		t.Errorf("after WriteFile: %q, %v; want new", b, err)
	}
	if fi, err := os.Stat(path); runtime.GOOS != "windows" && (err != nil || fi.Mode().Perm() != 0o600) {
		t.Errorf("after WriteFile: mode %v, %v; want 0600, the file's replaced", fi.Mode(), err)
	}
	cut := func(w io.Writer) error {
		io.WriteString(w, "half")
		return io.ErrUnexpectedEOF
	}
	if err := WriteFile(path, 0o644, cut); err == nil || !strings.HasPrefix(err.Error(), "app.wasm.gz: ") {
		t.Errorf("a write cut midway: error %v, want one starting with the file name", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("after a cut write: %q, want the content before it", b)
	}
	if names := modelDirNames(t, dir); !reflect.DeepEqual(names, []string{"app.wasm.gz"}) {
		t.Errorf("directory holds %q after a cut write, want no temporary file", names)
	}
}

// TestWriteFilePanic: a write that panics goes on panicking, and leaves
// the old content and no temporary file (it was left, and open).
func TestWriteFilePanic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.wasm.gz")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var tmp io.Writer
	func() {
		defer func() {
			if p := recover(); p != "encoder panicked" {
				t.Errorf("recovered %v, want the write's panic", p)
			}
		}()
		WriteFile(path, 0o644, func(w io.Writer) error {
			tmp = w
			io.WriteString(w, "half")
			panic("encoder panicked")
		})
	}()
	if _, err := tmp.Write([]byte("more")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("the temporary file after the panic: a write gave %v, want it closed", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("after a write that panicked: %q, want the content before it", b)
	}
	if names := modelDirNames(t, dir); !reflect.DeepEqual(names, []string{"app.wasm.gz"}) {
		t.Errorf("directory holds %q after a write that panicked, want no temporary file", names)
	}
}

// TestWriteFileLongName writes a file of a 250-byte name, within the
// 255 bytes of a file name: its temporary file, named after it, was
// longer than that, and the write failed, "file name too long", of a name
// the file system takes. A stale temporary file of it is removed too.
func TestWriteFileLongName(t *testing.T) {
	dir := t.TempDir()
	name := strings.Repeat("é", 119) + ".safetensors" // 250 bytes, a letter of two cut at the bound
	write := func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }
	if err := WriteFile(filepath.Join(dir, name), 0o644, write); err != nil {
		t.Fatal(err)
	}
	p := TempPrefix(name)
	if len(p)+10 > 255 || !utf8.ValidString(p) {
		t.Errorf("temporary name %q: %d bytes with its number's 10, want at most 255, valid UTF-8", p, len(p)+10)
	}
	stale := filepath.Join(dir, p+"123")
	if err := os.WriteFile(stale, []byte("part"), 0o600); err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, then, then); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, name), 0o644, write); err != nil {
		t.Fatal(err)
	}
	if names := modelDirNames(t, dir); !reflect.DeepEqual(names, []string{name}) {
		t.Errorf("directory holds %q, want the file alone", names)
	}
}

// TestWriteModelThroughLink writes models to symbolic links: to one that
// points to a model in another folder (by a relative path), and to a
// dangling one. The links stay links, and their targets get the models.
func TestWriteModelThroughLink(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	if err := os.Mkdir(store, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(store, "v1.safetensors")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	link, dangling := filepath.Join(dir, "current.safetensors"), filepath.Join(dir, "next.safetensors")
	if err := os.Symlink(filepath.Join("store", "v1.safetensors"), link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if err := os.Symlink(filepath.Join("store", "v2.safetensors"), dangling); err != nil {
		t.Fatal(err)
	}
	if got, err := LinkTarget(filepath.Join(dir, "plain")); got != filepath.Join(dir, "plain") || err != nil {
		t.Errorf("LinkTarget of a path that is not there: %q, %v", got, err)
	}
	// A chain of links whose last one dangles, through a folder that is
	// itself reached by a link: hop → ../store/v3.safetensors from out/,
	// where out is a link to deep/er.
	deep := filepath.Join(dir, "deep", "er")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("deep", "er"), filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("hop", filepath.Join(deep, "chain")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "..", "store", "v3.safetensors"), filepath.Join(deep, "hop")); err != nil {
		t.Fatal(err)
	}
	// ".." after a link to a folder is the link's target's parent, as the
	// kernel reads it: weird → sub/../w.safetensors, sub → other/deep.
	if err := os.MkdirAll(filepath.Join(dir, "other", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("other", "deep"), filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/../w.safetensors", filepath.Join(dir, "weird.safetensors")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ link, target string }{
		{link, target},
		{dangling, filepath.Join(store, "v2.safetensors")},
		{filepath.Join(dir, "out", "chain"), filepath.Join(store, "v3.safetensors")},
		{filepath.Join(dir, "weird.safetensors"), filepath.Join(dir, "other", "w.safetensors")},
	} {
		if err := WriteModel(c.link, modelFixture()); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(c.link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link after WriteModel (%v)", filepath.Base(c.link), err)
		}
		if m, err := ReadModel(c.target); err != nil || !reflect.DeepEqual(m.Meta.Spec, modelFixture().Meta.Spec) {
			t.Errorf("the link's target %s: %v, want the model", filepath.Base(c.target), err)
		}
	}
	if names := modelDirNames(t, store); !reflect.DeepEqual(names, []string{"v1.safetensors", "v2.safetensors", "v3.safetensors"}) {
		t.Errorf("the links' folder holds %q, want the three models and no temporary file", names)
	}
	// A loop is refused, and both links stay.
	a, b := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors")
	if err := os.Symlink("b.safetensors", a); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.safetensors", b); err != nil {
		t.Fatal(err)
	}
	if err := WriteModel(a, modelFixture()); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Errorf("WriteModel into a loop of links: %v, want too many levels of symbolic links", err)
	}
	for _, l := range []string{a, b} {
		if st, err := os.Lstat(l); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link (%v)", filepath.Base(l), err)
		}
	}
}

// TestWriteModelRemovesStaleTemps leaves temporary files of a model as a
// killed process would, one of two hours ago and one of now (a write in
// progress elsewhere), one of another model, and two old files of the
// user's named like them (nothing after "tmp-", or something after the
// number): writing the model removes the old temporary file alone.
func TestWriteModelRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	old, fresh, other := ".m.safetensors.tmp-111", ".m.safetensors.tmp-222", ".n.safetensors.tmp-333"
	mine, mine2 := ".m.safetensors.tmp-", ".m.safetensors.tmp-444.bak"
	for _, name := range []string{old, fresh, other, mine, mine2} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("part"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	then := time.Now().Add(-2 * time.Hour)
	for _, name := range []string{old, other, mine, mine2} {
		if err := os.Chtimes(filepath.Join(dir, name), then, then); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteModel(filepath.Join(dir, "m.safetensors"), modelFixture()); err != nil {
		t.Fatal(err)
	}
	if names := modelDirNames(t, dir); !reflect.DeepEqual(names, []string{mine, fresh, mine2, other, "m.safetensors"}) {
		t.Errorf("the folder holds %q, want the user's two files, the fresh temporary file, the other model's and the model", names)
	}
}

// TestReadModelErrors writes broken model files and checks each error,
// which starts with the file's path (it named the base name alone, of a
// file in any folder).
func TestReadModelErrors(t *testing.T) {
	dir := t.TempDir()
	params := map[string]safetensors.Tensor{"head.weight": {Shape: []int{1}, Data: []float32{1}}}
	encode := func(meta map[string]string) []byte {
		var buf bytes.Buffer
		if err := safetensors.Encode(&buf, params, meta); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	valid := `{"format":"metriclab/1","spec":{"arch":"mlp","input":{"channels":1,"height":28,"width":28,"mean":0.1,"std":0.3},"dim":3}}`
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"text.safetensors", []byte("hello, this is not a model"), "text.safetensors: not a valid safetensors file: its first 8 bytes give a header length of 8367736964726416744 bytes, more than any model's (104857600 at most): is it a model file?"},
		// An image given as --model (eval --model face.png, meant for
		// --data): before, "its first 8 bytes give a header length of
		// 727905341920923785 bytes, …: is it a model file?".
		{"face.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "face.png: not a valid safetensors file: a PNG image, not a model file"},
		{"face.jpg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "face.jpg: not a valid safetensors file: a JPEG image, not a model file"},
		// Before, "not a valid safetensors file: safetensors: reading
		// header length: file is truncated", of a file that is no model.
		{"empty.safetensors", nil, "empty.safetensors: an empty file, not a model file"},
		{"short.safetensors", []byte("hello\n"), "short.safetensors: not a valid safetensors file: 6 bytes, under the 8 of its header length"},
		{"truncated.safetensors", encode(map[string]string{"metriclab": valid})[:60], "truncated.safetensors: not a valid safetensors file: truncated: its header asks for more than its 60 bytes"},
		{"cut.safetensors", encode(map[string]string{"metriclab": valid})[:len(encode(map[string]string{"metriclab": valid}))-2], "cut.safetensors: not a valid safetensors file: truncated: its header asks for more than its "},
		// The decoder's errors: before, "not a valid safetensors file:
		// safetensors: header is not valid JSON: …", the package named twice.
		{"garbage.safetensors", append([]byte{9, 0, 0, 0, 0, 0, 0, 0}, "{not json"...), "garbage.safetensors: not a valid safetensors file: header is not valid JSON"},
		{"after.safetensors", append(encode(nil), 0), "after.safetensors: not a valid safetensors file: bytes after the end of the data buffer"},
		{"plain.safetensors", encode(nil), `plain.safetensors: no "metriclab" entry in the safetensors metadata`},
		{"other.safetensors", encode(map[string]string{"format": "pt"}), `other.safetensors: no "metriclab" entry`},
		{"json.safetensors", encode(map[string]string{"metriclab": "{not json"}), "json.safetensors: metriclab metadata is not valid"},
		{"format.safetensors", encode(map[string]string{"metriclab": strings.Replace(valid, "metriclab/1", "metriclab/2", 1)}), `format.safetensors: model format "metriclab/2" is not supported (want "metriclab/1")`},
		{"noformat.safetensors", encode(map[string]string{"metriclab": `{"spec":{}}`}), `noformat.safetensors: model format "" is not supported`},
		{"dim.safetensors", encode(map[string]string{"metriclab": strings.Replace(valid, `"dim":3`, `"dim":513`, 1)}), "dim.safetensors: invalid spec: "},
		{"dim1.safetensors", encode(map[string]string{"metriclab": strings.Replace(valid, `"dim":3`, `"dim":1`, 1)}), "dim1.safetensors: invalid spec: "},
		{"input.safetensors", encode(map[string]string{"metriclab": strings.Replace(valid, `"height":28`, `"height":0`, 1)}), "input.safetensors: invalid spec: "},
		{"channels.safetensors", encode(map[string]string{"metriclab": strings.Replace(valid, `"channels":1`, `"channels":-1`, 1)}), "channels.safetensors: invalid spec: "},
		// A key given twice would keep its last value, nested as well as at
		// the top level (json.Unmarshal's way; the safetensors header's own
		// keys are refused so by package safetensors).
		{"twice.safetensors", encode(map[string]string{"metriclab": strings.Replace(valid, `"dim":3}`, `"dim":3},"loss":"arcface","loss":"softmax"`, 1)}), `twice.safetensors: metriclab metadata is not valid: key "loss" appears twice`},
		{"case.safetensors", encode(map[string]string{"metriclab": strings.Replace(valid, `"format"`, `"FORMAT":"metriclab/1","format"`, 1)}), `case.safetensors: metriclab metadata is not valid: keys "FORMAT" and "format" differ only in case`},
		{"params.safetensors", encode(map[string]string{"metriclab": strings.Replace(valid, `"dim":3}`, `"dim":3},"loss_params":{"s":30,"m":0.5,"s":64}`, 1)}), `params.safetensors: metriclab metadata is not valid: key "s" appears twice in loss_params`},
		{"input2.safetensors", encode(map[string]string{"metriclab": strings.Replace(valid, `"std":0.3`, `"std":0.3,"std":0.5`, 1)}), `input2.safetensors: metriclab metadata is not valid: key "std" appears twice in spec.input`},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.file, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := ReadModel(path)
		if want := filepath.Join(dir, tc.want); err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: ReadModel error %v, want one line starting with %q", tc.name, err, want)
		}
		if m != nil {
			t.Errorf("%s: ReadModel returned a model with its error", tc.name)
		}
	}

	// The valid metadata above is accepted, so the cases fail for the
	// reason they name.
	path := filepath.Join(dir, "ok.safetensors")
	if err := os.WriteFile(path, encode(map[string]string{"metriclab": valid}), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadModel(path); err != nil {
		t.Errorf("valid file: %v", err)
	}
	if _, err := ReadModel(filepath.Join(dir, "absent.safetensors")); err == nil || !strings.Contains(err.Error(), "absent.safetensors") {
		t.Errorf("missing file: error %v, want one naming it", err)
	}
	// A folder: before, "run1: not a valid safetensors file: safetensors:
	// reading header length: read …/run1: is a directory".
	folder := filepath.Join(dir, "run1")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadModel(folder); err == nil || err.Error() != folder+": a folder, not a model file" {
		t.Errorf("folder: error %v, want %q", err, folder+": a folder, not a model file")
	}
}

func TestModelCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	m := &Model{
		Meta: Metadata{Spec: Spec{Arch: "mlp", Input: MNISTInput, Dim: 16}},
		Params: map[string]Tensor{
			"encoder.fc2.weight": {Shape: []int{3, 64}, Data: make([]float32, 3*64)},
			"encoder.fc2.bias":   {Shape: []int{3}, Data: make([]float32, 3)},
		},
	}
	if err := WriteModel(path, m); err != nil {
		t.Fatal(err)
	}
	read, err := ReadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		want map[string][]int
		err  string
	}{
		{map[string][]int{"encoder.fc2.weight": {3, 64}, "encoder.fc2.bias": {3}}, ""},
		{map[string][]int{"encoder.fc2.weight": {16, 64}, "encoder.fc2.bias": {3}}, "model.safetensors: encoder.fc2.weight has shape [3 64], want [16 64]"},
		// Names are tried in sorted order: the bias comes first.
		{map[string][]int{"encoder.fc2.weight": {16, 64}, "encoder.fc2.bias": {16}}, "model.safetensors: encoder.fc2.bias has shape [3], want [16]"},
		{map[string][]int{"encoder.fc2.weight": {3, 64}, "encoder.fc2.bias": {3}, "head.weight": {10, 3}}, "model.safetensors: head.weight is missing, want shape [10 3]"},
		{map[string][]int{"encoder.fc2.weight": {3, 64}}, "model.safetensors: unexpected parameter encoder.fc2.bias (shape [3])"},
		{map[string][]int{"encoder.fc2.weight": {3, 64, 1}, "encoder.fc2.bias": {3}}, "model.safetensors: encoder.fc2.weight has shape [3 64], want [3 64 1]"},
	} {
		err := read.Check(tc.want)
		if tc.err != "" {
			tc.err = filepath.Join(dir, tc.err)
		}
		if got := modelErrString(err); got != tc.err {
			t.Errorf("Check(%v) = %q, want %q", tc.want, got, tc.err)
		}
	}

	// A model built in memory has no file name, and its data must fill its
	// shape.
	m.Params["encoder.fc2.bias"] = Tensor{Shape: []int{3}, Data: make([]float32, 2)}
	err = m.Check(map[string][]int{"encoder.fc2.weight": {3, 64}, "encoder.fc2.bias": {3}})
	if got, want := modelErrString(err), "model: encoder.fc2.bias has 2 values, its shape [3] needs 3"; got != want {
		t.Errorf("Check = %q, want %q", got, want)
	}
}

func modelErrString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestModelValidate: a model of mlp's parameters with a two-class head is
// valid; each corruption below, as an upload could carry it, is refused
// with the error named.
func TestModelValidate(t *testing.T) {
	valid := func() *Model {
		spec := Spec{Arch: "mlp", Input: MNISTInput, Dim: 3}
		m := &Model{Meta: Metadata{Spec: spec, Loss: "arcface", Classes: []string{"a", "b"}, Threshold: 0.3, FAR: 0.01},
			Params: map[string]Tensor{"head.weight": {Shape: []int{2, 3}, Data: make([]float32, 6)}}}
		for name, shape := range spec.ParamShapes() {
			n := 1
			for _, d := range shape {
				n *= d
			}
			m.Params[name] = Tensor{Shape: shape, Data: make([]float32, n)}
		}
		return m
	}
	var gotLoss string
	checkLoss := func(name string, dim int, params map[string]float64) error {
		gotLoss = fmt.Sprintf("%s %d", name, dim)
		if name != "arcface" {
			return fmt.Errorf("unknown loss %q", name)
		}
		return nil
	}
	if err := valid().Validate(checkLoss); err != nil || gotLoss != "arcface 3" {
		t.Fatalf("valid model: %v (loss checked: %q)", err, gotLoss)
	}
	// Accept every pair, or none: thresholds below and above every cosine
	// (eval.BestThreshold's, on held-out pairs that nothing separates
	// better than chance), which training writes.
	for _, th := range []float64{-1.915, 2.5} {
		m := valid()
		m.Meta.Threshold = th
		if err := m.Validate(nil); err != nil {
			t.Errorf("threshold %g: %v", th, err)
		}
	}
	withBias := valid()
	withBias.Params["head.bias"] = Tensor{Shape: []int{2}, Data: []float32{0, 1}}
	if err := withBias.Validate(nil); err != nil {
		t.Errorf("a head.bias of one value a class: %v", err)
	}
	// At the bound, values pass; a batch norm's running variance, the
	// square of a scale, may reach the bound's square.
	atBound := valid()
	atBound.Params["encoder.fc1.weight"].Data[0] = -1e6 // maxParam
	atBound.Params["head.weight"].Data[1] = 1e6
	if err := atBound.Validate(nil); err != nil {
		t.Errorf("values at ±1e6: %v", err)
	}
	bn := valid()
	bn.Meta.Spec.EmbedBN = true
	for name, shape := range bn.Meta.Spec.ParamShapes() {
		if _, ok := bn.Params[name]; !ok {
			bn.Params[name] = Tensor{Shape: shape, Data: make([]float32, shape[0])}
		}
	}
	bn.Params["encoder.features.running_var"].Data[0] = 1e12
	if err := bn.Validate(nil); err != nil {
		t.Errorf("a running variance of 1e12: %v", err)
	}
	bn.Params["encoder.features.running_var"].Data[1] = 2e12
	if err := bn.Validate(nil); err == nil || !strings.Contains(err.Error(), "encoder.features.running_var holds 2e+12: want values in [0, 1e+12]") {
		t.Errorf("a running variance of 2e12: %v", err)
	}
	bn.Params["encoder.features.running_var"].Data[1] = 1
	bn.Params["encoder.features.running_mean"].Data[0] = 2e6
	if err := bn.Validate(nil); err == nil || !strings.Contains(err.Error(), "encoder.features.running_mean holds 2e+06") {
		t.Errorf("a running mean of 2e6: %v", err)
	}
	for _, tc := range []struct {
		name    string
		corrupt func(m *Model)
		want    string
	}{
		// A head of other classes than the metadata's says where the
		// rows it wants come from (it said "want [2 3]" alone).
		{"head.bias of 1", func(m *Model) { m.Params["head.bias"] = Tensor{Shape: []int{1}, Data: []float32{0}} }, "model: head.bias has shape [1], want [2]: one value per class, and its metadata names 2 classes"},
		{"head.weight of 3 rows", func(m *Model) { m.Params["head.weight"] = Tensor{Shape: []int{3, 3}, Data: make([]float32, 9)} }, "model: head.weight has shape [3 3], want [2 3]: one row per class, and its metadata names 2 classes"},
		{"one class named", func(m *Model) { m.Meta.Classes = m.Meta.Classes[:1] }, "model: head.weight has shape [2 3], want [1 3]: one row per class, and its metadata names 1 class"},
		{"head.weight flat", func(m *Model) { m.Params["head.weight"] = Tensor{Shape: []int{6}, Data: make([]float32, 6)} }, "head.weight has shape [6], want [2 3]"},
		{"other head tensor", func(m *Model) { m.Params["head.junk"] = Tensor{Shape: []int{4}, Data: make([]float32, 4)} }, "unexpected parameter head.junk"},
		{"NaN weight", func(m *Model) { m.Params["encoder.fc2.bias"].Data[1] = float32(math.NaN()) }, "encoder.fc2.bias holds a value that is not finite"},
		{"Inf weight", func(m *Model) { m.Params["head.weight"].Data[5] = float32(math.Inf(-1)) }, "head.weight holds a value that is not finite"},
		// Finite, but no trained model's: an mlp's embeddings of it are +Inf.
		{"huge weight", func(m *Model) { m.Params["encoder.fc1.weight"].Data[7] = -1e30 }, "encoder.fc1.weight holds -1e+30: want values in [-1e+06, 1e+06]"},
		{"weight just past the bound", func(m *Model) { m.Params["head.weight"].Data[0] = 1.0001e6 }, "head.weight holds 1.0001e+06: want values in [-1e+06, 1e+06]"},
		{"NaN threshold", func(m *Model) { m.Meta.Threshold = math.NaN() }, "threshold NaN is not a finite number"},
		{"negative steps", func(m *Model) { m.Meta.Provenance.Steps = -5 }, "-5 training steps: want ≥ 0"},
		{"FAR below 0", func(m *Model) { m.Meta.FAR = -3 }, "false accept rate -3 out of range [0, 1]"},
		{"FAR above 1", func(m *Model) { m.Meta.FAR = 1.5 }, "false accept rate 1.5 out of range [0, 1]"},
		{"class twice", func(m *Model) { m.Meta.Classes[1] = "a" }, `class "a" is named twice`},
		{"empty class", func(m *Model) { m.Meta.Classes[0] = "" }, "class 0 has no name"},
		{"newline in a class", func(m *Model) { m.Meta.Classes[1] = "a\nb" }, `class 1's name "a\nb" is not printable text`},
		{"invalid UTF-8", func(m *Model) { m.Meta.Classes[1] = "\xff" }, "is not printable text"},
		{"long class", func(m *Model) { m.Meta.Classes[0] = strings.Repeat("x", MaxClassName+1) }, "class 0's name is 4097 bytes long, more than 4096"},
		{"unknown loss", func(m *Model) { m.Meta.Loss = "bogus" }, `model: unknown loss "bogus"`},
	} {
		m := valid()
		tc.corrupt(m)
		if err := m.Validate(checkLoss); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

// TestModelValidateNegativeVariance: a batch norm's running variance below
// zero (no training gives one: it averages squares) is refused, as it
// would make every embedding NaN (1/√(var + ε) of a negative number).
func TestModelValidateNegativeVariance(t *testing.T) {
	spec := Spec{Arch: "mlp", Input: MNISTInput, Dim: 3, EmbedBN: true}
	m := &Model{Meta: Metadata{Spec: spec, Loss: "arcface", Classes: []string{"a"}, Threshold: 0.3, FAR: 0.01},
		Params: InitParams(spec, nil, 1)}
	m.Params["encoder.features.running_var"].Data[1] = -1
	err := m.Validate(nil)
	if err == nil {
		enc, err := NewEncoder(spec, m.Params, 1)
		if err != nil {
			t.Fatal(err)
		}
		emb, err := enc.Embed(nil, make([]float32, MNISTInput.Size()), 1)
		t.Fatalf("a running variance of -1 is valid; an image embeds as %v (%v)", emb, err)
	}
	if want := "model: encoder.features.running_var holds -1: want values in [0, 1e+12]"; err.Error() != want {
		t.Errorf("a running variance of -1: %q, want %q", err, want)
	}
}

// TestModelMetrics: a model's held-out verification (Metadata.Metrics)
// goes through the file and back; a file without it (every file written
// before it was kept) loads as before, with none, and is written again
// without it; and Validate refuses metrics no held-out set gives.
func TestModelMetrics(t *testing.T) {
	spec := Spec{Arch: "mlp", Input: MNISTInput, Dim: 3}
	valid := func() *Model {
		return &Model{Meta: Metadata{Spec: spec, Loss: "arcface", Classes: []string{"a", "b"}, Threshold: 0.3, FAR: 0.01,
			Metrics: &msg.VerificationSummary{Accuracy: 0.9875, EER: 0.0125, Threshold: 0.3, FAR: 0.01,
				TARAtFAR: map[string]float64{"0.1": 1, "0.01": 0.97, "0.001": 0.5}, Centre: 0.95}},
			Params: InitParams(spec, nil, 1)}
	}
	path := filepath.Join(t.TempDir(), "model.safetensors")
	m := valid()
	if err := WriteModel(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Validate(nil); err != nil {
		t.Errorf("a model with metrics: %v", err)
	}
	if !reflect.DeepEqual(got.Meta.Metrics, m.Meta.Metrics) {
		t.Errorf("Metrics = %+v, want %+v", got.Meta.Metrics, m.Meta.Metrics)
	}

	// A file as the code before metrics wrote it: the same JSON, no
	// "metrics" key.
	old := `{"format":"metriclab/1","spec":{"arch":"mlp","input":{"channels":1,"height":28,"width":28,"mean":0.1307,"std":0.3081},"dim":3},` +
		`"loss":"arcface","loss_params":null,"classes":["a","b"],"threshold":0.3,"far":0.01,` +
		`"provenance":{"data":"mnist","epochs":1,"batch":64,"lr":0.01,"optimizer":"sgd","seed":1,"steps":10,"weight_decay":0,"created":"2026-01-02T03:04:05Z","version":"old"}}`
	got, err = DecodeModel(withMetadata(t, m, old))
	if err != nil {
		t.Fatalf("a file without metrics: %v", err)
	}
	if err := got.Validate(nil); err != nil {
		t.Errorf("a file without metrics: %v", err)
	}
	if got.Meta.Metrics != nil || got.Meta.Threshold != 0.3 || got.Meta.FAR != 0.01 || got.Meta.Provenance.Steps != 10 {
		t.Errorf("a file without metrics reads as %+v", got.Meta)
	}
	if meta := metadataWritten(t, got); meta != old {
		t.Errorf("a file without metrics written again: %q\nwant %q", meta, old)
	}

	// Metrics of the wrong type are refused by the reader.
	bad := strings.Replace(old, `"far":0.01,`, `"far":0.01,"metrics":{"accuracy":"high"},`, 1)
	if _, err := DecodeModel(withMetadata(t, m, bad)); err == nil || !strings.Contains(err.Error(), "model: metriclab metadata is not valid") {
		t.Errorf("metrics with a text accuracy: %v", err)
	}

	for _, tc := range []struct {
		name    string
		corrupt func(v *msg.VerificationSummary)
		want    string
	}{
		{"accuracy above 1", func(v *msg.VerificationSummary) { v.Accuracy = 98.75 }, "model: metrics: accuracy 98.75 out of range [0, 1]"},
		{"NaN EER", func(v *msg.VerificationSummary) { v.EER = math.NaN() }, "model: metrics: EER NaN out of range [0, 1]"},
		{"negative FAR", func(v *msg.VerificationSummary) { v.FAR = -0.1 }, "model: metrics: false accept rate -0.1 out of range [0, 1]"},
		{"centre above 1", func(v *msg.VerificationSummary) { v.Centre = math.Inf(1) }, "model: metrics: nearest-centre accuracy +Inf out of range [0, 1]"},
		{"infinite threshold", func(v *msg.VerificationSummary) { v.Threshold = math.Inf(-1) }, "model: metrics: threshold -Inf is not a finite number"},
		{"TAR above 1", func(v *msg.VerificationSummary) { v.TARAtFAR["0.01"] = 1.5 }, "model: metrics: TAR 1.5 at FAR 0.01 out of range [0, 1]"},
		{"level not a number", func(v *msg.VerificationSummary) { v.TARAtFAR["tenth"] = 0.5 }, `model: metrics: TAR@FAR level "tenth" is not a false accept rate in (0, 1]`},
		{"level 0", func(v *msg.VerificationSummary) { v.TARAtFAR["0"] = 0.5 }, `TAR@FAR level "0" is not a false accept rate in (0, 1]`},
		{"many levels", func(v *msg.VerificationSummary) {
			for i := range 20 {
				v.TARAtFAR[strconv.FormatFloat(float64(i+1)/100, 'g', -1, 64)] = 0.5
			}
		}, "TAR@FAR levels: want at most 16"},
	} {
		m := valid()
		tc.corrupt(m.Meta.Metrics)
		if err := m.Validate(nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

// TestModelSplit: the split a model was trained on (Provenance.Split,
// train --split) goes through the file and back; a file without it (every
// file written before it was kept) loads as before, its split unknown
// (""), and is written again without it.
func TestModelSplit(t *testing.T) {
	spec := Spec{Arch: "mlp", Input: MNISTInput, Dim: 3}
	m := &Model{Meta: Metadata{Spec: spec, Loss: "arcface", Classes: []string{"a", "b"},
		Provenance: Provenance{Data: "faces", Split: "all", Epochs: 1, Batch: 8, Steps: 3}}, Params: InitParams(spec, nil, 1)}
	var buf bytes.Buffer
	if err := EncodeModel(&buf, m); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeModel(&buf)
	if err != nil || got.Meta.Provenance.Split != "all" {
		t.Fatalf("a model trained on split all reads back as %+v (%v)", got.Meta.Provenance, err)
	}

	old := `{"format":"metriclab/1","spec":{"arch":"mlp","input":{"channels":1,"height":28,"width":28,"mean":0.1307,"std":0.3081},"dim":3},` +
		`"loss":"arcface","loss_params":null,"classes":["a","b"],"threshold":0,"far":0,` +
		`"provenance":{"data":"faces","epochs":1,"batch":8,"lr":0.01,"optimizer":"sgd","seed":1,"steps":3,"weight_decay":0,"created":"2026-01-02T03:04:05Z","version":"old"}}`
	if got, err = DecodeModel(withMetadata(t, m, old)); err != nil || got.Meta.Provenance.Split != "" || got.Meta.Provenance.Data != "faces" {
		t.Fatalf("a file without a split: %v, provenance %+v: want it loaded, its split unknown", err, got.Meta.Provenance)
	}
	if meta := metadataWritten(t, got); meta != old {
		t.Errorf("a file without a split written again: %q\nwant %q", meta, old)
	}
}

// withMetadata returns a model file of m's parameters whose metriclab
// metadata is meta, JSON as an older version wrote it.
func withMetadata(t *testing.T, m *Model, meta string) *bytes.Buffer {
	t.Helper()
	params := make(map[string]safetensors.Tensor)
	for k, v := range m.Params {
		params[k] = safetensors.Tensor(v)
	}
	var buf bytes.Buffer
	if err := safetensors.Encode(&buf, params, map[string]string{modelMetadataKey: meta}); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// metadataWritten returns the metriclab metadata of m's file as
// EncodeModel writes it.
func metadataWritten(t *testing.T, m *Model) string {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeModel(&buf, m); err != nil {
		t.Fatal(err)
	}
	_, meta, err := safetensors.Decode(&buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	return meta[modelMetadataKey]
}
