package core

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestDecodeModel: EncodeModel's bytes decode to the same metadata and
// parameters; truncated bytes and a model of another format are errors.
func TestDecodeModel(t *testing.T) {
	m := modelFixture()
	var buf bytes.Buffer
	if err := EncodeModel(&buf, m); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeModel(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Meta, m.Meta) || !reflect.DeepEqual(got.Params, m.Params) {
		t.Errorf("round trip changed the model:\n%+v\nwant\n%+v", got.Meta, m.Meta)
	}
	// Before, "model: not a valid safetensors file: safetensors: reading …",
	// the package named twice.
	if _, err := DecodeModel(bytes.NewReader(buf.Bytes()[:buf.Len()-4])); err == nil || !strings.HasPrefix(err.Error(), "model: not a valid safetensors file: reading ") || strings.Contains(err.Error(), "safetensors: ") {
		t.Errorf("truncated: %v, want one \"model: not a valid safetensors file: reading …\"", err)
	}
	other := modelFixture()
	other.Meta.Format = "other/1"
	buf.Reset()
	if err := EncodeModel(&buf, other); err == nil {
		if _, err := DecodeModel(&buf); err == nil || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("other format: %v", err)
		}
	}
}
