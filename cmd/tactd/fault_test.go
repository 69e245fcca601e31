package main

// Fault injection against the real binaries: tactd killed with SIGKILL at random points of
// publishing runs, plugins that hang, crash, answer garbage or are slow, a feed that fails
// and recovers, the SQLite file locked by another process, and a full disk. After each
// fault the state is checked against the SQLite file itself and against the network's own
// record of what it received.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// faultRules is a minimal valid rule set: the daemon refuses to start without rules.
const faultRules = `
[[rule]]
id     = "volcano"
action = "pause"
[rule.news]
any = ["volcano eruption"]
[rule.posts]
topics = ["travel"]
`

// writeRules writes faultRules under dir and returns the glob for tact.toml.
func writeRules(t *testing.T, dir string) string {
	t.Helper()
	rd := filepath.Join(dir, "rules.d")
	if err := os.MkdirAll(rd, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rd, "volcano.toml"), []byte(faultRules), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(rd, "*.toml")
}

// call is one HTTP API request with a bounded wait: a daemon killed mid-request must not
// hang the test. It returns the status (0 when no answer came) and the body.
func (d *daemonProc) call(method, path string, body any) (int, []byte) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, "http://"+d.addr+path, rd)
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil
	}
	return resp.StatusCode, b
}

// mustCall is call for requests that must succeed with want.
func (d *daemonProc) mustCall(t *testing.T, want int, method, path string, body any) []byte {
	t.Helper()
	code, b := d.call(method, path, body)
	if code != want {
		t.Fatalf("%s %s: %d %s (want %d)\ndaemon log:\n%s", method, path, code, b, want, tail(d.logs.String(), 4000))
	}
	return b
}

// waitFor is eventually with a diagnosis printed when the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool, diag func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s\n%s", within, what, diag())
		}
		<-tick.C
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// openReadOnly opens the daemon's SQLite file from the test, as another process would.
func openReadOnly(t *testing.T, dataDir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dataDir, "tact.db")+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dbPost is a post and its deliveries as stored in the SQLite file.
type dbPost struct {
	id       int64
	campaign string
	text     string
	state    string
	reason   string
	dels     []dbDelivery
}

type dbDelivery struct {
	key, state, lastError string
	started               time.Time
}

// readPosts reads every post with its campaign and deliveries straight from the file.
func readPosts(t *testing.T, db *sql.DB) map[int64]*dbPost {
	t.Helper()
	out := map[int64]*dbPost{}
	rows, err := db.Query(`SELECT p.id, c.name, p.text, p.state, p.reason FROM posts p JOIN campaigns c ON c.id = p.campaign_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		p := &dbPost{}
		if err := rows.Scan(&p.id, &p.campaign, &p.text, &p.state, &p.reason); err != nil {
			t.Fatal(err)
		}
		out[p.id] = p
	}
	rows.Close()
	rows, err = db.Query(`SELECT post_id, idempotency_key, state, last_error, started_at FROM deliveries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, started int64
		var d dbDelivery
		if err := rows.Scan(&id, &d.key, &d.state, &d.lastError, &started); err != nil {
			t.Fatal(err)
		}
		if started != 0 {
			d.started = time.Unix(0, started)
		}
		if p := out[id]; p != nil {
			p.dels = append(p.dels, d)
		}
	}
	return out
}

// netRecord is a webhook receiver (the webhook plugin's documented contract) that records
// every POST by idempotency key with the time it arrived, answers lookups, and delays each
// POST by a random few milliseconds so that kills land while publishes are in flight.
type netRecord struct {
	mu       sync.Mutex
	rnd      *rand.Rand
	maxDelay time.Duration
	got      map[string][]time.Time // key -> arrival of each POST
	texts    map[string]string      // key -> text of the post
}

func newNetRecord(seed int64, maxDelay time.Duration) *netRecord {
	return &netRecord{rnd: rand.New(rand.NewSource(seed)), maxDelay: maxDelay, got: map[string][]time.Time{}, texts: map[string]string{}}
}

func (n *netRecord) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		b, _ := io.ReadAll(r.Body)
		var body struct {
			Text string `json:"text"`
		}
		_ = json.Unmarshal(b, &body)
		key := r.Header.Get("Idempotency-Key")
		n.mu.Lock()
		n.got[key] = append(n.got[key], time.Now())
		n.texts[key] = body.Text
		var delay time.Duration
		if n.maxDelay > 0 {
			delay = time.Duration(n.rnd.Int63n(int64(n.maxDelay)))
		}
		n.mu.Unlock()
		select {
		case <-time.After(delay): // the network's own latency, not a wait in the test
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"url":"https://hooks.test/%s"}`, "r-"+key, key)
	case http.MethodGet:
		key := r.URL.Query().Get("idempotency_key")
		n.mu.Lock()
		seen := len(n.got[key]) > 0
		n.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !seen {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"found":false}`)
			return
		}
		fmt.Fprintf(w, `{"found":true,"id":%q,"url":"https://hooks.test/%s"}`, "r-"+key, key)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// snapshot copies the record.
func (n *netRecord) snapshot() map[string][]time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make(map[string][]time.Time, len(n.got))
	for k, v := range n.got {
		out[k] = append([]time.Time(nil), v...)
	}
	return out
}

