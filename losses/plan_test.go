package losses

import (
	"testing"

	"metriclab/core"
)

// TestLossPlan checks that every loss describes itself to other engines,
// with its parameters as configured, and that SphereFace's λ follows
// BeforeStep.
func TestLossPlan(t *testing.T) {
	cases := []struct {
		cfg  Config
		want core.LossPlan
	}{
		{Config{Name: "softmax", Dim: 3}, core.LossPlan{Family: "margin", Head: "linear", Scale: 1}},
		{Config{Name: "l2softmax", Dim: 3, Values: map[string]float64{"alpha": 20}}, core.LossPlan{Family: "margin", Head: "scaled-linear", Scale: 20}},
		{Config{Name: "normsoftmax", Dim: 3}, core.LossPlan{Family: "margin", Head: "cosine", Scale: 16}},
		{Config{Name: "cosface", Dim: 128}, core.LossPlan{Family: "margin", Head: "cosine", Scale: 64, Target: "cosface", M: 0.35}},
		{Config{Name: "arcface", Dim: 3, Values: map[string]float64{"easy_margin": 1}}, core.LossPlan{Family: "margin", Head: "cosine", Scale: 16, Target: "arcface", M: 0.5, EasyMargin: true}},
		{Config{Name: "combined", Dim: 2}, core.LossPlan{Family: "margin", Head: "cosine", Scale: 16, Target: "combined", M1: 1, M2: 0.3 * msLowDimFactor(2), M3: 0.2 * msLowDimFactor(2)}},
		{Config{Name: "sphereface", Dim: 3}, core.LossPlan{Family: "margin", Head: "feature-norm", Scale: 1, Target: "sphereface", SphereM: 4, Lambda: 1000}},
		{Config{Name: "contrastive", Dim: 3, Distance: "euclidean"}, core.LossPlan{Family: "pair", Distance: "euclidean", Objective: "contrastive", Margin: 0.5}},
		{Config{Name: "triplet", Dim: 3}, core.LossPlan{Family: "pair", Distance: "cosine", Objective: "triplet", Miner: "semihard", Margin: 0.2}},
		{Config{Name: "triplet", Dim: 3, Miner: "easy", Values: map[string]float64{"margin": 0.3}}, core.LossPlan{Family: "pair", Distance: "cosine", Objective: "triplet", Miner: "easy", Margin: 0.3}},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		l, err := New(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		lp, ok := l.(core.LossPlanner)
		if !ok {
			t.Fatalf("%s does not implement core.LossPlanner", c.cfg.Name)
		}
		if got := lp.LossPlan(); got != c.want {
			t.Errorf("%s: LossPlan() = %+v, want %+v", c.cfg.Name, got, c.want)
		}
		seen[c.cfg.Name] = true
	}
	for _, name := range Names() {
		if !seen[name] {
			t.Errorf("loss %s has no LossPlan case", name)
		}
	}
	l, _ := New(Config{Name: "sphereface", Dim: 3})
	l.BeforeStep(100)
	want := SphereFaceSchedule{Base: 1000, Min: 5, Gamma: 0.12, Power: 1}.Lambda(100)
	if got := l.(core.LossPlanner).LossPlan().Lambda; got != want {
		t.Errorf("sphereface λ after BeforeStep(100) = %v, want %v", got, want)
	}
}
