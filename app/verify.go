package app

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/face"
	"metriclab/core/msg"
)

// Phases of the verify page's encoder.
const (
	encoderNone      = ""          // no encoder yet
	encoderTraining  = "training"  // the worker trains on the gallery
	encoderLoading   = "loading"   // a model file is on its way to the worker
	encoderEmbedding = "embedding" // the gallery is being embedded
	encoderReady     = "ready"     // templates and calibration are there
)

// verifyTrainer is the trainer id of the verify page's worker.
const verifyTrainer = "verify"

// Verify is the webcam enroll-and-verify page: the camera with its face
// overlay and quality message; enrollment of named identities by "hold to
// record", kept in IndexedDB and moved as one file; an encoder trained on
// the enrollments in a worker (or a model loaded from a file or the
// server's registry); the templates and the calibration of the threshold
// from the enrollments; and, live, 1:1 verification of a claimed identity
// and 1:k identification.
type Verify struct {
	app.Compo

	input     face.Input
	snapshots int
	mounted   app.Context
	nonce     string

	// The camera and what the detector makes of its frames.
	cam        *camera
	det        *face.Detector
	camState   string
	camWords   string
	quality    string
	fps        FPSMeter
	shownFPS   float64
	lastShown  float64 // when the figures were last shown, ms
	lastCrop   []float32
	cropFresh  bool // lastCrop is of the latest frame
	frameCount int

	// Enrollment.
	gallery   Gallery
	name      string
	recording bool
	recorded  int // snapshots of the current hold
	note      string

	// The encoder.
	loss, arch     string
	dim, epochs    int
	run            Run
	w              *worker
	phase          string
	source         string // what the encoder is: "trained on …", "model file x"
	models         []ModelCard
	modelID        string
	modelNote      string
	embedded       *Gallery // the gallery the templates are of
	templates      [][]float32
	names          []string
	embDim         int
	embs           []float32
	labels         []int
	calib          face.Calibration
	far            float64
	threshold      float64
	modelThreshold float64
	lastProbe      []float32
	probePending   bool
	probeSeq       int
	claimed        int
	score          float64
	hasScore       bool
	ranked         []Match
	best           int
	dataset        string
	uploadNote     string
	uploading      bool
	stopModels     context.CancelFunc
}

// NewVerify returns the page with the defaults: 1×32×32 crops, 20
// snapshots a hold, ArcFace on lenet-s at D = 16, FAR 1%.
func NewVerify() *Verify {
	in := face.DefaultInput
	return &Verify{
		input: in, snapshots: DefaultSnapshots,
		camState: CameraOff, camWords: "camera off: press Start camera",
		quality: "–",
		gallery: NewGallery(in.Channels, in.Height, in.Width),
		loss:    "arcface", arch: "lenet-s", dim: 16, epochs: 30,
		run: NewRun(verifyTrainer, "arcface"),
		far: DefaultFAR, best: -1, dataset: "webcam",
	}
}

// OnMount starts the detector, loads the gallery from IndexedDB, starts
// the trainer's worker and the camera, and reads ?model= (a model of the
// server's registry to use).
func (v *Verify) OnMount(ctx app.Context) {
	v.mounted = ctx
	v.nonce = strconv.FormatUint(rand.Uint64()>>16, 36)
	det, err := face.NewDetector()
	if err != nil {
		v.camWords = "the face detector could not start: " + err.Error()
	}
	v.det = det
	loadGallery(func(data string, ok bool, err error) {
		ctx.Dispatch(func(ctx app.Context) { v.restore(data, ok, err) })
	})
	v.startWorker(ctx)
	v.loadModels(ctx)
	if id := ctx.Page().URL().Query().Get("model"); id != "" {
		v.modelID = id
		v.loadRegistryModel(ctx)
	}
	v.startCamera(ctx)
}

// OnDismount stops the camera, the worker and a registry load.
func (v *Verify) OnDismount() {
	v.cam.stop()
	v.w.terminate()
	if v.stopModels != nil {
		v.stopModels()
	}
}

