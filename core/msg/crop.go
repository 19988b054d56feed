package msg

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Crop is a window of an image: fractions x0, y0, x1, y1 of its width and
// height; the zero Crop is none (the whole image). See core.Spec.Crop.
type Crop [4]float64

// UnmarshalJSON reads a crop as a window's name (ViewWhole, or one of
// Crops, as `train --crop` and `--views` take them) or as exactly four
// numbers x0, y0, x1, y1 (encoding/json would drop a fifth and take a
// missing one as 0). Its errors say what a crop takes, and name no field:
// a crop is the value of "crop" and an element of "views".
func (c *Crop) UnmarshalJSON(b []byte) error {
	var name string
	if json.Unmarshal(b, &name) == nil {
		w, ok := Crops[name]
		if !ok && name != ViewWhole {
			return fmt.Errorf("no window %q: %s", Shorten(name, 40), CropWants)
		}
		*c = w
		return nil
	}
	var v []float64
	if err := json.Unmarshal(b, &v); err != nil {
		return errors.New(CropWants)
	}
	if len(v) != 4 {
		return fmt.Errorf("%d numbers: %s", len(v), CropWants)
	}
	copy(c[:], v)
	return nil
}

// CropWants says what a Crop reads from JSON (Crop.UnmarshalJSON).
var CropWants = fmt.Sprintf("a window is %q, a name (%s) or four numbers [x0, y0, x1, y1], fractions of the width and height", ViewWhole, strings.Join(cropNames(), ", "))

// Crops are the named windows (`train --crop NAME`, a view's name): the
// upper and lower 55 % of an image, its left and right 55 %, and its
// centre (the central 80 % of its width and of its height).
var Crops = map[string]Crop{
	"centre": {0.1, 0.1, 0.9, 0.9},
	"upper":  {0, 0, 1, 0.55},
	"lower":  {0, 0.45, 1, 1},
	"left":   {0, 0, 0.55, 1},
	"right":  {0.45, 0, 1, 1},
}

// ViewWhole is the name of the zero Crop, the whole image, among views.
const ViewWhole = "whole"

// MaxViews bounds the views of an encoder (core.Spec.Views).
const MaxViews = 8

// ParseViews reads the views of `train --views` and of a link's views=:
// names separated by commas, each ViewWhole or one of Crops, or four
// fractions x0:y0:x1:y1. "" and a lone "whole" are no views (nil: one
// encoder of the whole image). Whether a window fits an input is
// core.Spec.Validate's to say.
func ParseViews(s string) ([]Crop, error) {
	if s == "" || s == ViewWhole {
		return nil, nil
	}
	var out []Crop
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		c, ok := Crops[name]
		switch {
		case name == ViewWhole:
		case ok:
		default:
			parts := strings.Split(name, ":")
			if len(parts) != 4 {
				return nil, fmt.Errorf("view %q: want %s, %s or fractions x0:y0:x1:y1", name, ViewWhole, strings.Join(cropNames(), ", "))
			}
			for i, p := range parts {
				v, err := ParseDecimal(p)
				if err != nil {
					return nil, fmt.Errorf("view %q: %q: %v", name, p, err)
				}
				c[i] = v
			}
			if c == (Crop{}) {
				return nil, fmt.Errorf("view %q: want x0 < x1 and y0 < y1 (%s is the whole image)", name, ViewWhole)
			}
		}
		out = append(out, c)
	}
	if len(out) > MaxViews {
		return nil, fmt.Errorf("%d views: at most %d", len(out), MaxViews)
	}
	return out, nil
}

// FormatViews writes views as ParseViews reads them: the names of named
// windows, fractions x0:y0:x1:y1 for the others; "" for none.
func FormatViews(views []Crop) string {
	parts := make([]string, len(views))
	for i, c := range views {
		parts[i] = ViewName(c)
	}
	return strings.Join(parts, ",")
}

// ViewName names the crop as a view: ViewWhole for the zero Crop, its
// name in Crops, or its fractions x0:y0:x1:y1.
func ViewName(c Crop) string {
	if c == (Crop{}) {
		return ViewWhole
	}
	for name, w := range Crops {
		if w == c {
			return name
		}
	}
	f := make([]string, 4)
	for i, v := range c {
		f[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(f, ":")
}

// cropNames returns the names of Crops, sorted.
func cropNames() []string {
	names := make([]string, 0, len(Crops))
	for name := range Crops {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
