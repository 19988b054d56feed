package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// file assembles a safetensors file from a header, unpadded, and data.
func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// f32 returns the little-endian bytes of vs.
func f32(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// TestEncodeLayout checks Encode's bytes against a file written by hand
// from the format description: the header length 136 = 0x88 (132 bytes of
// JSON and 4 spaces of padding), the JSON with metadata first and tensors in
// name order, then 1, −2 and 0.5 as little-endian float32.
func TestEncodeLayout(t *testing.T) {
	var want []byte
	want = append(want, mustHex("88 00 00 00 00 00 00 00")...)
	want = append(want, `{"__metadata__":{"k":"v"},`+
		`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},`+
		`"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}`+"    "...)
	want = append(want, mustHex("0000803f 000000c0 0000003f")...)

	var got bytes.Buffer
	err := Encode(&got, map[string]Tensor{
		"b": {Shape: []int{}, Data: []float32{0.5}},
		"a": {Shape: []int{2}, Data: []float32{1, -2}},
	}, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("Encode wrote\n%s\nwant\n%s", hex.Dump(got.Bytes()), hex.Dump(want))
	}
}

// TestEncodeEmpty checks the smallest file: "{}" padded to 8 bytes.
func TestEncodeEmpty(t *testing.T) {
	var got bytes.Buffer
	if err := Encode(&got, nil, nil); err != nil {
		t.Fatal(err)
	}
	want := file("{}      ", nil)
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("Encode wrote %q, want %q", got.Bytes(), want)
	}
}

func TestRoundTrip(t *testing.T) {
	tensors := map[string]Tensor{
		"encoder.conv1.weight": {Shape: []int{2, 1, 2, 2}, Data: []float32{1, 2, 3, 4, -5, 6.5, 1e-30, 3e38}},
		"head.weight":          {Shape: []int{3, 2}, Data: []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 0, float32(math.Copysign(0, -1)), 7}},
		"empty":                {Shape: []int{0, 3}, Data: []float32{}},
		"scalar":               {Shape: []int{}, Data: []float32{42}},
		"ünïcode <&>":          {Shape: []int{1}, Data: []float32{-1}},
	}
	metadata := map[string]string{"metriclab": `{"format":"metriclab/1","a":"<&>"}`, "line\nbreak": "tab\there", "": "empty key"}
	var buf bytes.Buffer
	if err := Encode(&buf, tensors, metadata); err != nil {
		t.Fatal(err)
	}
	if (buf.Len()-8)%4 != 0 || binary.LittleEndian.Uint64(buf.Bytes())%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", binary.LittleEndian.Uint64(buf.Bytes()))
	}
	got, gotMeta, err := Decode(bytes.NewReader(buf.Bytes()), 0)
	if err != nil {
		t.Fatal(err)
	}
	if msg := diff(got, tensors); msg != "" {
		t.Error(msg)
	}
	if len(gotMeta) != len(metadata) {
		t.Errorf("metadata %q, want %q", gotMeta, metadata)
	}
	for k, v := range metadata {
		if gotMeta[k] != v {
			t.Errorf("metadata[%q] = %q, want %q", k, gotMeta[k], v)
		}
	}
}

