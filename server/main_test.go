package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"metriclab/core"
	"metriclab/core/msg"
	"metriclab/core/safetensors"
	"metriclab/losses"
	"metriclab/server/api"
)

// runCLI runs one command and returns its exit status, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// wantBadInput runs metriclab with args and checks that it refuses them:
// status 2, nothing on stdout, one line on stderr that contains want.
func wantBadInput(t *testing.T, want string, args ...string) {
	t.Helper()
	code, stdout, stderr := runCLI(t, args...)
	if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
		t.Errorf("metriclab %q: exit %d, stdout %q, stderr %q: want status 2, nothing on stdout and one line containing %q", args, code, stdout, stderr, want)
	}
}

func TestBadInputIsOneLineAndStatus2(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	// Links given as --out are written through; the errors name the link
	// and its target (before, the target alone, a path not typed).
	folderLink, missingLink := filepath.Join(dir, "to-folder"), filepath.Join(dir, "to-missing")
	if err := os.Symlink(dir, folderLink); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone", "m.safetensors"), missingLink); err != nil {
		t.Fatal(err)
	}
	// A model file's errors name its path as given (before, its base
	// name: "a.safetensors: …" of a file in another folder).
	junk := filepath.Join(dir, "far", "a.safetensors")
	if err := os.Mkdir(filepath.Dir(junk), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(junk, []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string // part of the error line
	}{
		{"out a link to a folder", []string{"train", "--out", folderLink}, "--out " + folderLink + " (a link to " + dir + ") is a folder"},
		{"out a link into a missing folder", []string{"train", "--out", missingLink},
			"output folder " + filepath.Join(dir, "gone") + " of --out " + missingLink + " (a link to " + filepath.Join(dir, "gone", "m.safetensors") + ") does not exist"},
		{"a line break in a path", []string{"train", "--data", filepath.Join(dir, "no\nsuch"), "--out", out}, `no\nsuch: no such file or directory`},
		{"unknown command", []string{"fly"}, "unknown command"},
		{"unknown flag", []string{"train", "--bogus", "--out", out}, "bogus"},
		{"missing out", []string{"train"}, "--out is required"},
		{"unknown loss", []string{"train", "--loss", "magic", "--out", out}, "unknown loss"},
		{"unknown arch", []string{"train", "--arch", "vgg", "--out", out}, "vgg"},
		{"dim out of range", []string{"train", "--dim", "1000", "--out", out}, "1000"},
		{"loss param out of range", []string{"train", "--loss", "arcface", "--m", "-1", "--out", out}, "out of range"},
		{"param of another loss", []string{"train", "--loss", "cosface", "--alpha", "3", "--out", out}, "alpha"},
		{"bad miner", []string{"train", "--loss", "triplet", "--miner", "lazy", "--out", out}, "lazy"},
		{"bad classes", []string{"train", "--classes", "7-3", "--out", out}, "7-3"},
		{"classes out of range", []string{"train", "--classes", "0-12", "--out", out}, "12"},
		{"one class", []string{"train", "--classes", "3", "--out", out}, "at least 2"},
		{"input side too large", []string{"train", "--input", "1x300x300", "--out", out}, "input 300×300: sides of at most 256"},
		{"bench input side too large", []string{"bench", "--arch", "lenetpp", "--input", "3x112x1000"}, "input 112×1000: sides of at most 256"},
		// Below the smallest the convolutions and poolings take: refused
		// with the flags, before the data is read.
		{"input too small for the arch", []string{"train", "--arch", "lenet-s", "--input", "1x2x2", "--data", filepath.Join(dir, "nope"), "--out", out}, "lenet-s needs input of at least 16×16, got 2×2"},
		{"openset input too small for a variant's arch", []string{"openset", "--arch", "mlp", "--input", "1x8x8", "--variant", "arch=lenetpp input=1x4x4", "--data", filepath.Join(dir, "nope")}, `variant "arch=lenetpp input=1x4x4": lenetpp needs input of at least 8×8, got 4×4`},
		{"unknown crop", []string{"train", "--crop", "middle", "--out", out}, `crop "middle": want centre, left, lower, right, upper, or fractions x0,y0,x1,y1`},
		{"crop of three numbers", []string{"train", "--crop", "0,0,1", "--out", out}, `crop "0,0,1": want centre`},
		{"crop not a number", []string{"train", "--crop", "0,0,1,x", "--out", out}, `crop "0,0,1,x": "x": want a finite decimal number`},
		{"crop of nothing", []string{"train", "--crop", "0,0,0,0", "--out", out}, `crop "0,0,0,0": want x0 < x1 and y0 < y1`},
		{"crop outside the image", []string{"train", "--crop", "0,0,1.5,1", "--out", out}, "crop [0 0 1.5 1]: fractions must be in [0, 1]"},
		{"unknown view", []string{"train", "--views", "whole,middle", "--out", out}, `views "whole,middle": view "middle": want whole, centre, left, lower, right, upper or fractions x0:y0:x1:y1`},
		{"empty views", []string{"train", "--views", "", "--out", out}, `views "": want whole (one encoder) or windows separated by commas`},
		{"a view twice", []string{"train", "--views", "whole,upper,upper", "--out", out}, "view 2 (upper) repeats view 1"},
		{"views and a crop", []string{"train", "--views", "whole,upper", "--crop", "lower", "--out", out}, "a crop and views: give the windows as views"},
		{"one view and a crop", []string{"train", "--views", "upper", "--crop", "lower", "--out", out}, "--crop and --views upper: give the windows as views"},
		{"views outside the image", []string{"train", "--views", "whole,0:0:1.5:1", "--out", out}, "view 1: crop [0 0 1.5 1]: fractions must be in [0, 1]"},
		{"bad optimiser", []string{"train", "--opt", "lbfgs", "--out", out}, "lbfgs"},
		{"bad epochs", []string{"train", "--epochs", "0", "--out", out}, "epochs"},
		{"missing data folder", []string{"train", "--data", filepath.Join(dir, "nope"), "--out", out}, "nope"},
		{"missing out folder", []string{"train", "--out", filepath.Join(dir, "no", "m.safetensors")}, "does not exist"},
		// A file named "-" was written.
		{"out stdout", []string{"train", "--out", "-"}, "--out -: the model is written to a file, not to stdout"},
		{"join out stdout", []string{"join", "--model", "a.safetensors,b.safetensors", "--out", "-"}, "--out -: the model is written to a file, not to stdout"},
		// A file where the folder should be was said not to exist.
		{"out folder a file", []string{"train", "--out", filepath.Join(junk, "m.safetensors")}, "output folder " + junk + " of --out " + filepath.Join(junk, "m.safetensors") + " is a file, not a folder"},
		{"out folder in a file", []string{"train", "--out", filepath.Join(junk, "sub", "m.safetensors")}, "output folder " + filepath.Join(junk, "sub") + " of --out " + filepath.Join(junk, "sub", "m.safetensors") + ": not a directory"},
		{"eval missing model", []string{"eval", "--model", filepath.Join(dir, "none.safetensors")}, "none.safetensors"},
		{"eval without model", []string{"eval"}, "--model is required"},
		{"eval a model file elsewhere", []string{"eval", "--model", junk}, "metriclab eval: " + junk + ": not a valid safetensors file"},
		{"eval a folder", []string{"eval", "--model", filepath.Dir(junk)}, "metriclab eval: " + filepath.Dir(junk) + ": a folder, not a model file"},
		{"join a model file elsewhere", []string{"join", "--model", junk + "," + filepath.Join(dir, "none.safetensors"), "--out", out}, "metriclab join: " + junk + ": not a valid safetensors file"},
		{"eval bad metric", []string{"eval", "--model", "raw", "--metric", "manhattan"}, "manhattan"},
		{"eval bad metric before any load", []string{"eval", "--model", "raw", "--metric", "manhattan", "--data", filepath.Join(dir, "nope")}, `unknown metric "manhattan" (want cosine, euclidean, whiten, linear)`},
		{"eval raw flip test", []string{"eval", "--model", "raw", "--flip-test"}, "--flip-test needs a model"},
		{"bench cuda", []string{"bench", "--device", "cuda"}, "cuda"},
		{"serve bad allowed host", []string{"serve", "--allowed-hosts", "http://class.example.org", "--data-dir", filepath.Join(dir, "d")}, "allowed host"},
		// Not host names: no Host header matches them (before, "*" was taken
		// as a name, so it allowed no other host; ".." was named ".").
		{"serve allowed host *", []string{"serve", "--allowed-hosts", "*", "--data-dir", filepath.Join(dir, "d")}, `allowed host "*": want a host name`},
		{"serve allowed host *.example.org", []string{"serve", "--allowed-hosts", "*.example.org", "--data-dir", filepath.Join(dir, "d")}, `allowed host "*.example.org": want a host name`},
		{"serve allowed host ..", []string{"serve", "--allowed-hosts", "..", "--data-dir", filepath.Join(dir, "d")}, `allowed host "..": want a host name`},
		{"serve bad trusted proxy", []string{"serve", "--trusted-proxies", "127.0.0.1, 10.0.0.0/33", "--data-dir", filepath.Join(dir, "d")}, `trusted proxy "10.0.0.0/33": want an IP address or a CIDR range such as 10.0.0.0/8`},
		{"serve trusted proxy a name", []string{"serve", "--trusted-proxies", "proxy.lan", "--data-dir", filepath.Join(dir, "d")}, `trusted proxy "proxy.lan": want an IP address or a CIDR range`},
		// Every client a proxy, naming itself: no per-client limit held.
		{"serve trusted proxies every address", []string{"serve", "--trusted-proxies", "127.0.0.1,0.0.0.0/0", "--data-dir", filepath.Join(dir, "d")}, `trusted proxy "0.0.0.0/0" holds every IPv4 address: any client could name itself in X-Forwarded-For and escape the per-client limits`},
		{"serve trusted proxies every IPv6 address", []string{"serve", "--trusted-proxies", "::/0", "--data-dir", filepath.Join(dir, "d")}, `trusted proxy "::/0" holds every IPv6 address`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, c.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", code, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q: want one line containing %q", stderr, c.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output file left behind")
			}
		})
	}
}

func TestEvalRejectsCorruptModel(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(path, []byte("\x10\x00\x00\x00\x00\x00\x00\x00{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "eval", "--model", path, "--json")
	if code != 2 || !strings.Contains(stderr, "bad.safetensors") {
		t.Errorf("exit %d, stderr %q: want status 2 naming the file", code, stderr)
	}
}

// TestEvalRejectsUnusableModel: models that load but cannot be used give
// one line and status 2: a head.bias of the wrong length (it panicked in
// the closed-set accuracy), weights beyond any trained model's (refused
// by Model.Validate), and weights within that bound whose embeddings
// still overflow, through the six convolutions of lenetpp (a NaN score
// kept the threshold search running for ever).
func TestEvalRejectsUnusableModel(t *testing.T) {
	dir := t.TempDir()
	writeShapes(t, filepath.Join(dir, "shapes"), 4)
	spec := core.DefaultSpec("mlp", 3)
	spec.Input = core.Input{Channels: 1, Height: 32, Width: 32, Mean: 0.5, Std: 0.5}
	deep := core.DefaultSpec("lenetpp", 3)
	deep.Input = spec.Input
	model := func(spec core.Spec, value func(float32) float32) *core.Model {
		params := core.InitParams(spec, []core.ParamShape{{Name: "head.weight", Shape: []int{2, 3}}}, 1)
		for name, p := range params {
			if strings.HasPrefix(name, "encoder.") {
				for i := range p.Data {
					p.Data[i] = value(p.Data[i])
				}
			}
		}
		return &core.Model{Meta: core.Metadata{Spec: spec, Loss: "arcface", Classes: []string{"a", "b"}}, Params: params}
	}
	bias := model(spec, func(v float32) float32 { return v })
	bias.Params["head.bias"] = core.Tensor{Shape: []int{1}, Data: []float32{0}}
	for name, tc := range map[string]struct {
		m    *core.Model
		want string
	}{
		"bias":        {bias, "head.bias has shape [1], want [2]"},
		"huge":        {model(spec, func(v float32) float32 { return v * 1e37 }), "want values in [-1e+06, 1e+06]"},
		"overflowing": {model(deep, func(float32) float32 { return 1e6 }), "its embeddings of these images are not all finite numbers"},
	} {
		path := filepath.Join(dir, name+".safetensors")
		if err := core.WriteModel(path, tc.m); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCLI(t, "eval", "--model", path, "--data", filepath.Join(dir, "shapes"), "--split", "all", "--classes", "0-1", "--json")
		if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%s: exit %d, stderr %q: want status 2 and one line with %q", name, code, stderr, tc.want)
		}
	}
}

// TestEvalModelOfOtherImagesOnMNIST: a model of other images than
// mnist's, evaluated on mnist, is refused naming the model's input (before,
// "data: mnist images are 1×28×28, not 1×32×32": a shape given by no flag).
func TestEvalModelOfOtherImagesOnMNIST(t *testing.T) {
	dir := t.TempDir()
	spec := core.DefaultSpec("mlp", 3)
	spec.Input = core.Input{Channels: 1, Height: 32, Width: 32, Mean: 0.5, Std: 0.5}
	path, other := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "n.safetensors")
	for i, p := range []string{path, other} {
		// Two seeds: an ensemble of one model's copies is refused as such.
		params := core.InitParams(spec, []core.ParamShape{{Name: "head.weight", Shape: []int{2, 3}}}, int64(i+1))
		if err := core.WriteModel(p, &core.Model{Meta: core.Metadata{Spec: spec, Loss: "arcface", Classes: []string{"a", "b"}}, Params: params}); err != nil {
			t.Fatal(err)
		}
	}
	want := path + " takes 1×32×32 images and mnist's are 1×28×28: evaluate it on a folder of images (--data DIR)"
	wantBadInput(t, want, "eval", "--model", path)
	wantBadInput(t, "m.safetensors,"+other+" takes 1×32×32 images", "eval", "--model", path+","+other)
}