// ledger is what the API acknowledged to the client during the kill runs.
type ledger struct {
	mu       sync.Mutex
	created  map[int64]string     // post id -> text (201)
	approved map[int64]bool       // approve answered 200
	paused   map[string]time.Time // campaign -> when its pause was acknowledged
}

func (l *ledger) pausedAt(campaign string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.paused[campaign]
	return at, ok
}

// client creates and approves posts and pauses campaigns through the API until stop is
// closed or the daemon stops answering. Only what the API answered counts as acknowledged.
func client(d *daemonProc, l *ledger, rnd *rand.Rand, campaigns []string, cycle int, stop <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		// Now and then pause a campaign for good (the first one is never paused, so
		// publishing goes on).
		if c := campaigns[1+rnd.Intn(len(campaigns)-1)]; rnd.Intn(150) == 0 {
			if _, done := l.pausedAt(c); !done {
				code, _ := d.call("POST", "/api/v1/campaigns/"+c+"/pause", map[string]any{"reason": fmt.Sprintf("kill test cycle %d", cycle)})
				if code == 200 {
					l.mu.Lock()
					l.paused[c] = time.Now()
					l.mu.Unlock()
				} else if code == 0 {
					return
				}
			}
		}
		c := campaigns[rnd.Intn(len(campaigns))]
		text := fmt.Sprintf("cycle %d post %d for %s", cycle, i, c)
		at := time.Now().Add(time.Duration(200+rnd.Intn(600)) * time.Millisecond)
		code, b := d.call("POST", "/api/v1/posts", map[string]any{"campaign": c, "text": text, "at": at.UTC().Format(time.RFC3339Nano)})
		if code == 0 {
			return
		}
		if code != 201 {
			continue // e.g. the campaign was paused: still refused cleanly
		}
		var p postView
		if json.Unmarshal(b, &p) != nil || p.ID == 0 {
			continue
		}
		l.mu.Lock()
		l.created[p.ID] = text
		l.mu.Unlock()
		code, _ = d.call("POST", fmt.Sprintf("/api/v1/posts/%d/approve", p.ID), map[string]any{})
		if code == 200 {
			l.mu.Lock()
			l.approved[p.ID] = true
			l.mu.Unlock()
		} else if code == 0 {
			return
		}
	}
}

// checkInvariants checks SPEC 7's guarantees against the SQLite file and the network.
func checkInvariants(t *testing.T, db *sql.DB, net *netRecord, l *ledger, when string) map[int64]*dbPost {
	t.Helper()
	posts := readPosts(t, db)
	got := net.snapshot()
	l.mu.Lock()
	defer l.mu.Unlock()
	// Nothing acknowledged is lost.
	for id, text := range l.created {
		p := posts[id]
		if p == nil {
			t.Fatalf("%s: post %d (%q) was acknowledged with 201 but is not in the database", when, id, text)
		}
		if p.text != text {
			t.Fatalf("%s: post %d text is %q, acknowledged %q", when, id, p.text, text)
		}
		if l.approved[id] && (p.state == "pending" || p.state == "draft") {
			t.Fatalf("%s: post %d approval was acknowledged but the post is %s", when, id, p.state)
		}
	}
	for c := range l.paused {
		var state string
		if err := db.QueryRow(`SELECT state FROM campaigns WHERE name = ?`, c).Scan(&state); err != nil || state != "paused" {
			t.Fatalf("%s: campaign %s pause was acknowledged but it is %q (%v)", when, c, state, err)
		}
	}
	keys := map[string]*dbPost{}
	for _, p := range posts {
		for _, d := range p.dels {
			keys[d.key] = p
		}
	}
	for key, arrivals := range got {
		// No idempotency key published twice.
		if len(arrivals) > 1 {
			t.Fatalf("%s: the network received %d POSTs for idempotency key %s: %v", when, len(arrivals), key, arrivals)
		}
		p := keys[key]
		if p == nil {
			t.Fatalf("%s: the network received key %s that no delivery in the database has", when, key)
		}
		// Nothing of a paused campaign is claimed after the pause was acknowledged: a POST
		// arriving after it must come from a claim made before it.
		if pausedAt, ok := l.paused[p.campaign]; ok && arrivals[0].After(pausedAt) {
			for _, d := range p.dels {
				if d.key == key && d.started.After(pausedAt) {
					t.Fatalf("%s: post %d of campaign %s was claimed at %s and sent at %s, after its pause was acknowledged at %s",
						when, p.id, p.campaign, d.started.Format(time.RFC3339Nano), arrivals[0].Format(time.RFC3339Nano), pausedAt.Format(time.RFC3339Nano))
				}
			}
		}
	}
	for _, p := range posts {
		for _, d := range p.dels {
			if d.state == "published" && len(got[d.key]) != 1 {
				t.Fatalf("%s: post %d delivery %s is published but the network received it %d times", when, p.id, d.key, len(got[d.key]))
			}
		}
	}
	return posts
}

