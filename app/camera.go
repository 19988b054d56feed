package app

import (
	"math"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/face"
)

// Frame sizes of the camera: each processed frame is drawn FrameWidth
// wide (its height by the video's aspect) into an offscreen canvas, and
// frames are taken at most every minFrameGap milliseconds (30 per
// second).
const (
	FrameWidth  = 320
	minFrameGap = 1000.0 / 30
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
	CameraStopped   = "stopped" // it was on, and its stream ended
)

// StoppedWords is #verify-status once a camera that was on has stopped.
const StoppedWords = "the camera stopped (unplugged, switched off, or its permission taken back): press Start camera again"

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

// camera is the page's handle on the webcam: the stream shown in the
// <video> of the page, the offscreen canvas each processed frame is drawn
// into, the overlay canvas the faces are drawn on, and the frame loop on
// requestAnimationFrame. Outside a browser it is never made.
type camera struct {
	stream  app.Value
	video   app.Value
	canvas  app.Value // offscreen, w×h
	ctx2d   app.Value
	overlay app.Value // the page's overlay canvas, w×h

	w, h    int
	rgba    []byte
	gray    []uint8
	loop    app.Func
	onEnded app.Func // a video track's "ended": the stream stopped
	tracks  app.Value
	last    float64
	stopped bool
	busy    bool // a frame is in the page's hands: skip frames until it is done

	// onFrame receives each grey frame (valid until done is called) and the
	// time of the frame in milliseconds.
	onFrame func(gray []uint8, w, h int, now float64, done func())
}

// startCamera asks for the webcam and calls started with the camera
// showing in the <video> of videoID (overlay drawn on the canvas of
// overlayID), or with the state and words of why there is none; when the
// camera's stream ends later (unplugged, the permission revoked), it is
// stopped and ended is called with it. It runs on the browser's event
// loop; the caller dispatches.
func startCamera(videoID, overlayID string, onFrame func(gray []uint8, w, h int, now float64, done func()), started func(c *camera, state, words string), ended func(c *camera)) {
	win := app.Window()
	if sc := win.Get("isSecureContext"); sc.Type() == app.TypeBoolean && !sc.Bool() {
		started(nil, CameraInsecure, InsecureWords)
		return
	}
	md := win.Get("navigator").Get("mediaDevices")
	if !md.Truthy() || !md.Get("getUserMedia").Truthy() {
		started(nil, CameraNoSupport, "this browser offers no camera to pages (navigator.mediaDevices.getUserMedia is missing)")
		return
	}
	constraints := map[string]any{
		"audio": false,
		"video": map[string]any{"width": map[string]any{"ideal": 640}, "height": map[string]any{"ideal": 480}, "facingMode": "user"},
	}
	var ok, fail app.Func
	release := func() { ok.Release(); fail.Release() }
	ok = app.FuncOf(func(this app.Value, args []app.Value) any {
		release()
		c := &camera{stream: args[0], onFrame: onFrame}
		doc := win.Get("document")
		c.video = doc.Call("getElementById", videoID)
		c.overlay = doc.Call("getElementById", overlayID)
		if !c.video.Truthy() {
			c.stop()
			started(nil, CameraFailed, "the page has no video element for the camera")
			return nil
		}
		c.video.Set("muted", true)
		c.video.Set("playsInline", true)
		c.video.Set("srcObject", c.stream)
		c.video.Call("play")
		c.canvas = doc.Call("createElement", "canvas")
		c.loop = app.FuncOf(func(this app.Value, args []app.Value) any {
			c.tick(args[0].Float())
			return nil
		})
		win.Call("requestAnimationFrame", c.loop)
		// A track that ends leaves the <video> on its last frame, which
		// the loop would go on taking as the face in front of the camera.
		c.onEnded = app.FuncOf(func(this app.Value, args []app.Value) any {
			if !c.stopped {
				c.stop()
				ended(c)
			}
			return nil
		})
		c.tracks = c.stream.Call("getVideoTracks")
		for i := 0; i < c.tracks.Length(); i++ {
			c.tracks.Index(i).Set("onended", c.onEnded)
		}
		started(c, CameraOn, "")
		return nil
	})
	fail = app.FuncOf(func(this app.Value, args []app.Value) any {
		release()
		e := args[0]
		name, message := "", ""
		if n := e.Get("name"); n.Type() == app.TypeString {
			name = n.String()
		}
		if m := e.Get("message"); m.Type() == app.TypeString {
			message = m.String()
		}
		state, words := CameraState(name, message)
		started(nil, state, words)
		return nil
	})
	md.Call("getUserMedia", constraints).Call("then", ok).Call("catch", fail)
}