// TestEvalMetricOnFlatImages: the classic metrics cannot be fitted on
// images that do not vary; that is bad input (status 2, one line), not a
// failure of the program (it was status 1). whiten's line says what to do,
// also on identities each of one image repeated, however they differ from
// one another (it advised a ridge, which no flag sets).
func TestEvalMetricOnFlatImages(t *testing.T) {
	dir := t.TempDir()
	for _, id := range []string{"a", "b", "c"} {
		if err := os.MkdirAll(filepath.Join(dir, id), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			var buf bytes.Buffer
			if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 16))); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, id, fmt.Sprintf("%d.png", i)), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	whiten := "whiten: the 4 training images do not vary within their identities (in the 2 principal components kept): fit it on more images of each identity, or more varied ones, or use --metric cosine"
	wantBadInput(t, whiten, "eval", "--model", "raw", "--data", dir, "--split", "all", "--classes", "0-1", "--metric", "whiten", "--json")
	// Fitted on two identities, each of one image four times, a bar of
	// its own brightness: the images vary between identities, not within.
	for c, id := range []string{"d", "e"} {
		img := image.NewGray(image.Rect(0, 0, 16, 16))
		for k := range 16 {
			img.SetGray(k, 4+4*c, color.Gray{Y: uint8(100 + 100*c)})
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, id), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if err := os.WriteFile(filepath.Join(dir, id, fmt.Sprintf("%d.png", i)), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	whiten = "whiten: the 8 training images do not vary within their identities (in the 5 principal components kept)"
	wantBadInput(t, whiten, "eval", "--model", "raw", "--data", dir, "--split", "all", "--classes", "0-1", "--fit-classes", "d-e", "--metric", "whiten", "--json")
	// linear, fitted on two identities (one alone is refused before any
	// fit): c's flat images and f's copies of them.
	if err := os.CopyFS(filepath.Join(dir, "f"), os.DirFS(filepath.Join(dir, "c"))); err != nil {
		t.Fatal(err)
	}
	wantBadInput(t, "linear: cannot be fitted on these 8 training images", "eval", "--model", "raw", "--data", dir, "--split", "all", "--classes", "0-1", "--fit-classes", "c,f", "--metric", "linear", "--json")
}

// writeOtherShapes is writeShapes of other people: the identities are
// named other-horizontal, other-vertical and other-diagonal, as a folder's
// test/ holds people its train/ does not.
func writeOtherShapes(t *testing.T, dir string, perClass int) {
	t.Helper()
	tmp := t.TempDir()
	writeShapes(t, tmp, perClass)
	for _, name := range []string{"horizontal", "vertical", "diagonal"} {
		if err := renameInto(filepath.Join(tmp, name), filepath.Join(dir, "other-"+name)); err != nil {
			t.Fatal(err)
		}
	}
}

// writeShapes writes a tiny image folder: three identities whose images are
// a bright bar at three orientations, with jittered position and contrast.
func writeShapes(t *testing.T, dir string, perClass int) {
	t.Helper()
	for c, name := range []string{"horizontal", "vertical", "diagonal"} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < perClass; i++ {
			img := image.NewGray(image.Rect(0, 0, 32, 32))
			off := i%7 - 3
			level := uint8(150 + 10*(i%10))
			for k := 4; k < 28; k++ {
				switch c {
				case 0:
					img.SetGray(k, 16+off, color.Gray{level})
				case 1:
					img.SetGray(16+off, k, color.Gray{level})
				case 2:
					img.SetGray(k, min(31, max(0, k+off)), color.Gray{level})
				}
			}
			f, err := os.Create(filepath.Join(dir, name, name+string(rune('a'+i%26))+string(rune('a'+i/26))+".png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
}

func TestTrainThenEvalOnImageFolder(t *testing.T) {
	dir := t.TempDir()
	writeShapes(t, filepath.Join(dir, "shapes"), 60)
	model := filepath.Join(dir, "shapes.safetensors")
	code, stdout, stderr := runCLI(t, "train", "--data", filepath.Join(dir, "shapes"), "--arch", "lenet-s",
		"--loss", "cosface", "--dim", "8", "--epochs", "8", "--batch", "16", "--val", "30", "--json", "--out", model)
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	lines = lines[:len(lines)-1] // the last names the model (TestTrainJSONNamesModel)
	var first, last progress
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("first progress line %q: %v", lines[0], err)
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	if !last.EpochEnd || last.Epoch != 8 || last.Loss >= first.Loss || last.ImgPerS <= 0 {
		t.Errorf("progress from %+v to %+v: want 8 epochs with the loss falling", first, last)
	}

	code, stdout, stderr = runCLI(t, "eval", "--model", model, "--data", filepath.Join(dir, "shapes"), "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var rep struct {
		ClosedSet      map[string]any `json:"closed_set"`
		Verification   map[string]any `json:"verification"`
		Identification map[string]any `json:"identification"`
		Retrieval      map[string]any `json:"retrieval"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("eval output %q: %v", stdout, err)
	}
	parts := map[string]map[string]any{"closed_set": rep.ClosedSet, "verification": rep.Verification,
		"identification": rep.Identification, "retrieval": rep.Retrieval}
	for _, key := range []string{"closed_set.accuracy", "verification.accuracy", "verification.eer", "verification.auc",
		"identification.rank1", "identification.rank5", "retrieval.precision_at_1", "retrieval.r_precision", "retrieval.map_at_r"} {
		part := strings.Split(key, ".")
		v, ok := parts[part[0]][part[1]].(float64)
		if !ok || v < 0 || v > 1 || math.IsNaN(v) {
			t.Errorf("%s = %v, want a fraction", key, parts[part[0]][part[1]])
		}
	}
	if acc := rep.ClosedSet["accuracy"].(float64); acc < 0.9 {
		t.Errorf("closed-set accuracy %.3f on three bar orientations, want ≥ 0.9", acc)
	}
	if tar, ok := rep.Verification["tar_at_far"].(map[string]any); !ok || len(tar) != 3 {
		t.Errorf("tar_at_far = %v, want three FARs", rep.Verification["tar_at_far"])
	}
}

// TestBadOpenSetInput: the flags of presets, augmentation, early stopping
// and splits refuse bad values with one line and status 2.
func TestBadOpenSetInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	writeShapes(t, filepath.Join(dir, "shapes"), 10)
	shapes := filepath.Join(dir, "shapes")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown preset", []string{"train", "--preset", "cats", "--out", out}, `unknown preset "cats" (want digits, faces, face-photos)`},
		{"unknown augmentation", []string{"train", "--augment", "mirror", "--out", out}, `unknown augmentation "mirror"`},
		{"negative patience", []string{"train", "--early-stop", "-2", "--out", out}, "early stop after -2 epochs"},
		{"negative weight decay", []string{"train", "--wd", "-1", "--out", out}, "weight decay -1"},
		{"bad turns", []string{"train", "--turns", "3", "--out", out}, "turns 3: want 0, 4 or 8"},
		{"turns 8 with a flip", []string{"train", "--preset", "faces", "--turns", "8", "--out", out}, "turns 8 with augment faces"},
		{"bad compose", []string{"train", "--compose", "5x5", "--out", out}, `compose "5x5"`},
		{"bad train split", []string{"train", "--split", "test", "--out", out}, `split "test"`},
		{"mnist split all", []string{"train", "--split", "all", "--out", out}, "mnist has train and test"},
		{"bad eval split", []string{"eval", "--model", "raw", "--split", "train"}, `split "train"`},
		{"all overlapping", []string{"eval", "--model", "raw", "--data", shapes, "--split", "all", "--classes", "0-1", "--fit-classes", "1-2"}, "shares identities"},
		// Without --classes, every identity is evaluated (before, the line
		// named a --classes "" that was not given).
		{"all overlapping all", []string{"eval", "--model", "raw", "--data", shapes, "--split", "all", "--fit-classes", "2", "--metric", "whiten"}, `split all: --fit-classes "2" shares identities with the evaluated ones, every identity (but --unknown's) when --classes is not given: give --classes the others`},
		{"all of everything", []string{"eval", "--model", "raw", "--data", shapes, "--split", "all", "--metric", "whiten"}, "none is left to fit"},
		{"unknown fits", []string{"eval", "--model", "raw", "--data", shapes, "--split", "all", "--classes", "0-1", "--fit-classes", "2", "--unknown", "2"}, `--fit-classes "2" shares identities with --unknown "2", which must be unseen`},
		{"bad pca", []string{"eval", "--model", "raw", "--metric", "whiten", "--pca", "0"}, "pca 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, c.args...)
			if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q: want status 2 and one line containing %q", code, stderr, c.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output file left behind")
			}
		})
	}
}

// TestClassesTwice: every flag that selects classes refuses a selection
// that gives a class twice, with one line that names it by its flag
// (before, "0-4,4" was taken as 0-4; and then train's and eval's line
// said "data: classes" for the flag, and eval's "fit-classes: data:
// classes" and "--unknown: data: classes").
func TestClassesTwice(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes") // diagonal, horizontal, vertical
	writeShapes(t, shapes, 4)
	out := filepath.Join(dir, "m.safetensors")
	evalAll := []string{"eval", "--model", "raw", "--data", shapes, "--split", "all"}
	for _, c := range []struct {
		want string
		args []string
	}{
		{`train: --classes "0-1,1": class 1 ("horizontal") is selected twice, by "0-1" and by "1"; give each class once`, []string{"train", "--data", shapes, "--classes", "0-1,1", "--out", out}},
		{`eval: --classes "0-1,horizontal": class 1 ("horizontal") is selected twice`, append(evalAll, "--classes", "0-1,horizontal")},
		{`eval: --fit-classes "2,2": class 2 ("vertical") is selected twice`, append(evalAll, "--classes", "0-1", "--fit-classes", "2,2", "--metric", "whiten")},
		{`eval: --unknown "2,vertical": class 2 ("vertical") is selected twice`, append(evalAll, "--classes", "0-1", "--unknown", "2,vertical")},
		{`openset: --train-classes "0-4,0": class 0 is selected twice`, []string{"openset", "--train-classes", "0-4,0"}},
		{`openset: --eval-classes "9,5-9": class 9 is selected twice`, []string{"openset", "--eval-classes", "9,5-9"}},
		{`compare: --open-train "0-4,4": class 4 is selected twice, by "0-4" and by "4"`, []string{"compare", "--open-train", "0-4,4"}},
		{`compare: --open-eval "5-9,7-8": class 7 is selected twice, by "5-9" and by "7-8"`, []string{"compare", "--open-eval", "5-9,7-8"}},
	} {
		wantBadInput(t, c.want, c.args...)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("train wrote %s", out)
	}
}

// TestClassesErrorNamesItsFlag: openset and compare choose two selections
// of classes, and a selection they refuse is named by its flag, as the
// selection itself (before, "data: classes "0": need at least 2 classes"
// for --train-classes 0, then "--train-classes: data: classes "0": …", a
// package's prefix inside the flag's, and, on a folder's train/ and
// test/, the names of one split's identities offered for a flag that
// selects the other's). A selection left to its default names no flag
// that was not given.
func TestClassesErrorNamesItsFlag(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	writeShapes(t, filepath.Join(open, "train"), 4)
	writeOtherShapes(t, filepath.Join(open, "test"), 4)
	one := filepath.Join(dir, "one")
	writeShapes(t, filepath.Join(one, "train"), 4)
	if err := renameInto(filepath.Join(open, "test", "other-vertical"), filepath.Join(one, "test", "other-vertical")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		want string
		args []string
	}{
		{`openset: --train-classes "0": need at least 2 classes`, []string{"openset", "--train-classes", "0"}},
		{`openset: --eval-classes "5-12": 12 is out of range 0..9`, []string{"openset", "--eval-classes", "5-12"}},
		{`openset: --train-classes "other-vertical,horizontal": "other-vertical" is not a class number`, []string{"openset", "--data", open, "--train-classes", "other-vertical,horizontal"}},
		{`openset: --eval-classes "vertical,other-diagonal": "vertical" is not a class number`, []string{"openset", "--data", open, "--eval-classes", "vertical,other-diagonal"}},
		{`openset: data: the data set has 1 class`, []string{"openset", "--data", one}},
		{`compare: --open-train "3": need at least 2 classes`, []string{"compare", "--open-train", "3"}},
		{`compare: --open-eval "5-10": 10 is out of range 0..9`, []string{"compare", "--open-eval", "5-10"}},
		{`train: --classes "0": need at least 2 classes`, []string{"train", "--classes", "0", "--out", filepath.Join(dir, "m.safetensors")}},
		{`eval: --classes "0-12": 12 is out of range 0..9`, []string{"eval", "--model", "raw", "--classes", "0-12"}},
		{`eval: --fit-classes "x": "x" is not a class number`, []string{"eval", "--model", "raw", "--classes", "0-4", "--fit-classes", "x", "--metric", "whiten"}},
	} {
		wantBadInput(t, c.want, c.args...)
	}
}

// TestFolderHeldOutAndOpenSet: a model trained on a small folder with the
// default --val holds out 2 images per identity and stores the threshold
// chosen on them (not 0 on none), and `eval --model raw --metric whiten`
// runs on a folder whose train/ and test/ hold different identities,
// fitting the metric on train/ (before, it failed with N=0).
func TestFolderHeldOutAndOpenSet(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, shapes, 12) // 10 training images per identity
	model := filepath.Join(dir, "m.safetensors")
	code, _, stderr := runCLI(t, "train", "--data", shapes, "--dim", "8", "--epochs", "2", "--batch", "8", "--out", model)
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "on 6 held-out images") || strings.Contains(stderr, "threshold 0.000") {
		t.Errorf("train said %q: want a threshold chosen on 6 held-out images", stderr)
	}
	m, err := core.ReadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	if m.Meta.Threshold == 0 {
		t.Error("model threshold 0")
	}

	open := filepath.Join(dir, "open")
	writeShapes(t, filepath.Join(open, "train"), 10)
	writeShapes(t, filepath.Join(open, "test"), 10)
	for _, name := range []string{"horizontal", "vertical", "diagonal"} {
		if err := os.Rename(filepath.Join(open, "test", name), filepath.Join(open, "test", "new-"+name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, metric := range []string{"whiten", "linear", "cosine"} {
		code, stdout, stderr := runCLI(t, "eval", "--model", "raw", "--metric", metric, "--data", open, "--json")
		if code != 0 {
			t.Fatalf("eval raw %s on train/ and test/: exit %d: %s", metric, code, stderr)
		}
		var rep evalOutput
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Probes != 30 || !(rep.Verification.Accuracy > 0.5) {
			t.Errorf("%s: %d probes, verification %.3f: want 30 probes, better than chance", metric, rep.Probes, rep.Verification.Accuracy)
		}
	}
}

// TestTrainEverySchedule: train takes each schedule its help offers (the
// step schedule had no decay and was refused, "gamma 0", whatever the
// flags), and the last progress line shows the learning rate of the last
// step: Adam's 0.01 as it is, divided by 10 twice, or near the cosine's
// end (a run of a few steps: ½(1 + cos(π·(T−1)/T)) of it).
func TestTrainEverySchedule(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, shapes, 12)
	for schedule, lastOK := range map[string]func(lr float64) bool{
		"constant": func(lr float64) bool { return math.Abs(lr-0.01) < 1e-12 },
		"step":     func(lr float64) bool { return math.Abs(lr-0.0001) < 1e-12 },
		"cosine":   func(lr float64) bool { return lr > 0 && lr < 0.01*0.2 },
	} {
		code, stdout, stderr := runCLI(t, "train", "--data", shapes, "--dim", "4", "--epochs", "3", "--batch", "8", "--schedule", schedule,
			"--json", "--out", filepath.Join(dir, schedule+".safetensors"))
		if code != 0 {
			t.Errorf("--schedule %s: exit %d: %s", schedule, code, stderr)
			continue
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		var last progress // the last step's: the line after it names the model (trainedLine)
		if len(lines) < 2 || !strings.Contains(lines[len(lines)-1], `"model":`) {
			t.Fatalf("--schedule %s: stdout ends %q; want the model's line after the progress", schedule, lines[len(lines)-1])
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-2]), &last); err != nil {
			t.Fatal(err)
		}
		if !lastOK(last.LR) {
			t.Errorf("--schedule %s: learning rate %g at the last step", schedule, last.LR)
		}
	}
}

// TestEvalFitImagesOnlyWhenUsed: eval reads the training split only when
// it uses it. On a folder whose test/ holds other people, the cosine needs
// no training image, so a broken one in train/ does not stop it; whitening
// fits on them and names it.
func TestEvalFitImagesOnlyWhenUsed(t *testing.T) {
	open := filepath.Join(t.TempDir(), "open")
	writeShapes(t, filepath.Join(open, "train"), 10)
	writeOtherShapes(t, filepath.Join(open, "test"), 6)
	broken := filepath.Join(open, "train", "horizontal", "zz.png")
	if err := os.WriteFile(broken, []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "eval", "--model", "raw", "--data", open, "--json"); code != 0 {
		t.Errorf("eval raw cosine on other people: exit %d: %s", code, stderr)
	}
	wantBadInput(t, "zz.png", "eval", "--model", "raw", "--metric", "whiten", "--data", open)
}

// TestEvalEmptyTrainFolder: on a folder whose train/ holds no identity
// (a hidden file alone) beside a test/, the cosine and Euclidean
// distances evaluate, as they read no training image; whiten, linear and
// --fit-classes, which need train/'s identities, say that it has none.
// Before, every metric was refused: "data: …/train has no identity
// folders".
func TestEvalEmptyTrainFolder(t *testing.T) {
	open := filepath.Join(t.TempDir(), "open")
	writePatterns(t, filepath.Join(open, "test"))
	if err := os.MkdirAll(filepath.Join(open, "train"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(open, "train", ".DS_Store"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, metric := range []string{"cosine", "euclidean"} {
		if rep := evalJSON(t, "--model", "raw", "--data", open, "--metric", metric); rep.Probes != 24 || !(rep.Verification.AUC > 0.9) {
			t.Errorf("--metric %s: %d probes, AUC %.3f: want test/'s 24, above 0.9 for patterns raw pixels tell apart", metric, rep.Probes, rep.Verification.AUC)
		}
	}
	empty := filepath.Join(open, "train") + " has no identity folders"
	for _, metric := range []string{"whiten", "linear"} {
		wantBadInput(t, empty+" (want "+filepath.Join(open, "train")+"/<identity>/<image>.png|jpg), and --metric whiten and linear are fitted on its images: give it some, or use --metric cosine or euclidean",
			"eval", "--model", "raw", "--data", open, "--metric", metric)
	}
	wantBadInput(t, `--fit-classes "a": data: `+empty, "eval", "--model", "raw", "--data", open, "--fit-classes", "a")
}

// TestEvalExpand: on identities that raw pixels tell apart, 8 images
// each, --expand 3 moves each embedding towards others of its identity and
// keeps them apart (an --expand of all the images is refused:
// TestExpandAllImages). The open-set figures are left out; metrics it
// does not fit, --unknown, and --expand 1, which expands nothing (before,
// the figures as they are, the open set left out), are refused.
func TestEvalExpand(t *testing.T) {
	patterns := filepath.Join(t.TempDir(), "patterns")
	writePatterns(t, patterns)
	base := []string{"eval", "--model", "raw", "--data", patterns, "--split", "all"}
	report := func(args ...string) evalOutput { t.Helper(); return evalJSON(t, slices.Concat(base[1:], args)...) }
	plain, near := report(), report("--expand", "3")
	if !(plain.Verification.AUC > 0.9) || near.Expand != 3 || !(near.Verification.AUC > 0.9) {
		t.Errorf("AUC %.4f, and %.4f with --expand %d: want both above 0.9", plain.Verification.AUC, near.Verification.AUC, near.Expand)
	}
	// Evaluate's open set takes some of the evaluated identities as
	// unknown: expanded, they were drawn towards the enrolled ones.
	if plain.Identification.OpenSet == nil || near.Identification.OpenSet != nil {
		t.Errorf("open set %v as they are, %v expanded: want it there, then left out", plain.Identification.OpenSet, near.Identification.OpenSet)
	}
	code, stdout, _ := runCLI(t, append(base, "--expand", "3")...)
	if code != 0 || !strings.Contains(stdout, "expanded       each embedding the mean of its 3 nearest of the 24 evaluated (transductive)\n") {
		t.Errorf("exit %d, report:\n%s", code, stdout)
	}
	// Both in one wording, eval's and openset's: the flag and its value,
	// why, and the K to give (before, "expand -1 must be ≥ 0 (0: off)").
	for _, args := range [][]string{base, {"openset"}} {
		wantBadInput(t, "metriclab "+args[0]+`: --expand -1: a negative number of neighbours; give K of 2 or more (0: off)`, append(args, "--expand", "-1")...)
		// K = 1 expands nothing, each embedding the mean of itself alone.
		wantBadInput(t, "metriclab "+args[0]+": --expand 1: each embedding would be the mean of itself alone, as it is; give K of 2 or more (0: off)", append(args, "--expand", "1")...)
	}
	wantBadInput(t, "whiten is fitted on training embeddings it leaves: use it with --metric cosine or euclidean", append(base, "--expand", "3", "--metric", "whiten")...)
	wantBadInput(t, `unknown metric "foo"`, append(base, "--expand", "3", "--metric", "foo")...)
	wantBadInput(t, "--expand and --unknown", append(base, "--expand", "3", "--unknown", "0")...)
}

// TestEvalFitsOnEvaluatedNames: when train/ and test/ share some people,
// the metric is fitted on the evaluated people that train/ has, found by
// name: --classes names test/'s people, which train/ numbers otherwise
// (before, the selection was read against train/'s names, and one it
// could not read left no image to fit on).
func TestEvalFitsOnEvaluatedNames(t *testing.T) {
	open := filepath.Join(t.TempDir(), "open")
	writeShapes(t, filepath.Join(open, "train"), 10)
	writeShapes(t, filepath.Join(open, "test"), 6)
	if err := renameInto(filepath.Join(open, "test", "horizontal"), filepath.Join(open, "test", "other-horizontal")); err != nil {
		t.Fatal(err)
	}
	// test/: diagonal, other-horizontal, vertical; train/ has vertical.
	code, stdout, stderr := runCLI(t, "eval", "--model", "raw", "--metric", "whiten", "--data", open, "--classes", "other-horizontal-vertical", "--json")
	if code != 0 {
		t.Fatalf("eval whiten on people train/ partly has: exit %d: %s", code, stderr)
	}
	var rep evalOutput
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Probes != 12 || !(rep.Verification.Accuracy > 0.5) {
		t.Errorf("%d probes, verification %.3f: want 12 probes, better than chance", rep.Probes, rep.Verification.Accuracy)
	}
}

// TestEvalUnknownEnrolsTheEvaluated: eval --unknown enrols the evaluated
// identities and asks whether the unknown ones' images are told from
// them. Before, the gallery was the images that fit the metric, of other
// identities with --split all (the unknown one among them): identities
// that raw pixels tell apart (a pattern of noise each, and a little noise
// on each image) then gave a detection AUC near 0. Cosine on every
// identity fits nothing, so it needs none left over; whitening does.
func TestEvalUnknownEnrolsTheEvaluated(t *testing.T) {
	patterns := filepath.Join(t.TempDir(), "patterns")
	writePatterns(t, patterns)
	code, stdout, stderr := runCLI(t, "eval", "--model", "raw", "--data", patterns, "--split", "all", "--classes", "0-1", "--unknown", "2", "--json")
	if code != 0 {
		t.Fatalf("eval --unknown: exit %d: %s", code, stderr)
	}
	var rep evalOutput
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if open := rep.Identification.OpenSet; open == nil || !(open.DetectionAUC > 0.9) {
		t.Errorf("open set %+v: want a detection AUC above 0.9 for a pattern of its own", open)
	}
	// The line says what leaves identities to fit on (before, "pass
	// --classes or --fit-classes": --classes was given, and any
	// --fit-classes would be refused as evaluated or unknown).
	wantBadInput(t, "none is left to fit the metric: give a --classes (and --unknown) that leaves some out to fit it on", "eval", "--model", "raw", "--data", patterns, "--split", "all", "--classes", "0-1", "--unknown", "2", "--metric", "whiten")
	wantBadInput(t, `--fit-classes "2" shares identities with --unknown "2"`, "eval", "--model", "raw", "--data", patterns, "--split", "all", "--classes", "0-1", "--unknown", "2", "--fit-classes", "2", "--metric", "whiten")
}

// TestEvalLinearNeedsTwoOfOneIdentity: --metric linear (NCA) fitted on
// identities of one image each is refused with one line, as whiten is.
// Before, NCA had no image of the same identity to draw any image
// towards: its gradient was zero, and the report was of its initial W
// (PCA of the standardised embeddings), named linear.
func TestEvalLinearNeedsTwoOfOneIdentity(t *testing.T) {
	patterns := filepath.Join(t.TempDir(), "patterns")
	writePatterns(t, patterns)
	for i, id := range []string{"d", "e", "f"} { // one image each, a's, b's and c's first
		if err := os.MkdirAll(filepath.Join(patterns, id), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(patterns, string(rune('a'+i)), "0.png"))
		if err != nil || os.WriteFile(filepath.Join(patterns, id, "0.png"), b, 0o644) != nil {
			t.Fatal(err)
		}
	}
	base := []string{"eval", "--model", "raw", "--input", "1x8x8", "--data", patterns, "--split", "all", "--classes", "a-c"}
	for _, metric := range []string{"whiten", "linear"} {
		wantBadInput(t, metric+": 3 training images of 3 classes", append(base, "--metric", metric, "--fit-classes", "d-f")...)
		wantBadInput(t, metric+": 1 training image of 1 class", append(base, "--metric", metric, "--fit-classes", "d")...)
	}
	wantBadInput(t, "none of two images: NCA learns from images of one identity", append(base, "--metric", "linear", "--fit-classes", "d-f")...)
	// Nor one identity alone: NCA's objective is 1 for every W, its
	// gradient zero (before, accepted, and the report was of the initial
	// W).
	other := base[:len(base)-2] // its --classes a-c left out: a flag is given once
	wantBadInput(t, "linear: 8 training images of 1 class, no other to tell it from: NCA learns from images of two identities or more", slices.Concat(other, []string{"--metric", "linear", "--fit-classes", "a", "--classes", "b-c"})...)
	// One identity of two images is enough.
	evalJSON(t, slices.Concat(other[1:], []string{"--metric", "linear", "--fit-classes", "a,d-f", "--classes", "b-c"})...)
}

// TestEvalUnknownWithoutImages: --unknown identities with no image in
// the evaluated split (of a folder without train/ and test/, an identity
// of fewer than 5 images has none in test) are refused with one line.
// Before, the open set had no unknown probe and printed a detection AUC
// and DIR@FAR of 0, as if the model took every unknown face for a known
// one.
func TestEvalUnknownWithoutImages(t *testing.T) {
	folder := filepath.Join(t.TempDir(), "folder")
	writeShapes(t, folder, 30) // 6 test images of each shape
	few := filepath.Join(folder, "few")
	writeShapes(t, few, 3)
	if err := renameInto(filepath.Join(few, "vertical"), filepath.Join(folder, "zz")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(few); err != nil {
		t.Fatal(err)
	}
	base := []string{"eval", "--model", "raw", "--data", folder, "--classes", "diagonal-horizontal"}
	if rep := evalJSON(t, slices.Concat(base[1:], []string{"--unknown", "vertical"})...); rep.Identification.OpenSet == nil {
		t.Errorf("--unknown vertical, of 6 test images: no open set")
	}
	wantBadInput(t, `--unknown "zz": `+folder+`, split test, has no image of these identities`, append(base, "--unknown", "zz")...)
	wantBadInput(t, `--unknown "zz": `+folder+`, split test, has no image of these identities`, append(base, "--unknown", "zz", "--json")...)
}

// TestEvalUnknownOfAll: --unknown without --classes evaluates the other
// classes, as --classes naming them does. Before, the default "all" took
// in the unknown ones too, and eval refused them as overlapping classes
// the user never named.
func TestEvalUnknownOfAll(t *testing.T) {
	folder := filepath.Join(t.TempDir(), "folder")
	writeShapes(t, folder, 30)
	base := []string{"--model", "raw", "--data", folder, "--unknown", "vertical"}
	named := evalJSON(t, append(base, "--classes", "diagonal-horizontal")...)
	if got := evalJSON(t, base...); !reflect.DeepEqual(got, named) || got.Identification.OpenSet == nil {
		t.Errorf("--unknown vertical alone:\n%+v\nwith --classes diagonal-horizontal:\n%+v", got, named)
	}
	wantBadInput(t, `--unknown "horizontal,vertical" leaves 1 class of `+folder+` to evaluate: need at least 2`,
		"eval", "--model", "raw", "--data", folder, "--unknown", "horizontal,vertical")
}

// evalJSON runs eval --json with args, fails t unless it succeeds, and
// returns its report.
func evalJSON(t *testing.T, args ...string) evalOutput {
	t.Helper()
	code, stdout, stderr := runCLI(t, append([]string{"eval", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("eval %q: exit %d: %s", args, code, stderr)
	}
	var rep evalOutput
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestTrainJSONEachStepOnce: train --json prints a step once, the last of
// an epoch with epoch_end and the held-out figures (before, that step was
// printed twice: as a step, then again as the epoch's end).
func TestTrainJSONEachStepOnce(t *testing.T) {
	dir := t.TempDir()
	writePatterns(t, dir) // 3 identities of 8 images, 2 of each held out: 4 steps of 4 an epoch
	for _, tc := range []struct {
		logEvery string
		steps    []int
	}{
		{"1", []int{1, 2, 3, 4, 5, 6, 7, 8}},
		{"3", []int{3, 4, 6, 8}}, // every third, and the epochs' ends
	} {
		code, stdout, stderr := runCLI(t, "train", "--data", dir, "--split", "all", "--input", "1x16x16", "--arch", "mlp", "--batch", "4",
			"--epochs", "2", "--json", "--log-every", tc.logEvery, "--out", filepath.Join(dir, "m.safetensors"))
		if code != 0 {
			t.Fatalf("train: exit %d: %s", code, stderr)
		}
		var steps []int
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		for _, line := range lines[:len(lines)-1] { // the last names the model (TestTrainJSONNamesModel)
			var p progress
			if err := json.Unmarshal([]byte(line), &p); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			steps = append(steps, p.Step)
			if end := p.Step%4 == 0; p.EpochEnd != end || end != (p.ValAccuracy != nil) {
				t.Errorf("--log-every %s: line %q: want epoch_end and the held-out figures at the epochs' ends only", tc.logEvery, line)
			}
		}
		if !slices.Equal(steps, tc.steps) {
			t.Errorf("--log-every %s: steps %v, want %v", tc.logEvery, steps, tc.steps)
		}
	}
}

// TestTrainJSONOutputLost: train --json whose stdout fails (a full disk)
// once the model is written says, in its one line, that the model was
// written, with status 1 still: its progress or last line is lost. Before,
// it said "no space left on device" alone, or "the output on stdout is
// incomplete" when only a progress line was lost, and a script that read
// the status took the model for not written.
func TestTrainJSONOutputLost(t *testing.T) {
	dir := t.TempDir()
	writePatterns(t, dir) // 3 identities of 8 images
	for _, tc := range []struct {
		name   string
		stdout io.Writer
	}{
		{"every write fails", &fullWriter{}},
		{"the first fails", &failFirstWriter{}},
	} {
		out := filepath.Join(t.TempDir(), "m.safetensors")
		var stderr bytes.Buffer
		code := run(context.Background(), []string{"train", "--data", dir, "--split", "all", "--input", "1x16x16", "--arch", "mlp", "--batch", "4",
			"--epochs", "1", "--json", "--log-every", "1", "--out", out}, tc.stdout, &stderr)
		want := "metriclab train: wrote " + out + ", but the output on stdout is incomplete: no space left on device\n"
		if code != 1 || stderr.String() != want {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", tc.name, code, stderr.String(), want)
		}
		if _, err := core.ReadModel(out); err != nil {
			t.Errorf("%s: the model: %v", tc.name, err)
		}
	}
}

// failFirstWriter is a stdout whose first write fails, as a full disk
// does, and whose later ones go through, as once room is made.
type failFirstWriter struct{ failed bool }

func (w *failFirstWriter) Write(p []byte) (int, error) {
	if !w.failed {
		w.failed = true
		return 0, errors.New("no space left on device")
	}
	return len(p), nil
}

// TestTrainJSONNamesModel: train --json ends, once the model file is
// written, with a line that names it and says what train says of it
// without --json: the threshold and its FAR as the file holds them, the
// held-out images, the steps, and the words of "wrote FILE (…)"; with
// --val 0, no threshold, and why. Before, the progress lines were all:
// nothing said the model was written, or where.
func TestTrainJSONNamesModel(t *testing.T) {
	dir := t.TempDir()
	writePatterns(t, dir) // 3 identities of 8 images, 2 of each held out: 4 steps of 4 an epoch
	for _, tc := range []struct {
		val       string
		earlyStop string // patience, in epochs: 2 cannot end a run of 2
		valN      int
		steps     int    // 2 epochs of the images not held out, 4 a step
		summary   string // its start
	}{
		{"5000", "0", 6, 8, "threshold "},
		{"5000", "2", 6, 8, "threshold "},
		{"0", "0", 0, 12, "no threshold: --val 0 held no images out"},
	} {
		out := filepath.Join(dir, "m"+tc.val+"-"+tc.earlyStop+".safetensors")
		code, stdout, stderr := runCLI(t, "train", "--data", dir, "--split", "all", "--input", "1x16x16", "--arch", "mlp", "--batch", "4",
			"--epochs", "2", "--val", tc.val, "--early-stop", tc.earlyStop, "--json", "--out", out)
		if code != 0 {
			t.Fatalf("train --val %s --early-stop %s: exit %d: %s", tc.val, tc.earlyStop, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		last := lines[len(lines)-1]
		var got trainedLine
		dec := json.NewDecoder(strings.NewReader(last))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil || got.Model == "" {
			t.Fatalf("train --val %s: last line %q (%v): want the model's", tc.val, last, err)
		}
		m, err := core.ReadModel(out)
		if err != nil {
			t.Fatal(err)
		}
		calibrated := tc.valN > 0
		if got.Model != out || (got.Threshold != nil) != calibrated || (got.FAR != nil) != calibrated ||
			calibrated && (*got.Threshold != m.Meta.Threshold || *got.FAR != m.Meta.FAR) ||
			got.ValImages != tc.valN || got.Steps != tc.steps || got.Steps != m.Meta.Provenance.Steps ||
			!strings.HasPrefix(got.Summary, tc.summary) {
			t.Errorf("train --val %s: last line %q; want %s, its threshold %v at FAR %v on %d held-out images, %d steps, a summary that starts %q",
				tc.val, last, out, m.Meta.Threshold, m.Meta.FAR, tc.valN, tc.steps, tc.summary)
		}
		// With early stopping, the best epoch, as the summary says it.
		if best := fmt.Sprintf("the best epoch's: %d", got.BestEpoch); tc.earlyStop == "0" && got.BestEpoch != 0 ||
			tc.earlyStop != "0" && (got.BestEpoch < 1 || got.BestEpoch > 2 || !strings.Contains(got.Summary, best)) {
			t.Errorf("train --early-stop %s: last line %q: want best_epoch with early stopping alone, as the summary says it", tc.earlyStop, last)
		}
		for _, line := range lines[:len(lines)-1] {
			if strings.Contains(line, `"model"`) {
				t.Errorf("train --val %s: progress line %q names a model", tc.val, line)
			}
		}
	}
}

// TestTrainedModelCardHasMetrics: a model that train wrote, uploaded to a
// server, has on its card the held-out figures train printed for its last
// epoch, as a job's model has (before, its card's metrics were null: the
// file held the threshold and FAR alone).
func TestTrainedModelCardHasMetrics(t *testing.T) {
	dir := t.TempDir()
	writePatterns(t, dir) // 3 identities of 8 images, 2 of each held out
	out := filepath.Join(t.TempDir(), "m.safetensors")
	code, stdout, stderr := runCLI(t, "train", "--data", dir, "--split", "all", "--input", "1x16x16", "--arch", "mlp", "--batch", "4",
		"--epochs", "2", "--val", "5000", "--json", "--out", out)
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	var last progress // the last epoch end's
	for line := range strings.SplitSeq(strings.TrimSpace(stdout), "\n") {
		var p progress
		if json.Unmarshal([]byte(line), &p) == nil && p.EpochEnd && p.ValAccuracy != nil {
			last = p
		}
	}
	if last.ValAccuracy == nil || last.ValEER == nil || last.ValClosedSetAcc == nil {
		t.Fatalf("train --json gave no epoch end with held-out figures: %s", stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Config{DataDir: t.TempDir(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(func() { srv.Close(); a.Close() })
	resp, err := http.Post(srv.URL+"/api/models", "application/octet-stream", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var card msg.ModelCard
	if err := json.NewDecoder(resp.Body).Decode(&card); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %s (%v)", resp.Status, err)
	}
	m := card.Metrics
	if m == nil {
		t.Fatalf("the uploaded model's card has no metrics: %+v", card)
	}
	if m.Accuracy != *last.ValAccuracy || m.EER != *last.ValEER || m.Centre != *last.ValClosedSetAcc ||
		m.Threshold != card.Threshold || m.FAR != card.FAR || len(m.TARAtFAR) != 3 {
		t.Errorf("card metrics %+v, threshold %g at FAR %g; want the last epoch's accuracy %g, EER %g, nearest-centre %g, at the card's threshold, and 3 TAR@FAR",
			*m, card.Threshold, card.FAR, *last.ValAccuracy, *last.ValEER, *last.ValClosedSetAcc)
	}
	// The list gives the same card.
	resp, err = http.Get(srv.URL + "/api/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []msg.ModelCard
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list) != 1 || !reflect.DeepEqual(list[0].Metrics, m) {
		t.Errorf("GET /api/models: %+v (%v); want the upload's card with metrics %+v", list, err, *m)
	}
	// A file without metrics (one written before files held them: the
	// same JSON without the key, TestModelMetrics) uploads as before,
	// its card with none.
	model, err := core.ReadModel(out)
	if err != nil {
		t.Fatal(err)
	}
	model.Meta.Metrics = nil
	var old bytes.Buffer
	if err := core.EncodeModel(&old, model); err != nil || bytes.Contains(old.Bytes(), []byte(`"metrics"`)) {
		t.Fatalf("a model without metrics: %v, or its file names them", err)
	}
	resp, err = http.Post(srv.URL+"/api/models?name=old", "application/octet-stream", &old)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil || resp.StatusCode != http.StatusCreated || string(raw["metrics"]) != "null" ||
		string(raw["threshold"]) != strconv.FormatFloat(card.Threshold, 'g', -1, 64) {
		t.Errorf("upload of a file without metrics: %s (%v): metrics %s, threshold %s; want null, %g", resp.Status, err, raw["metrics"], raw["threshold"], card.Threshold)
	}
}

// fullWriter takes n bytes, then fails every write, as a full disk does.
type fullWriter struct{ n int }

func (w *fullWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errors.New("no space left on device")
	}
	w.n -= len(p)
	return len(p), nil
}

// TestOutputIncomplete: a command whose output could not all be written on
// stdout fails with status 1 and one line saying so (before, its table or
// report was cut short, or lost, with status 0; only eval --json and bench
// --json, which check their one write, failed).
func TestOutputIncomplete(t *testing.T) {
	dir := t.TempDir()
	writePatterns(t, dir)
	for _, args := range [][]string{
		{"presets"},
		{"version"},
		{"train", "-h"},
		{"eval", "--model", "raw", "--data", dir, "--split", "all", "--classes", "a,b"},
		{"eval", "--model", "raw", "--data", dir, "--split", "all", "--classes", "a,b", "--json"},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), args, &fullWriter{n: 10}, &stderr)
		if code != 1 || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), "no space left on device") {
			t.Errorf("metriclab %q on a full disk: exit %d, stderr %q: want 1 and one line naming the error", args, code, stderr.String())
		}
	}
}

// TestServeHelpIncomplete: serve's help and flags table are its output,
// and one that could not be written fails as any command's does (before,
// status 0: serve was left out of the check whole), while a server whose
// log could not be written serves on and ends with status 0.
func TestServeHelpIncomplete(t *testing.T) {
	for _, args := range [][]string{{"serve", "-h"}, {"serve", flagsTableArg}, {"help", "serve"}} {
		var stderr bytes.Buffer
		code := run(context.Background(), args, &fullWriter{n: 10}, &stderr)
		if code != 1 || stderr.String() != "metriclab "+args[0]+": the output on stdout is incomplete: no space left on device\n" {
			t.Errorf("metriclab %q on a full disk: exit %d, stderr %q: want 1 and one line naming the error", args, code, stderr.String())
		}
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second) // it stops after a second
	defer cancel()
	var stderr bytes.Buffer
	code := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--web", emptyWebDir(t, dir), "--data-dir", filepath.Join(dir, "data")}, &fullWriter{}, &stderr)
	if code != 0 || strings.Contains(stderr.String(), "incomplete") {
		t.Errorf("serve with its log on a full disk: exit %d, stderr %q: want 0", code, stderr.String())
	}
}

// TestOutputLostStopsWork: openset and compare, which print a row as
// each is done, stop at the first write to stdout that fails, before the
// next baseline or training, with status 1 and one line (before, they
// fitted and trained every row to the end, an hour for make table's, and
// only then said the output was incomplete).
func TestOutputLostStopsWork(t *testing.T) {
	ids := sixIdentities(t)
	small := []string{"--data", ids, "--input", "1x16x16", "--arch", "mlp", "--dim", "4", "--epochs", "1", "--batch", "8", "--variant", "seed=2"}
	for _, c := range []struct {
		args    []string
		started string // the progress lines before the error's
	}{
		{append([]string{"openset"}, small...), ""},                                                  // the table's header fails
		{append([]string{"openset", "--baselines=false", "--json"}, small...), "training 1/2 mlp\n"}, // the first run's row fails
		{[]string{"compare", "--losses", "arcface", "--dims", "3", "--epochs", "1", "--arch", "mlp"}, ""},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), c.args, &fullWriter{n: 10}, &stderr)
		if want := c.started + "metriclab " + c.args[0] + ": the output on stdout is incomplete: no space left on device\n"; code != 1 || stderr.String() != want {
			t.Errorf("metriclab %q on a full disk: exit %d, stderr %q: want 1 and %q", c.args, code, stderr.String(), want)
		}
	}
}

// TestMDCell: a cell of openset's, compare's or a flags table keeps its
// row whatever its text: a | is escaped, a line break or tab is a space.
func TestMDCell(t *testing.T) {
	for in, want := range map[string]string{
		"lenet-s, augment=none":    "lenet-s, augment=none",
		"a|b":                      `a\|b`,
		"augment=none\nturns=0\tx": "augment=none turns=0 x",
		"":                         "",
	} {
		if got := mdCell(in); got != want {
			t.Errorf("mdCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFlagsTableZeroDefault: a flag whose default 0 stands for something
// its usage names ("0: half of this machine's memory", "(0: one per
// CPU)") shows that meaning in the table's default column (before, "–",
// as for a flag whose zero means nothing); a zero its usage does not
// explain, and a default that is not zero, are shown as before.
func TestFlagsTableZeroDefault(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Int64("memory", 0, "largest memory, in bytes; 0: half of this machine's memory (or of its cgroup's limit), -1: no bound")
	fs.Int("threads", 0, "CPU threads (0: one per CPU); results do not depend on it")
	fs.Int("turns", 0, "new classes (square images; 0: none)")
	fs.Int("plain", 0, "a count")
	fs.Int("val", 5000, "held out (0: none)")
	fs.Bool("quiet", false, "no output (0: what a bool never reads)")
	var b strings.Builder
	writeFlagsTable(&b, fs)
	for name, want := range map[string]string{
		"memory":  "`0`: half of this machine's memory",
		"threads": "`0`: one per CPU",
		"turns":   "`0`: none",
		"plain":   "–",
		"val":     "`5000`",
		"quiet":   "–",
	} {
		m := regexp.MustCompile("(?m)^\\| `--" + name + "` \\| (.*?) \\| ").FindStringSubmatch(b.String())
		if m == nil || m[1] != want {
			t.Errorf("the flags table's default of --%s: %q; want %q\n%s", name, m, want, b.String())
		}
	}
}

// writePatterns writes a folder of three identities, a, b and c, that raw
// pixels tell apart: each a 16×16 pattern of noise of its own, its 8
// images the pattern with a little noise of their own.
func writePatterns(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, id := range []string{"a", "b", "c"} {
		pattern := make([]uint8, 16*16)
		for i := range pattern {
			pattern[i] = uint8(rng.IntN(256))
		}
		for k := range 8 {
			img := image.NewGray(image.Rect(0, 0, 16, 16))
			for i, v := range pattern {
				img.Pix[i] = uint8(min(255, max(0, int(v)+rng.IntN(41)-20)))
			}
			if err := os.MkdirAll(filepath.Join(dir, id), 0o755); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, id, fmt.Sprintf("%d.png", k)), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestEvalAlignedModelOnMNIST: a model trained on aligned photos takes
// --align from its file; on MNIST the error says so instead of naming a
// flag the command line did not give.
func TestEvalAlignedModelOnMNIST(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, shapes, 10)
	model := filepath.Join(dir, "m.safetensors")
	if code, _, stderr := runCLI(t, "train", "--data", shapes, "--dim", "4", "--epochs", "1", "--batch", "8", "--input", "1x28x28", "--out", model); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	m, err := core.ReadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	m.Meta.Provenance.Align = true
	if err := core.WriteModel(model, m); err != nil {
		t.Fatal(err)
	}
	wantBadInput(t, model+" was trained on photos aligned by the eyes (train --align); mnist's digits are not photos to align: give --align=false", "eval", "--model", model, "--data", "mnist")
	if code, _, stderr := runCLI(t, "eval", "--model", model, "--data", "mnist", "--classes", "0-1", "--align=false", "--max-queries", "50"); code != 0 {
		t.Errorf("eval --align=false on mnist: exit %d: %s", code, stderr)
	}
}

// TestFlipTestFlag: train --flip-test stores the flip test in the model's
// spec, eval uses it by default, and eval --flip-test=false embeds without
// it, which gives other figures on the same pairs.
func TestFlipTestFlag(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, filepath.Join(shapes, "train"), 12)
	writeShapes(t, filepath.Join(shapes, "test"), 10)
	model := filepath.Join(dir, "m.safetensors")
	if code, _, stderr := runCLI(t, "train", "--data", shapes, "--dim", "8", "--epochs", "2", "--batch", "8", "--flip-test", "--out", model); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	m, err := core.ReadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Meta.Spec.FlipTest {
		t.Fatal("train --flip-test: the model's spec has no flip test")
	}
	report := func(args ...string) evalOutput {
		t.Helper()
		return evalJSON(t, append([]string{"--model", model, "--data", shapes}, args...)...)
	}
	def, on, off := report(), report("--flip-test"), report("--flip-test=false")
	if !reflect.DeepEqual(def, on) {
		t.Errorf("eval of a flip-test model: %+v by default, %+v with --flip-test", def.Verification, on.Verification)
	}
	if !(def.Verification.Accuracy > 0.5) || reflect.DeepEqual(def.Verification, off.Verification) {
		t.Errorf("verification %.4f with the flip test, %.4f without: want above chance and different", def.Verification.Accuracy, off.Verification.Accuracy)
	}
}

// TestOutputCheckedBeforeTraining: an --out that cannot be written when
// training ends (a folder, a folder that takes no new file) is refused
// with one line and status 2 before training starts, and the check
// leaves nothing in the folder (before, training ran to its end and then
// failed to write: the run was lost, with status 1).
func TestOutputCheckedBeforeTraining(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, shapes, 12)
	train := func(out string) (int, string) {
		code, _, stderr := runCLI(t, "train", "--data", shapes, "--dim", "8", "--epochs", "1", "--batch", "8", "--out", out)
		return code, stderr
	}
	folder := filepath.Join(dir, "models")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, stderr := train(folder); code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--out "+folder+" is a folder") {
		t.Errorf("--out a folder: exit %d, stderr %q: want status 2 and one line saying it is a folder", code, stderr)
	}
	out := filepath.Join(folder, "m.safetensors")
	if code, stderr := train(out); code != 0 {
		t.Fatalf("--out in a folder: exit %d: %s", code, stderr)
	}
	if entries, _ := os.ReadDir(folder); len(entries) != 1 || entries[0].Name() != "m.safetensors" {
		t.Errorf("the folder holds %v, want only m.safetensors", entries)
	}
	if os.Geteuid() == 0 {
		t.Log("running as root: a read-only folder takes new files, not checked")
		return
	}
	if err := os.Chmod(folder, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(folder, 0o755)
	if code, stderr := train(filepath.Join(folder, "n.safetensors")); code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "cannot write in the output folder") {
		t.Errorf("--out in a read-only folder: exit %d, stderr %q: want status 2 and one line", code, stderr)
	}
}

// TestTrainRecordsDataName: a model trained on a folder records the
// folder's name in its provenance, not the path given (before, an
// absolute --data went whole into the model, the user's home with it);
// mnist stays mnist, and a folder named mnist does not read as it.
func TestTrainRecordsDataName(t *testing.T) {
	dir, shapes, train := shapesTrainer(t)
	m, err := core.ReadModel(train("m.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Meta.Provenance.Data; got != "shapes" {
		t.Errorf("trained on %s: provenance data %q, want %q", shapes, got, "shapes")
	}
	t.Chdir(shapes)
	for _, c := range []struct{ data, want string }{
		{"mnist", "mnist"},
		{shapes + "/", "shapes"},
		{".", "shapes"},
		{filepath.Join(dir, "mnist"), "./mnist"},
	} {
		if got := provenanceData(c.data); got != c.want {
			t.Errorf("provenanceData(%q) = %q, want %q", c.data, got, c.want)
		}
	}
}

// TestTrainLowersDefaultBatch: train --preset faces on a folder of fewer
// training images than the preset's batch of 32 (three identities of 10:
// 18 trained on) trains with a batch of them and says so on stderr, as
// the model records; --batch 32 given is refused with the batch that
// trains. Before, both were refused: the user had to give a batch that
// the preset had chosen.
func TestTrainLowersDefaultBatch(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, shapes, 10)
	model := filepath.Join(dir, "m.safetensors")
	code, _, stderr := runCLI(t, "train", "--preset", "faces", "--data", shapes, "--epochs", "1", "--out", model)
	if code != 0 {
		t.Fatalf("train --preset faces on 30 images: exit %d: %s", code, stderr)
	}
	line := regexp.MustCompile(`(?m)^batch (\d+): the (\d+) training images \(the faces preset's batch is 32\)$`).FindStringSubmatch(stderr)
	if line == nil || line[1] != line[2] {
		t.Fatalf("stderr %q; want a line \"batch N: the N training images (the faces preset's batch is 32)\"", stderr)
	}
	m, err := core.ReadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	if got := strconv.Itoa(m.Meta.Provenance.Batch); got != line[1] {
		t.Errorf("the model records batch %s; want %s, as train said", got, line[1])
	}
	code, _, stderr = runCLI(t, "train", "--preset", "faces", "--data", shapes, "--epochs", "1", "--batch", "32", "--out", model)
	if want := "fewer than one batch of 32: give a batch of " + line[1] + " or less"; code != 2 || !strings.Contains(stderr, want) {
		t.Errorf("--batch 32 given: exit %d, %q; want 2 and %q", code, stderr, want)
	}
}

// TestTrainRefusesIdentityWithoutImage: an identity trained on whose
// images of the training split were all skipped (under 8 pixels a side)
// is refused in one line naming it, exit 2, with no model written, as a
// server job on such a data set is (400); left out with --classes, the
// others train. Before, train said `no usable image of "tiny"` and
// trained its class anyway, a row of the head with no image.
func TestTrainRefusesIdentityWithoutImage(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, shapes, 10)
	if err := os.MkdirAll(filepath.Join(shapes, "tiny"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		writePixel(t, filepath.Join(shapes, "tiny", fmt.Sprintf("t%d.png", i)))
	}
	model := filepath.Join(dir, "m.safetensors")
	code, _, stderr := runCLI(t, "train", "--data", shapes, "--arch", "mlp", "--epochs", "1", "--out", model)
	last := strings.TrimSpace(stderr)
	last = last[strings.LastIndex(last, "\n")+1:]
	if code != 2 || !strings.Contains(last, `no usable image of "tiny" to train on`) || !strings.Contains(last, "--classes") {
		t.Errorf("train with an identity of images all skipped: exit %d, last line %q; want 2 and one line naming \"tiny\" and --classes", code, last)
	}
	if _, err := os.Stat(model); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a model was written (%v)", err)
	}
	code, _, stderr = runCLI(t, "train", "--data", shapes, "--classes", "diagonal,horizontal,vertical", "--arch", "mlp", "--epochs", "1", "--out", model)
	if code != 0 {
		t.Errorf("train without tiny: exit %d: %s", code, stderr)
	}
}

// TestTrainNamesUnprintableIdentityFolder: an identity folder whose name
// is not printable text (not UTF-8, here) is refused by its path, with
// what to do (before, "the training classes: class 0's name \"a\xe9b\" is
// not printable text", which named no folder), by train and by openset;
// left out with --classes, the others train.
func TestTrainNamesUnprintableIdentityFolder(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, shapes, 10)
	if err := os.Rename(filepath.Join(shapes, "diagonal"), filepath.Join(shapes, "a\xe9b")); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "m.safetensors")
	want := fmt.Sprintf("identity folder %q: its name is not printable text (not UTF-8, or a control character), which a model cannot name a class: rename the folder, or leave it out of the classes trained on (train's --classes, openset's --train-classes)",
		filepath.Join(shapes, "a\xe9b"))
	wantBadInput(t, want, "train", "--data", shapes, "--arch", "mlp", "--epochs", "1", "--out", model)
	ids := sixIdentities(t)
	if err := os.Rename(filepath.Join(ids, "a-diagonal"), filepath.Join(ids, "a\xe9b")); err != nil {
		t.Fatal(err)
	}
	wantBadInput(t, fmt.Sprintf("identity folder %q: its name is not printable text", filepath.Join(ids, "a\xe9b")), "openset", "--data", ids, "--arch", "mlp", "--epochs", "1")
	if code, _, stderr := runCLI(t, "train", "--data", shapes, "--classes", "horizontal,vertical", "--arch", "mlp", "--epochs", "1", "--val", "0", "--out", model); code != 0 {
		t.Errorf("train without it: exit %d: %s", code, stderr)
	}
}

// TestTrainKeepsModelWhenOutFails: a trained model whose --out cannot be
// written (its folder removed during the run, after checkOutput) is kept
// in the system's temporary folder, and the error names the file
// (before, the error named --out only: the trained model was lost).
func TestTrainKeepsModelWhenOutFails(t *testing.T) {
	_, _, train := shapesTrainer(t)
	m, err := core.ReadModel(train("m.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // os.TempDir
	err = writeTrained(filepath.Join(t.TempDir(), "gone", "m.safetensors"), m)
	kept, _ := filepath.Glob(filepath.Join(tmp, "metriclab-*.safetensors"))
	if err == nil || len(kept) != 1 || !strings.Contains(err.Error(), "the model is kept in "+kept[0]) {
		t.Fatalf("write to a removed folder: error %v, files kept %v: want one, named by the error", err, kept)
	}
	if k, err := core.ReadModel(kept[0]); err != nil || !reflect.DeepEqual(k.Params, m.Params) || !reflect.DeepEqual(k.Meta, m.Meta) {
		t.Errorf("the model kept in %s: %v: want the trained one", kept[0], err)
	}
}

// TestMain runs metriclab itself when a test starts the test binary with
// METRICLAB_TEST_MAIN=1 (see startMain), so that tests can signal it.
func TestMain(m *testing.M) {
	if os.Getenv("METRICLAB_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// output is what a process has written so far, safe to read while it
// writes.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// startMain starts metriclab with args in dir and returns it with its
// stdout and stderr.
func startMain(t *testing.T, dir string, args ...string) (cmd *exec.Cmd, stdout, stderr *output) {
	t.Helper()
	cmd = exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "METRICLAB_TEST_MAIN=1")
	stdout, stderr = new(output), new(output)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stdout, stderr
}

// waitFor waits at most d for cmd to end and reports whether it did; it
// kills it otherwise.
func waitFor(cmd *exec.Cmd, d time.Duration) bool {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		return false
	}
}

// TestInterrupt: Ctrl-C ends eval at once, with no report (before, the
// signal was caught and ignored: eval --metric linear ran its half minute
// of NCA to the end and printed its report, status 0); it stops train
// after its step, saying so, with status 130 and the old model kept.
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("trains and evaluates on MNIST")
	}
	dir := t.TempDir()
	cmd, stdout, stderr := startMain(t, dir, "eval", "--model", "raw", "--metric", "linear")
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	if !waitFor(cmd, 15*time.Second) {
		t.Errorf("eval still running 15 s after Ctrl-C")
	} else if cmd.ProcessState.Success() || stdout.String() != "" {
		t.Errorf("eval after Ctrl-C: %v, stdout %q, stderr %q: want it ended by the signal, no report", cmd.ProcessState, stdout, stderr)
	}

	model := filepath.Join(dir, "m.safetensors")
	if err := os.WriteFile(model, []byte("the last model"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, _, stderr = startMain(t, dir, "train", "--epochs", "1", "--out", model)
	for start := time.Now(); !strings.Contains(stderr.String(), "training "); time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > time.Minute {
			t.Fatalf("train did not start in a minute: %q", stderr)
		}
	}
	cmd.Process.Signal(os.Interrupt)
	if !waitFor(cmd, 30*time.Second) {
		t.Fatal("train still running 30 s after Ctrl-C")
	}
	last := strings.TrimSpace(stderr.String())
	last = last[strings.LastIndex(last, "\n")+1:]
	if code := cmd.ProcessState.ExitCode(); code != 130 || last != "metriclab train: interrupted, nothing written" {
		t.Errorf("train after Ctrl-C: status %d, last line %q: want 130 and that nothing was written", code, last)
	}
	if b, _ := os.ReadFile(model); string(b) != "the last model" {
		t.Errorf("the model file holds %q after an interrupted train", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %v, want the model file alone", entries)
	}
}

// TestPrecompressInterrupt: Ctrl-C stops serve --precompress while it
// compresses, with status 130, and leaves neither a compressed copy nor a
// temporary file (before, serve caught the signal for its server and
// ignored it here: the two copies of 16 MB were compressed to the end and
// written, status 0).
func TestPrecompressInterrupt(t *testing.T) {
	dir := t.TempDir()
	wasm := filepath.Join(dir, "app.wasm")
	b := make([]byte, 16<<20) // random bytes: slow to compress
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(wasm, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, stdout, stderr := startMain(t, dir, "serve", "--precompress", wasm)
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		if entries, _ := os.ReadDir(dir); len(entries) > 1 {
			break // the temporary file of app.wasm.gz
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("serve --precompress wrote nothing in a minute: %q", stderr)
		}
	}
	cmd.Process.Signal(os.Interrupt)
	if !waitFor(cmd, 30*time.Second) {
		t.Fatal("serve --precompress still running 30 s after Ctrl-C")
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 || stderr.String() != "metriclab serve: interrupted, nothing written\n" || stdout.String() != "" {
		t.Errorf("serve --precompress after Ctrl-C: status %d, stdout %q, stderr %q: want 130 and that nothing was written", code, stdout, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %v, want app.wasm alone", entries)
	}
}

// TestMaxMemory: train, openset and compare refuse a training whose
// estimate (job.Job.TrainBytes) is over --max-memory in one line with the
// estimate and the bound, status 2, before any training, and write no
// model; compare checks every loss and D before the first run (before,
// the command line set no bound: a training too large for the machine
// ended in Go's "fatal error: out of memory" and a goroutine dump, or was
// killed by the kernel).
func TestMaxMemory(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes") // train/ and test/: an open set of 3 identities
	writeShapes(t, filepath.Join(shapes, "train"), 10)
	writeOtherShapes(t, filepath.Join(shapes, "test"), 5)
	over := regexp.MustCompile(`^metriclab \w+: (\w+ D=\d+: )?training this job takes about [0-9.]+ [KMG]iB of memory \(batch 8, arch lenet-s, \d+ classes\), more than is allowed \(1000 bytes\): ask for a smaller batch or model; --max-memory sets the bound \(-1: none\)\n$`)
	out := filepath.Join(dir, "m.safetensors")
	small := []string{"--data", shapes, "--dim", "8", "--epochs", "1", "--batch", "8", "--max-memory", "1000"}
	for _, args := range [][]string{
		append([]string{"train", "--out", out}, small...),
		append([]string{"openset", "--baselines=false"}, small...),
		append([]string{"openset", "--variant", "seed=2"}, small...),
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 2 || stdout != "" || !over.MatchString(stderr) {
			t.Errorf("metriclab %q: status %d, stdout %q, stderr %q: want status 2 and the estimate over 1000 bytes", args, code, stdout, stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %v, want shapes alone", entries)
	}
	wantBadInput(t, "--max-memory -2: must be -1 (no bound), 0 (half of this machine's memory) or more", "train", "--out", out, "--max-memory", "-2")
	wantBadInput(t, "--max-memory -2: must be -1", "compare", "--max-memory", "-2")
	wantBadInput(t, "--max-memory -2: must be -1", slices.Concat([]string{"openset"}, small[:len(small)-2], []string{"--max-memory", "-2"})...)
	wantBadInput(t, `variant "max-memory=1": max-memory bounds every run's training`, append([]string{"openset", "--variant", "max-memory=1"}, small...)...)

	// compare: a bound that the first run fits and the second D does not
	// is refused before the first row, naming the run.
	f, err := parseCompare([]string{"--losses", "arcface", "--dims", "3"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	f.mf.loss, f.mf.dim = "arcface", 3
	j, err := newTrainingJob(&f.mf, plainSource, "mnist", "train", "", mnistDigits, 1, 5000, "cpu", true)
	if err != nil {
		t.Fatal(err)
	}
	bound := strconv.FormatInt(j.TrainBytes(), 10) // the closed set's, of more classes than the open set's
	code, stdout, stderr := runCLI(t, "compare", "--losses", "arcface", "--dims", "3,64", "--epochs", "1", "--baselines=false", "--max-memory", bound)
	if code != 2 || stdout != "" || !regexp.MustCompile(`^metriclab compare: arcface D=64: training this job takes about .* more than is allowed \(.*\).*--max-memory sets the bound`).MatchString(stderr) {
		t.Errorf("compare --dims 3,64 --max-memory %s (D=3's estimate): status %d, stdout %q, stderr %q: want status 2 and D=64 refused before any row", bound, code, stdout, stderr)
	}
}

// TestBadInputBeforeAnyWork: compare and openset refuse a bad value, of
// the recipe or of any variant, before they print a row or train (before,
// compare ran its baselines, and openset the baselines and the runs before
// the bad one, then refused it; openset took a negative --max-queries;
// compare trained a loss or a D listed twice twice, and printed an empty
// table with status 0 for --losses none --baselines=false; openset trained
// a variant that trains as the recipe or as another variant).
func TestBadInputBeforeAnyWork(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, filepath.Join(shapes, "train"), 10)
	writeOtherShapes(t, filepath.Join(shapes, "test"), 5)
	same := filepath.Join(dir, "same")
	writeShapes(t, filepath.Join(same, "train"), 10)
	writeShapes(t, filepath.Join(same, "test"), 5)
	small := []string{"--data", shapes, "--dim", "8", "--epochs", "1", "--batch", "8"}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"compare epochs", []string{"compare", "--losses", "arcface", "--dims", "3", "--epochs", "0", "--baselines=false"}, "epochs 0 out of range"},
		{"compare open-eval", []string{"compare", "--losses", "arcface", "--dims", "3", "--epochs", "1", "--baselines=false", "--open-eval", "5-12"}, `--open-eval "5-12": 12 is out of range`},
		{"compare baselines only, bad open-eval", []string{"compare", "--losses", "none", "--open-eval", "5-12"}, `--open-eval "5-12": 12 is out of range`},
		{"compare overlapping open set", []string{"compare", "--losses", "arcface", "--dims", "3", "--epochs", "1", "--open-train", "0-5", "--open-eval", "5-9"}, `--open-train "0-5" and --open-eval "5-9" share class "5"`},
		// Spaces around the items of --losses and --dims are the lists': the
		// refusal is the open set's, which comes after both are read.
		{"compare lists with spaces", []string{"compare", "--losses", "arcface, cosface", "--dims", "3, 64", "--epochs", "1", "--open-train", "0-5", "--open-eval", "5-9"}, `--open-train "0-5" and --open-eval "5-9" share class "5"`},
		// A loss or a D listed twice would train the same runs twice; the
		// bad --open-eval is refused after the lists are read.
		{"compare loss listed twice", []string{"compare", "--losses", "cosface,arcface, cosface", "--dims", "3", "--open-eval", "5-12"}, `losses "cosface,arcface, cosface": cosface is listed twice`},
		{"compare dim listed twice", []string{"compare", "--losses", "arcface", "--dims", "3,64,03", "--open-eval", "5-12"}, `dims "3,64,03": 3 is listed twice`},
		// --losses none is the baselines alone: without them, an empty table.
		{"compare nothing", []string{"compare", "--losses", "none", "--baselines=false"}, "--losses none compares the baselines alone, and --baselines=false leaves them out: nothing to compare"},
		{"compare miner nobody takes", []string{"compare", "--losses", "arcface,cosface", "--miner", "hard"}, "--miner: none of the losses compared (arcface, cosface) takes it"},
		{"compare glyphs nobody takes", []string{"compare", "--losses", "triplet", "--glyphs", "5"}, "--glyphs: none of the losses compared (triplet) takes it"},
		{"compare glyphs out of range, triplet first", []string{"compare", "--losses", "triplet,arcface", "--glyphs", "5000"}, "glyphs 5000 out of range [0, 1000]"},
		// triplet is not the first loss, whose training compare prepares.
		{"compare triplet batch of one class", []string{"compare", "--losses", "arcface,triplet", "--dims", "3", "--epochs", "1", "--batch", "6"}, "batch 6 with triplet's k = 4 holds one class"},
		{"compare glyphs negative", []string{"compare", "--losses", "triplet,arcface", "--glyphs", "-1"}, "glyphs -1 out of range [0, 1000]"},
		{"openset variant", append([]string{"openset", "--variant", "lr=-1"}, small...), `variant "lr=-1": adam: learning rate -1`},
		{"openset second variant", append([]string{"openset", "--variant", "seed=2", "--variant", "wd=-1 seed=3"}, small...), `variant "wd=-1 seed=3": adam: weight decay -1`},
		// The variant's loss and preset are named as its other values are.
		{"openset variant loss", append([]string{"openset", "--variant", "loss=bogus"}, small...), `variant "loss=bogus": unknown loss "bogus"`},
		{"openset variant loss parameter", append([]string{"openset", "--variant", "s=-1"}, small...), `variant "s=-1": arcface: s = -1 out of range`},
		{"openset variant preset", append([]string{"openset", "--variant", "preset=cats"}, small...), `variant "preset=cats": unknown preset "cats"`},
		{"openset eval classes", append([]string{"openset", "--baselines=false", "--eval-classes", "1-7"}, small...), `--eval-classes "1-7": 7 is out of range`},
		{"eval unknown out of range", []string{"eval", "--model", "raw", "--classes", "0-8", "--unknown", "12"}, `--unknown "12": 12 is out of range`},
		{"eval unknown overlapping", []string{"eval", "--model", "raw", "--classes", "0-8", "--unknown", "8-9"}, `unknown classes "8-9" overlap the evaluated classes`},
		{"serve max job memory", []string{"serve", "--max-job-memory", "-2", "--data-dir", filepath.Join(t.TempDir(), "d")}, "--max-job-memory -2: must be -1 (no bound), 0 (half of this machine's memory) or more"},
		{"openset people in train/ and test/", []string{"openset", "--data", same, "--train-classes", "vertical"}, `"vertical" is in train/ and test/: an open set evaluates identities never trained on`},
		{"openset digits trained on", []string{"openset", "--train-classes", "0-4", "--eval-classes", "3-9"}, `--train-classes "0-4" and --eval-classes "3-9" share class "3"`},
		{"compare open set of every class", []string{"compare", "--losses", "arcface", "--dims", "3", "--epochs", "1", "--open-train", ""}, `--open-train "" (every class) and the default --open-eval "5-9" share class "5"`},
		{"openset digits trained on by default", []string{"openset", "--eval-classes", "3-9"}, `the default --train-classes "0-4" and --eval-classes "3-9" share class "3"`},
		{"openset max queries", append([]string{"openset", "--baselines=false", "--max-queries", "-1"}, small...), "--max-queries -1: must be 0 (all) or more"},
		{"eval max queries", []string{"eval", "--model", "raw", "--max-queries", "-1"}, "--max-queries -1: must be 0 (all) or more"},
		{"train val", []string{"train", "--val", "-1", "--out", filepath.Join(t.TempDir(), "m.safetensors")}, "--val -1: must be 0 (none) or more"},
		{"openset ensemble of one run", append([]string{"openset", "--ensemble"}, small...), "--ensemble needs runs to combine: give one --variant or more"},
		{"openset ensemble of other photos", append([]string{"openset", "--ensemble", "--variant", "align=true"}, small...), `variant "align=true": with --ensemble every run embeds the same photos`},
		{"openset variant of other data", append([]string{"openset", "--variant", "data=mnist"}, small...), `variant "data=mnist": data is the open set's, one for every run: give --data outside --variant`},
		{"openset variant of other classes", append([]string{"openset", "--variant", "seed=2 train-classes=0-1"}, small...), `variant "seed=2 train-classes=0-1": train-classes is the open set's`},
		{"openset variant of json", append([]string{"openset", "--variant", "json=true"}, small...), `variant "json=true": json is the open set's`},
		{"openset ensemble of other aligned crops", append([]string{"openset", "--ensemble", "--align", "--variant", "input=1x24x24"}, small...), `variant "input=1x24x24": with --ensemble every run embeds the same photos`},
		// An empty variant would train the recipe again, its row the recipe's.
		{"openset empty variant", append([]string{"openset", "--variant", ""}, small...), `variant "": want flag=value pairs, e.g. augment=none`},
		{"openset blank variant", append([]string{"openset", "--variant", "seed=2", "--variant", " "}, small...), `variant " ": want flag=value pairs, e.g. augment=none`},
		{"openset variant crop", append([]string{"openset", "--variant", "crop=middle"}, small...), `variant "crop=middle": crop "middle": want centre`},
		// A variant that trains as the recipe or as another variant would
		// print its row again after its whole training (before, it trained).
		{"openset variant of the recipe's values", append([]string{"openset", "--variant", "seed=2", "--variant", "epochs=1 seed=1"}, small...), `variant "epochs=1 seed=1" changes nothing: the recipe trains so already`},
		{"openset variant of a preset's value", append([]string{"openset", "--preset", "digits", "--variant", "loss=normsoftmax"}, small...), `variant "loss=normsoftmax" changes nothing`},
		// A loss parameter or weight decay given its default trains as
		// the recipe: arcface's m is 0.5, sgd's weight decay 5e-4.
		{"openset variant of a default loss parameter", append([]string{"openset", "--variant", "m=0.5"}, small...), `variant "m=0.5" changes nothing`},
		{"openset variant of a default weight decay", append([]string{"openset", "--opt", "sgd", "--variant", "wd=0.0005"}, small...), `variant "wd=0.0005" changes nothing`},
		{"openset variant of a default as another", append([]string{"openset", "--variant", "seed=2", "--variant", "seed=2 m=0.5"}, small...), `variant "seed=2 m=0.5" trains as variant "seed=2"`},
		// The miner and distance a pair loss takes when none is given:
		// triplet's semihard, cosine.
		{"openset variant of the default miner", append([]string{"openset", "--loss", "triplet", "--variant", "miner=semihard"}, small...), `variant "miner=semihard" changes nothing`},
		{"openset variant of the default distance", append([]string{"openset", "--loss", "contrastive", "--variant", "distance=cosine"}, small...), `variant "distance=cosine" changes nothing`},
		// The input a folder's images take when none is given: 1x32x32.
		{"openset variant of the default input", append([]string{"openset", "--variant", "input=1x32x32"}, small...), `variant "input=1x32x32" changes nothing`},
		{"openset variant of the default miner as another", append([]string{"openset", "--loss", "triplet", "--variant", "seed=2", "--variant", "seed=2 miner=semihard distance=cosine"}, small...), `variant "seed=2 miner=semihard distance=cosine" trains as variant "seed=2"`},
		{"openset variant twice", append([]string{"openset", "--variant", "seed=2", "--variant", "seed=2"}, small...), `variant "seed=2" is given twice`},
		{"openset variant as another", append([]string{"openset", "--variant", "seed=2 dim=4", "--variant", "dim=4 seed=2"}, small...), `variant "dim=4 seed=2" trains as variant "seed=2 dim=4"`},
		{"openset variant of a dash alone", append([]string{"openset", "--variant", "--=4"}, small...), `variant "--=4": want flag=value pairs, e.g. augment=none`},
		// A flag set twice in a variant trained the last value under a
		// name of both.
		{"openset variant of one flag twice", append([]string{"openset", "--variant", "dim=4 dim=5"}, small...), `variant "dim=4 dim=5" sets dim twice`},
		{"openset variant of one flag twice with dashes", append([]string{"openset", "--variant", "dim=4 --dim=5"}, small...), `variant "dim=4 --dim=5" sets dim twice`},
		// --threads changes the speed alone: its row was the recipe's.
		{"openset variant of threads", append([]string{"openset", "--variant", "threads=1"}, small...), `variant "threads=1": threads changes how fast a run trains, not what it learns: give --threads outside --variant`},
		{"openset variant of threads with dashes", append([]string{"openset", "--variant", "seed=2 --threads=1"}, small...), `variant "seed=2 --threads=1": threads changes how fast`},
		{"train align turns without align", []string{"train", "--data", shapes, "--align-turns", "4", "--out", filepath.Join(dir, "m.safetensors")}, "--align-turns 4 turns photos before aligning them: give --align too"},
		// Before the data is read: a folder that is not there is not named.
		{"train log-every", []string{"train", "--data", filepath.Join(dir, "none"), "--json", "--log-every", "0", "--out", filepath.Join(dir, "m.safetensors")}, "--log-every 0: must be 1 or more"},
		// Before, taken and ignored: the bar drew every step whatever it.
		{"train log-every without json", []string{"train", "--data", filepath.Join(dir, "none"), "--log-every", "5", "--out", filepath.Join(dir, "m.safetensors")}, "--log-every 5 is for --json: without it, progress is a bar"},
		{"train align turns out of range", []string{"train", "--data", shapes, "--align", "--align-turns", "21", "--out", filepath.Join(dir, "m.safetensors")}, "align-turns 21 out of range [0, 20]"},
		// job.New's other checks of the flags alone, before the data too.
		// The device's name is parsed with the flags (the device is
		// probed after every check of them), so the docs' commands are
		// held to it too.
		{"train device", []string{"train", "--data", filepath.Join(dir, "none"), "--device", "gpu", "--epochs", "0", "--out", filepath.Join(dir, "m.safetensors")}, `unknown device "gpu" (want cpu, cuda, auto or cuda-emu)`},
		{"bench device", []string{"bench", "--device", "gpu", "--seconds", "0"}, `unknown device "gpu"`},
		{"train early-stop", []string{"train", "--data", filepath.Join(dir, "none"), "--early-stop", "-1", "--out", filepath.Join(dir, "m.safetensors")}, "early stop after -1 epochs out of range [0, 10000]"},
		{"train glyphs with triplet", []string{"train", "--data", filepath.Join(dir, "none"), "--loss", "triplet", "--glyphs", "5", "--out", filepath.Join(dir, "m.safetensors")}, "glyphs with triplet: its batches of P classes × K images"},
		{"openset variant align turns without align", append([]string{"openset", "--variant", "align-turns=3"}, small...), `variant "align-turns=3": --align-turns 3 turns photos before aligning them: give --align too`},
		{"openset variant align turns out of range", append([]string{"openset", "--align", "--variant", "align-turns=25"}, small...), `variant "align-turns=25": align-turns 25 out of range [0, 20]`},
	} {
		t.Run(c.name, func(t *testing.T) { wantBadInput(t, c.want, c.args...) })
	}
}

// TestBadInputBeforeTheLoad: a refusal that the flags and the folder's
// names decide comes before the data is loaded, its line alone on stderr,
// with no line of the load before it (a file the load skips makes one:
// "load DIR (all): 72 images, 1 skipped: …"). Before, openset refused a
// --train-classes of one class, and one of a person in train/ and test/,
// after loading the evaluated split, and eval a metric that fits with no
// identity to fit it on after loading (and embedding) the evaluated
// images; train and openset refused what job.New refuses of the classes'
// names and the input's shape (the glyphs' memory, the composed classes,
// an identity named as a glyph) after loading the training images
// (openset the evaluated ones too); eval and openset refused a split too
// small to evaluate, and eval --unknown identities without an image in
// it, after loading it, though the folder's listing tells.
func TestBadInputBeforeTheLoad(t *testing.T) {
	ids := sixIdentities(t)
	notes := func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	notes(filepath.Join(ids, "b-vertical"))
	same := filepath.Join(t.TempDir(), "same")
	writeShapes(t, filepath.Join(same, "train"), 10)
	writeShapes(t, filepath.Join(same, "test"), 5)
	notes(filepath.Join(same, "test", "vertical"))
	emptyTrain := filepath.Join(t.TempDir(), "open")
	writeShapes(t, filepath.Join(emptyTrain, "test"), 5)
	notes(filepath.Join(emptyTrain, "test", "vertical"))
	if err := os.Mkdir(filepath.Join(emptyTrain, "train"), 0o755); err != nil {
		t.Fatal(err)
	}
	// 17 identities, one named as a glyph class: 17⁴ classes of 2x2
	// parts are more than data.MaxComposedClasses.
	many := filepath.Join(t.TempDir(), "many")
	bar, err := os.ReadFile(filepath.Join(ids, "a-horizontal", "horizontalaa.png"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 17 {
		name := fmt.Sprintf("id%02d", i)
		if i == 16 {
			name = "glyph 1"
		}
		writeCopies(t, filepath.Join(many, name), bar, 5)
	}
	notes(filepath.Join(many, "id00"))
	// Three identities of 10 images, and zz of 3, none in the test split.
	few := filepath.Join(t.TempDir(), "few")
	writeShapes(t, few, 10)
	writeCopies(t, filepath.Join(few, "zz"), bar, 3)
	notes(filepath.Join(few, "horizontal"))
	// Identities of 4 images, none in the test split; and a test/ of one
	// image each.
	four := filepath.Join(t.TempDir(), "four")
	writeShapes(t, four, 4)
	notes(filepath.Join(four, "vertical"))
	one := filepath.Join(t.TempDir(), "one")
	writeShapes(t, filepath.Join(one, "train"), 10)
	writeOtherShapes(t, filepath.Join(one, "test"), 1)
	notes(filepath.Join(one, "test", "other-vertical"))
	out := filepath.Join(t.TempDir(), "m.safetensors")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"openset one class", []string{"openset", "--data", ids, "--train-classes", "0"}, `--train-classes "0": need at least 2 classes`},
		{"openset people in train/ and test/", []string{"openset", "--data", same, "--train-classes", "vertical"}, `"vertical" is in train/ and test/`},
		{"eval nothing to fit on", []string{"eval", "--model", "raw", "--data", ids, "--split", "all", "--metric", "whiten"}, "every identity is evaluated or unknown, none is left to fit the metric"},
		{"eval nothing to fit on but unknown", []string{"eval", "--model", "raw", "--data", ids, "--split", "all", "--unknown", "0-1", "--metric", "linear"}, "every identity is evaluated or unknown"},
		{"eval empty train/", []string{"eval", "--model", "raw", "--data", emptyTrain, "--metric", "whiten"}, "train has no identity folders"},
		// The identities of under 5 images have none in a folder's test split.
		{"eval unknown without images", []string{"eval", "--model", "raw", "--data", few, "--classes", "0-2", "--unknown", "zz"}, `--unknown "zz": ` + few + `, split test, has no image of these identities`},
		// The listing's image counts (data.ImageCounts) of a split that
		// cannot be evaluated.
		{"eval empty test split", []string{"eval", "--model", "raw", "--data", four}, four + ", split test: 0 images; evaluation needs 2 identities of 2 images or more, it has 0"},
		{"openset test/ of one image each", []string{"openset", "--data", one}, ", split test: 3 images; evaluation needs 2 identities"},
		// An --expand K of the listing's images or more.
		{"eval expand of every image", []string{"eval", "--model", "raw", "--data", ids, "--split", "all", "--expand", "72"}, "--expand 72: the 72 evaluated images would each become the mean of all of them"},
		{"openset expand of every image", []string{"openset", "--data", ids, "--expand", "36"}, "--expand 36: the 36 evaluated images"},
		// job.New's refusals of the classes' names and the input's shape.
		{"train glyphs of large images", []string{"train", "--data", ids, "--input", "3x256x256", "--glyphs", "100", "--out", out}, "glyphs 100: at most 17 classes of 3×256×256 images"},
		{"train composed classes", []string{"train", "--data", many, "--compose", "2x2", "--out", out}, "compose 2x2 of 17 classes makes more than 65536 classes"},
		{"train identity named as a glyph", []string{"train", "--data", many, "--glyphs", "3", "--out", out}, `the training classes: class "glyph 1" is named twice`},
		{"openset variant glyphs of large images", []string{"openset", "--data", ids, "--input", "3x256x256", "--batch", "8", "--variant", "glyphs=100"}, `variant "glyphs=100": glyphs 100: at most 17 classes`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, c.args...)
			if want := "metriclab " + c.args[0] + ": "; code != 2 || stdout != "" || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q: want status 2 and the line %q… alone, containing %q", code, stdout, stderr, want, c.want)
			}
		})
	}
}

// writeCopies writes n copies of the image file img in the folder dir,
// which it makes, as 0.png, 1.png and on.
func writeCopies(t *testing.T, dir string, img []byte, n int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for k := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.png", k)), img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpenSetVariantBeforeTheLoad: an openset --variant with an --align or
// an --input that mnist does not take is refused before any image is
// loaded: with a $METRICLAB_MNIST of no files, the variant's line, not
// the load's error (before, the recipe's test split was loaded first, a
// second of MNIST, and the variant refused after it).
func TestOpenSetVariantBeforeTheLoad(t *testing.T) {
	t.Setenv("METRICLAB_MNIST", t.TempDir())
	for _, c := range []struct {
		variant, want string
	}{
		{"input=1x32x32", `variant "input=1x32x32": data: mnist images are 1×28×28, not 1×32×32`},
		{"input=3x28x28", `variant "input=3x28x28": data: mnist images are 1×28×28, not 3×28×28`},
		{"align=true", `variant "align=true": --align is for folders of photos, not mnist`},
	} {
		wantBadInput(t, c.want, "openset", "--data", "mnist", "--variant", c.variant)
	}
}

// TestExpandBeforeTheMNISTLoad: an --expand K of MNIST's evaluated images
// or more is refused before its images are read, on the counts of its
// labels file: on a $METRICLAB_MNIST of 6 test images a digit whose file
// of images does not decode, the refusal, not the load's error (before,
// MNIST's test split was loaded first, then refused).
func TestExpandBeforeTheMNISTLoad(t *testing.T) {
	dir := t.TempDir()
	writeSmallMNIST(t, dir, 6)
	if err := os.WriteFile(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), []byte("not loaded"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("METRICLAB_MNIST", dir)
	wantBadInput(t, "--expand 12: the 12 evaluated images would each become the mean of all of them", "eval", "--model", "raw", "--classes", "0-1", "--expand", "12")
	wantBadInput(t, "--expand 30: the 30 evaluated images", "openset", "--expand", "30")
}

// TestBenchFlags: bench refuses a NaN or infinite --seconds, --tf32 on
// the CPU and the flags it does not measure, measures one step at least,
// and applies --preset (before, NaN and 1e-300 seconds printed 0 img/s
// and +Inf ms a step over 0 steps with status 0, Inf ran forever, and
// --preset, --tf32, --augment and --schedule were ignored: bench's run of
// 2^30 steps never leaves its schedule's start).
func TestBenchFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--seconds", "NaN"}, `--seconds "NaN": want a finite decimal number`},
		{[]string{"--seconds", "Inf"}, `--seconds "Inf": want a finite decimal number`},
		{[]string{"--seconds", "0"}, "seconds 0: want a finite value > 0"},
		{[]string{"--warmup", "0"}, "--warmup 0: want 1 to 1000 steps"},
		{[]string{"--tf32"}, "--tf32 is for the cuda device: the CPU engine computes in float32"},
		{[]string{"--augment", "faces"}, "--augment is not measured"},
		{[]string{"--schedule", "step"}, "--schedule is not measured"},
		{[]string{"--preset", "cats"}, `unknown preset "cats"`},
		{[]string{"--preset", "faces", "--device", "cuda-emu"}, "device cuda-emu: the CUDA engine has no crop, so no views: bench them on the cpu"},
		{[]string{"--crop", "upper", "--device", "cuda"}, "device cuda: the CUDA engine has no crop"},
	} {
		wantBadInput(t, c.want, append([]string{"bench"}, c.args...)...)
	}
	// Bounded (before, 1e9 steps or 1e12 s ran until killed): parsed
	// alone, so that no bench runs where they are not.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--warmup", "1000000000"}, "--warmup 1000000000: want 1 to 1000 steps"},
		{[]string{"--seconds", "1e12"}, "--seconds 1e+12: at most 3600 (a throughput settles within seconds; train measures a longer run)"},
	} {
		if _, err := parseBench(c.args, io.Discard); err == nil || err.Error() != c.want {
			t.Errorf("bench %q: %v, want %q", c.args, err, c.want)
		}
	}
	bench := func(args ...string) benchResult {
		t.Helper()
		code, stdout, stderr := runCLI(t, append([]string{"bench", "--json", "--warmup", "1", "--seconds", "1e-300"}, args...)...)
		if code != 0 {
			t.Fatalf("bench %q: exit %d: %s", args, code, stderr)
		}
		var r benchResult
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("bench %q: %q: %v", args, stdout, err)
		}
		return r
	}
	if r := bench("--arch", "mlp"); r.Steps != 1 || !(r.ImgPerS > 0) || math.IsInf(r.MsStep, 0) {
		t.Errorf("bench for 1e-300 s: %d steps, %g img/s, %g ms a step: want one step measured", r.Steps, r.ImgPerS, r.MsStep)
	}
	r := bench("--preset", "faces", "--batch", "4")
	if got := fmt.Sprintf("%s %s %s D=%d views %s batch %d threads %d", r.Arch, r.Input, r.Loss, r.Dim, r.Views, r.Batch, r.Threads); got != "lenet-m 1x48x48 cosface D=128 views whole,upper,lower,centre batch 4 threads "+strconv.Itoa(runtime.NumCPU()) {
		t.Errorf("bench --preset faces --batch 4 measured %s, want the preset's lenet-m 1x48x48 cosface D=128 views whole,upper,lower,centre at batch 4", got)
	}
	r = bench("--preset", "faces", "--batch", "4", "--views", "whole", "--threads", "1")
	if r.Views != "" || r.Threads != 1 {
		t.Errorf("bench --preset faces --views whole --threads 1 measured views %q on %d threads, want one encoder on 1", r.Views, r.Threads)
	}
}

// TestBenchRefusesWhatTrainRefuses: bench refuses a batch that train
// refuses, with train's words (before, bench --loss triplet --batch 6
// timed a step train never makes: its one class of k = 4 has no
// negative, and bench's labels had no two of one class either).
func TestBenchRefusesWhatTrainRefuses(t *testing.T) {
	const want = "batch 6 with triplet's k = 4 holds one class, no negative to learn from: want a batch of 2k = 8 or more, or a smaller k"
	wantBadInput(t, want, "train", "--arch", "mlp", "--loss", "triplet", "--batch", "6", "--out", filepath.Join(t.TempDir(), "m.safetensors"))
	wantBadInput(t, want, "bench", "--arch", "mlp", "--loss", "triplet", "--batch", "6", "--seconds", "0.01", "--warmup", "1", "--threads", "1")
	code, stdout, stderr := runCLI(t, "bench", "--arch", "mlp", "--loss", "triplet", "--batch", "8", "--seconds", "0.01", "--warmup", "1", "--threads", "1")
	if code != 0 || !strings.Contains(stdout, " triplet ") {
		t.Errorf("bench --loss triplet --batch 8: exit %d, stdout %q, stderr %q: want it measured", code, stdout, stderr)
	}
}

// TestBenchLabelsAsTrainDraws: bench's batch of a P×K loss is P classes
// of K images, as train draws them (job.BatchPK), and else the classes in
// turn (before, always the classes in turn: triplet's batch of 8 among
// 10 classes had no two images of one class, no positive to learn from).
func TestBenchLabelsAsTrainDraws(t *testing.T) {
	triplet, err := losses.New(losses.Config{Name: "triplet", Dim: 8})
	if err != nil {
		t.Fatal(err)
	}
	arcface, err := losses.New(losses.Config{Name: "arcface", Dim: 8})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		loss           core.Loss
		batch, classes int
		want           []int
	}{
		{triplet, 8, 10, []int{0, 0, 0, 0, 1, 1, 1, 1}},             // P = 8/4 = 2 of K = 4
		{triplet, 9, 10, []int{0, 0, 0, 0, 0, 1, 1, 1, 1}},          // P = 2, K = ⌈9/2⌉ = 5, cut to 9
		{triplet, 12, 2, []int{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}}, // P = 3 > 2 classes: P = 2, K = 6
		{arcface, 4, 3, []int{0, 1, 2, 0}},
	} {
		if got := benchLabels(c.loss, c.batch, c.classes); !slices.Equal(got, c.want) {
			t.Errorf("bench's labels of %s, batch %d of %d classes: %v, want %v", c.loss.Name(), c.batch, c.classes, got, c.want)
		}
	}
}

// TestBenchHelp: bench's help says what bench does with --input, --seed
// and the flags it refuses (before, train's help: --input "of a folder's
// images (default 1x32x32 ...)" where bench takes the architecture's own,
// 1x28x28 but for iresnet18, and --augment and the others as if they
// applied).
func TestBenchHelp(t *testing.T) {
	usage := flagUsages(t, "bench")
	code, stdout, stderr := runCLI(t, "bench", "--json", "--arch", "mlp", "--warmup", "1", "--seconds", "1e-300")
	var r benchResult
	if err := json.Unmarshal([]byte(stdout), &r); code != 0 || err != nil {
		t.Fatalf("bench --arch mlp: exit %d, %v: %s", code, err, stderr)
	}
	if u := usage["input"]; !strings.Contains(u, "else "+r.Input+")") || strings.Contains(u, "1x32x32") || strings.Contains(u, "folder") {
		t.Errorf("bench -h --input: %q; bench measured %s without --input", u, r.Input)
	}
	// A preset's input is bench's default too: --preset faces, lenet-m
	// at 1x48x48 (before, the help named the architecture's alone).
	code, stdout, stderr = runCLI(t, "bench", "--json", "--preset", "faces", "--warmup", "1", "--seconds", "1e-300")
	if err := json.Unmarshal([]byte(stdout), &r); code != 0 || err != nil {
		t.Fatalf("bench --preset faces: exit %d, %v: %s", code, err, stderr)
	}
	if u := usage["input"]; r.Input != "1x48x48" || !strings.Contains(u, "default: --preset's, else the architecture's") {
		t.Errorf("bench -h --input: %q; bench --preset faces measured %s without --input", u, r.Input)
	}
	if u := usage["seed"]; strings.Contains(u, "shuffling") || strings.Contains(u, "pairs") {
		t.Errorf("bench -h --seed: %q: bench has no data to shuffle or pairs to draw", u)
	}
	for _, name := range []string{"augment", "compose", "turns", "glyphs", "early-stop", "flip-test", "schedule"} {
		if u := usage[name]; !strings.HasPrefix(u, "not measured, so refused") {
			t.Errorf("bench -h --%s: %q, but bench refuses it", name, u)
		}
	}
}

// TestRefusedFlagsShowNoDefault: -h shows no default for a flag of train
// that the command refuses (before, compare's "-dim int not for compare,
// which trains at the dimensions of --dims (refused) (default 3)", and
// bench's --augment, --compose and --schedule theirs, which read as
// values the command takes).
func TestRefusedFlagsShowNoDefault(t *testing.T) {
	for cmd, names := range map[string][]string{"bench": benchUnmeasured, "compare": {"loss", "dim"}} {
		usage := flagUsages(t, cmd)
		for _, name := range names {
			if u := usage[name]; !strings.Contains(u, "refused") || strings.Contains(u, "(default") {
				t.Errorf("%s -h --%s: %q: want why it is refused, and no default", cmd, name, u)
			}
		}
	}
}

// TestFlipTestUsage: --flip-test's help says the model embeds so in
// train's alone, which writes one (before, openset's and compare's too,
// which write none).
func TestFlipTestUsage(t *testing.T) {
	for cmd, model := range map[string]bool{"train": true, "openset": false, "compare": false} {
		u := flagUsages(t, cmd)["flip-test"]
		if !strings.HasPrefix(u, flipTestUsage) || strings.Contains(u, "model") != model {
			t.Errorf("%s -h --flip-test: %q: want the model named: %v", cmd, u, model)
		}
	}
}

// flagUsages returns the help of every flag of cmd, as cmd -h prints it,
// by the flag's name.
func flagUsages(t *testing.T, cmd string) map[string]string {
	t.Helper()
	code, help, stderr := runCLI(t, cmd, "-h")
	if code != 0 {
		t.Fatalf("%s -h: exit %d: %s", cmd, code, stderr)
	}
	usage := map[string]string{}
	name := ""
	for _, line := range strings.Split(help, "\n") {
		if f, ok := strings.CutPrefix(line, "  -"); ok {
			name, _, _ = strings.Cut(f, " ")
			continue
		}
		usage[name] += strings.TrimSpace(line)
	}
	return usage
}

// TestCompareInput: compare's help of --input says what compare takes,
// mnist's shape (before, train's: "of a folder's images (default 1x32x32
// ...)", a default compare refuses), and another shape is refused before
// any work, with --losses none too (before, the baselines ran on mnist's
// images as they are, the flag unread).
func TestCompareInput(t *testing.T) {
	u := flagUsages(t, "compare")["input"]
	if strings.Contains(u, "1x32x32") || strings.Contains(u, "folder") || !strings.Contains(u, "1x28x28") {
		t.Errorf("compare -h --input: %q: want mnist's 1x28x28, compare's only input", u)
	}
	for _, losses := range []string{"none", "arcface"} {
		wantBadInput(t, "--input 1x32x32: compare trains on mnist, whose images are 1x28x28 only", "compare", "--losses", losses, "--input", "1x32x32")
	}
	wantBadInput(t, `input "1x0x28"`, "compare", "--losses", "none", "--input", "1x0x28")
}

// TestEvalNeedsPairs: eval and openset refuse images to evaluate without
// two identities of two images or more, or with fewer genuine pairs than
// verification folds (before, eval printed zeros for every figure with
// status 0: on no image at all, on one image of each identity, with no
// genuine pair, and on too few pairs for the folds).
func TestEvalNeedsPairs(t *testing.T) {
	dir := t.TempDir()
	four, five := filepath.Join(dir, "four"), filepath.Join(dir, "five")
	writeShapes(t, four, 4) // the test split, every 5th image, is empty
	writeShapes(t, five, 5) // one test image per identity
	open := filepath.Join(dir, "open")
	writeShapes(t, filepath.Join(open, "train"), 10)
	writeOtherShapes(t, filepath.Join(open, "test"), 1)
	ten := filepath.Join(dir, "ten")
	writeShapes(t, ten, 10) // two test images per identity: 3 genuine pairs
	one := filepath.Join(dir, "one")
	writeShapes(t, one, 4) // and a fifth image of one identity, the one test image
	if b, err := os.ReadFile(filepath.Join(one, "horizontal", "horizontalaa.png")); err != nil || os.WriteFile(filepath.Join(one, "horizontal", "horizontalea.png"), b, 0o644) != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--model", "raw", "--data", four}, four + ", split test: 0 images; evaluation needs 2 identities of 2 images or more, it has 0"},
		{[]string{"eval", "--model", "raw", "--data", five, "--json"}, five + ", split test: 3 images; evaluation needs 2 identities"},
		{[]string{"eval", "--model", "raw", "--data", one}, one + ", split test: 1 image; evaluation needs 2 identities"},
		{[]string{"openset", "--data", open, "--epochs", "1", "--batch", "8"}, "split test: 3 images; evaluation needs 2 identities"},
		{[]string{"eval", "--model", "raw", "--data", ten}, ten + ", split test: 6 images make 3 genuine and 12 impostor pairs; verification's 10 folds need 10 of each"},
	} {
		wantBadInput(t, c.want, c.args...)
	}
}

// TestEvalSmallTestSplitSuggestsAll: a test split too small to evaluate,
// of a folder of identities (every 5th image of each), is refused with
// the hint that --split all evaluates every image, which then does, and
// that of identities a model was trained on those are its training images
// (before, the hint led there without a word: eval's figures on them then
// were training-set figures, given as test results); a
// folder's own test/ and mnist's have no other split to suggest. Before,
// the line did not say it.
func TestEvalSmallTestSplitSuggestsAll(t *testing.T) {
	dir := t.TempDir()
	four, ten := filepath.Join(dir, "four"), filepath.Join(dir, "ten")
	writeShapes(t, four, 4) // the test split is empty
	writeShapes(t, ten, 10) // two test images per identity: 3 genuine pairs
	const hint = "the test split of a folder of identities is every 5th image of each: --split all evaluates every image, of the identities a model was trained on its training images too; for figures of unseen people, give --split all --classes of identities it was not trained on"
	wantBadInput(t, "it has 0; "+hint, "eval", "--model", "raw", "--data", four)
	wantBadInput(t, "need 10 of each; "+hint, "eval", "--model", "raw", "--data", ten)
	if rep := evalJSON(t, "--model", "raw", "--data", four, "--split", "all"); rep.Probes != 12 {
		t.Errorf("--split all: %d probes, want the 12 images", rep.Probes)
	}
	open := filepath.Join(dir, "open")
	writeShapes(t, filepath.Join(open, "train"), 10)
	writeShapes(t, filepath.Join(open, "test"), 1)
	if code, _, stderr := runCLI(t, "eval", "--model", "raw", "--data", open); code != 2 || !strings.Contains(stderr, "evaluation needs 2 identities") || strings.Contains(stderr, "--split all") {
		t.Errorf("eval on a test/ of 3 images: exit %d, %q: want it refused, without --split all, which a folder with test/ does not take", code, stderr)
	}
}

// TestFlagsThatWouldBeIgnored: a miner or a distance for a loss that takes
// none, eval --input with a model file, and --pca with a metric other than
// whiten, are refused (before, they were
// ignored: train --loss arcface --miner hard trained with no miner, status
// 0, and eval embedded at the model's input).
func TestFlagsThatWouldBeIgnored(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, shapes, 12)
	out := filepath.Join(dir, "m.safetensors")
	small := []string{"--data", shapes, "--dim", "8", "--epochs", "1", "--batch", "8", "--out", out}
	for _, c := range []struct {
		args []string
		want string
	}{
		{append([]string{"train", "--loss", "arcface", "--miner", "hard"}, small...), "arcface takes no miner (a miner is for triplet)"},
		{append([]string{"train", "--loss", "cosface", "--distance", "euclidean"}, small...), "cosface takes no distance (a distance is for contrastive and triplet)"},
		{append([]string{"train", "--loss", "magic", "--miner", "hard"}, small...), `unknown loss "magic"`},
		{[]string{"bench", "--miner", "easy"}, "arcface takes no miner"},
	} {
		wantBadInput(t, c.want, c.args...)
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("%q: model written", c.args)
		}
	}
	for _, loss := range []string{"triplet", "contrastive"} {
		if code, _, stderr := runCLI(t, append([]string{"train", "--loss", loss, "--miner", "all", "--distance", "euclidean"}, small...)...); code != 0 {
			t.Errorf("train --loss %s --miner all --distance euclidean: exit %d: %s", loss, code, stderr)
		}
	}
	wantBadInput(t, "--input is for --model raw", "eval", "--model", out, "--data", shapes, "--input", "1x64x64")
	// --pca is whiten's (before, eval --pca 8 reported the cosine as if
	// the embeddings had been reduced to 8 components).
	for _, metric := range []string{"cosine", "euclidean"} {
		wantBadInput(t, "--pca is for --metric whiten", "eval", "--model", out, "--data", shapes, "--split", "all", "--metric", metric, "--pca", "8")
	}
	// Out of range too, it is the metric that is wrong (before, "pca 0
	// must be ≥ 1", which whiten would refuse as well).
	wantBadInput(t, "--pca is for --metric whiten, not cosine", "eval", "--model", "raw", "--pca", "0", "--metric", "cosine")
	wantBadInput(t, "--pca is for --metric whiten, not cosine", "eval", "--model", "raw", "--pca", "-1")
	wantBadInput(t, "--pca 0: must be 1 or more", "eval", "--model", "raw", "--pca", "0", "--metric", "whiten")
}

// TestEvalPCAAboveD: eval refuses an explicit --pca above the
// embedding's D, and says on stderr, in one line and not in --json's
// stdout, when the fit images keep fewer components than asked, given or
// by default (before, both were cut to what fit without a word: --pca 65
// of raw 1×8×8 pixels, D = 64, kept 6).
func TestEvalPCAAboveD(t *testing.T) {
	patterns := filepath.Join(t.TempDir(), "patterns")
	writePatterns(t, patterns)
	base := []string{"eval", "--model", "raw", "--input", "1x8x8", "--data", patterns, "--split", "all", "--classes", "a-b", "--fit-classes", "c", "--metric", "whiten"}
	wantBadInput(t, "--pca 65: must be at most 64, the embedding's D", append(base, "--pca", "65")...)
	for _, c := range []struct {
		pca  []string
		want string
	}{
		// c's 8 images of 1 class allow 8 − 1 − 1 = 6 components.
		{nil, "whiten: 6 principal components kept of the 32 asked by default: 8 training images of 1 class allow at most 6\n"},
		{[]string{"--pca", "64"}, "whiten: 6 principal components kept of the 64 asked: 8 training images of 1 class allow at most 6\n"},
		{[]string{"--pca", "6"}, ""},
	} {
		args := slices.Concat(base, c.pca, []string{"--json"})
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 || stderr != c.want || !json.Valid([]byte(stdout)) {
			t.Errorf("metriclab %q: exit %d, stdout %q, stderr %q: want 0, the JSON report and stderr %q", args, code, stdout, stderr, c.want)
		}
	}
}

// TestTripletBatchOfOneClass: triplet refuses a batch smaller than 2k,
// whose P×K batches would hold one class: no negative, a loss of 0 at
// every step (before, train ran to the end and wrote the untrained
// model with status 0); a batch of 2k trains.
func TestTripletBatchOfOneClass(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, shapes, 12)
	out := filepath.Join(dir, "m.safetensors")
	small := []string{"train", "--loss", "triplet", "--data", shapes, "--dim", "8", "--epochs", "1", "--val", "0", "--out", out}
	wantBadInput(t, "batch 4 with triplet's k = 4 holds one class", append(small, "--batch", "4")...)
	wantBadInput(t, "batch 8 with triplet's k = 5 holds one class", append(small, "--batch", "8", "--k", "5")...)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("model written (%v)", err)
	}
	code, stdout, stderr := runCLI(t, append(small, "--batch", "8", "--json", "--log-every", "1")...)
	if code != 0 {
		t.Fatalf("triplet with batch 8 = 2k: exit %d: %s", code, stderr)
	}
	trained := false
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var p progress
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatal(err)
		}
		trained = trained || p.Loss > 0
	}
	if !trained {
		t.Errorf("triplet with batch 8 = 2k: a loss of 0 at every step: %s", stdout)
	}
}