// Render draws the page.
func (v *Verify) Render() app.UI {
	return app.Div().Class("page verify-page").Body(
		app.Header().Class("top").Body(
			app.H1().Text("Verify"),
			app.P().ID("verify-status").Class("status").Text(v.Status()),
		),
		app.If(v.note != "", func() app.UI { return app.P().ID("verify-note").Class("note").Text(v.note) }),
		app.Div().Class("verify-layout").Body(
			v.renderCamera(),
			v.renderEnroll(),
			v.renderEncoder(),
			v.renderLive(),
		),
	)
}

// renderCamera draws the preview, its overlay, the quality and the fps.
func (v *Verify) renderCamera() app.UI {
	return app.Section().ID("camera").Class("panel camera").Body(
		app.Div().Class("preview").Body(
			app.Video().ID("video").Class("video").Muted(true).AutoPlay(true).Attr("playsinline", true),
			app.Canvas().ID("overlay").Class("overlay"),
		),
		app.Div().Class("figures").Body(
			app.Div().Class("figure").Body(app.Span().ID("quality").Class("value quality").Text(v.quality), app.Span().Class("label").Text("face")),
			app.Div().Class("figure").Body(app.Span().ID("fps").Class("value").Text(strconv.FormatFloat(v.shownFPS, 'f', 1, 64)), app.Span().Class("label").Text("detections/s")),
		),
		app.If(v.cam == nil && v.camState != CameraStarting, func() app.UI {
			return app.Button().ID("btn-camera").Type("button").Class("btn").Text("Start camera").
				OnClick(func(ctx app.Context, e app.Event) { v.startCamera(ctx) })
		}),
	)
}

// renderEnroll draws the name, the record button and the gallery.
func (v *Verify) renderEnroll() app.UI {
	return app.Section().ID("enroll").Class("panel enroll").Body(
		app.H2().Text("Enroll"),
		app.Div().Class("field").Body(
			app.Label().For("enroll-name").Text("name"),
			app.Input().ID("enroll-name").Type("text").Value(v.name).Placeholder("your name").
				OnInput(func(ctx app.Context, e app.Event) { v.name = strings.TrimSpace(ctx.JSSrc().Get("value").String()) }),
		),
		app.Button().ID("btn-record").Type("button").Class("btn btn-record").Disabled(v.name == "" || v.cam == nil).
			Text(recordLabel(v.recording, v.recorded, v.snapshots)).
			On("pointerdown", func(ctx app.Context, e app.Event) { v.record(true) }).
			On("pointerup", func(ctx app.Context, e app.Event) { v.record(false) }).
			On("pointerleave", func(ctx app.Context, e app.Event) { v.record(false) }).
			On("pointercancel", func(ctx app.Context, e app.Event) { v.record(false) }),
		app.P().ID("enroll-count").Class("status").Text(EnrollCount(len(v.gallery.Identities), v.gallery.Count())),
		app.Div().ID("gallery").Class("gallery").Body(
			app.Range(v.gallery.Identities).Slice(func(i int) app.UI {
				id := v.gallery.Identities[i]
				return app.Div().Class("identity").Body(
					app.H3().Text(id.Name+" ("+strconv.Itoa(len(id.Crops))+")"),
					app.Div().Class("thumbs").Body(app.Range(id.Crops).Slice(func(j int) app.UI {
						return app.Button().Type("button").Class("thumb").Title("delete this snapshot").Body(
							app.Img().Src(id.Crops[j]).Alt(id.Name).Width(v.input.Width * 2).Height(v.input.Height * 2),
						).OnClick(func(ctx app.Context, e app.Event) { v.deleteCrop(i, j) })
					})),
				)
			}),
		),
		app.Div().Class("gallery-files").Body(
			app.Button().ID("btn-export-gallery").Type("button").Class("btn").Disabled(v.gallery.Count() == 0).Text("Export gallery").
				OnClick(func(ctx app.Context, e app.Event) {
					download("metriclab-gallery.json", "application/json", MarshalGallery(v.gallery))
				}),
			app.Label().For("import-gallery").Class("btn").Text("Import gallery"),
			app.Input().ID("import-gallery").Type("file").Accept(".json,application/json").Class("hidden-file").
				OnChange(func(ctx app.Context, e app.Event) {
					readFile(ctx.JSSrc(), func(b []byte, err error) {
						ctx.Dispatch(func(ctx app.Context) { v.importGallery(b, err) })
					})
				}),
		),
		app.Div().Class("upload").Body(
			app.Label().For("dataset").Text("server data set"),
			app.Input().ID("dataset").Type("text").Value(v.dataset).
				OnChange(func(ctx app.Context, e app.Event) { v.dataset = strings.TrimSpace(ctx.JSSrc().Get("value").String()) }),
			app.Button().ID("btn-upload").Type("button").Class("btn").Disabled(v.gallery.Count() == 0 || v.uploading || v.dataset == "").
				Text("Send to server").OnClick(func(ctx app.Context, e app.Event) { v.upload(ctx) }),
			app.P().ID("upload-status").Class("note").Text(v.uploadNote),
		),
	)
}

