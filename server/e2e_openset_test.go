//go:build !(js && wasm)

package main

// The open-set browser test: the Verify page loads a `faces` model trained
// on ORL's s01–s20 (server/testdata/orl) and verifies two people it never
// saw, enrolled from a fake camera.

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The open-set test's data: the faces model's training identities, and
// the two unseen people, whose photos 01–06 are enrolled and photo 10 is
// held out (never enrolled) to verify.
const (
	orlSeen   = "testdata/orl/seen"
	orlUnseen = "testdata/orl/unseen"
)

var (
	openSetPeople   = [2]string{"s28", "s35"}
	openSetEnrolled = []int{1, 2, 3, 4, 5, 6}
	openSetHeldOut  = 10
)

// orlFrame returns the fake camera's frame of an ORL photo: scaled twice
// (the face about 120 pixels wide, as in verifyFrames), centred, the
// photo's edge pixels repeated to fill the frame, with the marker of
// segment k.
func orlFrame(t *testing.T, path string, k int) []uint8 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("%s: not a grey PNG", path)
	}
	const scale = 2
	b := g.Bounds()
	fr := make([]uint8, verifyW*verifyH)
	for y := range verifyH {
		for x := range verifyW {
			sx := max(0, min(b.Dx()-1, b.Dx()/2+(x-verifyW/2)/scale))
			sy := max(0, min(b.Dy()-1, b.Dy()/2+(y-verifyH/2)/scale))
			fr[y*verifyW+x] = g.Pix[sy*g.Stride+sx]
		}
	}
	setMarker(fr, k)
	return fr
}

