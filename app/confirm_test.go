package app

import "testing"

// TestRowPlaceFocus: after a row's Delete (Models) or Remove (Jobs) the
// focus goes to the row's own button where it is still listed (refused),
// else to the button of the row after it as Confirm was pressed (the one
// before, for the last row), else of the row now in its place, else of
// the last row, else to the heading. The rows as listed when the answer
// came may not be those of the press (another read, another tab). Each
// want worked out from that rule by hand.
func TestRowPlaceFocus(t *testing.T) {
	for _, c := range []struct {
		at       []string // the rows as Confirm is pressed on id
		id, next string   // want placeOf's next
		now      []string // the rows as the answer comes
		want     string   // the button focused
	}{
		{[]string{"a", "b", "c"}, "b", "c", []string{"a", "c"}, "btn-c"},
		{[]string{"a", "b", "c"}, "c", "b", []string{"a", "b"}, "btn-b"},
		{[]string{"a", "b", "c"}, "b", "c", []string{"a", "b", "c"}, "btn-b"}, // refused
		{[]string{"a", "b", "c"}, "a", "b", []string{"c", "b"}, "btn-b"},      // the row after, moved
		{[]string{"a", "b", "c"}, "b", "c", []string{"d", "e", "f"}, "btn-e"}, // the row now at 1
		{[]string{"a", "b", "c"}, "b", "c", []string{"a"}, "btn-a"},           // the last row
		{[]string{"a"}, "a", "", nil, "title"},
		{nil, "x", "", []string{"a", "b"}, "btn-a"}, // not listed: as the first row
	} {
		p := placeOf(c.at, func(s string) string { return s }, c.id)
		if got := p.focus(c.now, func(s string) string { return "btn-" + s }, "title"); p.next != c.next || got != c.want {
			t.Errorf("%s of %q gone, %q listed: next %q, focus on %s; want %q, %s", c.id, c.at, c.now, p.next, got, c.next, c.want)
		}
	}
}
