package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"metriclab/core/msg"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The Models page's upload of a model file and its rename of a model:
// the writes it makes besides Delete (models.go). The server checks both
// (server/api/models.go): the file, and the name, which the page sends as
// typed.

// maxModelName is the most characters of a model's name, as the server
// takes it (server/api: maxModelName): the name fields hold no more.
const maxModelName = 100

// uploadTimeout bounds an upload: a model file may be 256 MB (the
// server's default --max-upload), which at a slow link takes minutes,
// more than requestTimeout, which bounds the read of the list after it.
var uploadTimeout = 10 * time.Minute

// uploadForm draws the upload: the name the model takes (the file's
// without .safetensors when empty) and the file input, visually its
// label (a button) and reachable by the keyboard (web/metriclab.css:
// .hidden-file), which waits while an upload is on its way. A file
// dropped on the page is uploaded too (dropped). While an upload goes,
// the note says how much of it is sent (modelUploadNote), and Cancel
// upload, last (go-app matches children by their place), aborts it until
// the file is all sent: then the server stores and checks it, and a
// cancel could no longer tell whether it kept the model.
func (m *Models) uploadForm() app.UI {
	busy := m.uploading != ""
	return app.Div().ID("models-upload").Class("models-upload").Body(
		app.Label().For("model-upload-name").Text("model name"),
		app.Input().ID("model-upload-name").Type("text").Value(m.upName).Placeholder("the file's name").MaxLength(maxModelName).Disabled(busy).
			OnInput(func(ctx app.Context, e app.Event) { m.upName = ctx.JSSrc().Get("value").String() }),
		app.Label().For("model-upload").Class("btn").Text("Upload model file"),
		app.Input().ID("model-upload").Type("file").Accept(".safetensors").Class("hidden-file").Disabled(busy).
			OnChange(func(ctx app.Context, e app.Event) { m.readUpload(ctx, ctx.JSSrc()) }),
		app.Span().Class("note").Text("or drop a .safetensors file on the page"),
		app.If(busy, func() app.UI {
			return app.Button().ID("model-upload-cancel").Type("button").Class("btn").Disabled(m.allSent() || m.upCancelled).
				Aria("label", "cancel the upload of "+m.uploading).Text("Cancel upload").
				OnClick(func(ctx app.Context, e app.Event) { m.cancelUpload() })
		}),
	)
}

// allSent reports whether the browser has sent all of the upload's file.
func (m *Models) allSent() bool { return m.upTotal > 0 && m.upSent >= m.upTotal }

// cancelUpload aborts the upload on its way, unless its file is all sent
// (uploadForm); its answer says it was cancelled (upload).
func (m *Models) cancelUpload() {
	if m.uploading == "" || m.upCancel == nil || m.allSent() || m.upCancelled {
		return
	}
	m.upCancelled = true
	m.upCancel()
}

// modelUploadNote is the note of the upload of file, of size bytes, while it
// goes: "uploading FILE (50.0 MB)…" until the browser tells how much is
// sent, then "uploading FILE… 45 % (22.5 of 50.0 MB)", and once all of
// it is, that the server is checking it.
func modelUploadNote(file string, size, sent, total int64) string {
	switch {
	case total <= 0:
		return "uploading " + file + " (" + formatBytes(size) + ")…"
	case sent >= total:
		return "uploading " + file + "… 100 % (" + formatBytes(total) + "): the server is checking it…"
	}
	return fmt.Sprintf("uploading %s… %d %% (%s)", file, 100*sent/total, bytesOf(sent, total))
}

// bytesOf writes sent of total bytes in total's unit (formatBytes): "22.5
// of 50.0 MB", "812 of 900 B".
func bytesOf(sent, total int64) string {
	scale := 1.0
	switch t := formatBytes(total); {
	case strings.HasSuffix(t, " MB"):
		scale = 1e6
	case strings.HasSuffix(t, " kB"):
		scale = 1e3
	default:
		return strconv.FormatInt(sent, 10) + " of " + t
	}
	return strconv.FormatFloat(float64(sent)/scale, 'f', 1, 64) + " of " + formatBytes(total)
}

// dragOver lets a file be dropped on the page (the browser would open it
// in the tab).
func dragOver(ctx app.Context, e app.Event) { e.PreventDefault() }

