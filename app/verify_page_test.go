//go:build !js

package app

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"metriclab/core/face"
	"metriclab/core/msg"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// element returns the opening tag and the text (up to the first child
// tag, unescaped) of the element of id in the HTML of the mounted c, and
// whether there is one.
func element(t *testing.T, c app.UI, id string) (tag, text string, ok bool) {
	t.Helper()
	h := app.HTMLString(c)
	// Attribute values are quoted as Go strings (go-app's HTMLString): a
	// value may hold '>' and escaped quotes.
	const attrs = `(?:[^>"]|"(?:[^"\\]|\\.)*")*`
	m := regexp.MustCompile(`<[a-z0-9]+` + attrs + ` id="` + regexp.QuoteMeta(id) + `"` + attrs + `>([^<]*)`).FindStringSubmatch(h)
	if m == nil {
		return "", "", false
	}
	return m[0][:len(m[0])-len(m[1])], strings.TrimSpace(html.UnescapeString(m[1])), true
}

// wantText checks the text of the element of id.
func wantText(t *testing.T, c app.UI, id, want string) {
	t.Helper()
	if _, got, ok := element(t, c, id); !ok || got != want {
		t.Errorf("#%s = %q (there: %v), want %q", id, got, ok, want)
	}
}

// disabled reports whether the element of id is disabled.
func disabled(t *testing.T, c app.UI, id string) bool {
	t.Helper()
	tag, _, ok := element(t, c, id)
	if !ok {
		t.Fatalf("no #%s", id)
	}
	// go-app writes a false boolean attribute as disabled="false".
	return regexp.MustCompile(`\sdisabled(\s|>)`).MatchString(tag)
}

func TestVerifyRender(t *testing.T) {
	v := NewVerify()
	mount(t, v)
	wantText(t, v, "verify-status", "camera off: press Start camera")
	wantText(t, v, "enroll-count", "0 identities, 0 snapshots")
	wantText(t, v, "score", "–")
	wantText(t, v, "quality", "–")
	wantText(t, v, "train-status", "no encoder: enroll two identities or more, then train; or load a model")
	if !disabled(t, v, "btn-train") || !disabled(t, v, "btn-record") || !disabled(t, v, "btn-upload") {
		t.Error("Train, record or Send enabled on an empty page")
	}
	if _, _, ok := element(t, v, "verify-token"); !ok {
		t.Error("no classroom token field")
	}

	// Two identities, one of them a name the server refuses: Send says why
	// before the click.
	v = NewVerify()
	v.st = enrolled()
	v.st.Gallery.Add("a/b", v.st.Gallery.Identities[0].Crops[0])
	mount(t, v)
	wantText(t, v, "enroll-count", "3 identities, 7 snapshots")
	wantText(t, v, "upload-status", `cannot send: "a/b": a name cannot hold any of / \ : * ? " < > |`)
	if !disabled(t, v, "btn-upload") {
		t.Error("Send enabled with a name the server refuses")
	}
	// No worker outside a browser: Train waits for one.
	if !disabled(t, v, "btn-train") {
		t.Error("Train enabled without a worker")
	}

	// Ready, with a probe: the live panel shows the scores.
	ready := func() *Verify { // trained, the gallery embedded, probe 1 sent
		v := NewVerify()
		v.st = enrolled()
		v.st.Train()
		v.st.Receive(stateMsg("done"))
		v.st.Receive(embMsg(galleryID(v.st.gallerySeq), 2, galleryEmbs()))
		okFrame(&v.st, 1)
		return v
	}
	// The training's own figures, its threshold of best accuracy with
	// them, are said to be its check, not the threshold in use: the page
	// showed "threshold 53°" there and 50.2° below, for one encoder.
	v = ready()
	v.st.Run.Epochs = []EpochFigures{{Epoch: 1, VerificationSummary: msg.VerificationSummary{Accuracy: 0.833, Threshold: 0.596}}}
	mount(t, v)
	wantText(t, v, "training-check", TrainingCheckNote)
	v = ready()
	v.st.Receive(embMsg("probe-1", 2, []float32{1, 0}))
	mount(t, v)
	wantText(t, v, "score", "1.000 (0.0°)")
	wantText(t, v, "verdict", "accept")
	wantText(t, v, "identity", "alice")
	wantText(t, v, "calibrated-on", "calibrated on 2 held-out snapshots (not trained on)")
	wantText(t, v, "upload-status", "")
	if _, _, ok := element(t, v, "training-check"); ok {
		t.Error("#training-check without a training's figures")
	}
	if disabled(t, v, "btn-upload") || disabled(t, v, "threshold") {
		t.Error("Send or the threshold disabled when ready")
	}
	if _, s, ok := element(t, v, "suggested"); !ok || !strings.Contains(s, "FRR 0.0%") {
		t.Errorf("#suggested = %q", s)
	}

	// The probe refused: the live panel says why, the encoder stays.
	v = ready()
	v.st.Receive(refusedMsg("probe-1", "samples of 1×8×8, the encoder takes 1×32×32"))
	mount(t, v)
	wantText(t, v, "probe-note", "probe 1 could not be embedded: samples of 1×8×8, the encoder takes 1×32×32")
	wantText(t, v, "verdict", "–")
	wantText(t, v, "train-status", "ready: arcface trained here, 2 identities, D = 2")
}

