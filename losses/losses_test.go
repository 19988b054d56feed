package losses

import (
	"strings"
	"testing"
)

// TestNewMinerDistance: a miner or a distance is an error for every loss
// that takes none (the API's jobs and the CLI both reach New), and taken by
// the pair losses.
func TestNewMinerDistance(t *testing.T) {
	for _, name := range Names() {
		pair := name == "contrastive" || name == "triplet"
		_, err := New(Config{Name: name, Dim: 3, Distance: "cosine"})
		if pair != (err == nil) {
			t.Errorf("%s with a distance: error %v", name, err)
		}
		if !pair && (err == nil || !strings.Contains(err.Error(), name+" takes no distance")) {
			t.Errorf("%s with a distance: error %v, want %q", name, err, name+" takes no distance")
		}
		_, err = New(Config{Name: name, Dim: 3, Miner: "all"})
		if pair != (err == nil) {
			t.Errorf("%s with miner all: error %v", name, err)
		}
		if !pair && (err == nil || !strings.Contains(err.Error(), name+" takes no miner")) {
			t.Errorf("%s with a miner: error %v, want %q", name, err, name+" takes no miner")
		}
	}
}
