package core

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"metriclab/core/ops"
	"metriclab/core/par"
)

// TestConvPReLUSameBitsAsSeparateOps: the fused layer gives the bits of
// fastConv2d then fastPReLU, forward and all four gradients, on one thread
// and on three, at LeNet++'s padding and kernel on shapes with a border,
// step after step with new inputs (a gradient left from the last step
// would show on the second).
func TestConvPReLUSameBitsAsSeparateOps(t *testing.T) {
	separate := fastLayers
	separate.convPReLU = nil
	pool := par.NewPool(3)
	defer pool.Close()
	cases := []opCase{}
	for _, c := range opCases() {
		if len(c.shapes) == 4 { // the conv-prelu cases
			cases = append(cases, c)
		}
	}
	cases = append(cases, opCase{"conv-prelu LeNet++ 7×7", [][]int{{4, 8, 7, 7}, {16, 8, 5, 5}, {16}, {16}}, cases[0].apply})
	if len(cases) < 4 {
		t.Fatalf("%d conv-prelu cases, want at least 4", len(cases))
	}
	for _, c := range cases {
		for _, pl := range []*par.Pool{nil, pool} {
			fused := newOpGraph(t, c, fastLayers, tensor.Float32, 11)
			sep := newOpGraph(t, c, separate, tensor.Float32, 11)
			ops.UsePool(fused.g, pl)
			ops.UsePool(sep.g, pl)
			rng := rand.New(rand.NewPCG(12, 13))
			for step := 0; step < 3; step++ {
				if step > 0 { // new inputs and a new cost, the same in both graphs
					for i := range fused.in {
						fillRand(fused.in[i].Value().(*tensor.Dense), rng)
						copy(sep.in[i].Value().Data().([]float32), fused.in[i].Value().Data().([]float32))
					}
					fillRand(fused.r.Value().(*tensor.Dense), rng)
					copy(sep.r.Value().Data().([]float32), fused.r.Value().Data().([]float32))
				}
				fy, fg := fused.run(t)
				sy, sg := sep.run(t)
				name := fmt.Sprintf("%s, %d threads, step %d", c.name, pl.Threads(), step)
				checkClose(t, name+" y", fy, sy, 0, 0)
				for i := range sg {
					checkClose(t, fmt.Sprintf("%s dL/din%d", name, i), fg[i], sg[i], 0, 0)
				}
			}
		}
	}
}
