package msg

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestCheckKeys: JSON whose objects name each key once passes, at any
// depth; a key given twice, or twice in two cases, is named with the path
// of its object.
func TestCheckKeys(t *testing.T) {
	for _, tc := range []struct {
		json, want string // want "": no error
	}{
		{`{}`, ""},
		{`[]`, ""},
		{`3`, ""},
		{`{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}`, ""}, // one key in several objects
		{`{"a":[1,2,{"b":[]}],"k":"k","K2":"x"}`, ""},
		{`{"a":1,"a":2}`, `key "a" appears twice`},
		{`{"loss":"x","LOSS":"y"}`, `keys "loss" and "LOSS" differ only in case`},
		{`{"loss_params":{"s":30,"m":0.5,"s":64}}`, `key "s" appears twice in loss_params`},
		{`{"loss_params":{"s":30,"S":64}}`, `keys "s" and "S" in loss_params differ only in case`},
		{`{"spec":{"input":{"std":1,"std":2}}}`, `key "std" appears twice in spec.input`},
		{`{"p":{"joined":[{"seed":1},{"seed":1,"seed":2}]}}`, `key "seed" appears twice in p.joined[1]`},
		{`[[{"x":1}],[{"x":1,"x":1}]]`, `key "x" appears twice in [1][0]`},
		// Folding as strings.EqualFold: K, k and the Kelvin sign.
		{`{"k":1,"\u212a":2}`, "keys \"k\" and \"\u212a\" differ only in case"},
		{`{"a":{"b":1},"b":2,"a":3}`, `key "a" appears twice`},
	} {
		err := CheckKeys([]byte(tc.json))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("CheckKeys(%s) = %q, want %q", tc.json, got, tc.want)
		}
	}
	if err := CheckKeys([]byte(`{"a":`)); err == nil || strings.Contains(err.Error(), "twice") {
		t.Errorf("truncated JSON: %v, want the decoder's error", err)
	}
}

// dupKey is a slow reference for CheckKeys: whether some object of the
// JSON value raw (decoded into RawMessages, level by level) gives a key
// twice under strings.EqualFold.
func dupKey(raw []byte) bool {
	var obj []json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		for _, v := range obj {
			if dupKey(v) {
				return true
			}
		}
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	var keys []string
	for dec.More() {
		tok, _ := dec.Token()
		key := tok.(string)
		for _, k := range keys {
			if strings.EqualFold(k, key) {
				return true
			}
		}
		keys = append(keys, key)
		var v json.RawMessage
		dec.Decode(&v)
		if dupKey(v) {
			return true
		}
	}
	return false
}

// FuzzCheckKeys holds CheckKeys to dupKey on valid JSON, and checks that
// its errors are one line.
func FuzzCheckKeys(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":{"a":2},"c":[{"a":3},{"A":4}]}`, `{"k":1,"\u212a":2}`, `[[{"x":1}],[{"x":1,"x":1}]]`, `{"a":`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckKeys([]byte(s))
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("error %q: want one line", err)
		}
		if !json.Valid([]byte(s)) || len(s) > 1000 {
			return
		}
		if want := dupKey([]byte(s)); (err != nil) != want {
			t.Fatalf("CheckKeys(%s) = %v; a key twice: %v", s, err, want)
		}
	})
}
