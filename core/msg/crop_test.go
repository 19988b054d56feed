package msg

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCropJSON: a crop is four numbers, written as an array and read back;
// three, five, or not numbers are refused instead of being padded with
// zeros or cut short; a request without one has the zero Crop and writes
// none.
func TestCropJSON(t *testing.T) {
	b, err := json.Marshal(TrainRequest{Crop: Crop{0, 0.45, 1, 1}})
	if err != nil || !strings.Contains(string(b), `"crop":[0,0.45,1,1]`) {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var r TrainRequest
	if err := json.Unmarshal(b, &r); err != nil || r.Crop != (Crop{0, 0.45, 1, 1}) {
		t.Fatalf("read back %v, %v", r.Crop, err)
	}
	for _, bad := range []string{`[0,0,1]`, `[0,0,1,1,1]`, `"upper"`, `[0,0,"1",1]`} {
		var r TrainRequest
		if err := json.Unmarshal([]byte(`{"crop":`+bad+`}`), &r); err == nil || !strings.Contains(err.Error(), "crop") {
			t.Errorf("crop %s: error %v, want one about the crop", bad, err)
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
