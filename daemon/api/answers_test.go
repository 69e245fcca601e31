package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/watch"
)

func withAnswerCounts(c *api.AnswerCounts) func(*api.Options, *clock.Fake) {
	return func(o *api.Options, _ *clock.Fake) { o.AnswerCounts = c }
}

// The queue listing is given again while nothing changed, and never once something did:
// a change through the API, a write by another process on the database file, and a reload
// that changes a rule's description (which writes nothing) each show on the next request.
func TestListAnswerKeptOnlyWhileNothingChanged(t *testing.T) {
	dir := t.TempDir()
	rule := func(desc string) {
		t.Helper()
		src := fmt.Sprintf("[[rule]]\nid = \"air-disaster\"\ndescription = %q\naction = \"pause\"\nnews.any = [\"plane crash\"]\nposts.topics = [\"travel\"]\n", desc)
		if err := os.WriteFile(filepath.Join(dir, "air.toml"), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rule("Air disasters")
	var rs *watch.Rules
	counts := &api.AnswerCounts{}
	e := newEnv(t, withAnswerCounts(counts), func(o *api.Options, clk *clock.Fake) {
		quiet := slog.New(slog.DiscardHandler)
		var err error
		// No store for the rules: their reloads write no audit entry, so only the rules'
		// own version can tell that the warnings changed.
		rs, err = watch.NewRules(context.Background(), []string{filepath.Join(dir, "*.toml")}, watch.RulesOptions{Now: o.Now, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		w, err := watch.New(watch.Options{Store: o.Store, Rules: rs, Logger: quiet, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		o.Rules, o.Watch, o.Warnings = rs, w, w
	})
	e.campaign("spring", map[string]any{"topics": []string{"travel"}})
	first := e.post("spring", "Fly to Lisbon from €49", "+2h")
	second := e.post("spring", "Porto weekends", "+3h")

	const page = "/api/v1/posts?state=pending"
	get := func(path string) []byte {
		t.Helper()
		return e.must(200, e.do(queue.RoleViewer, "GET", path, nil)).raw
	}
	expect := func(what string, kept, built uint64) {
		t.Helper()
		if k, b := counts.Kept.Load(), counts.Built.Load(); k != kept || b != built {
			t.Fatalf("%s: %d kept and %d built answers, want %d and %d", what, k, b, kept, built)
		}
	}

	a := get(page)
	b := get(page)
	expect("the same request twice", 1, 1)
	if !bytes.Equal(a, b) {
		t.Fatalf("the kept answer differs from the built one:\n%s\n%s", a, b)
	}
	// Another listing is another answer.
	if one := get(page + "&limit=1"); bytes.Equal(one, a) || !strings.Contains(string(one), `"next"`) {
		t.Fatalf("limit=1 answered like the full page: %s", one)
	}
	expect("another request", 1, 2)

	// A change through the API.
	e.must(200, e.do(queue.RoleMarketer, "POST", fmt.Sprintf("/api/v1/posts/%d/approve", first), map[string]any{}))
	if c := get(page); bytes.Contains(c, []byte("Fly to Lisbon")) || !bytes.Contains(c, []byte("Porto weekends")) {
		t.Fatalf("the approved post is still listed as pending: %s", c)
	}
	expect("after an approval", 1, 3)

	// Another process writes to the database file (an admin's sqlite3 shell).
	raw, err := sql.Open("sqlite3", "file:"+e.store.Path()+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE posts SET text = 'Porto weekends, now with wine' WHERE id = ?`, second); err != nil {
		t.Fatal(err)
	}
	if c := get(page); !bytes.Contains(c, []byte("now with wine")) {
		t.Fatalf("a write by another process is not shown: %s", c)
	}
	expect("after another process wrote", 1, 4)

	// A flag's warning names its rule's description, which a reload changes without writing.
	r := e.must(201, e.do(queue.RoleAdmin, "POST", "/api/v1/incidents", map[string]any{"rule": "air-disaster", "note": "jet down"}))
	inc := int64(r.body["id"].(float64))
	if _, err := e.store.ApplyIncident(context.Background(), inc, queue.IncidentAction{FlagPosts: []int64{second}}); err != nil {
		t.Fatal(err)
	}
	e.must(200, e.do(queue.RoleAdmin, "POST", fmt.Sprintf("/api/v1/incidents/%d/resolve", inc), map[string]any{"note": "all clear"}))
	if c := get(page); !bytes.Contains(c, []byte("Flagged by rule air-disaster: Air disasters")) {
		t.Fatalf("the flag's warning is missing: %s", c)
	}
	get(page)
	expect("flagged, twice", 2, 5)
	rule("Plane crashes and air disasters")
	if err := rs.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := get(page); !bytes.Contains(c, []byte("Flagged by rule air-disaster: Plane crashes and air disasters")) {
		t.Fatalf("the reloaded rule's description is not shown: %s", c)
	}
	expect("after a reload", 2, 6)
}

// A burst of the same request on an unchanged queue is built once; the others wait for it.
func TestListAnswerBuiltOnceForABurst(t *testing.T) {
	counts := &api.AnswerCounts{}
	e := newEnv(t, withWatcher(t), withAnswerCounts(counts))
	e.campaign("spring", nil)
	for i := range 30 {
		e.post("spring", fmt.Sprintf("Post number %d", i), fmt.Sprintf("+%dh", i+1))
	}
	const n = 40
	bodies := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			bodies[i] = e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts?state=pending", nil)).raw
		})
	}
	wg.Wait()
	for i := range bodies {
		if !bytes.Equal(bodies[i], bodies[0]) {
			t.Fatalf("answer %d differs from answer 0", i)
		}
	}
	if k, b := counts.Kept.Load(), counts.Built.Load(); b != 1 || k != n-1 {
		t.Fatalf("%d requests: %d built, %d kept; want 1 built", n, b, k)
	}
}

// A failed listing is not kept: a bad cursor is refused every time, and the next good
// request is built.
func TestListAnswerErrorsAreNotKept(t *testing.T) {
	counts := &api.AnswerCounts{}
	e := newEnv(t, withAnswerCounts(counts))
	e.campaign("spring", nil)
	e.post("spring", "Fly to Lisbon", "+2h")
	for range 2 {
		r := e.must(400, e.do(queue.RoleViewer, "GET", "/api/v1/posts?cursor=bm9wZQ", nil))
		if r.str("field") != "cursor" {
			t.Fatalf("bad cursor: %s", r.raw)
		}
	}
	e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts", nil))
	if k, b := counts.Kept.Load(), counts.Built.Load(); k != 0 || b != 3 {
		t.Fatalf("%d kept, %d built; want 0 and 3", k, b)
	}
}
