package app

import (
	"slices"
	"testing"

	"metriclab/core/msg"
)

// card is a model as a job on MNIST digits 0-4 registers it.
func card() msg.ModelCard {
	return msg.ModelCard{
		ID: "m7", Name: "arcface d3", Arch: "mlp", Loss: "arcface", LossParams: map[string]float64{"m": 0.3, "s": 30},
		Dim: 3, Classes: []string{"0", "1", "2", "3", "4"}, Threshold: 0.5, FAR: 0.001,
		Metrics: &msg.VerificationSummary{Accuracy: 0.9712, EER: 0.0321}, Steps: 1875, Data: "mnist",
		Size: 1_234_567, Created: "2025-11-28T23:48:10Z",
	}
}

func TestFormatCard(t *testing.T) {
	got := FormatCard(card())
	// θ = acos 0.5 = 60° exactly.
	want := ModelRow{
		Name: "arcface d3", Model: "mlp · arcface · D = 3", Classes: "5: 0, 1, 2, 3, 4",
		Training: "1875 steps on mnist", Verification: "accuracy 97.1%, EER 3.2%",
		Threshold: "cos 0.500 (60.0°) at FAR 0.1%", Created: "2025-11-28 23:48", Size: "1.2 MB",
	}
	if got != want {
		t.Errorf("FormatCard =\n%+v, want\n%+v", got, want)
	}
	none := card()
	none.Threshold, none.FAR = 0, 0
	if got := FormatCard(none).Threshold; got != "none (no held-out pairs)" {
		t.Errorf("a model trained with nothing held out: threshold %q", got)
	}
	trained := card()
	trained.Preset = "digits"
	if got := FormatCard(trained).Training; got != "1875 steps on mnist, preset digits" {
		t.Errorf("a model of a preset: training %q", got)
	}
	// The fields its recipe changed, as its card lists them.
	trained.PresetChanges = []string{"arch", "dim"}
	if got := FormatCard(trained).Training; got != "1875 steps on mnist, preset digits, changed: arch, dim" {
		t.Errorf("a model of a preset with its arch and dim changed: training %q", got)
	}
	// An upload: no name, no metrics, no steps, many classes, small.
	up := msg.ModelCard{ID: "m8", Arch: "lenet-s", Loss: "softmax", Dim: 128, Threshold: -1, Size: 812,
		Classes: []string{"a", "b", "c", "d", "e", "f", "g", "h"}}
	got = FormatCard(up)
	if got.Name != "m8" || got.Training != "uploaded" || got.Verification != "–" || got.Size != "812 B" ||
		got.Classes != "8: a, b, …, h" || got.Threshold != "cos -1.000 (180.0°)" {
		t.Errorf("upload row %+v", got)
	}
	// A card lists the first of many classes (msg.MaxCardClasses): the
	// count is all of them, the last listed is not the last class.
	many := up
	many.NumClasses = 300
	if got := FormatCard(many).Classes; got != "300: a, b, …" {
		t.Errorf("a card of 300 classes listing 8: %q", got)
	}
	up.Crop = msg.Crop{0, 0, 1, 0.5}
	if got := FormatCard(up).Model; got != "lenet-s · softmax · D = 128 (crop 0:0:1:0.5)" {
		t.Errorf("a model of a crop: %q", got)
	}
	up.Crop, up.Views = msg.Crop{}, []msg.Crop{{}, {0, 0, 1, 0.5}}
	if got := FormatCard(up).Model; got != "lenet-s · softmax · D = 2 × 128 (whole, 0:0:1:0.5)" {
		t.Errorf("a model of views: %q", got)
	}
}