// TestVerifyPageNoSuggestion: the #suggested line says when the
// calibration has no threshold to suggest (one identity, a model without
// one), and suggests the model's own otherwise, at the FAR it was
// measured at in the model's training. Before, that read "at FAR 0.0%
// (measured)", a FAR the page had no impostor score to measure.
func TestVerifyPageNoSuggestion(t *testing.T) {
	for _, tc := range []struct {
		far  float64
		want string
	}{
		{far: 0, want: "no suggested threshold: one identity gives no impostor scores and the model has no threshold of its own"},
		{far: 0.02, want: "suggested threshold 0.000 (90.0°), the model's own, at FAR 2.0% (measured in its training: one identity gives no impostor scores here), FRR 0.0%; 3 genuine scores"},
	} {
		v := NewVerify()
		v.st = oneIdentity(t, 0, tc.far)
		mount(t, v)
		if _, text, ok := element(t, v, "suggested"); !ok || !strings.HasPrefix(text, tc.want) {
			t.Errorf("model threshold 0 at FAR %v: #suggested = %q, want it to begin %q", tc.far, text, tc.want)
		}
	}
}

// TestVerifyPageThresholdSetByHand: once the threshold is set by hand,
// the live panel says so, and #suggested says that it stays until a false
// accept rate is chosen, rather than that the threshold in use is the
// suggested one (or, with nothing to suggest, 1, which rejects everyone).
func TestVerifyPageThresholdSetByHand(t *testing.T) {
	v := NewVerify()
	v.st = oneIdentity(t, 0, 0)
	v.st.SetThreshold(0.5)
	mount(t, v)
	wantText(t, v, "suggested", "no suggested threshold: one identity gives no impostor scores and the model has no threshold of its own; 3 genuine scores; "+
		"the threshold in use, 0.500 (60.0°), was set by hand and stays until a false accept rate is chosen or another encoder is trained or loaded")
	if h := app.HTMLString(v); !strings.Contains(h, "threshold 0.500 (60.0°), set by hand") {
		t.Error("the live panel does not say that the threshold was set by hand")
	}
}

// TestVerifyPageProbeGoes: #verdict's data-probe names the probe whose
// answers the live panel shows, and goes with them when the face has been
// gone for faceGoneAfter (forgetProbe), as #score and #identity do.
// Before, it kept the number of the probe of the face that went.
func TestVerifyPageProbeGoes(t *testing.T) {
	s := enrolled()
	s.Train()
	s.Receive(stateMsg(msg.StateDone))
	s.Receive(embMsg(galleryID(s.gallerySeq), 2, galleryEmbs()))
	okFrame(&s, 10)
	s.Receive(embMsg(probeID(1), 2, []float32{1, 0}))
	probe := regexp.MustCompile(`\sdata-probe=`)
	v := NewVerify()
	v.st = s
	mount(t, v)
	if tag, _, _ := element(t, v, "verdict"); !strings.Contains(tag, `data-probe="1"`) {
		t.Fatalf("probe 1 scored: #verdict is %s, want data-probe=\"1\"", tag)
	}
	crashed := s
	s.Frame(10+faceGoneAfter, face.NoFace, nil)
	v = NewVerify()
	v.st = s
	mount(t, v)
	if tag, text, _ := element(t, v, "verdict"); probe.MatchString(tag) || text != "–" {
		t.Errorf("the face gone: #verdict is %s %q, want no data-probe, –", tag, text)
	}
	// The worker dies with the encoder: its answers go with it.
	crashed.Crash("out of memory")
	v = NewVerify()
	v.st = crashed
	mount(t, v)
	for _, id := range []string{"verdict", "score", "identity"} {
		if tag, text, _ := element(t, v, id); probe.MatchString(tag) || text != "–" {
			t.Errorf("the worker crashed: #%s is %s %q, want –", id, tag, text)
		}
	}
}

