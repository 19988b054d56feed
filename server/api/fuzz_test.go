//go:build !js

package api

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"metriclab/core"
	"metriclab/server/api/store"
)

// FuzzUploadModel posts arbitrary bytes as a model: the answer is 201 (and
// then the stored file loads with core.ReadModel) or a 400/413 with an
// error, never a 500 or a panic, and a refused upload leaves no file.
func FuzzUploadModel(f *testing.F) {
	good := modelBytes(f, 3, 2, 0.01)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Add([]byte("not a model"))
	huge := binary.LittleEndian.AppendUint64(nil, 1<<62) // a header length that lies
	f.Add(append(huge, good[8:]...))
	f.Add(modelBytesHead(f, 3, 2, 5, 0.01))
	f.Add(bytes.Replace(good, []byte(`"F32"`), []byte(`"I64"`), 1))
	f.Add(bytes.Replace(good, []byte(`metriclab/1`), []byte(`metriclab/9`), 1))

	cfg := testConfig(f)
	cfg.MaxUpload = 256 << 10
	_, ts := newTestServer(f, cfg)
	f.Fuzz(func(t *testing.T, body []byte) {
		code, b := call(t, "POST", ts.URL+"/api/models", "application/octet-stream", bytes.NewReader(body))
		switch code {
		case 201:
			var card struct{ ID string }
			decode(t, b, &card)
			if _, err := core.ReadModel(filepath.Join(cfg.DataDir, "models", card.ID+".safetensors")); err != nil {
				t.Fatalf("accepted a model that does not load: %v", err)
			}
			call(t, "DELETE", ts.URL+"/api/models/"+card.ID, "", nil)
		case 400, 413:
			errorOf(t, b)
		default:
			t.Fatalf("%d %s", code, b)
		}
		if entries, _ := os.ReadDir(filepath.Join(cfg.DataDir, "models")); len(entries) != 0 {
			t.Fatalf("%d files left in models/", len(entries))
		}
	})
}

// FuzzUploadSample posts an arbitrary identity and image: the answer is 201
// (a valid name and a PNG or JPEG that decodes, stored inside its data
// set's folder, of the name's normal form C) or a 400/413 with an error,
// never a 500 or a panic.
func FuzzUploadSample(f *testing.F) {
	png := pngBytes(f, 8, 8, 100)
	f.Add("alice", png)
	f.Add("../../etc", png)
	f.Add("train", png)
	f.Add("a b", png)
	f.Add("José [2]", png)
	f.Add("Jose\u0301", png) // José as e and a combining accent
	f.Add("a\\b", png)
	f.Add("bob", png[:20])
	f.Add("bob", []byte("\xff\xd8\xff\xe0 not a jpeg"))
	f.Add("", []byte{})

	cfg := testConfig(f)
	cfg.MaxSample = 64 << 10
	_, ts := newTestServer(f, cfg)
	f.Fuzz(func(t *testing.T, identity string, img []byte) {
		ct, body := sampleBody(t, []string{"identity", identity}, img)
		code, b := call(t, "POST", ts.URL+"/api/datasets/fuzz/samples", ct, body)
		switch code {
		case 201:
			var s struct{ ID, Identity string }
			decode(t, b, &s)
			// Inside the data set's folder, in the identity's folder (no
			// Glob: a name may hold '[').
			name := store.IdentityName(identity)
			folder := filepath.Join(cfg.DataDir, "datasets", "fuzz", name)
			if filepath.Dir(folder) != filepath.Join(cfg.DataDir, "datasets", "fuzz") {
				t.Fatalf("identity %q makes the folder %s", name, folder)
			}
			entries, _ := os.ReadDir(folder)
			found := 0
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), s.ID+".") {
					found++
				}
			}
			if s.Identity != name || found != 1 {
				t.Fatalf("sample %s stored %d times in %s", b, found, folder)
			}
		case 400, 413:
			errorOf(t, b)
		default:
			t.Fatalf("%d %s", code, b)
		}
	})
}
