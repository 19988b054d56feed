package app

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/face"
	"metriclab/core/msg"
)

// Where the server serves pigo's cascades (from package assets): the page
// fetches them when the Verify page opens, so that its binary does not
// carry them.
const (
	FaceFinderPath = "/web/cascade/facefinder"
	PupLocPath     = "/web/cascade/puploc"
)

// Verify is the webcam enroll-and-verify page. Its state is a VerifyState
// (plain Go, tested natively), drawn by four panels (CameraPanel,
// EnrollPanel, EncoderPanel, LivePanel); the page itself only does the
// I/O the state asks for: the camera and the face detector, IndexedDB,
// the trainer's worker, and the server's API (the cascades, the registry,
// model files, uploads) through Client.
type Verify struct {
	app.Compo

	Client *Client // nil: NewClient() when mounted

	st      VerifyState
	mounted app.Context
	cam     *camera
	det     *face.Detector
	w       *worker
	crashed bool               // w died and was stopped: the next command starts another
	told    *broadcast         // after a crash, answers the trainer panel's viewer (tellViewerCrashed) until another w starts
	stop    context.CancelFunc // the page's calls to the server
	aside   string             // the IndexedDB key a record the page could not restore is set aside under (saveGallery), once a store needed one
	// stores are the stores of the gallery asked and not answered, each
	// by its aside key ("": none), the first under way: one at a time,
	// as each writes only over the record the one before left
	// (saveGallery, VerifyState.StoreExpects).
	stores []string
	// watch is the page's end of galleryChannel, on which it says that it
	// stored the gallery and hears that another tab did (watchGallery);
	// recheck: another tab did while a store of the page's was under way,
	// and the record is read again once the page's stores have answered.
	watch   *broadcast
	recheck bool
}

// NewVerify returns the page with VerifyState's defaults.
func NewVerify() *Verify { return &Verify{st: NewVerifyState()} }

// OnMount fetches the cascades and starts the detector, loads the gallery,
// the encoder kept beside it and the FAR chosen from IndexedDB (restore),
// starts the trainer's worker and the camera, lists the server's models,
// and loads ?model= (a model of the registry), if any, once (loadLink).
func (v *Verify) OnMount(ctx app.Context) {
	v.mounted = ctx
	v.st.SetChannel("metriclab-verify-" + strconv.FormatUint(rand.Uint64()>>16, 36))
	if !app.IsClient {
		return
	}
	if v.Client == nil {
		v.Client = NewClient()
	}
	c, stop := context.WithCancel(ctx)
	v.stop = stop
	client := v.Client
	ctx.Async(func() {
		det, err := loadDetector(c, client)
		ctx.Dispatch(func(ctx app.Context) {
			v.det = det
			v.st.DetectorReady(err)
		})
	})
	v.restore(ctx)
	listAside(func(keys []string, err error) {
		if err == nil { // Restore says why IndexedDB failed
			ctx.Dispatch(func(ctx app.Context) { v.st.Listed(keys) })
		}
	})
	v.startWorker()
	v.st.Run.State = msg.StateIdle // web/trainer.js queues commands until trainer.wasm is ready
	ctx.Async(func() {
		cards, err := client.Models(c)
		ctx.Dispatch(func(ctx app.Context) { v.st.SetModels(cards, err) })
	})
	v.loadLink(ctx)
	v.startCamera(ctx)
}

// OnNav loads ?model= of the address go-app navigated to while the page
// is mounted (loadLink): a Back or Forward to an entry of the history
// that names a model, or a link to /verify?model= followed on this page.
// go-app keeps the page mounted there, the route being the same
// (WithNav.OnUpdate), and does not mount it again. An entry of no
// ?model= keeps what is loaded. After a mount, OnMount's loadLink took
// ?model= out of the address already: OnNav, told after it, loads
// nothing again.
func (v *Verify) OnNav(ctx app.Context) { v.loadLink(ctx) }

// OnDismount stops the camera, the worker, the calls to the server and
// the watch of other tabs' stores.
func (v *Verify) OnDismount() {
	v.cam.stop()
	v.watch.close()
	v.w.terminate()
	v.told.close()
	if v.stop != nil {
		v.stop()
	}
}

