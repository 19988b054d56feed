package job

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"metriclab/core"
	"metriclab/core/eval"
	"metriclab/core/msg"
	"metriclab/core/safetensors"
)

// CheckpointFormat is the format of the files Checkpoint writes: a
// safetensors file whose tensors are the parameters (named as in a model
// file) and the optimiser's buffers ("optim.m/NAME", "optim.v/NAME"), and
// whose metadata entry "metriclab_checkpoint" is the rest of the state as
// JSON (checkpointState).
const CheckpointFormat = "metriclab-checkpoint/1"

const (
	checkpointKey = "metriclab_checkpoint"
	optimM        = "optim.m/"
	optimV        = "optim.v/"
	bestPrefix    = "best/" // with EarlyStop: the best epoch's parameters
)

// ErrDataChanged is Resume's error for a checkpoint of the job whose
// training images or labels have changed since it was written: the file
// is sound, and resumes once the data set is restored.
var ErrDataChanged = errors.New("checkpoint: of other training images (the data set changed since it was written)")

// checkpointState is what a checkpoint holds besides its tensors: the
// request it is of, the step and the epoch, the epoch's batch order, the
// state of every random stream (the batch order's and the augmentations'
// PCG generators) and the optimiser's update count. With the parameters
// and the optimiser's buffers it is the whole training state: a job
// resumed from it takes the steps an uninterrupted one would, bit for bit.
// With EarlyStop it also holds the best epoch so far (its parameters as
// "best/NAME", its number and verification), whether the run stopped,
// and why when it diverged (Diverged); and the last epoch end's
// verification and the last step's loss, which training does not read but
// the model's threshold and a finished job's figures are (a job resumed
// at its end only to register its model keeps them).
type checkpointState struct {
	Format  string           `json:"format"`
	Request msg.TrainRequest `json:"request"`
	Step    int              `json:"step"`
	Epoch   int              `json:"epoch"`
	Order   []int            `json:"order"`             // this epoch's order, positions in the training images
	RNG     []byte           `json:"rng"`               // the batch order's generator (rand.PCG, binary)
	AugRNG  []byte           `json:"aug_rng,omitempty"` // the augmentations' generator
	OptT    int              `json:"opt_updates"`

	BestEpoch int                      `json:"best_epoch,omitempty"`
	BestVerif *eval.VerificationReport `json:"best_verification,omitempty"`
	// BestCentre is its nearest-centre accuracy (0 in checkpoints
	// written before it).
	BestCentre float64 `json:"best_centre,omitempty"`
	Stopped    bool    `json:"stopped,omitempty"`
	// Diverged is Diverged's line when training diverged after the best
	// epoch ("" in checkpoints written before it).
	Diverged string `json:"diverged,omitempty"`

	// Last and LastCentre are the last epoch end's verification and
	// nearest-centre accuracy (none in checkpoints written before them).
	Last       *eval.VerificationReport `json:"last_verification,omitempty"`
	LastCentre float64                  `json:"last_centre,omitempty"`
	// Loss is the loss of its step (nil in checkpoints written before it,
	// or before a step: a loss of 0 is a loss, as a triplet loss's can be).
	Loss *float64 `json:"loss,omitempty"`

	// Data is the SHA-256 of the training set's images and labels
	// (dataSum): a resume on images that changed since, even of the same
	// number and size, is refused. Checkpoints written before it have
	// none and are not checked.
	Data string `json:"data,omitempty"`
}

// dataSum returns the SHA-256, in hex, of the job's training set: its
// size, labels and the bits of its pixels, little-endian. It is computed
// once, at the first checkpoint or resume (the browser's trainer, which
// writes none, never pays for it).
func (j *Job) dataSum() string {
	if j.sum != "" {
		return j.sum
	}
	h := sha256.New()
	buf := make([]byte, 0, 1<<16)
	flush := func() { h.Write(buf); buf = buf[:0] }
	buf = binary.LittleEndian.AppendUint64(buf, uint64(j.set.N))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(j.set.Input.Size()))
	for _, l := range j.set.Labels[:j.set.N] {
		if len(buf) >= cap(buf)-8 {
			flush()
		}
		buf = binary.LittleEndian.AppendUint64(buf, uint64(l))
	}
	for _, v := range j.set.X[:j.set.N*j.set.Input.Size()] {
		if len(buf) >= cap(buf)-4 {
			flush()
		}
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	flush()
	j.sum = hex.EncodeToString(h.Sum(nil))
	return j.sum
}

