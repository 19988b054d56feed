package app

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// Route registers the pages with go-app, each under the navigation: the
// playground at "/", the server's models at "/models", its training jobs
// at "/jobs", and webcam enroll-and-verify at "/verify". The page's binary
// calls it before app.RunWhenOnBrowser, and the server before serving, so
// that both know the same routes (the server renders the page's first
// HTML).
func Route() {
	app.Route("/", func() app.Composer { return &WithNav{Current: "/", Page: NewPlayground()} })
	app.Route("/models", func() app.Composer { return &WithNav{Current: "/models", Page: NewModels()} })
	app.Route("/jobs", func() app.Composer { return &WithNav{Current: "/jobs", Page: NewJobs()} })
	app.Route("/verify", func() app.Composer { return &WithNav{Current: "/verify", Page: NewVerify()} })
}