// renderEncoder draws the training and loading controls, the trainer's
// panel, and the calibration.
func (v *Verify) renderEncoder() app.UI {
	busy := v.phase == encoderTraining || v.phase == encoderLoading || v.phase == encoderEmbedding
	return app.Section().ID("encoder").Class("panel encoder").Body(
		app.H2().Text("Encoder"),
		app.Div().Class("fields").Body(
			selectField("verify-loss", "loss", LossNames(), v.loss, busy, func(s string) { v.loss = s }),
			selectField("verify-dim", "D", []string{"3", "8", "16", "32", "64"}, strconv.Itoa(v.dim), busy, func(s string) { v.dim, _ = strconv.Atoi(s) }),
			app.Label().For("verify-epochs").Text("epochs"),
			app.Input().ID("verify-epochs").Type("number").Min(1).Max(500).Value(v.epochs).Disabled(busy).
				OnChange(func(ctx app.Context, e app.Event) {
					if n, err := strconv.Atoi(ctx.JSSrc().Get("value").String()); err == nil && n >= 1 && n <= 500 {
						v.epochs = n
					}
				}),
		),
		app.Button().ID("btn-train").Type("button").Class("btn btn-primary").Disabled(busy || len(v.gallery.Identities) < 2 || v.w == nil).
			Title("train on the enrolled identities (two at least)").Text("Train").
			OnClick(func(ctx app.Context, e app.Event) { v.train() }),
		app.Div().Class("load").Body(
			app.Label().For("model-file").Class("btn").Text("Load model file"),
			app.Input().ID("model-file").Type("file").Accept(".safetensors").Class("hidden-file").Disabled(busy).
				OnChange(func(ctx app.Context, e app.Event) {
					name := "a file"
					if fs := ctx.JSSrc().Get("files"); fs.Truthy() && fs.Length() > 0 {
						name = fs.Index(0).Get("name").String()
					}
					readFile(ctx.JSSrc(), func(b []byte, err error) {
						ctx.Dispatch(func(ctx app.Context) { v.loadModel(b, err, "model file "+name) })
					})
				}),
			app.If(len(v.models) > 0, func() app.UI {
				ids := make([]string, len(v.models))
				for i, c := range v.models {
					ids[i] = c.ID
				}
				return app.Div().Class("registry").Body(
					selectField("verify-model", "server model", ids, v.modelID, busy, func(s string) { v.modelID = s }),
					app.Button().ID("btn-load-registry").Type("button").Class("btn").Disabled(busy || v.modelID == "").Text("Load from server").
						OnClick(func(ctx app.Context, e app.Event) { v.loadRegistryModel(ctx) }),
				)
			}),
			app.If(v.modelNote != "", func() app.UI { return app.P().Class("note").Text(v.modelNote) }),
		),
		app.P().ID("train-status").Class("status").Text(v.TrainStatus()),
		app.If(v.phase == encoderTraining || len(v.run.LossLine) > 0, func() app.UI {
			return &TrainerPanel{Index: 0, Run: v.run, Channel: v.channel(), Dim: v.dim, HideExport: true}
		}),
		app.If(v.phase == encoderReady, func() app.UI { return v.renderCalibration() }),
	)
}

