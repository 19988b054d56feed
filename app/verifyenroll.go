package app

import (
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// thumbSide is the height of a snapshot's thumbnail in CSS pixels: a
// 64×64 crop at its size, a 32×32 one doubled.
const thumbSide = 64

// EnrollPanel is the verify page's enrollment: the name and the record
// button, the gallery with its deletable thumbnails, export and import of
// the gallery file, and "Send to server" with its data set, the classroom
// token, and why the gallery cannot be sent, before the click.
type EnrollPanel struct {
	app.Compo

	S         VerifyState // what the page shows
	CanRecord bool
	OnName    func(name string)
	OnRecord  func(on bool)
	OnDelete  func(name, crop string) // a snapshot: its identity's name and its crop
	OnExport  func()
	OnImport  func(b []byte, err error)
	OnUnread  func()           // download the stored gallery the page could not restore (S.DownloadKey)
	OnAside   func(key string) // download a record set aside in an earlier visit (S.Aside)
	OnDiscard func(key string) // delete one (the page confirms first)
	OnDataset func(name string)
	OnUpload  func()
}

// Render draws the panel.
func (p *EnrollPanel) Render() app.UI {
	s := &p.S
	problem := s.UploadProblem()
	return app.Section().ID("enroll").Class("panel enroll").Body(
		app.H2().Text("Enroll"),
		app.Label().Class("field").Body(
			app.Span().Text("name"),
			app.Input().ID("enroll-name").Type("text").Value(s.Name).Placeholder("your name").
				OnInput(func(ctx app.Context, e app.Event) { p.OnName(ctx.JSSrc().Get("value").String()) }),
		),
		app.Button().ID("btn-record").Type("button").Class("btn btn-record").Disabled(!p.CanRecord).
			Text(recordLabel(s.Recording, s.Recorded, s.Snapshots)).
			On("pointerdown", func(ctx app.Context, e app.Event) { p.OnRecord(true) }).
			On("pointerup", func(ctx app.Context, e app.Event) { p.OnRecord(false) }).
			On("pointerleave", func(ctx app.Context, e app.Event) { p.OnRecord(false) }).
			On("pointercancel", func(ctx app.Context, e app.Event) { p.OnRecord(false) }).
			// Held from the keyboard as by a pointer: Space or Enter down
			// records (Record takes a key's repeats as one hold), up or the
			// focus gone stops.
			On("keydown", func(ctx app.Context, e app.Event) {
				if holdKey(e) {
					e.PreventDefault()
					p.OnRecord(true)
				}
			}).
			On("keyup", func(ctx app.Context, e app.Event) {
				if holdKey(e) {
					p.OnRecord(false)
				}
			}).
			On("blur", func(ctx app.Context, e app.Event) { p.OnRecord(false) }),
		// Not a live region: it changes at each snapshot of a hold;
		// #enroll-live says what a hold recorded once it ends.
		app.P().ID("enroll-count").Class("status").Text(EnrollCount(len(s.Gallery.Identities), s.Gallery.Count())),
		app.P().ID("enroll-live").Class("sr-only").Role("status").Text(s.RecordedLine),
		app.Div().ID("gallery").Class("gallery").Body(
			app.Range(s.Gallery.Identities).Slice(func(i int) app.UI {
				id := s.Gallery.Identities[i]
				return app.Div().Class("identity").Body(
					app.H3().Text(id.Name+" ("+strconv.Itoa(len(id.Crops))+")"),
					app.Div().Class("thumbs").Body(app.Range(id.Crops).Slice(func(j int) app.UI {
						return app.Button().Type("button").Class("thumb").Title("delete this snapshot").Aria("label", "delete this snapshot of "+id.Name).Body(
							app.Img().Src(id.Crops[j]).Alt(id.Name).Width(thumbSide*s.Input.Width/s.Input.Height).Height(thumbSide),
						).OnClick(func(ctx app.Context, e app.Event) { p.OnDelete(id.Name, id.Crops[j]) }, app.EventScope(id.Name, i, j, len(id.Crops)))
					})),
				)
			}),
		),
		app.Div().Class("gallery-files").Body(
			app.Button().ID("btn-export-gallery").Type("button").Class("btn").Disabled(s.Gallery.Count() == 0).Text("Export gallery").
				OnClick(func(ctx app.Context, e app.Event) { p.OnExport() }),
			app.Label().For("import-gallery").Class("btn").Text("Import gallery"),
			app.Input().ID("import-gallery").Type("file").Accept(".json,application/json").Class("hidden-file").
				OnChange(func(ctx app.Context, e app.Event) {
					readFile(ctx.JSSrc(), maxGalleryFile, func(b []byte, err error) {
						ctx.Dispatch(func(ctx app.Context) { p.OnImport(b, err) })
					})
				}),
			app.If(s.DownloadKey() != "", func() app.UI {
				return app.Button().ID("btn-download-unread").Type("button").Class("btn").Title("the stored gallery the page did not restore, as it is").
					Text("Download unread gallery").OnClick(func(ctx app.Context, e app.Event) { p.OnUnread() })
			}),
		),
		app.Div().Class("slot").Body(app.If(len(s.Aside) > 0, func() app.UI { // in a slot, as Verify's note: the upload's fields stay
			return app.Div().ID("gallery-aside").Class("gallery-files").Body(
				app.Span().Class("status").Text(msg.Plural(len(s.Aside), "gallery", "galleries")+" the page could not read, set aside in earlier visits:"),
				app.Range(s.Aside).Slice(func(i int) app.UI {
					key := s.Aside[i]
					return app.Span().Class("aside").Body(
						app.Span().Text(strings.TrimPrefix(key, asidePrefix)),
						app.Button().Type("button").Class("btn").Title("save "+key+" as it is, as a file (a record of text)").Text("Download").
							OnClick(func(ctx app.Context, e app.Event) { p.OnAside(key) }, app.EventScope(key)),
						app.Button().Type("button").Class("btn").Title("delete "+key+" from this browser's storage").Text("Delete").
							OnClick(func(ctx app.Context, e app.Event) { p.OnDiscard(key) }, app.EventScope(key)),
					)
				}),
			)
		})),
		app.Div().Class("upload").Body(
			textField("dataset", "server data set", s.Dataset, "webcam", "", false, p.OnDataset),
			&TokenField{ID: "verify-token"},
			app.Button().ID("btn-upload").Type("button").Class("btn").Disabled(problem != "").Title(problem).
				Text("Send to server").OnClick(func(ctx app.Context, e app.Event) { p.OnUpload() }),
			app.P().ID("upload-status").Class("note").Role("status").Text(uploadNote(s, problem)),
			app.Div().Class("slot").Body(app.If(s.TrainLink() != "", func() app.UI {
				return app.A().ID("train-on-server").Href(s.TrainLink()).Text("Train a faces model on data set " + s.SentTo + " (Jobs page)")
			})),
		),
	)
}

// recordLabel is the record button's text.
func recordLabel(recording bool, n, of int) string {
	if recording {
		return "recording… " + strconv.Itoa(n) + "/" + strconv.Itoa(of)
	}
	return "Hold to record " + strconv.Itoa(of) + " snapshots"
}

// uploadNote is #upload-status: why the gallery cannot be sent, when
// there is one to send, else the outcome of the last upload.
func uploadNote(s *VerifyState, problem string) string {
	if problem != "" && !s.Uploading && s.Gallery.Count() > 0 {
		return "cannot send: " + problem
	}
	return s.UploadNote
}

// holdKey reports whether the keyboard event e is of a key that holds the
// record button: Space or Enter, which press a button.
func holdKey(e app.Event) bool {
	k := e.Get("key").String()
	return k == " " || k == "Enter"
}
