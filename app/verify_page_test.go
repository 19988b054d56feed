//go:build !js

package app

import (
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

func TestVerifyRender(t *testing.T) {
	v := NewVerify()
	mount(t, v)
	// Root div > header > #verify-status.
	if err := app.Match(app.P().ID("verify-status").Class("status").Text("camera off: press Start camera"), v, 0, 0, 1); err != nil {
		t.Error(err)
	}
	// Layout > enroll section > #enroll-count (after the title, the name
	// field and the record button).
	if err := app.Match(app.P().ID("enroll-count").Class("status").Text("0 identities, 0 snapshots"), v, 0, 1, 1, 3); err != nil {
		t.Error(err)
	}
	v = NewVerify()
	v.gallery.Add("alice", EncodeCrop(make([]float32, 32*32), 1, 32, 32))
	v.gallery.Add("bob", EncodeCrop(make([]float32, 32*32), 1, 32, 32))
	mount(t, v)
	if err := app.Match(app.P().ID("enroll-count").Class("status").Text("2 identities, 2 snapshots"), v, 0, 1, 1, 3); err != nil {
		t.Error(err)
	}
	// Live section > figures > the score's figure > #score, "–" before a
	// probe.
	if err := app.Match(app.Span().ID("score").Class("value").Text("–"), v, 0, 1, 3, 2, 0, 0); err != nil {
		t.Error(err)
	}
}

func TestNavVerify(t *testing.T) {
	n := &Nav{Current: "/verify"}
	mount(t, n)
	if err := app.Match(app.A().ID("nav-verify").Href("/verify").Text("Verify").Class("current").Aria("current", "page"), n, 0, 4); err != nil {
		t.Error(err)
	}
}
