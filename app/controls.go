package app

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"metriclab/core/msg"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Controls is the form of the experiment: a preset (which fills the
// fields it names), data, classes, encoder, loss and its parameters, D,
// batch, learning rate, optimiser, augmentation, epochs, seed, compare
// mode, and the buttons Train, Pause (Resume), Step and Reset. It holds no
// state of its own but why the classes typed were not taken: every change
// goes to OnChange, every button to OnCommand.
type Controls struct {
	app.Compo

	Settings Settings
	Locked   bool                 // training has started: the settings are fixed until Reset
	Can      func(op string) bool // whether a command may be sent now
	Paused   bool
	Links    int // the links the page opened so far (Playground.open): after each every field shows the settings (field)

	OnChange  func(s Settings)
	OnCommand func(op string)

	classesNote string // why the classes typed were not taken (ParseClasses), "" when they were
	// classesKept are the settings' classes the note says are used: a
	// link followed since that changed them leaves the note untrue, and
	// it goes (OnUpdate).
	classesKept string
	links       int // Links at the last update
}

// OnUpdate forgets why the classes typed were not taken once the
// settings' classes are others than those kept, or a link was opened
// since (one that keeps them too): the input shows the settings'
// classes, and is not marked invalid, and the note does not come back
// with a later link to the classes kept.
func (c *Controls) OnUpdate(ctx app.Context) {
	if c.Settings.Classes != c.classesKept || c.Links != c.links {
		c.classesNote = ""
	}
	c.links = c.Links
}

// noSubmit is the method of the pages' forms: dialog, whose submission
// outside a <dialog> does nothing (the HTML standard's form submission
// algorithm returns there). The page, as the server draws it, takes
// clicks and keys before app.wasm has started, and a form of the default
// method submitted then (Enter in a field, Train on the server clicked)
// loaded the page again, what was typed lost; once app.wasm runs, the
// form's submit event is the page's.
const noSubmit = "dialog"

// Render draws the form; hidden controls are left out. Its method is
// dialog (noSubmit).
func (c *Controls) Render() app.UI {
	s := c.Settings
	return app.Form().Class("controls").Method(noSubmit).OnSubmit(func(ctx app.Context, e app.Event) { e.PreventDefault() }).Body(
		app.Div().Class("buttons").Body(
			c.button("train", "Train", msg.OpStart),
			app.If(c.Paused, func() app.UI { return c.button("resume", "Resume", msg.OpResume) }).
				Else(func() app.UI { return c.button("pause", "Pause", msg.OpPause) }),
			c.button("step", "Step", msg.OpStep),
			c.button("reset", "Reset", msg.OpReset),
		),
		app.If(!s.Hidden("preset"), func() app.UI { return c.preset() }),
		app.If(!s.Hidden("data"), func() app.UI {
			return c.selectField("data", "Data set", Datasets(), s.Data, func(s *Settings, v string) { s.Data = v })
		}),
		app.If(!s.Hidden("classes"), func() app.UI {
			return c.field("ctl-classes", textField("ctl-classes", "Classes (e.g. 0-4; empty: all)", s.Classes, "", c.classesNote, c.Locked, c.setClasses))
		}),
		// In a slot, there without a note: go-app matches children by
		// place, and a note that came in the next field's place would
		// draw the fields after it again, the focus and what was typed
		// lost.
		app.Div().Class("slot").Body(app.If(!s.Hidden("classes") && c.classesNote != "", func() app.UI {
			return app.P().ID("ctl-classes-note").Class("hint").Text(c.classesNote)
		})),
		app.If(!s.Hidden("arch"), func() app.UI {
			return c.selectField("arch", "Encoder", Archs(), s.Arch, func(s *Settings, v string) { s.Arch = v })
		}),
		// In a slot, as the note: compare mode switched on or off would
		// draw the fields after them again, and the switch just pressed.
		app.Div().Class("slot").Body(
			app.If(!s.Hidden("loss") && len(s.Compare) == 0, func() app.UI {
				return c.selectField("loss", "Loss", LossNames(), s.Loss, func(s *Settings, v string) {
					*s = s.WithLoss(v)
				})
			}),
			app.If(!s.Hidden("params") && len(s.Compare) == 0, func() app.UI { return c.params() }),
		),
		app.If(!s.Hidden("dim"), func() app.UI {
			return c.selectField("dim", "Embedding dimension D", intStrings(Dims()), strconv.Itoa(s.Dim), func(s *Settings, v string) {
				s.Dim, _ = strconv.Atoi(v)
				s.Params = keepParams(s.Loss, s.Dim, s.Params)
			})
		}),
		app.If(!s.Hidden("batch"), func() app.UI {
			return c.numberField("batch", "Batch size", float64(s.Batch), minBatch, maxBatch, true, func(s *Settings, v float64) { s.Batch = int(v) })
		}),
		app.If(!s.Hidden("lr"), func() app.UI {
			return c.numberField("lr", "Learning rate", s.LR, minLR, maxLR, false, func(s *Settings, v float64) { s.LR = v })
		}),
		app.If(!s.Hidden("opt"), func() app.UI {
			return c.selectField("opt", "Optimiser", Opts(), s.Opt, func(s *Settings, v string) { s.Opt = v })
		}),
		app.If(!s.Hidden("augment"), func() app.UI {
			return c.selectField("augment", "Augmentation", msg.AugmentNames(), cmp.Or(s.Augment, "none"), func(s *Settings, v string) {
				s.Augment = v
				if v == "none" {
					s.Augment = ""
				}
			})
		}),
		app.If(!s.Hidden("epochs"), func() app.UI {
			return c.numberField("epochs", "Epochs", float64(s.Epochs), 1, maxEpochs, true, func(s *Settings, v float64) { s.Epochs = int(v) })
		}),
		app.If(!s.Hidden("seed"), func() app.UI {
			return c.numberField("seed", "Seed", float64(s.Seed), 0, maxSeed, true, func(s *Settings, v float64) { s.Seed = int64(v) })
		}),
		app.If(!s.Hidden("compare"), func() app.UI { return c.compare() }),
	)
}

// button draws the button of the command op.
func (c *Controls) button(id, label, op string) app.UI {
	enabled := c.Can != nil && c.Can(op)
	return app.Button().ID("btn-"+id).Type("button").Class("btn btn-"+id).Disabled(!enabled).Text(label).
		OnClick(func(ctx app.Context, e app.Event) {
			if c.OnCommand != nil {
				c.OnCommand(op)
			}
		}, app.EventScope(id, op)) // Pause and Resume take turns in one place
}

// params draws the inputs of the parameters of the selected loss, keyed
// by the loss and D too: each input shows the setting once either
// changes, not what was typed in a parameter of the same name (or place)
// before.
func (c *Controls) params() app.UI {
	ps := LossParams(c.Settings.Loss, c.Settings.Dim)
	if len(ps) == 0 {
		return app.P().Class("hint").Text(c.Settings.Loss + " has no parameters")
	}
	title := c.Settings.Loss + " parameters at D = " + strconv.Itoa(c.Settings.Dim)
	return c.field(title, app.FieldSet().Class("params").Body(
		app.Legend().Text(title),
		app.Range(ps).Slice(func(i int) app.UI {
			p := ps[i]
			return c.numberField("param-"+p.Name, p.Name, c.Settings.Param(p), p.Min, p.Max, p.Integer, func(s *Settings, v float64) {
				*s = s.WithParam(p, v)
			}, p.Doc+" — default "+FormatNumber(p.Default)+", range ["+FormatNumber(p.Min)+", "+FormatNumber(p.Max)+"]")
		}),
	))
}

// compare draws the compare-mode switch and its losses.
func (c *Controls) compare() app.UI {
	s := c.Settings
	on := len(s.Compare) > 0
	return app.FieldSet().Class("compare").Body(
		app.Label().Body(
			app.Input().ID("ctl-compare").Type("checkbox").Checked(on).Disabled(c.Locked).
				OnChange(func(ctx app.Context, e app.Event) {
					c.change(func(s *Settings) {
						if ctx.JSSrc().Get("checked").Bool() {
							s.Compare = DefaultCompare()
						} else {
							s.Compare = nil
						}
					})
				}),
			app.Text(" Compare losses side by side (same data and seed)"),
		),
		app.If(on, func() app.UI {
			return app.Div().Class("compare-losses").Body(
				app.Range(LossNames()).Slice(func(i int) app.UI {
					name := LossNames()[i]
					checked := strings.Contains(","+strings.Join(s.Compare, ",")+",", ","+name+",")
					return app.Label().Class("check").Body(
						app.Input().Type("checkbox").Checked(checked).
							Disabled(c.Locked || (!checked && len(s.Compare) >= MaxTrainers) || (checked && len(s.Compare) == 1)).
							OnChange(func(ctx app.Context, e app.Event) {
								c.change(func(s *Settings) { s.Compare = toggle(s.Compare, name) })
							}, app.EventScope(name)),
						app.Text(" "+name),
					)
				}),
			)
		}),
	)
}

// preset draws the Preset field: the recipes of MNIST's images, which
// the playground trains on (presetOnMNIST), and the others disabled,
// each saying what it is for and where it trains.
func (c *Controls) preset() app.UI {
	names := PresetNames()
	texts, off := make([]string, len(names)), make([]bool, len(names))
	for i, name := range names {
		texts[i] = name
		if p, ok := msg.PresetByName(name); ok && !presetOnMNIST(p) {
			texts[i], off[i] = name+" — for "+presetData(p)+", on the Jobs page", true
		}
	}
	return selectFieldOff("ctl-preset", "Preset", names, texts, off, cmp.Or(c.Settings.Preset, "none"), c.Locked, func(v string) {
		if p, ok := msg.PresetByName(v); ok && !presetOnMNIST(p) {
			return // disabled
		}
		c.change(func(s *Settings) {
			if p, err := s.WithPreset(v); err == nil { // every preset reads: TestParseHashPreset
				*s = p
			}
		})
	})
}

// selectField draws a labelled <select> of the setting id.
func (c *Controls) selectField(id, label string, options []string, value string, set func(*Settings, string)) app.UI {
	return selectField("ctl-"+id, label, options, value, c.Locked, func(v string) {
		c.change(func(s *Settings) { set(s, v) })
	})
}

// numberField draws a labelled number input of the setting id with its
// range (field).
func (c *Controls) numberField(id, label string, value, lo, hi float64, integer bool, set func(*Settings, float64), title ...string) app.UI {
	return c.field("ctl-"+id, numberField("ctl-"+id, label, value, lo, hi, integer, c.Locked, strings.Join(title, ""), func(v float64) {
		c.change(func(s *Settings) { set(s, v) })
	}))
}

// field draws ui, a text or number field (or the loss parameters'
// fieldset), as a keyed of key (its id) and the links opened: a field
// hidden or shown before it leaves it its own input, and after a link
// it is a new one, which shows the settings. go-app writes a value only
// when the one drawn changes, and an empty one not at all: a value typed
// since and not taken (classes refused, a batch out of range) stayed
// after a link.
func (c *Controls) field(key string, ui app.UI) app.UI {
	return &keyed{Key: key + " " + strconv.Itoa(c.Links), UI: ui}
}

// setClasses takes the classes typed: empty or "all" for all classes (as
// a link's classes= and the jobs form take them, allClasses), else a
// subset ParseClasses reads. Classes it does not take leave the settings'
// classes as they were, and classesNote says why.
func (c *Controls) setClasses(v string) {
	c.change(func(s *Settings) {
		c.classesNote = ""
		if allClasses(v) {
			s.Classes = ""
		} else if _, err := ParseClasses(v); err != nil {
			c.classesNote = fmt.Sprintf("%v: %s", err, cmp.Or(usingText(s.Classes), "using all classes"))
			c.classesKept = s.Classes
		} else {
			s.Classes = v
		}
	})
}

// change applies edit to a copy of the settings and hands it to OnChange.
func (c *Controls) change(edit func(*Settings)) {
	s := c.Settings
	s.Params = keepParams(s.Loss, s.Dim, s.Params)
	s.Compare = append([]string(nil), s.Compare...)
	edit(&s)
	if c.OnChange != nil {
		c.OnChange(s)
	}
}

// keepParams returns a copy of params with only the parameters of loss at
// D = dim whose values lie in their range.
func keepParams(loss string, dim int, params map[string]float64) map[string]float64 {
	var out map[string]float64
	for _, p := range LossParams(loss, dim) {
		if v, ok := params[p.Name]; ok && v >= p.Min && v <= p.Max {
			if out == nil {
				out = make(map[string]float64)
			}
			out[p.Name] = v
		}
	}
	return out
}

// toggle adds name to list, or removes it if it is there.
func toggle(list []string, name string) []string {
	for i, n := range list {
		if n == name {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return append(list, name)
}

// intStrings writes each of ns in decimal.
func intStrings(ns []int) []string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return s
}
