package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"metriclab/core/msg"
)

// Defaults of the verify page: the snapshots one "hold to record" takes,
// the encoder's input, and the false accept rate the suggested threshold
// aims at.
const (
	DefaultSnapshots = 20
	DefaultFAR       = 0.01
	angleBins        = 36 // 5° each, for the calibration histogram
)

// Camera states of the verify page, as #verify-status says them.
const (
	CameraOff       = "off"
	CameraStarting  = "starting"
	CameraOn        = "on"
	CameraRefused   = "refused"
	CameraMissing   = "missing"
	CameraInsecure  = "insecure"
	CameraFailed    = "failed"
	CameraNoSupport = "unsupported"
)

// CameraState returns the state and the words for #verify-status of a
// failed getUserMedia, by the DOMException's name (NotAllowedError,
// NotFoundError, …) and message.
func CameraState(name, message string) (state, words string) {
	switch name {
	case "NotAllowedError", "PermissionDeniedError", "SecurityError":
		return CameraRefused, "camera permission refused: allow the camera for this site (the icon in the address bar) and press Start camera again"
	case "NotFoundError", "DevicesNotFoundError", "OverconstrainedError":
		return CameraMissing, "no camera found: connect a webcam and press Start camera again"
	case "NotReadableError", "TrackStartError", "AbortError":
		return CameraFailed, "the camera is in use by another program or failed to start: " + message
	}
	if message == "" {
		message = name
	}
	return CameraFailed, "the camera could not start: " + message
}

// InsecureWords is #verify-status on a page that is not a secure context,
// where browsers offer no camera.
const InsecureWords = "no camera on this page: browsers allow the camera only in a secure context (https, or http://localhost)"

// FPSMeter measures frames per second over the last second.
type FPSMeter struct {
	times []float64 // milliseconds of the frames of the last second
}

// Tick counts a frame at now (milliseconds, as performance.now gives
// them).
func (m *FPSMeter) Tick(now float64) {
	m.times = append(m.times, now)
	i := 0
	for i < len(m.times) && now-m.times[i] > 1000 {
		i++
	}
	m.times = m.times[i:]
}

// FPS returns the frames per second over the last second: the frames
// after the first over the time they span, 0 with fewer than two.
func (m *FPSMeter) FPS() float64 {
	n := len(m.times)
	if n < 2 || m.times[n-1] <= m.times[0] {
		return 0
	}
	return float64(n-1) * 1000 / (m.times[n-1] - m.times[0])
}

// Verdict returns the 1:1 answer for the cosine score against a template
// at threshold: "accept" at or above, "reject" below.
func Verdict(score, threshold float64) string {
	if score >= threshold {
		return "accept"
	}
	return "reject"
}

// Match is one identity of a 1:k ranking with its cosine score.
type Match struct {
	Name  string
	Score float64
}

// Ranked returns names with their scores, best first (ties in name
// order).
func Ranked(names []string, scores []float64) []Match {
	if len(names) != len(scores) {
		panic("app: Ranked: names and scores differ in length")
	}
	ms := make([]Match, len(names))
	for i := range names {
		ms[i] = Match{names[i], scores[i]}
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Score > ms[j].Score })
	return ms
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

// SamplesCommand returns the JSON of the command op to trainer id with
// samples: "start" with cfg (and the viewer's channel) trains on them,
// "embed" with id embeds them.
func SamplesCommand(trainer, op string, cfg *msg.TrainRequest, samples *msg.Samples, embedID, channel string) string {
	return marshalCommand(trainer, &msg.Command{Op: op, Config: cfg, Samples: samples, ID: embedID, Channel: channel})
}

// LoadCommand returns the JSON of the command that makes model (a
// .safetensors file) trainer id's encoder.
func LoadCommand(trainer string, model []byte) string {
	return marshalCommand(trainer, &msg.Command{Op: "load", Model: model})
}

func marshalCommand(trainer string, c *msg.Command) string {
	b, err := json.Marshal(msg.Message{V: msg.SchemaVersion, Type: "command", Trainer: trainer, Command: c})
	if err != nil {
		panic("app: " + err.Error()) // finite numbers and bytes always marshal
	}
	return string(b)
}

// DecodeEmbeddings reads an "embeddings" message of the schema; ok is false
// for a message of another type.
func DecodeEmbeddings(data string) (e *msg.Embeddings, ok bool, err error) {
	var m struct {
		V          int             `json:"v"`
		Type       string          `json:"type"`
		Embeddings *msg.Embeddings `json:"embeddings"`
	}
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		return nil, false, fmt.Errorf("app: bad message from the trainer: %w", err)
	}
	if m.Type != "embeddings" {
		return nil, false, nil
	}
	if m.V != msg.SchemaVersion {
		return nil, true, fmt.Errorf("app: message of schema v%d, the page reads v%d (reload the page)", m.V, msg.SchemaVersion)
	}
	if m.Embeddings == nil || m.Embeddings.Dim < 1 || len(m.Embeddings.Values)%m.Embeddings.Dim != 0 {
		return nil, true, fmt.Errorf("app: embeddings message without whole N×D values")
	}
	return m.Embeddings, true, nil
}

// UploadRequest returns the request that adds one crop (PNG bytes) of
// identity to the server's image-folder data set dataset at base: POST
// /api/datasets/{dataset}/samples, multipart with "identity" and "image".
func UploadRequest(base, dataset, identity string, pngBytes []byte, token string) (*http.Request, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if err := w.WriteField("identity", identity); err != nil {
		return nil, err
	}
	part, err := w.CreateFormFile("image", identity+".png")
	if err != nil {
		return nil, err
	}
	if _, err := part.Write(pngBytes); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, base+"/api/datasets/"+url.PathEscape(dataset)+"/samples", &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

// EnrollCount says the gallery's size for #enroll-count: "2 identities,
// 40 snapshots".
func EnrollCount(identities, snapshots int) string {
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	return plural(identities, "identity", "identities") + ", " + plural(snapshots, "snapshot", "snapshots")
}