// Render draws the page: its status, its note, and the four panels.
func (v *Verify) Render() app.UI {
	s := v.st
	return app.Div().Class("page verify-page").Body(
		app.Header().Class("top").Body(
			app.H1().Text("Verify"),
			app.P().ID("verify-status").Class("status").Role("status").Text(s.CameraStatus()),
		),
		// In a slot of its own, there without a note: go-app matches
		// children by place, and a note that came in the panels' place
		// would draw them again, the camera's stream left in a <video> no
		// longer shown, what was typed in a field and not yet taken lost.
		// There empty (drawn as nothing: CSS :empty), a live region that a
		// screen reader reads as it changes.
		app.Div().Class("slot").Body(app.P().ID("verify-note").Class("note").Role("status").Text(s.Note)),
		app.Div().Class("verify-layout").Body(
			// The live answers under the camera, in one column: in a grid
			// cell of their own they came below the tallest panel (the
			// encoder's, with its charts), out of sight of the face.
			app.Div().Class("verify-column").Body(
				&CameraPanel{Quality: s.Quality, FPS: s.FPS, ShowStart: v.cam == nil && s.Camera != CameraStarting, OnStart: func() { v.startCamera(v.mounted) }},
				&LivePanel{S: s, OnClaim: v.st.Claim, OnThreshold: v.st.SetThreshold, OnKeep: func() { v.do(v.st.KeepThreshold()) }},
			),
			&EnrollPanel{
				S: s, CanRecord: s.CanRecord(),
				OnName:    v.st.SetName,
				OnRecord:  func(on bool) { v.do(v.st.Record(on)) },
				OnDelete:  func(name, crop string) { v.do(v.st.DeleteSnapshot(name, crop)) },
				OnRemove:  v.removeIdentity,
				OnExport:  func() { download("metriclab-gallery.json", "application/json", MarshalGallery(v.st.Gallery)) },
				OnImport:  v.importGallery,
				OnUnread:  v.downloadUnread,
				OnAside:   v.downloadAside,
				OnDiscard: v.deleteAside,
				OnDataset: func(name string) { v.do(v.st.SetDataset(name)) },
				OnUpload:  v.upload,
			},
			&EncoderPanel{
				S: s, HasWorker: v.w != nil || v.crashed, // a dead worker is replaced on the next command
				OnSet:       v.st.SetEncoder,
				OnTrain:     func() { v.do(v.st.Train()) },
				OnModelFile: func(b []byte, err error, what string) { v.do(v.st.LoadModel(b, err, what)) },
				OnModel:     v.st.SelectModel,
				OnLoadModel: func() { v.fetchModel(v.mounted) },
				OnFAR:       func(far float64) { v.do(v.st.SetFAR(far)) },
				OnKeepFAR:   func() { v.do(v.st.KeepFAR()) },
			},
		),
	)
}

// Stops says what leaving the page would stop (stopper): the encoder's
// training (VerifyState.Stops).
func (v *Verify) Stops() string { return v.st.Stops() }

// restore loads the server data set's name typed in an earlier visit, and
// the false accept rate chosen then, from IndexedDB (the encoder is
// calibrated at the latter), and the gallery and
// then the encoder kept beside it, which embeds it, with the threshold
// set by hand on it, and from then on the gallery other tabs store
// (watchGallery): go-app mounts a new page each time the user comes
// back to it, and the one before stopped its worker, which held the
// encoder. The FAR is asked for first, and comes long before the
// encoder's calibration, which needs the worker's embeddings; should it
// come after, RestoreFAR calibrates again.
func (v *Verify) restore(ctx app.Context) {
	v.st.Restoring()
	v.watchGallery(ctx)
	loadGallery(datasetKey, func(data string, ok bool, err error) {
		ctx.Dispatch(func(ctx app.Context) { v.st.RestoreDataset(data, ok, err) })
	})
	loadGallery(farKey, func(data string, ok bool, err error) {
		ctx.Dispatch(func(ctx app.Context) { v.do(v.st.RestoreFAR(data, ok, err)) })
	})
	loadGallery(galleryKey, func(data string, ok bool, err error) {
		ctx.Dispatch(func(ctx app.Context) {
			v.do(v.st.Restore(data, ok, err))
			loadGallery(encoderKey, func(data string, ok bool, err error) {
				loadGallery(thresholdKey, func(hand string, handOK bool, handErr error) {
					ctx.Dispatch(func(ctx app.Context) {
						v.do(v.st.RestoreEncoder(data, ok, err))
						v.do(v.st.RestoreThreshold(hand, handOK, handErr))
					})
				})
			})
		})
	})
}