// TestOneIdentity: a folder of one identity is refused saying so (before:
// `classes "": need at least 2 classes`, naming a flag not given; main's
// data.TrainClasses now says it for train and eval), openset says how many
// identities it needs, and its table says "all" for the identities of a
// folder's train/ and test/ (before, it left the classes blank).
func TestOneIdentity(t *testing.T) {
	dir := t.TempDir()
	writeShapes(t, filepath.Join(dir, "three"), 10)
	one := filepath.Join(dir, "one")
	if err := os.Mkdir(one, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "three", "vertical"), filepath.Join(one, "vertical")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--data", one, "--batch", "4", "--out", filepath.Join(dir, "m.safetensors")}, "the data set has 1 class (one identity, one digit)"},
		{[]string{"eval", "--model", "raw", "--data", one}, "the data set has 1 class (one identity, one digit)"},
		{[]string{"openset", "--data", one}, "an open set needs at least 4 identities, " + one + " has 1"},
	} {
		wantBadInput(t, c.want, c.args...)
	}

	open := filepath.Join(dir, "open")
	writeShapes(t, filepath.Join(open, "train"), 10)
	writeOtherShapes(t, filepath.Join(open, "test"), 6)
	code, stdout, stderr := runCLI(t, "openset", "--data", open, "--dim", "8", "--epochs", "1", "--batch", "8", "--baselines=false")
	want := "Open set on " + open + ": train on classes all (their images in train/), evaluate on the unseen classes all (their images in test/).\n"
	if code != 0 || !strings.HasPrefix(stdout, want) {
		t.Errorf("openset on train/ and test/: exit %d, stdout %q, stderr %q: want it to start %q", code, stdout, stderr, want)
	}
}

