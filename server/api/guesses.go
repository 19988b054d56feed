//go:build !js

package api

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Token guesses. A keep-alive connection tried 2,500 tokens a second: a
// client that gives maxWrongTokens wrong tokens within wrongTokenWindow
// has its requests that need the token (writes, and the reads of
// withToken) refused for tokenBlock, its right token too (else the
// guessing would go on, the right guess told by its answer), with 429 and
// Retry-After; the log says so, once per block. The other reads are left
// as they are: they need no token. A request with no token at all is no
// guess and is not counted.
//
// A loopback peer that is not a trusted proxy is the machine serve runs
// on, whose user reads the token on serve's console: its wrong tokens are
// answered 401 but not counted, and it is never blocked. Else a student
// reaching serve through a proxy on the same machine, not given in
// TrustedProxies, would have the teacher at 127.0.0.1 blocked with them.
// With loopback a trusted proxy, the client it forwards for is counted.
const (
	maxWrongTokens   = 10
	wrongTokenWindow = time.Minute
	tokenBlock       = time.Minute
)

// errTokenGuesses is the answer to a request that needs the token of a
// client that gave maxWrongTokens wrong tokens within wrongTokenWindow,
// while its block lasts.
var errTokenGuesses = &apiError{http.StatusTooManyRequests, "too many wrong tokens from this address: its requests that need the token are refused for a minute (see Retry-After), even with the right one"}

// tokenGuesses counts the wrong tokens of each client (Server.clientOf).
type tokenGuesses struct {
	now func() time.Time // time.Now; tests set another

	mu       sync.Mutex
	byClient map[string]*guesses
}

// guesses are one client's wrong tokens: n since start (within
// wrongTokenWindow of it), and the end of its block when it has one.
type guesses struct {
	start, blockedUntil time.Time
	n                   int
}

// blocked returns how long client's requests that need the token are
// still refused, 0 for not.
func (g *tokenGuesses) blocked(client string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.byClient[client]
	if c == nil {
		return 0
	}
	return max(0, c.blockedUntil.Sub(g.now()))
}

// wrong counts a wrong token of client, and reports whether it is the
// one that starts client's block.
func (g *tokenGuesses) wrong(client string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if g.byClient == nil {
		g.byClient = make(map[string]*guesses)
	}
	c := g.byClient[client]
	if c == nil {
		if len(g.byClient) >= 1024 { // keep the map to the clients of the last minutes
			for k, o := range g.byClient {
				if o.stale(now) {
					delete(g.byClient, k)
				}
			}
		}
		c = &guesses{start: now}
		g.byClient[client] = c
	}
	if now.Sub(c.start) >= wrongTokenWindow {
		c.start, c.n = now, 0
	}
	c.n++
	if c.n < maxWrongTokens || now.Before(c.blockedUntil) {
		return false
	}
	c.blockedUntil = now.Add(tokenBlock)
	c.start, c.n = now, 0
	return true
}

// stale reports whether c's window and block have both passed at now.
func (c *guesses) stale(now time.Time) bool {
	return now.Sub(c.start) >= wrongTokenWindow && !now.Before(c.blockedUntil)
}

// refuseGuesser answers r errTokenGuesses with Retry-After, the seconds
// left of its client's block, and reports true when its client is
// blocked; else it reports false.
func (s *Server) refuseGuesser(w http.ResponseWriter, r *http.Request) bool {
	if s.localPeer(r) {
		return false
	}
	wait := s.guesses.blocked(s.clientOf(r))
	if wait <= 0 {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	s.fail(w, r, errTokenGuesses)
	return true
}

// wrongToken counts the token r carries, which is not the server's, as a
// wrong one of its client, and logs the client whose block it starts; a
// local peer's is not counted (localPeer).
func (s *Server) wrongToken(r *http.Request) {
	if s.localPeer(r) {
		return
	}
	if client := s.clientOf(r); s.guesses.wrong(client) {
		s.log.Printf("api: %d wrong tokens from %s: refusing its requests that need the token for %d s", maxWrongTokens, client, tokenBlock/time.Second)
	}
}

// localPeer reports whether r's peer is a loopback address (127.0.0.0/8,
// ::1) that is not in Config.TrustedProxies: this machine, whose wrong
// tokens start no block.
func (s *Server) localPeer(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap().WithZone("")
	return ip.IsLoopback() && !inRanges(s.cfg.TrustedProxies, ip)
}