// TestVerifyPageUnreadGallery: a stored gallery of text that the page
// could not read can be downloaded as it is, before it is set aside and
// after, but not while the store that sets it aside is in flight (the
// page's gallery may be at its key by the time it is read); the page's
// own gallery offers no such button.
func TestVerifyPageUnreadGallery(t *testing.T) {
	v := NewVerify()
	mount(t, v)
	if _, _, ok := element(t, v, "btn-download-unread"); ok {
		t.Error("Download unread gallery on a page that read its gallery")
	}
	v = NewVerify()
	v.st.Restore("{", true, nil)
	mount(t, v)
	if _, text, ok := element(t, v, "btn-download-unread"); !ok || text != "Download unread gallery" {
		t.Errorf("#btn-download-unread = %q (there: %v) after a record that is not JSON, want Download unread gallery", text, ok)
	}
	wantText(t, v, "verify-note", "the stored gallery could not be read: not a gallery file: unexpected end of JSON input"+storedKept)

	v = NewVerify()
	v.st.Restore("{", true, nil)
	v.st.CameraStarted(CameraOn, "")
	v.st.DetectorReady(nil)
	v.st.SetName("bob")
	v.st.Record(true)
	okFrame(&v.st, 0)
	if out := v.st.Record(false); !out.Aside {
		t.Fatalf("a hold: out %+v, want the record set aside", out)
	}
	mount(t, v)
	if _, _, ok := element(t, v, "btn-download-unread"); ok {
		t.Error("Download unread gallery while the store that sets it aside is in flight")
	}
	const aside = asidePrefix + "2026-12-06T21:40:00.000Z"
	v.st.Stored(aside, nil)
	v = &Verify{st: v.st}
	mount(t, v)
	if _, _, ok := element(t, v, "btn-download-unread"); !ok || v.st.DownloadKey() != aside {
		t.Errorf("set aside under %s: Download unread gallery there %v, reading %q", aside, ok, v.st.DownloadKey())
	}
}

// TestVerifyPageGalleriesAside: the records set aside in earlier visits
// that the page listed as it opened are offered, each with Download and
// Delete, in one line that goes with the last of them; a deletion that
// failed keeps its record listed, and a download that failed says why:
// a record that is not text cannot be saved, one another tab deleted is
// no longer listed. Before, the page said nothing of them.
func TestVerifyPageGalleriesAside(t *testing.T) {
	const a, b = asidePrefix + "2026-12-05T10:00:00.000Z", asidePrefix + "2026-12-06T09:00:00.000Z"
	v := NewVerify()
	// page mounts the page of v's state again, and returns the HTML of
	// #gallery-aside, "" when there is none.
	page := func() string {
		t.Helper()
		v = &Verify{st: v.st}
		mount(t, v)
		h := html.UnescapeString(app.HTMLString(v))
		i := strings.Index(h, `id="gallery-aside"`)
		if i < 0 {
			return ""
		}
		return h[i : i+strings.Index(h[i:], `class="upload"`)]
	}
	if h := page(); h != "" {
		t.Errorf("#gallery-aside %s on a page with no record set aside", h)
	}
	v.st.Listed([]string{a, b})
	h := page()
	if !strings.Contains(h, "2 galleries the page could not read, set aside in earlier visits:") ||
		!strings.Contains(h, ">2026-12-05T10:00:00.000Z<") || !strings.Contains(h, ">2026-12-06T09:00:00.000Z<") ||
		strings.Count(h, ">Download<") != 2 || strings.Count(h, ">Delete<") != 2 {
		t.Errorf("two records set aside: #gallery-aside %s", h)
	}

	v.st.Deleted(a, nil)
	if h := page(); !strings.Contains(h, "1 gallery the page could not read") || strings.Contains(h, "2026-12-05T10") || strings.Count(h, ">Delete<") != 1 {
		t.Errorf("%s deleted: #gallery-aside %s", a, h)
	}
	v.st.Deleted(b, errors.New("IndexedDB failed: quota exceeded"))
	page()
	wantText(t, v, "verify-note", b+" could not be deleted: IndexedDB failed: quota exceeded")
	if !slices.Equal(v.st.Aside, []string{b}) {
		t.Errorf("a deletion that failed: listed %q, want %q", v.st.Aside, b)
	}
	v.st.NotDownloaded(b, recordTypeError{app.TypeObject})
	page()
	wantText(t, v, "verify-note", b+" is a record of type object, not text: the page cannot save it as a file (the browser's developer tools show it)")
	v.st.NotDownloaded(b, nil)
	if h := page(); h != "" {
		t.Errorf("#gallery-aside %s once its last record is gone", h)
	}
	wantText(t, v, "verify-note", b+" is no longer stored")
}