// TestServeChecksFlagsFirst: serve refuses a --web that is a file before
// it creates the data directory, and a --data-dir it cannot
// create as bad input (status 2, one line naming it); on an address that
// is not loopback, it prints no token for a server that does not start
// (before, "classroom mode: writes need the token …" came before the
// refusal). (A --web without the page's binary was refused too: it is
// served as the API alone now, TestServeWithoutPages.)
func TestServeChecksFlagsFirst(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "d")
	// A file was said to be a folder without app.wasm.
	wasm := filepath.Join(dir, "app.wasm")
	if err := os.WriteFile(wasm, []byte("\x00asm"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantBadInput(t, "web "+wasm+": a file, not a folder", "serve", "--web", wasm, "--addr", "127.0.0.1:0", "--data-dir", data)
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("serve without the page created its data directory (%v)", err)
	}
	web := filepath.Join(dir, "web")
	if err := os.MkdirAll(web, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	for _, p := range []string{filepath.Join(web, "app.wasm"), file} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A file where a folder must be is named as such (before, "mkdir
	// FILE: file exists", as if the folder were there).
	wantBadInput(t, "data-dir "+filepath.Join(file, "d")+": mkdir "+file+": a file is there, not a folder", "serve", "--web", web, "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(file, "d"))
	wantBadInput(t, "data-dir "+file+": mkdir "+file+": a file is there, not a folder", "serve", "--web", web, "--addr", "127.0.0.1:0", "--data-dir", file)
	// An empty --data-dir (an unset variable, say) is refused (before, the
	// API took it for its default and served from ./metriclab-data).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // Ctrl-C for a server that starts
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"serve", "--web", web, "--addr", "127.0.0.1:0", "--data-dir", ""}, &stdout, &stderr)
	if want := "metriclab serve: --data-dir is empty: want a folder (default " + api.DefaultDataDir + ")\n"; code != 2 || stderr.String() != want {
		t.Errorf("serve --data-dir '': exit %d, stdout %q, stderr %q: want status 2 and %q", code, stdout.String(), stderr.String(), want)
	}
	if _, err := os.Stat(api.DefaultDataDir); err == nil { // in the test's folder
		os.RemoveAll(api.DefaultDataDir)
		t.Errorf("serve --data-dir '' made %s", api.DefaultDataDir)
	}
}

// TestServeUnbuiltWarnsAfterTheFlags: serve without the page's
// app.wasm refuses a bad address, or a data directory it cannot use, in
// one line (before, the warning that the pages are not built came
// first: two lines for one refusal).
func TestServeUnbuiltWarnsAfterTheFlags(t *testing.T) {
	dir := t.TempDir()
	web := filepath.Join(dir, "web") // no app.wasm
	if err := os.Mkdir(web, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wantBadInput(t, "listen on 127.0.0.1:99999: address 99999: invalid port", "serve", "--web", web, "--addr", "127.0.0.1:99999", "--data-dir", filepath.Join(dir, "d"))
	wantBadInput(t, "data-dir "+file+": mkdir "+file+": a file is there, not a folder", "serve", "--web", web, "--addr", "127.0.0.1:0", "--data-dir", file)
}

// emptyWebDir makes dir/web holding an empty app.wasm, enough for serve
// to start, and returns its path.
func emptyWebDir(t *testing.T, dir string) string {
	t.Helper()
	web := filepath.Join(dir, "web")
	if err := os.MkdirAll(web, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(web, "app.wasm"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return web
}

// TestServeBounds: serve refuses a bound below 1 (before, the API took it
// for its default without a word: --max-jobs-per-client 0 allowed 4 jobs
// and --max-upload -5 256 MiB).
func TestServeBounds(t *testing.T) {
	dir := t.TempDir()
	web := emptyWebDir(t, dir)
	for _, flag := range []string{"--max-upload=-5", "--max-jobs-per-client=0", "--max-bodies=0", "--max-bodies-per-client=0", "--max-sse=-1", "--max-sse-per-client=0", "--max-conns-per-client=0"} {
		// A server that starts stops after a second.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var stdout, stderr bytes.Buffer
		code := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--web", web, "--data-dir", filepath.Join(dir, "data"), flag}, &stdout, &stderr)
		cancel()
		name := flag[:strings.Index(flag, "=")]
		if code != 2 || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), name+" "+flag[strings.Index(flag, "=")+1:]+": must be 1 or more") {
			t.Errorf("serve %s: exit %d, stderr %q: want status 2 and one line", flag, code, stderr.String())
		}
	}
}

// TestOneLine: control characters are escaped as Go writes them, and
// nothing else is (quotes and Windows paths' backslashes stay as they are).
func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		`unknown loss "magic"`:           `unknown loss "magic"`,
		"open \"a\nb\": C:\\x\\y\ttab":   `open "a\nb": C:\x\y\ttab`,
		"identity \"zoë\r\" \x00 \u0085": `identity "zoë\r" \x00 \u0085`,
	} {
		if got := oneLine(fmt.Errorf("%s", in)); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCompareRefusesLossAndDim: compare trains the losses of --losses at
// the dimensions of --dims, so --loss and --dim, which it shares with
// train, are refused (before, they were accepted and ignored, even a loss
// that does not exist: the table was of every loss at D = 3 and 64).
func TestCompareRefusesLossAndDim(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", "--losses", "none", "--baselines=false", "--loss", "cosface"}, "--loss: compare trains the losses of --losses"},
		{[]string{"compare", "--losses", "none", "--baselines=false", "--loss", "magic"}, "--loss: compare trains the losses of --losses"},
		{[]string{"compare", "--losses", "none", "--baselines=false", "--dim", "64"}, "--dim: compare trains at the dimensions of --dims"},
	} {
		wantBadInput(t, c.want, c.args...)
	}
	// A preset's loss and D are not the command line's: compare still
	// takes the preset (its loss parameters go to its own loss), and goes
	// on to refuse what comes after (with nothing to compare, before any
	// work).
	wantBadInput(t, "--losses none compares the baselines alone, and --baselines=false leaves them out: nothing to compare",
		"compare", "--losses", "none", "--baselines=false", "--preset", "digits")
}

// TestComparePresetDim: compare --preset trains at the preset's D unless
// --dims is given, as train --preset does unless --dim is (before, at
// --dims's default, 3 and 64, without a word).
func TestComparePresetDim(t *testing.T) {
	digits, _ := msg.PresetByName("digits")
	for _, c := range []struct {
		args []string
		want []int
	}{
		{[]string{"--preset", "digits"}, []int{digits.Request.Dim}},
		{[]string{"--preset", "digits", "--dims", "3,64"}, []int{3, 64}},
		{nil, []int{3, 64}},
	} {
		f, err := parseCompare(append([]string{"--losses", "arcface"}, c.args...), io.Discard)
		if err != nil {
			t.Fatalf("compare %q: %v", c.args, err)
		}
		if !slices.Equal(f.dims, c.want) {
			t.Errorf("compare %q: dims %v, want %v", c.args, f.dims, c.want)
		}
	}
}

// TestCompareNoneRefusesTraining: compare --losses none trains nothing,
// so a flag of the training is refused before any work (before, it went
// unread and unchecked: --epochs -3 --arch foo --batch -1 printed the
// header "foo on MNIST, -3 epochs, batch -1" above the baselines), the
// flags the baselines read are taken, and the header names no training.
func TestCompareNoneRefusesTraining(t *testing.T) {
	wantBadInput(t, "--losses none trains nothing (the baselines alone): --arch, --batch, --epochs would go unread",
		"compare", "--losses", "none", "--epochs", "-3", "--arch", "foo", "--batch", "-1")
	for _, flags := range [][]string{{"--dims", "0"}, {"--m", "0.3"}, {"--preset", "digits"}, {"--threads", "2"}} {
		wantBadInput(t, "--losses none trains nothing (the baselines alone): "+flags[0]+" would go unread", append([]string{"compare", "--losses", "none"}, flags...)...)
	}
	// Its table's header says that nothing trains (before, "lenet-s on
	// MNIST, 2 epochs, batch 64, adam", the defaults of a training that
	// did not run). The write after the header fails: compare stops there.
	out := &fullWriter{n: 200}
	var header bytes.Buffer
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"compare", "--losses", "none", "--open-train", "0-3"}, io.MultiWriter(&header, out), &stderr)
	if want := "Raw pixels on MNIST, the baselines alone; closed set: all classes; open set: train 0-3, evaluate 5-9.\n"; code != 1 || !strings.HasPrefix(header.String(), want) {
		t.Errorf("compare --losses none: exit %d, stdout %q, stderr %q: want a header that starts %q", code, header.String(), stderr.String(), want)
	}
	// What the baselines read passes the check, to the next one's line.
	wantBadInput(t, `--open-eval "5-12": 12 is out of range`,
		"compare", "--losses", "none", "--seed", "2", "--json", "--baselines", "--input", "1x28x28", "--open-train", "0-4", "--open-eval", "5-12")
}

