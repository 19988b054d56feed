package api

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"

	"metriclab/core/msg"
)

// Hosts is the allow-list of the Host header, against DNS rebinding: a
// page on any domain can point its name at 127.0.0.1 and then call this
// server as its own origin (same-origin checks compare Origin with Host,
// and both say the attacker's name). A request whose Host is not allowed
// is refused with 403 before any handler runs, as local development
// servers do (Vite, webpack-dev-server). Allowed hosts, any port:
//
//   - loopback names: localhost and any name under .localhost;
//   - IP literals (127.0.0.1, [::1], the LAN address a classroom types):
//     a rebinding needs a name to re-point, an address cannot be;
//   - the host of the address the server listens on, when it is a name;
//   - the names given with --allowed-hosts (Config.AllowedHosts): exact,
//     or ".example.org" for that domain and every name under it.
//
// A request without a Host (HTTP/1.0) comes from no browser and passes.
type Hosts struct {
	names    map[string]bool
	suffixes []string // ".example.org"
}

// NewHosts returns the allow-list of a server listening on addr
// (host:port; "" for none) with the extra names allowed. A name that is
// not a host name is an error.
func NewHosts(addr string, allowed []string) (*Hosts, error) {
	h := &Hosts{names: map[string]bool{}}
	if addr != "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("address %q: %v", addr, err)
		}
		if host != "" && net.ParseIP(host) == nil {
			h.names[canonicalHost(host)] = true
		}
	}
	for _, given := range allowed {
		given = strings.TrimSpace(given)
		if given == "" {
			continue
		}
		a := canonicalHost(given)
		if !isHostName(strings.TrimPrefix(a, ".")) {
			return nil, fmt.Errorf("allowed host %q: want a host name such as class.example.org or .example.org", given)
		}
		if strings.HasPrefix(a, ".") {
			h.suffixes = append(h.suffixes, a)
			h.names[a[1:]] = true
		} else {
			h.names[a] = true
		}
	}
	return h, nil
}

// Allowed reports whether hostport, a Host header, is allowed.
func (h *Hosts) Allowed(hostport string) bool {
	if hostport == "" {
		return true
	}
	host := hostport
	if hp, _, err := net.SplitHostPort(hostport); err == nil {
		host = hp
	}
	host = canonicalHost(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	switch {
	case host == "":
		return false
	case net.ParseIP(host) != nil:
		return true
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
		return true
	case h == nil:
		return false
	case h.names[host]:
		return true
	}
	for _, s := range h.suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// Guard returns next behind the allow-list: a request whose Host is not
// allowed gets 403 {"error"} and never reaches next.
func (h *Hosts) Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.Allowed(r.Host) {
			refuseHost(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostQuoteRunes bounds the Host a refusal quotes (msg.Shorten): a host
// name is at most 253 characters, and one of 100 reads as itself.
const hostQuoteRunes = 100

// refuseHost answers a request whose Host is not allowed.
func refuseHost(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff") // as every answer of the API
	w.WriteHeader(http.StatusForbidden)
	json.NewEncoder(w).Encode(map[string]string{"error": msg.ErrorLine(fmt.Sprintf("this server does not answer to the host name %q (start it with --allowed-hosts NAME to allow it)",
		msg.Shorten(r.Host, hostQuoteRunes)))})
}

// canonicalHost lowercases a host name and drops a trailing dot.
func canonicalHost(s string) string { return strings.TrimSuffix(strings.ToLower(s), ".") }

// isHostName reports whether s, canonical, is a host name as a browser
// sends it in Host: labels of ASCII letters, digits, '-' and '_'
// separated by single dots ("*" or a Unicode name would match no
// request).
func isHostName(s string) bool {
	if s == "" {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" {
			return false
		}
		for _, c := range label {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
