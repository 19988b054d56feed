//go:build !js

package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/core/msg"
)

// modelsAPI answers the Models page as server/api does: the list,
// DELETE of a model (204, or refused as refuse says), an upload (a body
// "not a model" is refused 400, as the server's check would) and a
// rename, each refusing a name another model has (409), counting the
// requests.
type modelsAPI struct {
	apiCalls // "DELETE a", "GET /api/models", "POST /api/models?name=x", "RENAME a x"
	cards    []msg.ModelCard
	refuse   *msg.ErrorBody // when not nil, every DELETE is answered refuseCode with it
	code     int
	tokens   []string // the bearer tokens of the DELETEs, uploads and renames, as sent
	bodies   [][]byte // the uploads' bodies
	types    []string // the uploads' Content-Type
}

// taken returns the 409 of name when a model other than id has it, as
// server/api words it.
func (a *modelsAPI) taken(w http.ResponseWriter, name, id string) bool {
	for _, c := range a.cards {
		if c.Name == name && c.ID != id {
			writeJSON(w, 409, msg.ErrorBody{Error: `name taken: model ` + c.ID + ` is named "` + name + `" already`})
			return true
		}
	}
	return false
}

func newModelsAPI(cards ...msg.ModelCard) *modelsAPI {
	return &modelsAPI{cards: cards, apiCalls: apiCalls{calls: map[string]int{}}}
}

func (a *modelsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, _ := strings.CutPrefix(r.URL.Path, "/api/models/")
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/models":
		a.calls["GET /api/models"]++
		writeJSON(w, 200, a.cards)
	case r.Method == "POST" && r.URL.Path == "/api/models":
		a.calls["POST "+r.URL.RequestURI()]++
		a.tokens = append(a.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		b, _ := io.ReadAll(r.Body)
		a.bodies, a.types = append(a.bodies, b), append(a.types, r.Header.Get("Content-Type"))
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "uploaded model"
		} else if a.taken(w, name, "") {
			return
		}
		if string(b) == "not a model" {
			writeJSON(w, 400, msg.ErrorBody{Error: "model: not a valid safetensors file: header length 7310593858020254331 exceeds the file"})
			return
		}
		c := msg.ModelCard{ID: fmt.Sprintf("u%d", len(a.bodies)), Name: name, Size: int64(len(b)), Created: fmt.Sprintf("2026-01-01T00:00:%02dZ", len(a.bodies))}
		a.cards = append(a.cards, c)
		writeJSON(w, 201, c)
	case r.Method == "POST" && strings.HasSuffix(id, "/rename"):
		id = strings.TrimSuffix(id, "/rename")
		name := r.URL.Query().Get("name")
		a.calls["RENAME "+id+" "+name]++
		a.tokens = append(a.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		i := slices.IndexFunc(a.cards, func(c msg.ModelCard) bool { return c.ID == id })
		switch {
		case i < 0:
			writeJSON(w, 404, msg.ErrorBody{Error: "not found"})
		case a.taken(w, name, id):
		default:
			a.cards[i].Name = name
			writeJSON(w, 200, a.cards[i])
		}
	case r.Method == "DELETE" && id != r.URL.Path:
		a.calls["DELETE "+id]++
		a.tokens = append(a.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if a.refuse != nil {
			writeJSON(w, a.code, a.refuse)
			return
		}
		i := slices.IndexFunc(a.cards, func(c msg.ModelCard) bool { return c.ID == id })
		if i < 0 {
			writeJSON(w, 404, msg.ErrorBody{Error: "not found"})
			return
		}
		a.cards = slices.Delete(a.cards, i, i+1)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, 404, msg.ErrorBody{Error: "no route"})
	}
}

// modelsPageHost holds the Models page, as WithNav does; OnPreRender,
// which go-app calls outside a browser where it would call OnMount, gives
// its context.
type modelsPageHost struct {
	app.Compo
	ctx  app.Context
	page *Models
}

func (h *modelsPageHost) Render() app.UI              { return app.Div().Body(h.page) }
func (h *modelsPageHost) OnPreRender(ctx app.Context) { h.ctx = ctx }

// mountModels mounts the Models page of api, showing its list, and
// returns its engine and a context that stays mounted, the page's.
func mountModels(t *testing.T, api *modelsAPI) (m *Models, e app.TestEngine, ctx app.Context) {
	t.Helper()
	m = NewModels()
	m.Client = &Client{T: HandlerTransport(api), Token: func() string { return "tok" }}
	h := &modelsPageHost{page: m}
	e = app.NewTestEngine()
	if err := e.Load(h); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	m.mounted = h.ctx // as OnMount sets it, in a browser
	m.SetCards(api.cards, nil)
	return m, e, h.ctx
}

