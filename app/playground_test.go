//go:build !js

package app

import (
	"testing"

	"metriclab/core/msg"
)

// state is the JSON of a state message of trainer t<i>.
func state(i int, s string) string {
	return `{"v":1,"type":"state","trainer":"t` + itoa(i) + `","state":"` + s + `"}`
}

// TestPlaygroundLockedWhileLoading: the first start of a trainer loads
// MNIST (state "loading") before it trains; the run has started with the
// settings of that moment, so the form stays fixed. It was editable while
// loading: a loss chosen then relabelled the panel of the run that went on
// training the old one, and compare mode turned on made trainer 0's panel
// say softmax.
func TestPlaygroundLockedWhileLoading(t *testing.T) {
	p := NewPlayground()
	p.receive(0, state(0, msg.StateIdle))
	p.command(msg.OpStart)
	p.receive(0, state(0, msg.StateLoading))
	if !p.locked() {
		t.Errorf("a trainer loading the data of its run: the settings are not locked")
	}
}

