package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// acceptAll accepts the connections of l until it is closed, sending
// each on the channel it returns.
func acceptAll(l net.Listener) <-chan net.Conn {
	ch := make(chan net.Conn, 64)
	go func() {
		defer close(ch)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			ch <- c
		}
	}()
	return ch
}

// closedByServer reports whether the server closed c: a read that ends
// (EOF, a reset) within wait, rather than one still waiting.
func closedByServer(c net.Conn, wait time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(wait))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func dialTest(t *testing.T, addr string, local net.Addr) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: local, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestLimitListenerPerClient opens perClient+1 connections from one
// address: the last is closed at once, the others stay open, and the
// refusal is logged once a minute. Another address still connects, and
// once one of the first closes, the address connects again.
func TestLimitListenerPerClient(t *testing.T) {
	const perClient = 2
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logBuf := new(output) // written by the Accept goroutine
	l := newLimitListener(raw, perClient, 100, nil, log.New(logBuf, "", 0))
	var elapsed atomic.Int64 // the fake clock's time since t0
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return t0.Add(time.Duration(elapsed.Load())) }
	defer l.Close()
	accepted := acceptAll(l)
	addr := raw.Addr().String()

	var client []net.Conn
	for range perClient {
		client = append(client, dialTest(t, addr, nil))
	}
	var server []net.Conn
	for range perClient {
		select {
		case c := <-accepted:
			server = append(server, c)
		case <-time.After(2 * time.Second):
			t.Fatalf("accepted %d connections of one address, want %d", len(server), perClient)
		}
	}
	extra := dialTest(t, addr, nil)
	if !closedByServer(extra, 2*time.Second) {
		t.Errorf("connection %d of one address stayed open, want it closed (at most %d per address)", perClient+1, perClient)
	}
	for i, c := range client {
		if closedByServer(c, 50*time.Millisecond) {
			t.Errorf("connection %d of %d was closed, want it open", i+1, perClient)
		}
	}
	select {
	case c := <-accepted:
		t.Errorf("Accept returned connection %d of one address (%v), want it closed unseen", perClient+1, c.RemoteAddr())
	default:
	}
	if got := strings.Count(logBuf.String(), "\n"); got != 1 || !strings.Contains(logBuf.String(), "127.0.0.1 has 2 connections open") {
		t.Errorf("log after one refusal:\n%s\nwant one line naming 127.0.0.1", logBuf.String())
	}
	// Another refusal within the minute is not logged; one after it is.
	if c := dialTest(t, addr, nil); !closedByServer(c, 2*time.Second) {
		t.Error("a second connection over the limit stayed open")
	}
	if got := strings.Count(logBuf.String(), "\n"); got != 1 {
		t.Errorf("log after two refusals within a minute: %d lines, want 1:\n%s", got, logBuf.String())
	}
	elapsed.Add(int64(refusedLogEvery))
	if c := dialTest(t, addr, nil); !closedByServer(c, 2*time.Second) {
		t.Error("a third connection over the limit stayed open")
	}
	if got := strings.Count(logBuf.String(), "\n"); got != 2 {
		t.Errorf("log after a refusal a minute later: %d lines, want 2:\n%s", got, logBuf.String())
	}

	// 127.0.0.2 is another address (Linux answers all of 127/8).
	if other, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).Dial("tcp", addr); err == nil {
		defer other.Close()
		select {
		case c := <-accepted:
			defer c.Close()
		case <-time.After(2 * time.Second):
			t.Error("a connection of another address was not accepted while 127.0.0.1 had its most open")
		}
	}

	// A connection closed on the server's side gives its place back.
	server[0].Close()
	again := dialTest(t, addr, nil)
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(2 * time.Second):
		t.Error("no connection accepted after one of the address's closed")
	}
	if closedByServer(again, 50*time.Millisecond) {
		t.Error("the connection after one closed was closed too")
	}
}

