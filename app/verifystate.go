package app

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"metriclab/core/face"
	"metriclab/core/msg"
)

// Defaults of the verify page: the snapshots one "hold to record" takes,
// the false accept rate the suggested threshold aims at and the largest
// its slider chooses, and the bins of the calibration histogram.
const (
	DefaultSnapshots = 20
	DefaultFAR       = 0.01
	MaxFAR           = 0.2
	// HeldOutShare: the page's training holds one snapshot in five of
	// each identity out (HeldOut), and the threshold is calibrated on
	// those: 4 of a hold's 20.
	HeldOutShare  = 5
	angleBins     = 36 // 5° each
	fpsShownEvery = 500.0
	// faceGoneAfter (milliseconds of frame time) is how long the camera
	// shows no usable face before the live answers go: a second, up to
	// 30 frames (minFrameGap), not one, as the detector misses a face
	// that is there for a frame or a few (a blink, a turn of the head).
	faceGoneAfter = 1000.0
	// verdictHeldAfter (milliseconds of frame time) is how long the live
	// verdict stays the same before the screen readers' line of it
	// (VerdictLine) says it: a score at the threshold flips it at each
	// probe, and a live region would be read at each flip. Why probes are
	// refused (ProbeLine) is held as long.
	verdictHeldAfter = 1000.0
)

// verifyTrainer is the trainer id of the verify page's worker.
const verifyTrainer = "verify"

// Phase is what the verify page's encoder is doing.
type Phase int

// The phases of the encoder. Train and LoadModel leave PhaseNone (or
// PhaseReady); PhaseTraining ends, when the trainer says done, in
// PhaseEmbedding, and the gallery's embeddings make it PhaseReady; a
// failure or a crash returns to PhaseNone.
const (
	PhaseNone      Phase = iota // no encoder yet
	PhaseTraining               // the worker trains on the gallery
	PhaseLoading                // a model file is on its way from the server (the encoder before still scores: Live)
	PhaseEmbedding              // the worker embeds the gallery
	PhaseReady                  // templates and calibration are there: live scores
)

// Busy reports whether the encoder is changing: the encoder's controls
// wait.
func (p Phase) Busy() bool { return p == PhaseTraining || p == PhaseLoading || p == PhaseEmbedding }

// Busy reports whether the encoder is being made: its phase is busy, or a
// load waits for the worker's answer (with nothing to embed, the phase is
// none meanwhile). Train and the loads wait for it.
func (s *VerifyState) Busy() bool { return s.Phase.Busy() || s.unloaded != nil }

// Live reports whether the page scores frames: the encoder is ready, or
// it was when a server model's fetch began (FetchModel) and its
// templates are still of the gallery. The worker keeps that encoder until
// the file arrives (ModelFetched, which forgets the latest probe when it
// loads it), and answers a probe sent meanwhile before the load: a probe
// answered once the load began is of the encoder before and is dropped.
func (s *VerifyState) Live() bool {
	return s.Phase == PhaseReady || (s.Phase == PhaseLoading && s.beforeLoad == PhaseReady && !s.restale)
}

// Out is what a transition of VerifyState asks the page to do: the
// commands to post to the trainer's worker, in order, whether to write
// the gallery to IndexedDB, and whether to set the record there aside
// first (saveGallery), for one the page could not restore; and to keep
// the encoder there beside it (Keep, its record: saveRecord), or to
// delete the one kept (Forget), as the encoder it holds was replaced or
// could not be restored; to keep the threshold set by hand on it
// (KeepThreshold, its record) or to delete it (ForgetThreshold); and to
// keep the false accept rate chosen (KeepFAR) or to delete a record of it
// that cannot be read (ForgetFAR); and to keep the name of the server's
// data set typed (KeepDataset). The state itself does no I/O.
type Out struct {
	Post            []string
	Store           bool
	Aside           bool
	Keep            []byte
	Forget          bool
	KeepThreshold   []byte
	ForgetThreshold bool
	KeepFAR         []byte
	ForgetFAR       bool
	KeepDataset     []byte
}

// and appends the requests of o to those of out: of a Keep and a Forget,
// the later one, and so of the threshold's and of the FAR's.
func (out Out) and(o Out) Out {
	out.Post = append(out.Post, o.Post...)
	out.Store = out.Store || o.Store
	out.Aside = out.Aside || o.Aside
	if o.Keep != nil || o.Forget {
		out.Keep, out.Forget = o.Keep, o.Forget
	}
	if o.KeepThreshold != nil || o.ForgetThreshold {
		out.KeepThreshold, out.ForgetThreshold = o.KeepThreshold, o.ForgetThreshold
	}
	if o.KeepFAR != nil || o.ForgetFAR {
		out.KeepFAR, out.ForgetFAR = o.KeepFAR, o.ForgetFAR
	}
	if o.KeepDataset != nil {
		out.KeepDataset = o.KeepDataset
	}
	return out
}

// VerifyState is everything the verify page shows, changed only by its
// transitions (each a method; those that need the worker or IndexedDB
// return an Out): the camera's state and the quality of its frames, the
// gallery of enrolled identities and the hold of the record button, the
// encoder (trained in the worker or loaded) and its phase, the templates
// and the calibration of the threshold from the enrollments, the live 1:1
// and 1:k scores, and the upload to the server. It is plain Go, tested
// natively; the page (Verify) and its panels draw it.
type VerifyState struct {
	Input     face.Input // the snapshots' shape: the camera's crops and the gallery's
	Encoder   face.Input // the encoder's input (zero without one): crops are resized to it
	Snapshots int        // snapshots a hold takes

	// The camera.
	Camera      string // one of the Camera* states
	CameraWords string // why there is no camera, in words
	Detector    bool   // the face detector is ready
	DetectorErr string // why it could not start
	Quality     string // the latest frame's face.Quality in words, "–" before one
	FPS         float64
	fps         FPSMeter
	fpsShownAt  float64
	FPSChanged  bool // FPS was updated by the latest frame

	// Enrollment.
	Gallery   Gallery
	Name      string // the name the next hold records under
	Recording bool
	Recorded  int // snapshots of the current hold
	// RecordedLine says what the latest hold recorded, or the snapshot
	// deleted after it, for screen readers (#enroll-live): "recorded 8
	// snapshots of Ann Smith (2 identities, 14 snapshots)", "deleted a
	// snapshot of Ann Smith (2 identities, 13 snapshots)"; "" while a
	// hold is under way, before one, and after an import (Note says it).
	RecordedLine string
	Note         string
	// unread: IndexedDB's record was not restored (Restore): stores set it
	// aside first (Out.Aside) until one did (Stored).
	unread bool
	// UnreadKey is the IndexedDB key of that record when it is text, which
	// Download unread gallery saves as it is (DownloadKey): galleryKey
	// until it is set aside, then the key it is kept under; "" when there
	// is none.
	UnreadKey string
	// asiding counts the stores asked to set the unread record aside
	// that have not answered (Stored): until one has, the record may be
	// at galleryKey or set aside already.
	asiding int
	// stored is the gallery the record at galleryKey holds as far as the
	// page knows, the one it restored or stored last, and storedSum that
	// record's sum (recordSum; "": none): a store writes only over that
	// record (saveGallery), and one another tab stored since is merged
	// with the page's changes to stored (Contested).
	stored    Gallery
	storedSum string
	// Aside lists the IndexedDB keys of the records set aside in earlier
	// visits (Listed), which the page offers to download or delete.
	Aside []string
	// restoring: the page asked IndexedDB for its gallery (Restoring) and
	// Restore has not answered; held: the gallery changed meanwhile, and
	// is stored once Restore has decided what to set aside.
	restoring, held bool

	// The encoder.
	Loss, Arch  string
	Dim, Epochs int
	Run         Run // the trainer's curves while training
	Phase       Phase
	Source      string // what the encoder is: "arcface trained here", "model file x"
	Models      []msg.ModelCard
	ModelID     string // the server's model chosen to load
	ModelNote   string
	hasEncoder  bool  // the worker holds an encoder, loaded or trained here
	beforeLoad  Phase // the phase FetchModel left, for a load that fails
	// unloaded is the encoder before the load the worker has not answered
	// yet (LoadModel), put back if the worker refuses the model; nil when
	// no load is pending.
	unloaded *encoderState
	// heldBack is the encoder IndexedDB kept, read while a load was under
	// way (a link's ?model=: RestoreEncoder): restored should that load
	// fail (restoreHeld), dropped once it takes.
	heldBack *heldRecords
	// starting: the worker was started and has not said yet that it
	// listens (its first message, state idle, which answers no load).
	starting bool
	embedded Gallery // the gallery the templates are of
	restale  bool    // the gallery changed while it was being embedded (or a server model fetched): embed it again
	// gallerySeq numbers the gallery's embeds and the loads (those with
	// nothing to embed too): the latest's ID is galleryID(gallerySeq),
	// and the answer to one asked again since (Unread) is dropped.
	gallerySeq int
	// reasked is the number of the gallery's embed that Unread sent again:
	// should its answer be unread too, it is not sent a third time.
	reasked int
	// unreadNote is the note Unread set, which goes once the page is no
	// longer busy (Receive): the answer it waited for came.
	unreadNote string
	// trained counts the crops the encoder was trained on, by identity
	// and crop (trainedKey); nil when it was loaded, not trained here.
	trained map[string]int
	// exporting: the worker was asked for the model file of the encoder
	// trained here, to keep it in IndexedDB (exported); false once it
	// answered, or a training or a failure dropped that encoder (a load
	// sent meanwhile is answered after it: exported).
	exporting bool
	// kept is the sum of the encoder's record in IndexedDB (recordSum),
	// which the record of a threshold set by hand on it names; "" until
	// it is kept.
	kept         string
	probes       []int // the embedded crops the encoder was not trained on, when it was trained here
	Names        []string
	EmbDim       int
	embs         []float32
	labels       []int
	templates    [][]float32
	Calib        face.Calibration
	FAR          float64
	Threshold    float64
	handSet      bool    // Threshold was set by hand (SetThreshold): calibrate leaves it
	modelThresh  float64 // the model's own recommended threshold, measured at FAR modelFAR (both 0: none, msg.HasThreshold)
	modelFAR     float64
	model        modelTraining // what the loaded model's file says it was trained on (zero for an encoder trained here): trainedOn
	probeSeq     int
	probePending bool
	faceSeenAt   float64 // the frame time of the latest good frame (Frame)
	verdict      held    // VerdictText, for screen readers (VerdictLine)
	probeWhy     held    // why the latest probe was refused (probeReason), for screen readers (ProbeLine)
	lastProbe    []float32
	ProbeNote    string // why the worker refused the latest probe, in one line; "" once one is scored
	Scored       int    // the number of the probe that Score and Ranked are of (probes are numbered from 1, one at a time); 0: none
	Claimed      int    // the claimed identity, an index of Names
	Score        float64
	HasScore     bool
	Ranked       []face.Match
	Best         int // Ranked's best identity in Names, −1: unknown
	Dataset      string
	Uploading    bool
	UploadNote   string
	// SentTo is the data set the last upload sent every snapshot to,
	// which the page offers to train on from the Jobs page (TrainLink);
	// "" after an upload that stopped, and while one is under way.
	SentTo        string
	uploadPending int    // crops of the upload under way
	uploadCopies  int    // snapshots of the upload under way left out as copies of others (StartUpload)
	uploadDataset string // the data set the upload under way goes to (Dataset may change meanwhile)
	datasetSet    bool   // Dataset was typed in this visit: a record of an earlier one, read late, does not replace it
	channel       string // the BroadcastChannel of the trainer panel's viewer
}

