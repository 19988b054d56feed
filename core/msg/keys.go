package msg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// CheckKeys returns an error, one line, naming the first key that an
// object of the JSON value data gives twice, at any depth: spelt the same
// (a map keeps the last value) or differing only in case (encoding/json
// sets one struct field from either spelling, and keeps the last). The
// error names the object by its path ("in loss_params", "in
// provenance.joined[1]"); data's other faults are its decoder's to report
// (CheckKeys returns the first it meets).
func CheckKeys(data []byte) error {
	// frame is an open object or array: its path, and an object's keys
	// (by their folded form) and whether a key comes next.
	type frame struct {
		path    string
		object  bool
		seen    map[string]string
		key     string // the object's current key
		wantKey bool
		index   int // the array's next index
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame // explicit, so that deep nesting costs no goroutine stack
	for {
		tok, err := dec.Token()
		if err == io.EOF && len(stack) > 0 {
			return io.ErrUnexpectedEOF
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].wantKey = true
			}
			continue
		}
		if top != nil && top.object && top.wantKey {
			key, _ := tok.(string) // Token returns strings in key position
			where := ""
			if top.path != "" {
				where = " in " + top.path
			}
			f := foldKey(key)
			switch prev, ok := top.seen[f]; {
			case ok && prev == key:
				return fmt.Errorf("key %q appears twice%s", key, where)
			case ok:
				return fmt.Errorf("keys %q and %q%s differ only in case", prev, key, where)
			}
			top.seen[f], top.key, top.wantKey = key, key, false
			continue
		}
		// tok starts a value: the document, an object's or an array's.
		path := ""
		switch {
		case top == nil:
		case top.object && top.path == "":
			path = top.key
		case top.object:
			path = top.path + "." + top.key
		default:
			path = fmt.Sprintf("%s[%d]", top.path, top.index)
			top.index++
		}
		if d, ok := tok.(json.Delim); ok { // '{' or '['
			f := &frame{path: path, object: d == '{', wantKey: true}
			if f.object {
				f.seen = map[string]string{}
			}
			stack = append(stack, f)
			continue
		}
		if top != nil && top.object {
			top.wantKey = true
		}
	}
}

// foldKey returns s with every rune replaced by the least rune of its
// simple case-folding orbit, so that two strings are equal under
// strings.EqualFold exactly when their foldKeys are equal.
func foldKey(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}