// Checkpoint writes the whole training state of j to w (see
// CheckpointFormat), from which Resume goes on exactly.
func (j *Job) Checkpoint(w io.Writer) error {
	st := checkpointState{Format: CheckpointFormat, Request: j.req, Step: j.tr.Iter(), Epoch: j.epoch,
		Order: j.order, BestEpoch: j.bestEpoch, BestVerif: j.bestVerif, BestCentre: j.bestCentre, Stopped: j.stopped,
		Last: j.last, LastCentre: j.centre, Data: j.dataSum()}
	if j.lossKnown {
		st.Loss = &j.lastLoss
	}
	if j.diverged != nil {
		st.Diverged = j.diverged.Error()
	}
	var err error
	if st.RNG, err = j.src.MarshalBinary(); err != nil {
		return err
	}
	if j.augSrc != nil {
		if st.AugRNG, err = j.augSrc.MarshalBinary(); err != nil {
			return err
		}
	}
	opt := j.tr.OptState()
	st.OptT = opt.T
	meta, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tensors := make(map[string]safetensors.Tensor)
	for name, t := range j.tr.Params() {
		tensors[name] = safetensors.Tensor(t)
	}
	for name, t := range opt.M {
		tensors[optimM+name] = safetensors.Tensor(t)
	}
	for name, t := range opt.V {
		tensors[optimV+name] = safetensors.Tensor(t)
	}
	for name, t := range j.best {
		tensors[bestPrefix+name] = safetensors.Tensor(t)
	}
	return safetensors.Encode(w, tensors, map[string]string{checkpointKey: string(meta)})
}