// watchGallery listens on galleryChannel for the stores of the page's
// other tabs: the record at galleryKey is read and handed to the state
// (StoredElsewhere), which shows it, unless it is the one the page
// restored or stored last. While a store of the page's is under way the
// record is read once it has answered (recheck): that store meanwhile
// finds another tab's record itself (Contested). No BroadcastChannel:
// the page shows another tab's changes at its next store, as before.
func (v *Verify) watchGallery(ctx app.Context) {
	if v.watch != nil {
		return
	}
	v.watch = openBroadcast(galleryChannel, func(sum string) {
		ctx.Dispatch(func(ctx app.Context) {
			if sum != v.st.StoreExpects() {
				v.readStored(ctx)
			}
		})
	})
}

// readStored reads the record at galleryKey for StoredElsewhere, or
// marks it to be read once the page's stores under way have answered.
func (v *Verify) readStored(ctx app.Context) {
	if len(v.stores) > 0 {
		v.recheck = true
		return
	}
	loadGallery(galleryKey, func(data string, ok bool, err error) {
		ctx.Dispatch(func(ctx app.Context) {
			if len(v.stores) > 0 {
				v.recheck = true
				return
			}
			v.do(v.st.StoredElsewhere(data, ok, err))
		})
	})
}

// loadLink loads ?model=, the server's model a link names (VerifyLink),
// and takes it out of the page's URL: a reload, or Back to the page,
// restores the encoder kept in IndexedDB, which is the link's once it
// took, rather than loading the link's again over an encoder trained or
// loaded since, which it would replace there (the stored encoder, read
// while the link's model loads, is held back, and comes back should it
// fail: RestoreEncoder). While the encoder is busy (a Back to a link
// during a training: OnNav) the model is chosen, not loaded, and the
// model note says so (VerifyState.LinkModel).
func (v *Verify) loadLink(ctx app.Context) {
	u := *ctx.Page().URL()
	q := u.Query()
	id := q.Get("model")
	if id == "" {
		return
	}
	q.Del("model")
	u.RawQuery = q.Encode()
	replacePageURL(ctx.Page(), &u)
	if v.st.LinkModel(id) {
		v.fetchModel(ctx)
	}
}

// startWorker starts the trainer's worker. One that dies (a panic or out
// of memory in trainer.wasm) is stopped, and the next command starts a
// fresh one, without an encoder, as the page's state is after the crash.
func (v *Verify) startWorker() {
	v.w = spawnWorker(v.mounted, false, func(w *worker) bool { return v.w == w },
		func(data string) { v.do(v.st.Receive(data)) },
		func(err error) { v.do(v.st.Unread(err)) },
		v.crash)
	v.crashed = false
	if v.told != nil { // after a crash: the viewer shows the run gone
		tellViewerIdle(v.st.channel, v.st.Run.Trainer)
	}
	v.told.close() // the new worker answers the viewer
	v.told = nil
	v.st.WorkerStarted()
}

// crash takes the death of the worker, for reason: the page and the
// trainer panel's viewer, and one that loads later until another worker
// starts, are told (tellViewerCrashed), the dead worker is stopped, and
// what the state asks is done (VerifyState.Crash): the stored encoder
// whose load it died in deleted from IndexedDB, or the one held back
// during a link's load loaded in another worker.
func (v *Verify) crash(reason string) {
	run := v.st.Run
	run.Crash(reason) // as the state's, before a load restored at once starts it again
	out := v.st.Crash(reason)
	v.told.close()
	v.told = tellViewerCrashed(v.st.channel, run)
	v.w.terminate()
	v.w, v.crashed = nil, true
	v.do(out)
}

// do carries out what a transition of the state asks: commands to the
// worker (started again if it died), and storing the gallery, the
// encoder, its hand-set threshold and the FAR chosen in IndexedDB, or
// deleting the encoder, the threshold or the FAR's record there.
func (v *Verify) do(out Out) {
	if len(out.Post) > 0 && v.w == nil && app.IsClient {
		v.startWorker()
	}
	for _, m := range out.Post {
		v.w.post(m)
	}
	if out.Store && app.IsClient {
		aside := ""
		if out.Aside {
			if v.aside == "" { // one key a page: a store that finds it taken leaves it (an earlier one set the record aside)
				v.aside = asidePrefix + time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
			}
			aside = v.aside
		}
		v.stores = append(v.stores, aside)
		if len(v.stores) == 1 {
			v.storeNext()
		}
	}
	v.write(encoderKey, out.Keep, out.Forget, v.st.EncoderStored)
	v.write(thresholdKey, out.KeepThreshold, out.ForgetThreshold, v.st.ThresholdStored)
	v.write(farKey, out.KeepFAR, out.ForgetFAR, v.st.FARStored)
	v.write(datasetKey, out.KeepDataset, false, v.st.DatasetStored)
}