// dropped uploads the file dropped on the page (a drop of no file, text
// say, is passed over), unless an upload is on its way.
func (m *Models) dropped(ctx app.Context, e app.Event) {
	e.PreventDefault()
	if dt := e.Get("dataTransfer"); dt.Truthy() && dt.Get("files").Truthy() && dt.Get("files").Length() > 0 && m.uploading == "" {
		m.readUpload(ctx, dt)
	}
}

// readUpload reads the first file of in (a file input, or a drop's
// dataTransfer: each has files) and uploads it.
func (m *Models) readUpload(ctx app.Context, in app.Value) {
	file := "the model file"
	if fs := in.Get("files"); fs.Truthy() && fs.Length() > 0 {
		file = fs.Index(0).Get("name").String()
	}
	readFile(in, maxModelFile, func(b []byte, err error) {
		ctx.Dispatch(func(ctx app.Context) { m.upload(ctx, file, b, err) })
	})
}

// uploadName returns the name a model uploaded from file takes: the name
// field's, else the file's without its .safetensors (at most
// maxModelName characters), "" (the server's "uploaded model") when
// neither gives one.
func (m *Models) uploadName(file string) string {
	if name := strings.TrimSpace(m.upName); name != "" {
		return name
	}
	name := strings.TrimSpace(strings.TrimSuffix(file, ".safetensors"))
	if utf8.RuneCountInString(name) > maxModelName {
		name = string([]rune(name)[:maxModelName])
	}
	return name
}

// upload sends the model file of name file, b (or tells err, the read's),
// unless an upload is on its way, then reads the registry: the model
// shows, newest, first. The note says how much of the file is sent, at
// each whole percent (modelUploadNote). The server's refusal (not a
// model, too large, a name another model has) is the page's alert, in
// its words; the name field keeps its text for another try, and is
// emptied once the model is uploaded. An upload cancelled (cancelUpload)
// says so in the note, and that nothing was stored: the server stores a
// model once its whole file came, and a cancel is taken before that
// only. An answer that came all the same is shown as it is.
func (m *Models) upload(ctx app.Context, file string, b []byte, err error) {
	if m.Client == nil || m.uploading != "" {
		return
	}
	if err != nil {
		m.delErr, m.note = "could not read "+file+": "+err.Error(), ""
		return
	}
	name, size := m.uploadName(file), int64(len(b))
	m.upSeq++
	seq := m.upSeq
	m.uploading, m.delErr, m.note = file, "", modelUploadNote(file, size, 0, 0)
	m.upSent, m.upTotal, m.upCancelled = 0, 0, false
	client, page := m.Client, m.mounted
	uc, cancel := context.WithTimeout(ctx, uploadTimeout)
	m.upCancel = cancel
	shown := int64(-1) // the percent last told to the page
	progress := func(sent, total int64) {
		if total <= 0 || 100*sent/total == shown {
			return
		}
		shown = 100 * sent / total
		page.Dispatch(func(ctx app.Context) {
			if m.upSeq != seq || m.uploading == "" { // told after its answer
				return
			}
			m.upSent, m.upTotal, m.note = sent, total, modelUploadNote(file, size, sent, total)
		})
	}
	ctx.Async(func() {
		card, err := client.UploadModelProgress(uc, name, b, progress)
		cancel()
		rc, cancelList := context.WithTimeout(ctx, requestTimeout)
		defer cancelList()
		cards, listErr := client.Models(rc)
		page.Dispatch(func(ctx app.Context) {
			cancelled := m.upCancelled && errors.Is(err, context.Canceled)
			m.uploading, m.upCancel, m.upCancelled, m.upSent, m.upTotal = "", nil, false, 0, 0
			// Cancel upload is gone, with the focus where it had it.
			m.focus("model-upload", []string{"model-upload-cancel"})
			if cancelled {
				m.delErr, m.note = "", "cancelled the upload of "+file+": nothing was stored"
				m.SetCards(cards, listErr)
				return
			}
			if err != nil {
				m.delErr, m.note = "could not upload "+file+": "+err.Error(), ""
			} else {
				m.delErr, m.note, m.upName = "", "uploaded "+file+" as "+cardName(card), ""
				if listErr == nil && !slices.ContainsFunc(cards, func(c msg.ModelCard) bool { return c.ID == card.ID }) {
					cards = append(cards, card) // listed before the upload's row was there
				}
			}
			if listErr == nil || err != nil {
				m.SetCards(cards, listErr)
			} else { // the cards shown are those read before
				m.cards = append([]msg.ModelCard{card}, m.cards...)
			}
		})
	})
}