// drawn returns a page drawn, mounted, with the state of m: the
// page mounted in a host is not drawn again by what its context
// dispatches (the page of a browser is, by its own).
func drawn(t *testing.T, m *Models) *Models {
	t.Helper()
	p := NewModels()
	p.cards, p.loading, p.err, p.confirm, p.deleting, p.note, p.delErr = m.cards, m.loading, m.err, m.confirm, m.deleting, m.note, m.delErr
	p.uploading, p.upName, p.renaming, p.renameTo, p.renameBusy = m.uploading, m.upName, m.renaming, m.renameTo, m.renameBusy
	p.upSent, p.upTotal, p.upCancelled = m.upSent, m.upTotal, m.upCancelled
	mount(t, p)
	return p
}

// askDelete presses the Delete of model id, keepModel its Keep: the
// handlers' calls.
func askDelete(m *Models, id string) { m.confirm.ask(m.deleteSlot(m.cards[m.index(id)])) }
func keepModel(m *Models, id string) { m.confirm.keep(m.deleteSlot(m.cards[m.index(id)])) }

// threeModels are listed newest first as c, b, a.
func threeModels() []msg.ModelCard {
	return []msg.ModelCard{
		{ID: "a", Name: "first", Loss: "arcface", Dim: 3, Created: "2025-01-01T10:00:00Z"},
		{ID: "b", Name: "second", Loss: "arcface", Dim: 3, Created: "2025-01-01T11:00:00Z"},
		{ID: "c", Name: "third", Loss: "arcface", Dim: 3, Created: "2025-01-01T12:00:00Z"},
	}
}

// TestModelsDeleteNamed: each row has a Delete whose accessible name
// says which model it deletes; two models of one name (two uploads
// without one, "uploaded model") are told apart by their ids. Before,
// the page had no Delete: a model went through curl -X DELETE alone.
func TestModelsDeleteNamed(t *testing.T) {
	m := NewModels()
	m.SetCards([]msg.ModelCard{
		{ID: "a", Name: "arcface d3", Created: "1"},
		{ID: "u1", Name: "uploaded model", Created: "2"},
		{ID: "u2", Name: "uploaded model", Created: "3"},
		{ID: "x", Created: "4"},
	}, nil)
	mount(t, m)
	for id, label := range map[string]string{
		"a":  "delete model arcface d3",
		"u1": "delete model uploaded model (u1)",
		"u2": "delete model uploaded model (u2)",
		"x":  "delete model x",
	} {
		tag, text, ok := element(t, m, "delete-"+id)
		if !ok || text != "Delete" || attr(tag, "aria-label") != label || attr(tag, "type") != "button" {
			t.Errorf("#delete-%s: %s %q (there: %v), want a button Delete named %q", id, tag, text, ok, label)
		}
	}
	if _, _, ok := element(t, m, "models-token"); !ok { // a delete in classroom mode needs it
		t.Error("no #models-token: the page has no field for the classroom token of a delete")
	}
}

