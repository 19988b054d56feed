package main

import (
	"bytes"
	"image"
	"path/filepath"
	"strings"
	"testing"

	"metriclab/core"
	"metriclab/core/data"
)

// TestSourceTellsEachLoadOnce: a source that aligns says how many photos
// it kept once per folder, split and input, however often they load
// (openset loads the same split for its probe, its evaluation and every
// run).
func TestSourceTellsEachLoadOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 4)
	var log bytes.Buffer
	src := source{log: &log, told: map[string]bool{}, align: func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
		return append(dst[:0], make([]float32, in.Size())...), "" // every photo kept
	}}
	in := core.Input{Channels: 1, Height: 16, Width: 16, Std: 1}
	for range 3 {
		if _, err := src.load(dir, "all", in); err != nil {
			t.Fatal(err)
		}
	}
	in.Height, in.Width = 8, 8
	if _, err := src.load(dir, "all", in); err != nil {
		t.Fatal(err)
	}
	if got := log.String(); strings.Count(got, "12 photos aligned") != 2 || strings.Count(got, "\n") != 2 {
		t.Errorf("log %q: want one line for each of the two inputs", got)
	}
}

// TestSourceMemo: with a memo, a source loads each folder, split and input
// once and returns the same set again (openset checks every run's training
// on them before the first); without, every load reads the photos.
func TestSourceMemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shapes")
	writeShapes(t, dir, 4)
	aligned := 0
	src := source{told: map[string]bool{}, memo: map[string]*data.Set{}, align: func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
		aligned++
		return append(dst[:0], make([]float32, in.Size())...), ""
	}}
	in := core.Input{Channels: 1, Height: 16, Width: 16, Std: 1}
	a, errA := src.load(dir, "all", in)
	b, errB := src.load(dir, "all", in)
	if errA != nil || errB != nil || a != b || aligned != 12 {
		t.Errorf("with a memo: %v, %v, the same set %v, %d photos aligned; want the 12 photos aligned once", errA, errB, a == b, aligned)
	}
	src.memo = nil
	if c, err := src.load(dir, "all", in); err != nil || c == a || aligned != 24 {
		t.Errorf("without: %v, a new set %v, %d photos aligned; want 24", err, c != a, aligned)
	}
}
