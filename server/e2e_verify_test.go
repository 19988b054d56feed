//go:build !(js && wasm)

package main

// End-to-end tests of the verify page (app/verify.go) in headless Chromium
// with a fake camera: Chromium plays a .y4m file the test writes from
// pigo's sample face (core/face/testdata/sample.jpg) as the webcam.

import (
	"bufio"
	"fmt"
	"image/jpeg"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"metriclab/assets"
	"metriclab/core/face"
	"metriclab/core/msg"
	"metriclab/server/api"
)

// Frames of the fake camera: 320×240 grey, 15 a second; the video shows
// identity A for verifySegment frames, then B as long, and loops.
const (
	verifyW, verifyH = 320, 240
	verifyFPS        = 30
	verifySegment    = 4 * verifyFPS
	// The marker: a 16×16 square at the top-left corner, of grey level
	// markerStep·k on the frames of the k-th segment (A 0, B 85, C 170,
	// D 255), that the test reads to know who is on camera (the page does
	// not look at it).
	verifyMarker = 16
	markerStep   = 85
)

// setMarker paints the marker of segment k ('A' + k) on frame fr.
func setMarker(fr []uint8, k int) {
	for y := 0; y < verifyMarker; y++ {
		for x := 0; x < verifyMarker; x++ {
			fr[y*verifyW+x] = uint8(markerStep * k)
		}
	}
}

// verifyFrames returns the grey frames of identities A and B: pigo's sample
// face, scaled so that the face is about 120 pixels wide and centred; B is
// the same face with its lower half darkened (a scarf over mouth and chin),
// the only other face the repository has.
func verifyFrames(t *testing.T) (a, b []uint8) {
	t.Helper()
	f, err := os.Open("../core/face/testdata/sample.jpg")
	if err != nil {
		t.Skipf("no sample face: %v", err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	r := img.Bounds()
	src := make([]uint8, r.Dx()*r.Dy())
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			cr, cg, cb, _ := img.At(r.Min.X+x, r.Min.Y+y).RGBA()
			src[y*r.Dx()+x] = uint8((77*(cr>>8) + 150*(cg>>8) + 29*(cb>>8)) >> 8)
		}
	}
	det, err := face.NewDetector(assets.FaceFinder, assets.PupLoc)
	if err != nil {
		t.Fatal(err)
	}
	faces := det.Detect(src, r.Dx(), r.Dy())
	if len(faces) == 0 {
		t.Fatal("no face in the sample image")
	}
	box := faces[0].Box
	scale := 120 / float64(box.Dx()) // output pixels per source pixel
	cx, cy := float64(box.Min.X+box.Max.X)/2, float64(box.Min.Y+box.Max.Y)/2
	a = make([]uint8, verifyW*verifyH)
	for y := 0; y < verifyH; y++ {
		for x := 0; x < verifyW; x++ {
			sx := int(cx + (float64(x)-verifyW/2)/scale)
			sy := int(cy + (float64(y)-verifyH/2)/scale)
			v := uint8(128)
			if sx >= 0 && sy >= 0 && sx < r.Dx() && sy < r.Dy() {
				v = src[sy*r.Dx()+sx]
			}
			a[y*verifyW+x] = v
		}
	}
	b = append([]uint8(nil), a...)
	// The scarf: the lower third of the face's box, darkened to a third.
	for y := verifyH/2 + 20; y < verifyH/2+60; y++ {
		for x := verifyW/2 - 45; x < verifyW/2+45; x++ {
			b[y*verifyW+x] /= 3
		}
	}
	setMarker(a, 0)
	setMarker(b, 1)
	return a, b
}

