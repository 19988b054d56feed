//go:build js && wasm

package app

import (
	"context"
	"errors"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// NewClient returns a client of the server the page came from, through
// the browser's fetch and EventSource, with the tab's classroom token.
func NewClient() *Client { return &Client{T: fetchTransport{}, Token: SessionToken} }

// fetchTransport is the browser's Transport: window.fetch for calls (an
// AbortController ends one when its context is done), XMLHttpRequest for
// a call that asks for its body's progress (sendWatched), and
// EventSource for event streams. Its methods block the calling goroutine (the page calls
// them from ctx.Async), never the browser's event loop.
type fetchTransport struct{}

// Do fetches r and reads the whole answer; a request that asks for its
// body's progress goes by XMLHttpRequest (sendWatched).
func (fetchTransport) Do(ctx context.Context, r Request) (Response, error) {
	if r.Progress != nil && r.Form == nil {
		return sendWatched(ctx, r)
	}
	win := app.Window()
	abort := win.Get("AbortController").New()
	headers := map[string]any{"Accept": "application/json"}
	if r.Token != "" {
		headers["Authorization"] = "Bearer " + r.Token
	}
	opts := map[string]any{"method": r.Method, "headers": headers, "signal": abort.Get("signal"), "credentials": "same-origin"}
	switch {
	case r.Form != nil:
		fd := win.Get("FormData").New()
		for _, p := range r.Form {
			if p.FileName == "" {
				fd.Call("append", p.Name, p.Value)
				continue
			}
			arr := win.Get("Uint8Array").New(len(p.File))
			app.CopyBytesToJS(arr, p.File)
			blob := win.Get("Blob").New([]any{arr}, map[string]any{"type": p.Type})
			fd.Call("append", p.Name, blob, p.FileName)
		}
		opts["body"] = fd // fetch sets the multipart Content-Type with its boundary
	case r.JSON != nil:
		headers["Content-Type"] = "application/json"
		opts["body"] = string(r.JSON)
	case r.Body != nil:
		headers["Content-Type"] = "application/octet-stream"
		arr := win.Get("Uint8Array").New(len(r.Body))
		app.CopyBytesToJS(arr, r.Body)
		opts["body"] = arr
	}
	stop := context.AfterFunc(ctx, func() { abort.Call("abort") })
	defer stop()
	resp, err := await(win.Call("fetch", r.Path, opts))
	if err != nil {
		return Response{}, ctxOr(ctx, err)
	}
	buf, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		return Response{}, ctxOr(ctx, err)
	}
	arr := win.Get("Uint8Array").New(buf)
	b := make([]byte, arr.Length())
	app.CopyBytesToGo(b, arr)
	retryAfter := ""
	if h := resp.Get("headers").Call("get", "Retry-After"); h.Type() == app.TypeString { // null without one
		retryAfter = h.String()
	}
	return Response{Status: resp.Get("status").Int(), RetryAfter: retryAfter, Body: b}, nil
}

