# metriclab's slim copy (wasm/_slim) of go-app's http.go: the server's
# Handler, built for the server only (as static.go already is). It imports
# net/http, whose package initialisation keeps net/http, crypto/tls and
# crypto/x509 in the page's binary (9.5 → 7.9 MB) though the page calls the
# server through fetch.
1i //go:build !wasm\n
