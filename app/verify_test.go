package app

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"metriclab/core/face"
	"metriclab/core/msg"
)

// crop returns a c×h×w crop whose pixel i is (i mod 256)/255 in channel 0
// (and darker in the others), values an 8-bit PNG keeps exactly.
func crop(c, h, w int) []float32 {
	px := make([]float32, c*h*w)
	for i := range px {
		px[i] = float32((i*(1+i/(h*w)))%256) / 255
	}
	return px
}

func TestCropRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		c, h, w int
		tol     float64 // values of k/255 come back exactly: float32 rounding only
	}{
		{1, 32, 32, 1e-6},
		{3, 8, 5, 1e-6},
	} {
		px := crop(tc.c, tc.h, tc.w)
		u := EncodeCrop(px, tc.c, tc.h, tc.w)
		if !strings.HasPrefix(u, "data:image/png;base64,") {
			t.Fatalf("EncodeCrop gave %.30q…", u)
		}
		got, err := DecodeCrop(u, tc.c, tc.h, tc.w)
		if err != nil {
			t.Fatal(err)
		}
		for i := range px {
			if math.Abs(float64(got[i]-px[i])) > tc.tol {
				t.Fatalf("%d×%d×%d: pixel %d = %v, want %v", tc.c, tc.h, tc.w, i, got[i], px[i])
			}
		}
		if _, err := DecodeCrop(u, tc.c, tc.h+1, tc.w); err == nil {
			t.Errorf("a %d×%d crop decoded as %d×%d", tc.h, tc.w, tc.h+1, tc.w)
		}
	}
	// Out-of-range values clamp: −1 → 0, 2 → 1.
	got, err := DecodeCrop(EncodeCrop([]float32{-1, 2}, 1, 1, 2), 1, 1, 2)
	if err != nil || got[0] != 0 || got[1] != 1 {
		t.Errorf("clamped crop = %v, %v; want [0 1]", got, err)
	}
}