// TestE2EVerifyOpenSet trains a `faces` model in the test, through the
// code of `metriclab train --preset faces --epochs 100 --align`
// (cmdTrain), on ORL's s01–s20 only: 100 of the preset's 200 epochs,
// as its cosine schedule runs them, so that make test stays under its 20
// minutes on a 2-core machine without AVX-512 (there the 200 epochs took
// 525 s of the fresh-clone CI's 19.6 minutes at commit 04f23d4; 100 took
// 231 s, and the page accepted s28's and s35's photos at 0.873 and 0.738
// and rejected the other claims at −0.318 and −0.311 against a suggested
// threshold of 0.303, where the 200 epochs gave 0.891 and 0.712, −0.302
// and −0.261, against 0.329). Since the preset took views, one file of four encoders
// (the whole face, its upper and its lower part, its centre), so the
// page loads a model of views, which embeds 4 × 128 wide. The Verify page loads it
// from its model file input, enrolls s28 and s35 (20 snapshots each,
// from their photos 01–06) from a fake camera, and then, with each one's
// photo 10 on camera (never enrolled), accepts the right claim and
// rejects the other person's at the threshold the page suggests.
// Natively, with the same frames and the page's templates and
// calibration (checked once with a throwaway native test, not kept, when
// the preset was one encoder of 1×32×32 crops), 118 of the 136 pairs of
// s21–s40 whose photos 01–06 and 10 all give a usable face pass this;
// s28 and s35 are a pair with a wide margin (0.59 in cosine natively;
// 0.36 in the browser at 0.316), so that the browser's video path does
// not make the test flaky. With one encoder at the preset's 1×48×48 (the
// page's 64×64 snapshots reduced), two runs accepted s35's photo at 0.69
// and 0.50 against suggested thresholds of 0.29 and 0.27. With three
// views (the preset before its centre view), a run accepted s28's photo at 0.905 and s35's at 0.727 and
// rejected the other claims at −0.27 and −0.22, against a suggested
// threshold of 0.345; with the four views, the fresh-clone CI run of
// commit 96b1d37 accepted them at 0.861 and 0.715 and rejected the other
// claims at −0.243 and −0.230, against a suggested threshold of 0.341,
// and that of a84c5e1 at 0.875 and 0.715, −0.243 and −0.233, against
// 0.354 (the test logs each claim's score). The page's live
// probe goes through the worker's encoder of batch 1: through one of 64,
// padded, the six forward passes of a probe (then three views, each with
// its mirror; eight now) took longer than a photo's 4 s on camera, and this test failed.
func TestE2EVerifyOpenSet(t *testing.T) {
	requireE2E(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "faces.safetensors")
	start := time.Now()
	if err := cmdTrain(context.Background(), []string{"--preset", "faces", "--epochs", "100", "--data", orlSeen, "--split", "all", "--align", "--out", model}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Logf("trained the faces model on s01–s20 in %.1f s", time.Since(start).Seconds())

	// Segments: A enrolls the first person (photos 01–06, 10 frames
	// each), B the second, C shows the first's photo 10, D the second's.
	var frames [][]uint8
	per := verifySegment / len(openSetEnrolled)
	for k, who := range openSetPeople {
		for _, n := range openSetEnrolled {
			fr := orlFrame(t, filepath.Join(orlUnseen, who, fmt.Sprintf("%02d.png", n)), k)
			for range per {
				frames = append(frames, fr)
			}
		}
	}
	for k, who := range openSetPeople {
		fr := orlFrame(t, filepath.Join(orlUnseen, who, fmt.Sprintf("%02d.png", openSetHeldOut)), 2+k)
		for range verifySegment {
			frames = append(frames, fr)
		}
	}
	video := filepath.Join(dir, "camera.y4m")
	if err := writeY4M(video, 1, frames...); err != nil {
		t.Fatal(err)
	}
	p, _ := newVerifyPage(t, 4*time.Minute, "",
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
	)
	p.openVerify()
	p.waitText("verify-status", 30*time.Second, func(s string) bool { return strings.Contains(s, "camera on: detecting") })
	p.enroll(openSetPeople[0], 'A', 20, false)
	p.enroll(openSetPeople[1], 'B', 20, false)
	if s := p.text("enroll-count"); s != "2 identities, 40 snapshots" {
		t.Errorf("#enroll-count = %q, want 2 identities, 40 snapshots", s)
	}

	cdpRun(p, "load the model file", chromedp.SetUploadFiles(chromedp.ID("model-file"), []string{model}))
	status := p.waitText("train-status", time.Minute, func(s string) bool { return strings.HasPrefix(s, "ready") })
	if want := "ready: model file faces.safetensors, 2 identities, D = "; !strings.HasPrefix(status, want) {
		t.Errorf("#train-status = %q, want %q…", status, want)
	}
	// A loaded model was not trained on the snapshots: every one calibrates.
	if s := p.text("calibrated-on"); s != "calibrated on 40 enrolled snapshots (leave-one-out)" {
		t.Errorf("#calibrated-on = %q", s)
	}
	t.Logf("#suggested: %s", p.text("suggested"))
	p.screenshot("openset-1-loaded")

	// Each held-out photo: the right claim accepted, the other rejected,
	// read while that photo is on camera, from a probe of it.
	claim := func(name string) {
		cdpEval[bool](p, `(() => { const e = document.getElementById("claimed"); e.value = `+strconv.Quote(name)+`; e.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
		time.Sleep(400 * time.Millisecond)
	}
	for k, who := range openSetPeople {
		seg := byte('C' + k)
		deadline := time.Now().Add(45 * time.Second)
		for {
			if !p.waitProbeOf(seg, deadline) {
				p.screenshot("timeout-openset-" + who)
				t.Fatalf("%s's photo %d: no reading while it was on camera in 45 s", who, openSetHeldOut)
			}
			var got [2][3]string
			for c, name := range openSetPeople {
				claim(name)
				r := p.texts([]string{"verdict", "score", "identity"})
				copy(got[c][:], r)
			}
			if p.onCamera() != seg {
				continue // the photo left the camera meanwhile: read again on the next loop
			}
			for c, name := range openSetPeople {
				want := "reject"
				if c == k {
					want = "accept"
				}
				t.Logf("%s's photo %d, claim %s: #verdict %s, #score %s, #identity %s", who, openSetHeldOut, name, got[c][0], got[c][1], got[c][2])
				if got[c][0] != want {
					t.Errorf("%s's photo %d claimed as %s: #verdict %q, want %s", who, openSetHeldOut, name, got[c][0], want)
				}
			}
			if got[0][2] != who {
				t.Errorf("%s's photo %d: #identity %q, want %s", who, openSetHeldOut, got[0][2], who)
			}
			break
		}
		p.screenshot("openset-2-" + who)
	}
}
