package msg

// SchemaVersion is the version of the message schema shared by the browser
// trainers, the page, the viewer and the server's progress stream. A reader
// rejects messages of another version.
const SchemaVersion = 1

// Message types: Message.Type says which of its fields is set.
const (
	TypeCommand    = "command"    // Command: the page asks a trainer to act
	TypeState      = "state"      // State: a trainer's (or a server job's) new state
	TypeProgress   = "progress"   // Progress
	TypeSnapshot   = "snapshot"   // Snapshot, for the viewer and the histograms
	TypeError      = "error"      // Error, one line
	TypeExport     = "export"     // Export: the model file and the projector's files
	TypeEmbeddings = "embeddings" // Embeddings: the answer to an "embed" command
)

// States of a browser trainer (Message.State of its "state" messages): idle
// before a run, loading its data, running, paused, done, failed. A server
// job's event stream uses the Job* states instead.
const (
	StateIdle    = "idle"
	StateLoading = "loading"
	StateRunning = "running"
	StatePaused  = "paused"
	StateDone    = "done"
	StateFailed  = "failed"
)

// TrainerStates lists the states of a browser trainer.
func TrainerStates() []string {
	return []string{StateIdle, StateLoading, StateRunning, StatePaused, StateDone, StateFailed}
}

// Command ops (Command.Op); wasm/trainer documents what each does.
const (
	OpStart  = "start"
	OpPause  = "pause"
	OpResume = "resume"
	OpStep   = "step"
	OpStop   = "stop"
	OpReset  = "reset"
	OpExport = "export"
	OpLoad   = "load"
	OpEmbed  = "embed"
)

// DataEnrolled is TrainRequest.Data for a browser run on the images of the
// start command's Samples (the webcam enrollments).
const DataEnrolled = "enrolled"

// Message is one message between a trainer and its watchers, as JSON.
// Exactly one of the pointer fields is set, as Type says.
type Message struct {
	V       int    `json:"v"`       // SchemaVersion
	Type    string `json:"type"`    // one of the Type* constants
	Trainer string `json:"trainer"` // which trainer, for pages with several

	Command  *Command  `json:"command,omitempty"`
	State    string    `json:"state,omitempty"` // one of the State* (a trainer) or Job* (a server job) constants
	Progress *Progress `json:"progress,omitempty"`
	Snapshot *Snapshot `json:"snapshot,omitempty"`
	Error    string    `json:"error,omitempty"`
	// ID is, on an error that refuses an embed, a load or an export, and
	// on the state idle that answers a load without samples, the
	// command's ID (Command.ID): the page tells which of its requests was
	// answered (a probe, the gallery, the latest load, the encoder's
	// export).
	ID     string  `json:"id,omitempty"`
	Export *Export `json:"export,omitempty"`
	// Embeddings answers an "embed" command.
	Embeddings *Embeddings `json:"embeddings,omitempty"`
}

// Samples is an in-memory set of images sent to a browser trainer: the
// webcam enrollments. Pixels are N×Channels×Height×Width in [0, 1],
// row-major; Labels index Classes.
type Samples struct {
	Channels int       `json:"channels"`
	Height   int       `json:"height"`
	Width    int       `json:"width"`
	Classes  []string  `json:"classes"`
	Labels   []int     `json:"labels"`
	Pixels   []float32 `json:"pixels"`
}

// Embeddings are the encoder's outputs for the images of an "embed"
// command, in order: N×Dim, L2-normalised, with the model's recommended
// cosine threshold and the false accept rate it was measured at (both 0:
// the model has none, HasThreshold). ID echoes the command's.
type Embeddings struct {
	ID        string    `json:"id"`
	Dim       int       `json:"dim"`
	Values    []float32 `json:"values"`
	Threshold float64   `json:"threshold"`
	FAR       float64   `json:"far"`
}

// Export is a trained model as files: the model file (.safetensors bytes,
// base64 in JSON) and the TensorFlow Embedding Projector's vectors.tsv and
// metadata.tsv of the snapshot's test images.
type Export struct {
	Model    []byte `json:"model"`
	Vectors  string `json:"vectors"`
	Metadata string `json:"metadata"`
}

// Command asks a trainer to act. Config is set for "start".
//
// For the webcam enrollments: "start" with Config.Data "enrolled" trains on
// Samples (with augmentation); "load" makes Model (.safetensors bytes, base64
// in JSON) the worker's encoder instead of training one; "embed" embeds
// Samples with the current encoder (trained or loaded) and answers with an
// "embeddings" message carrying ID.
type Command struct {
	Op      string        `json:"op"` // one of the Op* constants
	Config  *TrainRequest `json:"config,omitempty"`
	Samples *Samples      `json:"samples,omitempty"`
	Model   []byte        `json:"model,omitempty"`
	ID      string        `json:"id,omitempty"`
	// Channel is the BroadcastChannel a browser trainer also posts its
	// snapshots to, for "start"; empty: "metriclab-" + the trainer id.
	Channel string `json:"channel,omitempty"`
	// Workers > 1 makes "start" one of Workers data-parallel trainers,
	// number Worker (0 ≤ Worker < Workers), linked by MessagePorts that
	// travel with the command (the postMessage transfer list): worker 0
	// gets one port per other worker, in their order, and each other
	// worker one port to worker 0. Worker 0 is the run the page talks
	// to; the others only train (see wasm/trainer).
	Workers int `json:"workers,omitempty"`
	Worker  int `json:"worker,omitempty"`
}

