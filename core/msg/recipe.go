package msg

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
