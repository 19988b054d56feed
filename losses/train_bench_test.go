package losses_test

import (
	"math/rand"
	"testing"

	"metriclab/core"
	"metriclab/losses"
)

// BenchmarkTrainStep measures whole training steps (forward, backward,
// optimiser) of every architecture with every loss, batch 64, D = 3, on
// random 28×28 images, the workload of ../shared/peers/run.sh.
//
//	go test -run '^$' -bench TrainStep ./losses/
//	PATH=$PATH:$(go env GOROOT)/lib/wasm GOOS=js GOARCH=wasm go test -run '^$' -bench TrainStep/lenet-s ./losses/
func BenchmarkTrainStep(b *testing.B) {
	const batch, classes, dim = 64, 10, 3
	for _, arch := range core.ArchNames() {
		for _, name := range losses.Names() {
			b.Run(arch+"/"+name, func(b *testing.B) {
				loss, err := losses.New(losses.Config{Name: name, Dim: dim})
				if err != nil {
					b.Fatal(err)
				}
				spec := core.DefaultSpec(arch, dim)
				tr, err := core.NewTrainer(spec, loss, core.TrainConfig{Batch: batch, Classes: classes, Opt: core.DefaultOpt("sgd"), Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				rng := rand.New(rand.NewSource(1))
				x := make([]float32, batch*spec.Input.Size())
				for i := range x {
					x[i] = rng.Float32()
				}
				labels := make([]int, batch)
				for i := range labels {
					labels[i] = i % classes
				}
				for i := 0; i < 3; i++ { // warm-up: buffers, caches
					if _, err := tr.Step(x, labels); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := tr.Step(x, labels); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
			})
		}
	}
}