// renderCalibration draws the FAR slider and the histogram of genuine and
// impostor angles with the threshold.
func (v *Verify) renderCalibration() app.UI {
	c := v.calib
	return app.Div().ID("calibration").Class("calibration").Body(
		app.H3().Text("Calibration (leave-one-out on the enrollments)"),
		app.Label().For("far").Text("false accept rate "+strconv.FormatFloat(100*v.far, 'g', 3, 64)+"%"),
		app.Input().ID("far").Type("range").Min(0.001).Max(0.2).Step(0.001).Value(v.far).
			OnInput(func(ctx app.Context, e app.Event) {
				if x, err := strconv.ParseFloat(ctx.JSSrc().Get("value").String(), 64); err == nil {
					v.setFAR(x)
				}
			}),
		app.P().ID("suggested").Class("note").Text(fmt.Sprintf("suggested threshold %s at FAR %s (measured), FRR %s; %d genuine and %d impostor scores",
			FormatScore(c.Threshold), percent(c.FAR), percent(c.FRR), len(c.Genuine), len(c.Impostor))),
		app.Raw(HistogramSVG(AngleHistogram(c.Genuine, angleBins), AngleHistogram(c.Impostor, angleBins), v.threshold, true)),
	)
}

// renderLive draws 1:1 verification and 1:k identification.
func (v *Verify) renderLive() app.UI {
	ready := v.phase == encoderReady
	return app.Section().ID("live").Class("panel live").Body(
		app.H2().Text("Verify and identify"),
		app.Div().Class("fields").Body(
			selectField("claimed", "claimed identity", v.names, v.claimedName(), !ready, func(s string) {
				for i, n := range v.names {
					if n == s {
						v.claimed = i
					}
				}
			}),
			app.Label().For("threshold").Text("threshold "+FormatScore(v.threshold)),
			app.Input().ID("threshold").Type("range").Min(-1).Max(1).Step(0.005).Value(v.threshold).Disabled(!ready).
				OnInput(func(ctx app.Context, e app.Event) {
					if x, err := strconv.ParseFloat(ctx.JSSrc().Get("value").String(), 64); err == nil {
						v.threshold = x
						v.rescore()
					}
				}),
		),
		app.Div().Class("figures").Body(
			app.Div().Class("figure").Body(app.Span().ID("score").Class("value").Text(v.scoreText()), app.Span().Class("label").Text("cosine to "+v.claimedName())),
			app.Div().Class("figure").Body(app.Span().ID("verdict").Class("value verdict "+v.verdictText()).Text(v.verdictText()), app.Span().Class("label").Text("1:1")),
			app.Div().Class("figure").Body(app.Span().ID("identity").Class("value").Text(v.identityText()), app.Span().Class("label").Text("1:k best match")),
		),
		app.Ol().ID("ranking").Class("ranking").Body(app.Range(v.ranked).Slice(func(i int) app.UI {
			m := v.ranked[i]
			return app.Li().Body(app.Span().Class("name").Text(m.Name), app.Text(" "), app.Span().Class("score").Text(FormatScore(m.Score)))
		})),
	)
}

// Status says the camera's and the detector's state in words, for
// #verify-status.
func (v *Verify) Status() string {
	switch v.camState {
	case CameraOn:
		if v.det == nil {
			return "camera on; " + v.camWords
		}
		return "camera on: detecting faces"
	case CameraStarting:
		return "starting the camera: allow it when the browser asks"
	}
	return v.camWords
}

// TrainStatus says what the encoder is doing, for #train-status.
func (v *Verify) TrainStatus() string {
	switch v.phase {
	case encoderTraining:
		return "training: " + v.run.Status()
	case encoderLoading:
		return "loading the model…"
	case encoderEmbedding:
		return "embedding the enrollments…"
	case encoderReady:
		return fmt.Sprintf("ready: %s, %d identities, D = %d", v.source, len(v.names), v.embDim)
	}
	if v.run.State == StateFailed || v.run.State == StateCrashed {
		return v.run.Status()
	}
	if len(v.gallery.Identities) < 2 {
		return "no encoder: enroll two identities or more, then train; or load a model"
	}
	return "no encoder: train one on the enrollments, or load a model"
}