func TestNavVerify(t *testing.T) {
	n := &Nav{Current: "/verify"}
	mount(t, n)
	if err := app.Match(app.A().ID("nav-verify").Href("/verify").Text("Verify").Class("current").Aria("current", "page"), n, 0, 4); err != nil {
		t.Error(err)
	}
}

// TestTokenFieldRefusesWhatCannotBeSent: a token the server could not take
// (msg.CheckToken: a browser's fetch refuses such a header, which read as
// "the server could not be reached") is not kept, and the field says why;
// a good one typed after it is kept and clears the note.
func TestTokenFieldRefusesWhatCannotBeSent(t *testing.T) {
	f := &TokenField{ID: "tok"}
	f.set("  clé secrète ")
	mount(t, f)
	if _, note, ok := element(t, f, "tok-note"); !ok || !strings.Contains(note, "character 3 is not printable ASCII") || strings.Contains(note, "clé") {
		t.Errorf("#tok-note = %q (shown %v), want why, without the token", note, ok)
	}
	f.set(" s3cret ")
	if f.value != "s3cret" || f.note != "" {
		t.Errorf("value %q, note %q; want s3cret kept, no note", f.value, f.note)
	}
}

// TestTokenFieldDropsStoredTokenItCannotSend: a token kept for the tab
// that the server could not take (kept before the field checked what is
// typed) is not shown as the tab's token: it is dropped, and the note
// says why. Before, the page sent it with every write, the browser
// refused to, and the page said the server could not be reached.
func TestTokenFieldDropsStoredTokenItCannotSend(t *testing.T) {
	f := &TokenField{ID: "tok"}
	f.restore("clé")
	mount(t, f)
	if _, note, ok := element(t, f, "tok-note"); !ok || f.value != "" ||
		note != "the token kept for this tab was dropped: token: character 3 is not printable ASCII or is a space; want printable ASCII without spaces, which an Authorization header can carry" {
		t.Errorf("value %q, #tok-note %q (shown %v); want none, and why it was dropped", f.value, note, ok)
	}
	f = &TokenField{ID: "tok"}
	f.restore("s3cret")
	if f.value != "s3cret" || f.note != "" {
		t.Errorf("value %q, note %q; want s3cret shown, no note", f.value, f.note)
	}
}

// TestVerifyModelNames: the server's models are offered by name, each
// with its id (two may share a name); the option's value stays the id.
// The list showed the ids alone, 16 hex digits that say nothing of which
// model is which.
func TestVerifyModelNames(t *testing.T) {
	v := NewVerify()
	v.st.SetModels([]msg.ModelCard{{ID: "5efcc765b4a6301a", Name: "lenet-s cosface D=128 on faces"}, {ID: "d266d80d500111ba"}}, nil)
	mount(t, v)
	// go-app writes an element's attributes in no fixed order.
	options := map[string]string{} // an option's text: its attributes
	for _, m := range regexp.MustCompile(`<option([^>]*)>([^<]*)</option>`).FindAllStringSubmatch(app.HTMLString(v), -1) {
		options[m[2]] = m[1]
	}
	for _, want := range []struct {
		text, id string
		selected bool
	}{
		{"lenet-s cosface D=128 on faces (5efcc765b4a6301a)", "5efcc765b4a6301a", true},
		{"d266d80d500111ba", "d266d80d500111ba", false},
	} {
		attrs, ok := options[want.text]
		selected := strings.Contains(attrs, " selected") && !strings.Contains(attrs, `selected="false"`)
		if !ok || !strings.Contains(attrs, ` value="`+want.id+`"`) || selected != want.selected {
			t.Errorf("option %q: attributes %q (there: %v); want value %q, selected %v", want.text, attrs, ok, want.id, want.selected)
		}
	}
}

