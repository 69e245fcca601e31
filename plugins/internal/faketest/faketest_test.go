package faketest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestQueueTakesTheFirstMatchOnce(t *testing.T) {
	var q Queue[string]
	q.Push("GET /a")
	q.Push("POST /b")
	q.Push("GET /c")
	isGet := func(f string) bool { return strings.HasPrefix(f, "GET") }
	for _, want := range []string{"GET /a", "GET /c"} {
		if f, ok := q.Take(isGet); !ok || f != want {
			t.Fatalf("Take = %q, %v; want %q", f, ok, want)
		}
	}
	if f, ok := q.Take(isGet); ok {
		t.Fatalf("Take after both GETs = %q, want none", f)
	}
	if f, ok := q.Take(func(string) bool { return true }); !ok || f != "POST /b" {
		t.Fatalf("the POST was lost: %q, %v", f, ok)
	}
}

func TestCountdown(t *testing.T) {
	var c Countdown
	if c.Take() {
		t.Fatal("a zero Countdown counted a request")
	}
	c.Set(2)
	got := []bool{c.Take(), c.Take(), c.Take()}
	if !got[0] || !got[1] || got[2] {
		t.Fatalf("after Set(2), Take = %v; want true, true, false", got)
	}
}

func TestAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			WriteJSON(w, http.StatusCreated, map[string]string{"id": "1"})
		case "/canned":
			WriteCanned(w, http.StatusTooManyRequests, http.Header{"Retry-After": {"7"}}, `{"error":"slow down"}`)
		case "/canned-html":
			WriteCanned(w, http.StatusBadGateway, http.Header{"Content-Type": {"text/html"}}, "<h1>Bad Gateway</h1>")
		case "/hang-up":
			HangUp(w)
		}
	}))
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	if resp, body := get("/json"); resp.StatusCode != 201 || body != "{\"id\":\"1\"}\n" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("WriteJSON answered %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp, body := get("/canned"); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" || body != `{"error":"slow down"}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("WriteCanned answered %d %v %q", resp.StatusCode, resp.Header, body)
	}
	if resp, _ := get("/canned-html"); resp.Header.Get("Content-Type") != "text/html" {
		t.Errorf("WriteCanned replaced the fault's own Content-Type: %q", resp.Header.Get("Content-Type"))
	}
	if resp, err := srv.Client().Get(srv.URL + "/hang-up"); err == nil {
		resp.Body.Close()
		t.Fatalf("HangUp answered %d; the client should see the connection close", resp.StatusCode)
	}
}
