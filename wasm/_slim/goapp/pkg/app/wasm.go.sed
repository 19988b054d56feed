# metriclab's slim copy (wasm/_slim) of go-app's wasm.go: without
# GenerateStaticWebsite, a server-side function that only panics in the
# browser and names the Handler that http.go.sed leaves out of it.
\|^import ($|,\|^)$|d
\|^func GenerateStaticWebsite|,\|^}$|d