// startCamera asks for the camera.
func (v *Verify) startCamera(ctx app.Context) {
	if !app.IsClient || v.cam != nil {
		return
	}
	v.camState = CameraStarting
	startCamera("video", "overlay",
		func(gray []uint8, w, h int, now float64, done func()) {
			ctx.Dispatch(func(ctx app.Context) {
				defer done()
				if !v.frame(gray, w, h, now) {
					ctx.PreventUpdate()
				}
			})
		},
		func(c *camera, state, words string) {
			ctx.Dispatch(func(ctx app.Context) {
				v.cam, v.camState, v.camWords = c, state, words
			})
		})
}

// frame handles one grey frame of the camera: detection, the overlay, the
// quality, the fps, a snapshot while recording, and a probe for the
// encoder. It reports whether the page shows something new.
func (v *Verify) frame(gray []uint8, w, h int, now float64) bool {
	if v.det == nil {
		return false
	}
	faces := v.det.Detect(gray, w, h)
	q, f := face.Check(gray, w, h, faces)
	v.cam.drawFaces(faces, q)
	v.fps.Tick(now)
	v.frameCount++
	changed := false
	if s := q.String(); s != v.quality {
		v.quality, changed = s, true
	}
	if now-v.lastShown >= 500 {
		v.lastShown = now
		v.shownFPS = math.Round(10*v.fps.FPS()) / 10
		app.Window().Set("verifyFPS", v.shownFPS)
		changed = true
	}
	if q != face.OK {
		return changed
	}
	v.lastCrop = face.Align(v.lastCrop, gray, w, h, *f, v.input)
	if v.recording && v.name != "" {
		v.gallery.Add(v.name, EncodeCrop(v.lastCrop, v.input.Channels, v.input.Height, v.input.Width))
		v.recorded++
		if v.recorded >= v.snapshots {
			v.record(false)
		}
		changed = true
	}
	if v.phase == encoderReady && !v.probePending {
		v.probe()
	}
	return changed
}

// record starts (on) or ends a hold of the record button; the gallery is
// stored at the end of a hold that took snapshots.
func (v *Verify) record(on bool) {
	if on == v.recording {
		return
	}
	v.recording = on
	if on {
		v.recorded = 0
		return
	}
	if v.recorded > 0 {
		v.galleryChanged()
	}
}

// deleteCrop deletes crop j of identity i and stores the gallery.
func (v *Verify) deleteCrop(i, j int) {
	v.gallery.Delete(i, j)
	v.galleryChanged()
}

// galleryChanged stores the gallery and, when there is an encoder, embeds
// it again for new templates and a new calibration.
func (v *Verify) galleryChanged() {
	v.store()
	if v.phase == encoderReady {
		v.embedGallery()
	}
}

// store writes the gallery to IndexedDB.
func (v *Verify) store() {
	if !app.IsClient {
		return
	}
	ctx := v.mounted
	saveGallery(string(MarshalGallery(v.gallery)), func(err error) {
		if err != nil {
			ctx.Dispatch(func(ctx app.Context) { v.note = "the gallery could not be stored: " + err.Error() })
		}
	})
}

// restore takes the gallery stored in IndexedDB, if any.
func (v *Verify) restore(data string, ok bool, err error) {
	if err != nil {
		v.note = err.Error()
		return
	}
	if !ok {
		return
	}
	g, err := UnmarshalGallery([]byte(data))
	if err != nil {
		v.note = "the stored gallery could not be read: " + err.Error()
		return
	}
	if g.Channels == v.input.Channels && g.Height == v.input.Height && g.Width == v.input.Width {
		v.gallery = g
	}
}

