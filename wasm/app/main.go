//go:build js && wasm

// Command app is metriclab's page, built to web/app.wasm and served by
// `metriclab serve` through go-app's Handler: the playground of package
// metriclab/app. Its trainers run in Web Workers (wasm/trainer) and its
// spheres in iframes (wasm/viz).
package main

import (
	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"metriclab/app"
)

func main() {
	app.MarkMainStarted()
	app.Route()
	goapp.RunWhenOnBrowser()
}
