package sphere

import (
	"math"
	"testing"
)

func TestGraticuleCounts(t *testing.T) {
	for _, tc := range []struct{ lats, lons, segs int }{{5, 12, 48}, {1, 0, 4}, {0, 3, 8}} {
		lines := Graticule(tc.lats, tc.lons, tc.segs)
		if len(lines) != tc.lats+tc.lons {
			t.Fatalf("%+v: %d lines, want %d", tc, len(lines), tc.lats+tc.lons)
		}
		for i, l := range lines {
			want := tc.segs + 1 // parallels: closed circles
			if i >= tc.lats {
				want = tc.segs/2 + 1 // meridians: pole to pole
			}
			if len(l) != want {
				t.Errorf("%+v line %d: %d points, want %d", tc, i, len(l), want)
			}
			for _, v := range l {
				if math.Abs(Norm(v)-1) > 1e-12 {
					t.Fatalf("%+v: point %v off the unit sphere", tc, v)
				}
			}
		}
	}
}

func TestProjectLinesSplitsHidden(t *testing.T) {
	const lats, lons, segs = 5, 8, 48
	lines := Graticule(lats, lons, segs)
	// Looking at the equator from the front, orthographically, turned by
	// 7.5° (one segment) so that no segment midpoint sits on the outline:
	// every parallel is half in front and half behind (z of a midpoint is
	// cos β·sin(t + 7.5°) at t = 3.75° + 7.5°·k: 24 of 48 positive), and the
	// meridians at 0°, 45°, 90°, 135° are in front (sin(λ + 7.5°) > 0), the
	// other 4 behind.
	p := Projection{Rot: RotY(-7.5 * deg), CX: 100, CY: 100, Radius: 50}
	runs := p.ProjectLinesTo(nil, lines)
	var segments, hidden int
	for i, r := range runs {
		if len(r.Points) < 2 {
			t.Fatalf("a run of %d points", len(r.Points))
		}
		segments += len(r.Points) - 1
		if r.Hidden {
			hidden += len(r.Points) - 1
		}
		// Orthographic horizon 0: a segment is hidden iff z0 + z1 ≤ 0.
		for k := 1; k < len(r.Points); k++ {
			if h := r.Points[k-1].Z+r.Points[k].Z <= 0; h != r.Hidden {
				t.Fatalf("run %d segment %d: hidden %v, run flagged %v", i, k, h, r.Hidden)
			}
		}
	}
	if want := lats*segs + lons*segs/2; segments != want {
		t.Errorf("%d segments, want %d", segments, want)
	}
	if want := lats*segs/2 + 4*segs/2; hidden != want {
		t.Errorf("%d hidden segments, want %d", hidden, want)
	}
	// A parallel splits into 3 runs (front, back, front again as it
	// passes its starting point) or 2; a meridian stays whole: at least
	// lats·2 + lons runs.
	if len(runs) < 2*lats+lons {
		t.Errorf("%d runs, want at least %d", len(runs), 2*lats+lons)
	}
	// Reusing dst gives the same result.
	again := p.ProjectLinesTo(runs, lines)
	if len(again) != len(runs) {
		t.Fatalf("reuse: %d runs, want %d", len(again), len(runs))
	}
	fresh := p.ProjectLinesTo(nil, lines)
	for i := range fresh {
		if fresh[i].Hidden != again[i].Hidden || len(fresh[i].Points) != len(again[i].Points) {
			t.Fatalf("reuse: run %d differs", i)
		}
		for k := range fresh[i].Points {
			if fresh[i].Points[k] != again[i].Points[k] {
				t.Fatalf("reuse: run %d point %d differs", i, k)
			}
		}
	}
}
