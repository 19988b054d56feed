//go:build !js

package app

import (
	"slices"
	"strings"
	"testing"
)

func TestReadEvents(t *testing.T) {
	// As server/api/jobs.go writes a stream: "data: JSON\n\n", heartbeats as
	// comments; and as the SSE spec allows: CRLF, several data lines, no
	// space after the colon, other fields.
	stream := "data: {\"a\":1}\n\n: ping\n\nevent: x\nid: 7\ndata:{\"b\":2}\r\n\r\ndata: one\ndata: two\n\nretry: 10\n\ndata: unterminated"
	var got []string
	if err := ReadEvents(strings.NewReader(stream), func(d string) { got = append(got, d) }); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"a":1}`, `{"b":2}`, "one\ntwo"}
	if !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}
