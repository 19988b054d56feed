package msg

import "testing"

// TestModelFileName: the name a model's file is downloaded as, of an
// encoder of views too (V×D, as the playground writes it); a card whose
// loss is not a registered loss's lower-case name (none, a quote, a
// slash, a letter not ASCII) has its id alone, so that the name never
// needs quoting in Content-Disposition.
func TestModelFileName(t *testing.T) {
	for _, c := range []struct {
		card ModelCard
		want string
	}{
		{ModelCard{ID: "5f0c2a9e1b7d4c63", Loss: "arcface", Dim: 3}, "metriclab-arcface-d3-5f0c2a9e1b7d4c63.safetensors"},
		{ModelCard{ID: "5f0c2a9e1b7d4c63", Loss: "l2softmax", Dim: 128, Views: []Crop{{}, Crops["upper"], Crops["lower"]}}, "metriclab-l2softmax-d3x128-5f0c2a9e1b7d4c63.safetensors"},
		{ModelCard{ID: "5f0c2a9e1b7d4c63", Dim: 3}, "5f0c2a9e1b7d4c63.safetensors"},
		{ModelCard{ID: "5f0c2a9e1b7d4c63", Loss: `arc"face`, Dim: 3}, "5f0c2a9e1b7d4c63.safetensors"},
		{ModelCard{ID: "5f0c2a9e1b7d4c63", Loss: "../arcface", Dim: 3}, "5f0c2a9e1b7d4c63.safetensors"},
		{ModelCard{ID: "5f0c2a9e1b7d4c63", Loss: "arcfacé", Dim: 3}, "5f0c2a9e1b7d4c63.safetensors"},
	} {
		if got := c.card.FileName(); got != c.want {
			t.Errorf("(%+v).FileName() = %q, want %q", c.card, got, c.want)
		}
	}
}
