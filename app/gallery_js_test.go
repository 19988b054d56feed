//go:build js && wasm

package app

import (
	"maps"
	"slices"
	"syscall/js"
	"testing"
	"time"
)

// fakeIndexedDB stands in for the browser's IndexedDB under node: one
// store, its records in indexedDB.records (a Map), each request answered
// on the event loop (getAllKeys gives the keys sorted, as IndexedDB does
// strings); add refuses a key that is there, and any key while
// metriclabTestQuota is set. Transactions run one at a time, in the order
// they were created, as browsers run those that write to a store and
// those after them, whatever the connection (another tab's too: the web
// platform's test transaction-scheduling-across-connections): a
// transaction's requests wait until the ones before it have ended. A
// transaction commits (oncomplete) once no request of it is pending, or
// aborts (onabort, its writes undone) at a request's error, or at its
// commit while metriclabTestCommitQuota is set: Chrome counts the quota
// there, after every request succeeded.
const fakeIndexedDB = `globalThis.indexedDB = (() => {
	const records = new Map()
	let last = Promise.resolve() // the end of the latest transaction
	const transaction = () => {
		const tx = {error: null}
		let before, pending = 0, started = false, ended = false, end
		const waiting = [], prev = last
		last = new Promise(r => { end = r })
		const abort = (e) => {
			ended = true
			records.clear(); before.forEach((v, k) => records.set(k, v))
			tx.error = e
			end()
			if (tx.onabort) tx.onabort({})
		}
		const settle = () => setTimeout(() => {
			if (!started || pending > 0 || ended) return
			if (globalThis.metriclabTestCommitQuota) { abort({name: "QuotaExceededError", message: "quota exceeded at commit"}); return }
			ended = true
			end()
			if (tx.oncomplete) tx.oncomplete({})
		}, 0)
		const req = (f) => {
			const r = {}
			pending++
			const run = () => setTimeout(() => {
				pending--
				try { r.result = f() } catch (e) { r.error = {message: e.message}; if (r.onerror) r.onerror({}); abort(r.error); return }
				if (r.onsuccess) r.onsuccess({})
				settle()
			}, 0)
			if (started) run(); else waiting.push(run)
			return r
		}
		const store = {
			transaction: tx,
			get: k => req(() => records.get(k)),
			count: k => req(() => records.has(k) ? 1 : 0),
			getAllKeys: () => req(() => [...records.keys()].sort()),
			delete: k => req(() => { records.delete(k) }),
			put: (v, k) => req(() => { records.set(k, v); return k }),
			add: (v, k) => req(() => {
				if (globalThis.metriclabTestQuota || records.has(k)) throw new Error("quota exceeded")
				records.set(k, v); return k
			}),
		}
		tx.objectStore = () => store
		prev.then(() => {
			before = new Map(records)
			started = true
			waiting.splice(0).forEach(run => run())
			settle()
		})
		return tx
	}
	const db = {objectStoreNames: {contains: () => true}, transaction: transaction}
	const open = () => {
		const r = {}
		setTimeout(() => { r.result = db; r.onsuccess({}) }, 0)
		return r
	}
	return {records, open}
})()`