// TestUnderscoreFlagNamesItsFlag: metriclab losses names the loss
// parameters as the model file does (lambda_base, easy_margin), and their
// flags have a dash; a flag given with the underscore is refused with a
// line that names the flag (before, "flag provided but not defined:
// -lambda_base" alone), in a --variant too; a flag unknown either way
// gets no such hint.
func TestUnderscoreFlagNamesItsFlag(t *testing.T) {
	wantBadInput(t, "unknown flag --lambda_base: the flag is --lambda-base", "bench", "--loss", "sphereface", "--lambda_base", "100")
	wantBadInput(t, "unknown flag --easy_margin: the flag is --easy-margin", "bench", "--easy_margin")
	wantBadInput(t, `variant "lambda_min=3": unknown flag --lambda_min: the flag is --lambda-min`, "openset", "--variant", "lambda_min=3")
	wantBadInput(t, "unknown flag --data_dir: the flag is --data-dir", "serve", "--data_dir", "d")
	code, _, stderr := runCLI(t, "bench", "--foo_bar")
	if code != 2 || stderr != "metriclab bench: unknown flag --foo_bar (metriclab bench -h lists its flags)\n" {
		t.Errorf("bench --foo_bar: exit %d, stderr %q: want the unknown flag alone", code, stderr)
	}
}

