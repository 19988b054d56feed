package core

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// leNetS is one training step of the lenet-s network on 1×28×28 inputs
// (conv5×5×8, ReLU, pool, conv5×5×16, ReLU, pool, fc64, ReLU, fc10) with a
// softmax cross-entropy head made of gorgonia built-ins,
//
//	L = −mean_{n,c}( onehot ⊙ log softmax(logits) ),
//
// built once with the layer primitives l, and plain SGD on its parameters.
type leNetS struct {
	x, onehot *G.Node
	params    []*G.Node
	grads     G.Nodes
	cost      *G.Node
	vm        G.VM
}

func newLeNetS(t testing.TB, l layerSet, batch int) *leNetS {
	t.Helper()
	const classes = 10
	g := G.NewGraph()
	rng := rand.New(rand.NewPCG(11, 12))
	param := func(name string, fanIn int, shape ...int) *G.Node {
		v := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(shape...))
		d := v.Float32s()
		sd := math.Sqrt(2 / float64(fanIn))
		for i := range d {
			d[i] = float32(sd * rng.NormFloat64())
		}
		return G.NodeFromAny(g, v, G.WithName(name))
	}
	net := &leNetS{}
	c1w, c1b := param("c1w", 25, 8, 1, 5, 5), param("c1b", 1, 8)
	c2w, c2b := param("c2w", 200, 16, 8, 5, 5), param("c2b", 1, 16)
	f1w, f1b := param("f1w", 256, 64, 256), param("f1b", 1, 64)
	f2w, f2b := param("f2w", 64, classes, 64), param("f2b", 1, classes)
	for _, b := range []*G.Node{c1b, c2b, f1b, f2b} {
		clear(b.Value().(*tensor.Dense).Float32s())
	}
	net.params = []*G.Node{c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b}

	xv := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(batch, 1, 28, 28))
	for i, d := 0, xv.Float32s(); i < len(d); i++ {
		d[i] = float32(rng.Float64())
	}
	ov := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(batch, classes))
	for i, d := 0, ov.Float32s(); i < batch; i++ {
		d[i*classes+i%classes] = 1
	}
	net.x = G.NodeFromAny(g, xv, G.WithName("x"))
	net.onehot = G.NodeFromAny(g, ov, G.WithName("onehot"))

	must := func(n *G.Node, err error) *G.Node {
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	convBlock := func(x, w, b *G.Node) *G.Node {
		if l.convReLUPool != nil {
			return must(l.convReLUPool(x, w, b, 0))
		}
		return must(l.pool(must(l.relu(must(l.conv(x, w, b, 0, 1))))))
	}
	h := convBlock(net.x, c1w, c1b)
	h = convBlock(h, c2w, c2b)
	h = must(G.Reshape(h, tensor.Shape{batch, 256}))
	h = must(l.relu(must(l.linear(h, f1w, f1b))))
	logits := must(l.linear(h, f2w, f2b))
	p := must(G.SoftMax(logits))
	net.cost = must(G.Neg(must(G.Mean(must(G.HadamardProd(net.onehot, must(G.Log(p))))))))
	var err error
	if net.grads, err = G.Grad(net.cost, net.params...); err != nil {
		t.Fatal(err)
	}
	net.vm = G.NewTapeMachine(g)
	return net
}

// step runs forward and backward and applies w ← w − lr·∂L/∂w.
func (net *leNetS) step(t testing.TB, lr float32) float32 {
	if err := net.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	for i, p := range net.params {
		w := p.Value().(*tensor.Dense).Float32s()
		g := net.grads[i].Value().(*tensor.Dense).Float32s()
		g = g[:len(w)]
		for j := range w {
			w[j] -= lr * g[j]
		}
	}
	loss := net.cost.Value().Data().(float32)
	net.vm.Reset()
	return loss
}

// BenchmarkLeNetS measures training throughput of lenet-s at batch 64 with
// gorgonia's built-in layers, with the fast ops one per layer
// (fast-unfused), and with the fused convolution blocks (fast).
func BenchmarkLeNetS(b *testing.B) {
	unfused := fastLayers
	unfused.convReLUPool = nil
	for _, c := range []struct {
		name string
		l    layerSet
	}{{"builtin", builtinLayers}, {"fast-unfused", unfused}, {"fast", fastLayers}} {
		b.Run(c.name, func(b *testing.B) {
			net := newLeNetS(b, c.l, 64)
			net.step(b, 0.01) // first step allocates the buffers
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				net.step(b, 0.01)
			}
			b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

// TestLeNetSFastMatchesBuiltin trains both builds from the same start for a
// few steps: the losses must agree to float32 accuracy and decrease.
func TestLeNetSFastMatchesBuiltin(t *testing.T) {
	const batch, steps = 8, 5
	fast, ref := newLeNetS(t, fastLayers, batch), newLeNetS(t, builtinLayers, batch)
	var first, last float32
	for s := 0; s < steps; s++ {
		lf, lb := fast.step(t, 0.05), ref.step(t, 0.05)
		if d := math.Abs(float64(lf - lb)); d > 1e-4+1e-3*math.Abs(float64(lb)) {
			t.Fatalf("step %d: loss %g (fast) vs %g (builtin)", s, lf, lb)
		}
		if s == 0 {
			first = lf
		}
		last = lf
	}
	if !(last < first) {
		t.Errorf("loss did not decrease: %g → %g", first, last)
	}
}

// TestLeNetSFastAllocs checks that no fast op allocates once its buffers
// exist, by calling each op of a built lenet-s step directly, and reports
// the allocations of a whole step: what remains there is gorgonia's tape
// machine (an inputs slice per instruction) and the built-in ops of the
// head, a constant of the graph. Under the race detector the ops' counts
// are not held (raceEnabled): the pools of their scratch drop a quarter
// of what is put back there.
func TestLeNetSFastAllocs(t *testing.T) {
	fast := newLeNetS(t, fastLayers, 4)
	ref := newLeNetS(t, builtinLayers, 4)
	fast.step(t, 0.01)
	ref.step(t, 0.01)
	if err := fast.vm.RunAll(); err != nil { // values bound to every node
		t.Fatal(err)
	}
	ops := 0
	g := fast.cost.Graph()
	for _, n := range g.AllNodes() {
		op, ok := n.Op().(interface {
			Do(...G.Value) (G.Value, error)
		})
		if !ok || n.Op() == nil || !strings.HasPrefix(n.Op().String(), "fast") {
			continue
		}
		var in []G.Value
		for cs := g.From(n.ID()); cs.Next(); {
			in = append(in, cs.Node().(*G.Node).Value())
		}
		if _, err := op.Do(in...); err != nil {
			t.Fatalf("%v: %v", n.Op(), err)
		}
		if a := testing.AllocsPerRun(3, func() { op.Do(in...) }); a != 0 && !raceEnabled {
			t.Errorf("%v allocates %v times per call", n.Op(), a)
		}
		ops++
	}
	fast.vm.Reset()
	if ops < 16 {
		t.Fatalf("found %d fast ops in the lenet-s graph, want at least 16", ops)
	}
	af := testing.AllocsPerRun(5, func() { fast.step(t, 0.01) })
	ab := testing.AllocsPerRun(5, func() { ref.step(t, 0.01) })
	t.Logf("allocations per training step: fast %v, builtin %v (%d fast ops)", af, ab, ops)
	if af >= ab/2 {
		t.Errorf("fast step allocates %v times, builtin %v: want under half", af, ab)
	}
}
