//go:build !js

package cuda

import (
	"fmt"
	"slices"

	"metriclab/core"
)

// OptState returns a copy of the optimiser's state, as core.Trainer's:
// the number of updates applied (SGD's too) and, by learnable name, the
// first moments (SGD's velocity) in M and Adam's second moments in V. It panics on a device
// error, as Params does.
func (t *Trainer) OptState() core.OptState {
	if t.closed {
		panic("cuda: OptState: the trainer is closed")
	}
	s := core.OptState{T: t.t, M: t.optBuffers(t.m)}
	if t.cfg.Opt.Name == core.OptAdam {
		s.V = t.optBuffers(t.v)
	}
	return s
}

// optBuffers copies every learnable's slice of the flat buffer b.
func (t *Trainer) optBuffers(b Buffer) map[string]core.Tensor {
	out := make(map[string]core.Tensor, len(t.names))
	for _, name := range t.names {
		shape := t.shapes[name]
		d := make([]float32, shapeSize(shape))
		if err := t.b.CopyOut(d, b.Slice(t.slots[name], len(d)), t.s); err != nil {
			panic(fmt.Sprintf("cuda: OptState: %v", err))
		}
		out[name] = core.Tensor{Shape: slices.Clone(shape), Data: d}
	}
	return out
}

// SetOptState loads an optimiser state as OptState returns it, after
// SetParams (which clears the optimiser): every learnable must have its
// buffers of its shape, and V exactly when the optimiser is Adam;
// otherwise it returns an error and changes nothing.
func (t *Trainer) SetOptState(s core.OptState) error {
	if t.closed {
		return ErrTrainerClosed
	}
	if s.T < 0 {
		return fmt.Errorf("optimiser state: %d updates", s.T)
	}
	adam := t.cfg.Opt.Name == core.OptAdam
	if adam != (s.V != nil) {
		return fmt.Errorf("optimiser state: second moments given %v, the optimiser is %s", s.V != nil, t.cfg.Opt.Name)
	}
	check := func(what string, byName map[string]core.Tensor) error {
		if len(byName) != len(t.names) {
			return fmt.Errorf("optimiser state: %d %s for %d learnables", len(byName), what, len(t.names))
		}
		for _, name := range t.names {
			b, ok := byName[name]
			if !ok {
				return fmt.Errorf("optimiser state: no %s for %s", what, name)
			}
			if !slices.Equal(b.Shape, t.shapes[name]) || len(b.Data) != shapeSize(b.Shape) {
				return fmt.Errorf("optimiser state of %s has shape %v, want %v", name, b.Shape, t.shapes[name])
			}
		}
		return nil
	}
	if err := check("buffers", s.M); err != nil {
		return err
	}
	if adam {
		if err := check("second moments", s.V); err != nil {
			return err
		}
	}
	load := func(b Buffer, byName map[string]core.Tensor) error {
		for _, name := range t.names {
			d := byName[name].Data
			if err := t.b.CopyIn(b.Slice(t.slots[name], len(d)), d, t.s); err != nil {
				return err
			}
		}
		return nil
	}
	if err := load(t.m, s.M); err != nil {
		return err
	}
	if adam {
		if err := load(t.v, s.V); err != nil {
			return err
		}
	}
	t.t = s.T
	return nil
}