// TestModelsDeleteConfirm: Delete asks first, in the row (Keep, Confirm
// delete, each named for its model), and Keep leaves the model, nothing
// sent; Confirm delete sends DELETE /api/models/ID with the tab's token,
// and the row goes, the note says so, the focus goes to the next row's
// Delete (the last row's: the one before; none left: the heading). A
// delete the server refuses keeps the row and says why, naming the
// model, in an alert. While a delete is on its way its buttons are
// disabled, and a second Confirm sends nothing.
func TestModelsDeleteConfirm(t *testing.T) {
	api := newModelsAPI(threeModels()...)
	m, e, ctx := mountModels(t, api)
	rows := func() (ids []string) {
		for _, c := range m.cards {
			ids = append(ids, c.ID)
		}
		return ids
	}

	askDelete(m, "b")
	if _, _, ok := element(t, drawn(t, m), "delete-b"); ok || m.focused != "keep-b" {
		t.Errorf("after Delete of b: #delete-b still there (%v), focus on #%s; want Keep and Confirm delete, the focus on Keep", ok, m.focused)
	}
	for id, label := range map[string]string{"keep-b": "keep model second", "confirm-delete-b": "confirm delete of model second"} {
		if tag, _, ok := element(t, drawn(t, m), id); !ok || attr(tag, "aria-label") != label {
			t.Errorf("after Delete of b: #%s %s (there: %v), want it named %q", id, tag, ok, label)
		}
	}
	keepModel(m, "b")
	if _, _, ok := element(t, drawn(t, m), "delete-b"); !ok || m.focused != "delete-b" || api.count("DELETE b") != 0 || !slices.Equal(rows(), []string{"c", "b", "a"}) {
		t.Errorf("after Keep: #delete-b there %v, focus on #%s, %d DELETE, rows %v; want Delete back with the focus, nothing sent", ok, m.focused, api.count("DELETE b"), rows())
	}

	askDelete(m, "b")
	m.remove(ctx, m.cards[1])
	m.remove(ctx, m.cards[1])
	d := drawn(t, m)
	if !m.deleting["b"] || !disabled(t, d, "confirm-delete-b") || !disabled(t, d, "keep-b") {
		t.Errorf("while the delete of b is on its way: deleting %v, its buttons enabled", m.deleting)
	}
	e.ConsumeAll()
	if n := api.count("DELETE b"); n != 1 || !slices.Equal(api.tokens, []string{"tok"}) {
		t.Errorf("Confirm delete of b twice: %d DELETE, tokens %q; want one, with the tab's token", n, api.tokens)
	}
	if !slices.Equal(rows(), []string{"c", "a"}) || m.note != "deleted second" || m.delErr != "" || m.focused != "delete-a" {
		t.Errorf("after the delete of b: rows %v, note %q, error %q, focus on #%s; want c, a, deleted second, the focus on a's Delete", rows(), m.note, m.delErr, m.focused)
	}
	wantText(t, drawn(t, m), "models-note", "deleted second")
	// A read of the registry started before the delete, answered after.
	m.SetCards(threeModels(), nil)
	if !slices.Equal(rows(), []string{"c", "a"}) {
		t.Errorf("a read that lists b, deleted, after its delete: rows %v, want c, a", rows())
	}

	askDelete(m, "a")
	m.remove(ctx, m.cards[1])
	e.ConsumeAll()
	if !slices.Equal(rows(), []string{"c"}) || m.focused != "delete-c" {
		t.Errorf("after the delete of a, the last row: rows %v, focus on #%s; want c, the focus on c's Delete", rows(), m.focused)
	}

	api.refuse, api.code = &msg.ErrorBody{Error: "this server needs its token for changes\n(Authorization: Bearer TOKEN)"}, 401
	askDelete(m, "c")
	m.remove(ctx, m.cards[0])
	e.ConsumeAll()
	want := "could not delete third: this server needs its token for changes (Authorization: Bearer TOKEN) (401)"
	if !slices.Equal(rows(), []string{"c"}) || m.delErr != want || m.note != "" || m.confirm.row != "" || m.focused != "delete-c" {
		t.Errorf("a delete refused: rows %v, error %q, note %q, confirming %q, focus on #%s; want c kept, %q, its Delete back with the focus", rows(), m.delErr, m.note, m.confirm.row, m.focused, want)
	}
	wantText(t, drawn(t, m), "models-error", want)
	if tag, _, _ := element(t, drawn(t, m), "models-error"); attr(tag, "role") != "alert" {
		t.Errorf("#models-error %s, want an alert", tag)
	}

	api.refuse = nil
	askDelete(m, "c")
	m.remove(ctx, m.cards[0])
	e.ConsumeAll()
	if len(m.cards) != 0 || m.delErr != "" || m.note != "deleted third" || m.focused != "models-title" {
		t.Errorf("after the delete of the last model: rows %v, error %q, note %q, focus on #%s; want none, deleted third, the focus on the heading", rows(), m.delErr, m.note, m.focused)
	}
	if tag, _, ok := element(t, drawn(t, m), "models-title"); !ok || attr(tag, "tabindex") != "-1" {
		t.Errorf("the heading %s (there: %v): want it focusable from code (tabindex -1)", tag, ok)
	}
}

// TestModelsDeleteGone: a model deleted in another tab, still listed
// here, is answered 404 by its delete: it is gone as asked, so the row
// goes and the note says so, with no alert. Before, the row went on the
// read after the delete, but an alert said "could not delete second:
// not found (404)".
func TestModelsDeleteGone(t *testing.T) {
	api := newModelsAPI(threeModels()...)
	m, e, ctx := mountModels(t, api)
	api.cards = slices.DeleteFunc(api.cards, func(c msg.ModelCard) bool { return c.ID == "b" }) // another tab's delete
	askDelete(m, "b")
	m.remove(ctx, m.cards[1])
	e.ConsumeAll()
	if api.count("DELETE b") != 1 || m.index("b") >= 0 || m.delErr != "" || m.note != "second was already deleted" || m.focused != "delete-a" {
		t.Errorf("a delete answered 404: %d DELETE, row b there %v, error %q, note %q, focus on #%s; want the row gone, no error, the note second was already deleted, the focus on a's Delete",
			api.count("DELETE b"), m.index("b") >= 0, m.delErr, m.note, m.focused)
	}
	// A read of the registry started before, that lists it still.
	m.SetCards(threeModels(), nil)
	if m.index("b") >= 0 {
		t.Error("a read that lists b, answered after its delete's 404, shows its row again")
	}

	// A 404 of a model that the read after it lists (a proxy's, say, of
	// a path it does not pass on) is not taken for a delete.
	api = newModelsAPI(threeModels()...)
	api.refuse, api.code = &msg.ErrorBody{Error: "not found"}, 404
	m, e, ctx = mountModels(t, api)
	askDelete(m, "b")
	m.remove(ctx, m.cards[1])
	e.ConsumeAll()
	if m.index("b") < 0 || m.delErr != "could not delete second: not found (404)" || m.note != "" {
		t.Errorf("a delete answered 404, the model listed after it: row b there %v, error %q, note %q; want the row kept, the error could not delete second: not found (404)",
			m.index("b") >= 0, m.delErr, m.note)
	}
}

