package main

import (
	"io"
	"log"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"metriclab/server/api"
)

// Connection limits. Each connection holds one of the process's file
// handles, and a connection that sends only a request line holds it for
// the header timeout, then another takes its place: one LAN host that
// kept 20,000 such connections open exhausted a server's handles
// (RLIMIT_NOFILE 20000), and the server could then open no file (a
// sample's upload answered 500, a running job's checkpoint failed). So
// serve's listener keeps at most --max-conns-per-client connections of one
// client address open (a further one is closed as soon as it is accepted), and
// at most maxConns in all, below the handle limit (connLimit): Accept
// waits for one to close rather than fail.

// defaultConnsPerClient is how many connections one client address keeps
// open by default (--max-conns-per-client): a browser opens 6 per server
// at most, the event streams of its pages among them, so a machine's
// browsers fit, and so do ten behind one NAT address.
const defaultConnsPerClient = 64

// maxConnsCap bounds maxConns where the handle limit is high: 4096
// connections are far more than a classroom opens.
const maxConnsCap = 4096

// refusedLogEvery is how often a client whose connections are refused
// is logged: once a minute at most.
const refusedLogEvery = time.Minute

// connLimit returns the most connections open at once for a process whose
// file handle limit is nofile (0: unknown): half of it, leaving the other
// half to the server's own files (the database, models, samples,
// checkpoints), and no more than maxConnsCap, at least one.
func connLimit(nofile uint64) int {
	if nofile == 0 {
		return maxConnsCap
	}
	return int(max(1, min(nofile/2, maxConnsCap)))
}

// limitListener is a listener that keeps at most perClient connections of
// one client address (api.PeerClient: loopback is one address like any
// other) and at most cap(slots) in all. The peers in trusted (reverse
// proxies, --trusted-proxies) forward every client's requests, and are
// bounded by the total alone.
type limitListener struct {
	net.Listener
	perClient int
	trusted   []netip.Prefix
	slots     chan struct{} // one per connection open
	done      chan struct{} // closed by Close: an Accept waiting for a slot returns
	closeOnce sync.Once
	log       *log.Logger
	now       func() time.Time // time.Now; tests set another

	mu       sync.Mutex
	byClient map[string]int       // the connections open of each client
	logged   map[string]time.Time // when a client's refusal was last logged
}

// newLimitListener returns ln keeping at most perClient connections of a
// client address and total in all, logging a client whose connections it
// refuses to logger once every refusedLogEvery.
func newLimitListener(ln net.Listener, perClient, total int, trusted []netip.Prefix, logger *log.Logger) *limitListener {
	return &limitListener{Listener: ln, perClient: perClient, trusted: trusted, slots: make(chan struct{}, total),
		done: make(chan struct{}), log: logger, now: time.Now, byClient: map[string]int{}, logged: map[string]time.Time{}}
}

// Accept waits for a slot, then returns the next connection whose client
// has fewer than perClient open; one that has as many is closed at once.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.slots
			return nil, err
		}
		client, ok := l.take(c.RemoteAddr())
		if ok {
			return &limitConn{Conn: c, l: l, client: client}, nil
		}
		c.Close()
		<-l.slots
	}
}

// Close closes the listener; an Accept waiting for a slot returns.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// take counts a connection of the peer at addr and returns its client,
// or reports false when its client has perClient open (and logs it, once
// every refusedLogEvery). A trusted proxy, or a peer that is no IP
// address, is counted by the total alone: its client is "".
func (l *limitListener) take(addr net.Addr) (client string, ok bool) {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return "", true
	}
	ip := ap.Addr().Unmap()
	if slices.ContainsFunc(l.trusted, func(p netip.Prefix) bool { return p.Contains(ip) }) {
		return "", true
	}
	client = api.PeerClient(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byClient[client] < l.perClient {
		l.byClient[client]++
		return client, true
	}
	now := l.now()
	if last, seen := l.logged[client]; !seen || now.Sub(last) >= refusedLogEvery {
		l.logged[client] = now
		for c, t := range l.logged { // keep the map to the clients of the last minute
			if now.Sub(t) >= refusedLogEvery {
				delete(l.logged, c)
			}
		}
		l.log.Printf("%s has %d connections open, the most one address may: its further ones are closed (logged once a minute)", client, l.perClient)
	}
	return "", false
}

// release gives back the place of a connection of client.
func (l *limitListener) release(client string) {
	if client != "" {
		l.mu.Lock()
		if l.byClient[client]--; l.byClient[client] <= 0 {
			delete(l.byClient, client)
		}
		l.mu.Unlock()
	}
	<-l.slots
}

// limitConn is a connection of a limitListener: its Close gives its
// places back, once.
type limitConn struct {
	net.Conn
	l      *limitListener
	client string
	once   sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.client) })
	return err
}

// ReadFrom lets a file's copy to the connection reach its own ReadFrom
// (sendfile), as it would without limitConn.
func (c *limitConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}