// storeNext stores the gallery as it is now for the first of the stores
// asked, and, once it has answered, the next: a store that found another
// tab's record (saved.Changed) hands it to the state (Contested), which
// asks for another.
func (v *Verify) storeNext() {
	ctx, aside := v.mounted, v.stores[0]
	g := v.st.Gallery.clone()
	data := MarshalGallery(g)
	saveGallery(string(data), v.st.StoreExpects(), aside, func(r saved) {
		ctx.Dispatch(func(ctx app.Context) {
			if r.Changed {
				v.do(v.st.Contested(r.Data, r.OK, r.ReadErr))
			} else {
				if r.Err == nil {
					v.st.Synced(g, recordSum(data))
					v.watch.post(recordSum(data)) // other tabs show it
				}
				if !r.Kept {
					aside = ""
				}
				v.st.Stored(aside, r.Err)
			}
			v.stores = v.stores[1:]
			switch {
			case len(v.stores) > 0:
				v.storeNext()
			case v.recheck:
				v.recheck = false
				v.readStored(ctx)
			}
		})
	})
}

// datasetKey is the IndexedDB key, beside the gallery's (galleryKey), of
// the name of the server's data set typed in the page's field
// (VerifyState.SetDataset's record: the name as a JSON string).
const datasetKey = "dataset"

// write keeps record in IndexedDB under key, or deletes the one there
// when forget, and hands the end of it to stored, with forget (nil
// record and no forget: nothing to do).
func (v *Verify) write(key string, record []byte, forget bool, stored func(deleted bool, err error)) {
	if (record == nil && !forget) || !app.IsClient {
		return
	}
	ctx := v.mounted
	done := func(err error) { ctx.Dispatch(func(ctx app.Context) { stored(forget, err) }) }
	if forget {
		deleteGallery(key, done)
		return
	}
	saveRecord(key, string(record), done)
}

// importGallery replaces the gallery by the gallery file b (ReadGallery,
// Import; err, why it could not be read), once the user confirms it when
// the gallery holds snapshots: they are lost unless exported. The file is
// read first: one that cannot be imported asks nothing, and the question
// says what the file holds.
func (v *Verify) importGallery(b []byte, err error) {
	g, err := ReadGallery(b, err)
	if cur := v.st.Gallery; err == nil && cur.Count() > 0 &&
		!confirmed("Replace the gallery, "+EnrollCount(len(cur.Identities), cur.Count())+", by the file's, "+EnrollCount(len(g.Identities), g.Count())+"? The gallery's snapshots are lost unless you exported it.") {
		return
	}
	v.do(v.st.Import(g, err))
}

// removeIdentity removes name and all its snapshots from the gallery
// (VerifyState.RemoveIdentity), once the user confirms it: they are lost
// unless exported, and a person's snapshots cannot be recorded again as
// they were.
func (v *Verify) removeIdentity(name string) {
	i := slices.IndexFunc(v.st.Gallery.Identities, func(id Identity) bool { return id.Name == name })
	if i < 0 {
		return
	}
	n := len(v.st.Gallery.Identities[i].Crops)
	if !confirmed("Remove " + name + " and " + msg.Plural(n, "snapshot", "snapshots") + " from the gallery? They are lost unless you exported the gallery.") {
		return
	}
	v.do(v.st.RemoveIdentity(name))
}

// downloadUnread offers the stored gallery that the page could not
// restore, as it is, as a file; nothing while a store that sets it aside
// is in flight (a click drawn before it began), as the page's gallery may
// be at its key by the time it is read (DownloadKey).
func (v *Verify) downloadUnread() {
	key := v.st.DownloadKey()
	if key == "" {
		return
	}
	ctx := v.mounted
	loadGallery(key, func(data string, ok bool, err error) {
		if err == nil && ok {
			download("metriclab-gallery-unread.json", "application/json", []byte(data))
			return
		}
		if err == nil {
			err = errors.New("it is no longer stored")
		}
		ctx.Dispatch(func(ctx app.Context) { v.st.Note = "the unread gallery could not be downloaded: " + err.Error() })
	})
}