// TestVerifyFetchGoneModel: a server model that cannot be fetched (deleted
// since the list was read) leaves the list as the server has it now: the
// note names the model, and the list no longer offers it, the first model
// chosen. It kept offering the deleted model, which failed again at every
// "Load from server".
func TestVerifyFetchGoneModel(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/models", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `[{"id":"m1","name":"kept"}]`)
	})
	mux.HandleFunc("GET /api/models/gone/file", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"not found"}`)
	})
	mux.HandleFunc("GET /api/models/m1/file", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "not a model file")
	})
	v := NewVerify()
	e := mountClient(t, v, mux)
	v.st.SetModels([]msg.ModelCard{{ID: "gone"}, {ID: "m1", Name: "kept"}}, nil)
	v.fetchModel(v.mounted)
	e.ConsumeAll()
	if len(v.st.Models) != 1 || v.st.ModelID != "m1" || v.st.ModelNote != "server model gone could not be read: not found (404)" {
		t.Errorf("after the fetch of a deleted model: %d models, chosen %q, note %q; want m1 alone, chosen, and the note of the 404",
			len(v.st.Models), v.st.ModelID, v.st.ModelNote)
	}
	// A fetch that worked (of a file the page refuses) leaves the list.
	v.st.SetModels([]msg.ModelCard{{ID: "m1", Name: "kept"}, {ID: "m2"}}, nil)
	v.fetchModel(v.mounted)
	e.ConsumeAll()
	if len(v.st.Models) != 2 || v.st.ModelID != "m1" || !strings.HasPrefix(v.st.ModelNote, "server model kept (m1) could not be loaded: ") {
		t.Errorf("after a fetch that worked: %d models, chosen %q, note %q; want the 2 models, m1 chosen, its note", len(v.st.Models), v.st.ModelID, v.st.ModelNote)
	}
}

// mountClient gives v a client of the server api and a context that
// stays mounted, as OnMount sets it in a browser; the engine runs what v
// dispatches.
func mountClient(t *testing.T, v *Verify, api http.Handler) app.TestEngine {
	t.Helper()
	v.Client = &Client{T: HandlerTransport(api)}
	probe := &ctxProbe{}
	e := app.NewTestEngine()
	if err := e.Load(probe); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	v.mounted = probe.ctx
	return e
}

// TestVerifyModelLinkOnce: a page opened by a link's ?model= (the Models
// page's Use for verify) loads that model and takes it out of its URL,
// so that a reload, or Back to the page, restores the encoder kept in
// IndexedDB, trained there since, say. Before, the URL kept ?model=: the
// page loaded the link's model again, the stored encoder waited for it
// (RestoreEncoder) and was replaced by it in IndexedDB once it took, an
// encoder trained in the page lost.
func TestVerifyModelLinkOnce(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/models/m1/file", func(w http.ResponseWriter, r *http.Request) {
		w.Write(modelFile(t, face.DefaultInput))
	})
	// open mounts a new page at the URL u, as a link, a reload or Back
	// does, and takes its link.
	open := func(u string) (*Verify, app.TestEngine) {
		v := NewVerify()
		v.st = enrolled()
		e := mountClient(t, v, mux)
		link, _ := url.Parse(u)
		v.mounted.Page().ReplaceURL(link)
		v.loadLink(v.mounted)
		return v, e
	}
	v, e := open("/verify?model=m1")
	e.ConsumeAll()
	left := v.mounted.Page().URL().String()
	if v.st.Source != "server model m1" || !v.st.Busy() || left != "/verify" {
		t.Errorf("the link: encoder %q, busy %v, URL %q; want server model m1 loading, the URL /verify", v.st.Source, v.st.Busy(), left)
	}
	// A reload of the page, which trained an encoder since.
	v, e = open(left)
	rec := StoredEncoder{Version: EncoderVersion, Source: "arcface trained here", Model: modelFile(t, face.DefaultInput)}
	v.do(v.st.RestoreEncoder(string(MarshalStoredEncoder(rec)), true, nil))
	e.ConsumeAll()
	if v.st.Source != "arcface trained here" || v.st.ModelID != "" {
		t.Errorf("the reload: encoder %q, server model %q; want the stored encoder loaded, no server model", v.st.Source, v.st.ModelID)
	}
}

// TestVerifyServerModelName: a server model loaded is named as its list
// names it, its name with its id, in the ready status and in a note of a
// fetch that failed. Both named it by its id alone, 16 hex digits beside
// a list that shows names.
func TestVerifyServerModelName(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/models", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `[{"id":"m1","name":"kept"}]`)
	})
	mux.HandleFunc("GET /api/models/m1/file", func(w http.ResponseWriter, r *http.Request) {
		w.Write(modelFile(t, face.DefaultInput))
	})
	mux.HandleFunc("GET /api/models/gone/file", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"not found"}`)
	})
	v := NewVerify()
	v.st = enrolled()
	e := mountClient(t, v, mux)
	v.st.SetModels([]msg.ModelCard{{ID: "gone", Name: "deleted"}, {ID: "m1", Name: "kept"}}, nil)
	v.fetchModel(v.mounted)
	e.ConsumeAll()
	if v.st.ModelNote != "server model deleted (gone) could not be read: not found (404)" {
		t.Errorf("note %q of a fetch that failed", v.st.ModelNote)
	}
	v.fetchModel(v.mounted) // m1, chosen by the list read again
	e.ConsumeAll()
	v.st.Receive(embMsg(galleryID(v.st.gallerySeq), 2, galleryEmbs()))
	mount(t, v)
	wantText(t, v, "train-status", "ready: server model kept (m1), 2 identities, D = 2")
}

