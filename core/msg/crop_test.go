package msg

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCropJSON: a crop is four numbers, written as an array and read back;
// or a window's name, as the command line's --crop and --views take it;
// three, five, or not numbers, and unknown names are refused instead of
// being padded with zeros or cut short, with what a window is; a request
// without one has the zero Crop and writes none.
func TestCropJSON(t *testing.T) {
	b, err := json.Marshal(TrainRequest{Crop: Crop{0, 0.45, 1, 1}})
	if err != nil || !strings.Contains(string(b), `"crop":[0,0.45,1,1]`) {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var r TrainRequest
	if err := json.Unmarshal(b, &r); err != nil || r.Crop != (Crop{0, 0.45, 1, 1}) {
		t.Fatalf("read back %v, %v", r.Crop, err)
	}
	for name, want := range map[string]Crop{`"upper"`: Crops["upper"], `"centre"`: Crops["centre"], `"whole"`: {}} {
		var r TrainRequest
		if err := json.Unmarshal([]byte(`{"crop":`+name+`,"views":["whole",`+name+`]}`), &r); err != nil || r.Crop != want || len(r.Views) != 2 || r.Views[1] != want {
			t.Errorf("crop and views %s: %v, %v, %v; want %v", name, r.Crop, r.Views, err, want)
		}
	}
	for _, bad := range []string{`[0,0,1]`, `[0,0,1,1,1]`, `"up"`, `[0,0,"1",1]`, `true`, `{}`} {
		var r TrainRequest
		err := json.Unmarshal([]byte(`{"crop":`+bad+`}`), &r)
		if err == nil || !strings.Contains(err.Error(), "a window is") || strings.Contains(err.Error(), "Go ") {
			t.Errorf("crop %s: error %v, want what a window is", bad, err)
		}
	}
	b, _ = json.Marshal(TrainRequest{})
	if strings.Contains(string(b), "crop") {
		t.Errorf("a request without a crop writes %s", b)
	}
	var none TrainRequest
	if err := json.Unmarshal([]byte(`{}`), &none); err != nil || none.Crop != (Crop{}) {
		t.Errorf("a request without a crop reads as %v, %v", none.Crop, err)
	}
}

// TestParseViews: views are names or fractions x0:y0:x1:y1, written back
// as read; "" and "whole" are none; unknown names, malformed fractions,
// the zero window named by fractions and too many views are refused with
// the view named.
func TestParseViews(t *testing.T) {
	for _, c := range []struct {
		in, out string
		n       int
	}{
		{"", "", 0},
		{"whole", "", 0},
		{"whole,upper,lower", "whole,upper,lower", 3},
		{" upper , 0.1:0:0.9:1", "upper,0.1:0:0.9:1", 2},
		{"left", "left", 1},
		{"whole,0.1:0.1:0.9:0.9", "whole,centre", 2},
		{"whole,-0:.1:1.:0.9", "whole,0:0.1:1:0.9", 2}, // not -0:…
	} {
		v, err := ParseViews(c.in)
		if err != nil || len(v) != c.n || FormatViews(v) != c.out {
			t.Errorf("ParseViews(%q) = %v (%q), %v; want %d views %q", c.in, v, FormatViews(v), err, c.n, c.out)
		}
	}
	v, _ := ParseViews("whole,upper,0:0.2:1:0.8")
	if v[0] != (Crop{}) || v[1] != Crops["upper"] || v[2] != (Crop{0, 0.2, 1, 0.8}) {
		t.Errorf("views %v", v)
	}
	for _, c := range []struct{ in, want string }{
		{"whole,middle", `view "middle": want whole, centre, left, lower, right, upper or fractions`},
		{"0:0:1", `view "0:0:1": want whole`},
		{"0:0:1:x", `view "0:0:1:x": "x": want a finite decimal number`},
		// Go's literals, which strconv.ParseFloat reads (before, 0x1p0
		// was 1 and 1_0.5 10.5; NaN was taken, to be refused later as
		// "crop [NaN 0 1 1]").
		{"whole,0:0:0x1p0:1", `view "0:0:0x1p0:1": "0x1p0": want a finite decimal number`},
		{"whole,0:0:1_0.5:1", `view "0:0:1_0.5:1": "1_0.5": want a finite decimal number`},
		{"whole,NaN:0:1:1", `view "NaN:0:1:1": "NaN": want a finite decimal number`},
		{"whole,0:0:1:1e400", `view "0:0:1:1e400": "1e400": out of range`},
		{"whole,0:0:0:0", `view "0:0:0:0": want x0 < x1 and y0 < y1 (whole is the whole image)`},
		{"whole,upper,lower,left,right,whole,upper,lower,left", "9 views: at most 8"},
		{"whole,", `view "": want whole`},
	} {
		if _, err := ParseViews(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseViews(%q): %v, want an error containing %q", c.in, err, c.want)
		}
	}
	b, err := json.Marshal(TrainRequest{Views: v})
	if err != nil || !strings.Contains(string(b), `"views":[[0,0,0,0],[0,0,1,0.55],[0,0.2,1,0.8]]`) {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var r TrainRequest
	if err := json.Unmarshal(b, &r); err != nil || FormatViews(r.Views) != "whole,upper,0:0.2:1:0.8" {
		t.Errorf("read back %v, %v", r.Views, err)
	}
	if err := json.Unmarshal([]byte(`{"views":[[0,0,1]]}`), &r); err == nil || !strings.Contains(err.Error(), "3 numbers: a window is") {
		t.Errorf("a view of three numbers: %v", err)
	}
}
