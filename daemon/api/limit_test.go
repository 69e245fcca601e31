package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
)

// Beyond MaxConcurrent, requests wait for a running one to finish instead of all piling on
// the store at once (where the publisher's reads would wait behind them).
func TestRequestsBeyondMaxConcurrentWait(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	viewer := &queue.User{Name: "vi", Role: queue.RoleViewer}
	s := newServer(Options{Store: db, MaxConcurrent: 1,
		SessionUser: func(*http.Request) (*queue.User, bool) { return viewer, true }})
	release := make(chan struct{})
	ran := make(chan string, 2)
	srv := httptest.NewServer(s.serve(route{role: queue.RoleViewer, h: func(w http.ResponseWriter, r *http.Request, _ *queue.User) error {
		ran <- r.URL.Path
		if r.URL.Path == "/slow" {
			<-release
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}}))
	defer srv.Close()
	get := func(path string, done chan<- int) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}
	slowDone, fastDone := make(chan int, 1), make(chan int, 1)
	go get("/slow", slowDone)
	if p := <-ran; p != "/slow" {
		t.Fatalf("ran %s first", p)
	}
	go get("/fast", fastDone)
	deadline := time.Now().Add(10 * time.Second)
	for s.waiting.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the second request never waited for a slot")
		}
		time.Sleep(time.Millisecond) // polling a condition, not waiting for time to pass
	}
	select {
	case p := <-ran:
		t.Fatalf("%s ran while /slow held the only slot", p)
	default:
	}
	close(release)
	for name, ch := range map[string]chan int{"slow": slowDone, "fast": fastDone} {
		select {
		case code := <-ch:
			if code != http.StatusNoContent {
				t.Errorf("%s: status %d", name, code)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not finish once the slot was free", name)
		}
	}
	if p := <-ran; p != "/fast" {
		t.Errorf("then ran %s, want /fast", p)
	}
	if n := s.waiting.Load(); n != 0 {
		t.Errorf("%d requests still counted as waiting", n)
	}
}
