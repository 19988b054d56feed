package main

import "metriclab/core/job"

// maxTrainBytes bounds the memory a run's training may take, as
// job.Job.TrainBytes estimates it (job.Options.MaxTrainBytes), so that a
// request too large for the worker is refused with an error before its
// engine allocates: trainer.wasm has 4 GiB of memory at most (wasm32),
// MNIST keeps 220 MB of it, and running out of it is a fatal error that
// ends the worker, not a panic that safely turns into an error. iresnet18
// at batch 4096 on MNIST is estimated at 62 GiB; the page's largest run
// (lenet-l, batch 512, D 128) at 1 GiB (its first step allocates about
// 0.6 of an estimate). A data-parallel worker, which trains on its share
// of a batch, is held to the bound of the whole batch.
const maxTrainBytes = 3 << 30

// jobOptions returns the options of a run's job, for worker shard of a
// data-parallel run (the zero Shard: a run of its own).
func jobOptions(shard job.Shard) job.Options {
	return job.Options{Version: "browser", Shard: shard, MaxTrainBytes: maxTrainBytes}
}