// TestKill9RepeatedlyWhilePublishing kills tactd with SIGKILL at random points of busy
// publishing runs, again and again on one data directory, and checks after each kill and
// each restart that nothing acknowledged was lost, nothing was published twice, nothing of
// a paused campaign was claimed after the pause, and nothing stays in publishing.
func TestKill9RepeatedlyWhilePublishing(t *testing.T) {
	t.Parallel()
	kills := 55
	if testing.Short() {
		kills = 10
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("TACT_KILL_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (rerun with TACT_KILL_SEED=%d)", seed, seed)
	rnd := rand.New(rand.NewSource(seed))

	net := newNetRecord(seed, 40*time.Millisecond)
	srv := httptest.NewServer(net)
	defer srv.Close()
	dir := t.TempDir()
	cfg := `
[daemon]
data_dir  = "DATA/data"
listen    = "127.0.0.1:0"
rules     = ["` + writeRules(t, dir) + `"]
log_level = "info"

[[account]]
name        = "hook"
plugin      = "webhook"
spacing     = "1ms"
concurrency = 2
[account.settings]
url    = "` + srv.URL + `"
secret = "kill-test-secret"
`
	l := &ledger{created: map[int64]string{}, approved: map[int64]bool{}, paused: map[string]time.Time{}}
	campaigns := []string{"steady", "spring", "summer", "autumn"}
	start := time.Now()
	var publishingAtKill []int64
	for cycle := 0; cycle < kills; cycle++ {
		t0 := time.Now()
		d := startDaemon(t, dir, cfg)
		readyIn := time.Since(t0)
		if cycle == 0 {
			for _, c := range campaigns {
				d.mustCall(t, 201, "POST", "/api/v1/campaigns", map[string]any{"name": c, "accounts": []string{"hook"}, "topics": []string{"news"}})
			}
		}
		db := openReadOnly(t, d.dataDir)
		// Recovery: what the last kill left in publishing is resolved, not left there.
		if len(publishingAtKill) > 0 {
			waitFor(t, 30*time.Second, "recovery of the posts left in publishing", func() bool {
				ps := readPosts(t, db)
				for _, id := range publishingAtKill {
					if ps[id].state == "publishing" {
						return false
					}
				}
				return true
			}, func() string {
				ps := readPosts(t, db)
				var b strings.Builder
				for _, id := range publishingAtKill {
					fmt.Fprintf(&b, "post %d: %s %+v\n", id, ps[id].state, ps[id].dels)
				}
				return b.String() + tail(d.logs.String(), 8000)
			})
			checkInvariants(t, db, net, l, fmt.Sprintf("cycle %d after recovery", cycle))
		}

		recoveredIn := time.Since(t0)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		crnd := rand.New(rand.NewSource(rnd.Int63()))
		wg.Go(func() { client(d, l, crnd, campaigns, cycle, stop) })
		delay := time.Duration(100+rnd.Intn(900)) * time.Millisecond
		<-time.After(delay) // the kill point: a random moment of the run, not a wait for a condition
		d.stop(syscall.SIGKILL)
		close(stop)
		wg.Wait()

		ps := checkInvariants(t, db, net, l, fmt.Sprintf("cycle %d after kill at %s", cycle, delay))
		publishingAtKill = publishingAtKill[:0]
		for id, p := range ps {
			if p.state == "publishing" {
				publishingAtKill = append(publishingAtKill, id)
			}
		}
		db.Close()
		t.Logf("cycle %d: ready in %s, recovered in %s, killed %s later; %d posts, %d left publishing",
			cycle, readyIn.Round(time.Millisecond), recoveredIn.Round(time.Millisecond), delay, len(ps), len(publishingAtKill))
	}

	// A last, undisturbed run: every approved post of an active campaign ends published (the
	// network can always tell, so nothing should need a person), none stays publishing.
	killed := time.Since(start)
	d := startDaemon(t, dir, cfg)
	db := openReadOnly(t, d.dataDir)
	var ps map[int64]*dbPost
	eventually(t, 60*time.Second, "every approved post of an active campaign to be resolved", func() bool {
		ps = readPosts(t, db)
		for id := range l.approved {
			p := ps[id]
			if _, paused := l.paused[p.campaign]; paused && p.state == "approved" {
				continue // waits for a resume
			}
			switch p.state {
			case "published", "failed", "unknown", "missed":
			default:
				return false
			}
		}
		return true
	})
	ps = checkInvariants(t, db, net, l, "final run")
	// What the network received, tact knows as published: a delivery left waiting would
	// be sent again on a resume.
	byKey := map[string]*dbPost{}
	for _, p := range ps {
		for _, dl := range p.dels {
			byKey[dl.key] = p
		}
	}
	for key := range net.snapshot() {
		p := byKey[key]
		for _, dl := range p.dels {
			if dl.key == key && dl.state != "published" {
				t.Errorf("the network received %s, but post %d (campaign %s) is %s with delivery %s: %q", key, p.id, p.campaign, p.state, dl.state, dl.lastError)
			}
		}
	}
	counts := map[string]int{}
	for id := range l.approved {
		p := ps[id]
		counts[p.state]++
		switch p.state {
		case "failed", "unknown", "missed":
			if p.reason == "" && (len(p.dels) == 0 || p.dels[0].lastError == "") {
				t.Errorf("post %d ended %s with no reason", id, p.state)
			}
			if p.state == "unknown" {
				t.Errorf("post %d ended unknown although the network answers every lookup: %+v", id, p.dels)
			}
		}
	}
	var states []string
	for s, n := range counts {
		states = append(states, fmt.Sprintf("%d %s", n, s))
	}
	sort.Strings(states)
	arrivals := net.snapshot()
	t.Logf("%d kills in %s, final run %s; %d posts acknowledged, %d approved (%s); %d campaigns paused; the network received %d keys, each once",
		kills, killed.Round(time.Millisecond), (time.Since(start) - killed).Round(time.Millisecond), len(l.created), len(l.approved), strings.Join(states, ", "), len(l.paused), len(arrivals))
	if counts["published"] == 0 {
		t.Fatalf("nothing was published: the run tested nothing\n%s", tail(d.logs.String(), 4000))
	}
}

var (
	faultPluginsOnce sync.Once
	faultPluginsDir  string
	faultPluginsErr  error
)

// faultPlugins builds testdata/faultplugin into a plugin_dir once per test binary, as
// tact-plugin-fault (a working plugin whose accounts choose how Publish misbehaves),
// tact-plugin-junk (junk instead of the handshake) and tact-plugin-nonsense (a handshake
// pointing at a server that answers garbage).
func faultPlugins(t *testing.T) string {
	t.Helper()
	faultPluginsOnce.Do(func() {
		faultPluginsDir = filepath.Join(binDir, "plugins")
		for _, mode := range []string{"network", "junk", "nonsense"} {
			name := mode
			if mode == "network" {
				name = "fault"
			}
			cmd := exec.Command("go", "build", "-ldflags", "-X main.mode="+mode, "-o", filepath.Join(faultPluginsDir, "tact-plugin-"+name), "./testdata/faultplugin")
			if out, err := cmd.CombinedOutput(); err != nil {
				faultPluginsErr = fmt.Errorf("building the fault plugin (%s): %v\n%s", mode, err, out)
				return
			}
		}
	})
	if faultPluginsErr != nil {
		t.Fatal(faultPluginsErr)
	}
	return faultPluginsDir
}

// journal reads the fault plugin's record of what it published: key -> number of times.
func journal(t *testing.T, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return map[string]int{}
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if k, _, ok := strings.Cut(l, "\t"); ok {
			out[k]++
		}
	}
	return out
}

