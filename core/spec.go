package core

import (
	"strconv"

	"metriclab/core/msg"
)

// Spec describes an encoder: its architecture, its input and the embedding
// dimension. It is JSON-serialisable and stored in every model file.
type Spec struct {
	Arch  string `json:"arch"`  // "mlp", "lenet-s", "lenetpp", "iresnet18" (ArchNames lists them)
	Input Input  `json:"input"` // shape and normalisation of one image
	Dim   int    `json:"dim"`   // embedding dimension D, msg.MinDim..msg.MaxDim (CheckDim)
	// EmbedBN ends the encoder with a batch norm of the embedding
	// (encoder.features, its scale fixed at 1), as InsightFace's encoders
	// end; iresnet18 always does.
	EmbedBN bool `json:"embed_bn,omitempty"`
	// FlipTest makes the embedding of an image the mean of the encoder's
	// outputs for it and for its mirror image (InsightFace's flip test;
	// for faces, whose mirror is the same person). Training is unchanged:
	// it is how the trained encoder embeds (Encoder.Embed).
	FlipTest bool `json:"flip_test,omitempty"`
	// Crop, when not zero, is the window of the input image the encoder
	// looks at: fractions x0, y0, x1, y1 of its width and height (Crops
	// names some), resampled back to the input's size before the first
	// layer, so the layers and every caller see images of Input's shape.
	// A mirror (FlipTest, the faces augmentation's flip) is of the whole
	// image, before the crop: an encoder of the left part also sees the
	// mirrored right part (of a face, a left part too); the upper and
	// lower parts, whole rows, are the same either way.
	Crop Crop `json:"crop,omitzero"`
	// Views, when not empty, makes the encoder an ensemble of 2 to
	// msg.MaxViews encoders of this spec: view i looks at the window
	// Views[i] (as Crop; the zero Crop is the whole image) with parameters
	// of its own, ViewPrefix(i) + "encoder.…". Its embedding is the views'
	// embeddings, each scaled to length 1/√V, side by side: EmbedDim
	// values whose cosine is the mean of the views' cosines. The views
	// train side by side on the same batches, each with a head and a loss
	// of its own (NewViews). Not with Crop.
	Views []Crop `json:"views,omitempty"`
}

// EmbedDim is the length of an embedding: Dim, or Dim per view.
func (s Spec) EmbedDim() int { return s.Dim * max(1, len(s.Views)) }

// View returns the spec of view i of s: s with Views[i] as its Crop and
// no views.
func (s Spec) View(i int) Spec {
	v := s
	v.Crop, v.Views = s.Views[i], nil
	return v
}

// ViewPrefix is the prefix of the names of view i's parameters (its
// encoder's and its head's) in a model of views, as PyTorch names the
// modules of a ModuleList: "views.0.".
func ViewPrefix(i int) string { return "views." + strconv.Itoa(i) + "." }

// viewPrefixes returns the prefixes of s's parameter names: "" alone
// without views, ViewPrefix(i) of every view with them.
func (s Spec) viewPrefixes() []string {
	if len(s.Views) == 0 {
		return []string{""}
	}
	out := make([]string, len(s.Views))
	for i := range s.Views {
		out[i] = ViewPrefix(i)
	}
	return out
}

// Input is the shape of one image (channels, height, width) and the
// normalisation applied to pixels in [0,1]: x' = (x − Mean) / Std. It is
// the wire type msg.Input (the server's model cards carry it), declared
// once there.
type Input = msg.Input

// MNISTInput is the input of the MNIST encoders: 1×28×28, normalised with
// the data set's mean and standard deviation.
var MNISTInput = Input{Channels: 1, Height: 28, Width: 28, Mean: 0.1307, Std: 0.3081}

// FaceInput is the input InsightFace's encoders are made for: 3×112×112
// aligned faces, pixels in [0,1] mapped to [−1,1].
var FaceInput = Input{Channels: 3, Height: 112, Width: 112, Mean: 0.5, Std: 0.5}