// importGallery replaces the gallery by the file b and stores it.
func (v *Verify) importGallery(b []byte, err error) {
	if err == nil {
		var g Gallery
		if g, err = UnmarshalGallery(b); err == nil {
			if g.Channels != v.input.Channels || g.Height != v.input.Height || g.Width != v.input.Width {
				err = fmt.Errorf("crops of %d×%d×%d, the page takes %d×%d×%d", g.Channels, g.Height, g.Width, v.input.Channels, v.input.Height, v.input.Width)
			} else {
				v.gallery = g
				v.note = "imported " + EnrollCount(len(g.Identities), g.Count())
				v.galleryChanged()
				return
			}
		}
	}
	v.note = "the gallery could not be imported: " + err.Error()
}

// startWorker starts the trainer's Web Worker.
func (v *Verify) startWorker(ctx app.Context) {
	if !app.IsClient {
		return
	}
	var w *worker
	w = newWorker(
		func(data string) {
			ctx.Dispatch(func(ctx app.Context) {
				if v.w == w {
					v.receive(data)
				}
			})
		},
		func(reason string) {
			ctx.Dispatch(func(ctx app.Context) {
				if v.w == w {
					v.run.Crash(reason)
					v.phase, v.probePending = encoderNone, false
				}
			})
		},
	)
	v.w = w
	v.run.State = StateIdle
}

// train sends the gallery to the worker to train on.
func (v *Verify) train() {
	s, err := v.gallery.Samples()
	if err != nil {
		v.note = err.Error()
		return
	}
	cfg := VerifyRequest(v.loss, v.arch, v.dim, v.epochs)
	v.run = NewRun(verifyTrainer, v.loss)
	v.run.State = StateRunning
	v.phase, v.probePending = encoderTraining, false
	v.source = v.loss + " trained here"
	v.w.post(SamplesCommand(verifyTrainer, "start", &cfg, s, "", v.channel()))
}

// VerifyRequest returns the training configuration of the verify page: the
// enrollments ("enrolled"), arch, loss, dimension, epochs, batch 32, Adam
// at 0.01, seed 1.
func VerifyRequest(loss, arch string, dim, epochs int) msg.TrainRequest {
	return msg.TrainRequest{Data: "enrolled", Arch: arch, Loss: loss, Dim: dim, Epochs: epochs, Batch: 32, LR: 0.01, Opt: "adam", Seed: 1}
}

// loadModel sends a model file to the worker, then embeds the gallery.
func (v *Verify) loadModel(b []byte, err error, what string) {
	if err != nil {
		v.modelNote = "the model could not be read: " + err.Error()
		return
	}
	v.modelNote = ""
	v.source = what
	v.run = NewRun(verifyTrainer, v.loss)
	v.run.State = StateIdle
	v.w.post(LoadCommand(verifyTrainer, b))
	v.embedGallery()
}

// loadModels reads the server's registry for the model list.
func (v *Verify) loadModels(ctx app.Context) {
	if !app.IsClient {
		return
	}
	c, stop := context.WithCancel(ctx)
	v.stopModels = stop
	client := NewClient()
	ctx.Async(func() {
		cards, err := client.Models(c)
		ctx.Dispatch(func(ctx app.Context) {
			if err == nil {
				v.models = cards
				if v.modelID == "" && len(cards) > 0 {
					v.modelID = cards[0].ID
				}
			}
		})
	})
}

// loadRegistryModel fetches the file of the server's model v.modelID and
// loads it.
func (v *Verify) loadRegistryModel(ctx app.Context) {
	id := v.modelID
	base := NewClient().Base
	v.phase = encoderLoading
	ctx.Async(func() {
		b, err := fetchBytes(ctx, base+ModelFileURL(id))
		ctx.Dispatch(func(ctx app.Context) {
			v.phase = encoderNone
			v.loadModel(b, err, "server model "+id)
		})
	})
}