// faultConfig is a tact.toml with the fault plugins in plugin_dir, an outbox account
// "brand" to show that other accounts are not held up, and extra account tables.
func faultConfig(t *testing.T, dir string, accounts string) string {
	return `
[daemon]
data_dir   = "DATA/data"
listen     = "127.0.0.1:0"
plugin_dir = "` + faultPlugins(t) + `"
rules      = ["` + writeRules(t, dir) + `"]
log_level  = "debug"

[[account]]
name    = "brand"
plugin  = "outbox"
spacing = "1ms"
[account.settings]
path = "DATA/outbox.jsonl"
` + accounts
}

// apiPost creates and approves a post through the API and returns it.
func (d *daemonProc) apiPost(t *testing.T, campaign, text string, at time.Time) postView {
	t.Helper()
	var p postView
	b := d.mustCall(t, 201, "POST", "/api/v1/posts", map[string]any{"campaign": campaign, "text": text, "at": at.UTC().Format(time.RFC3339Nano)})
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	d.mustCall(t, 200, "POST", fmt.Sprintf("/api/v1/posts/%d/approve", p.ID), map[string]any{})
	return p
}

type deliveryView struct {
	State          string `json:"state"`
	IdempotencyKey string `json:"idempotency_key"`
	Attempts       int    `json:"attempts"`
	LastError      string `json:"last_error"`
}

func (d *daemonProc) deliveries(t *testing.T, id int64) (string, []deliveryView) {
	t.Helper()
	var p struct {
		State      string         `json:"state"`
		Deliveries []deliveryView `json:"deliveries"`
	}
	if err := json.Unmarshal(d.mustCall(t, 200, "GET", fmt.Sprintf("/api/v1/posts/%d", id), nil), &p); err != nil {
		t.Fatal(err)
	}
	return p.State, p.Deliveries
}

// responsive checks that the API answers a status request promptly.
func (d *daemonProc) responsive(t *testing.T, while string) {
	t.Helper()
	start := time.Now()
	code, b := d.call("GET", "/api/v1/status", nil)
	if code != 200 || time.Since(start) > 5*time.Second {
		t.Fatalf("while %s, GET /api/v1/status answered %d after %s: %s", while, code, time.Since(start), b)
	}
}

