package app

import (
	"slices"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// thumbSide is the height of a snapshot's thumbnail in CSS pixels: a
// 64×64 crop at its size, a 32×32 one doubled.
const thumbSide = 64

// EnrollPanel is the verify page's enrollment: the name and the record
// button, the gallery with its deletable thumbnails and "Remove <name>"
// for each person, export and import of
// the gallery file, and "Send to server" with its data set, the classroom
// token, and why the gallery cannot be sent, before the click.
type EnrollPanel struct {
	app.Compo

	S         VerifyState // what the page shows
	CanRecord bool
	OnName    func(name string)
	OnRecord  func(on bool)
	OnDelete  func(name, crop string) // a snapshot: its identity's name and its crop
	OnRemove  func(name string)       // a person and all their snapshots (the page confirms first)
	OnExport  func()
	OnImport  func(b []byte, err error)
	OnUnread  func()           // download the stored gallery the page could not restore (S.DownloadKey)
	OnAside   func(key string) // download a record set aside in an earlier visit (S.Aside)
	OnDiscard func(key string) // delete one (the page confirms first)
	OnDataset func(name string)
	OnUpload  func()

	ctx app.Context // the panel's own, mounted: a thumbnail's is gone with it (refocus)
	// active is, by a person's name, the place of the thumbnail that Tab
	// stops at in their toolbar (a roving tabindex), the one focused last.
	active map[string]int
}

// OnMount keeps the panel's context.
func (p *EnrollPanel) OnMount(ctx app.Context) { p.ctx = ctx }

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
		// Each person's thumbnails are a toolbar (WAI-ARIA's pattern): one
		// Tab stop, the thumbnail focused last, and the arrow keys, Home
		// and End move among them (thumbKey); a thumbnail's click, or its
		// Enter, Space, Delete or Backspace (a Mac's key marked "delete"),
		// deletes its snapshot (aria-keyshortcuts names the two keys a
		// button does not have). Each was a Tab stop of its own: Export
		// gallery came after every snapshot.
		app.Div().ID("gallery").Class("gallery").Role("group").Aria("label", "gallery").TabIndex(-1).Body(
			app.Range(s.Gallery.Identities).Slice(func(i int) app.UI {
				id := s.Gallery.Identities[i]
				active := p.activeOf(id.Name, len(id.Crops))
				return app.Div().Class("identity").Body(
					app.Div().Class("identity-head").Body(
						app.H3().Text(id.Name+" ("+strconv.Itoa(len(id.Crops))+")"),
						app.Button().Type("button").Class("btn btn-remove").Title("remove "+id.Name+" and every snapshot of them (asks first)").
							Text("Remove "+id.Name).
							OnClick(func(ctx app.Context, e app.Event) { p.OnRemove(id.Name); p.refocus(id.Name, -1) }, app.EventScope(id.Name)),
					),
					app.Div().Class("thumbs").Role("toolbar").Aria("label", "snapshots of "+id.Name).Body(app.Range(id.Crops).Slice(func(j int) app.UI {
						scope := app.EventScope(id.Name, i, j, len(id.Crops))
						tab := -1
						if j == active {
							tab = 0
						}
						return app.Button().ID(thumbID(i, j)).Type("button").Class("thumb").TabIndex(tab).Title("delete this snapshot").Aria("keyshortcuts", "Delete Backspace").
							Aria("label", "delete snapshot "+strconv.Itoa(j+1)+" of "+strconv.Itoa(len(id.Crops))+" of "+id.Name).Body(
							app.Img().Src(id.Crops[j]).Alt(id.Name).Width(thumbSide*s.Input.Width/s.Input.Height).Height(thumbSide),
						).
							OnClick(func(ctx app.Context, e app.Event) { p.deleteThumb(id, j) }, scope).
							On("keydown", func(ctx app.Context, e app.Event) { p.thumbKey(e, i, j, id) }, scope).
							On("focus", func(ctx app.Context, e app.Event) { p.setActive(id.Name, j) }, scope)
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

// activeOf returns the place of the thumbnail of name's toolbar that Tab
// stops at, of n: the one focused last, the last when that one is gone,
// the first at first.
func (p *EnrollPanel) activeOf(name string, n int) int {
	return max(0, min(p.active[name], n-1))
}

// setActive makes the thumbnail at place j of name's toolbar the one Tab
// stops at.
func (p *EnrollPanel) setActive(name string, j int) {
	if p.active == nil {
		p.active = map[string]int{}
	}
	p.active[name] = j
}

// thumbKey moves the focus in the toolbar of identity id, at place i of
// the gallery, from its thumbnail j, as WAI-ARIA's toolbar does: Left
// and Right to the one before and after (at the ends, nowhere), Home and
// End to the first and last; Delete deletes the snapshot, as Enter and
// Space (the button's click) do, and so does Backspace, which the key
// marked "delete" of a Mac's keyboard sends.
func (p *EnrollPanel) thumbKey(e app.Event, i, j int, id Identity) {
	k := j
	switch e.Get("key").String() {
	case "ArrowLeft":
		k = max(j-1, 0)
	case "ArrowRight":
		k = min(j+1, len(id.Crops)-1)
	case "Home":
		k = 0
	case "End":
		k = len(id.Crops) - 1
	case "Delete", "Backspace":
		e.PreventDefault()
		p.deleteThumb(id, j)
		return
	default:
		return
	}
	e.PreventDefault()
	p.setActive(id.Name, k)
	focusElement(thumbID(i, k))
}

// deleteThumb deletes the snapshot of thumbnail j of id, and keeps the
// focus in its toolbar: on the thumbnail that takes its place, or the
// one before when it was the last (refocus).
func (p *EnrollPanel) deleteThumb(id Identity, j int) {
	p.OnDelete(id.Name, id.Crops[j])
	p.setActive(id.Name, min(j, len(id.Crops)-2))
	p.refocus(id.Name, p.active[id.Name])
}

// refocus focuses, once the panel is drawn again, the thumbnail j of
// name (−1: none), or the gallery when name is no longer there (its last
// snapshot deleted, or it was removed): the element focused is gone, and
// the browser's focus with it, back to the start of the page. It is
// deferred on the panel's context, as that of a thumbnail gone is not
// run.
func (p *EnrollPanel) refocus(name string, j int) {
	p.ctx.Defer(func(ctx app.Context) {
		i := slices.IndexFunc(p.S.Gallery.Identities, func(id Identity) bool { return id.Name == name })
		switch {
		case i < 0:
			focusElement("gallery")
		case j >= 0:
			focusElement(thumbID(i, min(j, len(p.S.Gallery.Identities[i].Crops)-1)))
		}
	})
}

// thumbID is the id of thumbnail j of identity i of the gallery.
func thumbID(i, j int) string { return "thumb-" + strconv.Itoa(i) + "-" + strconv.Itoa(j) }

// focusElement focuses the element of id, if there is one.
func focusElement(id string) {
	if el := app.Window().GetElementByID(id); el.Truthy() {
		el.Call("focus")
	}
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
