//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"syscall/js"

	"metriclab/core/data"
)

// mnistBase is where the server serves MNIST's gzipped IDX files.
const mnistBase = "/data/mnist/"

// fetchMNIST fetches and parses MNIST's training and test sets.
func fetchMNIST() (train, test *data.Set, err error) {
	names := []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
	fetch := js.Global().Get("fetch")
	pending := make([]js.Value, len(names))
	for i, name := range names {
		pending[i] = fetch.Invoke(mnistBase + name)
	}
	files := make([][]byte, len(names))
	for i, p := range pending {
		if files[i], err = bytesOf(p, mnistBase+names[i]); err != nil {
			return nil, nil, err
		}
	}
	if train, err = data.ParseMNIST(files[0], files[1]); err != nil {
		return nil, nil, err
	}
	if test, err = data.ParseMNIST(files[2], files[3]); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// bytesOf awaits a fetch's response and returns its body.
func bytesOf(response js.Value, url string) ([]byte, error) {
	resp, err := await(response)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %v", url, err)
	}
	if !resp.Get("ok").Bool() {
		return nil, fmt.Errorf("fetching %s: HTTP %d", url, resp.Get("status").Int())
	}
	buf, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", url, err)
	}
	u8 := js.Global().Get("Uint8Array").New(buf)
	b := make([]byte, u8.Get("length").Int())
	js.CopyBytesToGo(b, u8)
	return b, nil
}

// await blocks the calling goroutine until promise p settles.
func await(p js.Value) (js.Value, error) {
	done := make(chan struct{})
	var v js.Value
	var err error
	then := js.FuncOf(func(_ js.Value, args []js.Value) any {
		v = args[0]
		close(done)
		return nil
	})
	catch := js.FuncOf(func(_ js.Value, args []js.Value) any {
		err = errors.New(args[0].Call("toString").String())
		close(done)
		return nil
	})
	defer then.Release()
	defer catch.Release()
	p.Call("then", then, catch)
	<-done
	return v, err
}