func TestGallery(t *testing.T) {
	g := NewGallery(1, 4, 4)
	a := EncodeCrop(make([]float32, 16), 1, 4, 4)
	b := EncodeCrop(crop(1, 4, 4), 1, 4, 4)
	g.Add("alice", a, a)
	g.Add("bob", b)
	g.Add("alice", b)
	if g.Count() != 4 || strings.Join(g.Names(), ",") != "alice,bob" {
		t.Fatalf("count %d names %v, want 4 alice,bob", g.Count(), g.Names())
	}
	s, err := g.Samples(g.Shape())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Labels, []int{0, 0, 0, 1}; !slices.Equal(got, want) || len(s.Pixels) != 4*16 || s.Channels != 1 || s.Height != 4 {
		t.Fatalf("samples: labels %v (want %v), %d pixels, %d×%d×%d", got, want, len(s.Pixels), s.Channels, s.Height, s.Width)
	}
	// Alice's third crop is bob's: its pixels follow the two zero crops.
	if s.Pixels[2*16+5] != 5.0/255 {
		t.Errorf("pixel 5 of sample 2 = %v, want 5/255", s.Pixels[2*16+5])
	}
	// For an encoder of 3×2×2 every crop is halved and made RGB: pixel 0 of
	// bob's is the mean of his 2×2 block of pixels 0, 1, 4 and 5, /255.
	s, err = g.Samples(face.Input{Channels: 3, Height: 2, Width: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Pixels) != 4*12 || s.Channels != 3 || s.Height != 2 || s.Width != 2 {
		t.Fatalf("samples of 3×2×2: %d pixels, %d×%d×%d", len(s.Pixels), s.Channels, s.Height, s.Width)
	}
	if got, want := s.Pixels[3*12+8], float32(0+1+4+5)/4/255; math.Abs(float64(got-want)) > 1e-6 {
		t.Errorf("bob's blue pixel 0 at 3×2×2 = %v, want %v", got, want)
	}
	back, err := UnmarshalGallery(MarshalGallery(g))
	if err != nil {
		t.Fatal(err)
	}
	if back.Count() != 4 || back.Identities[1].Crops[0] != b {
		t.Errorf("round trip lost crops: %+v", back)
	}
	g.Delete(1, 0) // bob's only crop: bob goes
	g.Delete(0, 0)
	if g.Count() != 2 || len(g.Identities) != 1 || g.Identities[0].Crops[1] != b {
		t.Errorf("after deletes: %+v", g)
	}
	for _, tc := range []struct{ name, json string }{
		{"version", `{"version":2,"channels":1,"height":4,"width":4}`},
		{"channels", `{"version":1,"channels":2,"height":4,"width":4}`},
		{"size", `{"version":1,"channels":1,"height":0,"width":4}`},
		{"no name", `{"version":1,"channels":1,"height":4,"width":4,"identities":[{"name":" ","crops":[]}]}`},
		{"bad crop", `{"version":1,"channels":1,"height":4,"width":4,"identities":[{"name":"x","crops":["data:image/png;base64,AAAA"]}]}`},
		{"wrong shape", `{"version":1,"channels":1,"height":5,"width":4,"identities":[{"name":"x","crops":["` + a + `"]}]}`},
		{"not json", `[1,2`},
		// The page keeps one identity a name (Add adds to it); a file
		// naming one twice gave classes that training refuses.
		{"a name twice", `{"version":1,"channels":1,"height":4,"width":4,"identities":[{"name":"x","crops":["` + a + `"]},{"name":"x","crops":["` + a + `"]}]}`},
		// The page deletes an identity with its last crop: one without
		// stayed in the gallery for good, and made Train think there
		// were two identities.
		{"an identity without crops", `{"version":1,"channels":1,"height":4,"width":4,"identities":[{"name":"x","crops":["` + a + `"]},{"name":"y","crops":[]}]}`},
		{"an identity with null crops", `{"version":1,"channels":1,"height":4,"width":4,"identities":[{"name":"x","crops":["` + a + `"]},{"name":"y"}]}`},
		{"too many snapshots", `{"version":1,"channels":1,"height":4,"width":4,"identities":[{"name":"x","crops":["` + a + strings.Repeat(`","`+a, MaxGalleryCrops) + `"]}]}`},
	} {
		if _, err := UnmarshalGallery([]byte(tc.json)); err == nil {
			t.Errorf("%s: UnmarshalGallery accepted %s", tc.name, tc.json)
		}
	}
}

// TestGalleryImportNotAGallery: a file that is not a gallery's JSON is
// refused in one plain line: what it is not, what the page imports, then
// why in words, not Go's. Before: "the gallery could not be imported:
// not a gallery file: unexpected end of JSON input" (an export cut
// short), "invalid character '\u0089' looking for beginning of value" (a
// photo), "json: cannot unmarshal array into Go value of type
// app.Gallery".
func TestGalleryImportNotAGallery(t *testing.T) {
	file := MarshalGallery(enrolled().Gallery)
	const start = "the gallery could not be imported: not a gallery file (the page imports a gallery that Export gallery saved, a .json file): "
	for _, c := range []struct {
		name string
		b    []byte
		why  string
	}{
		{"cut short", file[:100], "its JSON is cut short after 100 bytes"},
		{"empty", nil, "the file is empty"},
		{"a photo", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "it is not JSON from byte 1 on"},
		{"a list", []byte(`[1, 2]`), "its JSON is an array, where a gallery is an object"},
		{"a version in words", []byte(`{"version":"one"}`), "its JSON holds a string where a gallery has its version"},
	} {
		s := NewVerifyState()
		s.Import(ReadGallery(c.b, nil))
		if s.Note != start+c.why {
			t.Errorf("%s: note %q, want %q", c.name, s.Note, start+c.why)
		}
	}
}

func TestCameraState(t *testing.T) {
	for _, tc := range []struct{ name, state, words string }{
		{"NotAllowedError", CameraRefused, "camera permission refused"},
		{"NotFoundError", CameraMissing, "no camera found"},
		{"NotReadableError", CameraFailed, "in use by another program"},
		{"TypeError", CameraFailed, "the camera could not start: boom"},
	} {
		state, words := CameraState(tc.name, "boom")
		if state != tc.state || !strings.Contains(words, tc.words) {
			t.Errorf("%s: %s %q, want %s containing %q", tc.name, state, words, tc.state, tc.words)
		}
	}
}

func TestFPSMeter(t *testing.T) {
	var m FPSMeter
	if m.FPS() != 0 {
		t.Errorf("no frames: %v fps", m.FPS())
	}
	for i := 0; i < 100; i++ {
		m.Tick(float64(i) * 40) // 25 frames a second
	}
	// The last second holds the frames at 2960…3960 ms: 25 gaps of 40 ms.
	if got := m.FPS(); math.Abs(got-25) > 1e-9 {
		t.Errorf("FPS() = %v, want 25", got)
	}
	if len(m.times) != 26 {
		t.Errorf("keeps %d frames, want the 26 of the last second", len(m.times))
	}
}

func TestScores(t *testing.T) {
	// acos 1 = 0° (bin 0), acos 0 = 90° (bin 18 of 36), acos −1 = 180°
	// (the last bin), acos 0.5 = 60° (bin 12).
	h := AngleHistogram([]float64{1, 0, -1, 0.5, math.NaN()}, 36)
	if h[0] != 1 || h[18] != 1 || h[35] != 1 || h[12] != 1 {
		t.Errorf("AngleHistogram = %v", h)
	}
	if got := FormatScore(0.5); got != "0.500 (60.0°)" {
		t.Errorf("FormatScore(0.5) = %q", got)
	}
	if got := EnrollCount(1, 20); got != "1 identity, 20 snapshots" {
		t.Errorf("EnrollCount = %q", got)
	}
}

func TestCommands(t *testing.T) {
	cfg := VerifyRequest("arcface", "lenet-s", 16, 3)
	s := &msg.Samples{Channels: 1, Height: 1, Width: 2, Classes: []string{"a"}, Labels: []int{0}, Pixels: []float32{0.5, 1}}
	var m msg.Message
	if err := json.Unmarshal([]byte(SamplesCommand("v", "start", &cfg, s, "", "ch")), &m); err != nil {
		t.Fatal(err)
	}
	c := m.Command
	if m.V != msg.SchemaVersion || m.Type != "command" || c == nil || c.Op != "start" || c.Config.Data != "enrolled" || c.Config.Dim != 16 ||
		c.Samples == nil || c.Samples.Pixels[0] != 0.5 || c.Channel != "ch" {
		t.Errorf("start command decodes as %+v %+v", m, c)
	}
	if err := json.Unmarshal([]byte(LoadCommand("v", []byte{1, 2, 3}, nil, "")), &m); err != nil || m.Command.Op != "load" || string(m.Command.Model) != "\x01\x02\x03" {
		t.Errorf("load command: %+v, %v", m.Command, err)
	}

	e, ok, err := DecodeEmbeddings(`{"v":1,"type":"embeddings","embeddings":{"id":"gallery","dim":2,"values":[1,0,0,1],"threshold":0.3}}`)
	if err != nil || !ok || e.ID != "gallery" || len(e.Values) != 4 || e.Threshold != 0.3 {
		t.Errorf("DecodeEmbeddings: %+v %v %v", e, ok, err)
	}
	if _, ok, err := DecodeEmbeddings(`{"v":1,"type":"state","state":"idle"}`); ok || err != nil {
		t.Errorf("a state message: ok %v err %v, want neither", ok, err)
	}
	for _, bad := range []string{
		`{"v":2,"type":"embeddings","embeddings":{"dim":1,"values":[1]}}`,
		`{"v":1,"type":"embeddings","embeddings":{"dim":2,"values":[1,0,1]}}`,
		`{"v":1,"type":"embeddings"}`,
		`nope`,
	} {
		if _, _, err := DecodeEmbeddings(bad); err == nil {
			t.Errorf("DecodeEmbeddings(%s): no error", bad)
		}
	}
}

func TestGrayTo(t *testing.T) {
	// (77·R + 150·G + 29·B) >> 8: white 255, pure red 76, green 149, blue 28.
	rgba := []byte{255, 255, 255, 255, 255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255}
	got := GrayTo(make([]uint8, 4), rgba)
	if want := []uint8{255, 76, 149, 28}; string(got) != string(want) {
		t.Errorf("GrayTo = %v, want %v", got, want)
	}
}

// TestDecodeCropHugeHeader: a crop whose PNG header declares 40000×40000
// pixels of 16-bit RGBA (a file of 70 bytes) is refused from its header:
// png.Decode would first allocate the 12.8 GB it declares, which kills a
// page (wasm has 4 GiB).
func TestDecodeCropHugeHeader(t *testing.T) {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 40000)
	binary.BigEndian.PutUint32(ihdr[4:], 40000)
	ihdr[8], ihdr[9] = 16, 6 // bit depth, colour type RGBA
	chunk := func(typ string, data []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		b = append(append(b, typ...), data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	file := append([]byte("\x89PNG\r\n\x1a\n"), chunk("IHDR", ihdr)...)
	file = append(file, chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	file = append(file, chunk("IEND", nil)...)
	u := "data:image/png;base64," + base64.StdEncoding.EncodeToString(file)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := DecodeCrop(u, 1, 64, 64)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "a crop of 40000×40000, want 64×64") {
		t.Errorf("DecodeCrop: %v", err)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > 1<<20 {
		t.Errorf("DecodeCrop allocated %d bytes for a %d-byte file", a, len(file))
	}
}

// TestMergeGallery: the changes this page made to the gallery it read
// (base → mine) made to the one another tab stored since (theirs). Crops
// stand for themselves (MergeGallery compares them, it does not decode
// them); a gallery is written "Ann:a,b;Bo:c", expected values by hand.
func TestMergeGallery(t *testing.T) {
	parse := func(s string, shape int) Gallery {
		g := NewGallery(1, shape, shape)
		for _, id := range strings.Split(s, ";") {
			if name, crops, ok := strings.Cut(id, ":"); ok {
				g.Add(name, strings.Split(crops, ",")...)
			}
		}
		return g
	}
	text := func(g Gallery) string {
		var out []string
		for _, id := range g.Identities {
			out = append(out, id.Name+":"+strings.Join(id.Crops, ","))
		}
		return strings.Join(out, ";")
	}
	for _, c := range []struct {
		name, base, mine, theirs string
		theirShape               int
		want                     string // "" with ok false
	}{
		{"nothing changed here", "Ann:a,b", "Ann:a,b", "Ann:a,b;Dan:d", 64, "Ann:a,b;Dan:d"},
		{"both added", "Ann:a", "Ann:a,b", "Ann:a;Dan:d", 64, "Ann:a,b;Dan:d"},
		{"deleted here", "Ann:a,b;Bo:c", "Ann:b;Bo:c", "Ann:a,b;Bo:c;Dan:d", 64, "Ann:b;Bo:c;Dan:d"},
		{"the last of an identity deleted here", "Ann:a;Bo:c", "Ann:a", "Ann:a;Bo:c;Dan:d", 64, "Ann:a;Dan:d"},
		{"deleted there, kept here", "Ann:a,b", "Ann:a,b", "Ann:a", 64, "Ann:a"},
		{"deleted in both", "Ann:a,b", "Ann:a", "Ann:a", 64, "Ann:a"},
		{"one of two copies deleted here", "Ann:a,a", "Ann:a", "Ann:a,a,e", 64, "Ann:a,e"},
		{"a new identity here", "Ann:a", "Ann:a;Cy:f", "Ann:a;Dan:d", 64, "Ann:a;Dan:d;Cy:f"},
		{"imported here", "Ann:a", "Cy:f", "Ann:a;Dan:d", 64, "Dan:d;Cy:f"},
		{"everything deleted there", "Ann:a", "Ann:a;Bo:c", "", 32, "Bo:c"},
		{"added here, crops of another shape there", "Ann:a", "Ann:a,b", "Ann:a", 32, ""},
		{"deleted here, crops of another shape there", "Ann:a", "", "Ann:a;Dan:d", 32, "Dan:d"},
	} {
		got, ok := MergeGallery(parse(c.base, 64), parse(c.mine, 64), parse(c.theirs, c.theirShape))
		if !ok && c.want != "" || ok && text(got) != c.want {
			t.Errorf("%s: %q, ok %v; want %q", c.name, text(got), ok, c.want)
		}
		if ok && got.Count() > 0 && got.Height != map[bool]int{true: 64, false: c.theirShape}[c.theirs == ""] {
			t.Errorf("%s: crops of %d×%d", c.name, got.Height, got.Width)
		}
	}
}

// TestContestedUnread: a record another tab stored that the page cannot
// add its changes to (not a gallery, not text, crops of another shape)
// is set aside by the store it asks for, the page's gallery kept, and
// the note says why; one of text can be downloaded as it is.
func TestContestedUnread(t *testing.T) {
	in := face.SnapshotInput
	mine := EncodeCrop(crop(in.Channels, in.Height, in.Width), in.Channels, in.Height, in.Width)
	small := NewGallery(1, 32, 32)
	small.Add("Dan", EncodeCrop(crop(1, 32, 32), 1, 32, 32))
	for _, c := range []struct {
		name string
		data string
		err  error
		key  string
	}{
		{"not a gallery", "{", nil, galleryKey},
		{"not text", "", recordTypeError{T: 6}, ""},
		{"crops of another shape", string(MarshalGallery(small)), nil, galleryKey},
	} {
		s := NewVerifyState()
		s.Restore("", false, nil)
		s.Gallery.Add("Ann", mine)
		out := s.Contested(c.data, true, c.err)
		const begins = "another tab stored a gallery this page cannot add its changes to: "
		if !out.Store || !out.Aside || s.UnreadKey != c.key || !strings.HasPrefix(s.Note, begins) || s.Gallery.Count() != 1 {
			t.Errorf("%s: out %+v, unread key %q, note %q, %d snapshots; want a store that sets it aside, key %q, the page's gallery", c.name, out, s.UnreadKey, s.Note, s.Gallery.Count(), c.key)
		}
	}
}
