package msg

import (
	"encoding/json"
	"fmt"
)

// Crop is a window of an image: fractions x0, y0, x1, y1 of its width and
// height; the zero Crop is none (the whole image). See core.Spec.Crop.
type Crop [4]float64

// UnmarshalJSON reads a crop as exactly four numbers (encoding/json would
// drop a fifth and take a missing one as 0).
func (c *Crop) UnmarshalJSON(b []byte) error {
	var v []float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("crop: %v", err)
	}
	if len(v) != 4 {
		return fmt.Errorf("crop of %d numbers: want four, x0, y0, x1, y1", len(v))
	}
	copy(c[:], v)
	return nil
}