// TestModelsDeleteFocusRefreshed: the focus after a delete goes to the
// Delete of the row that came after the model's when Confirm delete was
// pressed, though a read of the registry answered meanwhile has dropped
// the model's row already. Before, the row's place was looked up when
// the answer came, not found, and the focus went to the first row's
// Delete (c's, here, for b's delete: a's is the one after).
func TestModelsDeleteFocusRefreshed(t *testing.T) {
	api := newModelsAPI(threeModels()...)
	m, e, ctx := mountModels(t, api)
	askDelete(m, "b")
	m.remove(ctx, m.cards[1])
	// The periodic read, answered before the delete's answer is taken.
	m.SetCards(slices.DeleteFunc(threeModels(), func(c msg.ModelCard) bool { return c.ID == "b" }), nil)
	e.ConsumeAll()
	if m.note != "deleted second" || m.focused != "delete-a" {
		t.Errorf("b's row dropped by a read before its delete's answer: note %q, the focus on #%s; want deleted second, the focus on a's Delete (the row after b's)", m.note, m.focused)
	}
}

// TestModelsCellsWrap: a cell of the models table with a long word (a
// name of 100 characters, an upload's; a class name or a data set's of
// 256) is marked long, and breaks it anywhere (web/metriclab.css, read
// as TestTextContrast reads its colours); the others, of short words,
// are not, and break between words only. Before, the table had no such
// rule, and such a name ran off it, across the page; then every cell but
// the buttons' broke anywhere, and Chromium broke "uploaded" in two to
// make room for the buttons (TestE2EJobsRowButtons's screenshots).
func TestModelsCellsWrap(t *testing.T) {
	b, err := os.ReadFile("../web/metriclab.css")
	if err != nil {
		t.Fatal(err)
	}
	rules := string(b)
	const selector = ".models-page table.registry td.long"
	rule := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(selector) + `\s*\{([^}]*)\}`).FindStringSubmatch(rules)
	if rule == nil || !regexp.MustCompile(`(^|;)\s*overflow-wrap:\s*anywhere\s*(;|$)`).MatchString(rule[1]) {
		t.Errorf("metriclab.css: %s %q, want overflow-wrap: anywhere", selector, rule)
	}
	if m := regexp.MustCompile(`(?m)^[^{}]*table\.registry[^{}]*\{[^}]*overflow-wrap:\s*anywhere`).FindAllString(rules, -1); len(m) != 1 {
		t.Errorf("metriclab.css: %d rules of the registry tables break anywhere (%q), want one, %s", len(m), m, selector)
	}
	m := NewModels()
	long := strings.Repeat("n", 100)
	c := card()
	c.ID, c.Name, c.Data = "a", long, strings.Repeat("d", 30)
	m.SetCards([]msg.ModelCard{c, {ID: "b", Name: "short name", Arch: "mlp", Loss: "arcface", Dim: 3, Data: "uploaded"}}, nil)
	h := app.HTMLString(m)
	if !strings.Contains(h, `class="page models-page"`) || !regexp.MustCompile(`<table[^>]*\sclass="registry"`).MatchString(h) ||
		!regexp.MustCompile(`<td [^>]*class="model-name long"[^>]*>\s*<strong>`+long).MatchString(h) {
		t.Errorf("the page does not mark the cell of a long name long:\n%s", h)
	}
	if !regexp.MustCompile(`<td [^>]*class="long"[^>]*>[^<]*` + strings.Repeat("d", 30)).MatchString(h) {
		t.Errorf("the page does not mark the cell of a long data set's name long:\n%s", h)
	}
	row := h[strings.Index(h, `id="model-b"`):]
	row = row[:strings.Index(row, "</tr>")]
	if strings.Contains(row, "long") || strings.Contains(row, `class=""`) {
		t.Errorf("a row of short words has a cell marked long, or an empty class:\n%s", row)
	}
}

