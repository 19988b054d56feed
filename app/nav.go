package app

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// Nav is the navigation between the pages: the playground, the server's
// model registry, its training jobs, and webcam verification. Current is the path of the page
// that shows it, marked as the current one.
type Nav struct {
	app.Compo

	Current string // "/", "/models", "/jobs" or "/verify"
}

// Render draws the links.
func (n *Nav) Render() app.UI {
	links := NavLinks()
	return app.Nav().ID("nav").Class("topnav").Aria("label", "pages").Body(
		app.Span().Class("brand").Text("metriclab"),
		app.Range(links).Slice(func(i int) app.UI {
			a := app.A().ID("nav-" + links[i].Name).Href(links[i].Path).Text(links[i].Title)
			if links[i].Path == n.Current {
				return a.Class("current").Aria("current", "page")
			}
			return a
		}),
	)
}

// NavLink is one page of the navigation.
type NavLink struct {
	Name  string // for element ids: "playground", "models", "jobs"
	Path  string
	Title string
}

// NavLinks returns the pages of the navigation, in its order.
func NavLinks() []NavLink {
	return []NavLink{
		{"playground", "/", "Playground"},
		{"models", "/models", "Models"},
		{"jobs", "/jobs", "Jobs"},
		{"verify", "/verify", "Verify"},
	}
}

// WithNav is a page under the navigation: Nav with Current, then Page.
type WithNav struct {
	app.Compo

	Current string
	Page    app.UI
}

// Render draws the navigation above the page.
func (w *WithNav) Render() app.UI {
	return app.Div().Class("with-nav").Body(&Nav{Current: w.Current}, w.Page)
}