func TestPlaygroundLink(t *testing.T) {
	tests := []struct {
		name string
		card func() msg.ModelCard
		want string
	}{
		// Parameters go in sorted by the loss's own order (s, m for arcface),
		// classes as digits; the rest takes the playground's defaults.
		{"mnist subset", card, "/#data=mnist&classes=0,1,2,3,4&arch=mlp&loss=arcface&s=30&m=0.3&dim=3&batch=64&lr=0.01&opt=adam&epochs=1&seed=1"},
		{"all digits, unknown arch and dim", func() msg.ModelCard {
			c := card()
			c.Arch, c.Dim, c.LossParams = "resnet", 5, nil
			c.Classes = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
			return c
		}, "/#data=mnist&arch=lenet-s&loss=arcface&dim=3&batch=64&lr=0.01&opt=adam&epochs=1&seed=1"},
		{"parameter out of range dropped", func() msg.ModelCard {
			c := card()
			c.LossParams = map[string]float64{"m": 99}
			c.Data = "faces"
			return c
		}, "/#data=mnist&arch=mlp&loss=arcface&dim=3&batch=64&lr=0.01&opt=adam&epochs=1&seed=1"},
		{"views", func() msg.ModelCard {
			c := card()
			c.LossParams, c.Views = nil, []msg.Crop{{}, msg.Crops["upper"], msg.Crops["lower"]}
			return c
		}, "/#data=mnist&classes=0,1,2,3,4&arch=mlp&loss=arcface&dim=3&batch=64&lr=0.01&opt=adam&epochs=1&views=whole,upper,lower&seed=1"},
		{"joined views", func() msg.ModelCard { // two models of views joined: the recipe's windows once
			c := card()
			c.LossParams, c.Views = nil, []msg.Crop{{}, msg.Crops["upper"], {}, msg.Crops["upper"]}
			return c
		}, "/#data=mnist&classes=0,1,2,3,4&arch=mlp&loss=arcface&dim=3&batch=64&lr=0.01&opt=adam&epochs=1&views=whole,upper&seed=1"},
		{"joined seeds", func() msg.ModelCard { // two models of one encoder joined: one encoder
			c := card()
			c.LossParams, c.Views = nil, []msg.Crop{{}, {}}
			return c
		}, "/#data=mnist&classes=0,1,2,3,4&arch=mlp&loss=arcface&dim=3&batch=64&lr=0.01&opt=adam&epochs=1&seed=1"},
	}
	for _, tt := range tests {
		got := PlaygroundLink(tt.card())
		if got != tt.want {
			t.Errorf("%s: PlaygroundLink =\n%s, want\n%s", tt.name, got, tt.want)
		}
		// The playground reads it back without a notice.
		if _, notices := ParseHash(got[1:]); len(notices) > 0 {
			t.Errorf("%s: the playground says %v", tt.name, notices)
		}
	}
	if got := VerifyLink("a b"); got != "/verify?model=a+b" {
		t.Errorf("VerifyLink = %q", got)
	}
}

// TestFormatBytes: a size just under a megabyte is "1.0 MB" (before,
// "1000.0 kB").
func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 999: "999 B", 1000: "1.0 kB", 34_549: "34.5 kB", 999_949: "999.9 kB",
		999_950: "1.0 MB", 999_999: "1.0 MB", 1_234_567: "1.2 MB",
	} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestModelsNewestFirst: the page lists models newest first, as the Jobs
// page lists jobs, their times compared as times: three registered
// within a second, as the server lists them (oldest first) and writes
// their times (RFC 3339, the fraction's trailing zeros dropped). Before,
// the page kept the server's order, oldest first.
func TestModelsNewestFirst(t *testing.T) {
	cards := []msg.ModelCard{
		{ID: "a", Created: "2025-01-01T11:59:59.9Z"},
		{ID: "b", Created: "2025-01-01T12:00:00Z"},
		{ID: "c", Created: "2025-01-01T12:00:00.1Z"},
		{ID: "d", Created: "2025-01-01T12:00:00.12Z"},
	}
	m := NewModels()
	m.SetCards(cards, nil)
	var ids []string
	for _, c := range m.cards {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, []string{"d", "c", "b", "a"}) || cards[0].ID != "a" {
		t.Errorf("the page lists %v, want [d c b a] (the server's answer changed: %v)", ids, cards[0].ID != "a")
	}
}
