package app

import (
	"encoding/json"
	"testing"

	"metriclab/core/face"
	"metriclab/core/msg"
)

// FuzzMessages feeds arbitrary text to every reader of what a trainer's
// worker or a job's event stream sends: each takes it or gives an error,
// never a panic, and what it took draws.
func FuzzMessages(f *testing.F) {
	for _, m := range []string{
		`{"v":1,"type":"state","trainer":"t0","state":"idle"}`,
		`{"v":1,"type":"state","trainer":"t0","state":"running"}`,
		`{"v":1,"type":"progress","trainer":"t0","progress":{"epoch":0,"step":10,"steps":40,"loss":2.5,"accuracy":0.25,"img_per_s":1e308,"eta":1e300}}`,
		`{"v":1,"type":"progress","trainer":"t0","progress":{"epoch":1,"step":-9223372036854775808,"verification":{"accuracy":0.9,"eer":0.1,"threshold":2}}}`,
		`{"v":1,"type":"snapshot","trainer":"t0","snapshot":{"dim":3,"threshold":-7,"genuine":[9223372036854775807,9223372036854775807],"impostor":[-1,0,4]}}`,
		`{"v":1,"type":"snapshot","trainer":"t0","snapshot":{"dim":3,"threshold":0,"has_threshold":true,"genuine":[1,2],"impostor":[2,1]}}`,
		`{"v":1,"type":"error","trainer":"t0","error":"` + "\xff\xfe" + `"}`,
		`{"v":1,"type":"embeddings","trainer":"t0","embeddings":{"id":"gallery-1","dim":4611686018427387904,"values":[]}}`,
		`{"v":1,"type":"embeddings","trainer":"t0","embeddings":{"id":"probe-1","dim":0,"values":[1,2]}}`,
		`{"v":1,"type":"state","trainer":"viz","state":"viz-ready"}`,
		`{"v":1,"type":"state","state":"queued"}`,
		`{"v":2}`,
		`null`,
		`[]`,
		``,
	} {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data string) {
		r := NewRun("t0", "arcface")
		if m, err := DecodeMessage(data); err == nil {
			if r.Apply(m) == nil {
				draw(r)
			}
		}
		if e, ok, err := DecodeEmbeddings(data); err == nil && ok && (e.Dim < 1 || len(e.Values)%e.Dim != 0) {
			t.Fatalf("embeddings of dim %d with %d values taken", e.Dim, len(e.Values))
		}
		IsViewerReady(data)
		w := NewJobWatch(msg.Job{ID: "t0", State: msg.JobRunning, Steps: 40})
		w.Receive(data)
		w.Status()
		w.Figures()
		draw(w.Run)

		s := readyState(t)
		s.Receive(data)
		s.Receive(embMsg("probe-1", 2, []float32{1, 0}))
		s.TrainStatus()
	})
}

// FuzzModelCard reads an arbitrary card of the server's registry: the
// page's row of it, and the link to the playground, which reads back
// without a notice.
func FuzzModelCard(f *testing.F) {
	c := card()
	b, _ := json.Marshal(c)
	f.Add(string(b))
	f.Add(`{"id":"x","arch":"lenet-s","loss":"sphereface","dim":2,"loss_params":{"m":4.5,"gamma":-1},"classes":["0","1","1"],"threshold":1e308,"far":-1,"size":-5,"created":"2025-11-28T23:4` + "\xe2\x82\xac" + `"}`)
	f.Add(`{"id":"y","views":[[0,0,1,0.5],[0,0,1,0.5],[0,0.5,1,1],[0,0,0,0]],"dim":3,"loss":"arcface","loss_params":{"s":1e9}}`)
	f.Fuzz(func(t *testing.T, js string) {
		var c msg.ModelCard
		if json.Unmarshal([]byte(js), &c) != nil {
			return
		}
		FormatCard(c)
		link := PlaygroundLink(c)
		if _, notices := ParseHash(link[1:]); len(notices) > 0 {
			t.Fatalf("PlaygroundLink(%+v) = %q, read with notices %q", c, link, notices)
		}
	})
}

// draw draws r as a panel does.
func draw(r Run) {
	r.Status()
	LineChartSVG("loss", r.LossLine, nil, "chart-loss")
	LineChartSVG(AccuracyTitle(r.Request), r.AccLine, &Range{0, 1}, "chart-acc")
	HistogramSVG(r.Genuine, r.Impostor, r.Threshold, r.HasSnapshot)
}

// readyState returns enrolled's state with an encoder trained and the
// gallery embedded, ready to verify.
func readyState(t *testing.T) VerifyState {
	s := enrolled()
	s.Train()
	s.Receive(stateMsg(msg.StateDone))
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	if s.Phase != PhaseReady {
		t.Fatalf("phase %d, note %q", s.Phase, s.Note)
	}
	okFrame(&s, 0)
	return s
}

// FuzzFiles reads arbitrary bytes as the files the verify page opens: a
// gallery file, and a model file's input shape. Each is read or refused
// with an error, never a panic; a gallery read decodes to its samples.
func FuzzFiles(f *testing.F) {
	g := NewGallery(1, 8, 8)
	g.Add("alice", EncodeCrop(make([]float32, 64), 1, 8, 8))
	f.Add(MarshalGallery(g))
	f.Add([]byte(`{"version":1,"channels":3,"height":512,"width":512,"identities":[{"name":"a","crops":["data:image/png;base64,AAAA"]}]}`))
	f.Add(modelFile(f, face.DefaultInput))
	f.Add([]byte{255, 255, 255, 255, 255, 255, 255, 255, '{'})
	f.Fuzz(func(t *testing.T, b []byte) {
		if g, err := UnmarshalGallery(b); err == nil && validCrop(g.Shape()) == nil {
			if _, err := g.Samples(face.DefaultInput); err != nil {
				t.Fatalf("a gallery read gives no samples: %v", err)
			}
		}
		ModelInput(b)
	})
}