// TestPluginHangs: a plugin whose Publish never returns. The call deadline ends it, the
// post goes back to approved with a retry planned (Lookup says nothing arrived), nothing
// was sent, and meanwhile the daemon answers and other accounts publish.
func TestPluginHangs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jr := filepath.Join(dir, "hang", "journal")
	os.MkdirAll(filepath.Dir(jr), 0o755)
	d := startDaemon(t, dir, faultConfig(t, dir, `
[[account]]
name   = "hang"
plugin = "fault"
[account.settings]
behave  = "hang-once"
journal = "`+jr+`"
`))
	d.mustCall(t, 201, "POST", "/api/v1/campaigns", map[string]any{"name": "h", "accounts": []string{"hang"}, "topics": []string{"news"}})
	d.mustCall(t, 201, "POST", "/api/v1/campaigns", map[string]any{"name": "b", "accounts": []string{"brand"}, "topics": []string{"news"}})
	hung := d.apiPost(t, "h", "This publish will hang", time.Now().Add(time.Second))
	var key string
	waitFor(t, 30*time.Second, "the hanging publish to start", func() bool {
		st, ds := d.deliveries(t, hung.ID)
		if st == "publishing" && len(ds) == 1 {
			key = ds[0].IdempotencyKey
			_, err := os.Stat(filepath.Join(filepath.Dir(jr), "misbehaved-"+key))
			return err == nil
		}
		return false
	}, func() string { return tail(d.logs.String(), 4000) })
	hungAt := time.Now()

	// While it hangs: the API answers and another account publishes.
	d.responsive(t, "a plugin call hangs")
	other := d.apiPost(t, "b", "Another account is not held up", time.Now().Add(500*time.Millisecond))
	waitFor(t, 20*time.Second, "the other account's post to publish", func() bool {
		st, _ := d.deliveries(t, other.ID)
		return st == "published"
	}, func() string { return tail(d.logs.String(), 4000) })
	if st, _ := d.deliveries(t, hung.ID); st != "publishing" {
		t.Fatalf("the hanging post is %s before its call deadline, want publishing", st)
	}
	d.responsive(t, "a plugin call hangs")

	// The call deadline (30s) ends the hang: outcome unknown, Lookup says it never
	// arrived, so the post waits for a retry; it is never resent blindly.
	var ds []deliveryView
	waitFor(t, 90*time.Second, "the call deadline to end the hanging publish", func() bool {
		var st string
		st, ds = d.deliveries(t, hung.ID)
		return st != "publishing"
	}, func() string { return tail(d.logs.String(), 4000) })
	st, ds := d.deliveries(t, hung.ID)
	t.Logf("the hang ended after %s: post %s, delivery %+v", time.Since(hungAt).Round(time.Millisecond), st, ds)
	switch {
	case st == "approved" && ds[0].State == "waiting" && strings.Contains(ds[0].LastError, "Lookup found no post"):
	case st == "unknown" && ds[0].LastError != "":
	default:
		t.Fatalf("after the deadline the post is %s, delivery %+v; want approved with a retry planned (or unknown with a reason)", st, ds)
	}
	if n := journal(t, jr)[key]; n != 0 {
		t.Fatalf("the hung publish reached the network %d times", n)
	}
	d.responsive(t, "after a hang")
}

// TestPluginCrashesMidPublish: the plugin process dies after the network has the post and
// before the daemon hears back. The daemon restarts it, asks Lookup, and records the post
// published, sent exactly once.
func TestPluginCrashesMidPublish(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jr := filepath.Join(dir, "crash", "journal")
	os.MkdirAll(filepath.Dir(jr), 0o755)
	d := startDaemon(t, dir, faultConfig(t, dir, `
[[account]]
name    = "crash"
plugin  = "fault"
spacing = "1ms"
[account.settings]
behave  = "crash-once"
journal = "`+jr+`"
`))
	d.mustCall(t, 201, "POST", "/api/v1/campaigns", map[string]any{"name": "c", "accounts": []string{"crash"}, "topics": []string{"news"}})
	var ids []int64
	for i := range 3 {
		ids = append(ids, d.apiPost(t, "c", fmt.Sprintf("Crash test post %d", i), time.Now().Add(time.Second)).ID)
	}
	for _, id := range ids {
		waitFor(t, 60*time.Second, fmt.Sprintf("post %d to be resolved after the plugin crashed", id), func() bool {
			st, _ := d.deliveries(t, id)
			return st == "published" || st == "unknown" || st == "failed"
		}, func() string { return tail(d.logs.String(), 6000) })
		st, ds := d.deliveries(t, id)
		if st != "published" {
			t.Fatalf("post %d is %s after its plugin crashed, although Lookup can tell: %+v", id, st, ds)
		}
		if n := journal(t, jr)[ds[0].IdempotencyKey]; n != 1 {
			t.Fatalf("post %d reached the network %d times, want exactly 1", id, n)
		}
	}
	logs := d.logs.String()
	if !strings.Contains(logs, "found by Lookup") {
		t.Fatalf("no post was resolved through Lookup: the crash did not happen mid-publish?\n%s", tail(logs, 6000))
	}
	d.responsive(t, "after plugin crashes")
}

