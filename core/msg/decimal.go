package msg

import (
	"errors"
	"strconv"
	"strings"
)

// ParseDecimal reads a number typed by a person (a flag, a fraction of
// --crop or --views, a setting of a link) in decimal notation alone:
// digits, a point, an exponent (5e-4, .5, 5., +0.5, 1E-3). It refuses
// the rest of Go's literals, which strconv.ParseFloat takes (0x1p-4 is
// 0.0625, 1_0.5 is 10.5, and NaN, Inf and infinity are floats), and a
// number beyond float64's range; -0 reads as 0, which a report would
// print as -0. Its errors are the words to put after the value typed:
// "want a finite decimal number", or "out of range".
func ParseDecimal(s string) (float64, error) {
	if strings.Trim(s, "0123456789.eE+-") != "" { // 0x1p-4, 1_0.5, NaN, Inf
		return 0, errors.New("want a finite decimal number")
	}
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, errors.New("out of range")
	case err != nil:
		return 0, errors.New("want a finite decimal number")
	}
	if v == 0 {
		v = 0 // not -0
	}
	return v, nil
}