// TestVerifySendAgain: a second "Send to server" of the snapshots sent
// adds nothing, and its note says so; a send cut off part-way (the server
// stopped) says how many went, in one plain line without the browser's
// exception, offers no link to train on the part that arrived, and says
// that Send again sends the rest, which it does (the server keeps each
// snapshot once). Before, the second send doubled every identity's folder
// as the note said "sent 6 of 6 snapshots", and the cut-off send said
// "sent 3 of 6 snapshots to data set webcam: the server could not be
// reached: TypeError: Failed to fetch" beside "Train a faces model on data
// set webcam" (R19). Snapshots that are copies of one another are sent
// once, and the note says so, rather than count them "already there".
func TestVerifySendAgain(t *testing.T) {
	var samples []msg.Sample
	api := fakeAPI(t, &samples)
	v := NewVerify()
	v.st = distinctEnrolled()
	e := mountClient(t, v, api)
	wantNote := func(want string) {
		t.Helper()
		if got := uploadNote(&v.st, v.st.UploadProblem()); got != want {
			t.Errorf("#upload-status %q, want %q", got, want)
		}
	}
	v.upload()
	e.ConsumeAll()
	wantNote("sent 6 of 6 snapshots to data set webcam")
	v.upload()
	e.ConsumeAll()
	wantNote("sent 0 new of 6 snapshots: all 6 already in data set webcam")
	if ok := v.st.TrainLink() != ""; len(samples) != 6 || !ok {
		t.Errorf("sent twice: %d stored, train link there: %v; want 6 and the link", len(samples), ok)
	}

	// The server stops after 3 snapshots of another data set.
	v.st.SetDataset("trio")
	samples = nil
	v.Client = &Client{T: &cutTransport{T: HandlerTransport(api), left: 3}}
	v.upload()
	e.ConsumeAll()
	want := "sent 3 of 6 snapshots to data set trio: the server could not be reached. Send again to send the other 3: those it holds are not stored twice"
	wantNote(want)
	if ok := v.st.TrainLink() != ""; ok || strings.Contains(v.st.UploadNote, "TypeError") {
		t.Errorf("a send cut off: train link there %v, note %q; want no link, no exception", ok, v.st.UploadNote)
	}
	// The server is back: the rest goes, once.
	v.Client = &Client{T: HandlerTransport(api)}
	v.upload()
	e.ConsumeAll()
	wantNote("sent 3 new of 6 snapshots to data set trio: the other 3 were there already")
	if ok := v.st.TrainLink() != ""; len(samples) != 6 || !ok {
		t.Errorf("sent again after the cut: %d stored, train link there: %v; want 6 and the link", len(samples), ok)
	}

	// Snapshots that are copies of one another (a camera showing a still
	// picture: enrolled's three of each are one crop) go once.
	v.st = enrolled()
	v.st.SetDataset("still")
	samples = nil
	v.upload()
	e.ConsumeAll()
	wantNote("sent 2 of 2 snapshots to data set still (and 4 copies of these, sent once)")
	if len(samples) != 2 {
		t.Errorf("copies: %d stored, want 2", len(samples))
	}
}