// NewVerifyState returns the page's state with the defaults: snapshots of
// face.SnapshotInput (1×64×64), 20 a hold, ArcFace on lenet-s at D = 16
// for 30 epochs (trained on the snapshots reduced to face.DefaultInput,
// 1×32×32), FAR 1%, uploads to the data set "webcam".
func NewVerifyState() VerifyState {
	in := face.SnapshotInput
	return VerifyState{
		Input: in, Snapshots: DefaultSnapshots,
		Camera: CameraOff, CameraWords: "camera off: press Start camera", Quality: "–",
		Gallery: NewGallery(in.Channels, in.Height, in.Width),
		Loss:    "arcface", Arch: "lenet-s", Dim: 16, Epochs: 30,
		Run: NewRun(verifyTrainer, "arcface"),
		FAR: DefaultFAR, Best: -1, Dataset: "webcam",
	}
}

// CameraStarted takes the outcome of asking for the camera: CameraOn, or
// the state and words of why there is none.
func (s *VerifyState) CameraStarted(state, words string) {
	s.Camera, s.CameraWords = state, words
}

// CameraEnded takes the end of the camera's stream after it was on
// (unplugged, switched off, its permission taken back): the page says
// so and offers Start camera again, and a hold under way ends with the
// snapshots it took. The live answers go with the face they were of, and
// the answer of a probe still in the worker, of a frame from before, is
// dropped (its number is passed).
func (s *VerifyState) CameraEnded() Out {
	s.Camera, s.CameraWords, s.Quality = CameraStopped, StoppedWords, "–"
	s.probeSeq, s.probePending = s.probeSeq+1, false
	s.forgetProbe()
	return s.Record(false)
}

// DetectorReady takes the face detector's start: ready, or why not.
func (s *VerifyState) DetectorReady(err error) {
	s.Detector, s.DetectorErr = err == nil, ""
	if err != nil {
		s.DetectorErr = "the face detector could not start: " + err.Error()
	}
}

// Frame takes one camera frame at now (milliseconds): the quality of its
// faces and, when q is face.OK, the aligned crop of its face (crop is
// only read during the call). While the record button is held a good
// frame is a snapshot; while the page is Live, it is also a probe for the
// live scores when none is pending. A hold ends at MaxGalleryCrops
// snapshots in the gallery, the most a stored gallery is restored with,
// and the note says so. Once no good frame has come for faceGoneAfter,
// the live answers go with the face they were of, and the answer of a
// probe still in the worker is dropped, as when the camera ends
// (CameraEnded); the next good frame is probed. It reports
// whether the page shows something new.
func (s *VerifyState) Frame(now float64, q face.Quality, crop []float32) (changed bool, out Out) {
	s.fps.Tick(now)
	s.FPSChanged = false
	if w := q.String(); w != s.Quality {
		s.Quality, changed = w, true
	}
	if now-s.fpsShownAt >= fpsShownEvery {
		s.fpsShownAt = now
		s.FPS = math.Round(10*s.fps.FPS()) / 10
		s.FPSChanged, changed = true, true
	}
	if s.verdict.take(s.VerdictText(), now) {
		changed = true
	}
	if s.probeWhy.take(s.probeReason(), now) {
		changed = true
	}
	if q != face.OK {
		if now-s.faceSeenAt >= faceGoneAfter && (s.lastProbe != nil || s.probePending || s.ProbeNote != "") {
			s.probeSeq, s.probePending = s.probeSeq+1, false
			s.forgetProbe()
			changed = true
		}
		return changed, out
	}
	s.faceSeenAt = now
	if s.Recording && s.Name != "" && s.Gallery.Count() >= MaxGalleryCrops {
		// A gallery of more would not be restored (UnmarshalStoredGallery
		// refuses it), and the next page would begin empty, the gallery
		// set aside by its first store: the hold ends.
		s.Note = fmt.Sprintf("the gallery holds %d snapshots, the most the page keeps: delete some to record more", MaxGalleryCrops)
		changed = true
		out = out.and(s.Record(false))
	}
	if s.Recording && s.Name != "" {
		s.Gallery.Add(s.Name, EncodeCrop(crop, s.Input.Channels, s.Input.Height, s.Input.Width))
		s.Recorded++
		changed = true
		if s.Recorded >= s.Snapshots {
			out = out.and(s.Record(false))
		}
	}
	if s.Live() && !s.probePending {
		s.probeSeq++
		s.probePending = true
		px := face.ResizeTo(nil, crop, s.Input, s.Encoder)
		out.Post = append(out.Post, SamplesCommand(verifyTrainer, msg.OpEmbed, nil,
			&msg.Samples{Channels: s.Encoder.Channels, Height: s.Encoder.Height, Width: s.Encoder.Width, Pixels: px},
			probeID(s.probeSeq), ""))
	}
	return changed, out
}

// held is a line that may change at each probe as screen readers are
// told of it: Line is the value taken at each frame once it has stayed
// the same for verdictHeldAfter of frame time ("" before).
type held struct {
	Line  string
	now   string // the value at the latest frame, and the frame time it has been so since
	since float64
}

// take takes the value v at frame time now, and makes it Line once it
// has stayed the same for verdictHeldAfter. It reports whether Line
// changed.
func (h *held) take(v string, now float64) bool {
	if v != h.now {
		h.now, h.since = v, now
	}
	if now-h.since < verdictHeldAfter || h.Line == v {
		return false
	}
	h.Line = v
	return true
}

// VerdictLine is the live verdict for screen readers (a live region,
// role=status): the verdict once it has held, with the identity claimed,
// "Ann Smith: accept", and "" when there is none ("–": no face, no
// encoder).
func (s *VerifyState) VerdictLine() string {
	if v := s.verdict.Line; v != "" && v != "–" {
		return s.ClaimedName() + ": " + v
	}
	return ""
}

// ProbeLine is why the probes are refused, for screen readers (a live
// region, role=status): "probes could not be embedded: …" once the
// same reason has held, and "" once probes are scored again or the face
// went. ProbeNote, drawn, numbers each probe and changes with each; a
// refusal between scored probes is not said, as a verdict that flips is
// not.
func (s *VerifyState) ProbeLine() string {
	if s.probeWhy.Line == "" {
		return ""
	}
	return "probes" + probeNotEmbedded + s.probeWhy.Line
}

// probeReason is the reason ProbeNote gives, without the probe's number;
// "" when there is none.
func (s *VerifyState) probeReason() string {
	_, why, _ := strings.Cut(s.ProbeNote, probeNotEmbedded)
	return why
}

// probeNotEmbedded joins a refused probe's number and the reason in
// ProbeNote.
const probeNotEmbedded = " could not be embedded: "

// SetName sets the name the next hold records under, as typed names are
// taken (identityName: trimmed, NFC).
func (s *VerifyState) SetName(name string) { s.Name = identityName(name) }

// CanRecord reports whether the record button works: a camera, a
// detector and a name.
func (s *VerifyState) CanRecord() bool { return s.Name != "" && s.Camera == CameraOn && s.Detector }

// Record starts (on) or ends a hold of the record button. A hold that took
// snapshots changes the gallery: it is stored, and embedded again when
// there is an encoder.
func (s *VerifyState) Record(on bool) Out {
	if on == s.Recording {
		return Out{}
	}
	s.Recording = on
	if on {
		s.Recorded, s.RecordedLine = 0, ""
		return Out{}
	}
	if s.Name != "" { // a hold records under the name (Frame), which the button asks for (CanRecord)
		s.RecordedLine = "recorded " + msg.Plural(s.Recorded, "snapshot", "snapshots") + " of " + s.Name +
			" (" + EnrollCount(len(s.Gallery.Identities), s.Gallery.Count()) + ")"
	}
	if s.Recorded == 0 {
		return Out{}
	}
	return s.galleryChanged()
}

// DeleteCrop deletes crop j of identity i, and says so on the screen
// readers' line of the enrollment (RecordedLine), with the counts after.
func (s *VerifyState) DeleteCrop(i, j int) Out {
	what := "a snapshot of "
	if i >= 0 && i < len(s.Gallery.Identities) { // else Delete panics
		id := s.Gallery.Identities[i]
		if len(id.Crops) == 1 {
			what = "the last snapshot of "
		}
		what += id.Name
	}
	s.Gallery.Delete(i, j)
	s.RecordedLine = "deleted " + what + " (" + EnrollCount(len(s.Gallery.Identities), s.Gallery.Count()) + ")"
	return s.galleryChanged()
}

// DeleteSnapshot deletes a snapshot of identity name whose crop is crop,
// as a click on its thumbnail names it, and nothing when there is none
// (Gallery.Find): a click handled before the page drew the gallery again
// (a second click on a thumbnail, one after an import) named the crop by
// a place since taken by another, or by none, and Gallery.Delete
// panicked, which stopped the page.
func (s *VerifyState) DeleteSnapshot(name, crop string) Out {
	i, j, ok := s.Gallery.Find(name, crop)
	if !ok {
		return Out{}
	}
	return s.DeleteCrop(i, j)
}

// RemoveIdentity removes identity name with all its snapshots, as its
// "Remove <name>" asks (the page confirms first), and says so on the
// screen readers' line of the enrollment (RecordedLine), with the counts
// after; nothing when there is none (a click drawn before another tab's
// gallery came). It is stored and embedded again as a deletion is
// (galleryChanged): over the record the page read, or made to another
// tab's (Contested).
func (s *VerifyState) RemoveIdentity(name string) Out {
	i := slices.IndexFunc(s.Gallery.Identities, func(id Identity) bool { return id.Name == name })
	if i < 0 {
		return Out{}
	}
	n := len(s.Gallery.Identities[i].Crops)
	s.Gallery.Remove(i)
	s.RecordedLine = "removed " + name + " and " + msg.Plural(n, "snapshot", "snapshots") +
		" (" + EnrollCount(len(s.Gallery.Identities), s.Gallery.Count()) + ")"
	return s.galleryChanged()
}

// Restoring takes the page's asking IndexedDB for the gallery it kept:
// until Restore answers, a change of the gallery is not stored (held),
// as a store would write over a record the page has not read.
func (s *VerifyState) Restoring() { s.restoring = true }

// Restore takes the gallery IndexedDB kept (ok false: none; err, which
// the note says: it could not be read, see loadGallery), and crops
// snapshots to its shape from then on (one kept before the page's
// snapshots grew to face.SnapshotInput holds 1×32×32 crops), unless it is
// empty or the page cannot crop so (the note says why it was not
// restored); an identity without snapshots is left out
// (UnmarshalStoredGallery). A note that quotes the record is one line
// (msg.ErrorLine). A record that is not restored, or that IndexedDB did
// not give, is set aside by the page's first store (Out.Aside, Stored),
// and the note says so (storedKept); one of text can be downloaded as it
// is (UnreadKey). An encoder loaded before it arrived embeds it.
//
// A gallery the user recorded or imported before Restore answered
// (Restoring) stays, as an import would replace the gallery restored and
// a hold was of the gallery shown: it is stored now, and a record there
// is not restored but set aside, the user never having seen it.
func (s *VerifyState) Restore(data string, ok bool, err error) Out {
	held := s.held
	s.restoring, s.held = false, false
	switch {
	case err != nil:
		s.Note = err.Error()
		s.unread = true
	case !ok:
	default:
		g, err := UnmarshalStoredGallery([]byte(data))
		if err != nil {
			s.Note = msg.ErrorLine("the stored gallery could not be read: " + err.Error() + storedKept)
			s.unread, s.UnreadKey = true, galleryKey
			break
		}
		if g.Count() == 0 {
			s.stored, s.storedSum = g, recordSum([]byte(data))
			break
		}
		if err := validCrop(g.Shape()); err != nil {
			s.Note = "the stored gallery was not restored: " + err.Error() + storedKept
			s.unread, s.UnreadKey = true, galleryKey
			break
		}
		if held {
			s.Note = "the stored gallery, " + EnrollCount(len(g.Identities), g.Count()) + ", was read after you recorded or imported one, and was not restored" + storedKept
			s.unread, s.UnreadKey = true, galleryKey
			break
		}
		s.Input, s.Gallery = g.Shape(), g
		s.stored, s.storedSum = g.clone(), recordSum([]byte(data))
		out := s.galleryChanged()
		out.Store = false // it came from there
		return out
	}
	if held {
		return s.store()
	}
	return Out{}
}

