//go:build js && wasm

package app

import (
	"slices"
	"strconv"
	"syscall/js"
	"testing"
	"time"
)

// TestPlaygroundCrashTellsViewer: when a trainer's worker dies (its
// error event), or the page stops it for a lost data-parallel helper,
// the page tells the trainer's viewer on its BroadcastChannel, in the
// worker's place, the error and the state failed. Before, the viewer was
// told nothing and showed the run's last picture as running. Under node,
// with its BroadcastChannel.
func TestPlaygroundCrashTellsViewer(t *testing.T) {
	p := NewPlayground()
	p.nonce = "test"
	p.settings.Compare = []string{"arcface", "cosface"}
	p.resize()
	for i := range 2 { // the viewers load once a trainer is ready
		p.receive(i, `{"v":1,"type":"state","trainer":"t`+strconv.Itoa(i)+`","state":"running"}`)
	}
	p.begun[1] = true

	var got [2][]string
	for i := range got {
		bc := js.Global().Get("BroadcastChannel").New(p.viewerChannel(i))
		onMessage := js.FuncOf(func(this js.Value, args []js.Value) any {
			m, err := DecodeMessage(args[0].Get("data").String())
			if err != nil {
				t.Errorf("viewer %d: %v", i, err)
				return nil
			}
			got[i] = append(got[i], m.Trainer+" "+m.Type+" "+m.State+m.Error)
			return nil
		})
		bc.Set("onmessage", onMessage)
		defer onMessage.Release()
		defer bc.Call("close")
	}
	p.crashed(0, "the trainer's worker stopped: out of memory")
	p.helperFailed(1, 1, "out of memory")
	waitHeard(func() bool { return len(got[0]) >= 2 && len(got[1]) >= 2 })
	want := [2][]string{
		{"t0 error the trainer's worker stopped: out of memory", "t0 state failed"},
		{"t1 error data-parallel worker 1: out of memory", "t1 state failed"},
	}
	for i := range got {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("viewer %d heard %q, want %q", i, got[i], want[i])
		}
	}
}

// TestVerifyCrashTellsViewer: when the Verify page's worker dies, the
// trainer panel's viewer is told, as the playground's are: the error and
// the state failed. Before, it showed the last run's picture as running.
func TestVerifyCrashTellsViewer(t *testing.T) {
	v := NewVerify()
	v.st.SetChannel("metriclab-verify-test")
	var got []string
	bc := js.Global().Get("BroadcastChannel").New("metriclab-verify-test")
	onMessage := js.FuncOf(func(this js.Value, args []js.Value) any {
		m, err := DecodeMessage(args[0].Get("data").String())
		if err != nil {
			t.Errorf("viewer: %v", err)
			return nil
		}
		got = append(got, m.Trainer+" "+m.Type+" "+m.State+m.Error)
		return nil
	})
	bc.Set("onmessage", onMessage)
	defer onMessage.Release()
	defer bc.Call("close")

	v.crash("the trainer's worker stopped: out of memory")
	waitHeard(func() bool { return len(got) >= 2 })
	want := []string{"verify error the trainer's worker stopped: out of memory", "verify state failed"}
	if !slices.Equal(got, want) {
		t.Errorf("viewer heard %q, want %q", got, want)
	}
	if !v.crashed || v.st.Run.State != StateCrashed {
		t.Errorf("after the crash: crashed %v, state %q; want true, %q", v.crashed, v.st.Run.State, StateCrashed)
	}
}

// waitHeard waits until done, for 5 s at most: BroadcastChannels deliver
// on the event loop, which a sleep yields to.
func waitHeard(done func() bool) {
	for end := time.Now().Add(5 * time.Second); !done() && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // anything more that would come
}
