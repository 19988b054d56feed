package view

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"metriclab/core/msg"
)

// SchemaVersion is the message schema version the viewer reads.
const SchemaVersion = msg.SchemaVersion

// message is a message of the shared schema.
//
// Besides the schema's message types the viewer answers a "ping" — a message
// of Type "ping", or a "command" with Op "ping" — from a page or a test that
// wants to know whether the viewer has loaded, with ReadyMessage:
//
//	{"v":1,"type":"state","trainer":"viz","state":"viz-ready"}
//
// which it also posts once when it starts.
type message = msg.Message

// Progress and Snapshot are the schema's: what the caption shows and what
// the viewer draws.
type (
	Progress = msg.Progress
	Snapshot = msg.Snapshot
)

// errSchema is wrapped by the errors for messages of another schema version.
var errSchema = errors.New("viz: message of another schema version")

// errUnread is the error of a message the viewer could not read: its data
// was neither text nor an object JSON can write, or the browser could not
// deserialise it (Listen queues it as nil).
var errUnread = errors.New("viz: bad message: the viewer could not read it as JSON")

// isPing reports whether m asks the viewer to say that it is ready.
func isPing(m *message) bool {
	return m.Type == "ping" || (m.Type == msg.TypeCommand && m.Command != nil && m.Command.Op == "ping")
}

// decodeMessage parses one message. A ping is returned whatever its
// version, so that a page of another version still learns that the viewer
// is there (the answer carries the viewer's version); any other message of
// another version gives an error wrapping errSchema, and a snapshot whose
// sizes do not agree an error saying which; nil, a message that could
// not be read, gives errUnread.
func decodeMessage(data []byte) (*message, error) {
	if data == nil {
		return nil, errUnread
	}
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("viz: bad message: %w", err)
	}
	if isPing(&m) {
		return &m, nil
	}
	if m.V != SchemaVersion {
		return nil, fmt.Errorf("%w: v%d, this viewer reads v%d", errSchema, m.V, SchemaVersion)
	}
	if m.Type == msg.TypeSnapshot {
		if m.Snapshot == nil {
			return nil, errors.New("viz: snapshot message without a snapshot")
		}
		if err := checkSnapshot(m.Snapshot); err != nil {
			return nil, err
		}
	}
	return &m, nil
}

// maxDim is the largest snapshot dimension the viewer draws: an embedding
// is at most msg.MaxDim wide per view (core.CheckDim) and an encoder has at
// most msg.MaxViews views side by side (core.Spec.EmbedDim). The bound
// also caps the PCA's work, which grows with D: sphere.PrincipalAxes holds
// an R×D and an R×R matrix for its R ≤ 512 sampled rows, and a D×D one
// only where R > D.
const maxDim = msg.MaxDim * msg.MaxViews

// checkSnapshot reports whether the sizes of s agree.
func checkSnapshot(s *Snapshot) error {
	switch {
	case s.Dim < 1 || s.Dim > maxDim:
		return fmt.Errorf("viz: snapshot of dimension %d (the viewer draws 1 to %d)", s.Dim, maxDim)
	case len(s.Points)%s.Dim != 0:
		return fmt.Errorf("viz: snapshot has %d point values, not a multiple of dim %d", len(s.Points), s.Dim)
	case len(s.Labels) != 0 && len(s.Labels) != len(s.Points)/s.Dim:
		return fmt.Errorf("viz: snapshot has %d labels for %d points", len(s.Labels), len(s.Points)/s.Dim)
	case len(s.Weights)%s.Dim != 0:
		return fmt.Errorf("viz: snapshot has %d weight values, not a multiple of dim %d", len(s.Weights), s.Dim)
	}
	return nil
}

// ReadyMessage returns the viewer's answer to a ping, as JSON.
func ReadyMessage() []byte {
	b, err := json.Marshal(message{V: SchemaVersion, Type: msg.TypeState, Trainer: "viz", State: "viz-ready"})
	if err != nil {
		panic("view: " + err.Error()) // a fixed struct always marshals
	}
	return b
}

// oneLine returns s as one line of at most most bytes (most ≥ 4), for the
// caption and the legend, in any script (the browser's canvas draws it:
// see Measure): its control characters (line breaks among them) as
// spaces, its format characters (bidirectional marks and overrides) left
// out but for the zero-width joiner and non-joiner, which join emoji and
// the letters of Persian and Indic scripts, and what is past most cut
// between runes, ending in Ellipsis.
func oneLine(s string, most int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			return ' '
		case r == '\u200c' || r == '\u200d':
			return r
		case unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
	if len(s) <= most {
		return s
	}
	cut := most - len(Ellipsis)
	for !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + Ellipsis
}