// storedKept ends the note of a stored gallery that was not restored (one
// of a newer page, say): the page stores its gallery when it changes
// (galleryChanged), which only the user's hold, deletion or import does,
// and the first such store sets the record aside before it writes.
const storedKept = "; it is kept: recording or importing a gallery sets it aside in this browser's storage, where the page never writes, rather than replacing it"

// notStored begins the note of a store that failed (Stored).
const notStored = "the gallery could not be stored: "

// Stored takes the end of a store (Out.Store): err, why it failed, which
// the note says; or, for a store that set a record aside (Out.Aside),
// aside, the key the record is kept under, which the note names ("" when
// there was no record: none is left to download). A store that failed
// wrote nothing: the next sets the record aside again, and, writing the
// whole gallery, takes the failure's note away. Every store answers
// here, failed or not (DownloadKey waits for those asked to set a record
// aside).
func (s *VerifyState) Stored(aside string, err error) {
	if s.unread {
		s.asiding-- // every store asked while the record is unread sets it aside
	}
	if err == nil && strings.HasPrefix(s.Note, notStored) {
		s.Note = ""
	}
	switch {
	case err != nil:
		s.Note = notStored + err.Error()
	case s.unread:
		s.unread, s.asiding = false, 0 // those still in flight find it set aside, or gone
		if aside == "" {
			s.UnreadKey = "" // galleryKey holds the page's gallery now
			return
		}
		s.Note = "the stored gallery that was not restored is set aside in this browser's IndexedDB (database " + galleryDB + ", store " + galleryStore + ", key " + aside + "), where the page never writes"
		if s.UnreadKey != "" {
			s.UnreadKey = aside
			s.Note += ": Download unread gallery saves it as it is"
		}
	}
}

// StoreExpects is the sum of the record a store of the gallery writes
// over (saveGallery's expect): the one the page restored or stored last;
// "" for none.
func (s *VerifyState) StoreExpects() string { return s.storedSum }

// Synced takes a store that wrote g, the record of sum, at galleryKey:
// the record the next store writes over.
func (s *VerifyState) Synced(g Gallery, sum string) { s.stored, s.storedSum = g, sum }

// Contested takes a store that wrote nothing, having found at galleryKey
// a record other than the one the page restored or stored last: another
// tab stored it since (data, ok false: none, err: it is not text, as
// loadGallery gives a record). The page's changes since (to stored) are
// made to it (MergeGallery): the snapshots recorded or imported here are
// added, those deleted here deleted, the other tab's changes kept; the
// gallery becomes that, is stored over the other tab's record and
// embedded again, and the note says so. A record that cannot be merged
// (unread, of crops of another shape, too many) is set aside before the
// page's gallery is stored, as one that could not be restored, and the
// note says why. Before, the page wrote its gallery over the other tab's:
// people enrolled there, and deletions made there, were lost.
func (s *VerifyState) Contested(data string, ok bool, err error) Out {
	theirs := Gallery{}
	if err == nil && ok {
		theirs, err = UnmarshalStoredGallery([]byte(data))
	}
	merged, mergeable := Gallery{}, false
	if err == nil {
		merged, mergeable = MergeGallery(s.stored, s.Gallery, theirs)
		if mergeable && merged.Count() > 0 {
			if verr := validCrop(merged.Shape()); verr != nil {
				err, mergeable = verr, false
			}
		}
		switch {
		case err != nil || mergeable:
		case theirs.Count() > 0 && theirs.Shape() != s.Gallery.Shape():
			err = fmt.Errorf("its crops are of %s, this page's of %s", ShapeText(theirs.Shape()), ShapeText(s.Gallery.Shape()))
		default:
			err = fmt.Errorf("the two hold more than %d snapshots", MaxGalleryCrops)
		}
	}
	if !mergeable {
		s.Note = msg.ErrorLine("another tab stored a gallery this page cannot add its changes to: " + err.Error() + "; it is set aside, as it is, and this page's gallery stored")
		s.unread = true
		if !errors.As(err, new(recordTypeError)) {
			s.UnreadKey = galleryKey
		}
		return s.store()
	}
	s.stored, s.storedSum = theirs, ""
	if ok {
		s.storedSum = recordSum([]byte(data))
	}
	s.Gallery = merged // its own: MergeGallery makes every identity anew
	if merged.Count() > 0 {
		s.Input = merged.Shape()
	}
	s.Note = "another tab changed the stored gallery: this page's changes are made to it, " + EnrollCount(len(merged.Identities), merged.Count())
	s.RecordedLine = ""
	return s.galleryChanged()
}

// StoredElsewhere takes the record at galleryKey that the page read
// when another tab said it stored the gallery (galleryChannel; data, ok
// false: none, err: it could not be read, as loadGallery gives one). A
// record other than the one the page restored or stored last becomes the
// gallery shown, with this page's changes not yet stored made to it
// (MergeGallery: a hold under way, a store that failed), and is embedded
// again; those changes are stored, but a hold's, which its end stores.
// The note says so. The page asks only between its own stores (a store
// under way finds the record itself: Contested). Nothing while the page
// restores its gallery, or holds one it could not restore (its next
// store sets the record aside), nor for a record that cannot be read or
// merged: the page's next store finds it, and says why (Contested).
func (s *VerifyState) StoredElsewhere(data string, ok bool, err error) Out {
	if s.restoring || s.unread || err != nil {
		return Out{}
	}
	sum, theirs := "", Gallery{}
	if ok {
		sum = recordSum([]byte(data))
		if theirs, err = UnmarshalStoredGallery([]byte(data)); err != nil {
			return Out{}
		}
	}
	if sum == s.storedSum {
		return Out{}
	}
	merged, mergeable := MergeGallery(s.stored, s.Gallery, theirs)
	if !mergeable || (merged.Count() > 0 && validCrop(merged.Shape()) != nil) {
		return Out{}
	}
	s.stored, s.storedSum = theirs, sum
	s.Gallery = merged
	if merged.Count() > 0 {
		s.Input = merged.Shape()
	}
	s.Note = "another tab changed the stored gallery: " + EnrollCount(len(merged.Identities), merged.Count())
	out := s.galleryChanged()
	out.Store = out.Store && !s.Recording && !sameCrops(merged, theirs)
	return out
}

// Listed takes the keys of the records set aside in earlier visits that
// IndexedDB holds (listAside), as the page opened.
func (s *VerifyState) Listed(keys []string) { s.Aside = keys }

// Deleted takes the end of the deletion of the record set aside under key
// (deleteGallery): err, why it failed, which the note says; else the key
// is no longer listed, nor the failure of an earlier deletion of it.
func (s *VerifyState) Deleted(key string, err error) {
	failed := key + " could not be deleted: "
	if err != nil {
		s.Note = failed + err.Error()
		return
	}
	if strings.HasPrefix(s.Note, failed) {
		s.Note = ""
	}
	s.Aside = slices.DeleteFunc(slices.Clone(s.Aside), func(k string) bool { return k == key })
}

// NotDownloaded takes a record set aside in an earlier visit that was not
// downloaded (loadGallery): err, why, which the note says; a record that
// is not text (recordTypeError) cannot be saved as a file, and one no
// longer stored (err nil: another tab deleted it) is no longer listed.
func (s *VerifyState) NotDownloaded(key string, err error) {
	var notText recordTypeError
	switch {
	case errors.As(err, &notText):
		s.Note = fmt.Sprintf("%s is a record of type %s, not text: the page cannot save it as a file (the browser's developer tools show it)", key, notText.T)
	case err != nil:
		s.Note = key + " could not be downloaded: " + err.Error()
	default:
		s.Note = key + " is no longer stored"
		s.Deleted(key, nil)
	}
}

// ReadGallery reads the gallery file b to import (or says why it cannot
// be imported: err is the file's reading; a file that is no gallery of
// the page's version, or of crops the page cannot make, is refused), for
// Import. The page reads it before it asks whether to replace its
// gallery (importGallery), so that a file it refuses asks nothing.
func ReadGallery(b []byte, err error) (Gallery, error) {
	if err != nil {
		return Gallery{}, err
	}
	g, err := UnmarshalGallery(b)
	if err != nil {
		return Gallery{}, err
	}
	if err := validCrop(g.Shape()); err != nil {
		return Gallery{}, err
	}
	return g, nil
}

// Import replaces the gallery by g, a gallery file's (ReadGallery), or
// says why it cannot (err), in a note of one line however long the name
// it quotes (msg.ErrorLine).
func (s *VerifyState) Import(g Gallery, err error) Out {
	if err != nil {
		s.Note = msg.ErrorLine("the gallery could not be imported: " + err.Error())
		return Out{}
	}
	s.Input, s.Gallery = g.Shape(), g // snapshots are cropped as the file's from now on
	s.Note = "imported " + EnrollCount(len(g.Identities), g.Count())
	s.RecordedLine = "" // the note says it; the counts of a hold or a deletion no longer hold
	return s.galleryChanged()
}

// SetEncoder sets the setting key ("loss", "dim" or "epochs") of the
// encoder to train; a value out of range is ignored.
func (s *VerifyState) SetEncoder(key, value string) {
	if s.Phase.Busy() {
		return
	}
	switch key {
	case "loss":
		for _, n := range LossNames() {
			if n == value {
				s.Loss = value
			}
		}
	case "dim":
		if d, err := strconv.Atoi(value); err == nil && d >= msg.MinDim && d <= msg.MaxDim {
			s.Dim = d
		}
	case "epochs":
		if n, err := strconv.Atoi(value); err == nil && n >= 1 && n <= 500 {
			s.Epochs = n
		}
	}
}

// CanTrain reports whether Train would start: two identities at least, a
// worker, and an encoder that is not changing.
func (s *VerifyState) CanTrain(worker bool) bool {
	return worker && !s.Busy() && len(s.Gallery.Identities) >= 2
}

