package msg

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The server's HTTP API (server/api) speaks these types as JSON, and the
// page (app) reads them: each is declared here once. The server's store
// embeds them (store.Job) or uses them as they are (store.Card), so a
// field renamed here is renamed on both sides of the wire, and a test of
// server/api (TestContract) decodes every answer into these types with
// unknown fields refused.

// Job states of the server (GET /api/jobs). A job is queued, then running,
// then done, failed or canceled; a job that was running when the server
// stopped is interrupted, and resuming it queues it again.
const (
	JobQueued      = "queued"
	JobRunning     = "running"
	JobDone        = "done"
	JobFailed      = "failed"
	JobCanceled    = "canceled"
	JobInterrupted = "interrupted"
)

// JobUnreadable is the error of a failed job whose record the server
// could not read: its Config is empty (store.Unreadable).
const JobUnreadable = "unreadable record"

// JobStates lists the job states, in the order a job goes through them.
func JobStates() []string {
	return []string{JobQueued, JobRunning, JobDone, JobFailed, JobCanceled, JobInterrupted}
}

// Input is the image an encoder takes: channels × height × width, and the
// normalisation applied to pixels in [0, 1], x' = (x − Mean)/Std. It is
// core.Input (an alias), declared here so that the wire does not need the
// engine.
type Input struct {
	Channels int     `json:"channels"`
	Height   int     `json:"height"`
	Width    int     `json:"width"`
	Mean     float64 `json:"mean"`
	Std      float64 `json:"std"`
}

// Size is Channels×Height×Width, the length of one image in a flat slice.
func (in Input) Size() int { return in.Channels * in.Height * in.Width }

// SameShape reports whether o has in's channels, height and width (its
// normalisation may differ).
func (in Input) SameShape(o Input) bool {
	return in.Channels == o.Channels && in.Height == o.Height && in.Width == o.Width
}

// ModelCard describes a model of the server's registry: what
// GET /api/models lists and GET /api/models/{id} answers.
type ModelCard struct {
	ID         string               `json:"id"`
	Name       string               `json:"name"`
	Arch       string               `json:"arch"`
	Loss       string               `json:"loss"`
	LossParams map[string]float64   `json:"loss_params,omitempty"`
	Dim        int                  `json:"dim"`             // of one view: with Views, embeddings are len(Views)·Dim wide
	Views      []Crop               `json:"views,omitempty"` // the windows of an encoder of views (core.Spec.Views)
	Crop       Crop                 `json:"crop,omitzero"`   // the window the encoder looks at (core.Spec.Crop); zero: the whole image
	Input      Input                `json:"input"`
	Classes    []string             `json:"classes"`          // the first MaxCardClasses class names, each MaxCardText characters at most
	NumClasses int                  `json:"num_classes"`      // all of them; 0 in a card stored before it was counted: len(Classes)
	Threshold  float64              `json:"threshold"`        // recommended cosine threshold for 1:1 verification
	FAR        float64              `json:"far"`              // false accept rate at Threshold
	Metrics    *VerificationSummary `json:"metrics"`          // the held-out verification its threshold was chosen on: its job's, or the model file's (core.Metadata.Metrics); nil for a file without one
	Steps      int                  `json:"steps"`            // training steps taken, from the provenance
	Data       string               `json:"data"`             // training data, from the provenance (MaxCardText characters at most)
	Preset     string               `json:"preset,omitempty"` // the recipe trained with, from the provenance (MaxCardText characters at most)
	// PresetChanges are the fields of the recipe the model was trained
	// with, as its file's metadata records it, that differ from those of
	// Preset (PresetChanges), as a job's record lists them. Absent for
	// none, and in a card stored before cards held them.
	PresetChanges []string `json:"preset_changes,omitempty"`
	JobID         string   `json:"job_id,omitempty"`
	Size          int64    `json:"size"`    // bytes of the .safetensors file
	Created       string   `json:"created"` // RFC 3339, UTC
}

// Bounds of what a ModelCard carries of its model's metadata, which may
// be as long as a model file's header (up to 100 MB): GET /api/models
// sends every card. The card is shortened, not the model refused: train
// writes a class per identity of its data set, of any number (the large
// face sets have tens of thousands), and --data's path as given.
const (
	MaxCardClasses = 100 // class names listed (the Models page shows three)
	MaxCardText    = 256 // characters of a class name, Data and Preset (Shorten)
)

// HasThreshold reports whether a model's threshold and FAR are a
// recommended threshold: a model trained with no held-out pair stores
// both 0, which is none (one measured is cos 0 at FAR 0 only by chance).
func HasThreshold(threshold, far float64) bool { return threshold != 0 || far != 0 }

