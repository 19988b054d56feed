package view

import (
	"math"
	"testing"
)

// FuzzDecodePlace feeds arbitrary messages through what Pump and the game
// do with them: decode, place a snapshot (PCA above D = 3), project it in
// a scene, and caption it. None of it may panic, and every placed point
// must be finite. Dimensions above 64 are skipped to keep each run fast
// (decoding bounds them; the PCA's cost grows with D).
func FuzzDecodePlace(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"type":"snapshot","snapshot":{"dim":2,"points":[1,0,0,1],"labels":[0,1],"weights":[1,0,0,1],"margin":0.3}}`,
		`{"v":1,"type":"snapshot","snapshot":{"dim":3,"points":[0,0,0,1,2,3],"labels":[-1,99]}}`,
		`{"v":1,"type":"snapshot","snapshot":{"dim":5,"points":[0,0,0,0,0,1e38,1e38,1e38,1e38,1e38],"weights":[1,0,0,0,0]}}`,
		`{"v":1,"type":"snapshot","snapshot":{"dim":1,"points":[-1,0,1]}}`,
		`{"v":1,"type":"progress","progress":{"step":-5,"epoch":1e9}}`,
		`{"v":1,"type":"command","command":{"op":"ping"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil || m.Type != "snapshot" || m.Snapshot.Dim > 64 {
			return
		}
		var pl Placer
		p := pl.Place(m.Snapshot)
		for i, v := range p.Points {
			for _, x := range v {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("point %d placed at %v", i, v)
				}
			}
		}
		sc := NewScene()
		sc.SetSize(300, 200, 1)
		sc.SetData(p)
		sc.Update()
		sc.Spin(0.1)
		sc.Update()
		_ = Label(p, m.Progress)
	})
}