// TestFlagGivenTwice: a flag given twice is refused in one line that
// names it and both values (before, the flag package kept the last: eval
// --model m.safetensors --model raw evaluated raw pixels alone, train
// --out a --out b wrote b alone); openset's --variant, which collects
// its values, repeats, and a variant may still set a flag of the
// command line's (it is parsed apart).
func TestFlagGivenTwice(t *testing.T) {
	dir := t.TempDir()
	// "stray" ends each command line: refused after the flags, it stops
	// a command that takes them (before, eval and train ran).
	wantBadInput(t, `--model is given twice, "m.safetensors" and "raw": give it once`, "eval", "--model", "m.safetensors", "--model", "raw", "stray")
	wantBadInput(t, `--out is given twice, "`+filepath.Join(dir, "a")+`" and "`+filepath.Join(dir, "b")+`": give it once`,
		"train", "--out", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "b"), "stray")
	wantBadInput(t, `--json is given twice, "true" and "false": give it once`, "compare", "--json", "--json=false", "stray")
	wantBadInput(t, `--epochs is given twice, "1" and "1": give it once`, "openset", "--epochs", "1", "--epochs=1", "stray")
	runs, err := parseOpenSet([]string{"--data", "mnist", "--dim", "3", "--variant", "dim=4", "--variant", "seed=2"}, io.Discard)
	if err != nil || len(runs) != 3 || runs[1].mf.dim != 4 || runs[2].mf.seed != 2 {
		t.Errorf("openset --variant dim=4 --variant seed=2: %d runs, %v; want the recipe and both variants", len(runs), err)
	}
}