// TestModelsKeepInDeletesPlace: once Delete is pressed, Keep is drawn
// where Delete was: Delete, and then Keep after Confirm delete, at the
// right end of a slot that keeps the width of the two, Delete and Keep
// of one width (web/metriclab.css, one rule for the Models page and the
// Jobs page's Remove), so that nothing in the row moves.
// Before, Keep and Confirm delete came in Delete's place, Keep first;
// the cell, the last of a table as wide as the window, grew leftwards,
// and Confirm delete came where Delete had been, under the second click
// of a double click (TestE2EJobsRowButtons clicks there in Chromium).
func TestModelsKeepInDeletesPlace(t *testing.T) {
	for _, class := range []string{".delete-slot", ".btn-place"} {
		rule := func(page string) map[string]string {
			return cssRule(t, page+" table.registry td.actions "+class)
		}
		models, jobs := rule(".models-page"), rule(".jobs-page")
		want := map[string]string{"min-width": `\d.*`}
		if class == ".delete-slot" {
			want = map[string]string{"display": `inline-block`, "min-width": `\d.*`, "text-align": `right`, "white-space": `nowrap`}
		}
		for k, v := range want {
			if !regexp.MustCompile(`^` + v + `$`).MatchString(models[k]) {
				t.Errorf("metriclab.css: .models-page's %s { %s: %q }, want %s", class, k, models[k], v)
			}
		}
		if !maps.Equal(models, jobs) {
			t.Errorf("metriclab.css: .models-page's %s %q, .jobs-page's %q; want the slot drawn alike", class, models, jobs)
		}
	}
	m := NewModels()
	m.SetCards(threeModels(), nil)
	// The ids of the buttons in b's slot, in their order, each with its
	// classes.
	slot := func() (ids []string) {
		h := app.HTMLString(m)
		at := strings.Index(h, `<tr id="model-b"`)
		s := regexp.MustCompile(`(?s)<span class="delete-slot[^"]*">(.*?)</span>`).FindStringSubmatch(h[max(at, 0):])
		if at < 0 || s == nil {
			return nil
		}
		for _, b := range regexp.MustCompile(`<button[^>]*>`).FindAllString(s[1], -1) {
			ids = append(ids, attr(b, "id")+" "+attr(b, "class"))
		}
		return ids
	}
	if got, want := slot(), []string{"delete-b btn btn-place"}; !slices.Equal(got, want) {
		t.Errorf("b's slot: %q, want %q", got, want)
	}
	askDelete(m, "b")
	if got, want := slot(), []string{"confirm-delete-b btn btn-delete", "keep-b btn btn-place"}; !slices.Equal(got, want) {
		t.Errorf("b's slot once Delete was pressed: %q, want %q (Keep last, where Delete was)", got, want)
	}
}

