package app

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// controlsHost renders Controls of its settings as the playground does,
// each change taken; c is the Controls mounted. Its ctx is the one of its
// mount: natively (OnPreRender) and under node (OnMount).
type controlsHost struct {
	app.Compo
	ctx   app.Context
	s     Settings
	links int // the links opened
	c     *Controls
}

func (h *controlsHost) OnPreRender(ctx app.Context) { h.ctx = ctx }

func (h *controlsHost) OnMount(ctx app.Context) { h.ctx = ctx }

func (h *controlsHost) Render() app.UI {
	c := &Controls{Settings: h.s, Links: h.links, OnChange: func(s Settings) { h.s = s }}
	if h.c == nil {
		h.c = c
	}
	return c
}
