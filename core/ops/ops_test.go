package ops

import (
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestShapePair: both shapes, or the error of the first input that is
// missing or has none.
func TestShapePair(t *testing.T) {
	a, b, err := ShapePair([]G.DimSizer{tensor.Shape{2, 3}, tensor.Shape{4}})
	if err != nil || !a.Eq(tensor.Shape{2, 3}) || !b.Eq(tensor.Shape{4}) {
		t.Errorf("ShapePair = %v, %v, %v; want (2, 3), (4)", a, b, err)
	}
	for _, c := range []struct {
		in   []G.DimSizer
		want string
	}{
		{[]G.DimSizer{tensor.Shape{2}}, "expected 2 inputs, got 1"},
		{nil, "expected 1 inputs, got 0"},
		{[]G.DimSizer{tensor.Shape{2}, notShape(2)}, "input 1 has no shape"},
	} {
		if _, _, err := ShapePair(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ShapePair(%v): %v, want an error saying %q", c.in, err, c.want)
		}
	}
}

// notShape is a DimSizer that is not a tensor.Shape.
type notShape int

func (n notShape) DimSize(int) (int, error) { return int(n), nil }
