package app

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// keyed draws UI as a component that go-app tells apart by Key (its
// CompoID): where a render draws a keyed of another key in its place,
// go-app mounts new elements instead of updating those there. go-app
// updates an element with whatever a render draws at its position, of
// the same tag, and writes an input's value only when the value drawn
// changes: an input drawn where another field's was (a field hidden or
// shown before it, another loss's parameter) kept the text typed in that
// one when the values drawn were the same (the seed's 1 where the
// epochs' was, l2softmax's α = 16 where ArcFace's s was). A keyed of the
// same key is drawn anew at each render of its parent: go-app compares
// its fields with reflect.DeepEqual, and UI drawn anew is never equal to
// the one mounted.
type keyed struct {
	app.Compo

	Key string
	UI  app.UI
}

// CompoID returns the key: go-app mounts a keyed anew where the key
// drawn in its place is another.
func (k *keyed) CompoID() string { return k.Key }

// Render draws UI.
func (k *keyed) Render() app.UI { return k.UI }