// embedGallery asks the worker for the embeddings of the gallery.
func (v *Verify) embedGallery() {
	s, err := v.gallery.Samples()
	if err != nil || len(s.Labels) == 0 {
		v.phase = encoderNone
		if err != nil {
			v.note = err.Error()
		} else {
			v.modelNote = "the model is loaded: enroll someone to verify against"
		}
		return
	}
	g := v.gallery
	v.embedded = &g
	v.labels = s.Labels
	v.phase, v.probePending = encoderEmbedding, false
	v.w.post(SamplesCommand(verifyTrainer, "embed", nil, s, "gallery", ""))
}

// receive handles a message of the worker.
func (v *Verify) receive(data string) {
	e, ok, err := DecodeEmbeddings(data)
	if err != nil {
		v.note = err.Error()
		return
	}
	if ok {
		v.embeddings(e)
		return
	}
	m, err := DecodeMessage(data)
	if err != nil {
		v.note = err.Error()
		return
	}
	if err := v.run.Apply(m); err != nil {
		v.note = err.Error()
		return
	}
	switch {
	case m.Type == "error":
		v.phase, v.probePending = encoderNone, false
	case v.phase == encoderTraining && v.run.State == StateDone:
		v.embedGallery()
	}
}

// embeddings takes the worker's embeddings: of the gallery, the templates
// and the calibration; of a probe, the live scores.
func (v *Verify) embeddings(e *msg.Embeddings) {
	if e.ID == "gallery" {
		if v.embedded == nil || len(e.Values) != len(v.labels)*e.Dim {
			v.note = "the worker's embeddings do not match the gallery"
			v.phase = encoderNone
			return
		}
		v.embDim, v.embs = e.Dim, e.Values
		v.names = v.embedded.Names()
		v.templates = Templates(e.Values, e.Dim, v.labels, len(v.names))
		v.modelThreshold = e.Threshold
		v.claimed = min(v.claimed, len(v.names)-1)
		v.setFAR(v.far)
		v.phase = encoderReady
		return
	}
	if !strings.HasPrefix(e.ID, "probe-") || e.ID != "probe-"+strconv.Itoa(v.probeSeq) {
		return
	}
	v.probePending = false
	if v.phase != encoderReady || len(e.Values) != e.Dim || e.Dim != v.embDim {
		return
	}
	v.lastProbe = e.Values
	v.rescore()
}

// probe sends the latest crop to the worker to embed.
func (v *Verify) probe() {
	v.probeSeq++
	v.probePending = true
	s := &msg.Samples{Channels: v.input.Channels, Height: v.input.Height, Width: v.input.Width, Pixels: v.lastCrop}
	v.w.post(SamplesCommand(verifyTrainer, "embed", nil, s, "probe-"+strconv.Itoa(v.probeSeq), ""))
}

// rescore scores the latest probe against the templates at the threshold.
func (v *Verify) rescore() {
	if v.lastProbe == nil || len(v.templates) == 0 {
		return
	}
	best, scores := face.Identify(v.lastProbe, v.templates, v.threshold)
	v.best = best
	v.score = scores[v.claimed]
	v.hasScore = true
	v.ranked = Ranked(v.names, scores)
}

// setFAR calibrates the threshold for the false accept rate far.
func (v *Verify) setFAR(far float64) {
	v.far = far
	if v.embDim == 0 {
		return
	}
	v.calib = face.Calibrate(v.embs, v.embDim, v.labels, far)
	v.threshold = v.calib.Threshold
	if len(v.calib.Impostor) == 0 {
		v.threshold = v.modelThreshold
	}
	v.rescore()
}

// Templates returns the template (face.Template) of each of k identities
// from the N×d embeddings embs with labels in [0, k).
func Templates(embs []float32, d int, labels []int, k int) [][]float32 {
	if len(embs) != len(labels)*d {
		panic("app: Templates: embeddings and labels differ in number")
	}
	by := make([][]float32, k)
	for i, l := range labels {
		by[l] = append(by[l], embs[i*d:(i+1)*d]...)
	}
	ts := make([][]float32, k)
	for l := range by {
		if len(by[l]) > 0 {
			ts[l] = face.Template(nil, by[l], d)
		} else {
			ts[l] = make([]float32, d)
		}
	}
	return ts
}

