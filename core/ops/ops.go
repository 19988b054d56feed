// Package ops is the contract of metriclab's custom gorgonia operations:
// the fused layers of core and the losses' heads are all written against
// it, and it is the seam where another backend plugs in.
//
// An op is a struct that embeds Base and supplies only its arithmetic:
//
//	Arity, Type, InferShape     what gorgonia needs to build the graph
//	Do                          the forward kernel, float32 (fast) and
//	                            float64 (the slow reference, for tests)
//	DiffWRT, SymDiff            its gradient as further ops
//
// Base gives the rest: the identity gorgonia hashes and prints (the op's
// Key), the flags of an op that neither aliases nor overwrites its inputs,
// and the thread pool the kernels split their loops on (UsePool sets it on
// every op of a graph once the graph is built). Each op owns its output
// tensor (Buf) and scratch, allocated on the first step and reused: an op
// instance belongs to one node, and one graph must not run on two machines
// at once.
package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"metriclab/core/par"
)

// Base is embedded by every op. Key is the op's identity for gorgonia's
// common-subexpression elimination: two ops with the same Key and inputs
// are merged, so an op whose backward reads its own saved state puts its
// address in the Key (see Unique).
type Base struct {
	Key  string
	Pool *par.Pool // nil: one thread
}

func (b *Base) ReturnsPtr() bool      { return false }
func (b *Base) CallsExtern() bool     { return false }
func (b *Base) OverwritesInput() int  { return -1 }
func (b *Base) String() string        { return b.Key }
func (b *Base) WriteHash(h hash.Hash) { fmt.Fprint(h, b.Key) }
func (b *Base) SetPool(p *par.Pool)   { b.Pool = p }
func (b *Base) Hashcode() uint32 {
	h := fnv.New32a()
	b.WriteHash(h)
	return h.Sum32()
}

// Unique appends the address of op to key, for ops whose backward ops read
// state that this instance saved.
func Unique(key string, op any) string { return fmt.Sprintf("%s@%p", key, op) }

// Pooled is an op whose kernels run on a thread pool.
type Pooled interface{ SetPool(*par.Pool) }

// UsePool hands p to every op of g that takes one.
func UsePool(g *G.ExprGraph, p *par.Pool) {
	for _, n := range g.AllNodes() {
		if op, ok := n.Op().(Pooled); ok {
			op.SetPool(p)
		}
	}
}

// FnType is the gorgonia type a → … → a of an op over tensors of the given
// ranks (the last is the result), all of one element type a.
func FnType(dims ...int) hm.Type {
	ts := make([]hm.Type, len(dims))
	for i, d := range dims {
		ts[i] = G.TensorType{Dims: d, Of: hm.TypeVariable('a')}
	}
	return hm.NewFnType(ts...)
}

// ShapeOf returns input i of InferShape as a tensor.Shape.
func ShapeOf(in []G.DimSizer, i int) (tensor.Shape, error) {
	if i >= len(in) {
		return nil, fmt.Errorf("ops: expected %d inputs, got %d", i+1, len(in))
	}
	s, ok := in[i].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("ops: input %d has no shape (%T)", i, in[i])
	}
	return s, nil
}

// ShapePair returns inputs 0 and 1 of InferShape as tensor.Shapes, with
// ShapeOf's errors.
func ShapePair(in []G.DimSizer) (a, b tensor.Shape, err error) {
	if a, err = ShapeOf(in, 0); err == nil {
		b, err = ShapeOf(in, 1)
	}
	return a, b, err
}

// SameShape is InferShape for ops whose output has the shape of input 0.
func SameShape(in []G.DimSizer) (tensor.Shape, error) {
	s, err := ShapeOf(in, 0)
	return s.Clone(), err
}

// Dense returns v as a row-major *tensor.Dense of float32 or float64,
// copying only if v is a strided view. It panics on other values: the
// graph's types were checked when the node was built.
func Dense(v G.Value) *tensor.Dense {
	d, ok := v.(*tensor.Dense)
	if !ok {
		panic(fmt.Sprintf("ops: want a dense tensor, got %T", v))
	}
	if d.RequiresIterator() {
		d = d.Materialize().(*tensor.Dense)
	}
	return d
}

// Scalar returns the number held by the scalar value v (a gorgonia scalar
// or a one-element tensor).
func Scalar(v G.Value) (float64, error) {
	switch x := v.(type) {
	case *G.F64:
		return float64(*x), nil
	case *G.F32:
		return float64(*x), nil
	case tensor.Tensor:
		switch d := x.Data().(type) {
		case float64:
			return d, nil
		case float32:
			return float64(d), nil
		case []float64:
			if len(d) == 1 {
				return d[0], nil
			}
		case []float32:
			if len(d) == 1 {
				return float64(d[0]), nil
			}
		}
	}
	return 0, fmt.Errorf("ops: want a scalar, got %T %v", v, v.Shape())
}

// Buf is an op-owned tensor, allocated on first use and reused while its
// dtype and shape stay the same; F32 or F64 is its data.
type Buf struct {
	T   *tensor.Dense
	F32 []float32
	F64 []float64
}

// Get returns the buffer as a dt tensor of shape s, reallocating only if
// the dtype or shape changed; its contents are whatever the last step left.
func (b *Buf) Get(dt tensor.Dtype, s tensor.Shape) *tensor.Dense {
	if b.T != nil && b.T.Dtype() == dt && b.T.Shape().Eq(s) {
		return b.T
	}
	b.T = tensor.New(tensor.Of(dt), tensor.WithShape(s.Clone()...))
	b.F32, b.F64 = nil, nil
	switch dt {
	case tensor.Float32:
		b.F32 = b.T.Float32s()
	case tensor.Float64:
		b.F64 = b.T.Float64s()
	default:
		panic(fmt.Sprintf("ops: float32 and float64 only, not %v", dt))
	}
	return b.T
}

// Scratch32 returns a float32 slice of length n owned by the caller,
// growing *s when needed; its contents are undefined.
func Scratch32(s *[]float32, n int) []float32 { return scratch(s, n) }

// Scratch64 is Scratch32 for float64.
func Scratch64(s *[]float64, n int) []float64 { return scratch(s, n) }

func scratch[T float32 | float64](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n)
	}
	return (*s)[:n]
}
