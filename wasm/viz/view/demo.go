package view

import (
	"math"
	"math/rand/v2"
	"strconv"

	"metriclab/core/vec"
)

// DemoClasses is the number of classes of the demo snapshot.
const DemoClasses = 10

// DemoSnapshot returns a synthetic snapshot for the demo mode (?demo=1),
// so that the viewer draws without a trainer: n points of dimension dim in
// `classes` clusters on the unit sphere, the cluster centres as class
// weights, and an angular margin of 0.35 rad for the shading. The centres
// are spread evenly (the unit circle for dim 2, a Fibonacci lattice for
// dim 3, random directions above); each point is its centre plus Gaussian
// noise of 0.15·√(3/dim) per coordinate (0.15 rad of angle for dim 2),
// normalised. It panics if dim < 2, n < 0 or classes < 1.
func DemoSnapshot(dim, n, classes int, seed uint64) *Snapshot {
	if dim < 2 || n < 0 || classes < 1 {
		panic("view: DemoSnapshot needs dim ≥ 2, n ≥ 0 and classes ≥ 1")
	}
	rng := rand.New(rand.NewPCG(seed, 0xd3))
	centres := make([][]float64, classes)
	for c := range centres {
		v := make([]float64, dim)
		switch dim {
		case 2:
			a := 2 * math.Pi * float64(c) / float64(classes)
			v[0], v[1] = math.Cos(a), math.Sin(a)
		case 3:
			// Fibonacci lattice: evenly spread directions.
			y := 1 - 2*(float64(c)+0.5)/float64(classes)
			r := math.Sqrt(1 - y*y)
			a := math.Pi * (3 - math.Sqrt(5)) * float64(c)
			v[0], v[1], v[2] = r*math.Cos(a), y, r*math.Sin(a)
		default:
			for j := range v {
				v[j] = rng.NormFloat64()
			}
			vec.Normalise(v)
		}
		centres[c] = v
	}
	s := &Snapshot{
		Dim:    dim,
		Points: make([]float32, 0, n*dim),
		Labels: make([]int, n),
		Margin: 0.35,
	}
	p := make([]float64, dim)
	for i := range n {
		c := i % classes
		s.Labels[i] = c
		if dim == 2 {
			a := math.Atan2(centres[c][1], centres[c][0]) + 0.15*rng.NormFloat64()
			p[0], p[1] = math.Cos(a), math.Sin(a)
		} else {
			for j := range p {
				p[j] = centres[c][j] + 0.15*rng.NormFloat64()/math.Sqrt(float64(dim)/3)
			}
			vec.Normalise(p)
		}
		for _, v := range p {
			s.Points = append(s.Points, float32(v))
		}
	}
	for c, v := range centres {
		for _, x := range v {
			s.Weights = append(s.Weights, float32(x))
		}
		s.Classes = append(s.Classes, strconv.Itoa(c))
	}
	return s
}