// TestSlowPluginDoesNotBlockOthers: each publish takes seconds; they all complete, one
// by one, while another account's posts go out meanwhile.
func TestSlowPluginDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jr := filepath.Join(dir, "slow", "journal")
	os.MkdirAll(filepath.Dir(jr), 0o755)
	d := startDaemon(t, dir, faultConfig(t, dir, `
[[account]]
name    = "slow"
plugin  = "fault"
spacing = "1ms"
[account.settings]
behave  = "slow"
delay   = "2s"
journal = "`+jr+`"
`))
	d.mustCall(t, 201, "POST", "/api/v1/campaigns", map[string]any{"name": "s", "accounts": []string{"slow"}, "topics": []string{"news"}})
	d.mustCall(t, 201, "POST", "/api/v1/campaigns", map[string]any{"name": "b", "accounts": []string{"brand"}, "topics": []string{"news"}})
	var slow []int64
	for i := range 3 {
		slow = append(slow, d.apiPost(t, "s", fmt.Sprintf("Slow post %d", i), time.Now().Add(time.Second)).ID)
	}
	fast := d.apiPost(t, "b", "Fast account post", time.Now().Add(1500*time.Millisecond))
	waitFor(t, 30*time.Second, "the fast account's post", func() bool {
		st, _ := d.deliveries(t, fast.ID)
		return st == "published"
	}, func() string { return tail(d.logs.String(), 4000) })
	pending := 0
	for _, id := range slow {
		if st, _ := d.deliveries(t, id); st != "published" {
			pending++
		}
	}
	if pending == 0 {
		t.Fatalf("every slow post was out before the fast account's post: the slow account held it up")
	}
	d.responsive(t, "a slow plugin publishes")
	for _, id := range slow {
		waitFor(t, 60*time.Second, fmt.Sprintf("slow post %d", id), func() bool {
			st, _ := d.deliveries(t, id)
			return st == "published"
		}, func() string { return tail(d.logs.String(), 4000) })
	}
	j := journal(t, jr)
	if len(j) != 3 {
		t.Fatalf("the slow network has %d posts, want 3: %v", len(j), j)
	}
	for k, n := range j {
		if n != 1 {
			t.Fatalf("key %s published %d times", k, n)
		}
	}
}