// TestSaveGallerySetsAside: a store asked to set the record there aside
// copies it, as it is, to that key before it writes the gallery, and a
// store after it leaves that copy; a copy that fails, or a commit that
// fails after every request succeeded, writes nothing and says so; with
// no record there nothing is set aside. Before, a store wrote over the
// record whatever it was: a gallery the page could not read was lost.
func TestSaveGallerySetsAside(t *testing.T) {
	js.Global().Call("eval", fakeIndexedDB)
	defer js.Global().Delete("indexedDB")
	records := js.Global().Get("indexedDB").Get("records")
	save := func(data, aside string) (kept bool, err error) {
		t.Helper()
		done := make(chan struct{})
		saveGallery(data, "", aside, func(r saved) { kept, err = r.Kept, r.Err; close(done) })
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("saveGallery did not answer in 5 s")
		}
		return kept, err
	}
	record := func(key string) string {
		if v := records.Call("get", key); v.Type() == js.TypeString {
			return v.String()
		}
		return "(none)"
	}
	const aside = asidePrefix + "1"

	records.Call("set", galleryKey, "{") // a record the page could not read
	js.Global().Set("metriclabTestQuota", true)
	if kept, err := save("new", aside); kept || err == nil || record(galleryKey) != "{" || record(aside) != "(none)" {
		t.Errorf("a copy that fails: kept %v, err %v, records %q and %q; want an error, the record as it was, no copy", kept, err, record(galleryKey), record(aside))
	}
	js.Global().Delete("metriclabTestQuota")
	// The requests succeed, the commit fails: nothing is stored, nothing
	// set aside, and the page is told so (it would set the record aside
	// again at its next store).
	js.Global().Set("metriclabTestCommitQuota", true)
	if kept, err := save("new", aside); kept || err == nil || record(galleryKey) != "{" || record(aside) != "(none)" {
		t.Errorf("a commit that fails: kept %v, err %v, records %q and %q; want an error, the record as it was, no copy", kept, err, record(galleryKey), record(aside))
	}
	js.Global().Delete("metriclabTestCommitQuota")
	if kept, err := save("new", aside); !kept || err != nil || record(galleryKey) != "new" || record(aside) != "{" {
		t.Errorf("set aside: kept %v, err %v, records %q and %q; want the gallery stored and the record before kept", kept, err, record(galleryKey), record(aside))
	}
	if kept, err := save("newer", aside); !kept || err != nil || record(galleryKey) != "newer" || record(aside) != "{" {
		t.Errorf("a store after it: kept %v, err %v, records %q and %q; want the gallery stored and the copy as it was", kept, err, record(galleryKey), record(aside))
	}
	done := make(chan struct{})
	loadGallery(aside, func(data string, ok bool, err error) {
		if data != "{" || !ok || err != nil {
			t.Errorf("loadGallery(%q) = %q, %v, %v; want the record set aside", aside, data, ok, err)
		}
		close(done)
	})
	<-done

	records.Call("clear")
	if kept, err := save("new", asidePrefix+"2"); kept || err != nil || record(galleryKey) != "new" || records.Call("has", asidePrefix+"2").Bool() {
		t.Errorf("no record there: kept %v, err %v, record %q; want the gallery stored, nothing set aside", kept, err, record(galleryKey))
	}
	// A record of another type (another version of the page wrote it) is
	// kept as it is.
	records.Call("set", galleryKey, map[string]any{"version": 2})
	if kept, err := save("new", asidePrefix+"3"); !kept || err != nil || records.Call("get", asidePrefix+"3").Get("version").Int() != 2 {
		t.Errorf("an object record: kept %v, err %v; want it set aside as it is", kept, err)
	}
}