// TestFlagErrorsInOurWords: the flag package's errors are told in the
// words of this command line, --name as its help spells flags (before,
// "invalid boolean value \"yes\" for -json: parse error", "flag provided
// but not defined: -steps"), an unknown flag with the flag meant when
// one is close: within two edits, or of which it is the start.
func TestFlagErrorsInOurWords(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // the whole line
	}{
		{[]string{"train", "--json=yes"}, `--json "yes": want true or false`},
		{[]string{"bench", "--steps", "3"}, "unknown flag --steps (metriclab bench -h lists its flags)"},
		{[]string{"train", "--epoch", "3"}, "unknown flag --epoch: did you mean --epochs?"},
		{[]string{"train", "--jsn"}, "unknown flag --jsn: did you mean --json?"},
		{[]string{"eval", "--modle", "raw"}, "unknown flag --modle: did you mean --model?"},
		{[]string{"train", "--ep", "2"}, "unknown flag --ep: did you mean --epochs?"},
		{[]string{"train", "--x", "1"}, "unknown flag --x (metriclab train -h lists its flags)"}, // --s, --m, --k are as close
		{[]string{"train", "--out"}, "--out needs a value"},
		{[]string{"train", "---out", "m.safetensors"}, `unexpected argument "---out": a flag is --name or --name=value`},
		{[]string{"losses", "--dim", "three"}, `--dim "three": want a decimal integer`},
	} {
		code, stdout, stderr := runCLI(t, c.args...)
		if want := "metriclab " + c.args[0] + ": " + c.want + "\n"; code != 2 || stdout != "" || stderr != want {
			t.Errorf("metriclab %q: exit %d, stdout %q, stderr %q: want status 2 and %q", c.args, code, stdout, stderr, want)
		}
	}
}

// TestBoolFlagValueAfterSpace: a true/false flag takes its value after
// = (--baselines=false); given after a space, the value ends the flags
// and is refused with a line that says how to give it (before,
// "unexpected argument \"false\"" alone); any other stray argument gets
// the line alone, as does one after a flag's value that names a
// true/false flag (--data --json true: --json is --data's value).
func TestBoolFlagValueAfterSpace(t *testing.T) {
	wantBadInput(t, `unexpected argument "false": a true/false flag takes its value after =, as --baselines=false`, "openset", "--baselines", "false", "--data", "mnist")
	wantBadInput(t, `unexpected argument "true": a true/false flag takes its value after =, as --json=true`, "compare", "-json", "true")
	wantBadInput(t, `unexpected argument "0": a true/false flag takes its value after =, as --flip-test=0`, "train", "--flip-test", "0", "--out", "m.safetensors")
	for _, args := range [][]string{{"bench", "--seconds", "1", "true"}, {"compare", "--json=true", "false"}, {"bench", "--", "true"}, {"presets", "false"},
		{"openset", "--data", "--json", "true"}} { // --json is --data's value, not a flag
		code, _, stderr := runCLI(t, args...)
		if want := "metriclab " + args[0] + ": unexpected argument \"" + args[len(args)-1] + "\"\n"; code != 2 || stderr != want {
			t.Errorf("metriclab %q: exit %d, stderr %q: want 2 and %q", args, code, stderr, want)
		}
	}
}

// TestDimOutOfRangeOneWording: a D out of [2, 512] is refused in one
// wording whichever command takes it (core.CheckDim; before, losses --dim 1
// said "dim 1 out of range", train --dim 1 "embedding dimension 1 out of
// range").
func TestDimOutOfRangeOneWording(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.safetensors")
	for _, args := range [][]string{{"losses", "--dim", "1"}, {"train", "--out", out, "--dim", "1"}, {"losses", "--dim", "513"}, {"train", "--out", out, "--dim", "513"}} {
		wantBadInput(t, "metriclab "+args[0]+": embedding dimension "+args[len(args)-1]+" out of range [2, 512]\n", args...)
	}
}

// TestIntFlagsDecimal: every command reads its integer flags in decimal
// alone (before, as Go literals: losses --dim 010 was D = 8, octal, and
// --dim 0x10 16), refuses another base with one line, and its help still
// names their type.
func TestIntFlagsDecimal(t *testing.T) {
	if code, stdout, stderr := runCLI(t, "losses", "--dim", "010"); code != 0 || !strings.Contains(stdout, "parameters at D = 10:") {
		t.Errorf("losses --dim 010: exit %d, stderr %q, table %.80q…: want D = 10", code, stderr, stdout)
	}
	for _, args := range [][]string{{"train", "--epochs"}, {"train", "--seed"}, {"eval", "--pca"}, {"bench", "--warmup"}, {"compare", "--epochs"},
		{"openset", "--val"}, {"openset", "--variant", "epochs=2", "--epochs"}, {"losses", "--dim"}, {"serve", "--max-sse"}, {"serve", "--max-upload"}} {
		// "stray", refused once the flags are read, stops the command
		// where 0x10 is taken.
		wantBadInput(t, args[len(args)-1]+` "0x10": want a decimal integer`, append(args, "0x10", "stray")...)
	}
	wantBadInput(t, `variant "epochs=0x10": --epochs "0x10": want a decimal integer`, "openset", "--variant", "epochs=0x10", "--arch", "bogus")
	if code, help, _ := runCLI(t, "losses", "-h"); code != 0 || !strings.Contains(help, "  -dim int\n") {
		t.Errorf("losses -h: exit %d, %q: want --dim named an int", code, help)
	}
}

// TestFloatFlagsDecimal: every command reads its float flags as decimal
// numbers alone, finite (before, as Go literals: --lr 0x1p-4 was 0.0625,
// --m 1_0.5 10.5, and NaN, Inf and infinity were taken), refuses another
// notation with one line, reads -0 as 0 (before, "cosface m=-0"), and its
// help still names their type.
func TestFloatFlagsDecimal(t *testing.T) {
	for _, cmd := range []string{"train", "openset", "compare", "bench"} {
		for _, name := range append([]string{"lr", "wd"}, lossFlagNames...) {
			// "stray", refused once the flags are read, stops the command
			// where the value is taken.
			wantBadInput(t, "--"+name+` "0x1p-4": want a finite decimal number`, cmd, "--"+name, "0x1p-4", "stray")
		}
	}
	for _, v := range []string{"0x1p-4", "1_0.5", "NaN", "nan", "Inf", "+Inf", "-Inf", "infinity"} {
		wantBadInput(t, `--seconds "`+v+`": want a finite decimal number`, "bench", "--seconds", v, "stray")
	}
	wantBadInput(t, `--m "1e400": out of range`, "train", "--m", "1e400", "stray")
	for _, v := range []string{"5e-4", ".5", "5.", "+0.5", "1E-3"} {
		wantBadInput(t, `unexpected argument "stray"`, "train", "--lr", v, "stray")
	}
	wantBadInput(t, `variant "lr=NaN": --lr "NaN": want a finite decimal number`, "openset", "--variant", "lr=NaN", "--arch", "bogus")
	wantBadInput(t, "seconds 0: want a finite value > 0", "bench", "--seconds", "-0")
	if code, help, _ := runCLI(t, "train", "-h"); code != 0 || !strings.Contains(help, "  -lr float\n") {
		t.Errorf("train -h: exit %d, %q: want --lr named a float", code, help)
	}
}

// TestLossesEasyMarginTrueFalse: losses shows arcface's easy_margin as
// its flag takes it, true or false (before, "0 [0, 1]", a number that
// --easy-margin does not take: --easy-margin 0 is a stray argument).
func TestLossesEasyMarginTrueFalse(t *testing.T) {
	code, stdout, stderr := runCLI(t, "losses")
	if want := "`easy_margin` false [true/false]"; code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("losses: exit %d, stderr %q, table %q: want %s", code, stderr, stdout, want)
	}
}

// TestEvalNamesItsMetric: eval's report names the metric as --metric does
// (before, whiten and linear were both "mahalanobis", the type they fit,
// so a report did not say which of the two it was).
func TestEvalNamesItsMetric(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, shapes, 10)
	writeOtherShapes(t, shapes, 10) // linear fits on two identities or more
	for _, metric := range []string{"cosine", "euclidean", "whiten", "linear"} {
		rep := evalJSON(t, "--model", "raw", "--metric", metric, "--data", shapes, "--split", "all", "--classes", "0-1", "--fit-classes", "2-3")
		if rep.Metric != metric {
			t.Errorf("eval --metric %s: the report's metric is %q", metric, rep.Metric)
		}
		code, stdout, stderr := runCLI(t, "eval", "--model", "raw", "--metric", metric, "--data", shapes, "--split", "all", "--classes", "0-1", "--fit-classes", "2-3")
		if want := "metric " + metric + "\n"; code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("eval --metric %s: exit %d, stdout %q, stderr %q: want it to say %q", metric, code, stdout, stderr, want)
		}
	}
}

// TestVersionTakesNoArguments: version refuses an argument as every
// command refuses one it does not take (before, `version --json` printed
// the version with status 0, as if the flag had been read), and
// `metriclab --version` prints it too.
func TestVersionTakesNoArguments(t *testing.T) {
	wantBadInput(t, `unexpected argument "--json"`, "version", "--json")
	// "--" ends the flags, as it does for every command that parses them
	// (presets --, losses --); what follows it is an argument still.
	wantBadInput(t, `unexpected argument "-h"`, "version", "--", "-h")
	if code, stdout, stderr := runCLI(t, "version", "--"); code != 0 || stdout != "metriclab "+version+"\n" {
		t.Errorf("version --: exit %d, stdout %q, stderr %q: want 0 and the version, as presets -- lists the presets", code, stdout, stderr)
	}
	// --version, the flag most programs print theirs for, is the command
	// (before, "unknown command").
	for _, cmd := range []string{"version", "--version", "-version"} {
		if code, stdout, _ := runCLI(t, cmd); code != 0 || stdout != "metriclab "+version+"\n" {
			t.Errorf("%s: exit %d, stdout %q", cmd, code, stdout)
		}
	}
}

// TestHelpOfEveryCommand: `metriclab CMD -h` and `metriclab help CMD`
// print CMD's usage on stdout, status 0, for every command (before,
// `version -h` was refused as an unexpected argument, status 2, and `help
// train` printed the list of commands, its argument unread); `help` of an
// unknown command is refused.
func TestHelpOfEveryCommand(t *testing.T) {
	for _, cmd := range []string{"train", "eval", "bench", "compare", "openset", "losses", "presets", "join", "serve", "version"} {
		want := "usage: metriclab " + cmd
		for _, args := range [][]string{{cmd, "-h"}, {cmd, "--help"}, {"help", cmd}} {
			code, stdout, stderr := runCLI(t, args...)
			if code != 0 || !strings.HasPrefix(stdout, want) || stderr != "" {
				t.Errorf("metriclab %q: exit %d, stdout %.60q, stderr %q: want 0 and the usage of %s on stdout", args, code, stdout, stderr, cmd)
			}
		}
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"help", "help"}, {"help", "-h"}, {"--help", "--help"}} {
		if code, stdout, _ := runCLI(t, args...); code != 0 || stdout != usage {
			t.Errorf("metriclab %q: exit %d, stdout %.60q: want 0 and the list of commands", args, code, stdout)
		}
	}
	// A command of no flags says so (before, presets -h printed
	// "usage: metriclab presets [flags]" over an empty list).
	if code, stdout, _ := runCLI(t, "presets", "-h"); code != 0 || stdout != "usage: metriclab presets\n\n(it takes no flags)\n" {
		t.Errorf("metriclab presets -h: exit %d, stdout %q: want its usage without flags", code, stdout)
	}
	wantBadInput(t, `unknown command "fly"`, "help", "fly")
	wantBadInput(t, `unexpected argument "eval"`, "help", "train", "eval")
}