// TestGarbagePlugins: an external plugin that prints junk instead of the handshake, and
// one whose handshake points at a server answering garbage. The daemon keeps running, the
// error names the plugin binary and says what is wrong, and other accounts still publish.
func TestGarbagePlugins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startDaemon(t, dir, faultConfig(t, dir, `
[[account]]
name   = "junk"
plugin = "junk"

[[account]]
name   = "nonsense"
plugin = "nonsense"
`))
	for _, acct := range []string{"junk", "nonsense"} {
		d.mustCall(t, 201, "POST", "/api/v1/campaigns", map[string]any{"name": "c-" + acct, "accounts": []string{acct}, "topics": []string{"news"}})
		start := time.Now()
		code, b := d.call("POST", "/api/v1/posts", map[string]any{"campaign": "c-" + acct, "text": "Does this plugin work?", "at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		t.Logf("%s: create answered %d after %s: %s", acct, code, time.Since(start).Round(time.Millisecond), b)
		if code == 0 || code == 500 {
			t.Fatalf("%s: creating a post answered %d: %s", acct, code, b)
		}
		d.responsive(t, "a plugin is broken")
	}
	var accounts struct {
		Items []struct {
			Name    string `json:"name"`
			Healthy bool   `json:"healthy"`
			Detail  string `json:"detail"`
		} `json:"items"`
	}
	json.Unmarshal(d.mustCall(t, 200, "GET", "/api/v1/accounts", nil), &accounts)
	want := map[string]string{
		"junk":     "tact-plugin-junk) did not complete the tact plugin handshake",
		"nonsense": "tact-plugin-nonsense): Describe failed",
	}
	for _, a := range accounts.Items {
		w, broken := want[a.Name]
		if !broken {
			continue
		}
		// A plugin that cannot start needs a person: the account is not healthy.
		if a.Healthy || !strings.Contains(a.Detail, w) {
			t.Errorf("GET /api/v1/accounts says %s is healthy=%v with detail %q; want unhealthy, saying %q", a.Name, a.Healthy, a.Detail, w)
		}
	}
	status := d.ctl(t, "status")
	if !strings.Contains(status, "2 need attention") || !strings.Contains(status, "tact-plugin-junk") {
		t.Errorf("tactctl status does not report the broken plugins:\n%s", status)
	}
	logs := d.logs.String()
	for _, name := range []string{"tact-plugin-junk", "tact-plugin-nonsense"} {
		if !strings.Contains(logs, name) {
			t.Errorf("the daemon's log never names %s:\n%s", name, tail(logs, 6000))
		}
	}
	d.mustCall(t, 201, "POST", "/api/v1/campaigns", map[string]any{"name": "b", "accounts": []string{"brand"}, "topics": []string{"news"}})
	ok := d.apiPost(t, "b", "Healthy account still publishes", time.Now().Add(500*time.Millisecond))
	waitFor(t, 30*time.Second, "the healthy account's post", func() bool {
		st, _ := d.deliveries(t, ok.ID)
		return st == "published"
	}, func() string { return tail(d.logs.String(), 4000) })
}

// countPosts reads the number of posts from the API (reads go on while another process
// holds the write lock: WAL).
func (d *daemonProc) countPosts(t *testing.T) int {
	t.Helper()
	var st struct {
		Posts map[string]int `json:"posts"`
	}
	if err := json.Unmarshal(d.mustCall(t, 200, "GET", "/api/v1/status", nil), &st); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range st.Posts {
		n += c
	}
	return n
}

// TestSQLiteLockedByAnotherProcess: another program holds a write transaction on tact.db.
// A write that cannot get the lock within the busy timeout answers 503 saying the database
// is locked and changes nothing; a lock released within the timeout only delays the write;
// once the lock is gone everything works, and a post due meanwhile is published once.
func TestSQLiteLockedByAnotherProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startDaemon(t, dir, faultConfig(t, dir, ""))
	d.mustCall(t, 201, "POST", "/api/v1/campaigns", map[string]any{"name": "b", "accounts": []string{"brand"}, "topics": []string{"news"}})
	due := d.apiPost(t, "b", "Due while the database is locked", time.Now().Add(1500*time.Millisecond))
	before := d.countPosts(t)

	other, err := sql.Open("sqlite3", "file:"+filepath.Join(d.dataDir, "tact.db")+"?_txlock=immediate&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock := func() *sql.Tx {
		tx, err := other.Begin() // BEGIN IMMEDIATE: takes the write lock
		if err != nil {
			t.Fatal(err)
		}
		// Touch a table, as a real program would: it holds the lock meanwhile.
		if _, err := tx.Exec(`UPDATE campaigns SET updated_at = updated_at WHERE 0`); err != nil {
			t.Fatal(err)
		}
		return tx
	}

	// Held past the daemon's busy timeout: 503, a clear message, nothing written.
	tx := lock()
	start := time.Now()
	code, body := d.call("POST", "/api/v1/posts", map[string]any{"campaign": "b", "text": "Written while locked", "at": "+1h"})
	took := time.Since(start)
	t.Logf("write under a held lock: %d after %s: %s", code, took.Round(time.Millisecond), body)
	if code != 503 || !strings.Contains(string(body), "locked by another process") || !strings.Contains(string(body), "nothing was changed") {
		t.Fatalf("a write under another process's lock answered %d: %s; want 503 saying the database is locked", code, body)
	}
	d.responsive(t, "the database is locked")
	if n := d.countPosts(t); n != before {
		t.Fatalf("a refused write left %d posts, had %d", n, before)
	}
	if st, _ := d.deliveries(t, due.ID); st == "published" {
		t.Fatalf("a post was recorded published while another process held the write lock")
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	// Released within the busy timeout: the write waits and succeeds.
	tx = lock()
	released := make(chan struct{})
	go func() {
		<-time.After(time.Second) // the other program's transaction takes a second
		tx.Rollback()
		close(released)
	}()
	code, body = d.call("POST", "/api/v1/posts", map[string]any{"campaign": "b", "text": "Written after a short lock", "at": "+1h"})
	<-released
	if code != 201 {
		t.Fatalf("a write behind a 1s lock answered %d: %s; want 201 (it waits for the busy timeout)", code, body)
	}

	// Recovered: the same write that was refused now works, and the due post goes out once.
	d.mustCall(t, 201, "POST", "/api/v1/posts", map[string]any{"campaign": "b", "text": "Written while locked", "at": "+1h"})
	if n := d.countPosts(t); n != before+2 {
		t.Fatalf("after the lock: %d posts, want %d", n, before+2)
	}
	waitFor(t, 60*time.Second, "the post due during the lock to publish", func() bool {
		st, _ := d.deliveries(t, due.ID)
		return st == "published"
	}, func() string { return tail(d.logs.String(), 4000) })
	if n := countText(outboxLines(t, filepath.Join(dir, "outbox.jsonl")), "Due while the database is locked"); n != 1 {
		t.Fatalf("the post due during the lock was sent %d times", n)
	}
}

// TestDiskFull runs tactd with its data_dir on a small tmpfs, fills the disk, and checks
// that writes answer 503 saying the disk is full, that nothing acknowledged is lost (also
// across a kill -9), and that the daemon recovers once space is freed.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mnt := filepath.Join(dir, "small")
	if err := os.MkdirAll(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root and mount permission): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	// Everything of this daemon lives on the small disk: config, rules, data.
	cfg := faultConfig(t, mnt, "")
	d := startDaemon(t, mnt, cfg)
	d.mustCall(t, 201, "POST", "/api/v1/campaigns", map[string]any{"name": "b", "accounts": []string{"brand"}, "topics": []string{"news"}})
	var acked []int64
	for i := range 5 {
		acked = append(acked, d.apiPost(t, "b", fmt.Sprintf("Acknowledged before the disk filled %d", i), time.Now().Add(time.Hour)).ID)
	}

	// Fill the disk to the last byte.
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	for {
		if _, err := f.Write(chunk[:512]); err != nil {
			break
		}
	}
	f.Close()
	before := d.countPosts(t)
	var full []byte
	refused := 0
	// Writes until one is refused: SQLite may still have room in pages it already has.
	for i := 0; i < 200 && refused == 0; i++ {
		text := fmt.Sprintf("Written on a full disk %d %s", i, strings.Repeat("x", 2000))
		code, body := d.call("POST", "/api/v1/posts", map[string]any{"campaign": "b", "text": text, "at": "+2h"})
		switch code {
		case 201:
			before++
		case 503:
			refused++
			full = body
		default:
			t.Fatalf("a write on a full disk answered %d: %s", code, body)
		}
	}
	t.Logf("full disk: %s", full)
	if refused == 0 {
		t.Fatalf("200 writes on a full disk all succeeded")
	}
	if !strings.Contains(string(full), "disk") || !strings.Contains(string(full), "full") {
		t.Fatalf("a write on a full disk answered 503 without saying the disk is full: %s", full)
	}
	d.responsive(t, "the disk is full")
	if n := d.countPosts(t); n != before {
		t.Fatalf("a refused write changed the post count: %d, want %d", n, before)
	}

	// Space freed: writes work again, and everything acknowledged survives a kill -9.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "writes to work again once space is freed", func() bool {
		code, _ := d.call("POST", "/api/v1/posts", map[string]any{"campaign": "b", "text": "Written after space was freed", "at": "+2h"})
		return code == 201
	}, func() string { return tail(d.logs.String(), 4000) })
	acked = append(acked, d.apiPost(t, "b", "Acknowledged after the disk was freed", time.Now().Add(time.Hour)).ID)
	d.stop(syscall.SIGKILL)
	d2 := startDaemon(t, mnt, cfg)
	for _, id := range acked {
		if st, _ := d2.deliveries(t, id); st != "approved" {
			t.Fatalf("acknowledged post %d is %q after the disk filled and tactd was killed", id, st)
		}
	}
	db := openReadOnly(t, d2.dataDir)
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check after a full disk: %q %v", check, err)
	}
}

