package main

import (
	"errors"
	"strings"
	"testing"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/job"
	"metriclab/core/msg"
)

// TestRunMemoryBound: a run's job refuses, as a bad request, a training
// that the worker's memory cannot hold (iresnet18 at batch 4096 on MNIST's
// images: an estimate of 62 GiB, which ran the worker out of memory), and
// takes the page's largest run (lenet-l, batch 512, D 128: 1 GiB).
func TestRunMemoryBound(t *testing.T) {
	set := &data.Set{N: 5000, Input: core.Input{Channels: 1, Height: 28, Width: 28}, Classes: data.Numbered(10)}
	set.X = make([]float32, set.N*784)
	for i := range set.N {
		set.Labels = append(set.Labels, i%10)
	}
	huge := msg.TrainRequest{Data: "mnist", Arch: "iresnet18", Loss: "arcface", Dim: 512, Epochs: 1, Batch: 4096, Opt: "adam"}
	for _, shard := range []job.Shard{{}, {Index: 1, Count: 2}} {
		_, err := job.New(huge, set, nil, jobOptions(shard))
		if !errors.Is(err, job.ErrRequest) || !strings.Contains(err.Error(), "more than is allowed") {
			t.Errorf("iresnet18 at batch 4096, worker %d of %d: %v, want the memory bound's error", shard.Index, shard.Count, err)
		}
	}
	page := msg.TrainRequest{Data: "mnist", Arch: "lenet-l", Loss: "arcface", Dim: 128, Epochs: 1, Batch: 512, Opt: "adam"}
	opts := jobOptions(job.Shard{})
	opts.CheckOnly = true
	if _, err := job.New(page, set, nil, opts); err != nil {
		t.Errorf("lenet-l at batch 512: %v", err)
	}
}
