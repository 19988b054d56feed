package view

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeMessage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		json    string
		schema  bool   // want an errSchema error
		errPart string // want an error containing this ("" for none)
		ping    bool
	}{
		{"snapshot", `{"v":1,"type":"snapshot","snapshot":{"dim":2,"points":[1,0,0,1],"labels":[0,1]}}`, false, "", false},
		{"progress", `{"v":1,"type":"progress","progress":{"step":3}}`, false, "", false},
		{"other version", `{"v":2,"type":"snapshot","snapshot":{"dim":2}}`, true, "v2", false},
		{"no version", `{"type":"progress"}`, true, "v0", false},
		{"ping of any version", `{"v":7,"type":"ping"}`, false, "", true},
		{"ping command", `{"v":1,"type":"command","command":{"op":"ping"}}`, false, "", true},
		{"not JSON", `snapshot`, false, "bad message", false},
		{"snapshot missing", `{"v":1,"type":"snapshot"}`, false, "without a snapshot", false},
		{"ragged points", `{"v":1,"type":"snapshot","snapshot":{"dim":3,"points":[1,2,3,4]}}`, false, "not a multiple", false},
		{"labels short", `{"v":1,"type":"snapshot","snapshot":{"dim":1,"points":[1,2],"labels":[0]}}`, false, "1 labels for 2 points", false},
		{"ragged weights", `{"v":1,"type":"snapshot","snapshot":{"dim":2,"points":[1,0],"weights":[1]}}`, false, "weight values", false},
		{"dim 0", `{"v":1,"type":"snapshot","snapshot":{"dim":0}}`, false, "dimension 0", false},
		{"dim negative", `{"v":1,"type":"snapshot","snapshot":{"dim":-3}}`, false, "dimension -3", false},
		// The largest dimension a trainer sends: 512 per view, 8 views.
		{"dim 4096", `{"v":1,"type":"snapshot","snapshot":{"dim":4096}}`, false, "", false},
		// Place would allocate a D×D matrix for the PCA: 8 TB here.
		{"dim 10^6, no points", `{"v":1,"type":"snapshot","snapshot":{"dim":1000000}}`, false, "dimension 1000000", false},
		{"dim 4097", `{"v":1,"type":"snapshot","snapshot":{"dim":4097,"points":[]}}`, false, "dimension 4097", false},
	} {
		m, err := decodeMessage([]byte(tc.json))
		switch {
		case tc.errPart == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.errPart != "" && (err == nil || !strings.Contains(err.Error(), tc.errPart)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.errPart)
		case errors.Is(err, errSchema) != tc.schema:
			t.Errorf("%s: errors.Is(err, errSchema) = %v, want %v", tc.name, !tc.schema, tc.schema)
		case err == nil && isPing(m) != tc.ping:
			t.Errorf("%s: isPing %v, want %v", tc.name, isPing(m), tc.ping)
		}
	}
}

func TestReadyMessage(t *testing.T) {
	var m map[string]any
	if err := json.Unmarshal(ReadyMessage(), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"v": 1.0, "type": "state", "trainer": "viz", "state": "viz-ready"}
	if len(m) != len(want) {
		t.Fatalf("ready message %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("ready message %s = %v, want %v", k, m[k], v)
		}
	}
}
