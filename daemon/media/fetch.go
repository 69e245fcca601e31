package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/daemon/queue"
)

// DefaultFetchTimeout bounds one fetch of a media URL, redirects and body included.
const DefaultFetchTimeout = 30 * time.Second

// maxRedirects is how many redirects a fetch follows.
const maxRedirects = 5

// Fetcher downloads an attachment once, when a person submits its URL, from a public
// server only. The address is checked as each connection is made, after DNS, so neither
// a name that resolves to an inside address, nor a redirect to one, nor a name whose
// answer changes between two looks (DNS rebinding) reaches the daemon's own network:
// loopback, private, link-local (cloud metadata at 169.254.169.254 among them), carrier
// NAT, multicast and the other special ranges are refused before a packet is sent.
type Fetcher struct {
	store   *Store
	client  *http.Client
	timeout time.Duration
}

// FetchOptions adjust a Fetcher. The zero value is the daemon's: public addresses only,
// the system resolver, DefaultFetchTimeout.
type FetchOptions struct {
	// Allow decides which addresses may be dialled; nil is PublicAddr. Tests, which may
	// only reach loopback, allow one loopback address to see the rest refused.
	Allow func(netip.Addr) bool
	// Resolver looks names up (nil: the system's).
	Resolver *net.Resolver
	Timeout  time.Duration
}

// NewFetcher returns a Fetcher that stores what it downloads in store. It uses no proxy:
// a proxy would dial for it, past the address check.
func NewFetcher(store *Store, opt FetchOptions) *Fetcher {
	allow := opt.Allow
	if allow == nil {
		allow = PublicAddr
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultFetchTimeout
	}
	dialer := &net.Dialer{
		Timeout:  10 * time.Second,
		Resolver: opt.Resolver,
		Control: func(network, address string, _ syscall.RawConn) error {
			if network != "tcp4" && network != "tcp6" {
				return &refusedError{addr: address, why: "is not a TCP address"}
			}
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &refusedError{addr: address, why: "is not an IP address"}
			}
			if !allow(ap.Addr().Unmap()) {
				return &refusedError{addr: ap.Addr().Unmap().String(), why: "is not a public internet address"}
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  15 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		DisableKeepAlives:      true,
	}
	client := &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return &redirectError{fmt.Errorf("it redirects more than %d times", maxRedirects)}
			}
			if err := checkURL(req.URL); err != nil {
				return &redirectError{fmt.Errorf("it redirects to a URL tact does not fetch: %w", err)}
			}
			return nil
		},
	}
	return &Fetcher{store: store, client: client, timeout: opt.Timeout}
}

// PublicAddr reports whether a is an address on the public internet: not loopback,
// private, link-local, shared (carrier NAT), multicast, documentation, benchmarking,
// reserved, or an IPv6 form that carries an IPv4 address inside (NAT64, 6to4, Teredo).
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() {
		return false
	}
	for _, p := range specialRanges {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

var specialRanges = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
		"64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32", "2002::/16",
		"fec0::/10",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// refusedError is a connection the address check did not allow.
type refusedError struct{ addr, why string }

func (e *refusedError) Error() string { return "the address " + e.addr + " " + e.why }

// redirectError is a redirect the fetch would not follow.
type redirectError struct{ err error }

func (e *redirectError) Error() string { return e.err.Error() }

// Fetch downloads raw into the store: one GET, at most the store's MaxBytes, within the
// timeout. field names the input in errors. What a person must fix (not a URL, a refused
// address, a 404, too large, not an image) is Invalid, TooLarge or Unsupported; a server
// that fails or is slow is Unavailable.
func (f *Fetcher) Fetch(ctx context.Context, field, raw string) (Info, bool, error) {
	store := f.store
	u, err := url.Parse(raw)
	if err != nil {
		return Info{}, false, queue.Errorf(queue.Invalid, field, "%s is not a URL; give an http or https address", field)
	}
	if err := checkURL(u); err != nil {
		return Info{}, false, queue.Errorf(queue.Invalid, field, "%s: %v", field, err)
	}
	shown := redact.URL(raw)
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Info{}, false, queue.Errorf(queue.Invalid, field, "%s is not a URL tact can fetch; give an http or https address", field)
	}
	req.Header.Set("Accept", strings.Join(Types, ", "))
	req.Header.Set("User-Agent", "tact media fetch")
	resp, err := f.client.Do(req)
	if err != nil {
		return Info{}, false, fetchError(field, shown, err, ctx)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		kind := queue.Invalid
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			kind = queue.Unavailable
		}
		return Info{}, false, queue.Errorf(kind, field, "fetching %s: the server answered %s; check the address, or download the file and upload it", shown, resp.Status)
	}
	if resp.ContentLength > store.MaxBytes() {
		return Info{}, false, store.tooLarge()
	}
	info, created, err := store.Put(resp.Body)
	if err != nil && queue.ErrorKind(err) == queue.Invalid && ctx.Err() != nil {
		return Info{}, false, queue.Errorf(queue.Unavailable, field, "fetching %s took longer than %s; try again, or download the file and upload it", shown, f.timeout)
	}
	return info, created, err
}

// checkURL refuses what is not a plain http(s) URL with a host.
func checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("only http and https URLs are fetched, not %q", u.Scheme)
	}
	if u.Hostname() == "" {
		return errors.New("the URL names no host")
	}
	return nil
}

func fetchError(field, shown string, err error, ctx context.Context) error {
	var refused *refusedError
	if errors.As(err, &refused) {
		return queue.Errorf(queue.Invalid, field, "fetching %s: %s; tact fetches media only from public servers: download the file and upload it instead", shown, refused.Error())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the whole URL, query and all
	}
	if ctx.Err() != nil {
		return queue.Errorf(queue.Unavailable, field, "fetching %s did not finish in time; try again, or download the file and upload it", shown)
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return queue.Errorf(queue.Invalid, field, "fetching %s: the host name could not be resolved; check the address", shown)
	}
	var redirect *redirectError
	if errors.As(err, &redirect) {
		return queue.Errorf(queue.Invalid, field, "fetching %s: %v; give the file's final address", shown, redirect.err)
	}
	return queue.Errorf(queue.Unavailable, field, "fetching %s failed (the server could not be reached); try again, or download the file and upload it", shown)
}
