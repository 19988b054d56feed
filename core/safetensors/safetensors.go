// Package safetensors reads and writes the safetensors file format of
// Hugging Face (https://github.com/huggingface/safetensors):
//
//	[8 bytes]  N, the header length, unsigned little-endian
//	[N bytes]  JSON header, padded with spaces so that N is a multiple of 8:
//	           {"__metadata__": {string: string, ...},
//	            "name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...}
//	[rest]     the byte buffer; tensor bytes are little-endian, row-major, at
//	           buffer[begin:end], contiguous, without overlaps or holes
//
// Encode writes float32 ("F32") tensors only. Decode reads F32, and also
// F64, F16 and BF16, converted to float32. Decode is strict: anything that
// does not follow the format above exactly is an error, and it never
// allocates more than its limit however the file lies about its sizes.
//
// The package does not import the rest of metriclab, so core's model file
// can use it; its Tensor converts to and from core.Tensor with a plain
// conversion, core.Tensor(t).
package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Tensor is a row-major float32 array and its shape. A shape of length 0 is
// a scalar (one element); a dimension of 0 makes an empty tensor.
type Tensor struct {
	Shape []int
	Data  []float32
}

// ImageKind names the image format of a file whose first 8 bytes, read
// as a safetensors header length (little-endian), are h: "PNG", "JPEG",
// or "" for neither. Both make a header length of exabytes, over any
// header's (MaxHeader); an image given where a model is wanted (eval
// --model face.png, meant for --data; a photo in the Verify page's Load
// model) is refused as what it is.
func ImageKind(h uint64) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], h)
	switch {
	case string(b[:]) == "\x89PNG\r\n\x1a\n":
		return "PNG"
	case b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff:
		return "JPEG"
	}
	return ""
}

// MaxHeader is the largest header Decode accepts whatever its limit, as in
// the reference implementation (100 MB).
const MaxHeader = 100 << 20

// DefaultLimit is the limit Decode uses when it is given limit ≤ 0: 4 GiB.
const DefaultLimit = 4 << 30

// metadataKey is the header entry that holds the string-to-string metadata.
const metadataKey = "__metadata__"

// dtypeSize returns the element size in bytes of a dtype Decode reads, or
// 0 for any other dtype.
func dtypeSize(dtype string) int64 {
	switch dtype {
	case "F32":
		return 4
	case "F64":
		return 8
	case "F16", "BF16":
		return 2
	}
	return 0
}

