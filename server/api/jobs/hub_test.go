//go:build !js

package jobs

import (
	"testing"

	"metriclab/core/msg"
)

// TestHubDropsSlowSubscribers publishes more than a subscriber's buffer:
// the one that reads keeps everything and the final state, the one that
// does not is dropped (its channel closed) without blocking the publisher.
func TestHubDropsSlowSubscribers(t *testing.T) {
	h := newHub("j", "running")
	first, fast, ok := h.subscribe()
	if !ok || len(first) != 1 || first[0].State != "running" {
		t.Fatalf("first %+v", first)
	}
	_, slow, _ := h.subscribe()
	n := 10 * subBuffer
	for i := 1; i <= n; i++ {
		h.publish(msg.Message{Type: "progress", Progress: &msg.Progress{Step: i}})
		if m := <-fast; m.Progress.Step != i {
			t.Fatalf("fast subscriber got step %d, want %d", m.Progress.Step, i)
		}
	}
	if h.subscribers() != 1 {
		t.Errorf("%d subscribers, want the slow one dropped", h.subscribers())
	}
	late, _, _ := h.subscribe()
	if len(late) != 2 || late[1].Progress.Step != n {
		t.Errorf("a late subscriber sees %+v, want the state and the last progress", late)
	}
	h.finish("done", "")
	if m, ok := <-fast; !ok || m.State != "done" {
		t.Errorf("the reading subscriber's last message %+v, want the final state", m)
	}
	if _, ok := <-fast; ok {
		t.Error("the reading subscriber's channel is still open")
	}
	k := 0
	for range slow {
		k++
	}
	if k != subBuffer {
		t.Errorf("the slow subscriber kept %d buffered messages, want %d", k, subBuffer)
	}
	if _, _, ok := h.subscribe(); ok {
		t.Error("subscribed to a finished hub")
	}
}