// TestSaveGalleryTwoTabs: two tabs that could not read the same record,
// each storing its own gallery at once, each under its own key (the
// time its page chose): IndexedDB runs the second's store after the
// first's, so the first sets the record aside and the second sets aside
// what the first stored, the first tab's gallery, which it writes over;
// the record is set aside once, and nothing is lost. Skipping the second
// copy when a record is set aside already, or when one of the same
// content is, would not spare a copy of the record (there is none) but
// lose the first tab's gallery.
func TestSaveGalleryTwoTabs(t *testing.T) {
	js.Global().Call("eval", fakeIndexedDB)
	defer js.Global().Delete("indexedDB")
	records := js.Global().Get("indexedDB").Get("records")
	const first, second = asidePrefix + "2026-12-06T09:00:00.000Z", asidePrefix + "2026-12-06T09:00:00.001Z"
	records.Call("set", galleryKey, "{") // a record neither tab could read

	type answer struct {
		kept bool
		err  error
	}
	a, b := make(chan answer, 1), make(chan answer, 1)
	saveGallery("first tab's", "", first, func(r saved) { a <- answer{r.Kept, r.Err} })
	saveGallery("second tab's", "", second, func(r saved) { b <- answer{r.Kept, r.Err} })
	for i, c := range []chan answer{a, b} {
		select {
		case got := <-c:
			if !got.kept || got.err != nil {
				t.Errorf("store %d: kept %v, err %v; want it set aside", i+1, got.kept, got.err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("store %d did not answer in 5 s", i+1)
		}
	}
	got := map[string]string{}
	each := js.FuncOf(func(this js.Value, args []js.Value) any {
		got[args[1].String()] = args[0].String()
		return nil
	})
	defer each.Release()
	records.Call("forEach", each)
	want := map[string]string{first: "{", second: "first tab's", galleryKey: "second tab's"}
	if !maps.Equal(got, want) {
		t.Errorf("records %q, want %q", got, want)
	}
}

// TestSaveGalleryExpects: a store without aside writes only over the
// record it expects (its sum; "": none), and otherwise writes nothing and
// gives the record it found, as loadGallery would: another tab's.
// Before, a store wrote the whole gallery over whatever was there.
func TestSaveGalleryExpects(t *testing.T) {
	js.Global().Call("eval", fakeIndexedDB)
	defer js.Global().Delete("indexedDB")
	records := js.Global().Get("indexedDB").Get("records")
	save := func(data, expect string) (r saved) {
		t.Helper()
		done := make(chan struct{})
		saveGallery(data, expect, "", func(got saved) { r = got; close(done) })
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("saveGallery did not answer in 5 s")
		}
		return r
	}
	record := func() string { return records.Call("get", galleryKey).String() }
	if r := save("mine", ""); r.Changed || r.Err != nil || record() != "mine" {
		t.Errorf("none expected, none there: %+v, record %q; want it stored", r, record())
	}
	if r := save("mine again", recordSum([]byte("mine"))); r.Changed || r.Err != nil || record() != "mine again" {
		t.Errorf("the record expected: %+v, record %q; want it stored", r, record())
	}
	records.Call("set", galleryKey, "theirs") // another tab's
	if r := save("mine", recordSum([]byte("mine again"))); !r.Changed || r.Data != "theirs" || !r.OK || r.ReadErr != nil || r.Err != nil || record() != "theirs" {
		t.Errorf("another tab's record: %+v, record %q; want nothing written, theirs given", r, record())
	}
	if r := save("mine", ""); !r.Changed || r.Data != "theirs" || record() != "theirs" {
		t.Errorf("none expected, another tab's there: %+v, record %q; want nothing written, theirs given", r, record())
	}
	records.Call("delete", galleryKey)
	if r := save("mine", recordSum([]byte("theirs"))); !r.Changed || r.OK || r.ReadErr != nil || records.Call("has", galleryKey).Bool() {
		t.Errorf("the record gone: %+v; want nothing written, none given", r)
	}
	records.Call("set", galleryKey, map[string]any{"version": 2})
	if r := save("mine", ""); !r.Changed || r.ReadErr == nil || records.Call("get", galleryKey).Type() != js.TypeObject {
		t.Errorf("a record of another type: %+v; want nothing written, why it cannot be read", r)
	}
}

// TestListAndDeleteAside: listAside gives the keys set aside, in order,
// and no other (the gallery's, another of text, one that is not text);
// deleteGallery deletes the record of its key and no other, and says why
// when its commit fails.
func TestListAndDeleteAside(t *testing.T) {
	js.Global().Call("eval", fakeIndexedDB)
	defer js.Global().Delete("indexedDB")
	records := js.Global().Get("indexedDB").Get("records")
	wait := func(what string, done chan struct{}) {
		t.Helper()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal(what + " did not answer in 5 s")
		}
	}
	list := func() []string {
		t.Helper()
		var keys []string
		done := make(chan struct{})
		listAside(func(k []string, err error) {
			if err != nil {
				t.Errorf("listAside: %v", err)
			}
			keys = k
			close(done)
		})
		wait("listAside", done)
		return keys
	}
	del := func(key string) error {
		t.Helper()
		var err error
		done := make(chan struct{})
		deleteGallery(key, func(e error) { err = e; close(done) })
		wait("deleteGallery", done)
		return err
	}

	if keys := list(); len(keys) != 0 {
		t.Errorf("no records: listAside = %q, want none", keys)
	}
	const a, b = asidePrefix + "2026-12-05T10:00:00.000Z", asidePrefix + "2026-12-06T09:00:00.000Z"
	records.Call("set", galleryKey, "{}")
	records.Call("set", b, "{")
	records.Call("set", "gallery-other", "x")
	records.Call("set", a, map[string]any{"version": 2})
	records.Call("set", 7, "a key that is not text")
	if keys := list(); !slices.Equal(keys, []string{a, b}) {
		t.Errorf("listAside = %q, want %q", keys, []string{a, b})
	}

	js.Global().Set("metriclabTestCommitQuota", true)
	if err := del(a); err == nil || !records.Call("has", a).Bool() {
		t.Errorf("a commit that fails: err %v, the record there %v; want an error and the record kept", err, records.Call("has", a).Bool())
	}
	js.Global().Delete("metriclabTestCommitQuota")
	if err := del(a); err != nil || records.Call("has", a).Bool() || records.Get("size").Int() != 4 {
		t.Errorf("delete %s: err %v, the record there %v, %d records; want it alone deleted", a, err, records.Call("has", a).Bool(), records.Get("size").Int())
	}
	if keys := list(); !slices.Equal(keys, []string{b}) {
		t.Errorf("after the delete: listAside = %q, want %q", keys, []string{b})
	}
}