// Train starts training an encoder on the gallery in the worker.
func (s *VerifyState) Train() Out {
	g := s.Gallery.WithoutHeldOut(HeldOutShare)
	smp, err := g.Samples(face.DefaultInput)
	if err != nil {
		s.Note = err.Error()
		return Out{}
	}
	cfg := VerifyRequest(s.Loss, s.Arch, s.Dim, s.Epochs)
	cfg.Batch = verifyBatch(len(smp.Labels), len(smp.Classes))
	s.trained, s.model = map[string]int{}, modelTraining{}
	for _, id := range g.Identities {
		for _, c := range id.Crops {
			s.trained[trainedKey(id.Name, c)]++
		}
	}
	s.Run = NewRun(verifyTrainer, s.Loss)
	s.Run.State = msg.StateRunning
	s.Run.Request = &cfg // what the panel names its figures by (AccuracyTitle)
	s.Phase, s.probePending = PhaseTraining, false
	s.forgetProbe()
	s.ModelNote = "" // of a load before: the encoder is this training's
	hand := s.handSet
	s.handSet = false // a threshold of the encoder before: the new one's is calibrated
	s.Encoder = face.DefaultInput
	s.Source = s.Loss + " trained here"
	s.exporting, s.kept = false, "" // of the encoder before
	// The encoder kept in IndexedDB, and its threshold set by hand, are
	// the ones this training replaces: this one is kept once trained
	// (exported).
	return Out{Post: []string{SamplesCommand(verifyTrainer, msg.OpStart, &cfg, smp, "", s.channel)}, Forget: true, ForgetThreshold: hand}
}

// verifyBatch returns the batch of a training on n snapshots of k
// identities: 32, or the largest power of two left a full batch of after
// the trainer's own held-out images (a tenth, but at least two of an
// identity of five or more: at most n/10 + 2k), 2 at least.
func verifyBatch(n, k int) int {
	b := 32
	for b > 2 && n-n/10-2*k < b {
		b /= 2
	}
	return b
}

// trainedKey is the key of a crop of identity name in
// VerifyState.trained: a crop counts as trained on only for its own
// identity. The crop is named by the SHA-256 of its data URL, in hex, so
// that the encoder's record (StoredEncoder) does not hold the gallery's
// crops again.
func trainedKey(name, crop string) string {
	sum := sha256.Sum256([]byte(crop))
	return name + "\x00" + hex.EncodeToString(sum[:])
}

// VerifyRequest returns the training configuration of the verify page: the
// enrollments, arch, loss, dimension, epochs, batch 32, Adam at 0.01,
// seed 1.
func VerifyRequest(loss, arch string, dim, epochs int) msg.TrainRequest {
	return msg.TrainRequest{Data: msg.DataEnrolled, Arch: arch, Loss: loss, Dim: dim, Epochs: epochs, Batch: 32, LR: 0.01, Opt: "adam", Seed: 1}
}

// SetModels takes the server's registry (an error leaves the list empty:
// a page without a server verifies with its own encoders).
func (s *VerifyState) SetModels(cards []msg.ModelCard, err error) {
	if err != nil {
		return
	}
	s.Models = cards
	// The first model (none of an empty list), unless one of the list is
	// chosen: an id the server does not have (a link's ?model= of a
	// deleted model) would stay chosen while the list shows another.
	if !slices.ContainsFunc(cards, func(c msg.ModelCard) bool { return c.ID == s.ModelID }) {
		s.ModelID = ""
		if len(cards) > 0 {
			s.ModelID = cards[0].ID
		}
	}
}

// ModelName names the server's model id as its list does (modelName),
// or by its id alone when the list does not have it (a link's ?model=
// fetched before the list was read).
func (s *VerifyState) ModelName(id string) string { return modelNameIn(s.Models, id) }

// modelNameIn names model id by its card in cards (modelName), or by its
// id alone when cards do not have it.
func modelNameIn(cards []msg.ModelCard, id string) string {
	if i := slices.IndexFunc(cards, func(c msg.ModelCard) bool { return c.ID == id }); i >= 0 {
		return modelName(cards[i])
	}
	return id
}

// modelName names a server model by its name with its id (two may share a
// name), or by its id alone when it has no name.
func modelName(c msg.ModelCard) string {
	if c.Name == "" {
		return c.ID
	}
	return c.Name + " (" + c.ID + ")"
}

// SelectModel chooses the server's model id to load.
func (s *VerifyState) SelectModel(id string) { s.ModelID = id }

// LinkModel chooses the server's model id that a link names (?model=),
// and reports whether to fetch it (FetchModel). While the encoder is busy
// (Busy: a Back to the link during a training) it is not loaded, and
// ModelNote says so, as LoadModel says of a file: Load from server loads
// it once the encoder is free.
func (s *VerifyState) LinkModel(id string) (fetch bool) {
	s.SelectModel(id)
	if s.Busy() && id != "." && id != ".." { // FetchModel refuses those, and says why
		s.ModelNote = msg.ErrorLine("server model " + s.ModelName(id) + " was not loaded: " + s.busyWords() + "; load it again after that")
		return false
	}
	return true
}

// FetchModel starts the load of the chosen server model: it returns its
// id for the page to fetch, and false when there is none or the encoder
// is busy. An id of "." or ".." (a link's ?model=) is refused, and
// ModelNote says so: url.PathEscape keeps it, and the browser would
// resolve the dot segment of /api/models/../file to another path
// (/api/file).
func (s *VerifyState) FetchModel() (string, bool) {
	if s.ModelID == "." || s.ModelID == ".." {
		s.ModelNote = fmt.Sprintf("server model %q was not loaded: no model has that id", s.ModelID)
		return "", false
	}
	if s.ModelID == "" || s.Busy() {
		return "", false
	}
	s.beforeLoad, s.Phase = s.Phase, PhaseLoading
	return s.ModelID, true
}

// encoderState is what LoadModel changes of the page's encoder before the
// worker says whether the load took.
type encoderState struct {
	encoder        face.Input
	phase          Phase
	source         string
	hasEncoder     bool
	trained        map[string]int
	run            Run
	embedded       Gallery
	labels, probes []int
	restale        bool
	handSet        bool
	kept           string
	training       modelTraining
	model          []byte // the model file of the load, sent again when its answer may be lost (Unread)
	// stored: the load is of the encoder IndexedDB kept (RestoreEncoder),
	// not kept again when it takes, deleted there when it is refused.
	stored bool
}

func (s *VerifyState) encoderState() *encoderState {
	return &encoderState{s.Encoder, s.Phase, s.Source, s.hasEncoder, s.trained, s.Run, s.embedded, s.labels, s.probes, s.restale, s.handSet, s.kept, s.model, nil, false}
}

func (s *VerifyState) putBack(e *encoderState) {
	s.Encoder, s.Phase, s.Source, s.hasEncoder, s.trained, s.Run = e.encoder, e.phase, e.source, e.hasEncoder, e.trained, e.run
	s.embedded, s.labels, s.probes, s.restale, s.handSet, s.kept, s.model = e.embedded, e.labels, e.probes, e.restale, e.handSet, e.kept, e.training
}

// LoadModel makes the model file b (or err, why it could not be read)
// the encoder, described as what, and embeds the gallery with it: the
// snapshots are resized to the model's input (ModelInput). A file whose
// input cannot be read (the worker would refuse it too), a model of an
// input the page cannot make, or a load that fails leaves the encoder and
// its phase as they were, and ModelNote says why, naming what (one line:
// msg.ErrorLine of the file's words). While the encoder is
// busy (Busy: a file picked before Train was clicked and read after it),
// the file is not loaded and ModelNote says so, as FetchModel waits.
func (s *VerifyState) LoadModel(b []byte, err error, what string) Out {
	if s.Busy() {
		s.ModelNote = msg.ErrorLine(what + " was not loaded: " + s.busyWords() + "; load it again after that")
		return Out{}
	}
	return s.load(b, err, what, nil)
}

// ModelFetched takes the answer to FetchModel, the file of the server's
// model (or err, why it could not be fetched), and loads it as LoadModel
// does. A fetch that a crash of the worker overtook (the phase is no
// longer loading) is a load like a file's, refused while the encoder is
// busy. A gallery changed during the fetch is embedded again by the
// encoder that stays when the model is not loaded, and a stored encoder
// held back during the fetch (a link's ?model=: RestoreEncoder) is
// restored.
func (s *VerifyState) ModelFetched(b []byte, err error, what string) Out {
	var out Out
	if s.Phase != PhaseLoading {
		out = s.LoadModel(b, err, what)
	} else {
		s.Phase = s.beforeLoad
		out = s.load(b, err, what, nil)
		if s.unloaded == nil && s.restale && s.hasEncoder { // not loaded: the gallery changed during the fetch
			out = out.and(s.embedGallery())
		}
	}
	if s.unloaded == nil { // not loaded: the stored encoder held back while it loaded comes back
		out = out.and(s.restoreHeld())
	}
	return out
}

// busyWords says what keeps the encoder busy, for ModelNote.
func (s *VerifyState) busyWords() string {
	switch s.Phase {
	case PhaseTraining:
		return "a training is under way"
	case PhaseLoading:
		return "a server model is loading"
	case PhaseEmbedding:
		if s.unloaded == nil {
			return "the enrollments are being embedded"
		}
	}
	return "another model is loading"
}

// load is LoadModel once the encoder may change, of an encoder trained
// on the crops trained (nil: not trained here), named what, on one line
// as the notes are, its control and bidirectional characters as spaces
// (msg.ErrorLine), and at most msg.MaxCardText characters (msg.Shorten).
// The encoder is kept in IndexedDB once the worker took it (took).
func (s *VerifyState) load(b []byte, err error, what string, trained map[string]int) Out {
	if err != nil {
		s.ModelNote = msg.ErrorLine(what + " could not be read: " + err.Error())
		return Out{}
	}
	in, err := ModelInput(b)
	if err != nil { // the worker (core.DecodeModel) would refuse it too: the encoder stays
		s.ModelNote = msg.ErrorLine(what + " could not be loaded: " + err.Error())
		return Out{}
	}
	if err := validCrop(in); err != nil {
		s.ModelNote = msg.ErrorLine(what + " could not be loaded: it takes " + err.Error())
		return Out{}
	}
	prev := s.encoderState()
	prev.model = b
	s.forgetProbe()
	s.Encoder = in
	s.ModelNote, s.Source = "", msg.Shorten(msg.ErrorLine(what), msg.MaxCardText)
	s.trained, s.hasEncoder, s.handSet, s.kept = trained, true, false, ""
	s.model = modelTraining{}
	if trained == nil {
		s.model = readModelTraining(b)
	}
	s.Run = NewRun(verifyTrainer, s.Loss)
	s.Run.State = msg.StateIdle
	smp, id := s.gallerySamples() // the phase: embedding, or none with nothing to embed
	s.unloaded = prev
	return Out{Post: []string{LoadCommand(verifyTrainer, b, smp, id)}}
}

// WorkerStarted takes the start of a new worker: its first message says
// that it listens, whatever the page posted meanwhile.
func (s *VerifyState) WorkerStarted() { s.starting = true }