// sendWatched sends r by XMLHttpRequest, whose upload.onprogress tells
// r.Progress the bytes of the body sent so far (fetch tells nothing of
// a body's progress), and reads the whole answer, as Do does. ctx done
// aborts it (xhr.abort): the body stops where it is, and its call
// returns ctx.Err().
func sendWatched(ctx context.Context, r Request) (Response, error) {
	win := app.Window()
	xhr := win.Get("XMLHttpRequest").New()
	xhr.Call("open", r.Method, r.Path)
	xhr.Set("responseType", "arraybuffer")
	xhr.Call("setRequestHeader", "Accept", "application/json")
	if r.Token != "" {
		xhr.Call("setRequestHeader", "Authorization", "Bearer "+r.Token)
	}
	var body any
	switch {
	case r.JSON != nil:
		xhr.Call("setRequestHeader", "Content-Type", "application/json")
		body = string(r.JSON)
	case r.Body != nil:
		xhr.Call("setRequestHeader", "Content-Type", "application/octet-stream")
		arr := win.Get("Uint8Array").New(len(r.Body))
		app.CopyBytesToJS(arr, r.Body)
		body = arr
	}
	done := make(chan error, 1)
	end := func(err error) app.Func {
		return app.FuncOf(func(app.Value, []app.Value) any {
			select {
			case done <- err:
			default:
			}
			return nil
		})
	}
	onLoad := end(nil)
	onError := end(errors.New("the request failed: network error"))
	onAbort := end(context.Canceled)
	onProgress := app.FuncOf(func(_ app.Value, args []app.Value) any {
		if e := args[0]; e.Get("lengthComputable").Truthy() {
			r.Progress(int64(e.Get("loaded").Float()), int64(e.Get("total").Float()))
		}
		return nil
	})
	// Listeners of upload before send: set after, a browser may not call
	// them.
	xhr.Get("upload").Set("onprogress", onProgress)
	xhr.Set("onload", onLoad)
	xhr.Set("onerror", onError)
	xhr.Set("onabort", onAbort)
	defer func() {
		xhr.Get("upload").Set("onprogress", nil)
		xhr.Set("onload", nil)
		xhr.Set("onerror", nil)
		xhr.Set("onabort", nil)
		onProgress.Release()
		onLoad.Release()
		onError.Release()
		onAbort.Release()
	}()
	stop := context.AfterFunc(ctx, func() { xhr.Call("abort") })
	defer stop()
	xhr.Call("send", body)
	if err := <-done; err != nil {
		return Response{}, ctxOr(ctx, err)
	}
	b := []byte{}
	if buf := xhr.Get("response"); buf.Truthy() {
		arr := win.Get("Uint8Array").New(buf)
		b = make([]byte, arr.Length())
		app.CopyBytesToGo(b, arr)
	}
	retryAfter := ""
	if h := xhr.Call("getResponseHeader", "Retry-After"); h.Type() == app.TypeString { // null without one
		retryAfter = h.String()
	}
	return Response{Status: xhr.Get("status").Int(), RetryAfter: retryAfter, Body: b}, nil
}

// Events follows path with an EventSource. The browser would reconnect a
// dropped stream by itself; the page decides instead (JobWatch.Final), so
// the first error closes the source: before it opened, an error (the
// server refused the stream, or is gone), after, the end of the stream.
func (fetchTransport) Events(ctx context.Context, path string, each func(data string)) error {
	es := app.Window().Get("EventSource").New(path)
	done := make(chan error, 1)
	opened := false
	onOpen := app.FuncOf(func(app.Value, []app.Value) any {
		opened = true
		return nil
	})
	onMessage := app.FuncOf(func(_ app.Value, args []app.Value) any {
		each(args[0].Get("data").String())
		return nil
	})
	onError := app.FuncOf(func(app.Value, []app.Value) any {
		es.Call("close")
		var err error
		if !opened {
			err = errors.New("the server refused the event stream, or is not there")
		}
		select {
		case done <- err:
		default:
		}
		return nil
	})
	es.Set("onopen", onOpen)
	es.Set("onmessage", onMessage)
	es.Set("onerror", onError)
	defer func() {
		es.Call("close")
		es.Set("onopen", nil)
		es.Set("onmessage", nil)
		es.Set("onerror", nil)
		onOpen.Release()
		onMessage.Release()
		onError.Release()
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// await blocks the calling goroutine until the promise p settles, and
// returns its value or its rejection as an error.
func await(p app.Value) (app.Value, error) {
	type result struct {
		v   app.Value
		err error
	}
	ch := make(chan result, 1)
	var ok, fail app.Func
	ok = app.FuncOf(func(_ app.Value, args []app.Value) any {
		ch <- result{v: args[0]}
		return nil
	})
	fail = app.FuncOf(func(_ app.Value, args []app.Value) any {
		ch <- result{err: errors.New(args[0].Call("toString").String())}
		return nil
	})
	p.Call("then", ok).Call("catch", fail)
	r := <-ch
	ok.Release()
	fail.Release()
	return r.v, r.err
}

// ctxOr returns ctx's error when it is done (an aborted fetch), else err.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