// Encode writes tensors and metadata to w in the safetensors format. Tensors
// are laid out in the order of their sorted names, and the header's entries
// are in the same order after "__metadata__" (omitted when metadata is
// empty), so equal inputs give equal bytes. It returns an error, writing
// nothing, when a name is empty or "__metadata__", or when a tensor's shape
// has a negative dimension or does not match its data length.
func Encode(w io.Writer, tensors map[string]Tensor, metadata map[string]string) error {
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	sort.Strings(names)

	var h bytes.Buffer
	h.WriteByte('{')
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		writeJSONString(&h, metadataKey)
		h.WriteString(":{")
		for i, k := range keys {
			if !utf8.ValidString(k) || !utf8.ValidString(metadata[k]) {
				return fmt.Errorf("safetensors: metadata %q is not valid UTF-8", k)
			}
			if i > 0 {
				h.WriteByte(',')
			}
			writeJSONString(&h, k)
			h.WriteByte(':')
			writeJSONString(&h, metadata[k])
		}
		h.WriteByte('}')
	}
	var offset int64
	for i, name := range names {
		t := tensors[name]
		if name == "" || name == metadataKey || !utf8.ValidString(name) {
			return fmt.Errorf("safetensors: invalid tensor name %q", name)
		}
		n, ok := elements(t.Shape)
		if !ok {
			return fmt.Errorf("safetensors: tensor %q: invalid shape %v", name, t.Shape)
		}
		if n != int64(len(t.Data)) {
			return fmt.Errorf("safetensors: tensor %q: shape %v needs %d values, data has %d", name, t.Shape, n, len(t.Data))
		}
		if i > 0 || len(metadata) > 0 {
			h.WriteByte(',')
		}
		writeJSONString(&h, name)
		h.WriteString(`:{"dtype":"F32","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			fmt.Fprint(&h, d)
		}
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, offset, offset+4*n)
		offset += 4 * n
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}

	bw := bufio.NewWriterSize(w, 1<<16)
	var size [8]byte
	binary.LittleEndian.PutUint64(size[:], uint64(h.Len()))
	bw.Write(size[:])
	bw.Write(h.Bytes())
	var b [4]byte
	for _, name := range names {
		for _, v := range tensors[name].Data {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			bw.Write(b[:])
		}
	}
	return bw.Flush()
}

// writeJSONString writes s as a JSON string, without escaping <, > and &.
func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)               // Encoding a string into a bytes.Buffer cannot fail.
	buf.Truncate(buf.Len() - 1) // Encode ends with a newline.
}

// elements returns the number of elements of shape, and false when a
// dimension is negative or the product overflows int64.
func elements(shape []int) (int64, bool) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > math.MaxInt64/8/int64(d) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}

// entry is a tensor's header entry.
type entry struct {
	name       string
	dtype      string
	shape      []int
	begin, end int64
}

// Decode reads one safetensors file from r and returns its tensors, as
// float32, and its metadata (nil when the file has none). limit bounds the
// file size in bytes (header and data; limit ≤ 0 means DefaultLimit), and
// the header is at most MaxHeader bytes. Decode reads r up to the end and
// returns an error when the file is truncated, has bytes after its data,
// has a header that is not a JSON object of valid entries, names a tensor
// twice or with an empty name, gives a field of an entry twice or not by
// its exact name, has a metadata value that is not a string,
// a dtype other than F32, F64, F16 and BF16, a negative dimension, a shape
// that does not fill its byte range, or byte ranges that overlap, leave
// holes, or do not end at the end of the buffer.
func Decode(r io.Reader, limit int64) (map[string]Tensor, map[string]string, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	var size [8]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, nil, fmt.Errorf("safetensors: reading header length: %w", truncated(err))
	}
	n := binary.LittleEndian.Uint64(size[:])
	if maxHeader := max(0, min(MaxHeader, limit-8)); n > uint64(maxHeader) {
		return nil, nil, &LimitError{HeaderLength: n, MaxHeader: maxHeader, Limit: limit}
	}
	header, err := readN(r, int64(n))
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: reading %d-byte header: %w", n, truncated(err))
	}
	entries, metadata, err := parseHeader(header)
	if err != nil {
		return nil, nil, err
	}
	end, err := checkLayout(entries)
	if err != nil {
		return nil, nil, err
	}
	if end > limit-8-int64(n) {
		return nil, nil, &LimitError{Size: 8 + int64(n) + end, Limit: limit}
	}
	buf, err := readN(r, end)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: reading %d-byte data buffer: %w", end, truncated(err))
	}
	var extra [1]byte
	if k, _ := io.ReadFull(r, extra[:]); k > 0 {
		return nil, nil, fmt.Errorf("safetensors: bytes after the end of the data buffer (%d bytes)", end)
	}
	tensors := make(map[string]Tensor, len(entries))
	for _, e := range entries {
		tensors[e.name] = Tensor{Shape: e.shape, Data: convert(e.dtype, buf[e.begin:e.end])}
	}
	return tensors, metadata, nil
}

// LimitError is Decode's error for a file that says it is larger than its
// limit: by its header length (HeaderLength over MaxHeader, the least of
// MaxHeader and limit − 8) or, after the header, by its tensors' byte
// ranges (a file of Size bytes). A caller whose limit is the size of the
// file it has (core.ReadModel) can call it truncated.
type LimitError struct {
	HeaderLength uint64 // the header length read, when it is over MaxHeader; 0 otherwise
	MaxHeader    int64
	Size         int64 // the file's size by its header, when HeaderLength is 0
	Limit        int64
}

func (e *LimitError) Error() string {
	if e.HeaderLength > 0 {
		return fmt.Sprintf("safetensors: header length %d is over the limit of %d bytes", e.HeaderLength, e.MaxHeader)
	}
	return fmt.Sprintf("safetensors: file of %d bytes is over the limit of %d bytes", e.Size, e.Limit)
}

// truncated turns the end-of-file errors of io.ReadFull into one message.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("file is truncated")
	}
	return err
}

// readN reads exactly n bytes of r. Its buffer grows with what arrives, so
// a short file that claims a large size costs no more than its real size.
func readN(r io.Reader, n int64) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(min(n, 1<<20)))
	k, err := io.CopyN(&buf, r, n)
	if k == n {
		return buf.Bytes(), nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}

// parseHeader parses the JSON header into its tensor entries, in file
// order, and its metadata.
func parseHeader(header []byte) ([]entry, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, errors.New("safetensors: header is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	var (
		entries  []entry
		metadata map[string]string
	)
	err := readObject(dec, func(key string) error {
		if key == metadataKey {
			m, err := parseMetadata(dec)
			metadata = m
			return err
		}
		if key == "" {
			return errors.New("safetensors: tensor with an empty name")
		}
		e, err := parseEntry(dec, key)
		entries = append(entries, e)
		return err
	})
	if err != nil {
		if strings.HasPrefix(err.Error(), "safetensors: ") {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("safetensors: header is not valid JSON: %v", err)
	}
	rest := bytes.Trim(header[dec.InputOffset():], " \t\r\n")
	if len(rest) > 0 {
		return nil, nil, fmt.Errorf("safetensors: header has data after its JSON object: %.20q", rest)
	}
	return entries, metadata, nil
}

// readObject reads a JSON object from dec, calling value for each key with
// the decoder positioned at the key's value. Repeated keys are an error.
func readObject(dec *json.Decoder, value func(key string) error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want an object, found %v", tok)
	}
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key := tok.(string) // Token only returns strings in key position.
		if seen[key] {
			return fmt.Errorf("safetensors: key %q appears twice", key)
		}
		seen[key] = true
		if err := value(key); err != nil {
			return err
		}
	}
	_, err = dec.Token() // The closing '}'.
	return err
}

// parseMetadata reads the "__metadata__" object, whose values must be
// strings.
func parseMetadata(dec *json.Decoder) (map[string]string, error) {
	metadata := make(map[string]string)
	err := readObject(dec, func(key string) error {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("safetensors: metadata %q is not a string: %.40s", key, raw)
		}
		metadata[key] = s
		return nil
	})
	return metadata, err
}

// parseEntry reads the header entry of tensor name and checks that its
// shape fills its byte range.
func parseEntry(dec *json.Decoder, name string) (entry, error) {
	var info struct {
		Dtype       *string       `json:"dtype"`
		Shape       []json.Number `json:"shape"`
		DataOffsets []json.Number `json:"data_offsets"`
	}
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return entry{}, err
	}
	strict := json.NewDecoder(bytes.NewReader(raw))
	strict.DisallowUnknownFields()
	strict.UseNumber()
	if err := strict.Decode(&info); err != nil {
		return entry{}, fmt.Errorf("safetensors: tensor %q: invalid entry %.80s: %v", name, raw, err)
	}
	if err := checkFields(raw); err != nil {
		return entry{}, fmt.Errorf("safetensors: tensor %q: %s", name, strings.TrimPrefix(err.Error(), "safetensors: "))
	}
	if info.Dtype == nil || info.Shape == nil || info.DataOffsets == nil {
		return entry{}, fmt.Errorf("safetensors: tensor %q: entry needs dtype, shape and data_offsets: %.80s", name, raw)
	}
	e := entry{name: name, dtype: *info.Dtype, shape: make([]int, len(info.Shape))}
	size := dtypeSize(e.dtype)
	if size == 0 {
		return entry{}, fmt.Errorf("safetensors: tensor %q: dtype %q is not supported (want F32, F64, F16 or BF16)", name, e.dtype)
	}
	for i, num := range info.Shape {
		d, err := num.Int64()
		if err != nil || d < 0 || d > math.MaxInt32 {
			return entry{}, fmt.Errorf("safetensors: tensor %q: invalid dimension %s in shape", name, num)
		}
		e.shape[i] = int(d)
	}
	if len(info.DataOffsets) != 2 {
		return entry{}, fmt.Errorf("safetensors: tensor %q: data_offsets has %d values, want 2", name, len(info.DataOffsets))
	}
	var err0, err1 error
	e.begin, err0 = info.DataOffsets[0].Int64()
	e.end, err1 = info.DataOffsets[1].Int64()
	if err0 != nil || err1 != nil || e.begin < 0 || e.end < e.begin {
		return entry{}, fmt.Errorf("safetensors: tensor %q: invalid data_offsets [%s, %s]", name, info.DataOffsets[0], info.DataOffsets[1])
	}
	n, ok := elements(e.shape)
	if !ok || n > math.MaxInt64/size {
		return entry{}, fmt.Errorf("safetensors: tensor %q: shape %v is too large", name, e.shape)
	}
	if n*size != e.end-e.begin {
		return entry{}, fmt.Errorf("safetensors: tensor %q: shape %v needs %d bytes, range holds %d", name, e.shape, n*size, e.end-e.begin)
	}
	return e, nil
}

// checkFields returns an error unless the entry raw, a JSON object, names
// each of its fields once and by its exact name, as the reference
// implementation wants: encoding/json keeps the last of a field given
// twice (a file that says two things) and takes a name in any case.
func checkFields(raw json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	return readObject(dec, func(key string) error {
		if key != "dtype" && key != "shape" && key != "data_offsets" {
			return fmt.Errorf("unknown field %q (want dtype, shape and data_offsets)", key)
		}
		var skip json.RawMessage
		return dec.Decode(&skip)
	})
}

// checkLayout checks that the byte ranges of entries tile [0, end) without
// overlaps or holes, and returns end, the length of the data buffer.
func checkLayout(entries []entry) (int64, error) {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b entry) int {
		if a.begin != b.begin {
			return int(sign(a.begin - b.begin))
		}
		return int(sign(a.end - b.end))
	})
	var end int64
	for i, e := range sorted {
		switch {
		case e.begin < end:
			return 0, fmt.Errorf("safetensors: tensor %q: range [%d, %d] overlaps tensor %q", e.name, e.begin, e.end, sorted[i-1].name)
		case e.begin > end:
			return 0, fmt.Errorf("safetensors: tensor %q: range [%d, %d] leaves a hole at [%d, %d]", e.name, e.begin, e.end, end, e.begin)
		}
		end = e.end
	}
	return end, nil
}

func sign(x int64) int64 {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

// convert returns the little-endian values of dtype in b as float32.
func convert(dtype string, b []byte) []float32 {
	le := binary.LittleEndian
	switch dtype {
	case "F32":
		out := make([]float32, len(b)/4)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
		return out
	case "F64":
		out := make([]float32, len(b)/8)
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		}
		return out
	case "F16":
		out := make([]float32, len(b)/2)
		for i := range out {
			out[i] = halfToFloat32(le.Uint16(b[2*i:]))
		}
		return out
	case "BF16":
		out := make([]float32, len(b)/2)
		for i := range out {
			out[i] = math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16)
		}
		return out
	}
	panic("safetensors: convert: unchecked dtype " + dtype)
}

// halfToFloat32 converts an IEEE 754 binary16 value to float32, exactly:
//
//	sign·2^(e−15)·(1 + f/1024) for normal e, sign·2^−14·(f/1024) for e = 0,
//	±Inf or NaN for e = 31.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN, keeping the payload.
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // Normal: rebias the exponent from 15 to 127.
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	}
	// Zero or subnormal: f·2^−24, exact in float32.
	v := float32(frac) / (1 << 24)
	return math.Float32frombits(sign | math.Float32bits(v))
}
