package app

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// Route registers the page with go-app at "/". The page's binary calls it
// before app.RunWhenOnBrowser, and the server before serving, so that both
// know the same routes (the server renders the page's first HTML).
func Route() {
	app.Route("/", func() app.Composer { return NewPlayground() })
}