// Unread takes a message of the worker that the browser could not
// deserialise (errUnreadMessage), or that the page could not read
// (DecodeMessage's err): the note says so. Which message it was
// is not known: were it the latest probe's answer, the probe would wait
// for good, so the next good frame is probed, as after an answer the page
// cannot read (embedUnread); a late answer of this probe is then of one
// since replaced, and dropped. Were it the gallery's embeddings, the
// gallery is embedded again under the next number (a load that embeds it
// is sent again: the same file is loaded, or refused, as it was), and a
// late answer of the one before is dropped as a stale probe's is; so is a
// load with nothing to embed, which the worker answers with the state
// idle of the load's number. Once only: a worker whose every answer the
// page cannot read (of another schema version) would be asked for good;
// were the answer of the one sent again lost too, the page would wait for
// good, so the note says to reload the page should it stay busy, as it
// does during a training, whose end (done, or its failure) it may have
// been.
func (s *VerifyState) Unread(err error) Out {
	s.Note = err.Error()
	s.unreadNote = s.Note
	s.probePending = false
	s.starting = false // were it a new worker's first message, that one has come
	again := (s.Phase == PhaseEmbedding || s.unloaded != nil) && s.reasked != s.gallerySeq
	switch {
	case again && s.unloaded != nil:
		s.unloaded.restale = s.unloaded.restale || s.restale // for the encoder put back, should the load be refused
		smp, id := s.gallerySamples()
		s.reasked = s.gallerySeq
		return Out{Post: []string{LoadCommand(verifyTrainer, s.unloaded.model, smp, id)}}
	case again:
		out := s.embedGallery()
		s.reasked = s.gallerySeq
		return out
	case s.unloaded != nil || s.Phase == PhaseEmbedding || s.Phase == PhaseTraining: // a training's end cannot be asked for again
		s.Note += "; if the page stays busy, it was the answer it waits for: reload the page"
		s.unreadNote = s.Note
	}
	return Out{}
}

// Receive takes a message of the worker: embeddings (of the gallery: the
// templates and the calibration; of the latest probe: the live scores),
// the refusal of a probe (probeRefused: the encoder stays), the export
// of the encoder trained here (exported) or its refusal (the encoder
// stays, not kept, and the note says so), or the trainer's state and
// progress; at the end of training the gallery is embedded and the
// encoder's model file asked for, to keep it in IndexedDB. The note of an
// unread message (Unread) goes once the page is no longer busy: the
// answer it waited for came.
func (s *VerifyState) Receive(data string) Out {
	if s.Busy() {
		defer func() {
			if !s.Busy() && s.Note == s.unreadNote {
				s.Note = ""
			}
		}()
	}
	starting := s.starting
	s.starting = false
	e, ok, err := DecodeEmbeddings(data)
	switch {
	case err != nil && ok: // embeddings without whole N×D values
		return s.embedUnread(data, err)
	case err != nil: // a message JSON cannot read: it may have been the probe's or the gallery's answer
		return s.Unread(err)
	}
	if ok {
		return s.embeddings(e)
	}
	m, err := DecodeMessage(data)
	if err != nil {
		s.Note = err.Error()
		return Out{}
	}
	if m.Type == msg.TypeError && strings.HasPrefix(m.ID, probePrefix) {
		s.probeRefused(m.ID, m.Error)
		return Out{}
	}
	if m.Type == msg.TypeExport {
		return s.exported(m.Export)
	}
	if m.Type == msg.TypeError && m.ID == exportID {
		// The encoder stays, in the page only.
		if s.exporting {
			s.exporting, s.Note = false, notKept+m.Error
		}
		return Out{}
	}
	if strings.HasPrefix(m.ID, galleryPrefix) && m.ID != galleryID(s.gallerySeq) {
		// The refusal of a gallery's embed or load since asked again, or
		// the state idle that says such a load without samples took.
		return Out{}
	}
	ready := starting && m.Type == msg.TypeState // the worker listens: no load's answer
	if err := s.Run.Apply(m); err != nil {
		s.Note = err.Error()
		return Out{}
	}
	switch {
	case m.Type == msg.TypeError && s.unloaded != nil && m.ID == galleryID(s.gallerySeq):
		// The worker refused the model and kept its encoder: so does the
		// page. A probe sent before has been answered (or is dropped by
		// its number); a gallery changed meanwhile is embedded now. An
		// error of no ID is not the load's: the worker stopped
		// (web/trainer.js says so), holding no encoder.
		stale := s.restale || s.unloaded.restale // changed during the load, or during its fetch
		// Named, as load's notes name it: "the model" would read as the
		// one that stays.
		why, _ := strings.CutPrefix(m.Error, "the model could not be loaded: ")
		s.ModelNote = msg.ErrorLine(s.Source + " could not be loaded: " + why)
		var out Out
		if s.unloaded.stored {
			s.ModelNote = msg.ErrorLine(storedDropped + s.ModelNote)
			out.Forget, out.ForgetThreshold = true, true
		}
		run := s.Run
		s.putBack(s.unloaded)
		if s.Run.State == msg.StateFailed || s.Run.State == StateCrashed {
			s.Run = run // of a worker or a training before, which this answer is not: no encoder, the note says why
		}
		s.unloaded, s.probePending, s.restale = nil, false, false
		if stale && s.hasEncoder {
			out = out.and(s.embedGallery())
		}
		return out.and(s.restoreHeld())
	case m.Type == msg.TypeError:
		// An error but a load's or a probe's (the gallery's embedding
		// refused, a training that failed, the worker that stopped)
		// leaves the page without an encoder, and the run failed with
		// it: the embed's error comes with no state.
		s.dropEncoder()
		s.Run.State = msg.StateFailed
	case m.Type == msg.TypeState && s.unloaded != nil && !ready:
		out := s.took() // no gallery was embedded with it
		if s.restale {
			s.restale = false
			out = out.and(s.embedGallery())
		}
		return out
	case s.Phase == PhaseTraining && s.Run.State == msg.StateDone:
		// The worker's model file, to keep in IndexedDB, once the
		// gallery is embedded.
		s.hasEncoder, s.exporting = true, true
		out := s.embedGallery()
		out.Post = append(out.Post, marshalCommand(verifyTrainer, &msg.Command{Op: msg.OpExport, ID: exportID}))
		return out
	}
	return Out{}
}

// took ends the load the worker has answered: it took, and the encoder is
// kept in IndexedDB (Out.Keep) unless it came from there, the threshold
// set by hand on the one before deleted.
func (s *VerifyState) took() Out {
	u := s.unloaded
	s.unloaded, s.heldBack = nil, nil // the encoder held back is replaced in IndexedDB too
	if u == nil || u.stored {
		return Out{}
	}
	rec := encoderRecord(s.Source, s.trained, u.model)
	s.kept = recordSum(rec)
	return Out{Keep: rec, ForgetThreshold: u.handSet}
}

// exported takes the model file the worker exported at the end of a
// training: the encoder trained here is kept in IndexedDB (Out.Keep). The
// export of an encoder since replaced by a training is dropped. A load
// sent since is answered after it (the worker answers in order): the
// encoder trained here is kept, as the one that stays should the worker
// refuse the load, and the load's replaces it once it takes (took). A
// threshold set by hand on it before the export came is kept with it.
func (s *VerifyState) exported(e *msg.Export) Out {
	if !s.exporting || e == nil || len(e.Model) == 0 {
		return Out{}
	}
	s.exporting = false
	if u := s.unloaded; u != nil {
		rec := encoderRecord(u.source, u.trained, e.Model)
		u.kept = recordSum(rec)
		return Out{Keep: rec, KeepThreshold: handRecord(u.handSet, u.kept, s.Threshold)}
	}
	rec := encoderRecord(s.Source, s.trained, e.Model)
	s.kept = recordSum(rec)
	return Out{Keep: rec, KeepThreshold: handRecord(s.handSet, s.kept, s.Threshold)}
}

// handRecord returns the IndexedDB record of the threshold t set by hand
// on the encoder of the record of sum kept; nil when it was not set by
// hand, or the encoder is not kept.
func handRecord(handSet bool, kept string, t float64) []byte {
	if !handSet || kept == "" {
		return nil
	}
	return MarshalStoredThreshold(StoredThreshold{Version: ThresholdVersion, Encoder: kept, Threshold: t})
}

// exportID is the ID of the export of an encoder trained here, which
// the worker's refusal of it carries.
const exportID = "export"

// encoderRecord returns the IndexedDB record of the encoder named
// source, trained on the crops trained (nil: not trained here), of the
// model file model.
func encoderRecord(source string, trained map[string]int, model []byte) []byte {
	return MarshalStoredEncoder(StoredEncoder{Version: EncoderVersion, Source: source, Model: model, Trained: trained})
}

// storedDropped begins the model note of an encoder IndexedDB kept that
// the page could not restore, and deleted there (RestoreEncoder).
const storedDropped = "the stored encoder was dropped: "

// heldRecords are the records of the encoder IndexedDB kept and of the
// threshold set by hand on it, as RestoreEncoder and RestoreThreshold
// took them.
type heldRecords struct {
	encoder string
	hand    string
	handOK  bool
	handErr error
}

// restoreHeld restores the encoder held back (heldBack) once the load it
// waited for did not take; the model note says why that load failed, and
// then why the one held back did, if it did.
func (s *VerifyState) restoreHeld() Out {
	h := s.heldBack
	s.heldBack = nil
	if h == nil {
		return Out{}
	}
	note := s.ModelNote
	out := s.RestoreEncoder(h.encoder, true, nil)
	out = out.and(s.RestoreThreshold(h.hand, h.handOK, h.handErr))
	if note != "" && s.ModelNote != "" {
		s.ModelNote = note + "; " + s.ModelNote
	} else if note != "" {
		s.ModelNote = note
	}
	return out
}

// RestoreEncoder takes the encoder IndexedDB kept beside the gallery (ok
// false: none; err: it could not be read, see loadGallery), once the
// gallery is restored (Restore), and loads it as LoadModel loads a file,
// under its name as it was (Source) and, when it was trained here, with
// the snapshots it was trained on, so that it is calibrated on the
// others, as it was. A record that cannot be read, or whose model the
// page or the worker refuses, is deleted (Out.Forget), and the model
// note says so in one line; the gallery stays. A record is not loaded
// once the page has an encoder or is making one: that one replaces it
// when it takes. One read while a load is under way (a link's ?model=)
// is held back, and restored should that load fail (restoreHeld). A
// failure of IndexedDB itself is Restore's note. The threshold set by
// hand on it comes after (RestoreThreshold), and is deleted with it.
func (s *VerifyState) RestoreEncoder(data string, ok bool, err error) Out {
	var notText recordTypeError
	switch {
	case errors.As(err, &notText):
		s.ModelNote = fmt.Sprintf(storedDropped+"a record of type %s, not JSON text", notText.T)
		return Out{Forget: true, ForgetThreshold: true}
	case err != nil || !ok:
		return Out{}
	case s.Phase == PhaseLoading || s.unloaded != nil:
		s.heldBack = &heldRecords{encoder: data}
		return Out{}
	case s.Busy() || s.hasEncoder:
		return Out{}
	}
	e, err := UnmarshalStoredEncoder([]byte(data))
	if err != nil {
		s.ModelNote = msg.ErrorLine(storedDropped + err.Error())
		return Out{Forget: true, ForgetThreshold: true}
	}
	out := s.load(e.Model, nil, e.Source, e.Trained)
	if s.unloaded == nil { // the page refused it: ModelNote says why
		s.ModelNote = msg.ErrorLine(storedDropped + s.ModelNote)
		out.Forget, out.ForgetThreshold = true, true
		return out
	}
	s.unloaded.stored = true
	s.kept = recordSum([]byte(data))
	return out
}

// RestoreThreshold takes the record of the threshold set by hand that
// IndexedDB kept (ok false: none; err: it could not be read), once
// RestoreEncoder took the encoder's: set on the encoder being restored
// (its sum), it is that encoder's threshold, set by hand, which its
// calibration leaves as it was before the page was left. One of another
// encoder, or that cannot be read, is deleted; one of an encoder held
// back is held back with it.
func (s *VerifyState) RestoreThreshold(data string, ok bool, err error) Out {
	switch {
	case s.heldBack != nil:
		s.heldBack.hand, s.heldBack.handOK, s.heldBack.handErr = data, ok, err
		return Out{}
	case s.unloaded == nil || !s.unloaded.stored: // no encoder restored: none, or dropped with this record, or not loaded
		return Out{}
	case errors.As(err, new(recordTypeError)):
		return Out{ForgetThreshold: true}
	case err != nil || !ok:
		return Out{}
	}
	h, err := UnmarshalStoredThreshold([]byte(data))
	if err != nil || h.Encoder != s.kept {
		return Out{ForgetThreshold: true}
	}
	s.Threshold, s.handSet = h.Threshold, true
	return Out{}
}