// diff describes the first difference between two tensor maps, comparing
// values bit for bit (so NaN equals NaN and −0 differs from 0).
func diff(got, want map[string]Tensor) string {
	if len(got) != len(want) {
		return "got " + itoa(len(got)) + " tensors, want " + itoa(len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			return "missing tensor " + name
		}
		if !slices.Equal(g.Shape, w.Shape) {
			return "tensor " + name + ": shape differs"
		}
		if len(g.Data) != len(w.Data) {
			return "tensor " + name + ": data length differs"
		}
		for i := range w.Data {
			if math.Float32bits(g.Data[i]) != math.Float32bits(w.Data[i]) {
				return "tensor " + name + ": value " + itoa(i) + " differs"
			}
		}
	}
	return ""
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestDecodeDtypes reads F64, F16 and BF16 values whose float32 values are
// known: F16 0x3c00 = 1, 0xc000 = −2, 0x7bff = 65504 (largest), 0x0001 =
// 2^−24 (smallest subnormal), 0x8000 = −0, 0x7c00 = +Inf; BF16 0x3f80 = 1,
// 0xc040 = −3; F64 1.5 and 2^−149 (the smallest float32 subnormal).
func TestDecodeDtypes(t *testing.T) {
	header := `{"h":{"dtype":"F16","shape":[6],"data_offsets":[0,12]},` +
		`"b":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]},` +
		`"d":{"dtype":"F64","shape":[2],"data_offsets":[16,32]}}`
	var data []byte
	for _, h := range []uint16{0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x3f80, 0xc040} {
		data = binary.LittleEndian.AppendUint16(data, h)
	}
	data = binary.LittleEndian.AppendUint64(data, math.Float64bits(1.5))
	data = binary.LittleEndian.AppendUint64(data, math.Float64bits(math.Ldexp(1, -149)))
	got, meta, err := Decode(bytes.NewReader(file(header, data)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if meta != nil {
		t.Errorf("metadata %q, want nil", meta)
	}
	want := map[string]Tensor{
		"h": {Shape: []int{6}, Data: []float32{1, -2, 65504, float32(math.Ldexp(1, -24)), float32(math.Copysign(0, -1)), float32(math.Inf(1))}},
		"b": {Shape: []int{2}, Data: []float32{1, -3}},
		"d": {Shape: []int{2}, Data: []float32{1.5, float32(math.Ldexp(1, -149))}},
	}
	if msg := diff(got, want); msg != "" {
		t.Error(msg)
	}
	if h := halfToFloat32(0x7e00); !math.IsNaN(float64(h)) {
		t.Errorf("F16 0x7e00 = %v, want NaN", h)
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, tc := range []struct {
		tensors map[string]Tensor
		meta    map[string]string
		want    string
	}{
		{map[string]Tensor{"": {Shape: []int{1}, Data: []float32{1}}}, nil, `invalid tensor name ""`},
		{map[string]Tensor{"__metadata__": {Shape: []int{1}, Data: []float32{1}}}, nil, `invalid tensor name "__metadata__"`},
		{map[string]Tensor{"a": {Shape: []int{-1}, Data: nil}}, nil, `tensor "a": invalid shape [-1]`},
		{map[string]Tensor{"a": {Shape: []int{2, 2}, Data: []float32{1, 2, 3}}}, nil, `tensor "a": shape [2 2] needs 4 values, data has 3`},
		{nil, map[string]string{"k": "\xff"}, `metadata "k" is not valid UTF-8`},
	} {
		var buf bytes.Buffer
		err := Encode(&buf, tc.tensors, tc.meta)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Encode error %v, want one containing %q", err, tc.want)
		}
		if buf.Len() != 0 {
			t.Errorf("Encode wrote %d bytes before failing", buf.Len())
		}
	}
}

// corrupt lists broken files and the error each must give.
var corrupt = []struct {
	name  string
	file  []byte
	limit int64
	want  string
}{
	{"empty file", nil, 0, "reading header length: file is truncated"},
	{"short length", []byte{8, 0, 0}, 0, "reading header length: file is truncated"},
	{"truncated header", append(binary.LittleEndian.AppendUint64(nil, 1000), "{}"...), 0, "reading 1000-byte header: file is truncated"},
	{"header over MaxHeader", binary.LittleEndian.AppendUint64(nil, MaxHeader+1), 0, "header length 104857601 is over the limit of 104857600 bytes"},
	{"header over limit", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(1)), 32, "header length 54 is over the limit of 24 bytes"},
	{"header length near 2^64", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), 0, "header length 18446744073709551615 is over the limit"},
	{"data over limit", file(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32(1, 2, 3, 4)), 70, "file of 79 bytes is over the limit of 70 bytes"},
	{"bad JSON", file(`{"a":`, nil), 0, "header is not valid JSON"},
	{"not an object", file(`[1, 2]`, nil), 0, "header is not valid JSON: want an object"},
	{"garbage after object", file(`{}  x`, nil), 0, `header has data after its JSON object: "x"`},
	{"invalid UTF-8", file("{\"\xff\":1}", nil), 0, "header is not valid UTF-8"},
	{"duplicate name", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(1, 2)), 0, `key "a" appears twice`},
	{"empty name", file(`{"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(1)), 0, "tensor with an empty name"},
	{"metadata not a string", file(`{"__metadata__":{"k":1}}`, nil), 0, `metadata "k" is not a string: 1`},
	{"metadata not an object", file(`{"__metadata__":"x"}`, nil), 0, "header is not valid JSON: want an object"},
	{"entry not an object", file(`{"a":[1]}`, nil), 0, `tensor "a": invalid entry [1]`},
	{"unknown field", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, f32(1)), 0, `tensor "a": invalid entry`},
	// The reference implementation refuses a field given twice, and knows
	// the fields by their exact names; encoding/json kept the last and
	// ignored case.
	{"dtype twice", file(`{"a":{"dtype":"F32","shape":[2],"dtype":"BF16","data_offsets":[0,4]}}`, f32(1)), 0, `tensor "a": key "dtype" appears twice`},
	{"offsets twice", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8],"data_offsets":[0,4]}}`, f32(1)), 0, `tensor "a": key "data_offsets" appears twice`},
	{"field in upper case", file(`{"a":{"DTYPE":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(1)), 0, `tensor "a": unknown field "DTYPE" (want dtype, shape and data_offsets)`},
	{"missing offsets", file(`{"a":{"dtype":"F32","shape":[1]}}`, f32(1)), 0, `tensor "a": entry needs dtype, shape and data_offsets`},
	{"unsupported dtype", file(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)), 0, `tensor "a": dtype "I64" is not supported`},
	{"negative dimension", file(`{"a":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,4]}}`, f32(1)), 0, `tensor "a": invalid dimension -1 in shape`},
	{"fractional dimension", file(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, f32(1)), 0, `tensor "a": invalid dimension 1.5 in shape`},
	{"huge shape", file(`{"a":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,4]}}`, f32(1)), 0, `tensor "a": shape [2147483647 2147483647 2147483647] is too large`},
	{"three offsets", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, f32(1)), 0, `tensor "a": data_offsets has 3 values, want 2`},
	{"reversed offsets", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, f32(1)), 0, `tensor "a": invalid data_offsets [4, 0]`},
	{"negative offset", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, f32(1)), 0, `tensor "a": invalid data_offsets [-4, 0]`},
	{"shape/size mismatch", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32(1, 2)), 0, `tensor "a": shape [3] needs 12 bytes, range holds 8`},
	{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32(1, 2, 3)), 0, `tensor "b": range [4, 12] overlaps tensor "a"`},
	{"same range twice", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(1)), 0, `range [0, 4] overlaps tensor`},
	{"hole", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}`, f32(1, 2, 3, 4, 5)), 0, `tensor "b": range [12, 20] leaves a hole at [8, 12]`},
	{"hole at start", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(1, 2)), 0, `tensor "a": range [4, 8] leaves a hole at [0, 4]`},
	{"truncated data", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32(1)), 0, "reading 8-byte data buffer: file is truncated"},
	{"bytes after data", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(1, 2)), 0, "bytes after the end of the data buffer (4 bytes)"},
}