// downloadAside offers the record set aside under key in an earlier
// visit, as it is, as a file; the note says why not (NotDownloaded).
func (v *Verify) downloadAside(key string) {
	ctx := v.mounted
	loadGallery(key, func(data string, ok bool, err error) {
		if err == nil && ok {
			download("metriclab-"+strings.ReplaceAll(key, ":", "-")+".json", "application/json", []byte(data))
			return
		}
		ctx.Dispatch(func(ctx app.Context) { v.st.NotDownloaded(key, err) })
	})
}

// deleteAside deletes the record set aside under key in an earlier
// visit, once the user confirms it.
func (v *Verify) deleteAside(key string) {
	if !confirmed("Delete " + key + " from this browser's storage? The people enrolled in it are lost unless you downloaded it.") {
		return
	}
	ctx := v.mounted
	deleteGallery(key, func(err error) {
		ctx.Dispatch(func(ctx app.Context) { v.st.Deleted(key, err) })
	})
}

// startCamera asks for the camera; its frames go to frame.
func (v *Verify) startCamera(ctx app.Context) {
	if !app.IsClient || v.cam != nil {
		return
	}
	v.st.CameraStarted(CameraStarting, "")
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
				v.cam = c
				v.st.CameraStarted(state, words)
			})
		},
		func(c *camera) {
			ctx.Dispatch(func(ctx app.Context) {
				if v.cam == c {
					v.cam = nil // Start camera shows again
					v.do(v.st.CameraEnded())
				}
			})
		})
}

// frame detects the faces of one grey frame, draws them on the overlay
// and hands the quality and the aligned crop to the state. It reports
// whether the page shows something new.
func (v *Verify) frame(gray []uint8, w, h int, now float64) bool {
	if v.det == nil {
		return false
	}
	faces := v.det.Detect(gray, w, h)
	q, f := face.Check(gray, w, h, faces)
	v.cam.drawFaces(faces, q)
	var crop []float32
	if q == face.OK {
		crop = face.Align(nil, gray, w, h, *f, v.st.Input)
	}
	changed, out := v.st.Frame(now, q, crop)
	if v.st.FPSChanged {
		app.Window().Set("verifyFPS", v.st.FPS)
	}
	v.do(out)
	return changed
}

// fetchModel fetches the file of the server's model the state chose, and
// loads it. A fetch that fails (the model deleted since the list was
// read, say) reads the list again, so that it offers what the server has.
func (v *Verify) fetchModel(ctx app.Context) {
	id, ok := v.st.FetchModel()
	if !ok || v.Client == nil {
		return
	}
	client, what := v.Client, "server model "+v.st.ModelName(id) // named before the list is read again
	ctx.Async(func() {
		b, err := client.ModelFile(ctx, id)
		var cards []msg.ModelCard
		var listErr error
		if err != nil {
			cards, listErr = client.Models(ctx)
		}
		ctx.Dispatch(func(ctx app.Context) {
			v.do(v.st.ModelFetched(b, err, what))
			if err != nil {
				v.st.SetModels(cards, listErr) // an error keeps the list there
			}
		})
	})
}

// upload sends every crop of the gallery to the server's data set, one
// request each, with the tab's classroom token; a crop the server is too
// busy to take is sent again (Client.Waiting), the note saying so. It
// counts the crops the server held already (msg.Sample.Existed): it keeps
// each once, so a send again adds only those it lacks.
func (v *Verify) upload() {
	ups, err := v.st.StartUpload()
	if err != nil || v.Client == nil {
		return
	}
	ctx, dataset := v.mounted, v.st.Dataset
	client := v.Client.Waiting(func(wait time.Duration) {
		ctx.Dispatch(func(app.Context) { v.st.UploadWaits(wait) })
	})
	ctx.Async(func() {
		sent, added := 0, 0
		var err error
		for _, u := range ups {
			var smp msg.Sample
			if smp, err = client.UploadSample(ctx, dataset, u.Identity, u.PNG); err != nil {
				break
			}
			sent++
			if !smp.Existed {
				added++
			}
		}
		ctx.Dispatch(func(ctx app.Context) { v.st.Uploaded(sent, added, err) })
	})
}

// loadDetector fetches pigo's cascades from the server and unpacks them.
func loadDetector(ctx context.Context, c *Client) (*face.Detector, error) {
	ff, err := c.Bytes(ctx, FaceFinderPath)
	if err != nil {
		return nil, err
	}
	pl, err := c.Bytes(ctx, PupLocPath)
	if err != nil {
		return nil, err
	}
	return face.NewDetector(ff, pl)
}