// notKept begins the note of an encoder that could not be kept in
// IndexedDB (EncoderStored).
const notKept = "the encoder could not be stored: "

// notKeptThreshold begins the note of a threshold set by hand that could
// not be kept in IndexedDB (ThresholdStored).
const notKeptThreshold = "the threshold set by hand could not be stored: "

// ThresholdStored takes the end of a store or, deleted, a deletion of the
// hand-set threshold's record (Out.KeepThreshold, Out.ForgetThreshold)
// as EncoderStored takes the encoder's.
func (s *VerifyState) ThresholdStored(deleted bool, err error) {
	s.recordStored(notKeptThreshold, deleted, err)
}

// EncoderStored takes the end of a store or, deleted, a deletion of the
// encoder's record (Out.Keep, Out.Forget): err, why it failed, which the
// note says; the encoder stays in the page. One that succeeds takes the
// note of one that failed away.
func (s *VerifyState) EncoderStored(deleted bool, err error) { s.recordStored(notKept, deleted, err) }

// recordStored takes the end of a store or, deleted, a deletion of a
// record whose failed store the note says after prefix, and whose failed
// deletion after prefix with "deleted" for "stored": one that succeeds
// takes the note of one that failed away.
func (s *VerifyState) recordStored(prefix string, deleted bool, err error) {
	notDeleted := strings.Replace(prefix, " stored: ", " deleted: ", 1)
	switch {
	case err != nil && deleted:
		s.Note = notDeleted + err.Error()
	case err != nil:
		s.Note = prefix + err.Error()
	case strings.HasPrefix(s.Note, prefix) || strings.HasPrefix(s.Note, notDeleted):
		s.Note = ""
	}
}

// probeRefused takes the worker's refusal of the probe id (an embed of
// one frame: its embedding overflowed, say) for reason: that probe gets
// no scores and ProbeNote says why; the encoder stays, and the next good
// frame is probed. The refusal of a probe since replaced is dropped, as
// its embeddings would be, and so is one that comes while a training or
// a load changes the encoder: that probe was of the encoder before.
func (s *VerifyState) probeRefused(id, reason string) {
	if id != probeID(s.probeSeq) || s.Phase == PhaseTraining || s.unloaded != nil {
		return
	}
	s.probePending = false
	s.forgetProbe()
	s.ProbeNote = "probe " + strconv.Itoa(s.probeSeq) + probeNotEmbedded + cmp.Or(reason, "the worker gave no reason")
}

// Crash takes the death of the worker, for reason, which leaves the page
// without an encoder. A crash during the load of the encoder IndexedDB
// kept (RestoreEncoder) deletes its record and the threshold's
// (Out.Forget, Out.ForgetThreshold), the model note saying so in one
// line, as when the worker refuses it: kept, it would be loaded again,
// and crash the worker again, at every visit. A crash during the load of
// a link's ?model= is that load's failure, as a refusal is: the stored
// encoder held back comes back at once, in the next worker
// (restoreHeld), the model note saying why the link's did not (a crash
// during its fetch leaves that to the fetch's end: ModelFetched). A
// crash at any other time leaves the records alone.
func (s *VerifyState) Crash(reason string) Out {
	u := s.unloaded
	s.Run.Crash(reason)
	s.dropEncoder()
	switch {
	case u != nil && u.stored:
		s.ModelNote = msg.ErrorLine(storedDropped + s.Source + " could not be loaded: " + reason)
		return Out{Forget: true, ForgetThreshold: true}
	case u != nil && s.heldBack != nil:
		s.ModelNote = msg.ErrorLine(s.Source + " could not be loaded: " + reason)
		return s.restoreHeld()
	}
	return Out{}
}

// dropEncoder leaves the page without an encoder, and without the live
// answers it gave (forgetProbe): an "accept" kept after the encoder
// failed would be shown to whoever stands before the camera next.
func (s *VerifyState) dropEncoder() {
	s.Phase, s.probePending, s.hasEncoder, s.Encoder, s.unloaded, s.exporting, s.kept = PhaseNone, false, false, face.Input{}, nil, false, ""
	s.forgetProbe()
}

// SetFAR chooses the false accept rate far, and with it the suggested
// threshold (calibrate): a threshold set by hand gives way to it, and is
// deleted from IndexedDB. The page keeps far there once the slider is let
// go (KeepFAR). A rate out of the slider's range, (0, MaxFAR], which a
// kept record could not hold (UnmarshalStoredFAR), changes nothing.
func (s *VerifyState) SetFAR(far float64) Out {
	if !farInRange(far) {
		return Out{}
	}
	hand := s.handSet
	s.FAR, s.handSet = far, false
	s.calibrate()
	return Out{ForgetThreshold: hand}
}

// KeepFAR asks for the false accept rate chosen to be kept in IndexedDB,
// in a record of its own: it is the page's, which calibrates whatever
// encoder it holds at it, not one encoder's. The page asks once the
// slider is let go (its change), not at each step of a drag.
func (s *VerifyState) KeepFAR() Out {
	return Out{KeepFAR: MarshalStoredFAR(StoredFAR{Version: FARVersion, FAR: s.FAR})}
}

// RestoreFAR takes the record of the false accept rate chosen in an
// earlier visit that IndexedDB kept (ok false: none; err: it could not be
// read, which Restore says), as the page mounts: the encoder is
// calibrated at it, and one ready already is calibrated again (a
// threshold set by hand stays). A record that cannot be read, or of a
// rate out of the slider's range (0, MaxFAR], is deleted, and the FAR
// stays as it was.
func (s *VerifyState) RestoreFAR(data string, ok bool, err error) Out {
	switch {
	case errors.As(err, new(recordTypeError)):
		return Out{ForgetFAR: true}
	case err != nil || !ok:
		return Out{}
	}
	f, err := UnmarshalStoredFAR([]byte(data))
	if err != nil {
		return Out{ForgetFAR: true}
	}
	s.FAR = f.FAR
	s.calibrate()
	return Out{}
}

// notKeptFAR begins the note of a false accept rate that could not be
// kept in IndexedDB (FARStored).
const notKeptFAR = "the false accept rate could not be stored: "

// FARStored takes the end of a store or, deleted, a deletion of the
// FAR's record (Out.KeepFAR, Out.ForgetFAR) as EncoderStored takes the
// encoder's.
func (s *VerifyState) FARStored(deleted bool, err error) { s.recordStored(notKeptFAR, deleted, err) }

// calibrate calibrates the threshold for the false accept rate FAR on the
// enrollments: when the encoder was trained here, on the snapshots it was
// not trained on (HeldOut's, and any enrolled since: face.CalibrateOn);
// when it was loaded, on every snapshot, leave-one-out (face.Calibrate).
// The suggested threshold is where at most FAR of the impostor scores
// pass; without impostor scores (one identity), or when a loaded model was
// trained on the enrolled people (trainedOn: the page cannot tell which
// of their snapshots its training held out, and the scores of those it
// trained on are too good), it is the model's own, measured on images held
// out of its training, FAR and FRR measured at it on the enrollments. When
// the model has none either, with one identity there is nothing to suggest
// (NoSuggestion) and the threshold is 1, which rejects every probe but an
// identical one, until a second identity is enrolled or it is set by hand;
// with two, the suggestion is the enrollments' (CalibratedOn says that
// they were trained on). The live threshold is the suggested one, unless
// it was set by hand (SetThreshold): then it stays, whatever the
// enrollments since, until a FAR is chosen (SetFAR) or the encoder
// changes. The live scores follow. While the encoder is not ready, FAR
// waits for its calibration. This is where the page's calibration lives:
// what it shows as "suggested" comes from Calib, and CalibratedOn says on
// what.
func (s *VerifyState) calibrate() {
	if s.Phase != PhaseReady { // the embeddings may be of a gallery since changed: calibrated once ready
		return
	}
	if s.trained != nil {
		s.Calib = face.CalibrateOn(s.embs, s.EmbDim, s.labels, s.probes, s.FAR)
	} else {
		s.Calib = face.Calibrate(s.embs, s.EmbDim, s.labels, s.FAR)
	}
	if len(s.Calib.Impostor) == 0 || s.ModelThreshold() {
		// The model's threshold: the calibration shown as suggested is
		// of it (Calibrate's −1, accept all, is not used), FAR and FRR
		// measured at it.
		c := &s.Calib
		c.Threshold = s.modelThresh
		if s.NoSuggestion() {
			c.Threshold = 1
		}
		c.FAR, c.FRR = rateBelow(c.Impostor, c.Threshold, false), rateBelow(c.Genuine, c.Threshold, true)
	}
	if !s.handSet {
		s.Threshold = s.Calib.Threshold
	}
	s.rescore()
}

// rateBelow returns the share of scores below t (below: FRR) or at t or
// above (FAR); 0 without scores.
func rateBelow(scores []float64, t float64, below bool) float64 {
	n := 0
	for _, v := range scores {
		if (v < t) == below {
			n++
		}
	}
	if len(scores) == 0 {
		return 0
	}
	return float64(n) / float64(len(scores))
}

// NoSuggestion reports whether the calibration has no threshold to
// suggest: no impostor scores (one identity) and a model without a
// threshold of its own (msg.HasThreshold: trained with nothing held out).
func (s *VerifyState) NoSuggestion() bool {
	return s.EmbDim > 0 && len(s.Calib.Impostor) == 0 && !msg.HasThreshold(s.modelThresh, s.modelFAR)
}

// ModelThreshold reports whether the suggested threshold is the loaded
// model's own because the model was trained on the enrolled people
// (trainedOn) and has a threshold (with one identity it is its own
// anyway).
func (s *VerifyState) ModelThreshold() bool {
	return s.trainedOn() != "" && msg.HasThreshold(s.modelThresh, s.modelFAR)
}

