package media

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/tact-hq/tact/daemon/queue"
)

// canary is a server that must never be reached: it counts the requests it gets.
type canary struct {
	*httptest.Server
	hits atomic.Int64
}

func newCanary(t *testing.T, ip string) *canary {
	t.Helper()
	c := &canary{}
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s (loopback aliases): %v", ip, err)
	}
	c.Server = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		w.Write([]byte("internal secret"))
	})}}
	c.Start()
	t.Cleanup(c.Close)
	return c
}

func port(t *testing.T, s *httptest.Server) string {
	_, p, err := net.SplitHostPort(s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dnsServer answers A queries on loopback UDP: each name with the next address of its
// list (the last one repeating), the way a rebinding attacker's server changes its answer.
type dnsServer struct {
	addr    string
	answers map[string][]string
	asked   map[string]int
}

func newDNS(t *testing.T, answers map[string][]string) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	d := &dnsServer{addr: pc.LocalAddr().String(), answers: answers, asked: map[string]int{}}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if reply := d.answer(buf[:n]); reply != nil {
				pc.WriteTo(reply, from)
			}
		}
	}()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "udp", d.addr)
	}}
}

func (d *dnsServer) answer(req []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(req)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
	b.EnableCompression()
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	name := strings.TrimSuffix(q.Name.String(), ".")
	if list := d.answers[name]; q.Type == dnsmessage.TypeA && len(list) > 0 {
		i := min(d.asked[name], len(list)-1)
		d.asked[name]++
		a := netip.MustParseAddr(list[i]).As4()
		b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 0}, dnsmessage.AResource{A: a})
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}

func TestPublicAddr(t *testing.T) {
	for _, c := range []struct {
		addr   string
		public bool
	}{
		{"93.184.215.14", true}, {"2606:4700::6810:85e5", true}, {"8.8.8.8", true},
		{"127.0.0.1", false}, {"127.9.9.9", false}, {"::1", false}, {"0.0.0.0", false}, {"::", false},
		{"10.1.2.3", false}, {"172.16.0.1", false}, {"172.31.255.255", false}, {"192.168.1.1", false},
		{"169.254.169.254", false}, {"fe80::1", false}, {"fc00::1", false}, {"fd00:ec2::254", false},
		{"100.64.0.1", false}, {"224.0.0.1", false}, {"255.255.255.255", false}, {"198.18.0.1", false},
		{"::ffff:127.0.0.1", false}, {"::ffff:10.0.0.1", false}, {"64:ff9b::7f00:1", false},
		{"2002:7f00:1::", false}, {"2001:0:4136:e378::1", false}, {"0.1.2.3", false},
	} {
		if got := PublicAddr(netip.MustParseAddr(c.addr)); got != c.public {
			t.Errorf("PublicAddr(%s) = %v, want %v", c.addr, got, c.public)
		}
	}
}

// The daemon's fetcher refuses every inside address before it connects: the canary
// server on loopback is never reached, whatever name or form the URL uses.
func TestFetchRefusesInsideAddresses(t *testing.T) {
	inside := newCanary(t, "127.0.0.1")
	p := port(t, inside.Server)
	s := openStore(t, 0)
	f := NewFetcher(s, FetchOptions{Resolver: newDNS(t, map[string][]string{"cdn.attacker.test": {"127.0.0.1"}})})
	for _, raw := range []string{
		inside.URL + "/admin.png",
		"http://localhost:" + p + "/admin.png",
		"http://[::1]:" + p + "/",
		"http://[::ffff:127.0.0.1]:" + p + "/",
		"http://0.0.0.0:" + p + "/",
		"http://cdn.attacker.test:" + p + "/a.png", // a public-looking name that resolves inside
		"http://169.254.169.254/latest/meta-data/", // refused before any packet leaves
		"http://10.0.0.1/x.png",
	} {
		_, _, err := f.Fetch(context.Background(), "url", raw)
		if queue.ErrorKind(err) != queue.Invalid || !strings.Contains(err.Error(), "not a public internet address") {
			t.Errorf("Fetch(%s) = %v; want it refused as not public", raw, err)
		}
		if strings.Contains(err.Error(), "internal secret") {
			t.Errorf("Fetch(%s) error repeats the body: %v", raw, err)
		}
	}
	for _, raw := range []string{"file:///etc/passwd", "gopher://x/", "/etc/passwd", "ftp://example.com/a.png", "http:///nohost"} {
		if _, _, err := f.Fetch(context.Background(), "url", raw); queue.ErrorKind(err) != queue.Invalid {
			t.Errorf("Fetch(%s) = %v; want invalid", raw, err)
		}
	}
	if n := inside.hits.Load(); n != 0 {
		t.Fatalf("the inside server got %d requests; want none", n)
	}
}

