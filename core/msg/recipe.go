package msg

import (
	"fmt"
	"strconv"
	"strings"
)

// The names a TrainRequest's recipe fields take, for the page, which does
// not import core: core/job's tests hold them equal to data.Augmentations
// and core's schedules and turns.

// AugmentNames returns the names of TrainRequest.Augment ("" is "none").
func AugmentNames() []string { return []string{"none", "digits", "handwriting", "faces"} }

// ScheduleNames returns the names of TrainRequest.Schedule ("" is
// "cosine").
func ScheduleNames() []string { return []string{"cosine", "step", "constant"} }

// TurnsValues returns the values TrainRequest.Turns takes: none, quarter
// turns, quarter turns and mirrors.
func TurnsValues() []int { return []int{0, 4, 8} }

// ParseInput reads an input shape "CxHxW" (TrainRequest.Input, a preset's
// Input, the command line's --input) as channels, height and width, each
// a positive integer.
func ParseInput(s string) (c, h, w int, err error) {
	parts := strings.Split(s, "x")
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("input %q: want CxHxW, e.g. 1x32x32", s)
	}
	var n [3]int
	for i, p := range parts {
		if n[i], err = strconv.Atoi(p); err != nil || n[i] <= 0 {
			return 0, 0, 0, fmt.Errorf("input %q: %q is not a positive integer", s, p)
		}
	}
	return n[0], n[1], n[2], nil
}