// trainedOn says, when the loaded model was trained on the enrolled
// people, how the page knows: "data set webcam, which this page sent its
// snapshots to" (its file's provenance names SentTo), or "data set
// webcam, which holds 2 of the 3 identities enrolled here" (its classes
// name them, as the server keeps a name: normal form C); "" when neither,
// and for an encoder trained here, whose held-out snapshots the page
// knows (CalibrateOn).
func (s *VerifyState) trainedOn() string {
	m := s.model
	if s.trained != nil || m.Data == "" {
		return ""
	}
	data := "data set " + msg.Shorten(msg.ErrorLine(m.Data), msg.MaxCardText)
	if m.Data == s.SentTo {
		return data + ", which this page sent its snapshots to"
	}
	n := 0
	for _, name := range s.Names {
		if slices.Contains(m.Classes, nfc(name)) {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%s, which holds %d of the %s enrolled here", data, n, msg.Plural(len(s.Names), "identity", "identities"))
}

// CalibratedOn says what the threshold was calibrated on: "calibrated on
// 8 held-out snapshots (not trained on)" when the encoder was trained
// here, "calibrated on 40 enrolled snapshots (leave-one-out)" when it was
// loaded; and, for a model trained on the enrolled people (trainedOn),
// that its own threshold is suggested, measured on images held out of its
// training, or, without one, that the enrolled snapshots' errors were
// measured on images it was trained on.
func (s *VerifyState) CalibratedOn() string {
	if s.trained != nil {
		return fmt.Sprintf("calibrated on %s (not trained on)", msg.Plural(len(s.probes), "held-out snapshot", "held-out snapshots"))
	}
	on := fmt.Sprintf("%s (leave-one-out)", msg.Plural(len(s.labels), "enrolled snapshot", "enrolled snapshots"))
	why := s.trainedOn()
	switch {
	case why == "":
		return "calibrated on " + on
	case s.ModelThreshold():
		return fmt.Sprintf("the model was trained on these people (%s): the suggested threshold is its own, %s at FAR %s, measured in its training on images it held out; the FAR and FRR of the %s are on images it was trained on",
			why, FormatScore(s.modelThresh), percent(s.modelFAR), on)
	}
	return fmt.Sprintf("calibrated on %s, which the model was trained on (%s) and has no threshold of its own for: its FAR and FRR on them are lower than a new face would meet", on, why)
}

// trainedOthers says, for an encoder trained here, whose people are not
// all the ones enrolled now (a gallery imported, or a person recorded,
// since): "; trained on 3 identities, none of them enrolled", so that
// "trained here, 1 identity" is not read as trained on that one; "" when
// it was trained on every one enrolled, or loaded.
func (s *VerifyState) trainedOthers() string {
	if s.trained == nil {
		return ""
	}
	names := map[string]bool{}
	for k := range s.trained {
		name, _, _ := strings.Cut(k, "\x00")
		names[name] = true
	}
	in := 0
	for _, n := range s.Names {
		if names[n] {
			in++
		}
	}
	switch {
	case in == len(s.Names):
		return ""
	case in == 0:
		return "; trained on " + msg.Plural(len(names), "identity", "identities") + ", none of them enrolled"
	}
	return fmt.Sprintf("; trained on %s, %d of them enrolled", msg.Plural(len(names), "identity", "identities"), in)
}

// SetThreshold sets the threshold of the live scores by hand: it stays
// until a FAR is chosen or the encoder changes (calibrate), and comes
// back with the encoder once kept (KeepThreshold).
func (s *VerifyState) SetThreshold(t float64) {
	if t >= -1 && t <= 1 {
		s.Threshold, s.handSet = t, true
		s.rescore()
	}
}

// KeepThreshold asks for the threshold set by hand to be kept in
// IndexedDB beside the encoder's record, which it names: the page asks
// once the slider is let go (its change), not at each step of a drag.
// Before the encoder is kept (its export under way), nothing: it is kept
// with the encoder (exported).
func (s *VerifyState) KeepThreshold() Out {
	return Out{KeepThreshold: handRecord(s.handSet, s.kept, s.Threshold)}
}

// Claim makes name the claimed identity of 1:1 verification.
func (s *VerifyState) Claim(name string) {
	for i, n := range s.Names {
		if n == name {
			s.Claimed = i
			s.rescore()
		}
	}
}

// SetDataset sets the server's data set the gallery goes to, which the
// page keeps in IndexedDB (KeepDataset, the name as a JSON string), so
// that the field shows it again in a later visit (RestoreDataset).
func (s *VerifyState) SetDataset(name string) Out {
	s.Dataset, s.datasetSet = strings.TrimSpace(name), true
	b, _ := json.Marshal(s.Dataset) // a string always marshals
	return Out{KeepDataset: b}
}

// RestoreDataset takes the record of the server's data set named in an
// earlier visit that IndexedDB kept (ok false: none; err: it could not be
// read), as the page mounts: the field shows it, unless the user typed
// one meanwhile. A record that does not read as a name, or an empty
// name, leaves the default ("webcam"); the next name typed replaces it.
func (s *VerifyState) RestoreDataset(data string, ok bool, err error) {
	var name string
	if err != nil || !ok || s.datasetSet || json.Unmarshal([]byte(data), &name) != nil {
		return
	}
	if name = strings.TrimSpace(name); name != "" {
		s.Dataset = name
	}
}

// notKeptDataset begins the note of a data set's name that could not be
// kept in IndexedDB (DatasetStored).
const notKeptDataset = "the server data set's name could not be stored: "

// DatasetStored takes the end of a store of the data set's name
// (Out.KeepDataset) as EncoderStored takes the encoder's.
func (s *VerifyState) DatasetStored(deleted bool, err error) {
	s.recordStored(notKeptDataset, deleted, err)
}

// UploadProblem says why the gallery cannot be sent now, in words ("" when
// it can): the server's own rules for new data set and identity names
// (msg.DatasetProblem, msg.IdentityProblem), so that a name the server
// would refuse is explained before the click. The page does not know
// which names the server already holds, so it also refuses one that a
// server stored before a rule was added (a data set "aux"), which the API
// still takes samples for. A name it quotes is kept to one line
// (msg.ErrorLine): an imported gallery's may run to megabytes.
func (s *VerifyState) UploadProblem() string {
	switch {
	case s.Gallery.Count() == 0:
		return "enroll someone first"
	case s.Uploading:
		return "sending…"
	}
	if p := msg.DatasetProblem(s.Dataset); p != "" {
		return p
	}
	for i, id := range s.Gallery.Identities {
		if p := msg.IdentityProblem(nfc(id.Name), nfkc); p != "" { // as the server takes it
			return msg.ErrorLine(fmt.Sprintf("%q: %s", msg.Shorten(id.Name, msg.MaxErrorRunes), p))
		}
		// The server keeps each person in a folder, which a file system
		// that ignores case would share, so it refuses the second of two
		// names that differ only in case, or in the form of a character
		// ("ａｌｉｃｅ" beside "alice": msg.NameKey), part of the way
		// through. It keeps them in normal form C: "José" in two forms (a
		// gallery kept before imported names were normalised) is one
		// name, one person, to it.
		for _, other := range s.Gallery.Identities[:i] {
			if a, b := nfc(other.Name), nfc(id.Name); a != b && msg.NameKey(a, nfkc) == msg.NameKey(b, nfkc) {
				return msg.ErrorLine(fmt.Sprintf("%q and %q differ %s, which the server keeps as one person: rename one",
					msg.Shorten(other.Name, msg.MaxErrorRunes/3), msg.Shorten(id.Name, msg.MaxErrorRunes/3), msg.Alike(a, b)))
			}
		}
	}
	return ""
}

// Upload is one crop to send: its identity and PNG bytes.
type Upload struct {
	Identity string
	PNG      []byte
}

// StartUpload returns the crops to send to data set Dataset, or an error
// that says why not (UploadProblem, or a crop that does not decode). A
// snapshot that is a copy of another of its person, pixel for pixel (a
// camera that shows a still picture), is sent once, as the server would
// keep it once; the note counts the copies (Uploaded).
func (s *VerifyState) StartUpload() ([]Upload, error) {
	if p := s.UploadProblem(); p != "" {
		s.UploadNote = p
		return nil, errors.New(p)
	}
	var ups []Upload
	seen, copies := map[string]bool{}, 0
	for _, id := range s.Gallery.Identities {
		for _, c := range id.Crops {
			b, err := CropBytes(c)
			if err != nil {
				s.UploadNote = "a crop of " + id.Name + ": " + err.Error()
				return nil, err
			}
			k := nfc(id.Name) + "\x00" + string(b)
			if seen[k] {
				copies++
				continue
			}
			seen[k] = true
			ups = append(ups, Upload{Identity: id.Name, PNG: b})
		}
	}
	s.Uploading, s.uploadPending, s.uploadCopies, s.uploadDataset, s.SentTo = true, len(ups), copies, s.Dataset, ""
	s.UploadNote = waitNote("sending", 0)
	return ups, nil
}

// UploadWaits takes a wait of the upload under way: the server is busy,
// and the crop goes again after wait, or now (0).
func (s *VerifyState) UploadWaits(wait time.Duration) {
	if s.Uploading {
		s.UploadNote = waitNote("sending", wait)
	}
}

// Uploaded takes the end of an upload: sent crops of the planned ones
// that the server took, added of them new to it (the others it held
// already: it keeps an image of an identity once, and answers so), and
// the error that stopped it. The note names the data set the upload
// started with, whatever the field says now: a second send of the same
// snapshots says that none were new; one cut off part-way, that Send
// again sends the rest, which the server does not store twice. The link
// to train on the data set (SentTo) is offered once every snapshot is on
// the server, not after a send cut off: a model trained on the part that
// arrived would miss people, or know them from a few snapshots, without
// a word.
func (s *VerifyState) Uploaded(sent, added int, err error) {
	n, set := s.uploadPending, s.uploadDataset
	switch {
	case err != nil:
		s.UploadNote = fmt.Sprintf("sent %d of %d snapshots to data set %s: %v", sent, n, set, err)
		if sent > 0 && sent < n {
			s.UploadNote += fmt.Sprintf(". Send again to send the other %d: those it holds are not stored twice", n-sent)
		}
	case added == 0:
		s.UploadNote = fmt.Sprintf("sent 0 new of %d snapshots: all %d already in data set %s", n, n, set)
	case added < sent:
		s.UploadNote = fmt.Sprintf("sent %d new of %d snapshots to data set %s: the other %d were there already", added, n, set, sent-added)
	default:
		s.UploadNote = fmt.Sprintf("sent %d of %d snapshots to data set %s", sent, n, set)
	}
	if s.uploadCopies > 0 && err == nil {
		s.UploadNote += " (and " + msg.Plural(s.uploadCopies, "copy", "copies") + " of these, sent once)"
	}
	s.Uploading, s.uploadPending, s.uploadCopies = false, 0, 0
	if err == nil {
		s.SentTo = set
	}
}

// TrainLink is the Jobs page's link to train a faces model on the data set
// the last upload sent to (SentTo): the faces preset, whose crops the
// Verify page takes, on that data set; "" when there is none.
func (s *VerifyState) TrainLink() string {
	if s.SentTo == "" {
		return ""
	}
	return "/jobs#" + url.Values{"preset": {"faces"}, "data": {s.SentTo}}.Encode()
}

// SetChannel sets the BroadcastChannel of the trainer panel's viewer.
func (s *VerifyState) SetChannel(name string) { s.channel = name }

// CameraStatus says the camera's and the detector's state in words, for
// #verify-status.
func (s *VerifyState) CameraStatus() string {
	switch s.Camera {
	case CameraOn:
		switch {
		case s.DetectorErr != "":
			return "camera on; " + s.DetectorErr
		case !s.Detector:
			return "camera on: loading the face detector…"
		}
		return "camera on: detecting faces"
	case CameraStarting:
		return "starting the camera: allow it when the browser asks"
	}
	return s.CameraWords
}

// Stops says what leaving the page would stop (the page's stopper): the
// encoder's training, and then the export of the encoder it trained,
// which keeps it in IndexedDB (exporting); "" otherwise. A snapshot
// being recorded is not asked about: Record is held while it records.
func (s *VerifyState) Stops() string {
	switch {
	case s.Phase == PhaseTraining:
		return "Training the encoder"
	case s.exporting:
		return "Saving the encoder just trained"
	}
	return ""
}

// TrainStatus says what the encoder is doing, for #train-status: an
// encoder kept with no one enrolled (loaded before anyone was, or every
// snapshot deleted since) is named once the worker holds it, and so is
// one kept with people enrolled that it did not embed (the
// worker's embeddings unread or not of the gallery: the note says why),
// which the next change of the gallery embeds again (galleryChanged).
func (s *VerifyState) TrainStatus() string {
	switch s.Phase {
	case PhaseTraining:
		return "training: " + s.Run.Status()
	case PhaseLoading:
		return "loading the model…"
	case PhaseEmbedding:
		return "embedding the enrollments…"
	case PhaseReady:
		return fmt.Sprintf("ready: %s, %s, D = %d", s.Source, msg.Plural(len(s.Names), "identity", "identities"), s.EmbDim) + s.trainedOthers()
	}
	switch {
	case s.Run.State == msg.StateFailed || s.Run.State == StateCrashed:
		return s.Run.Status()
	case s.unloaded != nil: // a load with nothing to embed, not answered yet
		return "loading the model…"
	case s.hasEncoder && s.Gallery.Count() == 0:
		return "encoder: " + s.Source + "; enroll someone to verify against"
	case s.hasEncoder:
		return "encoder: " + s.Source + "; the enrollments could not be embedded"
	}
	if len(s.Gallery.Identities) < 2 {
		return "no encoder: enroll two identities or more, then train; or load a model"
	}
	return "no encoder: train one on the enrollments, or load a model"
}

// TrainStateLine is TrainStatus for a screen reader (a live region,
// role=status): while the encoder trains, its run's state
// (Run.StateLine), not its step.
func (s *VerifyState) TrainStateLine() string {
	if s.Phase == PhaseTraining {
		return "training: " + s.Run.StateLine()
	}
	return s.TrainStatus()
}

// ClaimedName returns the name of the claimed identity, "–" before there
// are templates.
func (s *VerifyState) ClaimedName() string {
	if s.Claimed < len(s.Names) {
		return s.Names[s.Claimed]
	}
	return "–"
}

// ScoreText writes the live 1:1 score, "–" before there is one.
func (s *VerifyState) ScoreText() string {
	if !s.HasScore {
		return "–"
	}
	return FormatScore(s.Score)
}

// VerdictText writes the live 1:1 verdict: "accept" at or above the
// threshold, "reject" below, "–" before there is a score.
func (s *VerifyState) VerdictText() string {
	switch {
	case !s.HasScore:
		return "–"
	case s.Score >= s.Threshold:
		return "accept"
	}
	return "reject"
}

// IdentityText writes the live 1:k answer: the best match's name, or
// "unknown" below the threshold.
func (s *VerifyState) IdentityText() string {
	switch {
	case !s.HasScore:
		return "–"
	case s.Best < 0:
		return "unknown"
	}
	return s.Names[s.Best]
}

// DownloadKey is the IndexedDB key Download unread gallery reads:
// UnreadKey, or none while a store that sets the record aside is in
// flight, which may have written the page's gallery at galleryKey before
// the download reads it.
func (s *VerifyState) DownloadKey() string {
	if s.asiding > 0 {
		return ""
	}
	return s.UnreadKey
}

// galleryChanged asks for the gallery to be stored and, when there is an
// encoder (ready, or loaded while the gallery was empty), embedded again
// for new templates and a new calibration.
func (s *VerifyState) galleryChanged() Out {
	out := s.store()
	switch {
	case s.unloaded != nil:
		s.restale = true // embedded when the worker has answered the load
	case s.Phase == PhaseReady || (s.Phase == PhaseNone && s.hasEncoder):
		out = out.and(s.embedGallery())
	case s.Phase == PhaseEmbedding:
		s.restale = true // embedded again when the embeddings of the one before arrive
	case s.Phase == PhaseLoading && s.hasEncoder:
		s.restale = true // embedded by the encoder that stays, should the server's model not load
	}
	if s.Gallery.Count() == 0 {
		// Nothing enrolled: new snapshots take the page's own shape again
		// (a gallery restored or imported with other crops set them).
		s.Input, s.Gallery = face.SnapshotInput, NewGallery(face.SnapshotInput.Channels, face.SnapshotInput.Height, face.SnapshotInput.Width)
	}
	return out
}

// store asks for the gallery to be stored, the record there set aside
// first while it is unread; nothing until Restore has answered
// (Restoring), which stores it then.
func (s *VerifyState) store() Out {
	if s.restoring {
		s.held = true
		return Out{}
	}
	if s.unread {
		s.asiding++
	}
	return Out{Store: true, Aside: s.unread}
}

// embedGallery asks the worker for the embeddings of the gallery.
func (s *VerifyState) embedGallery() Out {
	smp, id := s.gallerySamples()
	if smp == nil {
		return Out{}
	}
	return Out{Post: []string{SamplesCommand(verifyTrainer, msg.OpEmbed, nil, smp, id, "")}}
}

// gallerySamples returns the gallery's crops at the encoder's input and
// the embed's ID, ready for their embeddings (PhaseEmbedding); nil crops
// when there is nothing to embed (PhaseNone: no one enrolled, or a note
// says why), with the ID of a load that embeds nothing. Either way the
// gallery's embeds and loads before are of one since replaced: their
// late answers are dropped.
func (s *VerifyState) gallerySamples() (*msg.Samples, string) {
	s.gallerySeq++
	smp, err := s.Gallery.Samples(s.Encoder)
	if err != nil || len(smp.Labels) == 0 {
		s.Phase = PhaseNone // an encoder kept with no one to embed: TrainStatus says so once the worker has it
		if err != nil {
			s.Note = err.Error()
		}
		return nil, galleryID(s.gallerySeq)
	}
	s.embedded, s.restale = s.Gallery, false
	s.labels = smp.Labels
	s.probes = nil
	if s.trained != nil {
		left := maps.Clone(s.trained)
		s.probes = []int{} // none is not every one
		i := 0
		for _, id := range s.Gallery.Identities {
			for _, c := range id.Crops {
				if k := trainedKey(id.Name, c); left[k] > 0 {
					left[k]--
				} else {
					s.probes = append(s.probes, i)
				}
				i++
			}
		}
	}
	s.Phase, s.probePending = PhaseEmbedding, false
	return smp, galleryID(s.gallerySeq)
}

// embeddings takes the worker's embeddings: of the gallery, the templates
// and the calibration (and, when the gallery changed meanwhile, a request
// for its new ones); of the latest probe, the live scores (a stale probe's
// are dropped, as are those of a gallery's embed since asked again).
func (s *VerifyState) embeddings(e *msg.Embeddings) Out {
	if strings.HasPrefix(e.ID, galleryPrefix) {
		if e.ID != galleryID(s.gallerySeq) {
			return Out{}
		}
		out := s.took() // the load, if one was pending, took
		// N = len/D, as DecodeEmbeddings checked: N·D could wrap around.
		if s.Phase != PhaseEmbedding || len(e.Values)/e.Dim != len(s.labels) {
			s.Note = notEmbedded + "the worker's embeddings do not match the gallery"
			s.Phase = PhaseNone
			return out
		}
		s.EmbDim, s.embs = e.Dim, e.Values
		names := s.embedded.Names()
		// The claim stays on its name (someone listed before it may have
		// left), else on the place it had.
		if s.Claimed < len(s.Names) {
			if i := slices.Index(names, s.Names[s.Claimed]); i >= 0 {
				s.Claimed = i
			}
		}
		s.Names = names
		s.templates = face.Templates(e.Values, e.Dim, s.labels, len(s.Names))
		s.modelThresh, s.modelFAR = e.Threshold, e.FAR
		s.Claimed = max(0, min(s.Claimed, len(s.Names)-1))
		s.Phase, s.ModelNote = PhaseReady, ""
		if strings.HasPrefix(s.Note, notEmbedded) { // of an embed before
			s.Note = ""
		}
		s.calibrate()
		if s.restale {
			out = out.and(s.embedGallery())
		}
		return out
	}
	if e.ID != probeID(s.probeSeq) {
		return Out{}
	}
	s.probePending = false
	if !s.Live() || len(e.Values) != e.Dim || e.Dim != s.EmbDim {
		return Out{}
	}
	s.lastProbe, s.Scored, s.ProbeNote = e.Values, s.probeSeq, ""
	s.rescore()
	return Out{}
}

// embedUnread ends the embed that data answers, an embeddings message
// whose values the page cannot read (not whole N×D: err, which the note
// says): the gallery's leaves the page without templates, as embeddings
// that do not match it do; the latest probe's lets the next good frame be
// probed. Either would otherwise wait for good. A load that embedded the
// gallery took: its encoder is kept (took).
func (s *VerifyState) embedUnread(data string, err error) Out {
	s.Note = err.Error()
	m, err := DecodeMessage(data)
	if err != nil || m.Embeddings == nil {
		return Out{}
	}
	switch id := m.Embeddings.ID; {
	case id == galleryID(s.gallerySeq) && s.Phase == PhaseEmbedding:
		s.Phase = PhaseNone
		s.Note = notEmbedded + s.Note
		return s.took() // the load, if one was pending, took
	case id == probeID(s.probeSeq):
		s.probePending = false
	}
	return Out{}
}

// notEmbedded begins the note of the gallery's embeddings that the page
// could not take, which goes once it is embedded (embeddings).
const notEmbedded = "the enrollments could not be embedded: "

// probePrefix starts the embed IDs of the probes: probeID(n) is probe
// n's, "probe-n".
const probePrefix = "probe-"

func probeID(n int) string { return probePrefix + strconv.Itoa(n) }

// galleryPrefix starts the embed IDs of the gallery: galleryID(n) is its
// n-th embed's, "gallery-n".
const galleryPrefix = "gallery-"

func galleryID(n int) string { return galleryPrefix + strconv.Itoa(n) }

// forgetProbe drops the latest probe and its scores, with its number
// (Scored), and why one was refused, when the encoder changes: its
// embedding is of the encoder before, whose space the new templates are
// not in (nor, with another D, of its length).
func (s *VerifyState) forgetProbe() {
	s.lastProbe, s.HasScore, s.Score, s.Ranked, s.Best, s.ProbeNote, s.Scored = nil, false, 0, nil, -1, "", 0
}

// rescore scores the latest probe against the templates at the threshold.
func (s *VerifyState) rescore() {
	if s.lastProbe == nil || len(s.templates) == 0 {
		return
	}
	best, scores := face.Identify(s.lastProbe, s.templates, s.Threshold)
	s.Best = best
	s.Score = scores[s.Claimed]
	s.HasScore = true
	s.Ranked = face.Rank(s.Names, scores)
}

// AngleHistogram returns the histogram of the angles acos(s) of cosine
// scores in bins equal bins over [0°, 180°], as HistogramSVG draws them.
func AngleHistogram(scores []float64, bins int) []int {
	h := make([]int, bins)
	for _, s := range scores {
		if math.IsNaN(s) {
			continue
		}
		theta := math.Acos(max(-1, min(1, s)))
		h[min(int(theta/math.Pi*float64(bins)), bins-1)]++
	}
	return h
}

// FormatScore writes a cosine score with three decimals and its angle:
// "0.812 (35.7°)".
func FormatScore(s float64) string {
	return fmt.Sprintf("%.3f (%.1f°)", s, math.Acos(max(-1, min(1, s)))*180/math.Pi)
}

// EnrollCount says the gallery's size for #enroll-count: "2 identities,
// 40 snapshots".
func EnrollCount(identities, snapshots int) string {
	return msg.Plural(identities, "identity", "identities") + ", " + msg.Plural(snapshots, "snapshot", "snapshots")
}