// tick is one animation frame: when the video has a frame, the last one
// is done, and minFrameGap has passed, it draws the video into the
// offscreen canvas, converts it to grey and hands it to onFrame.
func (c *camera) tick(now float64) {
	if c.stopped {
		return
	}
	defer app.Window().Call("requestAnimationFrame", c.loop)
	if c.busy || now-c.last < minFrameGap || c.video.Get("readyState").Int() < 2 {
		return
	}
	vw, vh := c.video.Get("videoWidth").Int(), c.video.Get("videoHeight").Int()
	if vw == 0 || vh == 0 {
		return
	}
	if c.w == 0 {
		c.w, c.h = FrameWidth, int(math.Round(FrameWidth*float64(vh)/float64(vw)))
		c.canvas.Set("width", c.w)
		c.canvas.Set("height", c.h)
		c.ctx2d = c.canvas.Call("getContext", "2d", map[string]any{"willReadFrequently": true})
		if c.overlay.Truthy() {
			c.overlay.Set("width", c.w)
			c.overlay.Set("height", c.h)
		}
		c.rgba = make([]byte, 4*c.w*c.h)
		c.gray = make([]uint8, c.w*c.h)
	}
	c.last = now
	c.ctx2d.Call("drawImage", c.video, 0, 0, c.w, c.h)
	app.CopyBytesToGo(c.rgba, c.ctx2d.Call("getImageData", 0, 0, c.w, c.h).Get("data"))
	GrayTo(c.gray, c.rgba)
	c.busy = true
	c.onFrame(c.gray, c.w, c.h, now, func() { c.busy = false })
}

// drawFaces draws on the overlay the box and the pupils of each face, in
// the colour of quality q: green when the frame is good, amber otherwise.
func (c *camera) drawFaces(faces []face.Face, q face.Quality) {
	if c == nil || !c.overlay.Truthy() {
		return
	}
	g := c.overlay.Call("getContext", "2d")
	g.Call("clearRect", 0, 0, c.w, c.h)
	colour := "#f0a020"
	if q == face.OK {
		colour = "#2ecc71"
	}
	g.Set("strokeStyle", colour)
	g.Set("fillStyle", colour)
	g.Set("lineWidth", 2)
	for _, f := range faces {
		g.Call("strokeRect", f.Box.Min.X, f.Box.Min.Y, f.Box.Dx(), f.Box.Dy())
		for _, p := range []face.Point{f.LeftEye, f.RightEye} {
			g.Call("beginPath")
			g.Call("arc", p.X, p.Y, 3, 0, 2*math.Pi)
			g.Call("fill")
		}
	}
}

// stop ends the frame loop and the camera's tracks.
func (c *camera) stop() {
	if c == nil || c.stopped {
		return
	}
	c.stopped = true
	tracks := c.stream.Call("getTracks")
	for i := 0; i < tracks.Length(); i++ {
		tracks.Index(i).Call("stop")
	}
	if c.video.Truthy() {
		c.video.Set("srcObject", nil)
	}
	if c.loop != nil {
		c.loop.Release()
	}
	if c.onEnded != nil {
		for i := 0; i < c.tracks.Length(); i++ {
			c.tracks.Index(i).Set("onended", nil)
		}
		c.onEnded.Release()
	}
}

// GrayTo writes the grey of each RGBA pixel of rgba into dst (ITU-R BT.601
// luma in integers, (77·R + 150·G + 29·B) / 256) and returns dst.
func GrayTo(dst []uint8, rgba []byte) []uint8 {
	if len(rgba) != 4*len(dst) {
		panic("app: GrayTo: rgba is not 4 bytes a grey pixel")
	}
	for i := range dst {
		p := rgba[4*i : 4*i+3 : 4*i+3]
		dst[i] = uint8((77*uint32(p[0]) + 150*uint32(p[1]) + 29*uint32(p[2])) >> 8)
	}
	return dst
}