// NativeInput returns the input the architecture arch was designed for:
// FaceInput for iresnet18, MNISTInput for the others.
func NativeInput(arch string) Input {
	if arch == ArchIResNet {
		return FaceInput
	}
	return MNISTInput
}

// Tensor is a named parameter's value: row-major float32 data and its shape.
type Tensor struct {
	Shape []int
	Data  []float32
}

// Metadata is the JSON stored under "__metadata__" in a model file.
type Metadata struct {
	Format     string             `json:"format"` // "metriclab/1"
	Spec       Spec               `json:"spec"`
	Loss       string             `json:"loss"`
	LossParams map[string]float64 `json:"loss_params"`
	Classes    []string           `json:"classes"` // class names the head was trained on, in head order
	// Threshold is the recommended cosine-similarity threshold for 1:1
	// verification (accept when similarity ≥ Threshold), chosen on held-out
	// pairs; FAR is the false accept rate measured at it. A model trained
	// with no held-out pair has both 0 (see HasThreshold).
	Threshold float64 `json:"threshold"`
	FAR       float64 `json:"far"`
	// Metrics is the held-out verification the threshold was chosen on
	// (accuracy, EER, TAR at FAR levels, nearest-centre accuracy), as
	// train and a server's job measured it: what a model's card shows.
	// Absent (nil) in a file written before it was kept, or trained with
	// no held-out pair.
	Metrics    *msg.VerificationSummary `json:"metrics,omitempty"`
	Provenance Provenance               `json:"provenance"`
}

// HasThreshold reports whether the model has a recommended threshold
// (msg.HasThreshold).
func (m Metadata) HasThreshold() bool { return msg.HasThreshold(m.Threshold, m.FAR) }

// Provenance records how a model was trained.
type Provenance struct {
	Data       string  `json:"data"`                  // "mnist" or a folder's name
	Split      string  `json:"split,omitempty"`       // of Data, trained on (metriclab train --split; a server job's is train): train, or all (a folder's test images too); "" unknown: older files
	Align      bool    `json:"align,omitempty"`       // the folder's photos were aligned by the eyes (metriclab train --align)
	AlignTurns int     `json:"align_turns,omitempty"` // turned versions of every photo trained on beside it (metriclab train --align-turns)
	Epochs     int     `json:"epochs"`
	Batch      int     `json:"batch"`
	LR         float64 `json:"lr"`
	Optimizer  string  `json:"optimizer"`
	Seed       int64   `json:"seed"`
	Steps      int     `json:"steps"`
	// The rest of the recipe (metriclab train's flags of those names; a
	// preset is recorded by its name, and as what it set and what was
	// given beside it).
	Preset      string  `json:"preset,omitempty"`
	Miner       string  `json:"miner,omitempty"`    // triplet's
	Distance    string  `json:"distance,omitempty"` // contrastive's and triplet's
	Schedule    string  `json:"schedule,omitempty"`
	WeightDecay float64 `json:"weight_decay"` // written when 0 too: sgd's default is not 0
	Augment     string  `json:"augment,omitempty"`
	Compose     string  `json:"compose,omitempty"`
	Turns       int     `json:"turns,omitempty"`
	Glyphs      int     `json:"glyphs,omitempty"`
	// EarlyStop is the patience in epochs, and BestEpoch the epoch whose
	// parameters the model holds when early stopping kept one.
	EarlyStop int `json:"early_stop,omitempty"`
	BestEpoch int `json:"best_epoch,omitempty"`
	// Joined is the provenance of every member of a model of models
	// joined (JoinModels, metriclab join), in order; the rest is the
	// first member's but Created and Version.
	Joined  []Provenance `json:"joined,omitempty"`
	Created string       `json:"created"` // RFC 3339
	Version string       `json:"version"` // metriclab version that wrote it
}