// TestBenchInterruptInWarmup: Ctrl-C stops bench in its warm-up steps
// too, with status 130 (before, the warm-up ran to its end, minutes of
// --warmup steps of a large encoder on the CPU, before the interrupt was
// read).
func TestBenchInterruptInWarmup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		code := run(ctx, []string{"bench", "--arch", "mlp", "--batch", "2", "--threads", "1", "--warmup", "1000"}, &stdout, &stderr)
		done <- result{code, stdout.String(), stderr.String()}
	}()
	select {
	case r := <-done:
		if r.code != 130 || r.stdout != "" || r.stderr != "warming up: 1000 steps, then measuring for 5 s\nmetriclab bench: interrupted, nothing written\n" {
			t.Errorf("bench interrupted: exit %d, stdout %q, stderr %q: want 130 and that nothing was written", r.code, r.stdout, r.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("bench still warming up 30 s after Ctrl-C")
	}
}

// TestBenchTellsWarmUp: bench says on stderr that it warms up, and how
// long it will measure (before, nothing: iresnet18's warm-up on the CPU
// is a minute of silence).
func TestBenchTellsWarmUp(t *testing.T) {
	code, stdout, stderr := runCLI(t, "bench", "--arch", "mlp", "--batch", "8", "--threads", "1", "--warmup", "1", "--seconds", "0.01")
	if want := "warming up: 1 step, then measuring for 0.01 s\n"; code != 0 || stderr != want || !strings.HasPrefix(stdout, "cpu (1 thread) mlp ") {
		t.Errorf("bench: exit %d, stdout %q, stderr %q: want the result and %q", code, stdout, stderr, want)
	}
}

// TestPathWithLineBreakOnOneLine: the lines of train and join that name a
// path the user gave keep it on one line, as errors do (oneLine): before,
// a folder named with a line break split "training … on DIR" and "wrote
// PATH" in two; so do the line that counts what a load skipped, and
// openset's sentence above its table.
func TestPathWithLineBreakOnOneLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pat\nterns")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writePatterns(t, dir)
	// A file that is no image: the load's line on stderr counts it.
	if err := os.WriteFile(filepath.Join(dir, "a", "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m.safetensors")
	code, _, stderr := runCLI(t, "train", "--data", dir, "--split", "all", "--input", "1x16x16", "--arch", "mlp", "--batch", "4", "--epochs", "1", "--out", out)
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	// Another seed: join takes a file once, and a copy of it not at all.
	twin := filepath.Join(dir, "twin.safetensors")
	if code, _, stderr := runCLI(t, "train", "--data", dir, "--split", "all", "--input", "1x16x16", "--arch", "mlp", "--batch", "4", "--epochs", "1", "--seed", "2", "--out", twin); code != 0 {
		t.Fatalf("train --seed 2: exit %d: %s", code, stderr)
	}
	joined := filepath.Join(dir, "j.safetensors")
	code, _, stderrJoin := runCLI(t, "join", "--model", out+","+twin, "--out", joined)
	if code != 0 {
		t.Fatalf("join: exit %d: %s", code, stderrJoin)
	}
	// openset's sentence above its table names the folder too.
	ids := filepath.Join(dir, "ids")
	if err := os.Rename(sixIdentities(t), ids); err != nil {
		t.Fatal(err)
	}
	code, stdoutOpen, stderrOpen := runCLI(t, "openset", "--data", ids, "--input", "1x16x16", "--arch", "mlp", "--batch", "8", "--epochs", "1", "--val", "0", "--baselines=false")
	if code != 0 {
		t.Fatalf("openset: exit %d: %s", code, stderrOpen)
	}
	for _, tc := range []struct{ cmd, out string }{{"train", stderr}, {"join", stderrJoin}, {"openset", stdoutOpen}} {
		if strings.Contains(tc.out, "pat\nterns") || !strings.Contains(tc.out, `pat\nterns`) {
			t.Errorf("%s: %q, want the folder's line break written \\n", tc.cmd, tc.out)
		}
	}
}

// TestPathWithEdgeSpaceQuoted: a path given with a space at its end (or
// start), which names another file, is quoted in the lines of train and
// join that name it (before, "wrote …/m.safetensors (…)" hid the space,
// and the file was then not found without it); other paths are not.
func TestPathWithEdgeSpaceQuoted(t *testing.T) {
	dir := t.TempDir()
	writePatterns(t, filepath.Join(dir, "patterns"))
	out := filepath.Join(dir, "m.safetensors ")
	code, _, stderr := runCLI(t, "train", "--data", filepath.Join(dir, "patterns"), "--split", "all", "--input", "1x16x16", "--arch", "mlp", "--batch", "4", "--epochs", "1", "--out", out)
	if want := "wrote " + strconv.Quote(out) + " ("; code != 0 || !strings.Contains(stderr, want) || !strings.Contains(stderr, " on "+filepath.Join(dir, "patterns")+" (") {
		t.Errorf("train: exit %d, %q: want %q, and the folder as it is", code, stderr, want)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// join takes a file once, and a copy of it not at all (twin, of
	// another seed), and trims the names of its --model list.
	a, twin := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "twin.safetensors")
	if err := os.WriteFile(a, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "train", "--data", filepath.Join(dir, "patterns"), "--split", "all", "--input", "1x16x16", "--arch", "mlp", "--batch", "4", "--epochs", "1", "--seed", "2", "--out", twin); code != 0 {
		t.Fatalf("train --seed 2: exit %d: %s", code, stderr)
	}
	t.Chdir(dir)
	joined := " j.safetensors" // a space at the start of the line's path
	code, _, stderr = runCLI(t, "join", "--model", a+","+twin, "--out", joined)
	if want := "wrote " + strconv.Quote(joined) + ": "; code != 0 || !strings.HasPrefix(stderr, want) {
		t.Errorf("join: exit %d, %q: want %q", code, stderr, want)
	}
}

// TestEvalTextReport: eval's report for people gives the figures of its
// JSON, the false accept rate at the threshold among them (it was in the
// JSON only), and TAR@FAR and DIR@FAR in one order, eval.FARLevels'
// (before, DIR@FAR went from the lowest FAR up, "DIR@FAR 0.001: … 0.01:
// … 0.1: …", and TAR@FAR from the highest down).
func TestEvalTextReport(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(dir, "shapes")
	writeShapes(t, shapes, 20)
	args := []string{"--model", "raw", "--data", shapes, "--split", "all", "--input", "1x16x16", "--unknown", "diagonal"}
	js := evalJSON(t, args...)
	code, stdout, stderr := runCLI(t, append([]string{"eval"}, args...)...)
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	v, rt, open := js.Verification, js.Retrieval, js.Identification.OpenSet
	if open == nil {
		t.Fatal("eval --unknown: no open-set figures")
	}
	for _, want := range []string{
		fmt.Sprintf("verification   accuracy %.4f ± %.4f, threshold %.3f (FAR %.4f), EER %.4f, AUC %.4f, TAR@FAR 0.1/0.01/0.001 %.4f/%.4f/%.4f\n",
			v.Accuracy, v.AccuracyStd, v.Threshold, v.FAR, v.EER, v.AUC, v.TARAtFAR["0.1"], v.TARAtFAR["0.01"], v.TARAtFAR["0.001"]),
		fmt.Sprintf("open set       detection AUC %.4f, DIR@FAR 0.1/0.01/0.001 %.4f/%.4f/%.4f\n",
			open.DetectionAUC, open.DIRAtFAR["0.1"], open.DIRAtFAR["0.01"], open.DIRAtFAR["0.001"]),
		fmt.Sprintf("identification rank-1 %.4f, rank-5 %.4f\n", js.Identification.Rank1, js.Identification.Rank5),
		fmt.Sprintf("retrieval      P@1 %.4f, R-precision %.4f, MAP@R %.4f\n", rt.PrecisionAt1, rt.RPrecision, rt.MAPAtR),
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("eval's report %q lacks %q", stdout, want)
		}
	}
}

// TestTrainJSONDiverged: a run that early stopping ends because training
// diverged after the best epoch ends train --json with a line that says
// so, whatever --log-every: the last step taken's figures (Job.Step's)
// and "diverged". Before, it said nothing: with --log-every 1 it printed
// the last step's line again, as it was, and otherwise nothing. The run
// resumes from a checkpoint of its best epoch, epoch 1, with a NaN in a
// bias, as core/job's TestEarlyStopDiverged puts it there, so its next
// step's loss is NaN.
func TestTrainJSONDiverged(t *testing.T) {
	shapes := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, shapes, 10)
	prepare := func() trainConfig {
		t.Helper()
		f, err := parseTrain([]string{"--data", shapes, "--arch", "mlp", "--dim", "4", "--batch", "8", "--epochs", "3",
			"--val", "8", "--early-stop", "2", "--json", "--out", "unused.safetensors"}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		src, err := newSource(false, 0, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		listed, err := classNames(f.data, f.split)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := prepareTraining(&f.mf, src, f.data, f.split, f.classes, listed, f.epochs, f.valN, "cpu")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cfg.job.Close() })
		return cfg
	}
	best := prepare()
	for range best.stepsPerEpoch {
		if _, err := best.job.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if epoch, _ := best.job.BestEpoch(); epoch != 1 {
		t.Fatalf("best epoch %d, want 1", epoch)
	}
	var ckpt bytes.Buffer
	if err := best.job.Checkpoint(&ckpt); err != nil {
		t.Fatal(err)
	}
	tensors, meta, err := safetensors.Decode(&ckpt, 0)
	if err != nil {
		t.Fatal(err)
	}
	tensors["encoder.fc1.bias"].Data[0] = float32(math.NaN())
	ckpt.Reset()
	if err := safetensors.Encode(&ckpt, tensors, meta); err != nil {
		t.Fatal(err)
	}
	for _, logEvery := range []int{1, 1000} {
		cfg := prepare()
		if err := cfg.job.Resume(bytes.NewReader(ckpt.Bytes())); err != nil {
			t.Fatal(err)
		}
		var stdout bytes.Buffer
		if _, err := train(context.Background(), cfg, jsonProgress(&stdout, logEvery)); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		var last progress
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
			t.Fatalf("--log-every %d: line %q: %v", logEvery, lines[len(lines)-1], err)
		}
		want := fmt.Sprintf("training diverged (step %d: loss is NaN", cfg.stepsPerEpoch+1)
		if len(lines) != 1 || last.Step != cfg.stepsPerEpoch || !strings.HasPrefix(last.Diverged, want) {
			t.Errorf("--log-every %d: lines %q: want one, of step %d, whose diverged begins %q", logEvery, lines, cfg.stepsPerEpoch, want)
		}
	}
}

// TestCompareViewsName: compare names a run of views by its D as its
// table writes it, the number of views × the D of each, in its progress
// line and its error too, as the name of a row --json cannot write
// (before, they said D=3 of a row whose table cell is 2×3).
func TestCompareViewsName(t *testing.T) {
	code, _, stderr := runCLI(t, "compare", "--losses", "arcface", "--dims", "3", "--views", "whole,upper", "--arch", "mlp",
		"--opt", "sgd", "--lr", "1e30", "--epochs", "1", "--baselines=false", "--json")
	want := "training 1/2 arcface D=2×3\nmetriclab compare: arcface D=2×3: view 0 (whole): step "
	if code != 1 || !strings.HasPrefix(stderr, want) {
		t.Errorf("compare of views diverging: exit %d, stderr %q; want 1 and %q…", code, stderr, want)
	}
}

// TestLongValueOneShortLine: a value of 100,000 characters that a
// command refuses is quoted by its start and end, in a line of at most
// maxErrorRunes characters after "metriclab CMD: " that keeps what is
// wrong (before, the line quoted it whole: 100,075 bytes for --metric).
func TestLongValueOneShortLine(t *testing.T) {
	long := strings.Repeat("a", 100_000)
	for _, tc := range []struct {
		args       []string
		start, end string
	}{
		{[]string{"eval", "--model", "raw", "--metric", long}, `metriclab eval: unknown metric "aaa`, `aaa" (want cosine, euclidean, whiten, linear)`},
		{[]string{"train", "--out", "m.safetensors", "--views", long}, `metriclab train: views "aaa`, `aaa": want whole, centre, left, lower, right, upper or fractions x0:y0:x1:y1`},
		{[]string{long}, `metriclab: unknown command "aaa`, `aaa" (want train, eval, bench, compare, openset, losses, presets, join, serve or version)`},
		{[]string{"version", long}, `metriclab version: unexpected argument "aaa`, `aaa"`},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		line, _, _ := strings.Cut(stderr, "\n")
		if code != 2 || stdout != "" || stderr != line+"\n" || !strings.HasPrefix(line, tc.start) || !strings.HasSuffix(line, tc.end) ||
			!strings.Contains(line, " … ") || utf8.RuneCountInString(line) > maxErrorRunes+len("metriclab train: ") {
			t.Errorf("metriclab %.20q: exit %d, stdout %q, stderr of %d bytes %.80q…: want status 2 and one line of %d characters at most, from %q to %q", tc.args, code, stdout, len(stderr), stderr, maxErrorRunes, tc.start, tc.end)
		}
	}
}

// TestUnexpandedHome: a path flag given as --data=~/faces, which the
// shell leaves as it is, is refused with the reason where there is no
// folder ~ (before: "data: open ~/faces: no such file or directory", and
// for --out "output folder ~ … does not exist"); where there is one, it
// is the path.
func TestUnexpandedHome(t *testing.T) {
	t.Chdir(t.TempDir())
	wantBadInput(t, "--data ~/faces: there is no folder ~ here, and the shell puts the home folder for ~ only at the start of a word: write --data ~/faces (a space, not =) or --data=$HOME/faces",
		"train", "--data=~/faces", "--out", "m.safetensors")
	wantBadInput(t, "--out ~/m.safetensors: there is no folder ~ here", "train", "--out=~/m.safetensors")
	wantBadInput(t, "--model ~: there is no folder ~ here", "eval", "--model=~")
	// A ~ after a comma of a list of paths, as the shell leaves it too,
	// with or without = (before: "open ~/n2.safetensors: no such file or
	// directory").
	const afterComma = "there is no folder ~ here, and the shell puts the home folder for ~ only at the start of a word, not after a comma: write "
	wantBadInput(t, "--model n1.safetensors,~/n2.safetensors: "+afterComma+"--model n1.safetensors,$HOME/n2.safetensors",
		"join", "--model", "n1.safetensors,~/n2.safetensors", "--out", "x.safetensors")
	wantBadInput(t, "--model a.safetensors, ~/b.safetensors: "+afterComma+"--model a.safetensors,$HOME/b.safetensors", "eval", "--model", "a.safetensors, ~/b.safetensors")
	wantBadInput(t, "--model ~/a.safetensors,~/b.safetensors: "+afterComma+"--model $HOME/a.safetensors,$HOME/b.safetensors", "eval", "--model=~/a.safetensors,~/b.safetensors")
	if err := os.Mkdir("~", 0o755); err != nil {
		t.Fatal(err)
	}
	wantBadInput(t, "open ~/m.safetensors: no such file or directory", "eval", "--model=~/m.safetensors")
	wantBadInput(t, "no such file or directory", "eval", "--model", "~/a.safetensors,~/m.safetensors")
}

// writeSmallMNIST writes into dir an MNIST of n images of 28×28 of each
// digit in each split: the digit's stripe of rows, and noise.
func writeSmallMNIST(t *testing.T, dir string, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, files := range [][2]string{{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}, {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}} {
		pixels, labels := make([]byte, 0, 10*n*28*28), make([]byte, 0, 10*n)
		for i := range 10 * n {
			digit := i % 10
			for p := range 28 * 28 {
				v := byte(rng.IntN(64))
				if p/28/3 == digit {
					v += 160
				}
				pixels = append(pixels, v)
			}
			labels = append(labels, byte(digit))
		}
		for file, b := range map[string][]byte{files[0]: idxFile(0x803, []int{10 * n, 28, 28}, pixels), files[1]: idxFile(0x801, []int{10 * n}, labels)} {
			if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// idxFile is a gzipped IDX file of unsigned bytes: magic, dims, values.
func idxFile(magic uint32, dims []int, values []byte) []byte {
	raw := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		raw = binary.BigEndian.AppendUint32(raw, uint32(d))
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(append(raw, values...))
	zw.Close()
	return buf.Bytes()
}

// TestCompareSmallMNIST: compare's baselines on an MNIST of fewer than
// 10,000 training images ($METRICLAB_MNIST) fit their metrics on all of
// them (fitSample, as eval's and openset's; before, job.HoldOut of
// 10,000 of fewer gave none: "whiten: 0 training images of 0 classes are
// too few to fit a metric"). On real MNIST, 60,000, nothing changes.
// Those rows train nothing, so -h's --json says an object per row, as
// openset's (before, "per run"). A whitening that keeps fewer components
// than 32 shows as many in its row's D (before, 32 from a constant).
func TestCompareSmallMNIST(t *testing.T) {
	dir := t.TempDir()
	writeSmallMNIST(t, dir, 6)
	t.Setenv("METRICLAB_MNIST", dir)
	code, stdout, stderr := runCLI(t, "compare", "--losses", "none", "--json")
	if code != 0 || strings.Count(stdout, "\n") != 3 {
		t.Errorf("compare --losses none on 60 training images: exit %d, stdout %q, stderr %q: want 0 and the 3 baselines' rows", code, stdout, stderr)
	}
	// 60 images of 10 classes keep 32 components (as real MNIST's rows);
	// 30 of 10 keep 30 − 10 − 1 = 19, which the row's D says.
	writeSmallMNIST(t, dir, 3)
	code, stdout, stderr = runCLI(t, "compare", "--losses", "none", "--json")
	var dims []int
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r compareRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("compare --json row %q: %v", line, err)
		}
		dims = append(dims, r.Dim)
	}
	if code != 0 || !slices.Equal(dims, []int{784, 19, 64}) {
		t.Errorf("compare --losses none on 30 training images: exit %d, stderr %q, the rows' D %v: want 0 and 784, 19, 64", code, stderr, dims)
	}
	if u := flagUsages(t, "compare")["json"]; !strings.Contains(u, "per row") {
		t.Errorf("compare -h --json: %q, but compare --losses none --json prints a row of each baseline, which trains nothing", u)
	}
}

// TestCompareJSONLossFlagsNote: compare --json says on stderr, in one
// line, which losses take a loss flag that only some of them take, as the
// text table says it above the table; stdout holds the JSON rows alone
// (before, the note was dropped under --json).
func TestCompareJSONLossFlagsNote(t *testing.T) {
	dir := t.TempDir()
	writeSmallMNIST(t, dir, 6)
	t.Setenv("METRICLAB_MNIST", dir)
	code, stdout, stderr := runCLI(t, "compare", "--losses", "arcface,softmax", "--m", "0.3", "--dims", "3", "--arch", "mlp", "--epochs", "1", "--batch", "8", "--baselines=false", "--json")
	if code != 0 {
		t.Fatalf("compare --json: exit %d, stderr %q", code, stderr)
	}
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("compare --json: stdout line %q is not JSON", line)
		}
	}
	if want := "Loss flags not every loss takes: --m 0.3 for arcface.\n"; !strings.HasPrefix(stderr, want) {
		t.Errorf("compare --json --m 0.3 of arcface and softmax: stderr %q, want it to start with the note %q", stderr, want)
	}
}

// TestCompareTrainedCentres: a trained row's closed set takes its class
// centres from the training images, as eval's (fitSample: all of them
// when 10,000 or fewer). On a small MNIST whose training labels are the
// next digit's (the stripe of d labelled d+1), the nearest training
// centre of a test image is the wrong digit's: accuracy near 0 (before,
// job.HoldOut of 10,000 of 60 left no gallery, and the centres came from
// the test images' own gallery split: accuracy 1).
func TestCompareTrainedCentres(t *testing.T) {
	dir := t.TempDir()
	writeSmallMNIST(t, dir, 6)
	labels := make([]byte, 60)
	for i := range labels {
		labels[i] = byte((i%10 + 1) % 10)
	}
	if err := os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte.gz"), idxFile(0x801, []int{60}, labels), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("METRICLAB_MNIST", dir)
	code, stdout, stderr := runCLI(t, "compare", "--losses", "softmax", "--dims", "8", "--arch", "mlp", "--epochs", "3", "--batch", "8", "--baselines=false", "--json")
	var row compareRow
	if code != 0 || json.Unmarshal([]byte(stdout), &row) != nil {
		t.Fatalf("compare: exit %d, stdout %q, stderr %q: want 0 and one row", code, stdout, stderr)
	}
	if acc := row.Closed.ClosedSet.Accuracy; acc > 0.5 {
		t.Errorf("closed-set accuracy %.4f: want near 0, the training images' centres of the digits shifted by one", acc)
	}
}

// TestCompareQuick: compare says on stderr, before its baselines, that
// they take a while and how to skip them (before, a quick compare of one
// loss spent its first minute and more on them without a word); and, as
// train, it lowers a batch it was not given to MNIST's training images
// when they are fewer, saying so (before: refused, status 2).
func TestCompareQuick(t *testing.T) {
	dir := t.TempDir()
	writeSmallMNIST(t, dir, 6)
	t.Setenv("METRICLAB_MNIST", dir)
	code, stdout, stderr := runCLI(t, "compare", "--losses", "arcface", "--dims", "3", "--arch", "mlp", "--epochs", "1", "--json")
	if code != 0 || strings.Count(stdout, "\n") != 4 || !strings.Contains(stderr, "--baselines=false skips them\n") {
		t.Errorf("compare of arcface on 60 training images: exit %d, stdout %q, stderr %q; want 0, 4 rows and a line that says --baselines=false skips the baselines", code, stdout, stderr)
	}
	if !regexp.MustCompile(`(?m)^closed set: batch \d+: the (most of the )?\d+ training images.*\(the default batch is 64\)$`).MatchString(stderr) {
		t.Errorf("compare's stderr %q; want a line that says the closed set's batch was lowered to its training images", stderr)
	}
	code, stdout, stderr = runCLI(t, "compare", "--losses", "arcface", "--dims", "3", "--arch", "mlp", "--epochs", "1", "--batch", "8", "--baselines=false", "--json")
	if code != 0 || strings.Count(stdout, "\n") != 1 || strings.Contains(stderr, "--baselines=false") {
		t.Errorf("compare --baselines=false: exit %d, stdout %q, stderr %q; want 0, the loss's row and no word of the baselines", code, stdout, stderr)
	}
}