// distinctEnrolled is enrolled with a crop of its own in each snapshot,
// as a camera's are: alice's and bob's three.
func distinctEnrolled() VerifyState {
	s := NewVerifyState()
	in := s.Input
	crop := func(v float32) string {
		c := make([]float32, in.Channels*in.Height*in.Width)
		for i := range c {
			c[i] = v
		}
		return EncodeCrop(c, in.Channels, in.Height, in.Width)
	}
	s.Gallery.Add("alice", crop(0.1), crop(0.2), crop(0.3))
	s.Gallery.Add("bob", crop(0.4), crop(0.5), crop(0.6))
	s.CameraStarted(CameraOn, "")
	s.DetectorReady(nil)
	return s
}

// cutTransport is a server that stops after left calls: later ones get no
// answer, as the browser's fetch of a stopped server gets none.
type cutTransport struct {
	T    Transport
	left int
}

func (c *cutTransport) Do(ctx context.Context, r Request) (Response, error) {
	if c.left == 0 {
		return Response{}, errors.New("TypeError: Failed to fetch")
	}
	c.left--
	return c.T.Do(ctx, r)
}

func (c *cutTransport) Events(ctx context.Context, path string, each func(string)) error {
	return c.T.Events(ctx, path, each)
}

// TestVerifyUploadBusy: a crop the server is too busy to read (503,
// Retry-After) is sent again after the seconds it asks, the note saying
// so meanwhile, and the upload goes on; a server busy at every try stops
// it after 3, with its own error. Before, the first 503 stopped the
// upload, and the user had to send the gallery again.
func TestVerifyUploadBusy(t *testing.T) {
	var samples []msg.Sample
	busy := &busyAPI{status: 503, retryAfter: "1", busy: 1, then: fakeAPI(t, &samples)}
	v := NewVerify()
	v.st = distinctEnrolled()
	e := mountClient(t, v, busy)
	v.upload()
	e.ConsumeNext() // the note the wait dispatched
	if want := "the server is busy: sending again in 1 s…"; v.st.UploadNote != want || !v.st.Uploading {
		t.Errorf("while the server is busy: note %q, uploading %v; want %q", v.st.UploadNote, v.st.Uploading, want)
	}
	e.ConsumeAll()
	if want := "sent 6 of 6 snapshots to data set webcam"; v.st.UploadNote != want || len(samples) != 6 || busy.n.Load() != 7 {
		t.Errorf("after the busy answer: note %q, %d stored after %d requests; want %q, 6 stored after 7", v.st.UploadNote, len(samples), busy.n.Load(), want)
	}

	busy = &busyAPI{status: 503, retryAfter: "0", busy: -1}
	v = NewVerify()
	v.st = distinctEnrolled()
	e = mountClient(t, v, busy)
	v.upload()
	e.ConsumeAll()
	if want := "sent 0 of 6 snapshots to data set webcam: the server is reading too many uploads at once: try again in a few seconds (503)"; v.st.UploadNote != want || v.st.Uploading || busy.n.Load() != 3 {
		t.Errorf("a server busy at every try: note %q, uploading %v, %d requests; want %q after 3", v.st.UploadNote, v.st.Uploading, busy.n.Load(), want)
	}
}

// tabStops returns the opening tags of the elements of the HTML h that
// Tab stops at, in order: links with an href, buttons, fields and
// selects not disabled nor hidden, and any element of tabindex 0 or
// more; not one of tabindex −1, which only a script focuses.
func tabStops(h string) []string {
	const attrs = `(?:[^>"]|"(?:[^"\\]|\\.)*")*`
	var out []string
	for _, tag := range regexp.MustCompile(`<([a-z0-9]+)`+attrs+`>`).FindAllString(h, -1) {
		name := regexp.MustCompile(`^<([a-z0-9]+)`).FindStringSubmatch(tag)[1]
		index := regexp.MustCompile(`\stabindex="(-?\d+)"`).FindStringSubmatch(tag)
		switch {
		case index != nil && index[1] != "" && index[1][0] == '-':
		case index != nil:
			out = append(out, tag)
		case regexp.MustCompile(`\sdisabled(\s|>)`).MatchString(tag), strings.Contains(tag, `type="hidden"`):
		case name == "button" || name == "input" || name == "select" || name == "textarea",
			name == "a" && strings.Contains(tag, " href="):
			out = append(out, tag)
		}
	}
	return out
}