// nameCell draws the name of model c in its row (shown, its name as
// FormatCard writes it), or its rename form while it is renamed.
func (m *Models) nameCell(c msg.ModelCard, shown string) app.UI {
	if m.renaming != c.ID {
		return app.Strong().Text(shown)
	}
	id, name, busy := c.ID, m.nameOf(c), m.renameBusy
	escape := func(ctx app.Context, e app.Event) {
		if e.Get("key").String() == "Escape" {
			m.cancelRename(id)
		}
	}
	return app.Form().ID("rename-form-"+id).Class("rename-form").Body(
		app.Label().For("rename-name-"+id).Class("sr-only").Text("new name of model "+name),
		app.Input().ID("rename-name-"+id).Type("text").Value(m.renameTo).MaxLength(maxModelName).Disabled(busy).
			OnInput(func(ctx app.Context, e app.Event) { m.renameTo = ctx.JSSrc().Get("value").String() }, app.EventScope(id)).
			On("keydown", escape, app.EventScope(id)),
		app.Button().ID("rename-save-"+id).Type("submit").Class("btn").Disabled(busy).Aria("label", "save the new name of model "+name).Text("Save"),
		app.Button().ID("rename-cancel-"+id).Type("button").Class("btn").Disabled(busy).Aria("label", "cancel the rename of model "+name).Text("Cancel").
			OnClick(func(ctx app.Context, e app.Event) { m.cancelRename(id) }, app.EventScope(id)).
			On("keydown", escape, app.EventScope(id)),
	).OnSubmit(func(ctx app.Context, e app.Event) {
		e.PreventDefault()
		m.rename(ctx, c)
	}, app.EventScope(id))
}

// renameButton draws the Rename of model c, named for it (nameOf), the
// row's while its rename form is not drawn (the form has Save and
// Cancel).
func (m *Models) renameButton(c msg.ModelCard) app.UI {
	id := c.ID
	return app.Button().ID("rename-"+id).Type("button").Class("btn").Disabled(m.deleting[id]).
		Aria("label", "rename model "+m.nameOf(c)).Text("Rename").
		OnClick(func(ctx app.Context, e app.Event) { m.startRename(id) }, app.EventScope(id))
}

// startRename draws the rename form of model id (of it alone: another
// row's closes), its field holding the model's name, the focus on it;
// unless a rename is on its way.
func (m *Models) startRename(id string) {
	i := m.index(id)
	if i < 0 || m.renameBusy {
		return
	}
	m.renaming, m.renameTo = id, m.cards[i].Name
	m.focus("rename-name-"+id, nil)
}

// cancelRename closes the rename form of model id, the focus back on its
// Rename, unless its rename is on its way.
func (m *Models) cancelRename(id string) {
	if m.renaming != id || m.renameBusy {
		return
	}
	m.renaming = ""
	m.focus("rename-"+id, nil)
}

// rename sends the form's name of model c, then reads the registry. Done,
// the form closes and the note says so, the focus back on the row's
// Rename; refused (a name the server does not take, or that another
// model has: 409), the form stays with its text and the focus, and the
// alert says why in the server's words. A name that is the model's
// already sends nothing.
func (m *Models) rename(ctx app.Context, c msg.ModelCard) {
	if m.Client == nil || m.renameBusy || m.renaming != c.ID {
		return
	}
	name, old := strings.TrimSpace(m.renameTo), m.nameOf(c)
	if name == c.Name {
		m.cancelRename(c.ID)
		return
	}
	m.renameBusy, m.delErr, m.note = true, "", "renaming "+old+"…"
	from := []string{"rename-name-" + c.ID, "rename-save-" + c.ID, "rename-cancel-" + c.ID}
	client, page := m.Client, m.mounted
	ctx.Async(func() {
		rc, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		card, err := client.RenameModel(rc, c.ID, name)
		cards, listErr := client.Models(rc)
		page.Dispatch(func(ctx app.Context) {
			m.renameBusy = false
			if err != nil {
				m.delErr, m.note = "could not rename "+old+": "+err.Error(), ""
				m.SetCards(cards, listErr)
				m.focus("rename-name-"+c.ID, from)
				return
			}
			m.delErr, m.note, m.renaming = "", "renamed "+old+" to "+cardName(card), ""
			m.SetCards(cards, listErr)
			if i := m.index(c.ID); listErr != nil && i >= 0 { // the cards shown are those read before
				m.cards[i] = card
			}
			m.focus("rename-"+c.ID, from)
		})
	})
}