// With one loopback address standing in for "the public internet" (tests may reach only
// loopback), a fetch from it works, and a redirect or a changed DNS answer pointing at
// another address is refused at connect time.
func TestFetchRedirectsAndRebinding(t *testing.T) {
	inside := newCanary(t, "127.0.0.2")
	img := PNG(t, 5, 5, 7)
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/img.png":
			w.Header().Set("Content-Type", "text/html") // the declared type is not believed
			w.Write(img)
		case "/to-inside":
			http.Redirect(w, r, inside.URL+"/admin.png", http.StatusFound)
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/missing":
			http.NotFound(w, r)
		case "/svg":
			w.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`))
		}
	}))
	defer public.Close()
	pub := netip.MustParseAddr("127.0.0.1")
	resolver := newDNS(t, map[string][]string{"rebind.test": {"127.0.0.1", "127.0.0.2"}})
	s := openStore(t, 0)
	f := NewFetcher(s, FetchOptions{Allow: func(a netip.Addr) bool { return a == pub }, Resolver: resolver})

	info, created, err := f.Fetch(context.Background(), "url", public.URL+"/img.png")
	if err != nil || !created || info.Type != "image/png" || info.Width != 5 {
		t.Fatalf("Fetch of a public image = %+v, %v, %v", info, created, err)
	}
	for path, says := range map[string]string{
		"/to-inside": "not a public internet address",
		"/to-file":   "redirects to a URL tact does not fetch",
		"/loop":      "redirects more than 5 times",
		"/missing":   "404",
	} {
		if _, _, err := f.Fetch(context.Background(), "url", public.URL+path); queue.ErrorKind(err) != queue.Invalid || !strings.Contains(err.Error(), says) {
			t.Errorf("Fetch(%s) = %v; want invalid saying %q", path, err, says)
		}
	}
	if _, _, err := f.Fetch(context.Background(), "url", public.URL+"/svg"); queue.ErrorKind(err) != queue.Unsupported {
		t.Errorf("Fetch of an SVG = %v; want unsupported", err)
	}

	// The first look-up of rebind.test answers the allowed address, every later one the
	// inside address: each connection is checked, so the second fetch is refused.
	rebind := "http://rebind.test:" + port(t, public) + "/img.png"
	if _, _, err := f.Fetch(context.Background(), "url", rebind); err != nil {
		t.Fatalf("first fetch of rebind.test: %v", err)
	}
	_, _, err = f.Fetch(context.Background(), "url", "http://rebind.test:"+port(t, inside.Server)+"/admin.png")
	if err == nil || !strings.Contains(err.Error(), "127.0.0.2 is not a public internet address") {
		t.Fatalf("fetch after the DNS answer changed = %v; want refused", err)
	}
	if n := inside.hits.Load(); n != 0 {
		t.Fatalf("the inside server got %d requests; want none", n)
	}
}

func TestFetchLimitsSizeAndHidesQuery(t *testing.T) {
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(PNG(t, 1, 1, 0))
		w.Write(make([]byte, 4096))
	}))
	defer big.Close()
	s := openStore(t, 2048)
	f := NewFetcher(s, FetchOptions{Allow: func(netip.Addr) bool { return true }})
	_, _, err := f.Fetch(context.Background(), "url", big.URL+"/a.png?token=s3cret")
	if queue.ErrorKind(err) != queue.TooLarge {
		t.Fatalf("Fetch of a too-large file = %v; want too large", err)
	}
	_, _, err = f.Fetch(context.Background(), "url", "http://user:pw@127.0.0.1:1/a.png?token=s3cret")
	if err == nil || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "pw") {
		t.Fatalf("error shows a secret of the URL: %v", err)
	}
}