// TestVerifyGalleryTabStops: the gallery costs a keyboard user two Tab
// stops a person, whatever the snapshots: each person's thumbnails are a
// toolbar (WAI-ARIA's pattern: one Tab stop, the arrow keys, Home and End
// move among its buttons, a roving tabindex), named by the person, each
// thumbnail still a button that deletes its snapshot and says so, and
// "Remove <name>" beside it. Before, each thumbnail was a Tab stop of
// its own: with 59 snapshots of three people, Export gallery was the
// 64th.
func TestVerifyGalleryTabStops(t *testing.T) {
	v := NewVerify()
	v.st = enrolled()
	in := v.st.Input
	v.st.Gallery = NewGallery(in.Channels, in.Height, in.Width)
	for i, n := range []int{20, 20, 19} {
		for j := range n {
			px := make([]float32, in.Size())
			px[0] = float32(i*20+j) / 100
			v.st.Gallery.Add([]string{"Ann", "Bo", "Cy"}[i], EncodeCrop(px, in.Channels, in.Height, in.Width))
		}
	}
	mount(t, v)
	h := app.HTMLString(v)
	stops := tabStops(h)
	at := slices.IndexFunc(stops, func(tag string) bool { return strings.Contains(tag, `id="btn-export-gallery"`) })
	if at < 0 {
		t.Fatal("Export gallery is not a Tab stop")
	}
	var inGallery []string
	start := strings.Index(h, `id="gallery"`)
	end := strings.LastIndex(h[:strings.Index(h, `id="btn-export-gallery"`)], "<")
	for _, tag := range stops {
		if i := strings.Index(h, tag); i > start && i < end {
			inGallery = append(inGallery, tag)
		}
	}
	if len(inGallery) != 6 {
		t.Errorf("the gallery of 3 people, 59 snapshots: %d Tab stops (Export gallery is Tab stop %d), want 6, two a person", len(inGallery), at+1)
	}
	toolbars := regexp.MustCompile(`<div[^>]* role="toolbar"[^>]*>`).FindAllString(h, -1)
	if len(toolbars) != 3 {
		t.Fatalf("%d toolbars, want one a person: %q", len(toolbars), toolbars)
	}
	for i, name := range []string{"Ann", "Bo", "Cy"} {
		if !strings.Contains(toolbars[i], `aria-label="snapshots of `+name+`"`) {
			t.Errorf("toolbar %d %s, want it named snapshots of %s", i, toolbars[i], name)
		}
	}
	thumbs := regexp.MustCompile(`<button[^>]* class="thumb"[^>]*>`).FindAllString(h, -1)
	if len(thumbs) != 59 {
		t.Fatalf("%d thumbnails, want 59", len(thumbs))
	}
	zero := 0
	for _, tag := range thumbs {
		if strings.Contains(tag, `tabindex="0"`) {
			zero++
		}
		if !regexp.MustCompile(`aria-label="delete snapshot \d+ of \d+ of (Ann|Bo|Cy)"`).MatchString(tag) {
			t.Errorf("thumbnail %s: want it named as the snapshot it deletes", tag)
		}
		// The keys thumbKey deletes by, besides the button's Enter and
		// Space, told to assistive technology.
		if !strings.Contains(tag, `aria-keyshortcuts="Delete Backspace"`) {
			t.Errorf("thumbnail %s: want aria-keyshortcuts=\"Delete Backspace\"", tag)
		}
	}
	if zero != 3 {
		t.Errorf("%d thumbnails of tabindex 0, want one a toolbar", zero)
	}
	for _, name := range []string{"Ann", "Bo", "Cy"} {
		if !strings.Contains(h, ">Remove "+name+"</button>") {
			t.Errorf("no Remove %s button", name)
		}
	}
}
