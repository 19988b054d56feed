package api

import (
	"fmt"
	"net/netip"
	"net/textproto"
	"slices"
	"strings"

	"metriclab/core/msg"
)

// Reverse proxies. The Verify page's webcam needs a secure context, so a
// classroom served from one machine is served through a TLS reverse proxy
// (Caddy, nginx), and every request's peer is then the proxy: the whole
// class one client of the per-client limits. The proxies given in
// Config.TrustedProxies are believed about the client they forward for,
// as their X-Forwarded-For says; no other peer is, since any client can
// send the header.
//
// RFC 7239's Forwarded header is not read: Caddy and nginx write
// X-Forwarded-For, and pass a Forwarded header a client sent on as it is,
// so the client would name itself.

// ParseTrustedProxies returns the ranges of the addresses given, each an
// IP address ("127.0.0.1") or a CIDR range ("10.0.0.0/8"), an IPv4-mapped
// one as its IPv4 one; empty items are skipped. An item that is neither
// is an error that names it, as is a range of every address of its
// family (0.0.0.0/0, ::/0): every client would be a proxy, naming itself
// as it liked, and no client would have per-client limits. No proxy needs
// one: its address, or its network's range, names it.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var ranges []netip.Prefix
	for _, given := range list {
		given = strings.TrimSpace(given)
		if given == "" {
			continue
		}
		p, err := netip.ParsePrefix(given)
		if err != nil {
			a, aerr := netip.ParseAddr(given)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("trusted proxy %q: want an IP address or a CIDR range such as 10.0.0.0/8", given)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 { // as clientOf reads a peer's
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Bits() == 0 {
			family := "IPv6"
			if p.Addr().Is4() {
				family = "IPv4"
			}
			return nil, fmt.Errorf("trusted proxy %q holds every %s address: any client could name itself in X-Forwarded-For and escape the per-client limits; give the proxies' addresses or their network's range (127.0.0.1 for one on this machine)", given, family)
		}
		ranges = append(ranges, p.Masked())
	}
	return ranges, nil
}

// forwardedClient returns the client that values, the X-Forwarded-For
// headers of a request from a trusted proxy, name: the right-most address
// that is not in trusted. Each proxy appends the address it was sent
// from, so the addresses right of that one are the trusted proxies', and
// those left of it are what the client sent, which may be anything: they
// are not read (nor copied, however long the header). Where every
// address is trusted (a client on the proxies' own network), it is the
// left-most. An address may carry a port ("192.0.2.7:4711",
// "[2001:db8::1]:4711"). It returns the zero Addr for no header, and an
// error, naming the item, when an item it reads is not an address.
func forwardedClient(values []string, trusted []netip.Prefix) (netip.Addr, error) {
	var client netip.Addr
	for i := len(values) - 1; i >= 0; i-- {
		rest, hop := values[i], ""
		for more := true; more; {
			if k := strings.LastIndexByte(rest, ','); k >= 0 {
				rest, hop = rest[:k], rest[k+1:]
			} else {
				hop, more = rest, false
			}
			hop = textproto.TrimString(hop)
			a, err := netip.ParseAddr(hop)
			if err != nil {
				ap, perr := netip.ParseAddrPort(hop)
				if perr != nil {
					return netip.Addr{}, fmt.Errorf("%q is not an IP address", msg.Shorten(hop, 64))
				}
				a = ap.Addr()
			}
			client = a.Unmap().WithZone("")
			if !inRanges(trusted, client) {
				return client, nil
			}
		}
	}
	return client, nil
}

// inRanges reports whether ip is in one of ranges.
func inRanges(ranges []netip.Prefix, ip netip.Addr) bool {
	return slices.ContainsFunc(ranges, func(p netip.Prefix) bool { return p.Contains(ip) })
}

// PeerClient returns the client of the per-client limits that a peer at
// ip is, as clientOf keys it (serve's connection limits key by it too):
// an IPv4 address (an IPv4-mapped one as its IPv4 one), loopback as it
// is, any other IPv6 address by its /64.
func PeerClient(ip netip.Addr) string {
	ip = ip.Unmap().WithZone("")
	if ip.Is4() || ip.IsLoopback() {
		return ip.String()
	}
	p, _ := ip.Prefix(64) // cannot fail: an IPv6 address has 128 bits
	return p.String()
}
