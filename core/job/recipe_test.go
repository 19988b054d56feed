package job

import (
	"slices"
	"testing"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/msg"
)

// TestRecipeNames holds the page's lists of msg (the page does not import
// core) equal to what the trainer takes.
func TestRecipeNames(t *testing.T) {
	var augs []string
	for _, a := range data.Augmentations() {
		augs = append(augs, a.Name)
	}
	if got := slices.Sorted(slices.Values(msg.AugmentNames())); !slices.Equal(got, augs) {
		t.Errorf("msg.AugmentNames() sorted = %q, data.Augmentations() = %q", got, augs)
	}
	if got, want := msg.ScheduleNames(), []string{core.ScheduleCosine, core.ScheduleStep, core.ScheduleConstant}; !slices.Equal(got, want) {
		t.Errorf("msg.ScheduleNames() = %q, want %q", got, want)
	}
	square := core.Input{Channels: 1, Height: 8, Width: 8}
	var turns []int
	for n := range 10 {
		if data.ValidTurns(n, square) == nil && n != 1 { // 1 is 0 (no turn)
			turns = append(turns, n)
		}
	}
	if !slices.Equal(msg.TurnsValues(), turns) {
		t.Errorf("msg.TurnsValues() = %v, data.ValidTurns takes %v", msg.TurnsValues(), turns)
	}
}