// DefaultSeed is the seed of a training configuration that gives none:
// `metriclab train`'s --seed, and POST /api/jobs without "seed" (0 given
// is a seed of its own).
const DefaultSeed = 1

// TrainDefaults is the training configuration of the flags that
// `metriclab train` is not given (without --preset), and of the fields
// that the body of POST /api/jobs leaves out (FillDefaults): one place
// for both, so that {"data":"mnist"} trains what `metriclab train --data
// mnist` trains. Data has no default here (train's --data is mnist, a
// job's data is required). Its Batch is a default (BatchDefault: lowered
// to the training images when they are fewer). Opt and Schedule are the
// optimiser's and schedule's names that job.ResolveOpt writes in for "",
// with the optimiser's learning rate and weight decay. A field not set
// here defaults to its zero value: no crop, one encoder, no augmentation
// ("none" is ""), no composition, turns, glyphs or early stop, Input ""
// (1x32x32 for a folder).
func TrainDefaults() TrainRequest {
	return TrainRequest{Arch: "lenet-s", Loss: "arcface", Dim: 3, Epochs: 3, Batch: 64, BatchDefault: true,
		Opt: "adam", Schedule: "cosine", Seed: DefaultSeed}
}

// FillDefaults returns r with the fields of TrainDefaults that given, the
// JSON names of the fields a body gave, lacks set to TrainDefaults'
// values: arch, loss, dim, epochs, batch (with BatchDefault: a batch given
// keeps r's) and seed; the optimiser's fields are job.ResolveOpt's, and
// every other field's default is its zero value. A field given keeps its
// value, its zero too: "seed":0 is a seed of its own. The fields of a
// preset named are not filled here: job.FillRequest fills them from it
// (job.ApplyPreset) after this, as train's --preset sets its flags.
func FillDefaults(r TrainRequest, given map[string]bool) TrainRequest {
	d := TrainDefaults()
	if !given["arch"] {
		r.Arch = d.Arch
	}
	if !given["loss"] {
		r.Loss = d.Loss
	}
	if !given["dim"] {
		r.Dim = d.Dim
	}
	if !given["epochs"] {
		r.Epochs = d.Epochs
	}
	if !given["batch"] {
		r.Batch, r.BatchDefault = d.Batch, d.BatchDefault
	}
	if !given["seed"] {
		r.Seed = d.Seed
	}
	return r
}

