package app

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// CameraPanel is the verify page's camera: the preview with the overlay
// the page draws the faces on, the quality of the latest frame, the
// detections per second, and Start camera when there is no camera.
type CameraPanel struct {
	app.Compo

	Quality   string  // the latest frame's quality in words
	FPS       float64 // detections per second
	ShowStart bool    // no camera and none starting: offer Start camera
	OnStart   func()
}

// Render draws the panel.
func (c *CameraPanel) Render() app.UI {
	return app.Section().ID("camera").Class("panel camera").Body(
		app.Div().Class("preview").Body(
			app.Video().ID("video").Class("video").Muted(true).AutoPlay(true).Attr("playsinline", true).Aria("label", "camera preview"),
			// The faces found, drawn over the preview: what they say is
			// in the quality below (#quality).
			app.Canvas().ID("overlay").Class("overlay").Aria("hidden", "true"),
		),
		app.Div().Class("figures").Body(
			app.Div().Class("figure").Body(app.Span().ID("quality").Class("value quality").Text(c.Quality), app.Span().Class("label").Text("face")),
			app.Div().Class("figure").Body(app.Span().ID("fps").Class("value").Text(strconv.FormatFloat(c.FPS, 'f', 1, 64)), app.Span().Class("label").Text("detections/s")),
		),
		app.If(c.ShowStart, func() app.UI {
			return app.Button().ID("btn-camera").Type("button").Class("btn").Text("Start camera").
				OnClick(func(ctx app.Context, e app.Event) {
					if c.OnStart != nil {
						c.OnStart()
					}
				})
		}),
	)
}