// TestLimitListenerTotal fills the total: the next Accept waits, without
// closing the connection, until one closes, then returns it.
func TestLimitListenerTotal(t *testing.T) {
	const total = 2
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLimitListener(raw, 100, total, nil, log.New(io.Discard, "", 0))
	defer l.Close()
	accepted := acceptAll(l)
	addr := raw.Addr().String()
	var server []net.Conn
	for range total {
		dialTest(t, addr, nil)
		select {
		case c := <-accepted:
			server = append(server, c)
		case <-time.After(2 * time.Second):
			t.Fatalf("accepted %d connections, want %d", len(server), total)
		}
	}
	waiting := dialTest(t, addr, nil) // the system's backlog takes it
	select {
	case c := <-accepted:
		t.Fatalf("Accept returned connection %d (%v) with %d open, want it to wait", total+1, c.RemoteAddr(), total)
	case <-time.After(200 * time.Millisecond):
	}
	if closedByServer(waiting, 50*time.Millisecond) {
		t.Error("the connection over the total was closed, want it to wait")
	}
	server[0].Close()
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(2 * time.Second):
		t.Error("Accept still waits after a connection closed")
	}
	// Close ends an Accept that waits for a slot.
	server[1].Close()
	l.Close()
	select {
	case _, open := <-accepted:
		if open {
			t.Error("Accept returned a connection after Close")
		}
	case <-time.After(2 * time.Second):
		t.Error("Accept did not return after Close")
	}
}

// TestLimitListenerTrusted: a trusted proxy's connections are bounded by
// the total alone, as it forwards every client's.
func TestLimitListenerTrusted(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLimitListener(raw, 1, 100, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, log.New(io.Discard, "", 0))
	defer l.Close()
	accepted := acceptAll(l)
	for i := range 3 {
		c := dialTest(t, raw.Addr().String(), nil)
		select {
		case s := <-accepted:
			defer s.Close()
		case <-time.After(2 * time.Second):
			t.Fatalf("connection %d of a trusted proxy was not accepted (per client 1)", i+1)
		}
		if closedByServer(c, 20*time.Millisecond) {
			t.Fatalf("connection %d of a trusted proxy was closed", i+1)
		}
	}
}

func TestConnLimit(t *testing.T) {
	for _, tc := range []struct {
		nofile uint64
		want   int
	}{
		{0, maxConnsCap},          // unknown
		{1024, 512},               // half, the rest the server's files
		{20000, maxConnsCap},      // the review's machine: 10,000 capped
		{^uint64(0), maxConnsCap}, // RLIM_INFINITY
		{1, 1},                    // at least one
	} {
		if got := connLimit(tc.nofile); got != tc.want {
			t.Errorf("connLimit(%d) = %d, want %d", tc.nofile, got, tc.want)
		}
	}
	if n := fileLimit(); n != 0 && connLimit(n) >= int(min(n, 1<<30)) {
		t.Errorf("connLimit(%d) = %d: leaves no handle to the server's files", n, connLimit(n))
	}
}

// TestServeConnsPerClient: serve's listener is bounded: with
// --max-conns-per-client connections of 127.0.0.1 open, each having sent
// a request line alone (before, 20,000 such connections of one host took
// every file handle of the server), the next is closed at once, and the
// log says so; once they close, the address is served again.
func TestServeConnsPerClient(t *testing.T) {
	const perClient = 3
	dir := t.TempDir()
	stderr := new(output)
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	ran := make(chan int, 1)
	go func() {
		ran <- run(ctx, []string{"serve", "--web", emptyWebDir(t, dir), "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"),
			"--threads", "1", "--max-conns-per-client", strconv.Itoa(perClient)}, w, stderr)
		w.Close()
	}()
	defer func() { cancel(); io.Copy(io.Discard, out); <-ran }()
	lines := bufio.NewScanner(out)
	var base string
	for base == "" && lines.Scan() {
		if m := regexp.MustCompile(`serving the playground on (http://\S+)`).FindStringSubmatch(lines.Text()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("serve did not say where it serves:\n%s", stderr)
	}
	go io.Copy(io.Discard, out)
	addr := strings.TrimPrefix(base, "http://")
	var open []net.Conn
	for range perClient {
		c := dialTest(t, addr, nil)
		if _, err := io.WriteString(c, "GET /api/health HTTP/1.1\r\n"); err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	extra := dialTest(t, addr, nil)
	io.WriteString(extra, "GET /api/health HTTP/1.1\r\n")
	if !closedByServer(extra, 3*time.Second) {
		t.Errorf("connection %d of 127.0.0.1 stayed open, want it closed (--max-conns-per-client %d)", perClient+1, perClient)
	}
	for i, c := range open {
		if closedByServer(c, 50*time.Millisecond) {
			t.Errorf("connection %d was closed, want it open (the header timeout is 10 s)", i+1)
		}
	}
	if want := "127.0.0.1 has 3 connections open"; !strings.Contains(stderr.String(), want) {
		t.Errorf("serve's log:\n%s\nwant a line %q", stderr, want)
	}
	for _, c := range open {
		c.Close()
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		resp, err := http.Get(base + "/api/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("127.0.0.1 not served after its connections closed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