// Resume loads a checkpoint that Checkpoint wrote of a job of the same
// request and data, before j's first step: the parameters, the optimiser's
// state, the step, the epoch, its batch order and the random streams.
// The errors say what is wrong with the checkpoint and leave j as New
// made it; one of other training images is ErrDataChanged.
func (j *Job) Resume(r io.Reader) error {
	if j.tr.Iter() != 0 {
		return fmt.Errorf("resume: %d steps already done", j.tr.Iter())
	}
	tensors, meta, err := safetensors.Decode(r, 0)
	if err != nil {
		// The decoder's errors start "safetensors: ", which the line says
		// once already (as core words a model file's).
		return fmt.Errorf("checkpoint: not a valid safetensors file: %s", strings.TrimPrefix(err.Error(), "safetensors: "))
	}
	var st checkpointState
	raw, ok := meta[checkpointKey]
	if !ok {
		return errors.New("checkpoint: no training state in the file (a model file, or a checkpoint of an older metriclab?)")
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return fmt.Errorf("checkpoint: bad state: %v", err)
	}
	switch {
	case st.Format != CheckpointFormat:
		return fmt.Errorf("checkpoint: format %q, want %q", st.Format, CheckpointFormat)
	case !sameRequest(st.Request, j.req):
		return errors.New("checkpoint: of another training request")
	case st.Data != "" && st.Data != j.dataSum():
		return ErrDataChanged
	case st.Step < 0 || st.Step > j.total || st.Epoch < 0 || st.Epoch > j.req.Epochs:
		return fmt.Errorf("checkpoint: step %d of epoch %d, out of range of %d steps", st.Step, st.Epoch, j.total)
	case len(st.Order) > len(j.trainIdx) || len(st.Order) < j.steps*j.req.Batch:
		return fmt.Errorf("checkpoint: an order of %d images, the job trains on %d in batches of %d", len(st.Order), len(j.trainIdx), j.req.Batch)
	case (j.augSrc != nil) != (st.AugRNG != nil):
		return errors.New("checkpoint: augmentation differs from the job's")
	case (st.BestEpoch > 0) != (st.BestVerif != nil) || st.BestEpoch > st.Epoch:
		return fmt.Errorf("checkpoint: best epoch %d of %d without its verification", st.BestEpoch, st.Epoch)
	}
	for _, p := range st.Order {
		if p < 0 || p >= len(j.trainIdx) {
			return fmt.Errorf("checkpoint: order position %d out of range", p)
		}
	}
	params := make(map[string]core.Tensor)
	opt := core.OptState{T: st.OptT, M: map[string]core.Tensor{}}
	var best map[string]core.Tensor
	for name, t := range tensors {
		switch {
		case strings.HasPrefix(name, bestPrefix):
			if best == nil {
				best = map[string]core.Tensor{}
			}
			best[strings.TrimPrefix(name, bestPrefix)] = core.Tensor(t)
		case strings.HasPrefix(name, optimM):
			opt.M[strings.TrimPrefix(name, optimM)] = core.Tensor(t)
		case strings.HasPrefix(name, optimV):
			if opt.V == nil {
				opt.V = map[string]core.Tensor{}
			}
			opt.V[strings.TrimPrefix(name, optimV)] = core.Tensor(t)
		default:
			params[name] = core.Tensor(t)
		}
	}
	// Every parameter: the engine's SetParams keeps a loss's learnable
	// that is not given (head.*), which a checkpoint always holds.
	cur := j.tr.Params()
	for name := range cur {
		if _, ok := params[name]; !ok {
			return fmt.Errorf("checkpoint: no parameter %s", name)
		}
	}
	if (best != nil) != (st.BestEpoch > 0) {
		return errors.New("checkpoint: the best epoch's parameters and its number disagree")
	}
	if best != nil {
		for name, t := range cur {
			if b, ok := best[name]; !ok || !slices.Equal(b.Shape, t.Shape) || len(b.Data) != len(t.Data) {
				return fmt.Errorf("checkpoint: the best epoch's %s is missing or of another shape", name)
			}
		}
		if len(best) != len(cur) {
			return errors.New("checkpoint: the best epoch has parameters the model has not")
		}
	}
	// The generators first: their states are checked before anything
	// changes (SetParams and SetOptState check theirs).
	src, augSrc := *j.src, j.augSrc
	if err := src.UnmarshalBinary(st.RNG); err != nil {
		return fmt.Errorf("checkpoint: random state: %v", err)
	}
	if augSrc != nil {
		a := *augSrc
		if err := a.UnmarshalBinary(st.AugRNG); err != nil {
			return fmt.Errorf("checkpoint: augmentation's random state: %v", err)
		}
		augSrc = &a
	}
	if err := j.tr.SetParams(params); err != nil {
		return fmt.Errorf("checkpoint: %v", err)
	}
	if err := j.tr.SetOptState(opt); err != nil {
		j.tr.SetParams(cur) // as New made it (and the optimiser cleared)
		return fmt.Errorf("checkpoint: %v", err)
	}
	j.tr.SetIter(st.Step)
	*j.src = src
	if augSrc != nil {
		*j.augSrc = *augSrc
	}
	j.epoch = st.Epoch
	j.order = append(j.order[:0], st.Order...)
	j.best, j.bestVerif, j.bestCentre, j.bestEpoch, j.stopped = best, st.BestVerif, st.BestCentre, st.BestEpoch, st.Stopped
	j.last, j.centre = st.Last, st.LastCentre
	if st.Diverged != "" {
		j.diverged = core.Diverged(st.Diverged)
	}
	if j.lossKnown = st.Loss != nil; j.lossKnown {
		j.lastLoss = *st.Loss
	}
	return nil
}

// sameRequest reports whether a and b are the same request as a
// checkpoint holds one, in JSON: a checkpoint's request was read from
// JSON, which drops what omitempty leaves out (an empty map of loss
// parameters, the command line's when none is given, is nil there), so
// that reflect.DeepEqual would take it for another request.
func sameRequest(a, b msg.TrainRequest) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