func TestDecodeCorrupt(t *testing.T) {
	for _, tc := range corrupt {
		tensors, meta, err := Decode(bytes.NewReader(tc.file), tc.limit)
		if err == nil {
			t.Errorf("%s: Decode accepted it: %v %q", tc.name, tensors, meta)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "safetensors: ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%s: Decode error %q, want one line containing %q", tc.name, msg, tc.want)
		}
		if tensors != nil || meta != nil {
			t.Errorf("%s: Decode returned values with its error", tc.name)
		}
	}
}

// TestDecodeUnpaddedAndSpaced accepts a header that is not padded and one
// with whitespace inside and after the JSON, as other writers may produce.
func TestDecodeUnpaddedAndSpaced(t *testing.T) {
	for _, header := range []string{
		`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`,
		" {\n \"a\" : { \"shape\" : [ 1 ] , \"data_offsets\" : [0, 4], \"dtype\": \"F32\" } }\n   ",
	} {
		got, _, err := Decode(bytes.NewReader(file(header, f32(2.5))), 0)
		if err != nil {
			t.Errorf("Decode(%q): %v", header, err)
			continue
		}
		if msg := diff(got, map[string]Tensor{"a": {Shape: []int{1}, Data: []float32{2.5}}}); msg != "" {
			t.Errorf("Decode(%q): %s", header, msg)
		}
	}
}

// FuzzDecode checks that Decode never panics, never allocates past its
// limit, and that whatever it accepts encodes and decodes to the same
// tensors and metadata.
func FuzzDecode(f *testing.F) {
	for _, tc := range corrupt {
		f.Add(tc.file)
	}
	var buf bytes.Buffer
	Encode(&buf, map[string]Tensor{
		"a": {Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
		"b": {Shape: []int{}, Data: []float32{5}},
		"c": {Shape: []int{0}, Data: []float32{}},
	}, map[string]string{"k": "v"})
	f.Add(buf.Bytes())
	f.Add(file(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}`, []byte{0, 0x3c, 0xff, 0x7f, 0x80, 0x3f}))
	f.Fuzz(func(t *testing.T, b []byte) {
		tensors, meta, err := Decode(bytes.NewReader(b), 1<<20)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Encode(&buf, tensors, meta); err != nil {
			t.Fatalf("Encode of decoded tensors: %v", err)
		}
		again, meta2, err := Decode(&buf, 0)
		if err != nil {
			t.Fatalf("Decode of re-encoded file: %v", err)
		}
		if msg := diff(again, tensors); msg != "" {
			t.Fatal(msg)
		}
		if len(meta) != len(meta2) {
			t.Fatalf("metadata %q became %q", meta, meta2)
		}
		for k, v := range meta {
			if meta2[k] != v {
				t.Fatalf("metadata %q became %q", meta, meta2)
			}
		}
	})
}