// Job is a training job as GET /api/jobs and GET /api/jobs/{id} give it.
type Job struct {
	ID     string       `json:"id"`
	Config TrainRequest `json:"config"`
	// PresetChanges are the fields of Config that differ from those of
	// the preset it names (PresetChanges): the job trains that preset
	// with these changes, given beside it. Absent for none.
	PresetChanges []string             `json:"preset_changes,omitempty"`
	State         string               `json:"state"` // one of the Job* states
	Step          int                  `json:"step"`
	Steps         int                  `json:"steps"`
	Loss          float64              `json:"loss"`
	Metrics       *VerificationSummary `json:"metrics"`
	ModelID       string               `json:"model_id"`
	CkptStep      int                  `json:"checkpoint_step"` // the step of the job's checkpoint, 0 when none
	Error         string               `json:"error,omitempty"` // the images its data set's load skipped, and the batch it lowered to its training images (TrainRequest.BatchDefault), from its load on, whatever its end; then, "; " between, why it failed or was interrupted, or how a done job ended (early stopping where training diverged)
	Created       string               `json:"created"`         // RFC 3339, UTC
	Updated       string               `json:"updated"`
}

// Created is the answer of POST /api/jobs: the new job's id.
type Created struct {
	ID string `json:"id"`
}

// Dataset is an entry of GET /api/datasets: an image folder with one
// sub-folder per identity, or MNIST (Builtin).
type Dataset struct {
	Name       string `json:"name"`
	Identities int    `json:"identities"`
	Samples    int    `json:"samples"`
	Created    string `json:"created,omitempty"`
	Builtin    bool   `json:"builtin,omitempty"`
}

// Sample is the answer of POST /api/datasets/{name}/samples: the stored
// image. A data set keeps an image once for each identity: Existed says
// the one posted was there already (stored before, with its ID and
// Created), and nothing was added; false, it was stored now. (An answer
// without the field, of a server from before, is of a sample it stored.)
type Sample struct {
	ID       string `json:"id"`
	Dataset  string `json:"dataset"`
	Identity string `json:"identity"`
	Created  string `json:"created"`
	Existed  bool   `json:"existed"`
}

// ErrorBody is every error answer of the API: {"error": "…"}, one line
// fit to show a user, of at most MaxErrorRunes characters.
type ErrorBody struct {
	Error string `json:"error"`
}

// MaxErrorRunes bounds the text of an ErrorBody: an error that quotes what
// the client sent (a name of megabytes, a Host) keeps its start, with the
// quote's beginning, and its end, which says what is wrong (Shorten).
const MaxErrorRunes = 300

// ErrorLine returns text as the one line of an error of the schema (an
// ErrorBody's, a trainer's Message.Error): its control characters and
// its line and paragraph separators (U+2028, U+2029), line breaks all,
// and its bidirectional embeddings, overrides and isolates as spaces, and
// at most MaxErrorRunes characters, a longer one without its middle
// (Shorten). The side that writes the error and the side that shows it
// both use it: a peer of another version may send any text.
func ErrorLine(text string) string {
	line := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) || bidiOverride(r) {
			return ' '
		}
		return r
	}, text)
	return Shorten(line, MaxErrorRunes)
}

// JoinShortened returns the parts that are not empty, "; " between
// them, as one line of at most n characters: when together they are
// longer, each is shortened to its share of n (Shorten), a shorter one
// keeping its whole when it can, so that each keeps its start and end.
// Shortened as one, the line would keep the first part's start and the
// last's end, the words between lost: a job's error, the note on its
// data then why it ended, would lose why. The server joins a job's error
// so (of MaxErrorRunes), and the Jobs page shortens it again so for its
// row, split at its "; ". Parts too many for a character each beside
// their "; " are shortened as one line.
func JoinShortened(n int, parts ...string) string {
	parts = slices.DeleteFunc(slices.Clone(parts), func(p string) bool { return p == "" })
	line := strings.Join(parts, "; ")
	if utf8.RuneCountInString(line) <= n {
		return line
	}
	// Shortest first, each taking at most an even share of what is left.
	order := make([]int, len(parts))
	for i := range order {
		order[i] = i
	}
	runes := func(i int) int { return utf8.RuneCountInString(parts[i]) }
	slices.SortStableFunc(order, func(a, b int) int { return runes(a) - runes(b) })
	left := n - len("; ")*(len(parts)-1)
	if left < len(parts) { // not a character each: the line as one
		return Shorten(line, n)
	}
	for k, i := range order {
		share := min(runes(i), left/(len(parts)-k))
		parts[i] = Shorten(parts[i], share)
		left -= share
	}
	return strings.Join(parts, "; ")
}

// bidiOverride reports whether r is a bidirectional embedding or override
// (U+202A–U+202E) or isolate (U+2066–U+2069): a name or a value quoted in
// a line could show the rest of the line reversed ("Trojan Source",
// CVE-2021-42574). The marks U+200E and U+200F, which reorder nothing
// around them, are not.
func bidiOverride(r rune) bool {
	return '\u202a' <= r && r <= '\u202e' || '\u2066' <= r && r <= '\u2069'
}
