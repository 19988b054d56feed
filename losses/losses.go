package losses

import (
	"fmt"
	"sort"
	"strings"

	"metriclab/core"
)

// Config selects a loss and its parameters. Values holds parameters by their
// CLI names (s, m, m1, m2, m3, alpha, margin, ...); a name that is absent
// takes its default, which may depend on Dim (a scale of 64 suits D = 512,
// not D = 2).
type Config struct {
	Name     string
	Dim      int                // embedding dimension D
	Values   map[string]float64 // parameters set by the user
	Miner    string             // triplet: "all", "hard", "semihard", "easy"
	Distance string             // contrastive, triplet: "euclidean" or "cosine"
}

// Param documents one parameter of a loss: its CLI name, default for a given
// D, valid range (inclusive) and the formula it enters.
type Param struct {
	Name     string
	Default  float64
	Min, Max float64
	Integer  bool
	Doc      string
}

// entry is one loss of the registry.
type entry struct {
	doc    string                            // one line, with the formula
	params func(dim int) []Param             // parameters and their defaults at D = dim
	build  func(c Config) (core.Loss, error) // c.Values complete and validated
	pair   bool                              // takes Config.Distance and Config.Miner (which build checks)
}

// registry lists every loss by name.
var registry = map[string]entry{
	"softmax":     softmaxEntry,
	"l2softmax":   l2softmaxEntry,
	"normsoftmax": normsoftmaxEntry,
	"sphereface":  spherefaceEntry,
	"cosface":     cosfaceEntry,
	"arcface":     arcfaceEntry,
	"combined":    combinedEntry,
	"contrastive": contrastiveEntry,
	"triplet":     tripletEntry,
}

// Names returns the loss names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Doc returns the one-line description of the named loss.
func Doc(name string) string { return registry[name].doc }

// Params returns the parameters of the named loss with their defaults at
// embedding dimension dim, or an error for an unknown name.
func Params(name string, dim int) ([]Param, error) {
	e, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown loss %q (want one of %s)", name, strings.Join(Names(), ", "))
	}
	return e.params(dim), nil
}

// LearnsFromPairs reports whether the named loss learns from pairs of
// embeddings, two images of one identity against images of others
// (contrastive, triplet), rather than from class weights.
func LearnsFromPairs(name string) bool { return registry[name].pair }

// New validates c, fills in defaults and returns the loss. A miner or a
// distance is refused for a loss that takes none, as a parameter of
// another loss is.
func New(c Config) (core.Loss, error) {
	e, ok := registry[c.Name]
	if !ok {
		return nil, fmt.Errorf("unknown loss %q (want one of %s)", c.Name, strings.Join(Names(), ", "))
	}
	if c.Miner != "" && !e.pair {
		return nil, fmt.Errorf("%s takes no miner (a miner is for triplet)", c.Name)
	}
	if c.Distance != "" && !e.pair {
		return nil, fmt.Errorf("%s takes no distance (a distance is for contrastive and triplet)", c.Name)
	}
	if err := core.CheckDim(c.Dim); err != nil {
		return nil, err
	}
	params := e.params(c.Dim)
	known := make(map[string]bool, len(params))
	full := make(map[string]float64, len(params))
	for _, p := range params {
		known[p.Name] = true
		v, set := c.Values[p.Name]
		if !set {
			v = p.Default
		}
		if v < p.Min || v > p.Max || v != v {
			return nil, fmt.Errorf("%s: %s = %g out of range [%g, %g]", c.Name, p.Name, v, p.Min, p.Max)
		}
		if p.Integer && v != float64(int(v)) {
			return nil, fmt.Errorf("%s: %s = %g must be an integer", c.Name, p.Name, v)
		}
		full[p.Name] = v
	}
	for name := range c.Values {
		if !known[name] {
			return nil, fmt.Errorf("%s has no parameter %q", c.Name, name)
		}
	}
	c.Values = full
	return e.build(c)
}

// Check returns New's error for the loss name with params at dimension dim,
// as a model's metadata records them: core.Model.Validate's loss check.
func Check(name string, dim int, params map[string]float64) error {
	_, err := New(Config{Name: name, Dim: dim, Values: params})
	return err
}
