package sphere

import (
	"math"
	"math/rand/v2"
	"testing"
)

const deg = math.Pi / 180

func TestSectorsHandMade(t *testing.T) {
	for _, tc := range []struct {
		name string
		phi  []float64
		want []Interval // Start in [0, 2π)
		tol  float64
	}{
		// Four weights at right angles: sectors of 90° centred on each
		// (bisectors at 45°, 135°, …).
		{"4 at 90°", []float64{0, 90 * deg, 180 * deg, 270 * deg},
			[]Interval{{315 * deg, 405 * deg}, {45 * deg, 135 * deg}, {135 * deg, 225 * deg}, {225 * deg, 315 * deg}}, 1e-12},
		// Unequal gaps: 0° and 60° and 180°: bisectors at 30°, 120°, 270°.
		{"0,60,180", []float64{0, 60 * deg, 180 * deg},
			[]Interval{{270 * deg, 390 * deg}, {30 * deg, 120 * deg}, {120 * deg, 270 * deg}}, 1e-12},
		// Angles given outside [0, 2π) and in any order.
		{"-90,90", []float64{-90 * deg, 450 * deg},
			[]Interval{{180 * deg, 360 * deg}, {0, 180 * deg}}, 1e-12},
		// One class owns the whole circle.
		{"single", []float64{30 * deg}, []Interval{{210 * deg, 570 * deg}}, 1e-12},
		// A duplicate direction: the lower index wins, the other is empty.
		{"duplicate", []float64{0, 180 * deg, 0},
			[]Interval{{270 * deg, 450 * deg}, {90 * deg, 270 * deg}, {0, 0}}, 1e-12},
	} {
		got := Sectors(tc.phi)
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %d sectors, want %d", tc.name, len(got), len(tc.want))
		}
		for j := range got {
			if math.Abs(got[j].Start-tc.want[j].Start) > tc.tol || math.Abs(got[j].End-tc.want[j].End) > tc.tol {
				t.Errorf("%s: sector %d = [%.4f°, %.4f°), want [%.4f°, %.4f°)", tc.name, j,
					got[j].Start/deg, got[j].End/deg, tc.want[j].Start/deg, tc.want[j].End/deg)
			}
		}
	}
}

func TestSectorsAreArgmaxCos(t *testing.T) {
	// Random weights: the sector that contains θ is the class of the largest
	// cos(θ − φ_j), and exactly one sector contains θ.
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 20 {
		c := 2 + trial%9
		phi := make([]float64, c)
		for j := range phi {
			phi[j] = rng.Float64()*4*math.Pi - 2*math.Pi
		}
		sec := Sectors(phi)
		var total float64
		for _, s := range sec {
			total += s.Width()
		}
		if math.Abs(total-2*math.Pi) > 1e-9 {
			t.Fatalf("trial %d: sectors cover %g rad, want 2π", trial, total)
		}
		for range 200 {
			theta := rng.Float64() * 2 * math.Pi
			best, bestCos := -1, math.Inf(-1)
			for j, p := range phi {
				if v := math.Cos(theta - p); v > bestCos {
					best, bestCos = j, v
				}
			}
			var in []int
			for j, s := range sec {
				if s.Contains(theta) {
					in = append(in, j)
				}
			}
			if len(in) != 1 || in[0] != best {
				t.Fatalf("trial %d θ=%.6f: in sectors %v, argmax cos is %d", trial, theta, in, best)
			}
		}
	}
}

func TestMarginBands(t *testing.T) {
	for _, tc := range []struct {
		name string
		phi  []float64
		m    float64
		want []Interval
		tol  float64
	}{
		// Right angles, m = 20°: bands of 20° centred on the bisectors 45°,
		// 135°, 225°, 315° (from (Δ ∓ m)/2 with Δ = 90°).
		{"4 at 90°, m=20°", []float64{0, 90 * deg, 180 * deg, 270 * deg}, 20 * deg,
			[]Interval{{35 * deg, 55 * deg}, {125 * deg, 145 * deg}, {215 * deg, 235 * deg}, {305 * deg, 325 * deg}}, 1e-12},
		// A margin wider than the gap is clipped to the two weights.
		{"gap 30°, m=50°", []float64{0, 30 * deg}, 50 * deg,
			[]Interval{{0, 30 * deg}, {170 * deg, 220 * deg}}, 1e-12}, // second bisector at 30° + 330°/2
		{"no margin", []float64{0, 90 * deg}, 0, nil, 0},
		{"one class", []float64{1}, 0.5, nil, 0},
	} {
		got := MarginBands(tc.phi, tc.m)
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %d bands, want %d", tc.name, len(got), len(tc.want))
		}
		for j := range got {
			if math.Abs(got[j].Start-tc.want[j].Start) > tc.tol || math.Abs(got[j].End-tc.want[j].End) > tc.tol {
				t.Errorf("%s: band %d = [%.4f°, %.4f°), want [%.4f°, %.4f°)", tc.name, j,
					got[j].Start/deg, got[j].End/deg, tc.want[j].Start/deg, tc.want[j].End/deg)
			}
		}
	}
}

func TestMarginBandIsWhereArcFaceFails(t *testing.T) {
	// Between neighbours, a point in the band is the class of neither weight
	// once the margin is added (cos(θ_j + m) < cos θ_k for the nearer j), and
	// a point outside it is the nearer weight's class with the margin.
	phi := []float64{10 * deg, 100 * deg, 160 * deg, 290 * deg}
	m := 0.3
	bands := MarginBands(phi, m)
	for i := range 3600 {
		theta := float64(i) * 0.1 * deg
		var th []float64
		for _, p := range phi {
			d := math.Abs(wrap(theta-p+math.Pi) - math.Pi) // angle to weight, in [0, π]
			th = append(th, d)
		}
		j := 0
		for k := range th {
			if th[k] < th[j] {
				j = k
			}
		}
		wins := true // the nearest class beats every other with the margin
		for k := range th {
			if k != j && math.Cos(th[j]+m) <= math.Cos(th[k]) {
				wins = false
			}
		}
		inBand := false
		for _, b := range bands {
			inBand = inBand || b.Contains(theta)
		}
		if inBand == wins {
			t.Fatalf("θ = %.1f°: in a band %v, nearest class %d wins with margin %v", theta/deg, inBand, j, wins)
		}
	}
}

func TestWeightAngles(t *testing.T) {
	got := WeightAnglesTo(nil, []float32{1, 0, 0, 2, -1, 0, 1, -1})
	want := []float64{0, 90 * deg, 180 * deg, -45 * deg} // atan2 by hand
	for j := range want {
		if math.Abs(got[j]-want[j]) > 1e-12 {
			t.Errorf("angle %d = %g°, want %g°", j, got[j]/deg, want[j]/deg)
		}
	}
}
