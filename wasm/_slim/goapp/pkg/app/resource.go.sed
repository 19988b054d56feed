# metriclab's slim copy (wasm/_slim) of go-app's resource.go: LocalDir's
# resolver without its http.FileServer (the server's side, in a binary that
# only runs in the browser), so that the page does not import net/http
# (see http.go.sed).
\|^	"net/http"$|d
\|^		Handler:   http.FileServer(http.Dir(directory)),$|d
\|^	http.Handler$|d
