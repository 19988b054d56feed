package main

import (
	"strings"
	"testing"

	"metriclab/core/data"
	"metriclab/core/job"
	"metriclab/core/msg"
)

// FuzzStartEnrolled: whatever request and samples a start command of
// enrolled images holds, the worker's path to a run (samplesSet, job.New
// as begin calls it, a few steps, a snapshot, an export, an embed)
// answers with a one-line error or works; it never panics. The samples
// are classes × per images of 1×side×side, labels i mod classes, the
// class named empty (≥ classes: none) having no image.
func FuzzStartEnrolled(f *testing.F) {
	f.Add("mlp", "arcface", "", 4, 8, 1, "", 0, 0, "", "", 2, 10, 9, 16, 0.0)
	f.Add("mlp", "triplet", "", 4, 12, 1, "", 0, 0, "", "", 3, 8, 1, 16, 0.2)
	f.Add("mlp", "cosface", "s", 4, 8, 2, "2x1", 4, 2, "whole,upper", "0-1", 2, 10, 9, 16, 16.0)
	f.Add("lenet-s", "contrastive", "k", 8, 16, 1, "", 8, 0, "", "a,b", 2, 12, 9, 16, 4.0)
	f.Fuzz(func(t *testing.T, arch, loss, param string, dim, batch, epochs int, compose string, turns, glyphs int,
		views, classes string, nClasses, per, empty, side int, value float64) {
		if nClasses < 0 || nClasses > 40 || per < 0 || per > 40 || side < 0 || side > 64 {
			return // samples of a few images
		}
		s := &msg.Samples{Channels: 1, Height: side, Width: side}
		for c := range nClasses {
			s.Classes = append(s.Classes, string(rune('a'+c)))
		}
		for i := range nClasses * per {
			if l := i % nClasses; l != empty {
				s.Labels = append(s.Labels, l)
				for k := range side * side {
					s.Pixels = append(s.Pixels, float32((i*31+k*7)%17)/16)
				}
			}
		}
		req := msg.TrainRequest{Data: msg.DataEnrolled, Arch: arch, Loss: loss, Dim: dim, Epochs: epochs, Batch: batch,
			Opt: "adam", Compose: compose, Turns: turns, Glyphs: glyphs, Classes: classes, Seed: 1}
		if param != "" {
			req.LossParams = map[string]float64{param: value}
		}
		var err error
		if req.Views, err = msg.ParseViews(views); err != nil {
			return
		}
		oneLine := func(what string, err error) {
			if strings.ContainsAny(err.Error(), "\n") {
				t.Errorf("%s: %q is not one line", what, err)
			}
		}
		set, err := samplesSet(s, true)
		if err != nil {
			oneLine("samples", err)
			return
		}
		if req.Arch == "" { // as start and begin fill an enrolled run
			req.Arch = "lenet-s"
		}
		if req.Augment == "" {
			req.Augment = data.AugmentFaces.Name
		}
		opts := job.Options{Version: "browser", CheckOnly: true}
		j, err := job.New(req, set, nil, opts)
		if err != nil {
			oneLine("job", err)
			return
		}
		if j.TrainBytes() > 32<<20 {
			return // too slow to fuzz
		}
		opts.CheckOnly = false
		if j, err = job.New(req, set, nil, opts); err != nil {
			t.Fatalf("job.New takes the request checked, then refuses it: %v", err)
		}
		for range 2 {
			if j.Done() {
				break
			}
			if _, err := j.Step(); err != nil {
				oneLine("step", err)
				return
			}
		}
		if _, err := j.Snapshot(); err != nil {
			oneLine("snapshot", err)
		}
		e, err := j.Embeddings()
		if err != nil {
			oneLine("embeddings", err)
			return
		}
		var vectors, metadata strings.Builder
		if err := job.WriteProjectorTSV(&vectors, &metadata, e, j.PointClasses()); err != nil {
			t.Error(err)
		}
		if _, _, err := embedWith(j.Model(), nil, &msg.Command{Samples: s}); err != nil {
			oneLine("embed", err)
		}
	})
}
