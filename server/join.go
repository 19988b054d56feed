package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"metriclab/core"
	"metriclab/core/msg"
	"metriclab/losses"
)

// parseJoin parses join's flags and refuses what needs no file to be
// found wrong: fewer than 2 model files or more than a join's views
// (each file is one view or more), an empty name, no --out. It
// returns the model files and --out, which cmdJoin reads and checks.
func parseJoin(args []string, stdout io.Writer) (paths []string, out string, err error) {
	fs := flag.NewFlagSet("join", flag.ContinueOnError)
	models := fs.String("model", "", "model files (.safetensors) separated by commas, 2 or more, of one recipe: the same architecture, input, D, embedding batch norm, flip test, loss and its parameters, classes and alignment (seeds and windows may differ); their views together at most 8")
	fs.StringVar(&out, "out", "", "the joined model file to write")
	if err := parseFlags(fs, args, stdout); err != nil {
		return nil, "", err
	}
	paths = splitPaths(*models)
	if len(paths) < 2 {
		return nil, "", badInput("--model %q: want 2 or more model files separated by commas", *models)
	}
	if slices.Contains(paths, "") {
		return nil, "", badInput("--model %q: an empty file name", *models)
	}
	// Refused before a file is read: so many models, read whole, could
	// take minutes and gigabytes before the join found them too many.
	if len(paths) > msg.MaxViews {
		return nil, "", badInput("--model: %d model files, each one view or more: a join has at most %d views", len(paths), msg.MaxViews)
	}
	if err := requireOut(out); err != nil {
		return nil, "", err
	}
	return paths, out, nil
}

// cmdJoin joins model files into one model of views (core.JoinModels):
// the ensemble that eval --model a,b evaluates, as one file that the
// Verify page and the server load. Ctrl-C stops it before it writes; once
// it writes, the model is finished.
func cmdJoin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	paths, out, err := parseJoin(args, stdout)
	if err != nil {
		return err
	}
	for _, path := range paths {
		if sameFile(out, path) {
			return badInput("--out %s is also a --model file, which the join would replace: write it to another file", out)
		}
	}
	// A file twice would be its views twice, the file's own ensemble: as
	// the file alone, at twice the size.
	if err := eachFileOnce(paths); err != nil {
		return err
	}
	if err := checkOutput(out); err != nil {
		return err
	}
	ms := make([]*core.Model, len(paths))
	for i, path := range paths {
		m, err := core.ReadModel(path)
		if err != nil {
			return inputError{err}
		}
		if err := m.Validate(losses.Check); err != nil {
			return inputError{err} // it names the file
		}
		ms[i] = m
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	m, err := core.JoinModels(ms, time.Now().UTC().Format(time.RFC3339), version)
	if err != nil {
		return inputError{err}
	}
	// After the recipes' check: models of two recipes differ, whatever
	// their weights.
	if err := eachModelOnce(paths, ms); err != nil {
		return err
	}
	if err := core.WriteModel(out, m); err != nil {
		return err
	}
	threshold := fmt.Sprintf("threshold %.3f and FAR %.4f: the members', weighted by their views (not measured on the joined model)", m.Meta.Threshold, m.Meta.FAR)
	without := 0 // members trained with nothing held out
	for _, member := range ms {
		if !member.Meta.HasThreshold() {
			without++
		}
	}
	switch without {
	case 0:
	case len(ms):
		threshold = "no threshold: no member has one"
	default:
		threshold += fmt.Sprintf("; of the %d members, %d held nothing out and gives none", len(ms), without)
	}
	fmt.Fprintf(stderr, "wrote %s: %d views (%s), %s\n", pathText(out), len(m.Meta.Spec.Views), msg.FormatViews(m.Meta.Spec.Views), threshold)
	return nil
}

// eachFileOnce refuses model files of which one is named twice, by one
// path or two (join's, eval's ensemble's).
func eachFileOnce(paths []string) error {
	for i, path := range paths {
		for _, earlier := range paths[:i] {
			switch {
			case earlier == path:
				return badInput("--model names %s twice: give each model file once", pathText(path))
			case sameFile(earlier, path):
				return badInput("--model names one file twice, as %s and as %s: give each model file once", pathText(earlier), pathText(path))
			}
		}
	}
	return nil
}

// eachModelOnce refuses models, read from paths, of which two hold the
// same weights (join's, eval's ensemble's): a file and its copy, which
// eachFileOnce lets through, are the model's views twice, its own
// ensemble.
func eachModelOnce(paths []string, ms []*core.Model) error {
	seen := make(map[[sha256.Size]byte]int, len(ms))
	for i, m := range ms {
		sum := weightsSum(m)
		if j, ok := seen[sum]; ok {
			return badInput("--model %s and %s hold the same weights (one is a copy of the other): give each model once", pathText(paths[j]), pathText(paths[i]))
		}
		seen[sum] = i
	}
	return nil
}

// weightsSum is the SHA-256 of m's parameters: their names in order,
// each one's shape and the bits of its values.
func weightsSum(m *core.Model) [sha256.Size]byte {
	h := sha256.New()
	var b [8]byte
	for _, name := range slices.Sorted(maps.Keys(m.Params)) {
		p := m.Params[name]
		binary.LittleEndian.PutUint64(b[:], uint64(len(name)))
		h.Write(b[:])
		io.WriteString(h, name)
		binary.LittleEndian.PutUint64(b[:], uint64(len(p.Shape)))
		h.Write(b[:])
		for _, n := range p.Shape {
			binary.LittleEndian.PutUint64(b[:], uint64(n))
			h.Write(b[:])
		}
		buf := make([]byte, 4*len(p.Data))
		for k, v := range p.Data {
			binary.LittleEndian.PutUint32(buf[4*k:], math.Float32bits(v))
		}
		h.Write(buf)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// sameFile reports whether paths a and b name one file: os.SameFile
// where both exist (through links, as the write goes), else their
// cleaned paths.
func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	return filepath.Clean(a) == filepath.Clean(b)
}