// TrainRequest is a training configuration with the fields and names of
// `metriclab train` (and of the server's POST /api/jobs).
type TrainRequest struct {
	Data       string             `json:"data"` // "mnist" or a data set name
	Arch       string             `json:"arch"`
	Loss       string             `json:"loss"`
	LossParams map[string]float64 `json:"loss_params,omitempty"`
	Miner      string             `json:"miner,omitempty"`
	Distance   string             `json:"distance,omitempty"`
	Dim        int                `json:"dim"`
	Epochs     int                `json:"epochs"`
	Batch      int                `json:"batch"`
	// BatchDefault says that Batch is a default (a preset's, the Jobs
	// form's at its recipe's, `metriclab train` without --batch), not one
	// the user gave: when the training images are fewer, the job trains
	// with a batch of them (the most of them the loss takes), and its note
	// says so. A batch given is refused then, with the batch that trains.
	BatchDefault bool    `json:"batch_default,omitempty"`
	LR           float64 `json:"lr"`
	Opt          string  `json:"opt"`
	Classes      string  `json:"classes,omitempty"` // "0-4", "0,2,4", "s01-s20": by number or by name; among identities all named by number (01 … 40), by those numbers, "1-20" (data.ParseClasses); empty: all
	Seed         int64   `json:"seed"`
	Device       string  `json:"device,omitempty"`   // "cpu", "cuda", "auto"
	Schedule     string  `json:"schedule,omitempty"` // learning-rate schedule: "constant", "step", "cosine" (default)
	// Augment names the augmentation of the training images: "none"
	// (default, ""), "digits", "handwriting", "faces" or "heads".
	Augment string `json:"augment,omitempty"`
	// EmbedBN ends the encoder with a batch norm of the embedding, as
	// InsightFace's encoders end (iresnet18 always does).
	EmbedBN bool `json:"embed_bn,omitempty"`
	// FlipTest embeds every image and its mirror and averages the two
	// (core.Spec.FlipTest): the trained model embeds so, held-out images
	// included.
	FlipTest bool `json:"flip_test,omitempty"`
	// Crop, when not zero, is the window of every image the encoder looks
	// at (core.Spec.Crop): its upper or lower part, say.
	Crop Crop `json:"crop,omitzero"`
	// Views, when not empty, makes the encoder an ensemble of encoders of
	// the same recipe, one per window (the zero Crop: the whole image),
	// trained side by side on the same batches, whose embedding is theirs
	// side by side (core.Spec.Views). Not with Crop.
	Views []Crop `json:"views,omitempty"`
	// Compose makes new classes of the training classes: "RxC" cuts every
	// training image into R×C parts and replaces all but the first by the
	// parts of other images of the batch; the class is the tuple of their
	// classes ("2x1": top and bottom halves). "" or "none": no composition.
	Compose string `json:"compose,omitempty"`
	// Turns makes new classes of the training classes: 4, every training
	// image is turned by a random quarter turn and counted as a class of
	// its own per turn; 8, it may also be mirrored first; 0, none.
	Turns int `json:"turns,omitempty"`
	// Glyphs adds that many classes of made-up characters (pen strokes
	// drawn from Seed, 20 images each) to the training classes, kept whole
	// by Compose: more identities to generalise from. 0: none; at most
	// MaxGlyphs.
	Glyphs int `json:"glyphs,omitempty"`
	// WeightDecay is the optimiser's L2 weight decay; nil takes the
	// optimiser's default (5e-4 for sgd, 0 for adam).
	WeightDecay *float64 `json:"weight_decay,omitempty"`
	// EarlyStop is a patience in epochs: training stops when the held-out
	// verification accuracy has not improved for that many epochs, and the
	// model is the best epoch's. 0: off (all epochs, the last epoch's model).
	EarlyStop int `json:"early_stop,omitempty"`
	// Preset names the recipe (Presets) the other fields were filled
	// from, as `metriclab train --preset` and the pages' Preset fill them,
	// fields given beside it winning; "" for none. It is kept in the model
	// file (core.Provenance.Preset). A field that the body of POST
	// /api/jobs leaves out takes the preset's value (job.FillRequest), and
	// the job's config records what trains, filled so: a stored config is
	// not filled again. The fields given that differ from the preset's are
	// PresetChanges (a server job's record lists them,
	// Job.PresetChanges). An unknown preset is refused.
	Preset string `json:"preset,omitempty"`
	// Input is the shape "CxHxW" the images of an uploaded data set are
	// resized to (a preset's Input; "": 1x32x32, as `metriclab train`
	// takes a folder). MNIST's images are 1x28x28 only.
	Input string `json:"input,omitempty"`
}

// Progress reports training progress, every few steps and at epoch ends.
type Progress struct {
	Epoch    int     `json:"epoch"`
	Step     int     `json:"step"`
	Steps    int     `json:"steps"`
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"accuracy"` // the head's own accuracy on the last snapshot's images (the viewer's: test images), when the loss has class weights
	ImgPerS  float64 `json:"img_per_s"`
	LR       float64 `json:"lr"`                  // the learning rate of the step reported, as Loss is its loss
	ETA      float64 `json:"eta_s"`               // seconds left
	EpochEnd bool    `json:"epoch_end,omitempty"` // the step ended an epoch
	// At epoch ends: 1:1 verification on held-out pairs.
	Verification *VerificationSummary `json:"verification,omitempty"`
}

// VerificationSummary is the headline of a 1:1 verification run.
type VerificationSummary struct {
	Accuracy  float64            `json:"accuracy"`
	EER       float64            `json:"eer"`
	Threshold float64            `json:"threshold"`
	TARAtFAR  map[string]float64 `json:"tar_at_far"`
	FAR       float64            `json:"far"`                     // false accept rate at Threshold
	Centre    float64            `json:"nearest_centre_accuracy"` // closed-set accuracy of the nearest class centre
}

// Snapshot is what the hypersphere viewer draws: up to a few thousand test
// embeddings with their labels, the class weight vectors, and the angle
// histograms of genuine and impostor pairs.
type Snapshot struct {
	Dim       int       `json:"dim"`
	Points    []float32 `json:"points"`  // N×Dim, row-major
	Labels    []int     `json:"labels"`  // N
	Weights   []float32 `json:"weights"` // C×Dim, nil for losses without class weights
	Classes   []string  `json:"classes"`
	Threshold float64   `json:"threshold"` // cosine similarity, when HasThreshold
	Margin    float64   `json:"margin"`    // the loss's angular margin in radians, 0 if none, for shading
	Genuine   []int     `json:"genuine"`   // histogram of genuine-pair angles, bins of 180°/len over [0°, 180°]
	Impostor  []int     `json:"impostor"`  // same bins, impostor pairs

	// Biased says that Weights are a linear head's, with biases (softmax,
	// L2-softmax): its decision regions are not the nearest weight
	// direction's, and the viewer shades none.
	Biased bool `json:"biased,omitempty"`
	// HasThreshold says that Threshold is one: the last verification's
	// (an epoch end's, on held-out pairs). Before the first, or without
	// held-out pairs, there is none, and Threshold is 0; a verification
	// may choose 0 (cos 90°) too, so 0 does not say "none".
	HasThreshold bool `json:"has_threshold,omitempty"`
}