// metric returns the value of one Prometheus sample line from /metrics ("" if absent).
func (d *daemonProc) metric(t *testing.T, series string) string {
	t.Helper()
	b := d.mustCall(t, 200, "GET", "/metrics", nil)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestFeedFailsThenRecovers: a feed answering 500 is reported (API status, tactctl status,
// tact_feed_consecutive_failures) while the daemon goes on publishing; once the feed
// recovers the report clears and its news acts (a matching headline pauses a campaign).
func TestFeedFailsThenRecovers(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	failing := true
	rss := `<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Volcano eruption closes airports across the region</title><link>https://wire.test/1</link><guid>wire-1</guid></item>
</channel></rss>`
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		f := failing
		mu.Unlock()
		if f {
			http.Error(w, "upstream exploded", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, rss)
	}))
	defer feed.Close()
	dir := t.TempDir()
	d := startDaemon(t, dir, faultConfig(t, dir, `
[[feed]]
name     = "wire"
url      = "`+feed.URL+`/rss.xml"
every    = "1s"
timeout  = "2s"
language = "en"
`))
	d.mustCall(t, 201, "POST", "/api/v1/campaigns", map[string]any{"name": "b", "accounts": []string{"brand"}, "topics": []string{"news"}})
	d.mustCall(t, 201, "POST", "/api/v1/campaigns", map[string]any{"name": "trips", "accounts": []string{"brand"}, "topics": []string{"travel"}})

	waitFor(t, 30*time.Second, "the feed failures to be counted", func() bool {
		v := d.metric(t, `tact_feed_consecutive_failures{feed="wire"}`)
		return v != "" && v != "0"
	}, func() string { return string(d.mustCall(t, 200, "GET", "/metrics", nil)) })
	type feedInfo struct {
		Name      string `json:"name"`
		LastError string `json:"last_error"`
		Failures  int    `json:"failures"`
	}
	var st struct {
		Feeds []feedInfo `json:"feeds"`
	}
	json.Unmarshal(d.mustCall(t, 200, "GET", "/api/v1/status", nil), &st)
	if len(st.Feeds) != 1 || st.Feeds[0].Name != "wire" || st.Feeds[0].Failures < 1 || !strings.Contains(st.Feeds[0].LastError, "500") {
		t.Fatalf("GET /api/v1/status does not report the failing feed: %+v", st.Feeds)
	}
	if out := d.ctl(t, "status"); !strings.Contains(out, "wire") || !strings.Contains(out, "500") {
		t.Fatalf("tactctl status does not report the failing feed:\n%s", out)
	}
	// A broken feed is never fatal: publishing goes on.
	p := d.apiPost(t, "b", "Published while the feed is down", time.Now().Add(500*time.Millisecond))
	waitFor(t, 30*time.Second, "a publish while the feed fails", func() bool {
		s, _ := d.deliveries(t, p.ID)
		return s == "published"
	}, func() string { return tail(d.logs.String(), 4000) })

	mu.Lock()
	failing = false
	mu.Unlock()
	// Backoff after failures may delay the next poll; the poll after it succeeds.
	waitFor(t, 90*time.Second, "the feed to recover", func() bool {
		return d.metric(t, `tact_feed_consecutive_failures{feed="wire"}`) == "0"
	}, func() string { return tail(d.logs.String(), 4000) })
	st.Feeds = nil // a fresh slice: Unmarshal would keep fields the answer omits
	json.Unmarshal(d.mustCall(t, 200, "GET", "/api/v1/status", nil), &st)
	if len(st.Feeds) != 1 || st.Feeds[0].Failures != 0 || st.Feeds[0].LastError != "" {
		t.Fatalf("the recovered feed is still reported failing: %+v", st.Feeds)
	}
	waitFor(t, 30*time.Second, "the recovered feed's headline to pause the travel campaign", func() bool {
		var c struct {
			State string `json:"state"`
		}
		json.Unmarshal(d.mustCall(t, 200, "GET", "/api/v1/campaigns/trips", nil), &c)
		return c.State == "paused"
	}, func() string { return tail(d.logs.String(), 4000) })
}
