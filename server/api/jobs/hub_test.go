//go:build !js

package jobs

import (
	"slices"
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

// TestHubFinishWhole: a subscriber gets a job's final state and its
// reason, or neither (its channel closed, to subscribe again): one with
// room for the state alone is dropped. Before, it got the state without
// the reason, and its stream ended on it: a watch of a job done that
// diverged said done, the note lost, one of an interrupted job did not
// say why.
func TestHubFinishWhole(t *testing.T) {
	h := newHub("j", "running")
	_, roomy, _ := h.subscribe()
	_, full, _ := h.subscribe()
	for i := 1; i < subBuffer; i++ {
		h.publish(msg.Message{Type: "progress", Progress: &msg.Progress{Step: i}})
		<-roomy
	}
	h.finish("done", "training diverged")
	var got []string
	for m := range roomy {
		got = append(got, m.Type+" "+m.State+m.Error)
	}
	if want := []string{"state done", "error training diverged"}; !slices.Equal(got, want) {
		t.Errorf("the subscriber with room got %q, want %q", got, want)
	}
	k := 0
	for m := range full {
		if m.Type != "progress" {
			t.Errorf("the subscriber with room for one message got %+v, want nothing after its progress", m)
		}
		k++
	}
	if k != subBuffer-1 {
		t.Errorf("the subscriber with room for one message kept %d buffered messages, want %d", k, subBuffer-1)
	}
}
