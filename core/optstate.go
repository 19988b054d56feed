package core

import "fmt"

// OptState is a Trainer's optimiser state, what a checkpoint needs besides
// the parameters and Iter to go on exactly as an uninterrupted run: the
// number of updates applied (Adam's bias correction 1−βᵗ) and, by
// learnable name, the optimiser's buffers: SGD's velocity in M, Adam's
// first moments in M and second moments in V (nil for SGD). Values are
// float32: exact for the float32 engine that trains every run; the float64
// engine's state rounds to float32.
type OptState struct {
	T    int
	M, V map[string]Tensor
}

// OptState returns a copy of the optimiser's state.
func (t *Trainer) OptState() OptState {
	var n int
	var m, v [][]float32
	if t.f32 != nil {
		n, m, v = t.f32.opt.state()
	} else {
		n, m, v = t.f64.opt.state()
	}
	s := OptState{T: n, M: make(map[string]Tensor, len(t.names))}
	if v != nil {
		s.V = make(map[string]Tensor, len(t.names))
	}
	for i, name := range t.names {
		shape := append([]int(nil), t.shapes[i]...)
		s.M[name] = Tensor{Shape: shape, Data: m[i]}
		if v != nil {
			s.V[name] = Tensor{Shape: shape, Data: v[i]}
		}
	}
	return s
}

// SetOptState loads an optimiser state as OptState returns it, after
// SetParams (which clears the optimiser). Every learnable must have its
// buffers, of its shape (and V is needed exactly when the optimiser is
// Adam); otherwise it returns an error and changes nothing.
func (t *Trainer) SetOptState(s OptState) error {
	if s.T < 0 {
		return fmt.Errorf("optimiser state: %d updates", s.T)
	}
	adam := t.cfg.Opt.Name == OptAdam
	if adam != (s.V != nil) {
		return fmt.Errorf("optimiser state: second moments given %v, the optimiser is %s", s.V != nil, t.cfg.Opt.Name)
	}
	// bufs returns the buffers of every learnable from byName, checked.
	bufs := func(what string, byName map[string]Tensor) ([][]float32, error) {
		out := make([][]float32, len(t.names))
		for i, name := range t.names {
			b, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("optimiser state: no %s for %s", what, name)
			}
			if err := checkTensor("optimiser state of "+name, b, t.shapes[i]); err != nil {
				return nil, err
			}
			out[i] = b.Data
		}
		return out, nil
	}
	m, err := bufs("buffer", s.M)
	if err != nil {
		return err
	}
	var v [][]float32
	if adam {
		if v, err = bufs("second moments", s.V); err != nil {
			return err
		}
	}
	if len(s.M) != len(t.names) || (adam && len(s.V) != len(t.names)) {
		return fmt.Errorf("optimiser state: %d buffers for %d learnables", len(s.M), len(t.names))
	}
	if t.f32 != nil {
		t.f32.opt.setState(s.T, m, v)
	} else {
		t.f64.opt.setState(s.T, m, v)
	}
	return nil
}