// upload sends every crop of the gallery to the server's data set.
func (v *Verify) upload(ctx app.Context) {
	g, dataset, base := v.gallery, v.dataset, NewClient().Base
	v.uploading = true
	v.uploadNote = "sending…"
	ctx.Async(func() {
		sent, err := 0, error(nil)
	all:
		for _, id := range g.Identities {
			for _, c := range id.Crops {
				var b []byte
				if b, err = CropBytes(c); err != nil {
					break all
				}
				var req *http.Request
				if req, err = UploadRequest(base, dataset, id.Name, b, ""); err != nil {
					break all
				}
				req = req.WithContext(ctx)
				var resp *http.Response
				if resp, err = http.DefaultClient.Do(req); err != nil {
					break all
				}
				if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
					err = responseError(resp)
					resp.Body.Close()
					break all
				}
				resp.Body.Close()
				sent++
			}
		}
		ctx.Dispatch(func(ctx app.Context) {
			v.uploading = false
			v.uploadNote = fmt.Sprintf("sent %d of %d snapshots to data set %s", sent, g.Count(), dataset)
			if err != nil {
				v.uploadNote += ": " + err.Error()
			}
		})
	})
}

// channel returns the BroadcastChannel of the page's viewer.
func (v *Verify) channel() string { return "metriclab-verify-" + v.nonce }

// claimedName returns the name of the claimed identity, "–" before there
// are templates.
func (v *Verify) claimedName() string {
	if v.claimed < len(v.names) {
		return v.names[v.claimed]
	}
	return "–"
}

// scoreText writes the live 1:1 score, "–" before there is one.
func (v *Verify) scoreText() string {
	if !v.hasScore {
		return "–"
	}
	return FormatScore(v.score)
}

// verdictText writes the live 1:1 verdict, "–" before there is one.
func (v *Verify) verdictText() string {
	if !v.hasScore {
		return "–"
	}
	return Verdict(v.score, v.threshold)
}

// identityText writes the live 1:k answer: the best match's name, or
// "unknown" below the threshold.
func (v *Verify) identityText() string {
	switch {
	case !v.hasScore:
		return "–"
	case v.best < 0:
		return "unknown"
	}
	return v.names[v.best]
}

// recordLabel is the record button's text.
func recordLabel(recording bool, n, of int) string {
	if recording {
		return fmt.Sprintf("recording… %d/%d", n, of)
	}
	return fmt.Sprintf("Hold to record %d snapshots", of)
}

// selectField draws a labelled <select> of options with value selected.
func selectField(id, label string, options []string, value string, disabled bool, set func(string)) app.UI {
	return app.Div().Class("field").Body(
		app.Label().For(id).Text(label),
		app.Select().ID(id).Disabled(disabled).Body(app.Range(options).Slice(func(i int) app.UI {
			return app.Option().Value(options[i]).Selected(options[i] == value).Text(options[i])
		})).OnChange(func(ctx app.Context, e app.Event) { set(ctx.JSSrc().Get("value").String()) }),
	)
}

// readFile reads the first file of the file input in as bytes and calls
// done on the browser's event loop.
func readFile(in app.Value, done func([]byte, error)) {
	files := in.Get("files")
	if !files.Truthy() || files.Length() == 0 {
		done(nil, fmt.Errorf("no file chosen"))
		return
	}
	var ok, fail app.Func
	release := func() { ok.Release(); fail.Release() }
	ok = app.FuncOf(func(this app.Value, args []app.Value) any {
		release()
		arr := app.Window().Get("Uint8Array").New(args[0])
		b := make([]byte, arr.Length())
		app.CopyBytesToGo(b, arr)
		done(b, nil)
		return nil
	})
	fail = app.FuncOf(func(this app.Value, args []app.Value) any {
		release()
		done(nil, fmt.Errorf("%s", args[0].Call("toString").String()))
		return nil
	})
	files.Index(0).Call("arrayBuffer").Call("then", ok).Call("catch", fail)
	in.Set("value", "")
}

// fetchBytes returns the body of GET url.
func fetchBytes(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(resp)
	}
	return io.ReadAll(resp.Body)
}
