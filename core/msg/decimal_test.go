package msg

import (
	"math"
	"testing"
)

// TestParseDecimal: numbers in decimal notation are read as
// strconv.ParseFloat reads them, -0 as 0; the rest of Go's literals and
// the words for NaN and infinity, which ParseFloat takes too, are refused,
// as is a number beyond float64's range.
func TestParseDecimal(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
	}{
		{"5e-4", 5e-4}, {".5", 0.5}, {"5.", 5}, {"+0.5", 0.5}, {"1E-3", 1e-3}, {"-2.5", -2.5}, {"007", 7}, {"1e-400", 0},
	} {
		if v, err := ParseDecimal(c.in); err != nil || v != c.want {
			t.Errorf("ParseDecimal(%q) = %v, %v; want %v", c.in, v, err, c.want)
		}
	}
	for _, in := range []string{"-0", "-0.0", "-0e5"} {
		if v, err := ParseDecimal(in); err != nil || v != 0 || math.Signbit(v) {
			t.Errorf("ParseDecimal(%q) = %v, %v; want 0", in, v, err)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"0x1p-4", "want a finite decimal number"},
		{"0x0", "want a finite decimal number"},
		{"1_0.5", "want a finite decimal number"},
		{"NaN", "want a finite decimal number"},
		{"Inf", "want a finite decimal number"},
		{"-Inf", "want a finite decimal number"},
		{"infinity", "want a finite decimal number"},
		{"", "want a finite decimal number"},
		{" 1", "want a finite decimal number"},
		{"1e", "want a finite decimal number"},
		{"+-1", "want a finite decimal number"},
		{"1e400", "out of range"},
		{"-1e400", "out of range"},
	} {
		if v, err := ParseDecimal(c.in); err == nil || err.Error() != c.want {
			t.Errorf("ParseDecimal(%q) = %v, %v; want the error %q", c.in, v, err, c.want)
		}
	}
}