// writeY4M writes the fake camera's video to path: YUV4MPEG2, 4:2:0 with
// neutral chroma, segment frames of each of the grey frames in turn. The
// frames of a segment after its first differ from it by a grey level at
// most (a pattern of −1, 0, +1 of its own each), outside the marker, as a
// camera's sensor noise does: the snapshots of a person are images of
// their own, which the server keeps, where copies of one still picture
// would be kept once.
func writeY4M(path string, segment int, frames ...[]uint8) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n", verifyW, verifyH, verifyFPS)
	chroma := make([]byte, 2*(verifyW/2)*(verifyH/2))
	for i := range chroma {
		chroma[i] = 128
	}
	noisy := make([]uint8, verifyW*verifyH)
	for _, fr := range frames {
		for k := range segment {
			copy(noisy, fr)
			for i := range noisy {
				if k == 0 || (i/verifyW < verifyMarker && i%verifyW < verifyMarker) {
					continue
				}
				h := uint32(i)*2654435761 ^ uint32(k)*2246822519 // a hash of pixel and frame
				h ^= h >> 15
				switch d := int(h%3) - 1; {
				case d < 0 && noisy[i] > 0, d > 0 && noisy[i] < 255:
					noisy[i] = uint8(int(noisy[i]) + d)
				}
			}
			w.WriteString("FRAME\n")
			w.Write(noisy)
			w.Write(chroma)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// TestVerifyFrames checks the fake camera's frames natively: the detector
// finds exactly one good face in each (so that the browser test can
// enroll from them), and the aligned crops of A and B differ.
func TestVerifyFrames(t *testing.T) {
	a, b := verifyFrames(t)
	det, err := face.NewDetector(assets.FaceFinder, assets.PupLoc)
	if err != nil {
		t.Fatal(err)
	}
	var crops [2][]float32
	for i, fr := range [][]uint8{a, b} {
		faces := det.Detect(fr, verifyW, verifyH)
		q, f := face.Check(fr, verifyW, verifyH, faces)
		if q != face.OK {
			t.Fatalf("frame %c: quality %q (%d faces), want ok", 'A'+i, q, len(faces))
		}
		crops[i] = face.Align(nil, fr, verifyW, verifyH, *f, face.DefaultInput)
	}
	diff := 0.0
	for i := range crops[0] {
		diff += float64(max(crops[0][i]-crops[1][i], crops[1][i]-crops[0][i]))
	}
	if diff /= float64(len(crops[0])); diff < 0.02 {
		t.Errorf("the crops of A and B differ by %.4f a pixel on average, want ≥ 0.02", diff)
	}
}

// newVerifyPage serves the page and the server's API (its data in a
// temporary folder, returned; in classroom mode when token is not empty)
// and opens a fresh headless Chromium with newE2EPage's flags and extra,
// on about:blank.
func newVerifyPage(t *testing.T, timeout time.Duration, token string, extra ...chromedp.ExecAllocatorOption) (*e2ePage, string) {
	t.Helper()
	chromium := requireE2E(t)
	dataDir := t.TempDir()
	a, err := api.New(api.Config{DataDir: dataDir, Version: "e2e", Token: token, Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	extra = append([]chromedp.ExecAllocatorOption{chromedp.WindowSize(1280, 1000)}, extra...)
	return openE2EPage(t, timeout, chromium, serveConfig{WebDir: e2eWeb, Version: "e2e", API: a}, extra...), dataDir
}

// openVerify navigates to the verify page and waits until go-app has
// mounted it.
func (p *e2ePage) openVerify() {
	p.t.Helper()
	cdpRun(p, "open the verify page", chromedp.Navigate(p.base+"/verify"))
	cdpRun(p, "wait for the page", chromedp.Poll[bool](`!!document.getElementById("enroll-count")`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second)))
}

// waitText polls the text of the element of id until ok accepts it, and
// returns it; past limit it fails the test with a screenshot.
func (p *e2ePage) waitText(id string, limit time.Duration, ok func(string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := p.text(id)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			p.screenshot("timeout-" + id)
			p.t.Fatalf("#%s = %q after %v", id, s, limit)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// onCamera returns who the fake camera shows now, by the marker of the
// video's current frame: 'A', 'B', 'C' or 'D', or 0 before the video
// plays.
// waitProbeOf waits until the camera shows segment who and the page's
// verdict is of a probe of it, and reports whether that happened before
// the deadline. The page probes one frame at a time and marks #verdict
// with the probe's number: if probe s is shown once the segment is on
// camera, probe s+1 may have been sent before, but s+2 was sent after
// s+1's answer, so after the segment came on, however slow the machine.
func (p *e2ePage) waitProbeOf(who byte, deadline time.Time) bool {
	p.t.Helper()
	scored := func() int {
		return int(cdpEval[float64](p, `(() => { const e = document.getElementById("verdict"); return e ? Number(e.dataset.probe || 0) : 0 })()`))
	}
	for time.Now().Before(deadline) {
		if p.onCamera() != who {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		s0 := scored()
		for scored() < s0+2 && p.onCamera() == who && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if scored() >= s0+2 && p.onCamera() == who {
			return true
		}
	}
	return false
}

func (p *e2ePage) onCamera() byte {
	p.t.Helper()
	v := cdpEval[float64](p, `(() => {
		const v = document.getElementById("video");
		if (!v || v.readyState < 2 || !v.videoWidth) return -1;
		const c = document.createElement("canvas"); c.width = 4; c.height = 4;
		const g = c.getContext("2d");
		g.drawImage(v, 0, 0, 8 * v.videoWidth / 320, 8 * v.videoHeight / 240, 0, 0, 4, 4);
		return g.getImageData(1, 1, 1, 1).data[0];
	})()`)
	if v < 0 {
		return 0
	}
	return 'A' + byte(min(3, int(v/markerStep+0.5)))
}

// enroll records identity name from the frames of who ('A' or 'B'):
// it types the name, and holds the record button from the moment the
// camera turns to who until a second before it turns away (the segments
// last verifySegment frames), until the identity has want snapshots. The
// margins keep frames of the other identity out. It holds the button with
// a pointer, or with keys the Space key, focused, as a keyboard does (a
// key held down repeats its keydown).
func (p *e2ePage) enroll(name string, who byte, want int, keys bool) {
	p.t.Helper()
	cdpEval[bool](p, `(() => { const e = document.getElementById("enroll-name"); e.value = `+strconv.Quote(name)+`; e.dispatchEvent(new Event("input", {bubbles: true})); return true })()`)
	press := func(ev string) {
		event := `new PointerEvent(` + strconv.Quote(ev) + `, {bubbles: true})`
		if keys {
			kind := map[string]string{"pointerdown": "keydown", "pointerup": "keyup"}[ev]
			event = `new KeyboardEvent(` + strconv.Quote(kind) + `, {key: " ", code: "Space", bubbles: true, cancelable: true})`
		}
		cdpEval[bool](p, `(() => { const b = document.getElementById("btn-record"); if (!b || b.disabled) return false; b.focus(); b.dispatchEvent(`+event+`); return true })()`)
	}
	count := regexp.MustCompile(regexp.QuoteMeta(name) + ` \((\d+)\)`)
	got := func() int {
		m := count.FindStringSubmatch(p.text("gallery"))
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	segment := time.Duration(verifySegment) * time.Second / verifyFPS
	deadline := time.Now().Add(90 * time.Second)
	var prev byte
	var since time.Time // when the camera turned to who, while holding
	for got() < want {
		if time.Now().After(deadline) {
			p.screenshot("timeout-enroll-" + name)
			p.t.Fatalf("enrolling %s: %d snapshots after 90 s, want %d (#quality %q)", name, got(), want, p.text("quality"))
		}
		now := p.onCamera()
		switch {
		case since.IsZero() && prev != 0 && prev != who && now == who:
			time.Sleep(300 * time.Millisecond) // the page's frame lags the test's
			press("pointerdown")
			since = time.Now()
		case !since.IsZero() && (now != who || time.Since(since) > segment-time.Second):
			press("pointerup")
			since = time.Time{}
		}
		prev = now
		time.Sleep(50 * time.Millisecond)
	}
	press("pointerup")
}

// TestE2EVerify enrolls two identities from the fake camera (A and B of
// verifyFrames, 20 snapshots each, each recorded while the camera shows
// it, the second held from the keyboard, Space on the focused button),
// named as people are ("Ann Smith", "José"), trains a small ArcFace
// encoder on them in the page's worker (calibrated on the snapshots held
// out of that training), and checks that the live 1:1
// score, its verdict and the 1:k identity appear. The server is in
// classroom mode: "Send to server" without the token is refused (401, said
// on the page), and with the token typed in the page's token field every
// snapshot lands in a folder of its person's name. After a reload the
// gallery, the encoder, the false accept rate chosen and the threshold
// set by hand on it come back
// from IndexedDB. It measures the page's
// face detections per second (window.verifyFPS).
func TestE2EVerify(t *testing.T) {
	a, b := verifyFrames(t)
	video := filepath.Join(t.TempDir(), "camera.y4m")
	if err := writeY4M(video, verifySegment, a, b); err != nil {
		t.Fatal(err)
	}
	const token = "classroom-token"
	p, dataDir := newVerifyPage(t, 5*time.Minute, token,
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
	)
	p.openVerify()
	p.waitText("verify-status", 30*time.Second, func(s string) bool { return strings.Contains(s, "camera on") })
	p.waitText("quality", 30*time.Second, func(s string) bool { return s == "ok" })
	time.Sleep(2 * time.Second) // a full second of frames for the meter
	fps := cdpEval[float64](p, `window.verifyFPS || 0`)
	p.record("verify_detections_per_s", fps, "frames/s (320×240, detection + pupils + quality)")
	if fps < 5 {
		t.Errorf("the page detects faces at %.1f frames/s, want ≥ 5", fps)
	}
	p.screenshot("verify-1-camera")

	p.enroll("Ann Smith", 'A', 20, false)
	p.enroll("José", 'B', 20, true) // from the keyboard
	if s := p.text("enroll-count"); s != "2 identities, 40 snapshots" {
		t.Errorf("#enroll-count = %q, want 2 identities, 40 snapshots", s)
	}
	// What the last hold, from the keyboard, recorded, for a screen
	// reader (#enroll-live, hidden, role=status).
	if s := p.text("enroll-live"); !regexp.MustCompile(`^recorded \d+ snapshots? of José \(2 identities, 40 snapshots\)$`).MatchString(s) {
		t.Errorf("#enroll-live = %q, want recorded N snapshots of José (2 identities, 40 snapshots)", s)
	}
	p.screenshot("verify-2-enrolled")

	cdpEval[bool](p, `(() => { const e = document.getElementById("verify-epochs"); e.value = "15"; e.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
	cdpRun(p, "click Train", chromedp.Click(chromedp.ID("btn-train")))
	p.waitText("train-status", 20*time.Second, func(s string) bool { return strings.HasPrefix(s, "training") })
	status := p.waitText("train-status", 3*time.Minute, func(s string) bool {
		if strings.Contains(s, "failed") || strings.Contains(s, "crashed") {
			p.t.Fatalf("#train-status = %q", s)
		}
		return strings.HasPrefix(s, "ready")
	})
	t.Logf("#train-status: %s", status)
	p.screenshot("verify-3-trained")
	if u := p.unnamedControls(); len(u) > 0 {
		t.Errorf("%s: controls without an accessible name in Chromium's tree: %q", "/verify, trained", u)
	}

	num := regexp.MustCompile(`^-?[01]\.\d{3} \(\d+\.\d°\)$`)
	score := p.waitText("score", 30*time.Second, num.MatchString)
	res := p.texts([]string{"verdict", "identity", "suggested", "ranking"})
	t.Logf("claimed Ann Smith: #score %s, #verdict %s, #identity %s; %s; ranking %s", score, res[0], res[1], res[2], res[3])
	// Clean enrollments of two different crops separate completely.
	if !strings.Contains(res[2], "FRR 0.0%") {
		t.Errorf("#suggested = %q, want FRR 0.0%%", res[2])
	}
	// Trained here: calibrated on the 4 of each 20 held out of training.
	if s := p.text("calibrated-on"); s != "calibrated on 8 held-out snapshots (not trained on)" {
		t.Errorf("#calibrated-on = %q, want 8 held-out snapshots", s)
	}
	if res[0] != "accept" && res[0] != "reject" {
		t.Errorf("#verdict = %q, want accept or reject", res[0])
	}
	if res[1] != "Ann Smith" && res[1] != "José" && res[1] != "unknown" {
		t.Errorf("#identity = %q, want Ann Smith, José or unknown", res[1])
	}
	// Who the page names while each identity is on camera, at the
	// suggested threshold (logged) and at cos 0.5 set with the slider: A
	// is Ann Smith and accepted as her, B is José and rejected as Ann.
	for _, threshold := range []string{"", "0.5"} {
		if threshold != "" {
			// A drag (input), then the slider let go (change), which keeps
			// it: the false accept rate first (choosing one drops a
			// threshold set by hand), then the threshold.
			for _, set := range [][2]string{{"far", "0.001"}, {"threshold", threshold}} {
				cdpEval[bool](p, `(() => { const e = document.getElementById(`+strconv.Quote(set[0])+`); e.value = `+strconv.Quote(set[1])+`; e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
			}
		}
		for _, who := range []byte{'A', 'B'} {
			if !p.waitProbeOf(who, time.Now().Add(45*time.Second)) {
				t.Fatalf("threshold %q: no probe of %c while it was on camera in 45 s", threshold, who)
			}
			r := p.texts([]string{"score", "verdict", "identity"})
			t.Logf("threshold %q, camera shows %c: #score %s (to Ann Smith), #verdict %s, #identity %s", threshold, who, r[0], r[1], r[2])
			want := map[byte][2]string{'A': {"accept", "Ann Smith"}, 'B': {"reject", "José"}}[who]
			if threshold != "" && (r[1] != want[0] || r[2] != want[1]) {
				t.Errorf("threshold %s, camera on %c: #verdict %q, #identity %q; want %s, %s", threshold, who, r[1], r[2], want[0], want[1])
			}
		}
	}
	// The live answers sit right under the camera, where the face is
	// watched, not below the encoder's charts.
	if gap := cdpEval[float64](p, `document.getElementById("live").getBoundingClientRect().top - document.getElementById("camera").getBoundingClientRect().bottom`); gap < 0 || gap > 40 {
		t.Errorf("#live begins %.0f px below #camera's bottom, want it right under the camera (0 to 40 px)", gap)
	}
	// The calibration's notes start where its slider's label does, not
	// indented by the page-wide note's margin.
	if d := cdpEval[float64](p, `document.getElementById("calibrated-on").getBoundingClientRect().left - document.querySelector("label[for=far]").getBoundingClientRect().left`); math.Abs(d) > 1 {
		t.Errorf("#calibrated-on begins %.0f px right of the false accept rate's label, want them aligned", d)
	}
	fps = cdpEval[float64](p, `window.verifyFPS || 0`)
	p.record("verify_detections_per_s_while_verifying", fps, "frames/s (detection + a probe embedding in the worker)")
	p.savePNG("verify-4-verifying", cdpRun(p, "full screenshot", chromedp.FullScreenshot(100)))

	// "Send to server" in classroom mode: without the token, refused and
	// said so; with the token typed in the page's field, every snapshot
	// lands in the image-folder data set, in a folder of its person's name.
	cdpRun(p, "click Send to server", chromedp.Click(chromedp.ID("btn-upload")))
	up := p.waitText("upload-status", 60*time.Second, func(s string) bool { return strings.HasPrefix(s, "sent") })
	// "of N": the snapshots of their own, a copy of another not counted
	// (below: at 30 frames a second one in 40 can still be a copy).
	if m := regexp.MustCompile(`^sent 0 of (\d+) snapshots to data set webcam: `).FindStringSubmatch(up); m == nil || !strings.HasSuffix(up, "(401)") {
		t.Errorf("#upload-status = %q without the token, want none sent and the server's 401", up)
	} else if n, _ := strconv.Atoi(m[1]); n < 30 || n > 40 {
		t.Errorf("#upload-status = %q without the token: %d snapshots, want 30 to 40 of the 40 taken", up, n)
	}
	cdpEval[bool](p, `(() => { const e = document.getElementById("verify-token"); e.value = `+strconv.Quote(token)+`; e.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
	// The click reaches the page's state asynchronously: the status reads
	// the refusal above until the upload starts ("sending…"), so wait for
	// it to change before reading the outcome.
	refused := up
	cdpRun(p, "click Send to server", chromedp.Click(chromedp.ID("btn-upload")))
	p.waitText("upload-status", 60*time.Second, func(s string) bool { return s != refused })
	up = p.waitText("upload-status", 60*time.Second, func(s string) bool { return strings.HasPrefix(s, "sent") })
	// A snapshot that is a copy of another, pixel for pixel (the page
	// read one video frame twice, or the looped video gave one again), is
	// sent once and counted apart: n sent, and copies. At 15 frames a
	// second, which the page's detections (about 22 a second) outran, 13
	// of 40 were copies; the video has 30.
	copies := regexp.MustCompile(`^sent (\d+) of (\d+) snapshots to data set webcam(?: \(and (\d+) cop(?:y|ies) of these, sent once\))?$`)
	m := copies.FindStringSubmatch(up)
	if m == nil {
		t.Fatalf("#upload-status = %q with the token, want all 40 sent", up)
	}
	t.Logf("#upload-status: %s", up)
	n, _ := strconv.Atoi(m[1])
	same, _ := strconv.Atoi(m[3]) // 0 without copies
	if m[1] != m[2] || n+same != 40 || n < 30 {
		t.Errorf("#upload-status = %q with the token, want all 40 sent, copies once (30 of their own at least)", up)
	}
	stored := func() (total int) {
		for _, name := range []string{"Ann Smith", "José"} {
			files, _ := filepath.Glob(filepath.Join(dataDir, "datasets", "webcam", name, "*.png"))
			if len(files) < 10 {
				t.Errorf("the server has %d PNG files of %s, want 10 to 20", len(files), name)
			}
			total += len(files)
		}
		return total
	}
	if got := stored(); got != n {
		t.Errorf("the server has %d PNG files, want the %d sent", got, n)
	}
	// Send again: the server holds them all, and keeps each once.
	sent := up
	cdpRun(p, "click Send to server again", chromedp.Click(chromedp.ID("btn-upload")))
	up = p.waitText("upload-status", 60*time.Second, func(s string) bool { return s != sent && strings.HasPrefix(s, "sent") })
	want := fmt.Sprintf("sent 0 new of %d snapshots: all %d already in data set webcam", n, n)
	if same > 0 {
		want += fmt.Sprintf(" (and %s of these, sent once)", msg.Plural(same, "copy", "copies"))
	}
	if up != want {
		t.Errorf("#upload-status = %q sent again, want %q", up, want)
	}
	if got := stored(); got != n {
		t.Errorf("sent again, the server has %d PNG files, want the %d sent", got, n)
	}
	// The page links to the Jobs page set to train a faces model on them;
	// the token is the tab's: the Jobs page shows it in its own field.
	if href := cdpEval[string](p, `(document.getElementById("train-on-server") || {}).href || ""`); href != p.base+"/jobs#data=webcam&preset=faces" {
		t.Errorf("#train-on-server links to %q, want the Jobs page on data set webcam with the faces preset", href)
	}
	cdpRun(p, "follow the link to the jobs page", chromedp.Click(chromedp.ID("train-on-server")))
	cdpRun(p, "wait for the jobs page's token", chromedp.Poll[bool](`(() => { const e = document.getElementById("job-token"); return !!e && e.value === `+strconv.Quote(token)+` })()`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
	// The people sent are a data set that the Jobs page trains on: its
	// Data select lists it with its counts, and Train queues a job on it
	// (canceled once it runs: the test is of the page, not of the training).
	cdpRun(p, "wait for the data set chosen in the jobs form", chromedp.Poll[bool](`[...document.querySelectorAll("#job-data option")].some(o => o.value === "webcam" && o.selected && o.textContent === "webcam (2 identities, `+strconv.Itoa(n)+` images)") && document.getElementById("job-preset").value === "faces"`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
	// 40 snapshots, some held out: fewer training images than the
	// preset's batch of 32, untouched: the job trains with a batch of them
	// all, and its row says so once it runs (before, the server refused
	// it: "28 training images, fewer than one batch of 32: give a batch of
	// 28 or less", and the user had to type a batch).
	cdpRun(p, "click Train on the server", chromedp.Click(chromedp.ID("btn-submit")))
	row := `[...document.querySelectorAll("#jobs tbody tr")].find(r => / webcam /.test(" " + r.cells[1].textContent.replaceAll("·", " ") + " "))`
	cdpRun(p, "wait for the job on the data set, or why not", chromedp.Poll[bool](`!!`+row+` || document.getElementById("jobs-job-error").textContent !== ""`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
	if e := p.text("jobs-job-error"); e != "" {
		t.Fatalf("#jobs-job-error = %q after Train on the data set, its batch untouched, want none", e)
	}
	note := `(() => { const r = ` + row + `; const e = r && r.querySelector(".job-error"); return e ? e.title : "" })()`
	cdpRun(p, "wait for the job's note of its batch", chromedp.Poll[bool](note+` !== ""`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second)))
	if got, want := cdpEval[string](p, note), regexp.MustCompile(`(^|; )batch ([0-9]+): the ([0-9]+) training images \(the faces preset's batch is 32\)$`); !want.MatchString(got) ||
		want.FindStringSubmatch(got)[2] != want.FindStringSubmatch(got)[3] {
		t.Errorf("the job's note %q, want \"batch N: the N training images (the faces preset's batch is 32)\" (N = 28: 40 snapshots, some held out)", got)
	}
	cdpEval[bool](p, `(() => { const b = (`+row+`).querySelector("button[id^=cancel-]"); if (b) b.click(); return true })()`)

	// The gallery survives a reload (IndexedDB), and so does the encoder
	// trained here, kept beside it: the page comes back ready, calibrated
	// on the same held-out snapshots.
	p.openVerify()
	p.waitText("enroll-count", 10*time.Second, func(s string) bool { return s == "2 identities, 40 snapshots" })
	status = p.waitText("train-status", 60*time.Second, func(s string) bool { return strings.HasPrefix(s, "ready") })
	if !strings.Contains(status, "arcface trained here") {
		t.Errorf("#train-status = %q after the reload, want the encoder trained here", status)
	}
	if s := p.text("calibrated-on"); s != "calibrated on 8 held-out snapshots (not trained on)" {
		t.Errorf("#calibrated-on = %q after the reload, want 8 held-out snapshots", s)
	}
	// With the threshold set by hand on it.
	if s := cdpEval[string](p, `document.getElementById("threshold").parentElement.querySelector("span").textContent`); !strings.HasPrefix(s, "threshold 0.500 ") || !strings.HasSuffix(s, ", set by hand") {
		t.Errorf("the live panel's threshold reads %q after the reload, want 0.500 set by hand", s)
	}
	// And the false accept rate chosen.
	if s := cdpEval[string](p, `document.querySelector("label[for=far]").textContent`); s != "false accept rate 0.1%" {
		t.Errorf("the calibration's label reads %q after the reload, want false accept rate 0.1%%", s)
	}
}

// TestE2EVerifyRefused opens the verify page with the camera refused and
// checks that #verify-status says so.
func TestE2EVerifyRefused(t *testing.T) {
	p, _ := newVerifyPage(t, 2*time.Minute, "",
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("deny-permission-prompts", true),
	)
	p.openVerify()
	s := p.waitText("verify-status", 30*time.Second, func(s string) bool { return !strings.HasPrefix(s, "starting") && !strings.HasPrefix(s, "camera off") })
	if !strings.Contains(s, "camera permission refused") {
		t.Errorf("#verify-status = %q, want the refusal message", s)
	}
	if q := p.text("quality"); q != "–" {
		t.Errorf("#quality = %q without a camera, want –", q)
	}
	p.screenshot("verify-refused")
}