// TestRegistryCardsLabeled: in a window of 1000 px or less each row of
// the Models and Jobs tables is drawn as a card (web/metriclab.css, its
// rule read as TestModelsCellsWrap reads its), where each cell shows
// its column's head before it: each cell of a row carries the head of
// its column as data-label, in the head's order, but the first (the
// card's title: the model's name, the job's id) and the buttons'. Before,
// the tables kept their columns in any window: the Models page ran off a
// window under about 900 px, the Jobs page off one under about 680, and
// a phone scrolled the whole page sideways to reach the buttons
// (TestE2EJobsRowButtons measures it in Chromium at 375 px).
func TestRegistryCardsLabeled(t *testing.T) {
	b, err := os.ReadFile("../web/metriclab.css")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?m)^@media \(max-width: \d+px\) \{\n((?:  .*\n)*)\}`).FindAllStringSubmatch(string(b), -1)
	cards := false
	for _, m := range block {
		cards = cards || regexp.MustCompile(`(?m)^  table\.registry, table\.registry tbody, table\.registry tr, table\.registry td \{ display: block; \}`).MatchString(m[1]) &&
			regexp.MustCompile(`(?m)^  table\.registry td\[data-label\]::before \{[^}]*content: attr\(data-label\)`).MatchString(m[1])
	}
	if !cards {
		t.Error("metriclab.css: no @media block that draws the rows of table.registry as blocks, each cell after its data-label")
	}
	m := NewModels()
	m.SetCards([]msg.ModelCard{card()}, nil)
	j := NewJobs()
	j.SetJobs([]msg.Job{{ID: "j1", State: msg.JobRunning, Step: 3, Steps: 40, Config: jobConfig(), Created: "1"}}, nil)
	for _, c := range []struct {
		page  string
		html  string
		table string
		row   string
	}{
		{"/models", app.HTMLString(m), "models", "model-" + card().ID},
		{"/jobs", app.HTMLString(j), "jobs", "job-j1"},
	} {
		h := c.html
		// go-app writes an element's attributes in any order.
		at := index(h, `<table[^>]*\sid="`+c.table+`"`)
		if at < 0 {
			t.Errorf("%s: no table #%s:\n%s", c.page, c.table, h)
			continue
		}
		h = h[at:]
		h = h[:strings.Index(h, "</table>")]
		var heads []string
		for _, th := range regexp.MustCompile(`<th>([^<]*)</th>`).FindAllStringSubmatch(h, -1) {
			heads = append(heads, th[1])
		}
		at = index(h, `<tr[^>]*\sid="`+c.row+`"`)
		if at < 0 || len(heads) < 2 {
			t.Errorf("%s: no row #%s, or heads %q:\n%s", c.page, c.row, heads, h)
			continue
		}
		var labels []string
		for _, td := range regexp.MustCompile(`<td(\s[^>]*)?>`).FindAllStringSubmatch(h[at:], -1) {
			labels = append(labels, attr(td[1], "data-label"))
		}
		// The title's and the buttons' have none.
		want := append(append([]string{""}, heads[1:]...), "")
		if !slices.Equal(labels, want) {
			t.Errorf("%s: the cells of row #%s are labeled %q, want %q (the heads %q)", c.page, c.row, labels, want, heads)
		}
	}
}

// index returns where the first match of the regular expression re in s
// starts, -1 where there is none.
func index(s, re string) int {
	if m := regexp.MustCompile(re).FindStringIndex(s); m != nil {
		return m[0]
	}
	return -1
}

// sentTransport is a Transport that tells an upload's Progress what the
// browser's XMLHttpRequest would (sent of total bytes), then calls then
// (the test's look at the page, through the page's dispatches: they run
// in order, after the progress's), and either passes the upload on, or,
// with hold, keeps it until its context is done (an abort) and returns
// ctx.Err(), as the browser's transport does. told is closed once then
// was called.
type sentTransport struct {
	Transport
	sent, total int64
	then        func()
	hold        bool
	told        chan struct{}
}

func (s *sentTransport) Do(ctx context.Context, r Request) (Response, error) {
	if r.Method != "POST" || r.Body == nil {
		return s.Transport.Do(ctx, r)
	}
	if r.Progress != nil {
		r.Progress(0, s.total)
		r.Progress(s.sent, s.total)
	}
	s.then()
	close(s.told)
	if s.hold {
		select {
		case <-ctx.Done():
			return Response{}, ctx.Err()
		case <-time.After(5 * time.Second): // a cancel that never came: the upload goes on
		}
	}
	return s.Transport.Do(ctx, r)
}

// TestModelsUploadProgress: while a model file goes, the page's note
// says how much of it the browser has sent, "uploading FILE… 45 % (22.5
// of 50.0 MB)", and Cancel upload is there; the upload done, the note
// says so and Cancel is gone. Cancel upload aborts the upload on its
// way: nothing is stored, the note says so in one line, no alert, and
// the focus goes back to the file input; once the whole file is sent,
// Cancel waits (the server stores and checks it). Before, the note said
// "uploading FILE (SIZE)…" until the answer, and an upload could not be
// stopped.
func TestModelsUploadProgress(t *testing.T) {
	api := newModelsAPI(threeModels()...)
	m, e, ctx := mountModels(t, api)
	var note string
	var cancel string // Cancel upload's tag, "" when not drawn
	look := func() {
		m.mounted.Dispatch(func(app.Context) {
			note = m.note
			tag, _, _ := element(t, drawn(t, m), "model-upload-cancel")
			cancel = tag
		})
	}
	f := &sentTransport{Transport: m.Client.T, sent: 22_500_000, total: 50_000_000, then: look, told: make(chan struct{})}
	m.Client.T = f
	file := []byte("a model's bytes")
	m.upload(ctx, "big.safetensors", file, nil)
	<-f.told
	e.ConsumeAll()
	if want := "uploading big.safetensors… 45 % (22.5 of 50.0 MB)"; note != want || cancel == "" || disabledTag(cancel) {
		t.Errorf("while the file goes: note %q, Cancel upload %q; want %q, Cancel upload there", note, cancel, want)
	}
	if _, _, ok := element(t, drawn(t, m), "model-upload-cancel"); ok || m.note != "uploaded big.safetensors as big" || len(m.cards) != 4 {
		t.Errorf("after the upload: Cancel upload there %v, note %q, %d rows; want it gone, the upload's note, 4 rows", ok, m.note, len(m.cards))
	}

	// Cancelled half-way: the transport holds the upload until aborted.
	f.told, f.hold = make(chan struct{}), true
	f.then = func() {
		look()
		m.mounted.Dispatch(func(app.Context) { m.cancelUpload() }) // as Cancel upload's click
	}
	n, reads := len(api.bodies), api.count("GET /api/models")
	m.upload(ctx, "other.safetensors", file, nil)
	<-f.told
	e.ConsumeAll()
	if want := "cancelled the upload of other.safetensors: nothing was stored"; m.note != want || m.delErr != "" || m.uploading != "" || len(api.bodies) != n || len(m.cards) != 4 {
		t.Errorf("an upload cancelled: note %q, error %q, uploading %q, %d stored, %d rows; want %q, no error, nothing stored, 4 rows", m.note, m.delErr, m.uploading, len(api.bodies)-n, len(m.cards), want)
	}
	if api.count("GET /api/models") != reads+1 || m.focused != "model-upload" {
		t.Errorf("after the cancel: the list read %d times, the focus on #%s; want read once, the focus on the file input", api.count("GET /api/models")-reads, m.focused)
	}

	// All sent: Cancel waits, and the upload goes on.
	f.told, f.hold, f.sent = make(chan struct{}), false, f.total
	f.then = func() {
		look()
		m.mounted.Dispatch(func(app.Context) { m.cancelUpload() })
	}
	m.upload(ctx, "fourth.safetensors", file, nil)
	<-f.told
	e.ConsumeAll()
	if want := "uploading fourth.safetensors… 100 % (50.0 MB): the server is checking it…"; note != want || !disabledTag(cancel) {
		t.Errorf("the file all sent: note %q, Cancel upload %q; want %q, Cancel upload disabled", note, cancel, want)
	}
	if m.note != "uploaded fourth.safetensors as fourth" || len(api.bodies) != n+1 {
		t.Errorf("a cancel once the file was all sent: note %q, error %q, %d stored; want the upload done", m.note, m.delErr, len(api.bodies)-n)
	}
}

// TestModelsUpload: the page uploads a model file as the server takes
// it (POST /api/models?name=, the file's bytes as the body, the tab's
// token), named by the name field or else by the file's name without
// .safetensors, and reads the list again: the model is the first row,
// the note says so, the name field empties. The server's refusal (not a
// model; a name another model has, 409) is the page's alert in the
// server's words, the name field kept; a file the browser could not read
// sends nothing. While an upload is on its way the file input waits, and
// a second upload sends nothing. Before, the page had no upload: its
// empty page pointed at POST /api/models with curl.
func TestModelsUpload(t *testing.T) {
	api := newModelsAPI(threeModels()...)
	m, e, ctx := mountModels(t, api)
	d := drawn(t, m)
	for id, want := range map[string]string{"model-upload": "file", "model-upload-name": "text"} {
		if tag, _, ok := element(t, d, id); !ok || attr(tag, "type") != want {
			t.Errorf("#%s: %s (there: %v), want an input of type %s", id, tag, ok, want)
		}
	}
	if n := strings.Count(app.HTMLString(d), `for="model-upload"`); n != 1 {
		t.Errorf("%d labels for #model-upload, want one: the file input's name", n)
	}

	file := []byte("a model's bytes")
	m.upload(ctx, "arcface-d3.safetensors", file, nil)
	m.upload(ctx, "other.safetensors", file, nil)
	if m.uploading != "arcface-d3.safetensors" || !disabled(t, drawn(t, m), "model-upload") || m.note != "uploading arcface-d3.safetensors (15 B)…" {
		t.Errorf("while the upload is on its way: uploading %q, note %q; want the file input disabled", m.uploading, m.note)
	}
	e.ConsumeAll()
	if api.count("POST /api/models?name=arcface-d3") != 1 || len(api.bodies) != 1 || string(api.bodies[0]) != string(file) ||
		api.types[0] != "application/octet-stream" || !slices.Equal(api.tokens, []string{"tok"}) {
		t.Errorf("the upload: %v, bodies %q, types %q, tokens %q; want one POST of the file's bytes as they are, with the token", api.calls, api.bodies, api.types, api.tokens)
	}
	if len(m.cards) != 4 || m.cards[0].Name != "arcface-d3" || m.note != "uploaded arcface-d3.safetensors as arcface-d3" || m.delErr != "" || m.uploading != "" {
		t.Errorf("after the upload: %d rows, the first %q, note %q, error %q; want 4, the upload first, its note", len(m.cards), m.cards[0].Name, m.note, m.delErr)
	}

	m.upName = "  mine "
	m.upload(ctx, "x.safetensors", []byte("not a model"), nil)
	e.ConsumeAll()
	want := "could not upload x.safetensors: model: not a valid safetensors file: header length 7310593858020254331 exceeds the file (400)"
	if api.count("POST /api/models?name=mine") != 1 || m.delErr != want || m.note != "" || len(m.cards) != 4 || m.upName != "  mine " {
		t.Errorf("a file that is no model: %v, error %q, note %q, %d rows, name field %q; want %q, the field kept", api.calls, m.delErr, m.note, len(m.cards), m.upName, want)
	}
	wantText(t, drawn(t, m), "models-error", want)

	m.upName = "second"
	m.upload(ctx, "y.safetensors", file, nil)
	e.ConsumeAll()
	if want := `could not upload y.safetensors: name taken: model b is named "second" already (409)`; m.delErr != want || len(m.cards) != 4 {
		t.Errorf("an upload named as another model: error %q, %d rows; want %q", m.delErr, len(m.cards), want)
	}

	m.upName = ""
	n := len(api.bodies)
	m.upload(ctx, "z.safetensors", nil, errors.New("NotReadableError"))
	e.ConsumeAll()
	if want := "could not read z.safetensors: NotReadableError"; len(api.bodies) != n || m.delErr != want {
		t.Errorf("a file not read: %d uploads more, error %q; want none, %q", len(api.bodies)-n, m.delErr, want)
	}
	if got := m.uploadName(strings.Repeat("é", 120) + ".safetensors"); got != strings.Repeat("é", 100) {
		t.Errorf("the name of a file of 120 characters: %d characters, want the server's 100 at most", len([]rune(got)))
	}
}

// TestModelsRename: each row has a Rename named for its model; pressed,
// the name cell is a form (its field, named for the model, holding the
// name, with the focus; Save and Cancel), and Cancel (or Escape) sends
// nothing and gives the focus back to Rename. Save sends POST
// /api/models/ID/rename?name= with the tab's token: the row shows the new
// name, the note says so, the focus is back on Rename. A name another
// model has is the server's 409, the page's alert, the form kept with
// its text and the focus. A name the model has sends nothing. Before,
// the page could not rename, and the API had no rename.
func TestModelsRename(t *testing.T) {
	api := newModelsAPI(threeModels()...)
	m, e, ctx := mountModels(t, api)
	if tag, text, ok := element(t, drawn(t, m), "rename-b"); !ok || text != "Rename" || attr(tag, "aria-label") != "rename model second" || attr(tag, "type") != "button" {
		t.Errorf("#rename-b: %s %q (there: %v), want a button Rename named %q", tag, text, ok, "rename model second")
	}

	m.startRename("b")
	d := drawn(t, m)
	if _, _, ok := element(t, d, "rename-b"); ok || m.focused != "rename-name-b" || m.renameTo != "second" {
		t.Errorf("after Rename of b: #rename-b there %v, focus on #%s, field %q; want the form, the focus on its field holding second", ok, m.focused, m.renameTo)
	}
	if tag, _, ok := element(t, d, "rename-name-b"); !ok || attr(tag, "value") != "second" || attr(tag, "maxlength") != "100" {
		t.Errorf("#rename-name-b: %s (there: %v), want a field of the name, 100 characters at most", tag, ok)
	}
	// go-app writes an element's attributes in either order.
	if !regexp.MustCompile(`<label (for="rename-name-b" class="sr-only"|class="sr-only" for="rename-name-b")>new name of model second</label>`).MatchString(app.HTMLString(d)) {
		t.Errorf("the rename field has no label naming its model:\n%s", app.HTMLString(d))
	}
	for id, want := range map[string]string{"rename-save-b": "submit", "rename-cancel-b": "button"} {
		if tag, _, ok := element(t, d, id); !ok || attr(tag, "type") != want {
			t.Errorf("#%s: %s (there: %v), want a button of type %s", id, tag, ok, want)
		}
	}
	m.cancelRename("b")
	if _, _, ok := element(t, drawn(t, m), "rename-b"); !ok || m.focused != "rename-b" || m.renaming != "" {
		t.Errorf("after Cancel: #rename-b there %v, focus on #%s; want Rename back with the focus", ok, m.focused)
	}

	m.startRename("b")
	m.renameTo = "first"
	m.rename(ctx, m.cards[1])
	m.rename(ctx, m.cards[1])
	if !m.renameBusy || !disabled(t, drawn(t, m), "rename-save-b") {
		t.Errorf("while the rename is on its way: busy %v, Save enabled", m.renameBusy)
	}
	e.ConsumeAll()
	want := `could not rename second: name taken: model a is named "first" already (409)`
	if api.count("RENAME b first") != 1 || m.delErr != want || m.renaming != "b" || m.renameTo != "first" || m.focused != "rename-name-b" || m.cards[1].Name != "second" {
		t.Errorf("a name taken: %v, error %q, renaming %q with %q, focus on #%s; want one POST, %q, the form kept with the focus", api.calls, m.delErr, m.renaming, m.renameTo, m.focused, want)
	}

	m.renameTo = " the second "
	m.rename(ctx, m.cards[1])
	e.ConsumeAll()
	if api.count("RENAME b the second") != 1 || m.cards[1].Name != "the second" || m.note != "renamed second to the second" || m.delErr != "" || m.renaming != "" || m.focused != "rename-b" {
		t.Errorf("after the rename: %v, row %q, note %q, error %q, renaming %q, focus on #%s; want the row renamed, its note, the focus on Rename", api.calls, m.cards[1].Name, m.note, m.delErr, m.renaming, m.focused)
	}
	if !slices.Equal(api.tokens, []string{"tok", "tok"}) {
		t.Errorf("the renames' tokens %q, want the tab's", api.tokens)
	}
	wantText(t, drawn(t, m), "models-note", "renamed second to the second")

	m.startRename("b")
	m.rename(ctx, m.cards[1])
	e.ConsumeAll()
	if n := len(api.tokens); n != 2 || m.renaming != "" {
		t.Errorf("a rename to the model's own name: %d requests, renaming %q; want none sent, the form closed", n-2, m.renaming)
	}
}
